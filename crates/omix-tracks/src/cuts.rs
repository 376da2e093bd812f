//! Read 5' ends ("cuts") counted per base and strand, streamed over coordinate-sorted input in
//! bounded memory.
//!
//! A read (or a fragment) is a 0-based half-open span `start..end` on one strand. Its cut is the base
//! at `start + shift.plus` for a plus-strand read and at `end - 1 + shift.minus` for a minus-strand
//! read: with a zero shift, the first base sequenced (bedtools `genomecov -5`).
//!
//! Input sorted by start lets the counter keep only the bases that a later read could still reach: a
//! read starting at `s` puts its cut at or after `s + min(shift.plus, shift.minus)`, so every base before
//! that is final and leaves as a run of equal counts. Memory is the span of the reads that overlap,
//! never the contig.

use std::collections::VecDeque;

/// The assay that produced the reads, which decides where a read's cut lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assay {
    /// ChIP-seq, ChIP-nexus, ChIP-exo: the read's 5' end, unshifted (BPNet's counts).
    Chip,
    /// DNase-seq: chrombpnet's convention, the plus read's 5' end and one base past the minus read's.
    Dnase,
    /// ATAC-seq: the Tn5 insertion offsets chrombpnet applies (+4 on plus reads, −4 on minus reads,
    /// i.e. the minus cut 5 bases inside the read's end); fragment files are already shifted.
    Atac,
}

impl Assay {
    /// Every assay with its name on the command line.
    pub const ALL: [(Assay, &'static str); 3] = [(Assay::Chip, "chip"), (Assay::Dnase, "dnase"), (Assay::Atac, "atac")];

    /// The shift for reads from a BAM file: aligned reads as sequenced.
    ///
    /// chrombpnet (`reads_to_bigwig.py`) moves unshifted ATAC reads by +4/−4 and DNase reads by 0/+1
    /// (on bedtools `bamtobed` spans, counted with `genomecov -5`); ChIP reads are counted at their 5' end.
    pub fn bam_shift(self) -> Shift {
        match self {
            Assay::Chip => Shift { plus: 0, minus: 0 },
            Assay::Dnase => Shift { plus: 0, minus: 1 },
            Assay::Atac => Shift { plus: 4, minus: -4 },
        }
    }

    /// The shift for fragment files (`chrom start end barcode count`), where each fragment gives one
    /// plus-strand and one minus-strand cut.
    ///
    /// 10x/ArchR fragment files are already shifted by +4/−5, so chrombpnet adds 0/+1 to reach its
    /// ATAC convention (the fragment's start, and its end coordinate as a 0-based base); DNase fragments
    /// get the same 0/+1. ChIP fragments are counted at both ends, unshifted.
    pub fn fragment_shift(self) -> Shift {
        match self {
            Assay::Chip => Shift { plus: 0, minus: 0 },
            Assay::Dnase | Assay::Atac => Shift { plus: 0, minus: 1 },
        }
    }
}

/// How far the counted base lies from a read's 5' end, per strand (positive: towards higher coordinates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    pub plus: i64,
    pub minus: i64,
}

/// The strand of a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strand {
    Plus,
    Minus,
}

impl Shift {
    /// The 0-based base a read spanning `start..end` on `strand` is counted at.
    pub fn cut(self, start: u64, end: u64, strand: Strand) -> i64 {
        match strand {
            Strand::Plus => start as i64 + self.plus,
            Strand::Minus => end as i64 - 1 + self.minus,
        }
    }

    /// The lowest cut a read starting at `start` can have (its end is past its start).
    fn lowest_cut(self, start: u64) -> i64 {
        start as i64 + self.plus.min(self.minus)
    }
}

/// One run of equal counts: `start..end` on a contig, 0-based half-open.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    pub start: u32,
    pub end: u32,
    pub value: f32,
}

/// Which tracks the counts go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stranding {
    /// One track: plus and minus cuts added (chrombpnet's unstranded bigWig).
    Unstranded,
    /// Two tracks, output 0 the plus strand and output 1 the minus strand (BPNet).
    Stranded,
}

impl Stranding {
    /// How many tracks are written.
    pub fn outputs(self) -> usize {
        match self {
            Stranding::Unstranded => 1,
            Stranding::Stranded => 2,
        }
    }
}

/// Per-base cut counts of one contig at a time, handed on as runs of equal non-zero counts in
/// coordinate order as soon as no later read can change them.
pub struct CutCounter {
    shift: Shift,
    stranding: Stranding,
    /// The contig being counted and its length.
    contig: Option<(usize, u64)>,
    /// Counts of the bases `base..base + window.len()`, `[plus, minus]`.
    base: u64,
    window: VecDeque<[u32; 2]>,
    /// The open run of each output.
    open: [Option<Run>; 2],
    /// Cuts that fell before the contig's start or past its end (a shift near an edge).
    pub outside: u64,
    /// Cuts counted.
    pub counted: u64,
}

