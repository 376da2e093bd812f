//! The `[data]` table of an experiment config.

use std::path::{Path, PathBuf};

use omix_encode::{Alphabet, Ambiguity, LengthPolicy};
use serde::{Deserialize, Serialize};

use crate::DataError;

/// How an input file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Detect from the content: '>' starts FASTA, a tab or comma in the first line a table, else lines.
    #[default]
    Auto,
    /// One sequence per line (labels in a second file, one per line).
    Lines,
    /// FASTA (labels per class file, or in a label table keyed by record id).
    Fasta,
    /// A delimited table (TSV/CSV) with a header and named columns.
    Table,
    /// A numeric matrix (CSV/TSV, samples × features, header of feature names), e.g. expression;
    /// labels come from `labels`, a table keyed by sample id (or in row order when the matrix
    /// has no id column).
    Matrix,
}

/// One FASTA (or lines) file holding the examples of one class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassFile {
    /// The class name.
    pub label: String,
    /// The file.
    pub path: PathBuf,
}

/// Where examples come from: one of the supported layouts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Layout of `input` (and of the class files).
    #[serde(default)]
    pub format: Format,
    /// The sequence file (lines, FASTA or table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<PathBuf>,
    /// Labels: one per line (for lines input) or a table keyed by record id (for FASTA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<PathBuf>,
    /// One file per class, instead of `input` + `labels`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<ClassFile>,
    /// Table column holding the sequence (default: seq / sequence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq_column: Option<String>,
    /// Table column holding the label (default: label / class / bound / y / target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_column: Option<String>,
    /// Table columns holding 0/1 targets for a multi-label task, instead of `label_column`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub label_columns: Vec<String>,
    /// Table column holding record ids (default: id / name, else `line{N}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_column: Option<String>,
    /// Table column assigning each row to train / validation / test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_column: Option<String>,
}

impl SourceConfig {
    /// This source as read for a trained model: a run trained on matrix rows reads a matrix
    /// unless the format is given.
    pub fn for_model(mut self, schema: &crate::Schema) -> Self {
        if self.format == Format::Auto && !schema.is_sequence() {
            self.format = Format::Matrix;
        }
        self
    }

    /// Whether any input is named.
    pub fn is_empty(&self) -> bool {
        self.input.is_none() && self.classes.is_empty()
    }
}

/// Cross-split duplicates: report them, or also drop them from validation and test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DuplicatePolicy {
    /// Report counts and examples, keep the data as is.
    #[default]
    Report,
    /// Drop validation/test examples whose sequence (or its reverse complement) is in an earlier split.
    Drop,
}

/// Per-class loss weights.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClassWeight {
    /// `"none"` or `"balanced"`.
    Named(NamedWeight),
    /// One weight per class, in class order.
    Explicit(Vec<f64>),
    /// No weighting.
    #[default]
    #[serde(skip)]
    Unset,
}

/// Named class-weight schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NamedWeight {
    /// Every class weighs 1.
    None,
    /// n_samples / (n_classes × n_class) on the training split (scikit-learn's "balanced").
    Balanced,
}

/// The kind of prediction task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Two classes, one sigmoid output.
    Binary,
    /// Several exclusive classes, softmax outputs.
    Multiclass,
    /// Several independent 0/1 targets, one sigmoid output each.
    Multilabel,
    /// One or more real-valued targets (label column or label columns), one output each.
    Regression,
    /// No targets (autoencoders): the input is its own target.
    Unsupervised,
}

impl Task {
    /// The task as written in files and messages (`binary`, `multiclass`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Task::Binary => "binary",
            Task::Multiclass => "multiclass",
            Task::Multilabel => "multilabel",
            Task::Regression => "regression",
            Task::Unsupervised => "unsupervised",
        }
    }
}

/// What the labels mean: inferred classes, or numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskSetting {
    /// Classes from the label column (binary or multi-class), 0/1 columns for `label_columns`.
    #[default]
    Auto,
    /// Real-valued targets from the label column(s).
    Regression,
    /// No labels are read (for autoencoders); `labels` may still be given for stratification and
    /// later evaluation of the embedding.
    Unsupervised,
}

