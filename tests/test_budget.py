"""Budgeted inputs: a fixed color count, submodular compression, the baselines."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from chromatic_learning import (
    ChromaticCompressor,
    ChromaticEncoder,
    FrequencyEncoder,
    HashingEncoder,
    SubmodularCompressor,
    load_model,
    save_model,
)

from conftest import binarized, load_dataset, random_sparse


@pytest.fixture(scope="module")
def flights_split():
    X, y, _ = load_dataset("flights_small")
    return train_test_split(X, y, test_size=0.2, random_state=0)


# --- a fixed number of colors ----------------------------------------------------------------


@pytest.mark.slow
def test_more_colors_spread_features_and_cut_test_collisions(flights_split):
    X_train, X_test, _, _ = flights_split
    collisions = {}
    for m in (None, 256, 4096):
        encoder = ChromaticEncoder(n_colors=m, random_state=0).fit(X_train)
        if m is not None:
            assert encoder.n_colors_ == m
        assert encoder.collisions(X_train)[0] == 0, "still a proper coloring of the training rows"
        collisions[m] = encoder.collisions(X_test)[0]
    assert collisions[4096] < collisions[256] < collisions[None]
    assert collisions[4096] * 10 < collisions[None]


@pytest.mark.slow
def test_fewer_colors_than_needed_conflict_as_little_as_counted(flights_split):
    X_train, _, _, _ = flights_split
    greedy = ChromaticEncoder(dense_threshold=None).fit(X_train)
    m = greedy.n_colors_ - 4
    squeezed = ChromaticEncoder(dense_threshold=None, n_colors=m).fit(X_train)
    assert squeezed.n_colors_ == m
    assert squeezed.n_greedy_colors_ == greedy.n_colors_
    assert squeezed.conflict_weight_ > 0
    squeezed_collisions, _ = squeezed.collisions(X_train)
    # Every collision comes from a same-colored pair, so the pair weight bounds it.
    assert 0 < squeezed_collisions <= squeezed.conflict_weight_
    # Far fewer than folding the greedy colors onto m colors would cause.
    folded = greedy.colors_ % m
    B = binarized(X_train).tocoo()
    cells = B.row.astype(np.int64) * m + folded[B.col]
    folded_collisions = B.nnz - len(np.unique(cells))
    assert squeezed_collisions < folded_collisions / 2


def test_fixed_colors_are_reproducible_and_thread_independent():
    X = random_sparse(3000, 400, 8, 1, zipf=1.0)
    fits = [
        ChromaticEncoder(n_colors=64, random_state=5, n_jobs=n).fit(X).colors_ for n in (1, 2, 2)
    ]
    np.testing.assert_array_equal(fits[0], fits[1])
    np.testing.assert_array_equal(fits[0], fits[2])
    other = ChromaticEncoder(n_colors=64, random_state=6).fit(X).colors_
    assert not np.array_equal(fits[0], other)


def test_field_dims_for_embeddings():
    X = random_sparse(500, 100, 6, 2)
    encoder = ChromaticEncoder().fit(X)
    np.testing.assert_array_equal(encoder.field_dims_, encoder.color_sizes_ + 1)
    assert encoder.transform(X).max(axis=0).max() < encoder.field_dims_.max()


# --- submodular compression ------------------------------------------------------------------


def codes_and_labels(n=5000, seed=0):
    rng = np.random.default_rng(seed)
    codes = np.stack([rng.integers(0, 30, n), rng.integers(0, 5, n), rng.integers(0, 300, n)], 1)
    logit = np.where(codes[:, 0] < 10, 1.5, -1.0) + 0.3 * (codes[:, 1] == 2)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return codes.astype(np.int32), y


@pytest.mark.parametrize("budget", [1, 3, 16, 64, 10_000])
def test_output_never_wider_than_the_budget(budget):
    codes, y = codes_and_labels()
    comp = SubmodularCompressor(budget=budget, random_state=0).fit(codes, y)
    Z = comp.transform(codes)
    assert Z.shape == (len(codes), comp.n_features_out_)
    assert comp.n_features_out_ <= min(budget, 29 + 4 + 299)
    # One bucket per column at most, so at most one non-zero per code column.
    assert Z.getnnz(axis=1).max() <= codes.shape[1]
    assert len(comp.get_feature_names_out()) == comp.n_features_out_


def test_a_budget_left_unused_says_why(tmp_path):
    codes, y = codes_and_labels()
    assert SubmodularCompressor(budget=3, random_state=0).fit(codes, y).stop_reason_ == "budget"
    wide = SubmodularCompressor(budget=10_000, penalty=1.0, random_state=0).fit(codes, y)
    assert wide.n_features_out_ < 10_000 and wide.stop_reason_ == "penalty"
    free = SubmodularCompressor(budget=10_000, random_state=0).fit(codes, y)
    assert free.n_features_out_ > wide.n_features_out_
    assert free.stop_reason_ in ("no gain", "no cut")
    X = random_sparse(3000, 200, 8, 1)
    labels = (np.asarray(X[:, :20].sum(axis=1)).ravel() > 0).astype(int)
    compressor = ChromaticCompressor(budget=4096, n_frequent=16, random_state=0).fit(X, labels)
    assert compressor.n_features_out_ < 4096
    assert compressor.stop_reason_ == compressor.compressor_.stop_reason_ == "penalty"
    save_model(compressor, tmp_path / "model.npz")
    assert load_model(tmp_path / "model.npz").stop_reason_ == "penalty"
    everything = ChromaticCompressor(budget=4096, n_frequent=4096, random_state=0).fit(X, labels)
    assert everything.stop_reason_ == "no more features"
    assert ChromaticCompressor(budget=8, random_state=0).fit(X, labels).stop_reason_ == "budget"


def test_the_first_cut_goes_to_the_informative_column():
    codes, y = codes_and_labels()
    comp = SubmodularCompressor(budget=1).fit(codes, y)
    (name,) = comp.get_feature_names_out()
    assert name.startswith("x0_")


def test_unseen_and_absent_values_fall_into_the_reference_bucket():
    codes, y = codes_and_labels()
    comp = SubmodularCompressor(budget=50).fit(codes, y)
    new = np.array([[0, 0, 0], [1000, 77, 5000]], dtype=np.int32)
    assert comp.transform(new).nnz == 0


def test_cross_fitting_never_uses_a_rows_own_label():
    # Pure-noise codes with many rare values: in-sample buckets memorise labels, cross-fitted
    # ones cannot, so a model sees no signal in them.
    rng = np.random.default_rng(1)
    n = 4000
    codes = rng.integers(1, 2000, size=(n, 1)).astype(np.int32)
    y = rng.integers(0, 2, n)
    comp = SubmodularCompressor(budget=64, smoothing=0.0, random_state=0)
    in_sample = comp.fit(codes, y).transform(codes)
    crossed = comp.fit_transform(codes, y)
    assert crossed.shape == in_sample.shape

    def train_loss(Z):
        p = LogisticRegression(max_iter=1000).fit(Z, y).predict_proba(Z)[:, 1]
        return log_loss(y, p)

    assert train_loss(in_sample) < 0.6  # memorised
    assert train_loss(crossed) > 0.68  # about log(2): nothing learned


def test_dense_float32_output_for_neural_networks():
    codes, y = codes_and_labels()
    comp = SubmodularCompressor(budget=32, sparse_output=False, random_state=0)
    Z = comp.fit_transform(codes, y)
    assert isinstance(Z, np.ndarray) and Z.dtype == np.float32
    assert set(np.unique(Z)) <= {0.0, 1.0}
    assert comp.transform(codes).dtype == np.float32


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda c, y: (c, None), "requires y to be passed"),
        (lambda c, y: (c, np.arange(len(y)) % 3), "binary"),
        (lambda c, y: (c, np.zeros(len(y))), "binary"),
        (lambda c, y: (c - 1, y), "codes must be >= 0"),
        (lambda c, y: (c + 0.5, y), "whole numbers"),
        (lambda c, y: (c, y[:-1]), "rows but y has"),
    ],
)
def test_compressor_bad_input(make, message):
    codes, y = codes_and_labels(200)
    X, target = make(codes, y)
    with pytest.raises(ValueError, match=message):
        SubmodularCompressor(budget=8).fit(X, target)


def test_compressor_parameter_checks_and_transform_width():
    codes, y = codes_and_labels(200)
    with pytest.raises(ValueError, match="'budget' parameter"):
        SubmodularCompressor(budget=0).fit(codes, y)
    with pytest.raises(ValueError, match="'n_colors' parameter"):
        ChromaticCompressor(n_colors=0).fit(sp.csr_matrix(codes > 0), y)
    comp = SubmodularCompressor(budget=8).fit(codes, y)
    with pytest.raises(ValueError, match="codes have 2 columns"):
        comp.transform(codes[:, :2])


def test_compressor_codes_need_a_column():
    codes, y = codes_and_labels(12)
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(12, 0\)\)"):
        SubmodularCompressor(budget=8).fit(codes[:, :0], y)


def test_no_tail_when_only_kept_features_were_seen():
    # Two features seen, both kept apart: the others have no colors, so there is nothing to
    # compress, and the output is the kept features' columns, in fit and in transform alike.
    X = sp.csr_matrix(np.tile([[1, 0, 0], [0, 1, 0]], (20, 1)).astype(float))
    y = np.tile([0, 1], 20)
    comp = ChromaticCompressor(budget=8, n_frequent=2, random_state=0)
    Z = comp.fit_transform(X, y)
    assert comp.encoder_ is None and comp.compressor_ is None
    assert comp.n_features_out_ == 2 == Z.shape[1]
    np.testing.assert_array_equal(Z.toarray(), X[:, :2].toarray())
    np.testing.assert_array_equal(comp.transform(X).toarray(), Z.toarray())
    assert list(comp.get_feature_names_out()) == ["x0", "x1"]


# --- the whole method and the baselines ------------------------------------------------------


@pytest.mark.slow
def test_chromatic_compressor_beats_the_baselines_at_256_columns(flights_split):
    X_train, X_test, y_train, y_test = flights_split

    def loss(transformer):
        model = make_pipeline(transformer, LogisticRegression(max_iter=1000))
        model.fit(X_train, y_train)
        return log_loss(y_test, model.predict_proba(X_test)[:, 1])

    ours = loss(ChromaticCompressor(budget=256, random_state=0))
    assert ours < loss(HashingEncoder(n_features=256)) - 0.02
    assert ours < loss(FrequencyEncoder(n_features=256)) - 0.02


@pytest.mark.slow
def test_chromatic_compressor_is_a_plain_estimator(flights_split):
    X_train, X_test, y_train, _ = flights_split
    comp = clone(ChromaticCompressor(budget=128, random_state=0))
    Z = comp.fit_transform(X_train, y_train)
    assert Z.shape == (X_train.shape[0], comp.n_features_out_) and comp.n_features_out_ <= 128
    assert comp.transform(X_test).shape == (X_test.shape[0], comp.n_features_out_)
    assert len(comp.get_feature_names_out()) == comp.n_features_out_
    np.testing.assert_array_equal(comp.classes_, [0, 1])


def test_hashing_encoder():
    X = random_sparse(300, 1000, 10, 3)
    Z = HashingEncoder(n_features=64, alternate_sign=False).fit_transform(X)
    assert Z.shape == (300, 64)
    np.testing.assert_array_equal(np.asarray(Z.sum(axis=1)).ravel(), binarized(X).getnnz(axis=1))
    signed = HashingEncoder(n_features=64).fit_transform(X)
    assert (signed.data < 0).any()
    with pytest.raises(ValueError, match="X has 999 features"):
        HashingEncoder().fit(X).transform(X[:, :999])


def test_frequency_encoder():
    X = sp.csr_matrix(np.array([[1, 1, 0, 1], [1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 0, 1]]))
    enc = FrequencyEncoder(n_features=3).fit(X)
    # Feature 0 (3 rows) and 1 (2 rows, tie with 3 broken by index) keep columns.
    np.testing.assert_array_equal(enc.kept_features_, [0, 1])
    Z = enc.transform(X).toarray()
    np.testing.assert_array_equal(Z, [[1, 1, 1], [1, 0, 1], [1, 1, 0], [0, 0, 1]])
    before = X.copy()
    FrequencyEncoder(n_features=2).fit_transform(X)
    assert (X != before).nnz == 0 and np.array_equal(X.indptr, before.indptr)
    with pytest.raises(ValueError, match="row 0, column 0 holds NaN"):
        enc.transform(sp.csr_matrix(np.array([[np.nan, 0, 0, 1.0]])))


@pytest.mark.slow
def test_frequent_features_keep_their_own_columns(flights_split):
    X_train, X_test, y_train, _ = flights_split
    comp = ChromaticCompressor(budget=200, n_frequent=50, random_state=0)
    Z = comp.fit_transform(X_train, y_train)
    assert comp.n_frequent_ == 50 and Z.shape[1] == comp.n_features_out_ <= 200
    df = binarized(X_train).getnnz(axis=0)
    np.testing.assert_array_equal(
        np.sort(df[comp.frequent_features_])[::-1][:5], np.sort(df)[::-1][:5]
    )
    # The first columns are those features' presence, in the training and the new rows alike.
    for X, out in ((X_train, Z), (X_test, comp.transform(X_test))):
        expected = binarized(X)[:, comp.frequent_features_].toarray()
        np.testing.assert_array_equal(out[:, :50].toarray(), expected)
    names = comp.get_feature_names_out()
    assert names[0] == f"x{comp.frequent_features_[0]}" and len(names) == Z.shape[1]
    only_frequent = ChromaticCompressor(budget=10, n_frequent=10).fit(X_train, y_train)
    assert only_frequent.compressor_ is None and only_frequent.n_features_out_ == 10


@pytest.mark.slow
def test_auto_split_scores_its_candidates(flights_split):
    X_train, _, y_train, _ = flights_split
    comp = ChromaticCompressor(budget=64, selection_rows=20_000, random_state=0)
    Z = comp.fit_transform(X_train, y_train)
    scores = comp.selection_scores_
    buckets = {k: score for (k, tail), score in scores.items() if tail == "buckets"}
    assert set(buckets) == {0, 16, 32, 48, 60, 64}
    # A hashed tail is scored where the buckets' best keeps half of the budget apart or more.
    hashed = {k for k, tail in scores if tail == "hashed"}
    assert hashed == ({16, 32} if min(buckets, key=buckets.get) >= 32 else set())
    assert comp.n_frequent_ == min(buckets, key=buckets.get) or comp.tail_ == "hashed"

    assert Z.shape[1] <= 64
    dense = ChromaticCompressor(budget=64, n_frequent=8, sparse_output=False).fit(X_train, y_train)
    assert dense.transform(X_train[:10]).dtype == np.float32
    # The scores and the choice do not depend on how many threads the engine has.
    for n_jobs in (1, 2):
        other = ChromaticCompressor(
            budget=64, selection_rows=20_000, random_state=0, n_jobs=n_jobs
        ).fit(X_train, y_train)
        assert other.selection_scores_ == comp.selection_scores_
        assert other.n_frequent_ == comp.n_frequent_


def test_frequency_truncation_is_a_candidate_of_the_split():
    # Four fields of eight values carry the label; four fields of 3,000 values are noise.
    rng = np.random.default_rng(0)
    n_rows, fields = 8_000, [8] * 4 + [3_000] * 4
    offsets = np.cumsum([0, *fields[:-1]])
    columns = np.stack(
        [o + rng.integers(0, k, n_rows) for o, k in zip(offsets, fields, strict=True)], 1
    )
    weights = np.concatenate([rng.normal(0, 1, k) if k == 8 else np.zeros(k) for k in fields])
    p = 1 / (1 + np.exp(-weights[columns].sum(axis=1)))
    y = (rng.random(n_rows) < p).astype(int)
    X = sp.csr_array(
        (np.ones(columns.size), columns.ravel(), np.arange(0, columns.size + 1, len(fields))),
        shape=(n_rows, sum(fields)),
    )
    comp = ChromaticCompressor(budget=32, random_state=0).fit(X, y)
    assert {k for k, tail in comp.selection_scores_ if tail == "buckets"} == {0, 8, 16, 24, 30, 32}
    # The whole budget kept apart is frequency truncation: the features that the baseline keeps
    # (it adds a column counting the others), and no coloring.
    truncated = ChromaticCompressor(budget=32, n_frequent=32).fit(X, y)
    frequency = FrequencyEncoder(n_features=33).fit(X)
    assert truncated.compressor_ is None
    np.testing.assert_array_equal(
        np.sort(truncated.frequent_features_), np.sort(frequency.kept_features_)
    )
    # Bucketing the noise costs the split that keeps the signal apart.
    scores = {k: score for (k, tail), score in comp.selection_scores_.items() if tail == "buckets"}
    assert min(scores[30], scores[32]) < min(scores[0], scores[8], scores[16]) - 0.01
    assert comp.n_frequent_ in (30, 32)


# --- a hashed tail ---------------------------------------------------------------------------


def _tail_data():
    X = random_sparse(3_000, 400, 8, seed=2, zipf=1.1)
    y = (np.asarray(X[:, :5].sum(axis=1)).ravel() > 0).astype(int)
    # The last 20 features are never seen in fit.
    X = sp.csr_matrix(X[:, :380])
    X.resize((3_000, 400))
    return X, y


def test_a_hashed_tail_is_the_hashing_trick_on_the_other_seen_features():
    X, y = _tail_data()
    comp = ChromaticCompressor(budget=64, n_frequent=16, tail="hashed", random_state=0)
    Z = comp.fit_transform(X, y)
    assert comp.tail_ == "hashed" and comp.encoder_ is None and comp.compressor_ is None
    assert Z.shape == (3_000, 64) and comp.n_features_out_ == 64 and comp.stop_reason_ == "budget"
    # Nothing is rated on labels, so the training rows are encoded as any others.
    assert (Z != comp.transform(X)).nnz == 0
    seen = np.flatnonzero(np.asarray(X.sum(axis=0)).ravel())
    hashed = comp.hashed_features_
    assert np.array_equal(np.sort(np.concatenate([comp.frequent_features_, hashed])), seen)
    counts = np.asarray(X.sum(axis=0)).ravel()[hashed]
    assert (np.diff(counts) <= 0).all(), "most frequent first"
    # The tail's columns are those of the hashing trick on the hashed features alone.
    others = sp.csr_matrix(X, copy=True)
    others.data[~np.isin(others.indices, hashed)] = 0
    others.eliminate_zeros()
    seed = comp._hashed_tail.seed
    expected = HashingEncoder(n_features=48, seed=seed).fit(others).transform(others)
    assert (Z[:, 16:] != expected).nnz == 0
    np.testing.assert_array_equal(
        Z[:, :16].toarray(), binarized(X)[:, comp.frequent_features_].toarray()
    )
    # A feature never seen in fit has no column: a row of it alone is all zeros.
    unseen = sp.csr_matrix((np.ones(2), [390, 399], [0, 2]), shape=(1, 400))
    assert comp.transform(unseen).nnz == 0
    # Each hashed feature is held by the one column it hashes to.
    names = comp.get_feature_names_out()
    assert list(names[16:18]) == ["hash0", "hash1"] and len(names) == 64
    held = np.concatenate([comp.bucket_features(c) for c in range(16, 64)])
    assert sorted(held) == sorted(f"x{f}" for f in hashed)
    fields = comp.to_fields(X)
    assert fields.values.shape == (3_000, 0) and fields.bag_dim == 64


def test_a_hashed_tail_round_trips_through_the_model_file(tmp_path):
    X, y = _tail_data()
    comp = ChromaticCompressor(budget=64, n_frequent=16, tail="hashed", random_state=0).fit(X, y)
    save_model(comp, tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.tail_ == "hashed" and loaded.get_params() == comp.get_params()
    assert (loaded.transform(X) != comp.transform(X)).nnz == 0
    np.testing.assert_array_equal(loaded.hashed_features_, comp.hashed_features_)


def test_the_hashed_tail_needs_clear_evidence_to_replace_the_buckets():
    from chromatic_learning._pipeline import clearly_lower, hashed_candidates

    rng = np.random.default_rng(0)
    incumbent = rng.exponential(0.5, 20_000)
    assert not clearly_lower(incumbent - 1e-4 + rng.normal(0, 0.05, 20_000), incumbent)
    assert clearly_lower(incumbent - 0.01 + rng.normal(0, 0.05, 20_000), incumbent)
    assert hashed_candidates(4096, 3840) == [1024, 2048]
    assert hashed_candidates(4096, 1024) == []


@pytest.mark.parametrize("tail", ["buckets", "hashed"])
def test_a_fixed_split_takes_the_tail_it_is_given(tail):
    X, y = _tail_data()
    comp = ChromaticCompressor(budget=32, n_frequent=8, tail=tail, random_state=0).fit(X, y)
    assert comp.tail_ == tail and comp.selection_scores_ is None
    auto = ChromaticCompressor(budget=32, n_frequent=8, random_state=0).fit(X, y)
    assert auto.tail_ == "buckets"
    scored = ChromaticCompressor(budget=32, tail=tail, random_state=0).fit(X, y)
    assert {t for _, t in scored.selection_scores_} == {tail}


@pytest.mark.slow
def test_on_movielens_at_4096_columns_the_hashed_tail_is_no_worse_than_hashing():
    from chromatic_learning._compare import logistic, row_log_loss

    X, y, _ = load_dataset("movielens")
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    comp = ChromaticCompressor(budget=4096, random_state=0)
    Z = comp.fit_transform(X_train, y_train)
    # The buckets' best keeps 15/16 of the budget apart, and a hashed tail after a quarter wins.
    assert comp.tail_ == "hashed" and comp.n_frequent_ == 1024
    ours = row_log_loss(y_test, logistic(Z, y_train, comp.transform(X_test)))
    hashing = HashingEncoder(n_features=4096).fit(X_train)
    theirs = row_log_loss(
        y_test, logistic(hashing.transform(X_train), y_train, hashing.transform(X_test))
    )
    difference = ours - theirs
    half = 1.96 * difference.std(ddof=1) / np.sqrt(len(difference))
    assert difference.mean() - half < 0, "not worse than hashing beyond noise"


def test_penalty_stops_cutting_noise():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 500, size=(5000, 2)).astype(np.int32)
    y = rng.integers(0, 2, 5000)
    loose = SubmodularCompressor(budget=400, penalty=0.0).fit(codes, y)
    strict = SubmodularCompressor(budget=400, penalty=1.0).fit(codes, y)
    assert strict.n_features_out_ < loose.n_features_out_ / 4


@pytest.mark.parametrize("seed", range(6))
def test_auto_split_on_rows_too_few_for_any_bucket(seed):
    # On 200 rows, a split keeping nothing apart can leave no column at all: that candidate
    # predicts the base rate instead of failing the fit.
    rng = np.random.default_rng(seed)
    X = sp.random(200, 12, density=0.2, format="csr", random_state=rng)
    X.data[:] = 1
    y = (rng.random(200) < 0.3).astype(np.int64)
    compressor = ChromaticCompressor(budget=8).fit(X, y)
    assert compressor.n_features_out_ <= 8
    assert compressor.transform(X).shape == (200, compressor.n_features_out_)
    assert compressor.selection_scores_ is None or (0, "buckets") in compressor.selection_scores_


def test_presence_of_clean_and_messy_matrices():
    from chromatic_learning._input import presence_csr

    rng = np.random.default_rng(0)
    clean = sp.random(300, 50, density=0.1, format="csr", random_state=0, dtype=np.float32)
    clean.data[:] = 1.0
    # Unsorted indices, a duplicate, an explicit zero and empty rows, first and last.
    messy = sp.csr_matrix(
        (
            np.array([2.0, 5.0, 0.0, 1.0, 3.0, 3.0]),
            np.array([4, 1, 2, 0, 3, 3]),
            np.array([0, 0, 3, 3, 6, 6]),
        ),
        shape=(5, 6),
    )
    for X in (clean, messy, clean[:0], sp.csr_matrix((3, 4))):
        before = [a.copy() for a in (X.data, X.indices, X.indptr)]
        B = presence_csr(X)
        # The input is left as it was (scipy's own operations below may sort it in place).
        for a, b in zip(before, (X.data, X.indices, X.indptr), strict=True):
            np.testing.assert_array_equal(a, b)
        expected = sp.csr_matrix((X.toarray() != 0).astype(np.float64))
        np.testing.assert_array_equal(B.indptr, expected.indptr)
        np.testing.assert_array_equal(B.indices, expected.indices)
        assert (B.data == 1.0).all() and B.has_canonical_format
    # A clean matrix whose arrays may not be written: fit and transform read it as it is.
    for a in (clean.data, clean.indices, clean.indptr):
        a.flags.writeable = False
    y = rng.integers(0, 2, clean.shape[0])
    frequency = FrequencyEncoder(n_features=8).fit(clean)
    np.testing.assert_array_equal(
        frequency.transform(clean).toarray(), frequency.transform(clean.copy()).toarray()
    )
    comp = ChromaticCompressor(budget=16, random_state=0).fit(clean, y)
    writable = clean.copy()
    writable.data = writable.data.copy()
    np.testing.assert_array_equal(
        comp.transform(clean).toarray(),
        ChromaticCompressor(budget=16, random_state=0)
        .fit(writable, y)
        .transform(writable)
        .toarray(),
    )
