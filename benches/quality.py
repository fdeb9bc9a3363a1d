"""What a model learns from a budget of columns: Chromatic Learning against the hashing trick and
frequency truncation, on the real datasets of ``../shared/data`` and a synthetic set with a
planted signal.

For every dataset (a seeded 80/20 split) and budget, each method turns the sparse binary matrix
into at most ``budget`` columns, a logistic regression learns from them, and the test log loss
and ROC AUC are recorded, with the time the encoder took to fit and transform:

* ``CL+SFC``: ``ChromaticCompressor`` as it ships (cross-fitted compression);
* ``CL+SFC 50%``: the paper's protocol, buckets learned on half the training rows and the model
  on the other half;
* ``hashing``: ``HashingEncoder``; ``frequency``: ``FrequencyEncoder``;
* ``raw``: the model on the full binary matrix, the ceiling (one line across budgets).

The learner is scikit-learn's ``LogisticRegression(C=1.0, solver="lbfgs", max_iter=1000)`` for
every method: one documented choice, no per-method tuning. At 1024 columns a small
``MLPClassifier`` also learns from the dense CL+SFC output (on at most 100,000 training rows).
Differences are paired: the per-row log loss difference between CL+SFC and the better baseline,
with a 95% normal interval of its mean.

Writes ``results.json``, ``results.md`` and ``quality.png`` into ``--out``.

Usage: ``python benches/quality.py [--datasets NAME ...] [--budgets N ...] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from chromatic_learning import ChromaticCompressor, make_onehot_zipf
from chromatic_learning._compare import METHODS, compare, logistic, row_log_loss

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CHROMATIC_DATA_DIR", REPO.parent / "shared" / "data"))
DATASETS = ["flights_small", "flights", "movielens", "wordnet", "debian_packages", "synthetic"]
BUDGETS = [64, 256, 1024, 4096, 16384]


def load(name: str, seed: int):
    if name == "synthetic":
        return planted_signal(seed)
    spec = importlib.util.spec_from_file_location("shared_data", DATA_DIR / "load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    X, y, _ = module.load(name)
    return sp.csr_matrix(X), np.asarray(y)


def planted_signal(seed: int, n_rows: int = 300_000, n_features: int = 200_000):
    """kdd12-shaped rows (11 one-hot Zipf fields) whose label follows a logistic model in which
    one feature in ten carries a weight."""
    rng = np.random.default_rng(seed)
    X = sp.csr_matrix(make_onehot_zipf(n_rows, n_features, 11, random_state=seed))
    weights = np.where(rng.random(n_features) < 0.1, rng.normal(0.0, 1.5, n_features), 0.0)
    logits = X @ weights - 1.5
    y = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-logits))).astype(int)
    return X, y


def run_dataset(name, budgets, seed, mlp):
    X, y = load(name, seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=seed)
    print(
        f"{name}: {X.shape[0]:,} rows x {X.shape[1]:,} features, {y.mean():.1%} positive",
        flush=True,
    )
    out = {"rows": X.shape[0], "features": X.shape[1], "positive": float(y.mean()), "runs": []}
    p = logistic(X_train, y_train, X_test)
    raw_loss = row_log_loss(y_test, p)
    out["raw"] = {"log_loss": float(raw_loss.mean()), "auc": float(roc_auc_score(y_test, p))}
    print(f"  raw: log loss {raw_loss.mean():.4f}", flush=True)
    out["paired"] = []

    def show(run):
        print(
            f"  {run['budget']:>6} {run['method']:<11} {run['log_loss']:.4f}  "
            f"auc {run['auc']:.4f}  {run['encode_seconds']:.1f}s",
            flush=True,
        )

    for budget in budgets:
        comparison = compare(X_train, y_train, X_test, y_test, [budget], seed=seed, on_run=show)
        for run in comparison["runs"]:
            paired = run.pop("paired", None)
            if paired:
                out["paired"].append({"budget": budget, **paired})
            out["runs"].append(run)
        if mlp and budget == 1024:
            out["mlp"] = mlp_run(X_train, y_train, X_test, y_test, seed)
            print(f"  mlp at 1024: log loss {out['mlp']['log_loss']:.4f}", flush=True)
    return out


def mlp_run(X_train, y_train, X_test, y_test, seed, max_rows=100_000):
    """A small MLP on the dense CL+SFC columns of (at most ``max_rows``) training rows."""
    rows = np.random.default_rng(seed).permutation(X_train.shape[0])[:max_rows]
    compressor = ChromaticCompressor(budget=1024, sparse_output=False, random_state=seed)
    Z_train = compressor.fit_transform(X_train[rows], y_train[rows])
    Z_test = compressor.transform(X_test)
    model = MLPClassifier(
        hidden_layer_sizes=(64,), early_stopping=True, max_iter=30, random_state=seed
    )
    model.fit(Z_train, y_train[rows])
    p = model.predict_proba(Z_test)[:, 1]
    base = np.full(len(y_test), y_train.mean())
    return {
        "rows": len(rows),
        "columns": int(Z_train.shape[1]),
        "dtype": str(Z_train.dtype),
        "log_loss": float(row_log_loss(y_test, p).mean()),
        "auc": float(roc_auc_score(y_test, p)),
        "base_rate_log_loss": float(row_log_loss(y_test, base).mean()),
        "epochs": int(model.n_iter_),
    }


def markdown(results) -> str:
    lines = []
    for name, res in results.items():
        lines.append(
            f"### {name} ({res['rows']:,} rows, {res['features']:,} features, "
            f"{res['positive']:.0%} positive)\n"
        )
        lines.append(
            f"Raw logistic regression on all features: log loss "
            f"{res['raw']['log_loss']:.4f}, AUC {res['raw']['auc']:.4f}.\n"
        )
        lines.append("| budget | " + " | ".join(METHODS) + " | CL+SFC - best baseline (95% CI) |")
        lines.append("|---" * (len(METHODS) + 2) + "|")
        for paired in res["paired"]:
            budget = paired["budget"]
            cells = []
            for method in METHODS:
                run = next(
                    r for r in res["runs"] if r["budget"] == budget and r["method"] == method
                )
                cells.append(f"{run['log_loss']:.4f} ({run['encode_seconds']:.1f}s)")
            mean, lo, hi = paired["difference"]
            lines.append(
                f"| {budget} | "
                + " | ".join(cells)
                + f" | {mean:+.4f} [{lo:+.4f}, {hi:+.4f}] vs {paired['baseline']} |"
            )
        if "mlp" in res:
            m = res["mlp"]
            lines.append(
                f"\nMLP (64 hidden units) on 1024 dense {m['dtype']} CL+SFC columns, "
                f"{m['rows']:,} training rows: log loss {m['log_loss']:.4f} "
                f"(base rate {m['base_rate_log_loss']:.4f}), AUC {m['auc']:.4f}."
            )
        lines.append("")
    return "\n".join(lines)


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    cols = min(3, len(names))
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.8 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        res = results[name]
        for method in METHODS:
            runs = sorted(
                (r for r in res["runs"] if r["method"] == method), key=lambda r: r["budget"]
            )
            ax.plot(
                [r["budget"] for r in runs], [r["log_loss"] for r in runs], marker="o", label=method
            )
        ax.axhline(res["raw"]["log_loss"], color="gray", linestyle="--", label="raw (all features)")
        ax.set_xscale("log", base=2)
        ax.set_title(name)
        ax.set_xlabel("output columns (budget)")
        ax.set_ylabel("test log loss")
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--budgets", nargs="+", type=int, default=BUDGETS)
    parser.add_argument("--out", default=str(REPO / "results" / "quality"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-mlp", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in args.datasets:
        results[name] = run_dataset(name, args.budgets, args.seed, not args.no_mlp)
        (out / "results.json").write_text(json.dumps(results, indent=1))
        (out / "results.md").write_text(markdown(results))
        plot(results, out / "quality.png")
    print(f"wrote {out}/results.md, results.json, quality.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
