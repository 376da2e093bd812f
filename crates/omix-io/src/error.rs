//! The error type of omix-io.

use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong reading or writing an omix input file; each names the file and, where it applies, the 1-based line.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The file could not be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
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
    /// The file holds no content.
    #[error("{}: the file is empty", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The table has a header row but no data rows.
    #[error("{}: the file has a header but no records", path.display())]
    NoRecords {
        /// The file.
        path: PathBuf,
    },
    /// A blank line before the end of the file.
    #[error("{}, line {line}: blank line (blank lines are only allowed at the end of the file)", path.display())]
    BlankLine {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
    },
    /// A text field that is not valid UTF-8.
    #[error("{}, line {line}: the text is not valid UTF-8", path.display())]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
    },
    /// A FASTA file that breaks the format.
    #[error("{}, line {line}: {message}", path.display())]
    Fasta {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// The same record id appears twice.
    #[error("{}, line {line}: duplicate id '{id}' (first seen on line {first_line})", path.display())]
    DuplicateId {
        /// The file.
        path: PathBuf,
        /// The repeated id.
        id: String,
        /// The 1-based line where the id first appeared.
        first_line: u64,
        /// The 1-based line where it appeared again.
        line: u64,
    },
    /// A table row whose field count differs from the header's.
    #[error("{}, line {line}: expected {expected} fields (as in the header) but found {found}", path.display())]
    RaggedRow {
        /// The file.
        path: PathBuf,
        /// The 1-based line where the row starts.
        line: u64,
        /// The number of header columns.
        expected: usize,
        /// The number of fields in the row.
        found: usize,
    },
    /// The table header names a column twice.
    #[error("{}: the header names column '{column}' more than once", path.display())]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// The repeated column name.
        column: String,
    },
    /// A requested column is not in the table header.
    #[error("{}: no column named '{column}' (available columns: {})", path.display(), list_columns(available))]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The requested column.
        column: String,
        /// The columns the header does have.
        available: Vec<String>,
    },
    /// A table line that cannot be parsed (bad CSV quoting, too few columns, an empty id or label).
    #[error("{}, line {line}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// A matrix cell that is not a finite number (missing, non-numeric or infinite).
    #[error("{}, line {line}, field {field} (column '{column}'): {message}", path.display())]
    InvalidValue {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
        /// The 1-based field number within the line.
        field: u64,
        /// The header name of the field's column.
        column: String,
        /// The cell's text.
        text: String,
        /// What was wrong.
        message: String,
    },
    /// A NumPy `.npy`/`.npz` file that cannot be read as a numeric array.
    #[error("{}: {message}", path.display())]
    Npy {
        /// The file.
        path: PathBuf,
        /// What was wrong (naming the array inside an archive).
        message: String,
    },
    /// Writing the file failed.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// An output path names one of the inputs (the same file, under any name).
    #[error("refusing to write {}: that is the same file as {}, {what}; choose another output path", path.display(), input.display())]
    OutputIsInput {
        /// The output as given.
        path: PathBuf,
        /// The input it would overwrite, as given.
        input: PathBuf,
        /// What the input is ("the VCF", "the run's weights").
        what: String,
    },
}

impl IoError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            IoError::Open { path, .. }
            | IoError::Read { path, .. }
            | IoError::Empty { path }
            | IoError::NoRecords { path }
            | IoError::BlankLine { path, .. }
            | IoError::InvalidUtf8 { path, .. }
            | IoError::Fasta { path, .. }
            | IoError::DuplicateId { path, .. }
            | IoError::RaggedRow { path, .. }
            | IoError::DuplicateColumn { path, .. }
            | IoError::MissingColumn { path, .. }
            | IoError::Malformed { path, .. }
            | IoError::InvalidValue { path, .. }
            | IoError::Npy { path, .. }
            | IoError::Write { path, .. }
            | IoError::OutputIsInput { path, .. } => path,
        }
    }

    /// The 1-based line the error is about, when there is one.
    pub fn line(&self) -> Option<u64> {
        match self {
            IoError::Read { line, .. }
            | IoError::BlankLine { line, .. }
            | IoError::InvalidUtf8 { line, .. }
            | IoError::Fasta { line, .. }
            | IoError::DuplicateId { line, .. }
            | IoError::RaggedRow { line, .. }
            | IoError::Malformed { line, .. }
            | IoError::InvalidValue { line, .. } => Some(*line),
            IoError::Open { .. }
            | IoError::Empty { .. }
            | IoError::NoRecords { .. }
            | IoError::DuplicateColumn { .. }
            | IoError::MissingColumn { .. }
            | IoError::Npy { .. }
            | IoError::Write { .. }
            | IoError::OutputIsInput { .. } => None,
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

/// The available columns as a readable list.
fn list_columns(columns: &[String]) -> String {
    if columns.is_empty() {
        return "none".to_owned();
    }
    columns.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_path_and_line() {
        let e = IoError::BlankLine { path: PathBuf::from("a/b.txt"), line: 7 };
        assert_eq!(e.path(), Path::new("a/b.txt"));
        assert_eq!(e.line(), Some(7));
        let text = e.to_string();
        assert!(text.contains("a/b.txt") && text.contains("line 7"), "{text}");

        let e = IoError::Read {
            path: PathBuf::from("x.gz"),
            line: 3,
            source: io::Error::from(io::ErrorKind::UnexpectedEof),
        };
        assert!(e.to_string().contains("truncated"), "{e}");
        let e = IoError::Read {
            path: PathBuf::from("x"),
            line: 3,
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert!(!e.to_string().contains("gzip"), "{e}");

        let e = IoError::MissingColumn {
            path: PathBuf::from("t.tsv"),
            column: "label".to_owned(),
            available: vec!["id".to_owned(), "y".to_owned()],
        };
        assert_eq!(e.line(), None);
        assert!(e.to_string().contains("'id', 'y'"), "{e}");
    }
}
