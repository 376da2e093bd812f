//! Variant effects of profile runs (BPNet, ChromBPNet): a [`ProfileRun`] as variant scoring's
//! [`WindowScorer`].
//!
//! Each REF and ALT window (the run's `input_length`, the variant centred by
//! [`omix_variants::variant_windows`]) is one-hot encoded and predicted; for a ChromBPNet run the
//! prediction is **bias-corrected** (the TF model alone, as chrombpnet scores variants with its
//! `chrombpnet_nobias` model). Unless turned off, each window's reverse complement is predicted
//! too and the two are averaged. Per variant and task the scorer reports
//! [`PROFILE_COLUMNS`]: REF and ALT log counts, `logfc` (log2 fold change of the count), its
//! absolute value, `jsd` (base-2 Jensen–Shannon distance of the REF and ALT profiles) and
//! `abs_logfc × jsd`; [`omix_variants::profile_effects`] documents the conventions (those of
//! kundajelab/variant-scorer).
//!
//! ```no_run
//! use burn::prelude::*;
//! use omix_run::RunDir;
//! use omix_train::profile_scorer::ProfileScorer;
//! use omix_variants::WindowScorer;
//!
//! let scorer = ProfileScorer::new(&RunDir::new("runs/bpnet"), &Device::flex())?;
//! let length = scorer.window_length();
//! let reference = vec![b'A'; length];
//! let mut alternative = reference.clone();
//! alternative[length / 2] = b'G';
//! // Per task: ref_log_count, alt_log_count, logfc, abs_logfc, jsd, abs_logfc_x_jsd.
//! let effects = scorer.effects(&[reference, alternative])?;
//! println!("logFC {} JSD {}", effects[2], effects[4]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use burn::prelude::*;
use omix_encode::{Alphabet, Ambiguity, Encoder};
use omix_run::RunDir;
use omix_variants::{
    EffectColumn, PROFILE_COLUMNS, ProfileLayout, ProfilePrediction, WindowLocus, WindowScorer, profile_effects,
};

use crate::error::TrainError;
use crate::profile::ProfileRun;

/// Windows per forward pass, reverse complements included: enough to keep the threads busy, few
/// enough that a 2114-base BPNet's activations stay small.
const WINDOWS_PER_FORWARD: usize = 64;

/// A profile run's model, ready to score variants.
pub struct ProfileScorer {
    run: ProfileRun,
    device: Device,
    encoder: Encoder,
    average_strands: bool,
    folder: PathBuf,
}

impl ProfileScorer {
    /// Load a profile run folder's model (and a ChromBPNet's bias model, which scoring leaves out).
    pub fn new(run: &RunDir, device: &Device) -> Result<Self, TrainError> {
        Ok(Self::from_run(ProfileRun::load(run, device)?, run.root(), device))
    }

    /// A scorer of an already loaded run (`folder` names it in messages). Both strands are averaged
    /// until [`set_average_strands`](Self::set_average_strands) says otherwise.
    pub fn from_run(run: ProfileRun, folder: &Path, device: &Device) -> Self {
        ProfileScorer {
            run,
            device: device.clone(),
            encoder: Encoder::new(Alphabet::Dna, Ambiguity::Zero),
            average_strands: true,
            folder: folder.to_path_buf(),
        }
    }

    /// Average each window's prediction with its reverse complement's (the default) or not.
    pub fn set_average_strands(&mut self, average: bool) {
        self.average_strands = average;
    }

    /// The shape of one window's prediction.
    pub fn layout(&self) -> ProfileLayout {
        let shape = self.run.shape;
        ProfileLayout { tasks: shape.tasks, strands: shape.strands, length: shape.output_length }
    }

