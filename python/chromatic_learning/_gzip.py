"""A gzip file decompressed with ``zlib``, read into the caller's buffer with ``readinto``.

``gzip.GzipFile`` reads the compressed file 8 KiB at a time and computes the CRC in a pass of
its own; ``zlib`` with ``wbits=31`` reads the gzip header and checks the CRC and length as it
inflates, from reads of a megabyte, which makes a delimited file about a quarter faster to
read. The format is read as ``gzip`` reads it: members one after the other are one stream,
zero bytes after a member are padding, and a truncated or corrupt file is an error.
"""

from __future__ import annotations

import os
import zlib
from typing import BinaryIO

#: Compressed bytes read from the file at a time.
READ_BYTES = 1 << 20

#: ``wbits`` that has ``zlib`` read (and check) the gzip header and trailer.
GZIP_WBITS = 31


class GzipReader:
    """A binary stream of the decompressed bytes of a gzip file, read with ``readinto``.

    A file that ends inside a member raises ``EOFError``, corrupt data or a bad CRC
    ``zlib.error``: what ``gzip`` raises, which ``_text_files.corrupt_data_named`` turns into an
    ``OSError`` naming the file.
    """

    def __init__(self, file: str | os.PathLike | BinaryIO):
        # A path is opened here; an open file is read from where it stands, and closed with
        # the reader.
        self._file = file if hasattr(file, "read") else open(file, "rb")
        #: Compressed bytes read from the file (which may be a stream, with no position).
        self._read_bytes = 0
        self._inflate = zlib.decompressobj(GZIP_WBITS)
        self._out = memoryview(b"")
        #: Whether the file held any byte: an empty file is an empty stream, as for ``gzip``.
        self._started = False

    def __enter__(self) -> GzipReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    @property
    def bytes_read(self) -> int:
        """Compressed bytes consumed so far: those read from the file, less those not inflated."""
        inflate = self._inflate
        # At the end of a member, zlib leaves what follows it in both ``unused_data`` and
        # ``unconsumed_tail``: count it once.
        left = inflate.unused_data if inflate.eof else inflate.unconsumed_tail
        return self._read_bytes - len(left)

    def readinto(self, view) -> int:
        """Fill ``view`` with the next decompressed bytes; return how many (0 at the end)."""
        while not self._out:
            piece = self._inflated(len(view))
            if piece is None:
                return 0
            self._out = memoryview(piece)
        n = min(len(view), len(self._out))
        view[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def _inflated(self, size: int) -> bytes | None:
        """Return up to ``size`` more decompressed bytes (maybe none yet), None at the end."""
        if self._inflate.eof:
            rest = self._inflate.unused_data.lstrip(b"\0")
            while not rest:
                more = self._read()
                if not more:
                    return None
                rest = more.lstrip(b"\0")
            # Another member follows (or the bytes are no gzip member, which zlib refuses).
            self._inflate = zlib.decompressobj(GZIP_WBITS)
            return self._inflate.decompress(rest, size)
        data = self._inflate.unconsumed_tail or self._read()
        if not data:
            if not self._started:
                return None
            raise EOFError("Compressed file ended before the end-of-stream marker was reached")
        self._started = True
        return self._inflate.decompress(data, size)

    def _read(self) -> bytes:
        """Read the next compressed bytes of the file."""
        data = self._file.read(READ_BYTES)
        self._read_bytes += len(data)
        return data
