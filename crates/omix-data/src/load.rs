//! Reading one source (lines, FASTA, table or per-class files) into raw labelled records.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use omix_io::{
    IoError, Location, Table, read_fasta, read_fasta_with, read_label_lines, read_label_table, read_sequence_lines,
};

use crate::DataError;
use crate::config::{Format, SourceConfig};
use crate::split::Split;

/// The label of a raw record, before classes are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawLabel {
    /// One label, as text, with the file and line it came from.
    Single { text: String, file: usize, line: u64 },
    /// One text per label column (multi-label 0/1 or regression targets), parsed once the
    /// task is known.
    Columns { texts: Vec<String>, file: usize, line: u64 },
    /// No label (prediction input).
    None,
}

/// A record as read: sequence, label, where it came from, and a split if the file assigns one.
#[derive(Debug, Clone)]
pub(crate) struct RawRecord {
    pub id: String,
    pub sequence: Vec<u8>,
    /// Feature values of a matrix row (empty for sequences).
    pub values: Vec<f32>,
    pub location: Location,
    pub file: usize,
    pub label: RawLabel,
    pub split: Option<Split>,
}

/// Raw records plus the files they name by index.
#[derive(Debug, Default)]
pub(crate) struct RawSource {
    pub records: Vec<RawRecord>,
    pub task_names: Vec<String>,
    /// Column names of a numeric matrix input (None for sequences).
    pub columns: Option<Vec<String>>,
}

/// A 64-bit hash of a sequence's bytes, to tell a repeated record from a different one.
fn sequence_hash(sequence: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    sequence.hash(&mut hasher);
    hasher.finish()
}

/// Read one source. `files` collects every path read; records refer to it by index.
pub(crate) fn read_source(
    source: &SourceConfig,
    files: &mut Vec<PathBuf>,
    require_labels: bool,
) -> Result<RawSource, DataError> {
    if !source.classes.is_empty() {
        let mut records = Vec::new();
        // FASTA ids name examples in the split manifest and the predictions: one id may not
        // name two different sequences, within or across the class files. The same record listed
        // again (public data sets list a site once per protein that binds it) is accepted; the
        // duplicates report counts it. `line{N}` ids of line files are not ids a user chose and
        // are not checked.
        let mut ids: HashMap<String, (usize, u64, u64)> = HashMap::new();
        for class in &source.classes {
            let file = register(files, &class.path);
            let format = resolve_format(source.format, &class.path)?;
            let sequences = match format {
                Format::Fasta => {
                    let sequences = read_fasta_with(&class.path, false)?;
                    for record in &sequences {
                        let line = record.location.line.saturating_sub(1);
                        let content = sequence_hash(&record.sequence);
                        match ids.get(&record.id) {
                            Some(&(_, _, first_content)) if first_content == content => {}
                            Some(&(first_file, first_line, _)) => {
                                return Err(DataError::DuplicateId {
                                    path: class.path.clone(),
                                    line,
                                    record: record.id.clone(),
                                    first_path: files[first_file].clone(),
                                    first_line,
                                });
                            }
                            None => {
                                ids.insert(record.id.clone(), (file, line, content));
                            }
                        }
                    }
                    sequences
                }
                Format::Lines => read_sequence_lines(&class.path)?,
                Format::Table | Format::Auto | Format::Matrix => {
                    return Err(DataError::Config {
                        field: "classes",
                        message: format!(
                            "{} looks like a table; per-class files must be FASTA or one sequence per line",
                            class.path.display()
                        ),
                    });
                }
            };
            records.extend(sequences.into_iter().map(|record| RawRecord {
                label: RawLabel::Single { text: class.label.clone(), file, line: record.location.line },
                id: record.id,
                sequence: record.sequence,
                values: Vec::new(),
                location: record.location,
                file,
                split: None,
            }));
        }
        return Ok(RawSource { records, task_names: Vec::new(), columns: None });
    }
    let Some(input) = &source.input else {
        return Err(DataError::Config { field: "input", message: "no input file given".into() });
    };
    let file = register(files, input);
    match resolve_format(source.format, input)? {
        Format::Lines => read_lines_pair(input, file, source, files, require_labels),
        Format::Fasta => read_fasta_with_labels(input, file, source, files, require_labels),
        Format::Table | Format::Auto => read_table_source(input, file, source, require_labels),
        Format::Matrix => read_matrix_source(input, file, source, files, require_labels),
    }
}

fn register(files: &mut Vec<PathBuf>, path: &Path) -> usize {
    files.push(path.to_path_buf());
    files.len() - 1
}

