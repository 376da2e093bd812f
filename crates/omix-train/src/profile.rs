//! Base-resolution profile models (BPNet) on `[tracks]` data: the [`Trainee`] the shared loop
//! trains, predictions over regions, the metrics of a split on peaks and background apart, the
//! average-profile baseline, and the whole experiment into a run folder.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use omix_config::ProfileExperimentConfig;
use omix_data::loader::{EpochPlan, LoaderSettings, with_batches};
use omix_data::profile::{ProfileBatch, ProfileData};
use omix_genome::SplitName;
use omix_metrics::{Metrics, ProfileLayout, ProfileMetrics, ProfileSplitMetrics};
use omix_models::{Bpnet, ProfileShape};
use omix_run::{Observer, RunDir, files};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::TrainError;
use crate::evaluate::read_back;
use crate::fit::{Trainee, Validation, fit};
use crate::objective::{profile_loss, profile_loss_constant};
use crate::run::weights_to_bytes;
use crate::trainer::{TrainOptions, optimizer};

/// The validation columns of a profile run's training log.
const LOG_COLUMNS: [&str; 3] = ["validation_jsd", "validation_profile_pearson", "validation_count_pearson"];

/// Examples per prediction batch.
const PREDICT_BATCH: usize = 64;

/// A profile experiment as the shared loop trains it.
pub struct ProfileTrainee<'a> {
    config: &'a ProfileExperimentConfig,
    data: &'a ProfileData,
    count_weight: f64,
    training: Vec<usize>,
    validation: Vec<usize>,
    device: Device,
    train_device: Device,
}

/// A shift in ±`jitter` for example `index` in `epoch`, the same whatever thread builds the batch.
fn jitter_shift(seed: u64, epoch: usize, index: usize, jitter: usize) -> i64 {
    if jitter == 0 {
        return 0;
    }
    // splitmix64 of (seed, epoch, index): independent of batch order and loader threads.
    let mut z =
        seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (index as u64).wrapping_mul(0xd1b5_4a32_d192_ed03);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z % (2 * jitter as u64 + 1)) as i64 - jitter as i64
}

impl<'a> ProfileTrainee<'a> {
    /// The trainee, with `count_weight` (λ) for the count loss, training on `device`'s autodiff twin.
    pub fn new(config: &'a ProfileExperimentConfig, data: &'a ProfileData, count_weight: f64, device: &Device) -> Self {
        let device = device.clone().without_autodiff();
        ProfileTrainee {
            config,
            data,
            count_weight,
            training: data.indices(SplitName::Train),
            validation: data.indices(SplitName::Validation),
            train_device: device.clone().autodiff(),
            device,
        }
    }

    /// The batches of one epoch (its seed from `epoch`): indices, strands to flip, and shifts.
    fn plan(&self, epoch: usize) -> EpochPlan {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        EpochPlan::new(&self.training, self.config.train.batch_size, self.data.reverse_complements(), &mut rng)
    }

    /// Build the batch of `chunk` for `epoch`.
    fn build(&self, epoch: usize, chunk: &[usize], strands: Option<&[bool]>) -> Result<ProfileBatch, TrainError> {
        let jitter = self.data.jitter();
        let shifts: Vec<i64> = chunk.iter().map(|&i| jitter_shift(self.config.seed, epoch, i, jitter)).collect();
        Ok(self.data.batch(chunk, &shifts, strands.unwrap_or(&[]))?)
    }

    /// One optimiser step: the updated model and the batch's loss (with the NLL's constant terms).
    fn step(&self, model: Bpnet, optim: &mut ModuleOptimizer, batch: ProfileBatch, learning_rate: f64) -> (Bpnet, f64) {
        let data = self.data;
        let (size, input, output, tracks) = (batch.size, data.input_length, data.output_length, data.tracks());
        let constant = profile_loss_constant(&batch.counts, &batch.peaks, data.tasks.len());
        let device = &self.train_device;
        let x = Tensor::<3>::from_data(TensorData::new(batch.one_hot, [size, 4, input]), device);
        let y = Tensor::<3>::from_data(TensorData::new(batch.counts, [size, tracks, output]), device);
        let peaks: Vec<f32> = batch.peaks.iter().map(|&p| f32::from(u8::from(p))).collect();
        let peaks = Tensor::<1>::from_data(TensorData::new(peaks, [size]), device);
        let (logits, log_counts) = model.forward(x);
        let loss = profile_loss(logits, log_counts, y, peaks, data.tasks.len(), self.count_weight);
        let value = f64::from(loss.clone().into_scalar::<f32>()) + constant;
        if !value.is_finite() {
            return (model, value);
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        (optim.step(learning_rate, model, grads), value)
    }
}

impl Trainee for ProfileTrainee<'_> {
    type Module = Bpnet;

