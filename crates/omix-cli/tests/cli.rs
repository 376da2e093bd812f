//! End-to-end runs of the `omix` binary on small data sets in temporary folders.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The motif the simulated positives carry (the primer's).
const MOTIF: &str = "CGACCGAACTCC";
/// A second motif, for the third class of the multi-class data.
const OTHER_MOTIF: &str = "TTAGGGATAACA";

/// `omix ARGS` run in `dir`, without a backtrace setting from the environment.
fn omix(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_omix"));
    command.args(args).current_dir(dir).env_remove("RUST_BACKTRACE");
    command
}

/// Run `omix ARGS` in `dir` and require success; returns stdout and stderr.
fn omix_ok(dir: &Path, args: &[&str]) -> Result<(String, String), Box<dyn std::error::Error>> {
    let output = omix(dir, args).output()?;
    succeeded(args, output)
}

/// Start `omix ARGS` in `dir` without waiting (stdout and stderr captured).
fn omix_spawn(dir: &Path, args: &[&str]) -> std::io::Result<Child> {
    omix(dir, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()
}

/// Wait for a spawned `omix` and require success.
fn wait_ok(args: &[&str], child: Child) -> Result<(String, String), Box<dyn std::error::Error>> {
    let output = child.wait_with_output()?;
    succeeded(args, output)
}

fn succeeded(args: &[&str], output: Output) -> Result<(String, String), Box<dyn std::error::Error>> {
    let stdout = String::from_utf8(output.stdout)?;
    let stderr = String::from_utf8(output.stderr)?;
    if !output.status.success() {
        return Err(format!("omix {} failed ({}):\n{stderr}", args.join(" "), output.status).into());
    }
    Ok((stdout, stderr))
}

/// A path as a `&str` argument.
fn arg(path: &Path) -> Result<&str, Box<dyn std::error::Error>> {
    path.to_str().ok_or_else(|| format!("{} is not UTF-8", path.display()).into())
}

fn read_json(path: &Path) -> Result<Value, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

/// A small seeded generator (SplitMix64), so the data sets need no dependencies.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A random DNA sequence of `length` bases, with `motif` planted at a random place if given.
    fn sequence(&mut self, length: usize, motif: Option<&str>) -> String {
        let mut bases: Vec<u8> = (0..length).map(|_| b"ACGT"[self.below(4)]).collect();
        if let Some(motif) = motif {
            let start = self.below(length - motif.len() + 1);
            bases[start..start + motif.len()].copy_from_slice(motif.as_bytes());
        }
        String::from_utf8_lossy(&bases).into_owned()
    }
}

/// The primer layout: `sequences.txt` and `labels.txt` (1 = motif planted), `count` 50-bp sequences.
fn write_primer_data(dir: &Path, count: usize, seed: u64) -> std::io::Result<()> {
    let mut random = Random(seed);
    let (mut sequences, mut labels) = (String::new(), String::new());
    for index in 0..count {
        let positive = index % 2 == 0;
        sequences.push_str(&random.sequence(50, positive.then_some(MOTIF)));
        sequences.push('\n');
        labels.push_str(if positive { "1\n" } else { "0\n" });
    }
    std::fs::write(dir.join("sequences.txt"), sequences)?;
    std::fs::write(dir.join("labels.txt"), labels)
}

/// FASTA text of `count` 50-bp records named `{prefix}{N}`, wrapped at 30 bases.
fn fasta(prefix: &str, count: usize, motif: Option<&str>, seed: u64) -> String {
    let mut random = Random(seed);
    let mut text = String::new();
    for index in 0..count {
        let sequence = random.sequence(50, motif);
        let _ = write!(text, ">{prefix}{index} simulated\n{}\n{}\n", &sequence[..30], &sequence[30..]);
    }
    text
}

/// The lines of a TSV file, header first.
fn tsv_lines(path: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    Ok(std::fs::read_to_string(path)?.lines().map(str::to_string).collect())
}

const QUICKSTART_FILES: [&str; 7] = [
    "config.toml",
    "split_manifest.tsv",
    "checks.json",
    "training_log.tsv",
    "model.bpk",
    "metrics.json",
    "test_predictions.tsv",
];

const BINARY_METRICS: [&str; 9] =
    ["accuracy", "balanced_accuracy", "precision", "recall", "f1", "mcc", "auroc", "auprc", "confusion_matrix"];

#[test]
fn quickstart_learns_the_motif_and_writes_a_complete_run_folder() -> TestResult {
    let dir = tempfile::tempdir()?;
    let run = dir.path().join("quickstart");
    let (stdout, _) = omix_ok(dir.path(), &["quickstart", "--out", arg(&run)?, "--quiet"])?;
    assert!(stdout.contains("test"), "{stdout}");
    for name in QUICKSTART_FILES {
        assert!(run.join(name).is_file(), "the run folder lacks {name}");
    }
    let metrics = read_json(&run.join("metrics.json"))?;
    for split in ["test", "validation"] {
        for key in BINARY_METRICS {
            assert!(metrics[split].get(key).is_some(), "metrics.json has no {split}.{key}: {metrics}");
        }
    }
    let accuracy = metrics["test"]["accuracy"].as_f64().ok_or("test accuracy is not a number")?;
    assert!(accuracy >= 0.97, "quickstart test accuracy {accuracy} < 0.97");
    // One prediction per test example, plus the header.
    let support = metrics["test"]["support"].as_u64().ok_or("no test support")?;
    assert_eq!(tsv_lines(&run.join("test_predictions.tsv"))?.len() as u64, support + 1);

    // The explanation: gradient x input peaks inside the planted motif in >= 90% of the positive
    // test sequences, and the best filter matches the planted motif significantly.
    let peak = stdout.lines().find(|l| l.starts_with("gradient x input peaks inside")).ok_or(stdout.clone())?;
    let percent: f64 = peak.rsplit('(').next().and_then(|p| p.trim_end_matches("%)").parse().ok()).ok_or(peak)?;
    assert!(percent >= 90.0, "{peak}");
    let matched = stdout.lines().find(|l| l.starts_with("best-matching filter")).ok_or(stdout.clone())?;
    let e_value: f64 =
        matched.split("E = ").nth(1).and_then(|e| e.split_whitespace().next()?.parse().ok()).ok_or(matched)?;
    assert!(e_value < 0.05, "{matched}");
    for name in [
        "attributions.tsv",
        "positions.tsv",
        "aggregate.tsv",
        "filters.meme",
        "filters.tsv",
        "matches.tsv",
        "explain.json",
    ] {
        assert!(run.join("explain").join(name).is_file(), "explain/ lacks {name}");
    }
    let explain = read_json(&run.join("explain/explain.json"))?;
    assert_eq!(explain["filters"].as_array().map(Vec::len), Some(32), "one motif per filter");
    let report = std::fs::read_to_string(run.join("report.html"))?;
    assert!(report.contains("<svg") && report.contains("CGACCGAACTCC"), "report without logos or the planted motif");
    Ok(())
}

