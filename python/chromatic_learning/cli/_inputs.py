"""What the command's input files are: svmlight rows, or tables (Parquet, CSV, TSV, Criteo).

The kind of each file is taken from ``--input-format``, else from its name and checked against
its content: Parquet by its magic bytes, delimited text by its suffix or by a first line that is
a header rather than a label. The table options say how a table's columns are read.
"""

from __future__ import annotations

import argparse
import os

from .._delimited import sniff_table_kind
from .._table_encoder import TableEncoder
from .._table_files import TableReading, is_parquet
from ._reports import CommandError


def chunk_bytes(args) -> int:
    """Return ``--chunk-mb`` in bytes (a positive finite number, as its argument type checks)."""
    return max(1, int(args.chunk_mb * 2**20))


INPUT_FORMATS = ("auto", "svmlight", "parquet", "csv", "criteo")


def add_table_options(parser: argparse.ArgumentParser, *, model: bool) -> None:
    """Add the options of table inputs; with ``model``, those that the fitted model keeps."""
    group = parser.add_argument_group("tables (Parquet, CSV, TSV): each column=value is a feature")
    group.add_argument(
        "--input-format",
        choices=INPUT_FORMATS,
        default=None,
        help="kind of the input files (default: from the name, checked against the content; "
        "criteo: tab-separated, no header, label, I1-I13, C1-C26)",
    )
    group.add_argument(
        "--label",
        metavar="COLUMN",
        default=None,
        help="the label column (never a feature)",
    )
    group.add_argument(
        "--label-above",
        type=float,
        default=None,
        metavar="X",
        help="the label is 1 where the label column exceeds X, else 0 (a derived target)",
    )
    group.add_argument("--delimiter", default=None, help="delimiter of text (default: by suffix)")
    group.add_argument(
        "--no-header",
        action="store_true",
        default=None,
        help="the text has no line of column names",
    )
    group.add_argument("--names", nargs="+", default=None, metavar="NAME", help="column names")
    group.add_argument(
        "--list-columns",
        nargs="+",
        default=None,
        metavar="COLUMN",
        help="text columns holding lists of values, split at --list-sep",
    )
    group.add_argument("--list-sep", default=None, help="separator of list values (default: |)")
    if model:
        group.add_argument(
            "--columns", nargs="+", default=None, metavar="COLUMN", help="columns to read"
        )
        group.add_argument(
            "--ignore", nargs="+", default=None, metavar="COLUMN", help="columns never read"
        )
        group.add_argument(
            "--numeric",
            nargs="+",
            default=["auto"],
            metavar="COLUMN",
            help="columns cut into quantile bins: auto (floats), none, or their names",
        )
        group.add_argument(
            "--n-bins",
            type=int,
            default=16,
            help="quantile bins of a numeric column (default: %(default)s)",
        )


def input_kind(args, paths, fitted_kind: str | None = None) -> str:
    """Return ``svmlight`` or ``table`` for the input files: one kind for all of them.

    ``fitted_kind`` is the kind of table a model was fitted on (``csv``, ``criteo``...): files
    without ``--input-format`` are taken to be of that kind.
    """
    input_format = args.input_format
    if input_format is None and fitted_kind not in (None, "auto"):
        input_format = fitted_kind
    kinds = {path: _kind_of(input_format, path) for path in paths}
    if len(set(kinds.values())) > 1:
        table = next(p for p, k in kinds.items() if k == "table")
        rows = next(p for p, k in kinds.items() if k == "svmlight")
        raise CommandError(f"{table} is a table but {rows} holds svmlight rows; give one kind", 2)
    return next(iter(kinds.values()), "svmlight")


def _kind_of(input_format: str | None, path: str) -> str:
    if input_format == "svmlight":
        if _is_parquet(path):
            raise CommandError(f"{path}: is a Parquet file, not svmlight text", 2)
        return "svmlight"
    if input_format not in (None, "auto"):
        return "table"
    # A stream (a FIFO, standard input) is never peeked at: its bytes are the command's.
    if not os.path.isfile(path):
        return "svmlight"
    try:
        kind = sniff_table_kind(path)
    except ValueError as error:
        raise CommandError(str(error), 2) from None
    return "svmlight" if kind == "svmlight" else "table"


def _is_parquet(path: str) -> bool:
    return os.path.isfile(path) and is_parquet(path)


def table_reading(args, base: dict, *, require_label: bool) -> TableReading:
    """Return how the command's table inputs are read: ``base`` (a model's), then the options.

    Options given on the command line take precedence over ``base``; those not given keep it.
    """
    given = {
        "label": args.label,
        "label_above": args.label_above,
        "kind": None if args.input_format in (None, "auto") else args.input_format,
        "delimiter": args.delimiter,
        "header": None if args.no_header is None else not args.no_header,
        "names": None if args.names is None else tuple(args.names),
        "list_columns": None if args.list_columns is None else tuple(args.list_columns),
        "list_sep": args.list_sep,
    }
    options = {**base, **{key: value for key, value in given.items() if value is not None}}
    try:
        reading = TableReading.of_metadata(
            options, require_label=require_label, chunk_bytes=chunk_bytes(args)
        )
    except (TypeError, ValueError) as error:
        raise CommandError(f"cannot read the tables so: {error}") from None
    if require_label and reading.label is None:
        raise CommandError("a budget needs the label column of the tables: give --label COLUMN")
    return reading


def table_template(args) -> TableEncoder:
    """Return the table encoder the fit options describe."""
    numeric = args.numeric
    if numeric in (["auto"], ["none"]):
        numeric = numeric[0]
    return TableEncoder(
        columns=args.columns, ignore=args.ignore, numeric=numeric, n_bins=args.n_bins
    )
