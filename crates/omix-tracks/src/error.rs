//! The one error type of `omix-tracks`: every variant names the file and, where there is one, the
//! record or line.

use std::io;
use std::path::PathBuf;

use omix_genome::GenomeError;

/// What went wrong reading or writing a track.
#[derive(Debug, thiserror::Error)]
pub enum TrackError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },

    /// The output could not be written.
    #[error("{path}: cannot write: {message}")]
    Write { path: PathBuf, message: String },

    /// A BAM file's header could not be read.
    #[error("{path}: cannot read the BAM header: {message}")]
    BamHeader { path: PathBuf, message: String },

    /// One BAM record could not be decoded.
    #[error("{path}: record {record}: {message}")]
    BamRecord { path: PathBuf, record: u64, message: String },

    /// A line of a text file (fragments, bedGraph, chrom sizes) is malformed.
    #[error("{path}:{line}: {message}")]
    Line { path: PathBuf, line: u64, message: String },

    /// Records are not sorted by position within a contig, or a contig comes back after another.
    #[error("{path}: {place}: {message}")]
    Unsorted { path: PathBuf, place: String, message: String },

    /// A contig of the input is not in the reference (or chrom sizes), or has another length there.
    #[error("{path}: {message}")]
    Contigs { path: PathBuf, message: String },

    /// A position lies past the end of its contig.
    #[error("{path}: {place}: {message}")]
    PastContigEnd { path: PathBuf, place: String, message: String },

    /// Nothing usable was in the file.
    #[error("{path}: {message}")]
    Empty { path: PathBuf, message: String },

    /// A bigWig file could not be opened or read.
    #[error("{path}: cannot read the bigWig: {message}")]
    BigWig { path: PathBuf, message: String },

    /// A value of a track is not a finite number, or is negative where counts are expected.
    #[error("{path}: {place}: {message}")]
    BadValue { path: PathBuf, place: String, message: String },

    /// Opening or reading a text input (plain, gzip or bgzip).
    #[error(transparent)]
    Input(#[from] omix_io::IoError),

    /// The reference or its contig list.
    #[error(transparent)]
    Genome(#[from] GenomeError),
}

impl TrackError {
    /// `chrom:position` came after `previous_chrom:previous_position` at `place` of `path`.
    pub(crate) fn unsorted(
        path: &std::path::Path,
        place: String,
        (chrom, position): (&str, u64),
        (previous_chrom, previous_position): (&str, u64),
        hint: &str,
    ) -> TrackError {
        TrackError::Unsorted {
            path: path.to_path_buf(),
            place,
            message: format!(
                "{chrom}:{position} comes after {previous_chrom}:{previous_position}; the file must be sorted by \
                 coordinate ({hint})"
            ),
        }
    }

    /// The interval `chrom:start-end` at `place` of `path` ends past the contig's `length` (from `sizes`).
    pub(crate) fn past_end(
        path: &std::path::Path,
        place: String,
        (chrom, start, end): (&str, u64, u64),
        length: u64,
        sizes: &std::path::Path,
    ) -> TrackError {
        TrackError::PastContigEnd {
            path: path.to_path_buf(),
            place,
            message: format!("{chrom}:{start}-{end} ends past the end of {chrom} ({length} bp in {})", sizes.display()),
        }
    }

    /// An I/O error on `path`.
    pub(crate) fn io(path: &std::path::Path, source: io::Error) -> TrackError {
        TrackError::Io { path: path.to_path_buf(), source }
    }
}
