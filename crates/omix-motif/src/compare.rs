//! Motif-to-database comparison with Tomtom's statistics.
//!
//! This is the method of Tomtom (Gupta, Stamatoyannopoulos, Bailey & Noble, "Quantifying
//! similarity between motifs", Genome Biology 2007, 8:R24) in its two scoring modes:
//! [`Scoring::Complete`] (Tomtom's default: every query column counts, those the target does not
//! cover at their null median; built as memelite builds it, and equal to memelite's p-values —
//! `tests/tomtom.rs`), and [`Scoring::Incomplete`] (`-incomplete-scores`: only the overlapping
//! columns of an alignment count), described below. The complete mode is documented on
//! [`CompleteNull`].
//!
//! # Column scores
//!
//! Two columns (probability vectors over the alphabet) are compared with
//! [`Similarity::Pearson`], the Pearson correlation coefficient of the two vectors (Tomtom's
//! default; a column without variance, such as a uniform one, scores 0 against everything),
//! or [`Similarity::Euclidean`], minus the Euclidean distance.
//!
//! # The null distribution (incomplete scores)
//!
//! For one query of width `w`, every query column `i` is scored against every column of every
//! database motif, and of their reverse complements when both strands are searched: `N_c`
//! scores per query column, which are that column's null distribution (a random alignment
//! puts a random database column opposite it). All `w × N_c` scores are rescaled together to
//! integers `0..=100` ([`SCORE_BINS`]; `tomtom.c` of MEME 4.9 and 5.x defines `BINS 100`):
//! `round((s - min) × 100 / (max - min))`, `min` and `max` over all `w × N_c` scores. Assuming
//! columns independent, the distribution of the summed score of query columns `a..=b` is the
//! convolution of their per-column histograms; a dynamic programme builds it for every start
//! `a`, adding one column at a time, and keeps the survival function `P(S ≥ s)` of every
//! contiguous range (`w (w + 1) / 2` tables of at most `100 w + 1` entries).
//!
//! # Alignments and p-values (incomplete scores)
//!
//! A target of width `t` is slid along the query at every offset where at least
//! `min(min_overlap, w, t)` columns overlap: `w + t − 2 m + 1` offsets per strand. The score of
//! an alignment is the sum of the rescaled scores of the overlapping column pairs, and its
//! p-value is the survival function of that query column range at that score (exact for the
//! rescaled scores). The offset and strand with the smallest p-value (ties to the larger
//! overlap, as in Tomtom, then to the higher unscaled score) is kept, and the p-value is
//! corrected for the choice among the `n` alignments tried on both strands, as Tomtom does:
//! `p_target = 1 − (1 − p_best)^n`. The E-value is `p_target × database size` and the q-value
//! is the Benjamini–Hochberg adjustment over the database (Tomtom itself estimates `π0` as
//! Storey does; Benjamini–Hochberg is the more conservative `π0 = 1`).
//!
//! The query itself (when it is in the database) is part of the null, as in Tomtom. The null
//! needs a reasonably large database: Tomtom warns under 50 motifs.
//!
//! # Cost
//!
//! Per query, `w × N_c` column scores (about 21 000 database columns for JASPAR on both
//! strands) and `Σ_ranges length × 100 × 101` multiply-adds for the tables (about 10^7 for
//! `w = 19`); about 6 ms per 19-column query against JASPAR on one core.

use std::fmt;

use crate::{Motif, MotifSet};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::MotifError;

/// The number of integer bins column scores are rescaled to (Tomtom's `BINS`).
pub const SCORE_BINS: usize = 100;

/// How two motif columns are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Similarity {
    /// The Pearson correlation coefficient of the two probability vectors (Tomtom's default).
    #[default]
    Pearson,
    /// Minus the Euclidean distance between the two probability vectors.
    Euclidean,
}

/// Which query columns an alignment's score counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    /// Only the overlapping columns (Tomtom's `-incomplete-scores`); the p-value of the best
    /// offset is corrected for the number of offsets tried.
    Incomplete,
    /// Every query column: a column the target does not cover scores its null median
    /// (Tomtom's default; memelite's only mode). The p-value is that of the best of all
    /// alignments under the null, so no offset correction is needed. Every overlap counts
    /// (`min_overlap` applies to [`Scoring::Incomplete`] only). The default, as in Tomtom.
    #[default]
    Complete,
}

