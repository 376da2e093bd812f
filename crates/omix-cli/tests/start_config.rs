//! Issue 18: starting a config of one's own and checking it before training — `omix init`
//! templates, `omix train --dry-run` (and `omix check`), `--set KEY=VALUE`, shell completions.
//! Each test runs the `omix` binary as a user would.

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

/// Every file and folder under `dir`, with the bytes of files.
fn snapshot(dir: &Path) -> std::io::Result<BTreeMap<PathBuf, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                files.insert(path.clone(), Vec::new());
                pending.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path)?);
            }
        }
    }
    Ok(files)
}

/// The repository root (the example data are under it).
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `data/seqs.txt` and `data/labels.txt` (160 random 40-bp sequences, the second half with a
/// planted motif) and `configs/cnn.toml` reading them, under `dir`.
fn write_experiment(dir: &Path) -> std::io::Result<PathBuf> {
    let (mut sequences, mut labels) = (String::new(), String::new());
    let mut state = 7u64;
    for index in 0..160 {
        let mut sequence = String::new();
        for _ in 0..40 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            sequence.push(b"ACGT"[(state >> 62) as usize] as char);
        }
        if index % 2 == 1 {
            sequence.replace_range(10..18, "GGAAGTGA");
        }
        sequences.push_str(&sequence);
        sequences.push('\n');
        labels.push_str(if index % 2 == 1 { "1\n" } else { "0\n" });
    }
    std::fs::create_dir_all(dir.join("data"))?;
    std::fs::create_dir_all(dir.join("configs"))?;
    std::fs::write(dir.join("data/seqs.txt"), sequences)?;
    std::fs::write(dir.join("data/labels.txt"), labels)?;
    let config = dir.join("configs/cnn.toml");
    std::fs::write(
        &config,
        "[data]\ninput = \"../data/seqs.txt\"\nlabels = \"../data/labels.txt\"\n[model]\nkind = \"cnn\"\nglobal_pool = \"max\"\ndense = [8]\n[[model.conv]]\nfilters = 8\nwidth = 6\npadding = \"same\"\n[train]\nepochs = 3\nbaseline = false\n",
    )?;
    Ok(config)
}

/// The trainable-parameter count a dry run prints.
fn parameters(stdout: &str) -> Option<usize> {
    stdout.lines().find_map(|line| line.strip_prefix("trainable parameters: ")?.trim().parse().ok())
}

#[test]
fn set_changes_nested_keys_and_array_entries() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_experiment(dir.path())?;
    let (plain, _) = ok(dir.path(), &["train", "configs/cnn.toml", "--dry-run"])?;
    let (set, _) = ok(
        dir.path(),
        &["train", "configs/cnn.toml", "--dry-run", "--set", "model.conv.0.filters=16", "--set", "model.dense=[4]"],
    )?;
    // 8 filters of 4x6 (+8), dense 8 (+8), output 1 (+1) = 281; 16 filters and dense 4 = 489.
    assert_eq!(parameters(&plain), Some(8 * 4 * 6 + 8 + 8 * 8 + 8 + 8 + 1), "{plain}");
    assert_eq!(parameters(&set), Some(16 * 4 * 6 + 16 + 16 * 4 + 4 + 4 + 1), "{set}");
    // A new array entry, a value that is not TOML (a string), and a nested table.
    let (_, stderr) = ok(
        dir.path(),
        &[
            "check",
            "configs/cnn.toml",
            "--set",
            "model.conv.1.filters=4",
            "--set",
            "model.conv.1.width=3",
            "--set",
            "model.global_pool=mean",
            "--set",
            "train.reduce_on_plateau={ factor = 0.2 }",
            "--set",
            "train.epochs=1",
        ],
    )?;
    assert!(stderr.contains("model: cnn"), "{stderr}");
    // Paths given through --set are relative to the working directory.
    ok(dir.path(), &["train", "configs/cnn.toml", "--dry-run", "--set", "data.input=data/seqs.txt"])?;
    Ok(())
}