    /// The (bias-corrected) prediction of each window of `input_length` bases, averaged with its
    /// reverse complement's when set; other lengths and symbols other than A, C, G, T, N are an
    /// error naming the window.
    ///
    /// A model that reads control tracks needs each window's place on the genome, `loci` (the
    /// controls are read there, and reverse-complemented with the window).
    pub fn predict(
        &self,
        windows: &[Vec<u8>],
        loci: Option<&[WindowLocus<'_>]>,
    ) -> Result<Vec<ProfilePrediction>, TrainError> {
        let input = self.run.shape.input_length;
        let loci = match loci {
            Some(loci) if loci.len() != windows.len() => {
                return Err(TrainError::Backend(format!("{} loci for {} windows", loci.len(), windows.len())));
            }
            None if self.run.control.is_some() => {
                return Err(TrainError::Run {
                    path: self.folder.clone(),
                    message: "the model reads control tracks, so it scores windows at known genome positions only"
                        .into(),
                });
            }
            loci => loci,
        };
        let block = 4 * input;
        let layout = self.layout();
        let copies = if self.average_strands { 2 } else { 1 };
        let per_pass = WINDOWS_PER_FORWARD / copies;
        let mut predictions = Vec::with_capacity(windows.len());
        for (chunk_index, chunk) in windows.chunks(per_pass).enumerate() {
            let first = chunk_index * per_pass;
            // The forward windows, then (averaging) their reverse complements in the same order.
            let mut one_hot = vec![0f32; chunk.len() * copies * block];
            for (k, window) in chunk.iter().enumerate() {
                if window.len() != input {
                    return Err(
                        self.window_error(first + k, format!("it has {} bases; the model reads {input}", window.len()))
                    );
                }
                let forward = &mut one_hot[k * block..(k + 1) * block];
                self.encoder.encode_into(window, forward).map_err(|error| self.window_error(first + k, error))?;
            }
            if self.average_strands {
                // With channels A, C, G, T the reverse complement is the whole block reversed.
                let (forward, reverse) = one_hot.split_at_mut(chunk.len() * block);
                for (f, r) in forward.chunks(block).zip(reverse.chunks_mut(block)) {
                    r.iter_mut().zip(f.iter().rev()).for_each(|(r, &f)| *r = f);
                }
            }
            let windows_in_pass = chunk.len() * copies;
            let control = match loci {
                Some(loci) if self.run.control.is_some() => {
                    let places: Vec<(&str, i64)> =
                        loci[first..first + chunk.len()].iter().map(|l| (l.chrom, l.start)).collect();
                    let mut values = self.run.control_at(&places, false)?.unwrap_or_default();
                    if self.average_strands {
                        values.extend(self.run.control_at(&places, true)?.unwrap_or_default());
                    }
                    Some(values)
                }
                _ => None,
            };
            let (logits, log_counts) =
                self.run.forward_one_hot(one_hot, control.as_deref(), windows_in_pass, false, &self.device)?;
            let (per_logits, tasks) = (layout.logits(), layout.tasks);
            if logits.len() != windows_in_pass * per_logits || log_counts.len() != windows_in_pass * tasks {
                return Err(TrainError::Backend(format!(
                    "the profile model gave {} logits and {} log counts for {windows_in_pass} windows, not {} and {}",
                    logits.len(),
                    log_counts.len(),
                    windows_in_pass * per_logits,
                    windows_in_pass * tasks
                )));
            }
            let at = |k: usize| {
                ProfilePrediction::new(
                    &logits[k * per_logits..(k + 1) * per_logits],
                    &log_counts[k * tasks..(k + 1) * tasks],
                )
            };
            for k in 0..chunk.len() {
                let forward = at(k);
                predictions.push(if self.average_strands {
                    forward.strand_average(&at(chunk.len() + k), layout).map_err(TrainError::Backend)?
                } else {
                    forward
                });
            }
        }
        Ok(predictions)
    }

    /// An error about the window at `index` of those given.
    fn window_error(&self, index: usize, what: impl std::fmt::Display) -> TrainError {
        TrainError::Run { path: self.folder.clone(), message: format!("sequence {index}: {what}") }
    }
}

impl WindowScorer for ProfileScorer {
    fn window_length(&self) -> usize {
        self.run.shape.input_length
    }

    /// The task names (one set of effects per task, over its strands).
    fn output_names(&self) -> Vec<String> {
        self.run.config.tracks.tasks.iter().map(|task| task.name.clone()).collect()
    }

    /// Each window's predicted log counts, per task.
    fn score(&self, windows: &[Vec<u8>]) -> Result<Vec<f64>, String> {
        let predictions = self.predict(windows, None).map_err(|error| error.to_string())?;
        Ok(predictions.into_iter().flat_map(|p| p.log_counts).collect())
    }

    fn score_at(&self, windows: &[Vec<u8>], loci: &[WindowLocus<'_>]) -> Result<Vec<f64>, String> {
        let predictions = self.predict(windows, Some(loci)).map_err(|error| error.to_string())?;
        Ok(predictions.into_iter().flat_map(|p| p.log_counts).collect())
    }

    fn averages_strands(&self) -> bool {
        self.average_strands
    }

    fn identity(&self) -> String {
        format!(
            "run={} profile{} strands={}",
            self.folder.display(),
            if self.run.bias.is_some() { " bias-corrected" } else { "" },
            self.average_strands
        )
    }

    fn effect_columns(&self) -> &'static [EffectColumn] {
        &PROFILE_COLUMNS
    }

    fn effects(&self, windows: &[Vec<u8>]) -> Result<Vec<f64>, String> {
        self.effects_of(windows, None)
    }

    fn effects_at(&self, windows: &[Vec<u8>], loci: &[WindowLocus<'_>]) -> Result<Vec<f64>, String> {
        self.effects_of(windows, Some(loci))
    }
}

impl ProfileScorer {
    /// chrombpnet's variant scores of REF/ALT window pairs (see [`PROFILE_COLUMNS`]).
    fn effects_of(&self, windows: &[Vec<u8>], loci: Option<&[WindowLocus<'_>]>) -> Result<Vec<f64>, String> {
        if !windows.len().is_multiple_of(2) {
            return Err(format!("{} windows are not REF/ALT pairs", windows.len()));
        }
        let predictions = self.predict(windows, loci).map_err(|error| error.to_string())?;
        let layout = self.layout();
        let mut values = Vec::with_capacity(windows.len() / 2 * layout.tasks * PROFILE_COLUMNS.len());
        for pair in predictions.chunks_exact(2) {
            profile_effects(layout, &pair[0], &pair[1], &mut values)?;
        }
        Ok(values)
    }
}
