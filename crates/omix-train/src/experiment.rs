//! One experiment end to end: data → checks → training → metrics → run folder.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::prelude::*;
use omix_data::{Dataset, Split, Task};
use omix_io::write_atomically;

use omix_run::{Check, MetricsFile, Observer, RunDir, files, write_manifest, write_predictions};

use crate::baseline::{BaselineReport, fit_baseline};
use crate::checks::{best_epoch_is_last, biology_checks, never_predicted, record_checks};
use crate::evaluate::{Metrics, compute_metrics, predict_scores};
use crate::inputs::{InputPipeline, MOTIF_COPY};
use crate::objective::Objective;
use crate::run::{StoredPipeline, save_weights};
use crate::trainer::{TrainOptions, train};
use crate::{ExperimentConfig, TrainError};

/// What an experiment produced.
#[derive(Debug)]
pub struct ExperimentSummary {
    /// Metrics per reported split (`validation`, `test`).
    pub metrics: BTreeMap<String, Metrics>,
    /// Checks raised before training.
    pub checks: Vec<Check>,
    /// Epoch whose weights were kept.
    pub best_epoch: usize,
    /// Epochs run.
    pub epochs: usize,
    /// Seconds spent training.
    pub training_seconds: f64,
    /// Whether training ran to its end (false when interrupted by `stop_after`).
    pub finished: bool,
    /// The baseline and the comparison with it (None with `baseline = false`).
    pub baseline: Option<BaselineReport>,
}

impl ExperimentSummary {
    /// Metrics per split (and per task), then the baseline and its verdict: what `omix train`
    /// prints and the Python package shows, with split names padded to `width`.
    pub fn summary_lines(&self, width: usize) -> Vec<String> {
        let mut lines = Vec::new();
        for (split, metrics) in &self.metrics {
            lines.push(format!("{split:<width$} {}", metrics.summary()));
            for line in metrics.per_task_lines() {
                lines.push(format!("{:width$} {line}", ""));
            }
        }
        if let Some(baseline) = &self.baseline {
            lines.push(format!("{:<width$} {}: {}", "baseline", baseline.model, baseline.test.summary()));
            lines.push(format!("{:width$} {}", "", baseline.comparison.verdict));
        }
        lines
    }
}

/// An experiment checked and its data loaded, before anything is written: what training and
/// `--dry-run` share.
pub(crate) struct Prepared {
    pub dataset: Dataset,
    pub pipeline: InputPipeline,
    pub input: omix_models::InputShape,
    pub objective: Objective,
}

/// Check the config, load the data and fit the inputs: every error a config or its data can
/// raise before training, raised before anything is written.
pub(crate) fn prepare(config: &ExperimentConfig) -> Result<Prepared, TrainError> {
    config.check()?;
    let dataset = Dataset::load(&config.data, config.seed)?;
    let schema = &dataset.schema;
    if schema.task == Task::Unsupervised && !config.model.is_autoencoder() {
        return Err(TrainError::Config {
            field: "model",
            message: format!(
                "{} is a supervised model, but the data are unsupervised (task = \"unsupervised\"); use kind = \"autoencoder\" or \"conv_autoencoder\", or give labels",
                config.model.name()
            ),
        });
    }
    let pipeline = InputPipeline::fit(config.features.as_ref(), &dataset)?;
    if config.model.reads_sequences() && !pipeline.is_one_hot() {
        return Err(TrainError::Config {
            field: "model",
            message: format!(
                "{} reads one-hot sequences, but the inputs are {}; use kind = \"dense\" (or \"autoencoder\") for feature vectors",
                config.model.name(),
                pipeline.describe()
            ),
        });
    }
    let input = pipeline.input_shape(schema, &config.model);
    config.model.check(input)?;
    let objective = Objective::new(schema.task, &config.model, config.train.loss, input.channels);
    let what = if objective.reconstructs() {
        format!("{} is an autoencoder", config.model.name())
    } else if schema.task == Task::Regression {
        "the task is regression".to_string()
    } else {
        format!("the task is {} classification", schema.task.name())
    };
    objective.check_loss(config.train.loss, &what).map_err(|message| TrainError::Config { field: "loss", message })?;
    if config.train.baseline {
        crate::baseline::check_choice(&config.baseline, &dataset, &pipeline, objective)?;
    }
    if pipeline.is_one_hot() {
        // The data fitted at load time; now a batch of one-hot input must too.
        omix_data::memory::check_fits(
            dataset.examples.len(),
            schema.length,
            input.channels,
            config.train.batch_size,
            omix_data::memory::available_memory(),
        )?;
    }
    Ok(Prepared { dataset, pipeline, input, objective })
}

