//! The loader's pace beside the model's; the loader itself ([`EpochPlan`], [`with_batches`]) is
//! omix-data's, which owns batches.

pub use omix_data::loader::{EpochPlan, LoaderSettings, for_each_batch, with_batches};
use rand_chacha::ChaCha8Rng;

/// The loader's pace beside the model's: batches per second of the loader alone (building every
/// batch of an epoch, nothing trained) and training steps per second of the configured model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LoaderMeasurement {
    /// Loader threads.
    pub workers: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Batches the loader built.
    pub loader_batches: usize,
    /// Batches per second, loader alone.
    pub loader_batches_per_second: f64,
    /// Training steps timed.
    pub train_steps: usize,
    /// Training steps per second (forward, backward, optimiser; batches from the loader).
    pub train_steps_per_second: f64,
    /// The share of the timed steps' time spent waiting for the loader's next batch (0 when
    /// the loader keeps ahead of the device; the host-to-device copy counts as the step's).
    pub data_wait_share: f64,
    /// The model.
    pub model: String,
}

impl LoaderMeasurement {
    /// How many times faster the loader is than training.
    pub fn ratio(&self) -> f64 {
        self.loader_batches_per_second / self.train_steps_per_second.max(1e-12)
    }
}

/// Time the loader alone over (at most) `loader_batches` batches of one epoch, then `train_steps`
/// training steps (after one untimed step) of the config's model on the same batches.
pub fn measure(
    config: &crate::ExperimentConfig,
    dataset: &omix_data::Dataset,
    loader_batches: usize,
    train_steps: usize,
    device: &burn::prelude::Device,
) -> Result<LoaderMeasurement, crate::TrainError> {
    use rand::SeedableRng;
    use std::time::Instant;

    let train = &config.train;
    let pipeline = crate::InputPipeline::fit(config.features.as_ref(), dataset)?;
    let schema = &dataset.schema;
    let input = pipeline.input_shape(schema, &config.model);
    let objective = crate::Objective::new(schema.task, &config.model, train.loss, input.channels);
    let class_weights = dataset.class_weights(&config.data.class_weight)?;
    let indices = dataset.training_indices(config.data.oversample, config.seed);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut plan = EpochPlan::new(&indices, train.batch_size, train.reverse_complement_augment, &mut rng);
    plan.batches.truncate(loader_batches.max(train_steps + 1));
    plan.strands.truncate(plan.batches.len());
    let build = &|chunk: &[usize], strands: Option<&[bool]>| {
        crate::Batch::build(&pipeline, dataset, chunk, strands, &class_weights, objective, input.outputs)
    };
    let settings = LoaderSettings { workers: train.loader_workers, depth: train.loader_depth };
    let mut loader_plan = plan.clone();
    loader_plan.batches.truncate(loader_batches.max(1));
    loader_plan.strands.truncate(loader_plan.batches.len());
    let mut checksum = 0usize;
    let started = Instant::now();
    for_each_batch(&loader_plan, settings, build, |_, _, batch| {
        checksum += batch.input.len();
        Ok::<(), crate::TrainError>(())
    })?;
    let loader_seconds = started.elapsed().as_secs_f64();
    if checksum == 0 {
        return Err(crate::TrainError::Config { field: "data", message: "no training examples to load".into() });
    }

    let device = device.clone().without_autodiff().autodiff();
    device.seed(config.seed);
    let model = config.model.init(input, &device)?;
    let mut optim = crate::optimizer(train);
    let engine = crate::TrainingEngine::choose(
        train.engine,
        &model,
        pipeline.is_one_hot(),
        objective,
        input.channels,
        input.length,
        &device,
    );
    let mut step_plan = plan;
    step_plan.batches.truncate(train_steps + 1);
    step_plan.strands.truncate(step_plan.batches.len());
    let mut started = Instant::now();
    let mut steps = 0usize;
    let mut waiting = 0.0f64;
    with_batches(&step_plan, settings, build, |batches| {
        let mut model = model;
        loop {
            let asked = Instant::now();
            let Some((k, batch)) = batches.next() else { break };
            if k > 0 {
                waiting += asked.elapsed().as_secs_f64();
            }
            let dropout_seed = crate::engine::step_seed(config.seed, 1, k);
            let (next, loss) = engine.step(model, &mut optim, batch, objective, train.learning_rate, dropout_seed);
            model = next;
            if !loss.is_finite() {
                return Err(crate::TrainError::Diverged { epoch: 1, batch: k + 1, loss });
            }
            if k == 0 {
                started = Instant::now(); // the first step warms up
            } else {
                steps += 1;
            }
        }
        Ok(())
    })?;
    let train_seconds = started.elapsed().as_secs_f64();
    Ok(LoaderMeasurement {
        workers: settings.workers,
        batch_size: train.batch_size,
        loader_batches: loader_plan.len(),
        loader_batches_per_second: loader_plan.len() as f64 / loader_seconds.max(1e-12),
        train_steps: steps,
        train_steps_per_second: steps as f64 / train_seconds.max(1e-12),
        data_wait_share: waiting / train_seconds.max(1e-12),
        model: config.model.name().to_string(),
    })
}
