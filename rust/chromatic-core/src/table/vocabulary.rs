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
use std::hash::{BuildHasher, Hasher};
use std::ops::Range;

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, POLL_INTERVAL};
use crate::matrix::MAX_FEATURES;
use crate::memory::{try_reserve, with_capacity};
use crate::parallel::{filled, split_mut};
use crate::table::columns::{ValueColumn, ValueKind};

/// The id of a null: it holds no feature.
pub const NULL: i64 = -1;

/// The id of a value that the vocabulary does not hold (lookups only).
pub const UNSEEN: i64 = -2;

/// During a fit, a value first seen in its chunk is marked `FIRST_LOCAL - k` (its `k`-th new
/// value) until the merge gives it an id.
const FIRST_LOCAL: i64 = -3;

/// Rows per chunk at least: below this, a chunk's bookkeeping costs more than its parallelism
/// saves.
const MIN_CHUNK: usize = 1 << 16;

/// Seed of the value hash: fixed, so that a vocabulary behaves the same in every process.
const HASH_SEED: u64 = 0x6368_726f_6d61_7469;

/// Hashes (column, kind, value) keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct KeyHasher {
    /// Hash on the first byte only, so that tests can make most keys collide.
    #[cfg(test)]
    weak: bool,
}

impl KeyHasher {
    // `self` is only read by the weak hash of tests.
    #[allow(clippy::unused_self)]
    #[inline]
    fn hash(self, column: u32, kind: u8, value: &[u8]) -> u64 {
        #[cfg(test)]
        if self.weak {
            return u64::from(value.first().copied().unwrap_or(0) & 3);
        }
        let mut hasher = FixedState::with_seed(HASH_SEED).build_hasher();
        hasher.write_u32(column);
        hasher.write_u8(kind);
        hasher.write(value);
        hasher.finish()
    }
}

/// A value in a hash table: where its bytes are in an arena, and its id.
#[derive(Clone, Copy, Debug)]
struct Slot {
    start: u64,
    len: u32,
    id: u32,
}

impl Slot {
    #[inline]
    fn bytes(self, arena: &[u8]) -> &[u8] {
        &arena[self.start as usize..self.start as usize + self.len as usize]
    }

    #[inline]
    fn holds(self, arena: &[u8], value: &[u8]) -> bool {
        self.len as usize == value.len() && self.bytes(arena) == value
    }
}

/// The hash tables of the values of one (column, kind).
type Tables = HashMap<(u32, u8), HashTable<Slot>>;

/// Every distinct (column, kind, value) and its feature id. See the module documentation.
#[derive(Clone, Debug)]
pub struct ValueVocabulary {
    values: Values,
    tables: Tables,
    hasher: KeyHasher,
}

/// The keys of the features, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Values {
    columns: Vec<u32>,
    kinds: Vec<u8>,
    /// `n_features + 1` offsets into `bytes`.
    offsets: Vec<u64>,
    bytes: Vec<u8>,
}

impl Values {
    fn new() -> Self {
        Values {
            offsets: vec![0],
            ..Values::default()
        }
    }

    fn len(&self) -> usize {
        self.columns.len()
    }

    #[inline]
    fn bytes_of(&self, id: usize) -> &[u8] {
        &self.bytes[self.offsets[id] as usize..self.offsets[id + 1] as usize]
    }

    /// Appends a key; returns its slot (its id is the previous length).
    fn push(&mut self, column: u32, kind: u8, value: &[u8]) -> Result<Slot> {
        if self.len() >= MAX_FEATURES {
            return Err(Error::TooManyFeatures {
                n_features: self.len() + 1,
                limit: MAX_FEATURES,
            });
        }
        let len = u32::try_from(value.len()).map_err(|_| {
            Error::InvalidParameter(format!(
                "a value of column {column} has {} bytes, more than 2^32",
                value.len()
            ))
        })?;
        try_reserve(&mut self.columns, 1, "vocabulary columns")?;
        try_reserve(&mut self.kinds, 1, "vocabulary kinds")?;
        try_reserve(&mut self.offsets, 1, "vocabulary offsets")?;
        try_reserve(&mut self.bytes, value.len(), "vocabulary values")?;
        let slot = Slot {
            start: self.bytes.len() as u64,
            len,
            id: self.len() as u32,
        };
        self.columns.push(column);
        self.kinds.push(kind);
        self.bytes.extend_from_slice(value);
        self.offsets.push(self.bytes.len() as u64);
        Ok(slot)
    }

