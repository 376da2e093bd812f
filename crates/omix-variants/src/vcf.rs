//! Streaming VCF reading: the header lines and one [`Variant`] per ALT allele.

use std::collections::{HashSet, VecDeque};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::VariantError;

/// The UTF-8 byte order mark, skipped at the start of the first line.
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// The eight fixed VCF columns, in order.
pub const VCF_COLUMNS: [&str; 8] = ["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"];

/// Whether `base` is a nucleotide code: A, C, G, T, N or an IUPAC ambiguity code, either case.
fn is_nucleotide(base: u8) -> bool {
    matches!(
        base.to_ascii_uppercase(),
        b'A' | b'C' | b'G' | b'T' | b'N' | b'R' | b'Y' | b'S' | b'W' | b'K' | b'M' | b'B' | b'D' | b'H' | b'V'
    )
}

/// The first byte of `allele` that is not a nucleotide code, if any.
fn bad_base(allele: &str) -> Option<char> {
    allele.chars().find(|&c| !c.is_ascii() || !is_nucleotide(c as u8))
}

/// The header of a VCF: every line before the first data line that starts with `#`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VcfHeader {
    /// Every `##` meta line and the `#CHROM` line, in file order, without line ends.
    pub lines: Vec<String>,
}

impl VcfHeader {
    /// The `#CHROM ...` column line, when the file has one.
    pub fn column_line(&self) -> Option<&str> {
        self.lines.iter().find(|line| line.starts_with("#CHROM")).map(String::as_str)
    }

    /// The contigs declared by `##contig=<ID=...,length=...>` lines, with their length when given.
    pub fn contigs(&self) -> Vec<(String, Option<u64>)> {
        self.lines
            .iter()
            .filter_map(|line| line.strip_prefix("##contig=<"))
            .filter_map(|body| {
                let body = body.strip_suffix('>').unwrap_or(body);
                let mut id = None;
                let mut length = None;
                for pair in body.split(',') {
                    match pair.split_once('=') {
                        Some(("ID", value)) => id = Some(value.to_owned()),
                        Some(("length", value)) => length = value.parse().ok(),
                        _ => {}
                    }
                }
                id.map(|id| (id, length))
            })
            .collect()
    }
}

/// One ALT allele of one VCF record; a multi-allelic record gives one `Variant` per ALT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The contig (CHROM).
    pub chrom: String,
    /// The 1-based position of the first REF base (POS).
    pub pos: u64,
    /// The ID column as written (`.` when none).
    pub id: String,
    /// The REF allele as written.
    pub reference: String,
    /// This ALT allele as written.
    pub alternative: String,
    /// The 0-based index of this ALT among the record's ALT alleles.
    pub alt_index: usize,
    /// How many ALT alleles the record has.
    pub alt_count: usize,
    /// The 1-based line of the record in the file.
    pub line: u64,
    /// The 0-based index of the record among the file's data records (before splitting ALTs).
    pub record: u64,
    /// The record's first eight columns as read (CHROM POS ID REF ALT QUAL FILTER INFO), the
    /// ALT column with all alleles; missing QUAL FILTER INFO are `.`. FORMAT and sample
    /// columns are not kept.
    pub raw: Vec<String>,
}

impl Variant {
    /// True when the ALT is not a sequence: `<DEL>`-style symbolic alleles, `*`, breakends
    /// (`G]17:198982]`, `.A`, `A.`) and the missing allele `.`.
    pub fn is_symbolic(&self) -> bool {
        is_symbolic(&self.alternative)
    }

    /// True for a single-base substitution.
    pub fn is_snv(&self) -> bool {
        self.reference.len() == 1 && self.alternative.len() == 1 && !self.is_symbolic()
    }

    /// The 0-based genome coordinate of the first REF base (`pos - 1`; -1 for the telomere position 0).
    pub fn start(&self) -> i64 {
        i64::try_from(self.pos).unwrap_or(i64::MAX) - 1
    }
}

/// True when `allele` is not a plain sequence (see [`Variant::is_symbolic`]).
pub(crate) fn is_symbolic(allele: &str) -> bool {
    allele.is_empty()
        || allele == "*"
        || allele.starts_with('<')
        || allele.starts_with('.')
        || allele.ends_with('.')
        || allele.contains(['[', ']'])
}

