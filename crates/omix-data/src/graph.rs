//! Node-labelled graphs for node classification: the `[graph]` table, reading an edge list and a
//! label file, node features, the normalised propagation matrix and seeded node splits.
//!
//! ```
//! use omix_data::graph::{Graph, GraphConfig};
//!
//! let dir = tempfile::tempdir()?;
//! let edges = dir.path().join("graph.edgelist");
//! let labels = dir.path().join("labels.txt");
//! std::fs::write(&edges, "# a path a - b - c - d\na b\nb c 2.0\nc d\n")?;
//! std::fs::write(&labels, "a x\nb x\nc y\nd y\n")?;
//! let config = GraphConfig { labelled_fraction: 0.5, validation_fraction: 0.25, ..GraphConfig::new(edges, labels) };
//! let graph = Graph::load(&config, 42)?;
//! assert_eq!(graph.nodes, ["a", "b", "c", "d"]);
//! assert_eq!(graph.class_names, ["x", "y"]);
//! assert_eq!(graph.report.edges, 3);
//! // D^-1/2 (A + I) D^-1/2: 4 self-loops and both directions of 3 edges.
//! assert_eq!(graph.adjacency.values.len(), 10);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # File formats
//!
//! - **Edge list**: one edge per line, `u v` or `u v weight`, separated by spaces or tabs; blank
//!   lines and lines starting with `#` are skipped; plain or gzip. Edges are undirected: `u v`
//!   and `v u` are the same edge, and repeated edges are merged keeping the **largest** weight
//!   (so a list that writes both directions of each edge, as node2vec's do, is not double
//!   counted). Weights must be finite and positive. Self-loops in the file are ignored (and
//!   counted in the report): the normalisation adds one self-loop of weight 1 to every node.
//! - **Labels**: one line per node, `node label label ...` (whitespace or tab separated). A node
//!   with several labels makes the task multi-label (one sigmoid output per label); when every
//!   labelled node has exactly one label, the task is multi-class (softmax). A line with only a
//!   node id, and every node without a line, is unlabelled: it is in no split but still
//!   propagates. Class names are sorted numerically when all are integers, else as text.
//!
//! # Splits
//!
//! The labelled nodes are shuffled with the experiment seed (ChaCha8); the first
//! `labelled_fraction` of them are training nodes, the next `validation_fraction` (also a
//! fraction of the labelled nodes, carved from those not used for training) validation nodes,
//! and the rest test nodes. With the defaults (0.5, 0.1): 50% train, 10% validation, 40% test.

use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use omix_io::{IoError, Table};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Split, Task};

/// Errors of reading a graph, each naming the file and line to look at.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The file could not be opened or read, or a feature table is malformed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A line that cannot be parsed.
    #[error("{}:{line}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// A label or feature row for a node that no edge mentions.
    #[error(
        "{}:{line}: node {node:?} is not in the edge list {}; every node with labels or features must have at least one edge",
        path.display(), edges.display()
    )]
    UnknownNode {
        /// The label or feature file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The node id.
        node: String,
        /// The edge list.
        edges: PathBuf,
    },
    /// A node with two label (or feature) lines.
    #[error("{}:{line}: node {node:?} already has a line (line {first_line}); give each node one line", path.display())]
    DuplicateNode {
        /// The file.
        path: PathBuf,
        /// 1-based line of the repeat.
        line: u64,
        /// 1-based line of the first occurrence.
        first_line: u64,
        /// The node id.
        node: String,
    },
    /// An edge list without a single edge.
    #[error("{}: the edge list has no edges (lines `u v [weight]`)", path.display())]
    NoEdges {
        /// The file.
        path: PathBuf,
    },
    /// A label file that labels no node.
    #[error("{}: no node has a label (lines `node label [label ...]`)", path.display())]
    NoLabels {
        /// The file.
        path: PathBuf,
    },
    /// Every labelled node has the same single label.
    #[error("{}: every labelled node has the single label {class:?}; classification needs at least two", path.display())]
    SingleClass {
        /// The file.
        path: PathBuf,
        /// The only label.
        class: String,
    },
    /// A label that only one node carries: nearly always a typo or two lines run together.
    #[error(
        "{}:{line}: label {class:?} of node {node:?} is on no other node; a class needs at least two labelled nodes \
         (a typo, or two lines run together?)",
        path.display()
    )]
    LoneClass {
        /// The label file.
        path: PathBuf,
        /// 1-based line of the node carrying the label.
        line: u64,
        /// The node id.
        node: String,
        /// The label.
        class: String,
    },
    /// A feature table without a row for some node.
    #[error("{}: node {node:?} of the graph has no row; every node needs features", path.display())]
    MissingFeatures {
        /// The feature table.
        path: PathBuf,
        /// The first node without a row.
        node: String,
    },
    /// A `[graph]` setting that cannot work.
    #[error("[graph] {field}: {message}")]
    Config {
        /// The setting.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A split without nodes.
    #[error(
        "the {split} split is empty ({labelled} labelled nodes); raise labelled_fraction / validation_fraction or label more nodes"
    )]
    EmptySplit {
        /// The split's name.
        split: &'static str,
        /// Number of labelled nodes.
        labelled: usize,
    },
}

