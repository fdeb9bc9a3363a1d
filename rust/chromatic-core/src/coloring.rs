//! Greedy graph coloring: visit the vertices in an order and give each the smallest color no
//! colored neighbour uses. The orders are computed deterministically (ties go to the smaller
//! vertex id, i.e. the more frequent feature), so a coloring never depends on the thread count.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::graph::Adjacency;
use crate::interrupt::{Interrupt, Pacer};

/// The order in which greedy coloring visits the vertices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Largest degree first (Welsh–Powell), the default.
    LargestFirst,
    /// Reverse of a smallest-degree-last elimination (degeneracy order): at most
    /// degeneracy + 1 colors.
    SmallestLast,
    /// Vertex id order, which is frequency rank order.
    Natural,
    /// DSATUR: always the vertex with the most distinct neighbour colors (then largest degree).
    Dsatur,
    /// A uniformly random order from the seed.
    Random {
        /// Seeds the order.
        seed: u64,
    },
}

impl Strategy {
    /// Parses a strategy name; `seed` is used by `"random"` only.
    pub fn from_name(name: &str, seed: u64) -> Result<Self> {
        match name {
            "largest_first" => Ok(Strategy::LargestFirst),
            "smallest_last" => Ok(Strategy::SmallestLast),
            "natural" => Ok(Strategy::Natural),
            "dsatur" => Ok(Strategy::Dsatur),
            "random" => Ok(Strategy::Random { seed }),
            other => Err(Error::InvalidParameter(format!(
                "unknown coloring strategy {other:?}; expected one of largest_first, \
                 smallest_last, natural, dsatur, random"
            ))),
        }
    }
}

/// A proper coloring: `colors[v]` is the color of vertex `v`, colors are `0..n_colors`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coloring {
    /// The color of every vertex.
    pub colors: Vec<u32>,
    /// Colors used.
    pub n_colors: usize,
}

const UNCOLORED: u32 = u32::MAX;

/// A proper greedy coloring of `graph`, vertices taken in the order of `strategy`.
///
/// # Examples
///
/// ```
/// use chromatic_core::{Graph, Interrupt, Strategy, color};
///
/// // A triangle and an isolated vertex.
/// let graph = Graph::from_edges(4, &[(0, 1, 1), (1, 2, 1), (0, 2, 1)])?;
/// let coloring = color(&graph, Strategy::LargestFirst, Interrupt::never())?;
/// assert_eq!(coloring.n_colors, 3);
/// assert_ne!(coloring.colors[0], coloring.colors[1]);
/// # Ok::<(), chromatic_core::Error>(())
/// ```
pub fn color<G: Adjacency>(
    graph: &G,
    strategy: Strategy,
    interrupt: Interrupt<'_>,
) -> Result<Coloring> {
    match strategy {
        Strategy::LargestFirst => greedy(graph, &largest_first_order(graph), interrupt),
        Strategy::SmallestLast => greedy(graph, &smallest_last_order(graph, interrupt)?, interrupt),
        Strategy::Natural => {
            let order: Vec<u32> = (0..graph.n_vertices() as u32).collect();
            greedy(graph, &order, interrupt)
        }
        Strategy::Random { seed } => {
            let mut order: Vec<u32> = (0..graph.n_vertices() as u32).collect();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for i in (1..order.len()).rev() {
                let j = rng.random_range(0..=i);
                order.swap(i, j);
            }
            greedy(graph, &order, interrupt)
        }
        Strategy::Dsatur => dsatur(graph, interrupt),
    }
}

/// Smallest color not used by a colored neighbour. `seen` holds, per color, the stamp of the last
/// visit that saw it, so it never needs clearing.
#[inline]
fn smallest_free_color<G: Adjacency>(
    graph: &G,
    v: usize,
    colors: &[u32],
    seen: &mut Vec<u32>,
    stamp: u32,
) -> u32 {
    for list in graph.neighbor_lists(v) {
        for &w in list {
            let c = colors[w as usize];
            if c != UNCOLORED {
                let c = c as usize;
                if c >= seen.len() {
                    seen.resize(c + 1, 0);
                }
                seen[c] = stamp;
            }
        }
    }
    seen.iter().position(|&s| s != stamp).unwrap_or(seen.len()) as u32
}

