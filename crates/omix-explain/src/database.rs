//! The motif database filters are compared with: MEME files, the built-in JASPAR 2024, or both.

use std::path::{Path, PathBuf};

use omix_motif::MotifSet;

use crate::ExplainError;

/// The motif database: MEME files (`jaspar` for the built-in one) combined, or the built-in
/// JASPAR 2024 alone; with the label outputs name it by.
pub fn motif_database(paths: &[PathBuf]) -> Result<(MotifSet, String), ExplainError> {
    let jaspar = || {
        let set = omix_motif::jaspar2024();
        let label = format!("JASPAR 2024 CORE vertebrates non-redundant ({} motifs)", set.motifs.len());
        (set, label)
    };
    let mut combined: Option<MotifSet> = None;
    let mut labels = Vec::new();
    for path in paths {
        let (set, label) = if path.as_os_str() == "jaspar" {
            jaspar()
        } else {
            let set = omix_motif::read_meme(path)?;
            let label = format!("{} ({} motifs)", path.display(), set.motifs.len());
            (set, label)
        };
        labels.push(label);
        match &mut combined {
            None => combined = Some(set),
            Some(all) => {
                if all.alphabet_letters.len() != set.alphabet_letters.len() {
                    return Err(mismatch(path, &set, all));
                }
                all.motifs.extend(set.motifs);
            }
        }
    }
    Ok(match combined {
        Some(set) => (set, labels.join(" + ")),
        None => jaspar(),
    })
}

fn mismatch(path: &Path, set: &MotifSet, all: &MotifSet) -> ExplainError {
    ExplainError::Database {
        path: path.to_path_buf(),
        message: format!(
            "alphabet {} does not match the other motif databases' {}",
            set.alphabet_letters, all.alphabet_letters
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_file_is_the_built_in_jaspar() -> Result<(), ExplainError> {
        let (set, label) = motif_database(&[])?;
        assert!(label.starts_with("JASPAR 2024"));
        let (twice, label) = motif_database(&[PathBuf::from("jaspar"), PathBuf::from("jaspar")])?;
        assert_eq!(twice.motifs.len(), 2 * set.motifs.len());
        assert!(label.contains(" + "));
        Ok(())
    }

    #[test]
    fn a_missing_file_is_named() {
        let error = motif_database(&[PathBuf::from("no-such-motifs.meme")]).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("no-such-motifs.meme")));
    }
}
