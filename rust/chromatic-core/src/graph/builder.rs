//! The whole graph build, pass after pass: the same steps whether the rows are in memory, come
//! from files a chunk at a time, or are counted by other processes.

use std::ops::Range;

use super::counter::EdgeCounter;
use super::counts::{EdgeCounts, PairCounts};
use super::shards::{BuildPlan, PairBounds, ShardedGraph};
use super::symmetric::Graph;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::matrix::{CsrMatrix, IndexValue, StoredValue};
use crate::vocabulary::Vocabulary;

/// Builds the co-occurrence graph over the vertices of a vocabulary, one pass over the rows per
/// shard of source vertices.
///
/// Without a memory limit, one pass covers every vertex. With one, a first pass adds the rows to
/// the pair bounds ([`add_pair_bounds`](Self::add_pair_bounds)), [`plan_shards`](Self::plan_shards)
/// plans the shards from them, and each later pass counts one shard: add the rows of a pass
/// ([`add_rows`](Self::add_rows), in any number of chunks), then [`end_pass`](Self::end_pass),
/// until [`complete`](Self::complete). [`finish`](Self::finish) returns the graph.
///
/// # Examples
///
/// ```
/// use chromatic_core::{CsrMatrix, FeatureStats, GraphBuilder, Interrupt, Vocabulary};
///
/// // Three rows over four features: {0, 1}, {1, 2}, {0, 1, 3}.
/// let (indptr, indices) = ([0i64, 2, 4, 7], [0i64, 1, 1, 2, 0, 1, 3]);
/// let rows = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, 4)?;
/// let stats = FeatureStats::from_rows(&rows, Interrupt::never())?;
/// let vocabulary = Vocabulary::new(&stats, None)?;
///
/// let mut builder = GraphBuilder::new(vocabulary, 2)?;
/// // A memory limit would first add the rows to the pair bounds and plan the shards:
/// // builder.add_pair_bounds(&rows, ..)?; builder.plan_shards(limit, n_threads)?;
/// while !builder.complete() {
///     builder.add_rows(&rows, Interrupt::never())?;
///     builder.end_pass(Interrupt::never())?;
/// }
/// let graph = builder.finish(Interrupt::never())?;
/// // Only features 0 and 1 share two rows.
/// assert_eq!(graph.n_edges(), 1);
/// # Ok::<(), chromatic_core::Error>(())
/// ```
pub struct GraphBuilder {
    vocabulary: Vocabulary,
    min_cooccurrence: u32,
    /// The batch size asked for, or `None` for the default (or a plan's own).
    batch_nnz: Option<usize>,
    bounds: Option<PairBounds>,
    plan: Option<BuildPlan>,
    /// The shard being counted.
    counter: Option<EdgeCounter>,
    /// The shards done.
    built: ShardedGraph,
}

impl GraphBuilder {
    /// A build over the vertices of `vocabulary` that keeps the edges held by at least
    /// `min_cooccurrence` rows (at least 1).
    pub fn new(vocabulary: Vocabulary, min_cooccurrence: u32) -> Result<Self> {
        if min_cooccurrence == 0 {
            return Err(Error::InvalidParameter(
                "min_cooccurrence must be at least 1".into(),
            ));
        }
        let n_vertices = vocabulary.n_vertices();
        Ok(GraphBuilder {
            vocabulary,
            min_cooccurrence,
            batch_nnz: None,
            bounds: None,
            plan: None,
            counter: None,
            built: ShardedGraph::new(n_vertices),
        })
    }

    /// Caps the stored entries of one counting batch (at least 1).
    #[must_use]
    pub fn with_batch_nnz(mut self, batch_nnz: usize) -> Self {
        self.batch_nnz = Some(batch_nnz);
        self
    }

