//! Where a run comes from: `lineage.json` (which fold or trial it is, fingerprints of its data,
//! schema and split definition, and its parents) and an ensemble's `ensemble.json` and
//! `ensemble_metrics.json`. A merge reads the lineage of its inputs and refuses a mixture
//! ([`check_members`]) before it writes anything.
//!
//! ```json
//! {
//!   "format": "omix-lineage",
//!   "version": 1,
//!   "kind": "run",
//!   "task": "binary",
//!   "seed": 42,
//!   "fold": { "index": 2, "of": 3 },
//!   "fingerprints": { "data": "5f0c…", "schema": "a91e…", "split": "77d2…" }
//! }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use omix_data::Task;
use omix_metrics::Metrics;
use serde::{Deserialize, Serialize};

use crate::RunError;

/// The `format` of every lineage record.
pub const LINEAGE_FORMAT: &str = "omix-lineage";
/// The `format` of every ensemble description.
pub const ENSEMBLE_FORMAT: &str = "omix-ensemble";

/// What a run folder holds: one trained model, or an ensemble of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineageKind {
    /// One trained model.
    Run,
    /// An ensemble of trained runs (`omix ensemble`).
    Ensemble,
}

/// Fold `index` (1-based) of `of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldOf {
    /// The fold, from 1.
    pub index: usize,
    /// How many folds the split definition has.
    pub of: usize,
}

impl std::fmt::Display for FoldOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fold {} of {}", self.index, self.of)
    }
}

/// Fingerprints (16 hex digits of omix's content hash) of what a run was trained from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprints {
    /// The data: the bytes of every file read and the `[data]` settings other than the split.
    pub data: String,
    /// `schema.json`: task, classes, alphabet, length.
    pub schema: String,
    /// The split definition: the `[data]` table without `fold` (fractions, folds, held-out
    /// contigs); with the seed it fixes every split. Every fold of one cross-validation, and
    /// every seed of one split, shares it.
    pub split: String,
}

/// One run an ensemble was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parent {
    /// The run folder as given.
    pub path: String,
    /// Where the ensemble keeps its copy (relative to the ensemble's folder).
    pub copy: String,
    /// Its seed.
    pub seed: u64,
    /// Its fold, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fold: Option<FoldOf>,
}

/// What `lineage.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lineage {
    /// Always [`LINEAGE_FORMAT`].
    pub format: String,
    /// The record's version.
    pub version: u32,
    /// One model or an ensemble.
    pub kind: LineageKind,
    /// The task.
    pub task: Task,
    /// A base-resolution profile model (BPNet, ChromBPNet: a `[tracks]` experiment); its `task`
    /// is then regression (counts per base).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub profile: bool,
    /// The seed (absent for an ensemble of seeds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The fold this run trained, when the data are folded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fold: Option<FoldOf>,
    /// The `omix tune` trial this run is, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial: Option<usize>,
    /// What it was trained from.
    pub fingerprints: Fingerprints,
    /// The runs it was built from (an ensemble's members).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<Parent>,
}

impl Lineage {
    /// The lineage of one trained model.
    pub fn run(task: Task, seed: u64, fold: Option<FoldOf>, fingerprints: Fingerprints) -> Self {
        Lineage {
            format: LINEAGE_FORMAT.to_owned(),
            version: 1,
            kind: LineageKind::Run,
            task,
            profile: false,
            seed: Some(seed),
            fold,
            trial: None,
            fingerprints,
            parents: Vec::new(),
        }
    }
}

/// How an ensemble combines its members' predictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Combine {
    /// The mean of the members' outputs (probabilities, values).
    #[default]
    MeanProbability,
    /// The members' outputs mapped back through the output transform (logit, log-softmax, log
    /// rate), averaged, and transformed again; values of a plain regression are averaged.
    MeanLogit,
}

impl Combine {
    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Combine::MeanProbability => "mean-probability",
            Combine::MeanLogit => "mean-logit",
        }
    }
}

