"""Rows through fitted tables: codes of rows, bucket columns of codes, a compressor's output.

Cross-fitted training rows take the bucket table of their fold; a compressor's output is
assembled from the columns of the features kept apart and the buckets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from . import _core
from ._input import aligned

if TYPE_CHECKING:
    from ._tables import Buckets, Compression, HashedTail


def encode_rows(
    indptr, indices, data, n_rows, n_features, colors, codes, n_colors, collision, n_jobs
) -> tuple[np.ndarray, int, int]:
    """``(codes, collisions, unseen)`` of CSR rows: one code per color."""
    out = np.zeros((n_rows, n_colors), dtype=np.int32)
    if data is None:
        data = np.ones(len(indices), dtype=bool)
    collisions, unseen = _core.encode(
        aligned(indptr),
        aligned(indices),
        aligned(data),
        n_features,
        aligned(colors),
        aligned(codes),
        out,
        collision=collision,
        n_jobs=n_jobs,
    )
    return out, int(collisions), int(unseen)


def bucket_columns(codes: np.ndarray, buckets: Buckets, output_of_value=None, n_jobs=None):
    """Return the one-hot bucket columns (CSR, float64 ones) of code rows.

    Each value goes to the output column ``output_of_value`` gives it (by default the
    buckets' own).
    """
    table = buckets.output_of_value if output_of_value is None else output_of_value
    indptr, indices = _core.transform_buckets(
        np.ascontiguousarray(codes, dtype=np.int32),
        aligned(buckets.offsets),
        aligned(table),
        buckets.n_outputs,
        n_jobs=n_jobs,
    )
    return sp.csr_matrix(
        (np.ones(len(indices)), indices, indptr), shape=(codes.shape[0], buckets.n_outputs)
    )


def hashed_columns(B, tail: HashedTail, n_jobs=None) -> sp.csr_matrix:
    """Return the hashed tail's columns (CSR, float64) of binary rows ``B``.

    Each feature the tail hashes adds +1 or -1 (a second bit of its hash) to its column, so
    that collisions cancel out in expectation; a column whose sum is 0 is not stored.
    """
    # A feature the tail does not hash is given the value 0, which the engine reads as absent.
    indptr, indices, values = _core.hash_rows(
        aligned(B.indptr),
        aligned(B.indices),
        tail.mask[B.indices],
        B.shape[1],
        n_columns=tail.n_columns,
        alternate_sign=True,
        seed=tail.seed,
        n_jobs=n_jobs,
    )
    return sp.csr_matrix((values, indices, indptr), shape=(B.shape[0], tail.n_columns))


def hashed_column_of(tail: HashedTail, features: np.ndarray) -> np.ndarray:
    """Return the column the hashed tail gives each of ``features``."""
    # One row per feature: each row's one entry is that feature's column.
    indptr = np.arange(len(features) + 1, dtype=np.int64)
    _, columns, _ = _core.hash_rows(
        indptr,
        aligned(np.asarray(features, dtype=np.int64)),
        None,
        tail.n_features,
        n_columns=tail.n_columns,
        alternate_sign=True,
        seed=tail.seed,
    )
    return columns


def cross_fitted_columns(codes, buckets: Buckets, folds: np.ndarray, tables: list, n_jobs=None):
    """Bucket columns of training rows, each row by the table of its fold."""
    blocks, order = [], []
    for fold, table in enumerate(tables):
        rows = np.flatnonzero(folds == fold)
        blocks.append(bucket_columns(codes[rows], buckets, table, n_jobs))
        order.append(rows)
    inverse = np.empty(len(codes), dtype=np.int64)
    inverse[np.concatenate(order)] = np.arange(len(codes))
    return sp.vstack(blocks, format="csr")[inverse]


def assemble(B, frequent: np.ndarray, tail):
    """Join a compressor's output: the columns of the features kept apart, then the buckets."""
    blocks = [B[:, frequent]]
    if tail is not None:
        blocks.append(tail)
    out = sp.hstack(blocks, format="csr", dtype=np.float64)
    out.sort_indices()
    return out


def compressed_rows(compression: Compression, B, folds: np.ndarray | None = None):
    """Return the output of a fitted compression for binary rows ``B`` (CSR over its features).

    With ``folds`` (training rows), each row is bucketed by its fold's cross-fit table.
    """
    tail = None
    if compression.hashed is not None:
        tail = hashed_columns(B, compression.hashed)
    elif compression.coloring is not None:
        coloring = compression.coloring
        codes = coloring.encode(B.indptr, B.indices, None, B.shape[0])
        if folds is None:
            tail = bucket_columns(codes, compression.buckets, n_jobs=coloring.n_jobs)
        else:
            tail = cross_fitted_columns(
                codes, compression.buckets, folds, compression.cross_fit.tables, coloring.n_jobs
            )
    return assemble(B, compression.frequent, tail)
