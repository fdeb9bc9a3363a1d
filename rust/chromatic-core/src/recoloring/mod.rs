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
use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;

use crate::coloring::Coloring;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::interrupt::{Interrupt, Pacer};
use crate::memory::{try_reserve, with_capacity};
use crate::parallel::filled;

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
///
/// A graph of |V| vertices has at most |V| non-empty classes, whatever `n_colors` is: with more
/// colors than vertices the spreading runs the same dynamics over all `n_colors`, but its time
/// and memory follow the graph, not the colors (see `glauber`).
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
        if greedy.colors.iter().any(|&c| c as usize >= n_colors) {
            return Err(Error::InvalidParameter(format!(
                "the coloring to spread holds a color beyond its {} colors",
                greedy.n_colors
            )));
        }
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

/// Classes up to this size are updated on the calling thread: handing a few vertices to the
/// thread pool costs more than updating them, and with many colors most classes are that small.
const SERIAL_CLASS: usize = 1024;

/// One thread's view of the colors a vertex's neighbours use. With at most |V| colors, a mark
/// per color, stamped so that it never needs clearing; with more colors than vertices (most of
/// them unused by anyone), the sorted list of the neighbours' colors instead, so that memory and
/// time follow the degree, not the number of colors.
#[derive(Default)]
struct Marks {
    used: Vec<u32>,
    stamp: u32,
    list: Vec<u32>,
}

impl Marks {
    /// Sized on first use, so that threads which never update a vertex allocate nothing.
    fn ready(&mut self, n_colors: usize, sparse: bool) -> Result<&mut Self> {
        if !sparse && self.used.len() < n_colors {
            let additional = n_colors - self.used.len();
            try_reserve(&mut self.used, additional, "the color marks")?;
            self.used.resize(n_colors, 0);
        }
        Ok(self)
    }

    /// Marks the colors of `v`'s neighbours.
    fn load(&mut self, graph: &Graph, v: usize, colors: &[AtomicU32], sparse: bool) -> Result<()> {
        let neighbor_colors = graph
            .neighbors(v)
            .iter()
            .map(|&w| colors[w as usize].load(Ordering::Relaxed));
        if sparse {
            self.list.clear();
            try_reserve(&mut self.list, graph.degree(v), "the color marks")?;
            self.list.extend(neighbor_colors);
            self.list.sort_unstable();
            self.list.dedup();
        } else {
            self.stamp = self.stamp.wrapping_add(1);
            if self.stamp == 0 {
                self.used.fill(0);
                self.stamp = 1;
            }
            for c in neighbor_colors {
                self.used[c as usize] = self.stamp;
            }
        }
        Ok(())
    }

    #[inline]
    fn is_used(&self, c: usize, sparse: bool) -> bool {
        if sparse {
            self.list.binary_search(&(c as u32)).is_ok()
        } else {
            self.used[c] == self.stamp
        }
    }

    /// The `k`-th (from 0) color of `0..n_colors` that no neighbour uses.
    fn nth_free(&self, k: usize, n_colors: usize, sparse: bool) -> usize {
        if sparse {
            // Skip past each used color at or below the candidate (the list ascends).
            let mut c = k;
            for &u in &self.list {
                if u as usize <= c {
                    c += 1;
                } else {
                    break;
                }
            }
            c
        } else {
            (0..n_colors)
                .filter(|&c| self.used[c] != self.stamp)
                .nth(k)
                .expect("the vertex's own color is free")
        }
    }

    fn n_free(&self, n_colors: usize, sparse: bool) -> usize {
        if sparse {
            n_colors - self.list.len()
        } else {
            self.used[..n_colors]
                .iter()
                .filter(|&&u| u != self.stamp)
                .count()
        }
    }
}

/// Gives vertex `v` a uniformly random color among those its neighbours do not use.
fn update(
    graph: &Graph,
    colors: &[AtomicU32],
    marks: &mut Marks,
    v: usize,
    (n_colors, sparse): (usize, bool),
    seed: u64,
    sweep: u64,
) -> Result<()> {
    marks.load(graph, v, colors, sparse)?;
    let mut stream = Stream::new(seed, sweep, v as u64);
    let drawn = (0..REJECTION_TRIES)
        .map(|_| stream.below(n_colors))
        .find(|&c| !marks.is_used(c, sparse));
    let chosen = drawn.unwrap_or_else(|| {
        // Crowded vertex: draw among the free colors directly. This happens only when 16 draws
        // all hit a neighbour's color, that is when the neighbours hold most colors, so that
        // listing the colors costs a few times the degree. The vertex's own color is always
        // free, so there is at least one.
        let pick = stream.below(marks.n_free(n_colors, sparse));
        marks.nth_free(pick, n_colors, sparse)
    });
    colors[v].store(chosen as u32, Ordering::Relaxed);
    Ok(())
}

