"""Chromatic Learning to a budget, as one estimator: `ChromaticCompressor`.

It keeps the most frequent features as columns of their own, colors the others and compresses
their codes (``_submodular``).
"""

from __future__ import annotations

from numbers import Integral
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import ClassifierTags, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._encoder import (
    ChromaticEncoder,
    color_sources,
    coloring_params,
    fitted_coloring,
    set_coloring,
)
from ._encoding import assemble, compressed_rows, hashed_column_of, hashed_columns
from ._fields import Fields, compressed_fields
from ._input import effective_n_jobs, presence_csr
from ._pipeline import fit_compression, stratified_folds
from ._sources import MatrixRows
from ._submodular import SubmodularCompressor, bucket_params, fitted_buckets, set_buckets
from ._table_input import binary_feature_names, feature_rows, n_binary_features
from ._tables import BucketParams, Compression, CompressionParams, HashedTail
from ._validation import binary_labels


class ChromaticCompressor(TransformerMixin, BaseEstimator):
    """Compress sparse binary features to at most ``budget`` columns (Chromatic Learning).

    The most frequent features keep columns of their own, and the rest of the budget goes to
    ``ChromaticEncoder`` (one code column per color of the feature co-occurrence graph [1]_)
    followed by ``SubmodularCompressor`` (the most informative buckets of those columns [2]_).

    ``ChromaticCompressor(budget=1024)`` in front of a ``LogisticRegression`` turns millions of
    sparse binary columns into 1024. ``fit_transform`` cross-fits the compression (see
    ``SubmodularCompressor``), so a pipeline's model never sees a rare value encoded with its
    own label.

    Why frequent features apart: buckets group features by their rate of positives, which is
    what a small budget needs, but at large budgets a linear model gains more from individual
    weights for the features it sees often. ``n_frequent="auto"`` chooses the split on the
    training rows: each candidate (none, 1/4, 1/2, 3/4, 15/16 or all of the budget) is
    fitted on three quarters of a sample of at most ``selection_rows`` rows, scored by the log
    loss of a logistic regression on the remaining quarter, and the best is refitted on all rows.
    The whole budget is frequency truncation, which wins where the frequent values carry the
    signal and the rest is noise. With ``tail="auto"``, a quarter or a half of the budget kept
    apart and the other features hashed into the rest (the hashing trick on the tail alone)
    are candidates too, where the buckets' best keeps at least half apart; they win only when
    lower by a standard error, replicated on a second quarter. On multi-hot rows of ids whose
    effects add up, such as ratings by user and film, a weight learned for each feature beats
    the rate a bucket shares.

    Parameters
    ----------
    budget : int, default=1024
        Output columns at most.
    n_frequent : "auto" or int, default="auto"
        Features (by training frequency) that keep columns of their own; at most ``budget``.
    tail : {"auto", "buckets", "hashed"}, default="auto"
        How the other features take the rest of the budget: ``"buckets"`` (colored, their codes
        cut into buckets by rate), ``"hashed"`` (each seen feature adds ±1 to a column its index
        hashes to), or ``"auto"``: chosen with ``n_frequent="auto"``, else ``"buckets"``.
    selection_rows : int, default=200_000
        Sample size for ``n_frequent="auto"``.
    n_colors, min_cooccurrence, strategy, collision, dense_threshold, memory_limit :
        As in ``ChromaticEncoder``.
    cv, sparse_output, smoothing, min_bucket_rows, in_sample_rows, penalty :
        As in ``SubmodularCompressor``.
    n_jobs : int, default=None
        Threads; ``None`` uses every core (fewer where ``OMP_NUM_THREADS`` says, as in a
        joblib worker), ``-1`` every core, ``-2`` all but one.
    random_state : int, RandomState instance or None, default=None
        Seeds the coloring, the folds and the selection sample.
    table : TableEncoder or None, default=None
        How the columns of a table become features, as in ``ChromaticEncoder``.

    Attributes
    ----------
    n_frequent_ : int
        Features with a column of their own (the first output columns).
    frequent_features_ : ndarray of int64
        Those features, most frequent first (matrix columns, or numbers of a table's
        ``column=value`` features).
    selection_scores_ : dict or None
        ``{(n_frequent, tail): validation log loss}`` of the candidates, when
        ``n_frequent="auto"`` (``None`` otherwise, or when the sample lacks one of the classes).
    tail_ : {"buckets", "hashed"} or None
        How the features not kept apart became columns; ``None`` when there is no such column.
    hashed_features_ : ndarray of int64 or None
        With a hashed tail, the features it hashes: those seen in fit and not kept apart, most
        frequent first (others are ignored in transform); ``None`` otherwise.
    encoder_ : ChromaticEncoder or None
        The coloring of the other features; ``None`` when the frequent features take the whole
        budget, or when no other feature was seen in fit (nothing left to encode).
    compressor_ : SubmodularCompressor or None
        The buckets of the encoder's codes; ``None`` exactly when ``encoder_`` is.
    n_features_in_ : int
        Number of input columns seen in `fit` (of a table: those read).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the input columns, defined only when ``X`` has string column names.
    table_encoder_ : TableEncoder
        The fitted encoder of a table's columns into features; defined only when fitted on a
        table.
    n_features_out_ : int
        Output columns: ``n_frequent_`` plus the buckets or the hashed columns, at most
        ``budget``.
    stop_reason_ : str or None
        Why ``n_features_out_`` is what it is: ``"budget"`` (all of it used); ``"penalty"``
        (the next bucket would gain less label information than ``penalty`` asks: more
        columns would fit noise); ``"no gain"`` (no cut left separates two rates); ``"no
        cut"`` (every value has a bucket of its own, or ``min_bucket_rows`` forbids more);
        ``"no more features"`` (every feature has a column of its own). None for a model file
        written before it was kept.
    classes_ : ndarray of shape (2,)
        The target's classes; the second is "positive".

    See Also
    --------
    ChromaticEncoder : The lossless step alone: one code column per color.
    SubmodularCompressor : The compression step alone, on integer codes.
    HashingEncoder : The hashing trick, a baseline for the same budget.
    FrequencyEncoder : Frequency truncation, the other baseline.

    Notes
    -----
    Any non-zero value of a matrix is a present feature; NaN and infinities are errors. A table
    is read by column, each ``column=value`` pair a feature (see ``TableEncoder``). ``y`` must be a
    binary target. The paper's logistic regression on 1024 columns of this method beat the
    hashing trick and frequency truncation at 262,144 columns on kdd12 [1]_.

    References
    ----------
    .. [1] V. Feinberg and P. Bailis, "Chromatic Learning for Sparse Datasets",
       arXiv:2006.03779, 2020. https://arxiv.org/abs/2006.03779
    .. [2] M. Bateni, L. Chen, H. Esfandiari, T. Fu, V. S. Mirrokni and A. Rostamizadeh,
       "Categorical Feature Compression via Submodular Optimization", ICML 2019,
       arXiv:1904.13389. https://arxiv.org/abs/1904.13389

    Examples
    --------
    >>> from chromatic_learning import ChromaticCompressor, make_onehot_zipf
    >>> X = make_onehot_zipf(400, 60, 3, random_state=0)
    >>> y = (X[:, :5].sum(axis=1) > 0).astype(int)
    >>> comp = ChromaticCompressor(budget=8, n_frequent=2, random_state=0)
    >>> Z = comp.fit_transform(X, y)
    >>> Z.shape
    (400, 8)
    >>> comp.frequent_features_
    array([45, 22])
    >>> comp.get_feature_names_out()[:3]
    array(['x45', 'x22', 'color0_b1[0.463,1)'], dtype=object)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_frequent": [StrOptions({"auto"}), Interval(Integral, 0, None, closed="left")],
        "tail": [StrOptions({"auto", "buckets", "hashed"})],
        "selection_rows": [Interval(Integral, 100, None, closed="left")],
        **{
            name: ChromaticEncoder._parameter_constraints[name]
            for name in (
                "table",
                "n_colors",
                "min_cooccurrence",
                "strategy",
                "collision",
                "dense_threshold",
                "memory_limit",
            )
        },
        **{
            name: SubmodularCompressor._parameter_constraints[name]
            for name in (
                "budget",
                "cv",
                "sparse_output",
                "smoothing",
                "min_bucket_rows",
                "in_sample_rows",
                "penalty",
                "n_jobs",
                "random_state",
            )
        },
    }

    def __init__(
        self,
        budget=1024,
        n_frequent="auto",
        tail="auto",
        selection_rows=200_000,
        n_colors=None,
        min_cooccurrence=1,
        strategy="largest_first",
        collision="most_frequent",
        dense_threshold=0.1,
        memory_limit=None,
        cv=5,
        sparse_output=True,
        smoothing=1.0,
        min_bucket_rows=1,
        in_sample_rows=30,
        penalty=1.0,
        n_jobs=None,
        random_state=None,
        table=None,
    ):
        self.budget = budget
        self.n_frequent = n_frequent
        self.tail = tail
        self.selection_rows = selection_rows
        self.n_colors = n_colors
        self.min_cooccurrence = min_cooccurrence
        self.strategy = strategy
        self.collision = collision
        self.dense_threshold = dense_threshold
        self.memory_limit = memory_limit
        self.cv = cv
        self.sparse_output = sparse_output
        self.smoothing = smoothing
        self.min_bucket_rows = min_bucket_rows
        self.in_sample_rows = in_sample_rows
        self.penalty = penalty
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.table = table

    def __sklearn_tags__(self):
        """Declare sparse input, a binary target and a float output."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        # A binary target; scikit-learn reads this from classifier tags only.
        tags.classifier_tags = ClassifierTags(multi_class=False)
        tags.transformer_tags.preserves_dtype = []
        return tags

    def _tail_encoder(self, seed: int) -> ChromaticEncoder:
        """Make the encoder of the features not kept apart."""
        return ChromaticEncoder(
            min_cooccurrence=self.min_cooccurrence,
            strategy=self.strategy,
            collision=self.collision,
            dense_threshold=self.dense_threshold,
            n_colors=self.n_colors,
            memory_limit=self.memory_limit,
            n_jobs=self.n_jobs,
            random_state=seed,
        )

    def _tail_compressor(self, n_tail: int, seed: int) -> SubmodularCompressor:
        """Make the compressor of their codes, to ``n_tail`` columns."""
        return SubmodularCompressor(
            budget=n_tail,
            cv=self.cv,
            sparse_output=True,
            smoothing=self.smoothing,
            min_bucket_rows=self.min_bucket_rows,
            in_sample_rows=self.in_sample_rows,
            penalty=self.penalty,
            random_state=seed,
            n_jobs=self.n_jobs,
        )

    def _validated(self, X, y, *, reset: bool = True):
        _, labels = binary_labels(y, owner=type(self).__name__)
        B = presence_csr(feature_rows(self, X, reset=reset))
        if len(labels) != B.shape[0]:
            raise ValueError(f"X has {B.shape[0]} rows but y has {len(labels)}")
        return B, np.asarray(y).reshape(-1)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Choose the split, color the other features and learn the buckets of their codes.

        Every step uses all rows (``n_frequent="auto"`` chooses on a sample of them).

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features)
            Training rows; any non-zero value of a matrix is a present feature, each
            ``column=value`` of a table is one.
        y : array-like of shape (n_samples,)
            Binary target.

        Returns
        -------
        self : ChromaticCompressor
            The fitted compressor.
        """
        B, labels = self._validated(X, y)
        compression, _ = fit_compression(MatrixRows.of_matrix(B, labels), compression_params(self))
        set_compression(self, compression)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, **fit_params):
        """Fit, and return the cross-fitted output of the training rows.

        The fitted model is that of ``fit``; the rare code values of each fold of rows are
        bucketed by rates from the other folds, so that no row is encoded with its own label.

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features)
            Training rows; any non-zero value of a matrix is a present feature, each
            ``column=value`` of a table is one.
        y : array-like of shape (n_samples,)
            Binary target.
        **fit_params : dict
            Ignored.

        Returns
        -------
        Z : {sparse matrix, ndarray} of shape (n_samples, n_features_out_)
            The frequent features' columns, then the buckets: CSR float64, or a dense float32
            array when ``sparse_output=False``.
        """
        return self._output(self._fit_cross_fitted(X, y))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_to_fields(self, X, y) -> Fields:
        """Fit, and return the training rows as the fields of an embedding model.

        The rows are those of ``fit_transform`` (cross-fitted: no row's buckets come from rates
        its own label moved), laid out as ``to_fields`` lays them out.

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Binary target.

        Returns
        -------
        fields : Fields
            As ``to_fields`` gives them.
        """
        return output_fields(self, self._fit_cross_fitted(X, y))

    def _fit_cross_fitted(self, X, y):
        """Fit; return the cross-fitted output of the training rows, CSR."""
        B, labels = self._validated(X, y)
        params = compression_params(self)
        folds = stratified_folds(labels, int(self.cv), True, params.seed)
        rows = MatrixRows.of_matrix(B, labels, fold_of_rows=folds)
        compression, _ = fit_compression(rows, params, cross_fit=True)
        set_compression(self, compression)
        return compressed_rows(compression, B, folds)

    def _output(self, Z):
        return Z if self.sparse_output else Z.toarray().astype(np.float32)

    def transform(self, X):
        """Encode rows as at most ``budget`` columns: the frequent features, then the buckets.

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features_in_)
            Rows to encode; features never seen in fit are ignored.

        Returns
        -------
        Z : {sparse matrix, ndarray} of shape (n_samples, n_features_out_)
            CSR float64, or a dense float32 array when ``sparse_output=False``.
        """
        check_is_fitted(self)
        return compress_features(self, presence_csr(feature_rows(self, X, reset=False)))

    def to_fields(self, X) -> Fields:
        """Encode ``X`` as the fields of an embedding model.

        Every color with a bucket is a field, its buckets the values (0: the row holds none of
        them, its color's reference); the frequent features are a bag, each its own embedding,
        and so are the columns of a hashed tail (weighted by their signed counts).
        The model holds ``n_features_out_`` embeddings, at most ``budget``.
        ``chromatic_learning.torch``
        trains click models on them; for the training rows, ``fit_to_fields`` gives the
        cross-fitted fields, as ``fit_transform`` does.

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features_in_)
            Rows to encode; features never seen in fit are ignored.

        Returns
        -------
        fields : Fields
            One field per color with a bucket, and the bag of the frequent features.
        """
        check_is_fitted(self)
        B = presence_csr(feature_rows(self, X, reset=False))
        return output_fields(self, compressed_csr(self, B))

    def get_feature_names_out(self, input_features=None):
        """Get the names of the output columns.

        A frequent feature's column carries its name; a bucket is named
        ``color{c}_b{k}[{low},{high})``: bucket ``k`` of color ``c``, the codes whose rate of the
        positive class lies in ``[low, high)``; for a table, the color carries the columns its
        features come from (``color3[site,ad_id]_b2[0.12,0.31)``); a hashed tail's columns
        are ``hash0, hash1, ...``. ``bucket_features`` lists the features of a column.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the input features; by default those seen in `fit`, or ``x0, x1, ...``.

        Returns
        -------
        names : ndarray of str objects, shape (n_features_out_,)
            The name of every output column.
        """
        check_is_fitted(self)
        names = binary_feature_names(self, input_features)
        frequent = [str(names[f]) for f in self.frequent_features_]
        if self.tail_ == "hashed":
            hashed = [f"hash{j}" for j in range(self._hashed_tail.n_columns)]
            return np.asarray([*frequent, *hashed], dtype=object)
        if self.compressor_ is None:
            return np.asarray(frequent, dtype=object)
        colors = self.encoder_.get_feature_names_out()
        colors = [
            f"{name}{source}"
            for name, source in zip(colors, color_sources(self.encoder_, self), strict=True)
        ]
        buckets = self.compressor_.get_feature_names_out(colors)
        return np.asarray([*frequent, *buckets], dtype=object)

    def bucket_features(self, column: int) -> np.ndarray:
        """List the input features an output column holds, most frequent first.

        A frequent feature's column holds that feature; a bucket holds the features of its
        color whose codes it groups; a hashed column, the features that hash to it
        (``column=value`` names for a table, else as ``get_feature_names_out`` names the
        inputs).

        Parameters
        ----------
        column : int
            An output column, ``0 <= column < n_features_out_``.

        Returns
        -------
        names : ndarray of str objects
            The names of its features, by training frequency (most frequent first).
        """
        check_is_fitted(self)
        if not 0 <= column < self.n_features_out_:
            raise ValueError(f"column must be in [0, {self.n_features_out_}), got {column}")
        names = binary_feature_names(self)
        if column < self.n_frequent_:
            return np.asarray([names[self.frequent_features_[column]]], dtype=object)
        if self.tail_ == "hashed":
            features = self.hashed_features_
            output = column - self.n_frequent_
            held = features[hashed_column_of(self._hashed_tail, features) == output]
            return np.asarray(names[held], dtype=object)
        encoder, buckets = self.encoder_, self.compressor_
        output = column - self.n_frequent_
        values = np.flatnonzero(buckets.output_of_value_ == output)
        color = int(np.searchsorted(buckets.offsets_, values[0], side="right") - 1)
        codes = values - buckets.offsets_[color]
        held = np.flatnonzero((encoder.colors_ == color) & np.isin(encoder.codes_, codes))
        # Codes number a color's features by training frequency: 1 is the most frequent.
        held = held[np.argsort(encoder.codes_[held], kind="stable")]
        return np.asarray(names[held], dtype=object)


def compress_features(compressor: ChromaticCompressor, B):
    """Return the output of a fitted ``compressor`` for binary rows ``B`` over its features."""
    return compressor._output(compressed_csr(compressor, B))


def compressed_csr(compressor: ChromaticCompressor, B) -> sp.csr_matrix:
    """Return the output columns of a fitted ``compressor`` for rows ``B``, CSR always."""
    tail = None
    if compressor._hashed_tail is not None:
        tail = hashed_columns(B, compressor._hashed_tail, effective_n_jobs(compressor.n_jobs))
    elif compressor.encoder_ is not None:
        # The frequent features are unseen to the encoder, so it ignores them. The tail's
        # compressor gives CSR columns.
        tail = compressor.compressor_.transform(compressor.encoder_.transform(B))
    return assemble(B, compressor.frequent_features_, tail)


def output_fields(compressor: ChromaticCompressor, Z) -> Fields:
    """Return a fitted ``compressor``'s output columns ``Z`` (CSR) as fields."""
    # A hashed column holds features of no one column, so a hashed tail is no field: its
    # columns join the frequent features' bag.
    n_bag = Z.shape[1] if compressor.tail_ == "hashed" else compressor.n_frequent_
    return compressed_fields(Z, n_bag, compressor.compressor_)


