//! Pair counts: the upper triangle of counted pairs that batches and shards merge into
//! ([`EdgeCounts`]), and the compact form that moves between processes ([`PairCounts`]).

use std::ops::Range;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, Pacer};
use crate::memory::{try_reserve, with_capacity};
use crate::parallel::{
    balanced_blocks, concat_into, parallel_blocks, reused, split_mut, try_map_blocks,
};

/// Upper triangle of a weighted graph: for each vertex `u`, its neighbours `v > u` in ascending
/// order, with the number of rows holding both.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EdgeCounts {
    pub(super) indptr: Vec<usize>,
    pub(super) neighbors: Vec<u32>,
    pub(super) weights: Vec<u32>,
}

/// The arrays of counts no longer needed, kept to write new counts into: a counter that counts
/// batch after batch into running counts of gigabytes then writes into memory it already holds,
/// instead of having the kernel zero fresh pages for every batch.
#[derive(Default)]
pub(super) struct CountBuffers {
    neighbors: Vec<u32>,
    weights: Vec<u32>,
}

impl From<EdgeCounts> for CountBuffers {
    fn from(counts: EdgeCounts) -> Self {
        CountBuffers {
            neighbors: counts.neighbors,
            weights: counts.weights,
        }
    }
}

/// One vertex range's share of an `EdgeCounts`, produced in parallel and assembled in order.
#[derive(Default)]
pub(super) struct EdgeChunk {
    pub(super) lengths: Vec<u32>,
    pub(super) neighbors: Vec<u32>,
    pub(super) weights: Vec<u32>,
}

impl EdgeCounts {
    pub(super) fn empty(n_vertices: usize) -> Self {
        EdgeCounts {
            indptr: vec![0; n_vertices + 1],
            neighbors: Vec::new(),
            weights: Vec::new(),
        }
    }

