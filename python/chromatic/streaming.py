"""Fitting and encoding svmlight files chunk by chunk, in memory bounded by the model and one
chunk: a first pass over the files counts the features, a second counts their pairs, then the
graph is colored; encoding is one more pass. With a budget (``ChromaticCompressor``), a third
pass counts the labels of every code value, and the buckets are cut from those counts.

The fit is the same pipeline as the in-memory one, reading the files as its row source.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np
import scipy.sparse as sp

from ._encoding import compressed_rows, encode_rows
from ._input import effective_n_jobs
from ._pipeline import fit_coloring, fit_compression
from ._sources import Kept, Progress, Rows, SvmlightFiles, row_folds
from ._tables import CrossFitTables, FitReport
from ._validation import resolve_zero_based
from .compression import (
    ChromaticCompressor,
    compression_params,
    fitted_compression,
    set_compression,
)
from .encoder import ChromaticEncoder, coloring_params, set_coloring
from .svmlight import DEFAULT_CHUNK_BYTES, iter_chunks

__all__ = [
    "CrossFitTables",
    "StreamReport",
    "fit_compressor_files",
    "fit_files",
    "iter_compressed",
    "iter_encoded",
    "model_rows",
    "row_folds",
]

#: What a fit over files found: rows, non-zeros, skipped lines, the index base and the graph
#: passes.
StreamReport = FitReport


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
    them twice (once more per extra shard of the graph under a ``memory_limit``). Equal to
    ``encoder.fit(load_svmlight(paths).X)``."""
    params = coloring_params(encoder)
    rows = SvmlightFiles(
        paths,
        zero_based=zero_based,
        chunk_bytes=chunk_bytes,
        skip_bad_lines=skip_bad_lines,
        progress=progress,
        n_jobs=params.n_jobs,
    )
    coloring, report = fit_coloring(rows, params)
    set_coloring(encoder, coloring)
    return report


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
    params = compression_params(compressor)
    rows = SvmlightFiles(
        paths,
        zero_based=zero_based,
        chunk_bytes=chunk_bytes,
        skip_bad_lines=skip_bad_lines,
        progress=progress,
        n_jobs=params.coloring.n_jobs,
    )
    compression, report = fit_compression(rows, params, cross_fit=cross_fit)
    set_compression(compressor, compression)
    return report, compression.cross_fit


def model_rows(
    model, path, zero_based: bool, chunk_bytes: int, skip_bad_lines: bool
) -> Iterator[tuple[Rows, sp.csr_matrix, int]]:
    """``(chunk, X, unknown)`` for each chunk of ``path``: ``X`` its binary rows over the
    model's features, ``unknown`` how many entries lay beyond them (features never seen in
    fit, ignored like them)."""
    kept = Kept(0 if zero_based else 1, width=model.n_features_in_)
    for chunk in iter_chunks(
        path,
        chunk_bytes=chunk_bytes,
        skip_bad_lines=skip_bad_lines,
        n_jobs=effective_n_jobs(model.n_jobs),
    ):
        try:
            resolve_zero_based(zero_based, chunk.min_index)
        except ValueError as error:
            raise ValueError(f"{os.fspath(path)}: {error}") from None
        rows = Rows(chunk.indptr, chunk.indices, labels=chunk.labels)
        X = kept.csr(rows, model.n_features_in_)
        yield rows, X, len(chunk.indices) - X.nnz


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
    threads = effective_n_jobs(encoder.n_jobs)
    for rows, X, unknown in model_rows(encoder, path, zero_based, chunk_bytes, skip_bad_lines):
        codes, collisions, unseen = encode_rows(
            X.indptr,
            X.indices,
            None,
            X.shape[0],
            X.shape[1],
            encoder.colors_,
            encoder.codes_,
            encoder.n_colors_,
            encoder.collision,
            threads,
        )
        yield rows.labels, codes, collisions, unseen + unknown


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
    fitted = None if cross_fit is None else fitted_compression(compressor, cross_fit)
    for rows, X, _ in model_rows(compressor, path, zero_based, chunk_bytes, skip_bad_lines):
        if fitted is None or fitted.coloring is None:
            columns = compressor.transform(X)
        else:
            folds = row_folds(row, X.shape[0], len(cross_fit.tables), cross_fit.seed)
            columns = compressed_rows(fitted, X, folds)
        row += X.shape[0]
        yield rows.labels, columns
