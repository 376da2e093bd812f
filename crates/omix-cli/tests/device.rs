//! `--device cpu|gpu|auto` in the default build (no `gpu` feature, no Vulkan): `gpu` is a
//! one-line error naming the missing feature, before anything is written; `auto` says it falls
//! back to the CPU and goes on. The GPU path itself is checked by hand: scripts/check-gpu.sh.

use std::path::Path;
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn omix(dir: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_omix")).args(args).current_dir(dir).env_remove("RUST_BACKTRACE").output()
}

#[cfg(not(feature = "gpu"))]
#[test]
fn gpu_without_the_feature_is_one_clear_line_and_writes_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let output = omix(dir.path(), &["--device", "gpu", "quickstart", "--out", "run"])?;
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8(output.stderr)?;
    assert_eq!(
        stderr,
        "error: --device gpu: this omix was built without the gpu feature: cargo build --release -p omix-cli --features gpu\n"
    );
    assert!(output.stdout.is_empty());
    assert_eq!(std::fs::read_dir(dir.path())?.count(), 0, "nothing may be written");
    Ok(())
}

#[cfg(not(feature = "gpu"))]
#[test]
fn auto_without_the_feature_says_it_uses_the_cpu() -> TestResult {
    let dir = tempfile::tempdir()?;
    let output = omix(dir.path(), &["--device", "auto", "init", "classify-tsv", "--out", "omix.toml"])?;
    let stderr = String::from_utf8(output.stderr)?;
    assert!(output.status.success(), "{stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        "omix: device auto: using the CPU (this omix was built without the gpu feature: cargo build --release -p omix-cli --features gpu)"
    );
    assert!(dir.path().join("omix.toml").is_file());
    Ok(())
}

#[test]
fn cpu_is_the_default_and_silent() -> TestResult {
    let dir = tempfile::tempdir()?;
    for args in [
        &["init", "classify-tsv", "--out", "a.toml"][..],
        &["--device", "cpu", "init", "classify-tsv", "--out", "b.toml"],
    ] {
        let output = omix(dir.path(), args)?;
        let stderr = String::from_utf8(output.stderr)?;
        assert!(output.status.success(), "{stderr}");
        assert!(!stderr.contains("device"), "{stderr}");
    }
    Ok(())
}

#[test]
fn an_unknown_device_lists_the_choices() -> TestResult {
    let dir = tempfile::tempdir()?;
    let output = omix(dir.path(), &["--device", "cuda", "init", "classify-tsv"])?;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr)?;
    assert!(
        stderr.contains("invalid value 'cuda'") && stderr.contains("[possible values: cpu, gpu, auto]"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(dir.path())?.count(), 0);
    Ok(())
}

#[test]
fn every_model_command_takes_the_device_after_its_name() -> TestResult {
    let dir = tempfile::tempdir()?;
    for command in ["train", "evaluate", "predict", "score-variants", "explain", "embed", "bench"] {
        let output = omix(dir.path(), &[command, "--help"])?;
        let help = String::from_utf8(output.stdout)?;
        assert!(help.contains("--device <DEVICE>"), "omix {command} --help lacks --device:\n{help}");
    }
    Ok(())
}
