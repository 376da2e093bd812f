//! Graph loading on small fixtures: tasks, normalisation, features and every error path.

use std::path::{Path, PathBuf};

use omix_data::Split;
use omix_data::Task;
use omix_data::graph::{Graph, GraphConfig, GraphError, NodeFeatures};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn write(dir: &Path, name: &str, text: &str) -> Result<PathBuf, std::io::Error> {
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Two triangles joined by one edge, six nodes, listed in both directions with a comment.
const EDGES: &str = "# two triangles\na\tb\nb a\nb c\nc a 1.0\nd e\ne f\nf d\nc d 0.5\nd c 0.25\ng g\n";

fn config(dir: &Path, edges: &str, labels: &str) -> Result<GraphConfig, std::io::Error> {
    let edges = write(dir, "graph.edgelist", edges)?;
    let labels = write(dir, "labels.txt", labels)?;
    Ok(GraphConfig { labelled_fraction: 0.34, validation_fraction: 0.33, ..GraphConfig::new(edges, labels) })
}

#[test]
fn multi_label_graph_loads() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = config(dir.path(), EDGES, "a 1 2\nb 2\nc 10\nd 1\ne 2 10\nf 10\n")?;
    let graph = Graph::load(&config, 1)?;
    assert_eq!(graph.nodes, ["a", "b", "c", "d", "e", "f", "g"]);
    assert_eq!(graph.task, Task::Multilabel);
    // Integer class names sort as numbers.
    assert_eq!(graph.class_names, ["1", "2", "10"]);
    assert_eq!(graph.label_row(4), &[0.0, 1.0, 1.0]);
    assert_eq!(graph.label_text(0), "1,2");
    let report = &graph.report;
    assert_eq!((report.edges, report.edge_lines, report.merged_edge_lines, report.self_loops_ignored), (7, 10, 2, 1));
    // g only has a self-loop: isolated, unlabelled, in no split, still a node.
    assert_eq!((report.isolated_nodes, report.labelled_nodes, report.multi_label_nodes), (1, 6, 2));
    assert_eq!(graph.splits[6], None);
    let sizes: Vec<usize> = Split::ALL.iter().map(|&s| graph.indices(s).len()).collect();
    assert_eq!(sizes, [2, 2, 2]);
    assert_eq!(report.splits.iter().map(|s| s.nodes).sum::<usize>(), 6);
    // Merged duplicates keep the largest weight: c-d is 0.5 (listed as 0.5 and 0.25).
    // Degrees of A + I: c = 1 + 1 + 1 + 0.5, d = 1 + 1 + 1 + 0.5.
    let a = &graph.adjacency;
    let cd = (0..a.values.len()).find(|&e| a.rows[e] == 2 && a.cols[e] == 3).ok_or("no c-d entry")?;
    assert!((f64::from(a.values[cd]) - 0.5 / 3.5).abs() < 1e-6);
    // g: only its added self-loop, value 1.
    let gg = (0..a.values.len()).find(|&e| a.rows[e] == 6).ok_or("no g entry")?;
    assert_eq!((a.cols[gg], a.values[gg]), (6, 1.0));
    assert_eq!(a.values.len(), 7 + 2 * 7);
    // Identity features are implicit: no dense matrix.
    assert!(graph.features.identity && graph.features.values.is_empty());
    Ok(())
}

#[test]
fn one_label_per_node_is_multi_class_and_split_is_seeded() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = config(dir.path(), EDGES, "a\tx\nb\tx\nc\tx\nd\ty\ne\ty\nf\ty\ng\n")?;
    let graph = Graph::load(&config, 5)?;
    assert_eq!(graph.task, Task::Multiclass);
    assert_eq!(graph.class_names, ["x", "y"]);
    assert_eq!(graph.report.labelled_nodes, 6);
    assert_eq!(Graph::load(&config, 5)?.splits, graph.splits);
    let other: Vec<_> = (0..20).map(|seed| Graph::load(&config, seed).map(|g| g.splits)).collect::<Result<_, _>>()?;
    assert!(other.iter().any(|s| *s != graph.splits), "the seed does not change the split");
    Ok(())
}

