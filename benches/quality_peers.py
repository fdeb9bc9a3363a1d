"""The peers users run, at the same budgets: each method's regularisation tuned, Vowpal Wabbit,
LightGBM on the raw sparse matrix against LightGBM on chromatic's output, and scikit-learn's
``TargetEncoder`` on the color codes.

On every dataset (the seeded 80/20 split of ``quality.py``) a fifth of the training rows is held
out for tuning; the rest are the fit rows:

* ``CL+SFC`` (``ChromaticCompressor``), ``hashing`` (``HashingEncoder``) and ``frequency``
  (``FrequencyEncoder``) at each budget, each followed by ``LogisticRegression`` (Newton-CG,
  run to convergence): C is chosen
  among ``C_GRID`` by the held-out log loss (encoder and model fitted on the fit rows), then the
  encoder and the model are refitted on all training rows with that C; the test log loss is
  given for that C and for C=1;
* ``VW``: Vowpal Wabbit from its Python package as its users run the hashing trick: ``-b``
  bits (log2 of the budget), logistic loss, ``--passes 5`` with its own held-out early stop
  (every tenth example), its defaults otherwise (adaptive, normalised, invariant updates);
* LightGBM (``num_leaves=63``, learning rate 0.1, early stopping on the held-out rows, at most
  1,000 rounds) on the raw sparse matrix (its exclusive feature bundling on), on the 1,024
  ``CL+SFC`` columns, and on the color codes of ``ChromaticEncoder`` as categorical features;
* ``TargetEncoder`` (scikit-learn, cross-fitted) on the color codes, then the tuned
  ``LogisticRegression``.

Every run records the columns it used, the test log loss and ROC AUC, the seconds its fit and
transform took (encoder and model) and the peak resident memory it added to the process. The
paired interval compares CL+SFC (tuned) with the best of the tuned baselines at each budget.

Writes ``results.json`` and ``results.md`` into ``--out``.

Usage: ``python benches/quality_peers.py [--datasets NAME ...] [--budgets N ...] [--out DIR]``
(needs ``lightgbm`` and ``vowpalwabbit``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import measured
from quality import REPO, load

from chromatic_learning import (
    ChromaticCompressor,
    ChromaticEncoder,
    FrequencyEncoder,
    HashingEncoder,
)
from chromatic_learning._compare import paired_interval, row_log_loss

DATASETS = ["flights_small", "movielens", "wordnet", "debian_packages", "synthetic", "flights"]
BUDGETS = [256, 1024, 4096]
C_GRID = (0.01, 0.1, 1.0, 10.0)
LIGHTGBM = {
    "objective": "binary",
    "num_leaves": 63,
    "learning_rate": 0.1,
    "verbose": -1,
    "num_threads": 0,
    "seed": 0,
}
LINEAR = ("CL+SFC", "hashing", "frequency")


def linear_encoder(method: str, budget: int, seed: int):
    if method == "CL+SFC":
        return ChromaticCompressor(budget=budget, random_state=seed)
    if method == "hashing":
        return HashingEncoder(n_features=budget)
    return FrequencyEncoder(n_features=budget)


def logistic(C: float):
    # Newton-CG runs to convergence in a few iterations on these columns; lbfgs at its default
    # tolerance stops early, and how early depends on the columns (by 0.009 in log loss on a
    # flights sample of 1,024 columns), which would blur a comparison of encoders.
    return LogisticRegression(C=C, solver="newton-cg", max_iter=1000)


def tuned_linear(make_encoder, X_fit, y_fit, X_val, y_val, X_train, y_train, X_test):
    """Choose C on the held-out rows and refit on all training rows.

    Returns the test predictions at that C and at C=1, with the refit's time and memory.
    """
    encoder = make_encoder()
    Z_fit = encoder.fit_transform(X_fit, y_fit)
    Z_val = encoder.transform(X_val)
    held_out = {}
    for C in C_GRID:
        p = logistic(C).fit(Z_fit, y_fit).predict_proba(Z_val)[:, 1]
        held_out[C] = float(row_log_loss(y_val, p).mean())
    best = min(held_out, key=lambda c: (held_out[c], c))

    def refit():
        encoder = make_encoder()
        Z_train = encoder.fit_transform(X_train, y_train)
        Z_test = encoder.transform(X_test)
        return Z_train, Z_test, logistic(best).fit(Z_train, y_train).predict_proba(Z_test)[:, 1]

    seconds, mib, (Z_train, Z_test, tuned) = measured(1, refit)
    if best == 1.0:
        default = tuned
    else:
        default = logistic(1.0).fit(Z_train, y_train).predict_proba(Z_test)[:, 1]
    return {
        "columns": int(Z_train.shape[1]),
        "C": best,
        "held_out": held_out,
        "p": tuned,
        "p_C1": default,
        "seconds": seconds,
        "peak_mib": mib,
    }


def vw_lines(X, y, path: Path) -> None:
    """Write rows as Vowpal Wabbit text: ``label |f i j k`` (labels -1/1, features by index)."""
    X = sp.csr_matrix(X)
    labels = np.where(np.asarray(y) > 0, "1", "-1")
    with path.open("w") as out:
        for r in range(X.shape[0]):
            features = " ".join(map(str, X.indices[X.indptr[r] : X.indptr[r + 1]]))
            out.write(f"{labels[r]} |f {features}\n")


def vowpal_wabbit(bits: int, X_train, y_train, X_test, y_test, folder: Path, seed: int):
    from vowpalwabbit import Workspace

    train, test = folder / "train.vw", folder / "test.vw"
    model, cache, predictions = folder / "model.vw", folder / "train.cache", folder / "p.txt"
    vw_lines(X_test, y_test, test)

    def learn_and_score():
        vw_lines(X_train, y_train, train)
        learner = Workspace(
            f"-d {train} -b {bits} --loss_function logistic --passes 5 -c -k "
            f"--cache_file {cache} -f {model} --random_seed {seed} --quiet"
        )
        learner.run_parser()
        learner.finish()
        scorer = Workspace(f"-i {model} -t -d {test} --link logistic -p {predictions} --quiet")
        scorer.run_parser()
        scorer.finish()

    seconds, mib, _ = measured(1, learn_and_score)
    p = np.loadtxt(predictions, dtype=np.float64, ndmin=1)
    return {"columns": 2**bits, "p": p, "seconds": seconds, "peak_mib": mib}


def lightgbm_run(Z_fit, y_fit, Z_val, y_val, Z_test, categorical=None):
    """LightGBM with early stopping on the held-out rows; test predictions and the rounds."""
    import lightgbm as lgb

    kwargs = {"categorical_feature": categorical} if categorical is not None else {}
    fit_set = lgb.Dataset(Z_fit, y_fit, **kwargs)
    val_set = lgb.Dataset(Z_val, y_val, reference=fit_set, **kwargs)
    booster = lgb.train(
        LIGHTGBM,
        fit_set,
        num_boost_round=1000,
        valid_sets=[val_set],
        callbacks=[lgb.early_stopping(20, verbose=False)],
    )
    return booster.predict(Z_test, num_iteration=booster.best_iteration), booster.best_iteration


def record(method, budget, y_test, p, **extra):
    losses = row_log_loss(y_test, p)
    run = {"method": method, "budget": budget, "log_loss": float(losses.mean())}
    run["auc"] = float(roc_auc_score(y_test, p))
    run.update(extra)
    return run, losses


def run_dataset(name: str, budgets, seed: int, lightgbm_budget: int, previous=None) -> dict:
    """Run every peer on one dataset; with ``previous`` (its earlier results), only the
    budget-free ones, keeping the earlier runs at each budget."""
    X, y = load(name, seed)
    X = sp.csr_matrix(X, dtype=np.float32)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=seed)
    X_fit, X_val, y_fit, y_val = train_test_split(
        X_train, y_train, test_size=0.2, random_state=seed
    )
    print(f"{name}: {X.shape[0]:,} rows x {X.shape[1]:,} features", flush=True)
    out = {"rows": X.shape[0], "features": X.shape[1], "runs": [], "paired": []}

    def keep(run):
        out["runs"].append(run)
        extra = f" C={run['C']}" if "C" in run else ""
        print(
            f"  {run['budget']!s:>6} {run['method']:<24} {run['columns']:>7} cols  "
            f"{run['log_loss']:.4f}  auc {run['auc']:.4f}  {run['seconds']:.1f}s  "
            f"{run['peak_mib']:.0f} MiB{extra}",
            flush=True,
        )

    if previous is not None:
        out["runs"] = [run for run in previous["runs"] if run["method"] in (*LINEAR, "VW")]
        out["paired"] = previous["paired"]
        budgets = []
    with tempfile.TemporaryDirectory(prefix="vw-") as folder:
        for budget in budgets:
            losses = {}
            for method in LINEAR:
                res = tuned_linear(
                    lambda m=method, b=budget: linear_encoder(m, b, seed),
                    X_fit, y_fit, X_val, y_val, X_train, y_train, X_test,
                )  # fmt: skip
                run, losses[method] = record(
                    method,
                    budget,
                    y_test,
                    res["p"],
                    columns=res["columns"],
                    C=res["C"],
                    held_out=res["held_out"],
                    log_loss_C1=float(row_log_loss(y_test, res["p_C1"]).mean()),
                    seconds=res["seconds"],
                    peak_mib=res["peak_mib"],
                )
                keep(run)
            bits = round(math.log2(budget))
            res = vowpal_wabbit(bits, X_train, y_train, X_test, y_test, Path(folder), seed)
            run, losses["VW"] = record(
                "VW", budget, y_test, res["p"], columns=res["columns"],
                seconds=res["seconds"], peak_mib=res["peak_mib"],
            )  # fmt: skip
            keep(run)
            baseline = min(("hashing", "frequency", "VW"), key=lambda m: losses[m].mean())
            mean, lo, hi = paired_interval(losses["CL+SFC"], losses[baseline])
            out["paired"].append(
                {"budget": budget, "baseline": baseline, "difference": [mean, lo, hi]}
            )
            print(f"  CL+SFC - {baseline}: {mean:+.4f} [{lo:+.4f}, {hi:+.4f}]", flush=True)

    # Budget-free peers: LightGBM on the raw matrix and on the codes, TargetEncoder on codes.
    seconds, mib, (p, rounds) = measured(
        1, lambda: lightgbm_run(X_fit, y_fit, X_val, y_val, X_test)
    )
    run, raw_losses = record("LightGBM raw sparse", None, y_test, p, columns=X.shape[1],
                             rounds=rounds, seconds=seconds, peak_mib=mib)  # fmt: skip
    keep(run)

    def on_compressed():
        compressor = ChromaticCompressor(budget=lightgbm_budget, random_state=seed)
        Z_fit = compressor.fit_transform(X_fit, y_fit)
        p, rounds = lightgbm_run(
            Z_fit, y_fit, compressor.transform(X_val), y_val, compressor.transform(X_test)
        )
        return p, rounds, Z_fit.shape[1]

    seconds, mib, (p, rounds, width) = measured(1, on_compressed)
    run, compressed_losses = record(f"LightGBM on CL+SFC {lightgbm_budget}", lightgbm_budget,
                                    y_test, p, columns=width, rounds=rounds, seconds=seconds,
                                    peak_mib=mib)  # fmt: skip
    keep(run)
    mean, lo, hi = paired_interval(compressed_losses, raw_losses)
    out["lightgbm_paired"] = [mean, lo, hi]
    print(f"  LightGBM on CL+SFC - raw: {mean:+.4f} [{lo:+.4f}, {hi:+.4f}]", flush=True)

    def on_codes():
        encoder = ChromaticEncoder(random_state=seed)
        codes = encoder.fit_transform(X_fit)
        categorical = list(range(codes.shape[1]))
        p, rounds = lightgbm_run(
            codes, y_fit, encoder.transform(X_val), y_val, encoder.transform(X_test), categorical
        )
        return p, rounds, codes.shape[1]

    seconds, mib, (p, rounds, width) = measured(1, on_codes)
    keep(record("LightGBM on codes (categorical)", None, y_test, p, columns=width,
                rounds=rounds, seconds=seconds, peak_mib=mib)[0])  # fmt: skip

    def target_encoded():
        from sklearn.model_selection import StratifiedKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import TargetEncoder

        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        return make_pipeline(
            ChromaticEncoder(random_state=seed), TargetEncoder(target_type="binary", cv=folds)
        )

    res = tuned_linear(target_encoded, X_fit, y_fit, X_val, y_val, X_train, y_train, X_test)
    keep(record("TargetEncoder on codes", None, y_test, res["p"], columns=res["columns"],
                C=res["C"], log_loss_C1=float(row_log_loss(y_test, res["p_C1"]).mean()),
                seconds=res["seconds"], peak_mib=res["peak_mib"])[0])  # fmt: skip
    return out


def markdown(results: dict) -> str:
    lines = []
    for name, res in results.items():
        lines.append(f"#### {name} ({res['rows']:,} rows, {res['features']:,} features)\n")
        lines.append(
            "| budget | method | columns used | test log loss (tuned C) | C=1 | AUC | "
            "fit + transform | peak memory added |"
        )
        lines.append("|---|---|---|---|---|---|---|---|")
        for run in res["runs"]:
            budget = "-" if run["budget"] is None else str(run["budget"])
            c1 = f"{run['log_loss_C1']:.4f}" if "log_loss_C1" in run else ""
            method = run["method"] + (f" (C={run['C']:g})" if "C" in run else "")
            if "rounds" in run:
                method += f" ({run['rounds']} rounds)"
            lines.append(
                f"| {budget} | {method} | {run['columns']:,} | {run['log_loss']:.4f} | {c1} | "
                f"{run['auc']:.4f} | {run['seconds']:.1f} s | {run['peak_mib']:.0f} MiB |"
            )
        lines.append("")
        if "lightgbm_paired" in res:
            mean, lo, hi = res["lightgbm_paired"]
            lines.append(
                f"- LightGBM on CL+SFC - LightGBM raw sparse = {mean:+.4f} [{lo:+.4f}, {hi:+.4f}]"
            )
        for paired in res["paired"]:
            mean, lo, hi = paired["difference"]
            lines.append(
                f"- {paired['budget']}: CL+SFC - {paired['baseline']} = {mean:+.4f} "
                f"[{lo:+.4f}, {hi:+.4f}]"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--budgets", nargs="+", type=int, default=BUDGETS)
    parser.add_argument("--lightgbm-budget", type=int, default=1024)
    parser.add_argument("--out", default=str(REPO / "results" / "quality_peers"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--trees-only",
        action="store_true",
        help="rerun only LightGBM and TargetEncoder, keeping the earlier runs at each budget",
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    for name in args.datasets:
        previous = results.get(name) if args.trees_only else None
        results[name] = run_dataset(
            name, args.budgets, args.seed, args.lightgbm_budget, previous=previous
        )
        path.write_text(json.dumps(results, indent=1))
        (out / "results.md").write_text(markdown(results))
    print(f"wrote {out}/results.md and results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