    fn data_fingerprint(&self) -> u64 {
        let mut hash = omix_io::ContentHash::new();
        for region in &self.data.regions {
            hash.update(region.chrom.as_bytes());
            hash.update(&region.centre.to_le_bytes());
            hash.update(region.split.as_str().as_bytes());
            hash.update(&[u8::from(region.peak)]);
        }
        hash.update(&(self.data.input_length as u64).to_le_bytes());
        hash.update(&(self.data.output_length as u64).to_le_bytes());
        for task in &self.data.tasks {
            hash.update(task.as_bytes());
        }
        hash.value()
    }

    fn prepare(&mut self, _model: &Bpnet, observer: &mut dyn Observer) {
        observer.message("training engine: burn autodiff (BPNet)");
    }

    fn log_columns(&self) -> &'static [&'static str] {
        &LOG_COLUMNS
    }

    fn train_epoch(
        &mut self,
        model: Bpnet,
        optim: &mut ModuleOptimizer,
        epoch: usize,
        learning_rate: f64,
        status: &str,
        observer: &mut dyn Observer,
    ) -> (Bpnet, Result<f64, TrainError>) {
        let plan = self.plan(epoch);
        observer.start(&format!("epoch {epoch}/{}", self.config.train.epochs), plan.len() as u64);
        let settings =
            LoaderSettings { workers: self.config.train.loader_workers, depth: self.config.train.loader_depth };
        let this = &*self;
        let build = |chunk: &[usize], strands: Option<&[bool]>| this.build(epoch, chunk, strands);
        let mut loss_sum = 0.0;
        let mut seen = 0usize;
        let (model, result) = with_batches(&plan, settings, build, |batches| {
            let mut model = model;
            for (done, (batch_index, batch)) in batches.enumerate() {
                let batch = match batch {
                    Ok(batch) => batch,
                    Err(error) => return (model, Err(error)),
                };
                let examples = batch.size;
                let (next, value) = this.step(model, optim, batch, learning_rate);
                model = next;
                if !value.is_finite() {
                    return (model, Err(TrainError::Diverged { epoch, batch: batch_index + 1, loss: value }));
                }
                loss_sum += value * examples as f64;
                seen += examples;
                observer.advance(done as u64 + 1, &format!("loss {:.4}{status}", loss_sum / seen as f64));
            }
            (model, Ok(()))
        });
        observer.finish();
        (model, result.map(|()| loss_sum / seen.max(1) as f64))
    }

    fn validate(&mut self, model: &Bpnet) -> Result<Validation, TrainError> {
        let model = model.valid();
        let predictions = predict_regions(&model, self.data, &self.validation, &self.device)?;
        let metrics = split_metrics(self.data, &predictions, self.count_weight)?;
        let columns = ["jsd", "profile_pearson", "count_pearson"].iter().map(|name| metrics.get(name)).collect();
        let loss = metrics.get("loss").unwrap_or(f64::NAN);
        Ok(Validation { loss, metrics, columns, note: String::new() })
    }

    fn steps_per_epoch(&self) -> usize {
        self.training.len().div_ceil(self.config.train.batch_size.max(1))
    }

    fn sample_steps(
        &mut self,
        model: Bpnet,
        optim: &mut ModuleOptimizer,
        steps: usize,
        learning_rate: f64,
    ) -> (Bpnet, Result<Vec<f64>, TrainError>) {
        let plan = self.plan(1);
        let mut model = model;
        let mut seconds = Vec::with_capacity(steps);
        for (chunk, strands) in plan.batches.iter().zip(&plan.strands).take(steps) {
            let batch = match self.build(1, chunk, strands.as_deref()) {
                Ok(batch) => batch,
                Err(error) => return (model, Err(error)),
            };
            let started = Instant::now();
            let (next, loss) = self.step(model, optim, batch, learning_rate);
            seconds.push(started.elapsed().as_secs_f64());
            model = next;
            if !loss.is_finite() {
                return (model, Err(TrainError::Diverged { epoch: 1, batch: seconds.len(), loss }));
            }
        }
        (model, Ok(seconds))
    }
}

