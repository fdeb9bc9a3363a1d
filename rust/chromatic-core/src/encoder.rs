//! The fitted model as plain tables: for every input feature its color (-1 if never seen) and
//! its code within the color (1..size, 0 if never seen). Built from a coloring by relabelling
//! colors by popularity and numbering each color's features by frequency rank.

use crate::coloring::Coloring;
use crate::error::{Error, Result};
use crate::memory::with_capacity;
use crate::parallel::filled;
use crate::vocabulary::Vocabulary;

/// Color of a feature never seen in training.
pub const NO_COLOR: i32 = -1;

/// A fitted encoder: the color and code of every feature, and the size of every color.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoder {
    /// The color of every feature (`NO_COLOR` for a feature never seen in training).
    pub feature_color: Vec<i32>,
    /// The code of every feature within its color (1-based; 0 is "none of the color").
    pub feature_code: Vec<i32>,
    /// Features of every color.
    pub color_sizes: Vec<u32>,
}

impl Encoder {
    /// Dense features each get a color of their own; graph vertices share the colors of
    /// `coloring`. Colors are then ordered by size (largest first), ties going to the color whose
    /// most frequent feature is more frequent; codes follow frequency rank within each color.
    pub fn from_coloring(vocabulary: &Vocabulary, coloring: &Coloring) -> Result<Self> {
        let n_dense = vocabulary.dense_features().len();
        if coloring.colors.len() != vocabulary.n_vertices() {
            return Err(Error::LengthMismatch {
                what: "coloring",
                len: coloring.colors.len(),
                expected_from: "vertices",
                expected: vocabulary.n_vertices(),
            });
        }
        // Provisional classes: 0..n_dense for dense features, then the graph colors in use (a
        // coloring may have far more colors than vertices, most of them empty: the tables follow
        // the colors used). A feature's frequency rank is its position in `vocabulary.ranked()`.
        let mut used: Vec<u32> = with_capacity(coloring.colors.len(), "the color table")?;
        used.extend_from_slice(&coloring.colors);
        used.sort_unstable();
        used.dedup();
        let n_classes = n_dense + used.len();
        let class_of_rank = |rank: usize| -> usize {
            if rank < n_dense {
                rank
            } else {
                let color = coloring.colors[rank - n_dense];
                n_dense
                    + used
                        .binary_search(&color)
                        .expect("every color in use is listed")
            }
        };
        let mut size = filled(n_classes, 0u32, "the color table")?;
        let mut best_rank = filled(n_classes, usize::MAX, "the color table")?;
        for rank in 0..vocabulary.ranked().len() {
            let class = class_of_rank(rank);
            size[class] += 1;
            best_rank[class] = best_rank[class].min(rank);
        }
        let mut by_popularity: Vec<usize> = (0..n_classes).filter(|&c| size[c] > 0).collect();
        by_popularity.sort_unstable_by_key(|&c| (std::cmp::Reverse(size[c]), best_rank[c]));
        let mut label = filled(n_classes, u32::MAX, "the color table")?;
        for (new, &old) in by_popularity.iter().enumerate() {
            label[old] = new as u32;
        }
        let mut feature_color = filled(vocabulary.n_features(), NO_COLOR, "the color table")?;
        let mut feature_code = filled(vocabulary.n_features(), 0i32, "the code table")?;
        let mut color_sizes = vec![0u32; by_popularity.len()];
        for (rank, &feature) in vocabulary.ranked().iter().enumerate() {
            let color = label[class_of_rank(rank)] as usize;
            color_sizes[color] += 1;
            feature_color[feature as usize] = color as i32;
            feature_code[feature as usize] = color_sizes[color] as i32;
        }
        Ok(Encoder {
            feature_color,
            feature_code,
            color_sizes,
        })
    }

    /// Colors (code columns).
    pub fn n_colors(&self) -> usize {
        self.color_sizes.len()
    }

    /// The tables, borrowed.
    pub fn tables(&self) -> EncoderTables<'_> {
        EncoderTables {
            feature_color: &self.feature_color,
            feature_code: &self.feature_code,
            n_colors: self.color_sizes.len(),
        }
    }
}

/// Borrowed encoder tables, as a transform receives them from a saved model.
#[derive(Clone, Copy, Debug)]
pub struct EncoderTables<'a> {
    pub(crate) feature_color: &'a [i32],
    pub(crate) feature_code: &'a [i32],
    pub(crate) n_colors: usize,
}

