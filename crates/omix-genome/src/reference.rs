//! Random access to a reference genome (FASTA, plain or bgzip) through its `.fai` index.

mod index;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use noodles_bgzf as bgzf;

use crate::GenomeError;
use index::{Compression, Fai, Gzi};

/// The most bases a fetch may ask for beyond the contig's length (16 Mi): more is refused as a mistake.
pub const MAX_PADDING: u64 = 1 << 24;

/// One sequence (chromosome, scaffold, ...) of a reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Contig {
    /// Its name: the first word of its FASTA header.
    pub name: String,
    /// Its length in bases.
    pub length: u64,
}

/// Where a contig's bases lie in the (uncompressed) FASTA file, from the `.fai`.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// Byte offset of the first base.
    offset: u64,
    /// Bases per full line.
    line_bases: u64,
    /// Bytes per full line, line end included.
    line_width: u64,
}

impl Layout {
    /// The byte offset of the 0-based base `position`.
    fn byte_of(&self, position: u64) -> u64 {
        self.offset + position / self.line_bases * self.line_width + position % self.line_bases
    }

    /// [`Layout::byte_of`], or `None` on overflow (a corrupt index).
    fn checked_byte_of(&self, position: u64) -> Option<u64> {
        (position / self.line_bases)
            .checked_mul(self.line_width)?
            .checked_add(position % self.line_bases)?
            .checked_add(self.offset)
    }
}

/// The file behind a reference, read at byte offsets of its uncompressed text.
enum Source {
    /// Plain text: positional reads (`pread`) on one shared handle, so threads never wait for each other.
    #[cfg(unix)]
    Plain(File),
    /// Plain text on platforms without positional reads: one handle behind a lock.
    #[cfg(not(unix))]
    Plain(Mutex<File>),
    /// Bgzip: a pool of block readers, one taken per fetch, so threads only share the pool's lock.
    Bgzf {
        /// The block index.
        gzi: bgzf::gzi::Index,
        /// Idle readers.
        pool: Mutex<Vec<BlockReader>>,
    },
}

/// A bgzip reader that keeps its last decompressed block, so nearby fetches (tiling, sorted windows) do not
/// inflate the same 64 KiB block again.
struct BlockReader {
    reader: bgzf::io::Reader<File>,
    /// The uncompressed offset of the block the reader holds (unconsumed), and its length (0: none).
    block: (u64, u64),
}

impl BlockReader {
    /// Fill `buffer` from uncompressed byte `offset`; fewer bytes (the count returned) only at the end of the data.
    fn fill(&mut self, gzi: &bgzf::gzi::Index, offset: u64, buffer: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        while filled < buffer.len() {
            let want = offset + filled as u64;
            let (start, length) = self.block;
            let held = start <= want && want < start + length;
            if !held && !self.load(gzi, want)? {
                break;
            }
            // The held block is unconsumed, so fill_buf returns all of it without reading.
            let data = self.reader.fill_buf()?;
            let from = usize::try_from(want - self.block.0).map_err(io::Error::other)?;
            let count = (data.len().saturating_sub(from)).min(buffer.len() - filled);
            if count == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the bgzip block is shorter than its index says",
                ));
            }
            buffer[filled..filled + count].copy_from_slice(&data[from..from + count]);
            filled += count;
        }
        Ok(filled)
    }

    /// Make the reader hold the block containing uncompressed byte `want`; false when the data ends before it.
    fn load(&mut self, gzi: &bgzf::gzi::Index, want: u64) -> io::Result<bool> {
        let (start, length) = self.block;
        let mut block_start = if length > 0 && want == start + length {
            // The next block: read on from the held one.
            self.reader.consume(length as usize);
            want
        } else {
            let entries = gzi.as_ref();
            let i = entries.partition_point(|&(_, uncompressed)| uncompressed <= want);
            let (compressed, uncompressed) = if i == 0 { (0, 0) } else { entries[i - 1] };
            let position = bgzf::VirtualPosition::try_from((compressed, 0)).map_err(io::Error::other)?;
            self.block = (0, 0);
            self.reader.seek(position)?;
            uncompressed
        };
        // With a coarse index the wanted byte may lie some blocks on.
        loop {
            let data = self.reader.fill_buf()?;
            let length = data.len() as u64;
            if length == 0 {
                self.block = (0, 0);
                return Ok(false);
            }
            if want < block_start + length {
                self.block = (block_start, length);
                return Ok(true);
            }
            self.reader.consume(length as usize);
            block_start += length;
        }
    }
}

