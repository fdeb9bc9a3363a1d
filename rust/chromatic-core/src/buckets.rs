//! Submodular feature compression (Bateni et al., 2019): every code column's values are sorted by
//! their rate of positive labels and cut into contiguous buckets, the cuts chosen greedily across
//! all columns by their gain in mutual information with the label, until the buckets make up the
//! budget of output columns. The bucket holding a column's "absent" value 0 is its reference
//! level and gets no output column, so each cut adds exactly one.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ops::Range;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, POLL_INTERVAL};
use crate::matrix::{CodeMatrix, SparseRows};
use crate::parallel::{balanced_blocks, parallel_blocks};
use crate::parallel::{concat, filled, split_mut, try_map_blocks};
use crate::statistics::MAX_ROWS;

fn negative_code(row: usize, column: usize, code: i32) -> Error {
    Error::NegativeCode {
        row,
        column,
        code: i64::from(code),
    }
}

/// For every (column, value): how many rows hold it, and how many of those are positive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueStats {
    offsets: Vec<usize>,
    rows: Vec<u32>,
    positives: Vec<u32>,
    n_rows: u64,
    n_positives: u64,
}

impl ValueStats {
    /// No rows yet over columns where column `j` takes values `0..column_sizes[j]`.
    pub fn zeros(column_sizes: &[usize]) -> Result<Self> {
        let mut offsets = Vec::with_capacity(column_sizes.len() + 1);
        offsets.push(0usize);
        for &size in column_sizes {
            offsets.push(offsets[offsets.len() - 1] + size);
        }
        let n_values = offsets[column_sizes.len()];
        Ok(ValueStats {
            offsets,
            rows: filled(n_values, 0, "value counts")?,
            positives: filled(n_values, 0, "value counts")?,
            n_rows: 0,
            n_positives: 0,
        })
    }

    /// Counts over the rows of `codes` with `use_row[r]` (all rows when `None`). Column `j`
    /// takes values `0..column_sizes[j]`; a larger value is an error.
    pub fn from_codes(
        codes: &CodeMatrix<'_>,
        labels: &[bool],
        use_row: Option<&[bool]>,
        column_sizes: &[usize],
        interrupt: Interrupt<'_>,
    ) -> Result<Self> {
        let mut stats = ValueStats::zeros(column_sizes)?;
        stats.add_codes(codes, labels, use_row, interrupt)?;
        Ok(stats)
    }

