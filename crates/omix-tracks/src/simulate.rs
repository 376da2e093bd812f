//! A seeded simulator of base-resolution ChIP-nexus/ChIP-exo and ATAC-seq profiles whose ground truth
//! is known, so BPNet and ChromBPNet can be checked against what was planted rather than against
//! another model.
//!
//! What is planted:
//! - a random genome whose GC content changes every [`gc_block`](ProfileSimulation::gc_block) bases and
//!   rises around peak summits (as at CpG-island promoters), so that a GC-matched background differs
//!   from a uniform one and a model cannot call peaks from GC alone;
//! - peaks, each holding 1–3 instances of the planted motifs near its summit (`truth.tsv` lists every
//!   instance, `peaks.narrowPeak` every peak) and scaled by a log-normal strength, so counts vary;
//! - per motif, a footprint with its own offsets and width. ChIP: plus-strand 5' ends pile up
//!   [`upstream`](PlantedMotif::upstream) bases before the motif (in the motif's own orientation) and
//!   minus-strand ends [`downstream`](PlantedMotif::downstream) bases past it, as the exonuclease of
//!   ChIP-exo/ChIP-nexus stops at the bound factor: a BPNet profile head must learn these shapes and
//!   its contributions must point at the motifs. ATAC: cuts on both strands in both flanks, with the
//!   motif itself protected;
//! - ATAC only, a Tn5-like sequence bias: the cut rate of every base, in peaks and background, is
//!   multiplied by `exp` of a short bias PWM's score centred on the cut. It is applied after the
//!   footprints, so the bias and the footprints stay separate: a ChromBPNet bias model must learn the
//!   PWM, and the bias-corrected TF model the footprints alone;
//! - with [`control_depth`](ProfileSimulation::control_depth) > 0, a control experiment (a ChIP
//!   input): every block of [`control_block`](ProfileSimulation::control_block) bases gets a
//!   log-normal factor (as copy number or fragmentation vary along a genome) that multiplies the
//!   experiment's cut rates and, alone, sets the control's (`control_depth` × factor per base and
//!   strand). Sequence cannot tell the factor; the control track can, so a model given the control
//!   should predict counts better than one without it;
//! - read 5' ends drawn from Poisson(rate) per base and strand out of ChaCha8 streams: the same
//!   settings give byte-identical files.
//!
//! ```
//! use omix_tracks::{ProfileSimulation, simulate_profiles};
//!
//! let dir = tempfile::tempdir()?;
//! let summary = simulate_profiles(&ProfileSimulation::small(), dir.path())?;
//! assert_eq!(summary.peaks, 300);
//! assert!(summary.files.reads.exists() && summary.files.tracks.len() == 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use noodles_bam as bam;
use noodles_core::Position;
use noodles_sam::alignment::RecordBuf;
use noodles_sam::alignment::io::Write as _;
use noodles_sam::alignment::record::cigar::Op;
use noodles_sam::alignment::record::cigar::op::Kind;
use noodles_sam::alignment::record::{Flags, MappingQuality};
use omix_encode::{Alphabet, reverse_complement};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::cuts::{Run, Stranding};
use crate::{BigWigSink, ChromSizes, Strand, TrackError, TrackJob};

/// Which assay's profiles are simulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimulatedAssay {
    /// ChIP-nexus/ChIP-exo: stranded footprints, no sequence bias; plus and minus bigWigs.
    Chip,
    /// ATAC-seq: footprints on both strands under a Tn5-like sequence bias; one summed bigWig.
    Atac,
}

/// A motif planted in peaks, with the footprint its bound factor leaves in the reads.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantedMotif {
    /// The name written in `truth.tsv`.
    pub name: String,
    /// The bases of a plus-strand instance (A, C, G, T); minus-strand instances are its reverse complement.
    pub consensus: String,
    /// How many bases before the motif's first base (in the motif's orientation) plus-strand 5' ends pile up.
    pub upstream: u32,
    /// How many bases past the motif's last base (in the motif's orientation) minus-strand 5' ends pile up.
    pub downstream: u32,
    /// The standard deviation, in bases, of each pile-up.
    pub spread: f64,
    /// Expected 5' ends one instance adds to each strand in a peak of strength 1.
    pub strength: f64,
}

impl PlantedMotif {
    /// The planted bases of an instance on `strand`.
    pub fn bases(&self, strand: Strand) -> Vec<u8> {
        match strand {
            Strand::Plus => self.consensus.as_bytes().to_vec(),
            Strand::Minus => reverse_complement(self.consensus.as_bytes(), Alphabet::Dna),
        }
    }

    /// The centres (0-based bases) of the plus- and minus-strand pile-ups of an instance starting at `start`
    /// on `strand`: for a minus-strand instance the motif's frame is mirrored, so its `upstream` lies right.
    pub fn pile_ups(&self, start: u64, strand: Strand) -> (i64, i64) {
        let first = start as i64;
        let last = first + self.consensus.len() as i64 - 1;
        match strand {
            Strand::Plus => (first - self.upstream as i64, last + self.downstream as i64),
            Strand::Minus => (first - self.downstream as i64, last + self.upstream as i64),
        }
    }
}

/// A position weight matrix of additive cut preferences around a cut: the Tn5-like bias of ATAC.
#[derive(Debug, Clone, PartialEq)]
pub struct BiasMotif {
    /// One row per position, columns A, C, G, T: what each base adds to the log cut rate.
    pub weights: Vec<[f64; 4]>,
    /// The row of the cut base itself; rows before it score the bases upstream of the cut.
    pub centre: usize,
}

