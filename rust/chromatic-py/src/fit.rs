//! The fit: in memory (`fit`), over chunks (`StreamingFit`, with pair counts made elsewhere), and
//! the graphs (`cooccurrence_graph`, `ColoringGraph`).

use chromatic_core as core;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{IndexArray, ValueArray, pair_counts_arg, pair_counts_result, with_matrix};
use crate::errors::to_py_err;
use crate::runtime::{n_jobs_arg, run_detached};

/// Fits an encoder on a CSR matrix; returns its tables and graph statistics as a dict.
#[pyfunction]
#[pyo3(signature = (indptr, indices, data, n_features, *, min_cooccurrence, strategy, seed,
                    dense_threshold, n_colors=None, glauber_steps=None, memory_limit=None,
                    n_jobs=None))]
pub(crate) fn fit<'py>(
    py: Python<'py>,
    indptr: IndexArray<'py>,
    indices: IndexArray<'py>,
    data: Option<ValueArray<'py>>,
    n_features: usize,
    min_cooccurrence: u32,
    strategy: &str,
    seed: u64,
    dense_threshold: Option<f64>,
    n_colors: Option<usize>,
    glauber_steps: Option<u64>,
    memory_limit: Option<u64>,
    n_jobs: Option<i64>,
) -> PyResult<Bound<'py, PyDict>> {
    let params = core::FitParams {
        min_cooccurrence,
        strategy: core::Strategy::from_name(strategy, seed).map_err(to_py_err)?,
        dense_threshold,
        n_colors,
        glauber_steps,
        seed,
        memory_limit,
        ..core::FitParams::default()
    };
    let n_jobs = n_jobs_arg(n_jobs)?;
    let fitted = with_matrix!(&indptr, &indices, &data, n_features, |m| {
        run_detached(py, n_jobs, |interrupt| core::fit(&m, &params, interrupt))
    })?;
    fitted_dict(py, fitted)
}

/// A fit's tables and graph statistics as the dict `fit` and `StreamingFit.finish` return.
pub(crate) fn fitted_dict(py: Python<'_>, fitted: core::Fitted) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    let encoder = fitted.encoder;
    let sizes: Vec<i64> = encoder.color_sizes.iter().map(|&s| i64::from(s)).collect();
    let doc_freq: Vec<i64> = fitted.doc_freq.iter().map(|&d| i64::from(d)).collect();
    out.set_item("colors", encoder.feature_color.into_pyarray(py))?;
    out.set_item("codes", encoder.feature_code.into_pyarray(py))?;
    out.set_item("color_sizes", sizes.into_pyarray(py))?;
    out.set_item("document_frequency", doc_freq.into_pyarray(py))?;
    out.set_item("dense_features", fitted.dense_features.into_pyarray(py))?;
    out.set_item("n_vertices", fitted.n_vertices)?;
    out.set_item("n_edges", fitted.n_edges)?;
    out.set_item("max_degree", fitted.max_degree)?;
    out.set_item("n_greedy_colors", fitted.n_greedy_colors)?;
    out.set_item("conflict_weight", fitted.conflict_weight)?;
    Ok(out)
}

/// A fit over rows that arrive in chunks (files streamed from disk, or one matrix in memory): a
/// first pass adds every chunk to the statistics, then one pass per shard of the graph (one shard
/// unless a memory limit asks for more: a pass of pair bounds plans them), then `finish` colors
/// it.
#[pyclass(module = "chromatic_learning._core")]
pub(crate) struct StreamingFit {
    stream: core::FitStream,
}

impl StreamingFit {
    /// The graph builder, made on first use in the pool of `n_jobs` threads: its vocabulary
    /// is built in parallel, and outside a pool that work would start rayon's global pool of
    /// every core whatever `n_jobs` says.
    fn graph_in(
        &mut self,
        py: Python<'_>,
        n_jobs: Option<usize>,
    ) -> PyResult<&mut core::GraphBuilder> {
        let stream = &mut self.stream;
        run_detached(py, n_jobs, |_| stream.graph())
    }

    /// `graph_in` for the `n_jobs` argument, with the number of threads it means: what the
    /// memory planning counts per-thread buffers by.
    fn graph_with_threads(
        &mut self,
        py: Python<'_>,
        n_jobs: Option<i64>,
    ) -> PyResult<(&mut core::GraphBuilder, usize)> {
        let n_jobs = n_jobs_arg(n_jobs)?;
        let threads = n_jobs.unwrap_or_else(rayon::current_num_threads);
        Ok((self.graph_in(py, n_jobs)?, threads))
    }
}

