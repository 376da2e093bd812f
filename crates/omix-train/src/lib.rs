//! Training and evaluation for omix.
//!
//! [`run_experiment`] takes an [`ExperimentConfig`] (the TOML file), a run folder and the device
//! the binary chose, loads and splits the data, reports the biology-aware checks, trains in the
//! shared loop ([`fit`]: early stopping, reduce-on-plateau, checkpoints and resume) with the
//! [`TrainingEngine`] the model allows, and writes the metrics, predictions and weights through
//! `omix-run`. Messages and progress go to an [`Observer`](omix_run::Observer); the library never
//! draws.
//!
//! ```no_run
//! use burn::prelude::*;
//! use omix_train::{ExperimentConfig, RunDir, TrainOptions, run_experiment};
//!
//! let config = ExperimentConfig::from_toml(
//!     "[data]\ninput = \"sequences.txt\"\nlabels = \"labels.txt\"\n[model]\nkind = \"primer\"",
//! )?;
//! let device = Device::flex();
//! let summary = run_experiment(&config, &RunDir::new("runs/primer"), &device, TrainOptions::default(), &mut |line: &str| {
//!     eprintln!("{line}")
//! })?;
//! println!("{}", summary.metrics["test"].summary());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]
// Errors carry the file, line and record a user needs; they are built at most once per run, so
// their size does not matter.
#![allow(clippy::result_large_err)]

pub mod baseline;
mod checks;
mod embed;
mod engine;
pub mod ensemble;
mod error;
mod evaluate;
mod experiment;
pub mod fit;
pub mod graph;
pub mod inputs;
pub mod loader;
mod objective;
pub mod predictor;
pub mod profile;
pub mod profile_ensemble;
pub mod profile_examples;
pub mod profile_scorer;
pub mod run;
mod trainer;
pub mod tune;

pub use checks::biology_checks;
pub use embed::{EmbeddingScore, embed, score_embedding};
pub use engine::{TrainingEngine, step_seed};
pub use error::TrainError;
pub use evaluate::{
    Metrics, ReconstructionMetrics, compute_metrics, evaluate_run, mean_loss, predict_scores, read_back,
};
pub use experiment::{DryRun, ExperimentSummary, MemoryEstimate, dry_run_experiment, run_experiment};
pub use inputs::{BatchInput, InputPipeline};
pub use objective::{Objective, batch_loss, profile_loss, profile_loss_constant, reconstruction_error};
pub use omix_config::{
    Engine, Experiment, ExperimentConfig, FeatureConfig, Loss, Monitor, OptimizerKind, Overrides, PlateauConfig,
    TrainConfig,
};
pub use omix_run::{Check, EpochRecord, RunDir};
pub use run::TrainedRun;
pub use trainer::{Batch, TrainOptions, TrainResult, estimate_training, optimizer, train};
