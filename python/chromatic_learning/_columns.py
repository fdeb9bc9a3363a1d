"""Tables in: the columns of a DataFrame or Arrow table as feature ids.

A feature is a (column, value) pair, named ``column=value``. String, binary, dictionary
(pandas ``category``, polars ``Categorical``), integer and boolean columns are categorical: each
value seen is a feature, a null is no feature. A list column is multi-hot: each distinct element
of a row's list is a feature ``column=element``. A numeric column (floats by default, or the
columns named in ``numeric``) is cut into quantile bins learned in fit, ``column=[lo, hi)``; NaN
is no feature.

Every input is read through Arrow: pandas through ``pyarrow.Table.from_pandas``, polars through
``to_arrow``; the value buffers are handed to the engine's ``ValueVocabulary`` without copies
where Arrow's layout allows, and no Python loop runs over the values. Feature ids follow the
order in which values first appear (column after column, rows in order), so the same data gives
the same ids whether it came as pandas, polars or Arrow, with or without a dictionary encoding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import _core

#: How a column's values are read: ``string`` (text or bytes), ``integer``, ``boolean``,
#: ``temporal`` (dates, times, timestamps, durations), ``float`` (categorical floats, with
#: ``numeric="none"``), ``numeric`` (quantile bins).
VALUE_KINDS = ("string", "integer", "boolean", "temporal", "float", "numeric")


def arrow_table(X):
    """Return ``X`` as a ``pyarrow.Table`` when it is a table, else ``None``.

    Tables are pandas and polars DataFrames and pyarrow Tables and RecordBatches; anything else
    (numpy, scipy, lists) is not one. pyarrow is imported only when ``X`` is a table.
    """
    module = type(X).__module__.split(".")[0]
    if module not in ("pandas", "polars", "pyarrow"):
        return None
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pandas and polars inputs need pyarrow
        raise ImportError(
            "reading a DataFrame needs pyarrow: pip install 'chromatic-learning[tables]'"
        ) from None
    if module == "pyarrow":
        if isinstance(X, pa.Table):
            return X
        if isinstance(X, pa.RecordBatch):
            return pa.Table.from_batches([X])
        return None
    if module == "polars":
        import polars as pl

        return X.to_arrow() if isinstance(X, pl.DataFrame) else None
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        return None
    X = X.rename(columns=str)
    return pa.Table.from_pandas(X, preserve_index=False)


def non_numeric_columns(X) -> list[str]:
    """Return the columns of a table ``X`` that a matrix cannot hold (strings, lists...).

    Empty for anything that is not a table, or a table of numbers and booleans only.
    """
    module = type(X).__module__.split(".")[0]
    if module == "pandas" and hasattr(X, "dtypes") and hasattr(X, "columns"):
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        return [
            str(name)
            for name, kind in zip(X.columns, X.dtypes, strict=True)
            if not (is_numeric_dtype(kind) or is_bool_dtype(kind))
        ]
    if module in ("polars", "pyarrow"):
        table = arrow_table(X)
        if table is None:
            return []
        import pyarrow as pa

        return [
            field.name
            for field in table.schema
            if not (
                pa.types.is_integer(field.type)
                or pa.types.is_floating(field.type)
                or pa.types.is_boolean(field.type)
            )
        ]
    return []


@dataclass
class FittedColumn:
    """How one input column was read in fit.

    ``position`` is the column's number in the vocabulary, ``kind`` one of ``VALUE_KINDS``,
    ``is_list`` whether each row holds a list of values, ``edges`` the inner bin edges of a
    numeric column (bin ``b`` holds ``edges[b - 1] <= x < edges[b]``).
    """

    name: str
    position: int
    kind: str
    is_list: bool = False
    edges: np.ndarray | None = None
    #: The Arrow type of a temporal column, to write its values back as text.
    arrow_type: object = None


class TableFeatures:
    """The features of a table: which columns, how each is read, the vocabulary of its values.

    Parameters
    ----------
    columns : sequence of str or None
        The columns to use (all when None).
    ignore : sequence of str
        Columns never used (for example the label's).
    numeric : "auto", "none" or sequence of str
        Columns cut into quantile bins: the float columns (``"auto"``), none (floats are
        categorical values), or those named.
    n_bins : int
        Quantile bins of a numeric column (fewer when its values have fewer distinct quantiles).
    min_frequency : int
        Values seen in fewer training rows are dropped (no feature), as scikit-learn's
        ``OneHotEncoder(min_frequency=...)`` does; they count as unseen at transform.
    """

    def __init__(
        self,
        columns: Sequence[str] | None = None,
        ignore: Sequence[str] = (),
        numeric="auto",
        n_bins: int = 16,
        min_frequency: int = 1,
    ):
        self.columns = None if columns is None else list(columns)
        self.ignore = list(ignore)
        self.numeric = numeric
        self.n_bins = int(n_bins)
        self.min_frequency = int(min_frequency)
        self.fitted: list[FittedColumn] = []
        self.vocabulary = _core.ValueVocabulary()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["vocabulary"] = self.vocabulary.to_arrays()
        return state

    def __setstate__(self, state: dict) -> None:
        # Arrays received from another process may sit unaligned in its message, which the
        # engine refuses: they are copied first when so.
        vocabulary = state.pop("vocabulary")
        if not isinstance(vocabulary, _core.ValueVocabulary):
            arrays = [np.require(array, requirements=["C", "A"]) for array in vocabulary]
            vocabulary = _core.ValueVocabulary.from_arrays(*arrays)
        self.__dict__.update(state)
        self.vocabulary = vocabulary

    @property
    def n_features(self) -> int:
        """The features seen in fit (less those dropped by ``min_frequency``)."""
        return self.vocabulary.n_features

    @property
    def input_columns(self) -> list[str]:
        """The names of the columns read, in order."""
        return [column.name for column in self.fitted]

    def fit_transform(self, table, n_jobs=None) -> sp.csr_array:
        """Learn the columns and values of ``table``; return its rows as binary feature rows."""
        rows = self._rows(table.num_rows, *self._fit_ids(table, n_jobs))
        if self.min_frequency > 1:
            rows = self._drop_rare(rows)
        return rows

    def _fit_ids(self, table, n_jobs) -> tuple[np.ndarray, np.ndarray]:
        """Learn the columns and values of ``table``; return its rows' feature ids."""
        names = self.chosen_columns(table)
        numeric = self.numeric_columns(table, names)
        fitted, columns = [], []
        for position, name in enumerate(names):
            array = _combined(table.column(name), name)
            column, values, row_offsets = _column_values(array, name, position, numeric)
            if column.kind == "numeric":
                column.edges = _quantile_edges(values[0], self.n_bins)
                values = _binned(values[0], column.edges)
            columns.append(_engine_column(column, values, row_offsets))
            fitted.append(column)
        vocabulary = _core.ValueVocabulary()
        indptr, indices = vocabulary.fit_rows(table.num_rows, columns, n_jobs=n_jobs)
        self.fitted, self.vocabulary = fitted, vocabulary
        return indptr, indices

    def fit_more_ids(self, table, n_jobs=None) -> tuple[np.ndarray, np.ndarray]:
        """Learn the values of one more chunk of training rows; return its rows' feature ids.

        The rows are ``(indptr, indices)`` of CSR rows, of one index type, each row's ids
        ascending: what the fit pipeline reads, without the values of a matrix. The first chunk
        fits the columns (and the bin edges of numeric columns, from its rows); each later one
        must hold the same columns, read the same way, and adds the values it brings, numbered
        after those of the chunks before (``_vocabularies.in_column_order`` then gives the ids
        of one table of all the chunks). Rare values are not dropped (``min_frequency`` needs
        every row at once).
        """
        if not self.fitted:
            if self.min_frequency > 1:
                raise ValueError("min_frequency above 1 needs every training row in one table")
            return _one_index_type(*self._fit_ids(table, n_jobs))
        columns = self._engine_columns(table)
        indptr, indices = self.vocabulary.fit_rows(table.num_rows, columns, n_jobs=n_jobs)
        return _one_index_type(indptr, indices)

    def fit_more(self, table, n_jobs=None) -> sp.csr_array:
        """``fit_more_ids``, the rows as binary feature rows."""
        return self._rows(table.num_rows, *self.fit_more_ids(table, n_jobs=n_jobs))

    def transform_ids(self, table, n_jobs=None) -> tuple[np.ndarray, np.ndarray, int]:
        """Encode ``table``: its rows' feature ids (as ``fit_more_ids``) and the unseen values.

        Unseen values (and those dropped by ``min_frequency``) are no feature, and counted.
        """
        columns = self._engine_columns(table)
        indptr, indices, unseen = self.vocabulary.transform_rows(
            table.num_rows, columns, n_jobs=n_jobs
        )
        return *_one_index_type(indptr, indices), unseen

    def transform(self, table, n_jobs=None) -> tuple[sp.csr_array, int]:
        """``transform_ids``, the rows as binary feature rows."""
        indptr, indices, unseen = self.transform_ids(table, n_jobs=n_jobs)
        return self._rows(table.num_rows, indptr, indices), unseen

    def hash_rows(
        self, table, *, n_columns: int, alternate_sign: bool, seed: int, n_jobs=None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hash the values of ``table``, its columns read as in fit (the hashing trick).

        Every distinct value of a row adds 1 (or ±1 with ``alternate_sign``) to the column of
        ``n_columns`` its column, kind and bytes hash to, whether fit saw it or not: no
        vocabulary is read. Returns CSR ``(indptr, indices, values)``.
        """
        columns = self._engine_columns(table)
        return _core.hash_table_rows(
            table.num_rows,
            columns,
            n_columns=n_columns,
            alternate_sign=alternate_sign,
            seed=seed,
            n_jobs=n_jobs,
        )

    def _engine_columns(self, table) -> list[tuple]:
        """Return the fitted columns of ``table``, read as in fit, as the vocabulary takes them."""
        self._check_columns(table)
        columns = []
        for column in self.fitted:
            values, row_offsets = self._read(table, column)
            columns.append(_engine_column(column, values, row_offsets))
        return columns

    def _check_columns(self, table) -> None:
        missing = [c.name for c in self.fitted if c.name not in table.column_names]
        if missing:
            raise ValueError(
                f"the table lacks the columns {missing} seen in fit; it has {table.column_names}"
            )

    def _read(self, table, column: FittedColumn) -> tuple:
        """Read a fitted column of ``table`` as in fit: its values for the vocabulary, offsets."""
        array = _combined(table.column(column.name), column.name)
        numeric = {column.name} if column.kind == "numeric" else set()
        read, values, row_offsets = _column_values(array, column.name, column.position, numeric)
        # A moment's key is its count of units: the same unit is needed to find it.
        if (read.kind, read.is_list, read.arrow_type) != (
            column.kind,
            column.is_list,
            column.arrow_type,
        ):
            raise ValueError(
                f"column {column.name!r} holds {_describe(read)} values, but held "
                f"{_describe(column)} values in fit"
            )
        if column.kind == "numeric":
            values = _binned(values[0], column.edges)
        return values, row_offsets

    def feature_names(self) -> np.ndarray:
        """Name every feature ``column=value`` (``column=[lo, hi)`` for a numeric bin)."""
        columns, _, offsets, data = self.vocabulary.to_arrays()
        names = np.empty(len(columns), dtype=object)
        for feature, position in enumerate(columns.tolist()):
            column = self.fitted[position]
            raw = bytes(data[offsets[feature] : offsets[feature + 1]])
            names[feature] = f"{column.name}={_value_text(column, raw)}"
        return names

    def column_of_feature(self) -> np.ndarray:
        """Return the column (its number among ``input_columns``) of every feature, int64."""
        return self.vocabulary.to_arrays()[0].astype(np.int64)

    def chosen_columns(self, table) -> list[str]:
        """Return the columns to read, in the table's order, checked against the table."""
        present = table.column_names
        asked = present if self.columns is None else self.columns
        unknown = [name for name in [*asked, *self.ignore] if name not in present]
        if unknown:
            raise ValueError(f"no column {unknown[0]!r} in the table; its columns are {present}")
        chosen = [name for name in asked if name not in set(self.ignore)]
        if not chosen:
            raise ValueError("no column left to read: every column is ignored")
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"columns listed twice: {chosen}")
        return chosen

    def numeric_columns(self, table, names) -> set[str]:
        """Return the columns cut into quantile bins."""
        import pyarrow as pa

        if isinstance(self.numeric, str):
            if self.numeric == "none":
                return set()
            if self.numeric != "auto":
                raise ValueError(
                    f"numeric must be 'auto', 'none' or a list of columns, got {self.numeric!r}"
                )
            return {name for name in names if pa.types.is_floating(table.schema.field(name).type)}
        listed = list(self.numeric)
        unknown = [name for name in listed if name not in names]
        if unknown:
            raise ValueError(f"numeric names {unknown[0]!r}, which is not a column read")
        return set(listed)

    def _rows(self, n_rows: int, indptr: np.ndarray, indices: np.ndarray) -> sp.csr_array:
        return _binary_rows(indptr, indices, (n_rows, self.n_features))

    def _drop_rare(self, rows: sp.csr_array) -> sp.csr_array:
        """Drop the features of fewer than ``min_frequency`` rows, renumbering the others."""
        counts = np.bincount(rows.indices, minlength=self.n_features)
        keep = counts >= self.min_frequency
        new_id = self.vocabulary.retain(keep)
        renumbered = new_id[rows.indices]
        kept = renumbered >= 0
        row_of_entry = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
        per_row = np.bincount(row_of_entry[kept], minlength=rows.shape[0])
        indptr = np.concatenate(([0], np.cumsum(per_row))).astype(np.int64)
        indices = renumbered[kept].astype(np.int32)
        return _binary_rows(indptr, indices, (rows.shape[0], self.n_features))


def _one_index_type(indptr: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR ``indptr`` and ``indices`` of one type, as scipy and the engine take them.

    The engine's int32 ``indices`` stay as they are, and ``indptr`` is narrowed to int32 when
    the entries allow (copying the indices to int64 would take twice their memory).
    """
    if len(indices) <= np.iinfo(np.int32).max:
        return indptr.astype(np.int32, copy=False), indices
    return indptr, indices.astype(np.int64)


def _binary_rows(indptr: np.ndarray, indices: np.ndarray, shape: tuple) -> sp.csr_array:
    """Binary float32 CSR rows of ``indices``."""
    indptr, indices = _one_index_type(indptr, indices)
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_array((data, indices, indptr), shape=shape)


def _combined(chunked, name: str):
    """One Arrow array of a column (its chunks joined); string views read as large strings."""
    import pyarrow as pa

    array = chunked
    if isinstance(chunked, pa.ChunkedArray):
        # One chunk (a Parquet row group, a block of text) is taken as it is, not copied.
        array = chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()
    if _is_view(array.type):
        array = array.cast(pa.large_string())
    return array


def _is_view(kind) -> bool:
    import pyarrow as pa

    return bool(getattr(pa.types, "is_string_view", lambda t: False)(kind)) or bool(
        getattr(pa.types, "is_binary_view", lambda t: False)(kind)
    )


def _column_values(array, name: str, position: int, numeric: set[str]):
    """Read a column: its ``FittedColumn``, the value arrays for the vocabulary, row offsets.

    Row offsets are ``None`` for a column of one value per row, and the list boundaries of a
    list column.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = array.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        lengths = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False)
        offsets = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)))
        elements = _combined(array.flatten(), name)
        if pa.types.is_dictionary(elements.type):
            elements = elements.dictionary_decode()
        if pa.types.is_list(elements.type) or pa.types.is_large_list(elements.type):
            raise ValueError(f"column {name!r} holds lists of lists; one level of lists is read")
        value_kind = _scalar_kind(elements.type, name, numeric=False)
        column = FittedColumn(name, position, value_kind, is_list=True)
        if value_kind == "temporal":
            column.arrow_type = elements.type
        return column, _scalar_values(elements, value_kind), offsets
    if pa.types.is_dictionary(kind):
        # Decoded, the values reach the vocabulary in row order, so their ids are those of the
        # same column without a dictionary.
        array = array.dictionary_decode()
        kind = array.type
    value_kind = _scalar_kind(kind, name, numeric=name in numeric)
    column = FittedColumn(name, position, value_kind)
    if value_kind == "temporal":
        column.arrow_type = kind
    return column, _scalar_values(array, value_kind), None


