"""Docstrings written for ``help()`` made valid reStructuredText for the API reference.

Two habits of the package's numpy-style docstrings mean something else to reStructuredText:

* a fitted attribute named in running text or in a type (``shape (n_samples, n_colors_)``)
  ends with ``_``, which reStructuredText reads as a link to a target of that name. The
  underscore is escaped outside inline literals and interpreted text, before numpydoc parses
  the docstring; the Examples section, which is code, is left alone.
* a module docstring's sections (``References``, ``Examples``) are section titles, which would
  give every module page the same labels. They become rubrics, as numpydoc renders the
  sections of classes and functions, and the ``name : description`` lines of a See Also
  section become a list.
"""

from __future__ import annotations

import re

from sphinx.application import Sphinx

# A span that reStructuredText reads literally or as a role: ``literal``, `text`, :role:`text`.
LITERAL = re.compile(r"(``.+?``|(?::[\w:.-]+:)?`[^`]+`_{0,2})")
# A name ending with a single underscore: an attribute, not a citation ([1]_) or a link.
TRAILING_UNDERSCORE = re.compile(r"(?<![\w\\])([A-Za-z][\w.]*[A-Za-z0-9])_(?![\w`])")
UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
# One entry of a See Also section: ``name[, name] : description``.
SEE_ALSO_ENTRY = re.compile(r"^(\S[^:]*?) : (.*)$")


def escape_attribute_names(line: str) -> str:
    """Escape the trailing underscore of every name outside the literal spans of ``line``."""
    parts = LITERAL.split(line)
    for i in range(0, len(parts), 2):
        parts[i] = TRAILING_UNDERSCORE.sub(r"\1\\_", parts[i])
    return "".join(parts)


def escape_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    """Escape attribute names in every line before the Examples section."""
    for i, line in enumerate(lines):
        if line.strip() == "Examples" and i + 1 < len(lines) and UNDERLINE.match(lines[i + 1]):
            return
        if line.lstrip().startswith((">>>", "...")):
            continue
        lines[i] = escape_attribute_names(line)


def module_sections_as_rubrics(app, what, name, obj, options, lines: list[str]) -> None:
    """Turn the section titles of a module docstring into rubrics, See Also entries into a list."""
    if what != "module":
        return
    out: list[str] = []
    section = ""
    i = 0
    while i < len(lines):
        title = lines[i]
        underline = lines[i + 1] if i + 1 < len(lines) else ""
        if (
            title.strip()
            and UNDERLINE.match(underline)
            and len(underline.strip()) == len(title.strip())
        ):
            section = title.strip()
            out += [f".. rubric:: {section}", ""]
            i += 2
            continue
        entry = SEE_ALSO_ENTRY.match(title) if section == "See Also" else None
        if entry:
            names = ", ".join(f"``{name.strip()}``" for name in entry[1].split(","))
            out.append(f"* {names}: {entry[2]}")
        else:
            out.append(title)
        i += 1
    lines[:] = out


def setup(app: Sphinx) -> dict[str, object]:
    """Connect both rewrites: the escape before numpydoc (priority 500), the rubrics after."""
    app.connect("autodoc-process-docstring", escape_docstring, priority=400)
    app.connect("autodoc-process-docstring", module_sections_as_rubrics, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
