//! Properties of the value vocabulary and of table rows, on generated columns (proptest prints
//! the smallest failing case and the seed to replay it).

use std::collections::HashMap;

use chromatic_core::Interrupt;
use chromatic_core::table::{
    IdColumn, IntegerColumn, NULL, StringColumn, ValueVocabulary, rows_from_ids,
};
use proptest::prelude::*;

/// A column of short byte strings (many repeats, some empty), each possibly null.
fn string_column() -> impl Strategy<Value = Vec<Option<Vec<u8>>>> {
    prop::collection::vec(
        prop::option::weighted(0.9, prop::collection::vec(0u8..4, 0..4)),
        0..200,
    )
}

fn arrow_layout(values: &[Option<Vec<u8>>]) -> (Vec<i32>, Vec<u8>, Vec<bool>) {
    let mut offsets = vec![0i32];
    let mut data = Vec::new();
    let mut valid = Vec::new();
    for value in values {
        if let Some(bytes) = value {
            data.extend_from_slice(bytes);
        }
        offsets.push(data.len() as i32);
        valid.push(value.is_some());
    }
    (offsets, data, valid)
}

proptest! {
    #[test]
    fn fit_then_transform_gives_the_same_distinct_ids(
        columns in prop::collection::vec(string_column(), 1..4),
        ints in prop::collection::vec(-3i64..3, 0..50),
    ) {
        let mut vocabulary = ValueVocabulary::new();
        let mut fitted = Vec::new();
        for (c, values) in columns.iter().enumerate() {
            let (offsets, data, valid) = arrow_layout(values);
            let column = StringColumn::new(&offsets, &data, Some(&valid), c as u32).unwrap();
            fitted.push(vocabulary.fit(c as u32, &column, Interrupt::never()).unwrap());
        }
        let int_column = IntegerColumn::new(&ints, None, 0).unwrap();
        let int_ids = vocabulary.fit(0, &int_column, Interrupt::never()).unwrap();

        // One id per distinct (column, kind, value), and one value per id.
        let mut id_of: HashMap<(usize, u8, Vec<u8>), i64> = HashMap::new();
        let mut named = |key: (usize, u8, Vec<u8>), id: i64| {
            let known = *id_of.entry(key).or_insert(id);
            prop_assert_eq!(known, id);
            Ok(())
        };
        for (c, (values, ids)) in columns.iter().zip(&fitted).enumerate() {
            for (value, &id) in values.iter().zip(ids) {
                match value {
                    None => prop_assert_eq!(id, NULL),
                    Some(bytes) => named((c, 0, bytes.clone()), id)?,
                }
            }
        }
        for (&value, &id) in ints.iter().zip(&int_ids) {
            named((0, 1, value.to_le_bytes().to_vec()), id)?;
        }
        prop_assert_eq!(id_of.len(), vocabulary.n_features());
        let mut ids: Vec<i64> = id_of.values().copied().collect();
        ids.sort_unstable();
        prop_assert_eq!(ids, (0..vocabulary.n_features() as i64).collect::<Vec<_>>());

        // Lookups find what the fit gave, and change nothing.
        let before = vocabulary.clone();
        for (c, (values, ids)) in columns.iter().zip(&fitted).enumerate() {
            let (offsets, data, valid) = arrow_layout(values);
            let column = StringColumn::new(&offsets, &data, Some(&valid), c as u32).unwrap();
            let looked_up = vocabulary.transform(c as u32, &column, Interrupt::never()).unwrap();
            prop_assert_eq!(&looked_up, ids);
        }
        prop_assert_eq!(
            vocabulary.transform(0, &int_column, Interrupt::never()).unwrap(),
            int_ids
        );
        prop_assert_eq!(&vocabulary, &before);

        // The arrays rebuild the same vocabulary.
        let rebuilt = ValueVocabulary::from_arrays(
            vocabulary.column_of_feature().to_vec(),
            vocabulary.kind_of_feature().to_vec(),
            vocabulary.value_offsets().to_vec(),
            vocabulary.value_bytes().to_vec(),
        )
        .unwrap();
        prop_assert_eq!(rebuilt, vocabulary);
    }

    #[test]
    fn rows_hold_each_rows_distinct_ids_in_order(
        flat in prop::collection::vec(-2i64..20, 0..12),
        single in prop::collection::vec(-2i64..20, 0..8),
    ) {
        let n_rows = single.len();
        // The list column cuts `flat` into rows of up to two elements.
        let offsets: Vec<i64> = (0..=n_rows).map(|r| (r * 2).min(flat.len()) as i64).collect();
        let columns = [
            IdColumn::PerRow(&single),
            IdColumn::Lists { offsets: &offsets, ids: &flat },
        ];
        let rows = rows_from_ids(n_rows, &columns, Interrupt::never()).unwrap();
        prop_assert_eq!(rows.indptr.len(), n_rows + 1);
        for row in 0..n_rows {
            let mut expected: Vec<i32> = flat[offsets[row] as usize..offsets[row + 1] as usize]
                .iter()
                .chain(std::iter::once(&single[row]))
                .filter(|&&id| id >= 0)
                .map(|&id| id as i32)
                .collect();
            expected.sort_unstable();
            expected.dedup();
            let got = &rows.indices[rows.indptr[row] as usize..rows.indptr[row + 1] as usize];
            prop_assert_eq!(got, expected.as_slice());
        }
    }
}
