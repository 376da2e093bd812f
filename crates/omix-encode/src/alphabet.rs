//! Alphabets, ambiguity handling and the 256-entry symbol lookup tables.

/// A biological sequence alphabet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Alphabet {
    /// DNA: channels A, C, G, T (U is accepted as T).
    Dna,
    /// RNA: channels A, C, G, U (T is accepted as U).
    Rna,
    /// Protein: the 20 standard amino acids in alphabetical one-letter order.
    Protein,
}

impl std::fmt::Display for Alphabet {
    /// The name in messages: DNA, RNA or protein.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Dna => "DNA",
            Self::Rna => "RNA",
            Self::Protein => "protein",
        })
    }
}

impl Alphabet {
    /// Number of one-hot channels: 4 for DNA and RNA, 20 for protein.
    pub fn size(self) -> usize {
        self.symbols().len()
    }

    /// The canonical upper-case symbols, in channel order.
    pub fn symbols(self) -> &'static [u8] {
        match self {
            Self::Dna => b"ACGT",
            Self::Rna => b"ACGU",
            Self::Protein => PROTEIN_SYMBOLS,
        }
    }

    /// Symbol used to pad sequences: `N` for DNA/RNA, `X` for protein.
    pub fn padding_symbol(self) -> u8 {
        match self {
            Self::Dna | Self::Rna => b'N',
            Self::Protein => b'X',
        }
    }

    /// Byte → channel of each unambiguous symbol (either case; `T` and `U` are one channel for
    /// DNA and RNA alike), [`NOT_A_SYMBOL`] for every other byte (ambiguity codes such as `N`
    /// included): a 256-entry table, so that a sequence is read with one load per base.
    ///
    /// ```
    /// use omix_encode::{Alphabet, NOT_A_SYMBOL};
    ///
    /// let codes = Alphabet::Dna.codes();
    /// assert_eq!([b'A', b'c', b'G', b't', b'U'].map(|b| codes[usize::from(b)]), [0, 1, 2, 3, 3]);
    /// assert_eq!(codes[usize::from(b'N')], NOT_A_SYMBOL);
    /// ```
    pub fn codes(self) -> &'static [u8; 256] {
        &self.table().code
    }

    /// The lookup table shared by every encoder of this alphabet.
    pub(crate) fn table(self) -> &'static SymbolTable {
        match self {
            // DNA and RNA share channel order A, C, G, T/U, so they share a table.
            Self::Dna | Self::Rna => &NUCLEOTIDE_TABLE,
            Self::Protein => &PROTEIN_TABLE,
        }
    }
}

/// How ambiguity codes (N and the other IUPAC codes; protein X, B, Z, J) are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ambiguity {
    /// An all-zero column.
    #[default]
    Zero,
    /// Uniform weight over the symbols the code allows (N → 0.25 each, R → A and G 0.5 each).
    Uniform,
}

const PROTEIN_SYMBOLS: &[u8] = b"ACDEFGHIKLMNPQRSTVWY";

/// Table entry of a byte that the alphabet rejects.
pub(crate) const INVALID: u8 = 0xff;
/// The [`Alphabet::codes`] entry of a byte that is not an unambiguous symbol of the alphabet.
pub const NOT_A_SYMBOL: u8 = INVALID;
/// Table entry of an ambiguity code (see [`SymbolTable::mask`]).
pub(crate) const AMBIGUOUS: u8 = 0xfe;

/// Per-byte lookup tables of an alphabet (rust-bio style: one load per base).
pub(crate) struct SymbolTable {
    /// Channel index of an unambiguous symbol, [`AMBIGUOUS`] or [`INVALID`].
    pub(crate) index: [u8; 256],
    /// Channel index of an unambiguous symbol, [`NOT_A_SYMBOL`] otherwise ([`Alphabet::codes`]).
    pub(crate) code: [u8; 256],
    /// Bit mask of the channels a symbol allows (0 for invalid bytes).
    pub(crate) mask: [u32; 256],
    /// 1 / number of allowed channels (0 for invalid bytes).
    pub(crate) weight: [f32; 256],
}

impl SymbolTable {
    /// Build the table from `(upper-case symbol, channel mask)` pairs; lower case is added.
    const fn build(entries: &[(u8, u32)]) -> Self {
        let mut table = Self { index: [INVALID; 256], code: [NOT_A_SYMBOL; 256], mask: [0; 256], weight: [0.0; 256] };
        let mut k = 0;
        while k < entries.len() {
            let (symbol, mask) = entries[k];
            let index = if mask.count_ones() == 1 { mask.trailing_zeros() as u8 } else { AMBIGUOUS };
            let weight = 1.0 / mask.count_ones() as f32;
            let cases = [symbol.to_ascii_uppercase(), symbol.to_ascii_lowercase()];
            let mut c = 0;
            while c < cases.len() {
                let b = cases[c] as usize;
                table.index[b] = index;
                table.code[b] = if index == AMBIGUOUS { NOT_A_SYMBOL } else { index };
                table.mask[b] = mask;
                table.weight[b] = weight;
                c += 1;
            }
            k += 1;
        }
        table
    }
}

const A: u32 = 1;
const C: u32 = 1 << 1;
const G: u32 = 1 << 2;
const T: u32 = 1 << 3;

