//! Starting configs for `omix init`: each template is a few settings that differ from the
//! defaults; the file written is the whole config those settings make, as serde writes it (so
//! every default comes from the config types and cannot drift), with a comment above each key
//! from [`KEY_COMMENTS`] (a test requires a comment for every key every template writes, and
//! that every comment belongs to some key).

use crate::{ConfigError, ExperimentConfig, GraphExperimentConfig};

/// A starting config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    /// The name `omix init` takes.
    pub name: &'static str,
    /// One line for the list.
    pub summary: &'static str,
    /// The comment at the top of the file: the data it reads and how to adapt it.
    pub about: &'static str,
    /// The settings that differ from the defaults (TOML); `@DATA@/` starts each data path,
    /// replaced by where the example data is.
    settings: &'static str,
}

/// Every template, in the order `omix init` lists them.
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "classify-tsv",
        summary: "sequence classes from a TSV/CSV table with sequence and label columns (UCI splice junctions)",
        about: "Splice-junction classes (EI, IE, N) of 60-bp DNA sequences from a table with sequence and label columns.",
        settings: r#"
[data]
input = "@DATA@/splice/statlog_dna_sequences.tsv.gz"
seq_column = "sequence60"
label_column = "class"
id_column = "index"
ambiguity = "uniform"
validation_fraction = 0.1
[model]
kind = "cnn"
global_pool = "none"
dense = [64]
dense_dropout = 0.5
[[model.conv]]
filters = 64
width = 9
padding = "same"
pool = 3
[train]
epochs = 40
patience = 6
"#,
    },
    Template {
        name: "classify-fasta",
        summary: "one FASTA file per class (PUM2 RNA binding sites: bound vs unbound), a held-out test set",
        about: "RNA-binding sites of PUM2 (bound vs unbound), one FASTA file per class, with a held-out test set.",
        settings: r#"
[data]
alphabet = "rna"
classes = [
  { label = "bound", path = "@DATA@/rbp/pum2.train.positive.fasta.gz" },
  { label = "unbound", path = "@DATA@/rbp/pum2.train.negative.fasta.gz" },
]
validation_fraction = 0.1
[data.test]
classes = [
  { label = "bound", path = "@DATA@/rbp/pum2.test.positive.fasta.gz" },
  { label = "unbound", path = "@DATA@/rbp/pum2.test.negative.fasta.gz" },
]
[model]
kind = "cnn"
global_pool = "max"
dense = [32]
dense_dropout = 0.5
[[model.conv]]
filters = 128
width = 12
padding = "same"
[train]
batch_size = 64
epochs = 30
monitor = "auroc"
"#,
    },
    Template {
        name: "chip",
        summary: "ChIP-seq peaks, DeepBind style: positives only, dinucleotide-shuffled negatives, a held-out test file",
        about: "ChIP-seq peaks of GABPA (DeepBind's data): positives only, dinucleotide-shuffled negatives, a held-out\n\
                test file. The data are not shipped: fetch them with `python3 scripts/fetch-data.py deepbind` (or\n\
                `--from DIR` to copy them from a folder that holds them).",
        settings: r#"
[data]
input = "@DATA@/deepbind/GABPA_GM12878_AC.seq.gz"
seq_column = "seq"
label_column = "Bound"
id_column = "EventID"
shuffled_negatives = 1
negative_label = "0"
validation_fraction = 0.1
[data.test]
input = "@DATA@/deepbind/GABPA_GM12878_B.seq.gz"
seq_column = "seq"
label_column = "Bound"
id_column = "EventID"
[model]
kind = "cnn"
global_pool = "max"
dense = [32]
dense_dropout = 0.5
[[model.conv]]
filters = 128
width = 12
padding = "same"
[train]
batch_size = 64
epochs = 30
monitor = "auroc"
reverse_complement_augment = true
reverse_complement_average = true
"#,
    },
    Template {
        name: "genome",
        summary: "intervals (BED) on a reference genome, GC-matched background, whole chromosomes held out",
        about: "Sites (BED) on a reference genome (FASTA), a GC-matched background drawn from the genome, and whole\n\
                chromosomes held out for validation and test.",
        settings: r#"
[data]
length = 100
[data.genome]
reference = "@GENOME@/genome.fa"
classes = [{ label = "bound", path = "@GENOME@/motif_sites.bed" }]
background = 1
validation_chromosomes = ["chr1"]
test_chromosomes = ["chr2"]
out_of_bounds = "pad"
[model]
kind = "cnn"
global_pool = "max"
dense = [32]
[[model.conv]]
filters = 32
width = 12
padding = "same"
[train]
learning_rate = 0.003
epochs = 40
patience = 10
reverse_complement_augment = true
reverse_complement_average = true
"#,
    },
    Template {
        name: "regression",
        summary: "real-valued targets (two signal columns) from sequences in a table",
        about: "Real-valued targets (two signal columns) of DNA sequences in a table.",
        settings: r#"
[data]
input = "@SYNTHETIC@/regression.tsv.gz"
seq_column = "sequence"
id_column = "id"
label_columns = ["ets_signal", "sp_signal"]
task = "regression"
validation_fraction = 0.15
test_fraction = 0.15
[model]
kind = "cnn"
global_pool = "mean"
dense = [32]
[[model.conv]]
filters = 64
width = 15
padding = "same"
[train]
loss = "poisson"
learning_rate = 0.003
batch_size = 64
epochs = 40
monitor = "pearson"
patience = 6
reverse_complement_augment = true
reverse_complement_average = true
"#,
    },
    Template {
        name: "autoencoder",
        summary: "a dense autoencoder on a cells x genes expression matrix (PBMC), labels only for scoring the latent space",
        about: "A denoising autoencoder on a cells x genes expression matrix (PBMC, log-normalised); the labels only\n\
                score the latent space afterwards, training never sees them.",
        settings: r#"
[data]
format = "matrix"
input = "@DATA@/expression/X_lognorm_raw.csv.gz"
labels = "@DATA@/expression/obs_labels.csv.gz"
label_column = "bulk_labels"
validation_fraction = 0.15
test_fraction = 0.15
[features]
kind = "matrix"
[model]
kind = "autoencoder"
hidden = [64]
latent = 16
noise = 0.5
[train]
weight_decay = 0.0001
epochs = 300
patience = 25
"#,
    },
    Template {
        name: "graph",
        summary: "node classes on a graph with a GCN (protein-protein interactions, multi-label functions)",
        about: "Node classification on a graph with a graph convolutional network: protein-protein interactions,\n\
                each protein labelled with its functions.",
        settings: r#"
[graph]
edges = "@DATA@/ppi/ppi.edgelist.gz"
labels = "@DATA@/ppi/ppi_labels.txt.gz"
features = ["identity", "degree", "random_walk"]
random_walk_steps = 8
labelled_fraction = 0.5
validation_fraction = 0.1
[model]
kind = "gcn"
hidden = [256]
dropout = 0.5
[train]
learning_rate = 0.03
epochs = 500
monitor = "f1"
patience = 100
"#,
    },
];

