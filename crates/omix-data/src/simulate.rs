//! Simulated data: the primer's motif-planting example, generated in process.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The 12-bp motif planted by the primer example (Zou et al. 2019).
pub const PRIMER_MOTIF: &[u8] = b"CGACCGAACTCC";

/// A simulated binary data set: random sequences, a motif planted in the positives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simulated {
    /// The sequences.
    pub sequences: Vec<Vec<u8>>,
    /// 1 where the motif was planted, else 0.
    pub labels: Vec<u8>,
    /// Where the motif starts in each positive (None for negatives).
    pub motif_starts: Vec<Option<usize>>,
}

/// `count` uniform random sequences of `length` bases; in every other one `motif` is planted at
/// a random position (seeded, so the same seed gives the same data).
pub fn plant_motif(count: usize, length: usize, motif: &[u8], seed: u64) -> Simulated {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut simulated = Simulated {
        sequences: Vec::with_capacity(count),
        labels: Vec::with_capacity(count),
        motif_starts: Vec::with_capacity(count),
    };
    for index in 0..count {
        let mut sequence: Vec<u8> = (0..length).map(|_| b"ACGT"[rng.random_range(0..4)]).collect();
        let positive = index % 2 == 0 && motif.len() <= length;
        let start = positive.then(|| {
            let start = rng.random_range(0..=length - motif.len());
            sequence[start..start + motif.len()].copy_from_slice(motif);
            start
        });
        simulated.sequences.push(sequence);
        simulated.labels.push(u8::from(positive));
        simulated.motif_starts.push(start);
    }
    simulated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_the_sequences_carry_the_motif() {
        let data = plant_motif(100, 50, PRIMER_MOTIF, 3);
        assert_eq!(data.labels.iter().filter(|&&l| l == 1).count(), 50);
        for ((sequence, label), start) in data.sequences.iter().zip(&data.labels).zip(&data.motif_starts) {
            assert_eq!(sequence.len(), 50);
            if *label == 1 {
                let start = start.unwrap_or(usize::MAX);
                assert_eq!(&sequence[start..start + 12], PRIMER_MOTIF);
            }
        }
        assert_eq!(plant_motif(100, 50, PRIMER_MOTIF, 3), data);
    }
}
