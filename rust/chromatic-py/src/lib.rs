//! Python bindings of the chromatic engine: converts arrays, releases the GIL while the engine
//! runs, and maps engine errors to Python exceptions. No logic of its own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use chromatic_core as core;
use numpy::{
    IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyReadwriteArray2,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// `indptr` / `indices` as numpy gives them.
#[derive(FromPyObject)]
enum IndexArray<'py> {
    I32(PyReadonlyArray1<'py, i32>),
    I64(PyReadonlyArray1<'py, i64>),
}

/// Stored values; anything else is converted to a boolean presence mask on the Python side.
#[derive(FromPyObject)]
enum ValueArray<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    F32(PyReadonlyArray1<'py, f32>),
    Bool(PyReadonlyArray1<'py, bool>),
}

fn to_py_err(err: core::Error) -> PyErr {
    match err {
        core::Error::OutOfMemory { .. } | core::Error::MemoryLimit(_) => {
            PyMemoryError::new_err(err.to_string())
        }
        _ => PyValueError::new_err(err.to_string()),
    }
}

/// Thread pools by size, built once: building one costs a thread start per worker.
fn thread_pool(n_threads: usize) -> PyResult<Arc<rayon::ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(pool) = pools.get(&n_threads) {
        return Ok(Arc::clone(pool));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n_threads)
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start threads: {e}")))?;
    let pool = Arc::new(pool);
    pools.insert(n_threads, Arc::clone(&pool));
    Ok(pool)
}

/// How often the waiting thread checks for Ctrl-C while the engine works.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Runs `work` without the GIL on a worker thread (in a pool of `n_jobs` threads, or rayon's
/// global pool), while this thread wakes up regularly to let Python handle signals. On
/// KeyboardInterrupt the engine is told to stop and the interrupt is raised once it has.
fn run_detached<T, F>(py: Python<'_>, n_jobs: Option<usize>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(core::Interrupt<'_>) -> core::Result<T> + Send,
{
    let pool = match n_jobs {
        Some(n) => Some(thread_pool(n.max(1))?),
        None => None,
    };
    let flag = AtomicBool::new(false);
    let done = AtomicBool::new(false);
    let (outcome, signal) = py.detach(|| {
        let waiter = thread::current();
        thread::scope(|scope| {
            let worker = scope.spawn(|| {
                let interrupt = core::Interrupt::new(&flag);
                let result = match &pool {
                    Some(pool) => pool.install(|| work(interrupt)),
                    None => work(interrupt),
                };
                // Tell the waiter before waking it, so it does not sleep another full poll
                // waiting for this thread to exit.
                done.store(true, Ordering::Release);
                waiter.unpark();
                result
            });
            let mut signal: Option<PyErr> = None;
            // `is_finished` as well: a panicking worker never sets `done`.
            while !done.load(Ordering::Acquire) && !worker.is_finished() {
                thread::park_timeout(SIGNAL_POLL);
                if signal.is_none()
                    && !done.load(Ordering::Acquire)
                    && let Err(err) = Python::attach(|py| py.check_signals())
                {
                    flag.store(true, Ordering::Relaxed);
                    signal = Some(err);
                }
            }
            (worker.join(), signal)
        })
    });
    if let Some(err) = signal {
        return Err(err);
    }
    match outcome {
        Ok(result) => result.map_err(to_py_err),
        Err(_) => Err(PyRuntimeError::new_err(
            "internal error in the chromatic engine; please report it with the input that caused it",
        )),
    }
}

/// Builds the borrowed `CsrMatrix` for the index and value types at hand and evaluates `$body`
/// with it bound to `$m`.
macro_rules! with_matrix {
    ($indptr:expr, $indices:expr, $data:expr, $n_features:expr, |$m:ident| $body:expr) => {{
        macro_rules! with_values {
            ($p:expr, $i:expr) => {
                match $data {
                    None => {
                        let $m = core::CsrMatrix::<_, f64>::new($p, $i, None, $n_features)
                            .map_err(to_py_err)?;
                        $body
                    }
                    Some(ValueArray::F64(d)) => {
                        let $m = core::CsrMatrix::new($p, $i, Some(d.as_slice()?), $n_features)
                            .map_err(to_py_err)?;
                        $body
                    }
                    Some(ValueArray::F32(d)) => {
                        let $m = core::CsrMatrix::new($p, $i, Some(d.as_slice()?), $n_features)
                            .map_err(to_py_err)?;
                        $body
                    }
                    Some(ValueArray::Bool(d)) => {
                        let $m = core::CsrMatrix::new($p, $i, Some(d.as_slice()?), $n_features)
                            .map_err(to_py_err)?;
                        $body
                    }
                }
            };
        }
        match ($indptr, $indices) {
            (IndexArray::I32(p), IndexArray::I32(i)) => with_values!(p.as_slice()?, i.as_slice()?),
            (IndexArray::I64(p), IndexArray::I64(i)) => with_values!(p.as_slice()?, i.as_slice()?),
            _ => Err(PyTypeError::new_err(
                "indptr and indices must have the same dtype (int32 or int64)",
            )),
        }
    }};
}

fn n_jobs_arg(n_jobs: Option<i64>) -> PyResult<Option<usize>> {
    match n_jobs {
        None => Ok(None),
        Some(n) if n >= 1 => Ok(Some(n as usize)),
        Some(n) => Err(PyValueError::new_err(format!(
            "n_jobs must be a positive number of threads or None, got {n}"
        ))),
    }
}

/// Fits an encoder on a CSR matrix; returns its tables and graph statistics as a dict.
#[pyfunction]
#[pyo3(signature = (indptr, indices, data, n_features, *, min_cooccurrence, strategy, seed,
                    dense_threshold, n_colors=None, glauber_steps=None, memory_limit=None,
                    n_jobs=None))]
