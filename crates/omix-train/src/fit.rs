//! The one training loop, shared by every experiment kind (sequences, features, autoencoders,
//! graphs): per-epoch seeds, validation, the best epoch, early stopping, reduce-on-plateau,
//! atomic checkpoints, resume and the training log.
//!
//! What differs between kinds — how an epoch's optimiser steps are taken and how the model is
//! validated — is a [`Trainee`]; how each step's gradients are computed is the
//! [`TrainingEngine`](crate::TrainingEngine) the trainee holds.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use omix_run::{EpochRecord, Observer, RunDir, files, write_log};
use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::evaluate::Metrics;
use crate::run::{load_weights, save_weights, weights_from_bytes, weights_to_bytes};
use crate::trainer::TrainOptions;
use omix_config::{Monitor, TrainConfig};

/// The validation of one epoch.
#[derive(Debug, Clone)]
pub struct Validation {
    /// Validation loss (unweighted).
    pub loss: f64,
    /// Validation metrics (the monitored one is taken from here).
    pub metrics: Metrics,
    /// The values of the trainee's log columns, in [`Trainee::log_columns`] order.
    pub columns: Vec<Option<f64>>,
    /// Extra text for the epoch's line (e.g. `macro-F1 0.41  micro-F1 0.52`).
    pub note: String,
}

/// What the shared loop trains: one experiment kind's epochs and validation.
pub trait Trainee {
    /// The burn module being trained (on an autodiff device).
    type Module: Module;

    /// Called once the model holds the weights training starts from (after a resume has loaded
    /// its checkpoint), before the first epoch: the place to build what depends on the
    /// parameters, such as the [`TrainingEngine`](crate::TrainingEngine).
    fn prepare(&mut self, model: &Self::Module, observer: &mut dyn Observer) {
        let _ = (model, observer);
    }

    /// A hash of everything the epochs see (records, inputs, targets, splits): a checkpoint
    /// records it, and resuming on data that hashes differently is refused.
    fn data_fingerprint(&self) -> u64;

    /// Names of the validation columns of `training_log.tsv` (after `validation_loss`).
    fn log_columns(&self) -> &'static [&'static str];

    /// One epoch of optimiser steps at `learning_rate`: the updated model and the mean training
    /// loss, or the error that stopped it (the model is returned either way). `status` is a
    /// short text about the previous epoch for progress displays.
    fn train_epoch(
        &mut self,
        model: Self::Module,
        optim: &mut ModuleOptimizer,
        epoch: usize,
        learning_rate: f64,
        status: &str,
        observer: &mut dyn Observer,
    ) -> (Self::Module, Result<f64, TrainError>);

    /// The validation loss and metrics of the model (in validation mode).
    fn validate(&mut self, model: &Self::Module) -> Result<Validation, TrainError>;

    /// Optimiser steps in one epoch.
    fn steps_per_epoch(&self) -> usize;

    /// Take up to `steps` optimiser steps as the first epoch would (its first batches), for
    /// estimates: the updated model and the seconds each step took (its batch built inside the
    /// time only where training builds batches on the training thread).
    fn sample_steps(
        &mut self,
        model: Self::Module,
        optim: &mut ModuleOptimizer,
        steps: usize,
        learning_rate: f64,
    ) -> (Self::Module, Result<Vec<f64>, TrainError>);
}

/// How long training would take, measured on a few real steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The engine that computed the steps (one line).
    pub engine: String,
    /// Steps timed (after one untimed warm-up step).
    pub steps_timed: usize,
    /// Mean seconds per timed step.
    pub seconds_per_step: f64,
    /// Optimiser steps in one epoch.
    pub steps_per_epoch: usize,
    /// Seconds of one validation pass.
    pub validation_seconds: f64,
    /// Maximum epochs (`[train] epochs`).
    pub epochs: usize,
}

