//! Finding, building and caching the `.fai` and `.gzi` indexes of a FASTA file.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::num::NonZero;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use noodles_bgzf as bgzf;
use noodles_fasta::fai;

use crate::GenomeError;
use omix_io::ContentHash;

/// How a FASTA file is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    /// Plain text.
    None,
    /// Block gzip (bgzip), readable at random positions through a `.gzi` index.
    Bgzf,
}

/// The UTF-8 byte order mark, which some editors put at the start of a text file.
pub(crate) const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// The two bytes every gzip (and bgzip) file starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Tell plain FASTA from bgzip by the first block's header; plain gzip is an error.
pub(crate) fn detect(path: &Path) -> Result<Compression, GenomeError> {
    let mut file = File::open(path).map_err(|source| GenomeError::Open { path: path.to_path_buf(), source })?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(GenomeError::Open {
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::IsADirectory, "it is a directory"),
        });
    }
    let mut head = Vec::with_capacity(2);
    (&mut file)
        .take(2)
        .read_to_end(&mut head)
        .map_err(|source| GenomeError::Read { path: path.to_path_buf(), source })?;
    if head != GZIP_MAGIC {
        return Ok(Compression::None);
    }
    file.seek(SeekFrom::Start(0)).map_err(|source| GenomeError::Read { path: path.to_path_buf(), source })?;
    let mut reader = BufReader::new(file);
    match read_block_header(&mut reader, path, 0)? {
        Some(_) => Ok(Compression::Bgzf),
        None => Err(GenomeError::NotBgzf { path: path.to_path_buf() }),
    }
}

/// Where an index may be: next to its FASTA file (the user's, only ever read), or in omix's cache.
#[derive(Debug, Clone)]
pub(crate) struct Places {
    /// `<fasta>.<ext>`: read when it exists and is not older than the FASTA, never written.
    pub(crate) beside: PathBuf,
    /// `<cache root>/<key>/<fasta file name>.<ext>`, where the key hashes the FASTA's absolute path, size,
    /// modification time and first and last 64 KiB, so that a changed FASTA never finds a stale entry.
    pub(crate) cache: PathBuf,
}

/// How many bytes at each end of a FASTA file go into its cache key.
const KEY_BLOCK: u64 = 1 << 16;

impl Places {
    /// The places of the `ext` index of `fasta`, caching under `cache_root`.
    pub(crate) fn new(fasta: &Path, ext: &str, cache_root: &Path) -> Places {
        let mut beside = fasta.as_os_str().to_owned();
        beside.push(".");
        beside.push(ext);
        let mut name = fasta.file_name().map(|n| n.to_owned()).unwrap_or_else(|| "reference".into());
        name.push(".");
        name.push(ext);
        let key = cache_key(fasta);
        Places { beside: PathBuf::from(beside), cache: cache_root.join(format!("{key:016x}")).join(name) }
    }
}

/// The cache key of a FASTA file: its absolute path, size, modification time and first and last
/// [`KEY_BLOCK`] bytes (whatever of these can be had).
fn cache_key(fasta: &Path) -> u64 {
    let mut hash = ContentHash::new();
    let absolute = std::fs::canonicalize(fasta).unwrap_or_else(|_| fasta.to_path_buf());
    hash.update(absolute.as_os_str().as_encoded_bytes());
    if let Ok(metadata) = std::fs::metadata(fasta) {
        hash.update(&metadata.len().to_le_bytes());
        if let Ok(since) = metadata.modified().map(|m| m.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default()) {
            hash.update(&since.as_nanos().to_le_bytes());
        }
        if let Ok(mut file) = File::open(fasta) {
            let mut block = Vec::new();
            let _ = (&mut file).take(KEY_BLOCK).read_to_end(&mut block);
            hash.update(&block);
            block.clear();
            if metadata.len() > KEY_BLOCK && file.seek(SeekFrom::End(-(KEY_BLOCK as i64))).is_ok() {
                let _ = file.take(KEY_BLOCK).read_to_end(&mut block);
                hash.update(&block);
            }
        }
    }
    hash.value()
}

