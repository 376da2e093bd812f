//! ROC and precision–recall curves (classification), or predicted-vs-observed scatter plots
//! (regression).

use std::fmt::Write as _;

use crate::ReportError;
use crate::html::{count, escape, fixed, metric, note};
use crate::plot::{Chart, Series, Style, colour, figure};
use crate::predictions::{Ranked, ranked, regressed};
use omix_run::view::{RunView as Run, Task};

/// At most this many curves per plot; more would be unreadable.
const MAX_CURVES: usize = 10;
/// At most this many regression scatter plots.
const MAX_SCATTERS: usize = 6;

/// The ROC / PR body.
pub(super) fn body(run: &Run) -> Result<String, ReportError> {
    let task = run.task();
    match task {
        Task::Reconstruction => {
            return Ok(super::not_applicable(
                "an autoencoder is scored by how well it reconstructs its input, not by ranking labelled examples \
                 (see the reconstruction error in the summary).",
            ));
        }
        Task::Unknown(_) => {
            return Ok(super::not_applicable("the task of this run is not known, so there is nothing to rank."));
        }
        _ => {}
    }
    let Some(table) = &run.predictions else {
        return Ok(super::missing("test_predictions.tsv", "the ROC and precision–recall curves"));
    };
    if task == Task::Regression {
        return scatter(run, table);
    }
    let problems = ranked(run, table, &task)?;
    if problems.is_empty() {
        return Ok(note("<code>test_predictions.tsv</code> has no <code>probability_*</code> columns to rank."));
    }
    let mut out = String::new();
    let (mut usable, skipped): (Vec<Ranked>, Vec<Ranked>) =
        problems.into_iter().partition(|problem| problem.positives() > 0 && problem.positives() < problem.labels.len());
    if !skipped.is_empty() {
        let names: Vec<String> = skipped.iter().map(|problem| escape(&problem.name)).collect();
        out.push_str(&note(&format!(
            "No curve for {} (the test set has only positives or only negatives for it): {}.",
            if skipped.len() == 1 { "one class/task" } else { "these classes/tasks" },
            names.join(", ")
        )));
    }
    if usable.is_empty() {
        return Ok(out);
    }
    let total = usable.len();
    if total > MAX_CURVES {
        // The tasks with the most positives give the steadiest curves; stable sort keeps file order on ties.
        usable.sort_by_key(|problem| std::cmp::Reverse(problem.positives()));
        usable.truncate(MAX_CURVES);
        out.push_str(&note(&format!(
            "Curves for the {MAX_CURVES} tasks with the most positive test examples (of {total}); every task is in \
             the per-class table."
        )));
    }
    let single = usable.len() == 1;
    let what = match task {
        Task::Multiclass => "one-vs-rest per class",
        Task::Multilabel => "one curve per task",
        _ => "",
    };
    let suffix = if what.is_empty() { String::new() } else { format!(" ({what})") };

    let mut roc = Chart::new(
        "roc-curve",
        &format!("ROC curve, test set{suffix}"),
        "false positive rate (1 − specificity)",
        "true positive rate (sensitivity)",
    );
    roc.x_range = Some((0.0, 1.0));
    roc.y_range = Some((0.0, 1.0));
    roc.height = 470.0;
    roc.series.push(Series::reference("chance (AUROC 0.5)", vec![(0.0, 0.0), (1.0, 1.0)]));

    let mut pr = Chart::new(
        "pr-curve",
        &format!("Precision–recall curve, test set{suffix}"),
        "recall (sensitivity)",
        "precision (positive predictive value)",
    );
    pr.x_range = Some((0.0, 1.0));
    pr.y_range = Some((0.0, 1.0));
    pr.height = 470.0;
    let prevalence_in_legend = usable.len() <= 4;

    for (index, problem) in usable.iter().enumerate() {
        let colour = colour(index);
        let auroc = omix_metrics::roc_auc(&problem.labels, &problem.scores);
        let auprc = omix_metrics::average_precision(&problem.labels, &problem.scores);
        let label = if single && task == Task::Binary {
            "model".to_string()
        } else if problem.name.parse::<f64>().is_ok() {
            // A bare number reads as a value in a legend; say what it is.
            format!("{} {}", if task == Task::Multilabel { "task" } else { "class" }, problem.name)
        } else {
            problem.name.clone()
        };
        let roc_points: Vec<(f64, f64)> = omix_metrics::roc_curve(&problem.labels, &problem.scores)
            .into_iter()
            .map(|(fpr, tpr, _)| (fpr, tpr))
            .collect();
        roc.series.push(Series::line(format!("{label} (AUROC {})", metric(auroc)), roc_points, colour));
        let pr_points: Vec<(f64, f64)> = omix_metrics::precision_recall_curve(&problem.labels, &problem.scores)
            .into_iter()
            .map(|(precision, recall, _)| (recall, precision))
            .collect();
        pr.series.push(Series {
            name: format!("{label} (AUPRC {})", metric(auprc)),
            points: pr_points,
            colour: colour.into(),
            style: Style::Step { width: 2.2 },
            in_legend: true,
        });
        let prevalence = problem.positives() as f64 / problem.labels.len() as f64;
        let prevalence_name = if single {
            format!("chance = prevalence {}", fixed(prevalence, 2))
        } else {
            format!("{label} prevalence {}", fixed(prevalence, 2))
        };
        let mut baseline = Series::reference(prevalence_name, vec![(0.0, prevalence), (1.0, prevalence)]);
        if !single {
            baseline.colour = colour.into();
            baseline.style = Style::Line { width: 1.3, dashed: true };
            baseline.in_legend = prevalence_in_legend;
        }
        pr.series.push(baseline);
    }
    let examples = usable.first().map_or(0, |problem| problem.labels.len());
    let positives: Vec<String> = usable
        .iter()
        .map(|problem| format!("<code>{}</code> {}", escape(&problem.name), count(Some(problem.positives() as f64))))
        .collect();
    out.push_str("<div class=\"plots\">\n");
    out.push_str(&figure(
        &roc.svg(),
        "Each point is a score threshold: lowering it finds more positives (up) at the cost of more false alarms \
         (right). The dashed diagonal is a model that guesses.",
    ));
    let dashed = if single {
        "The dashed line is the precision of guessing: the share of positives."
    } else {
        "Dashed lines (same colours) are the precision of guessing: each class's share of positives."
    };
    out.push_str(&figure(&pr.svg(), &format!("Precision is the share of predicted positives that are real. {dashed}")));
    out.push_str("</div>\n");
    let _ = writeln!(
        out,
        "<p class=\"hint\">Computed from <code>test_predictions.tsv</code>: {} test examples; positives per {}: {}.</p>",
        count(Some(examples as f64)),
        if task == Task::Multilabel { "task" } else { "class" },
        positives.join(", ")
    );
    Ok(out)
}

