//! The weighted feature co-occurrence graph.
//!
//! Rows are consumed in batches. A batch is turned into sorted vertex lists per row and, for each
//! vertex, the places where it occurs; pair counts are then accumulated one source vertex at a
//! time in a dense per-thread accumulator (Gustavson's row-by-row product, upper
//! triangle only). The batch's counts come out as a sorted upper-triangle adjacency that is merged
//! into the running total, so memory is linear in |V| + |E| plus one bounded batch, and the result
//! does not depend on the batching or the number of threads.
//!
//! One file per part: [`counts`] (pair counts and their merge), `kernel` (the pair-counting
//! kernel), [`counter`] (one shard's counter and its pair budget), [`shards`] (the graph kept
//! shard by shard, pair bounds and the plan of a memory limit), [`symmetric`] (the weighted graph
//! that recoloring reads), [`adjacency`] (what greedy coloring reads, and the lighter graph that
//! offers only that) and [`builder`] (the whole build, pass after pass).

pub mod adjacency;
pub mod builder;
pub mod counter;
pub mod counts;
mod kernel;
pub mod shards;
pub mod symmetric;

pub use adjacency::{Adjacency, TriangleGraph};
pub use builder::{GraphBuilder, count_pairs};
pub use counter::{EdgeCounter, PairBudget};
pub use counts::{EdgeCounts, PairCounts, key_pair, merge_pair_counts, pair_key};
pub use shards::{BYTES_PER_EDGE, BuildPlan, PairBounds, ShardedGraph};
pub use symmetric::Graph;

/// Stored entries per batch by default: bounds the batch buffers (8 bytes per entry) to 512 MiB.
pub const DEFAULT_BATCH_NNZ: usize = 1 << 26;

#[cfg(test)]
mod tests;
