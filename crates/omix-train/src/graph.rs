//! Node classification on a graph: full-batch GCN training, evaluation and the run folder.
//!
//! The experiment file has the usual shape (`seed`, `[graph]` instead of `[data]`, `[model]`
//! with `kind = "gcn"`, `[train]`). Every epoch is one optimiser step on the whole graph: the
//! network runs on all nodes (unlabelled ones propagate too) and the loss is taken on the
//! training nodes only (sigmoid BCE for multi-label, softmax cross-entropy for multi-class).
//! `batch_size` and `engine` do not apply; everything else in `[train]` means what it means for
//! sequences, and the epochs run in the same loop ([`crate::fit`]: early stopping,
//! reduce-on-plateau, checkpoints and `--resume`).
//!
//! # Reported decision rule
//!
//! Multi-class: the argmax. Multi-label: node2vec's protocol (Grover & Leskovec 2016, as in
//! DeepWalk and LINE before it): each node is predicted to have its **k highest-scoring labels,
//! k being its true number of labels**. That is how the published PPI macro-F1 values were
//! computed, so `validation` and `test` in `metrics.json` (and [`ExperimentSummary::metrics`])
//! hold F1, precision and recall under that rule, with AUROC/AUPRC from the probabilities;
//! `validation_threshold` / `test_threshold` hold the same metrics at the fixed `[train]
//! threshold` (0.5). The monitored `f1` is the macro-F1 of the reported rule.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, softmax};
use omix_data::graph::{Graph, GraphError};
use omix_data::{Split, Task};
use omix_io::write_atomically;
pub use omix_metrics::top_k_decisions;
use omix_metrics::{multiclass_metrics, multilabel_metrics};
use omix_models::{Gcn, GraphShape, SparseMatrix};
use omix_run::{Check, EpochRecord, MetricsFile, Observer, RunDir, files, write_node_manifest, write_node_predictions};

use crate::baseline::{BaselineReport, compare};
use crate::checks::{best_epoch_is_last, never_predicted, record_checks};
use crate::evaluate::read_back;
use crate::fit::{Trainee, Validation, fit};
use crate::objective::{Objective, batch_loss};
use crate::run::weights_to_bytes;
use crate::trainer::optimizer;
use crate::{ExperimentSummary, Metrics, TrainError, TrainOptions};
use omix_config::Monitor;
pub use omix_config::{GraphExperimentConfig, GraphModel};

/// A [`GraphError`] as a [`TrainError`] (its `file:line: what` message kept as is).
pub fn graph_error(error: GraphError) -> TrainError {
    match error {
        GraphError::Io(error) => TrainError::Io(error),
        other => TrainError::Graph(other),
    }
}

/// Metrics of one split under the reported decision rule, and at the fixed threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeMetrics {
    /// Top-k (multi-label) or argmax (multi-class) decisions; ranking metrics from the scores.
    pub reported: Metrics,
    /// Multi-label only: decisions `score >= threshold`.
    pub threshold: Option<Metrics>,
}