/// Settings of a [`Comparer`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompareOptions {
    /// The column similarity (default [`Similarity::Pearson`]).
    pub similarity: Similarity,
    /// Which query columns an alignment's score counts (default [`Scoring::Complete`]).
    pub scoring: Scoring,
    /// The fewest overlapping columns of an alignment (default 5), lowered to the width of
    /// the query or target when that is narrower; [`Scoring::Incomplete`] only.
    pub min_overlap: usize,
    /// Whether database motifs are also tried reverse-complemented (default true; only for
    /// 4-letter nucleic-acid alphabets).
    pub both_strands: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            similarity: Similarity::Pearson,
            scoring: Scoring::Complete,
            min_overlap: 5,
            both_strands: true,
        }
    }
}

/// The strand of a database motif in a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strand {
    /// The motif as stored.
    Forward,
    /// The motif's reverse complement.
    Reverse,
}

impl fmt::Display for Strand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Strand::Forward => "+",
            Strand::Reverse => "-",
        })
    }
}

/// The best alignment of a query with one database motif, and its significance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MotifMatch {
    /// The index of the database motif in [`MotifSet::motifs`].
    pub target_index: usize,
    /// The database motif's id (`MA0062.4`).
    pub target_id: String,
    /// The database motif's name (`GABPA`).
    pub target_name: Option<String>,
    /// Whether the database motif aligns as stored or reverse-complemented.
    pub strand: Strand,
    /// The query column facing target column 0, in the target's orientation on `strand`
    /// (negative when the target starts before the query).
    pub offset: isize,
    /// The number of aligned column pairs.
    pub overlap: usize,
    /// The summed column similarity of the aligned pairs (unscaled); with
    /// [`Scoring::Complete`], each centred on its query column's null median (so a column the
    /// target does not cover adds 0).
    pub score: f64,
    /// The p-value, corrected for the number of alignments tried.
    pub p_value: f64,
    /// `p_value × database size`.
    pub e_value: f64,
    /// The Benjamini–Hochberg q-value over the database.
    pub q_value: f64,
}

/// One database motif's columns in [`Comparer::columns`].
#[derive(Debug, Clone)]
struct Target {
    id: String,
    name: Option<String>,
    width: usize,
    /// The first column of the motif as stored.
    forward: usize,
    /// The first column of its reverse complement, when searched.
    reverse: Option<usize>,
}

/// Compares query motifs with a motif database (Tomtom's method, see the module docs).
#[derive(Debug, Clone)]
pub struct Comparer {
    options: CompareOptions,
    alphabet_length: usize,
    /// All database columns (both strands), transformed for the similarity, one after the
    /// other: `[column][alphabet]` flattened.
    columns: Vec<f64>,
    /// The number of columns in `columns`.
    column_count: usize,
    targets: Vec<Target>,
}

/// Check a motif's rows and rescale them to sum to 1.
fn normalised_rows(motif: &Motif, alphabet_length: usize) -> Result<Vec<Vec<f64>>, MotifError> {
    if motif.probabilities.is_empty() {
        return Err(MotifError::EmptyMotif { motif: motif.id.clone() });
    }
    motif
        .probabilities
        .iter()
        .enumerate()
        .map(|(index, row)| {
            if row.len() != alphabet_length {
                return Err(MotifError::AlphabetMismatch {
                    motif: motif.id.clone(),
                    position: index + 1,
                    found: row.len(),
                    expected: alphabet_length,
                });
            }
            if let Some(&value) = row.iter().find(|v| !v.is_finite() || **v < 0.0) {
                return Err(MotifError::InvalidProbability { motif: motif.id.clone(), position: index + 1, value });
            }
            let sum: f64 = row.iter().sum();
            if sum <= 0.0 {
                return Err(MotifError::InvalidProbability {
                    motif: motif.id.clone(),
                    position: index + 1,
                    value: sum,
                });
            }
            Ok(row.iter().map(|v| v / sum).collect())
        })
        .collect()
}

/// A column prepared for [`Similarity`]: centred and scaled to unit norm for Pearson (so that
/// the correlation is a dot product; zero for a constant column), as is for Euclidean.
fn prepare_column(row: &[f64], similarity: Similarity) -> Vec<f64> {
    match similarity {
        Similarity::Pearson => {
            let mean = row.iter().sum::<f64>() / row.len() as f64;
            let centred: Vec<f64> = row.iter().map(|v| v - mean).collect();
            let norm = centred.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm < 1e-12 { vec![0.0; row.len()] } else { centred.iter().map(|v| v / norm).collect() }
        }
        Similarity::Euclidean => row.to_vec(),
    }
}

/// The similarity of two prepared columns.
fn column_score(query: &[f64], target: &[f64], similarity: Similarity) -> f64 {
    match similarity {
        Similarity::Pearson => query.iter().zip(target).map(|(a, b)| a * b).sum(),
        Similarity::Euclidean => -query.iter().zip(target).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt(),
    }
}

