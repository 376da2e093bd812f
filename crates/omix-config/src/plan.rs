//! From what the user wrote to what runs: an experiment file read once ([`Experiment::load`]),
//! and the settings given on the command line as typed [`Overrides`] applied to it in one pure
//! step. The binary only parses flags into an `Overrides` (ripgrep's low-level / high-level
//! arguments split); what the flags mean lives here, where it is tested.

use std::path::{Path, PathBuf};

use omix_data::{ClassWeight, DataConfig, DuplicatePolicy, Format, NamedWeight, SourceConfig, resolve_path};
use omix_encode::{Alphabet, LengthPolicy};
use omix_features::KmerConfig;
use omix_models::ModelConfig;

use crate::{ConfigError, ExperimentConfig, FeatureConfig, GraphExperimentConfig, ProfileExperimentConfig};

/// An experiment file: a sequence/matrix experiment (`[data]`) or a graph one (`[graph]`).
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant, reason = "one experiment per run")]
pub enum Experiment {
    /// Sequences or matrix rows (`[data]`).
    Sequence(ExperimentConfig),
    /// Node classification on a graph (`[graph]`).
    Graph(GraphExperimentConfig),
    /// Base-resolution profiles from coverage tracks (`[tracks]`).
    Profile(ProfileExperimentConfig),
}

impl Experiment {
    /// Read and parse an experiment file once, with relative paths made absolute against the
    /// file's folder. Errors name the file, line and column.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::load_with(path, &[])
    }

    /// [`Experiment::load`] with `--set` settings applied to the parsed file before it is read
    /// into the config types, so every key can be set and a wrong one gets the error a wrong
    /// key in the file would, naming the `--set` argument. Relative paths given through `--set`
    /// are taken against the working directory (as `--input` is); the file's own paths against
    /// the file's folder.
    pub fn load_with(path: &Path, settings: &[Setting]) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse(path, &text, &base, settings)
    }

    /// An experiment written as TOML text that is not a file (the Python package's dict, turned
    /// into TOML): parsed and checked as a file's text is, errors naming `origin`, and relative
    /// paths made absolute against `base`.
    pub fn from_text(origin: &Path, text: &str, base: &Path) -> Result<Self, ConfigError> {
        Self::parse(origin, text, base, &[])
    }

    fn parse(path: &Path, text: &str, base: &Path, settings: &[Setting]) -> Result<Self, ConfigError> {
        let table: toml::Table = text.parse().map_err(|error| toml_error(path, text, &error))?;
        let base = base.to_path_buf();
        let file = FileText { path, text };
        if table.contains_key("graph") {
            let resolve = |config: &mut GraphExperimentConfig, base: &Path| config.graph.resolve_paths(base);
            return Ok(Experiment::Graph(read_with_settings(&file, table, settings, &base, resolve)?));
        }
        if table.contains_key("tracks") {
            let resolve = |config: &mut ProfileExperimentConfig, base: &Path| config.tracks.resolve_paths(base);
            return Ok(Experiment::Profile(read_with_settings(&file, table, settings, &base, resolve)?));
        }
        let resolve = |config: &mut ExperimentConfig, base: &Path| config.resolve_paths(base);
        Ok(Experiment::Sequence(read_with_settings(&file, table, settings, &base, resolve)?))
    }
}

/// An experiment file's path and text, for errors that point into it.
struct FileText<'a> {
    path: &'a Path,
    text: &'a str,
}

