"""The ``chromatic-learning`` command: fit, transform and inspect svmlight files larger than memory.

The command is split by step: ``_parser`` reads the command line, ``_commands`` runs fit,
transform and compress (``_inspect`` and ``_compare`` the two others), ``_sinks`` writes the
output formats and ``_reports`` prints what happened.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .._output import Terminated, ending_on_signals
from .._table_files import TableFileError
from .._validation import LabelError
from ..svmlight import SvmlightError
from ._parser import build_parser
from ._reports import CommandError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``chromatic-learning`` command; return its exit status.

    0 on success; 1 for bad input or a failed read or write; 2 for a malformed svmlight or
    table file;
    a command's own status for its errors; 130 when interrupted, 128 + the signal's number when
    ended by SIGTERM or SIGHUP (no partial file is left). An error is one line on stderr.
    """
    args = build_parser().parse_args(argv)
    try:
        with ending_on_signals():
            args.run(args)
    except (SvmlightError, TableFileError, LabelError) as error:
        print(f"chromatic-learning: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"chromatic-learning: {error}", file=sys.stderr)
        return error.status
    except (ValueError, OSError, MemoryError) as error:
        print(f"chromatic-learning: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("chromatic-learning: interrupted; no output was written", file=sys.stderr)
        return 130
    except Terminated as ended:
        print(f"chromatic-learning: ended by {ended}; no output was written", file=sys.stderr)
        return 128 + ended.signum
    return 0
