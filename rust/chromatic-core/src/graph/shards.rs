//! Shards of a graph build and their plan: the graph kept shard by shard ([`ShardedGraph`]),
//! bounds on the pairs each vertex heads ([`PairBounds`]), and the plan that spends a memory limit
//! on shards ([`BuildPlan`]).

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use super::counter::{EdgeCounter, PairBudget};
use super::counts::EdgeCounts;
use super::{DEFAULT_BATCH_NNZ, Graph};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::matrix::{CsrMatrix, IndexValue, StoredValue};
use crate::parallel::{for_each_row, parallel_blocks, try_map_blocks};
use crate::vocabulary::{NOT_A_VERTEX, Vocabulary};

/// A graph built shard by shard: each shard counts the pairs of the rows whose smaller vertex
/// lies in its range of vertices (one pass over the data each), so that only one shard's counts
/// are in memory at a time; shards come in vertex order and cover every vertex.
pub struct ShardedGraph {
    upper: EdgeCounts,
    /// Vertices whose edges are in `upper` so far.
    done: usize,
}

impl ShardedGraph {
    /// No shard yet over `n_vertices` vertices.
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

    /// The counted upper triangle, once the shards cover every vertex.
    pub fn into_upper(self) -> Result<EdgeCounts> {
        let n = self.upper.n_vertices();
        if self.done != n {
            return Err(Error::InvalidParameter(format!(
                "the shards cover vertices 0..{} of {n}",
                self.done
            )));
        }
        Ok(self.upper)
    }

    /// The symmetric graph, once the shards cover every vertex.
    pub fn finish(self, interrupt: Interrupt<'_>) -> Result<Graph> {
        let upper = self.into_upper()?;
        interrupt.check()?;
        Graph::from_upper(&upper)
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
    /// Stored entries per counting batch.
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
/// Bytes per edge of the finished graph at most: the upper triangle, then the symmetric weighted
/// lists that spreading over a color budget reads. Greedy coloring alone needs 8 (the triangle
/// without weights and each vertex's smaller neighbours), but the plan does not know which.
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
        let available = Self::available(n_features, bounds.heads.len(), n_threads, memory_limit)?;
        let batch_nnz = (available / 8 / BYTES_PER_BATCH_ENTRY)
            .clamp(MIN_BATCH_NNZ as u64, DEFAULT_BATCH_NNZ as u64) as usize;
        Ok(BuildPlan {
            batch_nnz,
            available: available - batch_nnz as u64 * BYTES_PER_BATCH_ENTRY,
            bounds,
            overstatement: 1.0,
        })
    }

    /// The bytes `memory_limit` leaves for counting and kept edges once the features and
    /// vertices are held, refused when under a MiB. It needs only the vertex count, so a build
    /// can be refused before the pass of pair bounds.
    pub fn available(
        n_features: usize,
        n_vertices: usize,
        n_threads: usize,
        memory_limit: u64,
    ) -> Result<u64> {
        let per_vertex = BYTES_PER_VERTEX.saturating_add(4u64.saturating_mul(n_threads as u64));
        let fixed = BYTES_PER_FEATURE
            .saturating_mul(n_features as u64)
            .saturating_add(per_vertex.saturating_mul(n_vertices as u64));
        let available = memory_limit.saturating_sub(fixed);
        if available < (1 << 20) {
            return Err(Error::MemoryLimit(format!(
                "{memory_limit} bytes cannot hold the {n_vertices} vertices of the graph, \
                 which need about {fixed} bytes and 1 MiB to count pairs in; raise the limit"
            )));
        }
        Ok(available)
    }

    /// The counter of the shard from vertex `start`, whose counts must fit beside `kept_edges`
    /// edges kept so far.
    pub fn next_shard(&self, start: usize, kept_edges: usize) -> Result<EdgeCounter> {
        // The finished graph holds its edges within the same bytes, and edges only grow shard
        // by shard: a pass that starts past what it may hold can only end refused.
        self.check_edges(kept_edges)?;
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
    pub(super) heads: Vec<AtomicU64>,
    /// Rows added.
    rows: u64,
}

impl PairBounds {
    /// No rows yet over `n_vertices` vertices.
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
