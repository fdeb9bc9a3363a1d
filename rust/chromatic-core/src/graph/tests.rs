use std::sync::atomic::Ordering as AtomicOrdering;

use super::counts::{PairCounts, pair_key};
use super::*;
use crate::coloring::{Strategy, color};
use crate::error::Error;
use crate::interrupt::Interrupt;
use crate::matrix::CsrMatrix;
use crate::parallel::in_pool;
use crate::statistics::FeatureStats;
use crate::vocabulary::Vocabulary;

/// Pair counts by brute force over every row.
fn brute_force(rows: &[Vec<u32>], n: usize, k: u32) -> Vec<Vec<(u32, u32)>> {
    let mut w = vec![vec![0u32; n]; n];
    for row in rows {
        let mut r = row.clone();
        r.sort_unstable();
        r.dedup();
        for (i, &a) in r.iter().enumerate() {
            for &b in &r[i + 1..] {
                w[a as usize][b as usize] += 1;
                w[b as usize][a as usize] += 1;
            }
        }
    }
    (0..n)
        .map(|u| {
            (0..n)
                .filter(|&v| w[u][v] >= k.max(1))
                .map(|v| (v as u32, w[u][v]))
                .collect()
        })
        .collect()
}

fn csr(rows: &[Vec<u32>]) -> (Vec<i64>, Vec<i64>) {
    let mut indptr = vec![0i64];
    let mut indices = Vec::new();
    for row in rows {
        indices.extend(row.iter().map(|&x| i64::from(x)));
        indptr.push(indices.len() as i64);
    }
    (indptr, indices)
}

fn pseudo_random_rows(n_rows: usize, n_features: u32, seed: u64) -> Vec<Vec<u32>> {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as u32
    };
    (0..n_rows)
        .map(|_| {
            let len = next() % 7;
            (0..len).map(|_| next() % n_features).collect()
        })
        .collect()
}

#[test]
fn matches_brute_force_for_any_batch_size_and_threshold() {
    let n = 40;
    let rows = pseudo_random_rows(300, n, 7);
    let (indptr, indices) = csr(&rows);
    let m = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, n as usize).unwrap();
    let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
    // No dense features, so vertex ids map back to features through the vocabulary.
    let vocab = Vocabulary::new(&stats, None).unwrap();
    let features = vocab.vertex_features().to_vec();
    for k in [1u32, 2, 3] {
        let expected = brute_force(&rows, n as usize, k);
        for batch in [1usize, 5, 64, DEFAULT_BATCH_NNZ] {
            let mut counter = EdgeCounter::new(vocab.n_vertices()).with_batch_nnz(batch);
            counter.add_rows(&m, &vocab, Interrupt::never()).unwrap();
            let graph = counter.finish(k, Interrupt::never()).unwrap();
            for u in 0..graph.n_vertices() {
                let fu = features[u] as usize;
                let mut got: Vec<(u32, u32)> = graph
                    .neighbors(u)
                    .iter()
                    .zip(graph.weights(u))
                    .map(|(&v, &w)| (features[v as usize], w))
                    .collect();
                got.sort_unstable();
                assert_eq!(got, expected[fu], "vertex {u}, k {k}, batch {batch}");
                assert!(graph.neighbors(u).windows(2).all(|p| p[0] < p[1]));
            }
        }
    }
}

