//! Seqlets: spans of high attribution, called by the recursive seqlet algorithm (tangermeme's
//! `recursive_seqlets`) at a threshold chosen for a target false discovery rate.
//!
//! 1. **Null.** Each per-position attribution (the projected one: the observed base's) is put in
//!    one of `bins` equal bins spanning the values of all sequences; the histogram is the null
//!    distribution of one position, and its `k`-fold convolution that of a span of `k` positions
//!    drawn independently. `P(S_k ≥ s)` is kept for every length up to `max_length`.
//! 2. **Spans.** A span's p-value is looked up from its summed bins; a span `[k, k+len)` is a
//!    candidate when every span inside it of at least `min_length` positions (its "triangle") is
//!    below the threshold. Candidates are taken longest first, most significant first within a
//!    length, and kept when they overlap no seqlet kept before.
//! 3. **False discovery control.** The p-values rank spans; they are not error rates
//!    (attributions are correlated along the sequence, and the null is built from the same
//!    values). So the threshold is chosen from a control: attributions without real signal,
//!    called with the same null at 117 thresholds from 1e-1 to 1e-30. At each threshold the
//!    estimated false discovery rate is `(control seqlets + 1) × (positions / control
//!    positions) / seqlets`, and seqlets are called at the largest threshold whose estimate is at
//!    most `target_fdr` (none when no threshold reaches it). The control is either given
//!    (attributions of dinucleotide-shuffled sequences from the same model: the better one) or,
//!    by default, `control_permutations` seeded permutations of each sequence's attributions
//!    along its positions: the same values with no spatial grouping, so a seqlet counts as a
//!    discovery when the high values it covers sit together more often than chance places them.
//! 4. **Both signs.** Negative seqlets are called the same way on the negated attributions (with
//!    their own null and threshold); one that overlaps a positive seqlet is dropped.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// How seqlets are called.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqletSettings {
    /// The shortest seqlet, and the shortest span that must pass inside every seqlet.
    pub min_length: usize,
    /// The longest seqlet.
    pub max_length: usize,
    /// Bins of the per-position histogram.
    pub bins: usize,
    /// The estimated false discovery rate seqlets are called at.
    pub target_fdr: f64,
    /// Permutations of each sequence's attributions that make the control when none is given.
    pub control_permutations: usize,
    /// Seed of the permutations.
    pub seed: u64,
    /// Also call negative seqlets (spans of strongly negative attribution).
    pub negative: bool,
}

impl Default for SeqletSettings {
    fn default() -> Self {
        SeqletSettings {
            min_length: 4,
            max_length: 25,
            bins: 1000,
            target_fdr: 0.05,
            control_permutations: 3,
            seed: 42,
            negative: true,
        }
    }
}

/// A span of high (or, when `negative`, strongly negative) attribution in one sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Seqlet {
    /// The sequence (0-based row of the input arrays).
    pub example: usize,
    /// First position (0-based).
    pub start: usize,
    /// One past the last position.
    pub end: usize,
    /// Summed projected attribution over the span.
    pub attribution: f64,
    /// The span's own p-value under the null (a rank, not an error rate).
    pub p_value: f64,
    /// Whether the span was called on the negated attributions.
    pub negative: bool,
}

/// One threshold of the false discovery estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct FdrStep {
    /// The p-value threshold.
    pub threshold: f64,
    /// Seqlets called on the attributions.
    pub seqlets: usize,
    /// Seqlets called on the control.
    pub control_seqlets: usize,
    /// `(control + 1) × scale / seqlets`; `None` where no seqlet is called.
    pub fdr: Option<f64>,
}

/// The calls of one sign.
#[derive(Debug, Clone, PartialEq)]
pub struct SignCalls {
    /// The threshold chosen (`None`: no threshold reached the target).
    pub threshold: Option<f64>,
    /// The estimate at every threshold tried, largest threshold first.
    pub fdr: Vec<FdrStep>,
    /// Seqlets called at the chosen threshold (before negatives overlapping positives are dropped).
    pub seqlets: usize,
}

/// Every seqlet called, and how the thresholds were chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqletCalls {
    /// Positive seqlets, then negative ones, each by sequence and start.
    pub seqlets: Vec<Seqlet>,
    /// How positive seqlets were called.
    pub positive: SignCalls,
    /// How negative seqlets were called, when they were.
    pub negative: Option<SignCalls>,
    /// What the control was, in words.
    pub control: String,
}

/// Per-position attributions of a control, `[examples][length]` in C order.
#[derive(Debug, Clone, Copy)]
pub struct Control<'a> {
    /// Values, `examples × length`.
    pub values: &'a [f32],
    /// Positions per example.
    pub length: usize,
}