impl BiasMotif {
    /// An 8 bp Tn5-like bias (a G/C-rich, roughly palindromic preference; scores from about −3 to +3).
    pub fn tn5_like() -> BiasMotif {
        let rows: [[f64; 4]; 8] = [
            [-0.2, 0.1, 0.5, -0.4],
            [-0.3, 0.3, 0.2, -0.2],
            [0.0, -0.4, 0.0, 0.4],
            [0.5, -0.2, -0.3, 0.0],
            [-0.1, 0.4, 0.3, -0.6],
            [0.4, -0.3, -0.3, 0.2],
            [-0.2, 0.5, 0.0, -0.3],
            [0.0, -0.2, 0.4, -0.2],
        ];
        // Each row centred on zero, so a uniformly random base adds nothing on average.
        let weights = rows
            .iter()
            .map(|row| {
                let mean = row.iter().sum::<f64>() / 4.0;
                row.map(|w| w - mean)
            })
            .collect();
        BiasMotif { weights, centre: 4 }
    }

    /// The score of the bases around `position` of `sequence` (rows past either end, or on bases other
    /// than A, C, G, T, add nothing).
    pub fn score(&self, sequence: &[u8], position: usize) -> f64 {
        let mut score = 0.0;
        for (row, weights) in self.weights.iter().enumerate() {
            let Some(at) = (position + row).checked_sub(self.centre) else { continue };
            if let Some(&base) = sequence.get(at)
                && let Some(index) = base_index(base)
            {
                score += weights[index];
            }
        }
        score
    }
}

/// The column of a base in a [`BiasMotif`] row.
fn base_index(base: u8) -> Option<usize> {
    match base {
        b'A' | b'a' => Some(0),
        b'C' | b'c' => Some(1),
        b'G' | b'g' => Some(2),
        b'T' | b't' => Some(3),
        _ => None,
    }
}

/// Everything a simulation plants; [`Default`] is the full preset, [`small`](Self::small) the one for tests.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileSimulation {
    /// Seeds every random stream (default 1).
    pub seed: u64,
    /// ChIP (stranded footprints) or ATAC (footprints under Tn5 bias) (default ChIP).
    pub assay: SimulatedAssay,
    /// How many contigs, named chr1, chr2, … (default 6).
    pub contigs: usize,
    /// The length of every contig (default 1,000,000).
    pub contig_length: u64,
    /// The length of the blocks whose GC content is drawn anew (default 50,000).
    pub gc_block: u64,
    /// The range each block's GC content is drawn from, uniformly (default 0.35 to 0.6).
    pub gc_range: (f64, f64),
    /// How much higher the GC content is within a peak's interval (default 0.08).
    pub peak_gc_boost: f64,
    /// How many peaks, over all contigs (default 3,000).
    pub peaks: usize,
    /// The width of a peak's interval in `peaks.narrowPeak`, centred on its summit (default 400).
    pub peak_width: u64,
    /// Instances are planted within this many bases of the summit (default 60).
    pub motif_window: u64,
    /// The fewest and most motif instances a peak holds (default 1 to 3).
    pub motifs_per_peak: (usize, usize),
    /// The motifs planted, each instance's motif drawn uniformly (default GATA-like, AP-1-like, CTCF-like).
    pub motifs: Vec<PlantedMotif>,
    /// The standard deviation of a peak's log strength (default 0.5).
    pub peak_strength_sd: f64,
    /// Expected 5' ends per strand of a peak's broad enrichment, at strength 1 (default 20).
    pub peak_rate: f64,
    /// The standard deviation, in bases, of the broad enrichment (default 80).
    pub peak_spread: f64,
    /// ChIP: how far left of the summit the plus strand's broad enrichment is centred, and right the minus
    /// strand's (default 30).
    pub peak_strand_offset: u64,
    /// Expected 5' ends per base and strand everywhere, before any bias (default 0.02).
    pub background_rate: f64,
    /// ATAC: the factor on the cut rate within a motif instance (default 0.2).
    pub protection: f64,
    /// ATAC: the sequence bias on every cut (default [`BiasMotif::tn5_like`]).
    pub bias: BiasMotif,
    /// The length of every read (default 36).
    pub read_length: u64,
    /// Expected control 5' ends per base and strand at factor 1 (default 0: no control track).
    pub control_depth: f64,
    /// The length of the blocks whose control factor is drawn anew (default 2,000).
    pub control_block: u64,
    /// The standard deviation of a block's log control factor (default 0.6).
    pub control_sd: f64,
}

impl Default for ProfileSimulation {
    fn default() -> Self {
        ProfileSimulation {
            seed: 1,
            assay: SimulatedAssay::Chip,
            contigs: 6,
            contig_length: 1_000_000,
            gc_block: 50_000,
            gc_range: (0.35, 0.6),
            peak_gc_boost: 0.08,
            peaks: 3_000,
            peak_width: 400,
            motif_window: 60,
            motifs_per_peak: (1, 3),
            motifs: ProfileSimulation::default_motifs(),
            peak_strength_sd: 0.5,
            peak_rate: 20.0,
            peak_spread: 80.0,
            peak_strand_offset: 30,
            background_rate: 0.02,
            protection: 0.2,
            bias: BiasMotif::tn5_like(),
            read_length: 36,
            control_depth: 0.0,
            control_block: 2_000,
            control_sd: 0.6,
        }
    }
}

impl ProfileSimulation {
    /// The preset for fast tests: 2 contigs of 200 kb, 300 peaks.
    pub fn small() -> ProfileSimulation {
        ProfileSimulation { contigs: 2, contig_length: 200_000, gc_block: 20_000, peaks: 300, ..Default::default() }
    }

