//! Examples from intervals on a reference genome (`[data.genome]`): BED files per class or per
//! task, fixed-length windows centred on each interval, GC-matched background windows, and
//! splits by chromosome.
//!
//! ```toml
//! [data]
//! length = 200                       # window length (bp)
//!
//! [data.genome]
//! reference = "genome.fa"            # FASTA or bgzip FASTA; a missing .fai is created
//! classes = [{ label = "bound", path = "peaks.bed" }]   # one BED per class, or:
//! # tasks = [{ name = "ctcf", path = "ctcf.bed" }, { name = "rest", path = "rest.bed" }]
//! background = 1                     # GC-matched background windows per positive window
//! validation_chromosomes = ["chr6", "chr7"]   # default for human-like names
//! test_chromosomes = ["chr8", "chr9"]
//! out_of_bounds = "pad"              # or "drop": windows running off a contig end
//! ```
//!
//! Chromosome folds (chrombpnet's) replace the two lists: `folds = [{ validation = ["chr1"],
//! test = ["chr2"] }, { validation = ["chr2"], test = ["chr3"] }, ...]`, and `omix train --fold I`
//! (`fold = I` in `[data]`) trains fold I.
//!
//! With `classes`, each interval gives one window labelled with its file's class; background
//! windows get `negative_label` (default "0"). With `tasks` (multi-label, DeepSEA-style), the
//! windows are those of every task's intervals, and a window is positive for a task when its
//! centre lies inside one of that task's intervals; background windows are negative for all.
//!
//! With `signals` (peak regression, as Basenji and CREsted train it), the windows are those of
//! `regions` (summit-centred when a narrowPeak's column 10 gives the summit), and each window gets
//! one real-valued target per track: the track summed over `signal_window` bases around the
//! window's centre, then transformed (`log1p` by default). Background windows get their own sums.
//! The data set is a regression one (`task = "regression"` in `[data]`), one output per signal:
//!
//! ```toml
//! [data]
//! length = 1000
//! task = "regression"
//!
//! [data.genome]
//! reference = "genome.fa"
//! regions = "peaks.narrowPeak"
//! signals = [{ name = "atac", path = "atac.bw" }, { name = "h3k27ac", path = "k27.bedGraph" }]
//! signal_window = 500                # bases summed around each window's centre (default: `length`)
//! signal_transform = "log1p"         # or "none"
//! background = 1
//! ```

use std::path::{Path, PathBuf};

use omix_genome::{
    BedRecord, ChromosomeSplit, IntervalIndex, OutOfBounds, Reference, SplitName, Window, apply_bounds,
    check_intervals, cross_split_overlaps, gc_matched_background, read_bed,
};
use omix_io::Location;
use omix_tracks::{ChromSizes, Track};
use serde::{Deserialize, Serialize};

use crate::config::ClassFile;
use crate::error::DataError;
use crate::load::{RawLabel, RawRecord, RawSource};
use crate::split::Split;

/// One BED file per task (multi-label).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFile {
    /// The task name.
    pub name: String,
    /// Its intervals.
    pub path: PathBuf,
}

/// One coverage track whose sum around each window's centre is a regression target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalFile {
    /// The target's name (the model output's).
    pub name: String,
    /// The track: bigWig, or bedGraph (plain or gzip); values finite and not negative.
    pub path: PathBuf,
}

/// How a window's summed signal becomes its regression target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalTransform {
    /// `ln(1 + sum)`: counts spread over orders of magnitude (Basenji's and CREsted's choice).
    #[default]
    Log1p,
    /// The sum itself.
    None,
}

impl SignalTransform {
    /// The target of a window whose track sums to `sum`.
    pub fn apply(self, sum: f64) -> f64 {
        match self {
            SignalTransform::Log1p => sum.ln_1p(),
            SignalTransform::None => sum,
        }
    }

    /// The name written in configs.
    pub fn name(self) -> &'static str {
        match self {
            SignalTransform::Log1p => "log1p",
            SignalTransform::None => "none",
        }
    }

    fn is_default(&self) -> bool {
        *self == SignalTransform::default()
    }
}

