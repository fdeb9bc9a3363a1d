use std::fmt::Write;
use std::sync::atomic::AtomicBool;

use proptest::prelude::*;

use super::*;
use crate::parallel::in_pool;

fn csv() -> DelimitedFormat {
    DelimitedFormat::new(b',', Some(b'"')).unwrap()
}

/// A column's values as text, `None` for a null.
fn values(column: &TextColumn) -> Vec<Option<String>> {
    (0..column.len())
        .map(|i| {
            let (start, end) = (column.offsets[i] as usize, column.offsets[i + 1] as usize);
            column.valid[i].then(|| String::from_utf8(column.data[start..end].to_vec()).unwrap())
        })
        .collect()
}

fn split(text: &str, n_fields: Option<usize>) -> Result<Vec<Vec<Option<String>>>> {
    let columns = split_delimited(text.as_bytes(), csv(), n_fields, 1, Interrupt::never())?;
    Ok(columns.iter().map(values).collect())
}

#[allow(clippy::unnecessary_wraps)] // a value as `values` gives it
fn some(text: &str) -> Option<String> {
    Some(text.to_string())
}

/// `split_delimited` over up to `n_ranges` ranges, whatever the threads.
fn split_in_ranges(
    text: &[u8],
    format: DelimitedFormat,
    n_fields: usize,
    first_line: u64,
    n_ranges: usize,
    interrupt: Interrupt<'_>,
) -> Result<Vec<TextColumn>> {
    let plan = plan_in_ranges(text, format, n_fields, first_line, n_ranges, interrupt)?;
    write_columns(&plan, text, interrupt)
}

#[test]
fn quoted_fields_hold_delimiters_line_ends_and_quotes() {
    let text = "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"two\nlines\",\"\"\n";
    let columns = split(text, None).unwrap();
    assert_eq!(columns[0], [some("a"), some("x,y"), some("two\nlines")]);
    assert_eq!(columns[1], [some("b"), some("say \"hi\""), some("")]);
}

#[test]
fn empty_fields_are_null_and_quoted_empty_fields_are_strings() {
    let columns = split("1,,\"\"\n,x,\n", Some(3)).unwrap();
    assert_eq!(columns[0], [some("1"), None]);
    assert_eq!(columns[1], [None, some("x")]);
    assert_eq!(columns[2], [some(""), None]);
}

#[test]
fn crlf_empty_lines_and_a_last_record_without_line_end() {
    let columns = split("a,b\r\n\r\n\n1,2\r\n3,\"4\"\r\n5,6", Some(2)).unwrap();
    assert_eq!(columns[0], [some("a"), some("1"), some("3"), some("5")]);
    assert_eq!(columns[1], [some("b"), some("2"), some("4"), some("6")]);
    // A `\r` inside quotes, or before a delimiter, is kept.
    let columns = split("\"x\r\",y\r,z\r\n", Some(3)).unwrap();
    assert_eq!(columns[0], [some("x\r")]);
    assert_eq!(columns[1], [some("y\r")]);
    assert_eq!(columns[2], [some("z")]);
}

#[test]
fn stray_quotes_are_taken_as_written() {
    let columns = split("a\"b,\"ab\"c\"d\n", Some(2)).unwrap();
    assert_eq!(columns[0], [some("a\"b")]);
    assert_eq!(columns[1], [some("abc\"d")]);
}

#[test]
fn without_a_quote_byte_quotes_are_text() {
    let format = DelimitedFormat::new(b'\t', None).unwrap();
    let columns = split_delimited(b"\"a\tb\n", format, None, 1, Interrupt::never()).unwrap();
    assert_eq!(values(&columns[0]), [some("\"a")]);
    assert_eq!(values(&columns[1]), [some("b")]);
}

#[test]
fn a_trailing_delimiter_is_an_empty_last_field() {
    assert_eq!(split("a,\n", None).unwrap(), [vec![some("a")], vec![None]]);
    assert_eq!(split("a,", None).unwrap(), [vec![some("a")], vec![None]]);
}

#[test]
fn no_records() {
    assert!(split("", None).unwrap().is_empty());
    assert!(split("\n\r\n", None).unwrap().is_empty());
    assert_eq!(split("\n\n", Some(2)).unwrap(), [vec![], vec![]]);
    assert_eq!(split("", Some(1)).unwrap(), [vec![]]);
}

