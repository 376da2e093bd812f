//! A ChromBPNet run's bias model (`bias/`): its metrics, its training curve and the best
//! database matches of its first-layer filters, the check that it learned the enzyme's sequence
//! preference and not TF motifs.

use std::fmt::Write as _;

use super::reads;
use super::summary::config_integer;
use crate::ReportError;
use crate::html::{count, escape, metric, note, probability, table};
use crate::section::training::{LogContext, log_body};
use omix_run::view::{BiasView, RunView as Run};

/// At most this many filters are listed.
const MAX_FILTERS: usize = 25;

/// The bias body.
pub(in crate::section) fn body(run: &Run) -> Result<String, ReportError> {
    if !run.is_chrombpnet() {
        return Ok(super::super::not_applicable(
            "this is a BPNet run without a bias model (no <code>[bias]</code> table in <code>config.toml</code>, no \
             <code>bias/</code> folder).",
        ));
    }
    let Some(bias) = run.profile.as_ref().and_then(|profile| profile.bias.as_ref()) else {
        return Ok(super::super::missing("bias/", "the bias model's metrics and filters"));
    };
    let mut out = String::from(
        "<p class=\"hint\">The bias model is a small BPNet trained first on background regions with few reads, \
         where the reads follow the enzyme's sequence preference (Tn5, DNase I) rather than TF binding; it is then \
         frozen, and the main model learns what it leaves unexplained.</p>\n",
    );
    out.push_str("<dl class=\"facts\">\n");
    if let (Some(filters), Some(layers)) =
        (config_integer(run, "bias", "filters"), config_integer(run, "bias", "layers"))
    {
        let _ = writeln!(out, "<dt>model</dt><dd>{filters} filters, {layers} dilated layers</dd>");
    }
    let factor = bias
        .data_report
        .as_ref()
        .and_then(|report| report.threshold_factor)
        .or_else(|| run.config.as_ref().and_then(|c| c.get("bias")?.get("threshold_factor")?.as_float()));
    match bias.data_report.as_ref() {
        Some(report) => {
            let kept = report.regions_per_split.as_deref().unwrap_or_default();
            let at = |index: usize| count(kept.get(index).copied());
            let _ = writeln!(
                out,
                "<dt>background learned from</dt><dd>{} training, {} validation, {} test regions with fewer than {} \
                 reads ({} × the training and validation peaks' 1% count quantile, {}); {} regions with more left \
                 out</dd>",
                at(0),
                at(1),
                at(2),
                report.count_threshold.map_or("–".into(), reads),
                factor.map_or("–".into(), |f| metric(Some(f))),
                report.peak_count_quantile_1pct.map_or("–".into(), reads),
                count(report.left_out)
            );
        }
        None => {
            if let Some(factor) = factor {
                let _ = writeln!(
                    out,
                    "<dt>background learned from</dt><dd>regions with fewer reads than {} × the 1% quantile of the \
                     training and validation peaks' counts</dd>",
                    metric(Some(factor))
                );
            }
        }
    }
    if let Some(metrics) = &bias.metrics {
        if let (Some(epochs), Some(best)) = (metrics.epochs_run, metrics.best_epoch) {
            let _ = writeln!(out, "<dt>training</dt><dd>{}; best epoch {best}</dd>", super::epochs(epochs));
        }
        if let Some(weight) = metrics.count_weight {
            let _ = writeln!(out, "<dt>count loss weight λ</dt><dd>{}</dd>", metric(Some(weight)));
        }
    }
    out.push_str("</dl>\n");

    out.push_str(&filters(bias)?);

    out.push_str("<h3>Metrics</h3>\n");
    match &bias.metrics {
        Some(metrics) => {
            out.push_str(&note(
                "The bias model alone, on the main model's regions: on background it should do well; on peaks it \
                 should explain little of the profile (a high JSD), as the TF's footprint is not its to learn.",
            ));
            out.push_str(&super::metrics::tables(metrics, "bias-metrics"));
        }
        None => out.push_str(&super::super::missing("bias/metrics.json", "the bias model's metrics")),
    }

    out.push_str("<h3>Training</h3>\n");
    match &bias.log {
        Some(log) => {
            let context = LogContext {
                id: "bias-training",
                best_epoch: bias.metrics.as_ref().and_then(|metrics| metrics.best_epoch),
                monitor: "loss",
                patience: None,
                loss_name: "profile multinomial NLL + λ × log-count MSE",
                metrics_label: crate::section::training::PROFILE_METRICS_LABEL,
                metrics_caption: crate::section::training::PROFILE_METRICS_CAPTION,
            };
            out.push_str(&log_body(log, &context)?);
        }
        None => out.push_str(&super::super::missing("bias/training_log.tsv", "the bias model's learning curves")),
    }
    Ok(out)
}

