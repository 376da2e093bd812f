//! Split sizes, class balance, the duplicate / leakage check and the biology-aware warnings.

use std::fmt::Write as _;

use crate::html::{count, escape, fixed, note, percent, table};
use omix_run::view::{RunView as Run, Task};

/// The data body.
pub(super) fn body(run: &Run) -> String {
    let mut out = String::new();
    let task = run.task();
    match (&run.data_report, &run.data_report_raw) {
        (Some(report), Some(raw)) => {
            out.push_str("<div class=\"row\">\n<div>\n");
            out.push_str(&facts(run, raw));
            out.push_str("</div>\n");
            if let Some(splits) = report.splits.as_ref().filter(|splits| !splits.is_empty()) {
                out.push_str("<div>\n<h3>Split sizes</h3>\n");
                let unit = if splits.iter().any(|split| split.nodes.is_some()) { "nodes" } else { "examples" };
                let total: f64 = splits.iter().filter_map(|split| split.size()).sum();
                let rows: Vec<Vec<String>> = splits
                    .iter()
                    .map(|split| {
                        let size = split.size();
                        vec![escape(&split.split), count(size), percent(size.unwrap_or(f64::NAN), total)]
                    })
                    .collect();
                out.push_str(&table(
                    "compact",
                    &["split".into(), unit.into(), "share".into()],
                    &rows,
                    &[false, true, true],
                ));
                out.push_str("</div>\n</div>\n");
                out.push_str(&balance(run, &task, splits));
            } else {
                out.push_str("</div>\n");
                out.push_str(&note("<code>data_report.json</code> lists no splits."));
            }
            out.push_str(&duplicates(report, run.input_kind().as_deref() == Some("sequence")));
            out.push_str(&genome(raw));
        }
        _ => out.push_str(&super::missing("data_report.json", "split sizes, class balance and the duplicate check")),
    }
    if let Some(manifest) = &run.manifest {
        let total: usize = manifest.iter().map(|(_, n)| n).sum();
        let parts: Vec<String> =
            manifest.iter().map(|(split, n)| format!("{} {}", escape(split), count(Some(*n as f64)))).collect();
        let _ = writeln!(
            out,
            "<p class=\"hint\"><code>split_manifest.tsv</code> records the split of every one of the {} examples \
             ({}), so the split can be reproduced or audited.</p>",
            count(Some(total as f64)),
            parts.join(", ")
        );
    }
    out.push_str("<h3>Warnings</h3>\n");
    out.push_str(&checks(run));
    out
}

