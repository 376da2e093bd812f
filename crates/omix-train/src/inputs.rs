//! From examples to model inputs: one-hot sequences, matrix rows, k-mer counts or PWM scores.
//!
//! The pipeline is fitted once on the training split (standardisation statistics), stored in
//! the run folder (`features.json`, plus the motif file for PWM features) and rebuilt from there
//! for evaluation and prediction, so new data goes through exactly the same steps.

use std::path::Path;

use burn::prelude::*;
use omix_data::{Dataset, Split};
use omix_features::{KmerFeaturizer, PwmScanner, Standardizer};
use omix_models::{ModelInput, SparseInput};
use omix_motif::{MotifSet, read_meme};
use serde::{Deserialize, Serialize};

use crate::TrainError;
pub use omix_config::{FeatureConfig, MatrixFeatureConfig, PwmFeatureConfig};

/// What is stored in the run folder to rebuild a pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineState {
    /// The feature settings (None: one-hot sequences).
    pub features: Option<FeatureConfig>,
    /// Standardisation statistics fitted on the training split.
    pub standardizer: Option<Standardizer>,
}

/// File name of the motif copy kept in the run folder.
pub const MOTIF_COPY: &str = omix_run::files::MOTIF_COPY;

/// A batch of model inputs, row-major, before it becomes a tensor.
#[derive(Debug, Clone)]
pub enum BatchInput {
    /// `[batch, channels, length]` values (feature vectors have length 1).
    Dense {
        /// The values.
        values: Vec<f32>,
        /// `[batch, channels, length]`.
        shape: [usize; 3],
    },
    /// CSR feature vectors.
    Sparse {
        /// Row offsets `[batch + 1]`.
        offsets: Vec<usize>,
        /// Column indices `[nnz]`.
        indices: Vec<u32>,
        /// Values `[nnz]`.
        values: Vec<f32>,
        /// Number of columns.
        width: usize,
    },
}

impl BatchInput {
    /// Number of examples.
    pub fn len(&self) -> usize {
        match self {
            BatchInput::Dense { shape, .. } => shape[0],
            BatchInput::Sparse { offsets, .. } => offsets.len().saturating_sub(1),
        }
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The batch as a model input on a device.
    pub fn to_model_input(&self, device: &Device) -> ModelInput {
        match self {
            BatchInput::Dense { values, shape } => {
                ModelInput::Dense(Tensor::<3>::from_data(TensorData::new(values.clone(), *shape), device))
            }
            BatchInput::Sparse { offsets, indices, values, width } => {
                match SparseInput::from_csr(offsets, indices, values, *width, device) {
                    Ok(sparse) => ModelInput::Sparse(sparse),
                    // The featurisers always give valid CSR; were it not, the dense rows are the same batch.
                    Err(_) => {
                        let (rows, width) = self.to_dense_rows();
                        ModelInput::Dense(Tensor::<3>::from_data(TensorData::new(rows, [self.len(), width, 1]), device))
                    }
                }
            }
        }
    }

    /// The batch as dense row-major values `[batch, features]` (sparse rows expanded).
    pub fn to_dense_rows(&self) -> (Vec<f32>, usize) {
        match self {
            BatchInput::Dense { values, shape } => (values.clone(), shape[1] * shape[2]),
            BatchInput::Sparse { offsets, indices, values, width } => {
                let mut dense = vec![0.0; offsets.len().saturating_sub(1) * width];
                for (row, window) in offsets.windows(2).enumerate() {
                    for k in window[0]..window[1] {
                        dense[row * width + indices[k] as usize] += values[k];
                    }
                }
                (dense, *width)
            }
        }
    }
}

enum Stage {
    OneHot,
    Matrix,
    Kmer(Box<KmerFeaturizer>),
    Pwm(Box<PwmScanner>),
}

/// PWM features of every example of one data set, computed once: scanning hundreds of motifs
/// costs ~1 ms per sequence, too much to repeat every epoch. The features are strand-symmetric
/// (the scan covers both strands), so one copy serves both strands.
struct FeatureCache {
    /// Address of the data set the rows belong to, to refuse another one.
    dataset: usize,
    examples: usize,
    rows: Vec<f32>,
}

/// Turns examples of a data set into model inputs.
pub struct InputPipeline {
    stage: Stage,
    state: PipelineState,
    channels: usize,
    length: usize,
    cache: Option<FeatureCache>,
}

impl std::fmt::Debug for InputPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputPipeline")
            .field("state", &self.state)
            .field("channels", &self.channels)
            .field("length", &self.length)
            .finish()
    }
}

fn feature_error(field: &'static str, error: impl std::fmt::Display) -> TrainError {
    TrainError::Config { field, message: error.to_string() }
}

