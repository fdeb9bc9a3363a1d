"""Fit and encode on a Dask cluster, with the same result as on one machine.

The fit is a map-reduce: every partition counts its features (then, over the vertices those
counts give, its feature pairs) in the engine, and the partial counts are added up in a tree
reduction on the workers, so what reaches the client is proportional to the features and the
graph, never to the rows. The pairs are counted and merged by ranges of source vertices, each
task within a quarter of a worker thread's share of the worker's memory limit, and the client
takes each range as soon as it is merged. The client colors the graph once [1]_ (and, for a
compressor, cuts the buckets from the added-up label counts [2]_); ``transform`` then maps the
fitted model over the partitions. The models are the ordinary ``ChromaticEncoder`` and
``ChromaticCompressor``, usable without Dask.

Data is a ``dask.array`` whose chunks are scipy sparse matrices, chunked by rows only (for
example ``da.from_array(X, chunks=(100_000, -1), asarray=False)``), or a list of svmlight
files, one partition each. Tables are a ``dask.dataframe.DataFrame`` or a list of Parquet
files (a partition per row group), read as ``column=value`` features by the model's ``table``
parameter, as on one machine: a pass more, first, learns the values of every partition on the
workers and merges them, in partition order, into the vocabulary of one table holding every
row. Requires the ``dask`` extra (``pip install ".[dask]"`` from a checkout).

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
>>> import chromatic_learning.dask as cd
>>> from chromatic_learning import ChromaticEncoder, make_onehot_zipf
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

from ._columns import TableFeatures
from ._compression import ChromaticCompressor, compression_params, set_compression
from ._dask_rows import DaskPartitions, check_row_chunks
from ._dask_tables import TablePartitions
from ._encoder import ChromaticEncoder, coloring_params, set_coloring
from ._input import aligned
from ._pipeline import fit_coloring, fit_compression
from ._sources import Kept, Rows
from ._table_encoder import table_features
from ._table_input import set_table_features, table_template
from ._validation import binary_labels

__all__ = ["fit", "fit_compressor", "transform"]


def fit(
    data,
    *,
    label: str | None = None,
    zero_based: bool | str = "auto",
    skip_bad_lines: bool = False,
    **encoder_params,
):
    """Fit a ``ChromaticEncoder(**encoder_params)`` on a cluster.

    Every partition counts its features, then its feature pairs, on a worker; the counts are
    added up on the workers, and the client colors the graph once. Tables take one pass more,
    first: the values of every partition, merged on the workers into the vocabulary.

    Parameters
    ----------
    data : dask array, dask DataFrame, or list of svmlight or Parquet file paths
        The rows: a ``dask.array`` of scipy sparse row blocks, svmlight files (one partition
        each), or tables, read as ``column=value`` features by the ``table`` parameter (a
        ``dask.dataframe.DataFrame``, its partitions as they are, or Parquet files, one
        partition per row group). Files are read on the workers.
    label : str or None, default=None
        For tables: the label column, left out of the features.
    zero_based : bool or "auto", default="auto"
        For svmlight files: whether their indices start at 0; ``"auto"`` says so when some
        index is 0.
    skip_bad_lines : bool, default=False
        For svmlight files: skip malformed lines rather than fail.
    **encoder_params : dict
        Parameters of ``ChromaticEncoder`` (``memory_limit`` must stay None: the pairs a task
        counts are bounded by the workers' memory limits).

    Returns
    -------
    encoder : ChromaticEncoder
        Fitted, equal to ``ChromaticEncoder(**encoder_params).fit(X)`` on the same rows; for
        tables, to the fit on one table of every partition in order, but for the bin edges of
        numeric columns, taken from the first partition (as ``fit_files`` takes them from the
        first chunk). A table's encoder keeps its ``table_encoder_``, and its input columns as
        ``feature_names_in_``.

    See Also
    --------
    transform : Encode the partitions with the fitted encoder.
    chromatic_learning.streaming.fit_files : The same fit over files on one machine.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> import chromatic_learning.dask as cd
    >>> from chromatic_learning import ChromaticEncoder
    >>> frame = pd.DataFrame(
    ...     {
    ...         "site": ["a.com", "b.org", "a.com", "c.net", "b.org", "d.io"] * 50,
    ...         "ad": [7, 7, 9, 3, 9, 7] * 50,
    ...         "click": [1, 0, 1, 0, 0, 1] * 50,
    ...     }
    ... )
    >>> data = dd.from_pandas(frame, npartitions=3)
    >>> encoder = cd.fit(data, label="click", random_state=0)
    >>> encoder.feature_names_in_.tolist()
    ['site', 'ad']
    >>> local = ChromaticEncoder(random_state=0).fit(frame[["site", "ad"]])
    >>> bool((encoder.colors_ == local.colors_).all())
    True
    >>> codes = cd.transform(encoder, data).compute()
    >>> bool((codes == local.transform(frame)).all())
    True
    """
    encoder = ChromaticEncoder(**encoder_params)
    params = coloring_params(encoder)
    rows, features = _row_source(
        encoder, data, None, label, zero_based, skip_bad_lines, params.n_jobs
    )
    coloring, _ = fit_coloring(rows, params)
    if features is not None:
        set_table_features(encoder, features)
    return set_coloring(encoder, coloring)


def fit_compressor(
    data,
    y=None,
    *,
    label: str | None = None,
    zero_based: bool | str = "auto",
    skip_bad_lines: bool = False,
    **compressor_params,
):
    """Fit a ``ChromaticCompressor(**compressor_params)`` on a cluster.

    Three rounds of counts, each added up on the workers: feature counts (and, with
    ``n_frequent="auto"``, a uniform sample of ``selection_rows`` rows to choose the split on),
    pair counts of the other features, then the label counts of every code value, from which
    the client cuts the buckets. Tables take one pass more, first, for their vocabulary.

    Parameters
    ----------
    data : dask array, dask DataFrame, or list of svmlight or Parquet file paths
        The rows, as ``fit`` takes them.
    y : array-like, dask array or None, default=None
        Binary labels of array data, chunked like its rows or not; files carry theirs, and
        tables hold theirs in the ``label`` column.
    label : str or None, default=None
        For tables, required: the column of binary labels, left out of the features.
    zero_based : bool or "auto", default="auto"
        For svmlight files: whether their indices start at 0; ``"auto"`` says so when some
        index is 0.
    skip_bad_lines : bool, default=False
        For svmlight files: skip malformed lines rather than fail.
    **compressor_params : dict
        Parameters of ``ChromaticCompressor`` (``memory_limit`` must stay None).

    Returns
    -------
    compressor : ChromaticCompressor
        Fitted; with a fixed ``n_frequent``, equal to ``ChromaticCompressor(...).fit(X, y)``
        (for tables, as ``fit`` says).

    See Also
    --------
    transform : Encode the partitions with the fitted compressor.
    chromatic_learning.streaming.fit_compressor_files : The same fit over files on one machine.

    Examples
    --------
    >>> import dask.array as da
    >>> import scipy.sparse as sp
    >>> import chromatic_learning.dask as cd
    >>> from chromatic_learning import ChromaticCompressor, make_onehot_zipf
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
    rows, features = _row_source(
        compressor,
        data,
        y,
        label,
        zero_based,
        skip_bad_lines,
        params.coloring.n_jobs,
        needs_labels=True,
    )
    compression, _ = fit_compression(rows, params)
    if features is not None:
        set_table_features(compressor, features)
    return set_compression(compressor, compression)


def _row_source(
    model, data, y, label, zero_based, skip_bad_lines, n_jobs, *, needs_labels=False
) -> tuple[DaskPartitions, TableFeatures | None]:
    """Return the partitions of ``data`` as rows, and the fitted features of tables (or None).

    The features of tables are learned here, in a pass over their partitions.
    """
    tables = TablePartitions.of(data, label)
    if tables is None:
        if label is not None:
            raise ValueError(
                "label names the label column of tables (a dask DataFrame or Parquet files); "
                "svmlight files carry their labels, and arrays take y"
            )
        rows = DaskPartitions.of(data, y, zero_based=zero_based, skip_bad_lines=skip_bad_lines)
        return rows, None
    if y is not None:
        raise ValueError("tables hold their labels: name the label column with label=, not y")
    if needs_labels and label is None:
        raise ValueError("fit_compressor needs labels: name the table's label column with label=")
    features = tables.fitted_features(table_features(table_template(model)), n_jobs)
    return tables.row_source(features, n_jobs), features


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


def _transform_table(model, loaded, place: str):
    table, _ = loaded
    if table.num_rows == 0:
        return _empty_output(model)
    try:
        return _realigned(model).transform(table)
    except ValueError as error:
        raise ValueError(f"{place}: {error}") from None


def transform(model, data, *, zero_based: bool | None = None, skip_bad_lines: bool = False):
    """Encode ``data`` partition by partition with a fitted encoder or compressor.

    The model is sent to each worker once.

    Parameters
    ----------
    model : fitted ChromaticEncoder or ChromaticCompressor
        The model to encode with.
    data : dask array, dask DataFrame, or list of svmlight or Parquet file paths
        The rows, as ``fit`` takes them: tables for a model fitted on tables (the columns it
        was fitted on are read, the others ignored), else sparse rows.
    zero_based : bool or None, default=None
        For svmlight files, required: whether their indices start at 0 (as the files the
        model was fitted on).
    skip_bad_lines : bool, default=False
        For svmlight files: skip malformed lines rather than fail.

    Returns
    -------
    encoded : dask.array.Array
        One row per input row, as ``model.transform`` gives them for each partition: int32
        codes, or scipy sparse blocks for one-hot output (an encoder with ``output="onehot"``,
        or a compressor). Rows of files and of dask DataFrames are in partition order; their
        chunk sizes are known once computed.
    """
    if not isinstance(model, (ChromaticEncoder, ChromaticCompressor)):
        raise TypeError(
            f"model must be a fitted ChromaticEncoder or ChromaticCompressor, got {model!r}"
        )
    check_is_fitted(model)
    meta = _empty_output(model)
    width = meta.shape[1]
    shared = dask.delayed(model)
    tables = TablePartitions.of(data)
    fitted_on_tables = hasattr(model, "table_encoder_")
    if fitted_on_tables != (tables is not None):
        kind = "tables" if fitted_on_tables else "sparse rows"
        raise ValueError(
            f"the model was fitted on {kind}; it encodes {kind} (tables: a dask DataFrame or "
            "Parquet files; sparse rows: a dask array or svmlight files)"
        )
    if tables is not None:
        blocks = [
            dask.delayed(_transform_table)(shared, load, place)
            for load, place in zip(tables.loads, tables.places, strict=True)
        ]
        return _concatenated(blocks, meta)
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
        dask.delayed(_transform_rows)(shared, part, 0 if zero_based else 1)
        for part in partitions.parts
    ]
    return _concatenated(blocks, meta)


def _concatenated(blocks: list, meta) -> da.Array:
    """Stack delayed encoded blocks (rows unknown until computed) into one dask array."""
    return da.concatenate(
        [
            da.from_delayed(block, shape=(np.nan, meta.shape[1]), dtype=meta.dtype, meta=meta)
            for block in blocks
        ],
        axis=0,
    )