impl Estimate {
    /// Seconds of one epoch: its steps and one validation.
    pub fn seconds_per_epoch(&self) -> f64 {
        self.seconds_per_step * self.steps_per_epoch as f64 + self.validation_seconds
    }

    /// Seconds of every epoch (early stopping may end training sooner).
    pub fn total_seconds(&self) -> f64 {
        self.seconds_per_epoch() * self.epochs as f64
    }
}

/// Measure what training costs without training: the engine is chosen as [`fit`] would, one
/// warm-up step and then `steps` real steps are taken on the first batches of epoch 1 and timed,
/// and one validation pass is timed. The model's updated weights are dropped; nothing is
/// written.
pub fn estimate<T: Trainee>(
    trainee: &mut T,
    model: T::Module,
    mut optim: ModuleOptimizer,
    config: &TrainConfig,
    steps: usize,
    observer: &mut dyn Observer,
) -> Result<Estimate, TrainError> {
    let mut engine = String::new();
    let mut capture = |line: &str| {
        engine = line.strip_prefix("training engine: ").unwrap_or(line).to_string();
    };
    trainee.prepare(&model, &mut capture);
    let (model, warm_up) = trainee.sample_steps(model, &mut optim, 1, config.learning_rate);
    warm_up?;
    let (model, timed) = trainee.sample_steps(model, &mut optim, steps.max(1), config.learning_rate);
    let timed = timed?;
    let started = Instant::now();
    trainee.validate(&model)?;
    let validation_seconds = started.elapsed().as_secs_f64();
    let estimate = Estimate {
        engine,
        steps_timed: timed.len(),
        seconds_per_step: timed.iter().sum::<f64>() / timed.len().max(1) as f64,
        steps_per_epoch: trainee.steps_per_epoch(),
        validation_seconds,
        epochs: config.epochs,
    };
    let _ = observer;
    Ok(estimate)
}

/// What the loop produced.
#[derive(Debug)]
pub struct Fitted<M> {
    /// The model in validation mode, with the best weights when `restore_best`.
    pub model: M,
    /// The epochs run, including earlier ones when resumed.
    pub history: Vec<EpochRecord>,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Whether early stopping ended training.
    pub stopped_early: bool,
    /// Whether training ran to its end (false when `stop_after` interrupted it).
    pub finished: bool,
}

/// The checkpoint's `state.json`: everything the loop needs to continue after a kill.
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
    /// [`Trainee::data_fingerprint`] of the data the run started on, as 16 hex digits
    /// (absent in checkpoints of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_fingerprint: Option<String>,
}

impl CheckpointState {
    fn new(learning_rate: f64) -> Self {
        Self {
            epoch: 0,
            learning_rate,
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
            data_fingerprint: None,
        }
    }
}

/// Refuse to resume a run on data other than it started on: `fingerprint` (a
/// [`Trainee::data_fingerprint`]) must match the checkpoint's. Runs call this before writing
/// anything, and [`fit`] again before loading the checkpoint.
pub fn refuse_changed_data(run: &RunDir, fingerprint: u64) -> Result<(), TrainError> {
    let state_path = run.path(files::CHECKPOINT).join(files::CHECKPOINT_STATE);
    let Ok(text) = std::fs::read_to_string(&state_path) else { return Ok(()) };
    let state: CheckpointState = serde_json::from_str(&text)
        .map_err(|e| TrainError::Run { path: state_path.clone(), message: format!("corrupt checkpoint state: {e}") })?;
    check_resumed_data(&state_path, &state, fingerprint)
}

fn check_resumed_data(state_path: &Path, state: &CheckpointState, fingerprint: u64) -> Result<(), TrainError> {
    let now = format!("{fingerprint:016x}");
    match &state.data_fingerprint {
        Some(then) if *then != now => Err(TrainError::Run {
            path: state_path.to_path_buf(),
            message: format!(
                "the training data changed since this run started (its records, sequences, labels or splits hash to {now}, the checkpoint's to {then}); resuming would mix two data sets in one model: restore the data, or start over with --force"
            ),
        }),
        _ => Ok(()),
    }
}

