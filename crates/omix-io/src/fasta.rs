//! FASTA files.

use std::collections::HashMap;
use std::path::Path;

use crate::reader::Lines;
use crate::{IoError, Location, SequenceRecord};

/// A record whose header has been read and whose sequence lines are being gathered.
struct Open {
    id: String,
    header_line: u64,
    sequence: Vec<u8>,
    first_line: u64,
    first_width: u64,
    sequence_lines: u64,
}

impl Open {
    /// Finish the record, failing if it has no sequence.
    fn finish(self, path: &Path) -> Result<SequenceRecord, IoError> {
        if self.sequence.is_empty() {
            return Err(IoError::Fasta {
                path: path.to_path_buf(),
                line: self.header_line,
                message: format!("record '{}' has no sequence", self.id),
            });
        }
        Ok(SequenceRecord {
            id: self.id,
            sequence: self.sequence,
            location: Location {
                line: self.first_line,
                column: 1,
                line_width: if self.sequence_lines > 1 { self.first_width } else { 0 },
            },
        })
    }
}

/// Read a FASTA file: `>` headers (id = first whitespace-delimited word), possibly wrapped sequence lines.
///
/// `;` comment lines and blank lines are skipped; line ends (including `\r`) are trimmed, other whitespace is kept.
/// A wrapped record's `line_width` is the length of its first sequence line (exact when all
/// lines but the last have that width); a one-line record has `line_width` 0.
/// Errors: an empty file, content before the first `>`, a header with an empty id,
/// a record with no sequence, a duplicate id (naming both lines), invalid UTF-8 in a header.
pub fn read_fasta(path: &Path) -> Result<Vec<SequenceRecord>, IoError> {
    read_fasta_with(path, true)
}

/// Read a FASTA file, refusing repeated ids only when `unique_ids` is set.
///
/// Ids must be unique when they key labels in another file; a per-class FASTA whose records
/// are never looked up by id (public data sets sometimes list one site twice) may repeat them.
pub fn read_fasta_with(path: &Path, unique_ids: bool) -> Result<Vec<SequenceRecord>, IoError> {
    let mut records = Vec::new();
    for_each_fasta_record(path, unique_ids, |record| {
        records.push(record);
        Ok::<_, IoError>(())
    })?;
    Ok(records)
}

