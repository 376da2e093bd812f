//! The report of an ensemble folder (`omix ensemble`): its members, each member's headline test
//! metrics, their mean ± sd, and the ensemble's own metrics (pooled out-of-fold for folds, the
//! combined predictions on the shared test set for seeds), from `ensemble.json` and
//! `ensemble_metrics.json`.

use std::collections::BTreeMap;

use omix_run::lineage::{EnsembleMetrics, is_headline_metric, numeric_metrics};
use omix_run::{EnsembleFile, RunDir, files};

use crate::ReportError;
use crate::html::{Section, escape, fixed, metric_name, note, table};
use crate::section::missing;

/// A headline key in words: `peaks.TASK.median_jsd` as "TASK: median JSD (peaks)".
fn key_name(key: &str) -> String {
    match key.split('.').collect::<Vec<_>>()[..] {
        ["peaks", task, metric] => {
            let metric = metric_name(metric.strip_prefix("median_").unwrap_or(metric));
            let median =
                if key.ends_with("median_jsd") || key.ends_with("median_profile_pearson") { "median " } else { "" };
            format!("{task}: {median}{metric}")
        }
        _ => metric_name(key),
    }
}

/// The sections of an ensemble's report.
pub(crate) fn sections(folder: &RunDir, ensemble: &EnsembleFile) -> Result<Vec<Section>, ReportError> {
    let metrics: Option<EnsembleMetrics> = match folder.path(files::ENSEMBLE_METRICS).is_file() {
        true => Some(folder.read_json(files::ENSEMBLE_METRICS)?),
        false => None,
    };
    let members_are = ensemble.members_are.name();
    let mut summary = format!(
        "<p>An ensemble of {} {members_are}, its predictions combined by <code>{}</code>{}. Each member is a \
         copy of a trained run (<code>members/NN</code>); <code>omix predict</code>, <code>score-variants</code> \
         and <code>explain</code> take the folder like one run.</p>\n",
        ensemble.members.len(),
        ensemble.combine.name(),
        match metrics.as_ref().map(|m| m.task.name()) {
            Some(task) => format!(" ({task})"),
            None => String::new(),
        }
    );
    let Some(metrics) = metrics else {
        let absent = missing(files::ENSEMBLE_METRICS, "the members' metrics");
        summary.push_str(&absent);
        return Ok(vec![
            Section { id: "summary", title: "Summary", body: summary },
            Section { id: "members", title: "Members", body: absent },
        ]);
    };
    let keys: Vec<&String> = metrics.member_mean.keys().filter(|key| is_headline_metric(key)).take(8).collect();
    let header: Vec<String> = ["member".to_string(), members_are.trim_end_matches('s').to_string()]
        .into_iter()
        .chain(keys.iter().map(|key| escape(&key_name(key))))
        .collect();
    let numeric: Vec<bool> = (0..header.len()).map(|column| column >= 2).collect();
    let cells = |values: &BTreeMap<String, f64>| -> Vec<String> {
        keys.iter().map(|key| values.get(*key).map_or_else(|| "–".into(), |v| fixed(*v, 4))).collect()
    };
    let mut rows = Vec::new();
    for member in &metrics.members {
        let which = member.fold.map_or_else(|| format!("seed {}", member.seed), |fold| fold.to_string());
        let mut row = vec![format!("<code>{}</code>", escape(&member.member)), escape(&which)];
        row.extend(cells(&numeric_metrics(&member.test)));
        rows.push(row);
    }
    let mut spread = vec!["<strong>mean ± sd</strong>".to_string(), format!("{} members", metrics.members.len())];
    spread.extend(keys.iter().map(|key| {
        let value = &metrics.member_mean[*key];
        format!("{} ± {}", fixed(value.mean, 4), fixed(value.sd, 4))
    }));
    rows.push(spread);
    for (label, own) in [("pooled out-of-fold", &metrics.pooled_out_of_fold), ("ensemble", &metrics.ensemble_test)] {
        if let Some(own) = own {
            let mut row = vec![format!("<strong>{label}</strong>"), "test".to_string()];
            row.extend(cells(&numeric_metrics(own)));
            rows.push(row);
        }
    }
    summary.push_str(
        "<p class=\"hint\">Each member's test metrics (for folds, each on its own test part), their mean and sample \
         standard deviation over the members, and the ensemble's own: for folds whose test parts partition the data, \
         every example's out-of-fold prediction pooled; for seeds sharing one test set, the combined predictions on \
         it. All metrics are in <code>ensemble_metrics.json</code>.</p>\n",
    );
    summary.push_str(&table("metrics", &header, &rows, &numeric));
    for line in &metrics.notes {
        summary.push_str(&note(&escape(line)));
    }
    let member_rows: Vec<Vec<String>> = metrics
        .members
        .iter()
        .map(|member| {
            vec![
                format!("<code>{}</code>", escape(&member.member)),
                member.fold.map_or_else(|| "–".into(), |fold| fold.to_string()),
                member.seed.to_string(),
                format!("<code>{}</code>", escape(&member.run)),
            ]
        })
        .collect();
    let header = ["copy", "fold", "seed", "trained in"].map(String::from);
    let members = table("members", &header, &member_rows, &[false, false, true, false]);
    Ok(vec![
        Section { id: "summary", title: "Summary", body: summary },
        Section { id: "members", title: "Members", body: members },
    ])
}
