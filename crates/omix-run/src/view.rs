//! Reading any omix run folder, old or new, as the report does: every file is optional, but a
//! file that is present must parse. Fields are lenient (`Option`) so that runs of every model
//! family and of earlier versions read alike.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::RunError;
use crate::explain::ExplainSummary;
use crate::files;
use crate::motifs::DiscoveredMotifs;
use crate::profile::{Footprints, ProfileExamples, ProfileExplainSummary};

/// The files of one run folder, each `None` when absent.
#[derive(Debug)]
pub struct RunView {
    /// The folder.
    pub dir: PathBuf,
    /// The folder's last path component, shown in the title.
    pub name: String,
    /// `config.toml` as written.
    pub config_text: Option<String>,
    /// `config.toml` parsed.
    pub config: Option<toml::Table>,
    /// `schema.json`.
    pub schema: Option<Schema>,
    /// `data_report.json`, typed.
    pub data_report: Option<DataReport>,
    /// `data_report.json`, untyped (for the scalar facts of any variant).
    pub data_report_raw: Option<serde_json::Value>,
    /// `checks.json`.
    pub checks: Option<Vec<Check>>,
    /// `training_log.tsv`.
    pub log: Option<Table>,
    /// `metrics.json`.
    pub metrics: Option<Metrics>,
    /// `test_predictions.tsv`.
    pub predictions: Option<Table>,
    /// Examples per split in `split_manifest.tsv`, in order of first appearance.
    pub manifest: Option<Vec<(String, usize)>>,
    /// `explain/explain.json`.
    pub explain: Option<ExplainSummary>,
    /// `explain/patterns.json`: motifs discovered from the attributions (`omix motifs`).
    pub motifs: Option<DiscoveredMotifs>,
    /// A profile run's (BPNet, ChromBPNet) own files, when `config.toml` has a `[tracks]` table.
    pub profile: Option<ProfileView>,
}

/// What kind of model output the run has, which decides the plots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Task {
    /// Two classes, one probability.
    Binary,
    /// One of several classes.
    Multiclass,
    /// Several yes/no tasks per example.
    Multilabel,
    /// One or more real-valued targets.
    Regression,
    /// An autoencoder scored by reconstruction error.
    Reconstruction,
    /// A task this version does not know (the name, or empty).
    Unknown(String),
}

impl Task {
    /// A phrase for the summary.
    pub fn describe(&self) -> String {
        match self {
            Task::Binary => "binary classification".into(),
            Task::Multiclass => "multi-class classification".into(),
            Task::Multilabel => "multi-label classification".into(),
            Task::Regression => "regression".into(),
            Task::Reconstruction => "reconstruction (autoencoder)".into(),
            Task::Unknown(name) if name.is_empty() => "unknown task".into(),
            Task::Unknown(name) => format!("task `{name}`"),
        }
    }
}

/// `schema.json`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Schema {
    pub task: Option<String>,
    pub input: Option<SchemaInput>,
    pub class_names: Option<Vec<String>>,
    pub alphabet: Option<String>,
    pub ambiguity: Option<String>,
    pub length: Option<u64>,
    pub length_policy: Option<String>,
}

/// The `input` object of `schema.json`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SchemaInput {
    pub kind: Option<String>,
    pub features: Option<Vec<String>>,
}

/// `data_report.json` (sequence, matrix and graph variants share the `splits` list).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DataReport {
    pub duplicates: Option<Duplicates>,
    pub splits: Option<Vec<SplitCount>>,
    pub task: Option<String>,
}

/// The duplicate / leakage check.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Duplicates {
    pub exact_across_splits: Option<f64>,
    pub reverse_complement_across_splits: Option<f64>,
    pub within_splits: Option<f64>,
    pub dropped: Option<bool>,
    pub examples: Vec<DuplicateExample>,
}

/// One duplicated sequence found in two splits.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DuplicateExample {
    pub id: String,
    pub split: String,
    pub found_in: String,
    pub reverse_complement: Option<bool>,
}

/// Sizes of one split.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SplitCount {
    pub split: String,
    pub examples: Option<f64>,
    pub nodes: Option<f64>,
    pub per_class: Option<Vec<f64>>,
}

impl SplitCount {
    /// Examples (or nodes, for graph runs).
    pub fn size(&self) -> Option<f64> {
        self.examples.or(self.nodes)
    }
}

