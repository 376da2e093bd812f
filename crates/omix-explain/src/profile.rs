//! Attributions of base-resolution profile models (BPNet; ChromBPNet's bias-corrected TF model),
//! as bpnet-lite, tangermeme and chrombpnet compute them, for TF-MoDISco.
//!
//! Two heads are explained, for one task `t`:
//! - **counts**: the predicted log count of task `t`;
//! - **profile**: bpnet-lite's `ProfileWrapper` on task `t`'s profile logits: the logits of its
//!   strands and output positions flattened into one vector `l`, mean-centred
//!   (`c = l − mean(l)`), and `Σ_i c_i · softmax(c)_i`. For gradients the softmax weights are
//!   detached (chrombpnet's `stop_gradient(softmax(logits)) · mean-normed logits`), so the
//!   gradient is `softmax(c)` carried back through the centring. For DeepLIFT the product
//!   `y = c · softmax(c)` is one non-linearity taken by the rescale rule, element by element, as
//!   bpnet-lite registers its `_ProfileLogitScaling` with tangermeme's `_nonlinear`:
//!   `∂y_i/∂c_i := (y_i(x) − y_i(r)) / (c_i(x) − c_i(r))`, and where `|c_i(x) − c_i(r)| < 1e-6` the
//!   true gradient of `Σ y` at the input, `s_i · (1 + c_i − Σ_j s_j c_j)` (`s = softmax(c)`), as
//!   tangermeme falls back to the module's own gradient. For a one-task model this is exactly
//!   bpnet-lite's `ProfileWrapper` (which flattens every track); for several tasks each task is
//!   explained on its own strands.
//!
//! Methods:
//! - **gradient × input**: the gradient of the head at the observed bases;
//! - **in-silico mutagenesis** (on request): every single-base substitution's change of the head
//!   (`<head>_ism.npz`); its attribution at an observed base is minus the mean change when that
//!   base is substituted;
//! - **DeepLIFT/SHAP**: DeepLIFT's rescale rule at every ReLU ([`Bpnet::deeplift_forward`]) and at
//!   the profile scaling, against `n` dinucleotide shuffles of each window (20 by default, as
//!   tangermeme), averaged: the hypothetical contributions
//!   `mean over references of m[b, i] − Σ_c r[c, i] · m[c, i]` (what TF-MoDISco reads, as
//!   tangermeme's `hypothetical_attributions`) and the actual ones (those at the observed bases).
//!   Every input–reference pair is checked for summation to delta,
//!   `Σ (x − r) · m = f(x) − f(r)`.
//!
//! The profile head's DeepLIFT/SHAP runs in float64 by default, as bpnet-lite's `bpnet attribute`
//! does: the element-wise rescale ratio of `c · softmax(c)` grows without bound where a logit
//! barely moves between input and reference (the softmax couples every position), so float32
//! rounding of the logits shows in the attributions (1–3% relative L2 on a trained BPNet, for
//! tangermeme in float32 as for omix). The count head and gradient × input run in float32.
//!
//! [`explain_profile_run`] explains a run folder's peaks (its test split by default, validation
//! when there is no test split, or the windows centred on a BED file's intervals) and writes
//! `ohe.npz`, `counts_shap.npz` / `profile_shap.npz` (`modisco motifs -s ohe.npz -a
//! counts_shap.npz`), `regions.tsv`, `positions.tsv`, attribution logos and
//! `profile_explain.json`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::{Module, ModuleMapper, Param};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::{DType, TensorData};
use omix_data::profile::ProfileData;
use omix_encode::dinucleotide_shuffle;
use omix_genome::SplitName;
use omix_io::write_atomically;
use omix_models::{Bpnet, ProfileShape, Shap};
use omix_motif::LogoOptions;
pub use omix_run::profile::{MethodTiming, NpzArray, ProfileExplainSummary, ProfileHeadSummary};
use omix_run::{Observer, RunDir};
use omix_train::profile::ProfileRun;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::ExplainError;
use crate::attribution::IgBaseline;
use crate::interpret::{CONVERGENCE_TOLERANCE, file_safe};

/// Below this change of a centred logit between input and reference, the profile scaling's
/// rescale ratio falls back to the gradient at the input (tangermeme's `_nonlinear`).
const SCALING_EPSILON: f32 = 1e-6;

/// The summary file of a profile explain run (beside the classifier's `explain.json`, which the
/// report reads with another layout).
pub const PROFILE_EXPLAIN_SUMMARY: &str = omix_run::files::PROFILE_EXPLAIN;

/// Bytes one DeepLIFT forward pass may take (input–reference pairs per pass are bounded by it).
const DEEPLIFT_MEMORY: usize = 2 << 30;

/// Bases shown in an attribution logo, centred on the strongest position.
const LOGO_BASES: usize = 120;

/// The model output a profile attribution explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileHead {
    /// The predicted log count of the task.
    Counts,
    /// The profile wrapper: `Σ softmax(c) · c` over the task's mean-centred logits.
    Profile,
}

impl ProfileHead {
    /// Both heads, in output order.
    pub const ALL: [ProfileHead; 2] = [ProfileHead::Counts, ProfileHead::Profile];

    /// The name used in file and column names.
    pub fn name(self) -> &'static str {
        match self {
            ProfileHead::Counts => "counts",
            ProfileHead::Profile => "profile",
        }
    }
}

/// A profile attribution method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileMethod {
    /// Gradient × input.
    GradientXInput,
    /// DeepLIFT/SHAP against shuffled references.
    #[serde(rename = "deeplift_shap")]
    DeepLiftShap,
    /// In-silico mutagenesis: every single-base substitution through the model (3 × length
    /// forward passes per window, so not among the defaults).
    Ism,
}

impl ProfileMethod {
    /// Every method, in output order.
    pub const ALL: [ProfileMethod; 3] =
        [ProfileMethod::GradientXInput, ProfileMethod::DeepLiftShap, ProfileMethod::Ism];

    /// What is computed unless methods are chosen: gradient × input and DeepLIFT/SHAP.
    pub const DEFAULT: [ProfileMethod; 2] = [ProfileMethod::GradientXInput, ProfileMethod::DeepLiftShap];

    /// The name used in file and column names.
    pub fn name(self) -> &'static str {
        match self {
            ProfileMethod::GradientXInput => "gradient_x_input",
            ProfileMethod::DeepLiftShap => "deeplift_shap",
            ProfileMethod::Ism => "ism",
        }
    }
}

/// A BPNet ready for attributions: a frozen copy on an autodiff device, in float32 or float64.
pub struct ProfileExplainer {
    model: Bpnet,
    shape: ProfileShape,
    device: Device,
    dtype: DType,
}

/// Casts every float parameter of a module to one float type.
struct CastFloats(DType);

