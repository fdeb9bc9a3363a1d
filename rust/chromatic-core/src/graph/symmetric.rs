//! The symmetric weighted graph: what recoloring to a color budget reads, and what the graph
//! functions report.

use rayon::prelude::*;

use super::adjacency::{Adjacency, each_smaller_neighbor, lower_degrees};
use super::counts::{EdgeCounts, split_lists};
use crate::error::{Error, Result};
use crate::matrix::CsrMatrix;
use crate::parallel::{balanced_blocks, filled, parallel_blocks};

/// A symmetric weighted graph in CSR form: every edge appears in the lists of both ends, and
/// each list is sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graph {
    indptr: Vec<usize>,
    neighbors: Vec<u32>,
    weights: Vec<u32>,
}

impl Graph {
    /// Mirrors an upper triangle into full adjacency lists. Work is split by ranges of target
    /// vertices, so that each thread writes only its own contiguous part of the output: the lists
    /// of a range hold its smaller neighbours first (gathered from the upper lists of all earlier
    /// sources, which ascend, so they come out sorted), then its larger ones (copied).
    pub fn from_upper(upper: &EdgeCounts) -> Result<Self> {
        let n = upper.n_vertices();
        let lower_degree = lower_degrees(&upper.indptr, &upper.neighbors)?;
        let mut indptr = Vec::with_capacity(n + 1);
        indptr.push(0usize);
        for u in 0..n {
            let degree = lower_degree[u] as usize + upper.indptr[u + 1] - upper.indptr[u];
            indptr.push(indptr[u] + degree);
        }
        let mut neighbors = filled(indptr[n], 0u32, "the graph")?;
        let mut weights = filled(indptr[n], 0u32, "the graph")?;
        let ranges = balanced_blocks(n, parallel_blocks(), |v| v + indptr[v]);
        let pieces = split_lists(&indptr, &ranges, &mut neighbors, &mut weights);
        ranges
            .into_par_iter()
            .zip(pieces)
            .for_each(|(targets, (out_n, out_w))| {
                let base = indptr[targets.start];
                let mut cursor: Vec<usize> = targets.clone().map(|v| indptr[v] - base).collect();
                each_smaller_neighbor(&upper.indptr, &upper.neighbors, &targets, |v, u, at| {
                    let slot = &mut cursor[v - targets.start];
                    out_n[*slot] = u;
                    out_w[*slot] = upper.weights[at];
                    *slot += 1;
                });
                for v in targets.clone() {
                    let (nbrs, ws) = upper.row(v);
                    let start = indptr[v] - base + lower_degree[v] as usize;
                    out_n[start..start + nbrs.len()].copy_from_slice(nbrs);
                    out_w[start..start + ws.len()].copy_from_slice(ws);
                }
            });
        Ok(Graph {
            indptr,
            neighbors,
            weights,
        })
    }

    /// The graph with an edge (of weight 1) wherever a square CSR adjacency matrix holds an
    /// entry `(u, v)` or `(v, u)` off the diagonal: symmetric input is read as it is, and any
    /// other as its symmetric closure.
    pub fn from_adjacency(indptr: &[i64], indices: &[i64], n_vertices: usize) -> Result<Self> {
        if n_vertices >= u32::MAX as usize {
            return Err(Error::TooManyFeatures {
                n_features: n_vertices,
                limit: u32::MAX as usize - 1,
            });
        }
        let matrix = CsrMatrix::<i64, f64>::new(indptr, indices, None, n_vertices)?;
        if matrix.n_rows() != n_vertices {
            return Err(Error::LengthMismatch {
                what: "adjacency rows",
                len: matrix.n_rows(),
                expected_from: "n_vertices",
                expected: n_vertices,
            });
        }
        let mut edges = Vec::new();
        let mut features = Vec::new();
        for u in 0..n_vertices {
            matrix.row_features(u, &mut features)?;
            edges.extend(
                features
                    .iter()
                    .filter(|&&v| v as usize != u)
                    .map(|&v| ((u as u32).min(v), (u as u32).max(v), 1u32)),
            );
        }
        edges.sort_unstable();
        edges.dedup_by_key(|e| (e.0, e.1));
        Graph::from_edges(n_vertices, &edges)
    }

