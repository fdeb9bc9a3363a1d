"""Fitting and encoding svmlight files chunk by chunk, in memory bounded by the model and one
chunk: a first pass over the files counts the features, a second counts their pairs, then the
graph is colored; encoding is one more pass. With a budget (``ChromaticCompressor``), a third
pass counts the labels of every code value, and the buckets are cut from those counts."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import _core
from ._input import effective_n_jobs, memory_bytes
from .compression import ChromaticCompressor, frequent_features
from .encoder import ChromaticEncoder
from .svmlight import DEFAULT_CHUNK_BYTES, SvmlightChunk, iter_chunks

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class StreamReport:
    """What a pass over the files found."""

    rows: int
    non_zeros: int
    skipped_lines: int
    zero_based: bool
    #: Passes over the rows that counted the graph: more than one when sharded by a memory limit.
    graph_passes: int = 1


@dataclass(frozen=True)
class CrossFitTables:
    """How to encode the training rows of a streamed compressor fit without their own labels:
    the training row numbered ``r`` (across the training files, in order) is in fold
    ``row_folds(r, ...)``, and its code values are bucketed by ``tables[fold]``, the buckets of
    the values as rated by the other folds (values held by at least ``in_sample_rows`` rows
    keep their all-row bucket, as in ``SubmodularCompressor.fit_transform``)."""

    seed: int
    tables: list


def row_folds(first_row: int, n_rows: int, n_folds: int, seed: int) -> np.ndarray:
    """The fold of rows ``first_row .. first_row + n_rows``: a hash of the row number and the
    seed (SplitMix64), the same in every pass and for any chunking."""
    z = np.arange(first_row, first_row + n_rows, dtype=np.uint64)
    z = z + np.uint64((seed * 0x9E3779B97F4A7C15) % 2**64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z % np.uint64(n_folds)).astype(np.int64)


def _chunks(paths, chunk_bytes, skip_bad_lines, n_jobs) -> Iterator[SvmlightChunk]:
    for path in paths:
        yield from iter_chunks(
            path, chunk_bytes=chunk_bytes, skip_bad_lines=skip_bad_lines, n_jobs=n_jobs
        )


def resolve_zero_based(zero_based: bool | str, min_index: int) -> bool:
    if zero_based == "auto":
        return bool(min_index == 0)
    if zero_based not in (True, False):
        raise ValueError(f"zero_based must be True, False or 'auto', got {zero_based!r}")
    if not zero_based and min_index == 0:
        raise ValueError("index 0 found, but the indices were declared 1-based")
    return bool(zero_based)


def fit_files(
    encoder: ChromaticEncoder,
    paths: Sequence[str | os.PathLike],
    *,
    zero_based: bool | str = "auto",
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    skip_bad_lines: bool = False,
    progress: Progress | None = None,
) -> StreamReport:
    """Fit ``encoder`` (its parameters as given) on the rows of svmlight ``paths``, streaming
    them twice. Equal to ``encoder.fit(load_svmlight(paths).X)``."""
    threads = effective_n_jobs(encoder.n_jobs)
    stream = _core.StreamingFit(**encoder._engine_params())
    rows = non_zeros = skipped = 0
    min_index = np.iinfo(np.int64).max
    for chunk in _chunks(paths, chunk_bytes, skip_bad_lines, threads):
        width = int(chunk.indices.max()) + 1 if len(chunk.indices) else 0
        stream.add_statistics(chunk.indptr, chunk.indices, width, n_jobs=threads)
        rows += chunk.n_rows
        non_zeros += len(chunk.indices)
        skipped += chunk.skipped_lines
        min_index = min(min_index, chunk.min_index)
        if progress:
            progress("counting features", chunk.n_rows)
    zero_based = resolve_zero_based(zero_based, min_index)
    shift = 0 if zero_based else 1
    if shift:
        stream.drop_leading_features(shift)

    def graph_rows():
        for chunk in _chunks(paths, chunk_bytes, skip_bad_lines, threads):
            yield chunk.indptr, chunk.indices - shift

    n_features = stream.n_features
    graph_passes = _color_streamed(encoder, stream, graph_rows, threads, progress)
    encoder.n_features_in_ = n_features
    return StreamReport(rows, non_zeros, skipped, zero_based, graph_passes)


def _color_streamed(encoder, stream, graph_rows, threads, progress) -> int:
    """The graph passes over ``graph_rows()`` (CSR structure of every chunk, over the
    statistics' features), then the coloring into ``encoder``. With the encoder's
    ``memory_limit``, a first pass bounds the pairs and the graph is counted shard by shard,
    one pass each. Returns the number of graph passes."""
    limit = memory_bytes(encoder.memory_limit)
    if limit is not None:
        for indptr, indices in graph_rows():
            stream.add_pair_bounds(indptr, indices, n_jobs=threads)
            if progress:
                progress("bounding pairs", len(indptr) - 1)
        stream.plan_shards(limit, n_jobs=threads)
    n_shards = 0
    while n_shards == 0 or not stream.graph_complete:
        n_shards += 1
        stage = "counting pairs" + (f" (pass {n_shards})" if limit is not None else "")
        for indptr, indices in graph_rows():
            stream.add_edges(indptr, indices, n_jobs=threads)
            if progress:
                progress(stage, len(indptr) - 1)
        stream.end_shard(n_jobs=threads)
    if progress:
        progress("coloring", 0)
    encoder._set_fitted(stream.finish(n_jobs=threads))
    return n_shards


def _kept_entries(
    indptr: np.ndarray, indices: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """CSR structure ``(indptr, indices)`` with only the entries where ``keep`` holds."""
    if keep.all():
        return indptr, indices
    n_rows = len(indptr) - 1
    row_of = np.repeat(np.arange(n_rows), np.diff(indptr))
    lengths = np.bincount(row_of[keep], minlength=n_rows)
    return np.concatenate(([0], np.cumsum(lengths))).astype(np.int64), indices[keep]


def _known_rows(chunk: SvmlightChunk, shift: int, n_features: int) -> tuple[sp.csr_matrix, int]:
    """A chunk's rows as binary CSR over the model's ``n_features``, and how many entries lay
    beyond them (features never seen in fit, ignored like them)."""
    indices = chunk.indices - shift
    known = indices < n_features
    indptr, indices = _kept_entries(chunk.indptr, indices, known)
    X = sp.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), indices, indptr),
        shape=(chunk.n_rows, n_features),
    )
    return X, len(known) - len(indices)


def model_rows(model, path, zero_based, chunk_bytes, skip_bad_lines):
    """``(chunk, X, unknown)`` for each chunk of ``path``: ``X`` its binary rows over the
    model's features, ``unknown`` how many entries lay beyond them."""
    shift = 0 if zero_based else 1
    for chunk in iter_chunks(
        path,
        chunk_bytes=chunk_bytes,
        skip_bad_lines=skip_bad_lines,
        n_jobs=effective_n_jobs(model.n_jobs),
    ):
        if not zero_based and chunk.min_index == 0:
            raise ValueError(f"{os.fspath(path)}: index 0 found in a 1-based file")
        X, unknown = _known_rows(chunk, shift, model.n_features_in_)
        yield chunk, X, unknown


def iter_encoded(
    encoder: ChromaticEncoder,
    path: str | os.PathLike,
    *,
    zero_based: bool,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    skip_bad_lines: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray, int, int]]:
    """``(labels, codes, collisions, unseen)`` for each chunk of ``path``. Indices beyond the
    model's features are features never seen in fit, and are ignored like them."""
    for chunk, X, unknown in model_rows(encoder, path, zero_based, chunk_bytes, skip_bad_lines):
        codes = encoder.transform(X)
        yield chunk.labels, codes, encoder.last_collisions_, encoder.last_unseen_ + unknown


