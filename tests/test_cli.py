"""The ``chromatic-learning`` console script, end to end on small files."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file

from chromatic_learning import ChromaticCompressor, ChromaticEncoder, load_model, save_model
from chromatic_learning.cli._reports import winner_text
from chromatic_learning.svmlight import load_svmlight

from conftest import labelled_sparse, random_sparse


def chromatic(*args, check=True):
    command = shutil.which("chromatic-learning")
    assert command, "the console script is installed with the package"
    result = subprocess.run([command, *map(str, args)], capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def rows_over(path, n_features):
    """The rows of a 1-based file over a model's features (those beyond are never seen)."""
    return load_svmlight(path, zero_based=False, n_features=10**6).X[:, :n_features]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    # Rows like a click log's: rare features abound, so the test rows hold unseen ones.
    X, y = labelled_sparse(35_000, 60_000, 24, seed=7)
    folder = tmp_path_factory.mktemp("cli")
    train, test = folder / "train.svm", folder / "test.svm"
    dump_svmlight_file(X[:30_000], y[:30_000], str(train), zero_based=False)
    dump_svmlight_file(X[30_000:35_000], y[30_000:35_000], str(test), zero_based=False)
    return folder, train, test


def test_fit_and_transform_match_the_python_api(files):
    folder, train, test = files
    model = folder / "model.npz"
    summary = json.loads(chromatic("fit", train, "-o", model, "--chunk-mb", "0.2", "--json").stdout)
    assert summary["rows"] == 30_000 and summary["zero_based"] is False
    data = load_svmlight(train)
    expected = ChromaticEncoder(random_state=0).fit(data.X)
    fitted = load_model(model)
    np.testing.assert_array_equal(fitted.colors_, expected.colors_)
    np.testing.assert_array_equal(fitted.codes_, expected.codes_)
    assert summary["colors"] == expected.n_colors_

    out = folder / "test.npz"
    chromatic("transform", model, test, "-o", out, "--format", "npz", "--chunk-mb", "0.1")
    with np.load(out) as stored:
        codes, labels = stored["codes"], stored["labels"]
    # Features beyond the training range were never seen in fit: the command ignores them.
    X_test = load_svmlight(test, zero_based=False)
    n = data.X.shape[1]
    columns = (
        X_test.X[:, :n]
        if X_test.X.shape[1] >= n
        else sp.hstack(
            [X_test.X, sp.csr_matrix((X_test.X.shape[0], n - X_test.X.shape[1]))], format="csr"
        )
    )
    np.testing.assert_array_equal(codes, expected.transform(columns))
    np.testing.assert_array_equal(labels, X_test.y)

    svm = folder / "test.codes.svm"
    chromatic("transform", model, test, "-o", svm)
    encoded = load_svmlight(svm, zero_based=True, n_features=expected.n_colors_)
    np.testing.assert_array_equal(encoded.y, X_test.y)
    np.testing.assert_array_equal(encoded.X.toarray() > 0, codes > 0)


@pytest.mark.slow
def test_several_inputs_go_into_a_folder(files):
    folder, train, test = files
    model = folder / "model2.npz"
    chromatic("fit", train, "-o", model, "--quiet")
    out = folder / "encoded"
    out.mkdir()
    result = chromatic("transform", model, train, test, "-o", out, "--json")
    assert sorted(p.name for p in out.iterdir()) == ["test.svm", "train.svm"]
    assert json.loads(result.stdout)["collisions"] > 0  # new rows of test.svm collide
    # A folder that does not exist yet is made, as compress makes its own; files are named
    # after the inputs, with the suffix of their format.
    made = folder / "made" / "npz"
    chromatic("transform", model, train, test, "-o", made, "--format", "npz")
    assert sorted(p.name for p in made.iterdir()) == ["test.npz", "train.npz"]
    # One input and a name ending in a separator: a folder too.
    chromatic("transform", model, test, "-o", f"{folder / 'one'}{os.sep}")
    assert [p.name for p in (folder / "one").iterdir()] == ["test.svm"]


@pytest.mark.slow
def test_inspect_model_and_file(files):
    folder, train, _ = files
    model = folder / "model3.npz"
    chromatic("fit", train, "-o", model, "--n-colors", "500", "--quiet")
    about_model = json.loads(chromatic("inspect", model, "--json").stdout)
    assert about_model["kind"] == "model" and about_model["colors"] == 500
    on_train = json.loads(chromatic("inspect", model, "--on", train, "--json").stdout)["on"]
    assert on_train["rows"] == 30_000 and on_train["collisions_per_row"] == 0
    _, _, test = files
    on_test = json.loads(chromatic("inspect", model, "--on", test, "--json").stdout)["on"]
    assert on_test["collisions_per_row"] > 0 and on_test["unseen_per_row"] > 0
    about_file = json.loads(chromatic("inspect", train, "--json").stdout)
    assert about_file["rows"] == 30_000 and about_file["zero_based"] is False


