//! The labelled, validated, split data set that training and evaluation consume.

use std::collections::BTreeSet;
use std::path::PathBuf;

use omix_encode::{Alphabet, Ambiguity, Encoder, LengthPolicy, dinucleotide_shuffle, fit_length};
use rand::SeedableRng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::DataError;
use crate::config::{ClassWeight, DataConfig, DuplicatePolicy, NamedWeight, SourceConfig, Task, TaskSetting};
use crate::load::{RawLabel, RawRecord, read_source};
use crate::split::{DuplicateReport, Split, assign, find_duplicates};

/// What an example should be predicted as.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A class index (binary: 0 negative, 1 positive).
    Class(usize),
    /// Multi-label 0/1 values, one per task.
    Tasks(Vec<bool>),
    /// Regression targets, one per output.
    Values(Vec<f32>),
    /// Unknown (prediction input).
    Unlabelled,
}

impl Target {
    /// The class index of a [`Target::Class`]; `None` for any other target.
    ///
    /// ```
    /// use omix_data::Target;
    ///
    /// assert_eq!(Target::Class(2).class(), Some(2));
    /// assert_eq!(Target::Tasks(vec![true]).class(), None);
    /// ```
    pub fn class(&self) -> Option<usize> {
        match self {
            Target::Class(class) => Some(*class),
            _ => None,
        }
    }
}

/// One example, ready to encode.
#[derive(Debug, Clone)]
pub struct Example {
    /// Record id (derived examples get a suffix such as `:shuffle1`).
    pub id: String,
    /// Sequence after length fitting, validated against the alphabet (empty for matrix rows).
    pub sequence: Vec<u8>,
    /// Feature values of a matrix row (empty for sequences).
    pub values: Vec<f32>,
    /// What to predict.
    pub target: Target,
    /// Index into [`Dataset::files`] of the sequence file.
    pub file: usize,
    /// 1-based line of the record in that file.
    pub line: u64,
    /// Its split.
    pub split: Split,
    /// For a shuffled negative: the index of the example it was shuffled from.
    pub shuffled_from: Option<usize>,
}

/// What one example's input is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum InputKind {
    /// A sequence, one-hot encoded to `[channels, length]`.
    #[default]
    Sequence,
    /// A row of a numeric matrix with these feature (column) names; the model sees `[features, 1]`.
    Matrix {
        /// Column names, in order.
        features: Vec<String>,
    },
}

/// The encoding and label settings a trained model depends on; stored in the run folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// Task kind.
    pub task: Task,
    /// Sequences or matrix rows.
    #[serde(default)]
    pub input: InputKind,
    /// Class names (binary/multi-class, index order) or task names (multi-label).
    pub class_names: Vec<String>,
    /// Alphabet.
    pub alphabet: Alphabet,
    /// Ambiguity encoding.
    pub ambiguity: Ambiguity,
    /// Model input length.
    pub length: usize,
    /// Length policy for new data.
    pub length_policy: LengthPolicy,
}

impl Schema {
    /// Number of model outputs.
    pub fn outputs(&self) -> usize {
        match self.task {
            Task::Binary => 1,
            Task::Multiclass | Task::Multilabel | Task::Regression => self.class_names.len(),
            Task::Unsupervised => 0,
        }
    }

    /// The name of each model output: the positive class of a binary task (its one logit), else
    /// the class, task or target names.
    pub fn output_names(&self) -> Vec<String> {
        match self.task {
            Task::Binary => vec![self.class_names.get(1).cloned().unwrap_or_else(|| "1".into())],
            _ => self.class_names.clone(),
        }
    }

    /// The output a class, task or target name, or an index, refers to (a binary model has one
    /// output, the positive class's logit, whichever class is named).
    pub fn output_index(&self, choice: &str) -> Result<usize, DataError> {
        if let Some(index) = self.class_names.iter().position(|name| name == choice) {
            return Ok(if self.task == Task::Binary { 0 } else { index });
        }
        match choice.parse::<usize>() {
            Ok(index) if index < self.outputs() => Ok(index),
            _ => Err(DataError::UnknownOutput {
                choice: choice.to_string(),
                names: self.class_names.clone(),
                outputs: self.outputs(),
            }),
        }
    }

