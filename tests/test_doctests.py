"""The Examples sections of the docstrings run, and give the output they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS

# The public modules; the estimator modules must show at least one example.
MODULES = [
    "chromatic",
    "chromatic.baselines",
    "chromatic.compare",
    "chromatic.compression",
    "chromatic.dask",
    "chromatic.datasets",
    "chromatic.encoder",
    "chromatic.graph",
    "chromatic.model",
    "chromatic.streaming",
    "chromatic.svmlight",
]
ESTIMATOR_MODULES = {"chromatic.baselines", "chromatic.compression", "chromatic.encoder"}
# Estimator modules whose examples are still to be written (the module is being rewritten).
# Strict: once the examples exist, the entry must go.
PENDING_EXAMPLES = {"chromatic.compression"}


def run_doctests(module) -> tuple[int, int, str]:
    """``(failed, attempted, report)`` of every docstring example in ``module``."""
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in sorted(doctest.DocTestFinder().find(module), key=lambda t: t.name):
        runner.run(test, out=report.append)
    failed, attempted = runner.summarize(verbose=False)
    return failed, attempted, "".join(report)


def module_param(name: str):
    marks = []
    if name in PENDING_EXAMPLES:
        marks.append(
            pytest.mark.xfail(
                strict=True, reason=f"{name} has no Examples yet: it is being rewritten"
            )
        )
    return pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", [module_param(name) for name in MODULES])
def test_docstring_examples(name):
    if name == "chromatic.dask":
        pytest.importorskip("dask")
    module = importlib.import_module(name)
    failed, attempted, report = run_doctests(module)
    assert failed == 0, f"{failed} of {attempted} examples of {name} failed:\n{report}"
    if name in ESTIMATOR_MODULES:
        assert attempted > 0, f"{name} shows no example"
