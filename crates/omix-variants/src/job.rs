//! Scoring a VCF with a model, as one resumable, shardable job.
//!
//! [`ScoringJob::run`] streams the VCF once to count its records and check its contig names
//! against the reference, takes this shard's contiguous block of records, and scores them in
//! batches: each variant's REF and ALT windows go through a [`WindowScorer`] (the trained model,
//! supplied by the caller), its effects (by default a classifier's REF and ALT scores and their
//! difference; a profile model's count fold change and profile distance) are written to `PREFIX.tsv.partial` and
//! `PREFIX.vcf.partial`, and after every batch the outputs are flushed and then
//! `PREFIX.progress.json` records how far it got. Running the same job again after a kill
//! resumes from there (the partial files are cut back to the checkpoint); at the end the partial
//! files are synced and renamed and `PREFIX.summary.json` is written. Only shard 1 writes
//! headers, so shard outputs concatenated in order equal the unsharded output.
//!
//! A resume is refused, leaving the partial outputs untouched, unless the model files' bytes, the
//! VCF's bytes, the reference (its contigs and size) and the settings are those the partial output
//! was started with; the error says which changed.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use omix_genome::{Reference, check_contigs};
use omix_io::IoError;
use omix_run::Observer;

use crate::{
    DIFFERENCE_COLUMNS, EffectColumn, EffectRecord, Progress, Shard, SkipReason, TsvScoreWriter, Variant, VariantError,
    VcfReader, VcfScoreWriter, difference_effects, truncate_to_lines, variant_windows,
};

/// A model as variant scoring sees it: windows of one length in, one score per output out, and per
/// variant and output the values of its [`effect_columns`](WindowScorer::effect_columns).
///
/// A classifier implements the five required methods and gets [`DIFFERENCE_COLUMNS`]: REF and ALT
/// scores, their difference and the log-odds ratio. A model whose effects are not a difference of
/// one score per window (a profile model's count fold change and profile distance) also overrides
/// [`effect_columns`](WindowScorer::effect_columns) and [`effects`](WindowScorer::effects).
pub trait WindowScorer {
    /// The window length the model reads.
    fn window_length(&self) -> usize;
    /// The names of the outputs (tasks), in score order.
    fn output_names(&self) -> Vec<String>;
    /// Scores `[windows, outputs]` (row-major) of windows of [`WindowScorer::window_length`].
    fn score(&self, windows: &[Vec<u8>]) -> Result<Vec<f64>, String>;
    /// Whether both strands are averaged (recorded in the summary).
    fn averages_strands(&self) -> bool;
    /// What identifies the model and its settings, for messages (the resume fingerprint hashes
    /// the model's files instead, see [`ScoringJob::model_files`]).
    fn identity(&self) -> String;
    /// The values written per variant and output (TSV columns, VCF INFO keys).
    fn effect_columns(&self) -> &'static [EffectColumn] {
        &DIFFERENCE_COLUMNS
    }
    /// The effects `[variants, outputs, columns]` (row-major) of variants whose windows are
    /// `[REF 0, ALT 0, REF 1, ALT 1, …]`. By default each window is [`score`](WindowScorer::score)d
    /// and the [`DIFFERENCE_COLUMNS`] are computed from the two scores.
    fn effects(&self, windows: &[Vec<u8>]) -> Result<Vec<f64>, String> {
        difference_effects(&self.score(windows)?, self.output_names().len())
    }
    /// [`score`](WindowScorer::score) told where each window lies on the genome, for a model that
    /// reads more than the bases (a profile model's control tracks); by default the loci are unused.
    fn score_at(&self, windows: &[Vec<u8>], loci: &[WindowLocus<'_>]) -> Result<Vec<f64>, String> {
        let _ = loci;
        self.score(windows)
    }
    /// [`effects`](WindowScorer::effects) told where each window lies on the genome (what the
    /// scoring job calls); by default the loci are unused.
    fn effects_at(&self, windows: &[Vec<u8>], loci: &[WindowLocus<'_>]) -> Result<Vec<f64>, String> {
        let _ = loci;
        self.effects(windows)
    }
}

/// Where a window lies: its contig and the 0-based position of its first base (negative near a
/// contig's start, where the window is padded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowLocus<'a> {
    /// The contig.
    pub chrom: &'a str,
    /// The window's first base.
    pub start: i64,
}

