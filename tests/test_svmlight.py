"""Reading svmlight files with the Rust parser, chunk by chunk."""

from __future__ import annotations

import bz2
import gzip
import lzma

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file, load_svmlight_file

from chromatic_learning.svmlight import SvmlightError, iter_chunks, load_svmlight

from conftest import binarized, labelled_sparse


@pytest.fixture(scope="module")
def rows_file(tmp_path_factory):
    # Rows of 0 to 30 features, empty ones among them, over a long tail of rare ones.
    X, y = labelled_sparse(20_000, 150_000, 30, seed=11)
    path = tmp_path_factory.mktemp("svm") / "rows.svm"
    dump_svmlight_file(X, y, str(path), zero_based=False)
    return path, binarized(X), y


@pytest.mark.parametrize("chunk_bytes", [1 << 26, 4096, 97])
def test_matches_scikit_learn_for_any_chunk_size(rows_file, chunk_bytes):
    path, X, y = rows_file
    data = load_svmlight(path, chunk_bytes=chunk_bytes, n_features=X.shape[1])
    assert not data.zero_based and data.skipped_lines == 0
    np.testing.assert_array_equal(data.y, y)
    assert (data.X != X).nnz == 0
    X_sk, _ = load_svmlight_file(str(path), n_features=X.shape[1], zero_based=False)
    assert (data.X != binarized(X_sk)).nnz == 0


@pytest.mark.parametrize(
    "opener, suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"), (lzma.open, ".xz")]
)
def test_compressed_files(rows_file, tmp_path, opener, suffix):
    path, X, _ = rows_file
    packed = tmp_path / ("rows.svm" + suffix)
    with opener(packed, "wb") as out:
        out.write(path.read_bytes())
    data = load_svmlight(packed, chunk_bytes=10_000, n_features=X.shape[1])
    assert (data.X != X).nnz == 0


def test_zero_based_detection_qid_comments_and_several_files(tmp_path):
    a = tmp_path / "a.svm"
    b = tmp_path / "b.svm"
    a.write_text("1 qid:3 0:1 4:2.5 # first\n# only a comment\n0 2:0 3:1\n")
    b.write_text("-1 1 1:1\n1")
    data = load_svmlight([a, b])
    assert data.zero_based
    np.testing.assert_array_equal(data.y, [1, 0, -1, 1])
    np.testing.assert_array_equal(
        data.X.toarray(), [[1, 0, 0, 0, 1], [0, 0, 0, 1, 0], [0, 1, 0, 0, 0], [0, 0, 0, 0, 0]]
    )
    one_based = load_svmlight(b)
    assert not one_based.zero_based and one_based.X.shape == (2, 1)
    with pytest.raises(ValueError, match="index 0 found"):
        load_svmlight(a, zero_based=False)


@pytest.mark.parametrize(
    "line, message",
    [
        ("x 1:1", "label"),
        ("1 a:1", "index"),
        ("1 -2:1", "index"),
        ("1 3:zz", "not a number"),
        ("1 3:nan", "not finite"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.svm"
    path.write_text("1 1:1\n0 2:1\n\n" + line + "\n1 3:1\n")
    with pytest.raises(SvmlightError, match=rf"bad.svm:4: .*{message}") as caught:
        load_svmlight(path, chunk_bytes=5)
    assert caught.value.line == 4
    data = load_svmlight(path, skip_bad_lines=True)
    assert data.skipped_lines == 1 and data.X.shape[0] == 3


def test_line_numbers_across_chunks(tmp_path):
    path = tmp_path / "long.svm"
    path.write_text("".join(f"{r % 2} {r % 50 + 1}:1\n" for r in range(5000)) + "1 oops\n")
    chunks = list(iter_chunks(path, chunk_bytes=1000, skip_bad_lines=True))
    assert len(chunks) > 10
    assert sum(c.n_rows for c in chunks) == 5000
    assert chunks[1].first_line == 1 + chunks[0].indptr.size - 1
    with pytest.raises(SvmlightError, match=r"long.svm:5001:"):
        list(iter_chunks(path, chunk_bytes=1000))
