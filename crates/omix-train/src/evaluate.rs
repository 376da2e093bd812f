//! Scoring examples with a model and turning scores into metrics.

use burn::prelude::*;
use omix_data::{Dataset, Target, Task};
use omix_metrics::{
    BinaryMetrics, MulticlassMetrics, MultilabelMetrics, RegressionMetrics, binary_metrics, multiclass_metrics,
    multilabel_metrics, regression_metrics,
};
use omix_models::{FastPlan, Model};
use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::inputs::{BatchInput, InputPipeline};
use crate::objective::{Objective, reconstruction_error};

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
        }
    }
}

/// Predictions `[examples, outputs]` (row-major) for the given examples, in batches:
/// probabilities (sigmoid for binary and multi-label, softmax for multi-class), values for
/// regression (rates for a Poisson loss), and for autoencoders one column, the reconstruction
/// error of each example.
///
/// The model should be in validation mode (`model.valid()`). With `average_strands`, each
/// prediction is the mean of the forward and the reverse-complement prediction (DNA/RNA), so
/// both strands score alike.
#[allow(clippy::too_many_arguments)]
pub fn predict_scores(
    model: &Model,
    pipeline: &InputPipeline,
    dataset: &Dataset,
    indices: &[usize],
    batch_size: usize,
    device: &Device,
    average_strands: bool,
    objective: Objective,
) -> Result<Vec<f64>, TrainError> {
    let forward = predict_strand(model, pipeline, dataset, indices, batch_size, device, false, objective)?;
    if !average_strands || dataset.schema.channels() != 4 || !dataset.schema.is_sequence() || objective.reconstructs() {
        return Ok(forward);
    }
    let reverse = predict_strand(model, pipeline, dataset, indices, batch_size, device, true, objective)?;
    Ok(forward.iter().zip(&reverse).map(|(f, r)| 0.5 * (f + r)).collect())
}

/// A tensor's values read back to the host; a backend failure is an error, never an empty vector.
pub fn read_back<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, TrainError> {
    tensor
        .into_data()
        .try_into_vec()
        .map_err(|error| TrainError::Backend(format!("cannot read model outputs back from the device: {error:?}")))
}

#[allow(clippy::too_many_arguments)]
fn predict_strand(
    model: &Model,
    pipeline: &InputPipeline,
    dataset: &Dataset,
    indices: &[usize],
    batch_size: usize,
    device: &Device,
    reverse: bool,
    objective: Objective,
) -> Result<Vec<f64>, TrainError> {
    let (channels, length) = pipeline.shape();
    let outputs = if objective.reconstructs() { 1 } else { dataset.schema.outputs() };
    let mut scores = Vec::with_capacity(indices.len() * outputs);
    let flags = vec![reverse; batch_size.max(1)];
    // The hand-written forward pass where the model allows it (equal to burn's to 1e-4).
    let fast =
        if pipeline.is_one_hot() && !objective.reconstructs() { FastPlan::new(model, channels, length) } else { None };
    for chunk in indices.chunks(batch_size.max(1)) {
        let input = pipeline.batch(dataset, chunk, reverse.then_some(&flags[..chunk.len()]));
        let logits = match (&fast, &input) {
            (Some(plan), BatchInput::Dense { values, .. }) => plan.logits(model, values),
            _ => None,
        };
        let logits = match logits {
            Some(logits) => logits,
            None => read_back(model.forward_input(input.to_model_input(device)))?,
        };
        let width = logits.len() / chunk.len().max(1);
        if objective.reconstructs() {
            let (rows, features) = input.to_dense_rows();
            for (output, example) in logits.chunks(width.max(1)).zip(rows.chunks(features.max(1))) {
                scores.push(reconstruction_error(output, example, objective));
            }
        } else {
            for row in logits.chunks(width.max(1)) {
                objective.predictions(row, &mut scores);
            }
        }
    }
    Ok(scores)
}

/// Metrics of predictions against the examples' targets.
pub fn compute_metrics(
    dataset: &Dataset,
    indices: &[usize],
    scores: &[f64],
    threshold: f64,
    objective: Objective,
) -> Result<Metrics, TrainError> {
    let schema = &dataset.schema;
    if objective.reconstructs() {
        let examples = scores.len();
        return Ok(Metrics::Reconstruction(ReconstructionMetrics {
            reconstruction_error: scores.iter().sum::<f64>() / examples.max(1) as f64,
            error_kind: match objective {
                Objective::OneHotCrossEntropy { .. } => "cross_entropy".into(),
                _ => "mse".into(),
            },
            examples,
        }));
    }
    match schema.task {
        Task::Regression => {
            let targets: Vec<f64> = dataset.target_matrix(indices).into_iter().map(f64::from).collect();
            Ok(Metrics::Regression(regression_metrics(&targets, scores, &schema.class_names)?))
        }
        Task::Unsupervised => Err(TrainError::Config {
            field: "data.task",
            message: "an unsupervised data set has no targets to score; use an autoencoder model".into(),
        }),
        Task::Binary => {
            let labels: Vec<bool> = indices.iter().map(|&i| dataset.examples[i].target == Target::Class(1)).collect();
            Ok(Metrics::Binary(binary_metrics(&labels, scores, threshold)?))
        }
        Task::Multiclass => {
            let labels: Vec<usize> = indices
                .iter()
                .map(|&i| match dataset.examples[i].target {
                    Target::Class(class) => class,
                    _ => 0,
                })
                .collect();
            Ok(Metrics::Multiclass(multiclass_metrics(&labels, scores, &schema.class_names)?))
        }
        Task::Multilabel => {
            let mut labels = Vec::with_capacity(scores.len());
            for &index in indices {
                match &dataset.examples[index].target {
                    Target::Tasks(values) => labels.extend_from_slice(values),
                    _ => labels.extend(std::iter::repeat_n(false, schema.outputs())),
                }
            }
            Ok(Metrics::Multilabel(multilabel_metrics(&labels, scores, &schema.class_names, threshold)?))
        }
    }
}

/// Mean loss of predictions against targets (the loss training minimises, unweighted).
pub fn mean_loss(dataset: &Dataset, indices: &[usize], scores: &[f64], objective: Objective) -> f64 {
    if objective.reconstructs() {
        return scores.iter().sum::<f64>() / scores.len().max(1) as f64;
    }
    objective.mean_loss(scores, &dataset.target_matrix(indices), dataset.schema.outputs())
}
