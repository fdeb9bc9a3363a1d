//! The counter of one shard's pairs, and the pair budget that narrows a shard whose counts
//! outgrow the memory planned for them.

use std::ops::Range;

use super::counts::{CountBuffers, EdgeChunk, EdgeCounts, PairCounts, key_pair, pair_key};
use super::kernel::{AccumulatorPool, VertexRows};
use super::{DEFAULT_BATCH_NNZ, Graph, ShardedGraph};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::matrix::{CsrMatrix, IndexValue, StoredValue};
use crate::memory::{try_reserve, with_capacity};
use crate::statistics::MAX_ROWS;
use crate::vocabulary::Vocabulary;

/// Accumulates pair counts over any number of row batches (and matrices), then thresholds them
/// into a `Graph`.
pub struct EdgeCounter {
    pub(super) counts: EdgeCounts,
    pub(super) rows_seen: u64,
    batch_nnz: usize,
    /// Only pairs whose smaller vertex lies here are counted: one shard of a sharded build.
    pub(super) sources: Range<usize>,
    /// Distinct pairs the counts may reach; beyond it the shard gives up its last sources
    /// (see `keep_within_budget`).
    pair_budget: Option<PairBudget>,
    /// The arrays of the counts before the last merge, which the next merge writes into. They
    /// hold no more than the running counts, and the merge's output needs them anyway.
    spare: CountBuffers,
    /// The arrays of the last batch's counts, which the next batch's counts are written into.
    batch_spare: CountBuffers,
    accumulators: AccumulatorPool,
}

/// What a shard's counts may hold, and what projects them to the end of the pass: the rows of
/// the whole pass and the pairs each source heads in them (from `PairBounds`).
#[derive(Clone, Debug)]
pub struct PairBudget {
    pub(super) pairs: u64,
    pub(super) pass_rows: u64,
    /// Indexed from the first source.
    pub(super) heads: Vec<u64>,
}

impl EdgeCounter {
    /// A counter of every pair over `n_vertices` vertices.
    pub fn new(n_vertices: usize) -> Self {
        EdgeCounter {
            counts: EdgeCounts::empty(n_vertices),
            rows_seen: 0,
            batch_nnz: DEFAULT_BATCH_NNZ,
            sources: 0..n_vertices,
            pair_budget: None,
            spare: CountBuffers::default(),
            batch_spare: CountBuffers::default(),
            accumulators: AccumulatorPool::default(),
        }
    }

    /// Counts only the pairs whose smaller vertex is in `sources` (a shard, see `ShardedGraph`).
    pub fn with_sources(mut self, sources: Range<usize>) -> Result<Self> {
        if sources.start > sources.end || sources.end > self.n_vertices() {
            return Err(Error::InvalidParameter(format!(
                "shard {sources:?} is not a range of the {} vertices",
                self.n_vertices()
            )));
        }
        self.sources = sources;
        Ok(self)
    }

    /// The source vertices whose pairs are counted.
    pub fn sources(&self) -> Range<usize> {
        self.sources.clone()
    }

    /// Distinct pairs counted so far.
    pub fn n_pairs(&self) -> usize {
        self.counts.n_edges()
    }

    /// Bounds the distinct pairs held while counting: a shard whose counts outgrow the budget
    /// is narrowed to its first sources (the budget's heads must start at the first source).
    #[must_use]
    pub fn with_pair_budget(mut self, budget: PairBudget) -> Self {
        self.pair_budget = Some(budget);
        self
    }

    /// Narrows the sources when the counts exceed the pair budget, after `rows_seen` rows of
    /// the pass. The counts of a source vertex come only from the rows that hold it, so
    /// dropping the last sources' counts and counting on without them leaves the others' counts
    /// exact. The shard keeps the sources whose counts, projected to the end of the pass, fit:
    /// a source gains at most the pairs it heads in rows not yet seen, and (pairs being found
    /// at a falling rate) about no more than in proportion to the rows left. The first source
    /// always stays.
    fn keep_within_budget(&mut self, rows_seen: u64) {
        let Some(budget) = &self.pair_budget else {
            return;
        };
        if self.counts.n_edges() as u64 <= budget.pairs {
            return;
        }
        let Range { start, end } = self.sources;
        let n = self.n_vertices();
        let growth = budget.pass_rows.max(rows_seen) as f64 / rows_seen.max(1) as f64;
        let mut projected = 0u64;
        let mut cut = end;
        for u in start..end {
            let (nbrs, weights) = self.counts.row(u);
            let seen: u64 = weights.iter().map(|&w| u64::from(w)).sum();
            let now = nbrs.len() as u64;
            let unseen = budget.heads[u - start].saturating_sub(seen);
            projected += ((now as f64 * growth) as u64)
                .min(now + unseen)
                .min((n - 1 - u) as u64);
            if u > start && projected > budget.pairs {
                cut = u;
                break;
            }
        }
        let kept = self.counts.indptr[cut];
        for e in &mut self.counts.indptr[cut + 1..] {
            *e = kept;
        }
        for buffer in [&mut self.counts.neighbors, &mut self.counts.weights] {
            buffer.truncate(kept);
            buffer.shrink_to_fit();
        }
        // The spare arrays are as large as the counts before narrowing: the memory given up.
        self.spare = CountBuffers::default();
        self.sources = start..cut;
    }

