//! Interval data sets on a reference: bounds, GC-matched background, splits, tiling.

use std::path::Path;

use omix_encode::gc_fraction;
use omix_genome::{
    BedRecord, ChromosomeSplit, GenomeError, OutOfBounds, Reference, SplitName, Window, WindowCounts, apply_bounds,
    gc_matched_background, tiles,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Write `records` as a FASTA file wrapped at 60 and open it.
fn write_reference(dir: &Path, records: &[(&str, Vec<u8>)]) -> Result<Reference, Box<dyn std::error::Error>> {
    let path = dir.join("genome.fa");
    let mut text = Vec::new();
    for (name, sequence) in records {
        text.extend_from_slice(format!(">{name}\n").as_bytes());
        for line in sequence.chunks(60) {
            text.extend_from_slice(line);
            text.push(b'\n');
        }
    }
    std::fs::write(&path, text)?;
    Ok(Reference::open_with_index_cache(&path, &dir.join("cache"), &mut |_: &str| {})?)
}

/// Random bases with the given GC probability.
fn bases(rng: &mut ChaCha8Rng, length: usize, gc: f64) -> Vec<u8> {
    (0..length)
        .map(|_| {
            let strong = rng.random_bool(gc);
            let first = rng.random_bool(0.5);
            match (strong, first) {
                (true, true) => b'G',
                (true, false) => b'C',
                (false, true) => b'A',
                (false, false) => b'T',
            }
        })
        .collect()
}

#[test]
fn apply_bounds_counts_padded_and_dropped() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let reference =
        write_reference(dir.path(), &[("chr1", bases(&mut rng, 1000, 0.5)), ("chr2", bases(&mut rng, 50, 0.5))])?;
    let windows = vec![
        Window::centred("chr1", 500, 510, 100, 0),  // inside
        Window::centred("chr1", 0, 10, 100, 0),     // runs off the start
        Window::centred("chr1", 990, 1000, 100, 0), // runs off the end
        Window::new("chr2", 0, 50),                 // exactly the contig
        Window::new("chr2", 0, 51),                 // one base over
        Window::new("chrZ", 0, 10),                 // unknown contig
    ];
    let (kept, counts) = apply_bounds(windows.clone(), &reference, OutOfBounds::Pad);
    assert_eq!(counts, WindowCounts { kept: 5, padded: 3, dropped: 0, unknown_contig: 1 });
    assert_eq!(kept, windows[..5].to_vec());
    let padded = reference.fetch(&kept[1].chrom, kept[1].start, kept[1].end)?;
    assert_eq!(padded.len(), 100);
    assert!(padded[..45].iter().all(|&b| b == b'N') && padded[45] != b'N');

    let (kept, counts) = apply_bounds(windows.clone(), &reference, OutOfBounds::Drop);
    assert_eq!(counts, WindowCounts { kept: 2, padded: 0, dropped: 3, unknown_contig: 1 });
    assert_eq!(kept, vec![windows[0].clone(), windows[3].clone()]);
    Ok(())
}

/// A genome whose first contig is GC-rich in its first half and AT-rich in its second.
fn two_halves(dir: &Path) -> Result<Reference, Box<dyn std::error::Error>> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut chr1 = bases(&mut rng, 100_000, 0.7);
    chr1.extend(bases(&mut rng, 100_000, 0.3));
    let mut chr2 = bases(&mut rng, 50_000, 0.3);
    chr2.extend(bases(&mut rng, 50_000, 0.65));
    chr2[60_000..61_000].fill(b'N');
    write_reference(dir, &[("chr1", chr1), ("chr2", chr2)])
}

