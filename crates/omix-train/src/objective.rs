//! What a model is trained to minimise, in one place: the loss on tensors (what gradients flow
//! through), the same loss on host values (validation loss from predictions), and how raw
//! outputs become predictions. The sequence, feature, autoencoder and graph experiments all use
//! these; the hand-written CNN kernel gets its loss from [`Objective::fast_loss`].

use burn::prelude::*;
use burn::tensor::activation::{log_softmax, relu, softplus};
use omix_data::Task;
use omix_models::{FastLoss, ModelConfig};

use omix_config::Loss;

/// What a model is trained to minimise, from the task and the model family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Binary cross-entropy on logits, averaged over outputs (binary and multi-label tasks).
    SigmoidCrossEntropy,
    /// Softmax cross-entropy (multi-class).
    SoftmaxCrossEntropy,
    /// Mean squared error over outputs (regression).
    SquaredError,
    /// Mean squared error between the reconstruction and the input (dense autoencoders).
    ReconstructSquaredError,
    /// Poisson negative log-likelihood `exp(z) − y·z` on log-rates (count regression).
    Poisson,
    /// Softmax cross-entropy over the channels of every position (convolutional autoencoders).
    OneHotCrossEntropy {
        /// One-hot channels.
        channels: usize,
    },
}

impl Objective {
    /// The objective of a task and model family.
    /// `loss` is `[train] loss`, which only regression tasks choose (MSE when unset); other
    /// tasks' losses are fixed, and a config naming another is refused by [`Objective::check_loss`].
    pub fn new(task: Task, model: &ModelConfig, loss: Option<Loss>, channels: usize) -> Self {
        match (model, task) {
            (ModelConfig::Autoencoder(_), _) => Objective::ReconstructSquaredError,
            (ModelConfig::ConvAutoencoder(_), _) => Objective::OneHotCrossEntropy { channels },
            (_, Task::Multiclass) => Objective::SoftmaxCrossEntropy,
            (_, Task::Regression) if loss == Some(Loss::Poisson) => Objective::Poisson,
            (_, Task::Regression | Task::Unsupervised) => Objective::SquaredError,
            (_, Task::Binary | Task::Multilabel) => Objective::SigmoidCrossEntropy,
        }
    }

    /// The objective of a classification task without a model family (graph nodes).
    pub fn for_classes(task: Task) -> Self {
        if task == Task::Multiclass { Objective::SoftmaxCrossEntropy } else { Objective::SigmoidCrossEntropy }
    }

    /// Whether the targets are the input itself (autoencoders).
    pub fn reconstructs(self) -> bool {
        matches!(self, Objective::ReconstructSquaredError | Objective::OneHotCrossEntropy { .. })
    }

    /// The hand-written CNN kernel's form of this loss, where it has one.
    pub fn fast_loss(self) -> Option<FastLoss> {
        match self {
            Objective::SoftmaxCrossEntropy => Some(FastLoss::SoftmaxCrossEntropy),
            Objective::SigmoidCrossEntropy => Some(FastLoss::SigmoidCrossEntropy),
            _ => None,
        }
    }

