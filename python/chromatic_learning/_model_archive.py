"""A model file's members, each read only once its declared sizes are checked.

A model file is an npz archive (a zip of ``.npy`` members). Before a member is read, the size
its zip entry declares is checked against what the caller allows for its role and against what
its compression can produce, and its ``.npy`` header against the dtype and shape expected; it is
then read with that bound, so a damaged or hostile file costs no more memory than the model it
claims to be. Every problem is a ``ModelFileError`` naming the file and the member.
"""

from __future__ import annotations

import ast
import json
import math
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from ._delimited import PARQUET_MAGIC, is_svmlight_line

# A feature name or a class label; a column name is rarely longer than a line.
LABEL_CHARS = 1 << 12
# numpy's own limit on an .npy header, which is parsed as a Python literal.
MAX_HEADER = 10_000
# Deflate cannot inflate data more than 1032-fold: a member that declares more is lying.
DEFLATE_RATIO = 1032
# Members are read in pieces of at most this many bytes, into their preallocated array.
READ_CHUNK = 1 << 24
# What the zip and decompression libraries raise on a damaged archive or member.
ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError)
# What parsing an .npy header (a Python literal) raises when the header is malformed or
# nested too deeply for the parser.
LITERAL_ERRORS = (SyntaxError, ValueError, TypeError, MemoryError, RecursionError)


# What each kind of member holds, by the dtype kinds it accepts.
KIND_NAMES = {
    "U": "text",
    "iu": "integers",
    "f": "floats",
    "biufU": "labels (booleans, numbers or text)",
}


class ModelFileError(ValueError):
    """A model file that cannot be read: missing, not a model, of another version, or tampered."""


@contextmanager
def opened(name: str) -> Iterator[Archive]:
    """Open the model file ``name`` as an archive of members, or say why it is none."""
    try:
        # Without blocking, so that a pipe is refused below rather than waited on.
        descriptor = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ModelFileError(f"{name}: no such model file") from None
    except OSError as error:
        raise ModelFileError(f"{name}: cannot read the model file ({error.strerror})") from None
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        os.close(descriptor)
        if stat.S_ISDIR(status.st_mode):
            raise ModelFileError(f"{name}: a folder, not a model file")
        # An npz is read by seeking to its directory at the end, which only a file allows.
        raise ModelFileError(f"{name}: not a regular file; a model file must be one")
    with os.fdopen(descriptor, "rb") as file:
        try:
            archive = zipfile.ZipFile(file)
        except ARCHIVE_ERRORS as error:
            file.seek(0)
            kind = kind_of_file(file.read(4096))
            if kind is not None:
                raise ModelFileError(
                    f"{name}: {kind}, not a model (a model is the .npz file that fit or "
                    "compress writes)"
                ) from None
            raise ModelFileError(
                f"{name}: not a chromatic model file (not an npz archive: {one_line(error)})"
            ) from None
        with archive:
            yield Archive(name, archive, status.st_size)


# The first bytes of the files a model is most often confused with.
MAGIC = {
    PARQUET_MAGIC: "a Parquet file",
    b"\x1f\x8b": "a gzip-compressed file",
    b"BZh": "a bzip2-compressed file",
    b"\xfd7zXZ\x00": "an xz-compressed file",
    b"\x93NUMPY": "a numpy array file (.npy)",
}


def kind_of_file(head: bytes) -> str | None:
    """Name what a file that is not a model seems to be, from its first bytes (None: unknown)."""
    for magic, kind in MAGIC.items():
        if head.startswith(magic):
            return kind
    lines = head.splitlines()
    first = lines[0].strip() if lines else b""
    try:
        first.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if is_svmlight_line(first):
        return "a svmlight file"
    if first and (b"," in first or b"\t" in first):
        return "a text table (CSV or TSV)"
    return "a text file" if first else None


def one_line(text) -> str:
    return " ".join(str(text).split())


