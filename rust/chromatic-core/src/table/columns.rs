//! Columns of raw values as Arrow lays them out, borrowed: strings (offsets into one byte
//! buffer), integers and booleans, each with an optional validity mask (a null holds no value).

use crate::error::{Error, Result};

/// What a value is: its bytes are compared only with values of the same kind and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ValueKind {
    /// A string or binary value: its bytes as stored.
    String = 0,
    /// A 64-bit integer: its 8 little-endian bytes.
    Integer = 1,
    /// A boolean: one byte, 0 or 1.
    Boolean = 2,
}

impl ValueKind {
    /// The kind's code in exported arrays (0 string, 1 integer, 2 boolean).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The kind of an exported code, `None` for a code no kind has.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(ValueKind::String),
            1 => Some(ValueKind::Integer),
            2 => Some(ValueKind::Boolean),
            _ => None,
        }
    }

    /// The byte length every value of the kind has (`None`: any).
    pub(crate) fn fixed_len(self) -> Option<usize> {
        match self {
            ValueKind::String => None,
            ValueKind::Integer => Some(8),
            ValueKind::Boolean => Some(1),
        }
    }
}

/// A column of values the vocabulary reads row by row. Rows are checked one at a time (so that
/// the check runs in the same parallel pass as the lookups); a checked row's bytes are then read
/// without further checks.
pub trait ValueColumn: Sync {
    /// The kind of every value.
    const KIND: ValueKind;

    /// Number of rows.
    fn len(&self) -> usize;

    /// Whether the column has no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks the row (offsets in range and monotone) and says whether it holds a value (`false`
    /// for a null). `column` names the column in errors.
    fn check(&self, row: usize, column: u32) -> Result<bool>;

    /// The bytes of a row that `check` accepted: borrowed from the column, or written to
    /// `scratch` when the column does not store them as such.
    fn bytes<'s>(&'s self, row: usize, scratch: &'s mut [u8; 8]) -> &'s [u8];
}

/// Offsets of a string column: Arrow's `int32` (string, binary) or `int64` (large string).
pub trait Offset: Copy + Send + Sync {
    /// The offset as an `i64` (exact).
    fn to_i64(self) -> i64;
}

impl Offset for i32 {
    #[inline]
    fn to_i64(self) -> i64 {
        i64::from(self)
    }
}

impl Offset for i64 {
    #[inline]
    fn to_i64(self) -> i64 {
        self
    }
}

fn check_valid(valid: Option<&[bool]>, n: usize, column: u32, why: &'static str) -> Result<()> {
    match valid {
        Some(v) if v.len() != n => Err(Error::ColumnLength {
            column: column as usize,
            what: "valid",
            len: v.len(),
            expected: n,
            why,
        }),
        _ => Ok(()),
    }
}

#[inline]
fn is_valid(valid: Option<&[bool]>, row: usize) -> bool {
    valid.is_none_or(|v| v[row])
}

/// Strings (or binary values) as Arrow stores them: row `i` holds `data[offsets[i]..offsets[i +
/// 1]]`. The offsets need not start at 0 (a sliced Arrow array keeps its parent's buffer).
#[derive(Clone, Copy, Debug)]
pub struct StringColumn<'a, O: Offset> {
    offsets: &'a [O],
    data: &'a [u8],
    valid: Option<&'a [bool]>,
}

impl<'a, O: Offset> StringColumn<'a, O> {
    /// Borrows the arrays after checking their lengths (`offsets`: one more than the rows;
    /// `valid`, when given: one per row). `column` names the column in errors; the offsets
    /// themselves are checked row by row as the column is read.
    pub fn new(
        offsets: &'a [O],
        data: &'a [u8],
        valid: Option<&'a [bool]>,
        column: u32,
    ) -> Result<Self> {
        if offsets.is_empty() {
            return Err(Error::ColumnLength {
                column: column as usize,
                what: "offsets",
                len: 0,
                expected: valid.map_or(1, |v| v.len() + 1),
                why: "one per value, plus one",
            });
        }
        check_valid(
            valid,
            offsets.len() - 1,
            column,
            "one per value: offsets minus one",
        )?;
        Ok(StringColumn {
            offsets,
            data,
            valid,
        })
    }
}

impl<O: Offset> ValueColumn for StringColumn<'_, O> {
    const KIND: ValueKind = ValueKind::String;

    #[inline]
    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    #[inline]
    fn check(&self, row: usize, column: u32) -> Result<bool> {
        let start = self.offsets[row].to_i64();
        let end = self.offsets[row + 1].to_i64();
        if start < 0 || start > end || end as u64 > self.data.len() as u64 {
            return Err(Error::ColumnOffsets {
                column: column as usize,
                row,
                what: "value offsets",
                start,
                end,
                len: self.data.len(),
            });
        }
        Ok(is_valid(self.valid, row))
    }

    #[inline]
    fn bytes<'s>(&'s self, row: usize, _scratch: &'s mut [u8; 8]) -> &'s [u8] {
        let start = self.offsets[row].to_i64() as usize;
        let end = self.offsets[row + 1].to_i64() as usize;
        &self.data[start..end]
    }
}