/// One biology-aware warning of `checks.json`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Check {
    pub id: Option<String>,
    pub severity: Option<String>,
    pub message: String,
    #[serde(alias = "why")]
    pub reason: Option<String>,
}

/// `metrics.json`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Metrics {
    pub test: Option<Scores>,
    pub validation: Option<Scores>,
    pub train: Option<Scores>,
    pub baseline: Option<Baseline>,
    pub embedding: Option<Embedding>,
    pub best_epoch: Option<u64>,
    pub epochs_run: Option<u64>,
    pub task: Option<String>,
    pub class_names: Option<Vec<String>>,
    pub decision_rule: Option<String>,
}

/// The metrics of one split (or one task): a superset of the binary, multi-class, multi-label,
/// regression and reconstruction shapes, absent fields `None`.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct Scores {
    pub accuracy: Option<f64>,
    pub balanced_accuracy: Option<f64>,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub specificity: Option<f64>,
    pub f1: Option<f64>,
    pub mcc: Option<f64>,
    pub auroc: Option<f64>,
    pub auprc: Option<f64>,
    pub prevalence: Option<f64>,
    pub threshold: Option<f64>,
    pub support: Option<f64>,
    pub confusion_matrix: Option<Vec<Vec<f64>>>,
    pub macro_precision: Option<f64>,
    pub macro_recall: Option<f64>,
    pub macro_f1: Option<f64>,
    pub micro_f1: Option<f64>,
    pub weighted_f1: Option<f64>,
    pub macro_auroc: Option<f64>,
    pub macro_auprc: Option<f64>,
    pub median_auroc: Option<f64>,
    pub median_auprc: Option<f64>,
    pub per_class: Option<Vec<ClassScores>>,
    pub per_task: Option<Vec<(String, Scores)>>,
    pub mse: Option<f64>,
    pub mae: Option<f64>,
    pub pearson: Option<f64>,
    pub spearman: Option<f64>,
    pub r2: Option<f64>,
    pub n: Option<f64>,
    pub mean_mse: Option<f64>,
    pub mean_mae: Option<f64>,
    pub mean_pearson: Option<f64>,
    pub mean_spearman: Option<f64>,
    pub mean_r2: Option<f64>,
    pub reconstruction_error: Option<f64>,
    pub error_kind: Option<String>,
    pub examples: Option<f64>,
}

impl Scores {
    /// The number of examples scored, whichever field holds it.
    pub fn size(&self) -> Option<f64> {
        self.support.or(self.examples).or(self.n).or_else(|| {
            let tasks = self.per_task.as_ref()?;
            tasks.first().and_then(|(_, task)| task.support.or(task.n))
        })
    }
}

/// One class of a multi-class result.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ClassScores {
    pub class: String,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub specificity: Option<f64>,
    pub f1: Option<f64>,
    pub auroc: Option<f64>,
    pub auprc: Option<f64>,
    pub prevalence: Option<f64>,
    pub support: Option<f64>,
}

/// The `baseline` entry of `metrics.json`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Baseline {
    pub model: Option<String>,
    pub test: Option<Scores>,
    pub comparison: Option<Comparison>,
    /// The baselines fitted when more than one was (`[baseline] kind = "auto"`).
    pub candidates: Vec<BaselineCandidate>,
}

/// One entry of `baseline.candidates`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BaselineCandidate {
    pub model: Option<String>,
    pub regularization: Option<f64>,
    pub validation_metric: Option<String>,
    pub validation: Option<f64>,
    pub test: Option<f64>,
    pub chosen: bool,
}

/// The paired-bootstrap comparison of model and baseline.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Comparison {
    pub metric: Option<String>,
    pub higher_is_better: Option<bool>,
    pub model: Option<f64>,
    pub baseline: Option<f64>,
    pub difference: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub confidence: Option<f64>,
    pub resamples_used: Option<f64>,
    pub p_value: Option<f64>,
    pub model_beats_baseline: Option<bool>,
    pub verdict: Option<String>,
}

/// The `embedding` entry: k-NN accuracy of the latent space against PCA.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Embedding {
    pub k: Option<f64>,
    pub folds: Option<f64>,
    pub examples: Option<f64>,
    pub dimensions: Option<f64>,
    pub latent_accuracy: Option<f64>,
    pub pca_accuracy: Option<f64>,
}