    /// Adds the rows of `codes` with `use_row[r]` (all rows when `None`): a stream of chunks
    /// counts as the rows all at once. On error, nothing is added.
    pub fn add_codes(
        &mut self,
        codes: &CodeMatrix<'_>,
        labels: &[bool],
        use_row: Option<&[bool]>,
        interrupt: Interrupt<'_>,
    ) -> Result<()> {
        if labels.len() != codes.n_rows() || use_row.is_some_and(|u| u.len() != codes.n_rows()) {
            return Err(Error::LengthMismatch {
                what: "labels (and row selection)",
                len: labels.len(),
                expected_from: "codes (rows)",
                expected: codes.n_rows(),
            });
        }
        if self.n_columns() != codes.n_columns() {
            return Err(Error::LengthMismatch {
                what: "column_sizes",
                len: self.n_columns(),
                expected_from: "codes (columns)",
                expected: codes.n_columns(),
            });
        }
        let selected = |r: usize| use_row.is_none_or(|u| u[r]);
        let (mut n_rows, mut n_positives) = (0u64, 0u64);
        for r in (0..codes.n_rows()).filter(|&r| selected(r)) {
            n_rows += 1;
            n_positives += u64::from(labels[r]);
        }
        if self.n_rows + n_rows > MAX_ROWS {
            return Err(Error::TooManyRows {
                n_rows: self.n_rows + n_rows,
                limit: MAX_ROWS,
            });
        }
        let offsets = &self.offsets;
        let size = |j: usize| offsets[j + 1] - offsets[j];
        // Checked first, so that an error leaves the counts as they were.
        let blocks = balanced_blocks(codes.n_rows(), parallel_blocks(), |r| r);
        try_map_blocks(blocks, |rows| {
            for r in rows.filter(|&r| selected(r)) {
                if r % POLL_INTERVAL == 0 {
                    interrupt.check()?;
                }
                for (j, &code) in codes.row(r).iter().enumerate() {
                    if code < 0 {
                        return Err(negative_code(r, j, code));
                    }
                    if code as usize >= size(j) {
                        return Err(Error::CodeOutOfRange {
                            row: r,
                            color: j,
                            code: i64::from(code),
                            size: size(j).saturating_sub(1),
                        });
                    }
                }
            }
            Ok(())
        })?;
        // Parallel over columns, each block adding to its part of the tables while reading its
        // part of every row: no per-thread copies of the (possibly huge) tables, and no
        // dependence on the thread count.
        let blocks = balanced_blocks(codes.n_columns(), parallel_blocks(), |j| offsets[j] + j);
        let lengths: Vec<usize> = blocks
            .iter()
            .map(|c| offsets[c.end] - offsets[c.start])
            .collect();
        let row_parts = split_mut(&mut self.rows, lengths.iter().copied());
        let positive_parts = split_mut(&mut self.positives, lengths.iter().copied());
        blocks
            .into_par_iter()
            .zip(row_parts)
            .zip(positive_parts)
            .try_for_each(|((columns, rows_out), positives_out)| {
                let base = offsets[columns.start];
                for (r, &label) in labels.iter().enumerate() {
                    if r % POLL_INTERVAL == 0 {
                        interrupt.check()?;
                    }
                    if !selected(r) {
                        continue;
                    }
                    let row = &codes.row(r)[columns.clone()];
                    for (k, &code) in row.iter().enumerate() {
                        let slot = offsets[columns.start + k] + code as usize - base;
                        rows_out[slot] += 1;
                        positives_out[slot] += u32::from(label);
                    }
                }
                Ok::<(), Error>(())
            })?;
        self.n_rows += n_rows;
        self.n_positives += n_positives;
        Ok(())
    }

    /// Adds the counts of other rows over the same columns.
    pub fn merge(&mut self, other: &ValueStats) -> Result<()> {
        if other.offsets != self.offsets {
            return Err(Error::InvalidParameter(
                "merged value counts are over other columns".into(),
            ));
        }
        if self.n_rows + other.n_rows > MAX_ROWS {
            return Err(Error::TooManyRows {
                n_rows: self.n_rows + other.n_rows,
                limit: MAX_ROWS,
            });
        }
        for (mine, theirs) in [
            (&mut self.rows, &other.rows),
            (&mut self.positives, &other.positives),
        ] {
            mine.par_iter_mut()
                .zip(theirs.par_iter())
                .for_each(|(a, b)| *a += b);
        }
        self.n_rows += other.n_rows;
        self.n_positives += other.n_positives;
        Ok(())
    }

    /// The counts as plain parts: value sizes of the columns, rows and positive rows of each
    /// value, and the totals (to move them between processes).
    pub fn parts(&self) -> (Vec<usize>, &[u32], &[u32], u64, u64) {
        let sizes = self.offsets.windows(2).map(|w| w[1] - w[0]).collect();
        (
            sizes,
            &self.rows,
            &self.positives,
            self.n_rows,
            self.n_positives,
        )
    }

    /// The counts from `parts`, checked to be counts of `n_rows` rows.
    pub fn from_parts(
        column_sizes: &[usize],
        rows: Vec<u32>,
        positives: Vec<u32>,
        n_rows: u64,
        n_positives: u64,
    ) -> Result<Self> {
        let mut stats = ValueStats::zeros(column_sizes)?;
        if rows.len() != stats.rows.len() || positives.len() != stats.rows.len() {
            return Err(Error::LengthMismatch {
                what: "value counts",
                len: rows.len().max(positives.len()),
                expected_from: "column_sizes",
                expected: stats.rows.len(),
            });
        }
        let consistent = n_positives <= n_rows
            && n_rows <= MAX_ROWS
            && rows
                .iter()
                .zip(&positives)
                .all(|(&r, &p)| p <= r && u64::from(r) <= n_rows);
        if !consistent {
            return Err(Error::InvalidParameter(
                "value counts exceed their rows or hold more positives than rows".into(),
            ));
        }
        (stats.rows, stats.positives) = (rows, positives);
        (stats.n_rows, stats.n_positives) = (n_rows, n_positives);
        Ok(stats)
    }