/// The `[data]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Layout of `input`.
    #[serde(default)]
    pub format: Format,
    /// Windows on a reference genome from BED intervals (`[data.genome]`), instead of `input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genome: Option<crate::genome::GenomeConfig>,
    /// The sequence file (lines, FASTA or table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<PathBuf>,
    /// Labels file (lines) or label table (FASTA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<PathBuf>,
    /// One file per class.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<ClassFile>,
    /// Table column holding the sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq_column: Option<String>,
    /// Table column holding the label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_column: Option<String>,
    /// Table columns holding multi-label 0/1 targets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub label_columns: Vec<String>,
    /// Table column holding ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_column: Option<String>,
    /// Table column assigning rows to splits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_column: Option<String>,
    /// A separate test set (same layouts); its examples all go to the test split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<SourceConfig>,
    /// Classification (default), regression or unsupervised.
    #[serde(default, skip_serializing_if = "is_auto")]
    pub task: TaskSetting,
    /// Sequence alphabet.
    #[serde(default = "default_alphabet")]
    pub alphabet: Alphabet,
    /// Encoding of N / IUPAC ambiguity codes: all-zero or uniform column.
    #[serde(default)]
    pub ambiguity: Ambiguity,
    /// Sequence length the model sees (default: the data's length, which must then be uniform,
    /// or its maximum with `length_policy = "center"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<usize>,
    /// Sequences of another length: refuse, or centre-crop/pad.
    #[serde(default = "default_length_policy")]
    pub length_policy: LengthPolicy,
    /// Class order (default: sorted labels, a recognised negative such as 0/false/neg first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_names: Option<Vec<String>>,
    /// For a binary task, the label counted as positive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive_label: Option<String>,
    /// Dinucleotide-shuffled negatives generated per positive (0 = none), within each split; the separate `test` set is used as given.
    #[serde(default)]
    pub shuffled_negatives: usize,
    /// Label given to shuffled negatives.
    #[serde(default = "default_negative_label")]
    pub negative_label: String,
    /// Fraction of examples (without an assigned split) held out for validation.
    #[serde(default = "default_validation_fraction")]
    pub validation_fraction: f64,
    /// Fraction held out for test (ignored when a test file or split column gives a test set).
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    /// Keep class proportions equal across splits (and across folds).
    #[serde(default = "yes")]
    pub stratify: bool,
    /// k-fold cross-validation: the examples are dealt into this many parts (seeded, stratified
    /// with `stratify`), the same parts for every fold; fold `fold`'s part is the test set and
    /// `validation_fraction` of the rest is validation (`test_fraction` does not apply). Genome
    /// windows are folded by chromosome instead (`[data.genome] folds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folds: Option<usize>,
    /// The fold this config trains (1-based) when the data are folded: `omix train --fold I`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fold: Option<usize>,
    /// Cross-split duplicates: report, or drop from validation/test.
    #[serde(default)]
    pub duplicates: DuplicatePolicy,
    /// Class weights in the loss.
    #[serde(default, skip_serializing_if = "is_unset")]
    pub class_weight: ClassWeight,
    /// Oversample minority classes in the training split up to the majority count.
    #[serde(default)]
    pub oversample: bool,
}

fn is_auto(task: &TaskSetting) -> bool {
    *task == TaskSetting::Auto
}
fn is_unset(weight: &ClassWeight) -> bool {
    *weight == ClassWeight::Unset
}
fn default_alphabet() -> Alphabet {
    Alphabet::Dna
}
fn default_length_policy() -> LengthPolicy {
    LengthPolicy::Refuse
}
fn default_negative_label() -> String {
    "0".into()
}
fn default_validation_fraction() -> f64 {
    0.1
}
fn default_test_fraction() -> f64 {
    0.1
}
fn yes() -> bool {
    true
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            format: Format::Auto,
            genome: None,
            input: None,
            labels: None,
            classes: Vec::new(),
            seq_column: None,
            label_column: None,
            label_columns: Vec::new(),
            id_column: None,
            split_column: None,
            test: None,
            task: TaskSetting::Auto,
            alphabet: Alphabet::Dna,
            ambiguity: Ambiguity::Zero,
            length: None,
            length_policy: LengthPolicy::Refuse,
            class_names: None,
            positive_label: None,
            shuffled_negatives: 0,
            negative_label: default_negative_label(),
            validation_fraction: default_validation_fraction(),
            test_fraction: default_test_fraction(),
            stratify: true,
            folds: None,
            fold: None,
            duplicates: DuplicatePolicy::Report,
            class_weight: ClassWeight::Unset,
            oversample: false,
        }
    }
}

