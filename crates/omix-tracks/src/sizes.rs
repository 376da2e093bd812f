//! Contig names and lengths a track is laid out on: from the reference, a chrom sizes file, or a BAM
//! header.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use omix_genome::Reference;

use crate::TrackError;

/// Contig names and lengths, in the order of their source, with where they came from (for errors).
#[derive(Debug, Clone)]
pub struct ChromSizes {
    names: Vec<String>,
    lengths: Vec<u64>,
    index: HashMap<String, usize>,
    source: PathBuf,
}

impl ChromSizes {
    /// Contigs from `(name, length)` pairs read from `source`; a repeated name is refused.
    pub fn new(source: &Path, contigs: impl IntoIterator<Item = (String, u64)>) -> Result<ChromSizes, TrackError> {
        let mut sizes =
            ChromSizes { names: Vec::new(), lengths: Vec::new(), index: HashMap::new(), source: source.to_path_buf() };
        for (name, length) in contigs {
            if sizes.index.insert(name.clone(), sizes.names.len()).is_some() {
                return Err(TrackError::Contigs {
                    path: source.to_path_buf(),
                    message: format!("contig {name} is listed twice"),
                });
            }
            sizes.names.push(name);
            sizes.lengths.push(length);
        }
        Ok(sizes)
    }

    /// The contigs of an opened reference FASTA.
    pub fn of_reference(reference: &Reference) -> ChromSizes {
        // A reference's index never repeats a name (the FASTA index is checked when opened).
        let names: Vec<String> = reference.contigs().iter().map(|c| c.name.clone()).collect();
        ChromSizes {
            index: names.iter().enumerate().map(|(i, name)| (name.clone(), i)).collect(),
            lengths: reference.contigs().iter().map(|c| c.length).collect(),
            names,
            source: reference.path().to_path_buf(),
        }
    }

    /// A UCSC chrom sizes file: `name<TAB>length` per line (further columns are refused).
    pub fn read(path: &Path) -> Result<ChromSizes, TrackError> {
        let reader = omix_io::open(path)?;
        let mut contigs = Vec::new();
        for (number, line) in reader.lines().enumerate() {
            let line_number = number as u64 + 1;
            let line = line.map_err(|e| TrackError::io(path, e))?;
            let bad = |message: String| TrackError::Line { path: path.to_path_buf(), line: line_number, message };
            if line.trim().is_empty() {
                return Err(bad("empty line; each line must be `name<TAB>length`".into()));
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() != 2 {
                return Err(bad(format!("expected 2 tab-separated fields (name, length), found {}", fields.len())));
            }
            let length: u64 = fields[1]
                .trim()
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| bad(format!("length {:?} is not a positive whole number", fields[1])))?;
            contigs.push((fields[0].to_owned(), length));
        }
        if contigs.is_empty() {
            return Err(TrackError::Empty {
                path: path.to_path_buf(),
                message: "the chrom sizes file lists no contigs".into(),
            });
        }
        ChromSizes::new(path, contigs)
    }

    /// The file the sizes came from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The position of contig `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The name of contig `index`.
    pub fn name(&self, index: usize) -> &str {
        &self.names[index]
    }

    /// The length of contig `index`.
    pub fn length(&self, index: usize) -> u64 {
        self.lengths[index]
    }

    /// How many contigs there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// `(name, length)` in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.names.iter().map(String::as_str).zip(self.lengths.iter().copied())
    }

    /// Check contigs read from `path` (a BAM header, a bigWig) against these: every name must be here
    /// with the same length. `allow_missing` lets names absent here pass (their data is then dropped and
    /// counted by the caller); a different length never passes — it is another assembly.
    pub fn check<'a>(
        &self,
        path: &Path,
        what: &str,
        contigs: impl IntoIterator<Item = (&'a str, u64)>,
        allow_missing: bool,
    ) -> Result<(), TrackError> {
        let mut missing = Vec::new();
        for (name, length) in contigs {
            match self.index_of(name) {
                None => missing.push(name.to_owned()),
                Some(index) if self.lengths[index] != length => {
                    return Err(TrackError::Contigs {
                        path: path.to_path_buf(),
                        message: format!(
                            "{what} gives contig {name} a length of {length} bp but {} says {} bp: the files \
                             come from different genome assemblies",
                            self.source.display(),
                            self.lengths[index]
                        ),
                    });
                }
                Some(_) => {}
            }
        }
        if missing.is_empty() || allow_missing {
            return Ok(());
        }
        let listed: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
        let known: Vec<&str> = self.names.iter().take(10).map(String::as_str).collect();
        Err(TrackError::Contigs {
            path: path.to_path_buf(),
            message: format!(
                "{} contig(s) of {what} are not in {}: {}{} (it has {}{}){}; use the reference the reads \
                 were aligned to, or pass --allow-missing-contigs to drop their reads (they are counted)",
                missing.len(),
                self.source.display(),
                listed.join(", "),
                if missing.len() > listed.len() { ", ..." } else { "" },
                known.join(", "),
                if self.names.len() > known.len() { ", ..." } else { "" },
                prefix_hint(&missing, &self.names),
            ),
        })
    }
}

/// A hint when a `chr` prefix is the whole difference.
fn prefix_hint(missing: &[String], names: &[String]) -> String {
    let known: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    let with = missing.iter().filter(|m| known.contains(format!("chr{m}").as_str())).count();
    let without = missing.iter().filter(|m| m.strip_prefix("chr").is_some_and(|s| known.contains(s))).count();
    if with > 0 && with * 2 >= missing.len() {
        "; adding a 'chr' prefix would match them".into()
    } else if without > 0 && without * 2 >= missing.len() {
        "; stripping the 'chr' prefix would match them".into()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_sizes_file_and_checks_names() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("g.sizes");
        std::fs::write(&path, "chr1\t1000\nchr2\t500\n")?;
        let sizes = ChromSizes::read(&path)?;
        assert_eq!(sizes.len(), 2);
        assert_eq!(sizes.index_of("chr2"), Some(1));
        sizes.check(&path, "x", [("chr1", 1000)], false)?;
        let e =
            sizes.check(&path, "the BAM header", [("1", 1000)], false).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("adding a 'chr' prefix"), "{e}");
        let e = sizes
            .check(&path, "the BAM header", [("chr1", 999)], false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("different genome assemblies"), "{e}");
        std::fs::write(&path, "chr1\t1000\nchr1\t500\n")?;
        assert!(ChromSizes::read(&path).err().map(|e| e.to_string()).unwrap_or_default().contains("listed twice"));
        std::fs::write(&path, "chr1 1000\n")?;
        assert!(ChromSizes::read(&path).err().map(|e| e.to_string()).unwrap_or_default().contains(":1: expected 2"));
        Ok(())
    }
}
