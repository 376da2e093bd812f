//! Folds and ensembles: `omix train --fold I` into run folders that record their fold, `omix
//! ensemble` over them (cross-validated metrics, mixtures refused), and an ensemble predicting like
//! any run: the mean of its members' probabilities, and explained as the mean of its members'
//! attributions.

mod common;

use std::path::Path;

use common::{TestResult, omix, run};

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
            && stderr.contains("report: cv/report.html"),
        "{stderr}"
    );
    assert!(path.join("cv/explain/attributions.tsv").is_file());
    // explain.json says the attributions are the members' mean; the report is the ensemble's page.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path.join("cv/explain/explain.json"))?)?;
    assert_eq!(summary["ensemble"]["members"], serde_json::json!(["members/01", "members/02", "members/03"]));
    assert_eq!(summary["ensemble"]["combine"], "mean-probability");
    let page = std::fs::read_to_string(path.join("cv/report.html"))?;
    assert!(page.contains("omix ensemble report: cv") && page.contains("AUROC") && page.contains("pooled out-of-fold"));

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

/// A `[tracks]` experiment on the simulator's six contigs with three chromosome folds whose test
/// contigs (chr1-chr3) are the held-out contigs, so the folds' test regions partition them; a tiny
/// BPNet for one epoch.
const PROFILE_FOLDS: &str = "seed = 2\n[tracks]\nreference = \"sim/genome.fa\"\npeaks = \"sim/peaks.narrowPeak\"\n\
    input_length = 300\noutput_length = 200\njitter = 8\nfolds = [\n\
    { validation = [\"chr2\"], test = [\"chr1\"] },\n\
    { validation = [\"chr3\"], test = [\"chr2\"] },\n\
    { validation = [\"chr1\"], test = [\"chr3\"] },\n]\n\
    [[tracks.task]]\nname = \"chip\"\nplus = \"sim/counts.plus.bw\"\nminus = \"sim/counts.minus.bw\"\n\
    [model]\nfilters = 8\nlayers = 2\n[train]\nepochs = 1\nbatch_size = 64\n";

/// Each strand's predicted counts over `chrom:from-to` of a `STEM.plus.bw` / `STEM.minus.bw` pair.
fn predicted_strands(
    path: &Path,
    stem: &str,
    chrom: &str,
    from: u64,
    to: u64,
) -> Result<Vec<Vec<f32>>, Box<dyn std::error::Error>> {
    ["plus", "minus"]
        .iter()
        .map(|strand| {
            let mut track = omix_tracks::Track::open(&path.join(format!("{stem}.{strand}.bw")), None)?;
            let mut values = vec![0f32; (to - from) as usize];
            track.read(chrom, from, to, true, &mut values)?;
            Ok(values)
        })
        .collect()
}

/// The columns of a profile explain's `regions.tsv` from `predicted_log_count` on, per window.
/// A table's header and its rows of numbers.
type Table = (String, Vec<Vec<f64>>);

fn region_sums(folder: &Path) -> Result<Table, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(folder.join("regions.tsv"))?;
    let mut lines = text.lines();
    let header = lines.next().ok_or("empty regions.tsv")?.to_owned();
    let rows = lines
        .map(|line| line.split('\t').skip(5).map(|v| v.parse::<f64>().map_err(Into::into)).collect())
        .collect::<Result<Vec<Vec<f64>>, Box<dyn std::error::Error>>>()?;
    Ok((header, rows))
}