#[allow(clippy::too_many_arguments)]
fn fit<'py>(
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
fn fitted_dict(py: Python<'_>, fitted: core::Fitted) -> PyResult<Bound<'_, PyDict>> {
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
#[pyclass(module = "chromatic._core")]
struct StreamingFit {
    stream: core::FitStream,
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
    /// the encoder (the caller leaves them out of the graph pass's chunks too).
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
        let graph = self.stream.graph().map_err(to_py_err)?;
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
        let graph = self.stream.graph().map_err(to_py_err)?;
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
        let graph = self.stream.graph().map_err(to_py_err)?;
        with_matrix!(
            &indptr,
            &indices,
            &data,
            graph.vocabulary().n_features(),
            |m| { run_detached(py, n_jobs, |interrupt| graph.add_pair_bounds(&m, interrupt)) }
        )
    }

    /// Plans the graph passes to keep the build under `memory_limit` bytes, from the pair
    /// bounds: each pass counts as many vertices as fit beside the edges already kept, until
    /// `graph_complete`.
    #[pyo3(signature = (memory_limit, *, n_jobs=None))]
    fn plan_shards(&mut self, memory_limit: u64, n_jobs: Option<i64>) -> PyResult<()> {
        let threads = n_jobs_arg(n_jobs)?.unwrap_or_else(rayon::current_num_threads);
        let graph = self.stream.graph().map_err(to_py_err)?;
        graph.plan_shards(memory_limit, threads).map_err(to_py_err)
    }

    /// Whether the graph passes have covered every vertex.
    #[getter]
    fn graph_complete(&mut self) -> PyResult<bool> {
        Ok(self.stream.graph().map_err(to_py_err)?.complete())
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
        let graph = self.stream.graph().map_err(to_py_err)?;
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
        let graph = self.stream.graph().map_err(to_py_err)?;
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

/// Encodes a CSR matrix into `out`, a zero-filled C-contiguous `(n_rows, n_colors)` int32
/// array; returns the number of collisions and of unseen features. The caller allocates `out`
/// (numpy backs large arrays with huge pages, which makes first writes cheap, and reports a
/// failed allocation as MemoryError).
#[pyfunction]
#[pyo3(signature = (indptr, indices, data, n_features, feature_color, feature_code, out, *,
                    collision, n_jobs=None))]
