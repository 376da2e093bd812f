//! The error type of omix-features.

use omix_encode::Alphabet;

/// Everything that can go wrong building or computing engineered features.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// `k` is outside the range the alphabet allows.
    #[error("k-mer length k = {k} is out of range for {alphabet} (1 to {max})")]
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
        "canonical k-mers (merging a k-mer with its reverse complement) need DNA or RNA, not {alphabet}; set canonical = false"
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
    /// A motif with no rows.
    #[error("motif '{motif}' has no rows")]
    EmptyMotif {
        /// The motif id.
        motif: String,
    },
    /// A motif row with a negative, non-finite or all-zero probability.
    #[error(
        "motif '{motif}', row {row}: invalid probabilities {} (need finite values >= 0, not all 0)",
        numbers(values)
    )]
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
    /// Motifs wider than every sequence: no window fits, so their features are constant.
    #[error(
        "{count} motif(s) are wider than the {length}-position input sequences, so they fit no window and their features would be constant (the first: '{motif}', {width} wide); remove them from the motif file or use a longer `length` in [data]"
    )]
    MotifWiderThanSequence {
        /// The first such motif.
        motif: String,
        /// Its width.
        width: usize,
        /// How many motifs are too wide.
        count: usize,
        /// The sequence length.
        length: usize,
    },
    /// Background letter frequencies that cannot be used.
    #[error("invalid background frequencies {}: {reason}", numbers(values))]
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
    /// Gapped k-mer settings that break a rule.
    #[error("gapped k-mer settings l = {l}, k = {k}: {rule}")]
    GkmSettings {
        /// The pattern length.
        l: usize,
        /// The informative positions.
        k: usize,
        /// The rule broken.
        rule: String,
    },
    /// Gapped k-mers are defined for DNA and RNA only.
    #[error("gapped k-mer features need DNA or RNA, not {alphabet}")]
    GkmNeedsNucleotides {
        /// The alphabet.
        alphabet: Alphabet,
    },
    /// More rows than a column-major matrix can number.
    #[error("{rows} sequences are more than the {max} a gapped k-mer matrix can hold")]
    TooManyRows {
        /// The rows given.
        rows: usize,
        /// The most supported.
        max: usize,
    },
    /// A stored standardizer that is inconsistent.
    #[error("invalid standardizer: {reason}")]
    InvalidStandardizer {
        /// What was wrong.
        reason: String,
    },
}

/// Numbers for a message, separated by spaces as in a motif row: `0.25 0.25 0.5 0`.
fn numbers(values: &[f64]) -> String {
    values.iter().map(f64::to_string).collect::<Vec<_>>().join(" ")
}
