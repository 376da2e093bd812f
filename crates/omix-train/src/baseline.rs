//! "Simple first": a baseline fitted on the same split as the deep model, and a paired
//! bootstrap of the test-set difference between the two.
//!
//! - Classification: L2 logistic regression (C chosen on the validation split) on k-mer counts
//!   of the sequences (k = 5 for DNA/RNA, 2 for protein; reverse-complement canonical when the
//!   model is trained on both strands), on the model's own features for a dense network, or on
//!   the standardised matrix rows. For DNA/RNA sequences the `[baseline]` table also offers
//!   logistic regression on gapped k-mer counts (the gkm-SVM kernel's features,
//!   [`omix_features::GkmFeaturizer`]); with `kind = "auto"` both are fitted and the one with the
//!   better validation metric (the comparison's statistic, never the test set) is kept, and
//!   `metrics.json` lists both with their validation scores.
//! - Regression: ridge regression (λ chosen on the validation split) on the same features.
//! - Autoencoders: PCA with as many components as the latent space, fitted on the training
//!   split; its reconstruction error is the baseline's.
//!
//! The comparison statistic is the test AUROC (binary), accuracy (multi-class), macro AUROC
//! (multi-label), mean Pearson correlation (regression) or mean reconstruction error
//! (autoencoders, lower is better); the model "beats" the baseline when the 95% bootstrap
//! interval of the difference lies entirely on the model's side of zero.

use std::time::Instant;

pub use omix_baseline::{CONFIDENCE, Comparison, RESAMPLES};
use omix_baseline::{DEFAULT_C_GRID, Design, Examples, LogisticConfig, Pca, Ridge, Targets, fit_with_validation};
use omix_config::{BaselineConfig, BaselineKind};
use omix_data::{Dataset, Split, Target, Task};
use omix_features::{GkmFeaturizer, GkmMatrix, KmerConfig, KmerFeaturizer, KmerNormalize};
pub use omix_run::{BaselineCandidate, BaselineReport};

use crate::TrainError;
use crate::evaluate::compute_metrics;
use crate::inputs::{BatchInput, FeatureConfig, InputPipeline};
use crate::objective::Objective;

fn error(message: impl std::fmt::Display) -> TrainError {
    TrainError::Config { field: "baseline", message: message.to_string() }
}

/// Features of the baseline for a set of examples, as a CSR, dense or column-major design.
enum Features {
    Sparse { offsets: Vec<usize>, indices: Vec<u32>, values: Vec<f32>, width: usize },
    Dense { values: Vec<f32>, width: usize },
    Gkm(GkmMatrix),
}

impl Features {
    fn design(&self) -> Design<'_> {
        match self {
            Features::Sparse { offsets, indices, values, width } => {
                Design::Sparse { row_offsets: offsets, indices, values, width: *width }
            }
            Features::Dense { values, width } => Design::Dense { values, width: *width },
            Features::Gkm(matrix) => Design::CountColumns {
                column_offsets: &matrix.column_offsets,
                rows: &matrix.rows,
                row_scale: &matrix.row_scale,
                column_scale: &matrix.column_scale,
            },
        }
    }

    /// Dense rows for ridge regression and PCA (never called on gapped k-mers, which are
    /// offered to classifiers only).
    fn dense(&self) -> (Vec<f32>, usize) {
        match self {
            Features::Dense { values, width } => (values.clone(), *width),
            Features::Gkm(matrix) => (Vec::new(), matrix.column_scale.len()),
            Features::Sparse { offsets, indices, values, width } => {
                let input = BatchInput::Sparse {
                    offsets: offsets.clone(),
                    indices: indices.clone(),
                    values: values.clone(),
                    width: *width,
                };
                input.to_dense_rows()
            }
        }
    }
}

/// How the baseline sees examples.
enum Featurizer<'a> {
    Kmer(Box<KmerFeaturizer>),
    Gkm(Box<GkmFeaturizer>),
    Pipeline(&'a InputPipeline),
}