    pub(super) fn n_vertices(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Counted pairs: each an edge `(u, v)`, `u < v`.
    pub fn n_edges(&self) -> usize {
        self.neighbors.len()
    }

    #[inline]
    pub(super) fn row(&self, u: usize) -> (&[u32], &[u32]) {
        let range = self.indptr[u]..self.indptr[u + 1];
        (&self.neighbors[range.clone()], &self.weights[range])
    }

    /// Splits the vertices into blocks of similar work, for a pass that costs about one unit
    /// per vertex plus one per stored edge (of `self` and of `other`, when merging).
    pub(super) fn vertex_blocks(&self, other: Option<&EdgeCounts>) -> Vec<Range<usize>> {
        balanced_blocks(self.n_vertices(), parallel_blocks(), |u| {
            u + self.indptr[u] + other.map_or(0, |o| o.indptr[u])
        })
    }

    pub(super) fn assemble(n_vertices: usize, chunks: Vec<EdgeChunk>) -> Result<Self> {
        EdgeCounts::assemble_from(n_vertices, 0, chunks)
    }

    /// The counts whose rows from vertex `first` on come from `chunks` in order, earlier and
    /// later rows being empty.
    pub(super) fn assemble_from(
        n_vertices: usize,
        first: usize,
        chunks: Vec<EdgeChunk>,
    ) -> Result<Self> {
        EdgeCounts::assemble_into(n_vertices, first, chunks, CountBuffers::default())
    }

    /// `assemble_from`, written into `buffers`.
    pub(super) fn assemble_into(
        n_vertices: usize,
        first: usize,
        chunks: Vec<EdgeChunk>,
        buffers: CountBuffers,
    ) -> Result<Self> {
        let mut indptr = Vec::with_capacity(n_vertices + 1);
        indptr.resize(first + 1, 0usize);
        let mut total = 0usize;
        for chunk in &chunks {
            for &len in &chunk.lengths {
                total += len as usize;
                indptr.push(total);
            }
        }
        debug_assert!(indptr.len() <= n_vertices + 1);
        indptr.resize(n_vertices + 1, total);
        let neighbors = concat_into(
            buffers.neighbors,
            chunks.iter().map(|c| c.neighbors.as_slice()),
            "pair counts",
        )?;
        let weights = concat_into(
            buffers.weights,
            chunks.iter().map(|c| c.weights.as_slice()),
            "pair counts",
        )?;
        Ok(EdgeCounts {
            indptr,
            neighbors,
            weights,
        })
    }

    /// Edge-wise sum of two upper triangles over the same vertices. A first pass counts each
    /// merged row, so that the result is written once, in parallel, into arrays of its exact
    /// size: no growing per-thread buffers and no second copy, which keeps the merge of large
    /// running counts at the sum of its input and output.
    pub(super) fn merged(&self, other: &EdgeCounts, interrupt: Interrupt<'_>) -> Result<Self> {
        self.merged_into(other, CountBuffers::default(), interrupt)
    }

    /// `merged`, written into `buffers`.
    pub(super) fn merged_into(
        &self,
        other: &EdgeCounts,
        buffers: CountBuffers,
        interrupt: Interrupt<'_>,
    ) -> Result<Self> {
        let blocks = self.vertex_blocks(Some(other));
        let lengths = try_map_blocks(blocks.clone(), |vertices| {
            let mut pacer = Pacer::new(interrupt);
            let mut lengths = Vec::with_capacity(vertices.len());
            for u in vertices {
                let (a, b) = (self.row(u).0, other.row(u).0);
                pacer.step(a.len() + b.len())?;
                lengths.push(union_size(a, b));
            }
            Ok(lengths)
        })?;
        let n = self.n_vertices();
        let mut indptr = Vec::with_capacity(n + 1);
        indptr.push(0usize);
        for &len in lengths.iter().flatten() {
            indptr.push(indptr[indptr.len() - 1] + len);
        }
        let total = indptr[n];
        let mut neighbors = reused(buffers.neighbors, total, 0u32, "merged pair counts")?;
        let mut weights = reused(buffers.weights, total, 0u32, "merged pair counts")?;
        let pieces = split_lists(&indptr, &blocks, &mut neighbors, &mut weights);
        blocks
            .into_par_iter()
            .zip(pieces)
            .try_for_each(|(vertices, (out_n, out_w))| {
                let mut pacer = Pacer::new(interrupt);
                let mut at = 0;
                for u in vertices {
                    let (an, aw) = self.row(u);
                    let (bn, bw) = other.row(u);
                    pacer.step(an.len() + bn.len())?;
                    at += merge_rows((an, aw), (bn, bw), &mut out_n[at..], &mut out_w[at..]);
                }
                Ok(())
            })?;
        Ok(EdgeCounts {
            indptr,
            neighbors,
            weights,
        })
    }

    /// Keeps the edges of weight at least `min_weight`.
    pub(super) fn thresholded(self, min_weight: u32, interrupt: Interrupt<'_>) -> Result<Self> {
        if min_weight <= 1 {
            return Ok(self);
        }
        let chunks = try_map_blocks(self.vertex_blocks(None), |vertices| {
            let mut pacer = Pacer::new(interrupt);
            let mut chunk = EdgeChunk::default();
            for u in vertices {
                let before = chunk.neighbors.len();
                let (nbrs, weights) = self.row(u);
                pacer.step(nbrs.len())?;
                chunk.reserve(nbrs.len())?;
                for (&v, &w) in nbrs.iter().zip(weights) {
                    if w >= min_weight {
                        chunk.push(v, w);
                    }
                }
                chunk.lengths.push((chunk.neighbors.len() - before) as u32);
            }
            Ok(chunk)
        })?;
        EdgeCounts::assemble(self.n_vertices(), chunks)
    }
}

impl EdgeChunk {
    /// Room for `additional` more pairs: pair counts grow with the square of a row's length, so
    /// one long row can ask for more than the machine has, and that must be an error, not an
    /// abort.
    pub(super) fn reserve(&mut self, additional: usize) -> Result<()> {
        try_reserve(&mut self.neighbors, additional, "pair counts")?;
        try_reserve(&mut self.weights, additional, "pair counts")
    }

    #[inline]
    pub(super) fn push(&mut self, neighbor: u32, weight: u32) {
        self.neighbors.push(neighbor);
        self.weights.push(weight);
    }
}

/// The number of distinct entries of two ascending lists.
fn union_size(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    a.len() + b.len() - shared
}

/// Writes the union of two ascending weighted lists (adding the weights of shared entries) to
/// the front of `out_n` and `out_w`; returns its length.
fn merge_rows(
    (an, aw): (&[u32], &[u32]),
    (bn, bw): (&[u32], &[u32]),
    out_n: &mut [u32],
    out_w: &mut [u32],
) -> usize {
    let (mut i, mut j, mut k) = (0, 0, 0);
    while i < an.len() && j < bn.len() {
        let (v, w) = match an[i].cmp(&bn[j]) {
            std::cmp::Ordering::Less => {
                i += 1;
                (an[i - 1], aw[i - 1])
            }
            std::cmp::Ordering::Greater => {
                j += 1;
                (bn[j - 1], bw[j - 1])
            }
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
                (an[i - 1], aw[i - 1] + bw[j - 1])
            }
        };
        out_n[k] = v;
        out_w[k] = w;
        k += 1;
    }
    for (rest_n, rest_w) in [(&an[i..], &aw[i..]), (&bn[j..], &bw[j..])] {
        out_n[k..k + rest_n.len()].copy_from_slice(rest_n);
        out_w[k..k + rest_w.len()].copy_from_slice(rest_w);
        k += rest_n.len();
    }
    k
}

