//! `[data.genome]`: windows from BED files on a reference, per task, with background, padding
//! at contig ends and splits by chromosome.

use std::path::Path;

use omix_data::genome::{GenomeConfig, TaskFile};
use omix_data::{DataConfig, Dataset, Split, Target, Task};
use omix_genome::OutOfBounds;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Three 3-kb contigs of seeded pseudo-random bases.
fn write_reference(dir: &Path) -> std::io::Result<()> {
    let mut state = 12345u64;
    let mut text = String::new();
    for name in ["c1", "c2", "c3"] {
        text.push_str(&format!(">{name}\n"));
        for _ in 0..50 {
            let line: String = (0..60)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    b"ACGT"[(state >> 62) as usize] as char
                })
                .collect();
            text.push_str(&line);
            text.push('\n');
        }
    }
    std::fs::write(dir.join("ref.fa"), text)
}

fn config(dir: &Path, out_of_bounds: OutOfBounds) -> DataConfig {
    DataConfig {
        length: Some(100),
        genome: Some(GenomeConfig {
            reference: dir.join("ref.fa"),
            classes: Vec::new(),
            tasks: vec![
                TaskFile { name: "a".into(), path: dir.join("a.bed") },
                TaskFile { name: "b".into(), path: dir.join("b.bed") },
            ],
            regions: None,
            signals: Vec::new(),
            signal_window: None,
            signal_transform: Default::default(),
            background: 1,
            flank: 0,
            out_of_bounds,
            validation_chromosomes: Some(vec!["c2".into()]),
            test_chromosomes: Some(vec!["c3".into()]),
            folds: Vec::new(),
            max_n_fraction: 0.1,
        }),
        ..DataConfig::default()
    }
}

#[test]
fn tasks_background_padding_and_chromosome_splits() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_reference(dir.path())?;
    // Task a and b share one interval per contig; each has its own too; one interval of a sits
    // 10 bp from the start of c1, so its 100-bp window runs off the contig.
    let a = "c1\t5\t15\nc1\t500\t520\nc2\t500\t520\nc3\t500\t520\nc1\t1500\t1520\nc2\t1500\t1520\nc3\t1500\t1520\n";
    let b = "c1\t500\t520\nc2\t500\t520\nc3\t500\t520\nc1\t2500\t2520\nc2\t2500\t2520\nc3\t2500\t2520\n";
    std::fs::write(dir.path().join("a.bed"), a)?;
    std::fs::write(dir.path().join("b.bed"), b)?;

    let dataset = Dataset::load(&config(dir.path(), OutOfBounds::Pad), 3)?;
    assert_eq!(dataset.schema.task, Task::Multilabel);
    assert_eq!(dataset.schema.class_names, ["a", "b"]);
    let genome = dataset.report.genome.as_ref().ok_or("a genome report")?;
    assert_eq!(genome.intervals, 13);
    assert_eq!(genome.padded, 1, "the window near the start of c1 is padded");
    assert_eq!(genome.cross_split_overlaps, 0);
    // 10 distinct positive windows (shared intervals count once) and a background window each.
    let background: Vec<_> = dataset.examples.iter().filter(|e| e.id.ends_with(":bg")).collect();
    assert_eq!(dataset.examples.len() - background.len(), 10);
    assert_eq!(background.len(), genome.background_found);
    assert!(genome.background_found >= 8, "{genome:?}");
    for example in &dataset.examples {
        let contig = &example.id[..2];
        let expected = match contig {
            "c1" => Split::Train,
            "c2" => Split::Validation,
            _ => Split::Test,
        };
        assert_eq!(example.split, expected, "{}", example.id);
        assert_eq!(example.sequence.len(), 100);
        let Target::Tasks(tasks) = &example.target else { return Err("multi-label targets".into()) };
        let shared = example.id.contains(":460-560");
        let expected = if example.id.ends_with(":bg") {
            vec![false, false]
        } else if shared {
            vec![true, true]
        } else if example.id.contains(":1460-1560") || example.id.starts_with("c1:-40") {
            vec![true, false]
        } else {
            vec![false, true]
        };
        assert_eq!(tasks, &expected, "{}", example.id);
    }
    // The padded window starts with N.
    let padded = dataset.examples.iter().find(|e| e.id.starts_with("c1:-40")).ok_or("the padded window")?;
    assert!(padded.sequence.starts_with(&[b'N'; 40]), "{}", String::from_utf8_lossy(&padded.sequence));

    // Dropping instead of padding removes that window and counts it.
    let dataset = Dataset::load(&config(dir.path(), OutOfBounds::Drop), 3)?;
    let genome = dataset.report.genome.as_ref().ok_or("a genome report")?;
    assert_eq!((genome.padded, genome.dropped), (0, 1));
    assert!(dataset.examples.iter().all(|e| !e.id.starts_with("c1:-40")));
    Ok(())
}

#[test]
fn contig_names_missing_from_the_reference_are_reported_with_both_sides() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_reference(dir.path())?;
    std::fs::write(dir.path().join("a.bed"), "chr1\t500\t520\n")?;
    std::fs::write(dir.path().join("b.bed"), "c1\t500\t520\n")?;
    let error = Dataset::load(&config(dir.path(), OutOfBounds::Pad), 3).err().ok_or("an error")?;
    let message = error.to_string();
    assert!(message.contains("a.bed") && message.contains("chr1") && message.contains("c1"), "{message}");
    Ok(())
}

#[test]
fn chromosome_folds_hold_out_each_folds_contigs() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_reference(dir.path())?;
    let a = "c1\t500\t520\nc2\t500\t520\nc3\t500\t520\nc1\t1500\t1520\nc2\t1500\t1520\nc3\t1500\t1520\n";
    std::fs::write(dir.path().join("a.bed"), a)?;
    std::fs::write(dir.path().join("b.bed"), a)?;
    let mut config = config(dir.path(), OutOfBounds::Pad);
    let genome = config.genome.as_mut().ok_or("a genome table")?;
    genome.validation_chromosomes = None;
    genome.test_chromosomes = None;
    let fold = |validation: &str, test: &str| omix_genome::ChromosomeSplit {
        validation: vec![validation.into()],
        test: vec![test.into()],
    };
    genome.folds = vec![fold("c2", "c3"), fold("c3", "c1"), fold("c1", "c2")];
    // Folded data must name the fold.
    let error = Dataset::load(&config, 3).err().ok_or("no fold was accepted")?;
    assert!(error.to_string().contains("--fold"), "{error}");
    for (fold, test, validation) in [(1, "c3", "c2"), (2, "c1", "c3"), (3, "c2", "c1")] {
        config.fold = Some(fold);
        let dataset = Dataset::load(&config, 3)?;
        for example in &dataset.examples {
            let expected = match &example.id[..2] {
                contig if contig == test => Split::Test,
                contig if contig == validation => Split::Validation,
                _ => Split::Train,
            };
            assert_eq!(example.split, expected, "fold {fold}: {}", example.id);
        }
    }
    // A contig held out twice in one fold, or folds beside validation_chromosomes, is refused.
    let genome = config.genome.as_mut().ok_or("a genome table")?;
    genome.folds[1] = fold("c1", "c1");
    let error = Dataset::load(&config, 3).err().ok_or("an overlapping fold was accepted")?;
    assert!(error.to_string().contains("genome.folds") && error.to_string().contains("fold 2"), "{error}");
    Ok(())
}
