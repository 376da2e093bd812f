//! Gapped k-mer features: the feature map whose inner product is the gapped k-mer (gkm) kernel
//! of gkm-SVM (Ghandi et al. 2014; lsgkm's `-t 0`), as a column-major count matrix for a linear
//! model.
//!
//! A gapped k-mer is an l-long pattern with k informative positions and l − k wildcards. The
//! gkm kernel of two sequences sums, over every pair of their l-long windows `u`, `v`, the number
//! of gapped k-mers the two share: `C(m, k)` when `m` positions of `u` and `v` hold the same
//! (valid) letter. Listing each of the `C(l, k)` masks of each window explicitly would give ~330
//! entries per position (l = 11, k = 7); omix instead counts every *compact* pattern once (k
//! letters whose first and last positions are informative, span `s ≤ l`: `C(l − 1, k − 1)` = 210
//! masks) and weighs it by `sqrt(l − s + 1)`, the number of l-windows that hold it. The inner
//! product is then exactly the gkm kernel of the sequences padded with l − 1 unknown bases on
//! each side (so a pattern near an end counts in all its windows, as one in the middle does), at
//! 36% fewer entries. The features are enumerated exactly (every pattern has its own column,
//! `C(l − 1, k − 1) · 4^k` of them, halved by strand merging): at l = 11, k = 7 that is 1.8
//! million columns, whose weights fit a CPU cache, so hashing would add collisions and save
//! nothing.
//!
//! With `canonical`, a pattern and its reverse complement share one column (a reverse-complement
//! palindrome's column weighs √2 more), so the inner product is the kernel summed over both
//! strands: `K(x, y) + K(x, rc(y))`, as lsgkm scores both strands.
//!
//! [`GkmFeaturizer::matrix`] builds the rows of many sequences at once as a [`GkmMatrix`]: for
//! each column the rows that hold the pattern (a row repeated once per extra occurrence), a scale
//! per row (1 / the row's L2 norm: lsgkm normalises its kernel the same way) and a scale per
//! column. Entry `(i, j)` is `row_scale[i] · column_scale[j] · count`.

use std::collections::HashMap;

use omix_encode::{Alphabet, NOT_A_SYMBOL};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{FeatureError, SparseRow};

/// The most informative positions (4^8 = 65,536 letter combinations per mask).
pub const MAX_GKM_K: usize = 8;
/// The longest pattern (one 64-bit window of 2-bit letters).
pub const MAX_GKM_L: usize = 32;
/// The most columns before strand merging (`C(l − 1, k − 1) · 4^k`).
pub const MAX_GKM_FEATURES: usize = 1 << 24;

/// Gapped k-mer settings: pattern length `l` and informative positions `k` (lsgkm's `-l`, `-k`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GkmConfig {
    /// Length of a gapped k-mer, wildcards included. Default 11 (lsgkm's).
    pub l: usize,
    /// Informative positions of a gapped k-mer (at most l, at most 8). Default 7 (lsgkm's).
    pub k: usize,
}

impl Default for GkmConfig {
    fn default() -> Self {
        GkmConfig { l: 11, k: 7 }
    }
}

impl GkmConfig {
    /// Check the settings; each rule has its own message.
    pub fn check(&self) -> Result<(), FeatureError> {
        let invalid = |rule: String| Err(FeatureError::GkmSettings { l: self.l, k: self.k, rule });
        if self.k == 0 || self.k > MAX_GKM_K {
            return invalid(format!("k (informative positions) must be 1 to {MAX_GKM_K}"));
        }
        if self.l < self.k {
            return invalid("k (informative positions) must be at most l (the pattern length)".into());
        }
        if self.l > MAX_GKM_L {
            return invalid(format!("l (the pattern length) must be at most {MAX_GKM_L}"));
        }
        let features = self.features();
        if features > MAX_GKM_FEATURES as u128 {
            return invalid(format!(
                "C(l - 1, k - 1) * 4^k = {features} gapped k-mers is more than the {MAX_GKM_FEATURES} supported; use a smaller l or k"
            ));
        }
        Ok(())
    }

    /// Compact masks (first and last position informative, span at most l): `C(l − 1, k − 1)`.
    pub fn masks(&self) -> u128 {
        binomial(self.l.saturating_sub(1) as u128, self.k.saturating_sub(1) as u128)
    }

