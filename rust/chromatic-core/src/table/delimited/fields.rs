//! Fields one at a time, quotes and all (`read_field`: the reference reader, used to name a
//! field that is not UTF-8, to read a header, and for the values that are not the text as
//! written), and the scans that find records without keeping their values.

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
    /// Whether it holds a value: quoted, or not empty.
    pub(super) present: bool,
}

/// Line ends (`\n`) in `text`, those inside quotes included: the lines that text spans less one.
pub fn count_line_ends(text: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', text).count() as u64
}

/// Bytes looked at one by one before `memchr` takes over: fields are mostly short, and a plain
/// loop finds their end before `memchr` has set up.
const SHORT: usize = 16;

/// Where `needle` first occurs in `hay`.
#[inline]
fn find(needle: u8, hay: &[u8]) -> Option<usize> {
    if let Some(k) = hay.iter().take(SHORT).position(|&b| b == needle) {
        return Some(k);
    }
    let rest = hay.get(SHORT..).filter(|rest| !rest.is_empty())?;
    memchr::memchr(needle, rest).map(|k| k + SHORT)
}

/// Where `a` or `b` first occurs in `hay`.
#[inline]
fn find_either(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    if let Some(k) = hay.iter().take(SHORT).position(|&c| c == a || c == b) {
        return Some(k);
    }
    let rest = hay.get(SHORT..).filter(|rest| !rest.is_empty())?;
    memchr::memchr2(a, b, rest).map(|k| k + SHORT)
}

/// `count_line_ends`, by a plain loop for short text.
#[inline]
#[allow(clippy::naive_bytecount)] // short text: a loop counts it before a call has set up
fn count_short(text: &[u8]) -> u64 {
    if text.len() <= SHORT {
        text.iter().filter(|&&b| b == b'\n').count() as u64
    } else {
        count_line_ends(text)
    }
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
            let Some(len) = find(quote, &text[at..]) else {
                return Err(Error::UnclosedQuote { line: opened });
            };
            let piece = &text[at..at + len];
            *line += count_short(piece);
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
    let found = find_either(format.delimiter, b'\n', rest);
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

/// The high bit of every byte of `word` that equals `byte` (exactly: no carry crosses bytes).
#[inline]
pub(super) fn bytes_equal(word: u64, byte: u8) -> u64 {
    const LOW_BITS: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let v = word ^ (0x0101_0101_0101_0101 * u64::from(byte));
    !(((v & LOW_BITS) + LOW_BITS) | v | LOW_BITS)
}

/// Calls `visit(next)` after every `\n` outside quotes (where a record or an empty line ends,
/// `next` where the next line starts) until it returns false. Quotes are followed as
/// `read_field` reads them: one opens a quoted field only as the field's first byte (after a
/// delimiter, a `\n`, or at the start of the text), `""` inside is a quote, and the next closes
/// the field. Only line ends and quotes are looked at, found 8 bytes at a time: far faster than
/// reading the fields, for the scans that only need the records.
pub(super) fn line_ends_outside_quotes(
    text: &[u8],
    format: DelimitedFormat,
    mut visit: impl FnMut(usize) -> bool,
) {
    let Some(quote) = format.quote else {
        for end in memchr::memchr_iter(b'\n', text) {
            if !visit(end + 1) {
                return;
            }
        }
        return;
    };
    let (mut inside, mut skip_to) = (false, 0);
    let mut step = |at: usize| {
        if at < skip_to {
            return true; // the second quote of a `""`
        }
        let byte = text[at];
        if inside {
            // A line end inside quotes ends nothing; a quote is half a `""` or the closing one.
            if byte == quote && text.get(at + 1) == Some(&quote) {
                skip_to = at + 2;
            } else if byte == quote {
                inside = false;
            }
            true
        } else if byte == b'\n' {
            visit(at + 1)
        } else {
            inside = at == 0 || text[at - 1] == format.delimiter || text[at - 1] == b'\n';
            true
        }
    };
    let mut words = text.chunks_exact(8);
    let mut base = 0;
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        let mut ends = bytes_equal(word, b'\n') | bytes_equal(word, quote);
        while ends != 0 {
            if !step(base + (ends.trailing_zeros() / 8) as usize) {
                return;
            }
            ends &= ends - 1;
        }
        base += 8;
    }
    for (k, &byte) in words.remainder().iter().enumerate() {
        if (byte == b'\n' || byte == quote) && !step(base + k) {
            return;
        }
    }
}

/// Walks the records of `text` in order, whose first line is `first_line`, calling `visit` with
/// the line where each starts until it returns false.
pub(super) fn scan_records(
    text: &[u8],
    format: DelimitedFormat,
    first_line: u64,
    mut visit: impl FnMut(u64) -> bool,
) -> Result<()> {
    let (mut at, mut line) = (0, first_line);
    while at < text.len() {
        if let Some(next) = empty_line_end(text, at) {
            (at, line) = (next, line + 1);
            continue;
        }
        let start_line = line;
        loop {
            let field = read_field(text, at, format, &mut line, &mut Discard)?;
            at = field.next;
            if field.last {
                break;
            }
        }
        line += 1;
        if !visit(start_line) {
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