#[pymethods]
impl StreamingFit {
    #[new]
    #[pyo3(signature = (*, min_cooccurrence, strategy, seed, dense_threshold, n_colors=None,
                        glauber_steps=None))]
    fn new(
        min_cooccurrence: u32,
        strategy: &str,
        seed: u64,
        dense_threshold: Option<f64>,
        n_colors: Option<usize>,
        glauber_steps: Option<u64>,
    ) -> PyResult<Self> {
        Ok(StreamingFit {
            stream: core::FitStream::new(core::FitParams {
                min_cooccurrence,
                strategy: core::Strategy::from_name(strategy, seed).map_err(to_py_err)?,
                dense_threshold,
                n_colors,
                glauber_steps,
                seed,
                ..core::FitParams::default()
            }),
        })
    }

    /// Features seen so far (the largest index plus one).
    #[getter]
    fn n_features(&self) -> usize {
        self.stream.stats().n_features()
    }

    /// Rows holding each feature so far.
    #[getter]
    fn document_frequency<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        let doc_freq = self.stream.stats().doc_freq();
        let counts: Vec<i64> = doc_freq.iter().map(|&d| i64::from(d)).collect();
        counts.into_pyarray(py)
    }

    /// Between the passes: treats `features` as never seen, so they stay out of the graph and
    /// the encoder; the graph passes skip them in the rows they count.
    fn forget_features(&mut self, features: PyReadonlyArray1<'_, i64>) -> PyResult<()> {
        let features = features.as_slice()?;
        self.stream.forget_features(features).map_err(to_py_err)
    }

    /// First pass: counts the features of a chunk of rows (CSR, as `fit` takes them), widening
    /// the feature range to `n_features` when needed.
    #[pyo3(signature = (indptr, indices, n_features, *, data=None, n_jobs=None))]
    fn add_statistics<'py>(
        &mut self,
        py: Python<'py>,
        indptr: IndexArray<'py>,
        indices: IndexArray<'py>,
        n_features: usize,
        data: Option<ValueArray<'py>>,
        n_jobs: Option<i64>,
    ) -> PyResult<()> {
        self.stream.widen(n_features).map_err(to_py_err)?;
        let n_jobs = n_jobs_arg(n_jobs)?;
        let stream = &mut self.stream;
        with_matrix!(&indptr, &indices, &data, stream.stats().n_features(), |m| {
            run_detached(py, n_jobs, |interrupt| stream.add_statistics(&m, interrupt))
        })
    }

    /// First pass, counted elsewhere: adds `n_rows` rows in which feature `f` is held by
    /// `document_frequency[f]` rows.
    fn add_document_frequency(
        &mut self,
        document_frequency: PyReadonlyArray1<'_, i64>,
        n_rows: u64,
    ) -> PyResult<()> {
        let document_frequency = document_frequency.as_slice()?;
        self.stream
            .add_document_frequency(document_frequency, n_rows)
            .map_err(to_py_err)
    }

    /// The feature of every graph vertex, by vertex id: what `count_pairs` needs to count
    /// rows elsewhere with the same vertex ids. Ends the statistics.
    #[getter]
    fn vertex_features<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let graph = self.graph_in(py, None)?;
        let features = graph.vocabulary().vertex_features();
        let features: Vec<i64> = features.iter().map(|&f| i64::from(f)).collect();
        Ok(features.into_pyarray(py))
    }

    /// A graph pass counted elsewhere: adds pair counts from `count_pairs` (summed with
    /// `merge_pair_counts`). Not with planned shards.
    fn add_pair_counts(
        &mut self,
        py: Python<'_>,
        keys: PyReadonlyArray1<'_, u64>,
        weights: PyReadonlyArray1<'_, u32>,
    ) -> PyResult<()> {
        let pairs = pair_counts_arg(&keys, &weights)?;
        let graph = self.graph_in(py, None)?;
        run_detached(py, None, |interrupt| {
            graph.add_pair_counts(&pairs, interrupt)
        })
    }

    /// Forgets the first `count` features (never seen): for 1-based files, whose chunks then
    /// come to the graph pass with their indices shifted down by `count`.
    fn drop_leading_features(&mut self, count: usize) -> PyResult<()> {
        self.stream.drop_leading_features(count).map_err(to_py_err)
    }

    /// Optional pass before the graph passes: bounds the pairs each vertex heads, from which
    /// `plan_shards` plans the graph passes (indices below `n_features`).
    #[pyo3(signature = (indptr, indices, *, data=None, n_jobs=None))]
    fn add_pair_bounds<'py>(
        &mut self,
        py: Python<'py>,
        indptr: IndexArray<'py>,
        indices: IndexArray<'py>,
        data: Option<ValueArray<'py>>,
        n_jobs: Option<i64>,
    ) -> PyResult<()> {
        let n_jobs = n_jobs_arg(n_jobs)?;
        let graph = self.graph_in(py, n_jobs)?;
        with_matrix!(
            &indptr,
            &indices,
            &data,
            graph.vocabulary().n_features(),
            |m| { run_detached(py, n_jobs, |interrupt| graph.add_pair_bounds(&m, interrupt)) }
        )
    }

    /// Refuses, before the pass of pair bounds, a `memory_limit` too small for the features
    /// and vertices alone.
    #[pyo3(signature = (memory_limit, *, n_jobs=None))]
    fn check_memory_limit(
        &mut self,
        py: Python<'_>,
        memory_limit: u64,
        n_jobs: Option<i64>,
    ) -> PyResult<()> {
        let (graph, threads) = self.graph_with_threads(py, n_jobs)?;
        graph
            .check_memory_limit(memory_limit, threads)
            .map_err(to_py_err)
    }

    /// Plans the graph passes to keep the build under `memory_limit` bytes, from the pair
    /// bounds: each pass counts as many vertices as fit beside the edges already kept, until
    /// `graph_complete`.
    #[pyo3(signature = (memory_limit, *, n_jobs=None))]
    fn plan_shards(
        &mut self,
        py: Python<'_>,
        memory_limit: u64,
        n_jobs: Option<i64>,
    ) -> PyResult<()> {
        let (graph, threads) = self.graph_with_threads(py, n_jobs)?;
        graph.plan_shards(memory_limit, threads).map_err(to_py_err)
    }

    /// Whether the graph passes have covered every vertex.
    #[getter]
    fn graph_complete(&mut self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.graph_in(py, None)?.complete())
    }

    /// A graph pass: counts the feature pairs of a chunk (indices below `n_features`) for the
    /// current shard.
    #[pyo3(signature = (indptr, indices, *, data=None, n_jobs=None))]
    fn add_edges<'py>(
        &mut self,
        py: Python<'py>,
        indptr: IndexArray<'py>,
        indices: IndexArray<'py>,
        data: Option<ValueArray<'py>>,
        n_jobs: Option<i64>,
    ) -> PyResult<()> {
        let n_jobs = n_jobs_arg(n_jobs)?;
        let graph = self.graph_in(py, n_jobs)?;
        with_matrix!(
            &indptr,
            &indices,
            &data,
            graph.vocabulary().n_features(),
            |m| { run_detached(py, n_jobs, |interrupt| graph.add_rows(&m, interrupt)) }
        )
    }

    /// Ends a graph pass: keeps the shard's edges of at least `min_cooccurrence` rows.
    #[pyo3(signature = (*, n_jobs=None))]
    fn end_shard(&mut self, py: Python<'_>, n_jobs: Option<i64>) -> PyResult<()> {
        let n_jobs = n_jobs_arg(n_jobs)?;
        let graph = self.graph_in(py, n_jobs)?;
        run_detached(py, n_jobs, |interrupt| graph.end_pass(interrupt))
    }

    /// Colors the graph and returns the fitted tables (as `fit` does); the stream is spent.
    #[pyo3(signature = (*, n_jobs=None))]
    fn finish<'py>(
        &mut self,
        py: Python<'py>,
        n_jobs: Option<i64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let n_jobs = n_jobs_arg(n_jobs)?;
        let stream = &mut self.stream;
        let fitted = run_detached(py, n_jobs, |interrupt| stream.finish(interrupt))?;
        fitted_dict(py, fitted)
    }
}

