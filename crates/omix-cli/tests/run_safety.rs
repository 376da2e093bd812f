//! Issue 11: omix never deletes or writes into a folder it did not make, never overwrites its
//! inputs, and refuses a run folder whose files disagree instead of panicking or predicting
//! nonsense. Each test runs the `omix` binary as a user would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn omix(dir: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_omix")).args(args).current_dir(dir).env_remove("RUST_BACKTRACE").output()
}

fn ok(dir: &Path, args: &[&str]) -> Result<(String, String), Box<dyn std::error::Error>> {
    let output = omix(dir, args)?;
    let (stdout, stderr) = (String::from_utf8(output.stdout)?, String::from_utf8(output.stderr)?);
    if !output.status.success() {
        return Err(format!("omix {} failed ({}):\n{stderr}", args.join(" "), output.status).into());
    }
    Ok((stdout, stderr))
}

fn fails(dir: &Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let output = omix(dir, args)?;
    let stderr = String::from_utf8(output.stderr)?;
    if output.status.success() {
        return Err(format!("omix {} succeeded but should have failed", args.join(" ")).into());
    }
    if stderr.contains("panicked") || output.status.code() == Some(101) {
        return Err(format!("omix {} panicked:\n{stderr}", args.join(" ")).into());
    }
    Ok(stderr)
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> std::io::Result<BTreeMap<PathBuf, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path)?);
            }
        }
    }
    Ok(files)
}

/// 120 random 30-bp sequences (one per line) with 0/1 labels.
fn write_data(dir: &Path) -> std::io::Result<()> {
    let (mut sequences, mut labels) = (String::new(), String::new());
    let mut state = 11u64;
    for index in 0..120 {
        for _ in 0..30 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            sequences.push(b"ACGT"[(state >> 62) as usize] as char);
        }
        sequences.push('\n');
        labels.push_str(if index % 2 == 0 { "1\n" } else { "0\n" });
    }
    std::fs::write(dir.join("sequences.txt"), sequences)?;
    std::fs::write(dir.join("labels.txt"), labels)
}

const TRAIN: &[&str] = &[
    "train",
    "--input",
    "sequences.txt",
    "--labels",
    "labels.txt",
    "--epochs",
    "1",
    "--no-baseline",
    "--no-report",
    "--quiet",
    "--out",
];

fn train_args<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = TRAIN.to_vec();
    args.push(out);
    args.extend_from_slice(extra);
    args
}

#[test]
fn force_and_resume_never_touch_a_folder_omix_did_not_make() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_data(dir.path())?;
    // A user's project folder that happens to hold a config.toml, and one without.
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("src"))?;
    std::fs::write(project.join("config.toml"), "[package]\nname = \"mine\"\n")?;
    std::fs::write(project.join("src").join("main.rs"), "fn main() {}\n")?;
    std::fs::write(project.join("data.csv"), "a,b\n1,2\n")?;
    let plain = dir.path().join("plain");
    std::fs::create_dir(&plain)?;
    std::fs::write(plain.join("notes.txt"), "keep me")?;
    let before = snapshot(dir.path())?;
    for (folder, extra) in
        [("project", "--force"), ("project", "--resume"), ("plain", "--force"), ("plain", "--resume")]
    {
        let stderr = fails(dir.path(), &train_args(folder, &[extra]))?;
        assert!(stderr.contains("is not an omix run folder"), "{folder} {extra}: {stderr}");
        assert!(stderr.contains("omix-run.json"), "{stderr}");
    }
    let stderr = fails(dir.path(), &train_args("project", &[]))?;
    assert!(stderr.contains("older omix"), "a folder with a config.toml gets the hint: {stderr}");
    let stderr = fails(dir.path(), &["quickstart", "--out", "plain", "--quiet"])?;
    assert!(stderr.contains("is not an omix run folder"), "{stderr}");
    assert_eq!(snapshot(dir.path())?, before, "a folder omix did not make was changed");
    Ok(())
}

#[test]
fn force_removes_only_what_omix_wrote() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_data(dir.path())?;
    ok(dir.path(), &train_args("run", &[]))?;
    assert!(dir.path().join("run/omix-run.json").exists());
    std::fs::write(dir.path().join("run/my_notes.txt"), "mine")?;
    let stderr = fails(dir.path(), &train_args("run", &[]))?;
    assert!(stderr.contains("--resume") && stderr.contains("--force"), "{stderr}");
    let (_, stderr) = ok(dir.path(), &train_args("run", &["--force"]))?;
    assert!(stderr.contains("kept 1") && stderr.contains("my_notes.txt"), "{stderr}");
    assert_eq!(std::fs::read_to_string(dir.path().join("run/my_notes.txt"))?, "mine");
    assert!(dir.path().join("run/model.bpk").exists());
    // A forged marker cannot send --force outside the folder.
    std::fs::write(dir.path().join("victim.txt"), "x")?;
    std::fs::write(
        dir.path().join("run/omix-run.json"),
        r#"{"format": "omix-run", "version": 1, "written_by": "x", "owned": ["../victim.txt", "model.bpk"]}"#,
    )?;
    ok(dir.path(), &train_args("run", &["--force"]))?;
    assert!(dir.path().join("victim.txt").exists());
    Ok(())
}

