//! Progress as events: the library reports what it is doing, the caller (the `omix` binary, a
//! test, later the Python package) decides whether and how to draw it.

/// Receives the messages and progress of a long-running job (training, explaining, scoring).
///
/// Only [`Observer::message`] is required; the progress events default to doing nothing, so a
/// closure `|line: &str| ...` is an observer that prints or collects the messages.
pub trait Observer {
    /// One line for the user (a data summary, an epoch's numbers, a warning).
    fn message(&mut self, line: &str);

    /// A counted stage begins: `what` (e.g. `"epoch 3/40"`, `"variants"`) with `total` steps.
    fn start(&mut self, what: &str, total: u64) {
        let _ = (what, total);
    }

    /// `done` of the current stage's steps are finished; `note` is a short status (running loss).
    fn advance(&mut self, done: u64, note: &str) {
        let _ = (done, note);
    }

    /// The current stage has ended (finished, interrupted or failed).
    fn finish(&mut self) {}
}

impl<F: FnMut(&str)> Observer for F {
    fn message(&mut self, line: &str) {
        self(line);
    }
}

/// An observer that drops everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Observer for Silent {
    fn message(&mut self, _line: &str) {}
}
