//! GCN node classification end to end on small synthetic graphs, and (ignored) the PPI example.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use omix_data::graph::GraphConfig;
use omix_models::GcnConfig;
use omix_train::graph::{GraphExperimentConfig, GraphModel, run_graph_experiment, train_graph};
use omix_train::{Monitor, RunDir, TrainConfig, TrainOptions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// burn's flex device has one process-wide random generator (seeded per run for weights and
/// dropout), so tests that train must not interleave or their draws would mix.
static DEVICE_RNG: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    DEVICE_RNG.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Two communities of `size` nodes (dense inside, sparse between); labels are the community,
/// plus (multi-label) a second label on every third node.
fn two_communities(dir: &Path, size: usize, multi_label: bool, flips: usize) -> Result<GraphConfig, std::io::Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut edges = String::new();
    for i in 0..2 * size {
        for j in i + 1..2 * size {
            let same = i / size == j / size;
            if rng.random_bool(if same { 0.4 } else { 0.03 }) {
                edges.push_str(&format!("n{i}\tn{j}\n"));
            }
        }
    }
    let mut labels = String::new();
    for i in 0..2 * size {
        // A few nodes carry the other community's label: only memorising fits them.
        let community = (i / size + usize::from(i % (2 * size / flips.max(1)) == 0 && flips > 0)) % 2;
        let extra = if multi_label && i % 3 == 0 { " c" } else { "" };
        labels.push_str(&format!("n{i} {}{extra}\n", ["a", "b"][community]));
    }
    let edges_path = dir.join("graph.tsv");
    let labels_path = dir.join("labels.txt");
    std::fs::write(&edges_path, edges)?;
    std::fs::write(&labels_path, labels)?;
    Ok(GraphConfig::new(edges_path, labels_path))
}

#[test]
fn gcn_can_overfit_a_small_graph() -> TestResult {
    let _serial = serial();
    let dir = tempfile::tempdir()?;
    // 40 labelled nodes, 32 of them for training; 4 carry the "wrong" community label.
    let graph =
        GraphConfig { labelled_fraction: 0.8, validation_fraction: 0.1, ..two_communities(dir.path(), 20, false, 4)? };
    let config = GraphExperimentConfig {
        seed: 3,
        graph,
        model: GraphModel::Gcn(GcnConfig { hidden: vec![32], dropout: 0.0 }),
        train: TrainConfig {
            learning_rate: 0.02,
            epochs: 300,
            patience: 0,
            restore_best: false,
            ..TrainConfig::default()
        },
    };
    let run = RunDir::new(dir.path().join("run"));
    let result =
        train_graph(&config, &run, &burn::prelude::Device::flex(), TrainOptions::default(), &mut |_: &str| {})?;
    assert_eq!(result.train_score, 1.0, "training accuracy after {} epochs", result.history.len());
    assert!(result.history.last().is_some_and(|r| r.train_loss < 0.05));
    for name in
        ["config.toml", "metrics.json", "training_log.tsv", "model.bpk", "split_manifest.tsv", "test_predictions.tsv"]
    {
        assert!(run.path(name).exists(), "{name} is missing");
    }
    let manifest = std::fs::read_to_string(run.path("split_manifest.tsv"))?;
    assert_eq!(manifest.lines().count(), 41);
    assert_eq!(manifest.lines().filter(|l| l.contains("\ttrain\t")).count(), 32);
    let predictions = std::fs::read_to_string(run.path("test_predictions.tsv"))?;
    assert_eq!(predictions.lines().next(), Some("node\tlabels\tprobability_a\tprobability_b\tpredicted"));
    assert_eq!(predictions.lines().count(), 1 + 4);
    Ok(())
}

#[test]
fn multi_label_runs_are_deterministic_and_report_both_rules() -> TestResult {
    let _serial = serial();
    let dir = tempfile::tempdir()?;
    let graph = GraphConfig {
        features: vec![
            omix_data::graph::NodeFeatures::Identity,
            omix_data::graph::NodeFeatures::Degree,
            omix_data::graph::NodeFeatures::RandomWalk,
        ],
        ..two_communities(dir.path(), 30, true, 0)?
    };
    let config = GraphExperimentConfig {
        seed: 9,
        graph,
        model: GraphModel::Gcn(GcnConfig { hidden: vec![16], dropout: 0.5 }),
        train: TrainConfig {
            learning_rate: 0.01,
            epochs: 25,
            monitor: Monitor::F1,
            patience: 0,
            ..TrainConfig::default()
        },
    };
    let mut metrics = Vec::new();
    for name in ["first", "second"] {
        let run = RunDir::new(dir.path().join(name));
        let summary = run_graph_experiment(
            &config,
            &run,
            &burn::prelude::Device::flex(),
            TrainOptions::default(),
            &mut |_: &str| {},
        )?;
        assert!(summary.finished);
        for key in ["validation", "test", "validation_threshold", "test_threshold"] {
            assert!(summary.metrics.contains_key(key), "no {key} metrics");
        }
        assert!(summary.metrics["test"].get("f1").is_some_and(|f1| (0.0..=1.0).contains(&f1)));
        metrics.push(std::fs::read_to_string(run.path("metrics.json"))?);
    }
    assert_eq!(metrics[0], metrics[1], "same seed, different metrics.json");
    let json: serde_json::Value = serde_json::from_str(&metrics[0])?;
    assert_eq!(json["decision_rule"], "top_k");
    assert_eq!(json["task"], "multilabel");
    assert!(json["test"]["macro_f1"].is_number() && json["test_threshold"]["micro_f1"].is_number());
    Ok(())
}

