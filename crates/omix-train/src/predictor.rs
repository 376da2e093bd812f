//! Predictions for raw sequences (genome windows, variant alleles), without a `Dataset`.
//!
//! [`SequencePredictor`] loads a run's model once and scores batches of sequences of the model's
//! length: one-hot encoding into a reused buffer, omix's hand-written CNN forward pass where the
//! model allows it (else burn), optional averaging with the reverse-complement prediction, and
//! the same output transform as `predict` (sigmoid / softmax / exp for Poisson).

use burn::prelude::*;
use omix_data::Schema;
use omix_encode::Encoder;
use omix_models::Model;

use crate::Objective;
use crate::error::TrainError;
use crate::run::TrainedRun;
use omix_run::RunDir;

/// A run's model (or an ensemble's members, combined), ready to score sequences.
pub struct SequencePredictor {
    members: Vec<SequenceModel>,
    combine: omix_run::Combine,
    objective: Objective,
    schema: Schema,
    encoder: Encoder,
    device: Device,
    run: std::path::PathBuf,
}

/// One trained model of a predictor.
struct SequenceModel {
    model: Model,
    fast: Option<crate::evaluate::FastForward>,
    average_strands: bool,
}

impl SequencePredictor {
    /// Load a run folder's model (a model over one-hot sequences), or every member of an
    /// ensemble folder (their predictions combined as the ensemble says).
    pub fn new(run: &RunDir, device: &Device) -> Result<Self, TrainError> {
        let (folders, combine) = match run.ensemble()? {
            Some(ensemble) => {
                (ensemble.members.iter().map(|member| RunDir::new(run.path(member))).collect(), ensemble.combine)
            }
            None => (vec![run.clone()], omix_run::Combine::default()),
        };
        let mut members = Vec::with_capacity(folders.len());
        let mut shared: Option<(Schema, Objective)> = None;
        for folder in &folders {
            let (model, schema) = folder.load_model(device)?;
            let config = folder.config()?;
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
            let objective = folder.objective()?;
            if shared.as_ref().is_some_and(|(first, first_objective)| *first != schema || *first_objective != objective)
            {
                return Err(TrainError::Run {
                    path: folder.root().to_path_buf(),
                    message: format!(
                        "this member of {} reads other inputs or means other outputs than the first; rebuild the ensemble with `omix ensemble`",
                        run.root().display()
                    ),
                });
            }
            let fast = crate::evaluate::FastForward::new(&model, schema.channels(), schema.length);
            shared.get_or_insert((schema, objective));
            members.push(SequenceModel { model, fast, average_strands: config.train.reverse_complement_average });
        }
        let (schema, objective) = shared.ok_or_else(|| TrainError::Run {
            path: run.path(omix_run::files::ENSEMBLE),
            message: "the ensemble lists no members".into(),
        })?;
        Ok(Self {
            members,
            combine,
            objective,
            encoder: schema.encoder(),
            schema,
            device: device.clone(),
            run: run.root().to_path_buf(),
        })
    }

    /// Average forward and reverse-complement predictions (the run's setting unless changed).
    pub fn set_average_strands(&mut self, average: bool) {
        self.members.iter_mut().for_each(|member| member.average_strands = average);
    }