def iter_compressed(
    compressor: ChromaticCompressor,
    path: str | os.PathLike,
    *,
    zero_based: bool,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    skip_bad_lines: bool = False,
    cross_fit: CrossFitTables | None = None,
    first_row: int = 0,
) -> Iterator[tuple[np.ndarray, sp.csr_matrix]]:
    """``(labels, columns)`` for each chunk of ``path``: the compressor's output (binary CSR).
    With ``cross_fit`` (from ``fit_compressor_files``), the rows are training rows numbered
    from ``first_row``, encoded without their own labels."""
    row = first_row
    for chunk, X, _ in model_rows(compressor, path, zero_based, chunk_bytes, skip_bad_lines):
        if cross_fit is None or compressor.encoder_ is None:
            columns = compressor.transform(X)
        else:
            columns = _cross_fitted(compressor, X, cross_fit, row)
        row += chunk.n_rows
        yield chunk.labels, columns


def _cross_fitted(compressor, X, cross_fit: CrossFitTables, first_row: int) -> sp.csr_matrix:
    codes = compressor.encoder_.transform(X)
    folds = row_folds(first_row, X.shape[0], len(cross_fit.tables), cross_fit.seed)
    blocks, order = [], []
    for fold, table in enumerate(cross_fit.tables):
        rows = np.flatnonzero(folds == fold)
        blocks.append(compressor.compressor_._encode(np.ascontiguousarray(codes[rows]), table))
        order.append(rows)
    inverse = np.empty(X.shape[0], dtype=np.int64)
    inverse[np.concatenate(order)] = np.arange(X.shape[0])
    tail = sp.vstack(blocks, format="csr")[inverse]
    return compressor._assemble(X, compressor.frequent_features_, tail)


