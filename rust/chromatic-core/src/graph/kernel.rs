//! The pair-counting kernel: a batch of rows as sorted vertex lists with the incidences of each
//! source vertex, and the row-by-row product that counts the pairs of the sources.

use std::ops::Range;
use std::sync::Mutex;

use rayon::prelude::*;

use super::counts::{CountBuffers, EdgeChunk, EdgeCounts};
use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, Pacer};
use crate::matrix::{CsrMatrix, IndexValue, StoredValue};
use crate::memory::with_capacity;
use crate::parallel::{
    balanced_blocks, concat, filled, for_each_row, parallel_blocks, split_mut, try_map_blocks,
};
use crate::vocabulary::{NOT_A_VERTEX, Vocabulary};

/// Rows whose first entries are loaded together while counting pairs.
const GATHER: usize = 16;

/// Ends every row in `VertexRows::entries`.
const END_OF_ROW: u32 = u32::MAX;

/// The rows of one batch as sorted vertex lists, each followed by `END_OF_ROW` (rows that head
/// no pair of the shard's sources are dropped), and for each source vertex the positions in
/// `entries` where it occurs. The vertices after such a position, up to the end marker, are
/// exactly the larger vertices sharing that row, so counting reads one contiguous run per
/// incidence and touches no row index.
pub(super) struct VertexRows {
    entries: Vec<u32>,
    vertex_ptr: Vec<usize>,
    positions: Vec<u32>,
}

impl VertexRows {
    pub(super) fn build<I: IndexValue, V: StoredValue>(
        matrix: &CsrMatrix<'_, I, V>,
        rows: Range<usize>,
        vocabulary: &Vocabulary,
        sources: &Range<usize>,
        interrupt: Interrupt<'_>,
    ) -> Result<Self> {
        let blocks = matrix.row_blocks(rows, parallel_blocks());
        let parts = try_map_blocks(blocks, |block| {
            let mut entries = Vec::new();
            for_each_row(matrix, block, interrupt, |_, features| {
                let before = entries.len();
                entries.extend(
                    features
                        .iter()
                        .map(|&f| vocabulary.vertex_of(f))
                        .filter(|&v| v != NOT_A_VERTEX),
                );
                let row = &mut entries[before..];
                row.sort_unstable();
                // A row adds pairs to the shard only if a vertex below its largest is a source.
                let heads = &row[..row.len().saturating_sub(1)];
                let first_source = heads.partition_point(|&v| (v as usize) < sources.start);
                if heads
                    .get(first_source)
                    .is_some_and(|&v| (v as usize) < sources.end)
                {
                    entries.push(END_OF_ROW);
                } else {
                    entries.truncate(before);
                }
                Ok(())
            })?;
            Ok(entries)
        })?;
        let entries = concat(parts.iter().map(Vec::as_slice), "a batch of rows")?;
        drop(parts);
        if entries.len() >= END_OF_ROW as usize {
            return Err(Error::InvalidParameter(format!(
                "a batch of {} vertex entries is too large; lower the batch size",
                entries.len()
            )));
        }
        interrupt.check()?;
        let (vertex_ptr, positions) = incidence(&entries, sources)?;
        Ok(VertexRows {
            entries,
            vertex_ptr,
            positions,
        })
    }

    /// Counts, for every vertex `u`, the rows it shares with each vertex `v > u`, into `buffers`
    /// with the accumulators of `pool`.
    pub(super) fn count_pairs(
        &self,
        n_vertices: usize,
        sources: &Range<usize>,
        pool: &AccumulatorPool,
        buffers: CountBuffers,
        interrupt: Interrupt<'_>,
    ) -> Result<EdgeCounts> {
        let first = sources.start;
        let blocks: Vec<Range<usize>> = balanced_blocks(sources.len(), parallel_blocks(), |i| {
            // Work per vertex: its incidences times a typical row length, plus one.
            i + self.vertex_ptr[i] * 8
        })
        .into_iter()
        .map(|b| b.start + first..b.end + first)
        .collect();
        let chunks: Vec<Result<EdgeChunk>> = blocks
            .into_par_iter()
            .map_init(
                || pool.take(n_vertices),
                |pooled, vertices| {
                    let accumulator = pooled.accumulator()?;
                    let mut touched = Vec::new();
                    let mut chunk = EdgeChunk::default();
                    let mut pacer = Pacer::new(interrupt);
                    for u in vertices {
                        let here = self.vertex_ptr[u - first]..self.vertex_ptr[u - first + 1];
                        // Each incidence costs about one row's length.
                        pacer.step(here.len() * 16)?;
                        // The rows of a vertex lie far apart in `entries`. Loading the first
                        // vertex of a group of rows before walking any of them lets the processor
                        // fetch the group's cache lines in parallel rather than one at a time.
                        for group in self.positions[here].chunks(GATHER) {
                            let mut first = [END_OF_ROW; GATHER];
                            for (slot, &position) in first.iter_mut().zip(group) {
                                *slot = self.entries[position as usize + 1];
                            }
                            for (&v0, &position) in first.iter().zip(group) {
                                if v0 == END_OF_ROW {
                                    continue;
                                }
                                let rest = &self.entries[position as usize + 2..];
                                for &v in std::iter::once(&v0).chain(rest) {
                                    if v == END_OF_ROW {
                                        break;
                                    }
                                    let slot = &mut accumulator[v as usize];
                                    if *slot == 0 {
                                        touched.push(v);
                                    }
                                    *slot += 1;
                                }
                            }
                        }
                        touched.sort_unstable();
                        chunk.reserve(touched.len())?;
                        for &v in &touched {
                            let slot = &mut accumulator[v as usize];
                            chunk.push(v, *slot);
                            *slot = 0;
                        }
                        chunk.lengths.push(touched.len() as u32);
                        touched.clear();
                    }
                    pooled.clean = true;
                    Ok(chunk)
                },
            )
            .collect();
        let chunks = chunks.into_iter().collect::<Result<Vec<_>>>()?;
        EdgeCounts::assemble_into(n_vertices, first, chunks, buffers)
    }
}

