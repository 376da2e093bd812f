//! Base-resolution profile data (`[tracks]`): peaks (summit-centred) and optional GC-matched
//! background regions on a reference, split by chromosome; per-base read counts of each task's
//! strands read from bigWig or bedGraph tracks. Nothing per region is held beyond its coordinates:
//! every batch fetches its windows from the reference and the tracks when it is built (on the
//! loader threads), so memory is bounded by the batch queue, not by the number of peaks.
//!
//! ```toml
//! [tracks]
//! reference = "genome.fa"
//! peaks = "peaks.narrowPeak"          # BED or narrowPeak; column 10 (summit offset) centres the window
//! input_length = 2114                 # bases the model reads
//! output_length = 1000                # bases it predicts, centred
//! jitter = 128                        # training windows shifted by up to ±jitter
//! reverse_complement = true           # training windows reverse-complemented half the time
//! background = 0                      # GC-matched non-peak regions per peak
//! validation_chromosomes = ["chr2"]
//! test_chromosomes = ["chr1"]
//! [[tracks.task]]
//! name = "chip"
//! plus = "counts.plus.bw"             # or `unstranded = "counts.bw"`
//! minus = "counts.minus.bw"
//! control = ["input.plus.bw", "input.minus.bw"]   # optional: plus and minus, or one unstranded track
//! ```
//!
//! Control tracks (a ChIP input, IgG or PATCH-CAP experiment) are read over the whole input window,
//! reverse-complemented with it (positions reversed, strands swapped), and given to the model beside
//! the sequence (see `omix_models::Bpnet`). Every task has one or none does, with as many strands.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use omix_encode::{Alphabet, Ambiguity, Encoder};
use omix_genome::{
    ChromosomeSplit, Reference, SplitName, Window, cross_split_overlaps, gc_matched_background, read_bed,
};
use omix_tracks::{ChromSizes, Track};
use serde::{Deserialize, Serialize};

use crate::error::DataError;

fn default_input_length() -> usize {
    2114
}
fn default_output_length() -> usize {
    1000
}
fn default_jitter() -> usize {
    128
}
fn default_true() -> bool {
    true
}
fn default_outlier_quantile() -> f64 {
    0.9999
}
fn default_max_n() -> f64 {
    0.1
}

/// One task: an experiment's read counts on one or two strands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskTracks {
    /// The task's name.
    pub name: String,
    /// Plus-strand counts (with `minus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plus: Option<PathBuf>,
    /// Minus-strand counts (with `plus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minus: Option<PathBuf>,
    /// Both strands' counts in one track (ATAC, DNase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unstranded: Option<PathBuf>,
    /// Control tracks: plus then minus, or one unstranded track (empty: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control: Vec<PathBuf>,
}

impl TaskTracks {
    /// The task's track files, plus then minus, or the one unstranded track.
    pub fn files(&self) -> Vec<&Path> {
        match (&self.plus, &self.minus, &self.unstranded) {
            (Some(plus), Some(minus), None) => vec![plus.as_path(), minus.as_path()],
            (None, None, Some(one)) => vec![one.as_path()],
            _ => Vec::new(),
        }
    }
}

