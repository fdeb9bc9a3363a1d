"""The engine's value vocabulary (column, value) -> feature id, and rows of feature ids, through
the bindings: Arrow string columns, integers, booleans, nulls, unseen values, thread counts,
pickling, corrupt arrays."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest

from chromatic_learning._core import ChromaticError, ValueVocabulary

pa = pytest.importorskip("pyarrow")

NULL, UNSEEN = -1, -2


def arrow_strings(array):
    """``(offsets, data, valid)`` of an Arrow string or large-string array, without copies of
    the offsets or the data."""
    _, offsets_buffer, data_buffer = array.buffers()
    dtype = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=dtype)[
        array.offset : array.offset + len(array) + 1
    ]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, np.uint8)
    )
    valid = array.is_valid().to_numpy(zero_copy_only=False)
    return offsets, data, valid


def strings_of(values, *, large=False):
    return arrow_strings(pa.array(values, type=pa.large_string() if large else pa.string()))


def test_string_ids_follow_first_appearance_and_nulls_hold_none():
    vocabulary = ValueVocabulary()
    ids = vocabulary.fit_strings(0, *strings_of(["b", "a", None, "b", "", "é"]))
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(ids, [0, 1, NULL, 0, 2, 3])
    # Another column: the same strings are other features; ids go on from the first column's.
    ids = vocabulary.fit_strings(1, *strings_of(["a", "c", "a"], large=True))
    np.testing.assert_array_equal(ids, [4, 5, 4])
    assert vocabulary.n_features == 6


def test_sliced_arrow_arrays_and_missing_validity():
    full = pa.array(["x", "y", None, "z", "y"])
    offsets, data, valid = arrow_strings(full.slice(1, 4))
    assert offsets[0] != 0
    vocabulary = ValueVocabulary()
    np.testing.assert_array_equal(vocabulary.fit_strings(0, offsets, data, valid), [0, NULL, 1, 0])
    # Without a validity mask every row holds a value (a null's empty slot is the empty string).
    np.testing.assert_array_equal(vocabulary.fit_strings(0, offsets, data), [0, 2, 1, 0])


def test_integers_and_booleans_with_nulls():
    vocabulary = ValueVocabulary()
    values = np.array([7, -1, 7, 2**62, 0], dtype=np.int64)
    valid = np.array([True, True, True, True, False])
    np.testing.assert_array_equal(vocabulary.fit_integers(3, values, valid), [0, 1, 0, 2, NULL])
    flags = np.array([True, False, True])
    np.testing.assert_array_equal(vocabulary.fit_booleans(3, flags), [3, 4, 3])
    np.testing.assert_array_equal(
        vocabulary.transform_booleans(3, flags, np.array([False, True, True])), [NULL, 4, 3]
    )
    column, kind, offsets, data = vocabulary.to_arrays()
    np.testing.assert_array_equal(kind, [1, 1, 1, 2, 2])
    np.testing.assert_array_equal(column, [3] * 5)
    assert data[offsets[0] : offsets[1]].tobytes() == (7).to_bytes(8, "little")


def test_transform_marks_unseen_values_and_adds_nothing():
    vocabulary = ValueVocabulary()
    vocabulary.fit_strings(0, *strings_of(["a", "b"]))
    vocabulary.fit_integers(1, np.array([10, 20], dtype=np.int64))
    before = vocabulary.to_arrays()
    np.testing.assert_array_equal(
        vocabulary.transform_strings(0, *strings_of(["b", "zz", None, "a"])),
        [1, UNSEEN, NULL, 0],
    )
    # Column 1's integers are not strings of column 0, nor integers of column 0.
    np.testing.assert_array_equal(
        vocabulary.transform_integers(1, np.array([20, 30, 10], dtype=np.int64)),
        [3, UNSEEN, 2],
    )
    np.testing.assert_array_equal(
        vocabulary.transform_integers(0, np.array([10], dtype=np.int64)), [UNSEEN]
    )
    assert vocabulary.n_features == 4
    for a, b in zip(before, vocabulary.to_arrays(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_ids_do_not_depend_on_n_jobs():
    rng = np.random.default_rng(0)
    n = 200_000
    common = rng.integers(0, 50, n)
    rare = rng.integers(0, n // 2, n)
    tokens = np.where(rng.random(n) < 0.5, np.char.add("c", common.astype(str)), rare.astype(str))
    array = pa.array(tokens.tolist(), mask=rng.random(n) < 0.05)
    args = arrow_strings(array)
    results = []
    for n_jobs in (1, 2):
        vocabulary = ValueVocabulary()
        ids = vocabulary.fit_strings(5, *args, n_jobs=n_jobs)
        again = vocabulary.transform_strings(5, *args, n_jobs=n_jobs)
        np.testing.assert_array_equal(ids, again)
        results.append((ids, vocabulary.to_arrays()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    for a, b in zip(results[0][1], results[1][1], strict=True):
        np.testing.assert_array_equal(a, b)
    ids = results[0][0]
    # Dense ids in order of first appearance, one per distinct value.
    valid_ids = ids[ids >= 0]
    first = np.unique(valid_ids, return_index=True)[1]
    assert np.all(np.diff(first) > 0)
    assert valid_ids.max() + 1 == len(set(np.asarray(tokens)[args[2]]))


def test_pickling_round_trip():
    vocabulary = ValueVocabulary()
    vocabulary.fit_strings(0, *strings_of(["a", None, "b"]))
    vocabulary.fit_integers(1, np.array([5, 6], dtype=np.int64))
    vocabulary.fit_booleans(2, np.array([True]))
    copy = pickle.loads(pickle.dumps(vocabulary))
    assert copy.n_features == vocabulary.n_features == 5
    for a, b in zip(copy.to_arrays(), vocabulary.to_arrays(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(copy.transform_strings(0, *strings_of(["b", "c"])), [1, UNSEEN])
    rebuilt = ValueVocabulary.from_arrays(*vocabulary.to_arrays())
    np.testing.assert_array_equal(rebuilt.transform_integers(1, np.array([6], dtype=np.int64)), [3])


def corrupt(vocabulary, part, change):
    arrays = [a.copy() for a in vocabulary.to_arrays()]
    arrays[part] = change(arrays[part])
    return arrays


@pytest.mark.parametrize(
    ("part", "change", "message"),
    [
        (0, lambda a: a[:-1], "kind_of_feature has"),
        (0, lambda a: np.where(a == 0, -1, a).astype(np.int32), "negative"),
        (1, lambda a: np.full_like(a, 9), "kind 9"),
        (1, lambda a: np.where(a == 0, 1, a).astype(np.uint8), "not 8"),
        (2, lambda a: a[:-1], "value_offsets has"),
        (2, lambda a: a + 1, "run from 1"),
        (2, lambda a: np.concatenate([a[:1], a[2:3], a[1:2], a[3:]]), "decrease"),
        (3, lambda a: a[:-1], "length of value_bytes"),
        (3, lambda a: np.full_like(a, ord("a")), "same value"),
    ],
)
def test_from_arrays_refuses_corrupt_arrays(part, change, message):
    vocabulary = ValueVocabulary()
    vocabulary.fit_strings(0, *strings_of(["a", "bb", "c"]))
    vocabulary.fit_integers(1, np.array([1], dtype=np.int64))
    with pytest.raises(ChromaticError, match=message):
        ValueVocabulary.from_arrays(*corrupt(vocabulary, part, change))
    with pytest.raises(ChromaticError, match=message):
        copy = ValueVocabulary()
        copy.__setstate__(tuple(corrupt(vocabulary, part, change)))


def test_retain_renumbers_kept_features():
    vocabulary = ValueVocabulary()
    vocabulary.fit_strings(0, *strings_of(["a", "b", "c", "d"]))
    new_ids = vocabulary.retain(np.array([True, False, False, True]))
    np.testing.assert_array_equal(new_ids, [0, -1, -1, 1])
    assert vocabulary.n_features == 2
    np.testing.assert_array_equal(
        vocabulary.transform_strings(0, *strings_of(["d", "b", "a"])), [1, UNSEEN, 0]
    )
    with pytest.raises(ValueError, match="keep"):
        vocabulary.retain(np.array([True]))


def test_bad_arguments_are_value_errors_naming_them():
    vocabulary = ValueVocabulary()
    offsets, data, valid = strings_of(["a", "b"])
    with pytest.raises(ValueError, match="valid has 1 entries"):
        vocabulary.fit_strings(0, offsets, data, valid[:1])
    with pytest.raises(ValueError, match="offsets has 0 entries"):
        vocabulary.fit_strings(0, offsets[:0], data)
    with pytest.raises(ValueError, match="row 1: value offsets"):
        vocabulary.fit_strings(0, np.array([0, 1, 9], dtype=np.int32), data)
    with pytest.raises(ValueError, match="valid has 3 entries"):
        vocabulary.fit_integers(0, np.array([1, 2], dtype=np.int64), np.ones(3, bool))
    with pytest.raises(ValueError, match="column must be"):
        vocabulary.fit_booleans(-1, np.array([True]))
    with pytest.raises(ValueError, match="n_jobs"):
        vocabulary.fit_booleans(0, np.array([True]), n_jobs=0)
    # A refused column leaves the vocabulary as it was.
    assert vocabulary.n_features == 0


def engine_columns(table):
    """The columns of an Arrow table as ``fit_rows`` takes them, with their per-column ids
    from one ``fit_*`` each (``fit`` a fresh vocabulary) for comparison."""
    columns = []
    for position, name in enumerate(table.column_names):
        array = table[name].combine_chunks()
        lists = None
        if pa.types.is_list(array.type):
            lists = array.offsets.to_numpy().astype(np.int64)
            array = array.values
        if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
            offsets, data, valid = arrow_strings(array)
            columns.append((position, "strings", (offsets, data), valid, lists))
        elif pa.types.is_boolean(array.type):
            valid = array.is_valid().to_numpy(zero_copy_only=False)
            values = array.fill_null(False).to_numpy(zero_copy_only=False)
            columns.append((position, "booleans", values, valid, lists))
        else:
            valid = array.is_valid().to_numpy(zero_copy_only=False)
            values = array.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
            columns.append((position, "integers", values, valid, lists))
    return columns


def rows_of(indptr, indices):
    return [indices[a:b].tolist() for a, b in itertools.pairwise(indptr)]


def one_fit_per_column(columns, n_rows):
    """The rows that one ``fit_*`` per column, then each row's ids sorted, give."""
    vocabulary = ValueVocabulary()
    rows = [set() for _ in range(n_rows)]
    for position, kind, values, valid, lists in columns:
        arrays = values if kind == "strings" else (values,)
        ids = getattr(vocabulary, f"fit_{kind}")(position, *arrays, valid)
        for row in range(n_rows):
            at = range(row, row + 1) if lists is None else range(lists[row], lists[row + 1])
            rows[row].update(int(ids[i]) for i in at if ids[i] >= 0)
    return vocabulary, [sorted(row) for row in rows]


