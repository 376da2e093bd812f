//! The report of profile runs (BPNet, ChromBPNet), on run folders written here through the
//! types omix writes them with: every section, optional files optional, malformed files named,
//! the same bytes twice.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use omix_data::profile::ProfileReport;
use omix_metrics::{Metrics, ProfileMetrics, ProfileSplitMetrics};
use omix_report::{render_report, write_report};
use omix_run::files;
use omix_run::profile::{Footprint, Footprints, ProfileExample, ProfileExamples};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The section ids of a profile report, in page order.
const SECTIONS: [&str; 9] = [
    "summary",
    "config",
    "data",
    "training",
    "profile-metrics",
    "profiles",
    "footprints",
    "bias",
    "profile-attributions",
];

/// One task's metrics with the given median JSD and log-count MSE.
fn scores(jsd: f64, count_pearson: Option<f64>, mse: f64, regions: usize) -> ProfileMetrics {
    ProfileMetrics {
        median_jsd: Some(jsd),
        mean_jsd: Some(jsd + 0.01),
        median_profile_pearson: Some(0.9 - jsd),
        mean_profile_pearson: Some(0.88 - jsd),
        count_pearson,
        count_spearman: count_pearson.map(|r| r - 0.02),
        count_mse: mse,
        mean_multinomial_nll: 120.0,
        regions,
        profiles: regions * 2,
        zero_profiles_skipped: 0,
        profiles_without_pearson: 0,
    }
}

/// A split's metrics over `tasks`, on peaks and background.
fn split(tasks: &[&str], jsd: f64, count_pearson: Option<f64>, mse: f64) -> Metrics {
    let peaks: BTreeMap<String, ProfileMetrics> =
        tasks.iter().map(|task| (task.to_string(), scores(jsd, count_pearson, mse, 40))).collect();
    let background: BTreeMap<String, ProfileMetrics> =
        tasks.iter().map(|task| (task.to_string(), scores(jsd + 0.2, count_pearson, mse / 2.0, 20))).collect();
    Metrics::Profile(ProfileSplitMetrics { loss: 300.0 + jsd, peaks, background })
}