impl ModuleMapper for CastFloats {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let dtype = self.0;
        param.map(|tensor| tensor.cast(dtype))
    }
}

/// DeepLIFT multipliers of one input–reference pair.
struct PairMultipliers {
    values: Vec<f32>,
    output: f32,
    reference_output: f32,
}

impl ProfileExplainer {
    /// `model` (any device) frozen, for one-hot windows of `shape.input_length` bases; `device`
    /// must be the model's device with autodiff.
    pub fn new(model: Bpnet, shape: ProfileShape, device: &Device) -> Self {
        Self { model: model.freeze(), shape, device: device.clone(), dtype: DType::F32 }
    }

    /// The same model computing in float64 (inputs and results stay float32 on the host), as
    /// bpnet-lite explains the profile head: the rescale ratio of the profile scaling,
    /// `(y(x) − y(r)) / (c(x) − c(r))`, is not bounded where a logit barely moves, so float32
    /// rounding of the logits shows in the attributions there (a few percent on trained models).
    pub fn float64(&self) -> Self {
        Self {
            model: self.model.clone().map(&mut CastFloats(DType::F64)),
            shape: self.shape,
            device: self.device.clone(),
            dtype: DType::F64,
        }
    }

    fn block(&self) -> usize {
        4 * self.shape.input_length
    }

    fn check(&self, inputs: &[f32], task: usize) -> Result<usize, ExplainError> {
        if task >= self.shape.tasks {
            return Err(ExplainError::Invalid(format!(
                "task {task} does not exist; the model has {} task(s)",
                self.shape.tasks
            )));
        }
        let block = self.block();
        if !inputs.len().is_multiple_of(block) {
            return Err(ExplainError::Invalid(format!(
                "{} input values are not a whole number of [4, {}] windows",
                inputs.len(),
                self.shape.input_length
            )));
        }
        Ok(inputs.len() / block)
    }

    fn tensor(&self, values: &[f32], n: usize) -> Tensor<3> {
        Tensor::<3>::from_data(TensorData::new(values.to_vec(), [n, 4, self.shape.input_length]), &self.device)
            .cast(self.dtype)
    }

    /// The control tracks of `n` windows as a tensor, or why they do not fit: a model that reads
    /// controls needs them (`[n, control tracks, input_length]`), one that does not refuses them.
    fn control_tensor(&self, control: Option<&[f32]>, n: usize) -> Result<Option<Tensor<3>>, ExplainError> {
        let (channels, length) = (self.shape.control_tracks(), self.shape.input_length);
        match control {
            None if channels > 0 => Err(ExplainError::Invalid(format!(
                "the model reads {channels} control track(s) per window and none were given"
            ))),
            None => Ok(None),
            Some(_) if channels == 0 => {
                Err(ExplainError::Invalid("control tracks given to a model that reads none".into()))
            }
            Some(values) if values.len() != n * channels * length => Err(ExplainError::Invalid(format!(
                "{} control values are not {n} windows of {channels} x {length}",
                values.len()
            ))),
            Some(values) => Ok(Some(
                Tensor::<3>::from_data(TensorData::new(values.to_vec(), [n, channels, length]), &self.device)
                    .cast(self.dtype),
            )),
        }
    }

    /// Values per window of the control tracks (0 without controls).
    fn control_block(&self) -> usize {
        self.shape.control_tracks() * self.shape.input_length
    }

    /// Task `task`'s profile logits, flattened over strands and positions and mean-centred.
    ///
    /// # Shapes
    /// - `logits`: `[n, tasks × strands, output_length]`
    /// - output: `[n, strands × output_length]`
    fn centred_logits(&self, logits: Tensor<3>, task: usize) -> Tensor<2> {
        let [n, _, length] = logits.dims();
        let strands = self.shape.strands;
        let flat = logits.narrow(1, task * strands, strands).reshape([n, strands * length]);
        flat.clone() - flat.mean_dim(1)
    }

    /// The head's value per window, with gradients as gradient × input takes them (the profile
    /// wrapper's softmax weights detached). `[n, 1]`.
    fn head(&self, logits: Tensor<3>, log_counts: Tensor<2>, head: ProfileHead, task: usize) -> Tensor<2> {
        match head {
            ProfileHead::Counts => log_counts.narrow(1, task, 1),
            ProfileHead::Profile => {
                let c = self.centred_logits(logits, task);
                (softmax(c.clone().detach(), 1) * c).sum_dim(1)
            }
        }
    }

    /// The head's value per window (no gradient); `control`: the windows' control tracks, for a
    /// model that reads them (`[n, control tracks, input_length]`).
    pub fn outputs(
        &self,
        inputs: &[f32],
        control: Option<&[f32]>,
        head: ProfileHead,
        task: usize,
    ) -> Result<Vec<f32>, ExplainError> {
        let n = self.check(inputs, task)?;
        if n == 0 {
            return Ok(Vec::new());
        }
        let control = self.control_tensor(control, n)?;
        let (logits, log_counts) = self.model.forward_with_control(self.tensor(inputs, n), control);
        read(self.head(logits, log_counts, head, task))
    }

    /// The head's values and its gradients with respect to one-hot windows.
    ///
    /// # Shapes
    /// - `inputs`: `[n, 4, input_length]`
    /// - output: (`[n]`, `[n, 4, input_length]`)
    pub fn gradients(
        &self,
        inputs: &[f32],
        control: Option<&[f32]>,
        head: ProfileHead,
        task: usize,
    ) -> Result<(Vec<f32>, Vec<f32>), ExplainError> {
        let n = self.check(inputs, task)?;
        if n == 0 {
            return Ok((Vec::new(), Vec::new()));
        }
        let control = self.control_tensor(control, n)?;
        let x = self.tensor(inputs, n).require_grad();
        let (logits, log_counts) = self.model.forward_with_control(x.clone(), control);
        let out = self.head(logits, log_counts, head, task);
        let values = read(out.clone())?;
        let grads = out.sum().backward();
        let gradient = x.grad(&grads).ok_or_else(|| ExplainError::Invalid("no gradient reached the input".into()))?;
        Ok((values, read(gradient)?))
    }

    /// Gradient × input of one-hot windows `[n, 4, input_length]`: (head values `[n]`,
    /// attributions `[n, 4, input_length]`).
    pub fn gradient_x_input(
        &self,
        inputs: &[f32],
        control: Option<&[f32]>,
        head: ProfileHead,
        task: usize,
    ) -> Result<(Vec<f32>, Vec<f32>), ExplainError> {
        let (values, gradient) = self.gradients(inputs, control, head, task)?;
        Ok((values, gradient.iter().zip(inputs).map(|(g, x)| g * x).collect()))
    }

