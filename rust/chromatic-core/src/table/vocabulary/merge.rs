//! The merge of a fit: the values that the chunks of rows found new, added to the vocabulary with
//! the ids of first appearance (column after column, chunk after chunk, in row order).
//!
//! Each (column, kind) has its own hash table and its own run of new ids, so the columns merge in
//! parallel, in three steps: each column finds its distinct new values (a value new to several
//! chunks is one value) and the bytes they hold; the runs of ids and bytes follow from those
//! counts, column after column; then each column writes its keys into its part of the arena,
//! and once every key is there, its slots into its table.

use hashbrown::HashTable;
use rayon::prelude::*;

use super::keys::{KeyHasher, Slot, Values, reserve};
use super::{ChunkValues, ValueVocabulary};
use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, POLL_INTERVAL};
use crate::matrix::MAX_FEATURES;
use crate::memory::with_capacity;
use crate::parallel::split_mut;

/// The new values of one (column, kind), as the chunks of rows found them.
pub(super) struct ColumnFound<'a> {
    /// The column's number in the vocabulary.
    pub(super) column: u32,
    /// The code of its kind.
    pub(super) kind: u8,
    /// What each chunk found new, in row order; the merge sets each chunk's `ids`.
    pub(super) chunks: &'a mut [ChunkValues],
}

/// A column's distinct new values.
struct Distinct {
    /// Each value in order of first appearance: its chunk, and its place in that chunk's values.
    first: Vec<(u32, u32)>,
    /// Bytes of those values.
    bytes: usize,
    /// For every chunk, the place in `first` of each of its values.
    places: Vec<Vec<u32>>,
}

/// Where a column's keys go: its part of each array of the arena.
struct KeysPart<'v> {
    columns: &'v mut [u32],
    kinds: &'v mut [u8],
    /// The ends of its values (the arena's offsets after the first).
    ends: &'v mut [u64],
    bytes: &'v mut [u8],
    /// Where `bytes` starts in the arena.
    first_byte: usize,
}