/// `metrics.json` as a profile run writes it (`omix_train::profile::ProfileMetricsFile`).
fn metrics_json(tasks: &[&str], model_jsd: f64, baseline_jsd: f64, model_mse: f64, baseline_mse: f64) -> String {
    let value = serde_json::json!({
        "training": split(tasks, model_jsd - 0.05, Some(0.8), model_mse * 0.8),
        "validation": split(tasks, model_jsd + 0.01, Some(0.7), model_mse),
        "test": split(tasks, model_jsd, Some(0.72), model_mse),
        "baseline_test": split(tasks, baseline_jsd, None, baseline_mse),
        "baseline_model": "the training peaks' average profile, with the <mean> log count",
        "count_weight": 22.5,
        "best_epoch": 3,
        "epochs_run": 4,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// A training log with the profile columns.
fn log() -> String {
    let mut text = String::from(
        "epoch\tlearning_rate\ttrain_loss\tvalidation_loss\tvalidation_jsd\tvalidation_profile_pearson\t\
         validation_count_pearson\tmonitored\tbest\tseconds\n",
    );
    for epoch in 1..=4 {
        let e = epoch as f64;
        text.push_str(&format!(
            "{epoch}\t1e-3\t{:.6}\t{:.6}\t{:.6}\t{:.6}\t{:.6}\t{:.6}\t{}\t1.50\n",
            400.0 - 20.0 * e,
            410.0 - 15.0 * e + if epoch == 4 { 20.0 } else { 0.0 },
            0.6 - 0.03 * e,
            0.2 + 0.1 * e,
            0.3 + 0.1 * e,
            410.0 - 15.0 * e,
            u8::from(epoch == 3)
        ));
    }
    text
}

/// A profile of `length` values peaking at `centre`.
fn bump(length: usize, centre: usize, height: f32) -> Vec<f32> {
    (0..length)
        .map(|i| {
            let d = i as f32 - centre as f32;
            height * (-d * d / 200.0).exp()
        })
        .collect()
}

/// `profile_examples.json` over `tracks` (names `task.plus`/`task.minus` or `task`).
fn examples(tracks: &[&str], tasks: usize, corrected: bool) -> ProfileExamples {
    let length = 300;
    let example = |index: usize, peak: bool| {
        let scale = if peak { 10.0 } else { 0.5 };
        let rows = |shift: usize, height: f32| -> Vec<Vec<f32>> {
            (0..tracks.len()).map(|t| bump(length, 140 + shift + 5 * t, height * scale)).collect()
        };
        ProfileExample {
            chrom: "chr8".into(),
            start: 1_000_000 + 10_000 * index as u64,
            peak,
            observed: rows(0, 1.0),
            predicted: rows(3, 0.9),
            corrected: corrected.then(|| rows(6, 0.7)),
            jsd: (0..tasks).map(|t| 0.3 + 0.01 * (index + t) as f64).collect(),
        }
    };
    ProfileExamples {
        split: "test".into(),
        tracks: tracks.iter().map(|t| t.to_string()).collect(),
        output_length: length,
        chosen: "the 2 test peaks with the most reads and 1 background region of median count".into(),
        examples: vec![example(0, true), example(1, true), example(2, false)],
    }
}

/// `footprints.json` over `tracks`; with the bias model's footprints when `chrombpnet`.
fn footprints(tracks: &[&str], tasks: usize, chrombpnet: bool) -> Footprints {
    let length = 101;
    let motif = |name: &str, sequence: &str, bias_height: f32| {
        let rows = |height: f32| -> Vec<Vec<f32>> { (0..tracks.len()).map(|_| bump(length, 50, height)).collect() };
        Footprint {
            name: name.into(),
            sequence: sequence.into(),
            model: rows(2.0),
            with_bias: chrombpnet.then(|| rows(2.3)),
            bias: chrombpnet.then(|| rows(bias_height)),
            model_log_count_change: vec![0.7; tasks],
            with_bias_log_count_change: chrombpnet.then(|| vec![0.75; tasks]),
            bias_log_count_change: chrombpnet.then(|| vec![0.01; tasks]),
        }
    };
    Footprints {
        sequences: 64,
        tracks: tracks.iter().map(|t| t.to_string()).collect(),
        first_offset: -50,
        motifs: vec![
            motif("CTCF", "CCACCAGGGGGCGC", 0.05),
            motif("AP1", "TGACTCA", 1.5),
            motif("Tn5-like bias", "GCTACACG", 6.0),
        ],
    }
}

/// `data_report.json` as `omix_data::profile::ProfileData` reports it.
// Fields the report gains later keep their defaults here.
#[allow(clippy::needless_update)]
fn data_report() -> ProfileReport {
    ProfileReport {
        reference: "/data/genome.fa".into(),
        peaks_read: 1200,
        peaks_at_edges: 3,
        outliers: 12,
        outlier_threshold: 5400.0,
        background_requested: 600,
        background_found: 590,
        peaks_per_split: [900, 150, 135],
        background_per_split: [450, 75, 65],
        median_peak_count: 225.0,
        validation_chromosomes: vec!["chr6".into(), "chr7".into()],
        test_chromosomes: vec!["chr8".into(), "chr9".into()],
        ..ProfileReport::default()
    }
}

/// The bias model's `filters.tsv`: one significant TF match, one weak match, one without.
const FILTERS: &str =
    "filter\tsites\tmax_activation\tinformation_bits\tconsensus\tbest_match\tbest_match_name\tstrand\t\
offset\tp_value\te_value\tq_value
7\t120\t3.2000\t9.100\tCCACCAGGGGGC\tMA0139.2\tCTCF\t+\t0\t1.000e-8\t1.000e-5\t2.000e-5
2\t95\t2.1000\t4.200\tGCACTA\tMA0003.5\tTFAP2A\t-\t1\t1.000e-3\t8.000e-1\t9.000e-1
5\t80\t1.5000\t3.000\tNNGTAN\t\t\t\t\t\t\t
";

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, text)
}

/// A complete ChromBPNet run folder (one unstranded task `atac`).
fn chrombpnet_run(dir: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let run = dir.join("chrombpnet_run");
    let config = "seed = 1\n[tracks]\nreference = \"/data/genome.fa\"\npeaks = \"/data/peaks.bed\"\ninput_length = 2114\n\
                  output_length = 1000\noutlier_quantile = 0.9999\nbackground = 1\n[[tracks.task]]\nname = \"atac\"\n\
                  unstranded = \"/data/atac.bw\"\n[model]\nfilters = 512\nlayers = 8\n[train]\nepochs = 4\n\
                  [bias]\nfilters = 128\nlayers = 4\nthreshold_factor = 0.5\n";
    write(&run.join(files::CONFIG), config)?;
    write(&run.join(files::DATA_REPORT), &serde_json::to_string_pretty(&data_report())?)?;
    write(&run.join(files::LOG), &log())?;
    write(&run.join(files::METRICS), &metrics_json(&["atac"], 0.45, 0.6, 0.3, 0.9))?;
    write(&run.join(files::PROFILE_EXAMPLES), &serde_json::to_string(&examples(&["atac"], 1, true))?)?;
    write(&run.join(files::FOOTPRINTS), &serde_json::to_string(&footprints(&["atac"], 1, true))?)?;
    let bias = run.join(files::BIAS);
    write(&bias.join(files::METRICS), &metrics_json(&["atac"], 0.62, 0.6, 0.5, 0.9))?;
    write(&bias.join(files::LOG), &log())?;
    write(&bias.join("filters.tsv"), FILTERS)?;
    let report = serde_json::json!({
        "peak_count_quantile_1pct": 40.0, "threshold_factor": 0.5, "count_threshold": 20.0,
        "regions_per_split": [300, 50, 40], "left_out": 200, "count_weight": 1.2,
    });
    write(&bias.join(files::DATA_REPORT), &serde_json::to_string(&report)?)?;
    let explain = omix_run::profile::ProfileExplainSummary {
        model: "ChromBPNet TF model (bias-corrected)".into(),
        task: "atac".into(),
        regions_from: "the test split's peaks".into(),
        regions: 12,
        input_length: 2114,
        methods: vec!["gradient_x_input".into(), "deeplift_shap".into()],
        references: Some("20 dinucleotide-shuffled references".into()),
        heads: vec![omix_run::profile::ProfileHeadSummary {
            head: "counts".into(),
            timings: vec![omix_run::profile::MethodTiming {
                method: "deeplift_shap".into(),
                seconds: 3.5,
                seconds_per_100_windows: 29.2,
            }],
            convergence: Some(2.0e-6),
            shap_file: Some("counts_shap.npz".into()),
            logos: vec!["logos/counts_chr8_1.svg".into(), "logos/missing.svg".into(), "../outside.svg".into()],
            ..Default::default()
        }],
        ..Default::default()
    };
    let explain_dir = run.join(files::EXPLAIN_DIR);
    write(&explain_dir.join(files::PROFILE_EXPLAIN), &serde_json::to_string(&explain)?)?;
    write(&explain_dir.join("logos/counts_chr8_1.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>")?;
    write(&run.join("outside.svg"), "<svg></svg>")?;
    Ok(run)
}

/// A BPNet run folder with two stranded tasks; only `config.toml` and `metrics.json` unless `full`.
fn bpnet_run(dir: &Path, full: bool) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let run = dir.join("bpnet_run");
    let config = "seed = 1\n[tracks]\nreference = \"/data/genome.fa\"\npeaks = \"/data/peaks.bed\"\ninput_length = 2114\n\
                  output_length = 1000\n[[tracks.task]]\nname = \"nanog\"\nplus = \"/data/nanog.plus.bw\"\n\
                  minus = \"/data/nanog.minus.bw\"\n[[tracks.task]]\nname = \"sox2\"\nplus = \"/data/sox2.plus.bw\"\n\
                  minus = \"/data/sox2.minus.bw\"\n[model]\nfilters = 64\nlayers = 9\n";
    write(&run.join(files::CONFIG), config)?;
    write(&run.join(files::METRICS), &metrics_json(&["nanog", "sox2"], 0.45, 0.6, 0.3, 0.9))?;
    if full {
        let tracks = ["nanog.plus", "nanog.minus", "sox2.plus", "sox2.minus"];
        write(&run.join(files::DATA_REPORT), &serde_json::to_string_pretty(&data_report())?)?;
        write(&run.join(files::LOG), &log())?;
        write(&run.join(files::PROFILE_EXAMPLES), &serde_json::to_string(&examples(&tracks, 2, false))?)?;
        write(&run.join(files::FOOTPRINTS), &serde_json::to_string(&footprints(&tracks, 2, false))?)?;
    }
    Ok(run)
}

/// The body of section `id` (from its opening tag to the next `</section>`).
fn section<'a>(html: &'a str, id: &str) -> Result<&'a str, String> {
    let open = format!("<section id=\"{id}\" class=\"report-section\">");
    let start = html.find(&open).ok_or(format!("no section {id}"))?;
    let end = html[start..].find("</section>").ok_or(format!("section {id} not closed"))?;
    Ok(&html[start..start + end])
}