/// What to do when a variant's REF allele disagrees with the reference genome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMismatch {
    /// Stop with an error naming the record (a wrong genome build is the usual cause).
    Error,
    /// Skip the variant and count it in the summary.
    Skip,
}

/// One scoring job: which VCF, against which genome, into which outputs.
#[derive(Debug, Clone)]
pub struct ScoringJob {
    /// The variants (plain, gzip or bgzip VCF).
    pub vcf: PathBuf,
    /// The reference genome's path (for messages and the fingerprint).
    pub reference: PathBuf,
    /// Output prefix: `PREFIX.tsv`, `PREFIX.vcf`, `PREFIX.summary.json`.
    pub out: PathBuf,
    /// The block of records to score.
    pub shard: Shard,
    /// Records per batch (a multi-allelic record stays in one batch).
    pub batch_records: u64,
    /// REF mismatches: stop or skip.
    pub on_mismatch: OnMismatch,
    /// Stop after this many records in this call (tests of resume).
    pub stop_after: Option<u64>,
    /// The files whose bytes make the model (weights, config, schema, ...): hashed into the resume
    /// fingerprint, so that a model retrained in the same folder never continues another's output.
    pub model_files: Vec<PathBuf>,
}

/// The parts of a resume fingerprint, by what they identify: `model`, `VCF`, `reference`, `settings`.
fn fingerprint_parts(
    job: &ScoringJob,
    reference: &Reference,
    scorer: &dyn WindowScorer,
    total: u64,
) -> Result<BTreeMap<String, String>, VariantError> {
    let hash = |path: &Path| -> Result<String, VariantError> {
        let (size, hash) = omix_io::hash_file(path)
            .map_err(|source| VariantError::Io(IoError::Open { path: path.to_path_buf(), source }))?;
        Ok(format!("{size}:{hash:016x}"))
    };
    let mut model = Vec::with_capacity(job.model_files.len());
    for path in &job.model_files {
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        model.push(format!("{name}={}", hash(path)?));
    }
    let mut contigs = omix_io::ContentHash::new();
    for contig in reference.contigs() {
        contigs.update(contig.name.as_bytes());
        contigs.update(&contig.length.to_le_bytes());
    }
    let size = std::fs::metadata(reference.path()).map(|m| m.len()).unwrap_or(0);
    let settings = format!(
        "shard={} window={} mismatch={:?} strands={}",
        job.shard,
        scorer.window_length(),
        job.on_mismatch,
        scorer.averages_strands()
    );
    Ok(BTreeMap::from([
        ("model".to_owned(), model.join(" ")),
        ("VCF".to_owned(), format!("{} records={total}", hash(&job.vcf)?)),
        ("reference".to_owned(), format!("{size}:{:016x}", contigs.value())),
        ("settings".to_owned(), settings),
    ]))
}

/// What a job did.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringOutcome {
    /// Records in this shard.
    pub records: u64,
    /// Records scored in this call (the rest were done before a resume).
    pub records_this_call: u64,
    /// Variants (alleles) scored in this call.
    pub variants_scored: u64,
    /// Skipped variants by reason, over the whole shard.
    pub skipped: BTreeMap<String, u64>,
    /// Records already done when this call started (a resume), `None` for a fresh start.
    pub resumed_from: Option<u64>,
    /// Whether the shard is complete (false when `stop_after` ended the call).
    pub finished: bool,
    /// The outputs.
    pub tsv: PathBuf,
    /// The VCF output.
    pub vcf_out: PathBuf,
}