    /// The default motifs: GATA-like `AGATAAGA`, AP-1-like `TGACTCA` and CTCF-like `CCACCAGGGGGCGC`, each
    /// with its own footprint offsets, width and strength.
    pub fn default_motifs() -> Vec<PlantedMotif> {
        let motif = |name: &str, consensus: &str, upstream, downstream, spread, strength| PlantedMotif {
            name: name.into(),
            consensus: consensus.into(),
            upstream,
            downstream,
            spread,
            strength,
        };
        vec![
            motif("GATA", "AGATAAGA", 4, 4, 2.0, 30.0),
            motif("AP1", "TGACTCA", 6, 10, 3.0, 40.0),
            motif("CTCF", "CCACCAGGGGGCGC", 8, 12, 3.0, 60.0),
        ]
    }

    /// The width of the slots peaks are placed in (one peak per slot, never in a contig's first or last).
    fn slot(&self) -> u64 {
        2 * self.peak_width
    }

    /// The settings broken, one sentence each.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut rule = |broken: bool, message: String| {
            if broken {
                problems.push(message);
            }
        };
        rule(self.contigs == 0, "contigs must be at least 1".into());
        rule(
            self.contig_length > u32::MAX as u64,
            format!("contig_length {} is more than a bigWig holds (4,294,967,295)", self.contig_length),
        );
        rule(self.peak_width < 2, format!("peak_width {} must be at least 2", self.peak_width));
        let slots = (self.contig_length / self.slot().max(1)).saturating_sub(2) as usize;
        rule(
            slots.saturating_mul(self.contigs) < self.peaks,
            format!(
                "{} peaks do not fit: each needs a slot of 2 × peak_width = {} bp and {} contigs of {} bp hold {}",
                self.peaks,
                self.slot(),
                self.contigs,
                self.contig_length,
                slots.saturating_mul(self.contigs)
            ),
        );
        rule(self.gc_block == 0, "gc_block must be at least 1".into());
        let (low, high) = self.gc_range;
        rule(
            !(0.0..=1.0).contains(&low) || !(0.0..=1.0).contains(&high) || low > high,
            format!("gc_range ({low}, {high}) must be two fractions, the first not above the second"),
        );
        rule(!self.peak_gc_boost.is_finite(), "peak_gc_boost must be a number".into());
        let (fewest, most) = self.motifs_per_peak;
        rule(fewest == 0 || fewest > most, format!("motifs_per_peak ({fewest}, {most}) must be 1 or more, ascending"));
        rule(self.motifs.is_empty(), "motifs must list at least one motif".into());
        for motif in &self.motifs {
            let length = motif.consensus.len() as u64;
            rule(
                length == 0 || !motif.consensus.bytes().all(|b| matches!(b, b'A' | b'C' | b'G' | b'T')),
                format!("motif {}: consensus {:?} must be upper-case A, C, G and T", motif.name, motif.consensus),
            );
            rule(
                self.motif_window + length > self.peak_width / 2,
                format!(
                    "motif {}: motif_window {} + its {length} bp must fit in half the peak_width ({})",
                    motif.name,
                    self.motif_window,
                    self.peak_width / 2
                ),
            );
            rule(
                !(motif.spread.is_finite() && motif.spread > 0.0),
                format!("motif {}: spread {} must be a positive number", motif.name, motif.spread),
            );
            rule(
                !(motif.strength.is_finite() && motif.strength >= 0.0),
                format!("motif {}: strength {} must be a number of at least 0", motif.name, motif.strength),
            );
            rule(
                motif.name.is_empty() || motif.name.contains(['\t', '\n']),
                format!("motif name {:?} must be non-empty, without tabs or line breaks", motif.name),
            );
        }
        rule(self.control_block == 0, "control_block must be at least 1".into());
        for (name, value) in [
            ("peak_strength_sd", self.peak_strength_sd),
            ("peak_rate", self.peak_rate),
            ("background_rate", self.background_rate),
            ("control_depth", self.control_depth),
            ("control_sd", self.control_sd),
        ] {
            rule(!(value.is_finite() && value >= 0.0), format!("{name} {value} must be a number of at least 0"));
        }
        rule(
            !(self.peak_spread.is_finite() && self.peak_spread > 0.0),
            format!("peak_spread {} must be a positive number", self.peak_spread),
        );
        rule(!(0.0..=1.0).contains(&self.protection), format!("protection {} must be in 0..=1", self.protection));
        rule(
            self.read_length == 0 || self.read_length > self.contig_length / 4,
            format!("read_length {} must be 1 to a quarter of contig_length", self.read_length),
        );
        if self.assay == SimulatedAssay::Atac {
            rule(
                self.bias.weights.is_empty() || self.bias.centre >= self.bias.weights.len(),
                format!("bias centre {} must be a row of its {} rows", self.bias.centre, self.bias.weights.len()),
            );
            rule(self.bias.weights.iter().flatten().any(|w| !w.is_finite()), "bias weights must be numbers".into());
        }
        problems
    }
}

/// The files a simulation writes into its folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulationFiles {
    /// `genome.fa`, 60 bases a line.
    pub genome: PathBuf,
    /// `genome.fa.fai`.
    pub genome_index: PathBuf,
    /// `genome.chrom.sizes`.
    pub chrom_sizes: PathBuf,
    /// `peaks.narrowPeak`: 10 columns, sorted, column 10 the summit's offset.
    pub peaks: PathBuf,
    /// `truth.tsv`: every planted motif instance (chrom, start, end, strand, motif; a header line).
    pub truth: PathBuf,
    /// `reads.bam`: coordinate-sorted single-end reads whose 5' ends are the drawn cuts, ATAC's included
    /// (so they are counted with the ChIP shift, 0/0; `--assay atac` would shift them a second time).
    pub reads: PathBuf,
    /// The per-base 5' end counts: `counts.plus.bw` and `counts.minus.bw` (ChIP), or `counts.bw` (ATAC).
    pub tracks: Vec<PathBuf>,
    /// The control experiment's counts, stranded as `tracks` (`control.plus.bw` and
    /// `control.minus.bw`, or `control.bw`); empty without a control.
    pub control: Vec<PathBuf>,
}

