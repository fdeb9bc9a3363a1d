"""The feature co-occurrence graph as a scipy sparse matrix, and greedy coloring of any graph.

`cooccurrence_graph` builds the graph `ChromaticEncoder` colors, for inspection and comparison;
`greedy_color` runs the engine's greedy coloring on any graph given as an adjacency matrix.
"""

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
    binary ``X`` with ``min_cooccurrence=1`` this is ``X.T @ X`` without its diagonal, built in
    memory linear in the number of edges.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Rows of features; any non-zero value is a present feature.
    min_cooccurrence : int, default=1
        Smallest pair count kept as an edge.
    n_jobs : int, default=None
        Threads; ``None`` uses every core.

    Returns
    -------
    graph : scipy.sparse.csr_array of shape (n_features, n_features)
        Symmetric, uint32 weights, sorted indices.

    See Also
    --------
    greedy_color : Color the graph.
    ChromaticEncoder : Colors this graph (dense features apart) to encode rows.

    References
    ----------
    .. [1] V. Feinberg and P. Bailis, "Chromatic Learning for Sparse Datasets",
       arXiv:2006.03779, 2020. https://arxiv.org/abs/2006.03779

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from chromatic_learning import cooccurrence_graph
    >>> X = sp.csr_array([[1, 1, 0, 0], [0, 1, 1, 0], [1, 1, 0, 1]])
    >>> cooccurrence_graph(X).toarray()
    array([[0, 2, 0, 1],
           [2, 0, 1, 1],
           [0, 1, 0, 0],
           [1, 1, 0, 0]], dtype=uint32)
    >>> cooccurrence_graph(X, min_cooccurrence=2).nnz
    2
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
    """Color a graph greedily, given as a square sparse adjacency matrix.

    An entry ``(i, j)`` or ``(j, i)`` off the diagonal is an edge (its value does not matter),
    so ``cooccurrence_graph(X)`` can be passed as it is. Vertices are visited in the order of
    ``strategy`` and each gets the smallest color not used by a colored neighbour.

    Parameters
    ----------
    adjacency : {array-like, sparse matrix} of shape (n_vertices, n_vertices)
        The graph.
    strategy : {"largest_first", "smallest_last", "natural", "dsatur", "random"}, \
            default="largest_first"
        The order of the visit, as in `ChromaticEncoder`.
    random_state : int or None, default=None
        Seeds the ``"random"`` order (``None``: seed 0).
    n_jobs : int, default=None
        Threads; ``None`` uses every core.

    Returns
    -------
    colors : ndarray of shape (n_vertices,), uint32
        The color (``0..n_colors - 1``) of every vertex; adjacent vertices never share one.

    See Also
    --------
    cooccurrence_graph : The graph of the features of a data set.
    ChromaticEncoder : Colors that graph to encode rows.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from chromatic_learning.graph import greedy_color
    >>> path = sp.csr_array(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]]))
    >>> greedy_color(path)
    array([1, 0, 1], dtype=uint32)
    """
    graph = coloring_graph(adjacency)
    seed = 0 if random_state is None else int(random_state)
    return graph.color(strategy, seed=seed, n_jobs=effective_n_jobs(n_jobs))


def coloring_graph(adjacency) -> _core.ColoringGraph:
    """Convert a square sparse adjacency matrix to the engine's graph, ready to color.

    Parameters
    ----------
    adjacency : {array-like, sparse matrix} of shape (n_vertices, n_vertices)
        The graph: an entry off the diagonal is an edge.

    Returns
    -------
    graph : chromatic_learning._core.ColoringGraph
        Its ``color(strategy, seed=..., n_jobs=...)`` method returns the colors as
        `greedy_color` does, without converting the matrix again.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from chromatic_learning.graph import coloring_graph
    >>> triangle = sp.csr_array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    >>> sorted(coloring_graph(triangle).color("largest_first", seed=0, n_jobs=None).tolist())
    [0, 1, 2]
    """
    A = sp.csr_array(adjacency)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"an adjacency matrix is square, got shape {A.shape}")
    return _core.ColoringGraph(
        A.indptr.astype(np.int64), A.indices.astype(np.int64), int(A.shape[0])
    )
