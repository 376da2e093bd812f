//! Position weight matrix (PWM) scans: per motif, the best and the summed log-odds score on both strands.

use omix_encode::Alphabet;
use omix_motif::Motif;
use rayon::prelude::*;

use crate::FeatureError;

/// How far the background may sum from 1 before it is rejected (it is then rescaled to 1).
const BACKGROUND_TOLERANCE: f64 = 0.02;
/// Columns per matrix row: A, C, G, T, a neutral column (score 0) for anything else, and
/// padding so that a code masked with `COLUMNS - 1` indexes a row without a bounds check.
const COLUMNS: usize = 8;
/// The column of a byte that is not A, C, G, T or U (DNA codes past the four letters are
/// clamped to it).
const OTHER: u8 = 4;
/// Sequences per parallel task in [`PwmScanner::scan_batch`].
const BATCH_CHUNK: usize = 16;

/// One motif prepared for scanning.
#[derive(Debug, Clone)]
struct ScanMotif {
    width: usize,
    /// Log-odds per position and letter code, for the forward strand.
    forward: Vec<[f32; COLUMNS]>,
    /// The same for the reverse strand: row `j`, column `c` is forward row `width-1-j`,
    /// column `complement(c)`.
    reverse: Vec<[f32; COLUMNS]>,
    min_score: f32,
    max_score: f32,
}

/// Scans DNA sequences with motifs, giving two features per motif.
///
/// Each motif becomes a log-odds matrix, `log2(((p + pseudocount * bg) / (1 + pseudocount)) / bg)`
/// per position and letter (rows are first rescaled to sum to 1). A window's score is the sum
/// over its positions; `N` and any other non-ACGT byte score 0 (neutral: as likely under the
/// motif as under the background). Every window of both strands is scored, and per motif:
///
/// - `max` is the best window score;
/// - `sum` is `log2(Σ 2^score)` over all windows of both strands, the log of the summed odds
///   ratios: a soft maximum that grows with the number of good sites (an occupancy-like
///   feature), computed stably as a log-sum-exp (`max + log2 Σ 2^(score - max)`, with a
///   polynomial `2^x` good to 3e-7 relative). It is at least `max` and at most
///   `max + log2(2 × windows)`.
///
/// A motif longer than the sequence has no window: both its features are then its minimum
/// possible score ([`min_score`](Self::min_score)), the value of the worst possible site.
///
/// Features come per motif in motif order, `max` then `sum`: feature `2m` is motif `m`'s
/// `max`, `2m + 1` its `sum`. Reverse-complementing a sequence leaves its features unchanged
/// (up to float rounding of `sum`).
#[derive(Debug, Clone)]
pub struct PwmScanner {
    motifs: Vec<ScanMotif>,
    features: Vec<String>,
}

impl PwmScanner {
    /// Prepare `motifs` (4-letter, ACGT order) against `background` (4 frequencies > 0
    /// summing to 1 within 0.02; rescaled to 1) with a `pseudocount` > 0 (the weight of the
    /// background mixed into each row, e.g. 0.01 to 1).
    pub fn new(motifs: &[Motif], background: &[f64], pseudocount: f64) -> Result<Self, FeatureError> {
        if motifs.is_empty() {
            return Err(FeatureError::EmptyMotifList);
        }
        if !(pseudocount.is_finite() && pseudocount > 0.0) {
            return Err(FeatureError::InvalidPseudocount { value: pseudocount });
        }
        let background = check_background(background)?;
        let mut prepared = Vec::with_capacity(motifs.len());
        let mut features = Vec::with_capacity(2 * motifs.len());
        for motif in motifs {
            prepared.push(prepare(motif, &background, pseudocount)?);
            let label = motif.label();
            features.push(format!("{label}:max"));
            features.push(format!("{label}:sum"));
        }
        Ok(PwmScanner { motifs: prepared, features })
    }

