//! Delimited tables (TSV, or CSV with RFC-4180 quoting) and label tables.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::reader::Lines;
use crate::{IoError, LabelRecord};

/// A delimited table with a header row, read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The file the table was read from.
    pub path: PathBuf,
    /// The column names, trimmed.
    pub header: Vec<String>,
    /// The data rows, each with as many fields as the header.
    pub rows: Vec<TableRow>,
}

/// One data row of a [`Table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    /// The 1-based line the row starts on.
    pub line: u64,
    /// The fields, unquoted; unquoted fields are trimmed of surrounding whitespace.
    pub fields: Vec<String>,
}

impl Table {
    /// Read a table: tab-delimited if the header contains a tab, else comma-delimited (RFC-4180 quotes allowed).
    ///
    /// Blank lines and lines starting with `#` before the header are skipped. Errors: an empty
    /// file, a header but no rows ([`IoError::NoRecords`]), a row whose field count differs from
    /// the header's, a duplicate column name, a blank line before the last row, bad quoting.
    pub fn read(path: &Path) -> Result<Table, IoError> {
        read_table(path).map(|(table, _)| table)
    }

    /// The index of the column called `name`, or [`IoError::MissingColumn`] listing those there are.
    pub fn column(&self, name: &str) -> Result<usize, IoError> {
        self.header.iter().position(|c| c == name).ok_or_else(|| IoError::MissingColumn {
            path: self.path.clone(),
            column: name.to_owned(),
            available: self.header.clone(),
        })
    }

    /// 1-based column of a field in the original line, for error messages (approximate for quoted or padded fields).
    pub fn field_column(&self, row: &TableRow, field: usize) -> u64 {
        1 + row.fields.iter().take(field).map(|f| f.chars().count() as u64 + 1).sum::<u64>()
    }
}

/// Read a table and the 1-based line of its header.
fn read_table(path: &Path) -> Result<(Table, u64), IoError> {
    let mut lines = Lines::open(path)?;
    let (header_line, mut parser) = loop {
        let Some((number, raw)) = lines.next_line()? else {
            return Err(IoError::Empty { path: path.to_path_buf() });
        };
        crate::lines::refuse_cr_only_endings(path, number, raw)?;
        let trimmed = raw.trim_ascii();
        if trimmed.is_empty() || trimmed.starts_with(b"#") {
            continue;
        }
        let delimiter = if raw.contains(&b'\t') { b'\t' } else { b',' };
        let mut parser = RecordParser::new(delimiter);
        parser.feed(raw);
        break (number, parser);
    };
    let header = parser.finish(&mut lines, header_line)?;
    let mut names = HashSet::new();
    for name in &header {
        if !names.insert(name.as_str()) {
            return Err(IoError::DuplicateColumn { path: path.to_path_buf(), column: name.clone() });
        }
    }

    let mut rows = Vec::new();
    let mut blank: Option<u64> = None;
    while let Some((number, raw)) = lines.next_line()? {
        if raw.trim_ascii().is_empty() {
            blank.get_or_insert(number);
            continue;
        }
        if let Some(line) = blank {
            return Err(IoError::BlankLine { path: path.to_path_buf(), line });
        }
        parser.feed(raw);
        let fields = parser.finish(&mut lines, number)?;
        if fields.len() != header.len() {
            return Err(IoError::RaggedRow {
                path: path.to_path_buf(),
                line: number,
                expected: header.len(),
                found: fields.len(),
            });
        }
        rows.push(TableRow { line: number, fields });
    }
    if rows.is_empty() {
        return Err(IoError::NoRecords { path: path.to_path_buf() });
    }
    let table = Table { path: path.to_path_buf(), header, rows };
    Ok((table, header_line))
}

/// Where the record parser is within a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field (possibly after leading spaces).
    Start,
    /// Inside an unquoted field.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field: an escaped quote or the closing one.
    QuoteSeen,
    /// After the closing quote, expecting only spaces until the delimiter.
    AfterQuote,
}

/// What went wrong parsing a record.
enum ParseError {
    /// A field is not valid UTF-8.
    Utf8,
    /// Bad quoting, with a message.
    Format(String),
}

/// A parser for one delimited record, fed line by line (quoted CSV fields may span lines).
struct RecordParser {
    delimiter: u8,
    quoting: bool,
    state: State,
    field: Vec<u8>,
    quoted: bool,
    fields: Vec<String>,
    error: Option<ParseError>,
}

