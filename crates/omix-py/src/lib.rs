//! `import omix`: the omix library from Python.
//!
//! This crate is the extension module `omix._omix`; the Python half (`python/omix`) gives it
//! the API users call (plain functions over `(N, 4, L)` float32 arrays, a `Run` object over a run
//! folder). Everything here converts between NumPy/Python values and the library's types and
//! calls the same functions the `omix` binary calls: nothing about models, encodings or files is
//! decided in this crate.
//!
//! Arrays come in as read-only views (copied only when not C-contiguous), results go out as
//! owned arrays, and the GIL is released while the library computes, on the thread pool that
//! [`set_threads`] sets.

// The library's errors carry the file, line and record a user needs; they are built at most
// once per call, so their size does not matter (as in omix-train and omix-explain).
#![allow(clippy::result_large_err)]

mod errors;
mod progress;
mod run;
mod sequences;
mod training;

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;

pub use errors::OmixError;

/// The thread pool computations run on; `None`: rayon's global pool (all cores, or
/// `RAYON_NUM_THREADS`).
static POOL: Mutex<Option<Arc<rayon::ThreadPool>>> = Mutex::new(None);

/// Run `work` on the pool [`set_threads`] chose (burn's CPU backend and omix's kernels use
/// whichever rayon pool they run in).
pub(crate) fn on_pool<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    let pool = POOL.lock().map(|pool| pool.clone()).unwrap_or(None);
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// Use `threads` threads for every later computation (0: all cores).
#[pyfunction]
fn set_threads(threads: usize) -> PyResult<()> {
    let pool = if threads == 0 {
        None
    } else {
        let built = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|error| OmixError::new_err(format!("cannot start {threads} threads: {error}")))?;
        Some(Arc::new(built))
    };
    let mut slot = POOL.lock().map_err(|_| OmixError::new_err("the thread pool setting is unavailable"))?;
    *slot = pool;
    Ok(())
}

/// The number of threads computations use.
#[pyfunction]
fn get_threads() -> usize {
    on_pool(rayon::current_num_threads)
}

#[pymodule]
fn _omix(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("OmixError", m.py().get_type::<OmixError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(set_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_threads, m)?)?;
    sequences::register(m)?;
    run::register(m)?;
    training::register(m)?;
    Ok(())
}
