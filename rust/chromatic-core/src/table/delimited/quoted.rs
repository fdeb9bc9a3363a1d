//! Records of text with quotes, read as text without them is: the delimiters, line ends and
//! quotes are found 8 bytes at a time, and a small state machine follows the quotes between
//! them the way `read_field` does (a quote opens a quoted field only as its first byte, `""`
//! inside is a quote, the next quote closes it, and what follows is taken as written).

use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, POLL_INTERVAL};

use super::DelimitedFormat;
use super::fields::{bytes_equal, read_field};
use super::records::{BATCH_FIELDS, ColumnPart, RangeSize};

/// A field found by `scan_quoted`.
#[derive(Clone, Copy, Debug)]
struct Field {
    /// Where the field starts (its opening quote, if any).
    start: usize,
    /// Where its value lies when the value is the text as written: an unquoted field, or a
    /// quoted one without `""` and with nothing after its closing quote.
    value: Option<(usize, usize)>,
    /// Bytes of its value.
    bytes: usize,
    /// Whether it holds a value: quoted, or not empty.
    present: bool,
    /// Whether it is its record's last.
    last: bool,
    /// The line where it starts.
    line: u64,
}

/// A step of `scan_quoted`: a field, or an empty line.
enum Step {
    Field(Field),
    EmptyLine,
}

/// Where the scan is within the field being read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// In a field without quotes.
    Unquoted,
    /// Between the quotes of a quoted field.
    Quoted,
    /// After the closing quote (at this position) of a quoted field.
    Closed(usize),
}

/// Calls `visit` on every field and empty line of `text` (whose first line is `first_line`), in
/// order. A quote never closed is an error naming the line where it opens.
fn scan_quoted(
    text: &[u8],
    delimiter: u8,
    quote: u8,
    first_line: u64,
    visit: impl FnMut(Step) -> Result<()>,
) -> Result<()> {
    let mut scan = QuotedScan {
        text,
        quote,
        start: 0,
        record_start: true,
        state: State::Unquoted,
        escapes: 0,
        skip_to: 0,
        line: first_line,
        field_line: first_line,
        visit,
    };
    scan.start_field(0);
    let mut words = text.chunks_exact(8);
    let mut base = 0;
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        let mut found = bytes_equal(word, delimiter) | bytes_equal(word, b'\n');
        found |= bytes_equal(word, quote);
        while found != 0 {
            scan.step(base + (found.trailing_zeros() / 8) as usize, delimiter)?;
            found &= found - 1;
        }
        base += 8;
    }
    for (k, &byte) in words.remainder().iter().enumerate() {
        if byte == delimiter || byte == b'\n' || byte == quote {
            scan.step(base + k, delimiter)?;
        }
    }
    match scan.state {
        State::Quoted => Err(Error::UnclosedQuote {
            line: scan.field_line,
        }),
        // A last record without a line end (or after a trailing delimiter, an empty last field).
        _ if scan.start < text.len() || !scan.record_start => scan.end_field(text.len(), true),
        _ => Ok(()),
    }
}

/// The state of `scan_quoted` between two delimiters, line ends or quotes.
struct QuotedScan<'t, F> {
    text: &'t [u8],
    quote: u8,
    /// Where the field being read starts.
    start: usize,
    /// Whether it is its record's first.
    record_start: bool,
    state: State,
    /// The `""` of the field being read.
    escapes: usize,
    /// Bytes before this are read (the opening quote, the second quote of a `""`).
    skip_to: usize,
    /// The line being read.
    line: u64,
    /// The line where the field being read starts.
    field_line: u64,
    visit: F,
}

