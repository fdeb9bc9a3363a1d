"""Chromatic Learning against the hashing trick and frequency truncation at equal budgets: the
comparison behind ``chromatic compare`` and ``benches/quality.py``."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from .baselines import FrequencyEncoder, HashingEncoder
from .compression import ChromaticCompressor

METHODS = ("CL+SFC", "CL+SFC 50%", "hashing", "frequency")
EPS = 1e-15


def row_log_loss(y, p) -> np.ndarray:
    """Log loss of every row."""
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def logistic(Z_train, y_train, Z_test) -> np.ndarray:
    """The one learner of every comparison: ``LogisticRegression(C=1.0, lbfgs)``."""
    model = LogisticRegression(C=1.0, solver="lbfgs", max_iter=1000)
    model.fit(Z_train, y_train)
    return model.predict_proba(Z_test)[:, 1]


def encode(method: str, budget: int, X_train, y_train, X_test, seed: int):
    """``(Z_train, labels for Z_train, Z_test, seconds)`` for one method at one budget."""
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
    """Mean of ``a - b`` with a 95% normal interval."""
    d = a - b
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


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
) -> list[dict]:
    """Every method at every budget: test log loss, ROC AUC, encoder seconds, and for
    ``CL+SFC`` the paired difference to the better of hashing and frequency truncation."""
    runs = []
    for budget in budgets:
        losses = {}
        for method in methods:
            Z_train, y_fit, Z_test, seconds = encode(method, budget, X_train, y_train, X_test, seed)
            p = logistic(Z_train, y_fit, Z_test)
            losses[method] = row_log_loss(y_test, p)
            run = {
                "budget": int(budget),
                "method": method,
                "columns": int(Z_train.shape[1]),
                "log_loss": float(losses[method].mean()),
                "auc": float(roc_auc_score(y_test, p)),
                "encode_seconds": seconds,
            }
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
    return runs