/// Every profile section present once, in order; no classifier section.
fn check_structure(html: &str) -> TestResult {
    let mut last = 0;
    for id in SECTIONS {
        let open = format!("<section id=\"{id}\" class=\"report-section\">");
        if html.matches(&open).count() != 1 {
            return Err(format!("section {id} not present exactly once").into());
        }
        let at = html.find(&open).ok_or("unreachable")?;
        if at < last {
            return Err(format!("section {id} out of order").into());
        }
        last = at;
    }
    for id in ["roc", "confusion", "per-class", "motifs", "attributions"] {
        if html.contains(&format!("<section id=\"{id}\"")) {
            return Err(format!("a profile report has the classifier section {id}").into());
        }
    }
    Ok(())
}

fn svgs(html: &str, id: &str) -> Result<usize, String> {
    Ok(section(html, id)?.matches("<svg").count())
}

#[test]
fn chrombpnet_run_has_every_part() -> TestResult {
    let temp = tempfile::tempdir()?;
    let run = chrombpnet_run(temp.path())?;
    let html = render_report(&run)?;
    check_structure(&html)?;
    assert!(html.contains("ChromBPNet"), "the subtitle names the model");

    let summary = section(&html, "summary")?;
    assert!(summary.contains("verdict good") && summary.contains("The model beats the baseline"), "{summary}");
    assert!(summary.contains("test median JSD on peaks"), "{summary}");

    let data = section(&html, "data")?;
    for needle in ["Regions per split", "count outliers", "median training peak count", "22.500", "chr8, chr9"] {
        assert!(data.contains(needle), "data section lacks {needle}");
    }

    let training = section(&html, "training")?;
    assert!(training.contains("id=\"training-loss\"") && training.contains("id=\"training-validation-metrics\""));
    assert!(training.contains("JSD") && training.contains("profile Pearson r"));

    let metrics = section(&html, "profile-metrics")?;
    assert!(metrics.contains("Peaks") && metrics.contains("Background regions"));
    assert!(metrics.contains("<em>baseline on test</em>") && metrics.contains("log-count MSE"));

    // One plot per region (3) and task (1), with the bias-corrected line and the JSD in the caption.
    let profiles = section(&html, "profiles")?;
    assert_eq!(svgs(&html, "profiles")?, 3);
    assert!(profiles.contains("bias-corrected (TF alone)") && profiles.contains("chr8:1000001-1000300"));
    assert!(profiles.contains("JSD 0.300") && profiles.contains("background"));

    // One plot per motif; the bias model responds to AP1 and, as it should, to the Tn5 motif.
    // What omix explain computed: the check of summation to delta and the one logo that exists
    // inside the explain folder.
    let attributions = section(&html, "profile-attributions")?;
    assert!(attributions.contains("DeepLIFT/SHAP") && attributions.contains("2.0e-6"), "{attributions}");
    assert!(attributions.contains("counts_shap.npz") && attributions.contains("bias-corrected"), "{attributions}");
    assert_eq!(svgs(&html, "profile-attributions")?, 1);

    let footprints = section(&html, "footprints")?;
    assert_eq!(svgs(&html, "footprints")?, 3);
    assert!(footprints.contains("answers it, as it should"), "{footprints}");
    assert!(footprints.contains("bias model alone") && footprints.contains("with bias"));
    assert!(
        footprints.contains("verdict bad") && footprints.contains("responds to 1 of the 2 TF motifs (AP1)"),
        "{footprints}"
    );
    assert!(footprints.contains("+0.700 (×2.01)"));

    let bias = section(&html, "bias")?;
    assert!(bias.contains("300 training, 50 validation, 40 test regions with fewer than 20.0 reads"), "{bias}");
    assert!(bias.contains("CTCF (MA0139.2)") && bias.contains("1 of the bias model's 3 filters"), "{bias}");
    assert!(bias.contains("id=\"bias-training-loss\"") && bias.contains("id=\"bias-metrics-peaks\""));
    // The weak match is listed but not counted as a match.
    assert!(bias.contains("TFAP2A (MA0003.5)") && !bias.contains("(CTCF (MA0139.2), TFAP2A"));
    Ok(())
}

