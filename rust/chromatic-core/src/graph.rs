//! The weighted feature co-occurrence graph.
//!
//! Rows are consumed in batches. A batch is turned into sorted vertex lists per row and, for each
//! vertex, the places where it occurs; pair counts are then accumulated one source vertex at a
//! time in a dense per-thread accumulator (Gustavson's row-by-row product, upper triangle only). The batch's counts come out as a sorted upper-triangle adjacency that is merged into
//! the running total, so memory is linear in |V| + |E| plus one bounded batch, and the result
//! does not depend on the batching or the number of threads.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, Pacer};
use crate::matrix::{CsrMatrix, IndexValue, StoredValue};
use crate::pairs::{PairCounts, key_pair, pair_key};
use crate::parallel::{balanced_blocks, parallel_blocks};
use crate::parallel::{concat, filled, for_each_row, split_mut, try_map_blocks};
use crate::statistics::MAX_ROWS;
use crate::vocabulary::{NOT_A_VERTEX, Vocabulary};

/// Stored entries per batch by default: bounds the batch buffers (8 bytes per entry) to 512 MiB.
pub const DEFAULT_BATCH_NNZ: usize = 1 << 26;

/// Upper triangle of a weighted graph: for each vertex `u`, its neighbours `v > u` in ascending
/// order, with the number of rows holding both.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EdgeCounts {
    indptr: Vec<usize>,
    neighbors: Vec<u32>,
    weights: Vec<u32>,
}

/// One vertex range's share of an `EdgeCounts`, produced in parallel and assembled in order.
#[derive(Default)]
struct EdgeChunk {
    lengths: Vec<u32>,
    neighbors: Vec<u32>,
    weights: Vec<u32>,
}

impl EdgeCounts {
    fn empty(n_vertices: usize) -> Self {
        EdgeCounts {
            indptr: vec![0; n_vertices + 1],
            neighbors: Vec::new(),
            weights: Vec::new(),
        }
    }

    fn n_vertices(&self) -> usize {
        self.indptr.len() - 1
    }

    fn n_edges(&self) -> usize {
        self.neighbors.len()
    }

    #[inline]
    fn row(&self, u: usize) -> (&[u32], &[u32]) {
        let range = self.indptr[u]..self.indptr[u + 1];
        (&self.neighbors[range.clone()], &self.weights[range])
    }

    /// Splits the vertices into blocks of similar work, for a pass that costs about one unit
    /// per vertex plus one per stored edge (of `self` and of `other`, when merging).
    fn vertex_blocks(&self, other: Option<&EdgeCounts>) -> Vec<Range<usize>> {
        balanced_blocks(self.n_vertices(), parallel_blocks(), |u| {
            u + self.indptr[u] + other.map_or(0, |o| o.indptr[u])
        })
    }

    fn assemble(n_vertices: usize, chunks: Vec<EdgeChunk>) -> Self {
        EdgeCounts::assemble_from(n_vertices, 0, chunks)
    }

    /// The counts whose rows from vertex `first` on come from `chunks` in order, earlier and
    /// later rows being empty.
    fn assemble_from(n_vertices: usize, first: usize, chunks: Vec<EdgeChunk>) -> Self {
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
        let neighbors = concat(chunks.iter().map(|c| c.neighbors.as_slice()));
        let weights = concat(chunks.iter().map(|c| c.weights.as_slice()));
        EdgeCounts {
            indptr,
            neighbors,
            weights,
        }
    }

    /// Edge-wise sum of two upper triangles over the same vertices. A first pass counts each
    /// merged row, so that the result is written once, in parallel, into arrays of its exact
    /// size: no growing per-thread buffers and no second copy, which keeps the merge of large
    /// running counts at the sum of its input and output.
    fn merged(&self, other: &EdgeCounts, interrupt: Interrupt<'_>) -> Result<Self> {
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
        let mut neighbors = filled(total, 0u32, "merged pair counts")?;
        let mut weights = filled(total, 0u32, "merged pair counts")?;
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
    fn thresholded(self, min_weight: u32, interrupt: Interrupt<'_>) -> Result<Self> {
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
                for (&v, &w) in nbrs.iter().zip(weights) {
                    if w >= min_weight {
                        chunk.push(v, w);
                    }
                }
                chunk.lengths.push((chunk.neighbors.len() - before) as u32);
            }
            Ok(chunk)
        })?;
        Ok(EdgeCounts::assemble(self.n_vertices(), chunks))
    }
}

