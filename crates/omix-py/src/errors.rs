//! omix's errors as Python exceptions, with the message the `omix` binary would print.

use pyo3::PyErr;
use pyo3::create_exception;
use pyo3::exceptions::PyException;

create_exception!(
    omix,
    OmixError,
    PyException,
    "An error from omix: a file, line or setting and what is wrong with it."
);

/// An omix error as an [`OmixError`] whose message is the error and each cause it does not
/// already contain (as the binary prints them after `error:`).
pub fn omix_error(error: &(dyn std::error::Error + 'static)) -> PyErr {
    OmixError::new_err(message(error))
}

/// The error's message followed by each cause it does not already contain.
pub fn message(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let line = inner.to_string();
        if !text.contains(&line) {
            text.push_str(&format!("\n  caused by: {line}"));
        }
        cause = inner.source();
    }
    text
}

/// `.map_err(to_py)`: any library error as an [`OmixError`].
pub fn to_py<E: std::error::Error + 'static>(error: E) -> PyErr {
    omix_error(&error)
}