/// Predictions and observations over regions, in region order.
#[derive(Debug, Clone)]
pub struct RegionPredictions {
    /// The regions' indices in the data set.
    pub indices: Vec<usize>,
    /// Profile logits `[regions, tasks × strands, output_length]`.
    pub logits: Vec<f32>,
    /// Log counts `[regions, tasks]`.
    pub log_counts: Vec<f32>,
    /// Observed counts, laid out as the logits.
    pub observed: Vec<f32>,
}

/// The model's predictions on `indices` (centred windows, forward strand).
pub fn predict_regions(
    model: &Bpnet,
    data: &ProfileData,
    indices: &[usize],
    device: &Device,
) -> Result<RegionPredictions, TrainError> {
    let (input, output, tracks) = (data.input_length, data.output_length, data.tracks());
    let mut predictions = RegionPredictions {
        indices: indices.to_vec(),
        logits: Vec::with_capacity(indices.len() * tracks * output),
        log_counts: Vec::with_capacity(indices.len() * data.tasks.len()),
        observed: Vec::with_capacity(indices.len() * tracks * output),
    };
    for chunk in indices.chunks(PREDICT_BATCH) {
        let batch = data.batch(chunk, &[], &[])?;
        let x = Tensor::<3>::from_data(TensorData::new(batch.one_hot, [batch.size, 4, input]), device);
        let (logits, log_counts) = model.forward(x);
        predictions.logits.extend(read_back(logits)?);
        predictions.log_counts.extend(read_back(log_counts)?);
        predictions.observed.extend(batch.counts);
    }
    Ok(predictions)
}

/// The metrics of a split's predictions: per task on peaks and background apart, and the loss.
pub fn split_metrics(
    data: &ProfileData,
    predictions: &RegionPredictions,
    count_weight: f64,
) -> Result<Metrics, TrainError> {
    let (tasks, strands, length) = (data.tasks.len(), data.strands, data.output_length);
    let tracks = tasks * strands;
    let regions = predictions.indices.len();
    // The loss, as training computes it (constants included), on host values: the profile NLL over
    // peaks, the count error over every region.
    let (mut nll, mut peaks, mut count_error) = (0.0, 0usize, 0.0);
    for r in 0..regions {
        let peak = data.regions[predictions.indices[r]].peak;
        peaks += usize::from(peak);
        for t in 0..tasks {
            let from = (r * tracks + t * strands) * length;
            let to = from + strands * length;
            let observed = &predictions.observed[from..to];
            if peak {
                nll += omix_metrics::multinomial_nll(observed, &predictions.logits[from..to])?;
            }
            let total: f64 = observed.iter().map(|&v| f64::from(v)).sum();
            let error = f64::from(predictions.log_counts[r * tasks + t]) - (1.0 + total).ln();
            count_error += error * error;
        }
    }
    let loss = nll / (peaks.max(1) * tasks) as f64 + count_weight * count_error / (regions.max(1) * tasks) as f64;
    let mut peaks = BTreeMap::new();
    let mut background = BTreeMap::new();
    for (t, task) in data.tasks.iter().enumerate() {
        for (peak, out) in [(true, &mut peaks), (false, &mut background)] {
            let chosen: Vec<usize> =
                (0..regions).filter(|&r| data.regions[predictions.indices[r]].peak == peak).collect();
            if chosen.is_empty() {
                continue;
            }
            let mut observed = Vec::with_capacity(chosen.len() * strands * length);
            let mut logits = Vec::with_capacity(observed.capacity());
            let mut log_counts = Vec::with_capacity(chosen.len());
            for &r in &chosen {
                let from = (r * tracks + t * strands) * length;
                observed.extend_from_slice(&predictions.observed[from..from + strands * length]);
                logits.extend_from_slice(&predictions.logits[from..from + strands * length]);
                log_counts.push(predictions.log_counts[r * tasks + t]);
            }
            let layout = ProfileLayout { regions: chosen.len(), strands, length };
            out.insert(task.clone(), ProfileMetrics::compute(&observed, &logits, &log_counts, layout)?);
        }
    }
    Ok(Metrics::Profile(ProfileSplitMetrics { loss, peaks, background }))
}