/// Metrics of the given nodes; `labels` and `scores` are `[all nodes, classes]`.
pub fn node_metrics(
    task: Task,
    labels: &[f32],
    scores: &[f64],
    nodes: &[usize],
    class_names: &[String],
    threshold: f64,
) -> Result<NodeMetrics, TrainError> {
    let classes = class_names.len();
    let rows = |values: &dyn Fn(usize) -> f64| -> Vec<f64> {
        nodes.iter().flat_map(|&n| (0..classes).map(move |c| n * classes + c)).map(values).collect()
    };
    let truth: Vec<bool> = rows(&|i| f64::from(labels[i])).iter().map(|&v| v > 0.5).collect();
    let probabilities = rows(&|i| scores[i]);
    if task == Task::Multilabel {
        let at_threshold = multilabel_metrics(&truth, &probabilities, class_names, threshold)?;
        let decisions: Vec<f64> =
            top_k_decisions(&truth, &probabilities, classes).iter().map(|&d| f64::from(u8::from(d))).collect();
        let mut reported = multilabel_metrics(&truth, &decisions, class_names, 0.5)?;
        // Ranking metrics come from the scores, not from the 0/1 decisions.
        reported.macro_auroc = at_threshold.macro_auroc;
        reported.median_auroc = at_threshold.median_auroc;
        reported.macro_auprc = at_threshold.macro_auprc;
        reported.median_auprc = at_threshold.median_auprc;
        for ((_, ours), (_, theirs)) in reported.per_task.iter_mut().zip(&at_threshold.per_task) {
            ours.auroc = theirs.auroc;
            ours.auprc = theirs.auprc;
        }
        return Ok(NodeMetrics {
            reported: Metrics::Multilabel(reported),
            threshold: Some(Metrics::Multilabel(at_threshold)),
        });
    }
    let classes_of: Vec<usize> = truth.chunks(classes).map(|row| row.iter().position(|&t| t).unwrap_or(0)).collect();
    Ok(NodeMetrics {
        reported: Metrics::Multiclass(multiclass_metrics(&classes_of, &probabilities, class_names)?),
        threshold: None,
    })
}

/// The graph's tensors on one device.
struct GraphTensors {
    adjacency: SparseMatrix,
    features: Option<Tensor<2>>,
}

impl GraphTensors {
    fn new(graph: &Graph, device: &Device) -> Result<Self, TrainError> {
        let n = graph.nodes.len();
        let a = &graph.adjacency;
        let adjacency = SparseMatrix::from_coo(&a.rows, &a.cols, &a.values, [n, n], device)?;
        let width = graph.features.columns.len();
        let features = (width > 0)
            .then(|| Tensor::<2>::from_data(TensorData::new(graph.features.values.clone(), [n, width]), device));
        Ok(Self { adjacency, features })
    }
}

/// Probabilities `[nodes, classes]` of every node (sigmoid or softmax), row-major.
fn predict(model: &Gcn, tensors: &GraphTensors, task: Task) -> Result<Vec<f64>, TrainError> {
    let logits = model.forward(tensors.features.clone(), &tensors.adjacency);
    let probabilities = match task {
        Task::Multiclass => softmax(logits, 1),
        _ => sigmoid(logits),
    };
    Ok(read_back(probabilities)?.into_iter().map(f64::from).collect())
}

/// What a graph experiment produced besides the summary: the trained model and the log.
#[derive(Debug)]
pub struct GraphRun {
    /// Metrics, best epoch, timing.
    pub summary: ExperimentSummary,
    /// The trained model (validation mode).
    pub model: Option<Gcn>,
    /// One record per epoch.
    pub history: Vec<EpochRecord>,
    /// Training accuracy (multi-class) or top-k micro-F1 (multi-label) of the final model.
    pub train_score: f64,
}

/// The validation columns of a graph run's training log.
const LOG_COLUMNS: [&str; 3] = ["validation_macro_f1", "validation_micro_f1", "validation_auroc"];

/// A node-classification experiment as the shared loop trains it: every epoch is one full-batch
/// optimiser step, the loss taken on the training nodes only.
struct GraphTrainee<'a> {
    graph: &'a Graph,
    threshold: f64,
    on_train: GraphTensors,
    on_eval: GraphTensors,
    index: Tensor<1, Int>,
    targets: Tensor<2>,
    weights: Tensor<1>,
    validation_nodes: Vec<usize>,
}

/// A hash of the graph as training sees it: nodes, edges, features, labels and splits.
fn graph_fingerprint(graph: &Graph) -> u64 {
    let mut hash = omix_io::ContentHash::new();
    for node in &graph.nodes {
        hash.update(node.as_bytes());
        hash.update(&[0]);
    }
    let adjacency = &graph.adjacency;
    for (row, col) in adjacency.rows.iter().zip(&adjacency.cols) {
        hash.update(&(*row as u64).to_le_bytes());
        hash.update(&(*col as u64).to_le_bytes());
    }
    for value in adjacency.values.iter().chain(&graph.features.values).chain(&graph.labels) {
        hash.update(&value.to_le_bytes());
    }
    for split in &graph.splits {
        hash.update(split.map_or("-", |split| split.name()).as_bytes());
    }
    hash.value()
}

