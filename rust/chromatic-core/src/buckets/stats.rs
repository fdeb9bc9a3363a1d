//! Value statistics: rows and positive rows of every (column, value) of code columns.

use std::ops::Range;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, POLL_INTERVAL};
use crate::matrix::CodeMatrix;
use crate::parallel::{balanced_blocks, parallel_blocks};
use crate::parallel::{filled, split_mut, try_map_blocks};
use crate::statistics::MAX_ROWS;

pub(super) fn negative_code(row: usize, column: usize, code: i32) -> Error {
    Error::NegativeCode {
        row,
        column,
        code: i64::from(code),
    }
}

/// For every (column, value): how many rows hold it, and how many of those are positive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueStats {
    pub(super) offsets: Vec<usize>,
    pub(super) rows: Vec<u32>,
    pub(super) positives: Vec<u32>,
    pub(super) n_rows: u64,
    pub(super) n_positives: u64,
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
        (
            self.column_sizes(),
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

    /// Value sizes of the columns.
    pub fn column_sizes(&self) -> Vec<usize> {
        self.offsets.windows(2).map(|w| w[1] - w[0]).collect()
    }

    /// The counts as they pickle: rows and positive rows of each value as little-endian `u32`
    /// bytes (bytes, not arrays: a receiving process may place an array's buffer unaligned, and
    /// bytes read back whatever the alignment), then the totals of rows and positive rows. With
    /// [`column_sizes`](Self::column_sizes), [`from_le_bytes`](Self::from_le_bytes) reads them
    /// back.
    pub fn to_le_bytes(&self) -> (Vec<u8>, Vec<u8>, u64, u64) {
        let bytes = |counts: &[u32]| counts.iter().flat_map(|c| c.to_le_bytes()).collect();
        (
            bytes(&self.rows),
            bytes(&self.positives),
            self.n_rows,
            self.n_positives,
        )
    }

    /// The counts from [`to_le_bytes`](Self::to_le_bytes), checked to be whole counts of the
    /// columns' values and counts of `n_rows` rows.
    pub fn from_le_bytes(
        column_sizes: &[usize],
        rows: &[u8],
        positives: &[u8],
        n_rows: u64,
        n_positives: u64,
    ) -> Result<Self> {
        let counts = |raw: &[u8]| -> Result<Vec<u32>> {
            if raw.len() % 4 != 0 {
                return Err(Error::InvalidParameter(format!(
                    "value counts of {} bytes are not whole 4-byte counts",
                    raw.len()
                )));
            }
            Ok(raw
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        };
        ValueStats::from_parts(
            column_sizes,
            counts(rows)?,
            counts(positives)?,
            n_rows,
            n_positives,
        )
    }

    /// Rows holding each value, column after column.
    pub fn value_rows(&self) -> &[u32] {
        &self.rows
    }

    /// Code columns.
    pub fn n_columns(&self) -> usize {
        self.offsets.len() - 1
    }

    pub(super) fn column(&self, j: usize) -> Range<usize> {
        self.offsets[j]..self.offsets[j + 1]
    }
}

/// Binary entropy of a bucket times its row count, in nats: the label information the bucket
/// leaves unexplained.
#[inline]
pub(super) fn weighted_entropy(rows: f64, positives: f64) -> f64 {
    let term = |k: f64| if k > 0.0 { k * (k / rows).ln() } else { 0.0 };
    -(term(positives) + term(rows - positives))
}

/// The positive rate of a value seen in `rows` rows, `positives` of them positive, pulled
/// towards `prior_rate` by `smoothing` pseudo-rows (an m-estimate).
#[inline]
pub(super) fn smoothed_rate(rows: u32, positives: u32, prior_rate: f64, smoothing: f64) -> f64 {
    (f64::from(positives) + smoothing * prior_rate) / (f64::from(rows) + smoothing)
}
