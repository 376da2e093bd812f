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
        max_n_fraction: 0.1,
        tasks: vec![TaskTracks {
            name: "sim".into(),
            plus: Some(dir.join("counts.plus.bw")),
            minus: Some(dir.join("counts.minus.bw")),
            unstranded: None,
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
