//! Delimited text (CSV, TSV): whole records cut into string columns, where the whole records of
//! a block end, and the line of a record.

use chromatic_core as core;
use chromatic_core::table::{DelimitedFormat, FieldColumn};
use numpy::PyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert::Text;
use crate::errors::{delimited_err, to_py_err};
use crate::runtime::{n_jobs_arg, run_detached_with};

/// One ASCII character as a byte.
fn byte_arg(what: &str, text: &str) -> PyResult<u8> {
    match text.as_bytes() {
        [byte] => Ok(*byte),
        _ => Err(PyValueError::new_err(format!(
            "the {what} must be one ASCII character, got {text:?}"
        ))),
    }
}

fn format_arg(delimiter: &str, quote: Option<&str>) -> PyResult<DelimitedFormat> {
    let delimiter = byte_arg("delimiter", delimiter)?;
    let quote = quote.map(|q| byte_arg("quote", q)).transpose()?;
    DelimitedFormat::new(delimiter, quote).map_err(to_py_err)
}

/// A column as it leaves the parser: the three arrays of large strings (offsets, bytes, and
/// whether each value is present), or the two of integers (values, and whether each is present).
#[derive(IntoPyObject)]
pub(crate) enum ColumnArrays<'py> {
    Text(
        (
            Bound<'py, PyArray1<i64>>,
            Bound<'py, PyArray1<u8>>,
            Bound<'py, PyArray1<bool>>,
        ),
    ),
    Integers((Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<bool>>)),
}

/// Cuts ``data``, whole records of delimited text whose first line is ``first_line`` of its
/// file, into ``n_fields`` columns (``None``: as many as the first record has fields) of
/// ``(offsets, data, valid)``, Arrow's large-string layout: quotes taken off, ``""`` read as
/// one quote, an empty unquoted field a null (``valid`` False), a quoted ``""`` an empty string.
/// A column that ``integer_columns`` lists, and whose every present value is written as an
/// optional ``-`` and decimal digits within the range of an int64, comes as ``(values, valid)``
/// instead (a null 0). A malformed record raises ``DelimitedError`` (``"PATH:LINE: ..."`` with
/// ``path``).
#[pyfunction]
#[pyo3(signature = (
    data, delimiter, quote, n_fields, first_line, n_jobs=None, *, path=None, integer_columns=None
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn split_delimited<'py>(
    py: Python<'py>,
    data: Text<'py>,
    delimiter: &str,
    quote: Option<&str>,
    n_fields: Option<usize>,
    first_line: u64,
    n_jobs: Option<i64>,
    path: Option<&str>,
    integer_columns: Option<Vec<usize>>,
) -> PyResult<Vec<ColumnArrays<'py>>> {
    let format = format_arg(delimiter, quote)?;
    let text = data.as_slice()?;
    let n_jobs = n_jobs_arg(n_jobs)?;
    let integer_columns = integer_columns.unwrap_or_default();
    // The columns come from the engine's allocator, which hands the memory the columns of the
    // chunk before freed straight back; numpy's arrays come from the system allocator, which
    // returns them to the kernel and faults in fresh zeroed pages every chunk.
    let columns = run_detached_with(
        py,
        n_jobs,
        |interrupt| {
            let columns =
                core::table::split_delimited(text, format, n_fields, first_line, interrupt)?;
            core::table::with_integer_columns(columns, &integer_columns, interrupt)
        },
        |err| delimited_err(err, path),
    )?;
    Ok(columns
        .into_iter()
        .map(|column| match column {
            FieldColumn::Text(column) => ColumnArrays::Text((
                PyArray1::from_vec(py, column.offsets),
                PyArray1::from_vec(py, column.data),
                PyArray1::from_vec(py, column.valid),
            )),
            FieldColumn::Integers { values, valid } => ColumnArrays::Integers((
                PyArray1::from_vec(py, values),
                PyArray1::from_vec(py, valid),
            )),
        })
        .collect())
}

/// Where the last complete record of ``data`` ends, line end included (0 when none does): the
/// rest may be a record that the next block of the file completes. A line end inside quotes
/// ends no record.
#[pyfunction]
#[pyo3(signature = (data, delimiter, quote))]
pub(crate) fn complete_records(
    py: Python<'_>,
    data: Text<'_>,
    delimiter: &str,
    quote: Option<&str>,
) -> PyResult<usize> {
    let format = format_arg(delimiter, quote)?;
    let text = data.as_slice()?;
    Ok(py.detach(|| core::table::complete_records(text, format)))
}

/// The line (counted from ``first_line``) where record ``row`` (0-based, empty lines not
/// counted) of ``data`` starts, ``None`` when there are fewer records.
#[pyfunction]
#[pyo3(signature = (data, delimiter, quote, first_line, row, *, path=None))]
pub(crate) fn record_line(
    py: Python<'_>,
    data: Text<'_>,
    delimiter: &str,
    quote: Option<&str>,
    first_line: u64,
    row: usize,
    path: Option<&str>,
) -> PyResult<Option<u64>> {
    let format = format_arg(delimiter, quote)?;
    let text = data.as_slice()?;
    py.detach(|| core::table::record_line(text, format, first_line, row))
        .map_err(|err| delimited_err(err, path))
}

/// Line ends (``\n``) in ``data``, those inside quoted fields included: how many lines the next
/// block starts after.
#[pyfunction]
pub(crate) fn count_line_ends(py: Python<'_>, data: Text<'_>) -> PyResult<u64> {
    let text = data.as_slice()?;
    Ok(py.detach(|| core::table::count_line_ends(text)))
}