/// A tab-separated table with a header line, kept as text.
#[derive(Debug)]
pub struct Table {
    /// The file, for errors.
    pub path: PathBuf,
    /// Column names.
    pub header: Vec<String>,
    /// `(1-based line, fields)` per data row.
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    /// Parses `text`; every row must have as many fields as the header.
    pub fn parse(path: &Path, text: &str) -> Result<Table, RunError> {
        let mut lines = text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            return Err(RunError::malformed(path, None, "the file is empty (expected a header line)"));
        };
        let header: Vec<String> = header.split('\t').map(|field| field.trim().to_string()).collect();
        let mut rows = Vec::new();
        for (index, line) in lines {
            let fields: Vec<String> = line.split('\t').map(str::to_string).collect();
            if fields.len() != header.len() {
                return Err(RunError::malformed(
                    path,
                    Some(index + 1),
                    format!("expected {} tab-separated fields as in the header, found {}", header.len(), fields.len()),
                ));
            }
            rows.push((index + 1, fields));
        }
        Ok(Table { path: path.to_path_buf(), header, rows })
    }

    /// The index of the column named `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|column| column == name)
    }

    /// The first of `names` that is a column.
    pub fn first_column(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|name| self.column(name))
    }

    /// Column `column` as numbers; empty, `NA` and `NaN` fields are `None`.
    pub fn numbers(&self, column: usize) -> Result<Vec<Option<f64>>, RunError> {
        self.rows.iter().map(|(line, fields)| self.number_at(*line, fields, column)).collect()
    }

    /// Field `column` of a row as a number.
    pub fn number_at(&self, line: usize, fields: &[String], column: usize) -> Result<Option<f64>, RunError> {
        let name = self.header.get(column).map_or("?", String::as_str);
        let Some(text) = fields.get(column).map(|field| field.trim()) else {
            return Err(RunError::malformed(&self.path, Some(line), format!("column `{name}` is missing")));
        };
        if text.is_empty() || text.eq_ignore_ascii_case("na") || text.eq_ignore_ascii_case("nan") {
            return Ok(None);
        }
        text.parse::<f64>().map(Some).map_err(|_| {
            RunError::malformed(&self.path, Some(line), format!("column `{name}`: `{text}` is not a number"))
        })
    }
}

/// Reads a file that may be absent.
fn read_optional(path: &Path) -> Result<Option<String>, RunError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(RunError::Read { path: path.to_path_buf(), source }),
    }
}

/// Reads and parses a JSON file that may be absent.
fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, RunError> {
    let Some(text) = read_optional(path)? else {
        return Ok(None);
    };
    serde_json::from_str(&text).map(Some).map_err(|source| RunError::Json { path: path.to_path_buf(), source })
}

/// Counts the examples per split of `split_manifest.tsv` without keeping its rows.
fn manifest_counts(path: &Path, text: &str) -> Result<Vec<(String, usize)>, RunError> {
    let mut lines = text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(RunError::malformed(path, None, "the file is empty (expected a header line)"));
    };
    let columns: Vec<&str> = header.split('\t').map(str::trim).collect();
    let Some(split) = columns.iter().position(|&column| column == "split") else {
        return Err(RunError::malformed(path, Some(1), "the header has no `split` column"));
    };
    let mut counts: Vec<(String, usize)> = Vec::new();
    for (index, line) in lines {
        let fields = line.split('\t').count();
        let Some(name) = line.split('\t').nth(split).filter(|_| fields == columns.len()) else {
            return Err(RunError::malformed(
                path,
                Some(index + 1),
                format!("expected {} tab-separated fields as in the header, found {fields}", columns.len()),
            ));
        };
        match counts.iter_mut().find(|(known, _)| known == name) {
            Some((_, count)) => *count += 1,
            None => counts.push((name.to_string(), 1)),
        }
    }
    Ok(counts)
}

