//! Genome-scale commands: `score-variants` (VCF → per-task effect scores, streamed, resumable,
//! sharded) and `predict --reference` (BED windows or tiles → bedGraph).

use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use omix_genome::{BedGraphWriter, Reference, Window, check_contigs, read_bed, tiles};
use omix_run::{Observer, RunDir};
use omix_train::predictor::SequencePredictor;
use omix_variants::{
    Progress, ScoreRecord, SequenceSource, Shard, SkipReason, TsvScoreWriter, Variant, VcfReader, VcfScoreWriter,
    truncate_to_lines, variant_windows,
};

use crate::cli::{MismatchChoice, ScoreVariantsArgs};
use crate::progress::Terminal;

/// The reference genome as a sequence source for variant windows.
struct GenomeSource<'a>(&'a Reference);

impl SequenceSource for GenomeSource<'_> {
    fn fetch(&self, contig: &str, start: i64, end: i64) -> Result<Vec<u8>, String> {
        self.0.fetch(contig, start, end).map_err(|e| e.to_string())
    }

    fn contig_length(&self, contig: &str) -> Option<u64> {
        self.0.contig_length(contig)
    }
}

/// `PREFIX.suffix`.
fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// `omix score-variants`. On an error before the first checkpoint the partial outputs are
/// removed (nothing in them could be resumed); after it they stay for the next run to resume.
pub fn score_variants(args: ScoreVariantsArgs, device: &Device) -> Result<()> {
    let result = score_variants_resumable(&args, device);
    if result.is_err() && !with_suffix(&args.out, ".progress.json").exists() {
        for suffix in [".tsv.partial", ".vcf.partial"] {
            let _ = std::fs::remove_file(with_suffix(&args.out, suffix));
        }
    }
    result
}

