"""Rows on a Dask cluster, as a row source of the fit pipeline.

Every partition makes its partial counts on a worker (features, then feature pairs, then code
values), and the partial counts are added up in tree reductions on the workers, so what reaches
the client is proportional to the features and the graph, never to the rows.

A partition is a block of a ``dask.array`` whose chunks are scipy sparse matrices (chunked by
rows only), or one svmlight file read on a worker; tables are read as such rows by
``_dask_tables``.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass

import dask
import dask.array as da
import numpy as np
from dask.delayed import Delayed

from . import _core
from ._input import aligned, presence_csr
from ._pipeline import added_up
from ._sources import FirstPass, Kept, Rows, RowSample, RowSource
from ._validation import check_label_classes
from .svmlight import iter_chunks, joined_chunks

#: Partial results merged by one task of the tree reductions.
SPLIT_EVERY = 8

logger = logging.getLogger("chromatic.dask")


def partition_error(index: int, error: Exception) -> Exception:
    """``error`` (a ValueError or an OSError) with the partition it came from."""
    kind = OSError if isinstance(error, OSError) else ValueError
    return kind(f"partition {index}: {error}")


def array_rows(block, labels, index: int) -> Rows:
    """Read a block of a sparse dask array as binary rows (int64 CSR structure)."""
    try:
        B = presence_csr(block)
    except ValueError as error:
        raise partition_error(index, error) from error
    if labels is not None and len(labels) != B.shape[0]:
        raise ValueError(f"partition {index}: {B.shape[0]} rows but {len(labels)} labels")
    indices = B.indices.astype(np.int64)
    min_index = int(indices.min()) if len(indices) else np.iinfo(np.int64).max
    labels = None if labels is None else np.asarray(labels)
    return Rows(B.indptr.astype(np.int64), indices, None, labels, min_index=min_index)


def file_rows(path: str, index: int, skip_bad_lines: bool) -> Rows:
    """Read an svmlight file's rows (indices as written)."""
    try:
        chunks = list(iter_chunks(path, skip_bad_lines=skip_bad_lines, n_jobs=1))
    except (OSError, ValueError) as error:
        # The reader's message names the file (and the line).
        raise partition_error(index, error) from error
    rows = joined_chunks(chunks)
    return Rows(rows.indptr, rows.indices, None, rows.labels, min_index=int(rows.min_index))


def check_row_chunks(data: da.Array) -> None:
    if data.ndim != 2:
        raise ValueError(f"data must be 2-D, got {data.ndim} dimensions")
    if data.numblocks[1] != 1:
        raise ValueError(
            "data must be chunked by rows only (one chunk across the columns), got "
            f"{data.numblocks[1]} column chunks; rechunk it with .rechunk({{1: -1}})"
        )


def merged(parts: list[Delayed], combine: Callable) -> Delayed:
    """Merge all of ``parts`` on the workers, in a tree of merges of ``SPLIT_EVERY`` each.

    ``combine`` merges a list of results, in order.
    """
    if not parts:
        raise ValueError("data has no partitions")
    while len(parts) > 1:
        parts = [
            dask.delayed(combine)(parts[i : i + SPLIT_EVERY])
            for i in range(0, len(parts), SPLIT_EVERY)
        ]
    return parts[0]


def gathered(parts: list[Delayed], merge: Callable | None, what: str, *, merge_all=None):
    """Merge all of ``parts`` on the workers (``merged``) and bring the result to the client.

    ``merge`` merges two results; ``merge_all``, when given instead, a list of them in order.
    The size of what reaches the client is logged to the ``chromatic.dask`` logger.
    """
    result = merged(parts, merge_all or functools.partial(functools.reduce, merge)).compute()
    log_gathered(what, result)
    return result


def log_gathered(what: str, result) -> None:
    if logger.isEnabledFor(logging.INFO):
        logger.info("gathered %s: %d bytes", what, len(pickle.dumps(result, protocol=5)))


@dataclass(frozen=True)
class FeatureCounts:
    """Rows holding each seen feature (ascending ids), and what else the first pass learns."""

    features: np.ndarray
    counts: np.ndarray
    n_rows: int
    min_index: int
    classes: np.ndarray
    sample: RowSample | None