/// The config a file's `table` holds once `settings` are applied, with its paths made absolute:
/// those the file gives against `base`, those a setting gives against the working directory.
fn read_with_settings<T>(
    file: &FileText,
    table: toml::Table,
    settings: &[Setting],
    base: &Path,
    resolve: impl Fn(&mut T, &Path),
) -> Result<T, ConfigError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone,
{
    let from_file = |error: toml::de::Error| toml_error(file.path, file.text, &error);
    if settings.is_empty() {
        let mut config: T = toml::from_str(file.text).map_err(from_file)?;
        resolve(&mut config, base);
        return Ok(config);
    }
    let mut merged = table.clone();
    for setting in settings {
        setting.apply(&mut merged)?;
    }
    let config = match toml::Value::Table(merged).try_into::<T>() {
        Ok(config) => config,
        Err(_) => {
            // The file's own errors keep their line and column; otherwise the first setting
            // that breaks the config is named.
            toml::from_str::<T>(file.text).map_err(from_file)?;
            let mut partial = table;
            for setting in settings {
                setting.apply(&mut partial)?;
                if let Err(error) = toml::Value::Table(partial.clone()).try_into::<T>() {
                    return Err(setting.error(&error));
                }
            }
            return Err(ConfigError::Set {
                argument: settings.iter().map(|s| s.argument.as_str()).collect::<Vec<_>>().join(" --set "),
                message: "these settings together do not make a valid config".into(),
            });
        }
    };
    // Which values are paths is known only to the config types: resolve against both folders,
    // and where a setting's value differs between the two, it holds a path (or paths) given on
    // the command line, which takes the working directory's.
    let mut against_file = config.clone();
    resolve(&mut against_file, base);
    let mut against_cwd = config;
    resolve(&mut against_cwd, &std::env::current_dir().unwrap_or_default());
    let (Ok(toml::Value::Table(mut file_table)), Ok(toml::Value::Table(cwd_table))) =
        (toml::Value::try_from(&against_file), toml::Value::try_from(&against_cwd))
    else {
        return Ok(against_file);
    };
    let mut changed = false;
    for setting in settings {
        if let (Some(cwd_value), Some(file_value)) =
            (lookup(&cwd_table, &setting.key), lookup_mut(&mut file_table, &setting.key))
            && cwd_value != file_value
        {
            *file_value = cwd_value.clone();
            changed = true;
        }
    }
    if !changed {
        return Ok(against_file);
    }
    Ok(toml::Value::Table(file_table).try_into::<T>().unwrap_or(against_file))
}

