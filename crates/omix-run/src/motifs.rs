//! The serde types of `explain/patterns.json`: motifs discovered from attributions (`omix
//! motifs`, or `omix explain --discover-motifs`), read by the report's "Discovered motifs"
//! section. Every field a later version might add is optional, so older files still read.
//!
//! Matrices are row-major, `[position][letter]`, letters in the order of
//! [`DiscoveredMotifs::alphabet`], trimmed to the pattern's core.

use serde::{Deserialize, Serialize};

use crate::explain::FilterMatch;

/// Everything a motif discovery found.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct DiscoveredMotifs {
    /// The alphabet's letters in column order, `"ACGT"`.
    pub alphabet: String,
    /// The attribution files searched, e.g. `"ohe.npz + shap.npz"`.
    pub source: String,
    /// Sequences searched.
    pub sequences: usize,
    /// Positions per sequence.
    pub length: usize,
    /// The motif database the patterns were compared with.
    pub database: String,
    /// How patterns were compared with it (e.g. `"Tomtom complete scores, Pearson correlation,
    /// both strands"`).
    pub comparison: String,
    /// The largest E-value presented as a match (every match stays in `pattern_matches.tsv`).
    pub max_e_value: Option<f64>,
    /// How seqlets were called.
    pub seqlets: SeqletSummary,
    /// How seqlets were clustered, in words.
    pub clustering: String,
    /// The patterns, positive ones first, each sign by seqlet count.
    pub patterns: Vec<DiscoveredPattern>,
    /// Seconds the discovery took (seqlets, clustering, comparison).
    pub seconds: Option<f64>,
}

/// How seqlets were called.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct SeqletSummary {
    /// Positive seqlets called.
    pub positive: usize,
    /// Negative seqlets called (none overlap a positive one).
    pub negative: usize,
    /// The estimated false discovery rate targeted.
    pub target_fdr: f64,
    /// The p-value threshold chosen for positive seqlets (none: no threshold reached the target).
    pub positive_threshold: Option<f64>,
    /// The p-value threshold chosen for negative seqlets.
    pub negative_threshold: Option<f64>,
    /// The control the false discovery rate was estimated from, in words.
    pub control: String,
    /// Shortest and longest seqlet.
    pub min_length: usize,
    /// Longest seqlet.
    pub max_length: usize,
}

/// One pattern: a contribution weight matrix and a frequency matrix with its seqlets.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct DiscoveredPattern {
    /// `pos_1`, `pos_2`, … then `neg_1`, … (as in `patterns.meme` and `patterns.tsv`).
    pub id: String,
    /// `"positive"` or `"negative"`.
    pub sign: String,
    /// Seqlets in the pattern.
    pub seqlets: usize,
    /// Of those, seqlets read on the forward strand.
    pub forward: usize,
    /// Of those, seqlets read on the reverse strand.
    pub reverse: usize,
    /// Most frequent letter per position (`N` where none has half the sites).
    pub consensus: String,
    /// Mean contribution of the observed bases (the CWM), `[width][alphabet]`.
    pub contribution: Vec<Vec<f64>>,
    /// Mean hypothetical contribution, `[width][alphabet]`.
    pub hypothetical: Vec<Vec<f64>>,
    /// Letter probabilities of the sites (the PFM), `[width][alphabet]`.
    pub probabilities: Vec<Vec<f64>>,
    /// Database motifs similar to the PFM, most significant first.
    pub matches: Vec<FilterMatch>,
    /// The strongest sites.
    pub examples: Vec<PatternSite>,
}

/// One site of a pattern.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct PatternSite {
    /// The sequence: its 0-based row in the input arrays.
    pub sequence_index: usize,
    /// First position of the trimmed site (0-based).
    pub start: usize,
    /// One past its last position.
    pub end: usize,
    /// `"+"` or `"-"`: the strand the pattern reads.
    pub strand: String,
    /// The site's bases on that strand.
    pub sequence: String,
    /// The seqlet's summed attribution.
    pub attribution: f64,
}

impl DiscoveredMotifs {
    /// The largest E-value presented as a match.
    pub fn match_threshold(&self) -> f64 {
        self.max_e_value.unwrap_or(crate::explain::DEFAULT_MAX_E_VALUE)
    }
}
