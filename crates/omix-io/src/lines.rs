//! One-item-per-line files: sequences or labels.

use std::path::Path;

use crate::reader::Lines;
use crate::{IoError, LabelRecord, Location, SequenceRecord};

/// Call `each(line, leading_whitespace, trimmed)` for every line, enforcing the blank-line rule.
///
/// Blank lines are an error naming the first of them, unless only blank lines follow.
/// A file without any non-blank line is [`IoError::Empty`].
fn for_each_line<E: From<IoError>>(
    path: &Path,
    mut each: impl FnMut(u64, usize, &[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut lines = Lines::open(path)?;
    let mut blank: Option<u64> = None;
    let mut any = false;
    while let Some((number, raw)) = lines.next_line()? {
        refuse_cr_only_endings(path, number, raw)?;
        let trimmed = raw.trim_ascii();
        if trimmed.is_empty() {
            blank.get_or_insert(number);
            continue;
        }
        if let Some(line) = blank {
            return Err(IoError::BlankLine { path: path.to_path_buf(), line }.into());
        }
        let leading = raw.len() - raw.trim_ascii_start().len();
        each(number, leading, trimmed)?;
        any = true;
    }
    if any { Ok(()) } else { Err(IoError::Empty { path: path.to_path_buf() }.into()) }
}

/// Refuse a line that still holds a carriage return once its line end is removed: the file ends
/// its lines in `\r` alone (classic Mac OS), so that it would read as one long line, say one
/// 600-character label instead of 20 labels.
pub(crate) fn refuse_cr_only_endings(path: &Path, line: u64, raw: &[u8]) -> Result<(), IoError> {
    let Some(at) = raw.iter().position(|&b| b == b'\r') else {
        return Ok(());
    };
    if raw[at + 1..].trim_ascii().is_empty() {
        return Ok(());
    }
    Err(IoError::Malformed {
        path: path.to_path_buf(),
        line,
        message: "lines end in '\\r' only (classic Mac OS line endings), so the file would read as one long line; convert it to '\\n' line endings (e.g. `tr '\\r' '\\n' < FILE > FIXED`)".to_owned(),
    })
}

/// Read one sequence per line (the primer format); ids are `line{N}`, surrounding whitespace is trimmed.
///
/// Blank lines are an error naming the line, except at the end of the file.
/// A header-like first line is not special-cased. An empty file is [`IoError::Empty`].
pub fn read_sequence_lines(path: &Path) -> Result<Vec<SequenceRecord>, IoError> {
    let mut records = Vec::new();
    for_each_sequence_line(path, |record| {
        records.push(record);
        Ok::<_, IoError>(())
    })?;
    Ok(records)
}

/// Stream the records of [`read_sequence_lines`] one at a time, holding only one in memory; an
/// error from `each` stops the reading and is returned.
pub fn for_each_sequence_line<E: From<IoError>>(
    path: &Path,
    mut each: impl FnMut(SequenceRecord) -> Result<(), E>,
) -> Result<(), E> {
    for_each_line(path, |line, leading, text| {
        each(SequenceRecord {
            id: format!("line{line}"),
            sequence: text.to_vec(),
            location: Location { line, column: leading as u64 + 1, line_width: 0 },
        })
    })
}

/// Read one label per line with the same rules as [`read_sequence_lines`]; ids are `line{N}`.
pub fn read_label_lines(path: &Path) -> Result<Vec<LabelRecord>, IoError> {
    let mut records = Vec::new();
    for_each_line(path, |line, _, text| {
        let label = std::str::from_utf8(text).map_err(|_| IoError::InvalidUtf8 { path: path.to_path_buf(), line })?;
        records.push(LabelRecord { id: format!("line{line}"), label: label.to_owned(), line });
        Ok::<_, IoError>(())
    })?;
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::tests::{TestResult, gzip, write_file};

    #[test]
    fn sequences_with_crlf_and_whitespace() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "seqs.txt", b"ACGT\r\n  ttga \r\nN\r\n\r\n\n")?;
        let records = read_sequence_lines(&path)?;
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].id, "line1");
        assert_eq!(records[0].sequence, b"ACGT");
        assert_eq!(records[1].id, "line2");
        assert_eq!(records[1].sequence, b"ttga");
        assert_eq!(records[1].location, Location { line: 2, column: 3, line_width: 0 });
        assert_eq!(records[1].location.position(1), (2, 4));
        assert_eq!(records[2].sequence, b"N");
        Ok(())
    }

    #[test]
    fn carriage_return_only_endings_are_refused() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "mac.txt", b"0\r1\r0\r1\r")?;
        let Err(e) = read_label_lines(&path) else {
            return Err("expected an error".into());
        };
        let text = e.to_string();
        assert!(text.contains("mac.txt, line 1") && text.contains("lines end in '\\r' only"), "{text}");
        assert!(read_sequence_lines(&path).is_err());
        // Windows line ends and a lone trailing carriage return are fine.
        let path = write_file(&dir, "crlf.txt", b"0\r\n1\r\n1\r")?;
        assert_eq!(read_label_lines(&path)?.len(), 3);
        Ok(())
    }

    #[test]
    fn gzip_sequences() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "seqs.txt.gz", &gzip(b"AC\nGT\n")?)?;
        let records = read_sequence_lines(&path)?;
        let seqs: Vec<_> = records.iter().map(|r| r.sequence.clone()).collect();
        assert_eq!(seqs, vec![b"AC".to_vec(), b"GT".to_vec()]);
        Ok(())
    }

    #[test]
    fn header_like_first_line_is_a_record() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "seqs.txt", b"sequence\nACGT\n")?;
        assert_eq!(read_sequence_lines(&path)?.len(), 2);
        Ok(())
    }

    #[test]
    fn inner_blank_line_is_an_error() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "seqs.txt", b"ACGT\n\n \nTTGA\n")?;
        let Err(e) = read_sequence_lines(&path) else {
            return Err("expected an error".into());
        };
        assert!(matches!(e, IoError::BlankLine { line: 2, .. }), "{e}");
        assert!(e.to_string().contains("seqs.txt"), "{e}");
        let path = write_file(&dir, "lead.txt", b"\nACGT\n")?;
        let Err(e) = read_sequence_lines(&path) else {
            return Err("expected an error".into());
        };
        assert_eq!(e.line(), Some(1));
        Ok(())
    }

    #[test]
    fn empty_files() -> TestResult {
        let dir = tempfile::tempdir()?;
        for content in [&b""[..], b"\n\n  \r\n"] {
            let path = write_file(&dir, "empty.txt", content)?;
            assert!(matches!(read_sequence_lines(&path), Err(IoError::Empty { .. })));
            assert!(matches!(read_label_lines(&path), Err(IoError::Empty { .. })));
        }
        Ok(())
    }

    #[test]
    fn labels_and_invalid_utf8() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "labels.txt", b"1\r\n 0 \n2.5\n")?;
        let labels = read_label_lines(&path)?;
        assert_eq!(labels[1], LabelRecord { id: "line2".to_owned(), label: "0".to_owned(), line: 2 });
        assert_eq!(labels.len(), 3);
        let path = write_file(&dir, "bad.txt", b"1\n\xff\xfe\n")?;
        let Err(e) = read_label_lines(&path) else {
            return Err("expected an error".into());
        };
        assert!(matches!(e, IoError::InvalidUtf8 { line: 2, .. }), "{e}");
        Ok(())
    }
}