/// Make `path` absolute: a relative path is taken relative to `base` (itself taken against the
/// working directory), so that a run folder's resolved config works from anywhere.
pub fn resolve_path(base: &Path, path: &mut PathBuf) {
    if path.is_relative() {
        let joined = base.join(&*path);
        *path = std::path::absolute(&joined).unwrap_or(joined);
    }
}

/// Make the paths of a source's files (input, labels, one file per class) absolute.
fn resolve_files(base: &Path, input: &mut Option<PathBuf>, labels: &mut Option<PathBuf>, classes: &mut [ClassFile]) {
    for path in [input, labels].into_iter().flatten() {
        resolve_path(base, path);
    }
    for class in classes {
        resolve_path(base, &mut class.path);
    }
}

impl SourceConfig {
    /// Make the source's file paths absolute, relative ones taken against `base`.
    pub fn resolve_paths(&mut self, base: &Path) {
        resolve_files(base, &mut self.input, &mut self.labels, &mut self.classes);
    }
}

impl DataConfig {
    /// Make every file path of the table absolute, relative ones taken against `base` (the
    /// config file's folder, or the working directory for flags).
    pub fn resolve_paths(&mut self, base: &Path) {
        resolve_files(base, &mut self.input, &mut self.labels, &mut self.classes);
        if let Some(test) = &mut self.test {
            test.resolve_paths(base);
        }
        if let Some(genome) = &mut self.genome {
            genome.resolve_paths(base);
        }
    }

    /// The training source described by the top-level fields.
    pub fn source(&self) -> SourceConfig {
        SourceConfig {
            format: self.format,
            input: self.input.clone(),
            labels: self.labels.clone(),
            classes: self.classes.clone(),
            seq_column: self.seq_column.clone(),
            label_column: self.label_column.clone(),
            label_columns: self.label_columns.clone(),
            id_column: self.id_column.clone(),
            split_column: self.split_column.clone(),
        }
    }

