//! Headline test metrics and the baseline verdict.

use std::fmt::Write as _;

use crate::html::{count, escape, metric, probability, table};
use omix_run::view::{RunView as Run, Scores, Task};

/// A named metric and how to read it from a split's scores.
pub(super) type Headline = (&'static str, fn(&Scores) -> Option<f64>);

/// The headline metrics of a task.
fn headlines(task: &Task) -> Vec<Headline> {
    match task {
        Task::Binary => vec![
            ("AUROC", |s| s.auroc),
            ("AUPRC", |s| s.auprc),
            ("accuracy", |s| s.accuracy),
            ("MCC", |s| s.mcc),
            ("F1", |s| s.f1),
        ],
        Task::Multiclass => vec![
            ("accuracy", |s| s.accuracy),
            ("balanced accuracy", |s| s.balanced_accuracy),
            ("macro F1", |s| s.macro_f1),
            ("macro AUROC", |s| s.macro_auroc),
            ("MCC", |s| s.mcc),
        ],
        Task::Multilabel => vec![
            ("macro AUROC", |s| s.macro_auroc),
            ("macro AUPRC", |s| s.macro_auprc),
            ("micro F1", |s| s.micro_f1),
            ("macro F1", |s| s.macro_f1),
        ],
        Task::Regression => vec![
            ("mean Pearson r", |s| s.mean_pearson),
            ("mean Spearman ρ", |s| s.mean_spearman),
            ("mean R²", |s| s.mean_r2),
            ("mean MSE", |s| s.mean_mse),
        ],
        Task::Reconstruction => vec![("reconstruction error", |s| s.reconstruction_error)],
        Task::Unknown(_) => vec![
            ("accuracy", |s| s.accuracy),
            ("AUROC", |s| s.auroc.or(s.macro_auroc)),
            ("mean Pearson r", |s| s.mean_pearson),
        ],
    }
}

/// A one-line reading guide for the headline metrics.
fn glossary(task: &Task) -> &'static str {
    match task {
        Task::Binary => {
            "AUROC: chance that a random positive scores above a random negative (0.5 = chance). \
             AUPRC: average precision over recall levels (chance = the share of positives). \
             MCC: correlation of predicted and true classes (0 = chance, 1 = perfect)."
        }
        Task::Multiclass => {
            "Accuracy: share of examples given the right class. Balanced accuracy and macro F1 weigh every \
             class equally, so a rare class counts as much as a common one. Macro AUROC: one-vs-rest AUROC \
             averaged over classes (0.5 = chance)."
        }
        Task::Multilabel => {
            "Each task is a separate yes/no question. Macro AUROC / AUPRC average the per-task values; \
             micro F1 pools all task decisions, macro F1 averages per task."
        }
        Task::Regression => {
            "Pearson r: linear agreement of predicted and observed values; Spearman ρ: agreement of their \
             ranks; R²: share of the variance explained (1 = perfect, 0 = predicting the mean)."
        }
        Task::Reconstruction => {
            "Reconstruction error: mean error between each example and the autoencoder's reconstruction of it \
             from the latent space (lower is better)."
        }
        Task::Unknown(_) => "",
    }
}