    /// Columns before strand merging: `C(l − 1, k − 1) · 4^k`.
    fn features(&self) -> u128 {
        self.masks().saturating_mul(1u128 << (2 * self.k.min(MAX_GKM_K + 1)))
    }
}

/// `C(n, r)` without overflow for the sizes checked here.
fn binomial(n: u128, r: u128) -> u128 {
    if r > n {
        return 0;
    }
    let r = r.min(n - r);
    (0..r).fold(1u128, |acc, i| acc.saturating_mul(n - i) / (i + 1))
}

/// Where one mask's letter codes land among the columns.
#[derive(Debug, Clone, Copy)]
enum Placement {
    /// Column `base + code`.
    Forward(u32),
    /// The reverse-complement mask owns the columns: `base + rc(code)`.
    Reversed(u32),
    /// A mask equal to its own reverse: `base + min(code, rc(code))`.
    Palindrome(u32),
}

/// One compact mask: informative offsets from the pattern's first base.
#[derive(Debug, Clone)]
struct Mask {
    offsets: Vec<u32>,
    span: usize,
    /// Bit `o` set for each informative offset `o`.
    informative: u64,
    placement: Placement,
}

/// Turns nucleotide sequences into gapped k-mer counts (see the module documentation).
#[derive(Debug, Clone)]
pub struct GkmFeaturizer {
    config: GkmConfig,
    canonical: bool,
    codes: &'static [u8; 256],
    alphabet: Alphabet,
    masks: Vec<Mask>,
    /// Index of the mask that owns each block of `4^k` columns.
    owners: Vec<usize>,
    /// Code of the reverse complement of every k-letter code (canonical only).
    reverse: Vec<u32>,
    /// Bytes of the 2-bit window a pattern reads (`ceil(l / 4)`).
    window_bytes: usize,
    /// Per mask and window byte, the part of the pattern's code that byte holds: a mask's code
    /// is the OR of `window_bytes` lookups (`tables[(mask * window_bytes + byte) * 256 + value]`).
    tables: Vec<u32>,
    column_scale: Vec<f32>,
}

impl GkmFeaturizer {
    /// A featuriser for DNA or RNA; `canonical` merges each pattern with its reverse complement.
    pub fn new(config: GkmConfig, alphabet: Alphabet, canonical: bool) -> Result<Self, FeatureError> {
        config.check()?;
        if alphabet.size() != 4 {
            return Err(FeatureError::GkmNeedsNucleotides { alphabet });
        }
        let (l, k) = (config.l, config.k);
        // Compact masks by span, then by their offsets in lexicographic order.
        let mut offsets_by_mask: Vec<Vec<u32>> = Vec::new();
        for span in k..=l {
            if k == 1 {
                if span == 1 {
                    offsets_by_mask.push(vec![0]);
                }
                continue;
            }
            let mut chosen = Vec::with_capacity(k);
            interior(1, span as u32 - 1, k - 2, &mut chosen, &mut |inner| {
                let mut offsets = Vec::with_capacity(k);
                offsets.push(0);
                offsets.extend_from_slice(inner);
                offsets.push(span as u32 - 1);
                offsets_by_mask.push(offsets);
            });
        }
        let index: HashMap<Vec<u32>, usize> =
            offsets_by_mask.iter().enumerate().map(|(i, offsets)| (offsets.clone(), i)).collect();
        let letters = 1usize << (2 * k);
        let mut masks = Vec::with_capacity(offsets_by_mask.len());
        let mut owners = Vec::new();
        let mut bases: Vec<Option<u32>> = vec![None; offsets_by_mask.len()];
        for (id, offsets) in offsets_by_mask.iter().enumerate() {
            let span = *offsets.last().unwrap_or(&0) as usize + 1;
            let reversed: Vec<u32> = offsets.iter().rev().map(|&o| span as u32 - 1 - o).collect();
            let partner = index.get(&reversed).copied().unwrap_or(id);
            let placement = if !canonical {
                owners.push(id);
                Placement::Forward((id * letters) as u32)
            } else if partner < id {
                // The partner came first and owns the columns.
                Placement::Reversed(bases[partner].unwrap_or(0))
            } else {
                let base = (owners.len() * letters) as u32;
                bases[id] = Some(base);
                owners.push(id);
                if partner == id { Placement::Palindrome(base) } else { Placement::Forward(base) }
            };
            let informative = offsets.iter().fold(0u64, |bits, &o| bits | (1 << o));
            masks.push(Mask { offsets: offsets.clone(), span, informative, placement });
        }
        let reverse: Vec<u32> = if canonical {
            (0..letters as u32).map(|code| reverse_complement_code(code, k)).collect()
        } else {
            Vec::new()
        };
        // Letter t of a mask (offset o) is bits 2o of the window and bits 2(k − 1 − t) of the code.
        let window_bytes = l.div_ceil(4);
        let mut tables = vec![0u32; masks.len() * window_bytes * 256];
        for (m, mask) in masks.iter().enumerate() {
            for byte in 0..window_bytes {
                let table = &mut tables[(m * window_bytes + byte) * 256..(m * window_bytes + byte + 1) * 256];
                for (value, slot) in table.iter_mut().enumerate() {
                    for (t, &offset) in mask.offsets.iter().enumerate() {
                        if offset as usize / 4 == byte {
                            let letter = (value >> (2 * (offset as usize % 4))) & 3;
                            *slot |= (letter as u32) << (2 * (k - 1 - t));
                        }
                    }
                }
            }
        }
        let mut column_scale = Vec::with_capacity(owners.len() * letters);
        for &owner in &owners {
            let mask = &masks[owner];
            let weight = ((l - mask.span + 1) as f32).sqrt();
            let palindrome = matches!(mask.placement, Placement::Palindrome(_));
            column_scale.extend((0..letters).map(|code| {
                if palindrome && reverse[code] == code as u32 { weight * std::f32::consts::SQRT_2 } else { weight }
            }));
        }
        Ok(GkmFeaturizer {
            config,
            canonical,
            codes: alphabet.codes(),
            alphabet,
            masks,
            owners,
            reverse,
            window_bytes,
            tables,
            column_scale,
        })
    }