/// Sweeps of Glauber updates, each over the color classes of the sweep's start in ascending
/// color order. A sweep costs O(|V| + |E| + `n_colors`) with at most |V| colors, and
/// O(|V| log |V| + |E| log Δ) with more (`sparse`): classes are then found by sorting the
/// vertices, and free colors by the neighbours' sorted colors, so no step is per color. Both
/// ways draw the same colors.
fn glauber(
    graph: &Graph,
    start: &[u32],
    n_colors: usize,
    sweeps: u64,
    seed: u64,
    interrupt: Interrupt<'_>,
) -> Result<Vec<u32>> {
    glauber_with(
        graph,
        start,
        n_colors,
        n_colors > graph.n_vertices(),
        sweeps,
        seed,
        interrupt,
    )
}

fn glauber_with(
    graph: &Graph,
    start: &[u32],
    n_colors: usize,
    sparse: bool,
    sweeps: u64,
    seed: u64,
    interrupt: Interrupt<'_>,
) -> Result<Vec<u32>> {
    let n = graph.n_vertices();
    let colors: Vec<AtomicU32> = start.iter().map(|&c| AtomicU32::new(c)).collect();
    let mut by_class: Vec<u32> = filled(n, 0, "the color classes")?;
    // Where each non-empty class starts in `by_class`, and the end.
    let mut bounds: Vec<usize> = with_capacity(n + 1, "the color classes")?;
    let (mut class_start, mut cursor) = if sparse {
        (Vec::new(), Vec::new())
    } else {
        (
            filled(n_colors + 1, 0usize, "the color classes")?,
            filled(n_colors, 0usize, "the color classes")?,
        )
    };
    // One set of marks per pool thread (and one for a caller outside the pool): taken by index,
    // so each lock is uncontended, and kept from class to class.
    let threads = rayon::current_num_threads();
    let marks: Vec<Mutex<Marks>> = (0..=threads)
        .map(|_| Mutex::new(Marks::default()))
        .collect();
    let marks_here = || {
        let slot = rayon::current_thread_index().map_or(threads, |i| i.min(threads));
        marks[slot].lock().unwrap_or_else(PoisonError::into_inner)
    };
    let color_of = |v: u32| colors[v as usize].load(Ordering::Relaxed);
    for sweep in 0..sweeps {
        interrupt.check()?;
        // The classes at the start of the sweep, vertices ascending within each.
        bounds.clear();
        if sparse {
            for (v, slot) in by_class.iter_mut().enumerate() {
                *slot = v as u32;
            }
            by_class.par_sort_unstable_by_key(|&v| (color_of(v), v));
            bounds.extend(
                (0..n).filter(|&i| i == 0 || color_of(by_class[i]) != color_of(by_class[i - 1])),
            );
        } else {
            class_start.fill(0);
            for c in &colors {
                class_start[c.load(Ordering::Relaxed) as usize + 1] += 1;
            }
            for c in 0..n_colors {
                class_start[c + 1] += class_start[c];
            }
            cursor.copy_from_slice(&class_start[..n_colors]);
            for (v, c) in colors.iter().enumerate() {
                let slot = &mut cursor[c.load(Ordering::Relaxed) as usize];
                by_class[*slot] = v as u32;
                *slot += 1;
            }
            bounds.extend(class_start.windows(2).filter(|w| w[1] > w[0]).map(|w| w[0]));
        }
        bounds.push(n);
        let mut pacer = Pacer::new(interrupt);
        for class in bounds.windows(2) {
            let members = &by_class[class[0]..class[1]];
            if members.len() <= SERIAL_CLASS {
                let mut guard = marks_here();
                let marks = guard.ready(n_colors, sparse)?;
                for &v in members {
                    pacer.step(graph.degree(v as usize))?;
                    let at = (n_colors, sparse);
                    update(graph, &colors, marks, v as usize, at, seed, sweep)?;
                }
                continue;
            }
            // Members are pairwise non-adjacent: none reads a color another one writes.
            members
                .par_chunks(SERIAL_CLASS)
                .try_for_each(|chunk| -> Result<()> {
                    let mut guard = marks_here();
                    let marks = guard.ready(n_colors, sparse)?;
                    let mut pacer = Pacer::new(interrupt);
                    for &v in chunk {
                        pacer.step(graph.degree(v as usize))?;
                        let at = (n_colors, sparse);
                        update(graph, &colors, marks, v as usize, at, seed, sweep)?;
                    }
                    Ok(())
                })?;
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
    fn new(n_colors: usize) -> Result<Self> {
        Ok(ColorWeights {
            weight: filled(n_colors, 0, "the color weights")?,
            stamp: filled(n_colors, 0, "the color weights")?,
            current: 0,
        })
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
    let mut weights = ColorWeights::new(n_colors)?;
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
mod tests;
