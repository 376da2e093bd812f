//! The experiment file of sequence and matrix models: a seed, `[data]`, `[features]`, `[model]`
//! and `[train]`, with the `[train]` table's types.

use omix_data::DataConfig;

use crate::{BaselineConfig, FeatureConfig};
use omix_models::ModelConfig;
use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// Optimisers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam (L2 `weight_decay` added to the gradient).
    #[default]
    Adam,
    /// AdamW (decoupled `weight_decay`).
    Adamw,
    /// Stochastic gradient descent with `momentum`.
    Sgd,
}

/// How training computes gradients. Prediction always uses the hand-written forward pass when
/// the model allows it (it equals burn's to 1e-4, tested), whatever this says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// omix's hand-written forward/backward (CNN, LSTM, BPNet kernels) where the model allows it,
    /// else burn.
    #[default]
    Auto,
    /// Always burn's autodiff.
    Burn,
}

/// Validation quantities that can drive early stopping and learning-rate reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    /// Validation loss (lower is better).
    #[default]
    Loss,
    /// Accuracy.
    Accuracy,
    /// Balanced accuracy.
    BalancedAccuracy,
    /// AUROC (macro for multi-class/multi-label).
    Auroc,
    /// AUPRC (macro for multi-class/multi-label).
    Auprc,
    /// Matthews correlation coefficient.
    Mcc,
    /// F1 (macro for multi-class/multi-label).
    F1,
    /// Pearson correlation (regression; mean over tasks).
    Pearson,
    /// Spearman correlation (regression; mean over tasks).
    Spearman,
    /// Coefficient of determination (regression; mean over tasks).
    R2,
    /// Mean squared error (regression; lower is better).
    Mse,
}

impl Monitor {
    /// Whether larger values are better.
    pub fn maximise(self) -> bool {
        !matches!(self, Monitor::Loss | Monitor::Mse)
    }

    /// Whether the quantity is a regression metric (Pearson, Spearman, R², MSE).
    pub fn is_regression(self) -> bool {
        matches!(self, Monitor::Pearson | Monitor::Spearman | Monitor::R2 | Monitor::Mse)
    }

    /// Whether the quantity is a classification metric (accuracy, AUROC, ...).
    pub fn is_classification(self) -> bool {
        !matches!(self, Monitor::Loss) && !self.is_regression()
    }

    /// Name as written in configs and logs.
    pub fn name(self) -> &'static str {
        match self {
            Monitor::Loss => "loss",
            Monitor::Accuracy => "accuracy",
            Monitor::BalancedAccuracy => "balanced_accuracy",
            Monitor::Auroc => "auroc",
            Monitor::Auprc => "auprc",
            Monitor::Mcc => "mcc",
            Monitor::F1 => "f1",
            Monitor::Pearson => "pearson",
            Monitor::Spearman => "spearman",
            Monitor::R2 => "r2",
            Monitor::Mse => "mse",
        }
    }
}

/// Reduce the learning rate when the monitored quantity stops improving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlateauConfig {
    /// Multiply the learning rate by this factor.
    #[serde(default = "half")]
    pub factor: f64,
    /// Epochs without improvement before reducing.
    #[serde(default = "two")]
    pub patience: usize,
    /// Never go below this learning rate.
    #[serde(default = "min_lr")]
    pub min_learning_rate: f64,
}

fn half() -> f64 {
    0.5
}
fn two() -> usize {
    2
}
fn min_lr() -> f64 {
    1e-6
}

/// The `[train] loss`. A regression task chooses between `mse` (the default) and `poisson`;
/// every other task has one loss, fixed by the task and model, which the resolved config writes
/// out and which a config may repeat (any other is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Mean squared error; outputs are the predicted values.
    #[default]
    Mse,
    /// Poisson negative log-likelihood for counts; outputs are log-rates, predictions their exponential.
    Poisson,
    /// Sigmoid cross-entropy per output (binary and multi-label classification).
    BinaryCrossEntropy,
    /// Softmax cross-entropy over the classes (multi-class classification).
    CrossEntropy,
    /// Mean squared reconstruction error (dense autoencoders).
    ReconstructionMse,
    /// Cross-entropy of the reconstructed one-hot channels (convolutional autoencoders).
    ReconstructionCrossEntropy,
}

