//! Metrics for multi-label (multi-task binary) classification.

use crate::binary::{binary_metrics, check_finite, mean, ratio};
use crate::{BinaryMetrics, MetricsError};

/// Per-task and summary metrics of a multi-label classifier.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MultilabelMetrics {
    /// Binary metrics of each task, paired with the task name, in column order.
    pub per_task: Vec<(String, BinaryMetrics)>,
    /// Mean AUROC over tasks where it is defined; `None` if it is defined for none.
    pub macro_auroc: Option<f64>,
    /// Median AUROC over tasks where it is defined (numpy median).
    pub median_auroc: Option<f64>,
    /// Mean average precision over tasks with positives; `None` if no task has any.
    pub macro_auprc: Option<f64>,
    /// Median average precision over tasks with positives (numpy median).
    pub median_auprc: Option<f64>,
    /// F1 of all (example, task) decisions pooled (scikit-learn `average="micro"`).
    pub micro_f1: f64,
    /// Mean F1 over all tasks, 0 for undefined ones (scikit-learn `average="macro"`).
    pub macro_f1: f64,
    /// Names of tasks without any positive example.
    pub tasks_without_positives: Vec<String>,
}

/// Multi-label metrics of row-major `n x task_names.len()` `labels` and `scores` at `threshold`.
///
/// A task with a single class gets `auroc: None` (and, without positives,
/// `auprc: None`, and is listed in `tasks_without_positives`); it is not an error.
/// Errors when there are no tasks or examples, the shapes disagree, a score is
/// not finite (index into the flat slice), or the threshold is NaN.
pub fn multilabel_metrics(
    labels: &[bool],
    scores: &[f64],
    task_names: &[String],
    threshold: f64,
) -> Result<MultilabelMetrics, MetricsError> {
    let t = task_names.len();
    if t == 0 {
        return Err(MetricsError::NoColumns);
    }
    if labels.len() != scores.len() {
        return Err(MetricsError::LengthMismatch { labels: labels.len(), scores: scores.len() });
    }
    if !labels.len().is_multiple_of(t) {
        return Err(MetricsError::ShapeMismatch { rows: labels.len() / t, columns: t, values: labels.len() });
    }
    if labels.is_empty() {
        return Err(MetricsError::Empty);
    }
    check_finite(scores)?;
    if threshold.is_nan() {
        return Err(MetricsError::NanThreshold);
    }

    let mut per_task = Vec::with_capacity(t);
    let mut tasks_without_positives = Vec::new();
    let (mut tp, mut fp, mut fn_) = (0u64, 0u64, 0u64);
    for (j, name) in task_names.iter().enumerate() {
        let task_labels: Vec<bool> = labels.iter().skip(j).step_by(t).copied().collect();
        let task_scores: Vec<f64> = scores.iter().skip(j).step_by(t).copied().collect();
        let m = binary_metrics(&task_labels, &task_scores, threshold)?;
        let [[_, task_fp], [task_fn, task_tp]] = m.confusion_matrix;
        tp += task_tp;
        fp += task_fp;
        fn_ += task_fn;
        if task_tp + task_fn == 0 {
            tasks_without_positives.push(name.clone());
        }
        per_task.push((name.clone(), m));
    }

    let aurocs: Vec<f64> = per_task.iter().filter_map(|(_, m)| m.auroc).collect();
    let auprcs: Vec<f64> = per_task.iter().filter_map(|(_, m)| m.auprc).collect();
    let f1s: Vec<f64> = per_task.iter().map(|(_, m)| m.f1).collect();
    Ok(MultilabelMetrics {
        macro_auroc: mean_opt(&aurocs),
        median_auroc: median(&aurocs),
        macro_auprc: mean_opt(&auprcs),
        median_auprc: median(&auprcs),
        micro_f1: ratio(2 * tp, 2 * tp + fp + fn_),
        macro_f1: mean(&f1s),
        tasks_without_positives,
        per_task,
    })
}

/// Mean, or `None` for an empty slice.
fn mean_opt(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| mean(values))
}

/// Median as numpy computes it (mean of the two middle values for even counts); `None` if empty.
fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        len if len % 2 == 1 => sorted.get(mid).copied(),
        _ => Some((sorted[mid - 1] + sorted[mid]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(k: usize) -> Vec<String> {
        (0..k).map(|i| format!("task{i}")).collect()
    }

    #[test]
    fn median_matches_numpy() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn task_without_positives_is_listed() -> Result<(), MetricsError> {
        #[rustfmt::skip]
        let labels = [
            true, false,
            false, false,
            true, false,
            false, false,
        ];
        #[rustfmt::skip]
        let scores = [
            0.9, 0.1,
            0.2, 0.6,
            0.7, 0.3,
            0.4, 0.2,
        ];
        let m = multilabel_metrics(&labels, &scores, &names(2), 0.5)?;
        assert_eq!(m.tasks_without_positives, vec!["task1".to_string()]);
        assert_eq!(m.per_task[1].1.auroc, None);
        assert_eq!(m.macro_auroc, Some(1.0));
        assert_eq!(m.median_auroc, Some(1.0));
        // task0: TP 2; task1: FP 1 -> micro F1 = 4 / 5; macro = (1 + 0) / 2
        assert!((m.micro_f1 - 0.8).abs() < 1e-12);
        assert!((m.macro_f1 - 0.5).abs() < 1e-12);
        Ok(())
    }

    #[test]
    fn input_errors() {
        let two = names(2);
        assert_eq!(multilabel_metrics(&[true], &[0.5], &[], 0.5), Err(MetricsError::NoColumns));
        assert_eq!(
            multilabel_metrics(&[true, false, true], &[0.5, 0.1, 0.2], &two, 0.5),
            Err(MetricsError::ShapeMismatch { rows: 1, columns: 2, values: 3 })
        );
        assert_eq!(
            multilabel_metrics(&[true, false], &[0.5], &two, 0.5),
            Err(MetricsError::LengthMismatch { labels: 2, scores: 1 })
        );
        assert_eq!(multilabel_metrics(&[], &[], &two, 0.5), Err(MetricsError::Empty));
        assert_eq!(
            multilabel_metrics(&[true, false, true, true], &[0.5, 0.1, 0.2, f64::NAN], &two, 0.5),
            Err(MetricsError::NonFinite { index: 3 })
        );
    }
}