/// Each range of vertices' own part of CSR neighbour and weight arrays, for parallel filling.
pub(super) fn split_lists<'a>(
    indptr: &[usize],
    ranges: &[Range<usize>],
    neighbors: &'a mut [u32],
    weights: &'a mut [u32],
) -> Vec<(&'a mut [u32], &'a mut [u32])> {
    let lengths: Vec<usize> = ranges
        .iter()
        .map(|r| indptr[r.end] - indptr[r.start])
        .collect();
    split_mut(neighbors, lengths.iter().copied())
        .into_iter()
        .zip(split_mut(weights, lengths.iter().copied()))
        .collect()
}

/// Pair counts in a compact form that moves between processes: the pairs `(u, v)`, `u < v`, of
/// an upper triangle as ascending keys `u << 32 | v`, each with the number of rows holding
/// both. Counts of different rows merge into the counts of all of them, so partial counts from
/// many machines add up in any order to those of one pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PairCounts {
    keys: Vec<u64>,
    pub(super) weights: Vec<u32>,
}

/// The key of the pair `(u, v)`, `u < v`.
#[inline]
pub fn pair_key(u: u32, v: u32) -> u64 {
    (u64::from(u) << 32) | u64::from(v)
}

/// The pair `(u, v)` of a key.
#[inline]
pub fn key_pair(key: u64) -> (u32, u32) {
    ((key >> 32) as u32, key as u32)
}

impl PairCounts {
    /// Checks that the keys ascend strictly, name pairs `u < v`, and that every weight is
    /// positive.
    pub fn new(keys: Vec<u64>, weights: Vec<u32>) -> Result<Self> {
        check_pairs(&keys, &weights)?;
        Ok(PairCounts { keys, weights })
    }

    /// Built from keys known to be valid (ascending pairs `u < v`, positive weights).
    pub(super) fn from_sorted(keys: Vec<u64>, weights: Vec<u32>) -> Self {
        debug_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        PairCounts { keys, weights }
    }

    /// Pairs counted.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no pair is counted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys `u << 32 | v`, ascending.
    pub fn keys(&self) -> &[u64] {
        &self.keys
    }

    /// The rows holding each pair.
    pub fn weights(&self) -> &[u32] {
        &self.weights
    }

    /// The keys and the weights.
    pub fn into_parts(self) -> (Vec<u64>, Vec<u32>) {
        (self.keys, self.weights)
    }

    /// The largest vertex of any pair plus one (0 without pairs).
    pub fn min_vertices(&self) -> usize {
        self.keys
            .iter()
            .map(|&k| key_pair(k).1 as usize + 1)
            .max()
            .unwrap_or(0)
    }

    /// The counts of both: one sorted merge, adding the weights of pairs in both.
    pub fn merged(&self, other: &PairCounts) -> Result<PairCounts> {
        merge_sorted(&[(&self.keys, &self.weights), (&other.keys, &other.weights)])
    }
}

/// Refuses pair counts whose keys do not ascend strictly or name no pair `u < v`, or with a weight
/// of 0.
fn check_pairs(keys: &[u64], weights: &[u32]) -> Result<()> {
    if keys.len() != weights.len() {
        return Err(Error::LengthMismatch {
            what: "pair weights",
            len: weights.len(),
            expected_from: "pair keys",
            expected: keys.len(),
        });
    }
    if let Some(i) = keys.windows(2).position(|w| w[0] >= w[1]) {
        return Err(Error::InvalidParameter(format!(
            "pair keys must ascend strictly; key {} is {} after {}",
            i + 1,
            keys[i + 1],
            keys[i]
        )));
    }
    if let Some(i) = (0..keys.len()).find(|&i| {
        let (u, v) = key_pair(keys[i]);
        u >= v || weights[i] == 0
    }) {
        let (u, v) = key_pair(keys[i]);
        return Err(Error::InvalidParameter(format!(
            "pair {i} is ({u}, {v}) of weight {}: pairs need u < v and a positive weight",
            weights[i]
        )));
    }
    Ok(())
}