impl Source {
    /// Fill `buffer` from byte `offset` of the uncompressed FASTA text at `path`; the count returned is
    /// shorter than the buffer only at the end of the text.
    fn read_upto(&self, path: &Path, offset: u64, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            #[cfg(unix)]
            Source::Plain(file) => {
                let mut filled = 0;
                while filled < buffer.len() {
                    match std::os::unix::fs::FileExt::read_at(file, &mut buffer[filled..], offset + filled as u64) {
                        Ok(0) => break,
                        Ok(read) => filled += read,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(filled)
            }
            #[cfg(not(unix))]
            Source::Plain(file) => {
                use std::io::{Read, Seek, SeekFrom};
                let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                file.seek(SeekFrom::Start(offset))?;
                let mut filled = 0;
                while filled < buffer.len() {
                    match file.read(&mut buffer[filled..]) {
                        Ok(0) => break,
                        Ok(read) => filled += read,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(filled)
            }
            Source::Bgzf { gzi, pool } => {
                let idle = pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
                let mut reader = match idle {
                    Some(reader) => reader,
                    None => BlockReader { reader: bgzf::io::Reader::new(File::open(path)?), block: (0, 0) },
                };
                let filled = reader.fill(gzi, offset, buffer)?;
                // A reader that failed part-way is dropped rather than reused.
                pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(reader);
                Ok(filled)
            }
        }
    }

    /// Fill `buffer` from byte `offset` of the uncompressed FASTA text; the text ending first is an error.
    fn read_exact_at(&self, path: &Path, offset: u64, buffer: &mut [u8]) -> io::Result<()> {
        let filled = self.read_upto(path, offset, buffer)?;
        if filled < buffer.len() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("byte {} lies past the end of the FASTA text", offset + filled as u64),
            ));
        }
        Ok(())
    }

    /// Up to `length` bytes from byte `offset` (fewer at the end of the text).
    fn bytes(&self, path: &Path, offset: u64, length: u64) -> io::Result<Vec<u8>> {
        let mut buffer = vec![0; usize::try_from(length).map_err(io::Error::other)?];
        let filled = self.read_upto(path, offset, &mut buffer)?;
        buffer.truncate(filled);
        Ok(buffer)
    }
}

/// The shared part of a [`Reference`].
struct Inner {
    path: PathBuf,
    contigs: Vec<Contig>,
    layouts: Vec<Layout>,
    by_name: HashMap<String, usize>,
    source: Source,
}

/// An indexed reference genome: contig names and lengths, and the bases of any interval.
///
/// Cloning is cheap (an [`Arc`]); [`Reference::fetch`] takes `&self` and may be called from many
/// threads at once.
#[derive(Clone)]
pub struct Reference {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reference")
            .field("path", &self.inner.path)
            .field("contigs", &self.inner.contigs.len())
            .finish_non_exhaustive()
    }
}

/// The folder where indexes of FASTA files in read-only folders are kept: `<temp dir>/omix-fai`.
pub fn default_index_cache() -> PathBuf {
    std::env::temp_dir().join("omix-fai")
}

impl Reference {
    /// Open a FASTA file (plain or bgzip, told apart by its first bytes) with its `.fai` index.
    ///
    /// The `.fai` next to the FASTA is used when it is not older than the FASTA, after checking it against the
    /// file (offsets and line layout within it, each contig's header line right before its first base and a line
    /// end right after its last, no contig of the FASTA left out): an inconsistent one is an error naming it,
    /// the contig and what is wrong. Without one, the FASTA is indexed in memory and the index kept in omix's
    /// cache [`default_index_cache`] (`<temp dir>/omix-fai/<key>/<name>.fai`, the key covering the FASTA's path,
    /// size, time and first and last bytes); `log` gets one line saying so. Nothing is written next to the
    /// FASTA. A bgzip file also needs a `.gzi` block index, found or built the same way. Plain gzip cannot be
    /// read at random positions and is refused with a hint to use bgzip. A UTF-8 byte order mark is skipped.
    pub fn open(path: &Path, log: &mut dyn FnMut(&str)) -> Result<Reference, GenomeError> {
        Reference::open_with_index_cache(path, &default_index_cache(), log)
    }

