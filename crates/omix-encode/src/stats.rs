//! Simple sequence statistics and canonical forms.

use crate::Alphabet;

/// The G/C and A/T counts of a sequence, from which [`gc_fraction`] is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GcCount {
    /// G and C bases, either case.
    pub gc: usize,
    /// A, T and U bases, either case.
    pub at: usize,
}

impl GcCount {
    /// Count the G/C and A/T/U bases of `sequence` (either case); `N`, the other IUPAC codes
    /// and any other byte are not counted.
    pub fn of(sequence: &[u8]) -> Self {
        // Per DNA channel (A, C, G, T/U) and one slot for everything else.
        let codes = Alphabet::Dna.codes();
        let mut counts = [0usize; 5];
        for &b in sequence {
            counts[usize::from(codes[usize::from(b)].min(4))] += 1;
        }
        GcCount { gc: counts[1] + counts[2], at: counts[0] + counts[3] }
    }

    /// G + C over A + C + G + T; `None` when no base was counted.
    pub fn fraction(self) -> Option<f64> {
        let total = self.gc + self.at;
        (total > 0).then(|| self.gc as f64 / total as f64)
    }
}

/// Fraction of G/C among A/C/G/T/U (either case; `N` and other bytes ignored); `None` when the
/// sequence holds none of these bases.
pub fn gc_fraction(sequence: &[u8]) -> Option<f64> {
    GcCount::of(sequence).fraction()
}

/// Upper-case copy with U mapped to T, for duplicate detection across case and DNA/RNA.
pub fn canonical_upper(sequence: &[u8]) -> Vec<u8> {
    sequence
        .iter()
        .map(|&b| match b.to_ascii_uppercase() {
            b'U' => b'T',
            upper => upper,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gc_fraction_ignores_n_and_case() {
        assert_eq!(gc_fraction(b"GCAT"), Some(0.5));
        assert_eq!(gc_fraction(b"gcNNNNau"), Some(0.5));
        assert_eq!(gc_fraction(b"gcNNNNat"), Some(0.5));
        assert_eq!(gc_fraction(b"GGGC"), Some(1.0));
        assert_eq!(gc_fraction(b"NNNN"), None);
        assert_eq!(gc_fraction(b""), None);
        assert_eq!(GcCount::of(b"ACGTUNRacgtun-\xff"), GcCount { gc: 4, at: 6 });
    }

    #[test]
    fn canonical_upper_folds_case_and_u() {
        assert_eq!(canonical_upper(b"acgUn-"), b"ACGTN-");
        assert_eq!(canonical_upper(b"ACGT"), canonical_upper(b"acgu"));
    }
}