/// Refuse to write any of `outputs` over an input of a job on a genome: the `named` inputs, the
/// reference's index files, or a file of the run folder `run` (the same path however spelled,
/// or a hard link). `omix score-variants`, `omix predict --reference` and the Python package
/// check their outputs here before opening any.
pub fn refuse_outputs_over_inputs(
    outputs: &[PathBuf],
    named: &[(&Path, &str)],
    reference: &Path,
    run: &Path,
) -> Result<(), VariantError> {
    let mut inputs: Vec<(PathBuf, String)> =
        named.iter().map(|(path, what)| (path.to_path_buf(), (*what).to_string())).collect();
    for extension in [".fai", ".gzi"] {
        inputs.push((with_suffix(reference, extension), "the reference's index".to_string()));
    }
    for folder in [run.to_path_buf(), run.join(omix_run::files::CHECKPOINT), run.join(omix_run::files::BIAS)] {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            inputs.push((entry.path(), format!("a file of the run folder {}", run.display())));
        }
    }
    let inputs: Vec<(&Path, &str)> = inputs.iter().map(|(path, what)| (path.as_path(), what.as_str())).collect();
    for output in outputs {
        omix_io::refuse_output_over_inputs(output, &inputs)?;
    }
    Ok(())
}

/// Every file a scoring job writing to `out` may create (the outputs, the summary, the
/// progress state and the partial files).
pub fn scoring_outputs(out: &Path) -> Vec<PathBuf> {
    ["", ".tsv", ".vcf", ".summary.json", ".progress.json", ".tsv.partial", ".vcf.partial"]
        .iter()
        .map(|suffix| with_suffix(out, suffix))
        .collect()
}

/// `PREFIX.suffix`.
pub fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

fn write_error(path: &Path, source: std::io::Error) -> VariantError {
    VariantError::Io(IoError::Write { path: path.to_path_buf(), source })
}

/// A writer's error, naming the file written when it does not already.
fn naming(error: VariantError, path: &Path) -> VariantError {
    match error {
        VariantError::Write { source } => write_error(path, source),
        other => other,
    }
}

impl ScoringJob {
    /// The progress file of this job's outputs.
    pub fn progress_path(&self) -> PathBuf {
        with_suffix(&self.out, ".progress.json")
    }

    /// The error for a batch the scorer refused, naming the first variant whose windows it refuses
    /// alone (the batch is scored again one variant at a time to find it).
    fn scoring_error(
        &self,
        scorer: &dyn WindowScorer,
        scored: &[&Variant],
        windows: &[Vec<u8>],
        loci: &[WindowLocus<'_>],
        message: String,
    ) -> VariantError {
        for (k, variant) in scored.iter().enumerate() {
            for (index, which) in [(2 * k, "reference"), (2 * k + 1, "alternative")] {
                let window = &windows[index];
                if let Err(message) = scorer.score_at(std::slice::from_ref(window), &loci[index..index + 1]) {
                    return VariantError::Malformed {
                        path: self.vcf.clone(),
                        line: variant.line,
                        message: format!(
                            "{}:{} {}>{}: the model cannot score the {which} window '{}': {message}",
                            variant.chrom,
                            variant.pos,
                            variant.reference,
                            variant.alternative,
                            String::from_utf8_lossy(window)
                        ),
                    };
                }
            }
        }
        VariantError::Scoring(format!("{message} (scoring records of {})", self.vcf.display()))
    }

    /// Run (or resume) the job. On an error before the first checkpoint the partial outputs
    /// are removed (nothing in them could be resumed); after it they stay for the next run.
    pub fn run(
        &self,
        reference: &Reference,
        scorer: &dyn WindowScorer,
        observer: &mut dyn Observer,
    ) -> Result<ScoringOutcome, VariantError> {
        let result = self.run_resumable(reference, scorer, observer);
        observer.finish();
        if result.is_err() && !self.progress_path().exists() {
            for suffix in [".tsv.partial", ".vcf.partial"] {
                let _ = std::fs::remove_file(with_suffix(&self.out, suffix));
            }
        }
        result
    }

    fn run_resumable(
        &self,
        reference: &Reference,
        scorer: &dyn WindowScorer,
        observer: &mut dyn Observer,
    ) -> Result<ScoringOutcome, VariantError> {
        let length = scorer.window_length();
        let tasks = scorer.output_names();
        let columns = scorer.effect_columns();
        // One streaming pass: how many records, and which contigs (checked before any scoring).
        let mut scan = VcfReader::open(&self.vcf)?;
        for variant in scan.by_ref() {
            variant?;
        }
        let total = scan.records_read();
        check_contigs(&self.vcf, scan.contigs_seen().iter().map(String::as_str), reference)?;
        let shard = self.shard;
        let range = shard.range(total);

        let tsv_path = with_suffix(&self.out, ".tsv");
        let vcf_path = with_suffix(&self.out, ".vcf");
        let tsv_partial = with_suffix(&self.out, ".tsv.partial");
        let vcf_partial = with_suffix(&self.out, ".vcf.partial");
        let progress_path = self.progress_path();
        if let Some(parent) = self.out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| write_error(parent, source))?;
        }
        let inputs = fingerprint_parts(self, reference, scorer, total)?;
        let resumed = match Progress::try_load(&progress_path)? {
            Some(progress) => {
                let mut changed: Vec<String> = inputs
                    .iter()
                    .filter(|(what, now)| progress.inputs.get(*what) != Some(*now))
                    .map(|(what, _)| match what.as_str() {
                        "model" => "the model (its weights, config or schema files)".to_owned(),
                        "VCF" => format!("the VCF ({})", self.vcf.display()),
                        "reference" => format!("the reference ({})", self.reference.display()),
                        _ => "the settings (shard, window, --on-mismatch or strand averaging)".to_owned(),
                    })
                    .collect();
                if changed.is_empty() && !(tsv_partial.exists() && vcf_partial.exists()) {
                    changed.push("the partial outputs (one is missing)".to_owned());
                }
                if !changed.is_empty() {
                    return Err(VariantError::ForeignProgress {
                        path: progress_path,
                        tsv: tsv_partial,
                        vcf: vcf_partial,
                        changed: changed.join(", "),
                    });
                }
                Some(progress)
            }
            None => None,
        };
        let mut progress = resumed.clone().unwrap_or(Progress { inputs, ..Progress::default() });

