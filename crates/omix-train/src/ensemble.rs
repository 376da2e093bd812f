//! Ensembles of trained runs: [`RunModels`], the one way `predict`, `evaluate` and the genome
//! commands load a run folder's model (one trained run, or an ensemble's members whose
//! predictions are combined), [`lineage_of`] (what `lineage.json` records for a trained run) and
//! [`build_ensemble`] (`omix ensemble`: the members checked to belong together, copied into a
//! self-contained folder, and their cross-validated metrics written).
//!
//! An ensemble folder holds `ensemble.json` (members and how they are combined), `lineage.json`
//! (its parents), `schema.json` (the members' shared schema), `ensemble_metrics.json` and
//! `members/01`, `members/02`, … — copies of each member's model files, so the folder works after
//! the runs it was built from are gone.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use omix_data::{Dataset, Schema, Split};
use omix_io::ContentHash;
use omix_models::Model;
use omix_run::lineage::{EnsembleMetrics, Fingerprints, FoldOf, MemberMetrics, Parent, member_spread};
use omix_run::{Combine, EnsembleFile, Lineage, MemberKind, Observer, Preparation, RunDir, RunError, files};

use crate::evaluate::{Metrics, compute_metrics, predict_scores};
use crate::inputs::InputPipeline;
use crate::objective::Objective;
use crate::run::TrainedRun;
use crate::{ExperimentConfig, TrainError};

/// A run folder's model(s), ready to score examples: one trained run, or every member of an
/// ensemble, combined as the ensemble says.
pub struct RunModels {
    members: Vec<Member>,
    combine: Combine,
    schema: Schema,
    objective: Objective,
    threshold: f64,
}

struct Member {
    model: Model,
    pipeline: InputPipeline,
    average_strands: bool,
}

impl RunModels {
    /// Load a run folder's model, or each member of an ensemble folder.
    pub fn load(run: &RunDir, device: &Device) -> Result<RunModels, TrainError> {
        let (folders, combine) = RunModels::folders(run)?;
        let mut members = Vec::with_capacity(folders.len());
        let mut first: Option<(Schema, Objective, f64)> = None;
        for folder in &folders {
            let (model, schema) = folder.load_model(device)?;
            let config = folder.config()?;
            let objective = folder.objective()?;
            let empty =
                Dataset { schema: schema.clone(), examples: Vec::new(), files: Vec::new(), report: Default::default() };
            let pipeline = folder.input_pipeline(&empty)?;
            match &first {
                None => first = Some((schema, objective, config.train.threshold)),
                Some((shared, shared_objective, _)) if *shared != schema || *shared_objective != objective => {
                    return Err(TrainError::Run {
                        path: folder.root().to_path_buf(),
                        message: format!(
                            "this member of {} reads other inputs or means other outputs than the first member; the ensemble folder was edited or assembled by hand: rebuild it with `omix ensemble`",
                            run.root().display()
                        ),
                    });
                }
                Some(_) => {}
            }
            members.push(Member { model, pipeline, average_strands: config.train.reverse_complement_average });
        }
        let (schema, objective, threshold) = first.ok_or_else(|| TrainError::Run {
            path: run.path(files::ENSEMBLE),
            message: "the ensemble lists no members".into(),
        })?;
        Ok(RunModels { members, combine, schema, objective, threshold })
    }

    /// The folders whose models a run folder holds: the run itself, or an ensemble's members in
    /// order (`members/01`, …), with how their predictions are combined. Every command that
    /// reads an ensemble's members enumerates them here.
    pub fn folders(run: &RunDir) -> Result<(Vec<RunDir>, Combine), TrainError> {
        Ok(match run.ensemble()? {
            Some(ensemble) => {
                (ensemble.members.iter().map(|member| RunDir::new(run.path(member))).collect(), ensemble.combine)
            }
            None => (vec![run.clone()], Combine::default()),
        })
    }

    /// The schema the model(s) read.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// What the outputs mean.
    pub fn objective(&self) -> Objective {
        self.objective
    }