/// What a line of a VCF is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    /// Empty (skipped everywhere).
    Blank,
    /// Starts with `#`.
    Header,
    /// Anything else: a data record.
    Data,
}

/// Classify a line (without its line end).
fn classify(line: &[u8]) -> LineKind {
    match line.first() {
        None => LineKind::Blank,
        Some(b'#') => LineKind::Header,
        Some(_) => LineKind::Data,
    }
}

/// Reads a file line by line into one reused buffer, counting 1-based lines.
struct LineSource {
    input: Box<dyn BufRead + Send>,
    path: PathBuf,
    buf: Vec<u8>,
    line: u64,
}

impl LineSource {
    /// Open `path` (plain, gzip or bgzip, by magic bytes).
    fn open(path: &Path) -> Result<Self, VariantError> {
        Ok(LineSource { input: omix_io::open(path)?, path: path.to_path_buf(), buf: Vec::with_capacity(4096), line: 0 })
    }

    /// Read the next line into `buf` without its line end; false at the end of the file.
    fn next_line(&mut self) -> Result<bool, VariantError> {
        self.buf.clear();
        let read = self.input.read_until(b'\n', &mut self.buf).map_err(|source| VariantError::Read {
            path: self.path.clone(),
            line: self.line + 1,
            source,
        })?;
        if read == 0 {
            return Ok(false);
        }
        self.line += 1;
        if self.buf.ends_with(b"\n") {
            self.buf.pop();
        }
        if self.buf.ends_with(b"\r") {
            self.buf.pop();
        }
        if self.line == 1 && self.buf.starts_with(UTF8_BOM) {
            self.buf.drain(..UTF8_BOM.len());
        }
        Ok(true)
    }
}

/// A streaming VCF reader (plain, gzip or bgzip): reads the header on open, then yields one
/// [`Variant`] per ALT allele of each data record.
///
/// The header must end with the `#CHROM` line naming the eight fixed columns (and `FORMAT` and
/// the samples, if any); a file without it (an empty file included) is an error on open. Every
/// data line must have as many tab-separated columns as that line: fewer (a cut line) or more
/// (two records run together by a lost line end) is an error. Blank lines are skipped. Only
/// CHROM POS ID REF ALT are interpreted. A malformed line gives an error naming the file, line
/// and field; iteration may go on past it. A read (decompression) error ends the iteration.
pub struct VcfReader {
    lines: LineSource,
    header: VcfHeader,
    /// The buffer holds a data line not yet parsed (the first one, read while reading the header).
    pending: bool,
    /// A read failed; nothing more will be read.
    failed: bool,
    /// The 0-based index of the next data record.
    next_record: u64,
    /// Variants of the current record not yet returned.
    queue: VecDeque<Variant>,
    contigs_seen: Vec<String>,
    contig_set: HashSet<String>,
    /// The column names of the `#CHROM` line (without the `#`).
    columns: Vec<String>,
    /// The 1-based line of the `#CHROM` line.
    column_line: u64,
}

impl VcfReader {
    /// Open a VCF (plain, gzip or bgzip, detected by magic bytes) and read its header.
    pub fn open(path: &Path) -> Result<VcfReader, VariantError> {
        let mut lines = LineSource::open(path)?;
        let mut header = VcfHeader::default();
        let mut pending = false;
        let mut columns: Option<(Vec<String>, u64)> = None;
        let malformed = |lines: &LineSource, message: String| VariantError::Malformed {
            path: lines.path.clone(),
            line: lines.line.max(1),
            message,
        };
        while lines.next_line()? {
            match classify(&lines.buf) {
                LineKind::Blank => {}
                LineKind::Header => {
                    let text = std::str::from_utf8(&lines.buf)
                        .map_err(|_| VariantError::InvalidUtf8 { path: lines.path.clone(), line: lines.line })?;
                    if text.starts_with("#CHROM") {
                        let names = column_names(text).map_err(|message| malformed(&lines, message))?;
                        columns = Some((names, lines.line));
                    }
                    header.lines.push(text.to_owned());
                }
                LineKind::Data => {
                    if columns.is_none() {
                        return Err(malformed(
                            &lines,
                            "a record before the '#CHROM POS ID REF ALT QUAL FILTER INFO' header line; a VCF starts \
                             with its header (is the header missing?)"
                                .to_owned(),
                        ));
                    }
                    pending = true;
                    break;
                }
            }
        }
        let Some((columns, column_line)) = columns else {
            let message = if lines.line == 0 {
                "the file is empty: a VCF starts with its '##fileformat' and '#CHROM' header lines".to_owned()
            } else {
                "no '#CHROM POS ID REF ALT QUAL FILTER INFO' header line (is the file cut short, or not a VCF?)"
                    .to_owned()
            };
            return Err(malformed(&lines, message));
        };
        Ok(VcfReader {
            lines,
            header,
            pending,
            failed: false,
            next_record: 0,
            queue: VecDeque::new(),
            contigs_seen: Vec::new(),
            contig_set: HashSet::new(),
            columns,
            column_line,
        })
    }

