//! The REF check and the reference/alternative sequence windows around a variant.

use std::fmt;

use crate::{SequenceSource, Variant};

/// Why a variant was not scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The ALT is not a sequence: `<DEL>`-style, `*`, a breakend or the missing allele `.`.
    SymbolicAllele,
    /// The genome's bases under the REF allele differ from it.
    ReferenceMismatch {
        /// The REF allele as written in the VCF.
        expected: String,
        /// The genome's bases at the same place (upper case).
        found: String,
    },
    /// The source has no contig of the variant's CHROM.
    UnknownContig,
    /// The REF allele is longer than the window, or the ALT allele would run past the window's end.
    TooLong,
    /// The REF allele does not lie wholly inside the contig (POS 0, or past the contig's end).
    OutsideContig {
        /// The contig's length.
        contig_length: u64,
    },
}

impl SkipReason {
    /// A short stable name, for counting skips (`symbolic_allele`, `reference_mismatch`, ...).
    pub fn key(&self) -> &'static str {
        match self {
            SkipReason::SymbolicAllele => "symbolic_allele",
            SkipReason::ReferenceMismatch { .. } => "reference_mismatch",
            SkipReason::UnknownContig => "unknown_contig",
            SkipReason::TooLong => "too_long",
            SkipReason::OutsideContig { .. } => "outside_contig",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::SymbolicAllele => write!(f, "the ALT allele is symbolic, a breakend or missing"),
            SkipReason::ReferenceMismatch { expected, found } => {
                write!(f, "REF '{expected}' does not match the genome's '{found}'")
            }
            SkipReason::UnknownContig => write!(f, "the reference has no such contig"),
            SkipReason::TooLong => write!(f, "an allele does not fit in the window"),
            SkipReason::OutsideContig { contig_length } => {
                write!(f, "the REF allele is not inside the contig (length {contig_length})")
            }
        }
    }
}

/// True when REF bases `expected` match genome bases `found`: same length, and each pair equal
/// ignoring case, or the genome's base unknown (`N` or another ambiguity code). A REF `N` over a
/// genome A, C, G or T is a mismatch: the VCF claims not to know a base the genome has.
fn bases_match(expected: &[u8], found: &[u8]) -> bool {
    expected.len() == found.len()
        && expected.iter().zip(found).all(|(&e, &g)| {
            e.eq_ignore_ascii_case(&g)
                || matches!(
                    g.to_ascii_uppercase(),
                    b'N' | b'R' | b'Y' | b'S' | b'W' | b'K' | b'M' | b'B' | b'D' | b'H' | b'V'
                )
        })
}

/// The contig's length, or why the REF allele cannot be looked up there.
fn reference_span(source: &dyn SequenceSource, v: &Variant) -> Result<u64, SkipReason> {
    let contig_length = source.contig_length(&v.chrom).ok_or(SkipReason::UnknownContig)?;
    if v.pos == 0 || (v.pos - 1).saturating_add(v.reference.len() as u64) > contig_length {
        return Err(SkipReason::OutsideContig { contig_length });
    }
    Ok(contig_length)
}

/// Check that the genome's bases at `[pos - 1, pos - 1 + len(REF))` equal the REF allele.
///
/// The comparison ignores case, and a genome `N` matches any REF base (an unknown base is no
/// evidence that the VCF was made on another assembly), but a REF `N` over a genome A, C, G or T
/// is a mismatch. A REF that is not wholly inside the contig is [`SkipReason::OutsideContig`]. The ALT is not looked
/// at (a symbolic ALT still has a checkable REF).
pub fn check_reference(source: &dyn SequenceSource, v: &Variant) -> Result<(), SkipReason> {
    reference_span(source, v)?;
    let start = v.start();
    let end = start + v.reference.len() as i64;
    let found = source.fetch(&v.chrom, start, end).map_err(|_| SkipReason::UnknownContig)?;
    if bases_match(v.reference.as_bytes(), &found) {
        Ok(())
    } else {
        Err(SkipReason::ReferenceMismatch {
            expected: v.reference.clone(),
            found: String::from_utf8_lossy(&found).into_owned(),
        })
    }
}