    /// The decision threshold (the first member's, for an ensemble).
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// How many models are combined (1 for a single run).
    pub fn members(&self) -> usize {
        self.members.len()
    }

    /// Predictions `[examples, outputs]` for the given examples, as [`predict_scores`] makes them
    /// for one model (each member with its own input pipeline and strand averaging), combined
    /// across an ensemble's members.
    pub fn scores(
        &self,
        dataset: &Dataset,
        indices: &[usize],
        batch_size: usize,
        device: &Device,
    ) -> Result<Vec<f64>, TrainError> {
        let mut per_member = Vec::with_capacity(self.members.len());
        for member in &self.members {
            per_member.push(predict_scores(
                &member.model,
                &member.pipeline,
                dataset,
                indices,
                batch_size,
                device,
                member.average_strands,
                self.objective,
            )?);
        }
        Ok(combine_scores(&per_member, self.schema.outputs().max(1), self.objective, self.combine))
    }
}

/// The members' predictions (each `[n, outputs]`, row-major) combined into one: their mean, or
/// with [`Combine::MeanLogit`] the mean on the scale before the output transform (logit,
/// log-softmax, log rate), transformed back. One member's predictions are returned as they are.
pub fn combine_scores(members: &[Vec<f64>], outputs: usize, objective: Objective, combine: Combine) -> Vec<f64> {
    let Some(first) = members.first() else { return Vec::new() };
    if members.len() == 1 {
        return first.clone();
    }
    let count = members.len() as f64;
    let mean = |f: &dyn Fn(f64) -> f64| -> Vec<f64> {
        (0..first.len()).map(|i| members.iter().map(|member| f(member[i])).sum::<f64>() / count).collect()
    };
    let eps = 1e-12;
    match (combine, objective) {
        (Combine::MeanProbability, _) => mean(&|p| p),
        (Combine::MeanLogit, Objective::SigmoidCrossEntropy) => {
            let logits = mean(&|p| {
                let p = p.clamp(eps, 1.0 - eps);
                (p / (1.0 - p)).ln()
            });
            logits.into_iter().map(|z| 1.0 / (1.0 + (-z).exp())).collect()
        }
        (Combine::MeanLogit, Objective::SoftmaxCrossEntropy) => {
            let logs = mean(&|p| p.clamp(eps, 1.0).ln());
            let mut out = Vec::with_capacity(logs.len());
            for row in logs.chunks(outputs.max(1)) {
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = row.iter().map(|z| (z - max).exp()).sum();
                out.extend(row.iter().map(|z| (z - max).exp() / sum));
            }
            out
        }
        (Combine::MeanLogit, Objective::Poisson) => {
            mean(&|rate| rate.max(eps).ln()).into_iter().map(f64::exp).collect()
        }
        (Combine::MeanLogit, _) => mean(&|value| value),
    }
}

/// 16 hex digits of a content hash.
fn hex(hash: &ContentHash) -> String {
    format!("{:016x}", hash.value())
}

