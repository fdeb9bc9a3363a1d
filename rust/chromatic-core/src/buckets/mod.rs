//! Submodular feature compression (Bateni et al., 2019): every code column's values are sorted by
//! their rate of positive labels and cut into contiguous buckets, the cuts chosen greedily across
//! all columns by their gain in mutual information with the label, until the buckets make up the
//! budget of output columns. The bucket holding a column's "absent" value 0 is its reference
//! level and gets no output column, so each cut adds exactly one.
//!
//! One file per part: [`stats`] (value statistics), [`cut`] (the greedy cut) and [`tables`]
//! (buckets by rate and the tables that transform code rows).

pub mod cut;
pub mod stats;
pub mod tables;

pub use cut::{BucketParams, Buckets, CutStop, fit_buckets};
pub use stats::ValueStats;
pub use tables::{BucketTables, RateBuckets};

#[cfg(test)]
mod tests;