#[test]
fn stranded_tasks_draw_the_minus_strand_below_the_axis() -> TestResult {
    let temp = tempfile::tempdir()?;
    let run = bpnet_run(temp.path(), true)?;
    let html = render_report(&run)?;
    check_structure(&html)?;
    assert!(html.contains("base-resolution profiles · BPNet"));
    // Two tasks: a plot per region and task, a footprint per motif and task.
    assert_eq!(svgs(&html, "profiles")?, 6);
    assert_eq!(svgs(&html, "footprints")?, 6);
    let profiles = section(&html, "profiles")?;
    assert!(profiles.contains("Task <code>nanog</code>") && profiles.contains("Task <code>sox2</code>"));
    assert!(profiles.contains("reads per base (minus below 0)"));
    // Negative ticks: the minus strand is drawn below zero.
    assert!(profiles.contains("text-anchor=\"end\">-"), "no negative y ticks");
    assert!(!profiles.contains("bias-corrected"));
    let bias = section(&html, "bias")?;
    assert!(bias.contains("Not applicable"), "{bias}");
    Ok(())
}

#[test]
fn optional_files_are_optional() -> TestResult {
    let temp = tempfile::tempdir()?;
    let run = bpnet_run(temp.path(), false)?;
    let html = render_report(&run)?;
    check_structure(&html)?;
    assert!(section(&html, "profiles")?.contains("No <code>profile_examples.json</code>"));
    assert!(section(&html, "footprints")?.contains("No <code>footprints.json</code>"));
    assert!(section(&html, "profile-attributions")?.contains("omix explain RUN"));
    assert!(section(&html, "data")?.contains("No <code>data_report.json</code>"));
    assert!(section(&html, "training")?.contains("No <code>training_log.tsv</code>"));
    assert!(section(&html, "summary")?.contains("The model beats the baseline"));

    // A ChromBPNet run whose bias folder has only its log; then none at all.
    let chrom = chrombpnet_run(temp.path())?;
    for name in [files::PROFILE_EXAMPLES, files::FOOTPRINTS, files::DATA_REPORT] {
        fs::remove_file(chrom.join(name))?;
    }
    let bias = chrom.join(files::BIAS);
    fs::remove_file(bias.join("filters.tsv"))?;
    fs::remove_file(bias.join(files::METRICS))?;
    let html = render_report(&chrom)?;
    let section_html = section(&html, "bias")?;
    assert!(section_html.contains("No <code>bias/filters.tsv</code>") && section_html.contains("bias/metrics.json"));
    assert!(section_html.contains("id=\"bias-training-loss\""));
    fs::remove_dir_all(&bias)?;
    let html = render_report(&chrom)?;
    assert!(section(&html, "bias")?.contains("No <code>bias/</code>"));
    // Without the metrics: no verdict, no failure.
    fs::remove_file(chrom.join(files::METRICS))?;
    let html = render_report(&chrom)?;
    assert!(section(&html, "summary")?.contains("No <code>metrics.json</code>"));
    Ok(())
}

