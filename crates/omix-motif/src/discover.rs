//! Motif discovery from attributions, TF-MoDISco's idea written anew: [`seqlets`] finds spans
//! of high attribution (the recursive seqlet algorithm, with a control-based false discovery
//! rate), [`patterns`] aligns and clusters them on both strands into contribution weight
//! matrices and frequency matrices. The input is what `modisco motifs` reads: one-hot sequences
//! and (hypothetical) contributions, both `sequences × 4 × length`.
//!
//! ```
//! use omix_motif::discover::{AttributionSet, DiscoverySettings, discover};
//!
//! // 300 random sequences of 60 bases; half carry GGAA at position 20, whose bases get
//! // attribution 1 (hypothetical contributions: the motif's base at each position).
//! let (sequences, length) = (300, 60);
//! let mut one_hot = vec![0.0f32; sequences * 4 * length];
//! let mut hypothetical = vec![0.0f32; sequences * 4 * length];
//! let mut state = 7u64;
//! for i in 0..sequences {
//!     for j in 0..length {
//!         state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
//!         let mut base = (state >> 62) as usize;
//!         if i % 2 == 0 && (20..24).contains(&j) {
//!             base = [2, 2, 0, 0][j - 20];
//!             hypothetical[(i * 4 + base) * length + j] = 1.0;
//!         }
//!         one_hot[(i * 4 + base) * length + j] = 1.0;
//!     }
//! }
//! let set = AttributionSet::new(one_hot, hypothetical, sequences, length)?;
//! let mut settings = DiscoverySettings::default();
//! settings.patterns.window = 12;
//! let found = discover(&set, &settings);
//! assert_eq!(found.patterns.len(), 1);
//! assert!(found.patterns[0].sites.len() >= 140);
//! # Ok::<(), omix_motif::MotifError>(())
//! ```

pub mod patterns;
pub mod seqlets;

pub use patterns::{Pattern, PatternSettings, Site};
pub use seqlets::{Control, FdrStep, Seqlet, SeqletCalls, SeqletSettings, SignCalls};

use crate::{Motif, MotifError, frequency_matrix};

/// One-hot sequences and their hypothetical (or actual) contributions, `sequences × 4 ×
/// length` in C order (TF-MoDISco's `ohe.npz` and `shap.npz`). The alphabet's letters are in
/// `ACGT` (or `ACGU`) order, so that reversing both axes is the reverse complement.
#[derive(Debug, Clone)]
pub struct AttributionSet {
    /// Number of sequences.
    pub sequences: usize,
    /// Positions per sequence.
    pub length: usize,
    /// One-hot values.
    pub one_hot: Vec<f32>,
    /// Hypothetical contributions (actual ones work too: a base's value where it is observed).
    pub hypothetical: Vec<f32>,
}

impl AttributionSet {
    /// Checks the sizes and that every value is finite (naming the first one that is not).
    pub fn new(one_hot: Vec<f32>, hypothetical: Vec<f32>, sequences: usize, length: usize) -> Result<Self, MotifError> {
        let fail = |message: String| Err(MotifError::Attributions { message });
        let expected = sequences * 4 * length;
        if sequences == 0 || length == 0 {
            return fail(format!("no attributions to search ({sequences} sequences of {length} positions)"));
        }
        if one_hot.len() != expected || hypothetical.len() != expected {
            return fail(format!(
                "expected {sequences} × 4 × {length} = {expected} values in both arrays; the sequences have {} and the attributions {}",
                one_hot.len(),
                hypothetical.len()
            ));
        }
        for (name, values) in [("sequences", &one_hot), ("attributions", &hypothetical)] {
            if let Some(at) = values.iter().position(|v| !v.is_finite()) {
                let (example, rest) = (at / (4 * length), at % (4 * length));
                return fail(format!(
                    "the {name} hold a value that is not finite ({}) at sequence {example}, channel {}, position {}",
                    values[at],
                    rest / length,
                    rest % length
                ));
            }
        }
        Ok(AttributionSet { sequences, length, one_hot, hypothetical })
    }

