//! Predictions for raw sequences (genome windows, variant alleles), without a `Dataset`.
//!
//! [`SequencePredictor`] loads a run's model once and scores batches of sequences of the model's
//! length: one-hot encoding into a reused buffer, omix's hand-written CNN forward pass where the
//! model allows it (else burn), optional averaging with the reverse-complement prediction, and
//! the same output transform as `predict` (sigmoid / softmax / exp for Poisson).

use burn::prelude::*;
use omix_data::Schema;
use omix_encode::{Encoder, reverse_complement};
use omix_models::{FastPlan, Model};

use crate::Objective;
use crate::error::TrainError;
use crate::run::TrainedRun;
use omix_run::RunDir;

/// A run's model, ready to score sequences.
pub struct SequencePredictor {
    model: Model,
    fast: Option<FastPlan>,
    objective: Objective,
    schema: Schema,
    encoder: Encoder,
    device: Device,
    average_strands: bool,
    run: std::path::PathBuf,
}

impl SequencePredictor {
    /// Load a run folder's model (a model over one-hot sequences).
    pub fn new(run: &RunDir, device: &Device) -> Result<Self, TrainError> {
        let (model, schema) = run.load_model(device)?;
        let config = run.config()?;
        if !schema.is_sequence() || !config.model.reads_sequences() || config.features.is_some() {
            return Err(TrainError::Config {
                field: "model",
                message:
                    "this run's model does not read one-hot sequences, so it cannot score genome windows or variants"
                        .into(),
            });
        }
        if config.model.is_autoencoder() {
            return Err(TrainError::Config {
                field: "model",
                message: "this run is an autoencoder; scoring genome windows needs a supervised model".into(),
            });
        }
        let objective = run.objective()?;
        let fast = FastPlan::new(&model, schema.channels(), schema.length);
        Ok(Self {
            model,
            fast,
            objective,
            encoder: schema.encoder(),
            schema,
            device: device.clone(),
            average_strands: config.train.reverse_complement_average,
            run: run.root().to_path_buf(),
        })
    }

    /// Average forward and reverse-complement predictions (the run's setting unless changed).
    pub fn set_average_strands(&mut self, average: bool) {
        self.average_strands = average;
    }

    /// Whether predictions average both strands.
    pub fn averages_strands(&self) -> bool {
        self.average_strands && self.schema.channels() == 4
    }

    /// The model's input length.
    pub fn length(&self) -> usize {
        self.schema.length
    }

    /// Output names (class, task or target names; binary: the positive class).
    pub fn output_names(&self) -> Vec<String> {
        self.schema.output_names()
    }

    /// Number of values per sequence.
    pub fn outputs(&self) -> usize {
        self.schema.outputs()
    }

    /// Scores `[n, outputs]` (row-major) of sequences of the model's length (others are an error
    /// naming the first one).
    pub fn predict(&self, sequences: &[Vec<u8>]) -> Result<Vec<f64>, TrainError> {
        let forward = self.predict_strand(sequences, false)?;
        if !self.averages_strands() {
            return Ok(forward);
        }
        let reverse = self.predict_strand(sequences, true)?;
        Ok(crate::evaluate::strand_mean(&forward, &reverse))
    }

    fn predict_strand(&self, sequences: &[Vec<u8>], reverse: bool) -> Result<Vec<f64>, TrainError> {
        let (channels, length) = (self.schema.channels(), self.schema.length);
        let block = channels * length;
        let mut values = vec![0.0f32; sequences.len() * block];
        for (k, sequence) in sequences.iter().enumerate() {
            if sequence.len() != length {
                return Err(TrainError::Config {
                    field: "data.length",
                    message: format!("sequence {k} has {} bases; the model reads {length}", sequence.len()),
                });
            }
            let slot = &mut values[k * block..(k + 1) * block];
            let encoded = if reverse {
                self.encoder.encode_into(&reverse_complement(sequence, self.schema.alphabet), slot)
            } else {
                self.encoder.encode_into(sequence, slot)
            };
            encoded.map_err(|error| TrainError::Config {
                field: "data.alphabet",
                message: format!("sequence {k}: {error}"),
            })?;
        }
        let shape = [sequences.len(), channels, length];
        let logits = crate::evaluate::forward_dense(&self.model, self.fast.as_ref(), &values, shape, &self.device)?;
        let width = logits.len() / sequences.len().max(1);
        let mut out = Vec::with_capacity(logits.len());
        for row in logits.chunks(width.max(1)) {
            self.objective.predictions(row, &mut out);
        }
        Ok(out)
    }
}

/// Variant scoring reads a run's model through this.
impl omix_variants::WindowScorer for SequencePredictor {
    fn window_length(&self) -> usize {
        self.length()
    }

    fn output_names(&self) -> Vec<String> {
        SequencePredictor::output_names(self)
    }

    fn score(&self, windows: &[Vec<u8>]) -> Result<Vec<f64>, String> {
        self.predict(windows).map_err(|error| error.to_string())
    }

    fn averages_strands(&self) -> bool {
        SequencePredictor::averages_strands(self)
    }

    fn identity(&self) -> String {
        format!("run={} strands={}", self.run.display(), self.averages_strands())
    }
}
