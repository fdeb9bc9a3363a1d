"""Fitting and encoding on a Dask cluster, with the same result as on one machine.

The fit is a map-reduce: every partition counts its features (then, over the vertices those
counts give, its feature pairs) in the engine, and the partial counts are added up in a tree
reduction on the workers, so what reaches the client is proportional to the features and the
graph, never to the rows. The client colors the graph once; ``transform`` then maps the fitted
model over the partitions. The models are the ordinary ``ChromaticEncoder`` and
``ChromaticCompressor``, usable without Dask.

Data is a ``dask.array`` whose chunks are scipy sparse matrices, chunked by rows only (for
example ``da.from_array(X, chunks=(100_000, -1), asarray=False)``), or a list of svmlight
files, one partition each. Requires the ``dask`` extra (``pip install ".[dask]"`` from a checkout).
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass

import dask
import dask.array as da
import numpy as np
import scipy.sparse as sp
from dask.delayed import Delayed
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from . import _core
from ._input import aligned, effective_n_jobs, presence_csr
from .compression import ChromaticCompressor, binary_labels
from .encoder import ChromaticEncoder
from .streaming import (
    _BottomSample,
    _choose_frequent,
    _fit_value_buckets,
    _kept_entries,
    _known_rows,
    _set_compressor_parts,
    resolve_zero_based,
)
from .svmlight import iter_chunks, joined_chunks

__all__ = ["fit", "fit_compressor", "transform"]

#: Partial results merged by one task of the tree reductions.
SPLIT_EVERY = 8

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Rows:
    """One partition's binary rows (CSR structure, indices as read) and labels."""

    indptr: np.ndarray
    indices: np.ndarray
    labels: np.ndarray | None
    min_index: int

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1


@dataclass(frozen=True)
class _Partitions:
    """Where the rows come from: a delayed ``_Rows`` per partition, the width of the feature
    space when the data declares one, and how to read the indices."""

    parts: list[Delayed]
    n_features: int | None
    zero_based: bool | str


def _partition_error(index: int, error: Exception) -> Exception:
    """``error`` (a ValueError or an OSError) with the partition it came from."""
    kind = OSError if isinstance(error, OSError) else ValueError
    return kind(f"partition {index}: {error}")


def _array_rows(block, labels, index: int) -> _Rows:
    try:
        B = presence_csr(block)
    except ValueError as error:
        raise _partition_error(index, error) from error
    if labels is not None and len(labels) != B.shape[0]:
        raise ValueError(f"partition {index}: {B.shape[0]} rows but {len(labels)} labels")
    indptr, indices = B.indptr.astype(np.int64), B.indices.astype(np.int64)
    min_index = int(indices.min()) if len(indices) else np.iinfo(np.int64).max
    return _Rows(indptr, indices, None if labels is None else np.asarray(labels), min_index)


def _file_rows(path: str, index: int, skip_bad_lines: bool) -> _Rows:
    try:
        chunks = list(iter_chunks(path, skip_bad_lines=skip_bad_lines, n_jobs=1))
    except (OSError, ValueError) as error:
        # The reader's message names the file (and the line).
        raise _partition_error(index, error) from error
    rows = joined_chunks(chunks)
    return _Rows(rows.indptr, rows.indices, rows.labels, int(rows.min_index))


def _check_row_chunks(data: da.Array) -> None:
    if data.ndim != 2:
        raise ValueError(f"data must be 2-D, got {data.ndim} dimensions")
    if data.numblocks[1] != 1:
        raise ValueError(
            "data must be chunked by rows only (one chunk across the columns), got "
            f"{data.numblocks[1]} column chunks; rechunk it with .rechunk({{1: -1}})"
        )


def _partitions(data, y=None, *, zero_based="auto", skip_bad_lines=False) -> _Partitions:
    """``data`` as partitions, with the labels ``y`` of array data split like its rows."""
    if isinstance(data, da.Array):
        _check_row_chunks(data)
        blocks = data.to_delayed().ravel()
        label_blocks = [None] * len(blocks)
        if y is not None:
            y = y if isinstance(y, da.Array) else da.from_array(np.asarray(y), chunks=-1)
            if y.shape[0] != data.shape[0]:
                raise ValueError(f"data has {data.shape[0]} rows but y has {y.shape[0]}")
            label_blocks = y.rechunk((data.chunks[0],)).to_delayed().ravel()
        parts = [
            dask.delayed(_array_rows)(block, labels, i)
            for i, (block, labels) in enumerate(zip(blocks, label_blocks, strict=True))
        ]
        return _Partitions(parts, int(data.shape[1]), True)
    if isinstance(data, (str, os.PathLike)):
        data = [data]
    paths = [os.fspath(p) for p in data]
    if not paths or not all(isinstance(p, str) for p in paths):
        raise TypeError("data must be a dask array of sparse row blocks or a list of file paths")
    if y is not None:
        raise ValueError("svmlight files carry their labels; y must be None")
    for index, path in enumerate(paths):
        if not os.path.exists(path):
            raise FileNotFoundError(f"partition {index}: {path} does not exist")
    parts = [
        dask.delayed(_file_rows, pure=True)(path, i, skip_bad_lines) for i, path in enumerate(paths)
    ]
    return _Partitions(parts, None, zero_based)


