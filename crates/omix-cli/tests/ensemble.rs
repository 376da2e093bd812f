//! Folds and ensembles: `omix train --fold I` into run folders that record their fold, `omix
//! ensemble` over them (cross-validated metrics, mixtures refused), and an ensemble predicting like
//! any run: the mean of its members' probabilities, and explained as the mean of its members'
//! attributions.

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

/// The rows of an `attributions.tsv`: (sequence, position, base) and the score columns.
type Rows = Vec<(String, Vec<f64>)>;

fn attributions(path: &Path) -> Result<(String, Rows), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path.join("attributions.tsv"))?;
    let mut lines = text.lines();
    let header = lines.next().ok_or("empty attributions.tsv")?.to_owned();
    let rows = lines
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let scores = fields[4..].iter().map(|v| v.parse::<f64>()).collect::<Result<Vec<_>, _>>()?;
            Ok((fields[..4].join("\t"), scores))
        })
        .collect::<Result<Rows, Box<dyn std::error::Error>>>()?;
    Ok((header, rows))
}

/// Explain the members and the ensemble on the same sequences with gradient × input and
/// DeepLIFT/SHAP: the ensemble's attributions are the members' mean, and its DeepLIFT/SHAP still
/// sums to the (mean) output's difference from the references'.
fn explain_matches_the_members_mean(path: &Path, ensemble: &str, members: &[&str]) -> TestResult {
    let explain = |run_dir: &str| {
        let out = format!("{run_dir}_explained");
        let args = [
            "explain",
            run_dir,
            "--method",
            "gradient-x-input",
            "--method",
            "deeplift-shap",
            "--shap-references",
            "5",
            "--max-sequences",
            "8",
            "-o",
            &out,
        ];
        run(path, &args, true)
    };
    let stderr = explain(ensemble)?;
    assert!(
        stderr.contains(&format!("an ensemble of {} members", members.len()))
            && stderr.contains("mean of the members' attributions")
            && stderr.contains("member 01's first-layer filters only"),
        "{stderr}"
    );
    assert!(stderr.contains("test split of the ensemble's first member"), "{stderr}");
    let (header, combined) = attributions(&path.join(format!("{ensemble}_explained")))?;
    assert!(header.ends_with("gradient_x_input\tdeeplift_shap\tdeeplift_shap_hypothetical"), "{header}");
    assert_eq!(combined.len(), 8 * 50 * 4, "8 sequences of 50 bases, 4 channels");
    let mut each = Vec::new();
    for member in members {
        explain(member)?;
        let (member_header, rows) = attributions(&path.join(format!("{member}_explained")))?;
        assert_eq!(member_header, header);
        each.push(rows);
    }
    let mut largest = 0.0f64;
    for (k, (key, scores)) in combined.iter().enumerate() {
        for (column, value) in scores.iter().enumerate() {
            assert_eq!(&each[0][k].0, key, "the same sequences in the same order");
            let mean = each.iter().map(|rows| rows[k].1[column]).sum::<f64>() / members.len() as f64;
            // Each file rounds to 6 decimals.
            assert!((value - mean).abs() <= 1e-5, "{key} column {column}: ensemble {value}, members' mean {mean}");
            largest = largest.max((value - mean).abs());
        }
    }
    assert!(each[0].iter().zip(&each[1]).any(|(a, b)| (a.1[0] - b.1[0]).abs() > 1e-3), "the members differ");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path.join(format!("{ensemble}_explained/explain.json")))?)?;
    let convergence = summary["convergence"].as_f64().ok_or("no convergence in explain.json")?;
    assert!(convergence < 1e-3, "DeepLIFT/SHAP of the ensemble misses summation to delta by {convergence}");
    assert!(!stderr.contains("warning: DeepLIFT/SHAP"), "{stderr}");
    eprintln!("ensemble vs members' mean: largest difference {largest:.1e}; summation to delta {convergence:.1e}");
    Ok(())
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
    // Explained by mean logit: the attribution of the ensemble's logit.
    explain_matches_the_members_mean(path, "seeds", &["seed1", "seed2"])?;
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
    // Evaluate and explain take it too.
    let labels = primer.join("labels.txt");
    let output = omix(path, &["evaluate", "cv", "--input", input, "--labels", labels.to_str().ok_or("path")?])?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8(output.stdout)?.contains("AUROC"));
    let stderr = run(path, &["explain", "cv", "--input", input, "--method", "saliency", "--max-sequences", "4"], true)?;
    assert!(
        stderr.contains("an ensemble of 3 members combined by mean-probability")
            && stderr.contains("not an attribution of the ensemble's mean probability")
            && stderr.contains("no report"),
        "{stderr}"
    );
    assert!(path.join("cv/explain/attributions.tsv").is_file());

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
