//! Chromatic Learning engine: compresses sparse binary data by coloring the feature
//! co-occurrence graph. Features that never share a row share a color, and each color becomes one
//! categorical column.
//!
//! Data flows one way, one module per step:
//! [`table`] (raw categorical columns → feature ids) or [`matrix`] rows → [`statistics`] → [`vocabulary`] → [`graph`] (pair [`graph::counts`], the
//! counting kernel, the [`graph::counter`], [`graph::shards`] and their plan,
//! the [`graph::symmetric`] graph, all driven pass by pass by the [`GraphBuilder`]) →
//! [`coloring`] (and [`recoloring`] to a fixed number of colors) → [`encoder`] → [`encode`](mod@encode) codes
//! (and back with [`decode`](mod@decode)) → [`buckets`] (value [`buckets::stats`], the greedy
//! [`buckets::cut`], [`buckets::tables`]: submodular compression to a budget). [`fit`](mod@fit) runs the
//! whole fit, in memory or over chunks ([`FitStream`]); [`hashing`] is the hashing-trick
//! baseline; [`svmlight`] reads and writes text; `parallel` holds the helpers of the parallel
//! passes, [`interrupt`] lets a caller stop them and [`memory`] says what memory is left for
//! tables sized by the input.

#![forbid(unsafe_code)]

pub mod buckets;
pub mod coloring;
pub mod decode;
pub mod encode;
pub mod encoder;
pub mod error;
pub mod fit;
pub mod graph;
pub mod hashing;
pub mod interrupt;
pub mod matrix;
pub mod memory;
mod parallel;
pub mod recoloring;
pub mod statistics;
pub mod svmlight;
pub mod table;
pub mod vocabulary;

pub use buckets::{
    BucketParams, BucketTables, Buckets, CutStop, RateBuckets, ValueStats, fit_buckets,
};
pub use coloring::{Coloring, Strategy, color};
pub use decode::decode;
pub use encode::{Codes, CollisionPolicy, Tally, encode, encode_into};
pub use encoder::{Encoder, EncoderTables};
pub use error::{Error, Result};
pub use fit::{
    FitParams, FitStream, Fitted, build_graph, color_graph, feature_graph, fit, vocabulary_for,
};
pub use graph::{
    Adjacency, BuildPlan, EdgeCounter, EdgeCounts, Graph, GraphBuilder, PairBounds, PairCounts,
    ShardedGraph, TriangleGraph, count_pairs, key_pair, merge_pair_counts, pair_key,
};
pub use hashing::{HashedRows, hash_rows};
pub use interrupt::Interrupt;
pub use matrix::{CodeMatrix, CsrMatrix, IndexValue, SparseRows, StoredValue};
pub use recoloring::{FixedColoring, with_n_colors};
pub use statistics::FeatureStats;
pub use svmlight::{ParsedRows, complete_lines, format_codes, format_rows, parse_rows};
pub use table::{IdColumn, IdRows, ValueKind, ValueVocabulary, rows_from_ids};
pub use vocabulary::Vocabulary;
