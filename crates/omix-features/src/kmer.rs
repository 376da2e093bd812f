//! Sparse k-mer count features: contiguous or gapped, optionally reverse-complement canonical.

use omix_encode::{Alphabet, NOT_A_SYMBOL};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::FeatureError;

/// The largest k for DNA and RNA (4^8 = 65,536 features).
pub const MAX_K_NUCLEOTIDE: usize = 8;
/// The largest k for protein (20^3 = 8,000 features).
pub const MAX_K_PROTEIN: usize = 3;
/// The most wildcard positions a gapped k-mer may have.
pub const MAX_GAP: usize = 16;

/// Batches at least this large are featurised in parallel.
const PARALLEL_MIN: usize = 256;
/// Marks a byte that is not a letter of the alphabet in the code tables.
const INVALID: u8 = NOT_A_SYMBOL;

/// How k-mer counts are scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KmerNormalize {
    /// Raw counts.
    Counts,
    /// Counts divided by the number of k-mer windows counted in the sequence, so a row sums to 1.
    #[default]
    Frequency,
}

/// The k-mer feature settings (a `[features.kmer]` table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KmerConfig {
    /// Informative letters per k-mer: 1 to 8 for DNA/RNA, 1 to 3 for protein. Default 6.
    pub k: usize,
    /// Count a k-mer and its reverse complement as one feature (DNA/RNA only). Default true.
    pub canonical: bool,
    /// Wildcard positions in the middle of the k letters (0 = contiguous). Default 0.
    pub gap: usize,
    /// Counts or frequencies. Default frequency.
    pub normalize: KmerNormalize,
}

impl Default for KmerConfig {
    fn default() -> Self {
        KmerConfig { k: 6, canonical: true, gap: 0, normalize: KmerNormalize::Frequency }
    }
}

impl KmerConfig {
    /// Check the settings against the alphabet; each rule has its own error.
    pub fn check(&self, alphabet: Alphabet) -> Result<(), FeatureError> {
        let max = max_k(alphabet);
        if self.k == 0 || self.k > max {
            return Err(FeatureError::KmerLength { k: self.k, max, alphabet });
        }
        if self.canonical && alphabet.size() != 4 {
            return Err(FeatureError::CanonicalNeedsNucleotides { alphabet });
        }
        if self.gap > MAX_GAP {
            return Err(FeatureError::GapTooLarge { gap: self.gap, max: MAX_GAP });
        }
        if self.gap > 0 && self.k < 2 {
            return Err(FeatureError::GapNeedsTwoLetters { k: self.k });
        }
        if self.gap > 0 && self.canonical && self.k % 2 == 1 {
            return Err(FeatureError::CanonicalGapOddK { k: self.k });
        }
        Ok(())
    }

    /// Letters before the gap (the k letters are split `ceil(k/2)` + `floor(k/2)`).
    fn left(&self) -> usize {
        self.k.div_ceil(2)
    }

    /// Letters after the gap.
    fn right(&self) -> usize {
        self.k / 2
    }

    /// Bases one k-mer spans.
    fn span(&self) -> usize {
        self.k + self.gap
    }
}

/// The largest k for an alphabet.
fn max_k(alphabet: Alphabet) -> usize {
    if alphabet.size() == 4 { MAX_K_NUCLEOTIDE } else { MAX_K_PROTEIN }
}

/// One sequence's features in sparse form: `indices` strictly increasing, one value each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseRow {
    /// Feature indices, strictly increasing.
    pub indices: Vec<u32>,
    /// The value of each feature in `indices`.
    pub values: Vec<f32>,
}

impl SparseRow {
    /// Remove all entries, keeping the buffers.
    pub fn clear(&mut self) {
        self.indices.clear();
        self.values.clear();
    }

    /// The row as a dense vector of `dimension` values.
    pub fn to_dense(&self, dimension: usize) -> Vec<f32> {
        let mut dense = vec![0.0; dimension];
        for (&index, &value) in self.indices.iter().zip(&self.values) {
            if let Some(slot) = dense.get_mut(index as usize) {
                *slot = value;
            }
        }
        dense
    }
}

/// Many sequences' features in compressed sparse row (CSR) form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseBatch {
    /// Row `i`'s entries are `indices[row_offsets[i]..row_offsets[i + 1]]`; `rows + 1` offsets.
    pub row_offsets: Vec<usize>,
    /// Feature indices, strictly increasing within a row.
    pub indices: Vec<u32>,
    /// The value of each entry.
    pub values: Vec<f32>,
    /// The number of features (columns).
    pub dimension: usize,
}

