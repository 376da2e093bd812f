//! Metrics for a single binary classification task.

use crate::MetricsError;
use crate::ranking::{ap_from_curve, auc_from_curve, clf_curve};

/// Threshold-dependent and ranking metrics of one binary classifier.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BinaryMetrics {
    /// Fraction of examples classified correctly.
    pub accuracy: f64,
    /// Mean recall over the classes present in the labels (scikit-learn).
    pub balanced_accuracy: f64,
    /// TP / (TP + FP); 0 when nothing is predicted positive.
    pub precision: f64,
    /// TP / (TP + FN) (sensitivity); 0 when there are no positives.
    pub recall: f64,
    /// TN / (TN + FP); 0 when there are no negatives.
    pub specificity: f64,
    /// Harmonic mean of precision and recall; 0 when undefined.
    pub f1: f64,
    /// Matthews correlation coefficient; 0 when undefined.
    pub mcc: f64,
    /// Area under the ROC curve; `None` when only one class is present.
    pub auroc: Option<f64>,
    /// Average precision (area under the PR curve); `None` without positives.
    pub auprc: Option<f64>,
    /// Fraction of positive examples (the AUPRC of a random classifier).
    pub prevalence: f64,
    /// Decision threshold: predicted positive iff `score >= threshold`.
    pub threshold: f64,
    /// Number of examples.
    pub support: usize,
    /// `[[TN, FP], [FN, TP]]`: rows are the true class, columns the prediction (scikit-learn layout).
    pub confusion_matrix: [[u64; 2]; 2],
}

/// Binary metrics of `scores` (positive-class scores) against `labels` at `threshold`.
///
/// An example is predicted positive iff `score >= threshold`. Errors when the
/// slices differ in length, are empty, hold a non-finite score, or the threshold is NaN.
pub fn binary_metrics(labels: &[bool], scores: &[f64], threshold: f64) -> Result<BinaryMetrics, MetricsError> {
    check_binary_inputs(labels, scores)?;
    if threshold.is_nan() {
        return Err(MetricsError::NanThreshold);
    }
    let mut cm = [[0u64; 2]; 2];
    for (&label, &score) in labels.iter().zip(scores) {
        cm[usize::from(label)][usize::from(score >= threshold)] += 1;
    }
    let [[tn, fp], [fn_, tp]] = cm;
    let n = labels.len();
    let positives = tp + fn_;
    let negatives = tn + fp;

    let recall = ratio(tp, positives);
    let specificity = ratio(tn, negatives);
    let present_recalls: Vec<f64> = [(negatives, specificity), (positives, recall)]
        .into_iter()
        .filter(|&(support, _)| support > 0)
        .map(|(_, r)| r)
        .collect();

    let curve = clf_curve(labels, scores);
    Ok(BinaryMetrics {
        accuracy: ratio(tp + tn, n as u64),
        balanced_accuracy: mean(&present_recalls),
        precision: ratio(tp, tp + fp),
        recall,
        specificity,
        f1: ratio(2 * tp, 2 * tp + fp + fn_),
        mcc: matthews_corrcoef(&[cm[0].as_slice(), cm[1].as_slice()]),
        auroc: curve.as_ref().and_then(auc_from_curve),
        auprc: curve.as_ref().and_then(ap_from_curve),
        prevalence: ratio(positives, n as u64),
        threshold,
        support: n,
        confusion_matrix: cm,
    })
}

/// Validates lengths, emptiness and finiteness of one task's inputs.
pub(crate) fn check_binary_inputs(labels: &[bool], scores: &[f64]) -> Result<(), MetricsError> {
    if labels.len() != scores.len() {
        return Err(MetricsError::LengthMismatch { labels: labels.len(), scores: scores.len() });
    }
    if labels.is_empty() {
        return Err(MetricsError::Empty);
    }
    check_finite(scores)
}

/// Errors with the index of the first non-finite value.
pub(crate) fn check_finite(values: &[f64]) -> Result<(), MetricsError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(MetricsError::NonFinite { index }),
        None => Ok(()),
    }
}

/// `num / den`, or 0 when `den == 0` (scikit-learn `zero_division=0`).
pub(crate) fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 { 0.0 } else { num as f64 / den as f64 }
}

/// Arithmetic mean, 0 for an empty slice.
pub(crate) fn mean(values: &[f64]) -> f64 {
    if values.is_empty() { 0.0 } else { values.iter().sum::<f64>() / values.len() as f64 }
}

