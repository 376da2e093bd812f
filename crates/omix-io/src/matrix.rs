//! Numeric matrices (samples × features) from CSV or TSV files, such as expression tables.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::IoError;
use crate::reader::Lines;

/// Header names that mark the first column as sample ids when its values are not numbers.
const ID_HEADERS: [&str; 8] = ["id", "index", "cell", "sample", "name", "cell_id", "sample_id", "barcode"];

/// Cell texts read as a missing value (compared case-insensitively), besides the empty cell.
const MISSING_MARKERS: [&str; 6] = ["na", "n/a", "nan", "null", "none", "-nan"];

/// How to read a numeric matrix; [`MatrixOptions::default`] suits most files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixOptions {
    /// Whether the first (non-blank, non-`#`) line names the columns. Default `true`; without
    /// a header the columns are named `col1`, `col2`, ...
    pub has_header: bool,
    /// The column holding the row ids, by header name (`colN` without a header). When `None`
    /// the id column is detected, see [`read_matrix`].
    pub id_column: Option<String>,
    /// The field delimiter; `None` detects it from the first line (a tab means TSV, else CSV).
    pub delimiter: Option<u8>,
}

impl Default for MatrixOptions {
    fn default() -> Self {
        MatrixOptions { has_header: true, id_column: None, delimiter: None }
    }
}

/// A dense numeric matrix read from a file: one row per sample, one column per feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// The id of each row (from the id column, else `row1`, `row2`, ...).
    pub row_ids: Vec<String>,
    /// The feature (column) names, the id column excluded.
    pub columns: Vec<String>,
    /// The values, row-major: row `i` is `values[i * width .. (i + 1) * width]`.
    pub values: Vec<f32>,
    /// The file the matrix was read from.
    pub source: PathBuf,
    /// The 1-based file line of each row.
    pub lines: Vec<u64>,
}

impl Matrix {
    /// The number of rows (samples).
    pub fn rows(&self) -> usize {
        self.row_ids.len()
    }

    /// The number of columns (features).
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// The values of row `index`.
    ///
    /// # Panics
    /// If `index >= self.rows()`, like slice indexing.
    pub fn row(&self, index: usize) -> &[f32] {
        let width = self.width();
        &self.values[index * width..(index + 1) * width]
    }
}

/// Read a numeric matrix (samples × features) from a CSV or TSV file, plain or gzip.
///
/// The delimiter is a tab if the first line holds one, else a comma (a one-column file
/// falls back to the extension: `.tsv`/`.tab` mean tab). Double quotes may enclose a field
/// (doubled inside it), but a row must stay on one line. Blank lines and `#` comment lines
/// before the first line are skipped.
///
/// The id column is `options.id_column` when given; otherwise, with a header, it is
/// - the first column when the header has one field fewer than the rows (R's `write.table`),
/// - the first column when its header cell is empty (pandas' `to_csv` index),
/// - the first column when its header is `id`, `index`, `cell`, `sample`, `name`, `cell_id`,
///   `sample_id` or `barcode` (any case) and its value on the first row is not a number;
///
/// without a header, the first column when its first value is not a number. When there is no
/// id column the rows are called `row1`, `row2`, ... in file order.
///
/// Errors: an empty file, a header without rows, a duplicate column name, a row whose field
/// count differs from the header's, a blank line before the last row, an empty or duplicate
/// id, and any cell that is not a finite number ([`IoError::InvalidValue`] naming the line,
/// field and column): missing values (empty, `NA`, `NaN`, `null`, ...) are errors because deep
/// models cannot take them, so impute or drop them first.
pub fn read_matrix(path: &Path, options: &MatrixOptions) -> Result<Matrix, IoError> {
    MatrixReader::new(path, options)?.read()
}

/// What is known about the layout once the header (and the first row) has been seen.
struct Layout {
    /// The name of every field of a row, the id column included.
    names: Vec<String>,
    /// The field holding ids, if any.
    id_field: Option<usize>,
}

/// The state of one matrix read.
struct MatrixReader<'o> {
    lines: Lines,
    options: &'o MatrixOptions,
    splitter: Splitter,
    /// The header fields and the line they were on.
    header: Option<(Vec<String>, u64)>,
    matrix: Matrix,
    first_line_of_id: HashMap<String, u64>,
}

