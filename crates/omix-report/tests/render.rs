//! Renders every fixture run folder kind and checks the report's structure, escaping,
//! self-containedness and errors on malformed files.

use std::fs;
use std::path::{Path, PathBuf};

use omix_report::{ReportError, render_report, write_report};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The section ids, in page order.
const SECTIONS: [&str; 10] = [
    "summary",
    "config",
    "data",
    "training",
    "roc",
    "confusion",
    "per-class",
    "motifs",
    "attributions",
    "discovered-motifs",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures").join(name)
}

/// Copies a fixture folder (one level of subfolders) into a temporary folder.
fn copy_fixture(name: &str) -> Result<(tempfile::TempDir, PathBuf), Box<dyn std::error::Error>> {
    let temp = tempfile::tempdir()?;
    let target = temp.path().join(name);
    copy_dir(&fixture(name), &target)?;
    Ok((temp, target))
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()))?;
        } else {
            fs::copy(&path, to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// The body of section `id` (from its opening tag to the next `</section>`).
fn section<'a>(html: &'a str, id: &str) -> Result<&'a str, String> {
    let open = format!("<section id=\"{id}\" class=\"report-section\">");
    let start = html.find(&open).ok_or(format!("no section {id}"))?;
    let end = html[start..].find("</section>").ok_or(format!("section {id} not closed"))?;
    Ok(&html[start..start + end])
}

/// Every section present once, in order, each with an `<h2>`.
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
        if !section(html, id)?.contains("<h2>") {
            return Err(format!("section {id} has no title").into());
        }
    }
    Ok(())
}

/// Nothing is fetched: no external scripts, styles, images or fonts, and no URL outside the
/// configuration listing.
fn check_self_contained(html: &str) -> TestResult {
    let lower = html.to_lowercase();
    for forbidden in [
        "<script src",
        "<link",
        "<img",
        "<iframe",
        "@import",
        "url(http",
        "src=\"http",
        "href=\"http",
        "xlink:href=\"http",
    ] {
        if lower.contains(forbidden) {
            return Err(format!("report contains `{forbidden}`").into());
        }
    }
    let config = section(html, "config")?;
    let outside = lower.replace(&config.to_lowercase(), "");
    if outside.contains("http://") || outside.contains("https://") {
        return Err("a URL appears outside the configuration listing".into());
    }
    Ok(())
}

/// The number of `<svg class="plot"` charts in a section.
fn plots(html: &str, id: &str) -> Result<usize, String> {
    Ok(section(html, id)?.matches("<svg class=\"plot\"").count())
}

#[test]
fn binary_run_with_explain_has_every_part() -> TestResult {
    let html = render_report(&fixture("gabpa_small"))?;
    check_structure(&html)?;
    check_self_contained(&html)?;
    // Training: losses, monitored metric, other metrics; best epoch marked.
    if plots(&html, "training")? < 2 || !section(&html, "training")?.contains("best epoch 20") {
        return Err("training curves or best epoch missing".into());
    }
    let roc = section(&html, "roc")?;
    if plots(&html, "roc")? != 2 || !roc.contains("AUROC") || !roc.contains("AUPRC") || !roc.contains("chance") {
        return Err("ROC / PR plots incomplete".into());
    }
    if !roc.contains("prevalence 0.50") {
        return Err("PR plot lacks the prevalence baseline".into());
    }
    let confusion = section(&html, "confusion")?;
    if plots(&html, "confusion")? != 2 || !confusion.contains(">predicted<") || !confusion.contains(">true<") {
        return Err("confusion heatmaps incomplete".into());
    }
    if !confusion.contains(">456<") {
        return Err("confusion counts missing".into());
    }
    let summary = section(&html, "summary")?;
    if !summary.contains("0.979") || !summary.contains("no significant difference in AUROC") {
        return Err("summary lacks the headline AUROC or the verdict".into());
    }
    let data = section(&html, "data")?;
    if !data.contains("wide_first_layer") || !data.contains("Why it matters") || !data.contains("10\u{202f}918") {
        return Err("data section lacks warnings or split sizes".into());
    }
    let motifs = section(&html, "motifs")?;
    for expected in ["GABPA", "MA0062.4", "ELK4", "SP1", "JASPAR 2024", "not compared (too few sites)", "3.2e-9"] {
        if !motifs.contains(expected) {
            return Err(format!("motifs section lacks {expected}").into());
        }
    }
    if motifs.matches("<svg").count() < 4 {
        return Err("motif logos missing".into());
    }
    let attributions = section(&html, "attributions")?;
    if attributions.matches("<svg").count() != 2 || !attributions.contains("seq_00840_peak") {
        return Err("attribution logos missing".into());
    }
    if !attributions.contains("in-silico mutagenesis") || !attributions.contains("0.712") {
        return Err("method agreement missing".into());
    }
    Ok(())
}

