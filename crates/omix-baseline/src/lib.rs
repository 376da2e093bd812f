//! Simple models beside the deep ones: the "simple first" baselines omix fits next to every
//! deep model, and the statistics to compare them.
//!
//! - [`LogisticConfig::fit`]: L2-regularised logistic regression (binary, multinomial,
//!   one-vs-rest multi-label) on dense or sparse (CSR) features, by L-BFGS on
//!   scikit-learn's `lbfgs` objective; [`fit_with_validation`] picks `C` on a validation set.
//! - [`Pca::fit`]: principal components by an exact symmetric eigen-decomposition.
//! - [`knn_cv_accuracy`]: cross-validated k-nearest-neighbour accuracy of an embedding.
//! - [`paired_bootstrap`]: percentile interval and p-value of a metric difference between two
//!   models on one test set.
//!
//! Everything is deterministic: the same input (and seed) gives the same output, whatever the
//! number of threads.
//!
//! ```
//! use omix_baseline::{Design, Examples, LogisticConfig, Pca, Targets, paired_bootstrap};
//!
//! # fn main() -> Result<(), omix_baseline::BaselineError> {
//! // Four examples, two features; the label follows the first feature.
//! let features = [0.0f32, 1.0, 1.0, 0.0, 0.2, 0.9, 0.9, 0.3];
//! let labels = [false, true, false, true];
//! let design = Design::Dense { values: &features, width: 2 };
//! let model = LogisticConfig::default().fit(&Examples::new(design, Targets::Binary(&labels)))?;
//! assert!(model.converged());
//! let p = model.predict_proba(&design)?; // P(true) per example
//! assert!(p[1] > 0.5 && p[0] < 0.5);
//!
//! // The same rows as a sparse (CSR) matrix give the same model.
//! let sparse = Design::Sparse {
//!     row_offsets: &[0, 1, 2, 4, 6],
//!     indices: &[1, 0, 0, 1, 0, 1],
//!     values: &[1.0, 1.0, 0.2, 0.9, 0.9, 0.3],
//!     width: 2,
//! };
//! let same = LogisticConfig::default().fit(&Examples::new(sparse, Targets::Binary(&labels)))?;
//! assert!((same.coefficients[0] - model.coefficients[0]).abs() < 1e-9);
//!
//! // First principal component of the four rows.
//! let pca = Pca::fit(&features, 2, &[0, 1, 2, 3], 1)?;
//! assert_eq!(pca.transform(&[0.5, 0.5])?.len(), 1);
//!
//! // Is the model more accurate than always answering `true`?
//! let right_model: Vec<bool> = p.iter().zip(&labels).map(|(&p, &l)| (p > 0.5) == l).collect();
//! let interval = paired_bootstrap(4, 200, 42, 0.95, |rows| {
//!     let n = rows.len() as f64;
//!     let a = rows.iter().filter(|&&i| right_model[i]).count() as f64 / n;
//!     let b = rows.iter().filter(|&&i| labels[i]).count() as f64 / n;
//!     Some((a, b))
//! })?;
//! assert_eq!(interval.difference, 0.5);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod bootstrap;
mod comparison;
mod eigen;
mod embedding;
mod error;
mod gram;
mod knn;
mod lbfgs;
mod logistic;
mod pca;
mod ridge;

pub use bootstrap::{BootstrapInterval, paired_bootstrap};
pub use comparison::{CONFIDENCE, Comparison, RESAMPLES, compare};
pub use embedding::{EmbeddingScore, score_embedding};
pub use error::BaselineError;
pub use gram::gram_route_bytes;
pub use knn::{KnnReport, Metric, knn_accuracy_with_folds, knn_cv_accuracy, stratified_folds};
pub use logistic::{
    DEFAULT_C_GRID, Design, Examples, LogisticConfig, LogisticRegression, ModelKind, SolverReport, Targets,
    ValidatedLogistic, balanced_weights, fit_with_validation,
};
pub use pca::Pca;
pub use ridge::{RIDGE_GRID, Ridge};
