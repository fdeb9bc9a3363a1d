//! The greedy cut: buckets chosen across all columns by their gain in label information.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ops::Range;

use rayon::prelude::*;

use super::stats::{ValueStats, weighted_entropy};
use super::tables::RateBuckets;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;

/// A column's seen values in rate order, with prefix sums of rows and positives.
struct SortedColumn {
    values: Vec<u32>,
    rows_before: Vec<f64>,
    positives_before: Vec<f64>,
}

impl SortedColumn {
    fn new(stats: &ValueStats, j: usize, prior_rate: f64, smoothing: f64) -> Self {
        let range = stats.column(j);
        let rows = &stats.rows[range.clone()];
        let positives = &stats.positives[range];
        // The absent value always takes part, so that unseen values have a bucket to join.
        let mut values: Vec<u32> = (0..rows.len() as u32)
            .filter(|&v| v == 0 || rows[v as usize] > 0)
            .collect();
        let rate = |v: u32| {
            let (n, p) = (
                f64::from(rows[v as usize]),
                f64::from(positives[v as usize]),
            );
            (p + smoothing * prior_rate) / (n + smoothing)
        };
        values.sort_unstable_by(|&a, &b| rate(a).total_cmp(&rate(b)).then(a.cmp(&b)));
        let mut rows_before = Vec::with_capacity(values.len() + 1);
        let mut positives_before = Vec::with_capacity(values.len() + 1);
        let (mut n, mut p) = (0.0, 0.0);
        rows_before.push(0.0);
        positives_before.push(0.0);
        for &v in &values {
            n += f64::from(rows[v as usize]);
            p += f64::from(positives[v as usize]);
            rows_before.push(n);
            positives_before.push(p);
        }
        SortedColumn {
            values,
            rows_before,
            positives_before,
        }
    }

    /// The smoothed rate of the value at `position` in rate order.
    fn rate(&self, position: usize, prior_rate: f64, smoothing: f64) -> f64 {
        let n = self.rows_before[position + 1] - self.rows_before[position];
        let p = self.positives_before[position + 1] - self.positives_before[position];
        (p + smoothing * prior_rate) / (n + smoothing)
    }

    fn entropy(&self, range: Range<usize>) -> f64 {
        let n = self.rows_before[range.end] - self.rows_before[range.start];
        let p = self.positives_before[range.end] - self.positives_before[range.start];
        weighted_entropy(n, p)
    }

    fn rows(&self, range: Range<usize>) -> f64 {
        self.rows_before[range.end] - self.rows_before[range.start]
    }

    /// The cut of `range` with the largest entropy decrease whose sides both hold at least
    /// `min_rows` rows, as (gain, cut position).
    fn best_cut(&self, range: Range<usize>, min_rows: f64) -> Option<(f64, usize)> {
        let whole = self.entropy(range.clone());
        (range.start + 1..range.end)
            .filter(|&s| {
                self.rows(range.start..s) >= min_rows && self.rows(s..range.end) >= min_rows
            })
            .map(|s| {
                (
                    whole - self.entropy(range.start..s) - self.entropy(s..range.end),
                    s,
                )
            })
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
    }
}

/// A candidate cut in the global heap: larger gain first, then smaller column and position.
struct Candidate {
    gain: f64,
    column: usize,
    range: Range<usize>,
    cut: usize,
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.gain
            .total_cmp(&other.gain)
            .then(other.column.cmp(&self.column))
            .then(other.range.start.cmp(&self.range.start))
    }
}

/// Gains below this (in nats over all rows) are rounding noise, not information.
const MIN_GAIN: f64 = 1e-9;

/// Why the greedy cut stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutStop {
    /// Every output column of the budget is used.
    Budget,
    /// The best cut left gains less label information than the penalty asks.
    Penalty,
    /// No cut left gains any: the values left together have one rate.
    NoGain,
    /// No cut is left: every value has a bucket of its own, or `min_bucket_rows` forbids more.
    NoCut,
}

impl CutStop {
    /// The reason's name, as the Python estimators report it.
    pub fn name(self) -> &'static str {
        match self {
            CutStop::Budget => "budget",
            CutStop::Penalty => "penalty",
            CutStop::NoGain => "no gain",
            CutStop::NoCut => "no cut",
        }
    }
}

/// The fitted compression: for every (column, value), its output column or -1 for the
/// column's reference bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Buckets {
    /// Values of column `j` are at `offsets[j]..offsets[j + 1]` of `output_of_value`.
    pub offsets: Vec<i64>,
    /// The output column of every (column, value), -1 for the reference bucket.
    pub output_of_value: Vec<i32>,
    /// Output columns in all.
    pub n_outputs: usize,
    /// The same buckets as intervals of rates, to place values by rates measured on other rows.
    pub by_rate: RateBuckets,
    /// Why no more columns were cut.
    pub stop: CutStop,
}

/// What `fit_buckets` aims for.
pub struct BucketParams {
    /// Output columns at most.
    pub budget: usize,
    /// Pseudo-rows at the overall rate added to each value when ordering values by rate.
    pub smoothing: f64,
    /// Rows a bucket must hold at least.
    pub min_bucket_rows: u32,
    /// Smallest gain (nats of label information over all rows) a cut must bring: with
    /// `penalty` λ, `λ·ln(n_rows)/2`, the Bayesian information criterion's price of one more
    /// parameter when λ = 1. Without it, cuts among rare values keep "gaining" on noise.
    pub penalty: f64,
}

