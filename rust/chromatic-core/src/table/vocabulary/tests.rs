use super::*;
use crate::parallel::in_pool;
use crate::table::columns::{BooleanColumn, IntegerColumn, StringColumn};
use crate::table::rows::{IdColumn, rows_from_ids};

fn strings(values: &[&str]) -> (Vec<i64>, Vec<u8>) {
    let mut offsets = vec![0i64];
    let mut data = Vec::new();
    for v in values {
        data.extend_from_slice(v.as_bytes());
        offsets.push(data.len() as i64);
    }
    (offsets, data)
}

fn fit_strings(vocabulary: &mut ValueVocabulary, column: u32, values: &[&str]) -> Vec<i64> {
    let (offsets, data) = strings(values);
    let col = StringColumn::new(&offsets, &data, None, column).unwrap();
    vocabulary.fit(column, &col, Interrupt::never()).unwrap()
}

/// A heavy-tailed column: a few frequent values and many rare ones.
fn random_column(n: usize, seed: u64) -> Vec<String> {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let r: u32 = rng.random_range(0..1000);
            if r < 500 {
                format!("common{}", r % 20)
            } else {
                format!("rare{}", rng.random_range(0..n as u64 / 3))
            }
        })
        .collect()
}

#[test]
fn ids_follow_first_appearance_across_columns() {
    let mut v = ValueVocabulary::new();
    assert_eq!(fit_strings(&mut v, 0, &["b", "a", "b", "c"]), [0, 1, 0, 2]);
    // The same bytes in another column are another feature.
    assert_eq!(fit_strings(&mut v, 1, &["a", "d"]), [3, 4]);
    assert_eq!(fit_strings(&mut v, 0, &["c", "e"]), [2, 5]);
    assert_eq!(v.n_features(), 6);
    assert_eq!(v.column_of_feature(), [0, 0, 0, 1, 1, 0]);
    assert_eq!(v.get(1, ValueKind::String, b"a"), Some(3));
    assert_eq!(v.get(2, ValueKind::String, b"a"), None);
}

#[test]
fn kinds_nulls_and_unseen_values() {
    let mut v = ValueVocabulary::new();
    let ints = IntegerColumn::new(&[5, -1, 5, 7], Some(&[true, true, false, true]), 0).unwrap();
    assert_eq!(
        v.fit(0, &ints, Interrupt::never()).unwrap(),
        [0, 1, NULL, 2]
    );
    let bools = BooleanColumn::new(&[true, false, true], None, 0).unwrap();
    // Booleans of column 0 are not its integers.
    assert_eq!(v.fit(0, &bools, Interrupt::never()).unwrap(), [3, 4, 3]);
    let (offsets, data) = strings(&["\u{1}", ""]);
    let col = StringColumn::new(&offsets, &data, None, 0).unwrap();
    assert_eq!(v.fit(0, &col, Interrupt::never()).unwrap(), [5, 6]);

    let more = IntegerColumn::new(&[7, 8, 0], Some(&[true, true, false]), 0).unwrap();
    assert_eq!(
        v.transform(0, &more, Interrupt::never()).unwrap(),
        [2, UNSEEN, NULL]
    );
    assert_eq!(v.n_features(), 7);
    assert_eq!(v.kind_of_feature(), [1, 1, 1, 2, 2, 0, 0]);
}

#[test]
fn ids_do_not_depend_on_the_thread_count() {
    let values = random_column(300_000, 7);
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    let (offsets, data) = strings(&refs);
    let fit_with = |threads| {
        in_pool(threads, || {
            let mut v = ValueVocabulary::new();
            let col = StringColumn::new(&offsets, &data, None, 3).unwrap();
            let ids = v.fit(3, &col, Interrupt::never()).unwrap();
            (ids, v)
        })
    };
    let (ids1, v1) = fit_with(1);
    for threads in [2, 3, 8] {
        let (ids, v) = fit_with(threads);
        assert_eq!(ids, ids1, "{threads} threads");
        assert_eq!(v, v1);
    }
    // First appearance: each id is one more than the largest before it, or an earlier one.
    let mut next = 0;
    for &id in &ids1 {
        assert!(id <= next);
        if id == next {
            next += 1;
        }
    }
    assert_eq!(next as usize, v1.n_features());
    let distinct: std::collections::HashSet<&str> = refs.iter().copied().collect();
    assert_eq!(distinct.len(), v1.n_features());
}

