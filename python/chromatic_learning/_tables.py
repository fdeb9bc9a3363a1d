"""The parameters of the fit pipeline and the fitted tables it returns.

The tables are plain arrays from which the estimator modules build fitted estimators, and which
pickle and save as they are.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ._encoding import encode_rows


@dataclass(frozen=True)
class ColoringParams:
    """The parameters of a coloring, as the engine takes them.

    ``seed`` is already drawn, ``memory_limit`` in bytes, ``n_jobs`` in threads or None for
    every core.
    """

    min_cooccurrence: int = 1
    strategy: str = "largest_first"
    seed: int = 0
    dense_threshold: float | None = 0.1
    n_colors: int | None = None
    glauber_steps: int | None = None
    memory_limit: int | None = None
    collision: str = "most_frequent"
    n_jobs: int | None = None

    def engine(self) -> dict:
        return {
            "min_cooccurrence": self.min_cooccurrence,
            "strategy": self.strategy,
            "seed": self.seed,
            "dense_threshold": self.dense_threshold,
            "n_colors": self.n_colors,
            "glauber_steps": self.glauber_steps,
        }


@dataclass(frozen=True)
class Coloring:
    """A fitted coloring: the color and code of every input feature, and what the graph was."""

    colors: np.ndarray
    codes: np.ndarray
    color_sizes: np.ndarray
    document_frequency: np.ndarray
    dense_features: np.ndarray
    n_edges: int
    max_degree: int
    n_greedy_colors: int
    conflict_weight: int
    n_features: int
    collision: str = "most_frequent"
    n_jobs: int | None = None

    @property
    def field_dims(self) -> np.ndarray:
        return self.color_sizes.astype(np.int64) + 1

    def encode(self, indptr, indices, data, n_rows: int) -> np.ndarray:
        """Encode rows (CSR arrays over this coloring's features) as codes."""
        return self.encode_counted(indptr, indices, data, n_rows)[0]

    def encode_counted(self, indptr, indices, data, n_rows: int) -> tuple[np.ndarray, int, int]:
        """Encode rows as codes, with the collisions and the unseen features met on the way."""
        return encode_rows(
            indptr,
            indices,
            data,
            n_rows,
            self.n_features,
            self.colors,
            self.codes,
            len(self.color_sizes),
            self.collision,
            self.n_jobs,
        )


@dataclass(frozen=True)
class BucketParams:
    """The parameters of the submodular cut (``budget``: buckets at most)."""

    budget: int = 1024
    cv: int = 5
    smoothing: float = 1.0
    min_bucket_rows: int = 1
    in_sample_rows: int | None = 30
    penalty: float = 0.0
    n_jobs: int | None = None

    def engine(self) -> dict:
        return {
            "budget": self.budget,
            "smoothing": self.smoothing,
            "min_bucket_rows": self.min_bucket_rows,
            "penalty": self.penalty,
        }


@dataclass(frozen=True)
class Buckets:
    """Fitted buckets of code columns.

    They hold the output column of every (column, value), and the buckets as intervals of the
    positive rate (to place values rated on other rows).
    """

    column_sizes: np.ndarray
    offsets: np.ndarray
    output_of_value: np.ndarray
    n_outputs: int
    boundary_offsets: np.ndarray
    boundaries: np.ndarray
    bucket_outputs: np.ndarray
    #: Why the cut stopped (one of ``STOP_REASONS``); None for buckets read from a model file
    #: written before it was kept.
    stop_reason: str | None = None

    @classmethod
    def from_engine(cls, fitted: dict, column_sizes: np.ndarray) -> Buckets:
        return cls(
            column_sizes=np.asarray(column_sizes, dtype=np.int64),
            offsets=fitted["offsets"],
            output_of_value=fitted["output_of_value"],
            n_outputs=int(fitted["n_outputs"]),
            boundary_offsets=fitted["boundary_offsets"],
            boundaries=fitted["boundaries"],
            bucket_outputs=fitted["bucket_outputs"],
            stop_reason=str(fitted["stop"]),
        )


#: Why a cut of buckets stops short of its budget: ``budget`` (it did not), ``penalty`` (the
#: best cut left gains less label information than the penalty asks), ``no gain`` (no cut left
#: gains any) or ``no cut`` (every value has its own bucket, or ``min_bucket_rows`` forbids more).
STOP_REASONS = ("budget", "penalty", "no gain", "no cut")


@dataclass(frozen=True)
class CompressionParams:
    """A compressor's parameters.

    They say how many features are kept apart, how the others are colored and how their codes
    are cut (``seed`` seeds the split's sample and the folds).
    """

    budget: int
    n_frequent: int | str
    selection_rows: int
    seed: int
    coloring: ColoringParams
    buckets: BucketParams
    #: How the features not kept apart become columns: ``"buckets"`` (colored, their codes cut
    #: into buckets), ``"hashed"`` (the hashing trick), or ``"auto"`` (chosen with the split).
    tail: str = "buckets"


@dataclass(frozen=True)
class HashedTail:
    """The hashing trick on the features not kept apart.

    Each feature of ``features`` (those seen in fit and not kept apart, most frequent first)
    adds ±1 to one of ``n_columns`` columns, by the engine's hash of its index under ``seed``;
    other features are ignored.
    """

    n_columns: int
    seed: int
    features: np.ndarray
    n_features: int

    @functools.cached_property
    def mask(self) -> np.ndarray:
        """Whether the tail hashes each feature, over all ``n_features``."""
        mask = np.zeros(self.n_features, dtype=bool)
        mask[self.features] = True
        return mask


@dataclass(frozen=True)
class CrossFitTables:
    """How to encode training rows without their own labels.

    The row numbered ``r`` (across the training rows, in order) is in fold
    ``row_folds(r, ...)`` (or the fold the in-memory fit drew for it), and its code values are
    bucketed by ``tables[fold]``, the buckets of the values as rated by the other folds.
    """

    seed: int
    tables: list


@dataclass(frozen=True)
class Compression:
    """A fitted compressor.

    It holds the features kept apart, and the coloring and the buckets of the others, or their
    hashed tail (all None when the kept features take the whole budget).
    """

    classes: np.ndarray
    n_features: int
    frequent: np.ndarray
    selection_scores: dict | None
    coloring: Coloring | None
    buckets: Buckets | None
    bucket_params: BucketParams
    seed: int
    cross_fit: CrossFitTables | None = None
    #: The hashed tail, when the features not kept apart are hashed (``coloring`` is then None).
    hashed: HashedTail | None = None


@dataclass(frozen=True)
class FitReport:
    """What the passes over the rows found."""

    rows: int
    non_zeros: int
    skipped_lines: int
    zero_based: bool
    #: Passes over the rows that counted the graph: more than one when sharded by a memory limit.
    graph_passes: int = 1
