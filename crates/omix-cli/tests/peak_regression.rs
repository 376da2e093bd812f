//! Peak regression end to end: `[data.genome]` windows labelled with sums of coverage tracks (a
//! bedGraph written here, a bigWig made by `omix tracks` from fragments), trained with the
//! regression losses, metrics and ridge baseline unchanged.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The motif whose copies raise a peak's signal.
const MOTIF: &str = "CGACCGAACTCC";
/// Contig length and the spacing of the peaks' summits.
const CONTIG: usize = 40_000;
const SPACING: usize = 400;

/// Run `omix ARGS` in `dir` and require success; returns stdout and stderr.
fn omix_ok(dir: &Path, args: &[&str]) -> Result<(String, String), Box<dyn std::error::Error>> {
    let output =
        Command::new(env!("CARGO_BIN_EXE_omix")).args(args).current_dir(dir).env_remove("RUST_BACKTRACE").output()?;
    let stdout = String::from_utf8(output.stdout)?;
    let stderr = String::from_utf8(output.stderr)?;
    if !output.status.success() {
        return Err(format!("omix {} failed ({}):\n{stderr}", args.join(" "), output.status).into());
    }
    Ok((stdout, stderr))
}

/// A small seeded generator (SplitMix64).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// One peak: its contig, summit and motif copies.
struct Peak {
    chrom: &'static str,
    summit: usize,
    copies: usize,
}

/// Three contigs of random bases with a peak every `SPACING` bases holding 0-3 motif copies near
/// its summit; signal `a` (bedGraph) is 1 + 5 × copies on each of the 100 bases around the summit,
/// and signal `b` comes from 1 + 3 × copies fragments spanning the summit (2 cuts each).
fn write_data(dir: &Path) -> Result<Vec<Peak>, Box<dyn std::error::Error>> {
    let mut random = Random(11);
    let (mut fasta, mut peaks_text, mut bedgraph, mut fragments) =
        (String::new(), String::new(), String::new(), String::new());
    let mut peaks = Vec::new();
    for chrom in ["chrA", "chrB", "chrC"] {
        let mut bases: Vec<u8> = (0..CONTIG).map(|_| b"ACGT"[(random.next() % 4) as usize]).collect();
        let mut summit = SPACING;
        while summit + SPACING <= CONTIG {
            let copies = (random.next() % 4) as usize;
            for copy in 0..copies {
                let at = summit - 60 + 40 * copy;
                bases[at..at + MOTIF.len()].copy_from_slice(MOTIF.as_bytes());
            }
            let _ = writeln!(peaks_text, "{chrom}\t{}\t{}\tpeak\t0\t.\t0\t-1\t-1\t100", summit - 100, summit + 100);
            let _ = writeln!(bedgraph, "{chrom}\t{}\t{}\t{}", summit - 50, summit + 50, 1 + 5 * copies);
            for _ in 0..1 + 3 * copies {
                let _ = writeln!(fragments, "{chrom}\t{}\t{}\tcell\t1", summit - 40, summit + 40);
            }
            peaks.push(Peak { chrom, summit, copies });
            summit += SPACING;
        }
        let _ = writeln!(fasta, ">{chrom}");
        for line in bases.chunks(70) {
            let _ = writeln!(fasta, "{}", std::str::from_utf8(line)?);
        }
    }
    std::fs::write(dir.join("genome.fa"), fasta)?;
    std::fs::write(dir.join("peaks.narrowPeak"), peaks_text)?;
    std::fs::write(dir.join("a.bedGraph"), bedgraph)?;
    std::fs::write(dir.join("fragments.tsv"), fragments)?;
    Ok(peaks)
}

fn read_json(path: &Path) -> Result<Value, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

const CONFIG: &str = "seed = 3\n\n[data]\nlength = 200\ntask = \"regression\"\n\n[data.genome]\n\
    reference = \"genome.fa\"\nregions = \"peaks.narrowPeak\"\n\
    signals = [{ name = \"a\", path = \"a.bedGraph\" }, { name = \"b\", path = \"b.bw\" }]\n\
    signal_window = 100\nbackground = 1\nvalidation_chromosomes = [\"chrB\"]\ntest_chromosomes = [\"chrC\"]\n\n\
    [model]\nkind = \"cnn\"\nglobal_pool = \"max\"\ndense = [16]\n\n\
    [[model.conv]]\nfilters = 16\nwidth = 12\npadding = \"same\"\nbatch_norm = true\npool = 2\n\n\
    [train]\nepochs = 12\npatience = 0\nlearning_rate = 0.005\nbatch_size = 32\nmonitor = \"pearson\"\n\
    reverse_complement_augment = true\nreverse_complement_average = true\n";

