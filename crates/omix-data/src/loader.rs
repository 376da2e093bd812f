//! The training data loader: an epoch's batches built on worker threads while the model trains.
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
