//! Raw table columns in: the value vocabulary (values -> feature ids) and rows of feature ids.

use chromatic_core as core;
use chromatic_core::table::{BooleanColumn, IdColumn, IntegerColumn, StringColumn, ValueColumn};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::convert::IndexArray;
use crate::errors::{ChromaticError, to_py_err};
use crate::runtime::{n_jobs_arg, run_detached};

/// A column number as the engine keeps it (exported as int32, so below 2^31).
fn column_arg(column: i64) -> PyResult<u32> {
    u32::try_from(column)
        .ok()
        .filter(|&c| i32::try_from(c).is_ok())
        .ok_or_else(|| {
            ChromaticError::new_err(format!("column must be in [0, 2^31), got {column}"))
        })
}

fn valid_arg<'a>(valid: Option<&'a PyReadonlyArray1<'_, bool>>) -> PyResult<Option<&'a [bool]>> {
    valid
        .map(PyReadonlyArray1::as_slice)
        .transpose()
        .map_err(Into::into)
}

/// Every distinct (column, value) of a table's categorical columns and its feature id: dense ids
/// 0, 1, 2, ... in order of first appearance (column after column as fitted, rows in order),
/// whatever the number of threads. Values are strings or bytes (Arrow offsets and data), 64-bit
/// integers or booleans; the same value in two columns, or as two kinds, is two features. A null
/// (``valid`` False) holds no feature: its id is -1. Pickles through ``to_arrays``.
#[pyclass(module = "chromatic._core")]
pub(crate) struct ValueVocabulary {
    inner: core::ValueVocabulary,
}

/// A column's pass: a fit adds values to the vocabulary, a transform only looks them up.
enum Pass<'a> {
    Fit(&'a mut core::ValueVocabulary),
    Transform(&'a core::ValueVocabulary),
}

impl Pass<'_> {
    fn run<'py, C: ValueColumn>(
        self,
        py: Python<'py>,
        column: u32,
        values: &C,
        n_jobs: Option<i64>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let ids = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| match self {
            Pass::Fit(vocabulary) => vocabulary.fit(column, values, interrupt),
            Pass::Transform(vocabulary) => vocabulary.transform(column, values, interrupt),
        })?;
        Ok(ids.into_pyarray(py))
    }

    fn strings<'py>(
        self,
        py: Python<'py>,
        column: i64,
        offsets: IndexArray<'py>,
        data: PyReadonlyArray1<'py, u8>,
        valid: Option<PyReadonlyArray1<'py, bool>>,
        n_jobs: Option<i64>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let column = column_arg(column)?;
        let data = data.as_slice()?;
        let valid = valid_arg(valid.as_ref())?;
        match &offsets {
            IndexArray::I32(o) => {
                let values =
                    StringColumn::new(o.as_slice()?, data, valid, column).map_err(to_py_err)?;
                self.run(py, column, &values, n_jobs)
            }
            IndexArray::I64(o) => {
                let values =
                    StringColumn::new(o.as_slice()?, data, valid, column).map_err(to_py_err)?;
                self.run(py, column, &values, n_jobs)
            }
        }
    }

    fn integers<'py>(
        self,
        py: Python<'py>,
        column: i64,
        values: PyReadonlyArray1<'py, i64>,
        valid: Option<PyReadonlyArray1<'py, bool>>,
        n_jobs: Option<i64>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let column = column_arg(column)?;
        let valid = valid_arg(valid.as_ref())?;
        let values = IntegerColumn::new(values.as_slice()?, valid, column).map_err(to_py_err)?;
        self.run(py, column, &values, n_jobs)
    }

    fn booleans<'py>(
        self,
        py: Python<'py>,
        column: i64,
        values: PyReadonlyArray1<'py, bool>,
        valid: Option<PyReadonlyArray1<'py, bool>>,
        n_jobs: Option<i64>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let column = column_arg(column)?;
        let valid = valid_arg(valid.as_ref())?;
        let values = BooleanColumn::new(values.as_slice()?, valid, column).map_err(to_py_err)?;
        self.run(py, column, &values, n_jobs)
    }
}

/// The four arrays of a vocabulary as `to_arrays` returns them.
type VocabularyArrays<'py> = (
    Bound<'py, PyArray1<i32>>,
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u8>>,
);

#[pymethods]
impl ValueVocabulary {
    /// An empty vocabulary.
    #[new]
    fn new() -> Self {
        ValueVocabulary {
            inner: core::ValueVocabulary::new(),
        }
    }

    /// Number of features (distinct values fitted).
    #[getter]
    fn n_features(&self) -> usize {
        self.inner.n_features()
    }

