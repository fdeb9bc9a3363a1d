"""Tables on a local Dask cluster of worker processes: the partitions of a dask DataFrame, or the
row groups of Parquet files, give the model of the whole table fitted on one machine."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
dd = pytest.importorskip("dask.dataframe")

import dask  # noqa: E402
import dask.array as da  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import chromatic_learning.dask as cd  # noqa: E402
from chromatic_learning import ChromaticCompressor, ChromaticEncoder, TableEncoder  # noqa: E402
from chromatic_learning.streaming import TableReading, fit_files  # noqa: E402

#: Rows of a partition of ``clicks``.
PART = 420

#: The prices of every partition (20 of them missing). Their runs put the quartiles of a
#: partition and of any number of partitions on the same values, so with ``n_bins=4`` the bin
#: edges learned on the first partition are those of the whole table.
PRICES = np.repeat([0.5, 1.25, 2.0, 4.0, 9.99, np.nan], [60, 70, 50, 100, 120, 20])

#: Bins of four: the in-memory fit learns the edges of the whole table, the cluster those of its
#: first partition (the same here, by the choice of ``PRICES``).
TABLE = TableEncoder(n_bins=4)


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def clicks(n_parts: int = 3, seed: int = 0) -> pd.DataFrame:
    """A click table: string and integer ids, a site, a price, a list of tags, and nulls."""
    rng = np.random.default_rng(seed)
    n = n_parts * PART
    users = np.char.add("u", (rng.zipf(1.4, n) % 400).astype(str)).astype(object)
    users[rng.random(n) < 0.1] = None
    ads = pd.array(rng.integers(0, 60, n), dtype="Int64")
    ads[rng.random(n) < 0.1] = pd.NA
    tags = [
        None if rng.random() < 0.05 else [f"t{k}" for k in rng.integers(0, 12, rng.integers(0, 4))]
        for _ in range(n)
    ]
    frame = pd.DataFrame(
        {
            "user": pd.array(users, dtype="string"),
            "ad": ads,
            "site": pd.Categorical(rng.choice(["a.com", "b.org", "c.net", "d.io"], n)),
            "price": np.concatenate([rng.permutation(PRICES) for _ in range(n_parts)]),
            "tags": pd.Series(tags, dtype=pd.ArrowDtype(pa.list_(pa.string()))),
        }
    )
    logit = np.where(frame["site"] == "a.com", 1.0, -1.0) + 0.1 * frame["price"].fillna(0)
    frame["click"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return frame


def features(frame):
    return frame.drop(columns="click")


def as_dask(parts) -> dd.DataFrame:
    """A dask DataFrame of the pandas DataFrames ``parts``, kept as they are."""
    delayed = [dask.delayed(part) for part in parts]
    return dd.from_delayed(delayed, meta=parts[0].iloc[:0], verify_meta=False)


def cut(frame, cuts) -> list:
    """The row ranges of ``frame`` between ``cuts``."""
    return [frame.iloc[a:b] for a, b in itertools.pairwise(cuts)]


def write_files(frame, directory, groups) -> list[str]:
    """One Parquet file per partition of ``PART`` rows, file ``i`` in ``groups[i]`` row groups."""
    paths = []
    for i, n_groups in enumerate(groups):
        path = str(directory / f"clicks-{i}.parquet")
        part = pa.Table.from_pandas(frame.iloc[i * PART : (i + 1) * PART], preserve_index=False)
        pq.write_table(part, path, row_group_size=-(-PART // n_groups))
        paths.append(path)
    return paths


def assert_same_model(a, b) -> None:
    """The same table encoder (columns, values, bin edges) and the same colors and codes."""
    assert list(a.feature_names_in_) == list(b.feature_names_in_)
    assert a.n_features_in_ == b.n_features_in_
    names = a.table_encoder_.get_feature_names_out()
    np.testing.assert_array_equal(names, b.table_encoder_.get_feature_names_out())
    fitted = (a.table_encoder_.features_.fitted, b.table_encoder_.features_.fitted)
    for x, y in zip(*fitted, strict=True):
        assert (x.name, x.kind, x.is_list) == (y.name, y.kind, y.is_list)
        if x.edges is not None:
            np.testing.assert_array_equal(x.edges, y.edges)
    encoder_a = getattr(a, "encoder_", a)
    encoder_b = getattr(b, "encoder_", b)
    np.testing.assert_array_equal(encoder_a.colors_, encoder_b.colors_)
    np.testing.assert_array_equal(encoder_a.codes_, encoder_b.codes_)
    np.testing.assert_array_equal(encoder_a.document_frequency_, encoder_b.document_frequency_)


def price_edges(model) -> list:
    encoder = getattr(model, "table_encoder_", model)
    return next(c for c in encoder.features_.fitted if c.name == "price").edges.tolist()


def test_the_first_partition_has_the_price_edges_of_the_whole_table():
    frame = features(clicks())
    assert price_edges(TABLE.fit(frame)) == [1.25, 4.0, 9.99]
    assert price_edges(TABLE.fit(frame.iloc[:PART])) == [1.25, 4.0, 9.99]


def test_a_dask_dataframe_gives_the_model_of_the_whole_table(client):
    frame = clicks()
    data = dd.from_pandas(frame, npartitions=3, sort=False)
    assert data.npartitions == 3
    expected = ChromaticEncoder(random_state=2, table=TABLE).fit(features(frame))
    encoder = cd.fit(data, label="click", random_state=2, table=TABLE)
    assert type(encoder) is ChromaticEncoder
    assert list(encoder.feature_names_in_) == ["user", "ad", "site", "price", "tags"]
    assert_same_model(encoder, expected)
    codes = cd.transform(encoder, data)
    assert isinstance(codes, da.Array)
    np.testing.assert_array_equal(codes.compute(), expected.transform(features(frame)))


@pytest.mark.parametrize(
    "cuts",
    [[0, 1260], [0, 1, 1, 700, 1260], [0, 300, 600, 900, 1100, 1260]],
    ids=["one", "tiny-and-empty", "five"],
)
def test_the_ids_do_not_depend_on_the_partitioning(client, cuts):
    # Floats read as values: no bin edges, so any first partition gives the whole table's model.
    frame = clicks()
    table = TableEncoder(numeric="none", min_frequency=2)
    expected = ChromaticEncoder(random_state=5, table=table).fit(features(frame))
    encoder = cd.fit(as_dask(cut(frame, cuts)), label="click", random_state=5, table=table)
    assert_same_model(encoder, expected)
    assert (
        encoder.table_encoder_.n_features_out_
        < TableEncoder(numeric="none").fit(features(frame)).n_features_out_
    )


def test_parquet_files_give_the_model_of_the_streamed_fit(client, tmp_path):
    frame = clicks()
    paths = write_files(frame, tmp_path, groups=[1, 2, 1])
    streamed = ChromaticEncoder(random_state=2, table=TABLE)
    fit_files(streamed, paths, tables=TableReading(label="click"))
    in_memory = ChromaticEncoder(random_state=2, table=TABLE).fit(features(frame))
    encoder = cd.fit(paths, label="click", random_state=2, table=TABLE)
    assert_same_model(encoder, streamed)
    assert_same_model(encoder, in_memory)
    # The label column is there, and ignored: the model reads the columns it was fitted on.
    codes = cd.transform(encoder, paths)
    assert codes.numblocks[0] == 4
    np.testing.assert_array_equal(codes.compute(), in_memory.transform(features(frame)))


def test_numeric_edges_come_from_the_first_partition(client, tmp_path):
    frame = clicks()
    frame["price"] = np.random.default_rng(4).gamma(1.0 + np.arange(len(frame)) / 400, 2.0)
    paths = write_files(frame, tmp_path, groups=[1, 1, 1])
    streamed = ChromaticEncoder(random_state=1)
    fit_files(streamed, paths, tables=TableReading(label="click"))
    encoder = cd.fit(paths, label="click", random_state=1)
    assert_same_model(encoder, streamed)
    first = TableEncoder().fit(features(frame).iloc[:PART])
    assert price_edges(encoder) == price_edges(first) != price_edges(TableEncoder().fit(frame))


def test_the_compressor_takes_the_label_column(client, tmp_path):
    frame = clicks()
    params = {"budget": 24, "n_frequent": 6, "random_state": 3, "table": TABLE}
    expected = ChromaticCompressor(**params).fit(features(frame), frame["click"])
    expected_output = expected.transform(features(frame))
    for data in (
        dd.from_pandas(frame, npartitions=3, sort=False),
        write_files(frame, tmp_path, groups=[2, 1, 1]),
    ):
        compressor = cd.fit_compressor(data, label="click", **params)
        assert type(compressor) is ChromaticCompressor
        np.testing.assert_array_equal(compressor.frequent_features_, expected.frequent_features_)
        assert_same_model(compressor, expected)
        assert compressor.n_features_out_ == expected.n_features_out_
        output = cd.transform(compressor, data).compute()
        assert (output != expected_output).nnz == 0


def test_bad_partitions_are_named(client, tmp_path):
    frame = clicks()
    paths = write_files(frame, tmp_path, groups=[1, 1, 2])
    without_site = frame.iloc[PART : 2 * PART].drop(columns="site")
    pq.write_table(pa.Table.from_pandas(without_site, preserve_index=False), paths[1])
    with pytest.raises(
        ValueError,
        match=r"partition 1 \(.*clicks-1\.parquet: row group 0\): the table lacks the columns "
        r"\['site'\] seen in fit",
    ):
        cd.fit(paths, label="click")
    retyped = frame.iloc[:PART].astype({"ad": "string"})
    pq.write_table(pa.Table.from_pandas(retyped, preserve_index=False), paths[1])
    with pytest.raises(
        ValueError, match=r"partition 1 .*: column 'ad' holds string values, but held integer"
    ):
        cd.fit(paths, label="click")
    data = as_dask([frame.iloc[:PART], frame.iloc[PART:].drop(columns="site")])
    with pytest.raises(ValueError, match=r"^partition 1: the table lacks the columns \['site'\]"):
        cd.fit(data)
    data = as_dask([frame.iloc[:PART], frame.iloc[PART:].drop(columns="click")])
    with pytest.raises(ValueError, match=r"partition 1: no label column 'click'"):
        cd.fit(data, label="click")


def test_what_a_cluster_fit_of_tables_refuses(client, tmp_path):
    frame = clicks(n_parts=1)
    data = dd.from_pandas(frame, npartitions=2, sort=False)
    with pytest.raises(ValueError, match="needs labels: name the table's label column"):
        cd.fit_compressor(data, budget=8)
    with pytest.raises(ValueError, match="not y"):
        cd.fit_compressor(data, frame["click"].to_numpy(), label="click", budget=8)
    with pytest.raises(ValueError, match="label names the label column of tables"):
        cd.fit(da.zeros((4, 4), chunks=(2, 4)), label="click")
    with pytest.raises(FileNotFoundError, match=r"missing\.parquet"):
        cd.fit([tmp_path / "missing.parquet"], label="click")
    encoder = cd.fit(data, label="click")
    with pytest.raises(ValueError, match="fitted on tables; it encodes tables"):
        cd.transform(encoder, da.zeros((4, 4), chunks=(2, 4)))
    rows = da.from_array(sp.csr_matrix(np.eye(4)), chunks=(2, 4), asarray=False)
    with pytest.raises(ValueError, match="fitted on sparse rows"):
        cd.transform(cd.fit(rows), data)
