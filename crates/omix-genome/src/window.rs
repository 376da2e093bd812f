//! Windows on a reference: centring, bounds, overlap look-ups and tiling.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{BedRecord, Reference};

/// What to do with a window that runs off a contig end.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum OutOfBounds {
    /// Keep it; the bases outside the contig read as `N`.
    #[default]
    Pad,
    /// Leave it out.
    Drop,
}

/// A 0-based, half-open interval [`start`, `end`) on a contig.
///
/// It may run off the contig (then `start < 0` or `end >` the contig's length); [`Reference::fetch`] pads
/// such a window with `N`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Window {
    /// The contig.
    pub chrom: String,
    /// The 0-based first base (negative when the window starts before the contig).
    pub start: i64,
    /// The 0-based end, exclusive.
    pub end: i64,
}

/// A coordinate as `i64`, saturating (no genome comes near 2^63 bases).
fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Window {
    /// A window on `chrom` from `start` to `end` (0-based, half-open).
    pub fn new(chrom: &str, start: i64, end: i64) -> Window {
        Window { chrom: chrom.to_owned(), start, end }
    }

    /// A window of `length` bases centred on [`start`, `end`), widened by `flank` bases on both sides.
    ///
    /// The centre is `(start + end) / 2` rounded down, and the window is
    /// [`centre - length / 2`, `centre - length / 2 + length`) (so an odd `length` puts the extra base right
    /// of the centre), then `flank` more bases on each side: `length + 2 * flank` bases in all.
    /// E.g. [100, 201) with length 10 has centre 150 and gives [145, 155); with flank 5, [140, 160).
    pub fn centred(chrom: &str, start: u64, end: u64, length: u64, flank: u64) -> Window {
        let centre = signed(start / 2 + end / 2 + (start % 2 + end % 2) / 2);
        let first = centre.saturating_sub(signed(length / 2)).saturating_sub(signed(flank));
        let width = signed(length).saturating_add(signed(flank).saturating_mul(2));
        Window { chrom: chrom.to_owned(), start: first, end: first.saturating_add(width) }
    }

    /// Whether the two windows share at least one base (same contig, intersecting intervals; an empty window
    /// overlaps nothing).
    pub fn overlaps(&self, other: &Window) -> bool {
        self.chrom == other.chrom
            && self.start < other.end
            && other.start < self.end
            && !self.is_empty()
            && !other.is_empty()
    }

    /// The window's length in bases (0 when `end <= start`).
    pub fn len(&self) -> u64 {
        u64::try_from(self.end.saturating_sub(self.start)).unwrap_or(0)
    }

    /// Whether the window holds no bases.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// Whether it lies wholly inside a contig of `contig_length` bases.
    pub fn inside(&self, contig_length: u64) -> bool {
        self.start >= 0 && self.start <= self.end && self.end <= signed(contig_length)
    }
}

impl std::fmt::Display for Window {
    /// `chrom:start-end` (0-based, half-open, as in BED).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}-{}", self.chrom, self.start, self.end)
    }
}

/// How many windows [`apply_bounds`] kept, padded and dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WindowCounts {
    /// Windows kept (those padded included).
    pub kept: usize,
    /// Kept windows that run off a contig end (read with `N` padding).
    pub padded: usize,
    /// Windows dropped for running off a contig end ([`OutOfBounds::Drop`]).
    pub dropped: usize,
    /// Windows dropped because the reference has no such contig (whatever the policy; check names first with
    /// [`crate::check_contigs`] to turn these into an error).
    pub unknown_contig: usize,
}

/// Apply the out-of-bounds policy to windows: returns the kept windows, in order, and the counts.
pub fn apply_bounds(windows: Vec<Window>, reference: &Reference, policy: OutOfBounds) -> (Vec<Window>, WindowCounts) {
    let mut counts = WindowCounts::default();
    let mut kept = Vec::with_capacity(windows.len());
    for window in windows {
        let Some(length) = reference.contig_length(&window.chrom) else {
            counts.unknown_contig += 1;
            continue;
        };
        if window.inside(length) {
            kept.push(window);
        } else if policy == OutOfBounds::Pad {
            counts.padded += 1;
            kept.push(window);
        } else {
            counts.dropped += 1;
        }
    }
    counts.kept = kept.len();
    (kept, counts)
}

