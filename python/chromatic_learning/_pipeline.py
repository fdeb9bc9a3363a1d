"""The fit, one step after another, whatever the rows are.

The rows are a row source of ``_sources``: a matrix in memory, files, or the partitions of a
Dask cluster.

1. ``count_features``: the document frequency of every feature (and the label classes, and a
   sample of rows when the split of a budget is chosen on one);
2. ``frequent_features``: the features a compressor keeps as columns of their own (a hashed
   tail, the other choice of ``choose_split``, hashes the others and skips steps 3 to 7);
3. ``count_graph``: the feature pairs, shard by shard under a memory limit (one pass each);
4. ``finish_coloring``: the coloring of the graph, as tables per input feature;
5. ``count_values``: the label counts of every code value (per fold to cross-fit);
6. ``cut_buckets``: the submodular cut of the code values into a budget of buckets;
7. ``cross_fit_tables``: for each fold, the buckets of the values as rated by the other folds.

Each step takes counts and returns counts; the engine (``_core``) does the counting. The
results are plain tables (``Coloring``, ``Buckets``, ``Compression``), from which the
estimator modules build fitted estimators (``_encoder.set_coloring``,
``_submodular.set_buckets``, ``_compression.set_compression``).
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np

from . import _core
from ._encoding import compressed_rows
from ._sources import (
    CHOOSING_FEATURES,
    ChunkedRows,
    Kept,
    MatrixRows,
    Progress,
    RowSample,
    RowSource,
    SplitRows,
)
from ._tables import (
    BucketParams,
    Buckets,
    Coloring,
    ColoringParams,
    Compression,
    CompressionParams,
    CrossFitTables,
    FitReport,
    HashedTail,
)
from ._validation import check_label_classes, resolve_zero_based

# ----------------------------------------------------------------------------------------------
# The steps


@dataclass
class _Started:
    fit: _core.StreamingFit
    report: FitReport
    classes: np.ndarray
    sample: RowSample | None
    shift: int


def count_features(
    rows: RowSource, params: ColoringParams, *, labels=False, sample_size=None, seed=0
) -> _Started:
    """Step 1: the statistics of every feature, and the index base of the rows."""
    fit = _core.StreamingFit(**params.engine())
    first = rows.count_features(
        fit, labels=labels, sample_size=sample_size, seed=seed, n_jobs=params.n_jobs
    )
    zero_based = resolve_zero_based(rows.zero_based, first.min_index)
    shift = 0 if zero_based else 1
    if shift:
        fit.drop_leading_features(shift)
    report = FitReport(first.n_rows, first.non_zeros, first.skipped_lines, zero_based)
    return _Started(fit, report, first.classes, first.sample, shift)


def frequent_features(counts: np.ndarray, n_frequent: int) -> np.ndarray:
    """Step 2: pick the ``n_frequent`` most frequent features by ``counts``.

    Ties go to the smaller id; only features seen at all are picked.
    """
    order = np.lexsort((np.arange(len(counts)), -counts))
    return order[: min(n_frequent, int((counts > 0).sum()))].astype(np.int64)


def check_shards(rows: RowSource, params: ColoringParams) -> None:
    """Refuse a memory limit for rows whose pair counts cannot be made shard by shard."""
    if params.memory_limit is not None and not rows.supports_shards:
        raise ValueError(
            "memory_limit bounds a fit on one machine; on a cluster, the pairs a task "
            "counts are bounded by the workers' memory limits. Leave memory_limit as None."
        )


def count_graph(rows: RowSource, fit, kept: Kept, params: ColoringParams) -> int:
    """Step 3: count the pairs of the rows' kept entries, one pass per shard.

    Without a memory limit there is a single shard; with one, a pass of pair bounds plans the
    shards. Returns the number of passes that counted pairs.
    """
    limited = params.memory_limit is not None
    if limited:
        check_shards(rows, params)
        fit.check_memory_limit(params.memory_limit, n_jobs=params.n_jobs)
        rows.bound_pairs(fit, kept, params.n_jobs)
        fit.plan_shards(params.memory_limit, n_jobs=params.n_jobs)
    passes = 0
    while passes == 0 or not fit.graph_complete:
        passes += 1
        stage = "counting pairs" + (f" (pass {passes})" if limited else "")
        rows.count_pairs(fit, kept, stage, params.n_jobs)
        fit.end_shard(n_jobs=params.n_jobs)
    return passes


def finish_coloring(fit, n_features: int, params: ColoringParams) -> Coloring:
    """Step 4: the coloring of the counted graph.

    ``n_colors`` above the features seen gets a warning: they fill a color each at most, so
    the other colors stay empty.
    """
    fitted = fit.finish(n_jobs=params.n_jobs)
    if params.n_colors is not None:
        usable = int(fitted["n_vertices"]) + len(fitted["dense_features"])
        if params.n_colors > usable:
            warnings.warn(
                f"n_colors={params.n_colors} is more than the {usable} features seen in fit "
                f"can fill (a color each at most): {len(fitted['color_sizes'])} colors are used",
                UserWarning,
                stacklevel=4,
            )
    return Coloring(
        colors=fitted["colors"],
        codes=fitted["codes"],
        color_sizes=fitted["color_sizes"],
        document_frequency=fitted["document_frequency"],
        dense_features=fitted["dense_features"].astype(np.int64),
        n_edges=int(fitted["n_edges"]),
        max_degree=int(fitted["max_degree"]),
        n_greedy_colors=int(fitted["n_greedy_colors"]),
        conflict_weight=int(fitted["conflict_weight"]),
        n_features=int(n_features),
        collision=params.collision,
        n_jobs=params.n_jobs,
    )


def count_values(
    rows: RowSource, coloring: Coloring, kept: Kept, positive_class, n_folds: int, seed: int
) -> list:
    """Step 5: count the labels of every code value of the rows, one ``ValueCounts`` per fold."""
    return rows.count_values(
        coloring.encode, kept, positive_class, n_folds, seed, coloring.field_dims, coloring.n_jobs
    )


def added_up(counts: list, n_jobs: int | None):
    """Add up value counts into a new total; the parts stay as they were."""
    total = copy.copy(counts[0])
    for part in counts[1:]:
        total.merge(part, n_jobs=n_jobs)
    return total


def cut_buckets(total, column_sizes: np.ndarray, params: BucketParams) -> Buckets:
    """Step 6: the buckets of every code column, from the label counts of its values."""
    fitted = total.fit_buckets(**params.engine(), n_jobs=params.n_jobs)
    return Buckets.from_engine(fitted, column_sizes)


def cross_fit_tables(counts: list, total, buckets: Buckets, params: BucketParams) -> list:
    """Step 7: for each fold, place every value in an output column by its rate on the others.

    Values held by at least ``in_sample_rows`` rows keep their all-row bucket.
    """
    value_rows = total.value_rows
    tables = []
    for fold in range(len(counts)):
        others = added_up(
            [part for other, part in enumerate(counts) if other != fold], params.n_jobs
        )
        table = others.assign_buckets(
            buckets.boundary_offsets,
            buckets.boundaries,
            buckets.bucket_outputs,
            smoothing=float(params.smoothing),
        )
        if params.in_sample_rows is not None:
            table = np.where(value_rows >= params.in_sample_rows, buckets.output_of_value, table)
        tables.append(table.astype(np.int32))
    return tables


# ----------------------------------------------------------------------------------------------
# Whole fits


def fit_coloring(rows: RowSource, params: ColoringParams) -> tuple[Coloring, FitReport]:
    """Run steps 1, 3 and 4: color every feature of the rows."""
    check_shards(rows, params)
    started = count_features(rows, params)
    n_features = started.fit.n_features
    coloring, passes = color_graph(rows, started.fit, Kept(started.shift), n_features, params)
    return coloring, dataclasses.replace(started.report, graph_passes=passes)


def color_graph(
    rows: RowSource, fit, kept: Kept, n_features: int, params: ColoringParams
) -> tuple[Coloring, int]:
    """Run steps 3 and 4: the graph of the kept entries and its coloring, and the passes taken.

    Under a memory limit, memory the engine frees goes back to the kernel at once instead of
    after the allocator's delay, so that what one shard's counts held is not still held when
    the next shard counts or the coloring allocates (a fit of 300,000 rows under 250 MB peaked
    at 588-617 MB with the delay, 413-420 MB without).
    """
    limited = params.memory_limit is not None
    previous = _core.set_purge_delay(0) if limited else None
    try:
        passes = count_graph(rows, fit, kept, params)
        # One call of the engine: named as it starts, with nothing to count.
        rows.report("coloring", 0, None)
        return finish_coloring(fit, n_features, params), passes
    finally:
        if previous is not None:
            _core.set_purge_delay(previous)


def forecast_collisions(
    rows: ChunkedRows, params: ColoringParams, zero_based: bool
) -> tuple[int, int]:
    """Forecast the collisions of new rows: ``(collisions, rows)`` of held-out training rows.

    The coloring is fitted again, with the same parameters, on nine rows in ten (by a hash of
    their number), and the tenth are encoded with it: they stand for rows the model has never
    seen. The forecast is slightly pessimistic, the coloring having seen a tenth fewer rows.
    """
    fitted_on = SplitRows(rows, held_out=False, zero_based=zero_based, seed=params.seed)
    coloring, report = fit_coloring(fitted_on, params)
    kept = Kept(0 if report.zero_based else 1, width=coloring.n_features)
    collisions = n_rows = 0
    held_out = SplitRows(rows, held_out=True, zero_based=zero_based, seed=params.seed)
    for chunk in held_out.each_chunk("encoding held-out rows"):
        _, found, _ = coloring.encode_counted(*kept.entries(chunk), chunk.n_rows)
        collisions += found
        n_rows += chunk.n_rows
    return collisions, n_rows


def fit_buckets(
    rows: RowSource,
    coloring: Coloring,
    kept: Kept,
    classes,
    params: BucketParams,
    *,
    n_folds: int,
    seed: int,
) -> tuple[Buckets, list | None]:
    """Run steps 5 to 7 over the codes of ``coloring``: cut the buckets.

    With ``n_folds`` > 1, also return the cross-fit table of each fold.
    """
    counts = count_values(rows, coloring, kept, classes[1], n_folds, seed)
    rows.report("cutting buckets", 0, None)
    total = added_up(counts, params.n_jobs)
    buckets = cut_buckets(total, coloring.field_dims, params)
    tables = cross_fit_tables(counts, total, buckets, params) if n_folds > 1 else None
    return buckets, tables


def fit_compression(
    rows: RowSource, params: CompressionParams, *, cross_fit: bool = False
) -> tuple[Compression, FitReport]:
    """Run steps 1 to 7: the features kept apart, the coloring of the others, their buckets.

    With ``n_frequent="auto"``, the features kept apart are chosen on a sample.
    """
    check_shards(rows, params.coloring)
    auto = params.n_frequent == "auto"
    started = count_features(
        rows,
        params.coloring,
        labels=True,
        sample_size=int(params.selection_rows) if auto else None,
        seed=params.seed,
    )
    fit, shift = started.fit, started.shift
    check_label_classes(started.classes, complete=True)
    n_features = fit.n_features
    scores = None
    if auto:
        (n_frequent, tail), scores = choose_split(
            started.sample, started.classes, shift, n_features, params, progress=rows.report
        )
    else:
        n_frequent = int(min(params.n_frequent, params.budget))
        tail = "buckets" if params.tail == "auto" else params.tail
    frequent = frequent_features(fit.document_frequency, n_frequent)
    n_tail = int(params.budget) - len(frequent)
    tail_params = dataclasses.replace(params.buckets, budget=max(n_tail, 1))
    coloring = buckets = tables = hashed = None
    passes = 0
    if n_tail > 0 and tail == "hashed":
        # Hashed like the hashing trick, but only the features seen here and not kept apart (a
        # feature new in transform has no weight to share): those after the kept ones in the
        # ranking by frequency.
        ranked = frequent_features(fit.document_frequency, n_features)
        if len(ranked) > len(frequent):
            hashed = HashedTail(n_tail, int(params.seed), ranked[len(frequent) :], n_features)
    elif n_tail > 0:
        # Forgotten, the features kept apart are no vertex: the engine's graph passes skip them
        # in the rows as they come, with no filtered copy of every chunk.
        fit.forget_features(frequent)
        coloring, passes = color_graph(rows, fit, Kept(shift), n_features, params.coloring)
        buckets, tables = fit_buckets(
            rows,
            coloring,
            Kept(shift, width=n_features),
            started.classes,
            tail_params,
            n_folds=int(params.buckets.cv) if cross_fit else 1,
            seed=params.seed,
        )
    compression = Compression(
        classes=started.classes,
        n_features=n_features,
        frequent=frequent,
        selection_scores=scores,
        coloring=coloring,
        buckets=buckets,
        bucket_params=tail_params,
        seed=params.seed,
        cross_fit=None if tables is None else CrossFitTables(params.seed, tables),
        hashed=hashed,
    )
    return compression, dataclasses.replace(started.report, graph_passes=passes)


def choose_split(
    sample: RowSample,
    classes,
    shift: int,
    n_features: int,
    params: CompressionParams,
    *,
    progress: Progress | None = None,
) -> tuple[tuple[int, str], dict | None]:
    """Step 2 with ``n_frequent="auto"``: choose the split of the budget on the sample.

    Each candidate ``(n_frequent, tail)`` is fitted on three quarters of the sample and scored
    by the log loss of a logistic regression on the other quarter (``split_candidates`` and
    ``hashed_candidates`` say which). Returns the best candidate and the scores.

    ``progress`` is told of the candidates scored (a fit and a regression each) out of those
    planned: the splits with buckets first; then the total grows by the hashed tails, when the
    buckets' best calls for them, and by the two fits again on other rows that confirm a
    hashed tail's win.
    """
    rng = np.random.default_rng(params.seed)
    # The rows are drawn before their columns are shifted: the sample of a matrix in memory is
    # the whole matrix, which a column slice would copy.
    order = rng.permutation(sample.rows.shape[0])[: int(params.selection_rows)]
    B = sample.rows[order]
    if shift:
        B = B[:, shift:]
    B.resize((B.shape[0], n_features))
    y = (sample.labels[order] == classes[1]).astype(np.int64)
    n, cut = len(order), (3 * len(order)) // 4
    # The last quarter scores every candidate (fitted on the rows before it); the first quarter
    # replicates a hashed tail's win (fitted on the rows after it).
    held_out = [(slice(0, cut), slice(cut, n)), (slice(n - cut, n), slice(0, n - cut))]
    first_tail = "hashed" if params.tail == "hashed" else "buckets"
    if not both_classes(y, *held_out[0]):
        return (0, first_tail), None
    budget = int(params.budget)
    parts = {}
    scored = Scored(progress, len(split_candidates(budget)))

    def row_losses(n_frequent: int, tail: str, split: int) -> np.ndarray:
        fit, val = held_out[split]
        if split not in parts:
            folds = stratified_folds(y[fit], int(params.buckets.cv), True, params.seed)
            parts[split] = (B[fit], y[fit], folds, B[val], y[val])
        B_fit, y_fit, folds, B_val, y_val = parts[split]
        candidate = dataclasses.replace(params, n_frequent=n_frequent, tail=tail)
        rows = MatrixRows.of_matrix(B_fit, y_fit, fold_of_rows=folds)
        compression, _ = fit_compression(rows, candidate, cross_fit=True)
        Z_fit = compressed_rows(compression, B_fit, folds)
        Z_val = compressed_rows(compression, B_val)
        candidate_losses = validation_row_losses(Z_fit, y_fit, Z_val, y_val)
        scored.one_more()
        return candidate_losses

    losses = {(k, first_tail): row_losses(k, first_tail, 0) for k in split_candidates(budget)}
    # Ties go to fewer features kept apart.
    best = min(losses, key=lambda k: (losses[k].mean(), k[0]))
    if params.tail == "auto":
        hashed = hashed_candidates(budget, best[0])
        scored.plan(len(hashed))
        losses.update({(k, "hashed"): row_losses(k, "hashed", 0) for k in hashed})
        if hashed:
            challenger = min(
                ((k, "hashed") for k in hashed), key=lambda k: (losses[k].mean(), k[0])
            )
            # A hashed tail replaces the buckets on evidence, not on a tie the sample's noise
            # broke: lower by a standard error on the held-out quarter and, with the two fitted
            # again on other rows, on that quarter and another one together.
            if clearly_lower(losses[challenger], losses[best]) and both_classes(y, *held_out[1]):
                scored.plan(2)
                again = [row_losses(*c, 1) for c in (challenger, best)]
                if clearly_lower(
                    np.concatenate([losses[challenger], again[0]]),
                    np.concatenate([losses[best], again[1]]),
                ):
                    best = challenger
    return best, {k: float(v.mean()) for k, v in losses.items()}


class Scored:
    """The candidates of ``choose_split`` scored, out of those planned, told to ``progress``."""

    def __init__(self, progress: Progress | None, planned: int):
        self.progress = progress
        self.planned = planned
        self.done = 0
        self.tell()

    def plan(self, more: int) -> None:
        """Plan ``more`` candidates to score."""
        if more:
            self.planned += more
            self.tell()

    def one_more(self) -> None:
        """Count one more candidate scored."""
        self.done += 1
        self.tell()

    def tell(self) -> None:
        if self.progress is not None:
            self.progress(CHOOSING_FEATURES, self.done, self.planned)


def both_classes(y: np.ndarray, fit: slice, val: slice) -> bool:
    """Whether the labels ``y`` of the rows ``fit`` and of the rows ``val`` hold both classes."""
    return len(np.unique(y[fit])) == 2 and len(np.unique(y[val])) == 2


def split_candidates(budget: int) -> list[int]:
    """Return the numbers of features kept apart that ``n_frequent="auto"`` scores.

    From none (every column a bucket) to the whole budget: frequency truncation, which needs no
    coloring and wins on tables whose frequent values carry the signal, so the compressor
    matches it there.
    """
    return sorted({0, budget // 4, budget // 2, (3 * budget) // 4, budget - budget // 16, budget})


def hashed_candidates(budget: int, best_kept: int) -> list[int]:
    """Return the splits scored with a hashed tail, after the buckets' best kept ``best_kept``.

    A hashed tail keeps each feature's identity where a bucket pools features by rate: on
    multi-hot rows of ids whose effects add up (ratings by user and film) a weight per feature,
    learned with the others, beats a shared rate. The buckets' candidates say when weights of
    their own pay: their best keeps at least half of the budget apart. Only then are a quarter
    and a half of the budget kept apart, the rest hashed, scored too.
    """
    if best_kept < budget // 2:
        return []
    return sorted({budget // 4, budget // 2} - {0, budget})


def clearly_lower(challenger: np.ndarray, incumbent: np.ndarray) -> bool:
    """Whether the row losses ``challenger`` are lower than ``incumbent``'s beyond noise.

    The mean paired difference must stay below zero by one standard error (the "one standard
    error" rule of model selection).
    """
    difference = challenger - incumbent
    return bool(difference.mean() + difference.std(ddof=1) / np.sqrt(len(difference)) < 0)


#: The gradient tolerance of the choice's regressions. Candidates are compared, not deployed:
#: at 3e-4, half the iterations of scikit-learn's 1e-4, a score moves by a few 1e-4 of log loss,
#: less than the gaps between the candidates a choice depends on.
SELECTION_TOL = 3e-4


def validation_row_losses(Z_fit, y_fit: np.ndarray, Z_val, y_val: np.ndarray) -> np.ndarray:
    """Log loss of each row of ``(Z_val, y_val)``, by a regression fitted on ``(Z_fit, y_fit)``."""
    from sklearn.linear_model import LogisticRegression

    if Z_fit.shape[1] == 0:
        # No column at all (no feature kept apart, no bucket worth its column): the model can
        # only predict the base rate.
        p = np.full(len(y_val), y_fit.mean())
    else:
        # Columns of small whole numbers lose nothing in float32, and the products take less
        # time.
        model = LogisticRegression(max_iter=300, tol=SELECTION_TOL).fit(
            Z_fit.astype(np.float32), y_fit
        )
        p = model.predict_proba(Z_val.astype(np.float32))[:, 1].astype(np.float64)
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return -(y_val * np.log(p) + (1 - y_val) * np.log(1 - p))


def stratified_folds(labels: np.ndarray, n_folds: int, shuffle: bool, random_state) -> np.ndarray:
    """Draw the fold of every row in a stratified split (scikit-learn's ``StratifiedKFold``)."""
    from sklearn.model_selection import StratifiedKFold

    split = StratifiedKFold(
        n_splits=n_folds, shuffle=shuffle, random_state=random_state if shuffle else None
    )
    folds = np.empty(len(labels), dtype=np.int64)
    for fold, (_, test) in enumerate(split.split(np.zeros(len(labels)), labels)):
        folds[test] = fold
    return folds
