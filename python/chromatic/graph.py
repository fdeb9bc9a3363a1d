"""The feature co-occurrence graph as a scipy sparse matrix, for inspection and comparison, and
the engine's greedy coloring for any graph."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array

from . import _core
from ._input import csr_arrays, effective_n_jobs


def cooccurrence_graph(X, *, min_cooccurrence: int = 1, n_jobs: int | None = None) -> sp.csr_array:
    """Weighted co-occurrence graph of the columns of ``X``.

    Entry ``(i, j)`` is the number of rows in which features ``i`` and ``j`` are both present
    (non-zero), kept when it is at least ``min_cooccurrence``; the diagonal is empty. For a
    binary ``X`` with ``min_cooccurrence=1`` this is ``X.T @ X`` without its diagonal.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    min_cooccurrence : int, default=1
        Smallest pair count kept as an edge.
    n_jobs : int, default=None
        Threads; ``None`` uses every core.

    Returns
    -------
    scipy.sparse.csr_array of shape (n_features, n_features), symmetric, uint32 weights,
    sorted indices.
    """
    if (
        isinstance(min_cooccurrence, bool)
        or not isinstance(min_cooccurrence, Integral)
        or not 1 <= min_cooccurrence <= 2**32 - 1
    ):
        raise ValueError(
            f"min_cooccurrence must be an integer in [1, 2**32 - 1], got {min_cooccurrence!r}"
        )
    X = check_array(X, accept_sparse="csr", dtype="numeric", ensure_all_finite=False)
    arrays = csr_arrays(X)
    indptr, neighbors, weights = _core.cooccurrence_graph(
        *arrays.engine_args(),
        min_cooccurrence=int(min_cooccurrence),
        n_jobs=effective_n_jobs(n_jobs),
    )
    n = arrays.n_features
    if max(n, len(neighbors)) <= np.iinfo(np.int32).max:
        indptr, indices = indptr.astype(np.int32), neighbors.view(np.int32)
    else:
        indices = neighbors.astype(np.int64)
    return sp.csr_array((weights, indices, indptr), shape=(n, n))


def greedy_color(
    adjacency,
    strategy: str = "largest_first",
    *,
    random_state: int | None = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """A greedy coloring of a graph given as a square sparse adjacency matrix (for example
    ``cooccurrence_graph(X)``): an entry ``(i, j)`` or ``(j, i)`` off the diagonal is an edge.

    Returns the color (``0..n_colors - 1``) of every vertex, as uint32; adjacent vertices never
    share one. ``strategy`` is one of the ``ChromaticEncoder`` strategies; ``random_state``
    seeds ``"random"``.
    """
    graph = coloring_graph(adjacency)
    seed = 0 if random_state is None else int(random_state)
    return graph.color(strategy, seed=seed, n_jobs=effective_n_jobs(n_jobs))


def coloring_graph(adjacency) -> _core.ColoringGraph:
    """The engine's graph of a square sparse adjacency matrix, ready to color."""
    A = sp.csr_array(adjacency)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"an adjacency matrix is square, got shape {A.shape}")
    return _core.ColoringGraph(
        A.indptr.astype(np.int64), A.indices.astype(np.int64), int(A.shape[0])
    )