impl CutCounter {
    /// A counter applying `shift`, writing `stranding`'s tracks.
    pub fn new(shift: Shift, stranding: Stranding) -> CutCounter {
        CutCounter {
            shift,
            stranding,
            contig: None,
            base: 0,
            window: VecDeque::new(),
            open: [None, None],
            outside: 0,
            counted: 0,
        }
    }

    /// Start counting contig `index` (of `length` bases): the previous contig's counts are emitted first.
    pub fn start_contig(&mut self, index: usize, length: u64, emit: &mut dyn FnMut(usize, usize, Run)) {
        self.finish_contig(emit);
        self.contig = Some((index, length));
        self.base = 0;
    }

    /// Declare that no read still to come starts before `start` (on the current contig): every base no
    /// later cut can reach is emitted.
    pub fn advance(&mut self, start: u64, emit: &mut dyn FnMut(usize, usize, Run)) {
        let settled = self.shift.lowest_cut(start).max(0) as u64;
        self.flush_before(settled, emit);
    }

    /// Count one read spanning `start..end` on `strand` (its start must not be before the last
    /// [`advance`](Self::advance)).
    pub fn add(&mut self, start: u64, end: u64, strand: Strand) {
        let Some((_, length)) = self.contig else { return };
        let cut = self.shift.cut(start, end, strand);
        if cut < 0 || cut as u64 >= length {
            self.outside += 1;
            return;
        }
        let cut = cut as u64;
        // `advance` settled the bases before `self.base`; a cut before them means the input was not
        // sorted, which the readers refuse before calling this.
        debug_assert!(cut >= self.base, "cut {cut} before the settled base {}", self.base);
        let offset = (cut.saturating_sub(self.base)) as usize;
        if offset >= self.window.len() {
            self.window.resize(offset + 1, [0, 0]);
        }
        let slot = &mut self.window[offset];
        match strand {
            Strand::Plus => slot[0] += 1,
            Strand::Minus => slot[1] += 1,
        }
        self.counted += 1;
    }

    /// Emit everything of the current contig.
    pub fn finish_contig(&mut self, emit: &mut dyn FnMut(usize, usize, Run)) {
        if self.contig.is_some() {
            self.flush_before(u64::MAX, emit);
            for output in 0..2 {
                if let Some(run) = self.open[output].take() {
                    emit(self.contig_index(), output, run);
                }
            }
        }
        self.contig = None;
        self.window.clear();
    }

    fn contig_index(&self) -> usize {
        self.contig.map_or(0, |(index, _)| index)
    }

    /// Emit the bases before `settled`.
    fn flush_before(&mut self, settled: u64, emit: &mut dyn FnMut(usize, usize, Run)) {
        let contig = self.contig_index();
        while self.base < settled {
            let Some(counts) = self.window.pop_front() else {
                // Nothing counted in between: jump, so sparse data never walks the empty bases.
                self.base = settled.max(self.base);
                break;
            };
            let position = self.base as u32;
            match self.stranding {
                Stranding::Unstranded => self.extend(contig, 0, position, counts[0] + counts[1], emit),
                Stranding::Stranded => {
                    self.extend(contig, 0, position, counts[0], emit);
                    self.extend(contig, 1, position, counts[1], emit);
                }
            }
            self.base += 1;
        }
    }

