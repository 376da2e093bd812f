//! `ensemble_metrics.json` of an ensemble of profile runs (BPNet, ChromBPNet): each member's test
//! metrics (profile JSD and Pearson, count Pearson and MSE, per task on peaks and background)
//! with their mean and spread; for chromosome folds whose test contigs partition the held-out
//! contigs, every fold's test regions predicted by that fold's model, pooled; for seeds, the
//! ensemble's own (combined) predictions on the shared test contigs.

use std::collections::BTreeSet;

use burn::prelude::*;
use omix_config::ProfileExperimentConfig;
use omix_data::profile::ProfileData;
use omix_genome::SplitName;
use omix_metrics::Metrics;
use omix_run::lineage::{EnsembleMetrics, MemberMetrics, Parent, member_spread};
use omix_run::{Combine, MemberKind, RunDir, files};

use crate::TrainError;
use crate::profile::{ProfileLossOn, ProfileRun, RegionPredictions, split_metrics};

/// A member's experiment and what its `metrics.json` says: test metrics and the count weight.
struct Member {
    config: ProfileExperimentConfig,
    test: Metrics,
    count_weight: f64,
}

fn read_member(copy: &RunDir) -> Result<Member, TrainError> {
    let config_path = copy.path(files::CONFIG);
    let config = ProfileExperimentConfig::from_toml(&copy.read_text(files::CONFIG)?)
        .map_err(|error| TrainError::Run { path: config_path, message: error.to_string() })?;
    let value: serde_json::Value = copy.read_json(files::METRICS)?;
    let bad = |message: String| TrainError::Run { path: copy.path(files::METRICS), message };
    let test = value.get("test").cloned().ok_or_else(|| {
        bad("has no test metrics (no region on a test chromosome): an ensemble compares the members' test metrics"
            .into())
    })?;
    let test: Metrics = serde_json::from_value(test).map_err(|error| bad(error.to_string()))?;
    let count_weight = value.get("count_weight").and_then(serde_json::Value::as_f64).unwrap_or(0.0);
    Ok(Member { config, test, count_weight })
}

/// The metrics of an ensemble of profile runs (see the module's doc); `names` are the members'
/// copies in `out`, `parents` what `lineage.json` records of them.
pub fn ensemble_metrics(
    out: &RunDir,
    names: &[String],
    parents: &[Parent],
    kind: MemberKind,
    combine: Combine,
    device: &Device,
) -> Result<EnsembleMetrics, TrainError> {
    let members: Vec<Member> =
        names.iter().map(|name| read_member(&RunDir::new(out.path(name)))).collect::<Result<_, _>>()?;
    let member_metrics: Vec<MemberMetrics> = names
        .iter()
        .zip(parents)
        .zip(&members)
        .map(|((name, parent), member)| MemberMetrics {
            member: name.clone(),
            run: parent.path.clone(),
            seed: parent.seed,
            fold: parent.fold,
            test: member.test.clone(),
        })
        .collect();
    let member_mean = member_spread(&member_metrics);
    let mut notes = Vec::new();
    let (mut pooled_out_of_fold, mut ensemble_test) = (None, None);
    match kind {
        MemberKind::Folds => match pooled(out, names, &members, device)? {
            Ok(metrics) => pooled_out_of_fold = Some(metrics),
            Err(note) => notes.push(note),
        },
        MemberKind::Seeds => {
            let first = &members[0];
            match load(&first.config) {
                Ok(data) => {
                    let ensemble = ProfileRun::load(out, device)?;
                    let predictions = ensemble.predict_regions(&data, &data.indices(SplitName::Test), device)?;
                    ensemble_test = Some(split_metrics(&data, &predictions, first.count_weight, ProfileLossOn::Peaks)?);
                    notes.push(format!(
                        "the ensemble's test metrics are on the test regions of member 01 (seed {}): the same peaks for every seed; background regions are drawn with the seed",
                        first.config.seed
                    ));
                }
                Err(error) => notes.push(crate::ensemble::unreadable_data(&error)),
            }
        }
    }
    notes.push(format!(
        "predictions combine {} members by {}: the mean of their profile {} (softmax of the profile logits) and the mean of their predicted log counts",
        names.len(),
        combine.name(),
        match combine {
            Combine::MeanProbability => "probabilities",
            Combine::MeanLogit => "log-probabilities, normalised",
        }
    ));
    Ok(EnsembleMetrics {
        members_are: kind,
        combine,
        task: omix_data::Task::Regression,
        members: member_metrics,
        member_mean,
        pooled_out_of_fold,
        ensemble_test,
        notes,
    })
}

/// The regions of a member's experiment, as its training read them.
fn load(config: &ProfileExperimentConfig) -> Result<ProfileData, omix_data::DataError> {
    ProfileData::load(&config.tracks, config.seed, &mut |_| {})
}

/// Every fold's test regions predicted by that fold's model, pooled, and their metrics; a note
/// instead when the folds' test contigs do not partition the held-out contigs.
fn pooled(
    out: &RunDir,
    names: &[String],
    members: &[Member],
    device: &Device,
) -> Result<Result<Metrics, String>, TrainError> {
    let folds = &members[0].config.tracks.folds;
    if names.len() != folds.len() {
        return Ok(Err(format!(
            "{} of the {} folds are members, so the test contigs do not cover the held-out contigs: no pooled out-of-fold metrics",
            names.len(),
            folds.len()
        )));
    }
    let tested: BTreeSet<&String> = folds.iter().flat_map(|fold| &fold.test).collect();
    let held_out: BTreeSet<&String> = folds.iter().flat_map(|fold| fold.validation.iter().chain(&fold.test)).collect();
    if folds.iter().map(|fold| fold.test.len()).sum::<usize>() != tested.len() || tested != held_out {
        return Ok(Err(
            "the chromosome folds' test contigs do not partition the held-out contigs (a contig tested twice, or held out for validation but never tested): no pooled out-of-fold metrics".into(),
        ));
    }
    let mut pooled: Option<(ProfileData, RegionPredictions)> = None;
    for (name, member) in names.iter().zip(members) {
        let data = match load(&member.config) {
            Ok(data) => data,
            Err(error) => return Ok(Err(crate::ensemble::unreadable_data(&error))),
        };
        let model = ProfileRun::load(&RunDir::new(out.path(name)), device)?;
        let predictions = model.predict_regions(&data, &data.indices(SplitName::Test), device)?;
        match &mut pooled {
            None => pooled = Some((data, predictions)),
            Some((first, all)) => {
                // The same peaks and seed give the same regions in every fold; only their splits differ.
                if first.regions.len() != data.regions.len() {
                    return Ok(Err(format!(
                        "{name} reads {} regions and member 01 {}: no pooled out-of-fold metrics",
                        data.regions.len(),
                        first.regions.len()
                    )));
                }
                all.indices.extend(predictions.indices);
                all.logits.extend(predictions.logits);
                all.log_counts.extend(predictions.log_counts);
                all.observed.extend(predictions.observed);
            }
        }
    }
    let Some((data, predictions)) = pooled else { return Ok(Err("the ensemble has no members".into())) };
    Ok(Ok(split_metrics(&data, &predictions, members[0].count_weight, ProfileLossOn::Peaks)?))
}