def _scalar_kind(kind, name: str, *, numeric: bool) -> str:
    import pyarrow as pa

    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = "string"
    elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        text = "string"
    elif pa.types.is_boolean(kind):
        text = "boolean"
    elif pa.types.is_integer(kind):
        text = "integer"
    elif pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        text = "float"
    elif pa.types.is_temporal(kind):
        # Dates, times, timestamps and durations: each moment is a value.
        text = "temporal"
    elif pa.types.is_null(kind):
        text = "string"
    else:
        raise ValueError(
            f"column {name!r} has type {kind}, which chromatic does not read (strings, "
            "integers, booleans, floats, categories and lists of them are)"
        )
    if numeric:
        if text in ("integer", "float"):
            return "numeric"
        raise ValueError(f"column {name!r} holds {text} values, which cannot be cut into bins")
    return text


def _scalar_values(array, value_kind: str) -> tuple:
    """Return the arrays the vocabulary reads for a column of ``value_kind``."""
    import pyarrow as pa

    valid = _validity(array)
    if value_kind == "string":
        if pa.types.is_null(array.type):
            array = pa.array([None] * len(array), type=pa.string())
        if pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type):
            array = array.cast(
                pa.large_string() if pa.types.is_large_binary(array.type) else pa.string()
            )
        offset_type = np.int64 if pa.types.is_large_string(array.type) else np.int32
        buffers = array.buffers()
        offsets = _aligned(
            np.frombuffer(buffers[1], dtype=offset_type)[
                array.offset : array.offset + len(array) + 1
            ]
        )
        data = (
            np.frombuffer(buffers[2], dtype=np.uint8)
            if buffers[2] is not None
            else np.zeros(0, np.uint8)
        )
        return offsets, data, valid
    if value_kind == "boolean":
        return array.fill_null(False).to_numpy(zero_copy_only=False).astype(bool), valid
    if value_kind == "integer":
        if array.type != pa.int64():
            array = array.cast(pa.int64())
        # The engine reads no value under a null, so the data buffer is borrowed as it is
        # (filling the nulls would copy the column).
        data = np.frombuffer(array.buffers()[1], dtype=np.int64)
        return _aligned(data[array.offset : array.offset + len(array)]), valid
    if value_kind == "temporal":
        # The stored integer (days, or units since the epoch) is the value's key.
        stored = pa.int64() if array.type.bit_width == 64 else pa.int32()
        values = array.view(stored).fill_null(0).cast(pa.int64())
        return _aligned(values.to_numpy(zero_copy_only=False)), valid
    # Floats (categorical, or numeric before binning), NaN and nulls as NaN.
    values = array.cast(pa.float64()).fill_null(math.nan).to_numpy(zero_copy_only=False)
    values = np.ascontiguousarray(values, dtype=np.float64)
    if value_kind == "float":
        finite = ~np.isnan(values)
        valid = finite if valid is None else valid & finite
        # -0.0 and 0.0 are one value; the bits of the float are its key.
        values = np.where(values == 0, 0.0, values).view(np.int64)
        return values, valid
    return (values,)


