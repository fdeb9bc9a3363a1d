//! The whole fit: rows → statistics → graph → colors → encoder.

use crate::coloring::{Strategy, color};
use crate::encoder::Encoder;
use crate::error::Result;
use crate::graph::{BuildPlan, DEFAULT_BATCH_NNZ, EdgeCounter, Graph, PairBounds, ShardedGraph};
use crate::interrupt::Interrupt;
use crate::matrix::{CsrMatrix, IndexValue, StoredValue};
use crate::recoloring::with_n_colors;
use crate::statistics::FeatureStats;
use crate::vocabulary::Vocabulary;

#[derive(Clone, Debug)]
pub struct FitParams {
    /// Edges held by fewer rows are dropped (k >= 1).
    pub min_cooccurrence: u32,
    pub strategy: Strategy,
    /// Share of rows from which a feature gets a color of its own; `None` for never.
    pub dense_threshold: Option<f64>,
    /// Exactly this many colors (dense features included) instead of as many as the greedy
    /// coloring needs.
    pub n_colors: Option<usize>,
    /// Glauber updates when spreading over `n_colors`; `None` for 2·|V|·ln|V|.
    pub glauber_steps: Option<u64>,
    /// Seeds the random strategy and Glauber dynamics.
    pub seed: u64,
    /// Stored entries per graph-building batch.
    pub batch_nnz: usize,
    /// Bytes the graph build may use beyond the input rows; when set, the build is sharded by
    /// vertex range (one pass over the rows per shard) to stay under it.
    pub memory_limit: Option<u64>,
}

impl Default for FitParams {
    fn default() -> Self {
        FitParams {
            min_cooccurrence: 1,
            strategy: Strategy::LargestFirst,
            dense_threshold: Some(0.1),
            n_colors: None,
            glauber_steps: None,
            seed: 0,
            batch_nnz: DEFAULT_BATCH_NNZ,
            memory_limit: None,
        }
    }
}

/// A fitted encoder and what the fit saw on the way.
#[derive(Clone, Debug)]
pub struct Fitted {
    pub encoder: Encoder,
    pub doc_freq: Vec<u32>,
    /// Features that got a color of their own.
    pub dense_features: Vec<u32>,
    pub n_vertices: usize,
    pub n_edges: usize,
    pub max_degree: usize,
    /// Colors the greedy coloring needed for the graph (before any recoloring to `n_colors`).
    pub n_greedy_colors: usize,
    /// Weight of the edges whose ends share a color (non-zero only when `n_colors` is below what
    /// the greedy coloring needs): an upper bound on the training collisions.
    pub conflict_weight: u64,
}

/// The co-occurrence graph of `matrix` over the vertices of `vocabulary`; with a
/// `memory_limit`, built shard by shard (see `BuildPlan`).
pub fn build_graph<I: IndexValue, V: StoredValue>(
    matrix: &CsrMatrix<'_, I, V>,
    vocabulary: &Vocabulary,
    min_cooccurrence: u32,
    batch_nnz: usize,
    memory_limit: Option<u64>,
    interrupt: Interrupt<'_>,
) -> Result<Graph> {
    let n_vertices = vocabulary.n_vertices();
    let Some(limit) = memory_limit else {
        let mut counter = EdgeCounter::new(n_vertices).with_batch_nnz(batch_nnz);
        counter.add_rows(matrix, vocabulary, interrupt)?;
        return counter.finish(min_cooccurrence, interrupt);
    };
    let mut bounds = PairBounds::new(n_vertices)?;
    bounds.add_rows(matrix, vocabulary, interrupt)?;
    let threads = rayon::current_num_threads();
    let mut plan = BuildPlan::for_limit(bounds, matrix.n_features(), threads, limit)?;
    let mut graph = ShardedGraph::new(n_vertices);
    while graph.next_vertex() < n_vertices {
        let mut counter = plan
            .next_shard(graph.next_vertex(), graph.n_edges())?
            .with_batch_nnz(plan.batch_nnz.min(batch_nnz));
        counter.add_rows(matrix, vocabulary, interrupt)?;
        plan.learn(&counter);
        graph.add_shard(counter, min_cooccurrence, interrupt)?;
    }
    plan.check_edges(graph.n_edges())?;
    graph.finish(interrupt)
}

