//! The search space of `omix tune`: which config keys to vary and over which values, searched by
//! grid or by seeded random draws. Each trial is a list of [`Setting`]s applied over the experiment
//! file exactly as `--set KEY=VALUE` applies them, so a trial is the experiment a user would get by
//! typing those settings.
//!
//! ```toml
//! method = "random"          # or "grid" (every combination)
//! trials = 8                 # random: how many draws
//! seed = 1                   # random: the draws' seed
//! metric = "auroc"           # the validation metric that picks the best trial (default by task)
//! [parameters]
//! "train.learning_rate" = [0.001, 0.003, 0.01]
//! "train.batch_size" = [32, 64]
//! "model.dense" = [[32], [64]]
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::{ConfigError, Setting};

/// How trials are drawn from the space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchMethod {
    /// Every combination of the values, in key order (the last key varies fastest).
    Grid,
    /// `trials` combinations drawn independently and uniformly, seeded (repeats are dropped).
    Random,
}

/// Grids larger than this are refused (a typo in a list should not start thousands of runs).
pub const MAX_TRIALS: usize = 10_000;

/// A search space file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSpace {
    /// Grid or random search.
    pub method: SearchMethod,
    /// Random search: how many trials.
    #[serde(default)]
    pub trials: Option<usize>,
    /// Random search: the seed of the draws.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The validation metric that picks the best trial (default: AUROC for classifiers, Pearson r
    /// for regression).
    #[serde(default)]
    pub metric: Option<String>,
    /// Config keys (`table.key`, as `--set` takes them) and the values each may take.
    pub parameters: BTreeMap<String, Vec<toml::Value>>,
}

fn default_seed() -> u64 {
    1
}