    /// The name of the loss as written in configs and logs.
    pub fn name(self) -> &'static str {
        self.loss().name()
    }

    /// The `[train] loss` value of this objective (what the resolved config writes).
    pub fn loss(self) -> Loss {
        match self {
            Objective::SigmoidCrossEntropy => Loss::BinaryCrossEntropy,
            Objective::SoftmaxCrossEntropy => Loss::CrossEntropy,
            Objective::SquaredError => Loss::Mse,
            Objective::ReconstructSquaredError => Loss::ReconstructionMse,
            Objective::Poisson => Loss::Poisson,
            Objective::OneHotCrossEntropy { .. } => Loss::ReconstructionCrossEntropy,
        }
    }

    /// Refuses a `[train] loss` this objective does not train with: a regression task takes
    /// `mse` or `poisson`; every other task only its own loss (written by resolved configs, so a
    /// run folder's config.toml is accepted as it stands). `what` names the task and model,
    /// e.g. "the task is binary classification".
    pub fn check_loss(self, loss: Option<Loss>, what: &str) -> Result<(), String> {
        let Some(loss) = loss else { return Ok(()) };
        if loss == self.loss() {
            return Ok(());
        }
        if matches!(self, Objective::SquaredError | Objective::Poisson) {
            return Err(format!(
                "{what}, but {} is not a regression loss; use mse (the default) or poisson",
                loss.name()
            ));
        }
        let note = if loss.is_regression() { ", and mse or poisson are for regression tasks" } else { "" };
        Err(format!("{what}, trained with {}{note}; remove `loss` or set loss = \"{}\"", self.name(), self.name()))
    }

    /// What [`Objective::predictions`] gives: `"probability"` for classifiers, `"prediction"`
    /// otherwise (regression values, Poisson rates, reconstructions).
    pub fn prediction_name(self) -> &'static str {
        match self {
            Objective::SigmoidCrossEntropy | Objective::SoftmaxCrossEntropy => "probability",
            _ => "prediction",
        }
    }

    /// Turn one row of raw outputs into predictions: probabilities (sigmoid or softmax), rates
    /// (Poisson) or the values themselves.
    pub fn predictions(self, row: &[f32], out: &mut Vec<f64>) {
        match self {
            Objective::SoftmaxCrossEntropy => {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let exps: Vec<f64> = row.iter().map(|z| f64::from(z - max).exp()).collect();
                let sum: f64 = exps.iter().sum();
                out.extend(exps.iter().map(|e| e / sum));
            }
            Objective::SigmoidCrossEntropy => out.extend(row.iter().map(|z| 1.0 / (1.0 + (-f64::from(*z)).exp()))),
            Objective::Poisson => out.extend(row.iter().map(|z| f64::from(*z).exp())),
            Objective::SquaredError | Objective::ReconstructSquaredError | Objective::OneHotCrossEntropy { .. } => {
                out.extend(row.iter().map(|z| f64::from(*z)));
            }
        }
    }

    /// The loss of one example from its predictions (as [`Objective::predictions`] makes them)
    /// and targets: the host-side twin of [`batch_loss`], unweighted. Not for reconstructions,
    /// whose per-example error is [`reconstruction_error`].
    pub fn example_loss(self, predictions: &[f64], targets: &[f32]) -> f64 {
        let eps = 1e-7;
        let mut sum = 0.0;
        for (&p, &t) in predictions.iter().zip(targets) {
            let t = f64::from(t);
            sum += match self {
                Objective::SoftmaxCrossEntropy if t > 0.5 => -p.clamp(eps, 1.0).ln(),
                Objective::SoftmaxCrossEntropy => 0.0,
                Objective::SigmoidCrossEntropy => {
                    let p = p.clamp(eps, 1.0 - eps);
                    -(t * p.ln() + (1.0 - t) * (1.0 - p).ln())
                }
                Objective::Poisson => p - t * p.max(f64::MIN_POSITIVE).ln(),
                _ => (p - t).powi(2),
            };
        }
        if self == Objective::SoftmaxCrossEntropy { sum } else { sum / predictions.len().max(1) as f64 }
    }

    /// The mean of [`Objective::example_loss`] over rows of `outputs` predictions and targets.
    pub fn mean_loss(self, predictions: &[f64], targets: &[f32], outputs: usize) -> f64 {
        let outputs = outputs.max(1);
        let rows = predictions.len() / outputs;
        let total: f64 = predictions
            .chunks(outputs)
            .zip(targets.chunks(outputs))
            .map(|(row, target)| self.example_loss(row, target))
            .sum();
        total / rows.max(1) as f64
    }
}

/// Weighted mean loss of a batch (see [`Objective`]), each example scaled by its weight.
///
/// # Shapes
/// - outputs, targets: `[batch, outputs]`; weights: `[batch]`
pub fn batch_loss(outputs: Tensor<2>, targets: Tensor<2>, weights: Tensor<1>, objective: Objective) -> Tensor<1> {
    let per_example: Tensor<1> = match objective {
        Objective::SoftmaxCrossEntropy => (log_softmax(outputs, 1) * targets).sum_dim(1).squeeze_dim(1).neg(), // [B]
        Objective::SigmoidCrossEntropy => {
            // max(z, 0) - z*y + log(1 + exp(-|z|)): stable BCE with logits.
            let stable = softplus(outputs.clone().abs().neg(), 1.0);
            let loss = relu(outputs.clone()) - outputs * targets + stable; // [B, O]
            loss.mean_dim(1).squeeze_dim(1) // [B]
        }
        Objective::SquaredError | Objective::ReconstructSquaredError => {
            (outputs - targets).powi_scalar(2).mean_dim(1).squeeze_dim(1)
        } // [B]
        Objective::Poisson => (outputs.clone().exp() - targets * outputs).mean_dim(1).squeeze_dim(1), // [B]
        Objective::OneHotCrossEntropy { channels } => {
            let [batch, flat] = outputs.dims();
            let length = flat / channels.max(1);
            let logits = outputs.reshape([batch, channels, length]); // [B, C, L]
            let targets = targets.reshape([batch, channels, length]); // [B, C, L]
            let per_position = (log_softmax(logits, 1) * targets).sum_dim(1).neg(); // [B, 1, L]
            per_position.mean_dim(2).reshape([batch]) // [B]
        }
    };
    (per_example * weights).mean()
}

