//! `omix tune`: trials of one experiment over a search space ([`omix_config::SearchSpace`]), each
//! trained into a run folder of its own and compared on the validation split only — the test split
//! is reported for the chosen trial and never looked at to choose it.
//!
//! A trial is the experiment file with the trial's settings applied as `--set` applies them. Trial
//! folders are `OUT/trial_001`, … in the space's trial order; one already finished with the same
//! settings is reused (so a workflow engine can run `--trial i` as separate jobs and a last call
//! summarises), one stopped part-way is resumed, and one trained with other settings is refused
//! (`OUT/trial_001.json` records each trial's experiment file, its hash and the settings).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use omix_config::{Experiment, SearchSpace, Setting};
use omix_metrics::Metrics;
use omix_run::{Observer, Preparation, RunDir, files};

use crate::error::TrainError;
use crate::experiment::run_experiment;
use crate::trainer::TrainOptions;

/// The trials' summary table inside the output folder.
pub const TRIALS_TSV: &str = "trials.tsv";

/// One trial's outcome.
#[derive(Debug, Clone)]
pub struct TrialOutcome {
    /// 1-based trial number.
    pub trial: usize,
    /// Its run folder.
    pub folder: PathBuf,
    /// The settings applied (`key=value`, as `--set` takes them).
    pub settings: Vec<String>,
    /// The selection metric on the validation split (NaN when the run has none).
    pub validation: f64,
    /// The run's metrics per split, as its `metrics.json` holds them.
    pub metrics: BTreeMap<String, Metrics>,
    /// Whether it was trained in this call (false: reused).
    pub trained: bool,
}

/// What a tuning call did.
#[derive(Debug, Clone)]
pub struct TuneOutcome {
    /// The metric that chooses, and whether higher is better.
    pub metric: String,
    /// Higher is better for the metric.
    pub higher_is_better: bool,
    /// Every trial run or reused in this call, in trial order.
    pub trials: Vec<TrialOutcome>,
    /// The index into `trials` of the best one (only when every trial of the space is there).
    pub best: Option<usize>,
    /// How many trials the space has.
    pub total: usize,
}

/// The selection metric: the space's, or AUROC for classifiers and Pearson r for regression;
/// whether a higher value is better.
fn selection_metric(space: &SearchSpace, metrics: &Metrics) -> (String, bool) {
    let name = space.metric.clone().unwrap_or_else(|| match metrics {
        Metrics::Regression(_) => "pearson".into(),
        Metrics::Reconstruction(_) => "mse".into(),
        Metrics::Profile(_) => "loss".into(),
        _ => "auroc".into(),
    });
    let lower = matches!(name.as_str(), "mse" | "loss" | "reconstruction_error");
    (name, !lower)
}

