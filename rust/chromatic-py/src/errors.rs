//! Engine errors as Python exceptions: `ChromaticError` (a `ValueError`) for input the engine
//! refuses, `SvmlightError` (a `ChromaticError`) for malformed svmlight lines, `MemoryError` for
//! memory, `KeyboardInterrupt` for an interrupted run.

use chromatic_core as core;
use pyo3::create_exception;
use pyo3::exceptions::{PyKeyboardInterrupt, PyMemoryError, PyValueError};
use pyo3::prelude::*;

create_exception!(
    chromatic._core,
    ChromaticError,
    PyValueError,
    "Input the chromatic engine refuses; the message names the row, column, file or line where \
     it applies."
);

create_exception!(
    chromatic._core,
    SvmlightError,
    ChromaticError,
    "A malformed svmlight line: ``path`` (the file, or None) and ``line`` (1-based) say where, and \
     the message reads ``PATH:LINE: what is wrong`` (``line LINE: ...`` without a path)."
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
            let err = SvmlightError::new_err(text);
            Python::attach(|py| {
                let value = err.value(py);
                value
                    .setattr("path", path)
                    .and_then(|()| value.setattr("line", line))
                    .map_or_else(|failed| failed, |()| err.clone_ref(py))
            })
        }
        _ => ChromaticError::new_err(err.to_string()),
    }
}
