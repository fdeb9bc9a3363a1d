//! The value vocabulary: every distinct (column, kind, value) of a table's categorical columns
//! and its feature id.
//!
//! Ids are dense, 0, 1, 2, ..., in order of first appearance: column after column as fitted,
//! rows in order. A fit splits the rows into chunks that are read in parallel (each chunk checks
//! its rows, looks every value up and collects the values it sees first, in order), then merges
//! the chunks' new values in chunk order, so the ids do not depend on how many threads read.
//!
//! The values live in one byte arena with offsets. Each (column, kind) has its own hash table of
//! slots that hold a value's place in the arena and its id: a lookup touches the table and the
//! value's bytes, nothing else, and memory stays linear in the bytes of the distinct values.

use std::collections::HashMap;
use std::ops::Range;

use hashbrown::HashTable;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, POLL_INTERVAL};
use crate::matrix::MAX_FEATURES;
use crate::memory::{try_reserve, with_capacity};
use crate::parallel::{filled, split_mut};
use crate::table::columns::{ValueColumn, ValueKind};

mod keys;
mod merge;
mod table_rows;

use keys::{KeyHasher, Slot, Tables, Values, index};
use merge::ColumnFound;
pub(in crate::table) use table_rows::check_table;
pub use table_rows::{ColumnValues, TableColumn};

/// The id of a null: it holds no feature.
pub const NULL: i64 = -1;

/// The id of a value that the vocabulary does not hold (lookups only).
pub const UNSEEN: i64 = -2;

/// During a fit, a value first seen in its chunk is marked `FIRST_LOCAL - k` (its `k`-th new
/// value) until the merge gives it an id.
const FIRST_LOCAL: i64 = -3;

/// Rows per chunk at least: below this, a chunk's bookkeeping costs more than its parallelism
/// saves. Tests cut even small columns into several chunks, so that the merge of values new to
/// several is exercised on tables of a few thousand rows.
const MIN_CHUNK: usize = if cfg!(test) { 1 << 10 } else { 1 << 16 };

/// Every distinct (column, kind, value) and its feature id. See the module documentation.
#[derive(Clone, Debug)]
pub struct ValueVocabulary {
    values: Values,
    tables: Tables,
    hasher: KeyHasher,
}

/// What a chunk of a fit found: the values it saw first, in order of first appearance (their
/// bytes copied to an arena of the chunk, so that the merge reads them in order), and after the
/// merge the id of each.
struct ChunkValues {
    bytes: Vec<u8>,
    slots: Vec<Slot>,
    hashes: Vec<u64>,
    ids: Vec<i64>,
}

impl Default for ValueVocabulary {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for ValueVocabulary {
    /// Same features with the same ids (the hash tables are an index of them).
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values
    }
}

impl Eq for ValueVocabulary {}

impl ValueVocabulary {
    /// An empty vocabulary.
    pub fn new() -> Self {
        ValueVocabulary {
            values: Values::new(),
            tables: HashMap::new(),
            hasher: KeyHasher::default(),
        }
    }

    #[cfg(test)]
    fn with_weak_hash() -> Self {
        ValueVocabulary {
            hasher: KeyHasher { weak: true },
            ..Self::new()
        }
    }

    /// Number of features (distinct values).
    pub fn n_features(&self) -> usize {
        self.values.len()
    }

    /// The column of every feature.
    pub fn column_of_feature(&self) -> &[u32] {
        &self.values.columns
    }

    /// The kind of every feature, as [`ValueKind::code`].
    pub fn kind_of_feature(&self) -> &[u8] {
        &self.values.kinds
    }

    /// `n_features + 1` offsets of every feature's value into [`value_bytes`](Self::value_bytes).
    pub fn value_offsets(&self) -> &[u64] {
        &self.values.offsets
    }

    /// The bytes of every feature's value, one after the other.
    pub fn value_bytes(&self) -> &[u8] {
        &self.values.bytes
    }

    /// The id of a value, `None` where the vocabulary does not hold it.
    pub fn get(&self, column: u32, kind: ValueKind, value: &[u8]) -> Option<u32> {
        let kind = kind.code();
        let table = self.tables.get(&(column, kind))?;
        let hash = self.hasher.hash(value);
        self.find(table, hash, value)
    }

