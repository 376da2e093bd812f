//! The error type of omix-variants.

use std::io;
use std::path::{Path, PathBuf};

use omix_io::IoError;

/// Everything that can go wrong reading a VCF, parsing a shard, writing scores or keeping progress.
///
/// Errors about a file name the file and, where it applies, the 1-based line.
#[derive(Debug, thiserror::Error)]
pub enum VariantError {
    /// Opening or writing a file failed (see [`IoError`]).
    #[error(transparent)]
    Io(#[from] IoError),
    /// Reading (or decompressing) failed part-way through the file.
    #[error("{}: read failed near line {line}: {source}{}", path.display(), read_hint(source))]
    Read {
        /// The file.
        path: PathBuf,
        /// The 1-based line being read when the failure happened.
        line: u64,
        /// The underlying error.
        source: io::Error,
    },
    /// A line whose text is not valid UTF-8.
    #[error("{}, line {line}: the text is not valid UTF-8", path.display())]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
    },
    /// A VCF line that breaks the format.
    #[error("{}, line {line}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// A `--shard` value that is not `I/N` with `1 <= I <= N`.
    #[error("invalid shard '{text}': {message} (expected I/N with 1 <= I <= N, e.g. 3/10)")]
    Shard {
        /// The text as given.
        text: String,
        /// What was wrong.
        message: String,
    },
    /// A score record whose task names and score vectors differ in length, or whose tasks are not the writer's.
    #[error("score record for {chrom}:{pos} has {message}")]
    ScoreShape {
        /// The variant's contig.
        chrom: String,
        /// The variant's 1-based position.
        pos: u64,
        /// What did not match.
        message: String,
    },
    /// Two tasks whose names become the same VCF INFO key once sanitised.
    #[error("tasks '{first}' and '{second}' both become the VCF INFO key prefix '{key}'; rename one of them")]
    DuplicateInfoKey {
        /// The sanitised key prefix.
        key: String,
        /// The first task name.
        first: String,
        /// The second task name.
        second: String,
    },
    /// Writing scores to the output failed.
    #[error("writing scores failed: {source}")]
    Write {
        /// The underlying error.
        #[from]
        source: io::Error,
    },
    /// A progress file that exists but cannot be read back.
    #[error("{}: cannot read the progress file: {message}", path.display())]
    Progress {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A progress file left by a scoring run with another model, VCF, reference or settings.
    #[error(
        "cannot resume: {changed} changed since the partial output was started ({}); it was left untouched. \
         To start over, delete {}, {} and {}, or choose another -o",
        path.display(),
        tsv.display(),
        vcf.display(),
        path.display()
    )]
    ForeignProgress {
        /// The progress file.
        path: PathBuf,
        /// The partial TSV output.
        tsv: PathBuf,
        /// The partial VCF output.
        vcf: PathBuf,
        /// What changed, in words ("the model (...), the VCF (...)").
        changed: String,
    },
    /// A REF allele that disagrees with the reference genome, under `OnMismatch::Error`.
    #[error("{}:{line}: {message}", path.display())]
    ReferenceMismatch {
        /// The VCF.
        path: PathBuf,
        /// The 1-based line of the record.
        line: u64,
        /// The variant, what differs, and what to do.
        message: String,
    },
    /// The reference genome (contig names, fetching).
    #[error(transparent)]
    Genome(#[from] omix_genome::GenomeError),
    /// The model could not score the windows.
    #[error("scoring failed: {0}")]
    Scoring(String),
}

impl VariantError {
    /// The file the error is about, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            VariantError::Io(e) => Some(e.path()),
            VariantError::Read { path, .. }
            | VariantError::InvalidUtf8 { path, .. }
            | VariantError::Malformed { path, .. }
            | VariantError::Progress { path, .. }
            | VariantError::ForeignProgress { path, .. }
            | VariantError::ReferenceMismatch { path, .. } => Some(path),
            VariantError::Genome(_) | VariantError::Scoring(_) => None,
            VariantError::Shard { .. }
            | VariantError::ScoreShape { .. }
            | VariantError::DuplicateInfoKey { .. }
            | VariantError::Write { .. } => None,
        }
    }

    /// The 1-based line the error is about, when there is one.
    pub fn line(&self) -> Option<u64> {
        match self {
            VariantError::Io(e) => e.line(),
            VariantError::Read { line, .. }
            | VariantError::InvalidUtf8 { line, .. }
            | VariantError::Malformed { line, .. }
            | VariantError::ReferenceMismatch { line, .. } => Some(*line),
            VariantError::ForeignProgress { .. } | VariantError::Genome(_) | VariantError::Scoring(_) => None,
            VariantError::Shard { .. }
            | VariantError::ScoreShape { .. }
            | VariantError::DuplicateInfoKey { .. }
            | VariantError::Write { .. }
            | VariantError::Progress { .. } => None,
        }
    }
}

/// A hint appended to read errors that look like a damaged gzip stream.
fn read_hint(source: &io::Error) -> &'static str {
    match source.kind() {
        io::ErrorKind::UnexpectedEof => " (is the gzip file truncated?)",
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => " (is the gzip file truncated or corrupt?)",
        _ => "",
    }
}