def random_table(n_rows, seed):
    rng = np.random.default_rng(seed)
    site = [None if r < 0.05 else f"s{int(r * 1e6) % 5000}" for r in rng.random(n_rows)]
    users = rng.zipf(1.3, n_rows) % 100_000
    flags = pa.array(rng.random(n_rows) < 0.3, mask=rng.random(n_rows) < 0.1)
    tags = [[f"t{t}" for t in rng.integers(0, 50, rng.integers(0, 4))] for _ in range(n_rows)]
    return pa.table(
        {
            "site": pa.array(site, type=pa.large_string()),
            "user": pa.array(users, type=pa.int64()),
            "flag": flags,
            "tags": pa.array(tags, type=pa.list_(pa.string())),
            "ad": pa.array([f"ad-{u % 777}-long-enough-to-spill" for u in users]),
        }
    )


@pytest.mark.slow
def test_fit_rows_gives_the_ids_of_one_fit_per_column_whatever_the_threads():
    # Rows enough for several chunks, so that values new to several chunks meet in the merge.
    n_rows = 150_000
    table = random_table(n_rows, seed=3)
    columns = engine_columns(table)
    expected_vocabulary, expected = one_fit_per_column(columns, n_rows)
    for n_jobs in (1, 2, 3):
        vocabulary = ValueVocabulary()
        indptr, indices = vocabulary.fit_rows(n_rows, columns, n_jobs=n_jobs)
        assert indptr.dtype == np.int64 and indices.dtype == np.int32
        assert rows_of(indptr, indices) == expected
        mine, theirs = vocabulary.to_arrays(), expected_vocabulary.to_arrays()
        for array, expected_array in zip(mine, theirs, strict=True):
            np.testing.assert_array_equal(array, expected_array)
        # Looked up again, the same rows, nothing unseen.
        again_indptr, again_indices, unseen = vocabulary.transform_rows(
            n_rows, columns, n_jobs=n_jobs
        )
        assert unseen == 0
        np.testing.assert_array_equal(again_indptr, indptr)
        np.testing.assert_array_equal(again_indices, indices)