/// The modification time of a file, when it can be had.
fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// How much older than its FASTA an index may be and still count as fresh: copying both (`cp` without `-p`)
/// may write the index a moment before the FASTA. The checks of the index against the file catch the rest.
const COPY_SLACK: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether the index at `index` exists and is not older than `fasta` (unknown times count as fresh).
fn fresh(index: &Path, fasta: &Path) -> Option<bool> {
    if !index.is_file() {
        return None;
    }
    Some(match (modified(index), modified(fasta)) {
        (Some(index_time), Some(fasta_time)) => index_time + COPY_SLACK >= fasta_time,
        _ => true,
    })
}

/// What an index kind needs: how to read, build and write it.
pub(crate) trait IndexKind: Sized {
    /// Its file extension (without the dot).
    const EXTENSION: &'static str;
    /// What it is, for log lines.
    const WHAT: &'static str;
    /// Read it from `path`.
    fn read(path: &Path) -> Result<Self, GenomeError>;
    /// Build it from the FASTA file.
    fn build(fasta: &Path, compression: Compression) -> Result<Self, GenomeError>;
    /// Write it.
    fn write(&self, out: &mut dyn Write) -> io::Result<()>;
}

/// The FASTA index (.fai).
pub(crate) struct Fai(pub(crate) fai::Index);

impl IndexKind for Fai {
    const EXTENSION: &'static str = "fai";
    const WHAT: &'static str = "FASTA index";

    fn read(path: &Path) -> Result<Self, GenomeError> {
        fai::fs::read(path)
            .map(Fai)
            .map_err(|e| GenomeError::BadIndex { path: path.to_path_buf(), message: format!("cannot read it: {e}") })
    }

    fn build(fasta: &Path, compression: Compression) -> Result<Self, GenomeError> {
        let file = File::open(fasta).map_err(|source| GenomeError::Open { path: fasta.to_path_buf(), source })?;
        match compression {
            Compression::None => index_fasta(fasta, BufReader::with_capacity(1 << 20, file)),
            Compression::Bgzf => index_fasta(fasta, bgzf::io::Reader::new(file)),
        }
    }

    fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        fai::io::Writer::new(out).write_index(&self.0)
    }
}

/// The bgzip index (.gzi): compressed and uncompressed offsets of each block.
pub(crate) struct Gzi(pub(crate) bgzf::gzi::Index);

impl IndexKind for Gzi {
    const EXTENSION: &'static str = "gzi";
    const WHAT: &'static str = "bgzip index";

    fn read(path: &Path) -> Result<Self, GenomeError> {
        bgzf::gzi::fs::read(path)
            .map(Gzi)
            .map_err(|e| GenomeError::BadIndex { path: path.to_path_buf(), message: format!("cannot read it: {e}") })
    }

    fn build(fasta: &Path, _compression: Compression) -> Result<Self, GenomeError> {
        build_gzi(fasta).map(Gzi)
    }

    fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        bgzf::gzi::io::Writer::new(out).write_index(&self.0)
    }
}

/// Where a loaded index came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The user's index next to the FASTA: an inconsistency is their file's, and an error.
    Beside,
    /// omix's cache: an inconsistent entry is rebuilt.
    Cache,
    /// Built from the FASTA just now.
    Built,
}

/// An index and where it came from.
pub(crate) struct Loaded<K> {
    /// The index.
    pub(crate) index: K,
    /// Its file (for a built index, the cache entry it was saved to, or would have been).
    pub(crate) path: PathBuf,
    /// Where it came from.
    pub(crate) origin: Origin,
}

/// Load the index of `fasta`: the user's next to it when it is not older than the FASTA, else omix's cached
/// one, else build it from the FASTA (in memory, saved to the cache). Nothing is ever written next to the
/// FASTA; building says so in `log`, with the `samtools faidx` command that would save the scan next time.
pub(crate) fn load_or_build<K: IndexKind>(
    fasta: &Path,
    compression: Compression,
    cache_root: &Path,
    log: &mut dyn FnMut(&str),
) -> Result<Loaded<K>, GenomeError> {
    let places = Places::new(fasta, K::EXTENSION, cache_root);
    let stale = match fresh(&places.beside, fasta) {
        Some(true) => {
            return Ok(Loaded { index: K::read(&places.beside)?, path: places.beside, origin: Origin::Beside });
        }
        Some(false) => Some(places.beside.clone()),
        None => None,
    };
    if places.cache.is_file() {
        // A cache entry that cannot be read is rebuilt: it is omix's own file.
        if let Ok(index) = K::read(&places.cache) {
            return Ok(Loaded { index, path: places.cache, origin: Origin::Cache });
        }
    }
    build_and_cache(fasta, compression, &places, stale.as_deref(), log)
}