    /// Check the settings, one error per rule.
    pub fn check(&self) -> Result<(), DataError> {
        let source = self.source();
        if let Some(genome) = &self.genome {
            genome.check()?;
            if !genome.signals.is_empty() && self.task != TaskSetting::Regression {
                return Err(DataError::Config {
                    field: "task",
                    message: "[data.genome] signals give one real-valued target per track; set task = \"regression\" in [data]".into(),
                });
            }
            if !source.is_empty() {
                return Err(DataError::Config {
                    field: "genome",
                    message:
                        "[data.genome] reads intervals on a reference; do not also give input or classes in [data]"
                            .into(),
                });
            }
            if self.length.is_none() {
                return Err(DataError::Config {
                    field: "length",
                    message: "set the window length (bp) in [data] for [data.genome]".into(),
                });
            }
            if self.test.is_some() {
                return Err(DataError::Config {
                    field: "test",
                    message: "[data.genome] holds out test chromosomes (test_chromosomes); [data.test] does not apply"
                        .into(),
                });
            }
        } else {
            check_source(&source, "input")?;
        }
        if let Some(test) = &self.test {
            check_source(test, "test")?;
        }
        let fraction_ok = |value: f64| (0.0..1.0).contains(&value);
        if !fraction_ok(self.validation_fraction) {
            return Err(DataError::Config {
                field: "validation_fraction",
                message: format!("{} is not in [0, 1)", self.validation_fraction),
            });
        }
        if !fraction_ok(self.test_fraction) {
            return Err(DataError::Config {
                field: "test_fraction",
                message: format!("{} is not in [0, 1)", self.test_fraction),
            });
        }
        if self.validation_fraction + self.test_fraction >= 1.0 {
            return Err(DataError::Config {
                field: "validation_fraction",
                message: format!(
                    "validation ({}) and test ({}) fractions leave nothing to train on",
                    self.validation_fraction, self.test_fraction
                ),
            });
        }
        self.check_folds()?;
        if self.length == Some(0) {
            return Err(DataError::Config { field: "length", message: "must be positive".into() });
        }
        if self.shuffled_negatives > 0 && self.alphabet == Alphabet::Protein {
            return Err(DataError::Config {
                field: "shuffled_negatives",
                message: "dinucleotide shuffling applies to DNA/RNA, not protein".into(),
            });
        }
        if self.shuffled_negatives > 0 && !self.label_columns.is_empty() {
            return Err(DataError::Config {
                field: "shuffled_negatives",
                message: "is for binary data; a multi-label task cannot get shuffled negatives".into(),
            });
        }
        if self.format == Format::Matrix && self.shuffled_negatives > 0 {
            return Err(DataError::Config {
                field: "shuffled_negatives",
                message: "shuffles sequences; a numeric matrix has none".into(),
            });
        }
        if self.task == TaskSetting::Regression && self.shuffled_negatives > 0 {
            return Err(DataError::Config {
                field: "shuffled_negatives",
                message: "applies to classification; a regression task has no negative class".into(),
            });
        }
        if self.task == TaskSetting::Regression && self.class_weight != ClassWeight::Unset {
            return Err(DataError::Config {
                field: "class_weight",
                message: "applies to classification, not to a regression task".into(),
            });
        }
        if let ClassWeight::Explicit(weights) = &self.class_weight
            && weights.iter().any(|w| !w.is_finite() || *w < 0.0)
        {
            return Err(DataError::Config {
                field: "class_weight",
                message: format!(
                    "[{}]: weights must be finite and non-negative",
                    weights.iter().map(f64::to_string).collect::<Vec<_>>().join(", ")
                ),
            });
        }
        if let Some(names) = &self.class_names {
            let mut sorted = names.clone();
            sorted.sort();
            sorted.dedup();
            if sorted.len() != names.len() || names.len() < 2 {
                return Err(DataError::Config {
                    field: "class_names",
                    message: format!("{}: at least two distinct names are needed", names.join(", ")),
                });
            }
        }
        Ok(())
    }
}

impl DataConfig {
    /// How many folds the data are split into: `folds = k`, or the chromosome folds of
    /// `[data.genome]`; `None` for one split.
    pub fn fold_count(&self) -> Option<usize> {
        match &self.genome {
            Some(genome) if !genome.folds.is_empty() => Some(genome.folds.len()),
            _ => self.folds,
        }
    }

    /// The table with `fold` cleared: the split definition every fold of one cross-validation
    /// shares.
    pub fn without_fold(&self) -> DataConfig {
        DataConfig { fold: None, ..self.clone() }
    }

    /// `folds` and `fold`: a fold is named exactly when the data are folded, and exists.
    fn check_folds(&self) -> Result<(), DataError> {
        let error = |field: &'static str, message: String| Err(DataError::Config { field, message });
        if let Some(folds) = self.folds {
            if self.genome.is_some() {
                return error(
                    "folds",
                    "[data.genome] windows are folded by chromosome: give [data.genome] folds = [{ validation = [...], test = [...] }, ...] instead of folds in [data]".into(),
                );
            }
            if folds < 2 {
                return error("folds", format!("{folds}: cross-validation needs at least 2 folds"));
            }
            if self.split_column.is_some() {
                return error(
                    "folds",
                    "the split column assigns the splits; folds deal the examples into parts themselves: give one or the other".into(),
                );
            }
            if self.test.is_some() {
                return error(
                    "folds",
                    "[data.test] is a fixed test set; with folds each fold's part is the test set: give one or the other".into(),
                );
            }
        }
        match (self.fold_count(), self.fold) {
            (None, None) => Ok(()),
            (Some(count), None) => error(
                "fold",
                format!(
                    "the data are split into {count} folds: train one with `omix train CONFIG --fold I` (I from 1 to {count}), or set fold = I in [data]"
                ),
            ),
            (None, Some(fold)) => error(
                "fold",
                format!(
                    "fold = {fold} names a fold, but the data are not folded: set folds = k in [data] (or [data.genome] folds = [...] for chromosome folds)"
                ),
            ),
            (Some(count), Some(fold)) if fold == 0 || fold > count => {
                error("fold", format!("fold {fold} does not exist: folds are numbered 1 to {count}"))
            }
            _ => Ok(()),
        }
    }
}