impl<'o> MatrixReader<'o> {
    fn new(path: &Path, options: &'o MatrixOptions) -> Result<Self, IoError> {
        Ok(MatrixReader {
            lines: Lines::open(path)?,
            options,
            splitter: Splitter::new(b','),
            header: None,
            matrix: Matrix {
                row_ids: Vec::new(),
                columns: Vec::new(),
                values: Vec::new(),
                source: path.to_path_buf(),
                lines: Vec::new(),
            },
            first_line_of_id: HashMap::new(),
        })
    }

    fn path(&self) -> PathBuf {
        self.matrix.source.clone()
    }

    fn read(mut self) -> Result<Matrix, IoError> {
        let mut started = false;
        let mut layout: Option<Layout> = None;
        let mut blank: Option<u64> = None;
        while let Some((number, raw)) = self.lines.next_line()? {
            let trimmed = raw.trim_ascii();
            if !started {
                if trimmed.is_empty() || trimmed.starts_with(b"#") {
                    continue;
                }
                started = true;
                let delimiter = self.options.delimiter.unwrap_or_else(|| detect_delimiter(raw, &self.matrix.source));
                self.splitter = Splitter::new(delimiter);
                if self.options.has_header {
                    let path = &self.matrix.source;
                    self.splitter.split(raw).map_err(|message| malformed(path, number, message))?;
                    let header = self
                        .splitter
                        .strings()
                        .map_err(|()| IoError::InvalidUtf8 { path: path.clone(), line: number })?;
                    self.header = Some((header, number));
                    continue;
                }
            }
            if trimmed.is_empty() {
                blank.get_or_insert(number);
                continue;
            }
            if let Some(line) = blank {
                return Err(IoError::BlankLine { path: self.path(), line });
            }
            let path = &self.matrix.source;
            self.splitter.split(raw).map_err(|message| malformed(path, number, message))?;
            let layout = match &layout {
                Some(layout) => layout,
                None => layout.insert(self.layout(number)?),
            };
            add_row(&mut self.matrix, &mut self.first_line_of_id, &self.splitter, layout, number)?;
        }
        if !started {
            return Err(IoError::Empty { path: self.path() });
        }
        if layout.is_none() {
            return Err(IoError::NoRecords { path: self.path() });
        }
        Ok(self.matrix)
    }

    /// Work out column names and the id column from the header and the first data row (split in `self.splitter`).
    fn layout(&mut self, first_row_line: u64) -> Result<Layout, IoError> {
        let path = self.path();
        let fields = self.splitter.len();
        let first_value = self.splitter.field(0);
        let (names, header_line) = match self.header.take() {
            Some((header, line)) => {
                let r_style = header.len() + 1 == fields && fields > 1;
                let names =
                    if r_style { std::iter::once(String::new()).chain(header).collect::<Vec<_>>() } else { header };
                (names, Some((line, r_style)))
            }
            None => ((1..=fields).map(|i| format!("col{i}")).collect(), None),
        };
        let id_field = match &self.options.id_column {
            Some(name) => {
                let found = match header_line {
                    Some((_, true)) if name.is_empty() => Some(0),
                    _ => names.iter().position(|n| n == name),
                };
                let Some(index) = found else {
                    let available = names.iter().filter(|n| !n.is_empty()).cloned().collect();
                    return Err(IoError::MissingColumn { path, column: name.clone(), available });
                };
                Some(index)
            }
            None => {
                let text_first = !is_number(first_value);
                match header_line {
                    Some((_, true)) => Some(0),
                    Some(_) if names.first().is_some_and(|n| n.is_empty()) => Some(0),
                    Some(_) => {
                        let named = names.first().is_some_and(|n| ID_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(n)));
                        (named && text_first).then_some(0)
                    }
                    None => (text_first && !is_missing(first_value)).then_some(0),
                }
            }
        };
        if let Some((line, _)) = header_line {
            let mut seen = HashMap::with_capacity(names.len());
            for (index, name) in names.iter().enumerate() {
                if Some(index) == id_field {
                    continue;
                }
                if name.is_empty() {
                    return Err(malformed(
                        &path,
                        line,
                        format!("the header name of column {} is empty (only the id column may be unnamed)", index + 1),
                    ));
                }
                if seen.insert(name.as_str(), index).is_some() {
                    return Err(IoError::DuplicateColumn { path, column: name.clone() });
                }
            }
        }
        if names.len() == usize::from(id_field.is_some()) {
            let (line, message) = match header_line {
                Some((line, _)) => (line, "the header names no feature columns"),
                None => (first_row_line, "the rows hold ids but no values"),
            };
            return Err(malformed(&path, line, message.to_owned()));
        }
        self.matrix.columns =
            names.iter().enumerate().filter(|&(index, _)| Some(index) != id_field).map(|(_, n)| n.clone()).collect();
        Ok(Layout { names, id_field })
    }
}

