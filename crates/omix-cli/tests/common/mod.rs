//! Helpers the integration tests share: run the `omix` binary in a folder.

use std::path::Path;
use std::process::{Command, Output};

/// What a test returns.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// `omix ARGS` run in `dir`, its output whatever the exit status.
pub fn omix(dir: &Path, args: &[&str]) -> Result<Output, std::io::Error> {
    Command::new(env!("CARGO_BIN_EXE_omix")).args(args).current_dir(dir).env_remove("RUST_BACKTRACE").output()
}

/// `omix ARGS` run in `dir`, required to succeed (or, with `succeed` false, to fail); its stderr.
pub fn run(dir: &Path, args: &[&str], succeed: bool) -> Result<String, Box<dyn std::error::Error>> {
    let output = omix(dir, args)?;
    let stderr = String::from_utf8(output.stderr)?;
    if output.status.success() != succeed {
        return Err(
            format!("omix {} {}:\n{stderr}", args.join(" "), if succeed { "failed" } else { "succeeded" }).into()
        );
    }
    Ok(stderr)
}
