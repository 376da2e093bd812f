//! Every invalid input in `tests/bad_inputs/` must give a clear, one-paragraph error naming the
//! problem (and file and line where there is one), a non-zero exit without a panic, and no run
//! folder. The cases are listed in `tests/bad_inputs/manifest.tsv`.

use std::path::{Path, PathBuf};
use std::process::Command;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// One manifest row.
struct Case {
    name: String,
    args: Vec<String>,
    expected: String,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("bad_inputs")
}

fn read_manifest() -> Result<Vec<Case>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(corpus().join("manifest.tsv"))?;
    let mut cases = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with("name\t") {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, args, expected] = fields[..] else {
            return Err(format!(
                "manifest.tsv, line {}: expected 3 tab-separated fields, found {}",
                number + 1,
                fields.len()
            )
            .into());
        };
        cases.push(Case {
            name: name.to_string(),
            args: args.split_whitespace().map(str::to_string).collect(),
            expected: expected.to_string(),
        });
    }
    Ok(cases)
}

/// Copy the corpus files (not the manifest) into `dir`.
fn copy_corpus(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(corpus())? {
        let entry = entry?;
        if entry.file_name() != "manifest.tsv" {
            std::fs::copy(entry.path(), dir.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// What is wrong with how `omix train` handled one case, if anything.
fn check_case(case: &Case) -> Result<Option<String>, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    copy_corpus(dir.path())?;
    let out = dir.path().join("run");
    let output = Command::new(env!("CARGO_BIN_EXE_omix"))
        .arg("train")
        .args(&case.args)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .current_dir(dir.path())
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()?;
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
    // One paragraph: the error starts stderr, has no blank line, and there is one of it.
    let trimmed = stderr.trim();
    if !trimmed.starts_with("error: ") || trimmed.matches("error: ").count() != 1 {
        problems.push("stderr is not a single `error: ...` message".to_string());
    }
    if trimmed.contains("\n\n") || trimmed.lines().count() > 6 {
        problems.push("the error is more than one short paragraph".to_string());
    }
    let left_behind = out.exists() && std::fs::read_dir(&out)?.next().is_some();
    if left_behind {
        problems.push(format!("{} was created and is not empty", out.display()));
    }
    if problems.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "{} (omix train {}):\n    {}\n    stderr: {}",
        case.name,
        case.args.join(" "),
        problems.join("\n    "),
        trimmed.replace('\n', "\n            ")
    )))
}

#[test]
fn every_bad_input_gives_a_clear_error_and_no_output() -> TestResult {
    let cases = read_manifest()?;
    assert!(cases.len() >= 18, "the manifest lists only {} cases", cases.len());
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
    // A file counts as used when the manifest or one of the corpus configs names it.
    let mut referenced = std::fs::read_to_string(corpus().join("manifest.tsv"))?;
    let mut names = Vec::new();
    for entry in std::fs::read_dir(corpus())? {
        let path = entry?.path();
        if path.extension().is_some_and(|extension| extension == "toml") {
            referenced.push_str(&std::fs::read_to_string(&path)?);
        }
        names.push(path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default());
    }
    let unused: Vec<&String> =
        names.iter().filter(|name| *name != "manifest.tsv" && !referenced.contains(name.as_str())).collect();
    assert!(unused.is_empty(), "corpus files no case uses: {unused:?}");
    Ok(())
}
