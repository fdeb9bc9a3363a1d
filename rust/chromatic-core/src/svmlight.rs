//! Parsing svmlight / libsvm text (`label [qid:N] index[:value] ... [# comment]`), a chunk of
//! whole lines at a time, in parallel over pieces of the chunk. Indices are returned as written;
//! whether they are 0- or 1-based is the caller's call (it may need to see every file first).
//! Writing goes the other way: encoded rows become lines of text, in parallel over blocks of rows.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, POLL_INTERVAL};
use crate::matrix::CodeMatrix;
use crate::parallel::{balanced_blocks, parallel_blocks};
use crate::parallel::{concat, try_map_blocks};

/// The rows of a chunk: labels, CSR structure (present features only: an explicit value of 0
/// is absent), and how many malformed lines were skipped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedRows {
    /// The label of every row.
    pub labels: Vec<f64>,
    /// Row pointers.
    pub indptr: Vec<i64>,
    /// Indices of every row, as written.
    pub indices: Vec<i64>,
    /// Malformed lines skipped.
    pub skipped_lines: u64,
    /// Line ends in the text (`\r\n` counting once): how many lines the next chunk starts after.
    pub line_ends: u64,
    /// Smallest index written (`i64::MAX` when none), to tell 0-based files from 1-based ones:
    /// every entry counts, an explicit 0 value included, since `0:0` still says that the file
    /// numbers its columns from 0.
    pub min_index: i64,
}

/// A parsed line: its label and the smallest index written on it (`i64::MAX` when none).
type Line = Option<(f64, i64)>;

/// What is wrong with a line, as a message for `line N: ...`.
fn parse_line(line: &[u8], indices: &mut Vec<i64>) -> std::result::Result<Line, String> {
    let line = match line.iter().position(|&b| b == b'#') {
        Some(hash) => &line[..hash],
        None => line,
    };
    let mut tokens = line
        .split(u8::is_ascii_whitespace)
        .filter(|t| !t.is_empty());
    let Some(label) = tokens.next() else {
        return Ok(None); // blank or comment-only line: no row
    };
    let label = std::str::from_utf8(label)
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|l| l.is_finite())
        .ok_or_else(|| format!("the label {:?} is not a finite number", lossy(label)))?;
    let before = indices.len();
    let mut min_index = i64::MAX;
    for (position, token) in tokens.enumerate() {
        if position == 0 && token.starts_with(b"qid:") {
            continue;
        }
        let (index, value) = match token.iter().position(|&b| b == b':') {
            Some(colon) => (&token[..colon], Some(&token[colon + 1..])),
            None => (token, None),
        };
        let index = std::str::from_utf8(index)
            .ok()
            .and_then(|t| t.parse::<i64>().ok())
            .filter(|&i| i >= 0)
            .ok_or_else(|| {
                format!(
                    "{:?} is not index:value with a non-negative integer index",
                    lossy(token)
                )
            })?;
        let present = match value {
            None => true,
            Some(value) => {
                let value = std::str::from_utf8(value)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                    .ok_or_else(|| format!("the value of {:?} is not a number", lossy(token)))?;
                if !value.is_finite() {
                    return Err(format!("the value of {:?} is not finite", lossy(token)));
                }
                value != 0.0
            }
        };
        min_index = min_index.min(index);
        if present {
            indices.push(index);
        }
    }
    // Duplicates within a row count once; sorting keeps rows canonical.
    indices[before..].sort_unstable();
    let mut write = before;
    for read in before..indices.len() {
        if write == before || indices[read] != indices[write - 1] {
            indices[write] = indices[read];
            write += 1;
        }
    }
    indices.truncate(write);
    Ok(Some((label, min_index)))
}

/// Where the line that holds byte `at` ends, and where the next one starts: a line ends at
/// `\n`, `\r\n` or a lone `\r` (old Mac files, and files whose lines were cut by hand), so that
/// neither a `\r` alone nor a `\r\n` pair runs two lines together or splits one in two.
fn line_end(text: &[u8], at: usize) -> Option<(usize, usize)> {
    let end = at + memchr::memchr2(b'\n', b'\r', &text[at..])?;
    let next = if text[end] == b'\r' && text.get(end + 1) == Some(&b'\n') {
        end + 2
    } else {
        end + 1
    };
    Some((end, next))
}

