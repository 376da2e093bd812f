//! Readers for the sequence and label inputs of omix, plain or gzip/bgzip.
//!
//! Gzip is detected by its magic bytes, not the file name. Bad input gives an [`IoError`]
//! naming the file, the 1-based line and what was wrong; records are never silently dropped.
//!
//! ```
//! use omix_io::{read_fasta, IoError};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("promoters.fa");
//! std::fs::write(&path, ">p1 chr1:100-110\nACGTA\nCGT\n>p2\nTTGACA\n")?;
//!
//! let records = read_fasta(&path)?;
//! assert_eq!(records[0].id, "p1");
//! assert_eq!(records[0].sequence, b"ACGTACGT");
//! // The 7th base (offset 6) is on line 3, column 2.
//! assert_eq!(records[0].location.position(6), (3, 2));
//!
//! std::fs::write(&path, ">p1\nACGT\n>p1\nTTGA\n")?;
//! let Err(error) = read_fasta(&path) else {
//!     return Err("a duplicate id must be an error".into());
//! };
//! assert!(matches!(error, IoError::DuplicateId { first_line: 1, line: 3, .. }));
//! println!("{error}"); // ".../promoters.fa, line 3: duplicate id 'p1' (first seen on line 1)"
//! # Ok(())
//! # }
//! ```

mod error;
mod fasta;
mod hash;
mod lines;
mod matrix;
mod npz;
mod reader;
mod records;
mod table;
mod write;

pub use error::IoError;
pub use fasta::{for_each_fasta_record, read_fasta, read_fasta_with};
pub use hash::{ContentHash, hash_file};
pub use lines::{for_each_sequence_line, read_label_lines, read_sequence_lines};
pub use matrix::{Matrix, MatrixOptions, read_matrix};
pub use npz::{NpyArray, NpyData, npy_bytes, read_npy, write_npz};
pub use reader::open;
pub use records::{LabelRecord, Location, SequenceRecord};
pub use table::{Table, TableRow, read_label_table};
pub use write::{refuse_output_over_inputs, write_atomically};