fn score_variants_resumable(args: &ScoreVariantsArgs, device: &Device) -> Result<()> {
    let started = Instant::now();
    let run = RunDir::new(&args.run);
    let mut predictor = SequencePredictor::new(&run, device)?;
    if args.no_strand_average {
        predictor.set_average_strands(false);
    }
    let length = predictor.length();
    let tasks = predictor.output_names();
    let reference = Reference::open(&args.reference, &mut |line| eprintln!("{line}"))?;
    let source = GenomeSource(&reference);

    // One streaming pass: how many records, and which contigs (checked before any scoring).
    let mut scan = VcfReader::open(&args.vcf)?;
    for variant in scan.by_ref() {
        variant?;
    }
    let total = scan.records_read();
    check_contigs(&args.vcf, scan.contigs_seen().iter().map(String::as_str), &reference)?;
    let shard = args.shard.unwrap_or(Shard::ALL);
    let range = shard.range(total);

    let tsv_path = with_suffix(&args.out, ".tsv");
    let vcf_path = with_suffix(&args.out, ".vcf");
    let tsv_partial = with_suffix(&args.out, ".tsv.partial");
    let vcf_partial = with_suffix(&args.out, ".vcf.partial");
    let progress_path = with_suffix(&args.out, ".progress.json");
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let fingerprint = format!(
        "run={} vcf={} reference={} shard={shard} records={total} length={length} strands={} mismatch={:?}",
        args.run.display(),
        args.vcf.display(),
        args.reference.display(),
        predictor.averages_strands(),
        args.on_mismatch
    );
    let resumed = match Progress::try_load(&progress_path)? {
        Some(progress) if progress.fingerprint == fingerprint && tsv_partial.exists() && vcf_partial.exists() => {
            Some(progress)
        }
        Some(_) => bail!(
            "{} belongs to a different scoring run (other inputs, model, shard or settings); delete it and {}.partial / {}.partial to start over",
            progress_path.display(),
            tsv_path.display(),
            vcf_path.display()
        ),
        None => None,
    };
    let mut progress = resumed.clone().unwrap_or(Progress { fingerprint: fingerprint.clone(), ..Progress::default() });

    let mut reader = VcfReader::open(&args.vcf)?;
    let header_owner = shard.index == 1;
    let (mut tsv, mut vcf) = match &resumed {
        Some(done) => {
            truncate_to_lines(&tsv_partial, done.tsv_lines)
                .with_context(|| format!("cannot cut {} back to the last checkpoint", tsv_partial.display()))?;
            truncate_to_lines(&vcf_partial, done.vcf_lines)
                .with_context(|| format!("cannot cut {} back to the last checkpoint", vcf_partial.display()))?;
            let open = |path: &Path| -> Result<BufWriter<File>> {
                Ok(BufWriter::new(
                    OpenOptions::new()
                        .append(true)
                        .open(path)
                        .with_context(|| format!("cannot open {}", path.display()))?,
                ))
            };
            eprintln!(
                "resuming: {} of {} records of this shard already scored ({})",
                done.records_done,
                range.end - range.start,
                progress_path.display()
            );
            (
                TsvScoreWriter::resume(open(&tsv_partial)?, done.tsv_lines),
                VcfScoreWriter::resume(open(&vcf_partial)?, &tasks, "OMIX", done.vcf_lines)?,
            )
        }
        None => {
            let create = |path: &Path| -> Result<BufWriter<File>> {
                Ok(BufWriter::new(File::create(path).with_context(|| format!("cannot create {}", path.display()))?))
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
    let mut bar = Terminal::new(args.quiet);
    bar.start("variants", shard_records);
    bar.advance(progress.records_done, "");

    let batch_records = args.batch_size.max(1) as u64;
    let mut pending: Vec<Variant> = Vec::new();
    let mut next: Option<Variant> = None;
    let mut scored_variants = 0u64;
    let session_start = progress.records_done;
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
            match variant_windows(&source, variant, length) {
                Ok(w) => {
                    windows.push(w.reference);
                    windows.push(w.alternative);
                    scored.push(variant);
                }
                Err(reason @ SkipReason::ReferenceMismatch { .. }) if args.on_mismatch == MismatchChoice::Error => {
                    bail!(
                        "{}:{}: {}:{} {reason}; the VCF and the reference ({}) disagree — wrong genome build? Use --on-mismatch skip to score the rest and count these",
                        args.vcf.display(),
                        variant.line,
                        variant.chrom,
                        variant.pos,
                        args.reference.display()
                    );
                }
                Err(reason) => progress.count_skip(&reason),
            }
        }
        let scores = predictor.predict(&windows)?;
        let outputs = tasks.len();
        for (k, variant) in scored.iter().enumerate() {
            let reference_scores = &scores[2 * k * outputs..(2 * k + 1) * outputs];
            let alternative_scores = &scores[(2 * k + 1) * outputs..(2 * k + 2) * outputs];
            let record =
                ScoreRecord { variant, tasks: &tasks, reference: reference_scores, alternative: alternative_scores };
            tsv.write(&record)?;
            vcf.write(&record)?;
        }
        scored_variants += scored.len() as u64;
        // Checkpoint: outputs on disk first, then the progress that points at them.
        tsv_flush(&mut tsv)?;
        vcf_flush(&mut vcf)?;
        progress.records_done += records_in_batch;
        progress.tsv_lines = tsv.lines();
        progress.vcf_lines = vcf.lines();
        progress.save(&progress_path)?;
        bar.advance(progress.records_done, "");
        if args.stop_after.is_some_and(|n| progress.records_done - session_start >= n) {
            bar.finish();
            eprintln!("stopped after {} records as asked; run the same command again to resume", progress.records_done);
            return Ok(());
        }
    }
    bar.finish();
    let tsv_out = tsv.finish()?;
    let vcf_out = vcf.finish()?;
    sync(tsv_out, &tsv_partial)?;
    sync(vcf_out, &vcf_partial)?;
    std::fs::rename(&tsv_partial, &tsv_path).with_context(|| format!("cannot rename to {}", tsv_path.display()))?;
    std::fs::rename(&vcf_partial, &vcf_path).with_context(|| format!("cannot rename to {}", vcf_path.display()))?;
    let summary = serde_json::json!({
        "records": shard_records,
        "shard": shard.to_string(),
        "variants_scored": progress.tsv_lines.saturating_sub(u64::from(header_owner)) / tasks.len().max(1) as u64,
        "skipped": progress.skipped,
        "tasks": tasks,
        "window": length,
        "strand_average": predictor.averages_strands(),
    });
    let summary_path = with_suffix(&args.out, ".summary.json");
    omix_io::write_atomically(&summary_path, |out| out.write_all(serde_json::to_string_pretty(&summary)?.as_bytes()))?;
    let _ = std::fs::remove_file(&progress_path);
    let seconds = started.elapsed().as_secs_f64();
    let skipped: u64 = progress.skipped.values().sum();
    eprintln!(
        "{} records ({} in this session, {scored_variants} variants scored, {skipped} skipped: {}) in {seconds:.1}s, {:.0} variants/s",
        shard_records,
        progress.records_done - session_start,
        if progress.skipped.is_empty() {
            "none".to_string()
        } else {
            progress.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
        },
        scored_variants as f64 / seconds.max(1e-9)
    );
    eprintln!("wrote {} and {}", tsv_path.display(), vcf_path.display());
    Ok(())
}

fn tsv_flush(writer: &mut TsvScoreWriter<BufWriter<File>>) -> Result<()> {
    writer.flush().context("cannot write the TSV output")
}

fn vcf_flush(writer: &mut VcfScoreWriter<BufWriter<File>>) -> Result<()> {
    writer.flush().context("cannot write the VCF output")
}

fn sync(out: BufWriter<File>, path: &Path) -> Result<()> {
    let file = out.into_inner().map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error()))?;
    file.sync_all().with_context(|| format!("cannot sync {}", path.display()))
}

