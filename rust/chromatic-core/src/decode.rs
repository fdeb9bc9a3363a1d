//! Decoding codes back into the sparse binary rows they stand for.

use crate::encoder::{EncoderTables, NO_COLOR};
use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, POLL_INTERVAL};
use crate::matrix::SparseRows;
use crate::parallel::{balanced_blocks, parallel_blocks};
use crate::parallel::{concat, try_map_blocks};

const EMPTY_SLOT: u32 = u32::MAX;

/// The feature behind each (color, code): `features[offsets[color] + code - 1]`.
struct CodeBook {
    offsets: Vec<usize>,
    features: Vec<u32>,
}

impl CodeBook {
    fn new(tables: &EncoderTables<'_>, color_sizes: &[i64]) -> Result<Self> {
        if color_sizes.len() != tables.n_colors() {
            return Err(Error::LengthMismatch {
                what: "color_sizes",
                len: color_sizes.len(),
                expected_from: "the model's colors",
                expected: tables.n_colors(),
            });
        }
        let mut offsets = Vec::with_capacity(color_sizes.len() + 1);
        offsets.push(0usize);
        for (color, &size) in color_sizes.iter().enumerate() {
            // Every code stands for one feature, so the sizes add up to at most the features.
            let end = usize::try_from(size)
                .ok()
                .and_then(|size| offsets[color].checked_add(size))
                .filter(|&end| end <= tables.n_features());
            let Some(end) = end else {
                return Err(Error::InvalidModel(format!(
                    "color {color} has size {size}; the sizes must be >= 0 and add up to at \
                     most the {} features",
                    tables.n_features()
                )));
            };
            offsets.push(end);
        }
        let mut features = vec![EMPTY_SLOT; offsets[color_sizes.len()]];
        for (feature, (&color, &code)) in tables
            .feature_color
            .iter()
            .zip(tables.feature_code)
            .enumerate()
        {
            if color == NO_COLOR {
                continue;
            }
            let valid_color = color >= 0 && (color as usize) < color_sizes.len();
            if !valid_color || code < 1 || i64::from(code) > color_sizes[color as usize] {
                return Err(Error::InvalidModel(format!(
                    "feature {feature} has color {color} and code {code}, outside the model's \
                     color sizes"
                )));
            }
            let slot = &mut features[offsets[color as usize] + code as usize - 1];
            if *slot != EMPTY_SLOT {
                return Err(Error::InvalidModel(format!(
                    "features {} and {feature} share color {color} and code {code}",
                    *slot
                )));
            }
            *slot = feature as u32;
        }
        Ok(CodeBook { offsets, features })
    }
}

/// Decodes a row-major `(n_rows, n_colors)` code matrix. Every code must be 0 or name a feature.
///
/// # Examples
///
/// ```
/// use chromatic_core::{CollisionPolicy, CsrMatrix, FitParams, Interrupt, decode, encode, fit};
///
/// let (indptr, indices) = ([0i64, 2, 4, 5], [0i64, 2, 1, 2, 0]);
/// let rows = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, 3)?;
/// let params = FitParams { dense_threshold: None, ..FitParams::default() };
/// let encoder = fit(&rows, &params, Interrupt::never())?.encoder;
/// let tables = encoder.tables();
/// let codes = encode(&rows, &tables, CollisionPolicy::MostFrequent, Interrupt::never())?;
/// let sizes: Vec<i64> = encoder.color_sizes.iter().map(|&s| i64::from(s)).collect();
/// let back = decode(&codes.values, codes.n_rows, &tables, &sizes, Interrupt::never())?;
/// assert_eq!(back.indptr, indptr);
/// assert_eq!(back.indices, [0, 2, 1, 2, 0]);
/// # Ok::<(), chromatic_core::Error>(())
/// ```
pub fn decode(
    codes: &[i32],
    n_rows: usize,
    tables: &EncoderTables<'_>,
    color_sizes: &[i64],
    interrupt: Interrupt<'_>,
) -> Result<SparseRows> {
    let n_colors = tables.n_colors();
    if Some(codes.len()) != n_rows.checked_mul(n_colors) {
        return Err(Error::LengthMismatch {
            what: "codes",
            len: codes.len(),
            expected_from: "n_rows × n_colors",
            expected: n_rows.saturating_mul(n_colors),
        });
    }
    let book = CodeBook::new(tables, color_sizes)?;
    let blocks = balanced_blocks(n_rows, parallel_blocks(), |r| r);
    let parts = try_map_blocks(blocks, |rows| {
        let mut lengths = Vec::with_capacity(rows.len());
        let mut indices: Vec<i64> = Vec::new();
        for row in rows.clone() {
            if (row - rows.start) % POLL_INTERVAL == 0 {
                interrupt.check()?;
            }
            let before = indices.len();
            for (color, &code) in codes[row * n_colors..(row + 1) * n_colors]
                .iter()
                .enumerate()
            {
                if code == 0 {
                    continue;
                }
                let size = color_sizes[color];
                let feature = if code > 0 && i64::from(code) <= size {
                    book.features[book.offsets[color] + code as usize - 1]
                } else {
                    EMPTY_SLOT
                };
                if feature == EMPTY_SLOT {
                    return Err(Error::CodeOutOfRange {
                        row,
                        color,
                        code: i64::from(code),
                        size: size as usize,
                    });
                }
                indices.push(i64::from(feature));
            }
            indices[before..].sort_unstable();
            lengths.push(indices.len() - before);
        }
        Ok((lengths, indices))
    })?;
    let mut indptr = Vec::with_capacity(n_rows + 1);
    indptr.push(0i64);
    let mut total = 0i64;
    for (lengths, _) in &parts {
        for &len in lengths {
            total += len as i64;
            indptr.push(total);
        }
    }
    let index_parts: Vec<Vec<i64>> = parts.into_iter().map(|(_, i)| i).collect();
    Ok(SparseRows {
        indptr,
        indices: concat(index_parts.iter().map(Vec::as_slice), "decoded rows")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_codes_to_sorted_rows() {
        let colors = [1, 0, 0, -1];
        let codes_of = [1, 2, 1, 0];
        let tables = EncoderTables::new(&colors, &codes_of, 2).unwrap();
        let sizes = [2i64, 1];
        let codes = [2, 1, 0, 0, 1, 0];
        let rows = decode(&codes, 3, &tables, &sizes, Interrupt::never()).unwrap();
        assert_eq!(rows.indptr, vec![0, 2, 2, 3]);
        assert_eq!(rows.indices, vec![0, 1, 2]);
    }

    #[test]
    fn names_the_bad_code() {
        let colors = [0];
        let codes_of = [1];
        let tables = EncoderTables::new(&colors, &codes_of, 1).unwrap();
        let err = decode(&[1, 2], 2, &tables, &[1], Interrupt::never()).unwrap_err();
        assert_eq!(
            err,
            Error::CodeOutOfRange {
                row: 1,
                color: 0,
                code: 2,
                size: 1
            }
        );
        assert!(decode(&[-1], 1, &tables, &[1], Interrupt::never()).is_err());
        assert!(decode(&[1], 2, &tables, &[1], Interrupt::never()).is_err());
    }

    #[test]
    fn refuses_tables_that_share_a_slot() {
        let colors = [0, 0];
        let codes_of = [1, 1];
        let tables = EncoderTables::new(&colors, &codes_of, 1).unwrap();
        assert!(matches!(
            decode(&[1], 1, &tables, &[2], Interrupt::never()),
            Err(Error::InvalidModel(_))
        ));
    }
}