/// File extensions (before any `.gz`/`.bgz`) that name a FASTA file.
const FASTA_EXTENSIONS: [&str; 7] = ["fa", "fasta", "fas", "fna", "faa", "ffn", "frn"];

/// Whether the file name says FASTA (`x.fa`, `x.fasta.gz`, ...).
fn has_fasta_extension(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").or_else(|| name.strip_suffix(".bgz")).unwrap_or(&name);
    name.rsplit_once('.').is_some_and(|(_, extension)| FASTA_EXTENSIONS.contains(&extension))
}

/// Resolve `auto`: a FASTA file name means FASTA (so that a broken FASTA file gets FASTA's
/// errors), otherwise the first non-blank line decides.
pub(crate) fn resolve_format(format: Format, path: &Path) -> Result<Format, DataError> {
    if format != Format::Auto {
        return Ok(format);
    }
    if has_fasta_extension(path) {
        return Ok(Format::Fasta);
    }
    let mut reader = omix_io::open(path)?;
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        number += 1;
        let read = reader.read_until(b'\n', &mut line).map_err(|source| IoError::Read {
            path: path.to_path_buf(),
            line: number,
            source,
        })?;
        if read == 0 {
            return Err(IoError::Empty { path: path.to_path_buf() }.into());
        }
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() || (trimmed.starts_with(b"#") && !trimmed.contains(&b'\t')) {
            continue;
        }
        return Ok(if trimmed.starts_with(b">") || trimmed.starts_with(b";") {
            Format::Fasta
        } else if trimmed.contains(&b'\t') || trimmed.contains(&b',') {
            Format::Table
        } else {
            Format::Lines
        });
    }
}

fn read_lines_pair(
    input: &Path,
    file: usize,
    source: &SourceConfig,
    files: &mut Vec<PathBuf>,
    require_labels: bool,
) -> Result<RawSource, DataError> {
    let sequences = read_sequence_lines(input)?;
    if source.labels.is_none() && !require_labels {
        return Ok(unlabelled(sequences, file));
    }
    let Some(labels_path) = &source.labels else {
        return Err(DataError::Config {
            field: "labels",
            message: format!(
                "{} has one sequence per line; give the labels file (one label per line) with `labels` or --labels",
                input.display()
            ),
        });
    };
    let labels = read_label_lines(labels_path)?;
    let labels_file = register(files, labels_path);
    if labels.len() != sequences.len() {
        return Err(DataError::LabelCountMismatch {
            sequences_path: input.to_path_buf(),
            sequences: sequences.len(),
            labels_path: labels_path.clone(),
            labels: labels.len(),
        });
    }
    let records = sequences
        .into_iter()
        .zip(labels)
        .map(|(record, label)| RawRecord {
            label: RawLabel::Single { text: label.label, file: labels_file, line: label.line },
            id: record.id,
            sequence: record.sequence,
            values: Vec::new(),
            location: record.location,
            file,
            split: None,
        })
        .collect();
    Ok(RawSource { records, task_names: Vec::new(), columns: None })
}

fn read_fasta_with_labels(
    input: &Path,
    file: usize,
    source: &SourceConfig,
    files: &mut Vec<PathBuf>,
    require_labels: bool,
) -> Result<RawSource, DataError> {
    let sequences = read_fasta(input)?;
    if source.labels.is_none() && !require_labels {
        return Ok(unlabelled(sequences, file));
    }
    let Some(labels_path) = &source.labels else {
        return Err(DataError::Config {
            field: "labels",
            message: format!(
                "{} is FASTA; give labels as a table keyed by record id (`labels`, --labels) or one FASTA per class (`classes`, --class NAME=FILE)",
                input.display()
            ),
        });
    };
    let labels = read_label_table(labels_path, source.id_column.as_deref(), source.label_column.as_deref())?;
    let labels_file = register(files, labels_path);
    let mut by_id: HashMap<&str, (&str, u64, bool)> = HashMap::with_capacity(labels.len());
    for label in &labels {
        by_id.insert(label.id.as_str(), (label.label.as_str(), label.line, false));
    }
    let mut records = Vec::with_capacity(sequences.len());
    for record in sequences {
        let Some(entry) = by_id.get_mut(record.id.as_str()) else {
            return Err(DataError::UnlabelledRecord {
                path: input.to_path_buf(),
                line: record.location.line.saturating_sub(1),
                record: record.id,
                labels_path: labels_path.clone(),
            });
        };
        entry.2 = true;
        records.push(RawRecord {
            label: RawLabel::Single { text: entry.0.to_string(), file: labels_file, line: entry.1 },
            id: record.id,
            sequence: record.sequence,
            values: Vec::new(),
            location: record.location,
            file,
            split: None,
        });
    }
    if let Some(orphan) = labels.iter().find(|label| by_id.get(label.id.as_str()).is_some_and(|e| !e.2)) {
        return Err(DataError::OrphanLabel {
            labels_path: labels_path.clone(),
            line: orphan.line,
            record: orphan.id.clone(),
            path: input.to_path_buf(),
        });
    }
    Ok(RawSource { records, task_names: Vec::new(), columns: None })
}

