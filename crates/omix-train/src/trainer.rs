//! The training loop: seeded batches, loss, optimiser steps, validation, early stopping,
//! learning-rate reduction, atomic checkpoints and resume.

use std::path::PathBuf;
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, relu, softplus};
use indicatif::{ProgressBar, ProgressStyle};
use omix_data::{ClassWeight, Dataset, Split, Task};
use omix_models::{FastLoss, FastPlan, Model, ModelConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::config::{Engine, ExperimentConfig, Monitor, OptimizerKind, RegressionLoss, TrainConfig};
use crate::evaluate::{compute_metrics, mean_loss, predict_scores};
use crate::inputs::{BatchInput, InputPipeline};
use crate::loader::{EpochPlan, LoaderSettings, with_batches};
use crate::run::{RunDir, files, load_weights, save_weights, weights_from_bytes, weights_to_bytes};

/// One line of the training log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Learning rate used in this epoch.
    pub learning_rate: f64,
    /// Mean (weighted) training loss over the epoch's batches.
    pub train_loss: f64,
    /// Validation loss (unweighted).
    pub validation_loss: f64,
    /// Validation accuracy (binary/multi-class).
    pub validation_accuracy: Option<f64>,
    /// Validation AUROC (macro where several outputs).
    pub validation_auroc: Option<f64>,
    /// Validation AUPRC.
    pub validation_auprc: Option<f64>,
    /// Validation MCC.
    pub validation_mcc: Option<f64>,
    /// The monitored value.
    pub monitored: f64,
    /// Whether this epoch is the best so far.
    pub best: bool,
    /// Wall time of the epoch in seconds.
    pub seconds: f64,
}

/// Options of one training call.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrainOptions {
    /// Continue from the checkpoint in the run folder.
    pub resume: bool,
    /// Draw a progress bar (when stderr is a terminal).
    pub progress: bool,
    /// Stop after this many epochs in this call (tests of resume); None = run to the end.
    pub stop_after: Option<usize>,
}

/// What training produced.
#[derive(Debug)]
pub struct TrainResult {
    /// The model in validation mode, with the best weights when `restore_best`.
    pub model: Model,
    /// The epochs run, including earlier ones when resumed.
    pub history: Vec<EpochRecord>,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Whether early stopping ended training.
    pub stopped_early: bool,
    /// Whether training ran to its end (false when `stop_after` interrupted it).
    pub finished: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CheckpointState {
    epoch: usize,
    learning_rate: f64,
    best_value: Option<f64>,
    best_epoch: usize,
    epochs_without_improvement: usize,
    plateau_wait: usize,
    plateau_best: Option<f64>,
    stopped_early: bool,
    history: Vec<EpochRecord>,
    model_file: String,
    optimizer_file: String,
    best_file: Option<String>,
}

const STATE: &str = "state.json";

/// The optimiser `[train]` describes.
/// The optimiser a `[train]` table asks for (Adam, AdamW or SGD with its decay and clipping).
pub fn optimizer(config: &TrainConfig) -> ModuleOptimizer {
    let clip = config
        .clip_grad_norm
        .map(GradientClippingConfig::Norm)
        .or(config.clip_grad_value.map(GradientClippingConfig::Value));
    let decay = (config.weight_decay > 0.0).then(|| WeightDecayConfig::new(config.weight_decay as f32));
    match config.optimizer {
        OptimizerKind::Adam => {
            AdamConfig::new().with_epsilon(1e-8).with_weight_decay(decay).with_grad_clipping(clip).init()
        }
        OptimizerKind::Adamw => AdamWConfig::new()
            .with_epsilon(1e-8)
            .with_weight_decay(config.weight_decay as f32)
            .with_grad_clipping(clip)
            .init(),
        OptimizerKind::Sgd => SgdConfig::new()
            .with_momentum(
                (config.momentum > 0.0)
                    .then(|| MomentumConfig::new().with_momentum(config.momentum).with_dampening(0.0)),
            )
            .with_weight_decay(decay)
            .with_gradient_clipping(clip)
            .init(),
    }
}

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
    pub fn new(task: Task, model: &ModelConfig, loss: RegressionLoss, channels: usize) -> Self {
        match (model, task) {
            (ModelConfig::Autoencoder(_), _) => Objective::ReconstructSquaredError,
            (ModelConfig::ConvAutoencoder(_), _) => Objective::OneHotCrossEntropy { channels },
            (_, Task::Multiclass) => Objective::SoftmaxCrossEntropy,
            (_, Task::Regression) if loss == RegressionLoss::Poisson => Objective::Poisson,
            (_, Task::Regression | Task::Unsupervised) => Objective::SquaredError,
            (_, Task::Binary | Task::Multilabel) => Objective::SigmoidCrossEntropy,
        }
    }