/// Chooses the cuts greedily across all columns until `budget` output columns exist or no cut
/// gains information.
///
/// # Examples
///
/// ```
/// use chromatic_core::{BucketParams, CodeMatrix, Interrupt, ValueStats, fit_buckets};
///
/// // One code column with values 0..3: value 1 always comes with a positive label, 2 never.
/// let codes = [1, 2, 1, 2, 0, 1];
/// let labels = [true, false, true, false, false, true];
/// let codes = CodeMatrix::new(&codes, 6, 1)?;
/// let stats = ValueStats::from_codes(&codes, &labels, None, &[3], Interrupt::never())?;
/// let params = BucketParams { budget: 1, smoothing: 0.0, min_bucket_rows: 1, penalty: 0.0 };
/// let buckets = fit_buckets(&stats, &params, Interrupt::never())?;
/// assert_eq!(buckets.n_outputs, 1);
/// // Value 1 gets the output column; 0 and 2 share the reference bucket.
/// assert_eq!(buckets.output_of_value, [-1, 0, -1]);
/// # Ok::<(), chromatic_core::Error>(())
/// ```
// One greedy loop over the heap of candidate cuts, clearer whole than cut in pieces.
#[allow(clippy::too_many_lines)]
pub fn fit_buckets(
    stats: &ValueStats,
    params: &BucketParams,
    interrupt: Interrupt<'_>,
) -> Result<Buckets> {
    if params.budget == 0 || params.budget > i32::MAX as usize {
        return Err(Error::InvalidParameter(format!(
            "budget must be in [1, {}], got {}",
            i32::MAX,
            params.budget
        )));
    }
    if !(params.penalty >= 0.0 && params.penalty.is_finite()) {
        return Err(Error::InvalidParameter(format!(
            "penalty must be finite and >= 0, got {}",
            params.penalty
        )));
    }
    let min_gain = MIN_GAIN.max(params.penalty * 0.5 * (stats.n_rows.max(1) as f64).ln());
    if !(params.smoothing >= 0.0 && params.smoothing.is_finite()) {
        return Err(Error::InvalidParameter(format!(
            "smoothing must be finite and >= 0, got {}",
            params.smoothing
        )));
    }
    let prior_rate = if stats.n_rows > 0 {
        stats.n_positives as f64 / stats.n_rows as f64
    } else {
        0.5
    };
    let min_rows = f64::from(params.min_bucket_rows.max(1));
    let columns: Vec<SortedColumn> = (0..stats.n_columns())
        .into_par_iter()
        .map(|j| SortedColumn::new(stats, j, prior_rate, params.smoothing))
        .collect();
    interrupt.check()?;
    let mut heap: BinaryHeap<Candidate> = columns
        .par_iter()
        .enumerate()
        .filter_map(|(j, col)| {
            let range = 0..col.values.len();
            col.best_cut(range.clone(), min_rows)
                .map(|(gain, cut)| Candidate {
                    gain,
                    column: j,
                    range,
                    cut,
                })
        })
        .collect::<Vec<_>>()
        .into();
    // Cut positions chosen in each column.
    let mut cuts: Vec<Vec<usize>> = vec![Vec::new(); columns.len()];
    let mut n_cuts = 0;
    let mut stop = CutStop::Budget;
    while n_cuts < params.budget {
        let Some(best) = heap.pop() else {
            stop = CutStop::NoCut;
            break;
        };
        if best.gain <= min_gain {
            stop = if best.gain <= MIN_GAIN {
                CutStop::NoGain
            } else {
                CutStop::Penalty
            };
            break;
        }
        if n_cuts % 1024 == 0 {
            interrupt.check()?;
        }
        cuts[best.column].push(best.cut);
        n_cuts += 1;
        let col = &columns[best.column];
        for range in [best.range.start..best.cut, best.cut..best.range.end] {
            if let Some((gain, cut)) = col.best_cut(range.clone(), min_rows) {
                heap.push(Candidate {
                    gain,
                    column: best.column,
                    range,
                    cut,
                });
            }
        }
    }
    // Number the buckets: column by column, in rate order, skipping each reference bucket.
    let mut output_of_value = vec![-1i32; stats.rows.len()];
    let mut n_outputs = 0usize;
    let mut by_rate = RateBuckets {
        boundary_offsets: vec![0],
        boundaries: Vec::new(),
        outputs: Vec::new(),
    };
    for (j, col) in columns.iter().enumerate() {
        let mut bounds = cuts[j].clone();
        bounds.sort_unstable();
        bounds.insert(0, 0);
        bounds.push(col.values.len());
        let n_buckets = bounds.len() - 1;
        let bucket_of = |position: usize| bounds.partition_point(|&b| b <= position) - 1;
        let absent_position = col
            .values
            .iter()
            .position(|&v| v == 0)
            .expect("the absent value always takes part");
        let reference = bucket_of(absent_position);
        let output_of_bucket = |bucket: usize| -> i32 {
            match bucket.cmp(&reference) {
                Ordering::Less => (n_outputs + bucket) as i32,
                Ordering::Equal => -1,
                Ordering::Greater => (n_outputs + bucket - 1) as i32,
            }
        };
        for (position, &v) in col.values.iter().enumerate() {
            output_of_value[stats.offsets[j] + v as usize] = output_of_bucket(bucket_of(position));
        }
        for &cut in &bounds[1..n_buckets] {
            let below = col.rate(cut - 1, prior_rate, params.smoothing);
            let above = col.rate(cut, prior_rate, params.smoothing);
            by_rate.boundaries.push(0.5 * (below + above));
        }
        by_rate
            .boundary_offsets
            .push(by_rate.boundaries.len() as i64);
        by_rate.outputs.extend((0..n_buckets).map(output_of_bucket));
        n_outputs += n_buckets - 1;
    }
    Ok(Buckets {
        offsets: stats.offsets.iter().map(|&o| o as i64).collect(),
        output_of_value,
        n_outputs,
        by_rate,
        stop,
    })
}