    /// [`Reference::open`], keeping built indexes under `cache` instead.
    pub fn open_with_index_cache(
        path: &Path,
        cache: &Path,
        log: &mut dyn FnMut(&str),
    ) -> Result<Reference, GenomeError> {
        let compression = index::detect(path)?;
        let file_size =
            std::fs::metadata(path).map_err(|source| GenomeError::Read { path: path.to_path_buf(), source })?.len();
        let source = match compression {
            Compression::None => {
                let file = File::open(path).map_err(|source| GenomeError::Open { path: path.to_path_buf(), source })?;
                #[cfg(unix)]
                let source = Source::Plain(file);
                #[cfg(not(unix))]
                let source = Source::Plain(Mutex::new(file));
                source
            }
            Compression::Bgzf => {
                let mut loaded: index::Loaded<Gzi> = index::load_or_build(path, compression, cache, log)?;
                if let Err(message) = index::check_gzi(path, &loaded.index.0, file_size) {
                    if loaded.origin == index::Origin::Beside {
                        return Err(GenomeError::BadIndex { path: loaded.path, message });
                    }
                    let places = index::Places::new(path, "gzi", cache);
                    loaded = index::build_and_cache(path, compression, &places, None, log)?;
                }
                Source::Bgzf { gzi: loaded.index.0, pool: Mutex::new(Vec::new()) }
            }
        };
        let plain_size = (compression == Compression::None).then_some(file_size);
        let loaded: index::Loaded<Fai> = index::load_or_build(path, compression, cache, log)?;
        let (contigs, layouts) = match contigs_and_layouts(&loaded.index, path, &source, plain_size) {
            Ok(checked) => checked,
            Err(_) if loaded.origin == index::Origin::Cache => {
                // omix's own cached index disagrees with the FASTA: rebuild it rather than bother the user.
                let places = index::Places::new(path, "fai", cache);
                let rebuilt: index::Loaded<Fai> = index::build_and_cache(path, compression, &places, None, log)?;
                contigs_and_layouts(&rebuilt.index, path, &source, plain_size)
                    .map_err(|message| GenomeError::BadIndex { path: rebuilt.path, message })?
            }
            Err(message) => return Err(GenomeError::BadIndex { path: loaded.path, message }),
        };
        let by_name = contigs.iter().enumerate().map(|(i, contig)| (contig.name.clone(), i)).collect();
        Ok(Reference { inner: Arc::new(Inner { path: path.to_path_buf(), contigs, layouts, by_name, source }) })
    }

    /// The FASTA file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The contigs, in file order.
    pub fn contigs(&self) -> &[Contig] {
        &self.inner.contigs
    }

    /// The length in bases of the contig `name`, or `None` when the reference has no such contig.
    pub fn contig_length(&self, name: &str) -> Option<u64> {
        self.inner.by_name.get(name).map(|&i| self.inner.contigs[i].length)
    }

    /// Whether the reference has a contig called `name`.
    pub fn has_contig(&self, name: &str) -> bool {
        self.inner.by_name.contains_key(name)
    }

    /// The error for a contig the reference does not have.
    pub(crate) fn unknown_contig(&self, name: &str) -> GenomeError {
        GenomeError::UnknownContig {
            name: name.to_owned(),
            reference: self.inner.path.clone(),
            known: self.inner.contigs.iter().take(10).map(|c| c.name.clone()).collect(),
            total: self.inner.contigs.len(),
        }
    }

