"""The ``chromatic`` command: fit, transform and inspect svmlight files larger than memory."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from . import _core
from ._input import effective_n_jobs
from ._output import atomic_output
from .compression import ChromaticCompressor
from .encoder import STRATEGIES, ChromaticEncoder
from .model import ModelFileError, read_model, save_model
from .streaming import (
    fit_compressor_files,
    fit_files,
    iter_compressed,
    iter_encoded,
    model_rows,
)
from .svmlight import DEFAULT_CHUNK_BYTES, SvmlightError, iter_chunks

EPILOG_FIT = """example:
  chromatic fit train.svm.gz -o model.npz --min-cooccurrence 2 --memory-limit 16G
  chromatic fit train.svm.gz -o model.npz --budget 1024     # colors, then 1024 bucket columns
"""
EPILOG_TRANSFORM = """example:
  chromatic transform model.npz test.svm -o test.codes.svm
  chromatic transform model.npz a.svm b.svm -o encoded/ --format npz
"""
EPILOG_COMPRESS = """example:
  chromatic compress --train day1.svm.gz day2.svm.gz --test day3.svm.gz --out compressed/
  chromatic compress --train day1.svm.gz --test day2.svm.gz --out small/ --budget 1024
"""
EPILOG_COMPARE = """example:
  chromatic compare                      # the flights cut shipped with chromatic, about a minute
  chromatic compare clicks.svm --budgets 256 1024
"""
EPILOG_INSPECT = """example:
  chromatic inspect model.npz --on test.svm
  chromatic inspect train.svm --json
"""


class CommandError(Exception):
    """A problem to report in one line, with the exit status to use."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def zero_based_arg(text: str) -> bool | str:
    choices = {"auto": "auto", "yes": True, "true": True, "no": False, "false": False}
    if text.lower() not in choices:
        raise argparse.ArgumentTypeError("expected auto, yes or no")
    return choices[text.lower()]


