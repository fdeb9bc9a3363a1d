"""Fits and transforms on a local Dask cluster of worker processes equal the fits on one
machine, whatever the partitioning."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("distributed")

import dask.array as da
from distributed import Client, LocalCluster

import chromatic_learning.dask as cd
from chromatic_learning import ChromaticCompressor, ChromaticEncoder
from chromatic_learning.datasets import load_flights_cut, make_heavy_tailed
from chromatic_learning.streaming import fit_files
from chromatic_learning.svmlight import load_svmlight

from conftest import random_sparse


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def partitioned(X, row_chunks) -> da.Array:
    """``X`` as a dask array of CSR row blocks of the given sizes."""
    return da.from_array(X, chunks=(tuple(row_chunks), (X.shape[1],)), asarray=False)


def assert_same_encoder(a: ChromaticEncoder, b: ChromaticEncoder) -> None:
    np.testing.assert_array_equal(a.colors_, b.colors_)
    np.testing.assert_array_equal(a.codes_, b.codes_)
    np.testing.assert_array_equal(a.document_frequency_, b.document_frequency_)
    assert (a.n_edges_, a.n_features_in_) == (b.n_edges_, b.n_features_in_)


@pytest.mark.parametrize(
    "row_chunks",
    [(4000,), (1000, 1000, 1000, 1000), (1, 0, 2500, 1499), (700,) * 5 + (500,)],
    ids=["one", "even", "uneven-with-empty", "many"],
)
def test_fit_equals_the_in_memory_fit_whatever_the_partitioning(client, row_chunks):
    X = random_sparse(4000, 500, 12, seed=5, zipf=1.1)
    expected = ChromaticEncoder(random_state=2, min_cooccurrence=2).fit(X)
    data = partitioned(X, row_chunks)
    encoder = cd.fit(data, random_state=2, min_cooccurrence=2)
    assert type(encoder) is ChromaticEncoder
    assert_same_encoder(encoder, expected)
    codes = cd.transform(encoder, data)
    assert codes.chunks[0] == data.chunks[0]
    np.testing.assert_array_equal(codes.compute(), expected.transform(X))


def test_pair_counts_are_merged_range_by_range(client, monkeypatch):
    from chromatic_learning import _core, _dask_rows

    # Cut by source vertex, a partition's pair counts are whole again once the ranges are put
    # end to end, and each range is what the range alone counts.
    X = random_sparse(3000, 400, 10, seed=8, zipf=1.1).tocsr()
    vertices = np.arange(400, dtype=np.int64)
    indptr, indices = X.indptr.astype(np.int64), X.indices.astype(np.int64)
    [counts] = _core.count_pairs(indptr, indices, vertices, 400)
    starts = _dask_rows.source_ranges(np.bincount(X.indices, minlength=400), 4)
    assert len(starts) >= 3 and np.all(np.diff(starts.astype(np.int64)) > 0)
    bounds = [0, *starts.tolist(), 400]
    parts = _core.count_pairs(indptr, indices, vertices, 400, bounds=bounds)
    assert len(parts) == len(starts) + 1 and all(len(keys) for keys, _ in parts)
    for (keys, weights), (lo, hi) in zip(parts, itertools.pairwise(bounds), strict=True):
        assert np.all((keys >> np.uint64(32) >= lo) & (keys >> np.uint64(32) < hi))
        [alone] = _core.count_pairs(indptr, indices, vertices, 400, bounds=[lo, hi])
        np.testing.assert_array_equal(alone[0], keys)
        np.testing.assert_array_equal(alone[1], weights)
    for whole, pieces in zip(counts, zip(*parts, strict=True), strict=True):
        np.testing.assert_array_equal(whole, np.concatenate(pieces))
    # Counts of row blocks merge, in one pass, into the counts of all the rows.
    blocks = []
    for block in (X[:1000], X[1000:1000], X[1000:2500], X[2500:]):
        block_indptr, block_indices = block.indptr.astype(np.int64), block.indices.astype(np.int64)
        blocks += _core.count_pairs(block_indptr, block_indices, vertices, 400)
    for whole, merged in zip(counts, _dask_rows.add_pair_counts(blocks), strict=True):
        np.testing.assert_array_equal(whole, merged)
    for bad, message in (([10, 401], "shard"), ([10], "bounds"), ([20, 10, 30], "cuts")):
        with pytest.raises(ValueError, match=message):
            _core.count_pairs(indptr, indices, vertices, 400, bounds=bad)

    # Features are totalled alike over the whole index space and, when it is too wide, sorted.
    rng = np.random.default_rng(0)
    for width in (50, 10**9):
        drawn = rng.integers(0, width, 40)
        weights = rng.random(40)
        features, counts, totals = _dask_rows.feature_totals(drawn, weights, width)
        np.testing.assert_array_equal(features, np.unique(drawn))
        np.testing.assert_array_equal(counts, [np.sum(drawn == f) for f in features])
        np.testing.assert_allclose(totals, [weights[drawn == f].sum() for f in features])

    # The ranges hold at most a share of the bounds, and at most max_pairs; a vertex heavier
    # than that is a range of its own.
    np.testing.assert_array_equal(_dask_rows.source_ranges(np.array([10, 0, 0, 10]), 2), [3])
    assert len(_dask_rows.source_ranges(np.array([5, 5]), 1)) == 0
    assert len(_dask_rows.source_ranges(np.array([0, 0, 0]), 3)) == 0
    np.testing.assert_array_equal(_dask_rows.source_ranges(np.array([30, 1, 1]), 2), [1])
    np.testing.assert_array_equal(_dask_rows.source_ranges(np.array([1, 1, 30]), 3), [2])
    np.testing.assert_array_equal(_dask_rows.source_ranges(np.array([5] * 6), 1, 10), [2, 4])
    np.testing.assert_array_equal(_dask_rows.source_ranges(np.array([5, 30, 5]), 1, 10), [1, 2])
    # A partition within the task's pairs is counted whole, a larger one a group at a time.
    range_pairs = np.array([4, 4, 4, 9, 1])
    assert _dask_rows.source_groups(range_pairs, 10, None) == [(0, 5)]
    assert _dask_rows.source_groups(range_pairs, 10, 10) == [(0, 5)]
    assert _dask_rows.source_groups(range_pairs, 11, 10) == [(0, 2), (2, 3), (3, 5)]

    # A fit of six partitions merges six ranges or more, and equals the fit on one machine.
    planned, plan = [], _dask_rows.source_ranges

    def recorded(*args):
        planned.append(plan(*args))
        return planned[-1]

    monkeypatch.setattr(_dask_rows, "source_ranges", recorded)
    encoder = cd.fit(partitioned(X, (500,) * 6), random_state=2, min_cooccurrence=2)
    assert len(planned) == 1 and len(planned[0]) + 1 >= 6
    assert_same_encoder(encoder, ChromaticEncoder(random_state=2, min_cooccurrence=2).fit(X))


def test_workers_memory_limits_the_pairs_of_a_task(client, monkeypatch):
    from chromatic_learning import _dask_rows

    # The test cluster's workers have their share of the machine's memory.
    limit = min(w["memory_limit"] for w in client.scheduler_info()["workers"].values())
    expected = int(limit / _dask_rows.TASK_SHARE / _dask_rows.BYTES_PER_TASK_PAIR)
    assert _dask_rows.task_pairs() == expected
    # With room for a tenth of the pairs, every partition is counted in groups of ranges,
    # each within the room, and the fit is that of one machine.
    X = make_heavy_tailed(2000, 5000, longest=300, random_state=3)
    lengths = np.diff(X.indptr)
    max_pairs = int((lengths * (lengths - 1) // 2).sum()) // 10
    monkeypatch.setattr(_dask_rows, "task_pairs", lambda: max_pairs)
    groups, plan = [], _dask_rows.source_groups

    def recorded(range_pairs, partition_pairs, max_pairs):
        groups.append((range_pairs, plan(range_pairs, partition_pairs, max_pairs)))
        return groups[-1][1]

    monkeypatch.setattr(_dask_rows, "source_groups", recorded)
    encoder = cd.fit(partitioned(sp.csr_matrix(X), (1000, 1000)), random_state=1)
    assert_same_encoder(encoder, ChromaticEncoder(random_state=1).fit(X))
    assert len(groups) == 2 and all(len(planned) > 1 for _, planned in groups)
    for range_pairs, planned in groups:
        assert all(range_pairs[a:b].sum() <= max_pairs or b == a + 1 for a, b in planned)


def test_heavy_tailed_rows_fit_as_on_one_machine(client):
    # A few rows of hundreds of features bring most of the pairs, as in package contents.
    X = make_heavy_tailed(3000, 20_000, longest=600, random_state=0)
    lengths = np.diff(X.indptr)
    assert lengths.max() > 300 and np.median(lengths) < 20
    assert (lengths * (lengths - 1) // 2)[lengths >= 100].sum() > 0.5 * (lengths**2 // 2).sum()
    encoder = cd.fit(partitioned(sp.csr_matrix(X), (500,) * 6), random_state=1)
    assert_same_encoder(encoder, ChromaticEncoder(random_state=1).fit(X))


def test_a_real_dataset_and_one_hot_output(client):
    X, _ = load_flights_cut()
    X = X[:60_000]
    expected = ChromaticEncoder(output="onehot", n_colors=40, random_state=0).fit(X)
    data = partitioned(X, (25_000, 20_000, 15_000))
    encoder = cd.fit(data, output="onehot", n_colors=40, random_state=0)
    assert_same_encoder(encoder, expected)
    onehot = cd.transform(encoder, data).compute()
    assert sp.issparse(onehot)
    assert (onehot != expected.transform(X)).nnz == 0


def test_compressor_statistics_scale_out(client):
    X, y = load_flights_cut()
    X, y = X[:60_000], y[:60_000]
    params = {"budget": 256, "n_frequent": 32, "random_state": 4}
    expected = ChromaticCompressor(**params).fit(X, y)
    data = partitioned(X, (20_000, 0, 40_000))
    compressor = cd.fit_compressor(data, da.from_array(y, chunks=30_000), **params)
    assert type(compressor) is ChromaticCompressor
    assert compressor.n_features_out_ == expected.n_features_out_ > 32
    np.testing.assert_array_equal(compressor.frequent_features_, expected.frequent_features_)
    assert_same_encoder(compressor.encoder_, expected.encoder_)
    output = cd.transform(compressor, data).compute()
    assert (output != expected.transform(X)).nnz == 0
    # The automatic split runs on a sample gathered from every partition.
    auto = cd.fit_compressor(data, y, budget=64, random_state=4, selection_rows=5000)
    assert {k for k, _ in auto.selection_scores_} == {0, 16, 32, 48, 60, 64}
    assert (auto.n_frequent_, auto.tail_ or "buckets") in auto.selection_scores_


def test_a_hashed_tail_scales_out(client):
    X, y = load_flights_cut()
    X, y = X[:30_000], y[:30_000]
    params = {"budget": 128, "n_frequent": 16, "tail": "hashed", "random_state": 4}
    expected = ChromaticCompressor(**params).fit(X, y)
    data = partitioned(X, (10_000, 20_000))
    compressor = cd.fit_compressor(data, da.from_array(y, chunks=15_000), **params)
    assert compressor.tail_ == "hashed" and compressor.encoder_ is None
    np.testing.assert_array_equal(compressor.hashed_features_, expected.hashed_features_)
    assert (cd.transform(compressor, data).compute() != expected.transform(X)).nnz == 0


def write_parts(tmp_path, X, y, cuts) -> list:
    """Row ranges of ``X`` as 1-based svmlight files."""
    paths = []
    for i, (start, stop) in enumerate(itertools.pairwise(cuts)):
        path = tmp_path / f"part{i}.svm"
        lines = []
        for r in range(start, stop):
            row = X.indices[X.indptr[r] : X.indptr[r + 1]]
            lines.append(" ".join([str(int(y[r]))] + [f"{j + 1}:1" for j in sorted(row)]))
        path.write_text("".join(line + "\n" for line in lines))
        paths.append(path)
    return paths


def test_svmlight_files_are_partitions(client, tmp_path):
    X = random_sparse(3000, 300, 10, seed=8, zipf=1.2)
    y = np.random.default_rng(1).integers(0, 2, 3000)
    paths = write_parts(tmp_path, X, y, [0, 1200, 1200, 3000])
    expected = ChromaticEncoder(random_state=1)
    report = fit_files(expected, paths)
    encoder = cd.fit(paths, random_state=1)
    assert_same_encoder(encoder, expected)
    codes = cd.transform(encoder, paths, zero_based=report.zero_based).compute()
    np.testing.assert_array_equal(codes, expected.transform(load_svmlight(paths).X))
    compressor = cd.fit_compressor(paths, budget=32, n_frequent=8, random_state=1)
    in_memory = ChromaticCompressor(budget=32, n_frequent=8, random_state=1).fit(
        load_svmlight(paths).X, y
    )
    assert (
        cd.transform(compressor, paths, zero_based=False).compute()
        != in_memory.transform(load_svmlight(paths).X)
    ).nnz == 0
    with pytest.raises(ValueError, match="zero_based"):
        cd.transform(encoder, paths)


def test_files_that_fit_are_read_once(client, tmp_path, monkeypatch):
    from chromatic_learning import _dask_rows

    X = random_sparse(2000, 200, 8, seed=4)
    paths = write_parts(tmp_path, X, np.zeros(2000), [0, 700, 2000])
    expected = ChromaticEncoder(random_state=1)
    fit_files(expected, paths)
    count_pairs = _dask_rows.DaskPartitions.count_pairs

    def without_the_files(self, *args, **kwargs):
        for path in paths:
            path.unlink()
        return count_pairs(self, *args, **kwargs)

    # The pair pass runs with the files gone: the rows read by the first pass are held.
    monkeypatch.setattr(_dask_rows.DaskPartitions, "count_pairs", without_the_files)
    assert_same_encoder(cd.fit(paths, random_state=1), expected)
    # Files too large for the workers' memory are read again by every pass.
    paths = write_parts(tmp_path, X, np.zeros(2000), [0, 700, 2000])
    monkeypatch.setattr(_dask_rows, "HELD_SHARE", 0.0)
    with pytest.raises(OSError, match=r"partition \d: .*no such file"):
        cd.fit(paths, random_state=1)


def test_bad_partitions_are_named(client, tmp_path):
    X = random_sparse(300, 50, 5, seed=2)
    y = np.zeros(300)
    paths = write_parts(tmp_path, X, y, [0, 100, 200, 300])
    lines = paths[1].read_text().splitlines()
    lines[6] = "1 3:1 oops"
    paths[1].write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"partition 1: .*part1\.svm:7: \"oops\""):
        cd.fit(paths)
    with pytest.raises(FileNotFoundError, match="partition 3"):
        cd.fit([*paths, tmp_path / "missing.svm"])
    bad = X.astype(np.float64)
    bad.data[bad.indptr[150]] = np.nan
    with pytest.raises(ValueError, match=r"partition 1: row 50, column \d+ holds NaN"):
        cd.fit(partitioned(bad, (100, 100, 100)))


def test_what_a_cluster_fit_refuses(client):
    X = random_sparse(200, 40, 5, seed=3)
    with pytest.raises(ValueError, match="chunked by rows only"):
        cd.fit(da.from_array(X, chunks=(100, 20), asarray=False))
    with pytest.raises(ValueError, match="memory_limit"):
        cd.fit(partitioned(X, (200,)), memory_limit="1G")
    with pytest.raises(ValueError, match="needs y"):
        cd.fit_compressor(partitioned(X, (200,)), budget=8)
    with pytest.raises(ValueError, match="binary"):
        cd.fit_compressor(partitioned(X, (200,)), np.arange(200) % 3, budget=8)
    with pytest.raises(TypeError, match="fitted ChromaticEncoder"):
        cd.transform(object(), partitioned(X, (200,)))