/// The baseline every profile model is compared with: for every region, the training peaks'
/// average profile (each profile normalised, then averaged per task and strand position) and
/// their mean log count. A model that does not beat it has learned nothing about sequence.
pub fn average_profile_baseline(
    data: &ProfileData,
    training: &RegionPredictions,
    target: &RegionPredictions,
) -> RegionPredictions {
    let (tasks, strands, length) = (data.tasks.len(), data.strands, data.output_length);
    let tracks = tasks * strands;
    let per_region = tracks * length;
    let mut profile = vec![0f64; per_region];
    let mut log_count = vec![0f64; tasks];
    let mut used = vec![0usize; tasks];
    for r in 0..training.indices.len() {
        if !data.regions[training.indices[r]].peak {
            continue;
        }
        for t in 0..tasks {
            let from = r * per_region + t * strands * length;
            let slice = &training.observed[from..from + strands * length];
            let total: f64 = slice.iter().map(|&v| f64::from(v)).sum();
            if total > 0.0 {
                for (i, &v) in slice.iter().enumerate() {
                    profile[t * strands * length + i] += f64::from(v) / total;
                }
            }
            log_count[t] += (1.0 + total).ln();
            used[t] += 1;
        }
    }
    let logits: Vec<f32> = (0..per_region)
        .map(|i| {
            let t = i / (strands * length);
            ((profile[i] / used[t].max(1) as f64).max(1e-12)).ln() as f32
        })
        .collect();
    let mean_log: Vec<f32> = (0..tasks).map(|t| (log_count[t] / used[t].max(1) as f64) as f32).collect();
    let regions = target.indices.len();
    RegionPredictions {
        indices: target.indices.clone(),
        logits: (0..regions).flat_map(|_| logits.iter().copied()).collect(),
        log_counts: (0..regions).flat_map(|_| mean_log.iter().copied()).collect(),
        observed: target.observed.clone(),
    }
}

/// What a profile experiment wrote into `metrics.json`.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileMetricsFile {
    /// The model on its training regions (centred windows, forward strand): against validation,
    /// how much it overfits.
    pub training: Metrics,
    /// The model on validation.
    pub validation: Metrics,
    /// The model on test (absent when no region is on a test chromosome).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<Metrics>,
    /// The average-profile baseline on test.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_test: Option<Metrics>,
    /// λ, the count loss's weight.
    pub count_weight: f64,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Epochs run.
    pub epochs_run: usize,
}

/// What a profile experiment produced.
#[derive(Debug)]
pub struct ProfileSummary {
    /// `metrics.json`'s content (None when training stopped early on request).
    pub metrics: Option<ProfileMetricsFile>,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Epochs run.
    pub epochs: usize,
    /// Seconds spent training.
    pub training_seconds: f64,
    /// Whether training ran to its end.
    pub finished: bool,
}

impl ProfileSummary {
    /// Lines for the terminal: the model and the baseline on test.
    pub fn summary_lines(&self) -> Vec<String> {
        let Some(metrics) = &self.metrics else { return Vec::new() };
        let mut lines = vec![
            format!("training   {}", metrics.training.summary()),
            format!("validation {}", metrics.validation.summary()),
        ];
        if let (Some(test), Some(baseline)) = (&metrics.test, &metrics.baseline_test) {
            lines.push(format!("test       {}", test.summary()));
            lines.push(format!("baseline   (average training profile, mean log count) {}", baseline.summary()));
        }
        lines
    }
}