    /// The header lines read on open.
    pub fn header(&self) -> &VcfHeader {
        &self.header
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.lines.path
    }

    /// How many data records have been read (parsed or skipped) so far.
    pub fn records_read(&self) -> u64 {
        self.next_record
    }

    /// The distinct contigs of the records read so far, in order of first appearance.
    pub fn contigs_seen(&self) -> &[String] {
        &self.contigs_seen
    }

    /// Skip the next `count` data records without parsing them (for shards and resuming).
    ///
    /// Variants already queued from a partly returned record are still returned first.
    /// Returns how many records were skipped: fewer than `count` only at the end of the file.
    pub fn skip_records(&mut self, count: u64) -> Result<u64, VariantError> {
        let mut skipped = 0;
        while skipped < count {
            if !self.advance()? {
                break;
            }
            self.next_record += 1;
            skipped += 1;
        }
        Ok(skipped)
    }

    /// Move the buffer to the next data line; false at the end of the file.
    fn advance(&mut self) -> Result<bool, VariantError> {
        loop {
            if self.pending {
                self.pending = false;
            } else {
                if self.failed {
                    return Ok(false);
                }
                match self.lines.next_line() {
                    Ok(true) => {}
                    Ok(false) if self.next_record == 0 => {
                        // A header with nothing after it: a cut file, or a filter that kept
                        // nothing; either way there is nothing to score.
                        self.failed = true;
                        return Err(self.malformed("the file has a header but no variant records".to_owned()));
                    }
                    Ok(false) => return Ok(false),
                    Err(e) => {
                        self.failed = true;
                        return Err(e);
                    }
                }
            }
            match classify(&self.lines.buf) {
                LineKind::Blank => {}
                LineKind::Data => return Ok(true),
                LineKind::Header => {
                    return Err(
                        self.malformed("a header line (starting with '#') after the first data record".to_owned())
                    );
                }
            }
        }
    }

    /// An error about the current line.
    fn malformed(&self, message: String) -> VariantError {
        VariantError::Malformed { path: self.lines.path.clone(), line: self.lines.line, message }
    }

