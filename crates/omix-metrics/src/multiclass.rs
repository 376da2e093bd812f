//! Metrics for single-label multi-class classification.

use crate::MetricsError;
use crate::binary::{check_finite, matthews_corrcoef, mean, ratio};
use crate::ranking::{ap_from_curve, auc_from_curve, clf_curve};

/// One-vs-rest metrics of one class in a multi-class problem.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassMetrics {
    /// Class name.
    pub class: String,
    /// Precision of predictions of this class; 0 when never predicted.
    pub precision: f64,
    /// Recall of this class; 0 when absent from the labels.
    pub recall: f64,
    /// Fraction of other-class examples not predicted as this class; 0 when undefined.
    pub specificity: f64,
    /// F1 of this class; 0 when undefined.
    pub f1: f64,
    /// One-vs-rest AUROC of this class's probability column; `None` when undefined.
    pub auroc: Option<f64>,
    /// One-vs-rest average precision; `None` when the class is absent from the labels.
    pub auprc: Option<f64>,
    /// Fraction of examples of this class.
    pub prevalence: f64,
    /// Number of examples of this class.
    pub support: usize,
}

/// Aggregate and per-class metrics of a multi-class classifier.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MulticlassMetrics {
    /// Fraction of examples whose argmax prediction is the label.
    pub accuracy: f64,
    /// Mean recall over classes present in the labels (scikit-learn).
    pub balanced_accuracy: f64,
    /// Multi-class Matthews correlation coefficient (scikit-learn); 0 when undefined.
    pub mcc: f64,
    /// Mean precision over classes present in labels or predictions (scikit-learn `average="macro"`).
    pub macro_precision: f64,
    /// Mean recall over classes present in labels or predictions.
    pub macro_recall: f64,
    /// Mean F1 over classes present in labels or predictions.
    pub macro_f1: f64,
    /// Global TP / (TP + FP) (equals accuracy).
    pub micro_precision: f64,
    /// Global TP / (TP + FN) (equals accuracy).
    pub micro_recall: f64,
    /// Global F1 (equals accuracy).
    pub micro_f1: f64,
    /// Per-class F1 averaged with class supports as weights.
    pub weighted_f1: f64,
    /// Mean one-vs-rest AUROC (scikit-learn `multi_class="ovr", average="macro"`); `None` if any class has no examples.
    pub macro_auroc: Option<f64>,
    /// Mean one-vs-rest average precision; `None` if any class has no examples.
    pub macro_auprc: Option<f64>,
    /// Metrics of each class, in class-index order.
    pub per_class: Vec<ClassMetrics>,
    /// `confusion_matrix[true][predicted]` counts.
    pub confusion_matrix: Vec<Vec<u64>>,
    /// Number of examples.
    pub support: usize,
}

/// Multi-class metrics of row-major `n x class_names.len()` `probabilities` against class-index `labels`.
///
/// The prediction of a row is its argmax (the first maximum on ties, as numpy).
/// Errors when there are no examples or classes, the matrix shape does not
/// match, a probability is not finite, or a label is out of range.
pub fn multiclass_metrics(
    labels: &[usize],
    probabilities: &[f64],
    class_names: &[String],
) -> Result<MulticlassMetrics, MetricsError> {
    let k = class_names.len();
    if k == 0 {
        return Err(MetricsError::NoColumns);
    }
    let n = labels.len();
    if n.checked_mul(k) != Some(probabilities.len()) {
        return Err(MetricsError::ShapeMismatch { rows: n, columns: k, values: probabilities.len() });
    }
    if n == 0 {
        return Err(MetricsError::Empty);
    }
    check_finite(probabilities)?;
    if let Some((index, &class)) = labels.iter().enumerate().find(|&(_, &c)| c >= k) {
        return Err(MetricsError::ClassOutOfRange { index, class, classes: k });
    }

    let mut cm = vec![vec![0u64; k]; k];
    for (row, &label) in probabilities.chunks_exact(k).zip(labels) {
        cm[label][argmax(row)] += 1;
    }
    let true_sum: Vec<u64> = cm.iter().map(|row| row.iter().sum()).collect();
    let pred_sum: Vec<u64> = (0..k).map(|j| cm.iter().map(|row| row[j]).sum()).collect();
    let tp: Vec<u64> = (0..k).map(|i| cm[i][i]).collect();
    let n64 = n as u64;

    let mut per_class = Vec::with_capacity(k);
    for (c, name) in class_names.iter().enumerate() {
        let is_c: Vec<bool> = labels.iter().map(|&l| l == c).collect();
        let column: Vec<f64> = probabilities.iter().skip(c).step_by(k).copied().collect();
        let curve = clf_curve(&is_c, &column);
        let fp = pred_sum[c] - tp[c];
        let tn = n64 - true_sum[c] - fp;
        per_class.push(ClassMetrics {
            class: name.clone(),
            precision: ratio(tp[c], pred_sum[c]),
            recall: ratio(tp[c], true_sum[c]),
            specificity: ratio(tn, tn + fp),
            f1: ratio(2 * tp[c], true_sum[c] + pred_sum[c]),
            auroc: curve.as_ref().and_then(auc_from_curve),
            auprc: curve.as_ref().and_then(ap_from_curve),
            prevalence: ratio(true_sum[c], n64),
            support: usize::try_from(true_sum[c]).unwrap_or(usize::MAX),
        });
    }

    // scikit-learn's default label set for macro averages: classes seen in labels or predictions.
    let seen: Vec<&ClassMetrics> =
        per_class.iter().enumerate().filter(|&(c, _)| true_sum[c] + pred_sum[c] > 0).map(|(_, m)| m).collect();
    let macro_of = |f: fn(&ClassMetrics) -> f64| mean(&seen.iter().map(|m| f(m)).collect::<Vec<_>>());
    let present_recalls: Vec<f64> =
        per_class.iter().zip(&true_sum).filter(|&(_, &s)| s > 0).map(|(m, _)| m.recall).collect();
    let total_tp: u64 = tp.iter().sum();
    let total_pred: u64 = pred_sum.iter().sum();
    let total_true: u64 = true_sum.iter().sum();
    let weighted_f1 = per_class.iter().zip(&true_sum).map(|(m, &s)| m.f1 * s as f64).sum::<f64>() / n as f64;
    let all_aurocs: Option<Vec<f64>> = per_class.iter().map(|m| m.auroc).collect();
    let all_auprcs: Option<Vec<f64>> = per_class.iter().map(|m| m.auprc).collect();
    let cm_rows: Vec<&[u64]> = cm.iter().map(Vec::as_slice).collect();

    Ok(MulticlassMetrics {
        accuracy: ratio(total_tp, n64),
        balanced_accuracy: mean(&present_recalls),
        mcc: matthews_corrcoef(&cm_rows),
        macro_precision: macro_of(|m| m.precision),
        macro_recall: macro_of(|m| m.recall),
        macro_f1: macro_of(|m| m.f1),
        micro_precision: ratio(total_tp, total_pred),
        micro_recall: ratio(total_tp, total_true),
        micro_f1: ratio(2 * total_tp, total_true + total_pred),
        weighted_f1,
        macro_auroc: all_aurocs.map(|v| mean(&v)),
        macro_auprc: all_auprcs.map(|v| mean(&v)),
        per_class,
        confusion_matrix: cm,
        support: n,
    })
}

