//! The typed records a training run writes: checks, the per-epoch log, the split manifest and
//! predictions.

use std::collections::BTreeMap;
use std::path::Path;

use omix_data::graph::Graph;
use omix_data::{Dataset, Split, Target, Task};
use omix_metrics::top_k_decisions;
use serde::{Deserialize, Serialize};

use crate::{RunDir, RunError, files};

/// One finding of the pre-training checks (`checks.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Stable identifier (e.g. `wide_first_layer`).
    pub id: String,
    /// `warning` or `info`.
    pub severity: String,
    /// What was seen.
    pub message: String,
    /// Why it matters.
    pub reason: String,
}

impl Check {
    /// A warning.
    pub fn warning(id: &str, message: String, reason: &str) -> Self {
        Self { id: id.into(), severity: "warning".into(), message, reason: reason.into() }
    }

    /// A note that is not a warning.
    pub fn info(id: &str, message: String, reason: &str) -> Self {
        Self { id: id.into(), severity: "info".into(), message, reason: reason.into() }
    }
}

/// One line of the training log (`training_log.tsv`) and of the checkpoint's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Learning rate used in this epoch.
    pub learning_rate: f64,
    /// Mean (weighted) training loss over the epoch's batches.
    pub train_loss: f64,
    /// Validation loss (unweighted).
    pub validation_loss: f64,
    /// Validation metrics logged for this kind of experiment, by column name
    /// (`validation_auroc`, `validation_macro_f1`, ...); `None` where undefined.
    #[serde(flatten)]
    pub validation: BTreeMap<String, Option<f64>>,
    /// The monitored value.
    pub monitored: f64,
    /// Whether this epoch is the best so far.
    pub best: bool,
    /// Wall time of the epoch in seconds.
    pub seconds: f64,
}

impl EpochRecord {
    /// A logged validation metric, e.g. `"validation_auroc"`.
    pub fn validation(&self, column: &str) -> Option<f64> {
        self.validation.get(column).copied().flatten()
    }
}

/// Write the per-epoch log as TSV, with the validation columns in the order given.
pub fn write_log(run: &RunDir, columns: &[&str], history: &[EpochRecord]) -> Result<(), RunError> {
    let show = |v: Option<f64>| v.map_or_else(|| "NA".to_string(), |v| format!("{v:.6}"));
    let mut text = String::from("epoch\tlearning_rate\ttrain_loss\tvalidation_loss");
    for column in columns {
        text.push('\t');
        text.push_str(column);
    }
    text.push_str("\tmonitored\tbest\tseconds\n");
    for r in history {
        text.push_str(&format!("{}\t{:e}\t{:.6}\t{:.6}", r.epoch, r.learning_rate, r.train_loss, r.validation_loss));
        for column in columns {
            text.push('\t');
            text.push_str(&show(r.validation(column)));
        }
        text.push_str(&format!("\t{:.6}\t{}\t{:.2}\n", r.monitored, u8::from(r.best), r.seconds));
    }
    run.write_text(files::LOG, &text)
}

/// The label of a target as text (multi-label: comma-separated task names that are 1).
pub fn label_text(dataset: &Dataset, target: &Target) -> String {
    match target {
        Target::Class(class) => dataset.schema.class_names[*class].clone(),
        Target::Tasks(values) => dataset
            .schema
            .class_names
            .iter()
            .zip(values)
            .filter(|(_, v)| **v)
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(","),
        Target::Values(values) => values.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(","),
        Target::Unlabelled => String::new(),
    }
}