#[test]
fn outputs_that_are_inputs_are_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_data(dir.path())?;
    ok(dir.path(), &train_args("run", &[]))?;
    std::fs::hard_link(dir.path().join("sequences.txt"), dir.path().join("linked.txt"))?;
    let before = snapshot(dir.path())?;
    for output in ["sequences.txt", "./sequences.txt", "linked.txt", "run/model.bpk", "run/config.toml"] {
        let stderr = fails(dir.path(), &["predict", "run", "--input", "sequences.txt", "-o", output])?;
        assert!(
            stderr.contains("refusing to write") && stderr.contains("that is the same file as"),
            "{output}: {stderr}"
        );
    }
    assert_eq!(snapshot(dir.path())?, before, "an input was changed");
    Ok(())
}

#[test]
fn a_run_folder_whose_files_disagree_is_refused_clearly() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_data(dir.path())?;
    ok(dir.path(), &train_args("run", &[]))?;
    let schema_path = dir.path().join("run/schema.json");
    let schema = std::fs::read_to_string(&schema_path)?;
    let edits = [
        schema.replace("\"dna\"", "\"protein\""),
        schema.replace("\"binary\"", "\"multiclass\"").replace("\"1\"", "\"1\", \"2\""),
        schema.replace("\"length\": 30", "\"length\": 20"),
    ];
    for edited in edits {
        assert_ne!(edited, schema);
        std::fs::write(&schema_path, &edited)?;
        for command in [
            &["predict", "run", "--input", "sequences.txt"][..],
            &["evaluate", "run", "--input", "sequences.txt", "--labels", "labels.txt"],
        ] {
            let stderr = fails(dir.path(), command)?;
            assert!(stderr.contains("features.json") && stderr.contains("schema.json"), "{stderr}");
        }
    }
    Ok(())
}

#[test]
fn predict_streams_and_shards_concatenate_to_the_whole() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_data(dir.path())?;
    ok(dir.path(), &train_args("run", &[]))?;
    let (whole, _) = ok(dir.path(), &["predict", "run", "--input", "sequences.txt", "--batch-size", "7"])?;
    let (big_batches, _) = ok(dir.path(), &["predict", "run", "--input", "sequences.txt"])?;
    assert_eq!(whole, big_batches);
    assert_eq!(whole.lines().count(), 121);
    let mut joined = String::new();
    for shard in ["1/4", "2/4", "3/4", "4/4"] {
        joined.push_str(
            &ok(dir.path(), &["predict", "run", "--input", "sequences.txt", "--shard", shard, "--batch-size", "5"])?.0,
        );
    }
    assert_eq!(joined, whole);
    // A bad record part-way: the error names it, and -o leaves no half-written file.
    let mut text = std::fs::read_to_string(dir.path().join("sequences.txt"))?;
    text.push_str("ACGTXACGTACGTACGTACGTACGTACGTA\n");
    std::fs::write(dir.path().join("bad.txt"), text)?;
    let stderr = fails(dir.path(), &["predict", "run", "--input", "bad.txt", "-o", "out.tsv"])?;
    assert!(stderr.contains("bad.txt:121"), "{stderr}");
    assert!(!dir.path().join("out.tsv").exists());
    Ok(())
}

#[test]
fn results_do_not_depend_on_the_thread_count() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_data(dir.path())?;
    // The primer (omix's own CNN kernels, gradients summed over fixed-size chunks) and an LSTM
    // (burn's kernels). The folders differ only in timings and in burn's random parameter ids.
    for model in ["primer", "lstm"] {
        let mut results = Vec::new();
        for threads in ["1", "2", "3"] {
            let out = format!("run-{model}-{threads}");
            let mut args = vec!["--threads", threads];
            args.extend(train_args(&out, &["--model", model, "--batch-size", "30"]));
            ok(dir.path(), &args)?;
            let read = |name: &str| std::fs::read_to_string(dir.path().join(&out).join(name));
            results.push((read("metrics.json")?, read("test_predictions.tsv")?));
        }
        assert!(
            results.windows(2).all(|pair| pair[0] == pair[1]),
            "{model}: results differ between 1, 2 and 3 threads"
        );
    }
    Ok(())
}

#[test]
fn resume_refuses_data_that_changed_since_the_kill() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_data(dir.path())?;
    let mut args: Vec<&str> = TRAIN.iter().copied().filter(|arg| *arg != "--epochs" && *arg != "1").collect();
    args.extend(["run", "--epochs", "3", "--stop-after", "1"]);
    ok(dir.path(), &args)?;
    let labels = std::fs::read_to_string(dir.path().join("labels.txt"))?;
    // One label flipped: same number of records, same classes.
    let flipped = labels.replacen("1\n", "0\n", 1);
    std::fs::write(dir.path().join("labels.txt"), &flipped)?;
    let checkpoint = snapshot(&dir.path().join("run"))?;
    let stderr = fails(dir.path(), &["train", "--resume", "--out", "run", "--quiet", "--no-report"])?;
    assert!(stderr.contains("the training data changed since this run started"), "{stderr}");
    assert_eq!(snapshot(&dir.path().join("run"))?, checkpoint, "a refused resume changed the run folder");
    // With the data restored, the run resumes and finishes.
    std::fs::write(dir.path().join("labels.txt"), &labels)?;
    let (_, stderr) = ok(dir.path(), &["train", "--resume", "--out", "run", "--quiet", "--no-report"])?;
    assert!(stderr.contains("run folder"), "{stderr}");
    Ok(())
}