#[test]
fn explain_and_report_a_trained_run() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("pos.fa"), fasta("p", 120, Some(MOTIF), 1))?;
    std::fs::write(path("neg.fa"), fasta("n", 120, None, 2))?;
    let run = path("run");
    let (_, stderr) = omix_ok(
        dir.path(),
        &["train", "--class", "pos=pos.fa", "--class", "neg=neg.fa", "--epochs", "3", "--out", arg(&run)?, "--quiet"],
    )?;
    // Training ends with the explanation of the test split and the report.
    assert!(stderr.contains("report:"), "{stderr}");
    assert!(run.join("report.html").is_file() && run.join("explain/explain.json").is_file());

    std::fs::write(path("new.fa"), fasta("x", 5, Some(MOTIF), 3))?;
    let out = path("explained");
    let (_, stderr) = omix_ok(
        dir.path(),
        &[
            "explain",
            arg(&run)?,
            "--input",
            "new.fa",
            "--method",
            "ism",
            "--method",
            "integrated-gradients",
            "--ig-baseline",
            "shuffled",
            "--output",
            "pos",
            "-o",
            arg(&out)?,
            "--naive-ism",
            "2",
        ],
    )?;
    assert!(stderr.contains("in-silico mutagenesis"), "{stderr}");
    let lines = tsv_lines(&out.join("attributions.tsv"))?;
    assert_eq!(lines[0], "sequence_id\tposition\tbase\tobserved\tintegrated_gradients\tism");
    let length = 50; // the simulated sequences' length
    assert_eq!(lines.len(), 1 + 5 * length * 4, "one line per sequence, position and base");
    assert_eq!(tsv_lines(&out.join("positions.tsv"))?.len(), 1 + 5 * length);
    assert_eq!(tsv_lines(&out.join("aggregate.tsv"))?.len(), 1 + 5);
    let meme = std::fs::read_to_string(out.join("filters.meme"))?;
    assert!(meme.starts_with("MEME version"), "{meme}");

    // Unknown outputs and unexplainable runs are refused with a clear message.
    let output = omix(dir.path(), &["explain", arg(&run)?, "--output", "bogus", "-o", "x"]).output()?;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--output bogus"));

    std::fs::remove_file(run.join("report.html"))?;
    omix_ok(dir.path(), &["report", arg(&run)?])?;
    assert!(run.join("report.html").is_file());
    Ok(())
}

#[test]
fn quickstart_is_deterministic_for_a_seed() -> TestResult {
    let dir = tempfile::tempdir()?;
    let runs: Vec<PathBuf> = ["a", "b", "c"].iter().map(|name| dir.path().join(name)).collect();
    let args: Vec<Vec<&str>> = vec![
        vec!["quickstart", "--out", arg(&runs[0])?, "--quiet", "--seed", "5"],
        vec!["quickstart", "--out", arg(&runs[1])?, "--quiet", "--seed", "5"],
        vec!["quickstart", "--out", arg(&runs[2])?, "--quiet", "--seed", "6"],
    ];
    // The three runs are independent: run them side by side.
    let children = args.iter().map(|args| omix_spawn(dir.path(), args)).collect::<Result<Vec<_>, _>>()?;
    for (args, child) in args.iter().zip(children) {
        wait_ok(args, child)?;
    }
    let read = |run: &Path, name: &str| std::fs::read(run.join(name));
    assert!(read(&runs[0], "metrics.json")? == read(&runs[1], "metrics.json")?, "same seed, different metrics.json");
    assert!(
        read(&runs[0], "test_predictions.tsv")? == read(&runs[1], "test_predictions.tsv")?,
        "same seed, different test predictions"
    );
    assert!(read(&runs[0], "metrics.json")? != read(&runs[2], "metrics.json")?, "another seed, the same metrics.json");
    Ok(())
}