def _seed(compressor: ChromaticCompressor) -> int:
    """Draw the seed of the coloring, the folds and the selection sample."""
    return int(check_random_state(compressor.random_state).randint(np.iinfo(np.int32).max))


def compression_params(compressor: ChromaticCompressor) -> CompressionParams:
    """Return the parameters of ``compressor`` as the fit pipeline takes them, validated first.

    The seed is drawn from ``random_state``.
    """
    compressor._validate_params()
    seed = _seed(compressor)
    return CompressionParams(
        budget=int(compressor.budget),
        n_frequent=compressor.n_frequent,
        tail=compressor.tail,
        selection_rows=int(compressor.selection_rows),
        seed=seed,
        coloring=coloring_params(compressor._tail_encoder(seed)),
        buckets=bucket_params(compressor._tail_compressor(int(compressor.budget), seed)),
    )


def set_compression(compressor: ChromaticCompressor, compression: Compression):
    """Make ``compressor`` the fitted compressor of ``compression``.

    It gets the features kept apart, then the fitted encoder and bucket compressor of the
    others; returns ``compressor``.
    """
    encoder = bucketer = None
    # An encoder without colors (no feature but those kept apart seen in fit) encodes nothing:
    # no tail, as when the kept features take the whole budget.
    if compression.coloring is not None and len(compression.coloring.color_sizes):
        encoder = set_coloring(compressor._tail_encoder(compression.seed), compression.coloring)
        bucketer = compressor._tail_compressor(compression.bucket_params.budget, compression.seed)
        set_buckets(bucketer, compression.buckets, compression.classes)
    compressor.classes_ = compression.classes
    if not hasattr(compressor, "table_encoder_"):
        compressor.n_features_in_ = compression.n_features
    compressor.selection_scores_ = compression.selection_scores
    set_parts(compressor, compression.frequent, encoder, bucketer, compression.hashed)
    return compressor


