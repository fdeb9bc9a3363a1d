"""Tables in: every column kind as features, the same ids from pandas, polars and Arrow."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")

from chromatic_learning._columns import TableFeatures, arrow_table  # noqa: E402


def clicks(n_rows=2_000, seed=0):
    """A small click log: string, integer, boolean, float and token-list columns."""
    rng = np.random.default_rng(seed)
    user = rng.integers(0, 300, n_rows)
    frame = pd.DataFrame(
        {
            "user_id": [f"u{u}" for u in user],
            "ad_id": rng.integers(0, 50, n_rows),
            "site": rng.choice(["a.com", "b.org", "c.net"], n_rows),
            "mobile": rng.random(n_rows) < 0.4,
            "price": np.round(rng.gamma(2.0, 3.0, n_rows), 2),
        }
    )
    frame.loc[rng.random(n_rows) < 0.05, "site"] = None
    frame.loc[rng.random(n_rows) < 0.05, "price"] = np.nan
    return frame


def features_of(rows, names):
    """Each row's features by name, for comparisons that do not depend on ids."""
    bounds = zip(rows.indptr[:-1], rows.indptr[1:], strict=True)
    return [sorted(names[rows.indices[a:b]]) for a, b in bounds]


def test_every_value_of_a_categorical_column_is_a_feature():
    frame = clicks()
    features = TableFeatures()
    rows = features.fit_transform(arrow_table(frame))
    names = features.feature_names()
    # 300 users, 50 ads, 3 sites, 2 booleans, and the bins of the price.
    expected = (
        frame.user_id.nunique() + frame.ad_id.nunique() + 3 + 2 + len(features.fitted[4].edges) + 1
    )
    assert features.n_features == expected == rows.shape[1]
    assert rows.shape[0] == len(frame)
    first = features_of(rows, names)[0]
    row = frame.iloc[0]
    assert f"user_id={row.user_id}" in first and f"ad_id={row.ad_id}" in first
    assert f"mobile={row.mobile}" in first
    # A null is no feature: rows without a site or a price have fewer features.
    n_missing = frame.site.isna().to_numpy().astype(int) + frame.price.isna().to_numpy().astype(int)
    np.testing.assert_array_equal(np.diff(rows.indptr), 5 - n_missing)


def test_numeric_bins_are_quantiles_named_by_their_range():
    frame = pd.DataFrame({"price": np.arange(1000, dtype=float)})
    features = TableFeatures(n_bins=4)
    rows = features.fit_transform(arrow_table(frame))
    np.testing.assert_allclose(features.fitted[0].edges, [249.75, 499.5, 749.25])
    names = list(features.feature_names())
    assert names[0] == "price=[-inf, 249.75)" and "price=[749.25, inf)" in names
    assert np.bincount(rows.indices).tolist() == [250, 250, 250, 250]
    # An integer column is categorical unless named numeric; a float one can be categorical.
    ints = pd.DataFrame({"n": np.arange(10) % 3, "x": [0.5, 1.5] * 5})
    assert TableFeatures(numeric=["n"], n_bins=2).fit_transform(arrow_table(ints)).shape[1] == 4
    categorical = TableFeatures(numeric="none")
    categorical.fit_transform(arrow_table(ints))
    assert sorted(categorical.feature_names()) == ["n=0", "n=1", "n=2", "x=0.5", "x=1.5"]


def test_same_ids_from_pandas_polars_arrow_and_a_dictionary_encoding():
    pl = pytest.importorskip("polars")
    frame = clicks(500)
    from_pandas = TableFeatures().fit_transform(arrow_table(frame))
    from_polars = TableFeatures().fit_transform(arrow_table(pl.from_pandas(frame)))
    assert (from_pandas != from_polars).nnz == 0
    table = arrow_table(frame)
    as_category = frame.assign(site=frame.site.astype("category"))
    encoded = TableFeatures().fit_transform(arrow_table(as_category))
    assert (encoded != from_pandas).nnz == 0
    batch = table.to_batches()[0]
    assert (TableFeatures().fit_transform(arrow_table(batch)) != from_pandas).nnz == 0


def test_list_columns_are_multi_hot_with_duplicates_counted_once():
    table = pa.table(
        {
            "tags": pa.array([["a", "b", "a"], [], None, ["c"]], type=pa.list_(pa.string())),
            "ids": pa.array([[1, 2], [2], [3, 3], None], type=pa.large_list(pa.int64())),
        }
    )
    features = TableFeatures()
    rows = features.fit_transform(table)
    names = features.feature_names()
    assert features_of(rows, names) == [
        ["ids=1", "ids=2", "tags=a", "tags=b"],
        ["ids=2"],
        ["ids=3"],
        ["tags=c"],
    ]


def test_unseen_and_rare_values_are_counted_not_errors():
    train = pa.table({"c": ["x", "x", "y", "z", "z", "z"]})
    features = TableFeatures(min_frequency=2)
    rows = features.fit_transform(train)
    assert list(features.feature_names()) == ["c=x", "c=z"]
    assert np.diff(rows.indptr).tolist() == [1, 1, 0, 1, 1, 1]
    encoded, unseen = features.transform(pa.table({"c": ["y", "w", "z", None], "other": [1] * 4}))
    assert unseen == 2 and np.diff(encoded.indptr).tolist() == [0, 0, 1, 0]


