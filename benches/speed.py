"""Speed of chromatic against peers on a kdd12-like synthetic matrix, in one process.

The matrix comes from ``chromatic.datasets.make_onehot_zipf`` (seed 0): by default 1M rows,
1M feature ids, 11 one-hot fields with Zipf value frequencies, so exactly 11 non-zeros per row.
Each step is timed as the best of ``--repeat`` runs:

* ``ChromaticEncoder().fit(X)``: statistics, co-occurrence graph, coloring and codes;
* ``enc.transform(X)``: one table look-up per non-zero;
* ``cooccurrence_graph(X)``: chromatic's graph alone, to split ``fit`` into graph and the rest;
* scipy ``X.T @ X`` (the textbook co-occurrence graph), then dropping its diagonal with
  ``setdiag(0)`` and ``eliminate_zeros()``, timed separately;
* ``np.bincount(X.indices)``: one pass over the non-zeros, the floor for any encoder.

The machine is shared and noisy, so absolute times vary from run to run; the ratios to peers
measured in the same process on the same data are the figures to compare (see the yardsticks
in DESIGN.md section 4). Peak RSS is the process peak (``getrusage``); it is also taken after
the chromatic steps, before scipy runs, so the two can be told apart.

Usage: ``python benches/speed.py [--rows N] [--features N] [--fields N] [--repeat N]
[--threads N] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy

import chromatic
from chromatic import ChromaticEncoder, cooccurrence_graph
from chromatic.datasets import make_onehot_zipf


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls of ``fn`` and the result of the last call."""
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None  # let the previous result go before the next run
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


def run(args: argparse.Namespace) -> dict[str, Any]:
    res: dict[str, Any] = {
        "rows": args.rows,
        "features": args.features,
        "fields": args.fields,
        "repeat": args.repeat,
        "threads": args.threads,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "chromatic": chromatic.__version__,
    }
    start = time.perf_counter()
    X = make_onehot_zipf(args.rows, args.features, args.fields, random_state=0)
    res["generate_s"] = time.perf_counter() - start
    res["nnz"] = nnz = X.nnz

    enc = ChromaticEncoder(n_jobs=args.threads)
    res["fit_s"], _ = best_of(args.repeat, lambda: enc.fit(X))
    res["n_colors"], res["n_dense"] = enc.n_colors_, len(enc.dense_features_)
    res["n_edges"], res["max_degree"] = enc.n_edges_, enc.max_degree_
    res["transform_s"], _ = best_of(args.repeat, lambda: enc.transform(X))
    res["graph_s"], graph = best_of(args.repeat, lambda: cooccurrence_graph(X, n_jobs=args.threads))
    res["graph_nnz"] = graph.nnz
    del graph
    res["peak_rss_chromatic_mib"] = peak_rss_mib()

    n_features = X.shape[1]
    res["bincount_s"], _ = best_of(
        args.repeat, lambda: np.bincount(X.indices, minlength=n_features)
    )

    # X.T @ X and the diagonal drop, timed separately on each product.
    res["xtx_s"] = res["xtx_diag_s"] = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        product = X.T @ X  # CSC; the diagonal drop works in place
        res["xtx_s"] = min(res["xtx_s"], time.perf_counter() - start)
        start = time.perf_counter()
        product.setdiag(0)
        product.eliminate_zeros()
        res["xtx_diag_s"] = min(res["xtx_diag_s"], time.perf_counter() - start)
        res["xtx_offdiag_nnz"] = product.nnz
        del product
    res["peak_rss_mib"] = peak_rss_mib()

    xtx_full = res["xtx_s"] + res["xtx_diag_s"]
    res["transform_ns_per_nnz"] = res["transform_s"] / nnz * 1e9
    res["bincount_ns_per_nnz"] = res["bincount_s"] / nnz * 1e9
    res["ratio_fit_over_xtx"] = res["fit_s"] / res["xtx_s"]
    res["ratio_fit_over_xtx_nodiag"] = res["fit_s"] / xtx_full
    res["ratio_transform_over_bincount"] = res["transform_s"] / res["bincount_s"]
    res["speedup_graph_vs_xtx"] = res["xtx_s"] / res["graph_s"]
    res["speedup_graph_vs_xtx_nodiag"] = xtx_full / res["graph_s"]
    res["fit_minus_graph_s"] = res["fit_s"] - res["graph_s"]
    return res


def report(r: dict[str, Any]) -> str:
    """The results as a plain-text table."""

    def line(name: str, seconds: float, note: str = "") -> str:
        return f"  {name:<36}{seconds:>9.3f} s  {note}".rstrip()

    nnz = r["nnz"]
    out = [
        f"kdd12-like: {r['rows']:,} rows x {r['features']:,} features, {r['fields']} fields, "
        f"{nnz:,} non-zeros (generated in {r['generate_s']:.2f} s)",
        f"best of {r['repeat']}; threads={r['threads'] or 'all'} of {r['cpu_count']} cores; "
        f"chromatic {r['chromatic']}, numpy {r['numpy']}, scipy {r['scipy']}",
        "",
        "step                                     time  (per non-zero / notes)",
        line(
            "ChromaticEncoder().fit(X)",
            r["fit_s"],
            f"{r['n_colors']} colors ({r['n_dense']} dense), {r['n_edges']:,} edges, "
            f"max degree {r['max_degree']:,}",
        ),
        line("cooccurrence_graph(X) alone", r["graph_s"], f"{r['graph_nnz'] // 2:,} edges"),
        line(
            "fit minus graph alone",
            r["fit_minus_graph_s"],
            "(rough: fit's graph leaves dense features out)",
        ),
        line("enc.transform(X)", r["transform_s"], f"{r['transform_ns_per_nnz']:.1f} ns"),
        line(
            "np.bincount(X.indices) (floor)", r["bincount_s"], f"{r['bincount_ns_per_nnz']:.1f} ns"
        ),
        line("scipy X.T @ X", r["xtx_s"]),
        line(
            "  then setdiag(0)+eliminate_zeros",
            r["xtx_diag_s"],
            f"{r['xtx_offdiag_nnz'] // 2:,} edges",
        ),
        "",
        "ratios (same process, same data)",
        f"  fit / (X.T @ X)                       {r['ratio_fit_over_xtx']:>9.2f}",
        f"  fit / (X.T @ X + drop diagonal)       {r['ratio_fit_over_xtx_nodiag']:>9.2f}",
        f"  transform / bincount (per nnz)        {r['ratio_transform_over_bincount']:>9.2f}",
        f"  graph speedup vs X.T @ X              {r['speedup_graph_vs_xtx']:>9.2f}x",
        f"  graph speedup vs X.T @ X + diagonal   {r['speedup_graph_vs_xtx_nodiag']:>9.2f}x",
        "",
        f"peak RSS: {r['peak_rss_chromatic_mib']:,.0f} MiB after chromatic steps, "
        f"{r['peak_rss_mib']:,.0f} MiB overall",
    ]
    if r["graph_nnz"] != r["xtx_offdiag_nnz"]:
        out.append("WARNING: cooccurrence_graph and X.T @ X disagree on the number of edges")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=1_000_000)
    parser.add_argument("--fields", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=3, help="runs per step; the best counts")
    parser.add_argument("--threads", type=int, default=None, help="chromatic threads (all)")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers to this file")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    results = run(args)
    print(report(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
