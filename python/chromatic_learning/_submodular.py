"""Submodular feature compression of integer code columns: `SubmodularCompressor`.

The columns become a budget of one-hot bucket columns, chosen for what they tell about a binary
target.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import ClassifierTags
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from . import _core
from ._encoding import bucket_columns, cross_fitted_columns
from ._input import effective_n_jobs
from ._pipeline import added_up, cross_fit_tables, cut_buckets, stratified_folds
from ._sources import add_value_counts
from ._tables import BucketParams, Buckets
from ._validation import binary_labels, check_codes


class SubmodularCompressor(TransformerMixin, BaseEstimator):
    """Compress integer code columns to at most ``budget`` one-hot bucket columns.

    Submodular feature compression [2]_ keeps of each column what it tells about a binary
    target. For every column, its values (with the "absent" value 0) are sorted by their rate of
    positive labels and cut into contiguous buckets. The cuts are chosen greedily across all
    columns, each by its gain in mutual information with the target, until the output holds
    ``budget`` columns or no cut gains anything. The bucket holding value 0 is each column's
    reference level (all zeros); every other bucket is one output column. Values not seen in
    fit fall into the reference bucket.

    ``fit_transform(X, y)`` cross-fits, as scikit-learn's ``TargetEncoder`` does: the buckets
    are learned on all rows (as intervals of the positive rate), but the rare values of each of
    ``cv`` folds are placed into them by rates measured on the other folds, so that no row is
    encoded by a rate its own label weighs on (see ``in_sample_rows``). ``fit(X, y).transform(X)``
    uses all rows for both, and is what new rows get.

    Parameters
    ----------
    budget : int, default=1024
        Output columns at most.
    cv : int, default=5
        Folds of the cross-fitting in ``fit_transform`` (at least 2).
    sparse_output : bool, default=True
        CSR float64 output; ``False`` for a dense float32 array (for neural networks).
    smoothing : float, default=1.0
        Pseudo-rows at the overall rate added to each value when ranking values by rate, so that
        rare values are not ranked by one or two labels.
    min_bucket_rows : int, default=1
        Training rows every bucket must hold.
    in_sample_rows : int or None, default=30
        In ``fit_transform``, values held by at least this many training rows are placed in
        their buckets by their rate over all rows, as new rows will be; only rarer values are
        placed by out-of-fold rates. A row's own label moves the rate of such a value by at most
        1/30, while out-of-fold rates of fine buckets put training rows into other buckets than
        test rows in a way that depends on their labels, which costs far more at large budgets.
        ``None`` cross-fits every value.
    penalty : float, default=0.0
        A cut must gain at least ``penalty * ln(n_samples) / 2`` nats of information about the
        label (with 1, the Bayesian information criterion's price of one more parameter), so
        that the greedy stops rather than cut noise among rare values; the output may then be
        narrower than ``budget``.
    shuffle : bool, default=True
        Shuffle before splitting into folds.
    random_state : int, RandomState instance or None, default=None
        Seeds the fold split when ``shuffle``.
    n_jobs : int, default=None
        Threads; ``None`` uses every core (fewer where ``OMP_NUM_THREADS`` says, as in a
        joblib worker), ``-1`` every core, ``-2`` all but one.

    Attributes
    ----------
    n_features_in_ : int
        Number of code columns seen in `fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the columns, defined only when ``X`` has string column names.
    classes_ : ndarray of shape (2,)
        The target's classes; the second is "positive".
    column_sizes_ : ndarray of shape (n_features_in_,), int64
        Table entries of each column: its largest code plus one, or, when ``values_`` is set,
        the number of distinct values seen in fit (0 included).
    values_ : list of ndarray or None
        ``None`` when the tables are indexed by the codes themselves. When the codes are far
        larger than the rows could fill (say a code of ``2**31 - 1``), a table indexed by code
        would be mostly empty, so each column's tables follow the values seen instead:
        ``values_[j]`` holds the ascending distinct codes of column ``j`` seen in fit (0 first),
        and a code is looked up by its position there.
    n_features_out_ : int
        Output columns (at most ``budget``).
    stop_reason_ : str or None
        Why there are not more: ``"budget"``, ``"penalty"`` (the next cut would gain less label
        information than ``penalty`` asks), ``"no gain"`` (no cut left separates two rates) or
        ``"no cut"`` (every value has its own bucket, or ``min_bucket_rows`` forbids more);
        None for a model file written before it was kept.

    See Also
    --------
    ChromaticEncoder : Sparse binary features to one code column per color: this input.
    ChromaticCompressor : Both steps in one estimator, on sparse binary input.
    sklearn.preprocessing.TargetEncoder : Cross-fitted target statistics of categories.

    Notes
    -----
    ``X`` holds non-negative integer codes, ``0`` meaning "absent", such as those of
    ``ChromaticEncoder`` [1]_ (whole-number floats are accepted). Anything else, continuous
    values included, is refused rather than rounded, since made-up codes would be bucketed as
    if they were categories.

    References
    ----------
    .. [1] V. Feinberg and P. Bailis, "Chromatic Learning for Sparse Datasets",
       arXiv:2006.03779, 2020. https://arxiv.org/abs/2006.03779
    .. [2] M. Bateni, L. Chen, H. Esfandiari, T. Fu, V. S. Mirrokni and A. Rostamizadeh,
       "Categorical Feature Compression via Submodular Optimization", ICML 2019,
       arXiv:1904.13389. https://arxiv.org/abs/1904.13389

    Examples
    --------
    >>> import numpy as np
    >>> from chromatic_learning import SubmodularCompressor
    >>> codes = np.array([[1, 0], [1, 2], [2, 1], [2, 2], [3, 0], [3, 1], [1, 1], [2, 0]])
    >>> y = np.array([1, 1, 0, 0, 0, 0, 1, 0])
    >>> comp = SubmodularCompressor(budget=2).fit(codes, y)
    >>> comp.n_features_out_
    2
    >>> comp.transform([[1, 0], [3, 2]]).toarray()
    array([[0., 0.],
           [1., 1.]])
    """

    _parameter_constraints: ClassVar[dict] = {
        "budget": [Interval(Integral, 1, 2**31 - 1, closed="both")],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "sparse_output": ["boolean"],
        "smoothing": [Interval(Real, 0, None, closed="left")],
        "min_bucket_rows": [Interval(Integral, 1, 2**32 - 1, closed="both")],
        "in_sample_rows": [Interval(Integral, 1, None, closed="left"), None],
        "penalty": [Interval(Real, 0, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        budget=1024,
        cv=5,
        sparse_output=True,
        smoothing=1.0,
        min_bucket_rows=1,
        in_sample_rows=30,
        penalty=0.0,
        shuffle=True,
        random_state=None,
        n_jobs=None,
    ):
        self.budget = budget
        self.cv = cv
        self.sparse_output = sparse_output
        self.smoothing = smoothing
        self.min_bucket_rows = min_bucket_rows
        self.in_sample_rows = in_sample_rows
        self.penalty = penalty
        self.shuffle = shuffle
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        """Declare a binary target, non-negative codes and a float output."""
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        # A binary target; scikit-learn reads this from classifier tags only.
        tags.classifier_tags = ClassifierTags(multi_class=False)
        # Codes are non-negative integers.
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    def _validated(self, X, y):
        validate_data(self, X, reset=True, dtype=None, skip_check_array=True)
        # y first, as ChromaticCompressor does: a missing or one-class target is named as such
        # whatever X holds.
        classes, labels = binary_labels(y, owner=type(self).__name__)
        codes = check_codes(X, min_columns=1)
        if len(labels) != codes.shape[0]:
            raise ValueError(f"X has {codes.shape[0]} rows but y has {len(labels)}")
        return codes, classes, labels

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn the buckets of every column on all rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Non-negative integer codes, 0 = absent.
        y : array-like of shape (n_samples,)
            Binary target.

        Returns
        -------
        self : SubmodularCompressor
            The fitted compressor.
        """
        codes, classes, labels = self._validated(X, y)
        values, codes = seen_values(codes)
        counts = self._value_counts(codes, labels, None)
        set_buckets(
            self,
            cut_buckets(counts[0], _column_sizes(codes), bucket_params(self)),
            classes,
            values=values,
        )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, **fit_params):
        """Fit on all rows, and encode each fold with rates from the other folds.

        The buckets are those of ``fit``; only the placing of the rare values of the training
        rows differs from ``fit(X, y).transform(X)`` (see ``in_sample_rows``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Non-negative integer codes, 0 = absent.
        y : array-like of shape (n_samples,)
            Binary target.
        **fit_params : dict
            Ignored.

        Returns
        -------
        Z : {sparse matrix, ndarray} of shape (n_samples, n_features_out_)
            The cross-fitted one-hot buckets of the training rows: CSR float64, or a dense
            float32 array when ``sparse_output=False``.
        """
        codes, classes, labels = self._validated(X, y)
        values, codes = seen_values(codes)
        params = bucket_params(self)
        folds = stratified_folds(labels, int(self.cv), bool(self.shuffle), self.random_state)
        counts = self._value_counts(codes, labels, folds)
        total = added_up(counts, params.n_jobs)
        buckets = cut_buckets(total, _column_sizes(codes), params)
        set_buckets(self, buckets, classes, values=values)
        tables = cross_fit_tables(counts, total, buckets, params)
        output = cross_fitted_columns(codes, buckets, folds, tables, params.n_jobs)
        return output if self.sparse_output else output.toarray().astype(np.float32)

    def _value_counts(self, codes, labels, folds) -> list:
        n_folds = 1 if folds is None else int(self.cv)
        counts = [_core.ValueCounts(_column_sizes(codes)) for _ in range(n_folds)]
        add_value_counts(counts, codes, labels, folds, effective_n_jobs(self.n_jobs))
        return counts

    def transform(self, X):
        """Encode code rows as one-hot bucket columns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)
            Non-negative integer codes, 0 = absent; values not seen in fit go to the
            reference bucket of their column.

        Returns
        -------
        Z : {sparse matrix, ndarray} of shape (n_samples, n_features_out_)
            One column per bucket except each column's reference bucket: CSR float64, or a
            dense float32 array when ``sparse_output=False``.
        """
        check_is_fitted(self)
        codes = positions_of(check_codes(X, self.n_features_in_), self.values_)
        output = bucket_columns(codes, fitted_buckets(self), n_jobs=effective_n_jobs(self.n_jobs))
        return output if self.sparse_output else output.toarray().astype(np.float32)

    def get_feature_names_out(self, input_features=None):
        """Get the names of the output columns: ``{input}_b{k}[{low},{high})``.

        Bucket ``k`` of an input column holds its values whose rate of the positive class
        (as fitted) lies in ``[low, high)``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the code columns; by default those seen in `fit`, or ``x0, x1, ...``.

        Returns
        -------
        names : ndarray of str objects, shape (n_features_out_,)
            Bucket ``k`` (in the order of the positive rate) of an input column, with the
            range of its rates.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        out = np.empty(self.n_features_out_, dtype=object)
        for j in range(self.n_features_in_):
            start, end = self.boundary_offsets_[j], self.boundary_offsets_[j + 1]
            edges = [0.0, *self.boundaries_[start:end], 1.0]
            for k, output in enumerate(self.bucket_outputs_[start + j : end + j + 1]):
                if output >= 0:
                    out[output] = f"{names[j]}_b{k}[{edges[k]:.3g},{edges[k + 1]:.3g})"
        return out


def _column_sizes(codes: np.ndarray) -> np.ndarray:
    """Count the values of each code column: its largest code plus one."""
    if not len(codes):
        return np.ones(codes.shape[1], dtype=np.int64)
    return codes.max(axis=0).astype(np.int64) + 1


def seen_values(codes: np.ndarray) -> tuple[list | None, np.ndarray]:
    """Return the values seen in each column and the codes as positions among them.

    Tables indexed by code have an entry for every code up to the largest; when they would hold
    far more entries than the rows can fill, they follow the values seen instead. Returns
    ``(None, codes)`` when tables indexed by code are small enough.
    """
    n_rows, n_columns = codes.shape
    if int(_column_sizes(codes).sum()) <= 2 * (n_rows + 1) * n_columns + 1024:
        return None, codes
    values = [np.union1d(np.zeros(1, dtype=np.int64), column) for column in codes.T]
    return values, positions_of(codes, values)


def positions_of(codes: np.ndarray, values: list | None) -> np.ndarray:
    """Return ``codes`` as positions among each column's ``values``.

    Codes not among them become 0, the reference bucket's (``values`` None: unchanged).
    """
    if values is None:
        return codes
    out = np.zeros(codes.shape, dtype=np.int32)
    for j, seen in enumerate(values):
        column = codes[:, j]
        at = np.minimum(np.searchsorted(seen, column), len(seen) - 1)
        out[:, j] = np.where(seen[at] == column, at, 0)
    return out


def bucket_params(bucketer: SubmodularCompressor) -> BucketParams:
    """Return the parameters of ``bucketer`` as the fit pipeline takes them, validated first."""
    bucketer._validate_params()
    return BucketParams(
        budget=int(bucketer.budget),
        cv=int(bucketer.cv),
        smoothing=float(bucketer.smoothing),
        min_bucket_rows=int(bucketer.min_bucket_rows),
        in_sample_rows=None if bucketer.in_sample_rows is None else int(bucketer.in_sample_rows),
        penalty=float(bucketer.penalty),
        n_jobs=effective_n_jobs(bucketer.n_jobs),
    )


def set_buckets(
    bucketer: SubmodularCompressor, buckets: Buckets, classes, *, values: list | None = None
) -> SubmodularCompressor:
    """Make ``bucketer`` the fitted compressor of ``buckets`` (for a target of ``classes``).

    ``values``: the values seen in each column, when the tables follow them (see
    ``seen_values``). Returns ``bucketer``.
    """
    bucketer.values_ = values
    bucketer.classes_ = classes
    bucketer.n_features_in_ = len(buckets.column_sizes)
    bucketer.column_sizes_ = buckets.column_sizes
    bucketer.offsets_ = buckets.offsets
    bucketer.output_of_value_ = buckets.output_of_value
    bucketer.n_features_out_ = int(buckets.n_outputs)
    bucketer.boundary_offsets_ = buckets.boundary_offsets
    bucketer.boundaries_ = buckets.boundaries
    bucketer.bucket_outputs_ = buckets.bucket_outputs
    bucketer.stop_reason_ = buckets.stop_reason
    return bucketer


def fitted_buckets(bucketer: SubmodularCompressor) -> Buckets:
    """Return the buckets of a fitted ``bucketer``."""
    return Buckets(
        column_sizes=bucketer.column_sizes_,
        offsets=bucketer.offsets_,
        output_of_value=bucketer.output_of_value_,
        n_outputs=bucketer.n_features_out_,
        boundary_offsets=bucketer.boundary_offsets_,
        boundaries=bucketer.boundaries_,
        bucket_outputs=bucketer.bucket_outputs_,
        stop_reason=bucketer.stop_reason_,
    )