    /// In-silico mutagenesis of one window `[4, input_length]`: the change of the head when the base
    /// at a position becomes another, `[4, input_length]` (0 at the observed base and at positions
    /// without a base); `batch_size` mutants per forward pass.
    pub fn ism(
        &self,
        input: &[f32],
        control: Option<&[f32]>,
        head: ProfileHead,
        task: usize,
        batch_size: usize,
    ) -> Result<Vec<f32>, ExplainError> {
        let (length, block) = (self.shape.input_length, self.block());
        if input.len() != block {
            return Err(ExplainError::Invalid(format!("ISM takes one window of {block} values, not {}", input.len())));
        }
        let reference = self.outputs(input, control, head, task)?.first().copied().unwrap_or(f32::NAN);
        // Every mutant keeps the window's control tracks.
        let mut controls = Vec::new();
        let mut mutants = Vec::with_capacity(3 * length);
        for position in 0..length {
            let observed = (0..4).find(|&c| input[c * length + position] > 0.5);
            if let Some(observed) = observed {
                mutants.extend((0..4).filter(|&c| c != observed).map(|c| (position, c)));
            }
        }
        let mut effects = vec![0.0f32; block];
        let mut buffer = Vec::with_capacity(batch_size.max(1) * block);
        for chunk in mutants.chunks(batch_size.max(1)) {
            buffer.clear();
            if let Some(control) = control {
                controls.clear();
                (0..chunk.len()).for_each(|_| controls.extend_from_slice(control));
            }
            for &(position, channel) in chunk {
                let start = buffer.len();
                buffer.extend_from_slice(input);
                for c in 0..4 {
                    buffer[start + c * length + position] = 0.0;
                }
                buffer[start + channel * length + position] = 1.0;
            }
            let chunk_control = control.map(|_| controls.as_slice());
            for (&(position, channel), value) in chunk.iter().zip(self.outputs(&buffer, chunk_control, head, task)?) {
                effects[channel * length + position] = value - reference;
            }
        }
        Ok(effects)
    }

    /// DeepLIFT multipliers of input–reference pairs (row `i` of `inputs` with row `i` of
    /// `references`, `[pairs, 4, input_length]` each).
    fn pair_multipliers(
        &self,
        inputs: &[f32],
        references: &[f32],
        control: Option<&[f32]>,
        head: ProfileHead,
        task: usize,
    ) -> Result<Vec<PairMultipliers>, ExplainError> {
        let n = self.check(inputs, task)?;
        if references.len() != inputs.len() {
            return Err(ExplainError::Invalid(format!(
                "{} reference values for {} input values; DeepLIFT pairs each input with one reference",
                references.len(),
                inputs.len()
            )));
        }
        if n == 0 {
            return Ok(Vec::new());
        }
        let control = self.control_tensor(control, n)?;
        let x = self.tensor(inputs, n).require_grad();
        let r = self.tensor(references, n);
        let ((logits, log_counts), (reference_logits, reference_counts)) =
            self.model.deeplift_forward(x.clone(), r, control);
        let (out, reference_out) = match head {
            ProfileHead::Counts => (log_counts.narrow(1, task, 1), reference_counts.narrow(1, task, 1)),
            ProfileHead::Profile => {
                let c = self.centred_logits(logits, task); // [n, S·L_out]
                let c_ref = self.centred_logits(reference_logits, task).detach();
                let value = c.clone().detach();
                let s = softmax(value.clone(), 1);
                let y = s.clone() * value.clone();
                let y_ref = softmax(c_ref.clone(), 1) * c_ref.clone();
                let delta_in = value.clone() - c_ref;
                let small = delta_in.clone().abs().lower_elem(SCALING_EPSILON);
                // d(Σ_j y_j)/dc_i at the input: s_i (1 + c_i − Σ_j s_j c_j).
                let gradient = s * (value.clone() - y.clone().sum_dim(1)).add_scalar(1.0);
                let multiplier = ((y.clone() - y_ref.clone()) / delta_in).mask_where(small, gradient);
                let linear = (c * multiplier.clone()).sum_dim(1);
                let out = linear + (y.sum_dim(1) - (value * multiplier).sum_dim(1));
                (out, y_ref.sum_dim(1))
            }
        };
        let outputs = read(out.clone())?;
        let reference_outputs = read(reference_out)?;
        let grads = out.sum().backward();
        let gradient = x.grad(&grads).ok_or_else(|| ExplainError::Invalid("no gradient reached the input".into()))?;
        let gradient = read(gradient)?;
        let block = self.block();
        Ok(gradient
            .chunks(block)
            .zip(outputs.iter().zip(&reference_outputs))
            .map(|(values, (&output, &reference_output))| PairMultipliers {
                values: values.to_vec(),
                output,
                reference_output,
            })
            .collect())
    }

    /// DeepLIFT/SHAP of the head for windows `[n, 4, input_length]` against `per_window`
    /// references each (`[n, per_window, 4, input_length]`), `pairs` input–reference pairs per
    /// forward pass; see [`Shap`] for what is returned per window. A window's control tracks (for a
    /// model that reads them) are the same for it and its references, so they shape the profile
    /// head's softmax weights but add nothing to the differences.
    #[allow(clippy::too_many_arguments)]
    pub fn deeplift_shap(
        &self,
        inputs: &[f32],
        references: &[f32],
        control: Option<&[f32]>,
        per_window: usize,
        head: ProfileHead,
        task: usize,
        pairs: usize,
    ) -> Result<Vec<Shap>, ExplainError> {
        let n = self.check(inputs, task)?;
        let block = self.block();
        if per_window == 0 || references.len() != n * per_window * block {
            return Err(ExplainError::Invalid(format!(
                "DeepLIFT/SHAP needs at least one reference per window: {} reference values for {n} windows of {block} \
                 values and {per_window} references each",
                references.len()
            )));
        }
        let total = n * per_window;
        let mut multipliers = Vec::with_capacity(total);
        let mut inputs_chunk = Vec::new();
        let mut control_chunk = Vec::new();
        let control_block = self.control_block();
        for start in (0..total).step_by(pairs.max(1)) {
            let end = (start + pairs.max(1)).min(total);
            inputs_chunk.clear();
            control_chunk.clear();
            for pair in start..end {
                let window = pair / per_window;
                inputs_chunk.extend_from_slice(&inputs[window * block..(window + 1) * block]);
                if let Some(control) = control {
                    let slice = control.get(window * control_block..(window + 1) * control_block).unwrap_or_default();
                    control_chunk.extend_from_slice(slice);
                }
            }
            let chunk_references = &references[start * block..end * block];
            let chunk_control = control.map(|_| control_chunk.as_slice());
            multipliers.extend(self.pair_multipliers(&inputs_chunk, chunk_references, chunk_control, head, task)?);
        }
        let length = self.shape.input_length;
        let mut results = Vec::with_capacity(n);
        for (window, input) in inputs.chunks(block).enumerate() {
            let mut shap = Shap {
                actual: Vec::new(),
                hypothetical: vec![0.0; block],
                max_deviation: 0.0,
                output: f32::NAN,
                mean_reference_output: 0.0,
            };
            let scale = 1.0 / per_window as f32;
            for k in 0..per_window {
                let pair = window * per_window + k;
                let m = &multipliers[pair];
                let reference = &references[pair * block..(pair + 1) * block];
                let sum: f32 = m.values.iter().zip(input.iter().zip(reference)).map(|(m, (x, r))| m * (x - r)).sum();
                let deviation = (sum - (m.output - m.reference_output)).abs();
                shap.max_deviation = shap.max_deviation.max(if deviation.is_nan() { f32::INFINITY } else { deviation });
                shap.output = m.output;
                shap.mean_reference_output += m.reference_output * scale;
                for i in 0..length {
                    let at_reference: f32 = (0..4).map(|c| reference[c * length + i] * m.values[c * length + i]).sum();
                    for c in 0..4 {
                        shap.hypothetical[c * length + i] += (m.values[c * length + i] - at_reference) * scale;
                    }
                }
            }
            shap.actual = shap.hypothetical.iter().zip(input).map(|(h, x)| h * x).collect();
            results.push(shap);
        }
        Ok(results)
    }
}

