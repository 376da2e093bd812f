//! The omix experiment file, in one place: what a user writes (`seed`, `[data]`, `[features]`,
//! `[model]`, `[train]`, or `[graph]` for node classification), its defaults written next to each
//! field, its validation (`check`, one error per rule naming the table and field), reading it once
//! with `file:line:column` errors ([`Experiment::load`], paths made absolute against the file's
//! folder), and the settings given on the command line as typed [`Overrides`] applied over it.
//!
//! ```
//! use omix_config::{Experiment, Overrides};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("primer.toml");
//! std::fs::write(&path, "[data]\ninput = \"seqs.txt\"\nlabels = \"labels.txt\"\n[model]\nkind = \"primer\"\n")?;
//! let Experiment::Sequence(mut config) = Experiment::load(&path)? else {
//!     return Err("read as a graph experiment".into());
//! };
//! Overrides { epochs: Some(3), ..Overrides::default() }.apply(&mut config);
//! config.check()?;
//! assert_eq!(config.train.epochs, 3);
//! assert!(config.data.input.is_some_and(|input| input.is_absolute()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]
#![allow(clippy::result_large_err)]

mod baseline;
mod error;
mod features;
mod graph;
pub mod plan;
mod profile;
pub mod template;
mod train;
pub mod tune;

pub use baseline::{BaselineConfig, BaselineKind};
pub use error::{ConfigError, table_field};
pub use features::{FeatureConfig, MatrixFeatureConfig, PwmFeatureConfig};
pub use graph::{GraphExperimentConfig, GraphModel};
pub use plan::{Experiment, Overrides, Setting, flags_only_experiment};
pub use profile::{BiasConfig, FootprintMotif, ProfileExperimentConfig};
pub use train::{Engine, ExperimentConfig, Loss, Monitor, OptimizerKind, PlateauConfig, TrainConfig};
pub use tune::{SearchMethod, SearchSpace};
