//! The profile simulator against its own ground truth: determinism, the BAM and the bigWigs agreeing
//! through `omix tracks`' conversion, enrichment in peaks, footprints at the planted offsets, and the
//! ATAC bias at the cut sites.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use noodles_sam::alignment::record::cigar::op::Kind;
use omix_tracks::{
    Assay, BiasMotif, ChromSizes, ProfileSimulation, ReadFilter, SimulatedAssay, SimulationSummary, Stranding, Track,
    TrackJob, simulate_profiles,
};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn simulate(settings: &ProfileSimulation, dir: &Path) -> Result<SimulationSummary> {
    Ok(simulate_profiles(settings, dir)?)
}

fn small(assay: SimulatedAssay, seed: u64) -> ProfileSimulation {
    ProfileSimulation { assay, seed, ..ProfileSimulation::small() }
}

/// Every base of every contig of a track, in contig order.
fn track_values(path: &Path, sizes: &ChromSizes) -> Result<Vec<Vec<f32>>> {
    let mut track = Track::open(path, Some(sizes))?;
    let mut values = Vec::new();
    for (name, length) in sizes.iter() {
        let mut out = vec![0f32; length as usize];
        track.read(name, 0, length, true, &mut out)?;
        values.push(out);
    }
    Ok(values)
}

/// The summed counts of a simulation (plus + minus for ChIP).
fn summed(summary: &SimulationSummary, sizes: &ChromSizes) -> Result<Vec<Vec<f32>>> {
    let mut total: Option<Vec<Vec<f32>>> = None;
    for path in &summary.files.tracks {
        let values = track_values(path, sizes)?;
        total = Some(match total {
            None => values,
            Some(mut sum) => {
                sum.iter_mut().flatten().zip(values.iter().flatten()).for_each(|(s, v)| *s += v);
                sum
            }
        });
    }
    Ok(total.unwrap_or_default())
}

/// The contigs of `genome.fa`, read through omix-genome (which checks the `.fai` written beside it).
fn genome(summary: &SimulationSummary) -> Result<Vec<(String, Vec<u8>)>> {
    let reference = omix_genome::Reference::open(&summary.files.genome, &mut |_| {})?;
    let mut contigs = Vec::new();
    for contig in reference.contigs() {
        contigs.push((contig.name.clone(), reference.fetch(&contig.name, 0, contig.length as i64)?));
    }
    Ok(contigs)
}

/// One line of `truth.tsv`: contig index, start, end, whether on the plus strand, motif.
type TruthLine = (usize, u64, u64, bool, String);

/// `truth.tsv`, checked line by line.
fn truth(summary: &SimulationSummary, sizes: &ChromSizes) -> Result<Vec<TruthLine>> {
    let text = std::fs::read_to_string(&summary.files.truth)?;
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("chrom\tstart\tend\tstrand\tmotif"));
    let mut instances = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 5, "{line}");
        let contig = sizes.index_of(fields[0]).ok_or("unknown contig")?;
        assert!(fields[3] == "+" || fields[3] == "-", "{line}");
        instances.push((contig, fields[1].parse()?, fields[2].parse()?, fields[3] == "+", fields[4].to_owned()));
    }
    Ok(instances)
}

/// `peaks.narrowPeak` intervals as `(contig index, start, end)`.
fn peaks(summary: &SimulationSummary, sizes: &ChromSizes) -> Result<Vec<(usize, u64, u64)>> {
    let mut peaks = Vec::new();
    for line in std::fs::read_to_string(&summary.files.peaks)?.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        peaks.push((sizes.index_of(fields[0]).ok_or("unknown contig")?, fields[1].parse()?, fields[2].parse()?));
    }
    Ok(peaks)
}