    fn truncate(&mut self, n: usize) {
        self.columns.truncate(n);
        self.kinds.truncate(n);
        self.offsets.truncate(n + 1);
        self.bytes.truncate(self.offsets[n] as usize);
    }
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

/// The table of one (column, kind) grown for one more slot.
fn reserve_one(
    table: &mut HashTable<Slot>,
    hasher: KeyHasher,
    column: u32,
    kind: u8,
    arena: &[u8],
    what: &'static str,
) -> Result<()> {
    table
        .try_reserve(1, |s| hasher.hash(column, kind, s.bytes(arena)))
        .map_err(|_| Error::OutOfMemory {
            what,
            bytes: (table.len() + 1).saturating_mul(2 * std::mem::size_of::<Slot>()),
        })
}

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
        let hash = self.hasher.hash(column, kind, value);
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
        if let Err(err) = self.merge(column, C::KIND.code(), &mut found, interrupt) {
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
        let mut scratch = [0u8; 8];
        let start = rows.start;
        for (row, slot) in rows.zip(out.iter_mut()) {
            if (row - start) % POLL_INTERVAL == 0 {
                interrupt.check()?;
            }
            if !values.check(row, column)? {
                continue;
            }
            let value = values.bytes(row, &mut scratch);
            let hash = hasher.hash(column, kind, value);
            if let Some(id) = table.and_then(|t| self.find(t, hash, value)) {
                *slot = i64::from(id);
                continue;
            }
            let k = if let Some(s) = local.find(hash, |s| s.holds(&new.bytes, value)) {
                s.id
            } else {
                let k = new.slots.len() as u32;
                let len = u32::try_from(value.len()).map_err(|_| {
                    Error::InvalidParameter(format!(
                        "column {column}, row {row}: a value of more than 2^32 bytes"
                    ))
                })?;
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
                let s = Slot {
                    start: new.bytes.len() as u64,
                    len,
                    id: k,
                };
                new.bytes.extend_from_slice(value);
                new.slots.push(s);
                new.hashes.push(hash);
                local.insert_unique(hash, s, |s| new.hashes[s.id as usize]);
                k
            };
            *slot = FIRST_LOCAL - i64::from(k);
        }
        Ok(new)
    }