/// What `omix train --dry-run` does for a profile experiment: the data loaded and checked, the model
/// built, `steps` real optimiser steps timed and one validation pass, nothing written.
pub fn dry_run_profile_experiment(
    config: &ProfileExperimentConfig,
    device: &Device,
    steps: usize,
    observer: &mut dyn Observer,
) -> Result<crate::DryRun, TrainError> {
    let (data, shape, count_weight) = prepare(config, observer)?;
    let plain = device.clone().without_autodiff();
    let shown = config.model.init(shape, &plain)?;
    let parameters = shown.num_params();
    let layers = format!("{shown}");
    let mut trainee = ProfileTrainee::new(config, &data, count_weight, device);
    let train_device = plain.autodiff();
    train_device.seed(config.seed);
    let model = config.model.init(shape, &train_device)?;
    let estimate = crate::fit::estimate(&mut trainee, model, optimizer(&config.train), &config.train, steps, observer)?;
    // Batches in flight: one per loader slot and the one training.
    let per_batch =
        (config.train.batch_size * (4 * data.input_length + data.tracks() * data.output_length) * 4) as u128;
    let in_flight = (config.train.loader_workers * config.train.loader_depth + 1) as u128;
    let memory = crate::MemoryEstimate {
        data_bytes: per_batch * in_flight,
        parameter_bytes: omix_data::memory::parameter_bytes(
            parameters,
            crate::experiment::optimizer_slots(&config.train),
        ),
        measured_peak_bytes: omix_data::memory::peak_resident_memory(),
    };
    Ok(crate::DryRun { parameters, layers, estimate, memory, checks: Vec::new() })
}

/// Check the config, load the data and check the windows against the model: everything that can
/// fail before anything is written. Returns the data, the model's shape and λ.
fn prepare(
    config: &ProfileExperimentConfig,
    observer: &mut dyn Observer,
) -> Result<(ProfileData, ProfileShape, f64), TrainError> {
    config.check()?;
    let mut log = |line: &str| observer.message(line);
    let data = ProfileData::load(&config.tracks, config.seed, &mut log)?;
    let shape = ProfileShape {
        input_length: data.input_length,
        output_length: data.output_length,
        tasks: data.tasks.len(),
        strands: data.strands,
    };
    config.model.check(shape)?;
    let count_weight = config.count_weight.unwrap_or(data.report.median_peak_count / 10.0);
    observer.message(&format!(
        "count loss weight λ = {count_weight:.3}{}",
        if config.count_weight.is_some() { " (set)" } else { " (median training peak count / 10)" }
    ));
    Ok((data, shape, count_weight))
}

/// A profile experiment end to end: data → model → the shared loop → metrics and the baseline on
/// validation and test → run folder (`config.toml`, `data_report.json`, `training_log.tsv`,
/// checkpoints, `model.bpk`, `metrics.json`).
pub fn run_profile_experiment(
    config: &ProfileExperimentConfig,
    run: &RunDir,
    device: &Device,
    options: TrainOptions,
    observer: &mut dyn Observer,
) -> Result<ProfileSummary, TrainError> {
    let (data, shape, count_weight) = prepare(config, observer)?;
    let mut trainee = ProfileTrainee::new(config, &data, count_weight, device);
    if options.resume {
        crate::fit::refuse_changed_data(run, trainee.data_fingerprint())?;
    }
    run.create()?;
    run.write_toml(files::CONFIG, config)?;
    run.write_json(files::DATA_REPORT, &data.report)?;
    let train_device = device.clone().without_autodiff().autodiff();
    train_device.seed(config.seed);
    let model = config.model.init(shape, &train_device)?;
    let started = Instant::now();
    let fitted = fit(
        &mut trainee,
        model,
        optimizer(&config.train),
        &config.train,
        config.seed,
        &train_device,
        run,
        options,
        observer,
    )?;
    let training_seconds = started.elapsed().as_secs_f64();
    let epochs = fitted.history.len();
    if !fitted.finished {
        return Ok(ProfileSummary {
            metrics: None,
            best_epoch: fitted.best_epoch,
            epochs,
            training_seconds,
            finished: false,
        });
    }
    let model = fitted.model;
    let bytes = weights_to_bytes(&model)?;
    omix_io::write_atomically(&run.path(files::WEIGHTS), |out| std::io::Write::write_all(out, &bytes))?;
    let plain = device.clone().without_autodiff();
    let predict = |split: SplitName| predict_regions(&model, &data, &data.indices(split), &plain);
    let validation = predict(SplitName::Validation)?;
    let training = predict(SplitName::Train)?;
    let (test, baseline_test) = if data.indices(SplitName::Test).is_empty() {
        (None, None)
    } else {
        let test = predict(SplitName::Test)?;
        let baseline = average_profile_baseline(&data, &training, &test);
        (Some(split_metrics(&data, &test, count_weight)?), Some(split_metrics(&data, &baseline, count_weight)?))
    };
    let metrics = ProfileMetricsFile {
        training: split_metrics(&data, &training, count_weight)?,
        validation: split_metrics(&data, &validation, count_weight)?,
        test,
        baseline_test,
        count_weight,
        best_epoch: fitted.best_epoch,
        epochs_run: epochs,
    };
    run.write_json(files::METRICS, &metrics)?;
    Ok(ProfileSummary {
        metrics: Some(metrics),
        best_epoch: fitted.best_epoch,
        epochs,
        training_seconds,
        finished: true,
    })
}

