//! Genome reference access and interval data sets for omix, with no deep-learning dependency.
//!
//! - [`Reference`]: a FASTA file (plain or bgzip) read at random through its `.fai` index (checked against
//!   the file; built in memory and cached by omix when missing, never written next to the FASTA), shareable
//!   across threads; [`Reference::fetch`] pads with `N` past contig ends.
//! - [`read_bed`], [`check_contigs`], [`check_intervals`]: BED3+ intervals with `file:line:column` errors,
//!   contig-name checks with a `chr`-prefix hint, and intervals past a contig's end refused.
//! - [`Window`], [`apply_bounds`], [`tiles`], [`IntervalIndex`]: fixed-length windows, the out-of-bounds
//!   policy, tiling and fast overlap look-ups.
//! - [`gc_matched_background`]: seeded, GC-matched negative windows.
//! - [`ChromosomeSplit`], [`cross_split_overlaps`]: hold-out by chromosome, and a leak check.
//! - [`BedGraphWriter`]: bedGraph tracks.
//!
//! All coordinates are 0-based and half-open, as in BED.
//!
//! ```
//! use omix_genome::{Reference, Window, read_bed, check_contigs, check_intervals};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let fasta = dir.path().join("genome.fa");
//! std::fs::write(&fasta, ">chr1 test\nACGTACGTAC\nGTACGTAC\n>chr2\nggggcccc\n")?;
//! let mut log = Vec::new();
//! let cache = dir.path().join("cache");
//! let reference = Reference::open_with_index_cache(&fasta, &cache, &mut |line: &str| log.push(line.to_owned()))?;
//! assert!(log[0].contains("in memory")); // indexed in memory and cached, nothing written next to the FASTA
//! assert!(!dir.path().join("genome.fa.fai").exists());
//! assert_eq!(reference.contig_length("chr1"), Some(18));
//! assert_eq!(reference.fetch("chr1", 8, 12)?, b"ACGT"); // across a line break
//! assert_eq!(reference.fetch("chr2", -2, 3)?, b"NNGGG"); // padded, upper-cased
//!
//! let bed = dir.path().join("peaks.bed");
//! std::fs::write(&bed, "track name=peaks\nchr2\t2\t6\tpeak1\n")?;
//! let peaks = read_bed(&bed)?;
//! check_contigs(&bed, peaks.iter().map(|p| p.chrom.as_str()), &reference)?;
//! check_intervals(&bed, &peaks, &reference)?;
//! let window = Window::centred(&peaks[0].chrom, peaks[0].start, peaks[0].end, 6, 0);
//! assert_eq!(window, Window::new("chr2", 1, 7));
//! assert_eq!(reference.fetch(&window.chrom, window.start, window.end)?, b"GGGCCC");
//! # Ok(())
//! # }
//! ```

mod background;
mod bed;
mod bedgraph;
mod contigs;
mod error;
mod reference;
mod source;
mod split;
mod window;

pub use background::{Background, DRAWS_PER_WINDOW, GC_BINS, gc_matched_background};
pub use bed::{BedRecord, read_bed};
pub use bedgraph::BedGraphWriter;
pub use contigs::{check_contigs, check_intervals};
pub use error::{ContigMismatch, GenomeError};
pub use reference::{Contig, MAX_PADDING, Reference, default_index_cache};
pub use source::{InMemorySource, SequenceSource};
pub use split::{ChromosomeSplit, SplitName, cross_split_overlaps};
pub use window::{IntervalIndex, OutOfBounds, Window, WindowCounts, apply_bounds, tiles};
