//! Position frequency matrices: counts to probabilities, information content, trimming and
//! reverse complements.
//!
//! Matrices are `[width][alphabet]`: one row per motif position, one value per letter in the
//! alphabet's column order (`ACGT` for DNA). Information content is the relative entropy of a
//! column against the background, in bits: `Σ_j p_j log2(p_j / bg_j)`, 2 bits at most for DNA
//! on a uniform background.

use crate::Motif;

/// Probabilities from counts: `(count + pseudocount / alphabet) / (row total + pseudocount)`.
///
/// `counts` is `[width][alphabet]` (site counts per position and letter); the result has the
/// same shape with rows summing to 1. The pseudocount is the total spread evenly over the
/// letters of each row. Negative or non-finite counts count as 0, a negative or non-finite
/// pseudocount as 0, and a row with nothing in it becomes uniform.
pub fn frequency_matrix(counts: &[Vec<f64>], pseudocount: f64) -> Vec<Vec<f64>> {
    let pseudocount = if pseudocount.is_finite() && pseudocount > 0.0 { pseudocount } else { 0.0 };
    counts
        .iter()
        .map(|row| {
            let letters = row.len() as f64;
            let clean: Vec<f64> = row.iter().map(|&c| if c.is_finite() && c > 0.0 { c } else { 0.0 }).collect();
            let total = clean.iter().sum::<f64>() + pseudocount;
            if total <= 0.0 {
                return vec![1.0 / letters; row.len()];
            }
            clean.iter().map(|c| (c + pseudocount / letters) / total).collect()
        })
        .collect()
}

/// The background to use for rows of `letters` values: `background` when it has that many
/// positive finite values, uniform otherwise.
pub(crate) fn usable_background(background: &[f64], letters: usize) -> Vec<f64> {
    if background.len() == letters && background.iter().all(|b| b.is_finite() && *b > 0.0) {
        let sum: f64 = background.iter().sum();
        background.iter().map(|b| b / sum).collect()
    } else {
        vec![1.0 / letters.max(1) as f64; letters]
    }
}

/// The information content of one row, in bits (rows are rescaled to sum to 1 first).
pub(crate) fn column_information(row: &[f64], background: &[f64]) -> f64 {
    let sum: f64 = row.iter().filter(|p| p.is_finite() && **p > 0.0).sum();
    if sum <= 0.0 {
        return 0.0;
    }
    let bits: f64 = row
        .iter()
        .zip(background)
        .filter(|(p, _)| p.is_finite() && **p > 0.0)
        .map(|(p, bg)| {
            let p = p / sum;
            p * (p / bg).log2()
        })
        .sum();
    bits.max(0.0)
}

/// Information content per position, in bits: `Σ_j p_j log2(p_j / bg_j)`.
///
/// `probabilities` is `[width][alphabet]`; the result has `width` values, each between 0
/// (the column equals the background) and `log2(1 / min bg)` (2 bits for one-hot DNA on a
/// uniform background). Rows are rescaled to sum to 1; `background` falls back to uniform
/// when it does not have one positive value per letter.
pub fn information_content(probabilities: &[Vec<f64>], background: &[f64]) -> Vec<f64> {
    probabilities
        .iter()
        .map(|row| {
            let bg = usable_background(background, row.len());
            column_information(row, &bg)
        })
        .collect()
}

/// The motif's total information content, in bits (the sum of [`information_content`]).
pub fn total_information(probabilities: &[Vec<f64>], background: &[f64]) -> f64 {
    information_content(probabilities, background).iter().sum()
}

/// The motif without its low-information flanks.
///
/// Positions at either end with less than `min_bits` of information content are dropped;
/// inner positions are kept whatever their content. The result is never empty: when no
/// position reaches `min_bits`, the single most informative one is kept. A motif without
/// positions is returned as it is. Everything but the matrix is copied.
pub fn trim_motif(motif: &Motif, background: &[f64], min_bits: f64) -> Motif {
    let bits = information_content(&motif.probabilities, background);
    let mut trimmed = motif.clone();
    let first = bits.iter().position(|&b| b >= min_bits);
    let last = bits.iter().rposition(|&b| b >= min_bits);
    let (start, end) = match (first, last) {
        (Some(first), Some(last)) => (first, last + 1),
        _ => {
            let Some(best) =
                bits.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0))).map(|(index, _)| index)
            else {
                return trimmed;
            };
            (best, best + 1)
        }
    };
    trimmed.probabilities = motif.probabilities[start..end].to_vec();
    trimmed
}

