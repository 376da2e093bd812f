//! The metrics of one split of any task, behind one type: what `metrics.json` holds per split
//! and what training monitors.

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::{BinaryMetrics, MulticlassMetrics, MultilabelMetrics, ProfileMetrics, RegressionMetrics};

/// A profile model's metrics on one split: per task, on peaks and on background regions apart
/// (a model can look good on peaks and still invent signal elsewhere).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileSplitMetrics {
    /// The loss (profile NLL + weighted count error), averaged over regions and tasks.
    pub loss: f64,
    /// Per task, on peaks.
    pub peaks: BTreeMap<String, ProfileMetrics>,
    /// Per task, on background regions (absent without background).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub background: BTreeMap<String, ProfileMetrics>,
}

impl ProfileSplitMetrics {
    /// The mean over tasks of one peak metric.
    fn peak_mean(&self, value: impl Fn(&ProfileMetrics) -> Option<f64>) -> Option<f64> {
        let values: Vec<f64> = self.peaks.values().filter_map(value).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    }
}

/// How well an autoencoder reconstructs its input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReconstructionMetrics {
    /// Mean reconstruction error per example.
    pub reconstruction_error: f64,
    /// What the error is: "mse" (mean squared error per feature, on standardised features
    /// when the pipeline standardises) or "cross_entropy" (per position, over the bases).
    pub error_kind: String,
    /// Number of examples.
    pub examples: usize,
}

/// Metrics of one split, by task kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Metrics {
    /// Binary classification.
    Binary(BinaryMetrics),
    /// Multi-class classification (macro averages beside per-class values).
    Multiclass(MulticlassMetrics),
    /// Multi-label classification.
    Multilabel(MultilabelMetrics),
    /// Regression (per task and mean/median over tasks).
    Regression(RegressionMetrics),
    /// Autoencoder reconstruction.
    Reconstruction(ReconstructionMetrics),
    /// Base-resolution profiles and counts (BPNet).
    Profile(ProfileSplitMetrics),
}

impl Metrics {
    /// A headline value by name (`accuracy`, `auroc`, `auprc`, `mcc`, `f1`, `balanced_accuracy`).
    pub fn get(&self, name: &str) -> Option<f64> {
        match self {
            Metrics::Binary(m) => match name {
                "accuracy" => Some(m.accuracy),
                "balanced_accuracy" => Some(m.balanced_accuracy),
                "auroc" => m.auroc,
                "auprc" => m.auprc,
                "mcc" => Some(m.mcc),
                "f1" => Some(m.f1),
                _ => None,
            },
            Metrics::Multiclass(m) => match name {
                "accuracy" => Some(m.accuracy),
                "balanced_accuracy" => Some(m.balanced_accuracy),
                "auroc" => m.macro_auroc,
                "auprc" => m.macro_auprc,
                "mcc" => Some(m.mcc),
                "f1" => Some(m.macro_f1),
                _ => None,
            },
            Metrics::Multilabel(m) => match name {
                "auroc" => m.macro_auroc,
                "auprc" => m.macro_auprc,
                "f1" => Some(m.macro_f1),
                _ => None,
            },
            Metrics::Regression(m) => match name {
                "pearson" => m.mean_pearson,
                "spearman" => m.mean_spearman,
                "r2" => Some(m.mean_r2),
                "mse" => Some(m.mean_mse),
                _ => None,
            },
            Metrics::Reconstruction(m) => match name {
                "mse" | "reconstruction_error" => Some(m.reconstruction_error),
                _ => None,
            },
            Metrics::Profile(m) => match name {
                "loss" => Some(m.loss),
                "jsd" => m.peak_mean(|t| t.median_jsd),
                "profile_pearson" => m.peak_mean(|t| t.median_profile_pearson),
                "count_pearson" | "pearson" => m.peak_mean(|t| t.count_pearson),
                "count_spearman" | "spearman" => m.peak_mean(|t| t.count_spearman),
                "count_mse" | "mse" => m.peak_mean(|t| Some(t.count_mse)),
                _ => None,
            },
        }
    }

