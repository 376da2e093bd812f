//! Reading and writing motifs in the MEME minimal motif format.
//!
//! The format (<https://meme-suite.org/meme/doc/meme-format.html>):
//!
//! ```text
//! MEME version 4
//!
//! ALPHABET= ACGT
//!
//! strands: + -
//!
//! Background letter frequencies
//! A 0.25 C 0.25 G 0.25 T 0.25
//!
//! MOTIF MA0004.1 Arnt
//! letter-probability matrix: alength= 4 w= 6 nsites= 20 E= 0
//! 0.200000 0.800000 0.000000 0.000000
//! ...
//! URL http://jaspar.genereg.net/matrix/MA0004.1
//! ```

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use crate::MotifError;

/// The DNA letters, in MEME's (and omix's channel) order.
const DNA_LETTERS: &str = "ACGT";
/// The protein letters, in MEME's order.
const PROTEIN_LETTERS: &str = "ACDEFGHIKLMNPQRSTVWY";
/// How far a probability row (or the background) may sum from 1.
pub const ROW_SUM_TOLERANCE: f64 = 0.02;

/// One motif: a position probability matrix with its names.
#[derive(Debug, Clone, PartialEq)]
pub struct Motif {
    /// The motif id (first word after `MOTIF`), e.g. `MA0004.1`.
    pub id: String,
    /// The alternative name (second word after `MOTIF`), e.g. `Arnt`.
    pub name: Option<String>,
    /// One row per position (`w` rows), one probability per letter (`alength` columns).
    pub probabilities: Vec<Vec<f64>>,
    /// The number of sites the motif was built from (`nsites=`).
    pub sites: Option<f64>,
    /// The motif's E-value (`E=`).
    pub e_value: Option<f64>,
    /// A link to the motif's description (`URL`).
    pub url: Option<String>,
}

impl Motif {
    /// A motif with only an id and its probabilities.
    pub fn new(id: impl Into<String>, probabilities: Vec<Vec<f64>>) -> Self {
        Motif { id: id.into(), name: None, probabilities, sites: None, e_value: None, url: None }
    }

    /// The number of positions (`w`).
    pub fn width(&self) -> usize {
        self.probabilities.len()
    }

    /// The number of letters per position (`alength`; 0 for a motif without rows).
    pub fn alphabet_length(&self) -> usize {
        self.probabilities.first().map_or(0, Vec::len)
    }

    /// `id_name`, or `id` when there is no name.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{}_{name}", self.id),
            None => self.id.clone(),
        }
    }
}

/// The content of a MEME file.
#[derive(Debug, Clone, PartialEq)]
pub struct MotifSet {
    /// The alphabet's letters in column order (`ACGT` for DNA).
    pub alphabet_letters: String,
    /// Background letter frequencies in column order (uniform when the file gives none).
    pub background: Vec<f64>,
    /// The motifs, in file order.
    pub motifs: Vec<Motif>,
}

/// Read a MEME minimal-format file (plain or gzip).
///
/// Recognised: the `MEME version` line (required), `ALPHABET=` (`ACGT`, `ACGU` or the 20
/// amino acids; without it the alphabet follows the first motif's `alength`), `strands:`,
/// `Background letter frequencies` (pairs on the following lines), and per motif `MOTIF id
/// [name]`, `letter-probability matrix:` with `alength=`, `w=`, `nsites=` and `E=` followed
/// by the rows, an optional `log-odds matrix:` (skipped) and `URL`. Errors name the file and
/// line: a row not summing to 1 within [`ROW_SUM_TOLERANCE`], a row with the wrong number of
/// values, a row count that differs from `w=`, a duplicate motif id, a file without motifs,
/// or any line that is none of these.
pub fn read_meme(path: &Path) -> Result<MotifSet, MotifError> {
    let reader = omix_io::open(path)?;
    read_meme_from(reader, path)
}

/// Read MEME minimal format from `reader`; `path` names the source in errors.
pub fn read_meme_from(reader: impl BufRead, path: &Path) -> Result<MotifSet, MotifError> {
    let mut parser = Parser::new(path);
    for (index, line) in reader.lines().enumerate() {
        let number = index as u64 + 1;
        let line = line.map_err(|source| {
            MotifError::Io(omix_io::IoError::Read { path: path.to_path_buf(), line: number, source })
        })?;
        parser.line(number, &line)?;
    }
    parser.finish()
}

