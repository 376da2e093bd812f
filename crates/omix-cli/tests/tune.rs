//! `omix tune`: trials over a search space, each a run folder, chosen on validation only; single
//! trials for workflow engines, reuse, and the errors a user meets.

mod common;

use std::path::Path;

use common::{TestResult, run};

#[test]
fn tune_trains_each_trial_and_chooses_on_validation() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path();
    let primer = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/primer");
    std::fs::write(
        path.join("primer.toml"),
        format!(
            "seed = 4\n[data]\ninput = {:?}\nlabels = {:?}\n[model]\nkind = \"primer\"\n[train]\nepochs = 2\n\
             baseline = false\n",
            primer.join("sequences.txt"),
            primer.join("labels.txt")
        ),
    )?;
    std::fs::write(
        path.join("space.toml"),
        "method = \"grid\"\n[parameters]\n\"train.learning_rate\" = [0.00001, 0.01]\n\"train.batch_size\" = [64]\n",
    )?;
    // One trial alone (as a workflow engine's job would run it): no choice yet.
    let stderr = run(path, &["tune", "primer.toml", "--space", "space.toml", "-o", "tune", "--trial", "2"], true)?;
    assert!(stderr.contains("1 of 2 trials"), "{stderr}");
    assert!(path.join("tune/trial_002/metrics.json").exists() && !path.join("tune/trial_001").exists());
    assert!(!path.join("tune/trials.tsv").exists());
    // The trial's run folder records which trial it is.
    let lineage: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path.join("tune/trial_002/lineage.json"))?)?;
    assert_eq!(lineage["trial"], 2, "{lineage}");
    // All trials: trial 2 is reused, trial 1 trained, the better validation AUROC chosen.
    let stderr = run(path, &["tune", "primer.toml", "--space", "space.toml", "-o", "tune"], true)?;
    assert!(stderr.contains("finished earlier, reused"), "{stderr}");
    assert!(stderr.contains("chosen on validation auroc"), "{stderr}");
    assert!(stderr.contains("not used to choose"), "{stderr}");
    let table = std::fs::read_to_string(path.join("tune/trials.tsv"))?;
    let rows: Vec<Vec<&str>> = table.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        rows[0],
        vec!["trial", "folder", "train.batch_size", "train.learning_rate", "validation_auroc", "chosen"]
    );
    assert_eq!(rows.len(), 3, "{table}");
    let auroc = |row: &Vec<&str>| row[4].parse::<f64>().unwrap_or(f64::NAN);
    let chosen = rows[1..].iter().find(|r| r[5] == "*").ok_or("no trial chosen")?;
    assert!(rows[1..].iter().all(|r| auroc(r) <= auroc(chosen)), "{table}");
    // The trial's run folder is an ordinary run: its config holds the trial's settings.
    let config = std::fs::read_to_string(path.join("tune/trial_001/config.toml"))?;
    assert!(config.contains("learning_rate = 1e-5") || config.contains("learning_rate = 0.00001"), "{config}");
    assert!(config.contains("batch_size = 64"), "{config}");

    // Errors: a trial out of range; a folder trained with other settings; a bad space names its file.
    let stderr = run(path, &["tune", "primer.toml", "--space", "space.toml", "-o", "tune", "--trial", "3"], false)?;
    assert!(stderr.contains("trials 1 to 2"), "{stderr}");
    std::fs::write(path.join("space.toml"), "method = \"grid\"\n[parameters]\n\"train.learning_rate\" = [0.003]\n")?;
    let stderr = run(path, &["tune", "primer.toml", "--space", "space.toml", "-o", "tune"], false)?;
    assert!(stderr.contains("trial_001") && stderr.contains("other settings"), "{stderr}");
    std::fs::write(path.join("bad.toml"), "method = \"random\"\n[parameters]\n\"train.epochs\" = [1]\n")?;
    let stderr = run(path, &["tune", "primer.toml", "--space", "bad.toml", "-o", "other"], false)?;
    assert!(stderr.contains("bad.toml") && stderr.contains("needs trials"), "{stderr}");
    Ok(())
}