    /// Rows holding each value, column after column.
    pub fn value_rows(&self) -> &[u32] {
        &self.rows
    }

    pub fn n_columns(&self) -> usize {
        self.offsets.len() - 1
    }

    fn column(&self, j: usize) -> Range<usize> {
        self.offsets[j]..self.offsets[j + 1]
    }
}

/// Binary entropy of a bucket times its row count, in nats: the label information the bucket
/// leaves unexplained.
#[inline]
fn weighted_entropy(rows: f64, positives: f64) -> f64 {
    let term = |k: f64| if k > 0.0 { k * (k / rows).ln() } else { 0.0 };
    -(term(positives) + term(rows - positives))
}

/// The positive rate of a value seen in `rows` rows, `positives` of them positive, pulled
/// towards `prior_rate` by `smoothing` pseudo-rows (an m-estimate).
#[inline]
fn smoothed_rate(rows: u32, positives: u32, prior_rate: f64, smoothing: f64) -> f64 {
    (f64::from(positives) + smoothing * prior_rate) / (f64::from(rows) + smoothing)
}

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

/// The fitted compression: for every (column, value), its output column or -1 for the
/// column's reference bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Buckets {
    /// Values of column `j` are at `offsets[j]..offsets[j + 1]` of `output_of_value`.
    pub offsets: Vec<i64>,
    pub output_of_value: Vec<i32>,
    pub n_outputs: usize,
    /// The same buckets as intervals of rates, to place values by rates measured on other rows.
    pub by_rate: RateBuckets,
}

/// Buckets as intervals of the (smoothed) positive rate: column `j`'s buckets are separated by
/// the ascending `boundaries[boundary_offsets[j]..boundary_offsets[j + 1]]`, and its bucket `b`
/// is output column `outputs[boundary_offsets[j] + j + b]` (-1 for the reference bucket).
#[derive(Clone, Debug, PartialEq)]
pub struct RateBuckets {
    pub boundary_offsets: Vec<i64>,
    pub boundaries: Vec<f64>,
    pub outputs: Vec<i32>,
}

pub struct BucketParams {
    /// Output columns at most.
    pub budget: usize,
    /// Pseudo-rows at the overall rate added to each value when ordering values by rate.
    pub smoothing: f64,
    /// Rows a bucket must hold at least.
    pub min_bucket_rows: u32,
    /// Smallest gain (nats of label information over all rows) a cut must bring: with
    /// `penalty` λ, λ·ln(n_rows)/2, the Bayesian information criterion's price of one more
    /// parameter when λ = 1. Without it, cuts among rare values keep "gaining" on noise.
    pub penalty: f64,
}

/// Chooses the cuts greedily across all columns until `budget` output columns exist or no cut
/// gains information.
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
    while n_cuts < params.budget {
        let Some(best) = heap.pop() else { break };
        if best.gain <= min_gain {
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
    })
}

