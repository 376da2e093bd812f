//! The error type of omix-motif.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong reading or writing MEME files, comparing motifs or reading the
/// built-in database.
#[derive(Debug, thiserror::Error)]
pub enum MotifError {
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
    /// A motif id that MEME cannot hold (empty, or more than one word).
    #[error("motif id '{motif}' must be one non-empty word to be written as MEME")]
    InvalidMotifId {
        /// The motif id.
        motif: String,
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
    /// Background letter frequencies that cannot be written.
    #[error("invalid background frequencies {}: {reason}", values.iter().map(f64::to_string).collect::<Vec<_>>().join(" "))]
    InvalidBackground {
        /// The frequencies.
        values: Vec<f64>,
        /// What was wrong.
        reason: String,
    },
    /// The embedded motif database could not be read (a corrupt build).
    #[error("the embedded motif database {database} could not be read: {source}")]
    Database {
        /// Which database.
        database: &'static str,
        /// What went wrong (boxed: the reader's error is large).
        #[source]
        source: Box<MotifError>,
    },
    /// A database without motifs.
    #[error("the motif database has no motifs")]
    EmptyDatabase,
    /// A motif without positions.
    #[error("motif '{motif}' has no positions (width 0)")]
    EmptyMotif {
        /// The motif id.
        motif: String,
    },
    /// A motif position with a different number of letters than the database alphabet.
    #[error(
        "motif '{motif}' position {position} has {found} letter probabilities, but the alphabet has {expected} letters"
    )]
    AlphabetMismatch {
        /// The motif id.
        motif: String,
        /// The 1-based position.
        position: usize,
        /// The number of values in that row.
        found: usize,
        /// The alphabet length.
        expected: usize,
    },
    /// A negative or non-finite probability, or a row summing to 0.
    #[error(
        "motif '{motif}' position {position} has an invalid probability {value} (need finite values >= 0 with a positive sum)"
    )]
    InvalidProbability {
        /// The motif id.
        motif: String,
        /// The 1-based position.
        position: usize,
        /// The offending value (the row sum when the row sums to 0).
        value: f64,
    },
    /// An option outside its allowed range.
    #[error("invalid comparison option {name}: {reason}")]
    InvalidOption {
        /// The option name.
        name: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// Attributions that cannot be searched for motifs (shapes that disagree, values that are
    /// not finite, an alphabet that is not four letters).
    #[error("{message}")]
    Attributions {
        /// What was wrong, with the array and the example or position.
        message: String,
    },
}
