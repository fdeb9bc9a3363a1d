//! Colorings with exactly `m` colors, for a fixed input width.
//!
//! When the greedy coloring needs fewer than `m` colors, the features are spread over all `m`
//! with Glauber dynamics: a vertex takes a uniformly random color among those its neighbours do
//! not use, which converges to a uniformly random proper `m`-coloring and so spreads the
//! features evenly, making collisions on new rows rarer. Updates run in sweeps over the color
//! classes of the sweep's start: vertices of one class are pairwise non-adjacent, so they can be
//! updated at the same time, and each draws from a random stream keyed by (seed, sweep, vertex),
//! so the result does not depend on the number of threads.
//!
//! When the greedy coloring needs more than `m` colors, some adjacent features must share a
//! color. A min-conflict greedy pass gives each vertex a free color when there is one and else
//! the color it shares the lightest edges with (edge weight = training rows holding both), then
//! local search moves vertices while that lowers the conflicting weight.

use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;

use crate::coloring::Coloring;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::interrupt::{Interrupt, Pacer};

/// A coloring with a fixed number of colors, and what it costs on the training rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedColoring {
    /// The coloring with the colors asked for.
    pub coloring: Coloring,
    /// Total weight of the edges whose ends share a color: an upper bound on the training
    /// collisions (a row holding three features of one color counts two collisions, three pairs).
    pub conflict_weight: u64,
}

/// Local-search sweeps at most, when squeezing into fewer colors.
const MAX_LOCAL_SEARCH_SWEEPS: usize = 8;

/// Turns a proper coloring into one with exactly `n_colors` colors (classes may stay empty when
/// there are fewer vertices than colors). `steps` Glauber updates (rounded up to whole sweeps
/// over the vertices); `None` for 2·|V|·ln|V|.
pub fn with_n_colors(
    graph: &Graph,
    greedy: &Coloring,
    n_colors: usize,
    steps: Option<u64>,
    seed: u64,
    interrupt: Interrupt<'_>,
) -> Result<FixedColoring> {
    if n_colors == 0 || n_colors > u32::MAX as usize / 2 {
        return Err(Error::InvalidParameter(format!(
            "n_colors must be in [1, {}], got {n_colors}",
            u32::MAX / 2
        )));
    }
    if greedy.colors.len() != graph.n_vertices() {
        return Err(Error::LengthMismatch {
            what: "coloring",
            len: greedy.colors.len(),
            expected_from: "vertices",
            expected: graph.n_vertices(),
        });
    }
    if greedy.n_colors <= n_colors {
        let n = graph.n_vertices() as u64;
        let steps =
            steps.unwrap_or_else(|| (2.0 * n as f64 * (n.max(1) as f64).ln()).ceil() as u64);
        let sweeps = if n == 0 { 0 } else { steps.div_ceil(n) };
        let colors = glauber(graph, &greedy.colors, n_colors, sweeps, seed, interrupt)?;
        return Ok(FixedColoring {
            coloring: Coloring { colors, n_colors },
            conflict_weight: 0,
        });
    }
    let colors = min_conflict(graph, n_colors, interrupt)?;
    let conflict_weight = conflict_weight(graph, &colors);
    Ok(FixedColoring {
        coloring: Coloring { colors, n_colors },
        conflict_weight,
    })
}

/// `SplitMix64`: a counter-based stream, so every (seed, sweep, vertex) gets its own draws.
struct Stream(u64);

impl Stream {
    fn new(seed: u64, sweep: u64, vertex: u64) -> Self {
        let mut s =
            Stream(seed ^ sweep.rotate_left(40) ^ vertex.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        s.next();
        s
    }

    #[inline]
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (multiply-shift; the bias is below 2^-32 for the sizes used here).
    #[inline]
    fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }
}

/// Rejection draws before falling back to listing the free colors.
const REJECTION_TRIES: usize = 16;

