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
        if let Some(weight) = self.count_weight
            && !(weight.is_finite() && weight >= 0.0)
        {
            return Err(ConfigError::Invalid {
                field: "count_weight",
                message: format!("{weight} must be a non-negative number"),
            });
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