    #[inline]
    fn find(&self, table: &HashTable<Slot>, hash: u64, value: &[u8]) -> Option<u32> {
        let arena = &self.values.bytes;
        table.find(hash, |s| s.holds(arena, value)).map(|s| s.id)
    }

    /// Adds the values of a column that the vocabulary does not hold yet (in order of first
    /// appearance) and returns the id of every row's value, [`NULL`] for a null. On error the
    /// vocabulary is left as it was.
    ///
    /// # Examples
    ///
    /// ```
    /// use chromatic_core::Interrupt;
    /// use chromatic_core::table::{NULL, StringColumn, ValueVocabulary};
    ///
    /// let mut vocabulary = ValueVocabulary::new();
    /// let offsets = [0i32, 1, 2, 2, 3];
    /// let column = StringColumn::new(&offsets, b"bab", Some(&[true, true, false, true]), 0)?;
    /// let ids = vocabulary.fit(0, &column, Interrupt::never())?;
    /// assert_eq!(ids, [0, 1, NULL, 0]);
    /// # Ok::<(), chromatic_core::Error>(())
    /// ```
    pub fn fit<C: ValueColumn>(
        &mut self,
        column: u32,
        values: &C,
        interrupt: Interrupt<'_>,
    ) -> Result<Vec<i64>> {
        let mut ids = filled(values.len(), NULL, "value ids")?;
        let chunks = chunks(values.len());
        // Read every chunk in parallel: nothing changes before every row has been checked.
        let mut found: Vec<ChunkValues> = {
            let pieces = split_mut(&mut ids, chunks.iter().map(ExactSizeIterator::len));
            let outputs: Vec<Result<ChunkValues>> = chunks
                .clone()
                .into_par_iter()
                .zip(pieces)
                .map(|(rows, out)| self.read_chunk(column, values, rows, out, interrupt))
                .collect();
            outputs.into_iter().collect::<Result<_>>()?
        };
        let before = self.n_features();
        let mut merged = [ColumnFound {
            column,
            kind: C::KIND.code(),
            chunks: &mut found,
        }];
        if let Err(err) = self.merge(&mut merged, interrupt) {
            self.truncate(before);
            return Err(err);
        }
        let pieces = split_mut(&mut ids, chunks.iter().map(ExactSizeIterator::len));
        pieces.into_par_iter().zip(&found).for_each(|(out, chunk)| {
            for id in out.iter_mut().filter(|id| **id <= FIRST_LOCAL) {
                *id = chunk.ids[(FIRST_LOCAL - *id) as usize];
            }
        });
        Ok(ids)
    }

    /// Checks a chunk's rows and looks their values up: `out` gets the id of every value the
    /// vocabulary holds, [`NULL`] for nulls, and `FIRST_LOCAL - k` for the chunk's `k`-th new
    /// value.
    fn read_chunk<C: ValueColumn>(
        &self,
        column: u32,
        values: &C,
        rows: Range<usize>,
        out: &mut [i64],
        interrupt: Interrupt<'_>,
    ) -> Result<ChunkValues> {
        let kind = C::KIND.code();
        let hasher = self.hasher;
        let table = self.tables.get(&(column, kind));
        let mut new = ChunkValues {
            bytes: Vec::new(),
            slots: Vec::new(),
            hashes: Vec::new(),
            ids: Vec::new(),
        };
        // The chunk's new values, by hash (`id` is their index in `new`).
        let mut local: HashTable<Slot> = HashTable::new();
        for_each_value(values, column, rows, out, interrupt, |row, value, slot| {
            let hash = hasher.hash(value);
            if let Some(id) = table.and_then(|t| self.find(t, hash, value)) {
                *slot = i64::from(id);
                return Ok(());
            }
            let k = if let Some(s) = local.find(hash, |s| s.holds(&new.bytes, value)) {
                s.id
            } else {
                let k = new.slots.len() as u32;
                if u32::try_from(value.len()).is_err() {
                    return Err(Error::InvalidParameter(format!(
                        "column {column}, row {row}: a value of more than 2^32 bytes"
                    )));
                }
                let hashes = &new.hashes;
                local
                    .try_reserve(1, |s| hashes[s.id as usize])
                    .map_err(|_| Error::OutOfMemory {
                        what: "chunk value table",
                        bytes: (k as usize + 1).saturating_mul(2 * std::mem::size_of::<Slot>()),
                    })?;
                try_reserve(&mut new.bytes, value.len(), "chunk values")?;
                try_reserve(&mut new.slots, 1, "chunk value slots")?;
                try_reserve(&mut new.hashes, 1, "chunk value hashes")?;
                let s = Slot::new(new.bytes.len() as u64, value, k);
                new.bytes.extend_from_slice(value);
                new.slots.push(s);
                new.hashes.push(hash);
                local.insert_unique(hash, s, |s| new.hashes[s.id as usize]);
                k
            };
            *slot = FIRST_LOCAL - i64::from(k);
            Ok(())
        })?;
        Ok(new)
    }