impl SimulationFiles {
    /// The files a simulation of `assay` writes into `out_dir`.
    pub fn in_dir(out_dir: &Path, assay: SimulatedAssay) -> SimulationFiles {
        let stranding = match assay {
            SimulatedAssay::Chip => Stranding::Stranded,
            SimulatedAssay::Atac => Stranding::Unstranded,
        };
        SimulationFiles {
            genome: out_dir.join("genome.fa"),
            genome_index: out_dir.join("genome.fa.fai"),
            chrom_sizes: out_dir.join("genome.chrom.sizes"),
            peaks: out_dir.join("peaks.narrowPeak"),
            truth: out_dir.join("truth.tsv"),
            reads: out_dir.join("reads.bam"),
            tracks: TrackJob::outputs_for(&out_dir.join("counts.bw"), stranding),
            control: Vec::new(),
        }
    }

    /// The files of a simulation of `assay` with a control experiment.
    pub fn with_control(out_dir: &Path, assay: SimulatedAssay) -> SimulationFiles {
        let stranding = match assay {
            SimulatedAssay::Chip => Stranding::Stranded,
            SimulatedAssay::Atac => Stranding::Unstranded,
        };
        let control = TrackJob::outputs_for(&out_dir.join("control.bw"), stranding);
        SimulationFiles { control, ..SimulationFiles::in_dir(out_dir, assay) }
    }

    /// Every file, in the order above.
    pub fn all(&self) -> Vec<&Path> {
        let mut all =
            vec![self.genome.as_path(), &self.genome_index, &self.chrom_sizes, &self.peaks, &self.truth, &self.reads];
        all.extend(self.tracks.iter().map(PathBuf::as_path));
        all.extend(self.control.iter().map(PathBuf::as_path));
        all
    }
}

/// What a simulation planted and wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationSummary {
    /// Total bases over all contigs.
    pub genome_length: u64,
    /// Reads written (one per drawn cut).
    pub reads: u64,
    /// Reads whose cut lies inside a peak's interval.
    pub reads_in_peaks: u64,
    /// Peaks written.
    pub peaks: usize,
    /// Motif instances planted (lines of `truth.tsv`).
    pub motif_instances: usize,
    /// Instances planted per motif, in the order of the settings.
    pub instances_per_motif: Vec<(String, usize)>,
    /// The files written.
    pub files: SimulationFiles,
}

/// One planted motif instance.
#[derive(Debug, Clone, Copy)]
struct Instance {
    motif: usize,
    start: u64,
    strand: Strand,
}

/// One peak: its slot's contig, summit, strength and instances.
#[derive(Debug, Clone)]
struct Peak {
    contig: usize,
    summit: u64,
    strength: f64,
    instances: Vec<Instance>,
}

/// Stream families of the ChaCha8 generator: each (family, contig) pair draws independently.
const LAYOUT: u64 = 1;
const GENOME: u64 = 2;
const READS: u64 = 3;
const CONTROL: u64 = 4;
const CONTROL_READS: u64 = 5;

fn stream(seed: u64, family: u64, contig: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((family << 32) | contig as u64);
    rng
}