/// The reference and alternative sequence windows around one variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantWindows {
    /// The genome's bases of `[start, start + length)`, upper case.
    pub reference: Vec<u8>,
    /// The left flank, the ALT allele (upper case), then the genome after the REF allele, `length` bases.
    pub alternative: Vec<u8>,
    /// The 0-based genome coordinate of the reference window's first base (negative near a contig's start).
    pub start: i64,
    /// The index in both windows of the first base of the REF and ALT alleles.
    pub offset: usize,
}

/// The reference and alternative windows of `length` bases around `v`.
///
/// # Centring rule
///
/// With `c = length / 2` (so the centre is the right-hand of the two middle positions when
/// `length` is even) and `r`, `a` the REF and ALT lengths:
///
/// - The REF allele is centred in the reference window: its base at index `r / 2` sits at
///   window index `c`, so the allele starts at `offset = c - r / 2`, and the reference window
///   is the genome's `[pos - 1 - offset, pos - 1 - offset + length)`. An SNV sits at index `c`.
/// - The alternative window has the same left flank (the `offset` genome bases before POS),
///   then the ALT allele, then the genome bases that follow the REF allele, as many as needed
///   to make it exactly `length` long. A deletion thus pulls in extra bases on the right; an
///   insertion pushes bases out on the right. Both windows start at the same genome coordinate.
/// - VCF-style alleles with a shared leading base (REF=`AT` ALT=`A`) need no special case: the
///   shared base is part of the left of both alleles.
///
/// Positions outside the contig are `N`. The REF allele must match the genome as in
/// [`check_reference`] (the reference window holds the genome's bases, never the VCF's).
///
/// # Skips
///
/// In this order: [`SkipReason::SymbolicAllele`], [`SkipReason::UnknownContig`],
/// [`SkipReason::TooLong`] when `r > length` or the ALT would run past the window's end
/// (`offset + a > length`), [`SkipReason::OutsideContig`], [`SkipReason::ReferenceMismatch`].
pub fn variant_windows(source: &dyn SequenceSource, v: &Variant, length: usize) -> Result<VariantWindows, SkipReason> {
    if v.is_symbolic() {
        return Err(SkipReason::SymbolicAllele);
    }
    if source.contig_length(&v.chrom).is_none() {
        return Err(SkipReason::UnknownContig);
    }
    let (r, a) = (v.reference.len(), v.alternative.len());
    let centre = length / 2;
    if r > length {
        return Err(SkipReason::TooLong);
    }
    let offset = centre - r / 2;
    if offset + a > length {
        return Err(SkipReason::TooLong);
    }
    reference_span(source, v)?;
    let start = v.start() - offset as i64;
    // One fetch covers the reference window and, for deletions, the extra right flank.
    let span_length = length + r.saturating_sub(a);
    let mut span = source.fetch(&v.chrom, start, start + span_length as i64).map_err(|_| SkipReason::UnknownContig)?;
    if span.len() != span_length {
        // A source that breaks its contract is treated like one without the contig.
        return Err(SkipReason::UnknownContig);
    }
    let found = &span[offset..offset + r];
    if !bases_match(v.reference.as_bytes(), found) {
        return Err(SkipReason::ReferenceMismatch {
            expected: v.reference.clone(),
            found: String::from_utf8_lossy(found).into_owned(),
        });
    }
    let mut alternative = Vec::with_capacity(length);
    alternative.extend_from_slice(&span[..offset]);
    alternative.extend(v.alternative.bytes().map(|b| b.to_ascii_uppercase()));
    let right = offset + r;
    alternative.extend_from_slice(&span[right..right + (length - offset - a)]);
    span.truncate(length);
    Ok(VariantWindows { reference: span, alternative, start, offset })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InMemorySource;

    /// A contig whose letters name their positions: `A` is 0-based 0, `T` is 19.
    fn letters() -> InMemorySource {
        InMemorySource::new(vec![
            ("chrL".to_owned(), b"ABCDEFGHIJKLMNOPQRST".to_vec()),
            ("chrD".to_owned(), b"acgtACGTnnACGTTTGCAA".to_vec()),
        ])
    }

    /// A variant at 1-based `pos` on `chrom`.
    fn variant(chrom: &str, pos: u64, reference: &str, alternative: &str) -> Variant {
        Variant {
            chrom: chrom.to_owned(),
            pos,
            id: ".".to_owned(),
            reference: reference.to_owned(),
            alternative: alternative.to_owned(),
            alt_index: 0,
            alt_count: 1,
            line: 1,
            record: 0,
            raw: Vec::new(),
        }
    }

    /// The windows as strings.
    fn windows(v: &Variant, length: usize) -> Result<(String, String, i64, usize), SkipReason> {
        let w = variant_windows(&letters(), v, length)?;
        assert_eq!(w.reference.len(), length);
        assert_eq!(w.alternative.len(), length);
        Ok((
            String::from_utf8_lossy(&w.reference).into_owned(),
            String::from_utf8_lossy(&w.alternative).into_owned(),
            w.start,
            w.offset,
        ))
    }

    #[test]
    fn reference_check() {
        let source = letters();
        assert_eq!(check_reference(&source, &variant("chrL", 3, "C", "A")), Ok(()));
        assert_eq!(check_reference(&source, &variant("chrL", 3, "cde", "A")), Ok(()));
        assert_eq!(
            check_reference(&source, &variant("chrL", 3, "CDX", "A")),
            Err(SkipReason::ReferenceMismatch { expected: "CDX".to_owned(), found: "CDE".to_owned() })
        );
        // The genome is lower case here; N on either side matches anything.
        assert_eq!(check_reference(&source, &variant("chrD", 1, "ACGT", "A")), Ok(()));
        assert_eq!(check_reference(&source, &variant("chrD", 9, "GT", "A")), Ok(()));
        // A REF N over a real base is a mismatch; a REF base over the genome's N is not.
        assert_eq!(
            check_reference(&source, &variant("chrD", 1, "ANGT", "A")),
            Err(SkipReason::ReferenceMismatch { expected: "ANGT".to_owned(), found: "ACGT".to_owned() })
        );
        assert_eq!(check_reference(&source, &variant("chrD", 9, "NN", "A")), Ok(()));
        assert_eq!(check_reference(&source, &variant("chrD", 9, "AC", "A")), Ok(()));
        assert_eq!(
            check_reference(&source, &variant("chrD", 1, "T", "A")),
            Err(SkipReason::ReferenceMismatch { expected: "T".to_owned(), found: "A".to_owned() })
        );
        assert_eq!(check_reference(&source, &variant("chrX", 1, "A", "C")), Err(SkipReason::UnknownContig));
        assert_eq!(check_reference(&source, &variant("chrL", 20, "T", "C")), Ok(()));
        assert_eq!(
            check_reference(&source, &variant("chrL", 20, "TN", "C")),
            Err(SkipReason::OutsideContig { contig_length: 20 })
        );
        assert_eq!(
            check_reference(&source, &variant("chrL", 0, "A", "C")),
            Err(SkipReason::OutsideContig { contig_length: 20 })
        );
    }

    #[test]
    fn snv_windows_differ_only_at_the_centre() -> Result<(), SkipReason> {
        let source = InMemorySource::new(vec![("chr1".to_owned(), b"ACGTTGCAACGTAAGGCCTTacgtNNNNACGT".to_vec())]);
        for length in [1, 2, 5, 8, 11] {
            for pos in 1..=32u64 {
                let base = source.fetch("chr1", pos as i64 - 1, pos as i64).map_err(|_| SkipReason::UnknownContig)?;
                let reference = String::from_utf8_lossy(&base).into_owned();
                let v = variant("chr1", pos, &reference, if reference == "T" { "G" } else { "T" });
                let w = variant_windows(&source, &v, length)?;
                let centre = length / 2;
                assert_eq!((w.reference.len(), w.alternative.len(), w.offset), (length, length, centre));
                assert_eq!(w.reference[centre], base[0]);
                assert_eq!(w.alternative[centre], v.alternative.as_bytes()[0]);
                let differing: Vec<usize> = (0..length).filter(|&i| w.reference[i] != w.alternative[i]).collect();
                assert_eq!(differing, [centre], "pos {pos} length {length}");
                assert_eq!(w.start, pos as i64 - 1 - centre as i64);
                let expected =
                    source.fetch("chr1", w.start, w.start + length as i64).map_err(|_| SkipReason::UnknownContig)?;
                assert_eq!(w.reference, expected);
            }
        }
        Ok(())
    }

    #[test]
    fn snv_near_contig_ends_is_padded_with_n() -> Result<(), SkipReason> {
        assert_eq!(windows(&variant("chrL", 2, "B", "x"), 8)?, ("NNNABCDE".into(), "NNNAXCDE".into(), -3, 4));
        assert_eq!(windows(&variant("chrL", 20, "T", "A"), 8)?, ("PQRSTNNN".into(), "PQRSANNN".into(), 15, 4));
        assert_eq!(windows(&variant("chrL", 10, "J", "Z"), 7)?, ("GHIJKLM".into(), "GHIZKLM".into(), 6, 3));
        Ok(())
    }

    #[test]
    fn deletion_pulls_in_right_flank() -> Result<(), SkipReason> {
        // REF HIJ (POS 8) centred: its middle base I at index 4; ALT H keeps the left flank.
        assert_eq!(windows(&variant("chrL", 8, "HIJ", "H"), 8)?, ("EFGHIJKL".into(), "EFGHKLMN".into(), 4, 3));
        // VCF-style padded deletion of one base.
        assert_eq!(windows(&variant("chrL", 8, "HI", "H"), 8)?, ("EFGHIJKL".into(), "EFGHJKLM".into(), 4, 3));
        // A deletion near the end pulls in N padding.
        assert_eq!(windows(&variant("chrL", 17, "QRST", "Q"), 8)?, ("OPQRSTNN".into(), "OPQNNNNN".into(), 14, 2));
        Ok(())
    }

    #[test]
    fn insertion_pushes_out_right_flank() -> Result<(), SkipReason> {
        assert_eq!(windows(&variant("chrL", 8, "H", "HXYZ"), 10)?, ("CDEFGHIJKL".into(), "CDEFGHXYZI".into(), 2, 5));
        assert_eq!(windows(&variant("chrL", 8, "H", "HXYZ"), 8)?, ("DEFGHIJK".into(), "DEFGHXYZ".into(), 3, 4));
        // MNV: same length, both windows differ over the allele only.
        assert_eq!(windows(&variant("chrL", 8, "HI", "XY"), 6)?, ("FGHIJK".into(), "FGXYJK".into(), 5, 2));
        // An insertion at the contig's start.
        assert_eq!(windows(&variant("chrL", 1, "A", "AX"), 6)?, ("NNNABC".into(), "NNNAXB".into(), -3, 3));
        Ok(())
    }

    #[test]
    fn skips() {
        let source = letters();
        let skip = |v: Variant, length| variant_windows(&source, &v, length).err();
        for alt in ["<DEL>", "*", ".", "A[chrL:5["] {
            assert_eq!(skip(variant("chrL", 3, "C", alt), 8), Some(SkipReason::SymbolicAllele), "{alt}");
        }
        assert_eq!(skip(variant("chrX", 3, "C", "A"), 8), Some(SkipReason::UnknownContig));
        assert_eq!(skip(variant("chrL", 1, "ABCDEFGHI", "A"), 8), Some(SkipReason::TooLong));
        assert_eq!(skip(variant("chrL", 1, "ABCDEFGH", "A"), 8), None);
        // The ALT starts at index 4 of 8, so 4 bases fit and 5 do not.
        assert_eq!(skip(variant("chrL", 5, "E", "EXYZ"), 8), None);
        assert_eq!(skip(variant("chrL", 5, "E", "EWXYZ"), 8), Some(SkipReason::TooLong));
        assert_eq!(skip(variant("chrL", 5, "E", "X"), 0), Some(SkipReason::TooLong));
        assert_eq!(skip(variant("chrL", 5, "E", "X"), 1), None);
        assert_eq!(skip(variant("chrL", 20, "TU", "T"), 8), Some(SkipReason::OutsideContig { contig_length: 20 }));
        assert_eq!(
            skip(variant("chrL", 5, "F", "A"), 8),
            Some(SkipReason::ReferenceMismatch { expected: "F".to_owned(), found: "E".to_owned() })
        );
    }

    #[test]
    fn skip_reason_names() {
        assert_eq!(SkipReason::TooLong.key(), "too_long");
        let mismatch = SkipReason::ReferenceMismatch { expected: "A".to_owned(), found: "C".to_owned() };
        assert_eq!(mismatch.key(), "reference_mismatch");
        assert!(mismatch.to_string().contains("'A'") && mismatch.to_string().contains("'C'"));
    }
}
