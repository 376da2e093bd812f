//! `omix motifs` and `omix explain --discover-motifs`: motif discovery from attribution files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};
use omix_explain::{MotifSettings, discover_motifs_from_files, motif_database};
use omix_run::{RunDir, files};

use crate::cli::{DistanceChoice, MotifsArgs, ScoringChoice};
use crate::progress::Terminal;

/// The comparison options of the command line.
pub fn compare_options(scoring: ScoringChoice, distance: DistanceChoice) -> omix_motif::CompareOptions {
    omix_motif::CompareOptions {
        scoring: match scoring {
            ScoringChoice::Complete => omix_motif::Scoring::Complete,
            ScoringChoice::Incomplete => omix_motif::Scoring::Incomplete,
        },
        similarity: match distance {
            DistanceChoice::Pearson => omix_motif::Similarity::Pearson,
            DistanceChoice::Euclidean => omix_motif::Similarity::Euclidean,
        },
        ..omix_motif::CompareOptions::default()
    }
}

/// JASPAR 2024 and every `--motif-db` file.
fn database(extra: &[PathBuf]) -> Result<(omix_motif::MotifSet, String)> {
    let mut paths = vec![PathBuf::from("jaspar")];
    paths.extend(extra.iter().filter(|p| p.as_os_str() != "jaspar").cloned());
    Ok(motif_database(&paths)?)
}

/// `omix motifs`.
pub fn motifs(args: MotifsArgs) -> Result<()> {
    if !(args.target_fdr > 0.0 && args.target_fdr <= 1.0) {
        bail!("--target-fdr {}: must be above 0 and at most 1", args.target_fdr);
    }
    if !(args.max_evalue.is_finite() && args.max_evalue >= 0.0) {
        bail!("--max-evalue {}: must be a number of at least 0", args.max_evalue);
    }
    if !(args.min_similarity.is_finite() && args.min_similarity <= 1.0) {
        bail!("--min-similarity {}: must be a number of at most 1", args.min_similarity);
    }
    if !(0.0..=1.0).contains(&args.trim_threshold) {
        bail!("--trim-threshold {}: must be between 0 and 1", args.trim_threshold);
    }
    if args.seqlet_window == 0 {
        bail!("--seqlet-window 0: a window needs at least 1 position");
    }
    let explain_dir = args.run.as_ref().map(|run| RunDir::new(run).path(files::EXPLAIN_DIR));
    let in_run = |given: &Option<PathBuf>, defaults: &[&str]| -> Result<PathBuf> {
        match (given, &explain_dir) {
            (Some(path), Some(dir)) if path.components().count() == 1 && !path.exists() => Ok(dir.join(path)),
            (Some(path), _) => Ok(path.clone()),
            (None, Some(dir)) => {
                let found = defaults.iter().map(|name| dir.join(name)).find(|p| p.is_file());
                found.ok_or_else(|| {
                    anyhow::anyhow!(
                        "{} holds no {}; run `omix explain {} --method deeplift-shap` first, or give the file",
                        dir.display(),
                        defaults.join(" or "),
                        args.run.as_deref().unwrap_or(Path::new("RUN")).display()
                    )
                })
            }
            (None, None) => bail!("give RUN_DIR, or --ohe and --shap"),
        }
    };
    let ohe = in_run(&args.ohe, &[files::OHE_NPZ])?;
    let shap = in_run(&args.shap, &[files::SHAP_NPZ, "counts_shap.npz", "profile_shap.npz"])?;
    let out = match (&args.out, &explain_dir) {
        (Some(out), _) => out.clone(),
        (None, Some(dir)) => dir.clone(),
        (None, None) => bail!("--out DIR is needed without RUN_DIR"),
    };
    let (database, database_label) = database(&args.motif_db)?;
    let mut settings = MotifSettings::new(database, database_label);
    settings.compare = compare_options(args.motif_scoring, args.motif_distance);
    settings.max_e_value = args.max_evalue;
    let discovery = &mut settings.discovery;
    discovery.seqlets.target_fdr = args.target_fdr;
    discovery.seqlets.seed = args.seed;
    discovery.seqlets.negative = !args.no_negative;
    discovery.patterns.min_seqlets = args.min_seqlets;
    discovery.patterns.max_patterns = args.max_patterns;
    discovery.patterns.min_similarity = args.min_similarity;
    discovery.patterns.window = args.seqlet_window;
    discovery.patterns.trim_threshold = args.trim_threshold;
    let started = Instant::now();
    let control = match (&args.control_ohe, &args.control_shap) {
        (Some(ohe), Some(shap)) => Some((ohe.as_path(), shap.as_path())),
        (None, None) => None,
        _ => bail!("--control-ohe and --control-shap go together"),
    };
    discover_motifs_from_files(&ohe, &shap, control, args.window, &settings, &out, &mut Terminal::new(false))?;
    eprintln!("motifs written to {} ({:.1}s)", out.display(), started.elapsed().as_secs_f64());
    if let Some(run) = &args.run
        && !args.no_report
        && args.out.is_none()
    {
        let path = omix_report::write_report(run)?;
        eprintln!("report: {}", path.display());
    }
    Ok(())
}

/// `omix explain --discover-motifs`: motifs from the attributions explain just wrote into `out`.
pub fn after_explain(
    out: &Path,
    motif_db: &[PathBuf],
    compare: omix_motif::CompareOptions,
    max_e_value: f64,
) -> Result<()> {
    let shap = [files::SHAP_NPZ, "counts_shap.npz", "profile_shap.npz"]
        .iter()
        .map(|name| out.join(name))
        .find(|p| p.is_file());
    let Some(shap) = shap else {
        bail!("--discover-motifs needs DeepLIFT/SHAP attributions: add --method deeplift-shap");
    };
    let (database, database_label) = database(motif_db)?;
    let mut settings = MotifSettings::new(database, database_label);
    settings.compare = compare;
    settings.max_e_value = max_e_value;
    discover_motifs_from_files(
        &out.join(files::OHE_NPZ),
        &shap,
        None,
        None,
        &settings,
        out,
        &mut Terminal::new(false),
    )?;
    Ok(())
}