/// Matthews correlation coefficient of a square confusion matrix (rows true,
/// columns predicted), scikit-learn's multi-class formula; 0 when undefined.
pub(crate) fn matthews_corrcoef(cm: &[&[u64]]) -> f64 {
    let k = cm.len();
    let t_sum: Vec<i128> = cm.iter().map(|row| row.iter().map(|&v| i128::from(v)).sum()).collect();
    let p_sum: Vec<i128> =
        (0..k).map(|j| cm.iter().map(|row| row.get(j).map_or(0, |&v| i128::from(v))).sum()).collect();
    let n_correct: i128 = (0..k).map(|i| cm[i].get(i).map_or(0, |&v| i128::from(v))).sum();
    let n: i128 = t_sum.iter().sum();
    let dot = |a: &[i128], b: &[i128]| -> i128 { a.iter().zip(b).map(|(x, y)| x * y).sum() };
    let cov_ytyp = n_correct * n - dot(&t_sum, &p_sum);
    let cov_ypyp = n * n - dot(&p_sum, &p_sum);
    let cov_ytyt = n * n - dot(&t_sum, &t_sum);
    if cov_ypyp == 0 || cov_ytyt == 0 {
        return 0.0;
    }
    cov_ytyp as f64 / (cov_ypyp as f64 * cov_ytyt as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12
    }

    #[test]
    fn hand_computed_case() -> Result<(), MetricsError> {
        let labels = [true, true, true, false, false, false, false, true];
        let scores = [0.9, 0.8, 0.3, 0.6, 0.2, 0.1, 0.5, 0.5];
        let m = binary_metrics(&labels, &scores, 0.5)?;
        // predicted: 1 1 0 1 0 0 1 1 -> TP 3, FN 1, FP 2, TN 2
        assert_eq!(m.confusion_matrix, [[2, 2], [1, 3]]);
        assert!(close(m.accuracy, 5.0 / 8.0));
        assert!(close(m.precision, 3.0 / 5.0));
        assert!(close(m.recall, 3.0 / 4.0));
        assert!(close(m.specificity, 2.0 / 4.0));
        assert!(close(m.balanced_accuracy, (0.75 + 0.5) / 2.0));
        assert!(close(m.f1, 6.0 / 9.0));
        let mcc = (3.0 * 2.0 - 2.0 * 1.0) / (5.0_f64 * 4.0 * 4.0 * 3.0).sqrt();
        assert!(close(m.mcc, mcc));
        assert!(close(m.prevalence, 0.5));
        assert_eq!(m.support, 8);
        Ok(())
    }

    #[test]
    fn zero_division_gives_zero() -> Result<(), MetricsError> {
        let m = binary_metrics(&[true, false, false], &[0.1, 0.2, 0.3], 0.9)?;
        assert_eq!(m.precision, 0.0);
        assert_eq!(m.recall, 0.0);
        assert_eq!(m.f1, 0.0);
        assert_eq!(m.mcc, 0.0);
        assert!(close(m.balanced_accuracy, 0.5));
        Ok(())
    }

    #[test]
    fn single_class_has_no_auroc() -> Result<(), MetricsError> {
        let m = binary_metrics(&[false, false], &[0.1, 0.7], 0.5)?;
        assert_eq!(m.auroc, None);
        assert_eq!(m.auprc, None);
        assert!(close(m.balanced_accuracy, 0.5));
        Ok(())
    }

    #[test]
    fn errors_are_reported() {
        assert_eq!(
            binary_metrics(&[true], &[0.1, 0.2], 0.5),
            Err(MetricsError::LengthMismatch { labels: 1, scores: 2 })
        );
        assert_eq!(binary_metrics(&[], &[], 0.5), Err(MetricsError::Empty));
        assert_eq!(binary_metrics(&[true, false], &[0.1, f64::NAN], 0.5), Err(MetricsError::NonFinite { index: 1 }));
        assert_eq!(binary_metrics(&[true, false], &[0.1, 0.2], f64::NAN), Err(MetricsError::NanThreshold));
    }

    #[test]
    fn serde_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let m = binary_metrics(&[true, false, true], &[0.9, 0.4, 0.2], 0.5)?;
        let json = serde_json::to_string(&m)?;
        let back: BinaryMetrics = serde_json::from_str(&json)?;
        assert_eq!(back, m);
        Ok(())
    }
}