impl GraphError {
    /// The file the error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            GraphError::Io(error) => Some(error.path()),
            GraphError::Malformed { path, .. }
            | GraphError::UnknownNode { path, .. }
            | GraphError::DuplicateNode { path, .. }
            | GraphError::NoEdges { path }
            | GraphError::NoLabels { path }
            | GraphError::SingleClass { path, .. }
            | GraphError::LoneClass { path, .. }
            | GraphError::MissingFeatures { path, .. } => Some(path),
            GraphError::Config { .. } | GraphError::EmptySplit { .. } => None,
        }
    }
}

/// One source of node features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeFeatures {
    /// One-hot node ids (`X = I`), never materialised: the model learns one weight row per node.
    Identity,
    /// `log(1 + weighted degree)` and one-hot bins of the degree (0, 1, 2-3, 4-7, ...).
    Degree,
    /// Return probabilities `[P^k]_ii` of random walks of `k = 2..=random_walk_steps` steps,
    /// `P = D^-1 A` (weighted, without the added self-loops): local structure around each node.
    RandomWalk,
    /// A table (TSV/CSV with a header) whose first column is the node id and whose other columns
    /// are numbers; every node needs a row.
    File(PathBuf),
}

impl NodeFeatures {
    fn name(&self) -> String {
        match self {
            NodeFeatures::Identity => "identity".into(),
            NodeFeatures::Degree => "degree".into(),
            NodeFeatures::RandomWalk => "random_walk".into(),
            NodeFeatures::File(path) => path.display().to_string(),
        }
    }
}

impl From<&str> for NodeFeatures {
    /// `identity`, `degree`, `random_walk`, or anything else as a path (`./degree` for a file
    /// called `degree`).
    fn from(text: &str) -> Self {
        match text {
            "identity" => NodeFeatures::Identity,
            "degree" => NodeFeatures::Degree,
            "random_walk" => NodeFeatures::RandomWalk,
            path => NodeFeatures::File(PathBuf::from(path)),
        }
    }
}

impl Serialize for NodeFeatures {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for NodeFeatures {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(NodeFeatures::from(text.as_str()))
    }
}

/// `features = "identity"` or `features = ["identity", "degree"]`.
fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<NodeFeatures>, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Vec<NodeFeatures>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("\"identity\", \"degree\", \"random_walk\", a feature table path, or a list of them")
        }
        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
            Ok(vec![NodeFeatures::from(value)])
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut list = Vec::new();
            while let Some(item) = seq.next_element::<NodeFeatures>()? {
                list.push(item);
            }
            Ok(list)
        }
    }
    deserializer.deserialize_any(Visitor)
}

/// The `[graph]` table of a node-classification experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphConfig {
    /// Edge list: `u v [weight]` per line (see the module docs).
    pub edges: PathBuf,
    /// Labels: `node label [label ...]` per line.
    pub labels: PathBuf,
    /// Node features: `"identity"` (default), `"degree"`, `"random_walk"`, a table path, or a
    /// list of them (concatenated).
    #[serde(default = "default_features", deserialize_with = "one_or_many")]
    pub features: Vec<NodeFeatures>,
    /// Fraction of the labelled nodes used for training.
    #[serde(default = "default_labelled_fraction")]
    pub labelled_fraction: f64,
    /// Fraction of the labelled nodes used for validation (taken from the non-training ones);
    /// the rest are test nodes.
    #[serde(default = "default_validation_fraction")]
    pub validation_fraction: f64,
    /// Longest random walk of the `random_walk` features (columns for 2..=steps).
    #[serde(default = "default_steps")]
    pub random_walk_steps: usize,
    /// Standardise every dense feature column to mean 0 and variance 1 over all nodes.
    #[serde(default = "yes")]
    pub standardize: bool,
}

