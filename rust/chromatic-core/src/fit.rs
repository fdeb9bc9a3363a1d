//! The whole fit: rows → statistics → graph → colors → encoder.

use crate::coloring::{Strategy, color};
use crate::encoder::Encoder;
use crate::error::{Error, Result};
use crate::graph::{Adjacency, DEFAULT_BATCH_NNZ, EdgeCounts, Graph, GraphBuilder, TriangleGraph};
use crate::interrupt::Interrupt;
use crate::matrix::{CsrMatrix, IndexValue, StoredValue};
use crate::recoloring::with_n_colors;
use crate::statistics::FeatureStats;
use crate::vocabulary::Vocabulary;

/// What a fit aims for.
#[derive(Clone, Debug)]
pub struct FitParams {
    /// Edges held by fewer rows are dropped (k >= 1).
    pub min_cooccurrence: u32,
    /// The order in which the greedy coloring takes the vertices.
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
    /// The fitted tables.
    pub encoder: Encoder,
    /// Rows holding each feature.
    pub doc_freq: Vec<u32>,
    /// Features that got a color of their own.
    pub dense_features: Vec<u32>,
    /// Graph vertices (features seen and not dense).
    pub n_vertices: usize,
    /// Graph edges kept.
    pub n_edges: usize,
    /// The largest degree of the graph.
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
    let mut builder =
        GraphBuilder::new(vocabulary.clone(), min_cooccurrence)?.with_batch_nnz(batch_nnz);
    Graph::from_upper(&build(&mut builder, matrix, memory_limit, interrupt)?)
}

/// Runs every pass of `builder` over the rows of `matrix` (the pair bounds and a plan first with
/// a `memory_limit`) and returns the counted upper triangle.
fn build<I: IndexValue, V: StoredValue>(
    builder: &mut GraphBuilder,
    matrix: &CsrMatrix<'_, I, V>,
    memory_limit: Option<u64>,
    interrupt: Interrupt<'_>,
) -> Result<EdgeCounts> {
    if let Some(limit) = memory_limit {
        builder.check_memory_limit(limit, rayon::current_num_threads())?;
        builder.add_pair_bounds(matrix, interrupt)?;
        builder.plan_shards(limit, rayon::current_num_threads())?;
    }
    while !builder.complete() {
        builder.add_rows(matrix, interrupt)?;
        builder.end_pass(interrupt)?;
    }
    builder.finish_upper(interrupt)
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
    let mut builder = GraphBuilder::new(vocabulary, min_cooccurrence)?;
    let graph = Graph::from_upper(&build(&mut builder, matrix, None, interrupt)?)?;
    interrupt.check()?;
    graph.with_ascending_labels(&seen, matrix.n_features())
}

