//! Training sequence, feature and autoencoder models: batches built on loader threads, one
//! optimiser step per batch through the [`TrainingEngine`], validation on the validation split;
//! the epochs themselves run in the shared loop ([`crate::fit`]).

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use omix_data::{ClassWeight, Dataset, Split, Target};
use omix_models::Model;
use omix_run::{Observer, RunDir};
use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::TrainError;
use crate::engine::{TrainingEngine, step_seed};
use crate::evaluate::{compute_metrics, mean_loss, predict_scores};
use crate::fit::{Fitted, Trainee, Validation, fit};
use crate::inputs::{BatchInput, InputPipeline};
use crate::loader::{EpochPlan, LoaderSettings, with_batches};
use crate::objective::Objective;
use omix_config::{Engine, ExperimentConfig, OptimizerKind, TrainConfig};

/// Options of one training call.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrainOptions {
    /// Continue from the checkpoint in the run folder.
    pub resume: bool,
    /// Stop after this many epochs in this call (tests of resume); None = run to the end.
    pub stop_after: Option<usize>,
}

/// What training produced.
pub type TrainResult = Fitted<Model>;

/// The optimiser a `[train]` table asks for (Adam, AdamW or SGD with its decay and clipping).
pub fn optimizer(config: &TrainConfig) -> ModuleOptimizer {
    let clip = config
        .clip_grad_norm
        .map(GradientClippingConfig::Norm)
        .or(config.clip_grad_value.map(GradientClippingConfig::Value));
    let decay = (config.weight_decay > 0.0).then(|| WeightDecayConfig::new(config.weight_decay as f32));
    match config.optimizer {
        OptimizerKind::Adam => {
            AdamConfig::new().with_epsilon(1e-8).with_weight_decay(decay).with_grad_clipping(clip).init()
        }
        OptimizerKind::Adamw => AdamWConfig::new()
            .with_epsilon(1e-8)
            .with_weight_decay(config.weight_decay as f32)
            .with_grad_clipping(clip)
            .init(),
        OptimizerKind::Sgd => SgdConfig::new()
            .with_momentum(
                (config.momentum > 0.0)
                    .then(|| MomentumConfig::new().with_momentum(config.momentum).with_dampening(0.0)),
            )
            .with_weight_decay(decay)
            .with_gradient_clipping(clip)
            .init(),
    }
}

/// One batch of examples.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Model inputs.
    pub input: BatchInput,
    /// Targets `[batch, outputs]` (autoencoders: the input, flattened).
    pub targets: Vec<f32>,
    /// Per-example loss weights `[batch]`.
    pub weights: Vec<f32>,
    /// Number of outputs.
    pub outputs: usize,
}

impl Batch {
    /// The batch of `chunk`: inputs through the pipeline (reverse-complemented where `strands`
    /// says so), targets (the inputs themselves for an autoencoder) and sample weights.
    pub fn build(
        pipeline: &InputPipeline,
        dataset: &Dataset,
        chunk: &[usize],
        strands: Option<&[bool]>,
        class_weights: &[f32],
        objective: Objective,
        outputs: usize,
    ) -> Batch {
        let input = pipeline.batch(dataset, chunk, strands);
        let targets = if objective.reconstructs() { input.to_dense_rows().0 } else { dataset.target_matrix(chunk) };
        Batch { input, targets, weights: dataset.sample_weights(chunk, class_weights), outputs }
    }
}

/// The validation columns of a sequence, feature or autoencoder run's training log.
const LOG_COLUMNS: [&str; 4] = ["validation_accuracy", "validation_auroc", "validation_auprc", "validation_mcc"];

/// A sequence, feature or autoencoder experiment as the shared loop trains it.
struct SequenceTrainee<'a> {
    config: &'a TrainConfig,
    seed: u64,
    dataset: &'a Dataset,
    pipeline: &'a InputPipeline,
    engine_setting: Engine,
    engine: Option<TrainingEngine>,
    train_device: Device,
    objective: Objective,
    outputs: usize,
    class_weights: Vec<f32>,
    base_indices: Vec<usize>,
    validation: Vec<usize>,
    device: Device,
}

