"""Click models on colors: PyTorch models trained on CL+SFC fields against the hashing trick and
frequency truncation at the same number of embedding rows (the paper's neural table).

For every dataset (a seeded random split: 70% train, 10% validation, 20% test), input and
model, the model trains with Adam (``--lr``, 1e-2 for logistic regression), embedding size 16,
batches of 2048 rows, at most ``--epochs`` epochs with early stopping on the validation log loss
(patience 2), seed 0; the test log loss and ROC AUC are recorded with the embedding rows, the
parameters and the training time. Inputs (``to_fields`` of each encoder):

* ``CL+SFC``: ``ChromaticCompressor(budget)``, training rows cross-fitted (``fit_to_fields``):
  one field per color, the frequent features as a bag, at most ``budget`` embedding rows;
* ``hashing``: ``HashingEncoder(n_features=budget)``, a bag of the hashed columns;
* ``frequency``: ``FrequencyEncoder(n_features=budget)``, a bag of the kept features and
  "other";
* ceilings: ``CL codes`` (``ChromaticEncoder``: one field per color, one row per feature) and
  ``full vocabulary`` (a bag of every feature, one row each).

Models: ``LogisticRegression``, ``FactorizationMachine``, ``WideAndDeep``, ``DeepFM`` of
``chromatic_learning.torch.models``. Differences are paired: the per-row test log loss of CL+SFC
less that
of the better baseline (by mean) for the same model, and less that of the full vocabulary, with a
95% normal interval.

Data: the sets of ``benches/quality.py`` (``../shared/data``) and ``criteo_like``, the rows of
``datasets.write_criteo_like`` read as a table (``TableEncoder``: the 26 categorical columns as
values, the 13 integer columns in 16 quantile bins). Sets larger than ``--max-rows`` are
subsampled (seeded).

Writes ``deep.json``, ``deep.md`` and (with matplotlib) ``deep.png`` into ``--out``; with
``--merge`` the runs join those already in ``deep.json`` (a run of the same dataset, budget,
input and model replaces the old one), so budgets and datasets can be measured in parts.

Usage: ``python benches/deep.py [--datasets NAME ...] [--budgets N ...] [--no-ceilings]
[--max-rows N] [--device cuda] [--out DIR] [--merge]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.csv as pv
import scipy.sparse as sp
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from chromatic_learning import (
    ChromaticCompressor,
    ChromaticEncoder,
    FrequencyEncoder,
    HashingEncoder,
    TableEncoder,
)
from chromatic_learning._compare import paired_interval, row_log_loss
from chromatic_learning._criteo_like import CAT_NAMES, COLUMNS, INT_NAMES
from chromatic_learning._fields import bag_fields
from chromatic_learning.torch import FieldDataset, predict_proba, train
from chromatic_learning.torch.models import (
    DeepFM,
    FactorizationMachine,
    LogisticRegression,
    WideAndDeep,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import load

DATASETS = ["flights_small", "movielens", "wordnet", "debian_packages", "flights", "criteo_like"]
MODELS = {
    "LR": LogisticRegression,
    "FM": FactorizationMachine,
    "Wide&Deep": WideAndDeep,
    "DeepFM": DeepFM,
}
BASELINES = ("hashing", "frequency")
CEILING = "full vocabulary"


def load_criteo_like(n_rows: int, seed: int):
    """``n_rows`` Criteo-like rows as ``column=value`` features and their labels."""
    from chromatic_learning.datasets import write_criteo_like

    with tempfile.TemporaryDirectory(prefix="criteo-like-") as folder:
        path = Path(folder) / "rows.txt"
        write_criteo_like(path, n_rows, seed=seed)
        table = pv.read_csv(
            path,
            read_options=pv.ReadOptions(column_names=list(COLUMNS)),
            parse_options=pv.ParseOptions(delimiter="\t"),
            convert_options=pv.ConvertOptions(column_types={name: "string" for name in CAT_NAMES}),
        )
    y = table.column("label").to_numpy()
    encoder = TableEncoder(ignore=["label"], numeric=list(INT_NAMES), n_bins=16)
    return encoder.fit_transform(table), y


def inputs(budget: int, seed: int) -> dict:
    """Each input as ``name: fit(X, y) -> (fields of X, fields_of)``."""

    def compressed(X, y):
        compressor = ChromaticCompressor(budget=budget, random_state=seed)
        return compressor.fit_to_fields(X, y), compressor.to_fields

    def of(encoder):
        def fit(X, y):
            encoder.fit(X)
            return encoder.to_fields(X), encoder.to_fields

        return fit

    return {
        "CL+SFC": compressed,
        "hashing": of(HashingEncoder(n_features=budget)),
        "frequency": of(FrequencyEncoder(n_features=budget)),
    }


def ceilings(seed: int) -> dict:
    def full(X, y):
        return bag_fields(X), bag_fields

    def codes(X, y):
        encoder = ChromaticEncoder(random_state=seed).fit(X)
        return encoder.to_fields(X), encoder.to_fields

    return {"CL codes": codes, "full vocabulary": full}


def train_model(name, fields, splits, args) -> dict:
    (train_rows, y_train), (valid_rows, y_valid), (test_rows, y_test) = splits
    params = {} if name == "LR" else {"embed_dim": 16}
    model = MODELS[name].for_fields(fields, seed=args.seed, **params)
    lr = 1e-2 if name == "LR" else args.lr
    result = train(
        model,
        FieldDataset(train_rows, y_train),
        FieldDataset(valid_rows, y_valid),
        epochs=args.epochs,
        batch_size=2048,
        lr=lr,
        seed=args.seed,
        device=args.device,
        progress=False,
    )
    p = predict_proba(model, FieldDataset(test_rows), device=args.device)
    losses = row_log_loss(y_test, p)
    return {
        "log_loss": float(losses.mean()),
        "auc": float(roc_auc_score(y_test, p)),
        "rows_losses": losses,
        "embedding_rows": int(fields.n_embeddings),
        "parameters": int(sum(t.numel() for t in model.parameters())),
        "epochs": result.best_epoch,
        "train_seconds": result.seconds,
    }


def run_dataset(name: str, args) -> dict:
    if name == "criteo_like":
        X, y = load_criteo_like(args.max_rows, args.seed)
    else:
        X, y = load(name, args.seed)
    X = sp.csr_matrix(X, dtype=np.float64)
    X.data[:] = 1.0
    if args.max_rows and X.shape[0] > args.max_rows:
        keep = np.random.default_rng(args.seed).choice(X.shape[0], args.max_rows, replace=False)
        X, y = X[np.sort(keep)], y[np.sort(keep)]
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.2, random_state=args.seed)
    X_train, X_valid, y_train, y_valid = train_test_split(
        X_rest, y_rest, test_size=0.125, random_state=args.seed
    )
    print(f"{name}: {X.shape[0]:,} rows x {X.shape[1]:,} features", flush=True)
    out = {"rows": X.shape[0], "features": X.shape[1], "positive": float(y.mean()), "runs": []}
    runs = []
    plans = [
        (budget, method, fit)
        for budget in args.budgets
        for method, fit in inputs(budget, args.seed).items()
    ]
    if args.ceilings:
        plans += [(None, method, fit) for method, fit in ceilings(args.seed).items()]
    for budget, method, fit in plans:
        start = time.perf_counter()
        train_fields, fields_of = fit(X_train, y_train)
        splits = (
            (train_fields, y_train),
            (fields_of(X_valid), y_valid),
            (fields_of(X_test), y_test),
        )
        encode_seconds = time.perf_counter() - start
        for model in MODELS:
            run = train_model(model, train_fields, splits, args)
            run.update(budget=budget, method=method, model=model, encode_seconds=encode_seconds)
            runs.append(run)
            print(
                f"  {budget or '-':>5} {method:16s} {model:10s} log loss {run['log_loss']:.4f} "
                f"AUC {run['auc']:.4f} rows {run['embedding_rows']:>7,} "
                f"epochs {run['epochs']} {run['train_seconds']:.0f}s",
                flush=True,
            )
    out["paired"] = paired_differences(runs)
    for run in runs:
        run.pop("rows_losses")
    out["runs"] = runs
    return out


def paired_differences(runs: list) -> list:
    """CL+SFC less the better baseline, and less the full vocabulary where it ran, per budget
    and model, on the same test rows."""
    found = []
    for budget in sorted({r["budget"] for r in runs if r["budget"] is not None}):
        for model in MODELS:
            of = {r["method"]: r for r in runs if r["model"] == model and r["budget"] == budget}
            ceiling = [r for r in runs if r["model"] == model and r["method"] == CEILING]
            against = [min(BASELINES, key=lambda m: of[m]["log_loss"])]
            if ceiling:
                of[CEILING] = ceiling[0]
                against.append(CEILING)
            for other in against:
                mean, low, high = paired_interval(
                    of["CL+SFC"]["rows_losses"], of[other]["rows_losses"]
                )
                found.append(
                    {"budget": budget, "model": model, "baseline": other,
                     "difference": [mean, low, high]}
                )  # fmt: skip
    return found


def merged(old: dict, new: dict) -> dict:
    """The runs and intervals of ``new`` over those of ``old`` for the same dataset."""

    def key(entry):
        return entry["budget"], entry.get("method", entry.get("baseline")), entry["model"]

    for name, res in new["datasets"].items():
        before = old["datasets"].get(name)
        if before is None:
            continue
        for field in ("runs", "paired"):
            fresh = {key(e) for e in res[field]}
            res[field] = [e for e in before[field] if key(e) not in fresh] + res[field]
        res["seconds"] += before["seconds"]
    return {**new, "datasets": {**old["datasets"], **new["datasets"]}}


def markdown(results: dict) -> str:
    lines = []
    for name, res in results["datasets"].items():
        lines.append(f"### {name} ({res['rows']:,} rows, {res['features']:,} features)\n")
        lines.append("| input | budget | " + " | ".join(MODELS) + " | embedding rows |")
        lines.append("|---|---|" + "---|" * len(MODELS) + "---|")
        keys = sorted({(r["budget"] or 0, r["method"]) for r in res["runs"]})
        for budget, method in keys:
            row = {
                r["model"]: r
                for r in res["runs"]
                if (r["budget"] or 0) == budget and r["method"] == method
            }
            cells = [f"{row[m]['log_loss']:.4f}" for m in MODELS]
            rows = row[next(iter(MODELS))]["embedding_rows"]
            lines.append(f"| {method} | {budget or '-'} | " + " | ".join(cells) + f" | {rows:,} |")
        lines.append("")
        for paired in res["paired"]:
            mean, low, high = paired["difference"]
            lines.append(
                f"- {paired['model']} at {paired['budget']}: CL+SFC less {paired['baseline']} "
                f"{mean:+.4f} [{low:+.4f}, {high:+.4f}]"
            )
        lines.append("")
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing: no plot", flush=True)
        return
    names = list(results["datasets"])
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        runs = results["datasets"][name]["runs"]
        methods = sorted({r["method"] for r in runs})
        width = 0.8 / len(methods)
        for k, method in enumerate(methods):
            losses = [
                min(
                    (r["log_loss"] for r in runs if r["method"] == method and r["model"] == m),
                    default=np.nan,
                )
                for m in MODELS
            ]
            ax.bar(np.arange(len(MODELS)) + k * width, losses, width, label=method)
        ax.set_xticks(np.arange(len(MODELS)) + 0.4 - width / 2, list(MODELS))
        ax.set_title(name)
        ax.set_ylabel("test log loss")
        low = min(r["log_loss"] for r in runs)
        ax.set_ylim(low * 0.95, None)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--budgets", nargs="+", type=int, default=[1024])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--max-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--no-ceilings", dest="ceilings", action="store_false",
        help="skip CL codes and the full vocabulary (measured once, at any budget)",
    )  # fmt: skip
    parser.add_argument("--out", default="results/deep")
    parser.add_argument("--merge", action="store_true", help="join the runs in --out/deep.json")
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    results = {
        "machine": {
            "device": args.device,
            "cpus": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name() if args.device.startswith("cuda") else None,
            "python": platform.python_version(),
            "torch": torch.__version__,
        },
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "datasets", "merge")},
        "datasets": {},
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    earlier = json.loads((out / "deep.json").read_text()) if args.merge else None
    for name in args.datasets:
        started = time.perf_counter()
        results["datasets"][name] = run_dataset(name, args)
        results["datasets"][name]["seconds"] = time.perf_counter() - started
        results["seconds"] = time.perf_counter() - start
        written = results
        if earlier is not None:
            written = merged(earlier, json.loads(json.dumps(results)))
            written["seconds"] = earlier.get("seconds", 0.0) + results["seconds"]
            written["settings"]["budgets"] = sorted(
                {*earlier["settings"]["budgets"], *args.budgets}
            )
        # Written after every dataset, so that a long run keeps what it measured.
        (out / "deep.json").write_text(json.dumps(written, indent=2))
        (out / "deep.md").write_text(markdown(written))
    plot(written, out / "deep.png")
    print(markdown(written), flush=True)


if __name__ == "__main__":
    main()
