//! omix-tracks' readers against pysam and pyBigWig (tests/data/tracks_expected.json, made by
//! tests/data/make_fixtures.py), the bigWig writer read back, and bad inputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use omix_tracks::{
    Assay, ChromSizes, ReadFilter, Run, Shift, Stranding, Track, TrackError, TrackJob, bam_sizes, count_to_runs,
};
use serde_json::Value;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// janggu's files in ../shared, or None (the default suite does not need them; CI has them).
fn shared(name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/genome").join(name);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipping: {} is not there", path.display());
        None
    }
}

fn expected() -> Result<Value> {
    Ok(serde_json::from_str(&std::fs::read_to_string(data("tracks_expected.json"))?)?)
}

/// Runs expanded to sparse per-base counts `{chrom: {position: [plus, minus]}}`, as the fixture stores them.
fn sparse(runs: &[(usize, usize, Run)], sizes: &ChromSizes) -> BTreeMap<String, BTreeMap<u64, [u64; 2]>> {
    let mut out: BTreeMap<String, BTreeMap<u64, [u64; 2]>> = BTreeMap::new();
    for (contig, output, run) in runs {
        for position in run.start..run.end {
            out.entry(sizes.name(*contig).to_owned()).or_default().entry(position as u64).or_default()[*output] +=
                run.value as u64;
        }
    }
    out
}

fn fixture_counts(value: &Value) -> BTreeMap<String, BTreeMap<u64, [u64; 2]>> {
    let mut out: BTreeMap<String, BTreeMap<u64, [u64; 2]>> = BTreeMap::new();
    for (chrom, positions) in value.as_object().into_iter().flatten() {
        for (position, counts) in positions.as_object().into_iter().flatten() {
            let counts = counts.as_array().map(|c| [c[0].as_u64().unwrap_or(0), c[1].as_u64().unwrap_or(0)]);
            out.entry(chrom.clone())
                .or_default()
                .insert(position.parse().unwrap_or(u64::MAX), counts.unwrap_or_default());
        }
    }
    out
}

fn check_bam(path: &Path, sizes: &ChromSizes, filter: ReadFilter, expected: &Value) -> Result<()> {
    let (runs, counts) = count_to_runs(path, sizes, Assay::Chip.bam_shift(), Stranding::Stranded, filter)?;
    let ours = sparse(&runs, sizes);
    let theirs = fixture_counts(expected);
    assert!(!theirs.is_empty());
    assert_eq!(ours, theirs, "{}: 5' end counts differ from pysam's", path.display());
    let total: u64 = theirs.values().flat_map(|p| p.values()).map(|c| c[0] + c[1]).sum();
    assert_eq!(counts.cuts, total);
    assert_eq!(counts.used, total);
    Ok(())
}

#[test]
fn bam_counts_equal_pysam_on_every_position() -> Result {
    let expected = expected()?;
    let bam = data("synthetic.bam");
    let sizes = bam_sizes(&bam)?;
    check_bam(&bam, &sizes, ReadFilter::default(), &expected["synthetic_default"])?;
    let strict = ReadFilter { min_mapq: 30, keep_duplicates: true, ..ReadFilter::default() };
    check_bam(&bam, &sizes, strict, &expected["synthetic_mapq30_duplicates"])?;
    // Unstranded output is the sum of the strands.
    let (runs, _) = count_to_runs(&bam, &sizes, Assay::Chip.bam_shift(), Stranding::Unstranded, ReadFilter::default())?;
    let summed: BTreeMap<String, BTreeMap<u64, u64>> = fixture_counts(&expected["synthetic_default"])
        .into_iter()
        .map(|(c, p)| (c, p.into_iter().map(|(k, v)| (k, v[0] + v[1])).filter(|(_, v)| *v > 0).collect()))
        .collect();
    let ours: BTreeMap<String, BTreeMap<u64, u64>> =
        sparse(&runs, &sizes).into_iter().map(|(c, p)| (c, p.into_iter().map(|(k, v)| (k, v[0])).collect())).collect();
    assert_eq!(ours, summed);
    Ok(())
}

#[test]
fn janggu_bams_equal_pysam() -> Result {
    let expected = expected()?;
    let (Some(sample), Some(sample2), Some(chrom_sizes)) =
        (shared("sample.bam"), shared("sample2.bam"), shared("sample.chrom.sizes"))
    else {
        return Ok(());
    };
    // sample.bam's @PG line is malformed (`ID=Dummy` for `ID:Dummy`); omix warns and reads on.
    let sizes = ChromSizes::read(&chrom_sizes)?;
    check_bam(&sample, &sizes, ReadFilter::default(), &expected["sample_default"])?;
    check_bam(&sample2, &bam_sizes(&sample2)?, ReadFilter::default(), &expected["sample2_default"])?;
    let mut warnings = Vec::new();
    let dir = tempfile::tempdir()?;
    let job = TrackJob {
        input: sample.clone(),
        outputs: vec![dir.path().join("s.bw")],
        shift: Assay::Chip.bam_shift(),
        stranding: Stranding::Unstranded,
        filter: ReadFilter::default(),
        allow_missing_contigs: false,
    };
    job.run(Some(&sizes), &mut |w| warnings.push(w.to_owned()))?;
    assert!(warnings.iter().any(|w| w.contains("malformed") && w.contains("@PG")), "{warnings:?}");
    Ok(())
}

