//! Coverage tracks: read 5' ends ("cuts") from BAM and fragment files counted per base and strand,
//! written as bigWig; bigWig and bedGraph tracks read back into per-base arrays.
//!
//! ```
//! use omix_tracks::{Assay, CutCounter, Run, Strand, Stranding};
//!
//! // Two ChIP reads on a 1 kb contig, counted at their 5' ends on separate strands.
//! let mut counter = CutCounter::new(Assay::Chip.bam_shift(), Stranding::Stranded);
//! let mut runs = Vec::new();
//! let mut emit = |_contig: usize, output: usize, run: Run| runs.push((output, run));
//! counter.start_contig(0, 1_000, &mut emit);
//! counter.advance(100, &mut emit);
//! counter.add(100, 150, Strand::Plus); // cut at 100
//! counter.add(100, 150, Strand::Minus); // cut at 149
//! counter.finish_contig(&mut emit);
//! assert_eq!(runs, vec![
//!     (0, Run { start: 100, end: 101, value: 1.0 }),
//!     (1, Run { start: 149, end: 150, value: 1.0 }),
//! ]);
//! ```
//!
//! Nothing here holds a contig in memory: the readers need coordinate-sorted input (and say where it
//! is not), the counter keeps only the bases later reads can still reach, and [`BigWigSink`] writes each
//! output on its own thread from a bounded queue.

mod bigwig;
mod cuts;
mod error;
mod reads;
mod simulate;
mod sizes;

use std::path::{Path, PathBuf};

pub use bigwig::{BigWigSink, Track};
pub use cuts::{Assay, CutCounter, Run, Shift, Strand, Stranding};
pub use error::TrackError;
pub use reads::{BamHeader, CountedRuns, ReadCounts, ReadFilter, count_bam, count_fragments, count_to_runs, is_bam};
pub use simulate::{
    BiasMotif, PlantedMotif, ProfileSimulation, SimulatedAssay, SimulationFiles, SimulationSummary, simulate_profiles,
};
pub use sizes::ChromSizes;

/// One conversion of reads into bigWig tracks: `omix tracks`.
#[derive(Debug, Clone)]
pub struct TrackJob {
    /// A coordinate-sorted BAM file or a fragment file.
    pub input: PathBuf,
    /// One file when unstranded; plus then minus when stranded.
    pub outputs: Vec<PathBuf>,
    pub shift: Shift,
    pub stranding: Stranding,
    pub filter: ReadFilter,
    pub allow_missing_contigs: bool,
}

/// What a conversion read and wrote.
#[derive(Debug, Clone)]
pub struct TrackSummary {
    pub input_kind: &'static str,
    pub counts: ReadCounts,
    pub written: Vec<PathBuf>,
}

impl TrackJob {
    /// The outputs for `out` (`x.bw`): itself, or `x.plus.bw` and `x.minus.bw` when stranded.
    pub fn outputs_for(out: &Path, stranding: Stranding) -> Vec<PathBuf> {
        match stranding {
            Stranding::Unstranded => vec![out.to_path_buf()],
            Stranding::Stranded => {
                let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                let extension =
                    out.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_else(|| "bw".into());
                ["plus", "minus"]
                    .iter()
                    .map(|strand| out.with_file_name(format!("{stem}.{strand}.{extension}")))
                    .collect()
            }
        }
    }

    /// Run the conversion. `sizes` (from the reference or a chrom sizes file) lays out the tracks; without
    /// it a BAM file's own header is used, and a fragment file is refused (it carries no contig lengths).
    /// Every output appears together at the end, or none does.
    pub fn run(&self, sizes: Option<&ChromSizes>, log: &mut dyn FnMut(&str)) -> Result<TrackSummary, TrackError> {
        let bam = is_bam(&self.input)?;
        let own_sizes;
        let sizes = match (sizes, bam) {
            (Some(sizes), _) => sizes,
            (None, true) => {
                own_sizes = bam_sizes(&self.input)?;
                &own_sizes
            }
            (None, false) => {
                return Err(TrackError::Contigs {
                    path: self.input.clone(),
                    message: "a fragment file carries no contig lengths: pass --reference genome.fa or --chrom-sizes \
                              genome.sizes"
                        .into(),
                });
            }
        };
        let mut sink = BigWigSink::create(&self.outputs, sizes)?;
        let mut counter = CutCounter::new(self.shift, self.stranding);
        let mut stopped = false;
        let mut emit = |contig: usize, output: usize, run: Run| {
            if !sink.push(contig, output, run) {
                stopped = true;
            }
        };
        let counts = if bam {
            count_bam(&self.input, sizes, self.filter, self.allow_missing_contigs, &mut counter, &mut emit, log)
        } else {
            count_fragments(&self.input, sizes, self.allow_missing_contigs, &mut counter, &mut emit)
        };
        let counts = match counts {
            Ok(counts) => counts,
            Err(error) => {
                drop(sink); // Its temporary files go with it.
                return Err(error);
            }
        };
        if counts.cuts == 0 {
            drop(sink);
            let mut message = format!("no read passed the filters ({} records read", counts.records);
            for line in counts.dropped_lines() {
                message.push_str("; ");
                message.push_str(&line);
            }
            message.push_str("); nothing was written");
            return Err(TrackError::Empty { path: self.input.clone(), message });
        }
        let written = sink.finish()?;
        debug_assert!(!stopped, "a writer stopped without an error");
        Ok(TrackSummary { input_kind: if bam { "BAM" } else { "fragments" }, counts, written })
    }
}

/// The contigs of a BAM file's header, as chrom sizes.
pub fn bam_sizes(path: &Path) -> Result<ChromSizes, TrackError> {
    let file = std::fs::File::open(path).map_err(|e| TrackError::io(path, e))?;
    let mut reader = noodles_bam::io::Reader::new(std::io::BufReader::new(file));
    let header = reads::read_bam_header(path, &mut reader)?;
    if header.contigs.is_empty() {
        return Err(TrackError::Empty { path: path.to_path_buf(), message: "the BAM header lists no contigs".into() });
    }
    ChromSizes::new(path, header.contigs)
}
