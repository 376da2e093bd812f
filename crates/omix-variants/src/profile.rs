//! Variant effects of profile models (BPNet, ChromBPNet), computed as kundajelab/variant-scorer
//! (chrombpnet's variant scoring) computes them.
//!
//! A profile model predicts, for each window and task, profile logits over the task's
//! `strands × length` output bases (tracks task-major: task 0's strands first) and one log count
//! (natural log of the window's total count). The REF and ALT windows of a variant are each
//! predicted, and per task the writers report the [`PROFILE_COLUMNS`]:
//!
//! | TSV column | VCF INFO key | value |
//! |---|---|---|
//! | `ref_log_count` | `<PREFIX>_<task>_REF_LOGCOUNT` | ln of the total count predicted for the REF window |
//! | `alt_log_count` | `<PREFIX>_<task>_ALT_LOGCOUNT` | ln of the total count predicted for the ALT window |
//! | `logfc` | `<PREFIX>_<task>_LOGFC` | log2(ALT count / REF count) = (`alt_log_count` − `ref_log_count`) / ln 2 |
//! | `abs_logfc` | `<PREFIX>_<task>_ABSLOGFC` | \|`logfc`\| |
//! | `jsd` | `<PREFIX>_<task>_JSD` | Jensen–Shannon distance, base 2 (in \[0, 1\]), between the REF and ALT profiles |
//! | `abs_logfc_x_jsd` | `<PREFIX>_<task>_ABSLOGFC_X_JSD` | `abs_logfc × jsd`, variant-scorer's ranking score |
//!
//! A profile is the softmax of the task's logits over all its strands and bases together (what the
//! multinomial loss trained). The JSD is [`omix_metrics::jensen_shannon_distance`] (natural log, as
//! chrombpnet's training metrics report it) divided by √ln 2, so that it is the base-2 distance
//! variant-scorer reports (`scipy.spatial.distance.jensenshannon(alt, ref, base=2)`); multiply by
//! √ln 2 ≈ 0.8326 to compare it with a profile JSD of `metrics.json`.
//!
//! # Both strands
//!
//! Unless turned off, each window is also predicted from its reverse complement, and the two are
//! averaged as variant-scorer's current `fetch_variant_predictions` does: the reverse prediction is
//! mapped back onto the forward window (bases reversed, strands swapped), its **logits** averaged
//! with the forward ones before the softmax, and the **counts** (not log counts) averaged:
//! `log_count = ln((e^forward + e^reverse) / 2)`. (variant-scorer's older releases averaged softmax
//! probabilities instead of logits and reported the natural-log JSD; the counts and `logfc` were
//! the same.)
//!
//! Indels are scored on the windows [`variant_windows`](crate::variant_windows) makes, without
//! variant-scorer's indel realignment of the profiles before the JSD.

use std::f64::consts::LN_2;

use crate::EffectColumn;

/// A profile model's columns, per variant and task (see the [module documentation](self)).
pub const PROFILE_COLUMNS: [EffectColumn; 6] = [
    EffectColumn {
        name: "ref_log_count",
        info_suffix: "REF_LOGCOUNT",
        description: "natural log of the total count predicted for the reference allele",
    },
    EffectColumn {
        name: "alt_log_count",
        info_suffix: "ALT_LOGCOUNT",
        description: "natural log of the total count predicted for the alternative allele",
    },
    EffectColumn {
        name: "logfc",
        info_suffix: "LOGFC",
        description: "log2 fold change of the predicted total count, log2(alt count / ref count)",
    },
    EffectColumn { name: "abs_logfc", info_suffix: "ABSLOGFC", description: "absolute log2 fold change of the count" },
    EffectColumn {
        name: "jsd",
        info_suffix: "JSD",
        description: "Jensen-Shannon distance (base 2, 0 to 1) between the reference and alternative predicted profiles",
    },
    EffectColumn {
        name: "abs_logfc_x_jsd",
        info_suffix: "ABSLOGFC_X_JSD",
        description: "absolute log2 fold change times Jensen-Shannon distance",
    },
];

/// The shape of one window's profile prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileLayout {
    /// Tasks (each with its own count and profile).
    pub tasks: usize,
    /// Strands per task (1 or 2).
    pub strands: usize,
    /// Output bases per strand.
    pub length: usize,
}

impl ProfileLayout {
    /// Logits per task: `strands × length`.
    pub fn per_task(&self) -> usize {
        self.strands * self.length
    }

    /// Logits per window: `tasks × strands × length`.
    pub fn logits(&self) -> usize {
        self.tasks * self.per_task()
    }

    /// An error unless `prediction` has this layout's numbers of logits and log counts.
    fn check(&self, prediction: &ProfilePrediction, which: &str) -> Result<(), String> {
        if prediction.logits.len() == self.logits() && prediction.log_counts.len() == self.tasks {
            return Ok(());
        }
        Err(format!(
            "the {which} prediction has {} logits and {} log counts, not {} ({} task(s) × {} strand(s) × {} bases) and {}",
            prediction.logits.len(),
            prediction.log_counts.len(),
            self.logits(),
            self.tasks,
            self.strands,
            self.length,
            self.tasks
        ))
    }
}