/// Windows to predict along the genome: centred on BED intervals, or tiles.
pub enum TrackWindows {
    /// One window of the model's length centred on each interval.
    Bed(PathBuf),
    /// Tiles of the model's length every `stride` bp, over the BED's regions or whole contigs.
    Tiles { regions: Option<PathBuf>, stride: u64 },
}

/// `omix predict RUN --reference FA (--bed BED | --tile STRIDE)`: one bedGraph per output.
pub fn predict_track(
    run: &Path,
    reference_path: &Path,
    windows: TrackWindows,
    out: &Path,
    shard: Option<Shard>,
    batch_size: usize,
    quiet: bool,
    device: &Device,
) -> Result<()> {
    let started = Instant::now();
    let predictor = SequencePredictor::new(&RunDir::new(run), device)?;
    let length = predictor.length() as u64;
    let names = predictor.output_names();
    let reference = Reference::open(reference_path, &mut |line| eprintln!("{line}"))?;
    let regions = match &windows {
        TrackWindows::Bed(path) | TrackWindows::Tiles { regions: Some(path), .. } => {
            let records = read_bed(path)?;
            check_contigs(path, records.iter().map(|r| r.chrom.as_str()), &reference)?;
            Some(records)
        }
        TrackWindows::Tiles { regions: None, .. } => None,
    };
    // A deterministic list of windows (counted first so shards are contiguous blocks).
    let make = || -> Box<dyn Iterator<Item = Window> + '_> {
        match (&windows, &regions) {
            (TrackWindows::Bed(_), Some(records)) => {
                Box::new(records.iter().map(move |r| Window::centred(&r.chrom, r.start, r.end, length, 0)))
            }
            (TrackWindows::Tiles { stride, .. }, regions) => {
                Box::new(tiles(&reference, regions.as_deref(), length, (*stride).max(1)))
            }
            (TrackWindows::Bed(_), None) => Box::new(std::iter::empty()),
        }
    };
    let total = make().count() as u64;
    let shard = shard.unwrap_or(Shard::ALL);
    let range = shard.range(total);
    let paths: Vec<PathBuf> = if names.len() == 1 {
        vec![out.to_path_buf()]
    } else {
        names.iter().map(|name| with_suffix(out, &format!(".{}.bedgraph", omix_explain::file_safe(name)))).collect()
    };
    let partials: Vec<PathBuf> = paths.iter().map(|p| with_suffix(p, ".partial")).collect();
    let mut writers = Vec::with_capacity(paths.len());
    for (name, partial) in names.iter().zip(&partials) {
        let file =
            BufWriter::new(File::create(partial).with_context(|| format!("cannot create {}", partial.display()))?);
        let description = format!("omix predictions of {} ({} bp windows)", name, length);
        writers.push(if shard.index == 1 {
            BedGraphWriter::new(file, name, &description)?
        } else {
            BedGraphWriter::without_header(file)
        });
    }
    let mut bar = Terminal::new(quiet);
    bar.start("windows", range.end - range.start);
    let mut done = 0u64;
    let mut batch: Vec<Window> = Vec::with_capacity(batch_size);
    let mut flush = |batch: &mut Vec<Window>, writers: &mut Vec<BedGraphWriter<BufWriter<File>>>| -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let sequences =
            batch.iter().map(|w| reference.fetch(&w.chrom, w.start, w.end)).collect::<Result<Vec<_>, _>>()?;
        let scores = predictor.predict(&sequences)?;
        for (k, window) in batch.iter().enumerate() {
            for (o, writer) in writers.iter_mut().enumerate() {
                // bedGraph intervals are clipped to the contig (a padded window's score still
                // belongs to its bases inside).
                let start = window.start.max(0) as u64;
                let end = (window.end.max(0) as u64).min(reference.contig_length(&window.chrom).unwrap_or(u64::MAX));
                writer.write(&window.chrom, start, end, scores[k * names.len() + o])?;
            }
        }
        done += batch.len() as u64;
        bar.advance(done, "");
        batch.clear();
        Ok(())
    };
    for window in make().skip(range.start as usize).take((range.end - range.start) as usize) {
        batch.push(window);
        if batch.len() >= batch_size.max(1) {
            flush(&mut batch, &mut writers)?;
        }
    }
    flush(&mut batch, &mut writers)?;
    bar.finish();
    for ((writer, partial), path) in writers.into_iter().zip(&partials).zip(&paths) {
        let out = writer.finish()?;
        sync(out, partial)?;
        std::fs::rename(partial, path).with_context(|| format!("cannot rename to {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    eprintln!(
        "{} windows of {length} bp (shard {shard}) in {:.1}s",
        range.end - range.start,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