#[test]
fn values_stay_exact_when_hashes_collide() {
    // Every key hashes to one of four values, and the strings share long prefixes.
    let values: Vec<String> = (0..5000)
        .map(|i| format!("{}{}", "x".repeat(40), i % 1700))
        .collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    let mut weak = ValueVocabulary::with_weak_hash();
    let mut strong = ValueVocabulary::new();
    let ids = fit_strings(&mut weak, 0, &refs);
    assert_eq!(ids, fit_strings(&mut strong, 0, &refs));
    assert_eq!(weak.n_features(), 1700);
    for (i, &id) in ids.iter().enumerate() {
        assert_eq!(id, (i % 1700) as i64);
    }
    let ints: Vec<i64> = (0..3000).map(|i| i % 1000 * 256).collect();
    let col = IntegerColumn::new(&ints, None, 1).unwrap();
    let int_ids = weak.fit(1, &col, Interrupt::never()).unwrap();
    assert_eq!(weak.n_features(), 2700);
    assert!(int_ids.iter().all(|&id| id >= 1700));
}

#[test]
fn a_failed_fit_leaves_the_vocabulary_as_it_was() {
    let mut v = ValueVocabulary::new();
    fit_strings(&mut v, 0, &["a", "b"]);
    let before = v.clone();
    let offsets = [0i64, 1, 2, 9];
    let col = StringColumn::new(&offsets, b"cd", None, 0).unwrap();
    let err = v.fit(0, &col, Interrupt::never()).unwrap_err();
    assert!(matches!(err, Error::ColumnOffsets { row: 2, .. }), "{err}");
    assert_eq!(v, before);

    let flag = std::sync::atomic::AtomicBool::new(true);
    let ints: Vec<i64> = (0..1000).collect();
    let col = IntegerColumn::new(&ints, None, 1).unwrap();
    let err = v.fit(1, &col, Interrupt::new(&flag)).unwrap_err();
    assert_eq!(err, Error::Interrupted);
    assert_eq!(v, before);
    v.truncate(1);
    assert_eq!(v.get(0, ValueKind::String, b"b"), None);
    assert_eq!(fit_strings(&mut v, 0, &["b", "a"]), [1, 0]);
}

#[test]
fn retain_renumbers_kept_features_in_order() {
    let mut v = ValueVocabulary::new();
    fit_strings(&mut v, 0, &["a", "b", "c", "d"]);
    let new_ids = v.retain(&[false, true, false, true]).unwrap();
    assert_eq!(new_ids, [-1, 0, -1, 1]);
    assert_eq!(v.n_features(), 2);
    assert_eq!(v.value_bytes(), b"bd");
    assert_eq!(v.get(0, ValueKind::String, b"d"), Some(1));
    assert_eq!(v.get(0, ValueKind::String, b"a"), None);
    // A value dropped and seen again comes back with a new id.
    assert_eq!(fit_strings(&mut v, 0, &["a", "b"]), [2, 0]);
    assert!(matches!(
        v.retain(&[true]),
        Err(Error::LengthMismatch { what: "keep", .. })
    ));
}

#[test]
fn arrays_round_trip_and_corrupt_ones_are_refused() {
    let mut v = ValueVocabulary::new();
    fit_strings(&mut v, 2, &["xy", "", "z"]);
    v.fit(
        1,
        &IntegerColumn::new(&[-3, 9], None, 1).unwrap(),
        Interrupt::never(),
    )
    .unwrap();
    v.fit(
        0,
        &BooleanColumn::new(&[false], None, 0).unwrap(),
        Interrupt::never(),
    )
    .unwrap();
    let parts = || {
        (
            v.column_of_feature().to_vec(),
            v.kind_of_feature().to_vec(),
            v.value_offsets().to_vec(),
            v.value_bytes().to_vec(),
        )
    };
    let (c, k, o, b) = parts();
    let back = ValueVocabulary::from_arrays(c, k, o, b).unwrap();
    assert_eq!(back, v);
    assert_eq!(
        back.get(1, ValueKind::Integer, &9i64.to_le_bytes()),
        Some(4)
    );

    let refused = |change: &dyn Fn(&mut Vec<u32>, &mut Vec<u8>, &mut Vec<u64>, &mut Vec<u8>)| {
        let (mut c, mut k, mut o, mut b) = parts();
        change(&mut c, &mut k, &mut o, &mut b);
        let err = ValueVocabulary::from_arrays(c, k, o, b).unwrap_err();
        assert!(matches!(err, Error::InvalidVocabulary(_)), "{err}");
        err.to_string()
    };
    assert!(refused(&|c, _, _, _| c.push(0)).contains("kind_of_feature"));
    assert!(
        refused(&|_, _, o, _| {
            o.pop();
        })
        .contains("value_offsets has")
    );
    assert!(refused(&|_, _, o, _| o[0] = 1).contains("run from 1"));
    assert!(refused(&|_, _, _, b| b.push(0)).contains("length of value_bytes"));
    assert!(refused(&|_, _, o, _| o[1] = 3).contains("decrease"));
    assert!(refused(&|_, k, _, _| k[0] = 7).contains("kind 7"));
    assert!(refused(&|_, k, _, _| k[0] = 1).contains("bytes, not 8"));
    assert!(refused(&|_, _, _, b| *b.last_mut().unwrap() = 2).contains("boolean"));
    // Two features with one key.
    let err = ValueVocabulary::from_arrays(vec![0, 0], vec![0, 0], vec![0, 1, 2], b"zz".to_vec())
        .unwrap_err();
    assert!(err.to_string().contains("features 0 and 1"), "{err}");
    assert!(ValueVocabulary::from_arrays(vec![], vec![], vec![], vec![]).is_err());
    assert_eq!(
        ValueVocabulary::from_arrays(vec![], vec![], vec![0], vec![]).unwrap(),
        ValueVocabulary::new()
    );
}

