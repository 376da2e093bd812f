//! Folds and ensembles: `omix train --fold I` into run folders that record their fold, `omix
//! ensemble` over them (cross-validated metrics, mixtures refused), and an ensemble predicting like
//! any run: the mean of its members' probabilities.

use std::path::Path;
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn omix(dir: &Path, args: &[&str]) -> Result<Output, std::io::Error> {
    Command::new(env!("CARGO_BIN_EXE_omix")).args(args).current_dir(dir).env_remove("RUST_BACKTRACE").output()
}

fn run(dir: &Path, args: &[&str], succeed: bool) -> Result<String, Box<dyn std::error::Error>> {
    let output = omix(dir, args)?;
    let stderr = String::from_utf8(output.stderr)?;
    if output.status.success() != succeed {
        return Err(
            format!("omix {} {}:\n{stderr}", args.join(" "), if succeed { "failed" } else { "succeeded" }).into()
        );
    }
    Ok(stderr)
}

/// The probability column of a predictions TSV.
fn probabilities(path: &Path) -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    text.lines().skip(1).map(|line| Ok(line.split('\t').nth(1).ok_or("no probability column")?.parse()?)).collect()
}

#[test]
fn seeds_sharing_a_test_set_get_the_ensembles_own_test_metrics() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path();
    let primer = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/primer");
    // A fixed test set ([data.test]): the seed draws only validation, so the seeds share it.
    let sequences = std::fs::read_to_string(primer.join("sequences.txt"))?;
    let labels = std::fs::read_to_string(primer.join("labels.txt"))?;
    let (sequences, labels): (Vec<&str>, Vec<&str>) = (sequences.lines().collect(), labels.lines().collect());
    for (name, range) in [("train", 300..sequences.len()), ("test", 0..300)] {
        std::fs::write(path.join(format!("{name}.txt")), sequences[range.clone()].join("\n") + "\n")?;
        std::fs::write(path.join(format!("{name}_labels.txt")), labels[range].join("\n") + "\n")?;
    }
    std::fs::write(
        path.join("seeds.toml"),
        "[data]\ninput = \"train.txt\"\nlabels = \"train_labels.txt\"\ntest = { input = \"test.txt\", labels = \"test_labels.txt\" }\n\
         [model]\nkind = \"primer\"\n[train]\nepochs = 2\nbaseline = false\n",
    )?;
    for seed in ["1", "2"] {
        run(path, &["train", "seeds.toml", "--seed", seed, "-o", &format!("seed{seed}"), "--no-report", "-q"], true)?;
    }
    run(path, &["ensemble", "seed1", "seed2", "-o", "seeds", "--combine", "mean-logit"], true)?;
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path.join("seeds/ensemble_metrics.json"))?)?;
    assert_eq!(metrics["members_are"], "seeds");
    assert_eq!(metrics["combine"], "mean-logit");
    assert_eq!(metrics["ensemble_test"]["support"], 300, "{metrics}");
    assert!(metrics.get("pooled_out_of_fold").is_none());
    let lineage: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path.join("seeds/lineage.json"))?)?;
    assert_eq!(lineage["parents"].as_array().map(Vec::len), Some(2), "{lineage}");
    assert!(lineage.get("seed").is_none(), "an ensemble of seeds has no one seed: {lineage}");
    Ok(())
}