impl SparseBatch {
    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.row_offsets.len().saturating_sub(1)
    }

    /// The number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Row `row`'s indices and values.
    ///
    /// # Panics
    /// If `row >= self.rows()`.
    pub fn row(&self, row: usize) -> (&[u32], &[f32]) {
        let range = self.row_offsets[row]..self.row_offsets[row + 1];
        (&self.indices[range.clone()], &self.values[range])
    }

    /// The batch as a dense row-major `rows × dimension` matrix.
    pub fn to_dense(&self) -> Vec<f32> {
        let mut dense = vec![0.0; self.rows() * self.dimension];
        for row in 0..self.rows() {
            let (indices, values) = self.row(row);
            let out = &mut dense[row * self.dimension..(row + 1) * self.dimension];
            for (&index, &value) in indices.iter().zip(values) {
                if let Some(slot) = out.get_mut(index as usize) {
                    *slot = value;
                }
            }
        }
        dense
    }
}

/// Turns sequences into sparse k-mer count or frequency vectors.
///
/// Letters are read through a 256-entry table (either case; for DNA and RNA, `T` and `U` are
/// the same letter); a k-mer window whose informative positions hold anything else (`N`,
/// IUPAC codes, gaps) is skipped. Wildcard positions of gapped k-mers match any byte.
/// For DNA/RNA the window is a rolling 2-bit code, so each base costs a shift and a mask.
#[derive(Debug, Clone)]
pub struct KmerFeaturizer {
    config: KmerConfig,
    alphabet: Alphabet,
    /// Byte → letter code (`0..base`), or [`INVALID`] ([`Alphabet::codes`]).
    codes: &'static [u8; 256],
    /// For canonical k-mers: k-letter code → dense feature index.
    dense: Option<Vec<u32>>,
    /// For canonical k-mers: dense feature index → representative k-letter code.
    representatives: Vec<u32>,
    dimension: usize,
}

impl KmerFeaturizer {
    /// A featuriser for `alphabet`, after checking `config` ([`KmerConfig::check`]).
    pub fn new(config: KmerConfig, alphabet: Alphabet) -> Result<Self, FeatureError> {
        config.check(alphabet)?;
        let codes = alphabet.codes();
        let full = alphabet.size().pow(config.k as u32);
        let (dense, representatives, dimension) = if config.canonical {
            let mut dense = vec![0u32; full];
            let mut representatives = Vec::with_capacity(full / 2 + 1);
            for code in 0..full as u32 {
                let reverse = reverse_complement_code(code, config.k);
                if code <= reverse {
                    dense[code as usize] = representatives.len() as u32;
                    representatives.push(code);
                } else {
                    // The reverse complement is smaller, so it already has an index.
                    dense[code as usize] = dense[reverse as usize];
                }
            }
            let dimension = representatives.len();
            (Some(dense), representatives, dimension)
        } else {
            (None, Vec::new(), full)
        };
        Ok(KmerFeaturizer { config, alphabet, codes, dense, representatives, dimension })
    }

    /// The settings.
    pub fn config(&self) -> &KmerConfig {
        &self.config
    }

    /// The alphabet.
    pub fn alphabet(&self) -> Alphabet {
        self.alphabet
    }

    /// The number of features: `size^k`, or the number of reverse-complement classes when
    /// canonical (`(4^k + 4^(k/2)) / 2` for even k, `4^k / 2` for odd k).
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// The name of every feature in index order: the k letters, with one `.` per wildcard
    /// (`ACGT`, `AC.GT`); canonical features are named by the lexicographically smaller strand.
    pub fn feature_names(&self) -> Vec<String> {
        (0..self.dimension).filter_map(|index| self.feature_name(index)).collect()
    }

    /// The name of feature `index` (see [`feature_names`](Self::feature_names)), or `None`
    /// when `index >= dimension()`.
    pub fn feature_name(&self, index: usize) -> Option<String> {
        if index >= self.dimension {
            return None;
        }
        let code = match self.dense {
            Some(_) => *self.representatives.get(index)? as usize,
            None => index,
        };
        let symbols = self.alphabet.symbols();
        let base = symbols.len();
        let k = self.config.k;
        let mut letters = vec![b'A'; k];
        let mut rest = code;
        for slot in letters.iter_mut().rev() {
            *slot = symbols[rest % base];
            rest /= base;
        }
        let mut name = String::with_capacity(self.config.span());
        let left = self.config.left();
        name.extend(letters[..left].iter().map(|&b| char::from(b)));
        name.extend(std::iter::repeat_n('.', self.config.gap));
        name.extend(letters[left..].iter().map(|&b| char::from(b)));
        Some(name)
    }