impl<'a> EncoderTables<'a> {
    /// Checks the tables: the same length, colors in `[0, n_colors)` or `NO_COLOR`, codes >= 1.
    pub fn new(feature_color: &'a [i32], feature_code: &'a [i32], n_colors: usize) -> Result<Self> {
        if feature_code.len() != feature_color.len() {
            return Err(Error::LengthMismatch {
                what: "the code table",
                len: feature_code.len(),
                expected_from: "the color table",
                expected: feature_color.len(),
            });
        }
        Ok(EncoderTables {
            feature_color,
            feature_code,
            n_colors,
        })
    }

    /// Features the tables cover.
    pub fn n_features(&self) -> usize {
        self.feature_color.len()
    }

    /// Colors (code columns).
    pub fn n_colors(&self) -> usize {
        self.n_colors
    }

    /// `Ok(None)` for a feature never seen in training, else its (color, code); an entry outside
    /// the model's colors is a corrupt model, reported rather than trusted.
    #[inline]
    pub(crate) fn lookup(&self, feature: u32) -> Result<Option<(usize, i32)>> {
        let color = self.feature_color[feature as usize];
        if color == NO_COLOR {
            return Ok(None);
        }
        let code = self.feature_code[feature as usize];
        if color < 0 || color as usize >= self.n_colors || code < 1 {
            return Err(Error::InvalidModel(format!(
                "feature {feature} has color {color} and code {code}; expected a color in \
                 [0, {}) and a code >= 1",
                self.n_colors
            )));
        }
        Ok(Some((color as usize, code)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interrupt::Interrupt;
    use crate::matrix::CsrMatrix;
    use crate::statistics::FeatureStats;

    #[test]
    fn colors_by_popularity_and_codes_by_frequency() {
        // Rows: [4 2 0] [4 2] [2 0] [4] [3] []; feature 1 is never seen.
        let indptr = [0i32, 3, 5, 7, 8, 9, 9];
        let indices = [4i32, 2, 0, 4, 2, 2, 0, 4, 3];
        let m = CsrMatrix::<i32, f64>::new(&indptr, &indices, None, 5).unwrap();
        let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
        assert_eq!(stats.doc_freq(), &[2, 0, 3, 1, 3]);
        let vocab = Vocabulary::new(&stats, Some(0.5)).unwrap();
        // Dense: 2 and 4 (3 of 6 rows). Vertices: 0 (vertex 0), 3 (vertex 1), not adjacent.
        assert_eq!(vocab.dense_features(), &[2, 4]);
        let coloring = Coloring {
            colors: vec![0, 0],
            n_colors: 1,
        };
        let enc = Encoder::from_coloring(&vocab, &coloring).unwrap();
        // The shared color (size 2) comes first, then the dense colors by rank: 2, then 4.
        assert_eq!(enc.color_sizes, vec![2, 1, 1]);
        assert_eq!(enc.feature_color, vec![0, NO_COLOR, 1, 0, 2]);
        assert_eq!(enc.feature_code, vec![1, 0, 1, 2, 1]);
    }

    #[test]
    fn tables_follow_the_colors_in_use_not_the_colors_there_are() {
        let indptr = [0i32, 1, 2, 3];
        let indices = [0i32, 1, 2];
        let m = CsrMatrix::<i32, f64>::new(&indptr, &indices, None, 3).unwrap();
        let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
        let vocab = Vocabulary::new(&stats, None).unwrap();
        let coloring = Coloring {
            colors: vec![999_999_999, 7, 999_999_999],
            n_colors: 1_000_000_000,
        };
        let enc = Encoder::from_coloring(&vocab, &coloring).unwrap();
        assert_eq!(enc.color_sizes, vec![2, 1]);
        assert_eq!(enc.feature_color, vec![0, 1, 0]);
        assert_eq!(enc.feature_code, vec![1, 1, 2]);
    }

    #[test]
    fn lookup_refuses_corrupt_tables() {
        let colors = [0, -1, 5];
        let codes = [1, 0, 1];
        let t = EncoderTables::new(&colors, &codes, 2).unwrap();
        assert_eq!(t.lookup(0).unwrap(), Some((0, 1)));
        assert_eq!(t.lookup(1).unwrap(), None);
        assert!(matches!(t.lookup(2), Err(Error::InvalidModel(_))));
        assert!(EncoderTables::new(&colors, &codes[..2], 2).is_err());
    }
}
