//! Metrics for base-resolution profile models (BPNet, ChromBPNet): how well a predicted profile
//! (a distribution over the bases of a window) and a predicted total count match the observed
//! read counts.
//!
//! The conventions follow the two reference implementations:
//!
//! - **Jensen-Shannon distance** as chrombpnet's `training/metrics.py::profile_metrics` computes
//!   it: `scipy.spatial.distance.jensenshannon` (natural log, so it lies in `[0, √ln 2]`) of the
//!   observed counts normalised to sum 1 and the predicted probabilities. A profile with no
//!   observed counts has no distribution; scipy gives NaN there and chrombpnet's `predict.py`
//!   drops it with `np.nanmedian`, so here it is skipped and counted. (bpnet-lite's
//!   `performance.jensen_shannon_distance` returns the divergence, the square of this.)
//! - **Profile Pearson**, **count Pearson/Spearman/MSE** and the **multinomial NLL** as bpnet-lite
//!   (1.1.0) `performance.calculate_performance_measures` and `losses.MNLLLoss` compute them, with
//!   two differences stated where they apply: an undefined correlation is skipped (scipy's NaN,
//!   `nanmedian`) rather than counted as 0, and Spearman gives ties their average rank (scipy
//!   `spearmanr`, as chrombpnet's `counts_metrics`) rather than breaking them by position.
//!
//! # Layout and strands
//!
//! A batch is `regions × strands × length` values, row-major: region `r`, strand `s`, base `i` is
//! at `(r * strands + s) * length + i`. This is the model's own output layout (omix-models'
//! `Bpnet` and bpnet-lite give `[batch, strands, length]` per task), so a flattened tensor is
//! passed as it is; for a multi-task model, compute one `ProfileMetrics` per task.
//!
//! - The *profile* metrics (JSD, profile Pearson) are per strand: each (region, strand) profile is
//!   its own distribution over `length` bases, the predicted logits soft-maxed over that strand
//!   alone (bpnet-lite's `calculate_performance_measures` takes `log_softmax(dim=-1)` of
//!   `[n, strands, length]`). Medians and means pool every (region, strand) profile, as bpnet-lite's
//!   `profile_pearson.mean()` and `np.nanmedian` over an `[n, strands]` array do. Unstranded data
//!   (chrombpnet) is `strands = 1`.
//! - The *count* metrics are per region: the observed total is summed over both strands and every
//!   base, and the model predicts one log count per region (bpnet-lite's count head and its
//!   `true_counts.sum(dim=(-1, -2))`; chrombpnet's single count).
//! - The *multinomial NLL* is per region over all strands jointly: one multinomial over
//!   `strands × length` outcomes, the logits soft-maxed over the whole region, as bpnet-lite's
//!   training and validation loss (`losses._mixture_loss`) does.
//!
//! ```
//! use omix_metrics::{ProfileLayout, ProfileMetrics, jensen_shannon_distance};
//!
//! # fn main() -> Result<(), omix_metrics::MetricsError> {
//! // A perfect prediction is at distance 0; a profile with no reads has no distance.
//! assert_eq!(jensen_shannon_distance(&[1.0, 3.0], &[0.25, 0.75]), Some(0.0));
//! assert_eq!(jensen_shannon_distance(&[0.0, 0.0], &[0.5, 0.5]), None);
//!
//! // Two unstranded regions of 3 bases; logits ln(counts) predict the first profile exactly.
//! let layout = ProfileLayout { regions: 2, strands: 1, length: 3 };
//! let observed = [1.0, 2.0, 5.0, 0.0, 0.0, 0.0];
//! let logits = [0.0, 2f32.ln(), 5f32.ln(), 0.0, 0.0, 0.0];
//! let log_counts = [9f32.ln(), 0.0]; // ln(1 + total)
//! let m = ProfileMetrics::compute(&observed, &logits, &log_counts, layout)?;
//! assert!(m.median_jsd.is_some_and(|d| d < 1e-6));
//! assert_eq!(m.zero_profiles_skipped, 1);
//! # Ok(())
//! # }
//! ```

use serde::{Deserialize, Serialize};

use crate::binary::mean;
use crate::multilabel::{mean_opt, median};
use crate::{MetricsError, pearson, regression_metrics};