#[test]
fn stop_after_leaves_no_metrics() -> TestResult {
    let _serial = serial();
    let dir = tempfile::tempdir()?;
    let config = GraphExperimentConfig {
        seed: 1,
        graph: two_communities(dir.path(), 10, false, 0)?,
        model: GraphModel::default(),
        train: TrainConfig { epochs: 10, ..TrainConfig::default() },
    };
    let run = RunDir::new(dir.path().join("run"));
    let options = TrainOptions { stop_after: Some(2), ..TrainOptions::default() };
    let summary = run_graph_experiment(&config, &run, &burn::prelude::Device::flex(), options, &mut |_: &str| {})?;
    assert!(!summary.finished && summary.epochs == 2);
    assert!(!run.path("metrics.json").exists());
    Ok(())
}

/// Graph training runs in the shared loop, so a stopped run resumes from its checkpoint and ends
/// exactly where an uninterrupted one does (dropout and early stopping included).
#[test]
fn graph_runs_resume_like_uninterrupted_ones() -> TestResult {
    let _serial = serial();
    let dir = tempfile::tempdir()?;
    let config = GraphExperimentConfig {
        seed: 5,
        graph: two_communities(dir.path(), 12, true, 0)?,
        model: GraphModel::Gcn(GcnConfig { hidden: vec![16], dropout: 0.3 }),
        train: TrainConfig {
            learning_rate: 0.02,
            epochs: 12,
            patience: 4,
            reduce_on_plateau: Some(omix_train::PlateauConfig { factor: 0.5, patience: 2, min_learning_rate: 1e-5 }),
            ..TrainConfig::default()
        },
    };
    let device = burn::prelude::Device::flex();
    let whole = RunDir::new(dir.path().join("whole"));
    run_graph_experiment(&config, &whole, &device, TrainOptions::default(), &mut |_: &str| {})?;
    let parts = RunDir::new(dir.path().join("parts"));
    let first = TrainOptions { stop_after: Some(3), ..TrainOptions::default() };
    assert!(!run_graph_experiment(&config, &parts, &device, first, &mut |_: &str| {})?.finished);
    assert!(parts.path("checkpoint/state.json").exists(), "graph runs checkpoint in the shared loop");
    let mut lines = Vec::new();
    let resume = TrainOptions { resume: true, ..TrainOptions::default() };
    run_graph_experiment(&config, &parts, &device, resume, &mut |line: &str| lines.push(line.to_string()))?;
    assert!(lines.iter().any(|line| line.starts_with("resuming after epoch 3")), "{lines:?}");
    let read = |run: &RunDir, name: &str| std::fs::read_to_string(run.path(name));
    assert_eq!(read(&parts, "metrics.json")?, read(&whole, "metrics.json")?);
    assert_eq!(read(&parts, "test_predictions.tsv")?, read(&whole, "test_predictions.tsv")?);
    let log = read(&parts, "training_log.tsv")?;
    assert!(log.starts_with("epoch\tlearning_rate\ttrain_loss\tvalidation_loss\tvalidation_macro_f1"), "{log}");
    Ok(())
}

/// The PPI example (`examples/ppi_gcn.toml`), when the shared data is there:
/// `cargo test --release -p omix-train --test graph -- --ignored --nocapture`.
#[test]
#[ignore = "trains on the shared PPI data (`../shared/data/ppi` beside the repository; a few minutes)"]
fn ppi_example() -> TestResult {
    let _serial = serial();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize()?;
    // OMIX_PPI_CONFIG runs another config file (tuning); paths are relative to that file.
    let example = std::env::var("OMIX_PPI_CONFIG").map_or_else(|_| root.join("examples/ppi_gcn.toml"), Into::into);
    let text = std::fs::read_to_string(&example)?;
    let mut config = GraphExperimentConfig::from_toml(&text)?;
    config.graph.resolve_paths(example.parent().unwrap_or(Path::new(".")));
    if !config.graph.edges.exists() {
        eprintln!("skipped: {} is not there", config.graph.edges.display());
        return Ok(());
    }
    if let Ok(seed) = std::env::var("OMIX_PPI_SEED") {
        config.seed = seed.parse()?;
    }
    let dir = tempfile::tempdir()?;
    let run = RunDir::new(std::env::var("OMIX_PPI_RUN").map_or_else(|_| dir.path().join("ppi"), Into::into));
    let started = std::time::Instant::now();
    let summary = run_graph_experiment(
        &config,
        &run,
        &burn::prelude::Device::flex(),
        TrainOptions::default(),
        &mut |line: &str| eprintln!("{line}"),
    )?;
    for (split, metrics) in &summary.metrics {
        println!("{split}: {}", metrics.summary());
    }
    println!(
        "best epoch {} of {}, training {:.1}s, wall {:.1}s",
        summary.best_epoch,
        summary.epochs,
        summary.training_seconds,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
