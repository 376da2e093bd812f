//! The error type of omix-genome.

use std::io;
use std::path::PathBuf;

use omix_io::IoError;

/// Everything that can go wrong opening a reference or reading interval data; each names the file and, where it
/// applies, the 1-based line (and column) or the contig.
#[derive(Debug, thiserror::Error)]
pub enum GenomeError {
    /// Opening or reading a plain/gzip text file failed (from omix-io).
    #[error(transparent)]
    Io(#[from] IoError),
    /// The file could not be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Reading a file failed part-way.
    #[error("{}: read failed: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The FASTA file cannot be indexed (uneven line lengths, an empty record, a duplicate name, ...).
    #[error("{}:{line}: cannot index the FASTA file: {message}", path.display())]
    FastaFormat {
        /// The FASTA file.
        path: PathBuf,
        /// The 1-based line where the problem was found.
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// The FASTA file is gzip-compressed but not with bgzip, so it cannot be read at random positions.
    #[error(
        "{}: gzip-compressed but not BGZF (block gzip), so it cannot be read at random positions; \
         recompress it with `zcat {0} | bgzip > {0}.bgz` (htslib) or decompress it",
        path.display()
    )]
    NotBgzf {
        /// The FASTA file.
        path: PathBuf,
    },
    /// An existing index file (.fai or .gzi) cannot be read or does not match its FASTA file.
    #[error(
        "{}: {message}; the index does not match its FASTA file (rebuild it with `samtools faidx`, or move it \
         away and omix will index the FASTA itself)",
        path.display()
    )]
    BadIndex {
        /// The index file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A BGZF block of a bgzip FASTA is malformed.
    #[error("{}: byte {offset}: {message}", path.display())]
    Bgzf {
        /// The FASTA file.
        path: PathBuf,
        /// The byte offset of the bad block in the compressed file.
        offset: u64,
        /// What was wrong.
        message: String,
    },
    /// A contig name that the reference does not have.
    #[error("unknown contig '{name}' in the reference {} (its contigs: {})", reference.display(), list(known, *total))]
    UnknownContig {
        /// The name asked for.
        name: String,
        /// The reference FASTA file.
        reference: PathBuf,
        /// The first reference contig names (at most 10).
        known: Vec<String>,
        /// The number of reference contigs.
        total: usize,
    },
    /// An interval whose end lies before its start.
    #[error(
        "{}: invalid interval {name}:[{start}, {end}) (0-based, half-open): the end lies before the start",
        reference.display()
    )]
    InvalidInterval {
        /// The reference FASTA file.
        reference: PathBuf,
        /// The contig.
        name: String,
        /// The 0-based start.
        start: i64,
        /// The 0-based exclusive end.
        end: i64,
    },
    /// An interval much longer than its contig (or too long to hold in memory).
    #[error(
        "{}: interval {name}:[{start}, {end}) is too long to fetch ({length} bases; at most the contig's length \
         plus 16 Mi bases of N padding)",
        reference.display()
    )]
    TooLong {
        /// The reference FASTA file.
        reference: PathBuf,
        /// The contig.
        name: String,
        /// The 0-based start.
        start: i64,
        /// The 0-based exclusive end.
        end: i64,
        /// The number of bases asked for.
        length: u64,
    },
    /// The bytes read for an interval do not match what the index says is there (a stale or foreign index).
    #[error(
        "{}: the bases of {name}:[{start}, {end}) do not match the index ({message}); \
         the FASTA file changed after it was indexed? (rebuild its .fai with `samtools faidx`)",
        path.display()
    )]
    IndexMismatch {
        /// The FASTA file.
        path: PathBuf,
        /// The contig.
        name: String,
        /// The 0-based start of the part read.
        start: u64,
        /// The 0-based exclusive end of the part read.
        end: u64,
        /// What was wrong.
        message: String,
    },
    /// Contig names used by an interval or variant file that the reference does not have.
    #[error("{0}")]
    ContigMismatch(Box<ContigMismatch>),
    /// A BED line that cannot be parsed.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Bed {
        /// The BED file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
        /// The 1-based byte column where the offending field starts.
        column: u64,
        /// What was wrong (naming the 1-based field and its meaning).
        message: String,
    },
    /// A BED interval that does not lie inside its contig (another genome build?).
    #[error(
        "{}:{line}: interval {chrom}:{start}-{end} ends past the end of contig '{chrom}', which has {length} bases \
         in the reference {} (a BED file for another genome build?)",
        path.display(), reference.display()
    )]
    OutsideContig {
        /// The BED file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
        /// The contig.
        chrom: String,
        /// The interval's 0-based start.
        start: u64,
        /// The interval's 0-based exclusive end.
        end: u64,
        /// The contig's length.
        length: u64,
        /// The reference FASTA file.
        reference: PathBuf,
    },
    /// A BED file with no intervals.
    #[error("{}: no intervals (only header, comment or blank lines)", path.display())]
    EmptyBed {
        /// The BED file.
        path: PathBuf,
    },
    /// A chromosome split that lists a contig for both validation and test (or twice).
    #[error("chromosome split: contig '{contig}' is listed {where_listed}; each contig may be held out once")]
    SplitOverlap {
        /// The contig.
        contig: String,
        /// Where it is listed ("in both validation and test", "twice in validation", ...).
        where_listed: String,
    },
    /// A parameter outside its allowed range.
    #[error("invalid {name} = {value}: {message}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Its value, as text.
        value: String,
        /// What is allowed.
        message: String,
    },
}

/// The details of [`GenomeError::ContigMismatch`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{} uses {} contig name(s) missing from the reference {}: {}; the reference has {}{}",
    source_path.display(), missing_total, reference.display(), list(missing, *missing_total),
    list(reference_names, *reference_total), hint.as_deref().map(|h| format!("; hint: {h}")).unwrap_or_default()
)]
pub struct ContigMismatch {
    /// The BED or VCF file.
    pub source_path: PathBuf,
    /// The reference FASTA file.
    pub reference: PathBuf,
    /// The first missing names (at most 10), in order of first use.
    pub missing: Vec<String>,
    /// The number of distinct missing names.
    pub missing_total: usize,
    /// The first reference contig names (at most 10).
    pub reference_names: Vec<String>,
    /// The number of reference contigs.
    pub reference_total: usize,
    /// A renaming that would make (some of) the names match, when one would.
    pub hint: Option<String>,
}

/// Up to 10 names quoted, with a count of the rest.
fn list(names: &[String], total: usize) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    let mut text = names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
    if total > names.len() {
        text.push_str(&format!(" and {} more", total - names.len()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_file_line_and_contigs() {
        let e = GenomeError::Bed {
            path: PathBuf::from("peaks.bed"),
            line: 7,
            column: 6,
            message: "field 2 (start): 'x' is not a non-negative integer".to_owned(),
        };
        assert!(e.to_string().starts_with("peaks.bed:7:6: field 2"), "{e}");
        let e = GenomeError::UnknownContig {
            name: "chrZ".to_owned(),
            reference: PathBuf::from("hg.fa"),
            known: vec!["chr1".to_owned(), "chr2".to_owned()],
            total: 5,
        };
        let text = e.to_string();
        assert!(text.contains("'chrZ'") && text.contains("hg.fa") && text.contains("and 3 more"), "{text}");
    }
}
