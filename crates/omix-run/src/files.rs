//! The names of the files in a run folder: the one place they are spelled.

/// The marker every run folder carries: omix wrote this folder, and these are the entries it owns.
/// `--force` and `--resume` act only on folders that have it.
pub const MARKER: &str = "omix-run.json";

/// The resolved experiment config.
pub const CONFIG: &str = "config.toml";
/// Data schema (alphabet, length, classes) the model expects.
pub const SCHEMA: &str = "schema.json";
/// Record → split assignment.
pub const MANIFEST: &str = "split_manifest.tsv";
/// Data report (counts, duplicates).
pub const DATA_REPORT: &str = "data_report.json";
/// Biology-aware checks.
pub const CHECKS: &str = "checks.json";
/// Per-epoch log.
pub const LOG: &str = "training_log.tsv";
/// Final weights (burnpack).
pub const WEIGHTS: &str = "model.bpk";
/// Metrics per split.
pub const METRICS: &str = "metrics.json";
/// Test-set predictions.
pub const TEST_PREDICTIONS: &str = "test_predictions.tsv";
/// Checkpoint folder.
pub const CHECKPOINT: &str = "checkpoint";
/// The checkpoint's state (inside [`CHECKPOINT`]).
pub const CHECKPOINT_STATE: &str = "state.json";
/// The input pipeline (feature settings, standardisation statistics, model input shape).
pub const FEATURES: &str = "features.json";
/// The copy of the motif file that PWM features were computed from.
pub const MOTIF_COPY: &str = "motifs.meme";
/// The folder `omix explain` writes into.
pub const EXPLAIN_DIR: &str = "explain";
/// The explain summary the report reads (inside [`EXPLAIN_DIR`]).
pub const EXPLAIN_SUMMARY: &str = "explain.json";
/// Motifs discovered from attributions (inside [`EXPLAIN_DIR`], or the folder `omix motifs
/// --out` names): the summary the report reads.
pub const PATTERNS_JSON: &str = "patterns.json";
/// The discovered patterns' trimmed PFMs in MEME format.
pub const PATTERNS_MEME: &str = "patterns.meme";
/// One line per discovered pattern: seqlets, consensus, best match.
pub const PATTERNS_TSV: &str = "patterns.tsv";
/// Every discovered pattern's database matches (p, E and q-values).
pub const PATTERN_MATCHES: &str = "pattern_matches.tsv";
/// Every seqlet: sequence, position, attribution, p-value, pattern and strand.
pub const SEQLETS: &str = "seqlets.tsv";
/// The seqlet false discovery estimate at every threshold tried.
pub const SEQLET_FDR: &str = "seqlet_fdr.tsv";
/// The logos folder inside [`EXPLAIN_DIR`] (patterns' CWM and PFM logos go there too).
pub const LOGOS: &str = "logos";
/// The one-hot sequences `omix explain` writes with DeepLIFT/SHAP (TF-MoDISco's `-s`).
pub const OHE_NPZ: &str = "ohe.npz";
/// The hypothetical contributions `omix explain` writes with DeepLIFT/SHAP (TF-MoDISco's `-a`).
pub const SHAP_NPZ: &str = "shap.npz";
/// What `omix explain` computed on a profile run, inside [`EXPLAIN_DIR`].
pub const PROFILE_EXPLAIN: &str = "profile_explain.json";
/// The HTML report.
pub const REPORT: &str = "report.html";
/// Observed and predicted profiles of example regions of a profile run (the report plots them).
pub const PROFILE_EXAMPLES: &str = "profile_examples.json";
/// Marginal footprints of a profile run's motifs (the report plots them).
pub const FOOTPRINTS: &str = "footprints.json";
/// The folder of a ChromBPNet run's bias model (a run folder of its own).
pub const BIAS: &str = "bias";
/// Which fold or trial a run is, fingerprints of what it was trained from, and its parents.
pub const LINEAGE: &str = "lineage.json";
/// An ensemble's members and how their predictions are combined (`omix ensemble`).
pub const ENSEMBLE: &str = "ensemble.json";
/// An ensemble's cross-validated metrics: each member's test metrics, their mean and spread.
pub const ENSEMBLE_METRICS: &str = "ensemble_metrics.json";
/// The folder of an ensemble's copies of its members (`members/01`, ...).
pub const MEMBERS: &str = "members";
/// The simulated data `omix quickstart` writes into its run folder.
pub const QUICKSTART_DATA: &str = "data";

/// Every entry omix writes at the top of a run folder (files and folders), besides [`MARKER`]: what
/// a new run folder's marker lists as owned.
pub const OWNED: &[&str] = &[
    CONFIG,
    SCHEMA,
    MANIFEST,
    DATA_REPORT,
    CHECKS,
    LOG,
    WEIGHTS,
    METRICS,
    TEST_PREDICTIONS,
    CHECKPOINT,
    FEATURES,
    MOTIF_COPY,
    EXPLAIN_DIR,
    REPORT,
    PROFILE_EXAMPLES,
    FOOTPRINTS,
    BIAS,
    LINEAGE,
    ENSEMBLE,
    ENSEMBLE_METRICS,
    MEMBERS,
];