class Archive:
    """The members of an open model file, each read only once its declared sizes are checked."""

    def __init__(self, path: str, archive: zipfile.ZipFile, size: int):
        self.path = path
        self._zip = archive
        self._size = size
        self._entries: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            member = info.filename.removesuffix(".npy")
            if member in self._entries:
                # zipfile would silently read the last of the two.
                self.fail(member, "is stored twice")
            self._entries[member] = info
        self._read: set[str] = set()

    def fail(self, member: str, problem: str):
        """Raise the ``ModelFileError`` of ``member``'s ``problem``, on one line."""
        raise ModelFileError(f"{self.path}: member {member!r} {one_line(problem)}")

    def has(self, member: str) -> bool:
        return member in self._entries

    def check_all_read(self, kind: str) -> None:
        """Refuse members that the model never read: they do not belong in its kind."""
        extra = sorted(set(self._entries) - self._read)
        if extra:
            self.fail(extra[0], f"does not belong in a {kind} model file")

    # -- typed members

    def text(self, member: str, max_chars: int) -> str:
        """Read a text scalar of at most ``max_chars`` characters."""
        return str(self.array(member, "U", max_itemsize=4 * max_chars)[()])

    def json_object(self, member: str, max_chars: int) -> dict:
        """Read a JSON object from a text scalar."""
        text = self.text(member, max_chars)
        try:
            value = json.loads(text)
        except RecursionError:
            self.fail(member, "nests JSON too deeply")
        except ValueError as error:  # malformed JSON, or an integer of too many digits
            self.fail(member, f"is not valid JSON ({error})")
        if not isinstance(value, dict):
            self.fail(member, f"holds a JSON {type(value).__name__}, not a JSON object")
        return value

    def integer(self, member: str, low: int, high: int) -> int:
        """Read an integer scalar within ``[low, high]``."""
        return int(self.integers(member, low, high)[()])

    def integers(
        self,
        member: str,
        low: int,
        high: int,
        *,
        length: int | None = None,
        max_length: int | None = None,
        dtype=np.int64,
    ) -> np.ndarray:
        """Read integers within ``[low, high]``, of any integer dtype, as ``dtype``."""
        values = self.array(member, "iu", length=length, max_length=max_length)
        if values.size:
            # Compared as Python integers, so that uint64 values and negative bounds meet exactly.
            for at in (np.argmin(values), np.argmax(values)):
                value = int(values.flat[at])
                if not low <= value <= high:
                    where = f" at position {at}" if values.ndim else ""
                    self.fail(member, f"holds {value}{where}, outside [{low}, {high}]")
        return values.astype(dtype, copy=False)

    def labels(self, member: str, kinds: str, *, length: int) -> np.ndarray:
        """Read ``length`` distinct labels (names, classes) of the dtype ``kinds``."""
        labels = self.array(member, kinds, length=length, max_itemsize=4 * LABEL_CHARS)
        labels = labels.astype(labels.dtype.newbyteorder("="), copy=False)
        if labels.dtype.kind == "f" and not np.isfinite(labels).all():
            self.fail(member, "holds a value that is not finite")
        if len(np.unique(labels)) != length:
            self.fail(member, "holds a label twice")
        return labels

    # -- any member

    def array(
        self,
        member: str,
        kinds: str,
        *,
        length: int | None = None,
        max_length: int | None = None,
        max_itemsize: int = 8,
    ) -> np.ndarray:
        """Read ``member``: a scalar, or 1-D of ``length`` (or at most ``max_length``) items.

        Its dtype must be of one of ``kinds`` with items of at most ``max_itemsize`` bytes. The
        zip entry's declared size is checked against the most this allows before anything is
        read, the .npy header's shape and dtype against the expectation and against the
        declared size before the data is read, and the data is then read with that bound.
        """
        info = self._entries.get(member)
        if info is None:
            raise ModelFileError(f"{self.path}: incomplete model file: no member {member!r}")
        self._read.add(member)
        scalar = length is None and max_length is None
        items = 1 if scalar else length if length is not None else max_length
        self._check_declared(member, info, 16 + MAX_HEADER + items * max_itemsize)
        try:
            with self._zip.open(info) as stream:
                shape, fortran, dtype, header_bytes = self._npy_header(member, stream)
                if dtype.kind not in kinds or not 1 <= dtype.itemsize <= max_itemsize:
                    self.fail(member, f"holds {dtype} values, not {KIND_NAMES[kinds]}")
                if scalar:
                    expected = "a scalar"
                    shape_ok = shape == ()
                elif length is not None:
                    expected = f"{length} values"
                    shape_ok = shape == (length,)
                else:
                    expected = f"at most {max_length} values"
                    shape_ok = len(shape) == 1 and shape[0] <= max_length
                if not shape_ok:
                    self.fail(member, f"has shape {shape}, where the model holds {expected}")
                n_bytes = math.prod(shape) * dtype.itemsize
                if info.file_size != header_bytes + n_bytes:
                    self.fail(
                        member,
                        f"declares {info.file_size} bytes, where its header makes "
                        f"{header_bytes + n_bytes}",
                    )
                data = self._read_bounded(member, stream, n_bytes)
        except ModelFileError:
            raise
        except ARCHIVE_ERRORS as error:
            self.fail(member, f"cannot be read ({error})")
        # Text is UTF-32: a code point past Unicode's last would break every use of the string.
        if (
            dtype.kind == "U"
            and (data.view(np.dtype("u4").newbyteorder(dtype.byteorder)) > 0x10FFFF).any()
        ):
            self.fail(member, "holds text that is not Unicode")
        return data.view(dtype).reshape(shape, order="F" if fortran else "C")

    def _check_declared(self, member: str, info: zipfile.ZipInfo, most: int) -> None:
        """Refuse a zip entry whose declared size its role or its compression cannot have."""
        if info.flag_bits & 0x1:
            self.fail(member, "is encrypted")
        if info.file_size > most:
            self.fail(member, f"declares {info.file_size} bytes; its role allows {most} at most")
        if info.compress_type == zipfile.ZIP_STORED:
            honest = info.compress_size == info.file_size
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            honest = info.file_size <= DEFLATE_RATIO * info.compress_size + 64
        else:
            self.fail(
                member,
                f"is compressed by zip method {info.compress_type}; numpy stores or deflates",
            )
        if not honest or info.header_offset + info.compress_size > self._size:
            self.fail(
                member,
                f"declares {info.file_size} bytes from {info.compress_size} stored, which the "
                "file cannot hold (truncated or forged)",
            )

    def _npy_header(self, member: str, stream) -> tuple[tuple, bool, np.dtype, int]:
        """Parse the .npy header: ``(shape, fortran_order, dtype, its length in bytes)``."""
        magic = stream.read(8)
        if len(magic) != 8 or magic[:6] != b"\x93NUMPY":
            self.fail(member, "is not an .npy array")
        size_format = {(1, 0): "<H", (2, 0): "<I"}.get((magic[6], magic[7]))
        if size_format is None:
            self.fail(member, f"has .npy format {magic[6]}.{magic[7]}; numpy writes 1.0 or 2.0")
        size_bytes = stream.read(struct.calcsize(size_format))
        if len(size_bytes) != struct.calcsize(size_format):
            self.fail(member, "ends inside its .npy header")
        (header_length,) = struct.unpack(size_format, size_bytes)
        if header_length > MAX_HEADER:
            self.fail(member, f"has an .npy header of {header_length} bytes (numpy writes < 200)")
        text = stream.read(header_length)
        if len(text) != header_length:
            self.fail(member, "ends inside its .npy header")
        try:
            header = ast.literal_eval(text.decode("latin1"))
        except LITERAL_ERRORS:
            header = None
        if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
            self.fail(member, "has an unreadable .npy header")
        shape, fortran, descr = header["shape"], header["fortran_order"], header["descr"]
        if not (isinstance(shape, tuple) and all(type(d) is int and d >= 0 for d in shape)):
            self.fail(member, f"has an invalid shape {shape!r}")
        if not isinstance(fortran, bool) or not isinstance(descr, str):
            # A list descr is a structured dtype, which no model member is.
            self.fail(member, "has an unreadable .npy header")
        try:
            dtype = np.dtype(descr)
        except (TypeError, ValueError, OverflowError):
            self.fail(member, f"has an unknown dtype {descr!r}")
        return shape, fortran, dtype, len(magic) + len(size_bytes) + header_length

    def _read_bounded(self, member: str, stream, n_bytes: int) -> np.ndarray:
        """Read exactly ``n_bytes`` of data, never more, and check that the member ends there."""
        data = np.empty(n_bytes, dtype=np.uint8)
        view = memoryview(data)
        done = 0
        while done < n_bytes:
            chunk = stream.read(min(READ_CHUNK, n_bytes - done))
            if not chunk:
                self.fail(member, f"ends after {done} of its {n_bytes} bytes")
            view[done : done + len(chunk)] = chunk
            done += len(chunk)
        # Reading past the end also makes zipfile check the member's CRC.
        if stream.read(1):
            self.fail(member, "holds more bytes than its header says")
        return data
