//! Records read from omix inputs.

/// Where in a file a sequence's bases lie, to turn a base position into line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    /// 1-based line of the first base.
    pub line: u64,
    /// 1-based column of the first base on that line.
    pub column: u64,
    /// Bases per line for wrapped FASTA; 0 = all on one line.
    pub line_width: u64,
}

impl Location {
    /// The 1-based (line, column) of the base at 0-based `offset` in the sequence.
    ///
    /// With wrapping, the first line holds `line_width` bases from `column` on and
    /// every later line holds `line_width` bases from column 1.
    pub fn position(&self, offset: usize) -> (u64, u64) {
        let offset = offset as u64;
        if self.line_width == 0 {
            return (self.line, self.column.saturating_add(offset));
        }
        let row = offset / self.line_width;
        let within = offset % self.line_width;
        if row == 0 {
            (self.line, self.column.saturating_add(within))
        } else {
            (self.line.saturating_add(row), 1 + within)
        }
    }
}

/// One sequence with its id and where its bases lie in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceRecord {
    /// The record id (FASTA: first word of the header; line files: `line{N}`).
    pub id: String,
    /// The bases, exactly as written (no case folding or validation).
    pub sequence: Vec<u8>,
    /// Where the bases lie in the file.
    pub location: Location,
}

/// One label with the id of the record it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRecord {
    /// The record id the label belongs to.
    pub id: String,
    /// The label text, trimmed.
    pub label: String,
    /// The 1-based line the label was read from.
    pub line: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_on_one_line() {
        let loc = Location { line: 4, column: 3, line_width: 0 };
        assert_eq!(loc.position(0), (4, 3));
        assert_eq!(loc.position(10), (4, 13));
    }

    #[test]
    fn position_wrapped() {
        let loc = Location { line: 2, column: 1, line_width: 4 };
        assert_eq!(loc.position(0), (2, 1));
        assert_eq!(loc.position(3), (2, 4));
        assert_eq!(loc.position(4), (3, 1));
        assert_eq!(loc.position(9), (4, 2));
    }
}
