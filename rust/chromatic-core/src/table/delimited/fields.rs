//! Fields one at a time, quotes and all: the reader of records where quotes may occur, and the
//! scans that find records without keeping their values.

use crate::error::{Error, Result};

use super::DelimitedFormat;

/// Where the bytes of a field go: a column's data, or nowhere (for scans that only find records).
pub(super) trait Sink {
    /// Appends bytes of the field.
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// A sink that keeps nothing.
pub(super) struct Discard;

impl Sink for Discard {
    #[inline]
    fn put(&mut self, _: &[u8]) {}
}

/// How a field ended.
#[derive(Clone, Copy)]
pub(super) struct FieldEnd {
    /// Where the next field, or record, starts.
    pub(super) next: usize,
    /// Whether the field is its record's last: a line end or the end of the text follows it.
    pub(super) last: bool,
    /// Whether a line end follows it (the end of the text may cut a record short).
    pub(super) terminated: bool,
    /// Whether it holds a value: quoted, or not empty.
    pub(super) present: bool,
}

/// Line ends (`\n`) in `text`, those inside quotes included: the lines that text spans less one.
pub fn count_line_ends(text: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', text).count() as u64
}

/// Reads the field that starts at `at` into `out`: the quotes taken off and `""` read as one
/// quote, a `\r` before the line end dropped. `line` is the line at `at`, and moves past the line
/// ends inside quotes (not past the one that ends the record).
#[inline]
pub(super) fn read_field(
    text: &[u8],
    mut at: usize,
    format: DelimitedFormat,
    line: &mut u64,
    out: &mut impl Sink,
) -> Result<FieldEnd> {
    let mut quoted = false;
    if let Some(quote) = format.quote
        && text.get(at) == Some(&quote)
    {
        quoted = true;
        let opened = *line;
        at += 1;
        loop {
            let Some(len) = memchr::memchr(quote, &text[at..]) else {
                return Err(Error::UnclosedQuote { line: opened });
            };
            let piece = &text[at..at + len];
            *line += count_line_ends(piece);
            out.put(piece);
            at += len + 1;
            if text.get(at) != Some(&quote) {
                break;
            }
            out.put(&text[at..=at]);
            at += 1;
        }
    }
    // The unquoted field, or what follows a closing quote: bytes as written up to the delimiter
    // or the line end.
    let rest = &text[at..];
    let found = memchr::memchr2(format.delimiter, b'\n', rest);
    let len = found.unwrap_or(rest.len());
    let terminated = found.is_some_and(|k| rest[k] == b'\n');
    let last = found.is_none() || terminated;
    let mut piece = &rest[..len];
    if last && let [head @ .., b'\r'] = piece {
        piece = head;
    }
    out.put(piece);
    Ok(FieldEnd {
        next: at + found.map_or(len, |k| k + 1),
        last,
        terminated,
        present: quoted || !piece.is_empty(),
    })
}

/// Where the next line starts when the line at `at` is empty (`\n`, `\r\n`, or a `\r` that ends
/// the text).
#[inline]
pub(super) fn empty_line_end(text: &[u8], at: usize) -> Option<usize> {
    match (text[at], text.get(at + 1)) {
        (b'\n', _) | (b'\r', None) => Some(at + 1),
        (b'\r', Some(b'\n')) => Some(at + 2),
        _ => None,
    }
}

/// A record found by a scan.
#[derive(Clone, Copy, Debug)]
pub(super) struct Record {
    /// Where the next line starts.
    pub(super) next: usize,
    /// The line where the record starts.
    pub(super) line: u64,
    /// Whether a line end ends it (the end of the text may cut it short).
    pub(super) terminated: bool,
}

/// Walks the records of `text` in order, whose first line is `first_line`, calling `visit` on
/// each until it returns false.
pub(super) fn scan_records(
    text: &[u8],
    format: DelimitedFormat,
    first_line: u64,
    mut visit: impl FnMut(Record) -> bool,
) -> Result<()> {
    let (mut at, mut line) = (0, first_line);
    while at < text.len() {
        if let Some(next) = empty_line_end(text, at) {
            (at, line) = (next, line + 1);
            continue;
        }
        let start_line = line;
        let field = loop {
            let field = read_field(text, at, format, &mut line, &mut Discard)?;
            at = field.next;
            if field.last {
                break field;
            }
        };
        line += 1;
        let record = Record {
            next: at,
            line: start_line,
            terminated: field.terminated,
        };
        if !visit(record) {
            break;
        }
    }
    Ok(())
}

/// The fields of the first record of `text` (whose first line is `first_line`), `None` when it
/// holds none.
pub(super) fn first_record_fields(
    text: &[u8],
    format: DelimitedFormat,
    first_line: u64,
) -> Result<Option<usize>> {
    let (mut at, mut line) = (0, first_line);
    while at < text.len() {
        if let Some(next) = empty_line_end(text, at) {
            (at, line) = (next, line + 1);
            continue;
        }
        let mut fields = 0;
        loop {
            let field = read_field(text, at, format, &mut line, &mut Discard)?;
            fields += 1;
            at = field.next;
            if field.last {
                return Ok(Some(fields));
            }
        }
    }
    Ok(None)
}
