//! Deterministic sharding of a VCF's records into contiguous blocks.

use std::ops::Range;
use std::str::FromStr;

use crate::VariantError;

/// Shard `index` of `count` (1-based, as in `--shard 3/10`): a contiguous block of records.
///
/// Shard `i` of `n` covers records `[floor(total * (i - 1) / n), floor(total * i / n))`, so the
/// blocks of shards `1..=n` partition `0..total` in order and their outputs, concatenated in
/// shard order, equal the unsharded output (write the header in shard 1 only, e.g. with the
/// writers' `resume(.., 0)` for the others, or drop the other shards' header lines when
/// concatenating). The caller counts the records first with [`count_records`](crate::count_records)
/// and can jump to its block with [`VcfReader::skip_records`](crate::VcfReader::skip_records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    /// The 1-based shard number, `1..=count`.
    pub index: usize,
    /// How many shards there are, at least 1.
    pub count: usize,
}

impl Shard {
    /// The whole input as one shard (`1/1`).
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// A shard, or an error when not `1 <= index <= count`.
    pub fn new(index: usize, count: usize) -> Result<Shard, VariantError> {
        let error = |message: String| VariantError::Shard { text: format!("{index}/{count}"), message };
        if count == 0 {
            return Err(error("the shard count must be at least 1".to_owned()));
        }
        if index == 0 {
            return Err(error("shards are numbered from 1".to_owned()));
        }
        if index > count {
            return Err(error(format!("shard {index} is past the last shard, {count}")));
        }
        Ok(Shard { index, count })
    }

    /// The 0-based record indices of this shard when the input holds `total` records.
    pub fn range(&self, total: u64) -> Range<u64> {
        let count = self.count.max(1) as u128;
        let index = self.index.clamp(1, self.count.max(1)) as u128;
        let bound = |i: u128| (u128::from(total) * i / count) as u64;
        bound(index - 1)..bound(index)
    }

    /// True when record `record` (0-based) of `total` belongs to this shard.
    pub fn contains(&self, record: u64, total: u64) -> bool {
        self.range(total).contains(&record)
    }

    /// True for the single shard `1/1`.
    pub fn is_all(&self) -> bool {
        self.count == 1
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard::ALL
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = VariantError;

    /// Parse `I/N`, e.g. `3/10`.
    fn from_str(text: &str) -> Result<Shard, VariantError> {
        let error = |message: String| VariantError::Shard { text: text.to_owned(), message };
        let (index, count) = text.trim().split_once('/').ok_or_else(|| error("no '/' between I and N".to_owned()))?;
        let number = |part: &str, what: &str| {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(error(format!("the {what} '{part}' is not a whole number")));
            }
            part.parse::<usize>().map_err(|_| error(format!("the {what} '{part}' is too large")))
        };
        let index = number(index, "shard number")?;
        let count = number(count, "shard count")?;
        Shard::new(index, count).map_err(|e| match e {
            VariantError::Shard { message, .. } => error(message),
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() -> Result<(), VariantError> {
        assert_eq!("3/10".parse::<Shard>()?, Shard { index: 3, count: 10 });
        assert_eq!(" 1/1 ".parse::<Shard>()?, Shard::ALL);
        assert_eq!(Shard::new(10, 10)?.to_string(), "10/10");
        assert!(Shard::ALL.is_all() && Shard::default().is_all());
        Ok(())
    }

    #[test]
    fn bad_shards_say_why() -> Result<(), String> {
        let cases = [
            ("0/10", "numbered from 1"),
            ("11/10", "past the last shard"),
            ("x/y", "'x' is not a whole number"),
            ("1/y", "'y' is not a whole number"),
            ("3", "no '/'"),
            ("1/0", "at least 1"),
            ("-1/3", "'-1'"),
            ("/3", "''"),
            ("1/99999999999999999999999", "too large"),
        ];
        for (text, expected) in cases {
            let Err(e) = text.parse::<Shard>() else {
                return Err(format!("'{text}' must be an error"));
            };
            let message = e.to_string();
            assert!(message.contains(&format!("'{text}'")), "{message}");
            assert!(message.contains(expected), "{text}: {message}");
            assert!(message.contains("e.g. 3/10"), "{message}");
        }
        Ok(())
    }

    #[test]
    fn ranges_partition_in_order() -> Result<(), VariantError> {
        for total in 0..50u64 {
            for count in 1..7 {
                let mut next = 0;
                for index in 1..=count {
                    let shard = Shard::new(index, count)?;
                    let range = shard.range(total);
                    assert_eq!(range.start, next, "total {total} shard {shard}");
                    assert!(range.end >= range.start);
                    // Blocks differ in size by at most one record.
                    assert!(range.end - range.start <= total.div_ceil(count as u64));
                    for record in 0..total {
                        assert_eq!(shard.contains(record, total), range.contains(&record));
                    }
                    next = range.end;
                }
                assert_eq!(next, total, "total {total} count {count}");
            }
        }
        assert_eq!(Shard::ALL.range(7), 0..7);
        assert_eq!(Shard::new(2, 3)?.range(u64::MAX).end, (u128::from(u64::MAX) * 2 / 3) as u64);
        Ok(())
    }
}
