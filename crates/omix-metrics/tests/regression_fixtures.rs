//! Compares `regression_metrics` with the scipy / scikit-learn values stored in
//! `tests/fixtures/regression/*.json` (written by `tests/fixtures/make_regression_fixtures.py`).

use std::error::Error;
use std::path::Path;

use omix_metrics::{RegressionMetrics, regression_metrics};
use serde_json::Value;

type TestResult<T = ()> = Result<T, Box<dyn Error>>;

/// Agreement required: 1e-9, relative for values above 1e-3 in magnitude.
fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-9 * want.abs().max(1e-3)
}

fn check_f64(failures: &mut Vec<String>, what: &str, got: f64, want: f64) {
    if !close(got, want) {
        failures.push(format!("{what}: got {got:?}, reference {want:?}"));
    }
}

fn check_opt(failures: &mut Vec<String>, what: &str, got: Option<f64>, want: Option<f64>) {
    match (got, want) {
        (Some(g), Some(w)) => check_f64(failures, what, g, w),
        (None, None) => {}
        _ => failures.push(format!("{what}: got {got:?}, reference {want:?}")),
    }
}

fn field<T: for<'de> serde::Deserialize<'de>>(fixture: &Value, key: &str) -> TestResult<T> {
    let v = fixture.get(key).ok_or_else(|| format!("fixture has no `{key}`"))?;
    Ok(T::deserialize(v)?)
}

#[test]
fn regression_fixtures_match_scipy_and_sklearn() -> TestResult {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/regression");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 3, "expected at least 3 regression fixtures, found {}", paths.len());

    let mut failures = Vec::new();
    let mut tasks_checked = 0;
    for path in &paths {
        let fx: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        let name: String = field(&fx, "name")?;
        let targets: Vec<f64> = field(&fx, "targets")?;
        let predictions: Vec<f64> = field(&fx, "predictions")?;
        let task_names: Vec<String> = field(&fx, "task_names")?;
        let want: RegressionMetrics = field(&fx, "expected")?;
        let got = regression_metrics(&targets, &predictions, &task_names)?;

        assert_eq!(got.per_task.len(), want.per_task.len(), "{name}: task count");
        for ((gn, g), (wn, w)) in got.per_task.iter().zip(&want.per_task) {
            let what = format!("{name}.{wn}");
            assert_eq!(gn, wn, "{name}: task order");
            assert_eq!(g.n, w.n, "{what}.n");
            check_f64(&mut failures, &format!("{what}.mse"), g.mse, w.mse);
            check_f64(&mut failures, &format!("{what}.mae"), g.mae, w.mae);
            check_f64(&mut failures, &format!("{what}.r2"), g.r2, w.r2);
            check_opt(&mut failures, &format!("{what}.pearson"), g.pearson, w.pearson);
            check_opt(&mut failures, &format!("{what}.spearman"), g.spearman, w.spearman);
            tasks_checked += 1;
        }
        let summaries = [
            ("mean_mse", got.mean_mse, want.mean_mse),
            ("median_mse", got.median_mse, want.median_mse),
            ("mean_mae", got.mean_mae, want.mean_mae),
            ("median_mae", got.median_mae, want.median_mae),
            ("mean_r2", got.mean_r2, want.mean_r2),
            ("median_r2", got.median_r2, want.median_r2),
        ];
        for (key, g, w) in summaries {
            check_f64(&mut failures, &format!("{name}.{key}"), g, w);
        }
        check_opt(&mut failures, &format!("{name}.mean_pearson"), got.mean_pearson, want.mean_pearson);
        check_opt(&mut failures, &format!("{name}.median_pearson"), got.median_pearson, want.median_pearson);
        check_opt(&mut failures, &format!("{name}.mean_spearman"), got.mean_spearman, want.mean_spearman);
        check_opt(&mut failures, &format!("{name}.median_spearman"), got.median_spearman, want.median_spearman);
        assert_eq!(got.tasks_without_correlation, want.tasks_without_correlation, "{name}");
    }
    assert!(failures.is_empty(), "{} values differ from the reference:\n{}", failures.len(), failures.join("\n"));
    assert!(tasks_checked >= 9, "only {tasks_checked} tasks checked");
    Ok(())
}
