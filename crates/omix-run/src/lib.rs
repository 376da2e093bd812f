//! The omix run folder: the contract between what trains a model and what reads it later.
//!
//! A run folder holds everything needed to reproduce, evaluate, predict with, explain and report
//! on a trained model. This crate owns that contract without depending on burn: the file names
//! ([`files`]), the typed records a run writes ([`Check`], [`EpochRecord`], the split manifest,
//! predictions, the explain summary in [`explain`], the lineage and ensemble records in
//! [`lineage`]), atomic writing and typed reading through
//! [`RunDir`], and the lenient [`view::RunView`] that the report (and anything else that must read
//! runs of every family and every earlier version) uses. Progress reporting for the long jobs that
//! fill a run folder goes through the [`Observer`] trait.
//!
//! ```
//! use omix_run::{RunDir, files};
//!
//! let dir = tempfile::tempdir()?;
//! let run = RunDir::new(dir.path().join("run"));
//! run.create()?;
//! run.write_json(files::CHECKS, &Vec::<omix_run::Check>::new())?;
//! let checks: Vec<omix_run::Check> = run.read_json(files::CHECKS)?;
//! assert!(checks.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
pub mod explain;
pub mod files;
mod folder;
pub mod lineage;
mod metrics;
pub mod motifs;
pub mod profile;
mod progress;
mod records;
pub mod view;

pub use error::RunError;
pub use folder::{Preparation, Prepared, RunDir};
pub use lineage::{Combine, EnsembleFile, Lineage, MemberKind};
pub use metrics::{BaselineCandidate, BaselineReport, DeviceRecord, MetricsFile};
pub use progress::{Observer, Silent};
pub use records::{
    Check, EpochRecord, label_text, write_log, write_manifest, write_node_manifest, write_node_predictions,
    write_predictions,
};