/// Simulate genome, peaks, planted motifs and reads as `settings` says, writing the files of
/// [`SimulationFiles::in_dir`] into `out_dir` (created if needed; each file written under a temporary name
/// and renamed into place).
pub fn simulate_profiles(settings: &ProfileSimulation, out_dir: &Path) -> Result<SimulationSummary, TrackError> {
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(TrackError::Write {
            path: out_dir.to_path_buf(),
            message: format!("the simulation settings are invalid: {}", problems.join("; ")),
        });
    }
    std::fs::create_dir_all(out_dir)
        .map_err(|e| TrackError::Write { path: out_dir.to_path_buf(), message: e.to_string() })?;
    let with_control = settings.control_depth > 0.0;
    let files = if with_control {
        SimulationFiles::with_control(out_dir, settings.assay)
    } else {
        SimulationFiles::in_dir(out_dir, settings.assay)
    };
    let names: Vec<String> = (1..=settings.contigs).map(|i| format!("chr{i}")).collect();

    let peaks = place_peaks(settings);
    let genome: Vec<Vec<u8>> = (0..settings.contigs).map(|contig| make_contig(settings, contig, &peaks)).collect();

    write_genome(&files, &names, &genome)?;
    let sizes = ChromSizes::new(&files.chrom_sizes, names.iter().map(|n| (n.clone(), settings.contig_length)))?;
    write_truth(&files.truth, settings, &names, &peaks)?;

    let mut sink = BigWigSink::create(&files.tracks, &sizes)?;
    let mut control_sink = if with_control { Some(BigWigSink::create(&files.control, &sizes)?) } else { None };
    let mut peak_cuts = vec![0u64; peaks.len()];
    let mut reads = 0u64;
    let mut sink_stopped = false;
    omix_io::write_atomically(&files.reads, |out| {
        let header = bam_header(settings, &names)?;
        let mut writer = bam::io::Writer::new(out);
        writer.write_header(&header)?;
        let mut record = read_template(settings.read_length);
        let mut first_peak = 0;
        for (contig, sequence) in genome.iter().enumerate() {
            let last_peak = first_peak + peaks[first_peak..].iter().take_while(|p| p.contig == contig).count();
            let contig_peaks = &peaks[first_peak..last_peak];
            let factors = control_factors(settings, contig);
            let counts = draw_cuts(settings, contig, sequence, contig_peaks, factors.as_deref());
            for (peak, cuts) in contig_peaks.iter().zip(&mut peak_cuts[first_peak..last_peak]) {
                let (start, end) = peak_interval(settings, peak);
                *cuts = (start..end).map(|i| (counts[0][i as usize] + counts[1][i as usize]) as u64).sum();
            }
            first_peak = last_peak;
            reads += write_reads(&mut writer, &header, &mut record, settings, contig, sequence, &counts, reads)?;
            if !push_runs(&mut sink, settings.assay, contig, &counts) {
                sink_stopped = true;
                break;
            }
            if let (Some(control_sink), Some(factors)) = (control_sink.as_mut(), factors.as_deref()) {
                let control = draw_control(settings, contig, factors);
                if !push_runs(control_sink, settings.assay, contig, &control) {
                    sink_stopped = true;
                    break;
                }
            }
        }
        writer.try_finish()
    })?;
    let tracks = sink.finish()?;
    if let Some(control_sink) = control_sink {
        let control = control_sink.finish()?;
        debug_assert_eq!(control, files.control);
    }
    debug_assert!(!sink_stopped, "a bigWig writer stopped without an error");
    debug_assert_eq!(tracks, files.tracks);
    write_peaks(&files.peaks, settings, &names, &peaks, &peak_cuts)?;

    let mut instances_per_motif: Vec<(String, usize)> = settings.motifs.iter().map(|m| (m.name.clone(), 0)).collect();
    for instance in peaks.iter().flat_map(|p| &p.instances) {
        instances_per_motif[instance.motif].1 += 1;
    }
    Ok(SimulationSummary {
        genome_length: settings.contig_length * settings.contigs as u64,
        reads,
        reads_in_peaks: peak_cuts.iter().sum(),
        peaks: peaks.len(),
        motif_instances: instances_per_motif.iter().map(|(_, n)| n).sum(),
        instances_per_motif,
        files,
    })
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Peaks in sorted order (contig, summit), one per slot drawn without replacement, with their instances.
fn place_peaks(settings: &ProfileSimulation) -> Vec<Peak> {
    let mut rng = stream(settings.seed, LAYOUT, 0);
    let slot = settings.slot();
    let per_contig = (settings.contig_length / slot).saturating_sub(2) as usize;
    let mut chosen = rand::seq::index::sample(&mut rng, per_contig * settings.contigs, settings.peaks).into_vec();
    chosen.sort_unstable();
    let (fewest, most) = settings.motifs_per_peak;
    chosen
        .into_iter()
        .map(|index| {
            let contig = index / per_contig;
            // Slots 1 ..= per_contig: never the first or last of a contig, so nothing reaches its ends.
            let slot_start = (index % per_contig + 1) as u64 * slot;
            let summit = slot_start + slot / 4 + rng.random_range(0..slot / 2);
            let strength = (settings.peak_strength_sd * normal(&mut rng)).exp();
            let wanted = rng.random_range(fewest..=most);
            let mut instances: Vec<Instance> = Vec::with_capacity(wanted);
            for _ in 0..wanted * 20 {
                if instances.len() == wanted {
                    break;
                }
                let motif = rng.random_range(0..settings.motifs.len());
                let length = settings.motifs[motif].consensus.len() as u64;
                let start = rng.random_range(summit - settings.motif_window..=summit + settings.motif_window - length);
                let strand = if rng.random_bool(0.5) { Strand::Plus } else { Strand::Minus };
                // At least 4 bases between instances, so each keeps its own sequence.
                let clashes = instances.iter().any(|other| {
                    let other_end = other.start + settings.motifs[other.motif].consensus.len() as u64;
                    start < other_end + 4 && other.start < start + length + 4
                });
                if !clashes {
                    instances.push(Instance { motif, start, strand });
                }
            }
            instances.sort_by_key(|i| i.start);
            Peak { contig, summit, strength, instances }
        })
        .collect()
}

/// A peak's interval in `peaks.narrowPeak`: `peak_width` bases centred on the summit.
fn peak_interval(settings: &ProfileSimulation, peak: &Peak) -> (u64, u64) {
    let start = peak.summit - settings.peak_width / 2;
    (start, start + settings.peak_width)
}

/// One contig's bases: GC drawn per block (higher inside peaks), then every instance planted.
fn make_contig(settings: &ProfileSimulation, contig: usize, peaks: &[Peak]) -> Vec<u8> {
    let length = settings.contig_length as usize;
    let block = settings.gc_block as usize;
    let mut layout = stream(settings.seed, LAYOUT, contig + 1);
    let (low, high) = settings.gc_range;
    let mut gc: Vec<f64> = Vec::with_capacity(length);
    while gc.len() < length {
        let fraction = low + (high - low) * layout.random::<f64>();
        gc.extend(std::iter::repeat_n(fraction, block.min(length - gc.len())));
    }
    let contig_peaks = || peaks.iter().filter(|p| p.contig == contig);
    for peak in contig_peaks() {
        let (start, end) = peak_interval(settings, peak);
        for fraction in &mut gc[start as usize..end as usize] {
            *fraction = (*fraction + settings.peak_gc_boost).clamp(0.0, 1.0);
        }
    }
    let mut rng = stream(settings.seed, GENOME, contig);
    let mut sequence: Vec<u8> = gc
        .iter()
        .map(|&gc| {
            let u: f64 = rng.random();
            if u < gc / 2.0 {
                b'G'
            } else if u < gc {
                b'C'
            } else if u < gc + (1.0 - gc) / 2.0 {
                b'A'
            } else {
                b'T'
            }
        })
        .collect();
    for peak in contig_peaks() {
        for instance in &peak.instances {
            let bases = settings.motifs[instance.motif].bases(instance.strand);
            let start = instance.start as usize;
            sequence[start..start + bases.len()].copy_from_slice(&bases);
        }
    }
    sequence
}

