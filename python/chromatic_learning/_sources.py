"""Where the training rows live, for the fit pipeline (``_pipeline``).

The pipeline asks a row source for passes over its rows: count the features, bound and count
the feature pairs of a shard, count the labels of every code value. A source makes the partial
counts of its rows and adds them up its own way; the counts that come out are the same
whichever source the rows come from. Two sources read rows here, chunk by chunk
(``MatrixRows``: a matrix in memory, one chunk; ``SvmlightFiles``: files streamed from disk);
the third (Dask partitions, in ``_dask_rows``) counts on the workers of a cluster.
"""

from __future__ import annotations

import os
import stat
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import scipy.sparse as sp

from . import _core
from ._text_files import check_input_path
from ._validation import LabelError, check_index_base, check_label_classes
from .svmlight import DEFAULT_CHUNK_BYTES, check_chunk_bytes, iter_chunks

#: ``progress(phase, done, total)``: how far a phase of a fit has come. ``done`` and ``total``
#: are bytes of input in a pass over the rows, candidates scored in ``CHOOSING_FEATURES``; a
#: phase done in one step (``total`` None) is reported once, as it starts, and a pass over a
#: stream of no known size (``total`` None too) counts its bytes in ``done``.
Progress = Callable[[str, int, "int | None"], None]

#: The phase that scores the splits of a budget, ``n_frequent="auto"``: measured in candidates.
CHOOSING_FEATURES = "choosing frequent features"


def phase_unit(phase: str) -> str:
    """Return what ``done`` and ``total`` of ``phase`` count: ``"candidates"`` or ``"bytes"``."""
    return "candidates" if phase.endswith(CHOOSING_FEATURES) else "bytes"


T = TypeVar("T")


def reported(
    chunks: Iterable[T],
    bytes_read: Callable[[T], int],
    progress: Progress,
    phase: str,
    total: int | None,
) -> Iterator[T]:
    """Yield ``chunks``, reporting ``progress(phase, bytes_read(chunk), total)`` after each.

    A chunk is reported once the caller is done with it (asks for the next). The pass starts
    at 0 and, read to the end, ends at ``total``: the bytes after the last chunk (a Parquet
    file without row groups, a text file ending where a read did) are read by then. A
    ``total`` of None is a stream's: its size is known only at its end.
    """
    progress(phase, 0, total)
    done = 0
    for chunk in chunks:
        yield chunk
        done = bytes_read(chunk)
        progress(phase, done, total)
    if total is not None and done != total:
        progress(phase, total, total)


def file_sizes(paths: Sequence[str]) -> int:
    """Return the bytes of the files ``paths`` together."""
    return sum(os.path.getsize(path) for path in paths)


def input_size(path) -> int | None:
    """Return the bytes of the input ``path``, or None for a stream (a FIFO, a device).

    The path is checked first, so that a missing one is named as the reading would name it.
    """
    check_input_path(path)
    status = os.stat(path)
    return status.st_size if stat.S_ISREG(status.st_mode) else None


NO_INDEX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Rows:
    """A chunk (or partition) of rows.

    It holds the CSR structure with indices as stored, optional values (explicit zeros are
    absent) and labels, and the number of its first row in the source. ``bytes_read`` is how
    much of the source's input was read once the chunk was (for progress).
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray | None = None
    labels: np.ndarray | None = None
    first_row: int = 0
    min_index: int = NO_INDEX
    skipped_lines: int = 0
    bytes_read: int = 0

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    @property
    def width(self) -> int:
        """The largest index plus one."""
        return int(self.indices.max()) + 1 if len(self.indices) else 0


@dataclass(frozen=True)
class Kept:
    """Which entries of the rows a pass reads.

    Indices are shifted down by ``shift`` (1 for 1-based input), without those at or beyond
    ``width`` (never seen in fit).
    """

    shift: int = 0
    width: int | None = None

    def entries(self, rows: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(indptr, indices, data)`` of the kept entries of ``rows``."""
        indices = rows.indices - self.shift if self.shift else rows.indices
        if self.width is None:
            return rows.indptr, indices, rows.data
        keep = indices < self.width
        if keep.all():
            return rows.indptr, indices, rows.data
        return kept_entries(rows.indptr, indices, rows.data, keep)

    def csr(self, rows: Rows, n_features: int) -> sp.csr_matrix:
        """Return the kept entries as a binary CSR matrix over ``n_features`` columns."""
        indptr, indices, data = self.entries(rows)
        values = np.ones(len(indices), dtype=np.float32) if data is None else data
        return sp.csr_matrix((values, indices, indptr), shape=(rows.n_rows, n_features))


