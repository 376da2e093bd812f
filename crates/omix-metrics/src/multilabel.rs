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
    /// Names of tasks without any negative example (AUROC undefined, AUPRC 1).
    #[serde(default)]
    pub tasks_without_negatives: Vec<String>,
    /// Number of tasks with both classes present: those behind `macro_auroc` and `median_auroc`.
    #[serde(default)]
    pub tasks_with_auroc: usize,
    /// Number of tasks with positives: those behind `macro_auprc` and `median_auprc`.
    #[serde(default)]
    pub tasks_with_auprc: usize,
}

/// Multi-label metrics of row-major `n x task_names.len()` `labels` and `scores` at `threshold`.
///
/// A task with a single class is not an error: it gets `auroc: None` and is listed in
/// `tasks_without_negatives` or `tasks_without_positives` (the latter also with `auprc: None`).
/// Summaries (mean and median, as DeepSEA reports them) are taken over the tasks where the
/// metric is defined, whose numbers are `tasks_with_auroc` and `tasks_with_auprc`.
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
    let mut tasks_without_negatives = Vec::new();
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
        if task_tp + task_fn == m.support as u64 {
            tasks_without_negatives.push(name.clone());
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
        tasks_without_negatives,
        tasks_with_auroc: aurocs.len(),
        tasks_with_auprc: auprcs.len(),
        per_task,
    })
}

/// Mean, or `None` for an empty slice.
pub(crate) fn mean_opt(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| mean(values))
}

/// Median as numpy computes it (mean of the two middle values for even counts); `None` if empty.
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        len if len % 2 == 1 => sorted.get(mid).copied(),
        _ => Some((sorted[mid - 1] + sorted[mid]) / 2.0),
    }
}

/// For each row, mark its `k` highest scores, `k` being the number of true labels in the row
/// (ties go to the lower class index).
///
/// `labels` and `scores` are row-major `[rows, classes]`.
pub fn top_k_decisions(labels: &[bool], scores: &[f64], classes: usize) -> Vec<bool> {
    let mut decisions = vec![false; labels.len()];
    let mut order: Vec<usize> = Vec::with_capacity(classes);
    for (row, (truth, score)) in labels.chunks(classes.max(1)).zip(scores.chunks(classes.max(1))).enumerate() {
        let k = truth.iter().filter(|&&t| t).count();
        order.clear();
        order.extend(0..score.len());
        order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
        for &class in order.iter().take(k) {
            decisions[row * classes + class] = true;
        }
    }
    decisions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_picks_as_many_labels_as_are_true() {
        let labels = [true, false, true, false, /* row 2 */ false, false, false, true];
        let scores = [0.9, 0.8, 0.1, 0.7, /* row 2 */ 0.2, 0.6, 0.6, 0.1];
        let decisions = top_k_decisions(&labels, &scores, 4);
        // Row 1: k = 2 → classes 0 and 1. Row 2: k = 1 → class 1 (tie with 2 goes to the lower index).
        assert_eq!(decisions, [true, true, false, false, false, true, false, false]);
    }

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
    fn single_class_tasks_are_counted_and_do_not_poison_summaries() -> Result<(), MetricsError> {
        // task0 normal, task1 all positive, task2 all negative, task3 normal (AUROC 0.75).
        #[rustfmt::skip]
        let labels = [
            true,  true, false, true,
            false, true, false, false,
            true,  true, false, true,
            false, true, false, false,
        ];
        #[rustfmt::skip]
        let scores = [
            0.9, 0.2, 0.1, 0.8,
            0.1, 0.3, 0.9, 0.5,
            0.8, 0.7, 0.4, 0.3,
            0.2, 0.1, 0.6, 0.1,
        ];
        let m = multilabel_metrics(&labels, &scores, &names(4), 0.5)?;
        assert_eq!(m.per_task[1].1.auroc, None);
        assert_eq!(m.per_task[1].1.auprc, Some(1.0));
        assert_eq!(m.per_task[2].1.auroc, None);
        assert_eq!(m.per_task[2].1.auprc, None);
        assert_eq!(m.tasks_without_negatives, vec!["task1".to_string()]);
        assert_eq!(m.tasks_without_positives, vec!["task2".to_string()]);
        assert_eq!((m.tasks_with_auroc, m.tasks_with_auprc), (2, 3));
        let auroc3 = m.per_task[3].1.auroc.ok_or(MetricsError::Empty)?;
        assert!((auroc3 - 0.75).abs() < 1e-12);
        assert_eq!(m.macro_auroc, Some((1.0 + auroc3) / 2.0));
        assert_eq!(m.median_auroc, Some((1.0 + auroc3) / 2.0));
        let auprcs: Vec<f64> = m.per_task.iter().filter_map(|(_, t)| t.auprc).collect();
        assert_eq!(auprcs.len(), 3);
        assert_eq!(m.median_auprc, median(&auprcs));
        assert!(m.macro_auprc.is_some_and(f64::is_finite));
        assert!(m.macro_f1.is_finite() && m.micro_f1.is_finite());
        Ok(())
    }

    #[test]
    fn no_task_with_both_classes_gives_no_auroc_summary() -> Result<(), MetricsError> {
        let labels = [true, false, true, false];
        let m = multilabel_metrics(&labels, &[0.2, 0.4, 0.9, 0.1], &names(2), 0.5)?;
        assert_eq!((m.macro_auroc, m.median_auroc, m.tasks_with_auroc), (None, None, 0));
        assert_eq!(m.macro_auprc, Some(1.0));
        assert_eq!(m.median_auprc, Some(1.0));
        assert_eq!(m.tasks_without_negatives, vec!["task0".to_string()]);
        assert_eq!(m.tasks_without_positives, vec!["task1".to_string()]);
        Ok(())
    }

    #[test]
    fn summaries_survive_a_serde_round_trip_without_the_new_fields() {
        // Older metrics.json files lack the counts and the no-negatives list.
        let old = r#"{"per_task": [], "macro_auroc": null, "median_auroc": null, "macro_auprc": null,
            "median_auprc": null, "micro_f1": 0.0, "macro_f1": 0.0, "tasks_without_positives": []}"#;
        let parsed: Result<MultilabelMetrics, _> = serde_json::from_str(old);
        assert!(parsed.is_ok_and(|m| m.tasks_with_auroc == 0 && m.tasks_without_negatives.is_empty()));
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
