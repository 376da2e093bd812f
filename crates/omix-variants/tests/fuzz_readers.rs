//! Seeded, bounded fuzzing of every file reader of the lower half (issue 11).
//!
//! Each reader gets small valid seed files and [`DEFAULT_CASES`] mutants of them (1 to 3
//! mutations each, sometimes gzip-compressed and then truncated), drawn from a ChaCha8 stream
//! seeded by [`DEFAULT_SEED`] and the reader's name. Every call runs under `catch_unwind` on a
//! worker thread that the test thread watches: a panic, a call that takes longer than
//! [`HANG_LIMIT`], or an accepted mutant that breaks the reader's invariants fails the test,
//! printing the reader, the mutations and the mutant's bytes (escaped) so the case reproduces.
//!
//! A refusal is always fine (that is what bad input should get), with two checks for the
//! single-file readers: the message names the file, and any "line N" it names is in the file.
//! What an accepted mutant must keep is written next to each reader below ("Invariant:").
//! `self_check` shows that the invariants bite: deliberately broken readers (one that drops the
//! last record, one that pairs sequences and labels without checking the counts, ...) must be
//! flagged.
//!
//! `OMIX_FUZZ_CASES=5000 cargo test --release -p omix-variants --test fuzz_readers` runs more
//! cases; `OMIX_FUZZ_SEED=N` draws another stream.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use omix_data::graph::{Graph, GraphConfig};
use omix_data::{ClassFile, DataConfig, Dataset, Format};
use omix_io::MatrixOptions;
use omix_variants::VcfReader;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Mutants per reader when `OMIX_FUZZ_CASES` is not set.
const DEFAULT_CASES: usize = 300;
/// The seed when `OMIX_FUZZ_SEED` is not set.
const DEFAULT_SEED: u64 = 0x5eed_0011;
/// The longest one reader call may take before it counts as a hang.
const HANG_LIMIT: Duration = Duration::from_secs(5);

/// Failure classes known to be open, as (reader name prefix, class): reported with every case,
/// but not failing the test, while a fix is under way on another branch. Panics and hangs are
/// never gated. Empty: every class the test found (label drift, repeated ids, MEME line numbers,
/// VCF column counts, empty and header-only VCFs, CR-only VCF line ends) is fixed.
const KNOWN_OPEN: &[(&str, &str)] = &[];

/// Whether a failure is in a class [`KNOWN_OPEN`] gates.
fn known_open(failure: &Failure) -> bool {
    !matches!(failure.class, "panic" | "hang")
        && KNOWN_OPEN.iter().any(|&(reader, class)| failure.reader.starts_with(reader) && failure.class == class)
}

type TestResult = Result<(), Box<dyn std::error::Error>>;

// ---------------------------------------------------------------------------------------------
// What a reader returns, and what an accepted mutant is judged on.

/// The part of a reader's result the invariants look at.
#[derive(Debug, Clone, Default, PartialEq)]
struct Summary {
    /// Records (examples, rows, motifs, intervals, VCF records, graph nodes).
    records: usize,
    /// The label set (classes), or another set the invariants compare (matrix columns, motif ids).
    labels: BTreeSet<String>,
    /// A second count some invariants use (FASTA bases, labelled graph nodes).
    total: usize,
    /// One rendering per record with the 1-based line it came from, for "a record on an
    /// unmutated line reads as before".
    rows: Vec<(u64, String)>,
    /// Values the reader should never have let through (found while summarising).
    problems: Vec<String>,
    /// The first record id that two records share, if any.
    repeated_id: Option<String>,
}

/// A broken invariant, with its class (what kind of failure it is).
#[derive(Debug, Clone)]
struct Finding {
    class: &'static str,
    message: String,
}

fn finding(class: &'static str, message: impl Into<String>) -> Finding {
    Finding { class, message: message.into() }
}

/// What the invariants of an accepted mutant see.
struct Context<'a> {
    original: &'a Summary,
    mutant: &'a Summary,
    /// The seed files' content.
    original_files: &'a [Vec<u8>],
    /// The mutated files' content, before any gzip.
    files: &'a [Vec<u8>],
    /// The index of the mutated file.
    mutated: usize,
}

/// A function that builds a harness (harnesses are built on the worker thread).
type MakeHarness = fn() -> Harness;

/// One reader under test.
struct Harness {
    name: &'static str,
    /// File names and seed content; one of them is mutated per case.
    files: Vec<(&'static str, Vec<u8>)>,
    read: fn(&[PathBuf]) -> Result<Summary, String>,
    check: fn(&Context) -> Vec<Finding>,
    /// Whether a refusal must name the file and only lines within it (single-file readers).
    precise_errors: bool,
}

// ---------------------------------------------------------------------------------------------
// Seed files.

const SEQUENCES: [&str; 20] = [
    "GCTAAAGACAATTACATAAC",
    "ATACACGTCAGCACGAAACT",
    "TGTTGGCCCAGTGTGAATCG",
    "CTTAAGGGTTAAGTAAGTGT",
    "GATGCATACGCCTTTACTTG",
    "CTGTGTCCACCCCATCGGAC",
    "TGGCATTTTTATTACACTCA",
    "GAAACAGAACTCGGGTAATT",
    "TTGACAGGTCACGCAGAGGC",
    "GCGCCCTCCTGAAGTGCGTG",
    "GACACTCGCTATGAATCTCT",
    "GATTTACCCACTCTGCCAAA",
    "CTCCAGCGCGGTCAGTTCCA",
    "TCACCCTAAGTAACCGAATA",
    "ATGCGTTCGCTCTATTGACT",
    "ACGACGCGCTCATTCCCTTG",
    "TCGGAGAGTTATGGAACAAG",
    "GACGCTGTCTGAGACTAGAA",
    "GACAGATAGTGCACACGACC",
    "GGCGTCGGAGAAACTCTATT",
];

fn label_of(index: usize) -> &'static str {
    if index.is_multiple_of(2) { "1" } else { "0" }
}

fn seed_sequence_lines() -> Vec<u8> {
    SEQUENCES.iter().flat_map(|s| format!("{s}\n").into_bytes()).collect()
}

fn seed_label_lines() -> Vec<u8> {
    (0..SEQUENCES.len()).flat_map(|i| format!("{}\n", label_of(i)).into_bytes()).collect()
}

/// FASTA with ids `{prefix}{i}`; every third record wrapped at 10 bases.
fn seed_fasta(prefix: &str, range: std::ops::Range<usize>) -> Vec<u8> {
    let mut text = String::new();
    for i in range {
        let sequence = SEQUENCES[i];
        if i % 3 == 0 {
            text += &format!(">{prefix}{i} record {i}\n{}\n{}\n", &sequence[..10], &sequence[10..]);
        } else {
            text += &format!(">{prefix}{i}\n{sequence}\n");
        }
    }
    text.into_bytes()
}

fn seed_label_table() -> Vec<u8> {
    let mut text = String::from("id\tlabel\n");
    for i in 0..SEQUENCES.len() {
        text += &format!("r{i}\t{}\n", label_of(i));
    }
    text.into_bytes()
}

fn seed_tsv_table() -> Vec<u8> {
    let mut text = String::from("id\tseq\tlabel\n");
    for (i, sequence) in SEQUENCES.iter().enumerate() {
        text += &format!("r{i}\t{sequence}\t{}\n", label_of(i));
    }
    text.into_bytes()
}