def kept_entries(indptr, indices, data, keep) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """CSR arrays with only the entries where ``keep`` holds."""
    # A row's entries start after the kept entries before it.
    kept_before = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(keep, out=kept_before[1:])
    kept = indices[keep].astype(np.int64, copy=False)
    return kept_before[indptr], kept, None if data is None else data[keep]


class RowSample:
    """A uniform sample of at most ``size`` rows.

    The sample holds the rows with the smallest random keys (bottom-k sampling), as CSR with
    their labels. The samples of disjoint sets of rows merge into a sample of their union.
    """

    def __init__(self, size: int):
        self.size = size
        self.keys = np.zeros(0)
        self.rows = sp.csr_matrix((0, 0))
        self.labels = np.zeros(0)

    def add(self, indptr, indices, labels, keys) -> None:
        """Offers the rows of CSR structure ``(indptr, indices)``, each with its own key."""
        threshold = self.keys.max() if len(self.keys) >= self.size else 1.0
        take = np.flatnonzero(keys < threshold)
        if not len(take):
            return
        width = int(indices.max()) + 1 if len(indices) else 0
        rows = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(keys), width))
        self.append(rows[take], labels[take], keys[take])

    @classmethod
    def of_all(cls, rows: sp.csr_matrix, labels: np.ndarray) -> RowSample:
        """Every row, as a sample of their number."""
        sample = cls(rows.shape[0])
        sample.rows, sample.labels, sample.keys = rows, labels, np.zeros(rows.shape[0])
        return sample

    def merged(self, other: RowSample) -> RowSample:
        """Merge into a new sample of both; partial results stay as they were."""
        union = RowSample(self.size)
        for sample in (self, other):
            union.append(sample.rows, sample.labels, sample.keys)
        return union

    def renumber(self, new_id: np.ndarray, n_features: int) -> None:
        """Give the features of the sampled rows new ids, ``new_id[old]``, of ``n_features``."""
        rows = self.rows
        renumbered = sp.csr_matrix(
            (rows.data, new_id[rows.indices], rows.indptr), shape=(rows.shape[0], n_features)
        )
        renumbered.sort_indices()
        self.rows = renumbered

    def append(self, rows, labels, keys) -> None:
        width = max(self.rows.shape[1], rows.shape[1])
        self.rows.resize((self.rows.shape[0], width))
        rows = rows.copy()
        rows.resize((rows.shape[0], width))
        self.rows = sp.vstack([self.rows, rows], format="csr")
        self.labels = np.concatenate([self.labels, labels])
        self.keys = np.concatenate([self.keys, keys])
        if len(self.keys) > self.size:
            keep = np.sort(np.argpartition(self.keys, self.size - 1)[: self.size])
            self.rows, self.labels, self.keys = self.rows[keep], self.labels[keep], self.keys[keep]


@dataclass
class FirstPass:
    """What the pass that counts the features learns besides the counts."""

    n_rows: int = 0
    non_zeros: int = 0
    skipped_lines: int = 0
    min_index: int = NO_INDEX
    classes: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sample: RowSample | None = None


