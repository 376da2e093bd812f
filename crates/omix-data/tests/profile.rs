//! `[tracks]` data on simulated profiles: windows, reverse complements, splits and bad settings.

use omix_data::profile::{ProfileData, ProfileDataConfig, TaskTracks};
use omix_genome::SplitName;
use omix_tracks::{ProfileSimulation, simulate_profiles};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn config(dir: &std::path::Path) -> ProfileDataConfig {
    ProfileDataConfig {
        reference: dir.join("genome.fa"),
        peaks: dir.join("peaks.narrowPeak"),
        input_length: 400,
        output_length: 200,
        jitter: 20,
        reverse_complement: true,
        background: 0,
        outlier_quantile: 0.9999,
        validation_chromosomes: Some(vec!["chr2".into()]),
        test_chromosomes: Some(vec![]),
        folds: Vec::new(),
        fold: None,
        max_n_fraction: 0.1,
        tasks: vec![TaskTracks {
            name: "sim".into(),
            plus: Some(dir.join("counts.plus.bw")),
            minus: Some(dir.join("counts.minus.bw")),
            unstranded: None,
            control: Vec::new(),
        }],
    }
}

#[test]
fn batches_hold_the_tracks_and_reverse_complements_swap_strands() -> Result {
    let dir = tempfile::tempdir()?;
    simulate_profiles(&ProfileSimulation::small(), dir.path())?;
    let data = ProfileData::load(&config(dir.path()), 1, &mut |_| {})?;
    assert_eq!(data.report.peaks_read, 300);
    assert!(!data.indices(SplitName::Train).is_empty() && !data.indices(SplitName::Validation).is_empty());
    assert!(data.regions.iter().all(|r| (r.chrom == "chr2") == (r.split == SplitName::Validation)));
    let indices: Vec<usize> = (0..8).collect();
    let forward = data.batch(&indices, &[3; 8], &[false; 8])?;
    let reverse = data.batch(&indices, &[3; 8], &[true; 8])?;
    let (input, output) = (400, 200);
    for k in 0..8 {
        let f = &forward.one_hot[k * 4 * input..(k + 1) * 4 * input];
        let r = &reverse.one_hot[k * 4 * input..(k + 1) * 4 * input];
        assert!(f.iter().rev().zip(r).all(|(a, b)| a == b), "one-hot of example {k} is not reverse-complemented");
        // Each column is one base: exactly one channel set.
        for i in 0..input {
            assert_eq!((0..4).map(|c| f[c * input + i]).sum::<f32>(), 1.0);
        }
        for strand in 0..2 {
            let f = &forward.counts[(k * 2 + strand) * output..(k * 2 + strand + 1) * output];
            let r = &reverse.counts[(k * 2 + (1 - strand)) * output..(k * 2 + 2 - strand) * output];
            assert!(f.iter().rev().zip(r).all(|(a, b)| a == b), "strand {strand} of example {k}");
        }
    }
    // Peaks carry reads: the summed profile of a peak batch is far from empty.
    assert!(forward.counts.iter().sum::<f32>() > 100.0);
    // A shift moves the window: the counts of shift 3 are those of shift 0 moved by 3 bases.
    let unshifted = data.batch(&indices[..1], &[0], &[false])?;
    assert_eq!(&unshifted.counts[3..output], &forward.counts[..output - 3]);
    // The total a region's count loss and the outlier rule use is its window's reads, remembered.
    let total: f64 = unshifted.counts.iter().map(|&v| f64::from(v)).sum();
    assert_eq!(data.total_count(0)?, total);
    assert_eq!(data.total_count(0)?, total);
    Ok(())
}

#[test]
fn bad_profile_settings_name_the_field() -> Result {
    let dir = tempfile::tempdir()?;
    simulate_profiles(&ProfileSimulation::small(), dir.path())?;
    let mut wrong = config(dir.path());
    wrong.tasks[0].unstranded = Some(dir.path().join("counts.plus.bw"));
    let error = ProfileData::load(&wrong, 1, &mut |_| {}).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("[tracks] task") && error.contains("plus") && error.contains("unstranded"), "{error}");
    let mut huge = config(dir.path());
    huge.input_length = 500_000;
    let error = ProfileData::load(&huge, 1, &mut |_| {}).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("no peak leaves room"), "{error}");
    let mut unknown = config(dir.path());
    unknown.validation_chromosomes = Some(vec!["chrX".into()]);
    let error = ProfileData::load(&unknown, 1, &mut |_| {}).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("chrX"), "{error}");
    // A track with other contig names is refused, naming the file.
    let sizes = dir.path().join("other.bedgraph");
    std::fs::write(&sizes, "1\t10\t20\t1\n")?;
    let mut other = config(dir.path());
    other.tasks[0].plus = Some(sizes);
    let error = ProfileData::load(&other, 1, &mut |_| {}).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("other.bedgraph") && error.contains("contig 1 is not in"), "{error}");
    Ok(())
}