#[test]
fn path_graph_normalisation_matches_hand_computation() -> TestResult {
    // 0 - 1 - 2. A + I degrees: 2, 3, 2.
    // D^-1/2 (A + I) D^-1/2 = [[1/2, 1/√6, 0], [1/√6, 1/3, 1/√6], [0, 1/√6, 1/2]].
    let dir = tempfile::tempdir()?;
    let config = config(dir.path(), "0 1\n1 2\n", "0 a b\n1 b\n2 a\n")?;
    let graph = Graph::load(&config, 1)?;
    let r6 = 1.0 / 6.0f64.sqrt();
    let expected = [[0.5, r6, 0.0], [r6, 1.0 / 3.0, r6], [0.0, r6, 0.5]];
    let mut dense = [[0.0f64; 3]; 3];
    let a = &graph.adjacency;
    for e in 0..a.values.len() {
        dense[a.rows[e]][a.cols[e]] += f64::from(a.values[e]);
    }
    for i in 0..3 {
        for j in 0..3 {
            assert!((dense[i][j] - expected[i][j]).abs() < 1e-7, "({i}, {j}): {} vs {}", dense[i][j], expected[i][j]);
        }
    }
    assert_eq!(a.values.len(), 7);
    Ok(())
}

#[test]
fn dense_features_from_structure_and_files() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut config = config(dir.path(), EDGES, "a 1\nb 2\nc 1\nd 2\ne 1\nf 2\n")?;
    let table = write(
        dir.path(),
        "features.tsv",
        "node\tf1\tf2\na\t1\t0\nb\t2\t0\nc\t3\t0\nd\t4\t1\ne\t5\t1\nf\t6\t1\ng\t7\t1\n",
    )?;
    config.features =
        vec![NodeFeatures::Identity, NodeFeatures::Degree, NodeFeatures::RandomWalk, NodeFeatures::File(table)];
    config.random_walk_steps = 4;
    let graph = Graph::load(&config, 1)?;
    let features = &graph.features;
    // log degree + 3 degree bins (0, 1, 2-3) + 3 return probabilities + 2 table columns.
    assert_eq!(features.columns.len(), 1 + 3 + 3 + 2);
    assert_eq!(features.values.len(), 7 * 9);
    assert!(features.identity);
    // Standardised: every column has mean 0.
    for c in 0..9 {
        let mean: f32 = (0..7).map(|r| features.values[r * 9 + c]).sum::<f32>() / 7.0;
        assert!(mean.abs() < 1e-5, "column {} has mean {mean}", features.columns[c]);
    }
    Ok(())
}

#[test]
fn features_parse_from_toml_as_a_name_or_a_list() -> TestResult {
    let one: GraphConfig = toml::from_str("edges = \"e\"\nlabels = \"l\"\nfeatures = \"degree\"")?;
    assert_eq!(one.features, [NodeFeatures::Degree]);
    let many: GraphConfig = toml::from_str("edges = \"e\"\nlabels = \"l\"\nfeatures = [\"identity\", \"x.tsv\"]")?;
    assert_eq!(many.features, [NodeFeatures::Identity, NodeFeatures::File("x.tsv".into())]);
    let default: GraphConfig = toml::from_str("edges = \"e\"\nlabels = \"l\"")?;
    assert_eq!(default, GraphConfig::new("e", "l"));
    assert!(toml::from_str::<GraphConfig>("edges = \"e\"\nlabels = \"l\"\nlabeled_fraction = 0.5").is_err());
    let written = toml::to_string(&many)?;
    assert_eq!(toml::from_str::<GraphConfig>(&written)?, many);
    Ok(())
}