/// Tell the observer what was loaded, the inputs, the model and its size, and the checks (what
/// training prints before its first epoch); the checks are returned.
pub(crate) fn describe(
    config: &ExperimentConfig,
    prepared: &Prepared,
    observer: &mut dyn Observer,
) -> Result<Vec<Check>, TrainError> {
    let Prepared { dataset, pipeline, input, .. } = prepared;
    for line in dataset.summary_lines() {
        observer.message(&line);
    }
    let parameters = config.model.parameter_count(*input)?;
    observer.message(&format!("inputs: {}", pipeline.describe()));
    observer.message(&format!("model: {} ({} trainable parameters)", config.model.name(), parameters));
    let checks = biology_checks(dataset, &config.model, *input);
    for check in &checks {
        observer.message(&format!("{}: {}\n  why: {}", check.severity, check.message, check.reason));
    }
    Ok(checks)
}

/// What `omix train --dry-run` found: the model's size, the measured time and the memory.
#[derive(Debug, Clone)]
pub struct DryRun {
    /// Trainable parameters.
    pub parameters: usize,
    /// The model's layers, one line each (burn's module tree).
    pub layers: String,
    /// Training time, measured on a few real steps.
    pub estimate: crate::fit::Estimate,
    /// Memory while training.
    pub memory: MemoryEstimate,
    /// Checks raised.
    pub checks: Vec<Check>,
}

/// Memory while training: the data, the parameters with their gradients and optimiser state,
/// and the peak this process reached while taking the sample steps (which holds both, and one
/// batch's activations).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryEstimate {
    /// The data held while training (the least: sequences and a batch of input, or the
    /// matrix or graph values).
    pub data_bytes: u128,
    /// Parameters, gradients and optimiser state.
    pub parameter_bytes: u128,
    /// The process's peak resident memory after the sample steps (Linux only).
    pub measured_peak_bytes: Option<u128>,
}

impl MemoryEstimate {
    /// Memory for people.
    pub fn describe(&self) -> String {
        let show = omix_data::memory::show_bytes;
        let mut text = format!(
            "{} for the data, {} for the parameters, their gradients and the optimiser's state",
            show(self.data_bytes),
            show(self.parameter_bytes)
        );
        if let Some(peak) = self.measured_peak_bytes {
            text.push_str(&format!(
                "; this process peaked at {} while taking the sample steps (data, model and one batch's activations)",
                show(peak)
            ));
        }
        text
    }
}

/// Optimiser state per weight, in floats.
pub(crate) fn optimizer_slots(config: &crate::TrainConfig) -> usize {
    match config.optimizer {
        crate::OptimizerKind::Adam | crate::OptimizerKind::Adamw => 2,
        crate::OptimizerKind::Sgd => usize::from(config.momentum > 0.0),
    }
}