fn read<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, ExplainError> {
    tensor
        .cast(DType::F32)
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|error| ExplainError::Invalid(format!("reading a tensor back failed: {error:?}")))
}

/// DeepLIFT/SHAP references of one one-hot input `[channels, length]`: `[n, channels, length]`,
/// the same as [`crate::Explainer::shap_references`] gives a classifier's input. Shuffled
/// references are dinucleotide shuffles of the input's own bases (positions without a base shuffle
/// as a letter of their own and stay all-zero), seeded by `seed` and `index`, so a window gets the
/// same references in every run; zeros and uniform give one reference.
pub fn shap_references(
    input: &[f32],
    channels: usize,
    baseline: IgBaseline,
    n: usize,
    seed: u64,
    index: usize,
) -> Vec<f32> {
    let length = input.len() / channels.max(1);
    match baseline {
        IgBaseline::Zeros => vec![0.0; channels * length],
        IgBaseline::Uniform => vec![1.0 / channels as f32; channels * length],
        IgBaseline::Shuffled => {
            const NO_BASE: u8 = u8::MAX;
            let letters: Vec<u8> = (0..length)
                .map(|i| (0..channels).find(|&c| input[c * length + i] > 0.5).map_or(NO_BASE, |c| c as u8))
                .collect();
            let mut rng = ChaCha8Rng::seed_from_u64(
                seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5348_4150, // "SHAP"
            );
            let mut references = vec![0.0f32; n.max(1) * channels * length];
            for reference in references.chunks_mut(channels * length) {
                for (i, &letter) in dinucleotide_shuffle(&letters, &mut rng).iter().enumerate() {
                    if letter != NO_BASE {
                        reference[usize::from(letter) * length + i] = 1.0;
                    }
                }
            }
            references
        }
    }
}

/// Which windows of a profile run to explain.
#[derive(Debug, Clone, PartialEq)]
pub enum ProfileRegions {
    /// The run's peaks of its test split (of its validation split when no contig is held out for
    /// test), re-created from its config and seed.
    HeldOutPeaks,
    /// Windows centred on a BED file's intervals (on the narrowPeak summit where column 10 gives
    /// one, as training centres peaks).
    Bed(PathBuf),
}

/// Settings of one profile explain run.
#[derive(Debug, Clone)]
pub struct ProfileExplainSettings {
    /// Methods to compute.
    pub methods: Vec<ProfileMethod>,
    /// Heads to explain.
    pub heads: Vec<ProfileHead>,
    /// The task explained: a `[[tracks.task]]` name or a 0-based index (the first task when
    /// `None`).
    pub task: Option<String>,
    /// Explain at most this many windows (the first ones).
    pub limit: Option<usize>,
    /// DeepLIFT/SHAP references per window.
    pub shap_references: usize,
    /// DeepLIFT/SHAP reference kind (dinucleotide shuffles by default).
    pub shap_baseline: IgBaseline,
    /// Seed of shuffled references.
    pub seed: u64,
    /// Windows (gradient × input), mutants (ISM) or input–reference pairs (DeepLIFT/SHAP, at most
    /// what fits in 2 GiB) per forward pass.
    pub batch_size: usize,
    /// Attribution logos of this many windows with the highest predicted counts.
    pub top_tracks: usize,
    /// Also write the references to `shap_references.npz`.
    pub save_references: bool,
    /// Compute the profile head's DeepLIFT/SHAP in float64 (see [`ProfileExplainer::float64`]).
    pub profile_float64: bool,
}

impl Default for ProfileExplainSettings {
    fn default() -> Self {
        Self {
            methods: ProfileMethod::DEFAULT.to_vec(),
            heads: ProfileHead::ALL.to_vec(),
            task: None,
            limit: None,
            shap_references: 20,
            shap_baseline: IgBaseline::Shuffled,
            seed: 42,
            batch_size: 32,
            top_tracks: 6,
            save_references: false,
            profile_float64: true,
        }
    }
}

/// One explained window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExplainedWindow {
    /// `chrom:start-end` of the input window.
    pub id: String,
    /// The contig.
    pub chrom: String,
    /// 0-based first base of the input window.
    pub start: u64,
    /// Where it came from: `test`, `validation` or the BED file's line.
    pub source: String,
}

/// Write `values` of `shape` as `arr_0` of `out/file` and note it in `arrays`.
fn write_array(
    out: &Path,
    file: &str,
    shape: &[usize],
    values: &[f32],
    arrays: &mut Vec<NpzArray>,
) -> Result<(), ExplainError> {
    omix_io::write_npz(&out.join(file), &[omix_io::NpyArray { name: "arr_0", shape, values }])?;
    arrays.push(NpzArray { file: file.to_string(), shape: shape.to_vec() });
    Ok(())
}

/// What a profile explain run computed, beside its files.
#[derive(Debug, Clone)]
pub struct ProfileExplainOutcome {
    /// The summary written to `profile_explain.json`.
    pub summary: ProfileExplainSummary,
    /// The windows, in output order.
    pub windows: Vec<ExplainedWindow>,
    /// Their one-hot inputs `[n, 4, input_length]`.
    pub inputs: Vec<f32>,
    /// Per head and method: attributions at the observed bases `[n, 4, input_length]`.
    pub attributions: Vec<(ProfileHead, ProfileMethod, Vec<f32>)>,
    /// Per head: DeepLIFT/SHAP's hypothetical contributions `[n, 4, input_length]`.
    pub hypothetical: Vec<(ProfileHead, Vec<f32>)>,
    /// Predicted log counts of the task per window (the explained model).
    pub log_counts: Vec<f32>,
}