/// Reconstruction error of one example: mean squared error, or mean per-position cross-entropy.
pub fn reconstruction_error(output: &[f32], input: &[f32], objective: Objective) -> f64 {
    match objective {
        Objective::OneHotCrossEntropy { channels } => {
            let length = output.len() / channels.max(1);
            let mut total = 0.0;
            for position in 0..length {
                let logit = |c: usize| f64::from(output[c * length + position]);
                let max = (0..channels).map(logit).fold(f64::NEG_INFINITY, f64::max);
                let log_sum = (0..channels).map(|c| (logit(c) - max).exp()).sum::<f64>().ln() + max;
                for c in 0..channels {
                    total -= f64::from(input[c * length + position]) * (logit(c) - log_sum);
                }
            }
            total / length.max(1) as f64
        }
        _ => {
            let sum: f64 = output.iter().zip(input).map(|(z, x)| (f64::from(*z) - f64::from(*x)).powi(2)).sum();
            sum / output.len().max(1) as f64
        }
    }
}

/// The loss of a base-resolution profile model (BPNet, bpnet-lite's `_mixture_loss`): for every
/// peak and task, the multinomial negative log-likelihood of the observed counts under the profile
/// logits soft-maxed over all of the task's strands and bases jointly, averaged over peaks and
/// tasks; plus `count_weight` × the squared error between the predicted log count and
/// ln(1 + observed total), averaged over every example and task. `peaks` is 1 for a peak and 0
/// for a background region: background regions teach the count head only, as in bpnet-lite
/// (their profiles are mostly noise).
///
/// The NLL's log-factorial terms do not depend on the model, so the tensor leaves them out (they
/// carry no gradient); [`profile_loss_constant`] gives them for the reported value.
///
/// # Shapes
/// - `logits`: `[batch, tasks × strands, length]` (task-major)
/// - `log_counts`: `[batch, tasks]`
/// - `counts`: `[batch, tasks × strands, length]`
/// - `peaks`: `[batch]`
/// - output: `[1]`
pub fn profile_loss(
    logits: Tensor<3>,
    log_counts: Tensor<2>,
    counts: Tensor<3>,
    peaks: Tensor<1>,
    tasks: usize,
    count_weight: f64,
) -> Tensor<1> {
    let [batch, tracks, length] = logits.dims();
    let per_task = tracks / tasks.max(1) * length;
    let logits = logits.reshape([batch, tasks, per_task]); // [B, T, S·L]
    let counts = counts.reshape([batch, tasks, per_task]); // [B, T, S·L]
    let totals = counts.clone().sum_dim(2).reshape([batch, tasks]); // [B, T]
    let nll = (log_softmax(logits, 2) * counts).sum_dim(2).reshape([batch, tasks]).neg(); // [B, T]
    let peak_count = peaks.clone().sum().clamp_min(1.0); // [1]
    let profile = (nll * peaks.reshape([batch, 1])).sum().div(peak_count).div_scalar(tasks.max(1) as f64); // [1]
    let count_error = (log_counts - totals.add_scalar(1.0).log()).powi_scalar(2); // [B, T]
    profile + count_error.mean().mul_scalar(count_weight)
}

/// The part of [`profile_loss`] the tensor leaves out, for a batch's observed counts
/// (`[batch, tasks × strands, length]`, flattened) and which examples are peaks: the mean over
/// peaks and tasks of `Σ ln(k!) − ln(N!)`.
pub fn profile_loss_constant(counts: &[f32], peaks: &[bool], tasks: usize) -> f64 {
    let batch = peaks.len();
    let per_task = counts.len() / (batch * tasks).max(1);
    let mut sum = 0.0;
    for (i, chunk) in counts.chunks(per_task.max(1)).enumerate() {
        if peaks.get(i / tasks.max(1)).copied().unwrap_or(false) {
            sum += omix_metrics::multinomial_log_factorials(chunk);
        }
    }
    let peak_count = peaks.iter().filter(|&&p| p).count().max(1);
    sum / (peak_count * tasks.max(1)) as f64
}