#[test]
fn resumed_run_matches_an_uninterrupted_one() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_primer_data(dir.path(), 300, 11)?;
    let config = dir.path().join("resume.toml");
    std::fs::write(
        &config,
        "seed = 3\n\n[data]\ninput = \"sequences.txt\"\nlabels = \"labels.txt\"\n\n[model]\nkind = \"primer\"\n\n\
         [train]\nepochs = 5\npatience = 0\nbatch_size = 32\n",
    )?;
    let (interrupted, uninterrupted) = (dir.path().join("a"), dir.path().join("b"));
    let whole = ["train", arg(&config)?, "--out", arg(&uninterrupted)?, "--quiet"];
    let whole_run = omix_spawn(dir.path(), &whole)?;

    let (_, stderr) =
        omix_ok(dir.path(), &["train", arg(&config)?, "--out", arg(&interrupted)?, "--quiet", "--stop-after", "2"])?;
    assert!(stderr.contains("stopped after 2 epochs"), "{stderr}");
    assert!(!interrupted.join("metrics.json").exists(), "an interrupted run wrote metrics.json");
    assert_eq!(tsv_lines(&interrupted.join("training_log.tsv"))?.len(), 3, "header and 2 epochs expected");

    let (_, stderr) =
        omix_ok(dir.path(), &["train", arg(&config)?, "--out", arg(&interrupted)?, "--quiet", "--resume"])?;
    assert!(stderr.contains("resuming after epoch 2"), "{stderr}");
    wait_ok(&whole, whole_run)?;

    let read = |run: &Path, name: &str| std::fs::read_to_string(run.join(name));
    assert_eq!(read(&interrupted, "metrics.json")?, read(&uninterrupted, "metrics.json")?);
    assert_eq!(read(&interrupted, "test_predictions.tsv")?, read(&uninterrupted, "test_predictions.tsv")?);
    assert_eq!(tsv_lines(&interrupted.join("training_log.tsv"))?.len(), 6, "header and 5 epochs expected");
    Ok(())
}

#[test]
fn fasta_per_class_run_then_evaluate_and_predict() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("pos.fa"), fasta("p", 150, Some(MOTIF), 1))?;
    std::fs::write(path("neg.fa"), fasta("n", 150, None, 2))?;
    let run = path("run");
    let (stdout, _) = omix_ok(
        dir.path(),
        &["train", "--class", "pos=pos.fa", "--class", "neg=neg.fa", "--epochs", "3", "--out", arg(&run)?, "--quiet"],
    )?;
    assert!(stdout.contains("test"), "{stdout}");
    let metrics = read_json(&run.join("metrics.json"))?;
    assert_eq!(metrics["class_names"], serde_json::json!(["neg", "pos"]));

    // New data: a FASTA file with its labels in a table keyed by record id.
    std::fs::write(path("new.fa"), fasta("x", 20, Some(MOTIF), 3) + &fasta("y", 20, None, 4))?;
    let mut labels = String::from("id\tlabel\n");
    for index in 0..20 {
        let _ = write!(labels, "x{index}\tpos\ny{index}\tneg\n");
    }
    std::fs::write(path("new_labels.tsv"), labels)?;
    let (stdout, stderr) = omix_ok(
        dir.path(),
        &["evaluate", arg(&run)?, "--input", "new.fa", "--labels", "new_labels.tsv", "-o", "evaluation.json"],
    )?;
    assert!(stdout.starts_with("40 examples:"), "{stdout}");
    assert!(stderr.contains("evaluation.json"), "{stderr}");
    let evaluation = read_json(&path("evaluation.json"))?;
    assert_eq!(evaluation["support"], 40, "{evaluation}");

    omix_ok(dir.path(), &["predict", arg(&run)?, "--input", "new.fa", "-o", "predictions.tsv"])?;
    // Shards of the records concatenate to the whole output.
    let mut parts = Vec::new();
    for i in 1..=3 {
        let part = path(&format!("part{i}.tsv"));
        omix_ok(
            dir.path(),
            &["predict", arg(&run)?, "--input", "new.fa", "--shard", &format!("{i}/3"), "-o", arg(&part)?],
        )?;
        parts.push(part);
    }
    assert_eq!(concatenated(&parts)?, std::fs::read_to_string(path("predictions.tsv"))?);
    let lines = tsv_lines(&path("predictions.tsv"))?;
    assert_eq!(lines[0], "id\tprobability_pos\tpredicted");
    assert_eq!(lines.len(), 41, "one row per record plus the header");
    let ids = (0..20).map(|i| format!("x{i}")).chain((0..20).map(|i| format!("y{i}")));
    for (line, id) in lines[1..].iter().zip(ids) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 3, "{line}");
        assert_eq!(fields[0], id);
        let probability: f64 = fields[1].parse()?;
        assert!((0.0..=1.0).contains(&probability), "{line}");
        assert!(fields[2] == "pos" || fields[2] == "neg", "{line}");
    }
    Ok(())
}

#[test]
fn table_run_then_evaluate_predict_and_pipe() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = |name: &str| dir.path().join(name);
    let mut random = Random(21);
    let mut table = |rows: usize| {
        let mut text = String::from("id\tdna\toutcome\n");
        for index in 0..rows {
            let bound = index % 2 == 0;
            let sequence = random.sequence(50, bound.then_some(MOTIF));
            let _ = writeln!(text, "r{index}\t{sequence}\t{}", if bound { "bound" } else { "unbound" });
        }
        text
    };
    std::fs::write(path("train.tsv"), table(300))?;
    std::fs::write(path("more.tsv"), table(60))?;
    let run = path("run");
    let columns = ["--seq-column", "dna", "--label-column", "outcome"];
    let mut train = vec!["train", "--input", "train.tsv", "--epochs", "3", "--out", arg(&run)?, "--quiet"];
    train.extend(columns);
    omix_ok(dir.path(), &train)?;
    let metrics = read_json(&run.join("metrics.json"))?;
    assert_eq!(metrics["class_names"], serde_json::json!(["unbound", "bound"]));

    let mut evaluate = vec!["evaluate", arg(&run)?, "--input", "more.tsv"];
    evaluate.extend(columns);
    let (stdout, _) = omix_ok(dir.path(), &evaluate)?;
    assert!(stdout.starts_with("60 examples: accuracy"), "{stdout}");

    omix_ok(
        dir.path(),
        &["predict", arg(&run)?, "--input", "more.tsv", "--seq-column", "dna", "-o", "predictions.tsv"],
    )?;
    let lines = tsv_lines(&path("predictions.tsv"))?;
    assert_eq!(lines[0], "id\tprobability_bound\tpredicted");
    assert_eq!(lines.len(), 61, "one row per record plus the header");
    assert!(lines[1].starts_with("r0\t"), "{}", lines[1]);

    // A reader that stops early (`| head`) is not an error: far more output than a pipe buffer.
    let big: String = (0..20_000).map(|_| random.sequence(50, None) + "\n").collect();
    std::fs::write(path("big.txt"), big)?;
    let script = r#""$0" predict "$1" --input big.txt 2>stderr.txt; echo $? >status.txt"#;
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("{{ {script}; }} | head -n 2"))
        .arg(env!("CARGO_BIN_EXE_omix"))
        .arg(&run)
        .current_dir(dir.path())
        .output()?;
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout)?;
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.starts_with("id\tprobability_bound\tpredicted\nline1\t"), "{stdout}");
    assert_eq!(std::fs::read_to_string(path("status.txt"))?.trim(), "0", "omix predict | head must exit 0");
    let stderr = std::fs::read_to_string(path("stderr.txt"))?;
    assert!(stderr.trim().is_empty(), "omix predict | head wrote to stderr: {stderr}");
    Ok(())
}

