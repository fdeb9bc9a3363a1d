"""The versioned model file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from chromatic import (
    ChromaticCompressor,
    ChromaticEncoder,
    ModelFileError,
    load_model,
    save_model,
)

from conftest import load_dataset, random_sparse


def test_round_trip_transforms_the_same(tmp_path):
    X, _, _ = load_dataset("wordnet")
    encoder = ChromaticEncoder(n_colors=300, random_state=1).fit(X[:20_000])
    path = tmp_path / "model.npz"
    save_model(encoder, path)
    loaded = load_model(path)
    np.testing.assert_array_equal(
        loaded.transform(X[20_000:30_000]), encoder.transform(X[20_000:30_000])
    )
    assert loaded.get_params() == encoder.get_params()
    assert (loaded.n_colors_, loaded.n_edges_, loaded.max_degree_) == (
        encoder.n_colors_,
        encoder.n_edges_,
        encoder.max_degree_,
    )
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"], "no temporary file left"


@pytest.mark.parametrize("n_frequent", [0, 100, 512])
def test_compressor_round_trip_transforms_the_same(tmp_path, n_frequent):
    X, y, _ = load_dataset("wordnet")
    rows = np.random.default_rng(0).permutation(X.shape[0])[:30_000]
    X, y = X[rows], y[rows]
    compressor = ChromaticCompressor(budget=512, n_frequent=n_frequent, random_state=0)
    compressor.fit(X[:20_000], y[:20_000])
    path = tmp_path / "compressor.npz"
    save_model(compressor, path, metadata={"zero_based": True})
    loaded = load_model(path)
    assert isinstance(loaded, ChromaticCompressor)
    assert loaded.get_params() == compressor.get_params()
    assert (loaded.transform(X[20_000:]) != compressor.transform(X[20_000:])).nnz == 0
    np.testing.assert_array_equal(loaded.classes_, compressor.classes_)
    assert loaded.n_features_out_ == compressor.n_features_out_


def test_unreadable_files_get_clear_errors(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="not a chromatic model file"):
        load_model(junk)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.arange(3))
    with pytest.raises(ModelFileError, match="not a chromatic model file"):
        load_model(other)
    encoder = ChromaticEncoder().fit(random_sparse(50, 10, 4, 0))
    path = tmp_path / "m.npz"
    save_model(encoder, path)
    with np.load(path) as stored:
        content = dict(stored)
    content["version"] = np.array(99)
    future = tmp_path / "future.npz"
    np.savez(future, **content)
    with pytest.raises(ModelFileError, match="version 99; this chromatic reads version 1"):
        load_model(future)
    with pytest.raises(ValueError, match="fitted ChromaticEncoder"):
        save_model(ChromaticEncoder(), tmp_path / "unfitted.npz")


@pytest.mark.parametrize("kind", ["encoder", "compressor"])
def test_models_saved_by_the_first_format_load_and_encode_the_same(kind):
    # Written by the release that introduced format version 1, with its outputs for the rows.
    folder = Path(__file__).parent / "data"
    X = random_sparse(400, 60, 6, seed=11, zipf=1.2)
    model = load_model(folder / f"{kind}-v1.npz")
    expected = np.load(folder / "outputs-v1.npz")
    if kind == "encoder":
        np.testing.assert_array_equal(model.transform(X), expected["codes"])
    else:
        np.testing.assert_array_equal(model.transform(X).toarray(), expected["columns"])


def test_outputs_are_checked_against_inputs_by_path_and_by_file(tmp_path):
    from chromatic._output import check_outputs

    data = tmp_path / "data.svm"
    data.write_text("1 1:1\n")
    hard = tmp_path / "hard.svm"
    os.link(data, hard)
    for output in (data, tmp_path / "sub" / ".." / "data.svm", hard):
        with pytest.raises(ValueError, match="would overwrite its input"):
            check_outputs([output], [data])
    with pytest.raises(ValueError, match="written twice"):
        check_outputs([tmp_path / "a", tmp_path / "a"], [data])
    check_outputs([tmp_path / "new.npz"], [data])