    /// Refuse motifs wider than sequences of `length`: they fit no window, so their features
    /// would be the same for every sequence.
    pub fn check_length(&self, length: usize) -> Result<(), FeatureError> {
        let wide: Vec<usize> = (0..self.motifs.len()).filter(|&m| self.motifs[m].width > length).collect();
        match wide.first() {
            None => Ok(()),
            Some(&first) => Err(FeatureError::MotifWiderThanSequence {
                motif: self.features[2 * first].trim_end_matches(":max").to_owned(),
                width: self.motifs[first].width,
                count: wide.len(),
                length,
            }),
        }
    }

    /// The number of features: two per motif.
    pub fn dimension(&self) -> usize {
        self.features.len()
    }

    /// The feature names, `{id}_{name}:max` and `{id}_{name}:sum` per motif (`{id}:max` when unnamed).
    pub fn features(&self) -> &[String] {
        &self.features
    }

    /// The number of motifs.
    pub fn motif_count(&self) -> usize {
        self.motifs.len()
    }

    /// The best possible window score of motif `index` (its consensus), if there is such a motif.
    pub fn max_score(&self, index: usize) -> Option<f32> {
        self.motifs.get(index).map(|m| m.max_score)
    }

    /// The worst possible window score of motif `index`, if there is such a motif.
    pub fn min_score(&self, index: usize) -> Option<f32> {
        self.motifs.get(index).map(|m| m.min_score)
    }

    /// Scan one sequence, writing [`dimension`](Self::dimension) features to `out`.
    ///
    /// # Panics
    /// If `out.len() != self.dimension()`.
    pub fn scan(&self, sequence: &[u8], out: &mut [f32]) {
        let mut scratch = Scratch::default();
        self.scan_with(sequence, out, &mut scratch);
    }

    /// Scan many sequences in parallel: a row-major `sequences × dimension` matrix, the same
    /// whatever the number of threads.
    pub fn scan_batch(&self, sequences: &[&[u8]]) -> Vec<f32> {
        let dimension = self.dimension();
        let mut out = vec![0.0; sequences.len() * dimension];
        out.par_chunks_mut(dimension * BATCH_CHUNK).zip(sequences.par_chunks(BATCH_CHUNK)).for_each_init(
            Scratch::default,
            |scratch, (rows, chunk)| {
                for (row, sequence) in rows.chunks_mut(dimension).zip(chunk) {
                    self.scan_with(sequence, row, scratch);
                }
            },
        );
        out
    }

    fn scan_with(&self, sequence: &[u8], out: &mut [f32], scratch: &mut Scratch) {
        assert_eq!(out.len(), self.dimension(), "PwmScanner::scan: output length must equal dimension()");
        scratch.codes.clear();
        let letters = Alphabet::Dna.codes();
        scratch.codes.extend(sequence.iter().map(|&b| letters[usize::from(b)].min(OTHER)));
        let codes = &scratch.codes[..];
        for (motif, pair) in self.motifs.iter().zip(out.chunks_exact_mut(2)) {
            if codes.len() < motif.width {
                pair[0] = motif.min_score;
                pair[1] = motif.min_score;
                continue;
            }
            // Window scores position by position, all windows at once: the windows are
            // independent, so the additions do not wait on each other.
            let windows = codes.len() + 1 - motif.width;
            let scores = &mut scratch.scores;
            scores.clear();
            scores.resize(2 * windows, 0.0);
            let (forward, reverse) = scores.split_at_mut(windows);
            for (j, row) in motif.forward.iter().enumerate() {
                for (score, &code) in forward.iter_mut().zip(&codes[j..j + windows]) {
                    *score += row[usize::from(code) & (COLUMNS - 1)];
                }
            }
            // The reverse strand is summed from the last position down, so that its terms come
            // in the order of the forward scan of the reverse-complemented sequence (which
            // makes `max` bit-identical on both).
            for (j, row) in motif.reverse.iter().enumerate().rev() {
                for (score, &code) in reverse.iter_mut().zip(&codes[j..j + windows]) {
                    *score += row[usize::from(code) & (COLUMNS - 1)];
                }
            }
            let best = lane_max(scores);
            for score in scores.iter_mut() {
                *score = exp2_nonpositive(*score - best);
            }
            let total = lane_sum(scores);
            pair[0] = best;
            pair[1] = (f64::from(best) + total.log2()) as f32;
        }
    }
}

