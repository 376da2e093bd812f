//! Errors raised while turning input files into a data set.

use std::path::PathBuf;

use omix_io::IoError;

/// Everything that can be wrong with a data set, each with the file and line to look at.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read or parsed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A reference genome, BED file or contig-name problem.
    #[error(transparent)]
    Genome(#[from] omix_genome::GenomeError),
    /// A model output named by something that is neither one of its names nor an index.
    #[error("{choice}: not one of the model's outputs ({}) nor an index below {outputs}", names.join(", "))]
    UnknownOutput {
        /// What was asked for.
        choice: String,
        /// The class, task or target names.
        names: Vec<String>,
        /// The number of outputs.
        outputs: usize,
    },
    /// A symbol outside the configured alphabet.
    #[error(
        "{}:{line}:{column}: record {record:?} has the symbol {symbol} at position {position}, which is not valid {alphabet} (allowed: {allowed}, lower case, and IUPAC ambiguity codes); fix the record or set `alphabet` in [data]",
        path.display(), position = position + 1
    )]
    InvalidSymbol {
        /// The file.
        path: PathBuf,
        /// 1-based line of the symbol.
        line: u64,
        /// 1-based column of the symbol.
        column: u64,
        /// The record id.
        record: String,
        /// 0-based position in the sequence.
        position: usize,
        /// The symbol, quoted and escaped.
        symbol: String,
        /// The alphabet name.
        alphabet: &'static str,
        /// The allowed symbols.
        allowed: String,
    },
    /// A sequence whose length differs from the configured or first-seen length.
    #[error(
        "{}:{line}: record {record:?} is {found} long but sequences must be {expected} long ({reason}); {hint}",
        path.display()
    )]
    LengthMismatch {
        /// The file.
        path: PathBuf,
        /// 1-based line of the record.
        line: u64,
        /// The record id.
        record: String,
        /// Its length.
        found: usize,
        /// The length required.
        expected: usize,
        /// Where the expected length comes from.
        reason: String,
        /// How to make such sequences fit, in the words of the command at hand.
        hint: &'static str,
    },
    /// Sequence and label files of different sizes.
    #[error(
        "{} has {sequences} records but {} has {labels} labels; the two files must have one line per example, in the same order",
        sequences_path.display(), labels_path.display()
    )]
    LabelCountMismatch {
        /// The sequence file.
        sequences_path: PathBuf,
        /// Number of sequences.
        sequences: usize,
        /// The label file.
        labels_path: PathBuf,
        /// Number of labels.
        labels: usize,
    },
    /// A label that is empty, NaN or NA.
    #[error("{}:{line}: the label of record {record:?} is missing ({value:?}); every example needs a label", path.display())]
    MissingLabel {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The record id.
        record: String,
        /// The text found.
        value: String,
    },
    /// A label outside the configured classes.
    #[error("{}:{line}: label {label:?} of record {record:?} is not one of the classes {}; fix the label or list it in `class_names`", path.display(), known.join(", "))]
    UnknownLabel {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The record id.
        record: String,
        /// The label.
        label: String,
        /// The known classes.
        known: Vec<String>,
    },
    /// A regression target that is not a finite number.
    #[error("{}:{line}: column {column:?} of record {record:?} holds {value:?}, but regression targets must be finite numbers", path.display())]
    InvalidNumber {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The record id.
        record: String,
        /// The column.
        column: String,
        /// The text found.
        value: String,
    },
    /// A multi-label target that is not 0/1.
    #[error("{}:{line}: column {column:?} of record {record:?} holds {value:?}, but multi-label targets must be 0 or 1", path.display())]
    InvalidTaskValue {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The record id.
        record: String,
        /// The column.
        column: String,
        /// The text found.
        value: String,
    },
    /// A FASTA record with no entry in the label table.
    #[error("{}:{line}: record {record:?} has no label in {}; every record needs one", path.display(), labels_path.display())]
    UnlabelledRecord {
        /// The FASTA file.
        path: PathBuf,
        /// Line of the record header.
        line: u64,
        /// The record id.
        record: String,
        /// The label table.
        labels_path: PathBuf,
    },
    /// A label-table entry naming no FASTA record.
    #[error("{}:{line}: label for {record:?} matches no record in {}; check the ids", labels_path.display(), path.display())]
    OrphanLabel {
        /// The label table.
        labels_path: PathBuf,
        /// 1-based line in the label table.
        line: u64,
        /// The id.
        record: String,
        /// The FASTA file.
        path: PathBuf,
    },
    /// A table without a column of the conventional names for a role, when none was named.
    #[error(
        "{}: no {what} column found (looked for {}; available columns: {}); name it with --{} NAME or `{option}` in [data]",
        path.display(), looked_for.join(", "), quote_all(available), option.replace('_', "-")
    )]
    NoColumn {
        /// The table.
        path: PathBuf,
        /// The role: `sequence` or `label`.
        what: &'static str,
        /// The names tried.
        looked_for: Vec<String>,
        /// The columns the header does have.
        available: Vec<String>,
        /// The `[data]` setting (and, with dashes, the flag) that names the column.
        option: &'static str,
    },
    /// A split column value that is not train/validation/test.
    #[error("{}:{line}: split {value:?} of record {record:?} is not one of train, validation (valid, val), test", path.display())]
    InvalidSplit {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The record id.
        record: String,
        /// The value found.
        value: String,
    },
    /// The data has too few classes to learn from.
    #[error(
        "{what}: only one class ({class:?}) is present; a classifier needs examples of at least two (for positive-only data set `shuffled_negatives = 1` in [data] or pass --shuffled-negatives 1)"
    )]
    SingleClass {
        /// Which part of the data.
        what: String,
        /// The class seen.
        class: String,
    },
    /// A split came out empty.
    #[error("the {split} split is empty ({total} examples in all); use more data or change the split fractions")]
    EmptySplit {
        /// The split name.
        split: &'static str,
        /// Number of examples overall.
        total: usize,
    },
    /// Inferred classes that look wrong: stray values among well-represented classes, one value
    /// spelled two ways, sequences given as labels.
    #[error("{location}: {message}")]
    LabelDrift {
        /// `file:line` of the first odd label.
        location: String,
        /// What is odd, what the other labels look like, and what to do.
        message: String,
    },
    /// The same record id twice where ids key labels, splits or predictions.
    #[error(
        "{}:{line}: duplicate id {record:?} (first seen at {}:{first_line}); ids name examples in the split manifest and predictions, so one id may not name two different records",
        path.display(), first_path.display()
    )]
    DuplicateId {
        /// The file of the second occurrence.
        path: PathBuf,
        /// Its 1-based line.
        line: u64,
        /// The id.
        record: String,
        /// The file of the first occurrence.
        first_path: PathBuf,
        /// Its 1-based line.
        first_line: u64,
    },
    /// Sizes whose arrays cannot fit in memory, refused before allocating them.
    #[error(
        "[data] length = {length}: {examples} example(s) of {length} positions need at least {} ({}) but about {} of memory is available; use a shorter `length` (or --length)",
        show_bytes(*needed), detail, show_bytes(*available)
    )]
    TooLarge {
        /// The window length.
        length: usize,
        /// The number of examples.
        examples: usize,
        /// Bytes needed, at least.
        needed: u128,
        /// What the bytes are for.
        detail: String,
        /// Bytes available.
        available: u128,
    },
    /// A coverage track could not be read, or holds values a count track cannot.
    #[error(transparent)]
    Track(#[from] omix_tracks::TrackError),
    /// A `[tracks]` setting (profile experiments) that cannot work.
    #[error("[tracks] {field}: {message}")]
    Profile {
        /// The setting.
        field: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A setting that cannot work.
    #[error("[data] {field}: {message}")]
    Config {
        /// The setting.
        field: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
}

/// Column names, quoted and comma-separated.
fn quote_all(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names.iter().map(|name| format!("'{name}'")).collect::<Vec<_>>().join(", ")
}

/// A byte count for people: `1.5 GB`.
pub(crate) fn show_bytes(bytes: u128) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} bytes") } else { format!("{value:.1} {}", units[unit]) }
}
