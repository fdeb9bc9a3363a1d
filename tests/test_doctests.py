"""The Examples sections of the docstrings run, and give the output they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS

# The public modules; those of the estimators and of the fits over files, clusters and model
# files must show at least one example.
MODULES = [
    "chromatic",
    "chromatic._baselines",
    "chromatic._compare",
    "chromatic._compression",
    "chromatic.dask",
    "chromatic.datasets",
    "chromatic._encoder",
    "chromatic.graph",
    "chromatic._model",
    "chromatic.streaming",
    "chromatic.svmlight",
]
SHOWS_EXAMPLES = {
    "chromatic._baselines",
    "chromatic._compression",
    "chromatic.dask",
    "chromatic._encoder",
    "chromatic._model",
    "chromatic.streaming",
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
    if name == "chromatic.dask":
        pytest.importorskip("dask")
    module = importlib.import_module(name)
    failed, attempted, report = run_doctests(module)
    assert failed == 0, f"{failed} of {attempted} examples of {name} failed:\n{report}"
    if name in SHOWS_EXAMPLES:
        assert attempted > 0, f"{name} shows no example"