/// Every invalid input gives an error naming the file and line.
#[test]
fn invalid_inputs_name_file_and_line() -> TestResult {
    let cases: [(&str, &str, &str, &str); 11] = [
        ("a b\nb c x\n", "a 1\nb 2\nc 1\n", "graph.edgelist:2:", "not a positive finite number"),
        ("a b\nb c 1 2\n", "a 1\nb 2\nc 1\n", "graph.edgelist:2:", "found 4 fields"),
        ("a b\n# c\nlonely\n", "a 1\nb 2\n", "graph.edgelist:3:", "found 1 fields"),
        ("a b\nb c -1\n", "a 1\nb 2\nc 1\n", "graph.edgelist:2:", "positive"),
        ("a b\nb c\n", "a 1\nz 2\n", "labels.txt:2:", "node \"z\" is not in the edge list"),
        ("a b\nb c\n", "a 1\nb 2\na 2\n", "labels.txt:3:", "already has a line (line 1)"),
        ("a b\nb c\n", "a\nb\n", "labels.txt", "no node has a label"),
        ("a b\nb c\n", "a 1\nb 1\nc 1\n", "labels.txt", "single label \"1\""),
        // A stray label, and two lines run together ("b 2c 1"), each put a class on one node.
        ("a b\nb c\nc d\n", "a 1\nb 2\nc 1 2\nd 7\n", "labels.txt:4:", "label \"7\" of node \"d\" is on no other node"),
        ("a b\nb c\nc d\n", "a 1\nb 2c 1\nd 2\n", "labels.txt:2:", "label \"2c\" of node \"b\" is on no other node"),
        ("# nothing\n\n", "a 1\n", "graph.edgelist", "no edges"),
    ];
    for (edges, labels, place, what) in cases {
        let dir = tempfile::tempdir()?;
        let config = config(dir.path(), edges, labels)?;
        let message = match Graph::load(&config, 1) {
            Ok(_) => return Err(format!("{edges:?} / {labels:?} loaded").into()),
            Err(error) => error.to_string(),
        };
        assert!(message.contains(place) && message.contains(what), "{message:?} lacks {place:?} or {what:?}");
    }
    Ok(())
}

#[test]
fn invalid_feature_tables_and_settings_are_errors() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut config = config(dir.path(), "a b\nb c\n", "a 1 2\nb 2\nc 1\n")?;
    config.labelled_fraction = 0.34;
    let bad_value = write(dir.path(), "bad.tsv", "node\tf\na\t1\nb\tx\nc\t3\n")?;
    config.features = vec![NodeFeatures::File(bad_value)];
    let message = Graph::load(&config, 1).map(|_| ()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("bad.tsv, line 3"), "{message}");
    let missing = write(dir.path(), "missing.tsv", "node\tf\na\t1\nb\t2\n")?;
    config.features = vec![NodeFeatures::File(missing)];
    assert!(matches!(Graph::load(&config, 1), Err(GraphError::MissingFeatures { node, .. }) if node == "c"));
    let unknown = write(dir.path(), "unknown.tsv", "node\tf\na\t1\nb\t2\nc\t3\nq\t4\n")?;
    config.features = vec![NodeFeatures::File(unknown)];
    assert!(matches!(Graph::load(&config, 1), Err(GraphError::UnknownNode { line: 5, .. })));

    config.features = vec![NodeFeatures::Identity];
    for (labelled, validation) in [(0.0, 0.1), (1.0, 0.1), (0.6, 0.4), (0.5, 0.0)] {
        config.labelled_fraction = labelled;
        config.validation_fraction = validation;
        assert!(matches!(Graph::load(&config, 1), Err(GraphError::Config { .. })), "{labelled} {validation}");
    }
    // Three labelled nodes cannot fill three splits at 0.5 / 0.1.
    config.labelled_fraction = 0.5;
    config.validation_fraction = 0.1;
    assert!(matches!(Graph::load(&config, 1), Err(GraphError::EmptySplit { .. })));
    Ok(())
}
