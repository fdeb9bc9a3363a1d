//! Encoding rows into one code per color, and counting what the codes cannot hold.

use rayon::prelude::*;

use crate::encoder::EncoderTables;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::matrix::{CsrMatrix, IndexValue, StoredValue};
use crate::parallel::parallel_blocks;
use crate::parallel::{for_each_row, split_mut};

/// Which feature a code keeps when a row holds several features of one color.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollisionPolicy {
    /// The most frequent in training (the smallest code).
    MostFrequent,
    /// The least frequent in training (the largest code).
    LeastFrequent,
}

impl CollisionPolicy {
    /// Parses a policy name: `"most_frequent"` or `"least_frequent"`.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "most_frequent" => Ok(CollisionPolicy::MostFrequent),
            "least_frequent" => Ok(CollisionPolicy::LeastFrequent),
            other => Err(Error::InvalidParameter(format!(
                "unknown collision policy {other:?}; expected most_frequent or least_frequent"
            ))),
        }
    }
}

/// Row-major `(n_rows, n_colors)` codes, 0 for "no feature of this color".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Codes {
    /// Row-major `(n_rows, n_colors)` codes.
    pub values: Vec<i32>,
    /// Rows.
    pub n_rows: usize,
    /// Colors (code columns).
    pub n_colors: usize,
    /// What encoding met on the way.
    pub tally: Tally,
}

/// What the codes could not hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Features dropped because another feature of the same color was kept in the same row.
    pub collisions: u64,
    /// Present features never seen in training (ignored).
    pub unseen: u64,
}

/// Encodes every row into a new code matrix.
///
/// # Examples
///
/// ```
/// use chromatic_core::{CollisionPolicy, CsrMatrix, FitParams, Interrupt, encode, fit};
///
/// let (indptr, indices) = ([0i64, 2, 4, 5], [0i64, 2, 1, 2, 0]);
/// let rows = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, 3)?;
/// let params = FitParams { dense_threshold: None, ..FitParams::default() };
/// let encoder = fit(&rows, &params, Interrupt::never())?.encoder;
/// let codes = encode(&rows, &encoder.tables(), CollisionPolicy::MostFrequent, Interrupt::never())?;
/// assert_eq!((codes.n_rows, codes.n_colors), (3, 2));
/// assert_eq!(codes.tally.collisions, 0);
/// # Ok::<(), chromatic_core::Error>(())
/// ```
pub fn encode<I: IndexValue, V: StoredValue>(
    matrix: &CsrMatrix<'_, I, V>,
    tables: &EncoderTables<'_>,
    policy: CollisionPolicy,
    interrupt: Interrupt<'_>,
) -> Result<Codes> {
    let n_rows = matrix.n_rows();
    let n_colors = tables.n_colors();
    let len = n_rows.checked_mul(n_colors).ok_or_else(|| {
        Error::InvalidParameter(format!("{n_rows} rows × {n_colors} colors overflow memory"))
    })?;
    let mut values = vec![0i32; len];
    let tally = encode_into(matrix, tables, policy, &mut values, interrupt)?;
    Ok(Codes {
        values,
        n_rows,
        n_colors,
        tally,
    })
}

