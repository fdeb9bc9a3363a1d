"""On a checkout without ``../shared/data``, the tests that need the real datasets are skipped
with the reason; ``CHROMATIC_REQUIRE_DATA`` (set in CI) makes them fail instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Slow: a pytest run inside the test.
pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parent


def run_graph_tests(data_dir: Path, **env: str) -> subprocess.CompletedProcess:
    """The graph tests (some on generated rows, some on the real datasets), slow ones included,
    with the datasets looked for in ``data_dir``, run from outside the checkout so that nothing
    lands in it."""
    environment = {k: v for k, v in os.environ.items() if k != "CHROMATIC_REQUIRE_DATA"}
    environment.update(CHROMATIC_DATA_DIR=str(data_dir), **env)
    # The run starts elsewhere: a relative PYTHONPATH (a checkout's python/) must still point here.
    paths = environment.get("PYTHONPATH", "").split(os.pathsep)
    environment["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in paths if p)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "-m",
            "slow or not slow",
            TESTS / "test_graph.py",
        ],
        capture_output=True,
        text=True,
        env=environment,
        cwd=data_dir.parent,
    )


def test_missing_datasets_skip_with_the_reason(tmp_path):
    missing = tmp_path / "no-data"
    done = run_graph_tests(missing)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "skipped" in done.stdout and "passed" in done.stdout
    assert f"{missing / 'load.py'} not found" in done.stdout


def test_missing_datasets_fail_when_required(tmp_path):
    missing = tmp_path / "no-data"
    done = run_graph_tests(missing, CHROMATIC_REQUIRE_DATA="1")
    assert done.returncode == 1, done.stdout[-2000:]
    assert "CHROMATIC_REQUIRE_DATA is set" in done.stdout
