//! `[data.genome]` with `signals`: regression targets summed from coverage tracks around each
//! window's centre (peak regression), for regions and GC-matched background alike.

use std::path::Path;

use omix_data::genome::{GenomeConfig, SignalFile, SignalTransform, TaskFile};
use omix_data::{DataConfig, Dataset, Split, Target, Task, TaskSetting};
use omix_genome::OutOfBounds;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Three 3-kb contigs of seeded pseudo-random bases.
fn write_reference(dir: &Path) -> std::io::Result<()> {
    let mut state = 777u64;
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

/// The first track's runs: `(contig, start, end, value)`, sorted and not overlapping.
const ATAC: [(&str, u64, u64, f64); 7] = [
    ("c1", 0, 1000, 0.5),
    ("c1", 1050, 1100, 2.0),
    ("c1", 1100, 1110, 5.0),
    ("c1", 2000, 3000, 1.5),
    ("c2", 590, 600, 3.0),
    ("c2", 1000, 3000, 0.25),
    ("c3", 0, 500, 1.0),
];

/// The second track: one base on c1.
const K27: [(&str, u64, u64, f64); 1] = [("c1", 1100, 1101, 7.0)];

fn write_bedgraph(path: &Path, runs: &[(&str, u64, u64, f64)]) -> std::io::Result<()> {
    let mut text = String::from("track type=bedGraph\n");
    for (chrom, start, end, value) in runs {
        text.push_str(&format!("{chrom}\t{start}\t{end}\t{value}\n"));
    }
    std::fs::write(path, text)
}

/// The sum of `runs` over `chrom:start-end`, by plain counting of each covered base.
fn hand_sum(runs: &[(&str, u64, u64, f64)], chrom: &str, start: i64, end: i64) -> f64 {
    let mut sum = 0.0;
    for base in start.max(0)..end {
        for (run_chrom, run_start, run_end, value) in runs {
            if *run_chrom == chrom && (*run_start as i64) <= base && base < *run_end as i64 {
                sum += value;
            }
        }
    }
    sum
}

/// Regions: an interval on c1 (centre 1100), a narrowPeak line on c2 whose summit (offset 100)
/// is at 600, and an uncovered interval on c3; one more per contig.
fn write_regions(dir: &Path) -> std::io::Result<()> {
    std::fs::write(
        dir.join("regions.narrowPeak"),
        "c1\t1000\t1200\tp1\t0\t.\t0\t-1\t-1\t-1\n\
         c2\t500\t900\tp2\t0\t.\t0\t-1\t-1\t100\n\
         c3\t1500\t1600\tp3\t0\t.\t0\t-1\t-1\t-1\n\
         c1\t2400\t2500\tp4\t0\t.\t0\t-1\t-1\t-1\n\
         c2\t2400\t2500\tp5\t0\t.\t0\t-1\t-1\t-1\n\
         c3\t2400\t2500\tp6\t0\t.\t0\t-1\t-1\t-1\n",
    )
}

fn write_all(dir: &Path) -> std::io::Result<()> {
    write_reference(dir)?;
    write_regions(dir)?;
    write_bedgraph(&dir.join("atac.bedGraph"), &ATAC)?;
    write_bedgraph(&dir.join("k27.bedGraph"), &K27)
}

fn config(dir: &Path, signal_window: Option<u64>, transform: SignalTransform) -> DataConfig {
    DataConfig {
        length: Some(100),
        task: TaskSetting::Regression,
        genome: Some(GenomeConfig {
            reference: dir.join("ref.fa"),
            classes: Vec::new(),
            tasks: Vec::new(),
            regions: Some(dir.join("regions.narrowPeak")),
            signals: vec![
                SignalFile { name: "atac".into(), path: dir.join("atac.bedGraph") },
                SignalFile { name: "k27".into(), path: dir.join("k27.bedGraph") },
            ],
            signal_window,
            signal_transform: transform,
            background: 1,
            flank: 0,
            out_of_bounds: OutOfBounds::Pad,
            validation_chromosomes: Some(vec!["c2".into()]),
            test_chromosomes: Some(vec!["c3".into()]),
            folds: Vec::new(),
            max_n_fraction: 0.1,
        }),
        ..DataConfig::default()
    }
}

fn values(target: &Target) -> Result<&[f32], Box<dyn std::error::Error>> {
    match target {
        Target::Values(values) => Ok(values),
        other => Err(format!("regression targets expected, found {other:?}").into()),
    }
}

/// The example whose id starts with `prefix`.
fn example<'a>(dataset: &'a Dataset, prefix: &str) -> Result<&'a omix_data::Example, String> {
    dataset.examples.iter().find(|e| e.id.starts_with(prefix)).ok_or_else(|| format!("no example {prefix}"))
}

fn error_text(config: &DataConfig) -> Result<String, Box<dyn std::error::Error>> {
    match Dataset::load(config, 3) {
        Ok(_) => Err("the data set was accepted".into()),
        Err(error) => Ok(error.to_string()),
    }
}