    /// Input channels: one-hot channels of a sequence, or the number of matrix features.
    pub fn channels(&self) -> usize {
        match &self.input {
            InputKind::Sequence => self.alphabet.size(),
            InputKind::Matrix { features } => features.len(),
        }
    }

    /// Whether examples are sequences (as opposed to matrix rows).
    pub fn is_sequence(&self) -> bool {
        self.input == InputKind::Sequence
    }

    /// Whether the task has class labels (binary, multi-class or multi-label).
    pub fn is_classification(&self) -> bool {
        matches!(self.task, Task::Binary | Task::Multiclass | Task::Multilabel)
    }

    /// The encoder for this schema.
    pub fn encoder(&self) -> Encoder {
        Encoder::new(self.alphabet, self.ambiguity)
    }
}

/// Class counts of one split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitSummary {
    /// The split.
    pub split: Split,
    /// Number of examples.
    pub examples: usize,
    /// Examples per class (multi-label: positives per task).
    pub per_class: Vec<usize>,
}

/// What happened to the data on its way in; written to the run folder and shown before training.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataReport {
    /// Records read from the files.
    pub records_read: usize,
    /// Sequences centre-cropped or padded to the model length.
    pub length_adjusted: usize,
    /// Shuffled negatives generated.
    pub shuffled_negatives: usize,
    /// Cross-split duplicates.
    pub duplicates: DuplicateReport,
    /// Validation/test examples dropped as duplicates of earlier splits.
    pub dropped_duplicates: usize,
    /// Per split class counts.
    pub splits: Vec<SplitSummary>,
    /// Windows on a reference genome: intervals, padding, background, chromosome hold-out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genome: Option<crate::genome::GenomeReport>,
}

/// A labelled data set with a split per example.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Encoding and label settings.
    pub schema: Schema,
    /// All examples, every split.
    pub examples: Vec<Example>,
    /// Files the examples came from.
    pub files: Vec<PathBuf>,
    /// What happened on loading.
    pub report: DataReport,
}

fn is_missing(text: &str) -> bool {
    matches!(text.trim().to_ascii_lowercase().as_str(), "" | "nan" | "na" | "n/a" | "null" | "none" | "?")
}

/// Labels recognised as the negative class of a binary task, lowest priority last.
const NEGATIVE_NAMES: [&str; 8] = ["0", "false", "neg", "negative", "unbound", "no", "background", "-1"];

fn infer_class_names(labels: &BTreeSet<String>, positive: Option<&str>) -> Vec<String> {
    let mut names: Vec<String> = labels.iter().cloned().collect();
    if names.len() == 2 {
        if let Some(positive) = positive {
            names.sort_by_key(|name| name == positive);
        } else if let Some(negative) =
            NEGATIVE_NAMES.iter().find_map(|n| names.iter().position(|name| name.eq_ignore_ascii_case(n)))
        {
            names.swap(0, negative);
        }
    }
    names
}