/// Add `mass` spread as a discrete Gaussian of standard deviation `spread` centred on `centre`
/// (whatever falls off the contig is lost).
fn add_gaussian(rate: &mut [f64], centre: i64, spread: f64, mass: f64) {
    let half = (4.0 * spread).ceil().max(1.0) as i64;
    let weight = |d: i64| (-((d * d) as f64) / (2.0 * spread * spread)).exp();
    let total: f64 = (-half..=half).map(weight).sum();
    for d in -half..=half {
        let at = centre + d;
        if at >= 0 && (at as usize) < rate.len() {
            rate[at as usize] += mass * weight(d) / total;
        }
    }
}

/// A Poisson draw of mean `mean` by inversion, in parts of at most 30 so `exp(-mean)` never underflows.
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    let mut remaining = mean;
    let mut total = 0;
    while remaining > 0.0 {
        let lambda = remaining.min(30.0);
        remaining -= lambda;
        let u: f64 = rng.random();
        let mut probability = (-lambda).exp();
        let mut cumulative = probability;
        let mut k = 0u32;
        while u > cumulative {
            k += 1;
            probability *= lambda / k as f64;
            cumulative += probability;
            // Past the mean and with nothing left to add: u sat in the rounding error at the very top.
            if k as f64 > lambda && probability < f64::EPSILON * cumulative {
                break;
            }
        }
        total += k;
    }
    total
}

/// The expected 5' ends of every base of one contig, `[plus, minus]`: background, peaks, footprints,
/// then (ATAC) protection and the sequence bias; zero where a read would run off the contig.
fn cut_rates(settings: &ProfileSimulation, sequence: &[u8], peaks: &[Peak]) -> [Vec<f64>; 2] {
    let length = sequence.len();
    let mut rates = [vec![settings.background_rate; length], vec![settings.background_rate; length]];
    let atac = settings.assay == SimulatedAssay::Atac;
    for peak in peaks {
        let mass = settings.peak_rate * peak.strength;
        let summit = peak.summit as i64;
        let offset = if atac { 0 } else { settings.peak_strand_offset as i64 };
        add_gaussian(&mut rates[0], summit - offset, settings.peak_spread, mass);
        add_gaussian(&mut rates[1], summit + offset, settings.peak_spread, mass);
        for instance in &peak.instances {
            let motif = &settings.motifs[instance.motif];
            let (left, right) = motif.pile_ups(instance.start, instance.strand);
            let mass = motif.strength * peak.strength;
            if atac {
                // Tn5 cuts either side of the bound factor on either strand.
                for rate in &mut rates {
                    add_gaussian(rate, left, motif.spread, mass / 2.0);
                    add_gaussian(rate, right, motif.spread, mass / 2.0);
                }
            } else {
                add_gaussian(&mut rates[0], left, motif.spread, mass);
                add_gaussian(&mut rates[1], right, motif.spread, mass);
            }
        }
    }
    if atac {
        for instance in peaks.iter().flat_map(|p| &p.instances) {
            let start = instance.start as usize;
            let end = start + settings.motifs[instance.motif].consensus.len();
            for rate in &mut rates {
                rate[start..end].iter_mut().for_each(|r| *r *= settings.protection);
            }
        }
        let [plus_rates, minus_rates] = &mut rates;
        for (position, (plus, minus)) in plus_rates.iter_mut().zip(minus_rates.iter_mut()).enumerate() {
            let factor = settings.bias.score(sequence, position).exp();
            *plus *= factor;
            *minus *= factor;
        }
    }
    let read_length = settings.read_length as usize;
    rates[0][length + 1 - read_length..].fill(0.0);
    rates[1][..read_length - 1].fill(0.0);
    rates
}

/// Each base's control factor on one contig (constant over blocks of `control_block`, log-normal),
/// or `None` without a control.
fn control_factors(settings: &ProfileSimulation, contig: usize) -> Option<Vec<f64>> {
    if settings.control_depth <= 0.0 {
        return None;
    }
    let length = settings.contig_length as usize;
    let block = settings.control_block as usize;
    let mut rng = stream(settings.seed, CONTROL, contig);
    let mut factors = Vec::with_capacity(length);
    while factors.len() < length {
        let factor = (settings.control_sd * normal(&mut rng)).exp();
        factors.extend(std::iter::repeat_n(factor, block.min(length - factors.len())));
    }
    Some(factors)
}

/// The control experiment's drawn 5' end counts on one contig, `[plus, minus]`: Poisson of
/// `control_depth` × the base's factor, zero where a read would run off the contig.
fn draw_control(settings: &ProfileSimulation, contig: usize, factors: &[f64]) -> [Vec<u32>; 2] {
    let length = factors.len();
    let read_length = settings.read_length as usize;
    let mut rng = stream(settings.seed, CONTROL_READS, contig);
    let mut counts = [vec![0u32; length], vec![0u32; length]];
    for (position, &factor) in factors.iter().enumerate() {
        for (strand, strand_counts) in counts.iter_mut().enumerate() {
            let reachable = if strand == 0 { position + read_length <= length } else { position + 1 >= read_length };
            if reachable {
                strand_counts[position] = poisson(&mut rng, settings.control_depth * factor);
            }
        }
    }
    counts
}

