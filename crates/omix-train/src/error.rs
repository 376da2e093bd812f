//! Errors of training and evaluation.

use std::path::PathBuf;

/// What can go wrong while training, evaluating or reading a run folder.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Bad data.
    #[error(transparent)]
    Data(#[from] omix_data::DataError),
    /// A bad graph (edge list, node labels or features).
    #[error(transparent)]
    Graph(#[from] omix_data::graph::GraphError),
    /// A file could not be written or read.
    #[error(transparent)]
    Io(#[from] omix_io::IoError),
    /// A model config that cannot work with this data.
    #[error(transparent)]
    Model(#[from] omix_models::ModelError),
    /// Metrics could not be computed.
    #[error("metrics: {0}")]
    Metrics(#[from] omix_metrics::MetricsError),
    /// A setting that cannot work (`[train]` unless the field names another table).
    #[error("{}: {message}", omix_config::table_field(field))]
    Config {
        /// The setting.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An experiment file that cannot be read or parsed, or a setting that cannot work.
    #[error(transparent)]
    Experiment(#[from] omix_config::ConfigError),
    /// A run folder file is missing or unreadable.
    #[error("{}: {message}", path.display())]
    Run {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A run folder that cannot be read or written.
    #[error(transparent)]
    RunFolder(#[from] omix_run::RunError),
    /// The compute backend failed (e.g. reading results back from the device).
    #[error("backend: {0}")]
    Backend(String),
    /// The loss became NaN or infinite.
    #[error(
        "training diverged at epoch {epoch}, batch {batch}: the loss is {loss}; lower the learning rate or set clip_grad_norm in [train]"
    )]
    Diverged {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch.
        batch: usize,
        /// The loss.
        loss: f64,
    },
}