/// The `[tracks]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileDataConfig {
    /// The reference FASTA.
    pub reference: PathBuf,
    /// Peaks (BED or narrowPeak).
    pub peaks: PathBuf,
    /// Bases the model reads.
    #[serde(default = "default_input_length")]
    pub input_length: usize,
    /// Bases it predicts (centred in the input).
    #[serde(default = "default_output_length")]
    pub output_length: usize,
    /// Training windows are shifted by a uniform draw in ±jitter.
    #[serde(default = "default_jitter")]
    pub jitter: usize,
    /// Training windows are reverse-complemented (profiles reversed, strands swapped) half the time.
    #[serde(default = "default_true")]
    pub reverse_complement: bool,
    /// GC-matched background regions per peak (0: peaks only).
    #[serde(default)]
    pub background: usize,
    /// Peaks whose total count lies above this quantile of all peaks' are dropped (and counted).
    #[serde(default = "default_outlier_quantile")]
    pub outlier_quantile: f64,
    /// Contigs held out for validation (default chr6, chr7 for human-like names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_chromosomes: Option<Vec<String>>,
    /// Contigs held out for test (default chr8, chr9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_chromosomes: Option<Vec<String>>,
    /// Chromosome folds, as chrombpnet's (and `[data.genome] folds`): each fold holds out its own
    /// validation and test contigs (`{ validation = ["chr1"], test = ["chr2"] }`); `omix train
    /// --fold I` trains fold I (`fold`). Instead of `validation_chromosomes` / `test_chromosomes`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folds: Vec<ChromosomeSplit>,
    /// The fold of `folds` this experiment trains (1-based; `omix train --fold I` sets it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fold: Option<usize>,
    /// Background regions may hold at most this fraction of N.
    #[serde(default = "default_max_n")]
    pub max_n_fraction: f64,
    /// The tasks.
    #[serde(rename = "task")]
    pub tasks: Vec<TaskTracks>,
}

impl ProfileDataConfig {
    /// Make relative paths relative to `base` (the config file's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        crate::resolve_path(base, &mut self.reference);
        crate::resolve_path(base, &mut self.peaks);
        for task in &mut self.tasks {
            for path in [&mut task.plus, &mut task.minus, &mut task.unstranded].into_iter().flatten() {
                crate::resolve_path(base, path);
            }
            for path in &mut task.control {
                crate::resolve_path(base, path);
            }
        }
    }

    /// Strands per task (every task must have the same).
    pub fn strands(&self) -> usize {
        self.tasks.first().map_or(0, |t| t.files().len())
    }

    /// Control tracks per task (0: no controls; every task must have the same).
    pub fn control_strands(&self) -> usize {
        self.tasks.first().map_or(0, |t| t.control.len())
    }

    /// The held-out contigs of the trained fold, when the regions are folded by chromosome.
    pub fn chosen_fold(&self) -> Result<Option<ChromosomeSplit>, DataError> {
        if self.folds.is_empty() {
            return Ok(None);
        }
        crate::genome::chosen_fold(&self.folds, self.fold)
            .map(Some)
            .map_err(|message| DataError::Profile { field: "fold".into(), message })
    }

    /// The table without `fold`: the split definition every fold shares.
    pub fn without_fold(&self) -> ProfileDataConfig {
        ProfileDataConfig { fold: None, ..self.clone() }
    }

    /// One error per rule, naming the field.
    pub fn check(&self) -> Result<(), DataError> {
        let bad = |field: &str, message: String| Err(DataError::Profile { field: field.to_owned(), message });
        let fixed = self.validation_chromosomes.is_some() || self.test_chromosomes.is_some();
        if let Err(message) = crate::genome::check_chromosome_folds(&self.folds, fixed) {
            return bad("folds", message);
        }
        match (self.folds.len(), self.fold) {
            (0, Some(fold)) => {
                return bad(
                    "fold",
                    format!(
                        "fold = {fold} names a fold, but the regions are not folded: give folds = [{{ validation = [...], test = [...] }}, ...]"
                    ),
                );
            }
            (count, None) if count > 0 => {
                return bad(
                    "fold",
                    format!(
                        "the regions are split into {count} chromosome folds: train one with `omix train CONFIG --fold I` (I from 1 to {count}), or set fold = I in [tracks]"
                    ),
                );
            }
            _ => {}
        }
        self.chosen_fold()?;
        if self.tasks.is_empty() {
            return bad("task", "give at least one [[tracks.task]] with its track files".into());
        }
        for task in &self.tasks {
            if task.files().is_empty() {
                return bad(
                    "task",
                    format!(
                        "task {:?}: give `plus` and `minus` (stranded) or `unstranded`, not another combination",
                        task.name
                    ),
                );
            }
        }
        if self.tasks.iter().any(|t| t.files().len() != self.strands()) {
            return bad("task", "every task must have the same strands (all stranded or all unstranded)".into());
        }
        for task in &self.tasks {
            if task.control.len() > 2 {
                return bad(
                    "control",
                    format!(
                        "task {:?} lists {} control tracks; give plus and minus, or one unstranded track",
                        task.name,
                        task.control.len()
                    ),
                );
            }
            if task.control.len() != self.control_strands() {
                return bad(
                    "control",
                    format!(
                        "task {:?} has {} control tracks and task {:?} {}: every task needs a control with the same \
                         strands, or none does",
                        task.name,
                        task.control.len(),
                        self.tasks[0].name,
                        self.control_strands()
                    ),
                );
            }
        }
        let mut names: Vec<&str> = self.tasks.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return bad("task", "task names must differ".into());
        }
        if self.output_length == 0 || self.output_length > self.input_length {
            return bad("output_length", format!("must be between 1 and input_length ({})", self.input_length));
        }
        if !(0.5..=1.0).contains(&self.outlier_quantile) {
            return bad("outlier_quantile", format!("must lie in [0.5, 1] (got {})", self.outlier_quantile));
        }
        if !(0.0..=1.0).contains(&self.max_n_fraction) {
            return bad("max_n_fraction", format!("must lie in [0, 1] (got {})", self.max_n_fraction));
        }
        Ok(())
    }
}