impl Featurizer<'_> {
    fn features(&self, dataset: &Dataset, indices: &[usize]) -> Result<Features, TrainError> {
        Ok(match self {
            Featurizer::Gkm(featurizer) => {
                let sequences: Vec<&[u8]> = indices.iter().map(|&i| dataset.examples[i].sequence.as_slice()).collect();
                Features::Gkm(featurizer.matrix(&sequences).map_err(error)?)
            }
            Featurizer::Kmer(featurizer) => {
                let sequences: Vec<&[u8]> = indices.iter().map(|&i| dataset.examples[i].sequence.as_slice()).collect();
                let batch = featurizer.featurize_batch(&sequences);
                Features::Sparse {
                    offsets: batch.row_offsets,
                    indices: batch.indices,
                    values: batch.values,
                    width: batch.dimension,
                }
            }
            Featurizer::Pipeline(pipeline) => match pipeline.batch(dataset, indices, None) {
                BatchInput::Sparse { offsets, indices, values, width } => {
                    Features::Sparse { offsets, indices, values, width }
                }
                BatchInput::Dense { values, shape } => Features::Dense { values, width: shape[1] * shape[2] },
            },
        })
    }
}

/// Whether the gapped k-mer baseline applies: a classifier of DNA/RNA sequences read one-hot.
fn gkm_applies(dataset: &Dataset, pipeline: &InputPipeline, objective: Objective) -> Result<(), String> {
    let schema = &dataset.schema;
    if objective.reconstructs() || !matches!(schema.task, Task::Binary | Task::Multiclass | Task::Multilabel) {
        return Err(format!(
            "the gapped k-mer baseline is a classifier, but the task is {}; use kind = \"kmer\" or \"auto\"",
            if objective.reconstructs() { "reconstruction (an autoencoder)" } else { schema.task.name() }
        ));
    }
    if !pipeline.is_one_hot() {
        return Err(format!(
            "the gapped k-mer baseline reads sequences, but the model's inputs are {}; use kind = \"kmer\" or \"auto\"",
            pipeline.describe()
        ));
    }
    if schema.alphabet.size() != 4 {
        return Err(format!(
            "gapped k-mers are defined for DNA and RNA, not {}; use kind = \"kmer\" or \"auto\"",
            schema.alphabet
        ));
    }
    Ok(())
}

/// Refuse, before training, a `[baseline]` choice that cannot be fitted on these data.
pub(crate) fn check_choice(
    choice: &BaselineConfig,
    dataset: &Dataset,
    pipeline: &InputPipeline,
    objective: Objective,
) -> Result<(), TrainError> {
    if choice.kind == BaselineKind::Gkm {
        gkm_applies(dataset, pipeline, objective)
            .map_err(|message| TrainError::Config { field: "baseline.kind", message })?;
    }
    Ok(())
}

/// The gapped k-mer featuriser, described in words.
fn gkm_featurizer(
    choice: &BaselineConfig,
    dataset: &Dataset,
    both_strands: bool,
) -> Result<(Featurizer<'static>, String), TrainError> {
    let featurizer = GkmFeaturizer::new(choice.gkm(), dataset.schema.alphabet, both_strands).map_err(error)?;
    let what = format!(
        "gapped k-mer counts (l = {}, k = {}{}; the gkm kernel's features, rows L2-normalised)",
        choice.l,
        choice.k,
        if both_strands { ", reverse-complement merged" } else { "" }
    );
    Ok((Featurizer::Gkm(Box::new(featurizer)), what))
}

fn featurizer<'a>(
    dataset: &Dataset,
    pipeline: &'a InputPipeline,
    features: Option<&FeatureConfig>,
    both_strands: bool,
) -> Result<(Featurizer<'a>, String), TrainError> {
    if !pipeline.is_one_hot() {
        let what = match features {
            Some(FeatureConfig::Kmer(_) | FeatureConfig::Pwm(_)) => "the model's own features",
            _ => "the matrix rows (standardised as the model sees them)",
        };
        return Ok((Featurizer::Pipeline(pipeline), what.to_string()));
    }
    let schema = &dataset.schema;
    let nucleotides = schema.alphabet.size() == 4;
    let config = KmerConfig {
        k: if nucleotides { 5 } else { 2 },
        canonical: nucleotides && both_strands,
        gap: 0,
        normalize: KmerNormalize::Counts,
    };
    let featurizer = KmerFeaturizer::new(config, schema.alphabet).map_err(error)?;
    let what =
        format!("{}-mer counts{}", config.k, if config.canonical { " (reverse-complement canonical)" } else { "" });
    Ok((Featurizer::Kmer(Box::new(featurizer)), what))
}

