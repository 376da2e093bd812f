//! One-hot encoding through the per-byte lookup tables.

use std::fmt;

use crate::alphabet::{AMBIGUOUS, Alphabet, Ambiguity, SymbolTable};
use crate::error::EncodeError;

/// Channel-major one-hot encoder for one alphabet and ambiguity policy.
#[derive(Clone)]
pub struct Encoder {
    alphabet: Alphabet,
    ambiguity: Ambiguity,
    table: &'static SymbolTable,
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder")
            .field("alphabet", &self.alphabet)
            .field("ambiguity", &self.ambiguity)
            .finish_non_exhaustive()
    }
}

impl Encoder {
    /// Encoder for `alphabet`, encoding ambiguity codes according to `ambiguity`.
    pub fn new(alphabet: Alphabet, ambiguity: Ambiguity) -> Self {
        Self { alphabet, ambiguity, table: alphabet.table() }
    }

    /// The alphabet this encoder was built for.
    pub fn alphabet(&self) -> Alphabet {
        self.alphabet
    }

    /// The ambiguity policy this encoder was built with.
    pub fn ambiguity(&self) -> Ambiguity {
        self.ambiguity
    }

    /// Position (0-based) and byte of the first symbol not allowed by the alphabet, if any.
    pub fn first_invalid(&self, sequence: &[u8]) -> Option<(usize, u8)> {
        sequence
            .iter()
            .position(|&b| self.table.mask[usize::from(b)] == 0)
            .map(|position| (position, sequence[position]))
    }

    /// Channel-major one-hot `[channels, len]` into `out` (`out[c * len + i]`).
    ///
    /// `out.len()` must equal `alphabet.size() * sequence.len()`. Every element of `out`
    /// is overwritten. On [`EncodeError::InvalidSymbol`] the content of `out` is unspecified.
    pub fn encode_into(&self, sequence: &[u8], out: &mut [f32]) -> Result<(), EncodeError> {
        let len = sequence.len();
        let expected = self.alphabet.size() * len;
        if out.len() != expected {
            return Err(EncodeError::BufferSize { expected, found: out.len() });
        }
        out.fill(0.0);
        let table = self.table;
        let uniform = self.ambiguity == Ambiguity::Uniform;
        for (i, &symbol) in sequence.iter().enumerate() {
            let b = usize::from(symbol);
            let index = table.index[b];
            if index < AMBIGUOUS {
                out[usize::from(index) * len + i] = 1.0;
            } else if index == AMBIGUOUS {
                if uniform {
                    let weight = table.weight[b];
                    let mut mask = table.mask[b];
                    while mask != 0 {
                        let channel = mask.trailing_zeros() as usize;
                        out[channel * len + i] = weight;
                        mask &= mask - 1;
                    }
                }
            } else {
                return Err(EncodeError::InvalidSymbol { position: i, symbol });
            }
        }
        Ok(())
    }

    /// The sequence a channel-major one-hot `[channels, len]` encodes: at each position the
    /// channel above 0.5, else the alphabet's padding symbol (N for DNA and RNA, so all-zero
    /// columns and ambiguity codes encoded uniformly read as N).
    pub fn decode(&self, one_hot: &[f32], len: usize) -> Vec<u8> {
        let symbols = self.alphabet.symbols();
        (0..len)
            .map(|i| {
                (0..symbols.len())
                    .find(|&channel| one_hot.get(channel * len + i).is_some_and(|&value| value > 0.5))
                    .map_or_else(|| self.alphabet.padding_symbol(), |channel| symbols[channel])
            })
            .collect()
    }

