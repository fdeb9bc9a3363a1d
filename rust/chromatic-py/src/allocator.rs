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

/// mimalloc's option `mi_option_allow_thp` (its number in mimalloc 3).
const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

/// Sets the delay at import, before the engine starts a thread, and asks for the engine's
/// memory in ordinary pages rather than transparent huge ones.
pub(crate) fn init() {
    set_delay(PURGE_DELAY_MS);
    // A fresh 2 MiB page is zeroed whole when first touched, and the engine's memory grows in
    // fresh pages as the vocabulary grows: the first read of 10M Criteo-like rows in a process
    // spent 3.9-6.3 s of system time with huge pages and 1.8-2.0 s without (the later reads,
    // which reuse the memory, took the same time either way).
    set_option(MI_OPTION_ALLOW_THP, 0);
}

fn set_delay(milliseconds: std::ffi::c_long) -> std::ffi::c_long {
    set_option(MI_OPTION_PURGE_DELAY, milliseconds)
}

/// Sets a plain option of mimalloc's; returns the value it replaces.
fn set_option(option: libmimalloc_sys::mi_option_t, value: std::ffi::c_long) -> std::ffi::c_long {
    // SAFETY: reads and sets a plain option of mimalloc's, which it reads at each decision it
    // governs (when to return memory, whether to ask for huge pages).
    #[allow(unsafe_code)]
    unsafe {
        let previous = libmimalloc_sys::mi_option_get(option);
        libmimalloc_sys::mi_option_set(option, value);
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
