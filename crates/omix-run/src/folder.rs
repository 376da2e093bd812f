//! The run folder on disk: paths, atomic writes and typed reads.

use std::path::{Path, PathBuf};

use omix_data::Schema;
use omix_io::{IoError, write_atomically};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

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

    /// Create the folder (and the checkpoint folder) and mark it as omix's. An existing folder
    /// must be empty or already marked: omix never turns someone else's folder into a run.
    pub fn create(&self) -> Result<(), RunError> {
        let write_error = |source| RunError::from(IoError::Write { path: self.root.clone(), source });
        std::fs::create_dir_all(&self.root).map_err(write_error)?;
        if self.marker()?.is_none() {
            if !is_empty(&self.root)? {
                return Err(RunError::Unmarked {
                    path: self.root.clone(),
                    looks_like_run: self.path(files::CONFIG).exists(),
                });
            }
            self.write_marker(&Marker::new())?;
        }
        std::fs::create_dir_all(self.path(files::CHECKPOINT)).map_err(write_error)
    }

    /// The folder's marker, if it has one.
    fn marker(&self) -> Result<Option<Marker>, RunError> {
        let path = self.path(files::MARKER);
        match std::fs::symlink_metadata(&path) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(RunError::Read { path, source }),
            Ok(meta) if !meta.is_file() => {
                return Err(RunError::malformed(&path, None, "the run marker is not a plain file"));
            }
            Ok(_) => {}
        }
        let marker: Marker = self.read_json(files::MARKER)?;
        if marker.format != MARKER_FORMAT {
            return Err(RunError::malformed(
                &path,
                None,
                format!("format is {:?}, not {MARKER_FORMAT:?}: this is not an omix run marker", marker.format),
            ));
        }
        Ok(Some(marker))
    }

    fn write_marker(&self, marker: &Marker) -> Result<(), RunError> {
        self.write_json(files::MARKER, marker)
    }

    /// Whether omix made this folder (it carries the run marker).
    pub fn is_marked(&self) -> bool {
        matches!(self.marker(), Ok(Some(_)))
    }

    /// Record that omix wrote the top-level entry `name` (beyond the standard run files), so that
    /// `--force` removes it with the rest.
    pub fn claim(&self, name: &str) -> Result<(), RunError> {
        let mut marker = self.marker()?.ok_or_else(|| RunError::Unmarked {
            path: self.root.clone(),
            looks_like_run: self.path(files::CONFIG).exists(),
        })?;
        if !marker.owned.iter().any(|owned| owned == name) {
            marker.owned.push(name.to_owned());
            self.write_marker(&marker)?;
        }
        Ok(())
    }

    /// Check the folder before a command writes a run into it, and for
    /// [`Preparation::Replace`] remove what omix wrote there before. A folder that does not exist
    /// or is empty is always fine; any other folder must carry the run marker.
    pub fn prepare(&self, how: Preparation) -> Result<Prepared, RunError> {
        let meta = match std::fs::symlink_metadata(&self.root) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Prepared::default()),
            Err(source) => return Err(RunError::Read { path: self.root.clone(), source }),
            Ok(meta) => meta,
        };
        if !meta.is_dir() {
            return Err(RunError::NotADirectory { path: self.root.clone() });
        }
        if is_empty(&self.root)? {
            return Ok(Prepared::default());
        }
        let Some(marker) = self.marker()? else {
            return Err(RunError::Unmarked {
                path: self.root.clone(),
                looks_like_run: self.path(files::CONFIG).exists(),
            });
        };
        match how {
            Preparation::New => Err(RunError::Exists { path: self.root.clone() }),
            Preparation::Resume => Ok(Prepared::default()),
            Preparation::Replace => self.remove_owned(&marker),
        }
    }

    /// Remove the entries the marker lists (and their half-written temporaries), never following
    /// a link out of the folder; everything else stays. The marker is renewed for the new run.
    fn remove_owned(&self, marker: &Marker) -> Result<Prepared, RunError> {
        let owned: Vec<&str> = marker.owned.iter().map(String::as_str).filter(|name| is_plain_name(name)).collect();
        let mut prepared = Prepared::default();
        let entries =
            std::fs::read_dir(&self.root).map_err(|source| RunError::Read { path: self.root.clone(), source })?;
        for entry in entries {
            let entry = entry.map_err(|source| RunError::Read { path: self.root.clone(), source })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == files::MARKER {
                continue;
            }
            let temporary = owned.iter().any(|owned| name.starts_with(&format!(".{owned}.")) && name.ends_with(".tmp"));
            if !owned.contains(&name.as_str()) && !temporary {
                prepared.kept.push(name);
                continue;
            }
            let path = entry.path();
            let is_dir = entry.file_type().map(|kind| kind.is_dir()).unwrap_or(false);
            let removed = if is_dir { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            removed.map_err(|source| RunError::Remove { path, source })?;
            prepared.removed += 1;
        }
        prepared.kept.sort();
        self.write_marker(&Marker::new())?;
        Ok(prepared)
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
        std::fs::read_to_string(&path).map_err(|source| {
            // Say what is wrong with the folder itself before blaming one of its files.
            match std::fs::metadata(&self.root) {
                Err(_) => RunError::Missing { path: self.root.clone() },
                Ok(meta) if !meta.is_dir() => RunError::NotADirectory { path: self.root.clone() },
                Ok(_) => RunError::Incomplete { path, folder: self.root.clone(), source },
            }
        })
    }

    /// Read and parse a JSON file that must exist.
    pub fn read_json<T: DeserializeOwned>(&self, name: &str) -> Result<T, RunError> {
        let text = self.read_text(name)?;
        serde_json::from_str(&text).map_err(|source| RunError::Json { path: self.path(name), source })
    }

    /// The files a trained model is made of (weights, config, schema, input pipeline, and a
    /// ChromBPNet's frozen bias model's weights in `bias/`), those that exist: what a job that must
    /// notice a retrained model fingerprints.
    ///
    /// An ensemble's are its description's and every member's.
    pub fn model_files(&self) -> Vec<PathBuf> {
        let mut paths = self.own_model_files();
        if let Ok(Some(members)) = self.ensemble_members() {
            paths.push(self.path(files::ENSEMBLE));
            // One level only: a member is never itself an ensemble.
            paths.extend(members.iter().flat_map(RunDir::own_model_files));
        }
        paths
    }

    fn own_model_files(&self) -> Vec<PathBuf> {
        let bias_weights = Path::new(files::BIAS).join(files::WEIGHTS);
        [files::WEIGHTS, files::CONFIG, files::SCHEMA, files::FEATURES]
            .iter()
            .map(|name| self.path(name))
            .chain([self.root().join(bias_weights)])
            .filter(|path| path.is_file())
            .collect()
    }

    /// The data schema the model was trained on.
    pub fn schema(&self) -> Result<Schema, RunError> {
        self.read_json(files::SCHEMA)
    }

    /// The run's lineage (which fold or trial it is, what it was trained from); `None` for a run
    /// written before lineage was recorded.
    pub fn lineage(&self) -> Result<Option<crate::Lineage>, RunError> {
        if !self.path(files::LINEAGE).is_file() {
            return Ok(None);
        }
        self.read_json(files::LINEAGE).map(Some)
    }

    /// The ensemble this folder holds (`ensemble.json`, checked), or `None` for a single run.
    pub fn ensemble(&self) -> Result<Option<crate::EnsembleFile>, RunError> {
        if !self.path(files::ENSEMBLE).is_file() {
            return Ok(None);
        }
        let ensemble: crate::EnsembleFile = self.read_json(files::ENSEMBLE)?;
        ensemble.check(&self.path(files::ENSEMBLE))?;
        Ok(Some(ensemble))
    }

    /// An ensemble's members as run folders, in order; `None` for a single run.
    pub fn ensemble_members(&self) -> Result<Option<Vec<RunDir>>, RunError> {
        Ok(self
            .ensemble()?
            .map(|ensemble| ensemble.members.iter().map(|member| RunDir::new(self.path(member))).collect()))
    }

    /// Whether `config.toml` describes a node-classification (graph) run.
    pub fn is_graph(&self) -> Result<bool, RunError> {
        let text = self.read_text(files::CONFIG)?;
        Ok(text.parse::<toml::Table>().is_ok_and(|table| table.contains_key("graph")))
    }
}

