"""Fitting and encoding svmlight files chunk by chunk, in memory bounded by the model and one
chunk: a first pass over the files counts the features, a second counts their pairs, then the
graph is colored; encoding is one more pass."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import _core
from ._input import effective_n_jobs
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
    for chunk in _chunks(paths, chunk_bytes, skip_bad_lines, threads):
        stream.add_edges(chunk.indptr, chunk.indices - shift, n_jobs=threads)
        if progress:
            progress("counting pairs", chunk.n_rows)
    n_features = stream.n_features
    encoder._set_fitted(stream.finish(n_jobs=threads))
    encoder.n_features_in_ = n_features
    return StreamReport(rows, non_zeros, skipped, zero_based)


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
    shift = 0 if zero_based else 1
    n = encoder.n_features_in_
    for chunk in iter_chunks(
        path,
        chunk_bytes=chunk_bytes,
        skip_bad_lines=skip_bad_lines,
        n_jobs=effective_n_jobs(encoder.n_jobs),
    ):
        indices = chunk.indices - shift
        if not zero_based and chunk.min_index == 0:
            raise ValueError(f"{os.fspath(path)}: index 0 found in a 1-based file")
        known = indices < n
        lengths = np.add.reduceat(known, chunk.indptr[:-1]) if len(known) else None
        if lengths is not None:
            lengths[np.diff(chunk.indptr) == 0] = 0
            indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        else:
            indptr = np.zeros(chunk.n_rows + 1, dtype=np.int64)
        X = sp.csr_matrix(
            (np.ones(int(known.sum()), dtype=np.float32), indices[known], indptr),
            shape=(chunk.n_rows, n),
        )
        codes = encoder.transform(X)
        yield (
            chunk.labels,
            codes,
            encoder.last_collisions_,
            encoder.last_unseen_ + int((~known).sum()),
        )