/// Build the index of `fasta` and save it to its cache entry (replacing a bad one), saying so in `log`.
pub(crate) fn build_and_cache<K: IndexKind>(
    fasta: &Path,
    compression: Compression,
    places: &Places,
    stale: Option<&Path>,
    log: &mut dyn FnMut(&str),
) -> Result<Loaded<K>, GenomeError> {
    let index = K::build(fasta, compression)?;
    let why = match stale {
        Some(old) => format!("{} is older than the FASTA, so it was not used", old.display()),
        None => format!("no {} next to it", file_name(&places.beside)),
    };
    let saved = places
        .cache
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| omix_io::write_atomically(&places.cache, |out| index.write(out)).map_err(io::Error::other));
    let kept = match saved {
        Ok(()) => format!("cached in {}", places.cache.display()),
        // The index is in memory; failing to save it only costs rebuilding it next time.
        Err(e) => format!("not cached: {e}"),
    };
    log(&format!(
        "note: built the {} of {} in memory ({why}; {kept}); `samtools faidx {}` would save this scan",
        K::WHAT,
        fasta.display(),
        fasta.display()
    ));
    Ok(Loaded { index, path: places.cache.clone(), origin: Origin::Built })
}

/// The file name of `path`, for messages.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Check a `.gzi` against its bgzip file (`size` bytes): offsets increasing, each block start inside the
/// file and at a gzip header. `Err` says what is wrong.
pub(crate) fn check_gzi(path: &Path, gzi: &bgzf::gzi::Index, size: u64) -> Result<(), String> {
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut last = (0u64, 0u64);
    for (entry, &(compressed, uncompressed)) in gzi.as_ref().iter().enumerate() {
        let entry = entry + 1;
        if compressed <= last.0 || uncompressed <= last.1 {
            return Err(format!("entry {entry}: its offsets ({compressed}, {uncompressed}) do not increase"));
        }
        if compressed >= size {
            return Err(format!(
                "entry {entry}: block offset {compressed} lies past the end of the file ({size} bytes)"
            ));
        }
        let mut magic = [0u8; 2];
        #[cfg(unix)]
        let read = std::os::unix::fs::FileExt::read_exact_at(&file, &mut magic, compressed);
        #[cfg(not(unix))]
        let read = {
            let mut file = &file;
            file.seek(SeekFrom::Start(compressed)).and_then(|_| file.read_exact(&mut magic))
        };
        if read.is_err() || magic != GZIP_MAGIC {
            return Err(format!("entry {entry}: byte {compressed} is not the start of a bgzip block"));
        }
        last = (compressed, uncompressed);
    }
    Ok(())
}

/// A FASTA record being indexed.
struct OpenRecord {
    name: String,
    /// The 1-based line of its header.
    header_line: u64,
    /// Byte offset of its first base.
    offset: u64,
    /// Bases so far.
    length: u64,
    /// Bases and bytes (line end included) of its first sequence line.
    first_line: Option<(u64, u64)>,
    /// A line that must be the record's last (shorter than the first, or without its line end), if seen.
    last_line: Option<u64>,
    /// A blank line after its bases, if seen.
    blank_line: Option<u64>,
}

impl OpenRecord {
    /// The `.fai` record.
    fn finish(self, fasta: &Path) -> Result<fai::Record, GenomeError> {
        let Some((line_bases, line_width)) = self.first_line else {
            return Err(GenomeError::FastaFormat {
                path: fasta.to_path_buf(),
                line: self.header_line,
                message: format!("record '{}' has no bases", self.name),
            });
        };
        let nonzero = |n: u64| NonZero::new(n).unwrap_or(NonZero::<u64>::MIN);
        Ok(fai::Record::new(self.name, self.length, self.offset, nonzero(line_bases), nonzero(line_width)))
    }
}