/// The sum of pair counts given as arrays (ascending keys `u << 32 | v` and the rows holding
/// each pair), each checked as [`PairCounts::new`] does, with no copy of any: one pass that
/// writes every merged pair once, made for the few counts of one merge (its cost grows with
/// their number times the pairs).
///
/// # Examples
///
/// ```
/// use chromatic_core::{merge_pair_counts, pair_key};
///
/// let (a, b) = ([pair_key(0, 1), pair_key(1, 2)], [pair_key(1, 2)]);
/// let sum = merge_pair_counts(&[(&a, &[1, 2]), (&b, &[3]), (&[], &[])])?;
/// assert_eq!(sum.weights(), &[1, 5]);
/// # Ok::<(), chromatic_core::Error>(())
/// ```
pub fn merge_pair_counts(counts: &[(&[u64], &[u32])]) -> Result<PairCounts> {
    for (keys, weights) in counts {
        check_pairs(keys, weights)?;
    }
    merge_sorted(counts)
}

/// One sorted merge of valid pair counts: at each step, the smallest key at the heads of all.
fn merge_sorted(counts: &[(&[u64], &[u32])]) -> Result<PairCounts> {
    // No pair has this key (it would need u = v), so it marks a count whose pairs are all merged.
    const DONE: u64 = u64::MAX;
    let total = counts.iter().map(|(keys, _)| keys.len()).sum();
    let mut keys = with_capacity(total, "merged pair counts")?;
    let mut weights = with_capacity(total, "merged pair counts")?;
    let mut next = vec![0usize; counts.len()];
    let mut heads: Vec<u64> = counts
        .iter()
        .map(|(part, _)| part.first().copied().unwrap_or(DONE))
        .collect();
    loop {
        let smallest = heads.iter().copied().min().unwrap_or(DONE);
        if smallest == DONE {
            break;
        }
        let mut sum = 0u32;
        for (((part, part_weights), head), at) in counts.iter().zip(&mut heads).zip(&mut next) {
            if *head == smallest {
                sum = sum.checked_add(part_weights[*at]).ok_or_else(|| {
                    let (u, v) = key_pair(smallest);
                    Error::InvalidParameter(format!(
                        "pair ({u}, {v}) is counted in more than {} rows",
                        u32::MAX
                    ))
                })?;
                *at += 1;
                *head = part.get(*at).copied().unwrap_or(DONE);
            }
        }
        keys.push(smallest);
        weights.push(sum);
    }
    Ok(PairCounts { keys, weights })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_adds_shared_pairs_and_keeps_order() {
        let a = PairCounts::new(
            vec![pair_key(0, 1), pair_key(0, 3), pair_key(2, 3)],
            vec![1, 2, 1],
        )
        .unwrap();
        let b = PairCounts::new(vec![pair_key(0, 3), pair_key(1, 2)], vec![5, 1]).unwrap();
        let ab = a.merged(&b).unwrap();
        assert_eq!(ab, b.merged(&a).unwrap());
        assert_eq!(
            ab.keys(),
            &[
                pair_key(0, 1),
                pair_key(0, 3),
                pair_key(1, 2),
                pair_key(2, 3)
            ]
        );
        assert_eq!(ab.weights(), &[1, 7, 1, 1]);
        assert_eq!(ab.min_vertices(), 4);
        assert_eq!(a.merged(&PairCounts::default()).unwrap(), a);
        let full = PairCounts::new(vec![pair_key(0, 1)], vec![u32::MAX]).unwrap();
        assert!(full.merged(&full).is_err());
        // Many counts at once: the sum of merging them two by two, in any order.
        let c = PairCounts::new(vec![pair_key(0, 1), pair_key(4, 5)], vec![2, 1]).unwrap();
        let parts = [&a, &PairCounts::default(), &b, &c];
        let arrays: Vec<(&[u64], &[u32])> = parts.iter().map(|p| (p.keys(), p.weights())).collect();
        let all = merge_pair_counts(&arrays).unwrap();
        assert_eq!(all, c.merged(&ab).unwrap());
        assert_eq!(all.weights(), &[3, 7, 1, 1, 1]);
        assert_eq!(merge_pair_counts(&[]).unwrap(), PairCounts::default());
        let unsorted: &[u64] = &[pair_key(0, 2), pair_key(0, 1)];
        assert!(merge_pair_counts(&[(a.keys(), a.weights()), (unsorted, &[1, 1])]).is_err());
    }

    #[test]
    fn malformed_counts_are_refused() {
        assert!(PairCounts::new(vec![pair_key(0, 1)], vec![]).is_err());
        assert!(PairCounts::new(vec![pair_key(1, 1)], vec![1]).is_err());
        assert!(PairCounts::new(vec![pair_key(2, 1)], vec![1]).is_err());
        assert!(PairCounts::new(vec![pair_key(0, 1)], vec![0]).is_err());
        assert!(PairCounts::new(vec![pair_key(0, 2), pair_key(0, 1)], vec![1, 1]).is_err());
        assert!(PairCounts::new(vec![pair_key(0, 1), pair_key(0, 1)], vec![1, 1]).is_err());
    }
}
