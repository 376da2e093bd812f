//! The `[baseline]` table: which simple model "simple first" fits beside a classifier.

use omix_features::GkmConfig;
use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// Which simple model is fitted beside a sequence classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineKind {
    /// Fit both where both apply (DNA/RNA sequence classifiers) and keep the one with the better
    /// validation metric; otherwise the k-mer model.
    #[default]
    Auto,
    /// Logistic regression on k-mer counts (5-mers for DNA/RNA, 2-mers for protein).
    Kmer,
    /// Logistic regression on gapped k-mer counts (the gkm-SVM kernel's features).
    Gkm,
}

impl BaselineKind {
    /// The name in a config file.
    pub fn name(self) -> &'static str {
        match self {
            BaselineKind::Auto => "auto",
            BaselineKind::Kmer => "kmer",
            BaselineKind::Gkm => "gkm",
        }
    }
}

/// The `[baseline]` table (`[train] baseline = false` turns the baseline off altogether).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BaselineConfig {
    /// "auto" (default), "kmer" or "gkm".
    pub kind: BaselineKind,
    /// Gapped k-mer length, wildcards included (lsgkm's `-l`); default 11.
    pub l: usize,
    /// Informative positions of a gapped k-mer (lsgkm's `-k`); default 7.
    pub k: usize,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        let gkm = GkmConfig::default();
        BaselineConfig { kind: BaselineKind::Auto, l: gkm.l, k: gkm.k }
    }
}

impl BaselineConfig {
    /// The gapped k-mer settings.
    pub fn gkm(&self) -> GkmConfig {
        GkmConfig { l: self.l, k: self.k }
    }

    /// True when nothing differs from the defaults (the table is then not written out).
    pub fn is_default(&self) -> bool {
        *self == BaselineConfig::default()
    }

    /// Check the gapped k-mer sizes (k ≤ l, k ≤ 8, l ≤ 32, a feature space that fits).
    pub fn check(&self) -> Result<(), ConfigError> {
        self.gkm().check().map_err(|error| ConfigError::Invalid {
            field: if self.k > self.l || self.k == 0 || self.k > omix_features::MAX_GKM_K {
                "baseline.k"
            } else {
                "baseline.l"
            },
            message: error.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExperimentConfig;

    fn parse(table: &str) -> Result<ExperimentConfig, Box<dyn std::error::Error>> {
        Ok(ExperimentConfig::from_toml(&format!("[data]\ninput = \"s.txt\"\nlabels = \"l.txt\"\n{table}"))?)
    }

    #[test]
    fn defaults_and_choices() -> Result<(), Box<dyn std::error::Error>> {
        let config = parse("")?;
        assert_eq!(config.baseline, BaselineConfig { kind: BaselineKind::Auto, l: 11, k: 7 });
        // The default table is not written out, so resolved configs stay as they were.
        assert!(!toml::to_string(&config)?.contains("[baseline]"));
        let config = parse("[baseline]\nkind = \"gkm\"\nl = 10\nk = 6\n")?;
        assert_eq!(config.baseline, BaselineConfig { kind: BaselineKind::Gkm, l: 10, k: 6 });
        config.check()?;
        assert!(toml::to_string(&config)?.contains("[baseline]"));
        assert!(parse("[baseline]\nkind = \"svm\"\n").is_err());
        assert!(parse("[baseline]\ngap = 2\n").is_err());
        Ok(())
    }

    #[test]
    fn sizes_are_checked_with_the_field_named() -> Result<(), Box<dyn std::error::Error>> {
        let message = |table: &str| -> Result<String, Box<dyn std::error::Error>> {
            Ok(parse(table)?.check().err().map(|e| e.to_string()).unwrap_or_default())
        };
        let error = message("[baseline]\nl = 5\nk = 7\n")?;
        assert!(error.starts_with("[baseline] k: ") && error.contains("at most l"), "{error}");
        let error = message("[baseline]\nk = 0\n")?;
        assert!(error.starts_with("[baseline] k: ") && error.contains("1 to 8"), "{error}");
        let error = message("[baseline]\nl = 33\nk = 2\n")?;
        assert!(error.starts_with("[baseline] l: ") && error.contains("at most 32"), "{error}");
        let error = message("[baseline]\nl = 24\nk = 8\n")?;
        assert!(error.starts_with("[baseline] l: ") && error.contains("smaller l or k"), "{error}");
        Ok(())
    }
}
