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
import logging
import os
import pickle
from collections.abc import Callable, Iterator
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

#: The bytes one counted pair costs a task at its peak, at most: a count holds the counter's
#: running arrays, the spare ones it merges into and a batch's counts (8 bytes each), then the
#: pairs as keys and weights (12 bytes); a merge, its inputs and its output (12 bytes each).
BYTES_PER_TASK_PAIR = 40

#: Partitions are held on the workers between passes when their input (svmlight text, about
#: the size of the rows once read) takes at most this part of the workers' memory limits.
HELD_SHARE = 0.25

#: A task plans to use at most this part (a quarter) of its thread's share of a worker's memory.
TASK_SHARE = 4

logger = logging.getLogger("chromatic_learning.dask")


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


def gathered(parts: list[Delayed], combine: Callable, what: str):
    """Merge all of ``parts`` on the workers (``merged``) and bring the result to the client.

    ``combine`` merges a list of results, in order. The size of what reaches the client is
    logged to the ``chromatic_learning.dask`` logger.
    """
    result = merged(parts, combine).compute()
    log_gathered(what, result)
    return result


def distributed_client():
    """Return the client of the distributed cluster in use, or None (Dask's local schedulers)."""
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        return None


def workers_of(client) -> list[dict]:
    """Return what the scheduler knows of each worker of ``client``'s cluster."""
    return list(client.scheduler_info(n_workers=-1)["workers"].values())


def in_order(parts) -> Iterator:
    """Compute ``parts`` (delayed) at once and yield their results in order.

    On a distributed cluster each result leaves the workers as soon as it is ready, and is
    held by the client only until those before it are yielded.
    """
    parts = list(parts)
    client = distributed_client()
    if client is None:
        yield from dask.compute(*parts)
        return
    from distributed import as_completed

    futures = client.compute(parts)
    position = {future.key: i for i, future in enumerate(futures)}
    ready, following = {}, 0
    for future, result in as_completed(futures, with_results=True):
        ready[position[future.key]] = result
        future.release()
        while following in ready:
            yield ready.pop(following)
            following += 1


def held_on_workers(parts: list[Delayed], input_bytes: int) -> list[Delayed]:
    """Return ``parts`` held on the workers of a distributed cluster, when they fit.

    They fit when their input takes at most ``HELD_SHARE`` of the workers' memory limits; else
    they are returned as they are, to be computed anew by every pass.
    """
    client = distributed_client()
    if client is None:
        return parts
    limits = [worker["memory_limit"] for worker in workers_of(client)]
    if not limits or not all(limits) or input_bytes > HELD_SHARE * sum(limits):
        return parts
    return list(client.persist(parts))


def log_gathered(what: str, result) -> None:
    if logger.isEnabledFor(logging.INFO):
        logger.info("gathered %s: %d bytes", what, len(pickle.dumps(result, protocol=5)))


@dataclass(frozen=True)
class FeatureCounts:
    """Rows holding each seen feature (ascending ids), and what else the first pass learns.

    ``pairs`` bounds the pairs each feature is in: the other entries of the rows holding it.
    ``partition_pairs`` bounds the pairs of each partition, in order: those of its rows.
    """

    features: np.ndarray
    counts: np.ndarray
    pairs: np.ndarray
    n_rows: int
    min_index: int
    classes: np.ndarray
    sample: RowSample | None
    partition_pairs: tuple[int, ...]


def feature_totals(indices: np.ndarray, weights: np.ndarray, width: int) -> tuple:
    """Return the features seen in ``indices`` (ascending), how often, and their weights' sums.

    Counted over the whole index space when it is not much wider than the entries (a tenth of
    the time of sorting them), else by sorting them.
    """
    if width <= 4 * len(indices):
        counts = np.bincount(indices, minlength=width)
        features = np.flatnonzero(counts)
        totals = np.bincount(indices, weights=weights, minlength=width)[features]
        return features, counts[features], totals
    features, inverse, counts = np.unique(indices, return_inverse=True, return_counts=True)
    totals = np.bincount(inverse.ravel(), weights=weights, minlength=len(features))
    return features, counts, totals


