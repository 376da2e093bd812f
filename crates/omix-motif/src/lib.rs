//! Motif analysis for omix: the motif type and its MEME reader and writer, position frequency
//! matrices, comparison of motifs with a motif database by Tomtom's method (JASPAR 2024 built
//! in), and SVG sequence logos.
//!
//! ```
//! use omix_motif::{CompareOptions, Comparer, LogoOptions, Motif, frequency_matrix, jaspar2024, logo_svg};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A motif from site counts (here 20 sites of CCGGAAGT, an ETS site).
//! let consensus = b"CCGGAAGT";
//! let counts: Vec<Vec<f64>> = consensus
//!     .iter()
//!     .map(|b| b"ACGT".iter().map(|l| if l == b { 20.0 } else { 0.0 }).collect())
//!     .collect();
//! let query = Motif::new("ets_like", frequency_matrix(&counts, 1.0));
//!
//! // Compare with the built-in JASPAR 2024 database: the best match is an ETS factor.
//! let database = jaspar2024();
//! let comparer = Comparer::new(&database, CompareOptions::default())?;
//! let matches = comparer.compare(&query)?;
//! assert_eq!(matches.len(), 879);
//! assert!(matches[0].e_value < 0.05);
//!
//! // Draw the query as a sequence logo.
//! let svg = logo_svg(&query, "ACGT", &database.background, &LogoOptions::default());
//! assert!(svg.starts_with("<svg"));
//! # Ok(())
//! # }
//! ```
//!
//! - [`Motif`] and [`MotifSet`]: position probability matrices with their names, read and
//!   written in the MEME minimal format by [`read_meme`] and [`write_meme`].
//! - [`pfm`]: counts to probabilities ([`frequency_matrix`]), information content, trimming
//!   and reverse complements.
//! - [`compare`]: [`Comparer`] implements Tomtom (Gupta et al., Genome Biology 2007): per-column
//!   null distributions from the database, p-values of summed column scores by dynamic
//!   programming, corrected for the offsets and strands tried, with E- and q-values over the
//!   database. The module docs describe the method.
//! - [`logo`]: [`logo_svg`], [`aligned_logos_svg`] and [`attribution_logo_svg`], standalone
//!   SVG with letters drawn as paths.
//! - [`discover`]: motif discovery from attributions (TF-MoDISco's idea): seqlets by the
//!   recursive algorithm at a control-estimated false discovery rate, clustered on both strands
//!   into CWMs and PFMs.
//! - [`jaspar2024`]: the JASPAR 2024 CORE vertebrates non-redundant collection, embedded
//!   (cite [`JASPAR2024_CITATION`]).
//!
//! Time: comparing 320 random 19-column queries with the 879 JASPAR motifs on both strands
//! takes about 2 s on 2 cores (`cargo run --release -p omix-motif --example compare_timing`).

#![warn(missing_docs)]

pub mod compare;
mod database;
pub mod discover;
mod error;
pub mod logo;
mod meme;
pub mod pfm;

pub use compare::{CompareOptions, Comparer, MotifMatch, SCORE_BINS, Scoring, Similarity, Strand};
pub use database::{JASPAR2024_CITATION, jaspar2024, try_jaspar2024};
pub use error::MotifError;
pub use logo::{LogoOptions, aligned_logos_svg, attribution_logo_svg, logo_svg};
pub use meme::{Motif, MotifSet, ROW_SUM_TOLERANCE, read_meme, read_meme_from, write_meme};
pub use pfm::{frequency_matrix, information_content, reverse_complement_motif, total_information, trim_motif};
