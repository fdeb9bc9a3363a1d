"""The model file: a fitted ``ChromaticEncoder`` or ``ChromaticCompressor`` as a versioned npz.

Layout (format version 2): ``format`` = ``"chromatic-model"``, ``version`` = 2, ``kind`` =
``"ChromaticEncoder"`` or ``"ChromaticCompressor"``, ``params`` (the constructor parameters as
JSON; ``table`` as its own parameters), ``metadata`` (JSON, for example
``{"zero_based": false}`` from the command line) and ``n_features_in``, the features colored
(a matrix's columns, or a table's ``column=value`` features). A model fitted on a table adds
the table encoder's members (``table.*``, see ``_model_table``) and ``feature_names_in`` holds
the table's columns. Version 1 is version 2 without tables, and is read too.

An encoder adds its fitted arrays ``colors``, ``codes``, ``color_sizes``,
``document_frequency``, ``dense_features`` (plus ``feature_names_in`` when fitted on named
columns) and the scalars ``n_edges``, ``max_degree``, ``n_greedy_colors``, ``conflict_weight``.

A compressor adds ``classes``, ``frequent_features`` and, when some of the budget goes to other
features seen in fit, the encoder of those as above with names prefixed ``encoder.`` (its
parameters in ``encoder.params``) and the buckets of its codes as ``buckets.params`` and
``buckets.column_sizes``, ``buckets.offsets``, ``buckets.output_of_value``,
``buckets.n_outputs``, ``buckets.boundary_offsets``, ``buckets.boundaries``,
``buckets.bucket_outputs``; or, when those features are hashed instead, ``hashed.features``
(the features the tail hashes, most frequent first) and ``hashed.seed`` (the hash's seed; the
tail's columns are the budget the kept features leave).

Readers refuse versions they do not know. Files are written to a temporary name and renamed, so a
failure never leaves a half-written model.

A file is not trusted before it is checked. Every member's declared size is checked against
what its role allows (a fixed cap for text and JSON, the feature and color counts for arrays)
and against what its compression can honestly inflate to before any of it is read, and it is
read with that bound. Every array is then checked against the others: dtype, shape, range,
uniqueness and the consistency a fit guarantees (each color's codes number its features
``1..size`` once each, the buckets partition each column's values, and so on), so a tampered
model is refused with a ``ModelFileError`` naming the file and the member, instead of
transforming into a wrong answer. Nothing is ever unpickled.

Examples
--------
>>> import os, tempfile
>>> import scipy.sparse as sp
>>> from chromatic_learning import ChromaticEncoder, load_model, save_model
>>> X = sp.csr_array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 0, 1]])
>>> encoder = ChromaticEncoder(dense_threshold=None).fit(X)
>>> tmp = tempfile.TemporaryDirectory()
>>> path = os.path.join(tmp.name, "model.npz")
>>> save_model(encoder, path, metadata={"zero_based": True})
>>> loaded = load_model(path)
>>> bool((loaded.transform(X) == encoder.transform(X)).all())
True
>>> tmp.cleanup()
"""

from __future__ import annotations

import json
import os
from typing import BinaryIO

import numpy as np

from ._compression import ChromaticCompressor, set_parts
from ._encoder import ChromaticEncoder, set_collision_forecast, set_coloring
from ._input import effective_n_jobs
from ._model_archive import LABEL_CHARS, Archive, ModelFileError, opened
from ._model_fitted import (
    BUCKET_ARRAYS,
    ENCODER_ARRAYS,
    ENCODER_SCALARS,
    INT32_MAX,
    INT64_MAX,
    NAME_CHARS,
    read_buckets,
    read_coloring,
    read_hashed_tail,
)
from ._model_table import read_table_encoder, table_content, table_params
from ._output import Outputs
from ._submodular import set_buckets
from ._table_encoder import TableEncoder
from ._table_input import n_binary_features

FORMAT = "chromatic-model"
VERSION = 2
#: Versions this reader takes: 1 has no tables.
READABLE_VERSIONS = (1, 2)
# Caps on text members, as ``NAME_CHARS``: params are a few hundred characters.
_PARAMS_CHARS = 1 << 16
_METADATA_CHARS = 1 << 20

Model = ChromaticEncoder | ChromaticCompressor


def json_params(estimator) -> dict:
    """Return an estimator's parameters as JSON holds them (a table's as a dict)."""
    params = estimator.get_params(deep=False)
    if not isinstance(params.get("random_state"), (int, type(None))):
        params["random_state"] = None  # a RandomState instance has no JSON form
    if "table" in params:
        params["table"] = table_params(params["table"])
    return params