/// Intervals of one contig, sorted by start, with the running maximum of their ends.
#[derive(Debug, Clone, Default)]
struct SortedIntervals {
    starts: Vec<i64>,
    /// `max_end[i]` = the largest end among intervals `0..=i`.
    max_end: Vec<i64>,
}

/// An index of windows per contig that answers "does this window overlap any of them?" in O(log n).
#[derive(Debug, Clone, Default)]
pub struct IntervalIndex {
    by_contig: HashMap<String, SortedIntervals>,
}

impl IntervalIndex {
    /// Index these windows (empty ones are left out: they overlap nothing).
    pub fn new(windows: &[Window]) -> IntervalIndex {
        let mut grouped: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
        for window in windows.iter().filter(|w| !w.is_empty()) {
            grouped.entry(window.chrom.clone()).or_default().push((window.start, window.end));
        }
        let by_contig = grouped
            .into_iter()
            .map(|(chrom, mut intervals)| {
                intervals.sort_unstable();
                let mut max_end = Vec::with_capacity(intervals.len());
                let mut running = i64::MIN;
                for &(_, end) in &intervals {
                    running = running.max(end);
                    max_end.push(running);
                }
                (chrom, SortedIntervals { starts: intervals.iter().map(|&(s, _)| s).collect(), max_end })
            })
            .collect();
        IntervalIndex { by_contig }
    }

    /// Whether `window` overlaps any indexed window.
    pub fn overlaps_any(&self, window: &Window) -> bool {
        if window.is_empty() {
            return false;
        }
        let Some(intervals) = self.by_contig.get(&window.chrom) else {
            return false;
        };
        // Intervals 0..before start before the window ends; one of them overlaps iff the largest end is past its start.
        let before = intervals.starts.partition_point(|&start| start < window.end);
        before > 0 && intervals.max_end[before - 1] > window.start
    }
}

/// Windows of `window` bases every `stride` bases over each region (or over whole contigs when `regions` is
/// `None`), lazily, so a whole genome never sits in memory.
///
/// Over a region [s, e) the windows are [s + k·stride, s + k·stride + window) for k = 0, 1, ... while they fit
/// inside the region (the last one included when it ends exactly at e; bases after the last window are not
/// covered). A region shorter than `window` gets one window centred on it ([`Window::centred`]), which runs past
/// the region (and maybe off the contig: see [`apply_bounds`]). A `window` or `stride` of 0 gives no windows.
/// Regions are taken as given: check their contig names first with [`crate::check_contigs`].
pub fn tiles<'a>(
    reference: &'a Reference,
    regions: Option<&'a [BedRecord]>,
    window: u64,
    stride: u64,
) -> impl Iterator<Item = Window> + 'a {
    let spans: Box<dyn Iterator<Item = (&'a str, u64, u64)> + 'a> = match regions {
        Some(regions) => Box::new(regions.iter().map(|r| (r.chrom.as_str(), r.start, r.end))),
        None => Box::new(reference.contigs().iter().map(|c| (c.name.as_str(), 0, c.length))),
    };
    spans
        .filter(move |_| window > 0 && stride > 0)
        .flat_map(move |(chrom, start, end)| tile_span(chrom, start, end, window, stride))
}

