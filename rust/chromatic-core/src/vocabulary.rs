//! Which features become graph vertices: seen features below the dense threshold, numbered by
//! frequency rank. Dense features (present in at least `dense_threshold` of the rows) are kept out
//! of the graph and get a color of their own.

use crate::error::{Error, Result};
use crate::parallel::filled;
use crate::statistics::FeatureStats;

/// Marks a feature that is not a vertex (never seen, or dense).
pub const NOT_A_VERTEX: u32 = u32::MAX;

/// The features of a fit as graph vertices: seen features in frequency order, dense features
/// apart, and the vertex of every feature.
#[derive(Clone, Debug)]
pub struct Vocabulary {
    /// Seen features in frequency order: the dense ones first, then vertex 0, 1, ...
    ranked: Vec<u32>,
    n_dense: usize,
    vertex_of: Vec<u32>,
}

impl Vocabulary {
    /// `dense_threshold`: share of rows in (0, 1] from which a feature is dense; `None` for no
    /// dense features.
    pub fn new(stats: &FeatureStats, dense_threshold: Option<f64>) -> Result<Self> {
        let ranked = stats.frequency_order();
        let doc_freq = stats.doc_freq();
        let n_dense = match dense_threshold {
            None => 0,
            Some(t) if t > 0.0 && t <= 1.0 => {
                // A share, compared as a (correctly rounded) division: `df >= t * n` can miss a
                // feature present in exactly that share when the product rounds up.
                let n_rows = stats.n_rows() as f64;
                ranked.partition_point(|&f| f64::from(doc_freq[f as usize]) / n_rows >= t)
            }
            Some(t) => {
                return Err(Error::InvalidParameter(format!(
                    "dense_threshold must be in (0, 1], got {t}"
                )));
            }
        };
        let mut vertex_of = filled(stats.n_features(), NOT_A_VERTEX, "the vertex table")?;
        for (vertex, &feature) in ranked[n_dense..].iter().enumerate() {
            vertex_of[feature as usize] = vertex as u32;
        }
        Ok(Vocabulary {
            ranked,
            n_dense,
            vertex_of,
        })
    }

    /// The vocabulary whose vertex `v` is feature `vertex_features[v]`, over `n_features`
    /// features (no dense ones): another process's `vertex_features`, to count the pairs of
    /// its rows with the same vertex ids.
    pub fn from_vertices(vertex_features: &[u32], n_features: usize) -> Result<Self> {
        let mut vertex_of = filled(n_features, NOT_A_VERTEX, "the vertex table")?;
        for (vertex, &feature) in vertex_features.iter().enumerate() {
            let slot = vertex_of
                .get_mut(feature as usize)
                .filter(|slot| **slot == NOT_A_VERTEX)
                .ok_or_else(|| {
                    Error::InvalidParameter(format!(
                        "vertex {vertex} is feature {feature}, which is repeated or outside \
                         [0, {n_features})"
                    ))
                })?;
            *slot = vertex as u32;
        }
        Ok(Vocabulary {
            ranked: vertex_features.to_vec(),
            n_dense: 0,
            vertex_of,
        })
    }

    /// Features.
    pub fn n_features(&self) -> usize {
        self.vertex_of.len()
    }

    /// Vertices.
    pub fn n_vertices(&self) -> usize {
        self.ranked.len() - self.n_dense
    }

    /// Seen features, most frequent first.
    pub fn ranked(&self) -> &[u32] {
        &self.ranked
    }

    /// The dense features (their own colors, outside the graph).
    pub fn dense_features(&self) -> &[u32] {
        &self.ranked[..self.n_dense]
    }

    /// The feature of every vertex, by vertex id.
    pub fn vertex_features(&self) -> &[u32] {
        &self.ranked[self.n_dense..]
    }

    /// Vertex id of `feature`, or `NOT_A_VERTEX`.
    #[inline]
    pub fn vertex_of(&self, feature: u32) -> u32 {
        self.vertex_of[feature as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interrupt::Interrupt;
    use crate::matrix::CsrMatrix;

    #[test]
    fn dense_features_are_not_vertices() {
        // Feature 3 in 3 of 4 rows, feature 1 in 2, feature 0 in 1, feature 2 never.
        let indptr = [0i32, 2, 4, 5, 6];
        let indices = [3i32, 1, 3, 1, 3, 0];
        let m = CsrMatrix::<i32, f64>::new(&indptr, &indices, None, 4).unwrap();
        let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
        assert_eq!(stats.doc_freq(), &[1, 2, 0, 3]);
        let vocab = Vocabulary::new(&stats, Some(0.75)).unwrap();
        assert_eq!(vocab.dense_features(), &[3]);
        assert_eq!(vocab.vertex_features(), &[1, 0]);
        assert_eq!(vocab.vertex_of(1), 0);
        assert_eq!(vocab.vertex_of(3), NOT_A_VERTEX);
        assert_eq!(vocab.vertex_of(2), NOT_A_VERTEX);
        let vocab = Vocabulary::new(&stats, None).unwrap();
        assert_eq!(vocab.n_vertices(), 3);
        assert!(Vocabulary::new(&stats, Some(0.0)).is_err());
        // Exactly 7 of 100 rows is a share of 0.07, though 0.07 * 100 rounds above 7.
        let indptr: Vec<i32> = (0..=100).collect();
        let indices: Vec<i32> = (0..100).map(|r| i32::from(r >= 7)).collect();
        let m = CsrMatrix::<i32, f64>::new(&indptr, &indices, None, 2).unwrap();
        let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
        let vocab = Vocabulary::new(&stats, Some(0.07)).unwrap();
        assert_eq!(vocab.dense_features(), &[1, 0]);
        assert!(Vocabulary::new(&stats, Some(f64::NAN)).is_err());
    }

    #[test]
    fn vertices_of_another_vocabulary_keep_their_ids() {
        let vocab = Vocabulary::from_vertices(&[3, 0, 5], 6).unwrap();
        assert_eq!(vocab.n_vertices(), 3);
        assert_eq!(vocab.vertex_of(5), 2);
        assert_eq!(vocab.vertex_of(1), NOT_A_VERTEX);
        assert!(Vocabulary::from_vertices(&[3, 3], 6).is_err());
        assert!(Vocabulary::from_vertices(&[6], 6).is_err());
    }
}
