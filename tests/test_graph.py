"""The co-occurrence graph against scipy, and the coloring against networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from chromatic_learning import ChromaticEncoder, cooccurrence_graph
from chromatic_learning.graph import greedy_color

from conftest import binarized, load_dataset, random_sparse


def scipy_graph(X, k=1):
    B = binarized(X)
    G = (B.T @ B).tocsr().astype(np.int64)
    G.setdiag(0)
    G.data[G.data < k] = 0
    G.eliminate_zeros()
    return G


def rows_named(name: str):
    if name == "generated":
        return random_sparse(20_000, 8000, 16, seed=3, zipf=1.0)
    return load_dataset(name)[0]


@pytest.mark.parametrize("k", [1, 2, 5])
@pytest.mark.parametrize(
    "name",
    [
        "generated",
        pytest.param("flights_small", marks=pytest.mark.slow),
        pytest.param("wordnet", marks=pytest.mark.slow),
    ],
)
def test_graph_equals_xtx_without_diagonal(name, k):
    X = rows_named(name)
    ours = cooccurrence_graph(X, min_cooccurrence=k)
    expected = scipy_graph(X, k)
    assert (ours != expected).nnz == 0
    assert ours.nnz == expected.nnz


def test_graph_statistics_of_the_encoder():
    X = random_sparse(2000, 300, 9, 4, zipf=0.9)
    G = scipy_graph(X)
    encoder = ChromaticEncoder(dense_threshold=None).fit(X)
    assert encoder.n_edges_ == G.nnz // 2
    assert encoder.max_degree_ == G.getnnz(axis=1).max()


def networkx_largest_first_colors(X) -> int:
    """networkx greedy largest-first on the same graph, vertices inserted in frequency order
    (most frequent first, ties by column) as the engine numbers them."""
    B = binarized(X)
    df = B.getnnz(axis=0)
    seen = np.flatnonzero(df > 0)
    order = seen[np.lexsort((seen, -df[seen]))]
    graph = nx.Graph()
    graph.add_nodes_from(order.tolist())
    G = scipy_graph(X).tocoo()
    upper = G.row < G.col
    graph.add_edges_from(zip(G.row[upper].tolist(), G.col[upper].tolist(), strict=True))
    coloring = nx.greedy_color(graph, strategy="largest_first")
    return max(coloring.values()) + 1 if coloring else 0


@pytest.mark.parametrize("seed", range(5))
def test_largest_first_no_worse_than_networkx_on_random_data(seed):
    X = random_sparse(400, 150, 8, seed, zipf=1.0)
    ours = ChromaticEncoder(dense_threshold=None).fit(X)
    assert ours.n_colors_ <= networkx_largest_first_colors(X)
    assert ours.n_colors_ <= ours.max_degree_ + 1


@pytest.mark.slow
@pytest.mark.parametrize("name", ["flights_small", "movielens", "wordnet", "debian_packages"])
def test_largest_first_no_worse_than_networkx_on_real_data(name):
    X, _, _ = load_dataset(name)
    X = X[:3000]
    ours = ChromaticEncoder(dense_threshold=None).fit(X)
    theirs = networkx_largest_first_colors(X)
    assert ours.n_colors_ <= theirs
    assert ours.n_colors_ <= ours.max_degree_ + 1


def test_graph_rejects_bad_threshold():
    with pytest.raises(ValueError, match="min_cooccurrence"):
        cooccurrence_graph(np.eye(3), min_cooccurrence=0)


@pytest.mark.parametrize("strategy", ["largest_first", "smallest_last", "dsatur", "random"])
def test_greedy_color_colors_any_adjacency_properly(strategy):
    A = cooccurrence_graph(random_sparse(5000, 3000, 12, seed=2, zipf=0.9))
    colors = greedy_color(A, strategy, random_state=1)
    rows, columns = A.nonzero()
    assert len(colors) == A.shape[0] and (colors[rows] != colors[columns]).all()
    # One direction of each edge is enough: the symmetric closure is colored.
    upper = sp.triu(A, k=1).tocsr()
    np.testing.assert_array_equal(greedy_color(upper, strategy, random_state=1), colors)
    if strategy == "largest_first":
        G = nx.from_scipy_sparse_array(A)
        assert colors.max() + 1 <= max(nx.greedy_color(G, "largest_first").values()) + 1
    with pytest.raises(ValueError, match="square"):
        greedy_color(A[:10])
