//! The hashing trick on the values of a table, as `FeatureHasher` hashes `column=value` strings:
//! every (column, kind, value) of a row adds ±1 to the column its bytes hash to, with no
//! vocabulary, so a value never seen before has its column like any other.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use rayon::prelude::*;

use super::vocabulary::{TableColumn, check_table, chunks};
use crate::error::Result;
use crate::hashing::{HashedPart, HashedRows, check_n_columns, join_parts};
use crate::interrupt::{Interrupt, POLL_INTERVAL};
use crate::parallel::filled;

/// Seed of the key of a value: fixed, so that a value has one key in every process and run (the
/// seed of the columns is applied to the key).
const KEY_SEED: u64 = 0x6861_7368_6564_7631;

/// The key of a value of a column: its position, its kind and its bytes, hashed.
fn value_key(position: u32, kind: u8, value: &[u8]) -> u64 {
    FixedState::with_seed(KEY_SEED).hash_one((position, kind, value))
}

/// Hashes every row of a table of `n_rows` rows into `n_columns` columns: each distinct
/// (column, kind, value) of a row (nulls left out, a list's repeats once) adds 1 to the column
/// its key hashes to, or with `alternate_sign` ±1 by a second hash bit. Columns whose
/// contributions cancel are not stored. The result does not depend on the number of threads.
///
/// # Examples
///
/// ```
/// use chromatic_core::Interrupt;
/// use chromatic_core::table::{ColumnValues, IntegerColumn, TableColumn, hash_table_rows};
///
/// let ad = IntegerColumn::new(&[7, 7, 9], None, 0)?;
/// let columns = [TableColumn { position: 0, values: ColumnValues::Integers(ad), lists: None }];
/// let hashed = hash_table_rows(3, &columns, 16, false, 0, Interrupt::never())?;
/// assert_eq!(hashed.indptr, [0, 1, 2, 3]);
/// assert_eq!(hashed.indices[0], hashed.indices[1]); // one value, one column
/// # Ok::<(), chromatic_core::Error>(())
/// ```
pub fn hash_table_rows(
    n_rows: usize,
    columns: &[TableColumn<'_>],
    n_columns: usize,
    alternate_sign: bool,
    seed: u64,
    interrupt: Interrupt<'_>,
) -> Result<HashedRows> {
    check_n_columns(n_columns)?;
    check_table(n_rows, columns)?;
    let parts: Vec<Result<HashedPart>> = chunks(n_rows)
        .into_par_iter()
        .map(|rows| {
            // Every column's keys for the chunk (a null has none) and where they start among
            // the column's values, then the rows.
            let mut keys = Vec::with_capacity(columns.len());
            for column in columns {
                let values = column.values_of(rows.clone());
                let first = values.start;
                let mut column_keys = filled(values.len(), None, "value keys")?;
                let kind = column.values.kind().code();
                column.keys_of(values, &mut column_keys, interrupt, |value| {
                    Some(value_key(column.position, kind, value))
                })?;
                keys.push((first, column_keys));
            }
            let mut part = HashedPart::default();
            let mut row_keys: Vec<u64> = Vec::new();
            for row in rows.clone() {
                if (row - rows.start) % POLL_INTERVAL == 0 {
                    interrupt.check()?;
                }
                row_keys.clear();
                for (column, (first, column_keys)) in columns.iter().zip(&keys) {
                    let values = column.values_of(row..row + 1);
                    row_keys.extend(
                        column_keys[values.start - first..values.end - first]
                            .iter()
                            .flatten(),
                    );
                }
                row_keys.sort_unstable();
                row_keys.dedup();
                part.push_row(&row_keys, n_columns, alternate_sign, seed);
            }
            Ok(part)
        })
        .collect();
    let parts = parts.into_iter().collect::<Result<Vec<_>>>()?;
    join_parts(&parts, n_rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parallel::in_pool;
    use crate::table::{ColumnValues, IntegerColumn, StringColumn};

    #[test]
    fn rows_hash_their_values_the_same_way_whatever_the_threads() {
        let n = 5000;
        let ads: Vec<i64> = (0..n as i64).map(|i| i * 31 % 977).collect();
        let valid: Vec<bool> = (0..n).map(|i| i % 7 != 0).collect();
        // Lists of 0 to 3 tags, with repeats within a row.
        let list_offsets: Vec<i64> = (0..=n as i64).map(|i| i * 3 / 2).collect();
        let n_tags = list_offsets[n] as usize;
        let tag_offsets: Vec<i64> = (0..=n_tags as i64).collect();
        let tags: Vec<u8> = (0..n_tags).map(|i| b'a' + (i / 2 % 5) as u8).collect();
        let columns = [
            TableColumn {
                position: 0,
                values: ColumnValues::Integers(IntegerColumn::new(&ads, Some(&valid), 0).unwrap()),
                lists: None,
            },
            TableColumn {
                position: 1,
                values: ColumnValues::LargeStrings(
                    StringColumn::new(&tag_offsets, &tags, None, 1).unwrap(),
                ),
                lists: Some(&list_offsets),
            },
        ];
        let hash = |threads| {
            in_pool(threads, || {
                hash_table_rows(n, &columns, 64, false, 3, Interrupt::never()).unwrap()
            })
        };
        let one = hash(1);
        assert_eq!(hash(3), one);
        for row in 0..n {
            let distinct_tags: std::collections::BTreeSet<u8> = (list_offsets[row]
                ..list_offsets[row + 1])
                .map(|k| tags[k as usize])
                .collect();
            let expected = distinct_tags.len() + usize::from(valid[row]);
            let (start, end) = (one.indptr[row] as usize, one.indptr[row + 1] as usize);
            // Without signs, every distinct value adds one.
            let sum: f64 = one.values[start..end].iter().sum();
            assert_eq!(sum as usize, expected, "row {row}");
        }
        // Rows holding the same ad and no tags hash alike; another seed moves the columns.
        let other = in_pool(2, || {
            hash_table_rows(n, &columns, 64, false, 4, Interrupt::never()).unwrap()
        });
        assert_ne!(other.indices, one.indices);
    }

    #[test]
    fn a_value_is_keyed_by_its_column_and_kind() {
        assert_eq!(value_key(0, 0, b"7"), value_key(0, 0, b"7"));
        assert_ne!(value_key(0, 0, b"7"), value_key(1, 0, b"7"));
        assert_ne!(value_key(0, 0, b"7"), value_key(0, 1, b"7"));
        let err = hash_table_rows(0, &[], 0, true, 0, Interrupt::never()).unwrap_err();
        assert!(err.to_string().contains("hashed columns"), "{err}");
    }
}
