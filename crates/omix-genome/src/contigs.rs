//! Checking that an interval or variant file names the same contigs as the reference.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::error::ContigMismatch;
use crate::{BedRecord, GenomeError, Reference};

/// How many names an error lists.
const LISTED: usize = 10;

/// Every contig name used by `source` (a BED or VCF file) must be a reference contig.
///
/// The error lists the missing names (the first 10, in order of first use), the reference's names (the
/// first 10), and a hint when adding or stripping a `chr` prefix, renaming the mitochondrion
/// (`chrM` ↔ `MT`) or changing case would make them match.
pub fn check_contigs<'a>(
    source: &Path,
    names: impl IntoIterator<Item = &'a str>,
    reference: &Reference,
) -> Result<(), GenomeError> {
    let mut seen = HashSet::new();
    let mut missing = Vec::new();
    for name in names {
        if !reference.has_contig(name) && seen.insert(name) {
            missing.push(name);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(GenomeError::ContigMismatch(Box::new(ContigMismatch {
        source_path: source.to_path_buf(),
        reference: reference.path().to_path_buf(),
        missing: missing.iter().take(LISTED).map(|&n| n.to_owned()).collect(),
        missing_total: missing.len(),
        reference_names: reference.contigs().iter().take(LISTED).map(|c| c.name.clone()).collect(),
        reference_total: reference.contigs().len(),
        hint: renaming_hint(&missing, reference),
    })))
}

/// Every interval of the BED file `source` must lie on a reference contig ([`check_contigs`]) and end at or
/// before the contig's end: an interval past it would only read `N` (its error names the file, line and the
/// contig's length).
pub fn check_intervals(source: &Path, records: &[BedRecord], reference: &Reference) -> Result<(), GenomeError> {
    check_contigs(source, records.iter().map(|r| r.chrom.as_str()), reference)?;
    for record in records {
        let length = reference.contig_length(&record.chrom).unwrap_or(0);
        if record.end > length {
            return Err(GenomeError::OutsideContig {
                path: source.to_path_buf(),
                line: record.line,
                chrom: record.chrom.clone(),
                start: record.start,
                end: record.end,
                length,
                reference: reference.path().to_path_buf(),
            });
        }
    }
    Ok(())
}

/// A way of renaming contigs that could explain a mismatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Renaming {
    AddChr,
    StripChr,
    Mitochondrion,
    Case,
}

impl Renaming {
    /// What the renaming does, for the hint.
    fn describe(self) -> &'static str {
        match self {
            Renaming::AddChr => "adding a 'chr' prefix",
            Renaming::StripChr => "stripping the 'chr' prefix",
            Renaming::Mitochondrion => "renaming the mitochondrion",
            Renaming::Case => "changing case",
        }
    }
}

/// The names the mitochondrial genome goes by.
const MITOCHONDRION: [&str; 4] = ["chrM", "MT", "chrMT", "M"];

/// The reference name that `name` would match under one renaming, if any.
fn renamed(name: &str, reference: &Reference, lower_case: &HashMap<String, &str>) -> Option<(Renaming, String)> {
    let mut candidates: Vec<(Renaming, String)> = Vec::new();
    if let Some(stripped) = name.strip_prefix("chr") {
        candidates.push((Renaming::StripChr, stripped.to_owned()));
        if stripped == "M" {
            candidates.push((Renaming::StripChr, "MT".to_owned()));
        }
    } else {
        candidates.push((Renaming::AddChr, format!("chr{name}")));
        if name == "MT" {
            candidates.push((Renaming::AddChr, "chrM".to_owned()));
        }
    }
    if MITOCHONDRION.contains(&name) {
        candidates.extend(MITOCHONDRION.iter().map(|m| (Renaming::Mitochondrion, (*m).to_owned())));
    }
    if let Some(&other) = lower_case.get(&name.to_ascii_lowercase()) {
        candidates.push((Renaming::Case, other.to_owned()));
    }
    candidates.into_iter().find(|(_, candidate)| candidate != name && reference.has_contig(candidate))
}

/// A hint naming the renaming(s) that would make missing names match, with examples.
fn renaming_hint(missing: &[&str], reference: &Reference) -> Option<String> {
    let lower_case: HashMap<String, &str> =
        reference.contigs().iter().map(|c| (c.name.to_ascii_lowercase(), c.name.as_str())).collect();
    let mut by_renaming: std::collections::BTreeMap<Renaming, Vec<(&str, String)>> = Default::default();
    for &name in missing {
        if let Some((renaming, target)) = renamed(name, reference, &lower_case) {
            by_renaming.entry(renaming).or_default().push((name, target));
        }
    }
    if by_renaming.is_empty() {
        return None;
    }
    let parts: Vec<String> = by_renaming
        .iter()
        .map(|(renaming, pairs)| {
            let examples: Vec<String> = pairs.iter().take(3).map(|(from, to)| format!("'{from}' -> '{to}'")).collect();
            format!(
                "{} of the {} missing names match after {} ({})",
                pairs.len(),
                missing.len(),
                renaming.describe(),
                examples.join(", ")
            )
        })
        .collect();
    Some(format!(
        "{}: the file and the reference name contigs differently; rename the contigs of one of them \
         (or use a reference that names them the same way)",
        parts.join("; ")
    ))
}
