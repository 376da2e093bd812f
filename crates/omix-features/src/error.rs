//! The error type of omix-features.

use std::io;
use std::path::PathBuf;

use omix_encode::Alphabet;

/// Everything that can go wrong building or computing engineered features.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// `k` is outside the range the alphabet allows.
    #[error("k-mer length k = {k} is out of range for {alphabet:?} (1 to {max})")]
    KmerLength {
        /// The requested k.
        k: usize,
        /// The largest k for this alphabet.
        max: usize,
        /// The alphabet.
        alphabet: Alphabet,
    },
    /// Canonical k-mers need a four-letter nucleotide alphabet.
    #[error(
        "canonical k-mers (merging a k-mer with its reverse complement) need DNA or RNA, not {alphabet:?}; set canonical = false"
    )]
    CanonicalNeedsNucleotides {
        /// The alphabet.
        alphabet: Alphabet,
    },
    /// Too many wildcard positions in a gapped k-mer.
    #[error("k-mer gap {gap} is too large (at most {max})")]
    GapTooLarge {
        /// The requested gap.
        gap: usize,
        /// The largest gap allowed.
        max: usize,
    },
    /// A gap needs informative letters on both sides.
    #[error("a gapped k-mer needs k >= 2 (informative letters on both sides of the gap), but k = {k}")]
    GapNeedsTwoLetters {
        /// The requested k.
        k: usize,
    },
    /// Canonical gapped k-mers need the gap exactly in the middle.
    #[error(
        "canonical gapped k-mers need an even k (so that the gap stays in the middle on both strands), but k = {k}"
    )]
    CanonicalGapOddK {
        /// The requested k.
        k: usize,
    },
    /// The MEME file could not be opened or read.
    #[error(transparent)]
    Io(#[from] omix_io::IoError),
    /// A MEME file that breaks the format.
    #[error("{}, line {line}: {message}", path.display())]
    Meme {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// A motif row whose probabilities do not sum to 1.
    #[error("{}, line {line}: row of motif '{motif}' sums to {sum} (probabilities must sum to 1 within {tolerance})", path.display())]
    MemeRowSum {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
        /// The motif id.
        motif: String,
        /// The row sum.
        sum: f64,
        /// The tolerance allowed.
        tolerance: f64,
    },
    /// A motif row with the wrong number of columns.
    #[error("{}, line {line}: row of motif '{motif}' has {found} values but alength= {expected}", path.display())]
    MemeColumns {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
        /// The motif id.
        motif: String,
        /// The alphabet length.
        expected: usize,
        /// The values found.
        found: usize,
    },
    /// A motif whose number of rows differs from its declared width.
    #[error("{}, line {line}: motif '{motif}' declares w= {declared} but has {found} rows", path.display())]
    MemeWidth {
        /// The file.
        path: PathBuf,
        /// The 1-based line where the difference shows.
        line: u64,
        /// The motif id.
        motif: String,
        /// The declared width.
        declared: usize,
        /// The rows found.
        found: usize,
    },
    /// The same motif id appears twice.
    #[error("{}, line {line}: duplicate motif id '{motif}' (first seen on line {first_line})", path.display())]
    DuplicateMotif {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
        /// The motif id.
        motif: String,
        /// The 1-based line of its first appearance.
        first_line: u64,
    },
    /// A MEME file without motifs.
    #[error("{}: the file holds no motifs (no 'MOTIF' line)", path.display())]
    NoMotifs {
        /// The file.
        path: PathBuf,
    },
    /// Writing motifs failed.
    #[error("cannot write motifs: {source}")]
    Write {
        /// The underlying error.
        #[from]
        source: io::Error,
    },
    /// Motifs whose alphabet does not fit the operation.
    #[error("motif '{motif}' has {alength} letters per row, but {expected} are needed")]
    MotifAlphabet {
        /// The motif id.
        motif: String,
        /// Its letters per row.
        alength: usize,
        /// The letters per row needed.
        expected: usize,
    },
    /// A motif id that MEME cannot hold (empty, or more than one word).
    #[error("motif id '{motif}' must be one non-empty word to be written as MEME")]
    InvalidMotifId {
        /// The motif id.
        motif: String,
    },
    /// A motif with no rows.
    #[error("motif '{motif}' has no rows")]
    EmptyMotif {
        /// The motif id.
        motif: String,
    },
    /// A motif row with a negative, non-finite or all-zero probability.
    #[error("motif '{motif}', row {row}: invalid probabilities {values:?} (need finite values >= 0, not all 0)")]
    InvalidProbability {
        /// The motif id.
        motif: String,
        /// The 1-based row.
        row: usize,
        /// The row.
        values: Vec<f64>,
    },
    /// A PWM scanner was asked to scan no motifs.
    #[error("no motifs to scan")]
    EmptyMotifList,
    /// Background letter frequencies that cannot be used.
    #[error("invalid background frequencies {values:?}: {reason}")]
    InvalidBackground {
        /// The frequencies.
        values: Vec<f64>,
        /// What was wrong.
        reason: String,
    },
    /// A pseudocount that is not a positive finite number.
    #[error("invalid pseudocount {value} (must be finite and > 0)")]
    InvalidPseudocount {
        /// The pseudocount.
        value: f64,
    },
    /// A value buffer whose length is not a whole number of rows.
    #[error("{len} values do not make rows of width {width}")]
    Shape {
        /// The number of values.
        len: usize,
        /// The row width.
        width: usize,
    },
    /// A row index beyond the matrix.
    #[error("row {row} is out of range (the matrix has {rows} rows)")]
    RowOutOfRange {
        /// The 0-based row index.
        row: usize,
        /// The number of rows.
        rows: usize,
    },
    /// Fitting on an empty set of rows.
    #[error("cannot fit a standardizer on zero rows")]
    NoRowsToFit,
    /// A value that is NaN or infinite.
    #[error("row {row}, column {column}: value {value} is not finite")]
    NonFinite {
        /// The 0-based row.
        row: usize,
        /// The 0-based column.
        column: usize,
        /// The value.
        value: f32,
    },
    /// A row or vector of the wrong width.
    #[error("expected {expected} values per row but found {found}")]
    WidthMismatch {
        /// The width needed.
        expected: usize,
        /// The width given.
        found: usize,
    },
    /// A stored standardizer that is inconsistent.
    #[error("invalid standardizer: {reason}")]
    InvalidStandardizer {
        /// What was wrong.
        reason: String,
    },
}
