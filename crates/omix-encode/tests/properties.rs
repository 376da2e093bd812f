//! Property tests of the public API.

use std::collections::HashMap;

use omix_encode::{
    Alphabet, Ambiguity, EncodeError, Encoder, LengthPolicy, dinucleotide_shuffle, fit_length, reverse_complement,
    reverse_complement_one_hot,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const IUPAC: &[u8] = b"ACGTURYSWKMBDHVNacgturyswkmbdhvn";

/// Reference encoder: one `match` per base, written independently of the lookup tables.
fn reference_encode(sequence: &[u8], alphabet: Alphabet, ambiguity: Ambiguity) -> Result<Vec<f32>, EncodeError> {
    let size = alphabet.size();
    let len = sequence.len();
    let mut out = vec![0.0f32; size * len];
    for (i, &symbol) in sequence.iter().enumerate() {
        let allowed: &[u8] = match alphabet {
            Alphabet::Dna | Alphabet::Rna => match symbol.to_ascii_uppercase() {
                b'A' => b"A",
                b'C' => b"C",
                b'G' => b"G",
                b'T' | b'U' => b"T",
                b'R' => b"AG",
                b'Y' => b"CT",
                b'S' => b"CG",
                b'W' => b"AT",
                b'K' => b"GT",
                b'M' => b"AC",
                b'B' => b"CGT",
                b'D' => b"AGT",
                b'H' => b"ACT",
                b'V' => b"ACG",
                b'N' => b"ACGT",
                _ => {
                    return Err(EncodeError::InvalidSymbol { position: i, symbol });
                }
            },
            Alphabet::Protein => match symbol.to_ascii_uppercase() {
                b'X' => b"ACDEFGHIKLMNPQRSTVWY",
                b'B' => b"DN",
                b'Z' => b"EQ",
                b'J' => b"IL",
                upper if b"ACDEFGHIKLMNPQRSTVWY".contains(&upper) => {
                    std::slice::from_ref(&alphabet.symbols()[position(alphabet, upper)])
                }
                _ => {
                    return Err(EncodeError::InvalidSymbol { position: i, symbol });
                }
            },
        };
        if allowed.len() > 1 && ambiguity == Ambiguity::Zero {
            continue;
        }
        for &base in allowed {
            let channel = match (alphabet, base) {
                (Alphabet::Dna | Alphabet::Rna, b'T') => 3,
                _ => position(alphabet, base),
            };
            out[channel * len + i] = 1.0 / allowed.len() as f32;
        }
    }
    Ok(out)
}

fn position(alphabet: Alphabet, symbol: u8) -> usize {
    alphabet.symbols().iter().position(|&s| s == symbol).unwrap_or(usize::MAX)
}

fn dinucleotides(sequence: &[u8]) -> HashMap<[u8; 2], usize> {
    let mut counts = HashMap::new();
    for pair in sequence.windows(2) {
        let key = [pair[0].to_ascii_uppercase(), pair[1].to_ascii_uppercase()];
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

fn from_alphabet(symbols: &'static [u8], len: std::ops::Range<usize>) -> BoxedStrategy<Vec<u8>> {
    prop::collection::vec(prop::sample::select(symbols), len).boxed()
}

fn any_alphabet() -> impl Strategy<Value = Alphabet> {
    prop::sample::select(&[Alphabet::Dna, Alphabet::Rna, Alphabet::Protein][..])
}

fn any_ambiguity() -> impl Strategy<Value = Ambiguity> {
    prop::sample::select(&[Ambiguity::Zero, Ambiguity::Uniform][..])
}

proptest! {
    #[test]
    fn one_hot_commutes_with_reverse_complement(
        sequence in from_alphabet(IUPAC, 0..200),
        ambiguity in any_ambiguity(),
        rna in any::<bool>(),
    ) {
        let alphabet = if rna { Alphabet::Rna } else { Alphabet::Dna };
        let encoder = Encoder::new(alphabet, ambiguity);
        let direct = encoder.encode(&reverse_complement(&sequence, alphabet))?;
        let flipped = reverse_complement_one_hot(&encoder.encode(&sequence)?, sequence.len());
        prop_assert_eq!(direct, flipped);
    }

    #[test]
    fn reverse_complement_is_an_involution(
        sequence in any::<Vec<u8>>(),
        alphabet in any_alphabet(),
    ) {
        let twice = reverse_complement(&reverse_complement(&sequence, alphabet), alphabet);
        // U and T both complement to A, so compare after folding U to the alphabet's letter.
        let fold = |s: &[u8]| -> Vec<u8> {
            s.iter()
                .map(|&b| match (alphabet, b) {
                    (Alphabet::Dna, b'U') => b'T',
                    (Alphabet::Dna, b'u') => b't',
                    (Alphabet::Rna, b'T') => b'U',
                    (Alphabet::Rna, b't') => b'u',
                    _ => b,
                })
                .collect()
        };
        prop_assert_eq!(twice, fold(&sequence));
    }

    #[test]
    fn lookup_encoder_matches_match_reference(
        sequence in prop::collection::vec(
            prop_oneof![
                4 => prop::sample::select(b"ACGTURYSWKMBDHVNXZJacgtunxbzjmkvwy".as_slice()),
                1 => any::<u8>(),
            ],
            0..120,
        ),
        alphabet in any_alphabet(),
        ambiguity in any_ambiguity(),
    ) {
        let encoder = Encoder::new(alphabet, ambiguity);
        let expected = reference_encode(&sequence, alphabet, ambiguity);
        let mut out = vec![7.0; alphabet.size() * sequence.len()];
        let got = encoder.encode_into(&sequence, &mut out);
        match expected {
            Ok(reference) => {
                prop_assert_eq!(got, Ok(()));
                prop_assert_eq!(out, reference);
                prop_assert_eq!(encoder.first_invalid(&sequence), None);
            }
            Err(err) => {
                let EncodeError::InvalidSymbol { position, symbol } = err.clone() else {
                    return Err(TestCaseError::fail("reference returned a non-symbol error"));
                };
                prop_assert_eq!(got, Err(err));
                prop_assert_eq!(encoder.first_invalid(&sequence), Some((position, symbol)));
            }
        }
    }

    #[test]
    fn shuffle_preserves_dinucleotides_and_ends(
        sequence in from_alphabet(b"ACGTNacgtn", 0..300),
        seed in any::<u64>(),
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let shuffled = dinucleotide_shuffle(&sequence, &mut rng);
        prop_assert_eq!(shuffled.len(), sequence.len());
        if sequence.len() >= 3 {
            prop_assert_eq!(dinucleotides(&shuffled), dinucleotides(&sequence));
            prop_assert_eq!(shuffled[0], sequence[0].to_ascii_uppercase());
            prop_assert_eq!(
                shuffled[shuffled.len() - 1],
                sequence[sequence.len() - 1].to_ascii_uppercase()
            );
        } else {
            prop_assert_eq!(shuffled, sequence);
        }
    }

    #[test]
    fn shuffle_with_same_seed_is_identical(
        sequence in any::<Vec<u8>>(),
        seed in any::<u64>(),
    ) {
        let first = dinucleotide_shuffle(&sequence, &mut ChaCha8Rng::seed_from_u64(seed));
        let second = dinucleotide_shuffle(&sequence, &mut ChaCha8Rng::seed_from_u64(seed));
        prop_assert_eq!(first, second);
    }

    #[test]
    fn shuffle_changes_long_sequences(
        sequence in from_alphabet(b"ACGT", 200..400),
        seed in any::<u64>(),
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        prop_assert_ne!(dinucleotide_shuffle(&sequence, &mut rng), sequence);
    }

    #[test]
    fn fit_length_keeps_centre(
        sequence in from_alphabet(b"ACGT", 0..100),
        length in 0usize..100,
        alphabet in any_alphabet(),
    ) {
        let fitted = fit_length(&sequence, length, LengthPolicy::CenterCropPad, alphabet)?;
        prop_assert_eq!(fitted.len(), length);
        let n = sequence.len();
        if n >= length {
            let start = (n - length) / 2;
            prop_assert_eq!(&*fitted, &sequence[start..start + length]);
            // Crop drops at most one more base on the right than on the left.
            prop_assert!((n - start - length) - start <= 1);
        } else {
            let left = (length - n) / 2;
            let pad = alphabet.padding_symbol();
            prop_assert_eq!(&fitted[left..left + n], &sequence[..]);
            prop_assert!(fitted[..left].iter().all(|&b| b == pad));
            prop_assert!(fitted[left + n..].iter().all(|&b| b == pad));
            prop_assert!((length - n - left) - left <= 1);
        }
        let refused = fit_length(&sequence, length, LengthPolicy::Refuse, alphabet);
        if n == length {
            prop_assert!(refused.is_ok());
        } else {
            prop_assert_eq!(refused, Err(EncodeError::LengthMismatch { expected: length, found: n }));
        }
    }
}