    /// The settings.
    pub fn config(&self) -> GkmConfig {
        self.config
    }

    /// True when a pattern and its reverse complement share a column.
    pub fn canonical(&self) -> bool {
        self.canonical
    }

    /// The number of columns (a palindromic mask keeps all `4^k` columns, half of them empty).
    pub fn dimension(&self) -> usize {
        self.column_scale.len()
    }

    /// The weight of each column: `sqrt(l − span + 1)`, times √2 for a palindromic pattern when
    /// canonical.
    pub fn column_scale(&self) -> &[f32] {
        &self.column_scale
    }

    /// Bytes [`matrix`](Self::matrix) needs for `sequences` (an upper bound: every pattern of
    /// every position counted, 4 bytes each, plus the column offsets).
    pub fn matrix_bytes<'a>(&self, sequences: impl IntoIterator<Item = &'a [u8]>) -> u128 {
        let masks = self.masks.iter().map(|m| m.span).collect::<Vec<_>>();
        let occurrences: u128 = sequences
            .into_iter()
            .map(|s| masks.iter().map(|&span| (s.len() + 1).saturating_sub(span) as u128).sum::<u128>())
            .sum();
        occurrences * 4 + self.dimension() as u128 * 12
    }

    /// The pattern of column `index`: its letters with `.` for each wildcard (`AC.G..T`);
    /// `None` past the last column.
    pub fn feature_name(&self, index: usize) -> Option<String> {
        let letters = 1usize << (2 * self.config.k);
        let mask = &self.masks[*self.owners.get(index / letters)?];
        let code = index % letters;
        let symbols = self.alphabet.symbols();
        let mut name = vec![b'.'; mask.span];
        for (t, &offset) in mask.offsets.iter().enumerate() {
            let letter = (code >> (2 * (self.config.k - 1 - t))) & 3;
            name[offset as usize] = symbols[letter];
        }
        Some(String::from_utf8_lossy(&name).into_owned())
    }

    /// Call `emit` with the column of every pattern occurrence in `sequence` (unsorted; a
    /// pattern whose informative positions hold anything but A, C, G, T/U is skipped).
    pub fn for_each_column(&self, sequence: &[u8], emit: impl FnMut(u32)) {
        let all: Vec<usize> = (0..self.masks.len()).collect();
        self.emit_columns(sequence, &all, emit);
    }

    /// [`for_each_column`](Self::for_each_column) for the masks numbered in `masks` only.
    fn emit_columns(&self, sequence: &[u8], masks: &[usize], mut emit: impl FnMut(u32)) {
        // Base p + d sits at bits 2d of `window`; bit d of `invalid` marks it unusable (positions
        // past the end included, so a mask that overhangs the end is skipped).
        let mut window: u64 = 0;
        let mut invalid: u64 = u64::MAX;
        let bytes = self.window_bytes;
        let mut values = [0usize; MAX_GKM_L / 4];
        for &byte in sequence.iter().rev() {
            let code = self.codes[usize::from(byte)];
            window = (window << 2) | u64::from(code & 3);
            invalid = (invalid << 1) | u64::from(code == NOT_A_SYMBOL);
            for (b, value) in values[..bytes].iter_mut().enumerate() {
                *value = ((window >> (8 * b)) & 0xFF) as usize;
            }
            for &id in masks {
                let mask = &self.masks[id];
                let tables = &self.tables[id * bytes * 256..(id + 1) * bytes * 256];
                if invalid & mask.informative != 0 {
                    continue;
                }
                let mut pattern = 0u32;
                for (table, &value) in tables.chunks_exact(256).zip(&values[..bytes]) {
                    pattern |= table[value];
                }
                emit(match mask.placement {
                    Placement::Forward(base) => base + pattern,
                    Placement::Reversed(base) => base + self.reverse[pattern as usize],
                    Placement::Palindrome(base) => base + pattern.min(self.reverse[pattern as usize]),
                });
            }
        }
    }

    /// One sequence's weighted counts (count × column scale, not normalised), sorted by column.
    pub fn featurize(&self, sequence: &[u8], out: &mut SparseRow) {
        out.clear();
        self.for_each_column(sequence, |column| out.indices.push(column));
        out.indices.sort_unstable();
        let total = out.indices.len();
        let (mut unique, mut start) = (0, 0);
        while start < total {
            let column = out.indices[start];
            let mut end = start + 1;
            while end < total && out.indices[end] == column {
                end += 1;
            }
            out.indices[unique] = column;
            out.values.push((end - start) as f32 * self.column_scale[column as usize]);
            unique += 1;
            start = end;
        }
        out.indices.truncate(unique);
    }

    /// The rows of many sequences as a column-major matrix with unit-norm rows (in parallel;
    /// the result does not depend on the number of threads).
    ///
    /// The columns of one mask (and its reverse-complement partner) are contiguous, so each
    /// such block is counted and filled by one task reading every sequence: its writes stay in
    /// a few megabytes, and the tasks own disjoint parts of the output.
    pub fn matrix(&self, sequences: &[&[u8]]) -> Result<GkmMatrix, FeatureError> {
        if u32::try_from(sequences.len()).is_err() {
            return Err(FeatureError::TooManyRows { rows: sequences.len(), max: u32::MAX as usize });
        }
        let letters = 1usize << (2 * self.config.k);
        let mut block_masks: Vec<Vec<usize>> = vec![Vec::new(); self.owners.len()];
        for (id, mask) in self.masks.iter().enumerate() {
            let base = match mask.placement {
                Placement::Forward(base) | Placement::Reversed(base) | Placement::Palindrome(base) => base,
            };
            block_masks[base as usize / letters].push(id);
        }
        // Pass 1: entries per column, block by block.
        let counts: Vec<Vec<u32>> = block_masks
            .par_iter()
            .enumerate()
            .map(|(block, masks)| {
                let base = (block * letters) as u32;
                let mut counts = vec![0u32; letters];
                for sequence in sequences {
                    self.emit_columns(sequence, masks, |column| counts[(column - base) as usize] += 1);
                }
                counts
            })
            .collect();
        let mut column_offsets = Vec::with_capacity(self.dimension() + 1);
        let mut total = 0usize;
        column_offsets.push(0);
        for &count in counts.iter().flatten() {
            total += count as usize;
            column_offsets.push(total);
        }
        // Pass 2: each block fills its own slice, rows in order, so each column's rows ascend.
        let mut rows = vec![0u32; total];
        let mut slices = Vec::with_capacity(block_masks.len());
        let mut rest = rows.as_mut_slice();
        for block in 0..block_masks.len() {
            let length = column_offsets[(block + 1) * letters] - column_offsets[block * letters];
            let (head, tail) = rest.split_at_mut(length);
            slices.push(head);
            rest = tail;
        }
        let squared_parts: Vec<Vec<f64>> = slices
            .into_par_iter()
            .zip(&block_masks)
            .enumerate()
            .map(|(block, (slice, masks))| {
                let base = (block * letters) as u32;
                let start = column_offsets[block * letters];
                let mut next: Vec<usize> =
                    column_offsets[block * letters..(block + 1) * letters].iter().map(|&o| o - start).collect();
                for (row, sequence) in sequences.iter().enumerate() {
                    self.emit_columns(sequence, masks, |column| {
                        let slot = &mut next[(column - base) as usize];
                        slice[*slot] = row as u32;
                        *slot += 1;
                    });
                }
                // This block's share of the squared row norms: a row's repeats in a column are
                // adjacent, and their run is its count.
                let mut squared = vec![0f64; sequences.len()];
                for column in 0..letters {
                    let scale = f64::from(self.column_scale[block * letters + column]);
                    let bounds = column_offsets[block * letters + column] - start
                        ..column_offsets[block * letters + column + 1] - start;
                    let entries = &slice[bounds];
                    let mut first = 0;
                    while first < entries.len() {
                        let mut end = first + 1;
                        while end < entries.len() && entries[end] == entries[first] {
                            end += 1;
                        }
                        let value = scale * (end - first) as f64;
                        squared[entries[first] as usize] += value * value;
                        first = end;
                    }
                }
                squared
            })
            .collect();
        let mut squared = vec![0f64; sequences.len()];
        for part in &squared_parts {
            squared.iter_mut().zip(part).for_each(|(total, value)| *total += value);
        }
        let row_scale = squared.iter().map(|&s| if s > 0.0 { (1.0 / s.sqrt()) as f32 } else { 0.0 }).collect();
        Ok(GkmMatrix { column_offsets, rows, row_scale, column_scale: self.column_scale.clone() })
    }
}

