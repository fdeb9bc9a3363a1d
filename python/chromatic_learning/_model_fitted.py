"""The fitted tables of a model file, read and checked: a coloring, buckets, a hashed tail.

Each reader takes the members of one table from an ``Archive`` and checks them against the
others and against what a fit guarantees, failing with the member's name (see ``_model``).
"""

from __future__ import annotations

import numpy as np

from ._model_archive import Archive
from ._tables import STOP_REASONS, Buckets, Coloring, HashedTail

#: The members of an encoder's and a bucket compressor's tables: their fitted attributes,
#: written without the trailing ``_``.
ENCODER_ARRAYS = ("colors_", "codes_", "color_sizes_", "document_frequency_", "dense_features_")
ENCODER_SCALARS = ("n_edges_", "max_degree_", "n_greedy_colors_", "conflict_weight_")
BUCKET_ARRAYS = (
    "column_sizes_",
    "offsets_",
    "output_of_value_",
    "boundary_offsets_",
    "boundaries_",
    "bucket_outputs_",
)

# Text members are read before any count is known, so each gets a fixed cap (in characters):
# far above what a model writes, far below what would strain memory. Names and stop reasons:
NAME_CHARS = 64
INT32_MAX = int(np.iinfo(np.int32).max)
INT64_MAX = int(np.iinfo(np.int64).max)


def read_coloring(archive: Archive, prefix: str, n: int) -> Coloring:
    """Read an encoder's tables over ``n`` features; members are named ``prefix + name``."""

    def fail(name: str, problem: str):
        archive.fail(prefix + name, problem)

    colors = archive.integers(prefix + "colors", -1, INT32_MAX, length=n, dtype=np.int32)
    # Every color holds a feature, so there are at most as many colors as features.
    sizes = archive.integers(prefix + "color_sizes", 1, n, max_length=n)
    n_colors = len(sizes)
    colored = np.flatnonzero(colors >= 0)
    if len(colored) and colors[colored].max() >= n_colors:
        feature = colored[np.argmax(colors[colored])]
        fail("colors", f"gives feature {feature} color {colors[feature]} of {n_colors}")
    held = np.bincount(colors[colored], minlength=n_colors)
    if (held != sizes).any():
        color = int(np.flatnonzero(held != sizes)[0])
        fail(
            "color_sizes",
            f"gives color {color} {sizes[color]} features, but {held[color]} have that color",
        )
    codes = archive.integers(prefix + "codes", 0, min(n, INT32_MAX), length=n, dtype=np.int32)
    uncolored_coded = np.flatnonzero((colors < 0) & (codes != 0))
    if len(uncolored_coded):
        feature = uncolored_coded[0]
        fail("codes", f"gives feature {feature}, which has no color, code {codes[feature]}")
    # Each color numbers its features 1..size, once each, or codes would not decode.
    size_of = sizes[colors[colored]]
    out_of_range = np.flatnonzero((codes[colored] < 1) | (codes[colored] > size_of))
    if len(out_of_range):
        feature = colored[out_of_range[0]]
        fail(
            "codes",
            f"gives feature {feature} code {codes[feature]}, outside 1..{sizes[colors[feature]]} "
            f"of its color {colors[feature]}",
        )
    slots = (np.cumsum(sizes) - sizes)[colors[colored]] + codes[colored] - 1
    shared = np.flatnonzero(np.bincount(slots, minlength=len(colored)) > 1)
    if len(shared):
        first, second = colored[np.flatnonzero(slots == shared[0])[:2]]
        fail(
            "codes",
            f"gives features {first} and {second} the same color {colors[first]} and code "
            f"{codes[first]}",
        )
    frequency = archive.integers(prefix + "document_frequency", 0, INT64_MAX, length=n)
    dense = archive.integers(prefix + "dense_features", 0, n - 1, max_length=n)
    if len(np.unique(dense)) != len(dense):
        fail("dense_features", "holds a feature twice")
    # A dense feature gets a color of its own.
    dense_colors = colors[dense]
    alone = dense_colors >= 0
    alone[alone] = sizes[dense_colors[alone]] == 1
    not_alone = np.flatnonzero(~alone)
    if len(not_alone):
        fail(
            "dense_features", f"holds feature {dense[not_alone[0]]}, which has no color of its own"
        )
    scalars = {
        name.rstrip("_"): archive.integer(prefix + name.rstrip("_"), 0, INT64_MAX)
        for name in ENCODER_SCALARS
    }
    return Coloring(
        colors=colors,
        codes=codes,
        color_sizes=sizes,
        document_frequency=frequency,
        dense_features=dense,
        n_features=n,
        **scalars,
    )