def test_transform_rows_counts_unseen_values_and_adds_nothing():
    vocabulary = ValueVocabulary()
    fitted = pa.table({"site": ["a", "b", None], "n": pa.array([1, 2, 3], pa.int64())})
    vocabulary.fit_rows(3, engine_columns(fitted))
    new = pa.table({"site": ["b", "zz", "a", None], "n": pa.array([9, 1, None, 2], pa.int64())})
    indptr, indices, unseen = vocabulary.transform_rows(4, engine_columns(new), n_jobs=2)
    # site a=0 b=1; n 1=2 2=3 3=4
    assert rows_of(indptr, indices) == [[1], [2], [0], [3]]
    assert unseen == 2
    assert vocabulary.n_features == 5
    indptr, indices = ValueVocabulary().fit_rows(4, [])
    np.testing.assert_array_equal(indptr, [0, 0, 0, 0, 0])


def test_fit_rows_refuses_columns_that_do_not_fit_and_keeps_the_vocabulary():
    vocabulary = ValueVocabulary()
    vocabulary.fit_rows(2, engine_columns(pa.table({"site": ["a", "b"]})))
    ids = np.array([0, 1], dtype=np.int64)
    offsets, data, _ = strings_of(["x", "y", "z"])
    cases = [
        ((3, [(0, "integers", ids, None, None)]), "column 0: values has 2 entries, expected 3"),
        (
            (2, [(1, "strings", (offsets, data), None, np.array([0, 2, 1], dtype=np.int64))]),
            "column 1, row 1: list offsets run from 2 to 1",
        ),
        ((2, [(0, "strings", (offsets, data), None, np.array([0, 1], dtype=np.int64))]),
         "list offsets has 2 entries, expected 3"),
        ((2, [(0, "floats", ids, None, None)]), "kind must be"),
        ((-1, []), "n_rows must be >= 0"),
        ((2, [(0, "integers", ids, np.array([True]), None)]), "valid"),
    ]  # fmt: skip
    for (n_rows, columns), message in cases:
        with pytest.raises(ValueError, match=message):
            vocabulary.fit_rows(n_rows, columns)
        with pytest.raises(ValueError, match=message):
            vocabulary.transform_rows(n_rows, columns)
    # Bad string offsets in the last column: the columns before it add nothing either.
    bad = np.array([0, 1, 9], dtype=np.int32)
    columns = [
        (0, "integers", np.array([5, 6], dtype=np.int64), None, None),
        (1, "strings", (bad, np.frombuffer(b"ab", np.uint8)), None, None),
    ]
    with pytest.raises(ValueError, match="column 1, row 1: value offsets"):
        vocabulary.fit_rows(2, columns)
    assert vocabulary.n_features == 2


def test_table_rows_end_to_end():
    """Columns of a table through the vocabulary into rows, nulls and repeated list elements
    left out."""
    table = pa.table(
        {
            "site": ["a", "b", None, "a"],
            "user": pa.array([1, 2, 1, 3], type=pa.int64()),
            "tags": [["x", "y", "x"], [], None, ["y"]],
        }
    )
    indptr, indices = ValueVocabulary().fit_rows(4, engine_columns(table))
    rows = rows_of(indptr, indices)
    # site a=0 b=1; user 1=2 2=3 3=4; tags x=5 y=6
    assert rows == [[0, 2, 5, 6], [1, 3], [2], [0, 4, 6]]