def _validity(array) -> np.ndarray | None:
    """Return one flag per value of ``array``, False for a null (None when it holds none).

    Unpacked from Arrow's validity bitmap: ``is_valid().to_numpy()`` builds the same flags ten
    times slower.
    """
    if not array.null_count:
        return None
    if array.buffers()[0] is None:  # an array of the null type: no bitmap, no value
        return np.zeros(len(array), dtype=bool)
    bitmap = np.frombuffer(array.buffers()[0], dtype=np.uint8)
    flags = np.unpackbits(bitmap, count=array.offset + len(array), bitorder="little")
    return flags[array.offset :].view(bool)


def _aligned(values: np.ndarray) -> np.ndarray:
    """``values`` as the engine borrows them: contiguous and aligned.

    Arrow buffers are used in place; those that arrived in another process's message (a Dask
    partition) may sit unaligned there, and only those are copied.
    """
    return np.require(values, requirements=["C", "A"])


def _quantile_edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Return the distinct inner quantiles of the finite values (``n_bins - 1`` at most)."""
    finite = values[np.isfinite(values)]
    if len(finite) == 0 or n_bins < 2:
        return np.zeros(0)
    inner = np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.unique(inner)


def _binned(values: np.ndarray, edges: np.ndarray) -> tuple:
    """Bin numbers of ``values`` (``x`` in bin ``b`` when ``edges[b-1] <= x < edges[b]``)."""
    valid = ~np.isnan(values)
    bins = np.searchsorted(edges, np.where(valid, values, 0.0), side="right").astype(np.int64)
    return bins, (None if valid.all() else valid)


def _engine_column(column: FittedColumn, values: tuple, row_offsets) -> tuple:
    """Return a column as the vocabulary's ``fit_rows`` takes it."""
    kind = _vocabulary_kind(column)
    if kind == "strings":
        offsets, data, valid = values
        return (column.position, kind, (offsets, data), valid, row_offsets)
    array, valid = values
    return (column.position, kind, array, valid, row_offsets)


