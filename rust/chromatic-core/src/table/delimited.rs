//! Delimited text (CSV, TSV and the like): a buffer of whole records cut into columns of strings
//! laid out as Arrow's large strings, in parallel over ranges of records.
//!
//! Quoting follows RFC 4180: a field that starts with the quote byte runs to the matching quote
//! and may hold the delimiter, line ends, and `""` for one quote. Bytes after the closing quote,
//! and a quote inside an unquoted field, are taken as written (as pyarrow and Python's `csv` do).
//! Records end at `\n` or `\r\n`, the last one possibly at the end of the text; empty lines hold
//! no record but count as lines. An empty unquoted field is a null (a missing value, as in
//! Criteo's files and for pandas); a quoted empty field `""` is an empty string.
//!
//! A stream is read in blocks: [`complete_records`] says where the whole records of a block end,
//! so that the incomplete tail can go with the next block, and [`split_delimited`] cuts the whole
//! records into columns ([`plan_delimited`] then [`DelimitedPlan::write`], for a caller that
//! allocates the columns itself); [`with_integer_columns`] reads the columns its caller knows
//! to hold integers as integers.
//!
//! Delimiters, line ends and quotes are found 8 bytes at a time (`records` for text without
//! quotes, `quoted` for text with them); `fields` reads field by field, as the reference the
//! fast readers are tested against and where a message must name a field.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::parallel::{filled, split_mut, try_map_blocks};

pub use fields::count_line_ends;
use fields::{first_record_fields, line_ends_outside_quotes, scan_records};
pub use integers::{FieldColumn, integers_of, parse_integer, with_integer_columns};
use records::{ColumnPart, RangeSize, measure_range, write_range};

/// How the text is written: the byte between fields, and the byte that quotes a field (`None`:
/// fields are never quoted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DelimitedFormat {
    delimiter: u8,
    quote: Option<u8>,
}

impl DelimitedFormat {
    /// A format after checking its bytes: ASCII (so that fields start and end on character
    /// boundaries, and text valid as UTF-8 as a whole is valid field by field), neither a line
    /// end, and the quote not the delimiter.
    pub fn new(delimiter: u8, quote: Option<u8>) -> Result<Self> {
        for (what, byte) in [("delimiter", Some(delimiter)), ("quote", quote)] {
            if let Some(byte) = byte
                && (!byte.is_ascii() || byte == b'\n' || byte == b'\r')
            {
                return Err(Error::InvalidParameter(format!(
                    "the {what} must be one ASCII byte other than a line end, got {byte:#04x}"
                )));
            }
        }
        if quote == Some(delimiter) {
            return Err(Error::InvalidParameter(format!(
                "the quote and the delimiter are both {:?}",
                char::from(delimiter)
            )));
        }
        Ok(DelimitedFormat { delimiter, quote })
    }

    /// The byte between fields.
    pub fn delimiter(self) -> u8 {
        self.delimiter
    }

    /// The byte that quotes a field.
    pub fn quote(self) -> Option<u8> {
        self.quote
    }

    /// Whether a quote byte occurs in `text`: when none does, every `\n` ends a record.
    fn quotes_in(self, text: &[u8]) -> bool {
        self.quote
            .is_some_and(|q| memchr::memchr(q, text).is_some())
    }
}

/// One column of values as Arrow's large strings hold them: value `i` is
/// `data[offsets[i]..offsets[i + 1]]`, a null where `valid[i]` is false (its bytes are empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextColumn {
    /// Where each value starts, and where the last one ends (one more than the values).
    pub offsets: Vec<i64>,
    /// The bytes of every value, one after the other.
    pub data: Vec<u8>,
    /// Whether each value is present (false: a null).
    pub valid: Vec<bool>,
}

impl TextColumn {
    /// A column of `rows` values and `bytes` bytes, all zero, to be written.
    fn zeroed(rows: usize, bytes: usize) -> Result<Self> {
        Ok(TextColumn {
            offsets: filled(rows + 1, 0, "column offsets")?,
            data: filled(bytes, 0, "column bytes")?,
            valid: filled(rows, false, "column validity")?,
        })
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.valid.len()
    }

