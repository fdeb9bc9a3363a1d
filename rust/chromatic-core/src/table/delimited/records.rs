//! The records of a range, in two passes: the first checks them and measures each column's part
//! (values and bytes), the second writes the values straight into that part of the columns, so
//! that the ranges, read in parallel, need no joining copy. Text without quotes is read here,
//! 8 bytes at a time; text with quotes in `quoted`; text that is not UTF-8 field by field, to
//! name the field.

use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, POLL_INTERVAL};

use super::DelimitedFormat;
use super::fields::{Sink, bytes_equal, empty_line_end, read_field};
use super::quoted::{measure_quoted, write_quoted};

/// What the first pass finds in a range: its records, and the bytes of each column's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct RangeSize {
    /// Records (empty lines are none).
    pub(super) rows: usize,
    /// Bytes of the values of each column.
    pub(super) bytes: Vec<usize>,
}

/// Checks the records of `text` (whose first line is `first_line`) and measures them: every
/// record must have `n_fields` fields and, with `CHECK_UTF8`, every field must be UTF-8. A
/// malformed record is an error naming it; with several, the first.
pub(super) fn measure_range<const CHECK_UTF8: bool>(
    text: &[u8],
    format: DelimitedFormat,
    n_fields: usize,
    first_line: u64,
    interrupt: Interrupt<'_>,
) -> Result<RangeSize> {
    if CHECK_UTF8 {
        // Invalid UTF-8 is an error, whose field the reader that reads field by field names.
        measure_checked(text, format, n_fields, first_line, interrupt)
    } else if format.quotes_in(text) {
        measure_quoted(text, format, n_fields, first_line, interrupt)
    } else {
        measure_plain(text, format.delimiter, n_fields, first_line, interrupt)
    }
}

/// Writes the values of the records of `text`, which `measure_range` accepted, to `parts` (one
/// per column, each the size that `measure_range` found).
pub(super) fn write_range(
    text: &[u8],
    format: DelimitedFormat,
    parts: &mut [ColumnPart<'_>],
    interrupt: Interrupt<'_>,
) -> Result<()> {
    if format.quotes_in(text) {
        write_quoted(text, format, parts, interrupt)
    } else {
        write_plain(text, format.delimiter, parts, interrupt)
    }
}

/// A range's part of a column: the ends of its values (the offsets after the first), their
/// bytes and their validity, written in order.
pub(super) struct ColumnPart<'a> {
    ends: &'a mut [i64],
    data: &'a mut [u8],
    valid: &'a mut [bool],
    /// Where the part's bytes start in the column's.
    base: i64,
    /// Values written.
    row: usize,
    /// Bytes written.
    at: usize,
}

impl<'a> ColumnPart<'a> {
    pub(super) fn new(
        ends: &'a mut [i64],
        data: &'a mut [u8],
        valid: &'a mut [bool],
        base: i64,
    ) -> Self {
        ColumnPart {
            ends,
            data,
            valid,
            base,
            row: 0,
            at: 0,
        }
    }

    /// Ends the value whose bytes were put since the last one.
    #[inline]
    pub(super) fn end_value(&mut self, present: bool) {
        self.ends[self.row] = self.base + self.at as i64;
        self.valid[self.row] = present;
        self.row += 1;
    }

    /// Writes the value `text[start..end]` (a null unless `present`).
    #[inline]
    pub(super) fn push_plain(&mut self, text: &[u8], start: usize, end: usize, present: bool) {
        let len = end - start;
        // A short value is copied as a fixed 16 bytes (the excess is overwritten by the values
        // that follow): a copy of known size is a few instructions, one of any size a call.
        if len <= 16 && start + 16 <= text.len() && self.at + 16 <= self.data.len() {
            self.data[self.at..self.at + 16].copy_from_slice(&text[start..start + 16]);
        } else {
            self.data[self.at..self.at + len].copy_from_slice(&text[start..end]);
        }
        self.at += len;
        self.end_value(present);
    }
}

impl Sink for ColumnPart<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.data[self.at..self.at + bytes.len()].copy_from_slice(bytes);
            self.at += bytes.len();
        }
    }
}

/// Bytes of a field, and the bytes themselves, to be checked.
struct Measure {
    len: usize,
    bytes: Vec<u8>,
}

impl Sink for Measure {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.len += bytes.len();
        self.bytes.extend_from_slice(bytes);
    }
}

/// `measure_range` field by field, each field checked to be UTF-8.
pub(super) fn measure_checked(
    text: &[u8],
    format: DelimitedFormat,
    n_fields: usize,
    first_line: u64,
    interrupt: Interrupt<'_>,
) -> Result<RangeSize> {
    let mut size = RangeSize {
        rows: 0,
        bytes: vec![0; n_fields],
    };
    let mut field_bytes = Measure {
        len: 0,
        bytes: Vec::new(),
    };
    let (mut at, mut line) = (0, first_line);
    while at < text.len() {
        if let Some(next) = empty_line_end(text, at) {
            (at, line) = (next, line + 1);
            continue;
        }
        if size.rows % POLL_INTERVAL == 0 {
            interrupt.check()?;
        }
        let record_line = line;
        let mut fields = 0;
        loop {
            let field_line = line;
            field_bytes.len = 0;
            field_bytes.bytes.clear();
            let field = read_field(text, at, format, &mut line, &mut field_bytes)?;
            // A field too many is counted for the message, not checked.
            if let Some(bytes) = size.bytes.get_mut(fields) {
                if std::str::from_utf8(&field_bytes.bytes).is_err() {
                    return Err(Error::NotUtf8 {
                        line: field_line,
                        field: fields + 1,
                    });
                }
                *bytes += field_bytes.len;
            }
            fields += 1;
            at = field.next;
            if field.last {
                break;
            }
        }
        line += 1;
        if fields != n_fields {
            return Err(Error::RaggedRow {
                line: record_line,
                fields,
                expected: n_fields,
            });
        }
        size.rows += 1;
    }
    Ok(size)
}