#[test]
fn same_seed_gives_identical_files_and_another_seed_does_not() -> Result {
    let dir = tempfile::tempdir()?;
    for assay in [SimulatedAssay::Chip, SimulatedAssay::Atac] {
        let first = simulate(&small(assay, 7), &dir.path().join(format!("{assay:?}-a")))?;
        let again = simulate(&small(assay, 7), &dir.path().join(format!("{assay:?}-b")))?;
        let other = simulate(&small(assay, 8), &dir.path().join(format!("{assay:?}-c")))?;
        assert_eq!(first.reads, again.reads);
        assert_eq!(first.files.all().len(), if assay == SimulatedAssay::Chip { 8 } else { 7 });
        for ((a, b), c) in first.files.all().iter().zip(again.files.all()).zip(other.files.all()) {
            let bytes = std::fs::read(a)?;
            assert!(!bytes.is_empty(), "{} is empty", a.display());
            assert!(bytes == std::fs::read(b)?, "{} differs between two runs with the same seed", a.display());
            let differs = bytes != std::fs::read(c)?;
            // The sizes (and so the index) depend on the settings alone.
            let settings_only = ["genome.fa.fai", "genome.chrom.sizes"].iter().any(|n| a.ends_with(n));
            assert_eq!(differs, !settings_only, "{}: another seed changed it: {differs}", a.display());
        }
        // Nothing else (no temporary file) is left in the folder.
        let mut listed: Vec<String> = std::fs::read_dir(dir.path().join(format!("{assay:?}-a")))?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<std::io::Result<_>>()?;
        listed.sort();
        assert_eq!(listed.len(), first.files.all().len(), "{listed:?}");
    }
    Ok(())
}

#[test]
fn track_job_on_the_bam_reproduces_the_written_tracks() -> Result {
    let dir = tempfile::tempdir()?;
    for (assay, stranding) in
        [(SimulatedAssay::Chip, Stranding::Stranded), (SimulatedAssay::Atac, Stranding::Unstranded)]
    {
        let summary = simulate(&small(assay, 3), &dir.path().join(format!("{assay:?}")))?;
        let sizes = ChromSizes::read(&summary.files.chrom_sizes)?;
        let outputs = TrackJob::outputs_for(&dir.path().join(format!("{assay:?}-converted.bw")), stranding);
        let job = TrackJob {
            input: summary.files.reads.clone(),
            outputs: outputs.clone(),
            // The simulated reads' 5' ends are the cuts themselves, ATAC ones included.
            shift: Assay::Chip.bam_shift(),
            stranding,
            filter: ReadFilter::default(),
            allow_missing_contigs: false,
        };
        let converted = job.run(Some(&sizes), &mut |line| panic!("unexpected warning: {line}"))?;
        assert_eq!(converted.counts.records, summary.reads);
        assert_eq!(converted.counts.used, summary.reads);
        assert_eq!(converted.counts.cuts, summary.reads);
        assert_eq!(converted.counts.cuts_outside, 0);
        assert_eq!(outputs.len(), summary.files.tracks.len());
        let mut total = 0.0f64;
        for (ours, theirs) in summary.files.tracks.iter().zip(&outputs) {
            let simulated = track_values(ours, &sizes)?;
            let counted = track_values(theirs, &sizes)?;
            for (contig, (a, b)) in simulated.iter().zip(&counted).enumerate() {
                if let Some(position) = (0..a.len()).find(|&i| a[i] != b[i]) {
                    panic!(
                        "{assay:?} {}: {}:{position} is {} in the simulated track but {} from the BAM",
                        ours.display(),
                        sizes.name(contig),
                        a[position],
                        b[position]
                    );
                }
            }
            total += simulated.iter().flatten().map(|&v| v as f64).sum::<f64>();
            // The same runs through the same writer: the very same file.
            assert!(
                std::fs::read(ours)? == std::fs::read(theirs)?,
                "{} differs from omix tracks' file",
                ours.display()
            );
        }
        assert_eq!(total as u64, summary.reads);
    }
    Ok(())
}

