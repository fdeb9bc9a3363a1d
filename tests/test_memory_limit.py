"""A memory limit bounds the whole process: its peak resident memory, measured in a child."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from chromatic_learning.datasets import write_onehot_zipf

# Slow: a fit at a size where the memory limit matters.
pytestmark = pytest.mark.slow

MIB = 2**20

#: Runs a command, then prints its peak resident memory (KiB on Linux) and what it printed.
MEASURE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
if done.returncode:
    sys.exit(done.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(done.stdout)
"""


def peak_of(*args) -> tuple[int, str]:
    """Run ``chromatic ARGS`` in a child; return its peak resident bytes and its output."""
    command = [sys.executable, "-m", "chromatic_learning.cli", *map(str, args)]
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    peak, output = result.stdout.split("\n", 1)
    return int(peak) * 1024, output


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_a_fit_under_a_memory_limit_stays_within_it(tmp_path):
    rows, small = tmp_path / "rows.svm", tmp_path / "small.svm"
    write_onehot_zipf(rows, 300_000, 300_000, 11, random_state=0)
    write_onehot_zipf(small, 1_000, 1_000, 11, random_state=0)
    # The interpreter, its libraries and the engine, fitting almost nothing.
    at_rest, _ = peak_of("fit", small, "-o", tmp_path / "small.npz", "--quiet")
    chunk = ["--chunk-mb", "8"]
    whole, _ = peak_of("fit", rows, "-o", tmp_path / "whole.npz", "--quiet", *chunk)
    limit = 250 * MIB
    peak, output = peak_of(
        "fit", rows, "-o", tmp_path / "limited.npz", "--json", *chunk, "--memory-limit", "250M"
    )
    # The limit binds: the graph is counted in shards, and the fit without it takes more.
    assert json.loads(output)["graph_passes"] > 1
    assert whole > at_rest + limit
    # One chunk of 8 MiB holds its text twice (the next block is read meanwhile) and its rows.
    one_chunk = 64 * MIB
    assert peak <= at_rest + limit + one_chunk, (peak, at_rest, whole)
    # Compression colors the same graph, then rates its buckets and writes every row.
    compress = ["compress", "--train", rows, "--budget", "256", "--n-frequent", "64", *chunk]
    peak, _ = peak_of(*compress, "--out", tmp_path / "out", "--memory-limit", "250M", "--quiet")
    assert peak <= at_rest + limit + one_chunk, (peak, at_rest)