def _gathered(parts: list[Delayed], merge: Callable, what: str):
    """The merge of all of ``parts``, computed on the workers in a tree of merges of
    ``SPLIT_EVERY`` results each; only the final result reaches the client (its size is
    logged to the ``chromatic.dask`` logger)."""
    if not parts:
        raise ValueError("data has no partitions")
    while len(parts) > 1:
        parts = [
            dask.delayed(functools.reduce)(merge, parts[i : i + SPLIT_EVERY])
            for i in range(0, len(parts), SPLIT_EVERY)
        ]
    result = parts[0].compute()
    if logger.isEnabledFor(logging.INFO):
        logger.info("gathered %s: %d bytes", what, len(pickle.dumps(result, protocol=5)))
    return result


@dataclass(frozen=True)
class _FeatureCounts:
    """Rows holding each seen feature (ascending ids), and what else the first pass learns."""

    features: np.ndarray
    counts: np.ndarray
    n_rows: int
    min_index: int
    classes: np.ndarray
    sample: _BottomSample | None


def _count_features(rows: _Rows, sample_size: int | None, seed: int, index: int):
    features, counts = np.unique(rows.indices, return_counts=True)
    classes = np.zeros(0) if rows.labels is None else np.unique(rows.labels)
    sample = None
    if sample_size is not None:
        # Keys drawn per partition: a uniform sample whatever the order of the partitions.
        keys = np.random.default_rng([seed, index]).random(rows.n_rows)
        sample = _BottomSample(sample_size)
        sample.add(rows.indptr, rows.indices, rows.labels, keys)
    return _FeatureCounts(features, counts, rows.n_rows, rows.min_index, classes, sample)


def _add_feature_counts(a: _FeatureCounts, b: _FeatureCounts) -> _FeatureCounts:
    features, inverse = np.unique(np.concatenate([a.features, b.features]), return_inverse=True)
    counts = np.bincount(inverse, weights=np.concatenate([a.counts, b.counts]))
    classes = np.union1d(a.classes, b.classes)
    if len(classes) > 2:
        raise ValueError(f"the labels must be binary (two classes); found {classes[:5]}...")
    sample = None if a.sample is None else a.sample.merged(b.sample)
    return _FeatureCounts(
        features,
        counts.astype(np.int64),
        a.n_rows + b.n_rows,
        min(a.min_index, b.min_index),
        classes,
        sample,
    )


def _graph_rows(rows: _Rows, shift: int, is_frequent: np.ndarray | None):
    indices = rows.indices - shift
    if is_frequent is None:
        return rows.indptr, indices
    return _kept_entries(rows.indptr, indices, ~is_frequent[indices])


def _count_pairs(rows, shift, is_frequent, vertex_features, n_features, n_jobs):
    indptr, indices = _graph_rows(rows, shift, is_frequent)
    return _core.count_pairs(
        aligned(indptr), aligned(indices), aligned(vertex_features), n_features, n_jobs=n_jobs
    )


def _add_pair_counts(a, b):
    return _core.merge_pair_counts(*map(aligned, (*a, *b)))


@dataclass(frozen=True)
class _Statistics:
    stream: _core.StreamingFit
    n_features: int
    shift: int
    zero_based: bool
    totals: _FeatureCounts


def _statistics(partitions: _Partitions, stream, sample_size, seed) -> _Statistics:
    """First pass: the feature counts of every partition, added up on the workers."""
    counted = [
        dask.delayed(_count_features)(part, sample_size, seed, i)
        for i, part in enumerate(partitions.parts)
    ]
    totals = _gathered(counted, _add_feature_counts, "feature counts")
    zero_based = resolve_zero_based(partitions.zero_based, totals.min_index)
    shift = 0 if zero_based else 1
    seen = int(totals.features[-1]) + 1 if len(totals.features) else 0
    width = partitions.n_features if partitions.n_features is not None else seen
    document_frequency = np.zeros(max(width, seen), dtype=np.int64)
    document_frequency[totals.features] = totals.counts
    stream.add_document_frequency(document_frequency, totals.n_rows)
    if shift:
        stream.drop_leading_features(shift)
    return _Statistics(stream, stream.n_features, shift, zero_based, totals)