    /// One line per task (multi-label and multi-task regression), empty otherwise.
    pub fn per_task_lines(&self) -> Vec<String> {
        let show = |value: Option<f64>| value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"));
        match self {
            Metrics::Multilabel(m) if m.per_task.len() > 1 => m
                .per_task
                .iter()
                .map(|(name, t)| {
                    format!(
                        "{name:<16} AUROC {}  AUPRC {} (prevalence {:.3})  F1 {:.4}  MCC {:.4}",
                        show(t.auroc),
                        show(t.auprc),
                        t.prevalence,
                        t.f1,
                        t.mcc
                    )
                })
                .collect(),
            Metrics::Regression(m) if m.per_task.len() > 1 => m
                .per_task
                .iter()
                .map(|(name, t)| {
                    format!(
                        "{name:<16} MSE {:.4}  Pearson {}  Spearman {}  R² {:.4}",
                        t.mse,
                        show(t.pearson),
                        show(t.spearman),
                        t.r2
                    )
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A one-line summary for terminals.
    pub fn summary(&self) -> String {
        let show = |value: Option<f64>| value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"));
        match self {
            Metrics::Binary(m) => format!(
                "accuracy {:.4}  balanced {:.4}  precision {:.4}  recall {:.4}  F1 {:.4}  MCC {:.4}  AUROC {}  AUPRC {} (baseline {:.4})",
                m.accuracy,
                m.balanced_accuracy,
                m.precision,
                m.recall,
                m.f1,
                m.mcc,
                show(m.auroc),
                show(m.auprc),
                m.prevalence
            ),
            Metrics::Multiclass(m) => format!(
                "accuracy {:.4}  balanced {:.4}  macro-F1 {:.4}  micro-F1 {:.4}  MCC {:.4}  macro-AUROC {}  macro-AUPRC {}",
                m.accuracy,
                m.balanced_accuracy,
                m.macro_f1,
                m.micro_f1,
                m.mcc,
                show(m.macro_auroc),
                show(m.macro_auprc)
            ),
            Metrics::Multilabel(m) => format!(
                "macro-AUROC {}  median-AUROC {}  macro-AUPRC {}  macro-F1 {:.4}  micro-F1 {:.4}",
                show(m.macro_auroc),
                show(m.median_auroc),
                show(m.macro_auprc),
                m.macro_f1,
                m.micro_f1
            ),
            Metrics::Regression(m) => format!(
                "MSE {:.4}  Pearson {}  Spearman {}  R² {:.4}{}",
                m.mean_mse,
                show(m.mean_pearson),
                show(m.mean_spearman),
                m.mean_r2,
                if m.per_task.len() > 1 {
                    format!("  (means over {} tasks; median Pearson {})", m.per_task.len(), show(m.median_pearson))
                } else {
                    String::new()
                }
            ),
            Metrics::Reconstruction(m) => {
                format!("reconstruction {} {:.4} over {} examples", m.error_kind, m.reconstruction_error, m.examples)
            }
            Metrics::Profile(m) => {
                let line = |what: &str, metrics: &BTreeMap<String, ProfileMetrics>| {
                    metrics
                        .iter()
                        .map(|(task, t)| {
                            format!(
                                "{what} {task}: JSD {}  profile Pearson {}  count Pearson {}  Spearman {}  MSE {:.4} ({} regions)",
                                show(t.median_jsd),
                                show(t.median_profile_pearson),
                                show(t.count_pearson),
                                show(t.count_spearman),
                                t.count_mse,
                                t.regions
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                let mut text = format!("loss {:.4}  {}", m.loss, line("peaks", &m.peaks));
                if !m.background.is_empty() {
                    text.push_str("; ");
                    text.push_str(&line("background", &m.background));
                }
                text
            }
        }
    }
}