/// The co-occurrence graph of every feature of `matrix` (none treated as dense), in feature ids.
pub fn feature_graph<I: IndexValue, V: StoredValue>(
    matrix: &CsrMatrix<'_, I, V>,
    min_cooccurrence: u32,
    interrupt: Interrupt<'_>,
) -> Result<Graph> {
    let stats = FeatureStats::from_rows(matrix, interrupt)?;
    // Vertices numbered in feature order (not by frequency): the graph is the same, and its
    // lists are renamed to feature ids in place.
    let seen: Vec<u32> = (0..stats.n_features() as u32)
        .filter(|&f| stats.doc_freq()[f as usize] > 0)
        .collect();
    let vocabulary = Vocabulary::from_vertices(&seen, matrix.n_features())?;
    let graph = build_graph(
        matrix,
        &vocabulary,
        min_cooccurrence,
        DEFAULT_BATCH_NNZ,
        None,
        interrupt,
    )?;
    interrupt.check()?;
    graph.with_ascending_labels(&seen, matrix.n_features())
}

pub fn fit<I: IndexValue, V: StoredValue>(
    matrix: &CsrMatrix<'_, I, V>,
    params: &FitParams,
    interrupt: Interrupt<'_>,
) -> Result<Fitted> {
    let stats = FeatureStats::from_rows(matrix, interrupt)?;
    let vocabulary = vocabulary_for(&stats, params)?;
    let graph = build_graph(
        matrix,
        &vocabulary,
        params.min_cooccurrence,
        params.batch_nnz,
        params.memory_limit,
        interrupt,
    )?;
    color_graph(stats, &vocabulary, &graph, params, interrupt)
}

/// The vertices of a fit: dense features apart, unless `n_colors` leaves no room for them.
pub fn vocabulary_for(stats: &FeatureStats, params: &FitParams) -> Result<Vocabulary> {
    let vocabulary = Vocabulary::new(stats, params.dense_threshold)?;
    match params.n_colors {
        // Too many dense features to give each its own column: all of them join the graph.
        Some(n_colors) if vocabulary.dense_features().len() >= n_colors => {
            Vocabulary::new(stats, None)
        }
        _ => Ok(vocabulary),
    }
}

/// The end of a fit, once statistics and graph are known (in memory or streamed): color the
/// graph (to `n_colors` when asked) and build the encoder.
pub fn color_graph(
    stats: FeatureStats,
    vocabulary: &Vocabulary,
    graph: &Graph,
    params: &FitParams,
    interrupt: Interrupt<'_>,
) -> Result<Fitted> {
    let mut coloring = color(graph, params.strategy, interrupt)?;
    let n_greedy_colors = coloring.n_colors;
    let mut conflict_weight = 0;
    if let Some(n_colors) = params.n_colors {
        let graph_colors = n_colors - vocabulary.dense_features().len();
        let fixed = with_n_colors(
            graph,
            &coloring,
            graph_colors,
            params.glauber_steps,
            params.seed,
            interrupt,
        )?;
        coloring = fixed.coloring;
        conflict_weight = fixed.conflict_weight;
    }
    let encoder = Encoder::from_coloring(vocabulary, &coloring)?;
    Ok(Fitted {
        encoder,
        dense_features: vocabulary.dense_features().to_vec(),
        n_vertices: vocabulary.n_vertices(),
        n_edges: graph.n_edges(),
        max_degree: graph.max_degree(),
        doc_freq: stats.into_doc_freq(),
        n_greedy_colors,
        conflict_weight,
    })
}