def _color(encoder, partitions, statistics, is_frequent=None) -> None:
    """Second pass: the pair counts of every partition over the vertices of the statistics,
    added up on the workers; then the coloring, on the client."""
    stream = statistics.stream
    vertex_features = dask.delayed(stream.vertex_features)
    mask = None if is_frequent is None else dask.delayed(is_frequent)
    threads = effective_n_jobs(encoder.n_jobs)
    counted = [
        dask.delayed(_count_pairs)(
            part, statistics.shift, mask, vertex_features, statistics.n_features, threads
        )
        for part in partitions.parts
    ]
    keys, weights = _gathered(counted, _add_pair_counts, "pair counts")
    stream.add_pair_counts(aligned(keys), aligned(weights))
    encoder._set_fitted(stream.finish(n_jobs=threads))
    encoder.n_features_in_ = statistics.n_features


def _no_memory_limit(estimator) -> None:
    if estimator.memory_limit is not None:
        raise ValueError(
            "memory_limit bounds a fit on one machine; on a cluster, each partition's counts "
            "are bounded by its rows. Leave memory_limit as None."
        )


def fit(data, *, zero_based: bool | str = "auto", skip_bad_lines: bool = False, **encoder_params):
    """Fit a ``ChromaticEncoder(**encoder_params)`` on a cluster.

    Parameters
    ----------
    data : dask.array.Array of scipy sparse row blocks, or list of svmlight file paths
        The rows; a file is one partition, read on a worker.
    zero_based, skip_bad_lines
        How svmlight files are read (as in ``chromatic.streaming.fit_files``).
    **encoder_params
        Parameters of ``ChromaticEncoder``.

    Returns
    -------
    ChromaticEncoder
        Fitted, equal to ``ChromaticEncoder(**encoder_params).fit(X)`` on the same rows.
    """
    encoder = ChromaticEncoder(**encoder_params)
    encoder._validate_params()
    _no_memory_limit(encoder)
    partitions = _partitions(data, zero_based=zero_based, skip_bad_lines=skip_bad_lines)
    stream = _core.StreamingFit(**encoder._engine_params())
    statistics = _statistics(partitions, stream, None, 0)
    _color(encoder, partitions, statistics)
    return encoder


def _model_rows(rows: _Rows, shift: int, model) -> sp.csr_matrix:
    """The partition's rows over the model's features (later ones were never seen in fit, and
    are ignored like them)."""
    return _known_rows(rows, shift, model.n_features_in_)[0]


def _empty_output(model):
    """What ``model.transform`` gives for no rows (scikit-learn refuses to transform none)."""
    if isinstance(model, ChromaticCompressor):
        return sp.csr_matrix((0, model.n_features_out_), dtype=np.float64)
    if model.output == "onehot":
        return sp.csr_matrix((0, int(model.color_sizes_.sum())), dtype=np.float64)
    return np.zeros((0, model.n_colors_), dtype=np.int32)


def _realigned(model):
    """``model`` as received by a worker, with its arrays (and its parts' arrays) aligned for
    the engine."""
    for name, value in vars(model).items():
        if isinstance(value, np.ndarray):
            setattr(model, name, aligned(value))
        elif isinstance(value, BaseEstimator):
            _realigned(value)
    return model


def _encoded(model, X):
    return _realigned(model).transform(X) if X.shape[0] else _empty_output(model)


def _count_values(rows: _Rows, shift: int, encoder, classes, n_jobs):
    counts = _core.ValueCounts(encoder.field_dims_.astype(np.int64))
    codes = _encoded(encoder, _model_rows(rows, shift, encoder))
    counts.add(codes, rows.labels == classes[1], n_jobs=n_jobs)
    return counts


def _add_value_counts(a, b):
    # A new total: a task's inputs stay as they were, should the scheduler run it again.
    total = copy.copy(a)
    total.merge(b)
    return total


