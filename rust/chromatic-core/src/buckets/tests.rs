use super::*;
use crate::error::Error;
use crate::interrupt::Interrupt;
use crate::matrix::CodeMatrix;

fn stats(codes: &[i32], n_columns: usize, labels: &[bool], sizes: &[usize]) -> ValueStats {
    let m = CodeMatrix::new(codes, labels.len(), n_columns).unwrap();
    ValueStats::from_codes(&m, labels, None, sizes, Interrupt::never()).unwrap()
}

fn params(budget: usize) -> BucketParams {
    BucketParams {
        budget,
        smoothing: 0.0,
        min_bucket_rows: 1,
        penalty: 0.0,
    }
}

#[test]
fn counts_rows_and_positives_per_value() {
    let s = stats(&[1, 0, 2, 0, 1, 1], 2, &[true, false, true], &[3, 2]);
    assert_eq!(s.rows, vec![0, 2, 1, 2, 1]);
    assert_eq!(s.positives, vec![0, 2, 0, 1, 1]);
    assert_eq!((s.n_rows, s.n_positives), (3, 2));
    let m = CodeMatrix::new(&[0, 5], 1, 2).unwrap();
    let err = ValueStats::from_codes(&m, &[true], None, &[3, 2], Interrupt::never()).unwrap_err();
    assert!(matches!(
        err,
        Error::CodeOutOfRange {
            row: 0,
            color: 1,
            code: 5,
            ..
        }
    ));
}

#[test]
fn chunks_and_merges_count_as_the_rows_at_once() {
    let codes = [1, 0, 2, 0, 1, 1, 2, 1];
    let labels = [true, false, true, false];
    let whole = stats(&codes, 2, &labels, &[3, 2]);
    let mut chunked = ValueStats::zeros(&[3, 2]).unwrap();
    for (rows, chunk_labels) in [(0..2, &labels[..2]), (2..4, &labels[2..])] {
        let m = CodeMatrix::new(&codes[rows.start * 2..rows.end * 2], 2, 2).unwrap();
        chunked
            .add_codes(&m, chunk_labels, None, Interrupt::never())
            .unwrap();
    }
    assert_eq!(chunked, whole);
    let mut merged = stats(&codes[..4], 2, &labels[..2], &[3, 2]);
    merged
        .merge(&stats(&codes[4..], 2, &labels[2..], &[3, 2]))
        .unwrap();
    assert_eq!(merged, whole);
    assert!(merged.merge(&ValueStats::zeros(&[3, 3]).unwrap()).is_err());
    // A bad code in a later row leaves the counts untouched.
    let bad = CodeMatrix::new(&[1, 0, 0, 7], 2, 2).unwrap();
    let err = merged
        .add_codes(&bad, &[true, true], None, Interrupt::never())
        .unwrap_err();
    assert!(matches!(err, Error::CodeOutOfRange { row: 1, .. }));
    assert_eq!(merged, whole);
}

#[test]
fn a_perfectly_separating_column_needs_one_cut() {
    // Column 0: value 1 always positive, values 0 and 2 always negative. Column 1: noise.
    let codes = [1, 1, 0, 2, 2, 1, 1, 2, 0, 1, 2, 2];
    let labels = [true, false, false, true, false, false];
    let s = stats(&codes, 2, &labels, &[3, 3]);
    let b = fit_buckets(&s, &params(1), Interrupt::never()).unwrap();
    assert_eq!(b.n_outputs, 1);
    // Value 1 of column 0 gets the output column; the absent value is the reference.
    assert_eq!(b.output_of_value[..3], [-1, 0, -1]);
    assert!(b.output_of_value[3..].iter().all(|&o| o == -1));
    let m = CodeMatrix::new(&[1, 0, 0, 2, 7, 1], 3, 2).unwrap();
    let rows = b.tables().transform(&m, Interrupt::never()).unwrap();
    assert_eq!(rows.indptr, vec![0, 1, 1, 1]);
    assert_eq!(rows.indices, vec![0]);
}

#[test]
fn never_exceeds_the_budget_and_stops_without_gain() {
    let n = 400;
    let codes: Vec<i32> = (0..n)
        .flat_map(|r| [(r % 17) as i32, (r % 5) as i32])
        .collect();
    let labels: Vec<bool> = (0..n).map(|r| (r * 7919) % 13 < 5).collect();
    let s = stats(&codes, 2, &labels, &[17, 5]);
    for budget in [1, 3, 10, 100] {
        let b = fit_buckets(&s, &params(budget), Interrupt::never()).unwrap();
        assert!(b.n_outputs <= budget);
        // At most one bucket per distinct value, minus the references.
        assert!(b.n_outputs <= 17 + 5 - 2);
    }
    // A constant label carries no information: no cut.
    let s = stats(&codes, 2, &vec![true; n], &[17, 5]);
    assert_eq!(
        fit_buckets(&s, &params(10), Interrupt::never())
            .unwrap()
            .n_outputs,
        0
    );
}