/// Index a FASTA stream the way `samtools faidx` does: per record its name, length, byte offset of the first
/// base, and the bases and bytes per line. Every sequence line of a record but its last must be equally long;
/// blank lines may end a record (and the file) but not interrupt its bases. Errors name the line.
fn index_fasta<R: BufRead>(fasta: &Path, mut reader: R) -> Result<Fai, GenomeError> {
    let error = |line: u64, message: String| GenomeError::FastaFormat { path: fasta.to_path_buf(), line, message };
    let mut records = Vec::new();
    let mut first_seen: HashMap<String, u64> = HashMap::new();
    let mut current: Option<OpenRecord> = None;
    let mut buffer = Vec::with_capacity(1024);
    let (mut offset, mut line) = (0u64, 0u64);
    loop {
        buffer.clear();
        let width = reader
            .read_until(b'\n', &mut buffer)
            .map_err(|source| GenomeError::Read { path: fasta.to_path_buf(), source })? as u64;
        if width == 0 {
            break;
        }
        line += 1;
        offset += width;
        let content = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        // A UTF-8 byte order mark before the first header; the offsets still count its bytes.
        let content = if line == 1 { content.strip_prefix(UTF8_BOM).unwrap_or(content) } else { content };
        if let Some(header) = content.strip_prefix(b">") {
            if let Some(record) = current.take() {
                records.push(record.finish(fasta)?);
            }
            let header =
                std::str::from_utf8(header).map_err(|_| error(line, "the header is not valid UTF-8".to_owned()))?;
            let name = header.split_whitespace().next().unwrap_or("").to_owned();
            if name.is_empty() {
                return Err(error(
                    line,
                    "a header with no name ('>' must be followed by the sequence name)".to_owned(),
                ));
            }
            if let Some(first) = first_seen.insert(name.clone(), line) {
                return Err(error(line, format!("duplicate sequence name '{name}' (first on line {first})")));
            }
            current = Some(OpenRecord {
                name,
                header_line: line,
                offset,
                length: 0,
                first_line: None,
                last_line: None,
                blank_line: None,
            });
            continue;
        }
        let bases = content.len() as u64;
        let Some(record) = current.as_mut() else {
            if bases == 0 {
                continue;
            }
            return Err(error(line, "not a FASTA file: text before the first '>' header".to_owned()));
        };
        if bases == 0 {
            record.blank_line = record.blank_line.or(Some(line));
            continue;
        }
        if let Some(blank) = record.blank_line {
            return Err(error(
                line,
                format!(
                    "bases of '{}' after a blank line (line {blank}); blank lines may only end a record",
                    record.name
                ),
            ));
        }
        match record.first_line {
            None => record.first_line = Some((bases, width)),
            Some((first_bases, first_width)) => {
                if let Some(last) = record.last_line {
                    return Err(error(
                        line,
                        format!(
                            "a line of '{}' after a shorter line (line {last}); every line of a record but its last \
                             must hold the same number of bases ({first_bases}): rewrap it, e.g. `seqkit seq -w 60`",
                            record.name
                        ),
                    ));
                }
                if bases > first_bases {
                    return Err(error(
                        line,
                        format!(
                            "a line of {bases} bases in '{}' whose first line holds {first_bases}; every line of a \
                             record but its last must hold the same number of bases: rewrap it, e.g. `seqkit seq -w 60`",
                            record.name
                        ),
                    ));
                }
                if bases == first_bases && width != first_width && buffer.ends_with(b"\n") {
                    return Err(error(line, "mixed line ends (\\n and \\r\\n) in one record".to_owned()));
                }
                if bases < first_bases || width != first_width {
                    record.last_line = Some(line);
                }
            }
        }
        record.length += bases;
    }
    if let Some(record) = current.take() {
        records.push(record.finish(fasta)?);
    }
    if records.is_empty() {
        return Err(error(
            1,
            "no sequences (a FASTA file holds '>' headers, each followed by lines of bases)".to_owned(),
        ));
    }
    Ok(Fai(fai::Index::from(records)))
}

/// The size fields of one BGZF block.
struct BlockHeader {
    /// The whole block's size in the compressed file, in bytes.
    block_size: u64,
    /// The size of the block's header (fixed part plus extra field), in bytes.
    header_size: u64,
}