impl EdgeChunk {
    #[inline]
    fn push(&mut self, neighbor: u32, weight: u32) {
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

/// Accumulates pair counts over any number of row batches (and matrices), then thresholds them
/// into a `Graph`.
pub struct EdgeCounter {
    counts: EdgeCounts,
    rows_seen: u64,
    batch_nnz: usize,
    /// Only pairs whose smaller vertex lies here are counted: one shard of a sharded build.
    sources: Range<usize>,
    /// Distinct pairs the counts may reach; beyond it the shard gives up its last sources
    /// (see `keep_within_budget`).
    pair_budget: Option<PairBudget>,
}

/// What a shard's counts may hold, and what projects them to the end of the pass: the rows of
/// the whole pass and the pairs each source heads in them (from `PairBounds`).
#[derive(Clone, Debug)]
pub struct PairBudget {
    pairs: u64,
    pass_rows: u64,
    /// Indexed from the first source.
    heads: Vec<u64>,
}

impl EdgeCounter {
    pub fn new(n_vertices: usize) -> Self {
        EdgeCounter {
            counts: EdgeCounts::empty(n_vertices),
            rows_seen: 0,
            batch_nnz: DEFAULT_BATCH_NNZ,
            sources: 0..n_vertices,
            pair_budget: None,
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

    pub fn sources(&self) -> Range<usize> {
        self.sources.clone()
    }

    /// Distinct pairs counted so far.
    pub fn n_pairs(&self) -> usize {
        self.counts.n_edges()
    }

    /// Bounds the distinct pairs held while counting: a shard whose counts outgrow the budget
    /// is narrowed to its first sources (the budget's heads must start at the first source).
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
        self.sources = start..cut;
    }

    /// Sets how many stored entries one batch may hold (at least 1).
    pub fn with_batch_nnz(mut self, batch_nnz: usize) -> Self {
        self.batch_nnz = batch_nnz.max(1);
        self
    }

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
            let counts = rows.count_pairs(self.n_vertices(), &self.sources, interrupt)?;
            self.counts = if self.counts.n_edges() == 0 {
                counts
            } else {
                self.counts.merged(&counts, interrupt)?
            };
            self.keep_within_budget(batch_end);
        }
        self.rows_seen = rows_seen;
        Ok(())
    }

    /// The counts so far, in the compact form that moves between processes.
    pub fn pair_counts(&self) -> PairCounts {
        let mut keys = Vec::with_capacity(self.counts.n_edges());
        for u in self.sources.clone() {
            keys.extend(self.counts.row(u).0.iter().map(|&v| pair_key(u as u32, v)));
        }
        PairCounts::from_sorted(keys, self.counts.weights.clone())
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
        let chunk = EdgeChunk {
            lengths,
            neighbors: pairs.keys().iter().map(|&k| key_pair(k).1).collect(),
            weights: pairs.weights().to_vec(),
        };
        let counts = EdgeCounts::assemble_from(n, self.sources.start, vec![chunk]);
        self.counts = if self.counts.n_edges() == 0 {
            counts
        } else {
            self.counts.merged(&counts, interrupt)?
        };
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

/// A graph built shard by shard: each shard counts the pairs of the rows whose smaller vertex
/// lies in its range of vertices (one pass over the data each), so that only one shard's counts
/// are in memory at a time; shards come in vertex order and cover every vertex.
pub struct ShardedGraph {
    upper: EdgeCounts,
    /// Vertices whose edges are in `upper` so far.
    done: usize,
}

impl ShardedGraph {
    pub fn new(n_vertices: usize) -> Self {
        ShardedGraph {
            upper: EdgeCounts {
                indptr: vec![0; n_vertices + 1],
                neighbors: Vec::new(),
                weights: Vec::new(),
            },
            done: 0,
        }
    }

    /// Where the next shard starts.
    pub fn next_vertex(&self) -> usize {
        self.done
    }

    /// Edges kept so far.
    pub fn n_edges(&self) -> usize {
        self.upper.n_edges()
    }

    /// Keeps the edges of `counter` held by at least `min_cooccurrence` rows.
    pub fn add_shard(
        &mut self,
        counter: EdgeCounter,
        min_cooccurrence: u32,
        interrupt: Interrupt<'_>,
    ) -> Result<()> {
        if min_cooccurrence == 0 {
            return Err(Error::InvalidParameter(
                "min_cooccurrence must be at least 1".into(),
            ));
        }
        let n = self.upper.n_vertices();
        if counter.n_vertices() != n || counter.sources.start != self.done {
            return Err(Error::InvalidParameter(format!(
                "the next shard starts at vertex {} of {n}, not {} of {}",
                self.done,
                counter.sources.start,
                counter.n_vertices()
            )));
        }
        let sources = counter.sources.clone();
        let shard = counter.counts.thresholded(min_cooccurrence, interrupt)?;
        let base = self.upper.n_edges();
        let extra = shard.n_edges();
        if base > 0 {
            for buffer in [&mut self.upper.neighbors, &mut self.upper.weights] {
                buffer
                    .try_reserve_exact(extra)
                    .map_err(|_| Error::OutOfMemory {
                        what: "the edges of the graph",
                        bytes: extra * 8,
                    })?;
            }
        }
        for u in sources.clone() {
            self.upper.indptr[u + 1] = base + shard.indptr[u + 1];
        }
        for u in sources.end..n {
            self.upper.indptr[u + 1] = base + extra;
        }
        // Rows outside the shard are empty, so its arrays are exactly its sources' rows. The
        // first shard (the only one without a memory limit) is taken over without a copy.
        if base == 0 {
            self.upper.neighbors = shard.neighbors;
            self.upper.weights = shard.weights;
        } else {
            self.upper.neighbors.extend_from_slice(&shard.neighbors);
            self.upper.weights.extend_from_slice(&shard.weights);
        }
        self.done = sources.end;
        Ok(())
    }

    /// The symmetric graph, once the shards cover every vertex.
    pub fn finish(self, interrupt: Interrupt<'_>) -> Result<Graph> {
        let n = self.upper.n_vertices();
        if self.done != n {
            return Err(Error::InvalidParameter(format!(
                "the shards cover vertices 0..{} of {n}",
                self.done
            )));
        }
        interrupt.check()?;
        Ok(Graph::from_upper(&self.upper))
    }
}

/// How a graph build spends a memory limit: the batch size, and shards of source vertices
/// planned one at a time, each as large as the memory left beside the edges kept so far allows.
///
/// The pair bounds count every row a pair shares, so they overstate the distinct pairs of
/// frequent vertices several times over. A shard is therefore planned for the bounds divided by
/// the overstatement seen on the shard before, and its counter is given the budget the memory
/// really allows: when the counts outgrow it, the counter narrows the shard (see
/// `EdgeCounter::with_pair_budget`).
#[derive(Debug)]
pub struct BuildPlan {
    pub batch_nnz: usize,
    /// Bytes for counting and kept edges: the limit less what the vertices and a batch hold.
    available: u64,
    bounds: PairBounds,
    /// Bounded pairs per distinct pair counted on the last shard (at least 1).
    overstatement: f64,
}

/// Bytes per feature (frequencies, vertex map) and per vertex (bounds and a shard's copy of
/// them, row pointers of the running, batch and merged counts and of the kept edges, incidence
/// pointers, coloring) held whatever the plan, plus a pair-count accumulator per thread.
const BYTES_PER_FEATURE: u64 = 8;
const BYTES_PER_VERTEX: u64 = 72;
/// Bytes per stored entry of a batch (vertex lists while gathered and joined, incidences).
const BYTES_PER_BATCH_ENTRY: u64 = 16;
/// Bytes per distinct pair while counting (running counts, a batch's counts, their merge).
const BYTES_PER_COUNTED_PAIR: u64 = 24;
/// Bytes per kept edge while later shards are counted (the upper triangle).
const BYTES_PER_KEPT_EDGE: u64 = 8;
/// Bytes per edge of the finished graph (the upper triangle, then the symmetric lists).
pub const BYTES_PER_EDGE: u64 = 24;
/// The largest overstatement a shard is planned for: bounds the work a narrowed shard loses.
const MAX_OVERSTATEMENT: f64 = 4.0;
/// The smallest batch of a memory-limited build, in stored entries.
const MIN_BATCH_NNZ: usize = 1 << 12;

impl BuildPlan {
    /// The plan that keeps an estimate of the build's working memory (beyond the input rows)
    /// under `memory_limit`; a batch takes at most an eighth of what the vertices leave.
    pub fn for_limit(
        bounds: PairBounds,
        n_features: usize,
        n_threads: usize,
        memory_limit: u64,
    ) -> Result<Self> {
        let n_vertices = bounds.heads.len() as u64;
        let fixed = BYTES_PER_FEATURE * n_features as u64
            + (BYTES_PER_VERTEX + 4 * n_threads as u64) * n_vertices;
        let available = memory_limit.saturating_sub(fixed);
        if available < (1 << 20) {
            return Err(Error::MemoryLimit(format!(
                "{memory_limit} bytes cannot hold the {n_vertices} vertices of the graph, \
                 which need about {fixed} bytes"
            )));
        }
        let batch_nnz = (available / 8 / BYTES_PER_BATCH_ENTRY)
            .clamp(MIN_BATCH_NNZ as u64, DEFAULT_BATCH_NNZ as u64) as usize;
        Ok(BuildPlan {
            batch_nnz,
            available: available - batch_nnz as u64 * BYTES_PER_BATCH_ENTRY,
            bounds,
            overstatement: 1.0,
        })
    }

    /// The counter of the shard from vertex `start`, whose counts must fit beside `kept_edges`
    /// edges kept so far.
    pub fn next_shard(&self, start: usize, kept_edges: usize) -> Result<EdgeCounter> {
        let kept = (kept_edges as u64).saturating_mul(BYTES_PER_KEPT_EDGE);
        if kept >= self.available {
            return Err(self.too_many_edges(kept_edges));
        }
        let max_pairs = ((self.available - kept) / BYTES_PER_COUNTED_PAIR).max(1);
        let planned = (max_pairs as f64 * self.overstatement) as u64;
        let sources = self.bounds.shard_from(start, planned);
        let budget = self.bounds.budget(sources.clone(), max_pairs);
        // A shard planned wider than its bounds allow counts in batches as much smaller, so that
        // a batch's pairs stay within what the memory estimate grants a batch.
        let batch_nnz = (self.batch_nnz as f64 / self.overstatement) as usize;
        Ok(EdgeCounter::new(self.bounds.heads.len())
            .with_batch_nnz(batch_nnz.max(MIN_BATCH_NNZ))
            .with_sources(sources)?
            .with_pair_budget(budget))
    }

    /// Learns from a shard's counts (before thresholding) how far the bounds overstate them.
    pub fn learn(&mut self, counter: &EdgeCounter) {
        let bounded = self.bounds.total(counter.sources()) as f64;
        let counted = counter.n_pairs().max(1) as f64;
        self.overstatement = (bounded / counted).clamp(1.0, MAX_OVERSTATEMENT);
    }

    /// Refuses a finished graph whose edges would not fit.
    pub fn check_edges(&self, n_edges: usize) -> Result<()> {
        if (n_edges as u64).saturating_mul(BYTES_PER_EDGE) > self.available {
            return Err(self.too_many_edges(n_edges));
        }
        Ok(())
    }

    fn too_many_edges(&self, n_edges: usize) -> Error {
        Error::MemoryLimit(format!(
            "the graph has {n_edges} edges or more, which need about {} bytes, over the {} \
             the limit leaves for them; raise min_cooccurrence or the limit",
            (n_edges as u64).saturating_mul(BYTES_PER_EDGE),
            self.available
        ))
    }
}

/// For every vertex, how many (row, larger vertex) pairs it heads: a bound on its upper edges,
/// from which shards are planned before any pair is counted.
#[derive(Debug)]
pub struct PairBounds {
    /// Atomic, for parallel increments without per-thread copies.
    heads: Vec<AtomicU64>,
    /// Rows added.
    rows: u64,
}

impl PairBounds {
    pub fn new(n_vertices: usize) -> Result<Self> {
        let mut heads = Vec::new();
        heads
            .try_reserve_exact(n_vertices)
            .map_err(|_| Error::OutOfMemory {
                what: "pair bounds",
                bytes: n_vertices * 8,
            })?;
        heads.extend((0..n_vertices).map(|_| AtomicU64::new(0)));
        Ok(PairBounds { heads, rows: 0 })
    }

    /// Adds the pairs of the rows of `matrix`.
    pub fn add_rows<I: IndexValue, V: StoredValue>(
        &mut self,
        matrix: &CsrMatrix<'_, I, V>,
        vocabulary: &Vocabulary,
        interrupt: Interrupt<'_>,
    ) -> Result<()> {
        if vocabulary.n_vertices() != self.heads.len()
            || vocabulary.n_features() != matrix.n_features()
        {
            return Err(Error::InvalidParameter(
                "the vocabulary does not match the pair bounds or the matrix".into(),
            ));
        }
        let heads = &self.heads;
        let blocks = matrix.row_blocks(matrix.rows(), parallel_blocks());
        try_map_blocks(blocks, |block| {
            let mut vertices = Vec::new();
            for_each_row(matrix, block, interrupt, |_, features| {
                vertices.clear();
                vertices.extend(
                    features
                        .iter()
                        .map(|&f| vocabulary.vertex_of(f))
                        .filter(|&v| v != NOT_A_VERTEX),
                );
                vertices.sort_unstable();
                let k = vertices.len();
                for (i, &v) in vertices.iter().enumerate().take(k.saturating_sub(1)) {
                    heads[v as usize].fetch_add((k - 1 - i) as u64, AtomicOrdering::Relaxed);
                }
                Ok(())
            })
        })?;
        self.rows += matrix.n_rows() as u64;
        Ok(())
    }

    /// The range of vertices from `start` whose pairs to count are bounded by `max_pairs` (at
    /// least one vertex, even one that alone exceeds it). A vertex has at most as many upper
    /// edges as larger vertices, whatever it heads.
    pub fn shard_from(&self, start: usize, max_pairs: u64) -> Range<usize> {
        let n = self.heads.len();
        let mut pairs = 0u64;
        for u in start..n {
            let bound = self.bound(u);
            if u > start && pairs + bound > max_pairs {
                return start..u;
            }
            pairs += bound;
        }
        start..n
    }

    /// The bound on the upper edges of `u`.
    fn bound(&self, u: usize) -> u64 {
        let larger = (self.heads.len() - 1 - u) as u64;
        self.heads[u].load(AtomicOrdering::Relaxed).min(larger)
    }

    /// The budget of `max_pairs` distinct pairs for the shard of `sources`.
    pub fn budget(&self, sources: Range<usize>, max_pairs: u64) -> PairBudget {
        PairBudget {
            pairs: max_pairs,
            pass_rows: self.rows,
            heads: sources
                .map(|u| self.heads[u].load(AtomicOrdering::Relaxed))
                .collect(),
        }
    }

    /// The bound on the upper edges of the vertices of `vertices`.
    fn total(&self, vertices: Range<usize>) -> u64 {
        vertices.map(|u| self.bound(u)).sum()
    }
}

/// Rows whose first entries are loaded together while counting pairs.
const GATHER: usize = 16;

/// Ends every row in `VertexRows::entries`.
const END_OF_ROW: u32 = u32::MAX;

/// The rows of one batch as sorted vertex lists, each followed by `END_OF_ROW` (rows that head
/// no pair of the shard's sources are dropped), and for each source vertex the positions in
/// `entries` where it occurs. The vertices after such a position, up to the end marker, are
/// exactly the larger vertices sharing that row, so counting reads one contiguous run per
/// incidence and touches no row index.
struct VertexRows {
    entries: Vec<u32>,
    vertex_ptr: Vec<usize>,
    positions: Vec<u32>,
}

impl VertexRows {
    fn build<I: IndexValue, V: StoredValue>(
        matrix: &CsrMatrix<'_, I, V>,
        rows: Range<usize>,
        vocabulary: &Vocabulary,
        sources: &Range<usize>,
        interrupt: Interrupt<'_>,
    ) -> Result<Self> {
        let blocks = matrix.row_blocks(rows, parallel_blocks());
        let parts = try_map_blocks(blocks, |block| {
            let mut entries = Vec::new();
            for_each_row(matrix, block, interrupt, |_, features| {
                let before = entries.len();
                entries.extend(
                    features
                        .iter()
                        .map(|&f| vocabulary.vertex_of(f))
                        .filter(|&v| v != NOT_A_VERTEX),
                );
                let row = &mut entries[before..];
                row.sort_unstable();
                // A row adds pairs to the shard only if a vertex below its largest is a source.
                let heads = &row[..row.len().saturating_sub(1)];
                let first_source = heads.partition_point(|&v| (v as usize) < sources.start);
                if heads
                    .get(first_source)
                    .is_some_and(|&v| (v as usize) < sources.end)
                {
                    entries.push(END_OF_ROW);
                } else {
                    entries.truncate(before);
                }
                Ok(())
            })?;
            Ok(entries)
        })?;
        let entries = concat(parts.iter().map(Vec::as_slice));
        drop(parts);
        if entries.len() >= END_OF_ROW as usize {
            return Err(Error::InvalidParameter(format!(
                "a batch of {} vertex entries is too large; lower the batch size",
                entries.len()
            )));
        }
        interrupt.check()?;
        let (vertex_ptr, positions) = incidence(&entries, sources);
        Ok(VertexRows {
            entries,
            vertex_ptr,
            positions,
        })
    }

    /// Counts, for every vertex `u`, the rows it shares with each vertex `v > u`.
    fn count_pairs(
        &self,
        n_vertices: usize,
        sources: &Range<usize>,
        interrupt: Interrupt<'_>,
    ) -> Result<EdgeCounts> {
        let first = sources.start;
        let blocks: Vec<Range<usize>> = balanced_blocks(sources.len(), parallel_blocks(), |i| {
            // Work per vertex: its incidences times a typical row length, plus one.
            i + self.vertex_ptr[i] * 8
        })
        .into_iter()
        .map(|b| b.start + first..b.end + first)
        .collect();
        let chunks: Vec<Result<EdgeChunk>> = blocks
            .into_par_iter()
            .map_init(
                || filled(n_vertices, 0u32, "a pair-count accumulator"),
                |accumulator, vertices| {
                    let accumulator = accumulator.as_mut().map_err(|e| e.clone())?;
                    let mut touched = Vec::new();
                    let mut chunk = EdgeChunk::default();
                    let mut pacer = Pacer::new(interrupt);
                    for u in vertices {
                        let here = self.vertex_ptr[u - first]..self.vertex_ptr[u - first + 1];
                        // Each incidence costs about one row's length.
                        pacer.step(here.len() * 16)?;
                        // The rows of a vertex lie far apart in `entries`. Loading the first
                        // vertex of a group of rows before walking any of them lets the processor
                        // fetch the group's cache lines in parallel rather than one at a time.
                        for group in self.positions[here].chunks(GATHER) {
                            let mut first = [END_OF_ROW; GATHER];
                            for (slot, &position) in first.iter_mut().zip(group) {
                                *slot = self.entries[position as usize + 1];
                            }
                            for (&v0, &position) in first.iter().zip(group) {
                                if v0 == END_OF_ROW {
                                    continue;
                                }
                                let rest = &self.entries[position as usize + 2..];
                                for &v in std::iter::once(&v0).chain(rest) {
                                    if v == END_OF_ROW {
                                        break;
                                    }
                                    let slot = &mut accumulator[v as usize];
                                    if *slot == 0 {
                                        touched.push(v);
                                    }
                                    *slot += 1;
                                }
                            }
                        }
                        touched.sort_unstable();
                        for &v in touched.iter() {
                            let slot = &mut accumulator[v as usize];
                            chunk.push(v, *slot);
                            *slot = 0;
                        }
                        chunk.lengths.push(touched.len() as u32);
                        touched.clear();
                    }
                    Ok(chunk)
                },
            )
            .collect();
        let chunks = chunks.into_iter().collect::<Result<Vec<_>>>()?;
        Ok(EdgeCounts::assemble_from(n_vertices, first, chunks))
    }
}

/// For every vertex of `sources` (indexed from its start), the positions in `entries` where it
/// occurs (counting sort, ascending).
fn incidence(entries: &[u32], sources: &Range<usize>) -> (Vec<usize>, Vec<u32>) {
    let source_index = |v: u32| {
        let i = (v as usize).wrapping_sub(sources.start);
        (v != END_OF_ROW && i < sources.len()).then_some(i)
    };
    let mut vertex_ptr = vec![0usize; sources.len() + 1];
    for i in entries.iter().filter_map(|&v| source_index(v)) {
        vertex_ptr[i + 1] += 1;
    }
    for i in 0..sources.len() {
        vertex_ptr[i + 1] += vertex_ptr[i];
    }
    let mut cursor = vertex_ptr[..sources.len()].to_vec();
    let mut positions = vec![0u32; vertex_ptr[sources.len()]];
    for (position, &v) in entries.iter().enumerate() {
        if let Some(i) = source_index(v) {
            positions[cursor[i]] = position as u32;
            cursor[i] += 1;
        }
    }
    (vertex_ptr, positions)
}

/// Each range of vertices' own part of CSR neighbour and weight arrays, for parallel filling.
fn split_lists<'a>(
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

/// A symmetric weighted graph in CSR form: every edge appears in the lists of both ends, and
/// each list is sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graph {
    indptr: Vec<usize>,
    neighbors: Vec<u32>,
    weights: Vec<u32>,
}

impl Graph {
    /// Mirrors an upper triangle into full adjacency lists. Work is split by ranges of target
    /// vertices, so that each thread writes only its own contiguous part of the output: the lists
    /// of a range hold its smaller neighbours first (gathered from the upper lists of all earlier
    /// sources, which ascend, so they come out sorted), then its larger ones (copied).
    fn from_upper(upper: &EdgeCounts) -> Self {
        let n = upper.n_vertices();
        // The part of `upper.row(u)` that falls in `targets`.
        let in_range = |u: usize, targets: &Range<usize>| -> (&[u32], &[u32]) {
            let (nbrs, ws) = upper.row(u);
            let (Some(&first), Some(&last)) = (nbrs.first(), nbrs.last()) else {
                return (&[], &[]);
            };
            if (last as usize) < targets.start || first as usize >= targets.end {
                return (&[], &[]);
            }
            let lo = nbrs.partition_point(|&v| (v as usize) < targets.start);
            let hi = nbrs.partition_point(|&v| (v as usize) < targets.end);
            (&nbrs[lo..hi], &ws[lo..hi])
        };
        let lower_degree: Vec<u32> = {
            let ranges = balanced_blocks(n, parallel_blocks(), |v| v);
            let parts: Vec<Vec<u32>> = ranges
                .into_par_iter()
                .map(|targets| {
                    let mut degree = vec![0u32; targets.len()];
                    for u in 0..targets.end {
                        for &v in in_range(u, &targets).0 {
                            degree[v as usize - targets.start] += 1;
                        }
                    }
                    degree
                })
                .collect();
            concat(parts.iter().map(Vec::as_slice))
        };
        let mut indptr = Vec::with_capacity(n + 1);
        indptr.push(0usize);
        for u in 0..n {
            let degree = lower_degree[u] as usize + upper.indptr[u + 1] - upper.indptr[u];
            indptr.push(indptr[u] + degree);
        }
        let mut neighbors = vec![0u32; indptr[n]];
        let mut weights = vec![0u32; indptr[n]];
        let ranges = balanced_blocks(n, parallel_blocks(), |v| v + indptr[v]);
        let pieces = split_lists(&indptr, &ranges, &mut neighbors, &mut weights);
        ranges
            .into_par_iter()
            .zip(pieces)
            .for_each(|(targets, (out_n, out_w))| {
                let base = indptr[targets.start];
                let mut cursor: Vec<usize> = targets.clone().map(|v| indptr[v] - base).collect();
                for u in 0..targets.end {
                    let (nbrs, ws) = in_range(u, &targets);
                    for (&v, &w) in nbrs.iter().zip(ws) {
                        let slot = &mut cursor[v as usize - targets.start];
                        out_n[*slot] = u as u32;
                        out_w[*slot] = w;
                        *slot += 1;
                    }
                }
                for v in targets.clone() {
                    let (nbrs, ws) = upper.row(v);
                    let start = indptr[v] - base + lower_degree[v] as usize;
                    out_n[start..start + nbrs.len()].copy_from_slice(nbrs);
                    out_w[start..start + ws.len()].copy_from_slice(ws);
                }
            });
        Graph {
            indptr,
            neighbors,
            weights,
        }
    }

    /// A graph from an explicit undirected edge list `(u, v, weight)`; duplicate edges add up
    /// and self-loops are refused.
    /// The graph with an edge (of weight 1) wherever a square CSR adjacency matrix holds an
    /// entry `(u, v)` or `(v, u)` off the diagonal: symmetric input is read as it is, and any
    /// other as its symmetric closure.
    pub fn from_adjacency(indptr: &[i64], indices: &[i64], n_vertices: usize) -> Result<Self> {
        if n_vertices >= u32::MAX as usize {
            return Err(Error::TooManyFeatures {
                n_features: n_vertices,
                limit: u32::MAX as usize - 1,
            });
        }
        let matrix = CsrMatrix::<i64, f64>::new(indptr, indices, None, n_vertices)?;
        if matrix.n_rows() != n_vertices {
            return Err(Error::LengthMismatch {
                what: "adjacency rows",
                len: matrix.n_rows(),
                expected_from: "n_vertices",
                expected: n_vertices,
            });
        }
        let mut edges = Vec::new();
        let mut features = Vec::new();
        for u in 0..n_vertices {
            matrix.row_features(u, &mut features)?;
            edges.extend(
                features
                    .iter()
                    .filter(|&&v| v as usize != u)
                    .map(|&v| ((u as u32).min(v), (u as u32).max(v), 1u32)),
            );
        }
        edges.sort_unstable();
        edges.dedup_by_key(|e| (e.0, e.1));
        Graph::from_edges(n_vertices, &edges)
    }

    pub fn from_edges(n_vertices: usize, edges: &[(u32, u32, u32)]) -> Result<Self> {
        let mut upper: Vec<(u32, u32, u32)> = Vec::with_capacity(edges.len());
        for &(a, b, w) in edges {
            let (u, v) = (a.min(b), a.max(b));
            if v as usize >= n_vertices || u == v {
                return Err(Error::InvalidParameter(format!(
                    "edge ({a}, {b}) is a self-loop or names a vertex outside [0, {n_vertices})"
                )));
            }
            upper.push((u, v, w));
        }
        upper.sort_unstable();
        let mut counts = EdgeCounts::empty(n_vertices);
        let mut degree = vec![0usize; n_vertices];
        for (i, &(u, v, w)) in upper.iter().enumerate() {
            if i > 0 && upper[i - 1].0 == u && upper[i - 1].1 == v {
                *counts.weights.last_mut().expect("previous edge") += w;
            } else {
                counts.neighbors.push(v);
                counts.weights.push(w);
                degree[u as usize] += 1;
            }
        }
        for (u, d) in degree.iter().enumerate() {
            counts.indptr[u + 1] = counts.indptr[u] + d;
        }
        Ok(Graph::from_upper(&counts))
    }

    /// The same graph over `n_labels` vertices, vertex `v` renamed `labels[v]` (those no vertex
    /// is renamed to are isolated). The labels must ascend, so that every list stays sorted and
    /// the lists are renamed in place: no second copy of the edges. Used to report the graph in
    /// the caller's feature ids.
    pub fn with_ascending_labels(mut self, labels: &[u32], n_labels: usize) -> Result<Graph> {
        if labels.len() != self.n_vertices() {
            return Err(Error::LengthMismatch {
                what: "labels",
                len: labels.len(),
                expected_from: "vertices",
                expected: self.n_vertices(),
            });
        }
        let ascending = labels.windows(2).all(|w| w[0] < w[1]);
        if !ascending || labels.last().is_some_and(|&l| l as usize >= n_labels) {
            return Err(Error::InvalidParameter(format!(
                "labels must ascend strictly within [0, {n_labels})"
            )));
        }
        self.neighbors
            .par_iter_mut()
            .for_each(|v| *v = labels[*v as usize]);
        let mut indptr = Vec::with_capacity(n_labels + 1);
        indptr.push(0usize);
        let mut next = 0;
        for label in 0..n_labels {
            if labels.get(next) == Some(&(label as u32)) {
                next += 1;
            }
            indptr.push(self.indptr[next]);
        }
        Ok(Graph {
            indptr,
            neighbors: self.neighbors,
            weights: self.weights,
        })
    }

    pub fn n_vertices(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of undirected edges.
    pub fn n_edges(&self) -> usize {
        self.neighbors.len() / 2
    }

    #[inline]
    pub fn degree(&self, u: usize) -> usize {
        self.indptr[u + 1] - self.indptr[u]
    }

    pub fn max_degree(&self) -> usize {
        (0..self.n_vertices())
            .map(|u| self.degree(u))
            .max()
            .unwrap_or(0)
    }

    #[inline]
    pub fn neighbors(&self, u: usize) -> &[u32] {
        &self.neighbors[self.indptr[u]..self.indptr[u + 1]]
    }

    #[inline]
    pub fn weights(&self, u: usize) -> &[u32] {
        &self.weights[self.indptr[u]..self.indptr[u + 1]]
    }

    /// The CSR arrays `(indptr, neighbors, weights)`.
    pub fn into_parts(self) -> (Vec<usize>, Vec<u32>, Vec<u32>) {
        (self.indptr, self.neighbors, self.weights)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statistics::FeatureStats;

    /// Pair counts by brute force over every row.
    fn brute_force(rows: &[Vec<u32>], n: usize, k: u32) -> Vec<Vec<(u32, u32)>> {
        let mut w = vec![vec![0u32; n]; n];
        for row in rows {
            let mut r = row.clone();
            r.sort_unstable();
            r.dedup();
            for (i, &a) in r.iter().enumerate() {
                for &b in &r[i + 1..] {
                    w[a as usize][b as usize] += 1;
                    w[b as usize][a as usize] += 1;
                }
            }
        }
        (0..n)
            .map(|u| {
                (0..n)
                    .filter(|&v| w[u][v] >= k.max(1))
                    .map(|v| (v as u32, w[u][v]))
                    .collect()
            })
            .collect()
    }

    fn csr(rows: &[Vec<u32>]) -> (Vec<i64>, Vec<i64>) {
        let mut indptr = vec![0i64];
        let mut indices = Vec::new();
        for row in rows {
            indices.extend(row.iter().map(|&x| x as i64));
            indptr.push(indices.len() as i64);
        }
        (indptr, indices)
    }

    fn pseudo_random_rows(n_rows: usize, n_features: u32, seed: u64) -> Vec<Vec<u32>> {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        (0..n_rows)
            .map(|_| {
                let len = next() % 7;
                (0..len).map(|_| next() % n_features).collect()
            })
            .collect()
    }

    #[test]
    fn matches_brute_force_for_any_batch_size_and_threshold() {
        let n = 40;
        let rows = pseudo_random_rows(300, n, 7);
        let (indptr, indices) = csr(&rows);
        let m = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, n as usize).unwrap();
        let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
        // No dense features, so vertex ids map back to features through the vocabulary.
        let vocab = Vocabulary::new(&stats, None).unwrap();
        let features = vocab.vertex_features().to_vec();
        for k in [1u32, 2, 3] {
            let expected = brute_force(&rows, n as usize, k);
            for batch in [1usize, 5, 64, DEFAULT_BATCH_NNZ] {
                let mut counter = EdgeCounter::new(vocab.n_vertices()).with_batch_nnz(batch);
                counter.add_rows(&m, &vocab, Interrupt::never()).unwrap();
                let graph = counter.finish(k, Interrupt::never()).unwrap();
                for u in 0..graph.n_vertices() {
                    let fu = features[u] as usize;
                    let mut got: Vec<(u32, u32)> = graph
                        .neighbors(u)
                        .iter()
                        .zip(graph.weights(u))
                        .map(|(&v, &w)| (features[v as usize], w))
                        .collect();
                    got.sort_unstable();
                    assert_eq!(got, expected[fu], "vertex {u}, k {k}, batch {batch}");
                    assert!(graph.neighbors(u).windows(2).all(|p| p[0] < p[1]));
                }
            }
        }
    }

    #[test]
    fn sharded_builds_equal_the_single_pass() {
        let n = 60;
        let rows = pseudo_random_rows(500, n, 11);
        let (indptr, indices) = csr(&rows);
        let m = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, n as usize).unwrap();
        let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
        let vocab = Vocabulary::new(&stats, None).unwrap();
        let nv = vocab.n_vertices();
        for k in [1u32, 3] {
            let mut whole = EdgeCounter::new(nv);
            whole.add_rows(&m, &vocab, Interrupt::never()).unwrap();
            let expected = whole.finish(k, Interrupt::never()).unwrap();
            for cuts in [
                vec![nv],
                vec![1, nv],
                vec![0, 7, 7, 30, nv],
                (1..=nv).collect(),
            ] {
                let mut graph = ShardedGraph::new(nv);
                let mut start = 0;
                for end in cuts {
                    let mut counter = EdgeCounter::new(nv)
                        .with_batch_nnz(97)
                        .with_sources(start..end)
                        .unwrap();
                    counter.add_rows(&m, &vocab, Interrupt::never()).unwrap();
                    graph.add_shard(counter, k, Interrupt::never()).unwrap();
                    start = end;
                }
                assert_eq!(graph.finish(Interrupt::never()).unwrap(), expected);
            }
            // Shards of every vertex left, narrowed whenever their counts outgrow a budget.
            let mut bounds = PairBounds::new(nv).unwrap();
            bounds.add_rows(&m, &vocab, Interrupt::never()).unwrap();
            for budget in [1usize, 40, 300, 5000] {
                let mut graph = ShardedGraph::new(nv);
                let mut passes = 0;
                while graph.next_vertex() < nv {
                    let sources = graph.next_vertex()..nv;
                    let mut counter = EdgeCounter::new(nv)
                        .with_batch_nnz(97)
                        .with_sources(sources.clone())
                        .unwrap()
                        .with_pair_budget(bounds.budget(sources, budget as u64));
                    counter.add_rows(&m, &vocab, Interrupt::never()).unwrap();
                    assert!(counter.sources().len() == 1 || counter.n_pairs() <= budget);
                    graph.add_shard(counter, k, Interrupt::never()).unwrap();
                    passes += 1;
                }
                assert!(budget < 5000 || passes == 1);
                assert!(budget > 1 || passes > nv / 2);
                assert_eq!(graph.finish(Interrupt::never()).unwrap(), expected);
            }
        }
        // Shards out of order, or not covering every vertex, are refused.
        let mut graph = ShardedGraph::new(nv);
        let late = EdgeCounter::new(nv).with_sources(5..nv).unwrap();
        assert!(graph.add_shard(late, 1, Interrupt::never()).is_err());
        let early = EdgeCounter::new(nv).with_sources(0..5).unwrap();
        graph.add_shard(early, 1, Interrupt::never()).unwrap();
        assert!(graph.finish(Interrupt::never()).is_err());
        assert!(EdgeCounter::new(nv).with_sources(3..nv + 1).is_err());
    }

    #[test]
    fn pair_bounds_bound_each_shard_and_plans_cover_the_vertices() {
        let n = 80;
        let rows = pseudo_random_rows(400, n, 3);
        let (indptr, indices) = csr(&rows);
        let m = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, n as usize).unwrap();
        let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
        let vocab = Vocabulary::new(&stats, None).unwrap();
        let nv = vocab.n_vertices();
        let mut bounds = PairBounds::new(nv).unwrap();
        bounds.add_rows(&m, &vocab, Interrupt::never()).unwrap();
        let mut whole = EdgeCounter::new(nv);
        whole.add_rows(&m, &vocab, Interrupt::never()).unwrap();
        let upper = whole.counts;
        for u in 0..nv {
            let heads = bounds.heads[u].load(AtomicOrdering::Relaxed);
            let (nbrs, weights) = upper.row(u);
            assert!(nbrs.len() as u64 <= heads);
            assert_eq!(weights.iter().map(|&w| u64::from(w)).sum::<u64>(), heads);
        }
        for max_pairs in [1u64, 10, 100, u64::MAX] {
            let mut start = 0;
            while start < nv {
                let shard = bounds.shard_from(start, max_pairs);
                assert_eq!(shard.start, start);
                assert!(!shard.is_empty());
                let edges: usize = shard.clone().map(|u| upper.row(u).0.len()).sum();
                assert!(shard.len() == 1 || edges as u64 <= max_pairs);
                start = shard.end;
            }
        }
        assert_eq!(bounds.shard_from(0, u64::MAX), 0..nv);
        let plan = BuildPlan::for_limit(bounds, n as usize, 2, 4 << 20).unwrap();
        assert!(plan.check_edges(upper.n_edges()).is_ok());
        assert!(plan.check_edges(usize::MAX / 32).is_err());
        assert!(plan.next_shard(0, usize::MAX / 16).is_err());
        assert_eq!(plan.next_shard(0, 0).unwrap().sources(), 0..nv);
        let few = PairBounds::new(nv).unwrap();
        assert!(matches!(
            BuildPlan::for_limit(few, n as usize, 2, 1000),
            Err(Error::MemoryLimit(_))
        ));
    }

    #[test]
    fn adjacency_matrices_are_read_as_their_symmetric_closure() {
        // 0-1 given both ways, 1-2 one way only, a self-loop on 2, and 0-1 twice.
        let graph = Graph::from_adjacency(&[0, 2, 3, 5], &[1, 1, 0, 1, 2], 3).unwrap();
        assert_eq!(graph.neighbors(0), &[1]);
        assert_eq!(graph.neighbors(1), &[0, 2]);
        assert_eq!(graph.neighbors(2), &[1]);
        assert_eq!(graph.n_edges(), 2);
        assert!(Graph::from_adjacency(&[0, 1, 1], &[5], 2).is_err());
        assert!(Graph::from_adjacency(&[0, 0], &[], 2).is_err());
    }

    #[test]
    fn pair_counts_of_parts_add_up_to_one_pass() {
        let n = 40;
        let rows = pseudo_random_rows(300, n, 5);
        let (indptr, indices) = csr(&rows);
        let m = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, n as usize).unwrap();
        let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
        let vocab = Vocabulary::new(&stats, None).unwrap();
        let nv = vocab.n_vertices();
        let mut whole = EdgeCounter::new(nv);
        whole.add_rows(&m, &vocab, Interrupt::never()).unwrap();
        // Each part counted by another process, which knows only the vertex features.
        let remote = Vocabulary::from_vertices(vocab.vertex_features(), n as usize).unwrap();
        let mut total = PairCounts::default();
        for part in [&rows[..10], &rows[10..10], &rows[10..200], &rows[200..]] {
            let (ip, ix) = csr(part);
            let pm = CsrMatrix::<i64, f64>::new(&ip, &ix, None, n as usize).unwrap();
            let mut counter = EdgeCounter::new(nv);
            counter.add_rows(&pm, &remote, Interrupt::never()).unwrap();
            total = total.merged(&counter.pair_counts()).unwrap();
        }
        assert_eq!(total, whole.pair_counts());
        let mut gathered = EdgeCounter::new(nv);
        gathered
            .add_pair_counts(&total, Interrupt::never())
            .unwrap();
        gathered
            .add_pair_counts(&PairCounts::default(), Interrupt::never())
            .unwrap();
        assert_eq!(
            gathered.finish(2, Interrupt::never()).unwrap(),
            whole.finish(2, Interrupt::never()).unwrap()
        );
        let outside = PairCounts::new(vec![pair_key(0, nv as u32)], vec![1]).unwrap();
        assert!(
            EdgeCounter::new(nv)
                .add_pair_counts(&outside, Interrupt::never())
                .is_err()
        );
    }

