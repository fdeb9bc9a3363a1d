//! svmlight text: parsing lines, and formatting code rows and binary rows.

use chromatic_core as core;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::{Text, code_matrix};
use crate::errors::svmlight_err;
use crate::runtime::{n_jobs_arg, run_detached, run_detached_with};

/// Parses whole lines of svmlight text (bytes, or a uint8 array such as a view of a reused
/// buffer) whose first line is `first_line` of its file: returns `(labels, indptr, indices,
/// skipped_lines, min_index, line_ends)` with indices as written.
#[pyfunction]
#[pyo3(signature = (text, first_line, *, skip_bad_lines, n_jobs=None, path=None))]
pub(crate) fn parse_svmlight<'py>(
    py: Python<'py>,
    text: Text<'py>,
    first_line: u64,
    skip_bad_lines: bool,
    n_jobs: Option<i64>,
    path: Option<&str>,
) -> PyResult<(
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    u64,
    i64,
    u64,
)> {
    let bytes = text.as_slice()?;
    let rows = run_detached_with(
        py,
        n_jobs_arg(n_jobs)?,
        |interrupt| core::parse_rows(bytes, first_line, skip_bad_lines, interrupt),
        |err| svmlight_err(err, path),
    )?;
    Ok((
        rows.labels.into_pyarray(py),
        rows.indptr.into_pyarray(py),
        rows.indices.into_pyarray(py),
        rows.skipped_lines,
        rows.min_index,
        rows.line_ends,
    ))
}

/// Where the whole svmlight lines of `data` end (0 when none does): a line ends at `\n`,
/// `\r\n` or a lone `\r`, and a final `\r` waits for the next block.
#[pyfunction]
pub(crate) fn complete_svmlight_lines(py: Python<'_>, data: Text<'_>) -> PyResult<usize> {
    let text = data.as_slice()?;
    Ok(py.detach(|| core::complete_lines(text)))
}

/// svmlight text of code rows: `label color:code ...` (0-based colors, zero codes left out).
#[pyfunction]
#[pyo3(signature = (labels, codes, *, n_jobs=None))]
pub(crate) fn format_codes<'py>(
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

/// svmlight text of CSR rows: `label index:value ...` with integer `values`, or
/// `label index:1 ...` without them.
#[pyfunction]
#[pyo3(signature = (labels, indptr, indices, values=None, *, n_jobs=None))]
pub(crate) fn format_rows<'py>(
    py: Python<'py>,
    labels: PyReadonlyArray1<'py, f64>,
    indptr: PyReadonlyArray1<'py, i64>,
    indices: PyReadonlyArray1<'py, i64>,
    values: Option<PyReadonlyArray1<'py, i32>>,
    n_jobs: Option<i64>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (labels, indptr, indices) = (labels.as_slice()?, indptr.as_slice()?, indices.as_slice()?);
    let values = values.as_ref().map(|v| v.as_slice()).transpose()?;
    let text = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
        core::format_rows(labels, indptr, indices, values, interrupt)
    })?;
    Ok(PyBytes::new(py, &text))
}