        let mut reader = VcfReader::open(&self.vcf)?;
        let header_owner = shard.index == 1;
        let (mut tsv, mut vcf) = match &resumed {
            Some(done) => {
                truncate_to_lines(&tsv_partial, done.tsv_lines).map_err(|source| write_error(&tsv_partial, source))?;
                truncate_to_lines(&vcf_partial, done.vcf_lines).map_err(|source| write_error(&vcf_partial, source))?;
                let open = |path: &Path| -> Result<BufWriter<File>, VariantError> {
                    let file =
                        OpenOptions::new().append(true).open(path).map_err(|source| write_error(path, source))?;
                    Ok(BufWriter::new(file))
                };
                observer.message(&format!(
                    "resuming: {} of {} records of this shard already scored ({})",
                    done.records_done,
                    range.end - range.start,
                    progress_path.display()
                ));
                (
                    TsvScoreWriter::resume_with_columns(open(&tsv_partial)?, columns, done.tsv_lines),
                    VcfScoreWriter::resume_with_columns(open(&vcf_partial)?, &tasks, "OMIX", columns, done.vcf_lines)?,
                )
            }
            None => {
                let create = |path: &Path| -> Result<BufWriter<File>, VariantError> {
                    Ok(BufWriter::new(File::create(path).map_err(|source| write_error(path, source))?))
                };
                let (tsv_out, vcf_out) = (create(&tsv_partial)?, create(&vcf_partial)?);
                // Only shard 1 writes headers, so that shard outputs concatenate to the unsharded one.
                if header_owner {
                    (
                        TsvScoreWriter::with_columns(tsv_out, columns)?,
                        VcfScoreWriter::with_columns(vcf_out, reader.header(), &tasks, "OMIX", columns)?,
                    )
                } else {
                    (
                        TsvScoreWriter::resume_with_columns(tsv_out, columns, 0),
                        VcfScoreWriter::resume_with_columns(vcf_out, &tasks, "OMIX", columns, 0)?,
                    )
                }
            }
        };
        reader.skip_records(range.start + progress.records_done)?;
        let shard_records = range.end - range.start;
        observer.start("variants", shard_records);
        observer.advance(progress.records_done, "");

