//! A profile model's metrics per split and task, on peaks and on background apart, beside the
//! average-profile baseline on test.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::{GLOSSARY, METRICS, baseline_description, verdict};
use crate::html::{count, escape, metric, note, table};
use omix_run::view::{ProfileMetricsView, ProfileScores, ProfileSplitScores, RunView as Run};

/// Metrics per task.
type TaskScores = BTreeMap<String, ProfileScores>;

/// A split's metrics on peaks or on background regions.
fn regions(split: &ProfileSplitScores, on_peaks: bool) -> &TaskScores {
    if on_peaks { &split.peaks } else { &split.background }
}

/// The metrics body.
pub(in crate::section) fn body(run: &Run) -> String {
    let Some(metrics) = run.profile.as_ref().and_then(|profile| profile.metrics.as_ref()) else {
        return super::super::missing("metrics.json", "the metrics per split and task");
    };
    let mut out = format!("<p class=\"hint\">{}</p>\n", escape(GLOSSARY));
    if let Some((class, sentence)) = verdict(metrics) {
        let _ = writeln!(out, "<div class=\"verdict {class}\"><strong>Baseline check.</strong> {sentence}</div>");
    }
    out.push_str(&tables(metrics, "metrics"));
    out
}

/// The splits of a metrics file in table order, each with its row label.
fn splits(metrics: &ProfileMetricsView) -> Vec<(&'static str, &ProfileSplitScores)> {
    [
        ("training", metrics.training.as_ref()),
        ("validation", metrics.validation.as_ref()),
        ("test", metrics.test.as_ref()),
        ("baseline on test", metrics.baseline_test.as_ref()),
    ]
    .into_iter()
    .filter_map(|(name, split)| Some((name, split?)))
    .collect()
}

/// The loss per split, then one table for peaks and one for background regions: a row per task
/// and split. `id` tells the tables of one metrics file from another's.
pub(super) fn tables(metrics: &ProfileMetricsView, id: &str) -> String {
    let splits = splits(metrics);
    if splits.is_empty() {
        return note("The metrics file has no split.");
    }
    let mut out = String::new();
    let losses: Vec<String> =
        splits.iter().filter_map(|(name, split)| Some(format!("{name} {}", metric(Some(split.loss?))))).collect();
    if !losses.is_empty() {
        let _ = writeln!(
            out,
            "<p>Loss per region (profile multinomial NLL + λ × log-count MSE): {}.</p>",
            losses.join(", ")
        );
    }
    let mut header = vec!["task".to_string(), "split".to_string(), "regions".to_string()];
    header.extend(METRICS.iter().map(|m| {
        format!("{} <span class=\"hint\">{}</span>", escape(m.label), if m.higher_is_better { "↑" } else { "↓" })
    }));
    let numeric: Vec<bool> = (0..header.len()).map(|index| index >= 2).collect();
    for (title, key, on_peaks) in [("Peaks", "peaks", true), ("Background regions", "background", false)] {
        let tasks: BTreeSet<&String> = splits.iter().flat_map(|(_, split)| regions(split, on_peaks).keys()).collect();
        let _ = writeln!(out, "<h3 id=\"{}-{key}\">{title}</h3>", escape(id));
        if tasks.is_empty() {
            out.push_str(&note(&format!("No metrics on {key}.")));
            continue;
        }
        let mut rows = Vec::new();
        for task in tasks {
            for (name, split) in &splits {
                let Some(scores) = regions(split, on_peaks).get(task) else { continue };
                let label = if *name == "baseline on test" { format!("<em>{name}</em>") } else { name.to_string() };
                let mut row = vec![format!("<code>{}</code>", escape(task)), label, count(scores.regions)];
                row.extend(METRICS.iter().map(|m| metric((m.read)(scores))));
                rows.push(row);
            }
        }
        out.push_str(&table("compact", &header, &rows, &numeric));
    }
    if let Some(baseline) = &metrics.baseline_test {
        let mut text = format!("The baseline is {}.", escape(&baseline_description(metrics)));
        if baseline.peaks.values().chain(baseline.background.values()).any(|scores| scores.count_pearson.is_none()) {
            text.push_str(
                " Where it predicts the same count for every region its count correlations are undefined (–).",
            );
        }
        text.push_str(
            " On background regions few reads make ragged observed profiles, so JSD there is high for every model; \
             what matters there is that the predicted counts stay low.",
        );
        out.push_str(&note(&text));
    }
    out
}
