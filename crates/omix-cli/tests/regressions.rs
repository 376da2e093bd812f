//! Regression tests for the bugs found trying omix as a new user would (issue 10): each test
//! runs the `omix` binary the way the bug report did and fails if the bug comes back.

use std::path::Path;
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// `omix ARGS` run in `dir`.
fn omix(dir: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_omix")).args(args).current_dir(dir).env_remove("RUST_BACKTRACE").output()
}

/// Run and require success; returns (stdout, stderr).
fn ok(dir: &Path, args: &[&str]) -> Result<(String, String), Box<dyn std::error::Error>> {
    let output = omix(dir, args)?;
    let (stdout, stderr) = (String::from_utf8(output.stdout)?, String::from_utf8(output.stderr)?);
    if !output.status.success() {
        return Err(format!("omix {} failed ({}):\n{stderr}", args.join(" "), output.status).into());
    }
    Ok((stdout, stderr))
}

/// Run and require failure without a panic; returns stderr.
fn fails(dir: &Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let output = omix(dir, args)?;
    let stderr = String::from_utf8(output.stderr)?;
    if output.status.success() {
        return Err(format!("omix {} succeeded but should have failed", args.join(" ")).into());
    }
    if stderr.contains("panicked") {
        return Err(format!("omix {} panicked:\n{stderr}", args.join(" ")).into());
    }
    Ok(stderr)
}

/// `count` sequences of lengths 44 to 56 (one per line) with labels; the positives carry a motif
/// in the middle, so centre-cropping to 40 keeps it.
fn write_uneven_data(dir: &Path, count: usize) -> std::io::Result<()> {
    let (mut sequences, mut labels) = (String::new(), String::new());
    let mut state = 7u64;
    let mut base = || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        b"ACGT"[(state >> 62) as usize] as char
    };
    for index in 0..count {
        let length = 44 + index % 13;
        let mut sequence: Vec<char> = (0..length).map(|_| base()).collect();
        let positive = index % 2 == 0;
        if positive {
            let start = length / 2 - 6;
            for (offset, letter) in "CGACCGAACTCC".chars().enumerate() {
                sequence[start + offset] = letter;
            }
        }
        sequences.extend(sequence);
        sequences.push('\n');
        labels.push_str(if positive { "1\n" } else { "0\n" });
    }
    std::fs::write(dir.join("sequences.txt"), sequences)?;
    std::fs::write(dir.join("labels.txt"), labels)
}

const CENTER_CONFIG: &str = "seed = 5\n[data]\ninput = \"sequences.txt\"\nlabels = \"labels.txt\"\nlength = 40\nlength_policy = \"center\"\n[model]\nkind = \"primer\"\n[train]\nepochs = 2\nbatch_size = 32\nbaseline = false\n";

#[test]
fn center_length_policy_trains_from_toml_and_predicts_with_the_flag() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_uneven_data(dir.path(), 240)?;
    std::fs::write(dir.path().join("center.toml"), CENTER_CONFIG)?;
    let (_, stderr) = ok(dir.path(), &["train", "center.toml", "--out", "run", "--quiet", "--no-report"])?;
    assert!(stderr.contains("length-adjusted"), "{stderr}");
    let config = std::fs::read_to_string(dir.path().join("run/config.toml"))?;
    assert!(
        config.contains("length_policy = \"center\""),
        "the resolved config spells the policy as users do:\n{config}"
    );

    // A run trained with `refuse` and predicting on other lengths: the message names the flag
    // that exists for `predict`, and the flag works.
    std::fs::write(
        dir.path().join("refuse.toml"),
        CENTER_CONFIG.replace("length_policy = \"center\"\n", "").replace("length = 40\n", ""),
    )?;
    let uniform: String = std::fs::read_to_string(dir.path().join("sequences.txt"))?
        .lines()
        .map(|line| format!("{}\n", &line[..44]))
        .collect();
    std::fs::write(dir.path().join("uniform.txt"), uniform)?;
    let args = ["train", "refuse.toml", "--input", "uniform.txt", "--labels", "labels.txt", "--out", "refuse"];
    ok(dir.path(), &[&args[..], &["--quiet", "--no-report"]].concat())?;
    let stderr = fails(dir.path(), &["predict", "refuse", "--input", "sequences.txt"])?;
    assert!(stderr.contains("--length-policy center"), "{stderr}");
    assert!(!stderr.contains("--length N"), "predict has no --length flag, so the hint must not name it: {stderr}");
    let (stdout, _) = ok(dir.path(), &["predict", "refuse", "--input", "sequences.txt", "--length-policy", "center"])?;
    assert_eq!(stdout.lines().count(), 241, "a header and one line per sequence");
    // An unknown policy is refused by name rather than read as `refuse`.
    let stderr = fails(dir.path(), &["predict", "refuse", "--input", "sequences.txt", "--length-policy", "centre"])?;
    assert!(stderr.contains("centre") && stderr.contains("center"), "{stderr}");
    Ok(())
}

