"""Fit and encode on a Dask cluster, with the same result as on one machine.

The fit is a map-reduce: every partition counts its features (then, over the vertices those
counts give, its feature pairs) in the engine, and the partial counts are added up in a tree
reduction on the workers, so what reaches the client is proportional to the features and the
graph, never to the rows. The client colors the graph once [1]_ (and, for a compressor, cuts
the buckets from the added-up label counts [2]_); ``transform`` then maps the fitted model over
the partitions. The models are the ordinary ``ChromaticEncoder`` and
``ChromaticCompressor``, usable without Dask.

Data is a ``dask.array`` whose chunks are scipy sparse matrices, chunked by rows only (for
example ``da.from_array(X, chunks=(100_000, -1), asarray=False)``), or a list of svmlight
files, one partition each. Requires the ``dask`` extra (``pip install ".[dask]"`` from a checkout).

References
----------
.. [1] V. Feinberg and P. Bailis, "Chromatic Learning for Sparse Datasets",
   arXiv:2006.03779, 2020. https://arxiv.org/abs/2006.03779
.. [2] M. Bateni, L. Chen, H. Esfandiari, T. Fu, V. S. Mirrokni and A. Rostamizadeh,
   "Categorical Feature Compression via Submodular Optimization", ICML 2019,
   arXiv:1904.13389. https://arxiv.org/abs/1904.13389

Examples
--------
>>> import dask.array as da
>>> import scipy.sparse as sp
>>> import chromatic.dask as cd
>>> from chromatic import ChromaticEncoder, make_onehot_zipf
>>> X = sp.csr_matrix(make_onehot_zipf(1000, 200, 4, random_state=0))
>>> data = da.from_array(X, chunks=(250, -1), asarray=False)
>>> encoder = cd.fit(data, dense_threshold=None)
>>> local = ChromaticEncoder(dense_threshold=None).fit(X)
>>> bool((encoder.colors_ == local.colors_).all())
True
>>> codes = cd.transform(encoder, data).compute()
>>> codes.shape, bool((codes == local.transform(X)).all())
((1000, 4), True)
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._compression import ChromaticCompressor, compression_params, set_compression
from ._dask_rows import DaskPartitions, check_row_chunks
from ._encoder import ChromaticEncoder, coloring_params, set_coloring
from ._input import aligned
from ._pipeline import fit_coloring, fit_compression
from ._sources import Kept, Rows
from ._validation import binary_labels

__all__ = ["fit", "fit_compressor", "transform"]


def fit(data, *, zero_based: bool | str = "auto", skip_bad_lines: bool = False, **encoder_params):
    """Fit a ``ChromaticEncoder(**encoder_params)`` on a cluster.

    Every partition counts its features, then its feature pairs, on a worker; the counts are
    added up on the workers, and the client colors the graph once.

    Parameters
    ----------
    data : dask.array.Array of scipy sparse row blocks, or list of svmlight file paths
        The rows; a file is one partition, read on a worker.
    zero_based : bool or "auto", default="auto"
        For files: whether their indices start at 0; ``"auto"`` says so when some index is 0.
    skip_bad_lines : bool, default=False
        For files: skip malformed lines rather than fail.
    **encoder_params : dict
        Parameters of ``ChromaticEncoder`` (``memory_limit`` must stay None: each partition's
        counts are bounded by its rows).

    Returns
    -------
    encoder : ChromaticEncoder
        Fitted, equal to ``ChromaticEncoder(**encoder_params).fit(X)`` on the same rows.

    See Also
    --------
    transform : Encode the partitions with the fitted encoder.
    chromatic.streaming.fit_files : The same fit over files on one machine.
    """
    encoder = ChromaticEncoder(**encoder_params)
    params = coloring_params(encoder)
    rows = DaskPartitions.of(data, zero_based=zero_based, skip_bad_lines=skip_bad_lines)
    coloring, _ = fit_coloring(rows, params)
    return set_coloring(encoder, coloring)


def fit_compressor(
    data,
    y=None,
    *,
    zero_based: bool | str = "auto",
    skip_bad_lines: bool = False,
    **compressor_params,
):
    """Fit a ``ChromaticCompressor(**compressor_params)`` on a cluster.

    Three rounds of counts, each added up on the workers: feature counts (and, with
    ``n_frequent="auto"``, a uniform sample of ``selection_rows`` rows to choose the split on),
    pair counts of the other features, then the label counts of every code value, from which
    the client cuts the buckets.

    Parameters
    ----------
    data : dask.array.Array of scipy sparse row blocks, or list of svmlight file paths
        The rows; a file is one partition, read on a worker.
    y : array-like, dask array or None, default=None
        Binary labels of array data, chunked like its rows or not; files carry theirs.
    zero_based : bool or "auto", default="auto"
        For files: whether their indices start at 0; ``"auto"`` says so when some index is 0.
    skip_bad_lines : bool, default=False
        For files: skip malformed lines rather than fail.
    **compressor_params : dict
        Parameters of ``ChromaticCompressor`` (``memory_limit`` must stay None).

    Returns
    -------
    compressor : ChromaticCompressor
        Fitted; with a fixed ``n_frequent``, equal to ``ChromaticCompressor(...).fit(X, y)``.

    See Also
    --------
    transform : Encode the partitions with the fitted compressor.
    chromatic.streaming.fit_compressor_files : The same fit over files on one machine.

    Examples
    --------
    >>> import dask.array as da
    >>> import scipy.sparse as sp
    >>> import chromatic.dask as cd
    >>> from chromatic import ChromaticCompressor, make_onehot_zipf
    >>> X = sp.csr_matrix(make_onehot_zipf(1000, 200, 4, random_state=0))
    >>> y = (X[:, :5].sum(axis=1) > 0).A.ravel().astype(int)
    >>> data = da.from_array(X, chunks=(250, -1), asarray=False)
    >>> params = {"budget": 16, "n_frequent": 4, "random_state": 0}
    >>> compressor = cd.fit_compressor(data, y, **params)
    >>> local = ChromaticCompressor(**params).fit(X, y)
    >>> compressor.n_features_out_ == local.n_features_out_
    True
    >>> cd.transform(compressor, data).compute().shape == (1000, compressor.n_features_out_)
    True
    """
    compressor = ChromaticCompressor(**compressor_params)
    params = compression_params(compressor)
    if isinstance(data, da.Array) and y is None:
        raise ValueError("fit_compressor needs y, the binary labels of the rows")
    if y is not None and not isinstance(y, da.Array):
        binary_labels(y)
    rows = DaskPartitions.of(data, y, zero_based=zero_based, skip_bad_lines=skip_bad_lines)
    compression, _ = fit_compression(rows, params)
    return set_compression(compressor, compression)


def _model_rows(rows: Rows, shift: int, model) -> sp.csr_matrix:
    """Return the partition's rows over the model's features.

    Later features were never seen in fit, and are ignored like them.
    """
    return Kept(shift, width=model.n_features_in_).csr(rows, model.n_features_in_)


def _empty_output(model):
    """Return what ``model.transform`` would give for no rows, which scikit-learn refuses."""
    if isinstance(model, ChromaticCompressor):
        return sp.csr_matrix((0, model.n_features_out_), dtype=np.float64)
    if model.output == "onehot":
        return sp.csr_matrix((0, int(model.color_sizes_.sum())), dtype=np.float64)
    return np.zeros((0, model.n_colors_), dtype=np.int32)


def _realigned(model):
    """Align the arrays of ``model`` (and of its parts) for the engine, as a worker receives it.

    Returns ``model``.
    """
    for name, value in vars(model).items():
        if isinstance(value, np.ndarray):
            setattr(model, name, aligned(value))
        elif isinstance(value, BaseEstimator):
            _realigned(value)
    return model


def _encoded(model, X):
    return _realigned(model).transform(X) if X.shape[0] else _empty_output(model)


def _encoded_block(block, model):
    return _encoded(model, block)


def _transform_rows(model, rows: Rows, shift: int):
    return _encoded(model, _model_rows(rows, shift, model))


def transform(model, data, *, zero_based: bool | None = None, skip_bad_lines: bool = False):
    """Encode ``data`` partition by partition with a fitted encoder or compressor.

    The model is sent to each worker once.

    Parameters
    ----------
    model : fitted ChromaticEncoder or ChromaticCompressor
        The model to encode with.
    data : dask.array.Array of scipy sparse row blocks, or list of svmlight file paths
        The rows; a file is one partition, read on a worker.
    zero_based : bool or None, default=None
        For files, required: whether their indices start at 0 (as the files the model was
        fitted on).
    skip_bad_lines : bool, default=False
        For files: skip malformed lines rather than fail.

    Returns
    -------
    encoded : dask.array.Array
        One row per input row: int32 codes, or scipy sparse blocks for one-hot output (an
        encoder with ``output="onehot"``, or a compressor). Rows of files are in file order;
        their chunk sizes are known once computed.
    """
    if not isinstance(model, (ChromaticEncoder, ChromaticCompressor)):
        raise TypeError(
            f"model must be a fitted ChromaticEncoder or ChromaticCompressor, got {model!r}"
        )
    check_is_fitted(model)
    meta = _empty_output(model)
    width = meta.shape[1]
    shared = dask.delayed(model)
    if isinstance(data, da.Array):
        check_row_chunks(data)
        return data.map_blocks(
            _encoded_block,
            shared,
            chunks=(data.chunks[0], (width,)),
            dtype=meta.dtype,
            meta=meta,
        )
    if zero_based not in (True, False):
        raise ValueError("for svmlight files, say whether they are zero_based (True or False)")
    partitions = DaskPartitions.of(data, skip_bad_lines=skip_bad_lines)
    blocks = [
        da.from_delayed(
            dask.delayed(_transform_rows)(shared, part, 0 if zero_based else 1),
            shape=(np.nan, width),
            dtype=meta.dtype,
            meta=meta,
        )
        for part in partitions.parts
    ]
    return da.concatenate(blocks, axis=0)
