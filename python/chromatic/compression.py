"""Compression of code columns to a budget of one-hot columns: `SubmodularCompressor`, and
`ChromaticCompressor`, the whole method (coloring, then compression) as one estimator."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from . import _core
from ._input import effective_n_jobs, presence_csr, validated_sparse_input
from .encoder import ChromaticEncoder


def binary_labels(y) -> tuple[np.ndarray, np.ndarray]:
    """``(classes, y == classes[1])`` for a binary target; a ValueError names anything else."""
    if y is None:
        raise ValueError("this estimator needs y, a binary target")
    y = np.asarray(y)
    if y.ndim != 1:
        y = y.ravel() if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got shape {y.shape}")
    kind = type_of_target(y)
    if kind != "binary":
        raise ValueError(f"y must be a binary target (two classes), got a {kind!r} target")
    classes = np.unique(y)
    if len(classes) != 2:
        raise ValueError(
            f"y must be a binary target with two classes, got {len(classes)}: {classes}"
        )
    return classes, y == classes[1]


def check_codes(X, n_columns: int | None = None) -> np.ndarray:
    """An integer code matrix as C-contiguous int32, refusing negative or non-integer codes."""
    codes = check_array(X, dtype=None, ensure_min_features=0)
    if codes.dtype.kind == "f":
        if not np.all(np.isfinite(codes)) or np.any(codes != np.round(codes)):
            raise ValueError("codes must be whole numbers")
    elif codes.dtype.kind not in "iub":
        raise ValueError(f"codes must be integers, got dtype {codes.dtype}")
    if n_columns is not None and codes.shape[1] != n_columns:
        raise ValueError(f"codes have {codes.shape[1]} columns, but the fit saw {n_columns}")
    negative = codes < 0
    if np.any(negative):
        row, col = np.argwhere(negative)[0]
        raise ValueError(
            f"row {row}, column {col} holds code {codes[row, col]}: codes must be >= 0"
        )
    if codes.size and codes.max() > np.iinfo(np.int32).max:
        row, col = np.unravel_index(np.argmax(codes), codes.shape)
        raise ValueError(f"row {row}, column {col} holds code {codes[row, col]}, beyond int32")
    return np.ascontiguousarray(codes, dtype=np.int32)


def frequent_features(counts: np.ndarray, n_frequent: int) -> np.ndarray:
    """The ``n_frequent`` most frequent features by ``counts`` (ties to the smaller id), only
    features seen at all."""
    order = np.lexsort((np.arange(len(counts)), -counts))
    return order[: min(n_frequent, int((counts > 0).sum()))].astype(np.int64)


class SubmodularCompressor(TransformerMixin, BaseEstimator):
    """Compress integer code columns to at most ``budget`` one-hot columns chosen for what they
    tell about a binary target (submodular feature compression, Bateni et al., 2019).

    For every column, its values (with the "absent" value 0) are sorted by their rate of
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
        Threads; ``None`` uses every core.

    Attributes
    ----------
    n_features_in_ : int
    classes_ : ndarray of shape (2,)
        The target's classes; the second is "positive".
    column_sizes_ : ndarray of shape (n_features_in_,), int64
        Values of each column seen in fit (its largest code plus one).
    n_features_out_ : int
        Output columns (at most ``budget``).
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
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    def _validated(self, X, y):
        validate_data(self, X, reset=True, dtype=None, ensure_min_features=0, skip_check_array=True)
        codes = check_codes(X)
        classes, labels = binary_labels(y)
        if len(labels) != codes.shape[0]:
            raise ValueError(f"X has {codes.shape[0]} rows but y has {len(labels)}")
        return codes, classes, labels

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn the buckets on all rows of ``X`` (integer codes, 0 = absent) and binary ``y``."""
        codes, classes, labels = self._validated(X, y)
        self._fit_codes(codes, classes, labels)
        return self

    def _fit_codes(self, codes, classes, labels):
        sizes = codes.max(axis=0).astype(np.int64) + 1 if len(codes) else np.ones(codes.shape[1])
        sizes = np.asarray(sizes, dtype=np.int64)
        fitted = _core.fit_buckets(
            codes,
            labels,
            None,
            sizes,
            **self._bucket_params(),
            n_jobs=effective_n_jobs(self.n_jobs),
        )
        self._set_fitted(fitted, classes, sizes)

    def _bucket_params(self) -> dict:
        return {
            "budget": int(self.budget),
            "smoothing": float(self.smoothing),
            "min_bucket_rows": int(self.min_bucket_rows),
            "penalty": float(self.penalty),
        }

    def _set_fitted(self, fitted: dict, classes: np.ndarray, column_sizes: np.ndarray) -> None:
        """The fitted attributes from the engine's bucket tables (`fit_buckets`)."""
        self.classes_ = classes
        self.n_features_in_ = len(column_sizes)
        self.column_sizes_ = column_sizes
        self.offsets_ = fitted["offsets"]
        self.output_of_value_ = fitted["output_of_value"]
        self.n_features_out_ = int(fitted["n_outputs"])
        self.boundary_offsets_ = fitted["boundary_offsets"]
        self.boundaries_ = fitted["boundaries"]
        self.bucket_outputs_ = fitted["bucket_outputs"]

    def _encode(self, codes: np.ndarray, output_of_value: np.ndarray):
        indptr, indices = _core.transform_buckets(
            codes,
            self.offsets_,
            output_of_value,
            self.n_features_out_,
            n_jobs=effective_n_jobs(self.n_jobs),
        )
        out = sp.csr_matrix(
            (np.ones(len(indices)), indices, indptr),
            shape=(codes.shape[0], self.n_features_out_),
        )
        return out if self.sparse_output else out.toarray().astype(np.float32)

    def transform(self, X):
        """One-hot bucket columns of ``X``: CSR float64, or dense float32."""
        check_is_fitted(self)
        codes = check_codes(X, self.n_features_in_)
        return self._encode(codes, self.output_of_value_)

    def fit_transform(self, X, y=None, **fit_params):
        """Fit on all rows, and encode each fold with rates from the other folds."""
        self._validate_params()
        codes, classes, labels = self._validated(X, y)
        self._fit_codes(codes, classes, labels)
        folds = StratifiedKFold(
            n_splits=int(self.cv),
            shuffle=bool(self.shuffle),
            random_state=self.random_state if self.shuffle else None,
        )
        blocks, order = [], []
        value_rows = (
            np.concatenate(
                [
                    np.bincount(codes[:, j], minlength=int(size))
                    for j, size in enumerate(self.column_sizes_)
                ]
            )
            if codes.shape[1]
            else np.zeros(0, dtype=np.int64)
        )
        for train, test in folds.split(np.zeros(len(labels)), labels):
            use_rows = np.zeros(len(labels), dtype=bool)
            use_rows[train] = True
            table = _core.assign_buckets(
                codes,
                labels,
                use_rows,
                self.column_sizes_,
                self.boundary_offsets_,
                self.boundaries_,
                self.bucket_outputs_,
                smoothing=float(self.smoothing),
                n_jobs=effective_n_jobs(self.n_jobs),
            )
            if self.in_sample_rows is not None:
                table = np.where(value_rows >= self.in_sample_rows, self.output_of_value_, table)
            blocks.append(self._encode(np.ascontiguousarray(codes[test]), table))
            order.append(test)
        stacked = sp.vstack(blocks, format="csr") if self.sparse_output else np.vstack(blocks)
        inverse = np.empty(len(labels), dtype=np.int64)
        inverse[np.concatenate(order)] = np.arange(len(labels))
        return stacked[inverse]

    def get_feature_names_out(self, input_features=None):
        """``{input}_b{k}``: bucket ``k`` (in rate order) of an input column."""
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        out = np.empty(self.n_features_out_, dtype=object)
        for j in range(self.n_features_in_):
            start, end = self.boundary_offsets_[j], self.boundary_offsets_[j + 1]
            for k, output in enumerate(self.bucket_outputs_[start + j : end + j + 1]):
                if output >= 0:
                    out[output] = f"{names[j]}_b{k}"
        return out


