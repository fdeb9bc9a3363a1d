"""Estimators fitted on tables: pandas, polars and Arrow alike, in pipelines and searches."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from chromatic_learning import (  # noqa: E402
    ChromaticCompressor,
    ChromaticEncoder,
    FrequencyEncoder,
    HashingEncoder,
    TableEncoder,
)


def clicks(n_rows=3_000, seed=0):
    """A click log: user and ad ids, a site, a list of tags, a price; clicks from the ids."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, 400, n_rows)
    ads = rng.integers(0, 60, n_rows)
    tags = [[f"t{t}" for t in rng.choice(12, rng.integers(0, 3), replace=False)] for _ in users]
    frame = pd.DataFrame(
        {
            "user_id": users,
            "ad_id": ads,
            "site": rng.choice(["a.com", "b.org", "c.net", None], n_rows),
            "tags": tags,
            "price": np.round(rng.gamma(2.0, 3.0, n_rows), 2),
        }
    )
    logit = np.where(ads % 3 == 0, 1.5, -1.0) + np.where(users % 5 == 0, 1.0, 0.0)
    y = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame, y


def test_pandas_polars_and_arrow_give_the_same_model_and_codes():
    pl = pytest.importorskip("polars")
    frame, y = clicks()
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    inputs = {"pandas": frame, "arrow": arrow, "polars": pl.from_arrow(arrow)}
    codes = {
        name: ChromaticEncoder(random_state=0).fit(table).transform(table)
        for name, table in inputs.items()
    }
    np.testing.assert_array_equal(codes["pandas"], codes["arrow"])
    np.testing.assert_array_equal(codes["pandas"], codes["polars"])
    compressed = {
        name: ChromaticCompressor(budget=64, n_frequent=16, random_state=0)
        .fit(table, y)
        .transform(table)
        for name, table in inputs.items()
    }
    assert (compressed["pandas"] != compressed["arrow"]).nnz == 0
    assert (compressed["pandas"] != compressed["polars"]).nnz == 0


def test_a_table_keeps_every_id_and_decodes_back_to_its_features():
    frame, _ = clicks()
    encoder = ChromaticEncoder(dense_threshold=None).fit(frame)
    assert encoder.n_features_in_ == 5
    assert list(encoder.feature_names_in_) == list(frame.columns)
    features = TableEncoder().fit_transform(frame)
    assert len(encoder.colors_) == features.shape[1]
    # The coloring is lossless on its training rows: decoding gives the table's features back.
    decoded = encoder.inverse_transform(encoder.transform(frame))
    assert (decoded != features).nnz == 0
    onehot = ChromaticEncoder(output="onehot", dense_threshold=None).fit(frame)
    names = onehot.get_feature_names_out()
    assert set(names) == set(TableEncoder().fit(frame).get_feature_names_out())
    assert {"site=a.com", "tags=t3", "user_id=0"} <= set(names)


def test_colors_are_named_by_the_columns_they_draw_from():
    frame, _ = clicks()
    encoder = ChromaticEncoder(dense_threshold=None).fit(frame)
    names = encoder.get_feature_names_out()
    columns_of_color = [set(name.split("[")[1].rstrip("]").split(",")) for name in names]
    features = TableEncoder().fit(frame).get_feature_names_out()
    for color, columns in enumerate(columns_of_color):
        held = {str(features[f]).split("=")[0] for f in np.flatnonzero(encoder.colors_ == color)}
        assert held == columns


def test_baselines_read_tables_by_their_features():
    frame, _ = clicks()
    frequency = FrequencyEncoder(n_features=8).fit(frame)
    names = frequency.get_feature_names_out()
    assert names[-1] == "other" and all("=" in name for name in names[:-1])
    Z = frequency.transform(frame)
    # Every feature lands somewhere: the row sums count the features of each row.
    np.testing.assert_array_equal(Z.sum(axis=1).A1, TableEncoder().fit_transform(frame).sum(axis=1))
    hashed = HashingEncoder(n_features=32, alternate_sign=False).fit(frame).transform(frame)
    assert hashed.shape == (len(frame), 32)
    np.testing.assert_array_equal(hashed.sum(axis=1).A1, Z.sum(axis=1).A1)