impl Dataset {
    /// Read, validate and split the data a config describes.
    pub fn load(config: &DataConfig, seed: u64) -> Result<Dataset, DataError> {
        config.check()?;
        let mut files = Vec::new();
        let require_labels = config.task != TaskSetting::Unsupervised;
        let mut genome_report = None;
        let mut raw = match &config.genome {
            Some(genome) => {
                let length = config.length.unwrap_or(0);
                // One window must fit before any is read.
                crate::memory::check_fits(1, length, config.alphabet.size(), 1, crate::memory::available_memory())?;
                let (raw, report) =
                    crate::genome::read_genome(genome, config.fold, length, &config.negative_label, seed, &mut files)?;
                genome_report = Some(report);
                raw
            }
            None => read_source(&config.source(), &mut files, require_labels)?,
        };
        let task_names = std::mem::take(&mut raw.task_names);
        let matrix_columns = raw.columns.take();
        let mut records = raw.records;
        // Files from index `first_test_file` on belong to the separate test set, which is used
        // as given: it gets no shuffled negatives.
        let first_test_file = files.len();
        if let Some(test) = &config.test {
            let test_raw = read_source(test, &mut files, require_labels)?;
            if test_raw.columns != matrix_columns {
                return Err(DataError::Config {
                    field: "test",
                    message: "the test matrix's columns differ from the training matrix's (names and order must match)"
                        .into(),
                });
            }
            if test_raw.task_names != task_names {
                return Err(DataError::Config {
                    field: "test",
                    message: format!(
                        "the test set's label columns ({}) differ from the training data's ({})",
                        test_raw.task_names.join(", "),
                        task_names.join(", ")
                    ),
                });
            }
            records.extend(test_raw.records.into_iter().map(|mut record| {
                record.split = Some(Split::Test);
                record
            }));
        }
        let records_read = records.len();

        // Classes, or target names.
        if config.task == TaskSetting::Unsupervised {
            for record in &mut records {
                record.label = RawLabel::None;
            }
        }
        let (task, class_names) = if config.task == TaskSetting::Unsupervised {
            (Task::Unsupervised, Vec::new())
        } else if config.task == TaskSetting::Regression {
            let names = if task_names.is_empty() {
                vec![config.label_column.clone().unwrap_or_else(|| "target".to_string())]
            } else {
                task_names
            };
            (Task::Regression, names)
        } else if !task_names.is_empty() {
            (Task::Multilabel, task_names)
        } else {
            let mut labels = BTreeSet::new();
            for record in &records {
                if let RawLabel::Single { text, file, line } = &record.label {
                    if is_missing(text) {
                        return Err(DataError::MissingLabel {
                            path: files[*file].clone(),
                            line: *line,
                            record: record.id.clone(),
                            value: text.clone(),
                        });
                    }
                    labels.insert(text.trim().to_string());
                }
            }
            if config.class_names.is_none() {
                crate::labels::check_inferred_classes(&records, &files)?;
            }
            if config.shuffled_negatives > 0 {
                labels.insert(config.negative_label.clone());
            }
            let names = match &config.class_names {
                Some(names) => names.clone(),
                None => infer_class_names(&labels, config.positive_label.as_deref()),
            };
            if names.len() < 2 {
                // Name the file the labels came from (the labels file of a lines input).
                let label_file = records
                    .iter()
                    .find_map(|record| match &record.label {
                        RawLabel::Single { file, .. } => Some(*file),
                        _ => None,
                    })
                    .unwrap_or(0);
                return Err(DataError::SingleClass {
                    what: files.get(label_file).map(|f| f.display().to_string()).unwrap_or_default(),
                    class: names.first().cloned().unwrap_or_default(),
                });
            }
            if let Some(positive) = &config.positive_label
                && (names.len() != 2 || names[1] != *positive)
            {
                return Err(DataError::Config {
                    field: "positive_label",
                    message: format!("{positive:?} is not one of the two classes ({})", names.join(", ")),
                });
            }
            let task = if names.len() == 2 { Task::Binary } else { Task::Multiclass };
            (task, names)
        };

        // Length.
        let length = match config.length {
            _ if matrix_columns.is_some() => 1,
            Some(length) => length,
            None => match config.length_policy {
                LengthPolicy::CenterCropPad => records.iter().map(|r| r.sequence.len()).max().unwrap_or(0),
                LengthPolicy::Refuse => records.first().map(|r| r.sequence.len()).unwrap_or(0),
            },
        };
        if matrix_columns.is_none() {
            // Refuse a length that cannot fit before sequences are fitted to it.
            crate::memory::check_fits(
                records.len(),
                length,
                config.alphabet.size(),
                1,
                crate::memory::available_memory(),
            )?;
        }
        let schema = Schema {
            task,
            input: match matrix_columns {
                Some(features) => InputKind::Matrix { features },
                None => InputKind::Sequence,
            },
            class_names,
            alphabet: config.alphabet,
            ambiguity: config.ambiguity,
            length,
            length_policy: config.length_policy,
        };
        let length_reason = match config.length {
            Some(_) => "the configured `length`".to_string(),
            None => match records.first() {
                Some(first) => format!(
                    "the length of the first record, {:?} at {}:{}",
                    first.id,
                    files[first.file].display(),
                    first.location.line
                ),
                None => String::new(),
            },
        };
        let mut report = DataReport { records_read, genome: genome_report, ..DataReport::default() };
        let mut examples = Vec::with_capacity(records.len());
        for record in records {
            let split = record.split;
            let example =
                make_example(record, &schema, &files, (&length_reason, TRAIN_LENGTH_HINT), &mut report, true)?;
            examples.push((example, split));
        }

        // Splits.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut assigned: Vec<Option<Split>> = examples.iter().map(|(_, split)| *split).collect();
        let has = |assigned: &[Option<Split>], split| assigned.contains(&Some(split));
        let fractions = (
            if has(&assigned, Split::Validation) { 0.0 } else { config.validation_fraction },
            if has(&assigned, Split::Test) { 0.0 } else { config.test_fraction },
        );
        if !has(&assigned, Split::Validation) {
            // A split column without validation rows: carve validation out of its training rows.
            for split in &mut assigned {
                if *split == Some(Split::Train) {
                    *split = None;
                }
            }
        }
        let strata: Vec<usize> = examples
            .iter()
            .map(|(example, _)| if config.stratify { example.target.class().unwrap_or(0) } else { 0 })
            .collect();
        match (config.folds, config.fold) {
            (Some(folds), Some(fold)) if config.genome.is_none() => {
                crate::split::assign_fold(&mut assigned, &strata, (folds, fold), config.validation_fraction, &mut rng)
            }
            _ => assign(&mut assigned, &strata, fractions, &mut rng),
        }
        let mut examples: Vec<Example> = examples
            .into_iter()
            .zip(assigned)
            .map(|((mut example, _), split)| {
                example.split = split.unwrap_or(Split::Train);
                example
            })
            .collect();

        // Duplicates across splits (matrix rows compare as exact bit patterns, with no strands).
        let (duplicates, flagged) = {
            let row_bytes: Vec<Vec<u8>> = if schema.is_sequence() {
                Vec::new()
            } else {
                examples.iter().map(|e| e.values.iter().flat_map(|v| v.to_le_bytes()).collect()).collect()
            };
            let sequences: Vec<&[u8]> = if schema.is_sequence() {
                examples.iter().map(|e| e.sequence.as_slice()).collect()
            } else {
                row_bytes.iter().map(Vec::as_slice).collect()
            };
            let ids: Vec<&str> = examples.iter().map(|e| e.id.as_str()).collect();
            let splits: Vec<Split> = examples.iter().map(|e| e.split).collect();
            let alphabet = if schema.is_sequence() { schema.alphabet } else { Alphabet::Protein };
            find_duplicates(&sequences, &ids, &splits, alphabet)
        };
        report.duplicates = duplicates;
        if config.duplicates == DuplicatePolicy::Drop {
            let before = examples.len();
            let mut keep = flagged.iter().map(|f| !f);
            examples.retain(|_| keep.next().unwrap_or(true));
            report.dropped_duplicates = before - examples.len();
            report.duplicates.dropped = true;
        }

        // Shuffled negatives, each in the split of the positive it comes from.
        if config.shuffled_negatives > 0 {
            let negative = schema.class_names.iter().position(|n| *n == config.negative_label).unwrap_or(0);
            let mut generated = Vec::new();
            for (index, example) in examples.iter().enumerate() {
                if example.target == Target::Class(negative) || example.file >= first_test_file {
                    continue;
                }
                for copy in 0..config.shuffled_negatives {
                    generated.push(Example {
                        id: format!("{}:shuffle{}", example.id, copy + 1),
                        sequence: dinucleotide_shuffle(&example.sequence, &mut rng),
                        values: Vec::new(),
                        target: Target::Class(negative),
                        file: example.file,
                        line: example.line,
                        split: example.split,
                        shuffled_from: Some(index),
                    });
                }
            }
            report.shuffled_negatives = generated.len();
            examples.extend(generated);
        }

        let dataset = Dataset { schema, examples, files, report };
        let mut dataset = dataset;
        dataset.report.splits = Split::ALL.iter().map(|&split| dataset.summary(split)).collect();
        for summary in &dataset.report.splits {
            if summary.examples == 0 {
                return Err(DataError::EmptySplit { split: summary.split.name(), total: dataset.examples.len() });
            }
        }
        let train = &dataset.report.splits[0];
        if matches!(dataset.schema.task, Task::Binary | Task::Multiclass) {
            let present = train.per_class.iter().filter(|&&n| n > 0).count();
            if present < 2 {
                let class = train
                    .per_class
                    .iter()
                    .position(|&n| n > 0)
                    .map(|i| dataset.schema.class_names[i].clone())
                    .unwrap_or_default();
                return Err(DataError::SingleClass { what: "the training split".into(), class });
            }
        }
        Ok(dataset)
    }

