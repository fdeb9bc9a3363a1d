"""The command line: the parser, its subcommands, option groups, argument types and examples.

Each subcommand names the function of ``_commands`` that runs it.
"""

from __future__ import annotations

import argparse
import math

from sklearn.utils._param_validation import Interval, make_constraint

from .._compression import ChromaticCompressor
from .._core import __version__
from .._encoder import STRATEGIES, ChromaticEncoder
from ..svmlight import DEFAULT_CHUNK_BYTES
from ._commands import run_compress, run_fit, run_transform
from ._compare import run_compare
from ._inputs import add_table_options
from ._inspect import run_inspect
from ._sinks import SINKS

EPILOG_FIT = """example:
  chromatic-learning fit train.svm.gz -o model.npz --memory-limit 16G
  chromatic-learning fit train.svm.gz -o model.npz --forecast-collisions  # collisions of new rows
  chromatic-learning fit train.svm.gz -o model.npz --budget 1024   # colors, then 1024 buckets
  chromatic-learning fit clicks.parquet -o model.npz --label click --ignore request_id
  chromatic-learning fit day_0.gz -o model.npz --input-format criteo --budget 1024
"""
EPILOG_TRANSFORM = """example:
  chromatic-learning transform model.npz test.svm -o test.codes.svm
  chromatic-learning transform model.npz a.svm b.svm -o encoded/ --format npz
"""
EPILOG_COMPRESS = """example:
  chromatic-learning compress --train day1.svm.gz day2.svm.gz --test day3.svm.gz --out compressed/
  chromatic-learning compress --train day1.svm.gz --test day2.svm.gz --out small/ --budget 1024
  chromatic-learning compress --train train.csv.gz --test test.csv.gz --label click --out small/
"""
EPILOG_COMPARE = """example:
  chromatic-learning compare                      # the flights table shipped with the package
  chromatic-learning compare clicks.svm --budgets 256 1024
  chromatic-learning compare flights.parquet --label delay --label-above 15
"""
EPILOG_INSPECT = """example:
  chromatic-learning inspect model.npz --on test.svm
  chromatic-learning inspect train.svm --json
"""


def zero_based_arg(text: str) -> bool | str:
    choices = {"auto": "auto", "yes": True, "true": True, "no": False, "false": False}
    if text.lower() not in choices:
        raise argparse.ArgumentTypeError("expected auto, yes or no")
    return choices[text.lower()]


def parameter_arg(estimator, name: str):
    """Return the argument type of an option setting the int parameter ``name`` of ``estimator``.

    The value is checked against the ranges of the estimator's own parameter constraints (the
    check ``fit`` makes), so that a bad value is refused before any work, naming the option.
    """
    intervals = []
    for constraint in map(make_constraint, estimator._parameter_constraints[name]):
        # "random_state" is a set of constraints, one of them the range of its integers.
        for part in getattr(constraint, "_constraints", [constraint]):
            if isinstance(part, Interval):
                intervals.append(part)

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not any(interval.is_satisfied_by(value) for interval in intervals):
            ranges = " or ".join(map(str, intervals))
            raise argparse.ArgumentTypeError(f"expected {ranges}, got {text}")
        return value

    parse.__name__ = name
    return parse