def test_the_hashing_trick_hashes_values_fit_never_saw():
    frame, _ = clicks()
    encoder = HashingEncoder(n_features=64, alternate_sign=False).fit(frame[:1000])
    # Users and ads of the other rows, many never seen in fit, each still land in a column.
    new = frame[1000:].copy()
    new["user_id"] += 10_000
    hashed = encoder.transform(new)
    scalars = new[["user_id", "ad_id", "site", "price"]].notna().sum(axis=1).to_numpy()
    present = scalars + new["tags"].map(len).to_numpy()
    np.testing.assert_array_equal(hashed.sum(axis=1).A1, present)
    # A value's column depends on the value alone, not on the rows beside it.
    both = encoder.transform(pd.concat([frame[:1000], new]))
    np.testing.assert_array_equal(both[1000:].toarray(), hashed.toarray())
    assert not np.array_equal(encoder.transform(frame[1000:]).toarray(), hashed.toarray()), (
        "user ids moved by 10,000 must hash elsewhere"
    )
    with pytest.raises(ValueError, match=r"lacks the columns \['site'\]"):
        encoder.transform(new.drop(columns="site"))


def test_the_table_parameter_chooses_the_columns_and_is_searched():
    frame, y = clicks()
    frame["click"] = y
    compressor = ChromaticCompressor(
        budget=32, n_frequent=8, random_state=0, table=TableEncoder(ignore=["click"])
    )
    compressor.fit(frame, y)
    assert "click" not in compressor.feature_names_in_
    # The label need not be there at transform.
    Z = compressor.transform(frame.drop(columns="click"))
    assert Z.shape == (len(frame), compressor.n_features_out_)
    missing = frame.drop(columns=["click", "ad_id"])
    with pytest.raises(ValueError, match=r"lacks the columns \['ad_id'\]"):
        compressor.transform(missing)
    pipeline = make_pipeline(
        ChromaticCompressor(budget=32, n_frequent=8, random_state=0, table=TableEncoder()),
        LogisticRegression(max_iter=500),
    )
    search = GridSearchCV(
        pipeline, {"chromaticcompressor__table__min_frequency": [1, 5]}, cv=2
    ).fit(frame.drop(columns="click"), y)
    assert search.best_params_["chromaticcompressor__table__min_frequency"] in (1, 5)


def test_table_models_pickle_and_refit_on_a_matrix_forgets_the_table():
    frame, y = clicks()
    compressor = ChromaticCompressor(budget=32, n_frequent=8, random_state=0).fit(frame, y)
    copy = pickle.loads(pickle.dumps(compressor))
    assert (copy.transform(frame) != compressor.transform(frame)).nnz == 0
    encoder = ChromaticEncoder().fit(frame)
    assert hasattr(encoder, "table_encoder_")
    encoder.fit(sp.random(50, 7, density=0.2, format="csr", random_state=0))
    assert not hasattr(encoder, "table_encoder_") and not hasattr(encoder, "feature_names_in_")
    assert encoder.n_features_in_ == 7


def test_pandas_output_of_a_table():
    frame, _ = clicks()
    encoder = ChromaticEncoder(random_state=0).set_output(transform="pandas")
    out = encoder.fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(encoder.get_feature_names_out())


def test_buckets_are_named_by_their_columns_and_list_their_features():
    frame, y = clicks()
    compressor = ChromaticCompressor(budget=48, n_frequent=8, random_state=0).fit(frame, y)
    names = compressor.get_feature_names_out()
    features = TableEncoder().fit(frame).get_feature_names_out()
    document_frequency = np.asarray(TableEncoder().fit_transform(frame).sum(axis=0)).ravel()
    rank = {name: document_frequency[i] for i, name in enumerate(features)}
    held_anywhere = []
    for column, name in enumerate(names):
        held = compressor.bucket_features(column)
        assert len(held) >= 1
        held_anywhere.extend(held)
        if column < compressor.n_frequent_:
            assert list(held) == [name]
            continue
        # A bucket's name lists the columns of its color; it holds features of those only.
        columns = name.split("[")[1].split("]")[0].split(",")
        assert {feature.split("=")[0] for feature in held} <= set(columns)
        counts = [rank[feature] for feature in held]
        assert counts == sorted(counts, reverse=True)
    # No feature sits in two output columns.
    assert len(held_anywhere) == len(set(held_anywhere))
    with pytest.raises(ValueError, match=r"column must be in \[0, "):
        compressor.bucket_features(len(names))
