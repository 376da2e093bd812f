//! Paired bootstrap of the difference between two models' metrics on one test set.
//!
//! Both models are scored on the same resampled examples, so the interval reflects the
//! difference between them rather than the test set's variability as a whole.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::BaselineError;

/// Result of a paired bootstrap: estimates on the full set and a percentile interval for
/// `a - b`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BootstrapInterval {
    /// Statistic of model A on the full test set.
    pub estimate_a: f64,
    /// Statistic of model B on the full test set.
    pub estimate_b: f64,
    /// `estimate_a - estimate_b`.
    pub difference: f64,
    /// Lower end of the percentile interval of the resampled differences.
    pub lower: f64,
    /// Upper end of the percentile interval.
    pub upper: f64,
    /// Confidence level of the interval (e.g. 0.95).
    pub confidence: f64,
    /// Resamples drawn.
    pub resamples: usize,
    /// Resamples on which the statistic was defined (those the interval is taken over).
    pub resamples_used: usize,
    /// Two-sided p-value for "no difference": twice the share of resampled differences on the
    /// other side of 0 from `difference` (0 counting as the other side), with the +1
    /// correction `(1 + count) / (1 + resamples_used)`, capped at 1; 1 when `difference` is 0.
    pub p_value: f64,
    /// True when A is better than B with this confidence: `lower > 0`.
    pub beats: bool,
}

/// Paired bootstrap of `statistic` over `n` test examples.
///
/// `statistic(indices)` returns the metric of model A and of model B computed on the examples
/// `indices` (with repeats), or `None` where it is undefined (say, a resample without
/// positives for AUROC). The full set is `0..n`. Resample `r` draws its `n` indices from
/// ChaCha8 seeded with `seed` on stream `r`, so the result does not depend on the number of
/// threads. The interval is the `(1 - confidence) / 2` and `(1 + confidence) / 2` quantiles
/// (linear interpolation, numpy's default) of the defined resampled differences.
pub fn paired_bootstrap<F>(
    n: usize,
    resamples: usize,
    seed: u64,
    confidence: f64,
    statistic: F,
) -> Result<BootstrapInterval, BaselineError>
where
    F: Fn(&[usize]) -> Option<(f64, f64)> + Sync,
{
    if n == 0 {
        return Err(BaselineError::Empty { what: "a paired bootstrap" });
    }
    if resamples == 0 {
        return Err(BaselineError::InvalidParameter {
            name: "resamples",
            value: "0".into(),
            rule: "must be at least 1",
        });
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(BaselineError::InvalidParameter {
            name: "confidence",
            value: confidence.to_string(),
            rule: "must be strictly between 0 and 1",
        });
    }
    let all: Vec<usize> = (0..n).collect();
    let (estimate_a, estimate_b) =
        statistic(&all).filter(|(a, b)| a.is_finite() && b.is_finite()).ok_or(BaselineError::UndefinedStatistic)?;
    let difference = estimate_a - estimate_b;

    let mut differences: Vec<f64> = (0..resamples)
        .into_par_iter()
        .map_init(
            || vec![0usize; n],
            |indices, r| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(r as u64);
                indices.iter_mut().for_each(|i| *i = rng.random_range(0..n));
                statistic(indices).map(|(a, b)| a - b).filter(|d| d.is_finite())
            },
        )
        .collect::<Vec<Option<f64>>>()
        .into_iter()
        .flatten()
        .collect();
    if differences.is_empty() {
        return Err(BaselineError::NoDefinedResamples { resamples });
    }
    differences.sort_by(f64::total_cmp);
    let used = differences.len();
    let lower = quantile(&differences, (1.0 - confidence) / 2.0);
    let upper = quantile(&differences, (1.0 + confidence) / 2.0);
    let other_side = if difference > 0.0 {
        differences.iter().filter(|&&d| d <= 0.0).count()
    } else {
        differences.iter().filter(|&&d| d >= 0.0).count()
    };
    let p_value = if difference == 0.0 { 1.0 } else { (2.0 * (1 + other_side) as f64 / (1 + used) as f64).min(1.0) };
    Ok(BootstrapInterval {
        estimate_a,
        estimate_b,
        difference,
        lower,
        upper,
        confidence,
        resamples,
        resamples_used: used,
        p_value,
        beats: lower > 0.0,
    })
}

