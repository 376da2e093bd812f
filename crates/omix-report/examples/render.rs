//! Renders the report of a run folder to a chosen file (the library writes `RUN/report.html`).
//!
//! `cargo run --release -p omix-report --example render -- RUN_DIR OUT.html`

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(run), Some(out)) = (args.next().map(PathBuf::from), args.next().map(PathBuf::from)) else {
        eprintln!("usage: render RUN_DIR OUT.html");
        return ExitCode::from(2);
    };
    match omix_report::render_report(&run).map(|page| std::fs::write(&out, page)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(error)) => {
            eprintln!("cannot write {}: {error}", out.display());
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
