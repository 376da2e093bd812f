//! Error type of the crate.

/// Errors raised while encoding or fitting a sequence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A byte that the alphabet does not allow; `position` is 0-based.
    #[error("invalid symbol {} at position {position}", show_byte(*.symbol))]
    InvalidSymbol {
        /// 0-based position of the offending byte in the sequence.
        position: usize,
        /// The offending byte.
        symbol: u8,
    },
    /// The sequence length differs from the required one.
    #[error("sequence length {found} differs from the expected {expected}")]
    LengthMismatch {
        /// Required length.
        expected: usize,
        /// Actual sequence length.
        found: usize,
    },
    /// The output buffer has the wrong number of elements.
    #[error("output buffer length {found} but {expected} needed")]
    BufferSize {
        /// Required buffer length (channels × sequence length).
        expected: usize,
        /// Actual buffer length.
        found: usize,
    },
}

/// Quote a byte, escaping anything that is not printable ASCII (`'\xff'`, `'\n'`).
fn show_byte(byte: u8) -> String {
    format!("'{}'", byte.escape_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_escape_non_printable_bytes() {
        let err = EncodeError::InvalidSymbol { position: 3, symbol: b'-' };
        assert_eq!(err.to_string(), "invalid symbol '-' at position 3");
        let err = EncodeError::InvalidSymbol { position: 0, symbol: 0xff };
        assert_eq!(err.to_string(), r"invalid symbol '\xff' at position 0");
        let err = EncodeError::InvalidSymbol { position: 9, symbol: b'\n' };
        assert_eq!(err.to_string(), r"invalid symbol '\n' at position 9");
        let err = EncodeError::LengthMismatch { expected: 4, found: 5 };
        assert_eq!(err.to_string(), "sequence length 5 differs from the expected 4");
    }
}