/// What an ensemble's members are to each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberKind {
    /// Folds of one split definition (each tested on its own part).
    Folds,
    /// Runs of the same split with different seeds (one shared test set when the seed does not
    /// draw the split).
    Seeds,
}

impl MemberKind {
    /// `folds` or `seeds`.
    pub fn name(self) -> &'static str {
        match self {
            MemberKind::Folds => "folds",
            MemberKind::Seeds => "seeds",
        }
    }
}

/// What `ensemble.json` holds: the ensemble's members, copied into its folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnsembleFile {
    /// Always [`ENSEMBLE_FORMAT`].
    pub format: String,
    /// The description's version.
    pub version: u32,
    /// How predictions are combined.
    pub combine: Combine,
    /// Folds or seeds.
    pub members_are: MemberKind,
    /// The members' folders, relative to the ensemble's (`members/01`, ...).
    pub members: Vec<String>,
}

impl EnsembleFile {
    /// A description of `members` (relative folders).
    pub fn new(combine: Combine, members_are: MemberKind, members: Vec<String>) -> Self {
        EnsembleFile { format: ENSEMBLE_FORMAT.to_owned(), version: 1, combine, members_are, members }
    }

    /// Check the description read from `path`: the format, and member folders that stay inside
    /// the ensemble's folder.
    pub fn check(&self, path: &Path) -> Result<(), RunError> {
        if self.format != ENSEMBLE_FORMAT {
            return Err(RunError::malformed(
                path,
                None,
                format!("format is {:?}, not {ENSEMBLE_FORMAT:?}: this is not an omix ensemble", self.format),
            ));
        }
        if self.members.is_empty() {
            return Err(RunError::malformed(path, None, "the ensemble lists no members"));
        }
        for member in &self.members {
            let inside = Path::new(member).components().all(|part| matches!(part, std::path::Component::Normal(_)));
            if !inside || member.is_empty() {
                return Err(RunError::malformed(
                    path,
                    None,
                    format!("member {member:?} is not a folder inside the ensemble"),
                ));
            }
        }
        Ok(())
    }
}

/// Mean and sample standard deviation of one metric over the members.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// The mean.
    pub mean: f64,
    /// The sample standard deviation (n − 1; 0 for one value).
    pub sd: f64,
    /// How many members had the metric.
    pub n: usize,
}

impl Spread {
    /// The spread of `values`.
    pub fn of(values: &[f64]) -> Spread {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n.max(1) as f64;
        let variance =
            if n > 1 { values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64 } else { 0.0 };
        Spread { mean, sd: variance.sqrt(), n }
    }
}

/// One member's test metrics, as its `metrics.json` reports them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberMetrics {
    /// The member's copy in the ensemble (`members/01`).
    pub member: String,
    /// The run folder it was copied from.
    pub run: String,
    /// Its seed.
    pub seed: u64,
    /// Its fold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fold: Option<FoldOf>,
    /// Its test metrics.
    pub test: Metrics,
}

/// What `ensemble_metrics.json` holds: cross-validated metrics with their spread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleMetrics {
    /// Folds or seeds.
    pub members_are: MemberKind,
    /// How predictions are combined.
    pub combine: Combine,
    /// The task.
    pub task: Task,
    /// Each member's test metrics.
    pub members: Vec<MemberMetrics>,
    /// Every numeric test metric the members share: mean and standard deviation over members.
    pub member_mean: BTreeMap<String, Spread>,
    /// Folds whose test sets partition the data: the metrics of every example's out-of-fold
    /// prediction, pooled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pooled_out_of_fold: Option<Metrics>,
    /// Seeds sharing one test set: the ensemble's own metrics on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble_test: Option<Metrics>,
    /// Why a section is absent, and other things worth knowing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Every numeric leaf of a metrics record, by dotted path (`auroc`, `per_task.0.auroc`, ...);