    /// Channel-major one-hot `[channels, len]` as a new vector.
    pub fn encode(&self, sequence: &[u8]) -> Result<Vec<f32>, EncodeError> {
        let mut out = vec![0.0; self.alphabet.size() * sequence.len()];
        self.encode_into(sequence, &mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn decode_reads_back_what_encode_wrote() -> TestResult {
        for ambiguity in [Ambiguity::Zero, Ambiguity::Uniform] {
            let encoder = Encoder::new(Alphabet::Dna, ambiguity);
            assert_eq!(encoder.decode(&encoder.encode(b"ACgtNRA")?, 7), b"ACGTNNA");
        }
        let protein = Encoder::new(Alphabet::Protein, Ambiguity::Zero);
        assert_eq!(protein.decode(&protein.encode(b"MKW")?, 3), b"MKW");
        Ok(())
    }

    #[test]
    fn dna_one_hot_is_channel_major() -> TestResult {
        let encoder = Encoder::new(Alphabet::Dna, Ambiguity::Zero);
        let out = encoder.encode(b"ACGTu")?;
        #[rustfmt::skip]
        let expected = [
            1.0, 0.0, 0.0, 0.0, 0.0,
            0.0, 1.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 1.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 1.0, 1.0,
        ];
        assert_eq!(out, expected);
        Ok(())
    }

    #[test]
    fn ambiguity_policies() -> TestResult {
        let zero = Encoder::new(Alphabet::Dna, Ambiguity::Zero).encode(b"NR")?;
        assert_eq!(zero, [0.0; 8]);
        let uniform = Encoder::new(Alphabet::Rna, Ambiguity::Uniform).encode(b"nR")?;
        assert_eq!(uniform, [0.25, 0.5, 0.25, 0.0, 0.25, 0.5, 0.25, 0.0]);
        let protein = Encoder::new(Alphabet::Protein, Ambiguity::Uniform);
        let out = protein.encode(b"X")?;
        assert_eq!(out, [0.05; 20]);
        let out = protein.encode(b"b")?;
        let d = Alphabet::Protein.symbols().iter().position(|&s| s == b'D');
        let n = Alphabet::Protein.symbols().iter().position(|&s| s == b'N');
        for (channel, &value) in out.iter().enumerate() {
            let want = if Some(channel) == d || Some(channel) == n { 0.5 } else { 0.0 };
            assert_eq!(value, want);
        }
        Ok(())
    }

    #[test]
    fn rna_accepts_t_and_dna_accepts_u() -> TestResult {
        let dna = Encoder::new(Alphabet::Dna, Ambiguity::Zero);
        let rna = Encoder::new(Alphabet::Rna, Ambiguity::Zero);
        assert_eq!(dna.encode(b"ACGU")?, rna.encode(b"ACGT")?);
        Ok(())
    }

    #[test]
    fn invalid_symbols_are_reported() {
        let encoder = Encoder::new(Alphabet::Dna, Ambiguity::Uniform);
        assert_eq!(encoder.first_invalid(b"ACGTNacgtn"), None);
        assert_eq!(encoder.first_invalid(b"AC-T*"), Some((2, b'-')));
        assert_eq!(encoder.encode(b"ACG T"), Err(EncodeError::InvalidSymbol { position: 3, symbol: b' ' }));
        assert_eq!(encoder.encode("ACÉ".as_bytes()), Err(EncodeError::InvalidSymbol { position: 2, symbol: 0xc3 }));
        let protein = Encoder::new(Alphabet::Protein, Ambiguity::Zero);
        assert_eq!(protein.first_invalid(b"MKV*"), Some((3, b'*')));
        assert_eq!(protein.first_invalid(b"mkvxbzj"), None);
    }

    #[test]
    fn buffer_size_is_checked() {
        let encoder = Encoder::new(Alphabet::Dna, Ambiguity::Zero);
        let mut out = [0.0; 7];
        assert_eq!(encoder.encode_into(b"AC", &mut out), Err(EncodeError::BufferSize { expected: 8, found: 7 }));
        assert_eq!(encoder.encode(b""), Ok(Vec::new()));
    }

    #[test]
    fn encode_into_overwrites_stale_values() -> TestResult {
        let encoder = Encoder::new(Alphabet::Dna, Ambiguity::Zero);
        let mut out = [9.0; 8];
        encoder.encode_into(b"GN", &mut out)?;
        assert_eq!(out, [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        assert_eq!(encoder.alphabet(), Alphabet::Dna);
        assert!(format!("{encoder:?}").contains("Dna"));
        Ok(())
    }
}