#[allow(clippy::too_many_arguments)]
fn encode<'py>(
    py: Python<'py>,
    indptr: IndexArray<'py>,
    indices: IndexArray<'py>,
    data: Option<ValueArray<'py>>,
    n_features: usize,
    feature_color: PyReadonlyArray1<'py, i32>,
    feature_code: PyReadonlyArray1<'py, i32>,
    mut out: PyReadwriteArray2<'py, i32>,
    collision: &str,
    n_jobs: Option<i64>,
) -> PyResult<(u64, u64)> {
    let policy = core::CollisionPolicy::from_name(collision).map_err(to_py_err)?;
    if !out.is_c_contiguous() {
        return Err(PyTypeError::new_err("out must be a C-contiguous array"));
    }
    let n_colors = out.shape()[1];
    let tables = core::EncoderTables::new(
        feature_color.as_slice()?,
        feature_code.as_slice()?,
        n_colors,
    )
    .map_err(to_py_err)?;
    let n_jobs = n_jobs_arg(n_jobs)?;
    let out = out.as_slice_mut()?;
    let tally = with_matrix!(&indptr, &indices, &data, n_features, |m| {
        run_detached(py, n_jobs, |interrupt| {
            core::encode_into(&m, &tables, policy, out, interrupt)
        })
    })?;
    Ok((tally.collisions, tally.unseen))
}

/// Decodes a C-contiguous `(n_rows, n_colors)` int32 code matrix into binary CSR arrays
/// `(indptr, indices)`.
#[pyfunction]
#[pyo3(signature = (codes, feature_color, feature_code, color_sizes, *, n_jobs=None))]
#[allow(clippy::type_complexity)]
fn decode<'py>(
    py: Python<'py>,
    codes: PyReadonlyArray2<'py, i32>,
    feature_color: PyReadonlyArray1<'py, i32>,
    feature_code: PyReadonlyArray1<'py, i32>,
    color_sizes: PyReadonlyArray1<'py, i64>,
    n_jobs: Option<i64>,
) -> PyResult<(Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<i64>>)> {
    if !codes.is_c_contiguous() {
        return Err(PyTypeError::new_err("codes must be a C-contiguous array"));
    }
    let (n_rows, n_colors) = (codes.shape()[0], codes.shape()[1]);
    let tables = core::EncoderTables::new(
        feature_color.as_slice()?,
        feature_code.as_slice()?,
        n_colors,
    )
    .map_err(to_py_err)?;
    let (codes, sizes) = (codes.as_slice()?, color_sizes.as_slice()?);
    let rows = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
        core::decode(codes, n_rows, &tables, sizes, interrupt)
    })?;
    Ok((rows.indptr.into_pyarray(py), rows.indices.into_pyarray(py)))
}

/// The co-occurrence graph of a CSR matrix as CSR arrays `(indptr, indices, weights)` over the
/// features, with sorted rows.
#[pyfunction]
#[pyo3(signature = (indptr, indices, data, n_features, *, min_cooccurrence, n_jobs=None))]
#[allow(clippy::type_complexity)]
fn cooccurrence_graph<'py>(
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

/// Per-column value sizes as `usize`.
fn column_sizes_arg(column_sizes: &PyReadonlyArray1<'_, i64>) -> PyResult<Vec<usize>> {
    column_sizes
        .as_slice()?
        .iter()
        .map(|&s| usize::try_from(s))
        .collect::<Result<_, _>>()
        .map_err(|_| PyValueError::new_err("column sizes must be >= 0"))
}

/// Fits the bucket tables of submodular feature compression on a C-contiguous `(n_rows,
/// n_columns)` int32 code matrix and boolean labels, over the rows with `use_rows` (all when
/// `None`). Returns a dict: `offsets`, `output_of_value`, `n_outputs`, and the buckets as rate
/// intervals, `boundary_offsets`, `boundaries`, `bucket_outputs`.
#[pyfunction]
#[pyo3(signature = (codes, labels, use_rows, column_sizes, *, budget, smoothing,
                    min_bucket_rows, penalty, n_jobs=None))]