fn seed_csv_table() -> Vec<u8> {
    let mut text = String::from("id,seq,label\n");
    for (i, sequence) in SEQUENCES.iter().enumerate() {
        text += &format!("\"r{i}\",\"{sequence}\",{}\n", label_of(i));
    }
    text.into_bytes()
}

fn seed_matrix() -> Vec<u8> {
    b"g1,g2,g3\n0.0,0.0,0.0\n0.1,0.5,0.2\n0.2,1.0,0.4\n0.3,0.0,0.6\n0.4,0.5,0.8\n0.5,1.0,0.0\n".to_vec()
}

fn seed_matrix_with_ids() -> Vec<u8> {
    b"sample\tg1\tg2\tg3\ns1\t1.5\t-2\t3e-1\ns2\t0\t7.25\t1\ns3\t2\t2\t2\ns4\t-0.5\t1e3\t4\n".to_vec()
}

fn seed_meme() -> Vec<u8> {
    b"MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\nBackground letter frequencies\n\
A 0.3 C 0.2 G 0.2 T 0.3\n\n\
MOTIF m1 first\nletter-probability matrix: alength= 4 w= 3 nsites= 20 E= 0\n\
0.25 0.25 0.25 0.25\n0.9 0.05 0.05 0.0\n0.1 0.2 0.3 0.4\nURL http://example.invalid/m1\n\n\
MOTIF m2\nletter-probability matrix: alength= 4 w= 2\n1.0 0.0 0.0 0.0\n0.0 0.5 0.5 0.0\n\n\
MOTIF m3 third\nletter-probability matrix: alength= 4 w= 4\n0.7 0.1 0.1 0.1\n0.1 0.7 0.1 0.1\n\
0.1 0.1 0.7 0.1\n0.1 0.1 0.1 0.7\n"
        .to_vec()
}

fn seed_bed() -> Vec<u8> {
    b"track name=peaks\n# a comment\nchr1\t10\t30\tp1\t500\t+\nchr1\t40\t90\tp2\t0\t-\nchr2\t0\t5\n\
chr2\t100\t250\tp4\t.\t.\textra\nchrX\t7\t8\tp5\nchr1\t1000\t1020\tp6\t1000\t+\n"
        .to_vec()
}

fn seed_vcf() -> Vec<u8> {
    b"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=2000>\n##contig=<ID=chr2,length=500>\n\
##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Depth\">\n\
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n\
chr1\t3\trs1\tC\tG\t50\tPASS\tDP=10\tGT\t0/1\n\
chr1\t5\t.\tA\tC,G\t.\t.\t.\tGT\t1/2\n\
chr1\t70\tsv1\tG\t<DEL>\t.\t.\tDP=3\tGT\t0/1\n\
chr1\t1500\trs4\tTA\tT\t12.5\tq10\t.\tGT\t1/1\n\
chr2\t1\t.\tA\tT\t.\tPASS\tDP=1\tGT\t0/0\n\
chr2\t400\trs6\tACGT\tA,ACG\t99\tPASS\tDP=20\tGT\t1/2\n"
        .to_vec()
}

fn seed_edges() -> Vec<u8> {
    let mut text = String::from("# a ring of 16 nodes with chords\n");
    for i in 0..16 {
        text += &format!("n{i} n{}\n", (i + 1) % 16);
    }
    text += "n0 n8 2.5\nn4\tn12\t0.5\n";
    text.into_bytes()
}

fn seed_graph_labels() -> Vec<u8> {
    let mut text = String::new();
    for i in 0..16 {
        text += &format!("n{i} {}\n", ["x", "y", "z"][i % 3]);
    }
    text.into_bytes()
}

// ---------------------------------------------------------------------------------------------
// Independent views of a file, for the invariants.

/// The file's lines as the readers split them: on `\n`, one trailing `\r` removed, a UTF-8
/// byte order mark skipped at the very start.
fn text_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    body.split(|&b| b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line)).collect()
}

/// The lines with a lone `\r` also taken as a line end (old Mac files): an invariant that
/// counts lines accepts either reading, so a reader may refuse or split such files.
fn text_lines_cr(bytes: &[u8]) -> Vec<Vec<u8>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let normalised: Vec<u8> = String::from_utf8_lossy(bytes).replace("\r\n", "\n").replace('\r', "\n").into_bytes();
    text_lines(&normalised).into_iter().map(<[u8]>::to_vec).collect()
}

/// Whether `count(lines)` matches `records` under either reading of lone `\r`.
fn count_matches(bytes: &[u8], records: usize, count: impl Fn(&[&[u8]]) -> usize) -> Result<(), (usize, usize)> {
    let plain = count(&text_lines(bytes));
    if plain == records {
        return Ok(());
    }
    let split: Vec<Vec<u8>> = text_lines_cr(bytes);
    let split: Vec<&[u8]> = split.iter().map(Vec::as_slice).collect();
    let cr = count(&split);
    if cr == records { Ok(()) } else { Err((plain, cr)) }
}

fn count_check(
    class: &'static str,
    what: &str,
    bytes: &[u8],
    records: usize,
    count: impl Fn(&[&[u8]]) -> usize,
) -> Vec<Finding> {
    match count_matches(bytes, records, count) {
        Ok(()) => Vec::new(),
        Err((plain, cr)) => vec![finding(
            class,
            format!("accepted {records} records, but the file holds {plain} {what} ({cr} if a lone CR ends a line)"),
        )],
    }
}

/// Lines that are not blank once trimmed of ASCII whitespace.
fn non_blank(lines: &[&[u8]]) -> usize {
    lines.iter().filter(|line| !line.trim_ascii().is_empty()).count()
}

/// Data lines of a table or matrix: non-blank lines after the first non-blank line not starting with `#`.
fn table_rows(lines: &[&[u8]]) -> usize {
    let mut rows = lines.iter().map(|line| line.trim_ascii()).skip_while(|l| l.is_empty() || l.starts_with(b"#"));
    rows.next();
    rows.filter(|l| !l.is_empty()).count()
}

/// FASTA headers: lines whose first byte is `>`.
fn fasta_headers(lines: &[&[u8]]) -> usize {
    lines.iter().filter(|line| line.starts_with(b">")).count()
}

/// FASTA bases: the lengths of the other non-blank, non-comment lines, trailing whitespace trimmed.
fn fasta_bases(lines: &[&[u8]]) -> usize {
    lines
        .iter()
        .map(|line| line.trim_ascii_end())
        .filter(|line| !line.is_empty() && !line.starts_with(b">") && !line.starts_with(b";"))
        .map(<[u8]>::len)
        .sum()
}

/// Whether any line holds an odd number of `"` (a quoted CSV field may then span lines).
fn has_open_quote(bytes: &[u8]) -> bool {
    text_lines(bytes).iter().any(|line| line.iter().filter(|&&b| b == b'"').count() % 2 == 1)
}

