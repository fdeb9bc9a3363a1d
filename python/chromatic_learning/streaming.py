"""Fit and encode svmlight files chunk by chunk, in memory bounded by the model and one chunk.

A first pass over the files counts the features, a second counts their pairs, then the graph is
colored [1]_; encoding is one more pass. With a budget (``ChromaticCompressor``), a third pass
counts the labels of every code value, and the buckets are cut from those counts [2]_.

The fit is the same pipeline as the in-memory one, reading the files as its row source, so the
fitted model is the same as that of ``fit`` on the loaded rows.

Notes
-----
Progress: the functions that read files take ``progress``, a callable called as
``progress(phase, done, total)`` as they go. ``phase`` names what is done: a pass over the
rows (``"counting features"``, ``"bounding pairs"`` and ``"counting pairs (pass N)"`` under a
memory limit, ``"counting pairs"``, ``"counting values"``, ``"encoding"``), the choice of the
frequent features (``"choosing frequent features"``), or a step of one call (``"coloring"``,
``"cutting buckets"``). Those of ``forecast_files`` start with ``"forecasting collisions: "``
(its last pass is ``"encoding held-out rows"``).
In a pass, ``done`` and ``total`` are bytes of input: ``total`` the size of the files
together, ``done`` the bytes read (the compressed bytes of a compressed file; up to the end of
a Parquet file's row group); a pass that reads the fit's binary copy of the rows reports the
bytes of the files the rows came from. A pass starts at 0 and ends with ``done == total``,
except over a stream (a FIFO given to ``iter_encoded`` or ``iter_compressed``), whose size is
unknown: its ``total`` is None and ``done`` counts the bytes read. In
the choice of the frequent features, they count the candidate splits scored out of those
planned (the total grows when the first scores call for more candidates). A step of one call
is reported once, as it starts, with ``done`` 0 and ``total`` None. A phase ends where the
next one starts.

References
----------
.. [1] V. Feinberg and P. Bailis, "Chromatic Learning for Sparse Datasets",
   arXiv:2006.03779, 2020. https://arxiv.org/abs/2006.03779
.. [2] M. Bateni, L. Chen, H. Esfandiari, T. Fu, V. S. Mirrokni and A. Rostamizadeh,
   "Categorical Feature Compression via Submodular Optimization", ICML 2019,
   arXiv:1904.13389. https://arxiv.org/abs/1904.13389

Examples
--------
>>> import os, tempfile
>>> from chromatic_learning import ChromaticEncoder
>>> from chromatic_learning.streaming import fit_files, iter_encoded
>>> tmp = tempfile.TemporaryDirectory()
>>> path = os.path.join(tmp.name, "train.svm")
>>> with open(path, "w") as f:
...     for line in ["1 0:1 2:1", "0 1:1 3:1", "1 0:1 3:1", "0 1:1 2:1"]:
...         print(line, file=f)
>>> encoder = ChromaticEncoder(dense_threshold=None)
>>> report = fit_files(encoder, [path])
>>> report.rows, report.zero_based, encoder.n_colors_
(4, True, 2)
>>> for labels, codes, collisions, unseen in iter_encoded(encoder, path, zero_based=True):
...     print(labels, codes.tolist(), collisions, unseen)
[1. 0. 1. 0.] [[1, 1], [2, 2], [1, 2], [2, 1]] 0 0
>>> tmp.cleanup()
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted

from ._compression import (
    ChromaticCompressor,
    compress_features,
    compression_params,
    fitted_compression,
    set_compression,
)
from ._encoder import (
    ChromaticEncoder,
    coloring_params,
    fitted_coloring,
    set_collision_forecast,
    set_coloring,
)
from ._encoding import compressed_rows
from ._input import effective_n_jobs
from ._pipeline import fit_coloring, fit_compression, forecast_collisions
from ._row_copy import CopiedRows
from ._sources import (
    ChunkedRows,
    Kept,
    Progress,
    Rows,
    SvmlightFiles,
    input_size,
    reported,
    row_folds,
)
from ._table_encoder import table_features
from ._table_files import TableFileError, TableFiles, TableReading
from ._table_input import set_table_features, table_template
from ._tables import CrossFitTables, FitReport
from ._validation import resolve_zero_based
from .svmlight import DEFAULT_CHUNK_BYTES, iter_chunks

__all__ = [
    "CrossFitTables",
    "StreamReport",
    "TableReading",
    "fit_compressor_files",
    "fit_files",
    "forecast_files",
    "iter_compressed",
    "iter_encoded",
    "model_rows",
    "row_folds",
]

#: What a fit over files found: rows, non-zeros, skipped lines, the index base and the graph
#: passes.
StreamReport = FitReport


def fit_files(
    encoder: ChromaticEncoder,
    paths: Sequence[str | os.PathLike],
    *,
    zero_based: bool | str = "auto",
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    skip_bad_lines: bool = False,
    progress: Progress | None = None,
    tables: TableReading | None = None,
) -> StreamReport:
    """Fit ``encoder`` on the rows of svmlight (or table) files, streaming them.

    The files are read twice, one chunk at a time; the result equals
    ``encoder.fit(load_svmlight(paths).X)``. Under a ``memory_limit``, the graph takes a pass
    of pair bounds and one pass per shard: the second pass writes a binary copy of the rows
    (in the temporary folder, ``TMPDIR``; about 4 bytes per entry, removed at the end) that the
    later passes read instead of the files.

    Parameters
    ----------
    encoder : ChromaticEncoder
        Fitted in place, with its parameters as given.
    paths : sequence of str or path-like
        The svmlight files, read in order as one set of rows.
    zero_based : bool or "auto", default="auto"
        Whether the indices start at 0; ``"auto"`` says so when some index is 0.
    chunk_bytes : int, default=DEFAULT_CHUNK_BYTES
        Bytes of a file read at a time.
    skip_bad_lines : bool, default=False
        Skip malformed lines (counted in the report) rather than fail.
    progress : callable or None, default=None
        Called as ``progress(phase, done, total)`` as the fit goes: ``done`` and ``total`` in
        bytes of the files in a pass over them (see Progress in the module's Notes).
    tables : TableReading or None, default=None
        Read ``paths`` as table files (Parquet, delimited text) this way: their columns are
        read as the model's ``table`` parameter says (``column=value`` features), and the
        fitted model keeps a ``table_encoder_``. The features are numbered as for one table of
        every row (the in-memory fit's ids, however the files are cut into chunks); the bin
        edges of numeric columns are learned on the first chunk. None: svmlight files.

    Returns
    -------
    report : StreamReport
        Rows, non-zeros, skipped lines, the index base and the graph passes.

    See Also
    --------
    iter_encoded : Encode a file chunk by chunk with the fitted encoder.
    chromatic_learning.dask.fit : The same fit over the partitions of a Dask cluster.
    """
    params = coloring_params(encoder)
    rows = _row_source(
        encoder, paths, tables, params.n_jobs, progress, zero_based, chunk_bytes, skip_bad_lines
    )
    # Without a memory limit, one pass follows the first: nothing to read a copy.
    with _rereading(rows, copy=params.memory_limit is not None) as passes:
        coloring, report = fit_coloring(passes, params)
    _set_table(encoder, rows)
    set_coloring(encoder, coloring)
    return report


def forecast_files(
    encoder: ChromaticEncoder,
    paths: Sequence[str | os.PathLike],
    *,
    zero_based: bool,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    skip_bad_lines: bool = False,
    progress: Progress | None = None,
    tables: TableReading | None = None,
) -> float:
    """Forecast the collisions per new row of an encoder from the files it was fitted on.

    ``ChromaticEncoder.forecast_collisions`` for files: the coloring is fitted once more on
    nine rows in ten, streamed, and the tenth are encoded with it. The forecast is kept as the
    encoder's ``collision_forecast_``.

    Parameters
    ----------
    encoder : ChromaticEncoder
        Fitted on ``paths`` (with ``fit_files``).
    paths : sequence of str or path-like
        Its training files, as it was fitted on them.
    zero_based : bool
        Their index base, as the fit found it (``StreamReport.zero_based``).
    chunk_bytes, skip_bad_lines, progress, tables :
        As for ``fit_files``.

    Returns
    -------
    collisions_per_row : float
        Expected features dropped by collisions per new row.
    """
    check_is_fitted(encoder)
    params = coloring_params(encoder)
    # A table's rows are read with the fitted vocabulary, so that ids are those of the fit.
    features = None if tables is None else encoder.table_encoder_.features_
    rows = _row_source(
        encoder, paths, tables, params.n_jobs, progress, zero_based, chunk_bytes,
        skip_bad_lines, features,
    )  # fmt: skip
    with _rereading(rows, copy=True) as passes:
        collisions, n_rows = forecast_collisions(passes, params, zero_based)
    set_collision_forecast(encoder, collisions, n_rows)
    return encoder.collision_forecast_


def fit_compressor_files(
    compressor: ChromaticCompressor,
    paths: Sequence[str | os.PathLike],
    *,
    zero_based: bool | str = "auto",
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    skip_bad_lines: bool = False,
    progress: Progress | None = None,
    cross_fit: bool = False,
    tables: TableReading | None = None,
) -> tuple[StreamReport, CrossFitTables | None]:
    """Fit ``compressor`` on the rows and binary labels of svmlight files, streaming them.

    Three passes read the rows: features (and, with ``n_frequent="auto"``, a uniform
    sample of ``selection_rows`` rows to choose the split on), feature pairs, then the labels
    of every code value. The files are read by the first two; the second writes a binary copy
    of the rows (in the temporary folder, ``TMPDIR``; about 4 bytes per entry, removed at the
    end) that the later passes read. With a fixed ``n_frequent``, the result equals
    ``compressor.fit(X, y)`` on the same rows.

    Parameters
    ----------
    compressor : ChromaticCompressor
        Fitted in place, with its parameters as given.
    paths : sequence of str or path-like
        The svmlight files, read in order as one set of rows; their labels must be binary.
    zero_based : bool or "auto", default="auto"
        Whether the indices start at 0; ``"auto"`` says so when some index is 0.
    chunk_bytes : int, default=DEFAULT_CHUNK_BYTES
        Bytes of a file read at a time.
    skip_bad_lines : bool, default=False
        Skip malformed lines (counted in the report) rather than fail.
    progress : callable or None, default=None
        Called as ``progress(phase, done, total)`` as the fit goes: ``done`` and ``total`` in
        bytes of the files in a pass over them (see Progress in the module's Notes).
    tables : TableReading or None, default=None
        Read ``paths`` as table files (Parquet, delimited text) this way: their columns are
        read as the model's ``table`` parameter says (``column=value`` features), and the
        fitted model keeps a ``table_encoder_``. The features are numbered as for one table of
        every row (the in-memory fit's ids, however the files are cut into chunks); the bin
        edges of numeric columns are learned on the first chunk. None: svmlight files.
    cross_fit : bool, default=False
        Also count the value labels per fold, to encode the training rows without their own
        labels.

    Returns
    -------
    report : StreamReport
        Rows, non-zeros, skipped lines, the index base and the graph passes.
    cross_fit_tables : CrossFitTables or None
        With ``cross_fit`` (and buckets to place values in), the tables that
        ``iter_compressed`` encodes the training rows with.

    See Also
    --------
    iter_compressed : Encode a file chunk by chunk with the fitted compressor.
    chromatic_learning.dask.fit_compressor : The same fit over the partitions of a Dask cluster.

    Examples
    --------
    >>> import os, tempfile
    >>> from chromatic_learning import ChromaticCompressor
    >>> from chromatic_learning.streaming import fit_compressor_files, iter_compressed
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "train.svm")
    >>> with open(path, "w") as f:
    ...     for line in ["1 0:1 2:1", "0 1:1 3:1", "1 0:1 3:1", "0 1:1 2:1"]:
    ...         print(line, file=f)
    >>> compressor = ChromaticCompressor(budget=4, n_frequent=1, random_state=0)
    >>> report, tables = fit_compressor_files(compressor, [path], cross_fit=True)
    >>> compressor.n_features_out_
    2
    >>> for labels, columns in iter_compressed(compressor, path, zero_based=True, cross_fit=tables):
    ...     print(labels, columns.toarray().tolist())
    [1. 0. 1. 0.] [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    >>> tmp.cleanup()
    """
    params = compression_params(compressor)
    rows = _row_source(
        compressor,
        paths,
        tables,
        params.coloring.n_jobs,
        progress,
        zero_based,
        chunk_bytes,
        skip_bad_lines,
    )
    with _rereading(rows, copy=True) as passes:
        compression, report = fit_compression(passes, params, cross_fit=cross_fit)
    _set_table(compressor, rows)
    set_compression(compressor, compression)
    return report, compression.cross_fit


def model_rows(
    model, path, zero_based: bool, chunk_bytes: int, skip_bad_lines: bool, tables=None
) -> Iterator[tuple[Rows, sp.csr_matrix, int]]:
    """Read ``path`` chunk by chunk as rows over the features of a fitted model.

    Parameters
    ----------
    model : fitted ChromaticEncoder or ChromaticCompressor
        Gives the width of the rows and the threads of the parser.
    path : str or path-like
        An svmlight file.
    zero_based : bool
        Whether its indices start at 0 (as the files the model was fitted on).
    chunk_bytes : int
        Bytes read at a time.
    skip_bad_lines : bool
        Skip malformed lines rather than fail.
    tables : TableReading or None
        Read ``path`` as a table file this way (the model must have been fitted on tables).

    Yields
    ------
    chunk : Rows
        The chunk as parsed, labels included, with the bytes of the file read once it was
        (``bytes_read``); chunks without rows (only blank, comment or skipped lines) are left
        out.
    X : scipy.sparse.csr_matrix of shape (n_rows, model.n_features_in_)
        Its binary rows over the model's features.
    unknown : int
        Entries beyond those features: features never seen in fit, ignored like them.
    """
    if tables is not None:
        yield from _table_rows(model, path, tables)
        return
    kept = Kept(0 if zero_based else 1, width=model.n_features_in_)
    for chunk in iter_chunks(
        path,
        chunk_bytes=chunk_bytes,
        skip_bad_lines=skip_bad_lines,
        n_jobs=effective_n_jobs(model.n_jobs),
    ):
        if chunk.n_rows == 0:
            # Only blank, comment or skipped lines: nothing to encode, and the estimators
            # refuse a matrix of no rows.
            continue
        try:
            resolve_zero_based(zero_based, chunk.min_index)
        except ValueError as error:
            raise ValueError(f"{os.fspath(path)}: {error}") from None
        rows = Rows(chunk.indptr, chunk.indices, labels=chunk.labels, bytes_read=chunk.bytes_read)
        X = kept.csr(rows, model.n_features_in_)
        yield rows, X, len(chunk.indices) - X.nnz


def iter_encoded(
    encoder: ChromaticEncoder,
    path: str | os.PathLike,
    *,
    zero_based: bool,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    skip_bad_lines: bool = False,
    tables: TableReading | None = None,
    progress: Progress | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray, int, int]]:
    """Encode an svmlight file chunk by chunk with a fitted encoder.

    Parameters
    ----------
    encoder : fitted ChromaticEncoder
        The encoder.
    path : str or path-like
        An svmlight file.
    zero_based : bool
        Whether its indices start at 0 (as the files the encoder was fitted on).
    chunk_bytes : int, default=DEFAULT_CHUNK_BYTES
        Bytes read at a time.
    skip_bad_lines : bool, default=False
        Skip malformed lines rather than fail.
    tables : TableReading or None, default=None
        Read ``path`` as a table file this way (the model must have been fitted on tables).
    progress : callable or None, default=None
        Called as ``progress("encoding", done, total)`` as the file is read: ``done`` bytes of
        the file read (compressed bytes for a compressed file) of its ``total`` size, from 0
        to ``total`` (see Progress in the module's Notes).

    Yields
    ------
    labels : ndarray of float64
        The labels of the chunk's rows.
    codes : ndarray of shape (n_rows, n_colors_), int32
        Their codes, as ``encoder.transform`` gives them.
    collisions : int
        Present features dropped because another feature of the same color was in the row.
    unseen : int
        Present features never seen in fit (indices beyond the model's features included),
        ignored.
    """
    coloring = fitted_coloring(encoder)
    chunks = model_rows(encoder, path, zero_based, chunk_bytes, skip_bad_lines, tables)
    for rows, X, unknown in _encoding_progress(chunks, path, progress):
        codes, collisions, unseen = coloring.encode_counted(X.indptr, X.indices, None, X.shape[0])
        yield rows.labels, codes, collisions, unseen + unknown


def iter_compressed(
    compressor: ChromaticCompressor,
    path: str | os.PathLike,
    *,
    zero_based: bool,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    skip_bad_lines: bool = False,
    cross_fit: CrossFitTables | None = None,
    first_row: int = 0,
    tables: TableReading | None = None,
    progress: Progress | None = None,
) -> Iterator[tuple[np.ndarray, sp.csr_matrix]]:
    """Encode an svmlight file chunk by chunk with a fitted compressor.

    Parameters
    ----------
    compressor : fitted ChromaticCompressor
        The compressor.
    path : str or path-like
        An svmlight file.
    zero_based : bool
        Whether its indices start at 0 (as the files the compressor was fitted on).
    chunk_bytes : int, default=DEFAULT_CHUNK_BYTES
        Bytes read at a time.
    skip_bad_lines : bool, default=False
        Skip malformed lines rather than fail.
    tables : TableReading or None, default=None
        Read ``path`` as a table file this way (the model must have been fitted on tables).
    cross_fit : CrossFitTables or None, default=None
        From ``fit_compressor_files``: the rows are then training rows, each encoded by the
        table of its fold so that no row is encoded with its own label.
    first_row : int, default=0
        With ``cross_fit``, the number of the file's first row among the training rows (the
        fold of a row is a hash of that number).
    progress : callable or None, default=None
        Called as ``progress("encoding", done, total)`` as the file is read: ``done`` bytes of
        the file read (compressed bytes for a compressed file) of its ``total`` size, from 0
        to ``total`` (see Progress in the module's Notes).

    Yields
    ------
    labels : ndarray of float64
        The labels of the chunk's rows.
    columns : scipy.sparse.csr_matrix of shape (n_rows, n_features_out_)
        Their output columns, binary.
    """
    row = first_row
    fitted = None if cross_fit is None else fitted_compression(compressor, cross_fit)
    chunks = model_rows(compressor, path, zero_based, chunk_bytes, skip_bad_lines, tables)
    for rows, X, _ in _encoding_progress(chunks, path, progress):
        if fitted is None or fitted.coloring is None:
            columns = compress_features(compressor, X)
        else:
            folds = row_folds(row, X.shape[0], len(cross_fit.tables), cross_fit.seed)
            columns = compressed_rows(fitted, X, folds)
        row += X.shape[0]
        yield rows.labels, columns


def _encoding_progress(chunks, path, progress: Progress | None):
    """Yield the chunks of ``model_rows``, reporting the bytes of ``path`` read as ``encoding``."""
    if progress is None:
        return chunks
    return reported(
        chunks, lambda chunk: chunk[0].bytes_read, progress, "encoding", input_size(path)
    )


def _row_source(
    model, paths, tables, n_jobs, progress, zero_based, chunk_bytes, skip_bad_lines, features=None
) -> ChunkedRows:
    """Return the rows of ``paths``: svmlight files, or with ``tables``, table files.

    Table files are read as ``features`` say: fitted ones look values up; by default the
    model's table parameters, fitted by the first pass.
    """
    if tables is None:
        return SvmlightFiles(
            paths,
            zero_based=zero_based,
            chunk_bytes=chunk_bytes,
            skip_bad_lines=skip_bad_lines,
            progress=progress,
            n_jobs=n_jobs,
        )
    if features is None:
        features = table_features(table_template(model))
    if model.get_params().get("memory_limit") is not None:
        # Under a memory limit the input holds one chunk at a time.
        tables = dataclasses.replace(tables, read_ahead=False)
    return TableFiles(paths, tables, features, progress=progress, n_jobs=n_jobs)


def _rereading(rows: ChunkedRows, *, copy: bool):
    """``rows`` for a fit's passes: with ``copy``, read from a binary copy after the second."""
    return CopiedRows(rows) if copy else contextlib.nullcontext(rows)


def _set_table(model, rows: ChunkedRows) -> None:
    """Give ``model`` the table encoder of the files it was fitted on (none for svmlight)."""
    if not isinstance(rows, TableFiles):
        model.__dict__.pop("table_encoder_", None)
        model.__dict__.pop("feature_names_in_", None)
        return
    set_table_features(model, rows.features)


def _table_rows(model, path, tables: TableReading):
    """Read a table file chunk by chunk as rows over the features of a table's model."""
    encoder = getattr(model, "table_encoder_", None)
    if encoder is None:
        raise ValueError(
            f"{os.fspath(path)}: is a table, but the model was fitted on svmlight rows"
        )
    for where, table, labels, bytes_read in tables.chunks_read(os.fspath(path)):
        try:
            X, unseen = encoder.features_.transform(table, n_jobs=effective_n_jobs(model.n_jobs))
        except ValueError as error:
            raise TableFileError(f"{where}: {error}") from None
        if X.shape[0] == 0:
            continue
        if labels is None:
            labels = np.zeros(X.shape[0])
        X = sp.csr_matrix(X)
        yield Rows(X.indptr, X.indices, labels=labels, bytes_read=bytes_read), X, unseen