/// One region: a window centre on a contig, its split and whether it is a peak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRegion {
    /// The contig.
    pub chrom: String,
    /// 0-based centre base: the input window is `centre - input/2 .. centre + input/2 (+1 if odd)`.
    pub centre: u64,
    /// Its split (by chromosome).
    pub split: SplitName,
    /// A peak, or a background region.
    pub peak: bool,
}

/// What loading found, for the data report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileReport {
    /// The reference FASTA.
    pub reference: String,
    /// Intervals read from the peak file.
    pub peaks_read: usize,
    /// Peaks whose widest window (input plus jitter) runs off their contig (dropped).
    pub peaks_at_edges: usize,
    /// Peaks dropped as count outliers, and the count above which they were.
    pub outliers: usize,
    /// The total count above which a peak is an outlier.
    pub outlier_threshold: f64,
    /// Background regions asked for.
    pub background_requested: usize,
    /// Background regions found.
    pub background_found: usize,
    /// Regions per split: train, validation, test (peaks, background).
    pub peaks_per_split: [usize; 3],
    /// Background regions per split: train, validation, test.
    pub background_per_split: [usize; 3],
    /// Median total count (all strands, all tasks) of the training peaks' output windows.
    pub median_peak_count: f64,
    /// Contigs held out for validation.
    pub validation_chromosomes: Vec<String>,
    /// Contigs held out for test.
    pub test_chromosomes: Vec<String>,
}

/// A batch: one-hot inputs and observed counts.
#[derive(Debug, Clone)]
pub struct ProfileBatch {
    /// `[batch, 4, input_length]`, channel-major per example.
    pub one_hot: Vec<f32>,
    /// `[batch, tasks × strands, output_length]`, task-major.
    pub counts: Vec<f32>,
    /// Control tracks `[batch, tasks × control strands, input_length]`, task-major, when the tasks
    /// have controls.
    pub control: Option<Vec<f32>>,
    /// Which examples are peaks (the others are background regions).
    pub peaks: Vec<bool>,
    /// Examples in the batch.
    pub size: usize,
}

/// A profile data set: regions, and the reference and tracks their windows are read from.
pub struct ProfileData {
    /// Peaks, then background regions.
    pub regions: Vec<ProfileRegion>,
    /// What loading found.
    pub report: ProfileReport,
    /// Bases the model reads.
    pub input_length: usize,
    /// Bases it predicts.
    pub output_length: usize,
    /// Task names.
    pub tasks: Vec<String>,
    /// Strands per task.
    pub strands: usize,
    jitter: usize,
    reverse_complement: bool,
    reference: Reference,
    /// Every task's tracks in task-major order (task 0 plus, task 0 minus, task 1 …).
    tracks: Vec<Mutex<Track>>,
    /// The tasks' control tracks, when they have them.
    control: Option<ControlTracks>,
    encoder: Encoder,
    /// Each region's total count once read (peaks at load, for the outlier rule; background
    /// regions when first asked), so outliers, the bias model's regions and its loss weight read
    /// the tracks once.
    totals: Mutex<Vec<Option<f64>>>,
}

