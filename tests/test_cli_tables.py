"""The command on tables: Parquet and delimited text in, the same model as in memory."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from chromatic_learning import ChromaticCompressor, ChromaticEncoder, load_model  # noqa: E402
from chromatic_learning.cli import main  # noqa: E402


def clicks(n_rows=6_000, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "user": np.char.add("u", rng.integers(0, 900, n_rows).astype(str)),
            "ad": rng.integers(0, 80, n_rows),
            "site": rng.choice(["a.com", "b.org", "c.net"], n_rows),
            "price": np.round(rng.gamma(2.0, 2.0, n_rows), 3),
        }
    )
    logit = np.where(frame["ad"] % 3 == 0, 1.2, -1.0)
    frame["click"] = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return frame


def write_parquet(frame, path, row_group_size=None):
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False),
        path,
        row_group_size=row_group_size or max(len(frame), 1),
    )
    return str(path)


def test_fit_on_parquet_gives_the_model_of_the_dataframe(tmp_path):
    frame = clicks()
    train = write_parquet(frame, tmp_path / "train.parquet")
    model_path = str(tmp_path / "model.npz")
    assert main(["fit", train, "-o", model_path, "--label", "click", "--seed", "3"]) == 0
    model = load_model(model_path)
    features = frame.drop(columns="click")
    in_memory = ChromaticEncoder(random_state=3).fit(features)
    assert list(model.feature_names_in_) == ["user", "ad", "site", "price"]
    np.testing.assert_array_equal(model.colors_, in_memory.colors_)
    np.testing.assert_array_equal(model.transform(features), in_memory.transform(features))


def test_transform_writes_named_code_columns_and_takes_files_without_labels(tmp_path, capsys):
    frame = clicks()
    train = write_parquet(frame, tmp_path / "train.parquet", row_group_size=1_000)
    test = write_parquet(clicks(seed=1).drop(columns="click"), tmp_path / "test.parquet")
    model_path = str(tmp_path / "model.npz")
    assert main(["fit", train, "-o", model_path, "--label", "click", "--quiet"]) == 0
    out = str(tmp_path / "codes.parquet")
    assert main(["transform", model_path, test, "-o", out, "--quiet"]) == 0
    written = pq.read_table(out)
    model = load_model(model_path)
    assert written.column_names == ["label", *model.get_feature_names_out()]
    codes = np.column_stack([written.column(c).to_numpy() for c in written.column_names[1:]])
    np.testing.assert_array_equal(codes, model.transform(clicks(seed=1).drop(columns="click")))


def test_compress_on_tables_writes_parquet_with_a_column_per_output(tmp_path):
    frame = clicks()
    train = write_parquet(frame[:4_000], tmp_path / "train.parquet")
    test = write_parquet(frame[4_000:], tmp_path / "test.parquet")
    out = tmp_path / "out"
    args = ["compress", "--train", train, "--test", test, "--out", f"{out}/"]
    assert main([*args, "--budget", "64", "--n-frequent", "16", "--label", "click"]) == 0
    model = load_model(out / "model.npz")
    assert isinstance(model, ChromaticCompressor)
    for name, rows in (("train.parquet", frame[:4_000]), ("test.parquet", frame[4_000:])):
        written = pq.read_table(out / name)
        assert written.column_names == ["label", *model.get_feature_names_out()]
        np.testing.assert_array_equal(written.column("label").to_numpy(), rows["click"])
    # The test rows are written as the model transforms them.
    test_rows = pq.read_table(out / "test.parquet").drop_columns(["label"])
    expected = model.transform(frame[4_000:].drop(columns="click")).toarray()
    np.testing.assert_array_equal(np.column_stack(test_rows.to_pandas().to_numpy()).T, expected)


def test_a_derived_label_and_column_choice(tmp_path):
    frame = clicks()
    train = write_parquet(frame, tmp_path / "train.parquet")
    model_path = tmp_path / "model.npz"
    args = ["fit", train, "-o", str(model_path), "--label", "price", "--label-above", "4"]
    assert main([*args, "--budget", "32", "--ignore", "click", "--quiet"]) == 0
    model = load_model(model_path)
    assert list(model.feature_names_in_) == ["user", "ad", "site"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="ad"), r"lacks the columns \['ad'\] seen in fit"),
        (lambda f: f.assign(ad=f["ad"].astype(str)), r"column 'ad' holds string values"),
    ],
)
def test_tables_that_do_not_match_the_model_exit_2_naming_the_place(
    tmp_path, capsys, change, message
):
    frame = clicks()
    train = write_parquet(frame, tmp_path / "train.parquet")
    model_path = str(tmp_path / "model.npz")
    assert main(["fit", train, "-o", model_path, "--label", "click", "--quiet"]) == 0
    bad = write_parquet(change(frame), tmp_path / "bad.parquet")
    out = tmp_path / "codes.parquet"
    assert main(["transform", model_path, bad, "-o", str(out)]) == 2
    error = capsys.readouterr().err
    assert "bad.parquet: row group 0" in error
    assert re.search(message, error), error
    assert not out.exists()


def test_labels_and_kinds_are_checked(tmp_path, capsys):
    frame = clicks()
    train = write_parquet(frame, tmp_path / "train.parquet")
    model = str(tmp_path / "model.npz")
    assert main(["fit", train, "-o", model, "--label", "nope"]) == 2
    assert "no label column 'nope'; its columns are ['user', 'ad'" in capsys.readouterr().err
    with_null = frame.astype({"click": "float64"})
    with_null.loc[17, "click"] = np.nan
    bad = write_parquet(with_null, tmp_path / "null.parquet")
    assert main(["fit", bad, "-o", model, "--label", "click", "--budget", "8"]) == 2
    assert "row group 0, column 'click': row 18 has no label" in capsys.readouterr().err
    assert main(["compress", "--train", train, "--out", str(tmp_path / "o"), "--budget", "8"]) == 1
    assert "needs the label column" in capsys.readouterr().err
    svm = tmp_path / "rows.svm"
    svm.write_text("1 0:1 3:1\n0 2:1\n")
    assert main(["fit", train, "-o", model, "--label", "click", "--quiet"]) == 0
    assert main(["transform", model, str(svm), "-o", str(tmp_path / "x.svm")]) == 2
    assert "holds svmlight rows, but the model was fitted on tables" in capsys.readouterr().err
    named = tmp_path / "fake.parquet"
    named.write_text("1 0:1\n")
    assert main(["fit", str(named), "-o", model]) == 2
    assert "named as Parquet, but holds svmlight text (no PAR1 magic)" in capsys.readouterr().err


def test_inspect_a_table_file(tmp_path, capsys):
    frame = clicks()
    frame.loc[::10, "site"] = None
    train = write_parquet(frame, tmp_path / "train.parquet", row_group_size=2_500)
    assert main(["inspect", train, "--label", "click", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["kind"] == "table" and summary["rows"] == len(frame)
    columns = {c["name"]: c for c in summary["columns"]}
    assert set(columns) == {"user", "ad", "site", "price"}
    assert columns["user"]["values"] == frame["user"].nunique()
    assert columns["site"]["nulls"] == frame["site"].isna().sum()
    assert summary["label_values"] == [0.0, 1.0]


def row_features(model, features) -> list:
    """The ``column=value`` names of each row, as the model encodes and decodes it."""
    decoded = model.inverse_transform(model.transform(features)).tocsr()
    names = model.table_encoder_.get_feature_names_out()
    bounds = zip(decoded.indptr[:-1], decoded.indptr[1:], strict=True)
    return [frozenset(names[decoded.indices[start:end]]) for start, end in bounds]


def test_csv_tsv_and_parquet_of_the_same_rows_give_the_same_model(tmp_path):
    from chromatic_learning.streaming import TableReading, fit_files

    frame = clicks()
    frame.loc[::7, "site"] = None
    features = frame.drop(columns="click")
    # In one chunk, text gives the very model of the DataFrame (bin edges included).
    tsv = tmp_path / "t.tsv"
    frame.to_csv(tsv, index=False, sep="\t")
    in_memory = ChromaticEncoder(random_state=0).fit(features)
    model = ChromaticEncoder(random_state=0)
    fit_files(model, [str(tsv)], tables=TableReading(label="click"))
    np.testing.assert_array_equal(model.colors_, in_memory.colors_)
    np.testing.assert_array_equal(model.transform(features), in_memory.transform(features))
    # In chunks of 64 KiB (the bin edges of a numeric column come from the first chunk, so
    # none here), every kind of file holds the same features for every row.
    frame, features = frame.drop(columns="price"), features.drop(columns="price")
    parquet = write_parquet(frame, tmp_path / "t.parquet", row_group_size=1_000)
    csv = tmp_path / "t.csv.gz"
    frame.to_csv(csv, index=False)
    in_memory = ChromaticEncoder(random_state=0).fit(features)
    expected = row_features(in_memory, features)
    for path in (parquet, str(csv)):
        model = ChromaticEncoder(random_state=0)
        fit_files(model, [path], tables=TableReading(label="click", chunk_bytes=1 << 16))
        names = model.table_encoder_.get_feature_names_out()
        assert sorted(names) == sorted(in_memory.table_encoder_.get_feature_names_out())
        assert row_features(model, features) == expected, path


def test_the_criteo_layout(tmp_path):
    from chromatic_learning.datasets import write_criteo_like

    train, test = tmp_path / "train.txt", tmp_path / "test.txt"
    write_criteo_like(train, 4_000, seed=1)
    write_criteo_like(test, 1_000, seed=2)
    out = tmp_path / "out"
    args = ["compress", "--train", str(train), "--test", str(test), "--out", str(out)]
    assert main([*args, "--input-format", "criteo", "--budget", "128", "--n-frequent", "32"]) == 0
    model = load_model(out / "model.npz")
    assert list(model.feature_names_in_) == [f"I{i}" for i in range(1, 14)] + [
        f"C{i}" for i in range(1, 27)
    ]
    written = pq.read_table(out / "train.parquet")
    assert written.num_rows == 4_000 and written.num_columns == 1 + model.n_features_out_
    # The model remembers the layout: transform needs no option.
    codes = tmp_path / "codes.parquet"
    assert main(["transform", str(out / "model.npz"), str(test), "-o", str(codes), "--quiet"]) == 0
    assert pq.read_table(codes).num_rows == 1_000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"user,ad,click\nu1,3,1\nu2,4\n", r"bad\.csv:3: "),
        (b'user,ad,click\nu1,3,1\n"u2,4,0\n', r"bad\.csv:3: "),
        (b"user,ad,click\nu1,3,1\nu\xff,4,0\n", r"bad\.csv:3: .*UTF-8"),
        (b"user,ad,click\nu1,3,1\nu2,4,yes\n", r"label holds"),
    ],
)
def test_bad_text_exits_2_with_file_and_line(tmp_path, capsys, text, message):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(text)
    model = tmp_path / "model.npz"
    assert main(["fit", str(bad), "-o", str(model), "--label", "click"]) == 2
    error = capsys.readouterr().err
    assert re.search(message, error), error
    assert "\n" not in error.strip() and not model.exists()


def test_a_column_whose_type_changes_between_files(tmp_path, capsys):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("user,ad,click\nu1,3,1\nu2,4,0\n")
    second.write_text("user,ad,click\nu1,x9,1\n")
    model = tmp_path / "model.npz"
    assert main(["fit", str(first), str(second), "-o", str(model), "--label", "click"]) == 2
    error = capsys.readouterr().err
    assert "b.csv" in error and "column 'ad' holds string values" in error, error


def test_a_label_that_is_not_binary_where_a_budget_needs_one(tmp_path, capsys):
    data = tmp_path / "three.csv"
    data.write_text("user,ad,click\nu1,3,1\nu2,4,0\nu3,5,2\n")
    model = tmp_path / "model.npz"
    assert main(["fit", str(data), "-o", str(model), "--label", "click", "--budget", "8"]) == 2
    error = capsys.readouterr().err
    assert "three.csv: rows 1-3: the labels must be binary" in error, error
    assert not model.exists()
    # Without a budget, any number is a label.
    assert main(["fit", str(data), "-o", str(model), "--label", "click", "--quiet"]) == 0
    # The same for svmlight rows.
    rows = tmp_path / "three.svm"
    rows.write_text("1 0:1\n0 1:1\n2 2:1\n")
    assert main(["fit", str(rows), "-o", str(model), "--budget", "8"]) == 2
    assert "three.svm: rows 1-3: the labels must be binary" in capsys.readouterr().err


def test_collisions_of_a_table_model_are_measured_on_tables(tmp_path, capsys):
    frame = clicks()
    train = write_parquet(frame, tmp_path / "train.parquet", row_group_size=1_000)
    new = write_parquet(clicks(seed=1), tmp_path / "new.parquet")
    model_path = str(tmp_path / "model.npz")
    fit = ["fit", train, "-o", model_path, "--label", "click", "--min-cooccurrence", "3"]
    assert main([*fit, "--forecast-collisions", "--json"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    model = load_model(model_path)
    features = frame.drop(columns="click")
    lost = model.collisions(features)[0] / len(frame)
    assert summary["training_collisions_per_row"] == pytest.approx(lost)
    assert lost > 0.05 and "--min-cooccurrence 3" in err
    assert summary["collision_forecast"] == pytest.approx(model.collision_forecast_)
    assert main(["inspect", model_path, "--on", new, "--label", "click", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    expected = model.collisions(clicks(seed=1).drop(columns="click"))[0] / len(frame)
    assert shown["on"]["collisions_per_row"] == pytest.approx(expected)
