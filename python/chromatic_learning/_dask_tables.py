"""Tables on a Dask cluster, read as ``column=value`` features.

A partition is one of a dask DataFrame (a pandas DataFrame) or a row group of a Parquet file.

The values are learned in a pass of their own. The first partition fits the columns (which are
read and how, and the bin edges of numeric ones from its rows, as the streamed fit takes them
from its first chunk); every other partition fits the values of its rows with those columns, on
a worker, and counts the rows holding each. The partial vocabularies are merged in a tree
reduction on the workers, in partition order (``_vocabularies.fit_into``: the ids of the
partitions before stay, the new values get the next ids); the client numbers the result
column after column (``in_column_order``) and drops the values held by fewer than
``min_frequency`` rows. The ids are then those of ``TableFeatures.fit_transform`` on one table
holding every row in partition order, the in-memory fit's, whatever the partitioning.

The later passes read each partition as binary rows over those features, on the workers
(``DaskPartitions``); the fitted features are one key of each pass's graph, sent to a worker
once per pass.
"""

from __future__ import annotations

import copy
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import dask
import numpy as np
from dask.delayed import Delayed

from . import _core
from ._columns import TableFeatures, arrow_table
from ._dask_rows import DaskPartitions, gathered
from ._sources import NO_INDEX, Rows
from ._table_files import TableReading, is_parquet, parquet_file, row_group
from ._vocabularies import fit_into, in_column_order


def is_dask_frame(data) -> bool:
    """Say whether ``data`` is a ``dask.dataframe.DataFrame``."""
    if not type(data).__module__.startswith("dask"):
        return False
    import dask.dataframe as dd

    return isinstance(data, dd.DataFrame)


def frame_table(frame, reading: TableReading, place: str):
    """Read a partition of a dask DataFrame: its feature columns (Arrow) and labels."""
    try:
        table = arrow_table(frame)
    except (TypeError, ValueError) as error:  # Arrow's errors for mixed object columns
        raise ValueError(f"{place}: cannot be read as a table ({error})") from None
    if table is None:
        raise TypeError(f"{place}: is a {type(frame).__name__}, not a pandas DataFrame")
    return reading.prepared(table, place, place, 0)


def row_group_table(path: str, group: int, first_row: int, reading: TableReading, place: str):
    """Read a row group of a Parquet file: its feature columns and labels."""
    _, table = row_group(parquet_file(path), path, group)
    return reading.prepared(table, path, place, first_row)


@dataclass(frozen=True)
class PartialVocabulary:
    """The values of some partitions, and the rows holding each (in the order of their ids).

    ``features`` holds the columns fitted on the first partition.
    """

    features: TableFeatures
    counts: np.ndarray


def _counts(features: TableFeatures, table, place: str, n_jobs) -> np.ndarray:
    """Fit the values of ``table`` into ``features``; return the rows holding each."""
    try:
        _, indices = features.fit_more_ids(table, n_jobs=n_jobs)
    except ValueError as error:
        raise ValueError(f"{place}: {error}") from None
    return np.bincount(indices, minlength=features.n_features)


def first_vocabulary(loaded, template: TableFeatures, place: str, n_jobs) -> PartialVocabulary:
    """Fit the columns and the values of the first partition."""
    table, _ = loaded
    features = copy.deepcopy(template)
    # Rare values are dropped once every partition is counted.
    features.min_frequency = 1
    return PartialVocabulary(features, _counts(features, table, place, n_jobs))


def first_columns(first: PartialVocabulary) -> TableFeatures:
    """Return the columns of the first partition, without its values."""
    features = copy.copy(first.features)
    features.vocabulary = _core.ValueVocabulary()
    return features


def partition_vocabulary(loaded, columns: TableFeatures, place: str, n_jobs) -> PartialVocabulary:
    """Fit the values of a partition, read with the columns of the first."""
    table, _ = loaded
    # A copy: with a scheduler of threads, every task holds the same ``columns``.
    features = copy.copy(columns)
    features.vocabulary = _core.ValueVocabulary()
    return PartialVocabulary(features, _counts(features, table, place, n_jobs))


def merged_vocabularies(parts: list[PartialVocabulary]) -> PartialVocabulary:
    """Merge the vocabularies of consecutive partitions, in order, into a new one.

    The parts stay as they were, should the scheduler run the task again.
    """
    features = copy.copy(parts[0].features)
    features.vocabulary = copy.copy(parts[0].features.vocabulary)
    counts = parts[0].counts
    for part in parts[1:]:
        ids = fit_into(features.vocabulary, part.features.vocabulary, n_jobs=1)
        total = np.zeros(features.n_features, dtype=np.int64)
        total[: len(counts)] = counts
        total[ids] += part.counts
        counts = total
    return PartialVocabulary(features, counts)