def _vocabulary_kind(column: FittedColumn) -> str:
    """Return the vocabulary methods a column's values go through (by their suffix)."""
    if column.kind == "string":
        return "strings"
    if column.kind == "boolean":
        return "booleans"
    # Integers, float bits and bin numbers are all 8-byte integers to the vocabulary.
    return "integers"


def _describe(column: FittedColumn) -> str:
    kind = column.kind if column.arrow_type is None else f"{column.kind} ({column.arrow_type})"
    return f"list of {kind}" if column.is_list else kind


def _value_text(column: FittedColumn, raw: bytes) -> str:
    """Return the text of a value as the vocabulary holds it (numbers as 8 bytes)."""
    if column.kind == "string":
        return raw.decode("utf-8", errors="backslashreplace")
    if column.kind == "boolean":
        return "True" if raw and raw[-1] else "False"
    number = int.from_bytes(raw, "little", signed=True)
    if column.kind == "integer":
        return str(number)
    if column.kind == "temporal":
        import pyarrow as pa

        stored = pa.int64() if column.arrow_type.bit_width == 64 else pa.int32()
        return str(pa.array([number], stored).view(column.arrow_type)[0])
    if column.kind == "float":
        return repr(float(np.int64(number).view(np.float64)))
    edges = column.edges
    low = -math.inf if number == 0 else float(edges[number - 1])
    high = math.inf if number >= len(edges) else float(edges[number])
    return f"[{low:g}, {high:g})"