/// The pair counts of a chunk of binary rows (int64 CSR structure over `n_features`), with
/// vertex `v` being feature `vertex_features[v]` (`StreamingFit.vertex_features`): ascending
/// keys `u << 32 | v` (`u < v`) and the rows holding each pair, in a list of one count. With
/// `bounds`, ascending vertices `[b0, b1, ..., bk]`, only the pairs whose smaller vertex is in
/// `b0..bk`, as one count per range `b0..b1`, ..., `b(k-1)..bk`.
#[pyfunction]
#[pyo3(signature = (indptr, indices, vertex_features, n_features, *, bounds=None, n_jobs=None))]
pub(crate) fn count_pairs<'py>(
    py: Python<'py>,
    indptr: PyReadonlyArray1<'py, i64>,
    indices: PyReadonlyArray1<'py, i64>,
    vertex_features: PyReadonlyArray1<'py, i64>,
    n_features: usize,
    bounds: Option<Vec<usize>>,
    n_jobs: Option<i64>,
) -> PyResult<Vec<(Bound<'py, PyArray1<u64>>, Bound<'py, PyArray1<u32>>)>> {
    let (indptr, indices) = (indptr.as_slice()?, indices.as_slice()?);
    let matrix =
        core::CsrMatrix::<i64, f64>::new(indptr, indices, None, n_features).map_err(to_py_err)?;
    let vertex_features = vertex_features.as_slice()?;
    let (sources, cuts) = match bounds.as_deref() {
        None => (None, &[][..]),
        Some([first, cuts @ .., last]) => (Some(*first..*last), cuts),
        Some(_) => {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "bounds must hold at least the first and the end of the sources",
            ));
        }
    };
    let counts = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
        core::count_pairs(&matrix, vertex_features, sources, cuts, interrupt)
    })?;
    Ok(counts
        .into_iter()
        .map(|pairs| pair_counts_result(py, pairs))
        .collect())
}