/// Quantile `q` of non-empty sorted values with linear interpolation (numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let fraction = position - below as f64;
    sorted[below] + fraction * (sorted[above] - sorted[below])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accuracy of two predictors: A right on `a_right`, B right on `b_right`.
    fn accuracies<'a>(a_right: &'a [bool], b_right: &'a [bool]) -> impl Fn(&[usize]) -> Option<(f64, f64)> + Sync + 'a {
        move |indices: &[usize]| {
            let n = indices.len() as f64;
            let a = indices.iter().filter(|&&i| a_right[i]).count() as f64 / n;
            let b = indices.iter().filter(|&&i| b_right[i]).count() as f64 / n;
            Some((a, b))
        }
    }

    #[test]
    fn quantiles_match_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert!((quantile(&v, 0.025) - 1.075).abs() < 1e-12);
    }

    #[test]
    fn identical_predictors_do_not_beat_each_other() -> Result<(), BaselineError> {
        let right: Vec<bool> = (0..300).map(|i| i % 3 != 0).collect();
        let result = paired_bootstrap(300, 500, 1, 0.95, accuracies(&right, &right))?;
        assert_eq!(result.difference, 0.0);
        assert!(result.lower <= 0.0 && result.upper >= 0.0);
        assert!(!result.beats);
        assert_eq!(result.p_value, 1.0);
        Ok(())
    }

    #[test]
    fn a_clearly_better_predictor_beats_the_other() -> Result<(), BaselineError> {
        // A is right on 90%, B on 70% (B's right answers are a subset of A's).
        let a: Vec<bool> = (0..500).map(|i| i % 10 != 0).collect();
        let b: Vec<bool> = (0..500).map(|i| i % 10 >= 3).collect();
        let result = paired_bootstrap(500, 1000, 7, 0.95, accuracies(&a, &b))?;
        assert!((result.difference - 0.2).abs() < 1e-12);
        assert!(result.beats && result.lower > 0.1 && result.upper < 0.3);
        assert_eq!(result.resamples_used, 1000);
        // No resample reverses the order: p is the smallest possible, 2 / 1001.
        assert!((result.p_value - 2.0 / 1001.0).abs() < 1e-15);
        let reversed = paired_bootstrap(500, 1000, 7, 0.95, accuracies(&b, &a))?;
        assert!(!reversed.beats && reversed.upper < 0.0);
        assert!((reversed.lower + result.upper).abs() < 1e-12);
        Ok(())
    }

    #[test]
    fn results_are_deterministic_and_thread_independent() -> Result<(), BaselineError> {
        let a: Vec<bool> = (0..200).map(|i| (i * 7) % 11 < 8).collect();
        let b: Vec<bool> = (0..200).map(|i| (i * 5) % 13 < 9).collect();
        let first = paired_bootstrap(200, 400, 3, 0.9, accuracies(&a, &b))?;
        let single_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .map_err(|_| BaselineError::Empty { what: "thread pool" })?;
        let second = single_thread.install(|| paired_bootstrap(200, 400, 3, 0.9, accuracies(&a, &b)))?;
        assert_eq!(first, second);
        assert_ne!(first, paired_bootstrap(200, 400, 4, 0.9, accuracies(&a, &b))?);
        Ok(())
    }

    #[test]
    fn undefined_resamples_are_skipped_and_counted() -> Result<(), BaselineError> {
        // Defined only when example 0 is drawn (about 1 - 1/e of the resamples of 10).
        let result = paired_bootstrap(10, 300, 5, 0.95, |indices: &[usize]| {
            indices.contains(&0).then(|| (indices.iter().sum::<usize>() as f64, 0.0))
        })?;
        assert!(result.resamples_used > 150 && result.resamples_used < 250, "{}", result.resamples_used);
        assert_eq!(
            paired_bootstrap(10, 5, 5, 0.95, |indices: &[usize]| (indices.len() > 10).then_some((0.0, 0.0))),
            Err(BaselineError::UndefinedStatistic)
        );
        // Defined on the full set only (a resample equal to 0..20 in order is all but impossible).
        let full: Vec<usize> = (0..20).collect();
        assert_eq!(
            paired_bootstrap(20, 5, 5, 0.95, |indices: &[usize]| (indices == full.as_slice()).then_some((1.0, 0.0))),
            Err(BaselineError::NoDefinedResamples { resamples: 5 })
        );
        assert!(matches!(
            paired_bootstrap(10, 5, 5, 1.0, |_: &[usize]| Some((0.0, 0.0))),
            Err(BaselineError::InvalidParameter { name: "confidence", .. })
        ));
        Ok(())
    }
}
