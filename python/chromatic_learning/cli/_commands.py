"""Run the commands that fit and encode (fit, transform, compress) from their parsed arguments.

Each checks its inputs, then calls the fit pipeline, the sinks and the reports; the input
checks and the model's reading of files are shared with ``inspect`` (``_inspect``).
``compare`` is in ``_compare``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import replace

from .._compression import ChromaticCompressor
from .._encoder import ChromaticEncoder, fitted_coloring
from .._input import effective_n_jobs
from .._model import ModelFileError, read_model, write_model
from .._output import Outputs, format_of_name, output_name
from .._text_files import check_input_path
from ..streaming import (
    fit_compressor_files,
    fit_files,
    forecast_files,
    iter_compressed,
    iter_encoded,
    model_rows,
)
from ._inputs import chunk_bytes, input_kind, table_reading, table_template
from ._reports import (
    CommandError,
    Progress,
    compress_text,
    describe,
    fit_text,
    phase_named,
    report,
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
            # A bar per output, measuring the bytes of its input read.
            writing = {"progress": phase_named(progress, f"writing {os.path.basename(target)}")}
            if one_hot:
                chunks = (
                    (labels, output, None)
                    for labels, output in iter_compressed(
                        model,
                        path,
                        **reading,
                        **writing,
                        cross_fit=cross_fit,
                        first_row=totals["rows"],
                    )
                )
            else:
                chunks = (
                    (labels, codes, (collisions, unseen))
                    for labels, codes, collisions, unseen in iter_encoded(
                        model, path, **reading, **writing
                    )
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