/// The `[data.genome]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenomeConfig {
    /// The reference FASTA (plain or bgzip).
    pub reference: PathBuf,
    /// One BED per class.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<ClassFile>,
    /// One BED per task (multi-label).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<TaskFile>,
    /// The windows whose `signals` are summed (BED or narrowPeak; column 10's summit centres them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<PathBuf>,
    /// Coverage tracks (bigWig or bedGraph), one regression target each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<SignalFile>,
    /// Bases of each track summed around a window's centre (default: the window length, `length`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal_window: Option<u64>,
    /// How a window's summed signal becomes its target.
    #[serde(default, skip_serializing_if = "SignalTransform::is_default")]
    pub signal_transform: SignalTransform,
    /// GC-matched background windows per positive window (0: none).
    #[serde(default)]
    pub background: usize,
    /// Extra bases on both sides of each window.
    #[serde(default)]
    pub flank: u64,
    /// Windows running off a contig end: padded with N, or dropped.
    #[serde(default)]
    pub out_of_bounds: OutOfBounds,
    /// Contigs held out for validation (default: chr6, chr7 for human-like names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_chromosomes: Option<Vec<String>>,
    /// Contigs held out for test (default: chr8, chr9 for human-like names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_chromosomes: Option<Vec<String>>,
    /// Chromosome folds, as chrombpnet's: each fold holds out its own validation and test
    /// contigs (`{ validation = ["chr1"], test = ["chr2"] }`), and `omix train --fold I` trains
    /// fold I (`fold` in `[data]`); instead of `validation_chromosomes` / `test_chromosomes`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folds: Vec<ChromosomeSplit>,
    /// Background windows may have at most this fraction of N.
    #[serde(default = "default_max_n")]
    pub max_n_fraction: f64,
}

fn default_max_n() -> f64 {
    0.1
}

