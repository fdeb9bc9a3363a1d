"""The baselines chromatic is measured against, under the same budget API: the hashing trick
and frequency truncation. Both take the same sparse input as ``ChromaticEncoder``, so a
comparison swaps one line."""

from __future__ import annotations

from numbers import Integral
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from . import _core
from ._input import csr_arrays, effective_n_jobs, presence_csr, validated_sparse_input


class HashingEncoder(TransformerMixin, BaseEstimator):
    """The hashing trick on feature indices: every present feature adds 1 (or, with
    ``alternate_sign``, ±1 by a second hash bit) to the column its index hashes to.

    Stateless apart from the input width: ``fit`` only records ``n_features_in_``.

    Parameters
    ----------
    n_features : int, default=1024
        Output columns.
    alternate_sign : bool, default=True
        Signed contributions, so that collisions cancel out in expectation.
    seed : int, default=0
        Seeds the hash.
    n_jobs : int, default=None
        Threads; ``None`` uses every core.
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_features": [Interval(Integral, 1, 2**32 - 1, closed="both")],
        "alternate_sign": ["boolean"],
        "seed": [Interval(Integral, 0, 2**63 - 1, closed="both")],
        "n_jobs": [Integral, None],
    }

    def __init__(self, n_features=1024, alternate_sign=True, seed=0, n_jobs=None):
        self.n_features = n_features
        self.alternate_sign = alternate_sign
        self.seed = seed
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.requires_fit = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the number of input features."""
        validated_sparse_input(self, X, reset=True)
        self.n_features_out_ = int(self.n_features)
        return self

    def transform(self, X):
        """CSR float64 of shape (n_samples, n_features)."""
        check_is_fitted(self)
        arrays = csr_arrays(validated_sparse_input(self, X, reset=False))
        indptr, indices, values = _core.hash_rows(
            *arrays.engine_args(),
            n_columns=int(self.n_features),
            alternate_sign=bool(self.alternate_sign),
            seed=int(self.seed),
            n_jobs=effective_n_jobs(self.n_jobs),
        )
        return sp.csr_matrix((values, indices, indptr), shape=(arrays.n_rows, self.n_features))

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        return np.asarray([f"hash{i}" for i in range(self.n_features)], dtype=object)


class FrequencyEncoder(TransformerMixin, BaseEstimator):
    """Frequency truncation: the ``n_features - 1`` features present in most training rows keep
    a column each (most frequent first), and one last column counts every other present
    feature, including features never seen in fit.

    Parameters
    ----------
    n_features : int, default=1024
        Output columns (at least 1).

    Attributes
    ----------
    n_features_in_ : int
    kept_features_ : ndarray of int64
        The input features with a column of their own, most frequent first (ties: smaller
        index).
    column_of_feature_ : ndarray of shape (n_features_in_,), int64
        Output column of every input feature (the last one for all others).
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_features": [Interval(Integral, 1, 2**31 - 1, closed="both")],
    }

    def __init__(self, n_features=1024):
        self.n_features = n_features

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Rank the features by the number of training rows holding them."""
        X = validated_sparse_input(self, X, reset=True)
        counts = np.bincount(presence_csr(X).indices, minlength=self.n_features_in_)
        order = np.lexsort((np.arange(len(counts)), -counts))
        kept = order[: int(self.n_features) - 1]
        self.kept_features_ = kept[counts[kept] > 0].astype(np.int64)
        other = int(self.n_features) - 1
        self.column_of_feature_ = np.full(self.n_features_in_, other, dtype=np.int64)
        self.column_of_feature_[self.kept_features_] = np.arange(len(self.kept_features_))
        self.n_features_out_ = int(self.n_features)
        return self

    def transform(self, X):
        """CSR float64 of shape (n_samples, n_features)."""
        check_is_fitted(self)
        B = presence_csr(validated_sparse_input(self, X, reset=False))
        out = sp.csr_matrix(
            (np.ones(B.nnz), self.column_of_feature_[B.indices], B.indptr),
            shape=(B.shape[0], self.n_features_out_),
        )
        out.sum_duplicates()
        return out

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        kept = [str(names[f]) for f in self.kept_features_]
        padding = [f"unused{i}" for i in range(len(kept), self.n_features_out_ - 1)]
        return np.asarray([*kept, *padding, "other"], dtype=object)
