"""The ``compare`` command: CL+SFC against the hashing trick and frequency truncation.

Every method gets the same budgets of columns, on the flights table shipped with the package or
on the user's file.
"""

from __future__ import annotations

import numpy as np

from ._commands import check_inputs
from ._inputs import chunk_bytes, input_kind, table_reading, table_template
from ._reports import CompareTable


def run_compare(args) -> dict:
    from sklearn.model_selection import train_test_split

    from .._compare import compare
    from .._validation import binary_labels
    from ..svmlight import load_svmlight

    if args.file is None or input_kind(args, [args.file]) == "table":
        X, y, source = compared_table(args)
    else:
        check_inputs([args.file])
        data = load_svmlight(
            args.file,
            zero_based=args.zero_based,
            chunk_bytes=chunk_bytes(args),
            skip_bad_lines=args.skip_bad_lines,
        )
        X, y = data.X, data.y
        source = f"{args.file} ({X.shape[0]:,} rows)"
    _, positive = binary_labels(y)
    y = positive.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=args.seed)
    table = CompareTable(args)
    table.start(source, X.shape[1])
    comparison = compare(
        X_train,
        y_train,
        X_test,
        y_test,
        args.budgets,
        methods=("CL+SFC", "hashing", "frequency"),
        seed=args.seed,
        on_run=table.add,
    )
    summary = {"command": "compare", "source": source, **comparison}
    table.finish(summary)
    return summary


def compared_table(args):
    """Read the table ``compare`` runs on: a file's, or the flights shipped with the package.

    Returns its ``column=value`` rows, their labels and a description of the source.
    """
    if args.file is None:
        import pyarrow.compute as pc

        from ..datasets import load_flights_table

        flights = load_flights_table()
        labels = pc.greater(flights["delay"], 15).to_numpy(zero_copy_only=False)
        features = flights.drop_columns(["delay"])
        source = (
            "flights table (100,000 rows shipped with the package; raw columns date, distance, "
            "origin, destination; label: delay over 15 minutes)"
        )
    else:
        import pyarrow as pa

        check_inputs([args.file])
        reading = table_reading(args, {}, require_label=True)
        chunks = list(reading.tables(args.file))
        features = pa.concat_tables([table for _, table, _ in chunks])
        labels = np.concatenate([labels for _, _, labels in chunks])
        source = f"{args.file} ({features.num_rows:,} rows, columns {features.column_names})"
    template = table_template(args)
    return template.fit_transform(features), labels.astype(np.float64), source