#[test]
fn fit_rows_gives_the_rows_of_one_fit_per_column_whatever_the_threads() {
    let n = 200_000;
    let site = random_column(n, 11);
    let site_refs: Vec<&str> = site.iter().map(String::as_str).collect();
    let (site_offsets, site_data) = strings(&site_refs);
    let users: Vec<i64> = (0..n as i64).map(|i| (i * 7919) % 30_011).collect();
    let user_valid: Vec<bool> = (0..n).map(|i| i % 13 != 0).collect();
    // Lists of 0 to 3 tags, some repeated within a row.
    let list_offsets: Vec<i64> = (0..=n as i64).map(|i| i * 3 / 2).collect();
    let n_tags = list_offsets[n] as usize;
    let tags: Vec<String> = (0..n_tags)
        .map(|i| format!("tag{}", i % 1000 / 3))
        .collect();
    let tag_refs: Vec<&str> = tags.iter().map(String::as_str).collect();
    let (tag_offsets, tag_data) = strings(&tag_refs);
    let columns = [
        TableColumn {
            position: 0,
            values: ColumnValues::LargeStrings(
                StringColumn::new(&site_offsets, &site_data, None, 0).unwrap(),
            ),
            lists: None,
        },
        TableColumn {
            position: 1,
            values: ColumnValues::Integers(
                IntegerColumn::new(&users, Some(&user_valid), 1).unwrap(),
            ),
            lists: None,
        },
        TableColumn {
            position: 2,
            values: ColumnValues::LargeStrings(
                StringColumn::new(&tag_offsets, &tag_data, None, 2).unwrap(),
            ),
            lists: Some(&list_offsets),
        },
    ];
    // One fit per column, then the rows gathered.
    let mut one_by_one = ValueVocabulary::new();
    let per_column: Vec<Vec<i64>> = columns
        .iter()
        .map(|column| match column.values {
            ColumnValues::LargeStrings(v) => {
                one_by_one.fit(column.position, &v, Interrupt::never())
            }
            ColumnValues::Integers(v) => one_by_one.fit(column.position, &v, Interrupt::never()),
            _ => unreachable!(),
        })
        .collect::<Result<_>>()
        .unwrap();
    let id_columns = [
        IdColumn::PerRow(&per_column[0]),
        IdColumn::PerRow(&per_column[1]),
        IdColumn::Lists {
            offsets: &list_offsets,
            ids: &per_column[2],
        },
    ];
    let expected = rows_from_ids(n, &id_columns, Interrupt::never()).unwrap();
    for threads in [1, 2, 5] {
        let (rows, vocabulary, looked_up) = in_pool(threads, || {
            let mut v = ValueVocabulary::new();
            let rows = v.fit_rows(n, &columns, Interrupt::never()).unwrap();
            let looked_up = v.transform_rows(n, &columns, Interrupt::never()).unwrap();
            (rows, v, looked_up)
        });
        assert_eq!(rows, expected, "{threads} threads");
        assert_eq!(vocabulary, one_by_one);
        assert_eq!(looked_up, (expected.clone(), 0));
    }
}