fn default_features() -> Vec<NodeFeatures> {
    vec![NodeFeatures::Identity]
}
fn default_labelled_fraction() -> f64 {
    0.5
}
fn default_validation_fraction() -> f64 {
    0.1
}
fn default_steps() -> usize {
    8
}
fn yes() -> bool {
    true
}

impl GraphConfig {
    /// A config with every default and the two files.
    pub fn new(edges: impl Into<PathBuf>, labels: impl Into<PathBuf>) -> Self {
        Self {
            edges: edges.into(),
            labels: labels.into(),
            features: default_features(),
            labelled_fraction: default_labelled_fraction(),
            validation_fraction: default_validation_fraction(),
            random_walk_steps: default_steps(),
            standardize: true,
        }
    }

    /// Make every relative path absolute against `base` (the config file's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        let resolve = |path: &mut PathBuf| {
            if path.is_relative() {
                let joined = base.join(&*path);
                *path = std::path::absolute(&joined).unwrap_or(joined);
            }
        };
        resolve(&mut self.edges);
        resolve(&mut self.labels);
        for feature in &mut self.features {
            if let NodeFeatures::File(path) = feature {
                resolve(path);
            }
        }
    }

    /// Check the settings, one error per rule.
    pub fn check(&self) -> Result<(), GraphError> {
        let invalid = |field, message: String| Err(GraphError::Config { field, message });
        if !(self.labelled_fraction > 0.0 && self.labelled_fraction < 1.0) {
            return invalid("labelled_fraction", format!("{} must be in (0, 1)", self.labelled_fraction));
        }
        if !(self.validation_fraction > 0.0 && self.validation_fraction < 1.0) {
            return invalid("validation_fraction", format!("{} must be in (0, 1)", self.validation_fraction));
        }
        if self.labelled_fraction + self.validation_fraction >= 1.0 {
            return invalid(
                "validation_fraction",
                format!(
                    "labelled_fraction {} + validation_fraction {} leave no test nodes; their sum must be below 1",
                    self.labelled_fraction, self.validation_fraction
                ),
            );
        }
        if self.features.is_empty() {
            return invalid("features", "give at least one of identity, degree, random_walk or a table".into());
        }
        for (i, feature) in self.features.iter().enumerate() {
            if self.features[..i].contains(feature) {
                return invalid("features", format!("{:?} is listed twice", feature.name()));
            }
        }
        if self.features.contains(&NodeFeatures::RandomWalk) && self.random_walk_steps < 2 {
            return invalid("random_walk_steps", format!("{} must be at least 2", self.random_walk_steps));
        }
        Ok(())
    }
}

/// The normalised propagation matrix `D^-1/2 (A + I) D^-1/2` in coordinate form.
#[derive(Debug, Clone, PartialEq)]
pub struct CooMatrix {
    /// Row of each entry.
    pub rows: Vec<usize>,
    /// Column of each entry.
    pub cols: Vec<usize>,
    /// Value of each entry.
    pub values: Vec<f32>,
    /// Number of rows (= columns = nodes).
    pub size: usize,
}

/// Node features: implicit one-hot ids and/or dense columns.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    /// Whether one-hot node ids are part of the input (never materialised).
    pub identity: bool,
    /// Names of the dense columns.
    pub columns: Vec<String>,
    /// Dense values `[nodes, columns]`, row-major.
    pub values: Vec<f32>,
}

/// Counts of one split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphSplitReport {
    /// The split.
    pub split: Split,
    /// Nodes in it.
    pub nodes: usize,
    /// Nodes carrying each class, in class order.
    pub per_class: Vec<usize>,
}

/// What loading found, for the run folder and the terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphReport {
    /// Nodes (every id in the edge list).
    pub nodes: usize,
    /// Distinct undirected edges, self-loops excluded.
    pub edges: usize,
    /// Edge lines read.
    pub edge_lines: usize,
    /// Edge lines that repeated an edge (either direction) and were merged.
    pub merged_edge_lines: usize,
    /// Self-loops in the file (ignored; every node gets one in the normalisation).
    pub self_loops_ignored: usize,
    /// Nodes whose only edges are self-loops.
    pub isolated_nodes: usize,
    /// Nodes with at least one label.
    pub labelled_nodes: usize,
    /// Nodes with more than one label.
    pub multi_label_nodes: usize,
    /// Multi-class or multi-label.
    pub task: Task,
    /// Dense feature columns (besides identity features).
    pub feature_columns: usize,
    /// Whether identity features are used.
    pub identity_features: bool,
    /// Counts per split.
    pub splits: Vec<GraphSplitReport>,
}

