//! Labels and configs that drift (issue 11, "never lose or silently corrupt a user's data"): each
//! test runs the `omix` binary on a small data set in a temporary folder and fails if a drifting
//! label, a repeated id, a setting that would be ignored or an impossible size is accepted.

use std::path::Path;
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// `omix ARGS` run in `dir`.
fn omix(dir: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_omix")).args(args).current_dir(dir).env_remove("RUST_BACKTRACE").output()
}

/// Run and require failure without a panic, with nothing in the run folder; returns stderr.
fn fails(dir: &Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let output = omix(dir, args)?;
    let stderr = String::from_utf8(output.stderr)?;
    if output.status.success() {
        return Err(format!("omix {} succeeded but should have failed", args.join(" ")).into());
    }
    if stderr.contains("panicked") {
        return Err(format!("omix {} panicked:\n{stderr}", args.join(" ")).into());
    }
    let run = dir.join("run");
    if run.exists() && std::fs::read_dir(&run)?.next().is_some() {
        return Err(format!("omix {} wrote into the run folder before failing", args.join(" ")).into());
    }
    Ok(stderr)
}

/// `omix train` on the given arguments (plus a run folder and one quiet epoch), expecting failure.
fn train_fails(dir: &Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let mut all = vec!["train"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", "run", "--quiet", "--epochs", "1", "--no-baseline", "--no-report"]);
    fails(dir, &all)
}

/// `omix train` on the given arguments (plus a run folder and one quiet epoch), expecting success.
fn train_succeeds(dir: &Path, args: &[&str]) -> TestResult {
    let mut all = vec!["train"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", "ok-run", "--force", "--quiet", "--epochs", "1", "--no-baseline", "--no-report"]);
    let output = omix(dir, &all)?;
    if !output.status.success() {
        return Err(format!("omix {} failed:\n{}", all.join(" "), String::from_utf8_lossy(&output.stderr)).into());
    }
    Ok(())
}

/// `count` random 24-bp sequences, one per line, in `sequences.txt`.
fn write_sequences(dir: &Path, count: usize) -> std::io::Result<Vec<String>> {
    let mut state = 11u64;
    let mut base = || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        b"ACGT"[(state >> 62) as usize] as char
    };
    let sequences: Vec<String> = (0..count).map(|_| (0..24).map(|_| base()).collect()).collect();
    std::fs::write(dir.join("sequences.txt"), sequences.join("\n") + "\n")?;
    Ok(sequences)
}

/// Labels cycling through `classes`, with `changes` (1-based line, label) applied.
fn write_labels(dir: &Path, name: &str, count: usize, classes: &[&str], changes: &[(usize, &str)]) -> TestResult {
    let mut labels: Vec<String> = (0..count).map(|i| classes[i % classes.len()].to_string()).collect();
    for (line, label) in changes {
        labels[line - 1] = (*label).to_string();
    }
    std::fs::write(dir.join(name), labels.join("\n") + "\n")?;
    Ok(())
}

#[test]
fn one_corrupted_label_does_not_make_a_third_class() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_sequences(dir.path(), 60)?;
    write_labels(dir.path(), "labels.txt", 60, &["0", "1"], &[(23, "l")])?;
    let stderr = train_fails(dir.path(), &["--input", "sequences.txt", "--labels", "labels.txt"])?;
    assert!(stderr.contains("labels.txt:23: label \"l\" of record \"line23\" looks like a stray value"), "{stderr}");
    assert!(stderr.contains("\"1\" (30x), \"0\" (29x)") && stderr.contains("class_names"), "{stderr}");
    Ok(())
}

#[test]
fn zero_and_zero_point_zero_are_not_two_classes() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_sequences(dir.path(), 40)?;
    write_labels(dir.path(), "labels.txt", 40, &["0", "1"], &[(5, "0.0"), (17, "0.0"), (20, "1.00")])?;
    let stderr = train_fails(dir.path(), &["--input", "sequences.txt", "--labels", "labels.txt"])?;
    assert!(stderr.contains("labels.txt:5: label \"0.0\" of record \"line5\" (2x; also line(s) 17)"), "{stderr}");
    assert!(stderr.contains("is the same value as \"0\""), "{stderr}");
    Ok(())
}