fn glauber(
    graph: &Graph,
    start: &[u32],
    n_colors: usize,
    sweeps: u64,
    seed: u64,
    interrupt: Interrupt<'_>,
) -> Result<Vec<u32>> {
    let n = graph.n_vertices();
    let colors: Vec<AtomicU32> = start.iter().map(|&c| AtomicU32::new(c)).collect();
    let mut by_class: Vec<u32> = Vec::with_capacity(n);
    let mut class_start = vec![0usize; n_colors + 1];
    for sweep in 0..sweeps {
        interrupt.check()?;
        // The classes at the start of the sweep, by counting sort.
        class_start.fill(0);
        for c in &colors {
            class_start[c.load(Ordering::Relaxed) as usize + 1] += 1;
        }
        for c in 0..n_colors {
            class_start[c + 1] += class_start[c];
        }
        let mut cursor = class_start.clone();
        by_class.resize(n, 0);
        for (v, c) in colors.iter().enumerate() {
            let slot = &mut cursor[c.load(Ordering::Relaxed) as usize];
            by_class[*slot] = v as u32;
            *slot += 1;
        }
        for class in 0..n_colors {
            let members = &by_class[class_start[class]..class_start[class + 1]];
            // Members are pairwise non-adjacent: none reads a color another one writes.
            members.par_chunks(1024).try_for_each_init(
                || (vec![0u32; n_colors], 0u32, Pacer::new(interrupt)),
                |(used, stamp, pacer), chunk| {
                    for &v in chunk {
                        let v = v as usize;
                        pacer.step(graph.degree(v))?;
                        *stamp = stamp.wrapping_add(1);
                        if *stamp == 0 {
                            used.fill(0);
                            *stamp = 1;
                        }
                        for &w in graph.neighbors(v) {
                            used[colors[w as usize].load(Ordering::Relaxed) as usize] = *stamp;
                        }
                        let mut stream = Stream::new(seed, sweep, v as u64);
                        let chosen = (0..REJECTION_TRIES)
                            .map(|_| stream.below(n_colors))
                            .find(|&c| used[c] != *stamp)
                            .unwrap_or_else(|| {
                                // Crowded vertex: draw among the free colors directly. Its
                                // own color is always free, so there is at least one.
                                let free = used.iter().filter(|&&u| u != *stamp).count();
                                let pick = stream.below(free);
                                used.iter()
                                    .enumerate()
                                    .filter(|&(_, &u)| u != *stamp)
                                    .nth(pick)
                                    .map(|(c, _)| c)
                                    .expect("the vertex's own color is free")
                            });
                        colors[v].store(chosen as u32, Ordering::Relaxed);
                    }
                    Ok(())
                },
            )?;
        }
    }
    Ok(colors.into_iter().map(AtomicU32::into_inner).collect())
}

const UNCOLORED: u32 = u32::MAX;

/// Per-color weight of a vertex's colored neighbours, with stamps so that it needs no clearing.
struct ColorWeights {
    weight: Vec<u64>,
    stamp: Vec<u32>,
    current: u32,
}

impl ColorWeights {
    fn new(n_colors: usize) -> Self {
        ColorWeights {
            weight: vec![0; n_colors],
            stamp: vec![0; n_colors],
            current: 0,
        }
    }

    fn load(&mut self, graph: &Graph, v: usize, colors: &[u32]) {
        self.current = self.current.wrapping_add(1);
        if self.current == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.current = 1;
        }
        for (&w, &weight) in graph.neighbors(v).iter().zip(graph.weights(v)) {
            let c = colors[w as usize];
            if c == UNCOLORED {
                continue;
            }
            let c = c as usize;
            if self.stamp[c] != self.current {
                self.stamp[c] = self.current;
                self.weight[c] = 0;
            }
            self.weight[c] += u64::from(weight);
        }
    }

    #[inline]
    fn of(&self, c: usize) -> u64 {
        if self.stamp[c] == self.current {
            self.weight[c]
        } else {
            0
        }
    }

    /// The color of least weight; the smallest such color on ties. A free color (weight 0) is
    /// found without scanning past it.
    fn lightest(&self) -> usize {
        let n_colors = self.weight.len();
        if let Some(free) = (0..n_colors).find(|&c| self.stamp[c] != self.current) {
            return free;
        }
        (0..n_colors)
            .min_by_key(|&c| (self.weight[c], c))
            .expect("at least one color")
    }
}

fn min_conflict(graph: &Graph, n_colors: usize, interrupt: Interrupt<'_>) -> Result<Vec<u32>> {
    let n = graph.n_vertices();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.par_sort_unstable_by_key(|&v| (std::cmp::Reverse(graph.degree(v as usize)), v));
    let mut colors = vec![UNCOLORED; n];
    let mut weights = ColorWeights::new(n_colors);
    let mut pacer = Pacer::new(interrupt);
    for &v in &order {
        let v = v as usize;
        pacer.step(graph.degree(v))?;
        weights.load(graph, v, &colors);
        colors[v] = weights.lightest() as u32;
    }
    for _ in 0..MAX_LOCAL_SEARCH_SWEEPS {
        let mut moved = false;
        for &v in &order {
            let v = v as usize;
            let own = colors[v];
            if !graph
                .neighbors(v)
                .iter()
                .any(|&w| colors[w as usize] == own)
            {
                continue;
            }
            pacer.step(graph.degree(v) + n_colors)?;
            weights.load(graph, v, &colors);
            let best = weights.lightest();
            if weights.of(best) < weights.of(own as usize) {
                colors[v] = best as u32;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    Ok(colors)
}

/// Total weight of the edges whose ends share a color.
pub fn conflict_weight(graph: &Graph, colors: &[u32]) -> u64 {
    (0..graph.n_vertices())
        .into_par_iter()
        .map(|v| {
            graph
                .neighbors(v)
                .iter()
                .zip(graph.weights(v))
                .filter(|&(&w, _)| (w as usize) > v && colors[w as usize] == colors[v])
                .map(|(_, &weight)| u64::from(weight))
                .sum::<u64>()
        })
        .sum()
}

#[cfg(test)]
mod tests {
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
    fn zero_colors_is_refused() {
        let g = random_graph(10, 10, 0);
        let greedy = color(&g, Strategy::Natural, Interrupt::never()).unwrap();
        assert!(with_n_colors(&g, &greedy, 0, None, 0, Interrupt::never()).is_err());
    }
}
