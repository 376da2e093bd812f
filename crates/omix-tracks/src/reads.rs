//! Reads in: coordinate-sorted BAM files (noodles-bam) and fragment files, streamed into a
//! [`CutCounter`].

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use noodles_bam as bam;
use noodles_sam::alignment::record::cigar::op::Kind;

use crate::cuts::{CutCounter, Run, Shift, Strand, Stranding};
use crate::{ChromSizes, TrackError};

/// Which reads of a BAM file are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadFilter {
    /// Reads with a lower mapping quality are dropped (a missing quality, 255, passes).
    pub min_mapq: u8,
    pub keep_duplicates: bool,
    pub keep_secondary: bool,
    pub keep_supplementary: bool,
    pub keep_qc_fail: bool,
}

impl Default for ReadFilter {
    /// Primary, non-duplicate, QC-passing alignments of any mapping quality.
    fn default() -> Self {
        ReadFilter {
            min_mapq: 0,
            keep_duplicates: false,
            keep_secondary: false,
            keep_supplementary: false,
            keep_qc_fail: false,
        }
    }
}

/// What happened to the records of an input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadCounts {
    /// Records (BAM alignments or fragment lines) read.
    pub records: u64,
    /// Records whose cuts were counted.
    pub used: u64,
    pub unmapped: u64,
    pub secondary: u64,
    pub supplementary: u64,
    pub qc_fail: u64,
    pub duplicate: u64,
    pub low_mapq: u64,
    /// Records on contigs absent from the chrom sizes (only with `allow_missing_contigs`).
    pub missing_contig: u64,
    /// Cuts counted, and cuts a shift moved off the contig's ends.
    pub cuts: u64,
    pub cuts_outside: u64,
}

impl ReadCounts {
    /// One line per kind of dropped record that occurred, for the terminal and the summary.
    pub fn dropped_lines(&self) -> Vec<String> {
        [
            (self.unmapped, "unmapped"),
            (self.secondary, "secondary alignments"),
            (self.supplementary, "supplementary alignments"),
            (self.qc_fail, "failing QC"),
            (self.duplicate, "duplicates"),
            (self.low_mapq, "below the mapping quality threshold"),
            (self.missing_contig, "on contigs not in the reference (--allow-missing-contigs)"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("dropped {n} records {what}"))
        .collect()
    }
}

/// Where runs of counts go: `(contig index, output, run)`.
pub type Emit<'a> = dyn FnMut(usize, usize, Run) + 'a;

/// Tracks the sort order of the input and starts contigs on the counter.
struct Order {
    contig: Option<usize>,
    position: u64,
    finished: Vec<bool>,
}

impl Order {
    fn new(contigs: usize) -> Order {
        Order { contig: None, position: 0, finished: vec![false; contigs] }
    }