    /// Add base `position` with `count` to output `output`'s open run, or close it and open another.
    fn extend(
        &mut self,
        contig: usize,
        output: usize,
        position: u32,
        count: u32,
        emit: &mut dyn FnMut(usize, usize, Run),
    ) {
        // Zero bases are left out of the track: the open run is closed by the next non-zero base.
        if count == 0 {
            return;
        }
        let value = count as f32;
        if let Some(run) = &mut self.open[output]
            && run.end == position
            && run.value == value
        {
            run.end += 1;
            return;
        }
        if let Some(run) = self.open[output].take() {
            emit(contig, output, run);
        }
        self.open[output] = Some(Run { start: position, end: position + 1, value });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain reference: dense per-base counts.
    fn dense(reads: &[(u64, u64, Strand)], length: u64, shift: Shift) -> Vec<[u32; 2]> {
        let mut counts = vec![[0u32; 2]; length as usize];
        for &(start, end, strand) in reads {
            let cut = shift.cut(start, end, strand);
            if cut >= 0 && (cut as u64) < length {
                counts[cut as usize][if strand == Strand::Plus { 0 } else { 1 }] += 1;
            }
        }
        counts
    }

    fn expand(runs: &[(usize, usize, Run)], output: usize, length: u64) -> Vec<u32> {
        let mut values = vec![0u32; length as usize];
        for (_, o, run) in runs.iter().filter(|(_, o, _)| *o == output) {
            assert_eq!(*o, output);
            for v in &mut values[run.start as usize..run.end as usize] {
                assert_eq!(*v, 0, "runs overlap");
                *v = run.value as u32;
            }
        }
        values
    }

    #[test]
    fn streamed_counts_equal_dense_counts() {
        // A small deterministic generator (no rand dependency needed here).
        let mut state = 12345u64;
        let mut next = |m: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        let length = 5_000;
        for shift in [Shift { plus: 0, minus: 0 }, Shift { plus: 4, minus: -4 }, Shift { plus: 0, minus: 1 }] {
            let mut reads: Vec<(u64, u64, Strand)> = (0..3_000)
                .map(|_| {
                    let start = next(length);
                    let end = (start + 1 + next(80)).min(length);
                    (start, end, if next(2) == 0 { Strand::Plus } else { Strand::Minus })
                })
                .collect();
            reads.sort_by_key(|r| r.0);
            let truth = dense(&reads, length, shift);
            for stranding in [Stranding::Unstranded, Stranding::Stranded] {
                let mut counter = CutCounter::new(shift, stranding);
                let mut runs = Vec::new();
                let mut emit = |c: usize, o: usize, r: Run| runs.push((c, o, r));
                counter.start_contig(0, length, &mut emit);
                for &(start, end, strand) in &reads {
                    counter.advance(start, &mut emit);
                    counter.add(start, end, strand);
                }
                counter.finish_contig(&mut emit);
                // Runs come in coordinate order per output and never hold zeros.
                for output in 0..stranding.outputs() {
                    let of: Vec<_> = runs.iter().filter(|r| r.1 == output).collect();
                    assert!(of.windows(2).all(|w| w[0].2.end <= w[1].2.start));
                    assert!(of.iter().all(|r| r.2.value > 0.0));
                }
                match stranding {
                    Stranding::Unstranded => {
                        let sums: Vec<u32> = truth.iter().map(|c| c[0] + c[1]).collect();
                        assert_eq!(expand(&runs, 0, length), sums);
                    }
                    Stranding::Stranded => {
                        assert_eq!(expand(&runs, 0, length), truth.iter().map(|c| c[0]).collect::<Vec<_>>());
                        assert_eq!(expand(&runs, 1, length), truth.iter().map(|c| c[1]).collect::<Vec<_>>());
                    }
                }
                let total: u64 = truth.iter().map(|c| (c[0] + c[1]) as u64).sum();
                assert_eq!(counter.counted, total);
                assert_eq!(counter.counted + counter.outside, reads.len() as u64);
            }
        }
    }

    #[test]
    fn window_stays_bounded_on_sparse_reads() {
        let mut counter = CutCounter::new(Assay::Atac.bam_shift(), Stranding::Unstranded);
        let mut emitted = 0;
        let mut emit = |_: usize, _: usize, _: Run| emitted += 1;
        counter.start_contig(0, 3_000_000_000, &mut emit);
        let mut widest = 0;
        for i in 0..10_000u64 {
            let start = i * 250_000;
            counter.advance(start, &mut emit);
            counter.add(start, start + 100, if i % 2 == 0 { Strand::Plus } else { Strand::Minus });
            widest = widest.max(counter.window.len());
        }
        counter.finish_contig(&mut emit);
        assert!(widest <= 200, "window grew to {widest}");
        assert_eq!(emitted, 10_000);
    }

    #[test]
    fn assay_shifts_match_chrombpnet() {
        // A plus read at 100..150: ATAC cut at 104; minus read at 100..150: cut at 150 - 1 - 4 = 145.
        assert_eq!(Assay::Atac.bam_shift().cut(100, 150, Strand::Plus), 104);
        assert_eq!(Assay::Atac.bam_shift().cut(100, 150, Strand::Minus), 145);
        // A 10x fragment 104..145 (already +4/-5): cuts at 104 and 145.
        assert_eq!(Assay::Atac.fragment_shift().cut(104, 145, Strand::Plus), 104);
        assert_eq!(Assay::Atac.fragment_shift().cut(104, 145, Strand::Minus), 145);
        assert_eq!(Assay::Chip.bam_shift().cut(100, 150, Strand::Minus), 149);
        assert_eq!(Assay::Dnase.bam_shift().cut(100, 150, Strand::Minus), 150);
    }
}
