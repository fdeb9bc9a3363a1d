"""The table part of a model file: how a table's columns became the model's features.

A model fitted on a table holds, besides its coloring, the ``TableEncoder`` that read the table:
``table.params`` (its parameters as JSON), ``table.columns`` (JSON: per column read, its name,
how its values were read, whether it holds lists, the Arrow type of a temporal column and the
bin edges of a numeric one) and the value vocabulary as four arrays, ``table.vocabulary.columns``
(the column of each feature), ``table.vocabulary.kinds`` (0 string, 1 integer, 2 boolean),
``table.vocabulary.offsets`` and ``table.vocabulary.bytes`` (each feature's value bytes).

Every part is checked when read, against the others and against the model's feature count, so a
tampered file is refused naming the member.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np

from . import _core
from ._columns import VALUE_KINDS, FittedColumn
from ._model_archive import LABEL_CHARS, Archive
from ._table_encoder import TableEncoder, set_features, table_features

_COLUMNS_CHARS = 1 << 24
_INT32_MAX = int(np.iinfo(np.int32).max)
_INT64_MAX = int(np.iinfo(np.int64).max)
# The vocabulary's kind code of each way of reading a column.
_VOCABULARY_KIND = {"string": 0, "boolean": 2}
_TEMPORAL = (
    (re.compile(r"date(32|64)\[(day|ms)\]"), lambda pa, m: getattr(pa, f"date{m[1]}")()),
    (re.compile(r"time(32|64)\[(s|ms|us|ns)\]"), lambda pa, m: getattr(pa, f"time{m[1]}")(m[2])),
    (
        re.compile(r"timestamp\[(s|ms|us|ns)(?:, tz=(.+))?\]"),
        lambda pa, m: pa.timestamp(m[1], m[2]),
    ),
    (re.compile(r"duration\[(s|ms|us|ns)\]"), lambda pa, m: pa.duration(m[1])),
)


def table_params(encoder: TableEncoder | None):
    """Return the ``table`` parameter as JSON holds it: the encoder's parameters, or None."""
    return None if encoder is None else encoder.get_params(deep=False)


def table_content(encoder: TableEncoder) -> dict:
    """Return the model file members of a fitted table encoder."""
    features = encoder.features_
    columns, kinds, offsets, data = features.vocabulary.to_arrays()
    described = [
        {
            "name": column.name,
            "kind": column.kind,
            "is_list": column.is_list,
            "arrow_type": None if column.arrow_type is None else str(column.arrow_type),
            "edges": None if column.edges is None else [float(e) for e in column.edges],
        }
        for column in features.fitted
    ]
    return {
        "table.params": np.array(json.dumps(table_params(encoder))),
        "table.columns": np.array(json.dumps({"columns": described})),
        "table.vocabulary.columns": columns,
        "table.vocabulary.kinds": kinds,
        "table.vocabulary.offsets": offsets,
        "table.vocabulary.bytes": data,
    }


def read_table_encoder(archive: Archive, n_features: int, read_params) -> TableEncoder:
    """Read the table encoder of a model over ``n_features`` features, checked.

    ``read_params(archive, member, estimator)`` sets and validates an estimator's parameters.
    """
    encoder = read_params(archive, "table.params", TableEncoder())
    fitted = _read_columns(archive)
    vocabulary = _read_vocabulary(archive, fitted, n_features)
    features = table_features(encoder)
    features.fitted, features.vocabulary = fitted, vocabulary
    return set_features(encoder, features)


