//! bigWig out (streamed, one writer thread per file) and signal tracks in (bigWig through bigtools,
//! bedGraph held in memory), both read into per-base arrays with their values checked.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use bigtools::beddata::BedParserStreamingIterator;
use bigtools::{BigWigRead, BigWigWrite, Value};

use crate::cuts::Run;
use crate::{ChromSizes, TrackError};

/// How many runs may wait for a writer thread; bounds memory between the reader and the writers.
const QUEUE: usize = 1 << 14;

/// bigWig files being written, one per output, each by its own thread from a bounded queue of runs.
///
/// Each file is written under a temporary name beside its target and renamed into place by
/// [`finish`](Self::finish); dropped without `finish` (an error upstream), nothing is left behind.
pub struct BigWigSink {
    names: Vec<String>,
    senders: Vec<Option<SyncSender<(String, Value)>>>,
    writers: Vec<JoinHandle<Result<(), String>>>,
    temporaries: Vec<tempfile::NamedTempFile>,
    targets: Vec<PathBuf>,
}

impl BigWigSink {
    /// Start writers for `targets` (one per output), laid out on `sizes`.
    pub fn create(targets: &[PathBuf], sizes: &ChromSizes) -> Result<BigWigSink, TrackError> {
        let mut chrom_map = HashMap::new();
        for (name, length) in sizes.iter() {
            let length = u32::try_from(length).map_err(|_| TrackError::Contigs {
                path: sizes.source().to_path_buf(),
                message: format!("contig {name} is {length} bp; bigWig files hold contigs up to 4,294,967,295 bp"),
            })?;
            chrom_map.insert(name.to_owned(), length);
        }
        let mut sink = BigWigSink {
            names: sizes.iter().map(|(n, _)| n.to_owned()).collect(),
            senders: Vec::new(),
            writers: Vec::new(),
            temporaries: Vec::new(),
            targets: targets.to_vec(),
        };
        for target in targets {
            let write_error = |e: std::io::Error| TrackError::Write { path: target.clone(), message: e.to_string() };
            let dir = match target.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            // The folder the user named for the output is created, as for every omix output.
            std::fs::create_dir_all(dir).map_err(write_error)?;
            let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let temporary = tempfile::Builder::new()
                .prefix(&format!(".{name}."))
                .suffix(".tmp")
                .tempfile_in(dir)
                .map_err(write_error)?;
            let file = temporary.reopen().map_err(write_error)?;
            let (sender, receiver) = sync_channel::<(String, Value)>(QUEUE);
            let chroms = chrom_map.clone();
            let writer = std::thread::spawn(move || -> Result<(), String> {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .build()
                    .map_err(|e| format!("cannot start the writer: {e}"))?;
                let values = BedParserStreamingIterator::wrap_infallible_iter(receiver.into_iter(), true);
                BigWigWrite::new(file, chroms).write(values, runtime).map_err(|e| e.to_string())
            });
            sink.senders.push(Some(sender));
            sink.writers.push(writer);
            sink.temporaries.push(temporary);
        }
        Ok(sink)
    }

    /// Queue one run of output `output` on contig `contig` (an index into the sizes given to
    /// [`create`](Self::create)). Returns false when that writer has stopped (its error comes from
    /// [`finish`](Self::finish)).
    pub fn push(&mut self, contig: usize, output: usize, run: Run) -> bool {
        let Some(Some(sender)) = self.senders.get(output) else { return false };
        let value = Value { start: run.start, end: run.end, value: run.value };
        if sender.send((self.names[contig].clone(), value)).is_err() {
            self.senders[output] = None;
            return false;
        }
        true
    }

    /// Close the queues, wait for the writers and rename every file into place (all or none).
    pub fn finish(mut self) -> Result<Vec<PathBuf>, TrackError> {
        self.senders.clear();
        let mut failure = None;
        for (writer, target) in self.writers.drain(..).zip(&self.targets) {
            let outcome = writer.join().unwrap_or_else(|_| Err("the writer thread stopped unexpectedly".into()));
            if let Err(message) = outcome
                && failure.is_none()
            {
                failure = Some(TrackError::Write { path: target.clone(), message });
            }
        }
        if let Some(error) = failure {
            return Err(error);
        }
        for (temporary, target) in self.temporaries.drain(..).zip(&self.targets) {
            temporary
                .as_file()
                .sync_all()
                .map_err(|e| TrackError::Write { path: target.clone(), message: e.to_string() })?;
            temporary
                .persist(target)
                .map_err(|e| TrackError::Write { path: target.clone(), message: e.error.to_string() })?;
        }
        Ok(self.targets.clone())
    }
}