/// Records on lines whose text is unchanged from a line of the seed must read as before.
fn unchanged_lines_read_alike(context: &Context, class: &'static str) -> Vec<Finding> {
    let original_lines = text_lines(&context.original_files[context.mutated]);
    let mut expected: BTreeMap<&[u8], &str> = BTreeMap::new();
    for (line, rendering) in &context.original.rows {
        if let Some(text) = original_lines.get(*line as usize - 1) {
            expected.insert(text, rendering);
        }
    }
    let lines = text_lines(&context.files[context.mutated]);
    let mut findings = Vec::new();
    for (line, rendering) in &context.mutant.rows {
        let Some(text) = lines.get((*line as usize).wrapping_sub(1)) else {
            continue;
        };
        if let Some(before) = expected.get(text)
            && before != rendering
        {
            findings.push(finding(
                class,
                format!("line {line} is unchanged from the seed but now reads as {rendering:?} instead of {before:?}"),
            ));
        }
    }
    findings
}

fn same_records(context: &Context) -> Vec<Finding> {
    let (before, after) = (context.original.records, context.mutant.records);
    if before == after {
        Vec::new()
    } else {
        vec![finding("record-count", format!("accepted with {after} records instead of {before}"))]
    }
}

fn same_labels(context: &Context, class: &'static str) -> Vec<Finding> {
    let (before, after) = (&context.original.labels, &context.mutant.labels);
    if before == after {
        Vec::new()
    } else {
        vec![finding(class, format!("accepted with the label set {after:?} instead of {before:?}"))]
    }
}

// ---------------------------------------------------------------------------------------------
// The readers and their invariants.

fn dataset_summary(config: &DataConfig) -> Result<Summary, String> {
    let dataset = Dataset::load(config, 7).map_err(|e| e.to_string())?;
    let mut ids = BTreeSet::new();
    let repeated_id = dataset.examples.iter().map(|e| &e.id).find(|id| !ids.insert(*id)).cloned();
    Ok(Summary {
        records: dataset.report.records_read,
        labels: dataset.schema.class_names.iter().cloned().collect(),
        repeated_id,
        ..Summary::default()
    })
}

/// Invariant of datasets whose records are keyed by id: no two records share one (a
/// duplicated row must be refused, not read twice or joined to one of two labels).
fn no_repeated_id(context: &Context) -> Vec<Finding> {
    match &context.mutant.repeated_id {
        Some(id) => vec![finding("duplicate-id", format!("accepted two records with the id {id:?}"))],
        None => Vec::new(),
    }
}

/// Invariant of a dataset from two files of which one is mutated: the seed's record count and
/// label set, and no repeated id.
fn paired_check(context: &Context) -> Vec<Finding> {
    [same_records(context), same_labels(context, "label-drift"), no_repeated_id(context)].concat()
}

/// `omix train --input seqs.txt --labels labels.txt`: one sequence per line, one label per line.
///
/// Invariant: only one of the two files is mutated, so an accepted mutant has the seed's
/// record count and label set; a merged, duplicated or deleted line, or a stray label, must be
/// refused.
fn lines_pair() -> Harness {
    Harness {
        name: "dataset: sequence lines + label lines",
        files: vec![("seqs.txt", seed_sequence_lines()), ("labels.txt", seed_label_lines())],
        read: |paths| {
            dataset_summary(&DataConfig {
                format: Format::Lines,
                input: Some(paths[0].clone()),
                labels: Some(paths[1].clone()),
                ..DataConfig::default()
            })
        },
        check: paired_check,
        precise_errors: false,
    }
}

/// `omix train --input seqs.fa --labels labels.tsv`: FASTA joined by id to a label table.
///
/// Invariant: as for lines; the id join makes every change of one file visible (a record
/// without a label, a label without a record).
fn fasta_with_label_table() -> Harness {
    Harness {
        name: "dataset: FASTA + label table",
        files: vec![("seqs.fa", seed_fasta("r", 0..SEQUENCES.len())), ("labels.tsv", seed_label_table())],
        read: |paths| {
            dataset_summary(&DataConfig {
                input: Some(paths[0].clone()),
                labels: Some(paths[1].clone()),
                ..DataConfig::default()
            })
        },
        check: paired_check,
        precise_errors: false,
    }
}

/// `omix train --class a=a.fa --class b=b.fa`: one FASTA per class.
///
/// Invariant: a class file may legitimately lose or gain whole records (a shorter FASTA is
/// still valid), so the record count must equal the `>` lines of both files, and the label
/// set stays exactly the two class names.
fn class_files() -> Harness {
    Harness {
        name: "dataset: one FASTA per class",
        files: vec![("a.fa", seed_fasta("a", 0..10)), ("b.fa", seed_fasta("b", 10..20))],
        read: |paths| {
            dataset_summary(&DataConfig {
                classes: vec![
                    ClassFile { label: "a".into(), path: paths[0].clone() },
                    ClassFile { label: "b".into(), path: paths[1].clone() },
                ],
                ..DataConfig::default()
            })
        },
        check: |context| {
            let other = &context.files[1 - context.mutated];
            let others = fasta_headers(&text_lines(other));
            let mut findings = same_labels(context, "label-drift");
            findings.extend(count_check(
                "record-count",
                "'>' headers in the two files",
                &context.files[context.mutated],
                context.mutant.records.wrapping_sub(others),
                fasta_headers,
            ));
            findings
        },
        precise_errors: false,
    }
}

/// `omix train --input table.tsv` (or `.csv`): id, sequence and label columns.
///
/// Invariant: one file, so a deleted or duplicated row is not detectable; the record count
/// must equal the data lines (unless a quote is left open, when a CSV field may span lines)
/// and the label set must stay the seed's (a stray label is refused).
fn table_check(context: &Context) -> Vec<Finding> {
    let mut findings = [same_labels(context, "label-drift"), no_repeated_id(context)].concat();
    let bytes = &context.files[context.mutated];
    if !has_open_quote(bytes) {
        findings.extend(count_check("record-count", "data rows", bytes, context.mutant.records, table_rows));
    }
    findings
}

fn table_read(paths: &[PathBuf]) -> Result<Summary, String> {
    dataset_summary(&DataConfig { format: Format::Table, input: Some(paths[0].clone()), ..DataConfig::default() })
}

fn tsv_table() -> Harness {
    Harness {
        name: "dataset: TSV table",
        files: vec![("table.tsv", seed_tsv_table())],
        read: table_read,
        check: table_check,
        precise_errors: false,
    }
}

fn csv_table() -> Harness {
    Harness {
        name: "dataset: CSV table",
        files: vec![("table.csv", seed_csv_table())],
        read: table_read,
        check: table_check,
        precise_errors: false,
    }
}

/// Expression-like values for sample `index`, feature `feature`.
fn value(index: usize, feature: usize) -> f64 {
    ((index * 7 + feature * 3) % 11) as f64 * 0.25 - 1.0
}

fn seed_sample_matrix() -> Vec<u8> {
    let mut text = String::from("sample\tg1\tg2\tg3\n");
    for i in 0..SEQUENCES.len() {
        text += &format!("s{i}\t{}\t{}\t{}\n", value(i, 0), value(i, 1), value(i, 2));
    }
    text.into_bytes()
}

fn seed_sample_labels() -> Vec<u8> {
    let mut text = String::from("sample\tlabel\n");
    for i in (0..SEQUENCES.len()).rev() {
        text += &format!("s{i}\t{}\n", label_of(i));
    }
    text.into_bytes()
}