    /// The vertices of the graph.
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// Adds the rows of `matrix` to the pair bounds, before the shards are planned.
    pub fn add_pair_bounds<I: IndexValue, V: StoredValue>(
        &mut self,
        matrix: &CsrMatrix<'_, I, V>,
        interrupt: Interrupt<'_>,
    ) -> Result<()> {
        if self.plan.is_some() {
            return Err(Error::OutOfOrder(
                "pair bounds come before the shards are planned",
            ));
        }
        let bounds = match &mut self.bounds {
            Some(bounds) => bounds,
            None => self
                .bounds
                .insert(PairBounds::new(self.vocabulary.n_vertices())?),
        };
        bounds.add_rows(matrix, &self.vocabulary, interrupt)
    }

    /// Refuses, before the pass of pair bounds, a `memory_limit` that cannot even hold the
    /// features and vertices beside `n_threads` counting threads.
    pub fn check_memory_limit(&self, memory_limit: u64, n_threads: usize) -> Result<()> {
        BuildPlan::available(
            self.vocabulary.n_features(),
            self.vocabulary.n_vertices(),
            n_threads,
            memory_limit,
        )
        .map(|_| ())
    }

    /// Plans the passes to keep the build under `memory_limit` bytes with `n_threads` counting
    /// threads, from the pair bounds: each pass counts as many vertices as fit beside the edges
    /// already kept.
    pub fn plan_shards(&mut self, memory_limit: u64, n_threads: usize) -> Result<()> {
        let Some(bounds) = self.bounds.take() else {
            return Err(Error::OutOfOrder(
                "planning shards needs the pair bounds first",
            ));
        };
        let n_features = self.vocabulary.n_features();
        self.plan = Some(BuildPlan::for_limit(
            bounds,
            n_features,
            n_threads,
            memory_limit,
        )?);
        Ok(())
    }

    /// The counter of the open shard, opening the next one unless one is open: planned beside
    /// the edges kept so far, or every vertex left without a plan.
    fn open_shard(&mut self) -> Result<&mut EdgeCounter> {
        if self.counter.is_none() {
            let start = self.built.next_vertex();
            let n_vertices = self.vocabulary.n_vertices();
            let counter = match &self.plan {
                None => {
                    let batch_nnz = self.batch_nnz.unwrap_or(super::DEFAULT_BATCH_NNZ);
                    EdgeCounter::new(n_vertices)
                        .with_batch_nnz(batch_nnz)
                        .with_sources(start..n_vertices)?
                }
                Some(plan) => {
                    let counter = plan.next_shard(start, self.built.n_edges())?;
                    match self.batch_nnz {
                        Some(batch_nnz) => counter.with_batch_nnz(plan.batch_nnz.min(batch_nnz)),
                        None => counter,
                    }
                }
            };
            self.counter = Some(counter);
        }
        Ok(self.counter.as_mut().expect("opened above"))
    }

    /// Counts the pairs of the open shard in the rows of `matrix` (one chunk of the pass).
    pub fn add_rows<I: IndexValue, V: StoredValue>(
        &mut self,
        matrix: &CsrMatrix<'_, I, V>,
        interrupt: Interrupt<'_>,
    ) -> Result<()> {
        self.open_shard()?;
        let counter = self.counter.as_mut().expect("opened above");
        counter.add_rows(matrix, &self.vocabulary, interrupt)
    }

    /// Adds pair counts made elsewhere (by [`count_pairs`] over the same vertices). Not with
    /// planned shards.
    pub fn add_pair_counts(&mut self, pairs: &PairCounts, interrupt: Interrupt<'_>) -> Result<()> {
        if self.plan.is_some() {
            return Err(Error::OutOfOrder(
                "pair counts from elsewhere cannot join a sharded build",
            ));
        }
        self.open_shard()?.add_pair_counts(pairs, interrupt)
    }