/// The lines of `text` (what follows the last line end included, as `split` gives it).
fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut at = Some(0);
    std::iter::from_fn(move || {
        let start = at?;
        if let Some((end, next)) = line_end(text, start) {
            at = Some(next);
            Some(&text[start..end])
        } else {
            at = None;
            Some(&text[start..])
        }
    })
}

/// Line ends in `text` (`\r\n` counting once).
pub fn count_line_ends(text: &[u8]) -> u64 {
    let mut count = 0;
    let mut at = 0;
    while let Some((_, next)) = line_end(text, at) {
        count += 1;
        at = next;
    }
    count
}

/// Where the whole lines of `text` end (0 when none does). A final `\r` is left for the next
/// block of the file, whose first byte may be its `\n`.
pub fn complete_lines(text: &[u8]) -> usize {
    let end = if text.last() == Some(&b'\r') {
        text.len() - 1
    } else {
        text.len()
    };
    memchr::memrchr2(b'\n', b'\r', &text[..end]).map_or(0, |k| k + 1)
}

fn lossy(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() > 40 {
        format!("{}...", text.chars().take(40).collect::<String>())
    } else {
        text.into_owned()
    }
}

/// Parses `text`, whole lines, whose first line is line `first_line` of its file (1-based, for
/// messages). A malformed line is an error naming its line, or, with `skip_bad_lines`, is
/// skipped and counted.
///
/// # Examples
///
/// ```
/// use chromatic_core::{Error, Interrupt, parse_rows};
///
/// let rows = parse_rows(b"1 3:1 7:1\n0 2:1 # a comment\n", 1, false, Interrupt::never())?;
/// assert_eq!(rows.labels, [1.0, 0.0]);
/// assert_eq!(rows.indptr, [0, 2, 3]);
/// assert_eq!(rows.indices, [3, 7, 2]);
/// let bad = parse_rows(b"1 3:1\nx 1:1\n", 10, false, Interrupt::never());
/// assert!(matches!(bad, Err(Error::Parse { line: 11, .. })));
/// # Ok::<(), chromatic_core::Error>(())
/// ```
pub fn parse_rows(
    text: &[u8],
    first_line: u64,
    skip_bad_lines: bool,
    interrupt: Interrupt<'_>,
) -> Result<ParsedRows> {
    // Cut the text into pieces at line ends (never inside a `\r\n`), and number each piece's
    // first line.
    let n_pieces = (text.len() / (1 << 20)).clamp(1, rayon::current_num_threads() * 4);
    let mut starts = vec![0usize];
    for p in 1..n_pieces {
        let guess = text.len() * p / n_pieces;
        let start = line_end(text, guess).map_or(text.len(), |(_, next)| next);
        if start > *starts.last().expect("one start") && start < text.len() {
            starts.push(start);
        }
    }
    starts.push(text.len());
    let line_counts: Vec<u64> = starts
        .par_windows(2)
        .map(|w| count_line_ends(&text[w[0]..w[1]]))
        .collect();
    let mut first_lines = vec![first_line];
    for count in &line_counts[..line_counts.len() - 1] {
        first_lines.push(first_lines[first_lines.len() - 1] + count);
    }
    // Pieces are about equal in size: one block each.
    let blocks = (0..starts.len() - 1).map(|p| p..p + 1).collect();
    let parts = try_map_blocks(blocks, |range| {
        // Row lengths go into `indptr` here; the pieces' rows are chained into offsets below.
        let mut out = ParsedRows {
            min_index: i64::MAX,
            ..ParsedRows::default()
        };
        let lengths = &mut out.indptr;
        for piece in range {
            let piece_text = &text[starts[piece]..starts[piece + 1]];
            for (k, line) in lines(piece_text).enumerate() {
                if k % POLL_INTERVAL == 0 {
                    interrupt.check()?;
                }
                let line_number = first_lines[piece] + k as u64;
                let before = out.indices.len();
                match parse_line(line, &mut out.indices) {
                    Ok(Some((label, min_index))) => {
                        out.labels.push(label);
                        lengths.push((out.indices.len() - before) as i64);
                        out.min_index = out.min_index.min(min_index);
                    }
                    Ok(None) => {}
                    Err(message) => {
                        out.indices.truncate(before);
                        if !skip_bad_lines {
                            return Err(Error::Parse {
                                line: line_number,
                                message,
                            });
                        }
                        out.skipped_lines += 1;
                    }
                }
            }
        }
        Ok(out)
    })?;
    let mut indptr = Vec::with_capacity(parts.iter().map(|p| p.indptr.len()).sum::<usize>() + 1);
    indptr.push(0i64);
    for part in &parts {
        for &len in &part.indptr {
            indptr.push(indptr[indptr.len() - 1] + len);
        }
    }
    Ok(ParsedRows {
        labels: concat(parts.iter().map(|p| p.labels.as_slice()), "parsed rows")?,
        indptr,
        indices: concat(parts.iter().map(|p| p.indices.as_slice()), "parsed rows")?,
        skipped_lines: parts.iter().map(|p| p.skipped_lines).sum(),
        line_ends: line_counts.iter().sum(),
        min_index: parts.iter().map(|p| p.min_index).min().unwrap_or(i64::MAX),
    })
}