fn greedy<G: Adjacency>(graph: &G, order: &[u32], interrupt: Interrupt<'_>) -> Result<Coloring> {
    let mut colors = vec![UNCOLORED; graph.n_vertices()];
    let mut seen: Vec<u32> = Vec::new();
    let mut n_colors = 0u32;
    let mut pacer = Pacer::new(interrupt);
    for (i, &v) in order.iter().enumerate() {
        pacer.step(graph.degree(v as usize))?;
        let c = smallest_free_color(graph, v as usize, &colors, &mut seen, i as u32 + 1);
        colors[v as usize] = c;
        n_colors = n_colors.max(c + 1);
    }
    Ok(Coloring {
        colors,
        n_colors: n_colors as usize,
    })
}

fn largest_first_order<G: Adjacency>(graph: &G) -> Vec<u32> {
    let mut order: Vec<u32> = (0..graph.n_vertices() as u32).collect();
    order.par_sort_unstable_by_key(|&v| (Reverse(graph.degree(v as usize)), v));
    order
}

/// Matula–Beck smallest-last order, computed with the bucket scheme of Batagelj and Zaversnik in
/// O(|V| + |E|): repeatedly remove a vertex of smallest remaining degree; color in reverse.
fn smallest_last_order<G: Adjacency>(graph: &G, interrupt: Interrupt<'_>) -> Result<Vec<u32>> {
    let n = graph.n_vertices();
    let mut degree: Vec<usize> = (0..n).map(|v| graph.degree(v)).collect();
    let max_degree = degree.iter().copied().max().unwrap_or(0);
    // bin_start[d]: first position in `by_degree` of the vertices of current degree d.
    let mut bin_start = vec![0usize; max_degree + 2];
    for &d in &degree {
        bin_start[d + 1] += 1;
    }
    for d in 0..=max_degree {
        bin_start[d + 1] += bin_start[d];
    }
    let mut position = vec![0usize; n];
    let mut by_degree = vec![0u32; n];
    {
        let mut next = bin_start.clone();
        for v in 0..n {
            position[v] = next[degree[v]];
            by_degree[position[v]] = v as u32;
            next[degree[v]] += 1;
        }
    }
    let mut pacer = Pacer::new(interrupt);
    for i in 0..n {
        let v = by_degree[i] as usize;
        pacer.step(graph.degree(v))?;
        for &w in graph.neighbor_lists(v).into_iter().flatten() {
            let w = w as usize;
            if degree[w] > degree[v] {
                // Move w to the front of its bin, then shrink the bin past it.
                let dw = degree[w];
                let front = bin_start[dw];
                let u = by_degree[front] as usize;
                if u != w {
                    by_degree.swap(front, position[w]);
                    position[u] = position[w];
                    position[w] = front;
                }
                bin_start[dw] += 1;
                degree[w] -= 1;
            }
        }
    }
    by_degree.reverse();
    Ok(by_degree)
}

/// Multiply-shift hashing for the (vertex, color) pairs of DSATUR: the keys are already well
/// spread integers, so a cryptographic hash would only cost time.
#[derive(Default)]
struct PairHasher(u64);

