"""Reading raw tables: chromatic's reading and indexing against its peers, in one process.

On a Criteo-like file (``datasets.write_criteo_like``: label, 13 integer and 26 hashed
categorical columns, heavy-tailed), as tab-separated text and as Parquet:

* chromatic: the file read chunk by chunk (text parsed by the engine, Parquet by row group) and
  every value given its feature id (the vocabulary built), as ``chromatic-learning fit`` does in its
  first pass;
* pyarrow alone: ``pyarrow.csv.read_csv`` of the same text (column types inferred, as a user
  calls it, and given) and ``pyarrow.parquet.read_table``, which build no vocabulary;
* scikit-learn on the same ``column=value`` tokens: ``OneHotEncoder(handle_unknown="ignore")``
  ``.fit_transform`` of the string columns, timed on every row of the file (a few columns per
  fit, since all of them as Python strings do not fit in memory), and
  ``FeatureHasher(input_type="string")`` of token lists, timed on the first ``--peer-rows`` rows
  and scaled to the file's rows (it is linear in the rows; building the token lists is not
  timed, so its figure is a floor). chromatic reads the text again after each fit of
  ``OneHotEncoder``, and these two are compared with the median of those runs, made in the same
  minutes.

``--compress`` also runs ``chromatic-learning compress --budget 1024`` over the text file under a
memory
limit in a child process, and reports its time and peak memory.

Usage: ``python benches/table_peers.py --rows 10000000 [--dir DIR] [--repeat N]
[--compress --memory-limit 16G] [--json PATH]``. ``benches/peers.py --tables`` runs the same.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def timed_runs(repeat: int, fn):
    """Return ``(seconds of each run, result of the last)`` of ``repeat`` calls of ``fn``.

    The first run of each reader pays for the memory it touches first (the vocabulary, the
    columns of a chunk) and reads the file from disk where the page cache does not hold it;
    later runs in the process reuse what the allocator kept.
    """
    seconds, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def chromatic_indexing(path: str, kind: str) -> int:
    """Read ``path`` and give every value its feature id; return the features."""
    from chromatic_learning._columns import TableFeatures
    from chromatic_learning._table_files import TableReading

    reading = TableReading(label="label", kind=kind)
    features = TableFeatures()
    for _, table, _ in reading.tables(path):
        features.fit_more_ids(table)
    return features.n_features


def pyarrow_text(path: str, typed: bool):
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from chromatic_learning._criteo_like import COLUMNS

    convert = None
    if typed:
        types = {name: pa.string() if name.startswith("C") else pa.int64() for name in COLUMNS}
        convert = pcsv.ConvertOptions(column_types=types)
    return pcsv.read_csv(
        path,
        read_options=pcsv.ReadOptions(column_names=list(COLUMNS)),
        parse_options=pcsv.ParseOptions(delimiter="\t"),
        convert_options=convert,
    )


def pyarrow_parquet(path: str):
    import pyarrow.parquet as pq

    return pq.read_table(path)


def feature_columns(path: str) -> list[str]:
    """The columns of the Parquet file ``path`` other than the label."""
    import pyarrow.parquet as pq

    return [name for name in pq.read_schema(path).names if name != "label"]


def string_frame(path: str, columns: list[str], n_rows: int | None = None):
    """The ``columns`` of ``path`` (its first ``n_rows`` rows) as a pandas frame of strings.

    Every value is its text (integers as written, not as pandas' floats); a null is ``None``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=columns)
    if n_rows is not None:
        table = table.slice(0, n_rows)
    strings = pa.table({name: pc.cast(table[name], pa.string()) for name in columns})
    return strings.to_pandas().astype(object)


def onehot_on_tokens(path: str, columns_per_fit: int, between=None) -> dict:
    """Time ``OneHotEncoder`` on every row of ``path``, ``columns_per_fit`` columns per fit.

    Its cost grows faster than the rows (each column's distinct values are sorted in Python),
    so a time scaled from fewer rows would understate it. One Python string per value of every
    column does not fit in memory at 10M rows, so the columns are encoded a few at a time and
    the times summed: ``OneHotEncoder`` encodes each column on its own and stacks the results,
    and on the first 2M rows of the 10M-row file the sum over fits of 4 columns (41.6 s) is
    within 5% of one fit of all of them (43.5 s).

    ``between`` (if given) is called after each fit, outside the timing: the reader it is
    compared with runs in the same minutes, so that a machine shared with other work slows both
    alike.
    """
    import gc

    from sklearn.preprocessing import OneHotEncoder

    names = feature_columns(path)
    seconds, n_columns_out, n_rows = 0.0, 0, 0
    for start in range(0, len(names), columns_per_fit):
        frame = string_frame(path, names[start : start + columns_per_fit])
        gc.collect()  # the frame's strings are not garbage: a collection now is not timed
        began = time.perf_counter()
        encoded = OneHotEncoder(handle_unknown="ignore").fit_transform(frame)
        seconds += time.perf_counter() - began
        n_columns_out += encoded.shape[1]
        n_rows = encoded.shape[0]
        del frame, encoded
        if between is not None:
            between()
    return {"rows": n_rows, "onehot_s": seconds, "onehot_columns": n_columns_out}


def hashing_on_tokens(path: str, n_rows: int) -> dict:
    """Time ``FeatureHasher`` on the ``column=value`` token lists of the first ``n_rows`` rows.

    Its cost is linear in the tokens, so the time scales to the file's rows.
    """
    from sklearn.feature_extraction import FeatureHasher

    names = feature_columns(path)
    frame = string_frame(path, names, n_rows)
    rows = [
        [f"{name}={value}" for name, value in zip(names, row, strict=True) if value is not None]
        for row in frame.itertuples(index=False, name=None)
    ]
    del frame
    start = time.perf_counter()
    FeatureHasher(n_features=2**20, input_type="string").transform(rows)
    return {"rows": len(rows), "hashing_s": time.perf_counter() - start}


def compress_run(text: str, memory_limit: str, out: str) -> dict:
    """Run ``chromatic-learning compress --budget 1024`` in a child; its time and peak memory."""
    command = [
        sys.executable, "-m", "chromatic_learning.cli", "compress", "--train", text,
        "--input-format", "criteo", "--budget", "1024", "--memory-limit", memory_limit,
        "--out", out, "--quiet",
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "peak_gib": peak_kib / 2**20, "memory_limit": memory_limit}


def run(args) -> dict:
    # Imported before any timing: a reader's first run pays for the memory it touches first
    # (and for the file where the page cache does not hold it), not for its modules.
    import pyarrow.csv
    import pyarrow.parquet  # noqa: F401

    import chromatic_learning._columns
    import chromatic_learning._table_files  # noqa: F401
    from chromatic_learning.datasets import write_criteo_like

    folder = Path(args.dir or tempfile.mkdtemp(prefix="criteo-like-"))
    text, parquet = folder / f"criteo-{args.rows}.txt", folder / f"criteo-{args.rows}.parquet"
    for path in (text, parquet):
        if not path.exists():
            start = time.perf_counter()
            write_criteo_like(path, args.rows, seed=0)
            print(f"wrote {path} in {time.perf_counter() - start:.1f}s", flush=True)
    result: dict = {"rows": args.rows, "text_bytes": text.stat().st_size}
    timings = {
        "chromatic_text": lambda: chromatic_indexing(str(text), "criteo"),
        "pyarrow_text_inferred": lambda: pyarrow_text(str(text), typed=False),
        "pyarrow_text_typed": lambda: pyarrow_text(str(text), typed=True),
        "chromatic_parquet": lambda: chromatic_indexing(str(parquet), "parquet"),
        "pyarrow_parquet": lambda: pyarrow_parquet(str(parquet)),
    }
    for name, fn in timings.items():
        runs, value = timed_runs(args.repeat, fn)
        result[name + "_s"] = min(runs)
        result[name + "_first_s"] = runs[0]
        if name.startswith("chromatic"):
            result["features"] = value
        print(f"{name:24s} best {min(runs):8.2f}s first {runs[0]:8.2f}s", flush=True)
    # chromatic reads the text once more after each fit of OneHotEncoder, and the peers of
    # scikit-learn are compared with the median of those runs.
    during: list[float] = []

    def chromatic_between() -> None:
        during.extend(timed_runs(1, timings["chromatic_text"])[0])

    onehot = onehot_on_tokens(str(parquet), args.onehot_columns_per_fit, chromatic_between)
    result["onehot_s"] = onehot["onehot_s"]
    result["onehot_columns"] = onehot["onehot_columns"]
    result["chromatic_text_during_onehot_s"] = during
    print(f"{'OneHotEncoder':24s} {result['onehot_s']:8.2f}s", flush=True)
    print(f"{'chromatic_text (during)':24s} {' '.join(f'{t:.2f}' for t in during)}", flush=True)
    hashing = hashing_on_tokens(str(parquet), min(args.peer_rows, args.rows))
    result["hashing_s"] = hashing["hashing_s"] * args.rows / hashing["rows"]
    result["peer_rows"] = hashing["rows"]
    text_s = result["chromatic_text_s"]
    during_s = float(np.median(during))
    result["ratios_first_run"] = {
        "pyarrow_read_csv_inferred / chromatic": result["pyarrow_text_inferred_first_s"]
        / result["chromatic_text_first_s"],
        "pyarrow_read_table / chromatic (parquet)": result["pyarrow_parquet_first_s"]
        / result["chromatic_parquet_first_s"],
    }
    result["ratios"] = {
        "pyarrow_read_csv_inferred / chromatic": result["pyarrow_text_inferred_s"] / text_s,
        "pyarrow_read_csv_typed / chromatic": result["pyarrow_text_typed_s"] / text_s,
        "pyarrow_read_table / chromatic (parquet)": result["pyarrow_parquet_s"]
        / result["chromatic_parquet_s"],
        "OneHotEncoder / chromatic": result["onehot_s"] / during_s,
        "FeatureHasher / chromatic": result["hashing_s"] / during_s,
    }
    for name, ratio in result["ratios"].items():
        print(f"{name:42s} {ratio:7.2f}x", flush=True)
    if args.compress:
        result["compress"] = compress_run(str(text), args.memory_limit, str(folder / "out"))
        print(f"compress: {result['compress']}", flush=True)
    return result


def main_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dir", default=None, help="folder of the data files (kept, reused)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--peer-rows", type=int, default=500_000, help="rows FeatureHasher is timed on (scaled)"
    )
    parser.add_argument(
        "--onehot-columns-per-fit", type=int, default=4, help="columns OneHotEncoder fits at once"
    )
    parser.add_argument("--compress", action="store_true")
    parser.add_argument("--memory-limit", default="16G")
    parser.add_argument("--json", metavar="PATH")
    return parser


def main(argv=None) -> None:
    args = main_parser().parse_args(argv)
    result = run(args)
    result["cpus"] = os.cpu_count()
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
