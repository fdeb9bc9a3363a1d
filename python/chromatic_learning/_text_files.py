"""Text files as the readers of both text formats (svmlight, delimited tables) open them.

A path is checked before any reading, compressed files are decompressed, and their errors name
the file. The engine parses the text a block of whole lines at a time; the blocks are views of
two numpy buffers that live as long as the file is read, and while the caller parses one, a
thread reads the next into the other. (Reading each block into a fresh ``bytes`` object,
joining it to the partial line before it and slicing off the whole lines copied every byte
three times, each time into memory the kernel had to clear first.)
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from ._gzip import GzipReader

#: The most bytes asked of a file in one read: a read allocates what it asks for, however
#: little the file holds, so a larger chunk is gathered from reads of this size.
MAX_READ_BYTES = 64 << 20

_STREAMS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device"}
_NOT_FILES = {stat.S_IFDIR: "a directory", stat.S_IFSOCK: "a socket"}


def check_input_path(path: str | os.PathLike, *, passes: str | None = None) -> None:
    """Refuse, before any reading, a path that cannot be read as rows of text.

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


def open_text(path) -> TextInput:
    """Open ``path`` for ``readinto``, decompressing ``.gz``, ``.bz2`` and ``.xz``."""
    return TextInput(path)


class TextInput:
    """A file read with ``readinto``, decompressed, that says how many of its bytes are read.

    ``bytes_read`` is the position in the file itself: for a compressed file, the compressed
    bytes consumed, which reach the file's size at its end as the decompressed text does.
    """

    def __init__(self, path):
        name = os.fspath(path)
        # Counted as read rather than asked for its position: a FIFO has none.
        self._file = _CountedReads(open(name, "rb", buffering=0))
        try:
            kind = compression_of(name)
            if kind == "gzip":
                self._stream = GzipReader(self._file)
            elif kind == "bzip2":
                self._stream = bz2.BZ2File(self._file)
            elif kind == "xz":
                self._stream = lzma.LZMAFile(self._file)
            else:
                self._stream = self._file
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> TextInput:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def readinto(self, view) -> int:
        """Fill ``view`` with the next bytes of text; return how many (0 at the end)."""
        return self._stream.readinto(view)

    @property
    def bytes_read(self) -> int:
        """Bytes of the file read so far (compressed bytes for a compressed file)."""
        if isinstance(self._stream, GzipReader):
            # Those it has inflated: it reads the file a megabyte ahead.
            return self._stream.bytes_read
        return self._file.bytes_read

    def close(self) -> None:
        """Close the decompressor and the file."""
        try:
            self._stream.close()
        finally:
            self._file.close()


class _CountedReads(io.RawIOBase):
    """An unbuffered file that counts the bytes read from it."""

    def __init__(self, file):
        super().__init__()
        self._file = file
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, view) -> int:
        n = self._file.readinto(view)
        self.bytes_read += n or 0
        return n

    def close(self) -> None:
        try:
            self._file.close()
        finally:
            super().close()


def text_blocks(
    stream: TextInput, path, chunk_bytes: int, complete: Callable[[np.ndarray], int]
) -> Iterator[tuple[np.ndarray, int]]:
    """Yield the whole lines (or records) of ``stream``, a block of about ``chunk_bytes`` at a time.

    Each block comes with the bytes of the file read once it was (``stream.bytes_read``; at
    most a partial line more than the block, or a read of compressed data), for progress.
    ``complete(data)`` says where the whole lines of ``data`` end (0 when none does); what
    follows them starts the next block, and the stream's last block is what is left at its
    end. Each block is a uint8 view of one of two buffers, which the block after next
    overwrites: the caller is done with it when it asks for the next. While the caller reads a
    block, a thread fills the other buffer with the next one (reading or decompressing the
    file, which releases the GIL), so the two overlap. A buffer that holds no whole line is
    doubled, so that a long line is scanned a number of times logarithmic in its size.
    """
    buffer, spare = np.empty(chunk_bytes, np.uint8), np.empty(chunk_bytes, np.uint8)
    filled, bytes_read = _filled(stream, buffer, 0, path)
    with ThreadPoolExecutor(1) as background:
        while True:
            if filled < len(buffer):
                # The stream has ended: what is left is its last lines.
                if filled:
                    yield buffer[:filled], bytes_read
                return
            cut = complete(buffer[:filled])
            if cut == 0:
                larger = np.empty(2 * len(buffer), np.uint8)
                larger[:filled] = buffer
                buffer, spare = larger, np.empty(len(larger), np.uint8)
                filled, bytes_read = _filled(stream, buffer, filled, path)
                continue
            spare[: filled - cut] = buffer[cut:filled]
            next_block = background.submit(_filled, stream, spare, filled - cut, path)
            yield buffer[:cut], bytes_read
            filled, bytes_read = next_block.result()
            buffer, spare = spare, buffer


def _filled(stream: TextInput, buffer: np.ndarray, start: int, path) -> tuple[int, int]:
    """``fill``, then the bytes of the file read: taken by the thread that read them."""
    at = fill(stream, buffer, start, path)
    return at, stream.bytes_read


def fill(stream, buffer: np.ndarray, start: int, path) -> int:
    """Fill ``buffer`` from ``start`` with the stream's next bytes; return where they end.

    They end before the end of the buffer only at the end of the stream.
    """
    with memoryview(buffer) as view:
        at = start
        with corrupt_data_named(path):
            while at < len(view):
                read = stream.readinto(view[at:])
                if not read:
                    break
                at += read
    return at
