"""Progress: each phase of a fit over files measured in bytes of input, and the command's bars."""

from __future__ import annotations

import argparse
import gzip
import io
import os
import threading
import time

import numpy as np
import pytest
import tqdm
from sklearn.datasets import dump_svmlight_file

from chromatic_learning import ChromaticCompressor, ChromaticEncoder
from chromatic_learning.cli import main
from chromatic_learning.cli._reports import Progress
from chromatic_learning.streaming import (
    TableReading,
    fit_compressor_files,
    fit_files,
    forecast_files,
    iter_compressed,
    iter_encoded,
)
from chromatic_learning.svmlight import iter_chunks

from conftest import random_sparse


class Recorder:
    """A progress callback that keeps every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, phase, done, total):
        self.calls.append((phase, done, total))

    def phases(self) -> list[str]:
        """The phases in the order they started."""
        order = []
        for phase, _, _ in self.calls:
            if not order or order[-1] != phase:
                order.append(phase)
        return order

    def of(self, phase) -> list[tuple[int, int | None]]:
        return [(done, total) for name, done, total in self.calls if name == phase]


def assert_read_through(recorded, phase, size):
    """``phase`` went from 0 to ``size`` bytes, never back, against a total of ``size``."""
    calls = recorded.of(phase)
    assert calls, f"no progress reported for {phase!r}"
    assert {total for _, total in calls} == {size}
    done = [d for d, _ in calls]
    assert done[0] == 0 and done[-1] == size
    assert (np.diff(done) >= 0).all()
    # Measured along the way, not only at the end.
    assert any(0 < d < size for d in done)


def svmlight_file(path, n_rows=3_000, seed=0, zipf=1.1):
    X = random_sparse(n_rows, 400, 12, seed, zipf=zipf)
    y = (np.random.default_rng(seed).random(n_rows) < 0.3).astype(float)
    dump_svmlight_file(X, y, str(path), zero_based=True)
    return path


def gzipped(path):
    target = f"{path}.gz"
    with open(path, "rb") as plain, gzip.open(target, "wb") as packed:
        packed.write(plain.read())
    return target


@pytest.mark.parametrize("compressed", [False, True])
def test_a_fit_reports_each_pass_in_bytes_of_the_files(tmp_path, compressed):
    paths = [svmlight_file(tmp_path / "a.svm"), svmlight_file(tmp_path / "b.svm", seed=1)]
    if compressed:
        paths = [gzipped(path) for path in paths]
    size = sum(os.path.getsize(path) for path in paths)
    recorded = Recorder()
    fit_files(ChromaticEncoder(random_state=0), paths, chunk_bytes=8_192, progress=recorded)
    assert recorded.phases() == ["counting features", "counting pairs", "coloring"]
    assert_read_through(recorded, "counting features", size)
    assert_read_through(recorded, "counting pairs", size)
    # One call of the engine: its name alone, without a count.
    assert recorded.of("coloring") == [(0, None)]


def test_passes_over_the_copy_report_the_bytes_of_the_files(tmp_path):
    # Without frequent features, more pairs than the memory limit holds in one pass.
    path = svmlight_file(tmp_path / "a.svm", zipf=None)
    recorded = Recorder()
    report = fit_files(
        ChromaticEncoder(random_state=0, dense_threshold=None, memory_limit="1500K"),
        [path],
        chunk_bytes=20_000,
        progress=recorded,
    )
    assert report.graph_passes > 1
    pair_passes = [f"counting pairs (pass {k})" for k in range(1, report.graph_passes + 1)]
    phases = ["counting features", "bounding pairs", *pair_passes, "coloring"]
    assert recorded.phases() == phases
    for phase in phases[:-1]:
        assert_read_through(recorded, phase, os.path.getsize(path))


def test_a_forecast_names_its_phases(tmp_path):
    path = svmlight_file(tmp_path / "a.svm")
    encoder = ChromaticEncoder(random_state=0)
    fit_files(encoder, [path], chunk_bytes=8_192)
    recorded = Recorder()
    forecast_files(encoder, [path], zero_based=True, chunk_bytes=8_192, progress=recorded)
    named = [
        "counting features",
        "counting pairs",
        "coloring",
        "encoding held-out rows",
    ]
    assert recorded.phases() == [f"forecasting collisions: {phase}" for phase in named]
    for phase in ("counting features", "counting pairs", "encoding held-out rows"):
        assert_read_through(recorded, f"forecasting collisions: {phase}", os.path.getsize(path))


#: The phases of a compressor's fit over files with a given split of its budget.
COMPRESSOR_PHASES = [
    "counting features",
    "counting pairs",
    "coloring",
    "counting values",
    "cutting buckets",
]


def test_the_choice_of_frequent_features_counts_its_candidates(tmp_path):
    path = svmlight_file(tmp_path / "a.svm")
    recorded = Recorder()
    compressor = ChromaticCompressor(budget=32, n_frequent="auto", tail="buckets", random_state=0)
    fit_compressor_files(compressor, [path], chunk_bytes=8_192, progress=recorded)
    first, *rest = COMPRESSOR_PHASES
    assert recorded.phases() == [first, "choosing frequent features", *rest]
    for phase in ("counting features", "counting pairs", "counting values"):
        assert_read_through(recorded, phase, os.path.getsize(path))
    # With buckets only, the splits scored are those of split_candidates(32): 0, 8, 16, 24,
    # 30 and 32 features kept apart.
    assert recorded.of("choosing frequent features") == [(k, 6) for k in range(7)]
    assert recorded.of("cutting buckets") == [(0, None)]


def test_parquet_and_compressed_csv_report_bytes_of_the_tables(tmp_path):
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rng = np.random.default_rng(0)
    n_rows = 4_000
    frame = pd.DataFrame(
        {
            "user": np.char.add("u", rng.integers(0, 300, n_rows).astype(str)),
            "ad": rng.integers(0, 50, n_rows),
            "click": (rng.random(n_rows) < 0.3).astype(np.int64),
        }
    )
    parquet = str(tmp_path / "clicks.parquet")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), parquet, row_group_size=500)
    text = tmp_path / "clicks.csv"
    frame.to_csv(text, index=False)
    csv = gzipped(text)
    for path in (parquet, csv):
        recorded = Recorder()
        compressor = ChromaticCompressor(budget=16, n_frequent=4, random_state=0)
        reading = TableReading(label="click", chunk_bytes=4_096)
        fit_compressor_files(compressor, [path], tables=reading, progress=recorded)
        assert recorded.phases() == COMPRESSOR_PHASES
        for phase in ("counting features", "counting pairs", "counting values"):
            assert_read_through(recorded, phase, os.path.getsize(path))
        encoding = Recorder()
        for _ in iter_compressed(
            compressor, path, zero_based=True, tables=reading, progress=encoding
        ):
            pass
        assert encoding.phases() == ["encoding"]
        assert_read_through(encoding, "encoding", os.path.getsize(path))


def test_encoding_a_file_reports_its_bytes(tmp_path):
    path = gzipped(svmlight_file(tmp_path / "a.svm"))
    encoder = ChromaticEncoder(random_state=0)
    fit_files(encoder, [path])
    recorded = Recorder()
    rows = sum(
        len(labels)
        for labels, *_ in iter_encoded(
            encoder, path, zero_based=True, chunk_bytes=8_192, progress=recorded
        )
    )
    assert rows == 3_000
    assert_read_through(recorded, "encoding", os.path.getsize(path))


def test_a_gzip_file_with_padding_never_counts_back(tmp_path):
    # gzip pads some files with zeros after the last member: zlib leaves them in two places.
    text = svmlight_file(tmp_path / "a.svm")
    path = gzipped(text)
    with open(path, "ab") as padded:
        padded.write(bytes(4_000))
    size = os.path.getsize(path)
    read = [chunk.bytes_read for chunk in iter_chunks(path, chunk_bytes=8_192)]
    assert len(read) > 2
    assert (np.diff(read) >= 0).all() and 0 < read[0] and read[-1] <= size
    encoder = ChromaticEncoder(random_state=0)
    recorded = Recorder()
    fit_files(encoder, [path], chunk_bytes=8_192, progress=recorded)
    assert_read_through(recorded, "counting features", size)


def test_a_stream_is_encoded_with_its_bytes_counted_and_no_total(tmp_path):
    path = svmlight_file(tmp_path / "a.svm")
    encoder = ChromaticEncoder(random_state=0)
    fit_files(encoder, [path])
    fifo = tmp_path / "rows.fifo"
    os.mkfifo(fifo)
    data = path.read_bytes()

    def write():
        with open(fifo, "wb") as stream:
            stream.write(data)

    writer = threading.Thread(target=write)
    writer.start()
    recorded = Recorder()
    try:
        rows = sum(
            len(labels)
            for labels, *_ in iter_encoded(
                encoder, fifo, zero_based=True, chunk_bytes=8_192, progress=recorded
            )
        )
    finally:
        writer.join()
    assert rows == 3_000
    calls = recorded.of("encoding")
    assert {total for _, total in calls} == {None}
    done = [d for d, _ in calls]
    assert done[0] == 0 and done[-1] == len(data) and (np.diff(done) >= 0).all()


def test_a_missing_input_is_named_when_progress_is_asked_for(tmp_path):
    encoder = ChromaticEncoder(random_state=0)
    fit_files(encoder, [svmlight_file(tmp_path / "a.svm")])
    missing = tmp_path / "missing.svm"
    with pytest.raises(FileNotFoundError, match=r"missing\.svm: no such file"):
        next(iter_encoded(encoder, missing, zero_based=True, progress=Recorder()))


class Terminal(io.StringIO):
    """Standard error as a terminal."""

    def isatty(self):
        return True


#: tqdm's bar, kept before a test puts its recording stand-in in its place.
REAL_TQDM = tqdm.tqdm


class Bars:
    """tqdm bars as the command makes them: their options, and where each ended."""

    def __init__(self):
        self.made = []

    def tqdm(self, *args, **options):
        bar = REAL_TQDM(*args, file=io.StringIO(), **options)
        self.made.append((options, bar))
        return bar


def command_args(**flags):
    return argparse.Namespace(**{"quiet": False, "json": False, **flags})


def test_bars_have_a_total_in_bytes_or_only_a_name(monkeypatch):
    bars = Bars()
    monkeypatch.setattr(tqdm, "tqdm", bars.tqdm)
    monkeypatch.setattr("sys.stderr", Terminal())
    progress = Progress(command_args())
    progress("counting features", 0, 2_048)
    progress("counting features", 1_024, 2_048)
    progress("counting features", 2_048, 2_048)
    progress("choosing frequent features", 0, 6)
    progress("choosing frequent features", 6, 8)
    progress("coloring", 0, None)
    progress("encoding", 0, None)
    progress("encoding", 5_000, None)
    progress.close()
    assert [options["desc"] for options, _ in bars.made] == [
        "counting features",
        "choosing frequent features",
        "coloring",
        "encoding",
    ]
    (counting, read), (choosing, scored), (coloring, _), (_, streamed) = bars.made
    assert counting["total"] == 2_048 and counting["unit"] == "B"
    assert counting["unit_scale"] and counting["unit_divisor"] == 1024
    assert read.n == 2_048
    assert "{n}/{total} candidates" in choosing["bar_format"]
    assert (scored.n, scored.total) == (6, 8)
    # The coloring is one call: its bar shows the time it takes, no count.
    assert coloring["total"] is None and "{n" not in coloring["bar_format"]
    # A stream of no known size: the bytes read, once there are some.
    assert streamed.n == 5_000 and "{n_fmt}B read" in streamed.bar_format
    assert all(bar.disable for _, bar in bars.made), "every bar is closed"


def test_a_phase_of_one_step_shows_its_time_going_on(monkeypatch):
    bars = Bars()
    monkeypatch.setattr(tqdm, "tqdm", bars.tqdm)
    monkeypatch.setattr("sys.stderr", Terminal())
    monkeypatch.setattr(Progress, "CLOCK_SECONDS", 0.01)
    progress = Progress(command_args())
    progress("coloring", 0, None)
    [(_, bar)] = bars.made
    drawn = bar.fp.getvalue().count("coloring:")
    time.sleep(0.3)
    # Redrawn while the step goes on, with no update; and no more once it is closed.
    assert bar.fp.getvalue().count("coloring:") > drawn
    progress.close()
    assert not any(thread.name == "progress clock" for thread in threading.enumerate())


@pytest.mark.parametrize("flag", ["quiet", "json"])
def test_no_bars_when_quiet_or_json(monkeypatch, flag):
    bars = Bars()
    monkeypatch.setattr(tqdm, "tqdm", bars.tqdm)
    monkeypatch.setattr("sys.stderr", Terminal())
    progress = Progress(command_args(**{flag: True}))
    progress("counting features", 0, 10)
    assert bars.made == []


def test_no_bars_off_a_terminal(monkeypatch):
    bars = Bars()
    monkeypatch.setattr(tqdm, "tqdm", bars.tqdm)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    Progress(command_args())("counting features", 0, 10)
    assert bars.made == []


def test_compress_shows_a_bar_per_phase_in_bytes(tmp_path, monkeypatch):
    train = svmlight_file(tmp_path / "train.svm")
    test = svmlight_file(tmp_path / "test.svm", n_rows=1_000, seed=1)
    bars = Bars()
    monkeypatch.setattr(tqdm, "tqdm", bars.tqdm)
    monkeypatch.setattr("sys.stderr", Terminal())
    out = tmp_path / "out"
    argv = ["compress", "--train", str(train), "--test", str(test), "--out", str(out)]
    assert main([*argv, "--budget", "32", "--chunk-mb", "0.01"]) == 0
    made = {options["desc"]: (options, bar) for options, bar in bars.made}
    assert list(made) == [
        "counting features",
        "choosing frequent features",
        "counting pairs",
        "coloring",
        "counting values",
        "cutting buckets",
        "writing train.svm",
        "writing test.svm",
    ]
    sizes = {"writing train.svm": train, "writing test.svm": test}
    for phase in ("counting features", "counting pairs", "counting values", *sizes):
        options, bar = made[phase]
        size = os.path.getsize(sizes.get(phase, train))
        assert options["unit"] == "B" and options["total"] == size and bar.n == size
    for phase in ("coloring", "cutting buckets"):
        assert made[phase][0]["total"] is None
