//! The run folder: everything needed to reproduce, evaluate or predict with a trained model.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use omix_data::{Dataset, Schema, Split, Target};
use omix_io::{IoError, write_atomically};
use omix_models::{InputShape, Model};
use serde::Serialize;

use crate::inputs::{InputPipeline, PipelineState};
use crate::{ExperimentConfig, TrainError};

/// File names inside a run folder.
pub mod files {
    /// The resolved experiment config.
    pub const CONFIG: &str = "config.toml";
    /// Data schema (alphabet, length, classes) the model expects.
    pub const SCHEMA: &str = "schema.json";
    /// Record → split assignment.
    pub const MANIFEST: &str = "split_manifest.tsv";
    /// Data report (counts, duplicates).
    pub const DATA_REPORT: &str = "data_report.json";
    /// Biology-aware checks.
    pub const CHECKS: &str = "checks.json";
    /// Per-epoch log.
    pub const LOG: &str = "training_log.tsv";
    /// Final weights (burnpack).
    pub const WEIGHTS: &str = "model.bpk";
    /// Metrics per split.
    pub const METRICS: &str = "metrics.json";
    /// Test-set predictions.
    pub const TEST_PREDICTIONS: &str = "test_predictions.tsv";
    /// Checkpoint folder.
    pub const CHECKPOINT: &str = "checkpoint";
    /// The input pipeline (feature settings, standardisation statistics, model input shape).
    pub const FEATURES: &str = "features.json";
}

/// What `features.json` holds: how inputs are made and the model's input shape.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StoredPipeline {
    /// Feature settings and fitted statistics.
    #[serde(flatten)]
    pub state: PipelineState,
    /// The model's input shape.
    pub input_shape: InputShape,
}