#[test]
fn fragment_cuts_follow_chrombpnet_atac() -> Result {
    let expected = expected()?;
    let sizes = ChromSizes::new(Path::new("sizes"), [("chr1".to_owned(), 30_000), ("chr2".to_owned(), 30_000)])?;
    let (runs, counts) = count_to_runs(
        &data("synthetic.fragments.tsv.gz"),
        &sizes,
        Assay::Atac.fragment_shift(),
        Stranding::Stranded,
        ReadFilter::default(),
    )?;
    assert_eq!(sparse(&runs, &sizes), fixture_counts(&expected["fragments_atac"]));
    assert_eq!(counts.records, 3_000);
    Ok(())
}

#[test]
fn bigwig_intervals_equal_pybigwig() -> Result {
    let expected = expected()?;
    let Some(path) = shared("sample.bw") else { return Ok(()) };
    let mut track = Track::open(&path, None)?;
    assert_eq!(track.contigs(), &[("chr1".to_owned(), 30_000), ("chr2".to_owned(), 30_000)]);
    for (chrom, intervals) in expected["sample_bw"].as_object().into_iter().flatten() {
        let mut truth = vec![0f32; 30_000];
        for interval in intervals.as_array().into_iter().flatten() {
            let (s, e, v) =
                (interval[0].as_u64().unwrap_or(0), interval[1].as_u64().unwrap_or(0), interval[2].as_f64());
            truth[s as usize..e as usize].fill(v.unwrap_or(f64::NAN) as f32);
        }
        let mut ours = vec![0f32; 30_000];
        track.read(chrom, 0, 30_000, true, &mut ours)?;
        assert_eq!(ours, truth, "{chrom}");
        // A window inside.
        let mut window = vec![0f32; 1_000];
        track.read(chrom, 16_000, 17_000, true, &mut window)?;
        assert_eq!(window, truth[16_000..17_000]);
    }
    Ok(())
}

#[test]
fn written_bigwig_reads_back_the_counts() -> Result {
    let dir = tempfile::tempdir()?;
    let bam = data("synthetic.bam");
    let sizes = bam_sizes(&bam)?;
    let out = dir.path().join("cov.bw");
    let outputs = TrackJob::outputs_for(&out, Stranding::Stranded);
    assert_eq!(outputs, vec![dir.path().join("cov.plus.bw"), dir.path().join("cov.minus.bw")]);
    let job = TrackJob {
        input: bam.clone(),
        outputs: outputs.clone(),
        shift: Assay::Chip.bam_shift(),
        stranding: Stranding::Stranded,
        filter: ReadFilter::default(),
        allow_missing_contigs: false,
    };
    let summary = job.run(None, &mut |_| {})?;
    assert_eq!(summary.written, outputs);
    let truth = fixture_counts(&expected()?["synthetic_default"]);
    for (output, path) in outputs.iter().enumerate() {
        let mut track = Track::open(path, Some(&sizes))?;
        for (chrom, positions) in &truth {
            let mut values = vec![0f32; 30_000];
            track.read(chrom, 0, 30_000, true, &mut values)?;
            for (position, value) in values.iter().enumerate() {
                let want = positions.get(&(position as u64)).map_or(0, |c| c[output]);
                assert_eq!(*value, want as f32, "{chrom}:{position} output {output}");
            }
        }
    }
    // Only the two outputs are left in the folder: no temporary files.
    assert_eq!(std::fs::read_dir(dir.path())?.count(), 2);
    Ok(())
}

#[test]
fn bedgraph_is_read_and_checked() -> Result {
    let dir = tempfile::tempdir()?;
    let sizes = ChromSizes::new(Path::new("g.sizes"), [("chr1".to_owned(), 1_000)])?;
    let path = dir.path().join("t.bedgraph");
    std::fs::write(&path, "track type=bedGraph\nchr1\t10\t20\t1.5\nchr1\t20\t25\t3\n")?;
    let mut track = Track::open(&path, Some(&sizes))?;
    let mut values = vec![0f32; 20];
    track.read("chr1", 5, 25, true, &mut values)?;
    assert_eq!(&values[..5], &[0.0; 5]);
    assert_eq!(&values[5..15], &[1.5; 10]);
    assert_eq!(&values[15..], &[3.0; 5]);
    let cases: [(&str, &str); 6] = [
        ("chr1\t10\t20\tnan\n", ":1: value nan is not a finite number"),
        ("chr1\t10\t20\t1\nchr1\t15\t30\t1\n", ":2: chr1:15-30 starts before the previous interval's end"),
        ("chr1\t10\t2000\t1\n", "ends past the end of chr1"),
        ("chrX\t10\t20\t1\n", "contig chrX is not in g.sizes"),
        ("track type=bedGraph\n", "the bedGraph has no intervals"),
        ("chr1\t10\t20\n", ":1: expected 4 fields"),
    ];
    for (text, message) in cases {
        std::fs::write(&path, text)?;
        let error = Track::open(&path, Some(&sizes)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains(message) && error.contains("t.bedgraph"), "{text:?}: {error}");
    }
    // Negative values open (a signal track may hold them) but are refused where counts are read.
    std::fs::write(&path, "chr1\t10\t20\t-1\n")?;
    let mut track = Track::open(&path, Some(&sizes))?;
    let error = track.read("chr1", 0, 30, true, &mut [0f32; 30]).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("chr1:10-20") && error.contains("negative"), "{error}");
    track.read("chr1", 0, 30, false, &mut [0f32; 30])?;
    Ok(())
}

