"""`ChromaticEncoder`: sparse binary features as one code column per color, losslessly."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _core
from ._fields import Fields, code_fields
from ._input import check_structure, csr_arrays, effective_n_jobs
from ._pipeline import fit_coloring, forecast_collisions
from ._sources import MatrixRows
from ._table_input import (
    binary_feature_names,
    column_of_binary_feature,
    feature_rows,
    n_binary_features,
)
from ._tables import Coloring, ColoringParams
from ._validation import check_codes, memory_bytes

STRATEGIES = ("largest_first", "smallest_last", "natural", "dsatur", "random")
COLLISION_POLICIES = ("most_frequent", "least_frequent")


class ChromaticEncoder(TransformerMixin, BaseEstimator):
    """Encode sparse binary features as one code column per color (Chromatic Learning).

    Two features that appear together in a training row are adjacent in the co-occurrence
    graph; a greedy coloring gives adjacent features different colors [1]_. Features of one
    color never share a training row, so a row is losslessly described by one code per color:
    which of the color's features it holds (``1..size``, numbered by training frequency), or
    ``0`` for none. Millions of sparse columns become a few dozen categorical ones.

    Any non-zero value of a matrix is read as "present"; explicit zeros are absent; NaN and
    infinities are errors. A table (pandas or polars DataFrame, pyarrow Table) is read by
    column: each ``column=value`` pair is a feature (see ``TableEncoder``).

    Parameters
    ----------
    min_cooccurrence : int, default=1
        Pairs of features seen together in fewer training rows than this are not edges, so they
        may share a color. Values above 1 give fewer colors at the price of collisions on
        training rows too.
    strategy : {"largest_first", "smallest_last", "natural", "dsatur", "random"}, \
            default="largest_first"
        Order of the greedy coloring: largest degree first; smallest-last (degeneracy) order;
        training frequency order; DSATUR (most distinct neighbour colors first: fewest colors,
        slowest); or a random order drawn from ``random_state``.
    collision : {"most_frequent", "least_frequent"}, default="most_frequent"
        Which feature a code keeps when a row holds several features of one color (possible on
        new rows, or on training rows when ``min_cooccurrence > 1``).
    dense_threshold : float in (0, 1] or None, default=0.1
        A feature present in at least this share of the training rows gets a color of its own
        instead of joining the graph. ``None`` puts every feature in the graph.
    n_colors : int or None, default=None
        Use exactly this many colors (dense features included) instead of as many as the greedy
        coloring needs. With more colors than it needs, the features are spread over all of
        them by Glauber dynamics (each step gives a vertex a uniformly random color among those
        its neighbours do not use), which makes collisions on new rows rarer. With fewer,
        adjacent features must share colors: each vertex takes the color it shares the lightest
        co-occurrence weight with, then local search lowers that weight, and training rows may
        collide (``conflict_weight_`` bounds how often). Features fill a color each at most:
        with more colors than features seen in fit, the spreading runs over all of them (at a
        cost that follows the features, not the colors), a ``UserWarning`` says so, and the
        colors left empty are dropped, so ``n_colors_`` is smaller.
    glauber_steps : int or None, default=None
        Glauber updates with ``n_colors``; ``None`` for ``2 |V| ln |V|``. Updates run in sweeps
        over the color classes (a class is updated in parallel, its members being pairwise
        non-adjacent), so the count is rounded up to whole sweeps over the ``|V|`` graph vertices.
    memory_limit : int, str or None, default=None
        Bytes the graph build may use beyond the input rows (an int, or a string such as
        ``"16G"`` or ``"512M"``). When the graph's counts would not fit, the build is sharded by
        vertex range, one pass over the rows per shard; the result is the same. A graph whose
        kept edges alone exceed it raises MemoryError (raise ``min_cooccurrence`` or the
        limit). ``None``: one pass, no limit.
    output : {"codes", "onehot"}, default="codes"
        ``"codes"``: a dense int32 array of shape ``(n_samples, n_colors_)``. ``"onehot"``: a
        sparse CSR matrix with one column per (color, code >= 1), i.e. one per training feature.
    n_jobs : int, default=None
        Threads for fitting and encoding. ``None`` uses every core, or as many as
        ``OMP_NUM_THREADS`` allows where it is set (joblib sets it in its workers, so that
        ``GridSearchCV(n_jobs=2)`` on two cores runs two fits of one thread each); ``-1``
        every core, ``-2`` all but one. The result does not depend on it.
    random_state : int, RandomState instance or None, default=None
        Seeds the ``"random"`` strategy and the Glauber dynamics of ``n_colors``.
    table : TableEncoder or None, default=None
        How the columns of a table become features (which columns, numeric bins, rare values);
        ``None`` reads every column with ``TableEncoder``'s defaults. Unused for matrices.

    Attributes
    ----------
    n_features_in_ : int
        Columns of the input (of a table: those read).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when ``X`` has string column names.
    table_encoder_ : TableEncoder
        The fitted encoder of a table's columns into features; defined only when fitted on a
        table.
    n_colors_ : int
        Number of colors, i.e. of code columns.
    colors_ : ndarray of shape (n_features,), int32
        Color of each input feature (a matrix column, or a table's ``column=value``); -1 for
        features never seen in fit.
    codes_ : ndarray of shape (n_features,), int32
        Code of each input feature within its color (1 = most frequent); 0 if never seen.
    color_sizes_ : ndarray of shape (n_colors_,), int64
        Features per color; colors are ordered from largest to smallest.
    document_frequency_ : ndarray of shape (n_features,), int64
        Training rows holding each feature.
    dense_features_ : ndarray, int64
        Features that got a color of their own through ``dense_threshold``.
    field_dims_ : ndarray of shape (n_colors_,), int64
        Vocabulary size of each code column for embedding layers: ``color_sizes_ + 1``, code 0
        (absent) included.
    n_edges_ : int
        Edges of the co-occurrence graph (dense features excluded).
    max_degree_ : int
        Largest vertex degree of that graph; a greedy coloring needs at most
        ``max_degree_ + 1`` colors for it.
    n_greedy_colors_ : int
        Colors the greedy coloring needed for the graph, before recoloring to ``n_colors``.
    conflict_weight_ : int
        Training co-occurrences of same-colored features: 0 unless ``n_colors`` is below what
        the coloring needs (or ``min_cooccurrence > 1``, whose dropped edges are not counted
        here); an upper bound on the collisions of the training rows.
    collision_forecast_ : float
        Only after ``forecast_collisions``: features a new row is expected to lose to
        collisions, measured on ``forecast_rows_`` training rows held out of a second fit.
    forecast_rows_ : int
        The held-out rows behind ``collision_forecast_``.

    See Also
    --------
    ChromaticCompressor : The codes compressed further, to a budget of columns.
    SubmodularCompressor : Compression of these codes for a binary target.
    HashingEncoder : The hashing trick, a baseline for a fixed width.
    sklearn.preprocessing.OneHotEncoder : One-hot columns of the codes, for linear models.

    Notes
    -----
    With the default ``dense_threshold=0.1``, a feature in at least a tenth of the rows gets its
    own color, so on tiny inputs (10 rows or fewer) every seen feature does; pass
    ``dense_threshold=None`` to color them all.

    The codes of several colors compressed to a fixed budget of columns for a binary target
    (submodular feature compression [2]_) are ``ChromaticCompressor``.

    References
    ----------
    .. [1] V. Feinberg and P. Bailis, "Chromatic Learning for Sparse Datasets",
       arXiv:2006.03779, 2020. https://arxiv.org/abs/2006.03779
    .. [2] M. Bateni, L. Chen, H. Esfandiari, T. Fu, V. S. Mirrokni and A. Rostamizadeh,
       "Categorical Feature Compression via Submodular Optimization", ICML 2019,
       arXiv:1904.13389. https://arxiv.org/abs/1904.13389

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from chromatic_learning import ChromaticEncoder
    >>> X = sp.csr_array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 0, 1]])
    >>> enc = ChromaticEncoder(dense_threshold=None).fit(X)
    >>> enc.n_colors_
    2
    >>> codes = enc.transform(X)
    >>> bool((enc.inverse_transform(codes) != X).nnz == 0)
    True
    >>> enc.collisions(sp.csr_array([[1, 1, 0, 0]]))
    (1, 0)
    """

    _parameter_constraints: ClassVar[dict] = {
        "min_cooccurrence": [Interval(Integral, 1, 2**32 - 1, closed="both")],
        "strategy": [StrOptions(set(STRATEGIES))],
        "collision": [StrOptions(set(COLLISION_POLICIES))],
        "dense_threshold": [Interval(Real, 0, 1, closed="right"), None],
        "n_colors": [Interval(Integral, 1, 2**31 - 1, closed="both"), None],
        # The engine counts steps in 64 bits.
        "glauber_steps": [Interval(Integral, 0, 2**64 - 1, closed="both"), None],
        "memory_limit": [Interval(Integral, 1, None, closed="left"), str, None],
        "output": [StrOptions({"codes", "onehot"})],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "table": [HasMethods(["fit_transform", "transform"]), None],
    }

    def __init__(
        self,
        min_cooccurrence=1,
        strategy="largest_first",
        collision="most_frequent",
        dense_threshold=0.1,
        n_colors=None,
        glauber_steps=None,
        memory_limit=None,
        output="codes",
        n_jobs=None,
        random_state=None,
        table=None,
    ):
        self.min_cooccurrence = min_cooccurrence
        self.strategy = strategy
        self.collision = collision
        self.dense_threshold = dense_threshold
        self.n_colors = n_colors
        self.glauber_steps = glauber_steps
        self.memory_limit = memory_limit
        self.output = output
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.table = table

    def __sklearn_tags__(self):
        """Declare sparse input without NaN, and integer codes whatever the input dtype."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = False
        # Codes are integers whatever the input dtype.
        tags.transformer_tags.preserves_dtype = []
        return tags

    def _rows(self, X, *, reset: bool) -> MatrixRows:
        # The engine checks the values (NaN and infinities, by row and column) as it reads them.
        arrays = csr_arrays(feature_rows(self, X, reset=reset))
        return MatrixRows(*arrays.engine_args())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the coloring of the features of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features)
            Training rows; any non-zero value of a matrix is a present feature, each
            ``column=value`` of a table is one.
        y : None
            Ignored.

        Returns
        -------
        self : ChromaticEncoder
            The fitted encoder.
        """
        coloring, _ = fit_coloring(self._rows(X, reset=True), coloring_params(self))
        set_coloring(self, coloring)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, **fit_params):
        """Fit on ``X`` and encode it, validating and converting ``X`` once.

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features)
            Training rows; any non-zero value of a matrix is a present feature, each
            ``column=value`` of a table is one.
        y : None
            Ignored.
        **fit_params : dict
            Ignored.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_colors_), int32, or sparse matrix
            As ``transform`` gives them: the rows are encoded losslessly when
            ``min_cooccurrence=1`` and ``n_colors`` is not below what the coloring needs.
        """
        rows = self._rows(X, reset=True)
        coloring, _ = fit_coloring(rows, coloring_params(self))
        set_coloring(self, coloring)
        return self._output(self._encoded(rows)[0])

    def transform(self, X):
        """Encode ``X`` as one code per color (or its one-hot expansion).

        Nothing on the encoder changes; ``collisions(X)`` counts what the encoding loses.

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features_in_)
            Rows to encode; any non-zero value is a present feature.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_colors_), int32, or sparse matrix
            One code per color (0 = none of its features), or, with ``output="onehot"``, a
            CSR matrix of shape (n_samples, color_sizes_.sum()) with one column per feature
            seen in fit.
        """
        check_is_fitted(self)
        return self._output(self._encoded(self._rows(X, reset=False))[0])

    def collisions(self, X) -> tuple[int, int]:
        """Count what encoding ``X`` loses: ``(collisions, unseen)``.

        ``transform`` keeps one feature per color and row and ignores features never seen in
        fit; this says how many present features that drops, without changing the encoder.

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features_in_)
            Rows as ``transform`` takes them.

        Returns
        -------
        collisions : int
            Present features dropped because another feature of the same color was present
            in the same row (the one ``collision`` keeps).
        unseen : int
            Present features never seen in fit.
        """
        check_is_fitted(self)
        _, collisions, unseen = self._encoded(self._rows(X, reset=False))
        return collisions, unseen

    def forecast_collisions(self, X) -> float:
        """Forecast the collisions per row of new rows, from the training rows ``X``.

        A coloring leaves no collision in the rows it was fitted on (at ``min_cooccurrence=1``
        with the colors it needs); new rows bring pairs never seen together. To see how many,
        the coloring is fitted once more with the same parameters on nine rows in ten of ``X``
        (chosen by a hash of the row number) and the tenth are encoded with it, as rows it has
        never seen. That costs about one more fit; the figure is slightly pessimistic (a tenth
        fewer rows behind the coloring) and is kept as ``collision_forecast_``, which a model
        file keeps too.

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features_in_)
            The rows the encoder was fitted on.

        Returns
        -------
        collisions_per_row : float
            Expected features dropped by collisions per new row.
        """
        check_is_fitted(self)
        rows = self._rows(X, reset=False)
        collisions, n_rows = forecast_collisions(rows, coloring_params(self), zero_based=True)
        set_collision_forecast(self, collisions, n_rows)
        return self.collision_forecast_

    def to_fields(self, X) -> Fields:
        """Encode ``X`` as the fields of an embedding model: one per color, its code the value.

        ``chromatic_learning.torch`` trains click models on them: field ``c`` has ``field_dims_[c]``
        values, 0 (none of the color's features) without an embedding, so the model holds one
        embedding per feature seen in fit.

        Parameters
        ----------
        X : {array-like, sparse matrix} or table of shape (n_samples, n_features_in_)
            Rows as ``transform`` takes them.

        Returns
        -------
        fields : Fields
            ``values`` the codes (int64, shape ``(n_samples, n_colors_)``), ``field_dims``
            ``field_dims_``, and no bag.
        """
        check_is_fitted(self)
        codes = self._encoded(self._rows(X, reset=False))[0]
        return code_fields(codes, self.field_dims_)

    def _encoded(self, rows: MatrixRows) -> tuple[np.ndarray, int, int]:
        chunk = rows.rows
        return fitted_coloring(self).encode_counted(
            chunk.indptr, chunk.indices, chunk.data, chunk.n_rows
        )

    def _output(self, codes: np.ndarray):
        return self._onehot(codes) if self.output == "onehot" else codes

    def _slot_offsets(self) -> np.ndarray:
        """First one-hot column of each color."""
        return np.concatenate(([0], np.cumsum(self.color_sizes_)))[:-1].astype(np.int64)

    def _onehot(self, codes: np.ndarray) -> sp.csr_matrix:
        present = codes > 0
        columns = (codes.astype(np.int64) + self._slot_offsets() - 1)[present]
        indptr = np.concatenate(([0], np.cumsum(present.sum(axis=1, dtype=np.int64))))
        width = int(self.color_sizes_.sum())
        return sp.csr_matrix(
            (np.ones(len(columns)), columns, indptr), shape=(codes.shape[0], width)
        )

    def _slot_features(self) -> np.ndarray:
        """Map each one-hot column to the input feature behind it."""
        seen = np.flatnonzero(self.colors_ >= 0)
        slots = self._slot_offsets()[self.colors_[seen]] + self.codes_[seen] - 1
        features = np.empty(int(self.color_sizes_.sum()), dtype=np.int64)
        features[slots] = seen
        return features

    def inverse_transform(self, X):
        """Decode codes (or their one-hot expansion) back to binary rows of the input space.

        On training rows fitted with ``min_cooccurrence=1`` this gives back the binarized input
        exactly; otherwise features lost to collisions or unseen in fit are missing.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_colors_), or sparse matrix
            Codes, or the CSR output of ``transform`` when ``output="onehot"``.

        Returns
        -------
        X_original : scipy.sparse.csr_matrix of shape (n_samples, n_features), float64
            Ones where a feature is present: matrix columns, or a table's ``column=value``
            features (in the order of ``table_encoder_.get_feature_names_out()``).
        """
        check_is_fitted(self)
        n_features = len(self.colors_)
        if sp.issparse(X):
            X = check_array(X, accept_sparse="csr", dtype=None, ensure_min_features=0)
            width = int(self.color_sizes_.sum())
            if X.shape[1] != width:
                raise ValueError(
                    f"X has {X.shape[1]} one-hot columns, but this encoder writes {width}"
                )
            X = X.tocsr(copy=True)
            # The indices index a table below: one outside the columns must not wrap around.
            check_structure(csr_arrays(X))
            X.eliminate_zeros()
            indices = self._slot_features()[X.indices]
            out = sp.csr_matrix(
                (np.ones(len(indices)), indices, X.indptr.astype(np.int64)),
                shape=(X.shape[0], n_features),
            )
            out.sort_indices()
            return out
        codes = check_codes(
            X,
            self.n_colors_,
            noun="color",
            fitted=f"this encoder has {self.n_colors_} colors",
        )
        indptr, indices = _core.decode(
            codes,
            self.colors_,
            self.codes_,
            self.color_sizes_,
            n_jobs=effective_n_jobs(self.n_jobs),
        )
        return sp.csr_matrix(
            (np.ones(len(indices)), indices, indptr), shape=(codes.shape[0], n_features)
        )

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        ``output="codes"``: ``color0, color1, ...``; for a table, each with the columns its
        features come from, as ``color0[site,ad_id]``. ``output="onehot"``: each column stands
        for exactly one input feature, so it carries that feature's name (``column=value`` for
        a table).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the input features; by default those seen in `fit`, or ``x0, x1, ...``.

        Returns
        -------
        names : ndarray of str objects
            The name of every output column.
        """
        check_is_fitted(self)
        feature_names = binary_feature_names(self, input_features)
        if self.output == "onehot":
            return np.asarray(feature_names[self._slot_features()], dtype=object)
        sources = color_sources(self)
        return np.asarray([f"color{c}{sources[c]}" for c in range(self.n_colors_)], dtype=object)