#[test]
fn resume_refuses_flags_it_would_ignore() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_uneven_data(dir.path(), 160)?;
    std::fs::write(dir.path().join("center.toml"), CENTER_CONFIG.replace("epochs = 2", "epochs = 3"))?;
    ok(dir.path(), &["train", "center.toml", "--out", "run", "--quiet", "--no-report", "--stop-after", "1"])?;
    let stderr = fails(dir.path(), &["train", "center.toml", "--out", "run", "--resume", "--epochs", "100"])?;
    assert!(stderr.contains("--epochs") && stderr.contains("--resume"), "{stderr}");
    let log = std::fs::read_to_string(dir.path().join("run/training_log.tsv"))?;
    assert_eq!(log.lines().count(), 2, "the refused resume must not train: {log}");
    // Without the flag it resumes and finishes the saved config's 3 epochs.
    let (_, stderr) = ok(dir.path(), &["train", "center.toml", "--out", "run", "--resume", "--quiet", "--no-report"])?;
    assert!(stderr.contains("resuming after epoch 1"), "{stderr}");
    let log = std::fs::read_to_string(dir.path().join("run/training_log.tsv"))?;
    assert_eq!(log.lines().count(), 4, "header and 3 epochs: {log}");
    Ok(())
}

#[test]
fn classifier_configs_name_their_loss_and_refuse_a_regression_loss() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_uneven_data(dir.path(), 160)?;
    std::fs::write(dir.path().join("center.toml"), CENTER_CONFIG)?;
    let (_, stderr) = ok(dir.path(), &["train", "center.toml", "--out", "run", "--no-report"])?;
    let config = std::fs::read_to_string(dir.path().join("run/config.toml"))?;
    assert!(
        config.contains("loss = \"binary_cross_entropy\""),
        "a classifier's resolved config names the loss it trained with:\n{config}"
    );
    // No Rust debug formatting in what users read.
    assert!(stderr.contains("task binary, classes 0, 1"), "{stderr}");
    assert!(!stderr.contains("Binary") && !stderr.contains("[\""), "{stderr}");
    // Asking for a regression loss on a classification task is an error with the reason.
    std::fs::write(
        dir.path().join("mse.toml"),
        CENTER_CONFIG.replace("baseline = false", "baseline = false\nloss = \"mse\""),
    )?;
    let stderr = fails(dir.path(), &["train", "mse.toml", "--out", "mse", "--quiet"])?;
    assert!(stderr.contains("[train] loss") && stderr.contains("regression"), "{stderr}");
    assert!(!dir.path().join("mse").exists(), "a refused config left a run folder");
    Ok(())
}

#[test]
fn explain_accepts_both_spellings_of_the_methods() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_uneven_data(dir.path(), 160)?;
    std::fs::write(dir.path().join("center.toml"), CENTER_CONFIG)?;
    ok(dir.path(), &["train", "center.toml", "--out", "run", "--quiet", "--no-report"])?;
    for method in ["gradient_x_input", "gradient-x-input"] {
        let out = format!("explain-{method}");
        ok(dir.path(), &["explain", "run", "--method", method, "--max-sequences", "8", "--no-report", "-o", &out])?;
        let header = std::fs::read_to_string(dir.path().join(&out).join("attributions.tsv"))?;
        assert!(header.lines().next().is_some_and(|line| line.contains("gradient_x_input")), "{header}");
    }
    Ok(())
}

#[test]
fn cnn_help_matches_what_the_flag_builds() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (help, _) = ok(dir.path(), &["train", "--help"])?;
    assert!(!help.contains("2 conv blocks"), "{help}");
    assert!(help.contains("one conv block"), "{help}");
    write_uneven_data(dir.path(), 120)?;
    let args =
        ["train", "--input", "sequences.txt", "--labels", "labels.txt", "--length", "40", "--length-policy", "center"];
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--model", "cnn", "--epochs", "1", "--out", "cnn", "--quiet", "--no-report", "--no-baseline"]);
    ok(dir.path(), &all)?;
    let config = std::fs::read_to_string(dir.path().join("cnn/config.toml"))?;
    assert_eq!(config.matches("[[model.conv]]").count(), 1, "{config}");
    Ok(())
}
