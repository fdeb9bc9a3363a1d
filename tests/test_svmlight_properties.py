"""Property-based tests of the svmlight reader through its Python entry points.

Generated texts (labels, ``qid:``, sorted or unsorted and repeated indices, values, comments,
blank lines, varied whitespace) are read by ``load_svmlight`` and by ``iter_chunks`` with
small random chunk sizes, and compared with a plain reference parser written here; a malformed
line must raise ``SvmlightError`` naming its file and line, whatever the chunking. Examples
are derandomized, so that a failure is the same on every run (hypothesis prints it).
"""

from __future__ import annotations

import itertools
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chromatic_learning.svmlight import SvmlightError, iter_chunks, joined_chunks, load_svmlight

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)

# Whitespace between tokens: what both the engine and the reference split on. A lone "\r" is
# a line end in some readers and not in others, so it is left out of the texts.
SPACES = st.sampled_from([" ", "  ", "\t", " \t ", "\x0c"])

LABELS = st.one_of(
    st.integers(-3, 3).map(str),
    st.sampled_from(["+1", "-1", "1.5", "-0.25", "1e2", "2E-1", "0.0"]),
)

VALUES = st.one_of(
    st.none(),  # an index alone: present
    st.sampled_from(["1", "0", "0.0", "-2.5", "1e-3", "3E2", "-0", "+4", ".5"]),
)


@st.composite
def entries(draw):
    """``index[:value]`` tokens of a row: any order, repeats allowed."""
    tokens = []
    for _ in range(draw(st.integers(0, 6))):
        index = draw(st.integers(0, 40))
        value = draw(VALUES)
        tokens.append((index, value))
    return tokens


@st.composite
def svmlight_lines(draw):
    """Lines of a file, each ``(text, row or None)``: a row is ``(label, present indices)``."""
    lines = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["row", "row", "row", "blank", "comment"]))
        if kind == "blank":
            lines.append((draw(st.sampled_from(["", " ", "\t", "  \t"])), None))
            continue
        if kind == "comment":
            lines.append((draw(SPACES.map(lambda s: s.strip(" ") + "# note: 1:1 2:x")), None))
            continue
        label = draw(LABELS)
        tokens = [label]
        if draw(st.booleans()):
            tokens.append(f"qid:{draw(st.integers(0, 99))}")
        row = draw(entries())
        tokens += [str(i) if v is None else f"{i}:{v}" for i, v in row]
        text = "".join(tok + draw(SPACES) for tok in tokens[:-1]) + tokens[-1]
        if draw(st.booleans()):
            text = draw(SPACES) + text
        if draw(st.booleans()):
            text += draw(SPACES) + "# " + draw(st.sampled_from(["comment", "3:4", "x y z"]))
        lines.append((text, reference_row(text)))
    return lines


def reference_row(text: str):
    """The reference reading of one line: ``(label, sorted distinct present indices)`` or None.

    A line is ``label [qid:N] index[:value] ... [# comment]``; a value of 0 is absent.
    """
    tokens = text.split("#", 1)[0].split()
    if not tokens:
        return None
    label, rest = float(tokens[0]), tokens[1:]
    if rest and rest[0].startswith("qid:"):
        rest = rest[1:]
    present = set()
    for token in rest:
        index, _, value = token.partition(":")
        if not value or float(value) != 0:
            present.add(int(index))
    return label, sorted(present)


def written_indices(text: str) -> list[int]:
    """Every index a line writes, explicit zero values included: what the base is read from."""
    tokens = text.split("#", 1)[0].split()[1:]
    return [int(token.partition(":")[0]) for token in tokens if not token.startswith("qid:")]


def reference_matrix(rows, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    dense = np.zeros((len(rows), n_features))
    for r, (_, present) in enumerate(rows):
        dense[r, present] = 1
    return np.array([label for label, _ in rows]), dense


def write(folder: Path, lines, *, final_newline: bool) -> Path:
    path = folder / "rows.svm"
    text = "\n".join(t for t, _ in lines) + ("\n" if final_newline and lines else "")
    path.write_bytes(text.encode())
    return path


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@SETTINGS
@given(
    lines=svmlight_lines(),
    chunk_bytes=st.integers(1, 200),
    final_newline=st.booleans(),
)
def test_reading_agrees_with_the_reference_parser(folder, lines, chunk_bytes, final_newline):
    path = write(folder, lines, final_newline=final_newline)
    rows = [row for _, row in lines if row is not None]
    labels, dense = reference_matrix(rows, 41)

    data = load_svmlight(path, zero_based=True, n_features=41, chunk_bytes=chunk_bytes)
    np.testing.assert_array_equal(data.y, labels)
    np.testing.assert_array_equal(data.X.toarray(), dense)
    assert data.skipped_lines == 0

    chunks = list(iter_chunks(path, chunk_bytes=chunk_bytes))
    joined = joined_chunks(chunks)
    np.testing.assert_array_equal(joined.labels, labels)
    assert [list(joined.indices[a:b]) for a, b in itertools.pairwise(joined.indptr)] == [
        present for _, present in rows
    ]
    assert sum(chunk.n_rows for chunk in chunks) == len(rows)
    # Every chunk starts where the one before it ended, in lines of the file.
    for before, after in itertools.pairwise(chunks):
        assert after.first_line > before.first_line
    # The base comes from every index written, explicit zeros included (`1 0:0 3:1` is 0-based).
    written = [i for text, row in lines if row is not None for i in written_indices(text)]
    assert joined.min_index == (min(written) if written else np.iinfo(np.int64).max)


BAD_LINES = [
    ("x 1:1", "label"),
    ("nan 1:1", "label"),
    ("1 a:1", "index"),
    ("1 -2:1", "index"),
    ("1 3:zz", "not a number"),
    ("1 3:inf", "not finite"),
    ("1 1:1 qid:3", "index"),
    ("1 3:1:2", "not a number"),
]


@SETTINGS
@given(
    lines=svmlight_lines(),
    bad=st.sampled_from(BAD_LINES),
    position=st.integers(0, 30),
    chunk_bytes=st.integers(1, 200),
)
def test_a_malformed_line_is_named_whatever_the_chunking(folder, lines, bad, position, chunk_bytes):
    text, message = bad
    position = min(position, len(lines))
    lines = [*lines[:position], (text, None), *lines[position:]]
    path = write(folder, lines, final_newline=True)
    with pytest.raises(SvmlightError, match=rf"rows.svm:{position + 1}: .*{message}") as caught:
        load_svmlight(path, zero_based=True, n_features=41, chunk_bytes=chunk_bytes)
    assert caught.value.line == position + 1
    assert Path(caught.value.path).name == "rows.svm"

    # Skipped, it is counted, and the other rows read as without it.
    rows = [row for _, row in lines if row is not None]
    labels, dense = reference_matrix(rows, 41)
    data = load_svmlight(
        path, zero_based=True, n_features=41, chunk_bytes=chunk_bytes, skip_bad_lines=True
    )
    assert data.skipped_lines == 1
    np.testing.assert_array_equal(data.y, labels)
    np.testing.assert_array_equal(data.X.toarray(), dense)


@SETTINGS
@given(labels=st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=20))
def test_labels_read_back_exactly(folder, labels):
    # repr gives the shortest text that reads back as the same float.
    path = folder / "labels.svm"
    path.write_text("".join(f"{label!r} 1:1\n" for label in labels))
    data = load_svmlight(path, zero_based=True, n_features=2, chunk_bytes=7)
    assert [float(v) for v in data.y] == labels
    assert all(
        math.copysign(1, a) == math.copysign(1, b) for a, b in zip(data.y, labels, strict=True)
    )
