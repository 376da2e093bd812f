//! The error type of omix-motif.

use omix_features::FeatureError;

/// Everything that can go wrong comparing motifs or reading the built-in database.
#[derive(Debug, thiserror::Error)]
pub enum MotifError {
    /// The embedded motif database could not be read (a corrupt build).
    #[error("the embedded motif database {database} could not be read: {source}")]
    Database {
        /// Which database.
        database: &'static str,
        /// What went wrong (boxed: the reader's error is large).
        #[source]
        source: Box<FeatureError>,
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
}
