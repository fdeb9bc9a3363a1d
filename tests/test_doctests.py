"""The Examples sections of the docstrings run, and give the output they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS

# The modules that hold public names (the package's exports and the documented submodules); those
# of the estimators, of the fits over files and clusters, of model files and of svmlight reading
# must show at least one example.
MODULES = [
    "chromatic_learning",
    "chromatic_learning._baselines",
    "chromatic_learning._compare",
    "chromatic_learning._compression",
    "chromatic_learning._criteo_like",
    "chromatic_learning._delimited",
    "chromatic_learning._encoder",
    "chromatic_learning._model",
    "chromatic_learning._submodular",
    "chromatic_learning._table_encoder",
    "chromatic_learning.dask",
    "chromatic_learning.datasets",
    "chromatic_learning.graph",
    "chromatic_learning.streaming",
    "chromatic_learning.svmlight",
    "chromatic_learning.torch",
]
SHOWS_EXAMPLES = {
    "chromatic_learning._baselines",
    "chromatic_learning._table_encoder",
    "chromatic_learning._compression",
    "chromatic_learning._criteo_like",
    "chromatic_learning._delimited",
    "chromatic_learning._encoder",
    "chromatic_learning._model",
    "chromatic_learning._submodular",
    "chromatic_learning.dask",
    "chromatic_learning.streaming",
    "chromatic_learning.svmlight",
    "chromatic_learning.torch",
}


def run_doctests(module) -> tuple[int, int, str]:
    """``(failed, attempted, report)`` of every docstring example in ``module``."""
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in sorted(doctest.DocTestFinder().find(module), key=lambda t: t.name):
        runner.run(test, out=report.append)
    failed, attempted = runner.summarize(verbose=False)
    return failed, attempted, "".join(report)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name == "chromatic_learning.dask":
        pytest.importorskip("dask")
    if name == "chromatic_learning.torch":
        pytest.importorskip("torch")
    module = importlib.import_module(name)
    failed, attempted, report = run_doctests(module)
    assert failed == 0, f"{failed} of {attempted} examples of {name} failed:\n{report}"
    if name in SHOWS_EXAMPLES:
        assert attempted > 0, f"{name} shows no example"