def read_buckets(archive: Archive, color_sizes: np.ndarray, budget: int) -> Buckets:
    """Read the buckets of the code columns of colors of ``color_sizes``, ``budget`` at most."""
    n_columns = len(color_sizes)
    column = np.arange(n_columns)
    sizes = archive.integers("buckets.column_sizes", 1, INT64_MAX, length=n_columns)
    if (sizes != color_sizes + 1).any():
        j = int(np.flatnonzero(sizes != color_sizes + 1)[0])
        archive.fail(
            "buckets.column_sizes",
            f"gives column {j} {sizes[j]} values, but its color has {color_sizes[j]} codes and 0",
        )
    ends = np.cumsum(sizes)
    offsets = archive.integers("buckets.offsets", 0, INT64_MAX, length=n_columns + 1)
    if offsets[0] != 0 or (offsets[1:] != ends).any():
        archive.fail("buckets.offsets", "does not cut the values into the columns' sizes")
    n_values = int(ends[-1]) if n_columns else 0
    # Each output column is a bucket, which holds a value.
    n_outputs = archive.integer("buckets.n_outputs", 0, min(budget, n_values))
    output_of_value = archive.integers(
        "buckets.output_of_value", -1, n_outputs - 1, length=n_values, dtype=np.int32
    )
    # A column of s values, sorted by rate, is cut into at most s buckets by s - 1 boundaries.
    boundary_offsets = archive.integers(
        "buckets.boundary_offsets", 0, n_values, length=n_columns + 1
    )
    cuts = np.diff(boundary_offsets)
    if boundary_offsets[0] != 0 or (cuts < 0).any() or (cuts > sizes - 1).any():
        archive.fail("buckets.boundary_offsets", "does not cut the boundaries into the columns")
    n_boundaries = int(boundary_offsets[-1])
    boundaries = archive.array("buckets.boundaries", "f", length=n_boundaries).astype(np.float64)
    column_of_boundary = np.repeat(column, cuts)
    falling = (np.diff(boundaries) < 0) & (np.diff(column_of_boundary) == 0)
    if not (np.isfinite(boundaries) & (boundaries >= 0) & (boundaries <= 1)).all() or falling.any():
        archive.fail("buckets.boundaries", "holds rates that are not ascending within [0, 1]")
    bucket_outputs = archive.integers(
        "buckets.bucket_outputs", -1, n_outputs - 1, length=n_boundaries + n_columns, dtype=np.int32
    )
    # Each column has one reference bucket (no output), and each output is one bucket.
    column_of_bucket = np.repeat(column, cuts + 1)
    references = np.bincount(column_of_bucket[bucket_outputs < 0], minlength=n_columns)
    outputs = bucket_outputs[bucket_outputs >= 0]
    if (references != 1).any() or (np.bincount(outputs, minlength=n_outputs) != 1).any():
        archive.fail(
            "buckets.bucket_outputs",
            "does not give each column one reference bucket and each output column one bucket",
        )
    # A value goes to a bucket of its own column (never another's), and the absent value 0 to
    # the reference bucket.
    column_of_output = np.empty(n_outputs, dtype=np.int64)
    column_of_output[outputs] = column_of_bucket[bucket_outputs >= 0]
    column_of_value = np.repeat(column, sizes)
    placed = np.flatnonzero(output_of_value >= 0)
    strays = placed[column_of_output[output_of_value[placed]] != column_of_value[placed]]
    if len(strays) or (n_columns and (output_of_value[offsets[:-1]] != -1).any()):
        archive.fail(
            "buckets.output_of_value",
            "places a value in a bucket of another column, or the absent value 0 outside the "
            "reference bucket",
        )
    stop_reason = None
    if archive.has("buckets.stop_reason"):
        stop_reason = archive.text("buckets.stop_reason", NAME_CHARS)
        if stop_reason not in STOP_REASONS:
            archive.fail("buckets.stop_reason", f"is {stop_reason!r}, not one of {STOP_REASONS}")
    return Buckets(
        column_sizes=sizes,
        offsets=offsets,
        output_of_value=output_of_value,
        n_outputs=n_outputs,
        boundary_offsets=boundary_offsets,
        boundaries=boundaries,
        bucket_outputs=bucket_outputs,
        stop_reason=stop_reason,
    )


def read_hashed_tail(archive: Archive, n: int, frequent: np.ndarray, budget: int) -> HashedTail:
    seed = archive.integer("hashed.seed", 0, INT32_MAX)
    n_tail = budget - len(frequent)
    if n_tail < 1:
        archive.fail("hashed.seed", "is there, but the kept features take the whole budget")
    features = archive.integers("hashed.features", 0, n - 1, max_length=n - len(frequent))
    if not len(features):
        archive.fail("hashed.features", "is empty; a model without one has no hashed tail")
    if len(np.unique(features)) != len(features):
        archive.fail("hashed.features", "holds a feature twice")
    twice = features[np.isin(features, frequent)]
    if len(twice):
        archive.fail(
            "hashed.features",
            f"holds feature {twice[0]}, which is kept apart too (two output columns)",
        )
    return HashedTail(n_tail, seed, features, n)
