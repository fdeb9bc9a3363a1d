"""The output formats of ``transform`` and ``compress``: one sink class per ``--format``.

Each sink writes the encoded chunks of one input to one binary file that the output module
opened (and will put in place, compressed when its name says so).
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np
import scipy.sparse as sp

from .. import _core
from ._reports import CommandError


class SvmlightSink:
    """Write svmlight lines: ``label color:code ...``, or ``label column:1 ...`` for one-hot.

    Colors are 0-based, and only non-zero codes are written; the text is formatted by the
    engine. ``valued`` columns (a hashed tail's signed counts) are written with their values.
    """

    def __init__(
        self, out: BinaryIO, n_columns: int, one_hot: bool, n_jobs, names=None, valued=False
    ):
        self.out = out
        self.n_jobs = n_jobs
        self.valued = valued

    def write(self, labels: np.ndarray, output) -> None:
        labels = np.ascontiguousarray(labels, dtype=np.float64)
        if sp.issparse(output):
            text = _core.format_rows(
                labels,
                output.indptr.astype(np.int64),
                output.indices.astype(np.int64),
                output.data.astype(np.int32) if self.valued else None,
                n_jobs=self.n_jobs,
            )
        else:
            text = _core.format_codes(labels, output, n_jobs=self.n_jobs)
        self.out.write(text)

    def close(self) -> None:
        pass


class NpzSink:
    """Gather the chunks into one ``.npz``.

    It holds ``codes`` (int32) and ``labels``, or for one-hot columns a CSR matrix as
    ``scipy.sparse.save_npz`` writes it (``scipy.sparse.load_npz`` reads it) plus ``labels``.
    """

    def __init__(
        self, out: BinaryIO, n_columns: int, one_hot: bool, n_jobs, names=None, valued=False
    ):
        self.out, self.n_columns, self.one_hot = out, n_columns, one_hot
        self.labels: list = []
        self.outputs: list = []

    def write(self, labels: np.ndarray, output) -> None:
        self.labels.append(labels)
        self.outputs.append(output)

    def close(self) -> None:
        labels = np.concatenate(self.labels) if self.labels else np.zeros(0)
        if self.one_hot:
            empty = sp.csr_matrix((0, self.n_columns))
            matrix = sp.vstack(self.outputs, format="csr") if self.outputs else empty
            np.savez(
                self.out,
                format=np.array("csr"),
                shape=np.array(matrix.shape),
                data=matrix.data,
                indices=matrix.indices,
                indptr=matrix.indptr,
                labels=labels,
            )
        else:
            empty = np.zeros((0, self.n_columns), np.int32)
            codes = np.vstack(self.outputs) if self.outputs else empty
            np.savez(self.out, codes=codes, labels=labels)


class ParquetSink:
    """Stream the chunks into a Parquet file.

    It has a ``label`` column and one int32 column per color (``color0``, ...), or for one-hot
    columns a ``columns`` column listing each row's (int32), and with ``valued`` columns (a
    hashed tail's signed counts) a ``values`` column of their values alongside (int32). Given
    the names of the output columns (those of a model fitted on tables), each output is a
    column of its own, named as the model names it: codes (int32), 0 and 1 (int8), or values
    (int32).
    """

    def __init__(
        self, out: BinaryIO, n_columns: int, one_hot: bool, n_jobs, names=None, valued=False
    ):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise CommandError(
                "Parquet output needs pyarrow: pip install 'chromatic-learning[parquet]'"
            ) from None
        self.pa = pa
        self.wide = names is not None
        self.valued = valued
        fields = [pa.field("label", pa.float64())]
        if self.wide:
            kind = pa.int8() if one_hot and not valued else pa.int32()
            fields += [pa.field(str(name), kind) for name in names]
        elif one_hot:
            fields.append(pa.field("columns", pa.list_(pa.int32())))
            if valued:
                fields.append(pa.field("values", pa.list_(pa.int32())))
        else:
            fields += [pa.field(f"color{c}", pa.int32()) for c in range(n_columns)]
        self.schema = pa.schema(fields)
        self.writer = pq.ParquetWriter(out, self.schema)

    def write(self, labels: np.ndarray, output) -> None:
        pa = self.pa
        if sp.issparse(output) and not self.wide:
            offsets = pa.array(output.indptr.astype(np.int32))
            columns = [
                pa.array(labels),
                pa.ListArray.from_arrays(offsets, pa.array(output.indices.astype(np.int32))),
            ]
            if self.valued:
                values = pa.array(output.data.astype(np.int32))
                columns.append(pa.ListArray.from_arrays(offsets, values))
        else:
            # One contiguous array per output column, which Arrow takes without a copy.
            by_column = (
                one_hot_by_column(output, np.int32 if self.valued else np.int8)
                if sp.issparse(output)
                else output.T.copy()
            )
            columns = [pa.array(labels)] + [pa.array(column) for column in by_column]
        self.writer.write_table(pa.Table.from_arrays(columns, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


def one_hot_by_column(output: sp.csr_matrix, dtype=np.int8) -> np.ndarray:
    """Return the entries of ``output`` (0 and 1, int8 by default), one row per output column.

    Built straight from the stored entries: a chunk of 260,000 rows over 1,024 columns is
    266 MB this way, against 2.1 GB as a dense float matrix first.
    """
    n_rows, n_columns = output.shape
    by_column = np.zeros((n_columns, n_rows), dtype=dtype)
    rows = np.repeat(np.arange(n_rows), np.diff(output.indptr))
    by_column[output.indices, rows] = output.data
    return by_column


SINKS = {"svmlight": SvmlightSink, "npz": NpzSink, "parquet": ParquetSink}