#[test]
fn the_files_agree_with_the_genome_and_with_each_other() -> Result {
    let dir = tempfile::tempdir()?;
    let settings = small(SimulatedAssay::Chip, 11);
    let summary = simulate(&settings, dir.path())?;
    let sizes = ChromSizes::read(&summary.files.chrom_sizes)?;
    assert_eq!(
        sizes.iter().map(|(n, l)| (n.to_owned(), l)).collect::<Vec<_>>(),
        vec![("chr1".to_owned(), 200_000), ("chr2".to_owned(), 200_000)]
    );
    let genome = genome(&summary)?;
    assert_eq!(genome.len(), 2);
    let fasta = std::fs::read_to_string(&summary.files.genome)?;
    // 60 bases a line; only a record's last line is shorter.
    let lines: Vec<&str> = fasta.lines().collect();
    for (number, pair) in lines.windows(2).enumerate() {
        let (line, next) = (pair[0], pair[1]);
        assert!(line.starts_with('>') || line.len() == 60 || next.starts_with('>'), "genome.fa line {}", number + 1);
    }

    // Every truth line holds its motif's bases, inside a peak.
    let instances = truth(&summary, &sizes)?;
    let peaks = peaks(&summary, &sizes)?;
    assert_eq!(instances.len(), summary.motif_instances);
    assert_eq!(peaks.len(), settings.peaks);
    for (contig, start, end, plus, name) in &instances {
        let motif = settings.motifs.iter().find(|m| &m.name == name).ok_or("unknown motif")?;
        let bases = motif.bases(if *plus { omix_tracks::Strand::Plus } else { omix_tracks::Strand::Minus });
        assert_eq!(&genome[*contig].1[*start as usize..*end as usize], bases.as_slice());
        assert!(peaks.iter().any(|(c, s, e)| c == contig && s <= start && end <= e));
    }
    for (name, count) in &summary.instances_per_motif {
        assert_eq!(instances.iter().filter(|i| &i.4 == name).count(), *count);
        assert!(*count > 50, "{name}: {count} instances");
    }

    // narrowPeak: 10 columns, sorted, the summit inside.
    let text = std::fs::read_to_string(&summary.files.peaks)?;
    let mut previous = (0usize, 0u64);
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 10, "{line}");
        let place = (sizes.index_of(fields[0]).ok_or("contig")?, fields[1].parse::<u64>()?);
        assert!(place > previous || previous == (0, 0), "not sorted at {line}");
        previous = place;
        let width = fields[2].parse::<u64>()? - place.1;
        assert!(fields[9].parse::<u64>()? < width, "{line}");
    }

    // The BAM: sorted, unique names, MAPQ 60, 36M, the genome's bases.
    let mut text = Vec::new();
    noodles_bgzf::io::Reader::new(std::fs::File::open(&summary.files.reads)?).read_to_end(&mut text)?;
    assert!(text.windows(14).any(|w| w == b"SO:coordinate\n" || w == b"SO:coordinate\t"));
    let mut reader = noodles_bam::io::Reader::new(std::fs::File::open(&summary.files.reads)?);
    let header = reader.read_header()?;
    let mut names = HashSet::new();
    let mut last = (0usize, 0usize);
    let mut count = 0u64;
    for record in reader.record_bufs(&header) {
        let record = record?;
        count += 1;
        assert!(names.insert(record.name().map(|n| n.to_vec()).unwrap_or_default()), "a repeated read name");
        assert_eq!(record.mapping_quality().map(|q| q.get()), Some(60));
        let ops: Vec<_> = record.cigar().as_ref().iter().map(|op| (op.kind(), op.len())).collect();
        assert_eq!(ops, vec![(Kind::Match, 36)]);
        let contig = record.reference_sequence_id().ok_or("unplaced read")?;
        let start = record.alignment_start().ok_or("unplaced read")?.get() - 1;
        assert!((contig, start) >= last, "unsorted at {contig}:{start}");
        last = (contig, start);
        assert_eq!(record.sequence().as_ref(), &genome[contig].1[start..start + 36]);
        assert_eq!(record.quality_scores().as_ref().len(), 36);
    }
    assert_eq!(count, summary.reads);
    Ok(())
}

