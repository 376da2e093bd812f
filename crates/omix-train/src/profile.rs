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
    train: omix_config::TrainConfig,
    data: &'a ProfileData,
    count_weight: f64,
    training: Vec<usize>,
    validation: Vec<usize>,
    /// ChromBPNet's frozen bias model (on the plain device): its outputs are added to the model's.
    bias: Option<Bpnet>,
    /// Which regions' profiles enter the loss.
    profile_on: ProfileLossOn,
    device: Device,
    train_device: Device,
    /// The bytes of every track and control file, hashed once (see [`tracks_fingerprint`]).
    tracks_hash: u64,
}

/// A hash of the bytes of every task's track and control files: a bigWig replaced between a kill
/// and `--resume` changes the data, and the resumed run must refuse it rather than train on it.
fn tracks_fingerprint(config: &ProfileExperimentConfig) -> u64 {
    let mut hash = omix_io::ContentHash::new();
    for task in &config.tracks.tasks {
        for path in task.files().into_iter().chain(task.control.iter().map(std::path::PathBuf::as_path)) {
            hash.update(path.to_string_lossy().as_bytes());
            match omix_io::hash_file(path) {
                Ok((size, value)) => {
                    hash.update(&size.to_le_bytes());
                    hash.update(&value.to_le_bytes());
                }
                // Read already when the data loaded; unreadable now, it cannot match a checkpoint's hash.
                Err(error) => hash.update(error.to_string().as_bytes()),
            }
        }
    }
    hash.value()
}

