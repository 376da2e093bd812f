//! Train / validation / test assignment and the cross-split duplicate check.

use std::collections::{HashMap, HashSet};

use omix_encode::{Alphabet, canonical_upper, reverse_complement};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// The part of the data an example belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Fits the weights.
    Train,
    /// Chooses the epoch, learning rate and early stop.
    Validation,
    /// Touched once, for the reported metrics.
    Test,
}

impl Split {
    /// All splits, in order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Test];

    /// The name used in files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }

    /// Parse a split column value (train, training; validation, valid, val, dev; test, testing).
    pub fn parse(value: &str) -> Option<Split> {
        match value.trim().to_ascii_lowercase().as_str() {
            "train" | "training" => Some(Split::Train),
            "validation" | "valid" | "val" | "dev" => Some(Split::Validation),
            "test" | "testing" => Some(Split::Test),
            _ => None,
        }
    }
}

/// Assign every `None` entry a split, seeded, keeping class proportions when `strata` is given.
///
/// `fractions` are (validation, test); an entry already assigned is left alone.
pub(crate) fn assign(
    assigned: &mut [Option<Split>],
    strata: &[usize],
    fractions: (f64, f64),
    rng: &mut impl rand::Rng,
) {
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for (index, split) in assigned.iter().enumerate() {
        if split.is_none() {
            groups.entry(strata.get(index).copied().unwrap_or(0)).or_default().push(index);
        }
    }
    let mut keys: Vec<usize> = groups.keys().copied().collect();
    keys.sort_unstable();
    for key in keys {
        let Some(indices) = groups.get_mut(&key) else { continue };
        indices.shuffle(rng);
        let total = indices.len();
        let test = (total as f64 * fractions.1).round() as usize;
        let validation = ((total as f64 * fractions.0).round() as usize).min(total - test);
        for (rank, &index) in indices.iter().enumerate() {
            assigned[index] = Some(if rank < test {
                Split::Test
            } else if rank < test + validation {
                Split::Validation
            } else {
                Split::Train
            });
        }
    }
}

/// Each entry's part (0 to `folds - 1`) in k-fold cross-validation: every stratum shuffled
/// (seeded) and dealt in turn, the dealing carried on from one stratum to the next, so the parts
/// differ in size by at most one and each holds its share of every class. The same `rng` state
/// gives the same parts, whichever fold is trained.
pub(crate) fn fold_parts(strata: &[usize], folds: usize, rng: &mut impl rand::Rng) -> Vec<usize> {
    let folds = folds.max(1);
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for (index, &stratum) in strata.iter().enumerate() {
        groups.entry(stratum).or_default().push(index);
    }
    let mut keys: Vec<usize> = groups.keys().copied().collect();
    keys.sort_unstable();
    let mut parts = vec![0; strata.len()];
    let mut dealt = 0;
    for key in keys {
        let Some(indices) = groups.get_mut(&key) else { continue };
        indices.shuffle(rng);
        for &index in indices.iter() {
            parts[index] = dealt % folds;
            dealt += 1;
        }
    }
    parts
}

/// Assign the splits of fold `fold` (1-based) of `folds`: its part is the test set, and
/// `validation_fraction` of every stratum of the rest is validation (as [`assign`] draws it).
pub(crate) fn assign_fold(
    assigned: &mut [Option<Split>],
    strata: &[usize],
    (folds, fold): (usize, usize),
    validation_fraction: f64,
    rng: &mut impl rand::Rng,
) {
    let parts = fold_parts(strata, folds, rng);
    for (split, part) in assigned.iter_mut().zip(parts) {
        *split = (part + 1 == fold).then_some(Split::Test);
    }
    assign(assigned, strata, (validation_fraction, 0.0), rng);
}

/// One example found in an earlier split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateExample {
    /// The record id in the later split.
    pub id: String,
    /// Its split.
    pub split: Split,
    /// The split that already holds the sequence.
    pub found_in: Split,
    /// Whether it matched as the reverse complement.
    pub reverse_complement: bool,
}

/// Sequences shared between splits: the classic leak.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateReport {
    /// Validation/test examples whose exact sequence is in an earlier split.
    pub exact_across_splits: usize,
    /// Validation/test examples whose reverse complement is in an earlier split.
    pub reverse_complement_across_splits: usize,
    /// Examples repeating a sequence of the same split (not a leak; reported for information).
    pub within_splits: usize,
    /// Whether cross-split duplicates were dropped from validation/test.
    pub dropped: bool,
    /// Up to 20 examples of cross-split duplicates.
    pub examples: Vec<DuplicateExample>,
}

