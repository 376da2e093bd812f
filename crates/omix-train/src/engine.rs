//! How a training step's loss and gradients are computed: the seam where engines plug in.
//!
//! [`TrainingEngine::choose`] looks at the model, its inputs, the objective, the `[train] engine`
//! setting and the device, in this one place, and picks burn's autodiff or one of omix's
//! hand-written kernels (CNNs: [`FastPlan`]; LSTM models: [`RnnPlan`]); a GPU device is burn's
//! autodiff on that device. Either way the
//! step returns burn `GradientsParams` to burn's optimiser, so optimiser state, records and
//! checkpoints do not depend on the engine.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use omix_models::{FastPlan, Model, RnnPlan};

use crate::inputs::BatchInput;
use crate::objective::{Objective, batch_loss};
use crate::trainer::Batch;
use omix_config::Engine;

/// The engine that computes training steps.
#[derive(Debug)]
pub enum TrainingEngine {
    /// burn's autodiff on `device` (an autodiff device).
    Burn {
        /// The autodiff device the model lives on.
        device: Device,
    },
    /// omix's hand-written CNN forward/backward on the CPU; batches it cannot take (none, for
    /// the models it accepts) fall back to burn's autodiff on `device`.
    FastCnn {
        /// The network, as the kernel runs it.
        plan: FastPlan,
        /// The autodiff device the model lives on.
        device: Device,
    },
    /// omix's hand-written LSTM forward/backward (with its convolution front end) on the CPU;
    /// batches it cannot take fall back to burn's autodiff on `device`.
    FastRnn {
        /// The network, as the kernel runs it.
        plan: RnnPlan,
        /// The autodiff device the model lives on.
        device: Device,
    },
}

impl TrainingEngine {
    /// The engine for a model: the hand-written kernel when `engine` allows it, the device is
    /// the CPU, the inputs are one-hot, the objective is a classification loss and the model is
    /// a sequence CNN (any blocks, batch-norm, dropout, padding, global pooling: see
    /// [`FastPlan`]) or an LSTM model (see [`RnnPlan`]); burn's autodiff otherwise.
    pub fn choose(
        engine: Engine,
        model: &Model,
        one_hot: bool,
        objective: Objective,
        channels: usize,
        length: usize,
        device: &Device,
    ) -> Self {
        let device = device.clone();
        if !(engine == Engine::Auto && one_hot && objective.fast_loss().is_some() && is_cpu(&device)) {
            return TrainingEngine::Burn { device };
        }
        if let Some(plan) = FastPlan::new(model, channels, length) {
            return TrainingEngine::FastCnn { plan, device };
        }
        match RnnPlan::new(model, channels, length) {
            Some(plan) => TrainingEngine::FastRnn { plan, device },
            None => TrainingEngine::Burn { device },
        }
    }

    /// One line for the log.
    pub fn describe(&self) -> &'static str {
        match self {
            TrainingEngine::Burn { device } if !is_cpu(device) => "burn autodiff on the GPU",
            TrainingEngine::Burn { .. } => "burn autodiff",
            TrainingEngine::FastCnn { .. } => "omix fast path (hand-written CNN forward/backward)",
            TrainingEngine::FastRnn { .. } => "omix fast path (hand-written LSTM forward/backward)",
        }
    }

    /// The hand-written plan, when this engine uses one.
    pub fn fast_plan(&self) -> Option<&FastPlan> {
        match self {
            TrainingEngine::FastCnn { plan, .. } => Some(plan),
            TrainingEngine::Burn { .. } | TrainingEngine::FastRnn { .. } => None,
        }
    }

    /// One optimiser step on a batch; returns the updated model and the batch loss (the model
    /// unchanged when the loss is not finite). `dropout_seed` draws the hand-written kernel's
    /// dropout masks ([`step_seed`]; burn's autodiff draws from the device's stream instead).
    pub fn step(
        &self,
        model: Model,
        optim: &mut ModuleOptimizer,
        batch: Batch,
        objective: Objective,
        learning_rate: f64,
        dropout_seed: u64,
    ) -> (Model, f64) {
        let device = match self {
            TrainingEngine::Burn { device }
            | TrainingEngine::FastCnn { device, .. }
            | TrainingEngine::FastRnn { device, .. } => device,
        };
        if let (Some(loss), BatchInput::Dense { values, .. }) = (objective.fast_loss(), &batch.input) {
            let plain = device.clone().without_autodiff();
            let (targets, weights) = (&batch.targets[..], &batch.weights[..]);
            let fast: Option<(f64, GradientsParams)> = match self {
                TrainingEngine::FastCnn { plan, .. } => {
                    plan.loss_and_gradients(&model, values, targets, weights, loss, dropout_seed, &plain)
                }
                TrainingEngine::FastRnn { plan, .. } => {
                    plan.loss_and_gradients(&model, values, targets, weights, loss, dropout_seed, &plain)
                }
                TrainingEngine::Burn { .. } => None,
            };
            if let Some((value, grads)) = fast {
                return (optim.step(learning_rate, model, grads), value);
            }
        }
        let size = batch.input.len();
        let x = batch.input.to_model_input(device);
        let y = Tensor::<2>::from_data(TensorData::new(batch.targets, [size, batch.outputs]), device);
        let w = Tensor::<1>::from_data(TensorData::new(batch.weights, [size]), device);
        let loss = batch_loss(model.forward_input(x), y, w, objective);
        let value = f64::from(loss.clone().into_scalar::<f32>());
        if !value.is_finite() {
            return (model, value);
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        (optim.step(learning_rate, model, grads), value)
    }
}

/// The dropout seed of one training step: the run's seed, the epoch and the batch's place in
/// it, mixed (splitmix64's finaliser), so that every step draws its own masks and a resumed run
/// draws exactly what an uninterrupted one would.
pub fn step_seed(seed: u64, epoch: usize, batch: usize) -> u64 {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    mix(mix(mix(seed).wrapping_add(epoch as u64)).wrapping_add(batch as u64))
}

/// What `metrics.json` records of the device that trained a run: nothing for the CPU (its runs
/// repeat byte for byte), the adapter's name and what repeats for a GPU.
pub fn device_record(device: &Device) -> Option<omix_run::DeviceRecord> {
    if is_cpu(device) {
        return None;
    }
    Some(omix_run::DeviceRecord {
        kind: "gpu".into(),
        name: device_name(device),
        reproducibility: GPU_REPRODUCIBILITY.into(),
    })
}

/// What the same seed gives again on a GPU (README, "GPU"): the draws are the same, the sums not.
pub const GPU_REPRODUCIBILITY: &str = "the seed fixes the split, the batch order and the initial weights, but the GPU's \
     kernels may add in another order from run to run, so a rerun's metrics agree within a small tolerance, not to the \
     last digit (the CPU's runs repeat byte for byte)";

/// The adapter's name as its driver gives it.
#[cfg(feature = "gpu")]
fn device_name(device: &Device) -> String {
    device.identity().map_or_else(|| format!("{device:?}"), |identity| identity.name.trim().to_string())
}

/// The device as burn names it (a build without the `gpu` feature has no adapter to name).
#[cfg(not(feature = "gpu"))]
fn device_name(device: &Device) -> String {
    format!("{device:?}")
}

/// Whether a device computes on this machine's CPU (the hand-written kernels' home).
fn is_cpu(device: &Device) -> bool {
    omix_models::host_kernels_serve(device)
}