/// Every task's control tracks (task-major, plus then minus), read over input windows anywhere on
/// a contig: bases off either end read as zero.
pub struct ControlTracks {
    tracks: Vec<Mutex<Track>>,
    /// Control tracks per task.
    strands: usize,
    sizes: ChromSizes,
}

impl std::fmt::Debug for ControlTracks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlTracks").field("tracks", &self.tracks.len()).field("strands", &self.strands).finish()
    }
}

impl ControlTracks {
    /// The control tracks of `config`'s tasks, or `None` when the tasks have none. With `sizes` (the
    /// reference's contigs) every track is checked against them; without, the first track's own
    /// contigs are the ones windows may lie on.
    pub fn open(config: &ProfileDataConfig, sizes: Option<&ChromSizes>) -> Result<Option<ControlTracks>, DataError> {
        if config.control_strands() == 0 {
            return Ok(None);
        }
        let mut tracks = Vec::new();
        for task in &config.tasks {
            for path in &task.control {
                tracks.push(Track::open(path, sizes)?);
            }
        }
        let sizes = match sizes {
            Some(sizes) => sizes.clone(),
            None => ChromSizes::new(tracks[0].path(), tracks[0].contigs().iter().cloned())?,
        };
        let tracks = tracks.into_iter().map(Mutex::new).collect();
        Ok(Some(ControlTracks { tracks, strands: config.control_strands(), sizes }))
    }

    /// Control tracks in all (tasks × strands).
    pub fn len(&self) -> usize {
        self.tracks.len()
    }