/// A run folder on disk.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// Open (or name) a run folder.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path of a file in the folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Create the folder (and the checkpoint folder).
    pub fn create(&self) -> Result<(), TrainError> {
        std::fs::create_dir_all(self.path(files::CHECKPOINT))
            .map_err(|source| IoError::Write { path: self.root.clone(), source }.into())
    }

    /// Write text atomically.
    pub fn write_text(&self, name: &str, text: &str) -> Result<(), TrainError> {
        Ok(write_atomically(&self.path(name), |out| out.write_all(text.as_bytes()))?)
    }

    /// Write a value as pretty JSON atomically.
    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<(), TrainError> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| TrainError::Run { path: self.path(name), message: e.to_string() })?;
        self.write_text(name, &(text + "\n"))
    }

    /// Read a file as text.
    pub fn read_text(&self, name: &str) -> Result<String, TrainError> {
        let path = self.path(name);
        std::fs::read_to_string(&path).map_err(|e| TrainError::Run {
            path: path.clone(),
            message: format!("cannot read it ({e}); is {} a complete omix run folder?", self.root.display()),
        })
    }

    /// The resolved experiment config.
    pub fn config(&self) -> Result<ExperimentConfig, TrainError> {
        let text = self.read_text(files::CONFIG)?;
        let is_graph = text.parse::<toml::Table>().is_ok_and(|table| table.contains_key("graph"));
        if is_graph {
            return Err(TrainError::Run {
                path: self.path(files::CONFIG),
                message: "this is a graph (node classification) run: its test-node predictions are in test_predictions.tsv; evaluate, predict and embed read sequence and matrix runs".into(),
            });
        }
        toml::from_str(&text).map_err(|e| TrainError::Run { path: self.path(files::CONFIG), message: e.to_string() })
    }

    /// The data schema.
    pub fn schema(&self) -> Result<Schema, TrainError> {
        let text = self.read_text(files::SCHEMA)?;
        serde_json::from_str(&text)
            .map_err(|e| TrainError::Run { path: self.path(files::SCHEMA), message: e.to_string() })
    }

    /// The stored input pipeline; runs from before pipelines were stored read one-hot sequences.
    pub fn pipeline(&self) -> Result<StoredPipeline, TrainError> {
        let path = self.path(files::FEATURES);
        if !path.exists() {
            let schema = self.schema()?;
            return Ok(StoredPipeline {
                state: PipelineState { features: None, standardizer: None },
                input_shape: InputShape {
                    channels: schema.channels(),
                    length: schema.length,
                    outputs: schema.outputs(),
                },
            });
        }
        let text = self.read_text(files::FEATURES)?;
        serde_json::from_str(&text)
            .map_err(|e| TrainError::Run { path, message: format!("corrupt input pipeline description: {e}") })
    }

    /// The input pipeline rebuilt for new data with the stored settings and statistics.
    pub fn input_pipeline(&self, dataset: &Dataset) -> Result<InputPipeline, TrainError> {
        InputPipeline::restore(self.pipeline()?.state, dataset, self.root())
    }

    /// What the stored model's outputs mean (probabilities, values, reconstructions).
    pub fn objective(&self) -> Result<crate::Objective, TrainError> {
        let config = self.config()?;
        let schema = self.schema()?;
        let input = self.pipeline()?.input_shape;
        Ok(crate::Objective::new(schema.task, &config.model, config.train.loss, input.channels))
    }

    /// Load the trained model (validation mode) on a device.
    pub fn load_model(&self, device: &Device) -> Result<(Model, Schema), TrainError> {
        let config = self.config()?;
        let schema = self.schema()?;
        let input = self.pipeline()?.input_shape;
        let model = config.model.init(input, device)?;
        let model = load_weights(model, &self.path(files::WEIGHTS))?;
        Ok((model.valid(), schema))
    }

    /// Load the trained model frozen on an autodiff device: no parameter needs a gradient and
    /// dropout / batch-norm run in inference mode, but gradients w.r.t. the input flow (for
    /// attributions).
    pub fn load_frozen_model(&self, device: &Device) -> Result<Model, TrainError> {
        let config = self.config()?;
        let input = self.pipeline()?.input_shape;
        let model = config.model.init(input, device)?;
        Ok(load_weights(model, &self.path(files::WEIGHTS))?.freeze())
    }

    /// Write the split manifest: one line per example.
    pub fn write_manifest(&self, dataset: &Dataset) -> Result<(), TrainError> {
        write_atomically(&self.path(files::MANIFEST), |out| {
            writeln!(out, "id\tsplit\tlabel\tfile\tline\tshuffled_from")?;
            for example in &dataset.examples {
                let label = label_text(dataset, &example.target);
                let origin = example.shuffled_from.map(|i| dataset.examples[i].id.as_str()).unwrap_or("");
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    example.id,
                    example.split.name(),
                    label,
                    dataset.files[example.file].display(),
                    example.line,
                    origin
                )?;
            }
            Ok(())
        })?;
        Ok(())
    }
}

/// The label of a target as text (multi-label: comma-separated task names that are 1).
pub fn label_text(dataset: &Dataset, target: &Target) -> String {
    match target {
        Target::Class(class) => dataset.schema.class_names[*class].clone(),
        Target::Tasks(values) => dataset
            .schema
            .class_names
            .iter()
            .zip(values)
            .filter(|(_, v)| **v)
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(","),
        Target::Values(values) => values.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(","),
        Target::Unlabelled => String::new(),
    }
}

/// Serialise weights to bytes (burnpack).
pub fn weights_to_bytes<M: Module + Clone>(model: &M) -> Result<Vec<u8>, TrainError> {
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| TrainError::Run { path: PathBuf::from("<weights>"), message: e.to_string() })?;
    Ok(bytes.to_vec())
}