    /// The bases of `name`:[`start`, `end`) (0-based, half-open), upper-cased.
    ///
    /// `start` may be negative and `end` may exceed the contig: the part outside it is `N`, so the result
    /// always holds `end - start` bases. Errors: an unknown contig (naming it and the reference file),
    /// `end < start`, an interval longer than the contig plus [`MAX_PADDING`], or bytes that do not match the
    /// index (a FASTA file changed after indexing).
    pub fn fetch(&self, name: &str, start: i64, end: i64) -> Result<Vec<u8>, GenomeError> {
        let &index = self.inner.by_name.get(name).ok_or_else(|| self.unknown_contig(name))?;
        if end < start {
            return Err(GenomeError::InvalidInterval {
                reference: self.inner.path.clone(),
                name: name.to_owned(),
                start,
                end,
            });
        }
        let total = (i128::from(end) - i128::from(start)) as u128;
        let too_long = || GenomeError::TooLong {
            reference: self.inner.path.clone(),
            name: name.to_owned(),
            start,
            end,
            length: total as u64,
        };
        let contig_length = self.inner.contigs[index].length;
        // Padding beyond this is surely a mistake, and would only fill memory with N.
        if total > u128::from(contig_length) + MAX_PADDING as u128 {
            return Err(too_long());
        }
        let total = usize::try_from(total).map_err(|_| too_long())?;
        let length = i64::try_from(contig_length).unwrap_or(i64::MAX);
        // The part inside the contig, [inside_start, inside_end).
        let inside_start = start.clamp(0, length);
        let inside_end = end.clamp(0, length);
        let mut out: Vec<u8> = Vec::new();
        if inside_start >= inside_end {
            out.try_reserve_exact(total).map_err(|_| too_long())?;
            out.resize(total, b'N');
            return Ok(out);
        }
        let (first, last) = (inside_start as u64, inside_end as u64);
        let layout = self.inner.layouts[index];
        let byte_start = layout.byte_of(first);
        let byte_end = layout.byte_of(last - 1) + 1;
        let raw = usize::try_from(byte_end - byte_start).map_err(|_| too_long())?;
        let left = (inside_start - start) as usize;
        out.try_reserve_exact(total.max(left + raw)).map_err(|_| too_long())?;
        out.resize(left, b'N');
        out.resize(left + raw, 0);
        self.read_at(byte_start, &mut out[left..]).map_err(|source| GenomeError::Read {
            path: self.inner.path.clone(),
            source: io::Error::new(source.kind(), format!("reading {name}:[{first}, {last}): {source}")),
        })?;
        // Drop line ends and upper-case, in place.
        let mut write = left;
        let mut header_seen = false;
        for read in left..left + raw {
            let base = out[read];
            if base != b'\n' && base != b'\r' {
                header_seen |= base == b'>';
                out[write] = base.to_ascii_uppercase();
                write += 1;
            }
        }
        let expected = (last - first) as usize;
        if write - left != expected || header_seen {
            let message = if header_seen {
                "a '>' header inside the bases".to_owned()
            } else {
                format!("{} bases where {expected} were expected", write - left)
            };
            return Err(GenomeError::IndexMismatch {
                path: self.inner.path.clone(),
                name: name.to_owned(),
                start: first,
                end: last,
                message,
            });
        }
        out.truncate(write);
        out.resize(total, b'N');
        Ok(out)
    }

    /// Fill `buffer` from byte `offset` of the uncompressed FASTA text.
    fn read_at(&self, offset: u64, buffer: &mut [u8]) -> io::Result<()> {
        self.inner.source.read_exact_at(&self.inner.path, offset, buffer)
    }
}

/// The most bytes read between two contigs (blank lines and a header line) or after the last one.
const MAX_GAP: u64 = 1 << 20;

/// How many bytes of a long last line are checked.
const TAIL_CHECKED: u64 = 1 << 16;