    /// Ends a pass: keeps the open shard's edges held by at least `min_cooccurrence` rows (a
    /// pass over no rows still covers its shard).
    pub fn end_pass(&mut self, interrupt: Interrupt<'_>) -> Result<()> {
        self.open_shard()?;
        let counter = self.counter.take().expect("opened above");
        if let Some(plan) = &mut self.plan {
            plan.learn(&counter);
        }
        self.built
            .add_shard(counter, self.min_cooccurrence, interrupt)
    }

    /// Whether the passes have covered every vertex.
    pub fn complete(&self) -> bool {
        self.built.next_vertex() == self.vocabulary.n_vertices()
    }

    /// The counted upper triangle of the graph. An open shard is ended first; without a plan,
    /// one more pass covers the vertices left (all of them when no rows came). A planned build
    /// whose edges exceed the memory limit is refused. The builder is spent.
    pub fn finish_upper(&mut self, interrupt: Interrupt<'_>) -> Result<EdgeCounts> {
        if self.counter.is_some() || self.plan.is_none() && !self.complete() {
            self.end_pass(interrupt)?;
        }
        if let Some(plan) = &self.plan {
            plan.check_edges(self.built.n_edges())?;
        }
        let upper = std::mem::replace(&mut self.built, ShardedGraph::new(0)).into_upper()?;
        interrupt.check()?;
        Ok(upper)
    }

    /// The symmetric graph, as [`finish_upper`](Self::finish_upper) counts it.
    pub fn finish(&mut self, interrupt: Interrupt<'_>) -> Result<Graph> {
        Graph::from_upper(&self.finish_upper(interrupt)?)
    }
}

/// The pair counts of the rows of `matrix`, with vertex `v` being feature `vertex_features[v]`
/// (the [`Vocabulary::vertex_features`] of the fit): what another process sends back for
/// [`GraphBuilder::add_pair_counts`], cut at the source vertices `cuts` into one count per range.
/// With `sources`, only the pairs whose smaller vertex is in that range: rows whose pairs would
/// not fit in memory at once are counted range by range.
///
/// # Examples
///
/// ```
/// use chromatic_core::{CsrMatrix, Interrupt, count_pairs, pair_key};
///
/// let (indptr, indices) = ([0i64, 3, 5], [0i64, 1, 2, 1, 2]);
/// let rows = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, 3)?;
/// // Vertex 0 is feature 2 and vertex 1 is feature 1; feature 0 is not a vertex.
/// let pairs = count_pairs(&rows, &[2, 1], None, &[], Interrupt::never())?;
/// assert_eq!(pairs[0].keys(), &[pair_key(0, 1)]);
/// assert_eq!(pairs[0].weights(), &[2]);
/// // Vertex 1 heads no pair.
/// let cut = count_pairs(&rows, &[2, 1], None, &[1], Interrupt::never())?;
/// assert_eq!(cut, [pairs[0].clone(), Default::default()]);
/// assert!(count_pairs(&rows, &[2, 1], Some(1..2), &[], Interrupt::never())?[0].is_empty());
/// # Ok::<(), chromatic_core::Error>(())
/// ```
pub fn count_pairs<I: IndexValue, V: StoredValue>(
    matrix: &CsrMatrix<'_, I, V>,
    vertex_features: &[i64],
    sources: Option<Range<usize>>,
    cuts: &[usize],
    interrupt: Interrupt<'_>,
) -> Result<Vec<PairCounts>> {
    let features = vertex_features
        .iter()
        .map(|&f| u32::try_from(f))
        .collect::<std::result::Result<Vec<u32>, _>>()
        .map_err(|_| Error::OutOfBounds {
            what: "vertex features",
        })?;
    let vocabulary = Vocabulary::from_vertices(&features, matrix.n_features())?;
    let mut counter = EdgeCounter::new(vocabulary.n_vertices());
    if let Some(sources) = sources {
        counter = counter.with_sources(sources)?;
    }
    counter.add_rows(matrix, &vocabulary, interrupt)?;
    counter.pair_counts_cut(cuts)
}
