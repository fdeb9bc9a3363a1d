//! Raw table columns in: the value vocabulary (values -> feature ids) and rows of feature ids.

use chromatic_core as core;
use chromatic_core::table::{
    BooleanColumn, ColumnValues, IdRows, IntegerColumn, StringColumn, TableColumn, ValueColumn,
};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::codes::{HashedArrays, hashed_arrays};
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
#[pyclass(module = "chromatic_learning._core")]
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

/// One column of a table as Python hands it over: ``(position, kind, values, valid, lists)``,
/// where ``kind`` is ``"strings"`` (``values`` the pair of Arrow offsets and data),
/// ``"integers"`` or ``"booleans"`` (``values`` one array), ``valid`` a bool array or None, and
/// ``lists`` the int64 list offsets of a list column or None.
type ColumnTuple<'py> = (
    i64,
    String,
    Bound<'py, PyAny>,
    Option<PyReadonlyArray1<'py, bool>>,
    Option<PyReadonlyArray1<'py, i64>>,
);

/// The arrays of one column's values.
enum ColumnArrays<'py> {
    Strings(IndexArray<'py>, PyReadonlyArray1<'py, u8>),
    Integers(PyReadonlyArray1<'py, i64>),
    Booleans(PyReadonlyArray1<'py, bool>),
}

/// A column's arrays, held while the engine borrows them.
struct ColumnArg<'py> {
    position: u32,
    arrays: ColumnArrays<'py>,
    valid: Option<PyReadonlyArray1<'py, bool>>,
    lists: Option<PyReadonlyArray1<'py, i64>>,
}

impl<'py> ColumnArg<'py> {
    fn new(column: ColumnTuple<'py>) -> PyResult<Self> {
        let (position, kind, values, valid, lists) = column;
        let position = column_arg(position)?;
        let arrays = match kind.as_str() {
            "strings" => {
                let (offsets, data) = values.extract()?;
                ColumnArrays::Strings(offsets, data)
            }
            "integers" => ColumnArrays::Integers(values.extract()?),
            "booleans" => ColumnArrays::Booleans(values.extract()?),
            other => {
                return Err(ChromaticError::new_err(format!(
                    "column {position}: kind must be 'strings', 'integers' or 'booleans', got \
                     {other:?}"
                )));
            }
        };
        Ok(ColumnArg {
            position,
            arrays,
            valid,
            lists,
        })
    }

    fn borrow(&self) -> PyResult<TableColumn<'_>> {
        let position = self.position;
        let valid = valid_arg(self.valid.as_ref())?;
        let values = match &self.arrays {
            ColumnArrays::Strings(IndexArray::I32(offsets), data) => ColumnValues::Strings(
                StringColumn::new(offsets.as_slice()?, data.as_slice()?, valid, position)
                    .map_err(to_py_err)?,
            ),
            ColumnArrays::Strings(IndexArray::I64(offsets), data) => ColumnValues::LargeStrings(
                StringColumn::new(offsets.as_slice()?, data.as_slice()?, valid, position)
                    .map_err(to_py_err)?,
            ),
            ColumnArrays::Integers(values) => ColumnValues::Integers(
                IntegerColumn::new(values.as_slice()?, valid, position).map_err(to_py_err)?,
            ),
            ColumnArrays::Booleans(values) => ColumnValues::Booleans(
                BooleanColumn::new(values.as_slice()?, valid, position).map_err(to_py_err)?,
            ),
        };
        let lists = self
            .lists
            .as_ref()
            .map(PyReadonlyArray1::as_slice)
            .transpose()?;
        Ok(TableColumn {
            position,
            values,
            lists,
        })
    }
}