impl Trainee for GraphTrainee<'_> {
    type Module = Gcn;

    fn data_fingerprint(&self) -> u64 {
        graph_fingerprint(self.graph)
    }

    fn log_columns(&self) -> &'static [&'static str] {
        &LOG_COLUMNS
    }

    fn train_epoch(
        &mut self,
        model: Gcn,
        optim: &mut ModuleOptimizer,
        epoch: usize,
        learning_rate: f64,
        _status: &str,
        _observer: &mut dyn Observer,
    ) -> (Gcn, Result<f64, TrainError>) {
        let logits = model.forward(self.on_train.features.clone(), &self.on_train.adjacency); // [N, C]
        let objective = Objective::for_classes(self.graph.task);
        let loss =
            batch_loss(logits.select(0, self.index.clone()), self.targets.clone(), self.weights.clone(), objective);
        let train_loss = f64::from(loss.clone().into_scalar::<f32>());
        if !train_loss.is_finite() {
            return (model, Err(TrainError::Diverged { epoch, batch: 1, loss: train_loss }));
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        (optim.step(learning_rate, model, grads), Ok(train_loss))
    }

    fn steps_per_epoch(&self) -> usize {
        1
    }

    fn sample_steps(
        &mut self,
        model: Gcn,
        optim: &mut ModuleOptimizer,
        steps: usize,
        learning_rate: f64,
    ) -> (Gcn, Result<Vec<f64>, TrainError>) {
        let mut model = model;
        let mut seconds = Vec::with_capacity(steps);
        for step in 1..=steps {
            let started = Instant::now();
            let (next, loss) = self.train_epoch(model, optim, step, learning_rate, "", &mut omix_run::Silent);
            seconds.push(started.elapsed().as_secs_f64());
            model = next;
            if let Err(error) = loss {
                return (model, Err(error));
            }
        }
        (model, Ok(seconds))
    }

    fn validate(&mut self, model: &Gcn) -> Result<Validation, TrainError> {
        let graph = self.graph;
        let classes = graph.class_count();
        let scores = predict(&model.valid(), &self.on_eval, graph.task)?;
        let nodes = &self.validation_nodes;
        let predictions: Vec<f64> =
            nodes.iter().flat_map(|&n| scores[n * classes..(n + 1) * classes].iter().copied()).collect();
        let targets: Vec<f32> = nodes.iter().flat_map(|&n| graph.label_row(n).iter().copied()).collect();
        let loss = Objective::for_classes(graph.task).mean_loss(&predictions, &targets, classes);
        let metrics = node_metrics(graph.task, &graph.labels, &scores, nodes, &graph.class_names, self.threshold)?;
        let (macro_f1, micro_f1) = f1_pair(&metrics.reported);
        Ok(Validation {
            loss,
            columns: vec![Some(macro_f1), Some(micro_f1), metrics.reported.get("auroc")],
            note: format!("macro-F1 {macro_f1:.4}  micro-F1 {micro_f1:.4}"),
            metrics: metrics.reported,
        })
    }
}

/// A graph experiment checked and its graph loaded, before anything is written.
struct PreparedGraph {
    graph: Graph,
    shape: GraphShape,
}

