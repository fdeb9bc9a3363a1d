"""The ``chromatic`` command: fit, transform and inspect svmlight files larger than memory.

The command is split by step: ``_parser`` reads the command line, ``_commands`` runs each
command, ``_sinks`` writes the output formats and ``_reports`` prints what happened.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..svmlight import SvmlightError
from ._parser import build_parser
from ._reports import CommandError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``chromatic`` command; return its exit status.

    0 on success; 1 for bad input or a failed read or write; 2 for a malformed svmlight file;
    a command's own status for its errors; 130 when interrupted. An error is one line on
    stderr.
    """
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except SvmlightError as error:
        print(f"chromatic: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"chromatic: {error}", file=sys.stderr)
        return error.status
    except (ValueError, OSError, MemoryError) as error:
        print(f"chromatic: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("chromatic: interrupted; no output was written", file=sys.stderr)
        return 130
    return 0
