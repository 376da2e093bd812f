//! Where reference sequence comes from: the trait that variant windows and other consumers read
//! bases through, implemented by the indexed [`Reference`](crate::Reference) and by contigs held
//! in memory.

use std::collections::HashMap;

/// Where sequence comes from: a FASTA reference on disk, or contigs held in memory.
///
/// Implementations must be cheap to call from several threads at once.
pub trait SequenceSource: Send + Sync {
    /// The bases of `[start, end)` (0-based, half-open) on `contig`, upper case.
    ///
    /// Positions before 0 or at or past the contig's end are `N`, so the result always holds
    /// `end - start` bases (none when `end <= start`). `Err(message)` for an unknown contig.
    fn fetch(&self, contig: &str, start: i64, end: i64) -> Result<Vec<u8>, String>;

    /// The length of `contig` in bases, or `None` when the source has no such contig.
    fn contig_length(&self, contig: &str) -> Option<u64>;
}

/// Contigs held in memory, upper-cased once when built; for tests and small genomes.
#[derive(Debug, Clone, Default)]
pub struct InMemorySource {
    contigs: HashMap<String, Vec<u8>>,
}

impl InMemorySource {
    /// A source holding `contigs` as (name, bases) pairs; bases are upper-cased, a repeated name keeps the last.
    pub fn new(contigs: Vec<(String, Vec<u8>)>) -> Self {
        let contigs = contigs
            .into_iter()
            .map(|(name, mut bases)| {
                bases.make_ascii_uppercase();
                (name, bases)
            })
            .collect();
        InMemorySource { contigs }
    }
}

impl SequenceSource for InMemorySource {
    fn fetch(&self, contig: &str, start: i64, end: i64) -> Result<Vec<u8>, String> {
        let bases = self.contigs.get(contig).ok_or_else(|| format!("unknown contig '{contig}'"))?;
        Ok(padded_slice(bases, start, end))
    }

    fn contig_length(&self, contig: &str) -> Option<u64> {
        self.contigs.get(contig).map(|bases| bases.len() as u64)
    }
}

/// The bases of `[start, end)` of `bases`, with `N` for positions outside it.
pub(crate) fn padded_slice(bases: &[u8], start: i64, end: i64) -> Vec<u8> {
    if end <= start {
        return Vec::new();
    }
    let length = usize::try_from(end - start).unwrap_or(0);
    let mut out = Vec::with_capacity(length);
    let contig_end = i64::try_from(bases.len()).unwrap_or(i64::MAX);
    let inside_start = start.clamp(0, contig_end);
    let inside_end = end.clamp(0, contig_end);
    // Left padding, the bases inside the contig, then right padding.
    out.resize(usize::try_from(inside_start - start).unwrap_or(0).min(length), b'N');
    if inside_end > inside_start {
        // Both bounds lie in 0..=bases.len(), so the casts are exact.
        out.extend_from_slice(&bases[inside_start as usize..inside_end as usize]);
    }
    out.resize(length, b'N');
    out
}

impl SequenceSource for crate::Reference {
    fn fetch(&self, contig: &str, start: i64, end: i64) -> Result<Vec<u8>, String> {
        crate::Reference::fetch(self, contig, start, end).map_err(|error| error.to_string())
    }

    fn contig_length(&self, contig: &str) -> Option<u64> {
        crate::Reference::contig_length(self, contig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_pads_with_n_and_upper_cases() -> Result<(), String> {
        let source = InMemorySource::new(vec![("chr1".to_owned(), b"acgtAC".to_vec())]);
        assert_eq!(source.contig_length("chr1"), Some(6));
        assert_eq!(source.contig_length("chr2"), None);
        assert_eq!(source.fetch("chr1", 0, 6)?, b"ACGTAC");
        assert_eq!(source.fetch("chr1", -2, 2)?, b"NNAC");
        assert_eq!(source.fetch("chr1", 4, 9)?, b"ACNNN");
        assert_eq!(source.fetch("chr1", -3, 9)?, b"NNNACGTACNNN");
        assert_eq!(source.fetch("chr1", -5, -1)?, b"NNNN");
        assert_eq!(source.fetch("chr1", 10, 12)?, b"NN");
        assert_eq!(source.fetch("chr1", 3, 3)?, b"");
        assert_eq!(source.fetch("chr1", 3, 1)?, b"");
        let Err(message) = source.fetch("chrX", 0, 1) else {
            return Err("an unknown contig must be an error".to_owned());
        };
        assert!(message.contains("chrX"), "{message}");
        Ok(())
    }
}
