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

/// How long one method took on one head.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MethodTiming {
    /// The method: `gradient_x_input`, `deeplift_shap` or `ism`.
    pub method: String,
    /// Seconds in all.
    pub seconds: f64,
    /// Seconds per 100 windows.
    pub seconds_per_100_windows: f64,
}

/// One head's results in the summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileHeadSummary {
    /// `counts` or `profile`.
    pub head: String,
    /// Time each method took.
    pub timings: Vec<MethodTiming>,
    /// DeepLIFT/SHAP: the largest `|Σ (x − r) · m − (f(x) − f(r))|` over every pair.
    pub convergence: Option<f64>,
    /// DeepLIFT/SHAP: windows with a pair above the warning threshold (1e-3).
    pub above_tolerance: usize,
    /// The hypothetical contributions TF-MoDISco reads (`<head>_shap.npz`).
    pub shap_file: Option<String>,
    /// Logos written, by window.
    pub logos: Vec<String>,
}

/// `explain/profile_explain.json`: what `omix explain` computed on a profile run (written by
/// `omix_explain::explain_profile_run`, read by the report).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileExplainSummary {
    /// `BPNet`, or ChromBPNet's bias-corrected TF model.
    pub model: String,
    /// The task explained.
    pub task: String,
    /// Which windows: held-out peaks of a split, or a BED file.
    pub regions_from: String,
    /// Windows explained.
    pub regions: usize,
    /// Input window length.
    pub input_length: usize,
    /// Methods computed (as [`MethodTiming::method`] names them).
    pub methods: Vec<String>,
    /// What the profile head is.
    pub profile_head: String,
    /// DeepLIFT/SHAP references per window and their kind.
    pub references: Option<String>,
    /// Seed of shuffled references.
    pub seed: u64,
    /// Per head.
    pub heads: Vec<ProfileHeadSummary>,
    /// The arrays written (`float32`, under `arr_0`).
    pub arrays: Vec<NpzArray>,
    /// Files written, relative to the folder.
    pub files: Vec<String>,
    /// When the run is an ensemble of profile runs: its members, whose attributions (and
    /// predicted log counts) were averaged, and how it combines them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<crate::explain::EnsembleAttribution>,
}

/// One `.npz` file written and its array's shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NpzArray {
    /// The file, relative to the folder.
    pub file: String,
    /// The shape of `arr_0`.
    pub shape: Vec<usize>,
}