/// Check the config, load the graph and check the model against it.
fn prepare_graph(config: &GraphExperimentConfig) -> Result<PreparedGraph, TrainError> {
    config.check()?;
    let train_config = &config.train;
    let graph = Graph::load(&config.graph, config.seed).map_err(graph_error)?;
    let classes = graph.class_count();
    if graph.task == Task::Multilabel
        && matches!(train_config.monitor, Monitor::Accuracy | Monitor::BalancedAccuracy | Monitor::Mcc)
    {
        return Err(TrainError::Config {
            field: "monitor",
            message: format!(
                "{} is not defined for multi-label graphs; use loss, f1, auroc or auprc",
                train_config.monitor.name()
            ),
        });
    }
    let shape = GraphShape {
        nodes: graph.nodes.len(),
        identity: graph.features.identity,
        features: graph.features.columns.len(),
        outputs: classes,
    };
    config.gcn().check(shape)?;
    Objective::for_classes(graph.task)
        .check_loss(train_config.loss, &format!("the task is {} node classification", graph.task.name()))
        .map_err(|message| TrainError::Config { field: "loss", message })?;
    Ok(PreparedGraph { graph, shape })
}

/// Tell the observer what was loaded, the model and its size, and the checks.
fn describe_graph(config: &GraphExperimentConfig, prepared: &PreparedGraph, observer: &mut dyn Observer) -> Vec<Check> {
    let (graph, shape, gcn) = (&prepared.graph, prepared.shape, config.gcn());
    for line in graph.summary_lines() {
        observer.message(&line);
    }
    let parameters = gcn.parameter_count(shape);
    observer.message(&format!(
        "model: gcn, {} graph convolutions, hidden units {} ({parameters} trainable parameters)",
        gcn.depth(),
        gcn.hidden.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
    ));
    let train_nodes = graph.indices(Split::Train);
    let mut checks: Vec<Check> = Vec::new();
    if parameters > 100 * train_nodes.len() {
        checks.push(Check::info(
            "many_parameters",
            format!("{parameters} parameters for {} training nodes", train_nodes.len()),
            "a model far larger than its training set needs dropout, weight decay and early stopping on the validation nodes",
        ));
    }
    for check in &checks {
        observer.message(&format!("{}: {}\n  why: {}", check.severity, check.message, check.reason));
    }
    checks
}

/// The trainee of a graph experiment, its freshly initialised model and the autodiff device.
fn graph_trainee<'a>(
    config: &GraphExperimentConfig,
    graph: &'a Graph,
    shape: GraphShape,
    device: &Device,
) -> Result<(GraphTrainee<'a>, Gcn, Device), TrainError> {
    let (train_config, gcn, classes) = (&config.train, config.gcn(), graph.class_count());
    let train_nodes = graph.indices(Split::Train);
    let validation_nodes = graph.indices(Split::Validation);
    let device = device.clone().without_autodiff();
    let train_device = device.clone().autodiff();
    train_device.seed(config.seed);
    let model = gcn.init(shape, &train_device)?;
    let on_train = GraphTensors::new(graph, &train_device)?;
    let index = Tensor::<1, Int>::from_data(
        TensorData::new(train_nodes.iter().map(|&i| i as i64).collect::<Vec<_>>(), [train_nodes.len()]),
        &train_device,
    );
    let target_values: Vec<f32> = train_nodes.iter().flat_map(|&n| graph.label_row(n).iter().copied()).collect();
    let targets = Tensor::<2>::from_data(TensorData::new(target_values, [train_nodes.len(), classes]), &train_device);
    let weights = Tensor::<1>::ones([train_nodes.len()], &train_device);
    let trainee = GraphTrainee {
        graph,
        threshold: train_config.threshold,
        on_train,
        on_eval: GraphTensors::new(graph, &device)?,
        index,
        targets,
        weights,
        validation_nodes: validation_nodes.clone(),
    };
    Ok((trainee, model, train_device))
}