    /// The projected attributions (`Σ_letters one-hot × contribution`), `sequences × length`.
    pub fn projected(&self) -> Vec<f32> {
        let mut out = vec![0.0f32; self.sequences * self.length];
        for (i, row) in out.chunks_mut(self.length).enumerate() {
            for letter in 0..4 {
                let base = (i * 4 + letter) * self.length;
                for (j, slot) in row.iter_mut().enumerate() {
                    *slot += self.one_hot[base + j] * self.hypothetical[base + j];
                }
            }
        }
        out
    }
}

/// Every setting of a discovery.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiscoverySettings {
    /// Seqlet calling.
    pub seqlets: SeqletSettings,
    /// Clustering.
    pub patterns: PatternSettings,
}

/// What a discovery found.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// Seqlets and how they were called.
    pub calls: SeqletCalls,
    /// Patterns, positive ones first, each sign by seqlet count.
    pub patterns: Vec<Pattern>,
}

/// Seqlets of `set` (against `control`, or permutations of its own projected attributions),
/// clustered into patterns.
pub fn discover(set: &AttributionSet, settings: &DiscoverySettings) -> Discovery {
    discover_with_control(set, settings, None)
}

/// [`discover`] with control attributions (`examples × length` projected values, e.g. of
/// dinucleotide-shuffled sequences) for the false discovery estimate.
pub fn discover_with_control(
    set: &AttributionSet,
    settings: &DiscoverySettings,
    control: Option<Control<'_>>,
) -> Discovery {
    let projected = set.projected();
    let calls = seqlets::call_seqlets(&projected, set.length, &settings.seqlets, control);
    let patterns = patterns::cluster(set, &calls.seqlets, &settings.patterns);
    Discovery { calls, patterns }
}

/// A pattern's trimmed PFM as a motif (`pseudocount` spread over the letters of each row).
pub fn pattern_motif(pattern: &Pattern, id: &str, pseudocount: f64) -> Motif {
    let mut motif = Motif::new(id, frequency_matrix(pattern.trimmed_counts(), pseudocount));
    motif.sites = Some(pattern.sites.len() as f64);
    motif
}