/// The summary body.
pub(super) fn body(run: &Run) -> String {
    let task = run.task();
    let mut out = String::new();
    let metrics = run.metrics.as_ref();
    let classes = run.class_names();

    // Facts about the run.
    out.push_str("<dl class=\"facts\">\n");
    let mut task_text = task.describe();
    if !classes.is_empty() && !matches!(task, Task::Reconstruction) {
        let noun = match task {
            Task::Multilabel | Task::Regression => "tasks",
            _ => "classes",
        };
        let shown: Vec<String> = classes.iter().take(12).map(|name| escape(name)).collect();
        let more = if classes.len() > 12 { format!(", … ({} in all)", classes.len()) } else { String::new() };
        let _ = write!(task_text, " — {} {noun}: {}{more}", classes.len(), shown.join(", "));
    } else {
        task_text = escape(&task_text);
    }
    let _ = writeln!(out, "<dt>task</dt><dd>{task_text}</dd>");
    if let Some(kind) = run.model_kind() {
        let _ = writeln!(out, "<dt>model</dt><dd><code>{}</code></dd>", escape(kind));
    }
    if let Some(input) = input_description(run) {
        let _ = writeln!(out, "<dt>input</dt><dd>{input}</dd>");
    }
    if let Some(metrics) = metrics {
        match (metrics.epochs_run, metrics.best_epoch) {
            (Some(run_epochs), Some(best)) => {
                let _ = writeln!(
                    out,
                    "<dt>training</dt><dd>{run_epochs} epochs; best epoch {best} (its weights are the model)</dd>"
                );
            }
            (Some(run_epochs), None) => {
                let _ = writeln!(out, "<dt>training</dt><dd>{run_epochs} epochs</dd>");
            }
            _ => {}
        }
        if let Some(size) = metrics.test.as_ref().and_then(Scores::size) {
            let _ = writeln!(out, "<dt>test set</dt><dd>{} examples</dd>", count(Some(size)));
        }
        if let Some(rule) = &metrics.decision_rule {
            let _ = writeln!(out, "<dt>decision rule</dt><dd><code>{}</code></dd>", escape(rule));
        }
    }
    out.push_str("</dl>\n");

    let Some(metrics) = metrics else {
        out.push_str(&super::missing("metrics.json", "the test metrics and the baseline verdict"));
        return out;
    };
    let Some(test) = metrics.test.as_ref() else {
        out.push_str(&crate::html::note("<code>metrics.json</code> has no test split, so no headline metrics."));
        return out;
    };

    // Headline cards: test value, with validation and baseline below.
    out.push_str("<div class=\"cards\">\n");
    let baseline_test = metrics.baseline.as_ref().and_then(|baseline| baseline.test.as_ref());
    for (label, read) in headlines(&task) {
        let Some(value) = read(test) else { continue };
        let mut sub = Vec::new();
        if let Some(validation) = metrics.validation.as_ref().and_then(read) {
            sub.push(format!("validation {}", metric(Some(validation))));
        }
        if let Some(baseline) = baseline_test.and_then(read) {
            sub.push(format!("baseline {}", metric(Some(baseline))));
        }
        let label = if matches!(task, Task::Reconstruction) {
            match &test.error_kind {
                Some(kind) => format!("{label} ({})", escape(&kind.to_uppercase())),
                None => label.to_string(),
            }
        } else {
            label.to_string()
        };
        let _ = writeln!(
            out,
            "<div class=\"card\"><div class=\"value\">{}</div><div class=\"label\">test {label}</div>\
             <div class=\"sub\">{}</div></div>",
            metric(Some(value)),
            sub.join("<br>")
        );
    }
    out.push_str("</div>\n");
    let guide = glossary(&task);
    if !guide.is_empty() {
        let _ = writeln!(out, "<p class=\"hint\">{}</p>", escape(guide));
    }

    // Baseline verdict.
    match metrics.baseline.as_ref() {
        Some(baseline) => {
            let model = baseline.model.as_deref().unwrap_or("a simple model");
            match baseline.comparison.as_ref() {
                Some(comparison) => {
                    let higher = comparison.higher_is_better.unwrap_or(true);
                    let (lower, upper) = (comparison.lower.unwrap_or(f64::NAN), comparison.upper.unwrap_or(f64::NAN));
                    let class = if comparison.model_beats_baseline == Some(true) {
                        "good"
                    } else if (higher && upper < 0.0) || (!higher && lower > 0.0) {
                        "bad"
                    } else {
                        "neutral"
                    };
                    let verdict = comparison.verdict.as_deref().unwrap_or("no verdict recorded");
                    let _ = writeln!(
                        out,
                        "<div class=\"verdict {class}\"><strong>Baseline check.</strong> Compared with {}: {}.</div>",
                        escape(model),
                        escape(verdict)
                    );
                    let metric_name = comparison.metric.as_deref().unwrap_or("metric");
                    let confidence = comparison.confidence.map_or("95%".to_string(), |c| format!("{:.0}%", c * 100.0));
                    let resamples = comparison
                        .resamples_used
                        .map_or(String::new(), |r| format!(", {} paired bootstrap resamples", count(Some(r))));
                    let header = vec![
                        "metric".to_string(),
                        "this model".to_string(),
                        "baseline".to_string(),
                        format!("difference ({confidence} CI)"),
                        format!("p-value{resamples}"),
                    ];
                    let direction = if higher { "higher is better" } else { "lower is better" };
                    let row = vec![
                        format!("{} <span class=\"hint\">({direction})</span>", escape(metric_name)),
                        metric(comparison.model),
                        metric(comparison.baseline),
                        format!(
                            "{} [{} to {}]",
                            signed(comparison.difference),
                            signed(comparison.lower),
                            signed(comparison.upper)
                        ),
                        comparison.p_value.map_or("–".into(), probability),
                    ];
                    out.push_str(&table("compact", &header, &[row], &[false, true, true, true, true]));
                    out.push_str(&candidates(&baseline.candidates));
                }
                None => {
                    let _ = writeln!(
                        out,
                        "<div class=\"verdict\"><strong>Baseline:</strong> {} (no comparison recorded).</div>",
                        escape(model)
                    );
                }
            }
        }
        None => out.push_str(&crate::html::note(
            "No baseline in <code>metrics.json</code> (train with <code>baseline = true</code> to compare the model \
             with a simple k-mer or PCA model).",
        )),
    }

    // Latent space check for autoencoders.
    if let Some(embedding) = metrics.embedding.as_ref() {
        let _ = writeln!(
            out,
            "<p><strong>Latent space.</strong> k-nearest-neighbour accuracy of the labels from the {} latent \
             dimensions: {} (PCA with as many components: {}); k = {}, {}-fold cross-validation over {} examples.</p>",
            count(embedding.dimensions),
            metric(embedding.latent_accuracy),
            metric(embedding.pca_accuracy),
            count(embedding.k),
            count(embedding.folds),
            count(embedding.examples)
        );
    }
    out
}

