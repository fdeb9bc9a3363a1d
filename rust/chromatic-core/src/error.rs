//! Every way the engine can refuse its input, each naming where the problem is.

/// Errors reported by the engine. Each message names the offending row, column or table entry so
/// that a caller can point the user at it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("indptr is empty: a CSR matrix needs n_rows + 1 row pointers")]
    EmptyIndptr,
    #[error("indptr[0] is {first}: the first row pointer must be 0")]
    IndptrStart { first: i64 },
    #[error("indptr[-1] is {last} but indices has {nnz} entries")]
    IndptrEnd { last: i64, nnz: usize },
    #[error("indptr is not monotone: row {row} starts at {start} and ends at {end}")]
    IndptrDecreasing { row: usize, start: i64, end: i64 },
    #[error("{what} has {len} entries but {expected_from} has {expected}")]
    LengthMismatch {
        what: &'static str,
        len: usize,
        expected_from: &'static str,
        expected: usize,
    },
    #[error("row {row} holds column index {index}, outside [0, {n_features})")]
    IndexOutOfRange {
        row: usize,
        index: i64,
        n_features: usize,
    },
    #[error("row {row}, column {column} holds {value}: stored values must be finite")]
    NonFinite {
        row: usize,
        column: usize,
        value: f64,
    },
    #[error("{n_features} features exceed the engine's limit of {limit}")]
    TooManyFeatures { n_features: usize, limit: usize },
    #[error("{n_rows} rows exceed the engine's limit of {limit} rows per fit")]
    TooManyRows { n_rows: u64, limit: u64 },
    #[error("row {row}, color {color} holds code {code}, outside [0, {size}]")]
    CodeOutOfRange {
        row: usize,
        color: usize,
        code: i64,
        size: usize,
    },
    #[error("row {row}, column {column} holds code {code}: codes must be >= 0")]
    NegativeCode {
        row: usize,
        column: usize,
        code: i64,
    },
    #[error("invalid encoder tables: {0}")]
    InvalidModel(String),
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    #[error("line {line}: {message}")]
    Parse { line: u64, message: String },
    #[error("memory limit: {0}")]
    MemoryLimit(String),
    #[error("cannot allocate {bytes} bytes for {what}")]
    OutOfMemory { what: &'static str, bytes: usize },
    #[error("{what} must be in [0, 2^32)")]
    OutOfBounds { what: &'static str },
    #[error("{0}")]
    OutOfOrder(&'static str),
    #[error("interrupted")]
    Interrupted,
}

pub type Result<T> = std::result::Result<T, Error>;
