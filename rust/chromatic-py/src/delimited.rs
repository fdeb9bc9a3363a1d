//! Delimited text (CSV, TSV): whole records cut into string columns, where the whole records of
//! a block end, and the line of a record.

use chromatic_core as core;
use chromatic_core::table::{ColumnBuffers, DelimitedFormat};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PySlice};

use crate::errors::{delimited_err, to_py_err};
use crate::runtime::{n_jobs_arg, run_detached, run_detached_with};

/// Text as Python holds it, borrowed: bytes, or a numpy uint8 array (a view into a larger
/// buffer reads only the view).
#[derive(FromPyObject)]
pub(crate) enum Text<'py> {
    Bytes(Bound<'py, PyBytes>),
    Array(PyReadonlyArray1<'py, u8>),
}

impl Text<'_> {
    fn as_slice(&self) -> PyResult<&[u8]> {
        match self {
            Text::Bytes(bytes) => Ok(bytes.as_bytes()),
            Text::Array(array) => Ok(array.as_slice()?),
        }
    }
}

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

/// The three arrays of a column of large strings: offsets, bytes, and whether each value is
/// present.
type ColumnArrays<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray1<bool>>,
);

/// Cuts ``data``, whole records of delimited text whose first line is ``first_line`` of its
/// file, into ``n_fields`` columns (``None``: as many as the first record has fields) of
/// ``(offsets, data, valid)``, Arrow's large-string layout: quotes taken off, ``""`` read as
/// one quote, an empty unquoted field a null (``valid`` False), a quoted ``""`` an empty string.
/// A malformed record raises ``DelimitedError`` (``"PATH:LINE: ..."`` with ``path``).
///
/// The arrays are views into three numpy arrays (every column's offsets, bytes, validity),
/// which numpy allocates in huge pages where the system offers them: the engine checks and
/// measures the records, then writes them straight into those arrays.
#[pyfunction]
#[pyo3(signature = (data, delimiter, quote, n_fields, first_line, n_jobs=None, *, path=None))]
pub(crate) fn split_delimited<'py>(
    py: Python<'py>,
    data: Text<'py>,
    delimiter: &str,
    quote: Option<&str>,
    n_fields: Option<usize>,
    first_line: u64,
    n_jobs: Option<i64>,
    path: Option<&str>,
) -> PyResult<Vec<ColumnArrays<'py>>> {
    let format = format_arg(delimiter, quote)?;
    let text = data.as_slice()?;
    let n_jobs = n_jobs_arg(n_jobs)?;
    let plan = run_detached_with(
        py,
        n_jobs,
        |interrupt| core::table::plan_delimited(text, format, n_fields, first_line, interrupt),
        |err| delimited_err(err, path),
    )?;
    let (n, rows) = (plan.n_fields(), plan.n_rows());
    let bytes: Vec<usize> = (0..n).map(|c| plan.column_bytes(c)).collect();
    let offsets = PyArray1::<i64>::zeros(py, n * (rows + 1), false);
    let values = PyArray1::<u8>::zeros(py, bytes.iter().sum::<usize>(), false);
    let valid = PyArray1::<bool>::zeros(py, n * rows, false);
    {
        let (mut offsets, mut values, mut valid) =
            (offsets.readwrite(), values.readwrite(), valid.readwrite());
        let offsets = split_mut(offsets.as_slice_mut()?, vec![rows + 1; n]);
        let values = split_mut(values.as_slice_mut()?, bytes.iter().copied());
        let valid = split_mut(valid.as_slice_mut()?, vec![rows; n]);
        let mut columns: Vec<ColumnBuffers<'_>> = offsets
            .into_iter()
            .zip(values)
            .zip(valid)
            .map(|((offsets, data), valid)| ColumnBuffers {
                offsets,
                data,
                valid,
            })
            .collect();
        run_detached(py, n_jobs, |interrupt| {
            plan.write(text, &mut columns, interrupt)
        })?;
    }
    // Each column a view of its part of the three arrays.
    let view = |array: &Bound<'py, PyAny>, start: usize, len: usize| {
        array.get_item(PySlice::new(py, start as isize, (start + len) as isize, 1))
    };
    let (offsets, values, valid) = (offsets.into_any(), values.into_any(), valid.into_any());
    let mut at = 0;
    (0..n)
        .map(|c| {
            let column = (
                view(&offsets, c * (rows + 1), rows + 1)?.cast_into()?,
                view(&values, at, bytes[c])?.cast_into()?,
                view(&valid, c * rows, rows)?.cast_into()?,
            );
            at += bytes[c];
            Ok(column)
        })
        .collect()
}

/// Splits `buffer` into consecutive pieces of the given lengths.
fn split_mut<T>(mut buffer: &mut [T], lengths: impl IntoIterator<Item = usize>) -> Vec<&mut [T]> {
    let mut pieces = Vec::new();
    for len in lengths {
        let (head, tail) = std::mem::take(&mut buffer).split_at_mut(len);
        pieces.push(head);
        buffer = tail;
    }
    pieces
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
