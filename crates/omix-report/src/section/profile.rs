//! The sections of a profile run's report (BPNet, ChromBPNet), and what they share: the metrics
//! shown per task, the model-versus-baseline verdict and profiles drawn per strand.

pub(super) mod attributions;
pub(super) mod bias;
pub(super) mod data;
pub(super) mod examples;
pub(super) mod footprints;
pub(super) mod metrics;
pub(super) mod summary;

use std::collections::BTreeMap;

use crate::html::{escape, metric};
use crate::plot::{Series, Style};
use omix_run::view::{ProfileMetricsView, ProfileScores, ProfileSplitScores, TrackStrand};

/// One metric of a task's profile scores, as the tables and cards show it.
pub(super) struct ProfileMetric {
    /// The column heading.
    pub label: &'static str,
    /// How to read it.
    pub read: fn(&ProfileScores) -> Option<f64>,
    /// Whether a higher value is better.
    pub higher_is_better: bool,
}

/// The metrics of every table, in column order.
pub(super) const METRICS: [ProfileMetric; 5] = [
    ProfileMetric { label: "median JSD", read: |s| s.median_jsd, higher_is_better: false },
    ProfileMetric { label: "median profile Pearson r", read: |s| s.median_profile_pearson, higher_is_better: true },
    ProfileMetric { label: "count Pearson r", read: |s| s.count_pearson, higher_is_better: true },
    ProfileMetric { label: "count Spearman ρ", read: |s| s.count_spearman, higher_is_better: true },
    ProfileMetric { label: "log-count MSE", read: |s| s.count_mse, higher_is_better: false },
];

/// How to read the metrics, in one paragraph.
pub(super) const GLOSSARY: &str = "JSD: Jensen–Shannon distance between the observed reads of a window (per strand, \
     normalised to sum 1) and the predicted profile; 0 is a perfect shape, √ln 2 ≈ 0.83 the largest possible; the \
     median over windows with reads. Profile Pearson r: correlation of observed reads and predicted probabilities \
     along the window (median over windows). Count Pearson r / Spearman ρ: agreement of the predicted log count \
     with ln(1 + observed reads) across windows. Log-count MSE: their mean squared difference.";