/// The bigWig magic number, little-endian.
const BIGWIG_MAGIC: [u8; 4] = [0x26, 0xfc, 0x8f, 0x88];

/// A signal track: a bigWig file, or a bedGraph file read into memory.
pub enum Track {
    BigWig {
        path: PathBuf,
        reader: Box<BigWigRead<bigtools::utils::file::reopen::ReopenableFile>>,
        contigs: Vec<(String, u64)>,
    },
    BedGraph {
        path: PathBuf,
        contigs: Vec<(String, u64)>,
        runs: HashMap<String, Vec<Run>>,
    },
}

impl Track {
    /// Open a bigWig (told by its magic number) or a bedGraph (plain or gzip) file.
    ///
    /// bedGraph files carry no contig lengths, so they are checked against `sizes` (every interval on a
    /// listed contig and inside it); without sizes, a contig's length is taken as its last interval's end.
    pub fn open(path: &Path, sizes: Option<&ChromSizes>) -> Result<Track, TrackError> {
        let mut head = [0u8; 4];
        let mut file = File::open(path).map_err(|e| TrackError::io(path, e))?;
        let read = file.read(&mut head).map_err(|e| TrackError::io(path, e))?;
        if read == 0 {
            return Err(TrackError::Empty { path: path.to_path_buf(), message: "the file is empty".into() });
        }
        if read == 4 && head == BIGWIG_MAGIC {
            let reader = BigWigRead::open_file(path)
                .map_err(|e| TrackError::BigWig { path: path.to_path_buf(), message: e.to_string() })?;
            let contigs: Vec<(String, u64)> =
                reader.chroms().iter().map(|c| (c.name.clone(), c.length as u64)).collect();
            if let Some(sizes) = sizes {
                sizes.check(path, "the bigWig", contigs.iter().map(|(n, l)| (n.as_str(), *l)), true)?;
                if !contigs.iter().any(|(n, _)| sizes.index_of(n).is_some()) {
                    sizes.check(path, "the bigWig", contigs.iter().map(|(n, l)| (n.as_str(), *l)), false)?;
                }
            }
            return Ok(Track::BigWig { path: path.to_path_buf(), reader: Box::new(reader), contigs });
        }
        read_bedgraph(path, sizes)
    }

    /// The file this track was read from.
    pub fn path(&self) -> &Path {
        match self {
            Track::BigWig { path, .. } | Track::BedGraph { path, .. } => path,
        }
    }

    /// The track's contigs and their lengths.
    pub fn contigs(&self) -> &[(String, u64)] {
        match self {
            Track::BigWig { contigs, .. } | Track::BedGraph { contigs, .. } => contigs,
        }
    }

    /// The values of `chrom:start-end` (0-based half-open) into `out` (its length is `end - start`):
    /// bases the track does not cover are 0. Values that are not finite are refused, and negative ones when
    /// `counts` (a coverage track of read counts).
    pub fn read(&mut self, chrom: &str, start: u64, end: u64, counts: bool, out: &mut [f32]) -> Result<(), TrackError> {
        debug_assert_eq!(out.len() as u64, end.saturating_sub(start));
        out.fill(0.0);
        let check = |path: &Path, run_start: u64, run_end: u64, value: f32| -> Result<(), TrackError> {
            if !value.is_finite() || (counts && value < 0.0) {
                return Err(TrackError::BadValue {
                    path: path.to_path_buf(),
                    place: format!("{chrom}:{run_start}-{run_end}"),
                    message: if value.is_finite() {
                        format!("value {value} is negative; a coverage track of read counts cannot be")
                    } else {
                        format!("value {value} is not a number")
                    },
                });
            }
            Ok(())
        };
        match self {
            Track::BigWig { path, reader, contigs } => {
                if !contigs.iter().any(|(n, _)| n == chrom) {
                    return Ok(());
                }
                let (Ok(s), Ok(e)) = (u32::try_from(start), u32::try_from(end)) else {
                    return Err(TrackError::BigWig {
                        path: path.clone(),
                        message: format!("{chrom}:{start}-{end} is past what a bigWig can hold"),
                    });
                };
                let intervals = reader
                    .get_interval(chrom, s, e)
                    .map_err(|error| TrackError::BigWig { path: path.clone(), message: error.to_string() })?;
                for value in intervals {
                    let value =
                        value.map_err(|error| TrackError::BigWig { path: path.clone(), message: error.to_string() })?;
                    check(path, value.start as u64, value.end as u64, value.value)?;
                    fill(out, start, end, value.start as u64, value.end as u64, value.value);
                }
            }
            Track::BedGraph { path, runs, .. } => {
                let Some(runs) = runs.get(chrom) else { return Ok(()) };
                let first = runs.partition_point(|r| (r.end as u64) <= start);
                for run in &runs[first..] {
                    if run.start as u64 >= end {
                        break;
                    }
                    check(path, run.start as u64, run.end as u64, run.value)?;
                    fill(out, start, end, run.start as u64, run.end as u64, run.value);
                }
            }
        }
        Ok(())
    }
}

