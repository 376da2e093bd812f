//! How the `omix` binary shows what the library reports: messages on stderr, and progress bars
//! when stderr is a terminal (the library only sends [`Observer`] events; it never draws).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use omix_run::Observer;

/// Messages on stderr; a progress bar per stage on a terminal unless quiet.
pub struct Terminal {
    bars: bool,
    bar: Option<ProgressBar>,
}

impl Terminal {
    /// An observer that draws bars when stderr is a terminal and `quiet` is not set.
    pub fn new(quiet: bool) -> Self {
        Self { bars: !quiet && std::io::stderr().is_terminal(), bar: None }
    }
}

impl Observer for Terminal {
    fn message(&mut self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn start(&mut self, what: &str, total: u64) {
        self.finish();
        if !self.bars {
            return;
        }
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{what} [{{bar:30}}] {{pos}}/{{len}}  {{msg}}  ({{elapsed}}<{{eta}})"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        self.bar = Some(bar);
    }

    fn advance(&mut self, done: u64, note: &str) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            if !note.is_empty() {
                bar.set_message(note.to_string());
            }
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.finish();
    }
}