fn seed_plain_matrix() -> Vec<u8> {
    let mut text = String::from("g1,g2,g3\n");
    for i in 0..SEQUENCES.len() {
        text += &format!("{},{},{}\n", value(i, 0), value(i, 1), value(i, 2));
    }
    text.into_bytes()
}

fn seed_row_labels() -> Vec<u8> {
    let mut text = String::from("label\n");
    for i in 0..SEQUENCES.len() {
        text += &format!("{}\n", label_of(i));
    }
    text.into_bytes()
}

fn matrix_dataset(paths: &[PathBuf]) -> Result<Summary, String> {
    dataset_summary(&DataConfig {
        format: Format::Matrix,
        input: Some(paths[0].clone()),
        labels: Some(paths[1].clone()),
        ..DataConfig::default()
    })
}

/// `omix train --format matrix --input matrix.tsv --labels labels.tsv`: labels keyed by sample id.
///
/// Invariant: as for the other pairs (the id join makes every change of one file visible);
/// and a label table that gives one sample two rows is refused.
fn matrix_by_id() -> Harness {
    Harness {
        name: "dataset: matrix + label table by sample id",
        files: vec![("matrix.tsv", seed_sample_matrix()), ("labels.tsv", seed_sample_labels())],
        read: matrix_dataset,
        check: |context| {
            let mut findings = paired_check(context);
            let lines = text_lines(&context.files[1]);
            let mut ids = BTreeSet::new();
            let rows = lines.iter().map(|l| l.trim_ascii()).filter(|l| !l.is_empty()).skip(1);
            let first_fields = rows.map(|row| row.split(|&b| b == b'\t').next().unwrap_or_default().trim_ascii());
            if let Some(id) = first_fields.into_iter().find(|id| !ids.insert(*id)) {
                findings.push(finding(
                    "duplicate-id",
                    format!("accepted a label table with two rows for {:?}", id.escape_ascii().to_string()),
                ));
            }
            findings
        },
        precise_errors: false,
    }
}

/// `omix train --format matrix --input matrix.csv --labels labels.csv`: no ids, labels in row order.
///
/// Invariant: as for sequence and label lines.
fn matrix_by_row() -> Harness {
    Harness {
        name: "dataset: matrix + labels in row order",
        files: vec![("matrix.csv", seed_plain_matrix()), ("labels.csv", seed_row_labels())],
        read: matrix_dataset,
        check: paired_check,
        precise_errors: false,
    }
}

/// `omix_io::read_fasta` alone.
///
/// Invariant: one record per `>` line, and every base of the other lines kept.
fn fasta() -> Harness {
    Harness {
        name: "omix_io::read_fasta",
        files: vec![("records.fa", seed_fasta("r", 0..8))],
        read: |paths| {
            let records = omix_io::read_fasta(&paths[0]).map_err(|e| e.to_string())?;
            Ok(Summary {
                records: records.len(),
                total: records.iter().map(|r| r.sequence.len()).sum(),
                ..Summary::default()
            })
        },
        check: |context| {
            let bytes = &context.files[context.mutated];
            let mut findings = count_check("record-count", "'>' headers", bytes, context.mutant.records, fasta_headers);
            findings.extend(count_check("record-content", "bases", bytes, context.mutant.total, fasta_bases));
            findings
        },
        precise_errors: true,
    }
}

/// Invariant of the line readers: one record per non-blank line.
fn lines_check(context: &Context) -> Vec<Finding> {
    count_check("record-count", "non-blank lines", &context.files[context.mutated], context.mutant.records, non_blank)
}

/// `omix_io::read_sequence_lines` alone.
fn sequence_lines() -> Harness {
    Harness {
        name: "omix_io::read_sequence_lines",
        files: vec![("seqs.txt", seed_sequence_lines())],
        read: |paths| {
            let records = omix_io::read_sequence_lines(&paths[0]).map_err(|e| e.to_string())?;
            Ok(Summary { records: records.len(), ..Summary::default() })
        },
        check: lines_check,
        precise_errors: true,
    }
}

/// `omix_io::read_label_lines` alone.
fn label_lines() -> Harness {
    Harness {
        name: "omix_io::read_label_lines",
        files: vec![("labels.txt", seed_label_lines())],
        read: |paths| {
            let records = omix_io::read_label_lines(&paths[0]).map_err(|e| e.to_string())?;
            Ok(Summary { records: records.len(), ..Summary::default() })
        },
        check: lines_check,
        precise_errors: true,
    }
}

/// `omix_io::read_label_table` alone.
///
/// Invariant: one record per data row (no quotes in the seed; an open quote lets a CSV field
/// span lines, so such mutants are judged on the rest), ids unique, labels non-empty.
fn label_table() -> Harness {
    Harness {
        name: "omix_io::read_label_table",
        files: vec![("labels.tsv", seed_label_table())],
        read: |paths| {
            let records = omix_io::read_label_table(&paths[0], None, None).map_err(|e| e.to_string())?;
            let mut problems = Vec::new();
            let mut ids = BTreeSet::new();
            for record in &records {
                if record.id.is_empty() || record.label.is_empty() || !ids.insert(record.id.clone()) {
                    problems.push(format!("record {record:?} (empty or repeated id, or empty label)"));
                }
            }
            Ok(Summary { records: records.len(), problems, ..Summary::default() })
        },
        check: |context| {
            let bytes = &context.files[context.mutated];
            if has_open_quote(bytes) {
                return Vec::new();
            }
            count_check("record-count", "data rows", bytes, context.mutant.records, table_rows)
        },
        precise_errors: true,
    }
}

/// `omix_io::read_matrix` with the default options.
///
/// Invariant: one row per data line (unless a quote is left open), every value finite, and
/// when the header is the seed's, a row on a line unchanged from the seed has the same values.
fn matrix_harness(name: &'static str, file: &'static str, seed: Vec<u8>) -> Harness {
    Harness {
        name,
        files: vec![(file, seed)],
        read: |paths| {
            let matrix = omix_io::read_matrix(&paths[0], &MatrixOptions::default()).map_err(|e| e.to_string())?;
            let width = matrix.width();
            let mut problems = Vec::new();
            if matrix.values.len() != matrix.rows() * width || matrix.lines.len() != matrix.rows() {
                problems.push(format!(
                    "{} values and {} lines for {} rows of {width}",
                    matrix.values.len(),
                    matrix.lines.len(),
                    matrix.rows()
                ));
                return Ok(Summary { problems, ..Summary::default() });
            }
            let mut rows = Vec::with_capacity(matrix.rows());
            for index in 0..matrix.rows() {
                let values = matrix.row(index);
                if values.iter().any(|v| !v.is_finite()) {
                    problems.push(format!("row {index} holds a value that is not finite: {values:?}"));
                }
                let text: Vec<String> = values.iter().map(f32::to_string).collect();
                rows.push((matrix.lines[index], format!("{}: {}", matrix.row_ids[index], text.join(","))));
            }
            Ok(Summary {
                records: matrix.rows(),
                labels: matrix.columns.iter().cloned().collect(),
                rows,
                problems,
                ..Summary::default()
            })
        },
        check: |context| {
            let bytes = &context.files[context.mutated];
            let mut findings = Vec::new();
            if !has_open_quote(bytes) {
                findings.extend(count_check("record-count", "data rows", bytes, context.mutant.records, table_rows));
            }
            let header = |bytes: &[u8]| text_lines(bytes).first().map(|line| line.to_vec());
            if header(bytes) == header(&context.original_files[context.mutated]) {
                let mut mutant = context.mutant.clone();
                // Row ids `rowN` follow the file order; compare the values only when there is no id column.
                for (_, rendering) in &mut mutant.rows {
                    if rendering.starts_with("row") {
                        *rendering = rendering.split_once(": ").map(|(_, v)| v.to_owned()).unwrap_or_default();
                    }
                }
                let mut original = context.original.clone();
                for (_, rendering) in &mut original.rows {
                    if rendering.starts_with("row") {
                        *rendering = rendering.split_once(": ").map(|(_, v)| v.to_owned()).unwrap_or_default();
                    }
                }
                let narrowed = Context { original: &original, mutant: &mutant, ..*context };
                findings.extend(unchanged_lines_read_alike(&narrowed, "record-content"));
            }
            findings
        },
        precise_errors: true,
    }
}