impl RunView {
    /// Reads every file of the run folder `dir` that exists.
    pub fn load(dir: &Path) -> Result<RunView, RunError> {
        if !dir.is_dir() {
            return Err(RunError::NotADirectory { path: dir.to_path_buf() });
        }
        let name = dir
            .canonicalize()
            .ok()
            .and_then(|path| path.file_name().map(|name| name.to_string_lossy().into_owned()))
            .or_else(|| dir.file_name().map(|name| name.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "run".into());
        let config_path = dir.join(files::CONFIG);
        let config_text = read_optional(&config_path)?;
        let config = match &config_text {
            Some(text) => Some(
                text.parse::<toml::Table>().map_err(|source| RunError::Toml { path: config_path.clone(), source })?,
            ),
            None => None,
        };
        let data_report_path = dir.join(files::DATA_REPORT);
        let data_report_raw: Option<serde_json::Value> = read_json(&data_report_path)?;
        let data_report = match &data_report_raw {
            Some(value) => Some(
                DataReport::deserialize(value)
                    .map_err(|source| RunError::Json { path: data_report_path.clone(), source })?,
            ),
            None => None,
        };
        let log = match read_optional(&dir.join(files::LOG))? {
            Some(text) => Some(Table::parse(&dir.join(files::LOG), &text)?),
            None => None,
        };
        let predictions = match read_optional(&dir.join(files::TEST_PREDICTIONS))? {
            Some(text) => Some(Table::parse(&dir.join(files::TEST_PREDICTIONS), &text)?),
            None => None,
        };
        let manifest_path = dir.join(files::MANIFEST);
        let manifest = match read_optional(&manifest_path)? {
            Some(text) => Some(manifest_counts(&manifest_path, &text)?),
            None => None,
        };
        let metrics_path = dir.join(files::METRICS);
        let metrics_text = read_optional(&metrics_path)?;
        let metrics: Option<Metrics> = match &metrics_text {
            Some(text) => Some(
                serde_json::from_str(text).map_err(|source| RunError::Json { path: metrics_path.clone(), source })?,
            ),
            None => None,
        };
        if config_text.is_none() && metrics.is_none() && log.is_none() {
            return Err(RunError::NotARunFolder { path: dir.to_path_buf() });
        }
        let explain_path = dir.join(files::EXPLAIN_DIR).join(files::EXPLAIN_SUMMARY);
        let explain: Option<ExplainSummary> = read_json(&explain_path)?;
        if let Some(explain) = &explain {
            validate_explain(&explain_path, explain)?;
        }
        let motifs: Option<DiscoveredMotifs> = read_json(&dir.join(files::EXPLAIN_DIR).join(files::PATTERNS_JSON))?;
        let profile = if config.as_ref().is_some_and(|config| config.contains_key("tracks")) {
            Some(ProfileView::load(dir, metrics_text.as_deref(), data_report_raw.as_ref())?)
        } else {
            None
        };
        Ok(RunView {
            name,
            config_text,
            config,
            schema: read_json(&dir.join(files::SCHEMA))?,
            data_report,
            data_report_raw,
            checks: read_json(&dir.join(files::CHECKS))?,
            log,
            metrics,
            predictions,
            manifest,
            explain,
            motifs,
            profile,
            dir: dir.to_path_buf(),
        })
    }

    /// Whether this is a profile run (BPNet, ChromBPNet): its `config.toml` has a `[tracks]` table.
    pub fn is_profile(&self) -> bool {
        self.profile.is_some()
    }

    /// Whether this is a ChromBPNet run: a profile run with a `[bias]` table or a `bias/` folder.
    pub fn is_chrombpnet(&self) -> bool {
        self.profile.as_ref().is_some_and(|profile| {
            profile.bias.is_some() || self.config.as_ref().is_some_and(|config| config.contains_key("bias"))
        })
    }

    /// A string setting of `config.toml`, e.g. `("train", "monitor")`.
    pub fn config_str(&self, table: &str, key: &str) -> Option<&str> {
        self.config.as_ref()?.get(table)?.as_table()?.get(key)?.as_str()
    }

    /// The model family (`[model] kind`).
    pub fn model_kind(&self) -> Option<&str> {
        self.config_str("model", "kind")
    }

    /// The input kind: `sequence`, `matrix`, `graph`, ...
    pub fn input_kind(&self) -> Option<String> {
        if let Some(kind) = self.schema.as_ref().and_then(|schema| schema.input.as_ref()?.kind.clone()) {
            return Some(kind);
        }
        let config = self.config.as_ref()?;
        if config.contains_key("graph") {
            return Some("graph".into());
        }
        match self.config_str("data", "format") {
            Some("matrix") => Some("matrix".into()),
            Some(_) => Some("sequence".into()),
            None => None,
        }
    }

    /// The test metrics, when present.
    pub fn test_scores(&self) -> Option<&Scores> {
        self.metrics.as_ref()?.test.as_ref()
    }

    /// The kind of output, from the metrics' shape first and then the declared task.
    pub fn task(&self) -> Task {
        let test = self.test_scores();
        if test.is_some_and(|scores| scores.reconstruction_error.is_some())
            || self.model_kind().is_some_and(|kind| kind.contains("autoencoder"))
        {
            return Task::Reconstruction;
        }
        let declared = self
            .metrics
            .as_ref()
            .and_then(|metrics| metrics.task.clone())
            .or_else(|| self.schema.as_ref().and_then(|schema| schema.task.clone()))
            .or_else(|| self.data_report.as_ref().and_then(|report| report.task.clone()))
            .or_else(|| self.config_str("data", "task").map(str::to_string));
        match declared.as_deref() {
            Some("binary") => Task::Binary,
            Some("multiclass") => Task::Multiclass,
            Some("multilabel") => Task::Multilabel,
            Some("regression") => Task::Regression,
            Some("unsupervised" | "reconstruction") => Task::Reconstruction,
            other => {
                if test
                    .and_then(|scores| scores.per_task.as_ref())
                    .is_some_and(|tasks| tasks.iter().any(|(_, task)| task.pearson.is_some() || task.mse.is_some()))
                {
                    Task::Regression
                } else {
                    Task::Unknown(other.unwrap_or_default().to_string())
                }
            }
        }
    }

    /// Class (or task) names: from `metrics.json`, else `schema.json`, else the prediction columns.
    pub fn class_names(&self) -> Vec<String> {
        if let Some(names) = self.metrics.as_ref().and_then(|metrics| metrics.class_names.clone()) {
            return names;
        }
        if let Some(names) = self.schema.as_ref().and_then(|schema| schema.class_names.clone()) {
            return names;
        }
        self.predictions
            .as_ref()
            .map(|table| {
                table
                    .header
                    .iter()
                    .filter_map(|column| {
                        column.strip_prefix("probability_").or_else(|| column.strip_prefix("prediction_"))
                    })
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A path inside the run folder, for messages.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Checks that every matrix of `explain.json` has one column per alphabet letter, so that the
/// logo code gets consistent input; errors name the file.
fn validate_explain(path: &Path, explain: &ExplainSummary) -> Result<(), RunError> {
    let letters = explain.alphabet.chars().count();
    if letters == 0 {
        return Err(RunError::malformed(path, None, "the alphabet is empty"));
    }
    let check = |what: String, rows: &[Vec<f64>]| -> Result<(), RunError> {
        for (position, row) in rows.iter().enumerate() {
            if row.len() != letters {
                return Err(RunError::malformed(
                    path,
                    None,
                    format!(
                        "{what}, position {}: {} values for the {letters} letters of `{}`",
                        position + 1,
                        row.len(),
                        explain.alphabet
                    ),
                ));
            }
            if row.iter().any(|v| !v.is_finite() || *v < 0.0) {
                return Err(RunError::malformed(
                    path,
                    None,
                    format!("{what}, position {}: probabilities must be finite and non-negative", position + 1),
                ));
            }
        }
        Ok(())
    };
    for filter in &explain.filters {
        check(format!("filter {}", filter.index), &filter.probabilities)?;
        for matched in &filter.matches {
            check(format!("filter {} match {}", filter.index, matched.target_id), &matched.target_probabilities)?;
            if matched.target_probabilities.is_empty() {
                return Err(RunError::malformed(
                    path,
                    None,
                    format!("filter {} match {}: no target probabilities", filter.index, matched.target_id),
                ));
            }
            if matched.strand != "+" && matched.strand != "-" {
                return Err(RunError::malformed(
                    path,
                    None,
                    format!(
                        "filter {} match {}: strand `{}` is neither `+` nor `-`",
                        filter.index, matched.target_id, matched.strand
                    ),
                ));
            }
        }
    }
    for track in &explain.tracks {
        if let Some((position, row)) = track.scores.iter().enumerate().find(|(_, row)| row.len() != letters) {
            return Err(RunError::malformed(
                path,
                None,
                format!(
                    "track {} ({}), position {}: {} scores for the {letters} letters of `{}`",
                    track.sequence_id,
                    track.method,
                    position + 1,
                    row.len(),
                    explain.alphabet
                ),
            ));
        }
    }
    Ok(())
}

/// A profile run's own files (BPNet, ChromBPNet), each `None` when absent.
#[derive(Debug, Default)]
pub struct ProfileView {
    /// `metrics.json` in the profile shape.
    pub metrics: Option<ProfileMetricsView>,
    /// `data_report.json` in the profile shape.
    pub data_report: Option<ProfileDataReport>,
    /// `profile_examples.json`.
    pub examples: Option<ProfileExamples>,
    /// `footprints.json`.
    pub footprints: Option<Footprints>,
    /// The `bias/` folder of a ChromBPNet run.
    pub bias: Option<BiasView>,
    /// `explain/profile_explain.json`, when `omix explain` ran on the run.
    pub explain: Option<ProfileExplainSummary>,
    /// The attribution logos that summary lists (file name, SVG text), those that exist.
    pub explain_logos: Vec<(String, String)>,
}

/// A profile run's `metrics.json`: the model per split and the average-profile baseline on test.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProfileMetricsView {
    pub training: Option<ProfileSplitScores>,
    pub validation: Option<ProfileSplitScores>,
    pub test: Option<ProfileSplitScores>,
    pub baseline_test: Option<ProfileSplitScores>,
    /// What the baseline is, in words (absent in older files: the average training profile and
    /// the mean training log count).
    pub baseline_model: Option<String>,
    pub count_weight: Option<f64>,
    pub best_epoch: Option<u64>,
    pub epochs_run: Option<u64>,
}

/// A profile model's metrics on one split: the loss, and per task on peaks and background apart.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ProfileSplitScores {
    pub loss: Option<f64>,
    pub peaks: BTreeMap<String, ProfileScores>,
    pub background: BTreeMap<String, ProfileScores>,
}

/// One task's profile and count metrics (`omix_metrics::ProfileMetrics`, every field optional).
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ProfileScores {
    pub median_jsd: Option<f64>,
    pub mean_jsd: Option<f64>,
    pub median_profile_pearson: Option<f64>,
    pub mean_profile_pearson: Option<f64>,
    pub count_pearson: Option<f64>,
    pub count_spearman: Option<f64>,
    pub count_mse: Option<f64>,
    pub mean_multinomial_nll: Option<f64>,
    pub regions: Option<f64>,
    pub profiles: Option<f64>,
    pub zero_profiles_skipped: Option<f64>,
    pub profiles_without_pearson: Option<f64>,
}

/// A profile run's `data_report.json` (`omix_data::profile::ProfileReport`, every field optional).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProfileDataReport {
    pub reference: Option<String>,
    pub peaks_read: Option<f64>,
    pub peaks_at_edges: Option<f64>,
    pub outliers: Option<f64>,
    pub outlier_threshold: Option<f64>,
    pub background_requested: Option<f64>,
    pub background_found: Option<f64>,
    /// Train, validation, test.
    pub peaks_per_split: Option<Vec<f64>>,
    /// Train, validation, test.
    pub background_per_split: Option<Vec<f64>>,
    pub median_peak_count: Option<f64>,
    pub validation_chromosomes: Option<Vec<String>>,
    pub test_chromosomes: Option<Vec<String>>,
}

/// The `bias/` folder of a ChromBPNet run: the bias model's own run files, each `None` when absent.
#[derive(Debug)]
pub struct BiasView {
    /// The folder.
    pub dir: PathBuf,
    /// `bias/metrics.json`.
    pub metrics: Option<ProfileMetricsView>,
    /// `bias/data_report.json`: which background regions the bias model learned from.
    pub data_report: Option<BiasDataReport>,
    /// `bias/training_log.tsv`.
    pub log: Option<Table>,
    /// `bias/filters.tsv` (or `bias/explain/filters.tsv`): the bias model's first-layer filters and
    /// their best database matches, as `omix explain` writes them.
    pub filters: Option<Table>,
}

/// A ChromBPNet bias model's `data_report.json` (every field optional).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BiasDataReport {
    /// The 1% quantile of the training and validation peaks' total counts.
    pub peak_count_quantile_1pct: Option<f64>,
    /// `[bias] threshold_factor`.
    pub threshold_factor: Option<f64>,
    /// Background regions with a total count at or above this were left out.
    pub count_threshold: Option<f64>,
    /// Background regions kept per split (training, validation, test).
    pub regions_per_split: Option<Vec<f64>>,
    /// Background regions left out for their counts.
    pub left_out: Option<f64>,
    /// The bias model's count-loss weight.
    pub count_weight: Option<f64>,
}

/// The strand a profile track holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackStrand {
    /// `task.plus`.
    Plus,
    /// `task.minus` (drawn below the axis).
    Minus,
    /// `task`: unstranded.
    Unstranded,
}

