"""Fitting and encoding svmlight files chunk by chunk equals the in-memory API."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file

from chromatic import ChromaticEncoder
from chromatic.streaming import fit_files, iter_encoded
from chromatic.svmlight import load_svmlight

from conftest import load_dataset


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    X, y, _ = load_dataset("flights_small")
    folder = tmp_path_factory.mktemp("stream")
    paths = [folder / "a.svm", folder / "b.svm"]
    dump_svmlight_file(X[:60_000], y[:60_000], str(paths[0]), zero_based=False)
    dump_svmlight_file(X[60_000:100_000], y[60_000:100_000], str(paths[1]), zero_based=False)
    return paths


@pytest.mark.parametrize("params", [{}, {"n_colors": 200, "dense_threshold": None}])
def test_streamed_fit_equals_in_memory_fit(two_files, params):
    streamed = ChromaticEncoder(random_state=3, **params)
    report = fit_files(streamed, two_files, chunk_bytes=200_000)
    assert report.rows == 100_000 and not report.zero_based
    data = load_svmlight(two_files)
    in_memory = ChromaticEncoder(random_state=3, **params).fit(data.X)
    assert streamed.n_features_in_ == in_memory.n_features_in_
    np.testing.assert_array_equal(streamed.colors_, in_memory.colors_)
    np.testing.assert_array_equal(streamed.codes_, in_memory.codes_)
    np.testing.assert_array_equal(streamed.document_frequency_, in_memory.document_frequency_)
    assert streamed.n_edges_ == in_memory.n_edges_
    chunks = list(iter_encoded(streamed, two_files[1], zero_based=False, chunk_bytes=50_000))
    assert len(chunks) > 5
    codes = np.vstack([c for _, c, _, _ in chunks])
    np.testing.assert_array_equal(
        codes, in_memory.transform(load_svmlight(two_files[1], n_features=data.X.shape[1]).X)
    )
    labels = np.concatenate([labels for labels, _, _, _ in chunks])
    np.testing.assert_array_equal(labels, load_svmlight(two_files[1]).y)


def test_unknown_indices_at_encoding_count_as_unseen(tmp_path):
    train = tmp_path / "train.svm"
    train.write_text("1 0:1 1:1\n0 1:1 2:1\n")
    new = tmp_path / "new.svm"
    new.write_text("1 0:1 9:1\n")
    encoder = ChromaticEncoder(dense_threshold=None)
    assert fit_files(encoder, [train]).zero_based
    ((labels, codes, collisions, unseen),) = list(iter_encoded(encoder, new, zero_based=True))
    np.testing.assert_array_equal(labels, [1.0])
    assert unseen == 1 and collisions == 0 and codes.shape == (1, encoder.n_colors_)