fn check_source(source: &SourceConfig, what: &'static str) -> Result<(), DataError> {
    if source.input.is_some() && !source.classes.is_empty() {
        return Err(DataError::Config {
            field: what,
            message: "give either an input file or per-class files (classes), not both".into(),
        });
    }
    if source.is_empty() {
        return Err(DataError::Config {
            field: what,
            message: "no input: set `input` (with `labels` or a label column) or `classes`".into(),
        });
    }
    if !source.classes.is_empty() && source.classes.len() < 2 && what == "input" {
        // One class file is allowed only together with shuffled negatives; checked at load time.
    }
    if source.label_column.is_some() && !source.label_columns.is_empty() {
        return Err(DataError::Config {
            field: what,
            message: "give label_column (one label) or label_columns (multi-label), not both".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_config_uses_defaults() -> Result<(), Box<dyn std::error::Error>> {
        let config: DataConfig = toml::from_str("input = \"seqs.txt\"\nlabels = \"labels.txt\"")?;
        config.check()?;
        assert_eq!(config.validation_fraction, 0.1);
        assert_eq!(config.alphabet, Alphabet::Dna);
        Ok(())
    }

    #[test]
    fn unknown_key_is_rejected() {
        let result: Result<DataConfig, _> = toml::from_str("inptu = \"x\"");
        assert!(result.is_err());
    }

    #[test]
    fn class_weight_forms_parse() -> Result<(), Box<dyn std::error::Error>> {
        let balanced: DataConfig = toml::from_str("input = \"x\"\nclass_weight = \"balanced\"")?;
        assert_eq!(balanced.class_weight, ClassWeight::Named(NamedWeight::Balanced));
        let explicit: DataConfig = toml::from_str("input = \"x\"\nclass_weight = [1.0, 3.0]")?;
        assert_eq!(explicit.class_weight, ClassWeight::Explicit(vec![1.0, 3.0]));
        Ok(())
    }

    #[test]
    fn fractions_must_leave_training_data() {
        let config = DataConfig {
            input: Some("x".into()),
            validation_fraction: 0.5,
            test_fraction: 0.5,
            ..DataConfig::default()
        };
        assert!(matches!(config.check(), Err(DataError::Config { field: "validation_fraction", .. })));
    }

    #[test]
    fn folds_need_a_fold_in_range() -> Result<(), Box<dyn std::error::Error>> {
        let folded = DataConfig { input: Some("x".into()), folds: Some(5), ..DataConfig::default() };
        assert!(matches!(folded.check(), Err(DataError::Config { field: "fold", .. })));
        DataConfig { fold: Some(5), ..folded.clone() }.check()?;
        for fold in [0, 6] {
            let error = DataConfig { fold: Some(fold), ..folded.clone() }.check().err().ok_or("accepted")?;
            assert!(error.to_string().contains("numbered 1 to 5"), "{error}");
        }
        let unfolded = DataConfig { input: Some("x".into()), fold: Some(1), ..DataConfig::default() };
        assert!(matches!(unfolded.check(), Err(DataError::Config { field: "fold", .. })));
        let one = DataConfig { folds: Some(1), fold: Some(1), ..folded.clone() };
        assert!(matches!(one.check(), Err(DataError::Config { field: "folds", .. })));
        let column = DataConfig { split_column: Some("split".into()), fold: Some(1), ..folded };
        assert!(matches!(column.check(), Err(DataError::Config { field: "folds", .. })));
        Ok(())
    }

    #[test]
    fn input_and_classes_are_exclusive() {
        let config = DataConfig {
            input: Some("x".into()),
            classes: vec![ClassFile { label: "a".into(), path: "a.fa".into() }],
            ..DataConfig::default()
        };
        assert!(config.check().is_err());
    }
}