    /// Whether the column holds no value.
    pub fn is_empty(&self) -> bool {
        self.valid.is_empty()
    }
}

/// Where the last complete record of `text` ends, line end included (0 when there is none):
/// what follows may be the start of a record that the next block of the stream completes. A
/// line end inside quotes ends no record.
pub fn complete_records(text: &[u8], format: DelimitedFormat) -> usize {
    if !format.quotes_in(text) {
        return memchr::memrchr(b'\n', text).map_or(0, |k| k + 1);
    }
    // A quote still open at the end of the text is a record that the next block may close: the
    // records before it are the complete ones.
    let mut end = 0;
    line_ends_outside_quotes(text, format, |next| {
        end = next;
        true
    });
    end
}

/// The line (counted from `first_line`) where record `row` of `text` starts (0-based, empty
/// lines not counted), `None` when the text has fewer records.
pub fn record_line(
    text: &[u8],
    format: DelimitedFormat,
    first_line: u64,
    row: usize,
) -> Result<Option<u64>> {
    let mut seen = 0;
    let mut found = None;
    scan_records(text, format, first_line, |line| {
        if seen == row {
            found = Some(line);
        }
        seen += 1;
        found.is_none()
    })?;
    Ok(found)
}

/// Below this many bytes per range, a range's bookkeeping costs more than its parallelism saves.
const MIN_RANGE_BYTES: usize = 1 << 16;

/// Cuts `text` at record boundaries into up to `n_ranges` ranges of similar size. Without a
/// quote byte in the text every `\n` ends a record; with one, the records are found by one scan.
fn record_ranges(text: &[u8], format: DelimitedFormat, n_ranges: usize) -> Vec<usize> {
    let n_ranges = n_ranges.clamp(1, text.len().max(1));
    let target = |k: usize| text.len() * k / n_ranges;
    let mut starts = vec![0];
    if n_ranges > 1 && !format.quotes_in(text) {
        for k in 1..n_ranges {
            let from = target(k).max(*starts.last().expect("one start"));
            if let Some(end) = memchr::memchr(b'\n', &text[from..]) {
                starts.push(from + end + 1);
            }
        }
    } else if n_ranges > 1 {
        // After a quote that is never closed, no line end ends a record: the rest of the text is
        // one range, whose parse names the quote.
        let mut k = 1;
        line_ends_outside_quotes(text, format, |next| {
            if next >= target(k) {
                starts.push(next);
                k += 1;
            }
            k < n_ranges
        });
    }
    starts.push(text.len());
    starts.dedup();
    starts
}

/// Where the values of the records of a text go: made by [`plan_delimited`], which checks the
/// records and measures the columns, then carried out by [`DelimitedPlan::write`] into buffers
/// of the sizes it gives, which the caller allocates as it likes.
#[derive(Clone, Debug)]
pub struct DelimitedPlan {
    format: DelimitedFormat,
    n_fields: usize,
    text_len: usize,
    /// Where each range of the text starts, and where the last one ends.
    starts: Vec<usize>,
    /// What each range holds.
    sizes: Vec<RangeSize>,
}

/// The buffers of one column as a plan writes them: `offsets` (one more than the rows), the
/// bytes of the values, and their validity.
#[derive(Debug)]
pub struct ColumnBuffers<'a> {
    /// Where each value starts, and where the last one ends.
    pub offsets: &'a mut [i64],
    /// The bytes of every value, one after the other.
    pub data: &'a mut [u8],
    /// Whether each value is present (false: a null).
    pub valid: &'a mut [bool],
}

impl DelimitedPlan {
    /// Columns: the fields of every record.
    pub fn n_fields(&self) -> usize {
        self.n_fields
    }

    /// Records, and values of each column.
    pub fn n_rows(&self) -> usize {
        self.sizes.iter().map(|size| size.rows).sum()
    }

    /// Bytes of the values of `column`.
    pub fn column_bytes(&self, column: usize) -> usize {
        self.sizes.iter().map(|size| size.bytes[column]).sum()
    }

