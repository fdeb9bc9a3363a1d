"""The engine releases the GIL while it works, and Ctrl-C stops a long fit promptly: the engine
polls a flag that the waiting thread raises."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import numpy as np
import scipy.sparse as sp

from chromatic import ChromaticEncoder

LONG_FIT = """
import signal
import numpy as np
import scipy.sparse as sp
from chromatic import ChromaticEncoder

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
    from chromatic import make_onehot_zipf

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
        "from chromatic._output import Terminated, ending_on_signals\n"
        "try:\n"
        "    with ending_on_signals():\n"
        "        ChromaticEncoder(dense_threshold=None).fit(X)\n"
        "except Terminated as ended:\n"
        "    print('ended by', ended, flush=True)",
    )
    stdout, _, _, latency = signal_a_running_fit(ended_by_signal, signal.SIGTERM)
    assert "ended by SIGTERM" in stdout and "finished" in stdout
    assert latency < 5.0, f"took {latency:.2f} s to stop"
