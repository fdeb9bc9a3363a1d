//! Raw tables in: categorical columns (strings, integers, booleans, lists of them) become
//! feature ids.
//!
//! [`delimited`] cuts delimited text (CSV, TSV) into string columns; [`columns`] borrows a column
//! as Arrow lays it out; the [`ValueVocabulary`] gives every distinct (column, value) its feature
//! id, exactly and in order of first appearance, and turns a whole table into the CSR rows of
//! feature ids the rest of the engine reads ([`ValueVocabulary::fit_rows`]); [`rows_from_ids`]
//! gathers such rows from columns of ids found otherwise; [`hashing`] hashes a table's values
//! straight into columns, with no vocabulary (the hashing trick's baseline).

pub mod columns;
pub mod delimited;
pub mod hashing;
pub mod rows;
pub mod vocabulary;

pub use columns::{BooleanColumn, IntegerColumn, Offset, StringColumn, ValueColumn, ValueKind};
pub use delimited::{
    ColumnBuffers, DelimitedFormat, DelimitedPlan, FieldColumn, TextColumn, complete_records,
    count_line_ends, plan_delimited, record_line, split_delimited, with_integer_columns,
};
pub use hashing::hash_table_rows;
pub use rows::{IdColumn, IdRows, rows_from_ids};
pub use vocabulary::{ColumnValues, NULL, TableColumn, UNSEEN, ValueVocabulary};