def set_parts(
    compressor: ChromaticCompressor, frequent, encoder, bucketer, hashed: HashedTail | None = None
):
    """Set the fitted parts of ``compressor``.

    These are the features kept apart (most frequent first), and either the encoder and bucket
    compressor of the others or their hashed tail (all None when there are no others).
    """
    compressor.frequent_features_ = np.asarray(frequent, dtype=np.int64)
    compressor.encoder_, compressor.compressor_ = encoder, bucketer
    compressor.n_frequent_ = len(frequent)
    compressor._hashed_tail = hashed
    compressor.hashed_features_ = None if hashed is None else hashed.features
    if hashed is not None:
        compressor.tail_, n_tail = "hashed", hashed.n_columns
    elif bucketer is not None:
        compressor.tail_, n_tail = "buckets", bucketer.n_features_out_
    else:
        compressor.tail_, n_tail = None, 0
    compressor.n_features_out_ = compressor.n_frequent_ + n_tail
    if compressor.n_features_out_ >= compressor.budget:
        compressor.stop_reason_ = "budget"
    elif bucketer is not None:
        compressor.stop_reason_ = bucketer.stop_reason_
    else:
        compressor.stop_reason_ = "no more features"
    return compressor


def fitted_compression(compressor: ChromaticCompressor, cross_fit=None) -> Compression:
    """Return the tables of a fitted ``compressor``.

    With ``cross_fit``, they include the cross-fit tables of its training rows.
    """
    encoder, bucketer = compressor.encoder_, compressor.compressor_
    return Compression(
        classes=compressor.classes_,
        n_features=n_binary_features(compressor),
        frequent=compressor.frequent_features_,
        selection_scores=compressor.selection_scores_,
        coloring=None if encoder is None else fitted_coloring(encoder),
        buckets=None if bucketer is None else fitted_buckets(bucketer),
        bucket_params=BucketParams() if bucketer is None else bucket_params(bucketer),
        seed=0 if cross_fit is None else cross_fit.seed,
        cross_fit=cross_fit,
        hashed=compressor._hashed_tail,
    )