/// The thresholds tried: 117 from 1e-1 to 1e-30, four per decade (tangermeme's).
pub fn fdr_thresholds() -> Vec<f64> {
    (0..117).map(|i| 10f64.powf(-1.0 - 29.0 * i as f64 / 116.0)).collect()
}

/// Call seqlets on `projected` (`sequences × length`, C order) against `control` (or seeded
/// permutations of `projected` when `None`).
pub fn call_seqlets(
    projected: &[f32],
    length: usize,
    settings: &SeqletSettings,
    control: Option<Control<'_>>,
) -> SeqletCalls {
    let permuted;
    let (control_values, control_length, control_words) = match control {
        Some(control) => (control.values, control.length, "the given control attributions".to_string()),
        None => {
            permuted = permuted_control(projected, length, settings.control_permutations.max(1), settings.seed);
            (
                &permuted[..],
                length,
                format!(
                    "{} seeded permutation(s) of each sequence's attributions along its positions (seed {})",
                    settings.control_permutations.max(1),
                    settings.seed
                ),
            )
        }
    };
    let positive = call_sign(projected, length, control_values, control_length, settings, false);
    let mut seqlets = positive.1;
    let negative = if settings.negative {
        let negated: Vec<f32> = projected.iter().map(|v| -v).collect();
        let negated_control: Vec<f32> = control_values.iter().map(|v| -v).collect();
        let (calls, found) = call_sign(&negated, length, &negated_control, control_length, settings, true);
        let kept = found
            .into_iter()
            .filter(|n| !seqlets.iter().any(|p| p.example == n.example && p.start < n.end && n.start < p.end));
        let kept: Vec<Seqlet> = kept.collect();
        seqlets.extend(kept);
        Some(calls)
    } else {
        None
    };
    SeqletCalls { seqlets, positive: positive.0, negative, control: control_words }
}

/// Seeded permutations of each row's values along its positions, `permutations` copies.
fn permuted_control(values: &[f32], length: usize, permutations: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(values.len() * permutations);
    for _ in 0..permutations {
        for row in values.chunks(length.max(1)) {
            let mut copy = row.to_vec();
            copy.shuffle(&mut rng);
            out.extend_from_slice(&copy);
        }
    }
    out
}

/// Calls of one sign (values already negated for negatives).
fn call_sign(
    values: &[f32],
    length: usize,
    control: &[f32],
    control_length: usize,
    settings: &SeqletSettings,
    negative: bool,
) -> (SignCalls, Vec<Seqlet>) {
    let min_length = settings.min_length.max(1);
    let max_length = settings.max_length.max(min_length);
    let thresholds = fdr_thresholds();
    let Some(null) = NullTables::new(values, max_length, settings.bins.max(2)) else {
        return (SignCalls { threshold: None, fdr: Vec::new(), seqlets: 0 }, Vec::new());
    };
    let counts = null.counts(values, length, min_length, max_length, &thresholds);
    let control_counts = null.counts(control, control_length, min_length, max_length, &thresholds);
    let scale = values.len() as f64 / control.len().max(1) as f64;
    let fdr: Vec<FdrStep> = thresholds
        .iter()
        .zip(counts.iter().zip(&control_counts))
        .map(|(&threshold, (&seqlets, &control_seqlets))| FdrStep {
            threshold,
            seqlets,
            control_seqlets,
            fdr: (seqlets > 0).then(|| (control_seqlets as f64 + 1.0) * scale / seqlets as f64),
        })
        .collect();
    let threshold = fdr
        .iter()
        .filter(|step| step.fdr.is_some_and(|f| f <= settings.target_fdr))
        .map(|step| step.threshold)
        .fold(None, |best: Option<f64>, t| Some(best.map_or(t, |b| b.max(t))));
    let seqlets = match threshold {
        Some(threshold) => null.call(values, length, min_length, max_length, threshold, negative),
        None => Vec::new(),
    };
    (SignCalls { threshold, fdr, seqlets: seqlets.len() }, seqlets)
}

/// The null distributions of span sums of binned values.
struct NullTables {
    xmin: f64,
    bin_width: f64,
    bins: usize,
    /// `rcdfs[k][s]` = P(sum of `k` binned values ≥ `s`).
    rcdfs: Vec<Vec<f64>>,
}

/// One example's candidate spans: per length (longest first) the spans whose triangle maximum is
/// below the largest threshold, as `(p-value over prefixes, start, triangle maximum)`, sorted
/// stably by that p-value.
type Candidates = Vec<(usize, Vec<(f64, usize, f64)>)>;

