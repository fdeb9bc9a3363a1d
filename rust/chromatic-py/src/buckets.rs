//! Submodular compression of code columns into buckets.

use chromatic_core as core;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::convert::{code_matrix, column_sizes_arg};
use crate::errors::to_py_err;
use crate::runtime::{n_jobs_arg, run_detached};

/// Fits the bucket tables of submodular feature compression on a C-contiguous `(n_rows,
/// n_columns)` int32 code matrix and boolean labels, over the rows with `use_rows` (all when
/// `None`). Returns a dict: `offsets`, `output_of_value`, `n_outputs`, the buckets as rate
/// intervals, `boundary_offsets`, `boundaries`, `bucket_outputs`, and why the cut stopped,
/// `stop` (`budget`, `penalty`, `no gain` or `no cut`).
#[pyfunction]
#[pyo3(signature = (codes, labels, use_rows, column_sizes, *, budget, smoothing,
                    min_bucket_rows, penalty, n_jobs=None))]
pub(crate) fn fit_buckets<'py>(
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
pub(crate) fn buckets_dict(py: Python<'_>, buckets: core::Buckets) -> PyResult<Bound<'_, PyDict>> {
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
    out.set_item("stop", buckets.stop.name())?;
    Ok(out)
}

/// Rows and positive rows of every (column, value) of code columns, added chunk by chunk: the
/// statistics of submodular compression for data streamed from files.
#[pyclass(module = "chromatic_learning._core")]
pub(crate) struct ValueCounts {
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
    #[pyo3(signature = (other, *, n_jobs=None))]
    fn merge(
        &mut self,
        py: Python<'_>,
        other: PyRef<'_, ValueCounts>,
        n_jobs: Option<i64>,
    ) -> PyResult<()> {
        let (stats, other) = (&mut self.stats, &other.stats);
        run_detached(py, n_jobs_arg(n_jobs)?, |_| stats.merge(other))
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
pub(crate) fn assign_buckets<'py>(
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
pub(crate) fn transform_buckets<'py>(
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

pub(crate) fn rate_buckets(
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
