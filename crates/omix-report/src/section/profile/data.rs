//! A profile run's data: peaks and background regions per split, what was dropped, the median
//! count and the count loss weight λ it sets.

use std::fmt::Write as _;

use super::reads;
use crate::html::{count, escape, metric, percent, table};
use omix_run::view::RunView as Run;

/// The split names of `peaks_per_split` and `background_per_split`, in order.
const SPLITS: [&str; 3] = ["training", "validation", "test"];

/// The data body.
pub(in crate::section) fn body(run: &Run) -> String {
    let Some(report) = run.profile.as_ref().and_then(|profile| profile.data_report.as_ref()) else {
        return super::super::missing("data_report.json", "the regions per split, outliers and the median count");
    };
    let mut out = String::from(
        "<p class=\"hint\">Regions are windows centred on peak summits, and GC-matched background windows away from \
         peaks; they are split by chromosome, so no window of one split overlaps another's.</p>\n",
    );
    out.push_str("<div class=\"row\">\n<div>\n");
    let mut rows: Vec<Vec<String>> = Vec::new();
    if let Some(reference) = &report.reference {
        rows.push(vec!["reference".into(), format!("<code>{}</code>", escape(reference))]);
    }
    rows.push(vec!["peaks read".into(), count(report.peaks_read)]);
    rows.push(vec!["peaks dropped at a contig end".into(), count(report.peaks_at_edges)]);
    let quantile = run
        .config
        .as_ref()
        .and_then(|c| c.get("tracks")?.get("outlier_quantile")?.as_float())
        .map_or(String::new(), |q| format!("; above the {q} quantile of all peaks"));
    rows.push(vec![
        "peaks dropped as count outliers".into(),
        format!(
            "{} (total count above {}{quantile})",
            count(report.outliers),
            report.outlier_threshold.map_or("–".into(), reads)
        ),
    ]);
    rows.push(vec![
        "GC-matched background regions".into(),
        format!("{} found of {} asked for", count(report.background_found), count(report.background_requested)),
    ]);
    if let Some(median) = report.median_peak_count {
        rows.push(vec![
            "median training peak count".into(),
            format!("{} reads in the output window (every task and strand)", reads(median)),
        ]);
    }
    let weight = run.profile.as_ref().and_then(|p| p.metrics.as_ref()).and_then(|m| m.count_weight);
    let set = run.config.as_ref().is_some_and(|c| c.contains_key("count_weight"));
    let how = if set { "set in the configuration" } else { "the median training peak count / 10, chrombpnet's choice" };
    rows.push(vec![
        "count loss weight λ".into(),
        match weight {
            Some(weight) => format!("{} ({how})", metric(Some(weight))),
            None if set => "set in the configuration".into(),
            None => match report.median_peak_count {
                Some(median) => format!("{} ({how})", metric(Some(median / 10.0))),
                None => "–".into(),
            },
        },
    ]);
    let names = |list: &Option<Vec<String>>| {
        list.as_ref().map_or("–".into(), |list| {
            if list.is_empty() { "none".into() } else { list.iter().map(|n| escape(n)).collect::<Vec<_>>().join(", ") }
        })
    };
    rows.push(vec!["validation chromosomes".into(), names(&report.validation_chromosomes)]);
    rows.push(vec!["test chromosomes".into(), names(&report.test_chromosomes)]);
    out.push_str(&table("compact", &["".into(), "".into()], &rows, &[false, false]));
    out.push_str("</div>\n");

    let peaks = report.peaks_per_split.clone().unwrap_or_default();
    let background = report.background_per_split.clone().unwrap_or_default();
    if !peaks.is_empty() || !background.is_empty() {
        let total: f64 = peaks.iter().chain(&background).sum();
        let rows: Vec<Vec<String>> = SPLITS
            .iter()
            .enumerate()
            .map(|(index, split)| {
                let p = peaks.get(index).copied();
                let b = background.get(index).copied();
                let all = p.unwrap_or(0.0) + b.unwrap_or(0.0);
                vec![split.to_string(), count(p), count(b), percent(all, total)]
            })
            .collect();
        out.push_str("<div>\n<h3>Regions per split</h3>\n");
        out.push_str(&table(
            "compact",
            &["split".into(), "peaks".into(), "background".into(), "share".into()],
            &rows,
            &[false, true, true, true],
        ));
        let _ = writeln!(
            out,
            "<p class=\"hint\">The profile loss is taken on peaks; the count loss on peaks and background alike, \
             so the model also learns where there is little signal.</p>"
        );
        out.push_str("</div>\n");
    }
    out.push_str("</div>\n");
    out
}
