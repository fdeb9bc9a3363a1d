"""The Criteo-like click logs: layout, seeding, formats, distributions and failed writes."""

from __future__ import annotations

import gzip
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
pacsv = pytest.importorskip("pyarrow.csv")
pc = pytest.importorskip("pyarrow.compute")
pq = pytest.importorskip("pyarrow.parquet")

from chromatic_learning import _criteo_like  # noqa: E402
from chromatic_learning.datasets import write_criteo_like  # noqa: E402

INTS = [f"I{j}" for j in range(1, 14)]
CATS = [f"C{j}" for j in range(1, 27)]
NAMES = ["label", *INTS, *CATS]
TYPES = {"label": pa.int8(), **dict.fromkeys(INTS, pa.int64()), **dict.fromkeys(CATS, pa.string())}


def read_text(path):
    """Read a written text file (plain or gzip) as the Parquet file's table."""
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=NAMES),
        parse_options=pacsv.ParseOptions(delimiter="\t"),
        convert_options=pacsv.ConvertOptions(column_types=TYPES, strings_can_be_null=True),
    )


@pytest.fixture(scope="module")
def rows_200k(tmp_path_factory):
    path = tmp_path_factory.mktemp("criteo") / "clicks.parquet"
    write_criteo_like(path, 200_000, seed=7, chunk_rows=50_000)
    return pq.read_table(path)


def test_layout_of_the_text(tmp_path):
    path = tmp_path / "clicks.txt"
    write_criteo_like(path, 3000, seed=1, chunk_rows=1000)
    lines = path.read_bytes().decode("ascii").split("\n")
    assert lines[-1] == ""  # every line ends in a newline
    lines = lines[:-1]
    assert len(lines) == 3000
    count = re.compile(r"-?[0-9]+")
    value = re.compile(r"[0-9a-f]{8}")
    empty = np.zeros(40, dtype=np.int64)
    for line in lines:
        fields = line.split("\t")
        assert len(fields) == 40
        assert fields[0] in ("0", "1")
        assert all(f == "" or count.fullmatch(f) for f in fields[1:14]), line
        assert all(f == "" or value.fullmatch(f) for f in fields[14:]), line
        empty += [f == "" for f in fields]
    by_name = dict(zip(NAMES, empty.tolist(), strict=True))
    # Never missing, and often missing, as in the Criteo data.
    assert by_name["label"] == by_name["I2"] == by_name["C1"] == by_name["C9"] == 0
    assert by_name["I1"] > 1000 and by_name["C19"] > 1000 and by_name["C3"] > 0
    assert int(lines[0].split("\t")[2]) >= -1  # I2 is the one column that goes negative


def test_seeded_rows_are_reproducible_and_prefixes_of_longer_files(tmp_path):
    long = tmp_path / "long.txt"
    write_criteo_like(long, 2500, seed=3, chunk_rows=1000)
    lines = long.read_bytes().splitlines(keepends=True)
    again = tmp_path / "again.txt"
    write_criteo_like(again, 2500, seed=3, chunk_rows=1000)
    assert again.read_bytes() == long.read_bytes()
    # Any number of rows, across and within chunks, is the start of the longer file.
    for n in (1, 999, 1000, 1234, 2000):
        short = tmp_path / f"short{n}.txt"
        write_criteo_like(short, n, seed=3, chunk_rows=1000)
        assert short.read_bytes() == b"".join(lines[:n]), n
    # first_chunk continues the rows: chunks 1 and 2 are the rows after the first 1000.
    rest = tmp_path / "rest.txt"
    write_criteo_like(rest, 1500, seed=3, chunk_rows=1000, first_chunk=1)
    assert rest.read_bytes() == b"".join(lines[1000:])
    other = tmp_path / "other.txt"
    write_criteo_like(other, 1000, seed=4, chunk_rows=1000)
    assert other.read_bytes().splitlines()[:5] != lines[:5]


