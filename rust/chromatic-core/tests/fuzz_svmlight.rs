//! A mutation fuzzer for the svmlight parser, driven by `cargo test`: seed texts are mutated
//! (bytes flipped, inserted and cut, huge numbers, NaN and infinities, stray `:` and `#`, every
//! kind of line end) by a seeded generator, and each mutant must parse or be refused with an
//! error that names a line of the text, never panic.
//!
//! `CHROMATIC_FUZZ_ITERATIONS` sets the number of mutants (a small default keeps `cargo test`
//! quick) and `CHROMATIC_FUZZ_SEED` the seed (random by default); a failure prints both, so
//! that it can be replayed.

use std::panic::{AssertUnwindSafe, catch_unwind};

use chromatic_core::{Error, Interrupt, parse_rows};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SEEDS: &[&str] = &[
    "1 1:1 3:1 7:1\n0 2:1\n-1 qid:3 4:0.5 9:-2\n",
    "+1 0:1 1:0 2:1 # comment\r\n0\r\n# only a comment\r\n\r\n1 5\r\n",
    "1 1:1 2:1\r0 2:1 3:1\r",
    "3.5e2 10:1e-3 11:1E+2\n\n\n-0 2147483647:1\n",
    "1 9223372036854775807:1\n0 0:0 1:nan\n",
];

/// Replacements that reach the parser's corners.
const TOKENS: &[&str] = &[
    ":",
    "#",
    " ",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e309",
    "-0",
    "qid:",
    "qid:1",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "99999999999999999999999999999",
    "-1",
    "0x10",
    "1:",
    ":1",
    "::",
    "\u{0}",
    "\u{ff}",
    "é",
];

fn mutate(text: &mut Vec<u8>, rng: &mut ChaCha8Rng) {
    for _ in 0..rng.random_range(1..=8) {
        let at = rng.random_range(0..=text.len());
        match rng.random_range(0..7) {
            0 if !text.is_empty() => {
                let i = at.min(text.len() - 1);
                text[i] ^= 1 << rng.random_range(0..8);
            }
            1 => {
                text.insert(at, rng.random());
            }
            2 => {
                let token = TOKENS[rng.random_range(0..TOKENS.len())];
                text.splice(at..at, token.bytes());
            }
            3 => {
                let end = (at + rng.random_range(0..16)).min(text.len());
                text.drain(at..end);
            }
            4 => {
                text.truncate(at);
            }
            5 => {
                let digits: String = (0..rng.random_range(1..40))
                    .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                    .collect();
                text.splice(at..at, digits.bytes());
            }
            _ => {
                // Repeat a piece of the text, so that rows and line ends pile up.
                let start = rng.random_range(0..=at);
                let piece = text[start..at].to_vec();
                text.splice(at..at, piece);
            }
        }
    }
}

/// Line ends of `text`, by the rule the parser documents: `\r\n` once, `\n` or `\r` alone once.
fn lines_in(text: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(text).replace("\r\n", "\n");
    text.bytes().filter(|&b| b == b'\n' || b == b'\r').count() as u64 + 1
}

fn check(text: &[u8], first_line: u64, skip: bool) -> Result<(), String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        parse_rows(text, first_line, skip, Interrupt::never())
    }))
    .map_err(|_| "the parser panicked".to_string())?;
    match outcome {
        Ok(rows) => {
            let n = rows.labels.len();
            if rows.indptr.len() != n + 1 || rows.indptr[n] as usize != rows.indices.len() {
                return Err(format!("inconsistent rows: {rows:?}"));
            }
            if rows.indices.iter().any(|&i| i < 0 || i < rows.min_index) {
                return Err(format!("an index below min_index: {rows:?}"));
            }
            Ok(())
        }
        Err(Error::Parse { line, .. }) => {
            let last = first_line + lines_in(text) - 1;
            if skip {
                Err(format!("line {line} refused though bad lines are skipped"))
            } else if !(first_line..=last).contains(&line) {
                Err(format!("line {line} is outside {first_line}..={last}"))
            } else {
                Ok(())
            }
        }
        Err(other) => Err(format!("an error that names no line: {other}")),
    }
}

#[test]
fn mutated_svmlight_text_parses_or_names_a_line() {
    let iterations: u64 = std::env::var("CHROMATIC_FUZZ_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let seed: u64 = std::env::var("CHROMATIC_FUZZ_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(rand::random);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for iteration in 0..iterations {
        let mut text = SEEDS[rng.random_range(0..SEEDS.len())].as_bytes().to_vec();
        mutate(&mut text, &mut rng);
        let first_line = rng.random_range(1..1000);
        for skip in [false, true] {
            if let Err(problem) = check(&text, first_line, skip) {
                panic!(
                    "{problem}\n  mutant {iteration} of CHROMATIC_FUZZ_SEED={seed} \
                     (skip_bad_lines={skip}, first line {first_line}): {:?}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }
}