fn job(input: PathBuf, out: &Path) -> TrackJob {
    TrackJob {
        input,
        outputs: vec![out.to_path_buf()],
        shift: Shift { plus: 0, minus: 0 },
        stranding: Stranding::Unstranded,
        filter: ReadFilter::default(),
        allow_missing_contigs: false,
    }
}

fn failure(job: &TrackJob, sizes: Option<&ChromSizes>) -> String {
    match job.run(sizes, &mut |_| {}) {
        Ok(_) => String::from("(no error)"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn bad_inputs_name_the_file_and_write_nothing() -> Result {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("out.bw");
    let sizes = ChromSizes::new(Path::new("genome.sizes"), [("chr1".to_owned(), 30_000), ("chr2".to_owned(), 30_000)])?;
    let cases: Vec<(PathBuf, Option<&ChromSizes>, &str)> = vec![
        (data("unsorted.bam"), None, "record 2: chr1:101 comes after chr1:501"),
        (data("queryname.bam"), None, "@HD SO:queryname"),
        (data("missing_contig.bam"), Some(&sizes), "contig(s) of the BAM header are not in genome.sizes: chrUn_1"),
        (data("other_length.bam"), Some(&sizes), "chr1 a length of 31000 bp but genome.sizes says 30000 bp"),
        (data("synthetic.fragments.tsv.gz"), None, "a fragment file carries no contig lengths"),
    ];
    for (input, sizes, message) in cases {
        let error = failure(&job(input.clone(), &out), sizes);
        let name = input.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        assert!(error.contains(message) && error.contains(&name), "{name}: {error}");
    }
    // Fragment files: each malformed line named.
    let fragments = dir.path().join("f.tsv");
    let lines: [(&str, &str); 6] = [
        ("chr1\t100\t50\tA\t1\n", "f.tsv:1: end 50 is not after start 100"),
        ("chr1\t100\n", "f.tsv:1: expected at least 3"),
        ("chr1\t500\t600\nchr1\t100\t200\n", "line 2: chr1:100 comes after chr1:500"),
        ("chr1\t1\t2\nchr2\t1\t2\nchr1\t5\t6\n", "line 3: chr1:5 comes after chr2:1"),
        ("chrZ\t1\t2\n", "line 1: contig chrZ is not in genome.sizes"),
        ("chr1\t29990\t30010\n", "chr1:29990-30010 ends past the end of chr1"),
    ];
    for (text, message) in lines {
        std::fs::write(&fragments, text)?;
        let error = failure(&job(fragments.clone(), &out), Some(&sizes));
        assert!(error.contains(message), "{text:?}: {error}");
    }
    // Empty input and reads that all fail the filters: an error, not an empty track.
    std::fs::write(&fragments, "# only a comment\n")?;
    assert!(failure(&job(fragments.clone(), &out), Some(&sizes)).contains("no read passed the filters"));
    // Missing contigs can be dropped on request, and are counted.
    let mut lenient = job(data("missing_contig.bam"), &out);
    lenient.allow_missing_contigs = true;
    let summary = lenient.run(Some(&sizes), &mut |_| {})?;
    assert_eq!(summary.counts.missing_contig, 1);
    assert_eq!(summary.counts.used, 1);
    std::fs::remove_file(&out)?;
    // Nothing but the fragment file was left behind by the failures.
    let left: Vec<_> =
        std::fs::read_dir(dir.path())?.map(|e| e.map(|e| e.file_name())).collect::<std::io::Result<_>>()?;
    assert_eq!(left, vec![std::ffi::OsString::from("f.tsv")]);
    Ok(())
}

#[test]
fn a_bigwig_on_other_contigs_is_refused() -> Result {
    let Some(path) = shared("sample.bw") else { return Ok(()) };
    let sizes = ChromSizes::new(Path::new("hg38.sizes"), [("1".to_owned(), 30_000)])?;
    let error = Track::open(&path, Some(&sizes)).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("sample.bw") && error.contains("not in hg38.sizes"), "{error}");
    let empty = tempfile::NamedTempFile::new()?;
    assert!(matches!(Track::open(empty.path(), None), Err(TrackError::Empty { .. })));
    Ok(())
}