/// Scalar facts of `data_report.json` and the input schema.
fn facts(run: &Run, raw: &serde_json::Value) -> String {
    let mut rows = Vec::new();
    if let Some(schema) = &run.schema {
        if let Some(alphabet) = &schema.alphabet
            && run.input_kind().as_deref() == Some("sequence")
        {
            rows.push(("alphabet".to_string(), escape(alphabet)));
            if let Some(length) = schema.length {
                rows.push(("sequence length".to_string(), format!("{length}")));
            }
            if let Some(policy) = &schema.length_policy {
                rows.push(("length policy".to_string(), escape(policy)));
            }
            if let Some(ambiguity) = &schema.ambiguity {
                rows.push(("ambiguous bases (N, IUPAC)".to_string(), format!("encoded as {}", escape(ambiguity))));
            }
        }
        if let Some(features) = schema.input.as_ref().and_then(|input| input.features.as_ref()) {
            rows.push(("input features".to_string(), count(Some(features.len() as f64))));
        }
    }
    if let Some(object) = raw.as_object() {
        for (key, value) in object {
            let text = match value {
                serde_json::Value::Number(number) => count(number.as_f64()),
                serde_json::Value::Bool(flag) => if *flag { "yes" } else { "no" }.to_string(),
                serde_json::Value::String(text) => escape(text),
                _ => continue,
            };
            rows.push((key.replace('_', " "), text));
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from("<dl class=\"facts\">\n");
    for (key, value) in rows {
        let _ = writeln!(out, "<dt>{}</dt><dd>{value}</dd>", escape(&key));
    }
    out.push_str("</dl>\n");
    out
}

/// Windows on a reference genome (`data_report.json` → `genome`): intervals, padding at contig
/// ends, GC-matched background and the chromosome hold-out.
fn genome(raw: &serde_json::Value) -> String {
    let Some(genome) = raw.get("genome").and_then(serde_json::Value::as_object) else { return String::new() };
    let number = |key: &str| genome.get(key).and_then(serde_json::Value::as_f64);
    let names = |key: &str| {
        genome
            .get(key)
            .and_then(serde_json::Value::as_array)
            .map(|list| list.iter().filter_map(serde_json::Value::as_str).map(escape).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    let mut rows: Vec<Vec<String>> = vec![
        vec!["reference".into(), escape(genome.get("reference").and_then(serde_json::Value::as_str).unwrap_or(""))],
        vec!["intervals read".into(), count(number("intervals"))],
        vec!["windows padded with N at a contig end".into(), count(number("padded"))],
        vec!["windows dropped at a contig end".into(), count(number("dropped"))],
        vec![
            "GC-matched background windows".into(),
            format!("{} of {} asked for", count(number("background_found")), count(number("background_requested"))),
        ],
    ];
    if let (Some(positive), Some(background)) = (number("gc_positive"), number("gc_background")) {
        rows.push(vec![
            "mean GC: positives / background".into(),
            format!("{} / {}", fixed(positive, 3), fixed(background, 3)),
        ]);
    }
    rows.push(vec!["validation chromosomes".into(), names("validation_chromosomes")]);
    rows.push(vec!["test chromosomes".into(), names("test_chromosomes")]);
    rows.push(vec!["windows overlapping across splits".into(), count(number("cross_split_overlaps"))]);
    format!(
        "<h3>Reference genome</h3>\n<p class=\"hint\">Examples are windows on the reference, split by chromosome so that no window of one split overlaps another split's.</p>\n{}",
        table("compact", &["".into(), "".into()], &rows, &[false, false])
    )
}

/// The per-class (or per-task) counts of every split, one row per class.
fn balance(run: &Run, task: &Task, splits: &[omix_run::view::SplitCount]) -> String {
    let (title, hint) = match task {
        Task::Regression => return String::new(),
        Task::Multilabel => (
            "Positive examples per task",
            "An example can be positive for several tasks; the share is of the split's examples.",
        ),
        _ => ("Class balance", "Examples of each class per split; the share is of the split's examples."),
    };
    let classes = run.class_names();
    let width = splits.iter().filter_map(|split| split.per_class.as_ref().map(Vec::len)).max().unwrap_or(0);
    if width == 0 {
        return String::new();
    }
    let mut header = vec![if matches!(task, Task::Multilabel) { "task" } else { "class" }.to_string()];
    let mut numeric = vec![false];
    for split in splits {
        header.push(escape(&split.split));
        numeric.push(true);
    }
    let mut rows = Vec::new();
    for class in 0..width {
        let name = classes.get(class).cloned().unwrap_or_else(|| format!("class {class}"));
        let mut row = vec![escape(&name)];
        for split in splits {
            let value = split.per_class.as_ref().and_then(|counts| counts.get(class)).copied();
            let size = split.size().unwrap_or(0.0);
            row.push(match value {
                Some(value) => {
                    let share = if size > 0.0 { value / size } else { 0.0 };
                    format!(
                        "{} <span class=\"hint\">({})</span><span class=\"barbox\"><span class=\"bar\" style=\"width:{}%\"></span></span>",
                        count(Some(value)),
                        percent(value, size),
                        fixed((share * 100.0).clamp(0.0, 100.0), 1)
                    )
                }
                None => "–".into(),
            });
        }
        rows.push(row);
    }
    format!("<h3>{title}</h3>\n<p class=\"hint\">{hint}</p>\n{}", table("balance", &header, &rows, &numeric))
}

/// The duplicate / leakage check.
fn duplicates(report: &omix_run::view::DataReport, sequences: bool) -> String {
    let mut out = String::from("<h3>Duplicates and leakage</h3>\n");
    let Some(duplicates) = &report.duplicates else {
        out.push_str(&note("This run's data report has no duplicate check (not done for this kind of input)."));
        return out;
    };
    let across =
        duplicates.exact_across_splits.unwrap_or(0.0) + duplicates.reverse_complement_across_splits.unwrap_or(0.0);
    let dropped = duplicates.dropped == Some(true);
    let (class, headline) = if across > 0.0 && !dropped {
        (
            "bad",
            format!(
                "{} validation/test examples also occur in an earlier split; they can inflate the test metrics.",
                count(Some(across))
            ),
        )
    } else if across > 0.0 {
        ("good", format!("{} cross-split duplicates were found and dropped.", count(Some(across))))
    } else {
        let text = if sequences {
            "No sequence occurs in two splits (exactly or as its reverse complement)."
        } else {
            "No example occurs in two splits."
        };
        ("good", text.to_string())
    };
    let _ = writeln!(out, "<div class=\"verdict {class}\">{}</div>", escape(&headline));
    let mut rows = vec![vec!["exact duplicates across splits".to_string(), count(duplicates.exact_across_splits)]];
    if sequences {
        rows.push(vec![
            "reverse-complement duplicates across splits".to_string(),
            count(duplicates.reverse_complement_across_splits),
        ]);
    }
    rows.push(vec!["duplicates within a split".to_string(), count(duplicates.within_splits)]);
    rows.push(vec!["duplicates dropped".to_string(), if dropped { "yes" } else { "no" }.to_string()]);
    out.push_str(&table("compact", &["check".into(), "count".into()], &rows, &[false, true]));
    if !duplicates.examples.is_empty() {
        let rows: Vec<Vec<String>> = duplicates
            .examples
            .iter()
            .take(20)
            .map(|example| {
                vec![
                    escape(&example.id),
                    escape(&example.split),
                    escape(&example.found_in),
                    if example.reverse_complement == Some(true) { "reverse complement" } else { "exact" }.to_string(),
                ]
            })
            .collect();
        let _ = writeln!(
            out,
            "<details><summary>Show {} duplicated example{}</summary>",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" }
        );
        out.push_str(&table(
            "compact",
            &["id".into(), "in split".into(), "also in".into(), "match".into()],
            &rows,
            &[false; 4],
        ));
        out.push_str("</details>\n");
    }
    out
}

/// The biology-aware warnings of `checks.json`, each with its reason.
fn checks(run: &Run) -> String {
    let Some(checks) = &run.checks else {
        return super::missing("checks.json", "the biology-aware checks");
    };
    if checks.is_empty() {
        return "<p><span class=\"badge ok\">ok</span>No warnings: the data and model passed every check.</p>\n".into();
    }
    let mut out = String::from("<ul class=\"checks\">\n");
    for check in checks {
        let severity = check.severity.as_deref().unwrap_or("note");
        let class = match severity {
            "warning" | "warn" => "warning",
            "error" => "error",
            "info" => "info",
            _ => "",
        };
        let id = check.id.as_deref().map(|id| format!(" <code>{}</code>", escape(id))).unwrap_or_default();
        let _ =
            write!(out, "<li><span class=\"badge {class}\">{}</span>{}{id}", escape(severity), escape(&check.message));
        if let Some(reason) = &check.reason {
            let _ = write!(out, "<p class=\"why\"><strong>Why it matters:</strong> {}</p>", escape(reason));
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
    out
}