    /// Adds the new values of a string (or binary) column, in Arrow layout: int32 or int64
    /// ``offsets`` (one per value, plus one) into uint8 ``data``, and ``valid`` (bool, one per
    /// value) or None. Returns the int64 id of every value, -1 for a null.
    #[pyo3(signature = (column, offsets, data, valid=None, *, n_jobs=None))]
    fn fit_strings<'py>(
        &mut self,
        py: Python<'py>,
        column: i64,
        offsets: IndexArray<'py>,
        data: PyReadonlyArray1<'py, u8>,
        valid: Option<PyReadonlyArray1<'py, bool>>,
        n_jobs: Option<i64>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        Pass::Fit(&mut self.inner).strings(py, column, offsets, data, valid, n_jobs)
    }

    /// Adds the new values of an int64 column. Returns the id of every value, -1 for a null.
    #[pyo3(signature = (column, values, valid=None, *, n_jobs=None))]
    fn fit_integers<'py>(
        &mut self,
        py: Python<'py>,
        column: i64,
        values: PyReadonlyArray1<'py, i64>,
        valid: Option<PyReadonlyArray1<'py, bool>>,
        n_jobs: Option<i64>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        Pass::Fit(&mut self.inner).integers(py, column, values, valid, n_jobs)
    }

    /// Adds the new values of a bool column. Returns the id of every value, -1 for a null.
    #[pyo3(signature = (column, values, valid=None, *, n_jobs=None))]
    fn fit_booleans<'py>(
        &mut self,
        py: Python<'py>,
        column: i64,
        values: PyReadonlyArray1<'py, bool>,
        valid: Option<PyReadonlyArray1<'py, bool>>,
        n_jobs: Option<i64>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        Pass::Fit(&mut self.inner).booleans(py, column, values, valid, n_jobs)
    }

    /// The id of every value of a string column (as ``fit_strings`` takes it), -1 for a null and
    /// -2 for a value the vocabulary does not hold. Adds nothing.
    #[pyo3(signature = (column, offsets, data, valid=None, *, n_jobs=None))]
    fn transform_strings<'py>(
        &self,
        py: Python<'py>,
        column: i64,
        offsets: IndexArray<'py>,
        data: PyReadonlyArray1<'py, u8>,
        valid: Option<PyReadonlyArray1<'py, bool>>,
        n_jobs: Option<i64>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        Pass::Transform(&self.inner).strings(py, column, offsets, data, valid, n_jobs)
    }

    /// The id of every value of an int64 column, -1 for a null, -2 for an unseen value.
    #[pyo3(signature = (column, values, valid=None, *, n_jobs=None))]
    fn transform_integers<'py>(
        &self,
        py: Python<'py>,
        column: i64,
        values: PyReadonlyArray1<'py, i64>,
        valid: Option<PyReadonlyArray1<'py, bool>>,
        n_jobs: Option<i64>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        Pass::Transform(&self.inner).integers(py, column, values, valid, n_jobs)
    }

    /// The id of every value of a bool column, -1 for a null, -2 for an unseen value.
    #[pyo3(signature = (column, values, valid=None, *, n_jobs=None))]
    fn transform_booleans<'py>(
        &self,
        py: Python<'py>,
        column: i64,
        values: PyReadonlyArray1<'py, bool>,
        valid: Option<PyReadonlyArray1<'py, bool>>,
        n_jobs: Option<i64>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        Pass::Transform(&self.inner).booleans(py, column, values, valid, n_jobs)
    }

    /// Keeps the features with ``keep`` (bool, one per feature), renumbered in their old order;
    /// returns the new id of every old one (int64, -1 for a dropped feature).
    fn retain<'py>(
        &mut self,
        py: Python<'py>,
        keep: PyReadonlyArray1<'py, bool>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let new_ids = self.inner.retain(keep.as_slice()?).map_err(to_py_err)?;
        Ok(new_ids.into_pyarray(py))
    }

    /// The vocabulary as arrays: ``column_of_feature`` (int32), ``kind_of_feature`` (uint8: 0
    /// string, 1 integer as 8 little-endian bytes, 2 boolean as one byte), ``value_offsets``
    /// (int64, one per feature plus one) and ``value_bytes`` (uint8).
    fn to_arrays<'py>(&self, py: Python<'py>) -> VocabularyArrays<'py> {
        let v = &self.inner;
        let columns: Vec<i32> = v.column_of_feature().iter().map(|&c| c as i32).collect();
        let offsets: Vec<i64> = v.value_offsets().iter().map(|&o| o as i64).collect();
        (
            columns.into_pyarray(py),
            v.kind_of_feature().to_vec().into_pyarray(py),
            offsets.into_pyarray(py),
            v.value_bytes().to_vec().into_pyarray(py),
        )
    }

    /// A vocabulary from the arrays ``to_arrays`` returns, checked: a ``ChromaticError`` names
    /// what does not fit.
    #[staticmethod]
    fn from_arrays(
        column_of_feature: PyReadonlyArray1<'_, i32>,
        kind_of_feature: PyReadonlyArray1<'_, u8>,
        value_offsets: PyReadonlyArray1<'_, i64>,
        value_bytes: PyReadonlyArray1<'_, u8>,
    ) -> PyResult<Self> {
        let inner = vocabulary_from_arrays(
            &column_of_feature,
            &kind_of_feature,
            &value_offsets,
            &value_bytes,
        )?;
        Ok(ValueVocabulary { inner })
    }

    /// Pickling: the arrays of ``to_arrays``.
    fn __getstate__<'py>(&self, py: Python<'py>) -> VocabularyArrays<'py> {
        self.to_arrays(py)
    }

    fn __setstate__(
        &mut self,
        state: (
            PyReadonlyArray1<'_, i32>,
            PyReadonlyArray1<'_, u8>,
            PyReadonlyArray1<'_, i64>,
            PyReadonlyArray1<'_, u8>,
        ),
    ) -> PyResult<()> {
        let (columns, kinds, offsets, bytes) = state;
        self.inner = vocabulary_from_arrays(&columns, &kinds, &offsets, &bytes)?;
        Ok(())
    }
}