#[test]
fn background_is_gc_matched_seeded_and_avoids_exclusions() -> TestResult {
    let dir = tempfile::tempdir()?;
    let reference = two_halves(dir.path())?;
    // Positives mostly in the GC-rich half, a few in the AT-rich half.
    let mut positives = Vec::new();
    for i in 0..150 {
        positives.push(Window::new("chr1", 1000 + i * 600, 1000 + i * 600 + 200));
    }
    for i in 0..30 {
        positives.push(Window::new("chr1", 120_000 + i * 600, 120_000 + i * 600 + 200));
    }
    let contigs = vec!["chr1".to_owned(), "chr2".to_owned()];
    let background = gc_matched_background(&reference, &positives, 2, &contigs, &positives, 0.1, 42)?;
    assert_eq!(background.requested, 360);
    assert_eq!(background.windows.len(), 360, "shortfall {}", background.shortfall());
    assert_eq!(background.shortfall(), 0);
    let difference = (background.gc_positive_mean - background.gc_background_mean).abs();
    assert!(
        difference < 0.02,
        "positives {} background {}",
        background.gc_positive_mean,
        background.gc_background_mean
    );
    // A uniform draw would have a much lower mean GC.
    assert!(background.gc_positive_mean > 0.6);
    for window in &background.windows {
        assert_eq!(window.len(), 200);
        let length = reference.contig_length(&window.chrom).ok_or("unknown contig")?;
        assert!(window.inside(length), "{window}");
        assert!(!positives.iter().any(|p| p.overlaps(window)), "{window} overlaps a positive");
        let sequence = reference.fetch(&window.chrom, window.start, window.end)?;
        let n = sequence.iter().filter(|&&b| b == b'N').count();
        assert!(n as f64 <= 0.1 * 200.0, "{window} has {n} N");
        assert!(gc_fraction(&sequence).is_some());
    }
    // Mean GC recomputed from the windows agrees with the reported one.
    let mut sum = 0.0;
    for window in &background.windows {
        sum += gc_fraction(&reference.fetch(&window.chrom, window.start, window.end)?).ok_or("all N")?;
    }
    assert!((sum / 360.0 - background.gc_background_mean).abs() < 1e-9);

    let again = gc_matched_background(&reference, &positives, 2, &contigs, &positives, 0.1, 42)?;
    assert_eq!(again, background, "the same seed must give the same windows");
    let other = gc_matched_background(&reference, &positives, 2, &contigs, &positives, 0.1, 43)?;
    assert_ne!(other.windows, background.windows);

    // Only from the named contigs.
    let only_chr2 = gc_matched_background(&reference, &positives, 1, &["chr2".to_owned()], &[], 0.1, 1)?;
    assert!(only_chr2.windows.iter().all(|w| w.chrom == "chr2"));
    Ok(())
}

#[test]
fn background_exclusion_is_fast_for_many_windows() -> TestResult {
    let dir = tempfile::tempdir()?;
    let reference = two_halves(dir.path())?;
    // 100k excluded windows of 1 bp, every 2nd base of chr1: background windows of 200 bp can only come from chr2.
    let exclude: Vec<Window> = (0..100_000).map(|i| Window::new("chr1", i * 2, i * 2 + 1)).collect();
    let positives = vec![Window::new("chr2", 70_000, 70_200), Window::new("chr2", 10_000, 10_200)];
    let contigs = vec!["chr1".to_owned(), "chr2".to_owned()];
    let started = std::time::Instant::now();
    let background = gc_matched_background(&reference, &positives, 20, &contigs, &exclude, 0.0, 3)?;
    eprintln!("background with 100k exclusions: {:?}", started.elapsed());
    assert_eq!(background.windows.len(), 40);
    assert!(background.windows.iter().all(|w| w.chrom == "chr2"));
    Ok(())
}

#[test]
fn background_shortfall_on_a_tiny_genome() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let reference = write_reference(dir.path(), &[("chr1", bases(&mut rng, 300, 0.5))])?;
    let positives = vec![Window::new("chr1", 0, 100)];
    let background = gc_matched_background(&reference, &positives, 1000, &["chr1".to_owned()], &positives, 0.0, 1)?;
    assert_eq!(background.requested, 1000);
    assert!(background.windows.len() < 200, "{}", background.windows.len());
    assert_eq!(background.shortfall(), 1000 - background.windows.len());
    assert_eq!(background.draws, 1000 * omix_genome::DRAWS_PER_WINDOW);

    let Err(e) = gc_matched_background(&reference, &positives, 1, &["chr9".to_owned()], &[], 0.0, 1) else {
        return Err("an unknown contig must be an error".into());
    };
    assert!(e.to_string().contains("'chr9'"), "{e}");
    assert!(matches!(
        gc_matched_background(&reference, &positives, 1, &["chr1".to_owned()], &[], 1.5, 1),
        Err(GenomeError::InvalidParameter { name: "max_n_fraction", .. })
    ));
    Ok(())
}