/// Pair-count accumulators (one entry per vertex, all zero between uses) kept from batch to
/// batch, so that each counting thread zeroes fresh memory for one only once.
#[derive(Default)]
pub(super) struct AccumulatorPool(Mutex<Vec<Vec<u32>>>);

impl AccumulatorPool {
    fn take(&self, n_vertices: usize) -> PooledAccumulator<'_> {
        let kept = self.0.lock().map_or(None, |mut pool| pool.pop());
        let accumulator = match kept {
            Some(accumulator) if accumulator.len() == n_vertices => Ok(accumulator),
            _ => filled(n_vertices, 0u32, "a pair-count accumulator"),
        };
        PooledAccumulator {
            pool: self,
            accumulator,
            clean: false,
        }
    }
}

/// An accumulator of the pool, which goes back to it when dropped if the count that used it
/// ran to the end (left it all zero).
struct PooledAccumulator<'a> {
    pool: &'a AccumulatorPool,
    accumulator: Result<Vec<u32>>,
    clean: bool,
}

impl PooledAccumulator<'_> {
    fn accumulator(&mut self) -> Result<&mut Vec<u32>> {
        self.clean = false;
        self.accumulator.as_mut().map_err(|e| e.clone())
    }
}

impl Drop for PooledAccumulator<'_> {
    fn drop(&mut self) {
        if !self.clean {
            return;
        }
        if let (Ok(accumulator), Ok(mut pool)) = (&mut self.accumulator, self.pool.0.lock()) {
            pool.push(std::mem::take(accumulator));
        }
    }
}

/// For every vertex of `sources` (indexed from its start), the positions in `entries` where it
/// occurs (a counting sort, ascending). Each thread counts and places the incidences of its own
/// range of sources, reading every entry: the reads are sequential and cheap, while the counts
/// and positions, written all over memory, are what the threads share out. Each range's
/// positions are a contiguous part of the output, so no thread writes where another does.
fn incidence(entries: &[u32], sources: &Range<usize>) -> Result<(Vec<usize>, Vec<u32>)> {
    let n = sources.len();
    // The entries of the sources `range` (indexed from the sources' start), in ascending order of
    // position, each with its index in the range. Row ends lie above every vertex.
    let in_range = |range: &Range<usize>| {
        let (lo, hi) = (range.start + sources.start, range.end + sources.start);
        entries
            .iter()
            .enumerate()
            .filter_map(move |(position, &v)| {
                let v = v as usize;
                (v >= lo && v < hi).then(|| (position, v - lo))
            })
    };
    let threads = rayon::current_num_threads();
    let count_ranges = balanced_blocks(n, threads, |i| i);
    let counts: Vec<Vec<usize>> = count_ranges
        .par_iter()
        .map(|range| {
            let mut count = vec![0usize; range.len()];
            for (_, i) in in_range(range) {
                count[i] += 1;
            }
            count
        })
        .collect();
    let mut vertex_ptr = with_capacity(n + 1, "the incidences of a batch")?;
    vertex_ptr.push(0usize);
    for &count in counts.iter().flatten() {
        vertex_ptr.push(vertex_ptr[vertex_ptr.len() - 1] + count);
    }
    drop(counts);
    let mut positions = filled(vertex_ptr[n], 0u32, "the incidences of a batch")?;
    let place_ranges = balanced_blocks(n, threads, |i| i + vertex_ptr[i]);
    let lengths = place_ranges
        .iter()
        .map(|r| vertex_ptr[r.end] - vertex_ptr[r.start]);
    let pieces = split_mut(&mut positions, lengths);
    place_ranges
        .into_par_iter()
        .zip(pieces)
        .for_each(|(range, out)| {
            let base = vertex_ptr[range.start];
            let mut cursor: Vec<usize> = vertex_ptr[range.clone()]
                .iter()
                .map(|&p| p - base)
                .collect();
            for (position, i) in in_range(&range) {
                out[cursor[i]] = position as u32;
                cursor[i] += 1;
            }
        });
    Ok((vertex_ptr, positions))
}
