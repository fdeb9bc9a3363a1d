"""What the command prints: progress bars, the text or JSON report of each command, the
description of a model those share, and the one-line error a command ends with."""

from __future__ import annotations

import json
import sys

from ..compression import ChromaticCompressor
from ..encoder import ChromaticEncoder


class CommandError(Exception):
    """A problem to report in one line, with the exit status to use."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


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


def written(summary: dict) -> str:
    if "collisions" not in summary:
        return f"{summary['columns']:,} one-hot columns"
    rate = summary["collisions"] / max(summary["rows"], 1)
    return (
        f"{summary['columns']} code columns, {rate:.4f} collisions per row, "
        f"{summary['unseen']:,} unseen features"
    )
