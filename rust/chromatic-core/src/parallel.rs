//! Small helpers shared by the parallel passes.

use std::ops::Range;

use rayon::prelude::*;

use crate::csr::{CsrMatrix, IndexValue, StoredValue};
use crate::error::{Error, Result};
use crate::interrupt::{Interrupt, POLL_INTERVAL};

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

/// Concatenates slices in order.
pub(crate) fn concat<'a, T: Copy + 'a>(parts: impl Iterator<Item = &'a [T]> + Clone) -> Vec<T> {
    let mut out = Vec::with_capacity(parts.clone().map(<[T]>::len).sum());
    for part in parts {
        out.extend_from_slice(part);
    }
    out
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