/// The folders a template's data paths start with, relative to the repository root.
pub const DATA_FOLDERS: [(&str, &str); 3] =
    [("@DATA@", "examples/data"), ("@GENOME@", "examples/genome/data"), ("@SYNTHETIC@", "examples/synthetic")];

/// A comment for each key a template writes (`table.key`, array indexes left out).
pub const KEY_COMMENTS: &[(&str, &str)] = &[
    ("seed", "seed of the split, shuffled negatives, weight initialisation, dropout and batch order"),
    ("data", "the data"),
    ("data.format", "layout of the input: auto (detected), lines, fasta, table or matrix"),
    ("data.input", "the sequences (one per line, FASTA or a TSV/CSV table; plain or gzip), or a numeric matrix"),
    ("data.labels", "labels: one per line, or a table keyed by record id"),
    ("data.classes", "one file per class"),
    ("data.classes.label", "the class name"),
    ("data.classes.path", "its file"),
    ("data.seq_column", "table column with the sequences"),
    ("data.label_column", "table column with the labels"),
    ("data.label_columns", "table columns with one target each (multi-task or regression)"),
    ("data.id_column", "table column with record ids"),
    ("data.task", "auto (classes from the labels), regression or unsupervised"),
    ("data.alphabet", "dna, rna or protein"),
    ("data.ambiguity", "what an ambiguous base (N, IUPAC codes) becomes: error, zero or uniform"),
    ("data.length", "model input length (sequences of other lengths: see length_policy)"),
    ("data.length_policy", "sequences of another length: refuse, or center (crop the centre / pad with N)"),
    ("data.shuffled_negatives", "dinucleotide-shuffled negatives per positive (for positive-only data)"),
    ("data.negative_label", "the label the shuffled negatives get"),
    ("data.validation_fraction", "fraction of the examples held out for validation (early stopping)"),
    ("data.test_fraction", "fraction held out for the test (without a [data.test] source)"),
    ("data.stratify", "keep class proportions in each split"),
    ("data.duplicates", "sequences in two splits (or reverse complements): warn, drop or keep"),
    ("data.oversample", "oversample the smaller classes in training"),
    ("data.test", "a separate test set (same keys as the training source)"),
    ("data.test.input", "the test sequences"),
    ("data.test.seq_column", "its sequence column"),
    ("data.test.label_column", "its label column"),
    ("data.test.id_column", "its id column"),
    ("data.test.format", "its layout"),
    ("data.test.classes", "one test file per class"),
    ("data.test.classes.label", "the class name"),
    ("data.test.classes.path", "its file"),
    ("data.genome", "examples cut from a reference genome"),
    ("data.genome.reference", "the reference genome (FASTA, plain or bgzip)"),
    ("data.genome.classes", "one BED file of intervals per class"),
    ("data.genome.classes.label", "the class name"),
    ("data.genome.classes.path", "its BED file"),
    ("data.genome.background", "GC-matched background windows per positive"),
    ("data.genome.flank", "extra bases on both sides of each window"),
    ("data.genome.max_n_fraction", "background windows may have at most this fraction of N"),
    ("data.genome.validation_chromosomes", "chromosomes held out for validation"),
    ("data.genome.test_chromosomes", "chromosomes held out for the test"),
    ("data.genome.out_of_bounds", "windows past a contig end: pad (with N), drop or error"),
    ("features", "engineered features for dense networks"),
    ("features.kind", "kmer, pwm or matrix"),
    ("features.standardize", "standardise each column (mean 0, s.d. 1 on the training split)"),
    ("model", "the network"),
    (
        "model.kind",
        "cnn, primer, deepbind, deepsea, basset, deepcpg_dna, rnn, danq, dense, autoencoder, conv_autoencoder (gcn for graphs)",
    ),
    ("model.conv", "one table per convolution block"),
    ("model.conv.filters", "filters"),
    ("model.conv.width", "filter width (positions)"),
    ("model.conv.dilation", "dilation"),
    ("model.conv.pool", "max-pooling width after the block (1: none)"),
    ("model.conv.batch_norm", "batch normalisation"),
    ("model.conv.dropout", "dropout after the block"),
    ("model.conv.padding", "same (keep the length) or valid"),
    ("model.global_pool", "pool over positions after the last block: none, max or mean"),
    ("model.dense", "hidden dense layers (units each)"),
    ("model.dense_dropout", "dropout before each dense layer"),
    ("model.hidden", "hidden layers (units each)"),
    ("model.latent", "latent dimensions"),
    ("model.noise", "input dropout of the denoising autoencoder"),
    ("model.dropout", "dropout"),
    ("train", "training"),
    ("train.optimizer", "adam, adamw or sgd"),
    ("train.learning_rate", "initial learning rate"),
    ("train.weight_decay", "L2 penalty (adam, sgd) or decoupled weight decay (adamw)"),
    ("train.momentum", "SGD momentum"),
    ("train.batch_size", "examples per batch"),
    ("train.epochs", "maximum epochs"),
    ("train.monitor", "what picks the best epoch and stops early: loss, accuracy, auroc, auprc, mcc, f1, pearson, ..."),
    ("train.patience", "stop after this many epochs without improvement (0: never stop early)"),
    ("train.min_delta", "smallest change that counts as an improvement"),
    ("train.restore_best", "keep the weights of the best epoch"),
    ("train.threshold", "probability threshold of the positive class"),
    ("train.reverse_complement_augment", "train on a random strand of each example (DNA/RNA)"),
    ("train.reverse_complement_average", "predict the mean of both strands (DNA/RNA)"),
    ("train.loader_workers", "threads building batches while the model trains (results do not depend on it)"),
    ("train.loader_depth", "batches each loader thread may have ready"),
    ("train.engine", "auto (omix's CNN, LSTM and BPNet kernels where they apply) or burn"),
    ("train.loss", "regression loss: mse or poisson"),
    ("train.baseline", "also fit a simple baseline and test whether the model beats it"),
    ("graph", "the graph"),
    ("graph.edges", "edge list: two node ids per line (plain or gzip)"),
    ("graph.labels", "node labels: a node id and its label(s) per line"),
    ("graph.features", "node features: identity, degree, random_walk, or a file"),
    ("graph.random_walk_steps", "steps of the random-walk features"),
    ("graph.labelled_fraction", "fraction of labelled nodes used for training"),
    ("graph.validation_fraction", "fraction of labelled nodes for validation"),
    ("graph.standardize", "standardise every dense feature column (mean 0, variance 1 over all nodes)"),
];

