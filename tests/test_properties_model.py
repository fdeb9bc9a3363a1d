"""Properties of the model file on generated models and generated damage.

Valid models round-trip (the loaded model transforms generated rows exactly as the saved one),
and any mutation of a valid file (members dropped, replaced, retyped, reshaped, resized,
shuffled, overwritten, bytes corrupted, the file truncated) either loads into a model that
holds together or raises ModelFileError, never another exception. The mutations are those of
the fuzz targets (fuzz/targets.py). Hypothesis prints a failing example with the blob that
replays it (``@reproduce_failure``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chromatic_learning import (
    ChromaticCompressor,
    ChromaticEncoder,
    ModelFileError,
    load_model,
    save_model,
)
from chromatic_learning._model import read_model

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz"))
import targets

SETTINGS = settings(
    deadline=None, print_blob=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@st.composite
def binary_rows(draw, n_features: int, min_rows: int = 1):
    rows = draw(
        st.lists(
            st.lists(st.integers(0, n_features - 1), max_size=6, unique=True),
            min_size=min_rows,
            max_size=60,
        )
    )
    indptr = np.cumsum([0] + [len(row) for row in rows])
    indices = np.array([i for row in rows for i in sorted(row)], dtype=np.int32)
    return sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(rows), n_features))


@st.composite
def fitted_models(draw):
    n_features = draw(st.integers(2, 40))
    X = draw(binary_rows(n_features, min_rows=4))
    coloring = {
        "strategy": draw(st.sampled_from(["largest_first", "smallest_last", "natural", "dsatur"])),
        "collision": draw(st.sampled_from(["most_frequent", "least_frequent"])),
        "dense_threshold": draw(st.sampled_from([None, 0.1, 0.5])),
        "min_cooccurrence": draw(st.integers(1, 2)),
        "n_colors": draw(st.none() | st.integers(1, n_features + 3)),
        "random_state": draw(st.integers(0, 2**31 - 1)),
    }
    if draw(st.booleans()):
        return ChromaticEncoder(**coloring).fit(X), n_features
    y = draw(st.lists(st.integers(0, 1), min_size=X.shape[0], max_size=X.shape[0]))
    y[:4] = [0, 1, 0, 1]  # both classes, twice each for the two folds
    budget = draw(st.integers(1, 40))
    # A fixed count of kept features: "auto" chooses it by cross-validation, slow and beside
    # the point of the file format.
    n_frequent = draw(st.sampled_from([0, 1, 5, budget]))
    compressor = ChromaticCompressor(budget=budget, n_frequent=n_frequent, cv=2, **coloring)
    return compressor.fit(X, np.array(y)), n_features


@settings(SETTINGS, max_examples=40)
@given(data=st.data())
# The drawn n_colors may exceed the features drawn: the fit says so, as it should.
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:n_colors=.* is more than the:UserWarning")
def test_saved_models_load_and_transform_the_same(tmp_path_factory, data):
    model, n_features = data.draw(fitted_models())
    rows = data.draw(binary_rows(n_features))
    path = tmp_path_factory.mktemp("models") / "model.npz"
    metadata = data.draw(st.dictionaries(st.text(max_size=5), st.integers() | st.text()))
    save_model(model, path, metadata=metadata)
    loaded, loaded_metadata = read_model(path)
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    assert loaded_metadata == metadata
    targets.check_loaded_model(loaded)
    expected, got = model.transform(rows), loaded.transform(rows)
    if sp.issparse(expected):
        assert (expected != got).nnz == 0
    else:
        np.testing.assert_array_equal(got, expected)


mutations = st.builds(
    targets.Mutation,
    operation=st.sampled_from(targets.OPERATIONS),
    member=st.integers(0, 40),
    position=st.integers(0, 2**32 - 1),
    payload=st.binary(max_size=16),
)


@st.composite
def damaged_files(draw):
    file = targets.mutated_model(draw(st.integers(0, 3)), draw(st.lists(mutations, max_size=4)))
    damage = draw(st.sampled_from(["none", "truncate", "corrupt"]))
    if damage == "truncate":
        file = file[: draw(st.integers(0, len(file)))]
    elif damage == "corrupt":
        at = draw(st.integers(0, len(file) - 1))
        patch = draw(st.binary(min_size=1, max_size=8))
        file = file[:at] + patch + file[at + len(patch) :]
    return file


@settings(SETTINGS, max_examples=150)
@given(file=damaged_files())
def test_damaged_files_load_soundly_or_raise_model_file_errors(tmp_path_factory, file):
    path = tmp_path_factory.mktemp("damaged") / "model.npz"
    path.write_bytes(file)
    try:
        model = load_model(path)
    except ModelFileError as error:
        assert "\n" not in str(error) and str(path) in str(error)
        return
    targets.check_loaded_model(model)