def chunk_mb_arg(text: str) -> float:
    """Read a chunk size in MiB: a positive, finite number (``inf`` would be no chunks at all)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of MiB, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive, finite number of MiB, got {text!r}")
    return value


def add_reading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--zero-based",
        type=zero_based_arg,
        default="auto",
        help="indices start at 0: yes, no or auto (default: detect, and report)",
    )
    parser.add_argument(
        "--chunk-mb",
        type=chunk_mb_arg,
        default=DEFAULT_CHUNK_BYTES / 2**20,
        help="MiB of text parsed at a time (default: %(default)s)",
    )
    parser.add_argument(
        "--skip-bad-lines",
        action="store_true",
        help="skip and count malformed lines instead of stopping",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.add_argument("--json", action="store_true", help="print a one-line JSON summary")


def add_fit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--min-cooccurrence",
        type=parameter_arg(ChromaticEncoder, "min_cooccurrence"),
        default=1,
        metavar="K",
        help="feature pairs seen together in fewer than K training rows are not edges: fewer "
        "colors, some collisions",
    )
    parser.add_argument(
        "--n-colors",
        type=parameter_arg(ChromaticEncoder, "n_colors"),
        default=None,
        metavar="N",
        help="exactly N colors, spreading the conflicts of the rest over them (default: as "
        "many as the greedy coloring needs, no conflict)",
    )
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="largest_first",
        help="order of the greedy coloring",
    )
    parser.add_argument(
        "--dense-threshold",
        type=float,
        default=0.1,
        help="share of rows from which a feature gets its own color (0: never)",
    )
    parser.add_argument(
        "--seed",
        type=parameter_arg(ChromaticEncoder, "random_state"),
        default=0,
        help="seeds the random strategy, the color spreading, the folds and samples",
    )
    add_n_jobs(parser)
    parser.add_argument(
        "--memory-limit",
        default=None,
        metavar="SIZE",
        help="memory the graph build may use, such as 16G: when its counts would not fit, the "
        "graph is counted in shards of vertices, one more pass over the files each (default: "
        "no limit, one pass)",
    )
    budget = parser.add_argument_group(
        "compression to a budget (needs binary labels; see ChromaticCompressor)"
    )
    budget.add_argument(
        "--budget",
        type=parameter_arg(ChromaticCompressor, "budget"),
        default=None,
        help="write at most this many one-hot columns: the most frequent features, then "
        "buckets of the color codes chosen for what they tell about the label (default: no "
        "budget, one code column per color)",
    )
    budget.add_argument(
        "--n-frequent",
        type=n_frequent_arg,
        default="auto",
        help="features that keep a column of their own: a count, or auto (default: chosen "
        "by held-out log loss on a uniform sample of the training rows)",
    )
    budget.add_argument(
        "--tail",
        choices=["auto", "buckets", "hashed"],
        default="auto",
        help="how the other features become columns: buckets of their color codes, hashed "
        "(the hashing trick on them alone), or auto (default: chosen with --n-frequent auto, "
        "else buckets)",
    )
    budget.add_argument(
        "--cv",
        type=parameter_arg(ChromaticCompressor, "cv"),
        default=5,
        help="folds: compress writes each training row with buckets rated on the other folds",
    )


def add_n_jobs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        help="threads (default: every core, or OMP_NUM_THREADS where it is set; the result "
        "never depends on it)",
    )


N_FREQUENT = parameter_arg(ChromaticCompressor, "n_frequent")


def n_frequent_arg(text: str) -> int | str:
    if text == "auto":
        return text
    return N_FREQUENT(text)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Examples kept as written, and each option's default after its help.

    A help that says what its default is keeps its words; a default of None or False (nothing
    given, a flag off) is not shown.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        help = action.help or ""
        shown = not (action.default is None or action.default is False)
        shown = shown and action.default != argparse.SUPPRESS
        if shown and "default" not in help and (action.option_strings or action.nargs == "?"):
            default = action.default
            if isinstance(default, list | tuple):
                default = " ".join(map(str, default))
            help += f" (default: {default})".replace("%", "%%")
        return help


def add_command(commands, name: str, help: str, epilog: str, run) -> argparse.ArgumentParser:
    """Add a subcommand with its example, the reading options every command shares, its handler."""
    command = commands.add_parser(name, help=help, epilog=epilog, formatter_class=HelpFormatter)
    add_reading_options(command)
    command.set_defaults(run=run)
    return command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chromatic-learning",
        formatter_class=HelpFormatter,
        description="Compress sparse data (svmlight rows, or tables of categorical columns in "
        "Parquet, CSV or TSV) by coloring its feature co-occurrence graph.",
    )
    # The engine's version is the package's (maturin reads it from the crate).
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    fit = add_command(commands, "fit", "learn the coloring of training files", EPILOG_FIT, run_fit)
    fit.add_argument(
        "train", nargs="+", help="svmlight or table files to learn from (.gz, .bz2, .xz too)"
    )
    fit.add_argument(
        "-o", "--output", required=True, help="model file to write (.npz), or - for standard output"
    )
    add_fit_options(fit)
    fit.add_argument(
        "--forecast-collisions",
        action="store_true",
        help="fit once more on nine training rows in ten and encode the tenth, to forecast the "
        "collisions of new rows (kept in the model; inspect shows it)",
    )
    add_table_options(fit, model=True)

    transform = add_command(
        commands, "transform", "encode files with a saved model", EPILOG_TRANSFORM, run_transform
    )
    transform.add_argument("model", help="model file written by fit or compress (.npz)")
    transform.add_argument(
        "inputs", nargs="+", help="svmlight or table files to encode (.gz, .bz2, .xz too)"
    )
    transform.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file (- for standard output), or a folder (with several inputs, or ending "
        "in /) that gets one file per input, named after it",
    )
    transform.add_argument(
        "--format",
        choices=tuple(SINKS),
        default=None,
        help="output format (default: what the output's name says: .npz, .parquet, else "
        "svmlight; svmlight named .gz, .bz2 or .xz is written compressed)",
    )
    add_n_jobs(transform)
    add_table_options(transform, model=False)

    compress = add_command(
        commands,
        "compress",
        "fit on training files, then encode them and test files into a folder",
        EPILOG_COMPRESS,
        run_compress,
    )
    compress.add_argument(
        "--train", nargs="+", required=True, help="svmlight or table files to learn from"
    )
    compress.add_argument(
        "--test", nargs="*", default=[], help="more files to encode (default: none)"
    )
    compress.add_argument(
        "--out", required=True, help="folder for the encoded files and model (created if needed)"
    )
    compress.add_argument(
        "--format",
        choices=tuple(SINKS),
        default=None,
        help="output format (default: parquet for tables, one column per output; svmlight for "
        "svmlight, named and compressed as each input; npz and parquet files are named after "
        "the input with their own suffix)",
    )
    add_fit_options(compress)
    add_table_options(compress, model=True)

    compare_command = add_command(
        commands,
        "compare",
        "Chromatic Learning against the hashing trick and frequency truncation",
        EPILOG_COMPARE,
        run_compare,
    )
    compare_command.add_argument(
        "file", nargs="?", help="svmlight or table file (default: the flights table)"
    )
    compare_command.add_argument(
        "--budgets",
        type=parameter_arg(ChromaticCompressor, "budget"),
        nargs="+",
        default=[64, 256, 1024, 4096],
        metavar="COLUMNS",
        help="model input columns each method may write",
    )
    compare_command.add_argument(
        "--seed",
        type=parameter_arg(ChromaticCompressor, "random_state"),
        default=0,
        help="seeds the split, the sample and every method",
    )
    add_table_options(compare_command, model=True)

    inspect = add_command(
        commands, "inspect", "statistics of a model or svmlight file", EPILOG_INSPECT, run_inspect
    )
    inspect.add_argument("path", help="a model file (.npz), or a svmlight or table file")
    inspect.add_argument(
        "--on",
        metavar="FILE",
        default=None,
        help="with a model: its collision rate on this svmlight or table file",
    )
    add_table_options(inspect, model=False)
    return parser
