//! Classification metrics for omix that reproduce scikit-learn to within 1e-9.
//!
//! Binary, multi-class and multi-label metrics with scikit-learn's conventions:
//! undefined precision, recall and F1 are 0 (`zero_division=0`), an undefined
//! MCC is 0, balanced accuracy averages recall over the classes present, and
//! AUROC / average precision group tied scores exactly as scikit-learn's
//! `_binary_clf_curve`. Counts are accumulated as integers and divided at the end.
//!
//! ```
//! use omix_metrics::{binary_metrics, multiclass_metrics, roc_auc};
//!
//! # fn main() -> Result<(), omix_metrics::MetricsError> {
//! let labels = [true, false, true, false, true];
//! let scores = [0.9, 0.4, 0.4, 0.2, 0.7];
//! let m = binary_metrics(&labels, &scores, 0.5)?;
//! assert_eq!(m.confusion_matrix, [[2, 0], [1, 2]]); // [[TN, FP], [FN, TP]]
//! assert_eq!(m.precision, 1.0);
//! // 5.5 of the 6 (positive, negative) pairs are ranked correctly; the tie counts half.
//! assert_eq!(m.auroc, Some(5.5 / 6.0));
//! assert_eq!(roc_auc(&[true, true], &[0.1, 0.2]), None); // one class: undefined
//!
//! let classes = vec!["A".to_string(), "C".to_string(), "G".to_string()];
//! let probabilities = [0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4];
//! let mc = multiclass_metrics(&[0, 1, 2], &probabilities, &classes)?;
//! assert_eq!(mc.accuracy, 1.0);
//! assert_eq!(mc.macro_auroc, Some(1.0));
//! # Ok(())
//! # }
//! ```

mod any;
mod binary;
mod error;
mod multiclass;
mod multilabel;
mod profile;
mod ranking;
mod regression;

pub use any::{Metrics, ProfileSplitMetrics, ReconstructionMetrics};
pub use binary::{BinaryMetrics, binary_metrics};
pub use error::MetricsError;
pub use multiclass::{ClassMetrics, MulticlassMetrics, multiclass_metrics};
pub use multilabel::{MultilabelMetrics, multilabel_metrics, top_k_decisions};
pub use profile::{
    ProfileLayout, ProfileMetrics, jensen_shannon_distance, multinomial_log_factorials, multinomial_nll,
    profile_pearson,
};
pub use ranking::{average_precision, precision_recall_curve, roc_auc, roc_curve};
pub use regression::{RegressionMetrics, RegressionTaskMetrics, pearson, regression_metrics, spearman};
