use super::*;
use crate::coloring::{Strategy, color};

fn random_graph(n: u32, m: usize, seed: u64) -> Graph {
    let mut s = Stream::new(seed, 0, 0);
    let edges: Vec<(u32, u32, u32)> = (0..m)
        .map(|_| {
            let a = s.below(n as usize) as u32;
            let b = s.below(n as usize) as u32;
            (a, b, 1 + s.below(5) as u32)
        })
        .filter(|e| e.0 != e.1)
        .collect();
    Graph::from_edges(n as usize, &edges).unwrap()
}

fn is_proper(graph: &Graph, colors: &[u32]) -> bool {
    (0..graph.n_vertices()).all(|v| {
        graph
            .neighbors(v)
            .iter()
            .all(|&w| colors[v] != colors[w as usize])
    })
}

#[test]
fn spreading_stays_proper_and_uses_every_color() {
    let g = random_graph(2000, 6000, 1);
    let greedy = color(&g, Strategy::LargestFirst, Interrupt::never()).unwrap();
    let fixed = with_n_colors(&g, &greedy, 64, None, 7, Interrupt::never()).unwrap();
    assert!(is_proper(&g, &fixed.coloring.colors));
    assert_eq!(fixed.conflict_weight, 0);
    let mut sizes = vec![0usize; 64];
    for &c in &fixed.coloring.colors {
        sizes[c as usize] += 1;
    }
    // Spread out: every color used, none far above the mean of 2000 / 64 ≈ 31.
    assert!(sizes.iter().all(|&s| s > 0));
    assert!(*sizes.iter().max().unwrap() < 80, "{sizes:?}");
}

#[test]
fn spreading_is_the_same_for_any_thread_count() {
    let g = random_graph(3000, 20000, 2);
    let greedy = color(&g, Strategy::LargestFirst, Interrupt::never()).unwrap();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| with_n_colors(&g, &greedy, 40, None, 3, Interrupt::never()).unwrap())
    };
    assert_eq!(run(1), run(3));
    assert_ne!(
        run(2),
        with_n_colors(&g, &greedy, 40, None, 4, Interrupt::never()).unwrap()
    );
}

#[test]
fn squeezing_reduces_conflicts_below_a_naive_assignment() {
    let g = random_graph(500, 8000, 3);
    let greedy = color(&g, Strategy::LargestFirst, Interrupt::never()).unwrap();
    let m = greedy.n_colors / 2;
    let fixed = with_n_colors(&g, &greedy, m, None, 0, Interrupt::never()).unwrap();
    assert!(fixed.coloring.colors.iter().all(|&c| (c as usize) < m));
    assert_eq!(
        fixed.conflict_weight,
        conflict_weight(&g, &fixed.coloring.colors)
    );
    // Folding the greedy colors modulo m is a valid m-coloring; min-conflict must beat it.
    let folded: Vec<u32> = greedy.colors.iter().map(|&c| c % m as u32).collect();
    assert!(fixed.conflict_weight < conflict_weight(&g, &folded));
    assert!(fixed.conflict_weight > 0);
}

#[test]
fn more_colors_than_vertices_cost_the_vertices_not_the_colors() {
    let g = random_graph(300, 900, 5);
    let greedy = color(&g, Strategy::LargestFirst, Interrupt::never()).unwrap();
    // A billion colors on 300 vertices: nothing per color is allocated or visited.
    let fixed = with_n_colors(&g, &greedy, 1_000_000_000, None, 1, Interrupt::never()).unwrap();
    assert_eq!(fixed.coloring.n_colors, 1_000_000_000);
    assert!(is_proper(&g, &fixed.coloring.colors));
    let mut distinct = fixed.coloring.colors.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() > 290, "{}", distinct.len());
    let empty = Graph::from_edges(0, &[]).unwrap();
    let none = color(&empty, Strategy::Natural, Interrupt::never()).unwrap();
    let fixed = with_n_colors(&empty, &none, 1 << 30, None, 0, Interrupt::never()).unwrap();
    assert!(fixed.coloring.colors.is_empty());
}

#[test]
fn free_colors_are_counted_and_found_past_the_used_ones() {
    let marks = Marks {
        list: vec![1, 3, 4],
        ..Marks::default()
    };
    assert_eq!(marks.n_free(7, true), 4);
    let free: Vec<usize> = (0..4).map(|k| marks.nth_free(k, 7, true)).collect();
    assert_eq!(free, [0, 2, 5, 6]);
    assert!(marks.is_used(3, true) && !marks.is_used(2, true));
}

#[test]
fn marks_per_color_and_sorted_neighbour_colors_draw_the_same() {
    // Dense graphs crowd the vertices, so that the fallback draw among free colors runs too.
    for (n, m, n_colors) in [
        (300, 900, 400),
        (120, 5000, 130),
        (60, 1500, 61),
        (500, 800, 40),
    ] {
        let g = random_graph(n, m, 9);
        let greedy = color(&g, Strategy::LargestFirst, Interrupt::never()).unwrap();
        if greedy.n_colors > n_colors {
            continue;
        }
        let run = |sparse| {
            glauber_with(
                &g,
                &greedy.colors,
                n_colors,
                sparse,
                12,
                3,
                Interrupt::never(),
            )
            .unwrap()
        };
        let (dense, sparse) = (run(false), run(true));
        assert_eq!(dense, sparse);
        assert!(is_proper(&g, &dense));
    }
}

#[test]
fn zero_colors_is_refused() {
    let g = random_graph(10, 10, 0);
    let greedy = color(&g, Strategy::Natural, Interrupt::never()).unwrap();
    assert!(with_n_colors(&g, &greedy, 0, None, 0, Interrupt::never()).is_err());
}