/// Append the row held in `splitter` (read from `line`) to `matrix`.
fn add_row(
    matrix: &mut Matrix,
    first_line_of_id: &mut HashMap<String, u64>,
    splitter: &Splitter,
    layout: &Layout,
    line: u64,
) -> Result<(), IoError> {
    let path = &matrix.source;
    if splitter.len() != layout.names.len() {
        return Err(IoError::RaggedRow {
            path: path.clone(),
            line,
            expected: layout.names.len(),
            found: splitter.len(),
        });
    }
    let id = match layout.id_field {
        Some(field) => {
            let id = std::str::from_utf8(splitter.field(field))
                .map_err(|_| IoError::InvalidUtf8 { path: path.clone(), line })?
                .to_owned();
            if id.is_empty() {
                let column = &layout.names[field];
                let message = if column.is_empty() {
                    "empty id in the id column".to_owned()
                } else {
                    format!("empty id in column '{column}'")
                };
                return Err(malformed(path, line, message));
            }
            id
        }
        None => format!("row{}", matrix.row_ids.len() + 1),
    };
    if let Some(&first_line) = first_line_of_id.get(&id) {
        return Err(IoError::DuplicateId { path: path.clone(), id, first_line, line });
    }
    for field in 0..splitter.len() {
        if Some(field) == layout.id_field {
            continue;
        }
        let text = splitter.field(field);
        match parse_value(text) {
            Ok(value) => matrix.values.push(value),
            Err(problem) => {
                let text = String::from_utf8_lossy(text).into_owned();
                let message = match problem {
                    Problem::Missing if text.is_empty() => {
                        "empty cell: missing values are not allowed (deep models cannot take them; \
                         impute or drop them first)"
                            .to_owned()
                    }
                    Problem::Missing => format!(
                        "missing value '{text}' (deep models cannot take missing values; impute or drop them first)"
                    ),
                    Problem::Infinite => format!("'{text}' is not a finite number"),
                    Problem::TooLarge => format!("'{text}' is too large for a 32-bit float"),
                    Problem::NotNumber => format!("'{text}' is not a number"),
                };
                return Err(IoError::InvalidValue {
                    path: path.clone(),
                    line,
                    field: field as u64 + 1,
                    column: layout.names[field].clone(),
                    text,
                    message,
                });
            }
        }
    }
    first_line_of_id.insert(id.clone(), line);
    matrix.row_ids.push(id);
    matrix.lines.push(line);
    Ok(())
}

/// Why a cell is not a value.
enum Problem {
    Missing,
    Infinite,
    TooLarge,
    NotNumber,
}

/// Parse a cell as a finite `f32`.
fn parse_value(text: &[u8]) -> Result<f32, Problem> {
    if is_missing(text) {
        return Err(Problem::Missing);
    }
    let Ok(text) = std::str::from_utf8(text) else {
        return Err(Problem::NotNumber);
    };
    match text.parse::<f32>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(value) if value.is_nan() => Err(Problem::Missing),
        Ok(_) if text.bytes().any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E')) => Err(Problem::Infinite),
        Ok(_) => Err(Problem::TooLarge),
        Err(_) => Err(Problem::NotNumber),
    }
}

/// Whether a cell is a missing-value marker (or empty).
fn is_missing(text: &[u8]) -> bool {
    text.is_empty() || MISSING_MARKERS.iter().any(|m| m.as_bytes().eq_ignore_ascii_case(text))
}

/// Whether a cell parses as a number (finite or not).
fn is_number(text: &[u8]) -> bool {
    !is_missing(text) && std::str::from_utf8(text).is_ok_and(|t| t.parse::<f64>().is_ok())
}

/// A tab if the first line has one, a comma if it has one, else by extension.
fn detect_delimiter(first_line: &[u8], path: &Path) -> u8 {
    if first_line.contains(&b'\t') {
        return b'\t';
    }
    if first_line.contains(&b',') {
        return b',';
    }
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".tsv") || name.ends_with(".tab") || name.ends_with(".txt") { b'\t' } else { b',' }
}

