"""Read svmlight / libsvm files with the engine's parser, a chunk at a time.

Lines are ``label [qid:N] index[:value] ... [# comment]``; files may be plain or compressed
(``.gz``, ``.bz2``, ``.xz``). Memory is bounded by two chunks of text (one parsed while the next
is read) and the rows of one, so a file larger than memory can be streamed (``iter_chunks``);
``load_svmlight`` gathers the chunks of files that do fit. A malformed line raises
``SvmlightError`` (a ``chromatic_learning.ChromaticError``, hence a ``ValueError``) with the file in
``.path`` and the line in ``.line``.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import _core
from ._core import SvmlightError as SvmlightError  # re-exported: malformed lines raise it
from ._input import effective_n_jobs
from ._text_files import check_input_path, open_text, text_blocks
from ._validation import check_index_base, resolve_zero_based

DEFAULT_CHUNK_BYTES = 64 << 20


@dataclass(frozen=True)
class SvmlightChunk:
    """Rows of one chunk: labels and CSR structure, indices as written in the file.

    ``bytes_read`` is how much of the file was read once the chunk was (compressed bytes for a
    compressed file), at most the file's size: a compressed file's last bytes (its trailer,
    padding after it) may be left unread after its last chunk.
    """

    labels: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    first_line: int
    skipped_lines: int
    min_index: int
    bytes_read: int = 0

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
    >>> from chromatic_learning.svmlight import iter_chunks
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

    # The text of a block is a view of a buffer the block after next overwrites: the chunk
    # holds the parser's arrays, not the text.
    line = 1
    with (
        open_text(name) as stream,
        closing(text_blocks(stream, name, chunk_bytes, _core.complete_svmlight_lines)) as blocks,
    ):
        for text, bytes_read in blocks:
            # A malformed line raises SvmlightError ("FILE:LINE: what is wrong", a ValueError).
            labels, indptr, indices, skipped, min_index, line_ends = _core.parse_svmlight(
                text, line, skip_bad_lines=skip_bad_lines, n_jobs=threads, path=shown
            )
            yield SvmlightChunk(labels, indptr, indices, line, skipped, min_index, bytes_read)
            line += line_ends


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
    chromatic_learning.streaming.fit_files : Fit an encoder on files without loading them.

    Examples
    --------
    >>> import os, tempfile
    >>> from chromatic_learning.svmlight import load_svmlight
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
        bytes_read=max((c.bytes_read for c in chunks), default=0),
    )