impl Loss {
    /// The name in configs and messages, e.g. `binary_cross_entropy`.
    pub fn name(self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::Poisson => "poisson",
            Loss::BinaryCrossEntropy => "binary_cross_entropy",
            Loss::CrossEntropy => "cross_entropy",
            Loss::ReconstructionMse => "reconstruction_mse",
            Loss::ReconstructionCrossEntropy => "reconstruction_cross_entropy",
        }
    }

    /// Whether a regression task may be trained with it (`mse`, `poisson`).
    pub fn is_regression(self) -> bool {
        matches!(self, Loss::Mse | Loss::Poisson)
    }
}

/// The `[train]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Optimiser.
    #[serde(default)]
    pub optimizer: OptimizerKind,
    /// Initial learning rate.
    #[serde(default = "default_lr")]
    pub learning_rate: f64,
    /// L2 penalty (Adam/SGD) or decoupled weight decay (AdamW).
    #[serde(default)]
    pub weight_decay: f64,
    /// SGD momentum.
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    /// Examples per batch.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Maximum number of epochs.
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// Quantity that picks the best epoch and drives early stopping.
    #[serde(default)]
    pub monitor: Monitor,
    /// Stop after this many epochs without improvement (0 = never stop early).
    #[serde(default = "default_patience")]
    pub patience: usize,
    /// Smallest change that counts as an improvement.
    #[serde(default)]
    pub min_delta: f64,
    /// Restore the weights of the best epoch at the end.
    #[serde(default = "yes")]
    pub restore_best: bool,
    /// Reduce the learning rate on plateau.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduce_on_plateau: Option<PlateauConfig>,
    /// Clip each parameter's gradient to this L2 norm (burn clips per parameter tensor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_grad_norm: Option<f32>,
    /// Clip each gradient component to [-value, value].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_grad_value: Option<f32>,
    /// Probability threshold for the positive class (binary and multi-label).
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Train on a random strand: each example is reverse-complemented with probability 1/2 (DNA/RNA).
    #[serde(default)]
    pub reverse_complement_augment: bool,
    /// Predict as the mean of the forward and reverse-complement predictions (DNA/RNA).
    #[serde(default)]
    pub reverse_complement_average: bool,
    /// Threads that build training batches while the model trains (0: build each batch on the
    /// training thread just before it is used). Results do not depend on it.
    #[serde(default = "default_loader_workers")]
    pub loader_workers: usize,
    /// Batches each loader thread may have ready ahead of the training step (bounds memory).
    #[serde(default = "default_loader_depth")]
    pub loader_depth: usize,
    /// Gradient engine: "auto" (hand-written kernels for CNNs, LSTMs and BPNet, else burn) or "burn".
    #[serde(default)]
    pub engine: Engine,
    /// The loss: a regression task's choice (`mse` when unset, or `poisson`); classifiers and
    /// autoencoders have theirs from the task and model, and may only repeat it. The resolved
    /// config of every run writes out the loss it trained with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<Loss>,
    /// Also fit a simple baseline on the same split and test whether the model beats it.
    #[serde(default = "yes")]
    pub baseline: bool,
}

fn default_lr() -> f64 {
    1e-3
}
fn default_momentum() -> f64 {
    0.9
}
fn default_batch() -> usize {
    32
}
fn default_epochs() -> usize {
    50
}
fn default_patience() -> usize {
    5
}
fn default_threshold() -> f64 {
    0.5
}
fn yes() -> bool {
    true
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            optimizer: OptimizerKind::Adam,
            learning_rate: default_lr(),
            weight_decay: 0.0,
            momentum: default_momentum(),
            batch_size: default_batch(),
            epochs: default_epochs(),
            monitor: Monitor::Loss,
            patience: default_patience(),
            min_delta: 0.0,
            restore_best: true,
            reduce_on_plateau: None,
            clip_grad_norm: None,
            clip_grad_value: None,
            threshold: default_threshold(),
            reverse_complement_augment: false,
            reverse_complement_average: false,
            loader_workers: default_loader_workers(),
            loader_depth: default_loader_depth(),
            engine: Engine::Auto,
            loss: None,
            baseline: true,
        }
    }
}

