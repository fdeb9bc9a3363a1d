//! A whole table at once: every column of a chunk of rows read in one parallel pass, and the
//! rows' feature ids written straight into CSR rows, with no array of ids per column in between.
//!
//! A fit reads chunk after chunk of rows in parallel, each chunk every column in turn (the ids of
//! values the vocabulary holds, and the chunk's own new values), merges the new values column
//! after column and chunk after chunk (so the ids are those that one [`ValueVocabulary::fit`] per
//! column gives), then gathers each chunk's rows. A transform looks values up the same way,
//! column after column within each chunk, and gathers the rows.

use std::ops::Range;

use rayon::prelude::*;

use super::{ChunkValues, ColumnFound, FIRST_LOCAL, NULL, ValueVocabulary, chunks};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::parallel::filled;
use crate::table::columns::{BooleanColumn, IntegerColumn, StringColumn, ValueColumn, ValueKind};
use crate::table::rows::{BlockRows, IdRows, check_lists, join_blocks};

/// The values of one column, of any kind the vocabulary reads.
#[derive(Clone, Copy, Debug)]
pub enum ColumnValues<'a> {
    /// Strings or bytes with Arrow's int32 offsets.
    Strings(StringColumn<'a, i32>),
    /// Strings or bytes with int64 offsets (Arrow's large strings).
    LargeStrings(StringColumn<'a, i64>),
    /// 64-bit integers.
    Integers(IntegerColumn<'a>),
    /// Booleans.
    Booleans(BooleanColumn<'a>),
}

/// Evaluates `$body` with `$v` bound to the column `$values` holds, whatever its kind.
macro_rules! with_column {
    ($values:expr, $v:ident => $body:expr) => {
        match $values {
            ColumnValues::Strings($v) => $body,
            ColumnValues::LargeStrings($v) => $body,
            ColumnValues::Integers($v) => $body,
            ColumnValues::Booleans($v) => $body,
        }
    };
}

fn kind_of<C: ValueColumn>(_: &C) -> ValueKind {
    C::KIND
}

impl ColumnValues<'_> {
    /// Number of values.
    pub fn len(&self) -> usize {
        with_column!(self, v => v.len())
    }

    /// Whether the column holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The kind of every value.
    pub fn kind(&self) -> ValueKind {
        with_column!(self, v => kind_of(v))
    }
}

/// One column of a table.
#[derive(Clone, Copy, Debug)]
pub struct TableColumn<'a> {
    /// The column's number in the vocabulary (the column of its features).
    pub position: u32,
    /// Its values: one per row, or the elements of every row's list.
    pub values: ColumnValues<'a>,
    /// A list column's `n_rows + 1` offsets of each row's list into `values`; `None` when every
    /// row holds one value.
    pub lists: Option<&'a [i64]>,
}

impl TableColumn<'_> {
    /// The values of a range of rows (of a column that [`check_table`] accepted).
    #[inline]
    pub(in crate::table) fn values_of(&self, rows: Range<usize>) -> Range<usize> {
        match self.lists {
            None => rows,
            Some(offsets) => offsets[rows.start] as usize..offsets[rows.end] as usize,
        }
    }

    /// Sets `out[k]` to `key(value)` for the `k`-th value of `values` (of the column's values),
    /// leaving the entry of a null as it is.
    pub(in crate::table) fn keys_of<T>(
        &self,
        values: Range<usize>,
        out: &mut [T],
        interrupt: Interrupt<'_>,
        key: impl Fn(&[u8]) -> T,
    ) -> Result<()> {
        with_column!(&self.values, v => {
            super::for_each_value(v, self.position, values, out, interrupt, |_, value, slot| {
                *slot = key(value);
                Ok(())
            })
        })
    }
}