/// Whether `value` improves on `best` by more than `min_delta` in the monitor's direction.
pub fn improved(monitor: Monitor, value: f64, best: Option<f64>, min_delta: f64) -> bool {
    match best {
        None => value.is_finite(),
        Some(best) if monitor.maximise() => value > best + min_delta,
        Some(best) => value < best - min_delta,
    }
}

/// The monitored quantity of a validation.
fn monitored_value(monitor: Monitor, validation: &Validation) -> f64 {
    match monitor {
        Monitor::Loss => validation.loss,
        other => validation.metrics.get(other.name()).unwrap_or(f64::NAN),
    }
}

/// Train `model` with `optim` under `[train]` settings, choosing the epoch on validation.
///
/// `device` is the (autodiff) device the model lives on; it is re-seeded every epoch from `seed`
/// and the epoch, so a resumed run draws exactly what an uninterrupted one would. Checkpoints go
/// to `RUN/checkpoint/` (each file atomic, then `state.json` naming them) and the log to
/// `training_log.tsv` after every epoch.
#[allow(clippy::too_many_arguments)]
pub fn fit<T: Trainee>(
    trainee: &mut T,
    mut model: T::Module,
    mut optim: ModuleOptimizer,
    config: &TrainConfig,
    seed: u64,
    device: &Device,
    run: &RunDir,
    options: TrainOptions,
    observer: &mut dyn Observer,
) -> Result<Fitted<T::Module>, TrainError> {
    let checkpoint_dir = run.path(files::CHECKPOINT);
    let state_path = checkpoint_dir.join(files::CHECKPOINT_STATE);
    let mut state = CheckpointState::new(config.learning_rate);
    let mut best_weights: Option<Vec<u8>> = None;
    if options.resume && state_path.exists() {
        let text = std::fs::read_to_string(&state_path)
            .map_err(|e| TrainError::Run { path: state_path.clone(), message: e.to_string() })?;
        state = serde_json::from_str(&text).map_err(|e| TrainError::Run {
            path: state_path.clone(),
            message: format!("corrupt checkpoint state: {e}"),
        })?;
        check_resumed_data(&state_path, &state, trainee.data_fingerprint())?;
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
        observer.message(&format!("resuming after epoch {} (best so far: epoch {})", state.epoch, state.best_epoch));
    }
    state.data_fingerprint = Some(format!("{:016x}", trainee.data_fingerprint()));
    trainee.prepare(&model, observer);
    let columns = trainee.log_columns();
    let monitor = config.monitor;
    let mut epochs_this_call = 0;
    let stopped_before = state.stopped_early;
    let mut epoch = state.epoch;
    while epoch < config.epochs && !state.stopped_early {
        if options.stop_after.is_some_and(|limit| epochs_this_call >= limit) {
            break;
        }
        epoch += 1;
        epochs_this_call += 1;
        let started = Instant::now();
        // Per-epoch seeds (dropout masks) make a resumed run draw what an uninterrupted one would.
        device.seed(seed.wrapping_add(1_000_003 * epoch as u64));
        let status = state.history.last().map_or_else(String::new, |last| {
            format!("  | last validation: loss {:.4}, {} {:.4}", last.validation_loss, monitor.name(), last.monitored)
        });
        let (trained, train_loss) =
            trainee.train_epoch(model, &mut optim, epoch, state.learning_rate, &status, observer);
        model = trained;
        let train_loss = train_loss?;

        let validation = trainee.validate(&model)?;
        let value = monitored_value(monitor, &validation);
        let is_best = improved(monitor, value, state.best_value, config.min_delta);
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
            validation_loss: validation.loss,
            validation: columns.iter().map(|c| c.to_string()).zip(validation.columns.iter().copied()).collect(),
            monitored: value,
            best: is_best,
            seconds: started.elapsed().as_secs_f64(),
        };
        if epochs_this_call == 1 {
            observer.message(&epoch_legend(monitor, config.restore_best));
        }
        observer.message(&format!(
            "epoch {epoch:>3}/{}  train loss {train_loss:.4}  validation loss {:.4}  {}{} {value:.4}{}  ({:.1}s)",
            config.epochs,
            validation.loss,
            if validation.note.is_empty() { String::new() } else { format!("{}  ", validation.note) },
            monitor.name(),
            if is_best { " *" } else { "" },
            record.seconds
        ));
        state.history.push(record);

        if let Some(plateau) = &config.reduce_on_plateau {
            if improved(monitor, value, state.plateau_best, config.min_delta) {
                state.plateau_best = Some(value);
                state.plateau_wait = 0;
            } else {
                state.plateau_wait += 1;
                if state.plateau_wait >= plateau.patience && state.learning_rate > plateau.min_learning_rate {
                    state.learning_rate = (state.learning_rate * plateau.factor).max(plateau.min_learning_rate);
                    state.plateau_wait = 0;
                    observer.message(&format!("  learning rate reduced to {:e}", state.learning_rate));
                }
            }
        }
        if config.patience > 0 && state.epochs_without_improvement >= config.patience {
            state.stopped_early = true;
            observer.message(&format!(
                "  early stop: no improvement of validation {} for {} epochs (best: epoch {})",
                monitor.name(),
                config.patience,
                state.best_epoch
            ));
        }
        checkpoint(&mut state, epoch, is_best, &model, &optim, best_weights.as_deref(), run)?;
        write_log(run, columns, &state.history)?;
    }
    let finished = epoch >= config.epochs || state.stopped_early;
    if stopped_before {
        observer.message("training had already stopped early; using its checkpoint");
    }
    let model = match (config.restore_best, best_weights) {
        (true, Some(bytes)) => {
            observer.message(&format!(
                "restoring the weights of epoch {} (best validation {})",
                state.best_epoch,
                monitor.name()
            ));
            weights_from_bytes(model, bytes, &PathBuf::from("best weights"))?
        }
        _ => model,
    };
    Ok(Fitted {
        model: model.valid(),
        history: state.history,
        best_epoch: if config.restore_best { state.best_epoch } else { epoch },
        stopped_early: state.stopped_early,
        finished,
    })
}