        let resumed_from = resumed.map(|done| done.records_done);
        let (tsv_out_path, vcf_out_path) = (tsv_path.clone(), vcf_path.clone());
        let mut scored_variants = 0u64;
        let session_start = progress.records_done;
        let outcome = |progress: &Progress, finished: bool, scored_variants: u64| ScoringOutcome {
            records: shard_records,
            records_this_call: progress.records_done - session_start,
            variants_scored: scored_variants,
            skipped: progress.skipped.clone(),
            resumed_from,
            finished,
            tsv: tsv_out_path.clone(),
            vcf_out: vcf_out_path.clone(),
        };
        let batch_records = self.batch_records.max(1);
        let mut pending: Vec<Variant> = Vec::new();
        let mut next: Option<Variant> = None;
        loop {
            // Gather whole records up to the batch size (a multi-allelic record stays in one batch).
            pending.clear();
            let limit = (range.start + progress.records_done + batch_records).min(range.end);
            loop {
                let variant = match next.take() {
                    Some(v) => v,
                    None => match reader.next() {
                        Some(v) => v?,
                        None => break,
                    },
                };
                if variant.record >= limit {
                    next = Some(variant);
                    break;
                }
                pending.push(variant);
            }
            if pending.is_empty() {
                break;
            }
            let records_in_batch = limit - (range.start + progress.records_done);
            let mut windows = Vec::with_capacity(2 * pending.len());
            let mut loci = Vec::with_capacity(2 * pending.len());
            let mut scored: Vec<&Variant> = Vec::with_capacity(pending.len());
            for variant in &pending {
                match variant_windows(reference, variant, length) {
                    Ok(w) => {
                        windows.push(w.reference);
                        windows.push(w.alternative);
                        let locus = WindowLocus { chrom: &variant.chrom, start: w.start };
                        loci.extend([locus, locus]);
                        scored.push(variant);
                    }
                    Err(reason @ (SkipReason::ReferenceMismatch { .. } | SkipReason::OutsideContig { .. }))
                        if self.on_mismatch == OnMismatch::Error =>
                    {
                        let what = match reason {
                            SkipReason::OutsideContig { contig_length } => format!(
                                "column 2 (POS) {}: REF '{}' is not inside contig '{}', which has {contig_length} bases",
                                variant.pos, variant.reference, variant.chrom
                            ),
                            _ => format!("{}:{} column 4 (REF): {reason}", variant.chrom, variant.pos),
                        };
                        return Err(VariantError::ReferenceMismatch {
                            path: self.vcf.clone(),
                            line: variant.line,
                            message: format!(
                                "{what}; the VCF and the reference ({}) disagree — wrong genome build? Use --on-mismatch skip to score the rest and count these",
                                self.reference.display()
                            ),
                        });
                    }
                    Err(reason) => progress.count_skip(&reason),
                }
            }
            let effects = match scorer.effects_at(&windows, &loci) {
                Ok(effects) => effects,
                Err(message) => return Err(self.scoring_error(scorer, &scored, &windows, &loci, message)),
            };
            let width = tasks.len() * columns.len();
            if effects.len() != scored.len() * width {
                return Err(VariantError::Scoring(format!(
                    "the model ({}) gave {} values for {} variant(s) of {} task(s) × {} column(s) (scoring records of {})",
                    scorer.identity(),
                    effects.len(),
                    scored.len(),
                    tasks.len(),
                    columns.len(),
                    self.vcf.display()
                )));
            }
            for (k, variant) in scored.iter().enumerate() {
                // In range: the length was checked above.
                let record = EffectRecord { variant, tasks: &tasks, values: &effects[k * width..(k + 1) * width] };
                tsv.write_effects(&record).map_err(|e| naming(e, &tsv_partial))?;
                vcf.write_effects(&record).map_err(|e| naming(e, &vcf_partial))?;
            }
            scored_variants += scored.len() as u64;
            // Checkpoint: outputs on disk first, then the progress that points at them.
            tsv.flush().map_err(|e| naming(e, &tsv_partial))?;
            vcf.flush().map_err(|e| naming(e, &vcf_partial))?;
            progress.records_done += records_in_batch;
            progress.tsv_lines = tsv.lines();
            progress.vcf_lines = vcf.lines();
            progress.save(&progress_path)?;
            observer.advance(progress.records_done, "");
            if self.stop_after.is_some_and(|n| progress.records_done - session_start >= n) {
                return Ok(outcome(&progress, false, scored_variants));
            }
        }
        observer.finish();
        report_skips(&progress, observer);
        sync(tsv.finish().map_err(|e| naming(e, &tsv_partial))?, &tsv_partial)?;
        sync(vcf.finish().map_err(|e| naming(e, &vcf_partial))?, &vcf_partial)?;
        std::fs::rename(&tsv_partial, &tsv_path).map_err(|source| write_error(&tsv_path, source))?;
        std::fs::rename(&vcf_partial, &vcf_path).map_err(|source| write_error(&vcf_path, source))?;
        let summary = serde_json::json!({
            "records": shard_records,
            "shard": shard.to_string(),
            "variants_scored": progress.tsv_lines.saturating_sub(u64::from(header_owner)) / tasks.len().max(1) as u64,
            "skipped": progress.skipped,
            "tasks": tasks,
            "window": length,
            "strand_average": scorer.averages_strands(),
        });
        let summary_path = with_suffix(&self.out, ".summary.json");
        omix_io::write_atomically(&summary_path, |out| {
            out.write_all(serde_json::to_string_pretty(&summary)?.as_bytes())
        })?;
        let _ = std::fs::remove_file(&progress_path);
        Ok(outcome(&progress, true, scored_variants))
    }
}

