//! `omix tune`: trials over a search space, chosen on the validation split
//! ([`omix_train::tune`]).

use anyhow::Result;
use burn::prelude::*;
use omix_config::SearchSpace;

use crate::cli::TuneArgs;
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
