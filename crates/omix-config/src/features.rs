//! The `[features]` table: engineered features for dense networks.

use std::path::PathBuf;

use omix_features::KmerConfig;
use serde::{Deserialize, Serialize};

/// Engineered features for dense networks (the `[features]` table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum FeatureConfig {
    /// k-mer counts or frequencies of each sequence (sparse).
    Kmer(KmerConfig),
    /// Per motif, the best and the summed log-odds score over both strands.
    Pwm(PwmFeatureConfig),
    /// The rows of a numeric matrix input (`format = "matrix"`).
    Matrix(MatrixFeatureConfig),
}

/// PWM-scan feature settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PwmFeatureConfig {
    /// A MEME-format motif file (e.g. JASPAR's CORE vertebrates non-redundant set).
    pub motifs: PathBuf,
    /// Pseudocount added to each motif column, in units of the background (default 0.1).
    #[serde(default = "default_pseudocount")]
    pub pseudocount: f64,
    /// Standardise each feature (mean 0, s.d. 1 on the training split).
    #[serde(default = "yes")]
    pub standardize: bool,
}

/// Matrix input settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixFeatureConfig {
    /// Standardise each column (mean 0, s.d. 1 on the training split).
    #[serde(default = "yes")]
    pub standardize: bool,
}

impl Default for MatrixFeatureConfig {
    fn default() -> Self {
        Self { standardize: true }
    }
}

fn default_pseudocount() -> f64 {
    0.1
}
fn yes() -> bool {
    true
}
