//! Compares every metric with the scikit-learn values stored in `tests/fixtures/*.json`
//! (written by `tests/fixtures/make_fixtures.py`) to within 1e-9.

use std::error::Error;
use std::path::{Path, PathBuf};

use omix_metrics::{
    BinaryMetrics, MulticlassMetrics, MultilabelMetrics, binary_metrics, multiclass_metrics, multilabel_metrics,
    precision_recall_curve, roc_curve,
};
use serde::Deserialize;
use serde_json::Value;

type TestResult<T = ()> = Result<T, Box<dyn Error>>;

const TOL: f64 = 1e-9;

/// Collects mismatches so that one run reports all of them.
#[derive(Default)]
struct Checker {
    failures: Vec<String>,
    checked: usize,
}

impl Checker {
    fn f64(&mut self, what: &str, got: f64, want: f64) {
        self.checked += 1;
        // NaN never passes: `NaN <= TOL` is false.
        let close = (got.is_infinite() && got == want) || (got - want).abs() <= TOL;
        if !close {
            self.failures.push(format!("{what}: got {got:?}, sklearn {want:?}"));
        }
    }

    fn opt(&mut self, what: &str, got: Option<f64>, want: Option<f64>) {
        match (got, want) {
            (Some(g), Some(w)) => self.f64(what, g, w),
            (None, None) => self.checked += 1,
            _ => self.failures.push(format!("{what}: got {got:?}, sklearn {want:?}")),
        }
    }

    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, got: &T, want: &T) {
        self.checked += 1;
        if got != want {
            self.failures.push(format!("{what}: got {got:?}, sklearn {want:?}"));
        }
    }

    fn binary(&mut self, what: &str, got: &BinaryMetrics, want: &BinaryMetrics) {
        self.f64(&format!("{what}.accuracy"), got.accuracy, want.accuracy);
        self.f64(&format!("{what}.balanced_accuracy"), got.balanced_accuracy, want.balanced_accuracy);
        self.f64(&format!("{what}.precision"), got.precision, want.precision);
        self.f64(&format!("{what}.recall"), got.recall, want.recall);
        self.f64(&format!("{what}.specificity"), got.specificity, want.specificity);
        self.f64(&format!("{what}.f1"), got.f1, want.f1);
        self.f64(&format!("{what}.mcc"), got.mcc, want.mcc);
        self.opt(&format!("{what}.auroc"), got.auroc, want.auroc);
        self.opt(&format!("{what}.auprc"), got.auprc, want.auprc);
        self.f64(&format!("{what}.prevalence"), got.prevalence, want.prevalence);
        self.f64(&format!("{what}.threshold"), got.threshold, want.threshold);
        self.eq(&format!("{what}.support"), &got.support, &want.support);
        self.eq(&format!("{what}.confusion_matrix"), &got.confusion_matrix, &want.confusion_matrix);
    }

    /// Compares curve points; a JSON null threshold stands for +inf.
    fn curve(&mut self, what: &str, got: &[(f64, f64, f64)], want: &Value) -> TestResult {
        let want = want.as_array().ok_or(format!("{what}: not an array"))?;
        self.eq(&format!("{what}.len"), &got.len(), &want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            let num = |j: usize| -> TestResult<f64> {
                match w.get(j) {
                    Some(Value::Null) => Ok(f64::INFINITY),
                    Some(v) => v.as_f64().ok_or_else(|| format!("{what}[{i}][{j}]").into()),
                    None => Err(format!("{what}[{i}] has no element {j}").into()),
                }
            };
            self.f64(&format!("{what}[{i}].0"), g.0, num(0)?);
            self.f64(&format!("{what}[{i}].1"), g.1, num(1)?);
            self.f64(&format!("{what}[{i}].2"), g.2, num(2)?);
        }
        Ok(())
    }
}

fn field<T: for<'de> Deserialize<'de>>(fixture: &Value, key: &str) -> TestResult<T> {
    let v = fixture.get(key).ok_or_else(|| format!("fixture has no `{key}`"))?;
    Ok(T::deserialize(v)?)
}

fn check_binary(c: &mut Checker, name: &str, fx: &Value) -> TestResult {
    let labels: Vec<bool> = field(fx, "labels")?;
    let scores: Vec<f64> = field(fx, "scores")?;
    let threshold: f64 = field(fx, "threshold")?;
    let want: BinaryMetrics = field(fx, "expected")?;
    let got = binary_metrics(&labels, &scores, threshold)?;
    c.binary(name, &got, &want);
    let expected = &fx["expected"];
    match expected.get("roc_curve") {
        Some(curve) => c.curve(&format!("{name}.roc_curve"), &roc_curve(&labels, &scores), curve)?,
        None => c.eq(&format!("{name}.auroc is None"), &got.auroc, &None),
    }
    match expected.get("precision_recall_curve") {
        Some(curve) => {
            c.curve(&format!("{name}.precision_recall_curve"), &precision_recall_curve(&labels, &scores), curve)?
        }
        None => c.eq(&format!("{name}.auprc is None"), &got.auprc, &None),
    }
    Ok(())
}