impl GenomeConfig {
    /// Make relative paths relative to `base` (the config file's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        let join = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        };
        join(&mut self.reference);
        self.classes.iter_mut().for_each(|c| join(&mut c.path));
        self.tasks.iter_mut().for_each(|t| join(&mut t.path));
        if let Some(regions) = &mut self.regions {
            join(regions);
        }
        self.signals.iter_mut().for_each(|s| join(&mut s.path));
    }

    /// Check the settings, one error per rule: exactly one way of labelling the windows
    /// (`classes`, `tasks`, or `signals` over `regions`), and signal settings only with signals.
    pub fn check(&self) -> Result<(), DataError> {
        let error = |field: &'static str, message: String| Err(DataError::Config { field, message });
        let given: Vec<&str> = [
            ("classes", !self.classes.is_empty()),
            ("tasks", !self.tasks.is_empty()),
            ("signals", !self.signals.is_empty()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect();
        if given.is_empty() {
            return error(
                "genome",
                "give `classes` (one BED per class), `tasks` (one BED per task, multi-label) or `signals` (coverage tracks summed over the windows of `regions`, regression)".into(),
            );
        }
        self.check_folds()?;
        if given.len() > 1 {
            return error(
                "genome",
                format!(
                    "give only one of `classes`, `tasks` and `signals`: they label the windows in different ways (given: {})",
                    given.join(", ")
                ),
            );
        }
        if self.signals.is_empty() {
            if let Some(regions) = &self.regions {
                return error(
                    "genome.regions",
                    format!(
                        "{} gives the windows whose `signals` are summed, but no signals are given; with `{}` the windows come from their own BED files",
                        regions.display(),
                        given[0]
                    ),
                );
            }
            if self.signal_window.is_some() || self.signal_transform != SignalTransform::default() {
                return error(
                    if self.signal_window.is_some() { "genome.signal_window" } else { "genome.signal_transform" },
                    "applies to `signals` (coverage tracks summed per window), which are not given".into(),
                );
            }
            return Ok(());
        }
        if self.regions.is_none() {
            return error(
                "genome.regions",
                "`signals` needs `regions`: a BED or narrowPeak file of the windows whose tracks are summed".into(),
            );
        }
        if self.signal_window == Some(0) {
            return error("genome.signal_window", "must be at least 1 base".into());
        }
        let mut names: Vec<&str> = Vec::with_capacity(self.signals.len());
        for signal in &self.signals {
            if signal.name.trim().is_empty() {
                return error("genome.signals", format!("the signal of {} has an empty name", signal.path.display()));
            }
            if names.contains(&signal.name.as_str()) {
                return error(
                    "genome.signals",
                    format!("the name {:?} is given twice; names must differ", signal.name),
                );
            }
            names.push(&signal.name);
        }
        Ok(())
    }
}

impl GenomeConfig {
    /// Chromosome folds, by [`check_chromosome_folds`].
    fn check_folds(&self) -> Result<(), DataError> {
        let fixed = self.validation_chromosomes.is_some() || self.test_chromosomes.is_some();
        check_chromosome_folds(&self.folds, fixed)
            .map_err(|message| DataError::Config { field: "genome.folds", message })
    }
}

/// The rules of chromosome folds (chrombpnet's folds), shared by `[data.genome] folds` and
/// `[tracks] folds`: none, or at least two, each holding out validation and test contigs, none
/// twice in a fold; not together with `validation_chromosomes` / `test_chromosomes` (`fixed`).
/// The message says what is wrong.
pub fn check_chromosome_folds(folds: &[ChromosomeSplit], fixed: bool) -> Result<(), String> {
    if folds.is_empty() {
        return Ok(());
    }
    if fixed {
        return Err(
            "each fold names its own held-out contigs; drop validation_chromosomes / test_chromosomes (or folds)"
                .into(),
        );
    }
    if folds.len() < 2 {
        return Err("one fold is one split: give at least two, or validation_chromosomes / test_chromosomes".into());
    }
    for (number, fold) in folds.iter().enumerate().map(|(k, fold)| (k + 1, fold)) {
        if fold.validation.is_empty() || fold.test.is_empty() {
            let what = if fold.test.is_empty() { "test" } else { "validation" };
            return Err(format!("fold {number} holds out no {what} contig"));
        }
        if let Err(overlap) = fold.check() {
            return Err(format!("fold {number}: {overlap}"));
        }
    }
    Ok(())
}

/// The held-out contigs of fold `fold` (1-based) of chromosome `folds`; the message names the
/// folds there are when `fold` is absent or out of range.
pub fn chosen_fold(folds: &[ChromosomeSplit], fold: Option<usize>) -> Result<ChromosomeSplit, String> {
    fold.and_then(|fold| folds.get(fold.wrapping_sub(1))).cloned().ok_or_else(|| match fold {
        Some(fold) => format!(
            "fold {fold} does not exist: the {} chromosome folds are numbered 1 to {}",
            folds.len(),
            folds.len()
        ),
        None => format!("name one of the {} chromosome folds with `omix train --fold I`", folds.len()),
    })
}

/// A window's centre: the summit when a narrowPeak's column 10 gives one inside the interval,
/// else the interval's middle; as the one-base interval `Window::centred` centres on it.
pub(crate) fn summit_interval(record: &BedRecord) -> (u64, u64) {
    let summit = record.extra.get(3).and_then(|s| s.parse::<i64>().ok()).filter(|&s| s >= 0);
    match summit {
        Some(offset) if (offset as u64) < record.len() => {
            let centre = record.start + offset as u64;
            (centre, centre + 1)
        }
        _ => (record.start, record.end),
    }
}

/// The sum of `track` over the `width` bases centred on `window`'s centre, the bases off the
/// contig (`0..contig_length`) counting as 0. `buffer` is reused between calls.
fn signal_sum(
    track: &mut Track,
    window: &Window,
    width: u64,
    contig_length: u64,
    buffer: &mut Vec<f32>,
) -> Result<f64, DataError> {
    let centre = window.start + (window.len() / 2) as i64;
    let first = centre - (width / 2) as i64;
    let start = first.max(0) as u64;
    let end = (first + width as i64).clamp(0, contig_length as i64) as u64;
    if end <= start {
        return Ok(0.0);
    }
    buffer.clear();
    buffer.resize((end - start) as usize, 0.0);
    track.read(&window.chrom, start, end, true, buffer)?;
    Ok(buffer.iter().map(|&v| f64::from(v)).sum())
}

/// What happened to the intervals; part of the data report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenomeReport {
    /// The reference.
    pub reference: String,
    /// Intervals read from the BED files.
    pub intervals: usize,
    /// Windows that ran off a contig end and were padded with N.
    pub padded: usize,
    /// Windows that ran off a contig end and were dropped.
    pub dropped: usize,
    /// Background windows asked for and found.
    pub background_requested: usize,
    /// Background windows found.
    pub background_found: usize,
    /// Mean GC of the positive windows.
    pub gc_positive: f64,
    /// Mean GC of the background windows.
    pub gc_background: f64,
    /// Validation contigs.
    pub validation_chromosomes: Vec<String>,
    /// Test contigs.
    pub test_chromosomes: Vec<String>,
    /// Windows of different splits that overlap (always 0 with a chromosome hold-out; checked).
    pub cross_split_overlaps: usize,
    /// The tracks summed into regression targets (`signals`), with their targets' means.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<SignalReport>,
    /// Things worth telling the user (an index created, a background shortfall).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One signal track as read, for the data report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SignalReport {
    /// The target's name.
    pub name: String,
    /// The track.
    pub path: String,
    /// Bases summed around each window's centre.
    pub window: u64,
    /// The transform applied to each sum.
    pub transform: String,
    /// Mean target over the windows of `regions` (none when every window was dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_regions: Option<f64>,
    /// Mean target over the background windows (none without background windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_background: Option<f64>,
}