    /// Featurise one sequence into `out` (cleared first): sorted indices, no duplicates, and
    /// counts or frequencies per [`KmerNormalize`]. Frequencies divide by the number of
    /// windows counted (those without an invalid letter), so a non-empty row sums to 1.
    pub fn featurize(&self, sequence: &[u8], out: &mut SparseRow) {
        out.clear();
        if self.alphabet.size() == 4 {
            self.nucleotide_indices(sequence, &mut out.indices);
        } else {
            self.protein_indices(sequence, &mut out.indices);
        }
        let windows = out.indices.len();
        out.indices.sort_unstable();
        // Run-length encode the sorted indices in place.
        let mut unique = 0;
        let mut start = 0;
        while start < windows {
            let index = out.indices[start];
            let mut end = start + 1;
            while end < windows && out.indices[end] == index {
                end += 1;
            }
            out.indices[unique] = index;
            out.values.push((end - start) as f32);
            unique += 1;
            start = end;
        }
        out.indices.truncate(unique);
        if self.config.normalize == KmerNormalize::Frequency && windows > 0 {
            let scale = 1.0 / windows as f32;
            out.values.iter_mut().for_each(|v| *v *= scale);
        }
    }

    /// Featurise many sequences (in parallel for large batches); the result does not depend on
    /// the number of threads.
    pub fn featurize_batch(&self, sequences: &[&[u8]]) -> SparseBatch {
        let featurize_chunk = |chunk: &[&[u8]]| {
            let mut part = SparseBatch { row_offsets: Vec::with_capacity(chunk.len()), ..SparseBatch::default() };
            let mut row = SparseRow::default();
            for sequence in chunk {
                self.featurize(sequence, &mut row);
                part.indices.extend_from_slice(&row.indices);
                part.values.extend_from_slice(&row.values);
                part.row_offsets.push(part.indices.len());
            }
            part
        };
        let parts: Vec<SparseBatch> = if sequences.len() >= PARALLEL_MIN {
            let chunk = (sequences.len() / (4 * rayon::current_num_threads())).max(64);
            sequences.par_chunks(chunk).map(featurize_chunk).collect()
        } else {
            vec![featurize_chunk(sequences)]
        };
        let nnz = parts.iter().map(SparseBatch::nnz).sum();
        let mut batch = SparseBatch {
            row_offsets: Vec::with_capacity(sequences.len() + 1),
            indices: Vec::with_capacity(nnz),
            values: Vec::with_capacity(nnz),
            dimension: self.dimension,
        };
        batch.row_offsets.push(0);
        for part in parts {
            let offset = batch.indices.len();
            batch.row_offsets.extend(part.row_offsets.iter().map(|end| offset + end));
            batch.indices.extend_from_slice(&part.indices);
            batch.values.extend_from_slice(&part.values);
        }
        batch
    }

    /// Push the feature index of every valid window of a DNA/RNA sequence (unsorted).
    fn nucleotide_indices(&self, sequence: &[u8], indices: &mut Vec<u32>) {
        let span = self.config.span();
        let (left, right, gap) = (self.config.left(), self.config.right(), self.config.gap);
        if sequence.len() < span {
            return;
        }
        // Bit i of `invalid` (and 2-bit group i of `window`) is the base i places back from
        // the newest one; only informative positions need to be valid.
        let informative: u32 = ((1 << right) - 1) | (((1 << left) - 1) << (span - left));
        let right_mask: u64 = (1 << (2 * right)) - 1;
        let left_mask: u64 = (1 << (2 * left)) - 1;
        let left_shift = 2 * (right + gap);
        let mut window: u64 = 0;
        let mut invalid: u32 = 0;
        indices.reserve(sequence.len() + 1 - span);
        for (position, &byte) in sequence.iter().enumerate() {
            let code = self.codes[usize::from(byte)];
            invalid = (invalid << 1) | u32::from(code == INVALID);
            window = (window << 2) | u64::from(code & 3);
            if position + 1 >= span && invalid & informative == 0 {
                let kmer = (((window >> left_shift) & left_mask) << (2 * right)) | (window & right_mask);
                indices.push(match &self.dense {
                    Some(dense) => dense[kmer as usize],
                    None => kmer as u32,
                });
            }
        }
    }