def coloring_params(encoder: ChromaticEncoder, *, seed: int | None = None) -> ColoringParams:
    """Return the parameters of ``encoder`` as the fit pipeline takes them, validated first.

    ``seed`` is drawn from its ``random_state`` (unless given), the memory limit is in bytes,
    ``n_jobs`` in threads.
    """
    encoder._validate_params()
    if seed is None:
        seed = int(check_random_state(encoder.random_state).randint(np.iinfo(np.int32).max))
    threshold = encoder.dense_threshold
    return ColoringParams(
        min_cooccurrence=int(encoder.min_cooccurrence),
        strategy=encoder.strategy,
        seed=seed,
        dense_threshold=None if threshold is None else float(threshold),
        n_colors=None if encoder.n_colors is None else int(encoder.n_colors),
        glauber_steps=None if encoder.glauber_steps is None else int(encoder.glauber_steps),
        memory_limit=memory_bytes(encoder.memory_limit),
        collision=encoder.collision,
        n_jobs=effective_n_jobs(encoder.n_jobs),
    )


def set_coloring(encoder: ChromaticEncoder, coloring: Coloring) -> ChromaticEncoder:
    """Make ``encoder`` the fitted encoder of ``coloring``; return it.

    It gets the fitted attributes of ``coloring``, over ``coloring.n_features`` input features
    (a table's encoder keeps its columns as ``n_features_in_``).
    """
    if not hasattr(encoder, "table_encoder_"):
        encoder.n_features_in_ = coloring.n_features
    encoder.colors_ = coloring.colors
    encoder.codes_ = coloring.codes
    encoder.color_sizes_ = coloring.color_sizes
    encoder.document_frequency_ = coloring.document_frequency
    encoder.dense_features_ = coloring.dense_features.astype(np.int64)
    encoder.n_colors_ = len(coloring.color_sizes)
    encoder.field_dims_ = coloring.color_sizes + 1
    encoder.n_edges_ = int(coloring.n_edges)
    encoder.max_degree_ = int(coloring.max_degree)
    encoder.n_greedy_colors_ = int(coloring.n_greedy_colors)
    encoder.conflict_weight_ = int(coloring.conflict_weight)
    # A forecast belongs to the coloring it was made for.
    encoder.__dict__.pop("collision_forecast_", None)
    encoder.__dict__.pop("forecast_rows_", None)
    return encoder