/// The survival functions `P(S ≥ s)` of the summed rescaled score of every contiguous range of
/// query columns.
#[derive(Debug)]
pub(crate) struct RangeNull {
    width: usize,
    /// Indexed by `start * width + end` (inclusive end); `table[s]` is `P(S ≥ s)` for
    /// `s` in `0..=(end - start + 1) × bins`, then a trailing 0.
    tables: Vec<Vec<f64>>,
}

impl RangeNull {
    /// Build the tables from per-column histograms (`histograms[i][v]`: the probability that
    /// query column `i` scores `v`, `v` in `0..=bins`).
    pub(crate) fn new(histograms: &[Vec<f64>]) -> Self {
        let width = histograms.len();
        let bins = histograms.first().map_or(0, |h| h.len().saturating_sub(1));
        let sparse: Vec<Vec<(usize, f64)>> = histograms
            .iter()
            .map(|h| h.iter().enumerate().filter(|(_, p)| **p > 0.0).map(|(v, p)| (v, *p)).collect())
            .collect();
        let per_start: Vec<Vec<Vec<f64>>> = (0..width)
            .into_par_iter()
            .map(|start| {
                let mut tables = Vec::with_capacity(width - start);
                let mut pmf = vec![1.0];
                for column in &sparse[start..] {
                    let mut next = vec![0.0; pmf.len() + bins];
                    for &(value, probability) in column {
                        for (slot, p) in next[value..value + pmf.len()].iter_mut().zip(&pmf) {
                            *slot += p * probability;
                        }
                    }
                    pmf = next;
                    let mut survival = vec![0.0; pmf.len() + 1];
                    let mut tail = 0.0;
                    for s in (1..pmf.len()).rev() {
                        tail += pmf[s];
                        survival[s] = tail.min(1.0);
                    }
                    // Every score is at least 0 (not a rounded sum).
                    survival[0] = 1.0;
                    tables.push(survival);
                }
                tables
            })
            .collect();
        let mut tables = vec![Vec::new(); width * width];
        for (start, ranges) in per_start.into_iter().enumerate() {
            for (length, table) in ranges.into_iter().enumerate() {
                tables[start * width + start + length] = table;
            }
        }
        RangeNull { width, tables }
    }

    /// `P(S ≥ score)` for query columns `start..=end`.
    pub(crate) fn p_value(&self, start: usize, end: usize, score: usize) -> f64 {
        self.tables
            .get(start * self.width + end)
            .and_then(|t| t.get(score.min(t.len().saturating_sub(1))))
            .copied()
            .unwrap_or(1.0)
    }
}

/// `1 − (1 − p)^n`, accurate for tiny `p`.
fn correct_for_tries(p: f64, tries: usize) -> f64 {
    if p >= 1.0 {
        return 1.0;
    }
    (-(tries as f64 * (-p).ln_1p()).exp_m1()).clamp(0.0, 1.0)
}

/// Benjamini–Hochberg q-values of `p_values` (same order).
fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let n = p_values.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut q = vec![1.0; n];
    let mut running = 1.0f64;
    for (rank, &index) in order.iter().enumerate().rev() {
        running = running.min(p_values[index] * n as f64 / (rank + 1) as f64);
        q[index] = running.min(1.0);
    }
    q
}

/// The best alignment of a query with one target strand.
#[derive(Debug, Clone, Copy)]
struct Alignment {
    strand: Strand,
    offset: isize,
    overlap: usize,
    score: f64,
    p_value: f64,
}

impl Alignment {
    /// Whether `self` is better than `other`: smaller p-value, then larger overlap (as
    /// Tomtom), then higher unscaled score (rescaling to 100 bins makes near-equal
    /// alignments tie).
    fn beats(&self, other: &Alignment) -> bool {
        self.p_value < other.p_value
            || (self.p_value == other.p_value
                && (self.overlap > other.overlap || (self.overlap == other.overlap && self.score > other.score)))
    }
}