    /// Push the feature index of every valid window of a protein sequence (unsorted).
    fn protein_indices(&self, sequence: &[u8], indices: &mut Vec<u32>) {
        let span = self.config.span();
        let left = self.config.left();
        if sequence.len() < span {
            return;
        }
        let base = self.alphabet.size() as u32;
        let positions = (0..left).chain(left + self.config.gap..span);
        'windows: for window in sequence.windows(span) {
            let mut code = 0u32;
            for offset in positions.clone() {
                let letter = self.codes[usize::from(window[offset])];
                if letter == INVALID {
                    continue 'windows;
                }
                code = code * base + u32::from(letter);
            }
            indices.push(code);
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn config(k: usize, canonical: bool, gap: usize, normalize: KmerNormalize) -> KmerConfig {
        KmerConfig { k, canonical, gap, normalize }
    }

    /// A plain counter: build each k-mer string and count it in a map keyed by feature name.
    fn naive(sequence: &[u8], config: &KmerConfig, alphabet: Alphabet) -> HashMap<String, f32> {
        let symbols = alphabet.symbols();
        let letter = |b: u8| -> Option<u8> {
            let upper = b.to_ascii_uppercase();
            if alphabet.size() == 4 && (upper == b'T' || upper == b'U') {
                return Some(symbols[3]);
            }
            symbols.contains(&upper).then_some(upper)
        };
        let complement = |b: u8| match b {
            b'A' => symbols[3],
            b'C' => b'G',
            b'G' => b'C',
            _ => b'A',
        };
        let (left, span) = (config.k.div_ceil(2), config.k + config.gap);
        let mut counts: HashMap<String, f32> = HashMap::new();
        let mut windows = 0;
        for start in 0..(sequence.len() + 1).saturating_sub(span) {
            let window = &sequence[start..start + span];
            let informative: Option<Vec<u8>> =
                window[..left].iter().chain(&window[left + config.gap..]).map(|&b| letter(b)).collect();
            let Some(mut letters) = informative else { continue };
            if config.canonical {
                let reverse: Vec<u8> = letters.iter().rev().map(|&b| complement(b)).collect();
                // Compare in channel order (A < C < G < T/U), which is byte order except for U.
                let rank = |s: &[u8]| s.iter().map(|&b| symbols.iter().position(|&x| x == b)).collect::<Vec<_>>();
                if rank(&reverse) < rank(&letters) {
                    letters = reverse;
                }
            }
            let mut name = String::from_utf8_lossy(&letters[..left]).into_owned();
            name.push_str(&".".repeat(config.gap));
            name.push_str(&String::from_utf8_lossy(&letters[left..]));
            *counts.entry(name).or_default() += 1.0;
            windows += 1;
        }
        if config.normalize == KmerNormalize::Frequency {
            counts.values_mut().for_each(|v| *v /= windows as f32);
        }
        counts
    }

    /// The featuriser's output for one sequence, keyed by feature name.
    fn named(featurizer: &KmerFeaturizer, sequence: &[u8]) -> Result<HashMap<String, f32>, String> {
        let mut row = SparseRow::default();
        featurizer.featurize(sequence, &mut row);
        if !row.indices.windows(2).all(|w| w[0] < w[1]) {
            return Err(format!("indices not strictly increasing: {:?}", row.indices));
        }
        Ok(row
            .indices
            .iter()
            .zip(&row.values)
            .map(|(&i, &v)| (featurizer.feature_name(i as usize).unwrap_or_default(), v))
            .collect())
    }

    fn assert_same(fast: &HashMap<String, f32>, slow: &HashMap<String, f32>) -> Result<(), String> {
        if fast.len() != slow.len() {
            return Err(format!("{} features vs {} expected: {fast:?} vs {slow:?}", fast.len(), slow.len()));
        }
        for (name, value) in slow {
            match fast.get(name) {
                Some(got) if (got - value).abs() <= 1e-6 => {}
                other => return Err(format!("feature {name}: got {other:?}, expected {value}")),
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn matches_naive_counter_dna(
            sequence in proptest::collection::vec(proptest::sample::select(b"ACGTACGTACGTNacgtU-".to_vec()), 0..120),
            k in 1usize..=8,
            canonical: bool,
            gap in 0usize..4,
            frequency: bool,
        ) {
            let normalize = if frequency { KmerNormalize::Frequency } else { KmerNormalize::Counts };
            let config = config(k, canonical, gap, normalize);
            prop_assume!(config.check(Alphabet::Dna).is_ok());
            let featurizer = KmerFeaturizer::new(config, Alphabet::Dna).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let fast = named(&featurizer, &sequence).map_err(TestCaseError::fail)?;
            assert_same(&fast, &naive(&sequence, &config, Alphabet::Dna)).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn matches_naive_counter_protein(
            sequence in proptest::collection::vec(proptest::sample::select(b"ACDEFGHIKLMNPQRSTVWYXacd*".to_vec()), 0..80),
            k in 1usize..=3,
            gap in 0usize..3,
        ) {
            let config = config(k, false, gap, KmerNormalize::Counts);
            prop_assume!(config.check(Alphabet::Protein).is_ok());
            let featurizer = KmerFeaturizer::new(config, Alphabet::Protein).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let fast = named(&featurizer, &sequence).map_err(TestCaseError::fail)?;
            assert_same(&fast, &naive(&sequence, &config, Alphabet::Protein)).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn canonical_is_strand_symmetric(
            sequence in proptest::collection::vec(proptest::sample::select(b"ACGTN".to_vec()), 0..100),
            k in 1usize..=8,
        ) {
            let featurizer = KmerFeaturizer::new(config(k, true, 0, KmerNormalize::Counts), Alphabet::Dna)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let reverse = omix_encode::reverse_complement(&sequence, Alphabet::Dna);
            let (mut a, mut b) = (SparseRow::default(), SparseRow::default());
            featurizer.featurize(&sequence, &mut a);
            featurizer.featurize(&reverse, &mut b);
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn batch_matches_single_rows_and_is_parallel_safe() -> TestResult {
        let featurizer = KmerFeaturizer::new(config(4, true, 2, KmerNormalize::Frequency), Alphabet::Dna)?;
        let mut state = 12345u64;
        let owned: Vec<Vec<u8>> = (0..1000)
            .map(|i| {
                (0..(i % 70))
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        b"ACGTN"[((state >> 33) % 5) as usize]
                    })
                    .collect()
            })
            .collect();
        let sequences: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let batch = featurizer.featurize_batch(&sequences);
        assert_eq!(batch.rows(), 1000);
        assert_eq!(batch.dimension, featurizer.dimension());
        let mut row = SparseRow::default();
        for (i, sequence) in sequences.iter().enumerate() {
            featurizer.featurize(sequence, &mut row);
            let (indices, values) = batch.row(i);
            assert_eq!((indices, values), (&row.indices[..], &row.values[..]));
        }
        let small = featurizer.featurize_batch(&sequences[..10]);
        assert_eq!(small.row_offsets[..], batch.row_offsets[..11]);
        assert_eq!(featurizer.featurize_batch(&[]).rows(), 0);
        let dense = small.to_dense();
        assert_eq!(dense.len(), 10 * featurizer.dimension());
        Ok(())
    }

    #[test]
    fn dimensions_and_names() -> TestResult {
        let f = KmerFeaturizer::new(config(8, true, 0, KmerNormalize::Counts), Alphabet::Dna)?;
        assert_eq!(f.dimension(), 32896);
        let f = KmerFeaturizer::new(config(3, true, 0, KmerNormalize::Counts), Alphabet::Dna)?;
        assert_eq!(f.dimension(), 32);
        assert_eq!(f.feature_names()[..3], ["AAA", "AAC", "AAG"]);
        let f = KmerFeaturizer::new(config(2, true, 0, KmerNormalize::Counts), Alphabet::Dna)?;
        // 16 dinucleotides: 4 palindromes (AT, CG, GC, TA) + 6 pairs.
        assert_eq!(f.feature_names(), ["AA", "AC", "AG", "AT", "CA", "CC", "CG", "GA", "GC", "TA"]);
        let f = KmerFeaturizer::new(config(4, false, 2, KmerNormalize::Counts), Alphabet::Dna)?;
        assert_eq!(f.dimension(), 256);
        assert_eq!(f.feature_name(27).as_deref(), Some("AC..GT"));
        assert_eq!(f.feature_name(256), None);
        let f = KmerFeaturizer::new(config(3, false, 1, KmerNormalize::Counts), Alphabet::Rna)?;
        assert_eq!(f.feature_name(63).as_deref(), Some("UU.U"));
        let f = KmerFeaturizer::new(config(2, false, 0, KmerNormalize::Counts), Alphabet::Protein)?;
        assert_eq!(f.dimension(), 400);
        assert_eq!(f.feature_name(1).as_deref(), Some("AC"));
        assert_eq!(f.feature_name(399).as_deref(), Some("YY"));
        Ok(())
    }

    #[test]
    fn rna_u_is_t_and_n_is_skipped() -> TestResult {
        let f = KmerFeaturizer::new(config(2, false, 0, KmerNormalize::Counts), Alphabet::Dna)?;
        let (mut a, mut b) = (SparseRow::default(), SparseRow::default());
        f.featurize(b"ACGUU", &mut a);
        f.featurize(b"acgtt", &mut b);
        assert_eq!(a, b);
        f.featurize(b"ANCNNGT", &mut a);
        // Only GT survives.
        assert_eq!(a.indices, [11]);
        assert_eq!(a.values, [1.0]);
        let f = KmerFeaturizer::new(config(2, false, 0, KmerNormalize::Frequency), Alphabet::Rna)?;
        f.featurize(b"AAAU", &mut a);
        assert_eq!(a.indices, [0, 3]);
        assert_eq!(a.values, [2.0 / 3.0, 1.0 / 3.0]);
        f.featurize(b"A", &mut a);
        assert!(a.indices.is_empty() && a.values.is_empty());
        // A gap may hold an N.
        let f = KmerFeaturizer::new(config(2, false, 1, KmerNormalize::Counts), Alphabet::Dna)?;
        f.featurize(b"ANT", &mut a);
        assert_eq!((a.indices.as_slice(), f.feature_name(3).as_deref()), (&[3u32][..], Some("A.T")));
        Ok(())
    }

    #[test]
    fn check_rules() {
        let ok = KmerConfig::default();
        assert!(ok.check(Alphabet::Dna).is_ok());
        let bad = |c: KmerConfig, a: Alphabet| c.check(a).err();
        assert!(matches!(
            bad(KmerConfig { k: 0, ..ok }, Alphabet::Dna),
            Some(FeatureError::KmerLength { k: 0, max: 8, .. })
        ));
        assert!(matches!(bad(KmerConfig { k: 9, ..ok }, Alphabet::Rna), Some(FeatureError::KmerLength { .. })));
        let protein = KmerConfig { k: 4, canonical: false, ..ok };
        assert!(matches!(bad(protein, Alphabet::Protein), Some(FeatureError::KmerLength { max: 3, .. })));
        assert!(matches!(
            bad(KmerConfig { k: 2, ..ok }, Alphabet::Protein),
            Some(FeatureError::CanonicalNeedsNucleotides { .. })
        ));
        assert!(matches!(bad(KmerConfig { gap: 17, ..ok }, Alphabet::Dna), Some(FeatureError::GapTooLarge { .. })));
        let one = KmerConfig { k: 1, gap: 1, canonical: false, ..ok };
        assert!(matches!(bad(one, Alphabet::Dna), Some(FeatureError::GapNeedsTwoLetters { k: 1 })));
        assert!(matches!(
            bad(KmerConfig { k: 5, gap: 1, ..ok }, Alphabet::Dna),
            Some(FeatureError::CanonicalGapOddK { .. })
        ));
        assert!(KmerConfig { k: 5, gap: 1, canonical: false, ..ok }.check(Alphabet::Dna).is_ok());
        assert!(KmerFeaturizer::new(KmerConfig { k: 0, ..ok }, Alphabet::Dna).is_err());
    }

    #[test]
    fn config_serde() -> TestResult {
        let config: KmerConfig = serde_json::from_str(r#"{"k": 4, "normalize": "counts"}"#)?;
        assert_eq!(config, KmerConfig { k: 4, normalize: KmerNormalize::Counts, ..KmerConfig::default() });
        assert!(serde_json::from_str::<KmerConfig>(r#"{"kk": 4}"#).is_err());
        let back: KmerConfig = serde_json::from_str(&serde_json::to_string(&config)?)?;
        assert_eq!(back, config);
        Ok(())
    }
}