/// The largest value (−∞ for none), over eight independent lanes so that it vectorises.
fn lane_max(values: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let chunks = values.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &value) in lanes.iter_mut().zip(chunk) {
            *lane = lane.max(value);
        }
    }
    rest.iter().chain(&lanes).copied().fold(f32::NEG_INFINITY, f32::max)
}

/// The sum in `f64`, over four lanes combined in a fixed order (deterministic, and without
/// one long chain of dependent additions).
fn lane_sum(values: &[f32]) -> f64 {
    let mut lanes = [0.0f64; 4];
    let chunks = values.chunks_exact(4);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &value) in lanes.iter_mut().zip(chunk) {
            *lane += f64::from(value);
        }
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + rest.iter().map(|&v| f64::from(v)).sum::<f64>()
}

/// `2^x` for `x <= 0` to about 2e-7 relative error (below −125 it gives `2^-125`, nothing
/// next to the best window's `2^0`). Branch-free, so the loop calling it vectorises, unlike
/// `f32::exp2`.
fn exp2_nonpositive(x: f32) -> f32 {
    /// Taylor coefficients `ln(2)^k / k!` for k = 1..=7 (error below 6e-9 on [-0.5, 0.5]).
    const C: [f32; 7] = [
        std::f32::consts::LN_2,
        0.240_226_5,
        0.055_504_11,
        0.009_618_129,
        0.001_333_355_8,
        0.000_154_035_3,
        0.000_015_252_734,
    ];
    let x = x.clamp(-125.0, 0.0);
    // n = round(x) (as ceil(x - 0.5), since truncation rounds negatives up); f in [-0.5, 0.5].
    let n = (x - 0.5) as i32;
    let f = x - n as f32;
    let p = 1.0 + f * (C[0] + f * (C[1] + f * (C[2] + f * (C[3] + f * (C[4] + f * (C[5] + f * C[6]))))));
    // 2^n built from its exponent bits; n + 127 is in 2..=127, a normal float.
    p * f32::from_bits(((n + 127) as u32) << 23)
}

/// Buffers reused across sequences.
#[derive(Debug, Default)]
struct Scratch {
    codes: Vec<u8>,
    scores: Vec<f32>,
}

/// Check the background and rescale it to sum to 1.
fn check_background(background: &[f64]) -> Result<[f64; 4], FeatureError> {
    let invalid =
        |reason: &str| FeatureError::InvalidBackground { values: background.to_vec(), reason: reason.to_owned() };
    let values: [f64; 4] = background.try_into().map_err(|_| invalid("need 4 frequencies (A, C, G, T)"))?;
    if values.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return Err(invalid("every frequency must be finite and > 0"));
    }
    let sum: f64 = values.iter().sum();
    if (sum - 1.0).abs() > BACKGROUND_TOLERANCE {
        return Err(invalid("they must sum to 1"));
    }
    Ok(values.map(|v| v / sum))
}