def count_partition_features(rows: Rows, sample_size: int | None, seed: int, index: int):
    features, counts = np.unique(rows.indices, return_counts=True)
    classes = np.zeros(0) if rows.labels is None else np.unique(rows.labels)
    sample = None
    if sample_size is not None:
        # Keys drawn per partition: a uniform sample whatever the order of the partitions.
        keys = np.random.default_rng([seed, index]).random(rows.n_rows)
        sample = RowSample(sample_size)
        sample.add(rows.indptr, rows.indices, rows.labels, keys)
    return FeatureCounts(features, counts, rows.n_rows, rows.min_index, classes, sample)


def add_feature_counts(a: FeatureCounts, b: FeatureCounts) -> FeatureCounts:
    features, inverse = np.unique(np.concatenate([a.features, b.features]), return_inverse=True)
    counts = np.bincount(inverse, weights=np.concatenate([a.counts, b.counts]))
    classes = np.union1d(a.classes, b.classes)
    check_label_classes(classes, complete=False)
    sample = None if a.sample is None else a.sample.merged(b.sample)
    return FeatureCounts(
        features,
        counts.astype(np.int64),
        a.n_rows + b.n_rows,
        min(a.min_index, b.min_index),
        classes,
        sample,
    )


def count_partition_pairs(rows: Rows, kept: Kept, vertex_features, n_features: int, n_jobs):
    indptr, indices, _ = kept.entries(rows)
    return _core.count_pairs(
        aligned(indptr), aligned(indices), aligned(vertex_features), n_features, n_jobs=n_jobs
    )


def add_pair_counts(a, b):
    return _core.merge_pair_counts(*map(aligned, (*a, *b)))


def source_ranges(document_frequency: np.ndarray, n_ranges: int) -> np.ndarray:
    """Cut the vertices into ``n_ranges`` contiguous ranges of about equal pair counts.

    A vertex heads the pairs it makes with the later vertices of its rows, so the rows holding
    it (``document_frequency``, one per vertex) weigh it. Returns the first vertex of every
    range after the first, ascending.
    """
    weight = np.cumsum(document_frequency, dtype=np.float64)
    if len(weight) == 0 or n_ranges <= 1:
        return np.zeros(0, dtype=np.uint64)
    targets = weight[-1] * np.arange(1, n_ranges) / n_ranges
    # Each cut goes before or after the vertex whose weight reaches the target, whichever side
    # is nearer to it; a vertex heavier than a share makes no empty range.
    reaching = np.searchsorted(weight, targets, side="left")
    before = np.where(reaching > 0, weight[np.maximum(reaching - 1, 0)], 0.0)
    after = weight[np.minimum(reaching, len(weight) - 1)]
    starts = np.unique(np.where(targets - before < after - targets, reaching, reaching + 1))
    return starts[(starts > 0) & (starts < len(weight))].astype(np.uint64)


def split_by_source(counts, starts: np.ndarray) -> tuple:
    """Split pair counts (ascending keys ``u << 32 | v``) at the source vertices ``starts``."""
    keys, weights = counts
    cuts = np.searchsorted(keys, starts << np.uint64(32))
    bounds = [0, *cuts.tolist(), len(keys)]
    # Copies, so that no range keeps the whole partition's arrays alive on its worker.
    return tuple(
        (keys[lo:hi].copy(), weights[lo:hi].copy()) for lo, hi in itertools.pairwise(bounds)
    )


def count_partition_values(rows: Rows, encode, kept: Kept, positive_class, sizes, n_jobs):
    counts = _core.ValueCounts(aligned(sizes))
    codes = encode(*kept.entries(rows), rows.n_rows)
    counts.add(codes, rows.labels == positive_class, n_jobs=n_jobs)
    return counts


def add_two_value_counts(a, b):
    """Add up two partial value counts into a new total.

    A task's inputs stay as they were, should the scheduler run it again.
    """
    return added_up([a, b], n_jobs=None)


