//! Genome-scale commands: `score-variants` (VCF → per-task effect scores, streamed, resumable,
//! sharded) and `predict --reference` (BED windows or tiles → bedGraph).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use omix_genome::{BedGraphWriter, Reference, Window, check_intervals, read_bed, tiles};
use omix_run::{Observer, RunDir};
use omix_train::predictor::SequencePredictor;
use omix_train::profile_scorer::ProfileScorer;
use omix_variants::{
    OnMismatch, ScoringJob, Shard, WindowScorer, refuse_outputs_over_inputs, scoring_outputs, with_suffix,
};

use crate::cli::{
    AssayChoice, MismatchChoice, ScoreVariantsArgs, SimulateTracksArgs, SimulatedAssayChoice, TracksArgs,
};
use crate::progress::Terminal;

/// `omix score-variants`: the library's resumable [`ScoringJob`] with the run's model: a
/// classifier's [`SequencePredictor`] (REF/ALT scores and their difference), or for a profile run
/// (BPNet, ChromBPNet bias-corrected) the [`ProfileScorer`] (count log fold change, profile JSD).
pub fn score_variants(args: ScoreVariantsArgs, device: &Device) -> Result<()> {
    let started = Instant::now();
    let named = [(args.vcf.as_path(), "the VCF"), (args.reference.as_path(), "the reference")];
    refuse_outputs_over_inputs(&scoring_outputs(&args.out), &named, &args.reference, &args.run)?;
    let run = RunDir::new(&args.run);
    let scorer = variant_scorer(&run, !args.no_strand_average, device)?;
    let reference = Reference::open(&args.reference, &mut |line| eprintln!("{line}"))?;
    let job = ScoringJob {
        vcf: args.vcf.clone(),
        reference: args.reference.clone(),
        out: args.out.clone(),
        shard: args.shard.unwrap_or(Shard::ALL),
        batch_records: args.batch_size.max(1) as u64,
        on_mismatch: match args.on_mismatch {
            MismatchChoice::Error => OnMismatch::Error,
            MismatchChoice::Skip => OnMismatch::Skip,
        },
        stop_after: args.stop_after,
        model_files: run.model_files(),
    };
    let outcome = job.run(&reference, scorer.as_ref(), &mut Terminal::new(args.quiet))?;
    if !outcome.finished {
        eprintln!(
            "stopped after {} records as asked; run the same command again to resume",
            outcome.resumed_from.unwrap_or(0) + outcome.records_this_call
        );
        return Ok(());
    }
    let seconds = started.elapsed().as_secs_f64();
    let skipped: u64 = outcome.skipped.values().sum();
    eprintln!(
        "{} records ({} in this session, {} variants scored, {skipped} skipped: {}) in {seconds:.1}s, {:.0} variants/s",
        outcome.records,
        outcome.records_this_call,
        outcome.variants_scored,
        if outcome.skipped.is_empty() {
            "none".to_string()
        } else {
            outcome.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
        },
        outcome.variants_scored as f64 / seconds.max(1e-9)
    );
    eprintln!("wrote {} and {}", outcome.tsv.display(), outcome.vcf_out.display());
    Ok(())
}

/// The run's model as variant scoring's [`WindowScorer`]; `average_strands: false` turns off the
/// reverse-complement averaging a run would otherwise do.
fn variant_scorer(run: &RunDir, average_strands: bool, device: &Device) -> Result<Box<dyn WindowScorer>> {
    if omix_train::profile::ProfileRun::is_profile(run) {
        let mut scorer = ProfileScorer::new(run, device)?;
        scorer.set_average_strands(average_strands);
        return Ok(Box::new(scorer));
    }
    let mut predictor = SequencePredictor::new(run, device)?;
    if !average_strands {
        predictor.set_average_strands(false);
    }
    Ok(Box::new(predictor))
}

/// Flush a writer's buffer and sync its file to disk.
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