impl RecordParser {
    /// A parser for `delimiter`; quotes are special only for commas.
    fn new(delimiter: u8) -> Self {
        RecordParser {
            delimiter,
            quoting: delimiter == b',',
            state: State::Start,
            field: Vec::new(),
            quoted: false,
            fields: Vec::new(),
            error: None,
        }
    }

    /// Whether the record is still open (inside a quoted field) after the last line fed.
    fn needs_more(&self) -> bool {
        self.error.is_none() && self.state == State::Quoted
    }

    /// Parse one line (without its line end) into the current record.
    fn feed(&mut self, line: &[u8]) {
        if self.error.is_some() {
            return;
        }
        if self.state == State::Quoted {
            // A quoted field continues from the previous line.
            self.field.push(b'\n');
        }
        for &byte in line {
            match self.state {
                State::Start => {
                    if byte == self.delimiter {
                        self.end_field();
                    } else if self.quoting && byte == b'"' {
                        self.field.clear();
                        self.quoted = true;
                        self.state = State::Quoted;
                    } else {
                        self.field.push(byte);
                        if byte != b' ' {
                            self.state = State::Unquoted;
                        }
                    }
                }
                State::Unquoted => {
                    if byte == self.delimiter {
                        self.end_field();
                    } else {
                        self.field.push(byte);
                    }
                }
                State::Quoted => {
                    if byte == b'"' {
                        self.state = State::QuoteSeen;
                    } else {
                        self.field.push(byte);
                    }
                }
                State::QuoteSeen | State::AfterQuote => {
                    if byte == self.delimiter {
                        self.end_field();
                    } else if self.state == State::QuoteSeen && byte == b'"' {
                        self.field.push(b'"');
                        self.state = State::Quoted;
                    } else if byte == b' ' || byte == b'\t' {
                        self.state = State::AfterQuote;
                    } else {
                        self.error = Some(ParseError::Format(format!(
                            "unexpected character '{}' after the closing quote of field {} \
                             (a quote inside a quoted field must be doubled)",
                            char::from(byte).escape_default(),
                            self.fields.len() + 1
                        )));
                        return;
                    }
                }
            }
        }
        if self.state != State::Quoted {
            self.end_field();
        }
    }

    /// Close the current field, trimming it unless it was quoted.
    fn end_field(&mut self) {
        let bytes = if self.quoted { &self.field[..] } else { self.field.trim_ascii() };
        match std::str::from_utf8(bytes) {
            Ok(text) => self.fields.push(text.to_owned()),
            Err(_) => {
                if self.error.is_none() {
                    self.error = Some(ParseError::Utf8);
                }
            }
        }
        self.field.clear();
        self.quoted = false;
        self.state = State::Start;
    }

    /// Read continuation lines while a quoted field is open, then return the record's fields and reset.
    fn finish(&mut self, lines: &mut Lines, start: u64) -> Result<Vec<String>, IoError> {
        while self.needs_more() {
            match lines.next_line()? {
                Some((_, raw)) => self.feed(raw),
                None => {
                    self.error = Some(ParseError::Format(format!(
                        "quoted field {} is never closed (a '\"' is missing)",
                        self.fields.len() + 1
                    )));
                }
            }
        }
        let fields = std::mem::take(&mut self.fields);
        self.field.clear();
        self.quoted = false;
        self.state = State::Start;
        match self.error.take() {
            None => Ok(fields),
            Some(ParseError::Utf8) => Err(IoError::InvalidUtf8 { path: lines.path().to_path_buf(), line: start }),
            Some(ParseError::Format(message)) => {
                Err(IoError::Malformed { path: lines.path().to_path_buf(), line: start, message })
            }
        }
    }
}