#[test]
fn ragged_rows_name_their_line() {
    // Line 5 holds the third record: a quoted line end and an empty line come before it.
    let text = "a,b\n\"x\ny\",z\n\nc\n";
    let err = split(text, None).unwrap_err();
    assert_eq!(
        err,
        Error::RaggedRow {
            line: 5,
            fields: 1,
            expected: 2
        }
    );
    assert_eq!(err.to_string(), "line 5: 1 fields, but the header has 2");
    let err = split_delimited(b"a,b\nc,d,e,f\n", csv(), Some(2), 10, Interrupt::never());
    assert_eq!(
        err.unwrap_err().to_string(),
        "line 11: 4 fields, but the header has 2"
    );
}

#[test]
fn an_unclosed_quote_names_the_line_it_opens() {
    let err = split("a,b\nc,d\ne,\"f\n\ng,h\n", Some(2)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 3: a quote opened here is never closed"
    );
    let err = split("\"a\nb", None).unwrap_err();
    assert_eq!(err, Error::UnclosedQuote { line: 1 });
}

#[test]
fn invalid_utf8_names_line_and_field() {
    let text = b"a,b\nc,d\n\"x\ny\",z\ne,\xff\xfe\n";
    let err = split_delimited(text, csv(), None, 1, Interrupt::never()).unwrap_err();
    assert_eq!(err.to_string(), "line 5, field 2: not UTF-8");
    // A character cut by a delimiter is no character, though the bytes are UTF-8 as a whole.
    let err = split_delimited(b"\xc3\xa9,\xc3\n", csv(), None, 3, Interrupt::never());
    assert_eq!(err.unwrap_err(), Error::NotUtf8 { line: 3, field: 2 });
    let columns = split("é,\"ü\"\"\"\n", None).unwrap();
    assert_eq!(columns, [vec![some("é")], vec![some("ü\"")]]);
}

#[test]
fn the_first_error_is_reported() {
    // A ragged row (line 2) comes before an unclosed quote (line 4), however the text is cut.
    let text = "a,b\nc\nd,e\n\"f\n";
    for n_ranges in 1..8 {
        let err = split_in_ranges(text.as_bytes(), csv(), 2, 1, n_ranges, Interrupt::never());
        assert_eq!(
            err.unwrap_err().to_string(),
            "line 2: 1 fields, but the header has 2"
        );
    }
}

#[test]
fn formats_are_checked() {
    assert!(DelimitedFormat::new(b',', Some(b',')).is_err());
    assert!(DelimitedFormat::new(b'\n', Some(b'"')).is_err());
    assert!(DelimitedFormat::new(b',', Some(b'\r')).is_err());
    assert!(DelimitedFormat::new(0xa7, None).is_err());
    assert!(DelimitedFormat::new(b'|', None).is_ok());
    let zero = split_delimited(b"a\n", csv(), Some(0), 1, Interrupt::never());
    assert!(matches!(zero, Err(Error::InvalidParameter(_))));
}

#[test]
fn complete_records_leave_the_unfinished_tail() {
    let format = csv();
    assert_eq!(complete_records(b"", format), 0);
    assert_eq!(complete_records(b"a,b", format), 0);
    assert_eq!(complete_records(b"a,b\nc,d", format), 4);
    assert_eq!(complete_records(b"a,b\nc,d\n", format), 8);
    assert_eq!(complete_records(b"a,b\r", format), 0);
    // A line end inside quotes ends no record.
    assert_eq!(complete_records(b"a,b\n\"c\nd", format), 4);
    assert_eq!(complete_records(b"a,b\n\"c\nd\",e\n", format), 12);
    // A quote inside an unquoted field opens nothing.
    assert_eq!(complete_records(b"a\"b,c\nd", format), 6);
}

#[test]
fn record_lines_count_every_line() {
    let text = b"a,b\n\n\"c\nd\",e\n\nf,g\n";
    let line = |row| record_line(text, csv(), 10, row).unwrap();
    assert_eq!(
        [line(0), line(1), line(2), line(3)],
        [Some(10), Some(12), Some(15), None]
    );
}