    /// Whether there are none (never, for an opened set).
    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }

    /// Every control track's values over `chrom:start..start + length` into `out` (`[tracks,
    /// length]`), reversed and with each task's strands swapped when `flip` (a reverse-complemented
    /// window). Bases before the contig's start or past its end read as zero; a contig the tracks
    /// do not know is an error (never silently no control).
    pub fn read(&self, chrom: &str, start: i64, length: usize, flip: bool, out: &mut [f32]) -> Result<(), DataError> {
        debug_assert_eq!(out.len(), self.tracks.len() * length);
        let Some(index) = self.sizes.index_of(chrom) else {
            return Err(DataError::Profile {
                field: "control".into(),
                message: format!("{}: the control tracks have no contig {chrom}", self.sizes.source().display()),
            });
        };
        let contig_length = self.sizes.length(index) as i64;
        let from = start.clamp(0, contig_length);
        let to = (start + length as i64).clamp(0, contig_length);
        let offset = (from - start) as usize;
        let mut values = vec![0f32; (to - from) as usize];
        for (c, track) in self.tracks.iter().enumerate() {
            let target = if flip && self.strands == 2 { c ^ 1 } else { c };
            let row = &mut out[target * length..(target + 1) * length];
            row.fill(0.0);
            if !values.is_empty() {
                let mut track = track.lock().map_err(|_| poisoned())?;
                track.read(chrom, from as u64, to as u64, true, &mut values)?;
                row[offset..offset + values.len()].copy_from_slice(&values);
            }
            if flip {
                row.reverse();
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for ProfileData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileData").field("regions", &self.regions.len()).field("report", &self.report).finish()
    }
}

impl ProfileData {
    /// Read the reference, peaks and tracks of `config`: windows checked against the contigs, the split
    /// checked for overlaps, outliers dropped, background drawn with `seed`. `log` gets one line per step.
    pub fn load(config: &ProfileDataConfig, seed: u64, log: &mut dyn FnMut(&str)) -> Result<ProfileData, DataError> {
        config.check()?;
        let reference = Reference::open(&config.reference, log)?;
        let sizes = ChromSizes::of_reference(&reference);
        let mut tracks = Vec::new();
        for task in &config.tasks {
            for path in task.files() {
                tracks.push(Mutex::new(Track::open(path, Some(&sizes))?));
            }
        }
        let control = ControlTracks::open(config, Some(&sizes))?;
        let split = match (config.chosen_fold()?, &config.validation_chromosomes, &config.test_chromosomes) {
            (Some(fold), _, _) => fold,
            (None, Some(validation), Some(test)) => ChromosomeSplit::new(validation.clone(), test.clone())?,
            (None, _, _) => ChromosomeSplit::default_for(&reference).ok_or_else(|| DataError::Profile {
                field: "validation_chromosomes".into(),
                message: format!(
                    "{} has no chr6-chr9 to hold out by default: name validation_chromosomes and test_chromosomes",
                    config.reference.display()
                ),
            })?,
        };
        split.check_against(&reference, &config.peaks)?;

        let records = read_bed(&config.peaks)?;
        omix_genome::check_intervals(&config.peaks, &records, &reference)?;
        let half = (config.input_length / 2 + config.jitter) as u64;
        let mut report = ProfileReport {
            reference: config.reference.display().to_string(),
            peaks_read: records.len(),
            validation_chromosomes: split.validation.clone(),
            test_chromosomes: split.test.clone(),
            ..ProfileReport::default()
        };
        let mut peaks = Vec::new();
        for record in &records {
            // narrowPeak column 10 is the summit's offset from the start; -1 or absent: the middle.
            let (start, end) = crate::genome::summit_interval(record);
            let centre = start + (end - start) / 2;
            let length = reference.contig_length(&record.chrom).unwrap_or(0);
            if centre < half || centre + half > length {
                report.peaks_at_edges += 1;
                continue;
            }
            peaks.push(ProfileRegion {
                chrom: record.chrom.clone(),
                centre,
                split: split.split_of(&record.chrom),
                peak: true,
            });
        }
        if peaks.is_empty() {
            return Err(DataError::Profile {
                field: "peaks".into(),
                message: format!(
                    "{}: no peak leaves room for a {}-base window (plus jitter {}) inside its contig",
                    config.peaks.display(),
                    config.input_length,
                    config.jitter
                ),
            });
        }

        let mut data = ProfileData {
            regions: Vec::new(),
            report,
            input_length: config.input_length,
            output_length: config.output_length,
            tasks: config.tasks.iter().map(|t| t.name.clone()).collect(),
            strands: config.strands(),
            jitter: config.jitter,
            reverse_complement: config.reverse_complement,
            reference,
            tracks,
            control,
            encoder: Encoder::new(Alphabet::Dna, Ambiguity::Zero),
            totals: Mutex::new(Vec::new()),
        };

        // Outliers: totals of every peak's output window.
        let mut totals = Vec::with_capacity(peaks.len());
        for region in &peaks {
            totals.push(data.total(region)?);
        }
        let mut sorted = totals.clone();
        sorted.sort_by(f64::total_cmp);
        let threshold = quantile(&sorted, config.outlier_quantile);
        data.report.outlier_threshold = threshold;
        let mut kept = Vec::with_capacity(peaks.len());
        let mut kept_totals = Vec::with_capacity(peaks.len());
        let mut training_totals = Vec::new();
        for (region, total) in peaks.into_iter().zip(totals) {
            if total > threshold {
                data.report.outliers += 1;
                continue;
            }
            if region.split == SplitName::Train {
                training_totals.push(total);
            }
            kept.push(region);
            kept_totals.push(Some(total));
        }
        training_totals.sort_by(f64::total_cmp);
        data.report.median_peak_count = quantile(&training_totals, 0.5);

        // Background: GC-matched windows away from every peak.
        let mut background = Vec::new();
        if config.background > 0 {
            let windows: Vec<Window> = kept.iter().map(|r| data.window(r, config.input_length, 0)).collect();
            let contigs: Vec<String> = data.reference.contigs().iter().map(|c| c.name.clone()).collect();
            let drawn = gc_matched_background(
                &data.reference,
                &windows,
                config.background,
                &contigs,
                &windows,
                config.max_n_fraction,
                seed,
            )?;
            data.report.background_requested = drawn.requested;
            data.report.background_found = drawn.windows.len();
            for window in drawn.windows {
                let centre = (window.start + window.end) as u64 / 2;
                let length = data.reference.contig_length(&window.chrom).unwrap_or(0);
                if centre < half || centre + half > length {
                    continue;
                }
                let split = split.split_of(&window.chrom);
                background.push(ProfileRegion { chrom: window.chrom.clone(), centre, split, peak: false });
            }
        }
        kept_totals.resize(kept.len() + background.len(), None);
        data.totals = Mutex::new(kept_totals);
        data.regions = kept.into_iter().chain(background).collect();
        for region in &data.regions {
            let slot = match region.split {
                SplitName::Train => 0,
                SplitName::Validation => 1,
                SplitName::Test => 2,
            };
            if region.peak {
                data.report.peaks_per_split[slot] += 1;
            } else {
                data.report.background_per_split[slot] += 1;
            }
        }
        for (split, count) in
            [("training", data.report.peaks_per_split[0]), ("validation", data.report.peaks_per_split[1])]
        {
            if count == 0 {
                return Err(DataError::Profile {
                    field: if split == "training" {
                        "test_chromosomes".into()
                    } else {
                        "validation_chromosomes".into()
                    },
                    message: format!(
                        "no peak is on a {split} chromosome (validation {:?}, test {:?}); hold out other contigs",
                        data.report.validation_chromosomes, data.report.test_chromosomes
                    ),
                });
            }
        }
        // No base may reach two splits (windows widened by the jitter).
        let windows: Vec<(Window, SplitName)> = data
            .regions
            .iter()
            .map(|r| (data.window(r, config.input_length + 2 * config.jitter, 0), r.split))
            .collect();
        if let Some(&(a, b)) = cross_split_overlaps(&windows).first() {
            return Err(DataError::Profile {
                field: "validation_chromosomes".into(),
                message: format!(
                    "windows {}:{} and {}:{} overlap across splits",
                    data.regions[a].chrom, data.regions[a].centre, data.regions[b].chrom, data.regions[b].centre
                ),
            });
        }
        log(&format!(
            "profile data: {} peaks read, {} at contig edges, {} count outliers above {:.0} dropped; peaks train/validation/test {}/{}/{}, background {}/{}/{}; median training peak count {:.1}",
            data.report.peaks_read,
            data.report.peaks_at_edges,
            data.report.outliers,
            data.report.outlier_threshold,
            data.report.peaks_per_split[0],
            data.report.peaks_per_split[1],
            data.report.peaks_per_split[2],
            data.report.background_per_split[0],
            data.report.background_per_split[1],
            data.report.background_per_split[2],
            data.report.median_peak_count,
        ));
        Ok(data)
    }

    /// Indices of the regions of `split` (peaks first, then background, in file order).
    pub fn indices(&self, split: SplitName) -> Vec<usize> {
        (0..self.regions.len()).filter(|&i| self.regions[i].split == split).collect()
    }

    /// The jitter training draws shifts from.
    pub fn jitter(&self) -> usize {
        self.jitter
    }

    /// Whether training reverse-complements.
    pub fn reverse_complements(&self) -> bool {
        self.reverse_complement
    }

    /// Profile tracks per example: tasks × strands.
    pub fn tracks(&self) -> usize {
        self.tasks.len() * self.strands
    }

    /// The tasks' control tracks, when they have them.
    pub fn control(&self) -> Option<&ControlTracks> {
        self.control.as_ref()
    }

    /// The window of `length` bases centred on `region`, moved by `shift`.
    fn window(&self, region: &ProfileRegion, length: usize, shift: i64) -> Window {
        let start = region.centre as i64 - (length / 2) as i64 + shift;
        Window::new(&region.chrom, start, start + length as i64)
    }

    /// The total count in region `index`'s output window, summed over every task and strand (read
    /// from the tracks once, then remembered).
    pub fn total_count(&self, index: usize) -> Result<f64, DataError> {
        if let Some(Some(total)) = self.totals.lock().map_err(|_| poisoned())?.get(index) {
            return Ok(*total);
        }
        let total = self.total(&self.regions[index])?;
        if let Some(slot) = self.totals.lock().map_err(|_| poisoned())?.get_mut(index) {
            *slot = Some(total);
        }
        Ok(total)
    }

    fn total(&self, region: &ProfileRegion) -> Result<f64, DataError> {
        let window = self.window(region, self.output_length, 0);
        let mut values = vec![0f32; self.output_length];
        let mut total = 0.0;
        for track in &self.tracks {
            let mut track = track.lock().map_err(|_| poisoned())?;
            track.read(&region.chrom, window.start as u64, window.end as u64, true, &mut values)?;
            total += values.iter().map(|&v| v as f64).sum::<f64>();
        }
        Ok(total)
    }

    /// The batch of `indices`, each window moved by `shifts[i]` and reverse-complemented where
    /// `reverse[i]` (profiles reversed and strands swapped too).
    pub fn batch(&self, indices: &[usize], shifts: &[i64], reverse: &[bool]) -> Result<ProfileBatch, DataError> {
        let (input, output, tracks) = (self.input_length, self.output_length, self.tracks());
        let mut one_hot = vec![0f32; indices.len() * 4 * input];
        let mut counts = vec![0f32; indices.len() * tracks * output];
        let mut values = vec![0f32; output];
        let per_control = self.control.as_ref().map_or(0, |c| c.len() * input);
        let mut control = self.control.as_ref().map(|_| vec![0f32; indices.len() * per_control]);
        for (k, &index) in indices.iter().enumerate() {
            let region = &self.regions[index];
            let shift = shifts.get(k).copied().unwrap_or(0);
            let flip = reverse.get(k).copied().unwrap_or(false);
            let window = self.window(region, input, shift);
            let bases = self.reference.fetch(&region.chrom, window.start, window.end)?;
            let slot = &mut one_hot[k * 4 * input..(k + 1) * 4 * input];
            // Reference bases are A, C, G, T or IUPAC codes, all valid DNA (codes other than N read as zero).
            self.encoder.encode_into(&bases, slot).map_err(|e| DataError::Profile {
                field: "reference".into(),
                message: format!("{}:{}: {e}", region.chrom, window.start),
            })?;
            if flip {
                slot.reverse();
            }
            if let (Some(tracks), Some(control)) = (&self.control, control.as_mut()) {
                let slot = &mut control[k * per_control..(k + 1) * per_control];
                tracks.read(&region.chrom, window.start, input, flip, slot)?;
            }
            let out_window = self.window(region, output, shift);
            for (t, track) in self.tracks.iter().enumerate() {
                let mut track = track.lock().map_err(|_| poisoned())?;
                track.read(&region.chrom, out_window.start as u64, out_window.end as u64, true, &mut values)?;
                // Reverse complement: positions reversed, and a task's plus strand becomes its minus strand.
                let target = if flip && self.strands == 2 { t ^ 1 } else { t };
                let row = &mut counts[(k * tracks + target) * output..(k * tracks + target + 1) * output];
                if flip {
                    row.iter_mut().zip(values.iter().rev()).for_each(|(o, &v)| *o = v);
                } else {
                    row.copy_from_slice(&values);
                }
            }
        }
        let peaks = indices.iter().map(|&i| self.regions[i].peak).collect();
        Ok(ProfileBatch { one_hot, counts, control, peaks, size: indices.len() })
    }
}

fn poisoned() -> DataError {
    DataError::Profile { field: "tracks".into(), message: "a track reader failed on another thread".into() }
}

/// The `q` quantile of sorted values (linear interpolation, NumPy's default).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let position = q * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}