#[test]
fn three_classes_give_per_class_metrics() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut random = Random(31);
    let mut text = String::from("seq,class\n");
    for index in 0..300 {
        let (class, motif) = [("a", Some(MOTIF)), ("b", Some(OTHER_MOTIF)), ("c", None)][index % 3];
        let _ = writeln!(text, "{},{class}", random.sequence(50, motif));
    }
    std::fs::write(dir.path().join("three.csv"), text)?;
    let run = dir.path().join("run");
    omix_ok(dir.path(), &["train", "--input", "three.csv", "--epochs", "3", "--out", arg(&run)?, "--quiet"])?;
    let metrics = read_json(&run.join("metrics.json"))?;
    assert_eq!(metrics["task"], "multiclass");
    assert_eq!(metrics["class_names"], serde_json::json!(["a", "b", "c"]));
    for split in ["test", "validation"] {
        let per_class =
            metrics[split]["per_class"].as_array().ok_or_else(|| format!("no {split}.per_class: {metrics}"))?;
        let names: Vec<&str> = per_class.iter().filter_map(|entry| entry["class"].as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        for entry in per_class {
            for key in ["precision", "recall", "support"] {
                assert!(entry.get(key).is_some(), "per_class entry without {key}: {entry}");
            }
        }
        let matrix = metrics[split]["confusion_matrix"].as_array().ok_or("no confusion matrix")?;
        assert_eq!(matrix.len(), 3);
    }
    // Multi-class predictions have one probability column per class.
    let header = tsv_lines(&run.join("test_predictions.tsv"))?.remove(0);
    assert_eq!(header, "id\tlabel\tprobability_a\tprobability_b\tprobability_c\tpredicted");
    Ok(())
}

#[test]
fn existing_run_folder_is_refused_without_resume_or_force() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_primer_data(dir.path(), 100, 41)?;
    let run = dir.path().join("run");
    let train =
        ["train", "--input", "sequences.txt", "--labels", "labels.txt", "--epochs", "2", "--out", arg(&run)?, "-q"];
    omix_ok(dir.path(), &train)?;
    let before = std::fs::read(run.join("metrics.json"))?;

    let output = omix(dir.path(), &train).output()?;
    let stderr = String::from_utf8(output.stderr)?;
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("already exists; pass --resume to continue it, --force to replace it"),
        "unclear refusal: {stderr}"
    );
    assert!(stderr.contains(arg(&run)?), "the refusal does not name the folder: {stderr}");
    assert_eq!(std::fs::read(run.join("metrics.json"))?, before, "the refused run changed the folder");

    // A folder that is not a run is never replaced, even with --force.
    let other = dir.path().join("notes");
    std::fs::create_dir(&other)?;
    std::fs::write(other.join("keep.txt"), "mine")?;
    let mut forced = train.to_vec();
    forced[8] = arg(&other)?;
    forced.push("--force");
    let output = omix(dir.path(), &forced).output()?;
    let stderr = String::from_utf8(output.stderr)?;
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not an omix run folder"), "{stderr}");
    assert_eq!(std::fs::read_to_string(other.join("keep.txt"))?, "mine");

    // --force replaces a run folder.
    let mut forced = train.to_vec();
    forced.push("--force");
    omix_ok(dir.path(), &forced)?;
    assert!(run.join("metrics.json").is_file());
    Ok(())
}

#[test]
fn dense_kmer_model_trains_compares_with_its_baseline_and_predicts() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_primer_data(dir.path(), 300, 21)?;
    let run = dir.path().join("kmer");
    let args = [
        "train",
        "--input",
        "sequences.txt",
        "--labels",
        "labels.txt",
        "--model",
        "dense",
        "--epochs",
        "15",
        "--out",
        arg(&run)?,
        "--quiet",
    ];
    let (stdout, stderr) = omix_ok(dir.path(), &args)?;
    assert!(stderr.contains("6-mer"), "{stderr}");
    assert!(stdout.contains("baseline"), "{stdout}");
    let metrics = read_json(&run.join("metrics.json"))?;
    let comparison = &metrics["baseline"]["comparison"];
    assert_eq!(comparison["metric"], "AUROC", "{metrics}");
    for key in ["model", "baseline", "lower", "upper", "p_value", "model_beats_baseline"] {
        assert!(comparison.get(key).is_some(), "no baseline.comparison.{key}: {metrics}");
    }
    assert!(run.join("features.json").is_file());
    let (predictions, _) = omix_ok(dir.path(), &["predict", arg(&run)?, "--input", "sequences.txt"])?;
    assert_eq!(predictions.lines().count(), 301);
    Ok(())
}