/// Everything [`run_experiment`] does before its first epoch, without writing anything: check
/// the config, load the data, report the summary, the model and the checks, then time `steps`
/// real training steps (their result dropped) and a validation pass to estimate the time, and
/// size the memory.
pub fn dry_run_experiment(
    config: &ExperimentConfig,
    device: &Device,
    steps: usize,
    observer: &mut dyn Observer,
) -> Result<DryRun, TrainError> {
    let prepared = prepare(config)?;
    let checks = describe(config, &prepared, observer)?;
    let Prepared { dataset, pipeline, input, .. } = &prepared;
    let parameters = config.model.parameter_count(*input)?;
    let layers = format!("{}", config.model.init(*input, &device.clone().without_autodiff())?);
    let estimate = crate::trainer::estimate_training(config, dataset, pipeline, device, steps, observer)?;
    let data_bytes = if pipeline.is_one_hot() {
        omix_data::memory::least_bytes(
            dataset.examples.len(),
            dataset.schema.length,
            input.channels,
            config.train.batch_size,
        )
        .0
    } else {
        dataset.examples.iter().map(|example| (example.sequence.len() + 4 * example.values.len()) as u128).sum()
    };
    let memory = MemoryEstimate {
        data_bytes,
        parameter_bytes: omix_data::memory::parameter_bytes(parameters, optimizer_slots(&config.train)),
        measured_peak_bytes: omix_data::memory::peak_resident_memory(),
    };
    Ok(DryRun { parameters, layers, estimate, memory, checks })
}