def _params_json(estimator) -> np.ndarray:
    return np.array(json.dumps(json_params(estimator)))


def _encoder_content(encoder: ChromaticEncoder, prefix: str = "") -> dict:
    content = {
        **{prefix + name.rstrip("_"): getattr(encoder, name) for name in ENCODER_ARRAYS},
        **{prefix + name.rstrip("_"): np.array(getattr(encoder, name)) for name in ENCODER_SCALARS},
    }
    if hasattr(encoder, "collision_forecast_"):
        # As whole numbers, which the reader bounds: the collisions and the held-out rows.
        rows = encoder.forecast_rows_
        content[prefix + "forecast_collisions"] = np.array(
            round(encoder.collision_forecast_ * rows)
        )
        content[prefix + "forecast_rows"] = np.array(rows)
    return content


def _compressor_content(compressor: ChromaticCompressor) -> dict:
    content = {
        "classes": np.asarray(compressor.classes_),
        "frequent_features": compressor.frequent_features_,
    }
    if compressor.encoder_ is not None:
        buckets = compressor.compressor_
        content.update(
            {
                "encoder.params": _params_json(compressor.encoder_),
                "encoder.n_features_in": np.array(compressor.encoder_.n_features_in_),
                **_encoder_content(compressor.encoder_, "encoder."),
                "buckets.params": _params_json(buckets),
                "buckets.n_outputs": np.array(buckets.n_features_out_),
                **(
                    {}
                    if buckets.stop_reason_ is None
                    else {"buckets.stop_reason": np.array(buckets.stop_reason_)}
                ),
                **{"buckets." + name.rstrip("_"): getattr(buckets, name) for name in BUCKET_ARRAYS},
            }
        )
    if compressor.tail_ == "hashed":
        content["hashed.features"] = compressor.hashed_features_
        content["hashed.seed"] = np.array(compressor._hashed_tail.seed)
    if content["classes"].dtype == object:
        content["classes"] = content["classes"].astype(str)
    return content


def save_model(model: Model, path: str | os.PathLike, *, metadata: dict | None = None) -> None:
    """Write a fitted encoder or compressor to a model file, atomically.

    Parameters
    ----------
    model : fitted ChromaticEncoder or ChromaticCompressor
        The model to save.
    path : str or path-like
        The file to write (an ``.npz``); it appears whole or not at all.
    metadata : dict or None, default=None
        JSON-serialisable facts saved with the model, for example how the training files
        were indexed (``{"zero_based": False}``); at most a million characters as JSON.

    See Also
    --------
    load_model : Read the model back.
    read_model : Read the model back with its metadata.
    """
    content = _model_content(model, metadata)
    outputs = Outputs()
    outputs.add(path, "model")
    with outputs, outputs.open(path) as out:
        np.savez(out, **content)


def write_model(model: Model, out: BinaryIO, *, metadata: dict | None = None) -> None:
    """Write a fitted encoder or compressor as a model file to the binary file ``out``.

    For writers that put the model in place with other files (see ``_output.Outputs``).
    """
    np.savez(out, **_model_content(model, metadata))


def _model_content(model: Model, metadata: dict | None) -> dict:
    if isinstance(model, ChromaticEncoder) and hasattr(model, "colors_"):
        content = _encoder_content(model)
    elif isinstance(model, ChromaticCompressor) and hasattr(model, "frequent_features_"):
        content = _compressor_content(model)
    else:
        raise ValueError("save_model takes a fitted ChromaticEncoder or ChromaticCompressor")
    if metadata is not None and not isinstance(metadata, dict):
        raise ValueError(f"metadata must be a dict, got {type(metadata).__name__}")
    metadata_json = json.dumps(metadata or {})
    # What the reader would refuse is refused here, so that no saved model is unreadable.
    if len(metadata_json) > _METADATA_CHARS:
        raise ValueError(
            f"metadata takes {len(metadata_json)} characters as JSON; at most {_METADATA_CHARS}"
        )
    content.update(
        {
            "format": np.array(FORMAT),
            "version": np.array(VERSION),
            "kind": np.array(type(model).__name__),
            "params": _params_json(model),
            "n_features_in": np.array(n_binary_features(model)),
            "metadata": np.array(metadata_json),
        }
    )
    if hasattr(model, "table_encoder_"):
        content.update(table_content(model.table_encoder_))
    if hasattr(model, "feature_names_in_"):
        content["feature_names_in"] = np.asarray(model.feature_names_in_, dtype=str)
    for member in ("feature_names_in", "classes"):
        labels = content.get(member)
        if (
            labels is not None
            and labels.dtype.kind == "U"
            and labels.dtype.itemsize > 4 * LABEL_CHARS
        ):
            raise ValueError(f"{member} holds a name of over {LABEL_CHARS} characters")
    return content


