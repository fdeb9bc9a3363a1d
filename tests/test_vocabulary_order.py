"""The ids of a table's values do not depend on how its rows are cut: chunks fitted one after
the other, or vocabularies of row ranges merged in any grouping, give in column order the ids
of the whole table fitted at once."""

from __future__ import annotations

import copy
import functools
import itertools

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from chromatic_learning import ChromaticCompressor, ChromaticEncoder, TableEncoder, _core  # noqa: E402
from chromatic_learning._columns import TableFeatures  # noqa: E402
from chromatic_learning._vocabularies import fit_into, in_column_order  # noqa: E402
from chromatic_learning.streaming import TableReading, fit_compressor_files, fit_files  # noqa: E402


def table(n_rows: int, seed: int):
    """Strings with nulls, integers, booleans, floats as values (signed zeros, NaN), lists."""
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "s": [None if rng.random() < 0.1 else f"v{rng.integers(0, 40)}" for _ in range(n_rows)],
            "i": rng.integers(-5, 30, n_rows),
            "b": rng.integers(0, 2, n_rows).astype(bool),
            "f": rng.choice([0.5, 1.5, np.nan, -0.0, 0.0], n_rows),
            "l": [[f"x{k}" for k in rng.integers(0, 9, rng.integers(0, 3))] for _ in range(n_rows)],
        }
    )


def arrays(vocabulary) -> list:
    return [array.tolist() for array in vocabulary.to_arrays()]


def piece_vocabularies(rows, cuts) -> tuple[TableFeatures, list]:
    """The features fitted chunk by chunk, and the vocabulary of each chunk alone."""
    streamed = TableFeatures(numeric="none")
    for a, b in itertools.pairwise(cuts):
        streamed.fit_more(rows.slice(a, b - a))
    pieces = []
    for a, b in itertools.pairwise(cuts):
        piece = copy.copy(streamed)
        piece.vocabulary = _core.ValueVocabulary()
        piece.fit_more(rows.slice(a, b - a))
        pieces.append(piece.vocabulary)
    return streamed, pieces


def merged(a, b):
    total = copy.copy(a)
    fit_into(total, b)
    return total


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "cuts", [[0, 300], [0, 50, 50, 120, 200, 300], [0, 1, 2, 3, 150, 299, 300]]
)
def test_merges_in_any_grouping_give_the_chunked_ids_and_in_column_order_the_whole(seed, cuts):
    rows = table(300, seed)
    whole = TableFeatures(numeric="none")
    whole.fit_transform(rows)
    streamed, pieces = piece_vocabularies(rows, cuts)
    assert arrays(functools.reduce(merged, pieces)) == arrays(streamed.vocabulary)
    # Pairs from the right: another grouping of the same merges.
    right = functools.reduce(lambda acc, piece: merged(piece, acc), reversed(pieces))
    assert arrays(right) == arrays(streamed.vocabulary)
    ordered, new_id = in_column_order(streamed.vocabulary)
    assert arrays(ordered) == arrays(whole.vocabulary)
    assert sorted(new_id.tolist()) == list(range(whole.n_features))


def test_fit_into_keeps_the_ids_there_and_returns_those_of_the_other():
    a = TableFeatures(numeric="none")
    a.fit_transform(table(40, 3))
    b = TableFeatures(numeric="none")
    b.fit_transform(table(40, 4))
    before = arrays(a.vocabulary)
    ids = fit_into(a.vocabulary, b.vocabulary)
    after = a.vocabulary.to_arrays()
    assert [array[: len(before[0])].tolist() for array in after[:2]] == before[:2]
    np.testing.assert_array_equal(a.feature_names()[ids], b.feature_names())


def clicks(n_rows=2_000, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "user": np.char.add("u", rng.integers(0, 300, n_rows).astype(str)),
            "ad": rng.integers(0, 80, n_rows),
            "site": rng.choice(["a.com", "b.org", "c.net"], n_rows),
            "price": np.round(rng.gamma(2.0, 2.0, n_rows), 1),
        }
    )
    frame["click"] = (rng.random(n_rows) < np.where(frame["ad"] % 3 == 0, 0.6, 0.2)).astype(int)
    return frame


def test_files_of_several_row_groups_give_the_model_of_the_whole_table(tmp_path):
    frame = clicks()
    path = str(tmp_path / "clicks.parquet")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=300)
    X, y = frame.drop(columns="click"), frame["click"]
    # Floats as values: bin edges would come from the first row group.
    table_encoder = TableEncoder(numeric="none")
    streamed = ChromaticEncoder(random_state=1, table=table_encoder)
    fit_files(streamed, [path], tables=TableReading(label="click"))
    in_memory = ChromaticEncoder(random_state=1, table=table_encoder).fit(X)
    np.testing.assert_array_equal(
        streamed.get_feature_names_out(), in_memory.get_feature_names_out()
    )
    np.testing.assert_array_equal(
        streamed.table_encoder_.get_feature_names_out(),
        in_memory.table_encoder_.get_feature_names_out(),
    )
    np.testing.assert_array_equal(streamed.colors_, in_memory.colors_)
    np.testing.assert_array_equal(streamed.transform(X), in_memory.transform(X))
    # The split chosen on a sample of every row: the sampled rows are renumbered too.
    params = {"budget": 32, "selection_rows": len(frame), "random_state": 2}
    compressor = ChromaticCompressor(**params, table=table_encoder)
    fit_compressor_files(compressor, [path], tables=TableReading(label="click"))
    expected = ChromaticCompressor(**params, table=table_encoder).fit(X, y)
    assert compressor.selection_scores_ == pytest.approx(expected.selection_scores_)
    assert compressor.n_frequent_ == expected.n_frequent_
    assert (compressor.transform(X) != expected.transform(X)).nnz == 0
