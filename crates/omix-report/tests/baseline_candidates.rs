//! A run that fitted two baselines (`[baseline] kind = "auto"`) shows both, with the validation
//! score that chose and the test score for the record; a run with one shows no such table.

use std::fs;
use std::path::Path;

use omix_report::render_report;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?
        } else {
            fs::copy(entry.path(), target).map(|_| ())?
        }
    }
    Ok(())
}

#[test]
fn both_baselines_are_listed_with_the_chosen_one_marked() -> TestResult {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures").join("gabpa_small");
    let temp = tempfile::tempdir()?;
    let run = temp.path().join("run");
    copy_dir(&fixture, &run)?;
    let before = render_report(&run)?;
    assert!(!before.contains("baseline fitted"));

    let path = run.join("metrics.json");
    let mut metrics: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path)?)?;
    metrics["baseline"]["candidates"] = serde_json::json!([
        {"model": "logistic regression on 5-mer counts", "regularization": 0.1, "validation_metric": "AUROC",
         "validation": 0.9123, "test": 0.9761, "chosen": false},
        {"model": "logistic regression on gapped k-mer counts (l = 11, k = 7)", "regularization": 10.0,
         "validation_metric": "AUROC", "validation": 0.9456, "test": 0.9852, "chosen": true}
    ]);
    fs::write(&path, serde_json::to_string(&metrics)?)?;
    let html = render_report(&run)?;
    let start = html.find("baseline fitted").ok_or("no table of the baselines fitted")?;
    let table = &html[start..];
    let table = &table[..table.find("</table>").ok_or("unterminated table")?];
    for needle in [
        "validation AUROC",
        "test AUROC",
        "5-mer counts",
        "gapped k-mer counts (l = 11, k = 7)",
        "0.912",
        "0.946",
        "0.985",
    ] {
        assert!(table.contains(needle), "{needle} missing from {table}");
    }
    assert_eq!(table.matches("chosen").count(), 1);
    assert!(table.find("chosen") > table.find("gapped"), "the gkm row is the chosen one: {table}");
    assert!(html.contains("not used to choose"));
    Ok(())
}