    /// Writes the values of `text` (the text that was planned) to `columns`, one per field, of
    /// the sizes the plan gives: `n_rows() + 1` offsets, `column_bytes(c)` bytes, `n_rows()`
    /// validities. The ranges are written in parallel, each straight to its part of the buffers.
    pub fn write(
        &self,
        text: &[u8],
        columns: &mut [ColumnBuffers<'_>],
        interrupt: Interrupt<'_>,
    ) -> Result<()> {
        self.check_buffers(text, columns)?;
        let mut parts: Vec<Vec<ColumnPart<'_>>> = self.sizes.iter().map(|_| Vec::new()).collect();
        for (c, column) in columns.iter_mut().enumerate() {
            let (first, ends) = column.offsets.split_at_mut(1);
            first[0] = 0;
            let rows = || self.sizes.iter().map(|size| size.rows);
            let ends = split_mut(ends, rows());
            let data = split_mut(column.data, self.sizes.iter().map(|size| size.bytes[c]));
            let valid = split_mut(column.valid, rows());
            let mut base = 0;
            for (range, ((ends, data), valid)) in
                parts.iter_mut().zip(ends.into_iter().zip(data).zip(valid))
            {
                let len = data.len() as i64;
                range.push(ColumnPart::new(ends, data, valid, base));
                base += len;
            }
        }
        let ranges = self.starts.windows(2).map(|w| &text[w[0]..w[1]]);
        parts
            .into_par_iter()
            .zip(ranges.collect::<Vec<_>>())
            .try_for_each(|(mut parts, range)| {
                write_range(range, self.format, &mut parts, interrupt)
            })
    }

    fn check_buffers(&self, text: &[u8], columns: &[ColumnBuffers<'_>]) -> Result<()> {
        let mismatch = |what, len, expected_from, expected| {
            Err(Error::LengthMismatch {
                what,
                len,
                expected_from,
                expected,
            })
        };
        if text.len() != self.text_len {
            return mismatch("text", text.len(), "the planned text", self.text_len);
        }
        if columns.len() != self.n_fields {
            return mismatch(
                "columns",
                columns.len(),
                "the planned fields",
                self.n_fields,
            );
        }
        let rows = self.n_rows();
        for (c, column) in columns.iter().enumerate() {
            for (what, len, expected, why) in [
                (
                    "offsets",
                    column.offsets.len(),
                    rows + 1,
                    "one per value, plus one",
                ),
                (
                    "data",
                    column.data.len(),
                    self.column_bytes(c),
                    "the bytes of the values",
                ),
                ("valid", column.valid.len(), rows, "one per value"),
            ] {
                if len != expected {
                    return Err(Error::ColumnLength {
                        column: c,
                        what,
                        len,
                        expected,
                        why,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Checks `text`, whole records whose first line is `first_line` of its file, and plans where
/// their values go: `n_fields` columns (`None`: as many as the first record has fields, none
/// when the text holds no record). Every record must have that many fields, and be UTF-8. The
/// text is cut into ranges of records read in parallel, with the same result whatever the
/// number of threads; when several records are malformed, the error names the first.
pub fn plan_delimited(
    text: &[u8],
    format: DelimitedFormat,
    n_fields: Option<usize>,
    first_line: u64,
    interrupt: Interrupt<'_>,
) -> Result<DelimitedPlan> {
    let n_fields = match n_fields {
        Some(0) => {
            return Err(Error::InvalidParameter(
                "a record has at least one field".into(),
            ));
        }
        Some(n) => n,
        None => first_record_fields(text, format, first_line)?.unwrap_or(0),
    };
    let n_ranges = rayon::current_num_threads().min(text.len() / MIN_RANGE_BYTES + 1);
    plan_in_ranges(text, format, n_fields, first_line, n_ranges, interrupt)
}

/// `plan_delimited` over up to `n_ranges` ranges, `n_fields` known.
fn plan_in_ranges(
    text: &[u8],
    format: DelimitedFormat,
    n_fields: usize,
    first_line: u64,
    n_ranges: usize,
    interrupt: Interrupt<'_>,
) -> Result<DelimitedPlan> {
    let starts = if n_fields == 0 {
        vec![0, text.len()]
    } else {
        record_ranges(text, format, n_ranges)
    };
    let ranges: Vec<&[u8]> = starts.windows(2).map(|w| &text[w[0]..w[1]]).collect();
    let line_ends: Vec<u64> = ranges.par_iter().map(|r| count_line_ends(r)).collect();
    let first_lines: Vec<u64> = line_ends
        .iter()
        .scan(first_line, |line, ends| {
            Some(std::mem::replace(line, *line + ends))
        })
        .collect();
    let blocks = (0..ranges.len()).map(|r| r..r + 1).collect();
    let sizes = try_map_blocks(blocks, |block| {
        let (range, first_line) = (ranges[block.start], first_lines[block.start]);
        if n_fields == 0 {
            return Ok(RangeSize {
                rows: 0,
                bytes: Vec::new(),
            });
        }
        // Text valid as a whole is valid field by field (fields start and end at ASCII bytes),
        // so only a range that fails the check is read field by field, to name the field.
        if range.is_ascii() || std::str::from_utf8(range).is_ok() {
            measure_range::<false>(range, format, n_fields, first_line, interrupt)
        } else {
            measure_range::<true>(range, format, n_fields, first_line, interrupt)
        }
    })?;
    Ok(DelimitedPlan {
        format,
        n_fields,
        text_len: text.len(),
        starts,
        sizes,
    })
}

/// Cuts `text`, whole records whose first line is `first_line` of its file, into `n_fields`
/// columns (`None`: as many as the first record has fields): [`plan_delimited`], then
/// [`DelimitedPlan::write`] into vectors.
///
/// # Examples
///
/// ```
/// use chromatic_core::table::{DelimitedFormat, split_delimited};
/// use chromatic_core::{Error, Interrupt};
///
/// let format = DelimitedFormat::new(b',', Some(b'"'))?;
/// let columns = split_delimited(b"a,\"x,y\"\n,\"\"\n", format, None, 1, Interrupt::never())?;
/// assert_eq!(columns[0].data, b"a");
/// assert_eq!(columns[0].valid, [true, false]); // an empty field is missing
/// assert_eq!(columns[1].data, b"x,y");
/// assert_eq!(columns[1].offsets, [0, 3, 3]); // a quoted empty field is an empty string
/// let ragged = split_delimited(b"a,b\nc\n", format, Some(2), 7, Interrupt::never());
/// assert_eq!(ragged.unwrap_err().to_string(), "line 8: 1 fields, but the header has 2");
/// # Ok::<(), chromatic_core::Error>(())
/// ```
pub fn split_delimited(
    text: &[u8],
    format: DelimitedFormat,
    n_fields: Option<usize>,
    first_line: u64,
    interrupt: Interrupt<'_>,
) -> Result<Vec<TextColumn>> {
    let plan = plan_delimited(text, format, n_fields, first_line, interrupt)?;
    write_columns(&plan, text, interrupt)
}

/// The columns of a plan, written to vectors.
fn write_columns(
    plan: &DelimitedPlan,
    text: &[u8],
    interrupt: Interrupt<'_>,
) -> Result<Vec<TextColumn>> {
    let rows = plan.n_rows();
    let mut columns = (0..plan.n_fields())
        .map(|c| TextColumn::zeroed(rows, plan.column_bytes(c)))
        .collect::<Result<Vec<_>>>()?;
    let mut buffers: Vec<ColumnBuffers<'_>> = columns
        .iter_mut()
        .map(|column| ColumnBuffers {
            offsets: &mut column.offsets,
            data: &mut column.data,
            valid: &mut column.valid,
        })
        .collect();
    plan.write(text, &mut buffers, interrupt)?;
    Ok(columns)
}

mod fields;
mod integers;
mod quoted;
mod records;
#[cfg(test)]
mod tests;