    /// Move to `contig` at `start`, or say where the input stopped being sorted.
    #[allow(clippy::too_many_arguments)]
    fn visit(
        &mut self,
        contig: usize,
        start: u64,
        sizes: &ChromSizes,
        counter: &mut CutCounter,
        emit: &mut Emit<'_>,
        unsorted: &dyn Fn(&str, u64) -> TrackError,
    ) -> Result<(), TrackError> {
        if self.contig != Some(contig) {
            if self.finished[contig] {
                return Err(unsorted(sizes.name(self.contig.unwrap_or(contig)), self.position));
            }
            if let Some(previous) = self.contig {
                self.finished[previous] = true;
            }
            counter.start_contig(contig, sizes.length(contig), emit);
            self.contig = Some(contig);
            self.position = 0;
        } else if start < self.position {
            return Err(unsorted(sizes.name(contig), self.position));
        }
        self.position = start;
        counter.advance(start, emit);
        Ok(())
    }
}

/// Whether `path` is a BAM file (BGZF-compressed, starting with `BAM\1`).
pub fn is_bam(path: &Path) -> Result<bool, TrackError> {
    let mut file = File::open(path).map_err(|e| TrackError::io(path, e))?;
    let mut magic = [0u8; 2];
    let read = file.read(&mut magic).map_err(|e| TrackError::io(path, e))?;
    if read < 2 || magic != [0x1f, 0x8b] {
        return Ok(false);
    }
    let file = File::open(path).map_err(|e| TrackError::io(path, e))?;
    let mut decoder = noodles_bgzf::io::Reader::new(file);
    let mut head = [0u8; 4];
    Ok(decoder.read_exact(&mut head).is_ok() && &head == b"BAM\x01")
}

/// The reference list of a BAM file's binary header, and a warning when its SAM text header is malformed
/// (omix needs only the contig list and the `@HD SO:` sort order, so a bad `@PG` line is reported, not fatal).
pub struct BamHeader {
    pub contigs: Vec<(String, u64)>,
    pub sort_order: Option<String>,
    pub warning: Option<String>,
}

pub(crate) fn read_bam_header<R: Read>(path: &Path, reader: &mut bam::io::Reader<R>) -> Result<BamHeader, TrackError> {
    let bad = |message: String| TrackError::BamHeader { path: path.to_path_buf(), message };
    let mut header_reader = reader.header_reader();
    let magic = header_reader.read_magic_number().map_err(|e| bad(e.to_string()))?;
    if &magic != b"BAM\x01" {
        return Err(bad("not a BAM file (the magic number is not BAM\\1)".into()));
    }
    let mut text = Vec::new();
    {
        let mut sam = header_reader.raw_sam_header_reader().map_err(|e| bad(e.to_string()))?;
        sam.read_to_end(&mut text).map_err(|e| bad(e.to_string()))?;
        sam.discard_to_end().map_err(|e| bad(e.to_string()))?;
    }
    let references = header_reader.read_reference_sequences().map_err(|e| bad(e.to_string()))?;
    let contigs =
        references.iter().map(|(name, sequence)| (name.to_string(), sequence.length().get() as u64)).collect();
    let text = String::from_utf8_lossy(&text);
    let text = text.trim_end_matches('\0');
    let warning = text.parse::<noodles_sam::Header>().err().map(|e| {
        let line = malformed_line(text);
        format!(
            "{}: the SAM header text is malformed ({e}{line}); omix reads only the binary contig list and the \
             @HD sort order, so it goes on",
            path.display()
        )
    });
    let sort_order = text
        .lines()
        .find(|l| l.starts_with("@HD"))
        .and_then(|l| l.split('\t').find_map(|f| f.strip_prefix("SO:")).map(str::to_owned));
    Ok(BamHeader { contigs, sort_order, warning })
}

/// The first header line noodles refuses, for the warning.
fn malformed_line(text: &str) -> String {
    for (number, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        if format!("{line}\n").parse::<noodles_sam::Header>().is_err() && !line.starts_with("@SQ") {
            let shown: String = line.chars().take(80).collect();
            return format!("; header line {}: {shown:?}", number + 1);
        }
    }
    String::new()
}

/// Stream the reads of the coordinate-sorted BAM file `path` into `counter`.
///
/// `sizes` (the reference's contigs, or the BAM's own) lays out the output; every BAM contig must be there
/// with the same length unless `allow_missing_contigs` (then their reads are dropped and counted).
#[allow(clippy::too_many_arguments)]
pub fn count_bam(
    path: &Path,
    sizes: &ChromSizes,
    filter: ReadFilter,
    allow_missing_contigs: bool,
    counter: &mut CutCounter,
    emit: &mut Emit<'_>,
    log: &mut dyn FnMut(&str),
) -> Result<ReadCounts, TrackError> {
    let file = File::open(path).map_err(|e| TrackError::io(path, e))?;
    let mut reader = bam::io::Reader::new(BufReader::with_capacity(1 << 20, file));
    let header = read_bam_header(path, &mut reader)?;
    if let Some(warning) = &header.warning {
        log(warning);
    }
    if let Some(order) = &header.sort_order
        && order != "coordinate"
        && order != "unknown"
    {
        return Err(TrackError::Unsorted {
            path: path.to_path_buf(),
            place: "header".into(),
            message: format!(
                "@HD SO:{order}: the file must be sorted by coordinate (samtools sort -o sorted.bam input.bam)"
            ),
        });
    }
    sizes.check(path, "the BAM header", header.contigs.iter().map(|(n, l)| (n.as_str(), *l)), allow_missing_contigs)?;
    let to_sizes: Vec<Option<usize>> = header.contigs.iter().map(|(name, _)| sizes.index_of(name)).collect();

    let mut counts = ReadCounts::default();
    let mut order = Order::new(sizes.len());
    let mut record = bam::Record::default();
    let mut unplaced_seen = false;
    loop {
        let record_number = counts.records + 1;
        let bad = |message: String| TrackError::BamRecord { path: path.to_path_buf(), record: record_number, message };
        match reader.read_record(&mut record) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(bad(format!("cannot decode: {e}"))),
        }
        counts.records += 1;
        let reference = record.reference_sequence_id().transpose().map_err(|e| bad(e.to_string()))?;
        let start = record.alignment_start().transpose().map_err(|e| bad(e.to_string()))?;
        let (Some(reference), Some(start)) = (reference, start) else {
            counts.unmapped += 1;
            unplaced_seen = true;
            continue;
        };
        let start = start.get() as u64 - 1;
        let Some(&mapped) = to_sizes.get(reference) else {
            return Err(bad(format!(
                "reference id {reference} is not in the header's {} contigs",
                header.contigs.len()
            )));
        };
        if unplaced_seen {
            return Err(TrackError::Unsorted {
                path: path.to_path_buf(),
                place: format!("record {record_number}"),
                message: format!(
                    "{}:{} comes after unplaced reads; the file must be sorted by coordinate (samtools sort puts \
                     unplaced reads last)",
                    header.contigs[reference].0,
                    start + 1
                ),
            });
        }
        let Some(contig) = mapped else {
            counts.missing_contig += 1;
            continue;
        };
        let unsorted = |chrom: &str, previous: u64| {
            TrackError::unsorted(
                path,
                format!("record {record_number}"),
                (&header.contigs[reference].0, start + 1),
                (chrom, previous + 1),
                "samtools sort -o sorted.bam input.bam",
            )
        };
        order.visit(contig, start, sizes, counter, emit, &unsorted)?;

        let flags = record.flags();
        if flags.is_unmapped() {
            counts.unmapped += 1;
            continue;
        }
        if flags.is_secondary() && !filter.keep_secondary {
            counts.secondary += 1;
            continue;
        }
        if flags.is_supplementary() && !filter.keep_supplementary {
            counts.supplementary += 1;
            continue;
        }
        if flags.is_qc_fail() && !filter.keep_qc_fail {
            counts.qc_fail += 1;
            continue;
        }
        if flags.is_duplicate() && !filter.keep_duplicates {
            counts.duplicate += 1;
            continue;
        }
        let mapq = record.mapping_quality().map_or(255, u8::from);
        if mapq < filter.min_mapq {
            counts.low_mapq += 1;
            continue;
        }
        let mut span = 0u64;
        for op in record.cigar().iter() {
            let op = op.map_err(|e| bad(format!("bad CIGAR: {e}")))?;
            if matches!(
                op.kind(),
                Kind::Match | Kind::Deletion | Kind::Skip | Kind::SequenceMatch | Kind::SequenceMismatch
            ) {
                span += op.len() as u64;
            }
        }
        // A mapped read without reference-consuming operations (no CIGAR) covers one base, as samtools
        // and bedtools treat it.
        let end = start + span.max(1);
        let length = sizes.length(contig);
        if end > length {
            return Err(TrackError::past_end(
                path,
                format!("record {record_number}"),
                (sizes.name(contig), start + 1, end),
                length,
                sizes.source(),
            ));
        }
        let strand = if flags.is_reverse_complemented() { Strand::Minus } else { Strand::Plus };
        counter.add(start, end, strand);
        counts.used += 1;
    }
    counter.finish_contig(emit);
    counts.cuts = counter.counted;
    counts.cuts_outside = counter.outside;
    Ok(counts)
}

