//! What can go wrong reading or writing a run folder.

use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why a run folder could not be read or written; every variant names the file (or folder) at fault.
#[derive(Debug, Error)]
pub enum RunError {
    /// The run folder does not exist or is not a directory.
    #[error("{} is not a run folder: it is not a directory", path.display())]
    NotADirectory {
        /// The path given as the run folder.
        path: PathBuf,
    },
    /// The run folder does not exist.
    #[error("{} does not exist: give the folder `omix train` wrote (its --out)", path.display())]
    Missing {
        /// The path given as the run folder.
        path: PathBuf,
    },
    /// The folder holds none of the files an omix run writes.
    #[error(
        "{} is not an omix run folder: it holds none of config.toml, metrics.json, training_log.tsv",
        path.display()
    )]
    NotARunFolder {
        /// The folder.
        path: PathBuf,
    },
    /// Reading a file failed (other than the file being absent, which only empties its section).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A JSON file is not valid JSON, or a field has an unexpected type.
    #[error("{} is malformed: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error, with line and column.
        source: serde_json::Error,
    },
    /// `config.toml` is not valid TOML.
    #[error("{} is not valid TOML: {source}", path.display())]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: toml::de::Error,
    },
    /// A file parsed but its content is inconsistent (wrong number of fields, a number that is
    /// not a number, a motif row of the wrong width, ...).
    #[error("{}{}: {message}", path.display(), line.map(|line| format!(":{line}")).unwrap_or_default())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The 1-based line, when the problem is on one line.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A file every complete run folder has could not be read.
    #[error("{}: cannot read it ({source}); is {} a complete omix run folder?", path.display(), folder.display())]
    Incomplete {
        /// The file.
        path: PathBuf,
        /// The run folder.
        folder: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A folder that omix did not make a run folder (it lacks the marker) and that is not empty:
    /// omix writes nothing into it and deletes nothing from it.
    #[error(
        "{} is not empty and is not an omix run folder (it has no {}, which omix writes in every run folder it makes){}; omix will not write into it or delete anything from it: choose another output folder",
        path.display(),
        crate::files::MARKER,
        if *looks_like_run { ", though it looks like one made by an older omix or copied by hand: move it aside to rerun" } else { "" }
    )]
    Unmarked {
        /// The folder.
        path: PathBuf,
        /// Whether it holds a `config.toml` (a run folder of an omix without markers, or a copy).
        looks_like_run: bool,
    },
    /// A run folder exists where a new run was asked for.
    #[error(
        "the run folder {} already exists; pass --resume to continue it, --force to replace it, or choose another output folder",
        path.display()
    )]
    Exists {
        /// The folder.
        path: PathBuf,
    },
    /// Removing a file omix wrote failed.
    #[error("cannot remove {}: {source}", path.display())]
    Remove {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Runs given to one merge do not belong together (different data, schema, task or split).
    #[error("{message}")]
    Mismatch {
        /// The run that does not fit.
        path: PathBuf,
        /// The two runs and what differs.
        message: String,
    },
    /// Writing a file of the run folder failed.
    #[error(transparent)]
    Write(#[from] omix_io::IoError),
}

impl RunError {
    /// The file or folder the error is about.
    pub fn path(&self) -> &Path {
        match self {
            RunError::NotADirectory { path }
            | RunError::Missing { path }
            | RunError::NotARunFolder { path }
            | RunError::Read { path, .. }
            | RunError::Json { path, .. }
            | RunError::Toml { path, .. }
            | RunError::Malformed { path, .. }
            | RunError::Incomplete { path, .. }
            | RunError::Unmarked { path, .. }
            | RunError::Exists { path }
            | RunError::Remove { path, .. }
            | RunError::Mismatch { path, .. } => path,
            RunError::Write(error) => error.path(),
        }
    }

    /// A [`RunError::Malformed`] for `path`.
    pub fn malformed(path: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        RunError::Malformed { path: path.to_path_buf(), line, message: message.into() }
    }
}
