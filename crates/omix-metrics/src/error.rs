//! Error type shared by every metric function.

/// Why a set of metrics could not be computed from the given inputs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// Labels and scores (or predictions) do not have the same length.
    #[error("labels and scores differ in length: {labels} labels but {scores} scores")]
    LengthMismatch {
        /// Number of labels given.
        labels: usize,
        /// Number of scores given.
        scores: usize,
    },
    /// There are no examples to evaluate.
    #[error("no examples: metrics need at least one labelled example")]
    Empty,
    /// A score or probability is NaN or infinite.
    #[error("score at index {index} is not finite (NaN or infinite)")]
    NonFinite {
        /// Position of the offending value in the (row-major) score slice.
        index: usize,
    },
    /// A multi-class label refers to a class that does not exist.
    #[error(
        "label at index {index} is class {class}, but only {classes} classes are defined (valid classes are 0..{classes})"
    )]
    ClassOutOfRange {
        /// Position of the offending label.
        index: usize,
        /// The class index found there.
        class: usize,
        /// Number of classes defined by the class names.
        classes: usize,
    },
    /// No class names (multi-class) or task names (multi-label) were given.
    #[error("no class or task names given: at least one column is required")]
    NoColumns,
    /// A row-major matrix does not have `rows * columns` values.
    #[error(
        "expected a row-major matrix of {rows} rows x {columns} columns ({expected} values), got {values} values",
        expected = rows.saturating_mul(*columns)
    )]
    ShapeMismatch {
        /// Number of rows (examples) expected.
        rows: usize,
        /// Number of columns (classes or tasks).
        columns: usize,
        /// Number of values actually given.
        values: usize,
    },
    /// An observed read count is negative.
    #[error("observed count at index {index} is {value}; counts must be 0 or more")]
    NegativeCount {
        /// Position of the offending value in the (row-major) count slice.
        index: usize,
        /// The value found there.
        value: f64,
    },
    /// The decision threshold is NaN.
    #[error("decision threshold is NaN; use a number (infinite values are allowed)")]
    NanThreshold,
}