/// What `omix predict --reference` predicts: windows of a run's model along a genome.
pub struct Track<'a> {
    /// The run folder.
    pub run: &'a Path,
    /// The reference genome.
    pub reference: &'a Path,
    /// Which windows.
    pub windows: TrackWindows,
    /// The bedGraph (one per output: `OUT.<name>.bedgraph` when the model has several).
    pub out: &'a Path,
    /// Only part of the windows.
    pub shard: Option<Shard>,
    /// Windows per batch.
    pub batch_size: usize,
}

/// The reference and the checked BED intervals of a track prediction, after refusing `outputs` that
/// would overwrite an input (the reference, the BED file, the run's model files).
fn open_track_inputs(
    track: &Track<'_>,
    outputs: &[PathBuf],
) -> Result<(Reference, Option<Vec<omix_genome::BedRecord>>)> {
    let bed = match &track.windows {
        TrackWindows::Bed(path) | TrackWindows::Tiles { regions: Some(path), .. } => Some(path.as_path()),
        TrackWindows::Tiles { regions: None, .. } => None,
    };
    let mut named = vec![(track.reference, "the reference")];
    named.extend(bed.map(|path| (path, "the BED file")));
    refuse_outputs_over_inputs(outputs, &named, track.reference, track.run)?;
    let reference = Reference::open(track.reference, &mut |line| eprintln!("{line}"))?;
    let regions = match bed {
        Some(path) => {
            let records = read_bed(path)?;
            check_intervals(path, &records, &reference)?;
            Some(records)
        }
        None => None,
    };
    Ok((reference, regions))
}