/// IUPAC nucleotide codes; T and U both map to the fourth channel.
const NUCLEOTIDE_ENTRIES: [(u8, u32); 16] = [
    (b'A', A),
    (b'C', C),
    (b'G', G),
    (b'T', T),
    (b'U', T),
    (b'R', A | G),
    (b'Y', C | T),
    (b'S', C | G),
    (b'W', A | T),
    (b'K', G | T),
    (b'M', A | C),
    (b'B', C | G | T),
    (b'D', A | G | T),
    (b'H', A | C | T),
    (b'V', A | C | G),
    (b'N', A | C | G | T),
];

/// Channel bit of a standard amino acid (panics at compile time on a typo).
const fn aa(symbol: u8) -> u32 {
    let mut i = 0;
    while i < PROTEIN_SYMBOLS.len() {
        if PROTEIN_SYMBOLS[i] == symbol {
            return 1 << i;
        }
        i += 1;
    }
    panic!("not a standard amino acid")
}

const fn protein_entries() -> [(u8, u32); 24] {
    let mut entries = [(0u8, 0u32); 24];
    let mut i = 0;
    while i < PROTEIN_SYMBOLS.len() {
        entries[i] = (PROTEIN_SYMBOLS[i], 1 << i);
        i += 1;
    }
    entries[20] = (b'X', (1 << PROTEIN_SYMBOLS.len()) - 1);
    entries[21] = (b'B', aa(b'D') | aa(b'N'));
    entries[22] = (b'Z', aa(b'E') | aa(b'Q'));
    entries[23] = (b'J', aa(b'I') | aa(b'L'));
    entries
}

static NUCLEOTIDE_TABLE: SymbolTable = SymbolTable::build(&NUCLEOTIDE_ENTRIES);
static PROTEIN_TABLE: SymbolTable = SymbolTable::build(&protein_entries());

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Alphabet; 3] = [Alphabet::Dna, Alphabet::Rna, Alphabet::Protein];

    #[test]
    fn messages_name_alphabets_in_words() {
        assert_eq!(ALL.map(|alphabet| alphabet.to_string()), ["DNA", "RNA", "protein"]);
    }

    #[test]
    fn sizes_and_symbols_agree() {
        for alphabet in ALL {
            assert_eq!(alphabet.size(), alphabet.symbols().len());
            let table = alphabet.table();
            for (channel, &symbol) in alphabet.symbols().iter().enumerate() {
                assert_eq!(table.index[usize::from(symbol)] as usize, channel);
                assert_eq!(table.index[usize::from(symbol.to_ascii_lowercase())] as usize, channel);
            }
            let pad = usize::from(alphabet.padding_symbol());
            assert_eq!(table.index[pad], AMBIGUOUS);
            assert_eq!(table.mask[pad].count_ones() as usize, alphabet.size());
        }
        assert_eq!((Alphabet::Dna.size(), Alphabet::Protein.size()), (4, 20));
    }

    #[test]
    fn codes_are_the_unambiguous_channels() {
        for alphabet in ALL {
            let table = alphabet.table();
            for byte in 0..=255u8 {
                let b = usize::from(byte);
                let expected = if table.index[b] == AMBIGUOUS { NOT_A_SYMBOL } else { table.index[b] };
                assert_eq!(alphabet.codes()[b], expected, "{alphabet:?} {byte}");
            }
            let letters = alphabet.codes().iter().filter(|&&c| c != NOT_A_SYMBOL).count();
            // Both cases of each symbol, and U/u beside T/t for DNA and RNA.
            assert_eq!(letters, 2 * alphabet.size() + if alphabet == Alphabet::Protein { 0 } else { 2 });
        }
        assert_eq!(Alphabet::Rna.codes()[usize::from(b'T')], 3);
        assert_eq!(Alphabet::Protein.codes()[usize::from(b'X')], NOT_A_SYMBOL);
    }

    #[test]
    fn ambiguity_masks() {
        let nt = Alphabet::Dna.table();
        assert_eq!(nt.mask[usize::from(b'r')], A | G);
        assert_eq!(nt.weight[usize::from(b'R')], 0.5);
        assert_eq!(nt.weight[usize::from(b'B')], 1.0 / 3.0);
        let aa_table = Alphabet::Protein.table();
        assert_eq!(aa_table.mask[usize::from(b'Z')], aa(b'E') | aa(b'Q'));
        assert_eq!(aa_table.weight[usize::from(b'x')], 0.05);
        for invalid in [b'-', b'*', b'.', b' ', b'1', b'O', b'U', 0xc3] {
            assert_eq!(aa_table.index[usize::from(invalid)], INVALID);
        }
    }

    #[test]
    fn serde_names_are_lowercase() -> Result<(), serde_json::Error> {
        assert_eq!(serde_json::to_string(&Alphabet::Protein)?, "\"protein\"");
        assert_eq!(serde_json::from_str::<Alphabet>("\"rna\"")?, Alphabet::Rna);
        assert_eq!(serde_json::to_string(&Ambiguity::Uniform)?, "\"uniform\"");
        assert_eq!(Ambiguity::default(), Ambiguity::Zero);
        Ok(())
    }
}