impl TrainConfig {
    /// Check the settings, one error per rule.
    pub fn check(&self) -> Result<(), ConfigError> {
        let invalid = |field: &'static str, message: String| Err(ConfigError::Invalid { field, message });
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return invalid("learning_rate", format!("{} must be a positive number", self.learning_rate));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return invalid("weight_decay", format!("{} must be >= 0", self.weight_decay));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return invalid("momentum", format!("{} must be in [0, 1)", self.momentum));
        }
        if self.batch_size == 0 {
            return invalid("batch_size", "must be at least 1".into());
        }
        if self.epochs == 0 {
            return invalid("epochs", "must be at least 1".into());
        }
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return invalid("threshold", format!("{} must be in (0, 1)", self.threshold));
        }
        if self.clip_grad_norm.is_some() && self.clip_grad_value.is_some() {
            return invalid("clip_grad_norm", "set clip_grad_norm or clip_grad_value, not both".into());
        }
        for (field, clip) in [("clip_grad_norm", self.clip_grad_norm), ("clip_grad_value", self.clip_grad_value)] {
            if let Some(clip) = clip
                && !(clip.is_finite() && clip > 0.0)
            {
                return invalid(field, format!("{clip} must be a positive number"));
            }
        }
        if !(self.min_delta.is_finite() && self.min_delta >= 0.0) {
            return invalid(
                "min_delta",
                format!(
                    "{} must be a finite number >= 0 (the smallest change of `monitor` that counts as an improvement)",
                    self.min_delta
                ),
            );
        }
        if let Some(plateau) = &self.reduce_on_plateau {
            if !(plateau.factor > 0.0 && plateau.factor < 1.0) {
                return invalid("reduce_on_plateau.factor", format!("{} must be in (0, 1)", plateau.factor));
            }
            if !(plateau.min_learning_rate.is_finite() && plateau.min_learning_rate >= 0.0) {
                return invalid(
                    "reduce_on_plateau.min_learning_rate",
                    format!("{} must be a finite number >= 0", plateau.min_learning_rate),
                );
            }
        }
        Ok(())
    }

    /// Check that `monitor` is measured for the task: a regression metric means nothing for
    /// classes (it would be NaN every epoch, so no epoch would ever count as the best), and a
    /// classification metric nothing for real-valued targets.
    pub fn check_monitor(&self, regression: bool, task: &str) -> Result<(), ConfigError> {
        let monitor = self.monitor;
        let wrong = if regression { monitor.is_classification() } else { monitor.is_regression() };
        if wrong {
            let (kind, choices) = if regression {
                ("a classification", "loss, pearson, spearman, r2 or mse")
            } else {
                ("a regression", "loss, accuracy, balanced_accuracy, auroc, auprc, mcc or f1")
            };
            return Err(ConfigError::Invalid {
                field: "monitor",
                message: format!(
                    "\"{}\" is {kind} metric, but the task is {task}, for which it is never computed (no epoch would count as the best); use {choices}",
                    monitor.name()
                ),
            });
        }
        Ok(())
    }
}

/// A whole experiment: what the TOML file holds and the run folder keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Seed for splits, shuffles, weight initialisation, dropout and batch order.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The data.
    pub data: DataConfig,
    /// Engineered features for dense networks (k-mer counts, PWM scores); matrix inputs need none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<FeatureConfig>,
    /// The model.
    #[serde(default)]
    pub model: ModelConfig,
    /// The training settings.
    #[serde(default)]
    pub train: TrainConfig,
    /// Which simple baseline to fit beside the model (written out only when not the default).
    #[serde(default, skip_serializing_if = "BaselineConfig::is_default")]
    pub baseline: BaselineConfig,
}

fn default_seed() -> u64 {
    42
}