    /// Parse the data line in the buffer as record `record`, queueing one variant per ALT.
    fn parse(&mut self, record: u64) -> Result<(), VariantError> {
        let line = self.lines.line;
        let mut fields: [&[u8]; 8] = [b"."; 8];
        // FORMAT and sample columns (the ninth piece on) are counted but not split.
        for (slot, field) in fields.iter_mut().zip(self.lines.buf.splitn(9, |&b| b == b'\t')) {
            *slot = field;
        }
        let count = self.lines.buf.iter().filter(|&&b| b == b'\t').count() + 1;
        let expected = self.columns.len();
        if count < expected {
            let hint =
                if count == 1 && self.lines.buf.contains(&b' ') { " (is the file space-separated?)" } else { "" };
            return Err(self.malformed(format!(
                "{count} tab-separated columns where the #CHROM header line (line {}) has {expected}: column {} \
                 ({}) is missing{hint}",
                self.column_line,
                count + 1,
                self.columns[count]
            )));
        }
        if count > expected {
            let extra = self.lines.buf.split(|&b| b == b'\t').nth(expected).unwrap_or_default();
            return Err(self.malformed(format!(
                "{count} tab-separated columns where the #CHROM header line (line {}) has {expected}: column {} \
                 holds '{}'; two records run together (a lost line end)?",
                self.column_line,
                expected + 1,
                String::from_utf8_lossy(&extra[..extra.len().min(40)])
            )));
        }
        let mut text: [&str; 8] = ["."; 8];
        for (slot, field) in text.iter_mut().zip(&fields) {
            *slot = std::str::from_utf8(field)
                .map_err(|_| VariantError::InvalidUtf8 { path: self.lines.path.clone(), line })?;
        }
        let [chrom, pos, id, reference, alternatives, ..] = text;
        if chrom.is_empty() {
            return Err(self.malformed("column 1 (CHROM) is empty".to_owned()));
        }
        if pos.is_empty() || !pos.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.malformed(format!("column 2 (POS) '{pos}' is not a whole number")));
        }
        let pos: u64 = pos.parse().map_err(|_| self.malformed(format!("column 2 (POS) '{pos}' is too large")))?;
        if pos == 0 {
            return Err(self.malformed(
                "column 2 (POS) is 0; positions are 1-based (0 only marks a telomere, which omix cannot score)"
                    .to_owned(),
            ));
        }
        if reference.is_empty() || reference == "." {
            return Err(self.malformed(format!("column 4 (REF) '{reference}' must be bases (A, C, G, T, N)")));
        }
        if let Some(bad) = bad_base(reference) {
            return Err(self.malformed(format!(
                "column 4 (REF) '{reference}' holds '{bad}', which is not a base (A, C, G, T, N or an IUPAC code)"
            )));
        }
        let alt_count = alternatives.split(',').count();
        for allele in alternatives.split(',') {
            if allele.is_empty() {
                return Err(self.malformed(format!("column 5 (ALT) '{alternatives}' has an empty allele")));
            }
            if let Some(bad) = bad_base(allele).filter(|_| !is_symbolic(allele)) {
                return Err(self.malformed(format!(
                    "column 5 (ALT) allele '{allele}' holds '{bad}', which is not a base (A, C, G, T, N or an IUPAC \
                     code) nor part of a symbolic allele"
                )));
            }
        }
        if self.contigs_seen.last().is_none_or(|last| last != chrom) && !self.contig_set.contains(chrom) {
            self.contig_set.insert(chrom.to_owned());
            self.contigs_seen.push(chrom.to_owned());
        }
        let mut raw: Vec<String> = text.iter().map(|field| (*field).to_owned()).collect();
        let mut alleles = alternatives.split(',').enumerate().peekable();
        while let Some((alt_index, allele)) = alleles.next() {
            let last = alleles.peek().is_none();
            self.queue.push_back(Variant {
                chrom: chrom.to_owned(),
                pos,
                id: id.to_owned(),
                reference: reference.to_owned(),
                alternative: allele.to_owned(),
                alt_index,
                alt_count,
                line,
                record,
                raw: if last { std::mem::take(&mut raw) } else { raw.clone() },
            });
        }
        Ok(())
    }
}

impl Iterator for VcfReader {
    type Item = Result<Variant, VariantError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(variant) = self.queue.pop_front() {
            return Some(Ok(variant));
        }
        match self.advance() {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => return Some(Err(e)),
        }
        // A record that fails to parse still takes its index, so indices match `count_records`.
        let record = self.next_record;
        self.next_record += 1;
        match self.parse(record) {
            Ok(()) => self.queue.pop_front().map(Ok),
            Err(e) => Some(Err(e)),
        }
    }
}

/// The column names of a `#CHROM` header line, checked: the eight fixed columns in order, then (if any)
/// `FORMAT` and the sample names.
fn column_names(text: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = text.trim_start_matches('#').split('\t').map(str::to_owned).collect();
    if names.len() == 1 && text.contains(' ') {
        return Err("the #CHROM header line is not tab-separated".to_owned());
    }
    for (index, expected) in VCF_COLUMNS.iter().enumerate() {
        match names.get(index) {
            Some(found) if found == expected => {}
            Some(found) => {
                return Err(format!(
                    "column {} of the #CHROM header line is '{found}' where a VCF has '{expected}'",
                    index + 1
                ));
            }
            None => {
                return Err(format!(
                    "the #CHROM header line has {} columns; a VCF has at least the 8 {} (column {} '{expected}' is \
                     missing)",
                    names.len(),
                    VCF_COLUMNS.join(" "),
                    index + 1
                ));
            }
        }
    }
    if let Some(ninth) = names.get(8).filter(|ninth| *ninth != "FORMAT") {
        return Err(format!("column 9 of the #CHROM header line is '{ninth}' where a VCF with samples has 'FORMAT'"));
    }
    Ok(names)
}