#[allow(clippy::too_many_arguments)]
fn fit_buckets<'py>(
    py: Python<'py>,
    codes: PyReadonlyArray2<'py, i32>,
    labels: PyReadonlyArray1<'py, bool>,
    use_rows: Option<PyReadonlyArray1<'py, bool>>,
    column_sizes: PyReadonlyArray1<'py, i64>,
    budget: usize,
    smoothing: f64,
    min_bucket_rows: u32,
    penalty: f64,
    n_jobs: Option<i64>,
) -> PyResult<Bound<'py, PyDict>> {
    let codes = code_matrix(&codes)?;
    let sizes = column_sizes_arg(&column_sizes)?;
    let labels = labels.as_slice()?;
    let use_rows = match &use_rows {
        Some(u) => Some(u.as_slice()?),
        None => None,
    };
    let params = core::BucketParams {
        budget,
        smoothing,
        min_bucket_rows,
        penalty,
    };
    let buckets = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
        let stats = core::ValueStats::from_codes(&codes, labels, use_rows, &sizes, interrupt)?;
        core::fit_buckets(&stats, &params, interrupt)
    })?;
    buckets_dict(py, buckets)
}

/// Fitted buckets as the dict `fit_buckets` and `ValueCounts.fit_buckets` return.
fn buckets_dict(py: Python<'_>, buckets: core::Buckets) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("offsets", buckets.offsets.into_pyarray(py))?;
    out.set_item("output_of_value", buckets.output_of_value.into_pyarray(py))?;
    out.set_item("n_outputs", buckets.n_outputs)?;
    out.set_item(
        "boundary_offsets",
        buckets.by_rate.boundary_offsets.into_pyarray(py),
    )?;
    out.set_item("boundaries", buckets.by_rate.boundaries.into_pyarray(py))?;
    out.set_item("bucket_outputs", buckets.by_rate.outputs.into_pyarray(py))?;
    Ok(out)
}

/// Rows and positive rows of every (column, value) of code columns, added chunk by chunk: the
/// statistics of submodular compression for data streamed from files.
#[pyclass(module = "chromatic._core")]
struct ValueCounts {
    stats: core::ValueStats,
}

#[pymethods]
impl ValueCounts {
    #[new]
    fn new(column_sizes: PyReadonlyArray1<'_, i64>) -> PyResult<Self> {
        let sizes = column_sizes_arg(&column_sizes)?;
        Ok(ValueCounts {
            stats: core::ValueStats::zeros(&sizes).map_err(to_py_err)?,
        })
    }

    /// Adds the rows of a C-contiguous int32 code chunk and their boolean labels.
    #[pyo3(signature = (codes, labels, *, n_jobs=None))]
    fn add(
        &mut self,
        py: Python<'_>,
        codes: PyReadonlyArray2<'_, i32>,
        labels: PyReadonlyArray1<'_, bool>,
        n_jobs: Option<i64>,
    ) -> PyResult<()> {
        let codes = code_matrix(&codes)?;
        let labels = labels.as_slice()?;
        let stats = &mut self.stats;
        run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
            stats.add_codes(&codes, labels, None, interrupt)
        })
    }

    /// Pickling: the column sizes for `__new__`, then the counts (`__getstate__`).
    fn __getnewargs__<'py>(&self, py: Python<'py>) -> (Bound<'py, PyArray1<i64>>,) {
        let sizes = self.stats.column_sizes();
        let sizes: Vec<i64> = sizes.iter().map(|&s| s as i64).collect();
        (sizes.into_pyarray(py),)
    }

    /// The counts as bytes (see `ValueStats::to_le_bytes`).
    fn __getstate__<'py>(
        &self,
        py: Python<'py>,
    ) -> (Bound<'py, PyBytes>, Bound<'py, PyBytes>, u64, u64) {
        let (rows, positives, n_rows, n_positives) = self.stats.to_le_bytes();
        (
            PyBytes::new(py, &rows),
            PyBytes::new(py, &positives),
            n_rows,
            n_positives,
        )
    }

    fn __setstate__(
        &mut self,
        state: (Bound<'_, PyBytes>, Bound<'_, PyBytes>, u64, u64),
    ) -> PyResult<()> {
        let (rows, positives, n_rows, n_positives) = state;
        let sizes = self.stats.column_sizes();
        self.stats = core::ValueStats::from_le_bytes(
            &sizes,
            rows.as_bytes(),
            positives.as_bytes(),
            n_rows,
            n_positives,
        )
        .map_err(to_py_err)?;
        Ok(())
    }

    /// Adds the counts of `other` (over the same columns).
    fn merge(&mut self, other: PyRef<'_, ValueCounts>) -> PyResult<()> {
        self.stats.merge(&other.stats).map_err(to_py_err)
    }

    /// Rows holding each value, column after column.
    #[getter]
    fn value_rows<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        let rows: Vec<i64> = self
            .stats
            .value_rows()
            .iter()
            .map(|&r| i64::from(r))
            .collect();
        rows.into_pyarray(py)
    }

    /// The buckets these counts give, as the dict `fit_buckets` returns.
    #[pyo3(signature = (*, budget, smoothing, min_bucket_rows, penalty, n_jobs=None))]
    fn fit_buckets<'py>(
        &self,
        py: Python<'py>,
        budget: usize,
        smoothing: f64,
        min_bucket_rows: u32,
        penalty: f64,
        n_jobs: Option<i64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let params = core::BucketParams {
            budget,
            smoothing,
            min_bucket_rows,
            penalty,
        };
        let stats = &self.stats;
        let buckets = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
            core::fit_buckets(stats, &params, interrupt)
        })?;
        buckets_dict(py, buckets)
    }

    /// Places every value in rate buckets by its rate in these counts (as `assign_buckets`).
    #[pyo3(signature = (boundary_offsets, boundaries, bucket_outputs, *, smoothing))]
    fn assign_buckets<'py>(
        &self,
        py: Python<'py>,
        boundary_offsets: PyReadonlyArray1<'py, i64>,
        boundaries: PyReadonlyArray1<'py, f64>,
        bucket_outputs: PyReadonlyArray1<'py, i32>,
        smoothing: f64,
    ) -> PyResult<Bound<'py, PyArray1<i32>>> {
        let by_rate = rate_buckets(&boundary_offsets, &boundaries, &bucket_outputs)?;
        let table = by_rate.assign(&self.stats, smoothing).map_err(to_py_err)?;
        Ok(table.into_pyarray(py))
    }
}