def test_text_gzip_and_parquet_hold_the_same_values(tmp_path):
    paths = [tmp_path / name for name in ("a.txt", "a.tsv", "day_0.gz", "a.parquet")]
    for path in paths:
        write_criteo_like(path, 2000, seed=5, chunk_rows=700)
    assert paths[1].read_bytes() == paths[0].read_bytes()
    with gzip.open(paths[2]) as stream:
        assert stream.read() == paths[0].read_bytes()
    stored = pq.read_table(paths[3])
    assert stored.schema.names == NAMES
    assert [field.type for field in stored.schema] == [TYPES[name] for name in NAMES]
    assert pq.ParquetFile(paths[3]).num_row_groups == 3  # one a chunk
    for text in (read_text(paths[0]), read_text(paths[2])):
        assert text.num_rows == 2000
        for name in NAMES:
            assert text[name].equals(stored[name]), name
    assert stored["C3"].null_count > 0 and stored["I1"].null_count > 0


def test_heavy_tailed_categorical_columns(rows_200k):
    distinct = {}
    for name in CATS:
        counts = pc.value_counts(rows_200k[name].drop_null()).field("counts").to_numpy()
        distinct[name] = (len(counts), int((counts == 1).sum()))
    biggest = max(distinct, key=lambda name: distinct[name][0])
    size, singletons = distinct[biggest]
    assert size > 50_000 and singletons > size / 2, distinct
    assert distinct["C9"][0] < 50 and distinct["C20"][0] < 50, distinct
    # From a handful of values to tens of thousands and more.
    assert sum(size < 50 for size, _ in distinct.values()) >= 5
    assert sum(1000 <= size < 50_000 for size, _ in distinct.values()) >= 5


def test_integer_columns_are_heavy_tailed_counts(rows_200k):
    for name in INTS:
        values = rows_200k[name].drop_null().to_numpy()
        assert values.min() >= (-1 if name == "I2" else 0), name
        assert values.max() > 5 * max(np.median(values), 1), name
    assert rows_200k["I5"].drop_null().to_numpy().max() > 1_000_000


def test_missing_rates_follow_the_configuration(rows_200k, tmp_path):
    n = rows_200k.num_rows
    for name in NAMES[1:]:
        rate = _criteo_like.MISSING_RATES[name]
        assert 0 <= rate <= 0.45
        assert abs(rows_200k[name].null_count / n - rate) < 0.01, name
    # Rates given by name replace the defaults; a group stays missing together.
    path = tmp_path / "rates.parquet"
    rates = {"I2": 0.3, "C1": 0.1, "C3": 0.2, "I12": 0.0}
    write_criteo_like(path, 20_000, seed=2, chunk_rows=5000, missing_rates=rates)
    table = pq.read_table(path)
    for name, rate in {**rates, "C4": 0.034, "C19": 0.44}.items():
        assert abs(table[name].null_count / 20_000 - rate) < 0.02, name
    c3 = table["C3"].is_null().to_numpy(zero_copy_only=False)
    c4 = table["C4"].is_null().to_numpy(zero_copy_only=False)
    assert np.all(c3[c4])


def test_labels_have_the_asked_rate_and_can_be_learned(rows_200k, tmp_path):
    sklearn = pytest.importorskip("sklearn")
    del sklearn
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.preprocessing import OneHotEncoder

    y = rows_200k["label"].to_numpy()
    assert 0.22 < y.mean() < 0.28
    columns = ["C6", "C9", "C14", "C17", "C20", "C22", "C23", "C25"]
    X = np.column_stack(
        [rows_200k[name].fill_null("").to_numpy(zero_copy_only=False) for name in columns]
    )
    train, test = slice(0, 60_000), slice(60_000, 100_000)
    encoder = OneHotEncoder(handle_unknown="ignore")
    model = LogisticRegression(max_iter=300).fit(encoder.fit_transform(X[train]), y[train])
    held_out = log_loss(y[test], model.predict_proba(encoder.transform(X[test]))[:, 1])
    base_rate = log_loss(y[test], np.full(40_000, y[train].mean()))
    assert held_out < base_rate - 0.01, (held_out, base_rate)

    path = tmp_path / "rare.parquet"
    write_criteo_like(path, 20_000, seed=2, positive_rate=0.05)
    assert 0.03 < pq.read_table(path)["label"].to_numpy().mean() < 0.07