/// The shape of a batch of profiles, laid out `regions × strands × length` (row-major).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileLayout {
    /// Number of regions (windows) in the batch.
    pub regions: usize,
    /// Tracks per region: 1 for unstranded data (chrombpnet), 2 for plus and minus (BPNet).
    pub strands: usize,
    /// Bases per profile (the model's output length).
    pub length: usize,
}

impl ProfileLayout {
    /// Number of values in one region (`strands × length`).
    pub fn region_values(&self) -> usize {
        self.strands.saturating_mul(self.length)
    }

    /// Number of values in the whole batch (`regions × strands × length`).
    pub fn values(&self) -> usize {
        self.regions.saturating_mul(self.region_values())
    }
}

/// How well a profile model predicts a batch of regions: profile shape and total counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileMetrics {
    /// Median Jensen-Shannon distance (natural log, in `[0, √ln 2]`) over every (region, strand)
    /// profile with observed reads; `None` when no profile has any.
    pub median_jsd: Option<f64>,
    /// Mean Jensen-Shannon distance over the same profiles.
    pub mean_jsd: Option<f64>,
    /// Median Pearson correlation of observed counts with predicted probabilities over the
    /// (region, strand) profiles where it is defined (neither side constant).
    pub median_profile_pearson: Option<f64>,
    /// Mean profile Pearson over the same profiles (bpnet-lite counts the undefined ones as 0).
    pub mean_profile_pearson: Option<f64>,
    /// Pearson correlation of `ln(1 + observed total)` with the predicted log count, over
    /// regions; `None` when either is constant.
    pub count_pearson: Option<f64>,
    /// Spearman correlation (average ranks for ties) of the same pairs.
    pub count_spearman: Option<f64>,
    /// Mean squared error between `ln(1 + observed total)` and the predicted log count.
    pub count_mse: f64,
    /// Mean over regions of the multinomial negative log-likelihood of the region's counts
    /// (all strands jointly) under the predicted profile, log-factorial terms included:
    /// bpnet-lite's profile loss.
    pub mean_multinomial_nll: f64,
    /// Number of regions.
    pub regions: usize,
    /// Number of (region, strand) profiles: `regions × strands`.
    pub profiles: usize,
    /// Profiles with no observed reads, left out of the JSD and Pearson summaries.
    pub zero_profiles_skipped: usize,
    /// Profiles with reads whose Pearson is undefined (observed or predicted constant), left out
    /// of the profile Pearson summaries.
    pub profiles_without_pearson: usize,
}

impl ProfileMetrics {
    /// Profile and count metrics of a batch.
    ///
    /// `observed_counts` and `predicted_logits` are laid out as `layout` says
    /// (`regions × strands × length`); the logits are unnormalised (pass `ln p` to score
    /// probabilities). `predicted_log_counts` holds one natural-log total count per region.
    ///
    /// Errors when there are no regions, a profile has no bases, a length disagrees with the
    /// layout, a value is not finite (`NonFinite` indexes the slice it is in; observed counts are
    /// checked first, then logits, then log counts), or an observed count is negative.
    pub fn compute(
        observed_counts: &[f32],
        predicted_logits: &[f32],
        predicted_log_counts: &[f32],
        layout: ProfileLayout,
    ) -> Result<ProfileMetrics, MetricsError> {
        check_inputs(observed_counts, predicted_logits, predicted_log_counts, layout)?;
        let ProfileLayout { regions, strands, length } = layout;
        let width = layout.region_values();

        let mut jsd = Vec::with_capacity(regions * strands);
        let mut profile_correlations = Vec::with_capacity(regions * strands);
        let mut zero_profiles_skipped = 0;
        let mut observed_log_counts = Vec::with_capacity(regions);
        let mut nll = Vec::with_capacity(regions);
        let mut observed = vec![0.0; width];
        let mut logits = vec![0.0; width];
        let mut probabilities = vec![0.0; length];
        for (region_counts, region_logits) in
            observed_counts.chunks_exact(width).zip(predicted_logits.chunks_exact(width))
        {
            widen(region_counts, &mut observed);
            widen(region_logits, &mut logits);
            for (strand_counts, strand_logits) in observed.chunks_exact(length).zip(logits.chunks_exact(length)) {
                softmax(strand_logits, &mut probabilities);
                match jsd_of_distributions(strand_counts, &probabilities) {
                    Some(d) => jsd.push(d),
                    None => zero_profiles_skipped += 1,
                }
                if let Some(r) = pearson(strand_counts, &probabilities) {
                    profile_correlations.push(r);
                }
            }
            observed_log_counts.push(observed.iter().sum::<f64>().ln_1p());
            nll.push(nll_of_region(&observed, &logits));
        }

        let counts =
            regression_metrics(&observed_log_counts, &widened(predicted_log_counts), &["log_count".to_string()])?;
        let (_, counts) = counts.per_task.into_iter().next().ok_or(MetricsError::NoColumns)?;
        let profiles = regions * strands;
        Ok(ProfileMetrics {
            median_jsd: median(&jsd),
            mean_jsd: mean_opt(&jsd),
            median_profile_pearson: median(&profile_correlations),
            mean_profile_pearson: mean_opt(&profile_correlations),
            count_pearson: counts.pearson,
            count_spearman: counts.spearman,
            count_mse: counts.mse,
            mean_multinomial_nll: mean(&nll),
            regions,
            profiles,
            zero_profiles_skipped,
            profiles_without_pearson: profiles - zero_profiles_skipped - profile_correlations.len(),
        })
    }
}

