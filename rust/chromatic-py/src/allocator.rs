//! The allocator of the engine's memory, and when what it frees goes back to the kernel.

use pyo3::prelude::*;

/// The engine's passes allocate and free arrays of tens of megabytes per chunk of rows; the
/// system allocator hands each back to the kernel and faults in fresh zeroed pages for the next,
/// where mimalloc reuses more of them (the fit of 1M table rows took a sixth less time).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's option `mi_option_purge_delay` (its number in mimalloc 3, which `libmimalloc-sys`
/// builds and does not name).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long memory the engine freed stays with the allocator before it goes back to the kernel.
/// By default mimalloc returns it after 10 ms, so each chunk of a stream faulted in afresh, as
/// zeroed pages, what the chunk before had freed (a fit of 1M table rows read from Parquet: 108k
/// page faults of the whole process, 75-84k with this delay). Memory unused for longer still
/// goes back.
const PURGE_DELAY_MS: std::ffi::c_long = 10_000;

/// Sets the delay at import, before the engine starts a thread.
pub(crate) fn init() {
    set_delay(PURGE_DELAY_MS);
}

fn set_delay(milliseconds: std::ffi::c_long) -> std::ffi::c_long {
    // SAFETY: reads and sets a plain option of mimalloc's, which it reads at each decision to
    // return memory.
    #[allow(unsafe_code)]
    unsafe {
        let previous = libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, milliseconds);
        previous
    }
}

/// Sets how many milliseconds memory the engine frees stays with the allocator before it goes
/// back to the kernel (0: at once, -1: never), and returns the delay it replaces. Under a
/// memory limit, the memory a graph pass frees must go back before the next pass or the
/// coloring allocates.
#[pyfunction]
pub(crate) fn set_purge_delay(milliseconds: std::ffi::c_long) -> std::ffi::c_long {
    set_delay(milliseconds)
}
