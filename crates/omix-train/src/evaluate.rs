//! Scoring examples with a model and turning scores into metrics.

use burn::prelude::*;
use omix_data::{Dataset, Target, Task};
pub use omix_metrics::{Metrics, ReconstructionMetrics};
use omix_metrics::{binary_metrics, multiclass_metrics, multilabel_metrics, regression_metrics};
use omix_models::{FastPlan, Model, RnnPlan};

use crate::TrainError;
use crate::inputs::{BatchInput, InputPipeline};
use crate::objective::{Objective, reconstruction_error};
use omix_run::RunDir;

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
    Ok(strand_mean(&forward, &reverse))
}

/// The mean of forward-strand and reverse-complement predictions, element by element.
pub(crate) fn strand_mean(forward: &[f64], reverse: &[f64]) -> Vec<f64> {
    forward.iter().zip(reverse).map(|(f, r)| 0.5 * (f + r)).collect()
}

/// A hand-written inference pass: the CNN kernel ([`FastPlan`]) or the LSTM kernel ([`RnnPlan`]).
#[derive(Debug, Clone)]
pub(crate) enum FastForward {
    Cnn(FastPlan),
    Rnn(RnnPlan),
}

impl FastForward {
    /// The kernel that runs `model` on inputs `[channels, length]`, if any.
    pub(crate) fn new(model: &Model, channels: usize, length: usize) -> Option<Self> {
        FastPlan::new(model, channels, length)
            .map(Self::Cnn)
            .or_else(|| RnnPlan::new(model, channels, length).map(Self::Rnn))
    }

    /// Logits of a batch `[n, channels, length]`; `None` when `model` is not the plan's.
    fn logits(&self, model: &Model, values: &[f32]) -> Option<Vec<f32>> {
        match self {
            Self::Cnn(plan) => plan.logits(model, values),
            Self::Rnn(plan) => plan.logits(model, values),
        }
    }
}

/// Raw outputs `[n, outputs]` of a dense batch `[n, channels, length]` (feature vectors:
/// `[n, features, 1]`): omix's hand-written forward pass where `fast` accepts the model, else
/// burn on `device`. Prediction, evaluation and genome scoring all go through here.
pub(crate) fn forward_dense(
    model: &Model,
    fast: Option<&FastForward>,
    values: &[f32],
    shape: [usize; 3],
    device: &Device,
) -> Result<Vec<f32>, TrainError> {
    if shape[0] == 0 {
        return Ok(Vec::new());
    }
    if let Some(logits) = fast.and_then(|plan| plan.logits(model, values)) {
        return Ok(logits);
    }
    read_back(model.forward(Tensor::<3>::from_data(TensorData::new(values.to_vec(), shape), device)))
}

/// A tensor's values read back to the host; a backend failure is an error, never an empty vector.
pub fn read_back<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, TrainError> {
    tensor
        .into_data()
        .try_into_vec()
        .map_err(|error| TrainError::Backend(format!("cannot read model outputs back from the device: {error}")))
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
    let fast = if pipeline.is_one_hot() && !objective.reconstructs() {
        FastForward::new(model, channels, length)
    } else {
        None
    };
    for chunk in indices.chunks(batch_size.max(1)) {
        let input = pipeline.batch(dataset, chunk, reverse.then_some(&flags[..chunk.len()]));
        let logits = match &input {
            BatchInput::Dense { values, shape } => forward_dense(model, fast.as_ref(), values, *shape, device)?,
            sparse => read_back(model.forward_input(sparse.to_model_input(device)))?,
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

/// A trained run's metrics on every example of a labelled data set (loaded for the run with
/// `Dataset::load_for_model`): the run's model, input pipeline, strand averaging and threshold,
/// as `omix evaluate` and `omix.evaluate` report them. An ensemble folder is evaluated on its
/// members' combined predictions ([`crate::ensemble::RunModels`]).
pub fn evaluate_run(run: &RunDir, dataset: &Dataset, device: &Device) -> Result<Metrics, TrainError> {
    let models = crate::ensemble::RunModels::load(run, device)?;
    let indices: Vec<usize> = (0..dataset.examples.len()).collect();
    let scores = models.scores(dataset, &indices, 256, device)?;
    compute_metrics(dataset, &indices, &scores, models.threshold(), models.objective())
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
            let labels: Vec<usize> = indices.iter().map(|&i| dataset.examples[i].target.class().unwrap_or(0)).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_back_reports_a_failure_instead_of_an_empty_vector() {
        let device = Device::flex();
        let values = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 2.0], [2]), &device);
        assert_eq!(read_back(values.clone()).ok(), Some(vec![1.0, 2.0]));
        // Values of another type than the f32 asked for cannot be read back as f32: an error
        // naming the backend, where `unwrap_or_default` used to give an empty vector.
        let doubles = values.cast(burn::tensor::DType::F64);
        assert!(matches!(read_back(doubles), Err(TrainError::Backend(_))));
    }
}