/// A 60 × 8 expression-like matrix (no id column) with two cell types, and their labels.
fn write_matrix_data(dir: &Path) -> std::io::Result<()> {
    let mut random = Random(5);
    let mut matrix = String::from("g1,g2,g3,g4,g5,g6,g7,g8\n");
    let mut labels = String::from("index,cell_type\n");
    for row in 0..60 {
        let kind = row % 2;
        let values: Vec<String> = (0..8)
            .map(|gene| {
                let signal = if (gene < 4) == (kind == 0) { 3.0 } else { 0.0 };
                format!("{:.3}", signal + random.below(1000) as f64 / 1000.0)
            })
            .collect();
        matrix.push_str(&values.join(","));
        matrix.push('\n');
        labels.push_str(&format!("cell{row},{}\n", if kind == 0 { "B" } else { "T" }));
    }
    std::fs::write(dir.join("x.csv"), matrix)?;
    std::fs::write(dir.join("obs.csv"), labels)
}

#[test]
fn autoencoder_embeds_a_matrix_and_scores_it_beside_pca() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_matrix_data(dir.path())?;
    let config = dir.path().join("ae.toml");
    std::fs::write(
        &config,
        "[data]\nformat = \"matrix\"\ninput = \"x.csv\"\nlabels = \"obs.csv\"\nlabel_column = \"cell_type\"\n\n\
         [model]\nkind = \"autoencoder\"\nhidden = [8]\nlatent = 2\n\n[train]\nepochs = 20\nbatch_size = 8\n",
    )?;
    let run = dir.path().join("ae");
    let (stdout, _) = omix_ok(dir.path(), &["train", arg(&config)?, "--out", arg(&run)?, "--quiet"])?;
    assert!(stdout.contains("reconstruction mse"), "{stdout}");
    let metrics = read_json(&run.join("metrics.json"))?;
    assert!(metrics["test"]["reconstruction_error"].as_f64().is_some(), "{metrics}");
    assert_eq!(metrics["baseline"]["comparison"]["metric"], "mean reconstruction error", "{metrics}");
    let latent = dir.path().join("latent.tsv");
    let args = [
        "embed",
        arg(&run)?,
        "--input",
        "x.csv",
        "-o",
        arg(&latent)?,
        "--labels",
        "obs.csv",
        "--label-column",
        "cell_type",
        "--knn",
        "5",
    ];
    let (stdout, _) = omix_ok(dir.path(), &args)?;
    assert!(stdout.contains("autoencoder latent (2 dimensions)") && stdout.contains("PCA (2 components"), "{stdout}");
    let lines = tsv_lines(&latent)?;
    assert_eq!(lines.len(), 61);
    assert_eq!(lines[0], "id\tlatent1\tlatent2");
    assert!(lines[1].starts_with("cell0\t"), "{}", lines[1]);
    // The report covers matrix runs too; attributions do not apply and say why.
    assert!(run.join("report.html").is_file());
    let output = omix(dir.path(), &["explain", arg(&run)?, "--input", "x.csv", "-o", "x"]).output()?;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("one-hot sequences") && !stderr.contains("panicked"), "{stderr}");
    Ok(())
}

#[test]
fn regression_and_multitask_runs_report_per_task_metrics() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut random = Random(9);
    let mut table = String::from("id\tseq\tbound_a\tbound_b\tsignal\n");
    for row in 0..240 {
        let (a, b) = (row % 2 == 0, row % 3 == 0);
        let mut sequence = random.sequence(50, a.then_some(MOTIF));
        if b {
            let start = if a { 0 } else { 20 };
            sequence.replace_range(start..start + OTHER_MOTIF.len(), OTHER_MOTIF);
        }
        let has_a = sequence.contains(MOTIF);
        let signal = 2.0 * f64::from(u8::from(has_a)) + random.below(100) as f64 / 100.0;
        let _ = writeln!(table, "s{row}\t{sequence}\t{}\t{}\t{signal:.2}", u8::from(has_a), u8::from(b));
    }
    std::fs::write(dir.path().join("data.tsv"), table)?;
    let train = |name: &str, extra: &str| -> Result<(String, Value), Box<dyn std::error::Error>> {
        let config = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!(
                "[data]\ninput = \"data.tsv\"\n{extra}\n[model]\nkind = \"cnn\"\nglobal_pool = \"max\"\n\
                 [[model.conv]]\nfilters = 16\nwidth = 12\n\n[train]\nepochs = 8\nlearning_rate = 0.01\n"
            ),
        )?;
        let run = dir.path().join(name);
        let (stdout, _) = omix_ok(dir.path(), &["train", arg(&config)?, "--out", arg(&run)?, "--quiet"])?;
        Ok((stdout, read_json(&run.join("metrics.json"))?))
    };
    let (stdout, metrics) = train("multi", "label_columns = [\"bound_a\", \"bound_b\"]")?;
    assert!(stdout.contains("bound_a") && stdout.contains("bound_b"), "{stdout}");
    for key in ["macro_auroc", "median_auroc", "macro_auprc", "median_auprc", "per_task"] {
        assert!(metrics["test"].get(key).is_some(), "no test.{key}: {metrics}");
    }
    let (stdout, metrics) = train("regression", "label_columns = [\"signal\"]\ntask = \"regression\"")?;
    assert!(stdout.contains("Pearson"), "{stdout}");
    let pearson = metrics["test"]["mean_pearson"].as_f64().ok_or("no test Pearson")?;
    assert!(pearson > 0.5, "test Pearson {pearson}");
    let predictions = tsv_lines(&dir.path().join("regression").join("test_predictions.tsv"))?;
    assert_eq!(predictions[0], "id\ttarget\tprediction_signal");
    Ok(())
}

/// A three-contig genome (one contig per split) with `MOTIF` planted every 200 bp; returns the
/// contigs and the planted starts per contig.
/// A contig's name, its sequence and where the motif was planted.
type Contig = (String, String, Vec<usize>);

