//! Engine errors as Python exceptions: `ChromaticError` (a `ValueError`) for input the engine
//! refuses, `SvmlightError` and `DelimitedError` (each a `ChromaticError`) for malformed svmlight
//! lines and delimited records, `MemoryError` for memory, `KeyboardInterrupt` for an interrupted
//! run.

use chromatic_core as core;
use pyo3::create_exception;
use pyo3::exceptions::{PyKeyboardInterrupt, PyMemoryError, PyValueError};
use pyo3::prelude::*;

create_exception!(
    chromatic_learning._core,
    ChromaticError,
    PyValueError,
    "Input the chromatic engine refuses; the message names the row, column, file or line where \
     it applies."
);

create_exception!(
    chromatic_learning._core,
    SvmlightError,
    ChromaticError,
    "A malformed svmlight line: ``path`` (the file, or None) and ``line`` (1-based) say where, and \
     the message reads ``PATH:LINE: what is wrong`` (``line LINE: ...`` without a path)."
);

create_exception!(
    chromatic_learning._core,
    DelimitedError,
    ChromaticError,
    "A malformed record of delimited text (CSV, TSV): ``path`` (the file, or None) and ``line`` \
     (1-based) say where, and the message reads ``PATH:LINE: what is wrong`` (``line LINE: ...`` \
     without a path)."
);

/// The Python exception of an engine error.
pub(crate) fn to_py_err(err: core::Error) -> PyErr {
    svmlight_err(err, None)
}

/// The Python exception of an engine error, a parse error naming the file `path`.
pub(crate) fn svmlight_err(err: core::Error, path: Option<&str>) -> PyErr {
    match err {
        core::Error::OutOfMemory { .. }
        | core::Error::MemoryLimit(_)
        | core::Error::IndexSpaceTooLarge { .. } => PyMemoryError::new_err(err.to_string()),
        core::Error::Interrupted => PyKeyboardInterrupt::new_err(err.to_string()),
        core::Error::Parse { line, message } => {
            let text = match path {
                Some(path) => format!("{path}:{line}: {message}"),
                None => format!("line {line}: {message}"),
            };
            located(SvmlightError::new_err(text), path, line)
        }
        _ => ChromaticError::new_err(err.to_string()),
    }
}

/// The Python exception of an engine error, a malformed delimited record naming the file `path`.
pub(crate) fn delimited_err(err: core::Error, path: Option<&str>) -> PyErr {
    let (core::Error::RaggedRow { line, .. }
    | core::Error::UnclosedQuote { line }
    | core::Error::NotUtf8 { line, .. }) = err
    else {
        return to_py_err(err);
    };
    let text = err.to_string();
    let text = match path {
        Some(path) => {
            // "line 4, field 2: not UTF-8" becomes "PATH:4: field 2: not UTF-8".
            let what = text[format!("line {line}").len()..].trim_start_matches([',', ':', ' ']);
            format!("{path}:{line}: {what}")
        }
        None => text,
    };
    located(DelimitedError::new_err(text), path, line)
}

/// `err` with the attributes `path` and `line` that say where its input is malformed.
fn located(err: PyErr, path: Option<&str>, line: u64) -> PyErr {
    Python::attach(|py| {
        let value = err.value(py);
        value
            .setattr("path", path)
            .and_then(|()| value.setattr("line", line))
            .map_or_else(|failed| failed, |()| err.clone_ref(py))
    })
}