#[test]
fn sharded_builds_equal_the_single_pass() {
    let n = 60;
    let rows = pseudo_random_rows(500, n, 11);
    let (indptr, indices) = csr(&rows);
    let m = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, n as usize).unwrap();
    let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
    let vocab = Vocabulary::new(&stats, None).unwrap();
    let nv = vocab.n_vertices();
    for k in [1u32, 3] {
        let mut whole = EdgeCounter::new(nv);
        whole.add_rows(&m, &vocab, Interrupt::never()).unwrap();
        let expected = whole.finish(k, Interrupt::never()).unwrap();
        for cuts in [
            vec![nv],
            vec![1, nv],
            vec![0, 7, 7, 30, nv],
            (1..=nv).collect(),
        ] {
            let mut graph = ShardedGraph::new(nv);
            let mut start = 0;
            for end in cuts {
                let mut counter = EdgeCounter::new(nv)
                    .with_batch_nnz(97)
                    .with_sources(start..end)
                    .unwrap();
                counter.add_rows(&m, &vocab, Interrupt::never()).unwrap();
                graph.add_shard(counter, k, Interrupt::never()).unwrap();
                start = end;
            }
            assert_eq!(graph.finish(Interrupt::never()).unwrap(), expected);
        }
        // Shards of every vertex left, narrowed whenever their counts outgrow a budget.
        let mut bounds = PairBounds::new(nv).unwrap();
        bounds.add_rows(&m, &vocab, Interrupt::never()).unwrap();
        for budget in [1usize, 40, 300, 5000] {
            let mut graph = ShardedGraph::new(nv);
            let mut passes = 0;
            while graph.next_vertex() < nv {
                let sources = graph.next_vertex()..nv;
                let mut counter = EdgeCounter::new(nv)
                    .with_batch_nnz(97)
                    .with_sources(sources.clone())
                    .unwrap()
                    .with_pair_budget(bounds.budget(sources, budget as u64));
                counter.add_rows(&m, &vocab, Interrupt::never()).unwrap();
                assert!(counter.sources().len() == 1 || counter.n_pairs() <= budget);
                graph.add_shard(counter, k, Interrupt::never()).unwrap();
                passes += 1;
            }
            assert!(budget < 5000 || passes == 1);
            assert!(budget > 1 || passes > nv / 2);
            assert_eq!(graph.finish(Interrupt::never()).unwrap(), expected);
        }
    }
    // Shards out of order, or not covering every vertex, are refused.
    let mut graph = ShardedGraph::new(nv);
    let late = EdgeCounter::new(nv).with_sources(5..nv).unwrap();
    assert!(graph.add_shard(late, 1, Interrupt::never()).is_err());
    let early = EdgeCounter::new(nv).with_sources(0..5).unwrap();
    graph.add_shard(early, 1, Interrupt::never()).unwrap();
    assert!(graph.finish(Interrupt::never()).is_err());
    assert!(EdgeCounter::new(nv).with_sources(3..nv + 1).is_err());
}

#[test]
fn pair_bounds_bound_each_shard_and_plans_cover_the_vertices() {
    let n = 80;
    let rows = pseudo_random_rows(400, n, 3);
    let (indptr, indices) = csr(&rows);
    let m = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, n as usize).unwrap();
    let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
    let vocab = Vocabulary::new(&stats, None).unwrap();
    let nv = vocab.n_vertices();
    let mut bounds = PairBounds::new(nv).unwrap();
    bounds.add_rows(&m, &vocab, Interrupt::never()).unwrap();
    let mut whole = EdgeCounter::new(nv);
    whole.add_rows(&m, &vocab, Interrupt::never()).unwrap();
    let upper = whole.counts;
    for u in 0..nv {
        let heads = bounds.heads[u].load(AtomicOrdering::Relaxed);
        let (nbrs, weights) = upper.row(u);
        assert!(nbrs.len() as u64 <= heads);
        assert_eq!(weights.iter().map(|&w| u64::from(w)).sum::<u64>(), heads);
    }
    for max_pairs in [1u64, 10, 100, u64::MAX] {
        let mut start = 0;
        while start < nv {
            let shard = bounds.shard_from(start, max_pairs);
            assert_eq!(shard.start, start);
            assert!(!shard.is_empty());
            let edges: usize = shard.clone().map(|u| upper.row(u).0.len()).sum();
            assert!(shard.len() == 1 || edges as u64 <= max_pairs);
            start = shard.end;
        }
    }
    assert_eq!(bounds.shard_from(0, u64::MAX), 0..nv);
    let plan = BuildPlan::for_limit(bounds, n as usize, 2, 4 << 20).unwrap();
    assert!(plan.check_edges(upper.n_edges()).is_ok());
    assert!(plan.check_edges(usize::MAX / 32).is_err());
    assert!(plan.next_shard(0, usize::MAX / 16).is_err());
    assert_eq!(plan.next_shard(0, 0).unwrap().sources(), 0..nv);
    let few = PairBounds::new(nv).unwrap();
    assert!(matches!(
        BuildPlan::for_limit(few, n as usize, 2, 1000),
        Err(Error::MemoryLimit(_))
    ));
    // Kept edges that the finished graph could not hold end the build at the next shard,
    // though they alone would still leave room to count.
    let available = BuildPlan::available(n as usize, nv, 2, 4 << 20).unwrap();
    let too_many = (available / BYTES_PER_EDGE + 1) as usize;
    assert!(plan.check_edges(too_many).is_err());
    assert!((too_many as u64) * 8 < available);
    assert!(matches!(
        plan.next_shard(0, too_many),
        Err(Error::MemoryLimit(_))
    ));
    // A limit too small for the vertices is refused before the pass of pair bounds.
    let builder = GraphBuilder::new(Vocabulary::new(&stats, None).unwrap(), 1).unwrap();
    assert!(matches!(
        builder.check_memory_limit(1000, 2),
        Err(Error::MemoryLimit(_))
    ));
    assert!(builder.check_memory_limit(4 << 20, 2).is_ok());
}

