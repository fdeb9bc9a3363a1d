"""The ``inspect`` command: what a model file or an input file holds.

A model is described with how it encodes a file (``--on``); an svmlight or table file is read
chunk by chunk.
"""

from __future__ import annotations

import numpy as np

from .._compression import ChromaticCompressor
from .._model import ModelFileError, json_params, read_model
from .._table_encoder import TableEncoder, table_features
from .._table_files import TableFileError
from ..streaming import model_rows
from ..svmlight import iter_chunks
from ._commands import check_inputs, feature_collisions, model_tables, model_zero_based
from ._inputs import chunk_bytes, input_kind, table_reading
from ._reports import (
    CommandError,
    describe,
    model_text,
    report,
    svmlight_text,
    table_text,
)


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