/// Write the split manifest: one line per example.
pub fn write_manifest(run: &RunDir, dataset: &Dataset) -> Result<(), RunError> {
    omix_io::write_atomically(&run.path(files::MANIFEST), |out| {
        writeln!(out, "id\tsplit\tlabel\tfile\tline\tshuffled_from")?;
        for example in &dataset.examples {
            let label = label_text(dataset, &example.target);
            let origin = example.shuffled_from.map(|i| dataset.examples[i].id.as_str()).unwrap_or("");
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}",
                example.id,
                example.split.name(),
                label,
                dataset.files[example.file].display(),
                example.line,
                origin
            )?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Write predictions as TSV: id, label (if known), one probability (classification) or value
/// (regression) column per output and the predicted label; for autoencoders
/// (`reconstructs`), the reconstruction error of each example.
pub fn write_predictions(
    out: &mut dyn std::io::Write,
    dataset: &Dataset,
    indices: &[usize],
    scores: &[f64],
    threshold: f64,
    header: bool,
    reconstructs: bool,
) -> std::io::Result<()> {
    let schema = &dataset.schema;
    let labelled = indices.iter().any(|&i| dataset.examples[i].target != Target::Unlabelled);
    if reconstructs {
        if header {
            writeln!(out, "id{}\treconstruction_error", if labelled { "\tlabel" } else { "" })?;
        }
        for (&index, score) in indices.iter().zip(scores) {
            let example = &dataset.examples[index];
            write!(out, "{}", example.id)?;
            if labelled {
                write!(out, "\t{}", label_text(dataset, &example.target))?;
            }
            writeln!(out, "\t{score:.6}")?;
        }
        return Ok(());
    }
    let outputs = schema.outputs().max(1);
    let regression = schema.task == Task::Regression;
    if header {
        write!(out, "id")?;
        if labelled {
            write!(out, "\t{}", if regression { "target" } else { "label" })?;
        }
        match schema.task {
            Task::Binary => write!(out, "\tprobability_{}", schema.class_names[1])?,
            Task::Regression => {
                for name in &schema.class_names {
                    write!(out, "\tprediction_{name}")?;
                }
            }
            _ => {
                for name in &schema.class_names {
                    write!(out, "\tprobability_{name}")?;
                }
            }
        }
        if regression {
            writeln!(out)?;
        } else {
            writeln!(out, "\tpredicted")?;
        }
    }
    for (&index, row) in indices.iter().zip(scores.chunks(outputs)) {
        let example = &dataset.examples[index];
        write!(out, "{}", example.id)?;
        if labelled {
            write!(out, "\t{}", label_text(dataset, &example.target))?;
        }
        for value in row {
            write!(out, "\t{value:.6}")?;
        }
        if regression {
            writeln!(out)?;
            continue;
        }
        let predicted = match schema.task {
            Task::Binary => schema.class_names[usize::from(row[0] >= threshold)].clone(),
            Task::Multiclass => {
                let mut best = 0;
                for (i, v) in row.iter().enumerate() {
                    if *v > row[best] {
                        best = i;
                    }
                }
                schema.class_names[best].clone()
            }
            Task::Regression | Task::Unsupervised => String::new(),
            Task::Multilabel => schema
                .class_names
                .iter()
                .zip(row)
                .filter(|(_, v)| **v >= threshold)
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(","),
        };
        writeln!(out, "\t{predicted}")?;
    }
    Ok(())
}

/// Write a graph run's split manifest: one line per node (unlabelled nodes too).
pub fn write_node_manifest(run: &RunDir, graph: &Graph) -> Result<(), RunError> {
    omix_io::write_atomically(&run.path(files::MANIFEST), |out| {
        writeln!(out, "node\tsplit\tlabels")?;
        for (node, name) in graph.nodes.iter().enumerate() {
            let split = graph.splits[node].map_or("unlabelled", Split::name);
            writeln!(out, "{name}\t{split}\t{}", graph.label_text(node))?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Write the predictions of a graph run's `nodes`: probabilities per class and the decisions
/// (top-k for multi-label graphs, argmax otherwise); `scores` are `[all nodes, classes]`.
pub fn write_node_predictions(path: &Path, graph: &Graph, nodes: &[usize], scores: &[f64]) -> Result<(), RunError> {
    let classes = graph.class_count();
    let written = omix_io::write_atomically(path, |out| {
        write!(out, "node\tlabels")?;
        for name in &graph.class_names {
            write!(out, "\tprobability_{name}")?;
        }
        writeln!(out, "\tpredicted")?;
        for &node in nodes {
            let row = &scores[node * classes..(node + 1) * classes];
            write!(out, "{}\t{}", graph.nodes[node], graph.label_text(node))?;
            for value in row {
                write!(out, "\t{value:.6}")?;
            }
            let truth: Vec<bool> = graph.label_row(node).iter().map(|&v| v > 0.5).collect();
            let predicted: Vec<&str> = match graph.task {
                Task::Multilabel => top_k_decisions(&truth, row, classes)
                    .iter()
                    .zip(&graph.class_names)
                    .filter(|(d, _)| **d)
                    .map(|(_, n)| n.as_str())
                    .collect(),
                _ => {
                    let best = (0..classes).fold(0, |best, c| if row[c] > row[best] { c } else { best });
                    vec![graph.class_names[best].as_str()]
                }
            };
            writeln!(out, "\t{}", predicted.join(","))?;
        }
        Ok(())
    });
    Ok(written?)
}