/// The mean over tasks of one metric (`None` when no task has it).
pub(super) fn task_mean(
    tasks: &BTreeMap<String, ProfileScores>,
    read: fn(&ProfileScores) -> Option<f64>,
) -> Option<f64> {
    let values: Vec<f64> = tasks.values().filter_map(read).filter(|v| v.is_finite()).collect();
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The split the headline numbers come from: test, else validation; and its name.
pub(super) fn headline_split(metrics: &ProfileMetricsView) -> Option<(&'static str, &ProfileSplitScores)> {
    match (&metrics.test, &metrics.validation) {
        (Some(test), _) => Some(("test", test)),
        (None, Some(validation)) => Some(("validation", validation)),
        (None, None) => None,
    }
}

/// What the baseline is, in words: as `metrics.json` says, else what older versions used.
pub(super) fn baseline_description(metrics: &ProfileMetricsView) -> String {
    metrics.baseline_model.clone().unwrap_or_else(|| {
        "the average training profile and the mean training log count, the same for every region".into()
    })
}

/// The comparison of a model with the baseline on the test peaks: a CSS class (`good`, `bad`,
/// `neutral`) and the sentence, in HTML. `None` when either side is absent.
pub(super) fn verdict(metrics: &ProfileMetricsView) -> Option<(&'static str, String)> {
    let (model, baseline) = (metrics.test.as_ref()?, metrics.baseline_test.as_ref()?);
    let mut shape_wins = 0;
    let mut count_wins = 0;
    let mut compared = 0;
    let mut details = Vec::new();
    for (task, scores) in &model.peaks {
        let Some(base) = baseline.peaks.get(task) else { continue };
        let (Some(jsd), Some(base_jsd), Some(mse), Some(base_mse)) =
            (scores.median_jsd, base.median_jsd, scores.count_mse, base.count_mse)
        else {
            continue;
        };
        compared += 1;
        shape_wins += usize::from(jsd < base_jsd);
        count_wins += usize::from(mse < base_mse);
        details.push(format!(
            "<code>{}</code>: median JSD {} vs {}, log-count MSE {} vs {}",
            escape(task),
            metric(Some(jsd)),
            metric(Some(base_jsd)),
            metric(Some(mse)),
            metric(Some(base_mse))
        ));
    }
    if compared == 0 {
        return None;
    }
    let (class, sentence) = if shape_wins == compared && count_wins == compared {
        (
            "good",
            "The model beats the baseline: its profiles are closer to the observed reads (lower JSD) and its total \
             counts closer too (lower log-count MSE), on every task.",
        )
    } else if shape_wins == 0 && count_wins == 0 {
        (
            "bad",
            "The model does not beat the baseline: the baseline predicts the test peaks as well, so the model has \
             not learned more of what the sequence says about the reads.",
        )
    } else if shape_wins == compared {
        (
            "neutral",
            "The model beats the baseline on profile shape (lower JSD) but not on total counts (log-count MSE) on \
             every task.",
        )
    } else if count_wins == compared {
        (
            "neutral",
            "The model beats the baseline on total counts (log-count MSE) but not on profile shape (JSD) on every \
             task.",
        )
    } else {
        ("neutral", "The model beats the baseline on some tasks or measures only.")
    };
    Some((
        class,
        format!(
            "{sentence} Test peaks, model vs baseline ({}): {}. Point estimates, without a confidence interval.",
            escape(&baseline_description(metrics)),
            details.join("; ")
        ),
    ))
}

/// `values` averaged over bins of `bin` bases, as `(x, mean)` with `x` the bin's centre counted
/// from `first` (the position of the first value); the minus strand negated (drawn below the axis).
pub(super) fn binned(values: &[f32], bin: usize, first: f64, strand: TrackStrand) -> Vec<(f64, f64)> {
    let sign = if strand == TrackStrand::Minus { -1.0 } else { 1.0 };
    let bin = bin.max(1);
    values
        .chunks(bin)
        .enumerate()
        .map(|(index, chunk)| {
            let mean = chunk.iter().map(|&v| f64::from(v)).sum::<f64>() / chunk.len() as f64;
            let centre = (index * bin) as f64 + (chunk.len() - 1) as f64 / 2.0;
            (first + centre, sign * mean)
        })
        .collect()
}

/// A line of one strand's profile; only the first strand of a kind is named in the legend.
pub(super) fn strand_line(name: &str, points: Vec<(f64, f64)>, colour: &str, width: f64, first: bool) -> Series {
    let mut series = Series::line(name, points, colour);
    series.style = Style::Line { width, dashed: false };
    series.in_legend = first;
    series
}

/// The y = 0 line of a stranded plot (plus above, minus below), left out of the legend.
pub(super) fn zero_line(from: f64, to: f64) -> Series {
    let mut series = Series::reference("zero", vec![(from, 0.0), (to, 0.0)]);
    series.style = Style::Line { width: 1.0, dashed: false };
    series.in_legend = false;
    series
}

/// A number of reads with thousands grouped (one decimal below 100).
pub(super) fn reads(value: f64) -> String {
    if value.abs() < 100.0 { crate::html::fixed(value, 1) } else { crate::html::count(Some(value.round())) }
}

/// A number of epochs in words (`1 epoch`, `4 epochs`).
pub(super) fn epochs(count: u64) -> String {
    if count == 1 { "1 epoch".into() } else { format!("{count} epochs") }
}

/// A change of a natural-log count, with the fold change it means (`+0.693 (×2.00)`).
pub(super) fn log_change(value: Option<f64>) -> String {
    match value {
        Some(value) if value.is_finite() => {
            let sign = if value > 0.0 { "+" } else { "" };
            format!("{sign}{} (×{})", crate::html::fixed(value, 3), crate::html::fixed(value.exp(), 2))
        }
        _ => "–".into(),
    }
}