/// Jensen-Shannon distance between one observed profile and predicted probabilities, as
/// chrombpnet computes it (`scipy.spatial.distance.jensenshannon`, natural log, in `[0, √ln 2]`).
///
/// Both sides are normalised to sum 1 first, so `predicted_probs` may be any non-negative
/// weights. `None` when the observed counts sum to 0 (no distribution: chrombpnet gets NaN and
/// drops it), and likewise when the predictions sum to 0, the lengths differ or are 0, or a value
/// is negative or not finite.
pub fn jensen_shannon_distance(observed_counts: &[f32], predicted_probs: &[f32]) -> Option<f64> {
    let valid = |v: &[f32]| v.iter().all(|x| x.is_finite() && *x >= 0.0);
    if observed_counts.len() != predicted_probs.len() || !valid(observed_counts) || !valid(predicted_probs) {
        return None;
    }
    jsd_of_distributions(&widened(observed_counts), &widened(predicted_probs))
}

/// Pearson correlation of one observed profile with predicted probabilities (bpnet-lite's
/// `profile_pearson`, scipy's formula); `None` when either is constant (an all-zero profile
/// included) or the lengths differ.
pub fn profile_pearson(observed_counts: &[f32], predicted_probs: &[f32]) -> Option<f64> {
    if observed_counts.len() != predicted_probs.len() {
        return None;
    }
    pearson(&widened(observed_counts), &widened(predicted_probs))
}

/// Negative log-likelihood of one observed profile under `softmax(logits)` as a multinomial,
/// log-factorial terms included: `ln Γ(N+1)` subtracted and `Σ ln Γ(xᵢ+1)` added, with
/// `N = Σ xᵢ` — bpnet-lite's `MNLLLoss(log_softmax(logits), observed)` for one example.
///
/// For stranded data pass a whole region (`strands × length` values) to get bpnet-lite's joint
/// loss over both strands; average over regions for the batch loss. A profile with no reads has
/// likelihood 1 (NLL 0). Errors when the lengths differ, the profile is empty, a value is not
/// finite (counts checked first) or a count is negative.
pub fn multinomial_nll(observed_counts: &[f32], logits: &[f32]) -> Result<f64, MetricsError> {
    if observed_counts.len() != logits.len() {
        return Err(MetricsError::LengthMismatch { labels: observed_counts.len(), scores: logits.len() });
    }
    if observed_counts.is_empty() {
        return Err(MetricsError::Empty);
    }
    check_counts(observed_counts)?;
    check_finite_f32(logits)?;
    Ok(nll_of_region(&widened(observed_counts), &widened(logits)))
}

/// `Σ ln(kᵢ!) − ln(N!)` of observed counts `kᵢ` with total `N`: the part of the multinomial NLL
/// that does not depend on the prediction (a training loss on tensors may leave it out; add it to
/// report the NLL as [`multinomial_nll`] and bpnet-lite's `MNLLLoss` do). Counts are not checked:
/// pass finite, non-negative values.
pub fn multinomial_log_factorials(observed_counts: &[f32]) -> f64 {
    log_factorial_terms(observed_counts.iter().map(|&k| f64::from(k)))
}

