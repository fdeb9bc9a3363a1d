//! The engine's hot loops on a seeded kdd12-shaped batch (one-hot fields with Zipf-like value
//! frequencies): pair counting, greedy coloring, encoding, svmlight parsing and formatting.
//! Run with `cargo bench -p chromatic-core`; the Python peer comparisons are in
//! `benches/peers.py`.

use std::hint::black_box;

use chromatic_core::{
    CodeMatrix, CollisionPolicy, CsrMatrix, EdgeCounter, EncoderTables, FeatureStats, FitParams,
    Interrupt, Strategy, Vocabulary, color, encode, fit, format_codes, parse_rows,
};
use criterion::{Criterion, Throughput, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ROWS: usize = 200_000;
const FIELDS: usize = 11;
const IDS_PER_FIELD: usize = 20_000;

/// CSR structure of `ROWS` rows with one id from each field, ranks drawn as ⌊u^-1.2⌋ (a
/// Zipf-like law with a long tail).
fn rows() -> (Vec<i64>, Vec<i64>, usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut indices = Vec::with_capacity(ROWS * FIELDS);
    for _ in 0..ROWS {
        for field in 0..FIELDS {
            let u: f64 = rng.random_range(1e-9..1.0);
            let rank = (u.powf(-1.2) as usize - 1).min(IDS_PER_FIELD - 1);
            indices.push((field * IDS_PER_FIELD + rank) as i64);
        }
    }
    let indptr = (0..=ROWS).map(|r| (r * FIELDS) as i64).collect();
    (indptr, indices, FIELDS * IDS_PER_FIELD)
}

fn hot_loops(c: &mut Criterion) {
    let (indptr, indices, n_features) = rows();
    let matrix = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, n_features).unwrap();
    let never = Interrupt::never();
    let stats = FeatureStats::from_rows(&matrix, never).unwrap();
    let vocabulary = Vocabulary::new(&stats, None).unwrap();
    let mut group = c.benchmark_group("kdd12-shaped, 200k rows");
    group.sample_size(10);
    group.throughput(Throughput::Elements(indices.len() as u64));

    group.bench_function("count pairs", |b| {
        b.iter(|| {
            let mut counter = EdgeCounter::new(vocabulary.n_vertices());
            counter.add_rows(&matrix, &vocabulary, never).unwrap();
            black_box(counter.finish(1, never).unwrap())
        });
    });

    let mut counter = EdgeCounter::new(vocabulary.n_vertices());
    counter.add_rows(&matrix, &vocabulary, never).unwrap();
    let graph = counter.finish(1, never).unwrap();
    group.bench_function("greedy coloring, largest first", |b| {
        b.iter(|| black_box(color(&graph, Strategy::LargestFirst, never).unwrap()));
    });

    let fitted = fit(&matrix, &FitParams::default(), never).unwrap();
    let encoder = &fitted.encoder;
    let n_colors = encoder.color_sizes.len();
    let tables =
        EncoderTables::new(&encoder.feature_color, &encoder.feature_code, n_colors).unwrap();
    group.bench_function("encode", |b| {
        b.iter(|| {
            black_box(encode(
                &matrix,
                &tables,
                CollisionPolicy::MostFrequent,
                never,
            ))
        });
    });

    let codes = encode(&matrix, &tables, CollisionPolicy::MostFrequent, never).unwrap();
    let code_matrix = CodeMatrix::new(&codes.values, ROWS, n_colors).unwrap();
    let labels = vec![1.0; ROWS];
    let text = format_codes(&labels, &code_matrix, never).unwrap();
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("format svmlight", |b| {
        b.iter(|| black_box(format_codes(&labels, &code_matrix, never).unwrap()));
    });
    group.bench_function("parse svmlight", |b| {
        b.iter(|| black_box(parse_rows(&text, 1, false, never).unwrap()));
    });
    group.finish();
}

mod group {
    // criterion's macro defines an undocumented function.
    #![allow(missing_docs)]
    use super::hot_loops;
    criterion::criterion_group!(benches, hot_loops);
}
use group::benches;

criterion_main!(benches);