/// A column role: what it holds, its conventional names, and the `[data]` setting that names it.
struct Role {
    what: &'static str,
    conventional: &'static [&'static str],
    option: &'static str,
}

const SEQUENCE_COLUMN: Role =
    Role { what: "sequence", conventional: &["seq", "sequence", "sequences"], option: "seq_column" };
const LABEL_COLUMN: Role =
    Role { what: "label", conventional: &["label", "class", "bound", "y", "target"], option: "label_column" };
const ID_COLUMN: Role = Role { what: "id", conventional: &["id", "name", "eventid"], option: "id_column" };

/// Find a column by name, or the first of its role's conventional names; `required` makes a
/// missing one an error.
fn find_column(table: &Table, name: Option<&str>, role: &Role, required: bool) -> Result<Option<usize>, DataError> {
    if let Some(name) = name {
        return Ok(Some(table.column(name)?));
    }
    let found = table.header.iter().position(|column| role.conventional.iter().any(|c| column.eq_ignore_ascii_case(c)));
    if found.is_none() && required {
        return Err(DataError::NoColumn {
            path: table.path.clone(),
            what: role.what,
            looked_for: role.conventional.iter().map(|c| (*c).to_string()).collect(),
            available: table.header.clone(),
            option: role.option,
        });
    }
    Ok(found)
}

/// Refuse a table whose id column repeats an id, naming both lines.
fn refuse_duplicate_ids(table: &Table, column: usize) -> Result<(), DataError> {
    let mut seen: HashMap<&str, u64> = HashMap::with_capacity(table.rows.len());
    for row in &table.rows {
        if let Some(&first_line) = seen.get(row.fields[column].as_str()) {
            return Err(DataError::DuplicateId {
                path: table.path.clone(),
                line: row.line,
                record: row.fields[column].clone(),
                first_path: table.path.clone(),
                first_line,
            });
        }
        seen.insert(row.fields[column].as_str(), row.line);
    }
    Ok(())
}

fn unlabelled(sequences: Vec<omix_io::SequenceRecord>, file: usize) -> RawSource {
    let records = sequences
        .into_iter()
        .map(|record| RawRecord {
            id: record.id,
            sequence: record.sequence,
            values: Vec::new(),
            location: record.location,
            file,
            label: RawLabel::None,
            split: None,
        })
        .collect();
    RawSource { records, task_names: Vec::new(), columns: None }
}

fn read_table_source(
    input: &Path,
    file: usize,
    source: &SourceConfig,
    require_labels: bool,
) -> Result<RawSource, DataError> {
    let table = Table::read(input)?;
    let seq = find_column(&table, source.seq_column.as_deref(), &SEQUENCE_COLUMN, true)?.unwrap_or_default();
    let id = find_column(&table, source.id_column.as_deref(), &ID_COLUMN, false)?;
    let split = match &source.split_column {
        Some(name) => Some(table.column(name)?),
        None => None,
    };
    let (label, tasks) = if source.label_columns.is_empty() {
        let label = find_column(&table, source.label_column.as_deref(), &LABEL_COLUMN, require_labels)?;
        (label, Vec::new())
    } else {
        let mut tasks = Vec::with_capacity(source.label_columns.len());
        for name in &source.label_columns {
            tasks.push(table.column(name)?);
        }
        (None, tasks)
    };
    if let Some(column) = id {
        refuse_duplicate_ids(&table, column)?;
    }
    let mut records = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let id_text = match id {
            Some(column) => row.fields[column].clone(),
            None => format!("line{}", row.line),
        };
        let split = match split {
            Some(column) => Some(Split::parse(&row.fields[column]).ok_or_else(|| DataError::InvalidSplit {
                path: input.to_path_buf(),
                line: row.line,
                record: id_text.clone(),
                value: row.fields[column].clone(),
            })?),
            None => None,
        };
        let label = match label {
            Some(column) => RawLabel::Single { text: row.fields[column].clone(), file, line: row.line },
            None if tasks.is_empty() => RawLabel::None,
            None => RawLabel::Columns {
                texts: tasks.iter().map(|&column| row.fields[column].trim().to_string()).collect(),
                file,
                line: row.line,
            },
        };
        let location = Location { line: row.line, column: table.field_column(row, seq), line_width: 0 };
        records.push(RawRecord {
            id: id_text,
            sequence: row.fields[seq].trim().as_bytes().to_vec(),
            values: Vec::new(),
            location,
            file,
            label,
            split,
        });
    }
    Ok(RawSource { records, task_names: source.label_columns.clone(), columns: None })
}