/// The filters' best matches and the verdict on them.
fn filters(bias: &BiasView) -> Result<String, ReportError> {
    let mut out = String::from("<h3>Filters and their best database matches</h3>\n");
    let Some(filters) = &bias.filters else {
        out.push_str(&note(
            "No <code>bias/filters.tsv</code>: the bias model's first-layer filters have not been compared with \
             JASPAR, so whether it learned TF motifs cannot be shown.",
        ));
        return Ok(out);
    };
    let Some(filter_column) = filters.column("filter") else {
        return Err(ReportError::malformed(&filters.path, Some(1), "the header has no `filter` column"));
    };
    let text = |fields: &[String], name: &str| -> String {
        filters.column(name).and_then(|c| fields.get(c)).map(|f| f.trim().to_string()).unwrap_or_default()
    };
    let number = |line: usize, fields: &[String], name: &str| -> Result<Option<f64>, ReportError> {
        match filters.column(name) {
            Some(column) => filters.number_at(line, fields, column),
            None => Ok(None),
        }
    };
    let threshold = omix_run::explain::DEFAULT_MAX_E_VALUE;
    let mut rows = Vec::new();
    let mut matched = Vec::new();
    for (line, fields) in &filters.rows {
        let e_value = number(*line, fields, "e_value")?;
        let best = text(fields, "best_match");
        let best_name = text(fields, "best_match_name");
        let significant = !best.is_empty() && e_value.is_some_and(|e| e <= threshold);
        let shown_name = if best_name.is_empty() { best.clone() } else { format!("{best_name} ({best})") };
        if significant {
            matched.push(escape(&shown_name));
        }
        if rows.len() < MAX_FILTERS {
            rows.push(vec![
                escape(fields.get(filter_column).map_or("", |f| f.trim())),
                count(number(*line, fields, "sites")?),
                metric(number(*line, fields, "information_bits")?),
                format!("<code>{}</code>", escape(&text(fields, "consensus"))),
                if best.is_empty() { "–".into() } else { escape(&shown_name) },
                escape(&text(fields, "strand")),
                e_value.map_or("–".into(), probability),
                number(*line, fields, "q_value")?.map_or("–".into(), probability),
                if significant { "<strong>match</strong>".into() } else { "no match".into() },
            ]);
        }
    }
    let total = filters.rows.len();
    if total == 0 {
        out.push_str(&note("<code>bias/filters.tsv</code> lists no filters."));
        return Ok(out);
    }
    let limit = probability(threshold);
    if matched.is_empty() {
        let _ = writeln!(
            out,
            "<div class=\"verdict good\"><strong>Filter check.</strong> None of the bias model's {total} filters \
             matches a JASPAR motif at E ≤ {limit}: it has learned the enzyme's preference, not TF motifs.</div>"
        );
    } else {
        let _ = writeln!(
            out,
            "<div class=\"verdict bad\"><strong>Filter check.</strong> {} of the bias model's {total} filters {} \
             at E ≤ {limit} ({}): the bias model may have learned TF motifs, which the bias correction \
             would then remove from the TF model. Check these matches against the enzyme's known preference.</div>",
            matched.len(),
            if matched.len() == 1 { "matches a JASPAR motif" } else { "match JASPAR motifs" },
            matched.join(", ")
        );
    }
    let header: Vec<String> = [
        "filter",
        "sites",
        "information (bits)",
        "consensus",
        "best match",
        "strand",
        "E-value",
        "q-value",
        &format!("E ≤ {limit}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    out.push_str(&table("compact", &header, &rows, &[false, true, true, false, false, false, true, true, false]));
    if total > MAX_FILTERS {
        let _ = writeln!(out, "<p class=\"hint\">The first {MAX_FILTERS} of {total} filters, best match first.</p>");
    }
    Ok(out)
}