/// The index of the task named `choice` (a name, or a 0-based index) among `names`.
fn task_index(names: &[String], choice: &str) -> Result<usize, ExplainError> {
    names
        .iter()
        .position(|name| name == choice)
        .or_else(|| choice.parse::<usize>().ok().filter(|&i| i < names.len()))
        .ok_or_else(|| {
            ExplainError::Invalid(format!(
                "{choice} is not a task of this run; its tasks are {} (or 0 to {})",
                names.join(", "),
                names.len().saturating_sub(1)
            ))
        })
}

/// The profile wrapper's definition, in words, for the summary.
const PROFILE_HEAD_DEFINITION: &str = "bpnet-lite ProfileWrapper on the task's strands: logits flattened over strands and \
     positions, mean-centred (c = l - mean l), sum(c * softmax(c)); softmax detached for gradients; DeepLIFT's rescale \
     rule on c * softmax(c) element-wise (bpnet-lite's _ProfileLogitScaling as tangermeme's _nonlinear), computed in float64";

/// Explain a profile run's model (for ChromBPNet its bias-corrected TF model) on `regions` and
/// write the results to `out`.
pub fn explain_profile_run(
    run: &RunDir,
    regions: &ProfileRegions,
    settings: &ProfileExplainSettings,
    out: &Path,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<ProfileExplainOutcome, ExplainError> {
    crate::interpret::check_output_folder(out)?;
    if settings.methods.is_empty() || settings.heads.is_empty() {
        return Err(ExplainError::Invalid("choose at least one method and one head to explain".into()));
    }
    let gradient_device = device.clone().autodiff();
    let profile = ProfileRun::load(run, &gradient_device)?;
    let task_names: Vec<String> = profile.config.tracks.tasks.iter().map(|t| t.name.clone()).collect();
    let task = match &settings.task {
        Some(choice) => task_index(&task_names, choice)?,
        None => 0,
    };
    let task_name = task_names.get(task).cloned().unwrap_or_default();
    let mut model_name = if profile.bias.is_some() {
        observer.message(
            "ChromBPNet run: explaining the bias-corrected TF model (the frozen bias model left out), as chrombpnet explains chrombpnet_nobias",
        );
        "ChromBPNet TF model (bias-corrected)".to_string()
    } else {
        "BPNet".to_string()
    };
    let ensemble = match run.ensemble()? {
        Some(file) => {
            let rule = format!(
                "each attribution, and each window's predicted log count, is the mean of the {} members' own (every member explained on the same windows with the same references)",
                file.members.len()
            );
            observer.message(&format!("an ensemble of {} profile runs: {rule}", file.members.len()));
            model_name = format!("ensemble of {} {} runs", file.members.len(), model_name);
            Some(omix_run::explain::EnsembleAttribution { members: file.members, combine: file.combine, rule })
        }
        None => None,
    };
    let shape = profile.shape;
    // DeepLIFT keeps about three float64 values per unit of every layer for each pair in a forward
    // pass; bound the pairs so a pass stays within DEEPLIFT_MEMORY bytes.
    let per_pair = profile.config.model.filters * shape.input_length * (profile.config.model.layers + 2) * 24;
    let pairs = settings.batch_size.max(1).min((DEEPLIFT_MEMORY / per_pair.max(1)).max(1));
    let (windows, mut inputs, regions_from) = load_windows(run, &profile, regions, observer)?;
    let mut windows = windows;
    if let Some(limit) = settings.limit {
        windows.truncate(limit);
        inputs.truncate(limit * 4 * shape.input_length);
    }
    // Each window's control tracks, read where it lies, for a model that reads them.
    let places: Vec<(&str, i64)> = windows.iter().map(|w| (w.chrom.as_str(), w.start as i64)).collect();
    let control = profile.control_at(&places, false)?;
    let control = control.as_deref();
    if windows.is_empty() {
        return Err(ExplainError::Invalid(format!("{regions_from}: no window to explain")));
    }
    let n = windows.len();
    let block = 4 * shape.input_length;
    // One explainer per model (an ensemble's members), each with its float64 copy when asked.
    let wants_precise = settings.profile_float64
        && settings.heads.contains(&ProfileHead::Profile)
        && settings.methods.contains(&ProfileMethod::DeepLiftShap);
    let explainers: Vec<(ProfileExplainer, Option<ProfileExplainer>)> = profile
        .member_models()
        .into_iter()
        .map(|(model, _)| {
            let explainer = ProfileExplainer::new(model.clone(), shape, &gradient_device);
            let precise = wants_precise.then(|| explainer.float64());
            (explainer, precise)
        })
        .collect();
    let members = explainers.len();
    std::fs::create_dir_all(out.join("logos"))
        .map_err(|error| ExplainError::Write { path: out.to_path_buf(), message: format!("cannot create: {error}") })?;
    observer.message(&format!(
        "explaining {n} windows of {} bases ({regions_from}), task {task_name}: {} of {}",
        shape.input_length,
        settings.methods.iter().map(|m| m.name()).collect::<Vec<_>>().join(", "),
        settings.heads.iter().map(|h| h.name()).collect::<Vec<_>>().join(" and ")
    ));

    // References, shared by the heads.
    let wants_shap = settings.methods.contains(&ProfileMethod::DeepLiftShap);
    let per_window = match settings.shap_baseline {
        IgBaseline::Shuffled => settings.shap_references.max(1),
        IgBaseline::Zeros | IgBaseline::Uniform => 1,
    };
    let references: Vec<f32> = if wants_shap {
        inputs
            .chunks(block)
            .enumerate()
            .flat_map(|(index, input)| {
                shap_references(input, 4, settings.shap_baseline, per_window, settings.seed, index)
            })
            .collect()
    } else {
        Vec::new()
    };

    let mut per_member = Vec::with_capacity(members);
    for (explainer, _) in &explainers {
        per_member.push(batched_outputs(explainer, &inputs, control, ProfileHead::Counts, task, settings.batch_size)?);
    }
    let log_counts = mean_of(&per_member);
    let mut attributions = Vec::new();
    let mut hypothetical = Vec::new();
    let mut head_summaries = Vec::new();
    let mut arrays = Vec::new();
    let mut files = vec!["ohe.npz".to_string(), "regions.tsv".into(), "positions.tsv".into()];
    let shape3 = [n, 4, shape.input_length];
    for &head in &settings.heads {
        let mut summary = ProfileHeadSummary {
            head: head.name().into(),
            timings: Vec::new(),
            convergence: None,
            above_tolerance: 0,
            shap_file: None,
            logos: Vec::new(),
        };
        for &method in &settings.methods {
            let started = Instant::now();
            let mut results = Vec::with_capacity(members);
            for (member, (explainer, precise)) in explainers.iter().enumerate() {
                let of = if members > 1 { format!(", member {} of {members}", member + 1) } else { String::new() };
                observer.start(&format!("{} of the {} head (windows{of})", method.name(), head.name()), n as u64);
                let result = match method {
                    ProfileMethod::GradientXInput => {
                        gradient_x_input_all(explainer, &inputs, control, head, task, settings.batch_size, observer)
                            .map(|a| (a, None))
                    }
                    ProfileMethod::DeepLiftShap => deeplift_all(
                        match (precise, head) {
                            (Some(precise), ProfileHead::Profile) => precise,
                            _ => explainer,
                        },
                        &inputs,
                        &references,
                        control,
                        per_window,
                        head,
                        task,
                        pairs,
                        observer,
                    )
                    .map(|all| (all.actual, Some((all.hypothetical, all.deviations)))),
                    ProfileMethod::Ism => {
                        ism_all(explainer, &inputs, control, head, task, settings.batch_size, observer)
                            .map(|e| (e, None))
                    }
                };
                observer.finish();
                results.push(result?);
            }
            // An ensemble's attributions: the members' mean (each window's worst deviation of any member).
            let actual = mean_of(&results.iter().map(|(actual, _)| actual.clone()).collect::<Vec<_>>());
            let shap = match results.iter().map(|(_, shap)| shap.clone()).collect::<Option<Vec<_>>>() {
                Some(shaps) if !shaps.is_empty() => {
                    let hypothetical = mean_of(&shaps.iter().map(|(hyp, _)| hyp.clone()).collect::<Vec<_>>());
                    let deviations: Vec<f32> =
                        (0..shaps[0].1.len()).map(|k| shaps.iter().map(|(_, d)| d[k]).fold(0.0f32, f32::max)).collect();
                    Some((hypothetical, deviations))
                }
                _ => None,
            };
            let result: Result<_, ExplainError> = match method {
                ProfileMethod::Ism => {
                    let file = format!("{}_ism.npz", head.name());
                    write_array(out, &file, &shape3, &actual, &mut arrays)?;
                    files.push(file);
                    Ok((ism_importance(&actual, &inputs, shape.input_length), None))
                }
                _ => Ok((actual, shap)),
            };
            let (actual, shap) = result?;
            let elapsed = started.elapsed().as_secs_f64();
            let rate = elapsed / n as f64 * 100.0;
            summary.timings.push(MethodTiming {
                method: method.name().into(),
                seconds: elapsed,
                seconds_per_100_windows: rate,
            });
            if let Some((hyp, deviations)) = shap {
                let worst = deviations.iter().copied().fold(0.0f32, f32::max);
                let above = deviations.iter().filter(|d| **d > CONVERGENCE_TOLERANCE).count();
                let kind = reference_words(settings.shap_baseline, per_window);
                observer.message(&format!(
                    "DeepLIFT/SHAP, {} head: {n} windows x {kind} in {elapsed:.1}s ({rate:.1}s per 100 windows); summation to delta holds to {worst:.1e} at worst",
                    head.name()
                ));
                if above > 0 {
                    observer.message(&format!(
                        "warning: the {} head's DeepLIFT/SHAP attributions of {above} windows miss f(x) - f(reference) by more than {CONVERGENCE_TOLERANCE:.0e}",
                        head.name()
                    ));
                }
                summary.convergence = Some(f64::from(worst));
                summary.above_tolerance = above;
                let file = format!("{}_shap.npz", head.name());
                write_array(out, &file, &shape3, &hyp, &mut arrays)?;
                summary.shap_file = Some(file.clone());
                files.push(file);
                hypothetical.push((head, hyp));
            } else {
                observer.message(&format!(
                    "{}, {} head: {n} windows in {elapsed:.1}s ({rate:.1}s per 100 windows)",
                    method.name(),
                    head.name()
                ));
            }
            attributions.push((head, method, actual));
        }
        head_summaries.push(summary);
    }

    write_array(out, "ohe.npz", &shape3, &inputs, &mut arrays)?;
    if wants_shap && settings.save_references {
        let reference_shape = [n, per_window, 4, shape.input_length];
        write_array(out, "shap_references.npz", &reference_shape, &references, &mut arrays)?;
        files.push("shap_references.npz".into());
    }
    write_regions(out, &windows, &log_counts, &attributions, shape.input_length)?;
    write_positions(out, &windows, &inputs, &attributions, shape.input_length)?;

    // Logos of the windows with the highest predicted counts.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| log_counts[b].total_cmp(&log_counts[a]).then(a.cmp(&b)));
    for (summary, &head) in head_summaries.iter_mut().zip(&settings.heads) {
        let Some((_, method, scores)) = attributions
            .iter()
            .filter(|(h, _, _)| *h == head)
            .max_by_key(|(_, m, _)| usize::from(*m == ProfileMethod::DeepLiftShap))
        else {
            continue;
        };
        for &k in order.iter().take(settings.top_tracks) {
            let window = &scores[k * block..(k + 1) * block];
            let (from, to) = logo_span(window, shape.input_length);
            let rows: Vec<Vec<f32>> =
                (from..to).map(|p| (0..4).map(|c| window[c * shape.input_length + p]).collect()).collect();
            let svg = omix_motif::attribution_logo_svg(
                &rows,
                "ACGT",
                &LogoOptions {
                    column_width: 9.0,
                    title: Some(format!(
                        "{} of the {} head, {}:{}-{}",
                        method.name(),
                        head.name(),
                        windows[k].chrom,
                        windows[k].start + from as u64,
                        windows[k].start + to as u64
                    )),
                    ..LogoOptions::default()
                },
            );
            let name = format!("logos/{}_{}.svg", head.name(), file_safe(&windows[k].id));
            write_atomically(&out.join(&name), |w| w.write_all(svg.as_bytes()))?;
            summary.logos.push(name);
        }
    }

    let summary = ProfileExplainSummary {
        model: model_name,
        task: task_name,
        regions_from,
        regions: n,
        input_length: shape.input_length,
        methods: settings.methods.iter().map(|m| m.name().to_string()).collect(),
        profile_head: PROFILE_HEAD_DEFINITION.into(),
        references: wants_shap.then(|| reference_words(settings.shap_baseline, per_window)),
        seed: settings.seed,
        heads: head_summaries,
        arrays,
        files: {
            files.push(PROFILE_EXPLAIN_SUMMARY.into());
            files
        },
        ensemble,
    };
    let json = serde_json::to_string_pretty(&summary)
        .map_err(|error| ExplainError::Invalid(format!("cannot serialise {PROFILE_EXPLAIN_SUMMARY}: {error}")))?;
    write_atomically(&out.join(PROFILE_EXPLAIN_SUMMARY), |w| w.write_all(json.as_bytes()))?;
    Ok(ProfileExplainOutcome { summary, windows, inputs, attributions, hypothetical, log_counts })
}

/// The element-wise mean of the members' values (one member's returned as they are).
fn mean_of(members: &[Vec<f32>]) -> Vec<f32> {
    match members {
        [] => Vec::new(),
        [one] => one.clone(),
        _ => {
            let count = members.len() as f64;
            (0..members[0].len())
                .map(|i| (members.iter().map(|m| f64::from(m[i])).sum::<f64>() / count) as f32)
                .collect()
        }
    }
}

fn reference_words(baseline: IgBaseline, per_window: usize) -> String {
    match baseline {
        IgBaseline::Shuffled => format!("{per_window} dinucleotide-shuffled references"),
        IgBaseline::Zeros => "an all-zero reference".into(),
        IgBaseline::Uniform => "a uniform reference".into(),
    }
}

/// The windows to explain, their one-hot inputs and where they came from (in words).
fn load_windows(
    run: &RunDir,
    profile: &ProfileRun,
    regions: &ProfileRegions,
    observer: &mut dyn Observer,
) -> Result<(Vec<ExplainedWindow>, Vec<f32>, String), ExplainError> {
    let input = profile.shape.input_length;
    let id = |chrom: &str, start: u64| format!("{chrom}:{start}-{}", start + input as u64);
    match regions {
        ProfileRegions::HeldOutPeaks => {
            let config = &profile.config;
            let data = ProfileData::load(&config.tracks, config.seed, &mut |line: &str| observer.message(line))?;
            let peaks = |split: SplitName| -> Vec<usize> {
                data.indices(split).into_iter().filter(|&i| data.regions[i].peak).collect()
            };
            let (indices, split) = match peaks(SplitName::Test) {
                test if !test.is_empty() => (test, "test"),
                _ => (peaks(SplitName::Validation), "validation"),
            };
            if indices.is_empty() {
                return Err(ExplainError::Invalid(format!(
                    "{}: no peak of {} is on a test or validation chromosome; give --input PEAKS.bed to explain other windows",
                    run.root().display(),
                    config.tracks.peaks.display()
                )));
            }
            let mut one_hot = Vec::with_capacity(indices.len() * 4 * input);
            for chunk in indices.chunks(256) {
                one_hot.extend(data.batch(chunk, &[], &[])?.one_hot);
            }
            let windows = indices
                .iter()
                .map(|&i| {
                    let region = &data.regions[i];
                    let start = region.centre - (input / 2) as u64;
                    ExplainedWindow {
                        id: id(&region.chrom, start),
                        chrom: region.chrom.clone(),
                        start,
                        source: split.into(),
                    }
                })
                .collect();
            let from = format!("the {split} split's peaks of {}", config.tracks.peaks.display());
            Ok((windows, one_hot, from))
        }
        ProfileRegions::Bed(path) => {
            let records = omix_genome::read_bed(path).map_err(omix_data::DataError::from)?;
            let reference = omix_genome::Reference::open(&profile.config.tracks.reference, &mut |line: &str| {
                observer.message(line)
            })
            .map_err(omix_data::DataError::from)?;
            let half = (input / 2) as u64;
            let encoder = omix_encode::Encoder::new(omix_encode::Alphabet::Dna, omix_encode::Ambiguity::Zero);
            let mut windows = Vec::with_capacity(records.len());
            let mut one_hot = vec![0.0f32; records.len() * 4 * input];
            for (k, record) in records.iter().enumerate() {
                let where_ = || format!("{}:{}", path.display(), record.line);
                // narrowPeak column 10: the summit's offset from the start (as training centres peaks).
                let summit = record.extra.get(3).and_then(|s| s.parse::<i64>().ok()).filter(|&s| s >= 0);
                let centre = match summit {
                    Some(offset) if (offset as u64) < record.len() => record.start + offset as u64,
                    _ => record.start + record.len() / 2,
                };
                let Some(contig) = reference.contig_length(&record.chrom) else {
                    return Err(ExplainError::Invalid(format!(
                        "{}: contig {} is not in the reference {}",
                        where_(),
                        record.chrom,
                        reference.path().display()
                    )));
                };
                let start = centre.checked_sub(half).filter(|s| s + input as u64 <= contig).ok_or_else(|| {
                    ExplainError::Invalid(format!(
                        "{}: the {input}-base window centred on {}:{centre} runs off the contig ({} bases)",
                        where_(),
                        record.chrom,
                        contig
                    ))
                })?;
                let bases = reference
                    .fetch(&record.chrom, start as i64, (start + input as u64) as i64)
                    .map_err(omix_data::DataError::from)?;
                encoder
                    .encode_into(&bases, &mut one_hot[k * 4 * input..(k + 1) * 4 * input])
                    .map_err(|error| ExplainError::Invalid(format!("{}: {error}", where_())))?;
                windows.push(ExplainedWindow {
                    id: id(&record.chrom, start),
                    chrom: record.chrom.clone(),
                    start,
                    source: format!("line {}", record.line),
                });
            }
            Ok((windows, one_hot, format!("the intervals of {}", path.display())))
        }
    }
}

/// The head's value for every window, a batch at a time.
fn batched_outputs(
    explainer: &ProfileExplainer,
    inputs: &[f32],
    control: Option<&[f32]>,
    head: ProfileHead,
    task: usize,
    batch_size: usize,
) -> Result<Vec<f32>, ExplainError> {
    let mut values = Vec::new();
    let windows = batch_size.max(1);
    for (k, chunk) in inputs.chunks(explainer.block() * windows).enumerate() {
        values.extend(explainer.outputs(chunk, control_of(explainer, control, k * windows, chunk), head, task)?);
    }
    Ok(values)
}

/// The control tracks of the windows of `chunk`, which starts at window `first`.
fn control_of<'a>(
    explainer: &ProfileExplainer,
    control: Option<&'a [f32]>,
    first: usize,
    chunk: &[f32],
) -> Option<&'a [f32]> {
    let per_window = explainer.control_block();
    let n = chunk.len() / explainer.block();
    control.map(|values| values.get(first * per_window..(first + n) * per_window).unwrap_or_default())
}