    /// Forgets the features from `n` on (undoes a failed fit).
    fn truncate(&mut self, n: usize) {
        for table in self.tables.values_mut() {
            table.retain(|s| (s.id as usize) < n);
        }
        self.tables.retain(|_, table| !table.is_empty());
        self.values.truncate(n);
    }

    /// The id of every row's value: [`NULL`] for a null, [`UNSEEN`] for a value the vocabulary
    /// does not hold. Never adds a value.
    pub fn transform<C: ValueColumn>(
        &self,
        column: u32,
        values: &C,
        interrupt: Interrupt<'_>,
    ) -> Result<Vec<i64>> {
        let mut ids = filled(values.len(), NULL, "value ids")?;
        let chunks = chunks(values.len());
        let pieces = split_mut(&mut ids, chunks.iter().map(ExactSizeIterator::len));
        let outputs: Vec<Result<u64>> = chunks
            .into_par_iter()
            .zip(pieces)
            .map(|(rows, out)| self.look_up(column, values, rows, out, interrupt))
            .collect();
        outputs.into_iter().collect::<Result<Vec<u64>>>()?;
        Ok(ids)
    }

    /// Looks the values `rows` of a column up: `out` gets the id of each, [`NULL`] for a null
    /// (as it holds on entry) and [`UNSEEN`] for a value the vocabulary does not hold. Returns
    /// the number of unseen values.
    fn look_up<C: ValueColumn>(
        &self,
        column: u32,
        values: &C,
        rows: Range<usize>,
        out: &mut [i64],
        interrupt: Interrupt<'_>,
    ) -> Result<u64> {
        let table = self.tables.get(&(column, C::KIND.code()));
        let mut unseen = 0u64;
        for_each_value(values, column, rows, out, interrupt, |_, value, id| {
            let found = table.and_then(|t| self.find(t, self.hasher.hash(value), value));
            unseen += u64::from(found.is_none());
            *id = found.map_or(UNSEEN, i64::from);
            Ok(())
        })?;
        Ok(unseen)
    }

    /// Keeps the features with `keep` (one flag per feature), renumbered densely in their old
    /// order; returns the new id of every old one (-1 for a dropped feature).
    pub fn retain(&mut self, keep: &[bool]) -> Result<Vec<i64>> {
        let n = self.n_features();
        if keep.len() != n {
            return Err(Error::LengthMismatch {
                what: "keep",
                len: keep.len(),
                expected_from: "the vocabulary's features",
                expected: n,
            });
        }
        let mut new_ids = with_capacity(n, "renumbered features")?;
        let n_kept = keep.iter().filter(|&&k| k).count();
        let kept_bytes: usize = (0..n)
            .filter(|&i| keep[i])
            .map(|i| self.values.bytes_of(i).len())
            .sum();
        let mut values = Values {
            columns: with_capacity(n_kept, "vocabulary columns")?,
            kinds: with_capacity(n_kept, "vocabulary kinds")?,
            offsets: with_capacity(n_kept + 1, "vocabulary offsets")?,
            bytes: with_capacity(kept_bytes, "vocabulary values")?,
        };
        values.offsets.push(0);
        let mut next = 0i64;
        for (old, &kept) in keep.iter().enumerate() {
            if kept {
                let v = &self.values;
                values.push(v.columns[old], v.kinds[old], v.bytes_of(old))?;
                new_ids.push(next);
                next += 1;
            } else {
                new_ids.push(-1);
            }
        }
        self.tables = index(&values, self.hasher)?;
        self.values = values;
        Ok(new_ids)
    }