#[test]
fn peaks_hold_far_more_cuts_per_base_than_the_rest() -> Result {
    let dir = tempfile::tempdir()?;
    for assay in [SimulatedAssay::Chip, SimulatedAssay::Atac] {
        let summary = simulate(&small(assay, 5), &dir.path().join(format!("{assay:?}")))?;
        let sizes = ChromSizes::read(&summary.files.chrom_sizes)?;
        let counts = summed(&summary, &sizes)?;
        let mut inside = vec![vec![false; 200_000]; 2];
        for (contig, start, end) in peaks(&summary, &sizes)? {
            inside[contig][start as usize..end as usize].fill(true);
        }
        let (mut cuts_in, mut bases_in, mut cuts_out, mut bases_out) = (0.0, 0.0, 0.0, 0.0);
        for (values, inside) in counts.iter().zip(&inside) {
            for (&value, &inside) in values.iter().zip(inside) {
                if inside {
                    cuts_in += value as f64;
                    bases_in += 1.0;
                } else {
                    cuts_out += value as f64;
                    bases_out += 1.0;
                }
            }
        }
        assert_eq!(cuts_in as u64, summary.reads_in_peaks);
        let ratio = (cuts_in / bases_in) / (cuts_out / bases_out);
        eprintln!("{assay:?}: {:.3} cuts per base in peaks, {:.3} outside", cuts_in / bases_in, cuts_out / bases_out);
        assert!(ratio > 8.0, "{assay:?}: only {ratio:.1} times more cuts per base in peaks");
    }
    Ok(())
}

#[test]
fn chip_footprints_peak_at_the_planted_offsets() -> Result {
    let dir = tempfile::tempdir()?;
    let settings = small(SimulatedAssay::Chip, 21);
    let summary = simulate(&settings, dir.path())?;
    let sizes = ChromSizes::read(&summary.files.chrom_sizes)?;
    let plus = track_values(&summary.files.tracks[0], &sizes)?;
    let minus = track_values(&summary.files.tracks[1], &sizes)?;
    let instances = truth(&summary, &sizes)?;
    const REACH: i64 = 40;
    for motif in &settings.motifs {
        for plus_instances in [true, false] {
            // Profiles relative to the instance's first base (plus track) and last base (minus track).
            let mut plus_profile = vec![0.0f64; 2 * REACH as usize + 1];
            let mut minus_profile = vec![0.0f64; 2 * REACH as usize + 1];
            let mut seen = 0;
            for (contig, start, end, strand, _) in
                instances.iter().filter(|i| i.4 == motif.name && i.3 == plus_instances)
            {
                seen += 1;
                for d in -REACH..=REACH {
                    let slot = (d + REACH) as usize;
                    plus_profile[slot] += plus[*contig][(*start as i64 + d) as usize] as f64;
                    minus_profile[slot] += minus[*contig][(*end as i64 - 1 + d) as usize] as f64;
                }
                assert_eq!(*strand, plus_instances);
            }
            assert!(seen > 20, "{}: only {seen} instances", motif.name);
            let top = |profile: &[f64]| {
                profile.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i as i64 - REACH)
            };
            // In the motif's orientation plus ends lie `upstream` before it and minus ends `downstream`
            // past it; a minus-strand instance mirrors that in genome coordinates.
            let (left, right) = if plus_instances {
                (-(motif.upstream as i64), motif.downstream as i64)
            } else {
                (-(motif.downstream as i64), motif.upstream as i64)
            };
            let (plus_top, minus_top) = (top(&plus_profile), top(&minus_profile));
            assert!(
                (plus_top - left).abs() <= 2,
                "{} ({}): plus ends peak at {plus_top}, planted at {left}",
                motif.name,
                if plus_instances { "+" } else { "-" }
            );
            assert!(
                (minus_top - right).abs() <= 2,
                "{} ({}): minus ends peak at {minus_top}, planted at {right}",
                motif.name,
                if plus_instances { "+" } else { "-" }
            );
        }
    }
    Ok(())
}