/// arrays of numbers (curves, confusion matrices) are left out.
pub fn numeric_metrics(metrics: &Metrics) -> BTreeMap<String, f64> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, f64>) {
        match value {
            serde_json::Value::Number(number) => {
                if let Some(number) = number.as_f64() {
                    out.insert(prefix.to_owned(), number);
                }
            }
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                    walk(&path, value, out);
                }
            }
            serde_json::Value::Array(items) if items.iter().all(serde_json::Value::is_object) => {
                for (index, value) in items.iter().enumerate() {
                    walk(&format!("{prefix}.{index}"), value, out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    if let Ok(value) = serde_json::to_value(metrics) {
        walk("", &value, &mut out);
    }
    out
}

/// Whether a metric of [`numeric_metrics`] is a headline one, shown where an ensemble's metrics
/// are summarised (the terminal, the report): a top-level metric other than counts, prevalence
/// and threshold, or a profile task's median JSD, median profile Pearson, count Pearson or count
/// MSE on peaks (`peaks.TASK.median_jsd`, ...).
pub fn is_headline_metric(name: &str) -> bool {
    match name.split('.').collect::<Vec<_>>()[..] {
        [one] => !["support", "prevalence", "threshold"].contains(&one),
        ["peaks", _, metric] => {
            ["median_jsd", "median_profile_pearson", "count_pearson", "count_mse"].contains(&metric)
        }
        _ => false,
    }
}

/// Every numeric test metric all the members have (finite), by [`numeric_metrics`]'s dotted
/// path: its mean and spread over the members.
pub fn member_spread(members: &[MemberMetrics]) -> BTreeMap<String, Spread> {
    let numbers: Vec<BTreeMap<String, f64>> = members.iter().map(|member| numeric_metrics(&member.test)).collect();
    let mut spread = BTreeMap::new();
    let Some(first) = numbers.first() else { return spread };
    for key in first.keys() {
        let values: Vec<f64> = numbers.iter().filter_map(|n| n.get(key).copied()).filter(|v| v.is_finite()).collect();
        if values.len() == numbers.len() {
            spread.insert(key.clone(), Spread::of(&values));
        }
    }
    spread
}

/// Check that runs belong together in one ensemble, and say how: folds of one split definition,
/// or seeds of one split. A mixture is refused naming the two runs and what differs.
pub fn check_members(members: &[(PathBuf, Lineage)]) -> Result<MemberKind, RunError> {
    let mismatch =
        |path: &Path, message: String| RunError::Mismatch { path: path.to_path_buf(), message: message + MIX_HINT };
    let Some((first_path, first)) = members.first() else {
        return Err(RunError::Mismatch { path: PathBuf::new(), message: "an ensemble needs at least two runs".into() });
    };
    if members.len() < 2 {
        return Err(mismatch(
            first_path,
            format!("an ensemble needs at least two runs; only {} was given", first_path.display()),
        ));
    }
    for (path, lineage) in members {
        if lineage.kind == LineageKind::Ensemble {
            return Err(mismatch(path, format!("{} is itself an ensemble: give its member runs", path.display())));
        }
    }
    let (a, pa) = (first, first_path.display());
    for (path, lineage) in &members[1..] {
        let pb = path.display();
        if lineage.profile != a.profile {
            let (profile, sequence) = if a.profile { (&pa, &pb) } else { (&pb, &pa) };
            return Err(mismatch(
                path,
                format!(
                    "{profile} is a profile (BPNet) run and {sequence} a sequence run: their models read and predict different things"
                ),
            ));
        }
        if lineage.task != a.task {
            return Err(mismatch(
                path,
                format!("{pa} and {pb} differ in task: {} vs {}", a.task.name(), lineage.task.name()),
            ));
        }
        if lineage.fingerprints.schema != a.fingerprints.schema {
            return Err(mismatch(
                path,
                format!(
                    "{pa} and {pb} differ in schema (classes, alphabet, length or encoding): their models read different inputs or mean different outputs"
                ),
            ));
        }
        if lineage.fingerprints.data != a.fingerprints.data {
            return Err(mismatch(
                path,
                format!(
                    "{pa} and {pb} were trained on different data (the files read, or the [data] settings other than the split, differ)"
                ),
            ));
        }
    }
    for (path, lineage) in &members[1..] {
        if lineage.fingerprints.split != a.fingerprints.split {
            return Err(mismatch(
                path,
                format!(
                    "{pa} and {} were split differently (the [data] split settings differ: fractions, stratify, folds or held-out contigs)",
                    path.display()
                ),
            ));
        }
    }
    let same_fold = members.iter().all(|(_, lineage)| lineage.fold == a.fold);
    if same_fold {
        // Seeds of one split: every seed once.
        for (k, (path, lineage)) in members.iter().enumerate() {
            if let Some((other, _)) = members[..k].iter().find(|(_, earlier)| earlier.seed == lineage.seed) {
                let which = a.fold.map_or_else(String::new, |fold| format!(" ({fold})"));
                return Err(mismatch(
                    path,
                    format!(
                        "{} and {} are the same split{which} trained with the same seed ({}): the same model twice, not an ensemble of seeds",
                        other.display(),
                        path.display(),
                        lineage.seed.map_or_else(|| "none".into(), |seed| seed.to_string())
                    ),
                ));
            }
        }
        return Ok(MemberKind::Seeds);
    }
    // Folds of one split definition: every member a fold, each fold once, one seed.
    for (k, (path, lineage)) in members.iter().enumerate() {
        let pb = path.display();
        let Some(fold) = lineage.fold else {
            let other =
                members.iter().find(|(_, l)| l.fold.is_some()).map_or(pa.to_string(), |(p, _)| p.display().to_string());
            return Err(mismatch(
                path,
                format!(
                    "{other} is a fold but {pb} is not: an ensemble holds folds of one split or seeds of one split"
                ),
            ));
        };
        let Some(a_fold) = a.fold else {
            return Err(mismatch(
                path,
                format!(
                    "{pb} is {fold} but {pa} is not a fold: an ensemble holds folds of one split or seeds of one split"
                ),
            ));
        };
        if fold.of != a_fold.of || lineage.seed != a.seed {
            let what = if fold.of != a_fold.of {
                format!("{pa} is {a_fold} but {pb} is {fold}")
            } else {
                format!(
                    "{pa} and {pb} are folds trained with different seeds ({} and {}), so their parts differ",
                    a.seed.unwrap_or_default(),
                    lineage.seed.unwrap_or_default()
                )
            };
            return Err(mismatch(path, what));
        }
        if let Some((other, _)) = members[..k].iter().find(|(_, earlier)| earlier.fold == Some(fold)) {
            return Err(mismatch(
                path,
                format!(
                    "{} and {pb} are both {fold} with the same seed, and other members are other folds: give each fold once (or only one fold's seeds)",
                    other.display()
                ),
            ));
        }
    }
    Ok(MemberKind::Folds)
}

const MIX_HINT: &str = "; omix ensembles only runs that belong together (same data, schema and task; folds of one split, or seeds of one split), so nothing was written";

#[cfg(test)]
mod tests {
    use super::*;

    fn lineage(seed: u64, fold: Option<(usize, usize)>) -> Lineage {
        Lineage::run(
            Task::Binary,
            seed,
            fold.map(|(index, of)| FoldOf { index, of }),
            Fingerprints { data: "d".into(), schema: "s".into(), split: "split".into() },
        )
    }

    fn runs(lineages: Vec<Lineage>) -> Vec<(PathBuf, Lineage)> {
        lineages.into_iter().enumerate().map(|(k, l)| (PathBuf::from(format!("run{}", k + 1)), l)).collect()
    }

    #[test]
    fn a_profile_run_and_a_sequence_run_are_refused() {
        let mut profile = lineage(2, None);
        profile.profile = true;
        let mixed = runs(vec![lineage(1, None), profile]);
        let Err(RunError::Mismatch { message, .. }) = check_members(&mixed) else { panic!("a mixture was accepted") };
        assert!(message.contains("run2 is a profile (BPNet) run and run1 a sequence run"), "{message}");
    }

    #[test]
    fn folds_and_seeds_are_recognised() -> Result<(), RunError> {
        let folds = runs((1..=3).map(|fold| lineage(1, Some((fold, 3)))).collect());
        assert_eq!(check_members(&folds)?, MemberKind::Folds);
        let seeds = runs((1..=3).map(|seed| lineage(seed, None)).collect());
        assert_eq!(check_members(&seeds)?, MemberKind::Seeds);
        let seeds_of_a_fold = runs((1..=2).map(|seed| lineage(seed, Some((2, 3)))).collect());
        assert_eq!(check_members(&seeds_of_a_fold)?, MemberKind::Seeds);
        Ok(())
    }

    fn refused(lineages: Vec<Lineage>, expected: &[&str]) {
        let members = runs(lineages);
        match check_members(&members) {
            Ok(kind) => panic!("a mixture was accepted as {kind:?}"),
            Err(error) => {
                let text = error.to_string();
                for part in expected {
                    assert!(text.contains(part), "{part:?} not in: {text}");
                }
                assert!(text.contains("nothing was written"), "{text}");
            }
        }
    }

    #[test]
    fn mixtures_are_refused_naming_both_runs_and_the_difference() {
        let mut other_data = lineage(1, Some((2, 3)));
        other_data.fingerprints.data = "other".into();
        refused(vec![lineage(1, Some((1, 3))), other_data], &["run1 and run2", "different data"]);
        let mut other_schema = lineage(2, None);
        other_schema.fingerprints.schema = "other".into();
        refused(vec![lineage(1, None), other_schema], &["run1 and run2", "schema"]);
        let mut regression = lineage(2, None);
        regression.task = Task::Regression;
        refused(vec![lineage(1, None), regression], &["task", "binary vs regression"]);
        refused(vec![lineage(1, Some((1, 3))), lineage(1, Some((2, 5)))], &["fold 1 of 3", "fold 2 of 5"]);
        refused(vec![lineage(1, Some((1, 3))), lineage(2, Some((2, 3)))], &["different seeds"]);
        refused(vec![lineage(1, Some((1, 3))), lineage(1, None)], &["run2 is not"]);
        refused(vec![lineage(1, None), lineage(1, None)], &["same seed"]);
        refused(
            vec![lineage(1, Some((1, 3))), lineage(1, Some((2, 3))), lineage(1, Some((1, 3)))],
            &["run1 and run3", "fold 1 of 3"],
        );
        refused(vec![lineage(1, None)], &["at least two"]);
        let mut nested = lineage(2, None);
        nested.kind = LineageKind::Ensemble;
        refused(vec![lineage(1, None), nested], &["run2 is itself an ensemble"]);
    }

    #[test]
    fn runs_of_different_split_definitions_are_refused() {
        for fold in [Some((2, 3)), None] {
            let mut other = lineage(2, fold);
            other.fingerprints.split = "another".into();
            let members = runs(vec![lineage(1, fold.map(|_| (1, 3))), other]);
            let error = check_members(&members).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains("run1 and run2 were split differently"), "{error}");
        }
    }

    #[test]
    fn spread_is_mean_and_sample_sd() {
        let spread = Spread::of(&[1.0, 2.0, 3.0]);
        assert_eq!((spread.mean, spread.sd, spread.n), (2.0, 1.0, 3));
        assert_eq!(Spread::of(&[4.0]).sd, 0.0);
    }

    #[test]
    fn an_ensemble_file_cannot_point_outside_its_folder() {
        let path = Path::new("ensemble.json");
        let good = EnsembleFile::new(Combine::MeanProbability, MemberKind::Folds, vec!["members/01".into()]);
        assert!(good.check(path).is_ok());
        for member in ["../x", "/etc", "", "members/../../x"] {
            let bad = EnsembleFile::new(Combine::MeanProbability, MemberKind::Folds, vec![member.into()]);
            assert!(bad.check(path).is_err(), "{member}");
        }
    }
}