class DaskPartitions(RowSource):
    """The partitions of a cluster as a row source.

    It holds a delayed ``Rows`` per partition, the width of the feature space when the data
    declares one, and how the indices are based. Pair counts cannot be sharded here: each
    partition's counts are bounded by its rows.
    """

    supports_shards = False

    def __init__(self, parts: list[Delayed], n_features: int | None, zero_based: bool | str):
        self.parts = parts
        self.n_features = n_features
        self.zero_based = zero_based

    @classmethod
    def of(cls, data, y=None, *, zero_based="auto", skip_bad_lines=False) -> DaskPartitions:
        """Split ``data`` (a sparse dask array, or svmlight file paths) into partitions.

        The labels ``y`` of array data are split like its rows.
        """
        if isinstance(data, da.Array):
            check_row_chunks(data)
            blocks = data.to_delayed().ravel()
            label_blocks = [None] * len(blocks)
            if y is not None:
                y = y if isinstance(y, da.Array) else da.from_array(np.asarray(y), chunks=-1)
                if y.shape[0] != data.shape[0]:
                    raise ValueError(f"data has {data.shape[0]} rows but y has {y.shape[0]}")
                label_blocks = y.rechunk((data.chunks[0],)).to_delayed().ravel()
            parts = [
                dask.delayed(array_rows)(block, labels, i)
                for i, (block, labels) in enumerate(zip(blocks, label_blocks, strict=True))
            ]
            return cls(parts, int(data.shape[1]), True)
        if isinstance(data, (str, os.PathLike)):
            data = [data]
        paths = [os.fspath(p) for p in data]
        if not paths or not all(isinstance(p, str) for p in paths):
            raise TypeError(
                "data must be a dask array of sparse row blocks or a list of file paths"
            )
        if y is not None:
            raise ValueError("svmlight files carry their labels; y must be None")
        for index, path in enumerate(paths):
            if not os.path.exists(path):
                raise FileNotFoundError(f"partition {index}: {path} does not exist")
        parts = [
            dask.delayed(file_rows, pure=True)(path, i, skip_bad_lines)
            for i, path in enumerate(paths)
        ]
        return cls(parts, None, zero_based)

    def count_features(self, fit, *, labels, sample_size, seed, n_jobs) -> FirstPass:
        counted = [
            dask.delayed(count_partition_features)(part, sample_size, seed, i)
            for i, part in enumerate(self.parts)
        ]
        totals = gathered(counted, add_feature_counts, "feature counts")
        seen = int(totals.features[-1]) + 1 if len(totals.features) else 0
        width = self.n_features if self.n_features is not None else seen
        document_frequency = np.zeros(max(width, seen), dtype=np.int64)
        document_frequency[totals.features] = totals.counts
        fit.add_document_frequency(document_frequency, totals.n_rows)
        return FirstPass(
            n_rows=totals.n_rows,
            non_zeros=int(totals.counts.sum()),
            min_index=totals.min_index,
            classes=totals.classes,
            sample=totals.sample,
        )

    def bound_pairs(self, fit, kept, n_jobs) -> None:
        raise ValueError("pair bounds are not counted on a cluster")

    def count_pairs(self, fit, kept, stage, n_jobs) -> None:
        # Read once: the engine builds the array anew at every read.
        vertex_features = fit.vertex_features
        shared_vertices, shared = dask.delayed(vertex_features), dask.delayed(kept)
        counted = [
            dask.delayed(count_partition_pairs)(
                part, shared, shared_vertices, fit.n_features, n_jobs
            )
            for part in self.parts
        ]
        # Each partition's counts are cut by source vertex, and every range is merged across
        # the partitions by a tree of its own: a merge holds one range of eight partitions,
        # not all of their pairs, and the ranges are merged on different workers at once.
        vertex_frequency = fit.document_frequency[vertex_features]
        starts = source_ranges(vertex_frequency, min(len(self.parts), len(vertex_frequency)))
        n_ranges = len(starts) + 1
        if n_ranges == 1:
            split = [(part,) for part in counted]
        else:
            split = [dask.delayed(split_by_source, nout=n_ranges)(c, starts) for c in counted]
        combine = functools.partial(functools.reduce, add_pair_counts)
        ranges = [merged([part[r] for part in split], combine) for r in range(n_ranges)]
        results = list(dask.compute(*ranges))
        log_gathered("pair counts", results)
        while results:
            # Added range by range, each freed once it is in the graph.
            keys, weights = results.pop(0)
            fit.add_pair_counts(aligned(keys), aligned(weights))

    def count_values(self, encode, kept, positive_class, n_folds, seed, sizes, n_jobs) -> list:
        if n_folds != 1:
            raise ValueError("the values of a cluster's rows are counted for one fold only")
        shared_encode, shared_kept = dask.delayed(encode), dask.delayed(kept)
        counted = [
            dask.delayed(count_partition_values)(
                part, shared_encode, shared_kept, positive_class, sizes, n_jobs
            )
            for part in self.parts
        ]
        return [gathered(counted, add_two_value_counts, "value counts")]
