//! Reverse complement of sequences and of one-hot buffers.

use crate::alphabet::Alphabet;

/// IUPAC complement pairs (upper case); lower case is derived.
const PAIRS: [(u8, u8); 15] = [
    (b'A', b'T'),
    (b'C', b'G'),
    (b'G', b'C'),
    (b'T', b'A'),
    (b'U', b'A'),
    (b'R', b'Y'),
    (b'Y', b'R'),
    (b'S', b'S'),
    (b'W', b'W'),
    (b'K', b'M'),
    (b'M', b'K'),
    (b'B', b'V'),
    (b'V', b'B'),
    (b'D', b'H'),
    (b'H', b'D'),
];

/// Complement table: identity for bytes without a complement; A complements to `a_complement`.
const fn complement_table(a_complement: u8) -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = b as u8;
        b += 1;
    }
    let mut k = 0;
    while k < PAIRS.len() {
        let (from, mut to) = PAIRS[k];
        if from == b'A' {
            to = a_complement;
        }
        table[from as usize] = to;
        table[from.to_ascii_lowercase() as usize] = to.to_ascii_lowercase();
        k += 1;
    }
    table
}

static DNA_COMPLEMENT: [u8; 256] = complement_table(b'T');
static RNA_COMPLEMENT: [u8; 256] = complement_table(b'U');

/// Reverse complement of a DNA/RNA sequence (IUPAC-aware, case-preserving).
///
/// U complements to A; A complements to T for [`Alphabet::Dna`] and to U for
/// [`Alphabet::Rna`]. Bytes without a complement (`N`, gaps, ...) are kept as they are,
/// so [`Alphabet::Protein`] yields the plain reversal.
pub fn reverse_complement(sequence: &[u8], alphabet: Alphabet) -> Vec<u8> {
    let table = match alphabet {
        Alphabet::Dna => &DNA_COMPLEMENT,
        Alphabet::Rna => &RNA_COMPLEMENT,
        Alphabet::Protein => return sequence.iter().rev().copied().collect(),
    };
    sequence.iter().rev().map(|&b| table[usize::from(b)]).collect()
}

/// Reverse complement of a channel-major one-hot `[4, len]` buffer (both axes flipped).
///
/// With channels ordered A, C, G, T this maps channel `c` at position `i` to channel
/// `3 - c` at position `len - 1 - i`, which is the reversal of the whole buffer.
///
/// # Panics
///
/// If `one_hot.len() != 4 * len`.
pub fn reverse_complement_one_hot(one_hot: &[f32], len: usize) -> Vec<f32> {
    assert_eq!(one_hot.len(), 4 * len, "one-hot buffer must be [4, len]");
    one_hot.iter().rev().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dna_reverse_complement() {
        assert_eq!(reverse_complement(b"ACGTN", Alphabet::Dna), b"NACGT");
        assert_eq!(reverse_complement(b"aCgU", Alphabet::Dna), b"AcGt");
        assert_eq!(reverse_complement(b"RYSWKMBDHV", Alphabet::Dna), b"BDHVKMWSRY");
        assert_eq!(reverse_complement(b"ac-g", Alphabet::Dna), b"c-gt");
        assert_eq!(reverse_complement(b"", Alphabet::Dna), b"");
    }

    #[test]
    fn rna_reverse_complement() {
        assert_eq!(reverse_complement(b"AACGU", Alphabet::Rna), b"ACGUU");
        assert_eq!(reverse_complement(b"aT", Alphabet::Rna), b"Au");
    }

    #[test]
    fn protein_is_only_reversed() {
        assert_eq!(reverse_complement(b"MKAT", Alphabet::Protein), b"TAKM");
    }

    #[test]
    fn involution_on_iupac() {
        let all = b"ACGTRYSWKMBDHVNacgtryswkmbdhvn";
        let twice = reverse_complement(&reverse_complement(all, Alphabet::Dna), Alphabet::Dna);
        assert_eq!(twice, all);
    }

    #[test]
    fn one_hot_reverse_complement() {
        // "AC" -> A=[1,0] C=[0,1]; revcomp "GT".
        let one_hot = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let rc = reverse_complement_one_hot(&one_hot, 2);
        assert_eq!(rc, [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
    }
}