/// `omix_motif::read_meme`.
///
/// Invariant: one motif per `MOTIF` line; every row has one value per alphabet letter, each in
/// [0, 1] and summing to 1 within the tolerance; the background matches the alphabet.
fn meme() -> Harness {
    Harness {
        name: "omix_motif::read_meme",
        files: vec![("motifs.meme", seed_meme())],
        read: |paths| {
            let set = omix_motif::read_meme(&paths[0]).map_err(|e| e.to_string())?;
            let letters = set.alphabet_letters.chars().count();
            let mut problems = Vec::new();
            if set.background.len() != letters {
                problems.push(format!("{} background values for {letters} letters", set.background.len()));
            }
            for motif in &set.motifs {
                for row in &motif.probabilities {
                    let sum: f64 = row.iter().sum();
                    if row.len() != letters
                        || row.iter().any(|p| !(0.0..=1.0).contains(p))
                        || (sum - 1.0).abs() > omix_motif::ROW_SUM_TOLERANCE + 1e-9
                    {
                        problems.push(format!("motif {} has the row {row:?} for {letters} letters", motif.id));
                    }
                }
                if motif.probabilities.is_empty() {
                    problems.push(format!("motif {} has no rows", motif.id));
                }
            }
            Ok(Summary {
                records: set.motifs.len(),
                labels: set.motifs.iter().map(|m| m.id.clone()).collect(),
                problems,
                ..Summary::default()
            })
        },
        check: |context| {
            let is_motif = |lines: &[&[u8]]| {
                lines
                    .iter()
                    .filter(|line| {
                        let text = String::from_utf8_lossy(line);
                        text.trim_start_matches('\u{feff}').trim().starts_with("MOTIF")
                    })
                    .count()
            };
            count_check(
                "record-count",
                "MOTIF lines",
                &context.files[context.mutated],
                context.mutant.records,
                is_motif,
            )
        },
        precise_errors: true,
    }
}

/// `omix_genome::read_bed`.
///
/// Invariant: one record per line that is not blank, `#`, `track` or `browser`; start < end;
/// a record on a line unchanged from the seed reads as before.
fn bed() -> Harness {
    Harness {
        name: "omix_genome::read_bed",
        files: vec![("peaks.bed", seed_bed())],
        read: |paths| {
            let records = omix_genome::read_bed(&paths[0]).map_err(|e| e.to_string())?;
            let mut problems = Vec::new();
            let mut rows = Vec::new();
            for record in &records {
                if record.start >= record.end {
                    problems.push(format!("empty interval {record:?}"));
                }
                let mut rendering = record.clone();
                rendering.line = 0;
                rows.push((record.line, format!("{rendering:?}")));
            }
            Ok(Summary { records: records.len(), rows, problems, ..Summary::default() })
        },
        check: |context| {
            let is_interval = |lines: &[&[u8]]| {
                lines
                    .iter()
                    .filter(|line| {
                        let word = |w: &[u8]| {
                            line.strip_prefix(w).is_some_and(|rest| rest.first().is_none_or(u8::is_ascii_whitespace))
                        };
                        !(line.trim_ascii().is_empty() || line.starts_with(b"#") || word(b"track") || word(b"browser"))
                    })
                    .count()
            };
            let mut findings = count_check(
                "record-count",
                "interval lines",
                &context.files[context.mutated],
                context.mutant.records,
                is_interval,
            );
            findings.extend(unchanged_lines_read_alike(context, "record-content"));
            findings
        },
        precise_errors: true,
    }
}

/// `omix_variants::VcfReader`, read to the end; any error refuses the file.
///
/// Invariant: one record per non-blank line not starting with `#`; a file whose records all
/// went is not accepted silently (`vcf-empty`); when there is a `#CHROM` line every data line
/// has its number of columns (`vcf-columns`: a truncated line or two run-together records);
/// a record on a line unchanged from the seed has the same eight fixed fields.
fn vcf() -> Harness {
    Harness {
        name: "omix_variants::VcfReader",
        files: vec![("calls.vcf", seed_vcf())],
        read: |paths| {
            let reader = VcfReader::open(&paths[0]).map_err(|e| e.to_string())?;
            let mut rows: Vec<(u64, String)> = Vec::new();
            let mut records = BTreeSet::new();
            for variant in reader {
                let variant = variant.map_err(|e| e.to_string())?;
                if records.insert(variant.record) {
                    rows.push((variant.line, variant.raw.join("\t")));
                }
            }
            Ok(Summary { records: records.len(), rows, ..Summary::default() })
        },
        check: |context| {
            let bytes = &context.files[context.mutated];
            let is_data = |lines: &[&[u8]]| lines.iter().filter(|l| !l.is_empty() && !l.starts_with(b"#")).count();
            let mut findings = count_check("record-count", "data lines", bytes, context.mutant.records, is_data);
            let lines = text_lines(bytes);
            if context.mutant.records == 0 {
                if lines.iter().any(|l| l.starts_with(b"#CHROM")) {
                    findings.push(finding("vcf-no-records", "accepted a VCF whose header has no record after it"));
                } else if bytes.windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n') {
                    findings
                        .push(finding("vcf-cr-line-ends", "accepted a VCF with CR-only line ends as one header line"));
                } else {
                    findings.push(finding("vcf-empty", "accepted a file without a VCF header or record"));
                }
            }
            if let Some(columns) = lines.iter().find(|l| l.starts_with(b"#CHROM")) {
                let expected = columns.split(|&b| b == b'\t').count();
                for (number, line) in lines.iter().enumerate() {
                    let found = line.split(|&b| b == b'\t').count();
                    if !line.is_empty() && !line.starts_with(b"#") && found != expected {
                        findings.push(finding(
                            "vcf-columns",
                            format!("line {} has {found} columns, the #CHROM line {expected}", number + 1),
                        ));
                        break;
                    }
                }
            }
            findings.extend(unchanged_lines_read_alike(context, "record-content"));
            findings
        },
        precise_errors: true,
    }
}