    #[test]
    fn merging_counters_equals_one_pass() {
        let n = 30;
        let rows = pseudo_random_rows(200, n, 3);
        let (indptr, indices) = csr(&rows);
        let m = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, n as usize).unwrap();
        let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
        let vocab = Vocabulary::new(&stats, None).unwrap();
        let mut whole = EdgeCounter::new(vocab.n_vertices());
        whole.add_rows(&m, &vocab, Interrupt::never()).unwrap();

        let half = 100;
        let (ip1, ix1) = csr(&rows[..half]);
        let (ip2, ix2) = csr(&rows[half..]);
        let m1 = CsrMatrix::<i64, f64>::new(&ip1, &ix1, None, n as usize).unwrap();
        let m2 = CsrMatrix::<i64, f64>::new(&ip2, &ix2, None, n as usize).unwrap();
        let mut a = EdgeCounter::new(vocab.n_vertices());
        a.add_rows(&m1, &vocab, Interrupt::never()).unwrap();
        let mut b = EdgeCounter::new(vocab.n_vertices());
        b.add_rows(&m2, &vocab, Interrupt::never()).unwrap();
        a.merge(&b, Interrupt::never()).unwrap();
        assert_eq!(
            a.finish(1, Interrupt::never()).unwrap(),
            whole.finish(1, Interrupt::never()).unwrap()
        );
    }

    #[test]
    fn from_edges_builds_symmetric_sorted_lists() {
        let g = Graph::from_edges(4, &[(2, 0, 1), (0, 1, 2), (3, 0, 1), (0, 2, 4)]).unwrap();
        assert_eq!(g.neighbors(0), &[1, 2, 3]);
        assert_eq!(g.weights(0), &[2, 5, 1]);
        assert_eq!(g.neighbors(2), &[0]);
        assert_eq!(g.n_edges(), 3);
        assert_eq!(g.max_degree(), 3);
        assert!(Graph::from_edges(2, &[(1, 1, 1)]).is_err());
        assert!(Graph::from_edges(2, &[(0, 2, 1)]).is_err());
    }

    #[test]
    fn relabeling_keeps_lists_sorted() {
        let g = Graph::from_edges(3, &[(0, 1, 4), (0, 2, 5)]).unwrap();
        let r = g.clone().with_ascending_labels(&[0, 2, 4], 5).unwrap();
        assert_eq!(r.n_vertices(), 5);
        assert_eq!(r.neighbors(0), &[2, 4]);
        assert_eq!(r.weights(0), &[4, 5]);
        assert_eq!(r.neighbors(4), &[0]);
        assert_eq!(r.degree(1), 0);
        assert_eq!(r.degree(3), 0);
        assert!(g.clone().with_ascending_labels(&[0, 0, 1], 5).is_err());
        assert!(g.clone().with_ascending_labels(&[2, 1, 3], 5).is_err());
        assert!(g.clone().with_ascending_labels(&[0, 1, 5], 5).is_err());
        assert!(g.with_ascending_labels(&[0, 1], 5).is_err());
    }

    #[test]
    fn zero_threshold_is_refused() {
        let counter = EdgeCounter::new(3);
        assert!(counter.finish(0, Interrupt::never()).is_err());
    }
}
