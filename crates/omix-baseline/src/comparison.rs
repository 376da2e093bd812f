//! Model versus baseline: a seeded paired bootstrap of the test-set difference, and a verdict
//! people can read.

use serde::{Deserialize, Serialize};

use crate::{BaselineError, paired_bootstrap};

/// Bootstrap resamples of the comparison.
pub const RESAMPLES: usize = 2000;
/// Confidence of the bootstrap interval.
pub const CONFIDENCE: f64 = 0.95;

/// Model versus baseline on the test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The statistic compared.
    pub metric: String,
    /// Whether larger values of it are better.
    pub higher_is_better: bool,
    /// The model's value.
    pub model: f64,
    /// The baseline's value.
    pub baseline: f64,
    /// Model minus baseline.
    pub difference: f64,
    /// Lower end of the bootstrap interval of the difference.
    pub lower: f64,
    /// Upper end.
    pub upper: f64,
    /// Confidence of the interval.
    pub confidence: f64,
    /// Resamples in which the statistic was defined.
    pub resamples_used: usize,
    /// Two-sided bootstrap p-value of "no difference".
    pub p_value: f64,
    /// The interval excludes zero on the model's side.
    pub model_beats_baseline: bool,
    /// One sentence for people.
    pub verdict: String,
}

/// Compare a model with a baseline on `n` test examples by a seeded paired bootstrap of
/// `statistic(sample) = (model, baseline)`, and say in one sentence what the interval means.
pub fn compare(
    metric: &str,
    higher_is_better: bool,
    n: usize,
    seed: u64,
    statistic: impl Fn(&[usize]) -> Option<(f64, f64)> + Sync,
) -> Result<Comparison, BaselineError> {
    let interval = paired_bootstrap(n, RESAMPLES, seed, CONFIDENCE, statistic)?;
    let beats = if higher_is_better { interval.lower > 0.0 } else { interval.upper < 0.0 };
    let worse = if higher_is_better { interval.upper < 0.0 } else { interval.lower > 0.0 };
    let verdict = if beats {
        format!(
            "the model beats the baseline: its {metric} is {} by {:.4} (95% CI {:.4} to {:.4})",
            if higher_is_better { "higher" } else { "lower" },
            interval.difference.abs(),
            interval.lower,
            interval.upper
        )
    } else if worse {
        format!(
            "the baseline is better: the model's {metric} differs by {:.4} (95% CI {:.4} to {:.4}); prefer the simpler model",
            interval.difference, interval.lower, interval.upper
        )
    } else {
        format!(
            "no significant difference in {metric} ({:+.4}, 95% CI {:.4} to {:.4}); the simpler model does as well",
            interval.difference, interval.lower, interval.upper
        )
    };
    Ok(Comparison {
        metric: metric.to_string(),
        higher_is_better,
        model: interval.estimate_a,
        baseline: interval.estimate_b,
        difference: interval.difference,
        lower: interval.lower,
        upper: interval.upper,
        confidence: CONFIDENCE,
        resamples_used: interval.resamples_used,
        p_value: interval.p_value,
        model_beats_baseline: beats,
        verdict,
    })
}
