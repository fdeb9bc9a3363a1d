//! Properties of the parser and of the colorings, on generated inputs (proptest prints the
//! smallest failing case and the seed to replay it).

use chromatic_core::Strategy as Order;
use chromatic_core::svmlight::count_line_ends;
use chromatic_core::{Error, Graph, Interrupt, color, parse_rows, with_n_colors};
use proptest::prelude::*;

/// One row as written: a label and its entries (index, and a value: `None` for a bare index,
/// `Some(0)` for an explicit zero).
type Row = (i8, Vec<(u32, Option<i8>)>);

/// What a file holds between its rows.
#[derive(Clone, Debug)]
enum Extra {
    Blank,
    Comment(String),
}

const LINE_ENDS: [&str; 3] = ["\n", "\r\n", "\r"];

fn row() -> impl Strategy<Value = Row> {
    (
        -50i8..50,
        prop::collection::vec((0u32..50, prop::option::of(-3i8..4)), 0..8),
    )
}

fn extra() -> impl Strategy<Value = Extra> {
    prop_oneof![
        Just(Extra::Blank),
        "[ a-z:#.]{0,12}".prop_map(Extra::Comment),
    ]
}

/// A file of `rows` with `extras` between them, lines ended by `ends` in turn; returns the text
/// and the line (1-based) of every row.
fn write_file(
    rows: &[Row],
    extras: &[(usize, Extra)],
    ends: &[usize],
    final_end: bool,
) -> (String, Vec<u64>) {
    let mut text = String::new();
    let mut row_lines = Vec::new();
    let mut line = 1u64;
    let mut k = 0;
    let mut end = |text: &mut String, line: &mut u64| {
        let e = LINE_ENDS[ends[k % ends.len()]];
        k += 1;
        // A `\n` right after a `\r` would join it into one line end: keep the count honest by
        // following a `\r` with a `\r`.
        let e = if text.ends_with('\r') && e.starts_with('\n') {
            "\r"
        } else {
            e
        };
        text.push_str(e);
        *line += 1;
    };
    for (r, (label, entries)) in rows.iter().enumerate() {
        for (_, extra) in extras.iter().filter(|(at, _)| *at == r) {
            match extra {
                Extra::Blank => {}
                Extra::Comment(c) => {
                    text.push('#');
                    text.push_str(c);
                }
            }
            end(&mut text, &mut line);
        }
        text.push_str(&label.to_string());
        for (index, value) in entries {
            text.push(' ');
            text.push_str(&index.to_string());
            if let Some(v) = value {
                text.push(':');
                text.push_str(&v.to_string());
            }
        }
        if r % 3 == 1 {
            text.push_str(" # trailing: 1:1");
        }
        row_lines.push(line);
        if r + 1 < rows.len() || final_end {
            end(&mut text, &mut line);
        }
    }
    (text, row_lines)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn generated_files_parse_to_the_rows_written(
        rows in prop::collection::vec(row(), 0..20),
        extras in prop::collection::vec((0usize..20, extra()), 0..6),
        ends in prop::collection::vec(0usize..3, 1..6),
        final_end in any::<bool>(),
        first_line in 1u64..1000,
    ) {
        let (text, _) = write_file(&rows, &extras, &ends, final_end);
        let parsed = parse_rows(text.as_bytes(), first_line, false, Interrupt::never()).unwrap();
        let mut indptr = vec![0i64];
        let mut indices = Vec::new();
        let mut min_index = i64::MAX;
        for (_, entries) in &rows {
            let mut present: Vec<i64> = entries
                .iter()
                .filter(|(_, v)| *v != Some(0))
                .map(|&(i, _)| i64::from(i))
                .collect();
            present.sort_unstable();
            present.dedup();
            indices.extend(present);
            indptr.push(indices.len() as i64);
            for &(i, _) in entries {
                min_index = min_index.min(i64::from(i));
            }
        }
        let labels: Vec<f64> = rows.iter().map(|(l, _)| f64::from(*l)).collect();
        prop_assert_eq!(parsed.labels, labels);
        prop_assert_eq!(parsed.indptr, indptr);
        prop_assert_eq!(parsed.indices, indices);
        prop_assert_eq!(parsed.min_index, min_index);
        prop_assert_eq!(parsed.skipped_lines, 0);
    }

    #[test]
    fn a_bad_row_is_reported_at_its_line(
        rows in prop::collection::vec(row(), 1..20),
        extras in prop::collection::vec((0usize..20, extra()), 0..6),
        ends in prop::collection::vec(0usize..3, 1..6),
        bad in any::<prop::sample::Index>(),
        first_line in 1u64..1000,
    ) {
        let mut rows = rows;
        let bad = bad.index(rows.len());
        // Label 99 marks the row to spoil after writing.
        rows[bad].0 = 99;
        let (text, row_lines) = write_file(&rows, &extras, &ends, true);
        let text = text.replacen("99", "x9", 1);
        let err = parse_rows(text.as_bytes(), first_line, false, Interrupt::never()).unwrap_err();
        prop_assert!(
            matches!(err, Error::Parse { line, .. } if line == first_line + row_lines[bad] - 1),
            "{:?} for the row at line {}", err, row_lines[bad]
        );
        let skipped = parse_rows(text.as_bytes(), first_line, true, Interrupt::never()).unwrap();
        prop_assert_eq!(skipped.skipped_lines, 1);
        prop_assert_eq!(skipped.labels.len(), rows.len() - 1);
    }

    #[test]
    fn arbitrary_bytes_parse_or_name_a_line(
        text in prop::collection::vec(
            prop_oneof![
                any::<u8>(),
                Just(b'\n'), Just(b'\r'), Just(b':'), Just(b'#'), Just(b' '), Just(b'1'),
            ],
            0..200,
        ),
        first_line in 1u64..1000,
    ) {
        let lines = count_line_ends(&text) + 1;
        match parse_rows(&text, first_line, false, Interrupt::never()) {
            Ok(rows) => prop_assert_eq!(rows.indptr.len(), rows.labels.len() + 1),
            Err(Error::Parse { line, .. }) => {
                prop_assert!((first_line..first_line + lines).contains(&line));
            }
            Err(other) => prop_assert!(false, "an error that names no line: {}", other),
        }
        let skipped = parse_rows(&text, first_line, true, Interrupt::never()).unwrap();
        prop_assert!(skipped.skipped_lines <= lines);
    }

    #[test]
    fn colorings_of_generated_graphs_are_proper(
        n in 1usize..60,
        edges in prop::collection::vec((0u32..60, 0u32..60, 1u32..5), 0..300),
        asked in 1usize..200,
        seed in any::<u64>(),
    ) {
        let edges: Vec<(u32, u32, u32)> = edges
            .into_iter()
            .map(|(u, v, w)| (u % n as u32, v % n as u32, w))
            .filter(|(u, v, _)| u != v)
            .collect();
        let graph = Graph::from_edges(n, &edges).unwrap();
        let proper = |colors: &[u32]| {
            (0..n).all(|v| graph.neighbors(v).iter().all(|&w| colors[v] != colors[w as usize]))
        };
        for strategy in [
            Order::LargestFirst,
            Order::SmallestLast,
            Order::Natural,
            Order::Dsatur,
            Order::Random { seed },
        ] {
            let greedy = color(&graph, strategy, Interrupt::never()).unwrap();
            prop_assert!(proper(&greedy.colors));
            prop_assert!(greedy.colors.iter().all(|&c| (c as usize) < greedy.n_colors));
            let fixed = with_n_colors(&graph, &greedy, asked, Some(50), seed, Interrupt::never())
                .unwrap();
            prop_assert_eq!(fixed.coloring.n_colors, asked);
            prop_assert!(fixed.coloring.colors.iter().all(|&c| (c as usize) < asked));
            if asked >= greedy.n_colors {
                prop_assert!(proper(&fixed.coloring.colors));
                prop_assert_eq!(fixed.conflict_weight, 0);
            }
        }
    }
}
