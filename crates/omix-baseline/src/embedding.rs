//! How well a latent space separates known classes: cross-validated k-nearest-neighbour accuracy
//! of the latent vectors beside a PCA with as many components of the same inputs.

use serde::{Deserialize, Serialize};

use crate::{BaselineError, Metric, Pca, knn_cv_accuracy};

/// How well a latent space separates known classes, beside PCA with as many components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Score `latent` (`[examples, dimensions]`) against a PCA with as many components fitted on
/// `inputs` (`[examples, features]`, row-major); `labels` are class indices, `pca_inputs` says
/// what the inputs are (for the record).
#[allow(clippy::too_many_arguments)]
pub fn score_embedding(
    inputs: &[f32],
    features: usize,
    latent: &[f32],
    dimensions: usize,
    labels: &[usize],
    k: usize,
    folds: usize,
    seed: u64,
    pca_inputs: &str,
) -> Result<EmbeddingScore, BaselineError> {
    let rows: Vec<usize> = (0..labels.len()).collect();
    let pca = Pca::fit(inputs, features, &rows, dimensions.min(features))?;
    let projected = pca.transform_rows(inputs)?;
    let metric = Metric::Euclidean;
    let ours = knn_cv_accuracy(latent, dimensions, labels, k, folds, seed, metric)?;
    let theirs = knn_cv_accuracy(&projected, pca.dimensions(), labels, k, folds, seed, metric)?;
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
        pca_inputs: pca_inputs.into(),
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