def count_partition_features(rows: Rows, sample_size: int | None, seed: int, index: int):
    lengths = np.diff(rows.indptr)
    # The pairs a feature is in: the other entries of the rows holding it.
    others = np.repeat(lengths - 1, lengths)
    features, counts, pairs = feature_totals(rows.indices, others, rows.width)
    row_pairs = int((lengths * (lengths - 1) // 2).sum())
    classes = np.zeros(0) if rows.labels is None else np.unique(rows.labels)
    sample = None
    if sample_size is not None:
        # Keys drawn per partition: a uniform sample whatever the order of the partitions.
        keys = np.random.default_rng([seed, index]).random(rows.n_rows)
        sample = RowSample(sample_size)
        sample.add(rows.indptr, rows.indices, rows.labels, keys)
    return FeatureCounts(
        features,
        counts,
        pairs.astype(np.int64),
        rows.n_rows,
        rows.min_index,
        classes,
        sample,
        (row_pairs,),
    )


def add_feature_counts(parts: list[FeatureCounts]) -> FeatureCounts:
    """Add up the first passes of consecutive partitions, in order, in one pass."""
    features, inverse = np.unique(np.concatenate([p.features for p in parts]), return_inverse=True)
    counts = np.bincount(inverse, weights=np.concatenate([p.counts for p in parts]))
    pairs = np.bincount(inverse, weights=np.concatenate([p.pairs for p in parts]))
    classes = functools.reduce(np.union1d, [p.classes for p in parts])
    check_label_classes(classes, complete=False)
    samples = [p.sample for p in parts]
    sample = None if samples[0] is None else functools.reduce(RowSample.merged, samples)
    return FeatureCounts(
        features,
        counts.astype(np.int64),
        pairs.astype(np.int64),
        sum(p.n_rows for p in parts),
        min(p.min_index for p in parts),
        classes,
        sample,
        sum((p.partition_pairs for p in parts), ()),
    )


def count_partition_pairs(
    rows: Rows, kept: Kept, vertex_features, n_features: int, bounds: list[int], n_jobs
) -> list:
    """Count a partition's pairs whose smaller vertex is in ``bounds[0]..bounds[-1]``.

    Returns one count per range between consecutive ``bounds``.
    """
    indptr, indices, _ = kept.entries(rows)
    return _core.count_pairs(
        aligned(indptr),
        aligned(indices),
        aligned(vertex_features),
        n_features,
        bounds=bounds,
        n_jobs=n_jobs,
    )


def add_pair_counts(counts: list) -> tuple:
    """Merge pair counts in one pass."""
    return _core.merge_pair_counts([tuple(map(aligned, c)) for c in counts])


def source_ranges(bounds: np.ndarray, n_ranges: int, max_pairs: int | None = None) -> np.ndarray:
    """Cut the vertices into contiguous ranges of at most ``max_pairs`` pairs.

    The ranges also hold at most an ``n_ranges``-th of the pairs, by the bound on the pairs
    each vertex heads (``bounds``); a vertex heavier than that is a range of its own. Returns
    the first vertex of every range after the first, ascending.
    """
    weight = np.cumsum(bounds, dtype=np.float64)
    total = float(weight[-1]) if len(weight) else 0.0
    share = total / max(n_ranges, 1)
    if max_pairs is not None:
        share = min(share, max_pairs)
    starts, start = [], 0
    if share <= 0:
        return np.zeros(0, dtype=np.uint64)
    while start < len(weight):
        before = weight[start - 1] if start else 0.0
        # The range runs up to the last vertex at which it still holds at most a share.
        end = max(int(np.searchsorted(weight, before + share, side="right")), start + 1)
        if end < len(weight):
            starts.append(end)
        start = end
    return np.array(starts, dtype=np.uint64)


def source_groups(range_pairs: np.ndarray, partition_pairs: int, max_pairs: int | None) -> list:
    """Group the ranges (of ``range_pairs`` pairs at most) that one task counts in a partition.

    A partition of at most ``max_pairs`` pairs is counted whole; a larger one, in consecutive
    ranges of at most ``max_pairs`` pairs together. Returns ``(first, stop)`` range numbers.
    """
    if max_pairs is None or partition_pairs <= max_pairs:
        return [(0, len(range_pairs))]
    groups, first, held = [], 0, 0
    for r, pairs in enumerate(range_pairs):
        if r > first and held + pairs > max_pairs:
            groups.append((first, r))
            first, held = r, 0
        held += pairs
    groups.append((first, len(range_pairs)))
    return groups


def task_pairs() -> int | None:
    """Return the pairs one task may count, or None without a distributed client or limits.

    That is a quarter of the memory of a thread of the smallest worker, at
    ``BYTES_PER_TASK_PAIR`` each: the rest holds the finished counts that wait to be merged
    (until the worker spills them to disk) and what its transfers bring in.
    """
    client = distributed_client()
    if client is None:
        return None
    workers = workers_of(client)
    shares = [w["memory_limit"] / max(w["nthreads"], 1) for w in workers if w["memory_limit"]]
    return int(min(shares) / TASK_SHARE / BYTES_PER_TASK_PAIR) if shares else None


def count_partition_values(rows: Rows, encode, kept: Kept, positive_class, sizes, n_jobs):
    counts = _core.ValueCounts(aligned(sizes))
    codes = encode(*kept.entries(rows), rows.n_rows)
    counts.add(codes, rows.labels == positive_class, n_jobs=n_jobs)
    return counts


class DaskPartitions(RowSource):
    """The partitions of a cluster as a row source.

    It holds a delayed ``Rows`` per partition, the width of the feature space when the data
    declares one, how the indices are based, and the bytes of the files read (None for other
    data). Pair counts are not sharded by passes here: they are counted and merged by ranges of
    source vertices planned for the workers' memory.
    """

    supports_shards = False

    def __init__(
        self,
        parts: list[Delayed],
        n_features: int | None,
        zero_based: bool | str,
        file_bytes: int | None = None,
    ):
        self.parts = parts
        self.n_features = n_features
        self.zero_based = zero_based
        self.file_bytes = file_bytes

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
        return cls(parts, None, zero_based, sum(os.path.getsize(p) for p in paths))

    def count_features(self, fit, *, labels, sample_size, seed, n_jobs) -> FirstPass:
        if self.file_bytes is not None:
            # Files are read once, by this pass, and held for the later ones when they fit.
            self.parts = held_on_workers(self.parts, self.file_bytes)
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
        # Kept to plan the pair counts, which come after the vertices are known.
        self.feature_pairs = np.zeros(len(document_frequency), dtype=np.int64)
        self.feature_pairs[totals.features] = totals.pairs
        self.partition_pairs = totals.partition_pairs
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
        # The pairs a vertex heads: at most those it is in, and one with each later vertex.
        n_vertices = len(vertex_features)
        bounds = np.minimum(
            self.feature_pairs[vertex_features + kept.shift],
            np.arange(n_vertices - 1, -1, -1, dtype=np.int64),
        )
        # Every range is merged across the partitions by a tree of its own, on different
        # workers at once: a task holds one range of eight partitions, not all of their pairs.
        # A partition whose pairs would not fit in a task is counted a group of ranges at a time.
        max_pairs = task_pairs()
        starts = source_ranges(bounds, min(len(self.parts), n_vertices), max_pairs)
        edges = np.array([0, *starts.tolist(), n_vertices], dtype=np.int64)
        range_pairs = np.add.reduceat(bounds, edges[:-1]) if n_vertices else np.zeros(1)
        shared_vertices, shared = dask.delayed(vertex_features), dask.delayed(kept)
        pieces = [[] for _ in range(len(edges) - 1)]
        for part, partition_pairs in zip(self.parts, self.partition_pairs, strict=True):
            for first, stop in source_groups(range_pairs, partition_pairs, max_pairs):
                counted = dask.delayed(count_partition_pairs, nout=stop - first)(
                    part,
                    shared,
                    shared_vertices,
                    fit.n_features,
                    edges[first : stop + 1].tolist(),
                    n_jobs,
                )
                for r in range(first, stop):
                    pieces[r].append(counted[r - first])
        gathered_bytes = 0
        merges = (merged(range_pieces, add_pair_counts) for range_pieces in pieces)
        for keys, weights in in_order(merges):
            gathered_bytes += keys.nbytes + weights.nbytes
            fit.add_pair_counts(aligned(keys), aligned(weights))
        logger.info("gathered pair counts: %d bytes", gathered_bytes)

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
        # Added up into a new total: a task's inputs stay as they were, should it run again.
        return [gathered(counted, functools.partial(added_up, n_jobs=None), "value counts")]