#[test]
fn a_failed_fit_rows_leaves_the_vocabulary_as_it_was() {
    let mut v = ValueVocabulary::new();
    assert_eq!(fit_strings(&mut v, 0, &["a"]), [0]);
    let ints = [4, 5];
    let offsets = [0i32, 1, 9];
    let columns = [
        TableColumn {
            position: 0,
            values: ColumnValues::Integers(IntegerColumn::new(&ints, None, 0).unwrap()),
            lists: None,
        },
        TableColumn {
            position: 1,
            values: ColumnValues::Strings(StringColumn::new(&offsets, b"ab", None, 1).unwrap()),
            lists: None,
        },
    ];
    let before = v.clone();
    let err = v.fit_rows(2, &columns, Interrupt::never()).unwrap_err();
    assert!(err.to_string().contains("column 1, row 1"), "{err}");
    assert_eq!(v, before);
    let err = v.fit_rows(3, &columns, Interrupt::never()).unwrap_err();
    assert!(
        err.to_string().contains("values has 2 entries, expected 3"),
        "{err}"
    );
    assert_eq!(v, before);
}

#[test]
fn fit_rows_merges_values_new_to_several_chunks_when_hashes_collide() {
    // Long values with shared prefixes, every hash one of four: the merge of values that several
    // chunks (and both columns, and both calls) find new must still tell each value apart.
    let n = 20_000;
    let column = |seed: u64| -> Vec<String> {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| format!("{}{}", "prefix-".repeat(3), rng.random_range(0..600)))
            .collect()
    };
    let (first, second) = (column(3), column(4));
    let fit_both = |v: &mut ValueVocabulary, one_by_one: bool| -> Vec<Vec<i64>> {
        let mut ids = Vec::new();
        for half in [&first, &second] {
            let refs: Vec<&str> = half.iter().map(String::as_str).collect();
            let (offsets, data) = strings(&refs);
            let short: Vec<i64> = (0..n as i64).map(|i| i % 4099).collect();
            let columns = [
                TableColumn {
                    position: 0,
                    values: ColumnValues::LargeStrings(
                        StringColumn::new(&offsets, &data, None, 0).unwrap(),
                    ),
                    lists: None,
                },
                TableColumn {
                    position: 1,
                    values: ColumnValues::Integers(IntegerColumn::new(&short, None, 1).unwrap()),
                    lists: None,
                },
            ];
            if one_by_one {
                let col = StringColumn::new(&offsets, &data, None, 0).unwrap();
                ids.push(v.fit(0, &col, Interrupt::never()).unwrap());
                let col = IntegerColumn::new(&short, None, 1).unwrap();
                ids.push(v.fit(1, &col, Interrupt::never()).unwrap());
            } else {
                let rows = v.fit_rows(n, &columns, Interrupt::never()).unwrap();
                ids.push(rows.indices.iter().map(|&id| i64::from(id)).collect());
            }
        }
        ids
    };
    let mut expected = ValueVocabulary::new();
    fit_both(&mut expected, true);
    for threads in [1, 3] {
        let (weak, rows_ids) = in_pool(threads, || {
            let mut weak = ValueVocabulary::with_weak_hash();
            let ids = fit_both(&mut weak, false);
            (weak, ids)
        });
        assert_eq!(weak, expected, "{threads} threads");
        let distinct: std::collections::HashSet<&String> = first.iter().chain(&second).collect();
        assert_eq!(weak.n_features(), distinct.len() + 4099);
        // Each row holds its string's id and its integer's.
        for (half, ids) in [&first, &second].into_iter().zip(rows_ids.iter()) {
            for (row, value) in half.iter().enumerate().step_by(997) {
                let row_ids = &ids[2 * row..2 * row + 2];
                let id = *row_ids
                    .iter()
                    .find(|&&id| weak.values.columns[id as usize] == 0)
                    .unwrap();
                let bytes = weak.values.bytes_of(id as usize);
                assert_eq!(bytes, value.as_bytes(), "{threads} threads, row {row}");
            }
        }
    }
}

#[test]
fn fit_rows_refuses_two_columns_of_one_position_and_kind() {
    let ints = [4, 5];
    let column = TableColumn {
        position: 3,
        values: ColumnValues::Integers(IntegerColumn::new(&ints, None, 3).unwrap()),
        lists: None,
    };
    let mut v = ValueVocabulary::new();
    let err = v
        .fit_rows(2, &[column, column], Interrupt::never())
        .unwrap_err();
    assert!(err.to_string().contains("position 3"), "{err}");
    assert_eq!(v.n_features(), 0);
}