/// `omix predict RUN --reference FA (--bed BED | --tile STRIDE)`: one bedGraph per output.
pub fn predict_track(track: &Track<'_>, observer: &mut dyn Observer, device: &Device) -> Result<()> {
    let Track { run, reference: reference_path, windows, out, shard, batch_size } = track;
    let (shard, batch_size) = (*shard, *batch_size);
    let started = Instant::now();
    let predictor = SequencePredictor::new(&RunDir::new(run), device)?;
    let length = predictor.length() as u64;
    let names = predictor.output_names();
    let paths: Vec<PathBuf> = if names.len() == 1 {
        vec![out.to_path_buf()]
    } else {
        names.iter().map(|name| with_suffix(out, &format!(".{}.bedgraph", omix_explain::file_safe(name)))).collect()
    };
    let partials: Vec<PathBuf> = paths.iter().map(|p| with_suffix(p, ".partial")).collect();
    let (reference, regions) = open_track_inputs(track, &[paths.as_slice(), partials.as_slice()].concat())?;
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
    let mut writers = Vec::with_capacity(paths.len());
    for (name, partial) in names.iter().zip(&partials) {
        let file =
            BufWriter::new(File::create(partial).with_context(|| format!("cannot create {}", partial.display()))?);
        let description = format!("omix predictions of {} ({} bp windows)", name, length);
        let writer = if shard.index == 1 {
            BedGraphWriter::new(file, name, &description)?
        } else {
            BedGraphWriter::without_header(file)
        };
        writers.push(writer.for_file(partial));
    }
    let bar = observer;
    bar.start("windows", range.end - range.start);
    let mut done = 0u64;
    let mut batch: Vec<Window> = Vec::with_capacity(batch_size);
    let mut flush = |batch: &mut Vec<Window>, writers: &mut Vec<BedGraphWriter<BufWriter<File>>>| -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let sequences = batch
            .iter()
            .map(|w| {
                reference
                    .fetch(&w.chrom, w.start, w.end)
                    .with_context(|| format!("reading window {w} of {}", reference_path.display()))
            })
            .collect::<Result<Vec<_>>>()?;
        let scores = match predictor.predict(&sequences) {
            Ok(scores) => scores,
            Err(error) => {
                // Name the window (and the reference) the model refuses: predict them one at a time.
                for (window, sequence) in batch.iter().zip(&sequences) {
                    if let Err(error) = predictor.predict(std::slice::from_ref(sequence)) {
                        bail!(
                            "{}: the model cannot score the bases of window {window}: {error}",
                            reference_path.display()
                        );
                    }
                }
                return Err(error.into());
            }
        };
        for (k, window) in batch.iter().enumerate() {
            for (o, writer) in writers.iter_mut().enumerate() {
                // bedGraph intervals are clipped to the contig (a padded window's score still
                // belongs to its bases inside).
                let start = window.start.max(0) as u64;
                let end = (window.end.max(0) as u64).min(reference.contig_length(&window.chrom).unwrap_or(u64::MAX));
                writer
                    .write(&window.chrom, start, end, scores[k * names.len() + o])
                    .with_context(|| format!("writing {}", partials[o].display()))?;
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

/// `omix tracks`: reads → per-base cut counts → bigWig, streamed ([`omix_tracks::TrackJob`]).
pub fn tracks(args: TracksArgs) -> Result<()> {
    use omix_tracks::{Assay, ChromSizes, ReadFilter, Shift, Stranding, TrackJob, is_bam};
    let started = Instant::now();
    let assay = match args.assay {
        AssayChoice::Chip => Assay::Chip,
        AssayChoice::Dnase => Assay::Dnase,
        AssayChoice::Atac => Assay::Atac,
    };
    let bam = is_bam(&args.input)?;
    let default = if bam { assay.bam_shift() } else { assay.fragment_shift() };
    let shift =
        Shift { plus: args.shift_plus.unwrap_or(default.plus), minus: args.shift_minus.unwrap_or(default.minus) };
    let stranding = if args.stranded { Stranding::Stranded } else { Stranding::Unstranded };
    let outputs = TrackJob::outputs_for(&args.out, stranding);
    let mut inputs = vec![(args.input.as_path(), "the reads")];
    if let Some(reference) = &args.reference {
        inputs.push((reference.as_path(), "the reference"));
    }
    if let Some(sizes) = &args.chrom_sizes {
        inputs.push((sizes.as_path(), "the chrom sizes"));
    }
    for output in &outputs {
        omix_io::refuse_output_over_inputs(output, &inputs)?;
    }
    let sizes = match (&args.reference, &args.chrom_sizes) {
        (Some(reference), _) => {
            Some(ChromSizes::of_reference(&Reference::open(reference, &mut |line| eprintln!("{line}"))?))
        }
        (None, Some(path)) => Some(ChromSizes::read(path)?),
        (None, None) => None,
    };
    let job = TrackJob {
        input: args.input.clone(),
        outputs,
        shift,
        stranding,
        filter: ReadFilter {
            min_mapq: args.min_mapq,
            keep_duplicates: args.keep_duplicates,
            keep_secondary: args.keep_secondary,
            keep_supplementary: args.keep_supplementary,
            keep_qc_fail: args.keep_qc_fail,
        },
        allow_missing_contigs: args.allow_missing_contigs,
    };
    let summary = job.run(sizes.as_ref(), &mut |line| eprintln!("warning: {line}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let counts = &summary.counts;
    eprintln!(
        "{}: {} records, {} counted; shift {:+}/{:+} ({})",
        args.input.display(),
        counts.records,
        counts.used,
        shift.plus,
        shift.minus,
        match args.assay {
            AssayChoice::Chip => "chip",
            AssayChoice::Dnase => "dnase",
            AssayChoice::Atac => "atac",
        }
    );
    for line in counts.dropped_lines() {
        eprintln!("  {line}");
    }
    if counts.cuts_outside > 0 {
        eprintln!("  {} cuts fell off a contig's end after the shift and were not counted", counts.cuts_outside);
    }
    for path in &summary.written {
        println!("{}", path.display());
    }
    eprintln!("{} cuts in {:.1} s ({:.0} records/s)", counts.cuts, seconds, counts.records as f64 / seconds.max(1e-9));
    Ok(())
}

/// `omix simulate-tracks`: [`omix_tracks::simulate_profiles`] into a folder.
pub fn simulate_tracks(args: SimulateTracksArgs) -> Result<()> {
    use omix_tracks::{ProfileSimulation, SimulatedAssay, simulate_profiles};
    let started = Instant::now();
    let mut settings = if args.small { ProfileSimulation::small() } else { ProfileSimulation::default() };
    settings.seed = args.seed;
    settings.assay = match args.assay {
        SimulatedAssayChoice::Chip => SimulatedAssay::Chip,
        SimulatedAssayChoice::Atac => SimulatedAssay::Atac,
    };
    if args.control {
        settings.control_depth = 0.05;
    }
    let summary = simulate_profiles(&settings, &args.out)?;
    eprintln!(
        "{} bp genome, {} peaks, {} planted motif instances ({}), {} reads ({} in peaks) in {:.1} s",
        summary.genome_length,
        summary.peaks,
        summary.motif_instances,
        summary.instances_per_motif.iter().map(|(m, n)| format!("{m} {n}")).collect::<Vec<_>>().join(", "),
        summary.reads,
        summary.reads_in_peaks,
        started.elapsed().as_secs_f64()
    );
    for path in summary.files.all() {
        println!("{}", path.display());
    }
    Ok(())
}

/// `omix predict RUN --reference FA (--bed BED | --tile STRIDE) -o OUT.bw` for a profile run: expected
/// counts per base of every task and strand as bigWig (one file per track), windows of the model's output
/// length centred on the BED intervals or tiled every STRIDE bp; where windows overlap, their predictions
/// are averaged.
pub fn predict_profile_track(track: &Track<'_>, observer: &mut dyn Observer, device: &Device) -> Result<()> {
    use omix_tracks::{BigWigSink, ChromSizes, Run};
    use omix_train::profile::ProfileRun;
    let started = Instant::now();
    if track.shard.is_some() {
        bail!("--shard is not supported for profile models' bigWig output (a bigWig cannot be concatenated)");
    }
    let profile = ProfileRun::load(&RunDir::new(track.run), device)?;
    let output = profile.shape.output_length as u64;
    let names = profile.track_names();
    let stem = track.out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut paths: Vec<PathBuf> = if names.len() == 1 {
        vec![track.out.to_path_buf()]
    } else {
        let single_task = profile.shape.tasks == 1;
        names
            .iter()
            .map(|name| {
                let name = if single_task { name.rsplit('.').next().unwrap_or(name) } else { name };
                track.out.with_file_name(format!("{stem}.{}.bw", omix_explain::file_safe(name)))
            })
            .collect()
    };
    // ChromBPNet: the bias-corrected tracks under the asked names, and beside them what the data look
    // like (TF and bias models together) as `STEM.with_bias…`.
    let corrected = paths.len();
    if profile.bias.is_some() {
        let with_bias: Vec<PathBuf> = paths
            .iter()
            .map(|path| {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let rest = name.strip_prefix(stem.as_str()).unwrap_or(&name).to_owned();
                path.with_file_name(format!("{stem}.with_bias{rest}"))
            })
            .collect();
        paths.extend(with_bias);
    }
    let (reference, regions) = open_track_inputs(track, &paths)?;
    let sizes = ChromSizes::of_reference(&reference);
    // Output windows in reference order, so each contig's bases are final once the windows pass them.
    let mut windows: Vec<Window> = match (&track.windows, &regions) {
        (TrackWindows::Bed(_), Some(records)) => {
            records.iter().map(|r| Window::centred(&r.chrom, r.start, r.end, output, 0)).collect()
        }
        (TrackWindows::Tiles { stride, .. }, regions) => {
            tiles(&reference, regions.as_deref(), output, (*stride).max(1)).collect()
        }
        (TrackWindows::Bed(_), None) => Vec::new(),
    };
    let order = |chrom: &str| sizes.index_of(chrom).unwrap_or(usize::MAX);
    windows.sort_by_key(|a| (order(&a.chrom), a.start));
    windows.dedup();
    if windows.is_empty() {
        bail!("no window to predict: the BED file or the tiling gave none");
    }
    let tracks = paths.len();
    let mut sink = BigWigSink::create(&paths, &sizes)?;
    // Per track: sums and counts of the bases from `base` on, not yet final.
    let mut base = 0i64;
    let mut sums: Vec<std::collections::VecDeque<(f64, u32)>> = vec![Default::default(); tracks];
    let mut contig: Option<usize> = None;
    let flush = |sink: &mut BigWigSink,
                 sums: &mut [std::collections::VecDeque<(f64, u32)>],
                 base: &mut i64,
                 contig: usize,
                 before: i64| {
        while *base < before {
            let mut any = false;
            for (t, queue) in sums.iter_mut().enumerate() {
                if let Some((sum, n)) = queue.pop_front() {
                    any = true;
                    let position = (*base).max(0) as u32;
                    if n > 0 && *base >= 0 {
                        sink.push(
                            contig,
                            t,
                            Run { start: position, end: position + 1, value: (sum / f64::from(n)) as f32 },
                        );
                    }
                }
            }
            if !any {
                *base = before;
                break;
            }
            *base += 1;
        }
    };
    let batch = track.batch_size.max(1);
    let total = windows.len();
    observer.start("predicting", total as u64);
    let mut done = 0;
    let mut index = 0;
    while index < windows.len() {
        let chrom = windows[index].chrom.clone();
        let mut end = index;
        while end < windows.len() && end - index < batch && windows[end].chrom == chrom {
            end += 1;
        }
        let contig_index = sizes.index_of(&chrom).context("a window on a contig the reference lacks")?;
        if contig != Some(contig_index) {
            if let Some(previous) = contig {
                flush(&mut sink, &mut sums, &mut base, previous, i64::MAX);
            }
            contig = Some(contig_index);
            base = windows[index].start;
            sums.iter_mut().for_each(|q| q.clear());
        }
        let starts: Vec<i64> = windows[index..end].iter().map(|w| w.start).collect();
        let mut expected = vec![profile.expected_counts(&reference, &chrom, &starts, false, device)?];
        if profile.bias.is_some() {
            expected.push(profile.expected_counts(&reference, &chrom, &starts, true, device)?);
        }
        let length = sizes.length(contig_index) as i64;
        let output = output as usize;
        for (k, &start) in starts.iter().enumerate() {
            flush(&mut sink, &mut sums, &mut base, contig_index, start);
            for (t, queue) in sums.iter_mut().enumerate() {
                let (set, t) = (t / corrected, t % corrected);
                let values = &expected[set][(k * corrected + t) * output..(k * corrected + t + 1) * output];
                for (i, &value) in values.iter().enumerate() {
                    let position = start + i as i64;
                    let offset = (position - base) as usize;
                    if queue.len() <= offset {
                        queue.resize(offset + 1, (0.0, 0));
                    }
                    // Bases off the contig's ends are predicted (from N padding) but not written.
                    if (0..length).contains(&position) {
                        queue[offset].0 += f64::from(value);
                        queue[offset].1 += 1;
                    }
                }
            }
        }
        done += end - index;
        observer.advance(done as u64, "");
        index = end;
    }
    if let Some(previous) = contig {
        flush(&mut sink, &mut sums, &mut base, previous, i64::MAX);
    }
    observer.finish();
    let written = sink.finish()?;
    for path in &written {
        println!("{}", path.display());
    }
    eprintln!(
        "{total} windows of {output} bp, {} track(s) ({}{}) in {:.1}s",
        tracks,
        names.join(", "),
        if profile.bias.is_some() { "; bias-corrected, then with the bias model" } else { "" },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