def test_progress_reports_every_chunk(tmp_path):
    seen = []
    write_criteo_like(tmp_path / "a.txt", 2500, chunk_rows=1000, progress=seen.append)
    assert seen == [1000, 1000, 500]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n_rows": 0}, "n_rows must be >= 1"),
        ({"n_rows": 10.0}, "n_rows must be an integer"),
        ({"n_rows": True}, "n_rows must be an integer"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"chunk_rows": 0}, "chunk_rows must be >= 1"),
        ({"first_chunk": -1}, "first_chunk must be >= 0"),
        ({"first_chunk": 2**32 - 1, "chunk_rows": 5}, r"at most 2\*\*32"),
        ({"positive_rate": 0.0}, "positive_rate"),
        ({"positive_rate": 1.0}, "positive_rate"),
        ({"missing_rates": {"C27": 0.1}}, "no column 'C27'"),
        ({"missing_rates": {"C1": 1.0}}, r"missing_rates\['C1'\]"),
        ({"missing_rates": {"label": 0.1}}, "no column 'label'"),
        ({"progress": 3}, "progress must be callable"),
    ],
)
def test_arguments_are_checked(tmp_path, arguments, message):
    arguments = {"n_rows": 10, **arguments}
    with pytest.raises(ValueError, match=message):
        write_criteo_like(tmp_path / "a.txt", **arguments)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["a.csv", "a.svm", "a.npz", "a", "a.TXT.GZ", "a.parquet.gz"])
def test_other_suffixes_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match=r"\.txt|parquet"):
        write_criteo_like(tmp_path / name, 10)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["a.txt", "a.txt.gz", "a.parquet"])
@pytest.mark.parametrize("where", ["drawing", "writing", "progress"])
def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch, name, where):
    path = tmp_path / name
    path.write_bytes(b"before")

    class Failure(Exception):
        pass

    def fail_after_the_first(function):
        calls = []

        def failing(*args, **kwargs):
            calls.append(1)
            if len(calls) > 1:
                raise Failure
            return function(*args, **kwargs)

        return failing

    progress = None
    if where == "drawing":
        draw = _criteo_like._Generator.draw

        def failing_draw(self, chunk, rows):
            if chunk == (_criteo_like.ROWS, 1):
                raise Failure
            return draw(self, chunk, rows)

        monkeypatch.setattr(_criteo_like._Generator, "draw", failing_draw)
    elif where == "writing":
        # The chunks are written on a thread: its failure ends the writing all the same.
        monkeypatch.setattr(
            _criteo_like, "_written_rows", fail_after_the_first(_criteo_like._written_rows)
        )
    else:
        progress = fail_after_the_first(lambda rows: None)
        progress(0)  # so that the first chunk's report raises

    with pytest.raises(Failure):
        write_criteo_like(path, 3000, chunk_rows=1000, progress=progress)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert path.read_bytes() == b"before"


SIGNALLED_WRITE = """
import signal, sys
from chromatic_learning.datasets import write_criteo_like

# A parent started in the background may have left SIGINT ignored; restore Python's handler.
signal.signal(signal.SIGINT, signal.default_int_handler)
write_criteo_like(
    sys.argv[1], 50_000_000, chunk_rows=20_000, progress=lambda rows: print(rows, flush=True)
)
"""


@pytest.mark.slow
def test_a_signal_while_writing_leaves_nothing_behind(tmp_path):
    # Ctrl-C raises KeyboardInterrupt, which the failures above cover; SIGTERM is turned into
    # chromatic_learning._output.Terminated for the time of the writing.
    path = tmp_path / "clicks.txt.gz"
    process = subprocess.Popen(
        [sys.executable, "-c", SIGNALLED_WRITE, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "20000"
        assert len(list(tmp_path.iterdir())) == 1  # the temporary file
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode != 0
    assert "Terminated: SIGTERM" in stderr
    assert list(tmp_path.iterdir()) == []
