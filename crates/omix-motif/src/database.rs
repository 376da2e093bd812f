//! The built-in motif database: JASPAR 2024 CORE vertebrates, non-redundant (879 profiles).
//!
//! The MEME file ships gzip-compressed inside the binary (`include_bytes!`, about 120 kB) and
//! is parsed once, on first use, with [`read_meme_from`].

use std::io::BufReader;
use std::path::Path;
use std::sync::OnceLock;

use crate::{MotifError, MotifSet, read_meme_from};
use flate2::read::GzDecoder;

/// Attribution to show wherever JASPAR 2024 motifs or matches against them are reported.
pub const JASPAR2024_CITATION: &str = "JASPAR 2024 CORE vertebrates non-redundant, 879 profiles; \
     Rauluseviciute et al., Nucleic Acids Res. 2024; CC BY 4.0";

/// The name the embedded file goes by in error messages.
const JASPAR2024_NAME: &str = "JASPAR2024_CORE_vertebrates_nonredundant.meme.gz";

/// The embedded gzip-compressed MEME file.
static JASPAR2024_GZ: &[u8] = include_bytes!("../data/JASPAR2024_CORE_vertebrates_nonredundant.meme.gz");

/// The parsed database, filled on first use.
static JASPAR2024: OnceLock<Result<MotifSet, String>> = OnceLock::new();

/// Parse the embedded JASPAR 2024 file.
fn parse_jaspar2024() -> Result<MotifSet, MotifError> {
    let reader = BufReader::new(GzDecoder::new(JASPAR2024_GZ));
    read_meme_from(reader, Path::new(JASPAR2024_NAME))
        .map_err(|source| MotifError::Database { database: JASPAR2024_NAME, source: Box::new(source) })
}

/// The JASPAR 2024 database, parsed on first use and kept for the life of the process.
///
/// 879 motifs, alphabet `ACGT`, uniform background; ids such as `MA0062.4` with the factor
/// name (`GABPA`) as [`Motif::name`](crate::Motif::name) and probability rows summing to 1.
/// Errors only when the embedded file is corrupt (which a unit test rules out).
pub fn try_jaspar2024() -> Result<&'static MotifSet, MotifError> {
    match JASPAR2024.get_or_init(|| parse_jaspar2024().map_err(|e| e.to_string())) {
        Ok(set) => Ok(set),
        // Parse once more to hand back the typed error (only reachable in a corrupt build).
        Err(_) => Err(match parse_jaspar2024() {
            Err(error) => error,
            Ok(_) => MotifError::EmptyDatabase,
        }),
    }
}

/// A copy of the JASPAR 2024 CORE vertebrates non-redundant database (879 motifs, `ACGT`).
///
/// Cite [`JASPAR2024_CITATION`] with any result. Use [`try_jaspar2024`] for a shared
/// reference instead of a copy.
///
/// # Panics
///
/// Only if the file embedded at build time is corrupt, which the crate's tests rule out.
pub fn jaspar2024() -> MotifSet {
    #[allow(clippy::expect_used)]
    try_jaspar2024().expect("the embedded JASPAR 2024 file parses (checked by the crate's tests)").clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_database() -> Result<(), MotifError> {
        let set = try_jaspar2024()?;
        assert_eq!(set.motifs.len(), 879);
        assert_eq!(set.alphabet_letters, "ACGT");
        assert_eq!(set.background, [0.25; 4]);
        assert!(set.motifs.iter().all(|m| m.width() > 0 && m.alphabet_length() == 4));
        let gabpa = set.motifs.iter().find(|m| m.name.as_deref() == Some("GABPA")).ok_or(MotifError::EmptyDatabase)?;
        assert!(gabpa.id.starts_with("MA0062"));
        assert_eq!(jaspar2024().motifs.len(), 879);
        assert!(JASPAR2024_CITATION.contains("CC BY 4.0"));
        Ok(())
    }
}