/// Which regions' profiles enter the multinomial loss (every region's count enters the count loss).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileLossOn {
    /// Peaks only (BPNet, ChromBPNet's TF model): background profiles are mostly noise.
    Peaks,
    /// Every region (a ChromBPNet bias model, which learns from background alone).
    All,
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
            train: config.train.clone(),
            data,
            count_weight,
            training: data.indices(SplitName::Train),
            validation: data.indices(SplitName::Validation),
            bias: None,
            profile_on: ProfileLossOn::Peaks,
            train_device: device.clone().autodiff(),
            device,
            tracks_hash: tracks_fingerprint(config),
        }
    }

    /// A ChromBPNet bias model's trainee: `training` and `validation` regions (low-count background),
    /// every region's profile in the loss, `train` settings of its own.
    pub fn for_bias(
        config: &'a ProfileExperimentConfig,
        data: &'a ProfileData,
        count_weight: f64,
        regions: [Vec<usize>; 2],
        train: omix_config::TrainConfig,
        device: &Device,
    ) -> Self {
        let [training, validation] = regions;
        let mut trainee = ProfileTrainee::new(config, data, count_weight, device);
        trainee.training = training;
        trainee.validation = validation;
        trainee.train = train;
        trainee.profile_on = ProfileLossOn::All;
        trainee
    }

    /// Train under a frozen bias model (ChromBPNet's TF model): its outputs are added to the model's.
    pub fn with_frozen_bias(mut self, bias: Bpnet) -> Self {
        self.bias = Some(bias);
        self
    }

    /// The batches of one epoch (its seed from `epoch`): indices, strands to flip, and shifts.
    fn plan(&self, epoch: usize) -> EpochPlan {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        EpochPlan::new(&self.training, self.train.batch_size, self.data.reverse_complements(), &mut rng)
    }

    /// Build the batch of `chunk` for `epoch`.
    fn build(&self, epoch: usize, chunk: &[usize], strands: Option<&[bool]>) -> Result<ProfileBatch, TrainError> {
        let jitter = self.data.jitter();
        let shifts: Vec<i64> = chunk.iter().map(|&i| jitter_shift(self.config.seed, epoch, i, jitter)).collect();
        Ok(self.data.batch(chunk, &shifts, strands.unwrap_or(&[]))?)
    }

    /// One optimiser step: the updated model and the batch's loss (with the NLL's constant terms).
    /// omix's BPNet kernels compute the loss and the gradients where [`Self::uses_kernels`] says
    /// so; burn's autodiff otherwise, and for a batch the kernels refuse.
    fn step(&self, model: Bpnet, optim: &mut ModuleOptimizer, batch: ProfileBatch, learning_rate: f64) -> (Bpnet, f64) {
        let data = self.data;
        let (size, input, output, tracks) = (batch.size, data.input_length, data.output_length, data.tracks());
        let in_loss: Vec<bool> = match self.profile_on {
            ProfileLossOn::Peaks => batch.peaks.clone(),
            ProfileLossOn::All => vec![true; size],
        };
        let constant = profile_loss_constant(&batch.counts, &in_loss, data.tasks.len());
        if self.uses_kernels(&model)
            && let Some((loss, grads)) = self.kernel_loss_and_gradients(&model, &batch, &in_loss)
        {
            let value = loss + constant;
            if !value.is_finite() {
                return (model, value);
            }
            return (optim.step(learning_rate, model, grads), value);
        }
        let device = &self.train_device;
        // The frozen bias model runs without autodiff; its outputs enter as constants.
        let bias_outputs = match &self.bias {
            Some(bias) => {
                let x = Tensor::<3>::from_data(TensorData::new(batch.one_hot.clone(), [size, 4, input]), &self.device);
                let (logits, counts) = bias.forward(x);
                Some((
                    Tensor::<3>::from_data(logits.into_data(), device),
                    Tensor::<2>::from_data(counts.into_data(), device),
                ))
            }
            None => None,
        };
        let x = Tensor::<3>::from_data(TensorData::new(batch.one_hot, [size, 4, input]), device);
        let y = Tensor::<3>::from_data(TensorData::new(batch.counts, [size, tracks, output]), device);
        let peaks: Vec<f32> = in_loss.iter().map(|&p| f32::from(u8::from(p))).collect();
        let peaks = Tensor::<1>::from_data(TensorData::new(peaks, [size]), device);
        let control = batch.control.filter(|_| model.control_strands() > 0).map(|values| {
            let channels = values.len() / (size * input).max(1);
            Tensor::<3>::from_data(TensorData::new(values, [size, channels, input]), device)
        });
        let (logits, log_counts) = model.forward_with_control(x, control);
        let (logits, log_counts) = match bias_outputs {
            Some((bias_logits, bias_counts)) => add_bias(logits, log_counts, bias_logits, bias_counts),
            None => (logits, log_counts),
        };
        let loss = profile_loss(logits, log_counts, y, peaks, data.tasks.len(), self.count_weight);
        let value = f64::from(loss.clone().into_scalar::<f32>()) + constant;
        if !value.is_finite() {
            return (model, value);
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        (optim.step(learning_rate, model, grads), value)
    }

    /// Whether steps run on omix's hand-written BPNet kernels ([`omix_models::BpnetKernels`]):
    /// `[train] engine` is `auto`, the device is this machine's CPU and the kernels implement
    /// `model`'s layers (decided from its settings alone, so no lazily initialised weight is drawn
    /// before the first step, as burn's first forward pass draws them).
    fn uses_kernels(&self, model: &Bpnet) -> bool {
        self.train.engine == omix_config::Engine::Auto
            && omix_models::host_kernels_serve(&self.device)
            && omix_models::BpnetLayout::of(model).is_ok()
    }

    /// The loss without the NLL's constant terms and the gradients of a batch, by the kernels;
    /// `None` if they refuse it.
    fn kernel_loss_and_gradients(
        &self,
        model: &Bpnet,
        batch: &ProfileBatch,
        in_loss: &[bool],
    ) -> Option<(f64, GradientsParams)> {
        let kernels = omix_models::BpnetKernels::new(model).ok()?;
        let frozen = match &self.bias {
            Some(bias) => Some(self.frozen_outputs(bias, &batch.one_hot, batch.size)?),
            None => None,
        };
        let view = omix_models::ProfileBatchRef {
            one_hot: &batch.one_hot,
            counts: &batch.counts,
            profile_in_loss: in_loss,
            frozen: frozen.as_ref().map(|(logits, log_counts)| omix_models::FrozenOutputs { logits, log_counts }),
            // A bias model reads no controls, whatever the tasks have.
            control: batch.control.as_deref().filter(|_| model.control_strands() > 0),
        };
        kernels.loss_and_gradients(&view, self.count_weight, &self.device).ok()
    }

    /// The frozen bias model's profile logits and log counts on one-hot windows `[size, 4, input]`:
    /// by the kernels' forward pass where they implement it, else burn's.
    fn frozen_outputs(&self, bias: &Bpnet, one_hot: &[f32], size: usize) -> Option<(Vec<f32>, Vec<f32>)> {
        if let Ok(outputs) = omix_models::BpnetKernels::new(bias).and_then(|kernels| kernels.forward(one_hot)) {
            return Some(outputs);
        }
        let x =
            Tensor::<3>::from_data(TensorData::new(one_hot.to_vec(), [size, 4, self.data.input_length]), &self.device);
        let (logits, log_counts) = bias.forward(x);
        Some((read_back(logits).ok()?, read_back(log_counts).ok()?))
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
        for &index in self.training.iter().chain(&self.validation) {
            hash.update(&(index as u64).to_le_bytes());
        }
        hash.update(&(self.data.input_length as u64).to_le_bytes());
        hash.update(&(self.data.output_length as u64).to_le_bytes());
        for task in &self.data.tasks {
            hash.update(task.as_bytes());
        }
        hash.update(&self.tracks_hash.to_le_bytes());
        hash.value()
    }

    fn prepare(&mut self, model: &Bpnet, observer: &mut dyn Observer) {
        let engine = if self.uses_kernels(model) { "omix BPNet kernels" } else { "burn autodiff" };
        let what = match (&self.bias, self.profile_on) {
            (Some(_), _) => "ChromBPNet TF model under the frozen bias model",
            (None, ProfileLossOn::All) => "ChromBPNet bias model",
            (None, ProfileLossOn::Peaks) => "BPNet",
        };
        observer.message(&format!("training engine: {engine} ({what})"));
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
        observer.start(&format!("epoch {epoch}/{}", self.train.epochs), plan.len() as u64);
        let settings = LoaderSettings { workers: self.train.loader_workers, depth: self.train.loader_depth };
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
        let predictions = predict_regions(&model, self.bias.as_ref(), self.data, &self.validation, &self.device)?;
        let metrics = split_metrics(self.data, &predictions, self.count_weight, self.profile_on)?;
        let columns = ["jsd", "profile_pearson", "count_pearson"].iter().map(|name| metrics.get(name)).collect();
        let loss = metrics.get("loss").unwrap_or(f64::NAN);
        Ok(Validation { loss, metrics, columns, note: String::new() })
    }

    fn steps_per_epoch(&self) -> usize {
        self.training.len().div_ceil(self.train.batch_size.max(1))
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

/// The model's predictions on `indices` (centred windows, forward strand), with a frozen bias
/// model's outputs added when given (ChromBPNet).
pub fn predict_regions(
    model: &Bpnet,
    bias: Option<&Bpnet>,
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
        let (logits, log_counts) =
            combined_forward(model, bias, batch.one_hot, batch.control.as_deref(), batch.size, input, device)?;
        predictions.logits.extend(logits);
        predictions.log_counts.extend(log_counts);
        predictions.observed.extend(batch.counts);
    }
    Ok(predictions)
}

/// The metrics of a split's predictions: per task on peaks and background apart, and the loss.
pub fn split_metrics(
    data: &ProfileData,
    predictions: &RegionPredictions,
    count_weight: f64,
    profile_on: ProfileLossOn,
) -> Result<Metrics, TrainError> {
    let (tasks, strands, length) = (data.tasks.len(), data.strands, data.output_length);
    let tracks = tasks * strands;
    let regions = predictions.indices.len();
    // The loss, as training computes it (constants included), on host values: the profile NLL over
    // peaks, the count error over every region.
    let (mut nll, mut peaks, mut count_error) = (0.0, 0usize, 0.0);
    for r in 0..regions {
        let peak = data.regions[predictions.indices[r]].peak || profile_on == ProfileLossOn::All;
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
    profile_on: ProfileLossOn,
) -> RegionPredictions {
    let (tasks, strands, length) = (data.tasks.len(), data.strands, data.output_length);
    let tracks = tasks * strands;
    let per_region = tracks * length;
    let mut profile = vec![0f64; per_region];
    let mut log_count = vec![0f64; tasks];
    let mut used = vec![0usize; tasks];
    for r in 0..training.indices.len() {
        if !data.regions[training.indices[r]].peak && profile_on == ProfileLossOn::Peaks {
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

/// What the count baseline reads from a window: its GC fraction and canonical 4-mer frequencies.
const BASELINE_K: usize = 4;

/// GC fraction and canonical k-mer frequencies of each region's input window `[regions, width]`.
fn count_features(data: &ProfileData, indices: &[usize]) -> Result<(Vec<f32>, usize), TrainError> {
    let config = omix_features::KmerConfig { k: BASELINE_K, ..omix_features::KmerConfig::default() };
    let featurizer = omix_features::KmerFeaturizer::new(config, omix_encode::Alphabet::Dna)
        .map_err(|e| TrainError::Config { field: "baseline", message: e.to_string() })?;
    let width = 1 + featurizer.dimension();
    let input = data.input_length;
    let mut features = Vec::with_capacity(indices.len() * width);
    let mut row = omix_features::SparseRow::default();
    let mut bases = vec![b'N'; input];
    for chunk in indices.chunks(PREDICT_BATCH) {
        let batch = data.batch(chunk, &[], &[])?;
        for one_hot in batch.one_hot.chunks(4 * input) {
            let mut gc = 0usize;
            for (i, base) in bases.iter_mut().enumerate() {
                *base = b'N';
                for (channel, letter) in b"ACGT".iter().enumerate() {
                    if one_hot[channel * input + i] > 0.5 {
                        *base = *letter;
                        gc += usize::from(channel == 1 || channel == 2);
                    }
                }
            }
            row.clear();
            featurizer.featurize(&bases, &mut row);
            features.push(gc as f32 / input as f32);
            features.extend(row.to_dense(featurizer.dimension()));
        }
    }
    Ok((features, width))
}

/// Observed log(1 + total count) per region and task `[regions, tasks]`.
fn observed_log_counts(data: &ProfileData, predictions: &RegionPredictions) -> Vec<f64> {
    let (tasks, per_task) = (data.tasks.len(), data.strands * data.output_length);
    predictions
        .observed
        .chunks(per_task)
        .take(predictions.indices.len() * tasks)
        .map(|task| task.iter().map(|&v| f64::from(v)).sum::<f64>().ln_1p())
        .collect()
}

/// The baseline's log counts for `target`: ridge regression of log(1 + count) on the input window's
/// GC content and canonical 4-mer frequencies, fitted on the training regions with λ chosen on
/// validation — how much of the counts sequence composition alone explains.
pub fn count_baseline(
    data: &ProfileData,
    training: &RegionPredictions,
    validation: &RegionPredictions,
    target: &RegionPredictions,
) -> Result<Vec<f32>, TrainError> {
    let error = |e: omix_baseline::BaselineError| TrainError::Config { field: "baseline", message: e.to_string() };
    let (train_x, width) = count_features(data, &training.indices)?;
    let (validation_x, _) = count_features(data, &validation.indices)?;
    let (target_x, _) = count_features(data, &target.indices)?;
    let tasks = data.tasks.len();
    let ridge = omix_baseline::Ridge::fit_with_validation(
        &train_x,
        &observed_log_counts(data, training),
        &validation_x,
        &observed_log_counts(data, validation),
        width,
        tasks,
    )
    .map_err(error)?;
    Ok(ridge.predict(&target_x).map_err(error)?.into_iter().map(|v| v as f32).collect())
}

/// What the profile baseline is, in words (metrics.json and the report).
pub const PROFILE_BASELINE: &str = "the training peaks' average profile, with log counts from ridge regression \
     on GC content and canonical 4-mer frequencies of the input window (fitted on training, λ chosen on validation)";

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
    /// The baseline on test ([`PROFILE_BASELINE`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_test: Option<Metrics>,
    /// What the baseline is.
    pub baseline_model: String,
    /// λ, the count loss's weight.
    pub count_weight: f64,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Epochs run.
    pub epochs_run: usize,
    /// The device that trained the model, when it was not the CPU (absent: the CPU).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<omix_run::DeviceRecord>,
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
            lines.push(format!(
                "baseline   (average training profile, ridge counts on GC and 4-mers) {}",
                baseline.summary()
            ));
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
    if let Some(bias) = &config.bias {
        bias.model().check(shape.without_control())?;
        let (_, report) = bias_regions(bias, &data)?;
        observer.message(&format!(
            "bias model: {} filters x {} layers on background below {:.1} counts: training/validation/test {}/{}/{}, {} left out",
            bias.filters,
            bias.layers,
            report.count_threshold,
            report.regions_per_split[0],
            report.regions_per_split[1],
            report.regions_per_split[2],
            report.left_out
        ));
    }
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
        control_strands: config.tracks.control_strands(),
    };
    config.model.check(shape)?;
    let count_weight = config.count_weight.unwrap_or(data.report.median_peak_count / 10.0);
    observer.message(&format!(
        "count loss weight λ = {count_weight:.3}{}",
        if config.count_weight.is_some() { " (set)" } else { " (median training peak count / 10)" }
    ));
    Ok((data, shape, count_weight))
}

/// What a ChromBPNet bias model learned from (`bias/data_report.json`).
#[derive(Debug, Clone, Serialize)]
pub struct BiasDataReport {
    /// The 1% quantile of the training and validation peaks' total counts.
    pub peak_count_quantile_1pct: f64,
    /// `[bias] threshold_factor`.
    pub threshold_factor: f64,
    /// Background regions with a total count at or above this were left out.
    pub count_threshold: f64,
    /// Background regions kept per split (training, validation, test).
    pub regions_per_split: [usize; 3],
    /// Background regions left out for their counts.
    pub left_out: usize,
    /// The bias model's count-loss weight.
    pub count_weight: f64,
}

/// The bias model's regions per split: background whose total count is below `threshold_factor` ×
/// the 1% quantile of the training and validation peaks' counts (chrombpnet's rule), so that it
/// learns the enzyme's sequence preference from regions without TF signal.
fn bias_regions(
    bias: &omix_config::BiasConfig,
    data: &ProfileData,
) -> Result<([Vec<usize>; 3], BiasDataReport), TrainError> {
    let mut peak_totals = Vec::new();
    for (index, region) in data.regions.iter().enumerate() {
        if region.peak && region.split != SplitName::Test {
            peak_totals.push(data.total_count(index)?);
        }
    }
    peak_totals.sort_by(f64::total_cmp);
    let low = omix_data::profile::quantile(&peak_totals, 0.01);
    let threshold = low * bias.threshold_factor;
    let mut regions: [Vec<usize>; 3] = Default::default();
    let mut left_out = 0;
    for (index, region) in data.regions.iter().enumerate() {
        if region.peak {
            continue;
        }
        if data.total_count(index)? >= threshold {
            left_out += 1;
            continue;
        }
        let slot = match region.split {
            SplitName::Train => 0,
            SplitName::Validation => 1,
            SplitName::Test => 2,
        };
        regions[slot].push(index);
    }
    let report = BiasDataReport {
        peak_count_quantile_1pct: low,
        threshold_factor: bias.threshold_factor,
        count_threshold: threshold,
        regions_per_split: [regions[0].len(), regions[1].len(), regions[2].len()],
        left_out,
        count_weight: 0.0,
    };
    for (slot, name) in [(0, "training"), (1, "validation")] {
        if regions[slot].is_empty() {
            return Err(TrainError::Data(omix_data::DataError::Profile {
                field: "bias.threshold_factor".into(),
                message: format!(
                    "no {name} background region has a total count below {threshold:.1} ({} x the 1% quantile \
                     of the peaks' counts, {low:.1}; {left_out} regions are above it): raise [bias] \
                     threshold_factor or [tracks] background",
                    bias.threshold_factor
                ),
            }));
        }
    }
    Ok((regions, report))
}

/// Train (or, on `--resume`, reuse) a ChromBPNet's bias model into `RUN/bias/`: its own run folder
/// with config, training log, checkpoints, weights, metrics and data report. Returns the model on
/// the plain device, or `None` when training stopped early on request.
#[allow(clippy::too_many_arguments)]
fn train_bias(
    config: &ProfileExperimentConfig,
    bias: &omix_config::BiasConfig,
    data: &ProfileData,
    shape: ProfileShape,
    run: &RunDir,
    device: &Device,
    options: TrainOptions,
    observer: &mut dyn Observer,
) -> Result<Option<Bpnet>, TrainError> {
    let folder = RunDir::new(run.path(BIAS_FOLDER));
    let plain = device.clone().without_autodiff();
    let model_config = bias.model();
    // The bias model reads sequence only, as chrombpnet's does.
    let shape = shape.without_control();
    model_config.check(shape)?;
    if options.resume && folder.path(files::WEIGHTS).exists() {
        observer.message(&format!("bias model: reusing {}", folder.path(files::WEIGHTS).display()));
        let model = model_config.init(shape, &plain)?;
        return Ok(Some(crate::run::load_weights(model, &folder.path(files::WEIGHTS))?));
    }
    let ([training, validation, test], mut report) = bias_regions(bias, data)?;
    let mut totals = Vec::with_capacity(training.len());
    for &index in &training {
        totals.push(data.total_count(index)?);
    }
    totals.sort_by(f64::total_cmp);
    let count_weight = bias.count_weight.unwrap_or(omix_data::profile::quantile(&totals, 0.5) / 10.0);
    report.count_weight = count_weight;
    observer.message(&format!(
        "bias model: {} filters x {} layers on background below {:.1} counts ({} x the peaks' 1% quantile {:.1}): \
         training/validation/test {}/{}/{}, {} left out; count loss weight {count_weight:.3}",
        bias.filters,
        bias.layers,
        report.count_threshold,
        bias.threshold_factor,
        report.peak_count_quantile_1pct,
        report.regions_per_split[0],
        report.regions_per_split[1],
        report.regions_per_split[2],
        report.left_out,
    ));
    let train = bias.train(&config.train);
    let mut trainee = ProfileTrainee::for_bias(
        config,
        data,
        count_weight,
        [training.clone(), validation.clone()],
        train.clone(),
        device,
    );
    if options.resume {
        crate::fit::refuse_changed_data(&folder, trainee.data_fingerprint())?;
    }
    folder.create()?;
    folder.write_toml(files::CONFIG, bias)?;
    folder.write_json(files::DATA_REPORT, &report)?;
    let train_device = plain.clone().autodiff();
    train_device.seed(config.seed ^ 0xb1a5);
    let model = model_config.init(shape, &train_device)?;
    let fitted =
        fit(&mut trainee, model, optimizer(&train), &train, config.seed, &train_device, &folder, options, observer)?;
    if !fitted.finished {
        return Ok(None);
    }
    let model = fitted.model.valid();
    let bytes = weights_to_bytes(&model)?;
    omix_io::write_atomically(&folder.path(files::WEIGHTS), |out| std::io::Write::write_all(out, &bytes))?;
    let training = predict_regions(&model, None, data, &training, &plain)?;
    let validation = predict_regions(&model, None, data, &validation, &plain)?;
    // On test: every region, peaks included, so the report shows how little of the peaks' counts the
    // bias alone explains.
    let test = if test.is_empty() {
        None
    } else {
        Some(predict_regions(&model, None, data, &data.indices(SplitName::Test), &plain)?)
    };
    let metrics = ProfileMetricsFile {
        training: split_metrics(data, &training, count_weight, ProfileLossOn::All)?,
        validation: split_metrics(data, &validation, count_weight, ProfileLossOn::All)?,
        baseline_test: match &test {
            Some(test) => {
                let mut baseline = average_profile_baseline(data, &training, test, ProfileLossOn::All);
                baseline.log_counts = count_baseline(data, &training, &validation, test)?;
                Some(split_metrics(data, &baseline, count_weight, ProfileLossOn::All)?)
            }
            None => None,
        },
        baseline_model: PROFILE_BASELINE.replace("training peaks'", "training regions'"),
        test: match &test {
            Some(test) => Some(split_metrics(data, test, count_weight, ProfileLossOn::All)?),
            None => None,
        },
        count_weight,
        best_epoch: fitted.best_epoch,
        epochs_run: fitted.history.len(),
        device: crate::engine::device_record(&plain),
    };
    folder.write_json(files::METRICS, &metrics)?;
    observer.message(&format!("bias model: validation {}", metrics.validation.summary()));
    Ok(Some(model))
}

/// Regions whose observed and predicted profiles the report shows.
const EXAMPLE_REGIONS: usize = 8;

/// Sequences the marginal footprints are averaged over.
const FOOTPRINT_SEQUENCES: usize = 64;

/// Bases of each footprint kept around the motif's centre (at most the output window).
const FOOTPRINT_WIDTH: usize = 300;

/// Marginal footprints (chrombpnet's): each motif written into the centre of up to 64 background
/// sequences (held-out splits first), and per track and base the mean change of the predicted
/// expected counts it causes; for ChromBPNet of the TF model alone (bias-corrected), of TF and bias
/// models together, and of the bias model alone.
pub fn marginal_footprints(
    model: &Bpnet,
    bias: Option<&Bpnet>,
    data: &ProfileData,
    motifs: &[omix_config::FootprintMotif],
    track_names: Vec<String>,
    device: &Device,
) -> Result<omix_run::profile::Footprints, TrainError> {
    let (input, output, strands, tasks) = (data.input_length, data.output_length, data.strands, data.tasks.len());
    let mut chosen: Vec<usize> = Vec::new();
    for split in [SplitName::Test, SplitName::Validation, SplitName::Train] {
        chosen.extend(data.indices(split).into_iter().filter(|&i| !data.regions[i].peak));
    }
    chosen.truncate(FOOTPRINT_SEQUENCES);
    let width = FOOTPRINT_WIDTH.min(output);
    let from = (output - width) / 2;
    let mut footprints = omix_run::profile::Footprints {
        sequences: chosen.len(),
        tracks: track_names,
        first_offset: from as i64 - (output / 2) as i64,
        motifs: Vec::new(),
    };
    if chosen.is_empty() || motifs.is_empty() {
        return Ok(footprints);
    }
    let plain = data.batch(&chosen, &[], &[])?;
    let n = plain.size;
    let encoder = omix_encode::Encoder::new(omix_encode::Alphabet::Dna, omix_encode::Ambiguity::Zero);
    let per_task = strands * output;
    // Per model: expected counts and log counts of the plain sequences, then of the inserted ones.
    let models: Vec<(&Bpnet, Option<&Bpnet>)> = match bias {
        Some(bias) => vec![(model, None), (model, Some(bias)), (bias, None)],
        None => vec![(model, None)],
    };
    // Per model: (expected counts, log counts).
    type Predicted = Vec<(Vec<f32>, Vec<f32>)>;
    let predict = |one_hot: Vec<f32>| -> Result<Predicted, TrainError> {
        models
            .iter()
            .map(|&(m, b)| {
                let (logits, log_counts) =
                    combined_forward(m, b, one_hot.clone(), plain.control.as_deref(), n, input, device)?;
                Ok((expected_counts(&logits, &log_counts, per_task), log_counts))
            })
            .collect()
    };
    let before = predict(plain.one_hot.clone())?;
    for motif in motifs {
        let bases = motif.sequence.as_bytes();
        let mut code = vec![0f32; 4 * bases.len()];
        encoder.encode_into(bases, &mut code).map_err(|e| TrainError::Run {
            path: std::path::PathBuf::from(files::CONFIG),
            message: format!("footprint '{}': {e}", motif.name),
        })?;
        let start = input / 2 - bases.len() / 2;
        let mut inserted = plain.one_hot.clone();
        for k in 0..n {
            for channel in 0..4 {
                let row = (k * 4 + channel) * input + start;
                inserted[row..row + bases.len()]
                    .copy_from_slice(&code[channel * bases.len()..(channel + 1) * bases.len()]);
            }
        }
        let after = predict(inserted)?;
        let mut profiles = Vec::new();
        let mut changes = Vec::new();
        for ((expected_after, counts_after), (expected_before, counts_before)) in after.iter().zip(&before) {
            let tracks = tasks * strands;
            let mut mean = vec![vec![0f32; width]; tracks];
            for k in 0..n {
                for (t, row) in mean.iter_mut().enumerate() {
                    let at = (k * tracks + t) * output + from;
                    for (i, value) in row.iter_mut().enumerate() {
                        *value += (expected_after[at + i] - expected_before[at + i]) / n as f32;
                    }
                }
            }
            let change: Vec<f64> = (0..tasks)
                .map(|t| {
                    (0..n).map(|k| f64::from(counts_after[k * tasks + t] - counts_before[k * tasks + t])).sum::<f64>()
                        / n as f64
                })
                .collect();
            profiles.push(mean);
            changes.push(change);
        }
        let mut profiles = profiles.into_iter();
        let mut changes = changes.into_iter();
        footprints.motifs.push(omix_run::profile::Footprint {
            name: motif.name.clone(),
            sequence: motif.sequence.clone(),
            model: profiles.next().unwrap_or_default(),
            model_log_count_change: changes.next().unwrap_or_default(),
            with_bias: profiles.next(),
            with_bias_log_count_change: changes.next(),
            bias: profiles.next(),
            bias_log_count_change: changes.next(),
        });
    }
    Ok(footprints)
}

/// A profile experiment end to end: data → (ChromBPNet: the bias model, trained on low-count
/// background and frozen) → model → the shared loop → metrics and the baseline on validation and
/// test → run folder (`config.toml`, `data_report.json`, `training_log.tsv`, checkpoints,
/// `model.bpk`, `metrics.json`, `footprints.json`; `bias/` for ChromBPNet).
pub fn run_profile_experiment(
    config: &ProfileExperimentConfig,
    run: &RunDir,
    device: &Device,
    options: TrainOptions,
    observer: &mut dyn Observer,
) -> Result<ProfileSummary, TrainError> {
    let (data, shape, count_weight) = prepare(config, observer)?;
    let plain = device.clone().without_autodiff();
    let unfinished = |best_epoch, epochs, training_seconds| ProfileSummary {
        metrics: None,
        best_epoch,
        epochs,
        training_seconds,
        finished: false,
    };
    let started = Instant::now();
    if options.resume {
        let trainee = ProfileTrainee::new(config, &data, count_weight, device);
        crate::fit::refuse_changed_data(run, trainee.data_fingerprint())?;
    }
    run.create()?;
    run.write_toml(files::CONFIG, config)?;
    run.write_json(files::DATA_REPORT, &data.report)?;
    run.write_json(files::LINEAGE, &crate::ensemble::lineage_of_profile(config)?)?;
    let bias = match &config.bias {
        Some(bias) => match train_bias(config, bias, &data, shape, run, device, options, observer)? {
            Some(model) => Some(model),
            None => return Ok(unfinished(0, 0, started.elapsed().as_secs_f64())),
        },
        None => None,
    };
    let mut trainee = ProfileTrainee::new(config, &data, count_weight, device);
    if let Some(bias) = &bias {
        trainee = trainee.with_frozen_bias(bias.clone());
    }
    let train_device = plain.clone().autodiff();
    train_device.seed(config.seed);
    let model = config.model.init(shape, &train_device)?;
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
        return Ok(unfinished(fitted.best_epoch, epochs, training_seconds));
    }
    let model = fitted.model;
    let bytes = weights_to_bytes(&model)?;
    omix_io::write_atomically(&run.path(files::WEIGHTS), |out| std::io::Write::write_all(out, &bytes))?;
    let model = model.valid();
    let predict = |split: SplitName| predict_regions(&model, bias.as_ref(), &data, &data.indices(split), &plain);
    let validation = predict(SplitName::Validation)?;
    let training = predict(SplitName::Train)?;
    let on = ProfileLossOn::Peaks;
    let test_predictions =
        if data.indices(SplitName::Test).is_empty() { None } else { Some(predict(SplitName::Test)?) };
    let (test, baseline_test) = match &test_predictions {
        None => (None, None),
        Some(test) => {
            let mut baseline = average_profile_baseline(&data, &training, test, on);
            baseline.log_counts = count_baseline(&data, &training, &validation, test)?;
            (
                Some(split_metrics(&data, test, count_weight, on)?),
                Some(split_metrics(&data, &baseline, count_weight, on)?),
            )
        }
    };
    // Example regions for the report: test (validation without test), with the bias-corrected
    // prediction beside for ChromBPNet.
    let (split, shown) = match &test_predictions {
        Some(test) => ("test", test),
        None => ("validation", &validation),
    };
    let corrected = match &bias {
        Some(_) => Some(predict_regions(&model, None, &data, &shown.indices, &plain)?),
        None => None,
    };
    let examples = crate::profile_examples::example_profiles(
        &data,
        split,
        shown,
        corrected.as_ref(),
        track_names(config, data.strands),
        EXAMPLE_REGIONS,
    );
    run.write_json(files::PROFILE_EXAMPLES, &examples)?;
    let metrics = ProfileMetricsFile {
        training: split_metrics(&data, &training, count_weight, on)?,
        validation: split_metrics(&data, &validation, count_weight, on)?,
        test,
        baseline_test,
        baseline_model: PROFILE_BASELINE.into(),
        count_weight,
        best_epoch: fitted.best_epoch,
        epochs_run: epochs,
        device: crate::engine::device_record(&plain),
    };
    run.write_json(files::METRICS, &metrics)?;
    let names = track_names(config, data.strands);
    if !config.footprints.is_empty() {
        let footprints = marginal_footprints(&model, bias.as_ref(), &data, &config.footprints, names, &plain)?;
        run.write_json(files::FOOTPRINTS, &footprints)?;
    }
    Ok(ProfileSummary {
        metrics: Some(metrics),
        best_epoch: fitted.best_epoch,
        epochs,
        training_seconds,
        finished: true,
    })
}

/// The names of a profile experiment's predicted tracks: `task.plus`/`task.minus` (or `task`
/// unstranded).
pub fn track_names(config: &ProfileExperimentConfig, strands: usize) -> Vec<String> {
    let mut names = Vec::new();
    for task in &config.tracks.tasks {
        if strands == 2 {
            names.push(format!("{}.plus", task.name));
            names.push(format!("{}.minus", task.name));
        } else {
            names.push(task.name.clone());
        }
    }
    names
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

/// Profile logits and log counts (host values) of `model` on one-hot windows `[windows, 4, input]`
/// and, for a model that reads them, control tracks `[windows, control tracks, input]`, with a frozen
/// bias model's added when given (see [`add_bias`]; the bias model reads sequence only).
pub fn combined_forward(
    model: &Bpnet,
    bias: Option<&Bpnet>,
    one_hot: Vec<f32>,
    control: Option<&[f32]>,
    windows: usize,
    input: usize,
    device: &Device,
) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
    let own = forward_host(model, &one_hot, control, windows, input, device)?;
    let Some(bias) = bias else { return Ok(own) };
    let (bias_logits, bias_counts) = forward_host(bias, &one_hot, None, windows, input, device)?;
    let tensor3 = |values: Vec<f32>| {
        let per_window = values.len() / windows.max(1);
        Tensor::<3>::from_data(TensorData::new(values, [windows, 1, per_window]), device)
    };
    let tensor2 = |values: Vec<f32>| {
        let per_window = values.len() / windows.max(1);
        Tensor::<2>::from_data(TensorData::new(values, [windows, per_window]), device)
    };
    let (logits, log_counts) = add_bias(tensor3(own.0), tensor2(own.1), tensor3(bias_logits), tensor2(bias_counts));
    Ok((read_back(logits)?, read_back(log_counts)?))
}

/// One model's profile logits and log counts on host values: omix's BPNet kernels where the device
/// is this machine's CPU and they implement the model (what training steps run on), burn's forward
/// pass otherwise. Control tracks reach only a model that reads them.
fn forward_host(
    model: &Bpnet,
    one_hot: &[f32],
    control: Option<&[f32]>,
    windows: usize,
    input: usize,
    device: &Device,
) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
    let control = control.filter(|_| model.control_strands() > 0);
    if omix_models::host_kernels_serve(device)
        && let Ok(outputs) =
            omix_models::BpnetKernels::new(model).and_then(|kernels| kernels.forward_with_control(one_hot, control))
    {
        return Ok(outputs);
    }
    let x = Tensor::<3>::from_data(TensorData::new(one_hot.to_vec(), [windows, 4, input]), device);
    let control = control.map(|values| {
        let channels = values.len() / (windows * input).max(1);
        Tensor::<3>::from_data(TensorData::new(values.to_vec(), [windows, channels, input]), device)
    });
    let (logits, log_counts) = model.forward_with_control(x, control);
    Ok((read_back(logits)?, read_back(log_counts)?))
}

/// A trained profile model loaded from its run folder, or an ensemble's members
/// (`omix ensemble` of profile runs) whose outputs [`ProfileRun::forward_one_hot`] combines.
pub struct ProfileRun {
    /// The model (for ChromBPNet, the TF model), on the device it was loaded to; an ensemble's
    /// first member's.
    pub model: Bpnet,
    /// ChromBPNet's frozen bias model.
    pub bias: Option<Bpnet>,
    /// The run's experiment (an ensemble's first member's).
    pub config: ProfileExperimentConfig,
    /// Its windows, tasks and strands.
    pub shape: ProfileShape,
    /// The tasks' control tracks (from the run's config), when the model reads controls.
    pub control: Option<omix_data::profile::ControlTracks>,
    /// An ensemble's other members (after the first), in order; empty for one run.
    pub others: Vec<ProfileMember>,
    /// How an ensemble's members' outputs are combined.
    pub combine: omix_run::Combine,
}

/// One member of a profile ensemble: its model and (ChromBPNet) frozen bias model.
pub struct ProfileMember {
    /// The model.
    pub model: Bpnet,
    /// ChromBPNet's frozen bias model.
    pub bias: Option<Bpnet>,
}

impl ProfileRun {
    /// Whether the run folder holds a profile experiment (its `config.toml` has a `[tracks]`
    /// table), or an ensemble of them (its first member's has).
    pub fn is_profile(run: &RunDir) -> bool {
        let folder = match run.ensemble_members() {
            Ok(Some(members)) if !run.path(files::CONFIG).is_file() => members.into_iter().next(),
            _ => Some(run.clone()),
        };
        folder
            .and_then(|folder| folder.read_text(files::CONFIG).ok())
            .and_then(|text| text.parse::<toml::Table>().ok())
            .is_some_and(|table| table.contains_key("tracks"))
    }

    /// The run's model with its trained weights, or every member of an ensemble of profile runs.
    pub fn load(run: &RunDir, device: &Device) -> Result<ProfileRun, TrainError> {
        let Some(ensemble) = run.ensemble()? else {
            let (member, config, shape) = Self::load_member(run, device)?;
            let control = omix_data::profile::ControlTracks::open(&config.tracks, None)?;
            return Ok(ProfileRun {
                model: member.model,
                bias: member.bias,
                config,
                shape,
                control,
                others: Vec::new(),
                combine: omix_run::Combine::default(),
            });
        };
        let mut members = Vec::with_capacity(ensemble.members.len());
        let mut first: Option<(ProfileExperimentConfig, ProfileShape)> = None;
        for name in &ensemble.members {
            let folder = RunDir::new(run.path(name));
            let (member, config, shape) = Self::load_member(&folder, device)?;
            match &first {
                None => first = Some((config, shape)),
                Some((shared, shared_shape))
                    if *shared_shape != shape || shared.bias.is_some() != config.bias.is_some() =>
                {
                    return Err(TrainError::Run {
                        path: folder.root().to_path_buf(),
                        message: format!(
                            "this member of {} reads other windows or predicts other tracks than the first member; the ensemble folder was edited or assembled by hand: rebuild it with `omix ensemble`",
                            run.root().display()
                        ),
                    });
                }
                Some(_) => {}
            }
            members.push(member);
        }
        let (Some((config, shape)), mut members) = (first, members.into_iter()) else {
            return Err(TrainError::Run {
                path: run.path(files::ENSEMBLE),
                message: "the ensemble lists no members".into(),
            });
        };
        let Some(head) = members.next() else {
            return Err(TrainError::Run {
                path: run.path(files::ENSEMBLE),
                message: "the ensemble lists no members".into(),
            });
        };
        let control = omix_data::profile::ControlTracks::open(&config.tracks, None)?;
        Ok(ProfileRun {
            model: head.model,
            bias: head.bias,
            config,
            shape,
            control,
            others: members.collect(),
            combine: ensemble.combine,
        })
    }

    /// One run folder's model (and bias model), experiment and shape.
    fn load_member(
        run: &RunDir,
        device: &Device,
    ) -> Result<(ProfileMember, ProfileExperimentConfig, ProfileShape), TrainError> {
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
            control_strands: config.tracks.control_strands(),
        };
        let model = config.model.init(shape, device)?;
        let model = crate::run::load_weights(model, &run.path(files::WEIGHTS))?;
        let bias = match &config.bias {
            Some(bias) => {
                let folder = RunDir::new(run.path(BIAS_FOLDER));
                let model = bias.model().init(shape.without_control(), device)?;
                Some(crate::run::load_weights(model, &folder.path(files::WEIGHTS))?)
            }
            None => None,
        };
        Ok((ProfileMember { model, bias }, config, shape))
    }

    /// How many models are combined (1 for a single run).
    pub fn members(&self) -> usize {
        1 + self.others.len()
    }

    /// Every member's model and bias model, in order (the run's own for a single run).
    pub fn member_models(&self) -> Vec<(&Bpnet, Option<&Bpnet>)> {
        std::iter::once((&self.model, self.bias.as_ref()))
            .chain(self.others.iter().map(|member| (&member.model, member.bias.as_ref())))
            .collect()
    }

    /// The model's (an ensemble's combined) predictions on `indices` of `data` (centred windows,
    /// forward strand), with the frozen bias model's outputs added for ChromBPNet.
    pub fn predict_regions(
        &self,
        data: &ProfileData,
        indices: &[usize],
        device: &Device,
    ) -> Result<RegionPredictions, TrainError> {
        let mut predictions = RegionPredictions {
            indices: indices.to_vec(),
            logits: Vec::new(),
            log_counts: Vec::new(),
            observed: Vec::new(),
        };
        for chunk in indices.chunks(PREDICT_BATCH) {
            let batch = data.batch(chunk, &[], &[])?;
            let (logits, log_counts) =
                self.forward_one_hot(batch.one_hot, batch.control.as_deref(), batch.size, true, device)?;
            predictions.logits.extend(logits);
            predictions.log_counts.extend(log_counts);
            predictions.observed.extend(batch.counts);
        }
        Ok(predictions)
    }

    /// The names of the predicted tracks: `task.plus`/`task.minus` (or `task` unstranded).
    pub fn track_names(&self) -> Vec<String> {
        track_names(&self.config, self.shape.strands)
    }

    /// Profile logits `[windows, tasks × strands, output_length]` and log counts `[windows, tasks]`
    /// for one-hot input windows `[windows, 4, input_length]` and, for a model that reads them, their
    /// control tracks `[windows, control tracks, input_length]` (see [`ProfileRun::control_windows`]).
    /// For a ChromBPNet run, `with_bias` adds the frozen bias model (logits added, counts combined by
    /// log-sum-exp: what the data look like); without it the prediction is bias-corrected (the TF
    /// model alone). A BPNet run has no bias model and ignores `with_bias`.
    pub fn forward_one_hot(
        &self,
        one_hot: Vec<f32>,
        control: Option<&[f32]>,
        windows: usize,
        with_bias: bool,
        device: &Device,
    ) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
        let input = self.shape.input_length;
        let bad = |message: String| TrainError::Run { path: std::path::PathBuf::from(files::CONFIG), message };
        if one_hot.len() != windows * 4 * input {
            return Err(bad(format!(
                "{} one-hot values are not {windows} windows of 4 x {input} bases",
                one_hot.len()
            )));
        }
        let per_control = self.shape.control_tracks() * input;
        match control {
            None if per_control > 0 => {
                return Err(bad(format!(
                    "the model reads {} control track(s) per window and none were given",
                    self.shape.control_tracks()
                )));
            }
            Some(values) if values.len() != windows * per_control => {
                return Err(bad(format!(
                    "{} control values are not {windows} windows of {} tracks x {input} bases",
                    values.len(),
                    self.shape.control_tracks()
                )));
            }
            _ => {}
        }
        let mut outputs = Vec::with_capacity(self.members());
        for (model, bias) in self.member_models() {
            let bias = if with_bias { bias } else { None };
            outputs.push(combined_forward(model, bias, one_hot.clone(), control, windows, input, device)?);
        }
        let per_task = self.shape.strands * self.shape.output_length;
        Ok(combine_profile_outputs(outputs, per_task, self.combine))
    }

    /// The control tracks `[windows, control tracks, input_length]` of the input windows centred on
    /// output windows starting at `starts` on `chrom` (bases off the contig read as zero), or `None`
    /// for a model without controls.
    pub fn control_windows(&self, chrom: &str, starts: &[i64]) -> Result<Option<Vec<f32>>, TrainError> {
        let flank = ((self.shape.input_length - self.shape.output_length) / 2) as i64;
        let inputs: Vec<(&str, i64)> = starts.iter().map(|&start| (chrom, start - flank)).collect();
        self.control_at(&inputs, false)
    }

    /// The control tracks `[windows, control tracks, input_length]` of input windows starting at
    /// `(contig, first base)`, reverse-complemented (reversed, strands swapped) when `flip`, or
    /// `None` for a model without controls.
    pub fn control_at(&self, inputs: &[(&str, i64)], flip: bool) -> Result<Option<Vec<f32>>, TrainError> {
        let Some(tracks) = &self.control else { return Ok(None) };
        let input = self.shape.input_length;
        let per_window = tracks.len() * input;
        let mut values = vec![0f32; inputs.len() * per_window];
        for (k, &(chrom, start)) in inputs.iter().enumerate() {
            tracks.read(chrom, start, input, flip, &mut values[k * per_window..(k + 1) * per_window])?;
        }
        Ok(Some(values))
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
        let control = self.control_windows(chrom, starts)?;
        let (logits, log_counts) =
            self.forward_one_hot(one_hot, control.as_deref(), starts.len(), with_bias, device)?;
        Ok(expected_counts(&logits, &log_counts, self.shape.strands * self.shape.output_length))
    }
}