#[test]
fn targets_are_log1p_of_the_sums_around_each_window_centre() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_all(dir.path())?;
    let dataset = Dataset::load(&config(dir.path(), Some(50), SignalTransform::Log1p), 3)?;
    assert_eq!(dataset.schema.task, Task::Regression);
    assert_eq!(dataset.schema.class_names, ["atac", "k27"]);

    // By hand: c1 centre 1100, bases 1075..1125: 25 x 2 + 10 x 5 = 100 (atac), 7 (k27).
    let c1 = example(&dataset, "c1:1050-1150")?;
    assert_eq!(values(&c1.target)?, [100f64.ln_1p() as f32, 7f64.ln_1p() as f32]);
    assert_eq!(c1.split, Split::Train);
    // The narrowPeak summit (500 + 100) centres the window: 550..650; bases 575..625 hold 10 x 3.
    let c2 = example(&dataset, "c2:550-650")?;
    assert_eq!(values(&c2.target)?, [30f64.ln_1p() as f32, 0.0]);
    assert_eq!(c2.split, Split::Validation);
    let reference = std::fs::read_to_string(dir.path().join("ref.fa"))?;
    let c2_bases: String = reference.split('>').nth(2).ok_or("c2")?.lines().skip(1).collect();
    assert_eq!(c2.sequence, c2_bases.as_bytes()[550..650], "the window is the reference's bases");
    // Nothing covers c3's centre.
    assert_eq!(values(&example(&dataset, "c3:1500-1600")?.target)?, [0.0, 0.0]);

    // Every window, background included, against the plain sum of the runs.
    let background: Vec<_> = dataset.examples.iter().filter(|e| e.id.ends_with(":bg")).collect();
    let genome = dataset.report.genome.as_ref().ok_or("a genome report")?;
    assert_eq!(background.len(), genome.background_found);
    assert!(genome.background_found >= 5, "{genome:?}");
    assert_eq!(dataset.examples.len(), 6 + background.len());
    let mut background_nonzero = 0;
    for example in &dataset.examples {
        let coordinates = example.id.trim_end_matches(":bg");
        let (chrom, range) = coordinates.split_once(':').ok_or("chrom:start-end")?;
        let (start, end) = range.split_once('-').ok_or("start-end")?;
        let (start, end): (i64, i64) = (start.parse()?, end.parse()?);
        let centre = start + (end - start) / 2;
        let expected: Vec<f32> = [&ATAC[..], &K27[..]]
            .iter()
            .map(|runs| hand_sum(runs, chrom, centre - 25, centre + 25).ln_1p() as f32)
            .collect();
        let found = values(&example.target)?;
        for (found, expected) in found.iter().zip(&expected) {
            assert!((found - expected).abs() < 1e-6, "{}: {found:?} vs {expected:?}", example.id);
        }
        if example.id.ends_with(":bg") && found[0] > 0.0 {
            background_nonzero += 1;
        }
    }
    assert!(background_nonzero > 0, "some background windows lie on covered bases");
    let report = &genome.signals;
    assert_eq!(report.len(), 2);
    assert_eq!((report[0].name.as_str(), report[0].window, report[0].transform.as_str()), ("atac", 50, "log1p"));
    assert!(report[0].mean_background.is_some());
    assert!(genome.notes.iter().any(|n| n.starts_with("signal atac (") && n.contains("log1p of the sum over 50 bp")));
    // k27 holds values on c1 only: the windows on c2 and c3 are pointed out.
    let on_c2_c3 = dataset.examples.iter().filter(|e| !e.id.starts_with("c1:")).count();
    let note = format!("signal k27: {on_c2_c3} window(s) lie on contigs");
    assert!(genome.notes.iter().any(|n| n.starts_with(&note)), "{note} in {:?}", genome.notes);
    assert!(!genome.notes.iter().any(|n| n.starts_with("signal atac: ")), "{:?}", genome.notes);
    Ok(())
}

#[test]
fn without_a_transform_or_window_the_targets_are_sums_over_the_window_length() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_all(dir.path())?;
    let dataset = Dataset::load(&config(dir.path(), None, SignalTransform::None), 3)?;
    // c1: bases 1050..1150: 50 x 2 + 10 x 5.
    assert_eq!(values(&example(&dataset, "c1:1050-1150")?.target)?, [150.0, 7.0]);
    // c2: bases 550..650: 10 x 3.
    assert_eq!(values(&example(&dataset, "c2:550-650")?.target)?, [30.0, 0.0]);
    Ok(())
}