/// The windows over one span [start, end).
fn tile_span(chrom: &str, start: u64, end: u64, window: u64, stride: u64) -> impl Iterator<Item = Window> + '_ {
    let length = end.saturating_sub(start);
    let (count, short) =
        if length < window { (u64::from(length > 0), true) } else { ((length - window) / stride + 1, false) };
    (0..count).map(move |k| {
        if short {
            Window::centred(chrom, start, end, window, 0)
        } else {
            let first = start + k * stride;
            Window { chrom: chrom.to_owned(), start: signed(first), end: signed(first + window) }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centred_rounding_and_flank() {
        assert_eq!(Window::centred("c", 100, 200, 10, 0), Window::new("c", 145, 155));
        assert_eq!(Window::centred("c", 100, 201, 10, 0), Window::new("c", 145, 155));
        assert_eq!(Window::centred("c", 100, 201, 11, 0), Window::new("c", 145, 156));
        assert_eq!(Window::centred("c", 100, 201, 10, 5), Window::new("c", 140, 160));
        assert_eq!(Window::centred("c", 100, 201, 10, 5).len(), 20);
        assert_eq!(Window::centred("c", 0, 2, 10, 3), Window::new("c", -7, 9));
        // Huge coordinates saturate instead of overflowing.
        assert!(Window::centred("c", u64::MAX - 1, u64::MAX, 4, 0).len() <= 4);
    }

    #[test]
    fn overlaps_len_inside() {
        let a = Window::new("c", 10, 20);
        assert!(a.overlaps(&Window::new("c", 19, 30)));
        assert!(!a.overlaps(&Window::new("c", 20, 30)));
        assert!(!a.overlaps(&Window::new("d", 10, 20)));
        assert!(!a.overlaps(&Window::new("c", 15, 15)));
        assert_eq!(a.len(), 10);
        assert_eq!(Window::new("c", 5, 3).len(), 0);
        assert!(a.inside(20) && !a.inside(19));
        assert!(!Window::new("c", -1, 5).inside(100));
        assert_eq!(a.to_string(), "c:10-20");
    }

    #[test]
    fn interval_index_matches_brute_force() {
        let mut state = 12345u64;
        let mut next = |n: i64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) % n as u64) as i64
        };
        let mut excluded = Vec::new();
        for _ in 0..300 {
            let start = next(10_000);
            excluded.push(Window::new(if next(2) == 0 { "a" } else { "b" }, start, start + 1 + next(200)));
        }
        let index = IntervalIndex::new(&excluded);
        for _ in 0..3000 {
            let start = next(10_200) - 100;
            let query = Window::new(if next(3) == 0 { "b" } else { "a" }, start, start + next(50));
            let brute = excluded.iter().any(|w| w.overlaps(&query));
            assert_eq!(index.overlaps_any(&query), brute, "{query}");
        }
        assert!(!index.overlaps_any(&Window::new("z", 0, 100)));
    }

    #[test]
    fn out_of_bounds_serde_names() -> Result<(), serde_json::Error> {
        assert_eq!(serde_json::to_string(&OutOfBounds::Drop)?, "\"drop\"");
        assert_eq!(serde_json::from_str::<OutOfBounds>("\"pad\"")?, OutOfBounds::Pad);
        assert_eq!(OutOfBounds::default(), OutOfBounds::Pad);
        Ok(())
    }

    #[test]
    fn tile_span_counts() {
        let windows: Vec<Window> = tile_span("c", 100, 200, 30, 20).collect();
        let starts: Vec<i64> = windows.iter().map(|w| w.start).collect();
        assert_eq!(starts, vec![100, 120, 140, 160]);
        assert!(windows.iter().all(|w| w.len() == 30 && w.end <= 200));
        // The last window ends exactly at the region end.
        let last: Vec<Window> = tile_span("c", 0, 100, 40, 30).collect();
        assert_eq!(last.iter().map(|w| (w.start, w.end)).collect::<Vec<_>>(), vec![(0, 40), (30, 70), (60, 100)]);
        // Stride larger than the window leaves gaps.
        let gaps: Vec<Window> = tile_span("c", 0, 100, 10, 25).collect();
        assert_eq!(gaps.iter().map(|w| w.start).collect::<Vec<_>>(), vec![0, 25, 50, 75]);
        // A region shorter than the window: one centred window.
        let short: Vec<Window> = tile_span("c", 50, 60, 100, 10).collect();
        assert_eq!(short, vec![Window::new("c", 5, 105)]);
        assert_eq!(tile_span("c", 50, 50, 10, 10).count(), 0);
    }
}
