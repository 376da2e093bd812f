//! Scoring examples with a model and turning scores into metrics.

use burn::prelude::*;
use burn::tensor::activation::{sigmoid, softmax};
use omix_data::{Dataset, Target, Task};
use omix_metrics::{
    BinaryMetrics, MulticlassMetrics, MultilabelMetrics, binary_metrics, multiclass_metrics, multilabel_metrics,
};
use omix_models::{FastPlan, Model};
use serde::{Deserialize, Serialize};

use crate::TrainError;

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
        }
    }
}

/// Probabilities `[examples, outputs]` (row-major) for the given examples, in batches.
///
/// The model should be in validation mode (`model.valid()`); sigmoid for binary and multi-label,
/// softmax for multi-class. With `average_strands`, each probability is the mean of the
/// forward and the reverse-complement prediction (DNA/RNA), so both strands score alike.
pub fn predict_scores(
    model: &Model,
    dataset: &Dataset,
    indices: &[usize],
    batch_size: usize,
    device: &Device,
    average_strands: bool,
) -> Vec<f64> {
    let forward = predict_strand(model, dataset, indices, batch_size, device, false);
    if !average_strands || dataset.schema.channels() != 4 {
        return forward;
    }
    let reverse = predict_strand(model, dataset, indices, batch_size, device, true);
    forward.iter().zip(&reverse).map(|(f, r)| 0.5 * (f + r)).collect()
}

fn predict_strand(
    model: &Model,
    dataset: &Dataset,
    indices: &[usize],
    batch_size: usize,
    device: &Device,
    reverse: bool,
) -> Vec<f64> {
    let schema = &dataset.schema;
    let encoder = schema.encoder();
    let outputs = schema.outputs();
    let mut scores = Vec::with_capacity(indices.len() * outputs);
    let mut buffer = Vec::new();
    let flags = vec![reverse; batch_size.max(1)];
    // The hand-written forward pass where the model allows it (equal to burn's to 1e-4).
    let fast = FastPlan::new(model, schema.channels(), schema.length);
    for chunk in indices.chunks(batch_size.max(1)) {
        dataset.encode_batch_stranded(chunk, &flags[..chunk.len()], &encoder, &mut buffer);
        if let Some(plan) = &fast {
            let logits = plan.logits(model, &buffer);
            for row in logits.chunks(outputs.max(1)) {
                match schema.task {
                    Task::Multiclass => {
                        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                        let exps: Vec<f64> = row.iter().map(|z| f64::from(z - max).exp()).collect();
                        let sum: f64 = exps.iter().sum();
                        scores.extend(exps.iter().map(|e| e / sum));
                    }
                    Task::Binary | Task::Multilabel => {
                        scores.extend(row.iter().map(|z| 1.0 / (1.0 + (-f64::from(*z)).exp())));
                    }
                }
            }
            continue;
        }
        let input = Tensor::<3>::from_data(
            TensorData::new(std::mem::take(&mut buffer), [chunk.len(), schema.channels(), schema.length]),
            device,
        );
        let logits = model.forward(input);
        let probabilities = match schema.task {
            Task::Multiclass => softmax(logits, 1),
            Task::Binary | Task::Multilabel => sigmoid(logits),
        };
        let values: Vec<f32> = probabilities.into_data().try_into_vec().unwrap_or_default();
        scores.extend(values.into_iter().map(f64::from));
    }
    scores
}

/// Metrics of scores against the examples' targets.
pub fn compute_metrics(
    dataset: &Dataset,
    indices: &[usize],
    scores: &[f64],
    threshold: f64,
) -> Result<Metrics, TrainError> {
    let schema = &dataset.schema;
    match schema.task {
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

/// Mean loss of probabilities against targets (the same loss training minimises, unweighted).
pub fn mean_loss(dataset: &Dataset, indices: &[usize], scores: &[f64]) -> f64 {
    let outputs = dataset.schema.outputs();
    let targets = dataset.target_matrix(indices);
    let eps = 1e-7;
    let mut total = 0.0;
    for (row, target) in scores.chunks(outputs).zip(targets.chunks(outputs)) {
        match dataset.schema.task {
            Task::Multiclass => {
                for (&p, &t) in row.iter().zip(target) {
                    if t > 0.5 {
                        total -= p.clamp(eps, 1.0).ln();
                    }
                }
            }
            Task::Binary | Task::Multilabel => {
                let mut sum = 0.0;
                for (&p, &t) in row.iter().zip(target) {
                    let p = p.clamp(eps, 1.0 - eps);
                    sum -= f64::from(t) * p.ln() + (1.0 - f64::from(t)) * (1.0 - p).ln();
                }
                total += sum / outputs as f64;
            }
        }
    }
    total / indices.len().max(1) as f64
}
