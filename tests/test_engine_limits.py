"""What the engine does at its limits: huge indices, allocations that fail, parameters it cannot
honour, and line ends and index bases that used to be read wrong.

Tests that could allocate gigabytes if the engine regressed run in a child process under an
address-space limit (``RLIMIT_AS``), so that a failure is a ``MemoryError`` there, never the
machine running out of memory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from chromatic_learning import ChromaticEncoder, SubmodularCompressor, streaming
from chromatic_learning.svmlight import iter_chunks, load_svmlight

LIMIT = 4 << 30


def run_limited(code: str, *args: str, limit: int = LIMIT) -> subprocess.CompletedProcess:
    """Run ``code`` in a child Python under an address-space limit of ``limit`` bytes.

    The child prints what it finds; an allocation past the limit fails there.
    """
    preamble = f"import resource, sys\nresource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
    return subprocess.run(
        [sys.executable, "-c", preamble + textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "RAYON_NUM_THREADS": "2"},
    )


def memory_error_of(code: str) -> str:
    """The message of the MemoryError that ``code`` raises in a limited child."""
    result = run_limited(
        f"""
        try:
{textwrap.indent(textwrap.dedent(code), " " * 12)}
        except MemoryError as error:
            print("MemoryError:", error)
        else:
            print("no error")
        """
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# ----------------------------------------------------------------------------------------------
# Item: a huge index asks for per-column tables the machine does not have


@pytest.mark.slow
def test_an_index_space_too_large_is_refused_up_front_in_memory():
    out = memory_error_of(
        """
        import numpy as np, scipy.sparse as sp
        from chromatic_learning import ChromaticEncoder
        X = sp.csr_matrix((np.ones(2), np.array([0, 2**31 - 2]), np.array([0, 2])),
                          shape=(1, 2**31 - 1))
        ChromaticEncoder().fit(X)
        """
    )
    assert out.startswith("MemoryError:"), out
    assert "2147483647 columns" in out and "re-index" in out, out
    assert out.count("\n") == 1


@pytest.mark.slow
def test_an_index_space_too_large_is_refused_up_front_from_files(tmp_path):
    path = tmp_path / "huge.svm"
    path.write_text("1 1:1 2147483646:1\n")
    out = memory_error_of(
        f"""
        from chromatic_learning import ChromaticEncoder, streaming
        streaming.fit_files(ChromaticEncoder(), [{str(path)!r}])
        """
    )
    assert out.startswith("MemoryError:") and "re-index" in out, out


@pytest.mark.slow
def test_the_command_says_in_one_line_that_the_index_space_is_too_large(tmp_path):
    path = tmp_path / "huge.svm"
    path.write_text("1 1:1 2147483647:1\n")
    code = "from chromatic_learning.cli import main; sys.exit(main(sys.argv[1:]))"
    result = run_limited(code, "fit", str(path), "-o", str(tmp_path / "model.npz"))
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "re-index" in lines[0], result.stderr
    assert not (tmp_path / "model.npz").exists()


@pytest.mark.parametrize("index", [2**31, 2**62, 2**63 - 1])
def test_indices_beyond_the_engine_limit_are_a_clear_error(tmp_path, index):
    path = tmp_path / "big.svm"
    path.write_text(f"1 0:1 {index}:1\n")
    with pytest.raises(ValueError, match=r"exceed the engine's limit of 2147483647.*re-index"):
        streaming.fit_files(ChromaticEncoder(), [path])


# ----------------------------------------------------------------------------------------------
# Item: failed allocations are MemoryError, not an abort


@pytest.mark.slow
def test_one_long_row_is_a_memory_error_not_an_abort():
    out = memory_error_of(
        """
        import numpy as np, scipy.sparse as sp
        from chromatic_learning import ChromaticEncoder
        X = sp.csr_matrix(np.ones((1, 50_000)))
        ChromaticEncoder(dense_threshold=None).fit(X)
        """
    )
    assert out.startswith("MemoryError: cannot allocate") and "pair counts" in out, out


@pytest.mark.slow
def test_the_graph_of_one_long_row_is_a_memory_error_not_an_abort():
    out = memory_error_of(
        """
        import numpy as np, scipy.sparse as sp
        from chromatic_learning.graph import cooccurrence_graph
        cooccurrence_graph(sp.csr_matrix(np.ones((1, 50_000))))
        """
    )
    assert out.startswith("MemoryError: cannot allocate") and "pair counts" in out, out


# ----------------------------------------------------------------------------------------------
# Items: more colors than the features can fill cost the features, not the colors


def rows_of_300_features(seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(2_000, 300, density=0.02, format="csr", random_state=rng)
    X.data[:] = 1
    return X


@pytest.mark.parametrize("n_colors", [301, 10**6])
def test_more_colors_than_features_say_so_and_use_at_most_one_each(n_colors):
    X = rows_of_300_features()
    with pytest.warns(UserWarning, match=rf"n_colors={n_colors} .* 300 features seen"):
        encoder = ChromaticEncoder(n_colors=n_colors, dense_threshold=None, random_state=0).fit(X)
    assert encoder.n_colors_ <= 300
    assert encoder.conflict_weight_ == 0
    if n_colors == 10**6:
        # Spread over a million colors, nearly every feature is alone in its color.
        assert encoder.n_colors_ > 280
    codes = encoder.transform(X)
    assert codes.shape == (2_000, encoder.n_colors_)


@pytest.mark.slow
def test_a_billion_colors_on_300_features_allocates_nothing_per_color():
    result = run_limited(
        """
        import warnings
        import numpy as np, scipy.sparse as sp
        from chromatic_learning import ChromaticEncoder
        X = sp.random(500, 300, density=0.02, format="csr", random_state=0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            encoder = ChromaticEncoder(n_colors=10**9, dense_threshold=None).fit(X)
        print(encoder.n_colors_, len(caught))
        """
    )
    assert result.returncode == 0, result.stderr
    n_colors, n_warnings = map(int, result.stdout.split())
    assert 1 <= n_colors <= 300 and n_warnings == 1


def test_colors_the_features_can_use_give_no_warning():
    X = rows_of_300_features()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ChromaticEncoder(n_colors=50, dense_threshold=None).fit(X)


# ----------------------------------------------------------------------------------------------
# Item: SubmodularCompressor follows the values seen, not the largest


@pytest.mark.slow
def test_submodular_tables_follow_the_values_seen():
    result = run_limited(
        """
        import numpy as np
        from chromatic_learning import SubmodularCompressor
        rng = np.random.default_rng(0)
        codes = rng.integers(0, 5, size=(400, 3)).astype(np.int64)
        codes[0, 1] = 2**31 - 1
        codes[1, 2] = 2**31 - 2
        y = rng.integers(0, 2, 400)
        model = SubmodularCompressor(budget=6).fit(codes, y)
        Z = model.transform(codes)
        print(model.output_of_value_.nbytes, Z.shape[0])
        """,
        limit=2 << 30,
    )
    assert result.returncode == 0, result.stderr
    table_bytes, n_rows = map(int, result.stdout.split())
    assert table_bytes < 1 << 16 and n_rows == 400


def test_submodular_transform_is_the_same_for_sparse_and_dense_values():
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 6, size=(600, 2)).astype(np.int64)
    y = (codes[:, 0] + rng.integers(0, 2, 600) > 3).astype(int)
    # The same values, spread far apart: the buckets must be the same.
    spread = np.where(codes > 0, codes * 100_000_000, 0)
    dense = SubmodularCompressor(budget=5).fit(codes, y)
    sparse = SubmodularCompressor(budget=5).fit(spread, y)
    assert (dense.transform(codes) != sparse.transform(spread)).nnz == 0
    # A value never seen in fit goes to the reference bucket, as value 0 does.
    unseen, absent = spread[:10].copy(), spread[:10].copy()
    unseen[:, 0], absent[:, 0] = 7, 0
    assert (sparse.transform(unseen) != sparse.transform(absent)).nnz == 0
    assert sparse.values_ is not None and dense.values_ is None


# ----------------------------------------------------------------------------------------------
# Items: line ends and the index base


def test_carriage_returns_end_lines(tmp_path):
    path = tmp_path / "cr.svm"
    path.write_bytes(b"1 1:1 2:1\r0 2:1 3:1\r")
    data = load_svmlight(path)
    assert data.zero_based is False
    np.testing.assert_array_equal(data.y, [1, 0])
    np.testing.assert_array_equal(data.X.toarray(), [[1, 1, 0], [0, 1, 1]])


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 5, 7, 11, 64])
def test_chunks_never_split_a_line_end_and_keep_line_numbers(tmp_path, chunk_bytes):
    text = b"1 1:1\r\n0 2:1\r\r1 3:1\n# c\r0 4:1\r\n"
    path = tmp_path / "mixed.svm"
    path.write_bytes(text)
    chunks = list(iter_chunks(path, chunk_bytes=chunk_bytes))
    assert sum(c.n_rows for c in chunks) == 4
    labels = np.concatenate([c.labels for c in chunks])
    np.testing.assert_array_equal(labels, [1, 0, 1, 0])
    path.write_bytes(text + b"x 1:1\r")
    with pytest.raises(ValueError) as caught:
        list(iter_chunks(path, chunk_bytes=chunk_bytes))
    assert caught.value.line == 7


def test_an_explicit_zero_at_index_0_makes_the_file_0_based(tmp_path):
    path = tmp_path / "zero.svm"
    path.write_text("1 0:0 3:1\n0 1:1\n")
    data = load_svmlight(path)
    assert data.zero_based is True
    np.testing.assert_array_equal(data.X.toarray(), [[0, 0, 0, 1], [0, 1, 0, 0]])
    encoder = ChromaticEncoder(dense_threshold=None)
    report = streaming.fit_files(encoder, [path])
    assert report.zero_based is True
    assert encoder.colors_[3] >= 0 and encoder.colors_[0] == -1
