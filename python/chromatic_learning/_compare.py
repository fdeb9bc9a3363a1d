"""Chromatic Learning against the hashing trick and frequency truncation at equal budgets.

The comparison behind ``chromatic-learning compare`` and ``benches/quality.py``: every method
encodes the same training rows to at most the same number of columns, one logistic regression
learns from each, and the test rows are scored by log loss and ROC AUC. At every budget the
method with the lowest test log loss is set against the runner-up on the same test rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from ._baselines import FrequencyEncoder, HashingEncoder
from ._compression import ChromaticCompressor

METHODS = ("CL+SFC", "CL+SFC 50%", "hashing", "frequency")
EPS = 1e-15


def row_log_loss(y, p) -> np.ndarray:
    """Log loss of every row.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels, 0 or 1.
    p : array-like of shape (n_samples,)
        Predicted probabilities of label 1, clipped to ``[1e-15, 1 - 1e-15]``.

    Returns
    -------
    loss : ndarray of shape (n_samples,), float64
        ``-(y log p + (1 - y) log(1 - p))`` of every row.

    Examples
    --------
    >>> import numpy as np
    >>> from chromatic_learning._compare import row_log_loss
    >>> row_log_loss(np.array([1, 0]), np.array([0.5, 0.5])).round(4)
    array([0.6931, 0.6931])
    """
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def logistic(Z_train, y_train, Z_test) -> np.ndarray:
    """Fit the one learner of every comparison and predict the test rows.

    The learner is ``LogisticRegression(C=1.0, solver="lbfgs", max_iter=1000)``.

    Parameters
    ----------
    Z_train : {array-like, sparse matrix} of shape (n_train, n_columns)
        Encoded training rows.
    y_train : array-like of shape (n_train,)
        Their labels.
    Z_test : {array-like, sparse matrix} of shape (n_test, n_columns)
        Encoded test rows.

    Returns
    -------
    p : ndarray of shape (n_test,)
        Predicted probability of the positive class for each test row.
    """
    model = LogisticRegression(C=1.0, solver="lbfgs", max_iter=1000)
    model.fit(Z_train, y_train)
    return model.predict_proba(Z_test)[:, 1]


def encode(method: str, budget: int, X_train, y_train, X_test, seed: int):
    """Encode the training and test rows with one method at one budget.

    Parameters
    ----------
    method : {"CL+SFC", "CL+SFC 50%", "hashing", "frequency"}
        ``"CL+SFC"``: `ChromaticCompressor`, cross-fitted on all training rows.
        ``"CL+SFC 50%"``: the paper's protocol, fitted on a random half of the training rows,
        the model trained on the other half. ``"hashing"``: `HashingEncoder`.
        ``"frequency"``: `FrequencyEncoder`.
    budget : int
        Output columns.
    X_train : {array-like, sparse matrix} of shape (n_train, n_features)
        Training rows.
    y_train : ndarray of shape (n_train,)
        Their binary labels.
    X_test : {array-like, sparse matrix} of shape (n_test, n_features)
        Test rows.
    seed : int
        Seeds the encoders and the half split.

    Returns
    -------
    Z_train : sparse matrix of shape (n_fit, budget) or narrower
        Encoded rows for the model to learn from.
    y_fit : ndarray of shape (n_fit,)
        Their labels (half of ``y_train`` for ``"CL+SFC 50%"``).
    Z_test : sparse matrix of shape (n_test, Z_train.shape[1])
        Encoded test rows.
    seconds : float
        Time spent fitting and encoding.

    Raises
    ------
    ValueError
        If ``method`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from chromatic_learning import make_onehot_zipf
    >>> from chromatic_learning._compare import encode
    >>> X = make_onehot_zipf(200, 100, 4, random_state=0)
    >>> y = np.arange(200) % 2
    >>> Z_train, y_fit, Z_test, _ = encode("frequency", 8, X[:150], y[:150], X[150:], seed=0)
    >>> Z_train.shape, y_fit.shape, Z_test.shape
    ((150, 8), (150,), (50, 8))
    """
    start = time.perf_counter()
    if method == "CL+SFC":
        encoder = ChromaticCompressor(budget=budget, random_state=seed)
        Z_train, y_fit = encoder.fit_transform(X_train, y_train), y_train
    elif method == "CL+SFC 50%":
        # The paper's protocol: buckets from half the training rows, the model on the other half.
        half = np.random.default_rng(seed).random(X_train.shape[0]) < 0.5
        encoder = ChromaticCompressor(budget=budget, random_state=seed)
        encoder.fit(X_train[half], y_train[half])
        Z_train, y_fit = encoder.transform(X_train[~half]), y_train[~half]
    elif method == "hashing":
        encoder = HashingEncoder(n_features=budget)
        Z_train, y_fit = encoder.fit_transform(X_train), y_train
    elif method == "frequency":
        encoder = FrequencyEncoder(n_features=budget)
        Z_train, y_fit = encoder.fit_transform(X_train), y_train
    else:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    Z_test = encoder.transform(X_test)
    return Z_train, y_fit, Z_test, time.perf_counter() - start


def paired_interval(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean of ``a - b`` with a 95% normal interval.

    Parameters
    ----------
    a, b : ndarray of shape (n,)
        Paired values, e.g. the row log losses of two methods on the same test rows.

    Returns
    -------
    mean, low, high : float
        The mean difference and the bounds of its 95% interval from the normal approximation:
        ``mean ± 1.96 * sd / sqrt(n)``, ``sd`` the sample standard deviation of the ``n``
        differences.

    Examples
    --------
    >>> import numpy as np
    >>> from chromatic_learning._compare import paired_interval
    >>> paired_interval(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 2.0]))
    (1.0, 1.0, 1.0)
    """
    d = a - b
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


def nonempty_columns(Z) -> int:
    """Count the columns holding a non-zero value in at least one row.

    A hashing or frequency encoder writes a column for every slot of its budget, used or not,
    and signed hashes can cancel to stored zeros, so the width of ``Z`` can overstate what the
    model learns from.

    Parameters
    ----------
    Z : {ndarray, sparse matrix} of shape (n_rows, n_columns)
        Encoded rows.

    Returns
    -------
    n_nonempty : int
        Columns of ``Z`` with a non-zero value in some row.

    Examples
    --------
    >>> import numpy as np
    >>> from chromatic_learning._compare import nonempty_columns
    >>> nonempty_columns(np.array([[1, 0, 0], [0, 0, 2]]))
    2
    """
    Z = sp.csr_array(Z)
    return int(np.unique(Z.indices[Z.data != 0]).size)


def paired_winner(losses: Mapping[str, np.ndarray]) -> dict:
    """Find the method with the lowest mean row loss, and its lead over the runner-up.

    The lead is measured on the same rows: the mean of the runner-up's row loss less the
    winner's, with the 95% interval of that mean from the normal approximation (mean
    ± 1.96 standard deviations of the paired differences over the square root of their number;
    see `paired_interval`). Pairing removes what the rows have in common (a hard row costs both
    methods), so the interval is far narrower than one from the two means apart. A lead whose
    interval reaches zero does not tell the two apart.

    Parameters
    ----------
    losses : mapping of str to ndarray of shape (n_rows,)
        Row losses of each method on the same rows (in the same order), at least two methods
        and two rows.

    Returns
    -------
    verdict : dict
        ``winner`` and ``runner_up`` (the lowest and second-lowest mean loss; on equal means the
        method named first wins), ``difference`` (mean of the runner-up's row loss less the
        winner's, never below zero up to rounding), ``low`` and ``high`` (the bounds of its 95%
        interval) and ``distinguishable`` (``low > 0``: the interval excludes zero).

    Raises
    ------
    ValueError
        If fewer than two methods or two rows are given, or the methods' rows differ in number.

    Examples
    --------
    >>> import numpy as np
    >>> from chromatic_learning._compare import paired_winner
    >>> verdict = paired_winner({"a": np.array([0.5, 0.7, 0.6]), "b": np.array([0.4, 0.5, 0.6])})
    >>> verdict["winner"], verdict["runner_up"], round(verdict["difference"], 4)
    ('b', 'a', 0.1)
    >>> verdict["distinguishable"]
    False
    """
    if len(losses) < 2:
        raise ValueError(f"a winner needs two methods' losses, got {list(losses)}")
    lengths = {len(loss) for loss in losses.values()}
    if len(lengths) > 1:
        raise ValueError(f"paired losses must cover the same rows, got {sorted(lengths)} rows")
    if min(lengths) < 2:
        raise ValueError("a paired interval needs at least two rows")
    # sorted is stable: on equal means the method named first stays first.
    winner, runner_up = sorted(losses, key=lambda method: losses[method].mean())[:2]
    difference, low, high = paired_interval(losses[runner_up], losses[winner])
    return {
        "winner": winner,
        "runner_up": runner_up,
        "difference": difference,
        "low": low,
        "high": high,
        "distinguishable": low > 0,
    }


def compare(
    X_train,
    y_train,
    X_test,
    y_test,
    budgets: Sequence[int],
    *,
    methods: Sequence[str] = METHODS,
    seed: int = 0,
    on_run: Callable[[dict], None] | None = None,
) -> dict:
    """Compare every method at every budget on the same rows.

    Each method encodes the training rows to at most ``budget`` columns (see `encode`), a
    ``LogisticRegression`` learns from them, and the test rows are scored. Once every method has
    run at a budget, the one with the lowest test log loss is set against the runner-up on the
    same test rows (`paired_winner`: the paired per-row differences, with a 95% interval from the
    normal approximation). A method's encoded rows and test predictions are kept only until it
    is scored, its test row losses only until its budget's verdict is drawn.

    Parameters
    ----------
    X_train : {array-like, sparse matrix} of shape (n_train, n_features)
        Training rows.
    y_train : ndarray of shape (n_train,)
        Their binary labels.
    X_test : {array-like, sparse matrix} of shape (n_test, n_features)
        Test rows, at least two.
    y_test : ndarray of shape (n_test,)
        Their binary labels.
    budgets : sequence of int
        Output columns to compare at.
    methods : sequence of str, default=METHODS
        Methods to run, as in `encode`.
    seed : int, default=0
        Seeds the encoders.
    on_run : callable or None, default=None
        Called with every run's record as soon as it is done.

    Returns
    -------
    comparison : dict
        ``runs``: one record per (budget, method): ``budget``, ``method``, ``columns`` (the width
        of the encoded rows, which `ChromaticCompressor` can leave below the budget; see its
        ``stop_reason_``), ``nonempty_columns`` (those of them non-zero in some row the model
        learned from; see `nonempty_columns`), ``log_loss``, ``auc`` and ``encode_seconds``.
        The last method's record of each budget also holds ``paired`` when ``"CL+SFC"`` and a
        baseline ran: the better baseline and the paired difference of ``"CL+SFC"``'s row log
        losses to it (mean and 95% interval; negative means ``"CL+SFC"`` is better).
        ``winners``: with two methods or more, one record per budget: ``budget`` and the
        `paired_winner` verdict on the test row log losses (``winner``, ``runner_up``,
        ``difference``, ``low``, ``high``, ``distinguishable``).

    See Also
    --------
    ChromaticCompressor, HashingEncoder, FrequencyEncoder : The methods compared.

    References
    ----------
    .. [1] V. Feinberg and P. Bailis, "Chromatic Learning for Sparse Datasets",
       arXiv:2006.03779, 2020. https://arxiv.org/abs/2006.03779
    .. [2] M. Bateni, L. Chen, H. Esfandiari, T. Fu, V. S. Mirrokni and A. Rostamizadeh,
       "Categorical Feature Compression via Submodular Optimization", ICML 2019, PMLR 97.
       arXiv:1904.13389.

    Examples
    --------
    >>> import numpy as np
    >>> from chromatic_learning import make_onehot_zipf
    >>> from chromatic_learning._compare import compare
    >>> X = make_onehot_zipf(400, 200, 4, random_state=0)
    >>> y = (X[:, :10].sum(axis=1) > 0).astype(int)
    >>> comparison = compare(
    ...     X[:300], y[:300], X[300:], y[300:], [8], methods=["CL+SFC", "hashing"]
    ... )
    >>> runs = comparison["runs"]
    >>> [(run["method"], run["columns"]) for run in runs]
    [('CL+SFC', 8), ('hashing', 8)]
    >>> runs[-1]["paired"]["baseline"]
    'hashing'
    >>> runs[0]["log_loss"] < runs[1]["log_loss"]
    True
    >>> verdict = comparison["winners"][0]
    >>> verdict["budget"], verdict["winner"], verdict["runner_up"]
    (8, 'CL+SFC', 'hashing')
    """
    runs, winners = [], []
    for budget in budgets:
        losses = {}
        for method in methods:
            run, losses[method] = scored_run(method, budget, X_train, y_train, X_test, y_test, seed)
            baselines = [m for m in ("hashing", "frequency") if m in losses]
            if method == methods[-1] and "CL+SFC" in losses and baselines:
                best = min(baselines, key=lambda m: losses[m].mean())
                run["paired"] = {
                    "baseline": best,
                    "difference": paired_interval(losses["CL+SFC"], losses[best]),
                }
            runs.append(run)
            if on_run:
                on_run(run)
        if len(losses) >= 2:
            winners.append({"budget": int(budget), **paired_winner(losses)})
    return {"runs": runs, "winners": winners}


def scored_run(method, budget, X_train, y_train, X_test, y_test, seed) -> tuple[dict, np.ndarray]:
    """Encode, learn and score one method at one budget.

    The encoded rows and the predictions go out of scope on return, before the next method
    encodes.

    Parameters
    ----------
    method, budget, X_train, y_train, X_test, seed
        As in `encode`.
    y_test : ndarray of shape (n_test,)
        Binary labels of the test rows.

    Returns
    -------
    run : dict
        The record `compare` describes, without ``paired``.
    losses : ndarray of shape (n_test,)
        Row log loss of every test row.
    """
    Z_train, y_fit, Z_test, seconds = encode(method, budget, X_train, y_train, X_test, seed)
    p = logistic(Z_train, y_fit, Z_test)
    losses = row_log_loss(y_test, p)
    run = {
        "budget": int(budget),
        "method": method,
        "columns": int(Z_train.shape[1]),
        "nonempty_columns": nonempty_columns(Z_train),
        "log_loss": float(losses.mean()),
        "auc": float(roc_auc_score(y_test, p)),
        "encode_seconds": seconds,
    }
    return run, losses
