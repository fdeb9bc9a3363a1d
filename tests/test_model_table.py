"""Model files of models fitted on tables: the vocabulary and column spec saved and checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from chromatic_learning import (  # noqa: E402
    ChromaticCompressor,
    ChromaticEncoder,
    ModelFileError,
    TableEncoder,
    load_model,
    save_model,
)


def table(n_rows=1_500, seed=0):
    """Every kind of column: ids, text with nulls, floats in bins, dates, booleans, lists."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(0, 200, n_rows),
            "site": rng.choice(["a.com", "b.org", "c.net", None], n_rows),
            "price": rng.gamma(2.0, 2.0, n_rows),
            "day": pd.Timestamp("2024-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 20, n_rows), unit="D"),
            "weekend": rng.random(n_rows) < 0.3,
            "tags": [["x", "y", "z"][: int(k)] for k in rng.integers(0, 4, n_rows)],
        }
    )
    y = ((frame["user_id"] % 4 == 0) ^ (rng.random(n_rows) < 0.2)).astype(int)
    return frame, y.to_numpy()


def _saved(model, tmp_path, name="model.npz"):
    path = tmp_path / name
    save_model(model, path)
    return path


def _dense(Z):
    return Z.toarray() if hasattr(Z, "toarray") else np.asarray(Z)


@pytest.mark.parametrize(
    "make",
    [
        lambda X, y: ChromaticEncoder(random_state=0).fit(X),
        lambda X, y: ChromaticEncoder(output="onehot", table=TableEncoder(min_frequency=3)).fit(X),
        lambda X, y: ChromaticCompressor(budget=48, n_frequent=8, random_state=0).fit(X, y),
        lambda X, y: ChromaticCompressor(
            budget=48, n_frequent=0, random_state=0, table=TableEncoder(ignore=["weekend"])
        ).fit(X, y),
    ],
)
def test_a_table_model_round_trips(tmp_path, make):
    X, y = table()
    model = make(X, y)
    loaded = load_model(_saved(model, tmp_path))
    np.testing.assert_array_equal(_dense(loaded.transform(X)), _dense(model.transform(X)))
    assert list(loaded.feature_names_in_) == list(model.feature_names_in_)
    assert list(loaded.get_feature_names_out()) == list(model.get_feature_names_out())
    assert loaded.get_params()["table"] is None or isinstance(
        loaded.get_params()["table"], TableEncoder
    )
    # New rows: unseen values are no feature, as in the model in memory.
    fresh, _ = table(seed=1)
    np.testing.assert_array_equal(_dense(loaded.transform(fresh)), _dense(model.transform(fresh)))


def test_a_loaded_table_model_names_the_missing_columns(tmp_path):
    X, _ = table()
    loaded = load_model(_saved(ChromaticEncoder().fit(X), tmp_path))
    with pytest.raises(ValueError, match=r"lacks the columns \['price', 'tags'\] seen in fit"):
        loaded.transform(X.drop(columns=["price", "tags"]))
    with pytest.raises(ValueError, match="fitted on a table of the columns"):
        loaded.transform(np.ones((2, 6)))


def _tampered(tmp_path, model, change):
    with np.load(_saved(model, tmp_path)) as stored:
        content = dict(stored)
    change(content)
    path = tmp_path / "tampered.npz"
    np.savez(path, **content)
    return path


def _columns(edit):
    def change(content):
        described = json.loads(str(content["table.columns"]))
        edit(described["columns"])
        content["table.columns"] = np.array(json.dumps(described))

    return change


def _column(name):
    return lambda columns: next(c for c in columns if c["name"] == name)


def _set(member, value):
    def change(content):
        content[member] = value(content[member].copy())

    return change


def _first_of(content, name):
    described = json.loads(str(content["table.columns"]))["columns"]
    position = [c["name"] for c in described].index(name)
    return int(np.flatnonzero(content["table.vocabulary.columns"] == position)[0])


def _bin_past_edges(content):
    feature = _first_of(content, "price")
    start = content["table.vocabulary.offsets"][feature]
    data = content["table.vocabulary.bytes"].copy()
    data[start : start + 8] = np.frombuffer(np.int64(99).tobytes(), np.uint8)
    content["table.vocabulary.bytes"] = data


def _kind_changed(content):
    kinds = content["table.vocabulary.kinds"].copy()
    kinds[_first_of(content, "site")] = 1
    content["table.vocabulary.kinds"] = kinds


TAMPERING = {
    "falling edges": (
        _columns(lambda cols: _column("price")(cols).update(edges=[2.0, 1.0])),
        "'table.columns' describes column 2 with bin edges that do not ascend",
    ),
    "an unknown kind": (
        _columns(lambda cols: _column("site")(cols).update(kind="emoji")),
        "'table.columns' describes column 1 as 'emoji'",
    ),
    "a repeated name": (
        _columns(lambda cols: _column("site")(cols).update(name="user_id")),
        "name that is empty, too long or repeated",
    ),
    "a type that is no time": (
        _columns(lambda cols: _column("day")(cols).update(arrow_type="struct<a: int8>")),
        "with the Arrow type 'struct<a: int8>', not a date or time",
    ),
    "a bin past the edges": (_bin_past_edges, "holds a bin of 'price' outside its"),
    "a value read as another kind": (_kind_changed, "'table.vocabulary.kinds' gives feature"),
    "a feature of no column": (
        _set("table.vocabulary.columns", lambda a: a + 50),
        r"'table.vocabulary.columns' holds \d+ at position \d+, outside",
    ),
    "value bytes cut short": (
        _set("table.vocabulary.offsets", lambda a: a[::-1]),
        "'table.vocabulary.offsets'",
    ),
    "an unknown table parameter": (
        lambda c: c.update(
            {"table.params": np.array(json.dumps({**json.loads(str(c["table.params"])), "x": 1}))}
        ),
        "'table.params' holds an unknown parameter 'x'",
    ),
    "other column names": (
        lambda c: c.update({"feature_names_in": c["feature_names_in"][::-1].copy()}),
        "'feature_names_in' does not name the table's columns read",
    ),
    "a table in a first-version file": (
        lambda c: c.update({"version": np.array(1)}),
        "'table.params' is in a version 1 file, which has no tables",
    ),
    "a table without its vocabulary": (
        lambda c: c.pop("table.vocabulary.bytes"),
        "no member 'table.vocabulary.bytes'",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_a_tampered_table_model_is_refused_naming_the_member(tmp_path, case):
    change, message = TAMPERING[case]
    X, _ = table()
    path = _tampered(tmp_path, ChromaticEncoder(random_state=0).fit(X), change)
    with pytest.raises(ModelFileError, match=message) as caught:
        load_model(path)
    assert "\n" not in str(caught.value)
