//! The crate's error type.

/// Why a baseline could not be fitted or evaluated on the given inputs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BaselineError {
    /// There are no examples (rows) to work with.
    #[error("no examples: {what} needs at least one row")]
    Empty {
        /// What was being computed.
        what: &'static str,
    },
    /// A slice does not have the length its companions imply.
    #[error("{what} has {got} values, expected {expected}")]
    LengthMismatch {
        /// Which input is too long or too short.
        what: &'static str,
        /// Length implied by the other inputs.
        expected: usize,
        /// Length given.
        got: usize,
    },
    /// A row-major matrix has a number of values that is not a multiple of its width.
    #[error("a row-major matrix of width {width} cannot hold {values} values (not a multiple of the width)")]
    RaggedMatrix {
        /// Declared number of columns.
        width: usize,
        /// Number of values given.
        values: usize,
    },
    /// A value is NaN or infinite.
    #[error("{what} at index {index} is not finite (NaN or infinite)")]
    NonFinite {
        /// Which input holds the value.
        what: &'static str,
        /// Position in that (flat) slice.
        index: usize,
    },
    /// A sparse (CSR) matrix has row offsets that do not describe its entries.
    #[error("sparse matrix row offsets are invalid: {rule}")]
    InvalidRowOffsets {
        /// The rule they break.
        rule: &'static str,
    },
    /// A sparse column index is not below the declared width.
    #[error("sparse matrix row {row} has column index {column}, but the width is {width}")]
    ColumnOutOfRange {
        /// Row holding the entry.
        row: usize,
        /// The column index found.
        column: u32,
        /// Declared number of columns.
        width: usize,
    },
    /// A row index is not below the number of rows of the matrix.
    #[error("row index {row} at position {index} is out of range: the matrix has {rows} rows")]
    RowOutOfRange {
        /// Position in the list of row indices.
        index: usize,
        /// The row index found.
        row: usize,
        /// Number of rows of the matrix.
        rows: usize,
    },
    /// A design matrix does not have the width the model was fitted on.
    #[error("the model was fitted on {expected} features, but the matrix has {got}")]
    WidthMismatch {
        /// Width the model expects.
        expected: usize,
        /// Width given.
        got: usize,
    },
    /// A class label is not below the number of classes.
    #[error("label at index {index} is class {label}, but only {classes} classes are defined")]
    LabelOutOfRange {
        /// Row of the label.
        index: usize,
        /// The label found.
        label: usize,
        /// Number of classes.
        classes: usize,
    },
    /// Targets of a different kind than the model's were given.
    #[error("targets are {got}, but the model predicts {expected}")]
    TargetKindMismatch {
        /// What the model predicts.
        expected: String,
        /// What was given.
        got: String,
    },
    /// An example weight is negative or not finite, or all weights are zero.
    #[error("example weight at index {index} is {value}; weights must be finite, non-negative and not all zero")]
    InvalidWeight {
        /// Position of the weight (the first one when all are zero).
        index: usize,
        /// The weight found.
        value: f64,
    },
    /// A setting is outside its valid range.
    #[error("{name} = {value} is invalid: {rule}")]
    InvalidParameter {
        /// Name of the setting.
        name: &'static str,
        /// The value given, as text.
        value: String,
        /// What it must satisfy.
        rule: &'static str,
    },
    /// A fold of a cross-validation has no examples.
    #[error("fold {fold} has no examples (fold ids must be 0..{folds}, each used at least once)")]
    EmptyFold {
        /// The empty fold.
        fold: usize,
        /// Number of folds.
        folds: usize,
    },
    /// The statistic of a bootstrap is undefined on the full test set.
    #[error("the statistic is undefined on the full test set")]
    UndefinedStatistic,
    /// The statistic of a bootstrap was undefined on every resample.
    #[error("the statistic was undefined on all {resamples} bootstrap resamples")]
    NoDefinedResamples {
        /// Number of resamples drawn.
        resamples: usize,
    },
    /// The symmetric eigen-solver did not converge (not expected for finite input).
    #[error("the eigenvalue iteration did not converge for eigenvalue {index}")]
    EigenNotConverged {
        /// Index of the eigenvalue that failed.
        index: usize,
    },
}

/// Index of the first non-finite value, as an error naming `what`.
pub(crate) fn check_finite<T: Copy + Into<f64>>(what: &'static str, values: &[T]) -> Result<(), BaselineError> {
    match values.iter().position(|&v| !v.into().is_finite()) {
        Some(index) => Err(BaselineError::NonFinite { what, index }),
        None => Ok(()),
    }
}
