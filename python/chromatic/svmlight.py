"""Read svmlight / libsvm files with the engine's parser, a chunk at a time.

Lines are ``label [qid:N] index[:value] ... [# comment]``; files may be plain or compressed
(``.gz``, ``.bz2``, ``.xz``). Memory is bounded by one chunk, so a file larger than memory can be
streamed (``iter_chunks``); ``load_svmlight`` gathers the chunks of files that do fit. A malformed
line raises ``SvmlightError`` (a ``chromatic.ChromaticError``, hence a ``ValueError``) with the
file in ``.path`` and the line in ``.line``.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import numbers
import os
import stat
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import _core
from ._core import SvmlightError as SvmlightError  # re-exported: malformed lines raise it
from ._input import effective_n_jobs
from ._validation import check_index_base, resolve_zero_based

DEFAULT_CHUNK_BYTES = 64 << 20

#: The most bytes asked of a file in one read: a read allocates what it asks for, however
#: little the file holds, so a larger chunk is gathered from reads of this size.
MAX_READ_BYTES = 64 << 20

_STREAMS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device"}
_NOT_FILES = {stat.S_IFDIR: "a directory", stat.S_IFSOCK: "a socket"}


def check_input_path(path: str | os.PathLike, *, passes: str | None = None) -> None:
    """Refuse, before any reading, a path that cannot be read as svmlight rows.

    A missing path is a ``FileNotFoundError``; a directory or a socket, which cannot be read
    as a file, an ``IsADirectoryError`` or ``OSError``. A FIFO or a character device is a
    stream: it can be read once only. With ``passes`` (what reads the path more than once, as
    in "the fit reads its files more than once"), a stream is a ``ValueError``, since a
    second pass would find it empty or wait forever for a writer.
    """
    name = os.fsdecode(os.fspath(path))
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{name}: no such file") from None
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFDIR:
        raise IsADirectoryError(f"{name}: is a directory, not a file")
    if kind in _NOT_FILES:
        raise OSError(f"{name}: is {_NOT_FILES[kind]}, not a file")
    if passes is not None and kind in _STREAMS:
        raise ValueError(
            f"{name}: is {_STREAMS[kind]}, a stream that can be read only once, but {passes}; "
            "save it to a regular file first"
        )


_COMPRESSIONS = {".gz": ("gzip", gzip.open), ".bz2": ("bzip2", bz2.open), ".xz": ("xz", lzma.open)}


def compression_of(path: str | os.PathLike) -> str | None:
    """Return the compression the name of ``path`` says: ``"gzip"``, ``"bzip2"``, ``"xz"``, None."""
    name = os.fsdecode(os.fspath(path))
    kinds = (kind for suffix, (kind, _) in _COMPRESSIONS.items() if name.endswith(suffix))
    return next(kinds, None)


def open_binary(path: str | os.PathLike):
    """Open ``path`` for reading bytes, decompressing ``.gz``, ``.bz2`` and ``.xz``."""
    name = os.fspath(path)
    for suffix, (_, opener) in _COMPRESSIONS.items():
        if os.fsdecode(name).endswith(suffix):
            return opener(name, "rb")
    return open(name, "rb")


def read_block(stream, size: int, path: str | os.PathLike) -> bytes:
    """Read up to ``size`` bytes of ``stream``, ``b""`` at its end.

    Reads ask for at most ``MAX_READ_BYTES`` at a time. A compressed file that is truncated or
    corrupt is an ``OSError`` naming the file, whichever error its decompressor raises (an
    ``EOFError``, ``zlib.error``, ``lzma.LZMAError``, or an ``OSError`` without errno).
    """
    pieces, left = [], size
    with corrupt_data_named(path):
        while left > 0:
            piece = stream.read(min(left, MAX_READ_BYTES))
            if not piece:
                break
            pieces.append(piece)
            left -= len(piece)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


@contextmanager
def corrupt_data_named(path: str | os.PathLike) -> Iterator[None]:
    """Turn the error a decompressor raises on corrupt data into an ``OSError`` naming the file.

    The error of a truncated or corrupt compressed file (an ``EOFError``, ``zlib.error``,
    ``lzma.LZMAError``, or an ``OSError`` without errno) reads ``PATH: truncated or corrupt
    gzip file (...)``; other errors pass unchanged.
    """
    try:
        yield
    except (EOFError, zlib.error, lzma.LZMAError, OSError) as error:
        kind = compression_of(path)
        # An errno means the system failed to read (a disk error): that is no corrupt data.
        if kind is None or (isinstance(error, OSError) and error.errno is not None):
            raise
        name = os.fsdecode(os.fspath(path))
        raise OSError(f"{name}: truncated or corrupt {kind} file ({error})") from error


@dataclass(frozen=True)
class SvmlightChunk:
    """Rows of one chunk: labels and CSR structure, indices as written in the file."""

    labels: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    first_line: int
    skipped_lines: int
    min_index: int

    @property
    def n_rows(self) -> int:
        """Rows of the chunk."""
        return len(self.labels)


def iter_chunks(
    path: str | os.PathLike,
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    skip_bad_lines: bool = False,
    n_jobs: int | None = None,
) -> Iterator[SvmlightChunk]:
    r"""Read a file's rows chunk by chunk, each of whole lines and about ``chunk_bytes`` bytes.

    Parameters
    ----------
    path : str or os.PathLike
        The file (``.gz``, ``.bz2`` and ``.xz`` are decompressed).
    chunk_bytes : int, default=DEFAULT_CHUNK_BYTES (64 MiB)
        Bytes read at a time; a chunk holds the whole lines among them.
    skip_bad_lines : bool, default=False
        Skip malformed lines (counted in ``skipped_lines``) rather than raise.
    n_jobs : int or None, default=None
        Threads of the parser; ``None`` for every core.

    Yields
    ------
    SvmlightChunk
        Labels and CSR structure of the chunk's rows, indices as written.

    Raises
    ------
    SvmlightError
        A malformed line, with ``.path`` and ``.line``.
    OSError
        A missing path, a directory, or a truncated or corrupt compressed file, named.

    Examples
    --------
    >>> import os, tempfile
    >>> from chromatic.svmlight import iter_chunks
    >>> path = os.path.join(tempfile.mkdtemp(), "rows.svm")
    >>> with open(path, "w") as f:
    ...     _ = f.write("1 1:1 3:1\n0 2:1\n1 3:1\n")
    >>> [chunk.n_rows for chunk in iter_chunks(path, chunk_bytes=12)]
    [1, 2]
    """
    check_chunk_bytes(chunk_bytes)
    check_input_path(path)
    name = os.fspath(path)
    shown = os.fsdecode(name)
    threads = effective_n_jobs(n_jobs)

    def parse(text: bytes, first_line: int) -> SvmlightChunk:
        # A malformed line raises SvmlightError ("FILE:LINE: what is wrong", a ValueError).
        labels, indptr, indices, skipped, min_index = _core.parse_svmlight(
            text, first_line, skip_bad_lines=skip_bad_lines, n_jobs=threads, path=shown
        )
        return SvmlightChunk(labels, indptr, indices, first_line, skipped, min_index)

    line = 1
    carry = b""
    with open_binary(name) as stream:
        while True:
            block = read_block(stream, chunk_bytes, name)
            if not block:
                if carry:
                    yield parse(carry, line)
                return
            data = carry + block
            cut = last_line_end(data)
            if cut == 0:
                carry = data
                continue
            text, carry = data[:cut], data[cut:]
            yield parse(text, line)
            line += count_line_ends(text)


def last_line_end(data: bytes) -> int:
    r"""Return where the whole lines of ``data`` end (0 if none).

    A line ends at ``\n``, ``\r\n`` or a lone ``\r``, as the engine's parser reads them. A
    final ``\r`` is left for the next read, whose first byte may be its ``\n``.
    """
    end = len(data) - 1 if data.endswith(b"\r") else len(data)
    return max(data.rfind(b"\n", 0, end), data.rfind(b"\r", 0, end)) + 1


def count_line_ends(text: bytes) -> int:
    r"""Count the line ends of ``text``, a ``\r\n`` once."""
    return text.count(b"\n") + text.count(b"\r") - text.count(b"\r\n")


def check_chunk_bytes(chunk_bytes) -> None:
    """Refuse a chunk size that is not a positive whole number of bytes."""
    if isinstance(chunk_bytes, bool) or not isinstance(chunk_bytes, numbers.Integral):
        raise ValueError(f"chunk_bytes must be a whole number of bytes, got {chunk_bytes!r}")
    if chunk_bytes < 1:
        raise ValueError(f"chunk_bytes must be >= 1, got {chunk_bytes}")


@dataclass(frozen=True)
class SvmlightData:
    """Binary rows ``X`` (CSR, float64 ones), labels ``y``, and what reading found."""

    X: sp.csr_matrix
    y: np.ndarray
    zero_based: bool
    skipped_lines: int


def load_svmlight(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    zero_based: bool | str = "auto",
    n_features: int | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    skip_bad_lines: bool = False,
    n_jobs: int | None = None,
) -> SvmlightData:
    r"""Read one or more svmlight files into one binary CSR matrix.

    Values are read as presence: a written 0 is absent.

    Parameters
    ----------
    paths : str, os.PathLike or sequence of them
        The files, read in order.
    zero_based : bool or "auto", default="auto"
        Whether indices start at 0; ``"auto"`` says so when some index is 0, else 1-based (as
        scikit-learn's ``load_svmlight_file`` does).
    n_features : int or None, default=None
        Columns of ``X``; ``None`` for the largest index plus one.
    chunk_bytes, skip_bad_lines, n_jobs
        As in ``iter_chunks``.

    Returns
    -------
    SvmlightData
        ``X`` (CSR, float64 ones), ``y`` (the labels), ``zero_based`` (as decided) and
        ``skipped_lines``.

    See Also
    --------
    iter_chunks : The rows of a file chunk by chunk, for files larger than memory.
    chromatic.streaming.fit_files : Fit an encoder on files without loading them.

    Examples
    --------
    >>> import os, tempfile
    >>> from chromatic.svmlight import load_svmlight
    >>> path = os.path.join(tempfile.mkdtemp(), "rows.svm")
    >>> with open(path, "w") as f:
    ...     _ = f.write("1 1:1 3:1\n0 2:1\n")
    >>> data = load_svmlight(path)
    >>> data.X.toarray(), data.y, data.zero_based
    (array([[1., 0., 1.],
           [0., 1., 0.]]), array([1., 0.]), False)
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    check_index_base(zero_based)
    chunks = [
        chunk
        for path in paths
        for chunk in iter_chunks(
            path, chunk_bytes=chunk_bytes, skip_bad_lines=skip_bad_lines, n_jobs=n_jobs
        )
    ]
    rows = joined_chunks(chunks)
    zero_based = resolve_zero_based(zero_based, rows.min_index)
    shift = 0 if zero_based else 1
    indices, indptr, labels = rows.indices - shift, rows.indptr, rows.labels
    width = int(indices.max()) + 1 if len(indices) else 0
    if n_features is None:
        n_features = width
    elif width > n_features:
        raise ValueError(f"index {width - 1 + shift} is beyond n_features={n_features}")
    X = sp.csr_matrix(
        (np.ones(len(indices)), indices, indptr), shape=(len(labels), int(n_features))
    )
    return SvmlightData(X, labels, zero_based, rows.skipped_lines)


def joined_chunks(chunks: Sequence[SvmlightChunk]) -> SvmlightChunk:
    """Join the rows of ``chunks``, in order, into one chunk (int64 indices as written)."""
    lengths = [np.diff(c.indptr) for c in chunks]
    return SvmlightChunk(
        labels=np.concatenate([c.labels for c in chunks] or [np.zeros(0)]),
        indptr=np.concatenate([[0], np.cumsum(np.concatenate(lengths or [[]]))]).astype(np.int64),
        indices=np.concatenate([c.indices for c in chunks] or [np.zeros(0)]).astype(np.int64),
        first_line=chunks[0].first_line if chunks else 1,
        skipped_lines=sum(c.skipped_lines for c in chunks),
        min_index=min((c.min_index for c in chunks), default=np.iinfo(np.int64).max),
    )