/// What `omix train --dry-run` does for a graph experiment: everything before the first epoch,
/// nothing written, then `steps` real epochs (one optimiser step each) timed and dropped.
pub fn dry_run_graph_experiment(
    config: &GraphExperimentConfig,
    device: &Device,
    steps: usize,
    observer: &mut dyn Observer,
) -> Result<crate::DryRun, TrainError> {
    let prepared = prepare_graph(config)?;
    let checks = describe_graph(config, &prepared, observer);
    let gcn = config.gcn();
    let parameters = gcn.parameter_count(prepared.shape);
    let layers = format!("{}", gcn.init(prepared.shape, &device.clone().without_autodiff())?);
    let (mut trainee, model, _) = graph_trainee(config, &prepared.graph, prepared.shape, device)?;
    let estimate = crate::fit::estimate(&mut trainee, model, optimizer(&config.train), &config.train, steps, observer)?;
    let graph = &prepared.graph;
    let data_bytes = 4
        * (graph.adjacency.values.len() as u128 * 3 + graph.features.values.len() as u128 + graph.labels.len() as u128);
    let memory = crate::MemoryEstimate {
        data_bytes,
        parameter_bytes: omix_data::memory::parameter_bytes(
            parameters,
            crate::experiment::optimizer_slots(&config.train),
        ),
        measured_peak_bytes: omix_data::memory::peak_resident_memory(),
    };
    Ok(crate::DryRun { parameters, layers, estimate, memory, checks })
}

/// Run a node-classification experiment into a run folder (created if needed).
///
/// `summary.metrics` holds `validation` and `test` under the reported decision rule (see the
/// module docs), and for multi-label graphs also `validation_threshold` and `test_threshold`.
pub fn run_graph_experiment(
    config: &GraphExperimentConfig,
    run: &RunDir,
    device: &Device,
    options: TrainOptions,
    observer: &mut dyn Observer,
) -> Result<ExperimentSummary, TrainError> {
    Ok(train_graph(config, run, device, options, observer)?.summary)
}

/// [`run_graph_experiment`], also returning the model and the per-epoch log.
pub fn train_graph(
    config: &GraphExperimentConfig,
    run: &RunDir,
    device: &Device,
    options: TrainOptions,
    observer: &mut dyn Observer,
) -> Result<GraphRun, TrainError> {
    let prepared = prepare_graph(config)?;
    let (graph, shape) = (&prepared.graph, prepared.shape);
    let train_config = &config.train;
    let objective = Objective::for_classes(graph.task);
    let classes = graph.class_count();
    if options.resume {
        crate::fit::refuse_changed_data(run, graph_fingerprint(graph))?;
    }
    run.create()?;
    // The resolved config names the loss trained with.
    let mut resolved = config.clone();
    resolved.train.loss = Some(objective.loss());
    run.write_toml(files::CONFIG, &resolved)?;
    run.write_json(files::DATA_REPORT, &graph.report)?;
    write_node_manifest(run, graph)?;

    let mut checks = describe_graph(config, &prepared, observer);
    run.write_json(files::CHECKS, &checks)?;
    let train_nodes = graph.indices(Split::Train);
    let validation_nodes = graph.indices(Split::Validation);
    let test_nodes = graph.indices(Split::Test);
    let (mut trainee, model, train_device) = graph_trainee(config, graph, shape, device)?;
    let started = Instant::now();
    let fitted = fit(
        &mut trainee,
        model,
        optimizer(train_config),
        train_config,
        config.seed,
        &train_device,
        run,
        options,
        observer,
    )?;
    let on_eval = trainee.on_eval;
    let history = fitted.history;
    let finished = fitted.finished;
    let training_seconds = started.elapsed().as_secs_f64();
    if !finished {
        let summary = ExperimentSummary {
            metrics: BTreeMap::new(),
            checks,
            best_epoch: fitted.best_epoch,
            epochs: history.len(),
            training_seconds,
            finished: false,
            baseline: None,
        };
        return Ok(GraphRun { summary, model: None, history, train_score: f64::NAN });
    }
    let (model, kept_epoch) = (fitted.model, fitted.best_epoch);
    let bytes = weights_to_bytes(&model)?;
    write_atomically(&run.path(files::WEIGHTS), |out| out.write_all(&bytes))?;

    let scores = predict(&model, &on_eval, graph.task)?;
    let mut metrics = BTreeMap::new();
    let mut after_training: Vec<Check> =
        best_epoch_is_last(&history, train_config.monitor.name()).into_iter().collect();
    for (split, nodes) in [(Split::Validation, &validation_nodes), (Split::Test, &test_nodes)] {
        // Multi-label graphs report top-k decisions, which predict something for every node;
        // the threshold's decisions are the ones that can leave a task out.
        let rows: Vec<f64> =
            nodes.iter().flat_map(|&n| scores[n * classes..(n + 1) * classes].iter().copied()).collect();
        after_training.extend(never_predicted(
            graph.task,
            &graph.class_names,
            &rows,
            train_config.threshold,
            split.name(),
            "nodes",
        ));
        let result =
            node_metrics(graph.task, &graph.labels, &scores, nodes, &graph.class_names, train_config.threshold)?;
        observer.message(&format!("{} ({} nodes): {}", split.name(), nodes.len(), result.reported.summary()));
        if let Some(threshold) = result.threshold {
            observer.message(&format!("  at threshold {}: {}", train_config.threshold, threshold.summary()));
            metrics.insert(format!("{}_threshold", split.name()), threshold);
        }
        metrics.insert(split.name().to_string(), result.reported);
    }
    record_checks(run, &mut checks, after_training, observer)?;
    let baseline = if train_config.baseline {
        let report = neighbour_vote_baseline(graph, &train_nodes, &test_nodes, &scores, config.seed)?;
        observer.message(&format!(
            "baseline: {}\n  test: {}\n  {}",
            report.model,
            report.test.summary(),
            report.comparison.verdict
        ));
        Some(report)
    } else {
        None
    };
    write_node_predictions(&run.path(files::TEST_PREDICTIONS), graph, &test_nodes, &scores)?;
    run.write_json(
        files::METRICS,
        &MetricsFile {
            splits: &metrics,
            decision_rule: Some(if graph.task == Task::Multilabel { "top_k" } else { "argmax" }),
            embedding: None,
            best_epoch: kept_epoch,
            epochs_run: history.len(),
            task: graph.task,
            class_names: &graph.class_names,
            baseline: baseline.as_ref(),
            device: crate::engine::device_record(device),
        },
    )?;
    let train_metrics = node_metrics(graph.task, &graph.labels, &scores, &train_nodes, &graph.class_names, 0.5)?;
    let train_score = match &train_metrics.reported {
        Metrics::Multiclass(m) => m.accuracy,
        other => f1_pair(other).1,
    };
    let summary = ExperimentSummary {
        metrics,
        checks,
        best_epoch: kept_epoch,
        epochs: history.len(),
        training_seconds,
        finished: true,
        baseline,
    };
    Ok(GraphRun { summary, model: Some(model), history, train_score })
}