impl InputPipeline {
    /// Build the pipeline for a data set, fitting standardisation on its training split.
    /// `motif_dir` resolves a relative motif path (None: as given).
    pub fn fit(features: Option<&FeatureConfig>, dataset: &Dataset) -> Result<Self, TrainError> {
        let features = match (features, dataset.schema.is_sequence()) {
            (None, false) => Some(FeatureConfig::Matrix(MatrixFeatureConfig::default())),
            (features, _) => features.cloned(),
        };
        let mut pipeline = Self::build(PipelineState { features, standardizer: None }, dataset, None)?;
        pipeline.cache_features(dataset);
        let standardize = match &pipeline.state.features {
            Some(FeatureConfig::Pwm(config)) => config.standardize,
            Some(FeatureConfig::Matrix(config)) => config.standardize,
            _ => false,
        };
        if standardize {
            let train = dataset.indices(Split::Train);
            let mut values = Vec::with_capacity(train.len() * pipeline.channels);
            for chunk in train.chunks(1024) {
                let (rows, _) = pipeline.batch(dataset, chunk, None).to_dense_rows();
                values.extend_from_slice(&rows);
            }
            let standardizer = Standardizer::fit(&values, pipeline.channels, 0..train.len())
                .map_err(|e| feature_error("features", e))?;
            pipeline.state.standardizer = Some(standardizer);
        }
        Ok(pipeline)
    }

    /// Rebuild a stored pipeline; `run_dir` holds the motif copy for PWM features.
    pub fn restore(state: PipelineState, dataset: &Dataset, run_dir: &Path) -> Result<Self, TrainError> {
        Self::build(state, dataset, Some(run_dir))
    }

    fn build(state: PipelineState, dataset: &Dataset, run_dir: Option<&Path>) -> Result<Self, TrainError> {
        let schema = &dataset.schema;
        let (stage, channels, length) = match (&state.features, schema.is_sequence()) {
            (None, true) => (Stage::OneHot, schema.channels(), schema.length),
            (Some(FeatureConfig::Matrix(_)), false) => (Stage::Matrix, schema.channels(), 1),
            (Some(FeatureConfig::Kmer(config)), true) => {
                let featurizer =
                    KmerFeaturizer::new(*config, schema.alphabet).map_err(|e| feature_error("features", e))?;
                let dimension = featurizer.dimension();
                (Stage::Kmer(Box::new(featurizer)), dimension, 1)
            }
            (Some(FeatureConfig::Pwm(config)), true) => {
                let path = match run_dir {
                    Some(dir) => dir.join(MOTIF_COPY),
                    None => config.motifs.clone(),
                };
                let motifs = read_meme(&path).map_err(|e| feature_error("features.motifs", e))?;
                let scanner = pwm_scanner(&motifs, config.pseudocount)?;
                scanner.check_length(schema.length).map_err(|e| feature_error("features.motifs", e))?;
                let dimension = scanner.dimension();
                (Stage::Pwm(Box::new(scanner)), dimension, 1)
            }
            (Some(FeatureConfig::Matrix(_)), true) => {
                return Err(TrainError::Config {
                    field: "features",
                    message: "kind = \"matrix\" needs a numeric matrix input ([data] format = \"matrix\")".into(),
                });
            }
            (Some(_), false) => {
                return Err(TrainError::Config {
                    field: "features",
                    message: "k-mer and PWM features are computed from sequences; this input is a numeric matrix"
                        .into(),
                });
            }
            (None, false) => (Stage::Matrix, schema.channels(), 1),
        };
        Ok(Self { stage, state, channels, length, cache: None })
    }

    /// Compute the PWM features of every example of `dataset` once (other stages are cheap and
    /// are computed per batch).
    pub fn cache_features(&mut self, dataset: &Dataset) {
        let Stage::Pwm(scanner) = &self.stage else {
            return;
        };
        let sequences: Vec<&[u8]> = dataset.examples.iter().map(|e| e.sequence.as_slice()).collect();
        let rows = scanner.scan_batch(&sequences);
        self.cache = Some(FeatureCache {
            dataset: std::ptr::from_ref(dataset) as usize,
            examples: dataset.examples.len(),
            rows,
        });
    }

    /// What to store in the run folder.
    pub fn state(&self) -> &PipelineState {
        &self.state
    }

    /// The motif file to copy into the run folder, for PWM features.
    pub fn motif_file(&self) -> Option<&Path> {
        match &self.state.features {
            Some(FeatureConfig::Pwm(config)) => Some(&config.motifs),
            _ => None,
        }
    }

    /// Model input `[channels, length]` per example.
    pub fn shape(&self) -> (usize, usize) {
        (self.channels, self.length)
    }

    /// The model's input shape: `[channels, length]` per example, and its number of outputs
    /// (for autoencoders, the flattened input).
    pub fn input_shape(&self, schema: &omix_data::Schema, model: &omix_models::ModelConfig) -> omix_models::InputShape {
        let outputs = if model.is_autoencoder() { self.channels * self.length } else { schema.outputs() };
        omix_models::InputShape { channels: self.channels, length: self.length, outputs }
    }

