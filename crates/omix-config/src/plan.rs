//! From what the user wrote to what runs: an experiment file read once ([`Experiment::load`]),
//! and the settings given on the command line as typed [`Overrides`] applied to it in one pure
//! step. The binary only parses flags into an `Overrides` (ripgrep's low-level / high-level
//! arguments split); what the flags mean lives here, where it is tested.

use std::path::{Path, PathBuf};

use omix_data::{ClassWeight, DataConfig, DuplicatePolicy, Format, NamedWeight, SourceConfig, resolve_path};
use omix_encode::{Alphabet, LengthPolicy};
use omix_features::KmerConfig;
use omix_models::ModelConfig;

use crate::{ConfigError, ExperimentConfig, FeatureConfig, GraphExperimentConfig};

/// An experiment file: a sequence/matrix experiment (`[data]`) or a graph one (`[graph]`).
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant, reason = "one experiment per run")]
pub enum Experiment {
    /// Sequences or matrix rows (`[data]`).
    Sequence(ExperimentConfig),
    /// Node classification on a graph (`[graph]`).
    Graph(GraphExperimentConfig),
}

impl Experiment {
    /// Read and parse an experiment file once, with relative paths made absolute against the
    /// file's folder. Errors name the file, line and column.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        let table: toml::Table = text.parse().map_err(|error| toml_error(path, &text, &error))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if table.contains_key("graph") {
            let mut config =
                GraphExperimentConfig::from_toml(&text).map_err(|error| toml_error(path, &text, &error))?;
            config.graph.resolve_paths(&base);
            return Ok(Experiment::Graph(config));
        }
        let mut config = ExperimentConfig::from_toml(&text).map_err(|error| toml_error(path, &text, &error))?;
        config.resolve_paths(&base);
        Ok(Experiment::Sequence(config))
    }
}

impl ExperimentConfig {
    /// Make every file path of the config absolute, relative ones taken against `base`.
    pub fn resolve_paths(&mut self, base: &Path) {
        self.data.resolve_paths(base);
        if let Some(FeatureConfig::Pwm(pwm)) = &mut self.features {
            resolve_path(base, &mut pwm.motifs);
        }
    }
}

/// A TOML error as one `file:line:column: message` error.
fn toml_error(path: &Path, text: &str, error: &toml::de::Error) -> ConfigError {
    let message = error.message().trim().to_string();
    let location = match error.span() {
        Some(span) => {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
            let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let column = 1 + String::from_utf8_lossy(&before[line_start..]).chars().count();
            format!("{}:{line}:{column}", path.display())
        }
        None => path.display().to_string(),
    };
    ConfigError::File { location, message }
}