/// Read the header of the BGZF block at the reader's position (`offset` in the file, for errors).
///
/// Returns `None` when the block is gzip but has no BGZF size field; errors when it is not gzip or is cut short.
fn read_block_header<R: Read>(reader: &mut R, path: &Path, offset: u64) -> Result<Option<BlockHeader>, GenomeError> {
    let bad = |message: &str| GenomeError::Bgzf { path: path.to_path_buf(), offset, message: message.to_owned() };
    let mut fixed = [0u8; 12];
    reader.read_exact(&mut fixed).map_err(|_| bad("truncated block header"))?;
    if fixed[..2] != GZIP_MAGIC || fixed[2] != 8 {
        return Err(bad("not a gzip block (the file is cut or corrupt?)"));
    }
    if fixed[3] & 4 == 0 {
        return Ok(None);
    }
    let extra_length = u16::from_le_bytes([fixed[10], fixed[11]]);
    let mut extra = vec![0u8; usize::from(extra_length)];
    reader.read_exact(&mut extra).map_err(|_| bad("truncated block header"))?;
    let mut rest = &extra[..];
    while rest.len() >= 4 {
        let length = usize::from(u16::from_le_bytes([rest[2], rest[3]]));
        let data = rest.get(4..4 + length).ok_or_else(|| bad("malformed gzip extra field"))?;
        if rest[..2] == *b"BC" && length == 2 {
            let block_size = u64::from(u16::from_le_bytes([data[0], data[1]])) + 1;
            let header_size = 12 + u64::from(extra_length);
            if block_size < header_size + 8 {
                return Err(bad("block size smaller than its header"));
            }
            return Ok(Some(BlockHeader { block_size, header_size }));
        }
        rest = &rest[4 + length..];
    }
    Ok(None)
}