fn vocabulary_from_arrays(
    column_of_feature: &PyReadonlyArray1<'_, i32>,
    kind_of_feature: &PyReadonlyArray1<'_, u8>,
    value_offsets: &PyReadonlyArray1<'_, i64>,
    value_bytes: &PyReadonlyArray1<'_, u8>,
) -> PyResult<core::ValueVocabulary> {
    let negative = |what: &str, at: usize| {
        to_py_err(core::Error::InvalidVocabulary(format!(
            "{what} holds a negative entry at {at}"
        )))
    };
    let columns = column_of_feature
        .as_slice()?
        .iter()
        .enumerate()
        .map(|(i, &c)| u32::try_from(c).map_err(|_| negative("column_of_feature", i)))
        .collect::<PyResult<Vec<u32>>>()?;
    let offsets = value_offsets
        .as_slice()?
        .iter()
        .enumerate()
        .map(|(i, &o)| u64::try_from(o).map_err(|_| negative("value_offsets", i)))
        .collect::<PyResult<Vec<u64>>>()?;
    core::ValueVocabulary::from_arrays(
        columns,
        kind_of_feature.as_slice()?.to_vec(),
        offsets,
        value_bytes.as_slice()?.to_vec(),
    )
    .map_err(to_py_err)
}

/// Gathers the feature ids of every row from ``columns`` into CSR rows: ``(indptr, indices)``,
/// int64 and int32, each row's ids ascending and distinct, negative ids left out.
/// ``list_offsets[i]`` is None when ``columns[i]`` holds one id per row, or the int64 offsets
/// (one per row, plus one) of its lists into ``columns[i]``.
#[pyfunction]
#[pyo3(signature = (n_rows, columns, list_offsets, *, n_jobs=None))]
pub(crate) fn rows_from_ids<'py>(
    py: Python<'py>,
    n_rows: i64,
    columns: Vec<PyReadonlyArray1<'py, i64>>,
    list_offsets: Vec<Option<PyReadonlyArray1<'py, i64>>>,
    n_jobs: Option<i64>,
) -> PyResult<(Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<i32>>)> {
    let n_rows = usize::try_from(n_rows)
        .map_err(|_| ChromaticError::new_err(format!("n_rows must be >= 0, got {n_rows}")))?;
    if columns.len() != list_offsets.len() {
        return Err(ChromaticError::new_err(format!(
            "list_offsets has {} entries but columns has {}: one per column (None for a column \
             of one id per row)",
            list_offsets.len(),
            columns.len()
        )));
    }
    let id_columns = columns
        .iter()
        .zip(&list_offsets)
        .map(|(ids, offsets)| {
            let ids = ids.as_slice()?;
            Ok(match offsets {
                None => IdColumn::PerRow(ids),
                Some(offsets) => IdColumn::Lists {
                    offsets: offsets.as_slice()?,
                    ids,
                },
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let rows = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
        core::rows_from_ids(n_rows, &id_columns, interrupt)
    })?;
    Ok((rows.indptr.into_pyarray(py), rows.indices.into_pyarray(py)))
}