/// Run an experiment into a run folder (created if needed), training on `device`.
pub fn run_experiment(
    config: &ExperimentConfig,
    run: &RunDir,
    device: &Device,
    options: TrainOptions,
    observer: &mut dyn Observer,
) -> Result<ExperimentSummary, TrainError> {
    let prepared = prepare(config)?;
    let (dataset, pipeline, input, objective) =
        (&prepared.dataset, &prepared.pipeline, prepared.input, prepared.objective);
    let schema = &dataset.schema;
    if options.resume {
        crate::fit::refuse_changed_data(run, crate::trainer::data_fingerprint(dataset))?;
    }
    run.create()?;
    // The resolved config writes every default out, the loss trained with included.
    let mut resolved = config.clone();
    resolved.train.loss = Some(objective.loss());
    run.write_toml(files::CONFIG, &resolved)?;
    run.write_json(files::SCHEMA, schema)?;
    run.write_json(files::LINEAGE, &crate::ensemble::lineage_of(config, dataset)?)?;
    run.write_json(files::DATA_REPORT, &dataset.report)?;
    write_manifest(run, dataset)?;
    run.write_json(files::FEATURES, &StoredPipeline { state: pipeline.state().clone(), input_shape: input })?;
    if let Some(motifs) = pipeline.motif_file() {
        let copy = run.path(MOTIF_COPY);
        let bytes = std::fs::read(motifs)
            .map_err(|e| TrainError::Run { path: motifs.to_path_buf(), message: e.to_string() })?;
        write_atomically(&copy, |out| out.write_all(&bytes))?;
    }

    let mut checks = describe(config, &prepared, observer)?;
    run.write_json(files::CHECKS, &checks)?;

    let started = Instant::now();
    let result = train(config, dataset, pipeline, run, device, options, observer)?;
    let training_seconds = started.elapsed().as_secs_f64();
    let mut metrics = BTreeMap::new();
    if !result.finished {
        return Ok(ExperimentSummary {
            metrics,
            checks,
            best_epoch: result.best_epoch,
            epochs: result.history.len(),
            training_seconds,
            finished: false,
            baseline: None,
        });
    }
    save_weights(&result.model, &run.path(files::WEIGHTS))?;
    let device = device.clone().without_autodiff();
    let mut test_scores: Vec<f64> = Vec::new();
    let mut after_training: Vec<Check> =
        best_epoch_is_last(&result.history, config.train.monitor.name()).into_iter().collect();
    // Autoencoders also report the training split's reconstruction error (no labels are involved).
    let splits: &[Split] = if objective.reconstructs() {
        &[Split::Train, Split::Validation, Split::Test]
    } else {
        &[Split::Validation, Split::Test]
    };
    for &split in splits {
        let indices = dataset.indices(split);
        let scores = predict_scores(
            &result.model,
            pipeline,
            dataset,
            &indices,
            256,
            &device,
            config.train.reverse_complement_average,
            objective,
        )?;
        metrics.insert(
            split.name().to_string(),
            compute_metrics(dataset, &indices, &scores, config.train.threshold, objective)?,
        );
        if !objective.reconstructs() {
            after_training.extend(never_predicted(
                schema.task,
                &schema.class_names,
                &scores,
                config.train.threshold,
                split.name(),
                "examples",
            ));
        }
        if split == Split::Test {
            write_atomically(&run.path(files::TEST_PREDICTIONS), |out| {
                write_predictions(
                    out,
                    dataset,
                    &indices,
                    &scores,
                    config.train.threshold,
                    true,
                    objective.reconstructs(),
                )
            })?;
            test_scores = scores;
        }
    }
    record_checks(run, &mut checks, after_training, observer)?;
    let baseline = if config.train.baseline {
        let latent = match &config.model {
            omix_models::ModelConfig::Autoencoder(ae) => Some(ae.latent),
            omix_models::ModelConfig::ConvAutoencoder(ae) => Some(ae.latent),
            _ => None,
        };
        let started = Instant::now();
        let report = fit_baseline(
            dataset,
            pipeline,
            config.features.as_ref(),
            objective,
            config.train.reverse_complement_augment || config.train.reverse_complement_average,
            latent,
            &test_scores,
            config.train.threshold,
            config.seed,
            &config.baseline,
        )?;
        for candidate in &report.candidates {
            observer.message(&format!(
                "baseline candidate: {} — validation {} {} (test {}){}{}",
                candidate.model,
                candidate.validation_metric,
                candidate.validation.map_or_else(|| "undefined".to_string(), |v| format!("{v:.4}")),
                candidate.test.map_or_else(|| "undefined".to_string(), |v| format!("{v:.4}")),
                candidate.seconds.map_or_else(String::new, |s| format!(" ({s:.1}s)")),
                if candidate.chosen { ", chosen" } else { "" }
            ));
        }
        observer.message(&format!(
            "baseline: {}{} ({:.1}s)\n  test: {}\n  {}",
            report.model,
            report
                .regularization
                .map_or_else(String::new, |r| format!(", regularisation {r:.3e} chosen on validation")),
            started.elapsed().as_secs_f64(),
            report.test.summary(),
            report.comparison.verdict
        ));
        Some(report)
    } else {
        None
    };
    // An autoencoder trained on labelled data: how well its latent space separates the classes,
    // beside PCA with as many components (labels are used here only, never in training).
    let embedding = match schema.task {
        Task::Binary | Task::Multiclass if objective.reconstructs() && config.train.baseline => {
            let indices: Vec<usize> = (0..dataset.examples.len()).collect();
            let labels: Vec<usize> =
                dataset.examples.iter().map(|example| example.target.class().unwrap_or(0)).collect();
            let (latent, width) = crate::embed(&result.model, pipeline, dataset, &indices, 256, &device)?;
            let score =
                crate::score_embedding(pipeline, dataset, &indices, &latent, width, &labels, 10, 5, config.seed)?;
            for line in score.lines() {
                observer.message(&line);
            }
            Some(score)
        }
        _ => None,
    };
    run.write_json(
        files::METRICS,
        &MetricsFile {
            decision_rule: None,
            embedding: embedding.as_ref(),
            baseline: baseline.as_ref(),
            splits: &metrics,
            best_epoch: result.best_epoch,
            epochs_run: result.history.len(),
            task: schema.task,
            class_names: &schema.class_names,
            device: crate::engine::device_record(&device),
        },
    )?;
    Ok(ExperimentSummary {
        metrics,
        checks,
        best_epoch: result.best_epoch,
        epochs: result.history.len(),
        training_seconds,
        finished: true,
        baseline,
    })
}