/// A loaded graph with labels, features and splits.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Node ids, in order of first appearance in the edge list.
    pub nodes: Vec<String>,
    /// `D^-1/2 (A + I) D^-1/2`.
    pub adjacency: CooMatrix,
    /// Node features.
    pub features: FeatureMatrix,
    /// [`Task::Multiclass`] or [`Task::Multilabel`].
    pub task: Task,
    /// Class (label) names, in output order.
    pub class_names: Vec<String>,
    /// 0/1 targets `[nodes, classes]`, row-major (all 0 for unlabelled nodes).
    pub labels: Vec<f32>,
    /// The split of each node (`None` for unlabelled nodes).
    pub splits: Vec<Option<Split>>,
    /// Counts.
    pub report: GraphReport,
}

impl Graph {
    /// What was loaded, for people: nodes, edges, labels, splits and features.
    pub fn summary_lines(&self) -> Vec<String> {
        let report = &self.report;
        let mut lines = Vec::new();
        lines.push(format!(
            "graph: {} nodes, {} edges ({} edge lines, {} merged, {} self-loops ignored), {} isolated; {} labelled ({} with several labels), task {}, {} classes",
            report.nodes,
            report.edges,
            report.edge_lines,
            report.merged_edge_lines,
            report.self_loops_ignored,
            report.isolated_nodes,
            report.labelled_nodes,
            report.multi_label_nodes,
            self.task.name(),
            self.class_count()
        ));
        for split in &report.splits {
            lines.push(format!("  {:<10} {:>6} nodes", split.split.name(), split.nodes));
        }
        lines.push(format!(
            "features: {}{} dense columns",
            if self.features.identity { "identity (implicit one-hot node ids) + " } else { "" },
            self.features.columns.len()
        ));
        lines
    }

    /// Read, validate, featurise and split a graph.
    pub fn load(config: &GraphConfig, seed: u64) -> Result<Graph, GraphError> {
        config.check()?;
        let edges = read_edges(&config.edges)?;
        let nodes = edges.names;
        let size = nodes.len();
        let index: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
        let labels = read_labels(&config.labels, &config.edges, &index)?;
        let classes = labels.class_names.len();

        let mut dense_columns = Vec::new();
        let mut dense_blocks: Vec<(usize, Vec<f64>)> = Vec::new();
        for feature in &config.features {
            let (names, values) = match feature {
                NodeFeatures::Identity => continue,
                NodeFeatures::Degree => degree_features(&edges.neighbours),
                NodeFeatures::RandomWalk => random_walk_features(&edges.neighbours, config.random_walk_steps),
                NodeFeatures::File(path) => table_features(path, &config.edges, &index)?,
            };
            dense_blocks.push((names.len(), values));
            dense_columns.extend(names);
        }
        let width = dense_columns.len();
        let mut dense = vec![0.0f64; size * width];
        let mut offset = 0;
        for (columns, values) in &dense_blocks {
            for node in 0..size {
                dense[node * width + offset..node * width + offset + columns]
                    .copy_from_slice(&values[node * columns..(node + 1) * columns]);
            }
            offset += columns;
        }
        if config.standardize {
            standardize(&mut dense, width);
        }
        let features = FeatureMatrix {
            identity: config.features.contains(&NodeFeatures::Identity),
            columns: dense_columns,
            values: dense.iter().map(|&v| v as f32).collect(),
        };

        let splits = assign_splits(&labels.labelled, config.labelled_fraction, config.validation_fraction, seed)?;
        let report = GraphReport {
            nodes: size,
            edges: edges.edges,
            edge_lines: edges.lines,
            merged_edge_lines: edges.merged,
            self_loops_ignored: edges.self_loops,
            isolated_nodes: edges.neighbours.iter().filter(|n| n.is_empty()).count(),
            labelled_nodes: labels.labelled.iter().filter(|&&l| l).count(),
            multi_label_nodes: (0..size)
                .filter(|&i| labels.targets[i * classes..(i + 1) * classes].iter().sum::<f32>() > 1.0)
                .count(),
            task: labels.task,
            feature_columns: features.columns.len(),
            identity_features: features.identity,
            splits: Split::ALL
                .iter()
                .map(|&split| {
                    let members: Vec<usize> = (0..size).filter(|&i| splits[i] == Some(split)).collect();
                    let per_class = (0..classes)
                        .map(|c| members.iter().filter(|&&i| labels.targets[i * classes + c] > 0.5).count())
                        .collect();
                    GraphSplitReport { split, nodes: members.len(), per_class }
                })
                .collect(),
        };
        Ok(Graph {
            adjacency: normalized_adjacency(&edges.neighbours),
            nodes,
            features,
            task: labels.task,
            class_names: labels.class_names,
            labels: labels.targets,
            splits,
            report,
        })
    }

