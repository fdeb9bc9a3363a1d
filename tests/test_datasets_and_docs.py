"""The synthetic generator (the docstring examples run in test_doctests.py)."""

from __future__ import annotations

import numpy as np
import pytest

from chromatic import ChromaticEncoder, make_onehot_zipf


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
