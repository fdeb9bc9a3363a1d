"""What the command prints: progress bars, reports, and the error a command ends with.

Each command has a text or a JSON report; they share the description of a model. An error is
one line.
"""

from __future__ import annotations

import json
import math
import sys
import threading

from .._compression import ChromaticCompressor
from .._encoder import ChromaticEncoder
from .._sources import phase_unit


class CommandError(Exception):
    """A problem to report in one line, with the exit status to use."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


class Progress:
    """One progress bar per phase of a command, on a terminal.

    Called as ``progress(phase, done, total)`` (the callback of ``chromatic_learning.streaming``):
    a phase's bar shows ``done`` of ``total`` in its unit (bytes of input, or candidate
    splits), with the percentage and the time left; a phase of one step (``total`` None)
    shows its name and the time it has taken, and a pass over a stream of no known size
    (``total`` None, ``done`` growing) the bytes read and their rate. A new phase closes the
    bar before it. Nothing
    is shown when standard error is no terminal, or with ``--quiet`` / ``--json``.
    """

    #: Seconds between redraws of the time a phase of one step has taken.
    CLOCK_SECONDS = 1.0

    def __init__(self, args):
        self.enabled = sys.stderr.isatty() and not (args.quiet or args.json)
        self.phase: str | None = None
        self.bar = None
        self.clock: tuple[threading.Thread, threading.Event] | None = None

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if phase != self.phase:
            self.close()
            self.bar = new_bar(phase, total)
            self.phase = phase
            if total is None:
                self.start_clock()
        bar = self.bar
        if total is None:
            if done > bar.n:
                # A stream's pass: no total to measure against, but the bytes read so far.
                bar.bar_format = STREAM_FORMAT
                bar.update(done - bar.n)
            return
        if bar.total != total:
            # The choice of the frequent features plans more candidates as it goes.
            bar.total = total
        bar.update(done - bar.n)

    def start_clock(self) -> None:
        """Redraw the bar of a phase of one step now and then, its time going on.

        tqdm redraws a bar as it is updated, which a phase of one step never is. The engine
        lets go of the interpreter as it works, so a thread can redraw the time meanwhile.
        """
        stopped = threading.Event()
        bar = self.bar

        def tick() -> None:
            while not stopped.wait(self.CLOCK_SECONDS):
                bar.refresh()

        thread = threading.Thread(target=tick, name="progress clock", daemon=True)
        thread.start()
        self.clock = (thread, stopped)

    def close(self) -> None:
        if self.clock is not None:
            thread, stopped = self.clock
            stopped.set()
            thread.join()
            self.clock = None
        if self.bar is not None:
            self.bar.close()
        self.bar = self.phase = None


def phase_named(progress: Progress, phase: str):
    """Return a callback passing what it is told to ``progress`` as the progress of ``phase``."""

    def renamed(_, done: int, total: int | None) -> None:
        progress(phase, done, total)

    return renamed


#: A phase of one step: its name and the time it has taken.
ONE_STEP_FORMAT = "{desc}: {elapsed}"
#: A pass over a stream (a FIFO), whose size is unknown until its end.
STREAM_FORMAT = "{desc}: {n_fmt}B read [{elapsed}, {rate_fmt}]"


def new_bar(phase: str, total: int | None):
    """Return the tqdm bar of ``phase``: in its unit, or its name and time alone."""
    from tqdm import tqdm

    if total is None:
        return tqdm(
            desc=phase,
            total=None,
            bar_format=ONE_STEP_FORMAT,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            leave=False,
        )
    if phase_unit(phase) == "candidates":
        # A rate of candidates per second says little: a candidate takes seconds.
        counted = "{desc}: {percentage:3.0f}%|{bar}| {n}/{total} candidates [{elapsed}<{remaining}]"
        return tqdm(desc=phase, total=total, bar_format=counted, leave=False)
    return tqdm(desc=phase, total=total, unit="B", unit_scale=True, unit_divisor=1024, leave=False)


def report(args, summary: dict, text: str) -> None:
    # Output written to standard output keeps it to itself.
    out = sys.stderr if getattr(args, "output", None) == "-" else sys.stdout
    if args.json:
        print(json.dumps(summary), file=out)
    elif not args.quiet:
        print(text, file=out)


def describe(model) -> dict:
    """Describe a fitted encoder or compressor, for summaries."""
    encoder = model if isinstance(model, ChromaticEncoder) else model.encoder_
    table = getattr(model, "table_encoder_", None)
    about = {"features": model.n_features_in_}
    if table is not None:
        # A table's features are its column=value pairs.
        about.update(table_columns=table.n_features_in_, features=table.n_features_out_)
    if isinstance(model, ChromaticCompressor):
        about.update(
            budget=model.budget,
            columns=model.n_features_out_,
            frequent_features=model.n_frequent_,
            tail=model.tail_,
            stop_reason=model.stop_reason_,
        )
    if encoder is not None:
        about.update(
            colors=encoder.n_colors_, edges=encoder.n_edges_, max_degree=encoder.max_degree_
        )
    return about


def describe_text(about: dict) -> str:
    parts = []
    if about.get("tail") != "hashed":
        # A hashed tail colors nothing.
        parts.append(f"{about.get('edges', 0):,} edges, {about.get('colors', 0)} colors")
    if "budget" in about:
        tail = "hashed columns" if about.get("tail") == "hashed" else "buckets"
        parts.append(
            f"{about['columns']:,} columns ({about['frequent_features']:,} frequent features, "
            f"{about['columns'] - about['frequent_features']:,} {tail})"
        )
        if about["columns"] < about["budget"] and about.get("stop_reason") in STOPPED_BECAUSE:
            parts[-1] += (
                f" of a budget of {about['budget']:,}: {STOPPED_BECAUSE[about['stop_reason']]}"
            )
    return ", ".join(parts)


#: What a compressor that leaves part of its budget unused says of why.
STOPPED_BECAUSE = {
    "penalty": "more buckets would gain less than the penalty (they would fit noise)",
    "no gain": "no further cut separates two label rates",
    "no cut": "every value has a bucket of its own",
    "no more features": "every feature has a column of its own",
}


def written(summary: dict) -> str:
    if "collisions" not in summary:
        if summary.get("tail") == "hashed":
            return f"{summary['columns']:,} columns, the hashed ones signed counts"
        return f"{summary['columns']:,} one-hot columns"
    rate = summary["collisions"] / max(summary["rows"], 1)
    return (
        f"{summary['columns']} code columns, {rate:.4f} collisions per row, "
        f"{summary['unseen']:,} unseen features"
    )


def features_text(summary: dict) -> str:
    """Say what the features are: a table's columns and values, or svmlight indices."""
    if "table_columns" in summary:
        return f"{summary['table_columns']} columns, {summary['features']:,} column=value features"
    return f"{summary['features']:,} features ({'0' if summary['zero_based'] else '1'}-based)"


