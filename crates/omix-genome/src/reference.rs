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
    /// Fill `buffer` from uncompressed byte `offset`.
    fn read_at(&mut self, gzi: &bgzf::gzi::Index, offset: u64, buffer: &mut [u8]) -> io::Result<()> {
        let mut filled = 0;
        while filled < buffer.len() {
            let want = offset + filled as u64;
            let (start, length) = self.block;
            if !(start <= want && want < start + length) {
                self.load(gzi, want)?;
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
        Ok(())
    }

    /// Make the reader hold the block containing uncompressed byte `want`.
    fn load(&mut self, gzi: &bgzf::gzi::Index, want: u64) -> io::Result<()> {
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
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("uncompressed byte {want} lies past the end of the bgzip data"),
                ));
            }
            if want < block_start + length {
                self.block = (block_start, length);
                return Ok(());
            }
            self.reader.consume(length as usize);
            block_start += length;
        }
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
    /// A missing (or older than the FASTA) `.fai` is built and written next to the file, or, if that folder is
    /// read-only, under [`default_index_cache`] (`<temp dir>/omix-fai/<hash of the path>/<name>.fai`); `log`
    /// gets one line saying where. A bgzip file also needs a `.gzi` block index, found or built the same way.
    /// Plain gzip cannot be read at random positions and is refused with a hint to use bgzip.
    pub fn open(path: &Path, log: &mut dyn FnMut(&str)) -> Result<Reference, GenomeError> {
        Reference::open_with_index_cache(path, &default_index_cache(), log)
    }

    /// [`Reference::open`], keeping indexes of FASTA files in read-only folders under `cache` instead.
    pub fn open_with_index_cache(
        path: &Path,
        cache: &Path,
        log: &mut dyn FnMut(&str),
    ) -> Result<Reference, GenomeError> {
        let compression = index::detect(path)?;
        let (fai, fai_path): (Fai, PathBuf) = index::load_or_build(path, compression, cache, log)?;
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
                let (gzi, _): (Gzi, PathBuf) = index::load_or_build(path, compression, cache, log)?;
                Source::Bgzf { gzi: gzi.0, pool: Mutex::new(Vec::new()) }
            }
        };
        let file_size =
            std::fs::metadata(path).map_err(|source| GenomeError::Read { path: path.to_path_buf(), source })?.len();
        let records = fai.0.as_ref();
        if records.is_empty() {
            return Err(GenomeError::BadIndex { path: fai_path, message: "it lists no contigs".to_owned() });
        }
        let mut contigs = Vec::with_capacity(records.len());
        let mut layouts = Vec::with_capacity(records.len());
        let mut by_name = HashMap::with_capacity(records.len());
        for record in records {
            let bad = |message: String| GenomeError::BadIndex { path: fai_path.clone(), message };
            let name = std::str::from_utf8(record.name())
                .map_err(|_| bad(format!("the contig name {:?} is not valid UTF-8", record.name())))?
                .to_owned();
            let layout = Layout {
                offset: record.position(),
                line_bases: record.line_base_count().get(),
                line_width: record.line_width().get(),
            };
            if layout.line_width < layout.line_bases {
                return Err(bad(format!("contig '{name}': a line is shorter than the bases it holds")));
            }
            // Checked once here, so that byte_of cannot overflow for any base of the contig.
            let end = match record.length().checked_sub(1) {
                None => Some(layout.offset),
                Some(last) => layout.checked_byte_of(last).and_then(|byte| byte.checked_add(1)),
            }
            .ok_or_else(|| bad(format!("contig '{name}': its offsets overflow")))?;
            if compression == Compression::None && end > file_size {
                return Err(bad(format!(
                    "contig '{name}' ends at byte {end} but the FASTA file has {file_size} bytes \
                     (an index of another file?)"
                )));
            }
            if by_name.insert(name.clone(), contigs.len()).is_some() {
                return Err(bad(format!("contig '{name}' is listed twice")));
            }
            contigs.push(Contig { name, length: record.length() });
            layouts.push(layout);
        }
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
            return Err(GenomeError::InvalidInterval { name: name.to_owned(), start, end });
        }
        let total = (i128::from(end) - i128::from(start)) as u128;
        let too_long = || GenomeError::TooLong { name: name.to_owned(), start, end, length: total as u64 };
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
        match &self.inner.source {
            #[cfg(unix)]
            Source::Plain(file) => std::os::unix::fs::FileExt::read_exact_at(file, buffer, offset),
            #[cfg(not(unix))]
            Source::Plain(file) => {
                use std::io::{Read, Seek, SeekFrom};
                let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                file.seek(SeekFrom::Start(offset))?;
                file.read_exact(buffer)
            }
            Source::Bgzf { gzi, pool } => {
                let idle = pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
                let mut reader = match idle {
                    Some(reader) => reader,
                    None => BlockReader { reader: bgzf::io::Reader::new(File::open(&self.inner.path)?), block: (0, 0) },
                };
                reader.read_at(gzi, offset, buffer)?;
                // A reader that failed part-way is dropped rather than reused.
                pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(reader);
                Ok(())
            }
        }
    }
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
