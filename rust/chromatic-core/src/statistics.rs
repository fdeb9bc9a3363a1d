//! Feature statistics: document frequency of every feature over the training rows, and the
//! frequency ranking that orders vertices, breaks ties and numbers codes.

use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::matrix::{CsrMatrix, IndexValue, MAX_FEATURES, StoredValue};
use crate::memory::check_index_space_here;
use crate::parallel::parallel_blocks;
use crate::parallel::{filled, for_each_row, try_map_blocks};

/// Per-thread counter arrays are used while they hold at most this many counters in all (1 GiB).
const PRIVATE_COUNTS_LIMIT: usize = 1 << 28;

/// Largest number of rows one model can be fitted on: frequencies and pair counts are `u32`.
pub const MAX_ROWS: u64 = u32::MAX as u64;

/// Document frequency (rows holding the feature, duplicates counted once) of every feature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureStats {
    n_rows: u64,
    doc_freq: Vec<u32>,
}

impl FeatureStats {
    /// Statistics of zero rows over `n_features` features.
    pub fn empty(n_features: usize) -> Self {
        FeatureStats {
            n_rows: 0,
            doc_freq: vec![0; n_features],
        }
    }

    /// Counts every feature over the rows of `matrix`, in parallel. This pass is the first to read
    /// the non-zeros, so it is also the one that reports bad column indices and values.
    pub fn from_rows<I: IndexValue, V: StoredValue>(
        matrix: &CsrMatrix<'_, I, V>,
        interrupt: Interrupt<'_>,
    ) -> Result<Self> {
        Self::count(matrix, interrupt, PRIVATE_COUNTS_LIMIT)
    }

