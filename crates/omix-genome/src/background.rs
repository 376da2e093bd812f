//! GC content and GC-matched background (negative) windows.

use std::collections::{HashMap, HashSet};

use omix_encode::{GcCount, gc_fraction};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{GenomeError, IntervalIndex, Reference, Window};

/// The number of GC-fraction bins positives and background are matched in (each 0.05 wide).
pub const GC_BINS: usize = 20;

/// Draws allowed per requested background window before giving up.
pub const DRAWS_PER_WINDOW: usize = 200;

/// The GC bin (0..[`GC_BINS`]) of a GC fraction.
fn gc_bin(gc: f64) -> usize {
    ((gc * GC_BINS as f64) as usize).min(GC_BINS - 1)
}

/// Background windows drawn by [`gc_matched_background`].
#[derive(Debug, Clone, PartialEq)]
pub struct Background {
    /// The windows, in the order drawn.
    pub windows: Vec<Window>,
    /// How many were asked for: `per_positive` × the positives that hold any A, C, G or T.
    /// Fewer `windows` than this means the draw budget ran out (see [`Background::shortfall`]).
    pub requested: usize,
    /// The mean GC fraction of the positives (NaN when none holds any A, C, G or T).
    pub gc_positive_mean: f64,
    /// The mean GC fraction of the background windows (NaN when there are none).
    pub gc_background_mean: f64,
    /// How many random windows were drawn.
    pub draws: usize,
}

impl Background {
    /// How many requested windows could not be found.
    pub fn shortfall(&self) -> usize {
        self.requested.saturating_sub(self.windows.len())
    }
}

/// Background (negative) windows sampled from the reference, GC-matched to `positives`.
///
/// The positives' GC fractions are put in [`GC_BINS`] bins; each positive asks for `per_positive` windows of
/// its own length in its bin. Windows are drawn uniformly (seeded ChaCha8) from the contigs named in
/// `contigs`, wholly inside a contig, never overlapping a window of `exclude` (pass the positives there too)
/// nor repeating one already drawn, with at most `max_n_fraction` of their bases other than A, C, G, T (or U); a draw
/// is kept when its GC bin still needs windows of its length. Drawing stops when all are found or after
/// [`DRAWS_PER_WINDOW`] × requested draws: then what was found is returned and [`Background::shortfall`] says
/// how many are missing. The same inputs and `seed` give the same windows.
///
/// Errors: an unknown contig in `contigs` or `positives`, no contigs, a `max_n_fraction` outside [0, 1].
pub fn gc_matched_background(
    reference: &Reference,
    positives: &[Window],
    per_positive: usize,
    contigs: &[String],
    exclude: &[Window],
    max_n_fraction: f64,
    seed: u64,
) -> Result<Background, GenomeError> {
    if !(0.0..=1.0).contains(&max_n_fraction) {
        return Err(GenomeError::InvalidParameter {
            name: "max_n_fraction",
            value: max_n_fraction.to_string(),
            message: "must lie in [0, 1]".to_owned(),
        });
    }
    if contigs.is_empty() {
        return Err(GenomeError::InvalidParameter {
            name: "contigs",
            value: "[]".to_owned(),
            message: "name at least one contig to draw background windows from".to_owned(),
        });
    }
    // Where the draw may land: contigs as consecutive ranges of one number line.
    let mut lengths = Vec::with_capacity(contigs.len());
    let mut ends = Vec::with_capacity(contigs.len());
    let mut total = 0u64;
    for name in contigs {
        let length = reference.contig_length(name).ok_or_else(|| reference.unknown_contig(name))?;
        total = total.saturating_add(length);
        lengths.push(length);
        ends.push(total);
    }

    // What is needed: per (length, GC bin), and per length; one sampling slot per requested window.
    let mut need: HashMap<(u64, usize), usize> = HashMap::new();
    let mut need_by_length: HashMap<u64, usize> = HashMap::new();
    let mut slots: Vec<u64> = Vec::new();
    let (mut gc_sum, mut gc_count) = (0.0, 0usize);
    for positive in positives {
        let sequence = reference.fetch(&positive.chrom, positive.start, positive.end)?;
        let Some(gc) = gc_fraction(&sequence) else { continue };
        gc_sum += gc;
        gc_count += 1;
        let length = positive.len();
        *need.entry((length, gc_bin(gc))).or_default() += per_positive;
        *need_by_length.entry(length).or_default() += per_positive;
        slots.extend(std::iter::repeat_n(length, per_positive));
    }
    let requested = slots.len();

    let excluded = IntervalIndex::new(exclude);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut taken: HashSet<(usize, u64, u64)> = HashSet::new();
    let mut windows = Vec::with_capacity(requested);
    let mut background_gc_sum = 0.0;
    let mut remaining = requested;
    let mut draws = 0usize;
    let budget = requested.saturating_mul(DRAWS_PER_WINDOW);
    while remaining > 0 && draws < budget && total > 0 {
        // Pick a length in proportion to what is still needed; slots of lengths no longer needed are dropped lazily.
        let slot = rng.random_range(0..slots.len());
        let length = slots[slot];
        if need_by_length.get(&length).copied().unwrap_or(0) == 0 {
            slots.swap_remove(slot);
            continue;
        }
        draws += 1;
        let position = rng.random_range(0..total);
        let contig = ends.partition_point(|&end| end <= position);
        let offset = position - (ends[contig] - lengths[contig]);
        if offset.saturating_add(length) > lengths[contig] || !taken.insert((contig, offset, length)) {
            continue;
        }
        let start = i64::try_from(offset).unwrap_or(i64::MAX);
        let window = Window { chrom: contigs[contig].clone(), start, end: start.saturating_add(length as i64) };
        if excluded.overlaps_any(&window) {
            continue;
        }
        let sequence = reference.fetch(&window.chrom, window.start, window.end)?;
        let GcCount { gc, at } = GcCount::of(&sequence);
        let other = sequence.len() - gc - at;
        if gc + at == 0 || other as f64 > max_n_fraction * sequence.len() as f64 {
            continue;
        }
        let fraction = gc as f64 / (gc + at) as f64;
        let Some(needed) = need.get_mut(&(length, gc_bin(fraction))).filter(|n| **n > 0) else { continue };
        *needed -= 1;
        if let Some(by_length) = need_by_length.get_mut(&length) {
            *by_length -= 1;
        }
        remaining -= 1;
        background_gc_sum += fraction;
        windows.push(window);
    }
    let mean = |sum: f64, count: usize| if count == 0 { f64::NAN } else { sum / count as f64 };
    Ok(Background {
        gc_background_mean: mean(background_gc_sum, windows.len()),
        windows,
        requested,
        gc_positive_mean: mean(gc_sum, gc_count),
        draws,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gc_bins_cover_zero_to_one() {
        assert_eq!(gc_bin(0.0), 0);
        assert_eq!(gc_bin(0.049), 0);
        assert_eq!(gc_bin(0.05), 1);
        assert_eq!(gc_bin(0.999), 19);
        assert_eq!(gc_bin(1.0), 19);
    }
}
