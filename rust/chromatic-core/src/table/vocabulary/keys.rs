//! The keys of a vocabulary's features: their bytes in one arena, by id, and the hash tables of
//! each (column, kind) that find a key's id from its bytes.

use std::collections::HashMap;
use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::matrix::MAX_FEATURES;
use crate::memory::try_reserve;

/// Seed of the value hash: fixed, so that a vocabulary behaves the same in every process.
const HASH_SEED: u64 = 0x6368_726f_6d61_7469;

/// Hashes the values of one (column, kind): each has its own table, so the value's bytes are
/// the whole key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct KeyHasher {
    /// Hash on the first byte only, so that tests can make most keys collide.
    #[cfg(test)]
    pub(super) weak: bool,
}

impl KeyHasher {
    // `self` is only read by the weak hash of tests.
    #[allow(clippy::unused_self)]
    #[inline]
    pub(super) fn hash(self, value: &[u8]) -> u64 {
        #[cfg(test)]
        if self.weak {
            return u64::from(value.first().copied().unwrap_or(0) & 3);
        }
        FixedState::with_seed(HASH_SEED).hash_one(value)
    }
}

/// A value in a hash table and its id. A value of up to 8 bytes (the ids, hashes and integers of
/// click logs) is held in the slot itself, so that finding it reads no arena; a longer one is
/// where `key` (its start) says in an arena.
#[derive(Clone, Copy, Debug)]
pub(super) struct Slot {
    key: [u8; INLINE],
    len: u32,
    pub(super) id: u32,
}

/// The longest value a slot holds itself.
const INLINE: usize = 8;

impl Slot {
    /// The slot of `value`, whose bytes start at `start` in its arena.
    #[inline]
    pub(super) fn new(start: u64, value: &[u8], id: u32) -> Slot {
        let mut key = start.to_le_bytes();
        if value.len() <= INLINE {
            key = [0; INLINE];
            key[..value.len()].copy_from_slice(value);
        }
        Slot {
            key,
            len: value.len() as u32,
            id,
        }
    }

    #[inline]
    pub(super) fn bytes<'a>(&'a self, arena: &'a [u8]) -> &'a [u8] {
        let len = self.len as usize;
        if len <= INLINE {
            &self.key[..len]
        } else {
            let start = u64::from_le_bytes(self.key) as usize;
            &arena[start..start + len]
        }
    }

    #[inline]
    pub(super) fn holds(&self, arena: &[u8], value: &[u8]) -> bool {
        self.len as usize == value.len() && same_bytes(self.bytes(arena), value)
    }
}

/// `a == b` for two slices of one length. The keys of click logs are short (ids, hashes,
/// 8-byte integers): from 4 to 16 bytes they are compared as two overlapping words each, without
/// a call to `memcmp`.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if (8..=16).contains(&n) {
        let word = |s: &[u8], at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&s[at..at + 8]);
            u64::from_ne_bytes(w)
        };
        word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8)
    } else if (4..8).contains(&n) {
        let word = |s: &[u8], at: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&s[at..at + 4]);
            u32::from_ne_bytes(w)
        };
        word(a, 0) == word(b, 0) && word(a, n - 4) == word(b, n - 4)
    } else if n < 4 {
        a.iter().zip(b).all(|(x, y)| x == y)
    } else {
        a == b
    }
}

/// The hash tables of the values of one (column, kind).
pub(super) type Tables = HashMap<(u32, u8), HashTable<Slot>>;

/// The keys of the features, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Values {
    pub(super) columns: Vec<u32>,
    pub(super) kinds: Vec<u8>,
    /// `n_features + 1` offsets into `bytes`.
    pub(super) offsets: Vec<u64>,
    pub(super) bytes: Vec<u8>,
}

impl Values {
    pub(super) fn new() -> Self {
        Values {
            offsets: vec![0],
            ..Values::default()
        }
    }

    pub(super) fn len(&self) -> usize {
        self.columns.len()
    }

    #[inline]
    pub(super) fn bytes_of(&self, id: usize) -> &[u8] {
        &self.bytes[self.offsets[id] as usize..self.offsets[id + 1] as usize]
    }

    /// Room for `n` more keys of `bytes` bytes in all.
    pub(super) fn reserve(&mut self, n: usize, bytes: usize) -> Result<()> {
        try_reserve(&mut self.columns, n, "vocabulary columns")?;
        try_reserve(&mut self.kinds, n, "vocabulary kinds")?;
        try_reserve(&mut self.offsets, n, "vocabulary offsets")?;
        try_reserve(&mut self.bytes, bytes, "vocabulary values")
    }

    /// Appends a key; returns its slot (its id is the previous length).
    pub(super) fn push(&mut self, column: u32, kind: u8, value: &[u8]) -> Result<Slot> {
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
        let slot = Slot::new(self.bytes.len() as u64, value, self.len() as u32);
        debug_assert_eq!(slot.len, len);
        self.columns.push(column);
        self.kinds.push(kind);
        self.bytes.extend_from_slice(value);
        self.offsets.push(self.bytes.len() as u64);
        Ok(slot)
    }

    pub(super) fn truncate(&mut self, n: usize) {
        self.columns.truncate(n);
        self.kinds.truncate(n);
        self.offsets.truncate(n + 1);
        self.bytes.truncate(self.offsets[n] as usize);
    }
}

/// The table of one (column, kind) grown for `additional` more slots.
pub(super) fn reserve(
    table: &mut HashTable<Slot>,
    additional: usize,
    hasher: KeyHasher,
    arena: &[u8],
    what: &'static str,
) -> Result<()> {
    table
        .try_reserve(additional, |s| hasher.hash(s.bytes(arena)))
        .map_err(|_| Error::OutOfMemory {
            what,
            bytes: (table.len() + additional).saturating_mul(2 * std::mem::size_of::<Slot>()),
        })
}

/// The hash tables of every feature of `values`; refuses a key held twice.
pub(super) fn index(values: &Values, hasher: KeyHasher) -> Result<Tables> {
    let hashes: Vec<u64> = (0..values.len())
        .into_par_iter()
        .map(|id| hasher.hash(values.bytes_of(id)))
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
        reserve(table, 1, hasher, arena, "vocabulary table")?;
        let slot = Slot::new(values.offsets[id], value, id as u32);
        table.insert_unique(hash, slot, |s| hasher.hash(s.bytes(arena)));
    }
    Ok(tables)
}
