//! The library's progress events, shown by a Python object (`omix._progress.Progress`: tqdm in
//! a notebook or terminal where it is installed, plain lines otherwise).

use omix_run::Observer;
use pyo3::prelude::*;

/// Forwards [`Observer`] events to a Python object with `message`, `start`, `advance` and
/// `finish` methods, taking the GIL for each call (computations run without it).
pub struct PythonObserver {
    target: Py<PyAny>,
}

impl PythonObserver {
    /// Events go to `target`.
    pub fn new(target: Py<PyAny>) -> Self {
        Self { target }
    }
}

/// A failing progress display must not stop training: its error is printed and dropped.
fn shown(py: Python<'_>, result: PyResult<Bound<'_, PyAny>>) {
    if let Err(error) = result {
        error.print(py);
    }
}

impl Observer for PythonObserver {
    fn message(&mut self, line: &str) {
        Python::attach(|py| shown(py, self.target.bind(py).call_method1("message", (line,))));
    }

    fn start(&mut self, what: &str, total: u64) {
        Python::attach(|py| shown(py, self.target.bind(py).call_method1("start", (what, total))));
    }

    fn advance(&mut self, done: u64, note: &str) {
        Python::attach(|py| shown(py, self.target.bind(py).call_method1("advance", (done, note))));
    }

    fn finish(&mut self) {
        Python::attach(|py| shown(py, self.target.bind(py).call_method0("finish")));
    }
}