/// Stream the records of [`read_fasta_with`] one at a time, holding one record (and, when
/// `unique_ids` is set, the ids seen so far) in memory; an error from `each` stops the reading
/// and is returned.
pub fn for_each_fasta_record<E: From<IoError>>(
    path: &Path,
    unique_ids: bool,
    mut each: impl FnMut(SequenceRecord) -> Result<(), E>,
) -> Result<(), E> {
    let mut lines = Lines::open(path)?;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut current: Option<Open> = None;
    let mut any_content = false;
    while let Some((number, raw)) = lines.next_line()? {
        crate::lines::refuse_cr_only_endings(path, number, raw)?;
        let text = raw.trim_ascii_end();
        if text.is_empty() {
            continue;
        }
        any_content = true;
        match text[0] {
            b';' => {}
            b'>' => {
                let header = std::str::from_utf8(&text[1..])
                    .map_err(|_| IoError::InvalidUtf8 { path: path.to_path_buf(), line: number })?;
                let Some(id) = header.split_whitespace().next() else {
                    return Err(IoError::Fasta {
                        path: path.to_path_buf(),
                        line: number,
                        message: "header with an empty id ('>' must be followed by the record id)".to_owned(),
                    }
                    .into());
                };
                if let Some(&first_line) = seen.get(id).filter(|_| unique_ids) {
                    return Err(IoError::DuplicateId {
                        path: path.to_path_buf(),
                        id: id.to_owned(),
                        first_line,
                        line: number,
                    }
                    .into());
                }
                if unique_ids {
                    seen.insert(id.to_owned(), number);
                }
                if let Some(done) = current.take() {
                    each(done.finish(path)?)?;
                }
                current = Some(Open {
                    id: id.to_owned(),
                    header_line: number,
                    sequence: Vec::new(),
                    first_line: 0,
                    first_width: 0,
                    sequence_lines: 0,
                });
            }
            _ => {
                let Some(record) = current.as_mut() else {
                    return Err(IoError::Fasta {
                        path: path.to_path_buf(),
                        line: number,
                        message: "sequence data before the first '>' header".to_owned(),
                    }
                    .into());
                };
                if record.sequence_lines == 0 {
                    record.first_line = number;
                    record.first_width = text.len() as u64;
                }
                record.sequence_lines += 1;
                record.sequence.extend_from_slice(text);
            }
        }
    }
    match current {
        Some(done) => each(done.finish(path)?)?,
        None if any_content => {
            return Err(IoError::Fasta {
                path: path.to_path_buf(),
                line: lines.line(),
                message: "no '>' record found (the file holds only comments)".to_owned(),
            }
            .into());
        }
        None => {
            return Err(IoError::Empty { path: path.to_path_buf() }.into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::tests::{TestResult, gzip, write_file};

    #[test]
    fn wrapped_records_and_positions() -> TestResult {
        let dir = tempfile::tempdir()?;
        let content = b";comment\r\n>seq1 some description\r\nACGT\r\nTTGA\r\nCC\r\n\r\n>seq2\r\nGGGG\r\n";
        let path = write_file(&dir, "x.fa", content)?;
        let records = read_fasta(&path)?;
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].id, "seq1");
        assert_eq!(records[0].sequence, b"ACGTTTGACC");
        assert_eq!(records[0].location, Location { line: 3, column: 1, line_width: 4 });
        // Base 'C' at offset 8 lies on line 5, column 1.
        assert_eq!(records[0].location.position(8), (5, 1));
        assert_eq!(records[0].location.position(5), (4, 2));
        assert_eq!(records[1].id, "seq2");
        assert_eq!(records[1].location, Location { line: 8, column: 1, line_width: 0 });
        assert_eq!(records[1].location.position(3), (8, 4));
        Ok(())
    }

    #[test]
    fn gzip_fasta() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "x.fa.gz", &gzip(b">a\nAC\n>b\nGT\n")?)?;
        let records = read_fasta(&path)?;
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].sequence, b"GT");
        Ok(())
    }

    /// Read `content` as FASTA, expecting an error.
    fn fasta_error(content: &[u8]) -> Result<IoError, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "bad.fa", content)?;
        match read_fasta(&path) {
            Ok(records) => Err(format!("expected an error, read {records:?}").into()),
            Err(e) => {
                assert!(e.to_string().contains("bad.fa"), "{e}");
                Ok(e)
            }
        }
    }

    #[test]
    fn errors() -> TestResult {
        assert!(matches!(fasta_error(b"")?, IoError::Empty { .. }));
        assert!(matches!(fasta_error(b"\n\n")?, IoError::Empty { .. }));
        let e = fasta_error(b";only a comment\n")?;
        assert!(matches!(e, IoError::Fasta { line: 1, .. }), "{e}");
        let e = fasta_error(b"ACGT\n>a\nAC\n")?;
        assert!(matches!(e, IoError::Fasta { line: 1, .. }), "{e}");
        assert!(e.to_string().contains("before the first '>'"), "{e}");
        let e = fasta_error(b">a\nAC\n> \nGT\n")?;
        assert!(matches!(e, IoError::Fasta { line: 3, .. }), "{e}");
        assert!(e.to_string().contains("empty id"), "{e}");
        let e = fasta_error(b">a\n>b\nAC\n")?;
        assert!(matches!(e, IoError::Fasta { line: 1, .. }), "{e}");
        assert!(e.to_string().contains("'a' has no sequence"), "{e}");
        let e = fasta_error(b">a\nAC\n>b\n")?;
        assert!(matches!(e, IoError::Fasta { line: 3, .. }), "{e}");
        let e = fasta_error(b">a x\nAC\n>b\nGT\n>a\nTT\n")?;
        assert!(
            matches!(
                &e,
                IoError::DuplicateId { id, first_line: 1, line: 5, .. } if id == "a"
            ),
            "{e}"
        );
        assert!(e.to_string().contains("line 1") && e.to_string().contains("line 5"));
        let e = fasta_error(b">a\rACGT\r>b\rGGTT\r")?;
        assert!(matches!(e, IoError::Malformed { line: 1, .. }), "{e}");
        assert!(e.to_string().contains("lines end in '\\r' only"), "{e}");
        let e = fasta_error(b">a\xff\nAC\n")?;
        assert!(matches!(e, IoError::InvalidUtf8 { line: 1, .. }), "{e}");
        Ok(())
    }
}