/// The whole fit: statistics, graph (in passes, see [`GraphBuilder`]), colors, encoder.
///
/// # Examples
///
/// ```
/// use chromatic_core::{CsrMatrix, FitParams, Interrupt, fit};
///
/// // Features 0 and 1 never share a row, so they can share a color; 2 meets both.
/// let (indptr, indices) = ([0i64, 2, 4, 5], [0i64, 2, 1, 2, 0]);
/// let rows = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, 3)?;
/// let params = FitParams { dense_threshold: None, ..FitParams::default() };
/// let fitted = fit(&rows, &params, Interrupt::never())?;
/// let colors = &fitted.encoder.feature_color;
/// assert_eq!(colors[0], colors[1]);
/// assert_ne!(colors[0], colors[2]);
/// assert_eq!(fitted.n_edges, 2);
/// # Ok::<(), chromatic_core::Error>(())
/// ```
pub fn fit<I: IndexValue, V: StoredValue>(
    matrix: &CsrMatrix<'_, I, V>,
    params: &FitParams,
    interrupt: Interrupt<'_>,
) -> Result<Fitted> {
    let stats = FeatureStats::from_rows(matrix, interrupt)?;
    let vocabulary = vocabulary_for(&stats, params)?;
    let mut builder =
        GraphBuilder::new(vocabulary, params.min_cooccurrence)?.with_batch_nnz(params.batch_nnz);
    let upper = build(&mut builder, matrix, params.memory_limit, interrupt)?;
    color_graph(stats, builder.vocabulary(), upper, params, interrupt)
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

/// The end of a fit, once statistics and the counted upper triangle `upper` are known (in
/// memory or streamed): color the graph (to `n_colors` when asked) and build the encoder.
///
/// The greedy coloring reads only neighbours, so without `n_colors` it colors the lighter
/// [`TriangleGraph`]; spreading over `n_colors` weighs conflicts by the edge weights, which only
/// the symmetric [`Graph`] holds.
pub fn color_graph(
    stats: FeatureStats,
    vocabulary: &Vocabulary,
    upper: EdgeCounts,
    params: &FitParams,
    interrupt: Interrupt<'_>,
) -> Result<Fitted> {
    let n_edges = upper.n_edges();
    let (coloring, n_greedy_colors, conflict_weight, max_degree) = match params.n_colors {
        None => {
            let graph = TriangleGraph::from_upper(upper)?;
            let coloring = color(&graph, params.strategy, interrupt)?;
            let n_greedy_colors = coloring.n_colors;
            (coloring, n_greedy_colors, 0, graph.max_degree())
        }
        Some(n_colors) => {
            let graph = Graph::from_upper(&upper)?;
            drop(upper);
            let greedy = color(&graph, params.strategy, interrupt)?;
            let fixed = with_n_colors(
                &graph,
                &greedy,
                n_colors - vocabulary.dense_features().len(),
                params.glauber_steps,
                params.seed,
                interrupt,
            )?;
            let max_degree = graph.max_degree();
            (
                fixed.coloring,
                greedy.n_colors,
                fixed.conflict_weight,
                max_degree,
            )
        }
    };
    let encoder = Encoder::from_coloring(vocabulary, &coloring)?;
    Ok(Fitted {
        encoder,
        dense_features: vocabulary.dense_features().to_vec(),
        n_vertices: vocabulary.n_vertices(),
        n_edges,
        max_degree,
        doc_freq: stats.into_doc_freq(),
        n_greedy_colors,
        conflict_weight,
    })
}

/// A fit over rows that come in chunks (files streamed from disk, partitions counted elsewhere,
/// or one matrix in memory): a first pass adds every chunk to the statistics, then the graph
/// passes of the [`GraphBuilder`] (the statistics end with the first of them), then
/// [`finish`](Self::finish) colors the graph.
pub struct FitStream {
    params: FitParams,
    stats: FeatureStats,
    graph: Option<GraphBuilder>,
}

impl FitStream {
    /// A stream over no rows and no features yet.
    pub fn new(params: FitParams) -> Self {
        FitStream {
            params,
            stats: FeatureStats::empty(0),
            graph: None,
        }
    }

    /// The statistics so far.
    pub fn stats(&self) -> &FeatureStats {
        &self.stats
    }

    fn check_statistics(&self, refusal: &'static str) -> Result<()> {
        match self.graph {
            Some(_) => Err(Error::OutOfOrder(refusal)),
            None => Ok(()),
        }
    }

    /// Widens the feature range to `n_features` (when it is wider): chunks of the first pass
    /// come over at least this many features.
    pub fn widen(&mut self, n_features: usize) -> Result<()> {
        self.check_statistics(STATISTICS_FIRST)?;
        self.stats.grow(n_features)
    }

    /// First pass: counts the features of a chunk of rows (over the features so far, after
    /// [`widen`](Self::widen)).
    pub fn add_statistics<I: IndexValue, V: StoredValue>(
        &mut self,
        matrix: &CsrMatrix<'_, I, V>,
        interrupt: Interrupt<'_>,
    ) -> Result<()> {
        self.check_statistics(STATISTICS_FIRST)?;
        self.stats
            .merge(&FeatureStats::from_rows(matrix, interrupt)?)
    }

    /// First pass, counted elsewhere: adds `n_rows` rows in which feature `f` is held by
    /// `document_frequency[f]` rows.
    pub fn add_document_frequency(
        &mut self,
        document_frequency: &[i64],
        n_rows: u64,
    ) -> Result<()> {
        self.check_statistics(STATISTICS_FIRST)?;
        let counts = document_frequency
            .iter()
            .map(|&d| u32::try_from(d))
            .collect::<std::result::Result<Vec<u32>, _>>()
            .map_err(|_| Error::OutOfBounds {
                what: "document frequencies",
            })?;
        self.stats.grow(counts.len())?;
        let mut other = FeatureStats::from_counts(counts, n_rows)?;
        other.grow(self.stats.n_features())?;
        self.stats.merge(&other)
    }

    /// Between the passes: treats `features` as never seen, so they stay out of the graph and
    /// the encoder. They are no vertex: the graph passes skip them in the rows they count.
    pub fn forget_features(&mut self, features: &[i64]) -> Result<()> {
        self.check_statistics("features are forgotten before the graph pass")?;
        self.stats.forget(features)
    }

    /// Forgets the first `count` features (never seen): for 1-based files, whose chunks then
    /// come to the graph passes with their indices shifted down by `count`.
    pub fn drop_leading_features(&mut self, count: usize) -> Result<()> {
        self.stats.drop_leading(count)
    }

    /// The graph build, over the vertices the statistics give: its first call ends the
    /// statistics.
    pub fn graph(&mut self) -> Result<&mut GraphBuilder> {
        if self.graph.is_none() {
            let vocabulary = vocabulary_for(&self.stats, &self.params)?;
            self.graph = Some(GraphBuilder::new(vocabulary, self.params.min_cooccurrence)?);
        }
        Ok(self.graph.as_mut().expect("set above"))
    }

    /// Colors the graph and returns the fit (as [`fit`] does); the stream is spent.
    pub fn finish(&mut self, interrupt: Interrupt<'_>) -> Result<Fitted> {
        let stats = std::mem::replace(&mut self.stats, FeatureStats::empty(0));
        let mut graph = match self.graph.take() {
            Some(graph) => graph,
            None => GraphBuilder::new(
                vocabulary_for(&stats, &self.params)?,
                self.params.min_cooccurrence,
            )?,
        };
        let upper = graph.finish_upper(interrupt)?;
        color_graph(stats, graph.vocabulary(), upper, &self.params, interrupt)
    }
}

const STATISTICS_FIRST: &str = "statistics come before the graph pass";

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream over `rows` (CSR over 4 features) that forgets `forgotten` after the statistics
    /// and counts the pairs of `graph_rows`.
    fn fit_forgetting(
        rows: (&[i32], &[i32]),
        forgotten: &[i64],
        graph_rows: (&[i32], &[i32]),
    ) -> Fitted {
        let never = Interrupt::never();
        let all = CsrMatrix::<i32, f64>::new(rows.0, rows.1, None, 4).unwrap();
        let params = FitParams {
            dense_threshold: None,
            ..FitParams::default()
        };
        let mut stream = FitStream::new(params);
        stream.widen(4).unwrap();
        stream.add_statistics(&all, never).unwrap();
        stream.forget_features(forgotten).unwrap();
        let graph = stream.graph().unwrap();
        let rows = CsrMatrix::<i32, f64>::new(graph_rows.0, graph_rows.1, None, 4).unwrap();
        graph.add_rows(&rows, never).unwrap();
        graph.end_pass(never).unwrap();
        stream.finish(never).unwrap()
    }

    #[test]
    fn the_graph_passes_skip_forgotten_features() {
        // Feature 0, forgotten, is in three of the four rows.
        let (indptr, indices) = ([0, 2, 4, 7, 9], [0, 1, 0, 2, 1, 2, 3, 0, 3]);
        let (kept_indptr, kept_indices) = ([0, 1, 2, 5, 6], [1, 2, 1, 2, 3, 3]);
        let skipped = fit_forgetting((&indptr, &indices), &[0], (&indptr, &indices));
        let left_out = fit_forgetting((&indptr, &indices), &[0], (&kept_indptr, &kept_indices));
        assert_eq!(skipped.n_vertices, 3);
        assert_eq!(skipped.n_edges, 3);
        assert_eq!(skipped.n_edges, left_out.n_edges);
        let (a, b) = (skipped.encoder.tables(), left_out.encoder.tables());
        assert_eq!(a.feature_color, b.feature_color);
        assert_eq!(a.feature_code, b.feature_code);
        assert!(a.feature_color[0] < 0, "a forgotten feature gets no color");
    }
}
