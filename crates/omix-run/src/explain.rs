//! The serde types of `RUN/explain/explain.json`, written by `omix explain` and read by the
//! report's motif and attribution sections.
//!
//! Matrices are row-major: `probabilities[position][letter]` and `scores[position][letter]`,
//! letters in the order of [`ExplainSummary::alphabet`].

use serde::{Deserialize, Serialize};

/// The E-value threshold of a match when a file does not say (0.05 expected chance matches per
/// filter).
pub const DEFAULT_MAX_E_VALUE: f64 = 0.05;

impl ExplainSummary {
    /// The largest E-value this summary presents as a match.
    pub fn match_threshold(&self) -> f64 {
        self.max_e_value.unwrap_or(DEFAULT_MAX_E_VALUE)
    }
}

/// Everything `omix explain` found about one trained sequence model.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ExplainSummary {
    /// The alphabet's letters in column order, `"ACGT"` or `"ACGU"`.
    pub alphabet: String,
    /// Which output (class or task) was explained, e.g. `"1"` or `"bound"`.
    pub output: String,
    /// The attribution methods that were run, e.g. `["saliency", "gradient_x_input", "ism"]`.
    pub methods: Vec<String>,
    /// The motif database the filters were compared with, e.g.
    /// `"JASPAR 2024 CORE vertebrates non-redundant (879 motifs)"`.
    pub database: Option<String>,
    /// How filters were compared with the database, e.g. `"Tomtom complete scores, Pearson
    /// correlation, both strands"` (absent in files of older omix versions).
    #[serde(default)]
    pub comparison: Option<String>,
    /// The largest E-value presented as a match in summaries and the report (matches above it
    /// stay in `matches.tsv`); absent in older files, which are read with
    /// [`DEFAULT_MAX_E_VALUE`].
    #[serde(default)]
    pub max_e_value: Option<f64>,
    /// The learned first-layer filters as motifs, best first.
    pub filters: Vec<FilterMotif>,
    /// Attribution tracks of the highest-scoring test sequences.
    pub tracks: Vec<AttributionTrack>,
    /// What each track's `score` is: `"probability"` (classifiers: the explained class's or
    /// task's probability, as in `test_predictions.tsv`) or `"prediction"` (regression). Absent
    /// from files of earlier versions, whose multi-class scores were logits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_name: Option<String>,
    /// How well pairs of methods agree on per-position importance.
    pub agreement: Vec<MethodAgreement>,
    /// DeepLIFT/SHAP's largest summation-to-delta deviation over every sequence and reference,
    /// `|Σ attributions − (f(x) − f(reference))|`, when it ran (absent in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convergence: Option<f64>,
    /// When the run is an ensemble (`omix ensemble`): its members, whose attributions were
    /// averaged, and how it combines them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<EnsembleAttribution>,
}

/// Attributions of an ensemble: the mean of its members' attributions.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct EnsembleAttribution {
    /// The members whose attributions were averaged, as the ensemble lists them (`members/01`, ...).
    pub members: Vec<String>,
    /// How the ensemble combines its members' predictions.
    pub combine: crate::Combine,
    /// What the averaged attributions are an attribution of, in words.
    pub rule: String,
}

/// One first-layer filter turned into a motif from the sequences that activate it most.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct FilterMotif {
    /// The filter's index in the first convolution layer (0-based).
    pub index: usize,
    /// The number of activating sites the motif was built from.
    pub sites: usize,
    /// The motif's information content in bits (summed over positions).
    pub information_content: f64,
    /// The largest activation of the filter over the sequences scanned.
    pub max_activation: f64,
    /// Letter probabilities, `[width][alphabet]`.
    pub probabilities: Vec<Vec<f64>>,
    /// Database motifs similar to this one, most significant first.
    pub matches: Vec<FilterMatch>,
}

/// A database motif similar to a learned filter (Tomtom-style comparison).
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct FilterMatch {
    /// The database motif's id, e.g. `"MA0062.3"`.
    pub target_id: String,
    /// The database motif's name, e.g. `"GABPA"`.
    pub target_name: Option<String>,
    /// `"+"` when the filter matches the target as is, `"-"` when it matches its reverse complement.
    pub strand: String,
    /// The filter column facing target column 0, in the target's orientation on `strand`
    /// (negative when the target starts before the filter).
    pub offset: i64,
    /// The number of columns the two motifs share in the alignment.
    pub overlap: usize,
    /// The p-value of the alignment score.
    pub p_value: f64,
    /// The E-value: p-value times the number of database motifs.
    pub e_value: f64,
    /// The q-value (false discovery rate).
    pub q_value: f64,
    /// The target's letter probabilities, `[width][alphabet]`, as stored in the database
    /// (not reverse-complemented).
    pub target_probabilities: Vec<Vec<f64>>,
}

/// Per-position, per-letter attribution scores of one sequence.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct AttributionTrack {
    /// The sequence's id in the run's test set.
    pub sequence_id: String,
    /// The sequence's true label.
    pub label: String,
    /// The model's score for the explained output: what [`ExplainSummary::score_name`] says.
    pub score: f64,
    /// The sequence itself.
    pub sequence: String,
    /// The attribution method, e.g. `"gradient_x_input"`.
    pub method: String,
    /// Attribution scores, `[length][alphabet]`.
    pub scores: Vec<Vec<f32>>,
}

/// Agreement of two attribution methods over the explained sequences.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct MethodAgreement {
    /// The first method.
    pub first: String,
    /// The second method.
    pub second: String,
    /// Mean over sequences of the Spearman correlation of per-position importance.
    pub spearman_mean: f64,
    /// Median over sequences of that correlation.
    pub spearman_median: f64,
    /// The number of sequences compared.
    pub sequences: usize,
}