fn check_multiclass(c: &mut Checker, name: &str, fx: &Value) -> TestResult {
    let labels: Vec<usize> = field(fx, "labels")?;
    let probabilities: Vec<f64> = field(fx, "probabilities")?;
    let class_names: Vec<String> = field(fx, "class_names")?;
    let want: MulticlassMetrics = field(fx, "expected")?;
    let got = multiclass_metrics(&labels, &probabilities, &class_names)?;
    c.f64(&format!("{name}.accuracy"), got.accuracy, want.accuracy);
    c.f64(&format!("{name}.balanced_accuracy"), got.balanced_accuracy, want.balanced_accuracy);
    c.f64(&format!("{name}.mcc"), got.mcc, want.mcc);
    c.f64(&format!("{name}.macro_precision"), got.macro_precision, want.macro_precision);
    c.f64(&format!("{name}.macro_recall"), got.macro_recall, want.macro_recall);
    c.f64(&format!("{name}.macro_f1"), got.macro_f1, want.macro_f1);
    c.f64(&format!("{name}.micro_precision"), got.micro_precision, want.micro_precision);
    c.f64(&format!("{name}.micro_recall"), got.micro_recall, want.micro_recall);
    c.f64(&format!("{name}.micro_f1"), got.micro_f1, want.micro_f1);
    c.f64(&format!("{name}.weighted_f1"), got.weighted_f1, want.weighted_f1);
    c.opt(&format!("{name}.macro_auroc"), got.macro_auroc, want.macro_auroc);
    c.opt(&format!("{name}.macro_auprc"), got.macro_auprc, want.macro_auprc);
    c.eq(&format!("{name}.confusion_matrix"), &got.confusion_matrix, &want.confusion_matrix);
    c.eq(&format!("{name}.support"), &got.support, &want.support);
    c.eq(&format!("{name}.per_class.len"), &got.per_class.len(), &want.per_class.len());
    for (g, w) in got.per_class.iter().zip(&want.per_class) {
        let what = format!("{name}.per_class[{}]", w.class);
        c.eq(&format!("{what}.class"), &g.class, &w.class);
        c.f64(&format!("{what}.precision"), g.precision, w.precision);
        c.f64(&format!("{what}.recall"), g.recall, w.recall);
        c.f64(&format!("{what}.specificity"), g.specificity, w.specificity);
        c.f64(&format!("{what}.f1"), g.f1, w.f1);
        c.opt(&format!("{what}.auroc"), g.auroc, w.auroc);
        c.opt(&format!("{what}.auprc"), g.auprc, w.auprc);
        c.f64(&format!("{what}.prevalence"), g.prevalence, w.prevalence);
        c.eq(&format!("{what}.support"), &g.support, &w.support);
    }
    Ok(())
}

fn check_multilabel(c: &mut Checker, name: &str, fx: &Value) -> TestResult {
    let labels: Vec<bool> = field(fx, "labels")?;
    let scores: Vec<f64> = field(fx, "scores")?;
    let task_names: Vec<String> = field(fx, "task_names")?;
    let threshold: f64 = field(fx, "threshold")?;
    let want: MultilabelMetrics = field(fx, "expected")?;
    let got = multilabel_metrics(&labels, &scores, &task_names, threshold)?;
    c.eq(&format!("{name}.per_task.len"), &got.per_task.len(), &want.per_task.len());
    for ((gn, g), (wn, w)) in got.per_task.iter().zip(&want.per_task) {
        c.eq(&format!("{name}.per_task name"), gn, wn);
        c.binary(&format!("{name}.per_task[{wn}]"), g, w);
    }
    c.opt(&format!("{name}.macro_auroc"), got.macro_auroc, want.macro_auroc);
    c.opt(&format!("{name}.median_auroc"), got.median_auroc, want.median_auroc);
    c.opt(&format!("{name}.macro_auprc"), got.macro_auprc, want.macro_auprc);
    c.opt(&format!("{name}.median_auprc"), got.median_auprc, want.median_auprc);
    c.f64(&format!("{name}.micro_f1"), got.micro_f1, want.micro_f1);
    c.f64(&format!("{name}.macro_f1"), got.macro_f1, want.macro_f1);
    c.eq(&format!("{name}.tasks_without_positives"), &got.tasks_without_positives, &want.tasks_without_positives);
    Ok(())
}

fn fixture_paths() -> TestResult<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

#[test]
fn all_fixtures_match_sklearn() -> TestResult {
    let paths = fixture_paths()?;
    assert!(paths.len() >= 11, "expected at least 11 fixtures, found {}", paths.len());
    let mut c = Checker::default();
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for path in &paths {
        let fx: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        let name: String = field(&fx, "name")?;
        let kind: String = field(&fx, "kind")?;
        match kind.as_str() {
            "binary" => check_binary(&mut c, &name, &fx)?,
            "multiclass" => check_multiclass(&mut c, &name, &fx)?,
            "multilabel" => check_multilabel(&mut c, &name, &fx)?,
            other => return Err(format!("{}: unknown kind {other}", path.display()).into()),
        }
        *kinds.entry(kind).or_default() += 1;
    }
    assert!(
        c.failures.is_empty(),
        "{} of {} values differ from sklearn:\n{}",
        c.failures.len(),
        c.checked,
        c.failures.join("\n")
    );
    assert!(c.checked > 1000, "only {} values checked", c.checked);
    for kind in ["binary", "multiclass", "multilabel"] {
        assert!(kinds.contains_key(kind), "no {kind} fixture");
    }
    Ok(())
}
