"""Each step of chromatic against its peers, in one process, on the same data.

Data sets (``--data``):

* ``kdd12``: ``make_onehot_zipf`` (seed 0), 1M rows x 1M ids, 11 one-hot fields with Zipf value
  frequencies: exactly 11 non-zeros a row, optimum 11 colors (KDD Cup 2012 track 2's shape);
* ``criteo``: the same law with 40 fields of which each row keeps 5 to 40 (22.5 on average),
  optimum 40 colors;
* ``flights``: the 3M-row real data set from ``../shared/data`` (14 one-hot fields);
* ``kdd12-100k``: the first law at a tenth of the rows, a graph networkx can still color.

Steps, each timed as the best of ``--repeat`` runs, with the peak memory it adds (the process's
high-water mark is reset before each step; ``VmHWM`` minus the resident size before it):

* graph: ``cooccurrence_graph(X)`` (the weighted graph in feature ids, as scipy CSR) against
  scipy ``X.T @ X`` followed by dropping its diagonal (the same matrix);
* coloring: the engine's largest-first greedy coloring against rustworkx
  ``graph_greedy_color`` (largest degree first, its default) on the same graph, coloring call
  only, and networkx ``greedy_color(G, "largest_first")`` on graphs of at most
  ``--networkx-edges`` edges (it needs hundreds of bytes per edge); colors for each;
* transform: ``ChromaticEncoder.transform`` against scikit-learn ``FeatureHasher`` on lists of
  string tokens (its fastest input for integer features; building the lists is not timed) and
  against the floor ``np.bincount(X.indices)``, in ns per non-zero;
* fit: ``ChromaticEncoder().fit`` against LightGBM's ``Dataset.construct`` (exclusive feature
  bundling on, its default), where lightgbm is installed;
* threads: graph and transform with one thread and with two.

``--scaling`` instead times fit and transform on the kdd12 shape for 1, 2, 4 and 8M rows;
``--tables`` times reading raw tables (``benches/table_peers.py``: a Criteo-like file as text
and Parquet, against pyarrow, OneHotEncoder and FeatureHasher) on ``--rows`` rows.

The machine is shared and noisy: the ratios measured in the same run are the figures to
compare. Results are printed as a table and written as JSON (``--json``) and a Markdown table
(``--markdown``).

Usage: ``python benches/peers.py [--data kdd12 criteo flights] [--repeat N] [--json PATH]
[--markdown PATH] [--scaling]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import scipy.sparse as sp

import chromatic_learning
from chromatic_learning import ChromaticEncoder, cooccurrence_graph
from chromatic_learning.datasets import make_onehot_zipf
from chromatic_learning.graph import coloring_graph

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return float("nan")


def measured(repeat: int, fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """``(best seconds, peak MiB added, result of the last run)`` of ``repeat`` calls."""
    caller = sys._getframe(1).f_code.co_name
    print(f"  {time.strftime('%H:%M:%S')} {caller}", file=sys.stderr, flush=True)
    best, peak, result = float("inf"), 0.0, None
    for _ in range(repeat):
        result = None  # let the previous result go before the next run
        gc.collect()
        before = _status_mib("VmRSS")
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # resets VmHWM to the current resident size
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
        peak = max(peak, _status_mib("VmHWM") - before)
    return best, peak, result


def load(name: str, rows: int) -> tuple[sp.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(0)
    if name == "kdd12":
        X = sp.csr_matrix(make_onehot_zipf(rows, 1_000_000, 11, random_state=0))
    elif name == "kdd12-100k":  # small enough for networkx
        X = sp.csr_matrix(make_onehot_zipf(rows // 10, 1_000_000, 11, random_state=0))
    elif name == "criteo":
        X = sp.csr_matrix(
            make_onehot_zipf(rows, 1_000_000, 40, min_fields_per_row=5, random_state=0)
        )
    elif name == "flights":
        sys.path.insert(0, str(SHARED_DATA))
        import load as shared  # the shared data sets' loader

        X, y, _ = shared.load("flights")
        return sp.csr_matrix(X, dtype=np.float32), np.asarray(y)
    else:
        raise ValueError(f"unknown data set {name!r}")
    return X, (rng.random(X.shape[0]) < 0.2).astype(np.int64)


def run_graph(X, repeat, res):
    def product():
        G = (X.T @ X).tocsr()
        G.setdiag(0)
        G.eliminate_zeros()
        return G

    res["graph_s"], res["graph_mib"], graph = measured(repeat, lambda: cooccurrence_graph(X))
    res["xtx_s"], res["xtx_mib"], xtx = measured(repeat, product)
    res["edges"] = graph.nnz // 2
    res["graph_equal_xtx"] = bool(graph.nnz == xtx.nnz and (graph != xtx).nnz == 0)
    del xtx
    one, _, _ = measured(repeat, lambda: cooccurrence_graph(X, n_jobs=1))
    two, _, _ = measured(repeat, lambda: cooccurrence_graph(X, n_jobs=2))
    res["graph_1_thread_s"], res["graph_2_threads_s"] = one, two
    return graph


def run_coloring(graph, repeat, networkx_edges, rustworkx_edges, res):
    colorable = coloring_graph(graph)
    res["coloring_s"], _, colors = measured(repeat, lambda: colorable.color("largest_first"))
    res["coloring_colors"] = int(colors.max()) + 1 if len(colors) else 0
    upper = sp.triu(graph, k=1).tocoo()
    n, edges = graph.shape[0], res["edges"]
    if edges > rustworkx_edges:
        res["rustworkx"] = f"not run: {edges:,} edges"
    else:
        import rustworkx as rx

        G = rx.PyGraph()  # edges are unique already; no per-edge duplicate check
        G.add_nodes_from(range(n))
        G.add_edges_from_no_data(list(zip(upper.row.tolist(), upper.col.tolist(), strict=True)))
        res["rustworkx_s"], _, coloring = measured(repeat, lambda: rx.graph_greedy_color(G))
        res["rustworkx_colors"] = max(coloring.values()) + 1
        del G, coloring
    if edges > networkx_edges:
        res["networkx"] = f"not run: {edges:,} edges"
    else:
        import networkx as nx

        G = nx.Graph()
        G.add_nodes_from(range(n))
        G.add_edges_from(zip(upper.row.tolist(), upper.col.tolist(), strict=True))
        res["networkx_s"], _, coloring = measured(
            1, lambda: nx.greedy_color(G, strategy="largest_first")
        )
        res["networkx_colors"] = max(coloring.values()) + 1


def run_transform(X, repeat, res):
    from sklearn.feature_extraction import FeatureHasher

    nnz = X.nnz
    encoder = ChromaticEncoder().fit(X)
    res["fit_colors"] = encoder.n_colors_
    res["transform_s"], _, _ = measured(repeat, lambda: encoder.transform(X))
    one = ChromaticEncoder(n_jobs=1).fit(X)
    two = ChromaticEncoder(n_jobs=2).fit(X)
    res["transform_1_thread_s"], _, _ = measured(repeat, lambda: one.transform(X))
    res["transform_2_threads_s"], _, _ = measured(repeat, lambda: two.transform(X))
    n = X.shape[1]
    res["bincount_s"], _, _ = measured(repeat, lambda: np.bincount(X.indices, minlength=n))
    names = np.array([str(f) for f in range(n)], dtype=object)
    tokens = [
        names[X.indices[a:b]].tolist() for a, b in zip(X.indptr[:-1], X.indptr[1:], strict=True)
    ]
    hasher = FeatureHasher(n_features=2**20, input_type="string", alternate_sign=False)
    res["feature_hasher_s"], _, _ = measured(repeat, lambda: hasher.transform(tokens))
    for key in ("transform", "bincount", "feature_hasher"):
        res[f"{key}_ns_per_nnz"] = res[f"{key}_s"] / nnz * 1e9


def run_fit(X, y, repeat, res):
    res["fit_s"], res["fit_mib"], _ = measured(repeat, lambda: ChromaticEncoder().fit(X))
    try:
        import lightgbm as lgb
    except ImportError:
        res["lightgbm"] = "not installed"
        return
    params = {"verbose": -1, "num_threads": os.cpu_count(), "enable_bundle": True}

    def construct():
        return lgb.Dataset(X, label=y, params=params, free_raw_data=False).construct()

    res["lightgbm_s"], res["lightgbm_mib"], dataset = measured(repeat, construct)
    res["lightgbm_features"] = dataset.num_feature()


def run_dataset(name, args) -> dict[str, Any]:
    start = time.perf_counter()
    X, y = load(name, args.rows)
    res: dict[str, Any] = {
        "data": name,
        "rows": X.shape[0],
        "features": X.shape[1],
        "nnz": X.nnz,
        "load_s": time.perf_counter() - start,
    }
    graph = run_graph(X, args.repeat, res)
    run_coloring(graph, args.repeat, args.networkx_edges, args.rustworkx_edges, res)
    del graph
    run_transform(X, args.repeat, res)
    run_fit(X, y, args.repeat, res)
    ratios = {
        "graph_vs_xtx": res["xtx_s"] / res["graph_s"],
        # Peaks under 16 MiB are within the allocator's noise.
        "graph_memory_vs_xtx": res["graph_mib"] / res["xtx_mib"]
        if res["xtx_mib"] >= 16
        else float("nan"),
        "coloring_vs_rustworkx": res.get("rustworkx_s", float("nan")) / res["coloring_s"],
        "coloring_vs_networkx": res.get("networkx_s", float("nan")) / res["coloring_s"],
        "transform_over_bincount": res["transform_s"] / res["bincount_s"],
        "transform_vs_feature_hasher": res["feature_hasher_s"] / res["transform_s"],
        "fit_vs_lightgbm": res.get("lightgbm_s", float("nan")) / res["fit_s"],
        "graph_2_threads": res["graph_1_thread_s"] / res["graph_2_threads_s"],
        "transform_2_threads": res["transform_1_thread_s"] / res["transform_2_threads_s"],
    }
    res["ratios"] = ratios
    return res


def run_scaling(args) -> list[dict[str, Any]]:
    out = []
    for millions in (1, 2, 4, 8):
        X = make_onehot_zipf(millions * 1_000_000, 1_000_000, 11, random_state=0)
        encoder = ChromaticEncoder()
        fit_s, fit_mib, _ = measured(args.repeat, lambda X=X, e=encoder: e.fit(X))
        transform_s, _, _ = measured(args.repeat, lambda X=X, e=encoder: e.transform(X))
        one = ChromaticEncoder(n_jobs=1)
        fit_1_s, _, _ = measured(args.repeat, lambda X=X, e=one: e.fit(X))
        out.append(
            {
                "rows": X.shape[0],
                "fit_s": fit_s,
                "fit_1_thread_s": fit_1_s,
                "fit_mib": fit_mib,
                "transform_s": transform_s,
                "edges": encoder.n_edges_,
                "colors": encoder.n_colors_,
            }
        )
        print(
            f"{millions}M rows: fit {fit_s:.2f} s (1 thread {fit_1_s:.2f} s, "
            f"+{fit_mib:,.0f} MiB), transform {transform_s:.2f} s, "
            f"{encoder.n_edges_:,} edges",
            flush=True,
        )
        del X, encoder, one
    return out


def table(results: list[dict[str, Any]]) -> str:
    """The ratios as a Markdown table: one column per data set."""

    def cell(r, key, digits=1, suffix="x"):
        value = r["ratios"][key]
        return "n/a" if value != value else f"{value:.{digits}f}{suffix}"

    rows = [
        ("graph: X.T @ X time / chromatic time", "graph_vs_xtx", 1, "x"),
        ("graph: chromatic peak memory / X.T @ X peak", "graph_memory_vs_xtx", 2, ""),
        ("coloring: rustworkx time / chromatic time", "coloring_vs_rustworkx", 0, "x"),
        ("coloring: networkx time / chromatic time", "coloring_vs_networkx", 0, "x"),
        ("transform: chromatic / bincount floor (per nnz)", "transform_over_bincount", 1, "x"),
        ("transform: FeatureHasher time / chromatic time", "transform_vs_feature_hasher", 0, "x"),
        ("fit: LightGBM Dataset.construct / chromatic-learning fit", "fit_vs_lightgbm", 1, "x"),
        ("graph: 1 thread / 2 threads", "graph_2_threads", 2, "x"),
        ("transform: 1 thread / 2 threads", "transform_2_threads", 2, "x"),
    ]
    names = [
        f"{r['data']} ({r['rows'] / 1e6:g}M x {r['features'] / 1e6:.2g}M, "
        f"{r['nnz'] / r['rows']:.1f}/row)"
        for r in results
    ]
    lines = ["| ratio | " + " | ".join(names) + " |", "|---" * (len(results) + 1) + "|"]
    for label, key, digits, suffix in rows:
        cells = " | ".join(cell(r, key, digits, suffix) for r in results)
        lines.append(f"| {label} | {cells} |")
    lines.append("")
    lines.append("| absolute | " + " | ".join(names) + " |")
    lines.append("|---" * (len(results) + 1) + "|")
    absolute = [
        ("graph s (X.T @ X s)", lambda r: f"{r['graph_s']:.2f} ({r['xtx_s']:.2f})"),
        ("graph MiB (X.T @ X MiB)", lambda r: f"{r['graph_mib']:,.0f} ({r['xtx_mib']:,.0f})"),
        ("edges", lambda r: f"{r['edges']:,}"),
        (
            "coloring s, colors (rustworkx)",
            lambda r: (
                f"{r['coloring_s']:.3f}, {r['coloring_colors']} "
                f"({r.get('rustworkx_s', float('nan')):.2f}, {r.get('rustworkx_colors', 'n/a')})"
            ),
        ),
        (
            "networkx s, colors",
            lambda r: (
                f"{r['networkx_s']:.1f}, {r['networkx_colors']}"
                if "networkx_s" in r
                else r.get("networkx", "n/a")
            ),
        ),
        (
            "transform ns/nnz (bincount, FeatureHasher)",
            lambda r: (
                f"{r['transform_ns_per_nnz']:.1f} ({r['bincount_ns_per_nnz']:.1f}, "
                f"{r['feature_hasher_ns_per_nnz']:.0f})"
            ),
        ),
        (
            "fit s, colors (LightGBM construct s)",
            lambda r: (
                f"{r['fit_s']:.2f}, {r['fit_colors']} ({r.get('lightgbm_s', float('nan')):.1f})"
            ),
        ),
    ]
    for label, show in absolute:
        lines.append(f"| {label} | " + " | ".join(show(r) for r in results) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="+", default=["kdd12", "criteo", "flights", "kdd12-100k"])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the synthetic sets")
    parser.add_argument("--repeat", type=int, default=1, help="runs per step; the best counts")
    parser.add_argument("--networkx-edges", type=int, default=5_000_000)
    parser.add_argument(
        "--rustworkx-edges", type=int, default=60_000_000, help="its graph takes ~100 B/edge"
    )
    parser.add_argument("--scaling", action="store_true", help="fit/transform for 1-8M rows")
    parser.add_argument("--tables", action="store_true", help="reading raw tables (--rows rows)")
    parser.add_argument("--json", metavar="PATH", help="write the numbers to this file")
    parser.add_argument("--markdown", metavar="PATH", help="write the ratio table to this file")
    args = parser.parse_args(argv)
    meta = {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "chromatic": chromatic_learning.__version__,
        "repeat": args.repeat,
    }
    if args.tables:
        sys.path.insert(0, str(Path(__file__).parent))
        import table_peers

        tables = table_peers.run(table_peers.main_parser().parse_args(["--rows", str(args.rows)]))
        output: dict[str, Any] = {**meta, "tables": tables}
    elif args.scaling:
        output = {**meta, "scaling": run_scaling(args)}
    else:
        results = []
        for name in args.data:
            results.append(run_dataset(name, args))
            print(json.dumps(results[-1]["ratios"]), flush=True)
        output = {**meta, "results": results}
        print(table(results))
        if args.markdown:
            Path(args.markdown).write_text(table(results) + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps(output, indent=2) + "\n")


if __name__ == "__main__":
    main()