def row_folds(first_row: int, n_rows: int, n_folds: int, seed: int) -> np.ndarray:
    """Return the fold of rows ``first_row .. first_row + n_rows``.

    The fold is a hash of the row number and the seed (SplitMix64), the same in every pass and
    for any chunking.
    """
    z = np.arange(first_row, first_row + n_rows, dtype=np.uint64)
    z = z + np.uint64((seed * 0x9E3779B97F4A7C15) % 2**64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z % np.uint64(n_folds)).astype(np.int64)


#: ``encode(indptr, indices, data, n_rows) -> codes``: a fitted coloring applied to rows.
Encode = Callable[[np.ndarray, np.ndarray, "np.ndarray | None", int], np.ndarray]


def add_value_counts(counts, codes, positive, folds, n_jobs) -> None:
    """Add code rows to the value counts of their folds.

    ``folds`` holds a fold per row, or is None for one fold.
    """
    if folds is None:
        counts[0].add(codes, positive, n_jobs=n_jobs)
        return
    for fold, fold_counts in enumerate(counts):
        rows = np.flatnonzero(folds == fold)
        fold_counts.add(np.ascontiguousarray(codes[rows]), positive[rows], n_jobs=n_jobs)


class RowSource(ABC):
    """Training rows as the fit pipeline reads them: a pass each time it asks.

    ``zero_based`` says how the stored indices are based (True, False or "auto": decided by
    the pipeline from the smallest index the first pass sees); ``n_features`` is the declared
    width (None: the largest index seen). ``supports_shards`` says whether the pair counts can
    be made shard by shard, one pass each (a memory limit needs it).
    """

    zero_based: bool | str = True
    n_features: int | None = None
    supports_shards: bool = True
    progress: Progress | None = None

    def report(self, phase: str, done: int, total: int | None) -> None:
        """Tell ``progress``, if any, how far ``phase`` has come."""
        if self.progress is not None:
            self.progress(phase, done, total)

    @abstractmethod
    def count_features(
        self, fit: _core.StreamingFit, *, labels: bool, sample_size: int | None, seed: int, n_jobs
    ) -> FirstPass:
        """Add every row to the statistics of ``fit``.

        With ``labels``, gather the label classes; with ``sample_size``, a uniform sample of
        that many rows.
        """

    @abstractmethod
    def bound_pairs(self, fit: _core.StreamingFit, kept: Kept, n_jobs) -> None:
        """Bound the pairs each vertex heads in one pass, to plan the shards."""

    @abstractmethod
    def count_pairs(self, fit: _core.StreamingFit, kept: Kept, stage: str, n_jobs) -> None:
        """Count the feature pairs of the open shard in one pass."""

    @abstractmethod
    def count_values(
        self, encode: Encode, kept: Kept, positive_class, n_folds: int, seed: int, sizes, n_jobs
    ) -> list:
        """Count the labels of every code value, one count per fold of the rows.

        A count is a ``_core.ValueCounts`` over columns of ``sizes`` values; ``n_folds`` 1
        means all rows.
        """


