"""The model file: a fitted ``ChromaticEncoder`` as a versioned ``.npz``.

Layout (format version 1): ``format`` = ``"chromatic-model"``, ``version`` = 1, ``kind`` =
``"ChromaticEncoder"``, ``params`` (the constructor parameters as JSON), ``metadata`` (JSON,
for example ``{"zero_based": false}`` from the command line), ``n_features_in``, and
the fitted arrays ``colors``, ``codes``, ``color_sizes``, ``document_frequency``,
``dense_features`` (plus ``feature_names_in`` when the encoder was fitted on named columns) and
the scalars ``n_edges``, ``max_degree``, ``n_greedy_colors``, ``conflict_weight``. Readers
refuse versions they do not know. Files are written to a temporary name and renamed, so a
failure never leaves a half-written model.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

from .encoder import ChromaticEncoder

FORMAT = "chromatic-model"
VERSION = 1
_ARRAYS = ("colors_", "codes_", "color_sizes_", "document_frequency_", "dense_features_")
_SCALARS = ("n_edges_", "max_degree_", "n_greedy_colors_", "conflict_weight_")


class ModelFileError(ValueError):
    """A model file that cannot be read: missing, not a model, or of another version."""


def save_model(
    encoder: ChromaticEncoder, path: str | os.PathLike, *, metadata: dict | None = None
) -> None:
    """Write a fitted encoder to ``path`` (atomically), with optional JSON ``metadata`` (for
    example how the training files were indexed)."""
    if not isinstance(encoder, ChromaticEncoder) or not hasattr(encoder, "colors_"):
        raise ValueError("save_model takes a fitted ChromaticEncoder")
    params = encoder.get_params()
    if not isinstance(params["random_state"], (int, type(None))):
        params["random_state"] = None  # a RandomState instance has no JSON form
    content = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION),
        "kind": np.array("ChromaticEncoder"),
        "params": np.array(json.dumps(params)),
        "n_features_in": np.array(encoder.n_features_in_),
        "metadata": np.array(json.dumps(metadata or {})),
        **{name.rstrip("_"): getattr(encoder, name) for name in _ARRAYS},
        **{name.rstrip("_"): np.array(getattr(encoder, name)) for name in _SCALARS},
    }
    if hasattr(encoder, "feature_names_in_"):
        content["feature_names_in"] = np.asarray(encoder.feature_names_in_, dtype=str)
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    handle, temporary = tempfile.mkstemp(prefix=".chromatic-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **content)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise


def load_model(path: str | os.PathLike) -> ChromaticEncoder:
    """Read an encoder written by ``save_model`` (or the ``chromatic`` command)."""
    return read_model(path)[0]


def read_model(path: str | os.PathLike) -> tuple[ChromaticEncoder, dict]:
    """The encoder in ``path`` and the metadata saved with it."""
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
    if kind != "ChromaticEncoder":
        raise ModelFileError(f"{name}: holds a {kind!r}, not a ChromaticEncoder")
    try:
        encoder = ChromaticEncoder(**json.loads(str(content["params"])))
        encoder.n_features_in_ = int(content["n_features_in"])
        for attribute in _ARRAYS:
            setattr(encoder, attribute, content[attribute.rstrip("_")])
        for attribute in _SCALARS:
            setattr(encoder, attribute, int(content[attribute.rstrip("_")]))
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"{name}: incomplete model file ({error})") from None
    if "feature_names_in" in content:
        encoder.feature_names_in_ = content["feature_names_in"].astype(object)
    encoder.n_colors_ = len(encoder.color_sizes_)
    encoder.field_dims_ = encoder.color_sizes_ + 1
    n = encoder.n_features_in_
    if len(encoder.colors_) != n or len(encoder.codes_) != n:
        raise ModelFileError(f"{name}: tables of {len(encoder.colors_)} features, expected {n}")
    return encoder, json.loads(str(content.get("metadata", "{}")))