def fit_text(summary: dict) -> str:
    text = (
        f"{summary['rows']:,} rows, {features_text(summary)}, {describe_text(summary)} -> "
        f"{summary['model']}"
    )
    if summary["skipped_lines"]:
        text += f"; skipped {summary['skipped_lines']} bad lines"
    if summary.get("collision_forecast") is not None:
        text += f"; forecast: {summary['collision_forecast']:.4f} collisions per new row"
    return text


def transform_text(summary: dict) -> str:
    return f"{summary['rows']:,} rows -> {', '.join(summary['outputs'])}: {written(summary)}"


def counted(n: int, thing: str) -> str:
    """``n`` things, in the singular for one."""
    return f"{n:,} {thing}" + ("" if n == 1 else "s")


def compress_text(summary: dict, folder: str) -> str:
    return (
        f"{summary['training_rows']:,} training rows, {describe_text(summary)}; wrote "
        f"{counted(len(summary['outputs']), 'file')} ({written(summary)}) and the model into "
        f"{folder}"
    )


def model_text(model, summary: dict, on: str | None) -> str:
    """Print the ``inspect`` report of a model file.

    ``summary`` also holds the file's metadata, so what the text says of the model comes from
    the model itself.
    """
    encoder = model.encoder_ if isinstance(model, ChromaticCompressor) else model
    text = f"model: {summary['features']:,} features"
    if encoder is not None:
        text += (
            f" ({summary['seen_features']:,} colored), largest colors "
            f"{summary['largest_colors']}, max degree {encoder.max_degree_:,}; "
            f"{describe_text(summary)}"
        )
        if "collision_forecast" in summary:
            text += (
                f", forecast {summary['collision_forecast']:.4f} collisions per new row (on "
                f"{summary['forecast_rows']:,} held-out training rows)"
            )
    elif isinstance(model, ChromaticCompressor):
        text += f"; {describe_text(summary)}"
    if on is not None:
        text += (
            f"; on {on}: {summary['on']['collisions_per_row']:.4f} collisions and "
            f"{summary['on']['unseen_per_row']:.4f} unseen features per row"
        )
    return text


