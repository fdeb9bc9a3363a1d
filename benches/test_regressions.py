"""Regression timings of the engine's steps (pytest-benchmark), for tracking speed across
changes. Not part of the test run (``testpaths`` is ``tests``); run on request with

    pip install ".[bench]"
    python -m pytest benches/test_regressions.py --benchmark-autosave
    python -m pytest benches/test_regressions.py --benchmark-compare

Every case works on the same seeded kdd12-shaped matrix (200k rows, 200k ids, 11 fields).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from chromatic_learning import ChromaticEncoder, _core, cooccurrence_graph, make_onehot_zipf
from chromatic_learning.graph import coloring_graph

pytest.importorskip("pytest_benchmark")


@pytest.fixture(scope="module")
def X():
    return sp.csr_matrix(make_onehot_zipf(200_000, 200_000, 11, random_state=0))


@pytest.fixture(scope="module")
def encoder(X):
    return ChromaticEncoder().fit(X)


def test_fit(benchmark, X):
    fitted = benchmark(lambda: ChromaticEncoder().fit(X))
    assert fitted.n_colors_ >= 11


def test_cooccurrence_graph(benchmark, X):
    graph = benchmark(lambda: cooccurrence_graph(X))
    assert graph.shape == (X.shape[1], X.shape[1])


def test_coloring(benchmark, X):
    graph = coloring_graph(cooccurrence_graph(X))
    colors = benchmark(lambda: graph.color("largest_first"))
    assert colors.max() + 1 >= 11


def test_transform(benchmark, X, encoder):
    codes = benchmark(lambda: encoder.transform(X))
    assert codes.shape == (X.shape[0], encoder.n_colors_)


def test_svmlight_round_trip(benchmark, X, encoder):
    codes = encoder.transform(X)
    labels = np.zeros(X.shape[0])

    def round_trip():
        text = _core.format_codes(labels, codes)
        return _core.parse_svmlight(text, 1, skip_bad_lines=False)

    parsed = benchmark(round_trip)
    assert len(parsed[0]) == X.shape[0]