/// The drawn 5' end counts of every base of one contig, `[plus, minus]`, the rates multiplied by
/// the control factors when there are some.
fn draw_cuts(
    settings: &ProfileSimulation,
    contig: usize,
    sequence: &[u8],
    peaks: &[Peak],
    factors: Option<&[f64]>,
) -> [Vec<u32>; 2] {
    let mut rates = cut_rates(settings, sequence, peaks);
    if let Some(factors) = factors {
        for rate in &mut rates {
            rate.iter_mut().zip(factors).for_each(|(r, f)| *r *= f);
        }
    }
    let mut rng = stream(settings.seed, READS, contig);
    let mut counts = [vec![0u32; sequence.len()], vec![0u32; sequence.len()]];
    for position in 0..sequence.len() {
        for strand in 0..2 {
            counts[strand][position] = poisson(&mut rng, rates[strand][position]);
        }
    }
    counts
}

/// The runs of equal non-zero counts of one contig into the bigWig writers (stranded for ChIP, summed for
/// ATAC), as `omix tracks` emits them. False when a writer stopped.
fn push_runs(sink: &mut BigWigSink, assay: SimulatedAssay, contig: usize, counts: &[Vec<u32>; 2]) -> bool {
    let outputs: Vec<Vec<u32>> = match assay {
        SimulatedAssay::Chip => counts.to_vec(),
        SimulatedAssay::Atac => vec![counts[0].iter().zip(&counts[1]).map(|(p, m)| p + m).collect()],
    };
    for (output, values) in outputs.iter().enumerate() {
        let mut open: Option<Run> = None;
        for (position, &count) in values.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let position = position as u32;
            let value = count as f32;
            if let Some(run) = &mut open
                && run.end == position
                && run.value == value
            {
                run.end += 1;
                continue;
            }
            if let Some(run) = open.replace(Run { start: position, end: position + 1, value })
                && !sink.push(contig, output, run)
            {
                return false;
            }
        }
        if let Some(run) = open
            && !sink.push(contig, output, run)
        {
            return false;
        }
    }
    true
}

/// The BAM header: coordinate-sorted, the contigs, and the program with its seed.
fn bam_header(settings: &ProfileSimulation, names: &[String]) -> io::Result<noodles_sam::Header> {
    let mut text = String::from("@HD\tVN:1.6\tSO:coordinate\n");
    for name in names {
        text.push_str(&format!("@SQ\tSN:{name}\tLN:{}\n", settings.contig_length));
    }
    text.push_str(&format!("@PG\tID:omix-simulate\tPN:omix\tCL:simulate_profiles seed={}\n", settings.seed));
    text.parse().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("BAM header: {e}")))
}

/// A record whose fixed fields (mapping quality 60, `<read_length>M`, qualities) every read shares.
fn read_template(read_length: u64) -> RecordBuf {
    RecordBuf::builder()
        .set_mapping_quality(MappingQuality::new(60).unwrap_or(MappingQuality::MIN))
        .set_cigar([Op::new(Kind::Match, read_length as usize)].into_iter().collect())
        .set_quality_scores(vec![30u8; read_length as usize].into())
        .build()
}

/// Write one contig's reads in coordinate order: a plus read starts at its cut, a minus read ends at it;
/// names `r1`, `r2`, … continue from `written`. Returns how many were written.
#[allow(clippy::too_many_arguments)]
fn write_reads<W: Write>(
    writer: &mut bam::io::Writer<W>,
    header: &noodles_sam::Header,
    record: &mut RecordBuf,
    settings: &ProfileSimulation,
    contig: usize,
    sequence: &[u8],
    counts: &[Vec<u32>; 2],
    written: u64,
) -> io::Result<u64> {
    let read_length = settings.read_length as usize;
    // (start, minus strand, count); starts are unique per strand, so the order is total.
    let mut reads: Vec<(usize, bool, u32)> = Vec::new();
    for (position, &count) in counts[0].iter().enumerate().filter(|(_, c)| **c > 0) {
        reads.push((position, false, count));
    }
    for (position, &count) in counts[1].iter().enumerate().filter(|(_, c)| **c > 0) {
        reads.push((position + 1 - read_length, true, count));
    }
    reads.sort_unstable();
    let mut number = written;
    *record.reference_sequence_id_mut() = Some(contig);
    for (start, minus, count) in reads {
        *record.flags_mut() = if minus { Flags::REVERSE_COMPLEMENTED } else { Flags::empty() };
        *record.alignment_start_mut() = Position::new(start + 1);
        let bases = record.sequence_mut().as_mut();
        bases.clear();
        bases.extend_from_slice(&sequence[start..start + read_length]);
        for _ in 0..count {
            number += 1;
            *record.name_mut() = Some(format!("r{number}").into());
            writer.write_alignment_record(header, record)?;
        }
    }
    Ok(number - written)
}

