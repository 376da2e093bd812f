//! Confusion-matrix heatmaps: rows are the true class, columns the predicted class.

use std::fmt::Write as _;

use crate::ReportError;
use crate::html::{escape, note};
use crate::plot::{confusion_svg, figure};
use crate::predictions::label_column;
use omix_run::view::{RunView as Run, Task};

/// At most this many per-task matrices for multi-label runs.
const MAX_TASKS: usize = 12;
/// At most this many classes in one heatmap.
const MAX_CLASSES: usize = 40;

/// The confusion body.
pub(super) fn body(run: &Run) -> Result<String, ReportError> {
    let task = run.task();
    match task {
        Task::Regression => {
            return Ok(super::not_applicable(
                "a regression model predicts values, not classes (see the predicted-vs-observed plots).",
            ));
        }
        Task::Reconstruction => {
            return Ok(super::not_applicable("an autoencoder predicts no classes."));
        }
        Task::Unknown(_) => return Ok(super::not_applicable("the task of this run is not known.")),
        _ => {}
    }
    let classes = run.class_names();
    let metrics = run.metrics.as_ref();
    let test = run.test_scores();
    let mut out = String::new();
    if task == Task::Multilabel {
        let Some(tasks) = test.and_then(|scores| scores.per_task.as_ref()) else {
            return Ok(super::missing("metrics.json", "the per-task confusion matrices"));
        };
        out.push_str(&note(
            "Each task is a yes/no decision at the model's threshold, so each has its own 2 × 2 matrix \
             (0 = not this task, 1 = this task). Numbers are test examples; colour and percentage are the share of \
             the true class (row %).",
        ));
        if tasks.len() > MAX_TASKS {
            out.push_str(&note(&format!("The first {MAX_TASKS} of {} tasks are shown.", tasks.len())));
        }
        out.push_str("<div class=\"plots\">\n");
        let names = vec!["0".to_string(), "1".to_string()];
        for (index, (name, scores)) in tasks.iter().take(MAX_TASKS).enumerate() {
            if let Some(matrix) = scores.confusion_matrix.as_ref().filter(|m| square(m, 2)) {
                out.push_str(&figure(
                    &confusion_svg(&format!("confusion-task-{index}"), &format!("task {name}"), matrix, &names, 62.0),
                    "",
                ));
            }
        }
        out.push_str("</div>\n");
        return Ok(out);
    }

    let matrix = match test.and_then(|scores| scores.confusion_matrix.clone()) {
        Some(matrix) => Some(matrix),
        None => from_predictions(run, &classes)?,
    };
    let Some(matrix) = matrix.filter(|m| square(m, classes.len())) else {
        return Ok(super::missing("metrics.json", "the confusion matrix"));
    };
    if classes.len() > MAX_CLASSES {
        return Ok(note(&format!(
            "{} classes are too many for a readable heatmap (at most {MAX_CLASSES}); see the per-class table.",
            classes.len()
        )));
    }
    let threshold = test.and_then(|scores| scores.threshold);
    let rule = match (task.clone(), threshold) {
        (Task::Binary, Some(threshold)) => format!(
            "A test example is predicted positive (<code>{}</code>) when its probability is at least {threshold}.",
            escape(classes.get(1).map_or("1", String::as_str))
        ),
        _ => "Each test example is assigned the class with the highest probability.".to_string(),
    };
    let _ = writeln!(
        out,
        "<p class=\"hint\">{rule} Rows are the true class, columns the predicted class; correct predictions lie \
         on the diagonal. Numbers are test examples; colour and percentage are the share of the true class (row %).</p>"
    );
    out.push_str("<div class=\"plots\">\n");
    out.push_str(&figure(&confusion_svg("confusion-model", "Model, test set", &matrix, &classes, 110.0), ""));
    if let Some((model, baseline)) = metrics
        .and_then(|m| m.baseline.as_ref())
        .and_then(|b| Some((b.model.clone(), b.test.as_ref()?.confusion_matrix.clone()?)))
        .filter(|(_, m)| square(m, classes.len()))
    {
        out.push_str(&figure(
            &confusion_svg("confusion-baseline", "Baseline, test set", &baseline, &classes, 110.0),
            &format!("Baseline: {}.", escape(model.as_deref().unwrap_or("a simple model"))),
        ));
    }
    out.push_str("</div>\n");
    Ok(out)
}

/// Whether `matrix` is `n x n` (and not empty).
fn square(matrix: &[Vec<f64>], n: usize) -> bool {
    n > 0 && matrix.len() == n && matrix.iter().all(|row| row.len() == n)
}

/// Counts the `label` / `predicted` pairs of `test_predictions.tsv`.
fn from_predictions(run: &Run, classes: &[String]) -> Result<Option<Vec<Vec<f64>>>, ReportError> {
    let Some(table) = &run.predictions else { return Ok(None) };
    let (Some(label), Some(predicted)) = (label_column(table), table.column("predicted")) else {
        return Ok(None);
    };
    let mut matrix = vec![vec![0.0; classes.len()]; classes.len()];
    for (line, fields) in &table.rows {
        let truth = fields.get(label).map_or("", |f| f.trim());
        let guess = fields.get(predicted).map_or("", |f| f.trim());
        if truth.is_empty() || guess.is_empty() {
            continue;
        }
        let row = classes.iter().position(|c| c == truth);
        let column = classes.iter().position(|c| c == guess);
        match (row, column) {
            (Some(row), Some(column)) => matrix[row][column] += 1.0,
            _ => {
                return Err(ReportError::malformed(
                    &table.path,
                    Some(*line),
                    format!("label `{truth}` or prediction `{guess}` is not one of the classes"),
                ));
            }
        }
    }
    Ok(Some(matrix))
}