impl<F: FnMut(Step) -> Result<()>> QuotedScan<'_, F> {
    /// Starts a field at `at`: a quoted one when its first byte is a quote.
    #[inline]
    fn start_field(&mut self, at: usize) {
        self.start = at;
        self.field_line = self.line;
        self.escapes = 0;
        if self.text.get(at) == Some(&self.quote) {
            self.state = State::Quoted;
            self.skip_to = at + 1;
        } else {
            self.state = State::Unquoted;
        }
    }

    /// Reads the delimiter, line end or quote at `at`.
    #[inline]
    fn step(&mut self, at: usize, delimiter: u8) -> Result<()> {
        if at < self.skip_to {
            return Ok(());
        }
        let byte = self.text[at];
        match self.state {
            State::Quoted if byte == self.quote => {
                if self.text.get(at + 1) == Some(&self.quote) {
                    self.escapes += 1;
                    self.skip_to = at + 2;
                } else {
                    self.state = State::Closed(at);
                }
                Ok(())
            }
            State::Quoted => {
                self.line += u64::from(byte == b'\n');
                Ok(())
            }
            // A quote inside an unquoted field, or after a closing quote, is taken as written.
            _ if byte == self.quote => Ok(()),
            _ => self.end_field(at, byte != delimiter),
        }
    }

    /// Ends the field being read at `at`, where a delimiter or (`line_end`) a record ends.
    #[inline]
    fn end_field(&mut self, at: usize, line_end: bool) -> Result<()> {
        // What is taken as written: the whole field, or what follows its closing quote.
        let written = match self.state {
            State::Closed(close) => close + 1,
            _ => self.start,
        };
        let mut end = at;
        if line_end && end > written && self.text[end - 1] == b'\r' {
            end -= 1;
        }
        let step = match self.state {
            State::Closed(close) => {
                let (content, tail) = (close - self.start - 1, end - written);
                let simple = self.escapes == 0 && tail == 0;
                Step::Field(Field {
                    start: self.start,
                    value: simple.then_some((self.start + 1, close)),
                    bytes: content - self.escapes + tail,
                    present: true,
                    last: line_end,
                    line: self.field_line,
                })
            }
            _ if line_end && self.record_start && end == self.start => Step::EmptyLine,
            _ => Step::Field(Field {
                start: self.start,
                value: Some((self.start, end)),
                bytes: end - self.start,
                present: end > self.start,
                last: line_end,
                line: self.field_line,
            }),
        };
        (self.visit)(step)?;
        self.line += u64::from(line_end);
        self.record_start = line_end;
        self.start_field(at + 1);
        Ok(())
    }
}

/// `measure_range` of text with quotes, valid as UTF-8.
pub(super) fn measure_quoted(
    text: &[u8],
    format: DelimitedFormat,
    n_fields: usize,
    first_line: u64,
    interrupt: Interrupt<'_>,
) -> Result<RangeSize> {
    let quote = format.quote.expect("text with quotes has a quote byte");
    let mut size = RangeSize {
        rows: 0,
        bytes: vec![0; n_fields],
    };
    let (mut fields, mut record_line) = (0, first_line);
    scan_quoted(text, format.delimiter, quote, first_line, |step| {
        let Step::Field(field) = step else {
            return Ok(());
        };
        if fields == 0 {
            record_line = field.line;
        }
        if let Some(bytes) = size.bytes.get_mut(fields) {
            *bytes += field.bytes;
        }
        fields += 1;
        if field.last {
            if fields != n_fields {
                return Err(Error::RaggedRow {
                    line: record_line,
                    fields,
                    expected: n_fields,
                });
            }
            if size.rows % POLL_INTERVAL == 0 {
                interrupt.check()?;
            }
            (size.rows, fields) = (size.rows + 1, 0);
        }
        Ok(())
    })?;
    Ok(size)
}

/// `write_range` of text with quotes: the fields are gathered a batch of records at a time,
/// then written column by column (see `write_plain`).
pub(super) fn write_quoted(
    text: &[u8],
    format: DelimitedFormat,
    parts: &mut [ColumnPart<'_>],
    interrupt: Interrupt<'_>,
) -> Result<()> {
    let quote = format.quote.expect("text with quotes has a quote byte");
    let mut batch = Vec::with_capacity(BATCH_FIELDS + parts.len());
    scan_quoted(text, format.delimiter, quote, 0, |step| {
        if let Step::Field(field) = step {
            batch.push(field);
            if field.last && batch.len() >= BATCH_FIELDS {
                write_batch(text, format, &mut batch, parts, interrupt)?;
            }
        }
        Ok(())
    })?;
    write_batch(text, format, &mut batch, parts, interrupt)
}

/// Writes the fields `batch` (whole records) column by column, and empties it. A value that is
/// not the text as written (it holds `""`, or text after its closing quote) is read again.
fn write_batch(
    text: &[u8],
    format: DelimitedFormat,
    batch: &mut Vec<Field>,
    parts: &mut [ColumnPart<'_>],
    interrupt: Interrupt<'_>,
) -> Result<()> {
    interrupt.check()?;
    let n_fields = parts.len();
    for (c, part) in parts.iter_mut().enumerate() {
        for field in batch.iter().skip(c).step_by(n_fields) {
            if let Some((start, end)) = field.value {
                part.push_plain(text, start, end, field.present);
            } else {
                let read = read_field(text, field.start, format, &mut 0, part)?;
                part.end_value(read.present);
            }
        }
    }
    batch.clear();
    Ok(())
}