def add_reading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--zero-based",
        type=zero_based_arg,
        default="auto",
        help="indices start at 0: yes, no or auto (default: detect, and report)",
    )
    parser.add_argument(
        "--chunk-mb",
        type=float,
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
    parser.add_argument("--min-cooccurrence", type=int, default=1)
    parser.add_argument("--n-colors", type=int, default=None)
    parser.add_argument("--strategy", choices=STRATEGIES, default="largest_first")
    parser.add_argument(
        "--dense-threshold",
        type=float,
        default=0.1,
        help="share of rows from which a feature gets its own color (0: never)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument(
        "--memory-limit",
        default=None,
        metavar="SIZE",
        help="memory the graph build may use, such as 16G: when its counts would not fit, the "
        "graph is counted in shards of vertices, one more pass over the files each",
    )
    budget = parser.add_argument_group(
        "compression to a budget (needs binary labels; see ChromaticCompressor)"
    )
    budget.add_argument(
        "--budget",
        type=int,
        default=None,
        help="write at most this many one-hot columns: the most frequent features, then "
        "buckets of the color codes chosen for what they tell about the label",
    )
    budget.add_argument(
        "--n-frequent",
        type=n_frequent_arg,
        default="auto",
        help="features that keep a column of their own: a count, or auto (default: chosen "
        "by held-out log loss on a uniform sample of the training rows)",
    )
    budget.add_argument(
        "--cv",
        type=int,
        default=5,
        help="folds: compress writes each training row with buckets rated on the other folds",
    )


def n_frequent_arg(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected auto or a count") from None


def chunk_bytes(args) -> int:
    if not args.chunk_mb > 0:
        raise CommandError(f"--chunk-mb must be positive, got {args.chunk_mb}")
    return max(1, int(args.chunk_mb * 2**20))


class Progress:
    """One progress bar per stage (reading, counting, writing) on a terminal; nothing otherwise
    or with ``--quiet`` / ``--json``."""

    def __init__(self, args):
        self.enabled = sys.stderr.isatty() and not (args.quiet or args.json)
        self.bars: dict = {}

    def __call__(self, stage: str, rows: int) -> None:
        if not self.enabled:
            return
        if stage not in self.bars:
            from tqdm import tqdm

            for bar in self.bars.values():
                bar.close()
            self.bars[stage] = tqdm(desc=stage, unit=" rows", unit_scale=True, leave=False)
        self.bars[stage].update(rows)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


def report(args, summary: dict, text: str) -> None:
    if args.json:
        print(json.dumps(summary))
    elif not args.quiet:
        print(text)


def check_inputs(paths: Sequence[str]) -> None:
    for path in paths:
        if not os.path.isfile(path):
            raise CommandError(f"{path}: no such file")


def fit_model(args, *, cross_fit: bool = False):
    """The model the fit options describe, fitted on ``args.train``: ``(model, stream report,
    cross-fit tables or None)``."""
    check_inputs(args.train)
    coloring = {
        "min_cooccurrence": args.min_cooccurrence,
        "strategy": args.strategy,
        "dense_threshold": None if args.dense_threshold <= 0 else args.dense_threshold,
        "n_colors": args.n_colors,
        "random_state": args.seed,
        "memory_limit": args.memory_limit,
        "n_jobs": args.n_jobs,
    }
    reading = {
        "zero_based": args.zero_based,
        "chunk_bytes": chunk_bytes(args),
        "skip_bad_lines": args.skip_bad_lines,
    }
    progress = Progress(args)
    try:
        if args.budget is None:
            encoder = ChromaticEncoder(**coloring)
            return encoder, fit_files(encoder, args.train, **reading, progress=progress), None
        compressor = ChromaticCompressor(
            budget=args.budget, n_frequent=args.n_frequent, cv=args.cv, **coloring
        )
        stream, tables = fit_compressor_files(
            compressor, args.train, **reading, progress=progress, cross_fit=cross_fit
        )
        return compressor, stream, tables
    finally:
        progress.close()


def describe(model) -> dict:
    """What a fitted encoder or compressor is, for summaries."""
    encoder = model if isinstance(model, ChromaticEncoder) else model.encoder_
    about = {"features": model.n_features_in_}
    if isinstance(model, ChromaticCompressor):
        about.update(
            budget=model.budget,
            columns=model.n_features_out_,
            frequent_features=model.n_frequent_,
        )
    if encoder is not None:
        about.update(
            colors=encoder.n_colors_, edges=encoder.n_edges_, max_degree=encoder.max_degree_
        )
    return about


def describe_text(about: dict) -> str:
    text = f"{about.get('edges', 0):,} edges, {about.get('colors', 0)} colors"
    if "budget" in about:
        text += (
            f", {about['columns']:,} columns ({about['frequent_features']:,} frequent features, "
            f"{about['columns'] - about['frequent_features']:,} buckets)"
        )
    return text


def run_fit(args, *, quiet: bool = False) -> dict:
    model, stream, _ = fit_model(args)
    save_model(model, args.output, metadata={"zero_based": stream.zero_based})
    summary = {
        "command": "fit",
        "model": args.output,
        "rows": stream.rows,
        **describe(model),
        "zero_based": stream.zero_based,
        "skipped_lines": stream.skipped_lines,
        "graph_passes": stream.graph_passes,
    }
    if quiet:
        return summary
    report(
        args,
        summary,
        f"{stream.rows:,} rows, {model.n_features_in_:,} features "
        f"({'0' if stream.zero_based else '1'}-based), {describe_text(summary)} -> {args.output}"
        + (f"; skipped {stream.skipped_lines} bad lines" if stream.skipped_lines else ""),
    )
    return summary


def run_transform(args) -> dict:
    check_inputs(args.inputs)
    try:
        model, metadata = read_model(args.model)
    except ModelFileError as error:
        raise CommandError(str(error)) from None
    model.set_params(n_jobs=args.n_jobs)
    zero_based = model_zero_based(args, metadata)
    several = len(args.inputs) > 1
    if several and not os.path.isdir(args.output):
        raise CommandError(f"{args.output}: with several inputs, -o must be an existing folder")
    targets = [
        os.path.join(args.output, os.path.basename(path)) if several else args.output
        for path in args.inputs
    ]
    summary = encode_files(args, model, zero_based, args.inputs, targets)
    report(args, summary, f"{summary['rows']:,} rows -> {', '.join(targets)}: {written(summary)}")
    return summary


def written(summary: dict) -> str:
    if "collisions" not in summary:
        return f"{summary['columns']:,} one-hot columns"
    rate = summary["collisions"] / max(summary["rows"], 1)
    return (
        f"{summary['columns']} code columns, {rate:.4f} collisions per row, "
        f"{summary['unseen']:,} unseen features"
    )


class SvmlightSink:
    """Writes ``label color:code ...`` lines (0-based colors, non-zero codes only), or
    ``label column:1 ...`` for one-hot columns; the text is formatted by the engine."""

    def __init__(self, path: str, n_columns: int, one_hot: bool, n_jobs):
        self.out = open(path, "wb")
        self.n_jobs = n_jobs

    def write(self, labels: np.ndarray, output) -> None:
        labels = np.ascontiguousarray(labels, dtype=np.float64)
        if sp.issparse(output):
            text = _core.format_binary_rows(
                labels,
                output.indptr.astype(np.int64),
                output.indices.astype(np.int64),
                n_jobs=self.n_jobs,
            )
        else:
            text = _core.format_codes(labels, output, n_jobs=self.n_jobs)
        self.out.write(text)

    def close(self) -> None:
        self.out.close()


class NpzSink:
    """Gathers the chunks into one ``.npz``: ``codes`` (int32) and ``labels``, or for one-hot
    columns a CSR matrix as ``scipy.sparse.save_npz`` writes it (``scipy.sparse.load_npz``
    reads it) plus ``labels``."""

    def __init__(self, path: str, n_columns: int, one_hot: bool, n_jobs):
        self.path, self.n_columns, self.one_hot = path, n_columns, one_hot
        self.labels: list = []
        self.outputs: list = []

    def write(self, labels: np.ndarray, output) -> None:
        self.labels.append(labels)
        self.outputs.append(output)

    def close(self) -> None:
        labels = np.concatenate(self.labels) if self.labels else np.zeros(0)
        with open(self.path, "wb") as out:
            if self.one_hot:
                empty = sp.csr_matrix((0, self.n_columns))
                matrix = sp.vstack(self.outputs, format="csr") if self.outputs else empty
                np.savez(
                    out,
                    format=np.array("csr"),
                    shape=np.array(matrix.shape),
                    data=matrix.data,
                    indices=matrix.indices,
                    indptr=matrix.indptr,
                    labels=labels,
                )
            else:
                empty = np.zeros((0, self.n_columns), np.int32)
                codes = np.vstack(self.outputs) if self.outputs else empty
                np.savez(out, codes=codes, labels=labels)


class ParquetSink:
    """Streams the chunks into a Parquet file: a ``label`` column and one int32 column per
    color (``color0``, ...), or for one-hot columns a ``columns`` column listing each row's
    (int32)."""

    def __init__(self, path: str, n_columns: int, one_hot: bool, n_jobs):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise CommandError(
                "Parquet output needs pyarrow: pip install 'chromatic[parquet]'"
            ) from None
        self.pa = pa
        fields = [pa.field("label", pa.float64())]
        if one_hot:
            fields.append(pa.field("columns", pa.list_(pa.int32())))
        else:
            fields += [pa.field(f"color{c}", pa.int32()) for c in range(n_columns)]
        self.schema = pa.schema(fields)
        self.writer = pq.ParquetWriter(path, self.schema)

    def write(self, labels: np.ndarray, output) -> None:
        pa = self.pa
        if sp.issparse(output):
            lists = pa.ListArray.from_arrays(
                pa.array(output.indptr.astype(np.int32)), pa.array(output.indices.astype(np.int32))
            )
            columns = [pa.array(labels), lists]
        else:
            columns = [pa.array(labels)] + [pa.array(output[:, c]) for c in range(output.shape[1])]
        self.writer.write_table(pa.Table.from_arrays(columns, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


SINKS = {"svmlight": SvmlightSink, "npz": NpzSink, "parquet": ParquetSink}


def encode_files(args, model, zero_based, inputs, targets, cross_fit=None) -> dict:
    """Encode every input into its target, each written atomically. With ``cross_fit``, the
    inputs are the training files, in the order they were fitted on."""
    for path, target in zip(inputs, targets, strict=True):
        if os.path.abspath(target) == os.path.abspath(path):
            raise CommandError(f"{target}: the output would overwrite its input")
    one_hot = isinstance(model, ChromaticCompressor)
    width = model.n_features_out_ if one_hot else model.n_colors_
    reading = {
        "zero_based": zero_based,
        "chunk_bytes": chunk_bytes(args),
        "skip_bad_lines": args.skip_bad_lines,
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
            with atomic_output(target) as temporary:
                sink = SINKS[args.format](temporary, width, one_hot, effective_n_jobs(model.n_jobs))
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
    names = [os.path.basename(p) for p in [*args.train, *args.test]]
    if len(set(names)) != len(names) or "model.npz" in names:
        raise CommandError(
            "input files need distinct names, none of them model.npz: the outputs are named "
            "after them"
        )
    os.makedirs(args.out, exist_ok=True)
    model_path = os.path.join(args.out, "model.npz")
    model, stream, tables = fit_model(args, cross_fit=True)
    save_model(model, model_path, metadata={"zero_based": stream.zero_based})
    model.set_params(n_jobs=args.n_jobs)
    train_targets = [os.path.join(args.out, os.path.basename(p)) for p in args.train]
    test_targets = [os.path.join(args.out, os.path.basename(p)) for p in args.test]
    # Training rows are written as a model will learn from them: cross-fitted with a budget.
    encoded = encode_files(args, model, stream.zero_based, args.train, train_targets, tables)
    if args.test:
        tested = encode_files(args, model, stream.zero_based, args.test, test_targets)
        encoded = {**encoded, "outputs": encoded["outputs"] + tested["outputs"]}
        for key in ("rows", "collisions", "unseen"):
            if key in encoded:
                encoded[key] += tested[key]
    summary = {
        **describe(model),
        **encoded,
        "command": "compress",
        "model": model_path,
        "training_rows": stream.rows,
        "zero_based": stream.zero_based,
        "skipped_lines": stream.skipped_lines,
        "cross_fitted": tables is not None,
    }
    report(
        args,
        summary,
        f"{stream.rows:,} training rows, {describe_text(summary)}; wrote "
        f"{len(names)} files ({written(summary)}) and the model into {args.out}",
    )
    return summary


def model_zero_based(args, metadata: dict) -> bool:
    """The index base of files to encode: as given, else as the training files had it."""
    if args.zero_based == "auto":
        return bool(metadata.get("zero_based", False))
    return bool(args.zero_based)


def collision_rate(args, model, metadata) -> dict:
    """How the model encodes the rows of ``args.on``: collisions and unseen features (those
    without a place in the model) per row; for a compressor, collisions among the features
    that are not kept apart."""
    check_inputs([args.on])
    zero_based = model_zero_based(args, metadata)
    compressor = isinstance(model, ChromaticCompressor)
    encoder = model.encoder_ if compressor else model
    rows = collisions = unseen = 0
    for chunk, X, unknown in model_rows(
        model, args.on, zero_based, chunk_bytes(args), args.skip_bad_lines
    ):
        rows += chunk.n_rows
        unseen += unknown
        kept_apart = X[:, model.frequent_features_].nnz if compressor else 0
        if encoder is not None:
            encoder.transform(X)
            collisions += encoder.last_collisions_
            # Features kept apart are unseen to the encoder, not to the model.
            unseen += encoder.last_unseen_ - kept_apart
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
    except ModelFileError:
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
    summary.update(params=model.get_params(), **metadata)
    if args.on is not None:
        summary["on"] = collision_rate(args, model, metadata)
    text = f"model: {summary['features']:,} features"
    if encoder is not None:
        text += (
            f" ({summary['seen_features']:,} colored), {describe_text(summary)} (largest: "
            f"{summary['largest_colors']}), max degree {encoder.max_degree_:,}"
        )
    if isinstance(model, ChromaticCompressor):
        text += f"; budget {model.budget}: {model.n_features_out_:,} columns, "
        text += f"{model.n_frequent_:,} of them frequent features"
    if args.on is not None:
        text += (
            f"; on {args.on}: {summary['on']['collisions_per_row']:.4f} collisions and "
            f"{summary['on']['unseen_per_row']:.4f} unseen features per row"
        )
    report(args, summary, text)
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
        "max_index": width - 1,
        "zero_based": bool(min_index == 0),
        "non_zeros": non_zeros,
        "non_zeros_per_row": non_zeros / max(rows, 1),
        "longest_row": longest,
        "skipped_lines": skipped,
    }
    report(
        args,
        summary,
        f"{args.path}: {rows:,} rows, indices up to {width - 1:,} "
        f"({'0' if min_index == 0 else '1'}-based), "
        f"{summary['non_zeros_per_row']:.2f} non-zeros per row "
        f"(longest {longest})",
    )
    return summary


def run_compare(args) -> dict:
    from sklearn.model_selection import train_test_split

    from .compare import compare
    from .compression import binary_labels
    from .datasets import load_flights_cut
    from .svmlight import load_svmlight

    if args.file is None:
        X, y = load_flights_cut()
        source = "flights cut (100,000 rows, shipped with chromatic)"
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
    if not (args.quiet or args.json):
        print(f"{source}, {X.shape[1]:,} features; 80/20 split; logistic regression")
        print(f"{'budget':>7}  {'method':<10} {'log loss':>9} {'AUC':>7} {'encode':>8}")

    def show(run):
        if not (args.quiet or args.json):
            print(
                f"{run['budget']:>7}  {run['method']:<10} {run['log_loss']:>9.4f} "
                f"{run['auc']:>7.4f} {run['encode_seconds']:>7.1f}s",
                flush=True,
            )

    runs = compare(
        X_train,
        y_train,
        X_test,
        y_test,
        args.budgets,
        methods=("CL+SFC", "hashing", "frequency"),
        seed=args.seed,
        on_run=show,
    )
    summary = {"command": "compare", "source": source, "runs": runs}
    if args.json:
        print(json.dumps(summary))
    return summary


def add_command(commands, name: str, help: str, epilog: str, run) -> argparse.ArgumentParser:
    """A subcommand with its example, the reading options every command shares, and its
    handler."""
    command = commands.add_parser(
        name, help=help, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_reading_options(command)
    command.set_defaults(run=run)
    return command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chromatic",
        description="Compress sparse svmlight data by coloring its feature co-occurrence graph.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    fit = add_command(commands, "fit", "learn the coloring of training files", EPILOG_FIT, run_fit)
    fit.add_argument("train", nargs="+", help="svmlight files (.gz, .bz2, .xz too)")
    fit.add_argument("-o", "--output", required=True, help="model file to write (.npz)")
    add_fit_options(fit)

    transform = add_command(
        commands, "transform", "encode files with a saved model", EPILOG_TRANSFORM, run_transform
    )
    transform.add_argument("model")
    transform.add_argument("inputs", nargs="+")
    transform.add_argument(
        "-o", "--output", required=True, help="output file, or folder with several inputs"
    )
    transform.add_argument("--format", choices=tuple(SINKS), default="svmlight")
    transform.add_argument("--n-jobs", type=int, default=None)

    compress = add_command(
        commands,
        "compress",
        "fit on training files, then encode them and test files into a folder",
        EPILOG_COMPRESS,
        run_compress,
    )
    compress.add_argument("--train", nargs="+", required=True, help="training svmlight files")
    compress.add_argument("--test", nargs="*", default=[], help="more files to encode")
    compress.add_argument("--out", required=True, help="folder for the encoded files and model")
    compress.add_argument("--format", choices=tuple(SINKS), default="svmlight")
    add_fit_options(compress)

    compare_command = add_command(
        commands,
        "compare",
        "Chromatic Learning against the hashing trick and frequency truncation",
        EPILOG_COMPARE,
        run_compare,
    )
    compare_command.add_argument("file", nargs="?", help="svmlight file (default: flights cut)")
    compare_command.add_argument("--budgets", type=int, nargs="+", default=[64, 256, 1024, 4096])
    compare_command.add_argument("--seed", type=int, default=0)

    inspect = add_command(
        commands, "inspect", "statistics of a model or svmlight file", EPILOG_INSPECT, run_inspect
    )
    inspect.add_argument("path")
    inspect.add_argument(
        "--on",
        metavar="FILE",
        default=None,
        help="with a model: its collision rate on this svmlight file",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except SvmlightError as error:
        print(f"chromatic: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"chromatic: {error}", file=sys.stderr)
        return error.status
    except (ValueError, OSError) as error:
        print(f"chromatic: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("chromatic: interrupted; no output was written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