/// Fit the baseline on the training split (choosing its regularisation on the validation
/// split), score the test split, and compare with the model's test predictions.
#[allow(clippy::too_many_arguments)]
pub fn fit_baseline(
    dataset: &Dataset,
    pipeline: &InputPipeline,
    features: Option<&FeatureConfig>,
    objective: Objective,
    both_strands: bool,
    latent: Option<usize>,
    model_scores: &[f64],
    threshold: f64,
    seed: u64,
    choice: &BaselineConfig,
) -> Result<BaselineReport, TrainError> {
    check_choice(choice, dataset, pipeline, objective)?;
    let train = dataset.indices(Split::Train);
    let validation = dataset.indices(Split::Validation);
    let test = dataset.indices(Split::Test);
    let schema = &dataset.schema;

    if objective.reconstructs() {
        let components = latent.unwrap_or(2);
        let encode = |indices: &[usize]| pipeline.batch(dataset, indices, None).to_dense_rows();
        let (train_values, width) = encode(&train);
        let rows: Vec<usize> = (0..train.len()).collect();
        let pca = Pca::fit(&train_values, width, &rows, components.min(width)).map_err(error)?;
        let (test_values, _) = encode(&test);
        let mut errors = Vec::with_capacity(test.len());
        for row in test_values.chunks(width.max(1)) {
            let reconstructed = pca.reconstruct(row).map_err(error)?;
            let sum: f64 = reconstructed.iter().zip(row).map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2)).sum();
            errors.push(sum / width.max(1) as f64);
        }
        let test_metrics = compute_metrics(dataset, &test, &errors, threshold, objective)?;
        let comparison = compare("mean reconstruction error", false, test.len(), seed, |sample| {
            Some((mean_at(model_scores, sample), mean_at(&errors, sample)))
        })?;
        let what = match objective {
            Objective::OneHotCrossEntropy { .. } => {
                "PCA of the one-hot inputs (its error is a squared error, not comparable to the model's cross-entropy)"
            }
            _ => "PCA",
        };
        return Ok(BaselineReport {
            model: format!("{what} with {components} components, fitted on the training split"),
            regularization: None,
            test: test_metrics,
            comparison,
            candidates: Vec::new(),
        });
    }

    if schema.task == Task::Regression {
        let (featurizer, described) = featurizer(dataset, pipeline, features, both_strands)?;
        let train_features = featurizer.features(dataset, &train)?;
        let validation_features = featurizer.features(dataset, &validation)?;
        let test_features = featurizer.features(dataset, &test)?;
        let targets =
            |indices: &[usize]| -> Vec<f64> { dataset.target_matrix(indices).into_iter().map(f64::from).collect() };
        let outputs = schema.outputs();
        let (train_x, width) = train_features.dense();
        let (validation_x, _) = validation_features.dense();
        let (test_x, _) = test_features.dense();
        // A Poisson model predicts rates; the ridge baseline fits log(1 + y) then, and reports exp − 1.
        let poisson = objective == Objective::Poisson;
        let transform = |values: Vec<f64>| -> Vec<f64> {
            if poisson { values.into_iter().map(|y| y.max(0.0).ln_1p()).collect() } else { values }
        };
        let ridge = Ridge::fit_with_validation(
            &train_x,
            &transform(targets(&train)),
            &validation_x,
            &transform(targets(&validation)),
            width,
            outputs,
        )
        .map_err(error)?;
        let mut predictions = ridge.predict(&test_x).map_err(error)?;
        if poisson {
            predictions.iter_mut().for_each(|p| *p = p.exp_m1().max(0.0));
        }
        let test_metrics = compute_metrics(dataset, &test, &predictions, threshold, objective)?;
        let truth = targets(&test);
        let pearson = |scores: &[f64], sample: &[usize]| -> Option<f64> {
            let mut total = 0.0;
            for task in 0..outputs {
                let x: Vec<f64> = sample.iter().map(|&i| scores[i * outputs + task]).collect();
                let y: Vec<f64> = sample.iter().map(|&i| truth[i * outputs + task]).collect();
                total += omix_metrics::pearson(&x, &y)?;
            }
            Some(total / outputs as f64)
        };
        let comparison = compare("mean Pearson correlation", true, test.len(), seed, |sample| {
            Some((pearson(model_scores, sample)?, pearson(&predictions, sample)?))
        })?;
        return Ok(BaselineReport {
            model: format!("ridge regression on {described}"),
            regularization: Some(ridge.lambda),
            test: test_metrics,
            comparison,
            candidates: Vec::new(),
        });
    }

    // Classification: logistic regression on k-mer counts, gapped k-mer counts, or both.
    let (task_targets, tasks) = classification_targets(dataset);
    let pick = |indices: &[usize]| -> (Vec<bool>, Vec<usize>) {
        let mut flags = Vec::new();
        let mut classes = Vec::new();
        for &index in indices {
            match &dataset.examples[index].target {
                Target::Class(class) => {
                    flags.push(*class == 1);
                    classes.push(*class);
                }
                Target::Tasks(values) => flags.extend_from_slice(values),
                _ => {}
            }
        }
        (flags, classes)
    };
    let (train_flags, train_classes) = pick(&train);
    let (validation_flags, validation_classes) = pick(&validation);
    let (test_flags, test_classes) = pick(&test);
    let targets = |flags, classes| match task_targets {
        Task::Binary => Targets::Binary(flags),
        Task::Multiclass => Targets::Multinomial { labels: classes, classes: tasks },
        _ => Targets::Multilabel { labels: flags, tasks },
    };
    let train_targets = targets(&train_flags, &train_classes);
    let validation_targets = targets(&validation_flags, &validation_classes);
    let outputs = schema.outputs();
    let metric = match task_targets {
        Task::Binary => "AUROC",
        Task::Multiclass => "accuracy",
        _ => "macro AUROC",
    };

    let mut featurizers = Vec::new();
    let gkm = match choice.kind {
        BaselineKind::Kmer => false,
        BaselineKind::Gkm => true,
        BaselineKind::Auto => gkm_applies(dataset, pipeline, objective).is_ok(),
    };
    if choice.kind != BaselineKind::Gkm {
        featurizers.push(featurizer(dataset, pipeline, features, both_strands)?);
    }
    let mut skipped = None;
    if gkm {
        gkm_applies(dataset, pipeline, objective)
            .map_err(|message| TrainError::Config { field: "baseline.kind", message })?;
        let (featurizer, described) = gkm_featurizer(choice, dataset, both_strands)?;
        // The training rows, plus L-BFGS's history for each C fitted side by side, plus the
        // factor of the rows' Gram matrix when the fit may go through it (n ≤ 10,000 rows).
        let needed = match &featurizer {
            Featurizer::Gkm(gkm) => {
                gkm.matrix_bytes(train.iter().map(|&i| dataset.examples[i].sequence.as_slice()))
                    + (DEFAULT_C_GRID.len() * gkm.dimension() * schema.outputs() * 8 * 24) as u128
                    + omix_baseline::gram_route_bytes(train.len(), gkm.dimension())
            }
            _ => 0,
        };
        let available = omix_data::memory::available_memory();
        if needed > available / 2 {
            let message = format!(
                "the gapped k-mer baseline would need about {:.1} GB for {} training sequences, more than half of the {:.1} GB available",
                needed as f64 / 1e9,
                train.len(),
                available as f64 / 1e9
            );
            if choice.kind == BaselineKind::Gkm {
                return Err(TrainError::Config {
                    field: "baseline.kind",
                    message: format!("{message}; use kind = \"kmer\", or a smaller l or k"),
                });
            }
            // auto: the k-mer model alone, saying why.
            skipped = Some(message);
        } else {
            featurizers.push((featurizer, described));
        }
    }
    // scikit-learn's default tolerance (1e-4) rather than the crate's tighter 1e-5: the baseline
    // is a yardstick, and on ~2,000 dense PWM features the tighter fit takes minutes.
    let settings = LogisticConfig { tolerance: 1e-4, max_iter: 500, ..LogisticConfig::default() };
    let everything: Vec<usize> = (0..test.len()).collect();
    let mut fitted = Vec::with_capacity(featurizers.len());
    for (featurizer, described) in featurizers {
        let started = Instant::now();
        let train_features = featurizer.features(dataset, &train)?;
        let validation_features = featurizer.features(dataset, &validation)?;
        let model = fit_with_validation(
            &settings,
            &Examples::new(train_features.design(), train_targets),
            &Examples::new(validation_features.design(), validation_targets),
            &DEFAULT_C_GRID,
        )
        .map_err(error)?;
        drop(train_features);
        let validation_scores = model.model.predict_proba(&validation_features.design()).map_err(error)?;
        drop(validation_features);
        let test_features = featurizer.features(dataset, &test)?;
        let probabilities = model.model.predict_proba(&test_features.design()).map_err(error)?;
        let all: Vec<usize> = (0..validation.len()).collect();
        let validation_score =
            statistic(task_targets, outputs, &validation_flags, &validation_classes, &validation_scores, &all);
        fitted.push((
            BaselineCandidate {
                model: format!("logistic regression on {described}"),
                regularization: Some(model.c),
                validation_metric: metric.to_string(),
                validation: validation_score,
                test: statistic(task_targets, outputs, &test_flags, &test_classes, &probabilities, &everything),
                chosen: false,
                seconds: Some(started.elapsed().as_secs_f64()),
            },
            probabilities,
        ));
    }
    // The better validation score wins; a tie or a missing score keeps the first (k-mer) model.
    let mut best = 0;
    for (index, (candidate, _)) in fitted.iter().enumerate() {
        if let Some(score) = candidate.validation
            && fitted[best].0.validation.is_none_or(|best_score| score > best_score)
        {
            best = index;
        }
    }
    fitted[best].0.chosen = true;
    let candidates: Vec<BaselineCandidate> =
        if fitted.len() > 1 { fitted.iter().map(|(candidate, _)| candidate.clone()).collect() } else { Vec::new() };
    let (chosen, probabilities) = fitted.swap_remove(best);
    let test_metrics = compute_metrics(dataset, &test, &probabilities, threshold, objective)?;
    let comparison = compare(metric, true, test.len(), seed, |sample| {
        Some((
            statistic(task_targets, outputs, &test_flags, &test_classes, model_scores, sample)?,
            statistic(task_targets, outputs, &test_flags, &test_classes, &probabilities, sample)?,
        ))
    })?;
    Ok(BaselineReport {
        model: match skipped {
            Some(why) => format!("{} (no gapped k-mer baseline: {why})", chosen.model),
            None => chosen.model,
        },
        regularization: chosen.regularization,
        test: test_metrics,
        comparison,
        candidates,
    })
}

