//! Reading `test_predictions.tsv` into the label/score vectors the plots need.

use crate::ReportError;
use omix_run::view::{RunView as Run, Table, Task};

/// One ranking problem: a class one-vs-rest, a task, or the positive class of a binary task.
#[derive(Debug)]
pub(crate) struct Ranked {
    /// The class or task.
    pub name: String,
    /// Whether each example is a positive.
    pub labels: Vec<bool>,
    /// The model's probability for each example.
    pub scores: Vec<f64>,
}

impl Ranked {
    /// The number of positives.
    pub fn positives(&self) -> usize {
        self.labels.iter().filter(|&&label| label).count()
    }
}

/// Observed and predicted values of one regression target.
#[derive(Debug)]
pub(crate) struct Regressed {
    /// The target.
    pub name: String,
    /// `(observed, predicted)` per example.
    pub pairs: Vec<(f64, f64)>,
}

/// The column holding the true label(s) or target(s).
pub(crate) fn label_column(table: &Table) -> Option<usize> {
    table.first_column(&["label", "labels", "target", "targets"])
}

/// Columns named `prefix + something`, with the something.
fn prefixed<'a>(table: &'a Table, prefix: &str) -> Vec<(usize, &'a str)> {
    table
        .header
        .iter()
        .enumerate()
        .filter_map(|(index, name)| name.strip_prefix(prefix).map(|rest| (index, rest)))
        .collect()
}

/// The ranking problems of a classification run's predictions (empty for other tasks or when
/// the file has no probability columns).
pub(crate) fn ranked(run: &Run, table: &Table, task: &Task) -> Result<Vec<Ranked>, ReportError> {
    let Some(label) = label_column(table) else {
        return Err(ReportError::malformed(&table.path, Some(1), "the header has no `label` column"));
    };
    let probabilities = prefixed(table, "probability_");
    if probabilities.is_empty() {
        return Ok(Vec::new());
    }
    let classes = run.class_names();
    // (name, score column) per ranking problem.
    let problems: Vec<(String, usize)> = match task {
        Task::Binary => {
            let positive = classes.get(1).cloned().unwrap_or_else(|| "1".into());
            let column = probabilities
                .iter()
                .find(|(_, name)| *name == positive)
                .or_else(|| probabilities.last())
                .map(|(index, _)| *index);
            match column {
                Some(column) => vec![(positive, column)],
                None => Vec::new(),
            }
        }
        Task::Multiclass | Task::Multilabel => {
            probabilities.iter().map(|(index, name)| ((*name).to_string(), *index)).collect()
        }
        _ => Vec::new(),
    };
    let columns: Vec<usize> = problems.iter().map(|(_, column)| *column).collect();
    let mut out: Vec<Ranked> =
        problems.into_iter().map(|(name, _)| Ranked { name, labels: Vec::new(), scores: Vec::new() }).collect();
    for (line, fields) in &table.rows {
        let truth = fields.get(label).map_or("", |field| field.trim());
        if matches!(task, Task::Binary | Task::Multiclass) {
            if truth.is_empty() {
                continue;
            }
            if !classes.is_empty() && !classes.iter().any(|class| class == truth) {
                return Err(ReportError::malformed(
                    &table.path,
                    Some(*line),
                    format!("label `{truth}` is not one of the classes ({})", classes.join(", ")),
                ));
            }
        }
        for (problem, &column) in out.iter_mut().zip(&columns) {
            let Some(score) = table.number_at(*line, fields, column)? else { continue };
            if !score.is_finite() {
                continue;
            }
            let positive = match task {
                Task::Multilabel => truth.split(',').any(|part| part.trim() == problem.name),
                _ => truth == problem.name,
            };
            problem.labels.push(positive);
            problem.scores.push(score);
        }
    }
    Ok(out)
}

/// Observed and predicted values per regression target.
pub(crate) fn regressed(run: &Run, table: &Table) -> Result<Vec<Regressed>, ReportError> {
    let Some(target) = label_column(table) else {
        return Err(ReportError::malformed(&table.path, Some(1), "the header has no `target` column"));
    };
    let predictions = prefixed(table, "prediction_");
    let predictions: Vec<(usize, String)> = if predictions.is_empty() {
        table
            .column("prediction")
            .map(|index| (index, run.class_names().first().cloned().unwrap_or_default()))
            .into_iter()
            .collect()
    } else {
        predictions.into_iter().map(|(index, name)| (index, name.to_string())).collect()
    };
    let mut out: Vec<Regressed> =
        predictions.iter().map(|(_, name)| Regressed { name: name.clone(), pairs: Vec::new() }).collect();
    for (line, fields) in &table.rows {
        let observed_text = fields.get(target).map_or("", |field| field.trim());
        if observed_text.is_empty() {
            continue;
        }
        let observed: Vec<&str> = observed_text.split(',').map(str::trim).collect();
        if observed.len() != predictions.len() {
            return Err(ReportError::malformed(
                &table.path,
                Some(*line),
                format!("{} target values for {} prediction columns", observed.len(), predictions.len()),
            ));
        }
        for ((task, (column, _)), value) in out.iter_mut().zip(&predictions).zip(observed) {
            let Ok(value) = value.parse::<f64>() else {
                return Err(ReportError::malformed(
                    &table.path,
                    Some(*line),
                    format!("target `{value}` is not a number"),
                ));
            };
            if let Some(predicted) = table.number_at(*line, fields, *column)?
                && value.is_finite()
                && predicted.is_finite()
            {
                task.pairs.push((value, predicted));
            }
        }
    }
    Ok(out)
}
