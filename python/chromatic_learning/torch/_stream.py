"""Files streamed through a fitted model as batches of fields, for data larger than memory."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .._compression import (
    ChromaticCompressor,
    compressed_csr,
    fitted_compression,
    output_fields,
)
from .._encoder import ChromaticEncoder, fitted_coloring
from .._encoding import compressed_rows
from .._fields import Fields, code_fields, concat_fields
from .._sources import row_folds
from .._table_files import TableReading
from .._tables import CrossFitTables
from ..streaming import model_rows
from ..svmlight import DEFAULT_CHUNK_BYTES
from ._data import FieldBatch, batch_of


class FieldStream(IterableDataset):
    """The rows of svmlight or table files, encoded by a fitted model, as ``FieldBatch`` batches.

    The files are read a chunk at a time (as ``chromatic_learning.streaming`` reads them), each
    chunk's
    rows turned into fields by the model (``ChromaticEncoder``: its codes;
    ``ChromaticCompressor``: its buckets and frequent features), and cut into batches of
    ``batch_size`` rows in file order, so memory holds the model and a chunk. Give it to a
    ``DataLoader`` with ``batch_size=None`` (the batches are made here), as ``stream_loader``
    does; with ``num_workers`` (started by ``spawn``, as ``stream_loader`` starts them),
    the workers share the rows without repeating any: each reads whole files when there are
    at least as many files as workers, otherwise every worker reads every file and encodes
    every ``num_workers``-th chunk.

    Parameters
    ----------
    model : fitted ChromaticEncoder or ChromaticCompressor
        Fitted on files of the same kind (``chromatic_learning.streaming.fit_files`` or
        ``fit_compressor_files``) or in memory.
    paths : sequence of str or path-like
        The files, read in order.
    batch_size : int, default=1024
        Rows per batch (the last batch may be smaller).
    zero_based : bool or None, default=None
        Whether svmlight indices start at 0, as in the files the model was fitted on; needed
        for svmlight files.
    tables : chromatic_learning.streaming.TableReading or None, default=None
        Read the files as tables (Parquet, CSV) this way; the model must have been fitted on
        tables.
    cross_fit : CrossFitTables or None, default=None
        ``fit_compressor_files(..., cross_fit=True)``'s tables: the rows are the training rows
        (in the order they were fitted), each encoded by the table of its fold, as
        ``fit_to_fields`` encodes rows in memory. Every worker then counts every chunk's rows.
    chunk_bytes : int, default=DEFAULT_CHUNK_BYTES
        Bytes of a file read at a time.
    """

    def __init__(
        self,
        model,
        paths: Sequence[str | os.PathLike],
        *,
        batch_size: int = 1024,
        zero_based: bool | None = None,
        tables: TableReading | None = None,
        cross_fit: CrossFitTables | None = None,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    ):
        if not isinstance(model, ChromaticEncoder | ChromaticCompressor):
            raise TypeError(
                f"model must be a fitted ChromaticEncoder or ChromaticCompressor, got "
                f"{type(model).__name__}"
            )
        if not hasattr(model, "n_features_in_"):
            raise ValueError(f"the {type(model).__name__} is not fitted: fit it first")
        if tables is None and zero_based is None:
            raise ValueError("zero_based is needed for svmlight files: as in the fit")
        if cross_fit is not None and not isinstance(model, ChromaticCompressor):
            raise ValueError("cross_fit tables belong to a ChromaticCompressor")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.model, self.paths = model, [os.fspath(path) for path in paths]
        self.batch_size, self.zero_based, self.tables = batch_size, bool(zero_based), tables
        self.cross_fit, self.chunk_bytes = cross_fit, chunk_bytes

    def __iter__(self) -> Iterator[FieldBatch]:
        info = get_worker_info()
        worker, n_workers = (0, 1) if info is None else (info.id, info.num_workers)
        by_file = self.cross_fit is None and len(self.paths) >= n_workers
        paths = self.paths[worker::n_workers] if by_file else self.paths
        pending: tuple[Fields, np.ndarray] | None = None
        for fields, labels in self._chunks(paths, 0 if by_file else worker, n_workers, by_file):
            if pending is not None:
                fields, labels = (
                    concat_fields(pending[0], fields),
                    np.concatenate([pending[1], labels]),
                )
            n_full = fields.n_rows - fields.n_rows % self.batch_size
            for start in range(0, n_full, self.batch_size):
                rows = np.arange(start, start + self.batch_size)
                yield batch_of(fields.take(rows), labels[rows])
            rest = np.arange(n_full, fields.n_rows)
            pending = (fields.take(rest), labels[rest]) if len(rest) else None
        if pending is not None:
            yield batch_of(*pending)

    def _chunks(self, paths, worker: int, n_workers: int, by_file: bool):
        """Yield ``(fields, labels)`` of the chunks this worker encodes."""
        chunk, first_row = 0, 0
        fitted = None if self.cross_fit is None else fitted_compression(self.model, self.cross_fit)
        for path in paths:
            rows_of = model_rows(
                self.model, path, self.zero_based, self.chunk_bytes, False, self.tables
            )
            for rows, X, _ in rows_of:
                mine = by_file or chunk % n_workers == worker
                chunk += 1
                if mine:
                    labels = np.asarray(rows.labels, dtype=np.float32)
                    yield self._fields(X, fitted, first_row), labels
                first_row += X.shape[0]

    def _fields(self, X, fitted, first_row: int) -> Fields:
        model = self.model
        if isinstance(model, ChromaticEncoder):
            codes = fitted_coloring(model).encode(X.indptr, X.indices, None, X.shape[0])
            return code_fields(codes, model.field_dims_)
        if fitted is None or fitted.coloring is None:
            columns = compressed_csr(model, X)
        else:
            folds = row_folds(
                first_row, X.shape[0], len(self.cross_fit.tables), self.cross_fit.seed
            )
            columns = compressed_rows(fitted, X, folds)
        return output_fields(model, columns)


def stream_loader(stream: FieldStream, **kw) -> torch.utils.data.DataLoader:
    """Return a ``DataLoader`` of the stream's batches; ``kw`` go to it (``num_workers``).

    Workers are started (``spawn``), not forked: a forked child inherits the engine's thread
    pool without its threads, and would wait on them forever.
    """
    if kw.get("num_workers", 0) > 0:
        kw.setdefault("multiprocessing_context", "spawn")
    return torch.utils.data.DataLoader(stream, batch_size=None, **kw)
