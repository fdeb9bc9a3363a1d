"""Table files in: Parquet and delimited text streamed as tables, and the row source over them.

A Parquet file is read one row group at a time; delimited text (CSV, TSV, plain or compressed)
in chunks of whole lines parsed by the engine (``_delimited``). The label column, when named,
is taken out of every chunk (it is never a feature); the other columns go to a
``TableFeatures``. ``TableFiles`` is the fit pipeline's row source over such files: its first
pass learns the values of the columns, the later passes read them as features.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from ._columns import TableFeatures
from ._sources import ChunkedRows, FirstPass, Progress, Rows, file_sizes, rereadable_paths
from ._vocabularies import in_column_order
from .svmlight import DEFAULT_CHUNK_BYTES, check_chunk_bytes


class TableFileError(ValueError):
    """A table file that cannot be read as the options say: the message names the place."""


#: The kinds of table file: ``auto`` (from the name and the content), ``parquet``, ``csv``
#: (delimited text, the delimiter from the name or given) and ``criteo`` (the Criteo layout).
TABLE_KINDS = ("auto", "parquet", "csv", "criteo")


@dataclass(frozen=True)
class TableReading:
    """How table files are read.

    Parameters
    ----------
    label : str or None
        The label column (taken out of the features), or None for none (``label`` for the
        Criteo layout, whose first column is the click).
    label_above : float or None
        Derive a binary label: 1 where the label column exceeds this, else 0.
    require_label : bool
        Whether a file without the label column is an error (else its rows have no labels).
    kind : {"auto", "parquet", "csv", "criteo"}
        The kind of file; ``auto`` tells Parquet by its magic bytes, else delimited text.
    delimiter : str or None
        The delimiter of delimited text; None takes it from the name (``.tsv``, ``.txt``: tab;
        else comma).
    header : bool
        Whether delimited text starts with a line of column names.
    names : tuple of str or None
        Column names of delimited text (instead of those of the header, or without one).
    list_columns : tuple of str
        Text columns holding lists, their elements separated by ``list_sep``.
    list_sep : str
        The separator of list elements.
    chunk_bytes : int
        Bytes of delimited text read at a time.
    read_ahead : bool
        Whether delimited text is parsed a block ahead, in a thread of its own, while the
        caller works on the block before (two blocks of the file held at a time).
    """

    label: str | None = None
    label_above: float | None = None
    require_label: bool = field(default=True, compare=False)
    kind: str = "auto"
    delimiter: str | None = None
    header: bool = True
    names: tuple[str, ...] | None = None
    list_columns: tuple[str, ...] = ()
    list_sep: str = "|"
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    #: Engine threads for parsing.
    n_jobs: int | None = field(default=None, compare=False)
    read_ahead: bool = field(default=True, compare=False)

    def __post_init__(self):
        if self.kind not in TABLE_KINDS:
            raise ValueError(f"kind must be one of {TABLE_KINDS}, got {self.kind!r}")
        check_chunk_bytes(self.chunk_bytes)
        if self.delimiter is not None and len(self.delimiter.encode()) != 1:
            raise ValueError(f"the delimiter must be one byte, got {self.delimiter!r}")
        if not self.list_sep:
            raise ValueError("the list separator must not be empty")
        if self.kind == "criteo" and self.label is None:
            # The layout's first column is the click: never a feature.
            object.__setattr__(self, "label", "label")

    def metadata(self) -> dict:
        """Return what a model file keeps of the reading, so that new files are read alike."""
        kept = asdict(self)
        for transient in ("chunk_bytes", "n_jobs", "require_label"):
            kept.pop(transient)
        return kept

    @classmethod
    def of_metadata(cls, metadata: dict, **changes) -> TableReading:
        """Return the reading a model file's metadata describes, with ``changes``."""
        known = {k: v for k, v in metadata.items() if k in cls.__dataclass_fields__}
        for key in ("names", "list_columns"):
            if known.get(key) is not None:
                known[key] = tuple(known[key])
        return cls(**{**known, **changes})

    def file_kind(self, path: str) -> str:
        """Return ``parquet``, ``csv`` or ``criteo`` for ``path``, checked against its content."""
        if is_parquet(path):
            if self.kind not in ("auto", "parquet"):
                raise TableFileError(f"{path}: is a Parquet file, not {self.kind} text")
            return "parquet"
        if self.kind == "parquet":
            raise TableFileError(f"{path}: is not a Parquet file (it lacks Parquet's magic bytes)")
        return "csv" if self.kind == "auto" else self.kind

    def tables(self, path: str) -> Iterator[tuple[str, object, np.ndarray | None]]:
        """Yield ``(where, table, labels)`` chunk by chunk.

        That is the place of the chunk in the file (for messages), its feature columns and its
        labels (float64, or None without a label column).
        """
        for where, table, labels, _ in self.chunks_read(path):
            yield where, table, labels

    def chunks_read(self, path: str) -> Iterator[tuple[str, object, np.ndarray | None, int]]:
        """Yield ``(where, table, labels, bytes_read)`` chunk by chunk, as ``tables`` does.

        ``bytes_read`` is how much of the file was read once the chunk was: for Parquet, up
        to the end of the chunk's row group; for text, the position in the file (compressed
        bytes for a compressed file), at most the file's size.
        """
        kind = self.file_kind(path)
        chunks = _parquet_chunks(path) if kind == "parquet" else self._delimited_chunks(path, kind)
        row = 0
        for where, table, bytes_read in chunks:
            table, labels = self.prepared(table, path, where, row)
            row += table.num_rows
            yield where, table, labels, bytes_read

    def prepared(self, table, path: str, where: str, first_row: int):
        """Return the feature columns and the labels (or None) of a chunk read from ``path``.

        The list columns are split and the label column taken out; ``where`` names the chunk
        and ``first_row`` is the number of its first row in the file, for messages.
        """
        table = self._lists(table, path)
        labels = None
        if self.label is not None and (self.require_label or self.label in table.column_names):
            labels = _labels(table, self.label, path, where, first_row)
            if self.label_above is not None:
                labels = (labels > self.label_above).astype(np.float64)
            table = table.drop_columns([self.label])
        return table, labels

    def _delimited_chunks(self, path: str, kind: str):
        from ._delimited import criteo_format, iter_delimited_tables

        options = {
            "delimiter": self.delimiter,
            "header": self.header,
            "names": None if self.names is None else list(self.names),
        }
        if kind == "criteo":
            options = criteo_format()
        first_row = 0
        tables = iter_delimited_tables(
            path,
            chunk_bytes=self.chunk_bytes,
            n_jobs=self.n_jobs,
            read_ahead=self.read_ahead,
            with_bytes_read=True,
            **options,
        )
        while True:
            try:
                table, bytes_read = next(tables)
            except StopIteration:
                return
            except ValueError as error:  # the reader's message names the file and line
                raise TableFileError(str(error)) from None
            yield f"{path}: rows {first_row + 1}-{first_row + table.num_rows}", table, bytes_read
            first_row += table.num_rows

    def _lists(self, table, path: str):
        """Split the text of the list columns into lists of their elements."""
        if not self.list_columns:
            return table
        import pyarrow as pa
        import pyarrow.compute as pc

        for name in self.list_columns:
            if name not in table.column_names:
                raise TableFileError(
                    f"{path}: no list column {name!r}; its columns are {table.column_names}"
                )
            column = table.column(name)
            if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
                continue
            if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
                raise TableFileError(
                    f"{path}: list column {name!r} holds {column.type}, not text to split"
                )
            position = table.column_names.index(name)
            table = table.set_column(position, name, pc.split_pattern(column, self.list_sep))
        return table