/// Places every value in the rate buckets of a fit by its rate over the rows with `use_rows`:
/// the `output_of_value` table for encoding other rows without their own labels.
#[pyfunction]
#[pyo3(signature = (codes, labels, use_rows, column_sizes, boundary_offsets, boundaries,
                    bucket_outputs, *, smoothing, n_jobs=None))]
#[allow(clippy::too_many_arguments)]
fn assign_buckets<'py>(
    py: Python<'py>,
    codes: PyReadonlyArray2<'py, i32>,
    labels: PyReadonlyArray1<'py, bool>,
    use_rows: Option<PyReadonlyArray1<'py, bool>>,
    column_sizes: PyReadonlyArray1<'py, i64>,
    boundary_offsets: PyReadonlyArray1<'py, i64>,
    boundaries: PyReadonlyArray1<'py, f64>,
    bucket_outputs: PyReadonlyArray1<'py, i32>,
    smoothing: f64,
    n_jobs: Option<i64>,
) -> PyResult<Bound<'py, PyArray1<i32>>> {
    let codes = code_matrix(&codes)?;
    let sizes = column_sizes_arg(&column_sizes)?;
    let labels = labels.as_slice()?;
    let use_rows = match &use_rows {
        Some(u) => Some(u.as_slice()?),
        None => None,
    };
    let by_rate = rate_buckets(&boundary_offsets, &boundaries, &bucket_outputs)?;
    let table = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
        let stats = core::ValueStats::from_codes(&codes, labels, use_rows, &sizes, interrupt)?;
        by_rate.assign(&stats, smoothing)
    })?;
    Ok(table.into_pyarray(py))
}

/// One-hot bucket columns of a C-contiguous int32 code matrix: CSR `(indptr, indices)`.
#[pyfunction]
#[pyo3(signature = (codes, offsets, output_of_value, n_outputs, *, n_jobs=None))]
#[allow(clippy::type_complexity)]
fn transform_buckets<'py>(
    py: Python<'py>,
    codes: PyReadonlyArray2<'py, i32>,
    offsets: PyReadonlyArray1<'py, i64>,
    output_of_value: PyReadonlyArray1<'py, i32>,
    n_outputs: usize,
    n_jobs: Option<i64>,
) -> PyResult<(Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<i64>>)> {
    let codes = code_matrix(&codes)?;
    let tables =
        core::BucketTables::new(offsets.as_slice()?, output_of_value.as_slice()?, n_outputs)
            .map_err(to_py_err)?;
    let rows = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
        tables.transform(&codes, interrupt)
    })?;
    Ok((rows.indptr.into_pyarray(py), rows.indices.into_pyarray(py)))
}