/// Encodes every row into `out`, a zeroed row-major `(n_rows, n_colors)` buffer the caller
/// allocated (so that it can live in memory the caller manages), in parallel over blocks of
/// rows. Column indices and stored values are validated on the way.
pub fn encode_into<I: IndexValue, V: StoredValue>(
    matrix: &CsrMatrix<'_, I, V>,
    tables: &EncoderTables<'_>,
    policy: CollisionPolicy,
    out: &mut [i32],
    interrupt: Interrupt<'_>,
) -> Result<Tally> {
    if matrix.n_features() != tables.n_features() {
        return Err(Error::LengthMismatch {
            what: "the input",
            len: matrix.n_features(),
            expected_from: "the fitted model (features)",
            expected: tables.n_features(),
        });
    }
    let n_colors = tables.n_colors();
    if Some(out.len()) != matrix.n_rows().checked_mul(n_colors) {
        return Err(Error::LengthMismatch {
            what: "the output buffer",
            len: out.len(),
            expected_from: "n_rows × n_colors",
            expected: matrix.n_rows().saturating_mul(n_colors),
        });
    }
    let blocks = matrix.row_blocks(matrix.rows(), parallel_blocks());
    // Hand each block its own rows of the output.
    let outputs = split_mut(out, blocks.iter().map(|b| b.len() * n_colors));
    let tallies: Vec<Result<Tally>> = blocks
        .into_par_iter()
        .zip(outputs)
        .map(|(rows, out)| {
            let mut tally = Tally::default();
            let first = rows.start;
            for_each_row(matrix, rows, interrupt, |row, features| {
                let codes = &mut out[(row - first) * n_colors..(row - first + 1) * n_colors];
                for &feature in features {
                    let Some((color, code)) = tables.lookup(feature)? else {
                        tally.unseen += 1;
                        continue;
                    };
                    let slot = &mut codes[color];
                    if *slot == 0 {
                        *slot = code;
                    } else {
                        tally.collisions += 1;
                        *slot = match policy {
                            CollisionPolicy::MostFrequent => (*slot).min(code),
                            CollisionPolicy::LeastFrequent => (*slot).max(code),
                        };
                    }
                }
                Ok(())
            })?;
            Ok(tally)
        })
        .collect();
    let mut total = Tally::default();
    for tally in tallies {
        let tally = tally?;
        total.collisions += tally.collisions;
        total.unseen += tally.unseen;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collisions_and_unseen_features_are_counted() {
        // Color 0 holds features 0 (code 1) and 1 (code 2); color 1 holds feature 2; 3 unseen.
        let colors = [0, 0, 1, -1];
        let codes = [1, 2, 1, 0];
        let tables = EncoderTables::new(&colors, &codes, 2).unwrap();
        let indptr = [0i32, 2, 5, 6, 6];
        let indices = [2i32, 0, 1, 0, 3, 1];
        let m = CsrMatrix::<i32, f64>::new(&indptr, &indices, None, 4).unwrap();
        let out = encode(
            &m,
            &tables,
            CollisionPolicy::MostFrequent,
            Interrupt::never(),
        )
        .unwrap();
        assert_eq!(out.values, vec![1, 1, 1, 0, 2, 0, 0, 0]);
        assert_eq!((out.tally.collisions, out.tally.unseen), (1, 1));
        let out = encode(
            &m,
            &tables,
            CollisionPolicy::LeastFrequent,
            Interrupt::never(),
        )
        .unwrap();
        assert_eq!(out.values, vec![1, 1, 2, 0, 2, 0, 0, 0]);
    }

    #[test]
    fn a_duplicate_is_not_a_collision() {
        let colors = [0, 0];
        let codes = [1, 2];
        let tables = EncoderTables::new(&colors, &codes, 1).unwrap();
        let indptr = [0i64, 3];
        let indices = [1i64, 1, 1];
        let m = CsrMatrix::<i64, f32>::new(&indptr, &indices, None, 2).unwrap();
        let out = encode(
            &m,
            &tables,
            CollisionPolicy::MostFrequent,
            Interrupt::never(),
        )
        .unwrap();
        assert_eq!(out.values, vec![2]);
        assert_eq!(out.tally.collisions, 0);
    }

    #[test]
    fn feature_count_must_match_the_model() {
        let tables = EncoderTables::new(&[0], &[1], 1).unwrap();
        let m = CsrMatrix::<i32, f64>::new(&[0, 0], &[], None, 3).unwrap();
        assert!(matches!(
            encode(
                &m,
                &tables,
                CollisionPolicy::MostFrequent,
                Interrupt::never()
            ),
            Err(Error::LengthMismatch { .. })
        ));
    }
}
