"""TEMPORARY until the engine's fit object takes values and int32 indices."""

import numpy as np

from . import _core


def _presence(indptr, indices, data):
    indptr, indices = np.asarray(indptr, np.int64), np.asarray(indices, np.int64)
    if data is None:
        return indptr, indices
    if data.dtype.kind == "f" and not np.all(np.isfinite(data)):
        k = int(np.flatnonzero(~np.isfinite(data))[0])
        row = int(np.searchsorted(indptr, k, side="right") - 1)
        raise ValueError(
            f"row {row}, column {indices[k]} holds {data[k]}: stored values must be finite"
        )
    keep = data != 0
    if keep.all():
        return indptr, indices
    row_of = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    lengths = np.bincount(row_of[keep], minlength=len(indptr) - 1)
    return np.concatenate(([0], np.cumsum(lengths))).astype(np.int64), indices[keep]


class StreamingFit:
    def __init__(self, **params):
        self.inner = _core.StreamingFit(**params)

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def add_statistics(self, indptr, indices, n_features, *, data=None, n_jobs=None):
        self.inner.add_statistics(*_presence(indptr, indices, data), n_features, n_jobs=n_jobs)

    def add_pair_bounds(self, indptr, indices, *, data=None, n_jobs=None):
        self.inner.add_pair_bounds(*_presence(indptr, indices, data), n_jobs=n_jobs)

    def add_edges(self, indptr, indices, *, data=None, n_jobs=None):
        self.inner.add_edges(*_presence(indptr, indices, data), n_jobs=n_jobs)