/// One window's prediction: profile logits `[tasks × strands, length]` (task-major) and log counts
/// `[tasks]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfilePrediction {
    /// Profile logits, `[tasks × strands, length]` row-major.
    pub logits: Vec<f64>,
    /// Natural-log total counts, one per task.
    pub log_counts: Vec<f64>,
}

impl ProfilePrediction {
    /// A prediction from a model's `f32` outputs for one window.
    pub fn new(logits: &[f32], log_counts: &[f32]) -> ProfilePrediction {
        ProfilePrediction {
            logits: logits.iter().map(|&x| f64::from(x)).collect(),
            log_counts: log_counts.iter().map(|&x| f64::from(x)).collect(),
        }
    }

    /// This (forward) prediction averaged with `reverse`, the prediction for the reverse complement
    /// of the same window: `reverse` is mapped onto the forward window (bases reversed, strands
    /// swapped), the logits averaged, and the counts averaged as counts (see the
    /// [module documentation](self)).
    pub fn strand_average(
        &self,
        reverse: &ProfilePrediction,
        layout: ProfileLayout,
    ) -> Result<ProfilePrediction, String> {
        layout.check(self, "forward")?;
        layout.check(reverse, "reverse-complement")?;
        let (strands, length) = (layout.strands, layout.length);
        let mut logits = Vec::with_capacity(self.logits.len());
        for task in 0..layout.tasks {
            for strand in 0..strands {
                let forward = &self.logits[(task * strands + strand) * length..][..length];
                let mirrored = &reverse.logits[(task * strands + strands - 1 - strand) * length..][..length];
                logits.extend(forward.iter().zip(mirrored.iter().rev()).map(|(&f, &r)| (f + r) / 2.0));
            }
        }
        let log_counts = self.log_counts.iter().zip(&reverse.log_counts).map(|(&f, &r)| log_mean_exp(f, r)).collect();
        Ok(ProfilePrediction { logits, log_counts })
    }
}

/// `ln((e^a + e^b) / 2)`, without overflow.
fn log_mean_exp(a: f64, b: f64) -> f64 {
    let max = a.max(b);
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if max.is_infinite() {
        return max;
    }
    max + ((a - max).exp() + (b - max).exp()).ln() - LN_2
}

/// Unnormalised softmax weights `e^(x - max)` of `logits` (the JSD normalises them).
fn softmax_weights(logits: &[f64]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    logits.iter().map(|&x| (x - max).exp() as f32).collect()
}

