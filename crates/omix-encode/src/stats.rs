//! Simple sequence statistics and canonical forms.

/// Class of a byte for [`gc_fraction`]: 0 ignored, 1 A/T/U, 2 G/C.
static GC_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let at = *b"ATUatu";
    let gc = *b"GCgc";
    let mut i = 0;
    while i < at.len() {
        table[at[i] as usize] = 1;
        i += 1;
    }
    let mut i = 0;
    while i < gc.len() {
        table[gc[i] as usize] = 2;
        i += 1;
    }
    table
};

/// Fraction of G/C among A/C/G/T/U (case-insensitive; N and other bytes ignored; 0 if none).
pub fn gc_fraction(sequence: &[u8]) -> f64 {
    let mut counts = [0usize; 3];
    for &b in sequence {
        counts[usize::from(GC_CLASS[usize::from(b)])] += 1;
    }
    let total = counts[1] + counts[2];
    if total == 0 { 0.0 } else { counts[2] as f64 / total as f64 }
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
    fn gc_fraction_ignores_n() {
        assert_eq!(gc_fraction(b"GCAT"), 0.5);
        assert_eq!(gc_fraction(b"gcNNNNau"), 0.5);
        assert_eq!(gc_fraction(b"GGGC"), 1.0);
        assert_eq!(gc_fraction(b"NNNN"), 0.0);
        assert_eq!(gc_fraction(b""), 0.0);
    }

    #[test]
    fn canonical_upper_folds_case_and_u() {
        assert_eq!(canonical_upper(b"acgUn-"), b"ACGTN-");
        assert_eq!(canonical_upper(b"ACGT"), canonical_upper(b"acgu"));
    }
}