/// Profile ensembles' outputs combined (chrombpnet's and bpnet's ensembles): each task's profile
/// probabilities (softmax over its strands and bases, `per_task` values) averaged over the
/// members, returned as their logarithm (logits whose softmax is the mean probability), and the
/// members' log counts averaged. With [`Combine::MeanLogit`](omix_run::Combine::MeanLogit) the
/// members' log-probabilities are averaged instead (a normalised geometric mean). One member's
/// outputs are returned as they are.
pub fn combine_profile_outputs(
    mut members: Vec<(Vec<f32>, Vec<f32>)>,
    per_task: usize,
    combine: omix_run::Combine,
) -> (Vec<f32>, Vec<f32>) {
    if members.len() <= 1 {
        return members.pop().unwrap_or_default();
    }
    let count = members.len() as f64;
    let (values, counts) = (members[0].0.len(), members[0].1.len());
    let mut mean = vec![0f64; values];
    for (logits, _) in &members {
        for (chunk, out) in logits.chunks(per_task.max(1)).zip(mean.chunks_mut(per_task.max(1))) {
            let max = chunk.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let log_sum = chunk.iter().map(|&l| f64::from(l - max).exp()).sum::<f64>().ln();
            for (o, &l) in out.iter_mut().zip(chunk) {
                let log_probability = f64::from(l - max) - log_sum;
                *o += match combine {
                    omix_run::Combine::MeanProbability => log_probability.exp(),
                    omix_run::Combine::MeanLogit => log_probability,
                } / count;
            }
        }
    }
    let logits = mean
        .into_iter()
        .map(|value| match combine {
            omix_run::Combine::MeanProbability => value.max(f64::from(f32::MIN_POSITIVE)).ln() as f32,
            omix_run::Combine::MeanLogit => value as f32,
        })
        .collect();
    let log_counts =
        (0..counts).map(|i| (members.iter().map(|(_, c)| f64::from(c[i])).sum::<f64>() / count) as f32).collect();
    (logits, log_counts)
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
