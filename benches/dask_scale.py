"""The fit on a Dask cluster: time with one and two worker processes, and what reaches the
client.

Data: a kdd12-shaped svmlight set (``write_onehot_zipf``, seed 0: 11 one-hot fields with Zipf
value frequencies, 1-based ids) of ``--rows`` rows over ``--features`` ids, written as
``--partitions`` files, each read on a worker as one partition. Each worker is a process with
one thread, and the engine runs one thread per task, so the ratio measures scale-out across
processes, not threads.

Measured, best of ``--repeat`` runs each:

* ``chromatic_learning.dask.fit`` on a ``LocalCluster`` of 1 and of 2 workers (cluster start-up not
  timed), and the streamed single-process ``fit_files`` with one engine thread, the same fit
  without Dask;
* the bytes each reduction delivers to the client (feature counts, pair counts), as logged by
  ``chromatic_learning.dask``, against the bytes of the input rows;
* the most bytes any worker received from the others, and the highest worker peak, per cluster
  size; ``--more-workers 8`` adds a cluster of 8 workers limited to ``--worker-memory`` each
  (one run), a larger cluster simulated on this machine;
* that the fits give the same colors.

With ``--heavy-tail ROWS``, instead: heavy-tailed rows (``make_heavy_tailed``: a few rows of
thousands of features bring most of the pairs, as in package contents) in blocks of
``--block-rows`` rows, fitted on a ``LocalCluster`` of 2 one-thread workers limited to
``--worker-memory`` each: the time, each worker's and the client's peak resident memory, and
that the colors and codes are those of one machine (or how the fit failed).

The machine is shared and noisy: compare the ratios of one run. Written as JSON (``--json``)
and a Markdown table (``--markdown``).

Usage: ``python benches/dask_scale.py [--rows 1000000] [--partitions 8] [--more-workers 8]
[--json PATH] [--markdown PATH]``, or
``python benches/dask_scale.py --heavy-tail 30000 [--longest 2500]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import re
import tempfile
import time
from pathlib import Path

import dask.array as da
import numpy as np
import scipy.sparse as sp
from distributed import Client, LocalCluster

import chromatic_learning
import chromatic_learning.dask as cd
from chromatic_learning import ChromaticEncoder
from chromatic_learning.datasets import make_heavy_tailed, write_onehot_zipf
from chromatic_learning.streaming import fit_files


class GatheredBytes(logging.Handler):
    """Collects the sizes ``chromatic_learning.dask`` logs for what each reduction gathers."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.sizes: dict[str, int] = {}

    def emit(self, record):
        match = re.fullmatch(r"gathered (.+): (\d+) bytes", record.getMessage())
        if match:
            self.sizes[match.group(1)] = int(match.group(2))