fn malformed(path: &Path, line: u64, message: String) -> IoError {
    IoError::Malformed { path: path.to_path_buf(), line, message }
}

/// Splits one line into fields, reusing its buffers: unquoted fields are trimmed, quoted ones
/// (`"..."`, with `""` for a quote) are taken as written.
struct Splitter {
    delimiter: u8,
    /// The unquoted bytes of every field, back to back.
    bytes: Vec<u8>,
    /// Where each field lies in `bytes`.
    fields: Vec<Range<usize>>,
}

impl Splitter {
    fn new(delimiter: u8) -> Self {
        Splitter { delimiter, bytes: Vec::new(), fields: Vec::new() }
    }

    fn len(&self) -> usize {
        self.fields.len()
    }

    fn field(&self, index: usize) -> &[u8] {
        self.fields.get(index).map_or(&[][..], |range| &self.bytes[range.clone()])
    }

    /// The fields as strings, or `Err` if one is not UTF-8.
    fn strings(&self) -> Result<Vec<String>, ()> {
        (0..self.len()).map(|i| std::str::from_utf8(self.field(i)).map(str::to_owned).map_err(|_| ())).collect()
    }

    /// Split `line`; the error says what is wrong with its quoting.
    fn split(&mut self, line: &[u8]) -> Result<(), String> {
        self.bytes.clear();
        self.fields.clear();
        let mut position = 0;
        loop {
            let start = self.bytes.len();
            // Skip leading spaces to see whether the field is quoted.
            let mut cursor = position;
            while cursor < line.len() && matches!(line[cursor], b' ' | b'\t') && line[cursor] != self.delimiter {
                cursor += 1;
            }
            if cursor < line.len() && line[cursor] == b'"' {
                cursor += 1;
                loop {
                    let Some(offset) = line[cursor..].iter().position(|&b| b == b'"') else {
                        return Err(format!(
                            "quoted field {} is not closed on this line (a '\"' is missing; a matrix row \
                             must be on one line)",
                            self.fields.len() + 1
                        ));
                    };
                    self.bytes.extend_from_slice(&line[cursor..cursor + offset]);
                    cursor += offset + 1;
                    if line.get(cursor) == Some(&b'"') {
                        self.bytes.push(b'"');
                        cursor += 1;
                    } else {
                        break;
                    }
                }
                while cursor < line.len() && line[cursor] != self.delimiter {
                    if !matches!(line[cursor], b' ' | b'\t') {
                        return Err(format!(
                            "unexpected character '{}' after the closing quote of field {} \
                             (a quote inside a quoted field must be doubled)",
                            char::from(line[cursor]).escape_default(),
                            self.fields.len() + 1
                        ));
                    }
                    cursor += 1;
                }
                self.fields.push(start..self.bytes.len());
            } else {
                let end =
                    line[position..].iter().position(|&b| b == self.delimiter).map_or(line.len(), |o| position + o);
                self.bytes.extend_from_slice(line[position..end].trim_ascii());
                self.fields.push(start..self.bytes.len());
                cursor = end;
            }
            if cursor >= line.len() {
                return Ok(());
            }
            // `cursor` is on a delimiter.
            position = cursor + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::tests::{TestResult, gzip, write_file};

    /// Read `content` (written as `name`) with `options`.
    fn read(name: &str, content: &[u8], options: &MatrixOptions) -> Result<Matrix, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, name, content)?;
        Ok(read_matrix(&path, options)?)
    }

    /// Read `content`, expecting an error that names the file.
    fn error(content: &[u8]) -> Result<IoError, Box<dyn std::error::Error>> {
        error_with(content, &MatrixOptions::default())
    }