    /// Sets how many stored entries one batch may hold (at least 1).
    #[must_use]
    pub fn with_batch_nnz(mut self, batch_nnz: usize) -> Self {
        self.batch_nnz = batch_nnz.max(1);
        self
    }

    /// Vertices.
    pub fn n_vertices(&self) -> usize {
        self.counts.n_vertices()
    }

    /// Counts the vertex pairs of every row of `matrix`; features that are not vertices of
    /// `vocabulary` are ignored.
    pub fn add_rows<I: IndexValue, V: StoredValue>(
        &mut self,
        matrix: &CsrMatrix<'_, I, V>,
        vocabulary: &Vocabulary,
        interrupt: Interrupt<'_>,
    ) -> Result<()> {
        if vocabulary.n_vertices() != self.n_vertices()
            || vocabulary.n_features() != matrix.n_features()
        {
            return Err(Error::InvalidParameter(format!(
                "the vocabulary ({} features, {} vertices) does not match the counter ({} \
                 vertices) and the matrix ({} features)",
                vocabulary.n_features(),
                vocabulary.n_vertices(),
                self.n_vertices(),
                matrix.n_features()
            )));
        }
        let rows_seen = self.rows_seen + matrix.n_rows() as u64;
        if rows_seen > MAX_ROWS {
            return Err(Error::TooManyRows {
                n_rows: rows_seen,
                limit: MAX_ROWS,
            });
        }
        let n_batches = matrix.nnz().div_ceil(self.batch_nnz).max(1);
        for batch in matrix.row_blocks(matrix.rows(), n_batches) {
            let batch_end = self.rows_seen + batch.end as u64;
            let rows = VertexRows::build(matrix, batch, vocabulary, &self.sources, interrupt)?;
            let counts = rows.count_pairs(
                self.n_vertices(),
                &self.sources,
                &self.accumulators,
                std::mem::take(&mut self.batch_spare),
                interrupt,
            )?;
            drop(rows);
            self.add_counts(counts, interrupt)?;
            self.keep_within_budget(batch_end);
        }
        self.rows_seen = rows_seen;
        Ok(())
    }

    /// The counts so far, in the compact form that moves between processes.
    pub fn pair_counts(&self) -> Result<PairCounts> {
        Ok(self.pair_counts_cut(&[])?.swap_remove(0))
    }

    /// The counts so far cut at the source vertices `cuts` (ascending, within the sources):
    /// one compact count per range of sources, written as such rather than cut from a copy.
    pub fn pair_counts_cut(&self, cuts: &[usize]) -> Result<Vec<PairCounts>> {
        let Range { start, end } = self.sources;
        if cuts.iter().any(|c| !(start..=end).contains(c)) || !cuts.is_sorted() {
            return Err(Error::InvalidParameter(format!(
                "cuts {cuts:?} are not ascending vertices of sources {start}..{end}"
            )));
        }
        let bounds: Vec<usize> = [start]
            .into_iter()
            .chain(cuts.iter().copied())
            .chain([end])
            .collect();
        bounds
            .windows(2)
            .map(|range| {
                let (first, last) = (self.counts.indptr[range[0]], self.counts.indptr[range[1]]);
                let mut keys = with_capacity(last - first, "pair counts")?;
                for u in range[0]..range[1] {
                    keys.extend(self.counts.row(u).0.iter().map(|&v| pair_key(u as u32, v)));
                }
                let mut weights = with_capacity(last - first, "pair counts")?;
                weights.extend_from_slice(&self.counts.weights[first..last]);
                Ok(PairCounts::from_sorted(keys, weights))
            })
            .collect()
    }