    /// Read data for evaluation or prediction with a trained model's schema; every example is put in the test split.
    pub fn load_for_model(source: &SourceConfig, schema: &Schema, require_labels: bool) -> Result<Dataset, DataError> {
        let mut files = Vec::new();
        let require_labels = require_labels && schema.task != Task::Unsupervised;
        let mut raw = read_source(source, &mut files, require_labels)?;
        let columns = raw.columns.take();
        match (&schema.input, columns) {
            (InputKind::Sequence, None) => {}
            (InputKind::Matrix { features }, Some(columns)) if *features == columns => {}
            (InputKind::Matrix { features }, Some(columns)) => {
                return Err(DataError::Config {
                    field: "input",
                    message: format!(
                        "the model was trained on a matrix of {} columns ({}...) but this matrix has {} ({}...); names and order must match",
                        features.len(),
                        features.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
                        columns.len(),
                        columns.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
            (InputKind::Matrix { .. }, None) => {
                return Err(DataError::Config {
                    field: "format",
                    message: "the model was trained on matrix rows; give a matrix (format = \"matrix\")".into(),
                });
            }
            (InputKind::Sequence, Some(_)) => {
                return Err(DataError::Config {
                    field: "format",
                    message: "the model was trained on sequences, not on a numeric matrix".into(),
                });
            }
        }
        if matches!(schema.task, Task::Multilabel | Task::Regression)
            && require_labels
            && raw.task_names.len() > 1
            && raw.task_names != schema.class_names
        {
            return Err(DataError::Config {
                field: "label_columns",
                message: format!(
                    "the model predicts the tasks {} but the data has {}",
                    schema.class_names.join(", "),
                    raw.task_names.join(", ")
                ),
            });
        }
        let mut report = DataReport { records_read: raw.records.len(), ..DataReport::default() };
        let reason = "the trained model's input length";
        let mut examples = Vec::with_capacity(raw.records.len());
        for record in raw.records {
            let mut example =
                make_example(record, schema, &files, (reason, MODEL_LENGTH_HINT), &mut report, require_labels)?;
            example.split = Split::Test;
            examples.push(example);
        }
        let mut dataset = Dataset { schema: schema.clone(), examples, files, report };
        dataset.report.splits = vec![dataset.summary(Split::Test)];
        Ok(dataset)
    }

    /// What was loaded, for people: records, examples, splits per class, duplicates and, for
    /// genome windows, the intervals and chromosome hold-out.
    pub fn summary_lines(&self) -> Vec<String> {
        let report = &self.report;
        let mut lines = Vec::new();
        lines.push(format!(
            "data: {} records read, {} examples ({} shuffled negatives, {} length-adjusted), task {}, classes {}, length {}",
            report.records_read,
            self.examples.len(),
            report.shuffled_negatives,
            report.length_adjusted,
            self.schema.task.name(),
            self.schema.class_names.join(", "),
            self.schema.length
        ));
        for summary in &report.splits {
            let counts: Vec<String> =
                self.schema.class_names.iter().zip(&summary.per_class).map(|(name, n)| format!("{name}={n}")).collect();
            lines.push(format!(
                "  {:<10} {:>7} examples  {}",
                summary.split.name(),
                summary.examples,
                counts.join(" ")
            ));
        }
        let duplicates = &report.duplicates;
        lines.push(format!(
            "  duplicates: {} exact and {} reverse-complement cross-split, {} within splits{}",
            duplicates.exact_across_splits,
            duplicates.reverse_complement_across_splits,
            duplicates.within_splits,
            if duplicates.dropped { format!(" ({} dropped)", report.dropped_duplicates) } else { String::new() }
        ));
        if let Some(genome) = &report.genome {
            for note in &genome.notes {
                lines.push(format!("  {note}"));
            }
            lines.push(format!(
                "  genome: {} intervals on {}; {} windows padded with N, {} dropped at contig ends; {} of {} GC-matched background windows (GC {:.3} positives, {:.3} background)",
                genome.intervals,
                genome.reference,
                genome.padded,
                genome.dropped,
                genome.background_found,
                genome.background_requested,
                genome.gc_positive,
                genome.gc_background
            ));
            lines.push(format!(
                "  chromosome hold-out: validation {}, test {}; overlapping windows across splits: {}",
                genome.validation_chromosomes.join(","),
                genome.test_chromosomes.join(","),
                genome.cross_split_overlaps
            ));
        }
        lines
    }

    /// Class counts of one split.
    pub fn summary(&self, split: Split) -> SplitSummary {
        let mut per_class = vec![0; self.schema.class_names.len()];
        let mut examples = 0;
        for example in self.examples.iter().filter(|e| e.split == split) {
            examples += 1;
            match &example.target {
                Target::Class(class) => per_class[*class] += 1,
                Target::Tasks(values) => {
                    for (count, &value) in per_class.iter_mut().zip(values) {
                        *count += usize::from(value);
                    }
                }
                Target::Values(values) => {
                    for (count, value) in per_class.iter_mut().zip(values) {
                        *count += usize::from(value.is_finite());
                    }
                }
                Target::Unlabelled => {}
            }
        }
        SplitSummary { split, examples, per_class }
    }

    /// Indices of the examples of one split, in file order.
    pub fn indices(&self, split: Split) -> Vec<usize> {
        (0..self.examples.len()).filter(|&i| self.examples[i].split == split).collect()
    }

    /// Per-class loss weights from the training split (all 1 when unset or "none").
    pub fn class_weights(&self, weight: &ClassWeight) -> Result<Vec<f32>, DataError> {
        let classes = self.schema.class_names.len();
        match weight {
            ClassWeight::Unset | ClassWeight::Named(NamedWeight::None) => Ok(vec![1.0; classes]),
            ClassWeight::Explicit(weights) => {
                if weights.len() != classes {
                    return Err(DataError::Config {
                        field: "class_weight",
                        message: format!(
                            "{} weights given for {} classes ({})",
                            weights.len(),
                            classes,
                            self.schema.class_names.join(", ")
                        ),
                    });
                }
                Ok(weights.iter().map(|&w| w as f32).collect())
            }
            ClassWeight::Named(NamedWeight::Balanced) => {
                if !matches!(self.schema.task, Task::Binary | Task::Multiclass) {
                    return Err(DataError::Config {
                        field: "class_weight",
                        message: "\"balanced\" applies to binary and multi-class tasks".into(),
                    });
                }
                let summary = self.summary(Split::Train);
                let present = summary.per_class.iter().filter(|&&n| n > 0).count().max(1);
                Ok(summary
                    .per_class
                    .iter()
                    .map(|&n| if n == 0 { 0.0 } else { summary.examples as f32 / (present as f32 * n as f32) })
                    .collect())
            }
        }
    }

    /// Training indices for one pass: minority classes oversampled (seeded) when asked.
    pub fn training_indices(&self, oversample: bool, seed: u64) -> Vec<usize> {
        let train = self.indices(Split::Train);
        if !oversample || !matches!(self.schema.task, Task::Binary | Task::Multiclass) {
            return train;
        }
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); self.schema.class_names.len()];
        for &index in &train {
            if let Some(class) = self.examples[index].target.class() {
                by_class[class].push(index);
            }
        }
        let largest = by_class.iter().map(Vec::len).max().unwrap_or(0);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6f76_6572);
        let mut indices = train;
        for members in by_class.iter().filter(|m| !m.is_empty()) {
            for _ in members.len()..largest {
                if let Some(&pick) = members.choose(&mut rng) {
                    indices.push(pick);
                }
            }
        }
        indices
    }

    /// Encode examples into a `[batch, channels, length]` buffer (channel-major per example).
    pub fn encode_batch(&self, indices: &[usize], encoder: &Encoder, buffer: &mut Vec<f32>) {
        let block = self.schema.channels() * self.schema.length;
        buffer.clear();
        buffer.resize(indices.len() * block, 0.0);
        if !self.schema.is_sequence() {
            for (chunk, &index) in buffer.chunks_mut(block).zip(indices) {
                chunk.copy_from_slice(&self.examples[index].values);
            }
            return;
        }
        for (chunk, &index) in buffer.chunks_mut(block).zip(indices) {
            // Sequences were validated and fitted on loading, so encoding cannot fail here.
            if encoder.encode_into(&self.examples[index].sequence, chunk).is_err() {
                chunk.fill(0.0);
            }
        }
    }

    /// Like [`Dataset::encode_batch`], with the examples flagged in `reverse` encoded as their
    /// reverse complement (DNA/RNA: channels and positions both flipped).
    pub fn encode_batch_stranded(&self, indices: &[usize], reverse: &[bool], encoder: &Encoder, buffer: &mut Vec<f32>) {
        self.encode_batch(indices, encoder, buffer);
        let length = self.schema.length;
        let block = self.schema.channels() * length;
        if self.schema.channels() != 4 || !self.schema.is_sequence() {
            return;
        }
        for (chunk, _) in buffer.chunks_mut(block).zip(reverse).filter(|(_, r)| **r) {
            let flipped = omix_encode::reverse_complement_one_hot(chunk, length);
            chunk.copy_from_slice(&flipped);
        }
    }

    /// Targets as a `[batch, outputs]` matrix: 0/1 for binary and multi-label, one-hot for
    /// multi-class, the values for regression (empty for unsupervised tasks).
    pub fn target_matrix(&self, indices: &[usize]) -> Vec<f32> {
        let outputs = self.schema.outputs();
        let mut matrix = vec![0.0; indices.len() * outputs];
        for (row, &index) in matrix.chunks_mut(outputs).zip(indices) {
            match (&self.examples[index].target, self.schema.task) {
                (Target::Class(class), Task::Binary) => row[0] = *class as f32,
                (Target::Class(class), _) => row[*class] = 1.0,
                (Target::Tasks(values), _) => {
                    for (cell, &value) in row.iter_mut().zip(values) {
                        *cell = f32::from(u8::from(value));
                    }
                }
                (Target::Values(values), _) => row.copy_from_slice(values),
                (Target::Unlabelled, _) => {}
            }
        }
        matrix
    }

    /// Per-example loss weights from per-class weights (1 for multi-label).
    pub fn sample_weights(&self, indices: &[usize], class_weights: &[f32]) -> Vec<f32> {
        indices
            .iter()
            .map(|&index| match self.examples[index].target {
                Target::Class(class) => class_weights.get(class).copied().unwrap_or(1.0),
                _ => 1.0,
            })
            .collect()
    }
}

/// How to fit sequences of other lengths when training.
const TRAIN_LENGTH_HINT: &str =
    "set `length` and `length_policy = \"center\"` in [data] (or --length N --length-policy center) to centre-crop/pad";

/// How to fit sequences of other lengths to a trained model.
pub(crate) const MODEL_LENGTH_HINT: &str = "give --length-policy center to centre-crop/pad them to the model's length";

pub(crate) fn make_example(
    record: RawRecord,
    schema: &Schema,
    files: &[PathBuf],
    (length_reason, length_hint): (&str, &'static str),
    report: &mut DataReport,
    require_labels: bool,
) -> Result<Example, DataError> {
    let path = || files[record.file].clone();
    let target = make_target(record.label.clone(), &record.id, schema, files, require_labels, path)?;
    if !schema.is_sequence() {
        return Ok(Example {
            id: record.id,
            sequence: Vec::new(),
            values: record.values,
            target,
            file: record.file,
            line: record.location.line,
            split: Split::Train,
            shuffled_from: None,
        });
    }
    let encoder = schema.encoder();
    if let Some((position, symbol)) = encoder.first_invalid(&record.sequence) {
        let (line, column) = record.location.position(position);
        return Err(DataError::InvalidSymbol {
            path: path(),
            line,
            column,
            record: record.id,
            position,
            symbol: show_symbol(symbol),
            alphabet: match schema.alphabet {
                Alphabet::Dna => "DNA",
                Alphabet::Rna => "RNA",
                Alphabet::Protein => "protein",
            },
            allowed: String::from_utf8_lossy(schema.alphabet.symbols()).into_owned(),
        });
    }
    if record.sequence.is_empty() {
        return Err(DataError::LengthMismatch {
            path: path(),
            line: record.location.line,
            record: record.id,
            found: 0,
            expected: schema.length,
            reason: "an empty sequence cannot be encoded".into(),
            hint: "remove the record or give it a sequence",
        });
    }
    let sequence = match fit_length(&record.sequence, schema.length, schema.length_policy, schema.alphabet) {
        Ok(fitted) => {
            if fitted.len() != record.sequence.len() {
                report.length_adjusted += 1;
            }
            fitted.into_owned()
        }
        Err(_) => {
            return Err(DataError::LengthMismatch {
                path: path(),
                line: record.location.line,
                record: record.id,
                found: record.sequence.len(),
                expected: schema.length,
                reason: length_reason.to_string(),
                hint: length_hint,
            });
        }
    };
    Ok(Example {
        id: record.id,
        sequence,
        values: Vec::new(),
        target,
        file: record.file,
        line: record.location.line,
        split: Split::Train,
        shuffled_from: None,
    })
}

fn make_target(
    label: RawLabel,
    record: &str,
    schema: &Schema,
    files: &[PathBuf],
    require_labels: bool,
    path: impl Fn() -> PathBuf,
) -> Result<Target, DataError> {
    let number = |text: &str, column: &str, file: usize, line: u64| -> Result<f32, DataError> {
        match text.trim().parse::<f32>() {
            Ok(value) if value.is_finite() => Ok(value),
            _ => Err(DataError::InvalidNumber {
                path: files[file].clone(),
                line,
                record: record.to_string(),
                column: column.to_string(),
                value: text.to_string(),
            }),
        }
    };
    Ok(match label {
        _ if schema.task == Task::Unsupervised => Target::Unlabelled,
        RawLabel::Single { text, file, line } if schema.task == Task::Regression => {
            let column = schema.class_names.first().map_or("label", String::as_str);
            Target::Values(vec![number(&text, column, file, line)?])
        }
        RawLabel::Columns { texts, file, line } if schema.task == Task::Regression => {
            let mut values = Vec::with_capacity(texts.len());
            for (text, column) in texts.iter().zip(&schema.class_names) {
                values.push(number(text, column, file, line)?);
            }
            Target::Values(values)
        }
        RawLabel::Columns { texts, file, line } => {
            let mut values = Vec::with_capacity(texts.len());
            for (text, column) in texts.iter().zip(&schema.class_names) {
                values.push(match text.as_str() {
                    "1" | "1.0" | "true" | "True" | "TRUE" => true,
                    "0" | "0.0" | "false" | "False" | "FALSE" => false,
                    _ => {
                        return Err(DataError::InvalidTaskValue {
                            path: files[file].clone(),
                            line,
                            record: record.to_string(),
                            column: column.clone(),
                            value: text.clone(),
                        });
                    }
                });
            }
            Target::Tasks(values)
        }
        RawLabel::Single { text, file, line } => {
            let text = text.trim();
            if is_missing(text) {
                return Err(DataError::MissingLabel {
                    path: files[file].clone(),
                    line,
                    record: record.to_string(),
                    value: text.to_string(),
                });
            }
            match schema.class_names.iter().position(|name| name == text) {
                Some(class) => Target::Class(class),
                None => {
                    return Err(DataError::UnknownLabel {
                        path: files[file].clone(),
                        line,
                        record: record.to_string(),
                        label: text.to_string(),
                        known: schema.class_names.clone(),
                    });
                }
            }
        }
        RawLabel::None if require_labels => {
            return Err(DataError::Config { field: "labels", message: format!("{} has no labels", path().display()) });
        }
        RawLabel::None => Target::Unlabelled,
    })
}

/// A byte as a user should see it: `'X'`, or `'\xNN'` when not printable.
fn show_symbol(symbol: u8) -> String {
    if symbol.is_ascii_graphic() { format!("'{}'", symbol as char) } else { format!("'\\x{symbol:02x}'") }
}