/// Shape, finiteness and sign checks for [`ProfileMetrics::compute`].
fn check_inputs(
    observed_counts: &[f32],
    predicted_logits: &[f32],
    predicted_log_counts: &[f32],
    layout: ProfileLayout,
) -> Result<(), MetricsError> {
    if layout.regions == 0 {
        return Err(MetricsError::Empty);
    }
    if layout.region_values() == 0 {
        // A profile of no bases (or no strands) has no distribution to compare.
        return Err(MetricsError::NoColumns);
    }
    let shape = |values: &[f32]| -> Result<(), MetricsError> {
        if values.len() == layout.values() {
            Ok(())
        } else {
            Err(MetricsError::ShapeMismatch {
                rows: layout.regions,
                columns: layout.region_values(),
                values: values.len(),
            })
        }
    };
    shape(observed_counts)?;
    shape(predicted_logits)?;
    if predicted_log_counts.len() != layout.regions {
        return Err(MetricsError::ShapeMismatch {
            rows: layout.regions,
            columns: 1,
            values: predicted_log_counts.len(),
        });
    }
    check_counts(observed_counts)?;
    check_finite_f32(predicted_logits)?;
    check_finite_f32(predicted_log_counts)
}

/// Observed counts must be finite and non-negative.
fn check_counts(values: &[f32]) -> Result<(), MetricsError> {
    check_finite_f32(values)?;
    match values.iter().position(|&v| v < 0.0) {
        Some(index) => Err(MetricsError::NegativeCount { index, value: f64::from(values[index]) }),
        None => Ok(()),
    }
}

fn check_finite_f32(values: &[f32]) -> Result<(), MetricsError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(MetricsError::NonFinite { index }),
        None => Ok(()),
    }
}

/// `values` as f64.
fn widened(values: &[f32]) -> Vec<f64> {
    values.iter().map(|&x| f64::from(x)).collect()
}

/// Copy `from` into `to` as f64 (same length).
fn widen(from: &[f32], to: &mut [f64]) {
    for (t, &f) in to.iter_mut().zip(from) {
        *t = f64::from(f);
    }
}

/// `ln Σ exp(xᵢ)`, shifted by the maximum so that no term overflows.
fn log_sum_exp(logits: &[f64]) -> f64 {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + logits.iter().map(|&x| (x - max).exp()).sum::<f64>().ln()
}

/// `softmax(logits)` into `out` (same length).
fn softmax(logits: &[f64], out: &mut [f64]) {
    let log_total = log_sum_exp(logits);
    for (o, &x) in out.iter_mut().zip(logits) {
        *o = (x - log_total).exp();
    }
}

/// scipy's `jensenshannon(p, q)` on finite, non-negative f64 weights of equal length; `None` when
/// either sums to 0.
fn jsd_of_distributions(observed: &[f64], predicted: &[f64]) -> Option<f64> {
    let (observed_total, predicted_total) = (observed.iter().sum::<f64>(), predicted.iter().sum::<f64>());
    if observed_total <= 0.0 || predicted_total <= 0.0 {
        return None;
    }
    // scipy's rel_entr(x, m) = x ln(x / m), and 0 where x = 0; m ≥ x / 2 > 0 wherever x > 0.
    let relative_entropy = |x: f64, m: f64| if x > 0.0 { x * (x / m).ln() } else { 0.0 };
    let mut divergence = 0.0;
    for (&o, &p) in observed.iter().zip(predicted) {
        let (o, p) = (o / observed_total, p / predicted_total);
        let m = (o + p) / 2.0;
        divergence += relative_entropy(o, m) + relative_entropy(p, m);
    }
    // Identical inputs can round to a hair below 0.
    Some((divergence / 2.0).max(0.0).sqrt())
}

/// bpnet-lite's `MNLLLoss` for one example on validated f64 values.
fn nll_of_region(observed: &[f64], logits: &[f64]) -> f64 {
    let log_total = log_sum_exp(logits);
    // Zero counts contribute nothing, even where a logit's probability underflows to 0.
    let log_likelihood: f64 =
        observed.iter().zip(logits).filter(|(x, _)| **x > 0.0).map(|(&x, &l)| x * (l - log_total)).sum();
    log_factorial_terms(observed.iter().copied()) - log_likelihood
}