/// The graph's "simple first" baseline: each node scores each class by the normalised-adjacency
/// weighted vote of its training-node neighbours, `Â · Y_train` (label propagation for one
/// step), with the GCN's decision rule. Compared with the GCN on the test nodes by a paired
/// bootstrap of the macro-F1.
fn neighbour_vote_baseline(
    graph: &Graph,
    train_nodes: &[usize],
    test_nodes: &[usize],
    model_scores: &[f64],
    seed: u64,
) -> Result<BaselineReport, TrainError> {
    let classes = graph.class_names.len();
    let mut known = vec![0.0f64; graph.labels.len()];
    for &node in train_nodes {
        for class in 0..classes {
            known[node * classes + class] = f64::from(graph.labels[node * classes + class]);
        }
    }
    let adjacency = &graph.adjacency;
    let mut votes = vec![0.0f64; graph.labels.len()];
    for ((&row, &col), &value) in adjacency.rows.iter().zip(&adjacency.cols).zip(&adjacency.values) {
        for class in 0..classes {
            votes[row * classes + class] += f64::from(value) * known[col * classes + class];
        }
    }
    let test = node_metrics(graph.task, &graph.labels, &votes, test_nodes, &graph.class_names, 0.5)?.reported;
    // Decisions of both models on the test nodes, fixed once; the bootstrap resamples nodes.
    let truth: Vec<bool> =
        test_nodes.iter().flat_map(|&n| (0..classes).map(move |c| graph.labels[n * classes + c] > 0.5)).collect();
    let decide = |scores: &[f64]| -> Vec<bool> {
        let rows: Vec<f64> =
            test_nodes.iter().flat_map(|&n| (0..classes).map(move |c| scores[n * classes + c])).collect();
        if graph.task == Task::Multilabel {
            return top_k_decisions(&truth, &rows, classes);
        }
        let mut decisions = vec![false; rows.len()];
        for (index, row) in rows.chunks(classes.max(1)).enumerate() {
            let best = (0..row.len()).fold(0, |best, c| if row[c] > row[best] { c } else { best });
            decisions[index * classes + best] = true;
        }
        decisions
    };
    let (ours, theirs) = (decide(model_scores), decide(&votes));
    let macro_f1 = |decisions: &[bool], sample: &[usize]| -> f64 {
        let mut total = 0.0;
        for class in 0..classes {
            let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
            for &i in sample {
                match (decisions[i * classes + class], truth[i * classes + class]) {
                    (true, true) => tp += 1.0,
                    (true, false) => fp += 1.0,
                    (false, true) => fn_ += 1.0,
                    (false, false) => {}
                }
            }
            if tp > 0.0 {
                total += 2.0 * tp / (2.0 * tp + fp + fn_);
            }
        }
        total / classes.max(1) as f64
    };
    let comparison = compare("macro-F1", true, test_nodes.len(), seed, |sample| {
        Some((macro_f1(&ours, sample), macro_f1(&theirs, sample)))
    })?;
    Ok(BaselineReport {
        model: "neighbour vote: Â · Y over the training nodes' labels (one step of label propagation)".into(),
        regularization: None,
        test,
        comparison,
        candidates: Vec::new(),
    })
}

