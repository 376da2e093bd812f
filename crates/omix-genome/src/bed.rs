//! BED interval files (BED3 and more columns).

use std::io::BufRead;
use std::path::Path;

use crate::GenomeError;

/// One BED line: a 0-based, half-open interval [`start`, `end`) on `chrom`, with the optional columns.
///
/// A `.` in the name, score or strand column means "not given" and is read as `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedRecord {
    /// The contig (column 1).
    pub chrom: String,
    /// The 0-based first base (column 2).
    pub start: u64,
    /// The 0-based end, exclusive (column 3); always greater than `start`.
    pub end: u64,
    /// The name (column 4).
    pub name: Option<String>,
    /// The score (column 5), as written (BED scores are integers 0-1000, but many tools write other numbers).
    pub score: Option<String>,
    /// The strand (column 6): `'+'` or `'-'`.
    pub strand: Option<char>,
    /// Columns 7 and later, as written.
    pub extra: Vec<String>,
    /// The 1-based line of the file it was read from.
    pub line: u64,
}

impl BedRecord {
    /// The interval's length in bases.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the interval is empty (never, for a record from [`read_bed`]).
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// The meaning of each of the first six BED columns, for error messages.
const COLUMN_NAMES: [&str; 6] = ["chrom", "start", "end", "name", "score", "strand"];

/// Read a BED file (plain or gzip): BED3 or more tab-separated columns.
///
/// `track` and `browser` lines, `#` comments and blank lines are skipped; line ends may be `\n` or `\r\n`.
/// Errors name `file:line:column` (the 1-based byte column where the bad field starts) and the field:
/// fewer than 3 columns, an empty contig, a start or end that is not a non-negative integer, `start >= end`,
/// a strand other than `+`, `-` or `.`, text that is not UTF-8, or a file with no intervals at all.
pub fn read_bed(path: &Path) -> Result<Vec<BedRecord>, GenomeError> {
    let mut reader = omix_io::open(path)?;
    let mut records = Vec::new();
    let mut buffer = Vec::with_capacity(256);
    let mut line = 0u64;
    loop {
        buffer.clear();
        let read = reader.read_until(b'\n', &mut buffer).map_err(|source| {
            GenomeError::Io(omix_io::IoError::Read { path: path.to_path_buf(), line: line + 1, source })
        })?;
        if read == 0 {
            break;
        }
        line += 1;
        let mut text = &buffer[..];
        if let Some(rest) = text.strip_suffix(b"\n") {
            text = rest;
        }
        if let Some(rest) = text.strip_suffix(b"\r") {
            text = rest;
        }
        if line == 1 {
            text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
        }
        if let Some(record) = parse_line(path, line, text)? {
            records.push(record);
        }
    }
    if records.is_empty() {
        return Err(GenomeError::EmptyBed { path: path.to_path_buf() });
    }
    Ok(records)
}

/// Whether a line is a header, comment or blank line.
fn is_header(text: &[u8]) -> bool {
    let starts_word =
        |word: &[u8]| text.strip_prefix(word).is_some_and(|rest| rest.first().is_none_or(|b| b.is_ascii_whitespace()));
    text.trim_ascii().is_empty() || text.starts_with(b"#") || starts_word(b"track") || starts_word(b"browser")
}

/// Parse one line; `None` for header, comment and blank lines.
fn parse_line(path: &Path, line: u64, text: &[u8]) -> Result<Option<BedRecord>, GenomeError> {
    if is_header(text) {
        return Ok(None);
    }
    let error = |column: usize, message: String| GenomeError::Bed {
        path: path.to_path_buf(),
        line,
        column: column as u64 + 1,
        message,
    };
    let text =
        std::str::from_utf8(text).map_err(|e| error(e.valid_up_to(), "the text is not valid UTF-8".to_owned()))?;
    // (byte offset, field) pairs.
    let mut fields = Vec::with_capacity(8);
    let mut offset = 0;
    for field in text.split('\t') {
        fields.push((offset, field));
        offset += field.len() + 1;
    }
    if fields.len() < 3 {
        let hint = if text.contains(' ') { " (the columns must be separated by tabs, not spaces)" } else { "" };
        return Err(error(
            0,
            format!("expected at least 3 tab-separated columns (chrom, start, end), found {}{hint}", fields.len()),
        ));
    }
    let field_error = |index: usize, message: &str| {
        let (column, field) = fields[index];
        let name = COLUMN_NAMES.get(index).map(|n| format!(" ({n})")).unwrap_or_default();
        error(column, format!("column {}{name}: '{field}' {message}", index + 1))
    };
    let (_, chrom) = fields[0];
    if chrom.is_empty() || chrom.contains(char::is_whitespace) {
        return Err(field_error(0, "is not a contig name (empty or holding spaces)"));
    }
    let position =
        |index: usize| fields[index].1.parse::<u64>().map_err(|_| field_error(index, "is not a non-negative integer"));
    let start = position(1)?;
    let end = position(2)?;
    if start >= end {
        let (column, _) = fields[1];
        return Err(error(
            column,
            format!("start {start} is not before end {end} (BED intervals are 0-based, half-open: start < end)"),
        ));
    }
    let optional = |index: usize| fields.get(index).map(|(_, f)| *f).filter(|f| *f != "." && !f.is_empty());
    let strand = match optional(5) {
        None => None,
        Some("+") => Some('+'),
        Some("-") => Some('-'),
        Some(_) => return Err(field_error(5, "is not a strand ('+', '-' or '.')")),
    };
    Ok(Some(BedRecord {
        chrom: chrom.to_owned(),
        start,
        end,
        name: optional(3).map(str::to_owned),
        score: optional(4).map(str::to_owned),
        strand,
        extra: fields.iter().skip(6).map(|(_, f)| (*f).to_owned()).collect(),
        line,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn reads_headers_bed3_and_bed6_plus() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("peaks.bed");
        std::fs::write(
            &path,
            "track name=peaks\nbrowser position chr1:1-100\n# comment\n\nchr1\t10\t20\r\n\
             chr2\t5\t8\tp1\t900\t-\t3.5\textra\nchr3\t0\t1\t.\t.\t.\n",
        )?;
        let records = read_bed(&path)?;
        assert_eq!(records.len(), 3);
        assert_eq!(
            records[0],
            BedRecord {
                chrom: "chr1".to_owned(),
                start: 10,
                end: 20,
                name: None,
                score: None,
                strand: None,
                extra: vec![],
                line: 5
            }
        );
        assert_eq!(records[1].name.as_deref(), Some("p1"));
        assert_eq!(records[1].score.as_deref(), Some("900"));
        assert_eq!(records[1].strand, Some('-'));
        assert_eq!(records[1].extra, vec!["3.5".to_owned(), "extra".to_owned()]);
        assert_eq!(records[1].len(), 3);
        assert_eq!((records[2].name.as_ref(), records[2].strand, records[2].line), (None, None, 7));
        Ok(())
    }

    #[test]
    fn reads_gzip() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("peaks.bed.gz");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"chr1\t1\t2\n")?;
        std::fs::write(&path, encoder.finish()?)?;
        assert_eq!(read_bed(&path)?[0].end, 2);
        Ok(())
    }

    #[test]
    fn bad_lines_name_file_line_and_column() -> TestResult {
        let dir = tempfile::tempdir()?;
        let cases: [(&str, &str); 7] = [
            ("chr1\t10\t20\nchr1\tx\t20\n", "peaks.bed:2:6: column 2 (start): 'x' is not a non-negative integer"),
            ("chr1\t10\t-5\n", "peaks.bed:1:9: column 3 (end): '-5' is not a non-negative integer"),
            ("# c\nchr1\t20\t20\n", "peaks.bed:2:6: start 20 is not before end 20"),
            ("chr1\t30\t20\n", "peaks.bed:1:6: start 30 is not before end 20"),
            ("chr1\t10\n", "peaks.bed:1:1: expected at least 3 tab-separated columns"),
            ("chr1 10 20\n", "not spaces"),
            ("chr1\t1\t2\tn\t0\tx\n", "peaks.bed:1:14: column 6 (strand): 'x' is not a strand"),
        ];
        for (content, expected) in cases {
            let path = dir.path().join("peaks.bed");
            std::fs::write(&path, content)?;
            let Err(e) = read_bed(&path) else {
                return Err(format!("{content:?} must not parse").into());
            };
            let text = e.to_string();
            assert!(text.contains(expected), "{text}\n  expected: {expected}");
        }
        let path = dir.path().join("empty.bed");
        std::fs::write(&path, "track name=x\n\n")?;
        assert!(matches!(read_bed(&path), Err(GenomeError::EmptyBed { .. })));
        Ok(())
    }
}
