//! The engine at work: thread pools by size, the engine run without the GIL while Python
//! still handles signals, and the `n_jobs` argument.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use chromatic_core as core;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::errors::to_py_err;

/// Thread pools by size, built once: building one costs a thread start per worker.
pub(crate) fn thread_pool(n_threads: usize) -> PyResult<Arc<rayon::ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(pool) = pools.get(&n_threads) {
        return Ok(Arc::clone(pool));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n_threads)
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start threads: {e}")))?;
    let pool = Arc::new(pool);
    pools.insert(n_threads, Arc::clone(&pool));
    Ok(pool)
}

/// How often the waiting thread checks for Ctrl-C while the engine works.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Runs `work` without the GIL on a worker thread (in a pool of `n_jobs` threads, or rayon's
/// global pool), while this thread wakes up regularly to let Python handle signals. On
/// `KeyboardInterrupt` the engine is told to stop and the interrupt is raised once it has.
pub(crate) fn run_detached<T, F>(py: Python<'_>, n_jobs: Option<usize>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(core::Interrupt<'_>) -> core::Result<T> + Send,
{
    run_detached_with(py, n_jobs, work, to_py_err)
}

/// `run_detached`, with engine errors turned into Python exceptions by `to_error`.
// `Python::check_signals` cannot stand for its closure: `Python::attach` needs a function of
// every GIL lifetime.
#[allow(clippy::redundant_closure_for_method_calls)]
pub(crate) fn run_detached_with<T, F>(
    py: Python<'_>,
    n_jobs: Option<usize>,
    work: F,
    to_error: impl FnOnce(core::Error) -> PyErr,
) -> PyResult<T>
where
    T: Send,
    F: FnOnce(core::Interrupt<'_>) -> core::Result<T> + Send,
{
    let pool = match n_jobs {
        Some(n) => Some(thread_pool(n.max(1))?),
        None => None,
    };
    let flag = AtomicBool::new(false);
    let done = AtomicBool::new(false);
    let (outcome, signal) = py.detach(|| {
        let waiter = thread::current();
        thread::scope(|scope| {
            let worker = scope.spawn(|| {
                let interrupt = core::Interrupt::new(&flag);
                let result = match &pool {
                    Some(pool) => pool.install(|| work(interrupt)),
                    None => work(interrupt),
                };
                // Tell the waiter before waking it, so it does not sleep another full poll
                // waiting for this thread to exit.
                done.store(true, Ordering::Release);
                waiter.unpark();
                result
            });
            let mut signal: Option<PyErr> = None;
            // `is_finished` as well: a panicking worker never sets `done`.
            while !done.load(Ordering::Acquire) && !worker.is_finished() {
                thread::park_timeout(SIGNAL_POLL);
                if signal.is_none()
                    && !done.load(Ordering::Acquire)
                    && let Err(err) = Python::attach(|py| py.check_signals())
                {
                    flag.store(true, Ordering::Relaxed);
                    signal = Some(err);
                }
            }
            (worker.join(), signal)
        })
    });
    if let Some(err) = signal {
        return Err(err);
    }
    match outcome {
        Ok(result) => result.map_err(to_error),
        Err(_) => Err(PyRuntimeError::new_err(
            "internal error in the chromatic engine; please report it with the input that caused it",
        )),
    }
}

pub(crate) fn n_jobs_arg(n_jobs: Option<i64>) -> PyResult<Option<usize>> {
    match n_jobs {
        None => Ok(None),
        Some(n) if n >= 1 => Ok(Some(n as usize)),
        Some(n) => Err(PyValueError::new_err(format!(
            "n_jobs must be a positive number of threads or None, got {n}"
        ))),
    }
}