fn rate_buckets(
    boundary_offsets: &PyReadonlyArray1<'_, i64>,
    boundaries: &PyReadonlyArray1<'_, f64>,
    bucket_outputs: &PyReadonlyArray1<'_, i32>,
) -> PyResult<core::RateBuckets> {
    Ok(core::RateBuckets {
        boundary_offsets: boundary_offsets.as_slice()?.to_vec(),
        boundaries: boundaries.as_slice()?.to_vec(),
        outputs: bucket_outputs.as_slice()?.to_vec(),
    })
}

fn code_matrix<'a>(codes: &'a PyReadonlyArray2<'_, i32>) -> PyResult<core::CodeMatrix<'a>> {
    if !codes.is_c_contiguous() {
        return Err(PyTypeError::new_err("codes must be a C-contiguous array"));
    }
    let (n_rows, n_columns) = (codes.shape()[0], codes.shape()[1]);
    core::CodeMatrix::new(codes.as_slice()?, n_rows, n_columns).map_err(to_py_err)
}

/// The hashing trick on the present features of a CSR matrix: CSR `(indptr, indices, values)`
/// over `n_columns` columns.
#[pyfunction]
#[pyo3(signature = (indptr, indices, data, n_features, *, n_columns, alternate_sign, seed,
                    n_jobs=None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn hash_rows<'py>(
    py: Python<'py>,
    indptr: IndexArray<'py>,
    indices: IndexArray<'py>,
    data: Option<ValueArray<'py>>,
    n_features: usize,
    n_columns: usize,
    alternate_sign: bool,
    seed: u64,
    n_jobs: Option<i64>,
) -> PyResult<(
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
)> {
    let n_jobs = n_jobs_arg(n_jobs)?;
    let rows = with_matrix!(&indptr, &indices, &data, n_features, |m| {
        run_detached(py, n_jobs, |interrupt| {
            core::hash_rows(&m, n_columns, alternate_sign, seed, interrupt)
        })
    })?;
    Ok((
        rows.indptr.into_pyarray(py),
        rows.indices.into_pyarray(py),
        rows.values.into_pyarray(py),
    ))
}

/// Parses whole lines of svmlight text whose first line is `first_line` of its file: returns
/// `(labels, indptr, indices, skipped_lines, min_index)` with indices as written.
#[pyfunction]
#[pyo3(signature = (text, first_line, *, skip_bad_lines, n_jobs=None))]
#[allow(clippy::type_complexity)]
fn parse_svmlight<'py>(
    py: Python<'py>,
    text: &Bound<'py, PyBytes>,
    first_line: u64,
    skip_bad_lines: bool,
    n_jobs: Option<i64>,
) -> PyResult<(
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    u64,
    i64,
)> {
    let bytes = text.as_bytes();
    let rows = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
        core::parse_rows(bytes, first_line, skip_bad_lines, interrupt)
    })?;
    Ok((
        rows.labels.into_pyarray(py),
        rows.indptr.into_pyarray(py),
        rows.indices.into_pyarray(py),
        rows.skipped_lines,
        rows.min_index,
    ))
}

/// A graph to color, read from a CSR adjacency matrix (its symmetric closure, weights ignored).
#[pyclass(module = "chromatic._core")]
struct ColoringGraph {
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
        self.graph.max_degree()
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

/// svmlight text of code rows: `label color:code ...` (0-based colors, zero codes left out).
#[pyfunction]
#[pyo3(signature = (labels, codes, *, n_jobs=None))]
fn format_codes<'py>(
    py: Python<'py>,
    labels: PyReadonlyArray1<'py, f64>,
    codes: PyReadonlyArray2<'py, i32>,
    n_jobs: Option<i64>,
) -> PyResult<Bound<'py, PyBytes>> {
    let codes = code_matrix(&codes)?;
    let labels = labels.as_slice()?;
    let text = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
        core::format_codes(labels, &codes, interrupt)
    })?;
    Ok(PyBytes::new(py, &text))
}

