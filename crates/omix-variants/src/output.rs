//! Streaming score writers (TSV and VCF) and the log-odds ratio.
//!
//! Both writers report, per variant and task, the values of a list of [`EffectColumn`]s. A
//! classifier's are [`DIFFERENCE_COLUMNS`] (REF and ALT scores, their difference, its absolute
//! value, the log-odds ratio), computed here from one score per window ([`ScoreRecord`]); a model
//! whose effects are not a difference of window scores, such as a profile model
//! ([`PROFILE_COLUMNS`](crate::PROFILE_COLUMNS)), computes its own values and writes an
//! [`EffectRecord`].

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write;

use crate::{Variant, VariantError, VcfHeader};

/// The smallest probability [`log_odds_ratio`] uses; larger ones are clamped to `1 - CLAMP`.
const CLAMP: f64 = 1e-7;

/// `logit(alternative) - logit(reference)` with both probabilities clamped to `[1e-7, 1 - 1e-7]`.
///
/// Antisymmetric (`log_odds_ratio(a, b) == -log_odds_ratio(b, a)`) and finite for any finite
/// input; NaN stays NaN. Meaningful for probabilities only.
pub fn log_odds_ratio(reference: f64, alternative: f64) -> f64 {
    let logit = |p: f64| {
        let p = p.clamp(CLAMP, 1.0 - CLAMP);
        (p / (1.0 - p)).ln()
    };
    logit(alternative) - logit(reference)
}

/// One value the writers report per variant and task: its TSV column name, its VCF INFO key suffix
/// (after `<PREFIX>_<task>_`) and the description in its `##INFO` line (`Number=1,Type=Float`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectColumn {
    /// The TSV column name.
    pub name: &'static str,
    /// The VCF INFO key suffix.
    pub info_suffix: &'static str,
    /// What the value is, for the `##INFO` line (after "omix ", before " for task '…'").
    pub description: &'static str,
}

/// A classifier's columns: `ref_score`, `alt_score`, `diff` (`alt_score - ref_score`), `abs_diff`
/// and `log_odds_ratio` (INFO `REF`, `ALT`, `DIFF`, `ABSDIFF`, `LOR`).
pub const DIFFERENCE_COLUMNS: [EffectColumn; 5] = [
    EffectColumn { name: "ref_score", info_suffix: "REF", description: "score of the reference allele" },
    EffectColumn { name: "alt_score", info_suffix: "ALT", description: "score of the alternative allele" },
    EffectColumn { name: "diff", info_suffix: "DIFF", description: "alternative minus reference score" },
    EffectColumn {
        name: "abs_diff",
        info_suffix: "ABSDIFF",
        description: "absolute difference of the alternative and reference scores",
    },
    EffectColumn {
        name: "log_odds_ratio",
        info_suffix: "LOR",
        description: "log-odds ratio logit(alt) - logit(ref), probabilities clamped to [1e-7, 1-1e-7]",
    },
];

/// Append the [`DIFFERENCE_COLUMNS`] values of one task's REF and ALT scores to `out`.
pub(crate) fn push_difference(reference: f64, alternative: f64, out: &mut Vec<f64>) {
    let diff = alternative - reference;
    out.extend([reference, alternative, diff, diff.abs(), log_odds_ratio(reference, alternative)]);
}

/// The [`DIFFERENCE_COLUMNS`] values `[variants, outputs, 5]` of window scores `[windows, outputs]`
/// whose windows alternate REF, ALT, REF, ALT, …; an error unless the scores make whole pairs.
pub fn difference_effects(scores: &[f64], outputs: usize) -> Result<Vec<f64>, String> {
    if outputs == 0 || !scores.len().is_multiple_of(2 * outputs) {
        return Err(format!(
            "{} scores are not a whole number of REF/ALT window pairs of {outputs} output(s) each",
            scores.len()
        ));
    }
    let mut values = Vec::with_capacity(scores.len() / 2 * DIFFERENCE_COLUMNS.len());
    for pair in scores.chunks(2 * outputs) {
        let (reference, alternative) = pair.split_at(outputs);
        for (&r, &a) in reference.iter().zip(alternative) {
            push_difference(r, a, &mut values);
        }
    }
    Ok(values)
}

/// The scores of one variant for every task, as given to the writers.
#[derive(Debug, Clone, Copy)]
pub struct ScoreRecord<'a> {
    /// The variant scored.
    pub variant: &'a Variant,
    /// The task names, one per score.
    pub tasks: &'a [String],
    /// The score of the reference window, per task.
    pub reference: &'a [f64],
    /// The score of the alternative window, per task.
    pub alternative: &'a [f64],
}

