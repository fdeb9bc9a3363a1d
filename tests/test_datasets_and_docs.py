"""The synthetic generator (the docstring examples run in test_doctests.py)."""

from __future__ import annotations

import numpy as np
import pytest

from chromatic_learning import ChromaticEncoder, make_onehot_zipf


def test_onehot_zipf_shape_and_optimum():
    X = make_onehot_zipf(20_000, 3_000, 7, random_state=1)
    assert X.shape == (20_000, 3_000)
    np.testing.assert_array_equal(np.diff(X.indptr), 7)
    assert X.has_sorted_indices
    assert np.all(np.diff(X.indices.reshape(-1, 7), axis=1) > 0)
    # Each field is one-hot, so DSATUR reaches the optimum: one color per field.
    assert ChromaticEncoder(strategy="dsatur", dense_threshold=None).fit(X).n_colors_ == 7
    # Zipf: the most frequent id of a field is far more frequent than the median seen id.
    df = np.bincount(X.indices, minlength=3_000)
    assert df.max() > 20 * np.median(df[df > 0])


def test_onehot_zipf_is_reproducible_and_checks_its_arguments():
    a = make_onehot_zipf(100, 50, 3, random_state=5, index_dtype=np.int64)
    b = make_onehot_zipf(100, 50, 3, random_state=5, index_dtype=np.int64)
    assert a.indices.dtype == np.int64
    assert (a != b).nnz == 0
    with pytest.raises(ValueError, match="n_features"):
        make_onehot_zipf(10, 2, 3)
    with pytest.raises(ValueError, match="zipf_exponent"):
        make_onehot_zipf(10, 20, 3, zipf_exponent=-1)


def test_heavy_tailed_rows_are_reproducible_and_heavy_tailed():
    from chromatic_learning.datasets import make_heavy_tailed

    X = make_heavy_tailed(5_000, 30_000, longest=2_000, random_state=3)
    assert X.shape == (5_000, 30_000) and X.has_sorted_indices
    assert np.all(X.data == 1)
    lengths = np.diff(X.indptr)
    # Most rows hold a handful of features, a few hold a thousand or more.
    assert lengths.min() >= 1 and np.median(lengths) <= 12
    assert 1_000 <= lengths.max() <= 2_000
    # Feature 0 is the most frequent.
    assert np.argmax(np.bincount(X.indices, minlength=30_000)) == 0
    assert (X != make_heavy_tailed(5_000, 30_000, longest=2_000, random_state=3)).nnz == 0
    with pytest.raises(ValueError, match="n_features and longest"):
        make_heavy_tailed(10, 0)