/// svmlight text of binary rows given as CSR structure: `label index:1 ...`.
#[pyfunction]
#[pyo3(signature = (labels, indptr, indices, *, n_jobs=None))]
fn format_binary_rows<'py>(
    py: Python<'py>,
    labels: PyReadonlyArray1<'py, f64>,
    indptr: PyReadonlyArray1<'py, i64>,
    indices: PyReadonlyArray1<'py, i64>,
    n_jobs: Option<i64>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (labels, indptr, indices) = (labels.as_slice()?, indptr.as_slice()?, indices.as_slice()?);
    let text = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
        core::format_binary_rows(labels, indptr, indices, interrupt)
    })?;
    Ok(PyBytes::new(py, &text))
}

fn pair_counts_arg(
    keys: &PyReadonlyArray1<'_, u64>,
    weights: &PyReadonlyArray1<'_, u32>,
) -> PyResult<core::PairCounts> {
    core::PairCounts::new(keys.as_slice()?.to_vec(), weights.as_slice()?.to_vec())
        .map_err(to_py_err)
}

fn pair_counts_result(
    py: Python<'_>,
    pairs: core::PairCounts,
) -> (Bound<'_, PyArray1<u64>>, Bound<'_, PyArray1<u32>>) {
    let (keys, weights) = pairs.into_parts();
    (keys.into_pyarray(py), weights.into_pyarray(py))
}

/// The pair counts of a chunk of binary rows (int64 CSR structure over `n_features`), with
/// vertex `v` being feature `vertex_features[v]` (`StreamingFit.vertex_features`): ascending
/// keys `u << 32 | v` (`u < v`) and the rows holding each pair.
#[pyfunction]
#[pyo3(signature = (indptr, indices, vertex_features, n_features, *, n_jobs=None))]
#[allow(clippy::type_complexity)]
fn count_pairs<'py>(
    py: Python<'py>,
    indptr: PyReadonlyArray1<'py, i64>,
    indices: PyReadonlyArray1<'py, i64>,
    vertex_features: PyReadonlyArray1<'py, i64>,
    n_features: usize,
    n_jobs: Option<i64>,
) -> PyResult<(Bound<'py, PyArray1<u64>>, Bound<'py, PyArray1<u32>>)> {
    let (indptr, indices) = (indptr.as_slice()?, indices.as_slice()?);
    let matrix =
        core::CsrMatrix::<i64, f64>::new(indptr, indices, None, n_features).map_err(to_py_err)?;
    let vertex_features = vertex_features.as_slice()?;
    let pairs = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
        core::count_pairs(&matrix, vertex_features, interrupt)
    })?;
    Ok(pair_counts_result(py, pairs))
}

/// The sum of two pair counts from `count_pairs` (a sorted merge).
#[pyfunction]
#[allow(clippy::type_complexity)]
fn merge_pair_counts<'py>(
    py: Python<'py>,
    keys: PyReadonlyArray1<'py, u64>,
    weights: PyReadonlyArray1<'py, u32>,
    other_keys: PyReadonlyArray1<'py, u64>,
    other_weights: PyReadonlyArray1<'py, u32>,
) -> PyResult<(Bound<'py, PyArray1<u64>>, Bound<'py, PyArray1<u32>>)> {
    let (keys, weights) = (keys.as_slice()?, weights.as_slice()?);
    let (other_keys, other_weights) = (other_keys.as_slice()?, other_weights.as_slice()?);
    let merged = py
        .detach(|| core::merge_pair_counts(keys, weights, other_keys, other_weights))
        .map_err(to_py_err)?;
    Ok(pair_counts_result(py, merged))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(cooccurrence_graph, m)?)?;
    m.add_function(wrap_pyfunction!(fit_buckets, m)?)?;
    m.add_function(wrap_pyfunction!(assign_buckets, m)?)?;
    m.add_function(wrap_pyfunction!(transform_buckets, m)?)?;
    m.add_function(wrap_pyfunction!(hash_rows, m)?)?;
    m.add_function(wrap_pyfunction!(parse_svmlight, m)?)?;
    m.add_function(wrap_pyfunction!(format_codes, m)?)?;
    m.add_function(wrap_pyfunction!(format_binary_rows, m)?)?;
    m.add_function(wrap_pyfunction!(count_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(merge_pair_counts, m)?)?;
    m.add_class::<StreamingFit>()?;
    m.add_class::<ValueCounts>()?;
    m.add_class::<ColoringGraph>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