/// A best match above the E-value threshold is not presented as a match (issue 16: the report
/// once called E = 15.6 a "best match").
#[test]
fn matches_above_the_e_value_threshold_are_not_named_as_matches() -> TestResult {
    let (_temp, run) = copy_fixture("gabpa_small")?;
    let path = run.join("explain").join("explain.json");
    let mut explain: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path)?)?;
    let filters = explain["filters"].as_array_mut().ok_or("filters")?;
    let sp1 = filters.iter_mut().find(|f| f["matches"][0]["target_name"] == "SP1").ok_or("the SP1 filter")?;
    sp1["matches"][0]["e_value"] = serde_json::json!(15.6);
    fs::write(&path, serde_json::to_string(&explain)?)?;
    let motifs = render_report(&run)?;
    let motifs = section(&motifs, "motifs")?;
    if !motifs.contains("no database match with E ≤ 0.05 (closest: SP1, E = 15.600)") {
        return Err("a match with E = 15.6 was not set apart".into());
    }
    if motifs.contains("best match <strong>SP1") || !motifs.contains("none with E ≤ 0.05; closest") {
        return Err("SP1 at E = 15.6 is still presented as the best match".into());
    }
    if !motifs.contains("best match <strong>GABPA") {
        return Err("the significant GABPA match is missing".into());
    }
    // A file that states its own threshold is read with it.
    explain["max_e_value"] = serde_json::json!(100.0);
    fs::write(&path, serde_json::to_string(&explain)?)?;
    if !section(&render_report(&run)?, "motifs")?.contains("best match <strong>SP1") {
        return Err("the file's own threshold was ignored".into());
    }
    Ok(())
}

/// A `patterns.json` with one ETS-like pattern matched at E = 1e-4 and one whose closest motif
/// is at E = 3.
fn patterns_json() -> serde_json::Value {
    let pfm = |consensus: &str| -> Vec<Vec<f64>> {
        consensus.chars().map(|c| "ACGT".chars().map(|l| if l == c { 0.85 } else { 0.05 }).collect()).collect()
    };
    let cwm = |consensus: &str| -> Vec<Vec<f64>> {
        consensus.chars().map(|c| "ACGT".chars().map(|l| if l == c { 0.5 } else { 0.0 }).collect()).collect()
    };
    let matched = |id: &str, name: &str, e: f64| {
        serde_json::json!({"target_id": id, "target_name": name, "strand": "+", "offset": 0, "overlap": 8,
            "p_value": e / 879.0, "e_value": e, "q_value": e / 10.0, "target_probabilities": pfm("CCGGAAGT")})
    };
    serde_json::json!({
        "alphabet": "ACGT", "source": "ohe.npz + shap.npz", "sequences": 1000, "length": 101,
        "database": "JASPAR 2024", "comparison": "Tomtom complete scores", "max_e_value": 0.05,
        "seqlets": {"positive": 350, "negative": 20, "target_fdr": 0.05, "positive_threshold": 1.8e-5,
            "control": "permutations", "min_length": 4, "max_length": 25},
        "clustering": "greedy seeded alignment",
        "patterns": [
            {"id": "pos_1", "sign": "positive", "seqlets": 346, "forward": 170, "reverse": 176,
             "consensus": "CCGGAAGT", "contribution": cwm("CCGGAAGT"), "hypothetical": cwm("CCGGAAGT"),
             "probabilities": pfm("CCGGAAGT"), "matches": [matched("MA0759.3", "ELK3", 1e-4)],
             "examples": [{"sequence_index": 7, "start": 40, "end": 48, "strand": "-", "sequence": "CCGGAAGT", "attribution": 3.5}]},
            {"id": "neg_1", "sign": "negative", "seqlets": 20, "consensus": "TTCGA",
             "contribution": cwm("TTCGA"), "probabilities": pfm("TTCGA"), "matches": [matched("MA2096.1", "ZNF524", 3.0)]}
        ]
    })
}

