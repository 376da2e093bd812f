//! Loading data sets from files: labels, lengths, splits, negatives, weights.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use omix_data::{
    ClassFile, ClassWeight, DataConfig, DataError, Dataset, DuplicatePolicy, NamedWeight, SourceConfig, Split, Target,
    Task,
};
use omix_encode::{Alphabet, LengthPolicy, canonical_upper, reverse_complement};
use proptest::prelude::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write fixture");
    path
}

fn random_sequences(count: usize, length: usize, seed: u64) -> Vec<String> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..count)
        .map(|_| {
            (0..length)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    b"ACGT"[(state >> 33) as usize % 4] as char
                })
                .collect()
        })
        .collect()
}

fn lines_config(dir: &Path, sequences: &[String], labels: &[&str]) -> DataConfig {
    DataConfig {
        input: Some(write(dir, "seqs.txt", &sequences.join("\n"))),
        labels: Some(write(dir, "labels.txt", &labels.join("\n"))),
        ..DataConfig::default()
    }
}

#[test]
fn splits_are_seeded_stratified_and_complete() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sequences = random_sequences(200, 30, 1);
    let labels: Vec<&str> = (0..200).map(|i| if i < 40 { "1" } else { "0" }).collect();
    let config = lines_config(dir.path(), &sequences, &labels);
    let first = Dataset::load(&config, 7)?;
    let again = Dataset::load(&config, 7)?;
    let other = Dataset::load(&config, 8)?;
    let splits = |d: &Dataset| d.examples.iter().map(|e| e.split).collect::<Vec<_>>();
    assert_eq!(splits(&first), splits(&again));
    assert_ne!(splits(&first), splits(&other));
    assert_eq!(first.examples.len(), 200);
    let test = first.summary(Split::Test);
    assert_eq!(test.per_class, vec![16, 4]);
    assert_eq!(first.summary(Split::Validation).per_class, vec![16, 4]);
    assert_eq!(first.schema.task, Task::Binary);
    Ok(())
}

#[test]
fn label_count_mismatch_names_both_files() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sequences = random_sequences(10, 20, 2);
    let config = lines_config(dir.path(), &sequences, &["0", "1", "0"]);
    let error = Dataset::load(&config, 1).err().ok_or("expected an error")?;
    assert!(matches!(error, DataError::LabelCountMismatch { sequences: 10, labels: 3, .. }));
    let message = error.to_string();
    assert!(message.contains("seqs.txt") && message.contains("labels.txt"), "{message}");
    Ok(())
}

#[test]
fn invalid_symbol_is_located() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut sequences = random_sequences(10, 20, 3);
    sequences[4].replace_range(6..7, "X");
    let labels: Vec<&str> = (0..10).map(|i| if i % 2 == 0 { "1" } else { "0" }).collect();
    let config = lines_config(dir.path(), &sequences, &labels);
    let error = Dataset::load(&config, 1).err().ok_or("expected an error")?;
    let message = error.to_string();
    assert!(message.contains("seqs.txt:5:7"), "{message}");
    assert!(message.contains("'X'"), "{message}");
    Ok(())
}

#[test]
fn ragged_lengths_are_refused_or_fitted() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut sequences = random_sequences(20, 20, 4);
    sequences[3].push_str("ACG");
    let labels: Vec<&str> = (0..20).map(|i| if i % 2 == 0 { "1" } else { "0" }).collect();
    let mut config = lines_config(dir.path(), &sequences, &labels);
    let error = Dataset::load(&config, 1).err().ok_or("expected an error")?;
    assert!(matches!(error, DataError::LengthMismatch { line: 4, found: 23, expected: 20, .. }));
    config.length = Some(20);
    config.length_policy = LengthPolicy::CenterCropPad;
    let data = Dataset::load(&config, 1)?;
    assert_eq!(data.report.length_adjusted, 1);
    assert!(data.examples.iter().all(|e| e.sequence.len() == 20));
    Ok(())
}

#[test]
fn missing_and_unknown_labels_are_errors() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sequences = random_sequences(4, 10, 5);
    let config = lines_config(dir.path(), &sequences, &["0", "1", "NaN", "1"]);
    let error = Dataset::load(&config, 1).err().ok_or("expected an error")?;
    assert!(matches!(error, DataError::MissingLabel { line: 3, .. }), "{error}");
    let mut config = lines_config(dir.path(), &sequences, &["0", "1", "2", "1"]);
    config.class_names = Some(vec!["0".into(), "1".into()]);
    let error = Dataset::load(&config, 1).err().ok_or("expected an error")?;
    assert!(matches!(error, DataError::UnknownLabel { line: 3, .. }), "{error}");
    Ok(())
}

#[test]
fn shuffled_negatives_keep_dinucleotides_and_splits() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sequences = random_sequences(60, 40, 6);
    let labels = vec!["1"; 60];
    let mut config = lines_config(dir.path(), &sequences, &labels);
    config.shuffled_negatives = 1;
    let data = Dataset::load(&config, 3)?;
    assert_eq!(data.schema.class_names, vec!["0", "1"]);
    assert_eq!(data.report.shuffled_negatives, 60);
    for example in data.examples.iter().filter(|e| e.shuffled_from.is_some()) {
        let source = &data.examples[example.shuffled_from.ok_or("source")?];
        assert_eq!(example.split, source.split, "a shuffle must stay in its positive's split");
        assert_eq!(example.target, Target::Class(0));
        let pairs = |s: &[u8]| {
            let mut counts = HashMap::new();
            for window in s.windows(2) {
                *counts.entry(window.to_vec()).or_insert(0) += 1;
            }
            counts
        };
        assert_eq!(pairs(&example.sequence), pairs(&source.sequence));
    }
    Ok(())
}