    fn count<I: IndexValue, V: StoredValue>(
        matrix: &CsrMatrix<'_, I, V>,
        interrupt: Interrupt<'_>,
        private_counts_limit: usize,
    ) -> Result<Self> {
        check_rows(matrix.n_rows() as u64)?;
        let n_features = matrix.n_features();
        check_index_space_here(n_features)?;
        let threads = rayon::current_num_threads();
        let doc_freq = if n_features.saturating_mul(threads) <= private_counts_limit {
            // One block (and one counter array) per thread: counts are sums, so the result does
            // not depend on the split, and private arrays avoid contention on frequent features.
            let blocks = matrix.row_blocks(matrix.rows(), threads);
            let mut partials = try_map_blocks(blocks, |rows| {
                let mut counts = filled(n_features, 0u32, "feature counts")?;
                for_each_row(matrix, rows, interrupt, |_, features| {
                    for &f in features {
                        counts[f as usize] += 1;
                    }
                    Ok(())
                })?;
                Ok(counts)
            })?;
            let mut doc_freq = match partials.pop() {
                Some(counts) => counts,
                None => filled(n_features, 0u32, "feature counts")?,
            };
            for partial in &partials {
                add_counts(&mut doc_freq, partial);
            }
            doc_freq
        } else {
            // Too many features for a copy per thread: one shared array of atomic counters.
            let mut shared = Vec::new();
            shared
                .try_reserve_exact(n_features)
                .map_err(|_| Error::OutOfMemory {
                    what: "feature counts",
                    bytes: n_features * 4,
                })?;
            shared.extend((0..n_features).map(|_| AtomicU32::new(0)));
            let blocks = matrix.row_blocks(matrix.rows(), parallel_blocks());
            try_map_blocks(blocks, |rows| {
                for_each_row(matrix, rows, interrupt, |_, features| {
                    for &f in features {
                        shared[f as usize].fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(())
                })
            })?;
            shared.into_iter().map(AtomicU32::into_inner).collect()
        };
        Ok(FeatureStats {
            n_rows: matrix.n_rows() as u64,
            doc_freq,
        })
    }

    /// The statistics of `n_rows` rows in which feature `f` is held by `doc_freq[f]` rows
    /// (counted elsewhere, such as on another machine).
    pub fn from_counts(doc_freq: Vec<u32>, n_rows: u64) -> Result<Self> {
        check_rows(n_rows)?;
        if let Some(f) = doc_freq.iter().position(|&d| u64::from(d) > n_rows) {
            return Err(Error::InvalidParameter(format!(
                "feature {f} is counted in {} rows, more than the {n_rows} rows",
                doc_freq[f]
            )));
        }
        Ok(FeatureStats { n_rows, doc_freq })
    }

    /// Adds the statistics of other rows over the same features.
    pub fn merge(&mut self, other: &FeatureStats) -> Result<()> {
        if other.doc_freq.len() != self.doc_freq.len() {
            return Err(Error::LengthMismatch {
                what: "merged statistics",
                len: other.doc_freq.len(),
                expected_from: "these statistics",
                expected: self.doc_freq.len(),
            });
        }
        check_rows(self.n_rows + other.n_rows)?;
        self.n_rows += other.n_rows;
        add_counts(&mut self.doc_freq, &other.doc_freq);
        Ok(())
    }

    /// Widens the statistics to `n_features` features (a stream may reveal more as it goes). An
    /// index space beyond `MAX_FEATURES`, or whose per-column tables would not fit in memory, is
    /// refused here, before anything is allocated for it.
    pub fn grow(&mut self, n_features: usize) -> Result<()> {
        if n_features > MAX_FEATURES {
            return Err(Error::TooManyFeatures {
                n_features,
                limit: MAX_FEATURES,
            });
        }
        if n_features > self.doc_freq.len() {
            check_index_space_here(n_features)?;
            self.doc_freq
                .try_reserve_exact(n_features - self.doc_freq.len())
                .map_err(|_| Error::OutOfMemory {
                    what: "feature counts",
                    bytes: n_features * 4,
                })?;
            self.doc_freq.resize(n_features, 0);
        }
        Ok(())
    }

    /// Drops the first `count` features, which must never have been seen: for 1-based files
    /// read as if 0-based, before their indices are shifted down.
    pub fn drop_leading(&mut self, count: usize) -> Result<()> {
        let count = count.min(self.doc_freq.len());
        if let Some(f) = self.doc_freq[..count].iter().position(|&d| d > 0) {
            return Err(Error::InvalidParameter(format!(
                "feature {f} was seen, so the indices cannot be shifted down by {count}"
            )));
        }
        self.doc_freq.drain(..count);
        Ok(())
    }

    /// Treats `features` as never seen (for features kept apart from the graph, whose rows still
    /// count). An index outside the statistics is an error and changes nothing.
    pub fn forget(&mut self, features: &[i64]) -> Result<()> {
        let n_features = self.doc_freq.len();
        if let Some(&f) = features
            .iter()
            .find(|&&f| f < 0 || f as u64 >= n_features as u64)
        {
            return Err(Error::InvalidParameter(format!(
                "feature {f} to forget is outside [0, {n_features})"
            )));
        }
        for &f in features {
            self.doc_freq[f as usize] = 0;
        }
        Ok(())
    }

    /// Rows counted.
    pub fn n_rows(&self) -> u64 {
        self.n_rows
    }

    /// Features (the largest index seen plus one, or wider).
    pub fn n_features(&self) -> usize {
        self.doc_freq.len()
    }

    /// Rows holding each feature.
    pub fn doc_freq(&self) -> &[u32] {
        &self.doc_freq
    }

    /// Rows holding each feature, moved out.
    pub fn into_doc_freq(self) -> Vec<u32> {
        self.doc_freq
    }

    /// Features seen at least once, most frequent first; ties go to the smaller feature id, so
    /// the order is a pure function of the counts.
    pub fn frequency_order(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.doc_freq.len() as u32)
            .into_par_iter()
            .filter(|&f| self.doc_freq[f as usize] > 0)
            .collect();
        order.par_sort_unstable_by_key(|&f| (std::cmp::Reverse(self.doc_freq[f as usize]), f));
        order
    }
}