impl Comparer {
    /// Prepare `database` for comparisons: check that every motif has positions with one
    /// value per alphabet letter, and lay out its columns (and, with `both_strands` on a
    /// 4-letter alphabet, those of the reverse complements).
    pub fn new(database: &MotifSet, options: CompareOptions) -> Result<Comparer, MotifError> {
        if database.motifs.is_empty() {
            return Err(MotifError::EmptyDatabase);
        }
        if options.min_overlap == 0 {
            return Err(MotifError::InvalidOption { name: "min_overlap", reason: "must be at least 1".to_owned() });
        }
        let alphabet_length = match database.alphabet_letters.chars().count() {
            0 => database.motifs[0].alphabet_length(),
            n => n,
        };
        let both_strands = options.both_strands && alphabet_length == 4;
        let mut columns = Vec::new();
        let mut column_count = 0;
        let mut targets = Vec::with_capacity(database.motifs.len());
        for motif in &database.motifs {
            let rows = normalised_rows(motif, alphabet_length)?;
            let forward = column_count;
            for row in &rows {
                columns.extend(prepare_column(row, options.similarity));
                column_count += 1;
            }
            let reverse = if both_strands {
                let start = column_count;
                for row in rows.iter().rev() {
                    let complement: Vec<f64> = row.iter().rev().copied().collect();
                    columns.extend(prepare_column(&complement, options.similarity));
                    column_count += 1;
                }
                Some(start)
            } else {
                None
            };
            targets.push(Target {
                id: motif.id.clone(),
                name: motif.name.clone(),
                width: rows.len(),
                forward,
                reverse,
            });
        }
        Ok(Comparer { options, alphabet_length, columns, column_count, targets })
    }

    /// The number of motifs in the database (the E-value multiplier).
    pub fn database_len(&self) -> usize {
        self.targets.len()
    }

    /// The options this comparer was built with.
    pub fn options(&self) -> &CompareOptions {
        &self.options
    }

    /// Compare `query` (`[width][alphabet]` probabilities; rows are rescaled to sum to 1)
    /// with every database motif.
    ///
    /// Returns one match per database motif (its best strand and offset), sorted by p-value,
    /// then larger overlap, then higher unscaled score, then database order. Errors when the query has no positions, a
    /// row of the wrong length, or a negative, non-finite or all-zero row.
    pub fn compare(&self, query: &Motif) -> Result<Vec<MotifMatch>, MotifError> {
        let rows = normalised_rows(query, self.alphabet_length)?;
        let width = rows.len();
        let similarity = self.options.similarity;
        let alphabet = self.alphabet_length;
        let prepared: Vec<Vec<f64>> = rows.iter().map(|row| prepare_column(row, similarity)).collect();

        // Raw scores of every query column against every database column: [width][columns].
        let raw: Vec<Vec<f64>> = prepared
            .par_iter()
            .map(|q| self.columns.chunks_exact(alphabet).map(|t| column_score(q, t, similarity)).collect())
            .collect();
        if self.options.scoring == Scoring::Complete {
            let best = self.complete_alignments(&raw);
            return Ok(self.matches(best));
        }
        let (low, high) =
            raw.iter().flatten().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &s| (lo.min(s), hi.max(s)));
        let scale = if high > low { SCORE_BINS as f64 / (high - low) } else { 0.0 };
        let scaled: Vec<Vec<u16>> = raw
            .iter()
            .map(|row| row.iter().map(|&s| ((s - low) * scale).round().clamp(0.0, SCORE_BINS as f64) as u16).collect())
            .collect();
        let histograms: Vec<Vec<f64>> = scaled
            .iter()
            .map(|row| {
                let mut histogram = vec![0.0; SCORE_BINS + 1];
                for &v in row {
                    histogram[usize::from(v)] += 1.0;
                }
                let total = self.column_count as f64;
                histogram.iter_mut().for_each(|h| *h /= total);
                histogram
            })
            .collect();
        let null = RangeNull::new(&histograms);