impl ExperimentConfig {
    /// Parse TOML text.
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// Validate every table.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.data.check()?;
        self.train.check()?;
        self.baseline.check()?;
        match self.data.task {
            omix_data::TaskSetting::Auto => self.train.check_monitor(
                false,
                "classification (classes from the labels; set task = \"regression\" in [data] for real-valued targets)",
            )?,
            omix_data::TaskSetting::Regression => self.train.check_monitor(true, "regression")?,
            omix_data::TaskSetting::Unsupervised => {}
        }
        if (self.train.reverse_complement_augment || self.train.reverse_complement_average)
            && self.data.alphabet == omix_encode::Alphabet::Protein
        {
            return Err(ConfigError::Invalid {
                field: "reverse_complement_augment",
                message: "reverse complements exist for DNA/RNA, not protein".into(),
            });
        }
        Ok(())
    }
}

fn default_loader_workers() -> usize {
    1
}

fn default_loader_depth() -> usize {
    4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_config_parses() -> Result<(), Box<dyn std::error::Error>> {
        let config = ExperimentConfig::from_toml(
            r#"
            seed = 7
            [data]
            input = "seqs.txt"
            labels = "labels.txt"
            [model]
            kind = "primer"
            [train]
            optimizer = "adamw"
            epochs = 3
            monitor = "auroc"
            reduce_on_plateau = { factor = 0.2 }
            "#,
        )?;
        config.check()?;
        assert_eq!(config.seed, 7);
        assert_eq!(config.train.monitor, Monitor::Auroc);
        assert_eq!(config.train.reduce_on_plateau.map(|p| p.patience), Some(2));
        Ok(())
    }

    #[test]
    fn bad_learning_rate_is_rejected() {
        let config = TrainConfig { learning_rate: -1.0, ..TrainConfig::default() };
        assert!(matches!(config.check(), Err(ConfigError::Invalid { field: "learning_rate", .. })));
    }

    #[test]
    fn both_clippings_are_rejected() {
        let config = TrainConfig { clip_grad_norm: Some(1.0), clip_grad_value: Some(1.0), ..TrainConfig::default() };
        assert!(config.check().is_err());
    }

    #[test]
    fn clip_grad_value_errors_name_it() -> Result<(), Box<dyn std::error::Error>> {
        let config = TrainConfig { clip_grad_value: Some(-1.0), ..TrainConfig::default() };
        let error = config.check().err().ok_or("a negative clip_grad_value was accepted")?;
        assert!(matches!(error, ConfigError::Invalid { field: "clip_grad_value", .. }), "{error}");
        assert!(error.to_string().starts_with("[train] clip_grad_value: -1"), "{error}");
        Ok(())
    }

    #[test]
    fn min_delta_must_be_finite_and_not_negative() {
        for value in [f64::NAN, f64::INFINITY, -0.1] {
            let config = TrainConfig { min_delta: value, ..TrainConfig::default() };
            assert!(matches!(config.check(), Err(ConfigError::Invalid { field: "min_delta", .. })), "{value}");
        }
        assert!(TrainConfig { min_delta: 0.01, ..TrainConfig::default() }.check().is_ok());
    }

    #[test]
    fn monitor_must_fit_the_task() -> Result<(), Box<dyn std::error::Error>> {
        let text = "[data]\ninput = \"x\"\n[train]\nmonitor = \"pearson\"\n";
        let config = ExperimentConfig::from_toml(text)?;
        let error = config.check().err().ok_or("pearson on a classification task was accepted")?;
        assert!(error.to_string().contains("[train] monitor: \"pearson\" is a regression metric"), "{error}");
        let config = ExperimentConfig::from_toml(&text.replace("x\"\n", "x\"\ntask = \"regression\"\n"))?;
        config.check()?;
        let config = ExperimentConfig::from_toml(
            "[data]\ninput = \"x\"\ntask = \"regression\"\n[train]\nmonitor = \"auroc\"\n",
        )?;
        assert!(config.check().is_err());
        Ok(())
    }

    #[test]
    fn zero_batch_is_rejected() {
        let config = TrainConfig { batch_size: 0, ..TrainConfig::default() };
        assert!(config.check().is_err());
    }
}