impl ScoreRecord<'_> {
    /// An error unless there is one reference and one alternative score per task.
    fn check_shape(&self) -> Result<(), VariantError> {
        if self.reference.len() == self.tasks.len() && self.alternative.len() == self.tasks.len() {
            return Ok(());
        }
        Err(self.shape_error(format!(
            "{} task names but {} reference and {} alternative scores",
            self.tasks.len(),
            self.reference.len(),
            self.alternative.len()
        )))
    }

    /// A shape error about this record.
    fn shape_error(&self, message: String) -> VariantError {
        shape_error(self.variant, message)
    }

    /// The [`DIFFERENCE_COLUMNS`] values `[tasks, 5]` of this record (its shape checked first).
    fn difference_values(&self) -> Result<Vec<f64>, VariantError> {
        self.check_shape()?;
        let mut values = Vec::with_capacity(self.tasks.len() * DIFFERENCE_COLUMNS.len());
        for (&reference, &alternative) in self.reference.iter().zip(self.alternative) {
            push_difference(reference, alternative, &mut values);
        }
        Ok(values)
    }
}

/// A shape error about `variant`.
fn shape_error(variant: &Variant, message: String) -> VariantError {
    VariantError::ScoreShape { chrom: variant.chrom.clone(), pos: variant.pos, message }
}

/// The effects of one variant for every task, one value per task and [`EffectColumn`] of the writer,
/// as a model that computes its own pairwise values gives them to the writers.
#[derive(Debug, Clone, Copy)]
pub struct EffectRecord<'a> {
    /// The variant scored.
    pub variant: &'a Variant,
    /// The task names.
    pub tasks: &'a [String],
    /// `[tasks, columns]`, row-major: task 0's values in column order first.
    pub values: &'a [f64],
}

impl EffectRecord<'_> {
    /// An error unless there is one value per task and column.
    fn check_shape(&self, columns: &[EffectColumn]) -> Result<(), VariantError> {
        if self.values.len() == self.tasks.len() * columns.len() {
            return Ok(());
        }
        Err(shape_error(
            self.variant,
            format!(
                "{} values are not one per task ({}) and column ({}: {})",
                self.values.len(),
                self.tasks.len(),
                columns.len(),
                column_names(columns)
            ),
        ))
    }
}

/// `a, b, c`: the TSV names of `columns`.
fn column_names(columns: &[EffectColumn]) -> String {
    columns.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
}

/// The error for a [`ScoreRecord`] given to a writer of other columns than [`DIFFERENCE_COLUMNS`].
fn not_difference_columns(variant: &Variant, columns: &[EffectColumn]) -> VariantError {
    shape_error(
        variant,
        format!("REF/ALT scores given to a writer of the columns {}; give it an EffectRecord", column_names(columns)),
    )
}

/// Append `value` to `line` at `f32` precision (the precision models produce), shortest form
/// that reads back to the same `f32`; `NaN`, `inf`, `-inf` as Rust writes them.
fn push_number(line: &mut String, value: f64) {
    // Writing to a String cannot fail.
    let _ = write!(line, "{}", value as f32);
}

/// `text` with tabs and line ends replaced by spaces, so it stays one TSV field.
fn one_field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['\t', '\n', '\r']) { text.replace(['\t', '\n', '\r'], " ").into() } else { text.into() }
}

/// Writes one TSV line per variant and task: `chrom pos id ref alt task`, then one column per
/// [`EffectColumn`]; by default a classifier's
/// `ref_score alt_score diff abs_diff log_odds_ratio` ([`DIFFERENCE_COLUMNS`]).
///
/// `diff` is `alt_score - ref_score`. Each line is one `write_all`; wrap files in a `BufWriter`.
pub struct TsvScoreWriter<W: Write> {
    out: W,
    columns: &'static [EffectColumn],
    line: String,
    lines: u64,
}