/// The number of data records in a VCF (plain, gzip or bgzip): non-blank lines not starting
/// with `#`, without parsing them. Record indices of [`VcfReader`] run over `0..count_records`.
pub fn count_records(path: &Path) -> Result<u64, VariantError> {
    let mut lines = LineSource::open(path)?;
    let mut count = 0;
    while lines.next_line()? {
        if classify(&lines.buf) == LineKind::Data {
            count += 1;
        }
    }
    Ok(count)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A small VCF with a multi-allelic record, a symbolic ALT and a sample column.
    pub(crate) const SMALL_VCF: &str = "##fileformat=VCFv4.2\n\
        ##contig=<ID=chr1,length=20>\n\
        ##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Depth\">\n\
        #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n\
        chr1\t3\trs1\tC\tG\t50\tPASS\tDP=10\tGT\t0/1\n\
        chr1\t5\t.\tA\tC,G\t.\t.\t.\tGT\t1/2\n\
        chr1\t7\tsv1\tG\t<DEL>\t.\t.\tSVTYPE=DEL\tGT\t0/1\n\
        \n\
        chr2\t1\t.\tA\tT\t.\t.\t.\tGT\t0/1\n";

    /// Write `content` to `name` in `dir`.
    pub(crate) fn write_file(dir: &tempfile::TempDir, name: &str, content: &[u8]) -> std::io::Result<PathBuf> {
        let path = dir.path().join(name);
        std::fs::write(&path, content)?;
        Ok(path)
    }

    /// Gzip `content`.
    pub(crate) fn gzip(content: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(content)?;
        encoder.finish()
    }

    /// Read every variant of `path`.
    fn read_all(path: &Path) -> Result<Vec<Variant>, VariantError> {
        VcfReader::open(path)?.collect()
    }

    #[test]
    fn reads_header_and_splits_multi_allelic_records() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "small.vcf", SMALL_VCF.as_bytes())?;
        let reader = VcfReader::open(&path)?;
        assert_eq!(reader.header().lines.len(), 4);
        assert_eq!(reader.header().lines[0], "##fileformat=VCFv4.2");
        assert!(reader.header().column_line().is_some_and(|l| l.ends_with("FORMAT\tS1")));
        assert_eq!(reader.header().contigs(), vec![("chr1".to_owned(), Some(20))]);
        let variants = read_all(&path)?;
        assert_eq!(variants.len(), 5);

        let first = &variants[0];
        assert_eq!((first.chrom.as_str(), first.pos, first.id.as_str()), ("chr1", 3, "rs1"));
        assert_eq!((first.reference.as_str(), first.alternative.as_str()), ("C", "G"));
        assert_eq!((first.line, first.record, first.alt_index, first.alt_count), (5, 0, 0, 1));
        assert_eq!(first.raw, ["chr1", "3", "rs1", "C", "G", "50", "PASS", "DP=10"]);
        assert!(first.is_snv() && !first.is_symbolic());

        let (c, g) = (&variants[1], &variants[2]);
        assert_eq!((c.alternative.as_str(), c.alt_index, c.alt_count, c.record, c.line), ("C", 0, 2, 1, 6));
        assert_eq!((g.alternative.as_str(), g.alt_index, g.alt_count, g.record, g.line), ("G", 1, 2, 1, 6));
        assert_eq!(c.raw[4], "C,G");
        assert_eq!(c.raw, g.raw);

        assert!(variants[3].is_symbolic());
        assert_eq!(variants[3].record, 2);

        // A line after a blank line.
        let short = &variants[4];
        assert_eq!((short.chrom.as_str(), short.line, short.record), ("chr2", 9, 3));
        assert_eq!(short.raw, ["chr2", "1", ".", "A", "T", ".", ".", "."]);
        assert_eq!(count_records(&path)?, 4);
        Ok(())
    }

    #[test]
    fn gzip_input_and_contigs_seen() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "small.vcf.gz", &gzip(SMALL_VCF.as_bytes())?)?;
        let mut reader = VcfReader::open(&path)?;
        assert_eq!(reader.header().lines.len(), 4);
        let mut count = 0;
        for variant in reader.by_ref() {
            variant?;
            count += 1;
        }
        assert_eq!(count, 5);
        assert_eq!(reader.contigs_seen(), ["chr1", "chr2"]);
        assert_eq!(reader.records_read(), 4);
        assert_eq!(count_records(&path)?, 4);
        Ok(())
    }

    #[test]
    fn symbolic_alleles() {
        for allele in ["<DEL>", "<*>", "*", ".", ".A", "A.", "G]17:198982]", "]13:123456]T", "C[2:321682["] {
            assert!(is_symbolic(allele), "{allele}");
        }
        for allele in ["A", "ACGT", "n", "R"] {
            assert!(!is_symbolic(allele), "{allele}");
        }
    }

    #[test]
    fn a_header_is_required() -> TestResult {
        let dir = tempfile::tempdir()?;
        let cases: [(&[u8], &str); 6] = [
            (b"", "bare.vcf, line 1: the file is empty"),
            (b"\xef\xbb\xbfchr1\t2\t.\tA\tT\t.\t.\t.\r\n", "bare.vcf, line 1: a record before the '#CHROM"),
            (b"##fileformat=VCFv4.2\n", "bare.vcf, line 1: no '#CHROM"),
            (b"##fileformat=VCFv4.2\n#CHROM\tPOS\n", "bare.vcf, line 2: the #CHROM header line has 2 columns"),
            (b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tS1\n", "column 9 of the #CHROM header line is 'S1'"),
            (b"#CHROM POS ID REF ALT QUAL FILTER INFO\n", "not tab-separated"),
        ];
        for (content, expected) in cases {
            let path = write_file(&dir, "bare.vcf", content)?;
            let Err(e) = VcfReader::open(&path) else {
                return Err(format!("{content:?} must be refused").into());
            };
            assert!(e.to_string().contains(expected), "{e}\n  expected: {expected}");
        }
        // A byte order mark and CRLF are fine; a header with no records after it (a cut file, or
        // a filter that kept nothing) is refused when the records are read, as tables are.
        let path = write_file(
            &dir,
            "header_only.vcf",
            b"\xef\xbb\xbf##fileformat=VCFv4.2\r\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\r\n",
        )?;
        let mut reader = VcfReader::open(&path)?;
        assert_eq!(reader.header().lines.len(), 2);
        let error = reader.next().ok_or("no error")?.err().ok_or("a header-only VCF was accepted")?;
        assert!(
            error.to_string().contains("header_only.vcf, line 2: the file has a header but no variant records"),
            "{error}"
        );
        assert!(reader.next().is_none());
        Ok(())
    }

    #[test]
    fn malformed_lines_name_file_line_and_field() -> TestResult {
        let dir = tempfile::tempdir()?;
        let cases: [(&str, &str); 14] = [
            ("chr1\tx5\t.\tA\tT\t.\t.\t.", "column 2 (POS) 'x5'"),
            ("chr1\t-5\t.\tA\tT\t.\t.\t.", "column 2 (POS) '-5'"),
            ("chr1\t\t.\tA\tT\t.\t.\t.", "column 2 (POS) ''"),
            ("chr1\t0\t.\tA\tT\t.\t.\t.", "column 2 (POS) is 0"),
            ("chr1\t99999999999999999999999\t.\tA\tT\t.\t.\t.", "too large"),
            ("chr1 5 . A T . . .", "space-separated"),
            (
                "chr1\t5\t.\tA",
                "4 tab-separated columns where the #CHROM header line (line 2) has 8: column 5 (ALT) is missing",
            ),
            (
                "chr1\t5\t.\tA\tT\t.\t.\t.chr1\t6\t.\tA\tT\t.\t.\t.",
                "15 tab-separated columns where the #CHROM header line (line 2) has 8: column 9 holds '6'; two records run together",
            ),
            ("\t5\t.\tA\tT\t.\t.\t.", "column 1 (CHROM) is empty"),
            ("chr1\t5\t.\t.\tT\t.\t.\t.", "column 4 (REF) '.'"),
            ("chr1\t5\t.\tAZ\tT\t.\t.\t.", "column 4 (REF) 'AZ' holds 'Z'"),
            ("chr1\t5\t.\tA\tT,,G\t.\t.\t.", "empty allele"),
            ("chr1\t5\t.\tA\tT-G\t.\t.\t.", "column 5 (ALT) allele 'T-G' holds '-'"),
            ("chr1\t5\t.\tA\tZ\t.\t.\t.", "column 5 (ALT) allele 'Z' holds 'Z'"),
        ];
        for (body, expected) in cases {
            let content = format!(
                "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr1\t1\t.\tA\tC\t.\t.\t.\n{body}\n"
            );
            let path = write_file(&dir, "bad.vcf", content.as_bytes())?;
            let results: Vec<_> = VcfReader::open(&path)?.collect();
            assert_eq!(results.len(), 2, "{body}");
            assert!(results[0].is_ok(), "{body}");
            let Err(e) = &results[1] else {
                return Err(format!("'{body}' must be an error").into());
            };
            let text = e.to_string();
            assert!(text.contains("bad.vcf, line 4:"), "{text}");
            assert!(text.contains(expected), "{text}\n  expected: {expected}");
            assert_eq!(e.line(), Some(4));
            assert!(matches!(e, VariantError::Malformed { .. }), "{e:?}");
        }
        // With samples, a record must have them all.
        let content =
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\nchr1\t1\t.\tA\tC\t.\t.\t.\tGT\t0/1\n";
        let path = write_file(&dir, "samples.vcf", content.as_bytes())?;
        let Some(Err(e)) = VcfReader::open(&path)?.next() else {
            return Err("a missing sample column must be an error".into());
        };
        assert!(e.to_string().contains("column 11 (S2) is missing"), "{e}");
        Ok(())
    }

    #[test]
    fn header_after_data_and_bad_utf8_are_errors() -> TestResult {
        let dir = tempfile::tempdir()?;
        let header = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
        let content = format!("{header}chr1\t1\t.\tA\tC\t.\t.\t.\n##late\nchr1\t2\t.\tA\tC\t.\t.\t.\n");
        let path = write_file(&dir, "late.vcf", content.as_bytes())?;
        let results: Vec<_> = VcfReader::open(&path)?.collect();
        assert_eq!(results.len(), 3);
        let Err(e) = &results[1] else {
            return Err("a late header line must be an error".into());
        };
        assert!(e.to_string().contains("line 3: a header line"), "{e}");
        // Iteration goes on after a malformed line, with record indices matching count_records.
        let third = results[2].as_ref().map_err(|e| e.to_string())?;
        assert_eq!((third.line, third.record), (4, 1));

        let mut content = header.as_bytes().to_vec();
        content.extend_from_slice(b"chr1\t1\t\xff\tA\tC\t.\t.\t.\n");
        let path = write_file(&dir, "utf8.vcf", &content)?;
        let results: Vec<_> = VcfReader::open(&path)?.collect();
        assert!(matches!(results[0], Err(VariantError::InvalidUtf8 { line: 2, .. })), "{results:?}");
        Ok(())
    }

    #[test]
    fn truncated_gzip_ends_with_a_read_error() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut text = String::from("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n");
        for i in 0..20_000 {
            text.push_str(&format!("chr1\t{}\t.\tA\tC\t.\t.\t.\n", i + 1));
        }
        let zipped = gzip(text.as_bytes())?;
        let path = write_file(&dir, "cut.vcf.gz", &zipped[..zipped.len() / 2])?;
        let mut reader = VcfReader::open(&path)?;
        let error = loop {
            match reader.next() {
                Some(Ok(_)) => {}
                Some(Err(e)) => break e,
                None => return Err("a truncated gzip file must not read cleanly".into()),
            }
        };
        assert!(matches!(error, VariantError::Read { .. }), "{error:?}");
        assert!(error.to_string().contains("cut.vcf.gz"), "{error}");
        assert!(reader.next().is_none(), "iteration must stop after a read error");
        assert!(count_records(&path).is_err());
        Ok(())
    }

    #[test]
    fn skip_records_keeps_indices() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_file(&dir, "small.vcf", SMALL_VCF.as_bytes())?;
        let mut reader = VcfReader::open(&path)?;
        assert_eq!(reader.skip_records(2)?, 2);
        let next = reader.next().ok_or("a record must follow")??;
        assert_eq!((next.record, next.line), (2, 7));
        assert_eq!(reader.skip_records(5)?, 1);
        assert!(reader.next().is_none());
        Ok(())
    }

    #[test]
    fn missing_file_is_an_open_error() -> TestResult {
        let dir = tempfile::tempdir()?;
        let Err(e) = VcfReader::open(&dir.path().join("missing.vcf")) else {
            return Err("a missing file must be an error".into());
        };
        assert!(e.to_string().contains("missing.vcf"), "{e}");
        assert!(count_records(&dir.path().join("missing.vcf")).is_err());
        Ok(())
    }
}