#[test]
fn chromosome_folds_hold_out_each_folds_contigs_and_their_rules_name_the_field() -> Result {
    let dir = tempfile::tempdir()?;
    simulate_profiles(&ProfileSimulation { contigs: 3, ..ProfileSimulation::small() }, dir.path())?;
    let split = |validation: &str, test: &str| omix_genome::ChromosomeSplit {
        validation: vec![validation.into()],
        test: vec![test.into()],
    };
    let folded = ProfileDataConfig {
        validation_chromosomes: None,
        test_chromosomes: None,
        folds: vec![split("chr1", "chr2"), split("chr2", "chr1")],
        fold: Some(2),
        ..config(dir.path())
    };
    let data = ProfileData::load(&folded, 1, &mut |_| {})?;
    assert_eq!(data.report.validation_chromosomes, vec!["chr2"]);
    assert_eq!(data.report.test_chromosomes, vec!["chr1"]);
    let split_of = |chrom: &str| match chrom {
        "chr1" => SplitName::Test,
        "chr2" => SplitName::Validation,
        _ => SplitName::Train,
    };
    assert!(data.regions.iter().all(|r| r.split == split_of(&r.chrom)));
    assert!(data.regions.iter().any(|r| r.split == SplitName::Train));
    // Each rule, with its message (the same rules as [data.genome] folds).
    let refused = |config: ProfileDataConfig, words: &[&str]| {
        let error = config.check().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(words.iter().all(|word| error.contains(word)), "{words:?} not in {error:?}");
    };
    refused(ProfileDataConfig { fold: None, ..folded.clone() }, &["[tracks] fold", "2 chromosome folds", "--fold I"]);
    refused(ProfileDataConfig { fold: Some(3), ..folded.clone() }, &["[tracks] fold", "fold 3 does not exist"]);
    refused(ProfileDataConfig { folds: Vec::new(), ..folded.clone() }, &["[tracks] fold", "not folded"]);
    refused(
        ProfileDataConfig { folds: vec![split("chr1", "chr2")], ..folded.clone() },
        &["[tracks] folds", "at least two"],
    );
    refused(
        ProfileDataConfig { folds: vec![split("chr1", "chr1"), split("chr2", "chr1")], ..folded.clone() },
        &["[tracks] folds", "fold 1", "chr1"],
    );
    refused(
        ProfileDataConfig { validation_chromosomes: Some(vec!["chr1".into()]), ..folded.clone() },
        &["[tracks] folds", "drop validation_chromosomes"],
    );
    Ok(())
}

#[test]
fn control_tracks_span_the_input_window_and_flip_with_it() -> Result {
    let dir = tempfile::tempdir()?;
    let simulation = ProfileSimulation { control_depth: 0.05, ..ProfileSimulation::small() };
    let summary = simulate_profiles(&simulation, dir.path())?;
    assert_eq!(summary.files.control.len(), 2);
    let mut with_control = config(dir.path());
    with_control.tasks[0].control = summary.files.control.clone();
    let data = ProfileData::load(&with_control, 1, &mut |_| {})?;
    let indices: Vec<usize> = (0..6).collect();
    let forward = data.batch(&indices, &[5; 6], &[false; 6])?;
    let reverse = data.batch(&indices, &[5; 6], &[true; 6])?;
    let (f, r) = (forward.control.ok_or("no control in the batch")?, reverse.control.ok_or("no control")?);
    let input = 400;
    assert_eq!(f.len(), 6 * 2 * input);
    // About 0.05 reads per base and strand at factor 1: a window's control is far from empty.
    assert!(f.iter().sum::<f32>() > 6.0 * 2.0 * 400.0 * 0.05 * 0.2, "{}", f.iter().sum::<f32>());
    for k in 0..6 {
        for strand in 0..2 {
            let a = &f[(k * 2 + strand) * input..(k * 2 + strand + 1) * input];
            let b = &r[(k * 2 + 1 - strand) * input..(k * 2 + 2 - strand) * input];
            assert!(a.iter().rev().zip(b).all(|(x, y)| x == y), "control strand {strand} of example {k}");
        }
    }
    // The control of a window is the control track read over the whole input window.
    let tracks = data.control().ok_or("no control tracks")?;
    let region = &data.regions[0];
    let start = region.centre as i64 - (input / 2) as i64 + 5;
    let mut direct = vec![0f32; 2 * input];
    tracks.read(&region.chrom, start, input, false, &mut direct)?;
    assert_eq!(&direct[..], &f[..2 * input]);
    // Off the contig's ends: zeros there, values inside; an unknown contig is an error.
    let mut edge = vec![1f32; 2 * 50];
    tracks.read("chr1", -25, 50, false, &mut edge)?;
    assert!(edge[..25].iter().all(|&v| v == 0.0) && edge[50..75].iter().all(|&v| v == 0.0));
    let error = tracks.read("chrZ", 0, 50, false, &mut edge).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("chrZ"), "{error}");

    // Three control tracks, or a control on one task only, are refused naming the field.
    let mut three = with_control.clone();
    three.tasks[0].control.push(summary.files.control[0].clone());
    let error = ProfileData::load(&three, 1, &mut |_| {}).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("control") && error.contains("3 control tracks"), "{error}");
    let mut uneven = with_control.clone();
    let mut second = uneven.tasks[0].clone();
    second.name = "other".into();
    second.control.clear();
    uneven.tasks.push(second);
    let error = ProfileData::load(&uneven, 1, &mut |_| {}).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("control") && error.contains("or none does"), "{error}");
    Ok(())
}