/// The comparison's statistic on the rows `sample` (positions in `flags`/`classes`): AUROC
/// (binary), accuracy (multi-class) or macro AUROC over the tasks with both labels (multi-label).
fn statistic(
    task: Task,
    outputs: usize,
    flags: &[bool],
    classes: &[usize],
    scores: &[f64],
    sample: &[usize],
) -> Option<f64> {
    match task {
        Task::Binary => {
            let labels: Vec<bool> = sample.iter().map(|&i| flags[i]).collect();
            let values: Vec<f64> = sample.iter().map(|&i| scores[i]).collect();
            omix_metrics::roc_auc(&labels, &values)
        }
        Task::Multiclass => {
            let hits = sample.iter().filter(|&&i| argmax(&scores[i * outputs..(i + 1) * outputs]) == classes[i]);
            Some(hits.count() as f64 / sample.len().max(1) as f64)
        }
        _ => {
            let mut values = Vec::new();
            for task in 0..outputs {
                let labels: Vec<bool> = sample.iter().map(|&i| flags[i * outputs + task]).collect();
                let s: Vec<f64> = sample.iter().map(|&i| scores[i * outputs + task]).collect();
                if let Some(auc) = omix_metrics::roc_auc(&labels, &s) {
                    values.push(auc);
                }
            }
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        }
    }
}

fn classification_targets(dataset: &Dataset) -> (Task, usize) {
    let schema = &dataset.schema;
    (schema.task, schema.class_names.len())
}

fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (index, value) in row.iter().enumerate() {
        if *value > row[best] {
            best = index;
        }
    }
    best
}

fn mean_at(values: &[f64], sample: &[usize]) -> f64 {
    sample.iter().map(|&i| values[i]).sum::<f64>() / sample.len().max(1) as f64
}

/// [`omix_baseline::compare`] with its error as a [`TrainError`].
pub(crate) fn compare(
    metric: &str,
    higher_is_better: bool,
    n: usize,
    seed: u64,
    statistic: impl Fn(&[usize]) -> Option<(f64, f64)> + Sync,
) -> Result<Comparison, TrainError> {
    omix_baseline::compare(metric, higher_is_better, n, seed, statistic).map_err(error)
}