/// What `lineage.json` records for a run trained from `config` on `dataset`: its seed and fold,
/// and fingerprints of the data (the bytes of every file read, and the `[data]` settings other
/// than the split), the schema and the split definition (`[data]` without `fold`; with the seed
/// it fixes every split).
pub fn lineage_of(config: &ExperimentConfig, dataset: &Dataset) -> Result<Lineage, TrainError> {
    let data_table = |data: &omix_data::DataConfig| -> Result<toml::Table, TrainError> {
        match toml::Value::try_from(data) {
            Ok(toml::Value::Table(table)) => Ok(table),
            Ok(_) => Ok(toml::Table::new()),
            Err(error) => Err(TrainError::Config { field: "data", message: error.to_string() }),
        }
    };
    let mut settings = data_table(&config.data.without_fold())?;
    for key in ["folds", "validation_fraction", "test_fraction", "stratify"] {
        settings.remove(key);
    }
    if let Some(toml::Value::Table(genome)) = settings.get_mut("genome") {
        for key in ["folds", "validation_chromosomes", "test_chromosomes"] {
            genome.remove(key);
        }
    }
    let mut data = ContentHash::new();
    data.update(settings.to_string().as_bytes());
    for path in &dataset.files {
        let (size, hash) = omix_io::hash_file(path)
            .map_err(|error| TrainError::Run { path: path.clone(), message: format!("cannot read it: {error}") })?;
        data.update(&size.to_le_bytes());
        data.update(&hash.to_le_bytes());
    }
    let split = ContentHash::of(data_table(&config.data.without_fold())?.to_string().as_bytes());
    let schema_json = serde_json::to_string(&dataset.schema)
        .map_err(|error| TrainError::Config { field: "data", message: error.to_string() })?;
    let fold = config.data.fold.zip(config.data.fold_count()).map(|(index, of)| FoldOf { index, of });
    Ok(Lineage::run(
        dataset.schema.task,
        config.seed,
        fold,
        Fingerprints {
            data: hex(&data),
            schema: format!("{:016x}", ContentHash::of(schema_json.as_bytes())),
            split: format!("{split:016x}"),
        },
    ))
}

/// What `lineage.json` records for a profile run (`[tracks]`): as [`lineage_of`], with the
/// `[tracks]` table for `[data]` (the files read: reference, peaks, every task's and control
/// track), and for the schema what the model reads and predicts (window lengths, tasks, strands,
/// controls, whether a bias model is added).
pub fn lineage_of_profile(config: &omix_config::ProfileExperimentConfig) -> Result<Lineage, TrainError> {
    let tracks = &config.tracks;
    let table = |tracks: &omix_data::profile::ProfileDataConfig| -> Result<toml::Table, TrainError> {
        match toml::Value::try_from(tracks) {
            Ok(toml::Value::Table(table)) => Ok(table),
            Ok(_) => Ok(toml::Table::new()),
            Err(error) => Err(TrainError::Config { field: "tracks", message: error.to_string() }),
        }
    };
    let mut settings = table(&tracks.without_fold())?;
    for key in ["folds", "validation_chromosomes", "test_chromosomes"] {
        settings.remove(key);
    }
    let mut data = ContentHash::new();
    data.update(settings.to_string().as_bytes());
    let mut read: Vec<&Path> = vec![&tracks.reference, &tracks.peaks];
    for task in &tracks.tasks {
        read.extend(task.files());
        read.extend(task.control.iter().map(PathBuf::as_path));
    }
    for path in read {
        let (size, hash) = omix_io::hash_file(path).map_err(|error| TrainError::Run {
            path: path.to_path_buf(),
            message: format!("cannot read it: {error}"),
        })?;
        data.update(&size.to_le_bytes());
        data.update(&hash.to_le_bytes());
    }
    let schema = serde_json::json!({
        "input_length": tracks.input_length,
        "output_length": tracks.output_length,
        "tasks": tracks.tasks.iter().map(|task| task.name.as_str()).collect::<Vec<_>>(),
        "strands": tracks.strands(),
        "control_strands": tracks.control_strands(),
        "bias": config.bias.is_some(),
    });
    let split = ContentHash::of(table(&tracks.without_fold())?.to_string().as_bytes());
    let fold = tracks.fold.map(|index| FoldOf { index, of: tracks.folds.len() });
    let mut lineage = Lineage::run(
        omix_data::Task::Regression,
        config.seed,
        fold,
        Fingerprints {
            data: hex(&data),
            schema: format!("{:016x}", ContentHash::of(schema.to_string().as_bytes())),
            split: format!("{split:016x}"),
        },
    );
    lineage.profile = true;
    Ok(lineage)
}

/// `omix ensemble`'s settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnsembleOptions {
    /// How predictions are combined.
    pub combine: Combine,
    /// Replace an existing ensemble folder (what omix wrote in it).
    pub force: bool,
}

