//! The keys of a vocabulary's features: their bytes in one arena, by id, and the hash tables of
//! each (column, kind) that find a key's id from its bytes.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::matrix::MAX_FEATURES;
use crate::memory::try_reserve;

/// Seed of the value hash: fixed, so that a vocabulary behaves the same in every process.
const HASH_SEED: u64 = 0x6368_726f_6d61_7469;

/// Hashes (column, kind, value) keys.
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
    pub(super) fn hash(self, column: u32, kind: u8, value: &[u8]) -> u64 {
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
pub(super) struct Slot {
    pub(super) start: u64,
    pub(super) len: u32,
    pub(super) id: u32,
}

impl Slot {
    #[inline]
    pub(super) fn bytes(self, arena: &[u8]) -> &[u8] {
        &arena[self.start as usize..self.start as usize + self.len as usize]
    }

    #[inline]
    pub(super) fn holds(self, arena: &[u8], value: &[u8]) -> bool {
        self.len as usize == value.len() && self.bytes(arena) == value
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

    pub(super) fn truncate(&mut self, n: usize) {
        self.columns.truncate(n);
        self.kinds.truncate(n);
        self.offsets.truncate(n + 1);
        self.bytes.truncate(self.offsets[n] as usize);
    }
}

/// The table of one (column, kind) grown for one more slot.
pub(super) fn reserve_one(
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

/// The hash tables of every feature of `values`; refuses a key held twice.
pub(super) fn index(values: &Values, hasher: KeyHasher) -> Result<Tables> {
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