/// A signed number with 4 decimals.
fn signed(value: Option<f64>) -> String {
    match value {
        Some(value) if value.is_finite() => {
            let text = crate::html::fixed(value, 4);
            if value > 0.0 { format!("+{text}") } else { text }
        }
        _ => "–".into(),
    }
}

/// The input in words: kind, alphabet and length, or features.
fn input_description(run: &Run) -> Option<String> {
    let kind = run.input_kind()?;
    let schema = run.schema.as_ref();
    let mut text = escape(&kind);
    if kind == "sequence" {
        let alphabet = schema.and_then(|s| s.alphabet.clone()).unwrap_or_default();
        let mut parts = Vec::new();
        if !alphabet.is_empty() {
            parts.push(escape(&alphabet.to_uppercase()));
        }
        if let Some(length) = schema.and_then(|s| s.length) {
            let unit = if alphabet == "protein" { "residues" } else { "nt" };
            parts.push(format!("{length} {unit}"));
        }
        if !parts.is_empty() {
            let _ = write!(text, " ({})", parts.join(", "));
        }
    } else if let Some(features) = schema.and_then(|s| s.input.as_ref()?.features.as_ref()) {
        let _ = write!(text, " ({} features)", count(Some(features.len() as f64)));
    }
    Some(text)
}

/// The baselines fitted when more than one was: each with its validation score (which chose)
/// and its test score (shown, never used to choose).
fn candidates(candidates: &[omix_run::view::BaselineCandidate]) -> String {
    if candidates.len() < 2 {
        return String::new();
    }
    let name = candidates.iter().find_map(|c| c.validation_metric.as_deref()).unwrap_or("metric");
    let header = vec![
        "baseline fitted".to_string(),
        format!("validation {}", escape(name)),
        format!("test {}", escape(name)),
        "C".to_string(),
        "kept".to_string(),
    ];
    let rows: Vec<Vec<String>> = candidates
        .iter()
        .map(|c| {
            vec![
                escape(c.model.as_deref().unwrap_or("?")),
                metric(c.validation),
                metric(c.test),
                c.regularization.map_or("–".into(), |r| format!("{r}")),
                if c.chosen { "<strong>chosen</strong>".to_string() } else { String::new() },
            ]
        })
        .collect();
    let mut out = table("compact", &header, &rows, &[false, true, true, true, false]);
    out.push_str(
        "<p class=\"hint\">Both baselines were fitted on the training split; the one with the better validation \
         score is the baseline above. Test scores are shown for the record and were not used to choose.</p>\n",
    );
    out
}