/// Write motifs in MEME minimal format (version 4, both strands).
///
/// The alphabet is DNA (`ACGT`) for 4 background values and protein for 20. `nsites=` and
/// `E=` are written when the motif has them, `URL` likewise. Probabilities are written with
/// six decimals.
pub fn write_meme(motifs: &[Motif], background: &[f64], out: &mut impl Write) -> Result<(), MotifError> {
    let letters = match background.len() {
        4 => DNA_LETTERS,
        20 => PROTEIN_LETTERS,
        _ => {
            return Err(MotifError::InvalidBackground {
                values: background.to_vec(),
                reason: "need 4 (DNA) or 20 (protein) frequencies".to_owned(),
            });
        }
    };
    for motif in motifs {
        if motif.probabilities.iter().any(|row| row.len() != letters.len()) {
            return Err(MotifError::MotifAlphabet {
                motif: motif.id.clone(),
                alength: motif.probabilities.iter().map(Vec::len).find(|&l| l != letters.len()).unwrap_or(0),
                expected: letters.len(),
            });
        }
        if motif.id.is_empty() || motif.id.contains(char::is_whitespace) {
            return Err(MotifError::InvalidMotifId { motif: motif.id.clone() });
        }
    }
    writeln!(out, "MEME version 4\n")?;
    writeln!(out, "ALPHABET= {letters}\n")?;
    if letters == DNA_LETTERS {
        writeln!(out, "strands: + -\n")?;
    }
    writeln!(out, "Background letter frequencies")?;
    let pairs: Vec<String> = letters.chars().zip(background).map(|(l, f)| format!("{l} {f:.6}")).collect();
    writeln!(out, "{}\n", pairs.join(" "))?;
    for motif in motifs {
        match &motif.name {
            Some(name) if !name.is_empty() => {
                writeln!(out, "MOTIF {} {}", motif.id, name.replace(char::is_whitespace, "_"))?
            }
            _ => writeln!(out, "MOTIF {}", motif.id)?,
        }
        write!(out, "letter-probability matrix: alength= {} w= {}", letters.len(), motif.width())?;
        if let Some(sites) = motif.sites {
            write!(out, " nsites= {sites}")?;
        }
        if let Some(e_value) = motif.e_value {
            if e_value == 0.0 || (1e-4..1e6).contains(&e_value.abs()) {
                write!(out, " E= {e_value}")?;
            } else {
                write!(out, " E= {e_value:e}")?;
            }
        }
        writeln!(out)?;
        for row in &motif.probabilities {
            let cells: Vec<String> = row.iter().map(|p| format!("{p:.6}")).collect();
            writeln!(out, "{}", cells.join(" "))?;
        }
        if let Some(url) = &motif.url {
            writeln!(out, "URL {url}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// A matrix being read.
struct OpenMatrix {
    /// Rows declared by `w=`, if given.
    declared: Option<usize>,
    /// Values per row declared by `alength=`, if given.
    alength: Option<usize>,
    /// Whether the rows are log-odds (read and dropped) rather than probabilities.
    skip: bool,
    /// Rows read (or skipped) so far.
    rows: usize,
}

/// The MEME parser's state.
struct Parser {
    path: PathBuf,
    version: bool,
    letters: Option<String>,
    /// Background pairs read so far, and whether more are expected.
    background: Vec<(char, f64)>,
    reading_background: bool,
    /// The line of the last background pair.
    background_line: u64,
    motifs: Vec<Motif>,
    /// The line each motif id was first seen on.
    ids: HashMap<String, u64>,
    /// Whether the current (last) motif has its probability matrix.
    has_matrix: bool,
    /// The line of the current motif's `MOTIF` line.
    motif_line: u64,
    matrix: Option<OpenMatrix>,
    /// The number of the last line read (what an error at the end of the file names).
    last_line: u64,
}

impl Parser {
    fn new(path: &Path) -> Self {
        Parser {
            path: path.to_path_buf(),
            version: false,
            letters: None,
            background: Vec::new(),
            reading_background: false,
            background_line: 0,
            motifs: Vec::new(),
            ids: HashMap::new(),
            has_matrix: true,
            motif_line: 0,
            matrix: None,
            last_line: 0,
        }
    }

    fn error(&self, line: u64, message: impl Into<String>) -> MotifError {
        MotifError::Meme { path: self.path.clone(), line, message: message.into() }
    }

    fn current_id(&self) -> String {
        self.motifs.last().map(|m| m.id.clone()).unwrap_or_default()
    }

    fn line(&mut self, number: u64, raw: &str) -> Result<(), MotifError> {
        self.last_line = number;
        let line = raw.trim_start_matches('\u{feff}').trim();
        if self.matrix.is_some() && self.matrix_row(number, line)? {
            return Ok(());
        }
        if self.reading_background && self.background_pairs(number, line)? {
            return Ok(());
        }
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        if line.starts_with("MEME version") {
            self.version = true;
            return Ok(());
        }
        if !self.version {
            return Err(self.error(number, "not a MEME file: expected a 'MEME version' line first"));
        }
        if let Some(rest) = line.strip_prefix("ALPHABET=") {
            let letters = rest.trim().to_ascii_uppercase();
            if ![DNA_LETTERS, "ACGU", PROTEIN_LETTERS].contains(&letters.as_str()) {
                return Err(self.error(number, format!("unsupported alphabet '{letters}' (ACGT, ACGU or protein)")));
            }
            self.letters = Some(letters);
        } else if line.starts_with("ALPHABET") {
            return Err(self.error(number, "custom alphabet definitions are not supported (use ALPHABET= ACGT)"));
        } else if let Some(rest) = line.strip_prefix("strands:") {
            if !matches!(rest.split_whitespace().collect::<Vec<_>>()[..], ["+"] | ["+", "-"] | ["-", "+"]) {
                return Err(self.error(number, format!("bad strands '{}' (expected '+' or '+ -')", rest.trim())));
            }
        } else if line.starts_with("Background letter frequencies") {
            self.background.clear();
            self.reading_background = true;
        } else if let Some(rest) = line.strip_prefix("MOTIF") {
            self.start_motif(number, rest)?;
        } else if let Some(rest) = line.strip_prefix("letter-probability matrix:") {
            self.start_matrix(number, rest, false)?;
        } else if let Some(rest) = line.strip_prefix("log-odds matrix:") {
            self.start_matrix(number, rest, true)?;
        } else if let Some(rest) = line.strip_prefix("URL") {
            let Some(motif) = self.motifs.last_mut() else {
                return Err(self.error(number, "URL line before any MOTIF line"));
            };
            motif.url = Some(rest.trim().to_owned());
        } else if line.split_whitespace().all(|t| t.parse::<f64>().is_ok()) {
            let id = self.current_id();
            return Err(
                self.error(number, format!("a row of numbers outside a matrix (after the rows of motif '{id}')"))
            );
        } else {
            return Err(self.error(number, format!("unrecognised line '{}'", shorten(line))));
        }
        Ok(())
    }

    /// Read background pairs from `line`; `false` when the line is not (or no longer) part of them.
    fn background_pairs(&mut self, number: u64, line: &str) -> Result<bool, MotifError> {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.is_empty() {
            // A blank line ends the frequencies once some were read.
            self.reading_background = self.background.is_empty();
            return Ok(true);
        }
        let is_pair_start = tokens[0].chars().count() == 1 && tokens[0].chars().all(|c| c.is_ascii_alphabetic());
        if !is_pair_start {
            self.reading_background = false;
            return Ok(false);
        }
        if !tokens.len().is_multiple_of(2) {
            return Err(self.error(number, "background frequencies must be letter/frequency pairs"));
        }
        for pair in tokens.chunks(2) {
            let letter = pair[0].chars().next().unwrap_or(' ').to_ascii_uppercase();
            let Some(value) = pair[1].parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0) else {
                return Err(self.error(number, format!("bad background frequency '{}' for {letter}", pair[1])));
            };
            self.background.push((letter, value));
            self.background_line = number;
        }
        Ok(true)
    }

    fn start_motif(&mut self, number: u64, rest: &str) -> Result<(), MotifError> {
        self.reading_background = false;
        self.close_motif()?;
        let mut words = rest.split_whitespace();
        let Some(id) = words.next() else {
            return Err(self.error(number, "MOTIF line without an id"));
        };
        if let Some(&first_line) = self.ids.get(id) {
            return Err(MotifError::DuplicateMotif {
                path: self.path.clone(),
                line: number,
                motif: id.to_owned(),
                first_line,
            });
        }
        self.ids.insert(id.to_owned(), number);
        let name = words.next().map(str::to_owned);
        self.motifs.push(Motif::new(id, Vec::new()));
        if let Some(motif) = self.motifs.last_mut() {
            motif.name = name;
        }
        self.has_matrix = false;
        self.motif_line = number;
        Ok(())
    }

    fn start_matrix(&mut self, number: u64, rest: &str, skip: bool) -> Result<(), MotifError> {
        if self.motifs.is_empty() {
            return Err(self.error(number, "a matrix before any MOTIF line"));
        }
        if !skip && self.has_matrix {
            let id = self.current_id();
            return Err(self.error(number, format!("motif '{id}' has a second letter-probability matrix")));
        }
        let mut values: HashMap<String, String> = HashMap::new();
        let tokens: Vec<&str> = rest.split_whitespace().collect();
        let mut index = 0;
        while index < tokens.len() {
            let token = tokens[index];
            if let Some((key, value)) = token.split_once('=') {
                if value.is_empty() {
                    let Some(next) = tokens.get(index + 1) else {
                        return Err(self.error(number, format!("'{key}=' has no value")));
                    };
                    values.insert(key.to_owned(), (*next).to_owned());
                    index += 1;
                } else {
                    values.insert(key.to_owned(), value.to_owned());
                }
            }
            index += 1;
        }
        let count = |key: &str| -> Result<Option<usize>, MotifError> {
            values
                .get(key)
                .map(|v| {
                    v.parse::<usize>().map_err(|_| self.error(number, format!("'{key}= {v}' is not a whole number")))
                })
                .transpose()
        };
        let real = |key: &str| -> Result<Option<f64>, MotifError> {
            values
                .get(key)
                .map(|v| {
                    v.parse::<f64>()
                        .ok()
                        .filter(|x| !x.is_nan())
                        .ok_or_else(|| self.error(number, format!("'{key}= {v}' is not a number")))
                })
                .transpose()
        };
        let declared = count("w")?;
        let alength = count("alength")?;
        if !skip {
            let sites = real("nsites")?;
            let e_value = real("E")?;
            if let Some(motif) = self.motifs.last_mut() {
                motif.sites = sites;
                motif.e_value = e_value;
            }
            self.has_matrix = true;
        }
        if let (Some(alength), Some(letters)) = (alength, &self.letters)
            && alength != letters.len()
        {
            return Err(self.error(
                number,
                format!("alength= {alength} but the alphabet {letters} has {} letters", letters.len()),
            ));
        }
        if declared == Some(0) {
            return Err(self.error(number, format!("motif '{}' has w= 0", self.current_id())));
        }
        self.matrix = Some(OpenMatrix { declared, alength, skip, rows: 0 });
        Ok(())
    }

    /// Read one row of the open matrix from `line`; `false` when the matrix ended before it.
    fn matrix_row(&mut self, number: u64, line: &str) -> Result<bool, MotifError> {
        let Some(matrix) = self.matrix.as_mut() else { return Ok(false) };
        let numbers: Option<Vec<f64>> = line.split_whitespace().map(|t| t.parse::<f64>().ok()).collect();
        let numbers = numbers.filter(|n| !n.is_empty());
        let Some(row) = numbers else {
            // Not a row: the matrix is over, which is fine only if it has all its rows.
            let (declared, rows, skip) = (matrix.declared, matrix.rows, matrix.skip);
            self.matrix = None;
            if let Some(declared) = declared.filter(|&d| d != rows) {
                return Err(MotifError::MemeWidth {
                    path: self.path.clone(),
                    line: number,
                    motif: self.current_id(),
                    declared,
                    found: rows,
                });
            }
            if rows == 0 && !skip {
                return Err(self.error(number, format!("motif '{}' has a matrix without rows", self.current_id())));
            }
            return Ok(false);
        };
        matrix.rows += 1;
        let done = matrix.declared == Some(matrix.rows);
        let expected = matrix.alength.or(self.letters.as_ref().map(String::len));
        let skip = matrix.skip;
        if done {
            self.matrix = None;
        }
        if skip {
            return Ok(true);
        }
        let motif = self.current_id();
        let expected = expected.unwrap_or(row.len());
        if row.len() != expected {
            return Err(MotifError::MemeColumns {
                path: self.path.clone(),
                line: number,
                motif,
                expected,
                found: row.len(),
            });
        }
        if row.iter().any(|p| !p.is_finite() || *p < 0.0) {
            return Err(self.error(number, format!("row of motif '{motif}' has a negative or non-finite probability")));
        }
        let sum: f64 = row.iter().sum();
        if (sum - 1.0).abs() > ROW_SUM_TOLERANCE {
            return Err(MotifError::MemeRowSum {
                path: self.path.clone(),
                line: number,
                motif,
                sum,
                tolerance: ROW_SUM_TOLERANCE,
            });
        }
        if let Some(first) = self.motifs.last().and_then(|m| m.probabilities.first())
            && first.len() != row.len()
        {
            return Err(MotifError::MemeColumns {
                path: self.path.clone(),
                line: number,
                motif,
                expected: first.len(),
                found: row.len(),
            });
        }
        if let Some(current) = self.motifs.last_mut() {
            current.probabilities.push(row);
        }
        Ok(true)
    }

    /// Check that the current motif got its matrix (before the next one, or at the end).
    fn close_motif(&self) -> Result<(), MotifError> {
        if !self.has_matrix {
            let id = self.current_id();
            return Err(self.error(self.motif_line, format!("motif '{id}' has no letter-probability matrix")));
        }
        Ok(())
    }

    fn finish(mut self) -> Result<MotifSet, MotifError> {
        // A matrix cut short by the end of the file is reported at the file's last line.
        let end = self.last_line.max(1);
        if self.matrix.is_some() {
            // End of file: close the matrix as a blank line would.
            self.matrix_row(end, "")?;
        }
        self.close_motif()?;
        if !self.version {
            return Err(self.error(1, "not a MEME file: no 'MEME version' line"));
        }
        if self.motifs.is_empty() {
            return Err(MotifError::NoMotifs { path: self.path });
        }
        let alength = self.motifs[0].alphabet_length();
        let letters = match self.letters.take() {
            Some(letters) => letters,
            None if alength == 4 => DNA_LETTERS.to_owned(),
            None if alength == 20 => PROTEIN_LETTERS.to_owned(),
            None => {
                return Err(
                    self.error(self.motif_line, format!("no ALPHABET= line and alength {alength} is neither 4 nor 20"))
                );
            }
        };
        for motif in &self.motifs {
            if motif.alphabet_length() != letters.len() {
                return Err(MotifError::MotifAlphabet {
                    motif: motif.id.clone(),
                    alength: motif.alphabet_length(),
                    expected: letters.len(),
                });
            }
        }
        let background = if self.background.is_empty() {
            vec![1.0 / letters.len() as f64; letters.len()]
        } else {
            let mut values = Vec::with_capacity(letters.len());
            for letter in letters.chars() {
                let found = self.background.iter().find(|(l, _)| *l == letter || (letter == 'U' && *l == 'T'));
                let Some(&(_, value)) = found else {
                    return Err(
                        self.error(self.background_line, format!("no background frequency for letter {letter}"))
                    );
                };
                values.push(value);
            }
            let sum: f64 = values.iter().sum();
            if (sum - 1.0).abs() > ROW_SUM_TOLERANCE {
                return Err(self.error(
                    self.background_line,
                    format!(
                        "background frequencies {} sum to {sum}, not 1 (within {ROW_SUM_TOLERANCE})",
                        values.iter().map(f64::to_string).collect::<Vec<_>>().join(" ")
                    ),
                ));
            }
            values
        };
        Ok(MotifSet { alphabet_letters: letters, background, motifs: self.motifs })
    }
}

/// At most 60 characters of `line`, for messages.
fn shorten(line: &str) -> String {
    let mut short: String = line.chars().take(60).collect();
    if short.len() < line.len() {
        short.push_str("...");
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const FIXTURE: &str = include_str!("../tests/data/tiny.meme");

    fn parse(text: &str) -> Result<MotifSet, MotifError> {
        read_meme_from(text.as_bytes(), Path::new("test.meme"))
    }

    #[test]
    fn reads_the_fixture() -> TestResult {
        let set = parse(FIXTURE)?;
        assert_eq!(set.alphabet_letters, "ACGT");
        assert_eq!(set.background, [0.3, 0.2, 0.2, 0.3]);
        assert_eq!(set.motifs.len(), 3);
        let arnt = &set.motifs[0];
        assert_eq!((arnt.id.as_str(), arnt.name.as_deref()), ("MA0004.1", Some("Arnt")));
        assert_eq!(arnt.width(), 6);
        assert_eq!(arnt.probabilities[0], [0.2, 0.8, 0.0, 0.0]);
        assert_eq!((arnt.sites, arnt.e_value), (Some(20.0), Some(0.0)));
        assert_eq!(arnt.url.as_deref(), Some("http://jaspar.genereg.net/matrix/MA0004.1"));
        assert_eq!(arnt.label(), "MA0004.1_Arnt");
        let second = &set.motifs[1];
        assert_eq!((second.name.as_deref(), second.sites, second.e_value), (None, None, Some(3.2e-10)));
        assert_eq!(second.width(), 3);
        assert_eq!(set.motifs[2].width(), 2);
        Ok(())
    }

    #[test]
    fn round_trip() -> TestResult {
        let set = parse(FIXTURE)?;
        let mut written = Vec::new();
        write_meme(&set.motifs, &set.background, &mut written)?;
        let again = parse(std::str::from_utf8(&written)?)?;
        assert_eq!(again, set);
        let mut twice = Vec::new();
        write_meme(&again.motifs, &again.background, &mut twice)?;
        assert_eq!(written, twice);
        Ok(())
    }

    #[test]
    fn writes_learned_filters() -> TestResult {
        let mut motif = Motif::new("filter0", vec![vec![0.7, 0.1, 0.1, 0.1], vec![0.25; 4]]);
        motif.sites = Some(153.0);
        let mut written = Vec::new();
        write_meme(&[motif.clone()], &[0.25; 4], &mut written)?;
        let text = String::from_utf8(written)?;
        assert!(text.contains("MOTIF filter0\nletter-probability matrix: alength= 4 w= 2 nsites= 153\n"), "{text}");
        assert_eq!(parse(&text)?.motifs, [motif]);
        assert!(write_meme(&[Motif::new("x", vec![vec![1.0; 3]])], &[0.25; 4], &mut Vec::new()).is_err());
        assert!(write_meme(&[], &[0.5; 2], &mut Vec::new()).is_err());
        Ok(())
    }

    /// The fixture with `from` replaced by `to` must fail, naming `line` in the message.
    fn broken(from: &str, to: &str, line: u64) -> Result<MotifError, Box<dyn std::error::Error>> {
        assert!(FIXTURE.contains(from), "{from}");
        let text = FIXTURE.replacen(from, to, 1);
        let Err(e) = parse(&text) else {
            return Err(format!("expected an error after replacing {from:?}").into());
        };
        let message = e.to_string();
        assert!(message.contains("test.meme"), "{message}");
        assert!(message.contains(&format!("line {line}")), "{message}");
        Ok(e)
    }

    #[test]
    fn truncated_matrix_names_the_last_line() -> TestResult {
        let text = "MEME version 4\n\nALPHABET= ACGT\n\nMOTIF m1\nletter-probability matrix: alength= 4 w= 4\n0.25 0.25 0.25 0.25\n0.25 0.25 0.25 0.25\n";
        let Err(e) = read_meme_from(text.as_bytes(), Path::new("cut.meme")) else {
            return Err("a truncated matrix was accepted".into());
        };
        let message = e.to_string();
        assert!(message.contains("cut.meme, line 8: motif 'm1' declares w= 4 but has 2 rows"), "{message}");
        Ok(())
    }

    #[test]
    fn errors_name_file_and_line() -> TestResult {
        let e = broken("0.950000 0.000000 0.050000 0.000000", "0.950000 0.100000 0.050000 0.000000", 13)?;
        assert!(matches!(e, MotifError::MemeRowSum { line: 13, .. }), "{e}");
        let e = broken("0.950000 0.000000 0.050000 0.000000", "0.950000 0.050000", 13)?;
        assert!(matches!(e, MotifError::MemeColumns { expected: 4, found: 2, .. }), "{e}");
        let e = broken("w= 6", "w= 7", 18)?;
        assert!(matches!(e, MotifError::MemeWidth { declared: 7, found: 6, .. }), "{e}");
        let e = broken("w= 6", "w= 5", 17)?;
        assert!(e.to_string().contains("outside a matrix"), "{e}");
        let e = broken("MOTIF motif2", "MOTIF MA0004.1", 21)?;
        assert!(matches!(e, MotifError::DuplicateMotif { first_line: 10, .. }), "{e}");
        broken("MEME version 4", "MEMO version 4", 1)?;
        broken("ALPHABET= ACGT", "ALPHABET= XYZ", 3)?;
        broken("strands: + -", "strands: x", 5)?;
        broken("A 0.3 C 0.2", "A 0.5 C 0.2", 8)?;
        broken("URL http", "UR http", 18)?;
        let e = broken("MOTIF motif2", "MOTIF empty\n\nMOTIF motif2", 21)?;
        assert!(e.to_string().contains("no letter-probability matrix"), "{e}");
        broken("alength= 4 w= 3", "alength= 5 w= 3", 22)?;
        broken("nsites= 20", "nsites= many", 11)?;
        Ok(())
    }

    #[test]
    fn other_errors() -> TestResult {
        assert!(matches!(parse("MEME version 4\n\nALPHABET= ACGT\n"), Err(MotifError::NoMotifs { .. })));
        assert!(matches!(parse(""), Err(MotifError::Meme { .. })));
        let no_alphabet = "MEME version 4\nMOTIF a\nletter-probability matrix:\n0.5 0.5\n";
        assert!(parse(no_alphabet).is_err());
        let dir = tempfile::tempdir()?;
        let missing = dir.path().join("missing.meme");
        let Err(e) = read_meme(&missing) else {
            return Err("expected an error".into());
        };
        assert!(e.to_string().contains("missing.meme"), "{e}");
        Ok(())
    }

    #[test]
    fn lenient_where_the_format_allows() -> TestResult {
        // No alphabet, no background, no w=, rows ending at end of file; a log-odds matrix skipped.
        let text = "MEME version 5.5.0\nMOTIF m1 name1\nlog-odds matrix: alength= 4 w= 1\n1 2 3 4\n\
                    letter-probability matrix: alength=4\n0.1 0.2 0.3 0.4\n0.25 0.25 0.25 0.25";
        let set = parse(text)?;
        assert_eq!(set.background, [0.25; 4]);
        assert_eq!(set.motifs[0].width(), 2);
        Ok(())
    }

    #[test]
    fn reads_gzip_from_a_path() -> TestResult {
        use std::io::Write as _;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("tiny.meme");
        std::fs::File::create(&path)?.write_all(FIXTURE.as_bytes())?;
        assert_eq!(read_meme(&path)?.motifs.len(), 3);
        Ok(())
    }

    #[test]
    fn reads_jaspar() -> TestResult {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/jaspar/JASPAR2024_CORE_vertebrates_nonredundant.meme");
        if !path.exists() {
            println!("skipping: {} is absent", path.display());
            return Ok(());
        }
        let set = read_meme(&path)?;
        assert_eq!(set.motifs.len(), 879);
        assert_eq!(set.background, [0.25; 4]);
        assert_eq!(set.motifs[0].label(), "MA0002.3_Runx1");
        assert!(set.motifs.iter().all(|m| m.width() > 0 && m.alphabet_length() == 4));
        Ok(())
    }
}