/// Choose `remaining` interior offsets from `from..end` in increasing order.
fn interior(from: u32, end: u32, remaining: usize, chosen: &mut Vec<u32>, visit: &mut impl FnMut(&[u32])) {
    if remaining == 0 {
        visit(chosen);
        return;
    }
    for offset in from..end {
        if (end - offset) as usize >= remaining {
            chosen.push(offset);
            interior(offset + 1, end, remaining - 1, chosen, visit);
            chosen.pop();
        }
    }
}

/// The 2-bit code of the reverse complement of the k-letter code `code` (A=0, C=1, G=2, T=3).
fn reverse_complement_code(code: u32, k: usize) -> u32 {
    let mut rest = code;
    let mut reverse = 0;
    for _ in 0..k {
        reverse = (reverse << 2) | (3 - (rest & 3));
        rest >>= 2;
    }
    reverse
}

/// Gapped k-mer rows of many sequences, column-major, with implicit values: entry `(i, j)` is
/// `row_scale[i] · column_scale[j]` times the number of times row `i` appears in column `j`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GkmMatrix {
    /// Column `j`'s rows are `rows[column_offsets[j]..column_offsets[j + 1]]`, ascending.
    pub column_offsets: Vec<usize>,
    /// Row numbers, one per pattern occurrence.
    pub rows: Vec<u32>,
    /// 1 / each row's L2 norm (0 for a row with no pattern).
    pub row_scale: Vec<f32>,
    /// Each column's weight.
    pub column_scale: Vec<f32>,
}

