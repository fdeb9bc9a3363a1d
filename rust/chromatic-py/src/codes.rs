//! Rows to codes and back, and the hashing-trick baseline.

use chromatic_core as core;
use numpy::{
    IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyReadwriteArray2,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::convert::{IndexArray, ValueArray, with_matrix};
use crate::errors::to_py_err;
use crate::runtime::{n_jobs_arg, run_detached};

/// Encodes a CSR matrix into `out`, a zero-filled C-contiguous `(n_rows, n_colors)` int32
/// array; returns the number of collisions and of unseen features. The caller allocates `out`
/// (numpy backs large arrays with huge pages, which makes first writes cheap, and reports a
/// failed allocation as `MemoryError`).
#[pyfunction]
#[pyo3(signature = (indptr, indices, data, n_features, feature_color, feature_code, out, *,
                    collision, n_jobs=None))]
pub(crate) fn encode<'py>(
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
pub(crate) fn decode<'py>(
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

/// The hashing trick on the present features of a CSR matrix: CSR `(indptr, indices, values)`
/// over `n_columns` columns.
#[pyfunction]
#[pyo3(signature = (indptr, indices, data, n_features, *, n_columns, alternate_sign, seed,
                    n_jobs=None))]
pub(crate) fn hash_rows<'py>(
    py: Python<'py>,
    indptr: IndexArray<'py>,
    indices: IndexArray<'py>,
    data: Option<ValueArray<'py>>,
    n_features: usize,
    n_columns: usize,
    alternate_sign: bool,
    seed: u64,
    n_jobs: Option<i64>,
) -> PyResult<HashedArrays<'py>> {
    let n_jobs = n_jobs_arg(n_jobs)?;
    let rows = with_matrix!(&indptr, &indices, &data, n_features, |m| {
        run_detached(py, n_jobs, |interrupt| {
            core::hash_rows(&m, n_columns, alternate_sign, seed, interrupt)
        })
    })?;
    Ok(hashed_arrays(py, rows))
}

/// Hashed rows as Python gets them: CSR `(indptr, indices, values)`.
pub(crate) type HashedArrays<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
);

/// The arrays of hashed rows, handed to numpy without a copy.
pub(crate) fn hashed_arrays(py: Python<'_>, rows: core::HashedRows) -> HashedArrays<'_> {
    (
        rows.indptr.into_pyarray(py),
        rows.indices.into_pyarray(py),
        rows.values.into_pyarray(py),
    )
}