def set_collision_forecast(encoder: ChromaticEncoder, collisions: int, n_rows: int) -> None:
    """Keep a forecast of ``collisions`` on ``n_rows`` held-out rows on ``encoder``."""
    if n_rows == 0:
        raise ValueError("no row was held out to forecast collisions: the rows are too few")
    encoder.collision_forecast_ = collisions / n_rows
    encoder.forecast_rows_ = int(n_rows)


def fitted_coloring(encoder: ChromaticEncoder) -> Coloring:
    """Return the coloring of a fitted ``encoder``, as the pipeline's tables."""
    return Coloring(
        colors=encoder.colors_,
        codes=encoder.codes_,
        color_sizes=encoder.color_sizes_,
        document_frequency=encoder.document_frequency_,
        dense_features=encoder.dense_features_,
        n_edges=encoder.n_edges_,
        max_degree=encoder.max_degree_,
        n_greedy_colors=encoder.n_greedy_colors_,
        conflict_weight=encoder.conflict_weight_,
        n_features=n_binary_features(encoder),
        collision=encoder.collision,
        n_jobs=effective_n_jobs(encoder.n_jobs),
    )


def color_sources(encoder: ChromaticEncoder, table_model=None) -> list[str]:
    """Return, per color of ``encoder``, ``[column,...]``: the table columns its features come from.

    ``table_model`` is the estimator holding the table encoder (``encoder`` itself by default;
    a compressor for its inner encoder). Empty strings for a matrix, whose features have no
    column to name.
    """
    table_model = encoder if table_model is None else table_model
    column_of_feature = column_of_binary_feature(table_model)
    if column_of_feature is None:
        return [""] * encoder.n_colors_
    names = table_model.table_encoder_.feature_names_in_
    seen = np.flatnonzero(encoder.colors_ >= 0)
    pairs = np.unique(encoder.colors_[seen].astype(np.int64) * len(names) + column_of_feature[seen])
    sources = [[] for _ in range(encoder.n_colors_)]
    for color, column in zip(*np.divmod(pairs, len(names)), strict=True):
        sources[color].append(str(names[column]))
    return ["[" + ",".join(columns) + "]" for columns in sources]