fn write_genome(dir: &Path) -> Result<Vec<Contig>, Box<dyn std::error::Error>> {
    let mut random = Random(77);
    let mut contigs = Vec::new();
    let (mut fasta, mut bed) = (String::new(), String::new());
    for name in ["chrA", "chrB", "chrC"] {
        let mut bases: Vec<u8> = random.sequence(12_000, None).into_bytes();
        let mut starts = Vec::new();
        let mut position = 100;
        while position + 100 < bases.len() {
            bases[position..position + MOTIF.len()].copy_from_slice(MOTIF.as_bytes());
            let _ = writeln!(bed, "{name}\t{}\t{}", position, position + MOTIF.len());
            starts.push(position);
            position += 200;
        }
        let sequence = String::from_utf8(bases)?;
        let _ = writeln!(fasta, ">{name} synthetic");
        for line in sequence.as_bytes().chunks(70) {
            let _ = writeln!(fasta, "{}", std::str::from_utf8(line)?);
        }
        contigs.push((name.to_string(), sequence, starts));
    }
    std::fs::write(dir.join("genome.fa"), fasta)?;
    std::fs::write(dir.join("sites.bed"), bed)?;
    std::fs::write(
        dir.join("genome.toml"),
        "seed = 5\n\n[data]\nlength = 60\n\n[data.genome]\nreference = \"genome.fa\"\n\
         classes = [{ label = \"bound\", path = \"sites.bed\" }]\nbackground = 1\n\
         validation_chromosomes = [\"chrB\"]\ntest_chromosomes = [\"chrC\"]\n\n\
         [model]\nkind = \"cnn\"\nglobal_pool = \"max\"\ndense = [16]\n\n[[model.conv]]\nfilters = 16\nwidth = 12\n\n\
         [train]\nepochs = 40\npatience = 0\nlearning_rate = 0.01\nbatch_size = 16\nreverse_complement_augment = true\n\
         reverse_complement_average = true\n",
    )?;
    Ok(contigs)
}

