"""Bad input gets a ValueError or TypeError naming the problem, never a crash."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from chromatic_learning import (
    ChromaticCompressor,
    ChromaticEncoder,
    FrequencyEncoder,
    HashingEncoder,
    SubmodularCompressor,
    _core,
)
from chromatic_learning.streaming import fit_compressor_files, fit_files


@pytest.fixture
def X():
    return sp.csr_matrix(np.eye(4))


def corrupted(X, **arrays):
    bad = X.copy()
    for name, (position, value) in arrays.items():
        getattr(bad, name)[position] = value
    return bad


@pytest.mark.parametrize(
    "change, message",
    [
        ({"indices": (1, 9)}, r"row 1 holds column index 9, outside \[0, 4\)"),
        ({"indices": (1, -1)}, r"row 1 holds column index -1"),
        ({"indptr": (2, 0)}, r"indptr is not monotone: row 1 starts at 1 and ends at 0"),
        ({"indptr": (0, 1)}, r"indptr\[0\] is 1"),
        ({"data": (2, np.nan)}, r"row 2, column 2 holds NaN"),
        ({"data": (3, -np.inf)}, r"row 3, column 3 holds -inf"),
    ],
)
def test_malformed_csr_is_named(X, change, message):
    bad = corrupted(X, **change)
    with pytest.raises(ValueError, match=message):
        ChromaticEncoder().fit(bad)
    fitted = ChromaticEncoder().fit(X)
    with pytest.raises(ValueError, match=message):
        fitted.transform(bad)


def test_indptr_of_the_wrong_length(X):
    bad = X.copy()
    bad.indptr = bad.indptr[:-1]
    with pytest.raises(ValueError, match="indptr has 4 entries, but a matrix of 4 rows needs 5"):
        ChromaticEncoder().fit(bad)


def test_non_finite_dense_input():
    X = np.eye(3)
    X[1, 2] = np.inf
    with pytest.raises(ValueError, match="row 1, column 2 holds inf"):
        ChromaticEncoder().fit(X)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.ones(4), "Expected 2D array"),
        (np.ones((2, 2, 2)), "dim 3"),
        (np.ones((0, 3)), "0 sample"),
        (np.ones((3, 0)), "0 feature"),
        (np.array([["a", "b"]]), "numeric"),
        (np.ones((2, 2)) * 1j, "Complex data not supported"),
    ],
)
def test_wrong_shapes_and_types(X, message):
    with pytest.raises(ValueError, match=message):
        ChromaticEncoder().fit(X)


def test_wrong_number_of_features_at_transform(X):
    encoder = ChromaticEncoder().fit(X)
    with pytest.raises(ValueError, match="X has 3 features, but ChromaticEncoder is expecting 4"):
        encoder.transform(np.ones((2, 3)))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"strategy": "greedy"}, "'strategy' parameter"),
        ({"collision": "first"}, "'collision' parameter"),
        ({"min_cooccurrence": 0}, "'min_cooccurrence' parameter"),
        ({"min_cooccurrence": 1.5}, "'min_cooccurrence' parameter"),
        ({"dense_threshold": 0.0}, "'dense_threshold' parameter"),
        ({"dense_threshold": 1.5}, "'dense_threshold' parameter"),
        ({"output": "dense"}, "'output' parameter"),
        ({"n_jobs": "all"}, "'n_jobs' parameter"),
        ({"n_jobs": 0}, "n_jobs == 0"),
    ],
)
def test_unknown_parameter_values(X, params, message):
    with pytest.raises(ValueError, match=message):
        ChromaticEncoder(**params).fit(X)


def test_inverse_transform_names_bad_codes(X):
    encoder = ChromaticEncoder(dense_threshold=None).fit(X)
    good = encoder.transform(X)
    assert encoder.n_colors_ == 1
    with pytest.raises(ValueError, match=r"row 0, color 0 holds code 5, outside \[0, 4\]"):
        encoder.inverse_transform(np.array([[5]]))
    with pytest.raises(ValueError, match=r"row 1, color 0 holds code -1"):
        encoder.inverse_transform(np.array([[1], [-1]]))
    with pytest.raises(ValueError, match="codes have 2 columns, but this encoder has 1 colors"):
        encoder.inverse_transform(np.zeros((1, 2), dtype=np.int32))
    with pytest.raises(ValueError, match="whole numbers"):
        encoder.inverse_transform(good + 0.5)
    with pytest.raises(ValueError, match="int32 range"):
        encoder.inverse_transform(np.array([[2**40]]))
    with pytest.raises(ValueError, match="one-hot columns"):
        encoder.inverse_transform(sp.csr_matrix((1, 7)))


def test_transform_before_fit(X):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ChromaticEncoder().transform(X)


def test_engine_refuses_mixed_index_dtypes():
    indptr = np.array([0, 1], dtype=np.int32)
    indices = np.array([0], dtype=np.int64)
    with pytest.raises(TypeError, match="same dtype"):
        _core.fit(
            indptr,
            indices,
            None,
            2,
            min_cooccurrence=1,
            strategy="natural",
            seed=0,
            dense_threshold=None,
        )


def test_engine_refuses_bad_tables():
    indptr = np.array([0, 1], dtype=np.int32)
    indices = np.array([0], dtype=np.int32)
    colors = np.array([3, -1], dtype=np.int32)
    codes = np.array([1, 0], dtype=np.int32)
    out = np.zeros((1, 2), dtype=np.int32)
    with pytest.raises(ValueError, match="feature 0 has color 3"):
        _core.encode(indptr, indices, None, 2, colors, codes, out, collision="most_frequent")
    with pytest.raises(ValueError, match="collision policy"):
        _core.encode(indptr, indices, None, 2, colors, codes, out, collision="first")
    with pytest.raises(ValueError, match="output buffer"):
        _core.encode(
            indptr,
            indices,
            None,
            2,
            colors,
            codes,
            np.zeros((3, 2), np.int32),
            collision="most_frequent",
        )
    with pytest.raises(TypeError, match="C-contiguous"):
        _core.encode(
            indptr,
            indices,
            None,
            2,
            colors,
            codes,
            np.zeros((1, 4), np.int32)[:, ::2],
            collision="most_frequent",
        )


@settings(max_examples=300, deadline=None)
@given(
    indptr=st.lists(st.integers(-3, 12), min_size=0, max_size=6),
    indices=st.lists(st.integers(-3, 12), min_size=0, max_size=12),
    values=st.one_of(
        st.none(), st.lists(st.sampled_from([0.0, 1.0, -2.0, np.nan, np.inf]), max_size=12)
    ),
    n_features=st.integers(0, 10),
    dtype=st.sampled_from([np.int32, np.int64]),
)
def test_arbitrary_arrays_never_crash_the_engine(indptr, indices, values, n_features, dtype):
    """Whatever the arrays, the engine answers with a result or a ValueError."""
    indptr = np.array(indptr, dtype=dtype)
    indices = np.array(indices, dtype=dtype)
    data = None if values is None else np.array(values, dtype=np.float64)
    try:
        fitted = _core.fit(
            indptr,
            indices,
            data,
            n_features,
            min_cooccurrence=1,
            strategy="dsatur",
            seed=0,
            dense_threshold=0.5,
        )
    except ValueError:
        return
    codes = np.zeros((len(indptr) - 1, len(fitted["color_sizes"])), dtype=np.int32)
    _core.encode(
        indptr,
        indices,
        data,
        n_features,
        fitted["colors"],
        fitted["codes"],
        codes,
        collision="most_frequent",
    )
    _core.decode(codes, fitted["colors"], fitted["codes"], fitted["color_sizes"])


def test_engine_errors_have_a_type(tmp_path):
    from chromatic_learning import ChromaticError
    from chromatic_learning.svmlight import SvmlightError, load_svmlight

    bad = tmp_path / "bad.svm"
    bad.write_text("1 1:1\n0 x:1\n")
    with pytest.raises(SvmlightError) as caught:
        load_svmlight(bad)
    error = caught.value
    assert isinstance(error, ChromaticError) and isinstance(error, ValueError)
    assert (error.path, error.line) == (str(bad), 2)
    assert str(error).startswith(f"{bad}:2: ")
    X = sp.csr_matrix(
        (np.array([1.0, np.nan]), np.array([0, 1]), np.array([0, 1, 2])), shape=(2, 2)
    )
    with pytest.raises(ChromaticError, match="row 1, column 1 holds NaN"):
        ChromaticEncoder().fit(X)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"indices": (1, -1)}, r"row 1 holds column index -1, outside \[0, 4\)"),
        ({"indices": (3, 4)}, r"row 3 holds column index 4, outside \[0, 4\)"),
        ({"indptr": (2, 0)}, r"indptr is not monotone: row 1 starts at 1 and ends at 0"),
        ({"indptr": (0, 1)}, r"indptr\[0\] is 1"),
        ({"indptr": (4, 3)}, r"indptr\[-1\] is 3 but indices has 4 entries"),
    ],
)
@pytest.mark.parametrize("make", [FrequencyEncoder, HashingEncoder])
def test_baselines_check_the_csr_structure_as_the_encoder_does(X, make, change, message):
    bad = corrupted(X, **change)
    with pytest.raises(ValueError, match=message):
        make(n_features=3).fit(bad)
    fitted = make(n_features=3).fit(X)
    with pytest.raises(ValueError, match=message):
        fitted.transform(bad)


def test_frequency_encoder_never_counts_index_minus_one_in_the_last_column(X):
    # numpy reads index -1 as the last column: the encoder must refuse it, not count it.
    bad = corrupted(X, indices=(0, -1))
    with pytest.raises(ValueError, match="column index -1"):
        FrequencyEncoder(n_features=2).fit(bad)


def test_inverse_transform_checks_one_hot_indices(X):
    encoder = ChromaticEncoder(output="onehot", dense_threshold=None).fit(X)
    Z = sp.csr_matrix(encoder.transform(X))
    Z.indices[0] = -1
    with pytest.raises(ValueError, match=r"row 0 holds column index -1"):
        encoder.inverse_transform(Z)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"memory_limit": "inf"}, "memory_limit 'inf' is not a size"),
        ({"memory_limit": "nan"}, "memory_limit 'nan' is not a size"),
        ({"memory_limit": 2**70}, r"memory_limit 1180591620717411303424 is more than 2\*\*64 - 1"),
        ({"memory_limit": "1e30G"}, r"memory_limit '1e30G' is more than 2\*\*64 - 1"),
        ({"memory_limit": "0.5"}, "memory_limit '0.5' is less than one byte"),
        ({"glauber_steps": 2**64}, "'glauber_steps' parameter"),
        ({"random_state": -1}, "'random_state' parameter"),
        ({"n_colors": -1}, "'n_colors' parameter"),
        ({"min_cooccurrence": 10**11}, "'min_cooccurrence' parameter"),
    ],
)
def test_out_of_range_parameters_name_the_parameter(X, tmp_path, params, message):
    # Every front door refuses them alike, before any work: the estimator, and the streamed fit.
    path = tmp_path / "rows.svm"
    path.write_text("1 1:1 2:1\n0 2:1 3:1\n")
    with pytest.raises(ValueError, match=message):
        ChromaticEncoder(**params).fit(X)
    with pytest.raises(ValueError, match=message):
        fit_files(ChromaticEncoder(**params), [path])
    if "glauber_steps" not in params:
        with pytest.raises(ValueError, match=message):
            ChromaticCompressor(budget=4, **params).fit(X, [0, 1, 0, 1])
        with pytest.raises(ValueError, match=message):
            fit_compressor_files(ChromaticCompressor(budget=4, **params), [path])


@pytest.mark.parametrize(
    "y",
    [
        [0, "1", 1, 0],
        np.array([0, "1", 1, 0], dtype=object),
        [[0], ["1"], [1], [0]],
        ["a", 1, "a", 1],
    ],
)
def test_labels_mixing_strings_and_numbers_are_refused(X, y):
    with pytest.raises(ValueError, match="y mixes strings and numbers"):
        ChromaticCompressor(budget=4, n_frequent=1).fit(X, y)
    with pytest.raises(ValueError, match="y mixes strings and numbers"):
        SubmodularCompressor(budget=4).fit(np.zeros((4, 2), dtype=int), y)


def test_labels_of_one_kind_are_accepted(X):
    for y in (["a", "b", "a", "b"], [0.0, 1, 1, 0], np.array([0, 1, 1, 0], dtype=object)):
        ChromaticCompressor(budget=4, n_frequent=1).fit(X, y)


def test_integer_ids_in_a_matrix_get_a_warning_not_a_silent_collapse():
    import warnings

    import pandas as pd

    from chromatic_learning import ChromaticCompressor, ChromaticEncoder

    rng = np.random.default_rng(0)
    ids = pd.DataFrame(
        {"user_id": rng.integers(0, 300, 2_000), "ad_id": rng.integers(0, 50, 2_000)}
    )
    with pytest.warns(UserWarning, match=r"integers other than 0 and 1 .*TableEncoder"):
        ChromaticEncoder().fit(ids.to_numpy())
    y = rng.integers(0, 2, 2_000)
    with pytest.warns(UserWarning, match="integers other than 0 and 1"):
        ChromaticCompressor(budget=16, n_frequent=4).fit(sp.csr_array(ids.to_numpy()), y)
    # Presence matrices, of any dtype, and floats (weights) pass quietly; so does the table,
    # whose integer columns are ids.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        binary = (ids.to_numpy() % 2).astype(np.int64)
        ChromaticEncoder(dense_threshold=None).fit(binary)
        ChromaticEncoder(dense_threshold=None).fit(ids.to_numpy().astype(float))
        encoder = ChromaticEncoder().fit(ids)
    assert len(encoder.colors_) == ids["user_id"].nunique() + ids["ad_id"].nunique()


def test_a_table_fitted_model_refuses_a_matrix_and_a_matrix_one_a_text_table():
    import pandas as pd
    import pyarrow as pa

    from chromatic_learning import ChromaticCompressor, ChromaticEncoder, FrequencyEncoder

    frame = pd.DataFrame({"user_id": ["u1", "u2", "u1"], "clicks": [1, 0, 1]})
    for estimator in (ChromaticEncoder(), FrequencyEncoder(), ChromaticCompressor(budget=8)):
        estimator.fit(frame, [0, 1, 0])
        with pytest.raises(ValueError, match=r"fitted on a table of the columns \['user_id', "):
            estimator.transform(np.ones((3, 2)))
    encoder = ChromaticEncoder().fit(np.eye(2))
    with pytest.raises(ValueError, match=r"columns \['site'\] .*TableEncoder"):
        encoder.transform(pa.table({"site": ["a", "b"]}))