/// Run the trials of `space` over the experiment `config_path` into `out` (all of them, or only
/// trial `only`, 1-based), then choose the best by the validation metric when all are there and
/// write `OUT/trials.tsv`.
pub fn tune(
    config_path: &Path,
    space: &SearchSpace,
    out: &Path,
    only: Option<usize>,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<TuneOutcome, TrainError> {
    let all = space.trials();
    let total = all.len();
    if let Some(trial) = only
        && (trial == 0 || trial > total)
    {
        return Err(TrainError::Run {
            path: config_path.to_path_buf(),
            message: format!("--trial {trial}: the search space has trials 1 to {total}"),
        });
    }
    std::fs::create_dir_all(out)
        .map_err(|error| TrainError::Run { path: out.to_path_buf(), message: format!("cannot create: {error}") })?;
    let mut trials = Vec::new();
    for (index, settings) in all.iter().enumerate() {
        let trial = index + 1;
        if only.is_some_and(|chosen| chosen != trial) {
            continue;
        }
        trials.push(run_trial(config_path, settings, trial, total, out, device, observer)?);
    }
    let metric_of = |t: &TrialOutcome| t.metrics.get("validation").map(|m| selection_metric(space, m));
    let (metric, higher_is_better) =
        trials.iter().find_map(metric_of).unwrap_or_else(|| (space.metric.clone().unwrap_or_default(), true));
    for trial in &mut trials {
        trial.validation = trial.metrics.get("validation").and_then(|m| m.get(&metric)).unwrap_or(f64::NAN);
    }
    let best = if trials.len() == total {
        let better = |a: f64, b: f64| if higher_is_better { a > b } else { a < b };
        let mut best: Option<usize> = None;
        for (i, trial) in trials.iter().enumerate() {
            if trial.validation.is_finite() && best.is_none_or(|b| better(trial.validation, trials[b].validation)) {
                best = Some(i);
            }
        }
        best
    } else {
        None
    };
    let outcome = TuneOutcome { metric, higher_is_better, trials, best, total };
    if outcome.trials.len() == total {
        write_table(out, space, &outcome)?;
    }
    Ok(outcome)
}

/// Train (or reuse, or resume) one trial.
fn run_trial(
    config_path: &Path,
    settings: &[Setting],
    trial: usize,
    total: usize,
    out: &Path,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<TrialOutcome, TrainError> {
    let arguments: Vec<String> = settings.iter().map(|s| s.argument.clone()).collect();
    let config = match Experiment::load_with(config_path, settings)? {
        Experiment::Sequence(config) => config,
        _ => {
            return Err(TrainError::Run {
                path: config_path.to_path_buf(),
                message: "omix tune runs sequence experiments ([data]); graph and profile experiments are not \
                          supported yet"
                    .into(),
            });
        }
    };
    let folder = out.join(format!("trial_{trial:03}"));
    let run = RunDir::new(&folder);
    // What the trial is, beside its folder (one file per trial, so parallel jobs never share one):
    // the experiment file's bytes and the settings. A folder made from anything else is refused.
    let (_, config_hash) = omix_io::hash_file(config_path)
        .map_err(|error| TrainError::Run { path: config_path.to_path_buf(), message: error.to_string() })?;
    let record = serde_json::json!({
        "config": std::fs::canonicalize(config_path).unwrap_or_else(|_| config_path.to_path_buf()).display().to_string(),
        "config_hash": format!("{config_hash:016x}"),
        "settings": arguments,
    });
    let record_path = out.join(format!("trial_{trial:03}.json"));
    let exists = folder.exists();
    if exists {
        let previous: Option<serde_json::Value> =
            std::fs::read_to_string(&record_path).ok().and_then(|text| serde_json::from_str(&text).ok());
        if previous.as_ref() != Some(&record) {
            return Err(TrainError::Run {
                path: folder.clone(),
                message: format!(
                    "trial {trial} was trained from other settings or another version of {} than {} (see {}); \
                     remove the folder or tune into another --out",
                    config_path.display(),
                    arguments.join(" "),
                    record_path.display()
                ),
            });
        }
    }
    let saved = exists && run.path(files::CONFIG).exists();
    let finished = saved && run.path(files::METRICS).exists();
    observer.message(&format!(
        "trial {trial}/{total} ({}): {}",
        arguments.join(" "),
        if finished { "finished earlier, reused" } else { "training" }
    ));
    if !finished {
        let resume = saved && run.path(files::CHECKPOINT).exists();
        run.prepare(if resume { Preparation::Resume } else { Preparation::New })?;
        let text = serde_json::to_string_pretty(&record)
            .map_err(|error| TrainError::Run { path: record_path.clone(), message: error.to_string() })?;
        omix_io::write_atomically(&record_path, |w| std::io::Write::write_all(w, text.as_bytes()))?;
        let options = TrainOptions { resume, ..TrainOptions::default() };
        run_experiment(&config, &run, device, options, observer)?;
        // The run folder records which trial it is.
        if let Some(mut lineage) = run.lineage()? {
            lineage.trial = Some(trial);
            run.write_json(files::LINEAGE, &lineage)?;
        }
    }
    let text = run.read_text(files::METRICS)?;
    let metrics = read_split_metrics(&run.path(files::METRICS), &text)?;
    Ok(TrialOutcome { trial, folder, settings: arguments, validation: f64::NAN, metrics, trained: !finished })
}

/// The per-split metrics of a `metrics.json`.
fn read_split_metrics(path: &Path, text: &str) -> Result<BTreeMap<String, Metrics>, TrainError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| TrainError::Run { path: path.to_path_buf(), message: error.to_string() })?;
    let mut metrics = BTreeMap::new();
    for split in ["validation", "test"] {
        if let Some(entry) = value.get(split)
            && let Ok(parsed) = serde_json::from_value::<Metrics>(entry.clone())
        {
            metrics.insert(split.to_string(), parsed);
        }
    }
    Ok(metrics)
}

/// `OUT/trials.tsv`: one row per trial — its folder, each parameter's value, the validation metric,
/// and `*` on the chosen one.
fn write_table(out: &Path, space: &SearchSpace, outcome: &TuneOutcome) -> Result<(), TrainError> {
    let keys: Vec<&String> = space.parameters.keys().collect();
    let mut text = format!(
        "trial\tfolder\t{}\tvalidation_{}\tchosen\n",
        keys.iter().map(|k| k.as_str()).collect::<Vec<_>>().join("\t"),
        outcome.metric
    );
    for (i, trial) in outcome.trials.iter().enumerate() {
        let values: Vec<String> = trial
            .settings
            .iter()
            .map(|argument| argument.split_once('=').map_or(String::new(), |(_, v)| v.to_string()))
            .collect();
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            trial.trial,
            trial.folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            values.join("\t"),
            if trial.validation.is_finite() { format!("{:.6}", trial.validation) } else { "NA".into() },
            if outcome.best == Some(i) { "*" } else { "" }
        ));
    }
    omix_io::write_atomically(&out.join(TRIALS_TSV), |w| std::io::Write::write_all(w, text.as_bytes()))?;
    Ok(())
}