    /// Adds pair counts made elsewhere (by `pair_counts` on other rows, over the same vertices);
    /// every pair must be of this counter's sources.
    pub fn add_pair_counts(&mut self, pairs: &PairCounts, interrupt: Interrupt<'_>) -> Result<()> {
        let n = self.n_vertices();
        let mut lengths = vec![0u32; self.sources.len()];
        for &key in pairs.keys() {
            let (u, v) = key_pair(key);
            if !self.sources.contains(&(u as usize)) || v as usize >= n {
                return Err(Error::InvalidParameter(format!(
                    "pair ({u}, {v}) is not of sources {:?} of {n} vertices",
                    self.sources
                )));
            }
            lengths[u as usize - self.sources.start] += 1;
        }
        if let Some(&first) = pairs.keys().first()
            && self.counts.indptr[key_pair(first).0 as usize] == self.counts.n_edges()
        {
            // Counts that come in ascending ranges of sources (a cluster's ranges, in order)
            // follow every pair held: appended, not merged into a copy of all held so far.
            return self.append_counts(pairs, key_pair(first).0 as usize, &lengths);
        }
        let mut chunk = EdgeChunk {
            lengths,
            ..EdgeChunk::default()
        };
        chunk.reserve(pairs.keys().len())?;
        chunk
            .neighbors
            .extend(pairs.keys().iter().map(|&k| key_pair(k).1));
        chunk.weights.extend_from_slice(pairs.weights());
        let counts = EdgeCounts::assemble_from(n, self.sources.start, vec![chunk])?;
        self.add_counts(counts, interrupt)
    }

    /// Appends pairs whose sources, from `first` on, all come after those of every pair held,
    /// with `lengths` pairs for each source of the counter.
    fn append_counts(&mut self, pairs: &PairCounts, first: usize, lengths: &[u32]) -> Result<()> {
        let counts = &mut self.counts;
        try_reserve(&mut counts.neighbors, pairs.len(), "pair counts")?;
        try_reserve(&mut counts.weights, pairs.len(), "pair counts")?;
        counts
            .neighbors
            .extend(pairs.keys().iter().map(|&k| key_pair(k).1));
        counts.weights.extend_from_slice(pairs.weights());
        let Range { start, end } = self.sources;
        let mut held = counts.indptr[first];
        for u in first..end {
            held += lengths[u - start] as usize;
            counts.indptr[u + 1] = held;
        }
        for e in &mut counts.indptr[end + 1..] {
            *e = held;
        }
        Ok(())
    }

    /// Adds the counts of a batch to the running counts, merging into the spare arrays.
    fn add_counts(&mut self, counts: EdgeCounts, interrupt: Interrupt<'_>) -> Result<()> {
        if self.counts.n_edges() == 0 {
            self.counts = counts;
            return Ok(());
        }
        let spare = std::mem::take(&mut self.spare);
        let merged = self.counts.merged_into(&counts, spare, interrupt)?;
        self.spare = std::mem::replace(&mut self.counts, merged).into();
        self.batch_spare = counts.into();
        Ok(())
    }

    /// Adds the counts of another counter over the same vertices.
    pub fn merge(&mut self, other: &EdgeCounter, interrupt: Interrupt<'_>) -> Result<()> {
        if other.sources != self.sources {
            return Err(Error::InvalidParameter(
                "merged edge counts are of another shard".into(),
            ));
        }
        if other.n_vertices() != self.n_vertices() {
            return Err(Error::LengthMismatch {
                what: "merged edge counts",
                len: other.n_vertices(),
                expected_from: "these edge counts",
                expected: self.n_vertices(),
            });
        }
        let rows_seen = self.rows_seen + other.rows_seen;
        if rows_seen > MAX_ROWS {
            return Err(Error::TooManyRows {
                n_rows: rows_seen,
                limit: MAX_ROWS,
            });
        }
        self.counts = self.counts.merged(&other.counts, interrupt)?;
        self.rows_seen = rows_seen;
        Ok(())
    }

    /// Drops the edges held by fewer than `min_cooccurrence` rows and returns the symmetric graph.
    pub fn finish(self, min_cooccurrence: u32, interrupt: Interrupt<'_>) -> Result<Graph> {
        let mut graph = ShardedGraph::new(self.n_vertices());
        graph.add_shard(self, min_cooccurrence, interrupt)?;
        graph.finish(interrupt)
    }
}