/// Apply weights from bytes.
pub fn weights_from_bytes<M: Module>(model: M, bytes: Vec<u8>, origin: &Path) -> Result<M, TrainError> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| TrainError::Run {
        path: origin.to_path_buf(),
        message: format!("not a valid weights file: {e}"),
    })?;
    model.try_load_record(record).map_err(|e| TrainError::Run {
        path: origin.to_path_buf(),
        message: format!("weights do not fit the model in config.toml: {e}"),
    })
}

/// Write weights atomically.
pub fn save_weights(model: &Model, path: &Path) -> Result<(), TrainError> {
    let bytes = weights_to_bytes(model)?;
    Ok(write_atomically(path, |out| out.write_all(&bytes))?)
}

/// Read weights from a file into a model.
pub fn load_weights(model: Model, path: &Path) -> Result<Model, TrainError> {
    let bytes = std::fs::read(path)
        .map_err(|e| TrainError::Run { path: path.to_path_buf(), message: format!("cannot read weights: {e}") })?;
    weights_from_bytes(model, bytes, path)
}

/// Write predictions as TSV: id, label (if known), one probability (classification) or value
/// (regression) column per output and the predicted label; for autoencoders
/// (`reconstructs`), the reconstruction error of each example.
pub fn write_predictions(
    out: &mut dyn std::io::Write,
    dataset: &Dataset,
    indices: &[usize],
    scores: &[f64],
    threshold: f64,
    header: bool,
    reconstructs: bool,
) -> std::io::Result<()> {
    let schema = &dataset.schema;
    let labelled = indices.iter().any(|&i| dataset.examples[i].target != Target::Unlabelled);
    if reconstructs {
        if header {
            writeln!(out, "id{}\treconstruction_error", if labelled { "\tlabel" } else { "" })?;
        }
        for (&index, score) in indices.iter().zip(scores) {
            let example = &dataset.examples[index];
            write!(out, "{}", example.id)?;
            if labelled {
                write!(out, "\t{}", label_text(dataset, &example.target))?;
            }
            writeln!(out, "\t{score:.6}")?;
        }
        return Ok(());
    }
    let outputs = schema.outputs().max(1);
    let regression = schema.task == omix_data::Task::Regression;
    if header {
        write!(out, "id")?;
        if labelled {
            write!(out, "\t{}", if regression { "target" } else { "label" })?;
        }
        match schema.task {
            omix_data::Task::Binary => write!(out, "\tprobability_{}", schema.class_names[1])?,
            omix_data::Task::Regression => {
                for name in &schema.class_names {
                    write!(out, "\tprediction_{name}")?;
                }
            }
            _ => {
                for name in &schema.class_names {
                    write!(out, "\tprobability_{name}")?;
                }
            }
        }
        if regression {
            writeln!(out)?;
        } else {
            writeln!(out, "\tpredicted")?;
        }
    }
    for (&index, row) in indices.iter().zip(scores.chunks(outputs)) {
        let example = &dataset.examples[index];
        write!(out, "{}", example.id)?;
        if labelled {
            write!(out, "\t{}", label_text(dataset, &example.target))?;
        }
        for value in row {
            write!(out, "\t{value:.6}")?;
        }
        if regression {
            writeln!(out)?;
            continue;
        }
        let predicted = match schema.task {
            omix_data::Task::Binary => schema.class_names[usize::from(row[0] >= threshold)].clone(),
            omix_data::Task::Multiclass => {
                let mut best = 0;
                for (i, v) in row.iter().enumerate() {
                    if *v > row[best] {
                        best = i;
                    }
                }
                schema.class_names[best].clone()
            }
            omix_data::Task::Regression | omix_data::Task::Unsupervised => String::new(),
            omix_data::Task::Multilabel => schema
                .class_names
                .iter()
                .zip(row)
                .filter(|(_, v)| **v >= threshold)
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(","),
        };
        writeln!(out, "\t{predicted}")?;
    }
    Ok(())
}

/// Splits in the order metrics are reported.
pub const REPORTED_SPLITS: [Split; 2] = [Split::Validation, Split::Test];