/// The folder, inside a ChromBPNet run, of its bias model (a run folder of its own).
pub const BIAS_FOLDER: &str = "bias";

/// A ChromBPNet's outputs: the TF model's profile logits plus the frozen bias model's, and the two
/// log counts combined by log-sum-exp (the counts add). No gradient reaches the bias outputs.
pub fn add_bias(
    logits: Tensor<3>,
    log_counts: Tensor<2>,
    bias_logits: Tensor<3>,
    bias_log_counts: Tensor<2>,
) -> (Tensor<3>, Tensor<2>) {
    let logits = logits + bias_logits;
    let max = log_counts.clone().detach().max_pair(bias_log_counts.clone());
    let counts = max.clone() + ((log_counts - max.clone()).exp() + (bias_log_counts - max).exp()).log();
    (logits, counts)
}

/// Profile logits and log counts (host values) of `model` on one-hot windows `[windows, 4, input]`,
/// with a frozen bias model's added when given (see [`add_bias`]).
pub fn combined_forward(
    model: &Bpnet,
    bias: Option<&Bpnet>,
    one_hot: Vec<f32>,
    windows: usize,
    input: usize,
    device: &Device,
) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
    let x = Tensor::<3>::from_data(TensorData::new(one_hot, [windows, 4, input]), device);
    let (logits, log_counts) = model.forward(x.clone());
    let (logits, log_counts) = match bias {
        Some(bias) => {
            let (bias_logits, bias_counts) = bias.forward(x);
            add_bias(logits, log_counts, bias_logits, bias_counts)
        }
        None => (logits, log_counts),
    };
    Ok((read_back(logits)?, read_back(log_counts)?))
}

/// A trained profile model loaded from its run folder.
pub struct ProfileRun {
    /// The model (for ChromBPNet, the TF model), on the device it was loaded to.
    pub model: Bpnet,
    /// ChromBPNet's frozen bias model.
    pub bias: Option<Bpnet>,
    /// The run's experiment.
    pub config: ProfileExperimentConfig,
    /// Its windows, tasks and strands.
    pub shape: ProfileShape,
}

impl ProfileRun {
    /// Whether the run folder holds a profile experiment (its `config.toml` has a `[tracks]` table).
    pub fn is_profile(run: &RunDir) -> bool {
        run.read_text(files::CONFIG)
            .ok()
            .and_then(|text| text.parse::<toml::Table>().ok())
            .is_some_and(|table| table.contains_key("tracks"))
    }

    /// The run's model with its trained weights.
    pub fn load(run: &RunDir, device: &Device) -> Result<ProfileRun, TrainError> {
        let text = run.read_text(files::CONFIG)?;
        let config = ProfileExperimentConfig::from_toml(&text).map_err(|e| TrainError::Run {
            path: run.path(files::CONFIG),
            message: format!("not a profile experiment's config: {e}"),
        })?;
        let shape = ProfileShape {
            input_length: config.tracks.input_length,
            output_length: config.tracks.output_length,
            tasks: config.tracks.tasks.len(),
            strands: config.tracks.strands(),
        };
        let model = config.model.init(shape, device)?;
        let model = crate::run::load_weights(model, &run.path(files::WEIGHTS))?;
        let bias = match &config.bias {
            Some(bias) => {
                let folder = RunDir::new(run.path(BIAS_FOLDER));
                let model = bias.model().init(shape, device)?;
                Some(crate::run::load_weights(model, &folder.path(files::WEIGHTS))?)
            }
            None => None,
        };
        Ok(ProfileRun { model, bias, config, shape })
    }

