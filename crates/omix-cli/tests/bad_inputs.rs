//! Every invalid input in `tests/bad_inputs/` must give a clear, one-paragraph error naming the
//! problem (and file and line or record where there is one), a non-zero exit without a panic, and
//! nothing written or deleted outside the run folder. The cases are listed in the
//! `tests/bad_inputs/manifest*.tsv` files, one per area, so that each can grow on its own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// One manifest row.
struct Case {
    manifest: String,
    name: String,
    command: String,
    args: Vec<String>,
    expected: String,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("bad_inputs")
}

fn is_manifest(name: &str) -> bool {
    name.starts_with("manifest") && name.ends_with(".tsv")
}

fn read_manifests() -> Result<Vec<Case>, Box<dyn std::error::Error>> {
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(corpus())?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.file_name().is_some_and(|name| is_manifest(&name.to_string_lossy())))
        .collect();
    manifests.sort();
    let mut cases = Vec::new();
    for path in manifests {
        let manifest = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let text = std::fs::read_to_string(&path)?;
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') || line.starts_with("name\t") {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let [name, command, args, expected] = fields[..] else {
                return Err(format!(
                    "{manifest}, line {}: expected 4 tab-separated fields, found {}",
                    number + 1,
                    fields.len()
                )
                .into());
            };
            cases.push(Case {
                manifest: manifest.clone(),
                name: name.to_string(),
                command: command.to_string(),
                args: args.split_whitespace().map(str::to_string).collect(),
                expected: expected.to_string(),
            });
        }
    }
    Ok(cases)
}

/// Copy the corpus files (not the manifests) into `dir`.
fn copy_corpus(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(corpus())? {
        let entry = entry?;
        if entry.file_type()?.is_file() && !is_manifest(&entry.file_name().to_string_lossy()) {
            std::fs::copy(entry.path(), dir.join(entry.file_name()))?;
        }
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// A small trained run (`model/` in each case folder) for the cases of `predict`, `evaluate`,
/// `score-variants` and `explain`: trained once per test process.
fn trained_model() -> &'static Path {
    static MODEL: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = MODEL.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        copy_corpus(dir.path()).expect("the corpus copies");
        let output = Command::new(env!("CARGO_BIN_EXE_omix"))
            .args(["train", "--input", "seqs_ok.txt", "--labels", "labels_ok.txt", "--epochs", "1"])
            .args(["--no-baseline", "--no-report", "--quiet", "--out", "model"])
            .current_dir(dir.path())
            .output()
            .expect("omix runs");
        assert!(
            output.status.success(),
            "training the fixture model failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let path = dir.path().join("model");
        (dir, path)
    });
    path
}

/// Every file under `dir` (relative path) with its bytes, to prove nothing else was touched.
fn snapshot(dir: &Path) -> std::io::Result<BTreeMap<PathBuf, Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(root, &path, files)?;
                files.insert(path.strip_prefix(root).unwrap_or(&path).join(""), Vec::new());
            } else {
                files.insert(path.strip_prefix(root).unwrap_or(&path).to_path_buf(), std::fs::read(&path)?);
            }
        }
        Ok(())
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files)?;
    Ok(files)
}

/// What is wrong with how omix handled one case, if anything.
fn check_case(case: &Case) -> Result<Option<String>, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    copy_corpus(dir.path())?;
    if case.args.iter().any(|arg| arg == "model" || arg.starts_with("model/")) {
        copy_tree(trained_model(), &dir.path().join("model"))?;
    }
    let before = snapshot(dir.path())?;
    let out = dir.path().join("run");
    let mut command = Command::new(env!("CARGO_BIN_EXE_omix"));
    command.arg(&case.command).args(&case.args);
    if case.command == "train" {
        command.arg("--out").arg(&out).arg("--quiet");
    }
    let output =
        command.current_dir(dir.path()).env_remove("RUST_BACKTRACE").env_remove("RUST_LIB_BACKTRACE").output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut problems = Vec::new();
    match output.status.code() {
        Some(0) => problems.push("exit code 0 (the input was accepted)".to_string()),
        Some(101) => problems.push("exit code 101 (a panic)".to_string()),
        Some(_) => {}
        None => problems.push("killed by a signal".to_string()),
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") || stderr.contains("stack backtrace") {
        problems.push("a panic or backtrace on stderr".to_string());
    }
    if !stderr.contains(&case.expected) {
        problems.push(format!("stderr lacks {:?}", case.expected));
    }
    // One paragraph: the error ends stderr, has no blank line, and there is one of it.
    let trimmed = stderr.trim();
    let error = trimmed.find("error: ").map(|start| &trimmed[start..]).unwrap_or("");
    if error.is_empty() || trimmed.matches("error: ").count() != 1 {
        problems.push("stderr has no single `error: ...` message".to_string());
    }
    if error.contains("\n\n") || error.lines().count() > 6 {
        problems.push("the error is more than one short paragraph".to_string());
    }
    let left_behind = out.exists() && std::fs::read_dir(&out)?.next().is_some();
    if left_behind {
        problems.push(format!("{} was created and is not empty", out.display()));
    }
    let mut after = snapshot(dir.path())?;
    after.retain(|path, _| !path.starts_with("run"));
    for (path, bytes) in &before {
        match after.get(path) {
            None => problems.push(format!("{} was deleted", path.display())),
            Some(now) if now != bytes => problems.push(format!("{} was changed", path.display())),
            Some(_) => {}
        }
    }
    for path in after.keys().filter(|path| !before.contains_key(*path)) {
        problems.push(format!("{} was written outside the run folder", path.display()));
    }
    if problems.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "{}: {} (omix {} {}):\n    {}\n    stderr: {}",
        case.manifest,
        case.name,
        case.command,
        case.args.join(" "),
        problems.join("\n    "),
        trimmed.replace('\n', "\n            ")
    )))
}

#[test]
fn every_bad_input_gives_a_clear_error_and_no_output() -> TestResult {
    let cases = read_manifests()?;
    assert!(cases.len() >= 18, "the manifests list only {} cases", cases.len());
    let mut names = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for case in &cases {
        assert!(names.insert(case.name.as_str()), "case {} is listed twice", case.name);
        if let Some(failure) = check_case(case)? {
            failures.push(failure);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs were not handled well:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    Ok(())
}

#[test]
fn every_corpus_file_is_used() -> TestResult {
    // A file counts as used when a manifest or one of the corpus configs names it.
    let mut referenced = String::new();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(corpus())? {
        let path = entry?.path();
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        if is_manifest(&name) || path.extension().is_some_and(|extension| extension == "toml") {
            referenced.push_str(&std::fs::read_to_string(&path)?);
        }
        if !is_manifest(&name) {
            names.push(name);
        }
    }
    let unused: Vec<&String> = names.iter().filter(|name| !referenced.contains(name.as_str())).collect();
    assert!(unused.is_empty(), "corpus files no case uses: {unused:?}");
    Ok(())
}
