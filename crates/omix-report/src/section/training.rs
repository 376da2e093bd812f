//! Loss curves and the monitored validation metric per epoch, best epoch marked.

use std::fmt::Write as _;

use crate::ReportError;
use crate::html::{escape, fixed, metric, metric_name, metric_unit, note};
use crate::plot::{Chart, Marker, Series, Style, colour, figure};
use omix_run::view::{RunView as Run, Table, Task};

/// The x-axis label of every per-epoch plot.
const EPOCH_AXIS: &str = "epoch (passes over the training set)";

/// What the loss is, in words, for the y-axis label.
fn loss_name(run: &Run) -> &'static str {
    if run.is_profile() {
        return "profile multinomial NLL + λ × log-count MSE";
    }
    let kind = run.model_kind().unwrap_or_default();
    if kind == "conv_autoencoder" {
        return "per-position cross-entropy";
    }
    if kind.contains("autoencoder") {
        return "reconstruction MSE";
    }
    match run.task() {
        Task::Binary | Task::Multilabel => "binary cross-entropy",
        Task::Multiclass => "cross-entropy",
        Task::Regression if run.config_str("train", "loss") == Some("poisson") => "Poisson neg. log-likelihood",
        Task::Regression => "mean squared error",
        Task::Reconstruction => "reconstruction error",
        Task::Unknown(_) => "training objective",
    }
}

/// `(epoch, value)` pairs of a numeric column, skipping missing values.
fn curve(log: &Table, epochs: &[Option<f64>], column: usize) -> Result<Vec<(f64, f64)>, ReportError> {
    let values = log.numbers(column)?;
    Ok(epochs.iter().zip(values).filter_map(|(epoch, value)| Some(((*epoch)?, value?))).collect())
}

/// What the per-epoch plots of one training log need to know besides the log.
pub(super) struct LogContext<'a> {
    /// The prefix of the chart ids (`training`), unique on the page.
    pub id: &'a str,
    /// The best epoch as `metrics.json` records it.
    pub best_epoch: Option<u64>,
    /// The monitored metric's key (`loss`, `auroc`, ...).
    pub monitor: &'a str,
    /// Early stopping's patience, when set.
    pub patience: Option<i64>,
    /// What the loss is, for the y-axis label.
    pub loss_name: &'a str,
    /// The y-axis label of the chart of the other validation metrics.
    pub metrics_label: &'a str,
    /// The caption of that chart (HTML; may be empty).
    pub metrics_caption: &'a str,
}

/// The y-axis label of a profile run's validation metrics.
pub(super) const PROFILE_METRICS_LABEL: &str = "validation metric on peaks";

/// The caption of a profile run's validation metrics.
pub(super) const PROFILE_METRICS_CAPTION: &str = "On validation peaks, mean over tasks. JSD: 0 (the observed shape) \
     to 0.83, lower is better; Pearson r: −1 to 1, higher is better.";

/// The training body.
pub(super) fn body(run: &Run) -> Result<String, ReportError> {
    let Some(log) = &run.log else {
        return Ok(super::missing("training_log.tsv", "the learning curves"));
    };
    let context = LogContext {
        id: "training",
        best_epoch: run.metrics.as_ref().and_then(|metrics| metrics.best_epoch),
        monitor: run.config_str("train", "monitor").unwrap_or("loss"),
        patience: run.config.as_ref().and_then(|c| c.get("train")?.get("patience")?.as_integer()),
        loss_name: loss_name(run),
        metrics_label: if run.is_profile() {
            PROFILE_METRICS_LABEL
        } else {
            "validation metric (0–1; MCC −1 to 1)"
        },
        metrics_caption: if run.is_profile() { PROFILE_METRICS_CAPTION } else { "" },
    };
    log_body(log, &context)
}