class ChunkedRows(RowSource):
    """Rows read in this process, chunk by chunk, each chunk counted by the engine."""

    #: Where the chunk being read comes from (a file, a part of it), for messages; empty for
    #: rows in memory.
    position: str = ""

    @abstractmethod
    def chunks(self) -> Iterator[Rows]:
        """Yield the rows, in order, chunk by chunk."""

    @property
    def input_bytes(self) -> int:
        """Bytes of input a pass reads: what the chunks' ``bytes_read`` come to."""
        return 0

    def each_chunk(self, phase: str) -> Iterator[Rows]:
        """Yield the chunks of a pass named ``phase``, its progress reported in bytes."""
        if self.progress is None:
            return self.chunks()
        return reported(
            self.chunks(), lambda rows: rows.bytes_read, self.report, phase, self.input_bytes
        )

    def folds(self, rows: Rows, n_folds: int, seed: int) -> np.ndarray:
        """Return the fold of each row of a chunk (a hash of its number: any chunking agrees)."""
        return row_folds(rows.first_row, rows.n_rows, n_folds, seed)

    def count_features(self, fit, *, labels, sample_size, seed, n_jobs) -> FirstPass:
        first = FirstPass(sample=None if sample_size is None else RowSample(sample_size))
        rng = np.random.default_rng(seed)
        for rows in self.each_chunk("counting features"):
            # A declared width is the matrix's: an index beyond it is an error of the engine's.
            width = rows.width if self.n_features is None else self.n_features
            fit.add_statistics(rows.indptr, rows.indices, width, data=rows.data, n_jobs=n_jobs)
            if labels:
                first.classes = np.union1d(first.classes, rows.labels)
                try:
                    check_label_classes(first.classes, complete=False)
                except ValueError as error:
                    if not self.position:
                        raise
                    # Files name the chunk that brought a third class.
                    raise LabelError(f"{self.position}: {error}") from None
            if first.sample is not None:
                keys = rng.random(rows.n_rows)
                first.sample.add(rows.indptr, rows.indices, rows.labels, keys)
            first.n_rows += rows.n_rows
            first.non_zeros += len(rows.indices)
            first.skipped_lines += rows.skipped_lines
            first.min_index = min(first.min_index, rows.min_index)
        return first

    def bound_pairs(self, fit, kept, n_jobs) -> None:
        for rows in self.each_chunk("bounding pairs"):
            indptr, indices, data = kept.entries(rows)
            fit.add_pair_bounds(indptr, indices, data=data, n_jobs=n_jobs)

    def count_pairs(self, fit, kept, stage, n_jobs) -> None:
        for rows in self.each_chunk(stage):
            indptr, indices, data = kept.entries(rows)
            fit.add_edges(indptr, indices, data=data, n_jobs=n_jobs)

    def count_values(self, encode, kept, positive_class, n_folds, seed, sizes, n_jobs) -> list:
        counts = [_core.ValueCounts(sizes) for _ in range(n_folds)]
        for rows in self.each_chunk("counting values"):
            codes = encode(*kept.entries(rows), rows.n_rows)
            folds = self.folds(rows, n_folds, seed) if n_folds > 1 else None
            add_value_counts(counts, codes, rows.labels == positive_class, folds, n_jobs)
        return counts


def selected_rows(rows: Rows, keep: np.ndarray) -> Rows:
    """Return the rows of a chunk where ``keep`` holds (the first row number stays the chunk's)."""
    lengths = np.diff(rows.indptr)
    entries = np.repeat(keep, lengths)
    return Rows(
        np.concatenate(([0], np.cumsum(lengths[keep]))).astype(rows.indptr.dtype),
        rows.indices[entries],
        None if rows.data is None else rows.data[entries],
        None if rows.labels is None else rows.labels[keep],
        rows.first_row,
        rows.min_index,
        bytes_read=rows.bytes_read,
    )


class SplitRows(ChunkedRows):
    """One side of a split of another source's rows: one row in ``n_parts`` is held out.

    A row is held out when the hash of its number (as for the folds) falls in part 0, so that
    every pass, and any chunking, agrees. ``held_out`` chooses the side read.
    """

    n_parts = 10

    def __init__(self, source: ChunkedRows, *, held_out: bool, zero_based: bool, seed: int):
        self.source = source
        self.held_out = held_out
        self.seed = seed
        self.zero_based = zero_based
        self.n_features = source.n_features
        self.supports_shards = source.supports_shards
        self.progress = source.progress

    @property
    def position(self) -> str:
        return self.source.position

    @property
    def input_bytes(self) -> int:
        return self.source.input_bytes

    def chunks(self) -> Iterator[Rows]:
        for rows in self.source.chunks():
            held = row_folds(rows.first_row, rows.n_rows, self.n_parts, self.seed) == 0
            yield selected_rows(rows, held if self.held_out else ~held)

    def report(self, phase: str, done: int, total: int | None) -> None:
        super().report(f"forecasting collisions: {phase}", done, total)