#[test]
fn set_errors_name_the_argument() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_experiment(dir.path())?;
    let cases: [(&[&str], &str); 7] = [
        (&["--set", "train.epochs=many"], "--set train.epochs=many: invalid type: string \"many\""),
        (&["--set", "train.epochz=1"], "--set train.epochz=1: unknown field `epochz`"),
        (&["--set", "model.conv.3.filters=4"], "model.conv has 1 entries; index 3 is past the end"),
        (&["--set", "model.conv.x=4"], "model.conv is an array; index it with a number"),
        (&["--set", "train.epochs"], "--set train.epochs: expected KEY=VALUE"),
        (&["--set", "train.epochs=0"], "[train] epochs: must be at least 1"),
        (&["--epochs", "2", "--set", "train.epochs=1"], "--set train.epochs=1: --epochs also sets train.epochs"),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["train", "configs/cnn.toml", "--dry-run"];
        args.extend_from_slice(extra);
        let stderr = fails(dir.path(), &args)?;
        assert!(stderr.contains(expected), "{extra:?}: expected {expected:?} in\n{stderr}");
    }
    // --model replaces the whole [model] table, so it conflicts with any model key.
    let stderr = fails(
        dir.path(),
        &["train", "configs/cnn.toml", "--dry-run", "--model", "cnn", "--set", "model.conv.0.width=3"],
    )?;
    assert!(stderr.contains("--model also sets model"), "{stderr}");
    // A bad data path through --set is named.
    let stderr = fails(dir.path(), &["train", "configs/cnn.toml", "--dry-run", "--set", "data.input=missing.txt"])?;
    assert!(stderr.contains("missing.txt"), "{stderr}");
    Ok(())
}

#[test]
fn set_with_resume_is_refused_and_recorded_config_has_the_value() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_experiment(dir.path())?;
    ok(dir.path(), &["train", "configs/cnn.toml", "-o", "run", "-q", "--no-report", "--set", "train.epochs=1"])?;
    let saved = std::fs::read_to_string(dir.path().join("run/config.toml"))?;
    assert!(saved.contains("epochs = 1"), "{saved}");
    let stderr = fails(dir.path(), &["train", "configs/cnn.toml", "-o", "run", "--resume", "--set", "train.epochs=2"])?;
    assert!(stderr.contains("--set train.epochs=2 would be ignored"), "{stderr}");
    Ok(())
}

#[test]
fn dry_run_writes_nothing_and_estimates() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_experiment(dir.path())?;
    let before = snapshot(dir.path())?;
    let (stdout, stderr) = ok(dir.path(), &["train", "configs/cnn.toml", "--dry-run", "-o", "runs/never"])?;
    assert_eq!(snapshot(dir.path())?, before, "a dry run wrote files");
    assert!(!dir.path().join("runs").exists());
    // What training prints first, then the model, the engine and the estimates.
    assert!(stderr.contains("examples") && stderr.contains("model: cnn"), "{stderr}");
    for expected in [
        "model layers:",
        "trainable parameters: 281",
        "training engine: omix fast path",
        "time (estimate): about",
        "from 3 timed training steps",
        "memory (estimate):",
        "nothing was written",
    ] {
        assert!(stdout.contains(expected), "{expected:?} missing from\n{stdout}");
    }
    // `omix check` is the same.
    let (check, _) = ok(dir.path(), &["check", "configs/cnn.toml"])?;
    assert!(check.contains("trainable parameters: 281"), "{check}");
    // A bad data path fails with the usual message, and still writes nothing.
    std::fs::write(
        dir.path().join("configs/bad.toml"),
        "[data]\ninput = \"../data/nope.txt\"\nlabels = \"../data/labels.txt\"\n",
    )?;
    let before = snapshot(dir.path())?;
    let stderr = fails(dir.path(), &["train", "configs/bad.toml", "--dry-run"])?;
    assert!(stderr.contains("nope.txt"), "{stderr}");
    assert_eq!(snapshot(dir.path())?, before);
    Ok(())
}