impl Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, key: u64) {
        self.0 = (key ^ (key >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// DSATUR with a lazy max-heap keyed by (saturation, degree, smaller id first).
fn dsatur<G: Adjacency>(graph: &G, interrupt: Interrupt<'_>) -> Result<Coloring> {
    let n = graph.n_vertices();
    let mut colors = vec![UNCOLORED; n];
    let mut saturation = vec![0u32; n];
    let mut neighbour_colors: HashSet<u64, BuildHasherDefault<PairHasher>> = HashSet::default();
    let mut heap: BinaryHeap<(u32, usize, Reverse<u32>)> = (0..n)
        .map(|v| (0, graph.degree(v), Reverse(v as u32)))
        .collect();
    let mut seen: Vec<u32> = Vec::new();
    let mut n_colors = 0u32;
    let mut colored = 0usize;
    let mut pacer = Pacer::new(interrupt);
    while let Some((sat, _, Reverse(v))) = heap.pop() {
        let v = v as usize;
        if colors[v] != UNCOLORED || sat != saturation[v] {
            continue;
        }
        pacer.step(graph.degree(v))?;
        let c = smallest_free_color(graph, v, &colors, &mut seen, colored as u32 + 1);
        colors[v] = c;
        colored += 1;
        n_colors = n_colors.max(c + 1);
        for &w in graph.neighbor_lists(v).into_iter().flatten() {
            let w = w as usize;
            if colors[w] == UNCOLORED && neighbour_colors.insert(((w as u64) << 32) | u64::from(c))
            {
                saturation[w] += 1;
                heap.push((saturation[w], graph.degree(w), Reverse(w as u32)));
            }
        }
    }
    Ok(Coloring {
        colors,
        n_colors: n_colors as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Graph;

    fn is_proper(graph: &Graph, coloring: &Coloring) -> bool {
        (0..graph.n_vertices()).all(|v| {
            graph
                .neighbors(v)
                .iter()
                .all(|&w| coloring.colors[v] != coloring.colors[w as usize])
        }) && coloring
            .colors
            .iter()
            .all(|&c| (c as usize) < coloring.n_colors)
    }

    fn random_graph(n: u32, m: usize, seed: u64) -> Graph {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let edges: Vec<(u32, u32, u32)> = (0..m)
            .map(|_| (rng.random_range(0..n), rng.random_range(0..n), 1))
            .filter(|e| e.0 != e.1)
            .collect();
        Graph::from_edges(n as usize, &edges).unwrap()
    }

    const ALL: [Strategy; 5] = [
        Strategy::LargestFirst,
        Strategy::SmallestLast,
        Strategy::Natural,
        Strategy::Dsatur,
        Strategy::Random { seed: 11 },
    ];

    #[test]
    fn every_strategy_colors_properly_within_max_degree_plus_one() {
        for seed in 0..5 {
            let g = random_graph(200, 1500, seed);
            for strategy in ALL {
                let c = color(&g, strategy, Interrupt::never()).unwrap();
                assert!(is_proper(&g, &c), "{strategy:?}");
                assert!(c.n_colors <= g.max_degree() + 1, "{strategy:?}");
            }
        }
    }

    #[test]
    fn bipartite_and_complete_graphs() {
        // An even cycle is 2-colorable; DSATUR and smallest-last find 2 colors.
        let n = 10u32;
        let cycle: Vec<_> = (0..n).map(|i| (i, (i + 1) % n, 1)).collect();
        let g = Graph::from_edges(n as usize, &cycle).unwrap();
        assert_eq!(
            color(&g, Strategy::Dsatur, Interrupt::never())
                .unwrap()
                .n_colors,
            2
        );
        assert_eq!(
            color(&g, Strategy::SmallestLast, Interrupt::never())
                .unwrap()
                .n_colors,
            2
        );
        let complete: Vec<_> = (0..6u32)
            .flat_map(|a| (a + 1..6).map(move |b| (a, b, 1)))
            .collect();
        let g = Graph::from_edges(6, &complete).unwrap();
        for strategy in ALL {
            assert_eq!(color(&g, strategy, Interrupt::never()).unwrap().n_colors, 6);
        }
    }

    #[test]
    fn smallest_last_stays_within_degeneracy_plus_one() {
        // A tree (degeneracy 1) plus isolated vertices: 2 colors.
        let edges: Vec<_> = (1..50u32).map(|i| (i, i / 2, 1)).collect();
        let g = Graph::from_edges(60, &edges).unwrap();
        let c = color(&g, Strategy::SmallestLast, Interrupt::never()).unwrap();
        assert!(is_proper(&g, &c));
        assert_eq!(c.n_colors, 2);
    }

    #[test]
    fn random_order_depends_only_on_the_seed() {
        let g = random_graph(300, 3000, 1);
        let a = color(&g, Strategy::Random { seed: 5 }, Interrupt::never()).unwrap();
        let b = color(&g, Strategy::Random { seed: 5 }, Interrupt::never()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn empty_graph_has_no_colors() {
        let g = Graph::from_edges(0, &[]).unwrap();
        assert_eq!(
            color(&g, Strategy::LargestFirst, Interrupt::never())
                .unwrap()
                .n_colors,
            0
        );
    }

    #[test]
    fn unknown_strategy_is_named() {
        let err = Strategy::from_name("greedy", 0).unwrap_err();
        assert!(err.to_string().contains("\"greedy\""));
    }
}