    /// Whether the targets are the input itself (autoencoders).
    pub fn reconstructs(self) -> bool {
        matches!(self, Objective::ReconstructSquaredError | Objective::OneHotCrossEntropy { .. })
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

/// One batch of examples.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Model inputs.
    pub input: BatchInput,
    /// Targets `[batch, outputs]` (autoencoders: the input, flattened).
    pub targets: Vec<f32>,
    /// Per-example loss weights `[batch]`.
    pub weights: Vec<f32>,
    /// Number of outputs.
    pub outputs: usize,
}

impl Batch {
    /// The batch of `chunk`: inputs through the pipeline (reverse-complemented where `strands`
    /// says so), targets (the inputs themselves for an autoencoder) and sample weights.
    pub fn build(
        pipeline: &InputPipeline,
        dataset: &Dataset,
        chunk: &[usize],
        strands: Option<&[bool]>,
        class_weights: &[f32],
        objective: Objective,
        outputs: usize,
    ) -> Batch {
        let input = pipeline.batch(dataset, chunk, strands);
        let targets = if objective.reconstructs() { input.to_dense_rows().0 } else { dataset.target_matrix(chunk) };
        Batch { input, targets, weights: dataset.sample_weights(chunk, class_weights), outputs }
    }
}

/// One optimiser step on a batch; returns the updated model and the batch loss.
///
/// Uses the hand-written fast path ([`FastPlan`]) when one is given and the batch is one-hot
/// with a classification objective, else burn's autodiff (`device` must then be an autodiff
/// device). Both compute [`batch_loss`] and its gradients.
pub fn training_step(
    model: Model,
    optim: &mut ModuleOptimizer,
    fast: Option<&FastPlan>,
    batch: Batch,
    objective: Objective,
    learning_rate: f64,
    device: &Device,
) -> (Model, f64) {
    let fast_loss = match objective {
        Objective::SoftmaxCrossEntropy => Some(FastLoss::SoftmaxCrossEntropy),
        Objective::SigmoidCrossEntropy => Some(FastLoss::SigmoidCrossEntropy),
        _ => None,
    };
    if let (Some(plan), Some(loss), BatchInput::Dense { values, .. }) = (fast, fast_loss, &batch.input) {
        let plain = device.clone().without_autodiff();
        if let Some((value, grads)) =
            plan.loss_and_gradients(&model, values, &batch.targets, &batch.weights, loss, &plain)
        {
            return (optim.step(learning_rate, model, grads), value);
        }
    }
    let size = batch.input.len();
    let x = batch.input.to_model_input(device);
    let y = Tensor::<2>::from_data(TensorData::new(batch.targets, [size, batch.outputs]), device);
    let w = Tensor::<1>::from_data(TensorData::new(batch.weights, [size]), device);
    let loss = batch_loss(model.forward_input(x), y, w, objective);
    let value = f64::from(loss.clone().into_scalar::<f32>());
    if !value.is_finite() {
        return (model, value);
    }
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    (optim.step(learning_rate, model, grads), value)
}

fn monitored_value(monitor: Monitor, loss: f64, metrics: &crate::Metrics) -> f64 {
    match monitor {
        Monitor::Loss => loss,
        other => metrics.get(other.name()).unwrap_or(f64::NAN),
    }
}

/// Whether `value` improves on `best` by more than `min_delta` in the monitor's direction.
pub(crate) fn improved(monitor: Monitor, value: f64, best: Option<f64>, min_delta: f64) -> bool {
    match best {
        None => value.is_finite(),
        Some(best) if monitor.maximise() => value > best + min_delta,
        Some(best) => value < best - min_delta,
    }
}

/// Write the per-epoch log as TSV.
fn write_log(run: &RunDir, history: &[EpochRecord]) -> Result<(), TrainError> {
    let show = |v: Option<f64>| v.map_or_else(|| "NA".to_string(), |v| format!("{v:.6}"));
    let mut text = String::from(
        "epoch\tlearning_rate\ttrain_loss\tvalidation_loss\tvalidation_accuracy\tvalidation_auroc\tvalidation_auprc\tvalidation_mcc\tmonitored\tbest\tseconds\n",
    );
    for r in history {
        text.push_str(&format!(
            "{}\t{:e}\t{:.6}\t{:.6}\t{}\t{}\t{}\t{}\t{:.6}\t{}\t{:.2}\n",
            r.epoch,
            r.learning_rate,
            r.train_loss,
            r.validation_loss,
            show(r.validation_accuracy),
            show(r.validation_auroc),
            show(r.validation_auprc),
            show(r.validation_mcc),
            r.monitored,
            u8::from(r.best),
            r.seconds
        ));
    }
    run.write_text(files::LOG, &text)
}

/// Train a model on the training split, choosing the epoch on the validation split.
pub fn train(
    config: &ExperimentConfig,
    dataset: &Dataset,
    pipeline: &InputPipeline,
    run: &RunDir,
    options: TrainOptions,
    log: &mut dyn FnMut(&str),
) -> Result<TrainResult, TrainError> {
    let train_config = &config.train;
    let schema = &dataset.schema;
    let input = pipeline.input_shape(schema, &config.model);
    let objective = Objective::new(schema.task, &config.model, train_config.loss, input.channels);
    let reconstructs = objective.reconstructs();
    let device = Device::flex();
    let train_device = device.clone().autodiff();
    train_device.seed(config.seed);
    let mut model = config.model.init(input, &train_device)?;
    let mut optim = optimizer(train_config);
    let class_weights = dataset.class_weights(&config.data.class_weight)?;
    if config.data.class_weight != ClassWeight::Unset {
        log(&format!("class weights: {:?}", schema.class_names.iter().zip(&class_weights).collect::<Vec<_>>()));
    }
    let base_indices = dataset.training_indices(config.data.oversample, config.seed);
    let validation = dataset.indices(Split::Validation);
    let checkpoint_dir = run.path(files::CHECKPOINT);
    let state_path = checkpoint_dir.join(STATE);

    let mut state = CheckpointState {
        epoch: 0,
        learning_rate: train_config.learning_rate,
        best_value: None,
        best_epoch: 0,
        epochs_without_improvement: 0,
        plateau_wait: 0,
        plateau_best: None,
        stopped_early: false,
        history: Vec::new(),
        model_file: String::new(),
        optimizer_file: String::new(),
        best_file: None,
    };
    let mut best_weights: Option<Vec<u8>> = None;
    if options.resume && state_path.exists() {
        let text = std::fs::read_to_string(&state_path)
            .map_err(|e| TrainError::Run { path: state_path.clone(), message: e.to_string() })?;
        state = serde_json::from_str(&text).map_err(|e| TrainError::Run {
            path: state_path.clone(),
            message: format!("corrupt checkpoint state: {e}"),
        })?;
        model = load_weights(model, &checkpoint_dir.join(&state.model_file))?;
        let optimizer_path = checkpoint_dir.join(&state.optimizer_file);
        optim = optim.load(&optimizer_path).map_err(|e| TrainError::Run {
            path: optimizer_path.clone(),
            message: format!("cannot restore the optimiser state: {e}"),
        })?;
        if let Some(best) = &state.best_file {
            let path = checkpoint_dir.join(best);
            best_weights =
                Some(std::fs::read(&path).map_err(|e| TrainError::Run { path: path.clone(), message: e.to_string() })?);
        }
        log(&format!("resuming after epoch {} (best so far: epoch {})", state.epoch, state.best_epoch));
    }

    let fast = match train_config.engine {
        Engine::Auto if pipeline.is_one_hot() && !reconstructs => FastPlan::new(&model, input.channels, input.length),
        _ => None,
    };
    log(&format!(
        "training engine: {}",
        if fast.is_some() { "omix fast path (hand-written CNN forward/backward)" } else { "burn autodiff" }
    ));
    let batches_per_epoch = base_indices.len().div_ceil(train_config.batch_size);
    let mut epochs_this_call = 0;
    let stopped_before = state.stopped_early;
    let mut epoch = state.epoch;
    while epoch < train_config.epochs && !state.stopped_early {
        if options.stop_after.is_some_and(|limit| epochs_this_call >= limit) {
            break;
        }
        epoch += 1;
        epochs_this_call += 1;
        let started = Instant::now();
        // Per-epoch seeds make a resumed run draw exactly what an uninterrupted one would.
        train_device.seed(config.seed.wrapping_add(1_000_003 * epoch as u64));
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let plan =
            EpochPlan::new(&base_indices, train_config.batch_size, train_config.reverse_complement_augment, &mut rng);

        let bar = if options.progress {
            let bar = ProgressBar::new(batches_per_epoch as u64);
            bar.set_style(
                ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} batches  {msg}  ({elapsed}<{eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(format!("{epoch}/{}", train_config.epochs));
            bar
        } else {
            ProgressBar::hidden()
        };
        // The bar shows the running training loss beside the last epoch's validation numbers.
        let previous = state.history.last().map_or_else(String::new, |last| {
            format!(
                "  | last validation: loss {:.4}, {} {:.4}",
                last.validation_loss,
                train_config.monitor.name(),
                last.monitored
            )
        });
        let mut loss_sum = 0.0;
        let mut seen = 0usize;
        // Batches are built on loader threads while the model trains (bounded look-ahead).
        let build = |chunk: &[usize], strands: Option<&[bool]>| {
            Batch::build(pipeline, dataset, chunk, strands, &class_weights, objective, input.outputs)
        };
        let settings = LoaderSettings { workers: train_config.loader_workers, depth: train_config.loader_depth };
        let (trained, result) = with_batches(&plan, settings, build, |batches| {
            let mut model = model;
            for (batch_index, batch) in batches {
                let examples = plan.batches[batch_index].len();
                let (next, loss_value) = training_step(
                    model,
                    &mut optim,
                    fast.as_ref(),
                    batch,
                    objective,
                    state.learning_rate,
                    &train_device,
                );
                model = next;
                if !loss_value.is_finite() {
                    return (model, Err(TrainError::Diverged { epoch, batch: batch_index + 1, loss: loss_value }));
                }
                loss_sum += loss_value * examples as f64;
                seen += examples;
                bar.inc(1);
                bar.set_message(format!("loss {:.4}{previous}", loss_sum / seen as f64));
            }
            (model, Ok(()))
        });
        model = trained;
        if let Err(error) = result {
            bar.finish_and_clear();
            return Err(error);
        }
        bar.finish_and_clear();
        let train_loss = loss_sum / seen.max(1) as f64;

        let valid_model = model.valid();
        let scores = predict_scores(
            &valid_model,
            pipeline,
            dataset,
            &validation,
            256,
            &device,
            train_config.reverse_complement_average,
            objective,
        );
        let validation_loss = mean_loss(dataset, &validation, &scores, objective);
        let metrics = compute_metrics(dataset, &validation, &scores, train_config.threshold, objective)?;
        let value = monitored_value(train_config.monitor, validation_loss, &metrics);
        let is_best = improved(train_config.monitor, value, state.best_value, train_config.min_delta);
        if is_best {
            state.best_value = Some(value);
            state.best_epoch = epoch;
            state.epochs_without_improvement = 0;
            best_weights = Some(weights_to_bytes(&model)?);
        } else {
            state.epochs_without_improvement += 1;
        }
        let record = EpochRecord {
            epoch,
            learning_rate: state.learning_rate,
            train_loss,
            validation_loss,
            validation_accuracy: metrics.get("accuracy"),
            validation_auroc: metrics.get("auroc"),
            validation_auprc: metrics.get("auprc"),
            validation_mcc: metrics.get("mcc"),
            monitored: value,
            best: is_best,
            seconds: started.elapsed().as_secs_f64(),
        };
        log(&format!(
            "epoch {epoch:>3}/{}  train loss {train_loss:.4}  validation loss {validation_loss:.4}  {} {value:.4}{}  ({:.1}s)",
            train_config.epochs,
            train_config.monitor.name(),
            if is_best { " *" } else { "" },
            record.seconds
        ));
        state.history.push(record);

        if let Some(plateau) = &train_config.reduce_on_plateau {
            if improved(train_config.monitor, value, state.plateau_best, train_config.min_delta) {
                state.plateau_best = Some(value);
                state.plateau_wait = 0;
            } else {
                state.plateau_wait += 1;
                if state.plateau_wait >= plateau.patience && state.learning_rate > plateau.min_learning_rate {
                    state.learning_rate = (state.learning_rate * plateau.factor).max(plateau.min_learning_rate);
                    state.plateau_wait = 0;
                    log(&format!("  learning rate reduced to {:e}", state.learning_rate));
                }
            }
        }
        if train_config.patience > 0 && state.epochs_without_improvement >= train_config.patience {
            state.stopped_early = true;
            log(&format!(
                "  early stop: no improvement of validation {} for {} epochs (best: epoch {})",
                train_config.monitor.name(),
                train_config.patience,
                state.best_epoch
            ));
        }

        // Checkpoint: weights and optimiser under epoch-specific names, then the state that
        // names them (each write atomic), then remove the previous epoch's files.
        let previous = (state.model_file.clone(), state.optimizer_file.clone(), state.best_file.clone());
        state.model_file = format!("model-epoch{epoch}.bpk");
        state.optimizer_file = format!("optimizer-epoch{epoch}.bin");
        save_weights(&model, &checkpoint_dir.join(&state.model_file))?;
        let optimizer_bytes =
            optim.into_bytes().map_err(|e| TrainError::Run { path: checkpoint_dir.clone(), message: e.to_string() })?;
        omix_io::write_atomically(&checkpoint_dir.join(&state.optimizer_file), |out| out.write_all(&optimizer_bytes))?;
        if is_best {
            let name = format!("best-epoch{epoch}.bpk");
            if let Some(bytes) = &best_weights {
                omix_io::write_atomically(&checkpoint_dir.join(&name), |out| out.write_all(bytes))?;
            }
            state.best_file = Some(name);
        }
        state.epoch = epoch;
        let text = serde_json::to_string_pretty(&state)
            .map_err(|e| TrainError::Run { path: state_path.clone(), message: e.to_string() })?;
        omix_io::write_atomically(&state_path, |out| out.write_all(text.as_bytes()))?;
        for old in [Some(previous.0), Some(previous.1), previous.2].into_iter().flatten() {
            if !old.is_empty() && Some(&old) != state.best_file.as_ref() {
                let _ = std::fs::remove_file(checkpoint_dir.join(old));
            }
        }
        write_log(run, &state.history)?;
    }
    let finished = epoch >= train_config.epochs || state.stopped_early;
    if stopped_before {
        log("training had already stopped early; using its checkpoint");
    }
    let model = match (train_config.restore_best, best_weights) {
        (true, Some(bytes)) => {
            log(&format!(
                "restoring the weights of epoch {} (best validation {})",
                state.best_epoch,
                train_config.monitor.name()
            ));
            weights_from_bytes(model, bytes, &PathBuf::from("best weights"))?
        }
        _ => model,
    };
    Ok(TrainResult {
        model: model.valid(),
        history: state.history,
        best_epoch: if train_config.restore_best { state.best_epoch } else { epoch },
        stopped_early: state.stopped_early,
        finished,
    })
}
