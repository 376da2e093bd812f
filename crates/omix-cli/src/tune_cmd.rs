//! `omix tune`: trials over a search space, chosen on the validation split
//! ([`omix_train::tune`]); `omix ensemble`: folds or seeds merged into one run
//! ([`omix_train::ensemble`]).

use anyhow::Result;
use burn::prelude::*;
use omix_config::SearchSpace;

use crate::cli::{CombineChoice, EnsembleArgs, TuneArgs};
use crate::progress::Terminal;

/// `omix tune CONFIG --space SPACE -o DIR [--trial I]`.
pub fn tune(args: TuneArgs, device: &Device) -> Result<()> {
    let space = SearchSpace::load(&args.space)?;
    let outcome =
        omix_train::tune::tune(&args.config, &space, &args.out, args.trial, device, &mut Terminal::new(true))?;
    let arrow = if outcome.higher_is_better { "higher is better" } else { "lower is better" };
    for trial in &outcome.trials {
        eprintln!(
            "trial {:>3}  validation {} {:.4}  {}{}",
            trial.trial,
            outcome.metric,
            trial.validation,
            trial.settings.join(" "),
            if trial.trained { "" } else { "  (reused)" }
        );
    }
    if outcome.trials.len() < outcome.total {
        eprintln!(
            "{} of {} trials in this call; run omix tune without --trial once every trial is done for the choice",
            outcome.trials.len(),
            outcome.total
        );
        return Ok(());
    }
    let Some(best) = outcome.best.map(|i| &outcome.trials[i]) else {
        anyhow::bail!("no trial has a validation {}; nothing to choose", outcome.metric);
    };
    eprintln!(
        "chosen on validation {} ({arrow}): trial {} ({}), {:.4}, run folder {}",
        outcome.metric,
        best.trial,
        best.settings.join(" "),
        best.validation,
        best.folder.display()
    );
    if let Some(test) = best.metrics.get("test") {
        eprintln!("its test split (reported, not used to choose): {}", test.summary());
    }
    eprintln!("table: {}", args.out.join(omix_train::tune::TRIALS_TSV).display());
    Ok(())
}

/// `omix ensemble RUN... -o OUT [--combine mean-probability|mean-logit]`.
pub fn ensemble(args: EnsembleArgs, device: &Device) -> Result<()> {
    let options = omix_train::ensemble::EnsembleOptions {
        combine: match args.combine {
            CombineChoice::MeanProbability => omix_run::Combine::MeanProbability,
            CombineChoice::MeanLogit => omix_run::Combine::MeanLogit,
        },
        force: args.force,
    };
    let out = omix_run::RunDir::new(&args.out);
    let metrics = omix_train::ensemble::build_ensemble(&args.runs, &out, options, device, &mut Terminal::new(false))?;
    for member in &metrics.members {
        let which = member.fold.map_or_else(|| format!("seed {}", member.seed), |fold| fold.to_string());
        println!("{:<12} test {}  ({})", which, member.test.summary(), member.run);
    }
    let headline = omix_run::lineage::is_headline_metric;
    for (name, spread) in metrics.member_mean.iter().filter(|(name, _)| headline(name)) {
        println!("{:<12} {name} {:.4} ± {:.4} (mean ± sd over {} members)", "", spread.mean, spread.sd, spread.n);
    }
    if let Some(pooled) = &metrics.pooled_out_of_fold {
        println!("{:<12} {}", "out-of-fold", pooled.summary());
    }
    if let Some(test) = &metrics.ensemble_test {
        println!("{:<12} {}", "ensemble", test.summary());
    }
    for note in &metrics.notes {
        eprintln!("note: {note}");
    }
    eprintln!("ensemble of {} {} written to {}", metrics.members.len(), metrics.members_are.name(), args.out.display());
    Ok(())
}