/// Keys the configs leave out when unset, written commented out under their table so that a
/// user sees they exist (a test requires each, uncommented, to be a valid setting).
pub const OPTIONAL_KEYS: &[(&str, &str, &str)] = &[
    ("train", "clip_grad_norm = 1.0", "clip each parameter's gradient to this L2 norm"),
    (
        "train",
        "reduce_on_plateau = { factor = 0.5, patience = 2 }",
        "reduce the learning rate when the monitored value stalls",
    ),
    ("data", "class_weight = \"balanced\"", "weight classes by their inverse frequency"),
];

/// The template called `name`.
pub fn template(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|template| template.name == name)
}

impl Template {
    /// Whether the template is a `[graph]` experiment.
    pub fn is_graph(&self) -> bool {
        self.settings.contains("[graph]")
    }

    /// The repository-relative data paths the template reads (`examples/data/...`).
    pub fn data_paths(&self) -> Vec<String> {
        let text = self.render_settings(&|folder: &str| folder.to_string());
        let mut paths: Vec<String> = text
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|value| value.starts_with("examples/"))
            .map(str::to_string)
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }

    /// The settings with each data folder written by `folder` (given the repository-relative one).
    fn render_settings(&self, folder: &dyn Fn(&str) -> String) -> String {
        let mut text = self.settings.to_string();
        for (mark, relative) in DATA_FOLDERS {
            text = text.replace(mark, &folder(relative));
        }
        text
    }

    /// The whole config file: a header, then every key with its value and a comment. `folder`
    /// turns a repository-relative data folder (`examples/data`) into the path to write.
    pub fn render(&self, folder: &dyn Fn(&str) -> String, header: &str) -> Result<String, ConfigError> {
        let settings = self.render_settings(folder);
        let invalid = |message: String| ConfigError::Invalid { field: "template", message };
        let body = if self.is_graph() {
            let config = GraphExperimentConfig::from_toml(&settings).map_err(|e| invalid(e.to_string()))?;
            toml::to_string_pretty(&config).map_err(|e| invalid(e.to_string()))?
        } else {
            let config = ExperimentConfig::from_toml(&settings).map_err(|e| invalid(e.to_string()))?;
            toml::to_string_pretty(&config).map_err(|e| invalid(e.to_string()))?
        };
        let mut out = String::new();
        for line in header.lines().chain(self.about.lines()) {
            out.push_str(&format!("# {}\n", line.trim()).replace("# \n", "#\n"));
        }
        out.push_str("#\n# Every key is written with its value (the default where this template sets nothing).\n");
        out.push_str("# Paths are relative to this file. Change a key here, or for one run with\n");
        out.push_str("# `omix train FILE --set train.epochs=5`.\n\n");
        let mut table = String::new();
        let mut lines = body.lines().peekable();
        while let Some(line) = lines.next() {
            let trimmed = line.trim();
            if let Some(name) = trimmed.strip_prefix("[[").and_then(|rest| rest.strip_suffix("]]")) {
                flush_optional(&mut out, &table);
                table = name.to_string();
                push_comment(&mut out, &table, "");
                out.push_str(line);
                out.push('\n');
                continue;
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
                flush_optional(&mut out, &table);
                table = name.to_string();
                push_comment(&mut out, &table, "");
                out.push_str(line);
                out.push('\n');
                continue;
            }
            if let Some((key, _)) = line.split_once(" = ")
                && !line.starts_with(' ')
            {
                push_comment(&mut out, &table, key.trim());
            }
            out.push_str(line);
            out.push('\n');
            if lines.peek().is_none() {
                flush_optional(&mut out, &table);
            }
        }
        Ok(out)
    }
}