    /// Whether inputs are one-hot sequences.
    pub fn is_one_hot(&self) -> bool {
        matches!(self.stage, Stage::OneHot)
    }

    /// A short description for logs.
    pub fn describe(&self) -> String {
        let standardized = if self.state.standardizer.is_some() { ", standardised on the training split" } else { "" };
        match &self.stage {
            Stage::OneHot => format!("one-hot sequences [{} × {}]", self.channels, self.length),
            Stage::Matrix => format!("matrix rows ({} features{standardized})", self.channels),
            Stage::Kmer(featurizer) => {
                let config = featurizer.config();
                format!(
                    "{}-mer {} ({} features{}{}, sparse)",
                    config.k,
                    match config.normalize {
                        omix_features::KmerNormalize::Counts => "counts",
                        omix_features::KmerNormalize::Frequency => "frequencies",
                    },
                    self.channels,
                    if config.canonical { ", reverse-complement canonical" } else { "" },
                    if config.gap > 0 { format!(", gap {}", config.gap) } else { String::new() }
                )
            }
            Stage::Pwm(_) => {
                format!("PWM scan: max and summed log-odds per motif ({} features{standardized})", self.channels)
            }
        }
    }

    fn cached(&self, dataset: &Dataset) -> bool {
        self.cache.as_ref().is_some_and(|cache| {
            cache.dataset == std::ptr::from_ref(dataset) as usize && cache.examples == dataset.examples.len()
        })
    }

    /// Inputs of the given examples; `reverse` flags examples to take on the reverse strand.
    pub fn batch(&self, dataset: &Dataset, indices: &[usize], reverse: Option<&[bool]>) -> BatchInput {
        let strand = |i: usize| reverse.is_some_and(|flags| flags.get(i).copied().unwrap_or(false));
        let sequences = || -> Vec<std::borrow::Cow<'_, [u8]>> {
            indices
                .iter()
                .enumerate()
                .map(|(i, &index)| {
                    let sequence = dataset.examples[index].sequence.as_slice();
                    if strand(i) && dataset.schema.channels() == 4 {
                        std::borrow::Cow::Owned(omix_encode::reverse_complement(sequence, dataset.schema.alphabet))
                    } else {
                        std::borrow::Cow::Borrowed(sequence)
                    }
                })
                .collect()
        };
        let mut input = match &self.stage {
            Stage::OneHot => {
                let mut buffer = Vec::new();
                let encoder = dataset.schema.encoder();
                match reverse {
                    Some(flags) => dataset.encode_batch_stranded(indices, flags, &encoder, &mut buffer),
                    None => dataset.encode_batch(indices, &encoder, &mut buffer),
                }
                BatchInput::Dense { values: buffer, shape: [indices.len(), self.channels, self.length] }
            }
            Stage::Matrix => {
                let mut values = Vec::with_capacity(indices.len() * self.channels);
                for &index in indices {
                    values.extend_from_slice(&dataset.examples[index].values);
                }
                BatchInput::Dense { values, shape: [indices.len(), self.channels, 1] }
            }
            Stage::Kmer(featurizer) => {
                let owned = sequences();
                let borrowed: Vec<&[u8]> = owned.iter().map(|s| s.as_ref()).collect();
                let batch = featurizer.featurize_batch(&borrowed);
                BatchInput::Sparse {
                    offsets: batch.row_offsets,
                    indices: batch.indices,
                    values: batch.values,
                    width: batch.dimension,
                }
            }
            Stage::Pwm(_) if self.cached(dataset) => {
                let mut values = Vec::with_capacity(indices.len() * self.channels);
                if let Some(cache) = &self.cache {
                    for &index in indices {
                        values.extend_from_slice(&cache.rows[index * self.channels..(index + 1) * self.channels]);
                    }
                }
                BatchInput::Dense { values, shape: [indices.len(), self.channels, 1] }
            }
            Stage::Pwm(scanner) => {
                let owned = sequences();
                let borrowed: Vec<&[u8]> = owned.iter().map(|s| s.as_ref()).collect();
                let values = scanner.scan_batch(&borrowed);
                BatchInput::Dense { values, shape: [indices.len(), self.channels, 1] }
            }
        };
        if let (Some(standardizer), BatchInput::Dense { values, .. }) = (&self.state.standardizer, &mut input) {
            for row in values.chunks_mut(self.channels.max(1)) {
                // Rows have the fitted width by construction, so this cannot fail.
                let _ = standardizer.transform_in_place(row);
            }
        }
        input
    }
}

fn pwm_scanner(motifs: &MotifSet, pseudocount: f64) -> Result<PwmScanner, TrainError> {
    PwmScanner::new(&motifs.motifs, &motifs.background, pseudocount).map_err(|e| feature_error("features", e))
}
