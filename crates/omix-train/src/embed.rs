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
        let values: Vec<f32> = encoded.into_data().try_into_vec().unwrap_or_default();
        latent.extend(values);
    }
    Ok((latent, width))
}