#[test]
fn a_region_listed_twice_is_one_example() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_all(dir.path())?;
    let text = std::fs::read_to_string(dir.path().join("regions.narrowPeak"))?;
    let first = text.lines().next().ok_or("a line")?;
    std::fs::write(dir.path().join("regions.narrowPeak"), format!("{text}{first}\n"))?;
    let mut config = config(dir.path(), Some(50), SignalTransform::Log1p);
    if let Some(genome) = &mut config.genome {
        genome.background = 0;
    }
    let dataset = Dataset::load(&config, 3)?;
    assert_eq!(dataset.examples.len(), 6);
    let genome = dataset.report.genome.as_ref().ok_or("a genome report")?;
    assert!(genome.notes.iter().any(|n| n.contains("1 window(s) listed more than once")), "{:?}", genome.notes);
    Ok(())
}

#[test]
fn a_track_on_other_contig_names_is_refused_naming_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_all(dir.path())?;
    write_bedgraph(&dir.path().join("k27.bedGraph"), &[("chr1", 1100, 1101, 7.0)])?;
    let text = error_text(&config(dir.path(), Some(50), SignalTransform::Log1p))?;
    assert!(text.contains("k27.bedGraph") && text.contains("chr1") && text.contains("ref.fa"), "{text}");
    Ok(())
}

#[test]
fn missing_tracks_and_bad_values_are_refused_naming_the_file() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_all(dir.path())?;
    std::fs::remove_file(dir.path().join("k27.bedGraph"))?;
    let text = error_text(&config(dir.path(), Some(50), SignalTransform::Log1p))?;
    assert!(text.contains("k27.bedGraph"), "{text}");

    write_bedgraph(&dir.path().join("k27.bedGraph"), &[("c1", 1100, 1101, f64::NAN)])?;
    let text = error_text(&config(dir.path(), Some(50), SignalTransform::Log1p))?;
    assert!(text.contains("k27.bedGraph:2") && text.contains("not a finite number"), "{text}");

    // A negative value under a window: the file and the place.
    write_bedgraph(&dir.path().join("k27.bedGraph"), &[("c1", 1100, 1101, -2.0)])?;
    let text = error_text(&config(dir.path(), Some(50), SignalTransform::None))?;
    assert!(text.contains("k27.bedGraph: c1:1100-1101") && text.contains("negative"), "{text}");
    Ok(())
}

#[test]
fn signals_exclude_classes_and_tasks_and_need_regions_and_regression() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_all(dir.path())?;
    let base = config(dir.path(), Some(50), SignalTransform::Log1p);
    let with = |change: &dyn Fn(&mut GenomeConfig)| -> DataConfig {
        let mut config = base.clone();
        if let Some(genome) = &mut config.genome {
            change(genome);
        }
        config
    };

    let both = with(&|g| g.tasks = vec![TaskFile { name: "a".into(), path: dir.path().join("regions.narrowPeak") }]);
    let text = error_text(&both)?;
    assert!(text.contains("give only one of `classes`, `tasks` and `signals`") && text.contains("tasks, signals"));

    let text = error_text(&with(&|g| g.regions = None))?;
    assert!(text.contains("genome.regions") && text.contains("`signals` needs `regions`"), "{text}");

    let text = error_text(&with(&|g| g.signals.clear()))?;
    assert!(text.contains("give `classes`"), "{text}");
    let regions_only = with(&|g| {
        g.signals.clear();
        g.signal_window = None;
        g.tasks = vec![TaskFile { name: "a".into(), path: dir.path().join("regions.narrowPeak") }];
    });
    let text = error_text(&regions_only)?;
    assert!(text.contains("regions.narrowPeak gives the windows whose `signals` are summed"), "{text}");

    let text = error_text(&with(&|g| g.signals[1].name = "atac".into()))?;
    assert!(text.contains("\"atac\" is given twice"), "{text}");
    let text = error_text(&with(&|g| g.signal_window = Some(0)))?;
    assert!(text.contains("signal_window"), "{text}");

    let mut classification = base.clone();
    classification.task = TaskSetting::Auto;
    let text = error_text(&classification)?;
    assert!(text.contains("[data] task:") && text.contains("task = \"regression\""), "{text}");
    Ok(())
}

#[test]
fn the_table_reads_from_toml() -> TestResult {
    let text = "length = 100\ntask = \"regression\"\n[genome]\nreference = \"ref.fa\"\nregions = \"peaks.bed\"\n\
                signals = [{ name = \"atac\", path = \"atac.bw\" }]\nsignal_window = 500\n\
                signal_transform = \"none\"\n";
    let config: DataConfig = toml::from_str(text)?;
    let genome = config.genome.as_ref().ok_or("a genome table")?;
    assert_eq!(genome.signal_window, Some(500));
    assert_eq!(genome.signal_transform, SignalTransform::None);
    assert_eq!(genome.signals[0].name, "atac");
    config.check()?;
    // Written back, the defaults stay out of the file and the rest reads back the same.
    let written = toml::to_string(&config)?;
    assert_eq!(toml::from_str::<DataConfig>(&written)?, config);
    let bad: Result<DataConfig, _> = toml::from_str(&text.replace("\"none\"", "\"log\""));
    assert!(bad.is_err());
    Ok(())
}