/// How a command means to use a run folder that may already exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preparation {
    /// A new run: an existing run folder is an error.
    New,
    /// Continue the run in the folder.
    Resume,
    /// Replace the run in the folder (`--force`): remove what omix wrote, keep the rest.
    Replace,
}

/// What [`RunDir::prepare`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prepared {
    /// How many entries omix had written and removed.
    pub removed: usize,
    /// The entries omix did not write, left in place (sorted).
    pub kept: Vec<String>,
}

const MARKER_FORMAT: &str = "omix-run";

/// The content of [`files::MARKER`].
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Marker {
    /// Always `omix-run`.
    format: String,
    /// The marker's version.
    version: u32,
    /// The omix version that made the folder.
    written_by: String,
    /// The top-level entries omix owns; `--force` removes these and nothing else.
    owned: Vec<String>,
}

impl Marker {
    fn new() -> Self {
        Self {
            format: MARKER_FORMAT.to_owned(),
            version: 1,
            written_by: format!("omix {}", env!("CARGO_PKG_VERSION")),
            owned: files::OWNED.iter().map(|name| (*name).to_owned()).collect(),
        }
    }
}

/// A single, ordinary file name: no separators, no `.`/`..`, so that an edited marker cannot
/// point outside the folder.
fn is_plain_name(name: &str) -> bool {
    let mut components = Path::new(name).components();
    matches!((components.next(), components.next()), (Some(std::path::Component::Normal(_)), None))
        && !name.contains(['/', '\\'])
}