#[test]
fn a_model_that_loses_to_the_baseline_is_told_so() -> TestResult {
    let temp = tempfile::tempdir()?;
    let run = bpnet_run(temp.path(), false)?;
    write(&run.join(files::METRICS), &metrics_json(&["nanog", "sox2"], 0.65, 0.6, 1.2, 0.9))?;
    let html = render_report(&run)?;
    let summary = section(&html, "summary")?;
    assert!(summary.contains("verdict bad") && summary.contains("does not beat the baseline"), "{summary}");
    write(&run.join(files::METRICS), &metrics_json(&["nanog", "sox2"], 0.5, 0.6, 1.2, 0.9))?;
    let html = render_report(&run)?;
    let summary = section(&html, "summary")?;
    assert!(summary.contains("on profile shape (lower JSD) but not on total counts"));
    assert!(summary.contains("the training peaks&#39; average profile, with the &lt;mean&gt; log count"), "{summary}");
    // Files of earlier versions do not say what the baseline is.
    let mut value: serde_json::Value = serde_json::from_str(&metrics_json(&["nanog", "sox2"], 0.5, 0.6, 1.2, 0.9))?;
    if let Some(object) = value.as_object_mut() {
        object.remove("baseline_model");
    }
    write(&run.join(files::METRICS), &value.to_string())?;
    let html = render_report(&run)?;
    assert!(section(&html, "summary")?.contains("the average training profile and the mean training log count"));
    assert!(section(&html, "profile-metrics")?.contains("its count correlations are undefined (–)"));
    Ok(())
}