def load_model(path: str | os.PathLike) -> Model:
    """Read an encoder or compressor written by ``save_model`` or ``chromatic-learning fit``.

    Parameters
    ----------
    path : str or path-like
        The model file.

    Returns
    -------
    model : ChromaticEncoder or ChromaticCompressor
        The fitted model, ready to ``transform``.

    Raises
    ------
    ModelFileError
        When the file is missing, not a model file, incomplete, of another format version, or
        holds arrays that no fit makes (the message names the member).

    See Also
    --------
    read_model : The model and the metadata saved with it.
    save_model : Write a model file.
    """
    return read_model(path)[0]


def read_model(path: str | os.PathLike) -> tuple[Model, dict]:
    """Read the encoder or compressor in ``path`` and the metadata saved with it.

    Parameters
    ----------
    path : str or path-like
        The model file.

    Returns
    -------
    model : ChromaticEncoder or ChromaticCompressor
        The fitted model.
    metadata : dict
        The metadata given to ``save_model`` (empty when none was).

    Raises
    ------
    ModelFileError
        When the file is missing, not a model file, incomplete, of another format version, or
        holds arrays that no fit makes (the message names the member).
    """
    name = os.fspath(path)
    with opened(name) as archive:
        if not archive.has("format") or archive.text("format", NAME_CHARS) != FORMAT:
            raise ModelFileError(f"{name}: not a chromatic model file")
        _check_version(archive)
        kind = archive.text("kind", NAME_CHARS)
        if kind not in _READERS:
            raise ModelFileError(f"{name}: holds a {kind!r}, not a model this chromatic knows")
        model = _READERS[kind](archive)
        if archive.has("table.params"):
            # The reader set the features colored; the table's columns are the model's input.
            table_encoder = read_table_encoder(archive, model.n_features_in_, _read_params)
            model.table_encoder_ = table_encoder
            model.n_features_in_ = table_encoder.n_features_in_
            if not archive.has("feature_names_in"):
                archive.fail("table.params", "comes without feature_names_in")
        if archive.has("feature_names_in"):
            names = archive.labels("feature_names_in", "U", length=model.n_features_in_)
            model.feature_names_in_ = names.astype(object)
            table_encoder = getattr(model, "table_encoder_", None)
            if table_encoder is not None and list(names) != list(table_encoder.feature_names_in_):
                archive.fail("feature_names_in", "does not name the table's columns read")
        metadata = (
            archive.json_object("metadata", _METADATA_CHARS) if archive.has("metadata") else {}
        )
        archive.check_all_read(kind)
    return model, metadata


# ----------------------------------------------------------------------------------------------
# One reader per model kind; each checks every member against the others


def _check_version(archive: Archive) -> None:
    # The version must be an integer exactly: neither 1.9 (which int() would make 1) nor "1".
    version = archive.array("version", "biufU", max_itemsize=4 * NAME_CHARS)
    value = version.item()
    if version.dtype.kind not in "iu":
        raise ModelFileError(
            f"{archive.path}: model format version {value!r} ({version.dtype}) is not an "
            f"integer; this chromatic reads versions {READABLE_VERSIONS[0]} to {VERSION}"
        )
    if value not in READABLE_VERSIONS:
        raise ModelFileError(
            f"{archive.path}: model format version {value}; this chromatic reads versions "
            f"{READABLE_VERSIONS[0]} to {READABLE_VERSIONS[-1]}"
        )
    if value < 2 and archive.has("table.params"):
        archive.fail("table.params", f"is in a version {value} file, which has no tables")


