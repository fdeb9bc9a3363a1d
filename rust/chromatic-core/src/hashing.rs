//! The hashing trick on feature indices, the baseline chromatic is measured against: every
//! present feature adds ±1 to the column its index hashes to.

use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::matrix::{CsrMatrix, IndexValue, StoredValue};
use crate::memory::with_capacity;
use crate::parallel::parallel_blocks;
use crate::parallel::{concat, for_each_row, try_map_blocks};

/// CSR rows with values: `indices[indptr[r]..indptr[r + 1]]` ascending, `values` alongside.
#[derive(Clone, Debug, PartialEq)]
pub struct HashedRows {
    /// Row pointers.
    pub indptr: Vec<i64>,
    /// Column of every stored entry, ascending within a row.
    pub indices: Vec<i64>,
    /// Value of every stored entry.
    pub values: Vec<f64>,
}

/// A 64-bit finalizer (`SplitMix64`'s): consecutive indices get unrelated hashes.
#[inline]
fn mix(index: u64, seed: u64) -> u64 {
    let mut z = index
        .wrapping_add(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hashes every row into `n_columns` columns. With `alternate_sign`, a second hash bit gives
/// each feature a sign, so that collisions cancel out in expectation. Columns whose
/// contributions cancel exactly are not stored.
///
/// # Examples
///
/// ```
/// use chromatic_core::{CsrMatrix, Interrupt, hash_rows};
///
/// let (indptr, indices) = ([0i64, 3], [0i64, 5, 9]);
/// let rows = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, 10)?;
/// let hashed = hash_rows(&rows, 4, false, 0, Interrupt::never())?;
/// assert_eq!(hashed.indptr.len(), 2);
/// assert_eq!(hashed.values.iter().sum::<f64>(), 3.0);
/// assert!(hashed.indices.iter().all(|&c| (0..4).contains(&c)));
/// # Ok::<(), chromatic_core::Error>(())
/// ```
pub fn hash_rows<I: IndexValue, V: StoredValue>(
    matrix: &CsrMatrix<'_, I, V>,
    n_columns: usize,
    alternate_sign: bool,
    seed: u64,
    interrupt: Interrupt<'_>,
) -> Result<HashedRows> {
    check_n_columns(n_columns)?;
    let blocks = matrix.row_blocks(matrix.rows(), parallel_blocks());
    let parts = try_map_blocks(blocks, |rows| {
        let mut part = HashedPart::default();
        let mut keys: Vec<u64> = Vec::new();
        for_each_row(matrix, rows, interrupt, |_, features| {
            keys.clear();
            keys.extend(features.iter().map(|&f| u64::from(f)));
            part.push_row(&keys, n_columns, alternate_sign, seed);
            Ok(())
        })?;
        Ok(part)
    })?;
    join_parts(&parts, matrix.n_rows())
}

/// Refuses a number of hashed columns outside `[1, u32::MAX]`.
pub(crate) fn check_n_columns(n_columns: usize) -> Result<()> {
    if n_columns == 0 || n_columns > u32::MAX as usize {
        return Err(Error::InvalidParameter(format!(
            "the number of hashed columns must be in [1, {}], got {n_columns}",
            u32::MAX
        )));
    }
    Ok(())
}

/// The hashed rows of a block of rows, to be joined in order.
#[derive(Default)]
pub(crate) struct HashedPart {
    lengths: Vec<usize>,
    indices: Vec<i64>,
    values: Vec<f64>,
    /// Each key's column and sign, reused from row to row.
    hashed: Vec<(u32, f64)>,
}

impl HashedPart {
    /// Hashes a row of distinct `keys` (feature indices, or hashes of values) and appends it.
    pub(crate) fn push_row(
        &mut self,
        keys: &[u64],
        n_columns: usize,
        alternate_sign: bool,
        seed: u64,
    ) {
        self.hashed.clear();
        self.hashed.extend(keys.iter().map(|&key| {
            let h = mix(key, seed);
            let column = (((h >> 32) * n_columns as u64) >> 32) as u32;
            let sign = if alternate_sign && h & 1 == 1 {
                -1.0
            } else {
                1.0
            };
            (column, sign)
        }));
        self.hashed.sort_unstable_by_key(|&(c, _)| c);
        let before = self.indices.len();
        let mut k = 0;
        while k < self.hashed.len() {
            let column = self.hashed[k].0;
            let mut sum = 0.0;
            while k < self.hashed.len() && self.hashed[k].0 == column {
                sum += self.hashed[k].1;
                k += 1;
            }
            if sum != 0.0 {
                self.indices.push(i64::from(column));
                self.values.push(sum);
            }
        }
        self.lengths.push(self.indices.len() - before);
    }
}

/// The rows of `parts`, in order, `n_rows` in all.
pub(crate) fn join_parts(parts: &[HashedPart], n_rows: usize) -> Result<HashedRows> {
    let mut indptr = with_capacity(n_rows + 1, "hashed rows")?;
    indptr.push(0i64);
    for part in parts {
        for &len in &part.lengths {
            indptr.push(indptr[indptr.len() - 1] + len as i64);
        }
    }
    Ok(HashedRows {
        indptr,
        indices: concat(parts.iter().map(|p| p.indices.as_slice()), "hashed rows")?,
        values: concat(parts.iter().map(|p| p.values.as_slice()), "hashed rows")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_presence_into_sorted_signed_columns() {
        let indptr = [0i32, 3, 3, 5];
        let indices = [5i32, 1, 5, 2, 9];
        let values = [1.0f64, 2.0, 0.5, 0.0, -3.0];
        let m = CsrMatrix::new(&indptr, &indices, Some(&values), 10).unwrap();
        let out = hash_rows(&m, 4, false, 0, Interrupt::never()).unwrap();
        // Row 0: features 1 and 5 (5 counted once); row 2: feature 9 (the zero at 2 is absent).
        assert_eq!(out.indptr.len(), 4);
        assert!((1..=2).contains(&(out.indptr[1] - out.indptr[0])));
        assert_eq!(out.indptr[2], out.indptr[1]);
        assert_eq!(out.indptr[3] - out.indptr[2], 1);
        assert!(out.values.iter().all(|&v| v > 0.0));
        let total: f64 = out.values.iter().sum();
        assert!((total - 3.0).abs() < 1e-12);
        for r in 0..3 {
            let row = &out.indices[out.indptr[r] as usize..out.indptr[r + 1] as usize];
            assert!(row.windows(2).all(|p| p[0] < p[1]));
            assert!(row.iter().all(|&c| (0..4).contains(&c)));
        }
    }

    #[test]
    fn signs_cancel_and_seeds_change_the_hash() {
        let n = 1000usize;
        let indptr = [0i64, n as i64];
        let indices: Vec<i64> = (0..n as i64).collect();
        let m = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, n).unwrap();
        let signed = hash_rows(&m, 8, true, 0, Interrupt::never()).unwrap();
        // About half the features are negative: the sums are far below the plain counts.
        let sum: f64 = signed.values.iter().sum();
        assert!(sum.abs() < 150.0, "{sum}");
        let a = hash_rows(&m, 64, false, 1, Interrupt::never()).unwrap();
        let b = hash_rows(&m, 64, false, 2, Interrupt::never()).unwrap();
        assert_ne!(a, b);
        assert!((a.values.iter().sum::<f64>() - n as f64).abs() < 1e-9);
        assert!(hash_rows(&m, 0, false, 0, Interrupt::never()).is_err());
    }
}