        let best: Vec<Alignment> = self
            .targets
            .iter()
            .map(|target| {
                let min_overlap = self.options.min_overlap.min(width).min(target.width);
                let mut winner =
                    best_alignment(&raw, &scaled, &null, target.forward, target.width, min_overlap, Strand::Forward);
                let mut strands = 1;
                if let Some(reverse) = target.reverse {
                    strands = 2;
                    let other =
                        best_alignment(&raw, &scaled, &null, reverse, target.width, min_overlap, Strand::Reverse);
                    if other.beats(&winner) {
                        winner = other;
                    }
                }
                let tries = (width + target.width + 1 - 2 * min_overlap) * strands;
                winner.p_value = correct_for_tries(winner.p_value, tries);
                winner
            })
            .collect();
        Ok(self.matches(best))
    }

    /// One match per database motif from its best alignment (same order as the database),
    /// with E- and q-values, sorted.
    fn matches(&self, best: Vec<Alignment>) -> Vec<MotifMatch> {
        let p_values: Vec<f64> = best.iter().map(|alignment| alignment.p_value).collect();
        let q_values = benjamini_hochberg(&p_values);
        let database_size = self.targets.len() as f64;
        let mut matches: Vec<MotifMatch> = self
            .targets
            .iter()
            .zip(best)
            .zip(q_values)
            .enumerate()
            .map(|(index, ((target, alignment), q_value))| MotifMatch {
                target_index: index,
                target_id: target.id.clone(),
                target_name: target.name.clone(),
                strand: alignment.strand,
                offset: alignment.offset,
                overlap: alignment.overlap,
                score: alignment.score,
                p_value: alignment.p_value,
                e_value: alignment.p_value * database_size,
                q_value,
            })
            .collect();
        matches.sort_by(|a, b| {
            a.p_value
                .total_cmp(&b.p_value)
                .then(b.overlap.cmp(&a.overlap))
                .then(b.score.total_cmp(&a.score))
                .then(a.target_index.cmp(&b.target_index))
        });
        matches
    }

    /// The best alignment of every database motif under [`Scoring::Complete`] (see
    /// [`CompleteNull`]), p-values corrected for the strands tried.
    fn complete_alignments(&self, raw: &[Vec<f64>]) -> Vec<Alignment> {
        let null = CompleteNull::new(raw);
        let widest = self.targets.iter().map(|t| t.width).max().unwrap_or(0);
        let mut maxima: Vec<Option<Vec<f64>>> = vec![None; widest + 1];
        for target in &self.targets {
            if maxima[target.width].is_none() {
                maxima[target.width] = Some(null.log_cdf_of_best(target.width));
            }
        }
        self.targets
            .iter()
            .map(|target| {
                let log_cdf = maxima[target.width].as_deref().unwrap_or(&[]);
                let mut winner = null.best_alignment(raw, target.forward, target.width, Strand::Forward, log_cdf);
                let mut strands = 1;
                if let Some(reverse) = target.reverse {
                    strands = 2;
                    let other = null.best_alignment(raw, reverse, target.width, Strand::Reverse, log_cdf);
                    if other.beats(&winner) {
                        winner = other;
                    }
                }
                winner.p_value = correct_for_tries(winner.p_value, strands);
                winner
            })
            .collect()
    }

    /// [`Comparer::compare`] for many queries, in parallel; results in query order.
    pub fn compare_all(&self, queries: &[Motif]) -> Result<Vec<Vec<MotifMatch>>, MotifError> {
        queries.par_iter().map(|query| self.compare(query)).collect()
    }
}

/// The null of [`Scoring::Complete`] for one query, as memelite's `tomtom` builds it (a faithful
/// reimplementation of Tomtom's complete scores).
///
/// Each query column's scores against all database columns are centred on their median;
/// all are rescaled together to integers with one integer scale: with `lo` the smallest
/// centred score rounded down to an integer and `hi` the largest, `scale = ⌊100 / (hi − lo)⌋`
/// and `x = ⌊(s − median − lo) × scale + ½⌋`, so a column's median maps to `zero = −lo × scale`.
/// An alignment's complete score is the sum of `x` over the overlapping columns plus `zero`
/// for every query column the target does not cover. The null of one alignment covering
/// query columns `a..=b` is the convolution of those columns' histograms, shifted by
/// `zero × (width − (b − a + 1))`; the null of the best alignment of a target of width `t` is
/// the maximum over its `width + t − 1` alignments, taken as independent: the product of
/// their distribution functions (kept as sums of logarithms, so tiny p-values stay exact).
#[derive(Debug)]
struct CompleteNull {
    width: usize,
    medians: Vec<f64>,
    low: f64,
    scale: f64,
    zero: usize,
    /// `cdf[start * width + end][s]`: `P(S ≤ s)` of the complete score of an alignment covering
    /// query columns `start..=end`, `s` in `0..=width × SCORE_BINS`.
    cdf: Vec<Vec<f64>>,
    /// The natural logarithms of `cdf`.
    log_cdf: Vec<Vec<f64>>,
}

