"""The ``command-help`` directive: the ``--help`` of the ``chromatic-learning`` command.

``.. command-help::`` renders the help of the command itself; ``.. command-help:: fit`` that of
one subcommand. The text is the ``format_help()`` of the parser the command runs
(``chromatic_learning.cli._parser.build_parser``), at a fixed width of 100 columns, so the page
shows exactly what ``chromatic-learning fit --help`` prints and cannot drift from it.
"""

from __future__ import annotations

import argparse
import os
from contextlib import contextmanager

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

WIDTH = 100


@contextmanager
def help_width(columns: int):
    """Make argparse wrap help at ``columns`` (it reads the terminal's width from COLUMNS).

    Color is turned off too (argparse colors help on terminals from Python 3.14 on).
    """
    saved = {name: os.environ.get(name) for name in ("COLUMNS", "NO_COLOR")}
    os.environ["COLUMNS"] = str(columns + 2)
    os.environ["NO_COLOR"] = "1"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Return the subcommands of ``parser`` by name, in the order they were added."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def command_help(name: str | None) -> str:
    """Return the ``--help`` of the command (``name`` None) or of one of its subcommands."""
    from chromatic_learning.cli._parser import build_parser

    with help_width(WIDTH):
        parser = build_parser()
        if name is None:
            return parser.format_help()
        commands = subcommands(parser)
        if name not in commands:
            raise ValueError(f"chromatic-learning has no subcommand {name!r}: {sorted(commands)}")
        return commands[name].format_help()


def parser_modules() -> list[str]:
    """Return the files of the modules that build the parser (options, examples, formats)."""
    from chromatic_learning.cli import _inputs, _parser, _sinks

    return [module.__file__ for module in (_parser, _inputs, _sinks) if module.__file__]


class CommandHelp(SphinxDirective):
    """Insert the ``--help`` text of the command or of the subcommand given as argument."""

    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        """Render the help as a literal block."""
        name = self.arguments[0] if self.arguments else None
        # The page is read again when the parser's modules change, not only when it does.
        for module in parser_modules():
            self.env.note_dependency(module)
        try:
            text = command_help(name)
        except ValueError as error:
            raise self.error(str(error)) from error
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def setup(app: Sphinx) -> dict[str, object]:
    """Register the directive."""
    app.add_directive("command-help", CommandHelp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