/// Copy `value` over `run_start..run_end` clipped to the window `start..end`.
fn fill(out: &mut [f32], start: u64, end: u64, run_start: u64, run_end: u64, value: f32) {
    let from = run_start.max(start);
    let to = run_end.min(end);
    if from < to {
        out[(from - start) as usize..(to - start) as usize].fill(value);
    }
}

/// A bedGraph file (`chrom start end value`; `track`, `browser` and `#` lines skipped), each contig's
/// intervals sorted and not overlapping.
fn read_bedgraph(path: &Path, sizes: Option<&ChromSizes>) -> Result<Track, TrackError> {
    let reader = omix_io::open(path)?;
    let mut runs: HashMap<String, Vec<Run>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for (number, line) in reader.lines().enumerate() {
        let line_number = number as u64 + 1;
        let line = line.map_err(|e| TrackError::io(path, e))?;
        let bad = |message: String| TrackError::Line { path: path.to_path_buf(), line: line_number, message };
        if line.starts_with("track") || line.starts_with("browser") || line.starts_with('#') {
            continue;
        }
        if line.trim().is_empty() {
            return Err(bad("empty line; each line must be `chrom start end value`".into()));
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 4 {
            return Err(bad(format!("expected 4 fields (chrom, start, end, value), found {}", fields.len())));
        }
        let position = |field: &str, what: &str| -> Result<u32, TrackError> {
            field.parse::<u32>().map_err(|_| bad(format!("{what} {field:?} is not a whole number")))
        };
        let (start, end) = (position(fields[1], "start")?, position(fields[2], "end")?);
        if end <= start {
            return Err(bad(format!("end {end} is not after start {start}")));
        }
        let value: f32 = fields[3].parse().map_err(|_| bad(format!("value {:?} is not a number", fields[3])))?;
        if !value.is_finite() {
            return Err(bad(format!("value {} is not a finite number", fields[3])));
        }
        let chrom = fields[0];
        if let Some(sizes) = sizes {
            let Some(index) = sizes.index_of(chrom) else {
                return Err(TrackError::Contigs {
                    path: path.to_path_buf(),
                    message: format!("line {line_number}: contig {chrom} is not in {}", sizes.source().display()),
                });
            };
            if end as u64 > sizes.length(index) {
                return Err(TrackError::past_end(
                    path,
                    format!("line {line_number}"),
                    (chrom, start as u64, end as u64),
                    sizes.length(index),
                    sizes.source(),
                ));
            }
        }
        let list = match runs.get_mut(chrom) {
            Some(list) => {
                if order.last().map(String::as_str) != Some(chrom) {
                    return Err(bad(format!(
                        "contig {chrom} appears again after other contigs; sort with `sort -k1,1 -k2,2n`"
                    )));
                }
                list
            }
            None => {
                order.push(chrom.to_owned());
                runs.entry(chrom.to_owned()).or_default()
            }
        };
        if let Some(last) = list.last()
            && start < last.end
        {
            return Err(bad(format!(
                "{chrom}:{start}-{end} starts before the previous interval's end ({}); intervals must be sorted and \
                 not overlap",
                last.end
            )));
        }
        list.push(Run { start, end, value });
    }
    if runs.is_empty() {
        return Err(TrackError::Empty { path: path.to_path_buf(), message: "the bedGraph has no intervals".into() });
    }
    let contigs = order
        .iter()
        .map(|name| {
            let length = match sizes.and_then(|s| s.index_of(name)) {
                Some(index) => sizes.map_or(0, |s| s.length(index)),
                None => runs[name].last().map_or(0, |r| r.end as u64),
            };
            (name.clone(), length)
        })
        .collect();
    Ok(Track::BedGraph { path: path.to_path_buf(), contigs, runs })
}