#[test]
fn discovered_motifs_show_logos_matches_and_counts() -> TestResult {
    let (_temp, run) = copy_fixture("gabpa_small")?;
    let absent = render_report(&run)?;
    if !section(&absent, "discovered-motifs")?.contains("omix motifs RUN_DIR") {
        return Err("no hint on how to discover motifs".into());
    }
    fs::write(run.join("explain").join("patterns.json"), serde_json::to_string(&patterns_json())?)?;
    let html = render_report(&run)?;
    let found = section(&html, "discovered-motifs")?;
    for needle in [
        "best match <strong>ELK3 (MA0759.3)</strong>",
        "346 seqlets",
        "170 forward, 176 reverse strand",
        "<code>CCGGAAGT</code> (sequence 7, 40–48, -)",
        "no database match with E ≤ 0.05 (closest ZNF524",
        "350 positive",
    ] {
        if !found.contains(needle) {
            return Err(format!("`{needle}` missing from the discovered-motifs section").into());
        }
    }
    // CWM and PFM logos for both patterns (the ELK3 one aligned with its match).
    if found.matches("<svg").count() < 4 {
        return Err(format!("{} logos", found.matches("<svg").count()).into());
    }
    if found.contains("best match <strong>ZNF524") {
        return Err("E = 3 presented as a match".into());
    }
    Ok(())
}

#[test]
fn output_is_deterministic() -> TestResult {
    let first = render_report(&fixture("gabpa_small"))?;
    let second = render_report(&fixture("gabpa_small"))?;
    if first != second {
        return Err("two renders differ".into());
    }
    Ok(())
}

#[test]
fn every_run_kind_renders() -> TestResult {
    for (name, roc_plots, confusion_plots, expected) in [
        ("splice_small", 2, 2, vec!["one-vs-rest", "ei (AUROC", "baseline F1", "Class balance"]),
        ("multitask_small", 2, 3, vec!["ets (AUROC", "ctcf (AUPRC", "Positive examples per task", "task ets"]),
        ("regression_small", 2, 0, vec!["predicted vs observed", "perfect prediction (y = x)", "Poisson", "Spearman"]),
        ("pbmc_small", 0, 0, vec!["Not applicable", "mean reconstruction error", "Latent space", "CD14+ Monocyte"]),
        ("ppi_small", 2, 5, vec!["task 1 (AUROC", "macro-F1", "graph", "top_k"]),
    ] {
        let html = render_report(&fixture(name)).map_err(|e| format!("{name}: {e}"))?;
        check_structure(&html).map_err(|e| format!("{name}: {e}"))?;
        check_self_contained(&html).map_err(|e| format!("{name}: {e}"))?;
        if plots(&html, "roc")? != roc_plots {
            return Err(format!("{name}: {} ROC-section plots, expected {roc_plots}", plots(&html, "roc")?).into());
        }
        if plots(&html, "confusion")? != confusion_plots {
            return Err(
                format!("{name}: {} confusion plots, expected {confusion_plots}", plots(&html, "confusion")?).into()
            );
        }
        if plots(&html, "training")? == 0 {
            return Err(format!("{name}: no training plot").into());
        }
        for text in expected {
            if !html.contains(text) {
                return Err(format!("{name}: report lacks `{text}`").into());
            }
        }
        let motifs = section(&html, "motifs")?;
        let sequence_run = !matches!(name, "pbmc_small" | "ppi_small");
        if sequence_run && !motifs.contains("omix explain RUN_DIR") {
            return Err(format!("{name}: motifs section does not say how to add motifs").into());
        }
        if !sequence_run && !motifs.contains("Not applicable") {
            return Err(format!("{name}: motifs section does not say why it does not apply").into());
        }
    }
    Ok(())
}

#[test]
fn missing_files_are_reported_not_fatal() -> TestResult {
    let (_temp, run) = copy_fixture("gabpa_small")?;
    for name in ["test_predictions.tsv", "data_report.json", "checks.json", "split_manifest.tsv", "schema.json"] {
        fs::remove_file(run.join(name))?;
    }
    fs::remove_dir_all(run.join("explain"))?;
    let html = render_report(&run)?;
    check_structure(&html)?;
    for expected in [
        "No <code>test_predictions.tsv</code>",
        "No <code>data_report.json</code>",
        "No <code>checks.json</code>",
        "omix explain RUN_DIR",
    ] {
        if !html.contains(expected) {
            return Err(format!("report lacks `{expected}`").into());
        }
    }
    Ok(())
}

#[test]
fn write_report_writes_report_html() -> TestResult {
    let (_temp, run) = copy_fixture("splice_small")?;
    let path = write_report(&run)?;
    if path != run.join("report.html") || fs::read_to_string(&path)? != render_report(&run)? {
        return Err("report.html not written as rendered".into());
    }
    Ok(())
}