impl CompleteNull {
    fn new(raw: &[Vec<f64>]) -> Self {
        let width = raw.len();
        let medians: Vec<f64> = raw.iter().map(|row| median(row)).collect();
        let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
        for (row, median) in raw.iter().zip(&medians) {
            for &s in row {
                low = low.min(s - median);
                high = high.max(s - median);
            }
        }
        let low = low.floor();
        let scale = if high > low { (SCORE_BINS as f64 / (high - low)).floor().max(1.0) } else { 1.0 };
        let zero = (-low * scale).round() as usize;
        let mut null = CompleteNull { width, medians, low, scale, zero, cdf: Vec::new(), log_cdf: Vec::new() };
        let histograms: Vec<Vec<f64>> = raw
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mut histogram = vec![0.0; SCORE_BINS + 1];
                for &s in row {
                    histogram[null.bin(i, s)] += 1.0;
                }
                let total = row.len().max(1) as f64;
                histogram.iter_mut().for_each(|h| *h /= total);
                histogram
            })
            .collect();
        let length = width * SCORE_BINS + 1;
        let per_start: Vec<Vec<Vec<f64>>> = (0..width)
            .into_par_iter()
            .map(|start| {
                let mut tables = Vec::with_capacity(width - start);
                let mut pmf = vec![1.0];
                for (covered, histogram) in histograms[start..].iter().enumerate() {
                    let mut next = vec![0.0; pmf.len() + SCORE_BINS];
                    for (value, &probability) in histogram.iter().enumerate().filter(|(_, p)| **p > 0.0) {
                        for (slot, p) in next[value..value + pmf.len()].iter_mut().zip(&pmf) {
                            *slot += p * probability;
                        }
                    }
                    pmf = next;
                    let shift = zero * (width - covered - 1);
                    let mut cdf = vec![0.0; length];
                    let mut running = 0.0;
                    for (s, slot) in cdf.iter_mut().enumerate() {
                        if s >= shift && s - shift < pmf.len() {
                            running += pmf[s - shift];
                        }
                        *slot = running.min(1.0);
                    }
                    tables.push(cdf);
                }
                tables
            })
            .collect();
        let mut cdf = vec![Vec::new(); width * width];
        for (start, ranges) in per_start.into_iter().enumerate() {
            for (length, table) in ranges.into_iter().enumerate() {
                cdf[start * width + start + length] = table;
            }
        }
        null.log_cdf = cdf.iter().map(|table| table.iter().map(|c| c.ln()).collect()).collect();
        null.cdf = cdf;
        null
    }

    /// The integer score of query column `i` against a database column scoring `s`.
    fn bin(&self, i: usize, s: f64) -> usize {
        ((s - self.medians[i] - self.low) * self.scale + 0.5).floor().clamp(0.0, SCORE_BINS as f64) as usize
    }

    /// `ln P(best complete score ≤ s)` for a target of width `target_width`, over `s`.
    fn log_cdf_of_best(&self, target_width: usize) -> Vec<f64> {
        let width = self.width;
        let mut log_cdf = vec![0.0; width * SCORE_BINS + 1];
        let mut add = |start: usize, end: usize, times: usize| {
            for (slot, &log) in log_cdf.iter_mut().zip(&self.log_cdf[start * width + end]) {
                *slot += times as f64 * log;
            }
        };
        // Target column j faces query column j + offset, offset in -(t - 1)..=(width - 1).
        let mut full = 0;
        for offset in (1 - target_width as isize)..(width as isize) {
            let start = offset.max(0) as usize;
            let end = ((offset + target_width as isize).min(width as isize) - 1) as usize;
            if start == 0 && end == width - 1 {
                full += 1;
            } else {
                add(start, end, 1);
            }
        }
        if full > 0 {
            add(0, width - 1, full);
        }
        log_cdf
    }

    /// The best alignment of one target strand: the highest complete score (ties to the
    /// larger overlap, then the higher unscaled score), its p-value `P(best ≥ score)`.
    fn best_alignment(
        &self,
        raw: &[Vec<f64>],
        first_column: usize,
        target_width: usize,
        strand: Strand,
        log_cdf: &[f64],
    ) -> Alignment {
        let width = self.width as isize;
        let target = target_width as isize;
        let mut best: Option<(usize, Alignment)> = None;
        for offset in (1 - target)..width {
            let start = offset.max(0);
            let end = (offset + target).min(width);
            let overlap = (end - start) as usize;
            let mut score = 0.0;
            let mut integer = self.zero * (self.width - overlap);
            for i in start..end {
                let s = raw[i as usize][first_column + (i - offset) as usize];
                score += s - self.medians[i as usize];
                integer += self.bin(i as usize, s);
            }
            let candidate = Alignment { strand, offset, overlap, score, p_value: 1.0 };
            let better = match &best {
                None => true,
                Some((top, current)) => {
                    integer > *top
                        || (integer == *top
                            && (overlap > current.overlap || (overlap == current.overlap && score > current.score)))
                }
            };
            if better {
                best = Some((integer, candidate));
            }
        }
        let Some((integer, mut alignment)) = best else {
            return Alignment { strand, offset: 0, overlap: 0, score: 0.0, p_value: 1.0 };
        };
        alignment.p_value = match integer.checked_sub(1).and_then(|s| log_cdf.get(s)) {
            Some(&log) => (-log.exp_m1()).clamp(0.0, 1.0),
            None => 1.0,
        };
        alignment
    }
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let odd = values.len() % 2 == 1;
    let mut values = values.to_vec();
    let middle = values.len() / 2;
    let (below, &mut upper, _) = values.select_nth_unstable_by(middle, f64::total_cmp);
    if odd {
        upper
    } else {
        let lower = below.iter().copied().max_by(f64::total_cmp).unwrap_or(upper);
        (lower + upper) / 2.0
    }
}