#[test]
fn a_plan_writes_to_buffers_of_its_sizes_only() {
    let text = b"ab,c\n,\"\"\n";
    let plan = plan_delimited(text, csv(), None, 1, Interrupt::never()).unwrap();
    assert_eq!((plan.n_fields(), plan.n_rows()), (2, 2));
    assert_eq!((plan.column_bytes(0), plan.column_bytes(1)), (2, 1));
    let (mut offsets, mut data, mut valid) = ([9i64; 3], [0u8; 2], [false; 2]);
    let (mut offsets_1, mut data_1, mut valid_1) = ([0i64; 3], [0u8; 1], [false; 2]);
    let mut columns = [
        ColumnBuffers {
            offsets: &mut offsets,
            data: &mut data,
            valid: &mut valid,
        },
        ColumnBuffers {
            offsets: &mut offsets_1,
            data: &mut data_1,
            valid: &mut valid_1,
        },
    ];
    plan.write(text, &mut columns, Interrupt::never()).unwrap();
    assert_eq!((offsets, &data, valid), ([0, 2, 2], b"ab", [true, false]));
    assert_eq!(
        (offsets_1, &data_1, valid_1),
        ([0, 1, 1], b"c", [true, true])
    );
    let mut short = [0u8; 1];
    let mut columns = [
        ColumnBuffers {
            offsets: &mut offsets,
            data: &mut short,
            valid: &mut valid,
        },
        ColumnBuffers {
            offsets: &mut offsets_1,
            data: &mut data_1,
            valid: &mut valid_1,
        },
    ];
    let err = plan
        .write(text, &mut columns, Interrupt::never())
        .unwrap_err();
    assert!(matches!(
        err,
        Error::ColumnLength {
            column: 0,
            what: "data",
            len: 1,
            expected: 2,
            ..
        }
    ));
    let err = plan
        .write(b"ab,c\n", &mut columns, Interrupt::never())
        .unwrap_err();
    assert!(matches!(err, Error::LengthMismatch { what: "text", .. }));
}

#[test]
fn a_raised_flag_interrupts() {
    let flag = AtomicBool::new(true);
    let result = split_delimited(b"a,b\n", csv(), None, 1, Interrupt::new(&flag));
    assert_eq!(result, Err(Error::Interrupted));
}

/// A table as written, and its text.
type Table = Vec<Vec<Option<String>>>;

/// A field as written: null empty, other values quoted when `quoted` or when they must be.
fn write_field(text: &mut String, value: Option<&str>, quoted: bool) {
    let Some(value) = value else { return };
    let must = value.is_empty() || value.starts_with('"') || value.contains([',', '\n', '\r']);
    if quoted || must {
        text.push('"');
        text.push_str(&value.replace('"', "\"\""));
        text.push('"');
    } else {
        text.push_str(value);
    }
}

/// The text of `rows`, with quoting choices, line ends (`\n` or `\r\n`) and empty lines drawn
/// from `choices`; returns the text and where each record ends (line end included).
fn write_table(rows: &Table, choices: &[u8], final_end: bool) -> (String, Vec<usize>) {
    let mut text = String::new();
    let mut ends = Vec::new();
    let mut choice = choices.iter().cycle();
    for (r, row) in rows.iter().enumerate() {
        for (f, value) in row.iter().enumerate() {
            if f > 0 {
                text.push(',');
            }
            write_field(&mut text, value.as_deref(), choice.next().unwrap() % 3 == 0);
        }
        let c = choice.next().unwrap();
        if r + 1 < rows.len() || final_end {
            text.push_str(if c % 2 == 0 { "\n" } else { "\r\n" });
        }
        ends.push(text.len());
        if c % 5 == 0 && r + 1 < rows.len() {
            text.push('\n');
        }
    }
    (text, ends)
}

fn table() -> impl Strategy<Value = Table> {
    (2usize..5, 0usize..12).prop_flat_map(|(n_fields, n_rows)| {
        let value = prop::option::of("[a,\"\n\ré ]{0,6}");
        prop::collection::vec(prop::collection::vec(value, n_fields), n_rows)
    })
}

fn transposed(columns: &[TextColumn]) -> Table {
    let columns: Vec<_> = columns.iter().map(values).collect();
    let n_rows = columns.first().map_or(0, Vec::len);
    (0..n_rows)
        .map(|r| columns.iter().map(|c| c[r].clone()).collect())
        .collect()
}