/// Predicted against observed values, one plot per target.
fn scatter(run: &Run, table: &omix_run::view::Table) -> Result<String, ReportError> {
    let targets = regressed(run, table)?;
    if targets.is_empty() {
        return Ok(note("<code>test_predictions.tsv</code> has no <code>prediction_*</code> columns."));
    }
    let mut out = super::not_applicable(
        "ROC and precision–recall curves need classes; for this regression run, predicted and observed values \
         are plotted instead.",
    );
    if targets.len() > MAX_SCATTERS {
        out.push_str(&note(&format!("The first {MAX_SCATTERS} of {} targets are shown.", targets.len())));
    }
    out.push_str("<div class=\"plots\">\n");
    for (index, target) in targets.iter().take(MAX_SCATTERS).enumerate() {
        let pearson = pearson(&target.pairs);
        let mut chart = Chart::new(
            &format!("scatter-{index}"),
            &format!("{}: predicted vs observed (test set)", target.name),
            "observed value (target units)",
            "predicted value (target units)",
        );
        chart.equal_axes = true;
        chart.height = 470.0;
        let low = target.pairs.iter().map(|p| p.0.min(p.1)).fold(f64::INFINITY, f64::min);
        let high = target.pairs.iter().map(|p| p.0.max(p.1)).fold(f64::NEG_INFINITY, f64::max);
        chart.series.push(Series {
            name: format!(
                "test examples (n = {}, Pearson r = {})",
                count(Some(target.pairs.len() as f64)),
                metric(pearson)
            ),
            points: target.pairs.clone(),
            colour: colour(index).into(),
            style: Style::Points { radius: 2.8 },
            in_legend: true,
        });
        if low.is_finite() && high.is_finite() {
            chart.series.push(Series::reference("perfect prediction (y = x)", vec![(low, low), (high, high)]));
        }
        out.push_str(&figure(&chart.svg(), ""));
    }
    out.push_str("</div>\n");
    Ok(out)
}

/// Pearson correlation of `(x, y)` pairs, `None` when undefined.
fn pearson(pairs: &[(f64, f64)]) -> Option<f64> {
    let n = pairs.len() as f64;
    if pairs.len() < 2 {
        return None;
    }
    let (mean_x, mean_y) = pairs.iter().fold((0.0, 0.0), |(x, y), p| (x + p.0 / n, y + p.1 / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mean_x) * (y - mean_y);
        sxx += (x - mean_x).powi(2);
        syy += (y - mean_y).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}