class _BottomSample:
    """A uniform sample of at most ``size`` rows: the rows with the smallest random keys
    (bottom-k sampling), kept as CSR with their labels. The samples of disjoint sets of rows
    merge into a sample of their union."""

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
        self._append(rows[take], labels[take], keys[take])

    def merged(self, other: _BottomSample) -> _BottomSample:
        """The sample of both, as a new sample (partial results stay as they were)."""
        union = _BottomSample(self.size)
        for sample in (self, other):
            union._append(sample.rows, sample.labels, sample.keys)
        return union

    def _append(self, rows, labels, keys) -> None:
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


def _choose_frequent(compressor, stream, sample, classes, shift: int, seed: int):
    """The features the compressor keeps apart (chosen on ``sample`` when it is given, else
    its ``n_frequent`` most frequent ones) and the selection scores."""
    if sample is not None:
        B = sample.rows[:, shift:]
        B.resize((B.shape[0], stream.n_features))
        y = (sample.labels == classes[1]).astype(np.int64)
        n_frequent, scores = compressor._choose_n_frequent(B, y, seed)
    else:
        n_frequent, scores = int(min(compressor.n_frequent, compressor.budget)), None
    return frequent_features(stream.document_frequency, n_frequent), scores


def _fit_value_buckets(bucketer, total, encoder, classes, threads) -> None:
    """The buckets of the tail compressor, from the label counts ``total`` of every code
    value."""
    fitted = total.fit_buckets(**bucketer._bucket_params(), n_jobs=threads)
    bucketer._set_fitted(fitted, classes, encoder.field_dims_.astype(np.int64))


def _set_compressor_parts(compressor, classes, n_features, scores, frequent, encoder, bucketer):
    compressor.classes_ = classes
    compressor.n_features_in_ = n_features
    compressor.selection_scores_ = scores
    compressor._set_parts(frequent, encoder if bucketer is not None else None, bucketer)