def is_parquet(path: str) -> bool:
    """Say whether ``path`` holds Parquet: it starts with Parquet's magic bytes."""
    with open(path, "rb") as file:
        return file.read(4) == b"PAR1"


def parquet_file(path: str):
    """Open a Parquet file (its footer read), or say why it cannot be read."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises its own kinds for a broken footer
        raise TableFileError(f"{path}: not a readable Parquet file ({error})") from None


def row_group(file, path: str, group: int):
    """Read one row group of an open Parquet file; return where it is and the table."""
    where = f"{path}: row group {group}"
    try:
        return where, file.read_row_group(group)
    except Exception as error:
        raise TableFileError(f"{where}: cannot be read ({error})") from None


def _parquet_chunks(path: str):
    file = parquet_file(path)
    size = os.path.getsize(path)
    for group in range(file.num_row_groups):
        where, table = row_group(file, path, group)
        # The last row group is followed by the footer, read when the file was opened.
        last = group == file.num_row_groups - 1
        yield where, table, size if last else row_group_end(file.metadata.row_group(group))


def row_group_end(metadata) -> int:
    """Return the offset in its file where a row group's column chunks end."""
    ends = [0]
    for column in range(metadata.num_columns):
        chunk = metadata.column(column)
        starts = [chunk.data_page_offset]
        if chunk.has_dictionary_page:
            starts.append(chunk.dictionary_page_offset)
        ends.append(min(starts) + chunk.total_compressed_size)
    return max(ends)


