//! What a profile run (BPNet, ChromBPNet) writes for the report beside its metrics: example
//! regions' observed and predicted profiles, and marginal footprints of named motifs.

use serde::{Deserialize, Serialize};

/// `profile_examples.json`: observed and predicted profiles of a few regions of a held-out split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileExamples {
    /// Which split the regions come from (`test`, or `validation` when no region is on a test
    /// chromosome).
    pub split: String,
    /// Track names, one per task and strand (`task.plus`, `task.minus`, or `task`).
    pub tracks: Vec<String>,
    /// Bases per profile (the output window).
    pub output_length: usize,
    /// How the regions were chosen, for the report.
    pub chosen: String,
    /// The regions.
    pub examples: Vec<ProfileExample>,
}

/// One region's profiles, per track: counts per base over the output window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileExample {
    /// Contig.
    pub chrom: String,
    /// 0-based start of the output window.
    pub start: u64,
    /// A peak (or a background region).
    pub peak: bool,
    /// Observed counts per base, per track.
    pub observed: Vec<Vec<f32>>,
    /// Predicted expected counts per base, per track (for ChromBPNet, TF and bias models together:
    /// what the data look like).
    pub predicted: Vec<Vec<f32>>,
    /// ChromBPNet: the bias-corrected prediction (the TF model alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected: Option<Vec<Vec<f32>>>,
    /// Jensen–Shannon distance between the observed and predicted profile, per task.
    pub jsd: Vec<f64>,
}

/// `footprints.json`: each motif inserted at the centre of background sequences, and the average
/// change of the predicted profile it causes (chrombpnet's marginal footprints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Footprints {
    /// Background sequences the motifs were inserted into.
    pub sequences: usize,
    /// Track names, as in [`ProfileExamples::tracks`].
    pub tracks: Vec<String>,
    /// Position of each profile's first value relative to the motif's centre (negative: upstream).
    pub first_offset: i64,
    /// The motifs.
    pub motifs: Vec<Footprint>,
}

/// One motif's marginal footprint: per track and base, the mean predicted expected count with the
/// motif inserted minus without it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Footprint {
    /// The motif's name.
    pub name: String,
    /// The inserted sequence.
    pub sequence: String,
    /// The profile model (for ChromBPNet the bias-corrected TF model).
    pub model: Vec<Vec<f32>>,
    /// ChromBPNet: TF and bias models together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_bias: Option<Vec<Vec<f32>>>,
    /// ChromBPNet: the bias model alone (it should not respond to TF motifs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<Vec<Vec<f32>>>,
    /// Mean change of the predicted log count (natural log) per task: the model (corrected).
    pub model_log_count_change: Vec<f64>,
    /// ChromBPNet: the same for TF and bias models together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_bias_log_count_change: Option<Vec<f64>>,
    /// ChromBPNet: the same for the bias model alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias_log_count_change: Option<Vec<f64>>,
}