fn gradient_x_input_all(
    explainer: &ProfileExplainer,
    inputs: &[f32],
    control: Option<&[f32]>,
    head: ProfileHead,
    task: usize,
    batch_size: usize,
    observer: &mut dyn Observer,
) -> Result<Vec<f32>, ExplainError> {
    let block = explainer.block();
    let mut attributions = Vec::with_capacity(inputs.len());
    for chunk in inputs.chunks(block * batch_size.max(1)) {
        let chunk_control = control_of(explainer, control, attributions.len() / block, chunk);
        attributions.extend(explainer.gradient_x_input(chunk, chunk_control, head, task)?.1);
        observer.advance((attributions.len() / block) as u64, "");
    }
    Ok(attributions)
}

/// ISM of every window, one window at a time: `[n, 4, L]` substitution effects.
fn ism_all(
    explainer: &ProfileExplainer,
    inputs: &[f32],
    control: Option<&[f32]>,
    head: ProfileHead,
    task: usize,
    batch_size: usize,
    observer: &mut dyn Observer,
) -> Result<Vec<f32>, ExplainError> {
    let mut effects = Vec::with_capacity(inputs.len());
    for (k, input) in inputs.chunks(explainer.block()).enumerate() {
        effects.extend(explainer.ism(input, control_of(explainer, control, k, input), head, task, batch_size)?);
        observer.advance(k as u64 + 1, "");
    }
    Ok(effects)
}

