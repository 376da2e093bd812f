//! The run folder on disk: paths, atomic writes and typed reads.

use std::path::{Path, PathBuf};

use omix_data::Schema;
use omix_io::{IoError, write_atomically};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{RunError, files};

/// A run folder on disk.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// Open (or name) a run folder.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path of a file in the folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Create the folder (and the checkpoint folder).
    pub fn create(&self) -> Result<(), RunError> {
        std::fs::create_dir_all(self.path(files::CHECKPOINT))
            .map_err(|source| IoError::Write { path: self.root.clone(), source }.into())
    }

    /// Write text atomically.
    pub fn write_text(&self, name: &str, text: &str) -> Result<(), RunError> {
        self.write_bytes(name, text.as_bytes())
    }

    /// Write bytes atomically.
    pub fn write_bytes(&self, name: &str, bytes: &[u8]) -> Result<(), RunError> {
        Ok(write_atomically(&self.path(name), |out| out.write_all(bytes))?)
    }

    /// Write a value as pretty JSON (with a final newline) atomically.
    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<(), RunError> {
        let text =
            serde_json::to_string_pretty(value).map_err(|source| RunError::Json { path: self.path(name), source })?;
        self.write_text(name, &(text + "\n"))
    }

    /// Write a value as pretty TOML atomically.
    pub fn write_toml<T: Serialize>(&self, name: &str, value: &T) -> Result<(), RunError> {
        let text = toml::to_string_pretty(value)
            .map_err(|error| RunError::malformed(&self.path(name), None, error.to_string()))?;
        self.write_text(name, &text)
    }

    /// Read a file that must exist as text.
    pub fn read_text(&self, name: &str) -> Result<String, RunError> {
        let path = self.path(name);
        std::fs::read_to_string(&path).map_err(|source| RunError::Incomplete {
            path,
            folder: self.root.clone(),
            source,
        })
    }

    /// Read and parse a JSON file that must exist.
    pub fn read_json<T: DeserializeOwned>(&self, name: &str) -> Result<T, RunError> {
        let text = self.read_text(name)?;
        serde_json::from_str(&text).map_err(|source| RunError::Json { path: self.path(name), source })
    }

    /// The data schema the model was trained on.
    pub fn schema(&self) -> Result<Schema, RunError> {
        self.read_json(files::SCHEMA)
    }

    /// Whether `config.toml` describes a node-classification (graph) run.
    pub fn is_graph(&self) -> Result<bool, RunError> {
        let text = self.read_text(files::CONFIG)?;
        Ok(text.parse::<toml::Table>().is_ok_and(|table| table.contains_key("graph")))
    }
}