#[test]
fn adjacency_matrices_are_read_as_their_symmetric_closure() {
    // 0-1 given both ways, 1-2 one way only, a self-loop on 2, and 0-1 twice.
    let graph = Graph::from_adjacency(&[0, 2, 3, 5], &[1, 1, 0, 1, 2], 3).unwrap();
    assert_eq!(graph.neighbors(0), &[1]);
    assert_eq!(graph.neighbors(1), &[0, 2]);
    assert_eq!(graph.neighbors(2), &[1]);
    assert_eq!(graph.n_edges(), 2);
    assert!(Graph::from_adjacency(&[0, 1, 1], &[5], 2).is_err());
    assert!(Graph::from_adjacency(&[0, 0], &[], 2).is_err());
}

#[test]
fn pair_counts_of_parts_add_up_to_one_pass() {
    let n = 40;
    let rows = pseudo_random_rows(300, n, 5);
    let (indptr, indices) = csr(&rows);
    let m = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, n as usize).unwrap();
    let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
    let vocab = Vocabulary::new(&stats, None).unwrap();
    let nv = vocab.n_vertices();
    let mut whole = EdgeCounter::new(nv);
    whole.add_rows(&m, &vocab, Interrupt::never()).unwrap();
    // Each part counted by another process, which knows only the vertex features.
    let remote = Vocabulary::from_vertices(vocab.vertex_features(), n as usize).unwrap();
    let mut total = PairCounts::default();
    for part in [&rows[..10], &rows[10..10], &rows[10..200], &rows[200..]] {
        let (ip, ix) = csr(part);
        let pm = CsrMatrix::<i64, f64>::new(&ip, &ix, None, n as usize).unwrap();
        let mut counter = EdgeCounter::new(nv);
        counter.add_rows(&pm, &remote, Interrupt::never()).unwrap();
        total = total.merged(&counter.pair_counts().unwrap()).unwrap();
    }
    assert_eq!(total, whole.pair_counts().unwrap());
    let mut gathered = EdgeCounter::new(nv);
    gathered
        .add_pair_counts(&total, Interrupt::never())
        .unwrap();
    gathered
        .add_pair_counts(&PairCounts::default(), Interrupt::never())
        .unwrap();
    assert_eq!(
        gathered.finish(2, Interrupt::never()).unwrap(),
        whole.finish(2, Interrupt::never()).unwrap()
    );
    let outside = PairCounts::new(vec![pair_key(0, nv as u32)], vec![1]).unwrap();
    assert!(
        EdgeCounter::new(nv)
            .add_pair_counts(&outside, Interrupt::never())
            .is_err()
    );
}

#[test]
fn pair_counts_of_source_ranges_add_up_to_one_pass() {
    let n = 40;
    let rows = pseudo_random_rows(300, n, 6);
    let (indptr, indices) = csr(&rows);
    let m = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, n as usize).unwrap();
    let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
    let vocab = Vocabulary::new(&stats, None).unwrap();
    let nv = vocab.n_vertices();
    let features: Vec<i64> = vocab.vertex_features().iter().map(|&f| f.into()).collect();
    let whole = count_pairs(&m, &features, None, &[], Interrupt::never()).unwrap();
    let whole = whole[0].clone();
    let cuts = [0, 3, 3, nv / 2, nv - 1, nv];
    let ranges: Vec<PairCounts> = cuts
        .windows(2)
        .map(|w| {
            let sources = Some(w[0]..w[1]);
            let counted = count_pairs(&m, &features, sources, &[], Interrupt::never()).unwrap();
            counted[0].clone()
        })
        .collect();
    // Cut as they are written, the counts are the ranges counted alone.
    let cut = count_pairs(&m, &features, None, &cuts[1..5], Interrupt::never()).unwrap();
    assert_eq!(cut, ranges);
    let within = count_pairs(&m, &features, Some(3..nv), &[nv / 2], Interrupt::never()).unwrap();
    assert_eq!(
        within,
        [ranges[2].clone(), ranges[3].merged(&ranges[4]).unwrap()]
    );
    for bad in [&[nv / 2, 3][..], &[nv + 1]] {
        assert!(count_pairs(&m, &features, None, bad, Interrupt::never()).is_err());
    }
    assert!(count_pairs(&m, &features, Some(3..nv), &[1], Interrupt::never()).is_err());
    let mut joined = PairCounts::default();
    for range in &ranges {
        joined = joined.merged(range).unwrap();
    }
    assert_eq!(joined, whole);
    // Added in order, each range is appended; in any other order, merged: the same counts.
    for order in [
        vec![0, 1, 2, 3, 4],
        vec![3, 0, 4, 2, 1],
        vec![4, 3, 2, 1, 0],
    ] {
        let mut gathered = EdgeCounter::new(nv);
        for &r in &order {
            gathered
                .add_pair_counts(&ranges[r], Interrupt::never())
                .unwrap();
        }
        assert_eq!(gathered.pair_counts().unwrap(), whole, "order {order:?}");
    }
    assert!(count_pairs(&m, &features, Some(2..nv + 1), &[], Interrupt::never()).is_err());
}

