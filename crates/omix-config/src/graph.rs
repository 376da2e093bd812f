//! A node-classification experiment: `seed`, `[graph]`, `[model]` (`kind = "gcn"`), `[train]`.

use omix_data::graph::GraphConfig;
use omix_models::GcnConfig;
use serde::{Deserialize, Serialize};

use crate::{ConfigError, TrainConfig};

/// The `[model]` table of a graph experiment (`kind = "gcn"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum GraphModel {
    /// Graph convolutional network (Kipf & Welling 2017).
    Gcn(GcnConfig),
}

impl Default for GraphModel {
    fn default() -> Self {
        GraphModel::Gcn(GcnConfig::default())
    }
}

/// A node-classification experiment: what the TOML file holds and the run folder keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphExperimentConfig {
    /// Seed for the split, weight initialisation and dropout.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The graph, labels and features.
    pub graph: GraphConfig,
    /// The model.
    #[serde(default)]
    pub model: GraphModel,
    /// The training settings.
    #[serde(default)]
    pub train: TrainConfig,
}

fn default_seed() -> u64 {
    42
}

impl GraphExperimentConfig {
    /// Parse TOML text.
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// Validate every table (the model's shape is checked once the graph is read).
    pub fn check(&self) -> Result<(), ConfigError> {
        self.graph.check()?;
        self.train.check()?;
        self.train.check_monitor(false, "node classification")?;
        if self.train.reverse_complement_augment || self.train.reverse_complement_average {
            return Err(ConfigError::Invalid {
                field: "reverse_complement_augment",
                message: "reverse complements apply to sequences, not graph nodes".into(),
            });
        }
        Ok(())
    }

    /// The graph convolutional network the `[model]` table describes.
    pub fn gcn(&self) -> &GcnConfig {
        match &self.model {
            GraphModel::Gcn(config) => config,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcn_model_table_parses() -> Result<(), toml::de::Error> {
        let config = GraphExperimentConfig::from_toml(
            "seed = 3\n[graph]\nedges = \"e.txt\"\nlabels = \"l.txt\"\nfeatures = [\"identity\", \"degree\"]\n[model]\nkind = \"gcn\"\nhidden = [32]\n[train]\nepochs = 5\n",
        )?;
        assert_eq!(config.gcn().hidden, [32]);
        assert_eq!(config.graph.features.len(), 2);
        let again = GraphExperimentConfig::from_toml(&toml::to_string_pretty(&config).unwrap_or_default())?;
        assert_eq!(again, config);
        assert!(
            GraphExperimentConfig::from_toml(
                "[graph]\nedges = \"e\"\nlabels = \"l\"\n[model]\nkind = \"gcn\"\nhiden = [3]"
            )
            .is_err()
        );
        assert!(
            GraphExperimentConfig::from_toml("[graph]\nedges = \"e\"\nlabels = \"l\"\n[model]\nkind = \"cnn\"")
                .is_err()
        );
        Ok(())
    }
}