fn split_of(name: SplitName) -> Split {
    match name {
        SplitName::Train => Split::Train,
        SplitName::Validation => Split::Validation,
        SplitName::Test => Split::Test,
    }
}

/// Read the windows a `[data.genome]` table describes as raw records with labels and splits.
pub(crate) fn read_genome(
    config: &GenomeConfig,
    fold: Option<usize>,
    length: usize,
    negative_label: &str,
    seed: u64,
    files: &mut Vec<PathBuf>,
) -> Result<(RawSource, GenomeReport), DataError> {
    let mut notes: Vec<String> = Vec::new();
    let genome_error = |field: &'static str, message: String| DataError::Config { field, message };
    config.check()?;
    let reference = Reference::open(&config.reference, &mut |line: &str| notes.push(line.to_string()))?;
    // Tracks are opened (and their contigs checked against the reference) before any window is cut.
    let sizes = ChromSizes::of_reference(&reference);
    let mut tracks = Vec::with_capacity(config.signals.len());
    for signal in &config.signals {
        tracks.push(Track::open(&signal.path, Some(&sizes))?);
    }
    let split = match (&config.validation_chromosomes, &config.test_chromosomes) {
        _ if !config.folds.is_empty() => {
            chosen_fold(&config.folds, fold).map_err(|message| genome_error("fold", message))?
        }
        (Some(validation), Some(test)) => ChromosomeSplit::new(validation.clone(), test.clone())?,
        (None, None) => ChromosomeSplit::default_for(&reference).ok_or_else(|| {
            genome_error(
                "genome.validation_chromosomes",
                format!(
                    "the reference {} has no chr6-chr9 (or 6-9) to hold out by default; name the contigs with validation_chromosomes = [...] and test_chromosomes = [...] (the reference has: {})",
                    config.reference.display(),
                    reference.contigs().iter().take(10).map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
        })?,
        _ => {
            return Err(genome_error(
                "genome.validation_chromosomes",
                "give both validation_chromosomes and test_chromosomes, or neither for the default".into(),
            ));
        }
    };
    let listed_in = match fold {
        Some(fold) if !config.folds.is_empty() => format!("[data.genome] folds (fold {fold})"),
        _ => "[data.genome] validation_chromosomes / test_chromosomes".to_string(),
    };
    split.check_against(&reference, Path::new(&listed_in))?;

    // Intervals -> windows, with their label source.
    let regression = !config.signals.is_empty();
    let sources: Vec<(String, PathBuf)> = match &config.regions {
        Some(regions) if regression => vec![("regions".to_string(), regions.clone())],
        _ if config.tasks.is_empty() => config.classes.iter().map(|c| (c.label.clone(), c.path.clone())).collect(),
        _ => config.tasks.iter().map(|t| (t.name.clone(), t.path.clone())).collect(),
    };
    let mut report = GenomeReport { reference: config.reference.display().to_string(), ..GenomeReport::default() };
    let mut windows: Vec<(Window, usize, usize, u64)> = Vec::new(); // window, source, file, line
    let mut task_intervals: Vec<Vec<Window>> = Vec::new();
    for (source, (_, path)) in sources.iter().enumerate() {
        let records = read_bed(path)?;
        check_intervals(path, &records, &reference)?;
        report.intervals += records.len();
        let file = files.len();
        files.push(path.clone());
        task_intervals.push(records.iter().map(|r| Window::new(&r.chrom, r.start as i64, r.end as i64)).collect());
        for record in &records {
            // Regions for signals are centred on their summits, as profile models centre peaks.
            let (start, end) = if regression { summit_interval(record) } else { (record.start, record.end) };
            let window = Window::centred(&record.chrom, start, end, length as u64, config.flank);
            windows.push((window, source, file, record.line));
        }
    }
    let positives: Vec<Window> = windows.iter().map(|(w, ..)| w.clone()).collect();
    let (kept, counts) = apply_bounds(positives.clone(), &reference, config.out_of_bounds);
    report.padded = counts.padded;
    report.dropped = counts.dropped;
    if counts.dropped > 0 {
        let keep: std::collections::HashSet<&Window> = kept.iter().collect();
        windows.retain(|(w, ..)| keep.contains(w));
    }

    // Background windows, drawn per split from that split's contigs.
    let mut background: Vec<Window> = Vec::new();
    if config.background > 0 {
        let exclude: Vec<Window> = task_intervals.iter().flatten().cloned().chain(positives.iter().cloned()).collect();
        // Means over all splits, weighted by the windows each split contributed.
        let mut gc_positive = (0.0, 0usize);
        let mut gc_background = (0.0, 0usize);
        for name in [SplitName::Train, SplitName::Validation, SplitName::Test] {
            let contigs: Vec<String> = reference
                .contigs()
                .iter()
                .filter(|c| split.split_of(&c.name) == name)
                .map(|c| c.name.clone())
                .collect();
            let in_split: Vec<Window> =
                windows.iter().filter(|(w, ..)| split.split_of(&w.chrom) == name).map(|(w, ..)| w.clone()).collect();
            if contigs.is_empty() || in_split.is_empty() {
                continue;
            }
            let drawn = gc_matched_background(
                &reference,
                &in_split,
                config.background,
                &contigs,
                &exclude,
                config.max_n_fraction,
                seed.wrapping_add(name as u64),
            )?;
            report.background_requested += drawn.requested;
            if drawn.gc_positive_mean.is_finite() {
                gc_positive.0 += drawn.gc_positive_mean * in_split.len() as f64;
                gc_positive.1 += in_split.len();
            }
            if drawn.shortfall() > 0 {
                notes.push(format!(
                    "background: found {} of {} GC-matched windows on the {name} contigs ({} draws)",
                    drawn.windows.len(),
                    drawn.requested,
                    drawn.draws
                ));
            }
            if drawn.gc_background_mean.is_finite() {
                gc_background.0 += drawn.gc_background_mean * drawn.windows.len() as f64;
                gc_background.1 += drawn.windows.len();
            }
            background.extend(drawn.windows);
        }
        report.background_found = background.len();
        report.gc_positive = gc_positive.0 / gc_positive.1.max(1) as f64;
        report.gc_background = if gc_background.1 == 0 { f64::NAN } else { gc_background.0 / gc_background.1 as f64 };
    }

    // Records: sequences fetched, labels, splits by chromosome.
    let task_index: Vec<IntervalIndex> = task_intervals.iter().map(|w| IntervalIndex::new(w)).collect();
    let multilabel = !config.tasks.is_empty();
    let signal_window = config.signal_window.unwrap_or(length as u64);
    let mut buffer: Vec<f32> = Vec::new();
    // Per signal: sum and count of the targets of the regions and of the background.
    let mut means = vec![[(0.0f64, 0usize); 2]; tracks.len()];
    // Per signal: windows on contigs the track holds no values for (their sums are 0), worth
    // telling apart from a real absence of signal.
    let listed: Vec<std::collections::HashSet<String>> =
        tracks.iter().map(|t| t.contigs().iter().map(|(name, _)| name.clone()).collect()).collect();
    let mut unlisted = vec![0usize; tracks.len()];
    let mut repeated = 0usize;
    let background_file = files.len();
    if !background.is_empty() {
        files.push(config.reference.clone());
    }
    let mut records = Vec::with_capacity(windows.len() + background.len());
    let mut all: Vec<(Window, SplitName)> = Vec::with_capacity(records.capacity());
    let mut seen = std::collections::HashSet::new();
    let entries = windows
        .iter()
        .map(|(w, source, file, line)| (w, Some(*source), *file, *line))
        .chain(background.iter().enumerate().map(|(k, w)| (w, None, background_file, k as u64 + 1)));
    for (window, source, file, line) in entries {
        // With tasks or signals one window per distinct location (intervals shared by tasks, a
        // region listed twice): the same window would be the same example twice.
        if (multilabel || regression) && !seen.insert(window.clone()) {
            repeated += 1;
            continue;
        }
        let sequence = reference.fetch(&window.chrom, window.start, window.end)?;
        let label = if regression {
            let contig_length = reference.contig_length(&window.chrom).unwrap_or(0);
            let mut texts = Vec::with_capacity(tracks.len());
            for (k, track) in tracks.iter_mut().enumerate() {
                if !listed[k].contains(&window.chrom) {
                    unlisted[k] += 1;
                }
                let sum = signal_sum(track, window, signal_window, contig_length, &mut buffer)?;
                let target = config.signal_transform.apply(sum) as f32;
                let slot = &mut means[k][usize::from(source.is_none())];
                slot.0 += f64::from(target);
                slot.1 += 1;
                // Display of an f32 reads back to the same f32.
                texts.push(target.to_string());
            }
            RawLabel::Columns { texts, file, line }
        } else if multilabel {
            let centre =
                Window::new(&window.chrom, (window.start + window.end) / 2, (window.start + window.end) / 2 + 1);
            let texts = task_index.iter().map(|index| if index.overlaps_any(&centre) { "1" } else { "0" }.to_string());
            RawLabel::Columns { texts: texts.collect(), file, line }
        } else {
            let text = match source {
                Some(source) => sources[source].0.clone(),
                None => negative_label.to_string(),
            };
            RawLabel::Single { text, file, line }
        };
        let name = split.split_of(&window.chrom);
        all.push((window.clone(), name));
        records.push(RawRecord {
            id: format!(
                "{}:{}-{}{}",
                window.chrom,
                window.start,
                window.end,
                if source.is_none() { ":bg" } else { "" }
            ),
            sequence,
            values: Vec::new(),
            location: Location { line, ..Location::default() },
            file,
            label,
            split: Some(split_of(name)),
        });
    }
    report.cross_split_overlaps = cross_split_overlaps(&all).len();
    if regression && repeated > 0 {
        notes.push(format!("regions: {repeated} window(s) listed more than once kept once"));
    }
    for ((signal, [regions, background]), unlisted) in config.signals.iter().zip(&means).zip(unlisted) {
        let mean = |(sum, count): (f64, usize)| (count > 0).then(|| sum / count as f64);
        let signal_report = SignalReport {
            name: signal.name.clone(),
            path: signal.path.display().to_string(),
            window: signal_window,
            transform: config.signal_transform.name().to_string(),
            mean_regions: mean(*regions),
            mean_background: mean(*background),
        };
        let sum = format!("the sum over {} bp at each window's centre", signal_window);
        notes.push(format!(
            "signal {} ({}): targets are {}; mean target{}{}",
            signal_report.name,
            signal_report.path,
            match config.signal_transform {
                SignalTransform::Log1p => format!("log1p of {sum}"),
                SignalTransform::None => sum,
            },
            signal_report.mean_regions.map(|m| format!(" {m:.3} on regions")).unwrap_or_default(),
            signal_report.mean_background.map(|m| format!(", {m:.3} on background")).unwrap_or_default()
        ));
        if unlisted > 0 {
            notes.push(format!(
                "signal {}: {unlisted} window(s) lie on contigs {} holds no values for; their targets are sums of 0",
                signal.name,
                signal.path.display()
            ));
        }
        report.signals.push(signal_report);
    }
    report.notes = notes;
    report.validation_chromosomes = split.validation.clone();
    report.test_chromosomes = split.test.clone();
    // Output names: one per task, or one per signal.
    let task_names = if regression {
        config.signals.iter().map(|s| s.name.clone()).collect()
    } else if multilabel {
        sources.iter().map(|(n, _)| n.clone()).collect()
    } else {
        Vec::new()
    };
    Ok((RawSource { records, task_names, columns: None }, report))
}
