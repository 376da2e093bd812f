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

/// Refuse an output path that is one of the inputs: the same file by identity (device and inode
/// on Unix, so hard links, symlinks and `./x` vs `x` are caught), or, where the output does not
/// exist yet, the same canonical path. `inputs` pairs each input path with what it is, for the
/// message. Inputs that cannot be inspected (missing, `-` for stdin) are skipped.
pub fn refuse_output_over_inputs(output: &Path, inputs: &[(&Path, &str)]) -> Result<(), IoError> {
    let Ok(output_meta) = std::fs::metadata(output) else {
        return Ok(()); // Nothing there yet: writing it cannot overwrite an existing input.
    };
    for (input, what) in inputs {
        let Ok(input_meta) = std::fs::metadata(input) else { continue };
        if same_file(&output_meta, &input_meta)
            || matches!((output.canonicalize(), input.canonicalize()), (Ok(a), Ok(b)) if a == b)
        {
            return Err(IoError::OutputIsInput {
                path: output.to_path_buf(),
                input: input.to_path_buf(),
                what: (*what).to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    false
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

    #[test]
    fn an_output_that_is_an_input_is_refused_under_any_name() -> TestResult {
        let dir = tempfile::tempdir()?;
        let input = dir.path().join("in.vcf");
        std::fs::write(&input, b"data")?;
        let dotted = dir.path().join(".").join("in.vcf");
        let error = refuse_output_over_inputs(&dotted, &[(&input, "the VCF")]).err().ok_or("accepted")?;
        assert!(
            error.to_string().contains("that is the same file as") && error.to_string().contains("the VCF"),
            "{error}"
        );
        #[cfg(unix)]
        {
            let link = dir.path().join("link.vcf");
            std::fs::hard_link(&input, &link)?;
            assert!(refuse_output_over_inputs(&link, &[(&input, "the VCF")]).is_err());
            let symlink = dir.path().join("sym.vcf");
            std::os::unix::fs::symlink(&input, &symlink)?;
            assert!(refuse_output_over_inputs(&symlink, &[(&input, "the VCF")]).is_err());
        }
        refuse_output_over_inputs(&dir.path().join("new.tsv"), &[(&input, "the VCF")])?;
        std::fs::write(dir.path().join("other.tsv"), b"x")?;
        refuse_output_over_inputs(&dir.path().join("other.tsv"), &[(&input, "the VCF")])?;
        Ok(())
    }
}