    fn error_with(content: &[u8], options: &MatrixOptions) -> Result<IoError, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "bad.csv", content)?;
        match read_matrix(&path, options) {
            Ok(matrix) => Err(format!("expected an error, read {matrix:?}").into()),
            Err(e) => {
                assert!(e.to_string().contains("bad.csv"), "{e}");
                Ok(e)
            }
        }
    }

    #[test]
    fn csv_without_ids() -> TestResult {
        let m = read("x.csv", b"g1,g2,g3\n1,2,3\n0.5,-1e-3,+4\n", &MatrixOptions::default())?;
        assert_eq!(m.columns, ["g1", "g2", "g3"]);
        assert_eq!(m.row_ids, ["row1", "row2"]);
        assert_eq!((m.rows(), m.width()), (2, 3));
        assert_eq!(m.row(1), [0.5, -1e-3, 4.0]);
        assert_eq!(m.lines, [2, 3]);
        assert!(m.source.ends_with("x.csv"));
        Ok(())
    }

    #[test]
    fn gzip_tsv_with_id_column_and_comments() -> TestResult {
        let content = b"# made by hand\n\ncell\tA\tB\r\nc1\t1\t2\r\nc2\t3\t4\r\n\n";
        let m = read("x.tsv.gz", &gzip(content)?, &MatrixOptions::default())?;
        assert_eq!(m.row_ids, ["c1", "c2"]);
        assert_eq!(m.columns, ["A", "B"]);
        assert_eq!(m.values, [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m.lines, [4, 5]);
        Ok(())
    }

    #[test]
    fn id_column_detection() -> TestResult {
        let default = MatrixOptions::default();
        // pandas: empty first header cell.
        let m = read("p.csv", b",g1,g2\n0,1,2\n1,3,4\n", &default)?;
        assert_eq!(
            (m.row_ids.clone(), m.columns.clone()),
            (vec!["0".to_owned(), "1".to_owned()], vec!["g1".to_owned(), "g2".to_owned()])
        );
        // R: header one field short.
        let m = read("r.csv", b"\"g1\",\"g2\"\n\"s1\",1,2\n\"s2\",3,4\n", &default)?;
        assert_eq!(m.row_ids, ["s1", "s2"]);
        assert_eq!(m.columns, ["g1", "g2"]);
        assert_eq!(m.row(1), [3.0, 4.0]);
        // A column called "index" holding numbers is a feature.
        let m = read("n.csv", b"index,g1\n5,1\n", &default)?;
        assert_eq!(m.columns, ["index", "g1"]);
        assert_eq!(m.row_ids, ["row1"]);
        // Named explicitly, anywhere.
        let options = MatrixOptions { id_column: Some("key".to_owned()), ..MatrixOptions::default() };
        let m = read("k.csv", b"g1,key,g2\n1,a,2\n3,b,4\n", &options)?;
        assert_eq!(m.row_ids, ["a", "b"]);
        assert_eq!(m.columns, ["g1", "g2"]);
        assert_eq!(m.values, [1.0, 2.0, 3.0, 4.0]);
        Ok(())
    }

    #[test]
    fn without_header() -> TestResult {
        let options = MatrixOptions { has_header: false, ..MatrixOptions::default() };
        let m = read("h.csv", b"1,2\n3,4\n", &options)?;
        assert_eq!(m.columns, ["col1", "col2"]);
        assert_eq!(m.row_ids, ["row1", "row2"]);
        assert_eq!(m.lines, [1, 2]);
        let m = read("h.tsv", b"a\t1\t2\nb\t3\t4\n", &options)?;
        assert_eq!(m.columns, ["col2", "col3"]);
        assert_eq!(m.row_ids, ["a", "b"]);
        let options = MatrixOptions { has_header: false, id_column: Some("col2".to_owned()), delimiter: Some(b';') };
        let m = read("h.txt", b"1;x;2\n", &options)?;
        assert_eq!(m.row_ids, ["x"]);
        assert_eq!(m.values, [1.0, 2.0]);
        Ok(())
    }

    #[test]
    fn one_column_uses_the_extension() -> TestResult {
        let m = read("one.tsv", b"a b\n1\n", &MatrixOptions::default())?;
        assert_eq!(m.columns, ["a b"]);
        Ok(())
    }

    #[test]
    fn value_errors_name_line_field_and_column() -> TestResult {
        let e = error(b"id,g1,g2\na,1,x1\n")?;
        assert!(
            matches!(&e, IoError::InvalidValue { line: 2, field: 3, column, text, .. } if column == "g2" && text == "x1"),
            "{e}"
        );
        assert!(e.to_string().contains("not a number"), "{e}");
        for missing in [&b"NA"[..], b"nan", b"NaN", b"", b"null"] {
            let mut content = b"g1,g2\n1,".to_vec();
            content.extend_from_slice(missing);
            content.push(b'\n');
            let e = error(&content)?;
            assert!(matches!(&e, IoError::InvalidValue { line: 2, field: 2, .. }), "{e}");
            assert!(e.to_string().contains("missing value") || e.to_string().contains("empty cell"), "{e}");
            assert!(e.to_string().contains("deep models"), "{e}");
        }
        let e = error(b"g1\ninf\n")?;
        assert!(e.to_string().contains("not a finite number"), "{e}");
        let e = error(b"g1\n1e39\n")?;
        assert!(e.to_string().contains("too large"), "{e}");
        Ok(())
    }

    #[test]
    fn structural_errors() -> TestResult {
        assert!(matches!(error(b"")?, IoError::Empty { .. }));
        assert!(matches!(error(b"\n# nothing\n")?, IoError::Empty { .. }));
        assert!(matches!(error(b"g1,g2\n\n")?, IoError::NoRecords { .. }));
        let e = error(b"g1,g2\n1,2\n1,2,3,4\n")?;
        assert!(matches!(e, IoError::RaggedRow { line: 3, expected: 2, found: 4, .. }), "{e}");
        let e = error(b"g1,g2\n1,2\n\n3,4\n")?;
        assert!(matches!(e, IoError::BlankLine { line: 3, .. }), "{e}");
        let e = error(b"id,g1\na,1\nb,2\na,3\n")?;
        assert!(matches!(&e, IoError::DuplicateId { id, first_line: 2, line: 4, .. } if id == "a"), "{e}");
        let e = error(b"id,g1\n,1\n")?;
        assert!(matches!(e, IoError::Malformed { line: 2, .. }), "{e}");
        let e = error(b"g1,g1\n1,2\n")?;
        assert!(matches!(&e, IoError::DuplicateColumn { column, .. } if column == "g1"), "{e}");
        let e = error(b"g1,\n1,2\n")?;
        assert!(matches!(e, IoError::Malformed { line: 1, .. }), "{e}");
        let e = error(b"id\na\n")?;
        assert!(matches!(e, IoError::Malformed { line: 1, .. }), "{e}");
        assert!(e.to_string().contains("no feature columns"), "{e}");
        let e = error(b"g1,g2\n1,\"2\n")?;
        assert!(e.to_string().contains("not closed"), "{e}");
        let e = error(b"g1,g2\n1,\"2\"x\n")?;
        assert!(matches!(e, IoError::Malformed { line: 2, .. }), "{e}");
        let e = error(b"g1,\xff\n1,2\n")?;
        assert!(matches!(e, IoError::InvalidUtf8 { line: 1, .. }), "{e}");
        let no_header = MatrixOptions { has_header: false, ..MatrixOptions::default() };
        let e = error_with(b"\n\na\nb\n", &no_header)?;
        assert!(matches!(e, IoError::Malformed { line: 3, .. }), "{e}");
        let options = MatrixOptions { id_column: Some("sample".to_owned()), ..MatrixOptions::default() };
        let e = error_with(b"g1\n1\n", &options)?;
        assert!(matches!(&e, IoError::MissingColumn { column, .. } if column == "sample"), "{e}");
        Ok(())
    }

    #[test]
    fn quoted_fields() -> TestResult {
        let m = read("q.csv", b"\"id\", \"a, b\" ,\"c\"\"\"\n \"s 1\" , \"1.5\",2\n", &MatrixOptions::default())?;
        assert_eq!(m.row_ids, ["s 1"]);
        assert_eq!(m.columns, ["a, b", "c\""]);
        assert_eq!(m.values, [1.5, 2.0]);
        Ok(())
    }

    #[test]
    fn real_expression_matrix() -> TestResult {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/expression");
        let path = data.join("X_lognorm_raw.csv.gz");
        if !path.exists() {
            println!("skipping: {} is absent", path.display());
            return Ok(());
        }
        let m = read_matrix(&path, &MatrixOptions::default())?;
        assert_eq!((m.rows(), m.width()), (700, 765));
        assert_eq!(m.columns[..3], ["HES4", "TNFRSF4", "SSU72"]);
        assert_eq!(m.row_ids[0], "row1");
        assert_eq!(m.row(0)[3], 1.591);
        assert_eq!(m.lines[699], 701);
        assert!(m.values.iter().all(|v| v.is_finite()));
        Ok(())
    }
}