#[test]
fn merging_counters_equals_one_pass() {
    let n = 30;
    let rows = pseudo_random_rows(200, n, 3);
    let (indptr, indices) = csr(&rows);
    let m = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, n as usize).unwrap();
    let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
    let vocab = Vocabulary::new(&stats, None).unwrap();
    let mut whole = EdgeCounter::new(vocab.n_vertices());
    whole.add_rows(&m, &vocab, Interrupt::never()).unwrap();

    let half = 100;
    let (ip1, ix1) = csr(&rows[..half]);
    let (ip2, ix2) = csr(&rows[half..]);
    let m1 = CsrMatrix::<i64, f64>::new(&ip1, &ix1, None, n as usize).unwrap();
    let m2 = CsrMatrix::<i64, f64>::new(&ip2, &ix2, None, n as usize).unwrap();
    let mut a = EdgeCounter::new(vocab.n_vertices());
    a.add_rows(&m1, &vocab, Interrupt::never()).unwrap();
    let mut b = EdgeCounter::new(vocab.n_vertices());
    b.add_rows(&m2, &vocab, Interrupt::never()).unwrap();
    a.merge(&b, Interrupt::never()).unwrap();
    assert_eq!(
        a.finish(1, Interrupt::never()).unwrap(),
        whole.finish(1, Interrupt::never()).unwrap()
    );
}

#[test]
fn from_edges_builds_symmetric_sorted_lists() {
    let g = Graph::from_edges(4, &[(2, 0, 1), (0, 1, 2), (3, 0, 1), (0, 2, 4)]).unwrap();
    assert_eq!(g.neighbors(0), &[1, 2, 3]);
    assert_eq!(g.weights(0), &[2, 5, 1]);
    assert_eq!(g.neighbors(2), &[0]);
    assert_eq!(g.n_edges(), 3);
    assert_eq!(g.max_degree(), 3);
    assert!(Graph::from_edges(2, &[(1, 1, 1)]).is_err());
    assert!(Graph::from_edges(2, &[(0, 2, 1)]).is_err());
}

#[test]
fn relabeling_keeps_lists_sorted() {
    let g = Graph::from_edges(3, &[(0, 1, 4), (0, 2, 5)]).unwrap();
    let r = g.clone().with_ascending_labels(&[0, 2, 4], 5).unwrap();
    assert_eq!(r.n_vertices(), 5);
    assert_eq!(r.neighbors(0), &[2, 4]);
    assert_eq!(r.weights(0), &[4, 5]);
    assert_eq!(r.neighbors(4), &[0]);
    assert_eq!(r.degree(1), 0);
    assert_eq!(r.degree(3), 0);
    assert!(g.clone().with_ascending_labels(&[0, 0, 1], 5).is_err());
    assert!(g.clone().with_ascending_labels(&[2, 1, 3], 5).is_err());
    assert!(g.clone().with_ascending_labels(&[0, 1, 5], 5).is_err());
    assert!(g.with_ascending_labels(&[0, 1], 5).is_err());
}

#[test]
fn zero_threshold_is_refused() {
    let counter = EdgeCounter::new(3);
    assert!(counter.finish(0, Interrupt::never()).is_err());
}