/// The comment of a key, if [`KEY_COMMENTS`] has one.
pub fn key_comment(key: &str) -> Option<&'static str> {
    KEY_COMMENTS.iter().find(|(name, _)| *name == key).map(|(_, comment)| *comment)
}

/// The full key of `key` under `table` (`data.test` + `input`).
pub fn full_key(table: &str, key: &str) -> String {
    match (table.is_empty(), key.is_empty()) {
        (true, _) => key.to_string(),
        (false, true) => table.to_string(),
        (false, false) => format!("{table}.{key}"),
    }
}

fn push_comment(out: &mut String, table: &str, key: &str) {
    if let Some(comment) = key_comment(&full_key(table, key)) {
        out.push_str(&format!("# {comment}\n"));
    }
}

fn flush_optional(out: &mut String, table: &str) {
    for (owner, line, comment) in OPTIONAL_KEYS {
        if *owner == table {
            out.push_str(&format!("# {line}    # {comment}\n"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key every template writes has a comment, every comment a key, and every file reads
    /// back as the config its settings make.
    #[test]
    fn templates_comment_every_key_and_read_back() -> Result<(), Box<dyn std::error::Error>> {
        let mut used = std::collections::BTreeSet::new();
        let mut missing = Vec::new();
        for template in TEMPLATES {
            let text = template.render(&|folder: &str| folder.to_string(), "header")?;
            let mut table = String::new();
            for line in text.lines().filter(|line| !line.starts_with('#') && !line.starts_with(' ')) {
                let trimmed = line.trim_matches(|c| c == '[' || c == ']');
                let key = if line.starts_with('[') {
                    table = trimmed.to_string();
                    table.clone()
                } else if let Some((key, _)) = line.split_once(" = ") {
                    full_key(&table, key.trim())
                } else {
                    continue;
                };
                used.insert(key.clone());
                if key_comment(&key).is_none() {
                    missing.push(format!("{}: {key}", template.name));
                }
            }
            let settings = template.render_settings(&|folder: &str| folder.to_string());
            if template.is_graph() {
                assert_eq!(GraphExperimentConfig::from_toml(&text)?, GraphExperimentConfig::from_toml(&settings)?);
            } else {
                assert_eq!(ExperimentConfig::from_toml(&text)?, ExperimentConfig::from_toml(&settings)?);
            }
            assert!(!template.data_paths().is_empty(), "{}", template.name);
        }
        assert!(missing.is_empty(), "keys without a comment in KEY_COMMENTS: {missing:?}");
        let unused: Vec<&str> = KEY_COMMENTS.iter().map(|(key, _)| *key).filter(|key| !used.contains(*key)).collect();
        assert!(unused.is_empty(), "comments of keys no template writes (stale?): {unused:?}");
        Ok(())
    }

    /// The optional keys written commented out are valid settings of their table.
    #[test]
    fn optional_keys_are_valid_settings() -> Result<(), Box<dyn std::error::Error>> {
        for (table, line, _) in OPTIONAL_KEYS {
            let text = match *table {
                "data" => format!("[data]\ninput = \"x\"\n{line}\n"),
                other => format!("[data]\ninput = \"x\"\n[{other}]\n{line}\n"),
            };
            ExperimentConfig::from_toml(&text).map_err(|error| format!("{line}: {error}"))?;
        }
        Ok(())
    }
}
