//! What a new user reads in their first hour (issue 18): the epoch lines' `*`, the warnings a
//! finished run records (best epoch last, classes never predicted), the loss the resolved config
//! names, and the explained scores being the probabilities `test_predictions.tsv` gives.

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

/// `count` sequences of 40 bases (one per line) and their labels: class `a` carries one motif
/// in the middle, `b` another, `c` none (with `classes = 2`, only `a` → 1 and `c` → 0).
fn write_data(dir: &Path, count: usize, classes: usize) -> std::io::Result<()> {
    let (mut sequences, mut labels) = (String::new(), String::new());
    let mut state = 11u64;
    let mut base = || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        b"ACGT"[(state >> 62) as usize] as char
    };
    for index in 0..count {
        let mut sequence: Vec<char> = (0..40).map(|_| base()).collect();
        let class = index % classes;
        let motif = match class {
            0 => Some("CGACCGAACTCC"),
            1 if classes == 3 => Some("GGGGATTTCCCC"),
            _ => None,
        };
        if let Some(motif) = motif {
            for (offset, letter) in motif.chars().enumerate() {
                sequence[14 + offset] = letter;
            }
        }
        sequences.extend(sequence);
        sequences.push('\n');
        let label = match (classes, class) {
            (2, 0) => "1",
            (2, _) => "0",
            (_, 0) => "a",
            (_, 1) => "b",
            _ => "c",
        };
        labels.push_str(label);
        labels.push('\n');
    }
    std::fs::write(dir.join("sequences.txt"), sequences)?;
    std::fs::write(dir.join("labels.txt"), labels)
}

const CONFIG: &str = "seed = 5\n[data]\ninput = \"sequences.txt\"\nlabels = \"labels.txt\"\n[model]\nkind = \"primer\"\n[train]\nepochs = 3\nbatch_size = 32\nbaseline = false\n";

fn checks(run: &Path) -> Result<Vec<serde_json::Value>, Box<dyn std::error::Error>> {
    Ok(serde_json::from_str(&std::fs::read_to_string(run.join("checks.json"))?)?)
}

fn has_check(checks: &[serde_json::Value], id: &str) -> bool {
    checks.iter().any(|check| check["id"] == id)
}

#[test]
fn epoch_lines_say_what_the_star_means_and_a_best_last_epoch_is_warned() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_data(dir.path(), 200, 2)?;
    std::fs::write(dir.path().join("run.toml"), CONFIG)?;
    let (_, stderr) = ok(dir.path(), &["train", "run.toml", "--out", "run", "--no-report"])?;
    let legend = stderr.find("* = best validation loss so far; its weights are kept").ok_or(stderr.clone())?;
    let first = stderr.find("epoch   1/3").ok_or(stderr.clone())?;
    assert!(legend < first, "the legend comes before the first epoch line:\n{stderr}");
    assert_eq!(stderr.matches("* = best").count(), 1, "{stderr}");
    // The motif is easy and 3 epochs are few: the loss still falls at the last epoch.
    let last = stderr.lines().find(|line| line.starts_with("epoch   3/3")).ok_or(stderr.clone())?;
    assert!(last.contains(" *  ("), "{stderr}");
    assert!(
        stderr.contains("warning: the best epoch by validation loss is the last one run (epoch 3 of 3)"),
        "{stderr}"
    );
    assert!(has_check(&checks(&dir.path().join("run"))?, "best_epoch_is_last"), "stored in checks.json");
    // One epoch has nothing to compare: no warning.
    ok(dir.path(), &["train", "run.toml", "--out", "one", "--epochs", "1", "--quiet", "--no-report"])?;
    assert!(!has_check(&checks(&dir.path().join("one"))?, "best_epoch_is_last"));
    Ok(())
}

#[test]
fn a_class_never_predicted_is_warned_and_stored() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_data(dir.path(), 200, 2)?;
    std::fs::write(dir.path().join("run.toml"), CONFIG.replace("epochs = 3", "epochs = 1\nthreshold = 0.999"))?;
    let (_, stderr) = ok(dir.path(), &["train", "run.toml", "--out", "run", "--no-report"])?;
    assert!(
        stderr.contains(
            "warning: one class is never predicted for any of the 20 test examples (decided at probability >= 0.999): 1"
        ),
        "{stderr}"
    );
    let checks = checks(&dir.path().join("run"))?;
    let found: Vec<_> = checks.iter().filter(|check| check["id"] == "never_predicted").collect();
    assert_eq!(found.len(), 2, "validation and test: {checks:?}");
    // The report lists it with the run's other warnings.
    ok(dir.path(), &["report", "run"])?;
    let html = std::fs::read_to_string(dir.path().join("run/report.html"))?;
    assert!(html.contains("never_predicted") && html.contains("one class is never predicted"), "report");
    Ok(())
}

#[test]
fn the_resolved_config_names_the_loss_and_trains_again_as_written() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_data(dir.path(), 150, 3)?;
    std::fs::write(dir.path().join("run.toml"), CONFIG.replace("epochs = 3", "epochs = 2"))?;
    ok(dir.path(), &["train", "run.toml", "--out", "run", "--quiet", "--no-report"])?;
    let config = std::fs::read_to_string(dir.path().join("run/config.toml"))?;
    assert!(config.contains("loss = \"cross_entropy\""), "{config}");
    // The run folder's config is a config a user can train from as it stands.
    ok(dir.path(), &["train", "run/config.toml", "--out", "again", "--quiet", "--no-report"])?;
    // Another task's loss is refused, naming the one in use.
    std::fs::write(dir.path().join("bce.toml"), CONFIG.replace("baseline = false", "loss = \"binary_cross_entropy\""))?;
    let output = omix(dir.path(), &["train", "bce.toml", "--out", "bce", "--quiet"])?;
    let stderr = String::from_utf8(output.stderr)?;
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("[train] loss: the task is multiclass classification, trained with cross_entropy"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn explained_scores_are_the_probabilities_of_the_predictions() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_data(dir.path(), 150, 3)?;
    std::fs::write(dir.path().join("run.toml"), CONFIG.replace("epochs = 3", "epochs = 2"))?;
    ok(dir.path(), &["train", "run.toml", "--out", "run", "--quiet", "--no-report"])?;
    ok(dir.path(), &["explain", "run", "--method", "gradient_x_input", "--max-sequences", "8", "--no-report"])?;
    let explain: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run/explain/explain.json"))?)?;
    assert_eq!(explain["score_name"], "probability");
    let output = explain["output"].as_str().ok_or("no output")?;
    let predictions = std::fs::read_to_string(dir.path().join("run/test_predictions.tsv"))?;
    let header: Vec<&str> = predictions.lines().next().ok_or("empty")?.split('\t').collect();
    let column = header.iter().position(|name| *name == format!("probability_{output}")).ok_or("no column")?;
    let tracks = explain["tracks"].as_array().ok_or("no tracks")?;
    assert!(!tracks.is_empty());
    for track in tracks {
        let id = track["sequence_id"].as_str().ok_or("no id")?;
        let row: Vec<&str> = predictions
            .lines()
            .find(|line| line.split('\t').next() == Some(id))
            .ok_or(format!("{id} not in test_predictions.tsv"))?
            .split('\t')
            .collect();
        let expected: f64 = row[column].parse()?;
        let score = track["score"].as_f64().ok_or("no score")?;
        assert!((score - expected).abs() < 1e-5, "{id}: explained score {score}, predicted probability {expected}");
    }
    Ok(())
}
