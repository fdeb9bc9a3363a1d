"""The engine releases the GIL while it works, Ctrl-C stops a long fit promptly (the engine
polls a flag that the waiting thread raises), and ``n_jobs=None`` keeps to the threads that
``OMP_NUM_THREADS`` allows, as joblib's workers set it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from chromatic_learning import ChromaticEncoder
from chromatic_learning._input import available_cores, effective_n_jobs
from chromatic_learning.datasets import make_onehot_zipf

# Slow: subprocesses that fit long enough to be interrupted.
pytestmark = pytest.mark.slow

LONG_FIT = """
import signal
import numpy as np
import scipy.sparse as sp
from chromatic_learning import ChromaticEncoder

# A parent started in the background may have left SIGINT ignored; restore Python's handler.
signal.signal(signal.SIGINT, signal.default_int_handler)
rng = np.random.default_rng(0)
n_rows, per_row, n_features = 200_000, 200, 2_000
indices = rng.integers(0, n_features, size=n_rows * per_row, dtype=np.int32)
indptr = np.arange(0, n_rows * per_row + 1, per_row, dtype=np.int32)
X = sp.csr_matrix((np.ones(len(indices), np.float32), indices, indptr), shape=(n_rows, n_features))
print("ready", flush=True)
ChromaticEncoder(dense_threshold=None).fit(X)
print("finished", flush=True)
"""


def signal_a_running_fit(script: str, sig: int):
    """Run ``script``, send ``sig`` a second after it prints "ready".

    Returns its stdout, stderr, exit status and the seconds it took to end after the signal.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        sent = time.perf_counter()
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=60)
        latency = time.perf_counter() - sent
    finally:
        process.kill()
    return stdout, stderr, process.returncode, latency


def test_ctrl_c_interrupts_a_long_fit():
    stdout, stderr, status, latency = signal_a_running_fit(LONG_FIT, signal.SIGINT)
    assert "finished" not in stdout, "the fit ended before the interrupt: make it longer"
    assert "KeyboardInterrupt" in stderr
    assert status != 0
    # "Within a second or so"; the bound leaves room for a loaded machine.
    assert latency < 5.0, f"took {latency:.2f} s to stop"


def test_python_threads_run_during_a_fit():
    rng = np.random.default_rng(0)
    n_rows, per_row, n_features = 40_000, 100, 2_000
    indices = rng.integers(0, n_features, size=n_rows * per_row, dtype=np.int32)
    indptr = np.arange(0, n_rows * per_row + 1, per_row, dtype=np.int32)
    X = sp.csr_matrix(
        (np.ones(len(indices), np.float32), indices, indptr), shape=(n_rows, n_features)
    )
    ticks = 0
    stop = threading.Event()

    def count():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    counter = threading.Thread(target=count)
    counter.start()
    try:
        start = time.perf_counter()
        ChromaticEncoder(dense_threshold=None, n_jobs=1).fit(X)
        elapsed = time.perf_counter() - start
    finally:
        stop.set()
        counter.join()
    # With the GIL held for the whole fit the counter would barely move; released, it runs
    # freely (millions of ticks per second on one core).
    assert ticks > 20_000 * elapsed, (ticks, elapsed)


def test_input_changed_by_another_thread_gives_an_error_not_a_crash():
    from chromatic_learning import make_onehot_zipf

    X = make_onehot_zipf(200_000, 50_000, 11, random_state=0)
    original = X.indptr[100_000]
    stop = threading.Event()

    def mutate():
        while not stop.is_set():
            X.indptr[100_000] = 2**31 - 1
            X.indptr[100_000] = original

    mutator = threading.Thread(target=mutate)
    mutator.start()
    outcomes = []
    try:
        for _ in range(3):
            try:
                ChromaticEncoder().fit(X)
                outcomes.append("fitted")
            except ValueError as error:
                assert "indptr" in str(error)
                outcomes.append("refused")
    finally:
        stop.set()
        mutator.join()
    assert len(outcomes) == 3