/// `cat` of files, in order.
fn concatenated(paths: &[PathBuf]) -> Result<String, Box<dyn std::error::Error>> {
    let mut text = String::new();
    for path in paths {
        text.push_str(&std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    Ok(text)
}

#[test]
fn genome_windows_train_predict_tracks_and_score_variants() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = |name: &str| dir.path().join(name);
    let contigs = write_genome(dir.path())?;
    let run = path("run");
    let (stdout, stderr) =
        omix_ok(dir.path(), &["train", "genome.toml", "--out", arg(&run)?, "--quiet", "--no-report"])?;
    assert!(stderr.contains("FASTA index") && stderr.contains("in memory"), "{stderr}");
    assert!(stderr.contains("chromosome hold-out: validation chrB, test chrC; overlapping windows across splits: 0"));
    let report = read_json(&run.join("data_report.json"))?;
    assert_eq!(report["genome"]["cross_split_overlaps"], 0, "{report}");
    let auroc = read_json(&run.join("metrics.json"))?["test"]["auroc"].as_f64().ok_or("no auroc")?;
    assert!(auroc > 0.9, "test AUROC {auroc}\n{stdout}");
    // Every test example lies on the test contig.
    for line in tsv_lines(&run.join("split_manifest.tsv"))?.iter().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let expected = match fields[1] {
            "train" => "chrA",
            "validation" => "chrB",
            _ => "chrC",
        };
        assert!(fields[0].starts_with(expected), "{line}");
    }

    // Tracks: tiles over the test contig, whole and in three shards that concatenate to it.
    std::fs::write(path("chrC.bed"), "chrC\t0\t12000\n")?;
    let track = |out: &Path, shard: Option<&str>| -> TestResult {
        let mut args = vec!["predict", arg(&run)?, "--reference", "genome.fa", "--tile", "30", "--bed", "chrC.bed"];
        args.extend(["-o", arg(out)?]);
        if let Some(shard) = shard {
            args.extend(["--shard", shard]);
        }
        omix_ok(dir.path(), &args)?;
        Ok(())
    };
    track(&path("whole.bedgraph"), None)?;
    let parts: Vec<PathBuf> = (1..=3).map(|i| path(&format!("part{i}.bedgraph"))).collect();
    for (i, part) in parts.iter().enumerate() {
        track(part, Some(&format!("{}/3", i + 1)))?;
    }
    let whole = std::fs::read_to_string(path("whole.bedgraph"))?;
    assert_eq!(concatenated(&parts)?, whole, "sharded tracks differ from the whole track");
    assert!(whole.starts_with("track type=bedGraph"), "{whole}");
    assert_eq!(whole.lines().count(), 1 + (12_000 - 60) / 30 + 1);

    // Variants: motif-breaking SNVs on chrC, random SNVs, an insertion, a deletion, a
    // multi-allelic record and a REF mismatch.
    let (_, chr_c, starts) = &contigs[2];
    let base = |i: usize| chr_c.as_bytes()[i] as char;
    let mut vcf = String::from("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n");
    for (k, start) in starts.iter().take(20).enumerate() {
        // Four motif bases replaced at once (an MNV): the site is gone.
        let at = start + 4;
        let reference: String = (at..at + 4).map(base).collect();
        let alt: String = reference
            .chars()
            .map(|b| match b {
                'A' => 'T',
                'C' => 'G',
                'G' => 'C',
                _ => 'A',
            })
            .collect();
        let _ = writeln!(vcf, "chrC\t{}\tbreak{k}\t{reference}\t{alt}\t.\tPASS\t.", at + 1);
        let random = start + 60;
        let alt = if base(random) == 'G' { 'C' } else { 'G' };
        let _ = writeln!(vcf, "chrC\t{}\trandom{k}\t{}\t{alt}\t.\tPASS\t.", random + 1, base(random));
    }
    let _ = writeln!(vcf, "chrC\t9001\tins\t{}\t{}GG\t.\tPASS\t.", base(9000), base(9000));
    let _ = writeln!(vcf, "chrC\t9501\tdel\t{}{}{}\t{}\t.\tPASS\t.", base(9500), base(9501), base(9502), base(9500));
    let _ =
        writeln!(vcf, "chrC\t9801\tmulti\t{}\tA,C\t.\tPASS\tDP=3", if base(9800) == 'G' { 'G' } else { base(9800) });
    let wrong = if base(9900) == 'A' { 'C' } else { 'A' };
    let _ = writeln!(vcf, "chrC\t9901\tmismatch\t{wrong}\tG\t.\tPASS\t.");
    std::fs::write(path("variants.vcf"), &vcf)?;
    let score = |out: &str, extra: &[&str]| -> Result<(String, String), Box<dyn std::error::Error>> {
        let mut args =
            vec!["score-variants", arg(&run)?, "--vcf", "variants.vcf", "--reference", "genome.fa", "-o", out];
        args.extend(extra);
        omix_ok(dir.path(), &args)
    };
    // A REF mismatch stops the run by default, naming the record, and leaves no partial output.
    let output = omix(
        dir.path(),
        &["score-variants", arg(&run)?, "--vcf", "variants.vcf", "--reference", "genome.fa", "-o", "strict"],
    )
    .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("variants.vcf:") && stderr.contains("--on-mismatch skip"),
        "{stderr}"
    );
    assert!(!path("strict.tsv.partial").exists() && !path("strict.tsv").exists());

    let (_, stderr) = score(arg(&path("all"))?, &["--on-mismatch", "skip"])?;
    assert!(stderr.contains("reference_mismatch 1"), "{stderr}");
    let tsv = tsv_lines(&path("all.tsv"))?;
    assert_eq!(tsv.len(), 1 + 40 + 2 + 2, "header, 20 MNVs, 20 SNVs, 2 indels, 2 alleles of the multi-allelic record");
    let diffs = |prefix: &str| -> Vec<f64> {
        tsv.iter()
            .filter(|l| l.split('\t').nth(2).is_some_and(|id| id.starts_with(prefix)))
            .filter_map(|l| l.split('\t').nth(8)?.parse().ok())
            .collect()
    };
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (broken, random) = (mean(diffs("break")), mean(diffs("random")));
    assert!(broken < random - 0.1, "breaking the motif should lower the score: {broken} vs {random}");
    let vcf_out = std::fs::read_to_string(path("all.vcf"))?;
    assert!(vcf_out.contains("##INFO=<ID=OMIX_bound_DIFF") && vcf_out.contains("DP=3;OMIX_ALT_INDEX=2"), "{vcf_out}");

    // Shards concatenate to the unsharded output.
    for n in [2, 3] {
        let mut tsvs = Vec::new();
        let mut vcfs = Vec::new();
        for i in 1..=n {
            let prefix = path(&format!("shard{i}of{n}"));
            score(arg(&prefix)?, &["--on-mismatch", "skip", "--shard", &format!("{i}/{n}")])?;
            tsvs.push(PathBuf::from(format!("{}.tsv", prefix.display())));
            vcfs.push(PathBuf::from(format!("{}.vcf", prefix.display())));
        }
        assert_eq!(concatenated(&tsvs)?, std::fs::read_to_string(path("all.tsv"))?, "{n} TSV shards");
        assert_eq!(concatenated(&vcfs)?, vcf_out, "{n} VCF shards");
    }

    // Killed half-way (stopped after 10 records, checkpoints every 4), then resumed: same output.
    let prefix = arg(&path("resumed"))?.to_string();
    let (_, stderr) = score(&prefix, &["--on-mismatch", "skip", "--batch-size", "4", "--stop-after", "10"])?;
    assert!(stderr.contains("stopped after 12 records"), "{stderr}");
    assert!(path("resumed.progress.json").exists() && !path("resumed.tsv").exists());
    let (_, stderr) = score(&prefix, &["--on-mismatch", "skip", "--batch-size", "4"])?;
    assert!(stderr.contains("resuming: 12 of 44 records"), "{stderr}");
    assert_eq!(std::fs::read_to_string(path("resumed.tsv"))?, std::fs::read_to_string(path("all.tsv"))?);
    assert_eq!(std::fs::read_to_string(path("resumed.vcf"))?, vcf_out);
    assert!(!path("resumed.progress.json").exists());

    // Contig names that the reference lacks are reported up front with both sides' names.
    std::fs::write(path("renamed.vcf"), vcf.replace("chrC\t", "C\t"))?;
    let output = omix(
        dir.path(),
        &["score-variants", arg(&run)?, "--vcf", "renamed.vcf", "--reference", "genome.fa", "-o", "x"],
    )
    .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains('C') && stderr.contains("chrA"), "{stderr}");
    Ok(())
}

#[test]
fn tracks_turns_reads_into_bigwigs() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../omix-tracks/tests/data");
    let bam = data.join("synthetic.bam");
    let (stdout, stderr) =
        omix_ok(dir.path(), &["tracks", arg(&bam)?, "-o", "out/chip.bw", "--stranded", "--min-mapq", "30"])?;
    assert_eq!(stdout.lines().collect::<Vec<_>>(), vec!["out/chip.plus.bw", "out/chip.minus.bw"]);
    assert!(stderr.contains("6000 records") && stderr.contains("below the mapping quality threshold"), "{stderr}");
    for name in ["chip.plus.bw", "chip.minus.bw"] {
        assert_eq!(&std::fs::read(dir.path().join("out").join(name))?[..4], &[0x26, 0xfc, 0x8f, 0x88]);
    }
    std::fs::write(dir.path().join("g.sizes"), "chr1\t30000\nchr2\t30000\n")?;
    let fragments = data.join("synthetic.fragments.tsv.gz");
    let (stdout, stderr) = omix_ok(
        dir.path(),
        &["tracks", arg(&fragments)?, "-o", "atac.bw", "--assay", "atac", "--chrom-sizes", "g.sizes"],
    )?;
    assert_eq!(stdout.trim(), "atac.bw");
    assert!(stderr.contains("3000 records, 3000 counted; shift +0/+1 (atac)"), "{stderr}");
    Ok(())
}

