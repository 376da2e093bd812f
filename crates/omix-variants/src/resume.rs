//! Pieces for resuming an interrupted scoring run: cutting outputs back and a progress file.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::VariantError;

/// Keep the first `lines` newline-terminated lines of the plain-text file at `path`, dropping
/// the rest (for cutting a partly written output back to the last checkpoint).
///
/// A file that holds fewer than `lines` complete lines is an `UnexpectedEof` error and is left
/// as it was. The file must not be compressed.
pub fn truncate_to_lines(path: &Path, lines: u64) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(256 * 1024, File::open(path)?);
    let mut seen = 0u64;
    let mut offset = 0u64;
    while seen < lines {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} holds {seen} complete lines, fewer than the {lines} to keep", path.display()),
            ));
        }
        let mut used = chunk.len();
        for (i, _) in chunk.iter().enumerate().filter(|&(_, &b)| b == b'\n') {
            seen += 1;
            if seen == lines {
                used = i + 1;
                break;
            }
        }
        offset += used as u64;
        reader.consume(used);
    }
    drop(reader);
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(offset)?;
    file.sync_all()
}

/// How far a scoring run got, saved at each checkpoint so an interrupted run can resume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Data records (before splitting ALTs) fully handled so far, counted from the shard's first
    /// record (resume with [`VcfReader::skip_records`](crate::VcfReader::skip_records)).
    pub records_done: u64,
    /// Lines of the TSV output at the checkpoint (header included).
    pub tsv_lines: u64,
    /// Lines of the VCF output at the checkpoint (header included).
    pub vcf_lines: u64,
    /// Variants skipped so far, by [`SkipReason::key`](crate::SkipReason::key).
    pub skipped: BTreeMap<String, u64>,
    /// Free text identifying the run, from older versions (no longer checked; see `inputs`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fingerprint: String,
    /// What the partial outputs were made from, by part (`model`, `VCF`, `reference`,
    /// `settings`): content hashes, checked before resuming so that one run's progress is never
    /// applied to another's outputs. A file without them (an older version) is never resumed.
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
}

impl Progress {
    /// The progress saved at `path`, or `None` when there is none or it cannot be read back.
    pub fn load(path: &Path) -> Option<Progress> {
        Progress::try_load(path).ok().flatten()
    }

    /// The progress saved at `path`: `Ok(None)` when the file does not exist, an error when it
    /// exists but cannot be read or parsed.
    pub fn try_load(path: &Path) -> Result<Option<Progress>, VariantError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(VariantError::Progress { path: path.to_path_buf(), message: e.to_string() }),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| VariantError::Progress { path: path.to_path_buf(), message: e.to_string() })
    }

    /// Save to `path` atomically (a crash leaves the old file or the new one, never half of one).
    pub fn save(&self, path: &Path) -> Result<(), VariantError> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| VariantError::Progress { path: path.to_path_buf(), message: e.to_string() })?;
        omix_io::write_atomically(path, |out| {
            out.write_all(text.as_bytes())?;
            out.write_all(b"\n")
        })?;
        Ok(())
    }

    /// Count one variant skipped for `reason`.
    pub fn count_skip(&mut self, reason: &crate::SkipReason) {
        *self.skipped.entry(reason.key().to_owned()).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SkipReason;
    use crate::vcf::tests::TestResult;

    #[test]
    fn truncates_to_complete_lines() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out.tsv");
        for (keep, expected) in [(0, ""), (1, "a\n"), (2, "a\nbb\n"), (3, "a\nbb\n\n"), (4, "a\nbb\n\nccc\n")] {
            std::fs::write(&path, "a\nbb\n\nccc\npartial")?;
            truncate_to_lines(&path, keep)?;
            assert_eq!(std::fs::read_to_string(&path)?, expected, "keep {keep}");
        }
        std::fs::write(&path, "a\nbb\npartial")?;
        let Err(e) = truncate_to_lines(&path, 3) else {
            return Err("too few lines must be an error".into());
        };
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(std::fs::read_to_string(&path)?, "a\nbb\npartial");

        // Lines spanning the reader's buffer.
        let long: String = (0..100_000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, &long)?;
        truncate_to_lines(&path, 70_001)?;
        let kept = std::fs::read_to_string(&path)?;
        assert_eq!(kept.lines().count(), 70_001);
        assert!(kept.ends_with("line 70000\n"));
        assert!(truncate_to_lines(&dir.path().join("missing"), 0).is_err());
        Ok(())
    }

    #[test]
    fn progress_round_trip() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("progress.json");
        assert_eq!(Progress::load(&path), None);
        assert!(Progress::try_load(&path)?.is_none());
        let mut progress = Progress { records_done: 1200, tsv_lines: 2401, vcf_lines: 1234, ..Progress::default() };
        progress.count_skip(&SkipReason::SymbolicAllele);
        progress.count_skip(&SkipReason::SymbolicAllele);
        progress.count_skip(&SkipReason::TooLong);
        progress.fingerprint = "input.vcf 2/10 model-a 1000".to_owned();
        progress.save(&path)?;
        assert_eq!(Progress::load(&path), Some(progress.clone()));
        assert_eq!(progress.skipped["symbolic_allele"], 2);

        // Older files without a fingerprint still load.
        std::fs::write(&path, r#"{"records_done":3,"tsv_lines":4,"vcf_lines":5,"skipped":{}}"#)?;
        assert_eq!(Progress::load(&path).map(|p| p.records_done), Some(3));

        std::fs::write(&path, "{not json")?;
        assert_eq!(Progress::load(&path), None);
        let Err(e) = Progress::try_load(&path) else {
            return Err("a corrupt progress file must be an error".into());
        };
        assert!(e.to_string().contains("progress.json"), "{e}");
        Ok(())
    }
}