/// Say prominently how many variants were skipped because the VCF and the reference disagree.
fn report_skips(progress: &Progress, observer: &mut dyn Observer) {
    let count = |key: &str| progress.skipped.get(key).copied().unwrap_or(0);
    let (mismatches, outside) = (count("reference_mismatch"), count("outside_contig"));
    if mismatches + outside > 0 {
        observer.message(&format!(
            "warning: skipped {mismatches} variant(s) whose REF disagrees with the reference and {outside} outside \
             their contig (--on-mismatch skip); many of these suggest the VCF was made on another genome build"
        ));
    }
}

/// Flush a writer's buffer and sync its file to disk.
fn sync(out: BufWriter<File>, path: &Path) -> Result<(), VariantError> {
    let file = out.into_inner().map_err(|error| write_error(path, error.into_error()))?;
    file.sync_all().map_err(|source| write_error(path, source))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vcf::tests::TestResult;

    /// The GC fraction of each window; refuses windows holding `R`.
    struct Gc;

    impl WindowScorer for Gc {
        fn window_length(&self) -> usize {
            6
        }
        fn output_names(&self) -> Vec<String> {
            vec!["gc".to_owned()]
        }
        fn score(&self, windows: &[Vec<u8>]) -> Result<Vec<f64>, String> {
            windows
                .iter()
                .enumerate()
                .map(|(k, w)| {
                    if w.contains(&b'R') {
                        return Err(format!("sequence {k}: invalid symbol 'R'"));
                    }
                    Ok(w.iter().filter(|b| matches!(b, b'G' | b'C')).count() as f64 / 6.0)
                })
                .collect()
        }
        fn averages_strands(&self) -> bool {
            false
        }
        fn identity(&self) -> String {
            "gc".to_owned()
        }
    }

    /// Pairwise effects that are no difference of window scores: per variant, the number of bases
    /// where REF and ALT windows differ, in every column; `extra` values more than asked.
    struct Mismatches {
        extra: usize,
    }

    impl WindowScorer for Mismatches {
        fn window_length(&self) -> usize {
            6
        }
        fn output_names(&self) -> Vec<String> {
            vec!["a".to_owned(), "b".to_owned()]
        }
        fn score(&self, windows: &[Vec<u8>]) -> Result<Vec<f64>, String> {
            Ok(vec![0.0; windows.len() * 2])
        }
        fn averages_strands(&self) -> bool {
            true
        }
        fn identity(&self) -> String {
            "mismatches".to_owned()
        }
        fn effect_columns(&self) -> &'static [EffectColumn] {
            &crate::PROFILE_COLUMNS
        }
        fn effects(&self, windows: &[Vec<u8>]) -> Result<Vec<f64>, String> {
            let mut values = Vec::new();
            for pair in windows.chunks(2) {
                let differ = pair[0].iter().zip(&pair[1]).filter(|(r, a)| r != a).count() as f64;
                values.extend(std::iter::repeat_n(differ, 2 * crate::PROFILE_COLUMNS.len()));
            }
            values.extend(std::iter::repeat_n(0.0, self.extra));
            Ok(values)
        }
    }

    #[test]
    fn pairwise_effects_are_written_and_resumed() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (reference, mut job) = setup(dir.path(), CALLS)?;
        let scorer = Mismatches { extra: 0 };
        job.run(&reference, &scorer, &mut Quiet)?;
        let whole = std::fs::read_to_string(dir.path().join("out.tsv"))?;
        let lines: Vec<&str> = whole.lines().collect();
        assert_eq!(lines.len(), 1 + 4 * 2, "{whole}");
        assert!(lines[0].ends_with("\ttask\tref_log_count\talt_log_count\tlogfc\tabs_logfc\tjsd\tabs_logfc_x_jsd"));
        assert_eq!(lines[1], "chr1\t2\t.\tC\tG\ta\t1\t1\t1\t1\t1\t1");
        let vcf = std::fs::read_to_string(dir.path().join("out.vcf"))?;
        assert!(vcf.contains("##INFO=<ID=OMIX_b_JSD,Number=1,Type=Float,"), "{vcf}");
        assert!(vcf.contains("\tOMIX_a_REF_LOGCOUNT=1;"), "{vcf}");
        let summary = std::fs::read_to_string(dir.path().join("out.summary.json"))?;
        assert!(summary.contains("\"variants_scored\": 4"), "{summary}");

        // Stopped after two records and resumed: the same bytes.
        job.out = dir.path().join("again");
        job.stop_after = Some(2);
        assert!(!job.run(&reference, &scorer, &mut Quiet)?.finished);
        job.stop_after = None;
        assert_eq!(job.run(&reference, &scorer, &mut Quiet)?.resumed_from, Some(2));
        assert_eq!(std::fs::read_to_string(dir.path().join("again.tsv"))?, whole);
        assert_eq!(std::fs::read_to_string(dir.path().join("again.vcf"))?, vcf);

        // A scorer that gives the wrong number of values is refused, naming it.
        job.out = dir.path().join("bad");
        let Err(e) = job.run(&reference, &Mismatches { extra: 3 }, &mut Quiet) else {
            return Err("a wrong number of values must be an error".into());
        };
        assert!(
            e.to_string().contains("(mismatches) gave 15 values for 1 variant(s) of 2 task(s) × 6 column(s)"),
            "{e}"
        );
        Ok(())
    }

    /// Silent.
    struct Quiet;

    impl Observer for Quiet {
        fn message(&mut self, _line: &str) {}
    }

    const HEADER: &str = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";

    /// A reference `g.fa` (chr1: 20 bases), a model file and a job over `calls.vcf` with `body`.
    fn setup(dir: &Path, body: &str) -> Result<(Reference, ScoringJob), Box<dyn std::error::Error>> {
        std::fs::write(dir.join("g.fa"), ">chr1\nACGTACGTAC\nGTACGTACGT\n")?;
        std::fs::write(dir.join("calls.vcf"), format!("{HEADER}{body}"))?;
        std::fs::write(dir.join("model.bpk"), "weights 1")?;
        let reference = Reference::open_with_index_cache(&dir.join("g.fa"), &dir.join("cache"), &mut |_: &str| {})?;
        let job = ScoringJob {
            vcf: dir.join("calls.vcf"),
            reference: dir.join("g.fa"),
            out: dir.join("out"),
            shard: Shard::ALL,
            batch_records: 1,
            on_mismatch: OnMismatch::Error,
            stop_after: None,
            model_files: vec![dir.join("model.bpk")],
        };
        Ok((reference, job))
    }

    const CALLS: &str = "chr1\t2\t.\tC\tG\t.\t.\t.\nchr1\t3\t.\tG\tA\t.\t.\t.\nchr1\t4\t.\tT\tC\t.\t.\t.\n\
                         chr1\t5\t.\tA\tG\t.\t.\t.\n";

    #[test]
    fn a_resume_with_other_inputs_is_refused_and_touches_nothing() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (reference, mut job) = setup(dir.path(), CALLS)?;
        job.stop_after = Some(2);
        assert!(!job.run(&reference, &Gc, &mut Quiet)?.finished);
        job.stop_after = None;
        let partial = dir.path().join("out.tsv.partial");
        let before = std::fs::read(&partial)?;
        let refused = |job: &ScoringJob| -> Result<String, Box<dyn std::error::Error>> {
            match job.run(&reference, &Gc, &mut Quiet) {
                Ok(_) => Err("the resume must be refused".into()),
                Err(e) => Ok(e.to_string()),
            }
        };
        // Another VCF with as many records.
        std::fs::write(dir.path().join("calls.vcf"), format!("{HEADER}{}", CALLS.replace("\tA\tG\t", "\tA\tT\t")))?;
        let message = refused(&job)?;
        assert!(message.contains("the VCF") && !message.contains("the model"), "{message}");
        assert!(message.contains("out.tsv.partial") && message.contains("another -o"), "{message}");
        std::fs::write(dir.path().join("calls.vcf"), format!("{HEADER}{CALLS}"))?;
        // The model retrained into the same file.
        std::fs::write(dir.path().join("model.bpk"), "weights 2")?;
        let message = refused(&job)?;
        assert!(message.contains("the model") && !message.contains("the VCF"), "{message}");
        assert_eq!(std::fs::read(&partial)?, before, "the partial output must be left untouched");
        // Back to the inputs it was started with: it resumes and finishes.
        std::fs::write(dir.path().join("model.bpk"), "weights 1")?;
        let outcome = job.run(&reference, &Gc, &mut Quiet)?;
        assert!(outcome.finished && outcome.resumed_from == Some(2));
        Ok(())
    }

    #[test]
    fn outside_contig_and_ref_n_are_errors_under_the_error_policy() -> TestResult {
        let dir = tempfile::tempdir()?;
        for (body, expected) in [
            (
                "chr1\t21\t.\tA\tC\t.\t.\t.\n",
                "calls.vcf:3: column 2 (POS) 21: REF 'A' is not inside contig 'chr1', which has 20 bases",
            ),
            ("chr1\t19\t.\tCGT\tC\t.\t.\t.\n", "calls.vcf:3: column 2 (POS) 19: REF 'CGT'"),
            (
                "chr1\t2\t.\tN\tG\t.\t.\t.\n",
                "calls.vcf:3: chr1:2 column 4 (REF): REF 'N' does not match the genome's 'C'",
            ),
        ] {
            let (reference, mut job) = setup(dir.path(), body)?;
            let Err(e) = job.run(&reference, &Gc, &mut Quiet) else {
                return Err(format!("{body:?} must be refused").into());
            };
            assert!(e.to_string().contains(expected), "{e}\n  expected: {expected}");
            // Skipped and counted under the skip policy.
            job.on_mismatch = OnMismatch::Skip;
            let outcome = job.run(&reference, &Gc, &mut Quiet)?;
            assert_eq!(outcome.skipped.values().sum::<u64>(), 1, "{body:?}");
            for suffix in [".tsv", ".vcf", ".summary.json"] {
                std::fs::remove_file(with_suffix(&job.out, suffix))?;
            }
        }
        Ok(())
    }

    #[test]
    fn a_window_the_model_refuses_names_the_record() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (reference, job) = setup(dir.path(), "chr1\t2\t.\tC\tG\t.\t.\t.\nchr1\t3\t.\tG\tR\t.\t.\t.\n")?;
        let Err(e) = job.run(&reference, &Gc, &mut Quiet) else {
            return Err("an unscorable window must be an error".into());
        };
        let text = e.to_string();
        assert!(
            text.contains("calls.vcf, line 4: chr1:3 G>R: the model cannot score the alternative window"),
            "{text}"
        );
        Ok(())
    }
}
