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

/// How well a latent space separates known classes, beside PCA with as many components.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EmbeddingScore {
    /// Neighbours per vote.
    pub k: usize,
    /// Cross-validation folds (stratified, seeded).
    pub folds: usize,
    /// Seed of the fold assignment.
    pub seed: u64,
    /// Examples scored.
    pub examples: usize,
    /// Latent dimensions (= PCA components).
    pub dimensions: usize,
    /// k-NN accuracy of the latent vectors, pooled over folds.
    pub latent_accuracy: f64,
    /// Per-fold accuracies of the latent vectors.
    pub latent_per_fold: Vec<f64>,
    /// k-NN accuracy of the PCA scores of the same inputs.
    pub pca_accuracy: f64,
    /// Per-fold accuracies of the PCA scores.
    pub pca_per_fold: Vec<f64>,
    /// Variance explained by each PCA component.
    pub pca_explained_variance_ratio: Vec<f64>,
    /// What the PCA was computed on.
    pub pca_inputs: String,
}

/// Cross-validated k-nearest-neighbour class accuracy of `latent` (`[examples, dimensions]`)
/// and of a PCA with as many components, fitted on all `indices` of the model's inputs
/// (standardised as the model sees them). `labels` are class indices of `indices`.
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
    let error = |e: omix_baseline::BaselineError| TrainError::Config { field: "baseline", message: e.to_string() };
    let (inputs, features) = pipeline.batch(dataset, indices, None).to_dense_rows();
    let rows: Vec<usize> = (0..indices.len()).collect();
    let pca = omix_baseline::Pca::fit(&inputs, features, &rows, dimensions.min(features)).map_err(error)?;
    let projected = pca.transform_rows(&inputs).map_err(error)?;
    let metric = omix_baseline::Metric::Euclidean;
    let ours = omix_baseline::knn_cv_accuracy(latent, dimensions, labels, k, folds, seed, metric).map_err(error)?;
    let theirs =
        omix_baseline::knn_cv_accuracy(&projected, pca.dimensions(), labels, k, folds, seed, metric).map_err(error)?;
    Ok(EmbeddingScore {
        k,
        folds,
        seed,
        examples: labels.len(),
        dimensions,
        latent_accuracy: ours.accuracy,
        latent_per_fold: ours.per_fold,
        pca_accuracy: theirs.accuracy,
        pca_per_fold: theirs.per_fold,
        pca_explained_variance_ratio: pca.explained_variance_ratio,
        pca_inputs: if pipeline.state().standardizer.is_some() {
            "the same inputs, standardised as the model sees them".into()
        } else {
            "the same inputs".into()
        },
    })
}

impl EmbeddingScore {
    /// Lines for terminals.
    pub fn lines(&self) -> Vec<String> {
        vec![
            format!(
                "{}-nearest-neighbour class accuracy ({}-fold cross-validation over {} examples):",
                self.k, self.folds, self.examples
            ),
            format!("  autoencoder latent ({} dimensions)  {:.4}", self.dimensions, self.latent_accuracy),
            format!("  PCA ({} components of {})  {:.4}", self.dimensions, self.pca_inputs, self.pca_accuracy),
        ]
    }
}
