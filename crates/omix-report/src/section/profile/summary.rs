//! A profile run's headline: the model, its tasks and windows, the test metrics on peaks and the
//! verdict against the average-profile baseline.

use std::fmt::Write as _;

use super::{METRICS, headline_split, task_mean, verdict};
use crate::html::{escape, metric, note};
use omix_run::view::RunView as Run;

/// An integer setting of a table of `config.toml`.
pub(super) fn config_integer(run: &Run, table: &str, key: &str) -> Option<i64> {
    run.config.as_ref()?.get(table)?.as_table()?.get(key)?.as_integer()
}

/// The task names of `config.toml` (`[[tracks.task]] name`), each with its strands in words.
pub(super) fn config_tasks(run: &Run) -> Vec<(String, &'static str)> {
    let Some(tasks) = run.config.as_ref().and_then(|c| c.get("tracks")?.get("task")?.as_array().cloned()) else {
        return Vec::new();
    };
    tasks
        .iter()
        .filter_map(|task| {
            let task = task.as_table()?;
            let name = task.get("name")?.as_str()?.to_string();
            let strands = if task.contains_key("plus") || task.contains_key("minus") {
                "plus and minus strands"
            } else {
                "unstranded"
            };
            Some((name, strands))
        })
        .collect()
}

/// The summary body.
pub(in crate::section) fn body(run: &Run) -> String {
    let mut out = String::from("<dl class=\"facts\">\n");
    let model = match (config_integer(run, "model", "filters"), config_integer(run, "model", "layers")) {
        (Some(filters), Some(layers)) => format!(" ({filters} filters, {layers} dilated layers)"),
        _ => String::new(),
    };
    if run.is_chrombpnet() {
        let bias = match (config_integer(run, "bias", "filters"), config_integer(run, "bias", "layers")) {
            (Some(filters), Some(layers)) => format!(" ({filters} filters, {layers} dilated layers)"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "<dt>model</dt><dd>ChromBPNet: a bias model{bias} trained first on background regions, then frozen under \
             a BPNet TF model{model}; the TF model alone is the bias-corrected prediction</dd>"
        );
    } else {
        let _ = writeln!(out, "<dt>model</dt><dd>BPNet{model}: a profile per base and a total count per task</dd>");
    }
    let tasks = config_tasks(run);
    if !tasks.is_empty() {
        let shown: Vec<String> =
            tasks.iter().map(|(name, strands)| format!("<code>{}</code> ({strands})", escape(name))).collect();
        let _ = writeln!(out, "<dt>tasks</dt><dd>{}</dd>", shown.join(", "));
    }
    if let (Some(input), Some(output)) =
        (config_integer(run, "tracks", "input_length"), config_integer(run, "tracks", "output_length"))
    {
        let _ =
            writeln!(out, "<dt>windows</dt><dd>reads {input} bp of sequence, predicts the central {output} bp</dd>");
    }
    let metrics = run.profile.as_ref().and_then(|profile| profile.metrics.as_ref());
    if let Some(metrics) = metrics {
        match (metrics.epochs_run, metrics.best_epoch) {
            (Some(epochs), Some(best)) => {
                let _ = writeln!(
                    out,
                    "<dt>training</dt><dd>{}; best epoch {best} (its weights are the model)</dd>",
                    super::epochs(epochs)
                );
            }
            (Some(epochs), None) => {
                let _ = writeln!(out, "<dt>training</dt><dd>{}</dd>", super::epochs(epochs));
            }
            _ => {}
        }
        if let Some(weight) = metrics.count_weight {
            let _ = writeln!(out, "<dt>count loss weight λ</dt><dd>{}</dd>", metric(Some(weight)));
        }
    }
    out.push_str("</dl>\n");

    let Some(metrics) = metrics else {
        out.push_str(&super::super::missing("metrics.json", "the test metrics and the baseline verdict"));
        return out;
    };
    let Some((split, scores)) = headline_split(metrics) else {
        out.push_str(&note("<code>metrics.json</code> has neither a test nor a validation split."));
        return out;
    };
    if scores.peaks.is_empty() {
        out.push_str(&note(&format!("<code>metrics.json</code> has no {split} metrics on peaks.")));
        return out;
    }
    let over = if scores.peaks.len() > 1 { format!(", mean of {} tasks", scores.peaks.len()) } else { String::new() };
    out.push_str("<div class=\"cards\">\n");
    let baseline = if split == "test" { metrics.baseline_test.as_ref() } else { None };
    for measure in METRICS.iter().take(3) {
        let Some(value) = task_mean(&scores.peaks, measure.read) else { continue };
        let mut sub = Vec::new();
        if split == "test"
            && let Some(validation) = metrics.validation.as_ref().and_then(|v| task_mean(&v.peaks, measure.read))
        {
            sub.push(format!("validation {}", metric(Some(validation))));
        }
        if let Some(base) = baseline.and_then(|b| task_mean(&b.peaks, measure.read)) {
            sub.push(format!("baseline {}", metric(Some(base))));
        }
        let direction = if measure.higher_is_better { "higher is better" } else { "lower is better" };
        sub.push(direction.to_string());
        let _ = writeln!(
            out,
            "<div class=\"card\"><div class=\"value\">{}</div><div class=\"label\">{split} {} on peaks{over}</div>\
             <div class=\"sub\">{}</div></div>",
            metric(Some(value)),
            escape(measure.label),
            sub.join("<br>")
        );
    }
    out.push_str("</div>\n");
    let _ = writeln!(out, "<p class=\"hint\">{}</p>", escape(super::GLOSSARY));
    match (split, &metrics.test, &metrics.baseline_test) {
        ("test", Some(_), Some(_)) => match verdict(metrics) {
            Some((class, sentence)) => {
                let _ =
                    writeln!(out, "<div class=\"verdict {class}\"><strong>Baseline check.</strong> {sentence}</div>");
            }
            None => out.push_str(&note("The test and baseline metrics share no task with JSD and log-count MSE.")),
        },
        ("test", Some(_), None) => out.push_str(&note(
            "No <code>baseline_test</code> in <code>metrics.json</code>, so the model is not compared with the \
             average-profile baseline.",
        )),
        _ => out.push_str(&note(
            "No region lies on a test chromosome, so there is no test split and no baseline comparison; the numbers \
             above are on validation.",
        )),
    }
    out
}
