//! The matrices several steps share: borrowed CSR input (validation of its structure and the
//! presence semantics of stored values), row-major code matrices, and binary CSR rows as output.
//!
//! The engine never copies the caller's arrays. Structure (`indptr`) is checked once when the view
//! is built; column indices and stored values are checked by whichever pass reads them first, so
//! that validation costs no extra pass over the non-zeros.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::parallel::balanced_blocks;

/// Integer types accepted for `indptr` and `indices`.
pub trait IndexValue: Copy + Send + Sync + 'static {
    /// The value as `i64`.
    fn to_i64(self) -> i64;
}

impl IndexValue for i32 {
    #[inline]
    fn to_i64(self) -> i64 {
        i64::from(self)
    }
}

impl IndexValue for i64 {
    #[inline]
    fn to_i64(self) -> i64 {
        self
    }
}

/// What a stored value says about its entry.
pub enum Presence {
    /// The entry is there.
    Present,
    /// The entry is absent (an explicit zero).
    Absent,
    /// The value is NaN or infinite: an error.
    NonFinite(f64),
}

/// Element types accepted for stored values: any non-zero is present, an explicit zero is absent,
/// NaN and infinities are errors.
pub trait StoredValue: Copy + Send + Sync + 'static {
    /// What the value says about its entry.
    fn presence(self) -> Presence;
}

impl StoredValue for f64 {
    #[inline]
    fn presence(self) -> Presence {
        if !self.is_finite() {
            Presence::NonFinite(self)
        } else if self != 0.0 {
            Presence::Present
        } else {
            Presence::Absent
        }
    }
}

impl StoredValue for f32 {
    #[inline]
    fn presence(self) -> Presence {
        f64::from(self).presence()
    }
}

impl StoredValue for bool {
    #[inline]
    fn presence(self) -> Presence {
        if self {
            Presence::Present
        } else {
            Presence::Absent
        }
    }
}

/// Largest number of features (columns) the engine handles: codes and colors are `i32`.
pub const MAX_FEATURES: usize = i32::MAX as usize;

/// A validated, borrowed CSR matrix. `values == None` means every stored entry is present.
#[derive(Clone, Copy)]
pub struct CsrMatrix<'a, I, V> {
    indptr: &'a [I],
    indices: &'a [I],
    values: Option<&'a [V]>,
    n_features: usize,
}

impl<'a, I: IndexValue, V: StoredValue> CsrMatrix<'a, I, V> {
    /// Checks the row pointers (start at 0, monotone, end at `indices.len()`) and the lengths.
    ///
    /// # Examples
    ///
    /// ```
    /// use chromatic_core::CsrMatrix;
    ///
    /// // Two rows over three features: {0, 2} and {1}, with `f64` values (an explicit zero is absent).
    /// let (indptr, indices, values) = ([0i32, 2, 3], [0i32, 2, 1], [1.0, 0.0, 5.0]);
    /// let rows = CsrMatrix::new(&indptr, &indices, Some(&values[..]), 3)?;
    /// let mut features = Vec::new();
    /// rows.row_features(0, &mut features)?;
    /// assert_eq!(features, [0]);
    /// assert!(CsrMatrix::<i32, f64>::new(&[0, 2], &[0], None, 3).is_err());
    /// # Ok::<(), chromatic_core::Error>(())
    /// ```
    pub fn new(
        indptr: &'a [I],
        indices: &'a [I],
        values: Option<&'a [V]>,
        n_features: usize,
    ) -> Result<Self> {
        if n_features > MAX_FEATURES {
            return Err(Error::TooManyFeatures {
                n_features,
                limit: MAX_FEATURES,
            });
        }
        let first = indptr.first().ok_or(Error::EmptyIndptr)?.to_i64();
        if first != 0 {
            return Err(Error::IndptrStart { first });
        }
        for (row, pair) in indptr.windows(2).enumerate() {
            let (start, end) = (pair[0].to_i64(), pair[1].to_i64());
            if end < start {
                return Err(Error::IndptrDecreasing { row, start, end });
            }
        }
        let last = indptr[indptr.len() - 1].to_i64();
        if last != indices.len() as i64 {
            return Err(Error::IndptrEnd {
                last,
                nnz: indices.len(),
            });
        }
        if let Some(values) = values
            && values.len() != indices.len()
        {
            return Err(Error::LengthMismatch {
                what: "data",
                len: values.len(),
                expected_from: "indices",
                expected: indices.len(),
            });
        }
        Ok(CsrMatrix {
            indptr,
            indices,
            values,
            n_features,
        })
    }

    /// Rows.
    pub fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Features (columns).
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    #[inline]
    fn row_range(&self, row: usize) -> Result<Range<usize>> {
        // `new` validated the pointers, but the caller's arrays may be changed by another thread
        // while the engine runs; checking again costs two comparisons a row and keeps every
        // slice in bounds whatever happens.
        let (start, end) = (self.indptr[row].to_i64(), self.indptr[row + 1].to_i64());
        if start < 0 || end < start || end as usize > self.indices.len() {
            return Err(Error::IndptrDecreasing { row, start, end });
        }
        Ok(start as usize..end as usize)
    }