/// Append the [`PROFILE_COLUMNS`] values `[tasks, 6]` of a variant whose REF and ALT windows were
/// predicted as `reference` and `alternative` to `out`. A profile whose logits are not finite gets
/// a JSD of NaN.
pub fn profile_effects(
    layout: ProfileLayout,
    reference: &ProfilePrediction,
    alternative: &ProfilePrediction,
    out: &mut Vec<f64>,
) -> Result<(), String> {
    layout.check(reference, "REF")?;
    layout.check(alternative, "ALT")?;
    let per_task = layout.per_task();
    for task in 0..layout.tasks {
        let (ref_count, alt_count) = (reference.log_counts[task], alternative.log_counts[task]);
        let logfc = (alt_count - ref_count) / LN_2;
        let profile = |p: &ProfilePrediction| softmax_weights(&p.logits[task * per_task..(task + 1) * per_task]);
        let jsd = omix_metrics::jensen_shannon_distance(&profile(reference), &profile(alternative))
            .map_or(f64::NAN, |distance| distance / LN_2.sqrt());
        out.extend([ref_count, alt_count, logfc, logfc.abs(), jsd, logfc.abs() * jsd]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: ProfileLayout = ProfileLayout { tasks: 1, strands: 1, length: 2 };

    fn prediction(logits: &[f64], log_counts: &[f64]) -> ProfilePrediction {
        ProfilePrediction { logits: logits.to_vec(), log_counts: log_counts.to_vec() }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn logfc_is_the_base_2_count_ratio() -> Result<(), String> {
        // REF 10 reads, ALT 40: log2(4) = 2.
        let (r, a) = (prediction(&[0.0, 0.0], &[10f64.ln()]), prediction(&[0.0, 0.0], &[40f64.ln()]));
        let mut out = Vec::new();
        profile_effects(ONE, &r, &a, &mut out)?;
        assert!(close(out[0], 10f64.ln()) && close(out[1], 40f64.ln()), "{out:?}");
        assert!(close(out[2], 2.0) && close(out[3], 2.0), "{out:?}");
        // Same profile: JSD 0, and so the product.
        assert_eq!((out[4], out[5]), (0.0, 0.0));
        out.clear();
        profile_effects(ONE, &a, &r, &mut out)?;
        assert!(close(out[2], -2.0) && close(out[3], 2.0), "{out:?}");
        Ok(())
    }

    #[test]
    fn jsd_matches_hand_values() -> Result<(), String> {
        // Profiles P = (½, ½) and Q = (1, 0): M = (¾, ¼), KL(P‖M) = ½ log2(2/3) + ½ log2 2 and
        // KL(Q‖M) = log2(4/3); the distance is √(½ (KL(P‖M) + KL(Q‖M))) ≈ 0.5579.
        let kl_p = 0.5 * (0.5f64 / 0.75).log2() + 0.5 * (0.5f64 / 0.25).log2();
        let kl_q = (1.0f64 / 0.75).log2();
        let expected = ((kl_p + kl_q) / 2.0).sqrt();
        // Logits 0, 0 → (½, ½); logits 0, −200 → (1, e^-200 ≈ 0 in f32).
        let (r, a) = (prediction(&[0.0, 0.0], &[1.0]), prediction(&[0.0, -200.0], &[1.0]));
        let mut out = Vec::new();
        profile_effects(ONE, &r, &a, &mut out)?;
        assert!(close(out[4], expected), "{} vs {expected}", out[4]);
        assert!((expected - 0.5579).abs() < 1e-4, "{expected}");
        // Disjoint profiles: the largest base-2 distance, 1.
        let (r, a) = (prediction(&[0.0, -200.0], &[1.0]), prediction(&[-200.0, 0.0], &[1.0]));
        out.clear();
        profile_effects(ONE, &r, &a, &mut out)?;
        assert!(close(out[4], 1.0), "{out:?}");
        // Symmetric.
        out.clear();
        profile_effects(ONE, &a, &r, &mut out)?;
        assert!(close(out[4], 1.0), "{out:?}");
        Ok(())
    }

    #[test]
    fn each_task_gets_its_own_softmax_over_both_strands() -> Result<(), String> {
        let layout = ProfileLayout { tasks: 2, strands: 2, length: 1 };
        // Task 0: REF (½, ½) over its two strands, ALT (1, 0); task 1 the same profile both times
        // (its logits shifted by a constant), counts ×2.
        let r = prediction(&[0.0, 0.0, 1.0, 2.0], &[0.0, 3.0]);
        let a = prediction(&[0.0, -200.0, 6.0, 7.0], &[0.0, 3.0 + LN_2]);
        let mut out = Vec::new();
        profile_effects(layout, &r, &a, &mut out)?;
        assert_eq!(out.len(), 12);
        assert!(close(out[4], 0.557_923_05), "{out:?}");
        assert!(close(out[2], 0.0) && close(out[6 + 2], 1.0) && close(out[6 + 4], 0.0), "{out:?}");
        assert!(close(out[6 + 5], 0.0), "{out:?}");
        Ok(())
    }

    #[test]
    fn strand_average_mirrors_bases_and_swaps_strands() -> Result<(), String> {
        let layout = ProfileLayout { tasks: 1, strands: 2, length: 3 };
        // Forward: plus 1 2 3, minus 4 5 6. The reverse complement's plus strand is the forward
        // minus strand read backwards, so a consistent model predicts plus 6 5 4, minus 3 2 1.
        let forward = prediction(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2.0]);
        let consistent = prediction(&[6.0, 5.0, 4.0, 3.0, 2.0, 1.0], &[2.0]);
        assert_eq!(forward.strand_average(&consistent, layout)?, forward);
        // Logits average after mapping; counts average as counts.
        let other = prediction(&[0.0; 6], &[0.0]);
        let averaged = forward.strand_average(&other, layout)?;
        assert_eq!(averaged.logits, [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]);
        assert!(close(averaged.log_counts[0], ((2f64.exp() + 1.0) / 2.0).ln()));
        // Unstranded: bases reversed only.
        let one = ProfileLayout { tasks: 1, strands: 1, length: 3 };
        let averaged =
            prediction(&[1.0, 2.0, 3.0], &[0.0]).strand_average(&prediction(&[3.0, 2.0, 7.0], &[0.0]), one)?;
        assert_eq!(averaged.logits, [4.0, 2.0, 3.0]);
        assert!(close(averaged.log_counts[0], 0.0));
        // Shapes are checked.
        let message = forward.strand_average(&prediction(&[0.0; 5], &[0.0]), layout).err().unwrap_or_default();
        assert!(message.contains("reverse-complement prediction has 5 logits"), "{message}");
        Ok(())
    }

    #[test]
    fn log_mean_exp_is_stable() {
        assert!(close(log_mean_exp(1000.0, 1000.0), 1000.0));
        assert!(close(log_mean_exp(0.0, f64::NEG_INFINITY), -LN_2));
        assert_eq!(log_mean_exp(f64::NEG_INFINITY, f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert!(log_mean_exp(f64::NAN, 0.0).is_nan());
    }
}
