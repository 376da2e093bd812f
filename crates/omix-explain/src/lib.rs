//! What a trained omix sequence model learned.
//!
//! [`attribution`] computes per-base attributions (saliency, gradient × input, integrated
//! gradients, in-silico mutagenesis) and each first-layer filter's sites; [`interpret`] turns
//! them into the files of `RUN/explain/`: TSVs, `filters.meme`, SVG logos of filters beside
//! their Tomtom-style database matches (omix-motif), and the `explain.json` summary (omix-run's
//! types) that the report reads. The device comes from the caller.
//!
//! ```no_run
//! use burn::prelude::*;
//! use omix_explain::{ExplainOptions, InterpretSettings, interpret};
//! use omix_run::RunDir;
//! use omix_train::TrainedRun;
//!
//! let run = RunDir::new("runs/quickstart");
//! let config = run.config()?;
//! let dataset = omix_data::Dataset::load(&config.data, config.seed)?;
//! let test = dataset.indices(omix_data::Split::Test);
//! let database = omix_motif::jaspar2024().clone();
//! let settings = InterpretSettings::new(ExplainOptions::default(), database, "JASPAR 2024".into());
//! let device = Device::flex();
//! let outcome = interpret(&run, &dataset, &test, &settings, &run.path("explain"), &device, &mut |line: &str| {
//!     eprintln!("{line}")
//! })?;
//! println!("{} filters", outcome.summary.filters.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]
#![allow(clippy::result_large_err)]

mod after_training;
pub mod attribution;
mod bias;
mod database;
pub mod interpret;
pub mod motifs;
pub mod profile;

use std::path::PathBuf;

pub use after_training::{AUTO_EXPLAIN_SEQUENCES, explain_after_training};
pub use attribution::{ExplainOptions, Explainer, FilterSites, IgBaseline, Method, SequenceAttribution, filter_sites};
pub use bias::{BIAS_FILTER_SEQUENCES, bias_filters};
pub use database::motif_database;
pub use interpret::{InterpretOutcome, InterpretSettings, file_safe, interpret};
pub use motifs::{MotifSettings, discover_motifs, discover_motifs_from_files, read_attributions};
pub use profile::{
    ProfileExplainSettings, ProfileExplainer, ProfileHead, ProfileMethod, ProfileRegions, explain_profile_run,
};

/// What can go wrong explaining a model.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The run folder's model or data could not be loaded.
    #[error(transparent)]
    Train(#[from] omix_train::TrainError),
    /// A run folder file could not be read.
    #[error(transparent)]
    RunFolder(#[from] omix_run::RunError),
    /// The data set to explain could not be loaded.
    #[error(transparent)]
    Data(#[from] omix_data::DataError),
    /// A motif database file could not be read.
    #[error(transparent)]
    Motif(#[from] omix_motif::MotifError),
    /// Motif databases that cannot be combined.
    #[error("{}: {message}", path.display())]
    Database {
        /// The database file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An output could not be written.
    #[error(transparent)]
    Io(#[from] omix_io::IoError),
    /// A run or input that cannot be explained (attributions, filter motifs).
    #[error("explain: {0}")]
    Invalid(String),
    /// An output folder could not be made.
    #[error("{}: {message}", path.display())]
    Write {
        /// The folder or file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}