/// One task of a profile file's track list and the indices of its tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackTask {
    /// The task's name.
    pub name: String,
    /// `(track index, strand)` in file order.
    pub tracks: Vec<(usize, TrackStrand)>,
}

/// The tasks of track names `task.plus`, `task.minus` or `task`, in order of first appearance.
pub fn track_tasks(tracks: &[String]) -> Vec<TrackTask> {
    let mut tasks: Vec<TrackTask> = Vec::new();
    for (index, track) in tracks.iter().enumerate() {
        let (name, strand) = if let Some(name) = track.strip_suffix(".plus") {
            (name, TrackStrand::Plus)
        } else if let Some(name) = track.strip_suffix(".minus") {
            (name, TrackStrand::Minus)
        } else {
            (track.as_str(), TrackStrand::Unstranded)
        };
        match tasks.iter_mut().find(|task| task.name == name) {
            Some(task) => task.tracks.push((index, strand)),
            None => tasks.push(TrackTask { name: name.to_string(), tracks: vec![(index, strand)] }),
        }
    }
    tasks
}

impl ProfileView {
    /// Reads the profile files of the run folder `dir`; `metrics` is the text of `metrics.json` and
    /// `data_report` the parsed `data_report.json`, both already read.
    fn load(
        dir: &Path,
        metrics: Option<&str>,
        data_report: Option<&serde_json::Value>,
    ) -> Result<ProfileView, RunError> {
        let metrics = match metrics {
            Some(text) => Some(
                serde_json::from_str::<ProfileMetricsView>(text)
                    .map_err(|source| RunError::Json { path: dir.join(files::METRICS), source })?,
            ),
            None => None,
        };
        let data_report = match data_report {
            Some(value) => Some(
                ProfileDataReport::deserialize(value)
                    .map_err(|source| RunError::Json { path: dir.join(files::DATA_REPORT), source })?,
            ),
            None => None,
        };
        let examples_path = dir.join(files::PROFILE_EXAMPLES);
        let examples: Option<ProfileExamples> = read_json(&examples_path)?;
        if let Some(examples) = &examples {
            validate_examples(&examples_path, examples)?;
        }
        let footprints_path = dir.join(files::FOOTPRINTS);
        let footprints: Option<Footprints> = read_json(&footprints_path)?;
        if let Some(footprints) = &footprints {
            validate_footprints(&footprints_path, footprints)?;
        }
        let bias_dir = dir.join(files::BIAS);
        let bias = if bias_dir.is_dir() { Some(BiasView::load(&bias_dir)?) } else { None };
        let explain_dir = dir.join(files::EXPLAIN_DIR);
        let explain: Option<ProfileExplainSummary> = read_json(&explain_dir.join(files::PROFILE_EXPLAIN))?;
        let mut explain_logos = Vec::new();
        for name in explain.iter().flat_map(|e| &e.heads).flat_map(|h| &h.logos) {
            // Names the summary lists, inside the explain folder only.
            if name.contains("..") || Path::new(name).is_absolute() {
                continue;
            }
            if let Some(svg) = read_optional(&explain_dir.join(name))? {
                explain_logos.push((name.clone(), svg));
            }
        }
        Ok(ProfileView { metrics, data_report, examples, footprints, bias, explain, explain_logos })
    }
}

