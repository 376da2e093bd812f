//! The training data loader: batches are built on worker threads while the model trains.
//!
//! An epoch's batch order and strand draws are fixed first ([`EpochPlan`], from the epoch's
//! seed), so what the model sees does not depend on the number of workers or on timing. Worker
//! `w` builds batches `w, w + workers, w + 2·workers, …` and hands each to the trainer through its
//! own bounded channel of `depth` batches; the trainer takes batch `k` from worker `k mod
//! workers`. At most `workers × (depth + 1)` batches exist at any time, so memory stays bounded
//! however large the data set, and a worker that runs ahead simply waits.

use std::sync::mpsc::{Receiver, sync_channel};

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// One epoch's batches: example indices and, with reverse-complement augmentation, the strand
/// of each example (true = reverse complement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochPlan {
    /// Example indices per batch, in training order.
    pub batches: Vec<Vec<usize>>,
    /// Strand draws per batch (None without augmentation).
    pub strands: Vec<Option<Vec<bool>>>,
}

impl EpochPlan {
    /// Shuffle `indices` and cut them into batches; draw a random strand per example when
    /// `augment` (in batch order, from the same generator, after the shuffle).
    pub fn new(indices: &[usize], batch_size: usize, augment: bool, rng: &mut ChaCha8Rng) -> Self {
        let mut order = indices.to_vec();
        order.shuffle(rng);
        let batches: Vec<Vec<usize>> = order.chunks(batch_size.max(1)).map(<[usize]>::to_vec).collect();
        let strands =
            batches.iter().map(|chunk| augment.then(|| chunk.iter().map(|_| rng.random_bool(0.5)).collect())).collect();
        Self { batches, strands }
    }

    /// Number of batches.
    pub fn len(&self) -> usize {
        self.batches.len()
    }

    /// Whether the epoch has no batches.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }
}

/// How batches are built: `workers` threads with `depth` batches of look-ahead each; 0 workers
/// builds each batch on the training thread just before it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoaderSettings {
    /// Worker threads.
    pub workers: usize,
    /// Batches each worker may have ready ahead of the trainer.
    pub depth: usize,
}

/// Build every batch of `plan` with `build` (on worker threads) and give `body` an iterator over
/// them in plan order, as `(batch index, batch)`. When `body` returns — having read every batch
/// or stopped early — the workers stop too.
pub fn with_batches<T, B, R>(
    plan: &EpochPlan,
    settings: LoaderSettings,
    build: B,
    body: impl FnOnce(&mut dyn Iterator<Item = (usize, T)>) -> R,
) -> R
where
    T: Send,
    B: Fn(&[usize], Option<&[bool]>) -> T + Sync,
{
    if settings.workers == 0 {
        let mut batches =
            plan.batches.iter().enumerate().map(|(k, chunk)| (k, build(chunk, plan.strands[k].as_deref())));
        return body(&mut batches);
    }
    let workers = settings.workers.min(plan.len().max(1));
    std::thread::scope(|scope| {
        let mut receivers: Vec<Receiver<T>> = Vec::with_capacity(workers);
        for worker in 0..workers {
            let (sender, receiver) = sync_channel::<T>(settings.depth.max(1));
            receivers.push(receiver);
            let build = &build;
            scope.spawn(move || {
                for k in (worker..plan.len()).step_by(workers) {
                    let batch = build(&plan.batches[k], plan.strands[k].as_deref());
                    if sender.send(batch).is_err() {
                        return; // the trainer stopped
                    }
                }
            });
        }
        // A worker only ends early when the trainer has stopped, so a batch is always coming.
        let mut batches =
            (0..plan.len()).map_while(move |k| receivers[k % workers].recv().ok().map(|batch| (k, batch)));
        let result = body(&mut batches);
        drop(batches); // closes the channels: workers still building stop at their next send
        result
    })
}

/// [`with_batches`] with a callback per batch, `consume(index, examples, batch)`; an error from
/// it stops the epoch (and the workers).
pub fn for_each_batch<T, E, B, C>(plan: &EpochPlan, settings: LoaderSettings, build: B, mut consume: C) -> Result<(), E>
where
    T: Send,
    B: Fn(&[usize], Option<&[bool]>) -> T + Sync,
    C: FnMut(usize, &[usize], T) -> Result<(), E>,
{
    with_batches(plan, settings, build, |batches| {
        for (k, batch) in batches {
            consume(k, &plan.batches[k], batch)?;
        }
        Ok(())
    })
}

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
    with_batches(&step_plan, settings, build, |batches| {
        let mut model = model;
        for (k, batch) in batches {
            let (next, loss) = engine.step(model, &mut optim, batch, objective, train.learning_rate);
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
        model: config.model.name().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn batches_arrive_in_plan_order_whatever_the_workers() -> Result<(), String> {
        let indices: Vec<usize> = (0..103).collect();
        let plan = EpochPlan::new(&indices, 10, true, &mut ChaCha8Rng::seed_from_u64(4));
        assert_eq!(plan.len(), 11);
        let expected: Vec<Vec<usize>> = plan.batches.clone();
        for workers in [0, 1, 2, 3, 16] {
            let mut seen = Vec::new();
            for_each_batch(
                &plan,
                LoaderSettings { workers, depth: 2 },
                |chunk: &[usize], strands: Option<&[bool]>| {
                    assert_eq!(strands.map(<[bool]>::len), Some(chunk.len()));
                    chunk.to_vec()
                },
                |k, _, batch| {
                    assert_eq!(batch, expected[k]);
                    seen.push(k);
                    Ok::<(), String>(())
                },
            )?;
            assert_eq!(seen, (0..11).collect::<Vec<_>>(), "{workers} workers");
        }
        Ok(())
    }

    #[test]
    fn an_error_stops_the_epoch_and_the_workers() {
        let indices: Vec<usize> = (0..1000).collect();
        let plan = EpochPlan::new(&indices, 1, false, &mut ChaCha8Rng::seed_from_u64(1));
        let built = std::sync::atomic::AtomicUsize::new(0);
        let result = for_each_batch(
            &plan,
            LoaderSettings { workers: 2, depth: 1 },
            |chunk: &[usize], _| {
                built.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                chunk[0]
            },
            |k, _, _| if k == 5 { Err("stop") } else { Ok(()) },
        );
        assert_eq!(result, Err("stop"));
        // Bounded look-ahead: far fewer than 1,000 batches were built.
        assert!(built.load(std::sync::atomic::Ordering::Relaxed) < 20);
    }

    #[test]
    fn the_plan_is_the_same_draws_as_shuffling_then_drawing_strands() {
        let indices: Vec<usize> = (0..50).collect();
        let plan = EpochPlan::new(&indices, 8, true, &mut ChaCha8Rng::seed_from_u64(9));
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut order = indices.clone();
        order.shuffle(&mut rng);
        for (k, chunk) in order.chunks(8).enumerate() {
            assert_eq!(plan.batches[k], chunk);
            let strands: Vec<bool> = chunk.iter().map(|_| rng.random_bool(0.5)).collect();
            assert_eq!(plan.strands[k].as_deref(), Some(&strands[..]));
        }
    }
}