    /// Writes the distinct present features of `row` into `out`, ascending, checking every
    /// column index and stored value on the way.
    #[inline]
    pub fn row_features(&self, row: usize, out: &mut Vec<u32>) -> Result<()> {
        out.clear();
        let mut ascending = true;
        let mut previous = -1i64;
        for k in self.row_range(row)? {
            let index = self.indices[k].to_i64();
            if index < 0 || index >= self.n_features as i64 {
                return Err(Error::IndexOutOfRange {
                    row,
                    index,
                    n_features: self.n_features,
                });
            }
            if let Some(values) = self.values {
                match values[k].presence() {
                    Presence::Present => {}
                    Presence::Absent => continue,
                    Presence::NonFinite(value) => {
                        return Err(Error::NonFinite {
                            row,
                            column: index as usize,
                            value,
                        });
                    }
                }
            }
            ascending &= index > previous;
            previous = index;
            out.push(index as u32);
        }
        if !ascending {
            out.sort_unstable();
            out.dedup();
        }
        Ok(())
    }

    /// Splits `rows` into about `target` contiguous blocks of similar numbers of stored entries,
    /// so that parallel passes are balanced even when row lengths vary widely.
    pub fn row_blocks(&self, rows: Range<usize>, target: usize) -> Vec<Range<usize>> {
        let start = rows.start;
        let base = self.indptr[start].to_i64();
        balanced_blocks(rows.len(), target, |i| {
            (self.indptr[start + i].to_i64() - base).max(0) as usize + i
        })
        .into_iter()
        .map(|b| b.start + start..b.end + start)
        .collect()
    }

    /// All rows, as a range.
    pub fn rows(&self) -> Range<usize> {
        0..self.n_rows()
    }
}

/// A row-major `(n_rows, n_columns)` matrix of non-negative integer codes.
#[derive(Clone, Copy, Debug)]
pub struct CodeMatrix<'a> {
    values: &'a [i32],
    n_rows: usize,
    n_columns: usize,
}

impl<'a> CodeMatrix<'a> {
    /// Checks that `values` holds `n_rows` rows of `n_columns` codes.
    pub fn new(values: &'a [i32], n_rows: usize, n_columns: usize) -> Result<Self> {
        if Some(values.len()) != n_rows.checked_mul(n_columns) {
            return Err(Error::LengthMismatch {
                what: "codes",
                len: values.len(),
                expected_from: "n_rows × n_columns",
                expected: n_rows.saturating_mul(n_columns),
            });
        }
        Ok(CodeMatrix {
            values,
            n_rows,
            n_columns,
        })
    }

    #[inline]
    pub(crate) fn row(&self, r: usize) -> &[i32] {
        &self.values[r * self.n_columns..(r + 1) * self.n_columns]
    }

    /// Rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Code columns.
    pub fn n_columns(&self) -> usize {
        self.n_columns
    }
}

/// Binary CSR rows: `indices[indptr[r]..indptr[r + 1]]` are the features of row `r`, ascending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SparseRows {
    /// Row pointers (`n_rows + 1`).
    pub indptr: Vec<i64>,
    /// The features of every row.
    pub indices: Vec<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix<'a>(
        indptr: &'a [i32],
        indices: &'a [i32],
        values: Option<&'a [f64]>,
        n_features: usize,
    ) -> Result<CsrMatrix<'a, i32, f64>> {
        CsrMatrix::new(indptr, indices, values, n_features)
    }

    #[test]
    fn rejects_malformed_structure() {
        assert_eq!(matrix(&[], &[], None, 3).err(), Some(Error::EmptyIndptr));
        assert_eq!(
            matrix(&[1, 1], &[0], None, 3).err(),
            Some(Error::IndptrStart { first: 1 })
        );
        assert_eq!(
            matrix(&[0, 2, 1], &[0], None, 3).err(),
            Some(Error::IndptrDecreasing {
                row: 1,
                start: 2,
                end: 1
            })
        );
        assert_eq!(
            matrix(&[0, 2], &[0], None, 3).err(),
            Some(Error::IndptrEnd { last: 2, nnz: 1 })
        );
        assert!(matches!(
            matrix(&[0, 1], &[0], Some(&[1.0, 2.0]), 3).err(),
            Some(Error::LengthMismatch { .. })
        ));
    }

    #[test]
    fn row_features_sorts_dedups_and_drops_zeros() {
        let values = [1.0, 0.0, 2.0, -1.0, 5.0];
        let m = matrix(&[0, 5], &[4, 1, 2, 4, 0], Some(&values), 5).unwrap();
        let mut out = Vec::new();
        m.row_features(0, &mut out).unwrap();
        assert_eq!(out, vec![0, 2, 4]);
    }

    #[test]
    fn row_features_names_bad_entries() {
        let m = matrix(&[0, 1, 3], &[0, 1, 7], None, 5).unwrap();
        let mut out = Vec::new();
        assert_eq!(
            m.row_features(1, &mut out).err(),
            Some(Error::IndexOutOfRange {
                row: 1,
                index: 7,
                n_features: 5
            })
        );
        let values = [1.0, f64::NAN];
        let m = matrix(&[0, 1, 2], &[0, 3], Some(&values), 5).unwrap();
        assert!(matches!(
            m.row_features(1, &mut out).err(),
            Some(Error::NonFinite {
                row: 1,
                column: 3,
                ..
            })
        ));
        let m = matrix(&[0, 1], &[-2], None, 5).unwrap();
        assert!(matches!(
            m.row_features(0, &mut out).err(),
            Some(Error::IndexOutOfRange { index: -2, .. })
        ));
    }
}
