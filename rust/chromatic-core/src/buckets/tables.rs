//! Bucket tables: buckets as intervals of rates, and the tables that transform code rows.

use super::cut::Buckets;
use super::stats::{ValueStats, negative_code, smoothed_rate};
use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, POLL_INTERVAL};
use crate::matrix::{CodeMatrix, SparseRows};
use crate::parallel::{balanced_blocks, parallel_blocks};
use crate::parallel::{concat, try_map_blocks};

/// Buckets as intervals of the (smoothed) positive rate: column `j`'s buckets are separated by
/// the ascending `boundaries[boundary_offsets[j]..boundary_offsets[j + 1]]`, and its bucket `b`
/// is output column `outputs[boundary_offsets[j] + j + b]` (-1 for the reference bucket).
#[derive(Clone, Debug, PartialEq)]
pub struct RateBuckets {
    /// Where each column's boundaries start in `boundaries` (one more entry than columns).
    pub boundary_offsets: Vec<i64>,
    /// The rates between buckets, ascending within each column.
    pub boundaries: Vec<f64>,
    /// The output column of every bucket, -1 for the reference bucket.
    pub outputs: Vec<i32>,
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
            let outputs = &self.outputs[(start + j)..=(end + j)];
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
    /// The tables that transform code rows, borrowed.
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
            .find(|&&o| o < -1 || i64::from(o) >= n_outputs as i64)
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

    /// Code columns.
    pub fn n_columns(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Output columns.
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
            indices: concat(parts.iter().map(|p| p.1.as_slice()), "bucket columns")?,
        })
    }
}
