"""Run each command (fit, transform, compress, inspect, compare) from its parsed arguments.

Each checks its inputs, then calls the fit pipeline, the sinks and the reports.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from .._compression import ChromaticCompressor
from .._encoder import ChromaticEncoder, fitted_coloring
from .._input import effective_n_jobs
from .._model import ModelFileError, json_params, read_model, write_model
from .._output import Outputs, format_of_name, output_name
from .._table_encoder import TableEncoder, table_features
from .._table_files import TableFileError
from .._text_files import check_input_path
from ..streaming import (
    fit_compressor_files,
    fit_files,
    forecast_files,
    iter_compressed,
    iter_encoded,
    model_rows,
)
from ..svmlight import iter_chunks
from ._inputs import chunk_bytes, input_kind, table_reading, table_template
from ._reports import (
    CommandError,
    CompareTable,
    Progress,
    compress_text,
    describe,
    fit_text,
    model_text,
    report,
    svmlight_text,
    table_text,
    transform_text,
)
from ._sinks import SINKS


def check_inputs(paths: Sequence[str], *, once: bool = False) -> None:
    """Refuse, before any work, inputs that cannot be read: missing, a directory, a socket.

    A stream (a FIFO, a character device) can be read only once; it is refused unless
    ``once`` says that the command reads each of ``paths`` once, from start to end.
    """
    passes = None if once else "this command needs a file it can read again"
    for path in paths:
        try:
            check_input_path(path, passes=passes)
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from None


def fit_model(args, *, cross_fit: bool = False):
    """Fit the model the fit options describe on ``args.train``.

    Returns ``(model, stream report, cross-fit tables or None, table reading or None)``.
    """
    check_inputs(args.train)
    if args.budget is None and (args.n_frequent != "auto" or args.tail != "auto"):
        # Without a budget the command fits a coloring alone: nothing is kept apart or hashed.
        raise CommandError("--n-frequent and --tail split a budget; give them with --budget")
    coloring = {
        "min_cooccurrence": args.min_cooccurrence,
        "strategy": args.strategy,
        "dense_threshold": None if args.dense_threshold <= 0 else args.dense_threshold,
        "n_colors": args.n_colors,
        "random_state": args.seed,
        "memory_limit": args.memory_limit,
        "n_jobs": args.n_jobs,
    }
    tables = None
    if input_kind(args, args.train) == "table":
        # A label named is needed; a budget needs one named.
        tables = table_reading(
            args, {}, require_label=args.budget is not None or args.label is not None
        )
        coloring["table"] = table_template(args)
    reading = {
        "zero_based": args.zero_based,
        "chunk_bytes": chunk_bytes(args),
        "skip_bad_lines": args.skip_bad_lines,
        "tables": tables,
    }
    progress = Progress(args)
    try:
        if args.budget is None:
            encoder = ChromaticEncoder(**coloring)
            stream = fit_files(encoder, args.train, **reading, progress=progress)
            if getattr(args, "forecast_collisions", False):
                forecast_files(
                    encoder,
                    args.train,
                    **{**reading, "zero_based": stream.zero_based},
                    progress=progress,
                )
            return encoder, stream, None, tables
        if getattr(args, "forecast_collisions", False):
            raise CommandError(
                "--forecast-collisions forecasts the collisions of a coloring; give it without "
                "--budget (a compressor's buckets take the colliding codes)"
            )
        compressor = ChromaticCompressor(
            budget=args.budget, n_frequent=args.n_frequent, tail=args.tail, cv=args.cv, **coloring
        )
        stream, cross_fitted = fit_compressor_files(
            compressor, args.train, **reading, progress=progress, cross_fit=cross_fit
        )
        return compressor, stream, cross_fitted, tables
    finally:
        progress.close()


def model_metadata(stream, tables) -> dict:
    """Return what a model file keeps of how its training files were read."""
    metadata = {"zero_based": stream.zero_based}
    if tables is not None:
        metadata["table"] = tables.metadata()
    return metadata


# Features per training row lost to collisions above which the command warns: the greedy
# coloring of every pair seen loses none, so a rate like this comes from the settings.
COLLISION_WARNING = 0.05
# Training rows on which `fit` measures that rate (from the start of the first file).
COLLISION_SAMPLE_ROWS = 100_000


def feature_collisions(encoder: ChromaticEncoder, X) -> tuple[int, int]:
    """Return ``(collisions, unseen)`` of binary feature rows over the encoder's features.

    ``X`` is what ``model_rows`` reads: a table's rows already as its feature ids, which the
    encoder's own ``collisions`` (taking tables as tables) would refuse.
    """
    _, collisions, unseen = fitted_coloring(encoder).encode_counted(
        X.indptr, X.indices, None, X.shape[0]
    )
    return collisions, unseen


def training_collisions(args, model, stream, tables) -> tuple[float | None, int]:
    """Return the features lost to collisions per row on the first training rows, and those rows.

    None and 0 for a model without colors.
    """
    encoder = model.encoder_ if isinstance(model, ChromaticCompressor) else model
    if encoder is None:
        return None, 0
    rows = collisions = 0
    for chunk, X, _ in model_rows(
        model, args.train[0], stream.zero_based, chunk_bytes(args), args.skip_bad_lines, tables
    ):
        rows += chunk.n_rows
        collisions += feature_collisions(encoder, X)[0]
        if rows >= COLLISION_SAMPLE_ROWS:
            break
    return collisions / max(rows, 1), rows


def warn_of_collisions(args, per_row: float | None, rows: int) -> None:
    """Say on stderr when the model loses many features of its own training rows."""
    if per_row is None or per_row <= COLLISION_WARNING:
        return
    # With every pair seen as an edge and the colors it needs, a coloring loses nothing of its
    # own rows: one of these settings is the cause.
    if args.min_cooccurrence > 1:
        cause = (
            f"--min-cooccurrence {args.min_cooccurrence} lets features seen together in fewer "
            "rows share a color; 1 keeps every pair seen apart"
        )
    else:
        cause = f"--n-colors {args.n_colors} is fewer colors than the graph needs"
    print(
        f"chromatic-learning: warning: {per_row:.2f} features per training row are lost to "
        "collisions "
        f"(on the first {rows:,} training rows): {cause}",
        file=sys.stderr,
    )


def run_fit(args, *, quiet: bool = False) -> dict:
    outputs = Outputs(args.train)
    outputs.add(args.output, "model")
    model, stream, _, tables = fit_model(args)
    with outputs, outputs.open(args.output) as out:
        write_model(model, out, metadata=model_metadata(stream, tables))
    lost, sampled = training_collisions(args, model, stream, tables)
    warn_of_collisions(args, lost, sampled)
    summary = {
        "command": "fit",
        "model": args.output,
        "rows": stream.rows,
        **describe(model),
        "zero_based": stream.zero_based,
        "skipped_lines": stream.skipped_lines,
        "graph_passes": stream.graph_passes,
        "training_collisions_per_row": lost,
        "collision_forecast": getattr(model, "collision_forecast_", None),
    }
    if quiet:
        return summary
    report(args, summary, fit_text(summary))
    return summary


def model_tables(args, model, metadata: dict, inputs):
    """Return how ``inputs`` are read for ``model``: None for svmlight, else a TableReading.

    A model fitted on tables reads tables, as its training files were read unless the options
    say otherwise; one fitted on svmlight reads svmlight.
    """
    fitted_on = "table" if hasattr(model, "table_encoder_") else "svmlight"
    base = metadata.get("table", {}) if fitted_on == "table" else {}
    if not isinstance(base, dict):
        raise CommandError("the model's metadata says how tables are read, but not as a dict")
    kind = input_kind(args, inputs, base.get("kind"))
    if kind != fitted_on:
        what = {"table": "tables", "svmlight": "svmlight rows"}
        raise CommandError(
            f"{inputs[0]} holds {what[kind]}, but the model was fitted on {what[fitted_on]}", 2
        )
    if kind == "svmlight":
        return None
    return table_reading(args, base, require_label=False)


def named_after_inputs(outputs: Outputs, folder: str, inputs, format: str) -> list[str]:
    """Declare the outputs of ``inputs`` in ``folder``: one each, named after it by format."""
    return [outputs.add(os.path.join(folder, output_name(path, format)), format) for path in inputs]


def run_transform(args) -> dict:
    # Each input is read once, start to end: a FIFO will do.
    check_inputs(args.inputs, once=True)
    try:
        model, metadata = read_model(args.model)
    except ModelFileError as error:
        raise CommandError(str(error)) from None
    model.set_params(n_jobs=args.n_jobs)
    zero_based = model_zero_based(args, metadata)
    tables = model_tables(args, model, metadata, args.inputs)
    outputs = Outputs([*args.inputs, args.model])
    # -o is a folder for several inputs, or when it names one; the outputs are then named
    # after the inputs.
    if len(args.inputs) > 1 or args.output.endswith(os.sep) or os.path.isdir(args.output):
        format = args.format or "svmlight"
        outputs.add_folder(args.output)
        targets = named_after_inputs(outputs, args.output, args.inputs, format)
    else:
        format = args.format or format_of_name(args.output)
        targets = [outputs.add(args.output, format)]
    with outputs:
        summary = encode_files(
            args, model, (zero_based, tables), args.inputs, outputs, targets, format
        )
    report(args, summary, transform_text(summary))
    return summary


def encode_files(args, model, reading, inputs, outputs, targets, format, cross_fit=None):
    """Encode every input into its target, declared in ``outputs``, in ``format``.

    ``reading`` is the index base of svmlight inputs and how tables are read (None for
    svmlight). With ``cross_fit``, the inputs are the training files, in the order they were
    fitted on. Returns the summary of what was written.
    """
    one_hot = isinstance(model, ChromaticCompressor)
    width = model.n_features_out_ if one_hot else model.n_colors_
    zero_based, tables = reading
    # A table's model names its outputs: a Parquet file gets a column for each.
    names = model.get_feature_names_out() if tables is not None else None
    reading = {
        "zero_based": zero_based,
        "chunk_bytes": chunk_bytes(args),
        "skip_bad_lines": args.skip_bad_lines,
        "tables": tables,
    }
    totals = {"rows": 0} if one_hot else {"rows": 0, "collisions": 0, "unseen": 0}
    progress = Progress(args)
    try:
        for path, target in zip(inputs, targets, strict=True):
            if one_hot:
                chunks = (
                    (labels, output, None)
                    for labels, output in iter_compressed(
                        model, path, **reading, cross_fit=cross_fit, first_row=totals["rows"]
                    )
                )
            else:
                chunks = (
                    (labels, codes, (collisions, unseen))
                    for labels, codes, collisions, unseen in iter_encoded(model, path, **reading)
                )
            with outputs.open(target) as out:
                sink = SINKS[format](
                    out,
                    width,
                    one_hot,
                    effective_n_jobs(model.n_jobs),
                    names=names,
                    valued=one_hot and model.tail_ == "hashed",
                )
                try:
                    for labels, output, tally in chunks:
                        sink.write(labels, output)
                        totals["rows"] += len(labels)
                        if tally is not None:
                            totals["collisions"] += tally[0]
                            totals["unseen"] += tally[1]
                        progress(f"writing {os.path.basename(target)}", len(labels))
                finally:
                    sink.close()
    finally:
        progress.close()
    return {"command": "transform", "outputs": list(targets), "columns": width, **totals}


def run_compress(args) -> dict:
    check_inputs([*args.train, *args.test])
    kind = input_kind(args, [*args.train, *args.test])
    # Tables are written as tables unless told otherwise, one column per output.
    format = args.format or ("parquet" if kind == "table" else "svmlight")
    outputs = Outputs([*args.train, *args.test])
    outputs.add_folder(args.out)
    model_path = outputs.add(os.path.join(args.out, "model.npz"), "model")
    train_targets = named_after_inputs(outputs, args.out, args.train, format)
    test_targets = named_after_inputs(outputs, args.out, args.test, format)
    model, stream, cross_fitted, tables = fit_model(args, cross_fit=True)
    reading = (stream.zero_based, tables)
    test_reading = (
        stream.zero_based,
        None if tables is None else replace(tables, require_label=False),
    )
    with outputs:
        with outputs.open(model_path) as out:
            write_model(model, out, metadata=model_metadata(stream, tables))
        model.set_params(n_jobs=args.n_jobs)
        # Training rows are written as a model will learn from them: cross-fitted with a budget.
        encoded = encode_files(
            args, model, reading, args.train, outputs, train_targets, format, cross_fitted
        )
        if "collisions" in encoded:
            # Codes were written: their collisions on every training row are counted already.
            lost, sampled = encoded["collisions"] / max(encoded["rows"], 1), encoded["rows"]
        else:
            lost, sampled = training_collisions(args, model, stream, tables)
        if args.test:
            tested = encode_files(
                args, model, test_reading, args.test, outputs, test_targets, format
            )
            encoded = {**encoded, "outputs": encoded["outputs"] + tested["outputs"]}
            for key in ("rows", "collisions", "unseen"):
                if key in encoded:
                    encoded[key] += tested[key]
    warn_of_collisions(args, lost, sampled)
    summary = {
        **describe(model),
        **encoded,
        "command": "compress",
        "model": model_path,
        "training_rows": stream.rows,
        "zero_based": stream.zero_based,
        "skipped_lines": stream.skipped_lines,
        "cross_fitted": cross_fitted is not None,
        "training_collisions_per_row": lost,
    }
    report(args, summary, compress_text(summary, args.out))
    return summary


def model_zero_based(args, metadata: dict) -> bool:
    """Decide the index base of files to encode: as given, else as the training files had it."""
    if args.zero_based == "auto":
        zero_based = metadata.get("zero_based", False)
        if not isinstance(zero_based, bool):
            model_path = args.model if args.command == "transform" else args.path
            raise CommandError(
                f"{model_path}: the model's metadata says zero_based is {zero_based!r}, not "
                "true or false; give --zero-based yes or no"
            )
        return zero_based
    return bool(args.zero_based)


def collision_rate(args, model, metadata) -> dict:
    """Measure how the model encodes the rows of ``args.on``.

    That is collisions and unseen features (those without a place in the model) per row; for a
    compressor, collisions among the features that are not kept apart.
    """
    check_inputs([args.on])
    zero_based = model_zero_based(args, metadata)
    tables = model_tables(args, model, metadata, [args.on])
    compressor = isinstance(model, ChromaticCompressor)
    encoder = model.encoder_ if compressor else model
    rows = collisions = unseen = 0
    for chunk, X, unknown in model_rows(
        model, args.on, zero_based, chunk_bytes(args), args.skip_bad_lines, tables
    ):
        rows += chunk.n_rows
        unseen += unknown
        kept_apart = X[:, model.frequent_features_].nnz if compressor else 0
        if encoder is not None:
            chunk_collisions, chunk_unseen = feature_collisions(encoder, X)
            collisions += chunk_collisions
            # Features kept apart are unseen to the encoder, not to the model.
            unseen += chunk_unseen - kept_apart
        else:
            unseen += X.nnz - kept_apart
    return {
        "file": args.on,
        "rows": rows,
        "collisions_per_row": collisions / max(rows, 1),
        "unseen_per_row": unseen / max(rows, 1),
    }


def run_inspect(args) -> dict:
    check_inputs([args.path])
    try:
        model, metadata = read_model(args.path)
    except ModelFileError as error:
        with open(args.path, "rb") as file:
            # A zip archive is meant as a model: say what is wrong with it, rather than read
            # it as text.
            if file.read(4) == b"PK\x03\x04":
                raise CommandError(str(error)) from None
        if input_kind(args, [args.path]) == "table":
            return inspect_table(args)
        return inspect_file(args)
    encoder = model.encoder_ if isinstance(model, ChromaticCompressor) else model
    summary = {"command": "inspect", "kind": "model", "model": type(model).__name__}
    summary.update(describe(model))
    if encoder is not None:
        summary.update(
            seen_features=int((encoder.colors_ >= 0).sum()),
            largest_colors=encoder.color_sizes_[:10].tolist(),
            dense_features=len(encoder.dense_features_),
        )
        if hasattr(encoder, "collision_forecast_"):
            summary.update(
                collision_forecast=encoder.collision_forecast_,
                forecast_rows=encoder.forecast_rows_,
            )
    # The metadata is free-form: kept apart, so that it cannot replace what the model says.
    summary.update(params=json_params(model), metadata=metadata)
    if isinstance(metadata.get("zero_based"), bool):
        summary["zero_based"] = metadata["zero_based"]
    if args.on is not None:
        summary["on"] = collision_rate(args, model, metadata)
    report(args, summary, model_text(model, summary, args.on))
    return summary


def inspect_file(args) -> dict:
    """Statistics of an svmlight file, read chunk by chunk."""
    rows = non_zeros = skipped = 0
    longest, width = 0, 0
    min_index = np.iinfo(np.int64).max
    for chunk in iter_chunks(
        args.path, chunk_bytes=chunk_bytes(args), skip_bad_lines=args.skip_bad_lines
    ):
        lengths = np.diff(chunk.indptr)
        rows += chunk.n_rows
        non_zeros += len(chunk.indices)
        skipped += chunk.skipped_lines
        longest = max(longest, int(lengths.max()) if len(lengths) else 0)
        width = max(width, int(chunk.indices.max()) + 1 if len(chunk.indices) else 0)
        min_index = min(min_index, chunk.min_index)
    summary = {
        "command": "inspect",
        "kind": "svmlight",
        "rows": rows,
        # Without an index, neither the largest nor the base can be told.
        "max_index": width - 1 if non_zeros else None,
        "zero_based": bool(min_index == 0) if non_zeros else None,
        "non_zeros": non_zeros,
        "non_zeros_per_row": non_zeros / max(rows, 1),
        "longest_row": longest,
        "skipped_lines": skipped,
    }
    report(args, summary, svmlight_text(args.path, summary))
    return summary


def inspect_table(args) -> dict:
    """Statistics of a table file, read chunk by chunk: its columns, their values and nulls."""
    reading = table_reading(args, {}, require_label=args.label is not None)
    features = table_features(TableEncoder())
    rows, nulls, labels = 0, None, []
    for where, table, chunk_labels in reading.tables(args.path):
        try:
            features.fit_more_ids(table)
        except ValueError as error:
            raise TableFileError(f"{where}: {error}") from None
        counts = np.array([table.column(c.name).null_count for c in features.fitted])
        nulls = counts if nulls is None else nulls + counts
        rows += table.num_rows
        if chunk_labels is not None:
            labels.append(np.unique(chunk_labels))
    distinct = np.bincount(features.column_of_feature(), minlength=len(features.fitted))
    columns = [
        {
            "name": c.name,
            "read_as": c.kind + (" list" if c.is_list else ""),
            "values": int(v),
            "nulls": int(n),
        }
        for c, v, n in zip(features.fitted, distinct, nulls, strict=True)
    ]
    summary = {
        "command": "inspect",
        "kind": "table",
        "rows": rows,
        "features": int(distinct.sum()),
        "columns": columns,
    }
    if reading.label is not None:
        summary["label"] = reading.label
        summary["label_values"] = np.unique(np.concatenate(labels)).tolist() if labels else []
    report(args, summary, table_text(args.path, summary))
    return summary


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
