//! Python bindings of the chromatic engine: converts arrays, releases the GIL while the engine
//! runs, and maps engine errors to Python exceptions. No logic of its own: one file per area,
//! this one only registers them.

mod buckets;
mod codes;
mod convert;
mod delimited;
mod errors;
mod fit;
mod runtime;
mod svmlight;
mod table;

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

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    // SAFETY: sets a plain option of mimalloc's, at import, before the engine starts a thread.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
    };
    m.add("ChromaticError", py.get_type::<errors::ChromaticError>())?;
    m.add("SvmlightError", py.get_type::<errors::SvmlightError>())?;
    m.add("DelimitedError", py.get_type::<errors::DelimitedError>())?;
    m.add_function(wrap_pyfunction!(fit::fit, m)?)?;
    m.add_function(wrap_pyfunction!(codes::encode, m)?)?;
    m.add_function(wrap_pyfunction!(codes::decode, m)?)?;
    m.add_function(wrap_pyfunction!(fit::cooccurrence_graph, m)?)?;
    m.add_function(wrap_pyfunction!(buckets::fit_buckets, m)?)?;
    m.add_function(wrap_pyfunction!(buckets::assign_buckets, m)?)?;
    m.add_function(wrap_pyfunction!(buckets::transform_buckets, m)?)?;
    m.add_function(wrap_pyfunction!(codes::hash_rows, m)?)?;
    m.add_function(wrap_pyfunction!(table::hash_table_rows, m)?)?;
    m.add_function(wrap_pyfunction!(svmlight::parse_svmlight, m)?)?;
    m.add_function(wrap_pyfunction!(svmlight::format_codes, m)?)?;
    m.add_function(wrap_pyfunction!(svmlight::format_binary_rows, m)?)?;
    m.add_function(wrap_pyfunction!(delimited::split_delimited, m)?)?;
    m.add_function(wrap_pyfunction!(delimited::complete_records, m)?)?;
    m.add_function(wrap_pyfunction!(delimited::count_line_ends, m)?)?;
    m.add_function(wrap_pyfunction!(delimited::record_line, m)?)?;
    m.add_function(wrap_pyfunction!(fit::count_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(fit::merge_pair_counts, m)?)?;
    m.add_class::<fit::StreamingFit>()?;
    m.add_class::<buckets::ValueCounts>()?;
    m.add_class::<fit::ColoringGraph>()?;
    m.add_class::<table::ValueVocabulary>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