/// The columns of a table, held and borrowed for the engine.
fn table_columns(columns: Vec<ColumnTuple<'_>>) -> PyResult<Vec<ColumnArg<'_>>> {
    columns.into_iter().map(ColumnArg::new).collect()
}

fn borrowed<'a>(held: &'a [ColumnArg<'_>]) -> PyResult<Vec<TableColumn<'a>>> {
    held.iter().map(ColumnArg::borrow).collect()
}

fn rows_arg(n_rows: i64) -> PyResult<usize> {
    usize::try_from(n_rows)
        .map_err(|_| ChromaticError::new_err(format!("n_rows must be >= 0, got {n_rows}")))
}

/// CSR rows as numpy's ``(indptr, indices)``, int64 and int32.
type RowArrays<'py> = (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<i32>>);

fn row_arrays(py: Python<'_>, rows: IdRows) -> RowArrays<'_> {
    (rows.indptr.into_pyarray(py), rows.indices.into_pyarray(py))
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

    /// Adds the new values of every column of a table of ``n_rows`` rows (column after column,
    /// as one ``fit_*`` per column would) and returns its rows as CSR feature rows, ``(indptr,
    /// indices)``: each row's ids ascending and distinct, nulls left out. ``columns`` holds
    /// ``(position, kind, values, valid, lists)`` tuples: ``kind`` is ``"strings"`` (``values``
    /// the pair of Arrow offsets and data), ``"integers"`` or ``"booleans"`` (one array);
    /// ``lists`` the int64 offsets (one per row, plus one) of a list column's rows into its
    /// values, or None. On error the vocabulary is left as it was.
    #[pyo3(signature = (n_rows, columns, *, n_jobs=None))]
    fn fit_rows<'py>(
        &mut self,
        py: Python<'py>,
        n_rows: i64,
        columns: Vec<ColumnTuple<'py>>,
        n_jobs: Option<i64>,
    ) -> PyResult<RowArrays<'py>> {
        let n_rows = rows_arg(n_rows)?;
        let held = table_columns(columns)?;
        let columns = borrowed(&held)?;
        let inner = &mut self.inner;
        let rows = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
            inner.fit_rows(n_rows, &columns, interrupt)
        })?;
        Ok(row_arrays(py, rows))
    }

    /// The rows of a table (``columns`` as ``fit_rows`` takes them) as CSR feature rows, and the
    /// number of values the vocabulary does not hold (no feature): ``(indptr, indices,
    /// n_unseen)``. Adds nothing.
    #[pyo3(signature = (n_rows, columns, *, n_jobs=None))]
    fn transform_rows<'py>(
        &self,
        py: Python<'py>,
        n_rows: i64,
        columns: Vec<ColumnTuple<'py>>,
        n_jobs: Option<i64>,
    ) -> PyResult<(Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<i32>>, u64)> {
        let n_rows = rows_arg(n_rows)?;
        let held = table_columns(columns)?;
        let columns = borrowed(&held)?;
        let inner = &self.inner;
        let (rows, unseen) = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
            inner.transform_rows(n_rows, &columns, interrupt)
        })?;
        let (indptr, indices) = row_arrays(py, rows);
        Ok((indptr, indices, unseen))
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

/// The hashing trick on the values of a table of ``n_rows`` rows (``columns`` as
/// ``ValueVocabulary.fit_rows`` takes them), with no vocabulary: each distinct (column, kind,
/// value) of a row adds 1 (or ±1 with ``alternate_sign``) to the column of ``n_columns`` its
/// bytes hash to. CSR ``(indptr, indices, values)``.
#[pyfunction]
#[pyo3(signature = (n_rows, columns, *, n_columns, alternate_sign, seed, n_jobs=None))]
pub(crate) fn hash_table_rows<'py>(
    py: Python<'py>,
    n_rows: i64,
    columns: Vec<ColumnTuple<'py>>,
    n_columns: usize,
    alternate_sign: bool,
    seed: u64,
    n_jobs: Option<i64>,
) -> PyResult<HashedArrays<'py>> {
    let n_rows = rows_arg(n_rows)?;
    let held = table_columns(columns)?;
    let columns = borrowed(&held)?;
    let rows = run_detached(py, n_jobs_arg(n_jobs)?, |interrupt| {
        core::table::hash_table_rows(n_rows, &columns, n_columns, alternate_sign, seed, interrupt)
    })?;
    Ok(hashed_arrays(py, rows))
}