/// `omix_data::graph::Graph::load`: an edge list and node labels.
///
/// Invariant: the nodes are the distinct names of the edge lines, the labelled nodes the label
/// lines with a label, and the classes the labels written; a mutant of the label file alone
/// keeps the seed's classes (`graph-label-drift`: a stray or run-together label is refused).
fn graph() -> Harness {
    Harness {
        name: "omix_data::graph::Graph::load",
        files: vec![("graph.edgelist", seed_edges()), ("labels.txt", seed_graph_labels())],
        read: |paths| {
            let graph = Graph::load(&GraphConfig::new(&paths[0], &paths[1]), 3).map_err(|e| e.to_string())?;
            Ok(Summary {
                records: graph.nodes.len(),
                labels: graph.class_names.iter().cloned().collect(),
                total: graph.report.labelled_nodes,
                ..Summary::default()
            })
        },
        check: |context| {
            let fields = |bytes: &[u8]| -> Vec<Vec<String>> {
                let text = String::from_utf8_lossy(bytes);
                text.lines()
                    .map(|line| line.trim_start_matches('\u{feff}').trim())
                    .filter(|line| !line.is_empty() && !line.starts_with('#'))
                    .map(|line| line.split_whitespace().map(str::to_owned).collect())
                    .collect()
            };
            let edges = fields(&context.files[0]);
            let nodes: BTreeSet<&String> = edges.iter().flat_map(|f| f.iter().take(2)).collect();
            let labels = fields(&context.files[1]);
            let labelled = labels.iter().filter(|f| f.len() > 1).count();
            let classes: BTreeSet<String> = labels.iter().flat_map(|f| f.iter().skip(1).cloned()).collect();
            let mutant = context.mutant;
            let mut findings = Vec::new();
            if (nodes.len(), labelled, &classes) != (mutant.records, mutant.total, &mutant.labels) {
                findings.push(finding(
                    "record-count",
                    format!(
                        "accepted {} nodes, {} labelled, classes {:?}; the files hold {} nodes, {labelled} labelled, classes {classes:?}",
                        mutant.records,
                        mutant.total,
                        mutant.labels,
                        nodes.len()
                    ),
                ));
            }
            if context.mutated == 1 {
                findings.extend(same_labels(context, "graph-label-drift"));
            }
            findings
        },
        precise_errors: false,
    }
}

fn harnesses() -> Vec<MakeHarness> {
    vec![
        lines_pair,
        fasta_with_label_table,
        class_files,
        tsv_table,
        csv_table,
        matrix_by_id,
        matrix_by_row,
        fasta,
        sequence_lines,
        label_lines,
        label_table,
        || matrix_harness("omix_io::read_matrix (no id column)", "matrix.csv", seed_matrix()),
        || matrix_harness("omix_io::read_matrix (id column)", "matrix.tsv", seed_matrix_with_ids()),
        meme,
        bed,
        vcf,
        graph,
    ]
}

// ---------------------------------------------------------------------------------------------
// The mutator.

/// Bytes that mean something to at least one of the formats.
const STRUCTURAL: [u8; 8] = [b'\n', b'\r', b'\t', b',', b'>', b'#', b'"', b' '];
/// Labels that must not slip into a 0/1 (or x/y/z) label set unnoticed.
const STRAY_LABELS: [&str; 8] = ["7", "0.0", "x", "1.0", "-1", "01", "NA", "true"];
const BOM: &[u8] = b"\xef\xbb\xbf";

/// The byte ranges of the lines, each with its `\n` when it has one.
fn line_spans(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'\n' {
            spans.push(start..index + 1);
            start = index + 1;
        }
    }
    if start < bytes.len() {
        spans.push(start..bytes.len());
    }
    spans
}

/// A line with its line end, adding one when it is the last line and has none.
fn terminated(bytes: &[u8], span: &std::ops::Range<usize>) -> Vec<u8> {
    let mut line = bytes[span.clone()].to_vec();
    if !line.ends_with(b"\n") {
        line.push(b'\n');
    }
    line
}

