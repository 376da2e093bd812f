//! Fitting sequences to a fixed model input length.

use std::borrow::Cow;

use crate::alphabet::Alphabet;
use crate::error::EncodeError;

/// What to do with a sequence whose length differs from the model input length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LengthPolicy {
    /// Reject it with [`EncodeError::LengthMismatch`].
    Refuse,
    /// Crop the centre, or pad both sides with the alphabet's padding symbol: `"center"` in
    /// configs (`"centercroppad"`, the name earlier versions wrote, is read too).
    #[serde(rename = "center", alias = "centercroppad")]
    CenterCropPad,
}

/// Fit `sequence` to `length` according to `policy`.
///
/// An equal length (and a centre crop) borrows the input. `CenterCropPad` keeps the
/// centre when cropping (the extra base is dropped from the right when the excess is
/// odd) and pads both sides with [`Alphabet::padding_symbol`] (the extra one on the
/// right). `Refuse` returns [`EncodeError::LengthMismatch`] on any difference.
pub fn fit_length<'a>(
    sequence: &'a [u8],
    length: usize,
    policy: LengthPolicy,
    alphabet: Alphabet,
) -> Result<Cow<'a, [u8]>, EncodeError> {
    let found = sequence.len();
    if found == length {
        return Ok(Cow::Borrowed(sequence));
    }
    match policy {
        LengthPolicy::Refuse => Err(EncodeError::LengthMismatch { expected: length, found }),
        LengthPolicy::CenterCropPad if found > length => {
            let start = (found - length) / 2;
            Ok(Cow::Borrowed(&sequence[start..start + length]))
        }
        LengthPolicy::CenterCropPad => {
            let left = (length - found) / 2;
            let right = length - found - left;
            let pad = alphabet.padding_symbol();
            let mut out = Vec::with_capacity(length);
            out.resize(left, pad);
            out.extend_from_slice(sequence);
            out.resize(left + found + right, pad);
            Ok(Cow::Owned(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), EncodeError>;

    #[test]
    fn equal_length_borrows() -> TestResult {
        let fitted = fit_length(b"ACGT", 4, LengthPolicy::Refuse, Alphabet::Dna)?;
        assert!(matches!(fitted, Cow::Borrowed(b"ACGT")));
        Ok(())
    }

    #[test]
    fn refuse_reports_lengths() {
        assert_eq!(
            fit_length(b"ACGTA", 4, LengthPolicy::Refuse, Alphabet::Dna),
            Err(EncodeError::LengthMismatch { expected: 4, found: 5 })
        );
    }

    #[test]
    fn crop_keeps_centre_and_drops_extra_right() -> TestResult {
        let policy = LengthPolicy::CenterCropPad;
        assert_eq!(&*fit_length(b"0123456789", 4, policy, Alphabet::Dna)?, b"3456");
        assert_eq!(&*fit_length(b"012345678", 4, policy, Alphabet::Dna)?, b"2345");
        assert_eq!(&*fit_length(b"ACGT", 0, policy, Alphabet::Dna)?, b"");
        Ok(())
    }

    #[test]
    fn pad_extra_goes_right() -> TestResult {
        let policy = LengthPolicy::CenterCropPad;
        assert_eq!(&*fit_length(b"AC", 5, policy, Alphabet::Dna)?, b"NACNN");
        assert_eq!(&*fit_length(b"MK", 4, policy, Alphabet::Protein)?, b"XMKX");
        assert_eq!(&*fit_length(b"", 3, policy, Alphabet::Rna)?, b"NNN");
        Ok(())
    }
}