/// The facts and per-epoch plots of one training log.
pub(super) fn log_body(log: &Table, context: &LogContext) -> Result<String, ReportError> {
    let Some(epoch_column) = log.column("epoch") else {
        return Err(ReportError::malformed(&log.path, Some(1), "the header has no `epoch` column"));
    };
    let epochs = log.numbers(epoch_column)?;
    if epochs.iter().all(Option::is_none) {
        let name = log.path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        return Ok(note(&format!("<code>{}</code> has no epochs yet.", escape(&name))));
    }
    let best_epoch = best_epoch(context.best_epoch, log, &epochs)?;
    let mut out = String::new();

    // Facts: epochs, best epoch, learning rate, time.
    out.push_str("<dl class=\"facts\">\n");
    let last = epochs.iter().flatten().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let _ = writeln!(out, "<dt>epochs run</dt><dd>{}</dd>", fixed(last, 0));
    let monitor = context.monitor;
    let monitored_column = log.column("monitored");
    if let Some(best) = best_epoch {
        let mut text = fixed(best, 0);
        if let Some(column) = monitored_column {
            let points = curve(log, &epochs, column)?;
            if let Some((_, value)) = points.iter().find(|(epoch, _)| *epoch == best) {
                let _ = write!(text, " (validation {} {})", escape(&metric_name(monitor)), metric(Some(*value)));
            }
        }
        let _ = writeln!(out, "<dt>best epoch</dt><dd>{text}</dd>");
    }
    if let Some(column) = log.column("learning_rate") {
        let rates: Vec<f64> = log.numbers(column)?.into_iter().flatten().collect();
        if let (Some(first), Some(final_rate)) = (rates.first(), rates.last()) {
            let text = if first == final_rate {
                format!("{first:e} throughout")
            } else {
                format!("{first:e} at the start, {final_rate:e} at the end")
            };
            let _ = writeln!(out, "<dt>learning rate</dt><dd>{text}</dd>");
        }
    }
    if let Some(column) = log.column("seconds") {
        let seconds: f64 = log.numbers(column)?.into_iter().flatten().sum();
        let _ = writeln!(out, "<dt>training time</dt><dd>{} s in all</dd>", fixed(seconds, 1));
    }
    if let Some(patience) = context.patience {
        let _ = writeln!(
            out,
            "<dt>early stopping</dt><dd>monitoring validation {}, patience {patience} epochs</dd>",
            escape(&metric_name(monitor))
        );
    }
    out.push_str("</dl>\n");

    let markers: Vec<Marker> = best_epoch
        .map(|best| Marker { x: best, label: format!("best epoch {}", fixed(best, 0)) })
        .into_iter()
        .collect();
    out.push_str("<div class=\"plots\">\n");

    // Losses.
    let mut losses = Chart::new(
        &format!("{}-loss", context.id),
        "Training and validation loss",
        EPOCH_AXIS,
        &format!("loss per example ({})", context.loss_name),
    );
    losses.x_integer = true;
    losses.markers = markers.clone();
    for (index, (column, name)) in
        [("train_loss", "training loss"), ("validation_loss", "validation loss")].iter().enumerate()
    {
        if let Some(column) = log.column(column) {
            let points = curve(log, &epochs, column)?;
            if !points.is_empty() {
                losses.series.push(Series::line(*name, points, colour(index)));
            }
        }
    }
    if losses.series.is_empty() {
        out.push_str(&note("The log has no loss columns."));
    } else {
        out.push_str(&figure(
            &losses.svg(),
            "A widening gap between training and validation loss means the model is memorising the training set.",
        ));
    }

    // The monitored metric (or the other validation metrics when the loss itself is monitored).
    let monitored_is_loss = monitor == "loss";
    if let (Some(column), false) = (monitored_column, monitored_is_loss) {
        let mut chart = Chart::new(
            &format!("{}-monitored", context.id),
            &format!("Monitored metric: validation {}", metric_name(monitor)),
            EPOCH_AXIS,
            &format!("validation {} ({})", metric_name(monitor), metric_unit(monitor)),
        );
        chart.x_integer = true;
        chart.markers = markers.clone();
        chart.series.push(Series::line(
            format!("validation {}", metric_name(monitor)),
            curve(log, &epochs, column)?,
            colour(2),
        ));
        out.push_str(&figure(
            &chart.svg(),
            "Early stopping keeps the weights of the epoch with the best value of this metric.",
        ));
    }
    // Other validation metrics, for context.
    let mut others = Chart::new(
        &format!("{}-validation-metrics", context.id),
        if monitored_is_loss { "Validation metrics (the loss is monitored)" } else { "Other validation metrics" },
        EPOCH_AXIS,
        context.metrics_label,
    );
    others.x_integer = true;
    others.markers = markers;
    let monitored_key = format!("validation_{monitor}");
    for (index, name) in log.header.iter().enumerate() {
        if !name.starts_with("validation_") || name == "validation_loss" || *name == monitored_key {
            continue;
        }
        let points = curve(log, &epochs, index)?;
        if points.is_empty() {
            continue;
        }
        let mut series = Series::line(metric_name(name), points, colour(others.series.len() + 3));
        series.style = Style::Line { width: 1.8, dashed: false };
        others.series.push(series);
    }
    if !others.series.is_empty() {
        out.push_str(&figure(&others.svg(), context.metrics_caption));
    } else if monitored_is_loss {
        out.push_str(&note(
            "The validation loss is the monitored metric (see the loss plot); the log has no other validation metrics.",
        ));
    }

    // Learning rate, only when it changed.
    if let Some(column) = log.column("learning_rate") {
        let points = curve(log, &epochs, column)?;
        let changes = points.windows(2).any(|pair| pair[0].1 != pair[1].1);
        if changes {
            let mut chart = Chart::new(
                &format!("{}-learning-rate", context.id),
                "Learning rate",
                EPOCH_AXIS,
                "learning rate (step size)",
            );
            chart.x_integer = true;
            chart.series.push(Series::line("learning rate", points, colour(7)));
            out.push_str(&figure(&chart.svg(), ""));
        }
    }
    out.push_str("</div>\n");
    Ok(out)
}

/// The best epoch: from `metrics.json`, else the last epoch the log marks as best.
fn best_epoch(recorded: Option<u64>, log: &Table, epochs: &[Option<f64>]) -> Result<Option<f64>, ReportError> {
    if let Some(best) = recorded {
        return Ok(Some(best as f64));
    }
    let Some(column) = log.column("best") else {
        return Ok(None);
    };
    let flags = log.numbers(column)?;
    Ok(epochs.iter().zip(flags).filter(|(_, flag)| *flag == Some(1.0)).filter_map(|(epoch, _)| *epoch).next_back())
}
