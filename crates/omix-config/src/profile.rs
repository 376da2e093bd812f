//! A base-resolution profile experiment: `seed`, `[tracks]`, `[model]` (BPNet's sizes), `[train]`.

use omix_data::profile::ProfileDataConfig;
use omix_models::BpnetConfig;
use serde::{Deserialize, Serialize};

use crate::{ConfigError, Monitor, TrainConfig};

/// A profile experiment: what the TOML file holds and the run folder keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileExperimentConfig {
    /// Seed for the background draw, weight initialisation, jitter, strands and batch order.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Peaks, reference and count tracks.
    pub tracks: ProfileDataConfig,
    /// BPNet's sizes.
    #[serde(default)]
    pub model: BpnetConfig,
    /// The weight of the count loss against the profile loss; by default the median total count of
    /// the training peaks / 10 (chrombpnet's choice), printed when training starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_weight: Option<f64>,
    /// The training settings.
    #[serde(default)]
    pub train: TrainConfig,
    /// Motifs whose marginal footprints the run reports: each inserted at the centre of background
    /// sequences, the average change of the predicted profile (`[[footprint]]` tables).
    #[serde(default, rename = "footprint", skip_serializing_if = "Vec::is_empty")]
    pub footprints: Vec<FootprintMotif>,
    /// ChromBPNet: a bias model trained first on low-count background, then frozen under the main
    /// model (absent: plain BPNet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<BiasConfig>,
}

/// A `[[footprint]]` table: a motif to insert into background sequences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FootprintMotif {
    /// Its name in the report.
    pub name: String,
    /// The sequence inserted (A, C, G, T).
    pub sequence: String,
}

/// The `[bias]` table of a ChromBPNet experiment: the bias model's sizes (chrombpnet's defaults:
/// 128 filters, 4 dilated layers) and which background it learns from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BiasConfig {
    /// Filters of every convolution.
    #[serde(default = "default_bias_filters")]
    pub filters: usize,
    /// Residual dilated convolutions.
    #[serde(default = "default_bias_layers")]
    pub layers: usize,
    /// Width of the first convolution.
    #[serde(default = "default_first_width")]
    pub first_width: usize,
    /// Width of the profile head's convolution.
    #[serde(default = "default_profile_width")]
    pub profile_width: usize,
    /// Background regions whose total count is at least this factor times the 1% quantile of the
    /// training and validation peaks' counts are left out of the bias model's data, so it learns
    /// the enzyme's preference from regions without TF signal (chrombpnet's
    /// `bias_threshold_factor`, default 0.5).
    #[serde(default = "default_threshold_factor")]
    pub threshold_factor: f64,
    /// Epochs of the bias model (default: `[train] epochs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    /// The bias model's count-loss weight (default: the median count of its training regions / 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_weight: Option<f64>,
}

fn default_bias_filters() -> usize {
    128
}
fn default_bias_layers() -> usize {
    4
}
fn default_first_width() -> usize {
    21
}
fn default_profile_width() -> usize {
    75
}
fn default_threshold_factor() -> f64 {
    0.5
}

impl Default for BiasConfig {
    fn default() -> Self {
        BiasConfig {
            filters: default_bias_filters(),
            layers: default_bias_layers(),
            first_width: default_first_width(),
            profile_width: default_profile_width(),
            threshold_factor: default_threshold_factor(),
            epochs: None,
            count_weight: None,
        }
    }
}

impl BiasConfig {
    /// The bias model's BPNet sizes.
    pub fn model(&self) -> BpnetConfig {
        BpnetConfig {
            filters: self.filters,
            first_width: self.first_width,
            layers: self.layers,
            profile_width: self.profile_width,
        }
    }

    /// The training settings of the bias model: the experiment's, with its own epochs.
    pub fn train(&self, train: &TrainConfig) -> TrainConfig {
        let mut settings = train.clone();
        if let Some(epochs) = self.epochs {
            settings.epochs = epochs;
        }
        settings
    }
}

fn default_seed() -> u64 {
    42
}

impl ProfileExperimentConfig {
    /// Parse TOML text.
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// Validate every table (the windows against the model once the data are read).
    pub fn check(&self) -> Result<(), ConfigError> {
        self.tracks.check()?;
        self.train.check()?;
        if self.train.monitor != Monitor::Loss {
            return Err(ConfigError::Invalid {
                field: "monitor",
                message: format!(
                    "\"{}\" is not measured for profile models; use \"loss\" (profile negative log-likelihood plus \
                     the weighted count error)",
                    self.train.monitor.name()
                ),
            });
        }
        if self.train.reverse_complement_augment || self.train.reverse_complement_average {
            return Err(ConfigError::Invalid {
                field: "reverse_complement_augment",
                message: "profile experiments set reverse complements in [tracks] (reverse_complement = true), \
                          which also swaps the strands and reverses the profiles"
                    .into(),
            });
        }
        let weights = [
            Some(("count_weight", self.count_weight)),
            self.bias.as_ref().map(|b| ("bias.count_weight", b.count_weight)),
        ];
        for (field, weight) in weights.into_iter().flatten() {
            if let Some(weight) = weight
                && !(weight.is_finite() && weight >= 0.0)
            {
                return Err(ConfigError::Invalid { field, message: format!("{weight} must be a non-negative number") });
            }
        }
        for motif in &self.footprints {
            if motif.sequence.is_empty()
                || motif.sequence.len() > self.tracks.output_length
                || !motif.sequence.bytes().all(|b| matches!(b, b'A' | b'C' | b'G' | b'T'))
            {
                return Err(ConfigError::Invalid {
                    field: "footprint.sequence",
                    message: format!(
                        "footprint '{}': sequence '{}' must be 1 to {} bases of A, C, G and T (upper case)",
                        motif.name, motif.sequence, self.tracks.output_length
                    ),
                });
            }
        }
        if let Some(bias) = &self.bias {
            if !(bias.threshold_factor.is_finite() && bias.threshold_factor > 0.0) {
                return Err(ConfigError::Invalid {
                    field: "bias.threshold_factor",
                    message: format!("{} must be a positive number", bias.threshold_factor),
                });
            }
            if bias.epochs == Some(0) {
                return Err(ConfigError::Invalid { field: "bias.epochs", message: "must be at least 1".into() });
            }
            if self.tracks.background == 0 {
                return Err(ConfigError::Invalid {
                    field: "bias",
                    message: "a ChromBPNet bias model learns from background regions: set [tracks] background \
                              above 0"
                        .into(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_experiment_parses_with_defaults() -> Result<(), Box<dyn std::error::Error>> {
        let config = ProfileExperimentConfig::from_toml(
            "[tracks]\nreference = \"g.fa\"\npeaks = \"p.bed\"\n[[tracks.task]]\nname = \"chip\"\nplus = \"a.bw\"\nminus = \"b.bw\"\n",
        )?;
        assert_eq!(config.tracks.input_length, 2114);
        assert_eq!(config.tracks.strands(), 2);
        assert_eq!(config.model.filters, 64);
        config.check()?;
        let mut bad = config.clone();
        bad.tracks.tasks[0].unstranded = Some("c.bw".into());
        assert!(bad.check().is_err());
        Ok(())
    }
}