/// The best offset of one target strand (columns `first_column..first_column + target_width`
/// of the score matrices) against the query.
fn best_alignment(
    raw: &[Vec<f64>],
    scaled: &[Vec<u16>],
    null: &RangeNull,
    first_column: usize,
    target_width: usize,
    min_overlap: usize,
    strand: Strand,
) -> Alignment {
    let width = raw.len() as isize;
    let target_width = target_width as isize;
    let min_overlap = min_overlap as isize;
    let mut best = Alignment { strand, offset: 0, overlap: 0, score: 0.0, p_value: f64::INFINITY };
    // Target column j faces query column j + offset.
    for offset in (min_overlap - target_width)..=(width - min_overlap) {
        let start = offset.max(0);
        let end = (offset + target_width).min(width);
        if end <= start {
            continue;
        }
        let mut score = 0.0;
        let mut sum = 0usize;
        for i in start..end {
            let column = first_column + (i - offset) as usize;
            let i = i as usize;
            score += raw[i][column];
            sum += usize::from(scaled[i][column]);
        }
        let p_value = null.p_value(start as usize, end as usize - 1, sum);
        let candidate = Alignment { strand, offset, overlap: (end - start) as usize, score, p_value };
        if candidate.beats(&best) {
            best = candidate;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (SplitMix64).
    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[test]
    fn dynamic_programme_matches_enumeration() {
        // 4 query columns, 7 database columns with integer scores 0..=12.
        let bins = 12;
        let (width, columns) = (4usize, 7usize);
        let mut state = 3;
        let scores: Vec<Vec<usize>> = (0..width)
            .map(|_| (0..columns).map(|_| (splitmix(&mut state) % (bins as u64 + 1)) as usize).collect())
            .collect();
        let histograms: Vec<Vec<f64>> = scores
            .iter()
            .map(|row| {
                let mut h = vec![0.0; bins + 1];
                row.iter().for_each(|&v| h[v] += 1.0 / columns as f64);
                h
            })
            .collect();
        let null = RangeNull::new(&histograms);
        for start in 0..width {
            for end in start..width {
                let length = end - start + 1;
                // Enumerate every choice of one database column per query column.
                let mut counts = vec![0usize; length * bins + 1];
                let total = columns.pow(length as u32);
                for mut choice in 0..total {
                    let mut sum = 0;
                    for row in &scores[start..=end] {
                        sum += row[choice % columns];
                        choice /= columns;
                    }
                    counts[sum] += 1;
                }
                for s in 0..=length * bins + 1 {
                    let expected = counts.iter().skip(s).sum::<usize>() as f64 / total as f64;
                    let found = null.p_value(start, end, s);
                    assert!((found - expected).abs() < 1e-12, "[{start}, {end}] s={s}: {found} vs {expected}");
                }
            }
        }
        assert_eq!(null.p_value(0, 0, 0), 1.0);
    }

    #[test]
    fn complete_null_matches_enumeration() {
        // 3 query columns, 5 database columns, raw scores in [-1, 1].
        let (width, columns) = (3usize, 5usize);
        let mut state = 11;
        let raw: Vec<Vec<f64>> = (0..width)
            .map(|_| (0..columns).map(|_| (splitmix(&mut state) % 2001) as f64 / 1000.0 - 1.0).collect())
            .collect();
        let null = CompleteNull::new(&raw);
        // The median of each column maps to `zero`.
        for (i, row) in raw.iter().enumerate() {
            assert_eq!(null.bin(i, null.medians[i]), null.zero);
            assert!(row.iter().all(|&s| null.bin(i, s) <= SCORE_BINS));
        }
        for start in 0..width {
            for end in start..width {
                let length = end - start + 1;
                let shift = null.zero * (width - length);
                let mut counts = vec![0usize; width * SCORE_BINS + 1];
                let total = columns.pow(length as u32);
                for mut choice in 0..total {
                    let mut sum = shift;
                    for (i, row) in raw.iter().enumerate().take(end + 1).skip(start) {
                        sum += null.bin(i, row[choice % columns]);
                        choice /= columns;
                    }
                    counts[sum] += 1;
                }
                let cdf = &null.cdf[start * width + end];
                let mut running = 0usize;
                for (s, &count) in counts.iter().enumerate() {
                    running += count;
                    let expected = running as f64 / total as f64;
                    assert!((cdf[s] - expected).abs() < 1e-12, "[{start}, {end}] s={s}: {} vs {expected}", cdf[s]);
                }
            }
        }
        // A target of width 2 has width + 1 = 4 alignments: columns 0, 0..=1, 1..=2 and 2.
        let best = null.log_cdf_of_best(2);
        let ranges = [(0, 0), (0, 1), (1, 2), (2, 2)];
        for (s, &log) in best.iter().enumerate() {
            let expected: f64 = ranges.iter().map(|&(a, b)| null.cdf[a * width + b][s].ln()).sum();
            assert!((log.exp() - expected.exp()).abs() < 1e-12, "s={s}");
        }
        // A target wider than the query covers it whole in (t - width + 1) alignments.
        let best = null.log_cdf_of_best(5);
        for (s, &log) in best.iter().enumerate() {
            let full = null.cdf[width - 1][s].powi(3);
            let partial: f64 =
                [(0, 0), (0, 1), (1, 2), (2, 2)].iter().map(|&(a, b)| null.cdf[a * width + b][s]).product();
            assert!((log.exp() - full * partial).abs() < 1e-12, "s={s}");
        }
    }

    #[test]
    fn offset_correction_and_q_values() {
        assert_eq!(correct_for_tries(1.0, 10), 1.0);
        assert!((correct_for_tries(0.5, 2) - 0.75).abs() < 1e-15);
        assert!((correct_for_tries(1e-20, 30) - 3e-19).abs() < 1e-30);
        assert_eq!(correct_for_tries(0.0, 30), 0.0);
        let q = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.2]);
        let expected = [0.04, 0.16 / 3.0, 0.16 / 3.0, 0.2];
        for (a, b) in q.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{q:?}");
        }
        assert!(benjamini_hochberg(&[]).is_empty());
    }

    #[test]
    fn column_similarities() {
        let one_hot = prepare_column(&[1.0, 0.0, 0.0, 0.0], Similarity::Pearson);
        let other = prepare_column(&[0.0, 1.0, 0.0, 0.0], Similarity::Pearson);
        let uniform = prepare_column(&[0.25; 4], Similarity::Pearson);
        assert!((column_score(&one_hot, &one_hot, Similarity::Pearson) - 1.0).abs() < 1e-12);
        assert!((column_score(&one_hot, &other, Similarity::Pearson) + 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(column_score(&uniform, &one_hot, Similarity::Pearson), 0.0);
        let distance = column_score(&[1.0, 0.0, 0.0, 0.0], &[0.0, 1.0, 0.0, 0.0], Similarity::Euclidean);
        assert!((distance + 2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn offsets_and_overlaps_on_a_small_database() -> Result<(), MotifError> {
        // Query AAGG; the database holds GGCA (its GG faces the query's GG at offset 2; its
        // reverse complement TGCC shares nothing), TTCC (reverse complement GGAA: its GG faces
        // the query's GG at offset 2 on the reverse strand) and a uniform motif.
        let one_hot = |text: &str| -> Vec<Vec<f64>> {
            text.bytes().map(|b| b"ACGT".iter().map(|l| if *l == b { 0.97 } else { 0.01 }).collect()).collect()
        };
        let database = MotifSet {
            alphabet_letters: "ACGT".to_owned(),
            background: vec![0.25; 4],
            motifs: vec![
                Motif::new("ggca", one_hot("GGCA")),
                Motif::new("ttcc", one_hot("TTCC")),
                Motif::new("flat", vec![vec![0.25; 4]; 3]),
            ],
        };
        let options = CompareOptions { min_overlap: 2, scoring: Scoring::Incomplete, ..CompareOptions::default() };
        let comparer = Comparer::new(&database, options)?;
        let matches = comparer.compare(&Motif::new("aagg", one_hot("AAGG")))?;
        assert_eq!(matches.len(), 3);
        let find = |id: &str| matches.iter().find(|m| m.target_id == id).ok_or(MotifError::EmptyDatabase);
        let ggca = find("ggca")?;
        assert_eq!((ggca.strand, ggca.offset, ggca.overlap), (Strand::Forward, 2, 2));
        let ttcc = find("ttcc")?;
        // GGAA against AAGG: offset 2 (GG on GG, overlap 2) and offset -2 (AA on AA) tie;
        // either way two perfect columns.
        assert_eq!((ttcc.strand, ttcc.offset.abs(), ttcc.overlap), (Strand::Reverse, 2, 2));
        assert!((ttcc.score - ggca.score).abs() < 1e-9);
        for m in &matches {
            assert!(m.overlap >= 2);
            assert!((0.0..=1.0).contains(&m.p_value));
        }
        let flat = matches.iter().find(|m| m.target_id == "flat").ok_or(MotifError::EmptyDatabase)?;
        assert_eq!(flat.strand, Strand::Forward);
        Ok(())
    }
}