class MatrixRows(ChunkedRows):
    """A matrix in memory (validated CSR arrays), read as one chunk.

    ``fold_of_rows`` fixes the fold of every row for cross-fitting (the estimators draw
    stratified folds); without it, folds are hashed from the row numbers.
    """

    def __init__(self, indptr, indices, data, n_features, labels=None, fold_of_rows=None):
        self.rows = Rows(indptr, indices, data, labels)
        self.n_features = int(n_features)
        self.zero_based = True
        self.fold_of_rows = fold_of_rows

    @classmethod
    def of_matrix(cls, X, labels=None, fold_of_rows=None) -> MatrixRows:
        """Read a scipy CSR matrix's rows, its arrays borrowed as they are."""
        return cls(X.indptr, X.indices, X.data, X.shape[1], labels, fold_of_rows)

    def chunks(self) -> Iterator[Rows]:
        yield self.rows

    def count_features(self, fit, *, labels, sample_size, seed, n_jobs) -> FirstPass:
        first = super().count_features(
            fit, labels=labels, sample_size=None, seed=seed, n_jobs=n_jobs
        )
        if sample_size is not None:
            # The rows are at hand: the split is chosen on a sample drawn from all of them.
            first.sample = RowSample.of_all(self.matrix(), self.rows.labels)
        return first

    def matrix(self) -> sp.csr_matrix:
        rows = self.rows
        data = np.ones(len(rows.indices)) if rows.data is None else rows.data
        return sp.csr_matrix(
            (data, rows.indices, rows.indptr), shape=(rows.n_rows, self.n_features)
        )

    def folds(self, rows, n_folds, seed):
        if self.fold_of_rows is None:
            return super().folds(rows, n_folds, seed)
        return self.fold_of_rows


def rereadable_paths(paths) -> list[str]:
    """Return ``paths`` (one path, or a sequence) as a list, each a file a fit can read again.

    A stream (a FIFO, a character device), a directory or a missing file is refused first.
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        # One path, as load_svmlight takes it, not a sequence of its characters.
        paths = [paths]
    paths = [os.fspath(path) for path in paths]
    for path in paths:
        check_input_path(path, passes="the fit reads its files more than once")
    return paths


class SvmlightFiles(ChunkedRows):
    """svmlight files streamed from disk, chunk by chunk of about ``chunk_bytes``.

    Every pass reads them anew; memory holds one chunk at a time. The paths are checked when
    the source is made, before any pass: each must be a file that can be read again (no
    stream), and ``chunk_bytes`` a positive whole number.
    """

    def __init__(
        self,
        paths: Sequence[str | os.PathLike],
        *,
        zero_based: bool | str = "auto",
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        skip_bad_lines: bool = False,
        progress: Progress | None = None,
        n_jobs: int | None = None,
    ):
        self.paths = rereadable_paths(paths)
        check_chunk_bytes(chunk_bytes)
        check_index_base(zero_based)
        self.zero_based = zero_based
        self.n_features = None
        self.chunk_bytes = chunk_bytes
        self.skip_bad_lines = skip_bad_lines
        self.progress = progress
        self.n_jobs = n_jobs

    @property
    def input_bytes(self) -> int:
        return file_sizes(self.paths)

    def chunks(self) -> Iterator[Rows]:
        first_row = 0
        files_before = 0
        for path in self.paths:
            for chunk in iter_chunks(
                path,
                chunk_bytes=self.chunk_bytes,
                skip_bad_lines=self.skip_bad_lines,
                n_jobs=self.n_jobs,
            ):
                self.position = f"{path}: rows {first_row + 1}-{first_row + chunk.n_rows}"
                yield Rows(
                    chunk.indptr,
                    chunk.indices,
                    None,
                    chunk.labels,
                    first_row,
                    chunk.min_index,
                    chunk.skipped_lines,
                    files_before + chunk.bytes_read,
                )
                first_row += chunk.n_rows
            files_before += os.path.getsize(path)