impl BiasView {
    /// Reads the files of a ChromBPNet run's `bias/` folder that exist.
    fn load(dir: &Path) -> Result<BiasView, RunError> {
        let table = |path: PathBuf| -> Result<Option<Table>, RunError> {
            match read_optional(&path)? {
                Some(text) => Table::parse(&path, &text).map(Some),
                None => Ok(None),
            }
        };
        let filters = match table(dir.join("filters.tsv"))? {
            Some(filters) => Some(filters),
            None => table(dir.join(files::EXPLAIN_DIR).join("filters.tsv"))?,
        };
        Ok(BiasView {
            metrics: read_json(&dir.join(files::METRICS))?,
            data_report: read_json(&dir.join(files::DATA_REPORT))?,
            log: table(dir.join(files::LOG))?,
            filters,
            dir: dir.to_path_buf(),
        })
    }
}

/// Checks that every profile of `profile_examples.json` has one row per track of `output_length`
/// finite values, and one JSD per task; errors name the file.
fn validate_examples(path: &Path, examples: &ProfileExamples) -> Result<(), RunError> {
    let tracks = examples.tracks.len();
    if tracks == 0 {
        return Err(RunError::malformed(path, None, "`tracks` is empty"));
    }
    if examples.output_length == 0 {
        return Err(RunError::malformed(path, None, "`output_length` is 0"));
    }
    let tasks = track_tasks(&examples.tracks).len();
    for (number, example) in examples.examples.iter().enumerate() {
        let place = format!("example {} ({}:{})", number + 1, example.chrom, example.start);
        let mut profiles = vec![("observed", &example.observed), ("predicted", &example.predicted)];
        if let Some(corrected) = &example.corrected {
            profiles.push(("corrected", corrected));
        }
        for (what, rows) in profiles {
            if rows.len() != tracks {
                return Err(RunError::malformed(
                    path,
                    None,
                    format!("{place}: `{what}` has {} tracks, the file names {tracks}", rows.len()),
                ));
            }
            for (track, row) in rows.iter().enumerate() {
                if row.len() != examples.output_length {
                    return Err(RunError::malformed(
                        path,
                        None,
                        format!(
                            "{place}: `{what}` track `{}` has {} values, expected output_length {}",
                            examples.tracks[track],
                            row.len(),
                            examples.output_length
                        ),
                    ));
                }
                if row.iter().any(|value| !value.is_finite()) {
                    return Err(RunError::malformed(
                        path,
                        None,
                        format!("{place}: `{what}` track `{}` has a value that is not finite", examples.tracks[track]),
                    ));
                }
            }
        }
        if example.jsd.len() != tasks {
            return Err(RunError::malformed(
                path,
                None,
                format!("{place}: {} JSD values for the {tasks} tasks of the tracks", example.jsd.len()),
            ));
        }
    }
    Ok(())
}

