"""Properties of ChromaticEncoder on random and real data."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from chromatic_learning import ChromaticEncoder, make_onehot_zipf

from conftest import binarized, load_dataset, random_sparse

STRATEGIES = ["largest_first", "smallest_last", "natural", "dsatur", "random"]


def reference_codes(encoder: ChromaticEncoder, X, keep=np.minimum):
    """Codes and collision count computed independently of the engine with numpy."""
    B = binarized(X).tocoo()
    colors = encoder.colors_[B.col]
    seen = colors >= 0
    rows, colors, codes = B.row[seen], colors[seen], encoder.codes_[B.col[seen]]
    fill = np.iinfo(np.int32).max if keep is np.minimum else 0
    out = np.full((X.shape[0], encoder.n_colors_), fill, dtype=np.int64)
    keep.at(out, (rows, colors), codes)
    out[out == fill] = 0
    n_cells = len(np.unique(rows.astype(np.int64) * encoder.n_colors_ + colors))
    return out, len(rows) - n_cells, int((~seen).sum())


def assert_training_properties(X, encoder: ChromaticEncoder):
    B = binarized(X)
    codes = encoder.transform(X)
    # No training row holds two features of one color.
    assert encoder.collisions(X) == (0, 0)
    coo = B.tocoo()
    cells = coo.row.astype(np.int64) * encoder.n_colors_ + encoder.colors_[coo.col]
    assert len(np.unique(cells)) == B.nnz
    # Lossless on the training rows.
    assert (encoder.inverse_transform(codes) != B).nnz == 0
    # Greedy coloring bound on the graph part.
    n_graph_colors = encoder.n_colors_ - len(encoder.dense_features_)
    assert n_graph_colors <= encoder.max_degree_ + 1
    # Every seen feature has a color and a code within its color's size.
    seen = B.getnnz(axis=0) > 0
    assert np.all((encoder.colors_ >= 0) == seen)
    assert np.all(encoder.codes_[seen] <= encoder.color_sizes_[encoder.colors_[seen]])
    assert encoder.color_sizes_.sum() == seen.sum()
    assert np.all(np.diff(encoder.color_sizes_) <= 0), "colors are ordered by popularity"


@settings(max_examples=40, deadline=None)
@given(
    n_rows=st.integers(1, 120),
    n_features=st.integers(1, 60),
    max_per_row=st.integers(0, 12),
    seed=st.integers(0, 2**32 - 1),
    strategy=st.sampled_from(STRATEGIES),
    dense_threshold=st.sampled_from([None, 0.1, 0.5, 1.0]),
    index_dtype=st.sampled_from([np.int32, np.int64]),
)
def test_random_matrices_encode_losslessly(
    n_rows, n_features, max_per_row, seed, strategy, dense_threshold, index_dtype
):
    X = random_sparse(n_rows, n_features, max_per_row, seed, index_dtype=index_dtype, zipf=1.0)
    encoder = ChromaticEncoder(
        strategy=strategy, dense_threshold=dense_threshold, random_state=seed
    ).fit(X)
    assert_training_properties(X, encoder)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(2, 4),
    collision=st.sampled_from(["most_frequent", "least_frequent"]),
)
def test_codes_match_a_numpy_reference(seed, k, collision):
    """With k > 1, training rows collide too; codes and counts must match a reference."""
    X = random_sparse(300, 40, 8, seed, zipf=0.8)
    encoder = ChromaticEncoder(min_cooccurrence=k, collision=collision).fit(X[:200])
    X_new = X[200:]
    keep = np.minimum if collision == "most_frequent" else np.maximum
    expected, collisions, unseen = reference_codes(encoder, X_new, keep)
    np.testing.assert_array_equal(encoder.transform(X_new), expected)
    assert encoder.collisions(X_new) == (collisions, unseen)


def test_rows_built_to_collide():
    # Features 0..3 each in their own row: no edges, all in one color with codes by frequency.
    X_train = sp.csr_matrix(
        np.array(
            [
                [1, 0, 0, 0, 0],
                [1, 0, 0, 0, 0],
                [1, 1, 0, 0, 0],
                [0, 0, 1, 0, 0],
                [0, 0, 0, 1, 0],
                [0, 0, 0, 0, 0],
            ]
        )
    )
    encoder = ChromaticEncoder(dense_threshold=None).fit(X_train)
    # Feature 0 (3 rows) and feature 1 (1 row) are adjacent; 2 and 3 are isolated.
    assert encoder.colors_[0] != encoder.colors_[1]
    assert encoder.colors_[4] == -1 and encoder.codes_[4] == 0
    same = [f for f in range(4) if encoder.colors_[f] == encoder.colors_[2]]
    assert len(same) >= 2
    X_new = sp.csr_matrix(
        np.array([[0, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1], [1, 0, 0, 0, 0]])
    )
    codes = encoder.transform(X_new)
    # Row 0: features 2 and 3 (one color) -> 1 collision; row 1: colors of 0..3 plus unseen 4.
    row1_features_by_color = {}
    for f in range(4):
        row1_features_by_color.setdefault(encoder.colors_[f], []).append(f)
    expected_row1 = sum(len(fs) - 1 for fs in row1_features_by_color.values())
    assert encoder.collisions(X_new) == (1 + expected_row1, 2)
    c = encoder.colors_[2]
    assert codes[0, c] == min(encoder.codes_[2], encoder.codes_[3])
    assert not codes[2].any()
    least = ChromaticEncoder(dense_threshold=None, collision="least_frequent").fit(X_train)
    assert least.transform(X_new)[0, c] == max(encoder.codes_[2], encoder.codes_[3])


@pytest.mark.slow
def test_real_datasets_are_encoded_losslessly(real_dataset):
    _, X, _ = real_dataset
    encoder = ChromaticEncoder().fit(X)
    assert_training_properties(X, encoder)
    # Dense features are exactly those present in at least 10% of the rows.
    df = binarized(X).getnnz(axis=0)
    np.testing.assert_array_equal(
        np.sort(encoder.dense_features_), np.flatnonzero(df >= 0.1 * X.shape[0])
    )
    np.testing.assert_array_equal(encoder.document_frequency_, df)


@pytest.mark.slow
def test_flights_small_needs_close_to_its_14_fields():
    X, _, meta = load_dataset("flights_small")
    assert len(np.unique(meta["field"])) == 14
    counts = {
        s: ChromaticEncoder(strategy=s, dense_threshold=None).fit(X).n_colors_
        for s in ["largest_first", "smallest_last", "dsatur"]
    }
    # Coloring by field is a proper 14-coloring; greedy orders come close to it.
    assert counts["dsatur"] <= 16
    assert counts["smallest_last"] <= 18
    assert counts["largest_first"] <= 24
    assert min(counts.values()) >= 14


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_same_colors_for_any_thread_count_and_repeated_fits(strategy):
    # Enough rows and features that pair counting and coloring split work between threads.
    X = random_sparse(40_000, 50_000, 20, seed=5, zipf=1.0)
    fits = [
        ChromaticEncoder(strategy=strategy, n_jobs=n_jobs, random_state=3).fit(X)
        for n_jobs in (1, 2, 2, None)
    ]
    for other in fits[1:]:
        np.testing.assert_array_equal(fits[0].colors_, other.colors_)
        np.testing.assert_array_equal(fits[0].codes_, other.codes_)
    codes = [e.transform(X) for e in fits]
    for other in codes[1:]:
        np.testing.assert_array_equal(codes[0], other)


def test_random_strategy_follows_random_state():
    X = random_sparse(500, 200, 10, 0)
    a = ChromaticEncoder(strategy="random", random_state=1).fit(X).colors_
    b = ChromaticEncoder(strategy="random", random_state=1).fit(X).colors_
    c = ChromaticEncoder(strategy="random", random_state=2).fit(X).colors_
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_every_input_form_gives_the_same_codes(tmp_path):
    X = random_sparse(200, 30, 6, 5)
    dense = X.toarray()
    expected = ChromaticEncoder().fit(X).transform(X)
    memmap_path = tmp_path / "X.npy"
    np.save(memmap_path, dense)
    forms = {
        "csr_array": sp.csr_array(X),
        "csc": X.tocsc(),
        "coo": X.tocoo(),
        "dense": dense,
        "dense_int": dense.astype(np.int8),
        "dense_bool": dense.astype(bool),
        "dense_f32_fortran": np.asfortranarray(dense.astype(np.float32)),
        "memmap": np.load(memmap_path, mmap_mode="r"),
        "int64_indices": sp.csr_matrix(
            (X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64)), shape=X.shape
        ),
        "values_not_one": sp.csr_matrix((X.data * -2.5, X.indices, X.indptr), shape=X.shape),
    }
    for name, form in forms.items():
        np.testing.assert_array_equal(
            ChromaticEncoder().fit(form).transform(form), expected, err_msg=name
        )


def test_explicit_zeros_unsorted_and_duplicate_indices():
    # Row 0: feature 2 twice, feature 0, explicit zero at feature 1; row 1: features 1, 0.
    X = sp.csr_matrix(
        (
            np.array([1.0, 1.0, 3.0, 0.0, 1.0, 1.0]),
            np.array([2, 0, 2, 1, 1, 0]),
            np.array([0, 4, 6]),
        ),
        shape=(2, 3),
    )
    encoder = ChromaticEncoder(dense_threshold=None).fit(X)
    np.testing.assert_array_equal(encoder.document_frequency_, [2, 1, 1])
    codes = encoder.transform(X)
    expected = sp.csr_matrix(np.array([[1, 0, 1], [1, 1, 0]]))
    assert (encoder.inverse_transform(codes) != expected).nnz == 0
    assert encoder.collisions(X)[0] == 0


def test_onehot_output_is_a_permutation_of_seen_features():
    X = random_sparse(3000, 4000, 30, seed=6, zipf=1.0)
    encoder = ChromaticEncoder(output="onehot").fit(X)
    onehot = encoder.transform(X)
    assert sp.issparse(onehot) and onehot.format == "csr"
    assert onehot.shape == (X.shape[0], encoder.color_sizes_.sum())
    assert onehot.nnz == binarized(X).nnz
    assert (encoder.inverse_transform(onehot) != binarized(X)).nnz == 0
    names = encoder.get_feature_names_out()
    assert len(names) == onehot.shape[1]
    # Column j of the one-hot output is the input feature named names[j].
    feature = np.array([int(n[1:]) for n in names])
    np.testing.assert_array_equal(onehot.toarray(), binarized(X)[:, feature].toarray())


def test_pandas_output_and_feature_names():
    pd = pytest.importorskip("pandas")
    X = random_sparse(50, 8, 4, 1).toarray()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)])
    encoder = ChromaticEncoder(dense_threshold=None).set_output(transform="pandas")
    out = encoder.fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    # A DataFrame is a table: each color is named with the columns its features come from.
    assert len(out.columns) == encoder.n_colors_
    assert all(name.startswith(f"color{c}[f") for c, name in enumerate(out.columns))
    assert list(encoder.feature_names_in_) == list(frame.columns)
    used = {column for name in out.columns for column in name.split("[")[1][:-1].split(",")}
    assert used == set(frame.columns)


def test_fitted_state_is_plain_arrays_and_pickles():
    X = random_sparse(5000, 20_000, 25, seed=8, zipf=1.0)
    encoder = ChromaticEncoder().fit(X)
    fitted = {k: v for k, v in vars(encoder).items() if k.endswith("_")}
    assert all(isinstance(v, (np.ndarray, int)) for v in fitted.values()), fitted.keys()
    clone = pickle.loads(pickle.dumps(encoder))
    np.testing.assert_array_equal(clone.transform(X[:1000]), encoder.transform(X[:1000]))


def test_empty_rows_and_unseen_columns():
    X = sp.csr_matrix((3, 4))
    encoder = ChromaticEncoder().fit(X)
    assert encoder.n_colors_ == 0
    assert encoder.transform(X).shape == (3, 0)
    assert np.all(encoder.colors_ == -1)
    new = sp.csr_matrix(np.array([[1, 0, 1, 0]]))
    assert encoder.transform(new).shape == (1, 0)
    assert encoder.collisions(new) == (0, 2)
    assert encoder.inverse_transform(np.zeros((2, 0), dtype=np.int32)).shape == (2, 4)


def test_onehot_round_trip_without_colors():
    empty = sp.csr_matrix((3, 4))
    encoder = ChromaticEncoder(output="onehot").fit(empty)
    onehot = encoder.transform(empty)
    assert onehot.shape == (3, 0)
    assert encoder.inverse_transform(onehot).shape == (3, 4)


def test_n_jobs_minus_one_is_all_cores():
    X = random_sparse(300, 50, 6, 9)
    a = ChromaticEncoder(n_jobs=-1).fit_transform(X)
    b = ChromaticEncoder(n_jobs=None).fit_transform(X)
    c = ChromaticEncoder(n_jobs=1).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


@pytest.mark.slow
def test_a_memory_limit_shards_the_in_memory_build_with_the_same_result():
    X = make_onehot_zipf(200_000, 200_000, 11, random_state=4)
    unlimited = ChromaticEncoder(random_state=0).fit(X)
    for limit in ("1G", "300M", 150 * 2**20):
        limited = ChromaticEncoder(random_state=0, memory_limit=limit).fit(X)
        np.testing.assert_array_equal(limited.colors_, unlimited.colors_)
        np.testing.assert_array_equal(limited.codes_, unlimited.codes_)
    with pytest.raises(MemoryError, match="memory limit"):
        ChromaticEncoder(memory_limit="2M").fit(X)
    with pytest.raises(ValueError, match="not a size"):
        ChromaticEncoder(memory_limit="lots").fit(X)


@pytest.mark.parametrize("min_cooccurrence", [1, 2])
def test_the_collision_forecast_matches_collisions_on_new_rows(min_cooccurrence):
    X = make_onehot_zipf(120_000, 60_000, 11, random_state=3)
    train, new = X[:100_000], X[100_000:]
    encoder = ChromaticEncoder(min_cooccurrence=min_cooccurrence, random_state=0).fit(train)
    forecast = encoder.forecast_collisions(train)
    measured = encoder.collisions(new)[0] / new.shape[0]
    assert measured > 0.05
    assert forecast == pytest.approx(measured, rel=0.2)
    assert encoder.forecast_rows_ == pytest.approx(10_000, rel=0.05)
    # The forecast belongs to the coloring: it goes with it when the encoder is fitted again,
    # and is kept by pickle.
    assert pickle.loads(pickle.dumps(encoder)).collision_forecast_ == forecast
    encoder.fit(train[:1000])
    assert not hasattr(encoder, "collision_forecast_")


def test_the_collision_forecast_of_a_table():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "user": rng.zipf(1.3, 20_000) % 5_000,
            "ad": rng.zipf(1.5, 20_000) % 800,
            "site": rng.choice(["a", "b", "c"], 20_000),
        }
    )
    encoder = ChromaticEncoder(random_state=0).fit(frame)
    assert encoder.forecast_collisions(frame) > 0
    with pytest.raises(ValueError, match="too few"):
        ChromaticEncoder(random_state=0).fit(frame[:1]).forecast_collisions(frame[:1])