/// Checks that every column holds `n_rows` rows (and its lists, their elements).
pub(in crate::table) fn check_table(n_rows: usize, columns: &[TableColumn<'_>]) -> Result<()> {
    for column in columns {
        let (position, n_values) = (column.position as usize, column.values.len());
        match column.lists {
            Some(offsets) => check_lists(offsets, n_rows, n_values, position)?,
            None if n_values != n_rows => {
                return Err(Error::ColumnLength {
                    column: position,
                    what: "values",
                    len: n_values,
                    expected: n_rows,
                    why: "one per row",
                });
            }
            None => {}
        }
    }
    Ok(())
}

/// Checks that no two columns of a fit share a position and a kind: their values would be new
/// to the vocabulary each in its own right, and each column's merge adds what it found unaware
/// of the others.
fn check_distinct(columns: &[TableColumn<'_>]) -> Result<()> {
    let mut keys: Vec<(u32, u8)> = columns
        .iter()
        .map(|column| (column.position, column.values.kind().code()))
        .collect();
    keys.sort_unstable();
    match keys.windows(2).find(|pair| pair[0] == pair[1]) {
        Some(pair) => Err(Error::InvalidParameter(format!(
            "two columns of a table have position {} and values of one kind",
            pair[0].0
        ))),
        None => Ok(()),
    }
}

/// Rows gathered at a time: their scalar ids, turned from columns into rows, stay in the
/// first-level caches while each row is sorted.
const GATHER_ROWS: usize = 256;

/// Gathers the rows of `rows` into CSR rows, from `ids[c]`: the ids of column `c`'s values in
/// `rows` (negative for none), where a fit's mark `FIRST_LOCAL - k` stands for `new_ids[c][k]`
/// (the id the merge gave the `k`-th value new to the chunk: resolved here, as the ids are
/// read anyway, rather than in a pass of its own).
fn gather_rows(
    columns: &[TableColumn<'_>],
    rows: Range<usize>,
    ids: &[Vec<i64>],
    new_ids: &[&[i64]],
    interrupt: Interrupt<'_>,
) -> Result<BlockRows> {
    let resolved = |c: usize, id: i64| -> i32 {
        // Ids are below `MAX_FEATURES` (an i32), the marks of no feature negative.
        if id <= FIRST_LOCAL {
            new_ids[c][(FIRST_LOCAL - id) as usize] as i32
        } else {
            id as i32
        }
    };
    // Room for every value of the rows: no row holds more, so the block never grows.
    let mut block = BlockRows::with_rows(rows.len(), ids.iter().map(Vec::len).sum())?;
    let scalars: Vec<usize> = (0..columns.len())
        .filter(|&c| columns[c].lists.is_none())
        .collect();
    let lists: Vec<(usize, &[i64], usize)> = (0..columns.len())
        .filter_map(|c| {
            let offsets = columns[c].lists?;
            Some((c, offsets, offsets[rows.start] as usize))
        })
        .collect();
    let width = scalars.len();
    let mut scratch = filled(GATHER_ROWS * width, 0i32, "gathered ids")?;
    let mut row_ids: Vec<i32> = Vec::with_capacity(columns.len());
    for first in (rows.start..rows.end).step_by(GATHER_ROWS) {
        interrupt.check()?;
        let end = (first + GATHER_ROWS).min(rows.end);
        let at = first - rows.start..end - rows.start;
        for (j, &c) in scalars.iter().enumerate() {
            for (r, &id) in ids[c][at.clone()].iter().enumerate() {
                scratch[r * width + j] = resolved(c, id);
            }
        }
        for row in first..end {
            let r = row - first;
            row_ids.extend(
                scratch[r * width..(r + 1) * width]
                    .iter()
                    .filter(|&&id| id >= 0),
            );
            for &(c, offsets, base) in &lists {
                let elements = offsets[row] as usize - base..offsets[row + 1] as usize - base;
                row_ids.extend(
                    ids[c][elements]
                        .iter()
                        .map(|&id| resolved(c, id))
                        .filter(|&id| id >= 0),
                );
            }
            block.push_row(&mut row_ids)?;
        }
    }
    Ok(block)
}

impl ValueVocabulary {
    /// Adds the new values of every column of a table of `n_rows` rows, in the order of
    /// `columns` (the ids are those of one [`fit`](Self::fit) per column, column after column),
    /// and returns the table's rows as CSR feature rows: each row's ids ascending and distinct,
    /// nulls left out. On error the vocabulary is left as it was.
    ///
    /// # Examples
    ///
    /// ```
    /// use chromatic_core::Interrupt;
    /// use chromatic_core::table::{
    ///     ColumnValues, IntegerColumn, StringColumn, TableColumn, ValueVocabulary,
    /// };
    ///
    /// let site = StringColumn::new(&[0i32, 1, 2, 3], b"bab", None, 0)?;
    /// let ad = IntegerColumn::new(&[7, 7, 9], None, 1)?;
    /// let columns = [
    ///     TableColumn { position: 0, values: ColumnValues::Strings(site), lists: None },
    ///     TableColumn { position: 1, values: ColumnValues::Integers(ad), lists: None },
    /// ];
    /// let mut vocabulary = ValueVocabulary::new();
    /// let rows = vocabulary.fit_rows(3, &columns, Interrupt::never())?;
    /// assert_eq!(rows.indptr, [0, 2, 4, 6]);
    /// assert_eq!(rows.indices, [0, 2, 1, 2, 0, 3]);
    /// # Ok::<(), chromatic_core::Error>(())
    /// ```
    pub fn fit_rows(
        &mut self,
        n_rows: usize,
        columns: &[TableColumn<'_>],
        interrupt: Interrupt<'_>,
    ) -> Result<IdRows> {
        check_table(n_rows, columns)?;
        check_distinct(columns)?;
        let chunks = chunks(n_rows);
        // Every chunk reads its columns in parallel; nothing changes before every value has
        // been checked.
        let read: Vec<Result<Vec<(Vec<i64>, ChunkValues)>>> = chunks
            .par_iter()
            .map(|rows| {
                columns
                    .iter()
                    .map(|column| self.read_column(column, rows.clone(), interrupt))
                    .collect()
            })
            .collect();
        // The chunks' ids by chunk then column, their new values by column then chunk (the
        // order of the merge).
        let mut ids: Vec<Vec<Vec<i64>>> = Vec::with_capacity(chunks.len());
        let mut found: Vec<Vec<ChunkValues>> = columns.iter().map(|_| Vec::new()).collect();
        for chunk in read {
            let mut chunk_ids = Vec::with_capacity(columns.len());
            for ((column_ids, new), column_found) in chunk?.into_iter().zip(&mut found) {
                chunk_ids.push(column_ids);
                column_found.push(new);
            }
            ids.push(chunk_ids);
        }
        let before = self.n_features();
        let mut merged: Vec<ColumnFound<'_>> = columns
            .iter()
            .zip(&mut found)
            .map(|(column, chunks)| ColumnFound {
                column: column.position,
                kind: column.values.kind().code(),
                chunks,
            })
            .collect();
        if let Err(err) = self.merge(&mut merged, interrupt) {
            self.truncate(before);
            return Err(err);
        }
        let parts: Vec<Result<BlockRows>> = chunks
            .into_par_iter()
            .zip(ids)
            .enumerate()
            .map(|(k, (rows, chunk_ids))| {
                let new_ids: Vec<&[i64]> = found.iter().map(|f| f[k].ids.as_slice()).collect();
                gather_rows(columns, rows, &chunk_ids, &new_ids, interrupt)
            })
            .collect();
        let rows = parts
            .into_iter()
            .collect::<Result<Vec<_>>>()
            .and_then(|parts| join_blocks(&parts));
        if rows.is_err() {
            self.truncate(before);
        }
        rows
    }

    /// The ids of a column's values in a chunk of rows, and the chunk's new values.
    fn read_column(
        &self,
        column: &TableColumn<'_>,
        rows: Range<usize>,
        interrupt: Interrupt<'_>,
    ) -> Result<(Vec<i64>, ChunkValues)> {
        let values = column.values_of(rows);
        let mut ids = filled(values.len(), NULL, "value ids")?;
        let new = with_column!(&column.values, v => {
            self.read_chunk(column.position, v, values, &mut ids, interrupt)
        })?;
        Ok((ids, new))
    }

    /// The ids of a column's values in `values` ([`NULL`] for a null, [`UNSEEN`](super::UNSEEN) for a value
    /// the vocabulary does not hold) and the number of unseen values.
    fn look_up_column(
        &self,
        column: &TableColumn<'_>,
        values: Range<usize>,
        interrupt: Interrupt<'_>,
    ) -> Result<(Vec<i64>, u64)> {
        let mut ids = filled(values.len(), NULL, "value ids")?;
        let unseen = with_column!(&column.values, v => {
            self.look_up(column.position, v, values, &mut ids, interrupt)
        })?;
        Ok((ids, unseen))
    }

    /// The rows of a table of `n_rows` rows as CSR feature rows (as [`fit_rows`] gives them) and
    /// the number of values the vocabulary does not hold (no feature). Adds nothing.
    ///
    /// [`fit_rows`]: Self::fit_rows
    pub fn transform_rows(
        &self,
        n_rows: usize,
        columns: &[TableColumn<'_>],
        interrupt: Interrupt<'_>,
    ) -> Result<(IdRows, u64)> {
        check_table(n_rows, columns)?;
        // Column after column within a chunk, as in a fit: one column's table at a time stays
        // in the caches, where rows taken one at a time would visit every table in turn.
        let parts: Vec<Result<(BlockRows, u64)>> = chunks(n_rows)
            .into_par_iter()
            .map(|rows| {
                let mut unseen = 0u64;
                let mut ids = Vec::with_capacity(columns.len());
                for column in columns {
                    let values = column.values_of(rows.clone());
                    let (column_ids, column_unseen) =
                        self.look_up_column(column, values, interrupt)?;
                    ids.push(column_ids);
                    unseen += column_unseen;
                }
                // A lookup marks no value new: nothing to resolve.
                let no_new_ids = vec![&[][..]; columns.len()];
                Ok((
                    gather_rows(columns, rows, &ids, &no_new_ids, interrupt)?,
                    unseen,
                ))
            })
            .collect();
        let parts = parts.into_iter().collect::<Result<Vec<_>>>()?;
        let unseen = parts.iter().map(|(_, unseen)| unseen).sum();
        let blocks: Vec<BlockRows> = parts.into_iter().map(|(block, _)| block).collect();
        Ok((join_blocks(&blocks)?, unseen))
    }
}
