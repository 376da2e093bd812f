//! Sequence encoding for omix: alphabets, one-hot encoding, reverse complement,
//! length fitting and dinucleotide-preserving shuffles.
//!
//! ```
//! use omix_encode::{
//!     Alphabet, Ambiguity, Encoder, LengthPolicy, dinucleotide_shuffle, fit_length,
//!     reverse_complement,
//! };
//! use rand::SeedableRng;
//!
//! // Channel-major one-hot: out[c * len + i], channels in A, C, G, T order.
//! let encoder = Encoder::new(Alphabet::Dna, Ambiguity::Uniform);
//! let one_hot = encoder.encode(b"ACgN")?;
//! assert_eq!(
//!     one_hot,
//!     [
//!         1.0, 0.0, 0.0, 0.25, // A
//!         0.0, 1.0, 0.0, 0.25, // C
//!         0.0, 0.0, 1.0, 0.25, // G
//!         0.0, 0.0, 0.0, 0.25, // T
//!     ]
//! );
//! assert!(encoder.encode(b"AC-G").is_err());
//!
//! assert_eq!(reverse_complement(b"AACgtN", Alphabet::Dna), b"NacGTT");
//!
//! let fitted = fit_length(b"ACGTACGT", 4, LengthPolicy::CenterCropPad, Alphabet::Dna)?;
//! assert_eq!(&*fitted, b"GTAC");
//!
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
//! let shuffled = dinucleotide_shuffle(b"ACGTTGCAACGGTACA", &mut rng);
//! assert_eq!(shuffled.len(), 16);
//! assert_eq!((shuffled[0], shuffled[15]), (b'A', b'A'));
//! # Ok::<(), omix_encode::EncodeError>(())
//! ```

#![warn(missing_docs)]

mod alphabet;
mod complement;
mod encoder;
mod error;
mod length;
mod shuffle;
mod stats;

pub use alphabet::{Alphabet, Ambiguity, NOT_A_SYMBOL};
pub use complement::{reverse_complement, reverse_complement_one_hot};
pub use encoder::Encoder;
pub use error::EncodeError;
pub use length::{LengthPolicy, fit_length};
pub use shuffle::dinucleotide_shuffle;
pub use stats::{GcCount, canonical_upper, gc_fraction};
