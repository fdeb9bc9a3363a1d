"""TableEncoder: the columns of a table as binary ``column=value`` features, for a pipeline.

Placed in front of ``ChromaticEncoder``, ``ChromaticCompressor`` or a baseline, it turns raw
categorical columns (ids, hex strings, small integers, dates, token lists, numbers cut into
quantile bins) into the sparse binary rows they read, with the vocabulary built in the engine.
"""

from __future__ import annotations

from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._columns import TableFeatures, arrow_table
from ._input import effective_n_jobs


class TableEncoder(TransformerMixin, BaseEstimator):
    """Encode the columns of a table as sparse binary ``column=value`` features.

    Each (column, value) pair of a categorical column (strings, binary, integers, booleans,
    dates and timestamps, pandas ``category`` / polars ``Categorical``) is one feature; each
    distinct element of a list column is one; a numeric column (floats by default) is cut into
    quantile bins learned in fit. A null or NaN is no feature. Values are read through Arrow
    and looked up in the engine's vocabulary, exact and in parallel; feature ids follow the
    order in which values first appear, so pandas, polars and Arrow inputs holding the same
    data give the same features.

    Parameters
    ----------
    columns : list of str or None, default=None
        The columns to read; all when None.
    ignore : list of str or None, default=None
        Columns never read (the label's, for instance).
    numeric : "auto", "none" or list of str, default="auto"
        The columns cut into quantile bins: float columns (``"auto"``), none (floats are
        categorical values), or those listed (floats or integers).
    n_bins : int, default=16
        Quantile bins of a numeric column (fewer when its quantiles repeat).
    min_frequency : int, default=1
        Values seen in fewer training rows get no feature (as in scikit-learn's
        ``OneHotEncoder``); like unseen values, they are no feature at transform, never an
        error.
    n_jobs : int or None, default=None
        Threads for the engine; None uses every core (fewer where ``OMP_NUM_THREADS``
        says, as in a joblib worker), -1 every core, -2 all but one.

    Attributes
    ----------
    n_features_in_ : int
        Columns read.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Their names.
    n_features_out_ : int
        The ``column=value`` features seen in fit (less those under ``min_frequency``).
    unseen_ : int
        Values of the last ``transform`` without a feature (unseen in fit, or too rare).

    See Also
    --------
    ChromaticEncoder : Colors the features this encoder writes.
    sklearn.preprocessing.OneHotEncoder : The same features, with a vocabulary in Python.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from chromatic_learning import TableEncoder
    >>> table = pa.table({"site": ["a.com", "b.org", "a.com"], "ad": [7, 7, 9]})
    >>> encoder = TableEncoder().fit(table)
    >>> encoder.get_feature_names_out().tolist()
    ['site=a.com', 'site=b.org', 'ad=7', 'ad=9']
    >>> encoder.transform(table).toarray()
    array([[1., 0., 1., 0.],
           [0., 1., 1., 0.],
           [1., 0., 0., 1.]], dtype=float32)
    """

    _parameter_constraints: ClassVar[dict] = {
        "columns": [list, None],
        "ignore": [list, None],
        "numeric": [StrOptions({"auto", "none"}), list],
        "n_bins": [Interval(Integral, 2, 2**31 - 1, closed="both")],
        "min_frequency": [Interval(Integral, 1, 2**63 - 1, closed="both")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        columns=None,
        ignore=None,
        numeric="auto",
        n_bins=16,
        min_frequency=1,
        n_jobs=None,
    ):
        self.columns = columns
        self.ignore = ignore
        self.numeric = numeric
        self.n_bins = n_bins
        self.min_frequency = min_frequency
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        """Declare table input: strings and nulls are values, not errors."""
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.input_tags.allow_nan = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the columns of ``X`` and the values of each.

        Parameters
        ----------
        X : pandas or polars DataFrame, or pyarrow Table or RecordBatch
            Training rows.
        y : None
            Ignored.

        Returns
        -------
        self : TableEncoder
            The fitted encoder.
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, **fit_params):
        """Fit on ``X`` and encode it, reading it once.

        Parameters
        ----------
        X : pandas or polars DataFrame, or pyarrow Table or RecordBatch
            Training rows.
        y : None
            Ignored.
        **fit_params : dict
            Ignored.

        Returns
        -------
        rows : scipy.sparse.csr_array of shape (n_samples, n_features_out_), float32
            One for each feature of a row.
        """
        return self._fit(X)

    def transform(self, X):
        """Encode ``X`` with the columns and values seen in fit.

        Parameters
        ----------
        X : pandas or polars DataFrame, or pyarrow Table or RecordBatch
            Rows holding at least the columns seen in fit (others are ignored).

        Returns
        -------
        rows : scipy.sparse.csr_array of shape (n_samples, n_features_out_), float32
            One for each feature of a row; values without a feature are counted in
            ``unseen_``.
        """
        check_is_fitted(self, "features_")
        rows, self.unseen_ = self.features_.transform(
            _table(X), n_jobs=effective_n_jobs(self.n_jobs)
        )
        return rows

    def get_feature_names_out(self, input_features=None):
        """Name each output column ``column=value`` (``column=[lo, hi)`` for a numeric bin).

        Parameters
        ----------
        input_features : None
            Ignored: the names come from the columns seen in fit.

        Returns
        -------
        names : ndarray of shape (n_features_out_,), object
            The features in output order.
        """
        check_is_fitted(self, "features_")
        return self.features_.feature_names()

    def _fit(self, X):
        table = _table(X)
        features = table_features(self)
        rows = features.fit_transform(table, n_jobs=effective_n_jobs(self.n_jobs))
        set_features(self, features)
        return rows


def table_features(encoder: TableEncoder) -> TableFeatures:
    """Return the unfitted features of ``encoder``'s parameters."""
    encoder._validate_params()
    return TableFeatures(
        columns=encoder.columns,
        ignore=encoder.ignore or (),
        numeric=encoder.numeric,
        n_bins=encoder.n_bins,
        min_frequency=encoder.min_frequency,
    )


def set_features(encoder: TableEncoder, features: TableFeatures) -> TableEncoder:
    """Make ``encoder`` the fitted encoder of ``features``; return it."""
    encoder.features_ = features
    encoder.feature_names_in_ = np.asarray(features.input_columns, dtype=object)
    encoder.n_features_in_ = len(encoder.feature_names_in_)
    encoder.n_features_out_ = features.n_features
    encoder.unseen_ = 0
    return encoder


def _table(X):
    table = arrow_table(X)
    if table is None:
        raise TypeError(
            f"TableEncoder reads tables (a pandas or polars DataFrame, a pyarrow Table or "
            f"RecordBatch), not {type(X).__name__}; a matrix goes to the encoders directly"
        )
    return table