@pytest.mark.slow
def test_bad_input_exit_status_and_nothing_half_written(tmp_path):
    bad = tmp_path / "bad.svm"
    bad.write_text("1 1:1\n0 2:1\n1 3:x\n")
    model = tmp_path / "model.npz"
    result = chromatic("fit", bad, "-o", model, check=False)
    assert result.returncode == 2
    assert f"{bad}:3:" in result.stderr and "Traceback" not in result.stderr
    assert not model.exists() and list(tmp_path.iterdir()) == [bad]
    chromatic("fit", bad, "-o", model, "--skip-bad-lines", "--quiet")
    assert model.exists()
    out = tmp_path / "out.svm"
    failed = chromatic("transform", model, bad, "-o", out, check=False)
    assert failed.returncode == 2 and not out.exists()
    for args, message in [
        (("fit", tmp_path / "missing.svm", "-o", model), "no such file"),
        (("transform", tmp_path / "missing.npz", bad, "-o", out), "no such model file"),
        (("transform", bad, bad, "-o", out), "a svmlight file, not a model"),
        (("transform", model, bad, "-o", bad, "--skip-bad-lines"), "overwrite its input"),
    ]:
        result = chromatic(*args, check=False)
        assert result.returncode == 1, args
        assert message in result.stderr and "Traceback" not in result.stderr


def test_help_has_an_example():
    from chromatic_learning.cli._parser import build_parser

    (commands,) = (a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) == {"fit", "transform", "compress", "compare", "inspect"}
    for name, command in commands.choices.items():
        assert "example:" in command.format_help(), name
    # The console script prints it.
    assert "example:" in chromatic("compress", "--help").stdout


