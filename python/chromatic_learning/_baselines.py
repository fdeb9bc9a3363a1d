"""The baselines chromatic is measured against, under the same budget API.

The hashing trick (`HashingEncoder`) and frequency truncation (`FrequencyEncoder`) take the same
sparse input as `ChromaticEncoder` and `ChromaticCompressor`, so a comparison swaps one line.
"""

from __future__ import annotations

from numbers import Integral
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from . import _core
from ._columns import arrow_table
from ._fields import Fields, bag_fields
from ._input import (
    check_finite,
    check_structure,
    csr_arrays,
    effective_n_jobs,
    presence_csr,
)
from ._pipeline import frequent_features
from ._table_input import binary_feature_names, feature_rows, n_binary_features


class HashingEncoder(TransformerMixin, BaseEstimator):
    """The hashing trick on feature indices, as a baseline for a fixed number of columns.

    Every present (non-zero) feature adds 1 to the output column its index hashes to, or, with
    ``alternate_sign``, +1 or -1 by a second hash bit, so that collisions cancel out in
    expectation. Unlike `sklearn.feature_extraction.FeatureHasher` it hashes column indices,
    not strings, and reads the same sparse input as `ChromaticEncoder`.

    Stateless apart from the input width: ``fit`` only checks ``X`` and records
    ``n_features_in_``. A table is read by column (see ``TableEncoder``): fit learns which
    columns are read and how (the bins of numeric columns), and transform hashes every
    ``column=value`` of a row by its column and its bytes, as ``FeatureHasher`` hashes
    ``column=value`` strings: a value fit never saw has its column like any other, and
    ``min_frequency`` does not apply.

    Parameters
    ----------
    n_features : int, default=1024
        Output columns.
    alternate_sign : bool, default=True
        Signed contributions, so that collisions cancel out in expectation.
    seed : int, default=0
        Seeds the hash.
    n_jobs : int, default=None
        Threads; ``None`` uses every core (fewer where ``OMP_NUM_THREADS`` says, as in a
        joblib worker), ``-1`` every core, ``-2`` all but one.
    table : TableEncoder or None, default=None
        How the columns of a table become features, as in ``ChromaticEncoder``.

    Attributes
    ----------
    n_features_in_ : int
        Number of input columns seen in `fit` (of a table: those read).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the input columns, defined only when ``X`` has string column names.
    table_encoder_ : TableEncoder
        The fitted encoder of a table's columns; defined only when fitted on a table.
    n_features_out_ : int
        Number of output columns (``n_features``).

    See Also
    --------
    FrequencyEncoder : Frequency truncation, the other baseline.
    ChromaticEncoder : One code column per color of the co-occurrence graph.
    ChromaticCompressor : Chromatic Learning to a budget of columns.
    sklearn.feature_extraction.FeatureHasher : The hashing trick on strings.

    References
    ----------
    .. [1] V. Feinberg and P. Bailis, "Chromatic Learning for Sparse Datasets",
       arXiv:2006.03779, 2020. https://arxiv.org/abs/2006.03779

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from chromatic_learning import HashingEncoder
    >>> X = sp.csr_array([[1, 0, 1, 0, 0], [0, 1, 0, 0, 1]])
    >>> Z = HashingEncoder(n_features=4, alternate_sign=False).fit_transform(X)
    >>> Z.shape
    (2, 4)
    >>> Z.toarray().sum(axis=1)
    array([2., 2.])
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_features": [Interval(Integral, 1, 2**32 - 1, closed="both")],
        "alternate_sign": ["boolean"],
        "seed": [Interval(Integral, 0, 2**63 - 1, closed="both")],
        "n_jobs": [Integral, None],
        "table": [HasMethods(["fit_transform", "transform"]), None],
    }

    def __init__(self, n_features=1024, alternate_sign=True, seed=0, n_jobs=None, table=None):
        self.n_features = n_features
        self.alternate_sign = alternate_sign
        self.seed = seed
        self.n_jobs = n_jobs
        self.table = table

    def __sklearn_tags__(self):
        """Sparse input, no NaN, float64 output; no target."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = False
        tags.target_tags.required = False
        tags.requires_fit = True
        # The output is float64 whatever the input dtype.
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check ``X`` and record the number of input features.

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features)
            Training rows; any non-zero value of a matrix is a present feature, each
            ``column=value`` of a table is one.
        y : None
            Ignored.

        Returns
        -------
        self : HashingEncoder
            The fitted encoder.
        """
        # Only the width is kept, but a matrix that transform would refuse is refused here.
        arrays = csr_arrays(feature_rows(self, X, reset=True))
        check_structure(arrays)
        check_finite(arrays)
        self.n_features_out_ = int(self.n_features)
        return self

    def transform(self, X):
        """Hash the present features of every row into ``n_features`` columns.

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features_in_)
            Rows to encode; any non-zero value is a present feature.

        Returns
        -------
        Z : scipy.sparse.csr_matrix of shape (n_samples, n_features), float64
            The sum of the (signed) contributions of the features of each row, per column.
        """
        check_is_fitted(self)
        options = {
            "n_columns": int(self.n_features_out_),
            "alternate_sign": bool(self.alternate_sign),
            "seed": int(self.seed),
            "n_jobs": effective_n_jobs(self.n_jobs),
        }
        table = arrow_table(X) if hasattr(self, "table_encoder_") else None
        if table is not None:
            features = self.table_encoder_.features_
            indptr, indices, values = features.hash_rows(table, **options)
            n_rows = table.num_rows
        else:
            arrays = csr_arrays(feature_rows(self, X, reset=False))
            indptr, indices, values = _core.hash_rows(*arrays.engine_args(), **options)
            n_rows = arrays.n_rows
        return sp.csr_matrix((values, indices, indptr), shape=(n_rows, self.n_features_out_))

    def to_fields(self, X) -> Fields:
        """Encode ``X`` as the input of an embedding model: a bag of the hashed columns.

        Each output column is one embedding; a row's bag holds the columns its features hash
        to, weighted by their signed counts (as ``transform`` gives them). There is no field:
        hashing keeps no trace of which feature a column came from.

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features_in_)
            Rows as ``transform`` takes them.

        Returns
        -------
        fields : Fields
            No field, and the bag of ``n_features`` columns.
        """
        return bag_fields(self.transform(X))

    def get_feature_names_out(self, input_features=None):
        """Get the names of the output columns: ``hash0, hash1, ...``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the names seen in `fit`: an output column mixes many inputs.

        Returns
        -------
        feature_names_out : ndarray of str objects, shape (n_features,)
            The output column names.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        return np.asarray([f"hash{i}" for i in range(self.n_features_out_)], dtype=object)