/// Conventional names of a label table's sample-id column, for joining it to a matrix.
const SAMPLE_ID_COLUMN: Role = Role {
    what: "sample id",
    conventional: &["id", "index", "sample", "cell", "barcode", "name"],
    option: "id_column",
};

/// A numeric matrix (samples × features) and its labels: a table keyed by the matrix's row ids,
/// or, when the matrix has no id column, a table in the same row order.
fn read_matrix_source(
    input: &Path,
    file: usize,
    source: &SourceConfig,
    files: &mut Vec<PathBuf>,
    require_labels: bool,
) -> Result<RawSource, DataError> {
    let options = omix_io::MatrixOptions { id_column: source.id_column.clone(), ..omix_io::MatrixOptions::default() };
    let matrix = omix_io::read_matrix(input, &options)?;
    let width = matrix.width();
    let mut records: Vec<RawRecord> = (0..matrix.rows())
        .map(|row| RawRecord {
            id: matrix.row_ids[row].clone(),
            sequence: Vec::new(),
            values: matrix.row(row).to_vec(),
            location: Location { line: matrix.lines[row], column: 1, line_width: 0 },
            file,
            label: RawLabel::None,
            split: None,
        })
        .collect();
    let columns = Some(matrix.columns.clone());
    debug_assert!(records.iter().all(|r| r.values.len() == width));
    let Some(labels_path) = &source.labels else {
        if require_labels {
            return Err(DataError::Config {
                field: "labels",
                message: format!(
                    "{} is a matrix; give its labels as a table (`labels`, --labels) with a label column, keyed by sample id or in row order",
                    input.display()
                ),
            });
        }
        return Ok(RawSource { records, task_names: Vec::new(), columns });
    };
    let table = Table::read(labels_path)?;
    let labels_file = register(files, labels_path);
    let (label, tasks) = if source.label_columns.is_empty() {
        (find_column(&table, source.label_column.as_deref(), &LABEL_COLUMN, require_labels)?, Vec::new())
    } else {
        let mut tasks = Vec::with_capacity(source.label_columns.len());
        for name in &source.label_columns {
            tasks.push(table.column(name)?);
        }
        (None, tasks)
    };
    let label_of = |row: &omix_io::TableRow| match label {
        Some(column) => RawLabel::Single { text: row.fields[column].clone(), file: labels_file, line: row.line },
        None if tasks.is_empty() => RawLabel::None,
        None => RawLabel::Columns {
            texts: tasks.iter().map(|&column| row.fields[column].trim().to_string()).collect(),
            file: labels_file,
            line: row.line,
        },
    };
    // Generated ids (`row1`, `row2`, ...) mean the matrix has none: join by row order.
    let generated = matrix.row_ids.iter().enumerate().all(|(i, id)| *id == format!("row{}", i + 1));
    if generated {
        if table.rows.len() != records.len() {
            return Err(DataError::LabelCountMismatch {
                sequences_path: input.to_path_buf(),
                sequences: records.len(),
                labels_path: labels_path.clone(),
                labels: table.rows.len(),
            });
        }
        let id = find_column(&table, None, &SAMPLE_ID_COLUMN, false)?;
        for (record, row) in records.iter_mut().zip(&table.rows) {
            if let Some(column) = id {
                record.id = row.fields[column].clone();
            }
            record.label = label_of(row);
        }
    } else {
        let id = find_column(&table, None, &SAMPLE_ID_COLUMN, true)?.unwrap_or_default();
        refuse_duplicate_ids(&table, id)?;
        let mut by_id: HashMap<&str, (usize, bool)> = HashMap::with_capacity(table.rows.len());
        for (index, row) in table.rows.iter().enumerate() {
            by_id.insert(row.fields[id].as_str(), (index, false));
        }
        for record in &mut records {
            let Some(entry) = by_id.get_mut(record.id.as_str()) else {
                return Err(DataError::UnlabelledRecord {
                    path: input.to_path_buf(),
                    line: record.location.line,
                    record: record.id.clone(),
                    labels_path: labels_path.clone(),
                });
            };
            entry.1 = true;
            record.label = label_of(&table.rows[entry.0]);
        }
        if let Some(orphan) = table.rows.iter().find(|row| by_id.get(row.fields[id].as_str()).is_some_and(|e| !e.1)) {
            return Err(DataError::OrphanLabel {
                labels_path: labels_path.clone(),
                line: orphan.line,
                record: orphan.fields[id].clone(),
                path: input.to_path_buf(),
            });
        }
    }
    Ok(RawSource { records, task_names: source.label_columns.clone(), columns })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fasta_file_names_mean_fasta() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        for name in ["a.fa", "b.FASTA", "c.fna.gz", "d.fa.bgz"] {
            let path = dir.path().join(name);
            // Content that would otherwise read as one sequence per line.
            std::fs::write(&path, "ACGT\n>r1\nACGT\n")?;
            assert_eq!(resolve_format(Format::Auto, &path)?, Format::Fasta, "{name}");
        }
        let path = dir.path().join("seqs.txt");
        std::fs::write(&path, "ACGT\n")?;
        assert_eq!(resolve_format(Format::Auto, &path)?, Format::Lines);
        let path = dir.path().join("fa");
        std::fs::write(&path, "ACGT\n")?;
        assert_eq!(resolve_format(Format::Auto, &path)?, Format::Lines);
        Ok(())
    }

    #[test]
    fn duplicate_ids_are_refused_with_both_places() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let write = |name: &str, text: &str| -> std::io::Result<PathBuf> {
            let path = dir.path().join(name);
            std::fs::write(&path, text)?;
            Ok(path)
        };
        let pos = write("pos.fa", ">a\nACGT\n>b\nACGA\n")?;
        let neg = write("neg.fa", ">c\nTTGA\n>a\nTTGC\n")?;
        let within = write("within.fa", ">c\nTTGA\n>c\nTTGC\n")?;
        // The same record listed twice, within a file and across the files, is not ambiguous.
        let again = write("again.fa", ">c\nTTGA\n>c\nTTGA\n>a\nACGT\n")?;
        let class = |label: &str, path: &PathBuf| crate::ClassFile { label: label.into(), path: path.clone() };
        let source = SourceConfig { classes: vec![class("pos", &pos), class("neg", &neg)], ..SourceConfig::default() };
        let Err(error) = read_source(&source, &mut Vec::new(), true) else {
            return Err("duplicate ids across class files were accepted".into());
        };
        let text = error.to_string();
        assert!(text.contains("neg.fa:3: duplicate id \"a\"") && text.contains("pos.fa:1)"), "{text}");
        let source =
            SourceConfig { classes: vec![class("pos", &pos), class("neg", &within)], ..SourceConfig::default() };
        let Err(error) = read_source(&source, &mut Vec::new(), true) else {
            return Err("duplicate ids within a class file were accepted".into());
        };
        assert!(
            error.to_string().contains("within.fa:3: duplicate id \"c\" (first seen at")
                && error.to_string().contains("within.fa:1)"),
            "{error}"
        );
        let source =
            SourceConfig { classes: vec![class("pos", &pos), class("neg", &again)], ..SourceConfig::default() };
        assert_eq!(read_source(&source, &mut Vec::new(), true)?.records.len(), 5, "repeated identical records");
        let table = write("t.tsv", "id\tseq\tlabel\nr1\tACGT\t1\nr2\tACGA\t0\nr1\tTTGA\t0\n")?;
        let source = SourceConfig { input: Some(table), ..SourceConfig::default() };
        let Err(error) = read_source(&source, &mut Vec::new(), true) else {
            return Err("duplicate ids in a table were accepted".into());
        };
        assert!(error.to_string().contains("t.tsv:4: duplicate id \"r1\" (first seen at"), "{error}");
        Ok(())
    }

    #[test]
    fn missing_label_column_names_the_choices() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("t.tsv");
        std::fs::write(&path, "id\tseq\tscore\na\tACGT\t0.5\n")?;
        let source = SourceConfig { input: Some(path), ..SourceConfig::default() };
        let Err(error) = read_source(&source, &mut Vec::new(), true) else {
            return Err("expected an error".into());
        };
        assert!(matches!(error, DataError::NoColumn { what: "label", .. }), "{error}");
        let text = error.to_string();
        assert!(
            text.contains("t.tsv") && text.contains("'id', 'seq', 'score'") && text.contains("--label-column"),
            "{text}"
        );
        // Without labels required (prediction input) the table reads.
        assert_eq!(read_source(&source, &mut Vec::new(), false)?.records.len(), 1);
        Ok(())
    }
}