def partition_rows(loaded, features: TableFeatures, place: str, n_jobs) -> Rows:
    """Read a partition as binary rows over the fitted features (with its labels)."""
    table, labels = loaded
    try:
        indptr, indices, _ = features.transform_ids(table, n_jobs=n_jobs)
    except ValueError as error:
        raise ValueError(f"{place}: {error}") from None
    indices = indices.astype(np.int64)
    min_index = int(indices.min()) if len(indices) else NO_INDEX
    return Rows(indptr.astype(np.int64), indices, None, labels, min_index=min_index)


class TablePartitions:
    """The partitions of table data: for each, a delayed ``(table, labels)`` and its place.

    ``places`` name the partitions in messages: ``partition 3``, or
    ``partition 3 (day2.parquet: row group 1)``.
    """

    def __init__(self, loads: list[Delayed], places: list[str], reading: TableReading):
        self.loads = loads
        self.places = places
        self.reading = reading

    @classmethod
    def of(cls, data, label: str | None = None) -> TablePartitions | None:
        """Split a dask DataFrame or Parquet files into partitions; None for other data.

        A Parquet file gives one partition per row group (it is read on a worker; the client
        reads its footer). ``label`` names the label column, taken out of every partition.
        """
        reading = TableReading(label=label, kind="parquet")
        if is_dask_frame(data):
            frames = data.to_delayed()
            places = [f"partition {i}" for i in range(len(frames))]
            loads = [
                dask.delayed(frame_table)(frame, reading, place)
                for frame, place in zip(frames, places, strict=True)
            ]
            return cls(loads, places, reading)
        paths = _paths(data)
        if paths is None:
            return None
        parquet = [os.path.isfile(path) and is_parquet(path) for path in paths]
        missing = [path for path in paths if not os.path.isfile(path)]
        if missing and (label is not None or any(parquet)):
            raise FileNotFoundError(f"{missing[0]} does not exist")
        if not any(parquet):
            # svmlight files (a missing one is named with its partition there).
            return None
        if not all(parquet):
            other = paths[parquet.index(False)]
            raise ValueError(
                f"{other} is not a Parquet file, but {paths[parquet.index(True)]} is: table "
                "files on a cluster are Parquet, all of them (svmlight files, none of them)"
            )
        return cls.of_parquet(paths, reading)

    @classmethod
    def of_parquet(cls, paths: Sequence[str], reading: TableReading) -> TablePartitions:
        """Split Parquet files into their row groups, read with ``reading``."""
        loads: list[Delayed] = []
        places: list[str] = []
        for path in paths:
            metadata = parquet_file(path).metadata
            first_row = 0
            for group in range(metadata.num_row_groups):
                place = f"partition {len(places)} ({path}: row group {group})"
                loads.append(
                    dask.delayed(row_group_table, pure=True)(path, group, first_row, reading, place)
                )
                places.append(place)
                first_row += metadata.row_group(group).num_rows
        return cls(loads, places, reading)

    def fitted_features(self, template: TableFeatures, n_jobs) -> TableFeatures:
        """Learn the columns and values of every partition (a pass over them, on the workers).

        ``template`` holds the parameters (it stays unfitted); the result is fitted.
        """
        if not self.loads:
            raise ValueError("data has no partitions")
        first = dask.delayed(first_vocabulary)(self.loads[0], template, self.places[0], n_jobs)
        columns = dask.delayed(first_columns)(first)
        parts = [first] + [
            dask.delayed(partition_vocabulary)(load, columns, place, n_jobs)
            for load, place in zip(self.loads[1:], self.places[1:], strict=True)
        ]
        merged = gathered(parts, merged_vocabularies, "value vocabulary")
        features = merged.features
        features.min_frequency = template.min_frequency
        features.vocabulary, new_id = in_column_order(features.vocabulary)
        counts = np.zeros(len(new_id), dtype=np.int64)
        counts[new_id] = merged.counts
        if template.min_frequency > 1:
            features.vocabulary.retain(counts >= template.min_frequency)
        return features

    def row_source(self, features: TableFeatures, n_jobs) -> DaskPartitions:
        """Return the partitions as binary rows over ``features``, for the fit's later passes."""
        shared = dask.delayed(features, name=f"table-features-{uuid.uuid4().hex}", traverse=False)
        parts = [
            dask.delayed(partition_rows)(load, shared, place, n_jobs)
            for load, place in zip(self.loads, self.places, strict=True)
        ]
        return DaskPartitions(parts, features.n_features, True)


def _paths(data) -> list[str] | None:
    """Return ``data`` as a list of paths, or None when it is not one."""
    if isinstance(data, (str, os.PathLike)):
        data = [data]
    if not isinstance(data, (list, tuple)) or not data:
        return None
    if not all(isinstance(path, (str, os.PathLike)) for path in data):
        return None
    return [os.fspath(path) for path in data]
