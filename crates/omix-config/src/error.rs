//! What can be wrong with an experiment file.

use std::path::PathBuf;

/// An experiment file that cannot be read, does not parse, or holds a setting that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file does not parse: `file:line:column` and what is wrong.
    #[error("{location}: {message}")]
    File {
        /// `file:line:column`.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A `--set KEY=VALUE` that cannot be applied or makes the config invalid.
    #[error("--set {argument}: {message}")]
    Set {
        /// The argument as given.
        argument: String,
        /// What is wrong.
        message: String,
    },
    /// A setting that cannot work (`[train]` unless the field names another table).
    #[error("{}: {message}", table_field(field))]
    Invalid {
        /// The setting (`learning_rate`, `data.task`, `reduce_on_plateau.factor`, ...).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A bad `[data]` table.
    #[error(transparent)]
    Data(#[from] omix_data::DataError),
    /// A bad `[graph]` table.
    #[error(transparent)]
    Graph(#[from] omix_data::graph::GraphError),
}

/// A config field with its table: `[features] motifs`, `[model]`, `[train] learning_rate`.
pub fn table_field(field: &str) -> String {
    for table in ["features", "model", "data", "graph"] {
        if field == table {
            return format!("[{table}]");
        }
        if let Some(rest) = field.strip_prefix(table).and_then(|rest| rest.strip_prefix('.')) {
            return format!("[{table}] {rest}");
        }
    }
    if let Some(rest) = field.strip_prefix("baseline.") {
        return format!("[baseline] {rest}");
    }
    if field == "baseline" {
        return "baseline".into();
    }
    format!("[train] {field}")
}
