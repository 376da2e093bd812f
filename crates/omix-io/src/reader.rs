//! Opening files (plain or gzip) and reading them line by line.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::IoError;

/// Buffer size for file reads.
const BUFFER: usize = 256 * 1024;

/// The two bytes every gzip (and bgzip) file starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The UTF-8 byte order mark, skipped at the start of the first line.
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Open a file, transparently decompressing gzip/bgzip (detected by magic bytes, not the extension).
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>, IoError> {
    let open_error = |source| IoError::Open { path: path.to_path_buf(), source };
    let mut file = File::open(path).map_err(open_error)?;
    if file.metadata().map_err(open_error)?.is_dir() {
        return Err(open_error(io::Error::new(io::ErrorKind::IsADirectory, "it is a directory")));
    }
    let mut magic = [0u8; 2];
    let mut filled = 0;
    while filled < magic.len() {
        match file.read(&mut magic[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(IoError::Read { path: path.to_path_buf(), line: 1, source });
            }
        }
    }
    // Put the peeked bytes back in front of the rest of the file.
    let whole = io::Cursor::new(magic).take(filled as u64).chain(file);
    if filled == magic.len() && magic == GZIP_MAGIC {
        Ok(Box::new(BufReader::with_capacity(BUFFER, MultiGzDecoder::new(whole))))
    } else {
        Ok(Box::new(BufReader::with_capacity(BUFFER, whole)))
    }
}

/// A line reader that reuses one buffer and counts 1-based lines.
pub(crate) struct Lines {
    reader: Box<dyn BufRead + Send>,
    path: PathBuf,
    buf: Vec<u8>,
    line: u64,
}

impl Lines {
    /// Open `path` (plain or gzip) for reading line by line.
    pub(crate) fn open(path: &Path) -> Result<Self, IoError> {
        Ok(Lines { reader: open(path)?, path: path.to_path_buf(), buf: Vec::with_capacity(1024), line: 0 })
    }

    /// The file being read.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The number of the last line returned (0 before the first).
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// The next line's 1-based number and its bytes without the line end (`\n` or `\r\n`), or `None` at the end of the file.
    pub(crate) fn next_line(&mut self) -> Result<Option<(u64, &[u8])>, IoError> {
        self.buf.clear();
        let read = match self.reader.read_until(b'\n', &mut self.buf) {
            Ok(read) => read,
            Err(source) => {
                return Err(IoError::Read { path: self.path.clone(), line: self.line + 1, source });
            }
        };
        if read == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut end = self.buf.len();
        if self.buf[..end].ends_with(b"\n") {
            end -= 1;
        }
        if self.buf[..end].ends_with(b"\r") {
            end -= 1;
        }
        // A UTF-8 byte order mark (as spreadsheet exports write) is not content.
        let start = if self.line == 1 && self.buf[..end].starts_with(UTF8_BOM) { UTF8_BOM.len() } else { 0 };
        Ok(Some((self.line, &self.buf[start..end])))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// Write `content` to `name` in `dir`, returning the path.
    pub(crate) fn write_file(dir: &tempfile::TempDir, name: &str, content: &[u8]) -> io::Result<PathBuf> {
        let path = dir.path().join(name);
        std::fs::write(&path, content)?;
        Ok(path)
    }

    /// Gzip `content`.
    pub(crate) fn gzip(content: &[u8]) -> io::Result<Vec<u8>> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(content)?;
        encoder.finish()
    }

    #[test]
    fn reads_plain_and_gzip_by_magic_bytes() -> TestResult {
        let dir = tempfile::tempdir()?;
        let text = b"ACGT\nTTGA\n";
        let plain = write_file(&dir, "plain.gz", text)?; // misleading extension
        let zipped = write_file(&dir, "zipped.txt", &gzip(text)?)?; // no .gz extension
        for path in [plain, zipped] {
            let mut content = Vec::new();
            open(&path)?.read_to_end(&mut content)?;
            assert_eq!(content, text);
        }
        Ok(())
    }

    #[test]
    fn reads_concatenated_gzip_members() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut both = gzip(b"A\n")?;
        both.extend(gzip(b"C\n")?);
        let path = write_file(&dir, "multi.gz", &both)?;
        let mut content = Vec::new();
        open(&path)?.read_to_end(&mut content)?;
        assert_eq!(content, b"A\nC\n");
        Ok(())
    }

    #[test]
    fn tiny_and_missing_files() -> TestResult {
        let dir = tempfile::tempdir()?;
        for content in [&b""[..], b"\x1f", b"A"] {
            let path = write_file(&dir, "tiny", content)?;
            let mut read = Vec::new();
            open(&path)?.read_to_end(&mut read)?;
            assert_eq!(read, content);
        }
        let missing = dir.path().join("missing.txt");
        let Err(e) = open(&missing) else {
            return Err("expected an error".into());
        };
        assert!(matches!(e, IoError::Open { .. }));
        assert!(e.to_string().contains("missing.txt"), "{e}");
        let Err(e) = open(dir.path()) else {
            return Err("expected an error for a directory".into());
        };
        assert!(matches!(e, IoError::Open { .. }), "{e}");
        Ok(())
    }

    #[test]
    fn lines_strip_line_ends_and_count() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "crlf.txt", b"\xef\xbb\xbfa\r\nb\n\r\nc")?;
        let mut lines = Lines::open(&path)?;
        let mut seen = Vec::new();
        while let Some((n, line)) = lines.next_line()? {
            seen.push((n, line.to_vec()));
        }
        assert_eq!(seen, vec![(1, b"a".to_vec()), (2, b"b".to_vec()), (3, b"".to_vec()), (4, b"c".to_vec())]);
        assert_eq!(lines.line(), 4);
        Ok(())
    }

    #[test]
    fn truncated_gzip_names_file_and_line() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut text = Vec::new();
        for i in 0..20_000 {
            writeln!(text, "ACGTACGTTGCA{i}")?;
        }
        let zipped = gzip(&text)?;
        let path = write_file(&dir, "cut.gz", &zipped[..zipped.len() / 2])?;
        let mut lines = Lines::open(&path)?;
        let result = loop {
            match lines.next_line() {
                Ok(Some(_)) => {}
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        let Some(e) = result else {
            return Err("a truncated gzip file must not read cleanly".into());
        };
        let line = e.line().ok_or("the error must name a line")?;
        assert!(line > 1, "line {line}");
        let text = e.to_string();
        assert!(text.contains("cut.gz"), "{text}");
        assert!(text.contains(&format!("line {line}")), "{text}");
        assert!(text.contains("truncated"), "{text}");
        Ok(())
    }
}
