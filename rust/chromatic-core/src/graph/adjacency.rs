//! What a coloring reads of a graph ([`Adjacency`]: each vertex's neighbours), and the lightest
//! graph that offers it ([`TriangleGraph`]: the counted upper triangle beside the smaller
//! neighbours of each vertex, without weights).
//!
//! Both this graph and the symmetric [`Graph`](super::Graph) mirror the upper triangle by ranges
//! of target vertices, each thread writing only its own contiguous part of the output; the
//! gathering of one range's smaller neighbours is shared here.

use std::ops::Range;

use rayon::prelude::*;

use super::counts::EdgeCounts;
use crate::error::Result;
use crate::parallel::{balanced_blocks, concat, filled, parallel_blocks, split_mut};

/// The neighbours of every vertex of an undirected graph, as coloring reads them.
pub trait Adjacency: Sync {
    /// Vertices.
    fn n_vertices(&self) -> usize;

    /// Neighbours of `u`.
    fn degree(&self, u: usize) -> usize;

    /// The neighbours of `u` in two ascending lists, the second starting above the first's end:
    /// read one after the other, they are every neighbour in ascending order.
    fn neighbor_lists(&self, u: usize) -> [&[u32]; 2];

    /// The largest degree (0 without vertices).
    fn max_degree(&self) -> usize {
        (0..self.n_vertices())
            .into_par_iter()
            .map(|u| self.degree(u))
            .max()
            .unwrap_or(0)
    }
}

/// A graph kept as the counted upper triangle's lists (each vertex's larger neighbours) and, for
/// each vertex, its smaller neighbours, without edge weights: 8 bytes per edge, where the upper
/// triangle and the symmetric weighted lists take 24 while one is built from the other. Greedy
/// colorings read only the neighbours, so a fit without a color budget colors this graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriangleGraph {
    upper_indptr: Vec<usize>,
    upper: Vec<u32>,
    lower_indptr: Vec<usize>,
    lower: Vec<u32>,
}

impl TriangleGraph {
    /// The graph of the counted upper triangle `counts`, whose weights are dropped before the
    /// smaller neighbours are gathered.
    pub fn from_upper(counts: EdgeCounts) -> Result<Self> {
        let EdgeCounts {
            indptr: upper_indptr,
            neighbors: upper,
            weights,
        } = counts;
        drop(weights);
        let n = upper_indptr.len() - 1;
        let lower_degree = lower_degrees(&upper_indptr, &upper)?;
        let mut lower_indptr = Vec::with_capacity(n + 1);
        lower_indptr.push(0usize);
        for u in 0..n {
            lower_indptr.push(lower_indptr[u] + lower_degree[u] as usize);
        }
        drop(lower_degree);
        let mut lower = filled(lower_indptr[n], 0u32, "the graph")?;
        let ranges = balanced_blocks(n, parallel_blocks(), |v| v + lower_indptr[v]);
        let lengths = ranges
            .iter()
            .map(|r| lower_indptr[r.end] - lower_indptr[r.start]);
        let pieces = split_mut(&mut lower, lengths);
        ranges
            .into_par_iter()
            .zip(pieces)
            .for_each(|(targets, out)| {
                let base = lower_indptr[targets.start];
                let mut cursor: Vec<usize> =
                    targets.clone().map(|v| lower_indptr[v] - base).collect();
                each_smaller_neighbor(&upper_indptr, &upper, &targets, |v, u, _| {
                    let slot = &mut cursor[v - targets.start];
                    out[*slot] = u;
                    *slot += 1;
                });
            });
        Ok(TriangleGraph {
            upper_indptr,
            upper,
            lower_indptr,
            lower,
        })
    }

    /// Number of undirected edges.
    pub fn n_edges(&self) -> usize {
        self.upper.len()
    }
}

impl Adjacency for TriangleGraph {
    fn n_vertices(&self) -> usize {
        self.upper_indptr.len() - 1
    }

    #[inline]
    fn degree(&self, u: usize) -> usize {
        self.lower_indptr[u + 1] - self.lower_indptr[u] + self.upper_indptr[u + 1]
            - self.upper_indptr[u]
    }

    #[inline]
    fn neighbor_lists(&self, u: usize) -> [&[u32]; 2] {
        [
            &self.lower[self.lower_indptr[u]..self.lower_indptr[u + 1]],
            &self.upper[self.upper_indptr[u]..self.upper_indptr[u + 1]],
        ]
    }
}

/// Where the neighbours of `u` that fall in `targets` lie in the upper lists.
#[inline]
fn positions_in(indptr: &[usize], upper: &[u32], u: usize, targets: &Range<usize>) -> Range<usize> {
    let row = &upper[indptr[u]..indptr[u + 1]];
    let (Some(&first), Some(&last)) = (row.first(), row.last()) else {
        return 0..0;
    };
    if (last as usize) < targets.start || first as usize >= targets.end {
        return 0..0;
    }
    let lo = row.partition_point(|&v| (v as usize) < targets.start);
    let hi = row.partition_point(|&v| (v as usize) < targets.end);
    indptr[u] + lo..indptr[u] + hi
}

/// Calls `visit(v, u, position)` for every edge `(u, v)`, `u < v`, of the upper lists whose `v`
/// lies in `targets`, in ascending `u` (so each `v` meets its smaller neighbours in order);
/// `position` is the edge's place in the upper lists.
pub(super) fn each_smaller_neighbor(
    indptr: &[usize],
    upper: &[u32],
    targets: &Range<usize>,
    mut visit: impl FnMut(usize, u32, usize),
) {
    for u in 0..targets.end {
        for position in positions_in(indptr, upper, u, targets) {
            visit(upper[position] as usize, u as u32, position);
        }
    }
}

/// How many smaller neighbours each vertex has: how often the upper lists name it.
pub(super) fn lower_degrees(indptr: &[usize], upper: &[u32]) -> Result<Vec<u32>> {
    let n = indptr.len() - 1;
    let ranges = balanced_blocks(n, parallel_blocks(), |v| v);
    let parts: Vec<Vec<u32>> = ranges
        .into_par_iter()
        .map(|targets| {
            let mut degree = vec![0u32; targets.len()];
            each_smaller_neighbor(indptr, upper, &targets, |v, _, _| {
                degree[v - targets.start] += 1;
            });
            degree
        })
        .collect();
    concat(parts.iter().map(Vec::as_slice), "the graph")
}