/// Read labels keyed by record id from a table with at least two columns.
///
/// The id and label columns are found by name; when a name is `None` the id column is the
/// first column and the label column the first other one. Empty ids or labels and
/// duplicate ids (naming both lines) are errors.
pub fn read_label_table(
    path: &Path,
    id_column: Option<&str>,
    label_column: Option<&str>,
) -> Result<Vec<LabelRecord>, IoError> {
    let (table, header_line) = read_table(path)?;
    let id_index = id_column.map(|c| table.column(c)).transpose()?;
    let label_index = label_column.map(|c| table.column(c)).transpose()?;
    let other = |taken: usize| usize::from(taken == 0);
    let (id_index, label_index) = match (id_index, label_index) {
        (Some(id), Some(label)) => (id, label),
        (Some(id), None) => (id, other(id)),
        (None, Some(label)) => (other(label), label),
        (None, None) => (0, 1),
    };
    let columns = table.header.len();
    if id_index >= columns || label_index >= columns {
        return Err(IoError::Malformed {
            path: path.to_path_buf(),
            line: header_line,
            message: format!(
                "a label table needs an id column and a label column, but the header has \
                 only {columns} column(s)"
            ),
        });
    }
    if id_index == label_index {
        return Err(IoError::Malformed {
            path: path.to_path_buf(),
            line: header_line,
            message: format!("the id column and the label column are both '{}'", table.header[id_index]),
        });
    }
    let mut seen: HashMap<String, u64> = HashMap::with_capacity(table.rows.len());
    let mut labels = Vec::with_capacity(table.rows.len());
    for mut row in table.rows {
        let id = std::mem::take(&mut row.fields[id_index]);
        let label = std::mem::take(&mut row.fields[label_index]);
        let empty = if id.is_empty() {
            Some(format!("empty id in column '{}'", table.header[id_index]))
        } else if label.is_empty() {
            Some(format!("empty label in column '{}' for id '{id}'", table.header[label_index]))
        } else {
            None
        };
        if let Some(message) = empty {
            return Err(IoError::Malformed { path: path.to_path_buf(), line: row.line, message });
        }
        if let Some(&first_line) = seen.get(&id) {
            return Err(IoError::DuplicateId { path: path.to_path_buf(), id, first_line, line: row.line });
        }
        seen.insert(id.clone(), row.line);
        labels.push(LabelRecord { id, label, line: row.line });
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::tests::{TestResult, gzip, write_file};

    /// Strings from string literals.
    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Read `content` as a table, expecting an error.
    fn table_error(content: &[u8]) -> Result<IoError, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "bad.csv", content)?;
        match Table::read(&path) {
            Ok(table) => Err(format!("expected an error, read {table:?}").into()),
            Err(e) => {
                assert!(e.to_string().contains("bad.csv"), "{e}");
                Ok(e)
            }
        }
    }

    #[test]
    fn tsv_with_comments_and_crlf() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path =
            write_file(&dir, "t.tsv", b"# made by hand\r\n\r\nid\tlabel\tnote\r\na\t1\tx, y\r\nb\t0\t\"q\"\r\n\r\n")?;
        let table = Table::read(&path)?;
        assert_eq!(table.header, strings(&["id", "label", "note"]));
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0].line, 4);
        assert_eq!(table.rows[0].fields, strings(&["a", "1", "x, y"]));
        // Quotes are not special in TSV.
        assert_eq!(table.rows[1].fields, strings(&["b", "0", "\"q\""]));
        assert_eq!(table.column("note")?, 2);
        assert_eq!(table.field_column(&table.rows[0], 0), 1);
        assert_eq!(table.field_column(&table.rows[0], 2), 5);
        Ok(())
    }

    #[test]
    fn carriage_return_only_table_is_refused() -> TestResult {
        let e = table_error(b"id,seq,label\ra,ACGT,1\rb,GGTT,0\r")?;
        assert!(matches!(e, IoError::Malformed { line: 1, .. }), "{e}");
        assert!(e.to_string().contains("lines end in '\\r' only"), "{e}");
        Ok(())
    }

    #[test]
    fn quoted_csv() -> TestResult {
        let dir = tempfile::tempdir()?;
        let content = b"\xef\xbb\xbfid, \"label, text\"\n\"a,1\",\"say \"\"hi\"\"\"\n b , \"two\nlines\" \nc,\"\"\n";
        let path = write_file(&dir, "q.csv", content)?;
        let table = Table::read(&path)?;
        assert_eq!(table.header, strings(&["id", "label, text"]));
        assert_eq!(table.rows[0].fields, strings(&["a,1", "say \"hi\""]));
        assert_eq!(table.rows[1].fields, strings(&["b", "two\nlines"]));
        assert_eq!(table.rows[1].line, 3);
        assert_eq!(table.rows[2].fields, strings(&["c", ""]));
        assert_eq!(table.rows[2].line, 5);
        Ok(())
    }

    #[test]
    fn gzip_table() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "t.csv.gz", &gzip(b"id,y\na,1\n")?)?;
        let table = Table::read(&path)?;
        assert_eq!(table.rows[0].fields, strings(&["a", "1"]));
        Ok(())
    }

    #[test]
    fn table_errors() -> TestResult {
        assert!(matches!(table_error(b"")?, IoError::Empty { .. }));
        assert!(matches!(table_error(b"# only\n")?, IoError::Empty { .. }));
        assert!(matches!(table_error(b"id,label\n\n")?, IoError::NoRecords { .. }));
        let e = table_error(b"id,label\na,1\nb,2,3\n")?;
        assert!(matches!(e, IoError::RaggedRow { line: 3, expected: 2, found: 3, .. }), "{e}");
        let e = table_error(b"id\tlabel\na\n")?;
        assert!(matches!(e, IoError::RaggedRow { line: 2, found: 1, .. }), "{e}");
        let e = table_error(b"id,label,id\na,1,2\n")?;
        assert!(matches!(&e, IoError::DuplicateColumn { column, .. } if column == "id"), "{e}");
        let e = table_error(b"id,label\na,1\n\nb,2\n")?;
        assert!(matches!(e, IoError::BlankLine { line: 3, .. }), "{e}");
        let e = table_error(b"id,label\na,\"1\n")?;
        assert!(matches!(e, IoError::Malformed { line: 2, .. }), "{e}");
        assert!(e.to_string().contains("never closed"), "{e}");
        let e = table_error(b"id,label\na,\"1\"x\n")?;
        assert!(matches!(e, IoError::Malformed { line: 2, .. }), "{e}");
        let e = table_error(b"id,label\na,\xff\n")?;
        assert!(matches!(e, IoError::InvalidUtf8 { line: 2, .. }), "{e}");
        Ok(())
    }

    #[test]
    fn missing_column_lists_available() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "t.csv", b"id,y\na,1\n")?;
        let table = Table::read(&path)?;
        let Err(e) = table.column("label") else {
            return Err("expected an error".into());
        };
        assert!(
            matches!(&e, IoError::MissingColumn { column, available, .. }
                if column == "label" && *available == strings(&["id", "y"])),
            "{e}"
        );
        let text = e.to_string();
        assert!(text.contains("t.csv") && text.contains("'id', 'y'"), "{text}");
        Ok(())
    }

    #[test]
    fn label_tables() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "l.tsv", b"name\tscore\tclass\ns1\t0.5\tA\ns2\t1.5\tB\n")?;
        let by_default = read_label_table(&path, None, None)?;
        assert_eq!(by_default[1], LabelRecord { id: "s2".to_owned(), label: "1.5".to_owned(), line: 3 });
        let by_name = read_label_table(&path, Some("name"), Some("class"))?;
        assert_eq!(by_name[0].label, "A");
        let label_only = read_label_table(&path, None, Some("class"))?;
        assert_eq!(label_only[0].id, "s1");
        let id_only = read_label_table(&path, Some("class"), None)?;
        assert_eq!((id_only[0].id.as_str(), id_only[0].label.as_str()), ("A", "s1"));
        let Err(e) = read_label_table(&path, Some("name"), Some("label")) else {
            return Err("expected an error".into());
        };
        assert!(matches!(e, IoError::MissingColumn { .. }), "{e}");
        Ok(())
    }

    #[test]
    fn label_table_errors() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "dup.csv", b"id,y\na,1\nb,0\na,1\n")?;
        let Err(e) = read_label_table(&path, None, None) else {
            return Err("expected an error".into());
        };
        assert!(matches!(&e, IoError::DuplicateId { id, first_line: 2, line: 4, .. } if id == "a"), "{e}");
        let path = write_file(&dir, "one.csv", b"# c\nid\na\n")?;
        let Err(e) = read_label_table(&path, None, None) else {
            return Err("expected an error".into());
        };
        assert!(matches!(e, IoError::Malformed { line: 2, .. }), "{e}");
        let path = write_file(&dir, "same.csv", b"id,y\na,1\n")?;
        let Err(e) = read_label_table(&path, Some("y"), Some("y")) else {
            return Err("expected an error".into());
        };
        assert!(matches!(e, IoError::Malformed { line: 1, .. }), "{e}");
        let path = write_file(&dir, "empty.csv", b"id,y\na,1\nb,\n")?;
        let Err(e) = read_label_table(&path, None, None) else {
            return Err("expected an error".into());
        };
        assert!(matches!(e, IoError::Malformed { line: 3, .. }), "{e}");
        assert!(e.to_string().contains("empty label"), "{e}");
        Ok(())
    }
}