class FrequencyEncoder(TransformerMixin, BaseEstimator):
    """Frequency truncation, as a baseline for a fixed number of columns.

    The ``n_features - 1`` features present in most training rows keep a column each (most
    frequent first), and one last column counts every other present feature, including
    features never seen in fit. When fewer features were seen, the columns between the kept
    ones and the last stay empty.

    A table is read by column (see ``TableEncoder``): its features are the ``column=value``
    pairs seen in fit.

    Parameters
    ----------
    n_features : int, default=1024
        Output columns (at least 1).
    table : TableEncoder or None, default=None
        How the columns of a table become features, as in ``ChromaticEncoder``.

    Attributes
    ----------
    n_features_in_ : int
        Number of input columns seen in `fit` (of a table: those read).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the input columns, defined only when ``X`` has string column names.
    table_encoder_ : TableEncoder
        The fitted encoder of a table's columns; defined only when fitted on a table.
    kept_features_ : ndarray of int64
        The input features with a column of their own, most frequent first (ties: smaller
        index).
    column_of_feature_ : ndarray of shape (n_features,), int64
        Output column of every input feature (the last one for all others).
    n_features_out_ : int
        Number of output columns (``n_features``).

    See Also
    --------
    HashingEncoder : The hashing trick, the other baseline.
    ChromaticCompressor : Chromatic Learning to a budget of columns; it also keeps the most
        frequent features apart, and compresses the others instead of dropping them.

    References
    ----------
    .. [1] V. Feinberg and P. Bailis, "Chromatic Learning for Sparse Datasets",
       arXiv:2006.03779, 2020. https://arxiv.org/abs/2006.03779

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from chromatic_learning import FrequencyEncoder
    >>> X = sp.csr_array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 0, 1]])
    >>> enc = FrequencyEncoder(n_features=3).fit(X)
    >>> enc.kept_features_
    array([0, 1])
    >>> enc.get_feature_names_out()
    array(['x0', 'x1', 'other'], dtype=object)
    >>> enc.transform(X).toarray()
    array([[1., 1., 0.],
           [1., 0., 1.],
           [1., 1., 1.]])
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_features": [Interval(Integral, 1, 2**31 - 1, closed="both")],
        "table": [HasMethods(["fit_transform", "transform"]), None],
    }

    def __init__(self, n_features=1024, table=None):
        self.n_features = n_features
        self.table = table

    def __sklearn_tags__(self):
        """Sparse input, no NaN, float64 output; no target."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = False
        tags.target_tags.required = False
        # The output is float64 whatever the input dtype.
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    def _presence(self, X, *, reset: bool) -> sp.csr_matrix:
        return presence_csr(feature_rows(self, X, reset=reset))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Rank the features by the number of training rows holding them.

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features)
            Training rows; any non-zero value of a matrix is a present feature, each
            ``column=value`` of a table is one.
        y : None
            Ignored.

        Returns
        -------
        self : FrequencyEncoder
            The fitted encoder.
        """
        B = self._presence(X, reset=True)
        counts = np.bincount(B.indices, minlength=n_binary_features(self))
        self.kept_features_ = frequent_features(counts, int(self.n_features) - 1)
        other = int(self.n_features) - 1
        self.column_of_feature_ = np.full(len(counts), other, dtype=np.int64)
        self.column_of_feature_[self.kept_features_] = np.arange(len(self.kept_features_))
        self.n_features_out_ = int(self.n_features)
        return self

    def transform(self, X):
        """Keep the frequent features and count the others in the last column.

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features_in_)
            Rows to encode; any non-zero value is a present feature.

        Returns
        -------
        Z : scipy.sparse.csr_matrix of shape (n_samples, n_features), float64
            1 in the column of each kept feature present in the row; the last column holds the
            number of other present features.
        """
        check_is_fitted(self)
        B = self._presence(X, reset=False)
        out = sp.csr_matrix(
            (np.ones(B.nnz), self.column_of_feature_[B.indices], B.indptr),
            shape=(B.shape[0], self.n_features_out_),
        )
        out.sum_duplicates()
        return out

    def to_fields(self, X) -> Fields:
        """Encode ``X`` as the input of an embedding model: a bag of the output columns.

        Each kept feature is one embedding, and "other" one more, weighted by the count of the
        other features of the row (as ``transform`` gives them).

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features_in_)
            Rows as ``transform`` takes them.

        Returns
        -------
        fields : Fields
            No field, and the bag of ``n_features`` columns.
        """
        return bag_fields(self.transform(X))

    def get_feature_names_out(self, input_features=None):
        """Get the names of the output columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the input features; by default ``feature_names_in_``, or ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects, shape (n_features,)
            The names of the kept features, ``unused{i}`` for empty columns, and ``other``.
        """
        check_is_fitted(self)
        names = binary_feature_names(self, input_features)
        kept = [str(names[f]) for f in self.kept_features_]
        padding = [f"unused{i}" for i in range(len(kept), self.n_features_out_ - 1)]
        return np.asarray([*kept, *padding, "other"], dtype=object)