impl ValueVocabulary {
    /// Adds the values `found` new (every (column, kind) at most once) and sets each chunk's
    /// `ids`; the ids run column after column in the order of `found`. On error the vocabulary
    /// may hold part of the values, which the caller truncates.
    pub(super) fn merge(
        &mut self,
        found: &mut [ColumnFound<'_>],
        interrupt: Interrupt<'_>,
    ) -> Result<()> {
        let hasher = self.hasher;
        let distinct: Vec<Result<Distinct>> = found
            .par_iter()
            .map(|column| distinct_values(column.chunks, hasher, interrupt))
            .collect();
        let distinct = distinct.into_iter().collect::<Result<Vec<_>>>()?;
        let before = self.values.len();
        let first_ids: Vec<usize> = distinct
            .iter()
            .scan(before, |next, d| {
                Some(std::mem::replace(next, *next + d.first.len()))
            })
            .collect();
        let sizes: Vec<(usize, usize)> =
            distinct.iter().map(|d| (d.first.len(), d.bytes)).collect();
        let parts = key_parts(&mut self.values, &sizes)?;
        found
            .par_iter_mut()
            .zip(&distinct)
            .zip(parts)
            .zip(&first_ids)
            .try_for_each(|(((column, d), part), &first_id)| {
                write_keys(column, d, part, interrupt)?;
                for (chunk, places) in column.chunks.iter_mut().zip(&d.places) {
                    chunk.ids = with_capacity(places.len(), "chunk value ids")?;
                    chunk
                        .ids
                        .extend(places.iter().map(|&p| (first_id + p as usize) as i64));
                }
                Ok(())
            })?;
        // Every key is in the arena: each column's slots go into its table.
        let tables: Vec<HashTable<Slot>> = found
            .iter()
            .map(|column| {
                let key = (column.column, column.kind);
                self.tables.remove(&key).unwrap_or_default()
            })
            .collect();
        let values = &self.values;
        let filled: Vec<(HashTable<Slot>, Result<()>)> = tables
            .into_par_iter()
            .zip(&*found)
            .zip(&distinct)
            .zip(&first_ids)
            .map(|(((mut table, column), d), &first_id)| {
                let kept = (|| -> Result<()> {
                    let arena = &values.bytes;
                    reserve(&mut table, d.first.len(), hasher, arena, "vocabulary table")?;
                    for (k, &(chunk, place)) in d.first.iter().enumerate() {
                        if k % POLL_INTERVAL == 0 {
                            interrupt.check()?;
                        }
                        let id = first_id + k;
                        let hash = column.chunks[chunk as usize].hashes[place as usize];
                        let slot = Slot::new(values.offsets[id], values.bytes_of(id), id as u32);
                        table.insert_unique(hash, slot, |s| hasher.hash(s.bytes(arena)));
                    }
                    Ok(())
                })();
                (table, kept)
            })
            .collect();
        // Every table goes back, filled or not, where the caller's truncation finds it.
        let mut result = Ok(());
        for (column, (table, kept)) in found.iter().zip(filled) {
            if !table.is_empty() {
                self.tables.insert((column.column, column.kind), table);
            }
            result = result.and(kept);
        }
        result
    }
}

/// The distinct values of `chunks`, in order of first appearance. Every chunk's values are new
/// to the vocabulary and distinct, so only a value that several chunks found is found twice.
fn distinct_values(
    chunks: &[ChunkValues],
    hasher: KeyHasher,
    interrupt: Interrupt<'_>,
) -> Result<Distinct> {
    let total: usize = chunks.iter().map(|chunk| chunk.slots.len()).sum();
    let mut distinct = Distinct {
        first: with_capacity(total, "new values")?,
        bytes: 0,
        places: Vec::with_capacity(chunks.len()),
    };
    // Only a value that several chunks found needs a table to be told apart.
    let several = chunks
        .iter()
        .filter(|chunk| !chunk.slots.is_empty())
        .count()
        > 1;
    let mut seen: HashTable<u32> = HashTable::new();
    let value_at = |first: &[(u32, u32)], place: u32| {
        let (chunk, index) = first[place as usize];
        let chunk = &chunks[chunk as usize];
        chunk.slots[index as usize].bytes(&chunk.bytes)
    };
    if several {
        seen.try_reserve(total, |&p| hasher.hash(value_at(&distinct.first, p)))
            .map_err(|_| Error::OutOfMemory {
                what: "new value table",
                bytes: total.saturating_mul(2 * std::mem::size_of::<u32>()),
            })?;
    }
    for (k, chunk) in chunks.iter().enumerate() {
        let mut places = with_capacity(chunk.slots.len(), "new value places")?;
        for (index, (slot, &hash)) in chunk.slots.iter().zip(&chunk.hashes).enumerate() {
            if index % POLL_INTERVAL == 0 {
                interrupt.check()?;
            }
            let value = slot.bytes(&chunk.bytes);
            let first = &distinct.first;
            let known = if several {
                seen.find(hash, |&p| value_at(first, p) == value).copied()
            } else {
                None
            };
            let place = if let Some(place) = known {
                place
            } else {
                let place = distinct.first.len() as u32;
                distinct.first.push((k as u32, index as u32));
                distinct.bytes += value.len();
                if several {
                    let first = &distinct.first;
                    seen.insert_unique(hash, place, |&p| hasher.hash(value_at(first, p)));
                }
                place
            };
            places.push(place);
        }
        distinct.places.push(places);
    }
    Ok(distinct)
}

/// Room in `values` for the keys of several columns, `sizes` giving each column's number of
/// keys and bytes, and each column's part of that room, in order.
fn key_parts<'v>(values: &'v mut Values, sizes: &[(usize, usize)]) -> Result<Vec<KeysPart<'v>>> {
    let (before, before_bytes) = (values.len(), values.bytes.len());
    let added: usize = sizes.iter().map(|&(n, _)| n).sum();
    let added_bytes: usize = sizes.iter().map(|&(_, bytes)| bytes).sum();
    if before + added > MAX_FEATURES {
        return Err(Error::TooManyFeatures {
            n_features: before + added,
            limit: MAX_FEATURES,
        });
    }
    values.reserve(added, added_bytes)?;
    let Values {
        columns,
        kinds,
        offsets,
        bytes,
    } = values;
    columns.resize(before + added, 0);
    kinds.resize(before + added, 0);
    offsets.resize(before + 1 + added, 0);
    bytes.resize(before_bytes + added_bytes, 0);
    let counts = || sizes.iter().map(|&(n, _)| n);
    let mut first_byte = before_bytes;
    let parts = split_mut(&mut columns[before..], counts())
        .into_iter()
        .zip(split_mut(&mut kinds[before..], counts()))
        .zip(split_mut(&mut offsets[before + 1..], counts()))
        .zip(split_mut(
            &mut bytes[before_bytes..],
            sizes.iter().map(|&(_, b)| b),
        ))
        .map(|(((columns, kinds), ends), bytes)| {
            let part = KeysPart {
                columns,
                kinds,
                ends,
                bytes,
                first_byte,
            };
            first_byte += part.bytes.len();
            part
        })
        .collect();
    Ok(parts)
}

/// Writes the keys of a column's distinct new values to its part of the arena.
fn write_keys(
    column: &ColumnFound<'_>,
    d: &Distinct,
    part: KeysPart<'_>,
    interrupt: Interrupt<'_>,
) -> Result<()> {
    part.columns.fill(column.column);
    part.kinds.fill(column.kind);
    let mut at = 0;
    for (k, &(chunk, index)) in d.first.iter().enumerate() {
        if k % POLL_INTERVAL == 0 {
            interrupt.check()?;
        }
        let chunk = &column.chunks[chunk as usize];
        let value = chunk.slots[index as usize].bytes(&chunk.bytes);
        part.bytes[at..at + value.len()].copy_from_slice(value);
        at += value.len();
        part.ends[k] = (part.first_byte + at) as u64;
    }
    Ok(())
}