/// Settings given on the command line, each `None` (or false) when not given; applied over the
/// experiment file (or over the defaults when there is none).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// The training source (`--input`/`--labels`/`--class`), with its format when given.
    pub source: Option<SourceConfig>,
    /// `--seq-column`.
    pub seq_column: Option<String>,
    /// `--label-column`.
    pub label_column: Option<String>,
    /// `--id-column`.
    pub id_column: Option<String>,
    /// `--split-column`.
    pub split_column: Option<String>,
    /// `--test-input`, with `--test-labels`.
    pub test: Option<(PathBuf, Option<PathBuf>)>,
    /// `--alphabet`.
    pub alphabet: Option<Alphabet>,
    /// `--length`.
    pub length: Option<usize>,
    /// `--length-policy`.
    pub length_policy: Option<LengthPolicy>,
    /// `--shuffled-negatives`.
    pub shuffled_negatives: Option<usize>,
    /// `--drop-duplicates`.
    pub drop_duplicates: bool,
    /// `--balanced`.
    pub balanced: bool,
    /// `--model` (a dense model without `[features]` on sequences gets k-mer counts).
    pub model: Option<ModelConfig>,
    /// `--no-baseline`.
    pub no_baseline: bool,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--epochs`.
    pub epochs: Option<usize>,
    /// `--batch-size`.
    pub batch_size: Option<usize>,
    /// `--learning-rate`.
    pub learning_rate: Option<f64>,
}

impl Overrides {
    /// The flags that were given, by name (`--epochs`, ...), for messages.
    pub fn given(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        let mut note = |set: bool, name: &'static str| {
            if set {
                given.push(name);
            }
        };
        note(self.source.is_some(), "--input/--class");
        note(self.seq_column.is_some(), "--seq-column");
        note(self.label_column.is_some(), "--label-column");
        note(self.id_column.is_some(), "--id-column");
        note(self.split_column.is_some(), "--split-column");
        note(self.test.is_some(), "--test-input");
        note(self.alphabet.is_some(), "--alphabet");
        note(self.length.is_some(), "--length");
        note(self.length_policy.is_some(), "--length-policy");
        note(self.shuffled_negatives.is_some(), "--shuffled-negatives");
        note(self.drop_duplicates, "--drop-duplicates");
        note(self.balanced, "--balanced");
        note(self.model.is_some(), "--model");
        note(self.no_baseline, "--no-baseline");
        note(self.seed.is_some(), "--seed");
        note(self.epochs.is_some(), "--epochs");
        note(self.batch_size.is_some(), "--batch-size");
        note(self.learning_rate.is_some(), "--learning-rate");
        given
    }

    /// Apply the overrides to a sequence or matrix experiment.
    pub fn apply(&self, config: &mut ExperimentConfig) {
        let data = &mut config.data;
        if let Some(source) = &self.source {
            data.input = source.input.clone();
            data.labels = source.labels.clone();
            data.classes = source.classes.clone();
            if source.format != Format::Auto {
                data.format = source.format;
            }
        }
        for (value, field) in [
            (&self.seq_column, &mut data.seq_column),
            (&self.label_column, &mut data.label_column),
            (&self.id_column, &mut data.id_column),
            (&self.split_column, &mut data.split_column),
        ] {
            if let Some(value) = value {
                *field = Some(value.clone());
            }
        }
        if let Some((input, labels)) = &self.test {
            data.test = Some(SourceConfig {
                input: Some(input.clone()),
                labels: labels.clone(),
                seq_column: data.seq_column.clone(),
                label_column: data.label_column.clone(),
                id_column: data.id_column.clone(),
                ..SourceConfig::default()
            });
        }
        if let Some(alphabet) = self.alphabet {
            data.alphabet = alphabet;
        }
        if let Some(length) = self.length {
            data.length = Some(length);
        }
        if let Some(policy) = self.length_policy {
            data.length_policy = policy;
        }
        if let Some(n) = self.shuffled_negatives {
            data.shuffled_negatives = n;
        }
        if self.drop_duplicates {
            data.duplicates = DuplicatePolicy::Drop;
        }
        if self.balanced {
            data.class_weight = ClassWeight::Named(NamedWeight::Balanced);
        }
        if let Some(model) = &self.model {
            config.model = model.clone();
            if matches!(model, ModelConfig::Dense(_)) && config.features.is_none() && data.format != Format::Matrix {
                config.features = Some(FeatureConfig::Kmer(KmerConfig::default()));
            }
        }
        if self.no_baseline {
            config.train.baseline = false;
        }
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        if let Some(epochs) = self.epochs {
            config.train.epochs = epochs;
        }
        if let Some(batch) = self.batch_size {
            config.train.batch_size = batch;
        }
        if let Some(rate) = self.learning_rate {
            config.train.learning_rate = rate;
        }
    }

    /// Apply the overrides to a graph experiment; flags that mean nothing for graphs are an
    /// error naming them.
    pub fn apply_graph(&self, config: &mut GraphExperimentConfig) -> Result<(), ConfigError> {
        let allowed = ["--seed", "--epochs", "--learning-rate", "--no-baseline"];
        let refused: Vec<&str> = self.given().into_iter().filter(|flag| !allowed.contains(flag)).collect();
        if !refused.is_empty() {
            return Err(ConfigError::Invalid {
                field: "graph",
                message: format!(
                    "{} do(es) not apply to a [graph] experiment; set what you need in the config file",
                    refused.join(", ")
                ),
            });
        }
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        if let Some(epochs) = self.epochs {
            config.train.epochs = epochs;
        }
        if let Some(rate) = self.learning_rate {
            config.train.learning_rate = rate;
        }
        if self.no_baseline {
            config.train.baseline = false;
        }
        Ok(())
    }
}

/// The experiment of a flags-only `omix train` (no config file): the primer CNN on `[data]`
/// defaults, before [`Overrides`] are applied.
pub fn flags_only_experiment() -> ExperimentConfig {
    ExperimentConfig {
        seed: 42,
        data: DataConfig::default(),
        features: None,
        model: ModelConfig::Primer,
        train: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_apply_over_the_file_and_name_themselves() {
        let mut config = flags_only_experiment();
        let overrides = Overrides {
            epochs: Some(7),
            length: Some(100),
            length_policy: Some(LengthPolicy::CenterCropPad),
            no_baseline: true,
            ..Overrides::default()
        };
        overrides.apply(&mut config);
        assert_eq!(config.train.epochs, 7);
        assert_eq!(config.data.length, Some(100));
        assert_eq!(config.data.length_policy, LengthPolicy::CenterCropPad);
        assert!(!config.train.baseline);
        assert_eq!(overrides.given(), ["--length", "--length-policy", "--no-baseline", "--epochs"]);
        assert!(Overrides::default().given().is_empty());
    }

    #[test]
    fn config_errors_name_line_and_column() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[data]\ninput = \"x.txt\"\n[train]\nepochs = \"many\"\n")?;
        let error = Experiment::load(&path).err().ok_or("a bad config was accepted")?.to_string();
        assert!(error.contains("bad.toml:4:10"), "{error}");
        Ok(())
    }

    #[test]
    fn center_length_policy_reads_from_toml() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("center.toml");
        std::fs::write(&path, "[data]\ninput = \"x.txt\"\nlength = 50\nlength_policy = \"center\"\n")?;
        let Experiment::Sequence(config) = Experiment::load(&path)? else {
            return Err("read as a graph experiment".into());
        };
        assert_eq!(config.data.length_policy, LengthPolicy::CenterCropPad);
        assert!(config.data.input.as_ref().is_some_and(|input| input.is_absolute()));
        // Written back as users write it, and read back the same.
        let text = toml::to_string_pretty(&config)?;
        assert!(text.contains("length_policy = \"center\""), "{text}");
        assert_eq!(ExperimentConfig::from_toml(&text)?, config);
        // Run folders of earlier versions wrote the variant's long name.
        let old = ExperimentConfig::from_toml("[data]\ninput = \"x\"\nlength_policy = \"centercroppad\"\n")?;
        assert_eq!(old.data.length_policy, LengthPolicy::CenterCropPad);
        Ok(())
    }
}