/// A step of a scan of text without quotes.
enum Plain {
    /// A field: `text[start..end]` (a `\r` before a line end left out), the last of its record
    /// when `last`.
    Field {
        start: usize,
        end: usize,
        last: bool,
    },
    /// An empty line.
    EmptyLine,
}

/// Calls `visit` on every field and empty line of `text`, which holds no quotes (every
/// delimiter ends a field, every `\n` a record). The ends are found 8 bytes at a time.
#[inline]
fn scan_plain(text: &[u8], delimiter: u8, visit: impl FnMut(Plain) -> Result<()>) -> Result<()> {
    let mut scan = PlainScan {
        text,
        start: 0,
        record_start: true,
        visit,
    };
    let mut words = text.chunks_exact(8);
    let mut base = 0;
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        let line_ends = bytes_equal(word, b'\n');
        let mut ends = line_ends | bytes_equal(word, delimiter);
        while ends != 0 {
            let bit = ends & ends.wrapping_neg();
            ends ^= bit;
            scan.end(
                base + (bit.trailing_zeros() / 8) as usize,
                line_ends & bit != 0,
            )?;
        }
        base += 8;
    }
    for (k, &byte) in words.remainder().iter().enumerate() {
        if byte == delimiter || byte == b'\n' {
            scan.end(base + k, byte == b'\n')?;
        }
    }
    // A last record without a line end (or after a trailing delimiter, an empty last field).
    if scan.start < text.len() || !scan.record_start {
        scan.end(text.len(), true)?;
    }
    Ok(())
}

/// The state of `scan_plain` between two field ends.
struct PlainScan<'t, F> {
    text: &'t [u8],
    /// Where the field being read starts.
    start: usize,
    /// Whether it is its record's first.
    record_start: bool,
    visit: F,
}

impl<F: FnMut(Plain) -> Result<()>> PlainScan<'_, F> {
    /// Ends the field being read at `at`, where a delimiter or (`line_end`) a record ends.
    #[inline]
    fn end(&mut self, at: usize, line_end: bool) -> Result<()> {
        let mut end = at;
        if line_end && end > self.start && self.text[end - 1] == b'\r' {
            end -= 1;
        }
        let step = if line_end && self.record_start && end == self.start {
            Plain::EmptyLine
        } else {
            Plain::Field {
                start: self.start,
                end,
                last: line_end,
            }
        };
        self.start = at + 1;
        self.record_start = line_end;
        (self.visit)(step)
    }
}

pub(super) fn measure_plain(
    text: &[u8],
    delimiter: u8,
    n_fields: usize,
    first_line: u64,
    interrupt: Interrupt<'_>,
) -> Result<RangeSize> {
    let mut size = RangeSize {
        rows: 0,
        bytes: vec![0; n_fields],
    };
    let (mut fields, mut line) = (0, first_line);
    scan_plain(text, delimiter, |step| {
        let Plain::Field { start, end, last } = step else {
            line += 1;
            return Ok(());
        };
        if let Some(bytes) = size.bytes.get_mut(fields) {
            *bytes += end - start;
        }
        fields += 1;
        if last {
            if fields != n_fields {
                return Err(Error::RaggedRow {
                    line,
                    fields,
                    expected: n_fields,
                });
            }
            if size.rows % POLL_INTERVAL == 0 {
                interrupt.check()?;
            }
            (size.rows, fields, line) = (size.rows + 1, 0, line + 1);
        }
        Ok(())
    })?;
    Ok(size)
}

/// Fields gathered before they are written: a few kilobytes of text, which stay in cache
/// between the scan and the writes.
pub(super) const BATCH_FIELDS: usize = 1 << 12;

/// Writes the fields of `text` (without quotes) a batch of records at a time, column by column:
/// written record by record, the values of every column would go to memory in as many
/// interleaved streams (three per column), more than the cache keeps apart.
pub(super) fn write_plain(
    text: &[u8],
    delimiter: u8,
    parts: &mut [ColumnPart<'_>],
    interrupt: Interrupt<'_>,
) -> Result<()> {
    let mut bounds = Vec::with_capacity(BATCH_FIELDS + parts.len());
    scan_plain(text, delimiter, |step| {
        if let Plain::Field { start, end, last } = step {
            bounds.push((start, end));
            if last && bounds.len() >= BATCH_FIELDS {
                write_batch(text, &mut bounds, parts, interrupt)?;
            }
        }
        Ok(())
    })?;
    write_batch(text, &mut bounds, parts, interrupt)
}

/// Writes the fields `bounds` (whole records) column by column, and empties it.
fn write_batch(
    text: &[u8],
    bounds: &mut Vec<(usize, usize)>,
    parts: &mut [ColumnPart<'_>],
    interrupt: Interrupt<'_>,
) -> Result<()> {
    interrupt.check()?;
    let n_fields = parts.len();
    for (c, part) in parts.iter_mut().enumerate() {
        for &(start, end) in bounds.iter().skip(c).step_by(n_fields) {
            part.push_plain(text, start, end, end > start);
        }
    }
    bounds.clear();
    Ok(())
}
