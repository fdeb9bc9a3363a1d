//! Columns of whole numbers read from their text in the engine, where the column's type is
//! known: no column of strings for them leaves the engine, and no cast is needed outside it.
//!
//! The engine reads the plain form only, an optional `-` and decimal digits, within the range
//! of an `i64`. A column holding any other value (`+5`, `0x1F`, a value out of range) is left
//! as text, for its reader to decide what that value means or to name it.

use rayon::prelude::*;

use super::TextColumn;
use crate::error::Result;
use crate::interrupt::Interrupt;
use crate::parallel::filled;

/// Values read at a time by one task.
const BLOCK_VALUES: usize = 1 << 14;

/// A column of a delimited text as it leaves the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldColumn {
    /// Its values as text (Arrow's large strings).
    Text(TextColumn),
    /// Its values as 64-bit integers (0 where a value is missing), and whether each is present.
    Integers {
        /// The values.
        values: Vec<i64>,
        /// Whether each value is present (false: a null).
        valid: Vec<bool>,
    },
}

/// The value of `text` written as an optional `-` and decimal digits, within the range of an
/// `i64`; `None` for any other text.
#[inline]
pub fn parse_integer(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    // The magnitude, up to 2^63 (the magnitude of `i64::MIN`).
    let mut magnitude = 0u64;
    for &byte in digits {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        magnitude = magnitude.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// The values of `column` as integers ([`parse_integer`]), a missing value 0; `None` when a
/// present value is not one. In parallel over blocks of values.
pub fn integers_of(column: &TextColumn, interrupt: Interrupt<'_>) -> Result<Option<Vec<i64>>> {
    let mut values = filled(column.len(), 0i64, "integer column")?;
    let read: Result<bool> = values
        .par_chunks_mut(BLOCK_VALUES)
        .enumerate()
        .try_fold(
            || true,
            |all_read, (block, out)| {
                interrupt.check()?;
                if !all_read {
                    return Ok(false);
                }
                let first = block * BLOCK_VALUES;
                for (k, value) in out.iter_mut().enumerate() {
                    let row = first + k;
                    if column.valid[row] {
                        let text = &column.data
                            [column.offsets[row] as usize..column.offsets[row + 1] as usize];
                        match parse_integer(text) {
                            Some(parsed) => *value = parsed,
                            None => return Ok(false),
                        }
                    }
                }
                Ok(true)
            },
        )
        .try_reduce(|| true, |a, b| Ok(a && b));
    Ok(read?.then_some(values))
}

/// `columns` with those whose indices `integer_columns` lists read as integers where every
/// value reads as one ([`integers_of`]); the others, and those where a value does not, as text.
/// The columns are read in parallel; each one's text is freed once it is read.
pub fn with_integer_columns(
    columns: Vec<TextColumn>,
    integer_columns: &[usize],
    interrupt: Interrupt<'_>,
) -> Result<Vec<FieldColumn>> {
    columns
        .into_par_iter()
        .enumerate()
        .map(|(c, column)| {
            if !integer_columns.contains(&c) {
                return Ok(FieldColumn::Text(column));
            }
            Ok(match integers_of(&column, interrupt)? {
                Some(values) => FieldColumn::Integers {
                    values,
                    valid: column.valid,
                },
                None => FieldColumn::Text(column),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{DelimitedFormat, split_delimited};

    #[test]
    fn parses_the_plain_form_within_range() {
        for (text, expected) in [
            ("0", Some(0)),
            ("-0", Some(0)),
            ("007", Some(7)),
            ("42", Some(42)),
            ("-42", Some(-42)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("00000000000000000000000000001", Some(1)),
            ("9223372036854775808", None),
            ("-9223372036854775809", None),
            ("99999999999999999999", None),
            ("", None),
            ("-", None),
            ("+5", None),
            (" 5", None),
            ("5 ", None),
            ("0x10", None),
            ("1e3", None),
            ("1.0", None),
            ("1_000", None),
            ("٣", None),
        ] {
            assert_eq!(parse_integer(text.as_bytes()), expected, "{text:?}");
        }
    }

    fn split(text: &[u8], integer_columns: &[usize]) -> Vec<FieldColumn> {
        let format = DelimitedFormat::new(b',', Some(b'"')).unwrap();
        let columns = split_delimited(text, format, None, 1, Interrupt::never()).unwrap();
        with_integer_columns(columns, integer_columns, Interrupt::never()).unwrap()
    }

    #[test]
    fn reads_the_listed_columns_that_hold_integers() {
        let columns = split(b"1,x,-3\n,y,4\n22,,\n", &[0, 1, 2]);
        assert_eq!(
            columns[0],
            FieldColumn::Integers {
                values: vec![1, 0, 22],
                valid: vec![true, false, true]
            }
        );
        assert!(matches!(&columns[1], FieldColumn::Text(text) if text.data == b"xy"));
        assert_eq!(
            columns[2],
            FieldColumn::Integers {
                values: vec![-3, 4, 0],
                valid: vec![true, true, false]
            }
        );
        let unlisted = split(b"1,2\n", &[1]);
        assert!(matches!(unlisted[0], FieldColumn::Text(_)));
    }

    #[test]
    fn a_value_other_than_an_integer_leaves_its_column_as_text() {
        // One value far from the first, in a later block than the first values.
        let mut text = Vec::new();
        for row in 0..(3 * BLOCK_VALUES) {
            let value = if row == 2 * BLOCK_VALUES + 5 {
                "+7"
            } else {
                "7"
            };
            text.extend_from_slice(format!("{value},{row}\n").as_bytes());
        }
        let columns = split(&text, &[0, 1]);
        assert!(matches!(&columns[0], FieldColumn::Text(t) if t.len() == 3 * BLOCK_VALUES));
        let FieldColumn::Integers { values, .. } = &columns[1] else {
            panic!("the row numbers are integers");
        };
        assert_eq!(values[2 * BLOCK_VALUES + 5], (2 * BLOCK_VALUES + 5) as i64);
        // A quoted empty string is a present value that is no integer.
        let quoted = split(b"\"\",1\n", &[0]);
        assert!(matches!(quoted[0], FieldColumn::Text(_)));
    }
}