def _read_params(archive: Archive, member: str, estimator, expected: dict | None = None):
    """Set ``estimator``'s parameters from the JSON ``member``, validated as ``fit`` would.

    Parameters the file lacks keep their defaults (files from before they existed); with
    ``expected``, the stored ones must equal those.
    """
    params = archive.json_object(member, _PARAMS_CHARS)
    known = estimator.get_params(deep=False) if expected is None else expected
    if params.get("table") is not None:
        if not isinstance(params["table"], dict):
            archive.fail(member, "holds a table parameter that is not a JSON object")
        params["table"] = _table_template(archive, member, params["table"])
    for key, value in params.items():
        if key not in known:
            archive.fail(member, f"holds an unknown parameter {key!r}")
        if expected is not None and value != expected[key]:
            archive.fail(
                member,
                f"holds {key}={value!r}, but the model's parameters make it {expected[key]!r}",
            )
    estimator.set_params(**params)
    try:
        estimator._validate_params()
        effective_n_jobs(estimator.n_jobs)
    except ValueError as error:  # scikit-learn's InvalidParameterError is one
        archive.fail(member, f"holds an invalid parameter: {error}")
    return estimator


def _table_template(archive: Archive, member: str, params: dict) -> TableEncoder:
    """Return the ``table`` parameter of a model: a ``TableEncoder`` of the stored parameters."""
    known = TableEncoder().get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        archive.fail(member, f"holds an unknown table parameter {unknown[0]!r}")
    template = TableEncoder(**params)
    try:
        template._validate_params()
    except ValueError as error:
        archive.fail(member, f"holds an invalid table parameter: {error}")
    return template


def _read_encoder(archive: Archive) -> ChromaticEncoder:
    n = archive.integer("n_features_in", 1, INT64_MAX)
    encoder = _read_params(archive, "params", ChromaticEncoder())
    set_coloring(encoder, read_coloring(archive, "", n))
    if archive.has("forecast_rows"):
        rows = archive.integer("forecast_rows", 1, INT64_MAX)
        set_collision_forecast(encoder, archive.integer("forecast_collisions", 0, INT64_MAX), rows)
    return encoder


def _read_compressor(archive: Archive) -> ChromaticCompressor:
    n = archive.integer("n_features_in", 1, INT64_MAX)
    compressor = _read_params(archive, "params", ChromaticCompressor())
    budget = int(compressor.budget)
    classes = archive.labels("classes", "biufU", length=2)
    frequent = archive.integers("frequent_features", 0, n - 1, max_length=min(n, budget))
    if len(np.unique(frequent)) != len(frequent):
        # A feature kept apart twice would be two output columns.
        archive.fail("frequent_features", "holds a feature twice")
    compressor.n_features_in_ = n
    compressor.classes_ = classes
    compressor.selection_scores_ = None
    encoder = bucketer = None
    if archive.has("encoder.params"):
        # The encoder and the buckets are made from the compressor's own parameters, with the
        # seed it drew and the budget its kept features leave; anything else is tampering.
        seed = archive.json_object("encoder.params", _PARAMS_CHARS).get("random_state")
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= INT32_MAX:
            archive.fail("encoder.params", f"holds random_state={seed!r}, not a drawn seed")
        n_tail = budget - len(frequent)
        if n_tail < 1:
            archive.fail("encoder.params", "is there, but the kept features take the whole budget")
        encoder = _read_params(
            archive,
            "encoder.params",
            compressor._tail_encoder(seed),
            compressor._tail_encoder(seed).get_params(),
        )
        n_encoded = archive.integer("encoder.n_features_in", 0, INT64_MAX)
        if n_encoded != n:
            archive.fail("encoder.n_features_in", f"is {n_encoded}; the compressor has {n}")
        coloring = read_coloring(archive, "encoder.", n)
        if not len(coloring.color_sizes):
            archive.fail(
                "encoder.color_sizes", "holds no color; a model without one has no encoder"
            )
        twice = frequent[coloring.colors[frequent] >= 0]
        if len(twice):
            archive.fail(
                "frequent_features",
                f"holds feature {twice[0]}, which the encoder colors too (two output columns)",
            )
        set_coloring(encoder, coloring)
        bucketer = _read_params(
            archive,
            "buckets.params",
            compressor._tail_compressor(n_tail, seed),
            compressor._tail_compressor(n_tail, seed).get_params(),
        )
        buckets = read_buckets(archive, coloring.color_sizes, n_tail)
        set_buckets(bucketer, buckets, classes)
    hashed = read_hashed_tail(archive, n, frequent, budget) if archive.has("hashed.seed") else None
    if hashed is not None and encoder is not None:
        archive.fail("hashed.seed", "is there, but so is the encoder (two tails)")
    return set_parts(compressor, frequent, encoder, bucketer, hashed)


_READERS = {"ChromaticEncoder": _read_encoder, "ChromaticCompressor": _read_compressor}