impl<W: Write> TsvScoreWriter<W> {
    /// The column names of the header line.
    pub const COLUMNS: [&'static str; 11] =
        ["chrom", "pos", "id", "ref", "alt", "task", "ref_score", "alt_score", "diff", "abs_diff", "log_odds_ratio"];

    /// A writer of [`DIFFERENCE_COLUMNS`] that starts by writing the header line.
    pub fn new(out: W) -> Result<Self, VariantError> {
        Self::with_columns(out, &DIFFERENCE_COLUMNS)
    }

    /// A writer of `columns` that starts by writing the header line.
    pub fn with_columns(out: W, columns: &'static [EffectColumn]) -> Result<Self, VariantError> {
        let mut writer = Self::resume_with_columns(out, columns, 0);
        writer.line.push_str(&Self::COLUMNS[..6].join("\t"));
        for column in columns {
            writer.line.push('\t');
            writer.line.push_str(column.name);
        }
        writer.line.push('\n');
        writer.flush_line()?;
        Ok(writer)
    }

    /// A writer of [`DIFFERENCE_COLUMNS`] appending to an output that already holds `lines` lines
    /// (header included); writes no header.
    pub fn resume(out: W, lines: u64) -> Self {
        Self::resume_with_columns(out, &DIFFERENCE_COLUMNS, lines)
    }

    /// A writer of `columns` appending to an output that already holds `lines` lines (header
    /// included); writes no header.
    pub fn resume_with_columns(out: W, columns: &'static [EffectColumn], lines: u64) -> Self {
        TsvScoreWriter { out, columns, line: String::with_capacity(256), lines }
    }

    /// Write one line per task of `record` (a writer of [`DIFFERENCE_COLUMNS`]).
    pub fn write(&mut self, record: &ScoreRecord) -> Result<(), VariantError> {
        let values = record.difference_values()?;
        if self.columns != DIFFERENCE_COLUMNS {
            return Err(not_difference_columns(record.variant, self.columns));
        }
        self.write_effects(&EffectRecord { variant: record.variant, tasks: record.tasks, values: &values })
    }

    /// Write one line per task of `record`, its values in the writer's column order.
    pub fn write_effects(&mut self, record: &EffectRecord) -> Result<(), VariantError> {
        record.check_shape(self.columns)?;
        let v = record.variant;
        let width = self.columns.len();
        for (k, task) in record.tasks.iter().enumerate() {
            let _ = write!(
                self.line,
                "{}\t{}\t{}\t{}\t{}\t{}\t",
                v.chrom,
                v.pos,
                v.id,
                v.reference,
                v.alternative,
                one_field(task)
            );
            for &value in &record.values[k * width..(k + 1) * width] {
                push_number(&mut self.line, value);
                self.line.push('\t');
            }
            self.line.pop();
            self.line.push('\n');
            self.flush_line()?;
        }
        Ok(())
    }

    /// How many lines the output holds (the `lines` given to [`resume`](Self::resume) plus those written).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Flush the output (for checkpoints).
    pub fn flush(&mut self) -> Result<(), VariantError> {
        self.out.flush()?;
        Ok(())
    }

    /// Flush and return the output.
    pub fn finish(mut self) -> Result<W, VariantError> {
        self.out.flush()?;
        Ok(self.out)
    }

    /// Write the line buffer (one line) and clear it.
    fn flush_line(&mut self) -> Result<(), VariantError> {
        self.out.write_all(self.line.as_bytes())?;
        self.line.clear();
        self.lines += 1;
        Ok(())
    }
}

/// The default INFO key prefix.
pub const DEFAULT_INFO_PREFIX: &str = "OMIX";

/// `name` with every character outside `[A-Za-z0-9_]` replaced by `_`.
pub fn sanitise_info_key(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// `text` with `\` and `"` escaped, for a quoted VCF header value.
fn escape_quoted(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Writes a sites-only VCF: the input header with `##INFO` lines for the scores, then one
/// record per scored variant (so per ALT allele) with the scores added to INFO.
///
/// Per task `t` (sanitised to `[A-Za-z0-9_]`) and [`EffectColumn`] the key is
/// `<PREFIX>_t_<info_suffix>`, `Number=1,Type=Float`: by default ([`DIFFERENCE_COLUMNS`])
/// `<PREFIX>_t_REF`, `_ALT`, `_DIFF`, `_ABSDIFF` and `_LOR`. A record split from a multi-allelic one
/// also gets `<PREFIX>_ALT_INDEX` (1-based ALT number in the input). Keys the writer adds replace
/// same-named `##INFO` lines and INFO entries already in the input, so re-scoring a scored VCF
/// does not duplicate them; other INFO entries are copied as they are (Number=A/R values of a
/// split record still list every ALT). An INFO of `.` is replaced.
///
/// FORMAT and sample columns are dropped: genotypes would be wrong once ALTs are split, and
/// scores do not need them. The `#CHROM` line is written with the eight fixed columns; lines
/// starting with a single `#` other than `#CHROM` are dropped; `##fileformat=VCFv4.2` is
/// added when the header does not start with a `##fileformat` line.
pub struct VcfScoreWriter<W: Write> {
    out: W,
    columns: &'static [EffectColumn],
    tasks: Vec<String>,
    /// Per task, the key prefix `<PREFIX>_<task>`.
    keys: Vec<String>,
    /// Every INFO key this writer adds.
    own_keys: HashSet<String>,
    alt_index_key: String,
    line: String,
    lines: u64,
}

impl<W: Write> VcfScoreWriter<W> {
    /// A writer using the `OMIX` key prefix that starts by writing the header.
    pub fn new(out: W, header: &VcfHeader, tasks: &[String]) -> Result<Self, VariantError> {
        Self::with_prefix(out, header, tasks, DEFAULT_INFO_PREFIX)
    }

    /// A writer using INFO keys `<prefix>_<task>_...` (the prefix sanitised too) that starts by writing the header.
    pub fn with_prefix(out: W, header: &VcfHeader, tasks: &[String], prefix: &str) -> Result<Self, VariantError> {
        Self::with_columns(out, header, tasks, prefix, &DIFFERENCE_COLUMNS)
    }

    /// A writer of `columns` using INFO keys `<prefix>_<task>_<suffix>` that starts by writing the header.
    pub fn with_columns(
        out: W,
        header: &VcfHeader,
        tasks: &[String],
        prefix: &str,
        columns: &'static [EffectColumn],
    ) -> Result<Self, VariantError> {
        let mut writer = Self::resume_with_columns(out, tasks, prefix, columns, 0)?;
        writer.write_header(header)?;
        Ok(writer)
    }

    /// A writer of [`DIFFERENCE_COLUMNS`] appending to an output that already holds `lines` lines
    /// (header included); writes no header.
    pub fn resume(out: W, tasks: &[String], prefix: &str, lines: u64) -> Result<Self, VariantError> {
        Self::resume_with_columns(out, tasks, prefix, &DIFFERENCE_COLUMNS, lines)
    }

    /// A writer of `columns` appending to an output that already holds `lines` lines (header
    /// included); writes no header.
    pub fn resume_with_columns(
        out: W,
        tasks: &[String],
        prefix: &str,
        columns: &'static [EffectColumn],
        lines: u64,
    ) -> Result<Self, VariantError> {
        let prefix = sanitise_info_key(prefix);
        let mut keys = Vec::with_capacity(tasks.len());
        let mut owners: HashMap<String, &str> = HashMap::new();
        let alt_index_key = format!("{prefix}_ALT_INDEX");
        owners.insert(alt_index_key.clone(), "");
        for task in tasks {
            let key = format!("{prefix}_{}", sanitise_info_key(task));
            for column in columns {
                let suffix = column.info_suffix;
                if let Some(first) = owners.insert(format!("{key}_{suffix}"), task) {
                    return Err(VariantError::DuplicateInfoKey {
                        key: format!("{key}_{suffix}"),
                        first: first.to_owned(),
                        second: task.clone(),
                    });
                }
            }
            keys.push(key);
        }
        let own_keys = owners.into_keys().collect();
        Ok(VcfScoreWriter {
            out,
            columns,
            tasks: tasks.to_vec(),
            keys,
            own_keys,
            alt_index_key,
            line: String::with_capacity(1024),
            lines,
        })
    }

    /// Write the header: the input's meta lines, the score `##INFO` lines, the `#CHROM` line.
    fn write_header(&mut self, header: &VcfHeader) -> Result<(), VariantError> {
        if !header.lines.first().is_some_and(|line| line.starts_with("##fileformat=")) {
            self.write_header_line("##fileformat=VCFv4.2")?;
        }
        for line in &header.lines {
            if let Some(rest) = line.strip_prefix("##INFO=<ID=") {
                let id = rest.split([',', '>']).next().unwrap_or_default();
                if self.own_keys.contains(id) {
                    continue;
                }
            }
            if line.starts_with("##") {
                self.write_header_line(line)?;
            }
        }
        let mut info_lines = Vec::with_capacity(self.keys.len() * self.columns.len() + 1);
        info_lines.push(format!(
            "##INFO=<ID={},Number=1,Type=Integer,Description=\"1-based index of this ALT allele in the input record (multi-allelic records are split into one record per ALT)\">",
            self.alt_index_key
        ));
        for (task, key) in self.tasks.iter().zip(&self.keys) {
            for column in self.columns {
                info_lines.push(format!(
                    "##INFO=<ID={key}_{},Number=1,Type=Float,Description=\"omix {} for task '{}'\">",
                    column.info_suffix,
                    column.description,
                    escape_quoted(task)
                ));
            }
        }
        for line in &info_lines {
            self.write_header_line(line)?;
        }
        self.write_header_line(&format!("#{}", crate::vcf::VCF_COLUMNS.join("\t")))
    }

    /// Write one header line.
    fn write_header_line(&mut self, text: &str) -> Result<(), VariantError> {
        self.line.push_str(text);
        self.line.push('\n');
        self.flush_line()
    }

    /// Write the record of `record`'s variant with its scores in INFO (a writer of [`DIFFERENCE_COLUMNS`]).
    pub fn write(&mut self, record: &ScoreRecord) -> Result<(), VariantError> {
        let values = record.difference_values()?;
        if self.columns != DIFFERENCE_COLUMNS {
            return Err(not_difference_columns(record.variant, self.columns));
        }
        self.write_effects(&EffectRecord { variant: record.variant, tasks: record.tasks, values: &values })
    }

    /// Write the record of `record`'s variant with its values in INFO, in the writer's column order.
    pub fn write_effects(&mut self, record: &EffectRecord) -> Result<(), VariantError> {
        record.check_shape(self.columns)?;
        if record.tasks != self.tasks.as_slice() {
            return Err(shape_error(
                record.variant,
                format!(
                    "tasks {}, not the writer's {}",
                    record.tasks.iter().take(5).map(String::as_str).collect::<Vec<_>>().join(", "),
                    self.tasks.iter().take(5).map(String::as_str).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let v = record.variant;
        let column = |index: usize| match v.raw.get(index).map(String::as_str) {
            None | Some("") => ".",
            Some(text) => text,
        };
        let id = if v.id.is_empty() { "." } else { v.id.as_str() };
        let _ = write!(
            self.line,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t",
            v.chrom,
            v.pos,
            id,
            v.reference,
            v.alternative,
            column(5),
            column(6)
        );
        let mut first = true;
        let mut separate = |line: &mut String| {
            if !std::mem::take(&mut first) {
                line.push(';');
            }
        };
        for entry in column(7).split(';') {
            let key = entry.split_once('=').map_or(entry, |(key, _)| key);
            if entry.is_empty() || entry == "." || self.own_keys.contains(key) {
                continue;
            }
            separate(&mut self.line);
            self.line.push_str(entry);
        }
        if v.alt_count > 1 {
            separate(&mut self.line);
            let _ = write!(self.line, "{}={}", self.alt_index_key, v.alt_index + 1);
        }
        let width = self.columns.len();
        for (k, key) in self.keys.iter().enumerate() {
            for (column, &value) in self.columns.iter().zip(&record.values[k * width..(k + 1) * width]) {
                separate(&mut self.line);
                let _ = write!(self.line, "{key}_{}=", column.info_suffix);
                push_number(&mut self.line, value);
            }
        }
        if first {
            self.line.push('.');
        }
        self.line.push('\n');
        self.flush_line()
    }

    /// How many lines the output holds (the `lines` given to [`resume`](Self::resume) plus those written).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Flush the output (for checkpoints).
    pub fn flush(&mut self) -> Result<(), VariantError> {
        self.out.flush()?;
        Ok(())
    }

    /// Flush and return the output.
    pub fn finish(mut self) -> Result<W, VariantError> {
        self.out.flush()?;
        Ok(self.out)
    }

    /// Write the line buffer (one line) and clear it.
    fn flush_line(&mut self) -> Result<(), VariantError> {
        self.out.write_all(self.line.as_bytes())?;
        self.line.clear();
        self.lines += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vcf::tests::{SMALL_VCF, TestResult, write_file};
    use crate::{Variant, VcfReader};

    #[test]
    fn log_odds_ratio_is_antisymmetric_and_clamped() {
        assert_eq!(log_odds_ratio(0.5, 0.5), 0.0);
        assert!((log_odds_ratio(0.5, 0.75) - 3f64.ln()).abs() < 1e-12);
        for (a, b) in [(0.1, 0.9), (0.3, 0.31), (1e-9, 0.5), (0.0, 1.0), (-3.0, 7.0)] {
            assert_eq!(log_odds_ratio(a, b), -log_odds_ratio(b, a));
        }
        let bound = ((1.0 - CLAMP) / CLAMP).ln();
        assert!((log_odds_ratio(0.0, 1.0) - 2.0 * bound).abs() < 1e-9);
        assert_eq!(log_odds_ratio(0.0, 1.0), log_odds_ratio(-5.0, 2.0));
        assert_eq!(log_odds_ratio(1e-12, 0.5), log_odds_ratio(1e-7, 0.5));
        assert!(log_odds_ratio(0.0, 1.0).is_finite());
        assert!(log_odds_ratio(f64::NAN, 0.5).is_nan());
    }

    /// Every variant of the small test VCF.
    fn small_variants(dir: &tempfile::TempDir) -> Result<(VcfHeader, Vec<Variant>), VariantError> {
        let path = write_file(dir, "small.vcf", SMALL_VCF.as_bytes())?;
        let reader = VcfReader::open(&path)?;
        let header = reader.header().clone();
        Ok((header, reader.collect::<Result<_, _>>()?))
    }

    #[test]
    fn tsv_columns() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (_, variants) = small_variants(&dir)?;
        let tasks = vec!["DNase K562".to_owned(), "tab\there".to_owned()];
        let mut writer = TsvScoreWriter::new(Vec::new())?;
        writer.write(&ScoreRecord {
            variant: &variants[0],
            tasks: &tasks,
            reference: &[0.25, 0.5],
            alternative: &[0.75, 0.5],
        })?;
        assert_eq!(writer.lines(), 3);
        let text = String::from_utf8(writer.finish()?)?;
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "chrom\tpos\tid\tref\talt\ttask\tref_score\talt_score\tdiff\tabs_diff\tlog_odds_ratio");
        let fields: Vec<&str> = lines[1].split('\t').collect();
        assert_eq!(fields.len(), 11);
        assert_eq!(&fields[..9], ["chr1", "3", "rs1", "C", "G", "DNase K562", "0.25", "0.75", "0.5"]);
        assert_eq!(fields[9], "0.5");
        let lor: f64 = fields[10].parse()?;
        assert!((lor - 9f64.ln()).abs() < 1e-5, "{lor}");
        assert_eq!(lines[2].split('\t').nth(5), Some("tab here"));
        assert_eq!(lines[2].split('\t').nth(8), Some("0"));

        let mut resumed = TsvScoreWriter::resume(Vec::new(), 3);
        let bad = ScoreRecord { variant: &variants[0], tasks: &tasks, reference: &[0.25], alternative: &[0.75, 0.5] };
        let Err(e) = resumed.write(&bad) else {
            return Err("mismatched scores must be an error".into());
        };
        assert!(e.to_string().contains("chr1:3") && e.to_string().contains("2 task names"), "{e}");
        assert_eq!(resumed.lines(), 3);
        assert!(resumed.finish()?.is_empty());
        Ok(())
    }

    #[test]
    fn vcf_output_parses_back() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (header, variants) = small_variants(&dir)?;
        let tasks = vec!["DNase-K562".to_owned(), "CTCF \"x\"".to_owned()];
        let mut writer = VcfScoreWriter::new(Vec::new(), &header, &tasks)?;
        let header_lines = writer.lines();
        for (i, variant) in variants.iter().enumerate() {
            let score = i as f64 / 10.0;
            writer.write(&ScoreRecord {
                variant,
                tasks: &tasks,
                reference: &[score, 0.5],
                alternative: &[score + 0.1, 0.25],
            })?;
        }
        assert_eq!(writer.lines(), header_lines + variants.len() as u64);
        let text = String::from_utf8(writer.finish()?)?;
        let path = write_file(&dir, "out.vcf", text.as_bytes())?;

        let reader = VcfReader::open(&path)?;
        let lines = &reader.header().lines;
        assert_eq!(lines[0], "##fileformat=VCFv4.2");
        assert_eq!(lines.last().map(String::as_str), Some("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"));
        // The input's meta lines come first, in order.
        assert_eq!(lines[..3], header.lines[..3]);
        assert!(lines.iter().any(|l| l.starts_with("##INFO=<ID=OMIX_DNase_K562_REF,Number=1,Type=Float")));
        assert!(lines.iter().any(|l| l.starts_with("##INFO=<ID=OMIX_CTCF__x__LOR,") && l.contains("'CTCF \\\"x\\\"'")));
        assert!(lines.iter().any(|l| l.starts_with("##INFO=<ID=OMIX_ALT_INDEX,")));

        let read: Vec<Variant> = reader.collect::<Result<_, _>>()?;
        assert_eq!(read.len(), variants.len());
        for (output, input) in read.iter().zip(&variants) {
            assert_eq!(output.raw.len(), 8);
            assert_eq!((&output.chrom, output.pos, &output.reference), (&input.chrom, input.pos, &input.reference));
            assert_eq!(output.alternative, input.alternative);
            assert_eq!(output.alt_count, 1);
            assert_eq!(output.raw[5..7], input.raw[5..7]);
            let info = &output.raw[7];
            for key in
                ["OMIX_DNase_K562_REF=", "OMIX_DNase_K562_ALT=", "OMIX_DNase_K562_DIFF=", "OMIX_CTCF__x__ABSDIFF="]
            {
                assert!(info.contains(key), "{info}");
            }
            assert_eq!(info.contains("OMIX_ALT_INDEX="), input.alt_count > 1, "{info}");
            assert!(!info.starts_with('.') && !info.contains(";;") && !info.ends_with(';'), "{info}");
        }
        assert!(
            read[0].raw[7].starts_with("DP=10;OMIX_DNase_K562_REF=0;OMIX_DNase_K562_ALT=0.1;"),
            "{}",
            read[0].raw[7]
        );
        assert!(read[0].raw[7].contains("OMIX_CTCF__x__DIFF=-0.25;OMIX_CTCF__x__ABSDIFF=0.25;"));
        assert!(read[1].raw[7].starts_with("OMIX_ALT_INDEX=1;"), "{}", read[1].raw[7]);
        assert!(read[2].raw[7].starts_with("OMIX_ALT_INDEX=2;"), "{}", read[2].raw[7]);
        Ok(())
    }

    #[test]
    fn rescoring_replaces_own_keys_and_empty_info() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (header, variants) = small_variants(&dir)?;
        let tasks = vec!["t".to_owned()];
        let mut first = VcfScoreWriter::new(Vec::new(), &header, &tasks)?;
        first.write(&ScoreRecord { variant: &variants[0], tasks: &tasks, reference: &[0.1], alternative: &[0.2] })?;
        let path = write_file(&dir, "once.vcf", &first.finish()?)?;

        let reader = VcfReader::open(&path)?;
        let header = reader.header().clone();
        let again: Vec<Variant> = reader.collect::<Result<_, _>>()?;
        let mut second = VcfScoreWriter::new(Vec::new(), &header, &tasks)?;
        second.write(&ScoreRecord { variant: &again[0], tasks: &tasks, reference: &[0.3], alternative: &[0.4] })?;
        let text = String::from_utf8(second.finish()?)?;
        assert_eq!(text.matches("##INFO=<ID=OMIX_t_REF,").count(), 1, "{text}");
        let record = text.lines().last().ok_or("no record")?;
        assert_eq!(record.matches("OMIX_t_REF=").count(), 1, "{record}");
        assert!(record.contains("DP=10;OMIX_t_REF=0.3;"), "{record}");

        // No tasks and an INFO of '.' or empty: INFO stays '.'.
        let mut bare = variants[4].clone();
        bare.raw[7] = String::new();
        let mut writer = VcfScoreWriter::with_prefix(Vec::new(), &VcfHeader::default(), &[], "my model")?;
        writer.write(&ScoreRecord { variant: &bare, tasks: &[], reference: &[], alternative: &[] })?;
        let text = String::from_utf8(writer.finish()?)?;
        assert!(text.starts_with("##fileformat=VCFv4.2\n##INFO=<ID=my_model_ALT_INDEX,"), "{text}");
        assert!(text.ends_with("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr2\t1\t.\tA\tT\t.\t.\t.\n"), "{text}");
        Ok(())
    }

    #[test]
    fn profile_columns_in_tsv_and_vcf() -> TestResult {
        use crate::PROFILE_COLUMNS;
        let dir = tempfile::tempdir()?;
        let (header, variants) = small_variants(&dir)?;
        let tasks = vec!["sim".to_owned(), "atac".to_owned()];
        let values = [1.0, 2.0, 1.5, 1.5, 0.25, 0.375, 3.0, 2.0, -1.5, 1.5, 0.0, 0.0];
        let record = EffectRecord { variant: &variants[0], tasks: &tasks, values: &values };

        let mut tsv = TsvScoreWriter::with_columns(Vec::new(), &PROFILE_COLUMNS)?;
        tsv.write_effects(&record)?;
        // A classifier's record does not fit a profile writer.
        let scores =
            ScoreRecord { variant: &variants[0], tasks: &tasks, reference: &[0.1, 0.2], alternative: &[0.3, 0.4] };
        let Err(e) = tsv.write(&scores) else {
            return Err("REF/ALT scores must not go to a profile writer".into());
        };
        assert!(e.to_string().contains("ref_log_count, alt_log_count, logfc"), "{e}");
        let short = EffectRecord { variant: &variants[0], tasks: &tasks, values: &values[..6] };
        let Err(e) = tsv.write_effects(&short) else {
            return Err("too few values must be an error".into());
        };
        assert!(e.to_string().contains("6 values are not one per task (2) and column (6"), "{e}");
        let text = String::from_utf8(tsv.finish()?)?;
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "chrom\tpos\tid\tref\talt\ttask\tref_log_count\talt_log_count\tlogfc\tabs_logfc\tjsd\tabs_logfc_x_jsd"
        );
        assert_eq!(lines[1], "chr1\t3\trs1\tC\tG\tsim\t1\t2\t1.5\t1.5\t0.25\t0.375");
        assert_eq!(lines[2], "chr1\t3\trs1\tC\tG\tatac\t3\t2\t-1.5\t1.5\t0\t0");
        assert_eq!(lines.len(), 3);

        let mut vcf = VcfScoreWriter::with_columns(Vec::new(), &header, &tasks, "OMIX", &PROFILE_COLUMNS)?;
        vcf.write_effects(&record)?;
        let text = String::from_utf8(vcf.finish()?)?;
        for suffix in ["REF_LOGCOUNT", "ALT_LOGCOUNT", "LOGFC", "ABSLOGFC", "JSD", "ABSLOGFC_X_JSD"] {
            assert!(text.contains(&format!("##INFO=<ID=OMIX_atac_{suffix},Number=1,Type=Float,")), "{suffix}\n{text}");
        }
        assert!(!text.contains("OMIX_sim_REF,") && !text.contains("_LOR"), "{text}");
        let record_line = text.lines().last().ok_or("no record")?;
        assert!(
            record_line.ends_with(
                "DP=10;OMIX_sim_REF_LOGCOUNT=1;OMIX_sim_ALT_LOGCOUNT=2;OMIX_sim_LOGFC=1.5;OMIX_sim_ABSLOGFC=1.5;\
                 OMIX_sim_JSD=0.25;OMIX_sim_ABSLOGFC_X_JSD=0.375;OMIX_atac_REF_LOGCOUNT=3;OMIX_atac_ALT_LOGCOUNT=2;\
                 OMIX_atac_LOGFC=-1.5;OMIX_atac_ABSLOGFC=1.5;OMIX_atac_JSD=0;OMIX_atac_ABSLOGFC_X_JSD=0"
            ),
            "{record_line}"
        );
        Ok(())
    }

    #[test]
    fn difference_effects_pair_the_windows() -> TestResult {
        // Two variants, two outputs: windows REF 0, ALT 0, REF 1, ALT 1.
        let scores = [0.25, 0.5, 0.75, 0.5, 0.1, 0.2, 0.1, 0.4];
        let values = difference_effects(&scores, 2)?;
        assert_eq!(values.len(), 2 * 2 * 5);
        assert_eq!(values[..4], [0.25, 0.75, 0.5, 0.5]);
        assert_eq!(values[5..9], [0.5, 0.5, 0.0, 0.0]);
        assert_eq!(values[15..17], [0.2, 0.4]);
        assert!(difference_effects(&scores[..6], 2).is_err());
        assert!(difference_effects(&scores, 0).is_err());
        Ok(())
    }

    #[test]
    fn colliding_task_keys_and_foreign_tasks_are_errors() -> TestResult {
        let tasks = vec!["a-b".to_owned(), "a_b".to_owned()];
        let Err(e) = VcfScoreWriter::new(Vec::new(), &VcfHeader::default(), &tasks) else {
            return Err("colliding keys must be an error".into());
        };
        assert!(e.to_string().contains("'a-b' and 'a_b'"), "{e}");

        let dir = tempfile::tempdir()?;
        let (header, variants) = small_variants(&dir)?;
        let mut writer = VcfScoreWriter::new(Vec::new(), &header, &["x".to_owned()])?;
        let other = ["y".to_owned()];
        let record = ScoreRecord { variant: &variants[0], tasks: &other, reference: &[0.1], alternative: &[0.2] };
        assert!(matches!(writer.write(&record), Err(VariantError::ScoreShape { .. })));
        Ok(())
    }
}