/// (macro-F1, micro-F1) of multi-class or multi-label metrics.
fn f1_pair(metrics: &Metrics) -> (f64, f64) {
    match metrics {
        Metrics::Multiclass(m) => (m.macro_f1, m.micro_f1),
        Metrics::Multilabel(m) => (m.macro_f1, m.micro_f1),
        _ => (f64::NAN, f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_f1_by_hand() -> Result<(), TrainError> {
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        // Node 0: {a, b}, node 1: {c}, node 2: {a}.
        let labels = [1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        let scores = [0.9, 0.2, 0.8, 0.3, 0.1, 0.4, 0.45, 0.5, 0.05];
        // Top-k: node 0 → {a, c}, node 1 → {c}, node 2 → {b}.
        // a: tp 1, fn 1 → F1 2/3; b: tp 0, fp 1, fn 1 → 0; c: tp 1, fp 1 → 2/3.
        // micro: tp 2, fp 2, fn 2 → 0.5.
        let result = node_metrics(Task::Multilabel, &labels, &scores, &[0, 1, 2], &names, 0.5)?;
        let Metrics::Multilabel(reported) = &result.reported else {
            return Err(TrainError::Config { field: "test", message: "expected multi-label metrics".into() });
        };
        assert!((reported.macro_f1 - 4.0 / 9.0).abs() < 1e-12);
        assert!((reported.micro_f1 - 0.5).abs() < 1e-12);
        // At 0.5: node 0 → {a, c}, node 1 → {}, node 2 → {b}: a 2/3, b 0, c tp 0 fp 1 fn 1 → 0.
        let Some(Metrics::Multilabel(fixed)) = &result.threshold else {
            return Err(TrainError::Config { field: "test", message: "expected threshold metrics".into() });
        };
        assert!((fixed.macro_f1 - 2.0 / 9.0).abs() < 1e-12);
        // Ranking metrics come from the probabilities in both.
        assert_eq!(reported.macro_auroc, fixed.macro_auroc);
        // Only the chosen nodes count.
        let subset = node_metrics(Task::Multilabel, &labels, &scores, &[1], &names, 0.5)?;
        assert_eq!(subset.reported.get("f1"), Some(1.0 / 3.0));
        Ok(())
    }
}