#[test]
fn declared_classes_are_strict_and_real_multiclass_tasks_train() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_sequences(dir.path(), 60)?;
    // A real three-class task with reasonable counts trains as before.
    write_labels(dir.path(), "three.txt", 60, &["neg", "pos", "weak"], &[])?;
    let output = omix(
        dir.path(),
        &[
            "train",
            "--input",
            "sequences.txt",
            "--labels",
            "three.txt",
            "--epochs",
            "1",
            "--no-baseline",
            "--no-report",
            "--quiet",
            "--out",
            "three",
        ],
    )?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let schema = std::fs::read_to_string(dir.path().join("three").join("schema.json"))?;
    assert!(schema.contains("\"weak\""), "{schema}");
    // A rare class is refused when inferred, and accepted once declared.
    write_labels(dir.path(), "rare.txt", 60, &["0", "1"], &[(9, "2")])?;
    let stderr = train_fails(dir.path(), &["--input", "sequences.txt", "--labels", "rare.txt"])?;
    assert!(stderr.contains("rare.txt:9: label \"2\""), "{stderr}");
    let config = "[data]\ninput = \"sequences.txt\"\nlabels = \"rare.txt\"\nclass_names = [\"0\", \"1\"]\n";
    std::fs::write(dir.path().join("strict.toml"), config)?;
    let stderr = train_fails(dir.path(), &["strict.toml"])?;
    assert!(stderr.contains("rare.txt:9: label \"2\" of record \"line9\" is not one of the classes 0, 1;"), "{stderr}");
    Ok(())
}

#[test]
fn carriage_return_line_ends_and_sequences_as_labels_are_named() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_sequences(dir.path(), 30)?;
    let labels: Vec<&str> = (0..30).map(|i| if i % 2 == 0 { "0" } else { "1" }).collect();
    std::fs::write(dir.path().join("mac.txt"), labels.join("\r") + "\r")?;
    let stderr = train_fails(dir.path(), &["--input", "sequences.txt", "--labels", "mac.txt"])?;
    assert!(stderr.contains("mac.txt, line 1: lines end in '\\r' only"), "{stderr}");
    let stderr = train_fails(dir.path(), &["--input", "sequences.txt", "--labels", "sequences.txt"])?;
    assert!(stderr.contains("sequences.txt:1: the label") && stderr.contains("looks like a DNA sequence"), "{stderr}");
    assert!(!stderr.contains("split is empty"), "{stderr}");
    Ok(())
}

#[test]
fn duplicate_ids_in_class_files_and_tables_are_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sequences = write_sequences(dir.path(), 20)?;
    let fasta = |ids: &[&str], from: usize| -> String {
        ids.iter().zip(&sequences[from..]).map(|(id, sequence)| format!(">{id}\n{sequence}\n")).collect()
    };
    std::fs::write(dir.path().join("pos.fa"), fasta(&["a", "b", "c", "d"], 0))?;
    std::fs::write(dir.path().join("neg.fa"), fasta(&["e", "f", "b", "g"], 4))?;
    std::fs::write(dir.path().join("twice.fa"), fasta(&["e", "f", "e", "g"], 8))?;
    let stderr = train_fails(dir.path(), &["--class", "pos=pos.fa", "--class", "neg=neg.fa"])?;
    assert!(stderr.contains("neg.fa:5: duplicate id \"b\" (first seen at") && stderr.contains("pos.fa:3)"), "{stderr}");
    let stderr = train_fails(dir.path(), &["--class", "pos=pos.fa", "--class", "neg=twice.fa"])?;
    assert!(
        stderr.contains("twice.fa:5: duplicate id \"e\" (first seen at") && stderr.contains("twice.fa:1)"),
        "{stderr}"
    );
    // The same record listed again (identical sequence) names one example: accepted.
    std::fs::write(dir.path().join("again.fa"), format!("{}>e\n{}\n", fasta(&["e", "f", "h", "g"], 8), sequences[8]))?;
    train_succeeds(dir.path(), &["--class", "pos=pos.fa", "--class", "neg=again.fa"])?;
    let rows: Vec<String> =
        (0..20).map(|i| format!("r{}\t{}\t{}", if i == 12 { 3 } else { i }, sequences[i], i % 2)).collect();
    std::fs::write(dir.path().join("table.tsv"), format!("id\tseq\tlabel\n{}\n", rows.join("\n")))?;
    let stderr = train_fails(dir.path(), &["--input", "table.tsv"])?;
    assert!(stderr.contains("table.tsv:14: duplicate id \"r3\" (first seen at"), "{stderr}");
    Ok(())
}