#[test]
fn malformed_profile_files_are_errors_naming_the_file() -> TestResult {
    let temp = tempfile::tempdir()?;
    let run = chrombpnet_run(temp.path())?;
    let mut short = examples(&["atac"], 1, true);
    short.examples[1].predicted[0].truncate(10);
    let mut no_jsd = examples(&["atac"], 1, true);
    no_jsd.examples[0].jsd.clear();
    let mut ragged = footprints(&["atac"], 1, true);
    if let Some(bias) = ragged.motifs[0].bias.as_mut() {
        bias[0].pop();
    }
    let cases: Vec<(&str, String, &str)> = vec![
        (files::PROFILE_EXAMPLES, "{not json".into(), "profile_examples.json"),
        (files::PROFILE_EXAMPLES, "{\"split\": \"test\"}".into(), "profile_examples.json"),
        (files::PROFILE_EXAMPLES, serde_json::to_string(&short)?, "has 10 values"),
        (files::PROFILE_EXAMPLES, serde_json::to_string(&no_jsd)?, "0 JSD values"),
        (files::FOOTPRINTS, "[]".into(), "footprints.json"),
        (files::FOOTPRINTS, serde_json::to_string(&ragged)?, "`bias` has a track of 100 values"),
        ("bias/metrics.json", "{\"test\": 3}".into(), "bias/metrics.json"),
        ("bias/data_report.json", "{\"left_out\": []}".into(), "bias/data_report.json"),
        ("bias/filters.tsv", "filter\tsites\n1\n".into(), "filters.tsv:2"),
        ("bias/filters.tsv", "sites\tconsensus\n1\tACGT\n".into(), "no `filter` column"),
        ("bias/filters.tsv", FILTERS.replace("1.000e-5", "small"), "`small` is not a number"),
        (files::METRICS, "{\"test\": {\"peaks\": 3}}".into(), "metrics.json"),
        (files::DATA_REPORT, "{\"peaks_read\": \"many\"}".into(), "data_report.json"),
    ];
    for (file, text, needle) in cases {
        let original = fs::read_to_string(run.join(file))?;
        write(&run.join(file), &text)?;
        let error = match render_report(&run) {
            Ok(_) => return Err(format!("malformed {file} ({text:.40}) rendered").into()),
            Err(error) => error.to_string(),
        };
        assert!(error.contains(file.rsplit('/').next().unwrap_or(file)), "{file}: {error}");
        assert!(error.contains(needle), "{file}: `{error}` lacks `{needle}`");
        write(&run.join(file), &original)?;
    }
    render_report(&run)?;
    Ok(())
}

#[test]
fn output_is_byte_identical_across_renders_and_written_to_report_html() -> TestResult {
    let temp = tempfile::tempdir()?;
    for run in [chrombpnet_run(temp.path())?, bpnet_run(temp.path(), true)?] {
        let first = render_report(&run)?;
        let second = render_report(&run)?;
        assert!(first == second, "two renders of {} differ", run.display());
        let path = write_report(&run)?;
        assert_eq!(path, run.join("report.html"));
        assert!(fs::read(&path)? == first.as_bytes());
        // Self-contained: nothing fetched.
        let lower = first.to_lowercase();
        for forbidden in ["<script src", "<link", "<img", "http://", "https://"] {
            assert!(!lower.contains(forbidden), "{forbidden} in the report");
        }
    }
    Ok(())
}