/// Appends the decimal digits of `value` (faster than `write!` in the per-entry loop).
fn push_integer(out: &mut Vec<u8>, value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Lines `label entries...\n` for rows `0..labels.len()`, `write_entries(row, out)` appending a
/// row's entries (each preceded by a space), built in parallel over blocks of rows.
fn format_lines(
    labels: &[f64],
    interrupt: Interrupt<'_>,
    write_entries: impl Fn(usize, &mut Vec<u8>) + Sync,
) -> Result<Vec<u8>> {
    let blocks = balanced_blocks(labels.len(), parallel_blocks(), |r| r);
    let parts = try_map_blocks(blocks, |rows| {
        let mut out = Vec::with_capacity(rows.len() * 64);
        for r in rows {
            if r % POLL_INTERVAL == 0 {
                interrupt.check()?;
            }
            // Display writes the shortest text that reads back as the same number: `1`, `-1`.
            out.extend_from_slice(labels[r].to_string().as_bytes());
            write_entries(r, &mut out);
            out.push(b'\n');
        }
        Ok(out)
    })?;
    concat(parts.iter().map(Vec::as_slice), "formatted rows")
}

/// svmlight text of code rows: `label color:code ...` with 0-based colors, absent (0) codes left
/// out.
pub fn format_codes(
    labels: &[f64],
    codes: &CodeMatrix<'_>,
    interrupt: Interrupt<'_>,
) -> Result<Vec<u8>> {
    if labels.len() != codes.n_rows() {
        return Err(Error::LengthMismatch {
            what: "labels",
            len: labels.len(),
            expected_from: "codes (rows)",
            expected: codes.n_rows(),
        });
    }
    format_lines(labels, interrupt, |r, out| {
        for (color, &code) in codes.row(r).iter().enumerate() {
            if code != 0 {
                out.push(b' ');
                push_integer(out, color as u64);
                out.push(b':');
                if code < 0 {
                    out.push(b'-');
                }
                push_integer(out, u64::from(code.unsigned_abs()));
            }
        }
    })
}

/// svmlight text of CSR rows: `label index:value ...`, with the integer `values` of the
/// entries, or `label index:1 ...` without them (binary rows).
pub fn format_rows(
    labels: &[f64],
    indptr: &[i64],
    indices: &[i64],
    values: Option<&[i32]>,
    interrupt: Interrupt<'_>,
) -> Result<Vec<u8>> {
    if let Some(values) = values
        && values.len() != indices.len()
    {
        return Err(Error::LengthMismatch {
            what: "values",
            len: values.len(),
            expected_from: "indices",
            expected: indices.len(),
        });
    }
    if indptr.len() != labels.len() + 1 {
        return Err(Error::LengthMismatch {
            what: "indptr",
            len: indptr.len(),
            expected_from: "labels (rows) + 1",
            expected: labels.len() + 1,
        });
    }
    if indptr[0] != 0 {
        return Err(Error::IndptrStart { first: indptr[0] });
    }
    let last = indptr[labels.len()];
    if last != indices.len() as i64 {
        return Err(Error::IndptrEnd {
            last,
            nnz: indices.len(),
        });
    }
    if let Some((row, ends)) = indptr.windows(2).enumerate().find(|(_, e)| e[1] < e[0]) {
        return Err(Error::IndptrDecreasing {
            row,
            start: ends[0],
            end: ends[1],
        });
    }
    // Monotone from 0 to indices.len(): every row's range is inside `indices`.
    for (row, ends) in indptr.windows(2).enumerate() {
        let (start, end) = (ends[0], ends[1]);
        if let Some(&index) = indices[start as usize..end as usize]
            .iter()
            .find(|&&i| i < 0)
        {
            return Err(Error::IndexOutOfRange {
                row,
                index,
                n_features: i64::MAX as usize,
            });
        }
    }
    format_lines(labels, interrupt, |r, out| {
        for k in indptr[r] as usize..indptr[r + 1] as usize {
            out.push(b' ');
            push_integer(out, indices[k] as u64);
            out.push(b':');
            let value = values.map_or(1, |values| values[k]);
            if value < 0 {
                out.push(b'-');
            }
            push_integer(out, u64::from(value.unsigned_abs()));
        }
    })
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    fn parse(text: &str, skip: bool) -> Result<ParsedRows> {
        parse_rows(text.as_bytes(), 1, skip, Interrupt::never())
    }

    #[test]
    fn formats_codes_and_sparse_rows() {
        let codes = CodeMatrix::new(&[0, 3, 12, 0, 0, 0], 2, 3).unwrap();
        let text = format_codes(&[1.0, -0.5], &codes, Interrupt::never()).unwrap();
        assert_eq!(String::from_utf8(text).unwrap(), "1 1:3 2:12\n-0.5\n");
        let text = format_rows(
            &[0.0, 1.0],
            &[0, 0, 2],
            &[7, 1024],
            None,
            Interrupt::never(),
        )
        .unwrap();
        assert_eq!(String::from_utf8(text).unwrap(), "0\n1 7:1 1024:1\n");
        let values = Some(&[-2, 3][..]);
        let text = format_rows(
            &[0.0, 1.0],
            &[0, 0, 2],
            &[7, 1024],
            values,
            Interrupt::never(),
        )
        .unwrap();
        assert_eq!(String::from_utf8(text).unwrap(), "0\n1 7:-2 1024:3\n");
        let short = Some(&[1][..]);
        assert!(matches!(
            format_rows(&[1.0], &[0, 2], &[7, 9], short, Interrupt::never()).unwrap_err(),
            Error::LengthMismatch { what: "values", .. }
        ));
        // What is written reads back as the same rows.
        let parsed = parse("1 7:1 1024:1\n", false).unwrap();
        assert_eq!(parsed.indices, vec![7, 1024]);
        let bad = |indptr: &[i64], indices: &[i64]| {
            format_rows(&[0.0, 1.0], indptr, indices, None, Interrupt::never()).unwrap_err()
        };
        assert!(matches!(bad(&[0, 1], &[1]), Error::LengthMismatch { .. }));
        assert!(matches!(
            bad(&[0, 3, 1], &[1]),
            Error::IndptrDecreasing { row: 1, .. }
        ));
        assert!(matches!(
            bad(&[0, 0, 1], &[-4]),
            Error::IndexOutOfRange {
                row: 1,
                index: -4,
                ..
            }
        ));
        let short = CodeMatrix::new(&[1], 1, 1).unwrap();
        assert!(format_codes(&[1.0, 0.0], &short, Interrupt::never()).is_err());
    }

    #[test]
    fn parses_labels_indices_qid_comments_and_zero_values() {
        let rows = parse(
            "1 3:1 1:0.5 7:0\n# a comment\n\n-1 qid:4 2 2:1 5:-2.5 # trailing\r\n+1\n",
            false,
        )
        .unwrap();
        assert_eq!(rows.labels, vec![1.0, -1.0, 1.0]);
        assert_eq!(rows.indptr, vec![0, 2, 4, 4]);
        assert_eq!(rows.indices, vec![1, 3, 2, 5]);
        assert_eq!(rows.min_index, 1);
        assert_eq!(rows.skipped_lines, 0);
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line_and_a_crlf_pair_ends_one() {
        let rows = parse("1 1:1 2:1\r0 2:1 3:1\r", false).unwrap();
        assert_eq!(rows.labels, vec![1.0, 0.0]);
        assert_eq!(rows.indptr, vec![0, 2, 4]);
        assert_eq!(rows.indices, vec![1, 2, 2, 3]);
        assert_eq!(rows.min_index, 1);
        // Mixed ends: `\r\n` is one line end, `\r\r` two (a blank line between).
        let text = "1 1:1\r\n0 2:1\r\r1 3:1\nx 4:1\r";
        let err = parse(text, false).unwrap_err();
        assert!(matches!(err, Error::Parse { line: 5, .. }), "{err:?}");
        let rows = parse(text, true).unwrap();
        assert_eq!(rows.labels, vec![1.0, 0.0, 1.0]);
        assert_eq!(count_line_ends(text.as_bytes()), 5);
        assert_eq!(rows.line_ends, 5);
        assert_eq!(count_line_ends(b"a\r\nb\rc\nd"), 3);
    }

    #[test]
    fn whole_lines_end_at_the_last_line_end_but_a_final_carriage_return() {
        assert_eq!(complete_lines(b"1 1:1\n0 2:1"), 6);
        assert_eq!(complete_lines(b"1 1:1\r0 2:1\n"), 12);
        assert_eq!(complete_lines(b"1 1:1\n0 2:1\r\n"), 13);
        // The `\n` of a `\r\n` may come with the next block: the `\r` waits for it.
        assert_eq!(complete_lines(b"1 1:1\n0 2:1\r"), 6);
        assert_eq!(complete_lines(b"1 1:1"), 0);
        assert_eq!(complete_lines(b"\r"), 0);
        assert_eq!(complete_lines(b""), 0);
        // Cut where it says, the parts parse as the whole does, line numbers included.
        let text = b"1 1:1\r\n0 2:1\r1 3:1\n\n0 4:1\r";
        let cut = complete_lines(text);
        let first = parse_rows(&text[..cut], 1, false, Interrupt::never()).unwrap();
        let rest = parse_rows(&text[cut..], 1 + first.line_ends, false, Interrupt::never());
        let whole = parse_rows(text, 1, false, Interrupt::never()).unwrap();
        assert_eq!(
            first.labels.len() + rest.unwrap().labels.len(),
            whole.labels.len()
        );
        assert_eq!(first.line_ends, 4);
    }

    #[test]
    fn every_written_index_counts_for_the_base_explicit_zeros_included() {
        let rows = parse("1 0:0 3:1\n", false).unwrap();
        assert_eq!(rows.indices, vec![3]);
        assert_eq!(rows.min_index, 0);
        let rows = parse("1 5:1 2:0.0\n0 7\n", false).unwrap();
        assert_eq!(rows.min_index, 2);
        // A skipped line says nothing about the base.
        let rows = parse("1 0:1 oops\n0 4:1\n", true).unwrap();
        assert_eq!(rows.min_index, 4);
        assert_eq!(parse("# only\n\n", false).unwrap().min_index, i64::MAX);
    }

    #[test]
    fn names_the_line_of_each_kind_of_error() {
        let cases = [
            ("1 1:1\nx 2:1\n", 2, "label"),
            ("1 1:1\n1 a:1\n", 2, "index"),
            ("1 1:1\n\n1 -3:1\n", 3, "index"),
            ("1 2:b\n", 1, "not a number"),
            ("1 2:nan\n", 1, "not finite"),
            ("inf 2:1\n", 1, "label"),
        ];
        for (text, line, word) in cases {
            let err = parse(text, false).unwrap_err();
            let Error::Parse { line: got, message } = &err else {
                panic!("{err:?}")
            };
            assert_eq!(*got, line, "{text:?}");
            assert!(message.contains(word), "{message}");
        }
        let rows = parse("1 1:1\nx 2:1\n0 4:1\n", true).unwrap();
        assert_eq!(rows.skipped_lines, 1);
        assert_eq!(rows.labels, vec![1.0, 0.0]);
        assert_eq!(rows.indices, vec![1, 4]);
    }

    #[test]
    fn pieces_and_line_numbers_survive_large_inputs() {
        let mut text = String::new();
        for r in 0..300_000 {
            // Every kind of line end, so that pieces are cut next to each.
            let end = ["\n", "\r\n", "\r"][r % 3];
            write!(text, "{} {}:1 {}:1{end}", r % 2, r % 1000, 1000 + r % 7).unwrap();
        }
        text.push_str("1 oops\n");
        let err = parse(&text, false).unwrap_err();
        assert!(matches!(err, Error::Parse { line: 300_001, .. }), "{err:?}");
        let rows = parse(&text, true).unwrap();
        assert_eq!(rows.labels.len(), 300_000);
        assert_eq!(rows.indptr[300_000], 600_000);
        assert_eq!(rows.indices[2..4], [1, 1001]);
        assert_eq!(rows.min_index, 0);
    }
}