    /// The names of the predicted tracks: `task.plus`/`task.minus` (or `task` unstranded).
    pub fn track_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for task in &self.config.tracks.tasks {
            if self.shape.strands == 2 {
                names.push(format!("{}.plus", task.name));
                names.push(format!("{}.minus", task.name));
            } else {
                names.push(task.name.clone());
            }
        }
        names
    }

    /// Profile logits `[windows, tasks × strands, output_length]` and log counts `[windows, tasks]`
    /// for one-hot input windows `[windows, 4, input_length]`. For a ChromBPNet run, `with_bias`
    /// adds the frozen bias model (logits added, counts combined by log-sum-exp: what the data
    /// look like); without it the prediction is bias-corrected (the TF model alone). A BPNet run has
    /// no bias model and ignores `with_bias`.
    pub fn forward_one_hot(
        &self,
        one_hot: Vec<f32>,
        windows: usize,
        with_bias: bool,
        device: &Device,
    ) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
        let input = self.shape.input_length;
        if one_hot.len() != windows * 4 * input {
            return Err(TrainError::Run {
                path: std::path::PathBuf::from(files::CONFIG),
                message: format!(
                    "{} one-hot values are not {windows} windows of 4 x {input} bases",
                    one_hot.len()
                ),
            });
        }
        let bias = if with_bias { self.bias.as_ref() } else { None };
        combined_forward(&self.model, bias, one_hot, windows, input, device)
    }

    /// The one-hot encoding `[windows, 4, input_length]` of the input windows centred on output
    /// windows starting at `starts` on `chrom`.
    pub fn encode_windows(
        &self,
        reference: &omix_genome::Reference,
        chrom: &str,
        starts: &[i64],
    ) -> Result<Vec<f32>, TrainError> {
        let (input, output) = (self.shape.input_length, self.shape.output_length);
        let flank = ((input - output) / 2) as i64;
        let encoder = omix_encode::Encoder::new(omix_encode::Alphabet::Dna, omix_encode::Ambiguity::Zero);
        let mut one_hot = vec![0f32; starts.len() * 4 * input];
        for (k, &start) in starts.iter().enumerate() {
            let bases = reference
                .fetch(chrom, start - flank, start - flank + input as i64)
                .map_err(omix_data::DataError::from)?;
            encoder.encode_into(&bases, &mut one_hot[k * 4 * input..(k + 1) * 4 * input]).map_err(|e| {
                TrainError::Run { path: reference.path().to_path_buf(), message: format!("{chrom}:{start}: {e}") }
            })?;
        }
        Ok(one_hot)
    }

    /// Expected counts per base (softmax of each task's profile over its strands and bases, times the
    /// exponential of its log count) for output windows of `output_length` bases starting at `starts`
    /// on `chrom`; the model reads the input window centred on each. `[windows, tracks, output_length]`.
    /// `with_bias` as in [`ProfileRun::forward_one_hot`].
    pub fn expected_counts(
        &self,
        reference: &omix_genome::Reference,
        chrom: &str,
        starts: &[i64],
        with_bias: bool,
        device: &Device,
    ) -> Result<Vec<f32>, TrainError> {
        let one_hot = self.encode_windows(reference, chrom, starts)?;
        let (logits, log_counts) = self.forward_one_hot(one_hot, starts.len(), with_bias, device)?;
        Ok(expected_counts(&logits, &log_counts, self.shape.strands * self.shape.output_length))
    }
}

/// Expected counts per base from profile logits and log counts: each task's softmax over its
/// strands and bases (`per_task` values) times the exponential of its log count.
pub fn expected_counts(logits: &[f32], log_counts: &[f32], per_task: usize) -> Vec<f32> {
    let mut expected = vec![0f32; logits.len()];
    for (example, (chunk, out)) in logits.chunks(per_task).zip(expected.chunks_mut(per_task)).enumerate() {
        let total = f64::from(log_counts[example]).exp();
        let max = chunk.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f64 = chunk.iter().map(|&l| f64::from(l - max).exp()).sum();
        for (o, &l) in out.iter_mut().zip(chunk) {
            *o = (f64::from(l - max).exp() / sum * total) as f32;
        }
    }
    expected
}
