//! Scoring a VCF with a model, as one resumable, shardable job.
//!
//! [`ScoringJob::run`] streams the VCF once to count its records and check its contig names
//! against the reference, takes this shard's contiguous block of records, and scores them in
//! batches: each variant's REF and ALT windows go through a [`WindowScorer`] (the trained model,
//! supplied by the caller), the scores are written to `PREFIX.tsv.partial` and
//! `PREFIX.vcf.partial`, and after every batch the outputs are flushed and then
//! `PREFIX.progress.json` records how far it got. Running the same job again after a kill
//! resumes from there (the partial files are cut back to the checkpoint); at the end the partial
//! files are synced and renamed and `PREFIX.summary.json` is written. Only shard 1 writes
//! headers, so shard outputs concatenated in order equal the unsharded output.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use omix_genome::{Reference, check_contigs};
use omix_io::IoError;
use omix_run::Observer;

use crate::{
    Progress, ScoreRecord, Shard, SkipReason, TsvScoreWriter, Variant, VariantError, VcfReader, VcfScoreWriter,
    truncate_to_lines, variant_windows,
};

/// A model as variant scoring sees it: windows of one length in, one score per output out.
pub trait WindowScorer {
    /// The window length the model reads.
    fn window_length(&self) -> usize;
    /// The names of the outputs (tasks), in score order.
    fn output_names(&self) -> Vec<String>;
    /// Scores `[windows, outputs]` (row-major) of windows of [`WindowScorer::window_length`].
    fn score(&self, windows: &[Vec<u8>]) -> Result<Vec<f64>, String>;
    /// Whether both strands are averaged (recorded in the summary).
    fn averages_strands(&self) -> bool;
    /// What identifies the model and its settings, for the resume fingerprint.
    fn identity(&self) -> String;
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

/// `PREFIX.suffix`.
pub fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

fn write_error(path: &Path, source: std::io::Error) -> VariantError {
    VariantError::Io(IoError::Write { path: path.to_path_buf(), source })
}

impl ScoringJob {
    /// The progress file of this job's outputs.
    pub fn progress_path(&self) -> PathBuf {
        with_suffix(&self.out, ".progress.json")
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
        let fingerprint = format!(
            "{} vcf={} reference={} shard={shard} records={total} length={length} mismatch={:?}",
            scorer.identity(),
            self.vcf.display(),
            self.reference.display(),
            self.on_mismatch
        );
        let resumed = match Progress::try_load(&progress_path)? {
            Some(progress) if progress.fingerprint == fingerprint && tsv_partial.exists() && vcf_partial.exists() => {
                Some(progress)
            }
            Some(_) => {
                return Err(VariantError::ForeignProgress { path: progress_path, tsv: tsv_path, vcf: vcf_path });
            }
            None => None,
        };
        let mut progress =
            resumed.clone().unwrap_or(Progress { fingerprint: fingerprint.clone(), ..Progress::default() });

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
                    TsvScoreWriter::resume(open(&tsv_partial)?, done.tsv_lines),
                    VcfScoreWriter::resume(open(&vcf_partial)?, &tasks, "OMIX", done.vcf_lines)?,
                )
            }
            None => {
                let create = |path: &Path| -> Result<BufWriter<File>, VariantError> {
                    Ok(BufWriter::new(File::create(path).map_err(|source| write_error(path, source))?))
                };
                let (tsv_out, vcf_out) = (create(&tsv_partial)?, create(&vcf_partial)?);
                // Only shard 1 writes headers, so that shard outputs concatenate to the unsharded one.
                if header_owner {
                    (TsvScoreWriter::new(tsv_out)?, VcfScoreWriter::new(vcf_out, reader.header(), &tasks)?)
                } else {
                    (TsvScoreWriter::resume(tsv_out, 0), VcfScoreWriter::resume(vcf_out, &tasks, "OMIX", 0)?)
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
            let mut scored: Vec<&Variant> = Vec::with_capacity(pending.len());
            for variant in &pending {
                match variant_windows(reference, variant, length) {
                    Ok(w) => {
                        windows.push(w.reference);
                        windows.push(w.alternative);
                        scored.push(variant);
                    }
                    Err(reason @ SkipReason::ReferenceMismatch { .. }) if self.on_mismatch == OnMismatch::Error => {
                        return Err(VariantError::ReferenceMismatch {
                            path: self.vcf.clone(),
                            line: variant.line,
                            message: format!(
                                "{}:{} {reason}; the VCF and the reference ({}) disagree — wrong genome build? Use --on-mismatch skip to score the rest and count these",
                                variant.chrom,
                                variant.pos,
                                self.reference.display()
                            ),
                        });
                    }
                    Err(reason) => progress.count_skip(&reason),
                }
            }
            let scores = scorer.score(&windows).map_err(VariantError::Scoring)?;
            let outputs = tasks.len();
            for (k, variant) in scored.iter().enumerate() {
                let reference_scores = &scores[2 * k * outputs..(2 * k + 1) * outputs];
                let alternative_scores = &scores[(2 * k + 1) * outputs..(2 * k + 2) * outputs];
                let record = ScoreRecord {
                    variant,
                    tasks: &tasks,
                    reference: reference_scores,
                    alternative: alternative_scores,
                };
                tsv.write(&record)?;
                vcf.write(&record)?;
            }
            scored_variants += scored.len() as u64;
            // Checkpoint: outputs on disk first, then the progress that points at them.
            tsv.flush()?;
            vcf.flush()?;
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
        sync(tsv.finish()?, &tsv_partial)?;
        sync(vcf.finish()?, &vcf_partial)?;
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

/// Flush a writer's buffer and sync its file to disk.
fn sync(out: BufWriter<File>, path: &Path) -> Result<(), VariantError> {
    let file = out.into_inner().map_err(|error| write_error(path, error.into_error()))?;
    file.sync_all().map_err(|source| write_error(path, source))
}