def test_columns_chosen_ignored_and_checked():
    table = pa.table({"a": ["1", "2"], "b": [1, 2], "label": [0, 1]})
    features = TableFeatures(ignore=["label"])
    features.fit_transform(table)
    assert features.input_columns == ["a", "b"]
    assert TableFeatures(columns=["b"]).fit_transform(table).shape == (2, 2)
    with pytest.raises(ValueError, match=r"no column 'c' in the table; its columns are"):
        TableFeatures(columns=["c"]).fit_transform(table)
    with pytest.raises(ValueError, match="lacks the columns \\['b'\\]"):
        features.transform(pa.table({"a": ["1"]}))
    with pytest.raises(ValueError, match="column 'b' holds string values, but held integer"):
        features.transform(pa.table({"a": ["1"], "b": ["1"]}))
    with pytest.raises(ValueError, match="lists of lists"):
        TableFeatures().fit_transform(pa.table({"n": [[[1]]]}))
    with pytest.raises(ValueError, match="cannot be cut into bins"):
        TableFeatures(numeric=["a"]).fit_transform(table)


def test_matrices_are_not_tables():
    import scipy.sparse as sp

    assert arrow_table(np.zeros((2, 2))) is None and arrow_table(sp.eye(2)) is None
    assert arrow_table(pd.Series([1, 2])) is None


def test_dates_and_timestamps_are_categorical_values_named_as_text():
    import datetime

    day = datetime.date(2008, 1, 3)
    table = pa.table(
        {
            "date": pa.array([day, day, None, datetime.date(2008, 1, 4)], pa.date32()),
            "at": pa.array([0, 60, 60, None], pa.timestamp("s")),
        }
    )
    features = TableFeatures()
    rows = features.fit_transform(table)
    names = list(features.feature_names())
    assert "date=2008-01-03" in names and "at=1970-01-01 00:01:00" in names
    assert np.diff(rows.indptr).tolist() == [2, 2, 1, 1]
    other_unit = table.set_column(1, "at", table.column("at").cast(pa.timestamp("ms")))
    with pytest.raises(ValueError, match=r"column 'at' holds temporal \(timestamp\[ms\]\)"):
        features.transform(other_unit)


def test_table_encoder_in_a_pipeline_keeps_every_id():
    import pickle

    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from chromatic_learning import ChromaticCompressor, ChromaticEncoder, TableEncoder

    # The example of a matrix collapsing ids: up to 300 users, 50 ads and 3 sites keep a
    # feature each when read as a table.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(0, 300, 2_000),
            "ad_id": rng.integers(0, 50, 2_000),
            "site": rng.integers(0, 3, 2_000),
        }
    )
    encoder = TableEncoder().fit(frame)
    assert encoder.n_features_out_ == frame.nunique().sum() > 350
    assert encoder.n_features_in_ == 3
    assert encoder.feature_names_in_.tolist() == ["user_id", "ad_id", "site"]
    codes = make_pipeline(TableEncoder(), ChromaticEncoder(dense_threshold=None)).fit_transform(
        frame
    )
    assert len(np.unique(codes, axis=0)) == len(frame.drop_duplicates())
    y = ((frame.user_id % 7 == 0) | (frame.ad_id < 5)).to_numpy().astype(int)
    model = make_pipeline(
        TableEncoder(), ChromaticCompressor(budget=64, n_frequent=16), LogisticRegression()
    ).fit(frame, y)
    assert model.score(frame, y) > 0.9
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(frame), model.predict_proba(frame))
    assert clone(encoder).get_params() == encoder.get_params()
    unseen = frame.assign(user_id=frame.user_id + 1_000)
    encoder.transform(unseen)
    assert encoder.unseen_ == len(frame)


def test_table_encoder_refuses_what_is_not_a_table():
    from chromatic_learning import TableEncoder

    with pytest.raises(TypeError, match=r"reads tables .* not ndarray"):
        TableEncoder().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="n_bins"):
        TableEncoder(n_bins=1).fit(pa.table({"x": [1.0]}))


def test_features_unpickle_from_unaligned_buffers():
    features = TableFeatures()
    rows = arrow_table(clicks(200))
    features.fit_transform(rows)
    buffers = []
    data = pickle.dumps(features, protocol=5, buffer_callback=buffers.append)
    # Each out-of-band buffer one byte into a larger one, as in a message of another process.
    shifted = []
    for buffer in buffers:
        raw = bytes(buffer.raw())
        holder = bytearray(len(raw) + 1)
        holder[1:] = raw
        shifted.append(memoryview(holder)[1:])
    copied = pickle.loads(data, buffers=shifted)
    for a, b in zip(copied.vocabulary.to_arrays(), features.vocabulary.to_arrays(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert (copied.transform(rows)[0] != features.transform(rows)[0]).nnz == 0


@pytest.mark.parametrize("start", [0, 1, 3, 8, 13])
def test_slices_with_nulls_read_as_the_same_rows(start):
    # Arrow slices share their parent's buffers at an offset: the validity bitmap and the data
    # of integers are read from there, bit by bit and value by value.
    table = pa.table(
        {
            "ad_id": pa.array([7, None, 9, 7, None, 11, 9, None] * 5, type=pa.int64()),
            "small": pa.array([1, None, 2, 3, 1, None, 2, 3] * 5, type=pa.int8()),
            "site": pa.array(["a", None, "b", "a", "c", None, "b", "c"] * 5),
            "none": pa.nulls(40),
        }
    )
    features = TableFeatures()
    whole = features.fit_transform(table)
    part = table.slice(start, 20)
    assert part.column("ad_id").chunk(0).offset == start
    rows, unseen = features.transform(part)
    assert unseen == 0
    assert (rows != whole[start : start + 20]).nnz == 0
    null_rows = np.flatnonzero(part.column("ad_id").is_null().to_numpy(zero_copy_only=False))
    names = features.feature_names()
    for row in null_rows:
        assert not any(name.startswith("ad_id=") for name in names[rows[[row]].indices])