#[test]
fn chrombpnet_trains_its_bias_model_first_and_predicts_corrected_tracks() -> TestResult {
    let dir = tempfile::tempdir()?;
    omix_ok(dir.path(), &["simulate-tracks", "--assay", "atac", "--out", "sim", "--small", "--seed", "6"])?;
    std::fs::write(
        dir.path().join("chrombpnet.toml"),
        "seed = 2\n[tracks]\nreference = \"sim/genome.fa\"\npeaks = \"sim/peaks.narrowPeak\"\ninput_length = 300\n\
         output_length = 200\njitter = 8\nbackground = 1\nvalidation_chromosomes = [\"chr2\"]\ntest_chromosomes = []\n\
         [[tracks.task]]\nname = \"atac\"\nunstranded = \"sim/counts.bw\"\n\
         [model]\nfilters = 8\nlayers = 2\n[bias]\nfilters = 4\nlayers = 1\nepochs = 3\n[train]\nepochs = 2\nbatch_size = 32\n\
         [[footprint]]\nname = \"GATA\"\nsequence = \"AGATAAGA\"\n",
    )?;
    let (_, stderr) = omix_ok(dir.path(), &["train", "chrombpnet.toml", "--dry-run"])?;
    assert!(stderr.contains("bias model: 4 filters x 1 layers on background below"), "{stderr}");
    // --epochs caps the bias model's epochs too.
    let (stdout, stderr) = omix_ok(dir.path(), &["train", "chrombpnet.toml", "--out", "run", "--epochs", "1"])?;
    assert!(stderr.contains("(ChromBPNet bias model)"), "{stderr}");
    assert!(stderr.contains("epoch   1/1"), "{stderr}");
    assert!(stdout.contains("bias model:") && stdout.contains("JASPAR"), "{stdout}");
    for file in [
        "bias/model.bpk",
        "bias/metrics.json",
        "bias/filters.tsv",
        "model.bpk",
        "footprints.json",
        "profile_examples.json",
        "report.html",
    ] {
        assert!(dir.path().join("run").join(file).exists(), "{file} missing");
    }
    let (stdout, _) = omix_ok(
        dir.path(),
        &["predict", "run", "--reference", "sim/genome.fa", "--bed", "sim/peaks.narrowPeak", "-o", "pred.bw"],
    )?;
    assert_eq!(stdout.lines().collect::<Vec<_>>(), vec!["pred.bw", "pred.with_bias.bw"]);
    assert_ne!(std::fs::read(dir.path().join("pred.bw"))?, std::fs::read(dir.path().join("pred.with_bias.bw"))?);
    Ok(())
}

#[test]
fn profile_experiment_from_simulated_reads() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (stdout, _) = omix_ok(dir.path(), &["simulate-tracks", "--out", "sim", "--small", "--seed", "4"])?;
    assert!(stdout.lines().any(|l| l == "sim/reads.bam"), "{stdout}");
    // The BAM counted again gives the simulator's tracks back.
    omix_ok(
        dir.path(),
        &["tracks", "sim/reads.bam", "-o", "again/c.bw", "--stranded", "--reference", "sim/genome.fa"],
    )?;
    assert_eq!(
        std::fs::read(dir.path().join("again/c.plus.bw"))?,
        std::fs::read(dir.path().join("sim/counts.plus.bw"))?
    );
    std::fs::write(
        dir.path().join("bpnet.toml"),
        "seed = 2\n[tracks]\nreference = \"sim/genome.fa\"\npeaks = \"sim/peaks.narrowPeak\"\ninput_length = 300\n\
         output_length = 200\njitter = 8\nvalidation_chromosomes = [\"chr2\"]\ntest_chromosomes = []\n\
         [[tracks.task]]\nname = \"chip\"\nplus = \"sim/counts.plus.bw\"\nminus = \"sim/counts.minus.bw\"\n\
         [model]\nfilters = 8\nlayers = 2\n[train]\nepochs = 2\nbatch_size = 32\n",
    )?;
    let (stdout, _) = omix_ok(dir.path(), &["train", "bpnet.toml", "--dry-run"])?;
    assert!(stdout.contains("trainable parameters"), "{stdout}");
    assert!(!dir.path().join("runs").exists());
    let (stdout, stderr) = omix_ok(dir.path(), &["train", "bpnet.toml", "--out", "run", "--quiet"])?;
    assert!(stdout.contains("validation loss") && stdout.contains("peaks chip: JSD"), "{stdout}");
    assert!(stderr.contains("count loss weight"), "{stderr}");
    let metrics = read_json(&dir.path().join("run/metrics.json"))?;
    assert!(metrics["validation"]["peaks"]["chip"]["median_jsd"].as_f64().is_some());
    // Predicted counts along the peaks as stranded bigWigs; tiles that overlap are averaged.
    let (stdout, _) = omix_ok(
        dir.path(),
        &[
            "predict",
            "run",
            "--reference",
            "sim/genome.fa",
            "--bed",
            "sim/peaks.narrowPeak",
            "--tile",
            "50",
            "-o",
            "pred.bw",
        ],
    )?;
    assert_eq!(stdout.lines().collect::<Vec<_>>(), vec!["pred.plus.bw", "pred.minus.bw"]);
    for name in ["pred.plus.bw", "pred.minus.bw"] {
        assert_eq!(&std::fs::read(dir.path().join(name))?[..4], &[0x26, 0xfc, 0x8f, 0x88]);
    }
    // A flag that means nothing here is refused.
    let output = omix(dir.path(), &["train", "bpnet.toml", "--out", "run2", "--no-baseline"]).output()?;
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--no-baseline do(es) not apply to a [tracks] experiment")
    );
    Ok(())
}