def _labels(table, label: str, path: str, where: str, first_row: int) -> np.ndarray:
    """Return the label column of a chunk as float64, refusing nulls and text."""
    import pyarrow as pa

    if label not in table.column_names:
        raise TableFileError(
            f"{path}: no label column {label!r}; its columns are {table.column_names}"
        )
    column = table.column(label)
    kind = column.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
        raise TableFileError(
            f"{where}, column {label!r}: the label holds {kind} values; a label is a number "
            "(0 and 1 for a budget)"
        )
    if column.null_count:
        row = int(np.flatnonzero(~column.is_valid().to_numpy(zero_copy_only=False))[0])
        raise TableFileError(f"{where}, column {label!r}: row {first_row + row + 1} has no label")
    labels = column.to_numpy().astype(np.float64)
    if not np.isfinite(labels).all():
        row = int(np.flatnonzero(~np.isfinite(labels))[0])
        raise TableFileError(
            f"{where}, column {label!r}: row {first_row + row + 1} holds the label {labels[row]}"
        )
    return labels


class TableFiles(ChunkedRows):
    """Table files as the fit pipeline's rows: the columns of every chunk read as features.

    The first pass fits ``features`` chunk by chunk, then numbers them column after column
    (``in_column_order``): the ids of one table holding all the rows, however they are cut
    into chunks. Later passes look the values up.
    """

    def __init__(
        self,
        paths: Sequence[str | os.PathLike],
        reading: TableReading,
        features: TableFeatures,
        *,
        progress: Progress | None = None,
        n_jobs: int | None = None,
    ):
        self.paths = rereadable_paths(paths)
        for path in self.paths:
            reading.file_kind(path)
        self.reading = reading
        self.features = features
        self.zero_based = True
        self.n_features = None
        self.progress = progress
        self.n_jobs = n_jobs

    @property
    def input_bytes(self) -> int:
        return file_sizes(self.paths)

    def chunks(self) -> Iterator[Rows]:
        fitting = not self.features.fitted
        first_row = 0
        files_before = 0
        for path in self.paths:
            for where, table, labels, bytes_read in self.reading.chunks_read(path):
                try:
                    if fitting:
                        indptr, indices = self.features.fit_more_ids(table, n_jobs=self.n_jobs)
                    else:
                        indptr, indices, _ = self.features.transform_ids(table, n_jobs=self.n_jobs)
                except ValueError as error:
                    raise TableFileError(f"{where}: {error}") from None
                self.position = where
                read = files_before + bytes_read
                yield Rows(indptr, indices, None, labels, first_row, 0, bytes_read=read)
                first_row += table.num_rows
            files_before += os.path.getsize(path)

    def count_features(self, fit, *, labels, sample_size, seed, n_jobs) -> FirstPass:
        if self.features.fitted:
            return super().count_features(
                fit, labels=labels, sample_size=sample_size, seed=seed, n_jobs=n_jobs
            )
        # The chunks' ids change once every value is seen: count them aside, then renumber.
        frequencies = _Frequencies()
        first = super().count_features(
            frequencies, labels=labels, sample_size=sample_size, seed=seed, n_jobs=n_jobs
        )
        self.features.vocabulary, new_id = in_column_order(self.features.vocabulary)
        n_features = self.features.n_features
        document_frequency = np.zeros(n_features, dtype=np.int64)
        document_frequency[new_id[: len(frequencies.counts)]] = frequencies.counts
        fit.add_document_frequency(document_frequency, first.n_rows)
        if first.sample is not None:
            first.sample.renumber(new_id, n_features)
        return first


class _Frequencies:
    """The rows holding each feature, counted as the engine's fit counts them in a first pass."""

    def __init__(self):
        self.counts = np.zeros(0, dtype=np.int64)

    def add_statistics(self, indptr, indices, n_features, *, data=None, n_jobs=None) -> None:
        # A table's rows hold each of their features once.
        counts = np.bincount(indices, minlength=max(n_features, len(self.counts)))
        counts[: len(self.counts)] += self.counts
        self.counts = counts.astype(np.int64)