/// ISM as an attribution at the observed bases: minus the mean substitution effect of each
/// position (high where mutating the base lowers the head), so that it reads as the other methods.
fn ism_importance(effects: &[f32], inputs: &[f32], length: usize) -> Vec<f32> {
    let mut importance = vec![0.0f32; inputs.len()];
    for (k, input) in inputs.chunks(4 * length).enumerate() {
        let offset = k * 4 * length;
        for position in 0..length {
            let Some(observed) = (0..4).find(|&c| input[c * length + position] > 0.5) else { continue };
            let mean: f32 =
                (0..4).filter(|&c| c != observed).map(|c| effects[offset + c * length + position]).sum::<f32>() / 3.0;
            importance[offset + observed * length + position] = -mean;
        }
    }
    importance
}

/// DeepLIFT/SHAP of every window of a run.
struct AllShap {
    /// Actual contributions `[n, 4, L]`.
    actual: Vec<f32>,
    /// Hypothetical contributions `[n, 4, L]`.
    hypothetical: Vec<f32>,
    /// Each window's largest summation-to-delta deviation.
    deviations: Vec<f32>,
}

/// DeepLIFT/SHAP of every window, whole windows per step.
#[allow(clippy::too_many_arguments)]
fn deeplift_all(
    explainer: &ProfileExplainer,
    inputs: &[f32],
    references: &[f32],
    control: Option<&[f32]>,
    per_window: usize,
    head: ProfileHead,
    task: usize,
    pairs: usize,
    observer: &mut dyn Observer,
) -> Result<AllShap, ExplainError> {
    let block = explainer.block();
    // Whole windows per step, at least `pairs` pairs' worth.
    let windows_per_step = (pairs.max(1) / per_window).max(1);
    let (mut actual, mut hypothetical, mut deviations) = (Vec::new(), Vec::new(), Vec::new());
    for (step, chunk) in inputs.chunks(block * windows_per_step).enumerate() {
        let from = step * windows_per_step * per_window * block;
        let chunk_references = &references[from..from + chunk.len() * per_window];
        let chunk_control = control_of(explainer, control, step * windows_per_step, chunk);
        for shap in explainer.deeplift_shap(chunk, chunk_references, chunk_control, per_window, head, task, pairs)? {
            actual.extend(shap.actual);
            hypothetical.extend(shap.hypothetical);
            deviations.push(shap.max_deviation);
        }
        observer.advance(deviations.len() as u64, "");
    }
    Ok(AllShap { actual, hypothetical, deviations })
}