def table_text(path: str, summary: dict) -> str:
    """``inspect`` of a table file: one line, then a line per column."""
    lines = [
        f"{path}: table of {summary['rows']:,} rows, {len(summary['columns'])} feature columns, "
        f"{summary['features']:,} column=value features"
    ]
    if "label" in summary:
        values = summary["label_values"]
        shown = ", ".join(f"{v:g}" for v in values[:5]) + (", ..." if len(values) > 5 else "")
        lines[0] += f"; label {summary['label']!r} ({len(values)} values: {shown})"
    for column in summary["columns"]:
        lines.append(
            f"  {column['name']}: {column['read_as']}, {column['values']:,} values, "
            f"{column['nulls']:,} nulls"
        )
    return "\n".join(lines)


def svmlight_text(path: str, summary: dict) -> str:
    """``inspect`` of an svmlight file."""
    if summary["non_zeros"] == 0:
        # No index to speak of: an empty file, only comments, or rows of labels alone.
        skipped = summary["skipped_lines"]
        return f"{path}: {summary['rows']:,} rows, no features" + (
            f" ({skipped:,} malformed lines skipped)" if skipped else ""
        )
    return (
        f"{path}: {summary['rows']:,} rows, indices up to {summary['max_index']:,} "
        f"({'0' if summary['zero_based'] else '1'}-based), "
        f"{summary['non_zeros_per_row']:.2f} non-zeros per row "
        f"(longest {summary['longest_row']})"
    )


class CompareTable:
    """The table of ``compare``, a row printed as each run ends (runs take minutes).

    Each row shows the columns a method really used: the width of its encoded rows (below the
    budget where `ChromaticCompressor` stopped early) and those non-empty in the rows its model
    learned from. The table ends with one line per budget naming the method with the lowest test
    log loss and its lead over the runner-up (`winner_text`). With ``--json``, only the summary
    at the end is printed.
    """

    def __init__(self, args):
        self.text = not (args.quiet or args.json)
        self.json = args.json

    def start(self, source: str, n_features: int) -> None:
        if self.text:
            print(f"{source}, {n_features:,} features; 80/20 split; logistic regression")
            print(
                f"{'budget':>7}  {'method':<10} {'columns':>7} {'non-empty':>9} {'log loss':>9} "
                f"{'AUC':>7} {'encode':>8}"
            )

    def add(self, run: dict) -> None:
        if self.text:
            print(
                f"{run['budget']:>7}  {run['method']:<10} {run['columns']:>7} "
                f"{run['nonempty_columns']:>9} {run['log_loss']:>9.4f} {run['auc']:>7.4f} "
                f"{run['encode_seconds']:>7.1f}s",
                flush=True,
            )

    def finish(self, summary: dict) -> None:
        if self.json:
            print(json.dumps(summary))
        elif self.text:
            for verdict in summary["winners"]:
                print(winner_text(verdict))


def winner_text(verdict: dict) -> str:
    """Say which method won at a budget, by how much, and whether the lead is told apart from 0.

    ``verdict`` is a record of ``compare``'s ``winners``: the lead is the mean of the runner-up's
    test row log loss less the winner's, with its paired 95% interval. The figures get the
    decimals that show the interval's half width to two significant digits (four at least), so
    that a narrow interval that excludes zero is not printed as ``0.0000 to 0.0000``.
    """
    winner, runner_up = verdict["winner"], verdict["runner_up"]
    half_width = (verdict["high"] - verdict["low"]) / 2
    decimals = 4 if half_width <= 0 else min(8, max(4, 1 - math.floor(math.log10(half_width))))
    lead = f"{verdict['difference']:.{decimals}f} log loss per test row"
    interval = (
        f"paired 95% interval {verdict['low']:.{decimals}f} to {verdict['high']:.{decimals}f}"
    )
    if verdict["distinguishable"]:
        return f"budget {verdict['budget']}: {winner} wins, by {lead} over {runner_up} ({interval})"
    return (
        f"budget {verdict['budget']}: {winner} and {runner_up} are not distinguishable "
        f"({winner} lower by {lead}, {interval})"
    )