    /// Gives every chunk's new values their ids, chunk after chunk: a value new to several
    /// chunks gets its id in the first.
    fn merge(
        &mut self,
        column: u32,
        kind: u8,
        found: &mut [ChunkValues],
        interrupt: Interrupt<'_>,
    ) -> Result<()> {
        if found.iter().all(|chunk| chunk.slots.is_empty()) {
            return Ok(());
        }
        let ValueVocabulary {
            values,
            tables,
            hasher,
        } = self;
        let table = tables.entry((column, kind)).or_default();
        for chunk in found {
            chunk.ids = with_capacity(chunk.slots.len(), "chunk value ids")?;
            for (k, (&local, &hash)) in chunk.slots.iter().zip(&chunk.hashes).enumerate() {
                if k % POLL_INTERVAL == 0 {
                    interrupt.check()?;
                }
                let value = local.bytes(&chunk.bytes);
                let arena = &values.bytes;
                let id = if let Some(s) = table.find(hash, |s| s.holds(arena, value)) {
                    s.id
                } else {
                    reserve_one(table, *hasher, column, kind, arena, "vocabulary table")?;
                    let slot = values.push(column, kind, value)?;
                    let arena = &values.bytes;
                    table.insert_unique(hash, slot, |s| hasher.hash(column, kind, s.bytes(arena)));
                    slot.id
                };
                chunk.ids.push(i64::from(id));
            }
        }
        Ok(())
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
        let kind = C::KIND.code();
        let table = self.tables.get(&(column, kind));
        let mut ids = filled(values.len(), NULL, "value ids")?;
        let chunks = chunks(values.len());
        let pieces = split_mut(&mut ids, chunks.iter().map(ExactSizeIterator::len));
        let outputs: Vec<Result<()>> = chunks
            .into_par_iter()
            .zip(pieces)
            .map(|(rows, out)| {
                let mut scratch = [0u8; 8];
                let start = rows.start;
                for (row, slot) in rows.zip(out.iter_mut()) {
                    if (row - start) % POLL_INTERVAL == 0 {
                        interrupt.check()?;
                    }
                    if !values.check(row, column)? {
                        continue;
                    }
                    let value = values.bytes(row, &mut scratch);
                    *slot = table
                        .and_then(|t| self.find(t, self.hasher.hash(column, kind, value), value))
                        .map_or(UNSEEN, i64::from);
                }
                Ok(())
            })
            .collect();
        outputs.into_iter().collect::<Result<()>>()?;
        Ok(ids)
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

/// The hash tables of every feature of `values`; refuses a key held twice.
fn index(values: &Values, hasher: KeyHasher) -> Result<Tables> {
    let hashes: Vec<u64> = (0..values.len())
        .into_par_iter()
        .map(|id| hasher.hash(values.columns[id], values.kinds[id], values.bytes_of(id)))
        .collect();
    let arena = &values.bytes;
    let mut tables = Tables::new();
    for (id, &hash) in hashes.iter().enumerate() {
        let (column, kind) = (values.columns[id], values.kinds[id]);
        let value = values.bytes_of(id);
        let table = tables.entry((column, kind)).or_default();
        if let Some(twin) = table.find(hash, |s| s.holds(arena, value)) {
            return Err(Error::InvalidVocabulary(format!(
                "features {} and {id} are the same value of column {column}",
                twin.id
            )));
        }
        reserve_one(table, hasher, column, kind, arena, "vocabulary table")?;
        let slot = Slot {
            start: values.offsets[id],
            len: value.len() as u32,
            id: id as u32,
        };
        table.insert_unique(hash, slot, |s| hasher.hash(column, kind, s.bytes(arena)));
    }
    Ok(tables)
}

/// Contiguous row chunks for a parallel read: a couple per thread, none smaller than
/// `MIN_CHUNK` rows. Fewer chunks mean fewer values new to several chunks at once.
fn chunks(n: usize) -> Vec<Range<usize>> {
    let target = (rayon::current_num_threads() * 2).max(1);
    let size = n.div_ceil(target).max(MIN_CHUNK);
    (0..n.div_ceil(size))
        .map(|c| c * size..((c + 1) * size).min(n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::columns::{BooleanColumn, IntegerColumn, StringColumn};

    fn strings(values: &[&str]) -> (Vec<i64>, Vec<u8>) {
        let mut offsets = vec![0i64];
        let mut data = Vec::new();
        for v in values {
            data.extend_from_slice(v.as_bytes());
            offsets.push(data.len() as i64);
        }
        (offsets, data)
    }

    fn fit_strings(vocabulary: &mut ValueVocabulary, column: u32, values: &[&str]) -> Vec<i64> {
        let (offsets, data) = strings(values);
        let col = StringColumn::new(&offsets, &data, None, column).unwrap();
        vocabulary.fit(column, &col, Interrupt::never()).unwrap()
    }

    fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    }

    /// A heavy-tailed column: a few frequent values and many rare ones.
    fn random_column(n: usize, seed: u64) -> Vec<String> {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let r: u32 = rng.random_range(0..1000);
                if r < 500 {
                    format!("common{}", r % 20)
                } else {
                    format!("rare{}", rng.random_range(0..n as u64 / 3))
                }
            })
            .collect()
    }

    #[test]
    fn ids_follow_first_appearance_across_columns() {
        let mut v = ValueVocabulary::new();
        assert_eq!(fit_strings(&mut v, 0, &["b", "a", "b", "c"]), [0, 1, 0, 2]);
        // The same bytes in another column are another feature.
        assert_eq!(fit_strings(&mut v, 1, &["a", "d"]), [3, 4]);
        assert_eq!(fit_strings(&mut v, 0, &["c", "e"]), [2, 5]);
        assert_eq!(v.n_features(), 6);
        assert_eq!(v.column_of_feature(), [0, 0, 0, 1, 1, 0]);
        assert_eq!(v.get(1, ValueKind::String, b"a"), Some(3));
        assert_eq!(v.get(2, ValueKind::String, b"a"), None);
    }

    #[test]
    fn kinds_nulls_and_unseen_values() {
        let mut v = ValueVocabulary::new();
        let ints = IntegerColumn::new(&[5, -1, 5, 7], Some(&[true, true, false, true]), 0).unwrap();
        assert_eq!(
            v.fit(0, &ints, Interrupt::never()).unwrap(),
            [0, 1, NULL, 2]
        );
        let bools = BooleanColumn::new(&[true, false, true], None, 0).unwrap();
        // Booleans of column 0 are not its integers.
        assert_eq!(v.fit(0, &bools, Interrupt::never()).unwrap(), [3, 4, 3]);
        let (offsets, data) = strings(&["\u{1}", ""]);
        let col = StringColumn::new(&offsets, &data, None, 0).unwrap();
        assert_eq!(v.fit(0, &col, Interrupt::never()).unwrap(), [5, 6]);

        let more = IntegerColumn::new(&[7, 8, 0], Some(&[true, true, false]), 0).unwrap();
        assert_eq!(
            v.transform(0, &more, Interrupt::never()).unwrap(),
            [2, UNSEEN, NULL]
        );
        assert_eq!(v.n_features(), 7);
        assert_eq!(v.kind_of_feature(), [1, 1, 1, 2, 2, 0, 0]);
    }

    #[test]
    fn ids_do_not_depend_on_the_thread_count() {
        let values = random_column(300_000, 7);
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let (offsets, data) = strings(&refs);
        let fit_with = |threads| {
            in_pool(threads, || {
                let mut v = ValueVocabulary::new();
                let col = StringColumn::new(&offsets, &data, None, 3).unwrap();
                let ids = v.fit(3, &col, Interrupt::never()).unwrap();
                (ids, v)
            })
        };
        let (ids1, v1) = fit_with(1);
        for threads in [2, 3, 8] {
            let (ids, v) = fit_with(threads);
            assert_eq!(ids, ids1, "{threads} threads");
            assert_eq!(v, v1);
        }
        // First appearance: each id is one more than the largest before it, or an earlier one.
        let mut next = 0;
        for &id in &ids1 {
            assert!(id <= next);
            if id == next {
                next += 1;
            }
        }
        assert_eq!(next as usize, v1.n_features());
        let distinct: std::collections::HashSet<&str> = refs.iter().copied().collect();
        assert_eq!(distinct.len(), v1.n_features());
    }

    #[test]
    fn values_stay_exact_when_hashes_collide() {
        // Every key hashes to one of four values, and the strings share long prefixes.
        let values: Vec<String> = (0..5000)
            .map(|i| format!("{}{}", "x".repeat(40), i % 1700))
            .collect();
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let mut weak = ValueVocabulary::with_weak_hash();
        let mut strong = ValueVocabulary::new();
        let ids = fit_strings(&mut weak, 0, &refs);
        assert_eq!(ids, fit_strings(&mut strong, 0, &refs));
        assert_eq!(weak.n_features(), 1700);
        for (i, &id) in ids.iter().enumerate() {
            assert_eq!(id, (i % 1700) as i64);
        }
        let ints: Vec<i64> = (0..3000).map(|i| i % 1000 * 256).collect();
        let col = IntegerColumn::new(&ints, None, 1).unwrap();
        let int_ids = weak.fit(1, &col, Interrupt::never()).unwrap();
        assert_eq!(weak.n_features(), 2700);
        assert!(int_ids.iter().all(|&id| id >= 1700));
    }

    #[test]
    fn a_failed_fit_leaves_the_vocabulary_as_it_was() {
        let mut v = ValueVocabulary::new();
        fit_strings(&mut v, 0, &["a", "b"]);
        let before = v.clone();
        let offsets = [0i64, 1, 2, 9];
        let col = StringColumn::new(&offsets, b"cd", None, 0).unwrap();
        let err = v.fit(0, &col, Interrupt::never()).unwrap_err();
        assert!(matches!(err, Error::ColumnOffsets { row: 2, .. }), "{err}");
        assert_eq!(v, before);

        let flag = std::sync::atomic::AtomicBool::new(true);
        let ints: Vec<i64> = (0..1000).collect();
        let col = IntegerColumn::new(&ints, None, 1).unwrap();
        let err = v.fit(1, &col, Interrupt::new(&flag)).unwrap_err();
        assert_eq!(err, Error::Interrupted);
        assert_eq!(v, before);
        v.truncate(1);
        assert_eq!(v.get(0, ValueKind::String, b"b"), None);
        assert_eq!(fit_strings(&mut v, 0, &["b", "a"]), [1, 0]);
    }

    #[test]
    fn retain_renumbers_kept_features_in_order() {
        let mut v = ValueVocabulary::new();
        fit_strings(&mut v, 0, &["a", "b", "c", "d"]);
        let new_ids = v.retain(&[false, true, false, true]).unwrap();
        assert_eq!(new_ids, [-1, 0, -1, 1]);
        assert_eq!(v.n_features(), 2);
        assert_eq!(v.value_bytes(), b"bd");
        assert_eq!(v.get(0, ValueKind::String, b"d"), Some(1));
        assert_eq!(v.get(0, ValueKind::String, b"a"), None);
        // A value dropped and seen again comes back with a new id.
        assert_eq!(fit_strings(&mut v, 0, &["a", "b"]), [2, 0]);
        assert!(matches!(
            v.retain(&[true]),
            Err(Error::LengthMismatch { what: "keep", .. })
        ));
    }

    #[test]
    fn arrays_round_trip_and_corrupt_ones_are_refused() {
        let mut v = ValueVocabulary::new();
        fit_strings(&mut v, 2, &["xy", "", "z"]);
        v.fit(
            1,
            &IntegerColumn::new(&[-3, 9], None, 1).unwrap(),
            Interrupt::never(),
        )
        .unwrap();
        v.fit(
            0,
            &BooleanColumn::new(&[false], None, 0).unwrap(),
            Interrupt::never(),
        )
        .unwrap();
        let parts = || {
            (
                v.column_of_feature().to_vec(),
                v.kind_of_feature().to_vec(),
                v.value_offsets().to_vec(),
                v.value_bytes().to_vec(),
            )
        };
        let (c, k, o, b) = parts();
        let back = ValueVocabulary::from_arrays(c, k, o, b).unwrap();
        assert_eq!(back, v);
        assert_eq!(
            back.get(1, ValueKind::Integer, &9i64.to_le_bytes()),
            Some(4)
        );

        let refused =
            |change: &dyn Fn(&mut Vec<u32>, &mut Vec<u8>, &mut Vec<u64>, &mut Vec<u8>)| {
                let (mut c, mut k, mut o, mut b) = parts();
                change(&mut c, &mut k, &mut o, &mut b);
                let err = ValueVocabulary::from_arrays(c, k, o, b).unwrap_err();
                assert!(matches!(err, Error::InvalidVocabulary(_)), "{err}");
                err.to_string()
            };
        assert!(refused(&|c, _, _, _| c.push(0)).contains("kind_of_feature"));
        assert!(
            refused(&|_, _, o, _| {
                o.pop();
            })
            .contains("value_offsets has")
        );
        assert!(refused(&|_, _, o, _| o[0] = 1).contains("run from 1"));
        assert!(refused(&|_, _, _, b| b.push(0)).contains("length of value_bytes"));
        assert!(refused(&|_, _, o, _| o[1] = 3).contains("decrease"));
        assert!(refused(&|_, k, _, _| k[0] = 7).contains("kind 7"));
        assert!(refused(&|_, k, _, _| k[0] = 1).contains("bytes, not 8"));
        assert!(refused(&|_, _, _, b| *b.last_mut().unwrap() = 2).contains("boolean"));
        // Two features with one key.
        let err =
            ValueVocabulary::from_arrays(vec![0, 0], vec![0, 0], vec![0, 1, 2], b"zz".to_vec())
                .unwrap_err();
        assert!(err.to_string().contains("features 0 and 1"), "{err}");
        assert!(ValueVocabulary::from_arrays(vec![], vec![], vec![], vec![]).is_err());
        assert_eq!(
            ValueVocabulary::from_arrays(vec![], vec![], vec![0], vec![]).unwrap(),
            ValueVocabulary::new()
        );
    }
}