fn is_empty(dir: &Path) -> Result<bool, RunError> {
    let mut entries = std::fs::read_dir(dir).map_err(|source| RunError::Read { path: dir.to_path_buf(), source })?;
    Ok(entries.next().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn a_folder_without_the_marker_is_never_written_or_cleared() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path().join("mine");
        std::fs::create_dir(&root)?;
        std::fs::write(root.join("config.toml"), "precious")?;
        std::fs::write(root.join("data.csv"), "precious")?;
        let run = RunDir::new(&root);
        for how in [Preparation::New, Preparation::Resume, Preparation::Replace] {
            let error = run.prepare(how).err().ok_or("an unmarked folder was accepted")?;
            assert!(matches!(error, RunError::Unmarked { looks_like_run: true, .. }), "{error}");
        }
        assert!(matches!(run.create(), Err(RunError::Unmarked { .. })));
        assert_eq!(std::fs::read_to_string(root.join("data.csv"))?, "precious");
        assert_eq!(std::fs::read_dir(&root)?.count(), 2);
        Ok(())
    }

    #[test]
    fn replace_removes_only_what_omix_wrote() -> TestResult {
        let dir = tempfile::tempdir()?;
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside)?;
        std::fs::write(outside.join("keep.txt"), "x")?;
        let run = RunDir::new(dir.path().join("run"));
        assert_eq!(run.prepare(Preparation::New)?, Prepared::default());
        run.create()?;
        run.write_text(files::CONFIG, "seed = 1\n")?;
        run.write_text(files::METRICS, "{}")?;
        run.write_text(".metrics.json.abc.tmp", "half")?;
        std::fs::create_dir_all(run.path(files::EXPLAIN_DIR).join("logos"))?;
        std::fs::create_dir(run.path(files::QUICKSTART_DATA))?;
        run.claim(files::QUICKSTART_DATA)?;
        std::fs::write(run.path("notes.txt"), "mine")?;
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, run.path(files::REPORT))?;
        assert!(matches!(run.prepare(Preparation::New), Err(RunError::Exists { .. })));
        assert_eq!(run.prepare(Preparation::Resume)?, Prepared::default());

        let prepared = run.prepare(Preparation::Replace)?;
        assert_eq!(prepared.kept, vec!["notes.txt".to_owned()]);
        let mut left: Vec<String> = std::fs::read_dir(run.root())?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()?;
        left.sort();
        assert_eq!(left, vec!["notes.txt".to_owned(), files::MARKER.to_owned()]);
        // The link was removed, not followed.
        assert_eq!(std::fs::read_to_string(outside.join("keep.txt"))?, "x");
        // The renewed marker no longer claims the quickstart data.
        run.create()?;
        assert!(run.is_marked());
        Ok(())
    }

    #[test]
    fn an_edited_marker_cannot_reach_outside_the_folder() -> TestResult {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("victim.txt"), "x")?;
        let run = RunDir::new(dir.path().join("run"));
        run.create()?;
        let marker = r#"{"format": "omix-run", "version": 1, "written_by": "omix", "owned": ["../victim.txt", "..", "/etc", "config.toml"]}"#;
        run.write_text(files::MARKER, marker)?;
        run.write_text(files::CONFIG, "x")?;
        run.prepare(Preparation::Replace)?;
        assert!(dir.path().join("victim.txt").exists());
        assert!(!run.path(files::CONFIG).exists());
        assert!(!is_plain_name("../x") && !is_plain_name("a/b") && !is_plain_name("..") && is_plain_name("model.bpk"));
        Ok(())
    }

    #[test]
    fn a_foreign_json_file_named_like_the_marker_is_not_a_marker() -> TestResult {
        let dir = tempfile::tempdir()?;
        let run = RunDir::new(dir.path());
        std::fs::write(
            run.path(files::MARKER),
            r#"{"format": "other", "version": 1, "written_by": "x", "owned": []}"#,
        )?;
        assert!(run.prepare(Preparation::Replace).is_err());
        assert!(run.path(files::MARKER).exists());
        Ok(())
    }
}