/// 64-bit integers (ids, codes, small counts), each keyed by its 8 little-endian bytes.
#[derive(Clone, Copy, Debug)]
pub struct IntegerColumn<'a> {
    values: &'a [i64],
    valid: Option<&'a [bool]>,
}

impl<'a> IntegerColumn<'a> {
    /// Borrows the values and their validity (one per value when given).
    pub fn new(values: &'a [i64], valid: Option<&'a [bool]>, column: u32) -> Result<Self> {
        check_valid(valid, values.len(), column, "one per value")?;
        Ok(IntegerColumn { values, valid })
    }
}

impl ValueColumn for IntegerColumn<'_> {
    const KIND: ValueKind = ValueKind::Integer;

    #[inline]
    fn len(&self) -> usize {
        self.values.len()
    }

    #[inline]
    fn check(&self, row: usize, _column: u32) -> Result<bool> {
        Ok(is_valid(self.valid, row))
    }

    #[inline]
    fn bytes<'s>(&'s self, row: usize, scratch: &'s mut [u8; 8]) -> &'s [u8] {
        *scratch = self.values[row].to_le_bytes();
        scratch
    }
}

/// Booleans, each keyed by one byte (0 or 1).
#[derive(Clone, Copy, Debug)]
pub struct BooleanColumn<'a> {
    values: &'a [bool],
    valid: Option<&'a [bool]>,
}

impl<'a> BooleanColumn<'a> {
    /// Borrows the values and their validity (one per value when given).
    pub fn new(values: &'a [bool], valid: Option<&'a [bool]>, column: u32) -> Result<Self> {
        check_valid(valid, values.len(), column, "one per value")?;
        Ok(BooleanColumn { values, valid })
    }
}

impl ValueColumn for BooleanColumn<'_> {
    const KIND: ValueKind = ValueKind::Boolean;

    #[inline]
    fn len(&self) -> usize {
        self.values.len()
    }

    #[inline]
    fn check(&self, row: usize, _column: u32) -> Result<bool> {
        Ok(is_valid(self.valid, row))
    }

    #[inline]
    fn bytes<'s>(&'s self, row: usize, scratch: &'s mut [u8; 8]) -> &'s [u8] {
        scratch[0] = u8::from(self.values[row]);
        &scratch[..1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_rows_are_checked_and_read() {
        let offsets = [2i32, 3, 3, 6];
        let data = b"xxabcd";
        let valid = [true, false, true];
        let column = StringColumn::new(&offsets, data, Some(&valid), 4).unwrap();
        assert_eq!(column.len(), 3);
        let mut scratch = [0; 8];
        assert!(column.check(0, 4).unwrap());
        assert_eq!(column.bytes(0, &mut scratch), b"a");
        assert!(!column.check(1, 4).unwrap());
        assert_eq!(column.bytes(2, &mut scratch), b"bcd");

        let bad = [0i64, 4, 2];
        let column = StringColumn::new(&bad, b"abcd", None, 7).unwrap();
        let err = column.check(1, 7).unwrap_err();
        assert!(matches!(
            err,
            Error::ColumnOffsets {
                column: 7,
                row: 1,
                start: 4,
                end: 2,
                ..
            }
        ));
        let beyond = [0i64, 5];
        let column = StringColumn::new(&beyond, b"abcd", None, 0).unwrap();
        assert!(column.check(0, 0).is_err());
        let negative = [-1i32, 0];
        let column = StringColumn::new(&negative, b"", None, 0).unwrap();
        assert!(column.check(0, 0).is_err());
    }

    #[test]
    fn lengths_that_do_not_fit_are_refused() {
        let err = StringColumn::<i32>::new(&[], b"", None, 2).unwrap_err();
        assert!(err.to_string().contains("column 2: offsets has 0 entries"));
        let err = StringColumn::new(&[0i32, 1], b"a", Some(&[true, true]), 0).unwrap_err();
        assert!(err.to_string().contains("valid has 2 entries, expected 1"));
        assert!(IntegerColumn::new(&[1, 2], Some(&[true]), 0).is_err());
        assert!(BooleanColumn::new(&[true], Some(&[]), 0).is_err());
    }

    #[test]
    fn integers_and_booleans_are_keyed_by_fixed_bytes() {
        let mut scratch = [0; 8];
        let ints = IntegerColumn::new(&[-2, 7], None, 0).unwrap();
        assert_eq!(ints.bytes(0, &mut scratch), (-2i64).to_le_bytes());
        let bools = BooleanColumn::new(&[true, false], Some(&[true, false]), 0).unwrap();
        assert_eq!(bools.bytes(0, &mut scratch), [1]);
        assert!(!bools.check(1, 0).unwrap());
        for kind in [ValueKind::String, ValueKind::Integer, ValueKind::Boolean] {
            assert_eq!(ValueKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(ValueKind::from_code(3), None);
    }
}