    /// Number of classes (outputs).
    pub fn class_count(&self) -> usize {
        self.class_names.len()
    }

    /// Nodes of a split, in node order.
    pub fn indices(&self, split: Split) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&i| self.splits[i] == Some(split)).collect()
    }

    /// The 0/1 target row of a node.
    pub fn label_row(&self, node: usize) -> &[f32] {
        let classes = self.class_count();
        &self.labels[node * classes..(node + 1) * classes]
    }

    /// The label names of a node, comma-separated.
    pub fn label_text(&self, node: usize) -> String {
        let row = self.label_row(node);
        self.class_names
            .iter()
            .zip(row)
            .filter(|(_, v)| **v > 0.5)
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Call `line` with each 1-based line number and text, skipping blank and `#` lines.
fn for_each_line(path: &Path, mut line: impl FnMut(u64, &str) -> Result<(), GraphError>) -> Result<(), GraphError> {
    let mut reader = omix_io::open(path)?;
    let mut text = String::new();
    let mut number = 0u64;
    loop {
        text.clear();
        number += 1;
        let read = reader.read_line(&mut text).map_err(|source| {
            if source.kind() == std::io::ErrorKind::InvalidData {
                IoError::InvalidUtf8 { path: path.to_path_buf(), line: number }
            } else {
                IoError::Read { path: path.to_path_buf(), line: number, source }
            }
        })?;
        if read == 0 {
            return Ok(());
        }
        let trimmed = text.trim_start_matches('\u{feff}').trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        line(number, trimmed)?;
    }
}

struct EdgeList {
    names: Vec<String>,
    /// Weighted neighbours of each node, sorted, without self-loops.
    neighbours: Vec<Vec<(usize, f64)>>,
    edges: usize,
    lines: usize,
    merged: usize,
    self_loops: usize,
}

fn read_edges(path: &Path) -> Result<EdgeList, GraphError> {
    let mut names: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut weights: HashMap<(usize, usize), f64> = HashMap::new();
    let (mut lines, mut merged, mut self_loops) = (0, 0, 0);
    for_each_line(path, |line, text| {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let malformed = |message: String| GraphError::Malformed { path: path.to_path_buf(), line, message };
        if !(2..=3).contains(&fields.len()) {
            return Err(malformed(format!("expected `node node [weight]`, found {} fields in {text:?}", fields.len())));
        }
        let weight = match fields.get(2) {
            None => 1.0,
            Some(field) => match field.parse::<f64>() {
                Ok(w) if w.is_finite() && w > 0.0 => w,
                _ => return Err(malformed(format!("edge weight {field:?} is not a positive finite number"))),
            },
        };
        let mut id = |name: &str| {
            *index.entry(name.to_string()).or_insert_with(|| {
                names.push(name.to_string());
                names.len() - 1
            })
        };
        let (u, v) = (id(fields[0]), id(fields[1]));
        lines += 1;
        if u == v {
            self_loops += 1;
            return Ok(());
        }
        let key = (u.min(v), u.max(v));
        match weights.get_mut(&key) {
            Some(existing) => {
                merged += 1;
                *existing = existing.max(weight);
            }
            None => {
                weights.insert(key, weight);
            }
        }
        Ok(())
    })?;
    if lines == 0 {
        return Err(GraphError::NoEdges { path: path.to_path_buf() });
    }
    let mut neighbours = vec![Vec::new(); names.len()];
    for (&(u, v), &w) in &weights {
        neighbours[u].push((v, w));
        neighbours[v].push((u, w));
    }
    for list in &mut neighbours {
        list.sort_unstable_by_key(|&(node, _)| node);
    }
    Ok(EdgeList { names, neighbours, edges: weights.len(), lines, merged, self_loops })
}

struct Labels {
    task: Task,
    class_names: Vec<String>,
    targets: Vec<f32>,
    labelled: Vec<bool>,
}

fn read_labels(path: &Path, edges: &Path, index: &HashMap<&str, usize>) -> Result<Labels, GraphError> {
    let mut first_line: HashMap<usize, u64> = HashMap::new();
    let mut node_labels: Vec<(usize, Vec<String>)> = Vec::new();
    // The line and name of each entry of `node_labels`, for errors.
    let mut origins: Vec<(u64, String)> = Vec::new();
    for_each_line(path, |line, text| {
        let mut fields = text.split_whitespace();
        let name = fields.next().unwrap_or_default();
        let node = *index.get(name).ok_or_else(|| GraphError::UnknownNode {
            path: path.to_path_buf(),
            line,
            node: name.to_string(),
            edges: edges.to_path_buf(),
        })?;
        if let Some(&first) = first_line.get(&node) {
            return Err(GraphError::DuplicateNode {
                path: path.to_path_buf(),
                line,
                first_line: first,
                node: name.to_string(),
            });
        }
        first_line.insert(node, line);
        let mut labels: Vec<String> = Vec::new();
        for label in fields {
            if !labels.iter().any(|l| l == label) {
                labels.push(label.to_string());
            }
        }
        node_labels.push((node, labels));
        origins.push((line, name.to_string()));
        Ok(())
    })?;
    let mut class_names: Vec<String> = node_labels.iter().flat_map(|(_, l)| l.iter().cloned()).collect();
    class_names.sort_unstable();
    class_names.dedup();
    if class_names.is_empty() {
        return Err(GraphError::NoLabels { path: path.to_path_buf() });
    }
    if class_names.len() == 1 {
        return Err(GraphError::SingleClass { path: path.to_path_buf(), class: class_names[0].clone() });
    }
    // A class on one node can be neither learned and evaluated nor stratified, and is nearly always
    // a stray value or two lines run together (`n8 zn9 x`): refuse it rather than add a class.
    let mut carriers: HashMap<&str, usize> = HashMap::new();
    for label in node_labels.iter().flat_map(|(_, labels)| labels) {
        *carriers.entry(label.as_str()).or_default() += 1;
    }
    for ((_, labels), (line, node)) in node_labels.iter().zip(&origins) {
        if let Some(class) = labels.iter().find(|label| carriers.get(label.as_str()) == Some(&1)) {
            return Err(GraphError::LoneClass {
                path: path.to_path_buf(),
                line: *line,
                node: node.clone(),
                class: class.clone(),
            });
        }
    }
    if class_names.iter().all(|name| name.parse::<i64>().is_ok()) {
        class_names.sort_by_key(|name| name.parse::<i64>().unwrap_or_default());
    }
    let class_index: HashMap<&str, usize> = class_names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
    let classes = class_names.len();
    let mut targets = vec![0.0f32; index.len() * classes];
    let mut labelled = vec![false; index.len()];
    let mut multi = false;
    for (node, labels) in &node_labels {
        labelled[*node] = !labels.is_empty();
        multi |= labels.len() > 1;
        for label in labels {
            if let Some(&class) = class_index.get(label.as_str()) {
                targets[node * classes + class] = 1.0;
            }
        }
    }
    let task = if multi { Task::Multilabel } else { Task::Multiclass };
    Ok(Labels { task, class_names, targets, labelled })
}

/// `D^-1/2 (A + I) D^-1/2` with `D` the weighted degree of `A + I`: per row the self-loop first,
/// then the neighbours in node order.
fn normalized_adjacency(neighbours: &[Vec<(usize, f64)>]) -> CooMatrix {
    let degree: Vec<f64> = neighbours.iter().map(|list| 1.0 + list.iter().map(|&(_, w)| w).sum::<f64>()).collect();
    let scale: Vec<f64> = degree.iter().map(|d| 1.0 / d.sqrt()).collect();
    let entries = neighbours.len() + neighbours.iter().map(Vec::len).sum::<usize>();
    let mut matrix = CooMatrix {
        rows: Vec::with_capacity(entries),
        cols: Vec::with_capacity(entries),
        values: Vec::with_capacity(entries),
        size: neighbours.len(),
    };
    for (i, list) in neighbours.iter().enumerate() {
        matrix.rows.push(i);
        matrix.cols.push(i);
        matrix.values.push((scale[i] * scale[i]) as f32);
        for &(j, w) in list {
            matrix.rows.push(i);
            matrix.cols.push(j);
            matrix.values.push((w * scale[i] * scale[j]) as f32);
        }
    }
    matrix
}

/// `log(1 + weighted degree)` and one-hot bins of the (unweighted) degree: 0, 1, 2-3, 4-7, ...
fn degree_features(neighbours: &[Vec<(usize, f64)>]) -> (Vec<String>, Vec<f64>) {
    let bin = |k: usize| if k == 0 { 0 } else { (usize::BITS - k.leading_zeros()) as usize };
    let max_degree = neighbours.iter().map(Vec::len).max().unwrap_or(0);
    let bins = bin(max_degree) + 1;
    let mut names = vec!["log_degree".to_string()];
    names.extend((0..bins).map(|b| match b {
        0 => "degree_0".to_string(),
        b => format!("degree_{}-{}", 1usize << (b - 1), (1usize << b) - 1),
    }));
    let columns = names.len();
    let mut values = vec![0.0; neighbours.len() * columns];
    for (i, list) in neighbours.iter().enumerate() {
        values[i * columns] = (1.0 + list.iter().map(|&(_, w)| w).sum::<f64>()).ln();
        values[i * columns + 1 + bin(list.len())] = 1.0;
    }
    (names, values)
}

/// Return probabilities `[P^k]_ii`, `k = 2..=steps`, of the weighted random walk `P = D^-1 A`
/// (a node without edges stays where it is).
fn random_walk_features(neighbours: &[Vec<(usize, f64)>], steps: usize) -> (Vec<String>, Vec<f64>) {
    let n = neighbours.len();
    let names: Vec<String> = (2..=steps).map(|k| format!("random_walk_return_{k}")).collect();
    let columns = names.len();
    let out_weight: Vec<f64> = neighbours.iter().map(|list| list.iter().map(|&(_, w)| w).sum()).collect();
    let mut values = vec![0.0; n * columns];
    let mut current = vec![0.0f64; n];
    let mut next = vec![0.0f64; n];
    for start in 0..n {
        current.iter_mut().for_each(|v| *v = 0.0);
        current[start] = 1.0;
        for k in 1..=steps {
            next.iter_mut().for_each(|v| *v = 0.0);
            for (u, &mass) in current.iter().enumerate() {
                if mass == 0.0 {
                    continue;
                }
                if neighbours[u].is_empty() {
                    next[u] += mass;
                    continue;
                }
                let share = mass / out_weight[u];
                for &(v, w) in &neighbours[u] {
                    next[v] += share * w;
                }
            }
            std::mem::swap(&mut current, &mut next);
            if k >= 2 {
                values[start * columns + k - 2] = current[start];
            }
        }
    }
    (names, values)
}

/// A node-feature table: first column the node id, the others numbers.
fn table_features(
    path: &Path,
    edges: &Path,
    index: &HashMap<&str, usize>,
) -> Result<(Vec<String>, Vec<f64>), GraphError> {
    let table = Table::read(path)?;
    let columns = table.header.len().saturating_sub(1);
    if columns == 0 {
        return Err(GraphError::Malformed {
            path: path.to_path_buf(),
            line: table.rows.first().map_or(1, |r| r.line.saturating_sub(1).max(1)),
            message: "the feature table needs a node id column and at least one feature column".into(),
        });
    }
    let mut values = vec![0.0; index.len() * columns];
    let mut seen: HashMap<usize, u64> = HashMap::new();
    for row in &table.rows {
        let name = row.fields[0].as_str();
        let node = *index.get(name).ok_or_else(|| GraphError::UnknownNode {
            path: path.to_path_buf(),
            line: row.line,
            node: name.to_string(),
            edges: edges.to_path_buf(),
        })?;
        if let Some(&first_line) = seen.get(&node) {
            return Err(GraphError::DuplicateNode {
                path: path.to_path_buf(),
                line: row.line,
                first_line,
                node: name.to_string(),
            });
        }
        seen.insert(node, row.line);
        for (c, text) in row.fields[1..].iter().enumerate() {
            let value = text.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| IoError::InvalidValue {
                path: path.to_path_buf(),
                line: row.line,
                field: c as u64 + 2,
                column: table.header[c + 1].clone(),
                text: text.clone(),
                message: "node features must be finite numbers".into(),
            })?;
            values[node * columns + c] = value;
        }
    }
    let mut names: Vec<(&str, usize)> = index.iter().map(|(n, &i)| (*n, i)).collect();
    names.sort_unstable_by_key(|&(_, i)| i);
    if let Some((node, _)) = names.iter().find(|(_, i)| !seen.contains_key(i)) {
        return Err(GraphError::MissingFeatures { path: path.to_path_buf(), node: node.to_string() });
    }
    Ok((table.header[1..].to_vec(), values))
}