def fit_compressor_files(
    compressor: ChromaticCompressor,
    paths: Sequence[str | os.PathLike],
    *,
    zero_based: bool | str = "auto",
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    skip_bad_lines: bool = False,
    progress: Progress | None = None,
    cross_fit: bool = False,
) -> tuple[StreamReport, CrossFitTables | None]:
    """Fit ``compressor`` (its parameters as given) on the rows and binary labels of svmlight
    ``paths``, streaming them three times: features (and, with ``n_frequent="auto"``, a
    uniform sample of ``selection_rows`` rows to choose the split on), feature pairs, then the
    labels of every code value. With a fixed ``n_frequent``, equal to
    ``compressor.fit(X, y)`` on the same rows. With ``cross_fit``, also returns the tables
    that encode the training rows without their own labels (see ``iter_compressed``)."""
    compressor._validate_params()
    threads = effective_n_jobs(compressor.n_jobs)
    seed = compressor._seed()
    auto = compressor.n_frequent == "auto"
    sample = _BottomSample(int(compressor.selection_rows)) if auto else None
    rng = np.random.default_rng(seed)
    encoder = compressor._tail_encoder(seed)
    stream = _core.StreamingFit(**encoder._engine_params())
    rows = non_zeros = skipped = 0
    min_index = np.iinfo(np.int64).max
    classes = np.zeros(0)
    for chunk in _chunks(paths, chunk_bytes, skip_bad_lines, threads):
        width = int(chunk.indices.max()) + 1 if len(chunk.indices) else 0
        stream.add_statistics(chunk.indptr, chunk.indices, width, n_jobs=threads)
        classes = np.union1d(classes, chunk.labels)
        if len(classes) > 2:
            raise ValueError(f"the labels must be binary (two classes); found {classes[:5]}...")
        if sample is not None:
            keys = rng.random(chunk.n_rows)
            sample.add(chunk.indptr, chunk.indices, chunk.labels, keys)
        rows += chunk.n_rows
        non_zeros += len(chunk.indices)
        skipped += chunk.skipped_lines
        min_index = min(min_index, chunk.min_index)
        if progress:
            progress("counting features", chunk.n_rows)
    if len(classes) != 2:
        raise ValueError(f"the labels must be binary (two classes); found {classes}")
    zero_based = resolve_zero_based(zero_based, min_index)
    shift = 0 if zero_based else 1
    if shift:
        stream.drop_leading_features(shift)
    n_features = stream.n_features
    frequent, scores = _choose_frequent(compressor, stream, sample, classes, shift, seed)
    n_tail = int(compressor.budget) - len(frequent)
    bucketer = tables = None
    graph_passes = 0
    if n_tail > 0:
        bucketer = compressor._tail_compressor(n_tail, seed)
        is_frequent = np.zeros(n_features, dtype=bool)
        is_frequent[frequent] = True
        stream.forget_features(frequent)

        def graph_rows():
            # The frequent features keep their own columns: they stay out of the graph.
            for chunk in _chunks(paths, chunk_bytes, skip_bad_lines, threads):
                indices = chunk.indices - shift
                yield _kept_entries(chunk.indptr, indices, ~is_frequent[indices])

        graph_passes = _color_streamed(encoder, stream, graph_rows, threads, progress)
        encoder.n_features_in_ = n_features
        reading = {
            "zero_based": zero_based,
            "chunk_bytes": chunk_bytes,
            "skip_bad_lines": skip_bad_lines,
        }
        tables = _fit_buckets_streaming(
            bucketer, encoder, classes, paths, reading, progress, cross_fit, seed
        )
    _set_compressor_parts(compressor, classes, n_features, scores, frequent, encoder, bucketer)
    report = StreamReport(rows, non_zeros, skipped, zero_based, graph_passes)
    return report, tables if cross_fit else None


def _fit_buckets_streaming(
    bucketer, encoder, classes, paths, reading: dict, progress, cross_fit, seed
) -> CrossFitTables | None:
    """Third pass (``reading``: the options of ``iter_encoded``): the label counts of every code
    value (per fold with ``cross_fit``), then the buckets from their sum."""
    threads = effective_n_jobs(encoder.n_jobs)
    sizes = encoder.field_dims_.astype(np.int64)
    n_folds = int(bucketer.cv) if cross_fit else 1
    counts = [_core.ValueCounts(sizes) for _ in range(n_folds)]
    first_row = 0
    for path in paths:
        for labels, codes, _, _ in iter_encoded(encoder, path, **reading):
            positive = labels == classes[1]
            folds = row_folds(first_row, len(labels), n_folds, seed)
            for fold, fold_counts in enumerate(counts):
                rows = np.flatnonzero(folds == fold) if n_folds > 1 else slice(None)
                fold_counts.add(np.ascontiguousarray(codes[rows]), positive[rows], n_jobs=threads)
            first_row += len(labels)
            if progress:
                progress("counting values", len(labels))
    total = _core.ValueCounts(sizes)
    for fold_counts in counts:
        total.merge(fold_counts)
    _fit_value_buckets(bucketer, total, encoder, classes, threads)
    if not cross_fit:
        return None
    value_rows = total.value_rows
    tables = []
    for fold in range(n_folds):
        others = _core.ValueCounts(sizes)
        for other, fold_counts in enumerate(counts):
            if other != fold:
                others.merge(fold_counts)
        table = others.assign_buckets(
            bucketer.boundary_offsets_,
            bucketer.boundaries_,
            bucketer.bucket_outputs_,
            smoothing=float(bucketer.smoothing),
        )
        if bucketer.in_sample_rows is not None:
            table = np.where(
                value_rows >= bucketer.in_sample_rows, bucketer.output_of_value_, table
            )
        tables.append(table.astype(np.int32))
    return CrossFitTables(seed, tables)