/// Build the `.gzi` of a bgzip file from its block headers alone (no decompression): for each block
/// holding data, except the first, its compressed and uncompressed start offsets.
fn build_gzi(path: &Path) -> Result<bgzf::gzi::Index, GenomeError> {
    let file = File::open(path).map_err(|source| GenomeError::Open { path: path.to_path_buf(), source })?;
    let size = file.metadata().map_err(|source| GenomeError::Read { path: path.to_path_buf(), source })?.len();
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut compressed = 0u64;
    let mut uncompressed = 0u64;
    let mut entries = Vec::new();
    while compressed < size {
        let Some(header) = read_block_header(&mut reader, path, compressed)? else {
            return Err(if compressed == 0 {
                GenomeError::NotBgzf { path: path.to_path_buf() }
            } else {
                GenomeError::Bgzf {
                    path: path.to_path_buf(),
                    offset: compressed,
                    message: "a gzip block without the BGZF size field (not a bgzip file?)".to_owned(),
                }
            });
        };
        if compressed + header.block_size > size {
            return Err(GenomeError::Bgzf {
                path: path.to_path_buf(),
                offset: compressed,
                message: format!("the block runs past the end of the file ({size} bytes): is it truncated?"),
            });
        }
        let skip = header.block_size - header.header_size - 4;
        let skip = i64::try_from(skip).unwrap_or(i64::MAX);
        reader.seek_relative(skip).map_err(|source| GenomeError::Read { path: path.to_path_buf(), source })?;
        let mut size_field = [0u8; 4];
        reader.read_exact(&mut size_field).map_err(|source| GenomeError::Read { path: path.to_path_buf(), source })?;
        let block_data = u64::from(u32::from_le_bytes(size_field));
        if block_data > 1 << 16 {
            return Err(GenomeError::Bgzf {
                path: path.to_path_buf(),
                offset: compressed,
                message: format!("a block claims {block_data} uncompressed bytes (BGZF blocks hold at most 65536)"),
            });
        }
        if compressed > 0 && block_data > 0 {
            entries.push((compressed, uncompressed));
        }
        compressed += header.block_size;
        uncompressed += block_data;
    }
    Ok(bgzf::gzi::Index::from(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn places_beside_and_in_cache() {
        let places = Places::new(Path::new("/data/hg38.fa"), "fai", Path::new("/cache"));
        assert_eq!(places.beside, Path::new("/data/hg38.fa.fai"));
        assert!(places.cache.starts_with("/cache"));
        assert!(places.cache.ends_with("hg38.fa.fai"));
    }

    #[test]
    fn indexing_errors_name_the_line() -> TestResult {
        let dir = tempfile::tempdir()?;
        let cases: [(&[u8], u64, &str); 9] = [
            (b">a\nACGT\nACG\nACGT\nA\n", 4, "after a shorter line (line 3)"),
            (b">a\nACGT\nACGTA\n", 3, "a line of 5 bases in 'a' whose first line holds 4"),
            (b">a\nACGT\nAC\n>b\n\nACGT\n", 6, "bases of 'b' after a blank line (line 5)"),
            (b">a\nACGT\n>b\n>c\nAC\n", 3, "record 'b' has no bases"),
            (b">a\nACGT\n>a\nAC\n", 3, "duplicate sequence name 'a' (first on line 1)"),
            (b">a\nACGT\r\nACGT\nAC\n", 3, "mixed line ends"),
            (b">\nACGT\n", 1, "no name"),
            (b"ACGT\n", 1, "not a FASTA"),
            (b"\n\n", 1, "no sequences"),
        ];
        for (content, line, text) in cases {
            let path = dir.path().join("bad.fa");
            std::fs::write(&path, content)?;
            let Err(e) = Fai::build(&path, Compression::None) else {
                return Err(format!("{content:?} must not index").into());
            };
            let message = e.to_string();
            assert!(matches!(e, GenomeError::FastaFormat { line: l, .. } if l == line), "{message}");
            assert!(message.contains(text) && message.contains("bad.fa"), "{message}");
        }
        Ok(())
    }

    #[test]
    fn blank_lines_may_end_records_and_last_lines_may_be_short() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("ok.fa");
        std::fs::write(&path, b"\n>a desc\nACGT\nAC\n\n\n>b\r\nAC\r\nA\r\n>c\nACGTA")?;
        let Fai(index) = Fai::build(&path, Compression::None)?;
        let summary: Vec<(String, u64, u64, u64, u64)> = index
            .as_ref()
            .iter()
            .map(|r| (r.name().to_string(), r.length(), r.position(), r.line_base_count().get(), r.line_width().get()))
            .collect();
        assert_eq!(
            summary,
            vec![("a".to_owned(), 6, 9, 4, 5), ("b".to_owned(), 3, 23, 2, 4), ("c".to_owned(), 5, 33, 5, 5),]
        );
        Ok(())
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_counted_in_offsets() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("bom.fa");
        std::fs::write(&path, b"\xef\xbb\xbf>a\nACGT\nAC\n>b\nGG\n")?;
        let Fai(index) = Fai::build(&path, Compression::None)?;
        let offsets: Vec<(String, u64, u64)> =
            index.as_ref().iter().map(|r| (r.name().to_string(), r.length(), r.position())).collect();
        assert_eq!(offsets, vec![("a".to_owned(), 6, 6), ("b".to_owned(), 2, 17)]);
        Ok(())
    }

    #[test]
    fn the_cache_key_follows_the_content() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("g.fa");
        std::fs::write(&path, b">a\nACGT\n")?;
        let before = Places::new(&path, "fai", dir.path()).cache;
        let time = std::fs::metadata(&path)?.modified()?;
        // Same size, same modification time, other bytes: another key.
        std::fs::write(&path, b">a\nACGG\n")?;
        File::options().write(true).open(&path)?.set_modified(time)?;
        assert_ne!(Places::new(&path, "fai", dir.path()).cache, before);
        Ok(())
    }

    #[test]
    fn plain_gzip_is_refused() -> TestResult {
        use flate2::write::GzEncoder;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("g.fa.gz");
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b">a\nACGT\n")?;
        std::fs::write(&path, encoder.finish()?)?;
        let Err(e) = detect(&path) else {
            return Err("plain gzip must be refused".into());
        };
        assert!(matches!(e, GenomeError::NotBgzf { .. }), "{e}");
        assert!(e.to_string().contains("bgzip"), "{e}");
        Ok(())
    }
}