/// The contigs and layouts an index describes, checked against the FASTA text (read through `source`;
/// `plain_size` is the file's size when it is not compressed). `Err` says what is inconsistent, naming the
/// contig.
fn contigs_and_layouts(
    fai: &Fai,
    path: &Path,
    source: &Source,
    plain_size: Option<u64>,
) -> Result<(Vec<Contig>, Vec<Layout>), String> {
    let records = fai.0.as_ref();
    if records.is_empty() {
        return Err("it lists no contigs".to_owned());
    }
    let mut contigs = Vec::with_capacity(records.len());
    let mut layouts = Vec::with_capacity(records.len());
    let mut names = HashMap::with_capacity(records.len());
    for record in records {
        let name = std::str::from_utf8(record.name())
            .map_err(|_| format!("the contig name '{}' is not valid UTF-8", String::from_utf8_lossy(record.name())))?
            .to_owned();
        let layout = Layout {
            offset: record.position(),
            line_bases: record.line_base_count().get(),
            line_width: record.line_width().get(),
        };
        let (length, bases, width) = (record.length(), layout.line_bases, layout.line_width);
        if width < bases {
            return Err(format!("contig '{name}': a line of {bases} bases is said to take only {width} bytes"));
        }
        if width - bases > 2 {
            return Err(format!(
                "contig '{name}': lines of {bases} bases are said to take {width} bytes, but a line end is 1 or 2 bytes"
            ));
        }
        if width == bases && length > bases {
            return Err(format!(
                "contig '{name}': lines of {bases} bases are said to take {width} bytes, leaving no room for line ends"
            ));
        }
        // Checked once here, so that byte_of cannot overflow for any base of the contig.
        let end = match length.checked_sub(1) {
            None => Some(layout.offset),
            Some(last) => layout.checked_byte_of(last).and_then(|byte| byte.checked_add(1)),
        }
        .ok_or_else(|| format!("contig '{name}': its offsets overflow"))?;
        if let Some(size) = plain_size
            && end > size
        {
            return Err(format!(
                "contig '{name}' of {length} bases at byte {} would end at byte {end}, but the FASTA file has \
                 {size} bytes (an index of another file, or a contig length too long?)",
                layout.offset
            ));
        }
        if names.insert(name.clone(), contigs.len()).is_some() {
            return Err(format!("contig '{name}' is listed twice"));
        }
        contigs.push(Contig { name, length });
        layouts.push(layout);
    }
    check_layouts(&contigs, &layouts, path, source)?;
    Ok((contigs, layouts))
}

/// Check the layouts against the text: before each contig's first base its header line (after the previous
/// contig's line end and blank lines, nothing else); its first line ending where the layout says; its last
/// line holding bases only, followed by a line end or the end of the file; and nothing but line ends after
/// the last contig.
fn check_layouts(contigs: &[Contig], layouts: &[Layout], path: &Path, source: &Source) -> Result<(), String> {
    let read = |offset: u64, length: u64| -> Result<Vec<u8>, String> {
        source.bytes(path, offset, length).map_err(|e| format!("reading byte {offset} of the FASTA failed: {e}"))
    };
    let mut order: Vec<usize> = (0..contigs.len()).collect();
    order.sort_by_key(|&i| layouts[i].offset);
    let mut previous: Option<(&str, u64)> = None;
    for &i in &order {
        let (name, length, layout) = (contigs[i].name.as_str(), contigs[i].length, layouts[i]);
        let end = if length == 0 { layout.offset } else { layout.byte_of(length - 1) + 1 };
        // The gap before its first base: the previous contig's line end, blank lines, then its header line.
        let gap_start = previous.map_or(0, |(_, end)| end);
        let after = || previous.map_or("the start of the file".to_owned(), |(name, _)| format!("contig '{name}'"));
        if layout.offset < gap_start {
            return Err(format!(
                "contig '{name}' is said to start at byte {}, inside {} (which ends at byte {gap_start})",
                layout.offset,
                after()
            ));
        }
        let gap_length = layout.offset - gap_start;
        if gap_length > MAX_GAP {
            return Err(format!(
                "{gap_length} bytes lie between {} and contig '{name}' at byte {}, where only a header line \
                 should be: a contig missing from the index?",
                after(),
                layout.offset
            ));
        }
        let gap = read(gap_start, gap_length)?;
        if (gap.len() as u64) < gap_length {
            return Err(format!(
                "contig '{name}' is said to start at byte {}, past the end of the FASTA",
                layout.offset
            ));
        }
        check_header(&gap, previous.is_none(), name, &after)?;
        // The first line ends where the layout says.
        if length > layout.line_bases {
            let line_end = read(layout.offset + layout.line_bases, layout.line_width - layout.line_bases)?;
            if !matches!(line_end.as_slice(), b"\n" | b"\r\n") {
                return Err(format!(
                    "contig '{name}': its first line does not end after {} bases as the index says ({} bytes a line)",
                    layout.line_bases, layout.line_width
                ));
            }
        }
        // The last line: bases only (its last part, for a long line), then a line end or the end of the file.
        if length > 0 {
            let last_line = layout.byte_of((length - 1) / layout.line_bases * layout.line_bases);
            let from = last_line.max(end.saturating_sub(TAIL_CHECKED));
            let tail = read(from, end - from + 2)?;
            let inside = (end - from) as usize;
            if tail.len() < inside {
                return Err(format!(
                    "contig '{name}' of {length} bases would end at byte {end}, past the end of the FASTA \
                     (is its length too long?)"
                ));
            }
            if let Some(at) = tail[..inside].iter().position(|b| matches!(b, b'\n' | b'\r' | b'>')) {
                return Err(format!(
                    "contig '{name}': byte {} is a line end or header where the index puts a base of its last line \
                     (is its length {length} too long for the FASTA?)",
                    from + at as u64
                ));
            }
            let rest = &tail[inside..];
            if !(rest.is_empty() || rest.starts_with(b"\n") || rest.starts_with(b"\r\n")) {
                return Err(format!(
                    "contig '{name}': its last line goes on after its {length}th base (byte {end}); is its length \
                     {length} too short for the FASTA?"
                ));
            }
        }
        previous = Some((name, end));
    }
    // After the last contig: line ends only.
    let Some((last, end)) = previous else { return Ok(()) };
    let rest = read(end, MAX_GAP + 1)?;
    let Some(at) = rest.iter().position(|b| !b.is_ascii_whitespace()) else { return Ok(()) };
    let text = excerpt(&rest[at..]);
    Err(if rest[at] == b'>' {
        format!(
            "the FASTA holds more after contig '{last}' than the index lists: '{text}' at byte {} (an index older \
             than the FASTA?)",
            end + at as u64
        )
    } else {
        format!("the FASTA goes on after contig '{last}' (byte {}): '{text}'", end + at as u64)
    })
}

