//! Latent representations from a trained autoencoder.

use burn::prelude::*;
use omix_data::Dataset;
use omix_models::{Model, ModelInput};

use crate::TrainError;
use crate::inputs::InputPipeline;

/// The latent vectors `[examples, latent]` (row-major) of the given examples, and the latent size.
///
/// The model must be an autoencoder in validation mode (`model.valid()`).
pub fn embed(
    model: &Model,
    pipeline: &InputPipeline,
    dataset: &Dataset,
    indices: &[usize],
    batch_size: usize,
    device: &Device,
) -> Result<(Vec<f32>, usize), TrainError> {
    let mut latent = Vec::new();
    let mut width = 0;
    for chunk in indices.chunks(batch_size.max(1)) {
        let input = match pipeline.batch(dataset, chunk, None).to_model_input(device) {
            ModelInput::Dense(x) => x,
            ModelInput::Sparse(x) => x.to_dense(),
        };
        let Some(encoded) = model.encode(input) else {
            return Err(TrainError::Config {
                field: "model",
                message: "only autoencoders (kind = \"autoencoder\" or \"conv_autoencoder\") have a latent space to embed into"
                    .into(),
            });
        };
        width = encoded.dims()[1];
        let values: Vec<f32> = crate::evaluate::read_back(encoded)?;
        latent.extend(values);
    }
    Ok((latent, width))
}

pub use omix_baseline::EmbeddingScore;

/// Cross-validated k-nearest-neighbour class accuracy of `latent` (`[examples, dimensions]`)
/// and of a PCA with as many components, fitted on all `indices` of the model's inputs
/// (standardised as the model sees them); `labels` are class indices of `indices`
/// ([`omix_baseline::score_embedding`] on the model's inputs).
#[allow(clippy::too_many_arguments)]
pub fn score_embedding(
    pipeline: &InputPipeline,
    dataset: &Dataset,
    indices: &[usize],
    latent: &[f32],
    dimensions: usize,
    labels: &[usize],
    k: usize,
    folds: usize,
    seed: u64,
) -> Result<EmbeddingScore, TrainError> {
    let (inputs, features) = pipeline.batch(dataset, indices, None).to_dense_rows();
    let pca_inputs = if pipeline.state().standardizer.is_some() {
        "the same inputs, standardised as the model sees them"
    } else {
        "the same inputs"
    };
    omix_baseline::score_embedding(&inputs, features, latent, dimensions, labels, k, folds, seed, pca_inputs)
        .map_err(|e| TrainError::Config { field: "baseline", message: e.to_string() })
}