#[test]
fn markup_in_user_data_is_escaped() -> TestResult {
    let (_temp, run) = copy_fixture("splice_small")?;
    let evil = ["<b>ei</b>", "i&e", "n\"x"];
    let replace = |text: String| {
        text.replace("\"ei\"", "\"<b>ei</b>\"").replace("\"ie\"", "\"i&e\"").replace("\"n\"", "\"n\\\"x\"")
    };
    for name in ["metrics.json", "schema.json"] {
        let text = fs::read_to_string(run.join(name))?;
        fs::write(run.join(name), replace(text))?;
    }
    let predictions = fs::read_to_string(run.join("test_predictions.tsv"))?;
    let mut out = String::new();
    for (index, line) in predictions.lines().enumerate() {
        let fields: Vec<String> = line
            .split('\t')
            .enumerate()
            .map(|(column, field)| match (index, column, field) {
                (0, _, "probability_ei") => "probability_<b>ei</b>".into(),
                (0, _, "probability_ie") => "probability_i&e".into(),
                (0, _, "probability_n") => "probability_n\"x".into(),
                (_, 0, id) if index > 0 => format!("<i>{id}</i>"),
                (_, 1 | 5, "ei") if index > 0 => evil[0].into(),
                (_, 1 | 5, "ie") if index > 0 => evil[1].into(),
                (_, 1 | 5, "n") if index > 0 => evil[2].into(),
                (_, _, other) => other.into(),
            })
            .collect();
        out.push_str(&fields.join("\t"));
        out.push('\n');
    }
    fs::write(run.join("test_predictions.tsv"), out)?;
    let html = render_report(&run)?;
    for raw in ["<b>ei</b>", "i&e", "n\"x", "<i>"] {
        if html.contains(raw) {
            return Err(format!("unescaped `{raw}` in the report").into());
        }
    }
    for escaped in ["&lt;b&gt;ei&lt;/b&gt;", "i&amp;e", "n&quot;x"] {
        if !html.contains(escaped) {
            return Err(format!("escaped `{escaped}` missing").into());
        }
    }
    check_structure(&html)?;
    Ok(())
}

/// Whether an error is of the expected kind.
type Expected = Box<dyn Fn(&ReportError) -> bool>;

#[test]
fn malformed_files_are_errors_naming_the_file() -> TestResult {
    let cases: [(&str, &str, Expected); 6] = [
        ("metrics.json", "{\"test\": {\"auroc\": \"high\"}}", Box::new(|e| matches!(e, ReportError::Json { .. }))),
        ("checks.json", "[{\"message\": 3}]", Box::new(|e| matches!(e, ReportError::Json { .. }))),
        ("config.toml", "seed = = 1", Box::new(|e| matches!(e, ReportError::Toml { .. }))),
        (
            "training_log.tsv",
            "epoch\ttrain_loss\n1\t0.5\n2\tlots\n",
            Box::new(|e| matches!(e, ReportError::Malformed { line: Some(3), .. })),
        ),
        (
            "test_predictions.tsv",
            "id\tlabel\tprobability_1\tpredicted\ns1\t1\t0.9\n",
            Box::new(|e| matches!(e, ReportError::Malformed { line: Some(2), .. })),
        ),
        (
            "explain/explain.json",
            "{\"alphabet\":\"ACGT\",\"output\":\"1\",\"methods\":[],\"database\":null,\"filters\":[{\"index\":0,\"sites\":1,\
             \"information_content\":1.0,\"max_activation\":1.0,\"probabilities\":[[0.5,0.5]],\"matches\":[]}],\
             \"tracks\":[],\"agreement\":[]}",
            Box::new(|e| matches!(e, ReportError::Malformed { .. })),
        ),
    ];
    for (file, content, expected) in cases {
        let (_temp, run) = copy_fixture("gabpa_small")?;
        fs::write(run.join(file), content)?;
        match render_report(&run) {
            Ok(_) => return Err(format!("malformed {file} accepted").into()),
            Err(error) => {
                if !expected(&error)
                    || !error.path().ends_with(file)
                    || !error.to_string().contains(file.rsplit('/').next().unwrap_or(file))
                {
                    return Err(format!("{file}: unexpected error {error:?}").into());
                }
            }
        }
    }
    Ok(())
}

#[test]
fn not_a_run_folder_is_an_error() -> TestResult {
    let temp = tempfile::tempdir()?;
    if !matches!(render_report(&temp.path().join("absent")), Err(ReportError::NotADirectory { .. })) {
        return Err("absent folder accepted".into());
    }
    if !matches!(render_report(temp.path()), Err(ReportError::NotARunFolder { .. })) {
        return Err("empty folder accepted".into());
    }
    Ok(())
}