/// Find validation/test sequences already present (or reverse-complemented) in an earlier split.
///
/// Returns the report and, per example, whether it is a cross-split duplicate.
pub(crate) fn find_duplicates(
    sequences: &[&[u8]],
    ids: &[&str],
    splits: &[Split],
    alphabet: Alphabet,
) -> (DuplicateReport, Vec<bool>) {
    let keys: Vec<Vec<u8>> = sequences.iter().map(|s| canonical_upper(s)).collect();
    let mut seen: HashMap<&[u8], Split> = HashMap::with_capacity(keys.len());
    let mut report = DuplicateReport::default();
    let mut flagged = vec![false; keys.len()];
    let mut within: HashSet<(Split, &[u8])> = HashSet::new();
    for split in Split::ALL {
        for index in (0..keys.len()).filter(|&i| splits[i] == split) {
            if !within.insert((split, keys[index].as_slice())) {
                report.within_splits += 1;
            }
            if split == Split::Train {
                continue;
            }
            let exact = seen.get(keys[index].as_slice()).copied().filter(|&s| s < split);
            let reverse = if exact.is_none() && alphabet != Alphabet::Protein {
                let rc = canonical_upper(&reverse_complement(&keys[index], Alphabet::Dna));
                seen.get(rc.as_slice()).copied().filter(|&s| s < split)
            } else {
                None
            };
            if let Some(found_in) = exact.or(reverse) {
                flagged[index] = true;
                if exact.is_some() {
                    report.exact_across_splits += 1;
                } else {
                    report.reverse_complement_across_splits += 1;
                }
                if report.examples.len() < 20 {
                    report.examples.push(DuplicateExample {
                        id: ids[index].to_string(),
                        split,
                        found_in,
                        reverse_complement: exact.is_none(),
                    });
                }
            }
        }
        for index in (0..keys.len()).filter(|&i| splits[i] == split) {
            seen.entry(keys[index].as_slice()).or_insert(split);
        }
    }
    (report, flagged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn stratified_assignment_keeps_proportions() {
        let mut assigned = vec![None; 1000];
        let strata: Vec<usize> = (0..1000).map(|i| usize::from(i % 10 == 0)).collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        assign(&mut assigned, &strata, (0.1, 0.2), &mut rng);
        let count = |split, class| (0..1000).filter(|&i| assigned[i] == Some(split) && strata[i] == class).count();
        assert_eq!(count(Split::Test, 1), 20);
        assert_eq!(count(Split::Validation, 1), 10);
        assert_eq!(count(Split::Test, 0), 180);
        assert_eq!(count(Split::Train, 0), 630);
    }

    #[test]
    fn folds_partition_the_examples_and_keep_class_shares() {
        let strata: Vec<usize> = (0..103).map(|i| usize::from(i % 4 == 0)).collect();
        let folds = 5;
        let mut tested = vec![0; strata.len()];
        for fold in 1..=folds {
            let mut assigned = vec![None; strata.len()];
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            assign_fold(&mut assigned, &strata, (folds, fold), 0.1, &mut rng);
            let test: Vec<usize> = (0..strata.len()).filter(|&i| assigned[i] == Some(Split::Test)).collect();
            test.iter().for_each(|&i| tested[i] += 1);
            // 103 examples in 5 parts: 20 or 21 each; 26 positives: 5 or 6 each.
            assert!((20..=21).contains(&test.len()), "fold {fold}: {} test examples", test.len());
            let positives = test.iter().filter(|&&i| strata[i] == 1).count();
            assert!((5..=6).contains(&positives), "fold {fold}: {positives} positives");
            let validation = assigned.iter().filter(|s| **s == Some(Split::Validation)).count();
            assert!((7..=10).contains(&validation), "fold {fold}: {validation} validation examples");
            assert!(assigned.iter().all(Option::is_some));
        }
        // Every example is tested by exactly one fold.
        assert!(tested.iter().all(|&count| count == 1), "{tested:?}");
    }

    #[test]
    fn fold_parts_depend_only_on_the_seed() {
        let strata = vec![0; 50];
        let parts = |seed| fold_parts(&strata, 3, &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        assert_eq!(parts(1), parts(1));
        assert_ne!(parts(1), parts(2));
        let counts = (0..3).map(|part| parts(1).iter().filter(|&&p| p == part).count()).collect::<Vec<_>>();
        assert_eq!(counts, vec![17, 17, 16]);
    }

    #[test]
    fn preassigned_entries_are_kept() {
        let mut assigned = vec![Some(Split::Test), None, None, None];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        assign(&mut assigned, &[0, 0, 0, 0], (0.0, 0.0), &mut rng);
        assert_eq!(assigned, vec![Some(Split::Test), Some(Split::Train), Some(Split::Train), Some(Split::Train)]);
    }

    #[test]
    fn duplicates_across_splits_are_found_with_reverse_complements() {
        let sequences: Vec<&[u8]> = vec![b"AACG", b"aacg", b"CGTT", b"GGGG", b"GGGG"];
        let ids = ["a", "b", "c", "d", "e"];
        let splits = [Split::Train, Split::Test, Split::Validation, Split::Train, Split::Train];
        let (report, flagged) = find_duplicates(&sequences, &ids, &splits, Alphabet::Dna);
        assert_eq!(report.exact_across_splits, 1);
        assert_eq!(report.reverse_complement_across_splits, 1);
        assert_eq!(report.within_splits, 1);
        assert_eq!(flagged, vec![false, true, true, false, false]);
    }

    #[test]
    fn split_names_parse() {
        assert_eq!(Split::parse("Valid"), Some(Split::Validation));
        assert_eq!(Split::parse("train "), Some(Split::Train));
        assert_eq!(Split::parse("holdout"), None);
    }
}