/// The span of [`LOGO_BASES`] bases around the position with the largest summed |attribution|.
fn logo_span(scores: &[f32], length: usize) -> (usize, usize) {
    let importance = |p: usize| (0..4).map(|c| scores[c * length + p]).sum::<f32>().abs();
    let peak = (0..length).max_by(|&a, &b| importance(a).total_cmp(&importance(b))).unwrap_or(0);
    let width = LOGO_BASES.min(length);
    let from = peak.saturating_sub(width / 2).min(length - width);
    (from, from + width)
}

/// `regions.tsv`: one line per window: where it is, its predicted log count, and per head and
/// method the summed attribution; DeepLIFT/SHAP's largest deviation per head.
fn write_regions(
    out: &Path,
    windows: &[ExplainedWindow],
    log_counts: &[f32],
    attributions: &[(ProfileHead, ProfileMethod, Vec<f32>)],
    length: usize,
) -> Result<(), ExplainError> {
    let block = 4 * length;
    write_atomically(&out.join("regions.tsv"), |w| {
        write!(w, "region\tchrom\tstart\tend\tsource\tpredicted_log_count")?;
        for (head, method, _) in attributions {
            write!(w, "\t{}_{}_sum", head.name(), method.name())?;
        }
        writeln!(w)?;
        for (k, window) in windows.iter().enumerate() {
            write!(
                w,
                "{}\t{}\t{}\t{}\t{}\t{:.6}",
                window.id,
                window.chrom,
                window.start,
                window.start + length as u64,
                window.source,
                log_counts.get(k).copied().unwrap_or(f32::NAN)
            )?;
            for (_, _, scores) in attributions {
                let sum: f32 = scores[k * block..(k + 1) * block].iter().sum();
                write!(w, "\t{sum:.6}")?;
            }
            writeln!(w)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// `positions.tsv`: one line per window and position: the genomic position (0-based), the base, and
/// per head and method the attribution at the observed base.
fn write_positions(
    out: &Path,
    windows: &[ExplainedWindow],
    inputs: &[f32],
    attributions: &[(ProfileHead, ProfileMethod, Vec<f32>)],
    length: usize,
) -> Result<(), ExplainError> {
    let block = 4 * length;
    write_atomically(&out.join("positions.tsv"), |w| {
        write!(w, "region\tchrom\tposition\tbase")?;
        for (head, method, _) in attributions {
            write!(w, "\t{}_{}", head.name(), method.name())?;
        }
        writeln!(w)?;
        for (k, window) in windows.iter().enumerate() {
            let input = &inputs[k * block..(k + 1) * block];
            for p in 0..length {
                let base = (0..4).find(|&c| input[c * length + p] > 0.5).map_or('N', |c| b"ACGT"[c] as char);
                write!(w, "{}\t{}\t{}\t{base}", window.id, window.chrom, window.start + p as u64)?;
                for (_, _, scores) in attributions {
                    let value: f32 = (0..4).map(|c| scores[k * block + c * length + p]).sum();
                    write!(w, "\t{value:.6}")?;
                }
                writeln!(w)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}