impl RateBuckets {
    /// An output column for every value, placing each by its rate in `stats` (typically rows
    /// other than those to be encoded). The absent value and values `stats` never saw go to the
    /// reference bucket.
    pub fn assign(&self, stats: &ValueStats, smoothing: f64) -> Result<Vec<i32>> {
        let n_columns = stats.n_columns();
        if self.boundary_offsets.len() != n_columns + 1
            || self.outputs.len() != self.boundaries.len() + n_columns
        {
            return Err(Error::InvalidModel(
                "rate buckets do not match the code columns".into(),
            ));
        }
        let prior_rate = if stats.n_rows > 0 {
            stats.n_positives as f64 / stats.n_rows as f64
        } else {
            0.5
        };
        let mut output_of_value = vec![-1i32; stats.rows.len()];
        for j in 0..n_columns {
            let (start, end) = (
                self.boundary_offsets[j] as usize,
                self.boundary_offsets[j + 1] as usize,
            );
            let boundaries = self
                .boundaries
                .get(start..end)
                .ok_or_else(|| Error::InvalidModel("rate bucket offsets out of range".into()))?;
            let outputs = &self.outputs[start + j..end + j + 1];
            for v in 1..stats.offsets[j + 1] - stats.offsets[j] {
                let k = stats.offsets[j] + v;
                if stats.rows[k] == 0 {
                    continue;
                }
                let rate = smoothed_rate(stats.rows[k], stats.positives[k], prior_rate, smoothing);
                output_of_value[k] = outputs[boundaries.partition_point(|&t| t <= rate)];
            }
        }
        Ok(output_of_value)
    }
}

impl Buckets {
    pub fn tables(&self) -> BucketTables<'_> {
        BucketTables {
            offsets: &self.offsets,
            output_of_value: &self.output_of_value,
            n_outputs: self.n_outputs,
        }
    }
}

/// Borrowed bucket tables, as a transform receives them from a saved model.
#[derive(Clone, Copy, Debug)]
pub struct BucketTables<'a> {
    offsets: &'a [i64],
    output_of_value: &'a [i32],
    n_outputs: usize,
}

impl<'a> BucketTables<'a> {
    /// Checks that the offsets cut `output_of_value` into columns and that every entry is a
    /// reference (-1) or an output column below `n_outputs`.
    pub fn new(offsets: &'a [i64], output_of_value: &'a [i32], n_outputs: usize) -> Result<Self> {
        let valid_offsets = offsets.first() == Some(&0)
            && offsets.windows(2).all(|w| w[0] <= w[1])
            && offsets.last() == Some(&(output_of_value.len() as i64));
        if !valid_offsets {
            return Err(Error::InvalidModel(
                "bucket offsets must rise from 0 to the number of values".into(),
            ));
        }
        if let Some(bad) = output_of_value
            .iter()
            .find(|&&o| o < -1 || o as i64 >= n_outputs as i64)
        {
            return Err(Error::InvalidModel(format!(
                "bucket table holds output column {bad}, outside [-1, {n_outputs})"
            )));
        }
        Ok(BucketTables {
            offsets,
            output_of_value,
            n_outputs,
        })
    }