#[test]
fn profile_folds_train_into_an_ensemble_of_mean_profiles_and_counts() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path();
    run(path, &["simulate-tracks", "--out", "sim", "--seed", "4"], true)?;
    std::fs::write(path.join("folds.toml"), PROFILE_FOLDS)?;
    let stderr = run(path, &["train", "folds.toml", "-o", "nofold", "--no-report", "-q"], false)?;
    assert!(stderr.contains("3 chromosome folds") && stderr.contains("--fold I"), "{stderr}");
    let folds = ["fold1", "fold2", "fold3"];
    for (k, fold) in folds.iter().enumerate() {
        let index = (k + 1).to_string();
        run(path, &["train", "folds.toml", "--fold", &index, "-o", fold, "--no-report", "-q"], true)?;
        let lineage: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path.join(fold).join("lineage.json"))?)?;
        assert_eq!(lineage["fold"], serde_json::json!({ "index": k + 1, "of": 3 }), "{lineage}");
        assert_eq!(lineage["profile"], true);
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path.join(fold).join("data_report.json"))?)?;
        assert_eq!(report["test_chromosomes"], serde_json::json!([format!("chr{}", k + 1)]), "{report}");
    }

    let stdout = run(path, &["ensemble", "fold1", "fold2", "fold3", "-o", "cv"], true)?;
    assert!(stdout.contains("ensemble of 3 folds"), "{stdout}");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path.join("cv/ensemble_metrics.json"))?)?;
    assert_eq!(metrics["members_are"], "folds");
    let members = metrics["members"].as_array().ok_or("members")?;
    assert_eq!(members.len(), 3);
    let jsd: Vec<f64> = members.iter().filter_map(|m| m["test"]["peaks"]["chip"]["median_jsd"].as_f64()).collect();
    assert_eq!(jsd.len(), 3, "{metrics}");
    let spread = &metrics["member_mean"]["peaks.chip.median_jsd"];
    assert!((spread["mean"].as_f64().ok_or("mean")? - jsd.iter().sum::<f64>() / 3.0).abs() < 1e-12, "{spread}");
    for key in ["median_profile_pearson", "count_pearson", "count_mse"] {
        assert!(metrics["member_mean"][format!("peaks.chip.{key}")]["sd"].is_f64(), "{key}: {metrics}");
    }
    // Every fold's test peaks, pooled: the three test contigs' peaks once each.
    let tested: u64 = members.iter().filter_map(|m| m["test"]["peaks"]["chip"]["regions"].as_u64()).sum();
    assert_eq!(metrics["pooled_out_of_fold"]["peaks"]["chip"]["regions"].as_u64(), Some(tested), "{metrics}");

    // The ensemble's report: members, their metrics with mean ± sd, and the pooled metrics.
    run(path, &["report", "cv"], true)?;
    let page = std::fs::read_to_string(path.join("cv/report.html"))?;
    for words in ["omix ensemble report: cv", "chip: median JSD", "mean ± sd", "pooled out-of-fold", "members/03"] {
        assert!(page.contains(words), "{words} not in the report");
    }

    // Predicted tracks: the members' mean profile probabilities times the exponential of their mean
    // log counts, on windows that do not overlap.
    std::fs::write(path.join("windows.bed"), "chr4\t10000\t10001\nchr4\t30000\t30001\nchr5\t20000\t20001\n")?;
    for run_dir in ["cv", "fold1", "fold2", "fold3"] {
        let out = format!("{run_dir}.bw");
        run(path, &["predict", run_dir, "--reference", "sim/genome.fa", "--bed", "windows.bed", "-o", &out], true)?;
    }
    for (chrom, centre) in [("chr4", 10000u64), ("chr4", 30000), ("chr5", 20000)] {
        let (from, to) = (centre - 150, centre + 150);
        let ensemble = predicted_strands(path, "cv", chrom, from, to)?;
        let members: Vec<Vec<Vec<f32>>> =
            folds.iter().map(|fold| predicted_strands(path, fold, chrom, from, to)).collect::<Result<_, _>>()?;
        let totals: Vec<f64> = members.iter().map(|m| m.iter().flatten().map(|&v| f64::from(v)).sum()).collect();
        let mean_log_count = totals.iter().map(|t| t.ln()).sum::<f64>() / 3.0;
        for strand in 0..2 {
            for base in 0..(to - from) as usize {
                let probability: f64 =
                    members.iter().zip(&totals).map(|(m, total)| f64::from(m[strand][base]) / total).sum::<f64>() / 3.0;
                let expected = probability * mean_log_count.exp();
                let got = f64::from(ensemble[strand][base]);
                assert!(
                    (got - expected).abs() <= 1e-4 * expected.max(1e-3),
                    "{chrom}:{} strand {strand}: {got} vs {expected}",
                    from + base as u64
                );
            }
        }
    }

    // Attributions: the members' mean, said so in profile_explain.json.
    let explain = |run_dir: &str| -> Result<Table, Box<dyn std::error::Error>> {
        let out = format!("{run_dir}_explained");
        let args = [
            "explain",
            run_dir,
            "--input",
            "windows.bed",
            "--method",
            "gradient-x-input",
            "--method",
            "deeplift-shap",
            "--shap-references",
            "2",
            "--out",
            &out,
            "--no-report",
        ];
        run(path, &args, true)?;
        region_sums(&path.join(out))
    };
    let (header, ensemble) = explain("cv")?;
    assert!(header.contains("predicted_log_count") && header.contains("profile_deeplift_shap_sum"), "{header}");
    let members: Vec<Vec<Vec<f64>>> =
        folds.iter().map(|fold| explain(fold).map(|(_, rows)| rows)).collect::<Result<_, _>>()?;
    for (window, row) in ensemble.iter().enumerate() {
        for (column, value) in row.iter().enumerate() {
            let mean = members.iter().map(|m| m[window][column]).sum::<f64>() / 3.0;
            assert!(
                (value - mean).abs() < 1e-5,
                "window {window}, column {column}: {value} vs the members' mean {mean}"
            );
        }
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path.join("cv_explained/profile_explain.json"))?)?;
    assert_eq!(summary["ensemble"]["members"], serde_json::json!(["members/01", "members/02", "members/03"]));
    assert_eq!(summary["ensemble"]["combine"], "mean-probability");

    // evaluate is for sequence models; a profile run with a sequence run is no ensemble.
    let stderr = run(path, &["evaluate", "cv", "--input", "windows.bed"], false)?;
    assert!(stderr.contains("is a profile (BPNet) ensemble") && stderr.contains("ensemble_metrics.json"), "{stderr}");
    let primer = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/primer");
    std::fs::write(
        path.join("primer.toml"),
        format!(
            "seed = 4\n[data]\ninput = {:?}\nlabels = {:?}\n[model]\nkind = \"primer\"\n[train]\nepochs = 1\nbaseline = false\n",
            primer.join("sequences.txt"),
            primer.join("labels.txt")
        ),
    )?;
    run(path, &["train", "primer.toml", "-o", "sequence", "--no-report", "-q"], true)?;
    let stderr = run(path, &["ensemble", "fold1", "sequence", "-o", "mixed"], false)?;
    assert!(stderr.contains("fold1 is a profile (BPNet) run and sequence a sequence run"), "{stderr}");
    assert!(!path.join("mixed").exists(), "a refused ensemble wrote its folder");
    Ok(())
}