fn check_rows(n_rows: u64) -> Result<()> {
    if n_rows > MAX_ROWS {
        return Err(Error::TooManyRows {
            n_rows,
            limit: MAX_ROWS,
        });
    }
    Ok(())
}

fn add_counts(total: &mut [u32], part: &[u32]) {
    total
        .par_iter_mut()
        .zip(part.par_iter())
        .with_min_len(1 << 16)
        .for_each(|(t, p)| *t += p);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_feature_once_per_row() {
        let indptr = [0i64, 3, 5, 5];
        let indices = [2i64, 0, 2, 1, 2];
        let values = [1.0f32, 1.0, 1.0, 0.0, 3.0];
        let m = CsrMatrix::new(&indptr, &indices, Some(&values), 4).unwrap();
        let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
        assert_eq!(stats.doc_freq(), &[1, 0, 2, 0]);
        assert_eq!(stats.n_rows(), 3);
        assert_eq!(stats.frequency_order(), vec![2, 0]);
    }

    #[test]
    fn shared_atomic_counters_count_the_same() {
        let indptr: Vec<i32> = (0..=300).map(|r| r * 3).collect();
        let indices: Vec<i32> = (0..900).map(|k| k * 7919 % 50).collect();
        let m = CsrMatrix::<i32, f64>::new(&indptr, &indices, None, 50).unwrap();
        let private = FeatureStats::count(&m, Interrupt::never(), usize::MAX).unwrap();
        let shared = FeatureStats::count(&m, Interrupt::never(), 0).unwrap();
        assert_eq!(private, shared);
    }

    #[test]
    fn merge_adds_rows_and_counts() {
        let indptr = [0i32, 2, 3];
        let indices = [0i32, 1, 1];
        let m = CsrMatrix::<i32, f64>::new(&indptr, &indices, None, 3).unwrap();
        let mut a = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
        let b = a.clone();
        a.merge(&b).unwrap();
        assert_eq!(a.doc_freq(), &[2, 4, 0]);
        assert_eq!(a.n_rows(), 4);
        assert!(a.merge(&FeatureStats::empty(5)).is_err());
    }

    #[test]
    fn grows_and_drops_unseen_leading_features() {
        let mut stats = FeatureStats {
            n_rows: 2,
            doc_freq: vec![0, 2, 1],
        };
        stats.grow(5).unwrap();
        assert_eq!(stats.doc_freq(), &[0, 2, 1, 0, 0]);
        stats.drop_leading(1).unwrap();
        assert_eq!(stats.doc_freq(), &[2, 1, 0, 0]);
        assert!(stats.drop_leading(1).is_err());
    }

    #[test]
    fn index_spaces_beyond_the_limit_are_refused_before_any_allocation() {
        let mut stats = FeatureStats::empty(3);
        for n_features in [MAX_FEATURES + 1, i64::MAX as usize, usize::MAX] {
            let err = stats.grow(n_features).unwrap_err();
            assert!(matches!(err, Error::TooManyFeatures { .. }), "{err:?}");
        }
        assert_eq!(stats.n_features(), 3);
    }

    #[test]
    fn forgotten_features_count_as_never_seen() {
        let mut stats = FeatureStats {
            n_rows: 3,
            doc_freq: vec![1, 3, 1, 0],
        };
        stats.forget(&[1, 2]).unwrap();
        assert_eq!(stats.doc_freq(), &[1, 0, 0, 0]);
        assert!(stats.forget(&[4]).is_err());
        assert!(stats.forget(&[-1]).is_err());
        assert_eq!(stats.n_rows(), 3);
    }

    #[test]
    fn ties_break_by_feature_id() {
        let stats = FeatureStats {
            n_rows: 3,
            doc_freq: vec![1, 3, 1, 0, 3],
        };
        assert_eq!(stats.frequency_order(), vec![1, 4, 0, 2]);
    }
}
