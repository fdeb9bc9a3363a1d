"""A binary copy of the rows of files, read by the passes of a fit after the one that wrote it.

A fit over files reads them once per pass: the features, then (under a memory limit) the pair
bounds and one pass per shard of the graph, then the labels of every code value. Parsing text
and looking values up is a large share of a pass that only counts, so the rows are copied as
the engine reads them (row pointers, feature ids, labels) during the first pass whose ids are
final (the second: a table's first pass numbers its values only at its end), and every later
pass reads the copy instead of the files.

The copy lives in a folder of its own in the system's temporary folder (``TMPDIR`` places it)
and is removed when the fit ends, however it ends. It takes about 4 bytes per stored entry and
12 per row. A copy that cannot be written (a full disk) is given up with a warning, and the
passes read the files as before.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ._sources import ChunkedRows, FirstPass, Rows
from ._text_files import fill


@dataclass(frozen=True)
class _Chunk:
    """Where one chunk of rows lies in the copy, and what the source said of it."""

    offset: int
    n_rows: int
    nnz: int
    index_dtype: np.dtype
    data_dtype: np.dtype | None
    label_dtype: np.dtype | None
    first_row: int
    min_index: int
    skipped_lines: int
    position: str
    #: The source's ``bytes_read`` of the chunk: a pass over the copy reports the source's
    #: progress.
    bytes_read: int

    def arrays(self) -> list[tuple[np.dtype | None, int]]:
        """Return the type and length of each array in ``Rows`` order (None: no such array)."""
        return [
            (self.index_dtype, self.n_rows + 1),
            (self.index_dtype, self.nnz),
            (self.data_dtype, self.nnz),
            (self.label_dtype, self.n_rows),
        ]

    @property
    def n_bytes(self) -> int:
        """Bytes of the buffer the chunk is read into, each array at a multiple of 8."""
        return sum(_aligned(n * d.itemsize) for d, n in self.arrays() if d is not None)


class CopiedRows(ChunkedRows):
    """The rows of ``source``, read from a binary copy once a pass has written one.

    ``count_features`` is the source's own (its first pass may number features as it goes);
    the next pass over the rows writes the copy while it reads the source, and the passes
    after it read the copy. A chunk read from the copy is a view of a buffer that the next
    chunk overwrites, as every pass is done with a chunk before it asks for the next. Use it
    as a context manager, or call ``close``, to remove the copy.
    """

    def __init__(self, source: ChunkedRows):
        self.source = source
        self._chunks: list[_Chunk] | None = None
        self._path: str | None = None
        self._given_up = False
        self._position = ""
        self._remove = None

    # The source's description of its rows.
    @property
    def zero_based(self):
        return self.source.zero_based

    @property
    def n_features(self):
        return self.source.n_features

    @property
    def supports_shards(self):
        return self.source.supports_shards

    @property
    def progress(self):
        return self.source.progress

    @property
    def position(self) -> str:
        return self._position

    @property
    def input_bytes(self) -> int:
        return self.source.input_bytes

    @property
    def copied(self) -> bool:
        """Whether the passes now read the copy."""
        return self._chunks is not None

    def count_features(self, fit, *, labels, sample_size, seed, n_jobs) -> FirstPass:
        return self.source.count_features(
            fit, labels=labels, sample_size=sample_size, seed=seed, n_jobs=n_jobs
        )

    def chunks(self) -> Iterator[Rows]:
        if self._chunks is not None:
            yield from self._read()
        elif self._given_up:
            for rows in self.source.chunks():
                self._position = self.source.position
                yield rows
        else:
            yield from self._copy()

    def close(self) -> None:
        """Remove the copy; later passes read the source again."""
        if self._remove is not None:
            self._remove()
        self._chunks = self._path = self._remove = None

    def __enter__(self) -> CopiedRows:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _copy(self) -> Iterator[Rows]:
        """Yield the source's rows, writing each chunk to the copy first."""
        try:
            folder = tempfile.mkdtemp(prefix="chromatic-rows-")
        except OSError as error:
            self._give_up(error)
            yield from self.chunks()
            return
        # Removed with the fit, or at exit at the latest.
        remove = weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        path = os.path.join(folder, "rows.bin")
        chunks: list[_Chunk] = []
        out = None
        complete = False
        try:
            try:
                out = open(path, "wb")
            except OSError as error:
                self._give_up(error)
            for rows in self.source.chunks():
                self._position = self.source.position
                if out is not None:
                    try:
                        chunks.append(_write(out, rows, self._position))
                    except OSError as error:
                        out.close()
                        out = None
                        remove()
                        self._give_up(error)
                yield rows
            complete = out is not None
        finally:
            if out is not None:
                out.close()
            if complete:
                self._chunks, self._path, self._remove = chunks, path, remove
            else:
                remove()

    def _give_up(self, error: OSError) -> None:
        self._given_up = True
        warnings.warn(
            f"the binary copy of the rows could not be written ({error}); every pass reads "
            "the files",
            RuntimeWarning,
            stacklevel=3,
        )

    def _read(self) -> Iterator[Rows]:
        # Every chunk is read into one buffer, each array at a multiple of 8 bytes: fresh arrays
        # per chunk cost as much in the kernel, clearing their pages, as the read itself.
        largest = max((chunk.n_bytes for chunk in self._chunks), default=0)
        buffer = np.empty(largest // 8, np.uint64).view(np.uint8)
        with open(self._path, "rb", buffering=0) as copy:
            for chunk in self._chunks:
                copy.seek(chunk.offset)
                arrays, at = [], 0
                for dtype, count in chunk.arrays():
                    if dtype is None:
                        arrays.append(None)
                        continue
                    n_bytes = count * dtype.itemsize
                    place = buffer[at : at + n_bytes]
                    if fill(copy, place, 0, self._path) < n_bytes:
                        raise OSError(f"the binary copy of the rows {self._path} was cut short")
                    arrays.append(place.view(dtype))
                    at += _aligned(n_bytes)
                self._position = chunk.position
                yield Rows(
                    *arrays,
                    chunk.first_row,
                    chunk.min_index,
                    chunk.skipped_lines,
                    chunk.bytes_read,
                )


def _write(out, rows: Rows, position: str) -> _Chunk:
    """Append ``rows`` to ``out``; return where they lie."""
    nnz = len(rows.indices)
    small = nnz < 2**31 and (nnz == 0 or int(rows.indices.max()) < 2**31)
    # Ids as 32-bit integers where they fit: half the bytes to write and read.
    index_dtype = np.dtype(np.int32 if small else np.int64)
    chunk = _Chunk(
        offset=out.tell(),
        n_rows=rows.n_rows,
        nnz=nnz,
        index_dtype=index_dtype,
        data_dtype=None if rows.data is None else rows.data.dtype,
        label_dtype=None if rows.labels is None else rows.labels.dtype,
        first_row=rows.first_row,
        min_index=rows.min_index,
        skipped_lines=rows.skipped_lines,
        position=position,
        bytes_read=rows.bytes_read,
    )
    for array in (rows.indptr, rows.indices):
        np.ascontiguousarray(array, dtype=index_dtype).tofile(out)
    for array in (rows.data, rows.labels):
        if array is not None:
            np.ascontiguousarray(array).tofile(out)
    return chunk


def _aligned(n_bytes: int) -> int:
    """``n_bytes`` rounded up to a multiple of 8."""
    return -(-n_bytes // 8) * 8