#[test]
fn chromosome_split_defaults() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sequence = b"ACGTACGTAC".to_vec();
    let names = ["chr1", "chr6", "chr7", "chr8", "chr9", "chrX"];
    let records: Vec<(&str, Vec<u8>)> = names.iter().map(|n| (*n, sequence.clone())).collect();
    let reference = write_reference(dir.path(), &records)?;
    let split = ChromosomeSplit::default_for(&reference).ok_or("chr6-chr9 are present")?;
    assert_eq!(split.validation, vec!["chr6".to_owned(), "chr7".to_owned()]);
    assert_eq!(split.test, vec!["chr8".to_owned(), "chr9".to_owned()]);
    assert_eq!(split.split_of("chr7"), SplitName::Validation);
    assert_eq!(split.split_of("chr9"), SplitName::Test);
    assert_eq!(split.split_of("chrX"), SplitName::Train);
    split.check_against(&reference, Path::new("split.toml"))?;

    let dir = tempfile::tempdir()?;
    let records: Vec<(&str, Vec<u8>)> = ["1", "6", "7", "8", "9"].iter().map(|n| (*n, sequence.clone())).collect();
    let reference = write_reference(dir.path(), &records)?;
    let split = ChromosomeSplit::default_for(&reference).ok_or("6-9 are present")?;
    assert_eq!(split.validation, vec!["6".to_owned(), "7".to_owned()]);
    let Err(e) =
        ChromosomeSplit::new(vec!["chr6".to_owned()], vec![])?.check_against(&reference, Path::new("split.toml"))
    else {
        return Err("a held-out contig missing from the reference must be an error".into());
    };
    assert!(e.to_string().contains("'chr6' -> '6'"), "{e}");

    let dir = tempfile::tempdir()?;
    let records: Vec<(&str, Vec<u8>)> =
        ["chr1", "chr6", "chr7", "chr8"].iter().map(|n| (*n, sequence.clone())).collect();
    let reference = write_reference(dir.path(), &records)?;
    assert_eq!(ChromosomeSplit::default_for(&reference), None);
    Ok(())
}

#[test]
fn tiles_over_regions_and_whole_contigs() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let reference =
        write_reference(dir.path(), &[("chr1", bases(&mut rng, 1000, 0.5)), ("chr2", bases(&mut rng, 250, 0.5))])?;

    // Whole contigs: chr1 gives (1000 - 100) / 50 + 1 = 19 windows, chr2 (250 - 100) / 50 + 1 = 4.
    let whole: Vec<Window> = tiles(&reference, None, 100, 50).collect();
    assert_eq!(whole.len(), 23);
    assert_eq!(whole[0], Window::new("chr1", 0, 100));
    assert_eq!(whole[18], Window::new("chr1", 900, 1000));
    assert_eq!(whole[19], Window::new("chr2", 0, 100));
    assert_eq!(whole[22], Window::new("chr2", 150, 250));

    let region = |chrom: &str, start: u64, end: u64| BedRecord {
        chrom: chrom.to_owned(),
        start,
        end,
        name: None,
        score: None,
        strand: None,
        extra: vec![],
        line: 1,
    };
    let regions = vec![region("chr1", 100, 360), region("chr2", 10, 40)];
    let windows: Vec<Window> = tiles(&reference, Some(&regions), 100, 75).collect();
    // [100, 360): starts 100, 175, 250 (325 + 100 > 360); [10, 40) is shorter than the window: one centred window.
    assert_eq!(
        windows,
        vec![
            Window::new("chr1", 100, 200),
            Window::new("chr1", 175, 275),
            Window::new("chr1", 250, 350),
            Window::new("chr2", -25, 75),
        ]
    );
    // Stride larger than the window leaves gaps.
    let sparse: Vec<i64> = tiles(&reference, Some(&regions[..1]), 20, 100).map(|w| w.start).collect();
    assert_eq!(sparse, vec![100, 200, 300]);
    assert_eq!(tiles(&reference, None, 100, 0).count(), 0);
    Ok(())
}

#[test]
fn intervals_past_a_contig_end_are_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let fasta = dir.path().join("g.fa");
    std::fs::write(&fasta, ">chr1\nACGTACGTAC\n>chr2\nACGT\n")?;
    let reference =
        omix_genome::Reference::open_with_index_cache(&fasta, &dir.path().join("cache"), &mut |_: &str| {})?;
    let bed = dir.path().join("peaks.bed");
    std::fs::write(&bed, "chr1\t0\t10\nchr2\t2\t4\n")?;
    omix_genome::check_intervals(&bed, &omix_genome::read_bed(&bed)?, &reference)?;
    std::fs::write(&bed, "chr1\t0\t10\n# c\nchr2\t2\t5\n")?;
    let Err(e) = omix_genome::check_intervals(&bed, &omix_genome::read_bed(&bed)?, &reference) else {
        return Err("an interval past the contig end must be refused".into());
    };
    let text = e.to_string();
    assert!(
        text.contains("peaks.bed:3: interval chr2:2-5 ends past the end of contig 'chr2', which has 4 bases"),
        "{text}"
    );
    Ok(())
}