class ChromaticCompressor(TransformerMixin, BaseEstimator):
    """Chromatic Learning to a budget: the most frequent features keep columns of their own, and
    the rest of the budget goes to ``ChromaticEncoder`` (one code column per color of the
    feature co-occurrence graph) followed by ``SubmodularCompressor`` (the most informative
    buckets of those columns).

    ``ChromaticCompressor(budget=1024)`` in front of a ``LogisticRegression`` turns millions of
    sparse binary columns into 1024. ``fit_transform`` cross-fits the compression (see
    ``SubmodularCompressor``), so a pipeline's model never sees a rare value encoded with its
    own label.

    Why frequent features apart: buckets group features by their rate of positives, which is
    what a small budget needs, but at large budgets a linear model gains more from individual
    weights for the features it sees often. ``n_frequent="auto"`` chooses the split on the
    training rows: each candidate (none, 1/4, 1/2, 3/4 or 15/16 of the budget) is
    fitted on three quarters of a sample of at most ``selection_rows`` rows, scored by the log
    loss of a logistic regression on the remaining quarter, and the best is refitted on all rows.

    Parameters
    ----------
    budget : int, default=1024
        Output columns at most.
    n_frequent : "auto" or int, default="auto"
        Features (by training frequency) that keep columns of their own; at most ``budget``.
    selection_rows : int, default=200_000
        Sample size for ``n_frequent="auto"``.
    n_colors, min_cooccurrence, strategy, collision, dense_threshold, memory_limit :
        As in ``ChromaticEncoder``.
    cv, sparse_output, smoothing, min_bucket_rows, in_sample_rows, penalty :
        As in ``SubmodularCompressor``.
    n_jobs : int, default=None
        Threads; ``None`` uses every core.
    random_state : int, RandomState instance or None, default=None
        Seeds the coloring, the folds and the selection sample.

    Attributes
    ----------
    n_frequent_ : int
        Features with a column of their own (the first output columns).
    frequent_features_ : ndarray of int64
        Those features, most frequent first.
    selection_scores_ : dict
        ``{n_frequent: validation log loss}`` of the candidates, when ``n_frequent="auto"``.
    encoder_ : ChromaticEncoder or None
    compressor_ : SubmodularCompressor or None
        ``None`` when the frequent features take the whole budget.
    n_features_in_ : int
    n_features_out_ : int
    classes_ : ndarray of shape (2,)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_frequent": [StrOptions({"auto"}), Interval(Integral, 0, None, closed="left")],
        "selection_rows": [Interval(Integral, 100, None, closed="left")],
        **{
            name: ChromaticEncoder._parameter_constraints[name]
            for name in (
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
    ):
        self.budget = budget
        self.n_frequent = n_frequent
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    def _fit_split(self, B, y, n_frequent, seed, *, cross_fit):
        """Fit on binary rows ``B`` with ``n_frequent`` features apart; returns the fitted parts
        and, with ``cross_fit``, the cross-fitted output for ``B``."""
        frequent = frequent_features(np.bincount(B.indices, minlength=B.shape[1]), n_frequent)
        n_tail = int(self.budget) - len(frequent)
        encoder = compressor = None
        tail_output = None
        if n_tail > 0:
            tail = B.copy()
            # Explicit zeros are absent to the encoder: the frequent features leave the graph.
            tail.data[np.isin(tail.indices, frequent)] = 0.0
            encoder = self._tail_encoder(seed)
            compressor = self._tail_compressor(n_tail, seed)
            codes = encoder.fit_transform(tail)
            if cross_fit:
                tail_output = compressor.fit_transform(codes, y)
            else:
                compressor.fit(codes, y)
        parts = (frequent, encoder, compressor)
        if not cross_fit:
            return parts, None
        return parts, self._assemble(B, frequent, tail_output)

    def _tail_encoder(self, seed: int) -> ChromaticEncoder:
        """The encoder of the features not kept apart."""
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
        """The compressor of their codes, to ``n_tail`` columns."""
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

    def _assemble(self, B, frequent, tail_output):
        blocks = [B[:, frequent]]
        if tail_output is not None:
            blocks.append(tail_output)
        out = sp.hstack(blocks, format="csr", dtype=np.float64)
        out.sort_indices()
        return out

    def _choose_n_frequent(self, B, y, seed):
        if self.n_frequent != "auto":
            return int(min(self.n_frequent, self.budget)), None
        from sklearn.linear_model import LogisticRegression

        rng = np.random.default_rng(seed)
        rows = rng.permutation(B.shape[0])[: int(self.selection_rows)]
        cut = (3 * len(rows)) // 4
        fit_rows, val_rows = rows[:cut], rows[cut:]
        B_fit, B_val, y_fit, y_val = B[fit_rows], B[val_rows], y[fit_rows], y[val_rows]
        if len(np.unique(y_fit)) < 2 or len(np.unique(y_val)) < 2:
            return 0, None
        scores = {}
        budget = int(self.budget)
        for n_frequent in sorted(
            {0, budget // 4, budget // 2, (3 * budget) // 4, budget - budget // 16}
        ):
            parts, Z_fit = self._fit_split(B_fit, y_fit, n_frequent, seed, cross_fit=True)
            Z_val = self._transform_parts(B_val, *parts)
            model = LogisticRegression(max_iter=300).fit(Z_fit, y_fit)
            p = np.clip(model.predict_proba(Z_val)[:, 1].astype(np.float64), 1e-15, 1 - 1e-15)
            scores[n_frequent] = float(-np.mean(y_val * np.log(p) + (1 - y_val) * np.log(1 - p)))
        return min(scores, key=lambda k: (scores[k], k)), scores

    def _transform_parts(self, B, frequent, encoder, compressor):
        tail_output = None
        if encoder is not None:
            # The frequent features are unseen to the encoder, so it ignores them.
            tail_output = compressor.transform(encoder.transform(B))
        return self._assemble(B, frequent, tail_output)

    def _fit(self, X, y, *, cross_fit):
        self._validate_params()
        self.classes_, labels = binary_labels(y)
        B = presence_csr(validated_sparse_input(self, X, reset=True))
        if len(labels) != B.shape[0]:
            raise ValueError(f"X has {B.shape[0]} rows but y has {len(labels)}")
        labels = labels.astype(np.int64)
        seed = self._seed()
        self.n_frequent_, self.selection_scores_ = self._choose_n_frequent(B, labels, seed)
        parts, output = self._fit_split(B, labels, self.n_frequent_, seed, cross_fit=cross_fit)
        self._set_parts(*parts)
        return output

    def _seed(self) -> int:
        """The seed of the coloring, the folds and the selection sample."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _set_parts(self, frequent, encoder, compressor) -> None:
        self.frequent_features_, self.encoder_, self.compressor_ = frequent, encoder, compressor
        self.n_frequent_ = len(frequent)
        tail = 0 if compressor is None else compressor.n_features_out_
        self.n_features_out_ = self.n_frequent_ + tail

    def fit(self, X, y):
        """Choose the split, color the other features of ``X`` and learn the buckets of their
        codes on all rows."""
        self._fit(X, y, cross_fit=False)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, and return the cross-fitted output for ``X``."""
        return self._output(self._fit(X, y, cross_fit=True))

    def _output(self, Z):
        return Z if self.sparse_output else Z.toarray().astype(np.float32)

    def transform(self, X):
        """At most ``budget`` columns: the frequent features, then the buckets."""
        check_is_fitted(self)
        B = presence_csr(validated_sparse_input(self, X, reset=False))
        parts = (self.frequent_features_, self.encoder_, self.compressor_)
        return self._output(self._transform_parts(B, *parts))

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        frequent = [str(names[f]) for f in self.frequent_features_]
        if self.compressor_ is None:
            return np.asarray(frequent, dtype=object)
        buckets = self.compressor_.get_feature_names_out(self.encoder_.get_feature_names_out())
        return np.asarray([*frequent, *buckets], dtype=object)