def test_sigterm_ends_a_long_fit_as_ctrl_c_does():
    ended_by_signal = LONG_FIT.replace(
        "ChromaticEncoder(dense_threshold=None).fit(X)",
        "from chromatic_learning._output import Terminated, ending_on_signals\n"
        "try:\n"
        "    with ending_on_signals():\n"
        "        ChromaticEncoder(dense_threshold=None).fit(X)\n"
        "except Terminated as ended:\n"
        "    print('ended by', ended, flush=True)",
    )
    stdout, _, _, latency = signal_a_running_fit(ended_by_signal, signal.SIGTERM)
    assert "ended by SIGTERM" in stdout and "finished" in stdout
    assert latency < 5.0, f"took {latency:.2f} s to stop"


THREADS_OF_A_FIT = """
import os
import numpy as np
import pyarrow as pa
from chromatic_learning import (
    ChromaticCompressor, ChromaticEncoder, FrequencyEncoder, HashingEncoder, TableEncoder
)
from chromatic_learning.datasets import make_onehot_zipf

def threads():
    return len(os.listdir("/proc/self/task"))

X = make_onehot_zipf(3000, 800, 6, random_state=0)
y = np.arange(3000) % 2
rng = np.random.default_rng(0)
table = pa.table({
    "site": rng.integers(0, 50, 3000).astype(str),
    "ad": rng.integers(0, 300, 3000),
    "price": rng.random(3000),
})
before = threads()
ChromaticEncoder().fit(X).transform(X)
compressor = ChromaticCompressor(budget=64, random_state=0)
compressor.fit_to_fields(X, y)
compressor.transform(X)
ChromaticCompressor(budget=64, random_state=0, memory_limit="1G").fit(X, y)
ChromaticEncoder().fit(table).to_fields(table)
TableEncoder().fit_transform(table)
HashingEncoder(n_features=64).fit(table).transform(table)
FrequencyEncoder(n_features=64).fit(X).transform(X)
print(threads() - before)
"""


def threads_started_by_fits(omp_num_threads: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    # rayon's shared pool would start RAYON_NUM_THREADS threads.
    env["RAYON_NUM_THREADS"] = "8"
    if omp_num_threads is not None:
        env["OMP_NUM_THREADS"] = omp_num_threads
    out = subprocess.run(
        [sys.executable, "-c", THREADS_OF_A_FIT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc")
def test_omp_num_threads_bounds_every_step_of_the_engine():
    # With OMP_NUM_THREADS=1 no step may start the shared pool, only a pool of one thread.
    assert threads_started_by_fits("1") <= 2
    if available_cores() > 1:
        assert threads_started_by_fits(None) >= 8


def test_n_jobs_none_follows_omp_num_threads(monkeypatch):
    cores = available_cores()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert effective_n_jobs(None) is None
    for value, expected in [("1", 1), ("1,1", 1), ("0", None), ("many", None), (str(cores), None)]:
        monkeypatch.setenv("OMP_NUM_THREADS", value)
        if expected is not None and expected >= cores:
            expected = None  # one thread on one core: the shared pool is as small
        assert effective_n_jobs(None) == expected
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert effective_n_jobs(-1) is None  # an explicit count is the user's choice
    assert effective_n_jobs(1) == 1


def _threads_in_worker():
    return os.environ.get("OMP_NUM_THREADS"), effective_n_jobs(None)


def test_grid_search_workers_share_the_cores():
    cores = available_cores()
    seen = Parallel(n_jobs=2)(delayed(_threads_in_worker)() for _ in range(2))
    for omp, threads in seen:
        limit = max(1, cores // 2)
        assert omp == str(limit)
        assert threads == (limit if limit < cores else None)
    X = make_onehot_zipf(2000, 400, 5, random_state=1)
    y = (np.asarray(X[:, :40].sum(axis=1)).ravel() > 0).astype(int)
    pipeline = make_pipeline(
        ChromaticEncoder(output="onehot", random_state=0), LogisticRegression(max_iter=200)
    )
    grid = {"chromaticencoder__min_cooccurrence": [1, 2]}
    scores = [
        GridSearchCV(pipeline, grid, cv=2, n_jobs=n_jobs).fit(X, y).cv_results_["mean_test_score"]
        for n_jobs in (1, 2)
    ]
    np.testing.assert_allclose(scores[0], scores[1])
