//! Arrays in and out: the index and value arrays numpy gives, borrowed CSR and code matrices,
//! column sizes and pair counts.

use chromatic_core as core;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::to_py_err;

/// Text as Python holds it, borrowed: bytes, or a numpy uint8 array (a view into a larger
/// buffer reads only the view).
#[derive(FromPyObject)]
pub(crate) enum Text<'py> {
    Bytes(Bound<'py, PyBytes>),
    Array(PyReadonlyArray1<'py, u8>),
}

impl Text<'_> {
    pub(crate) fn as_slice(&self) -> PyResult<&[u8]> {
        match self {
            Text::Bytes(bytes) => Ok(bytes.as_bytes()),
            Text::Array(array) => Ok(array.as_slice()?),
        }
    }
}

/// `indptr` / `indices` as numpy gives them.
#[derive(FromPyObject)]
pub(crate) enum IndexArray<'py> {
    I32(PyReadonlyArray1<'py, i32>),
    I64(PyReadonlyArray1<'py, i64>),
}

/// Stored values; anything else is converted to a boolean presence mask on the Python side.
#[derive(FromPyObject)]
pub(crate) enum ValueArray<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    F32(PyReadonlyArray1<'py, f32>),
    Bool(PyReadonlyArray1<'py, bool>),
}

/// Builds the borrowed `CsrMatrix` for the index and value types at hand and evaluates `$body`
/// with it bound to `$m`.
macro_rules! with_matrix {
    ($indptr:expr, $indices:expr, $data:expr, $n_features:expr, |$m:ident| $body:expr) => {{
        macro_rules! with_values {
            ($p:expr, $i:expr) => {
                match $data {
                    None => {
                        let $m =
                            ::chromatic_core::CsrMatrix::<_, f64>::new($p, $i, None, $n_features)
                                .map_err($crate::errors::to_py_err)?;
                        $body
                    }
                    Some($crate::convert::ValueArray::F64(d)) => {
                        let $m = ::chromatic_core::CsrMatrix::new(
                            $p,
                            $i,
                            Some(d.as_slice()?),
                            $n_features,
                        )
                        .map_err($crate::errors::to_py_err)?;
                        $body
                    }
                    Some($crate::convert::ValueArray::F32(d)) => {
                        let $m = ::chromatic_core::CsrMatrix::new(
                            $p,
                            $i,
                            Some(d.as_slice()?),
                            $n_features,
                        )
                        .map_err($crate::errors::to_py_err)?;
                        $body
                    }
                    Some($crate::convert::ValueArray::Bool(d)) => {
                        let $m = ::chromatic_core::CsrMatrix::new(
                            $p,
                            $i,
                            Some(d.as_slice()?),
                            $n_features,
                        )
                        .map_err($crate::errors::to_py_err)?;
                        $body
                    }
                }
            };
        }
        match ($indptr, $indices) {
            ($crate::convert::IndexArray::I32(p), $crate::convert::IndexArray::I32(i)) => {
                with_values!(p.as_slice()?, i.as_slice()?)
            }
            ($crate::convert::IndexArray::I64(p), $crate::convert::IndexArray::I64(i)) => {
                with_values!(p.as_slice()?, i.as_slice()?)
            }
            _ => Err(::pyo3::exceptions::PyTypeError::new_err(
                "indptr and indices must have the same dtype (int32 or int64)",
            )),
        }
    }};
}
pub(crate) use with_matrix;

pub(crate) fn code_matrix<'a>(
    codes: &'a PyReadonlyArray2<'_, i32>,
) -> PyResult<core::CodeMatrix<'a>> {
    if !codes.is_c_contiguous() {
        return Err(PyTypeError::new_err("codes must be a C-contiguous array"));
    }
    let (n_rows, n_columns) = (codes.shape()[0], codes.shape()[1]);
    core::CodeMatrix::new(codes.as_slice()?, n_rows, n_columns).map_err(to_py_err)
}

/// Per-column value sizes as `usize`.
pub(crate) fn column_sizes_arg(column_sizes: &PyReadonlyArray1<'_, i64>) -> PyResult<Vec<usize>> {
    column_sizes
        .as_slice()?
        .iter()
        .map(|&s| usize::try_from(s))
        .collect::<Result<_, _>>()
        .map_err(|_| PyValueError::new_err("column sizes must be >= 0"))
}

pub(crate) fn pair_counts_arg(
    keys: &PyReadonlyArray1<'_, u64>,
    weights: &PyReadonlyArray1<'_, u32>,
) -> PyResult<core::PairCounts> {
    core::PairCounts::new(keys.as_slice()?.to_vec(), weights.as_slice()?.to_vec())
        .map_err(to_py_err)
}

pub(crate) fn pair_counts_result(
    py: Python<'_>,
    pairs: core::PairCounts,
) -> (Bound<'_, PyArray1<u64>>, Bound<'_, PyArray1<u32>>) {
    let (keys, weights) = pairs.into_parts();
    (keys.into_pyarray(py), weights.into_pyarray(py))
}