/// Copy the DeepBind data with the fetch script into `dir/examples/data/deepbind`, or None when
/// `../shared/data/deepbind` is absent.
fn deepbind_copy(dir: &Path) -> Result<Option<()>, Box<dyn std::error::Error>> {
    let shared = repository().join("../shared/data/deepbind");
    if !shared.join("GABPA_GM12878_AC.seq.gz").exists() {
        return Ok(None);
    }
    std::fs::create_dir_all(dir.join("scripts"))?;
    std::fs::copy(repository().join("scripts/fetch-data.py"), dir.join("scripts/fetch-data.py"))?;
    let status = Command::new("python3")
        .arg(dir.join("scripts/fetch-data.py"))
        .args(["deepbind", "--from"])
        .arg(&shared)
        .status()?;
    if !status.success() {
        return Err(format!("fetch-data.py deepbind --from {} failed", shared.display()).into());
    }
    Ok(Some(()))
}

#[test]
fn every_template_checks_and_trains_one_epoch() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (list, _) = ok(dir.path(), &["init"])?;
    let names: Vec<String> =
        list.lines().skip(1).filter_map(|line| line.split_whitespace().next().map(str::to_string)).collect();
    assert_eq!(names, ["classify-tsv", "classify-fasta", "chip", "genome", "regression", "autoencoder", "graph"]);
    let chip = dir.path().join("chip");
    let chip_data = deepbind_copy(&chip)?;
    for name in &names {
        // Written inside the repository's tree of folders? No: in a temporary folder, with the
        // example data found from the working directory (the repository, or the chip copy).
        let cwd = if name == "chip" { chip.clone() } else { repository() };
        if name == "chip" && chip_data.is_none() {
            println!("skipping the chip template: ../shared/data/deepbind is absent");
            continue;
        }
        let file = dir.path().join(format!("{name}.toml"));
        let file_arg = file.to_string_lossy().into_owned();
        let (_, stderr) = ok(&cwd, &["init", name, "-o", &file_arg])?;
        assert!(stderr.contains("next: omix train") && stderr.contains("--dry-run"), "{stderr}");
        let text = std::fs::read_to_string(&file)?;
        assert!(!text.contains(&*repository().to_string_lossy()) || text.starts_with('#'), "{text}");
        let (stdout, _) = ok(dir.path(), &["train", &file_arg, "--dry-run"])?;
        assert!(stdout.contains("trainable parameters") && stdout.contains("time (estimate)"), "{name}: {stdout}");
        let run = dir.path().join(format!("run-{name}"));
        let run_arg = run.to_string_lossy().into_owned();
        let (stdout, stderr) = ok(
            dir.path(),
            &["train", &file_arg, "--set", "train.epochs=1", "--no-baseline", "--no-report", "-q", "-o", &run_arg],
        )?;
        assert!(run.join("metrics.json").exists(), "{name}: {stdout}\n{stderr}");
    }
    Ok(())
}

#[test]
fn init_refuses_to_overwrite_and_writes_to_stdout() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (stdout, _) = ok(dir.path(), &["init", "graph", "-o", "-"])?;
    assert!(stdout.contains("[graph]") && stdout.contains("# maximum epochs"), "{stdout}");
    // Outside a clone: the repository-relative paths, with a comment saying to point them at the data.
    assert!(stdout.contains("\"examples/data/ppi/ppi.edgelist.gz\"") && stdout.contains("point them at your data"));
    ok(dir.path(), &["init", "regression", "-o", "mine.toml"])?;
    std::fs::write(dir.path().join("mine.toml"), "# my edits\n")?;
    let stderr = fails(dir.path(), &["init", "regression", "-o", "mine.toml"])?;
    assert!(stderr.contains("mine.toml exists; give --force"), "{stderr}");
    assert_eq!(std::fs::read_to_string(dir.path().join("mine.toml"))?, "# my edits\n");
    ok(dir.path(), &["init", "regression", "-o", "mine.toml", "--force"])?;
    assert!(std::fs::read_to_string(dir.path().join("mine.toml"))?.contains("task = \"regression\""));
    let stderr = fails(dir.path(), &["init", "nonsense"])?;
    assert!(stderr.contains("no template \"nonsense\"") && stderr.contains("classify-tsv"), "{stderr}");
    Ok(())
}

#[test]
fn completions_for_each_shell() -> TestResult {
    let dir = tempfile::tempdir()?;
    for shell in ["bash", "zsh", "fish"] {
        let (script, _) = ok(dir.path(), &["completions", shell])?;
        assert!(script.len() > 1000 && script.contains("dry-run"), "{shell}: {script}");
    }
    Ok(())
}