#[test]
fn folds_train_into_an_ensemble_that_predicts_the_members_mean() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path();
    let primer = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/primer");
    let data = format!("input = {:?}\nlabels = {:?}\n", primer.join("sequences.txt"), primer.join("labels.txt"));
    let rest = "[model]\nkind = \"primer\"\n[train]\nepochs = 2\nbaseline = false\n";
    std::fs::write(path.join("folds.toml"), format!("seed = 4\n[data]\n{data}folds = 3\n{rest}"))?;
    std::fs::write(path.join("plain.toml"), format!("seed = 4\n[data]\n{data}{rest}"))?;

    // Folded data must name a fold.
    let stderr = run(path, &["train", "folds.toml", "-o", "nofold", "--no-report"], false)?;
    assert!(stderr.contains("--fold") && stderr.contains("3 folds"), "{stderr}");
    for fold in ["1", "2", "3"] {
        run(path, &["train", "folds.toml", "--fold", fold, "-o", &format!("fold{fold}"), "--no-report", "-q"], true)?;
    }
    // A fold's job started again with the same command resumes it; another fold is refused.
    let resume = |fold: &str, extra: &[&str], succeed: bool| {
        let mut args = vec!["train", "folds.toml", "--fold", fold, "-o", "resumed", "--no-report", "-q"];
        args.extend_from_slice(extra);
        run(path, &args, succeed)
    };
    resume("1", &["--stop-after", "1"], true)?;
    let stderr = resume("2", &["--resume"], false)?;
    assert!(stderr.contains("--fold would be ignored"), "{stderr}");
    resume("1", &["--resume"], true)?;
    let lineage: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path.join("fold2/lineage.json"))?)?;
    assert_eq!(lineage["fold"], serde_json::json!({ "index": 2, "of": 3 }));
    assert_eq!(lineage["kind"], "run");
    // The folds' test sets partition the examples.
    let mut tested = Vec::new();
    for fold in ["fold1", "fold2", "fold3"] {
        let text = std::fs::read_to_string(path.join(fold).join("test_predictions.tsv"))?;
        tested.extend(text.lines().skip(1).map(|line| line.split('\t').next().unwrap_or_default().to_owned()));
    }
    let examples = std::fs::read_to_string(primer.join("sequences.txt"))?.lines().count();
    tested.sort();
    tested.dedup();
    assert_eq!(tested.len(), examples);

    run(path, &["ensemble", "fold1", "fold2", "fold3", "-o", "cv"], true)?;
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path.join("cv/ensemble_metrics.json"))?)?;
    assert_eq!(metrics["members_are"], "folds");
    assert_eq!(metrics["members"].as_array().map(Vec::len), Some(3));
    assert!(metrics["member_mean"]["auroc"]["sd"].is_number(), "{metrics}");
    assert_eq!(metrics["pooled_out_of_fold"]["support"], examples);
    // Self-contained: the members are copied in.
    assert!(path.join("cv/members/03/model.bpk").is_file());
    let ensemble_lineage = std::fs::read_to_string(path.join("cv/lineage.json"))?;
    assert!(ensemble_lineage.contains("\"ensemble\"") && ensemble_lineage.contains("members/03"), "{ensemble_lineage}");

    // The ensemble predicts the mean of its members' probabilities.
    let input = primer.join("sequences.txt");
    let input = input.to_str().ok_or("path")?;
    for run_dir in ["fold1", "fold2", "fold3", "cv"] {
        run(path, &["predict", run_dir, "--input", input, "-o", &format!("{run_dir}.tsv")], true)?;
    }
    let members: Vec<Vec<f64>> = ["fold1", "fold2", "fold3"]
        .iter()
        .map(|r| probabilities(&path.join(format!("{r}.tsv"))))
        .collect::<Result<_, _>>()?;
    let ensemble = probabilities(&path.join("cv.tsv"))?;
    assert_eq!(ensemble.len(), examples);
    for (k, value) in ensemble.iter().enumerate() {
        let mean = members.iter().map(|m| m[k]).sum::<f64>() / 3.0;
        // Each file rounds to 6 decimals.
        assert!((value - mean).abs() <= 1e-6 + 1e-12, "example {k}: ensemble {value}, members' mean {mean}");
    }
    assert!(members[0].iter().zip(&members[1]).any(|(a, b)| (a - b).abs() > 1e-3), "the folds' models differ");
    // Evaluate takes it too; explain names a member instead.
    let labels = primer.join("labels.txt");
    let output = omix(path, &["evaluate", "cv", "--input", input, "--labels", labels.to_str().ok_or("path")?])?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8(output.stdout)?.contains("AUROC"));
    let stderr = run(path, &["explain", "cv", "--input", input], false)?;
    assert!(stderr.contains("ensemble of 3 runs") && stderr.contains("members/01"), "{stderr}");

    // Mixtures are refused, naming both runs and what differs, and nothing is written.
    run(path, &["train", "plain.toml", "-o", "plain", "--no-report", "-q"], true)?;
    let stderr = run(path, &["ensemble", "fold1", "plain", "-o", "mixed"], false)?;
    assert!(stderr.contains("fold1 and plain were split differently"), "{stderr}");
    let stderr = run(path, &["ensemble", "fold1", "fold2", "fold1", "-o", "mixed"], false)?;
    assert!(stderr.contains("fold1 and fold1") && stderr.contains("fold 1 of 3"), "{stderr}");
    std::fs::write(
        path.join("other.toml"),
        format!("seed = 4\n[data]\n{data}length = 40\nlength_policy = \"center\"\nfolds = 3\n{rest}"),
    )?;
    run(path, &["train", "other.toml", "--fold", "2", "-o", "other", "--no-report", "-q"], true)?;
    let stderr = run(path, &["ensemble", "fold1", "other", "-o", "mixed"], false)?;
    assert!(stderr.contains("fold1 and other") && stderr.contains("schema"), "{stderr}");
    assert!(!path.join("mixed").exists());
    // An existing folder is not replaced without --force.
    let stderr = run(path, &["ensemble", "fold1", "fold2", "fold3", "-o", "cv"], false)?;
    assert!(stderr.contains("already exists"), "{stderr}");
    Ok(())
}
