//! Atomic file writes.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::IoError;

/// Write a file atomically: write to a temporary file in the same directory, fsync, rename over the target.
///
/// The closure writes the content (buffered). On any error the temporary file is removed and
/// the target is left as it was.
pub fn write_atomically<F>(path: &Path, write: F) -> Result<(), IoError>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let error = |source| IoError::Write { path: path.to_path_buf(), source };
    let name = path
        .file_name()
        .ok_or_else(|| error(io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file")))?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let short_name: String = name.to_string_lossy().chars().take(64).collect();
    let prefix = format!(".{short_name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        // The usual permissions for a new file (subject to the umask), not tempfile's 0600.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let temporary = builder.tempfile_in(dir).map_err(error)?;
    let mut out = BufWriter::new(temporary);
    write(&mut out).map_err(error)?;
    let temporary = out.into_inner().map_err(|e| error(e.into_error()))?;
    temporary.as_file().sync_all().map_err(error)?;
    temporary.persist(path).map_err(|e| error(e.error))?;
    #[cfg(unix)]
    {
        // Make the rename itself durable; failing to is not worth failing the write.
        if let Ok(directory) = std::fs::File::open(dir) {
            let _ = directory.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::tests::TestResult;

    /// The names of the entries in `dir`.
    fn entries(dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    #[test]
    fn replaces_content_on_success() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out.txt");
        std::fs::write(&path, b"old content that is longer")?;
        write_atomically(&path, |w| w.write_all(b"new"))?;
        assert_eq!(std::fs::read(&path)?, b"new");
        assert_eq!(entries(dir.path())?, vec!["out.txt".to_owned()]);
        write_atomically(&dir.path().join("fresh.txt"), |w| writeln!(w, "x"))?;
        assert_eq!(std::fs::read(dir.path().join("fresh.txt"))?, b"x\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)?.permissions().mode();
            assert_ne!(mode & 0o044, 0, "mode {mode:o} should not be owner-only");
        }
        Ok(())
    }

    #[test]
    fn leaves_no_temporary_file_on_error() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out.txt");
        std::fs::write(&path, b"old")?;
        let result = write_atomically(&path, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("disk on fire"))
        });
        let Err(e) = result else {
            return Err("expected an error".into());
        };
        assert!(matches!(e, IoError::Write { .. }));
        let text = e.to_string();
        assert!(text.contains("out.txt") && text.contains("disk on fire"), "{text}");
        assert_eq!(std::fs::read(&path)?, b"old");
        assert_eq!(entries(dir.path())?, vec!["out.txt".to_owned()]);
        Ok(())
    }

    #[test]
    fn missing_directory_is_a_write_error() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("no/such/dir/out.txt");
        let Err(e) = write_atomically(&path, |w| w.write_all(b"x")) else {
            return Err("expected an error".into());
        };
        assert!(matches!(e, IoError::Write { .. }), "{e}");
        assert_eq!(e.path(), path);
        Ok(())
    }
}
