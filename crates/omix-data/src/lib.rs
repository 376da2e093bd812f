//! Labelled sequence data sets for omix: reading any supported layout, validating every record
//! against the alphabet and length, leak-free train/validation/test splits, shuffled negatives,
//! class weights, oversampling and one-hot batches.
//!
//! ```
//! use omix_data::{DataConfig, Dataset, Split};
//!
//! let dir = tempfile::tempdir()?;
//! let sequences = dir.path().join("sequences.txt");
//! let labels = dir.path().join("labels.txt");
//! let rows: Vec<&str> = (0..40).map(|i| if i % 2 == 0 { "ACGTACGTAA" } else { "TTTTGGGGCC" }).collect();
//! std::fs::write(&sequences, rows.join("\n"))?;
//! let classes: Vec<&str> = (0..40).map(|i| if i % 2 == 0 { "1" } else { "0" }).collect();
//! std::fs::write(&labels, classes.join("\n"))?;
//!
//! let config = DataConfig { input: Some(sequences), labels: Some(labels), ..DataConfig::default() };
//! let data = Dataset::load(&config, 42)?;
//! assert_eq!(data.schema.class_names, ["0", "1"]);
//! assert_eq!(data.indices(Split::Test).len(), 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]
// Errors carry the file, line and record a user needs; they are built at most once per run, so
// their size does not matter.
#![allow(clippy::result_large_err)]

mod config;
mod dataset;
mod error;
pub mod genome;
pub mod graph;
mod labels;
mod load;
pub mod loader;
pub mod memory;
pub mod profile;
pub mod simulate;
mod split;
mod stream;

pub use config::{
    ClassFile, ClassWeight, DataConfig, DuplicatePolicy, Format, NamedWeight, SourceConfig, Task, TaskSetting,
    resolve_path,
};
pub use dataset::{DataReport, Dataset, Example, InputKind, Schema, SplitSummary, Target};
pub use error::DataError;
pub use split::{DuplicateExample, DuplicateReport, Split};
