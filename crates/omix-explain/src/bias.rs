//! The check chrombpnet asks of a bias model: that it learned the enzyme's sequence preference and
//! not the TF motifs of the peaks. Its first-layer filters become motifs (from the background windows
//! where each fires, as `omix explain` does for any CNN) and are matched against JASPAR; the results
//! go into the bias model's folder (`filters.tsv`, `matches.tsv`, `filters.meme`, `logos/`).

use burn::prelude::*;
use omix_data::profile::ProfileData;
use omix_genome::SplitName;
use omix_run::explain::FilterMotif;
use omix_run::{Observer, RunDir};
use omix_train::profile::{BIAS_FOLDER, ProfileRun};

use crate::interpret::filter_motifs;
use crate::{ExplainError, ExplainOptions, InterpretSettings, filter_sites};

/// Background sequences (training split first) whose windows make the bias model's filter motifs.
pub const BIAS_FILTER_SEQUENCES: usize = 2000;

/// A ChromBPNet run's bias-model filters as motifs with their best JASPAR 2024 matches, written into
/// `RUN/bias/`; best matches first. An error when the run has no bias model.
pub fn bias_filters(
    run: &RunDir,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<Vec<FilterMotif>, ExplainError> {
    let profile = ProfileRun::load(run, device)?;
    let bias = profile.bias.as_ref().ok_or_else(|| {
        ExplainError::Invalid(format!("{} has no bias model (no [bias] table in its config)", run.root().display()))
    })?;
    let layer = bias
        .first_layer()
        .ok_or_else(|| ExplainError::Invalid("the bias model's first convolution cannot be read back".into()))?;
    let mut log = |line: &str| observer.message(line);
    let data = ProfileData::load(&profile.config.tracks, profile.config.seed, &mut log)?;
    let mut chosen = Vec::new();
    for split in [SplitName::Train, SplitName::Validation, SplitName::Test] {
        chosen.extend(data.indices(split).into_iter().filter(|&i| !data.regions[i].peak));
    }
    chosen.truncate(BIAS_FILTER_SEQUENCES);
    if chosen.is_empty() {
        return Err(ExplainError::Invalid("no background region to read the bias model's filters on".into()));
    }
    let mut one_hot = Vec::with_capacity(chosen.len() * 4 * data.input_length);
    for chunk in chosen.chunks(256) {
        one_hot.extend(data.batch(chunk, &[], &[])?.one_hot);
    }
    let sites = filter_sites(&layer, &one_hot, data.input_length, 0.5);
    let (database, label) = crate::motif_database(&[])?;
    let settings = InterpretSettings::new(ExplainOptions::default(), database, label);
    let out = run.path(BIAS_FOLDER);
    std::fs::create_dir_all(out.join("logos")).map_err(|error| ExplainError::Write {
        path: out.clone(),
        message: format!("cannot create logos/: {error}"),
    })?;
    filter_motifs(&sites, &settings, "ACGT", &out)
}