/// Apply one random mutation; returns what it did.
fn mutate_once(rng: &mut ChaCha8Rng, bytes: &mut Vec<u8>) -> String {
    let len = bytes.len();
    let spans = line_spans(bytes);
    let kind = rng.random_range(0..12);
    if len == 0 && kind != 9 {
        bytes.extend_from_slice(b"\n");
        return "write a newline into the empty file".into();
    }
    match kind {
        0..=2 => {
            let at = rng.random_range(0..len);
            let byte = match kind {
                0 => rng.random::<u8>(),
                1 => rng.random_range(0x20..0x7f),
                _ => STRUCTURAL[rng.random_range(0..STRUCTURAL.len())],
            };
            let before = bytes[at];
            bytes[at] = byte;
            format!("byte {at}: {:?} -> {:?}", char::from(before), char::from(byte))
        }
        3 => {
            let at = rng.random_range(0..len);
            let removed = bytes.remove(at);
            format!("delete byte {at} ({:?})", char::from(removed))
        }
        4 => {
            let newlines: Vec<usize> = (0..len).filter(|&i| bytes[i] == b'\n').collect();
            if newlines.is_empty() {
                return "no newline to delete".into();
            }
            let at = newlines[rng.random_range(0..newlines.len())];
            bytes.remove(at);
            format!("delete the newline at byte {at} (merge two lines)")
        }
        5 => {
            let line = rng.random_range(0..spans.len());
            let copy = terminated(bytes, &spans[line]);
            let mut at = spans[line].end;
            if !bytes[..at].ends_with(b"\n") {
                // The last line, without a line end: end it before adding the copy.
                bytes.insert(at, b'\n');
                at += 1;
            }
            bytes.splice(at..at, copy);
            format!("duplicate line {}", line + 1)
        }
        6 => {
            let line = rng.random_range(0..spans.len());
            bytes.drain(spans[line].clone());
            format!("delete line {}", line + 1)
        }
        7 => {
            let (a, b) = (rng.random_range(0..spans.len()), rng.random_range(0..spans.len()));
            let (a, b) = (a.min(b), a.max(b));
            if a == b {
                return format!("swap line {} with itself", a + 1);
            }
            let first = terminated(bytes, &spans[a]);
            let second = terminated(bytes, &spans[b]);
            let mut out = bytes[..spans[a].start].to_vec();
            out.extend_from_slice(&second);
            out.extend_from_slice(&bytes[spans[a].end..spans[b].start]);
            out.extend_from_slice(&first);
            out.extend_from_slice(&bytes[spans[b].end..]);
            *bytes = out;
            format!("swap lines {} and {}", a + 1, b + 1)
        }
        8 => {
            let at = rng.random_range(0..len);
            bytes.truncate(at);
            format!("truncate at byte {at}")
        }
        9 => {
            let at = if spans.is_empty() || rng.random_bool(0.5) {
                0
            } else {
                spans[rng.random_range(0..spans.len())].start
            };
            bytes.splice(at..at, BOM.iter().copied());
            format!("insert a BOM at byte {at}")
        }
        10 => {
            let line = rng.random_range(0..spans.len());
            let span = spans[line].clone();
            let content_end = span.end - usize::from(bytes[span.end - 1] == b'\n');
            let content_end = content_end - usize::from(content_end > span.start && bytes[content_end - 1] == b'\r');
            let field_start = bytes[span.start..content_end]
                .iter()
                .rposition(|b| matches!(b, b'\t' | b',' | b' '))
                .map_or(span.start, |i| span.start + i + 1);
            let stray = STRAY_LABELS[rng.random_range(0..STRAY_LABELS.len())];
            bytes.splice(field_start..content_end, stray.bytes());
            format!("line {}: last field -> {stray:?}", line + 1)
        }
        _ => {
            let text: Vec<u8> = bytes
                .iter()
                .enumerate()
                .filter(|&(i, &b)| !(b == b'\r' && bytes.get(i + 1) == Some(&b'\n')))
                .map(|(_, &b)| if b == b'\n' { b'\r' } else { b })
                .collect();
            *bytes = text;
            "CR-only line ends".into()
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// One mutant: the plain content of every file, the gzip-truncated bytes written instead (if
/// any), which file was mutated and how.
struct Mutant {
    files: Vec<Vec<u8>>,
    written: Option<Vec<u8>>,
    mutated: usize,
    steps: Vec<String>,
}

fn make_mutant(rng: &mut ChaCha8Rng, seeds: &[Vec<u8>]) -> Mutant {
    let mutated = rng.random_range(0..seeds.len());
    let mut files = seeds.to_vec();
    let mut steps = Vec::new();
    for _ in 0..rng.random_range(1..=3) {
        steps.push(mutate_once(rng, &mut files[mutated]));
    }
    let mut written = None;
    if rng.random_bool(0.1) {
        let mut zipped = gzip(&files[mutated]);
        // Keep the magic bytes so it is still read as gzip; always cut the trailer at least.
        let at = rng.random_range(2..zipped.len() - 1);
        zipped.truncate(at);
        steps.push(format!("gzip, then truncate the gzip at byte {at}"));
        written = Some(zipped);
    }
    Mutant { files, written, mutated, steps }
}

// ---------------------------------------------------------------------------------------------
// Running a harness.

/// A failed case, printed in full.
struct Failure {
    reader: &'static str,
    case: usize,
    class: &'static str,
    message: String,
    file: &'static str,
    steps: Vec<String>,
    bytes: Vec<u8>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "[{}] {} case {}: {}\n    mutated {}: {}\n    bytes: b\"{}\"",
            self.class,
            self.reader,
            self.case,
            self.message,
            self.file,
            self.steps.join("; "),
            self.bytes.escape_ascii()
        )
    }
}

/// What a worker tells the watching thread.
enum Event {
    Start { case: usize, file: &'static str, steps: Vec<String>, bytes: Vec<u8> },
    Done { failures: Vec<Failure>, accepted: usize, cases: usize },
}

/// The 1-based lines an error message names ("line 12", "line 12:"), for the range check.
fn named_lines(message: &str) -> Vec<u64> {
    message
        .match_indices("line ")
        .filter_map(|(at, word)| {
            let digits: String = message[at + word.len()..].chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

/// Check a refusal: the message names the file and no line past the end of the file.
fn check_refusal(message: &str, file: &str, bytes: &[u8], gzipped: bool) -> Option<Finding> {
    if !message.contains(file) {
        return Some(finding("error-without-file", format!("the error does not name {file}: {message}")));
    }
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    if !gzipped && let Some(line) = named_lines(message).into_iter().find(|&line| line > lines.max(1)) {
        return Some(finding(
            "error-line-out-of-range",
            format!("the error names line {line} of a file of {lines} lines: {message}"),
        ));
    }
    None
}

/// Run one harness on `cases` mutants; each event goes to `events`.
fn run_harness(harness: &Harness, cases: usize, seed: u64, events: &mpsc::Sender<Event>) -> TestResult {
    let dir = tempfile::tempdir()?;
    let paths: Vec<PathBuf> = harness.files.iter().map(|(name, _)| dir.path().join(name)).collect();
    let seeds: Vec<Vec<u8>> = harness.files.iter().map(|(_, content)| content.clone()).collect();
    for (path, content) in paths.iter().zip(&seeds) {
        std::fs::write(path, content)?;
    }
    let original = (harness.read)(&paths).map_err(|e| format!("{}: the seed files are refused: {e}", harness.name))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ name_hash(harness.name));
    let mut failures = Vec::new();
    let mut accepted = 0;
    for case in 0..cases {
        let mutant = make_mutant(&mut rng, &seeds);
        let file = harness.files[mutant.mutated].0;
        let written = mutant.written.clone().unwrap_or_else(|| mutant.files[mutant.mutated].clone());
        for (index, path) in paths.iter().enumerate() {
            std::fs::write(path, if index == mutant.mutated { &written } else { &seeds[index] })?;
        }
        let _ = events.send(Event::Start { case, file, steps: mutant.steps.clone(), bytes: written.clone() });
        let outcome = catch_unwind(AssertUnwindSafe(|| (harness.read)(&paths)));
        let mut fail = |class: &'static str, message: String| {
            failures.push(Failure {
                reader: harness.name,
                case,
                class,
                message,
                file,
                steps: mutant.steps.clone(),
                bytes: written.clone(),
            });
        };
        match outcome {
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                fail("panic", format!("the reader panicked: {message}"));
            }
            Ok(Err(message)) => {
                if harness.precise_errors
                    && let Some(found) = check_refusal(&message, file, &written, mutant.written.is_some())
                {
                    fail(found.class, found.message);
                }
            }
            Ok(Ok(summary)) => {
                accepted += 1;
                if mutant.written.is_some() {
                    fail("gzip-truncated", "a truncated gzip file was accepted".into());
                    continue;
                }
                for problem in &summary.problems {
                    fail("invalid-value", problem.clone());
                }
                let context = Context {
                    original: &original,
                    mutant: &summary,
                    original_files: &seeds,
                    files: &mutant.files,
                    mutated: mutant.mutated,
                };
                for found in (harness.check)(&context) {
                    fail(found.class, found.message);
                }
            }
        }
    }
    let _ = events.send(Event::Done { failures, accepted, cases });
    Ok(())
}

/// A stable hash of a reader's name (FNV-1a), so each reader draws its own stream.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|value| value.trim().parse().ok()).unwrap_or(default)
}

/// The result of fuzzing one harness.
struct Outcome {
    name: &'static str,
    failures: Vec<Failure>,
    accepted: usize,
    cases: usize,
    elapsed: Duration,
}

/// Fuzz one harness on a worker thread; a call that takes longer than [`HANG_LIMIT`] is a hang.
fn fuzz(make: MakeHarness, cases: usize, seed: u64) -> Result<Outcome, String> {
    let name = make().name;
    let started = Instant::now();
    let (sender, receiver) = mpsc::channel();
    let worker = std::thread::spawn(move || run_harness(&make(), cases, seed, &sender).map_err(|e| e.to_string()));
    let mut current: Option<(usize, &'static str, Vec<String>, Vec<u8>)> = None;
    loop {
        match receiver.recv_timeout(HANG_LIMIT) {
            Ok(Event::Start { case, file, steps, bytes }) => current = Some((case, file, steps, bytes)),
            Ok(Event::Done { failures, accepted, cases }) => {
                let _ = worker.join();
                return Ok(Outcome { name, failures, accepted, cases, elapsed: started.elapsed() });
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // The worker is left behind; the test fails anyway.
                let Some((case, file, steps, bytes)) = current else {
                    return Err(format!("{name}: the seed files took longer than {HANG_LIMIT:?}"));
                };
                let failure = Failure {
                    reader: name,
                    case,
                    class: "hang",
                    message: format!("no answer within {HANG_LIMIT:?}"),
                    file,
                    steps,
                    bytes,
                };
                return Ok(Outcome {
                    name,
                    failures: vec![failure],
                    accepted: 0,
                    cases: case + 1,
                    elapsed: started.elapsed(),
                });
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return match worker.join() {
                    Ok(Err(message)) => Err(message),
                    _ => Err(format!("{name}: the worker stopped without a result")),
                };
            }
        }
    }
}

#[test]
fn fuzz_readers() -> TestResult {
    let cases = env_number("OMIX_FUZZ_CASES", DEFAULT_CASES as u64) as usize;
    let seed = env_number("OMIX_FUZZ_SEED", DEFAULT_SEED);
    println!("fuzzing every reader: {cases} mutants each, seed {seed} (OMIX_FUZZ_CASES, OMIX_FUZZ_SEED)");
    let mut failing = Vec::new();
    let mut gated: BTreeMap<(&'static str, &'static str), usize> = BTreeMap::new();
    for make in harnesses() {
        let outcome = fuzz(make, cases, seed)?;
        println!(
            "{:<44} {:>5} cases, {:>4} accepted, {:>3} failures, {:.2?}",
            outcome.name,
            outcome.cases,
            outcome.accepted,
            outcome.failures.len(),
            outcome.elapsed
        );
        for failure in outcome.failures {
            if known_open(&failure) {
                println!("  known open: {failure}");
                *gated.entry((failure.reader, failure.class)).or_default() += 1;
            } else {
                println!("  FAILURE: {failure}");
                failing.push(failure);
            }
        }
    }
    for ((reader, class), count) in &gated {
        println!("gated (KNOWN_OPEN): {count} case(s) of class {class} in {reader}");
    }
    if failing.is_empty() {
        return Ok(());
    }
    let mut classes: BTreeMap<&str, usize> = BTreeMap::new();
    for failure in &failing {
        *classes.entry(failure.class).or_default() += 1;
    }
    Err(format!("{} failing case(s) by class: {classes:?} (each printed above)", failing.len()).into())
}

// ---------------------------------------------------------------------------------------------
// The oracle must bite: broken readers are flagged.

/// Run `harness` and return the classes of its failures.
fn failure_classes(make: MakeHarness, cases: usize) -> Result<BTreeSet<&'static str>, String> {
    let outcome = fuzz(make, cases, DEFAULT_SEED)?;
    Ok(outcome.failures.iter().map(|f| f.class).collect())
}

#[test]
fn self_check() -> TestResult {
    // A sequence-line reader that silently drops the last line.
    let drops_last = || Harness {
        read: |paths| {
            let mut records = omix_io::read_sequence_lines(&paths[0]).map_err(|e| e.to_string())?;
            records.pop();
            Ok(Summary { records: records.len(), ..Summary::default() })
        },
        ..sequence_lines()
    };
    // A pairing of sequences and labels that zips them without comparing the counts and takes
    // the labels as they come.
    let zips = || Harness {
        read: |paths| {
            let sequences = omix_io::read_sequence_lines(&paths[0]).map_err(|e| e.to_string())?;
            let labels = omix_io::read_label_lines(&paths[1]).map_err(|e| e.to_string())?;
            let pairs: Vec<_> = sequences.iter().zip(&labels).collect();
            Ok(Summary {
                records: pairs.len(),
                labels: pairs.iter().map(|(_, label)| label.label.clone()).collect(),
                ..Summary::default()
            })
        },
        ..lines_pair()
    };
    // A VCF reader that stops at the first error instead of refusing the file.
    let lenient_vcf = || Harness {
        read: |paths| {
            let reader = VcfReader::open(&paths[0]).map_err(|e| e.to_string())?;
            let mut records = BTreeSet::new();
            let mut rows = Vec::new();
            for variant in reader.map_while(Result::ok) {
                if records.insert(variant.record) {
                    rows.push((variant.line, variant.raw.join("\t")));
                }
            }
            Ok(Summary { records: records.len(), rows, ..Summary::default() })
        },
        ..vcf()
    };
    // A MEME reader that panics on any file with a line longer than 60 bytes.
    let panics = || Harness {
        read: |paths| {
            let bytes = std::fs::read(&paths[0]).map_err(|e| e.to_string())?;
            assert!(text_lines(&bytes).iter().all(|line| line.len() <= 60), "a long line");
            (meme().read)(paths)
        },
        ..meme()
    };
    // A BED reader that gives each record the name of the record before it.
    let shifted_names = || Harness {
        read: |paths| {
            let mut summary = (bed().read)(paths)?;
            let names: Vec<String> = summary.rows.iter().map(|(_, row)| row.clone()).collect();
            for (index, (_, row)) in summary.rows.iter_mut().enumerate().skip(1) {
                *row = format!("{row} after {}", names[index - 1]);
            }
            Ok(summary)
        },
        ..bed()
    };
    let expectations: [(MakeHarness, &str); 5] = [
        (drops_last, "record-count"),
        (zips, "label-drift"),
        (lenient_vcf, "record-count"),
        (panics, "panic"),
        (shifted_names, "record-content"),
    ];
    for (make, class) in expectations {
        let name = make().name;
        // `drops_last` is caught on the seed itself; the others need mutants.
        let classes = failure_classes(make, 100)?;
        assert!(classes.contains(class), "{name}: a broken reader must give a '{class}' failure, got {classes:?}");
        println!("self-check {name}: flagged {classes:?}");
    }
    let zipped = failure_classes(zips, 100)?;
    assert!(zipped.contains("record-count"), "a pairing that ignores counts must give 'record-count', got {zipped:?}");
    Ok(())
}

/// The mutator itself: every kind of mutation happens, and the same seed gives the same mutants.
#[test]
fn mutator_is_seeded_and_varied() {
    let seeds = vec![seed_vcf()];
    let draw = || {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        (0..200).map(|_| make_mutant(&mut rng, &seeds)).map(|m| (m.steps, m.written, m.files)).collect::<Vec<_>>()
    };
    let first = draw();
    assert!(first == draw(), "the same seed must give the same mutants");
    let steps: Vec<String> = first.iter().flat_map(|(steps, _, _)| steps.clone()).collect();
    for kind in [
        "byte ",
        "delete byte",
        "delete the newline",
        "duplicate line",
        "delete line",
        "swap line",
        "truncate at",
        "BOM",
        "last field",
        "CR-only",
        "gzip",
    ] {
        assert!(steps.iter().any(|s| s.contains(kind)), "no '{kind}' mutation in 200 mutants");
    }
}

#[test]
fn independent_views() {
    assert_eq!(text_lines(b"\xef\xbb\xbfa\r\nb\n\nc"), vec![&b"a"[..], b"b", b"", b"c"]);
    assert_eq!(text_lines(b""), Vec::<&[u8]>::new());
    assert_eq!(text_lines_cr(b"a\rb\r\nc\r"), vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    assert_eq!(table_rows(&text_lines(b"# c\n\nh\tx\n1\t2\n\n3\t4\n")), 2);
    assert_eq!(fasta_headers(&text_lines(&seed_fasta("r", 0..8))), 8);
    assert_eq!(fasta_bases(&text_lines(&seed_fasta("r", 0..8))), 160);
    assert_eq!(named_lines("x.txt, line 12: bad (first seen on line 3)"), vec![12, 3]);
}