#[test]
fn min_bucket_rows_limits_small_buckets() {
    let codes: Vec<i32> = (0..100).map(|r| r % 50).collect();
    let labels: Vec<bool> = (0..100).map(|r| r % 3 == 0).collect();
    let s = stats(&codes, 1, &labels, &[50]);
    let mut p = params(100);
    p.min_bucket_rows = 30;
    let b = fit_buckets(&s, &p, Interrupt::never()).unwrap();
    // 100 rows in buckets of at least 30: at most 3 buckets, 2 outputs.
    assert!(b.n_outputs <= 2);
}

#[test]
fn rate_buckets_reproduce_the_fit_on_the_same_rows() {
    let n = 600;
    let codes: Vec<i32> = (0..n)
        .flat_map(|r| [(r % 23) as i32, (r % 7) as i32])
        .collect();
    let labels: Vec<bool> = (0..n).map(|r| (r % 23) < 9 || r % 7 == 3).collect();
    let s = stats(&codes, 2, &labels, &[23, 7]);
    let mut p = params(6);
    p.smoothing = 1.0;
    let b = fit_buckets(&s, &p, Interrupt::never()).unwrap();
    assert!(b.n_outputs > 0);
    let assigned = b.by_rate.assign(&s, 1.0).unwrap();
    // Same rows, same rates: every value lands where the fit put it (values of equal rate
    // are never split by a cut here, since their rates are distinct or in one bucket).
    assert_eq!(assigned, b.output_of_value);
    // A value never seen in the rows used for rates goes to the reference bucket.
    let none = vec![false; n];
    let m = CodeMatrix::new(&codes, n, 2).unwrap();
    let empty =
        ValueStats::from_codes(&m, &labels, Some(&none), &[23, 7], Interrupt::never()).unwrap();
    assert!(
        b.by_rate
            .assign(&empty, 1.0)
            .unwrap()
            .iter()
            .all(|&o| o == -1)
    );
}

#[test]
fn tables_are_checked() {
    assert!(BucketTables::new(&[0, 2], &[-1, 0], 1).is_ok());
    assert!(BucketTables::new(&[0, 3], &[-1, 0], 1).is_err());
    assert!(BucketTables::new(&[1, 2], &[-1, 0], 1).is_err());
    assert!(BucketTables::new(&[0, 2], &[-1, 1], 1).is_err());
    assert!(BucketTables::new(&[0, 2], &[-2, 0], 1).is_err());
    let t = BucketTables::new(&[0, 2], &[-1, 0], 1).unwrap();
    let m = CodeMatrix::new(&[1, -1], 2, 1).unwrap();
    assert!(matches!(
        t.transform(&m, Interrupt::never()),
        Err(Error::NegativeCode {
            row: 1,
            code: -1,
            ..
        })
    ));
}

#[test]
fn refuses_a_zero_budget() {
    let s = stats(&[0], 1, &[true], &[1]);
    assert!(fit_buckets(&s, &params(0), Interrupt::never()).is_err());
}

#[test]
fn the_cut_says_why_it_stopped() {
    // One column: values 1 and 2 always positive, 3 never, the absent value 0 half and half.
    let codes = [1, 2, 3, 3, 0, 0, 1, 2];
    let labels = [true, true, false, false, true, false, true, true];
    let s = stats(&codes, 1, &labels, &[4]);
    let fitted = |budget, penalty| {
        let params = BucketParams {
            penalty,
            ..params(budget)
        };
        fit_buckets(&s, &params, Interrupt::never()).unwrap()
    };
    // Two cuts separate the three rates: one column asked for, one used.
    assert_eq!(fitted(1, 0.0).stop, CutStop::Budget);
    // Values 1 and 2 share a rate: no third cut gains anything.
    let all = fitted(10, 0.0);
    assert_eq!((all.n_outputs, all.stop), (2, CutStop::NoGain));
    // A penalty above what the best cut brings leaves the one bucket.
    let none = fitted(10, 100.0);
    assert_eq!((none.n_outputs, none.stop), (0, CutStop::Penalty));
    // A single value left to cut: no cut at all.
    let one = stats(&[0, 0], 1, &[true, false], &[1]);
    let single = fit_buckets(&one, &params(4), Interrupt::never()).unwrap();
    assert_eq!((single.n_outputs, single.stop), (0, CutStop::NoCut));
    assert_eq!(CutStop::Penalty.name(), "penalty");
}