proptest! {
    #[test]
    fn written_tables_read_back(
        rows in table(),
        choices in prop::collection::vec(any::<u8>(), 1..40),
        final_end: bool,
        n_ranges in 1usize..6,
    ) {
        prop_assume!(!rows.is_empty());
        let (text, _) = write_table(&rows, &choices, final_end);
        let n_fields = rows[0].len();
        let columns = split_in_ranges(
            text.as_bytes(), csv(), n_fields, 1, n_ranges, Interrupt::never()
        ).unwrap();
        prop_assert_eq!(transposed(&columns), rows.clone());
        let one = in_pool(1, || split_delimited(text.as_bytes(), csv(), None, 1, Interrupt::never()));
        let four = in_pool(4, || split_delimited(text.as_bytes(), csv(), None, 1, Interrupt::never()));
        prop_assert_eq!(&one, &four);
        prop_assert_eq!(one.unwrap(), columns);
    }

    #[test]
    fn complete_records_never_cut_a_record(
        rows in table(),
        choices in prop::collection::vec(any::<u8>(), 1..40),
        cut in any::<prop::sample::Index>(),
    ) {
        prop_assume!(!rows.is_empty());
        let (text, ends) = write_table(&rows, &choices, true);
        let text = text.as_bytes();
        let cut = cut.index(text.len() + 1);
        let end = complete_records(&text[..cut], csv());
        // The end is a record's end (or 0), and no record ends between it and the cut.
        prop_assert!(end <= cut);
        prop_assert!(end == 0 || ends.contains(&end) || text[end - 1] == b'\n');
        prop_assert!(!ends.iter().any(|&e| end < e && e <= cut && text[e - 1] == b'\n'));
        // Reading the complete records, then the rest, reads the whole.
        let n_fields = rows[0].len();
        let head = split_delimited(&text[..end], csv(), Some(n_fields), 1, Interrupt::never());
        let lines = count_line_ends(&text[..end]);
        let tail = split_delimited(
            &text[end..], csv(), Some(n_fields), 1 + lines, Interrupt::never()
        );
        let mut joined = transposed(&head.unwrap());
        joined.extend(transposed(&tail.unwrap()));
        prop_assert_eq!(joined, rows);
    }

    #[test]
    fn results_and_errors_do_not_depend_on_the_ranges(
        text in "[a,\"\n\r\u{e9}]{0,60}",
        bad in prop::option::of((any::<prop::sample::Index>(), any::<u8>())),
    ) {
        let mut text = text.into_bytes();
        if let Some((at, byte)) = bad {
            let at = at.index(text.len() + 1);
            text.insert(at, byte);
        }
        let reference = split_in_ranges(&text, csv(), 2, 1, 1, Interrupt::never());
        for n_ranges in 2..6 {
            let other = split_in_ranges(&text, csv(), 2, 1, n_ranges, Interrupt::never());
            prop_assert_eq!(&other, &reference);
        }
    }
}

#[test]
fn large_texts_read_alike_with_any_number_of_threads() {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for quoted in [false, true] {
        let mut text = String::new();
        for r in 0..40_000 {
            for f in 0..5 {
                if f > 0 {
                    text.push('\t');
                }
                match rng.random_range(0..10) {
                    0 => {}
                    1 if quoted => text.push_str("\"a\tb\nc\"\"\""),
                    _ => write!(text, "{:x}", rng.random_range(0..1u32 << (r % 30))).unwrap(),
                }
            }
            text.push('\n');
        }
        let format = DelimitedFormat::new(b'\t', Some(b'"')).unwrap();
        let read = |threads| {
            in_pool(threads, || {
                split_delimited(text.as_bytes(), format, Some(5), 1, Interrupt::never())
            })
        };
        let one = read(1).unwrap();
        assert_eq!(one[0].len(), 40_000);
        assert_eq!(read(3).unwrap(), one);
        assert_eq!(read(8).unwrap(), one);
    }
}