/// A hash of a data set's examples as training sees them: ids, sequences or feature values,
/// targets and splits (see [`Trainee::data_fingerprint`]).
pub fn data_fingerprint(dataset: &Dataset) -> u64 {
    let mut hash = omix_io::ContentHash::new();
    for example in &dataset.examples {
        hash.update(example.id.as_bytes());
        hash.update(&[0]);
        hash.update(&example.sequence);
        hash.update(&[0]);
        example.values.iter().for_each(|value| hash.update(&value.to_le_bytes()));
        match &example.target {
            Target::Class(class) => hash.update(&(*class as u64).to_le_bytes()),
            Target::Tasks(tasks) => tasks.iter().for_each(|task| hash.update(&[u8::from(*task)])),
            Target::Values(values) => values.iter().for_each(|value| hash.update(&value.to_le_bytes())),
            Target::Unlabelled => hash.update(b"?"),
        }
        hash.update(example.split.name().as_bytes());
    }
    hash.value()
}

impl Trainee for SequenceTrainee<'_> {
    type Module = Model;

    fn data_fingerprint(&self) -> u64 {
        data_fingerprint(self.dataset)
    }

    fn prepare(&mut self, model: &Model, observer: &mut dyn Observer) {
        let (channels, length) = self.pipeline.shape();
        let engine = TrainingEngine::choose(
            self.engine_setting,
            model,
            self.pipeline.is_one_hot(),
            self.objective,
            channels,
            length,
            &self.train_device,
        );
        observer.message(&format!("training engine: {}", engine.describe()));
        self.engine = Some(engine);
    }

    fn log_columns(&self) -> &'static [&'static str] {
        &LOG_COLUMNS
    }

    fn train_epoch(
        &mut self,
        model: Model,
        optim: &mut ModuleOptimizer,
        epoch: usize,
        learning_rate: f64,
        status: &str,
        observer: &mut dyn Observer,
    ) -> (Model, Result<f64, TrainError>) {
        let config = self.config;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let plan = EpochPlan::new(&self.base_indices, config.batch_size, config.reverse_complement_augment, &mut rng);
        observer.start(&format!("epoch {epoch}/{}", config.epochs), plan.len() as u64);
        let mut loss_sum = 0.0;
        let mut seen = 0usize;
        let (pipeline, dataset, objective, outputs) = (self.pipeline, self.dataset, self.objective, self.outputs);
        let (class_weights, seed) = (&self.class_weights, self.seed);
        // Batches are built on loader threads while the model trains (bounded look-ahead).
        let build = |chunk: &[usize], strands: Option<&[bool]>| {
            Batch::build(pipeline, dataset, chunk, strands, class_weights, objective, outputs)
        };
        let settings = LoaderSettings { workers: config.loader_workers, depth: config.loader_depth };
        let Some(engine) = &self.engine else {
            observer.finish();
            return (
                model,
                Err(TrainError::Config { field: "engine", message: "training started before prepare".into() }),
            );
        };
        let (model, result) = with_batches(&plan, settings, build, |batches| {
            let mut model = model;
            for (done, (batch_index, batch)) in batches.enumerate() {
                let examples = plan.batches[batch_index].len();
                let dropout_seed = step_seed(seed, epoch, batch_index);
                let (next, loss_value) = engine.step(model, optim, batch, objective, learning_rate, dropout_seed);
                model = next;
                if !loss_value.is_finite() {
                    return (model, Err(TrainError::Diverged { epoch, batch: batch_index + 1, loss: loss_value }));
                }
                loss_sum += loss_value * examples as f64;
                seen += examples;
                observer.advance(done as u64 + 1, &format!("loss {:.4}{status}", loss_sum / seen as f64));
            }
            (model, Ok(()))
        });
        observer.finish();
        (model, result.map(|()| loss_sum / seen.max(1) as f64))
    }

    fn steps_per_epoch(&self) -> usize {
        self.base_indices.len().div_ceil(self.config.batch_size.max(1))
    }

    fn sample_steps(
        &mut self,
        model: Model,
        optim: &mut ModuleOptimizer,
        steps: usize,
        learning_rate: f64,
    ) -> (Model, Result<Vec<f64>, TrainError>) {
        let config = self.config;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x9e37_79b9_7f4a_7c15);
        let plan = EpochPlan::new(&self.base_indices, config.batch_size, config.reverse_complement_augment, &mut rng);
        let Some(engine) = &self.engine else {
            return (model, Err(TrainError::Config { field: "engine", message: "steps taken before prepare".into() }));
        };
        let mut model = model;
        let mut seconds = Vec::with_capacity(steps);
        for (chunk, strands) in plan.batches.iter().zip(&plan.strands).take(steps) {
            let build = || {
                Batch::build(
                    self.pipeline,
                    self.dataset,
                    chunk,
                    strands.as_deref(),
                    &self.class_weights,
                    self.objective,
                    self.outputs,
                )
            };
            // Loader threads build batches while the model trains: only the step is timed then.
            let prebuilt = (config.loader_workers > 0).then(build);
            let started = Instant::now();
            let batch = prebuilt.unwrap_or_else(build);
            let dropout_seed = step_seed(self.seed, 0, seconds.len());
            let (next, loss) = engine.step(model, optim, batch, self.objective, learning_rate, dropout_seed);
            seconds.push(started.elapsed().as_secs_f64());
            model = next;
            if !loss.is_finite() {
                return (model, Err(TrainError::Diverged { epoch: 1, batch: seconds.len(), loss }));
            }
        }
        (model, Ok(seconds))
    }

    fn validate(&mut self, model: &Model) -> Result<Validation, TrainError> {
        let valid_model = model.valid();
        let config = self.config;
        let scores = predict_scores(
            &valid_model,
            self.pipeline,
            self.dataset,
            &self.validation,
            256,
            &self.device,
            config.reverse_complement_average,
            self.objective,
        )?;
        let loss = mean_loss(self.dataset, &self.validation, &scores, self.objective);
        let metrics = compute_metrics(self.dataset, &self.validation, &scores, config.threshold, self.objective)?;
        let columns = ["accuracy", "auroc", "auprc", "mcc"].iter().map(|name| metrics.get(name)).collect();
        Ok(Validation { loss, metrics, columns, note: String::new() })
    }
}