    /// Whether predictions average both strands (an ensemble's: whether any member does).
    pub fn averages_strands(&self) -> bool {
        self.members.iter().any(|member| member.average_strands) && self.schema.channels() == 4
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

    /// The model's one-hot channels (4 for DNA and RNA).
    pub fn channels(&self) -> usize {
        self.schema.channels()
    }

    /// The schema the model was trained with (alphabet, ambiguity, length and its policy).
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Scores `[n, outputs]` (row-major) of sequences of the model's length (others are an error
    /// naming the first one).
    pub fn predict(&self, sequences: &[Vec<u8>]) -> Result<Vec<f64>, TrainError> {
        let values = self.encode(sequences.iter().map(Vec::as_slice), false)?;
        self.predict_one_hot(&values)
    }

    /// One-hot inputs `[n, channels, length]` of sequences, channel-major per sequence, with the
    /// run's encoder. With `fit`, lengths other than the model's are cropped or padded by the
    /// run's length policy (as `omix predict` does with a file); without, they are an error.
    pub fn encode<'a>(&self, sequences: impl IntoIterator<Item = &'a [u8]>, fit: bool) -> Result<Vec<f32>, TrainError> {
        let (channels, length) = (self.schema.channels(), self.schema.length);
        let block = channels * length;
        let mut values = Vec::new();
        for (k, sequence) in sequences.into_iter().enumerate() {
            let policy = if fit { self.schema.length_policy } else { omix_encode::LengthPolicy::Refuse };
            let fitted = omix_encode::fit_length(sequence, length, policy, self.schema.alphabet).map_err(|_| {
                TrainError::Config {
                    field: "data.length",
                    message: format!("sequence {k} has {} bases; the model reads {length}", sequence.len()),
                }
            })?;
            let start = values.len();
            values.resize(start + block, 0.0);
            self.encoder.encode_into(&fitted, &mut values[start..]).map_err(|error| TrainError::Config {
                field: "data.alphabet",
                message: format!("sequence {k}: {error}"),
            })?;
        }
        Ok(values)
    }

    /// Scores `[n, outputs]` (row-major) of one-hot inputs `[n, channels, length]`: the model's
    /// outputs through the run's output transform (probabilities, values), averaged with the
    /// reverse-complement prediction (both axes of each input flipped) when the run says so.
    pub fn predict_one_hot(&self, values: &[f32]) -> Result<Vec<f64>, TrainError> {
        let block = self.schema.channels() * self.schema.length;
        if block == 0 || !values.len().is_multiple_of(block) {
            return Err(TrainError::Config {
                field: "data.length",
                message: format!(
                    "{} input values are not a whole number of [{}, {}] inputs",
                    values.len(),
                    self.schema.channels(),
                    self.schema.length
                ),
            });
        }
        let mut per_member = Vec::with_capacity(self.members.len());
        for member in &self.members {
            let mut out = Vec::with_capacity(values.len() / block * self.outputs());
            let mut reversed = Vec::new();
            for chunk in values.chunks(PREDICT_CHUNK * block) {
                let forward = self.scores(member, chunk)?;
                if !(member.average_strands && self.schema.channels() == 4) {
                    out.extend(forward);
                    continue;
                }
                reversed.clear();
                for input in chunk.chunks(block) {
                    // With channels A, C, G, T (or U) the reverse complement reverses the whole block.
                    reversed.extend(input.iter().rev());
                }
                let reverse = self.scores(member, &reversed)?;
                out.extend(crate::evaluate::strand_mean(&forward, &reverse));
            }
            per_member.push(out);
        }
        Ok(crate::ensemble::combine_scores(&per_member, self.outputs().max(1), self.objective, self.combine))
    }

    /// Transformed outputs of one model on a batch of one-hot inputs.
    fn scores(&self, member: &SequenceModel, values: &[f32]) -> Result<Vec<f64>, TrainError> {
        let (channels, length) = (self.schema.channels(), self.schema.length);
        let n = values.len() / (channels * length).max(1);
        let logits = crate::evaluate::forward_dense(
            &member.model,
            member.fast.as_ref(),
            values,
            [n, channels, length],
            &self.device,
        )?;
        let width = logits.len() / n.max(1);
        let mut out = Vec::with_capacity(logits.len());
        for row in logits.chunks(width.max(1)) {
            self.objective.predictions(row, &mut out);
        }
        Ok(out)
    }
}

/// Sequences per forward pass of [`SequencePredictor::predict_one_hot`]: large enough to keep
/// every thread busy, small enough that a batch's activations stay in cache-sized pieces.
const PREDICT_CHUNK: usize = 1024;

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
