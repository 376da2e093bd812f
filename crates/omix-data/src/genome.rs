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
//! With `classes`, each interval gives one window labelled with its file's class; background
//! windows get `negative_label` (default "0"). With `tasks` (multi-label, DeepSEA-style), the
//! windows are those of every task's intervals, and a window is positive for a task when its
//! centre lies inside one of that task's intervals; background windows are negative for all.

use std::path::{Path, PathBuf};

use omix_genome::{
    ChromosomeSplit, IntervalIndex, OutOfBounds, Reference, SplitName, Window, apply_bounds, check_intervals,
    cross_split_overlaps, gc_matched_background, read_bed,
};
use omix_io::Location;
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
    }
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
    /// Things worth telling the user (an index created, a background shortfall).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
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
    length: usize,
    negative_label: &str,
    seed: u64,
    files: &mut Vec<PathBuf>,
) -> Result<(RawSource, GenomeReport), DataError> {
    let mut notes: Vec<String> = Vec::new();
    let genome_error = |field: &'static str, message: String| DataError::Config { field, message };
    if config.classes.is_empty() == config.tasks.is_empty() {
        return Err(genome_error(
            "genome",
            "give either `classes` (one BED per class) or `tasks` (one BED per task)".into(),
        ));
    }
    let reference = Reference::open(&config.reference, &mut |line: &str| notes.push(line.to_string()))?;
    let split = match (&config.validation_chromosomes, &config.test_chromosomes) {
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
    split.check_against(&reference, Path::new("[data.genome] validation_chromosomes / test_chromosomes"))?;

    // Intervals -> windows, with their label source.
    let sources: Vec<(String, PathBuf)> = if config.tasks.is_empty() {
        config.classes.iter().map(|c| (c.label.clone(), c.path.clone())).collect()
    } else {
        config.tasks.iter().map(|t| (t.name.clone(), t.path.clone())).collect()
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
            let window = Window::centred(&record.chrom, record.start, record.end, length as u64, config.flank);
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
        // In multi-label mode one window per distinct location (intervals shared by tasks).
        if multilabel && !seen.insert(window.clone()) {
            continue;
        }
        let sequence = reference.fetch(&window.chrom, window.start, window.end)?;
        let label = if multilabel {
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
    report.notes = notes;
    report.validation_chromosomes = split.validation.clone();
    report.test_chromosomes = split.test.clone();
    let task_names = if multilabel { sources.iter().map(|(n, _)| n.clone()).collect() } else { Vec::new() };
    Ok((RawSource { records, task_names, columns: None }, report))
}