/// The value at a dotted key (array indexes as numbers), if there is one.
fn lookup<'a>(table: &'a toml::Table, key: &[String]) -> Option<&'a toml::Value> {
    let (first, rest) = key.split_first()?;
    let mut value = table.get(first)?;
    for part in rest {
        value = match value {
            toml::Value::Table(table) => table.get(part)?,
            toml::Value::Array(array) => array.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

/// [`lookup`], mutably.
fn lookup_mut<'a>(table: &'a mut toml::Table, key: &[String]) -> Option<&'a mut toml::Value> {
    let (first, rest) = key.split_first()?;
    let mut value = table.get_mut(first)?;
    for part in rest {
        value = match value {
            toml::Value::Table(table) => table.get_mut(part)?,
            toml::Value::Array(array) => array.get_mut(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

/// One `--set KEY=VALUE`: a dotted key into the experiment file (`train.epochs`,
/// `model.conv.0.filters`: numbers index arrays of tables) and a TOML value (a number, boolean,
/// array, inline table or quoted string; anything that does not parse as one is a string).
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The key, one part per table (array indexes as written).
    pub key: Vec<String>,
    /// The value.
    pub value: toml::Value,
    /// The argument as given, for messages.
    pub argument: String,
}

impl std::str::FromStr for Setting {
    type Err = ConfigError;

    fn from_str(argument: &str) -> Result<Self, ConfigError> {
        let invalid = |message: &str| ConfigError::Set { argument: argument.to_string(), message: message.to_string() };
        let Some((key, value)) = argument.split_once('=') else {
            return Err(invalid("expected KEY=VALUE, e.g. --set train.epochs=5"));
        };
        let key: Vec<String> = key.trim().split('.').map(|part| part.trim().to_string()).collect();
        if key.iter().any(String::is_empty) {
            return Err(invalid("the key has an empty part; write table.key, e.g. --set train.epochs=5"));
        }
        let value = value.trim();
        let parsed = format!("value = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut table| table.remove("value"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        Ok(Setting { key, value: parsed, argument: argument.to_string() })
    }
}

impl Setting {
    /// The dotted key as written (`model.conv.0.filters`).
    pub fn key_name(&self) -> String {
        self.key.join(".")
    }

    /// Write the value into a parsed experiment file: missing tables are created; an array
    /// index must name an existing entry, or the one after the last to add an entry.
    pub fn apply(&self, table: &mut toml::Table) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Set { argument: self.argument.clone(), message };
        let mut slot: Option<&mut toml::Value> = None;
        for (depth, part) in self.key.iter().enumerate() {
            let last = depth + 1 == self.key.len();
            let here = self.key[..depth].join(".");
            let value = match slot.take() {
                None => table.entry(part.clone()).or_insert_with(|| empty_container(last)),
                Some(toml::Value::Table(inner)) => inner.entry(part.clone()).or_insert_with(|| empty_container(last)),
                Some(toml::Value::Array(array)) => {
                    let Ok(index) = part.parse::<usize>() else {
                        return Err(invalid(format!(
                            "{here} is an array; index it with a number ({here}.0.{})",
                            self.key[depth..].join(".")
                        )));
                    };
                    if index > array.len() {
                        return Err(invalid(format!(
                            "{here} has {} entries; index {index} is past the end (use 0 to {} to change one, {} to add one)",
                            array.len(),
                            array.len().saturating_sub(1),
                            array.len()
                        )));
                    }
                    if index == array.len() {
                        array.push(empty_container(last));
                    }
                    &mut array[index]
                }
                Some(other) => {
                    return Err(invalid(format!("{here} is a {}, not a table; set {here} itself", other.type_str())));
                }
            };
            slot = Some(value);
        }
        if let Some(slot) = slot {
            *slot = self.value.clone();
        }
        Ok(())
    }

    /// A config error caused by this setting.
    fn error(&self, error: &toml::de::Error) -> ConfigError {
        ConfigError::Set { argument: self.argument.clone(), message: error.message().trim().to_string() }
    }
}

/// What a missing key part becomes: a table on the way, a placeholder at the end.
fn empty_container(last: bool) -> toml::Value {
    match last {
        true => toml::Value::Boolean(false),
        false => toml::Value::Table(toml::Table::new()),
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
pub(crate) fn toml_error(path: &Path, text: &str, error: &toml::de::Error) -> ConfigError {
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
    /// `--fold` (1-based): the fold of folded data to train.
    pub fold: Option<usize>,
    /// `--epochs`.
    pub epochs: Option<usize>,
    /// `--batch-size`.
    pub batch_size: Option<usize>,
    /// `--learning-rate`.
    pub learning_rate: Option<f64>,
    /// `--set KEY=VALUE`, in order (a later one wins over an earlier one for the same key).
    /// They are applied to the file before it is read ([`Experiment::load_with`]), the other
    /// overrides after; a flag and a setting of the same key are refused
    /// ([`Overrides::refuse_conflicts`]).
    pub settings: Vec<Setting>,
}

impl Overrides {
    /// The flags that were given, by name (`--epochs`, ...), for messages; `--set` settings
    /// are named with their argument.
    pub fn given(&self) -> Vec<String> {
        let mut given: Vec<String> = self.flag_keys().into_iter().map(|(flag, _)| flag.to_string()).collect();
        given.extend(self.settings.iter().map(|setting| format!("--set {}", setting.argument)));
        given
    }

    /// The flags that were given (not `--set`), each with the config keys it sets.
    fn flag_keys(&self) -> Vec<(&'static str, &'static [&'static str])> {
        let mut given = Vec::new();
        let mut note = |set: bool, name: &'static str, keys: &'static [&'static str]| {
            if set {
                given.push((name, keys));
            }
        };
        note(self.source.is_some(), "--input/--class", &["data.input", "data.labels", "data.classes", "data.format"]);
        note(self.seq_column.is_some(), "--seq-column", &["data.seq_column"]);
        note(self.label_column.is_some(), "--label-column", &["data.label_column"]);
        note(self.id_column.is_some(), "--id-column", &["data.id_column"]);
        note(self.split_column.is_some(), "--split-column", &["data.split_column"]);
        note(self.test.is_some(), "--test-input", &["data.test"]);
        note(self.alphabet.is_some(), "--alphabet", &["data.alphabet"]);
        note(self.length.is_some(), "--length", &["data.length"]);
        note(self.length_policy.is_some(), "--length-policy", &["data.length_policy"]);
        note(self.shuffled_negatives.is_some(), "--shuffled-negatives", &["data.shuffled_negatives"]);
        note(self.drop_duplicates, "--drop-duplicates", &["data.duplicates"]);
        note(self.balanced, "--balanced", &["data.class_weight"]);
        note(self.model.is_some(), "--model", &["model", "features"]);
        note(self.no_baseline, "--no-baseline", &["train.baseline"]);
        note(self.seed.is_some(), "--seed", &["seed"]);
        note(self.fold.is_some(), "--fold", &["data.fold"]);
        note(self.epochs.is_some(), "--epochs", &["train.epochs"]);
        note(self.batch_size.is_some(), "--batch-size", &["train.batch_size"]);
        note(self.learning_rate.is_some(), "--learning-rate", &["train.learning_rate"]);
        given
    }

    /// Refuse a flag and a `--set` that name the same key (or one inside the other, such as
    /// `--model` and `--set model.conv.0.filters=16`): which one was meant is not for omix to
    /// guess.
    pub fn refuse_conflicts(&self) -> Result<(), ConfigError> {
        for setting in &self.settings {
            let key = setting.key_name();
            for (flag, keys) in self.flag_keys() {
                let overlaps = |other: &str| {
                    key == other
                        || key.strip_prefix(other).is_some_and(|rest| rest.starts_with('.'))
                        || other.strip_prefix(key.as_str()).is_some_and(|rest| rest.starts_with('.'))
                };
                if let Some(other) = keys.iter().find(|other| overlaps(other)) {
                    return Err(ConfigError::Set {
                        argument: setting.argument.clone(),
                        message: format!("{flag} also sets {other}; give one of the two"),
                    });
                }
            }
        }
        Ok(())
    }

    /// Apply the `--set` settings to a config that has no file (a flags-only run): the config
    /// written out as TOML, the settings applied, and read back, with the errors a file gets.
    pub fn apply_settings(&self, config: &ExperimentConfig) -> Result<ExperimentConfig, ConfigError> {
        if self.settings.is_empty() {
            return Ok(config.clone());
        }
        let mut table = match toml::Value::try_from(config) {
            Ok(toml::Value::Table(table)) => table,
            _ => toml::Table::new(),
        };
        for setting in &self.settings {
            setting.apply(&mut table)?;
            if let Err(error) = toml::Value::Table(table.clone()).try_into::<ExperimentConfig>() {
                return Err(setting.error(&error));
            }
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|error: toml::de::Error| ConfigError::Set { argument: String::new(), message: error.to_string() })
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
        if let Some(fold) = self.fold {
            config.data.fold = Some(fold);
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
        let refused: Vec<&str> =
            self.flag_keys().into_iter().map(|(flag, _)| flag).filter(|flag| !allowed.contains(flag)).collect();
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

impl Overrides {
    /// Apply the flags that mean something for a profile experiment (seed, fold — `[tracks]
    /// fold` —, epochs, batch size, learning rate); any other is refused, naming it.
    pub fn apply_profile(&self, config: &mut ProfileExperimentConfig) -> Result<(), ConfigError> {
        let allowed = ["--seed", "--fold", "--epochs", "--batch-size", "--learning-rate"];
        let refused: Vec<&str> =
            self.flag_keys().into_iter().map(|(flag, _)| flag).filter(|flag| !allowed.contains(flag)).collect();
        if !refused.is_empty() {
            return Err(ConfigError::Invalid {
                field: "tracks",
                message: format!(
                    "{} do(es) not apply to a [tracks] experiment; set what you need in the config file",
                    refused.join(", ")
                ),
            });
        }
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        if let Some(fold) = self.fold {
            config.tracks.fold = Some(fold);
        }
        if let Some(epochs) = self.epochs {
            config.train.epochs = epochs;
            // A ChromBPNet's bias model trains for the same epochs unless fewer are set.
            if let Some(bias) = &mut config.bias {
                bias.epochs = Some(bias.epochs.map_or(epochs, |own| own.min(epochs)));
            }
        }
        if let Some(size) = self.batch_size {
            config.train.batch_size = size;
        }
        if let Some(rate) = self.learning_rate {
            config.train.learning_rate = rate;
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
        baseline: Default::default(),
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
