//! Small helpers shared by the parallel passes.

use std::ops::Range;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, POLL_INTERVAL};
use crate::matrix::{CsrMatrix, IndexValue, StoredValue};
use crate::memory::with_capacity;

/// Runs `f` on every block in parallel and returns the outputs in block order. When blocks fail,
/// the error of the first failing block is returned, so the reported row does not depend on
/// scheduling.
pub(crate) fn try_map_blocks<T, F>(blocks: Vec<Range<usize>>, f: F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(Range<usize>) -> Result<T> + Sync + Send,
{
    let outputs: Vec<Result<T>> = blocks.into_par_iter().map(f).collect();
    outputs.into_iter().collect()
}

/// Calls `visit(row, features)` for each row of `rows` with the row's distinct present features
/// (ascending), polling `interrupt` every few thousand rows.
pub(crate) fn for_each_row<I: IndexValue, V: StoredValue>(
    matrix: &CsrMatrix<'_, I, V>,
    rows: Range<usize>,
    interrupt: Interrupt<'_>,
    mut visit: impl FnMut(usize, &[u32]) -> Result<()>,
) -> Result<()> {
    let mut features = Vec::new();
    let start = rows.start;
    for row in rows {
        if (row - start) % POLL_INTERVAL == 0 {
            interrupt.check()?;
        }
        matrix.row_features(row, &mut features)?;
        visit(row, &features)?;
    }
    Ok(())
}

/// A vector of `len` copies of `value`, or `Error::OutOfMemory` instead of aborting the process
/// when the allocation fails (the sizes come from the caller's data and may be huge).
pub(crate) fn filled<T: Clone>(len: usize, value: T, what: &'static str) -> Result<Vec<T>> {
    let mut out = Vec::new();
    out.try_reserve_exact(len).map_err(|_| Error::OutOfMemory {
        what,
        bytes: len.saturating_mul(std::mem::size_of::<T>()),
    })?;
    out.resize(len, value);
    Ok(out)
}

/// `buffer` made `len` long, its memory reused: only entries beyond its old length are set to
/// `value`, the others keep what they held, for a caller that overwrites every entry. A buffer
/// too small is replaced by one with room to grow (twice its capacity), so that a buffer
/// reused for ever larger results is allocated, and its pages faulted in, only a few times.
pub(crate) fn reused<T: Clone>(
    mut buffer: Vec<T>,
    len: usize,
    value: T,
    what: &'static str,
) -> Result<Vec<T>> {
    if buffer.capacity() < len {
        let capacity = len.max(buffer.capacity().saturating_mul(2));
        buffer = Vec::new();
        buffer
            .try_reserve_exact(capacity)
            .or_else(|_| buffer.try_reserve_exact(len))
            .map_err(|_| Error::OutOfMemory {
                what,
                bytes: len.saturating_mul(std::mem::size_of::<T>()),
            })?;
    }
    buffer.truncate(len);
    buffer.resize(len, value);
    Ok(buffer)
}

/// Concatenates slices in order (`what` they are names them when memory runs out).
pub(crate) fn concat<'a, T: Copy + 'a>(
    parts: impl Iterator<Item = &'a [T]> + Clone,
    what: &'static str,
) -> Result<Vec<T>> {
    concat_into(Vec::new(), parts, what)
}

/// `concat`, written into `buffer`, whose memory is reused when it has room.
pub(crate) fn concat_into<'a, T: Copy + 'a>(
    mut buffer: Vec<T>,
    parts: impl Iterator<Item = &'a [T]> + Clone,
    what: &'static str,
) -> Result<Vec<T>> {
    let len = parts.clone().map(<[T]>::len).sum();
    buffer.clear();
    if buffer.capacity() < len {
        buffer = with_capacity(len, what)?;
    }
    for part in parts {
        buffer.extend_from_slice(part);
    }
    Ok(buffer)
}

/// Splits `buffer` into consecutive pieces of the given lengths, so that parallel workers can
/// each own one.
pub(crate) fn split_mut<T>(
    mut buffer: &mut [T],
    lengths: impl IntoIterator<Item = usize>,
) -> Vec<&mut [T]> {
    let mut pieces = Vec::new();
    for len in lengths {
        let (head, tail) = std::mem::take(&mut buffer).split_at_mut(len);
        pieces.push(head);
        buffer = tail;
    }
    pieces
}

/// Cuts `0..n` into at most `target` contiguous, non-empty ranges of similar cost, where
/// `cumulative(i)` is the (monotone) cost of items `0..i`.
pub(crate) fn balanced_blocks(
    n: usize,
    target: usize,
    cumulative: impl Fn(usize) -> usize,
) -> Vec<Range<usize>> {
    if n == 0 {
        return Vec::new();
    }
    let target = target.clamp(1, n);
    let total = cumulative(n);
    let mut blocks = Vec::with_capacity(target);
    let mut start = 0;
    for b in 1..=target {
        let goal = ((total as u128 * b as u128) / target as u128) as usize;
        // First item boundary whose cumulative cost reaches the goal.
        let (mut lo, mut hi) = (start, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if cumulative(mid) < goal {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let end = if b == target {
            n
        } else {
            lo.max(start + 1).min(n)
        };
        if end > start {
            blocks.push(start..end);
            start = end;
        }
        if start == n {
            break;
        }
    }
    blocks
}

/// How many blocks a parallel pass over rows should use: a few per thread for load balance.
pub(crate) fn parallel_blocks() -> usize {
    rayon::current_num_threads() * 4
}

/// Runs `f` in a pool of `threads` threads: tests of results that must not depend on the count.
#[cfg(test)]
pub(crate) fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
        .install(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reused_buffers_keep_their_memory_when_it_is_large_enough() {
        let buffer = reused(vec![7u32; 10], 4, 0, "test").unwrap();
        assert_eq!(buffer, [7, 7, 7, 7]);
        let (pointer, capacity) = (buffer.as_ptr(), buffer.capacity());
        // Longer but within the capacity: the same memory, new entries set.
        let buffer = reused(buffer, 6, 0, "test").unwrap();
        assert_eq!(buffer, [7, 7, 7, 7, 0, 0]);
        assert_eq!((buffer.as_ptr(), buffer.capacity()), (pointer, capacity));
        // Beyond it: room to grow.
        let buffer = reused(buffer, 25, 1, "test").unwrap();
        assert_eq!(buffer.len(), 25);
        assert!(buffer.capacity() >= 25.max(2 * capacity));
        let parts: [&[u32]; 2] = [&[1, 2], &[3]];
        let joined = concat_into(buffer, parts.into_iter(), "test").unwrap();
        assert_eq!(joined, [1, 2, 3]);
        assert!(joined.capacity() >= 25);
    }

    #[test]
    fn balanced_blocks_cover_everything_once() {
        for n in [1usize, 2, 7, 100] {
            for target in [1usize, 3, 8, 200] {
                let blocks = balanced_blocks(n, target, |i| i * i);
                assert_eq!(blocks.first().unwrap().start, 0);
                assert_eq!(blocks.last().unwrap().end, n);
                for pair in blocks.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start);
                }
                assert!(blocks.iter().all(|b| !b.is_empty()));
                assert!(blocks.len() <= target.max(1));
            }
        }
        assert!(balanced_blocks(0, 4, |i| i).is_empty());
    }
}