#[test]
fn atac_cuts_carry_the_bias_and_spare_the_motifs() -> Result {
    let dir = tempfile::tempdir()?;
    let settings = small(SimulatedAssay::Atac, 13);
    let summary = simulate(&settings, dir.path())?;
    let sizes = ChromSizes::read(&summary.files.chrom_sizes)?;
    let counts = track_values(&summary.files.tracks[0], &sizes)?;
    let genome = genome(&summary)?;
    let bias = BiasMotif::tn5_like();
    assert_eq!(settings.bias, bias);
    let (mut at_cuts, mut cuts, mut everywhere, mut bases) = (0.0, 0.0, 0.0, 0.0);
    for ((_, sequence), values) in genome.iter().zip(&counts) {
        for (position, &value) in values.iter().enumerate() {
            let score = bias.score(sequence, position);
            at_cuts += score * value as f64;
            cuts += value as f64;
            everywhere += score;
            bases += 1.0;
        }
    }
    let (at_cuts, everywhere) = (at_cuts / cuts, everywhere / bases);
    eprintln!("mean bias score: {at_cuts:.3} at cuts, {everywhere:.3} over all bases");
    assert!(at_cuts > everywhere + 0.5, "bias score {at_cuts:.3} at cuts vs {everywhere:.3} at every base");

    // The same genome under ChIP carries no bias: its cuts score like any base.
    let chip =
        simulate(&ProfileSimulation { assay: SimulatedAssay::Chip, ..settings.clone() }, &dir.path().join("chip"))?;
    let chip_counts = summed(&chip, &sizes)?;
    let (mut chip_at_cuts, mut chip_cuts) = (0.0, 0.0);
    for ((_, sequence), values) in genome.iter().zip(&chip_counts) {
        for (position, &value) in values.iter().enumerate().filter(|(_, v)| **v > 0.0) {
            chip_at_cuts += bias.score(sequence, position) * value as f64;
            chip_cuts += value as f64;
        }
    }
    let chip_at_cuts = chip_at_cuts / chip_cuts;
    assert!((chip_at_cuts - everywhere).abs() < 0.15, "ChIP cuts score {chip_at_cuts:.3}, every base {everywhere:.3}");

    // Footprints: the bound motif is protected, its flanks are cut.
    let (mut inside, mut inside_bases, mut flanks, mut flank_bases) = (0.0, 0.0, 0.0, 0.0);
    for (contig, start, end, plus, name) in truth(&summary, &sizes)? {
        let motif = settings.motifs.iter().find(|m| m.name == name).ok_or("unknown motif")?;
        let strand = if plus { omix_tracks::Strand::Plus } else { omix_tracks::Strand::Minus };
        let (left, right) = motif.pile_ups(start, strand);
        for position in start..end {
            inside += counts[contig][position as usize] as f64;
            inside_bases += 1.0;
        }
        for centre in [left, right] {
            flanks += counts[contig][centre as usize] as f64;
            flank_bases += 1.0;
        }
    }
    let (inside, flanks) = (inside / inside_bases, flanks / flank_bases);
    assert!(flanks > 4.0 * inside, "cuts per base: {flanks:.2} at the flanks, {inside:.2} inside the motifs");
    Ok(())
}

#[test]
fn broken_settings_are_refused_before_anything_is_written() -> Result {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("out");
    let settings = ProfileSimulation { peaks: 100_000, ..ProfileSimulation::small() };
    let error = simulate_profiles(&settings, &out).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("100000 peaks do not fit"), "{error}");
    assert!(!out.exists());
    let settings = ProfileSimulation { read_length: 0, motifs: Vec::new(), ..ProfileSimulation::small() };
    let error = simulate_profiles(&settings, &out).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("read_length 0") && error.contains("at least one motif"), "{error}");
    Ok(())
}

/// Both presets, timed: `cargo test --release -p omix-tracks --test simulate -- --ignored --nocapture`.
#[test]
#[ignore = "the full preset takes seconds; the small one covers the same code"]
fn default_preset_writes_every_file() -> Result {
    let dir = tempfile::tempdir()?;
    for (preset, settings) in [("small", ProfileSimulation::small()), ("default", ProfileSimulation::default())] {
        for assay in [SimulatedAssay::Chip, SimulatedAssay::Atac] {
            let started = std::time::Instant::now();
            let summary = simulate(&ProfileSimulation { assay, ..settings.clone() }, dir.path())?;
            eprintln!(
                "{preset} {assay:?}: {} reads ({} in peaks), {} peaks, {} instances in {:.2} s",
                summary.reads,
                summary.reads_in_peaks,
                summary.peaks,
                summary.motif_instances,
                started.elapsed().as_secs_f64()
            );
            assert_eq!(summary.peaks, settings.peaks);
            assert!(summary.files.all().iter().all(|p| p.exists()));
        }
    }
    Ok(())
}