/// Checks that every footprint of `footprints.json` has one row per track, rows of one length
/// with finite values, and one count change per task; errors name the file.
fn validate_footprints(path: &Path, footprints: &Footprints) -> Result<(), RunError> {
    let tracks = footprints.tracks.len();
    if tracks == 0 {
        return Err(RunError::malformed(path, None, "`tracks` is empty"));
    }
    let tasks = track_tasks(&footprints.tracks).len();
    for motif in &footprints.motifs {
        let place = format!("motif `{}`", motif.name);
        let length = motif.model.first().map_or(0, Vec::len);
        if length == 0 {
            return Err(RunError::malformed(path, None, format!("{place}: the `model` footprint is empty")));
        }
        let mut profiles = vec![("model", &motif.model)];
        profiles.extend(motif.with_bias.as_ref().map(|rows| ("with_bias", rows)));
        profiles.extend(motif.bias.as_ref().map(|rows| ("bias", rows)));
        for (what, rows) in profiles {
            if rows.len() != tracks {
                return Err(RunError::malformed(
                    path,
                    None,
                    format!("{place}: `{what}` has {} tracks, the file names {tracks}", rows.len()),
                ));
            }
            if let Some(row) = rows.iter().find(|row| row.len() != length) {
                return Err(RunError::malformed(
                    path,
                    None,
                    format!("{place}: `{what}` has a track of {} values and one of {length}", row.len()),
                ));
            }
            if rows.iter().flatten().any(|value| !value.is_finite()) {
                return Err(RunError::malformed(
                    path,
                    None,
                    format!("{place}: `{what}` has a value that is not finite"),
                ));
            }
        }
        let mut changes = vec![("model_log_count_change", &motif.model_log_count_change)];
        changes.extend(motif.with_bias_log_count_change.as_ref().map(|values| ("with_bias_log_count_change", values)));
        changes.extend(motif.bias_log_count_change.as_ref().map(|values| ("bias_log_count_change", values)));
        for (what, values) in changes {
            if values.len() != tasks {
                return Err(RunError::malformed(
                    path,
                    None,
                    format!("{place}: `{what}` has {} values for the {tasks} tasks of the tracks", values.len()),
                ));
            }
        }
    }
    Ok(())
}
