"""Sphinx configuration of the chromatic-learning documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``; the examples of
the pages run with ``python -m sphinx -W -b doctest docs docs/_build/doctest``.
"""

from __future__ import annotations

import doctest
import importlib.util
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# The installed package is documented; a checkout without one (the compiled engine built in
# place) is read from its python/ folder.
if importlib.util.find_spec("chromatic_learning") is None:
    sys.path.insert(0, str(DOCS.parent / "python"))
# The local extensions and the module that draws the pictures of the method.
sys.path.insert(0, str(DOCS / "_ext"))

import chromatic_learning  # noqa: E402

project = "chromatic-learning"
author = "chromatic-learning contributors"
copyright = "chromatic-learning contributors"
release = chromatic_learning.__version__
version = release

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "matplotlib.sphinxext.plot_directive",
    "command_help",
    "docstring_text",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
root_doc = "index"

myst_heading_anchors = 3

# Members are listed by autodoc's ``:members:``; numpydoc renders the sections.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True}
autodoc_typehints = "none"

# The pages' examples run here; the docstrings' examples run in tests/test_doctests.py.
doctest_test_doctest_blocks = ""
doctest_global_setup = "import numpy as np"
doctest_default_flags = (
    doctest.ELLIPSIS
    | doctest.IGNORE_EXCEPTION_DETAIL
    | doctest.DONT_ACCEPT_TRUE_FOR_1
    | doctest.NORMALIZE_WHITESPACE
)

plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_basedir = str(DOCS / "_ext")

html_theme = "alabaster"
html_title = f"chromatic-learning {release}"
html_static_path: list[str] = []