def fit_compressor(
    data,
    y=None,
    *,
    zero_based: bool | str = "auto",
    skip_bad_lines: bool = False,
    **compressor_params,
):
    """Fit a ``ChromaticCompressor(**compressor_params)`` on a cluster: feature counts (and,
    with ``n_frequent="auto"``, a uniform sample of ``selection_rows`` rows to choose the split
    on), pair counts of the other features, then the label counts of every code value, each
    added up on the workers.

    Parameters
    ----------
    data : dask.array.Array of scipy sparse row blocks, or list of svmlight file paths
    y : array-like or dask array of binary labels, for array data (files carry theirs)
    zero_based, skip_bad_lines
        How svmlight files are read.
    **compressor_params
        Parameters of ``ChromaticCompressor``.

    Returns
    -------
    ChromaticCompressor
        Fitted; with a fixed ``n_frequent``, equal to ``ChromaticCompressor(...).fit(X, y)``.
    """
    compressor = ChromaticCompressor(**compressor_params)
    compressor._validate_params()
    _no_memory_limit(compressor)
    if isinstance(data, da.Array) and y is None:
        raise ValueError("fit_compressor needs y, the binary labels of the rows")
    if y is not None and not isinstance(y, da.Array):
        binary_labels(y)
    partitions = _partitions(data, y, zero_based=zero_based, skip_bad_lines=skip_bad_lines)
    seed = compressor._seed()
    sample_size = int(compressor.selection_rows) if compressor.n_frequent == "auto" else None
    encoder = compressor._tail_encoder(seed)
    threads = effective_n_jobs(compressor.n_jobs)
    stream = _core.StreamingFit(**encoder._engine_params())
    statistics = _statistics(partitions, stream, sample_size, seed)
    totals = statistics.totals
    classes = totals.classes
    if len(classes) != 2:
        raise ValueError(f"the labels must be binary (two classes); found {classes}")
    frequent, scores = _choose_frequent(
        compressor, stream, totals.sample, classes, statistics.shift, seed
    )
    n_tail = int(compressor.budget) - len(frequent)
    bucketer = None
    if n_tail > 0:
        bucketer = compressor._tail_compressor(n_tail, seed)
        is_frequent = np.zeros(statistics.n_features, dtype=bool)
        is_frequent[frequent] = True
        stream.forget_features(frequent)
        _color(encoder, partitions, statistics, is_frequent)
        model = dask.delayed(encoder)
        counted = [
            dask.delayed(_count_values)(part, statistics.shift, model, classes, threads)
            for part in partitions.parts
        ]
        total = _gathered(counted, _add_value_counts, "value counts")
        _fit_value_buckets(bucketer, total, encoder, classes, threads)
    _set_compressor_parts(
        compressor, classes, statistics.n_features, scores, frequent, encoder, bucketer
    )
    return compressor


def _encoded_block(block, model):
    return _encoded(model, block)


def _transform_rows(model, rows: _Rows, shift: int):
    return _encoded(model, _model_rows(rows, shift, model))


def transform(model, data, *, zero_based: bool | None = None, skip_bad_lines: bool = False):
    """Encode ``data`` partition by partition with a fitted ``ChromaticEncoder`` or
    ``ChromaticCompressor`` (sent to each worker once).

    Parameters
    ----------
    model : fitted ChromaticEncoder or ChromaticCompressor
    data : dask.array.Array of scipy sparse row blocks, or list of svmlight file paths
    zero_based : bool
        For files: whether their indices start at 0 (as the files the model was fitted on).
    skip_bad_lines : bool
        For files: skip malformed lines rather than fail.

    Returns
    -------
    dask.array.Array
        One row per input row: int32 codes, or scipy sparse blocks for one-hot output (an
        encoder with ``output="onehot"``, or a compressor). Rows of files are in file order;
        their chunk sizes are known once computed.
    """
    if not isinstance(model, (ChromaticEncoder, ChromaticCompressor)):
        raise TypeError(
            f"model must be a fitted ChromaticEncoder or ChromaticCompressor, got {model!r}"
        )
    check_is_fitted(model)
    meta = _empty_output(model)
    width = meta.shape[1]
    shared = dask.delayed(model)
    if isinstance(data, da.Array):
        _check_row_chunks(data)
        return data.map_blocks(
            _encoded_block,
            shared,
            chunks=(data.chunks[0], (width,)),
            dtype=meta.dtype,
            meta=meta,
        )
    if zero_based not in (True, False):
        raise ValueError("for svmlight files, say whether they are zero_based (True or False)")
    partitions = _partitions(data, skip_bad_lines=skip_bad_lines)
    blocks = [
        da.from_delayed(
            dask.delayed(_transform_rows)(shared, part, 0 if zero_based else 1),
            shape=(np.nan, width),
            dtype=meta.dtype,
            meta=meta,
        )
        for part in partitions.parts
    ]
    return da.concatenate(blocks, axis=0)