#[test]
fn peak_regression_from_a_bedgraph_and_a_bigwig_trains_with_the_ridge_baseline() -> TestResult {
    let dir = tempfile::tempdir()?;
    let peaks = write_data(dir.path())?;
    omix_ok(dir.path(), &["tracks", "fragments.tsv", "--assay", "atac", "--reference", "genome.fa", "-o", "b.bw"])?;
    std::fs::write(dir.path().join("peaks.toml"), CONFIG)?;
    let (stdout, stderr) = omix_ok(dir.path(), &["train", "peaks.toml", "--out", "run", "--quiet", "--no-report"])?;
    assert!(stderr.contains("task regression, classes a, b"), "{stderr}");
    assert!(stderr.contains("signal b (") && stderr.contains("log1p of the sum over 100 bp"), "{stderr}");
    let run = dir.path().join("run");

    // Targets as the tracks hold them: peaks by hand, background windows 0 (no signal there).
    let predictions = std::fs::read_to_string(run.join("test_predictions.tsv"))?;
    let mut lines = predictions.lines();
    let header: Vec<&str> = lines.next().ok_or("a header")?.split('\t').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).ok_or(format!("no column {name}: {header:?}"));
    // One column of targets, comma-separated in output order, then one prediction per output.
    let target = column("target")?;
    column("prediction_a")?;
    column("prediction_b")?;
    let mut checked = (0, 0);
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        let (a, b) = fields[target].split_once(',').ok_or(format!("two targets: {line}"))?;
        let (a, b): (f64, f64) = (a.parse()?, b.parse()?);
        if fields[0].ends_with(":bg") {
            assert_eq!((a, b), (0.0, 0.0), "{line}");
            checked.1 += 1;
            continue;
        }
        let (chrom, range) = fields[0].split_once(':').ok_or("chrom:start-end")?;
        let start: usize = range.split('-').next().ok_or("start")?.parse()?;
        let peak = peaks.iter().find(|p| p.chrom == chrom && p.summit == start + 100).ok_or(line.to_string())?;
        let expected_a = (100.0 * (1.0 + 5.0 * peak.copies as f64)).ln_1p();
        let expected_b = (2.0 * (1.0 + 3.0 * peak.copies as f64)).ln_1p();
        assert!((a - expected_a).abs() < 1e-4 && (b - expected_b).abs() < 1e-4, "{line}: {expected_a} {expected_b}");
        checked.0 += 1;
    }
    assert!(checked.0 >= 90 && checked.1 >= 50, "{checked:?}");

    // The regression metrics and the ridge baseline, per signal.
    let metrics = read_json(&run.join("metrics.json"))?;
    let pearson = metrics["test"]["mean_pearson"].as_f64().ok_or("no test pearson")?;
    assert!(pearson > 0.75, "test Pearson {pearson}\n{stdout}");
    let names: Vec<&str> =
        metrics["test"]["per_task"].as_array().ok_or("per task")?.iter().filter_map(|t| t[0].as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    let baseline = &metrics["baseline"];
    assert!(baseline["model"].as_str().is_some_and(|m| m.contains("ridge")), "{baseline}");
    assert!(baseline["test"]["mean_pearson"].as_f64().is_some(), "{baseline}");
    let report = read_json(&run.join("data_report.json"))?;
    assert_eq!(report["genome"]["signals"][1]["name"], "b", "{report}");
    Ok(())
}

#[test]
fn signals_without_a_regression_task_are_refused_before_training() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_data(dir.path())?;
    std::fs::write(dir.path().join("peaks.toml"), CONFIG.replace("task = \"regression\"\n", ""))?;
    let output = Command::new(env!("CARGO_BIN_EXE_omix"))
        .args(["train", "peaks.toml", "--out", "run"])
        .current_dir(dir.path())
        .output()?;
    let stderr = String::from_utf8(output.stderr)?;
    assert!(!output.status.success());
    assert!(stderr.contains("set task = \"regression\" in [data]"), "{stderr}");
    assert!(!dir.path().join("run").exists(), "nothing is written");
    Ok(())
}