    /// A graph from an explicit undirected edge list `(u, v, weight)`; duplicate edges add up and
    /// self-loops are refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use chromatic_core::Graph;
    ///
    /// let graph = Graph::from_edges(3, &[(2, 0, 1), (0, 1, 2), (1, 0, 3)])?;
    /// assert_eq!(graph.neighbors(0), &[1, 2]);
    /// assert_eq!(graph.weights(0), &[5, 1]);
    /// assert_eq!(graph.n_edges(), 2);
    /// assert!(Graph::from_edges(3, &[(1, 1, 1)]).is_err());
    /// # Ok::<(), chromatic_core::Error>(())
    /// ```
    pub fn from_edges(n_vertices: usize, edges: &[(u32, u32, u32)]) -> Result<Self> {
        let mut upper: Vec<(u32, u32, u32)> = Vec::with_capacity(edges.len());
        for &(a, b, w) in edges {
            let (u, v) = (a.min(b), a.max(b));
            if v as usize >= n_vertices || u == v {
                return Err(Error::InvalidParameter(format!(
                    "edge ({a}, {b}) is a self-loop or names a vertex outside [0, {n_vertices})"
                )));
            }
            upper.push((u, v, w));
        }
        upper.sort_unstable();
        let mut counts = EdgeCounts::empty(n_vertices);
        let mut degree = vec![0usize; n_vertices];
        for (i, &(u, v, w)) in upper.iter().enumerate() {
            if i > 0 && upper[i - 1].0 == u && upper[i - 1].1 == v {
                *counts.weights.last_mut().expect("previous edge") += w;
            } else {
                counts.neighbors.push(v);
                counts.weights.push(w);
                degree[u as usize] += 1;
            }
        }
        for (u, d) in degree.iter().enumerate() {
            counts.indptr[u + 1] = counts.indptr[u] + d;
        }
        Graph::from_upper(&counts)
    }

    /// The same graph over `n_labels` vertices, vertex `v` renamed `labels[v]` (those no vertex
    /// is renamed to are isolated). The labels must ascend, so that every list stays sorted and
    /// the lists are renamed in place: no second copy of the edges. Used to report the graph in
    /// the caller's feature ids.
    pub fn with_ascending_labels(mut self, labels: &[u32], n_labels: usize) -> Result<Graph> {
        if labels.len() != self.n_vertices() {
            return Err(Error::LengthMismatch {
                what: "labels",
                len: labels.len(),
                expected_from: "vertices",
                expected: self.n_vertices(),
            });
        }
        let ascending = labels.windows(2).all(|w| w[0] < w[1]);
        if !ascending || labels.last().is_some_and(|&l| l as usize >= n_labels) {
            return Err(Error::InvalidParameter(format!(
                "labels must ascend strictly within [0, {n_labels})"
            )));
        }
        self.neighbors
            .par_iter_mut()
            .for_each(|v| *v = labels[*v as usize]);
        let mut indptr = Vec::with_capacity(n_labels + 1);
        indptr.push(0usize);
        let mut next = 0;
        for label in 0..n_labels {
            if labels.get(next) == Some(&(label as u32)) {
                next += 1;
            }
            indptr.push(self.indptr[next]);
        }
        Ok(Graph {
            indptr,
            neighbors: self.neighbors,
            weights: self.weights,
        })
    }

    /// Vertices.
    pub fn n_vertices(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of undirected edges.
    pub fn n_edges(&self) -> usize {
        self.neighbors.len() / 2
    }

    /// Neighbours of `u`.
    #[inline]
    pub fn degree(&self, u: usize) -> usize {
        self.indptr[u + 1] - self.indptr[u]
    }

    /// The neighbours of `u`, ascending.
    #[inline]
    pub fn neighbors(&self, u: usize) -> &[u32] {
        &self.neighbors[self.indptr[u]..self.indptr[u + 1]]
    }

    /// The weights of the edges of `u`, in the order of its neighbours.
    #[inline]
    pub fn weights(&self, u: usize) -> &[u32] {
        &self.weights[self.indptr[u]..self.indptr[u + 1]]
    }

    /// The CSR arrays `(indptr, neighbors, weights)`.
    pub fn into_parts(self) -> (Vec<usize>, Vec<u32>, Vec<u32>) {
        (self.indptr, self.neighbors, self.weights)
    }
}

impl Adjacency for Graph {
    fn n_vertices(&self) -> usize {
        Graph::n_vertices(self)
    }

    #[inline]
    fn degree(&self, u: usize) -> usize {
        Graph::degree(self, u)
    }

    #[inline]
    fn neighbor_lists(&self, u: usize) -> [&[u32]; 2] {
        [self.neighbors(u), &[]]
    }
}
