//! Training, evaluation and run folders for omix.
//!
//! [`run_experiment`] takes an [`ExperimentConfig`] (the TOML file) and a run folder, loads and
//! splits the data, prints the biology-aware checks, trains with early stopping and
//! checkpoints, and writes the metrics, predictions and weights.
//!
//! ```no_run
//! use omix_train::{ExperimentConfig, RunDir, TrainOptions, run_experiment};
//!
//! let config = ExperimentConfig::from_toml(
//!     "[data]\ninput = \"sequences.txt\"\nlabels = \"labels.txt\"\n[model]\nkind = \"primer\"",
//! )?;
//! let summary = run_experiment(&config, &RunDir::new("runs/primer"), TrainOptions::default(), &mut |line| {
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
mod config;
mod embed;
mod error;
mod evaluate;
mod experiment;
pub mod explain;
pub mod graph;
pub mod inputs;
pub mod interpret;
pub mod loader;
pub mod predictor;
pub mod run;
mod trainer;

pub use checks::{Check, biology_checks};
pub use config::{Engine, ExperimentConfig, Monitor, OptimizerKind, PlateauConfig, RegressionLoss, TrainConfig};
pub use embed::{EmbeddingScore, embed, score_embedding};
pub use error::TrainError;
pub use evaluate::{Metrics, ReconstructionMetrics, compute_metrics, mean_loss, predict_scores};
pub use experiment::{ExperimentSummary, run_experiment};
pub use inputs::{BatchInput, FeatureConfig, InputPipeline};
pub use run::RunDir;
pub use trainer::{
    Batch, EpochRecord, Objective, TrainOptions, TrainResult, batch_loss, optimizer, train, training_step,
};