/// The sum of pair counts from `count_pairs`, a list of `(keys, weights)` (one sorted merge).
#[pyfunction]
pub(crate) fn merge_pair_counts<'py>(
    py: Python<'py>,
    counts: Vec<(PyReadonlyArray1<'py, u64>, PyReadonlyArray1<'py, u32>)>,
) -> PyResult<(Bound<'py, PyArray1<u64>>, Bound<'py, PyArray1<u32>>)> {
    let slices = counts
        .iter()
        .map(|(keys, weights)| Ok((keys.as_slice()?, weights.as_slice()?)))
        .collect::<PyResult<Vec<_>>>()?;
    let merged = py
        .detach(|| core::merge_pair_counts(&slices))
        .map_err(to_py_err)?;
    Ok(pair_counts_result(py, merged))
}

/// The co-occurrence graph of a CSR matrix as CSR arrays `(indptr, indices, weights)` over the
/// features, with sorted rows.
#[pyfunction]
#[pyo3(signature = (indptr, indices, data, n_features, *, min_cooccurrence, n_jobs=None))]
pub(crate) fn cooccurrence_graph<'py>(
    py: Python<'py>,
    indptr: IndexArray<'py>,
    indices: IndexArray<'py>,
    data: Option<ValueArray<'py>>,
    n_features: usize,
    min_cooccurrence: u32,
    n_jobs: Option<i64>,
) -> PyResult<(
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<u32>>,
)> {
    let n_jobs = n_jobs_arg(n_jobs)?;
    let graph = with_matrix!(&indptr, &indices, &data, n_features, |m| {
        run_detached(py, n_jobs, |interrupt| {
            core::feature_graph(&m, min_cooccurrence, interrupt)
        })
    })?;
    let (indptr, neighbors, weights) = graph.into_parts();
    let indptr: Vec<i64> = indptr.into_iter().map(|p| p as i64).collect();
    Ok((
        indptr.into_pyarray(py),
        neighbors.into_pyarray(py),
        weights.into_pyarray(py),
    ))
}

/// A graph to color, read from a CSR adjacency matrix (its symmetric closure, weights ignored).
#[pyclass(module = "chromatic_learning._core")]
pub(crate) struct ColoringGraph {
    graph: core::Graph,
}

#[pymethods]
impl ColoringGraph {
    #[new]
    fn new(
        py: Python<'_>,
        indptr: PyReadonlyArray1<'_, i64>,
        indices: PyReadonlyArray1<'_, i64>,
        n_vertices: usize,
    ) -> PyResult<Self> {
        let (indptr, indices) = (indptr.as_slice()?, indices.as_slice()?);
        let graph = py
            .detach(|| core::Graph::from_adjacency(indptr, indices, n_vertices))
            .map_err(to_py_err)?;
        Ok(ColoringGraph { graph })
    }

    #[getter]
    fn n_edges(&self) -> usize {
        self.graph.n_edges()
    }

    #[getter]
    fn max_degree(&self) -> usize {
        core::Adjacency::max_degree(&self.graph)
    }

    /// A greedy coloring by `strategy` (`seed` for "random"): the color of every vertex.
    #[pyo3(signature = (strategy, *, seed=0, n_jobs=None))]
    fn color<'py>(
        &self,
        py: Python<'py>,
        strategy: &str,
        seed: u64,
        n_jobs: Option<i64>,
    ) -> PyResult<Bound<'py, PyArray1<u32>>> {
        let strategy = core::Strategy::from_name(strategy, seed).map_err(to_py_err)?;
        let graph = &self.graph;
        let coloring = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
            core::color(graph, strategy, interrupt)
        })?;
        Ok(coloring.colors.into_pyarray(py))
    }
}