def _read_columns(archive: Archive) -> list[FittedColumn]:
    member = "table.columns"
    described = archive.json_object(member, _COLUMNS_CHARS).get("columns")
    if not isinstance(described, list) or not described:
        archive.fail(member, "holds no list of columns")
    fitted, names = [], set()
    for position, spec in enumerate(described):
        where = f"describes column {position}"
        if not isinstance(spec, dict) or set(spec) != {
            "name",
            "kind",
            "is_list",
            "arrow_type",
            "edges",
        }:
            archive.fail(member, f"{where} without exactly its five fields")
        name, kind = spec["name"], spec["kind"]
        if not isinstance(name, str) or not 0 < len(name) <= LABEL_CHARS or name in names:
            archive.fail(member, f"{where} with a name that is empty, too long or repeated")
        if kind not in VALUE_KINDS or not isinstance(spec["is_list"], bool):
            archive.fail(member, f"{where} as {kind!r}, which is no way of reading a column")
        if spec["is_list"] and kind == "numeric":
            archive.fail(member, f"{where} as a list of numbers in bins, which no fit makes")
        column = FittedColumn(name, position, kind, is_list=spec["is_list"])
        column.arrow_type = _temporal_type(archive, spec["arrow_type"], kind, where)
        column.edges = _edges(archive, spec["edges"], kind, where)
        names.add(name)
        fitted.append(column)
    return fitted


def _temporal_type(archive: Archive, text, kind: str, where: str):
    if kind != "temporal":
        if text is not None:
            archive.fail("table.columns", f"{where} with an Arrow type, but not as temporal")
        return None
    import pyarrow as pa

    for pattern, make in _TEMPORAL:
        match = pattern.fullmatch(text) if isinstance(text, str) else None
        if match:
            try:
                return make(pa, match)
            except (ValueError, TypeError, pa.ArrowException):
                break
    archive.fail("table.columns", f"{where} with the Arrow type {text!r}, not a date or time")


def _edges(archive: Archive, edges, kind: str, where: str):
    if kind != "numeric":
        if edges is not None:
            archive.fail("table.columns", f"{where} with bin edges, but not as numeric")
        return None
    if not isinstance(edges, list) or not all(
        isinstance(e, float) and math.isfinite(e) for e in edges
    ):
        archive.fail("table.columns", f"{where} without a list of finite bin edges")
    values = np.asarray(edges, dtype=np.float64)
    if (np.diff(values) <= 0).any():
        archive.fail("table.columns", f"{where} with bin edges that do not ascend")
    return values


def _read_vocabulary(archive: Archive, fitted: list[FittedColumn], n: int):
    prefix = "table.vocabulary."
    columns = archive.integers(prefix + "columns", 0, len(fitted) - 1, length=n, dtype=np.int32)
    kinds = archive.integers(prefix + "kinds", 0, 2, length=n, dtype=np.uint8)
    expected = np.array([_VOCABULARY_KIND.get(c.kind, 1) for c in fitted], dtype=np.uint8)
    wrong = np.flatnonzero(kinds != expected[columns]) if n else []
    if len(wrong):
        feature = int(wrong[0])
        archive.fail(
            prefix + "kinds",
            f"gives feature {feature} kind {kinds[feature]}, but its column "
            f"{fitted[columns[feature]].name!r} is read as {fitted[columns[feature]].kind}",
        )
    offsets = archive.integers(prefix + "offsets", 0, _INT64_MAX, length=n + 1)
    if offsets[0] != 0 or (np.diff(offsets) < 0).any():
        archive.fail(prefix + "offsets", "does not cut the value bytes into values")
    data = archive.integers(prefix + "bytes", 0, 255, length=int(offsets[-1]), dtype=np.uint8)
    _check_bins(archive, fitted, columns, offsets, data)
    try:
        return _core.ValueVocabulary.from_arrays(columns, kinds, offsets, data)
    except (ValueError, _core.ChromaticError) as error:
        archive.fail(prefix + "bytes", f"is not a vocabulary ({error})")


def _check_bins(archive, fitted, columns, offsets, data) -> None:
    """Refuse a numeric column value that is not a bin number within its edges."""
    for column in fitted:
        if column.kind != "numeric":
            continue
        features = np.flatnonzero(columns == column.position)
        if (np.diff(offsets)[features] != 8).any():
            archive.fail("table.vocabulary.offsets", f"gives a bin of {column.name!r} no 8 bytes")
        starts = offsets[features]
        numbers = data[starts[:, None] + np.arange(8)].view("<i8").ravel()
        if len(numbers) and not ((numbers >= 0) & (numbers <= len(column.edges))).all():
            archive.fail(
                "table.vocabulary.bytes",
                f"holds a bin of {column.name!r} outside its {len(column.edges) + 1} bins",
            )