/// Build the forward and reverse log-odds matrices of one motif.
fn prepare(motif: &Motif, background: &[f64; 4], pseudocount: f64) -> Result<ScanMotif, FeatureError> {
    if motif.probabilities.is_empty() {
        return Err(FeatureError::EmptyMotif { motif: motif.id.clone() });
    }
    let width = motif.width();
    let mut forward = vec![[0.0f32; COLUMNS]; width];
    let (mut min_score, mut max_score) = (0.0f32, 0.0f32);
    for (j, row) in motif.probabilities.iter().enumerate() {
        if row.len() != 4 {
            return Err(FeatureError::MotifAlphabet { motif: motif.id.clone(), alength: row.len(), expected: 4 });
        }
        let sum: f64 = row.iter().sum();
        if row.iter().any(|p| !(p.is_finite() && *p >= 0.0)) || !(sum > 0.0 && sum.is_finite()) {
            return Err(FeatureError::InvalidProbability { motif: motif.id.clone(), row: j + 1, values: row.clone() });
        }
        let cells = &mut forward[j];
        for (letter, (&p, &bg)) in row.iter().zip(background).enumerate() {
            let smoothed = (p / sum + pseudocount * bg) / (1.0 + pseudocount);
            cells[letter] = (smoothed / bg).log2() as f32;
        }
        cells[usize::from(OTHER)] = 0.0;
        min_score += cells[..4].iter().copied().fold(f32::INFINITY, f32::min);
        max_score += cells[..4].iter().copied().fold(f32::NEG_INFINITY, f32::max);
    }
    let mut reverse = vec![[0.0f32; COLUMNS]; width];
    for (j, row) in reverse.iter_mut().enumerate() {
        let source = &forward[width - 1 - j];
        for code in 0..4 {
            row[code] = source[3 - code];
        }
    }
    Ok(ScanMotif { width, forward, reverse, min_score, max_score })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn motifs() -> Vec<Motif> {
        let mut arnt = Motif::new(
            "MA0004.1",
            vec![
                vec![0.2, 0.8, 0.0, 0.0],
                vec![0.95, 0.0, 0.05, 0.0],
                vec![0.0, 1.0, 0.0, 0.0],
                vec![0.0, 0.0, 1.0, 0.0],
                vec![0.0, 0.0, 0.0, 1.0],
                vec![0.0, 0.0, 1.0, 0.0],
            ],
        );
        arnt.name = Some("Arnt".to_owned());
        let short = Motif::new("short", vec![vec![0.1, 0.1, 0.1, 0.7], vec![0.1, 0.7, 0.1, 0.1]]);
        vec![arnt, short]
    }

    /// A plain scanner in f64: string reverse complement, a match per base.
    fn naive(motifs: &[Motif], background: &[f64], pseudocount: f64, sequence: &[u8]) -> Vec<f64> {
        let index = |b: u8| match b.to_ascii_uppercase() {
            b'A' => Some(0),
            b'C' => Some(1),
            b'G' => Some(2),
            b'T' | b'U' => Some(3),
            _ => None,
        };
        let reverse: Vec<u8> = sequence
            .iter()
            .rev()
            .map(|&b| match b.to_ascii_uppercase() {
                b'A' => b'T',
                b'C' => b'G',
                b'G' => b'C',
                b'T' | b'U' => b'A',
                other => other,
            })
            .collect();
        let mut out = Vec::new();
        for motif in motifs {
            let score = |window: &[u8]| -> f64 {
                window
                    .iter()
                    .zip(&motif.probabilities)
                    .map(|(&b, row)| match index(b) {
                        Some(i) => {
                            let sum: f64 = row.iter().sum();
                            (((row[i] / sum) + pseudocount * background[i]) / (1.0 + pseudocount) / background[i])
                                .log2()
                        }
                        None => 0.0,
                    })
                    .sum()
            };
            let w = motif.width();
            let scores: Vec<f64> = if sequence.len() < w {
                Vec::new()
            } else {
                sequence.windows(w).chain(reverse.windows(w)).map(score).collect()
            };
            if scores.is_empty() {
                let worst: f64 = (0..w)
                    .map(|j| {
                        (0..4).map(|i| score_at(motif, background, pseudocount, j, i)).fold(f64::INFINITY, f64::min)
                    })
                    .sum();
                out.extend([worst, worst]);
            } else {
                let best = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                out.push(best);
                out.push(scores.iter().map(|s| s.exp2()).sum::<f64>().log2());
            }
        }
        out
    }

    fn score_at(motif: &Motif, background: &[f64], pseudocount: f64, row: usize, letter: usize) -> f64 {
        let p = &motif.probabilities[row];
        let sum: f64 = p.iter().sum();
        ((p[letter] / sum + pseudocount * background[letter]) / (1.0 + pseudocount) / background[letter]).log2()
    }

    #[test]
    fn names_and_dimension() -> TestResult {
        let scanner = PwmScanner::new(&motifs(), &[0.25; 4], 0.1)?;
        assert_eq!(scanner.dimension(), 4);
        assert_eq!(scanner.motif_count(), 2);
        assert_eq!(scanner.features(), ["MA0004.1_Arnt:max", "MA0004.1_Arnt:sum", "short:max", "short:sum"]);
        assert!(scanner.max_score(2).is_none());
        Ok(())
    }

    #[test]
    fn planted_consensus_scores_the_maximum() -> TestResult {
        let scanner = PwmScanner::new(&motifs(), &[0.3, 0.2, 0.2, 0.3], 0.1)?;
        let max = scanner.max_score(0).ok_or("motif 0")?;
        // Consensus CACGTG is its own reverse complement; plant it in a run of Ns.
        let mut out = vec![0.0; 4];
        scanner.scan(b"NNNNNCACGTGNNNNNAAAA", &mut out);
        assert!((out[0] - max).abs() < 1e-5, "{} vs {max}", out[0]);
        assert!(out[1] >= out[0]);
        // The consensus of 'short' is TC; planted as GA it is found on the reverse strand.
        let best = scanner.max_score(1).ok_or("motif 1")?;
        for planted in [&b"AATCAA"[..], b"NNGANN"] {
            scanner.scan(planted, &mut out);
            assert!((out[2] - best).abs() < 1e-6, "{planted:?}: {} vs {best}", out[2]);
        }
        scanner.scan(b"NNGGNN", &mut out);
        assert!(out[2] < best);
        Ok(())
    }

    #[test]
    fn short_sequences_get_the_minimum_score() -> TestResult {
        let scanner = PwmScanner::new(&motifs(), &[0.25; 4], 0.5)?;
        let mut out = vec![0.0; 4];
        scanner.scan(b"ACG", &mut out);
        let min = scanner.min_score(0).ok_or("motif 0")?;
        assert_eq!(out[..2], [min, min]);
        assert!(min < 0.0);
        scanner.scan(b"", &mut out);
        assert_eq!(out[2..], [scanner.min_score(1).ok_or("motif 1")?; 2]);
        Ok(())
    }

    #[test]
    fn n_is_neutral() -> TestResult {
        let scanner = PwmScanner::new(&motifs(), &[0.25; 4], 0.1)?;
        let mut out = vec![0.0; 4];
        scanner.scan(b"NN", &mut out);
        // One window on each strand, both scoring 0.
        assert_eq!(out[2], 0.0);
        assert!((out[3] - 1.0).abs() < 1e-6, "log2(2^0 + 2^0) = 1, got {}", out[3]);
        Ok(())
    }

    #[test]
    fn motifs_wider_than_the_sequences_are_refused() -> TestResult {
        let good = motifs();
        let scanner = PwmScanner::new(&good, &[0.25; 4], 0.1)?;
        let widest = good.iter().map(|m| m.probabilities.len()).max().unwrap_or(0);
        scanner.check_length(widest)?;
        let Err(error) = scanner.check_length(widest - 1) else {
            return Err("a motif wider than the sequences was accepted".into());
        };
        assert!(matches!(error, FeatureError::MotifWiderThanSequence { .. }), "{error}");
        assert!(error.to_string().contains("constant"), "{error}");
        Ok(())
    }

    #[test]
    fn fast_exp2_is_accurate() {
        for i in 0..=178_000 {
            let x = -(i as f32) * 0.000_7;
            let exact = f64::from(x).exp2();
            let fast = f64::from(exp2_nonpositive(x));
            assert!(((fast - exact) / exact).abs() < 3e-7, "x = {x}: {fast} vs {exact}");
        }
        assert_eq!(exp2_nonpositive(0.0), 1.0);
        assert!(exp2_nonpositive(-1000.0) > 0.0 && exp2_nonpositive(-1000.0) < 1e-37);
        assert_eq!(lane_max(&[]), f32::NEG_INFINITY);
        assert_eq!(lane_max(&[1.0, 5.0, 2.0, 3.0, 4.0, 0.0, -1.0, 2.0, 4.5, 7.0]), 7.0);
        assert_eq!(lane_sum(&[1.0; 11]), 11.0);
    }

    #[test]
    fn construction_errors() {
        let good = motifs();
        assert!(matches!(PwmScanner::new(&[], &[0.25; 4], 0.1), Err(FeatureError::EmptyMotifList)));
        assert!(matches!(PwmScanner::new(&good, &[0.25; 4], 0.0), Err(FeatureError::InvalidPseudocount { .. })));
        assert!(matches!(PwmScanner::new(&good, &[0.25; 4], f64::NAN), Err(FeatureError::InvalidPseudocount { .. })));
        assert!(matches!(PwmScanner::new(&good, &[0.5; 2], 0.1), Err(FeatureError::InvalidBackground { .. })));
        assert!(matches!(
            PwmScanner::new(&good, &[0.5, 0.5, 0.0, 0.0], 0.1),
            Err(FeatureError::InvalidBackground { .. })
        ));
        assert!(matches!(PwmScanner::new(&good, &[0.4; 4], 0.1), Err(FeatureError::InvalidBackground { .. })));
        let empty = Motif::new("e", Vec::new());
        assert!(matches!(PwmScanner::new(&[empty], &[0.25; 4], 0.1), Err(FeatureError::EmptyMotif { .. })));
        let protein = Motif::new("p", vec![vec![0.05; 20]]);
        assert!(matches!(PwmScanner::new(&[protein], &[0.25; 4], 0.1), Err(FeatureError::MotifAlphabet { .. })));
        let zero = Motif::new("z", vec![vec![0.0; 4]]);
        assert!(matches!(
            PwmScanner::new(&[zero], &[0.25; 4], 0.1),
            Err(FeatureError::InvalidProbability { row: 1, .. })
        ));
    }

    proptest! {
        #[test]
        fn matches_naive_and_is_strand_symmetric(
            sequence in proptest::collection::vec(proptest::sample::select(b"ACGTACGTNacgu".to_vec()), 0..40),
            pseudocount in 0.01f64..2.0,
        ) {
            let background = [0.3, 0.2, 0.2, 0.3];
            let motifs = motifs();
            let scanner = PwmScanner::new(&motifs, &background, pseudocount).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut out = vec![0.0; scanner.dimension()];
            scanner.scan(&sequence, &mut out);
            let expected = naive(&motifs, &background, pseudocount, &sequence);
            for (got, want) in out.iter().zip(&expected) {
                prop_assert!((f64::from(*got) - want).abs() < 1e-4, "{out:?} vs {expected:?}");
            }
            let reverse = omix_encode::reverse_complement(&sequence, omix_encode::Alphabet::Dna);
            let mut flipped = vec![0.0; scanner.dimension()];
            scanner.scan(&reverse, &mut flipped);
            for m in 0..scanner.motif_count() {
                prop_assert_eq!(out[2 * m], flipped[2 * m]);
                prop_assert!((out[2 * m + 1] - flipped[2 * m + 1]).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn batch_matches_single_scans() -> TestResult {
        let scanner = PwmScanner::new(&motifs(), &[0.25; 4], 0.1)?;
        let owned: Vec<Vec<u8>> =
            (0..100).map(|i| (0..(i % 13)).map(|j| b"ACGTN"[(i * 7 + j * 3) % 5]).collect()).collect();
        let sequences: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let batch = scanner.scan_batch(&sequences);
        assert_eq!(batch.len(), 100 * 4);
        let mut row = vec![0.0; 4];
        for (i, sequence) in sequences.iter().enumerate() {
            scanner.scan(sequence, &mut row);
            assert_eq!(batch[i * 4..(i + 1) * 4], row[..]);
        }
        assert!(scanner.scan_batch(&[]).is_empty());
        Ok(())
    }
}