#[test]
fn separate_test_file_and_split_column() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sequences = random_sequences(40, 12, 7);
    let mut table = String::from("id\tseq\tlabel\tsplit\n");
    for (i, s) in sequences.iter().enumerate() {
        let split = if i < 30 { "train" } else { "test" };
        table.push_str(&format!("r{i}\t{s}\t{}\t{split}\n", ["a", "b", "c"][i % 3]));
    }
    let config = DataConfig {
        input: Some(write(dir.path(), "data.tsv", &table)),
        split_column: Some("split".into()),
        ..DataConfig::default()
    };
    let data = Dataset::load(&config, 1)?;
    assert_eq!(data.schema.task, Task::Multiclass);
    assert_eq!(data.summary(Split::Test).examples, 10);
    assert_eq!(data.summary(Split::Validation).examples, 3);

    let fasta: String = sequences.iter().enumerate().map(|(i, s)| format!(">p{i}\n{s}\n")).collect();
    let negatives: String =
        random_sequences(40, 12, 8).iter().enumerate().map(|(i, s)| format!(">n{i}\n{s}\n")).collect();
    let config = DataConfig {
        classes: vec![
            ClassFile { label: "bound".into(), path: write(dir.path(), "pos.fa", &fasta) },
            ClassFile { label: "unbound".into(), path: write(dir.path(), "neg.fa", &negatives) },
        ],
        test: Some(SourceConfig {
            classes: vec![
                ClassFile { label: "bound".into(), path: dir.path().join("pos.fa") },
                ClassFile { label: "unbound".into(), path: dir.path().join("neg.fa") },
            ],
            ..SourceConfig::default()
        }),
        ..DataConfig::default()
    };
    let data = Dataset::load(&config, 1)?;
    assert_eq!(data.schema.class_names, vec!["unbound", "bound"], "a recognised negative comes first");
    assert_eq!(data.summary(Split::Test).examples, 80);
    // The test file repeats the training records: every test example is a cross-split duplicate.
    assert_eq!(data.report.duplicates.exact_across_splits, 80);
    Ok(())
}

#[test]
fn balanced_weights_and_oversampling() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sequences = random_sequences(100, 15, 9);
    let labels: Vec<&str> = (0..100).map(|i| if i < 20 { "1" } else { "0" }).collect();
    let mut config = lines_config(dir.path(), &sequences, &labels);
    config.validation_fraction = 0.0;
    config.test_fraction = 0.2;
    let data = Dataset::load(&config, 1);
    // An empty validation split is an error, with a clear message.
    assert!(matches!(data, Err(DataError::EmptySplit { split: "validation", .. })));
    config.validation_fraction = 0.1;
    let data = Dataset::load(&config, 1)?;
    let train = data.summary(Split::Train);
    let weights = data.class_weights(&ClassWeight::Named(NamedWeight::Balanced))?;
    let expected: Vec<f32> = train.per_class.iter().map(|&n| train.examples as f32 / (2.0 * n as f32)).collect();
    assert_eq!(weights, expected);
    let indices = data.training_indices(true, 1);
    let positives = indices.iter().filter(|&&i| data.examples[i].target == Target::Class(1)).count();
    assert_eq!(positives, indices.len() - positives, "oversampling balances the classes");
    assert!(data.class_weights(&ClassWeight::Explicit(vec![1.0])).is_err());
    Ok(())
}

#[test]
fn multilabel_columns() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sequences = random_sequences(30, 10, 10);
    let mut table = String::from("seq,tf1,tf2\n");
    for (i, s) in sequences.iter().enumerate() {
        table.push_str(&format!("{s},{},{}\n", i % 2, usize::from(i % 3 == 0)));
    }
    let config = DataConfig {
        input: Some(write(dir.path(), "tasks.csv", &table)),
        label_columns: vec!["tf1".into(), "tf2".into()],
        ..DataConfig::default()
    };
    let data = Dataset::load(&config, 1)?;
    assert_eq!(data.schema.task, Task::Multilabel);
    assert_eq!(data.schema.outputs(), 2);
    let matrix = data.target_matrix(&[0, 1]);
    assert_eq!(matrix, vec![0.0, 1.0, 1.0, 0.0]);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// With duplicates dropped, no sequence (nor its reverse complement) is in two splits.
    #[test]
    fn dropped_duplicates_leave_no_sequence_in_two_splits(seed in 0u64..1000, repeats in 1usize..6) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut sequences = random_sequences(60, 8, seed);
        for i in 0..repeats * 5 {
            let copy = sequences[i].clone();
            let rc = String::from_utf8(reverse_complement(copy.as_bytes(), Alphabet::Dna)).expect("ascii");
            sequences.push(if i % 2 == 0 { copy } else { rc });
        }
        let labels: Vec<&str> = (0..sequences.len()).map(|i| if i % 2 == 0 { "1" } else { "0" }).collect();
        let mut config = lines_config(dir.path(), &sequences, &labels);
        config.duplicates = DuplicatePolicy::Drop;
        config.validation_fraction = 0.2;
        config.test_fraction = 0.2;
        let data = Dataset::load(&config, seed).expect("load");
        let mut owner: HashMap<Vec<u8>, Split> = HashMap::new();
        let mut seen: HashSet<(Vec<u8>, Split)> = HashSet::new();
        for example in &data.examples {
            let key = canonical_upper(&example.sequence);
            let rc = canonical_upper(&reverse_complement(&key, Alphabet::Dna));
            let canonical = key.clone().min(rc);
            seen.insert((canonical.clone(), example.split));
            if let Some(previous) = owner.insert(canonical, example.split) {
                prop_assert_eq!(previous, example.split);
            }
        }
        prop_assert!(!seen.is_empty());
    }
}