/// The consensus of a PFM (`N` where no letter has half the counts).
pub fn consensus(counts: &[Vec<f64>], letters: &str) -> String {
    let letters: Vec<char> = letters.chars().collect();
    counts
        .iter()
        .map(|row| {
            let total: f64 = row.iter().sum();
            let (best, value) =
                row.iter().enumerate().fold((0, f64::NEG_INFINITY), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
            if total > 0.0 && value >= 0.5 * total { letters.get(best).copied().unwrap_or('N') } else { 'N' }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const MOTIF: &[u8] = b"CGACCGAACTCC";

    fn index(b: u8) -> usize {
        match b {
            b'A' => 0,
            b'C' => 1,
            b'G' => 2,
            _ => 3,
        }
    }

    /// Synthetic attributions: random sequences, a planted motif (on a random strand) in a
    /// fraction of them whose hypothetical contributions show the motif at every base (1 for the
    /// motif's base, −0.3 for the others) plus noise everywhere.
    fn synthetic(
        sequences: usize,
        length: usize,
        planted_every: usize,
        seed: u64,
    ) -> (AttributionSet, Vec<(usize, usize, bool)>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut one_hot = vec![0.0f32; sequences * 4 * length];
        let mut hypothetical = vec![0.0f32; sequences * 4 * length];
        let mut truth = Vec::new();
        for i in 0..sequences {
            let mut bases: Vec<u8> = (0..length).map(|_| b"ACGT"[rng.random_range(0..4)]).collect();
            for j in 0..length {
                for letter in 0..4 {
                    hypothetical[(i * 4 + letter) * length + j] = rng.random_range(-0.05f32..0.05);
                }
            }
            if planted_every > 0 && i % planted_every == 0 {
                let at = rng.random_range(5..length - MOTIF.len() - 5);
                let reverse = rng.random_bool(0.5);
                let site: Vec<u8> = if reverse {
                    MOTIF
                        .iter()
                        .rev()
                        .map(|&b| match b {
                            b'A' => b'T',
                            b'C' => b'G',
                            b'G' => b'C',
                            _ => b'A',
                        })
                        .collect()
                } else {
                    MOTIF.to_vec()
                };
                for (k, &b) in site.iter().enumerate() {
                    bases[at + k] = b;
                    for letter in 0..4 {
                        let value = if letter == index(b) { 1.0 } else { -0.3 };
                        hypothetical[(i * 4 + letter) * length + at + k] += value;
                    }
                }
                truth.push((i, at, reverse));
            }
            for (j, &b) in bases.iter().enumerate() {
                one_hot[(i * 4 + index(b)) * length + j] = 1.0;
            }
        }
        (
            AttributionSet::new(one_hot, hypothetical, sequences, length)
                .map_err(|e| e.to_string())
                .unwrap_or_else(|e| panic!("{e}")),
            truth,
        )
    }

    /// Planted motifs on both strands: seqlets at the planted positions, one pattern holding
    /// both strands, whose trimmed consensus is the motif (or its reverse complement).
    #[test]
    fn planted_motif_is_recovered_on_both_strands() {
        let (set, truth) = synthetic(400, 100, 2, 11);
        let found = discover(&set, &DiscoverySettings::default());
        let positives: Vec<&Seqlet> = found.calls.seqlets.iter().filter(|s| !s.negative).collect();
        let hit = truth
            .iter()
            .filter(|&&(i, at, _)| positives.iter().any(|s| s.example == i && s.start < at + MOTIF.len() && at < s.end))
            .count();
        assert!(hit >= truth.len() * 95 / 100, "{hit} of {} planted sites called", truth.len());
        assert!(!found.patterns.is_empty());
        let top = &found.patterns[0];
        assert!(!top.negative);
        assert!(top.sites.len() >= truth.len() * 9 / 10, "{} sites of {}", top.sites.len(), truth.len());
        let strands: Vec<bool> = top.sites.iter().map(|s| s.reverse).collect();
        assert!(strands.iter().any(|&r| r) && strands.iter().any(|&r| !r), "both strands merged into one pattern");
        // Each site's window covers its planted motif.
        let mut covered = 0;
        for site in &top.sites {
            if let Some(&(_, at, _)) = truth.iter().find(|t| t.0 == site.example) {
                let (lo, hi) = top.site_core(site);
                let at = at as isize;
                if lo <= at + 2 && hi + 2 >= at + MOTIF.len() as isize {
                    covered += 1;
                }
            }
        }
        assert!(
            covered >= top.sites.len() * 95 / 100,
            "{covered} of {} sites cover the planted motif",
            top.sites.len()
        );
        let consensus = consensus(top.trimmed_counts(), "ACGT");
        let reverse: String = consensus
            .chars()
            .rev()
            .map(|c| match c {
                'A' => 'T',
                'C' => 'G',
                'G' => 'C',
                'T' => 'A',
                o => o,
            })
            .collect();
        let motif = std::str::from_utf8(MOTIF).unwrap_or_default();
        assert!(consensus.contains(motif) || reverse.contains(motif), "consensus {consensus}");
        assert!(found.patterns.len() <= 2, "{} patterns", found.patterns.len());
    }

    /// Noise only: no pattern.
    #[test]
    fn noise_gives_no_pattern() {
        let (set, _) = synthetic(300, 100, 0, 5);
        let found = discover(&set, &DiscoverySettings::default());
        assert!(found.calls.seqlets.len() <= 5, "{} seqlets", found.calls.seqlets.len());
        assert!(found.patterns.is_empty());
    }

    /// Shapes that disagree and values that are not finite are refused, naming the place.
    #[test]
    fn bad_attributions_are_refused() {
        let wrong = AttributionSet::new(vec![0.0; 8], vec![0.0; 7], 1, 2).map(|_| ()).map_err(|e| e.to_string());
        assert!(wrong.as_ref().is_err_and(|e| e.contains("1 × 4 × 2 = 8")), "{wrong:?}");
        let mut values = vec![0.0; 8];
        values[5] = f32::NAN;
        let nan = AttributionSet::new(vec![0.0; 8], values, 1, 2).map(|_| ()).map_err(|e| e.to_string());
        assert!(nan.as_ref().is_err_and(|e| e.contains("sequence 0, channel 2, position 1")), "{nan:?}");
    }
}