/// The motif of the opposite strand: positions reversed and A<->T(U), C<->G swapped.
///
/// For four-letter nucleic-acid alphabets in `ACGT` (or `ACGU`) order, where the complement of
/// a row is the row reversed. Motifs with any other alphabet length (protein) have no
/// complement and are returned unchanged.
pub fn reverse_complement_motif(motif: &Motif) -> Motif {
    let mut reversed = motif.clone();
    if motif.alphabet_length() == 4 && motif.probabilities.iter().all(|row| row.len() == 4) {
        reversed.probabilities =
            motif.probabilities.iter().rev().map(|row| row.iter().rev().copied().collect()).collect();
    }
    reversed
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn information_of_extremes() {
        let uniform = [0.25; 4];
        let bits = information_content(&[vec![1.0, 0.0, 0.0, 0.0], vec![0.25; 4], vec![0.5, 0.5, 0.0, 0.0]], &uniform);
        assert!((bits[0] - 2.0).abs() < 1e-12);
        assert!(bits[1].abs() < 1e-12);
        assert!((bits[2] - 1.0).abs() < 1e-12);
        assert!((total_information(&vec![vec![0.0, 0.0, 1.0, 0.0]; 3], &uniform) - 6.0).abs() < 1e-12);
        // A skewed background: A is rare, so an all-A column carries more than 2 bits.
        let skewed = information_content(&[vec![1.0, 0.0, 0.0, 0.0]], &[0.1, 0.4, 0.4, 0.1]);
        assert!((skewed[0] - 10f64.log2()).abs() < 1e-12);
        // A bad background falls back to uniform.
        assert!((information_content(&[vec![1.0, 0.0, 0.0, 0.0]], &[0.5])[0] - 2.0).abs() < 1e-12);
        assert!(information_content(&[vec![0.0; 4]], &uniform)[0].abs() < 1e-12);
    }

    #[test]
    fn frequencies_from_counts() {
        let rows = frequency_matrix(&[vec![8.0, 0.0, 2.0, 0.0], vec![0.0; 4], vec![-1.0, f64::NAN, 1.0, 1.0]], 0.0);
        assert_eq!(rows[0], [0.8, 0.0, 0.2, 0.0]);
        assert_eq!(rows[1], [0.25; 4]);
        assert_eq!(rows[2], [0.0, 0.0, 0.5, 0.5]);
        let smoothed = frequency_matrix(&[vec![8.0, 0.0, 2.0, 0.0]], 4.0);
        let expected = [9.0 / 14.0, 1.0 / 14.0, 3.0 / 14.0, 1.0 / 14.0];
        for (a, b) in smoothed[0].iter().zip(expected) {
            assert!((a - b).abs() < 1e-12);
        }
        assert_eq!(frequency_matrix(&[vec![1.0, 1.0]], f64::NAN)[0], [0.5, 0.5]);
    }

    #[test]
    fn trimming() {
        let motif = Motif::new(
            "m",
            vec![
                vec![0.25; 4],
                vec![0.3, 0.2, 0.3, 0.2],
                vec![1.0, 0.0, 0.0, 0.0],
                vec![0.25; 4],
                vec![0.0, 0.0, 0.0, 1.0],
            ],
        );
        let trimmed = trim_motif(&motif, &[0.25; 4], 0.5);
        assert_eq!(trimmed.probabilities, motif.probabilities[2..5]);
        assert_eq!(trimmed.id, "m");
        // Nothing reaches 3 bits: keep the best column only (the first of the tied ones).
        let best = trim_motif(&motif, &[0.25; 4], 3.0);
        assert_eq!(best.probabilities, [vec![1.0, 0.0, 0.0, 0.0]]);
        let empty = Motif::new("e", Vec::new());
        assert_eq!(trim_motif(&empty, &[0.25; 4], 1.0), empty);
    }

    #[test]
    fn reverse_complement_of_a_motif() {
        let motif = Motif::new("m", vec![vec![0.7, 0.1, 0.1, 0.1], vec![0.0, 0.6, 0.4, 0.0]]);
        let reversed = reverse_complement_motif(&motif);
        assert_eq!(reversed.probabilities, [vec![0.0, 0.4, 0.6, 0.0], vec![0.1, 0.1, 0.1, 0.7]]);
        let protein = Motif::new("p", vec![vec![0.05; 20]]);
        assert_eq!(reverse_complement_motif(&protein), protein);
    }

    proptest! {
        #[test]
        fn reverse_complement_twice_is_identity(
            rows in proptest::collection::vec(proptest::collection::vec(0.0f64..1.0, 4), 1..20)
        ) {
            let motif = Motif::new("m", frequency_matrix(&rows, 0.1));
            prop_assert_eq!(reverse_complement_motif(&reverse_complement_motif(&motif)), motif.clone());
            let bits = information_content(&motif.probabilities, &[0.25; 4]);
            let mut reversed_bits = information_content(&reverse_complement_motif(&motif).probabilities, &[0.25; 4]);
            reversed_bits.reverse();
            for (a, b) in bits.iter().zip(&reversed_bits) {
                prop_assert!((a - b).abs() < 1e-12);
                prop_assert!(*a >= 0.0 && *a <= 2.0 + 1e-12);
            }
        }
    }
}
