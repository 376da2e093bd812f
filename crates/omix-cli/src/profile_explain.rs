//! `omix explain` on a profile run (BPNet; ChromBPNet's bias-corrected TF model): the count and
//! profile heads, gradient × input and DeepLIFT/SHAP, written for TF-MoDISco.

use std::time::Instant;

use anyhow::{Result, bail};
use burn::prelude::*;
use omix_explain::{IgBaseline, ProfileExplainSettings, ProfileHead, ProfileMethod, ProfileRegions};
use omix_run::RunDir;

use crate::cli::{BaselineChoice, ExplainArgs, HeadChoice, MethodChoice};
use crate::progress::Terminal;

/// The settings `args` ask of a profile run, or why they cannot apply to one.
fn settings(args: &ExplainArgs) -> Result<ProfileExplainSettings> {
    let input = &args.input;
    if input.labels.is_some()
        || !input.classes.is_empty()
        || input.seq_column.is_some()
        || input.label_column.is_some()
        || input.id_column.is_some()
        || input.format.is_some()
        || input.length_policy.is_some()
    {
        bail!(
            "{}: a profile run explains genomic windows of its reference: give --input REGIONS.bed (windows centred on each \
             interval, or on its narrowPeak summit); --labels, --class, the column flags, --format and --length-policy do \
             not apply",
            args.run.display()
        );
    }
    if !args.motif_db.is_empty() || args.naive_ism > 0 {
        bail!(
            "--motif-db and --naive-ism apply to classifier runs; a profile run's explain writes attributions for TF-MoDISco"
        );
    }
    let mut methods = Vec::new();
    for choice in &args.methods {
        let method = match choice {
            MethodChoice::GradientXInput => ProfileMethod::GradientXInput,
            MethodChoice::DeepliftShap => ProfileMethod::DeepLiftShap,
            MethodChoice::Ism => ProfileMethod::Ism,
            other => bail!(
                "--method {}: a profile run is explained by gradient-x-input, deeplift-shap and ism",
                clap::ValueEnum::to_possible_value(other).map(|v| v.get_name().to_string()).unwrap_or_default()
            ),
        };
        if !methods.contains(&method) {
            methods.push(method);
        }
    }
    if methods.is_empty() {
        methods = ProfileMethod::DEFAULT.to_vec();
    }
    let mut heads = Vec::new();
    for choice in &args.heads {
        let head = match choice {
            HeadChoice::Counts => ProfileHead::Counts,
            HeadChoice::Profile => ProfileHead::Profile,
        };
        if !heads.contains(&head) {
            heads.push(head);
        }
    }
    if heads.is_empty() {
        heads = ProfileHead::ALL.to_vec();
    }
    if args.shap_references == 0 {
        bail!("--shap-references 0: DeepLIFT/SHAP needs at least one reference per window");
    }
    Ok(ProfileExplainSettings {
        methods,
        heads,
        task: args.output.clone(),
        limit: args.max_sequences,
        shap_references: args.shap_references,
        shap_baseline: match args.shap_baseline {
            BaselineChoice::Zeros => IgBaseline::Zeros,
            BaselineChoice::Shuffled => IgBaseline::Shuffled,
            BaselineChoice::Uniform => IgBaseline::Uniform,
        },
        seed: args.seed,
        batch_size: args.batch_size.max(1),
        top_tracks: args.top,
        save_references: args.save_references,
        profile_float64: true,
    })
}

/// Explain a profile run: its held-out peaks (or `--input REGIONS.bed`), both heads by default.
pub fn explain_profile(args: &ExplainArgs, run: &RunDir, device: &Device) -> Result<()> {
    let settings = settings(args)?;
    let regions = match &args.input.input {
        Some(path) => ProfileRegions::Bed(path.clone()),
        None => ProfileRegions::HeldOutPeaks,
    };
    let out = args.out.clone().unwrap_or_else(|| run.path("explain"));
    let started = Instant::now();
    let outcome = omix_explain::explain_profile_run(run, &regions, &settings, &out, device, &mut Terminal::new(false))?;
    eprintln!(
        "explanations of {} windows written to {} ({:.1}s): {}",
        outcome.windows.len(),
        out.display(),
        started.elapsed().as_secs_f64(),
        outcome.summary.files.join(", ")
    );
    for head in &outcome.summary.heads {
        if let Some(file) = &head.shap_file {
            eprintln!(
                "  TF-MoDISco on the {} head: modisco motifs -s {} -a {} -n 2000 -o {}_modisco.h5",
                head.head,
                out.join("ohe.npz").display(),
                out.join(file).display(),
                head.head
            );
        }
    }
    if !args.no_report && args.out.is_none() {
        match omix_report::write_report(run.root()) {
            Ok(path) => eprintln!("report: {}", path.display()),
            Err(error) => eprintln!("report not written: {error}"),
        }
    }
    Ok(())
}