    /// Rebuilds a vocabulary from the arrays it exports ([`column_of_feature`],
    /// [`kind_of_feature`], [`value_offsets`], [`value_bytes`]), checking that they make one:
    /// lengths that agree, offsets from 0, monotone, ending at the bytes' length, known kinds,
    /// values of the size their kind has, and no key twice.
    ///
    /// [`column_of_feature`]: Self::column_of_feature
    /// [`kind_of_feature`]: Self::kind_of_feature
    /// [`value_offsets`]: Self::value_offsets
    /// [`value_bytes`]: Self::value_bytes
    pub fn from_arrays(
        columns: Vec<u32>,
        kinds: Vec<u8>,
        offsets: Vec<u64>,
        bytes: Vec<u8>,
    ) -> Result<Self> {
        let invalid = |message: String| Err(Error::InvalidVocabulary(message));
        let n = columns.len();
        if n > MAX_FEATURES {
            return Err(Error::TooManyFeatures {
                n_features: n,
                limit: MAX_FEATURES,
            });
        }
        if kinds.len() != n {
            return invalid(format!(
                "kind_of_feature has {} entries but column_of_feature has {n}",
                kinds.len()
            ));
        }
        if offsets.len() != n + 1 {
            return invalid(format!(
                "value_offsets has {} entries, expected {} (one per feature, plus one)",
                offsets.len(),
                n + 1
            ));
        }
        if offsets[0] != 0 || offsets[n] != bytes.len() as u64 {
            return invalid(format!(
                "value_offsets run from {} to {}, expected 0 to {} (the length of value_bytes)",
                offsets[0],
                offsets[n],
                bytes.len()
            ));
        }
        for id in 0..n {
            let (start, end) = (offsets[id], offsets[id + 1]);
            if start > end {
                return invalid(format!(
                    "value_offsets decrease at feature {id}: {start} then {end}"
                ));
            }
            let Some(kind) = ValueKind::from_code(kinds[id]) else {
                return invalid(format!(
                    "feature {id} has kind {}, not 0 (string), 1 (integer) or 2 (boolean)",
                    kinds[id]
                ));
            };
            let len = end - start;
            if u32::try_from(len).is_err() {
                return invalid(format!("feature {id} has a value of more than 2^32 bytes"));
            }
            if kind.fixed_len().is_some_and(|fixed| fixed as u64 != len) {
                return invalid(format!(
                    "feature {id} is {kind:?} but its value has {len} bytes, not {}",
                    kind.fixed_len().unwrap_or(0)
                ));
            }
            if kind == ValueKind::Boolean && bytes[start as usize] > 1 {
                return invalid(format!("feature {id} is a boolean other than 0 and 1"));
            }
        }
        let values = Values {
            columns,
            kinds,
            offsets,
            bytes,
        };
        let hasher = KeyHasher::default();
        let tables = index(&values, hasher)?;
        Ok(ValueVocabulary {
            values,
            tables,
            hasher,
        })
    }
}

/// Calls `visit(row, value, out)` for every row of `rows` that holds a value, once the row is
/// checked (nulls are skipped), with `out` the row's entry of `out` (which starts at `rows`).
fn for_each_value<C: ValueColumn, T>(
    values: &C,
    column: u32,
    rows: Range<usize>,
    out: &mut [T],
    interrupt: Interrupt<'_>,
    mut visit: impl FnMut(usize, &[u8], &mut T) -> Result<()>,
) -> Result<()> {
    let mut scratch = [0u8; 8];
    let start = rows.start;
    for (row, slot) in rows.zip(out.iter_mut()) {
        if (row - start) % POLL_INTERVAL == 0 {
            interrupt.check()?;
        }
        if values.check(row, column)? {
            visit(row, values.bytes(row, &mut scratch), slot)?;
        }
    }
    Ok(())
}

/// Contiguous row chunks for a parallel read: a couple per thread, none smaller than
/// `MIN_CHUNK` rows. Fewer chunks mean fewer values new to several chunks at once.
pub(in crate::table) fn chunks(n: usize) -> Vec<Range<usize>> {
    let target = (rayon::current_num_threads() * 2).max(1);
    let size = n.div_ceil(target).max(MIN_CHUNK);
    (0..n.div_ceil(size))
        .map(|c| c * size..((c + 1) * size).min(n))
        .collect()
}

#[cfg(test)]
mod tests;
