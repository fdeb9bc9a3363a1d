//! Python bindings of the chromatic engine: converts arrays, releases the GIL while the engine
//! runs, and maps engine errors to Python exceptions. No logic of its own: one file per area,
//! this one only registers them.

mod allocator;
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

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    allocator::init();
    m.add("ChromaticError", py.get_type::<errors::ChromaticError>())?;
    m.add("SvmlightError", py.get_type::<errors::SvmlightError>())?;
    m.add("DelimitedError", py.get_type::<errors::DelimitedError>())?;
    m.add_function(wrap_pyfunction!(allocator::set_purge_delay, m)?)?;
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
    m.add_function(wrap_pyfunction!(svmlight::complete_svmlight_lines, m)?)?;
    m.add_function(wrap_pyfunction!(svmlight::format_codes, m)?)?;
    m.add_function(wrap_pyfunction!(svmlight::format_rows, m)?)?;
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