/// The line before the first epoch line: what its `*` marks and which weights are kept.
fn epoch_legend(monitor: Monitor, restore_best: bool) -> String {
    let kept =
        if restore_best { "its weights are kept" } else { "the last epoch's weights are kept (restore_best = false)" };
    format!("* = best validation {} so far; {kept}", monitor.name())
}

/// Checkpoint after `epoch`: weights and optimiser under epoch-specific names, then the state
/// that names them (each write atomic), then remove the previous epoch's files.
fn checkpoint<M: Module>(
    state: &mut CheckpointState,
    epoch: usize,
    is_best: bool,
    model: &M,
    optim: &ModuleOptimizer,
    best_weights: Option<&[u8]>,
    run: &RunDir,
) -> Result<(), TrainError> {
    let checkpoint_dir = run.path(files::CHECKPOINT);
    let state_path = checkpoint_dir.join(files::CHECKPOINT_STATE);
    let previous = (state.model_file.clone(), state.optimizer_file.clone(), state.best_file.clone());
    state.model_file = format!("model-epoch{epoch}.bpk");
    state.optimizer_file = format!("optimizer-epoch{epoch}.bin");
    save_weights(model, &checkpoint_dir.join(&state.model_file))?;
    let optimizer_bytes =
        optim.into_bytes().map_err(|e| TrainError::Run { path: checkpoint_dir.clone(), message: e.to_string() })?;
    omix_io::write_atomically(&checkpoint_dir.join(&state.optimizer_file), |out| out.write_all(&optimizer_bytes))?;
    if is_best {
        let name = format!("best-epoch{epoch}.bpk");
        if let Some(bytes) = best_weights {
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
    Ok(())
}
