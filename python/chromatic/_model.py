"""The model file: a fitted ``ChromaticEncoder`` or ``ChromaticCompressor`` as a versioned npz.

Layout (format version 1): ``format`` = ``"chromatic-model"``, ``version`` = 1, ``kind`` =
``"ChromaticEncoder"`` or ``"ChromaticCompressor"``, ``params`` (the constructor parameters as
JSON), ``metadata`` (JSON, for example ``{"zero_based": false}`` from the command line) and
``n_features_in``.

An encoder adds its fitted arrays ``colors``, ``codes``, ``color_sizes``,
``document_frequency``, ``dense_features`` (plus ``feature_names_in`` when fitted on named
columns) and the scalars ``n_edges``, ``max_degree``, ``n_greedy_colors``, ``conflict_weight``.

A compressor adds ``classes``, ``frequent_features`` and, when some of the budget goes to other
features seen in fit, the encoder of those as above with names prefixed ``encoder.`` (its
parameters in ``encoder.params``) and the buckets of its codes as ``buckets.params`` and
``buckets.column_sizes``, ``buckets.offsets``, ``buckets.output_of_value``,
``buckets.n_outputs``, ``buckets.boundary_offsets``, ``buckets.boundaries``,
``buckets.bucket_outputs``.

Readers refuse versions they do not know. Files are written to a temporary name and renamed, so a
failure never leaves a half-written model.

Examples
--------
>>> import os, tempfile
>>> import scipy.sparse as sp
>>> from chromatic import ChromaticEncoder, load_model, save_model
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
import zipfile
from typing import BinaryIO

import numpy as np

from ._compression import ChromaticCompressor, set_parts
from ._encoder import ChromaticEncoder, set_coloring
from ._output import Outputs
from ._submodular import SubmodularCompressor, set_buckets
from ._tables import Buckets, Coloring

FORMAT = "chromatic-model"
VERSION = 1
_ENCODER_ARRAYS = ("colors_", "codes_", "color_sizes_", "document_frequency_", "dense_features_")
_ENCODER_SCALARS = ("n_edges_", "max_degree_", "n_greedy_colors_", "conflict_weight_")
_BUCKET_ARRAYS = (
    "column_sizes_",
    "offsets_",
    "output_of_value_",
    "boundary_offsets_",
    "boundaries_",
    "bucket_outputs_",
)

Model = ChromaticEncoder | ChromaticCompressor


class ModelFileError(ValueError):
    """A model file that cannot be read: missing, not a model, or of another version."""


def _params_json(estimator) -> np.ndarray:
    params = estimator.get_params()
    if not isinstance(params["random_state"], (int, type(None))):
        params["random_state"] = None  # a RandomState instance has no JSON form
    return np.array(json.dumps(params))


def _encoder_content(encoder: ChromaticEncoder, prefix: str = "") -> dict:
    return {
        **{prefix + name.rstrip("_"): getattr(encoder, name) for name in _ENCODER_ARRAYS},
        **{
            prefix + name.rstrip("_"): np.array(getattr(encoder, name)) for name in _ENCODER_SCALARS
        },
    }


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
                **{
                    "buckets." + name.rstrip("_"): getattr(buckets, name) for name in _BUCKET_ARRAYS
                },
            }
        )
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
        were indexed (``{"zero_based": False}``).

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
    content.update(
        {
            "format": np.array(FORMAT),
            "version": np.array(VERSION),
            "kind": np.array(type(model).__name__),
            "params": _params_json(model),
            "n_features_in": np.array(model.n_features_in_),
            "metadata": np.array(json.dumps(metadata or {})),
        }
    )
    if hasattr(model, "feature_names_in_"):
        content["feature_names_in"] = np.asarray(model.feature_names_in_, dtype=str)
    return content


def load_model(path: str | os.PathLike) -> Model:
    """Read an encoder or compressor written by ``save_model`` (or the ``chromatic`` command).

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
        When the file is missing, not a model file, incomplete, or of another format version.

    See Also
    --------
    read_model : The model and the metadata saved with it.
    save_model : Write a model file.
    """
    return read_model(path)[0]


def _read_encoder(name: str, content: dict, prefix: str = "") -> ChromaticEncoder:
    def member(attribute: str):
        return content[prefix + attribute.rstrip("_")]

    encoder = ChromaticEncoder(**json.loads(str(member("params"))))
    coloring = Coloring(
        **{attribute.rstrip("_"): member(attribute) for attribute in _ENCODER_ARRAYS},
        **{attribute.rstrip("_"): int(member(attribute)) for attribute in _ENCODER_SCALARS},
        n_features=int(member("n_features_in")),
    )
    set_coloring(encoder, coloring)
    n = encoder.n_features_in_
    if len(encoder.colors_) != n or len(encoder.codes_) != n:
        raise ModelFileError(f"{name}: tables of {len(encoder.colors_)} features, expected {n}")
    return encoder


def _read_compressor(name: str, content: dict) -> ChromaticCompressor:
    compressor = ChromaticCompressor(**json.loads(str(content["params"])))
    compressor.n_features_in_ = int(content["n_features_in"])
    compressor.classes_ = content["classes"]
    compressor.selection_scores_ = None
    encoder = buckets = None
    if "encoder.params" in content:
        encoder = _read_encoder(name, content, "encoder.")
        buckets = SubmodularCompressor(**json.loads(str(content["buckets.params"])))
        fitted = {
            name.rstrip("_"): content["buckets." + name.rstrip("_")] for name in _BUCKET_ARRAYS
        }
        fitted["n_outputs"] = int(content["buckets.n_outputs"])
        set_buckets(
            buckets, Buckets.from_engine(fitted, fitted["column_sizes"]), compressor.classes_
        )
        if len(buckets.column_sizes_) != encoder.n_colors_:
            raise ModelFileError(
                f"{name}: buckets of {len(buckets.column_sizes_)} columns for "
                f"{encoder.n_colors_} colors"
            )
    set_parts(compressor, content["frequent_features"].astype(np.int64), encoder, buckets)
    return compressor


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
        When the file is missing, not a model file, incomplete, or of another format version.
    """
    name = os.fspath(path)
    try:
        with np.load(name, allow_pickle=False) as stored:
            content = {key: stored[key] for key in stored.files}
    except FileNotFoundError:
        raise ModelFileError(f"{name}: no such model file") from None
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise ModelFileError(f"{name}: not a chromatic model file ({error})") from None
    if str(content.get("format", "")) != FORMAT:
        raise ModelFileError(f"{name}: not a chromatic model file")
    version = int(content.get("version", -1))
    if version != VERSION:
        raise ModelFileError(
            f"{name}: model format version {version}; this chromatic reads version {VERSION}"
        )
    kind = str(content.get("kind", ""))
    readers = {
        "ChromaticEncoder": lambda: _read_encoder(name, content),
        "ChromaticCompressor": lambda: _read_compressor(name, content),
    }
    if kind not in readers:
        raise ModelFileError(f"{name}: holds a {kind!r}, not a model this chromatic knows")
    try:
        model = readers[kind]()
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ModelFileError):
            raise
        raise ModelFileError(f"{name}: incomplete model file ({error})") from None
    if "feature_names_in" in content:
        model.feature_names_in_ = content["feature_names_in"].astype(object)
    return model, json.loads(str(content.get("metadata", "{}")))