/// Stream a fragment file (`chrom start end [barcode [count ...]]`, tab-separated, 0-based half-open,
/// plain/gzip/bgzip; `#` lines are comments) into `counter`: each fragment gives a plus-strand cut at its
/// start and a minus-strand cut at its end. The file must be sorted by contig (each contig in one block)
/// and start. The count column (how often the fragment was seen) is not used: each fragment counts once,
/// as chrombpnet counts it.
pub fn count_fragments(
    path: &Path,
    sizes: &ChromSizes,
    allow_missing_contigs: bool,
    counter: &mut CutCounter,
    emit: &mut Emit<'_>,
) -> Result<ReadCounts, TrackError> {
    let reader = omix_io::open(path)?;
    let mut counts = ReadCounts::default();
    let mut order = Order::new(sizes.len());
    let mut missing: Option<String> = None;
    let mut line = String::new();
    let mut reader = reader;
    let mut line_number = 0u64;
    loop {
        line.clear();
        let read = reader.read_line(&mut line).map_err(|e| TrackError::io(path, e))?;
        if read == 0 {
            break;
        }
        line_number += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        if text.starts_with('#') {
            continue;
        }
        let bad = |message: String| TrackError::Line { path: path.to_path_buf(), line: line_number, message };
        if text.trim().is_empty() {
            return Err(bad("empty line; each line must be `chrom<TAB>start<TAB>end[<TAB>barcode<TAB>count]`".into()));
        }
        let mut fields = text.split('\t');
        let (Some(chrom), Some(start), Some(end)) = (fields.next(), fields.next(), fields.next()) else {
            return Err(bad(format!(
                "expected at least 3 tab-separated fields (chrom, start, end), found {}",
                text.split('\t').count()
            )));
        };
        let number = |field: &str, what: &str| -> Result<u64, TrackError> {
            field.trim().parse::<u64>().map_err(|_| bad(format!("{what} {field:?} is not a whole number")))
        };
        let (start, end) = (number(start, "start")?, number(end, "end")?);
        if end <= start {
            return Err(bad(format!("end {end} is not after start {start}")));
        }
        counts.records += 1;
        let Some(contig) = sizes.index_of(chrom) else {
            if allow_missing_contigs {
                counts.missing_contig += 1;
                if missing.as_deref() != Some(chrom) {
                    missing = Some(chrom.to_owned());
                }
                continue;
            }
            return Err(TrackError::Contigs {
                path: path.to_path_buf(),
                message: format!(
                    "line {line_number}: contig {chrom} is not in {}; use the reference the fragments were \
                     called on, or pass --allow-missing-contigs to drop them (they are counted)",
                    sizes.source().display()
                ),
            });
        };
        let length = sizes.length(contig);
        if end > length {
            return Err(TrackError::past_end(
                path,
                format!("line {line_number}"),
                (chrom, start, end),
                length,
                sizes.source(),
            ));
        }
        let unsorted = |previous_chrom: &str, previous: u64| {
            TrackError::unsorted(
                path,
                format!("line {line_number}"),
                (chrom, start),
                (previous_chrom, previous),
                "sort -k1,1 -k2,2n",
            )
        };
        order.visit(contig, start, sizes, counter, emit, &unsorted)?;
        counter.add(start, end, Strand::Plus);
        counter.add(start, end, Strand::Minus);
        counts.used += 1;
    }
    counter.finish_contig(emit);
    counts.cuts = counter.counted;
    counts.cuts_outside = counter.outside;
    Ok(counts)
}

/// Runs of counts in order: `(contig index, output, run)`.
pub type CountedRuns = Vec<(usize, usize, Run)>;

/// Reads from `path` (BAM or fragments) counted with `shift` into runs, collected in memory: for tests and
/// small inputs (the bigWig writer streams instead).
pub fn count_to_runs(
    path: &Path,
    sizes: &ChromSizes,
    shift: Shift,
    stranding: Stranding,
    filter: ReadFilter,
) -> Result<(CountedRuns, ReadCounts), TrackError> {
    let mut counter = CutCounter::new(shift, stranding);
    let mut runs = Vec::new();
    let mut emit = |contig: usize, output: usize, run: Run| runs.push((contig, output, run));
    let counts = if is_bam(path)? {
        count_bam(path, sizes, filter, false, &mut counter, &mut emit, &mut |_| {})?
    } else {
        count_fragments(path, sizes, false, &mut counter, &mut emit)?
    };
    Ok((runs, counts))
}