def best_time(run, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def received_bytes(dask_worker) -> int:
    """The bytes a worker has received from other workers (its bounded transfer log)."""
    return sum(entry["total"] for entry in dask_worker.transfer_incoming_log)


def peak_rss_gb() -> float:
    """The process's peak resident memory (``VmHWM``: unlike ``ru_maxrss``, not carried over
    from the process a worker was forked from)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e9
    raise OSError("/proc/self/status gives no VmHWM")


def heavy_tail(args) -> None:
    """Fit heavy-tailed rows on two memory-limited workers; compare with one machine."""
    X = sp.csr_matrix(
        make_heavy_tailed(
            args.heavy_tail, args.heavy_features, longest=args.longest, random_state=0
        )
    )
    lengths = np.diff(X.indptr)
    blocks = [args.block_rows] * (X.shape[0] // args.block_rows)
    blocks += [X.shape[0] % args.block_rows] if X.shape[0] % args.block_rows else []
    data = da.from_array(X, chunks=(tuple(blocks), (X.shape[1],)), asarray=False)
    results = {
        "rows": X.shape[0],
        "features": X.shape[1],
        "longest_row": int(lengths.max()),
        "row_pairs": int((lengths * (lengths - 1) // 2).sum()),
        "partitions": len(blocks),
        "worker_memory": args.worker_memory,
    }
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit=args.worker_memory,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        start = time.perf_counter()
        try:
            encoder = cd.fit(data, random_state=0)
            results["dask_fit_s"] = time.perf_counter() - start
        except Exception as error:  # the failure is the measurement
            results["failed"] = f"{type(error).__name__}: {error}"[:300]
            encoder = None
        results["worker_peak_rss_gb"] = sorted(client.run(peak_rss_gb).values())
    results["client_peak_rss_gb"] = peak_rss_gb()
    if encoder is not None:
        reference = ChromaticEncoder(random_state=0).fit(X)
        results["edges"] = encoder.n_edges_
        results["colors"] = encoder.n_colors_
        results["same_as_one_machine"] = bool(
            np.array_equal(encoder.colors_, reference.colors_)
            and np.array_equal(encoder.codes_, reference.codes_)
        )
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--heavy-tail", type=int, default=0, metavar="ROWS")
    parser.add_argument("--heavy-features", type=int, default=350_000)
    parser.add_argument("--longest", type=int, default=2_500)
    parser.add_argument("--block-rows", type=int, default=2_000)
    parser.add_argument("--worker-memory", default="4GB")
    parser.add_argument("--more-workers", type=int, nargs="*", default=[], metavar="N")
    args = parser.parse_args()
    if args.heavy_tail:
        heavy_tail(args)
        return

    logger = logging.getLogger("chromatic_learning.dask")
    logger.setLevel(logging.INFO)
    gathered = GatheredBytes()
    logger.addHandler(gathered)
    params = {"random_state": 0, "n_jobs": 1}
    with tempfile.TemporaryDirectory() as tmp:
        rows_per_part = -(-args.rows // args.partitions)
        paths = []
        for part in range(args.partitions):
            n_rows = min(rows_per_part, args.rows - part * rows_per_part)
            path = Path(tmp) / f"part{part}.svm"
            # Chunk c of the stream is seeded (0, c): the parts continue one another.
            write_onehot_zipf(
                path, n_rows, args.features, chunk_rows=rows_per_part, first_chunk=part
            )
            paths.append(path)
        input_bytes = sum(p.stat().st_size for p in paths)
        results = {
            "rows": args.rows,
            "features": args.features,
            "partitions": args.partitions,
            "input_bytes": input_bytes,
            "machine": f"{platform.machine()}, {platform.python_version()}",
            "chromatic": chromatic_learning.__version__,
        }
        local_time, local = best_time(
            lambda: fit_files(ChromaticEncoder(**params), paths), args.repeat
        )
        reference = ChromaticEncoder(**params)
        fit_files(reference, paths)
        results["streamed_fit_s"] = local_time
        results["edges"] = reference.n_edges_
        results["colors"] = reference.n_colors_
        for workers in (1, 2, *args.more_workers):
            with (
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    memory_limit=args.worker_memory if workers > 2 else "auto",
                    dashboard_address=None,
                ) as cluster,
                Client(cluster) as client,
            ):
                repeat = args.repeat if workers <= 2 else 1
                elapsed, encoder = best_time(lambda: cd.fit(paths, **params), repeat)
                received = list(client.run(received_bytes).values())
                peaks = list(client.run(peak_rss_gb).values())
            assert np.array_equal(encoder.colors_, reference.colors_)
            assert np.array_equal(encoder.codes_, reference.codes_)
            results[f"dask_fit_{workers}_workers_s"] = elapsed
            # Over the runs on this cluster: what each worker received, and its peak.
            results[f"received_per_worker_{workers}_workers_bytes"] = max(received) / repeat
            results[f"worker_peak_rss_{workers}_workers_gb"] = max(peaks)
        results["speedup_2_workers"] = (
            results["dask_fit_1_workers_s"] / results["dask_fit_2_workers_s"]
        )
        results["gathered_bytes"] = dict(gathered.sizes)
        results["gathered_per_input_byte"] = sum(gathered.sizes.values()) / input_bytes
        results["pair_count_bytes_per_edge"] = gathered.sizes["pair counts"] / max(
            1, reference.n_edges_
        )
        del local

    lines = [
        "| rows | partitions | streamed fit, 1 process | dask, 1 worker | dask, 2 workers | "
        "2 vs 1 | gathered / input | pair counts per edge |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {args.rows:,} | {args.partitions} | {results['streamed_fit_s']:.1f} s | "
        f"{results['dask_fit_1_workers_s']:.1f} s | {results['dask_fit_2_workers_s']:.1f} s | "
        f"{results['speedup_2_workers']:.2f}x | {results['gathered_per_input_byte']:.3f} | "
        f"{results['pair_count_bytes_per_edge']:.1f} B |",
        "",
        "| workers | fit | most received by a worker | highest worker peak |",
        "|---:|---:|---:|---:|",
    ]
    for workers in (1, 2, *args.more_workers):
        lines.append(
            f"| {workers} | {results[f'dask_fit_{workers}_workers_s']:.1f} s | "
            f"{results[f'received_per_worker_{workers}_workers_bytes'] / 1e6:.0f} MB | "
            f"{results[f'worker_peak_rss_{workers}_workers_gb']:.2f} GB |"
        )
    print(json.dumps(results, indent=2))
    print("\n".join(lines))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