/// `Σ ln Γ(xᵢ + 1) − ln Γ(N + 1)`, `N = Σ xᵢ`: the multinomial coefficient's negative log.
fn log_factorial_terms(observed: impl Iterator<Item = f64>) -> f64 {
    let (mut total, mut log_factorials) = (0.0, 0.0);
    for x in observed {
        total += x;
        log_factorials += ln_gamma(x + 1.0);
    }
    log_factorials - ln_gamma(total + 1.0)
}

/// `ln Γ(x)` for `x ≥ 1` (all the NLL needs), by the Lanczos approximation (g = 7, 9 terms:
/// relative error near 1e-15), since `f64::ln_gamma` is not stable Rust.
fn ln_gamma(x: f64) -> f64 {
    if x == 1.0 || x == 2.0 {
        // 0! and 1!, most bases of a sparse profile: exact, where the series leaves ~1e-15.
        return 0.0;
    }
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let z = x - 1.0;
    let mut series = COEFFICIENTS[0];
    for (i, &c) in COEFFICIENTS.iter().enumerate().skip(1) {
        series += c / (z + i as f64);
    }
    let t = z + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (z + 0.5) * t.ln() - t + series.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), MetricsError>;

    fn close(got: f64, want: f64, tolerance: f64) -> bool {
        (got - want).abs() <= tolerance * want.abs().max(1.0)
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        assert_eq!((ln_gamma(1.0), ln_gamma(2.0)), (0.0, 0.0));
        assert!(close(ln_gamma(3.0), 2f64.ln(), 1e-15));
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-14));
        let ln_100_factorial: f64 = (1..=100).map(|k| f64::from(k).ln()).sum();
        assert!(close(ln_gamma(101.0), ln_100_factorial, 1e-13));
        // Γ(3/2) = √π / 2: non-integer counts (smoothed or scaled tracks) are allowed.
        assert!(close(ln_gamma(1.5), (std::f64::consts::PI.sqrt() / 2.0).ln(), 1e-13));
    }

    proptest::proptest! {
        /// A distance in [0, √ln 2], symmetric once both sides are normalised, 0 against itself;
        /// the NLL of integer counts is a probability's negative log, so never below 0.
        #[test]
        fn jsd_is_a_bounded_symmetric_distance_and_nll_is_non_negative(
            pairs in proptest::collection::vec((0u8..20, 0u8..20, -30i8..30), 1..40)
        ) {
            let first: Vec<f32> = pairs.iter().map(|p| f32::from(p.0)).collect();
            let second: Vec<f32> = pairs.iter().map(|p| f32::from(p.1)).collect();
            let logits: Vec<f32> = pairs.iter().map(|p| f32::from(p.2) / 4.0).collect();
            if let Some(d) = jensen_shannon_distance(&first, &second) {
                proptest::prop_assert!((0.0..=std::f64::consts::LN_2.sqrt() + 1e-12).contains(&d));
                let back = jensen_shannon_distance(&second, &first).unwrap_or(f64::NAN);
                proptest::prop_assert!((d - back).abs() < 1e-12);
                proptest::prop_assert!(jensen_shannon_distance(&first, &first).is_some_and(|z| z < 1e-6));
            } else {
                proptest::prop_assert!(first.iter().all(|&x| x == 0.0) || second.iter().all(|&x| x == 0.0));
            }
            let nll = multinomial_nll(&first, &logits);
            proptest::prop_assert!(nll.is_ok_and(|v| v > -1e-9));
        }
    }

    #[test]
    fn jsd_bounds_and_zero_profiles() {
        assert_eq!(jensen_shannon_distance(&[2.0, 6.0], &[0.25, 0.75]), Some(0.0));
        // Disjoint supports: the largest distance, √ln 2 in nats.
        let d = jensen_shannon_distance(&[5.0, 0.0], &[0.0, 1.0]);
        assert!(d.is_some_and(|d| close(d, std::f64::consts::LN_2.sqrt(), 1e-15)));
        // Predictions are renormalised, as scipy does.
        assert_eq!(jensen_shannon_distance(&[1.0, 1.0], &[3.0, 3.0]), Some(0.0));
        assert_eq!(jensen_shannon_distance(&[0.0, 0.0], &[0.5, 0.5]), None);
        assert_eq!(jensen_shannon_distance(&[1.0], &[0.5, 0.5]), None);
        assert_eq!(jensen_shannon_distance(&[-1.0, 2.0], &[0.5, 0.5]), None);
        assert_eq!(jensen_shannon_distance(&[1.0, f32::NAN], &[0.5, 0.5]), None);
        assert_eq!(jensen_shannon_distance(&[], &[]), None);
    }

    #[test]
    fn profile_pearson_needs_variation() {
        assert!(profile_pearson(&[0.0, 1.0, 4.0], &[0.1, 0.2, 0.7]).is_some_and(|r| r > 0.9));
        assert_eq!(profile_pearson(&[0.0, 0.0, 0.0], &[0.1, 0.2, 0.7]), None);
        assert_eq!(profile_pearson(&[2.0, 2.0], &[0.1, 0.9]), None);
        assert_eq!(profile_pearson(&[1.0, 2.0], &[0.1, 0.2, 0.7]), None);
    }

    #[test]
    fn nll_of_a_certain_outcome_is_zero() -> TestResult {
        // All reads at base 0 and probability ~1 there: likelihood 1.
        assert!(multinomial_nll(&[3.0, 0.0, 0.0], &[0.0, -200.0, -200.0])?.abs() < 1e-12);
        // No reads: likelihood 1 whatever the prediction.
        assert_eq!(multinomial_nll(&[0.0, 0.0], &[1.0, -3.0])?, 0.0);
        // One read on two equally likely bases: -ln(1/2). Logits are shift-invariant.
        assert!(close(multinomial_nll(&[1.0, 0.0], &[7.0, 7.0])?, std::f64::consts::LN_2, 1e-15));
        // Two reads, one on each: P = 2 · (1/2)², NLL = ln 2.
        assert!(close(multinomial_nll(&[1.0, 1.0], &[0.0, 0.0])?, std::f64::consts::LN_2, 1e-14));
        Ok(())
    }

    #[test]
    fn log_factorials_are_the_prediction_free_part_of_the_nll() -> TestResult {
        let counts = [3.0, 0.0, 1.0, 2.0];
        let logits = [0.5f32, -1.0, 0.0, 2.0];
        let log_total = logits.iter().map(|&l| f64::from(l).exp()).sum::<f64>().ln();
        let log_likelihood: f64 =
            counts.iter().zip(&logits).map(|(&k, &l)| f64::from(k) * (f64::from(l) - log_total)).sum();
        // ln(3! 0! 1! 2!) - ln(6!) = ln(12 / 720).
        assert!(close(multinomial_log_factorials(&counts), (12.0f64 / 720.0).ln(), 1e-14));
        assert!(close(multinomial_nll(&counts, &logits)?, multinomial_log_factorials(&counts) - log_likelihood, 1e-14));
        Ok(())
    }

    #[test]
    fn nll_input_errors() {
        assert_eq!(multinomial_nll(&[1.0], &[0.0, 0.0]), Err(MetricsError::LengthMismatch { labels: 1, scores: 2 }));
        assert_eq!(multinomial_nll(&[], &[]), Err(MetricsError::Empty));
        assert_eq!(
            multinomial_nll(&[1.0, -2.0], &[0.0, 0.0]),
            Err(MetricsError::NegativeCount { index: 1, value: -2.0 })
        );
        assert_eq!(multinomial_nll(&[1.0, 2.0], &[0.0, f32::INFINITY]), Err(MetricsError::NonFinite { index: 1 }));
    }

    #[test]
    fn strands_are_separate_profiles_and_counts_are_summed() -> TestResult {
        // One region, two strands of two bases: strand 0 predicted exactly, strand 1 reversed.
        let layout = ProfileLayout { regions: 2, strands: 2, length: 2 };
        #[rustfmt::skip]
        let observed = [
            1.0, 3.0,   4.0, 0.0,   // region 0: plus, minus
            0.0, 0.0,   2.0, 2.0,   // region 1: no plus reads; a flat minus profile
        ];
        #[rustfmt::skip]
        let logits = [
            0.0, 3f32.ln(),   -50.0, 0.0,
            0.0, 0.0,          0.0, 1.0,
        ];
        let log_counts = [8f32.ln(), 1.0];
        let m = ProfileMetrics::compute(&observed, &logits, &log_counts, layout)?;
        assert_eq!((m.regions, m.profiles, m.zero_profiles_skipped, m.profiles_without_pearson), (2, 4, 1, 1));
        // Region 0 plus (exact): 0; region 0 minus (disjoint up to e^-50): √ln 2.
        let reversed = jensen_shannon_distance(&[4.0, 0.0], &[(-50f32).exp(), 1.0]).unwrap_or(f64::NAN);
        let flat = jensen_shannon_distance(&[2.0, 2.0], &[1.0, 1f32.exp()]).unwrap_or(f64::NAN);
        let mut distances = [0.0, reversed, flat];
        distances.sort_by(f64::total_cmp);
        assert!(m.median_jsd.is_some_and(|d| close(d, distances[1], 1e-6)));
        assert!(m.mean_jsd.is_some_and(|d| close(d, distances.iter().sum::<f64>() / 3.0, 1e-6)));
        // Two-base profiles correlate ±1; the flat minus profile has none.
        assert!(m.median_profile_pearson.is_some_and(|r| close(r, 0.0, 1e-12)));
        // Observed totals 8 and 4 over both strands, compared as ln(1 + total).
        let mse = ((9f64.ln() - f64::from(8f32.ln())).powi(2) + (5f64.ln() - 1.0).powi(2)) / 2.0;
        assert!(close(m.count_mse, mse, 1e-12));
        // The NLL is joint over the strands of a region.
        let joint = [multinomial_nll(&observed[..4], &logits[..4])?, multinomial_nll(&observed[4..], &logits[4..])?];
        assert!(close(m.mean_multinomial_nll, (joint[0] + joint[1]) / 2.0, 1e-12));
        Ok(())
    }

    #[test]
    fn all_zero_batches_have_no_profile_summaries() -> TestResult {
        let layout = ProfileLayout { regions: 2, strands: 1, length: 3 };
        let m = ProfileMetrics::compute(&[0.0; 6], &[0.0; 6], &[0.5, 1.0], layout)?;
        assert_eq!(
            (m.median_jsd, m.mean_jsd, m.median_profile_pearson, m.mean_profile_pearson),
            (None, None, None, None)
        );
        assert_eq!((m.zero_profiles_skipped, m.profiles_without_pearson), (2, 0));
        // Observed log counts are all 0: no count correlation, but an error.
        assert_eq!((m.count_pearson, m.count_spearman), (None, None));
        assert!(close(m.count_mse, (0.25 + 1.0) / 2.0, 1e-15));
        assert_eq!(m.mean_multinomial_nll, 0.0);
        Ok(())
    }

    #[test]
    fn compute_input_errors() {
        let layout = ProfileLayout { regions: 2, strands: 1, length: 2 };
        let ok = [1.0; 4];
        let compute = |o: &[f32], l: &[f32], c: &[f32], layout| ProfileMetrics::compute(o, l, c, layout);
        assert_eq!(compute(&[], &[], &[], ProfileLayout { regions: 0, ..layout }), Err(MetricsError::Empty));
        assert_eq!(compute(&[], &[], &[0.0, 0.0], ProfileLayout { length: 0, ..layout }), Err(MetricsError::NoColumns));
        assert_eq!(
            compute(&ok[..3], &ok, &[0.0, 0.0], layout),
            Err(MetricsError::ShapeMismatch { rows: 2, columns: 2, values: 3 })
        );
        assert_eq!(
            compute(&ok, &[1.0; 5], &[0.0, 0.0], layout),
            Err(MetricsError::ShapeMismatch { rows: 2, columns: 2, values: 5 })
        );
        assert_eq!(
            compute(&ok, &ok, &[0.0], layout),
            Err(MetricsError::ShapeMismatch { rows: 2, columns: 1, values: 1 })
        );
        assert_eq!(
            compute(&[1.0, 1.0, -1.0, 1.0], &ok, &[0.0, 0.0], layout),
            Err(MetricsError::NegativeCount { index: 2, value: -1.0 })
        );
        assert_eq!(
            compute(&[1.0, f32::NAN, 1.0, 1.0], &ok, &[0.0, 0.0], layout),
            Err(MetricsError::NonFinite { index: 1 })
        );
        assert_eq!(
            compute(&ok, &[1.0, 1.0, 1.0, f32::NEG_INFINITY], &[0.0, 0.0], layout),
            Err(MetricsError::NonFinite { index: 3 })
        );
        assert_eq!(compute(&ok, &ok, &[0.0, f32::NAN], layout), Err(MetricsError::NonFinite { index: 1 }));
    }
}
