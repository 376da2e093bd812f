//! Splitting windows into train, validation and test sets by chromosome.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{GenomeError, Reference, Window};

/// The part of a data set a window belongs to.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum SplitName {
    /// Used to fit the model.
    Train,
    /// Used to choose the epoch and settings.
    Validation,
    /// Held out until the end.
    Test,
}

impl SplitName {
    /// `"train"`, `"validation"` or `"test"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SplitName::Train => "train",
            SplitName::Validation => "validation",
            SplitName::Test => "test",
        }
    }
}

impl std::fmt::Display for SplitName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which contigs are held out for validation and for test; every other contig is for training.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ChromosomeSplit {
    /// Contigs whose windows are validation windows.
    pub validation: Vec<String>,
    /// Contigs whose windows are test windows.
    pub test: Vec<String>,
}

impl ChromosomeSplit {
    /// A split holding out `validation` and `test`, checked with [`ChromosomeSplit::check`].
    pub fn new(validation: Vec<String>, test: Vec<String>) -> Result<ChromosomeSplit, GenomeError> {
        let split = ChromosomeSplit { validation, test };
        split.check()?;
        Ok(split)
    }

    /// The Selene-like default for human-like contig names: validation chr6 and chr7, test chr8 and chr9
    /// (6, 7 and 8, 9 when the reference names contigs without `chr`). `None` when the reference lacks
    /// any of them: then the contigs have to be named.
    pub fn default_for(reference: &Reference) -> Option<ChromosomeSplit> {
        ["chr", ""].into_iter().find_map(|prefix| {
            let name = |n: u32| format!("{prefix}{n}");
            let split = ChromosomeSplit { validation: vec![name(6), name(7)], test: vec![name(8), name(9)] };
            split.validation.iter().chain(&split.test).all(|c| reference.has_contig(c)).then_some(split)
        })
    }

    /// Check that no contig is held out twice (in both lists, or twice in one).
    pub fn check(&self) -> Result<(), GenomeError> {
        let mut seen: HashMap<&str, SplitName> = HashMap::new();
        for (split, contigs) in [(SplitName::Validation, &self.validation), (SplitName::Test, &self.test)] {
            for contig in contigs {
                if let Some(first) = seen.insert(contig, split) {
                    let where_listed = if first == split {
                        format!("twice in {split}")
                    } else {
                        format!("in both {first} and {split}")
                    };
                    return Err(GenomeError::SplitOverlap { contig: contig.clone(), where_listed });
                }
            }
        }
        Ok(())
    }

    /// [`ChromosomeSplit::check`], and that every held-out contig is in the reference.
    pub fn check_against(&self, reference: &Reference, source: &std::path::Path) -> Result<(), GenomeError> {
        self.check()?;
        crate::check_contigs(source, self.validation.iter().chain(&self.test).map(String::as_str), reference)
    }

    /// The split of windows on `chrom` (validation wins for a contig wrongly listed in both; see
    /// [`ChromosomeSplit::check`]).
    pub fn split_of(&self, chrom: &str) -> SplitName {
        if self.validation.iter().any(|c| c == chrom) {
            SplitName::Validation
        } else if self.test.iter().any(|c| c == chrom) {
            SplitName::Test
        } else {
            SplitName::Train
        }
    }
}

/// The index pairs `(i, j)`, `i < j`, of windows in different splits that overlap, sorted.
///
/// A chromosome split makes this empty, unless windows were assigned by other means; it checks that no
/// bases leak from one split into another.
pub fn cross_split_overlaps(windows: &[(Window, SplitName)]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..windows.len()).filter(|&i| !windows[i].0.is_empty()).collect();
    order.sort_unstable_by(|&a, &b| {
        let (wa, wb) = (&windows[a].0, &windows[b].0);
        (&wa.chrom, wa.start).cmp(&(&wb.chrom, wb.start))
    });
    let mut pairs = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        let (window, split) = &windows[i];
        // Later windows in the order start at or after this one; they overlap it while they start before its end.
        for &j in &order[k + 1..] {
            let (other, other_split) = &windows[j];
            if other.chrom != window.chrom || other.start >= window.end {
                break;
            }
            if split != other_split {
                pairs.push((i.min(j), i.max(j)));
            }
        }
    }
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn split_of_and_check() -> Result<(), Box<dyn std::error::Error>> {
        let split = ChromosomeSplit::new(names(&["chr6", "chr7"]), names(&["chr8"]))?;
        assert_eq!(split.split_of("chr6"), SplitName::Validation);
        assert_eq!(split.split_of("chr8"), SplitName::Test);
        assert_eq!(split.split_of("chr1"), SplitName::Train);
        assert_eq!(SplitName::Validation.to_string(), "validation");

        let Err(e) = ChromosomeSplit::new(names(&["chr6", "chr7"]), names(&["chr8", "chr7"])) else {
            return Err("a contig in both lists must be an error".into());
        };
        let text = e.to_string();
        assert!(text.contains("'chr7'") && text.contains("both validation and test"), "{text}");
        let Err(e) = ChromosomeSplit::new(names(&["chr6", "chr6"]), vec![]) else {
            return Err("a contig listed twice must be an error".into());
        };
        assert!(e.to_string().contains("twice in validation"), "{e}");
        Ok(())
    }

    #[test]
    fn finds_planted_cross_split_overlaps() {
        let w = |chrom: &str, start: i64, end: i64| Window::new(chrom, start, end);
        let windows = vec![
            (w("chr1", 0, 100), SplitName::Train),
            (w("chr1", 50, 150), SplitName::Train), // overlaps 0, same split
            (w("chr1", 140, 200), SplitName::Test), // overlaps 1: planted
            (w("chr2", 0, 100), SplitName::Validation),
            (w("chr1", 300, 400), SplitName::Validation),
            (w("chr2", 99, 100), SplitName::Train), // overlaps 3: planted
            (w("chr2", 100, 200), SplitName::Test), // touches 3, no overlap
            (w("chr1", 0, 1000), SplitName::Train), // overlaps 2 and 4: planted
        ];
        assert_eq!(cross_split_overlaps(&windows), vec![(1, 2), (2, 7), (3, 5), (4, 7)]);
        let clean: Vec<(Window, SplitName)> = windows.into_iter().filter(|(_, s)| *s == SplitName::Train).collect();
        assert!(cross_split_overlaps(&clean).is_empty());
    }
}
