//! A trained model's run folder as omix-train reads and writes it: weights, the stored input
//! pipeline and the typed experiment config. The folder's contract itself (file names, the other
//! records, atomic writes) lives in `omix-run`.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use omix_data::{Dataset, Schema};
use omix_io::write_atomically;
use omix_models::{InputShape, Model};
use omix_run::{RunDir, files};
use serde::Serialize;

use crate::inputs::{InputPipeline, PipelineState};
use crate::objective::Objective;
use crate::{ExperimentConfig, TrainError};

/// What `features.json` holds: how inputs are made and the model's input shape.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StoredPipeline {
    /// Feature settings and fitted statistics.
    #[serde(flatten)]
    pub state: PipelineState,
    /// The model's input shape.
    pub input_shape: InputShape,
}

/// Reading a trained sequence or matrix model back from its run folder.
pub trait TrainedRun {
    /// The resolved experiment config.
    fn config(&self) -> Result<ExperimentConfig, TrainError>;
    /// The stored input pipeline; runs from before pipelines were stored read one-hot sequences.
    fn pipeline(&self) -> Result<StoredPipeline, TrainError>;
    /// The input pipeline rebuilt for new data with the stored settings and statistics.
    fn input_pipeline(&self, dataset: &Dataset) -> Result<InputPipeline, TrainError>;
    /// What the stored model's outputs mean (probabilities, values, reconstructions).
    fn objective(&self) -> Result<Objective, TrainError>;
    /// Load the trained model (validation mode) on a device.
    fn load_model(&self, device: &Device) -> Result<(Model, Schema), TrainError>;
    /// Load the trained model frozen on an autodiff device: no parameter needs a gradient and
    /// dropout / batch-norm run in inference mode, but gradients w.r.t. the input flow (for
    /// attributions).
    fn load_frozen_model(&self, device: &Device) -> Result<Model, TrainError>;
}

/// An ensemble folder has no model of its own: what reads one model is pointed at a member (what
/// reads predictions goes through `RunModels`, which combines the members).
fn refuse_ensemble(run: &RunDir) -> Result<(), TrainError> {
    let Some(ensemble) = run.ensemble()? else { return Ok(()) };
    Err(TrainError::Run {
        path: run.root().to_path_buf(),
        message: format!(
            "an ensemble of {} runs ({}, combined by {}); predict, evaluate and score-variants take it as it is, but this command reads one model: give one of its members, e.g. {}",
            ensemble.members.len(),
            ensemble.members_are.name(),
            ensemble.combine.name(),
            run.path(&ensemble.members[0]).display()
        ),
    })
}

impl TrainedRun for RunDir {
    fn config(&self) -> Result<ExperimentConfig, TrainError> {
        refuse_ensemble(self)?;
        if self.is_graph()? {
            return Err(TrainError::Run {
                path: self.path(files::CONFIG),
                message: "this is a graph (node classification) run: its test-node predictions are in test_predictions.tsv; evaluate, predict and embed read sequence and matrix runs".into(),
            });
        }
        let text = self.read_text(files::CONFIG)?;
        toml::from_str(&text).map_err(|e| TrainError::Run { path: self.path(files::CONFIG), message: e.to_string() })
    }

    fn pipeline(&self) -> Result<StoredPipeline, TrainError> {
        refuse_ensemble(self)?;
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

    fn input_pipeline(&self, dataset: &Dataset) -> Result<InputPipeline, TrainError> {
        InputPipeline::restore(self.pipeline()?.state, dataset, self.root())
    }

    fn objective(&self) -> Result<Objective, TrainError> {
        let config = self.config()?;
        let schema = self.schema()?;
        let input = self.pipeline()?.input_shape;
        Ok(Objective::new(schema.task, &config.model, config.train.loss, input.channels))
    }

    fn load_model(&self, device: &Device) -> Result<(Model, Schema), TrainError> {
        let config = self.config()?;
        let schema = self.schema()?;
        let input = checked_input_shape(self, &config, &schema)?;
        let model = config.model.init(input, device)?;
        let model = load_weights(model, &self.path(files::WEIGHTS))?;
        Ok((model.valid(), schema))
    }

    fn load_frozen_model(&self, device: &Device) -> Result<Model, TrainError> {
        let config = self.config()?;
        let input = checked_input_shape(self, &config, &self.schema()?)?;
        let model = config.model.init(input, device)?;
        Ok(load_weights(model, &self.path(files::WEIGHTS))?.freeze())
    }
}

/// The stored model input shape, checked against the one the schema and config call for: a run
/// folder assembled from two runs (or edited by hand) is refused here, before the weights meet
/// data of another shape. The weights themselves are checked against this shape on loading.
fn checked_input_shape(run: &RunDir, config: &ExperimentConfig, schema: &Schema) -> Result<InputShape, TrainError> {
    let stored = run.pipeline()?;
    let empty = Dataset { schema: schema.clone(), examples: Vec::new(), files: Vec::new(), report: Default::default() };
    let expected = InputPipeline::restore(stored.state.clone(), &empty, run.root())?.input_shape(schema, &config.model);
    if expected != stored.input_shape {
        return Err(TrainError::Run {
            path: run.path(files::FEATURES),
            message: format!(
                "the model was built for inputs {} but {} ({} task, classes {}, {} alphabet, length {}) calls for {}; the run folder's files come from different runs or were edited, so it cannot be used (retrain it)",
                stored.input_shape,
                files::SCHEMA,
                schema.task.name(),
                schema.class_names.join(", "),
                schema.alphabet,
                schema.length,
                expected
            ),
        });
    }
    Ok(stored.input_shape)
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
pub fn save_weights<M: Module + Clone>(model: &M, path: &Path) -> Result<(), TrainError> {
    let bytes = weights_to_bytes(model)?;
    Ok(write_atomically(path, |out| out.write_all(&bytes))?)
}

/// Read weights from a file into a model.
pub fn load_weights<M: Module>(model: M, path: &Path) -> Result<M, TrainError> {
    let bytes = std::fs::read(path)
        .map_err(|e| TrainError::Run { path: path.to_path_buf(), message: format!("cannot read weights: {e}") })?;
    weights_from_bytes(model, bytes, path)
}