/// Check the bytes before a contig's first base: line ends (and, at the start of the file, a byte order
/// mark), then `>name` and the rest of its header line, ending with its line end.
fn check_header(gap: &[u8], first: bool, name: &str, after: &dyn Fn() -> String) -> Result<(), String> {
    let mut rest = gap;
    if first {
        rest = rest.strip_prefix(index::UTF8_BOM).unwrap_or(rest);
    }
    let skipped = rest.iter().position(|b| !matches!(b, b'\n' | b'\r')).unwrap_or(rest.len());
    rest = &rest[skipped..];
    let Some(header) = rest.strip_prefix(b">").and_then(|h| h.strip_suffix(b"\n")) else {
        return Err(format!(
            "the bytes before contig '{name}''s first base are not its header line: '{}'",
            excerpt(&gap[gap.len().saturating_sub(80)..])
        ));
    };
    let header = header.strip_suffix(b"\r").unwrap_or(header);
    if header.contains(&b'\n') {
        return Err(format!(
            "more than a header line lies between {} and contig '{name}' ('{}'): a contig missing from the index?",
            after(),
            excerpt(rest)
        ));
    }
    let text = String::from_utf8_lossy(header);
    let found = text.split_whitespace().next().unwrap_or("");
    if found != name {
        return Err(format!("the header line before the bases the index gives to contig '{name}' names '{found}'"));
    }
    Ok(())
}

/// The first 40 characters of `bytes`, with line ends shown as `\n`.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]).replace('\r', "\\r").replace('\n', "\\n");
    if bytes.len() > 40 { format!("{text}...") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_is_send_and_sync() {
        fn shareable<T: Send + Sync + Clone>() {}
        shareable::<Reference>();
    }

    #[test]
    fn layout_byte_offsets() {
        let layout = Layout { offset: 5, line_bases: 4, line_width: 5 };
        assert_eq!(layout.byte_of(0), 5);
        assert_eq!(layout.byte_of(3), 8);
        assert_eq!(layout.byte_of(4), 10);
        assert_eq!(layout.byte_of(9), 16);
        assert_eq!(layout.checked_byte_of(9), Some(16));
        assert_eq!(Layout { offset: 5, line_bases: 1, line_width: u64::MAX }.checked_byte_of(9), None);
    }
}