    pub fn n_columns(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    /// One-hot bucket columns of every row (at most one per code column, ascending). Values the
    /// fit never saw, including values beyond a column's size, fall into the reference bucket.
    pub fn transform(
        &self,
        codes: &CodeMatrix<'_>,
        interrupt: Interrupt<'_>,
    ) -> Result<SparseRows> {
        if codes.n_columns() != self.n_columns() {
            return Err(Error::LengthMismatch {
                what: "code columns",
                len: codes.n_columns(),
                expected_from: "the fitted compressor",
                expected: self.n_columns(),
            });
        }
        let blocks = balanced_blocks(codes.n_rows(), parallel_blocks(), |r| r);
        let parts = try_map_blocks(blocks, |rows| {
            let mut lengths = Vec::with_capacity(rows.len());
            let mut indices: Vec<i64> = Vec::new();
            for r in rows.clone() {
                if (r - rows.start) % POLL_INTERVAL == 0 {
                    interrupt.check()?;
                }
                let before = indices.len();
                for (j, &code) in codes.row(r).iter().enumerate() {
                    if code < 0 {
                        return Err(negative_code(r, j, code));
                    }
                    let (start, end) = (self.offsets[j] as usize, self.offsets[j + 1] as usize);
                    if (code as usize) < end - start {
                        let output = self.output_of_value[start + code as usize];
                        if output >= 0 {
                            indices.push(i64::from(output));
                        }
                    }
                }
                lengths.push(indices.len() - before);
            }
            Ok((lengths, indices))
        })?;
        let mut indptr = Vec::with_capacity(codes.n_rows() + 1);
        indptr.push(0i64);
        for (lengths, _) in &parts {
            for &len in lengths {
                indptr.push(indptr[indptr.len() - 1] + len as i64);
            }
        }
        Ok(SparseRows {
            indptr,
            indices: concat(parts.iter().map(|p| p.1.as_slice())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(codes: &[i32], n_columns: usize, labels: &[bool], sizes: &[usize]) -> ValueStats {
        let m = CodeMatrix::new(codes, labels.len(), n_columns).unwrap();
        ValueStats::from_codes(&m, labels, None, sizes, Interrupt::never()).unwrap()
    }

    fn params(budget: usize) -> BucketParams {
        BucketParams {
            budget,
            smoothing: 0.0,
            min_bucket_rows: 1,
            penalty: 0.0,
        }
    }

    #[test]
    fn counts_rows_and_positives_per_value() {
        let s = stats(&[1, 0, 2, 0, 1, 1], 2, &[true, false, true], &[3, 2]);
        assert_eq!(s.rows, vec![0, 2, 1, 2, 1]);
        assert_eq!(s.positives, vec![0, 2, 0, 1, 1]);
        assert_eq!((s.n_rows, s.n_positives), (3, 2));
        let m = CodeMatrix::new(&[0, 5], 1, 2).unwrap();
        let err =
            ValueStats::from_codes(&m, &[true], None, &[3, 2], Interrupt::never()).unwrap_err();
        assert!(matches!(
            err,
            Error::CodeOutOfRange {
                row: 0,
                color: 1,
                code: 5,
                ..
            }
        ));
    }

    #[test]
    fn chunks_and_merges_count_as_the_rows_at_once() {
        let codes = [1, 0, 2, 0, 1, 1, 2, 1];
        let labels = [true, false, true, false];
        let whole = stats(&codes, 2, &labels, &[3, 2]);
        let mut chunked = ValueStats::zeros(&[3, 2]).unwrap();
        for (rows, chunk_labels) in [(0..2, &labels[..2]), (2..4, &labels[2..])] {
            let m = CodeMatrix::new(&codes[rows.start * 2..rows.end * 2], 2, 2).unwrap();
            chunked
                .add_codes(&m, chunk_labels, None, Interrupt::never())
                .unwrap();
        }
        assert_eq!(chunked, whole);
        let mut merged = stats(&codes[..4], 2, &labels[..2], &[3, 2]);
        merged
            .merge(&stats(&codes[4..], 2, &labels[2..], &[3, 2]))
            .unwrap();
        assert_eq!(merged, whole);
        assert!(merged.merge(&ValueStats::zeros(&[3, 3]).unwrap()).is_err());
        // A bad code in a later row leaves the counts untouched.
        let bad = CodeMatrix::new(&[1, 0, 0, 7], 2, 2).unwrap();
        let err = merged
            .add_codes(&bad, &[true, true], None, Interrupt::never())
            .unwrap_err();
        assert!(matches!(err, Error::CodeOutOfRange { row: 1, .. }));
        assert_eq!(merged, whole);
    }

    #[test]
    fn a_perfectly_separating_column_needs_one_cut() {
        // Column 0: value 1 always positive, values 0 and 2 always negative. Column 1: noise.
        let codes = [1, 1, 0, 2, 2, 1, 1, 2, 0, 1, 2, 2];
        let labels = [true, false, false, true, false, false];
        let s = stats(&codes, 2, &labels, &[3, 3]);
        let b = fit_buckets(&s, &params(1), Interrupt::never()).unwrap();
        assert_eq!(b.n_outputs, 1);
        // Value 1 of column 0 gets the output column; the absent value is the reference.
        assert_eq!(b.output_of_value[..3], [-1, 0, -1]);
        assert!(b.output_of_value[3..].iter().all(|&o| o == -1));
        let m = CodeMatrix::new(&[1, 0, 0, 2, 7, 1], 3, 2).unwrap();
        let rows = b.tables().transform(&m, Interrupt::never()).unwrap();
        assert_eq!(rows.indptr, vec![0, 1, 1, 1]);
        assert_eq!(rows.indices, vec![0]);
    }

    #[test]
    fn never_exceeds_the_budget_and_stops_without_gain() {
        let n = 400;
        let codes: Vec<i32> = (0..n)
            .flat_map(|r| [(r % 17) as i32, (r % 5) as i32])
            .collect();
        let labels: Vec<bool> = (0..n).map(|r| (r * 7919) % 13 < 5).collect();
        let s = stats(&codes, 2, &labels, &[17, 5]);
        for budget in [1, 3, 10, 100] {
            let b = fit_buckets(&s, &params(budget), Interrupt::never()).unwrap();
            assert!(b.n_outputs <= budget);
            // At most one bucket per distinct value, minus the references.
            assert!(b.n_outputs <= 17 + 5 - 2);
        }
        // A constant label carries no information: no cut.
        let s = stats(&codes, 2, &vec![true; n], &[17, 5]);
        assert_eq!(
            fit_buckets(&s, &params(10), Interrupt::never())
                .unwrap()
                .n_outputs,
            0
        );
    }

    #[test]
    fn min_bucket_rows_limits_small_buckets() {
        let codes: Vec<i32> = (0..100).map(|r| r % 50).collect();
        let labels: Vec<bool> = (0..100).map(|r| r % 3 == 0).collect();
        let s = stats(&codes, 1, &labels, &[50]);
        let mut p = params(100);
        p.min_bucket_rows = 30;
        let b = fit_buckets(&s, &p, Interrupt::never()).unwrap();
        // 100 rows in buckets of at least 30: at most 3 buckets, 2 outputs.
        assert!(b.n_outputs <= 2);
    }

    #[test]
    fn rate_buckets_reproduce_the_fit_on_the_same_rows() {
        let n = 600;
        let codes: Vec<i32> = (0..n)
            .flat_map(|r| [(r % 23) as i32, (r % 7) as i32])
            .collect();
        let labels: Vec<bool> = (0..n).map(|r| (r % 23) < 9 || r % 7 == 3).collect();
        let s = stats(&codes, 2, &labels, &[23, 7]);
        let mut p = params(6);
        p.smoothing = 1.0;
        let b = fit_buckets(&s, &p, Interrupt::never()).unwrap();
        assert!(b.n_outputs > 0);
        let assigned = b.by_rate.assign(&s, 1.0).unwrap();
        // Same rows, same rates: every value lands where the fit put it (values of equal rate
        // are never split by a cut here, since their rates are distinct or in one bucket).
        assert_eq!(assigned, b.output_of_value);
        // A value never seen in the rows used for rates goes to the reference bucket.
        let none = vec![false; n];
        let m = CodeMatrix::new(&codes, n, 2).unwrap();
        let empty =
            ValueStats::from_codes(&m, &labels, Some(&none), &[23, 7], Interrupt::never()).unwrap();
        assert!(
            b.by_rate
                .assign(&empty, 1.0)
                .unwrap()
                .iter()
                .all(|&o| o == -1)
        );
    }

    #[test]
    fn tables_are_checked() {
        assert!(BucketTables::new(&[0, 2], &[-1, 0], 1).is_ok());
        assert!(BucketTables::new(&[0, 3], &[-1, 0], 1).is_err());
        assert!(BucketTables::new(&[1, 2], &[-1, 0], 1).is_err());
        assert!(BucketTables::new(&[0, 2], &[-1, 1], 1).is_err());
        assert!(BucketTables::new(&[0, 2], &[-2, 0], 1).is_err());
        let t = BucketTables::new(&[0, 2], &[-1, 0], 1).unwrap();
        let m = CodeMatrix::new(&[1, -1], 2, 1).unwrap();
        assert!(matches!(
            t.transform(&m, Interrupt::never()),
            Err(Error::NegativeCode {
                row: 1,
                code: -1,
                ..
            })
        ));
    }

    #[test]
    fn refuses_a_zero_budget() {
        let s = stats(&[0], 1, &[true], &[1]);
        assert!(fit_buckets(&s, &params(0), Interrupt::never()).is_err());
    }
}