impl SearchSpace {
    /// Read and check a search space file; errors name the file (and line and column where TOML
    /// says).
    pub fn load(path: &Path) -> Result<SearchSpace, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        let space: SearchSpace = toml::from_str(&text).map_err(|error| crate::plan::toml_error(path, &text, &error))?;
        space.check().map_err(|message| ConfigError::File { location: path.display().to_string(), message })?;
        Ok(space)
    }

    /// Every rule a space must follow, as one message.
    pub fn check(&self) -> Result<(), String> {
        if self.parameters.is_empty() {
            return Err("[parameters] lists no config key to vary".into());
        }
        for (key, values) in &self.parameters {
            if values.is_empty() {
                return Err(format!("parameter {key:?} lists no value"));
            }
            if key.split('.').any(|part| part.trim().is_empty()) {
                return Err(format!("parameter {key:?}: write table.key, e.g. \"train.learning_rate\""));
            }
        }
        match (self.method, self.trials) {
            (SearchMethod::Random, None | Some(0)) => Err("method = \"random\" needs trials = N (N >= 1)".into()),
            (SearchMethod::Grid, Some(_)) => {
                Err("trials is for method = \"random\"; a grid runs every combination".into())
            }
            (SearchMethod::Grid, None) if self.grid_size() > MAX_TRIALS => Err(format!(
                "the grid has {} combinations, more than {MAX_TRIALS}; use method = \"random\" with trials",
                self.grid_size()
            )),
            (SearchMethod::Random, Some(n)) if n > MAX_TRIALS => Err(format!("trials = {n} is more than {MAX_TRIALS}")),
            _ => Ok(()),
        }
    }

    fn grid_size(&self) -> usize {
        self.parameters.values().map(Vec::len).fold(1usize, |a, b| a.saturating_mul(b))
    }

    /// The trials, in order: each the value index chosen for every parameter (key order).
    fn choices(&self) -> Vec<Vec<usize>> {
        let sizes: Vec<usize> = self.parameters.values().map(Vec::len).collect();
        match self.method {
            SearchMethod::Grid => {
                let mut all = vec![Vec::new()];
                for &size in &sizes {
                    all = all
                        .into_iter()
                        .flat_map(|prefix| (0..size).map(move |i| [prefix.clone(), vec![i]].concat()))
                        .collect();
                }
                all
            }
            SearchMethod::Random => {
                let wanted = self.trials.unwrap_or(0).min(self.grid_size());
                let mut state = self.seed ^ 0x5eed_7a9e;
                let mut draw = |n: usize| -> usize {
                    // splitmix64: the same draws on every machine.
                    state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                    let mut z = state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                    ((z ^ (z >> 31)) % n as u64) as usize
                };
                let mut trials: Vec<Vec<usize>> = Vec::with_capacity(wanted);
                // Repeats are drawn again; the space holds at least `wanted` combinations.
                while trials.len() < wanted {
                    let choice: Vec<usize> = sizes.iter().map(|&n| draw(n)).collect();
                    if !trials.contains(&choice) {
                        trials.push(choice);
                    }
                }
                trials
            }
        }
    }

    /// The trials, each a list of settings to apply over the experiment file.
    pub fn trials(&self) -> Vec<Vec<Setting>> {
        self.choices()
            .into_iter()
            .map(|choice| {
                self.parameters
                    .iter()
                    .zip(choice)
                    .map(|((key, values), index)| {
                        let value = values[index].clone();
                        Setting {
                            key: key.split('.').map(|part| part.trim().to_string()).collect(),
                            argument: format!("{key}={}", inline(&value)),
                            value,
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// A TOML value written inline (`0.003`, `"max"`, `[32, 16]`).
pub fn inline(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => format!("{text:?}"),
        toml::Value::Array(items) => format!("[{}]", items.iter().map(inline).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(text: &str) -> Result<SearchSpace, String> {
        let space: SearchSpace = toml::from_str(text).map_err(|e| e.to_string())?;
        space.check()?;
        Ok(space)
    }

    #[test]
    fn a_grid_is_every_combination_in_key_order() -> Result<(), String> {
        let grid = space(
            "method = \"grid\"\n[parameters]\n\"train.learning_rate\" = [0.001, 0.01]\n\"model.dense\" = [[32], [64, 8], []]\n",
        )?;
        let trials = grid.trials();
        assert_eq!(trials.len(), 6);
        let arguments: Vec<Vec<String>> =
            trials.iter().map(|t| t.iter().map(|s| s.argument.clone()).collect()).collect();
        assert_eq!(arguments[0], vec!["model.dense=[32]", "train.learning_rate=0.001"]);
        assert_eq!(arguments[1], vec!["model.dense=[32]", "train.learning_rate=0.01"]);
        assert_eq!(arguments[3], vec!["model.dense=[64, 8]", "train.learning_rate=0.01"]);
        assert_eq!(trials[0][1].key, vec!["train", "learning_rate"]);
        Ok(())
    }

    #[test]
    fn random_draws_are_seeded_and_distinct() -> Result<(), String> {
        let text = "method = \"random\"\ntrials = 5\nseed = 3\n[parameters]\n\"train.batch_size\" = [16, 32, 64]\n\
                    \"train.learning_rate\" = [0.001, 0.003, 0.01]\n";
        let a = space(text)?.trials();
        let b = space(text)?.trials();
        assert_eq!(a.len(), 5);
        let key = |t: &Vec<Setting>| t.iter().map(|s| s.argument.clone()).collect::<Vec<_>>();
        assert_eq!(a.iter().map(key).collect::<Vec<_>>(), b.iter().map(key).collect::<Vec<_>>());
        let mut distinct: Vec<Vec<String>> = a.iter().map(key).collect();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 5);
        let other = space(&text.replace("seed = 3", "seed = 4"))?.trials();
        assert_ne!(a.iter().map(key).collect::<Vec<_>>(), other.iter().map(key).collect::<Vec<_>>());
        // More trials than combinations: every combination once.
        assert_eq!(space(&text.replace("trials = 5", "trials = 50"))?.trials().len(), 9);
        Ok(())
    }

    #[test]
    fn bad_spaces_say_what_is_wrong() {
        let error = |text: &str| space(text).err().unwrap_or_default();
        assert!(error("method = \"random\"\n[parameters]\n\"train.epochs\" = [1]\n").contains("needs trials"));
        assert!(error("method = \"grid\"\n[parameters]\n\"train.epochs\" = []\n").contains("lists no value"));
        assert!(error("method = \"grid\"\n[parameters]\n").contains("no config key"));
        assert!(
            error("method = \"grid\"\ntrials = 3\n[parameters]\n\"a.b\" = [1]\n").contains("for method = \"random\"")
        );
        assert!(error("method = \"sweep\"\n[parameters]\n\"a.b\" = [1]\n").contains("sweep"));
        assert!(error("method = \"grid\"\n[parameters]\n\"a..b\" = [1]\n").contains("table.key"));
        let big: String = (0..5)
            .map(|i| format!("\"t.k{i}\" = [{}]\n", (0..10).map(|v| v.to_string()).collect::<Vec<_>>().join(", ")))
            .collect();
        assert!(error(&format!("method = \"grid\"\n[parameters]\n{big}")).contains("100000 combinations"));
    }
}