/// Z-score every column in place (a constant column becomes 0).
fn standardize(values: &mut [f64], columns: usize) {
    if columns == 0 {
        return;
    }
    let rows = values.len() / columns;
    for c in 0..columns {
        let mean = (0..rows).map(|r| values[r * columns + c]).sum::<f64>() / rows as f64;
        let variance = (0..rows).map(|r| (values[r * columns + c] - mean).powi(2)).sum::<f64>() / rows as f64;
        let sd = variance.sqrt();
        for r in 0..rows {
            let v = &mut values[r * columns + c];
            *v = if sd > 1e-12 { (*v - mean) / sd } else { 0.0 };
        }
    }
}

/// Seeded split of the labelled nodes (see the module docs).
fn assign_splits(
    labelled: &[bool],
    labelled_fraction: f64,
    validation_fraction: f64,
    seed: u64,
) -> Result<Vec<Option<Split>>, GraphError> {
    let mut candidates: Vec<usize> = (0..labelled.len()).filter(|&i| labelled[i]).collect();
    let total = candidates.len();
    candidates.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let train = (total as f64 * labelled_fraction).round() as usize;
    let validation = ((total as f64 * validation_fraction).round() as usize).min(total - train);
    for (split, count) in
        [(Split::Train, train), (Split::Validation, validation), (Split::Test, total - train - validation)]
    {
        if count == 0 {
            return Err(GraphError::EmptySplit { split: split.name(), labelled: total });
        }
    }
    let mut splits = vec![None; labelled.len()];
    for (rank, &node) in candidates.iter().enumerate() {
        splits[node] = Some(if rank < train {
            Split::Train
        } else if rank < train + validation {
            Split::Validation
        } else {
            Split::Test
        });
    }
    Ok(splits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degree_bins_are_powers_of_two() {
        let neighbours =
            vec![vec![], vec![(2, 1.0)], vec![(1, 1.0), (3, 1.0), (4, 1.0)], vec![(2, 1.0)], vec![(2, 1.0)]];
        let (names, values) = degree_features(&neighbours);
        assert_eq!(names, ["log_degree", "degree_0", "degree_1-1", "degree_2-3"]);
        assert_eq!(&values[8..12], &[(4.0f64).ln(), 0.0, 0.0, 1.0]);
        assert_eq!(&values[0..4], &[0.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn random_walk_returns_on_a_path() {
        // 0 - 1 - 2: from 0, two steps return with probability 1/2, three steps never.
        let neighbours = vec![vec![(1, 1.0)], vec![(0, 1.0), (2, 1.0)], vec![(1, 1.0)]];
        let (names, values) = random_walk_features(&neighbours, 4);
        assert_eq!(names.len(), 3);
        assert_eq!(&values[0..3], &[0.5, 0.0, 0.5]);
        // From 1: two steps always come back.
        assert_eq!(&values[3..6], &[1.0, 0.0, 1.0]);
    }

    #[test]
    fn splits_follow_the_fractions_and_skip_unlabelled_nodes() -> Result<(), GraphError> {
        let labelled: Vec<bool> = (0..100).map(|i| i % 10 != 0).collect();
        let splits = assign_splits(&labelled, 0.5, 0.1, 7)?;
        let count = |s| splits.iter().filter(|&&x| x == Some(s)).count();
        assert_eq!((count(Split::Train), count(Split::Validation), count(Split::Test)), (45, 9, 36));
        assert!((0..100).step_by(10).all(|i| splits[i].is_none()));
        assert_eq!(splits, assign_splits(&labelled, 0.5, 0.1, 7)?);
        assert_ne!(splits, assign_splits(&labelled, 0.5, 0.1, 8)?);
        assert!(matches!(assign_splits(&[true, true], 0.5, 0.1, 1), Err(GraphError::EmptySplit { .. })));
        Ok(())
    }
}