/// A range read by the fast readers (8 bytes at a time, with or without quotes), and field by
/// field with `read_field`: the columns, or the error.
fn fast_and_field_by_field(
    text: &[u8],
    format: DelimitedFormat,
    n_fields: usize,
) -> [Result<Vec<TextColumn>>; 2] {
    let never = Interrupt::never();
    let fast = || {
        let size = records::measure_range::<false>(text, format, n_fields, 5, never)?;
        let mut columns = (0..n_fields)
            .map(|c| TextColumn::zeroed(size.rows, size.bytes[c]))
            .collect::<Result<Vec<_>>>()?;
        let mut parts: Vec<_> = columns
            .iter_mut()
            .map(|column| {
                let ends = &mut column.offsets[1..];
                ColumnPart::new(ends, &mut column.data, &mut column.valid, 0)
            })
            .collect();
        records::write_range(text, format, &mut parts, never)?;
        drop(parts);
        Ok(columns)
    };
    let field_by_field = || {
        records::measure_checked(text, format, n_fields, 5, never)?;
        let mut columns: Vec<TextColumn> = (0..n_fields)
            .map(|_| TextColumn::zeroed(0, 0))
            .collect::<Result<_>>()?;
        let mut at = 0;
        while at < text.len() {
            if let Some(next) = fields::empty_line_end(text, at) {
                at = next;
                continue;
            }
            for column in &mut columns {
                let field = fields::read_field(text, at, format, &mut 0, &mut column.data)?;
                column.offsets.push(column.data.len() as i64);
                column.valid.push(field.present);
                at = field.next;
            }
        }
        Ok(columns)
    };
    [fast(), field_by_field()]
}

/// Where the lines outside quotes end, found by reading the fields (up to a quote never closed).
fn line_ends_by_fields(text: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut at = 0;
    while at < text.len() {
        if let Some(next) = fields::empty_line_end(text, at) {
            at = next;
        } else {
            loop {
                let Ok(field) = fields::read_field(text, at, csv(), &mut 0, &mut fields::Discard)
                else {
                    return ends;
                };
                at = field.next;
                if field.last {
                    break;
                }
            }
        }
        if text[at - 1] == b'\n' {
            ends.push(at);
        }
    }
    ends
}

proptest! {
    #[test]
    fn the_line_end_scan_follows_quotes_as_the_fields_do(text in "[a,\"\n\r]{0,80}") {
        let mut ends = Vec::new();
        fields::line_ends_outside_quotes(text.as_bytes(), csv(), |end| {
            ends.push(end);
            true
        });
        prop_assert_eq!(ends, line_ends_by_fields(text.as_bytes()));
    }

    #[test]
    fn the_fast_readers_read_as_field_by_field(
        text in "[a,\"\n\r\u{e9}]{0,200}",
        n_fields in 1usize..4,
        quoted: bool,
    ) {
        let format = DelimitedFormat::new(b',', quoted.then_some(b'"')).unwrap();
        let [fast, field_by_field] = fast_and_field_by_field(text.as_bytes(), format, n_fields);
        prop_assert_eq!(fast, field_by_field);
    }
}

#[test]
fn the_readers_agree_across_block_boundaries() {
    // Fields, quotes and line ends on both sides of every 8- and 64-byte boundary.
    let mut text = Vec::new();
    for r in 0..300 {
        let x = "x".repeat(r % 70);
        let record = match r % 4 {
            0 => format!("{x},"),
            1 => format!("\"{x}\"\"\",\"\""),
            2 => format!("\"a\nb\",{x}"),
            _ => format!("{x}\"y,"),
        };
        text.extend_from_slice(record.as_bytes());
        text.extend_from_slice(if r % 3 == 0 { b"\r\n" } else { b"\n" });
        if r % 7 == 0 {
            text.push(b'\n');
        }
    }
    let [fast, field_by_field] = fast_and_field_by_field(&text, csv(), 2);
    assert_eq!(fast.as_ref().unwrap()[0].len(), 300);
    assert_eq!(fast, field_by_field);
    // Without quotes (nor the line ends they held), by the reader without quotes.
    let mut text = String::from_utf8(text).unwrap().replace("\"a\nb\"", "ab");
    text.retain(|c| c != '"');
    let plain = DelimitedFormat::new(b',', None).unwrap();
    let [fast, field_by_field] = fast_and_field_by_field(text.as_bytes(), plain, 2);
    assert_eq!(fast.as_ref().unwrap()[0].len(), 300);
    assert_eq!(fast, field_by_field);
}
