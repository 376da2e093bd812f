//! Variant effect scoring inputs and outputs for omix: streaming VCF reading, the reference
//! and alternative sequence windows around each variant, score writers (TSV and VCF) of a
//! classifier's score differences or a profile model's count fold changes and profile distances
//! ([`PROFILE_COLUMNS`]), deterministic sharding and the pieces for resuming an interrupted run.
//!
//! ```
//! use omix_variants::{
//!     InMemorySource, ScoreRecord, Shard, SkipReason, TsvScoreWriter, VcfReader, count_records,
//!     variant_windows,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("calls.vcf");
//! std::fs::write(
//!     &path,
//!     "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n\
//!      chr1\t5\trs1\tA\tC,G\t.\tPASS\t.\n\
//!      chr1\t8\tsv1\tG\t<DEL>\t.\tPASS\tSVTYPE=DEL\n",
//! )?;
//! let genome = InMemorySource::new(vec![("chr1".to_owned(), b"ACGTACGTACGT".to_vec())]);
//!
//! // Shard 1 of 1 covers every record; shard outputs concatenated in order equal the whole.
//! let shard: Shard = "1/1".parse()?;
//! let range = shard.range(count_records(&path)?);
//! assert_eq!(range, 0..2);
//!
//! let tasks = vec!["gc".to_owned()];
//! let mut tsv = TsvScoreWriter::new(Vec::new())?;
//! let mut skipped = Vec::new();
//! for variant in VcfReader::open(&path)? {
//!     let variant = variant?;
//!     if !range.contains(&variant.record) {
//!         continue;
//!     }
//!     match variant_windows(&genome, &variant, 6) {
//!         Ok(windows) => {
//!             // The REF base sits at index 6 / 2 = 3 of both windows.
//!             assert_eq!(windows.reference, b"CGTACG");
//!             let gc = |s: &[u8]| s.iter().filter(|b| matches!(b, b'G' | b'C')).count() as f64 / 6.0;
//!             let (reference, alternative) = ([gc(&windows.reference)], [gc(&windows.alternative)]);
//!             tsv.write(&ScoreRecord { variant: &variant, tasks: &tasks, reference: &reference, alternative: &alternative })?;
//!         }
//!         Err(reason) => skipped.push(reason),
//!     }
//! }
//! assert_eq!(skipped, [SkipReason::SymbolicAllele]);
//! let text = String::from_utf8(tsv.finish()?)?;
//! assert_eq!(text.lines().count(), 3); // header, A>C, A>G
//! assert!(text.lines().nth(1).is_some_and(|l| l.starts_with("chr1\t5\trs1\tA\tC\tgc\t0.6666667\t0.8333333\t")));
//! # Ok(())
//! # }
//! ```

mod error;
mod job;
mod output;
mod profile;
mod resume;
mod shard;
mod vcf;
mod window;

pub use error::VariantError;
pub use job::{
    OnMismatch, ScoringJob, ScoringOutcome, WindowLocus, WindowScorer, refuse_outputs_over_inputs, scoring_outputs,
    with_suffix,
};
pub use omix_genome::{InMemorySource, SequenceSource};
pub use output::{
    DEFAULT_INFO_PREFIX, DIFFERENCE_COLUMNS, EffectColumn, EffectRecord, ScoreRecord, TsvScoreWriter, VcfScoreWriter,
    difference_effects, log_odds_ratio, sanitise_info_key,
};
pub use profile::{PROFILE_COLUMNS, ProfileLayout, ProfilePrediction, profile_effects};
pub use resume::{Progress, truncate_to_lines};
pub use shard::Shard;
pub use vcf::{VCF_COLUMNS, Variant, VcfHeader, VcfReader, count_records};
pub use window::{SkipReason, VariantWindows, check_reference, variant_windows};