#[test]
fn builder_passes_give_the_same_graph_with_or_without_a_memory_limit() {
    let n = 60;
    let rows = pseudo_random_rows(500, n, 13);
    let (indptr, indices) = csr(&rows);
    let m = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, n as usize).unwrap();
    let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
    let vocab = Vocabulary::new(&stats, None).unwrap();
    let never = Interrupt::never();
    let mut whole = GraphBuilder::new(vocab.clone(), 2).unwrap();
    // No rows: one pass at `finish` covers every vertex.
    whole.add_rows(&m, never).unwrap();
    let expected = whole.finish(never).unwrap();
    let mut sharded = GraphBuilder::new(vocab.clone(), 2).unwrap();
    // Two chunks per pass.
    let half = indptr.len() / 2;
    let (ip1, ix1) = csr(&rows[..half - 1]);
    let (ip2, ix2) = csr(&rows[half - 1..]);
    let m1 = CsrMatrix::<i64, f64>::new(&ip1, &ix1, None, n as usize).unwrap();
    let m2 = CsrMatrix::<i64, f64>::new(&ip2, &ix2, None, n as usize).unwrap();
    sharded.add_pair_bounds(&m1, never).unwrap();
    sharded.add_pair_bounds(&m2, never).unwrap();
    // Plenty of memory: one pass.
    sharded.plan_shards(1 << 30, 2).unwrap();
    assert!(sharded.add_pair_bounds(&m, never).is_err());
    assert!(
        sharded
            .add_pair_counts(&PairCounts::default(), never)
            .is_err()
    );
    let mut passes = 0;
    while !sharded.complete() {
        sharded.add_rows(&m1, never).unwrap();
        sharded.add_rows(&m2, never).unwrap();
        sharded.end_pass(never).unwrap();
        passes += 1;
    }
    assert_eq!(passes, 1);
    assert_eq!(sharded.finish(never).unwrap(), expected);
    let mut unplanned = GraphBuilder::new(vocab.clone(), 2).unwrap();
    assert!(matches!(
        unplanned.plan_shards(1 << 30, 2),
        Err(Error::OutOfOrder(_))
    ));
    assert!(GraphBuilder::new(vocab, 0).is_err());
}

/// The triangle with each vertex's smaller neighbours reads as the symmetric graph does, so
/// every coloring strategy colors both alike; neither depends on the number of threads that
/// counted and mirrored the pairs.
#[test]
fn the_triangle_graph_reads_as_the_symmetric_graph() {
    let n = 60;
    let rows = pseudo_random_rows(800, n, 17);
    let (indptr, indices) = csr(&rows);
    let m = CsrMatrix::<i64, f64>::new(&indptr, &indices, None, n as usize).unwrap();
    let stats = FeatureStats::from_rows(&m, Interrupt::never()).unwrap();
    let vocab = Vocabulary::new(&stats, None).unwrap();
    let built = |threads: usize| {
        in_pool(threads, || {
            let mut counter = EdgeCounter::new(vocab.n_vertices()).with_batch_nnz(200);
            counter.add_rows(&m, &vocab, Interrupt::never()).unwrap();
            let mut sharded = ShardedGraph::new(vocab.n_vertices());
            sharded.add_shard(counter, 1, Interrupt::never()).unwrap();
            let upper = sharded.into_upper().unwrap();
            let graph = Graph::from_upper(&upper).unwrap();
            (graph, TriangleGraph::from_upper(upper).unwrap())
        })
    };
    let (graph, triangle) = built(1);
    assert!(graph.n_edges() > 100);
    assert_eq!(triangle.n_edges(), graph.n_edges());
    for v in 0..graph.n_vertices() {
        let [smaller, larger] = triangle.neighbor_lists(v);
        assert!(smaller.iter().all(|&u| (u as usize) < v));
        assert_eq!([smaller, larger].concat(), graph.neighbors(v));
        assert_eq!(Adjacency::degree(&triangle, v), graph.degree(v));
    }
    assert_eq!(triangle.max_degree(), Adjacency::max_degree(&graph));
    let strategies = [
        Strategy::LargestFirst,
        Strategy::SmallestLast,
        Strategy::Natural,
        Strategy::Dsatur,
        Strategy::Random { seed: 5 },
    ];
    for strategy in strategies {
        assert_eq!(
            color(&triangle, strategy, Interrupt::never()).unwrap(),
            color(&graph, strategy, Interrupt::never()).unwrap(),
            "{strategy:?}"
        );
    }
    for threads in [2, 3] {
        assert_eq!(
            built(threads),
            (graph.clone(), triangle.clone()),
            "{threads} threads"
        );
    }
}
