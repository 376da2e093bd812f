//! The self-contained HTML report of an omix run folder.
//!
//! [`render_report`] reads the files a training run writes (`config.toml`, `schema.json`,
//! `data_report.json`, `checks.json`, `training_log.tsv`, `metrics.json`,
//! `test_predictions.tsv`, `split_manifest.tsv` and, when `omix explain` has been run,
//! `explain/explain.json`) and returns one HTML page: inline CSS and hand-written inline SVG,
//! nothing loaded from the network, the same bytes for the same files. [`write_report`]
//! writes it to `RUN/report.html`.
//!
//! Sections, in order (each a `<section id=... class="report-section">`): `summary`,
//! `config`, `data`, `training`, `roc`, `confusion`, `per-class`, `motifs`, `attributions`,
//! `discovered-motifs` (patterns found in the attributions, `explain/patterns.json`).
//!
//! A profile run (BPNet, ChromBPNet: `config.toml` has a `[tracks]` table) has its own sections:
//! `summary`, `config`, `data` (peaks and background per split, outliers, λ), `training`,
//! `profile-metrics` (per split and task on peaks and background, beside the average-profile
//! baseline on test), `profiles` (observed vs predicted profiles of example regions, from
//! `profile_examples.json`), `footprints` (marginal footprints of motifs, from
//! `footprints.json`) and `bias` (a ChromBPNet run's `bias/` folder: its metrics, training
//! curve and the best database matches of its filters), then `discovered-motifs` too.
//!
//! An ensemble folder (`omix ensemble`: `ensemble.json`) gets a short page of its own: `summary`
//! (its members' headline test metrics, their mean ± sd and the ensemble's own, from
//! `ensemble_metrics.json`) and `members` (each copy, its fold and seed, where it was trained).
//!
//! A missing file empties only the sections that need it, which then say so; a file that is
//! present but malformed is an error naming it.
//!
//! ```
//! use std::path::Path;
//!
//! // A trimmed binary run (DeepBind on GABPA ChIP-seq peaks) with explain outputs.
//! let html = omix_report::render_report(Path::new("tests/fixtures/gabpa_small"))?;
//! assert!(html.contains("<section id=\"roc\" class=\"report-section\">"));
//! // `write_report` would write the same page to tests/fixtures/gabpa_small/report.html.
//! # Ok::<(), omix_report::ReportError>(())
//! ```

mod html;
mod plot;
mod predictions;
mod section;

use std::path::{Path, PathBuf};

/// Why a report could not be made: the run folder's reading errors, each naming the file at fault.
pub type ReportError = omix_run::RunError;

/// The file name of the report inside the run folder.
pub const REPORT_FILE: &str = omix_run::files::REPORT;

/// Renders the report of the run folder `run_dir` as one self-contained HTML page.
pub fn render_report(run_dir: &Path) -> Result<String, ReportError> {
    let folder = omix_run::RunDir::new(run_dir);
    if let Some(ensemble) = folder.ensemble()? {
        let sections = section::ensemble::sections(&folder, &ensemble)?;
        let name = run_dir.file_name().map_or_else(|| run_dir.display().to_string(), |n| n.to_string_lossy().into());
        let title = format!("omix ensemble report: {name}");
        let subtitle = format!(
            "{} {} · combined by {}",
            ensemble.members.len(),
            ensemble.members_are.name(),
            ensemble.combine.name()
        );
        return Ok(html::page(&title, &html::escape(&subtitle), &sections));
    }
    let run = omix_run::view::RunView::load(run_dir)?;
    if run.is_profile() {
        let sections = section::profile_sections(&run)?;
        let title = format!("omix run report: {}", run.name);
        let subtitle = if run.is_chrombpnet() {
            "base-resolution profiles · ChromBPNet (a frozen bias model under a bias-corrected TF model)"
        } else {
            "base-resolution profiles · BPNet"
        };
        return Ok(html::page(&title, &html::escape(subtitle), &sections));
    }
    let sections = section::all(&run)?;
    let title = format!("omix run report: {}", run.name);
    let mut subtitle = run.task().describe();
    if let Some(kind) = run.model_kind() {
        subtitle = format!("{subtitle} · model {kind}");
    }
    if let Some(input) = run.input_kind() {
        subtitle = format!("{subtitle} · {input} input");
    }
    Ok(html::page(&title, &html::escape(&subtitle), &sections))
}

/// Renders the report and writes it atomically to `RUN/report.html`; returns that path.
pub fn write_report(run_dir: &Path) -> Result<PathBuf, ReportError> {
    let page = render_report(run_dir)?;
    let path = run_dir.join(REPORT_FILE);
    omix_io::write_atomically(&path, |out| out.write_all(page.as_bytes()))?;
    Ok(path)
}