/// The files of a member run an ensemble copies (those that exist).
const MEMBER_FILES: &[&str] = &[
    files::CONFIG,
    files::SCHEMA,
    files::FEATURES,
    files::WEIGHTS,
    files::MOTIF_COPY,
    files::METRICS,
    files::TEST_PREDICTIONS,
    files::LINEAGE,
    files::MANIFEST,
    files::DATA_REPORT,
    files::CHECKS,
    files::LOG,
];

/// Build an ensemble of trained runs into `out`: the runs checked to belong together (same
/// task, schema and data; folds of one split definition or seeds of one split; a mixture is
/// refused before anything is written), copied into `out/members/`, and the cross-validated
/// metrics written (`ensemble_metrics.json`).
pub fn build_ensemble(
    runs: &[PathBuf],
    out: &RunDir,
    options: EnsembleOptions,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<EnsembleMetrics, TrainError> {
    let profile = refuse_profile_mixture(runs)?;
    let mut lineages = Vec::with_capacity(runs.len());
    let mut configs = Vec::with_capacity(runs.len());
    for path in runs {
        let run = RunDir::new(path);
        refuse_overlap(path, out.root())?;
        if run.ensemble()?.is_some() {
            return Err(member_error(path, "itself an ensemble: give its member runs"));
        }
        if !profile {
            let config = run.config()?;
            if config.model.is_autoencoder() {
                return Err(member_error(path, "an autoencoder; an ensemble combines supervised predictions"));
            }
            configs.push(config);
        }
        if !run.path(files::WEIGHTS).is_file() || !run.path(files::METRICS).is_file() {
            return Err(member_error(
                path,
                "not a finished run (no model.bpk or metrics.json): finish it with `omix train --resume`",
            ));
        }
        let lineage = run.lineage()?.ok_or_else(|| {
            member_error(path, "no lineage.json (the run was trained by an omix that did not record lineage): retrain it to ensemble it")
        })?;
        lineages.push((path.clone(), lineage));
    }
    let kind = omix_run::lineage::check_members(&lineages)?;
    if !profile {
        refuse_other_losses(runs)?;
    }

    let prepared = out.prepare(if options.force { Preparation::Replace } else { Preparation::New })?;
    if !prepared.kept.is_empty() {
        observer.message(&format!(
            "kept in {}: {} (not written by omix)",
            out.root().display(),
            prepared.kept.join(", ")
        ));
    }
    out.create()?;
    // An ensemble is never trained, so it has no checkpoint.
    let _ = std::fs::remove_dir(out.path(files::CHECKPOINT));
    let mut names = Vec::with_capacity(runs.len());
    let mut parents = Vec::with_capacity(runs.len());
    for (k, (path, lineage)) in lineages.iter().enumerate() {
        let name = format!("{}/{:02}", files::MEMBERS, k + 1);
        let source = RunDir::new(path);
        copy_member_files(&source, &RunDir::new(out.path(&name)))?;
        if profile && source.path(crate::profile::BIAS_FOLDER).is_dir() {
            // A ChromBPNet's frozen bias model is part of its prediction.
            let bias = format!("{name}/{}", crate::profile::BIAS_FOLDER);
            copy_member_files(&RunDir::new(source.path(crate::profile::BIAS_FOLDER)), &RunDir::new(out.path(&bias)))?;
        }
        let seed =
            lineage.seed.or_else(|| configs.get(k).map(|config: &ExperimentConfig| config.seed)).unwrap_or_default();
        parents.push(Parent {
            path: std::path::absolute(path).unwrap_or_else(|_| path.clone()).display().to_string(),
            copy: name.clone(),
            seed,
            fold: lineage.fold,
        });
        names.push(name);
        observer.message(&format!(
            "member {}: {}{}",
            k + 1,
            path.display(),
            lineage.fold.map(|fold| format!(" ({fold})")).unwrap_or_else(|| format!(" (seed {seed})"))
        ));
    }
    let first = &lineages[0].1;
    if !profile {
        out.write_json(files::SCHEMA, &RunDir::new(&runs[0]).schema()?)?;
    }
    let lineage = Lineage {
        kind: omix_run::lineage::LineageKind::Ensemble,
        seed: (kind == MemberKind::Folds).then_some(first.seed).flatten(),
        fold: (kind == MemberKind::Seeds).then_some(first.fold).flatten(),
        trial: None,
        parents: parents.clone(),
        ..first.clone()
    };
    out.write_json(files::LINEAGE, &lineage)?;
    out.write_json(files::ENSEMBLE, &EnsembleFile::new(options.combine, kind, names.clone()))?;

    let metrics = if profile {
        crate::profile_ensemble::ensemble_metrics(out, &names, &parents, kind, options.combine, device)?
    } else {
        ensemble_metrics(out, &names, &lineages, &configs, kind, options.combine, device)?
    };
    out.write_json(files::ENSEMBLE_METRICS, &metrics)?;
    Ok(metrics)
}

/// Whether the runs are profile runs (BPNet, ChromBPNet); a profile run among sequence runs is
/// refused, naming the two, before anything is written.
fn refuse_profile_mixture(runs: &[PathBuf]) -> Result<bool, TrainError> {
    let profile: Vec<bool> =
        runs.iter().map(|path| crate::profile::ProfileRun::is_profile(&RunDir::new(path))).collect();
    if let Some(k) = profile.iter().position(|&p| p != profile[0]) {
        let (a, b) = if profile[0] { (&runs[0], &runs[k]) } else { (&runs[k], &runs[0]) };
        return Err(TrainError::RunFolder(RunError::Mismatch {
            path: runs[k].clone(),
            message: format!(
                "{} is a profile (BPNet) run and {} a sequence run: their models read and predict different things, so they cannot be one ensemble; nothing was written",
                a.display(),
                b.display()
            ),
        }));
    }
    Ok(profile.first().copied().unwrap_or(false))
}

/// Refuse sequence runs trained with different losses (their outputs mean different things).
fn refuse_other_losses(runs: &[PathBuf]) -> Result<(), TrainError> {
    let objectives: Vec<Objective> = runs.iter().map(|path| RunDir::new(path).objective()).collect::<Result<_, _>>()?;
    if let Some(k) = objectives.iter().position(|objective| *objective != objectives[0]) {
        return Err(TrainError::RunFolder(RunError::Mismatch {
            path: runs[k].clone(),
            message: format!(
                "{} and {} were trained with different losses ({} vs {}), so their outputs mean different things; nothing was written",
                runs[0].display(),
                runs[k].display(),
                objectives[0].loss().name(),
                objectives[k].loss().name()
            ),
        }));
    }
    Ok(())
}

/// Copy the files of [`MEMBER_FILES`] that `source` has into `copy` (created).
fn copy_member_files(source: &RunDir, copy: &RunDir) -> Result<(), TrainError> {
    std::fs::create_dir_all(copy.root())
        .map_err(|source| omix_io::IoError::Write { path: copy.root().to_path_buf(), source })?;
    for file in MEMBER_FILES {
        let from = source.path(file);
        if from.is_file() {
            let bytes = std::fs::read(&from)
                .map_err(|error| TrainError::Run { path: from.clone(), message: format!("cannot read it: {error}") })?;
            copy.write_bytes(file, &bytes)?;
        }
    }
    Ok(())
}

fn member_error(path: &Path, what: &str) -> TrainError {
    TrainError::Run { path: path.to_path_buf(), message: what.to_owned() }
}

/// Refuse an ensemble folder that is a member, or holds one, or lies inside one.
fn refuse_overlap(member: &Path, out: &Path) -> Result<(), TrainError> {
    let absolute = |path: &Path| {
        std::fs::canonicalize(path).or_else(|_| std::path::absolute(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    let (member_abs, out_abs) = (absolute(member), absolute(out));
    if member_abs.starts_with(&out_abs) || out_abs.starts_with(&member_abs) {
        return Err(TrainError::Run {
            path: out.to_path_buf(),
            message: format!(
                "the ensemble folder {} and the member {} overlap; write the ensemble to a folder of its own",
                out.display(),
                member.display()
            ),
        });
    }
    Ok(())
}

/// Each member's test metrics with their mean and spread; for folds the pooled out-of-fold
/// metrics when the test sets partition the data, for seeds the ensemble's own test metrics
/// when they share one test set.
fn ensemble_metrics(
    out: &RunDir,
    names: &[String],
    lineages: &[(PathBuf, Lineage)],
    configs: &[ExperimentConfig],
    kind: MemberKind,
    combine: Combine,
    device: &Device,
) -> Result<EnsembleMetrics, TrainError> {
    let mut members = Vec::with_capacity(names.len());
    for ((name, (path, lineage)), config) in names.iter().zip(lineages).zip(configs) {
        let copy = RunDir::new(out.path(name));
        let value: serde_json::Value = copy.read_json(files::METRICS)?;
        let test = value.get("test").cloned().ok_or_else(|| TrainError::Run {
            path: copy.path(files::METRICS),
            message: "has no test metrics".into(),
        })?;
        let test: Metrics = serde_json::from_value(test)
            .map_err(|error| TrainError::Run { path: copy.path(files::METRICS), message: error.to_string() })?;
        members.push(MemberMetrics {
            member: name.clone(),
            run: path.display().to_string(),
            seed: config.seed,
            fold: lineage.fold,
            test,
        });
    }
    let member_mean = member_spread(&members);
    let models = RunModels::load(out, device)?;
    let mut notes = Vec::new();
    let (mut pooled_out_of_fold, mut ensemble_test) = (None, None);
    match kind {
        MemberKind::Folds => match pooled(out, names, configs, &models, device)? {
            Ok(metrics) => pooled_out_of_fold = Some(metrics),
            Err(note) => notes.push(note),
        },
        MemberKind::Seeds => {
            let ids: Vec<Vec<String>> =
                names.iter().map(|name| test_ids(&RunDir::new(out.path(name)))).collect::<Result<_, _>>()?;
            if ids.iter().all(|other| *other == ids[0]) {
                match test_scores(&models, &configs[0], device)? {
                    Ok((dataset, indices, scores)) => {
                        ensemble_test =
                            Some(compute_metrics(&dataset, &indices, &scores, models.threshold(), models.objective())?);
                    }
                    Err(note) => notes.push(note),
                }
            } else {
                notes.push(
                    "the members' test sets differ (for these data the seed also draws the split), so each member's test metrics are on its own test set and the ensemble has no test set of its own".into(),
                );
            }
        }
    }
    notes.push(format!("predictions combine {} members by {}", names.len(), combine.name()));
    Ok(EnsembleMetrics {
        members_are: kind,
        combine,
        task: models.schema().task,
        members,
        member_mean,
        pooled_out_of_fold,
        ensemble_test,
        notes,
    })
}

/// The note when the members' data cannot be read again (moved or deleted since training): the
/// ensemble still predicts; only the metrics that need the test examples are missing.
pub(crate) fn unreadable_data(error: &omix_data::DataError) -> String {
    format!(
        "the members' data could not be read again ({error}), so the metrics that need their test examples are missing"
    )
}

/// A data set, the indices of its test split and a model's scores on them.
type Tested = (Dataset, Vec<usize>, Vec<f64>);

/// The test split of `config`'s data, re-created, and `models`' scores on it; the note of
/// [`unreadable_data`] instead when the data cannot be read again.
fn test_scores(
    models: &RunModels,
    config: &ExperimentConfig,
    device: &Device,
) -> Result<Result<Tested, String>, TrainError> {
    let dataset = match Dataset::load(&config.data, config.seed) {
        Ok(dataset) => dataset,
        Err(error) => return Ok(Err(unreadable_data(&error))),
    };
    let indices = dataset.indices(Split::Test);
    let scores = models.scores(&dataset, &indices, 256, device)?;
    Ok(Ok((dataset, indices, scores)))
}

/// The ids of a run's test predictions, in order.
fn test_ids(run: &RunDir) -> Result<Vec<String>, TrainError> {
    let text = run.read_text(files::TEST_PREDICTIONS)?;
    Ok(text.lines().skip(1).map(|line| line.split('\t').next().unwrap_or_default().to_owned()).collect())
}

/// Every fold's test examples predicted by that fold's model, pooled, and their metrics; a note
/// instead when the folds' test sets do not partition the data.
fn pooled(
    out: &RunDir,
    names: &[String],
    configs: &[ExperimentConfig],
    models: &RunModels,
    device: &Device,
) -> Result<Result<Metrics, String>, TrainError> {
    let data = &configs[0].data;
    let Some(count) = data.fold_count() else { return Ok(Err("the members are not folds".into())) };
    if names.len() != count {
        return Ok(Err(format!(
            "{} of the {count} folds are members, so the test sets do not cover the data: no pooled out-of-fold metrics",
            names.len()
        )));
    }
    if let Some(genome) = &data.genome {
        let tested: BTreeSet<&String> = genome.folds.iter().flat_map(|fold| &fold.test).collect();
        let held_out: BTreeSet<&String> =
            genome.folds.iter().flat_map(|fold| fold.validation.iter().chain(&fold.test)).collect();
        let tested_once = genome.folds.iter().map(|fold| fold.test.len()).sum::<usize>() == tested.len();
        if !tested_once || tested != held_out {
            return Ok(Err(
                "the chromosome folds' test contigs do not partition the held-out contigs (a contig tested twice, or held out for validation but never tested): no pooled out-of-fold metrics".into(),
            ));
        }
    }
    let mut pooled = Dataset {
        schema: models.schema().clone(),
        examples: Vec::new(),
        files: Vec::new(),
        report: Default::default(),
    };
    let mut scores = Vec::new();
    let mut seen = BTreeSet::new();
    for (name, config) in names.iter().zip(configs) {
        let member = RunModels::load(&RunDir::new(out.path(name)), device)?;
        let (dataset, indices, member_scores) = match test_scores(&member, config, device)? {
            Ok(tested) => tested,
            Err(note) => return Ok(Err(note)),
        };
        scores.extend(member_scores);
        for index in indices {
            let example = &dataset.examples[index];
            if !seen.insert(example.id.clone()) {
                return Ok(Err(format!(
                    "example {} is in two folds' test sets, so they do not partition the data: no pooled out-of-fold metrics",
                    example.id
                )));
            }
            pooled.examples.push(example.clone());
        }
    }
    let indices: Vec<usize> = (0..pooled.examples.len()).collect();
    Ok(Ok(compute_metrics(&pooled, &indices, &scores, models.threshold(), models.objective())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combining_one_member_changes_nothing_and_means_are_means() {
        let a = vec![0.2, 0.9];
        let b = vec![0.4, 0.5];
        assert_eq!(combine_scores(std::slice::from_ref(&a), 1, Objective::SigmoidCrossEntropy, Combine::MeanLogit), a);
        let mean = combine_scores(&[a.clone(), b.clone()], 1, Objective::SigmoidCrossEntropy, Combine::MeanProbability);
        assert!((mean[0] - 0.3).abs() < 1e-12 && (mean[1] - 0.7).abs() < 1e-12);
        // Mean logit of 0.2 and 0.8 is 0: probability 0.5.
        let logit = combine_scores(&[vec![0.2], vec![0.8]], 1, Objective::SigmoidCrossEntropy, Combine::MeanLogit);
        assert!((logit[0] - 0.5).abs() < 1e-12);
        // Softmax rows stay distributions.
        let rows = combine_scores(
            &[vec![0.7, 0.2, 0.1], vec![0.1, 0.3, 0.6]],
            3,
            Objective::SoftmaxCrossEntropy,
            Combine::MeanLogit,
        );
        assert!((rows.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