/// Train a model on the training split, choosing the epoch on the validation split.
///
/// `device` is where the model trains (the CPU, or a GPU where built in); the model is made
/// there with autodiff, and validation runs on the same device without it.
pub fn train(
    config: &ExperimentConfig,
    dataset: &Dataset,
    pipeline: &InputPipeline,
    run: &RunDir,
    device: &Device,
    options: TrainOptions,
    observer: &mut dyn Observer,
) -> Result<TrainResult, TrainError> {
    let (mut trainee, model, train_device) = trainee(config, dataset, pipeline, device, observer)?;
    let train_config = &config.train;
    fit(&mut trainee, model, optimizer(train_config), train_config, config.seed, &train_device, run, options, observer)
}

/// [`crate::fit::estimate`] for a sequence, feature or autoencoder experiment: `steps` real
/// training steps timed on the first batches, nothing written.
pub fn estimate_training(
    config: &ExperimentConfig,
    dataset: &Dataset,
    pipeline: &InputPipeline,
    device: &Device,
    steps: usize,
    observer: &mut dyn Observer,
) -> Result<crate::fit::Estimate, TrainError> {
    let (mut trainee, model, _) = trainee(config, dataset, pipeline, device, observer)?;
    crate::fit::estimate(&mut trainee, model, optimizer(&config.train), &config.train, steps, observer)
}

/// The trainee of an experiment, its freshly initialised model and the autodiff device it lives on.
fn trainee<'a>(
    config: &'a ExperimentConfig,
    dataset: &'a Dataset,
    pipeline: &'a InputPipeline,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<(SequenceTrainee<'a>, Model, Device), TrainError> {
    let train_config = &config.train;
    let schema = &dataset.schema;
    let input = pipeline.input_shape(schema, &config.model);
    let objective = Objective::new(schema.task, &config.model, train_config.loss, input.channels);
    let device = device.clone().without_autodiff();
    let train_device = device.clone().autodiff();
    train_device.seed(config.seed);
    let model = config.model.init(input, &train_device)?;
    let class_weights = dataset.class_weights(&config.data.class_weight)?;
    if config.data.class_weight != ClassWeight::Unset {
        let weights: Vec<String> =
            schema.class_names.iter().zip(&class_weights).map(|(name, weight)| format!("{name} {weight}")).collect();
        observer.message(&format!("class weights: {}", weights.join(", ")));
    }
    let trainee = SequenceTrainee {
        config: train_config,
        seed: config.seed,
        dataset,
        pipeline,
        engine_setting: train_config.engine,
        engine: None,
        train_device: train_device.clone(),
        objective,
        outputs: input.outputs,
        class_weights,
        base_indices: dataset.training_indices(config.data.oversample, config.seed),
        validation: dataset.indices(Split::Validation),
        device,
    };
    Ok((trainee, model, train_device))
}