/// `genome.fa` (60 bases a line), its index and the chrom sizes.
fn write_genome(files: &SimulationFiles, names: &[String], genome: &[Vec<u8>]) -> Result<(), TrackError> {
    const LINE: usize = 60;
    let mut index = String::new();
    let mut offset = 0usize;
    for (name, sequence) in names.iter().zip(genome) {
        offset += name.len() + 2; // ">name\n"
        index.push_str(&format!("{name}\t{}\t{offset}\t{LINE}\t{}\n", sequence.len(), LINE + 1));
        offset += sequence.len() + sequence.len().div_ceil(LINE);
    }
    omix_io::write_atomically(&files.genome, |out| {
        for (name, sequence) in names.iter().zip(genome) {
            writeln!(out, ">{name}")?;
            for line in sequence.chunks(LINE) {
                out.write_all(line)?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    })?;
    omix_io::write_atomically(&files.genome_index, |out| out.write_all(index.as_bytes()))?;
    omix_io::write_atomically(&files.chrom_sizes, |out| {
        for (name, sequence) in names.iter().zip(genome) {
            writeln!(out, "{name}\t{}", sequence.len())?;
        }
        Ok(())
    })?;
    Ok(())
}

/// `truth.tsv`: one line per planted instance, in genome order.
fn write_truth(path: &Path, settings: &ProfileSimulation, names: &[String], peaks: &[Peak]) -> Result<(), TrackError> {
    omix_io::write_atomically(path, |out| {
        writeln!(out, "chrom\tstart\tend\tstrand\tmotif")?;
        for peak in peaks {
            for instance in &peak.instances {
                let motif = &settings.motifs[instance.motif];
                let strand = if instance.strand == Strand::Plus { '+' } else { '-' };
                let end = instance.start + motif.consensus.len() as u64;
                writeln!(out, "{}\t{}\t{end}\t{strand}\t{}", names[peak.contig], instance.start, motif.name)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// `peaks.narrowPeak`: name `peak_N`, score from the peak's strength (0–1000), signal the cuts drawn in
/// its interval, no p- or q-value (−1), and the summit's offset.
fn write_peaks(
    path: &Path,
    settings: &ProfileSimulation,
    names: &[String],
    peaks: &[Peak],
    cuts: &[u64],
) -> Result<(), TrackError> {
    omix_io::write_atomically(path, |out| {
        for (number, (peak, cuts)) in peaks.iter().zip(cuts).enumerate() {
            let (start, end) = peak_interval(settings, peak);
            let score = (peak.strength * 500.0).round().min(1000.0) as u32;
            writeln!(
                out,
                "{}\t{start}\t{end}\tpeak_{}\t{score}\t.\t{cuts}\t-1\t-1\t{}",
                names[peak.contig],
                number + 1,
                peak.summit - start
            )?;
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_draws_have_the_right_mean_and_variance() {
        let mut rng = stream(5, READS, 0);
        for mean in [0.02, 1.5, 12.0, 75.0] {
            let n = 40_000;
            let draws: Vec<f64> = (0..n).map(|_| poisson(&mut rng, mean) as f64).collect();
            let average = draws.iter().sum::<f64>() / n as f64;
            let variance = draws.iter().map(|d| (d - average).powi(2)).sum::<f64>() / n as f64;
            let tolerance = 5.0 * (mean / n as f64).sqrt();
            assert!((average - mean).abs() < tolerance, "mean {mean}: average {average}");
            assert!((variance / mean - 1.0).abs() < 0.1, "mean {mean}: variance {variance}");
        }
    }

    #[test]
    fn gaussian_mass_is_kept_and_centred() {
        let mut rate = vec![0.0; 200];
        add_gaussian(&mut rate, 100, 3.0, 50.0);
        assert!((rate.iter().sum::<f64>() - 50.0).abs() < 1e-9);
        let top = rate.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i);
        assert_eq!(top, Some(100));
    }

    #[test]
    fn pile_ups_mirror_on_the_minus_strand() {
        let motif = &ProfileSimulation::default_motifs()[1]; // AP1: 7 bp, upstream 6, downstream 10
        assert_eq!(motif.pile_ups(100, Strand::Plus), (94, 116));
        assert_eq!(motif.pile_ups(100, Strand::Minus), (90, 112));
        assert_eq!(motif.bases(Strand::Minus), b"TGAGTCA");
    }

    #[test]
    fn bias_scores_its_own_consensus_highest() {
        let bias = BiasMotif::tn5_like();
        let best: Vec<u8> = bias
            .weights
            .iter()
            .map(|row| {
                let top = (0..4).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap_or(0);
                b"ACGT"[top]
            })
            .collect();
        let mut sequence = b"AAAAAAAAAA".to_vec();
        sequence.extend_from_slice(&best);
        sequence.extend_from_slice(b"AAAAAAAAAA");
        let at_consensus = bias.score(&sequence, 10 + bias.centre);
        assert!((0..sequence.len()).all(|p| bias.score(&sequence, p) <= at_consensus));
        assert!(at_consensus > 2.5, "{at_consensus}");
        // Off the ends, missing rows add nothing.
        assert!(bias.score(b"", 0).abs() < 1e-12);
    }

    #[test]
    fn every_broken_rule_is_named() {
        let settings = ProfileSimulation {
            contigs: 0,
            peaks: 10,
            gc_range: (0.7, 0.2),
            motifs_per_peak: (2, 1),
            motifs: vec![PlantedMotif { consensus: "ACGN".into(), ..ProfileSimulation::default_motifs()[0].clone() }],
            protection: 2.0,
            read_length: 0,
            ..ProfileSimulation::small()
        };
        let problems = settings.problems().join("\n");
        for expected in [
            "contigs must",
            "peaks do not fit",
            "gc_range",
            "motifs_per_peak",
            "A, C, G and T",
            "protection",
            "read_length",
        ] {
            assert!(problems.contains(expected), "{expected} not in:\n{problems}");
        }
        assert!(ProfileSimulation::default().problems().is_empty());
        assert!(ProfileSimulation::small().problems().is_empty());
    }
}
