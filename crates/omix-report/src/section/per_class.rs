//! Per-class (multi-class), per-task (multi-label, regression) or per-label (autoencoder)
//! metrics tables.

use std::fmt::Write as _;

use crate::ReportError;
use crate::html::{count, escape, metric, note, table};
use crate::predictions::label_column;
use omix_run::view::{RunView as Run, Scores, Task};

/// The per-class body.
pub(super) fn body(run: &Run) -> Result<String, ReportError> {
    let task = run.task();
    if task == Task::Reconstruction {
        return reconstruction(run);
    }
    let Some(metrics) = &run.metrics else {
        return Ok(super::missing("metrics.json", "per-class metrics"));
    };
    let Some(test) = &metrics.test else {
        return Ok(note("<code>metrics.json</code> has no test split."));
    };
    let baseline = metrics.baseline.as_ref().and_then(|b| b.test.as_ref());
    let out = match task {
        Task::Binary => binary(run, test, metrics.validation.as_ref(), baseline),
        Task::Multiclass => multiclass(test, baseline),
        Task::Multilabel => multilabel(test, baseline),
        Task::Regression => regression(test, baseline),
        _ => super::not_applicable("the task of this run is not known."),
    };
    Ok(out)
}

/// Per class from the confusion matrix, then the threshold metrics per split.
fn binary(run: &Run, test: &Scores, validation: Option<&Scores>, baseline: Option<&Scores>) -> String {
    let classes = run.class_names();
    let mut out = String::new();
    if let Some(matrix) = test.confusion_matrix.as_ref().filter(|m| m.len() == 2 && m.iter().all(|r| r.len() == 2)) {
        let header: Vec<String> =
            ["class", "support", "precision", "recall", "F1"].iter().map(|s| s.to_string()).collect();
        let mut rows = Vec::new();
        for class in 0..2 {
            let tp = matrix[class][class];
            let predicted: f64 = matrix.iter().map(|row| row[class]).sum();
            let actual: f64 = matrix[class].iter().sum();
            let precision = (predicted > 0.0).then(|| tp / predicted);
            let recall = (actual > 0.0).then(|| tp / actual);
            let f1 = match (precision, recall) {
                (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
                _ => None,
            };
            let name = classes.get(class).cloned().unwrap_or_else(|| class.to_string());
            rows.push(vec![escape(&name), count(Some(actual)), metric(precision), metric(recall), metric(f1)]);
        }
        out.push_str("<div class=\"row\">\n<div>\n<h3>Per class</h3>\n");
        out.push_str("<p class=\"hint\">Each class in turn taken as the positive one, at the model's threshold (test set).</p>\n");
        out.push_str(&table("compact", &header, &rows, &[false, true, true, true, true]));
        out.push_str("</div>\n");
    } else {
        out.push_str("<div class=\"row\">\n");
    }
    let fields: [super::summary::Headline; 11] = [
        ("AUROC", |s| s.auroc),
        ("AUPRC", |s| s.auprc),
        ("accuracy", |s| s.accuracy),
        ("balanced accuracy", |s| s.balanced_accuracy),
        ("precision", |s| s.precision),
        ("recall (sensitivity)", |s| s.recall),
        ("specificity", |s| s.specificity),
        ("F1", |s| s.f1),
        ("MCC", |s| s.mcc),
        ("prevalence", |s| s.prevalence),
        ("threshold", |s| s.threshold),
    ];
    let mut splits: Vec<(&str, &Scores)> = vec![("test", test)];
    if let Some(validation) = validation {
        splits.push(("validation", validation));
    }
    if let Some(baseline) = baseline {
        splits.push(("baseline (test)", baseline));
    }
    let mut header = vec!["metric".to_string()];
    header.extend(splits.iter().map(|(name, _)| name.to_string()));
    let rows: Vec<Vec<String>> = fields
        .iter()
        .map(|(name, read)| {
            let mut row = vec![name.to_string()];
            row.extend(splits.iter().map(|(_, scores)| metric(read(scores))));
            row
        })
        .collect();
    let mut numeric = vec![false];
    numeric.extend(splits.iter().map(|_| true));
    out.push_str("<div>\n<h3>Metrics per split</h3>\n<p class=\"hint\">At the model's threshold; AUROC and AUPRC need none.</p>\n");
    out.push_str(&table("compact", &header, &rows, &numeric));
    out.push_str("</div>\n</div>\n");
    out
}

/// The multi-class per-class table, with the baseline's F1 beside the model's.
fn multiclass(test: &Scores, baseline: Option<&Scores>) -> String {
    let Some(classes) = &test.per_class else {
        return note("<code>metrics.json</code> has no per-class metrics.");
    };
    let baseline_f1 = |class: &str| baseline?.per_class.as_ref()?.iter().find(|c| c.class == class).and_then(|c| c.f1);
    let with_baseline = baseline.and_then(|b| b.per_class.as_ref()).is_some();
    let mut header: Vec<String> =
        ["class", "support", "prevalence", "precision", "recall", "specificity", "F1", "AUROC", "AUPRC"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    if with_baseline {
        header.push("baseline F1".into());
    }
    let rows: Vec<Vec<String>> = classes
        .iter()
        .map(|c| {
            let mut row = vec![
                escape(&c.class),
                count(c.support),
                metric(c.prevalence),
                metric(c.precision),
                metric(c.recall),
                metric(c.specificity),
                metric(c.f1),
                metric(c.auroc),
                metric(c.auprc),
            ];
            if with_baseline {
                row.push(metric(baseline_f1(&c.class)));
            }
            row
        })
        .collect();
    let mut numeric = vec![false];
    numeric.extend(std::iter::repeat_n(true, header.len() - 1));
    let mut out = String::from(
        "<p class=\"hint\">Test set, each class one-vs-rest. Recall is the share of the class found; precision the \
         share of the class's predictions that are right.</p>\n",
    );
    out.push_str(&table("compact", &header, &rows, &numeric));
    out
}

/// The multi-label per-task table.
fn multilabel(test: &Scores, baseline: Option<&Scores>) -> String {
    let Some(tasks) = &test.per_task else {
        return note("<code>metrics.json</code> has no per-task metrics.");
    };
    let baseline_auroc = |name: &str| baseline?.per_task.as_ref()?.iter().find(|(n, _)| n == name)?.1.auroc;
    let with_baseline = baseline.and_then(|b| b.per_task.as_ref()).is_some();
    let mut header: Vec<String> =
        ["task", "positives", "prevalence", "precision", "recall", "F1", "MCC", "AUROC", "AUPRC"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    if with_baseline {
        header.push("baseline AUROC".into());
    }
    let rows: Vec<Vec<String>> = tasks
        .iter()
        .map(|(name, s)| {
            let positives = s.confusion_matrix.as_ref().and_then(|m| m.get(1)).map(|row| row.iter().sum::<f64>());
            let mut row = vec![
                escape(name),
                count(positives),
                metric(s.prevalence),
                metric(s.precision),
                metric(s.recall),
                metric(s.f1),
                metric(s.mcc),
                metric(s.auroc),
                metric(s.auprc),
            ];
            if with_baseline {
                row.push(metric(baseline_auroc(name)));
            }
            row
        })
        .collect();
    let mut numeric = vec![false];
    numeric.extend(std::iter::repeat_n(true, header.len() - 1));
    let mut out = String::from("<p class=\"hint\">Test set, one row per task (each a separate yes/no decision).</p>\n");
    out.push_str(&table("compact", &header, &rows, &numeric));
    out
}

/// The regression per-target table.
fn regression(test: &Scores, baseline: Option<&Scores>) -> String {
    let Some(tasks) = &test.per_task else {
        return note("<code>metrics.json</code> has no per-target metrics.");
    };
    let baseline_pearson = |name: &str| baseline?.per_task.as_ref()?.iter().find(|(n, _)| n == name)?.1.pearson;
    let with_baseline = baseline.and_then(|b| b.per_task.as_ref()).is_some();
    let mut header: Vec<String> =
        ["target", "examples", "Pearson r", "Spearman ρ", "R²", "MSE", "MAE"].iter().map(|s| s.to_string()).collect();
    if with_baseline {
        header.push("baseline Pearson r".into());
    }
    let rows: Vec<Vec<String>> = tasks
        .iter()
        .map(|(name, s)| {
            let mut row = vec![
                escape(name),
                count(s.n),
                metric(s.pearson),
                metric(s.spearman),
                metric(s.r2),
                metric(s.mse),
                metric(s.mae),
            ];
            if with_baseline {
                row.push(metric(baseline_pearson(name)));
            }
            row
        })
        .collect();
    let mut numeric = vec![false];
    numeric.extend(std::iter::repeat_n(true, header.len() - 1));
    let mut out = String::from(
        "<p class=\"hint\">Test set, one row per target. MSE and MAE are in the target's units (squared for MSE).</p>\n",
    );
    out.push_str(&table("compact", &header, &rows, &numeric));
    out
}

/// Mean reconstruction error per label, from the test predictions.
fn reconstruction(run: &Run) -> Result<String, ReportError> {
    let Some(predictions) = &run.predictions else {
        return Ok(super::missing("test_predictions.tsv", "the reconstruction error per label"));
    };
    let (Some(label), Some(error)) = (label_column(predictions), predictions.column("reconstruction_error")) else {
        return Ok(super::not_applicable(
            "an autoencoder has no classes; <code>test_predictions.tsv</code> has no labels to group its \
             reconstruction error by.",
        ));
    };
    // Group in order of first appearance (deterministic).
    let mut groups: Vec<(String, f64, usize)> = Vec::new();
    for (line, fields) in &predictions.rows {
        let name = fields.get(label).map_or("", |f| f.trim()).to_string();
        let Some(value) = predictions.number_at(*line, fields, error)? else { continue };
        match groups.iter_mut().find(|(known, _, _)| *known == name) {
            Some((_, sum, n)) => {
                *sum += value;
                *n += 1;
            }
            None => groups.push((name, value, 1)),
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|(name, sum, n)| {
            let shown = if name.is_empty() { "(no label)".to_string() } else { escape(name) };
            vec![shown, count(Some(*n as f64)), metric(Some(sum / *n as f64))]
        })
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<p class=\"hint\">An autoencoder has no classes to predict; here is its mean test reconstruction error per \
         label, to see which groups it models worst (labels are not used in training).</p>"
    );
    out.push_str(&table(
        "compact",
        &["label".into(), "test examples".into(), "mean reconstruction error".into()],
        &rows,
        &[false, true, true],
    ));
    Ok(out)
}
