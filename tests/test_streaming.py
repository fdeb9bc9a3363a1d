"""Fitting and encoding svmlight files chunk by chunk equals the in-memory API."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file

from chromatic_learning import ChromaticCompressor, ChromaticEncoder, _core
from chromatic_learning._encoder import coloring_params, set_coloring
from chromatic_learning._encoding import bucket_columns
from chromatic_learning._pipeline import finish_coloring
from chromatic_learning._submodular import fitted_buckets
from chromatic_learning.datasets import load_flights_cut
from chromatic_learning.streaming import (
    fit_compressor_files,
    fit_files,
    iter_compressed,
    iter_encoded,
    row_folds,
)
from chromatic_learning.svmlight import load_svmlight

from conftest import random_sparse


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    # The flights rows shipped with the package: real, and there on any checkout.
    X, y = load_flights_cut()
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


@pytest.mark.parametrize("n_frequent", [0, 40, 256])
def test_streamed_compressor_equals_in_memory_fit(two_files, n_frequent):
    params = {"budget": 256, "n_frequent": n_frequent, "random_state": 5}
    streamed = ChromaticCompressor(**params)
    report, tables = fit_compressor_files(streamed, two_files, chunk_bytes=300_000)
    assert report.rows == 100_000 and tables is None
    data = load_svmlight(two_files)
    in_memory = ChromaticCompressor(**params).fit(data.X, data.y)
    np.testing.assert_array_equal(streamed.frequent_features_, in_memory.frequent_features_)
    assert streamed.n_features_out_ == in_memory.n_features_out_ <= 256
    assert (streamed.encoder_ is None) == (n_frequent == 256)
    chunks = list(iter_compressed(streamed, two_files[1], zero_based=False, chunk_bytes=50_000))
    assert len(chunks) > 5
    output = sp.vstack([columns for _, columns in chunks], format="csr")
    X_test = load_svmlight(two_files[1], n_features=data.X.shape[1]).X
    assert (output != in_memory.transform(X_test)).nnz == 0


def test_streamed_hashed_tail_equals_in_memory_fit(two_files):
    params = {"budget": 256, "n_frequent": 40, "tail": "hashed", "random_state": 5}
    streamed = ChromaticCompressor(**params)
    _, tables = fit_compressor_files(streamed, two_files, chunk_bytes=300_000, cross_fit=True)
    data = load_svmlight(two_files)
    in_memory = ChromaticCompressor(**params).fit(data.X, data.y)
    assert streamed.tail_ == "hashed" and tables is None
    np.testing.assert_array_equal(streamed.hashed_features_, in_memory.hashed_features_)
    chunks = list(iter_compressed(streamed, two_files[1], zero_based=False, chunk_bytes=50_000))
    output = sp.vstack([columns for _, columns in chunks], format="csr")
    X_test = load_svmlight(two_files[1], n_features=data.X.shape[1]).X
    assert (output != in_memory.transform(X_test)).nnz == 0


def test_streamed_cross_fit_rates_each_fold_on_the_others(two_files):
    streamed = ChromaticCompressor(budget=128, n_frequent=16, random_state=2, cv=3)
    report, tables = fit_compressor_files(streamed, two_files, chunk_bytes=250_000, cross_fit=True)
    bucketer, encoder = streamed.compressor_, streamed.encoder_
    data = load_svmlight(two_files)
    codes = np.ascontiguousarray(encoder.transform(data.X))
    labels = data.y == streamed.classes_[1]
    folds = row_folds(0, report.rows, 3, tables.seed)
    assert np.bincount(folds, minlength=3).min() > report.rows / 4, "rows spread evenly"
    value_rows = np.concatenate(
        [np.bincount(codes[:, j], minlength=n) for j, n in enumerate(bucketer.column_sizes_)]
    )
    for fold, table in enumerate(tables.tables):
        by_others = _core.assign_buckets(
            codes,
            labels,
            folds != fold,
            bucketer.column_sizes_,
            bucketer.boundary_offsets_,
            bucketer.boundaries_,
            bucketer.bucket_outputs_,
            smoothing=bucketer.smoothing,
        )
        expected = np.where(value_rows >= 30, bucketer.output_of_value_, by_others)
        np.testing.assert_array_equal(table, expected)
    # Encoding the training file with the tables: each row by its own fold's table.
    rows = list(
        iter_compressed(
            streamed, two_files[0], zero_based=False, chunk_bytes=90_000, cross_fit=tables
        )
    )
    output = sp.vstack([columns for _, columns in rows], format="csr")
    first = data.X[:60_000]
    for fold, table in enumerate(tables.tables):
        in_fold = np.flatnonzero(folds[:60_000] == fold)
        tail = bucket_columns(codes[in_fold], fitted_buckets(bucketer), table)
        expected = sp.hstack([first[in_fold][:, streamed.frequent_features_], tail], format="csr")
        assert (output[in_fold] != expected).nnz == 0


def test_streamed_compressor_chooses_the_split_on_a_sample(two_files):
    streamed = ChromaticCompressor(budget=128, selection_rows=5_000, random_state=0)
    fit_compressor_files(streamed, two_files, chunk_bytes=400_000)
    scores = streamed.selection_scores_
    assert {k for k, _ in scores} == {0, 32, 64, 96, 120, 128}
    assert scores[streamed.n_frequent_, streamed.tail_ or "buckets"] == min(scores.values())


def test_streamed_compressor_needs_binary_labels(tmp_path):
    path = tmp_path / "three.svm"
    path.write_text("0 1:1\n1 2:1\n2 3:1\n")
    with pytest.raises(ValueError, match="binary"):
        fit_compressor_files(ChromaticCompressor(budget=4), [path])
    path.write_text("1 1:1\n1 2:1\n")
    with pytest.raises(ValueError, match="binary"):
        fit_compressor_files(ChromaticCompressor(budget=4), [path])


def test_row_folds_do_not_depend_on_chunking():
    whole = row_folds(0, 1000, 5, seed=9)
    assert np.array_equal(
        np.concatenate([row_folds(0, 300, 5, 9), row_folds(300, 700, 5, 9)]), whole
    )
    assert set(whole) == set(range(5))
    assert not np.array_equal(whole, row_folds(0, 1000, 5, seed=10))


@pytest.mark.slow
def test_a_memory_limit_shards_the_graph_with_the_same_result(two_files):
    unlimited = ChromaticEncoder(random_state=3, min_cooccurrence=2)
    fit_files(unlimited, two_files, chunk_bytes=500_000)
    for limit, passes in [("100M", 2), (60_000_000, 3), (40_000_000, 4)]:
        limited = ChromaticEncoder(random_state=3, min_cooccurrence=2, memory_limit=limit)
        report = fit_files(limited, two_files, chunk_bytes=500_000)
        assert report.graph_passes == passes
        np.testing.assert_array_equal(limited.colors_, unlimited.colors_)
        np.testing.assert_array_equal(limited.codes_, unlimited.codes_)
        assert limited.n_edges_ == unlimited.n_edges_
    # Too little memory for the graph's edges: a MemoryError that says what to change.
    with pytest.raises(MemoryError, match="raise min_cooccurrence or the limit"):
        fit_files(ChromaticEncoder(memory_limit="20M"), two_files, chunk_bytes=500_000)


def test_counts_made_elsewhere_give_the_same_fit():
    X = random_sparse(2000, 200, 10, seed=4, zipf=1.1)
    expected = ChromaticEncoder(random_state=1, min_cooccurrence=2).fit(X)
    encoder = ChromaticEncoder(random_state=1, min_cooccurrence=2)
    params = coloring_params(encoder)
    stream = _core.StreamingFit(**params.engine())
    parts = [X[:700], X[700:700], X[700:]]
    for part in parts:
        counts = np.bincount(part.indices, minlength=200).astype(np.int64)
        stream.add_document_frequency(counts, part.shape[0])
    vertex_features = stream.vertex_features
    with pytest.raises(ValueError, match="statistics come before"):
        stream.add_document_frequency(np.zeros(200, dtype=np.int64), 1)
    keys, weights = np.zeros(0, np.uint64), np.zeros(0, np.uint32)
    for part in parts:
        indptr, indices = part.indptr.astype(np.int64), part.indices.astype(np.int64)
        [pairs] = _core.count_pairs(indptr, indices, vertex_features, 200)
        keys, weights = _core.merge_pair_counts([(keys, weights), pairs])
    with pytest.raises(ValueError, match="ascend strictly"):
        stream.add_pair_counts(keys[::-1].copy(), weights[::-1].copy())
    stream.add_pair_counts(keys, weights)
    set_coloring(encoder, finish_coloring(stream, 200, params))
    np.testing.assert_array_equal(encoder.colors_, expected.colors_)
    np.testing.assert_array_equal(encoder.codes_, expected.codes_)
    assert encoder.n_edges_ == expected.n_edges_
    # Counts that cannot be counts of the rows, and vertices that are not a vocabulary.
    with pytest.raises(ValueError, match="more than the 3 rows"):
        _core.StreamingFit(**params.engine()).add_document_frequency(np.array([0, 4, 1]), 3)
    with pytest.raises(ValueError, match="repeated or outside"):
        _core.count_pairs(np.array([0, 2]), np.array([0, 1]), np.array([1, 1]), 2)


def test_value_counts_travel_between_processes():
    import pickle

    counts = _core.ValueCounts(np.array([3, 2]))
    codes = np.array([[1, 0], [2, 1], [2, 0]], dtype=np.int32)
    counts.add(codes, np.array([True, False, True]))
    copy = pickle.loads(pickle.dumps(counts))
    np.testing.assert_array_equal(copy.value_rows, counts.value_rows)
    copy.merge(counts)
    np.testing.assert_array_equal(copy.value_rows, 2 * counts.value_rows)
    with pytest.raises(ValueError, match="exceed their rows"):
        copy.__setstate__((b"\x05\x00\x00\x00" * 5, b"\x00" * 20, 3, 0))


@contextlib.contextmanager
def no_hang(seconds: int = 30):
    """Fail instead of waiting forever: a FIFO opened without a writer blocks its reader."""

    def stop(signum, frame):
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def fed_fifo(path, data: bytes) -> threading.Thread:
    """Make a FIFO at ``path`` and a thread that writes ``data`` into it once, for one reader."""
    os.mkfifo(path)

    def write():
        with open(path, "wb") as fifo:
            fifo.write(data)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def release(thread: threading.Thread, path) -> None:
    """Unblock a writer still waiting for a reader (when the code under test never opened it)."""
    if thread.is_alive():
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            thread.join(timeout=10)
        finally:
            os.close(fd)


def test_a_fit_refuses_paths_it_cannot_read_twice_before_any_pass(tmp_path):
    good = tmp_path / "good.svm"
    good.write_text("1 1:1 2:1\n0 2:1 3:1\n")
    fifo = tmp_path / "rows.fifo"
    writer = fed_fifo(fifo, good.read_bytes())
    try:
        with no_hang():
            for bad, error, message in [
                (tmp_path, IsADirectoryError, "is a directory, not a file"),
                (tmp_path / "missing.svm", FileNotFoundError, "missing.svm: no such file"),
                (fifo, ValueError, "is a FIFO .* read only once, but the fit reads its files"),
            ]:
                with pytest.raises(error, match=message):
                    fit_files(ChromaticEncoder(), [good, bad])
                with pytest.raises(error, match=message):
                    fit_compressor_files(ChromaticCompressor(budget=4), [bad])
        # The FIFO was refused without being opened: its writer still waits for a reader.
        assert writer.is_alive()
    finally:
        release(writer, fifo)


def test_a_character_device_is_a_stream_too(tmp_path):
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs privileges")
    with pytest.raises(ValueError, match="is a character device"):
        fit_files(ChromaticEncoder(), [device])


def test_a_fifo_is_encoded_in_its_single_pass(tmp_path):
    train = tmp_path / "train.svm"
    X = random_sparse(300, 40, 6, seed=5)
    dump_svmlight_file(X, np.arange(300) % 2, str(train), zero_based=True)
    encoder = ChromaticEncoder(random_state=0)
    fit_files(encoder, [train])
    expected = list(iter_encoded(encoder, train, zero_based=True, chunk_bytes=2000))
    fifo = tmp_path / "rows.fifo"
    writer = fed_fifo(fifo, train.read_bytes())
    try:
        with no_hang():
            streamed = list(iter_encoded(encoder, fifo, zero_based=True, chunk_bytes=2000))
    finally:
        release(writer, fifo)
    assert len(streamed) == len(expected) > 1
    for (labels, codes, *tallies), (labels_, codes_, *tallies_) in zip(
        streamed, expected, strict=True
    ):
        np.testing.assert_array_equal(labels, labels_)
        np.testing.assert_array_equal(codes, codes_)
        assert tallies == tallies_


def test_a_single_path_is_one_file_not_its_characters(tmp_path):
    path = tmp_path / "rows.svm"
    path.write_text("1 1:1 2:1\n0 2:1 3:1\n")
    assert fit_files(ChromaticEncoder(), str(path)).rows == 2


@pytest.mark.parametrize("chunk_bytes", [0, 1.5, "64M", True])
def test_bad_chunk_sizes_are_refused_before_any_pass(tmp_path, chunk_bytes):
    path = tmp_path / "rows.svm"
    path.write_text("1 1:1 2:1\n")
    with pytest.raises(ValueError, match="chunk_bytes"):
        fit_files(ChromaticEncoder(), [path], chunk_bytes=chunk_bytes)


def test_chunks_of_only_blank_and_comment_lines_are_skipped_everywhere(tmp_path):
    X = random_sparse(400, 30, 6, seed=2)
    y = np.arange(400) % 2
    plain, padded = tmp_path / "plain.svm", tmp_path / "padded.svm"
    dump_svmlight_file(X, y, str(plain), zero_based=True)
    lines = plain.read_text().splitlines()
    filler = ["# a comment that fills more than a chunk"] * 200 + [""] * 200
    padded.write_text("\n".join(filler + lines[:150] + filler + lines[150:] + filler) + "\n")
    reading = {"zero_based": True, "chunk_bytes": 512}

    encoder = ChromaticEncoder(random_state=0)
    fit_files(encoder, [padded], chunk_bytes=512)
    chunks = list(iter_encoded(encoder, padded, **reading))
    assert all(len(labels) for labels, *_ in chunks)
    codes = np.vstack([codes for _, codes, *_ in chunks])
    np.testing.assert_array_equal(codes, encoder.transform(X))

    compressor = ChromaticCompressor(budget=8, n_frequent=2, random_state=0)
    _, tables = fit_compressor_files(compressor, [padded], chunk_bytes=512, cross_fit=True)
    for cross_fit in (None, tables):
        parts = list(iter_compressed(compressor, padded, **reading, cross_fit=cross_fit))
        assert all(columns.shape[0] for _, columns in parts)
        whole = sp.vstack([columns for _, columns in parts])
        expected = list(iter_compressed(compressor, plain, zero_based=True, cross_fit=cross_fit))
        assert (whole != expected[0][1]).nnz == 0


def test_a_file_of_only_comments_encodes_to_nothing(tmp_path):
    train, empty = tmp_path / "train.svm", tmp_path / "empty.svm"
    dump_svmlight_file(random_sparse(200, 20, 5, seed=1), np.arange(200) % 2, str(train))
    empty.write_text("# nothing\n\n   \n# here\n")
    encoder = ChromaticEncoder()
    fit_files(encoder, [train])
    assert list(iter_encoded(encoder, empty, zero_based=True)) == []
    compressor = ChromaticCompressor(budget=4, n_frequent=1)
    fit_compressor_files(compressor, [train])
    assert list(iter_compressed(compressor, empty, zero_based=True)) == []


def test_a_memory_limit_too_small_for_the_vertices_fails_before_the_pair_passes(tmp_path):
    rng = np.random.default_rng(0)
    X = sp.random(2_000, 50_000, density=0.001, format="csr", random_state=rng)
    X.data[:] = 1
    path = tmp_path / "wide.svm"
    dump_svmlight_file(X, np.zeros(2_000), str(path), zero_based=True)
    stages = []
    with pytest.raises(MemoryError, match=r"memory limit: .* vertices"):
        fit_files(
            ChromaticEncoder(memory_limit="2M", dense_threshold=None),
            path,
            progress=lambda phase, done, total: stages.append(phase),
        )
    assert set(stages) == {"counting features"}
