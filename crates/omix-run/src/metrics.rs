//! `metrics.json`: the metrics of each reported split, the baseline beside the model, and the
//! facts of the training that produced them.

use std::collections::BTreeMap;

use omix_baseline::{Comparison, EmbeddingScore};
use omix_data::Task;
use omix_metrics::Metrics;
use serde::{Deserialize, Serialize};

/// The baseline, its test metrics and how the model compares with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineReport {
    /// What the baseline is.
    pub model: String,
    /// The regularisation chosen on the validation split (C for logistic, λ for ridge).
    pub regularization: Option<f64>,
    /// Test-set metrics of the baseline.
    pub test: Metrics,
    /// The paired comparison on the test set.
    pub comparison: Comparison,
    /// Every baseline fitted when more than one was (`[baseline] kind = "auto"`), with its
    /// validation score; the chosen one is described above.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<BaselineCandidate>,
}

/// One baseline fitted in the choice among several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineCandidate {
    /// What the baseline is.
    pub model: String,
    /// The regularisation chosen on the validation split.
    pub regularization: Option<f64>,
    /// The statistic that chose among the baselines (the comparison's, on the validation split).
    pub validation_metric: String,
    /// Its value on the validation split (absent when undefined, e.g. a single class).
    pub validation: Option<f64>,
    /// The same statistic on the test split, for the record only: the choice never reads it.
    pub test: Option<f64>,
    /// Whether this baseline was chosen.
    pub chosen: bool,
    /// Seconds its features and fit took (shown, never written, so `metrics.json` stays the
    /// same for the same config and seed).
    #[serde(skip)]
    pub seconds: Option<f64>,
}

/// What `metrics.json` holds (written by every experiment kind, keys in this order).
#[derive(Debug, Serialize)]
pub struct MetricsFile<'a> {
    /// Metrics per reported split (`validation`, `test`; graphs also `*_threshold`).
    #[serde(flatten)]
    pub splits: &'a BTreeMap<String, Metrics>,
    /// How decisions were made from scores when it is not the usual rule (graphs: `top_k` or
    /// `argmax`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_rule: Option<&'static str>,
    /// The baseline and the comparison with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<&'a BaselineReport>,
    /// An autoencoder's latent space scored against PCA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding: Option<&'a EmbeddingScore>,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Epochs run.
    pub epochs_run: usize,
    /// The task.
    pub task: Task,
    /// Class or task names.
    pub class_names: &'a [String],
    /// The device that trained the model, when it was not the CPU (absent: the CPU).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceRecord>,
}

/// The device that trained a run, as `metrics.json` records it when that was not the CPU: the
/// CPU's runs repeat byte for byte, a GPU's only within a tolerance (README, "GPU").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// What kind of device: `"gpu"`.
    pub kind: String,
    /// The adapter's name as its driver gives it.
    pub name: String,
    /// What the same config and seed give again on this device.
    pub reproducibility: String,
}
