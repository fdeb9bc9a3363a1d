"""The co-occurrence graph against scipy, and the coloring against networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from chromatic import ChromaticEncoder, cooccurrence_graph

from conftest import binarized, load_dataset, random_sparse


def scipy_graph(X, k=1):
    B = binarized(X)
    G = (B.T @ B).tocsr().astype(np.int64)
    G.setdiag(0)
    G.data[G.data < k] = 0
    G.eliminate_zeros()
    return G


@pytest.mark.parametrize("k", [1, 2, 5])
@pytest.mark.parametrize("name", ["flights_small", "wordnet"])
def test_graph_equals_xtx_without_diagonal(name, k):
    X, _, _ = load_dataset(name)
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
