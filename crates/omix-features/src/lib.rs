//! Engineered features for omix's dense networks and baselines: sparse k-mer spectra, gapped
//! k-mer counts (the gkm kernel's feature map, [`GkmFeaturizer`]), PWM scans
//! of motifs (read with [`omix_motif::read_meme`]), and per-column standardisation fitted on the
//! training rows only.
//!
//! ```
//! use omix_encode::Alphabet;
//! use omix_features::{
//!     KmerConfig, KmerFeaturizer, KmerNormalize, PwmScanner, SparseRow, Standardizer,
//! };
//! use omix_motif::read_meme;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Canonical 2-mers: 10 features (AA/TT, AC/GT, ...), counted on both strands at once.
//! let config = KmerConfig { k: 2, canonical: true, gap: 0, normalize: KmerNormalize::Counts };
//! let kmers = KmerFeaturizer::new(config, Alphabet::Dna)?;
//! assert_eq!(kmers.dimension(), 10);
//! let mut row = SparseRow::default();
//! kmers.featurize(b"AACNTT", &mut row); // AA, AC, then TT (= AA); windows with N are skipped
//! assert_eq!(row.indices, [0, 1]);
//! assert_eq!(row.values, [2.0, 1.0]);
//! assert_eq!(kmers.feature_name(1).as_deref(), Some("AC"));
//!
//! // Motifs from a MEME file, scanned on both strands: a max and a log-sum-exp per motif.
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("motifs.meme");
//! std::fs::write(
//!     &path,
//!     "MEME version 4\n\nALPHABET= ACGT\n\nMOTIF M1 ebox\n\
//!      letter-probability matrix: alength= 4 w= 2 nsites= 10 E= 0\n\
//!      0.97 0.01 0.01 0.01\n0.01 0.97 0.01 0.01\n",
//! )?;
//! let motifs = read_meme(&path)?;
//! let scanner = PwmScanner::new(&motifs.motifs, &motifs.background, 0.01)?;
//! assert_eq!(scanner.features(), ["M1_ebox:max", "M1_ebox:sum"]);
//! let features = scanner.scan_batch(&[b"TTTACTTT", b"GTAAAA"]); // AC forward; GT = AC reversed
//! let best = scanner.max_score(0).ok_or("one motif")?;
//! assert!((features[0] - best).abs() < 1e-5 && (features[2] - best).abs() < 1e-5);
//!
//! // Standardise with statistics from the training rows (0 and 1) only.
//! let mut values = vec![1.0, 3.0, 100.0];
//! let standardizer = Standardizer::fit(&values, 1, [0, 1])?;
//! standardizer.transform_in_place(&mut values[..1])?;
//! assert_eq!(values[0], -1.0);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod error;
mod gkm;
mod kmer;
mod pwm;
mod standardize;

pub use error::FeatureError;
pub use gkm::{GkmConfig, GkmFeaturizer, GkmMatrix, MAX_GKM_FEATURES, MAX_GKM_K, MAX_GKM_L};
pub use kmer::{
    KmerConfig, KmerFeaturizer, KmerNormalize, MAX_GAP, MAX_K_NUCLEOTIDE, MAX_K_PROTEIN, SparseBatch, SparseRow,
};
pub use pwm::PwmScanner;
pub use standardize::Standardizer;
