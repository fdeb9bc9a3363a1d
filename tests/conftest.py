"""Shared fixtures: the real datasets of ``../shared/data`` and seeded random sparse matrices."""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CHROMATIC_DATA_DIR", REPO.parent / "shared" / "data"))
# CI sets this, so that a missing dataset fails the tests that need it instead of skipping them.
REQUIRE_DATA = os.environ.get("CHROMATIC_REQUIRE_DATA", "") not in ("", "0")

# Datasets small enough to run every property on in the test suite.
REAL_DATASETS = ["flights_small", "movielens", "wordnet", "debian_packages"]


def require_data(path: Path) -> None:
    """Skip the calling test when ``path`` (a real dataset) is missing, or fail it under
    ``CHROMATIC_REQUIRE_DATA``."""
    if path.exists():
        return
    reason = (
        f"{path} not found: the real datasets live in ../shared/data beside the checkout "
        "(or set CHROMATIC_DATA_DIR)"
    )
    if REQUIRE_DATA:
        pytest.fail(f"{reason}, and CHROMATIC_REQUIRE_DATA is set", pytrace=False)
    pytest.skip(reason)


@functools.cache
def _loader():
    path = DATA_DIR / "load.py"
    require_data(path)
    spec = importlib.util.spec_from_file_location("chromatic_shared_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def load_dataset(name: str):
    """``(X, y, meta)`` of a real dataset, loaded once per test session."""
    return _loader().load(name)


@pytest.fixture(params=REAL_DATASETS)
def real_dataset(request):
    X, y, _ = load_dataset(request.param)
    return request.param, X, y


def random_sparse(
    n_rows: int,
    n_features: int,
    max_per_row: int,
    seed: int,
    *,
    index_dtype=np.int32,
    zipf: float | None = None,
) -> sp.csr_matrix:
    """A random binary CSR matrix with 0..max_per_row distinct features per row, optionally
    with Zipf-like feature frequencies so that some features are frequent."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, max_per_row + 1, size=n_rows)
    if zipf is None:
        cols = rng.integers(0, n_features, size=int(lengths.sum()))
    else:
        weights = 1.0 / np.arange(1, n_features + 1) ** zipf
        cols = rng.choice(n_features, size=int(lengths.sum()), p=weights / weights.sum())
    rows = np.repeat(np.arange(n_rows), lengths)
    X = sp.csr_matrix(
        (np.ones(len(cols), dtype=np.float64), (rows, cols)), shape=(n_rows, n_features)
    )
    X.sum_duplicates()
    X.data[:] = 1.0
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    return X


def labelled_sparse(
    n_rows: int, n_features: int, max_per_row: int, seed: int, *, zipf: float = 1.0
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Zipf-like random binary rows (as `random_sparse`) with binary labels that depend on them.

    Every feature gets a random weight; a row's label is drawn with the logistic of the sum of its
    features' weights, so a model can learn from the rows, as from a real click log. Rare
    features abound, so rows split off at the end hold features unseen in the first ones.
    """
    X = random_sparse(n_rows, n_features, max_per_row, seed, zipf=zipf)
    rng = np.random.default_rng(seed + 1)
    weights = rng.normal(0.0, 1.0, size=n_features)
    margin = X @ weights - 0.5
    y = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-margin))).astype(np.int64)
    return X, y


def binarized(X) -> sp.csr_matrix:
    """``X`` as a canonical binary CSR matrix (sorted, no duplicates, no explicit zeros)."""
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    X.sum_duplicates()
    X.data = (X.data != 0).astype(np.float64)
    X.eliminate_zeros()
    X.sort_indices()
    return X