def test_every_option_has_help_and_shows_its_default():
    from chromatic_learning.cli._parser import build_parser

    parser = build_parser()
    (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        formatter = command._get_formatter()
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"{name} {action.dest} has no help"
            shown = formatter._get_help_string(action)
            if action.default is not None and action.default is not False:
                assert "default" in shown, f"{name} {action.dest}: {shown}"


def test_version_is_the_package_version():
    import chromatic_learning

    out = chromatic("--version").stdout.strip()
    assert out == f"chromatic-learning {chromatic_learning.__version__}"
    assert chromatic_learning.__version__.count(".") == 2


def test_compress_writes_train_test_and_model(files, tmp_path):
    _, train, test = files
    out = tmp_path / "compressed"
    summary = json.loads(
        chromatic("compress", "--train", train, "--test", test, "--out", out, "--json").stdout
    )
    assert sorted(p.name for p in out.iterdir()) == ["model.npz", "test.svm", "train.svm"]
    assert summary["rows"] == 35_000 and summary["command"] == "compress"
    encoded = load_svmlight(out / "train.svm", zero_based=True)
    model = load_model(out / "model.npz")
    assert encoded.X.shape == (30_000, model.n_colors_)
    np.testing.assert_array_equal(encoded.y, load_svmlight(train).y)
    # Training rows never collide at min_cooccurrence=1, so every row keeps all its features.
    np.testing.assert_array_equal(encoded.X.getnnz(axis=1), load_svmlight(train).X.getnnz(axis=1))


@pytest.mark.slow
def test_fit_with_a_budget_matches_the_python_api(files, tmp_path):
    _, train, test = files
    model = tmp_path / "model.npz"
    summary = json.loads(
        chromatic(
            "fit", train, "-o", model, "--budget", "300", "--n-frequent", "50", "--json"
        ).stdout
    )
    data = load_svmlight(train)
    expected = ChromaticCompressor(budget=300, n_frequent=50, random_state=0).fit(data.X, data.y)
    fitted = load_model(model)
    assert isinstance(fitted, ChromaticCompressor)
    assert summary["columns"] == fitted.n_features_out_ == expected.n_features_out_ <= 300
    assert summary["frequent_features"] == 50
    out = tmp_path / "test.svm"
    chromatic("transform", model, test, "-o", out, "--chunk-mb", "0.05")
    written = load_svmlight(out, zero_based=True, n_features=expected.n_features_out_)
    X_test = load_svmlight(test, zero_based=False).X[:, : data.X.shape[1]]
    X_test.resize((X_test.shape[0], data.X.shape[1]))
    assert (written.X != expected.transform(X_test)).nnz == 0
    np.testing.assert_array_equal(written.y, load_svmlight(test).y)
    about = json.loads(chromatic("inspect", model, "--on", test, "--json").stdout)
    assert about["model"] == "ChromaticCompressor" and about["budget"] == 300
    # Unseen: test features absent from the training rows (frequent ones are seen).
    seen = np.bincount(data.X.indices, minlength=data.X.shape[1]) > 0
    raw_test = load_svmlight(test, zero_based=False).X
    known = raw_test.indices < len(seen)
    unseen = (~known).sum() + (~seen[raw_test.indices[known]]).sum()
    assert about["on"]["unseen_per_row"] == pytest.approx(unseen / raw_test.shape[0])


@pytest.mark.slow
def test_compress_with_a_budget_cross_fits_the_training_rows(files, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    _, train, test = files
    outputs = {}
    for form in ("svmlight", "npz", "parquet"):
        out = tmp_path / form
        summary = json.loads(
            chromatic(
                "compress",
                "--train",
                train,
                "--test",
                test,
                "--out",
                out,
                "--budget",
                "256",
                "--format",
                form,
                "--json",
            ).stdout
        )
        assert summary["cross_fitted"] and summary["rows"] == 35_000
        outputs[form] = out
    model = load_model(outputs["svmlight"] / "model.npz")
    width = model.n_features_out_
    X_test = rows_over(test, model.n_features_in_)
    # Test rows: the model's output; training rows: cross-fitted, so rare values differ.
    test_written = load_svmlight(
        outputs["svmlight"] / "test.svm", zero_based=True, n_features=width
    )
    assert (test_written.X != model.transform(X_test)).nnz == 0
    train_written = load_svmlight(
        outputs["svmlight"] / "train.svm", zero_based=True, n_features=width
    )
    refit = model.transform(rows_over(train, model.n_features_in_))
    changed = (train_written.X != refit).sum(axis=1).A.ravel() > 0
    assert 0 < changed.mean() < 1
    assert train_written.X.shape == (30_000, width)
    # The other formats hold the same rows.
    assert sorted(p.name for p in outputs["npz"].iterdir()) == [
        "model.npz",
        "test.npz",
        "train.npz",
    ]
    from_npz = sp.load_npz(outputs["npz"] / "train.npz")
    assert (from_npz != train_written.X).nnz == 0
    with np.load(outputs["npz"] / "train.npz") as stored:
        np.testing.assert_array_equal(stored["labels"], train_written.y)
    table = pq.read_table(outputs["parquet"] / "test.parquet")
    assert table.column_names == ["label", "columns"]
    lists = table["columns"].to_pylist()
    assert lists == [sorted(row.indices.tolist()) for row in test_written.X]


@pytest.mark.slow
def test_compress_writes_a_hashed_tail_with_its_signed_counts(small, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    _, train, _ = small
    outputs = {}
    for form in ("svmlight", "parquet"):
        out = tmp_path / form
        summary = json.loads(
            chromatic(
                "compress",
                "--train",
                train,
                "--out",
                out,
                "--budget",
                "64",
                "--n-frequent",
                "8",
                "--tail",
                "hashed",
                "--format",
                form,
                "--json",
            ).stdout
        )
        assert summary["tail"] == "hashed" and summary["columns"] == 64
        outputs[form] = out
    model = load_model(outputs["svmlight"] / "model.npz")
    assert model.tail_ == "hashed"
    expected = model.transform(rows_over(train, model.n_features_in_))
    assert (expected.data < 0).any(), "some columns hold a -1"
    # The values are read back by scikit-learn: chromatic's reader reads presence alone.
    from sklearn.datasets import load_svmlight_file

    written, _ = load_svmlight_file(
        str(outputs["svmlight"] / "train.svm"), n_features=64, zero_based=True
    )
    assert (written != expected).nnz == 0
    table = pq.read_table(outputs["parquet"] / "train.parquet")
    assert table.column_names == ["label", "columns", "values"]
    assert table["columns"].to_pylist() == [row.indices.tolist() for row in expected]
    assert table["values"].to_pylist() == [row.data.astype(int).tolist() for row in expected]
    about = chromatic("inspect", outputs["svmlight"] / "model.npz").stdout
    assert "8 frequent features, 56 hashed columns" in about


@pytest.mark.slow
@pytest.mark.parametrize("option", [("--n-frequent", "8"), ("--tail", "hashed")])
def test_a_split_of_the_budget_needs_a_budget(small, tmp_path, option):
    _, train, _ = small
    for command in (("fit", train, "-o", tmp_path / "m.npz"), ("compress", "--train", train)):
        out = () if command[0] == "fit" else ("--out", tmp_path / "out")
        result = chromatic(*command, *out, *option, check=False)
        assert result.returncode == 1
        assert "--n-frequent and --tail split a budget; give them with --budget" in result.stderr
    assert not (tmp_path / "m.npz").exists() and not (tmp_path / "out").exists()


def test_a_budget_needs_binary_labels(tmp_path):
    path = tmp_path / "multi.svm"
    path.write_text("0 1:1\n1 2:1\n2 3:1\n")
    result = chromatic("fit", path, "-o", tmp_path / "m.npz", "--budget", "8", check=False)
    assert result.returncode == 2 and "multi.svm: rows 1-3: the labels must be binary" in (
        result.stderr
    )
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.slow
def test_a_memory_limit_shards_the_fit_with_the_same_model(files, tmp_path):
    _, train, _ = files
    whole, sharded = tmp_path / "whole.npz", tmp_path / "sharded.npz"
    chromatic("fit", train, "-o", whole, "--quiet")
    summary = json.loads(
        chromatic("fit", train, "-o", sharded, "--memory-limit", "38M", "--json").stdout
    )
    assert summary["graph_passes"] > 1
    np.testing.assert_array_equal(load_model(sharded).colors_, load_model(whole).colors_)
    result = chromatic("fit", train, "-o", tmp_path / "x.npz", "--memory-limit", "3M", check=False)
    assert result.returncode == 1 and "memory limit" in result.stderr
    result = chromatic(
        "fit", train, "-o", tmp_path / "x.npz", "--memory-limit", "a lot", check=False
    )
    assert result.returncode == 1 and "not a size" in result.stderr


@pytest.mark.slow
def test_parquet_output(files, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    _, train, test = files
    model = tmp_path / "model.npz"
    chromatic("fit", train, "-o", model, "--quiet")
    out = tmp_path / "test.parquet"
    chromatic("transform", model, test, "-o", out, "--format", "parquet", "--chunk-mb", "0.05")
    table = pq.read_table(out)
    encoder = load_model(model)
    assert table.column_names == ["label", *(f"color{c}" for c in range(encoder.n_colors_))]
    npz = tmp_path / "test.npz"
    chromatic("transform", model, test, "-o", npz, "--format", "npz")
    with np.load(npz) as stored:
        codes = stored["codes"]
    np.testing.assert_array_equal(
        np.column_stack([table[f"color{c}"].to_numpy() for c in range(encoder.n_colors_)]), codes
    )


@pytest.mark.slow
def test_compare_on_the_shipped_flights_cut_and_on_a_file(files):
    summary = json.loads(chromatic("compare", "--budgets", "64", "--json").stdout)
    losses = {run["method"]: run["log_loss"] for run in summary["runs"]}
    assert set(losses) == {"CL+SFC", "hashing", "frequency"}
    assert losses["CL+SFC"] < min(losses["hashing"], losses["frequency"])
    _, train, _ = files
    on_file = json.loads(chromatic("compare", train, "--budgets", "32", "--json").stdout)
    assert on_file["runs"][0]["columns"] <= 32


def test_compare_shows_the_columns_each_method_used_and_who_won(tmp_path):
    from sklearn.model_selection import train_test_split

    from chromatic_learning._compare import encode

    # 40 features and a budget of 64: hashing and frequency truncation write 64 columns, some of
    # them empty, and CL+SFC stops below its budget. The label follows the features past the 8
    # most frequent: those frequency truncation drops at a budget of 8, while CL+SFC buckets them.
    X = random_sparse(3_000, 40, 6, seed=3, zipf=1.0)
    rng = np.random.default_rng(3)
    weights = np.where(np.arange(40) >= 8, rng.choice([-2.0, 2.0], size=40), 0.0)
    y = (rng.random(X.shape[0]) < 1 / (1 + np.exp(-(X @ weights)))).astype(float)
    data = tmp_path / "small.svm"
    dump_svmlight_file(X, y, str(data), zero_based=True)

    summary = json.loads(chromatic("compare", data, "--budgets", "8", "64", "--json").stdout)
    runs = {(run["budget"], run["method"]): run for run in summary["runs"]}
    assert set(runs) == {(b, m) for b in (8, 64) for m in ("CL+SFC", "hashing", "frequency")}
    # The columns shown are the widths of the encoded rows, and the non-empty ones among them.
    loaded = load_svmlight(data)
    X_train, X_test, y_train, _ = train_test_split(
        loaded.X, loaded.y.astype(np.int64), test_size=0.2, random_state=0
    )
    for (budget, method), run in runs.items():
        Z_train, _, Z_test, _ = encode(method, budget, X_train, y_train, X_test, seed=0)
        assert run["columns"] == Z_train.shape[1] == Z_test.shape[1], (budget, method)
        assert run["nonempty_columns"] == np.unique(Z_train.nonzero()[1]).size, (budget, method)
    assert runs[64, "CL+SFC"]["columns"] < 64
    assert runs[64, "hashing"]["columns"] == 64 > runs[64, "hashing"]["nonempty_columns"]
    assert runs[64, "frequency"]["columns"] == 64 > runs[64, "frequency"]["nonempty_columns"]

    winners = summary["winners"]
    assert [verdict["budget"] for verdict in winners] == [8, 64]
    for verdict in winners:
        losses = {
            m: runs[verdict["budget"], m]["log_loss"] for m in ("CL+SFC", "hashing", "frequency")
        }
        ranked = sorted(losses, key=losses.get)
        assert [verdict["winner"], verdict["runner_up"]] == ranked[:2]
        assert verdict["difference"] == pytest.approx(losses[ranked[1]] - losses[ranked[0]])
        assert verdict["low"] <= verdict["difference"] <= verdict["high"]
        assert verdict["distinguishable"] is (verdict["low"] > 0)

    lines = chromatic("compare", data, "--budgets", "8", "64").stdout.splitlines()
    assert lines[1].split() == [
        "budget",
        "method",
        "columns",
        "non-empty",
        "log",
        "loss",
        "AUC",
        "encode",
    ]
    for line in lines[2:8]:
        budget, method, columns, nonempty = line.split()[:4]
        assert (int(columns), int(nonempty)) == (
            runs[int(budget), method]["columns"],
            runs[int(budget), method]["nonempty_columns"],
        )
    assert winners[0]["winner"] == "CL+SFC" and winners[0]["distinguishable"] is True
    assert winners[1]["distinguishable"] is False  # frequency keeps all 40 features at 64
    assert lines[8:] == [winner_text(verdict) for verdict in winners]
    assert lines[8].startswith(f"budget 8: CL+SFC wins, by {winners[0]['difference']:.4f} ")
    assert lines[9].startswith(
        f"budget 64: {winners[1]['winner']} and {winners[1]['runner_up']} are not distinguishable"
    )


def test_the_flights_cut_is_shipped_with_the_package():
    from chromatic_learning.datasets import load_flights_cut

    X, y = load_flights_cut()
    assert X.shape[0] == 100_000 and set(np.unique(y)) == {0, 1}
    np.testing.assert_array_equal(X.getnnz(axis=1), 14)


@pytest.mark.slow
def test_no_output_replaces_an_input_or_another_output(files, tmp_path):
    _, train, test = files
    data = tmp_path / "a.svm"
    shutil.copy(train, data)
    before = data.read_bytes()
    refused = chromatic("fit", data, "-o", data, check=False)
    assert refused.returncode == 1 and "would overwrite its input" in refused.stderr
    # The same file through a symbolic link, and a training file given twice.
    link = tmp_path / "link.svm"
    link.symlink_to(data)
    assert chromatic("fit", data, test, "-o", link, check=False).returncode == 1
    assert data.read_bytes() == before
    model = tmp_path / "model.npz"
    chromatic("fit", data, "-o", model)
    stored = model.read_bytes()
    refused = chromatic("transform", model, test, "-o", model, check=False)
    assert refused.returncode == 1 and "would overwrite its input" in refused.stderr
    assert model.read_bytes() == stored
    # Two inputs of one name would both be written to out/a.svm: refused before any work.
    (tmp_path / "d1").mkdir()
    (tmp_path / "d2").mkdir()
    (tmp_path / "out").mkdir()
    shutil.copy(test, tmp_path / "d1" / "a.svm")
    shutil.copy(test, tmp_path / "d2" / "a.svm")
    inputs = [tmp_path / "d1" / "a.svm", tmp_path / "d2" / "a.svm"]
    refused = chromatic("transform", model, *inputs, "-o", tmp_path / "out", check=False)
    assert refused.returncode == 1 and "written twice" in refused.stderr
    assert list((tmp_path / "out").iterdir()) == []


def test_outputs_get_the_mode_of_an_ordinary_new_file(files, tmp_path):
    _, train, test = files
    model, codes = tmp_path / "model.npz", tmp_path / "codes.svm"
    previous = os.umask(0o022)
    try:
        chromatic("fit", train, "-o", model)
        chromatic("transform", model, test, "-o", codes)
        save_model(load_model(model), tmp_path / "again.npz")
    finally:
        os.umask(previous)
    for path in (model, codes, tmp_path / "again.npz"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


@pytest.fixture
def small(tmp_path):
    """A small 1-based training file with binary labels, and a model fitted on it."""
    rng = np.random.default_rng(0)
    X = sp.random(3_000, 400, density=0.02, format="csr", random_state=rng)
    X.data[:] = 1
    y = (rng.random(3_000) < 0.3).astype(np.int64)
    train = tmp_path / "train.svm"
    dump_svmlight_file(X, y, str(train), zero_based=False)
    model = tmp_path / "model.npz"
    chromatic("fit", train, "-o", model, "--quiet")
    return tmp_path, train, model


@pytest.mark.slow
def test_a_model_that_loses_training_features_to_collisions_is_reported(small, tmp_path):
    _, train, _ = small
    clean = json.loads(chromatic("fit", train, "-o", tmp_path / "a.npz", "--json").stdout)
    assert clean["training_collisions_per_row"] == 0.0
    result = chromatic("fit", train, "-o", tmp_path / "b.npz", "--min-cooccurrence", "2", "--json")
    lost = json.loads(result.stdout)["training_collisions_per_row"]
    model = load_model(tmp_path / "b.npz")
    X = load_svmlight(train, zero_based=False).X[:, : model.n_features_in_]
    assert lost == pytest.approx(model.collisions(X)[0] / X.shape[0])
    assert lost > 0.05
    assert f"warning: {lost:.2f} features per training row are lost" in result.stderr
    assert "--min-cooccurrence 2" in result.stderr and "3,000 training rows" in result.stderr
    result = chromatic(
        "compress", "--train", train, "--out", tmp_path / "c", "--budget", "64",
        "--n-colors", "2", "--json",
    )  # fmt: skip
    assert json.loads(result.stdout)["training_collisions_per_row"] > 0.05
    assert "--n-colors 2 is fewer colors than the graph needs" in result.stderr


@pytest.mark.slow
def test_fit_forecasts_collisions_as_the_python_api_does(small, tmp_path):
    _, train, _ = small
    model = tmp_path / "model.npz"
    result = chromatic("fit", train, "-o", model, "--forecast-collisions", "--seed", "0", "--json")
    forecast = json.loads(result.stdout)["collision_forecast"]
    X = load_svmlight(train, zero_based=False).X
    expected = ChromaticEncoder(random_state=0).fit(X)
    assert forecast == pytest.approx(expected.forecast_collisions(X))
    saved = load_model(model)
    assert saved.collision_forecast_ == pytest.approx(forecast)
    assert saved.forecast_rows_ == expected.forecast_rows_
    shown = json.loads(chromatic("inspect", model, "--json").stdout)
    assert shown["collision_forecast"] == pytest.approx(forecast)
    assert "collisions per new row" in chromatic("inspect", model).stdout
    refused = chromatic(
        "fit", train, "-o", tmp_path / "b.npz", "--forecast-collisions", "--budget", "8",
        check=False,
    )  # fmt: skip
    assert refused.returncode != 0 and "without --budget" in refused.stderr
    assert not (tmp_path / "b.npz").exists()


@pytest.mark.slow
def test_a_budget_left_unused_is_explained(small, tmp_path):
    _, train, _ = small
    model = tmp_path / "model.npz"
    args = ("fit", train, "-o", model, "--budget", "4096", "--n-frequent", "0")
    summary = json.loads(chromatic(*args, "--json").stdout)
    assert summary["columns"] < 4096 and summary["stop_reason"] == "penalty"
    shown = chromatic("inspect", model).stdout
    assert f"{summary['columns']} columns" in shown
    assert "of a budget of 4,096: more buckets would gain less than the penalty" in shown


@pytest.mark.slow
def test_output_names_say_what_the_files_hold(small):
    import gzip

    from sklearn.datasets import load_svmlight_file

    pq = pytest.importorskip("pyarrow.parquet")
    folder, train, model = small
    packed = folder / "train.svm.gz"
    packed.write_bytes(gzip.compress(train.read_bytes()))
    labels = load_svmlight(train).y
    out = folder / "out"
    for form, name in [
        ("svmlight", "train.svm.gz"),
        ("npz", "train.npz"),
        ("parquet", "train.parquet"),
    ]:
        chromatic("compress", "--train", packed, "--out", out / form, "--format", form, "--quiet")
        assert sorted(p.name for p in (out / form).iterdir()) == sorted([name, "model.npz"])
    # Compressed as its name says: chromatic and scikit-learn both read it back.
    written = out / "svmlight" / "train.svm.gz"
    assert written.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(load_svmlight(written).y, labels)
    np.testing.assert_array_equal(load_svmlight_file(str(written), zero_based=True)[1], labels)
    with np.load(out / "npz" / "train.npz") as stored:
        np.testing.assert_array_equal(stored["labels"], labels)
    assert pq.read_table(out / "parquet" / "train.parquet").num_rows == len(labels)
    # transform: the format follows the name unless given, and a name may not contradict it.
    chromatic("transform", model, train, "-o", folder / "codes.parquet")
    assert pq.read_table(folder / "codes.parquet").num_rows == len(labels)
    chromatic("transform", model, train, "-o", folder / "codes.svm.bz2")
    np.testing.assert_array_equal(load_svmlight(folder / "codes.svm.bz2").y, labels)
    for args in [
        ("transform", model, train, "-o", folder / "codes.npz", "--format", "parquet"),
        ("transform", model, train, "-o", folder / "codes.svm", "--format", "npz"),
        ("transform", model, train, "-o", folder / "codes.npz.gz"),
        ("fit", train, "-o", folder / "model.svm"),
        ("fit", train, "-o", folder / "model.npz.gz"),
    ]:
        refused = chromatic(*args, check=False)
        assert refused.returncode == 1 and "the name says" in refused.stderr, args
        assert not any(os.path.exists(arg) for arg in args[3:]), args


SIGNAL_DURING_WRITE = """
import os, signal, sys
from chromatic_learning.cli import _sinks, main

sink = _sinks.SINKS[{form!r}]
write = sink.write

def write_then_signal(self, *args):
    write(self, *args)
    os.kill(os.getpid(), signal.{signal})

sink.write = write_then_signal
sys.exit(main({argv!r}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_termination_signal_leaves_no_partial_file(small, name):
    import signal
    import sys

    folder, train, model = small
    previous = folder / "codes.parquet"
    previous.write_bytes(b"what the user had")
    runs = [
        ("svmlight", ["transform", model, train, "-o", folder / "codes.svm"]),
        ("parquet", ["transform", model, train, "-o", previous, "--chunk-mb", "0.01"]),
        ("svmlight", ["compress", "--train", train, "--out", folder / "out"]),
    ]
    before = sorted(p.name for p in folder.iterdir())
    for form, argv in runs:
        script = SIGNAL_DURING_WRITE.format(form=form, signal=name, argv=[*map(str, argv)])
        ended = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        assert ended.returncode == 128 + getattr(signal, name), ended.stderr
        assert f"ended by {name}" in ended.stderr and "Traceback" not in ended.stderr
        # The compress folder was made, but holds neither the model nor a partial file.
        assert sorted(p.name for p in folder.iterdir() if p.name != "out") == before
        assert not (folder / "out").exists() or list((folder / "out").iterdir()) == []
    assert previous.read_bytes() == b"what the user had"


@pytest.mark.slow
def test_outputs_that_are_not_regular_files_are_written_to_directly(small):
    import threading

    folder, train, model = small
    fifo = folder / "codes.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    chromatic("transform", model, train, "-o", fifo)
    reader.join(timeout=60)
    assert stat.S_ISFIFO(fifo.stat().st_mode), "the FIFO was replaced"
    streamed = subprocess.run(
        [shutil.which("chromatic-learning"), "transform", str(model), str(train), "-o", "-"],
        capture_output=True,
    )
    assert streamed.returncode == 0
    # Standard output holds the codes alone; the report goes to standard error.
    assert received == [streamed.stdout] and b"rows ->" in streamed.stderr
    assert [p for p in folder.iterdir() if p.name.startswith(".chromatic-")] == []
    # A null device of our own (never the system's); some temporary folders forbid devices.
    null = folder / "null"
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        with open(null, "wb") as device:
            device.write(b"usable")
    except OSError:
        pytest.skip("no device nodes in this temporary folder")
    chromatic("fit", train, "-o", null, "--quiet")
    assert stat.S_ISCHR(null.stat().st_mode), "the device was replaced"


@pytest.mark.slow
def test_outputs_are_checked_before_any_work(small):
    folder, train, model = small
    # A training file that fails on its last line: an output error must come first.
    bad = folder / "bad.svm"
    bad.write_text(train.read_text() + "1 3:x\n")
    (folder / "models").mkdir()
    for args, message in [
        (("fit", bad, "-o", folder / "models"), "is a folder"),
        (("fit", bad, "-o", folder / "missing" / "model.npz"), "is not an existing folder"),
        (("fit", bad, "-o", f"{folder / 'model2.npz'}{os.sep}"), "names a folder"),
        (("compress", "--train", bad, "--out", model), "is not a folder"),
        (("compress", "--train", bad, "--out", "-"), "standard output"),
        (("transform", model, bad, bad, "-o", "-"), "standard output"),
    ]:
        refused = chromatic(*args, check=False)
        assert refused.returncode == 1 and message in refused.stderr, (args, refused.stderr)
        assert "Traceback" not in refused.stderr and ".chromatic-" not in refused.stderr


def chromatic_within(*args, timeout=120):
    """Run the command, failing rather than hanging (a FIFO without a writer blocks a reader)."""
    command = shutil.which("chromatic-learning")
    return subprocess.run(
        [command, *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def one_line_error(result, status: int = 1) -> str:
    assert result.returncode == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chromatic-learning: "), result.stderr
    return lines[0]


@pytest.fixture
def small_model(tmp_path):
    train = tmp_path / "train.svm"
    X = sp.random(300, 30, density=0.15, format="csr", random_state=0)
    dump_svmlight_file(X, np.arange(300) % 2, str(train), zero_based=False)
    model = tmp_path / "model.npz"
    chromatic("fit", train, "-o", model, "--quiet")
    return train, model


@pytest.mark.slow
def test_inputs_that_are_not_files_are_named_with_what_they_are(small_model, tmp_path):
    train, model = small_model
    fifo = tmp_path / "rows.fifo"
    os.mkfifo(fifo)
    out = tmp_path / "out.svm"
    for args, message in [
        (("fit", tmp_path, "-o", tmp_path / "m.npz"), "is a directory, not a file"),
        (("fit", tmp_path / "missing.svm", "-o", tmp_path / "m.npz"), "missing.svm: no such file"),
        (("fit", fifo, "-o", tmp_path / "m.npz"), "is a FIFO (named pipe)"),
        (("compress", "--train", train, "--test", fifo, "--out", tmp_path / "c"), "is a FIFO"),
        (("inspect", fifo), "is a FIFO (named pipe), a stream that can be read only once"),
        (("inspect", model, "--on", tmp_path), "is a directory"),
        (("transform", model, tmp_path, "-o", out), "is a directory"),
    ]:
        # A FIFO is refused before it is opened: nothing here may wait for a writer.
        line = one_line_error(chromatic_within(*args, timeout=60))
        assert message in line, (args, line)
    assert not out.exists() and not (tmp_path / "m.npz").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--chunk-mb", "inf", "expected a positive, finite number of MiB"),
        ("--chunk-mb", "0", "expected a positive, finite number of MiB"),
        ("--chunk-mb", "nan", "expected a positive, finite number of MiB"),
        ("--n-colors", "-1", r"expected an int in the range [1, 2147483647], got -1"),
        ("--min-cooccurrence", "100000000000", "expected an int in the range [1, 4294967295]"),
        ("--min-cooccurrence", "1e11", "expected a whole number, got '1e11'"),
        ("--seed", "-1", "expected an int in the range [0, 4294967295], got -1"),
        ("--budget", "0", "expected an int in the range [1, 2147483647], got 0"),
        ("--n-frequent", "-3", "expected an int in the range [0, inf), got -3"),
        ("--cv", "1", "expected an int in the range [2, inf), got 1"),
    ],
)
def test_bad_option_values_are_refused_naming_the_option(tmp_path, option, value, message):
    train = tmp_path / "train.svm"
    train.write_text("1 1:1 2:1\n0 2:1 3:1\n")
    result = chromatic("fit", train, "-o", tmp_path / "m.npz", option, value, check=False)
    assert result.returncode == 2
    assert f"argument {option}: {message}" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "m.npz").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "value, message",
    [("inf", "memory_limit 'inf' is not a size"), ("1e30G", "is more than 2**64 - 1 bytes")],
)
def test_memory_limits_out_of_range_are_one_line(tmp_path, value, message):
    # Checked by the estimator's memory_limit check, before any pass.
    train = tmp_path / "train.svm"
    train.write_text("1 1:1 2:1\n0 2:1 3:1\n")
    result = chromatic("fit", train, "-o", tmp_path / "m.npz", "--memory-limit", value, check=False)
    assert message in one_line_error(result)


@pytest.mark.slow
@pytest.mark.parametrize("suffix, opener", [(".gz", "gzip"), (".bz2", "bz2"), (".xz", "lzma")])
def test_truncated_or_corrupt_compressed_inputs_are_named(tmp_path, suffix, opener):
    module = __import__(opener)
    rows = "".join(f"{r % 2} {r % 97 + 1}:1 {r % 89 + 100}:1\n" for r in range(20_000)).encode()
    packed = module.compress(rows)
    truncated, corrupt = tmp_path / f"cut.svm{suffix}", tmp_path / f"bad.svm{suffix}"
    truncated.write_bytes(packed[: len(packed) // 2])
    corrupt.write_bytes(b"this is not compressed at all\n" * 50)
    for path in (truncated, corrupt):
        for args in [
            ("fit", path, "-o", tmp_path / "m.npz"),
            ("inspect", path),
        ]:
            line = one_line_error(chromatic(*args, check=False))
            assert f"{path}: truncated or corrupt" in line, line


@pytest.mark.slow
def test_chunks_of_only_comments_in_every_command(small_model, tmp_path):
    train, model = small_model
    lines = train.read_text().splitlines()
    filler = ["# " + "a comment longer than a chunk " * 4] * 40 + [""] * 40
    padded = tmp_path / "padded.svm"
    padded.write_text("\n".join(filler + lines[:100] + filler + lines[100:] + filler) + "\n")
    tiny = ("--chunk-mb", "0.001")
    plain_out, padded_out = tmp_path / "plain.out.svm", tmp_path / "padded.out.svm"
    chromatic("transform", model, train, "-o", plain_out, "--quiet")
    chromatic("transform", model, padded, "-o", padded_out, "--quiet", *tiny)
    assert padded_out.read_text() == plain_out.read_text()

    on = json.loads(chromatic("inspect", model, "--on", padded, "--json", *tiny).stdout)["on"]
    assert on["rows"] == 300
    summary = json.loads(chromatic("inspect", padded, "--json", *tiny).stdout)
    assert summary["rows"] == 300

    test = tmp_path / "padded_test.svm"
    test.write_bytes(padded.read_bytes())
    out = tmp_path / "compressed"
    chromatic(
        "compress", "--train", padded, "--test", test, "--out", out, "--budget", "8",
        "--n-frequent", "2", "--quiet", *tiny,
    )  # fmt: skip
    for name in ("padded.svm", "padded_test.svm"):
        assert load_svmlight(out / name, zero_based=True).X.shape[0] == 300


@pytest.mark.slow
def test_inspect_a_file_without_rows(tmp_path):
    empty = tmp_path / "empty.svm"
    empty.write_text("# only a comment\n\n   \n")
    result = chromatic("inspect", empty)
    assert result.stdout.strip() == f"{empty}: 0 rows, no features"
    summary = json.loads(chromatic("inspect", empty, "--json").stdout)
    assert summary["rows"] == 0 and summary["non_zeros"] == 0


@pytest.mark.slow
def test_transform_reads_a_fifo_in_its_one_pass(small):
    import threading

    folder, train, model = small
    fifo = folder / "rows.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(train.read_bytes()), daemon=True)
    writer.start()
    chromatic("transform", model, fifo, "-o", folder / "from_fifo.svm")
    writer.join(timeout=60)
    chromatic("transform", model, train, "-o", folder / "from_file.svm")
    assert (folder / "from_fifo.svm").read_bytes() == (folder / "from_file.svm").read_bytes()
    # The fit reads its files twice: a FIFO is refused before it is opened.
    refused = chromatic("fit", fifo, "-o", folder / "m.npz", check=False)
    assert refused.returncode == 1 and "FIFO" in refused.stderr


@pytest.mark.slow
def test_inspect_and_transform_say_what_is_wrong_with_a_model(small):
    folder, train, model = small
    fitted = load_model(model)
    odd = folder / "odd.npz"
    save_model(fitted, odd, metadata={"zero_based": "false", "params": 1})
    about = json.loads(chromatic("inspect", odd, "--json").stdout)
    assert about["kind"] == "model" and about["metadata"]["params"] == 1
    assert about["params"] == fitted.get_params()
    refused = chromatic("transform", odd, train, "-o", folder / "codes.svm", check=False)
    assert refused.returncode == 1 and "zero_based is 'false'" in refused.stderr
    chromatic("transform", odd, train, "-o", folder / "codes.svm", "--zero-based", "no")
    # A damaged model is reported as one, not read as svmlight text.
    damaged = folder / "damaged.npz"
    damaged.write_bytes(model.read_bytes()[:-100])
    result = chromatic("inspect", damaged, check=False)
    assert result.returncode == 1 and str(damaged) in result.stderr
    assert "label" not in result.stderr and "Traceback" not in result.stderr
    empty = folder / "empty.svm"
    empty.write_bytes(b"")
    about = json.loads(chromatic("inspect", empty, "--json").stdout)
    assert about["rows"] == 0 and about["max_index"] is None and about["zero_based"] is None


def test_counts_are_worded_for_one_and_many():
    from chromatic_learning.cli._reports import counted

    assert counted(1, "file") == "1 file"
    assert counted(0, "file") == "0 files"
    assert counted(1234, "file") == "1,234 files"