impl NullTables {
    /// The tables of `values`; `None` when they are all equal (no span stands out).
    fn new(values: &[f32], max_length: usize, bins: usize) -> Option<NullTables> {
        let (xmin, xmax) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(f64::from(v)), hi.max(f64::from(v))));
        if xmax.partial_cmp(&xmin) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        let bin_width = (xmax - xmin) / (bins - 1) as f64;
        let mut tables = NullTables { xmin, bin_width, bins, rcdfs: Vec::new() };
        let mut histogram = vec![0.0f64; bins];
        for &v in values {
            histogram[tables.bin(v)] += 1.0;
        }
        let total = values.len() as f64;
        histogram.iter_mut().for_each(|h| *h /= total);
        let nonzero: Vec<(usize, f64)> =
            histogram.iter().enumerate().filter(|(_, h)| **h > 0.0).map(|(j, h)| (j, *h)).collect();
        let mut rcdfs = vec![vec![1.0]];
        let mut pdf = histogram.clone();
        for k in 1..=max_length {
            if k > 1 {
                // pdf_k = pdf_{k-1} * f; outputs in parallel chunks, each a sum in a fixed order.
                let previous = pdf;
                let width = k * (bins - 1) + 1;
                let mut next = vec![0.0f64; width];
                next.par_chunks_mut(1024).enumerate().for_each(|(chunk, out)| {
                    for (offset, slot) in out.iter_mut().enumerate() {
                        let m = chunk * 1024 + offset;
                        let mut sum = 0.0;
                        for &(j, f) in &nonzero {
                            if j <= m && m - j < previous.len() {
                                sum += previous[m - j] * f;
                            }
                        }
                        *slot = sum;
                    }
                });
                pdf = next;
            }
            // Summed from the top: 1 − CDF would lose the small tail probabilities.
            let mut rcdf = vec![0.0f64; pdf.len() + 1];
            for s in (0..pdf.len()).rev() {
                rcdf[s] = rcdf[s + 1] + pdf[s];
            }
            rcdfs.push(rcdf);
        }
        tables.rcdfs = rcdfs;
        Some(tables)
    }

    /// The bin of one value (values outside the range go to the end bins).
    fn bin(&self, value: f32) -> usize {
        let b = ((f64::from(value) - self.xmin) / self.bin_width).floor();
        if b.is_nan() || b < 0.0 { 0 } else { (b as usize).min(self.bins - 1) }
    }

    /// P(S_len ≥ sum).
    fn rcdf(&self, len: usize, sum: usize) -> f64 {
        self.rcdfs[len].get(sum).copied().unwrap_or(0.0)
    }

    /// The candidate spans of one example (see [`Candidates`]).
    fn candidates(&self, row: &[f32], min_length: usize, max_length: usize, largest: f64) -> Candidates {
        let l = row.len();
        let mut csum = vec![0usize; l + 1];
        for (j, &v) in row.iter().enumerate() {
            csum[j + 1] = csum[j] + self.bin(v);
        }
        // p[len][k]: the largest p-value of the prefixes [k, k+m) of the span, m in min..=len;
        // q[len][k]: the largest entry of the triangle of [k, k+len). Rows below min are zero.
        let rows = max_length + 1;
        let mut p = vec![vec![0.0f64; l + 1]; rows];
        let mut q = vec![vec![0.0f64; l + 2]; rows];
        for len in min_length..=max_length.min(l) {
            for k in 0..=(l - len) {
                let own = self.rcdf(len, csum[k + len] - csum[k]);
                let value = own.max(p[len - 1][k]);
                p[len][k] = value;
                q[len][k] = value.max(q[len - 1][k + 1]);
            }
        }
        let mut out = Vec::new();
        for len in (min_length..=max_length.min(l)).rev() {
            let mut spans: Vec<(f64, usize, f64)> =
                (0..=(l - len)).filter(|&k| q[len][k] < largest).map(|k| (p[len][k], k, q[len][k])).collect();
            spans.sort_by(|a, b| a.0.total_cmp(&b.0));
            out.push((len, spans));
        }
        out
    }

    /// The spans kept at `threshold` from an example's candidates, as `(start, len)`.
    fn visit(candidates: &Candidates, threshold: f64, length: usize) -> Vec<(usize, usize)> {
        let mut called = vec![false; length];
        let mut kept = Vec::new();
        for (len, spans) in candidates {
            for &(p, start, q) in spans {
                if p >= threshold {
                    break;
                }
                if q >= threshold || called[start..start + len].iter().any(|&c| c) {
                    continue;
                }
                called[start..start + len].iter_mut().for_each(|c| *c = true);
                kept.push((start, *len));
            }
        }
        kept
    }

    /// Seqlets at each threshold (descending), summed over the rows of `values`.
    fn counts(
        &self,
        values: &[f32],
        length: usize,
        min_length: usize,
        max_length: usize,
        thresholds: &[f64],
    ) -> Vec<usize> {
        let largest = thresholds.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        values
            .par_chunks(length.max(1))
            .map(|row| {
                let candidates = self.candidates(row, min_length, max_length, largest);
                let mut counts = vec![0usize; thresholds.len()];
                for (t, &threshold) in thresholds.iter().enumerate() {
                    let n = Self::visit(&candidates, threshold, row.len()).len();
                    counts[t] = n;
                    // With nothing called, a span passes exactly when its triangle is below the
                    // threshold, so no stricter threshold calls one.
                    if n == 0 {
                        break;
                    }
                }
                counts
            })
            .reduce(
                || vec![0usize; thresholds.len()],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    a
                },
            )
    }

    /// The seqlets of every row at `threshold`.
    fn call(
        &self,
        values: &[f32],
        length: usize,
        min_length: usize,
        max_length: usize,
        threshold: f64,
        negative: bool,
    ) -> Vec<Seqlet> {
        let rows: Vec<Vec<Seqlet>> = values
            .par_chunks(length.max(1))
            .enumerate()
            .map(|(example, row)| {
                let candidates = self.candidates(row, min_length, max_length, threshold);
                let mut csum = vec![0usize; row.len() + 1];
                for (j, &v) in row.iter().enumerate() {
                    csum[j + 1] = csum[j] + self.bin(v);
                }
                let mut found: Vec<Seqlet> = Self::visit(&candidates, threshold, row.len())
                    .into_iter()
                    .map(|(start, len)| {
                        let sum: f64 = row[start..start + len].iter().map(|&v| f64::from(v)).sum();
                        Seqlet {
                            example,
                            start,
                            end: start + len,
                            attribution: if negative { -sum } else { sum },
                            p_value: self.rcdf(len, csum[start + len] - csum[start]),
                            negative,
                        }
                    })
                    .collect();
                found.sort_by_key(|s| s.start);
                found
            })
            .collect();
        rows.into_iter().flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The null of one position is the histogram; of two, its convolution (checked by hand on a
    /// three-bin histogram).
    #[test]
    fn null_tables_are_convolutions_of_the_histogram() -> Result<(), String> {
        // Values 0, 1, 2 in proportions 1/2, 1/4, 1/4 on 3 bins of width 1.
        let values = [0.0f32, 0.0, 1.0, 2.0];
        let null = NullTables::new(&values, 2, 3).ok_or("tables")?;
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(null.rcdf(1, 0), 1.0) && close(null.rcdf(1, 1), 0.5) && close(null.rcdf(1, 2), 0.25));
        // Sum of two: P(S>=4) = 1/16, P(S>=3) = 1/16 + 2/16, P(S>=2) = 3/16 + (1/16 + 2/8) .
        assert!(close(null.rcdf(2, 4), 1.0 / 16.0));
        assert!(close(null.rcdf(2, 3), 3.0 / 16.0));
        assert!(close(null.rcdf(2, 2), 3.0 / 16.0 + 2.0 / 8.0 + 1.0 / 16.0));
        assert!(close(null.rcdf(2, 5), 0.0));
        Ok(())
    }

    /// A planted block of high values is called as one seqlet covering it.
    #[test]
    fn a_planted_block_is_one_seqlet() {
        let length = 100;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut values = Vec::new();
        let mut planted = Vec::new();
        for example in 0..200 {
            let mut row: Vec<f32> = (0..length).map(|_| rand::Rng::random_range(&mut rng, -0.1f32..0.1)).collect();
            if example % 2 == 0 {
                let at = 20 + example % 50;
                row[at..at + 8].iter_mut().for_each(|v| *v += 1.0);
                planted.push((example, at));
            }
            values.extend(row);
        }
        let calls = call_seqlets(&values, length, &SeqletSettings::default(), None);
        let threshold = calls.positive.threshold;
        assert!(threshold.is_some(), "{:?}", calls.positive.fdr.iter().take(5).collect::<Vec<_>>());
        let positives: Vec<&Seqlet> = calls.seqlets.iter().filter(|s| !s.negative).collect();
        let recovered = planted
            .iter()
            .filter(|&&(example, at)| {
                positives.iter().any(|s| s.example == example && s.start <= at + 1 && s.end + 1 >= at + 8)
            })
            .count();
        assert!(recovered >= 95, "{recovered} of {} planted blocks recovered", planted.len());
        let elsewhere = positives.iter().filter(|s| s.example % 2 == 1).count();
        assert!(elsewhere <= 5, "{elsewhere} seqlets in sequences without a block");
    }

    /// Pure noise: few or no seqlets at the default target.
    #[test]
    fn noise_gives_few_or_no_seqlets() {
        let length = 200;
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let values: Vec<f32> = (0..500 * length).map(|_| rand::Rng::random_range(&mut rng, -1.0f32..1.0)).collect();
        let calls = call_seqlets(&values, length, &SeqletSettings::default(), None);
        assert!(calls.seqlets.len() <= 5, "{} seqlets on noise", calls.seqlets.len());
    }
}
