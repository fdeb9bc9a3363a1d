//! Every way the engine can refuse its input, each naming where the problem is.

/// Errors reported by the engine. Each message names the offending row, column or table entry so
/// that a caller can point the user at it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The row pointers are empty.
    #[error("indptr is empty: a CSR matrix needs n_rows + 1 row pointers")]
    EmptyIndptr,
    /// The row pointers do not start at 0.
    #[error("indptr[0] is {first}: the first row pointer must be 0")]
    IndptrStart {
        /// The first row pointer.
        first: i64,
    },
    /// The last row pointer is not the number of stored entries.
    #[error("indptr[-1] is {last} but indices has {nnz} entries")]
    IndptrEnd {
        /// The last row pointer.
        last: i64,
        /// Stored entries.
        nnz: usize,
    },
    /// A row ends before it starts.
    #[error("indptr is not monotone: row {row} starts at {start} and ends at {end}")]
    IndptrDecreasing {
        /// The row (0-based).
        row: usize,
        /// Where the row starts.
        start: i64,
        /// Where the row ends.
        end: i64,
    },
    /// Two arrays that go together differ in length.
    #[error("{what} has {len} entries but {expected_from} has {expected}")]
    LengthMismatch {
        /// What is wrong.
        what: &'static str,
        /// Its length.
        len: usize,
        /// What sets the expected length.
        expected_from: &'static str,
        /// The expected length.
        expected: usize,
    },
    /// A column index outside the features.
    #[error("row {row} holds column index {index}, outside [0, {n_features})")]
    IndexOutOfRange {
        /// The row (0-based).
        row: usize,
        /// The column index.
        index: i64,
        /// Number of features.
        n_features: usize,
    },
    /// A stored value is NaN or infinite.
    #[error("row {row}, column {column} holds {value}: stored values must be finite")]
    NonFinite {
        /// The row (0-based).
        row: usize,
        /// The column (0-based).
        column: usize,
        /// The value.
        value: f64,
    },
    /// More features than the engine handles.
    #[error(
        "{n_features} features (the largest index plus one) exceed the engine's limit of \
         {limit}; re-index the features seen to 0, 1, 2, ..."
    )]
    TooManyFeatures {
        /// Number of features.
        n_features: usize,
        /// The engine's limit.
        limit: usize,
    },
    /// More rows than the engine counts in one fit.
    #[error("{n_rows} rows exceed the engine's limit of {limit} rows per fit")]
    TooManyRows {
        /// Number of rows.
        n_rows: u64,
        /// The engine's limit.
        limit: u64,
    },
    /// A code beyond the size of its color.
    #[error("row {row}, color {color} holds code {code}, outside [0, {size}]")]
    CodeOutOfRange {
        /// The row (0-based).
        row: usize,
        /// The color (0-based).
        color: usize,
        /// The code.
        code: i64,
        /// The largest code of the color.
        size: usize,
    },
    /// A negative code.
    #[error("row {row}, column {column} holds code {code}: codes must be >= 0")]
    NegativeCode {
        /// The row (0-based).
        row: usize,
        /// The column (0-based).
        column: usize,
        /// The code.
        code: i64,
    },
    /// Fitted tables that do not fit together.
    #[error("invalid encoder tables: {0}")]
    InvalidModel(String),
    /// A parameter, or a call, the engine refuses.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// A malformed line of text input.
    #[error("line {line}: {message}")]
    Parse {
        /// The line (1-based, in the whole file).
        line: u64,
        /// What is wrong with the line.
        message: String,
    },
    /// A record of delimited text whose number of fields is not that of the header.
    #[error("line {line}: {fields} fields, but the header has {expected}")]
    RaggedRow {
        /// The line where the record starts (1-based, in the whole file).
        line: u64,
        /// Fields of the record.
        fields: usize,
        /// Fields of every record.
        expected: usize,
    },
    /// A quoted field of delimited text whose closing quote never comes.
    #[error("line {line}: a quote opened here is never closed")]
    UnclosedQuote {
        /// The line where the quote opens (1-based, in the whole file).
        line: u64,
    },
    /// A field of delimited text whose bytes are not UTF-8.
    #[error("line {line}, field {field}: not UTF-8")]
    NotUtf8 {
        /// The line where the field starts (1-based, in the whole file).
        line: u64,
        /// The field (1-based, in its record).
        field: usize,
    },
    /// A memory limit too small for the work.
    #[error("memory limit: {0}")]
    MemoryLimit(String),
    /// An allocation failed.
    #[error("cannot allocate {bytes} bytes for {what}")]
    OutOfMemory {
        /// What is wrong.
        what: &'static str,
        /// Bytes asked for.
        bytes: usize,
    },
    /// An index space whose per-column tables would not fit in memory.
    #[error(
        "the largest feature index asks for {n_features} columns, whose per-column tables need \
         at least {} (one entry per column index, seen or not), more than the {} of memory \
         available; re-index the features seen to 0, 1, 2, ...",
        crate::memory::gigabytes(*needed),
        crate::memory::gigabytes(*available)
    )]
    IndexSpaceTooLarge {
        /// Columns (the largest index plus one).
        n_features: usize,
        /// Bytes the per-column tables need.
        needed: u64,
        /// Bytes available.
        available: u64,
    },
    /// Integers outside `[0, 2^32)` where counts or ids are expected.
    #[error("{what} must be in [0, 2^32)")]
    OutOfBounds {
        /// What is wrong.
        what: &'static str,
    },
    /// A step of a pass-by-pass build called out of its order.
    #[error("{0}")]
    OutOfOrder(&'static str),
    /// An array of a table column whose length does not fit the column's other arrays or rows.
    #[error("column {column}: {what} has {len} entries, expected {expected} ({why})")]
    ColumnLength {
        /// The column (as the caller numbers it).
        column: usize,
        /// The array.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The length it needs.
        expected: usize,
        /// What sets that length.
        why: &'static str,
    },
    /// Offsets of a table column (into its value bytes or its list elements) that decrease or
    /// point outside what they index.
    #[error(
        "column {column}, row {row}: {what} run from {start} to {end}, which decreases or leaves \
         [0, {len}]"
    )]
    ColumnOffsets {
        /// The column (as the caller numbers it).
        column: usize,
        /// The row (0-based).
        row: usize,
        /// Which offsets.
        what: &'static str,
        /// Where the row starts.
        start: i64,
        /// Where the row ends.
        end: i64,
        /// Entries the offsets index.
        len: usize,
    },
    /// A feature id beyond what an int32 column index holds.
    #[error("column {column}, row {row}: feature id {id} exceeds the largest int32 index")]
    FeatureIdOutOfRange {
        /// The column (0-based, in the order given).
        column: usize,
        /// The row (0-based).
        row: usize,
        /// The id.
        id: i64,
    },
    /// Arrays that do not make a value vocabulary.
    #[error("invalid value vocabulary: {0}")]
    InvalidVocabulary(String),
    /// The caller asked the engine to stop.
    #[error("interrupted")]
    Interrupted,
}

/// The result of every fallible engine call.
pub type Result<T> = std::result::Result<T, Error>;