impl GkmMatrix {
    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.row_scale.len()
    }

    /// The number of stored occurrences.
    pub fn occurrences(&self) -> usize {
        self.rows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn named(featurizer: &GkmFeaturizer, sequence: &[u8]) -> BTreeMap<String, f32> {
        let mut row = SparseRow::default();
        featurizer.featurize(sequence, &mut row);
        row.indices
            .iter()
            .zip(&row.values)
            .map(|(&i, &v)| (featurizer.feature_name(i as usize).unwrap_or_default(), v))
            .collect()
    }

    fn dot(a: &SparseRow, b: &SparseRow) -> f64 {
        let b: BTreeMap<u32, f32> = b.indices.iter().copied().zip(b.values.iter().copied()).collect();
        a.indices.iter().zip(&a.values).map(|(i, &v)| f64::from(v) * f64::from(*b.get(i).unwrap_or(&0.0))).sum()
    }

    /// The gkm kernel by its definition: over every pair of l-windows of the two sequences,
    /// each padded with l − 1 unknown bases on both sides, C(m, k) where m positions hold the
    /// same valid letter in both windows.
    fn brute_force_kernel(x: &[u8], y: &[u8], l: usize, k: usize) -> f64 {
        let pad = |s: &[u8]| -> Vec<u8> {
            let mut padded = vec![b'N'; l - 1];
            padded.extend(s.iter().map(|b| match b.to_ascii_uppercase() {
                b'U' => b'T',
                other => other,
            }));
            padded.extend(std::iter::repeat_n(b'N', l - 1));
            padded
        };
        let (x, y) = (pad(x), pad(y));
        let valid = |b: u8| matches!(b, b'A' | b'C' | b'G' | b'T');
        let mut total = 0.0;
        for u in x.windows(l) {
            for v in y.windows(l) {
                let matches = u.iter().zip(v).filter(|&(&a, &b)| valid(a) && a == b).count();
                total += binomial(matches as u128, k as u128) as f64;
            }
        }
        total
    }

    fn reverse_complement(s: &[u8]) -> Vec<u8> {
        omix_encode::reverse_complement(s, Alphabet::Dna)
    }

    #[test]
    fn counts_of_a_short_sequence() -> TestResult {
        // l = 3, k = 2: masks XX (span 2, weight sqrt(2)) and X.X (span 3, weight 1).
        let f = GkmFeaturizer::new(GkmConfig { l: 3, k: 2 }, Alphabet::Dna, false)?;
        assert_eq!(f.dimension(), 2 * 16);
        let counts = named(&f, b"ACAC");
        let root2 = 2f32.sqrt();
        let expected: BTreeMap<String, f32> = [
            ("AC".to_string(), 2.0 * root2),
            ("CA".to_string(), root2),
            ("A.A".to_string(), 1.0),
            ("C.C".to_string(), 1.0),
        ]
        .into_iter()
        .collect();
        assert_eq!(counts, expected);
        // An N breaks the patterns that need it, not those that straddle it as a wildcard.
        let counts = named(&f, b"ANA");
        assert_eq!(counts, [("A.A".to_string(), 1.0)].into_iter().collect());
        assert!(named(&f, b"A").is_empty());
        // Canonical: AC and GT are one column, A.A and T.T too; CG is its own reverse complement.
        let f = GkmFeaturizer::new(GkmConfig { l: 3, k: 2 }, Alphabet::Dna, true)?;
        let counts = named(&f, b"ACGT");
        let expected: BTreeMap<String, f32> = [
            ("AC".to_string(), 2.0 * root2),
            ("CG".to_string(), root2 * std::f32::consts::SQRT_2),
            // A.G (from ACG) and C.T (from CGT) are reverse complements of each other.
            ("A.G".to_string(), 2.0),
        ]
        .into_iter()
        .collect();
        assert_eq!(counts, expected);
        Ok(())
    }

    #[test]
    fn lsgkm_defaults_have_210_masks() -> TestResult {
        let config = GkmConfig::default();
        assert_eq!((config.l, config.k, config.masks()), (11, 7, 210));
        let plain = GkmFeaturizer::new(config, Alphabet::Dna, false)?;
        assert_eq!(plain.dimension(), 210 * 16384);
        let canonical = GkmFeaturizer::new(config, Alphabet::Rna, true)?;
        assert!(canonical.dimension() < plain.dimension() / 2 + 16 * 16384);
        // 11 − span + 1 windows hold a pattern: weight sqrt(5) for a contiguous 7-mer.
        assert_eq!(canonical.feature_name(0).as_deref(), Some("AAAAAAA"));
        assert!((canonical.column_scale()[0] - 5f32.sqrt()).abs() < 1e-6);
        Ok(())
    }

    #[test]
    fn settings_are_checked() {
        let bad = |l, k| GkmConfig { l, k }.check().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(bad(5, 7).contains("k (informative positions) must be at most l"), "{}", bad(5, 7));
        assert!(bad(11, 0).contains("must be 1 to 8"));
        assert!(bad(40, 8).contains("at most 32"));
        assert!(bad(20, 8).contains("C(l - 1, k - 1) * 4^k"), "{}", bad(20, 8));
        assert!(GkmConfig { l: 8, k: 8 }.check().is_ok());
        assert!(matches!(
            GkmFeaturizer::new(GkmConfig::default(), Alphabet::Protein, false),
            Err(FeatureError::GkmNeedsNucleotides { .. })
        ));
        let config: GkmConfig = serde_json::from_str(r#"{"l": 10}"#).unwrap_or_default();
        assert_eq!(config, GkmConfig { l: 10, k: 7 });
        assert!(serde_json::from_str::<GkmConfig>(r#"{"gap": 1}"#).is_err());
    }

    proptest! {
        #[test]
        fn inner_product_is_the_gkm_kernel(
            x in proptest::collection::vec(proptest::sample::select(b"ACGTACGTNu".to_vec()), 0..24),
            y in proptest::collection::vec(proptest::sample::select(b"ACGTACGTNa".to_vec()), 0..24),
            l in 1usize..=6,
            k in 1usize..=4,
            canonical: bool,
        ) {
            prop_assume!(k <= l);
            let f = GkmFeaturizer::new(GkmConfig { l, k }, Alphabet::Dna, canonical)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let (mut a, mut b) = (SparseRow::default(), SparseRow::default());
            f.featurize(&x, &mut a);
            f.featurize(&y, &mut b);
            let mut expected = brute_force_kernel(&x, &y, l, k);
            if canonical {
                expected += brute_force_kernel(&x, &reverse_complement(&y), l, k);
            }
            let got = dot(&a, &b);
            prop_assert!((got - expected).abs() <= 1e-4 * expected.max(1.0), "{} vs {}", got, expected);
        }

        #[test]
        fn canonical_rows_are_strand_symmetric(
            x in proptest::collection::vec(proptest::sample::select(b"ACGTN".to_vec()), 0..60),
        ) {
            let f = GkmFeaturizer::new(GkmConfig::default(), Alphabet::Dna, true)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let (mut a, mut b) = (SparseRow::default(), SparseRow::default());
            f.featurize(&x, &mut a);
            f.featurize(&reverse_complement(&x), &mut b);
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn matrix_holds_the_normalised_rows() -> TestResult {
        let f = GkmFeaturizer::new(GkmConfig { l: 6, k: 4 }, Alphabet::Dna, true)?;
        let mut state = 7u64;
        let owned: Vec<Vec<u8>> = (0..2100)
            .map(|i| {
                (0..(i % 40))
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        b"ACGTN"[((state >> 33) % 5) as usize]
                    })
                    .collect()
            })
            .collect();
        let sequences: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let matrix = f.matrix(&sequences)?;
        assert_eq!((matrix.rows(), matrix.column_offsets.len()), (2100, f.dimension() + 1));
        // The memory estimate bounds what was stored.
        let estimate = f.matrix_bytes(sequences.iter().copied());
        assert!(
            estimate >= matrix.occurrences() as u128 * 4 && estimate < matrix.occurrences() as u128 * 8 + (1 << 24)
        );
        // Rebuild each row from the columns and compare with `featurize`, normalised.
        let mut rebuilt: Vec<BTreeMap<u32, f64>> = vec![BTreeMap::new(); sequences.len()];
        for (column, bounds) in matrix.column_offsets.windows(2).enumerate() {
            let entries = &matrix.rows[bounds[0]..bounds[1]];
            assert!(entries.windows(2).all(|w| w[0] <= w[1]));
            for &row in entries {
                *rebuilt[row as usize].entry(column as u32).or_default() +=
                    f64::from(matrix.row_scale[row as usize]) * f64::from(matrix.column_scale[column]);
            }
        }
        let mut row = SparseRow::default();
        for (i, sequence) in sequences.iter().enumerate() {
            f.featurize(sequence, &mut row);
            let norm = row.values.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt();
            assert_eq!(row.indices.len(), rebuilt[i].len());
            for (column, value) in row.indices.iter().zip(&row.values) {
                let got = rebuilt[i].get(column).copied().unwrap_or(0.0);
                assert!((got - f64::from(*value) / norm).abs() < 1e-5, "row {i} column {column}");
            }
            if row.indices.is_empty() {
                assert_eq!(matrix.row_scale[i], 0.0);
            }
        }
        Ok(())
    }
}