#[test]
fn ignored_or_meaningless_settings_are_errors() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_sequences(dir.path(), 40)?;
    write_labels(dir.path(), "labels.txt", 40, &["0", "1"], &[])?;
    let data = "[data]\ninput = \"sequences.txt\"\nlabels = \"labels.txt\"\n";
    let cases = [
        ("primer.toml", "[model]\nkind = \"primer\"\nfilters = 64\n", "unknown field `filters`"),
        ("danq.toml", "[model]\nkind = \"danq\"\nlstm = 32\n", "unknown field `lstm`"),
        ("pearson.toml", "[train]\nmonitor = \"pearson\"\n", "[train] monitor: \"pearson\" is a regression metric"),
        ("nan.toml", "[train]\nmin_delta = nan\n", "[train] min_delta: NaN must be a finite number >= 0"),
        ("negative.toml", "[train]\nmin_delta = -1.0\n", "[train] min_delta: -1 must be a finite number >= 0"),
        ("mse.toml", "[train]\nloss = \"mse\"\n", "[train] loss: the task is binary classification"),
        ("clip.toml", "[train]\nclip_grad_value = 0.0\n", "[train] clip_grad_value: 0 must be a positive number"),
    ];
    for (name, table, expected) in cases {
        std::fs::write(dir.path().join(name), format!("{data}{table}"))?;
        let stderr = train_fails(dir.path(), &[name])?;
        assert!(stderr.contains(expected), "{name}: {stderr}");
        if table.contains("[model]") {
            assert!(stderr.contains(&format!("{name}:")), "{name} is not named: {stderr}");
        }
    }
    Ok(())
}

#[test]
fn impossible_lengths_are_refused_before_allocating() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_sequences(dir.path(), 40)?;
    write_labels(dir.path(), "labels.txt", 40, &["0", "1"], &[])?;
    let started = std::time::Instant::now();
    let stderr = train_fails(
        dir.path(),
        &["--input", "sequences.txt", "--labels", "labels.txt", "--length", "1000000000", "--length-policy", "center"],
    )?;
    assert!(
        stderr.contains("[data] length = 1000000000: 40 example(s) of 1000000000 positions need at least"),
        "{stderr}"
    );
    assert!(stderr.contains("of memory is available"), "{stderr}");
    // Refused from the sizes alone, not after trying.
    assert!(started.elapsed().as_secs() < 30, "took {:?}", started.elapsed());
    Ok(())
}

#[test]
fn truncated_meme_names_its_last_line_and_wide_motifs_are_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sequences = write_sequences(dir.path(), 40)?;
    let rows: Vec<String> = sequences.iter().enumerate().map(|(i, s)| format!("r{i}\t{s}\t{}", i % 2)).collect();
    std::fs::write(dir.path().join("table.tsv"), format!("id\tseq\tlabel\n{}\n", rows.join("\n")))?;
    let header = "MEME version 4\n\nALPHABET= ACGT\n\nMOTIF m1\n";
    let row = "0.25 0.25 0.25 0.25\n";
    std::fs::write(
        dir.path().join("cut.meme"),
        format!("{header}letter-probability matrix: alength= 4 w= 5\n{}", row.repeat(2)),
    )?;
    std::fs::write(
        dir.path().join("wide.meme"),
        format!("{header}letter-probability matrix: alength= 4 w= 30\n{}", row.repeat(30)),
    )?;
    for (motifs, expected) in [
        ("cut.meme", "cut.meme, line 8: motif 'm1' declares w= 5 but has 2 rows"),
        ("wide.meme", "wider than the 24-position input sequences"),
    ] {
        let config = format!(
            "[data]\ninput = \"table.tsv\"\n[features]\nkind = \"pwm\"\nmotifs = \"{motifs}\"\n[model]\nkind = \"dense\"\n"
        );
        std::fs::write(dir.path().join("pwm.toml"), config)?;
        let stderr = train_fails(dir.path(), &["pwm.toml"])?;
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains("18446744073709551615"), "{stderr}");
    }
    Ok(())
}
