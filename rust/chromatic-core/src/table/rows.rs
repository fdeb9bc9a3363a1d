//! Rows of a table as feature lists: the ids of every column of a row gathered into one CSR row,
//! sorted and without repeats.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, POLL_INTERVAL};
use crate::parallel::{concat, parallel_blocks, try_map_blocks};

/// One column of feature ids: negative ids hold no feature (a null, an unseen or dropped value).
#[derive(Clone, Copy, Debug)]
pub enum IdColumn<'a> {
    /// One id per row.
    PerRow(&'a [i64]),
    /// A list per row (a list column): row `i` holds `ids[offsets[i]..offsets[i + 1]]`. The
    /// offsets need not start at 0 (a sliced Arrow array keeps its parent's elements).
    Lists {
        /// `n_rows + 1` offsets into `ids`.
        offsets: &'a [i64],
        /// The ids of every list, one after the other.
        ids: &'a [i64],
    },
}

/// Rows as CSR feature lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdRows {
    /// `n_rows + 1` row pointers.
    pub indptr: Vec<i64>,
    /// The features of every row, ascending and distinct within a row.
    pub indices: Vec<i32>,
}

/// Gathers the ids of every row from `columns` (each of `n_rows` rows) into CSR rows, sorted and
/// deduplicated within a row (a list holding an element twice has it once), negative ids left
/// out. Parallel over row ranges; the output does not depend on the thread count.
///
/// # Examples
///
/// ```
/// use chromatic_core::Interrupt;
/// use chromatic_core::table::{IdColumn, rows_from_ids};
///
/// let site = [3, -1, 0];
/// let (offsets, tags) = ([0, 3, 3, 4], [5, 1, 5, 2]);
/// let columns = [IdColumn::PerRow(&site), IdColumn::Lists { offsets: &offsets, ids: &tags }];
/// let rows = rows_from_ids(3, &columns, Interrupt::never())?;
/// assert_eq!(rows.indptr, [0, 3, 3, 5]);
/// assert_eq!(rows.indices, [1, 3, 5, 0, 2]);
/// # Ok::<(), chromatic_core::Error>(())
/// ```
pub fn rows_from_ids(
    n_rows: usize,
    columns: &[IdColumn<'_>],
    interrupt: Interrupt<'_>,
) -> Result<IdRows> {
    for (c, column) in columns.iter().enumerate() {
        let (what, len, expected, why) = match column {
            IdColumn::PerRow(ids) => ("ids", ids.len(), n_rows, "one per row"),
            IdColumn::Lists { offsets, .. } => (
                "list offsets",
                offsets.len(),
                n_rows + 1,
                "one per row, plus one",
            ),
        };
        if len != expected {
            return Err(Error::ColumnLength {
                column: c,
                what,
                len,
                expected,
                why,
            });
        }
    }
    let blocks = row_blocks(n_rows);
    let parts = try_map_blocks(blocks, |rows| block_rows(columns, rows, interrupt))?;
    join_blocks(&parts)
}

/// The rows of one block of consecutive rows, as they are gathered.
pub(crate) struct BlockRows {
    lengths: Vec<u32>,
    indices: Vec<i32>,
}

impl BlockRows {
    /// Room for `n_rows` rows of `n_ids` ids in all (the rows may take more).
    pub(crate) fn with_rows(n_rows: usize, n_ids: usize) -> Result<Self> {
        Ok(BlockRows {
            lengths: crate::memory::with_capacity(n_rows, "row lengths")?,
            indices: crate::memory::with_capacity(n_ids, "row features")?,
        })
    }

    /// Ends the next row: its `ids`, sorted and deduplicated here (then cleared for the next).
    pub(crate) fn push_row(&mut self, ids: &mut Vec<i32>) -> Result<()> {
        sort_row(ids);
        ids.dedup();
        crate::memory::try_reserve(&mut self.indices, ids.len(), "row features")?;
        self.indices.extend_from_slice(ids);
        self.lengths.push(ids.len() as u32);
        ids.clear();
        Ok(())
    }
}

/// Rows up to this long are sorted by insertion.
const INSERTION_SORT_MAX: usize = 64;

/// Sorts a row's ids. A table's rows are nearly sorted already (ids are given column after
/// column, and most values of a row were seen in earlier rows), so a short row is sorted by
/// insertion, in time linear in its length plus its inversions.
#[inline]
fn sort_row(ids: &mut [i32]) {
    if ids.len() > INSERTION_SORT_MAX {
        ids.sort_unstable();
        return;
    }
    for k in 1..ids.len() {
        let id = ids[k];
        let mut at = k;
        while at > 0 && ids[at - 1] > id {
            ids[at] = ids[at - 1];
            at -= 1;
        }
        ids[at] = id;
    }
}

/// The CSR rows of consecutive blocks.
pub(crate) fn join_blocks(parts: &[BlockRows]) -> Result<IdRows> {
    let n_rows = parts.iter().map(|p| p.lengths.len()).sum::<usize>();
    let indices = concat(parts.iter().map(|p| p.indices.as_slice()), "row features")?;
    let mut indptr = Vec::new();
    crate::memory::try_reserve(&mut indptr, n_rows + 1, "row pointers")?;
    indptr.push(0i64);
    let mut end = 0i64;
    for part in parts {
        for &len in &part.lengths {
            end += i64::from(len);
            indptr.push(end);
        }
    }
    Ok(IdRows { indptr, indices })
}

/// Checks the list offsets of column `column` (`n_rows + 1` of them) row by row: each list starts
/// where it may and ends at or after its start, within the column's `n_values` elements.
pub(crate) fn check_lists(
    offsets: &[i64],
    n_rows: usize,
    n_values: usize,
    column: usize,
) -> Result<()> {
    if offsets.len() != n_rows + 1 {
        return Err(Error::ColumnLength {
            column,
            what: "list offsets",
            len: offsets.len(),
            expected: n_rows + 1,
            why: "one per row, plus one",
        });
    }
    for (row, pair) in offsets.windows(2).enumerate() {
        let (from, to) = (pair[0], pair[1]);
        if from < 0 || from > to || to as u64 > n_values as u64 {
            return Err(Error::ColumnOffsets {
                column,
                row,
                what: "list offsets",
                start: from,
                end: to,
                len: n_values,
            });
        }
    }
    Ok(())
}

fn block_rows(
    columns: &[IdColumn<'_>],
    rows: Range<usize>,
    interrupt: Interrupt<'_>,
) -> Result<BlockRows> {
    let mut block = BlockRows::with_rows(rows.len(), 0)?;
    let mut row_ids: Vec<i32> = Vec::new();
    let start = rows.start;
    for row in rows {
        if (row - start) % POLL_INTERVAL == 0 {
            interrupt.check()?;
        }
        for (c, column) in columns.iter().enumerate() {
            match *column {
                IdColumn::PerRow(ids) => push_id(&mut row_ids, ids[row], c, row)?,
                IdColumn::Lists { offsets, ids } => {
                    let (from, to) = (offsets[row], offsets[row + 1]);
                    if from < 0 || from > to || to as u64 > ids.len() as u64 {
                        return Err(Error::ColumnOffsets {
                            column: c,
                            row,
                            what: "list offsets",
                            start: from,
                            end: to,
                            len: ids.len(),
                        });
                    }
                    for &id in &ids[from as usize..to as usize] {
                        push_id(&mut row_ids, id, c, row)?;
                    }
                }
            }
        }
        block.push_row(&mut row_ids)?;
    }
    Ok(block)
}

#[inline]
fn push_id(row_ids: &mut Vec<i32>, id: i64, column: usize, row: usize) -> Result<()> {
    if id < 0 {
        return Ok(());
    }
    let id = i32::try_from(id).map_err(|_| Error::FeatureIdOutOfRange { column, row, id })?;
    row_ids.push(id);
    Ok(())
}

/// Row ranges for the parallel pass: a few per thread, of equal row counts.
fn row_blocks(n_rows: usize) -> Vec<Range<usize>> {
    let target = parallel_blocks().max(1);
    let size = n_rows.div_ceil(target).max(1);
    (0..n_rows.div_ceil(size))
        .map(|b| b * size..((b + 1) * size).min(n_rows))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parallel::in_pool;

    #[test]
    fn rows_of_every_length_are_sorted_as_by_sort_unstable() {
        // Lengths on both sides of the insertion sort's limit, in order, reversed and mixed.
        for len in [
            0,
            1,
            2,
            5,
            INSERTION_SORT_MAX - 1,
            INSERTION_SORT_MAX,
            INSERTION_SORT_MAX + 1,
            200,
        ] {
            let mixed: Vec<i32> = (0..len as i32).map(|k| (k * 7919) % 97 - 40).collect();
            let reversed: Vec<i32> = (0..len as i32).rev().collect();
            let sorted: Vec<i32> = (0..len as i32).collect();
            for row in [mixed, reversed, sorted] {
                let mut ours = row.clone();
                sort_row(&mut ours);
                let mut expected = row;
                expected.sort_unstable();
                assert_eq!(ours, expected, "length {len}");
            }
        }
    }

    #[test]
    fn rows_are_sorted_deduplicated_and_skip_negative_ids() {
        let a = [4, -1, 2, 7];
        let b = [4, 0, -2, 1];
        let offsets = [1, 5, 5, 6, 8];
        let lists = [99, 3, 3, -1, 9, 2, 7, 7];
        let columns = [
            IdColumn::PerRow(&a),
            IdColumn::PerRow(&b),
            IdColumn::Lists {
                offsets: &offsets,
                ids: &lists,
            },
        ];
        let rows = rows_from_ids(4, &columns, Interrupt::never()).unwrap();
        assert_eq!(rows.indptr, [0, 3, 4, 5, 7]);
        assert_eq!(rows.indices, [3, 4, 9, 0, 2, 1, 7]);
        let empty = rows_from_ids(0, &[], Interrupt::never()).unwrap();
        assert_eq!(empty.indptr, [0]);
        let no_columns = rows_from_ids(2, &[], Interrupt::never()).unwrap();
        assert_eq!(no_columns.indptr, [0, 0, 0]);
    }

    #[test]
    fn output_does_not_depend_on_the_thread_count() {
        let n = 50_000usize;
        let per_row: Vec<i64> = (0..n as i64).map(|i| (i * 7919) % 1000 - 100).collect();
        let offsets: Vec<i64> = (0..=n as i64).map(|i| i * 3).collect();
        let lists: Vec<i64> = (0..3 * n as i64).map(|i| (i * 31) % 500).collect();
        let columns = [
            IdColumn::PerRow(&per_row),
            IdColumn::Lists {
                offsets: &offsets,
                ids: &lists,
            },
        ];
        let one = in_pool(1, || {
            rows_from_ids(n, &columns, Interrupt::never()).unwrap()
        });
        for threads in [2, 5] {
            let many = in_pool(threads, || {
                rows_from_ids(n, &columns, Interrupt::never()).unwrap()
            });
            assert_eq!(many, one);
        }
        for row in one.indptr.windows(2) {
            let features = &one.indices[row[0] as usize..row[1] as usize];
            assert!(features.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn bad_columns_are_refused_with_column_and_row() {
        let ids = [1, 2];
        let err = rows_from_ids(3, &[IdColumn::PerRow(&ids)], Interrupt::never()).unwrap_err();
        assert!(matches!(
            err,
            Error::ColumnLength {
                column: 0,
                what: "ids",
                ..
            }
        ));
        let offsets = [0, 1];
        let err = rows_from_ids(
            2,
            &[
                IdColumn::PerRow(&[0, 0]),
                IdColumn::Lists {
                    offsets: &offsets,
                    ids: &ids,
                },
            ],
            Interrupt::never(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("column 1: list offsets has 2"),
            "{err}"
        );
        for offsets in [[0, 2, 1], [0, 1, 3], [-1, 0, 1]] {
            let err = rows_from_ids(
                2,
                &[IdColumn::Lists {
                    offsets: &offsets,
                    ids: &ids,
                }],
                Interrupt::never(),
            )
            .unwrap_err();
            assert!(
                matches!(err, Error::ColumnOffsets { column: 0, .. }),
                "{err}"
            );
        }
        let err = rows_from_ids(
            2,
            &[IdColumn::PerRow(&[0, 0]), IdColumn::PerRow(&[1, 1 << 40])],
            Interrupt::never(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            Error::FeatureIdOutOfRange {
                column: 1,
                row: 1,
                id: 1 << 40
            }
        );
    }
}