/// Index of the first maximum of a non-empty row of finite values.
fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(k: usize) -> Vec<String> {
        (0..k).map(|i| format!("class{i}")).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12
    }

    #[test]
    fn argmax_takes_first_maximum() {
        assert_eq!(argmax(&[0.2, 0.4, 0.4]), 1);
        assert_eq!(argmax(&[0.5, 0.5]), 0);
        assert_eq!(argmax(&[-1.0]), 0);
    }

    #[test]
    fn small_three_class_case() -> Result<(), MetricsError> {
        let labels = [0, 1, 2, 2];
        #[rustfmt::skip]
        let probs = [
            0.8, 0.1, 0.1,
            0.3, 0.6, 0.1,
            0.2, 0.5, 0.3,
            0.1, 0.1, 0.8,
        ];
        let m = multiclass_metrics(&labels, &probs, &names(3))?;
        assert_eq!(m.confusion_matrix, vec![vec![1, 0, 0], vec![0, 1, 0], vec![0, 1, 1]]);
        assert!(close(m.accuracy, 0.75));
        assert!(close(m.balanced_accuracy, (1.0 + 1.0 + 0.5) / 3.0));
        assert!(close(m.micro_f1, 0.75));
        assert!(close(m.per_class[1].precision, 0.5));
        assert!(close(m.per_class[1].specificity, 2.0 / 3.0));
        assert_eq!(m.per_class[2].support, 2);
        assert!(m.macro_auroc.is_some());
        Ok(())
    }

    #[test]
    fn missing_class_makes_macro_auc_undefined() -> Result<(), MetricsError> {
        let m = multiclass_metrics(&[0, 1], &[0.9, 0.1, 0.0, 0.2, 0.7, 0.1], &names(3))?;
        assert_eq!(m.macro_auroc, None);
        assert_eq!(m.macro_auprc, None);
        assert_eq!(m.per_class[2].auroc, None);
        // Class 2 is neither a label nor a prediction: excluded from macro averages.
        assert!(close(m.macro_f1, 1.0));
        Ok(())
    }

    #[test]
    fn input_errors() {
        let two = names(2);
        assert_eq!(multiclass_metrics(&[0], &[0.5, 0.5], &[]), Err(MetricsError::NoColumns));
        assert_eq!(
            multiclass_metrics(&[0, 1], &[0.5, 0.5], &two),
            Err(MetricsError::ShapeMismatch { rows: 2, columns: 2, values: 2 })
        );
        assert_eq!(multiclass_metrics(&[], &[], &two), Err(MetricsError::Empty));
        assert_eq!(
            multiclass_metrics(&[0, 2], &[0.5, 0.5, 0.1, 0.9], &two),
            Err(MetricsError::ClassOutOfRange { index: 1, class: 2, classes: 2 })
        );
        assert_eq!(
            multiclass_metrics(&[0, 1], &[0.5, 0.5, f64::INFINITY, 0.9], &two),
            Err(MetricsError::NonFinite { index: 2 })
        );
    }
}
