"""The binary copy of the rows that a fit's later passes read instead of the files."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file

from chromatic_learning import ChromaticCompressor, ChromaticEncoder, _row_copy, streaming
from chromatic_learning._row_copy import CopiedRows
from chromatic_learning._sources import SvmlightFiles
from chromatic_learning.datasets import write_criteo_like
from chromatic_learning.streaming import TableReading, fit_compressor_files, fit_files

from conftest import random_sparse


@pytest.fixture
def copies(tmp_path, monkeypatch):
    """The folder where copies go (the temporary folder), and the copies left in it."""
    folder = tmp_path / "temporary"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return lambda: sorted(os.listdir(folder))


@pytest.fixture
def svmlight(tmp_path):
    X = random_sparse(3_000, 400, 12, seed=0)
    y = np.arange(3_000) % 2
    path = tmp_path / "rows.svm"
    dump_svmlight_file(X, y, str(path))
    return path


def test_the_passes_after_the_copy_read_it_not_the_files(svmlight, copies, tmp_path):
    rows = CopiedRows(SvmlightFiles([svmlight], chunk_bytes=20_000, zero_based=True))
    read = list(rows.chunks())
    assert len(read) > 3 and rows.copied
    assert copies() and copies()[0].startswith("chromatic-rows-")
    # The files are gone: the next pass is the copy's, chunk for chunk, place for place.
    moved = shutil.move(svmlight, tmp_path / "elsewhere.svm")
    positions = []
    for before, after in zip(read, rows.chunks(), strict=True):
        positions.append(rows.position)
        for name in ("indptr", "indices", "labels"):
            np.testing.assert_array_equal(getattr(after, name), getattr(before, name))
        assert after.indices.dtype == np.int32
        assert (after.first_row, after.min_index) == (before.first_row, before.min_index)
    assert positions[0].endswith(": rows 1-" + str(read[0].n_rows))
    # The copy's chunks are read into one buffer, not into fresh memory each.
    passing = rows.chunks()
    first, second = next(passing), next(passing)
    assert np.shares_memory(first.indptr, second.indptr)
    passing.close()
    rows.close()
    assert copies() == []
    shutil.move(moved, svmlight)


def test_a_limited_fit_reads_the_copy_and_removes_it(svmlight, copies):
    unlimited = ChromaticEncoder(random_state=0, dense_threshold=None)
    fit_files(unlimited, [svmlight], chunk_bytes=20_000)
    passes = []
    limited = ChromaticEncoder(random_state=0, dense_threshold=None, memory_limit="1500K")
    report = fit_files(
        limited,
        [svmlight],
        chunk_bytes=20_000,
        progress=lambda phase, done, total: passes.append(phase),
    )
    assert report.graph_passes > 1
    np.testing.assert_array_equal(limited.colors_, unlimited.colors_)
    np.testing.assert_array_equal(limited.codes_, unlimited.codes_)
    assert copies() == []


def test_table_files_give_the_same_model_through_the_copy(tmp_path, copies):
    path = tmp_path / "clicks.txt"
    write_criteo_like(path, 4_000, seed=1)
    reading = TableReading(kind="criteo", chunk_bytes=1 << 16)
    unlimited = ChromaticEncoder(random_state=0, min_cooccurrence=2)
    fit_files(unlimited, [path], tables=reading)
    limited = ChromaticEncoder(random_state=0, min_cooccurrence=2, memory_limit="12M")
    report = fit_files(limited, [path], tables=reading)
    assert report.graph_passes > 1
    np.testing.assert_array_equal(limited.colors_, unlimited.colors_)
    np.testing.assert_array_equal(limited.codes_, unlimited.codes_)
    names = limited.table_encoder_.get_feature_names_out()
    assert list(names) == list(unlimited.table_encoder_.get_feature_names_out())
    # The layout's label is the label, never a feature.
    assert reading.label == "label" and not any(n.startswith("label=") for n in names)
    # A compressor's pass over the labels of the code values reads the copy too.
    copied = ChromaticCompressor(budget=64, n_frequent=16, random_state=0)
    fit_compressor_files(copied, [path], tables=reading)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(streaming, "_rereading", lambda rows, copy: contextlib.nullcontext(rows))
        read = ChromaticCompressor(budget=64, n_frequent=16, random_state=0)
        fit_compressor_files(read, [path], tables=reading)
    np.testing.assert_array_equal(copied.frequent_features_, read.frequent_features_)
    np.testing.assert_array_equal(
        copied.compressor_.output_of_value_, read.compressor_.output_of_value_
    )
    assert copies() == []


@pytest.mark.parametrize("stage", ["bounding pairs", "counting pairs (pass 2)"])
def test_an_interrupted_fit_leaves_no_copy(svmlight, copies, stage):
    # Stopped while the copy is written (the pass of pair bounds), and while it is read.
    def stop(at, done, total):
        # After the pass's first chunk, not as it starts: the copy is open then.
        if at == stage and done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit_files(
            ChromaticEncoder(dense_threshold=None, memory_limit="1500K"),
            [svmlight],
            chunk_bytes=20_000,
            progress=stop,
        )
    assert copies() == []


def test_a_full_disk_gives_up_the_copy_and_reads_the_files(svmlight, copies, monkeypatch):
    expected = ChromaticEncoder(random_state=0, dense_threshold=None)
    fit_files(expected, [svmlight], chunk_bytes=20_000)

    def full(out, rows, position):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_row_copy, "_write", full)
    model = ChromaticEncoder(random_state=0, dense_threshold=None, memory_limit="1500K")
    with pytest.warns(RuntimeWarning, match="No space left on device.*every pass reads the files"):
        report = fit_files(model, [svmlight], chunk_bytes=20_000)
    assert report.graph_passes > 1
    np.testing.assert_array_equal(model.codes_, expected.codes_)
    assert copies() == []
