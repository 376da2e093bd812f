//! BPNet (Avsec et al. 2021, Nat Genet 53:354): base-resolution profiles and total counts from
//! sequence.
//!
//! The layout follows the published model as bpnet-lite builds it, so weights and results compare
//! one to one: a first convolution (64 filters of width 21, "same" padding), `layers` residual
//! dilated convolutions of width 3 with dilations 2¹…2ⁿ (each added to its input), then two heads on
//! the last representation — the profile head, a wide convolution (width 75, "same") cropped to the
//! output window, one logit track per task and strand; and the count head, the mean of the
//! representation over the output window widened by half the profile width on each side, through a
//! dense layer to one log count per task.
//!
//! **Control tracks** (bpnet-lite's `X_ctl`, e.g. a ChIP input or PATCH-CAP experiment): when the
//! shape has `control_strands > 0`, each task brings that many per-base control tracks over the
//! input window. The profile head reads them as extra input channels of its wide convolution, and
//! the count head reads one extra feature per task, `ln(1 + Σ control)` over the count head's
//! window (all of that task's control strands), as bpnet-lite does. Both are linear in the control,
//! so omix keeps them as two separate bias-free layers (`control_profile`, `control_count`) whose
//! outputs add to the heads': the same function as one convolution over the concatenated channels
//! and one dense layer over the concatenated features (the safetensors export concatenates them in
//! bpnet-lite's order), while the sequence network and its hand-written kernels stay unchanged.
//! They start at zero, so a fresh model with controls predicts what the same seed's model without
//! them does, and they draw nothing from the generator.

use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{Initializer, Linear, LinearConfig, PaddingConfig1d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::ModelError;

fn default_filters() -> usize {
    64
}
fn default_first_width() -> usize {
    21
}
fn default_layers() -> usize {
    8
}
fn default_profile_width() -> usize {
    75
}

/// The `[model]` table of a profile experiment: BPNet's sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BpnetConfig {
    /// Filters of every convolution.
    #[serde(default = "default_filters")]
    pub filters: usize,
    /// Width of the first convolution.
    #[serde(default = "default_first_width")]
    pub first_width: usize,
    /// Residual dilated convolutions (dilations 2, 4, …, 2^layers).
    #[serde(default = "default_layers")]
    pub layers: usize,
    /// Width of the profile head's convolution.
    #[serde(default = "default_profile_width")]
    pub profile_width: usize,
}

impl Default for BpnetConfig {
    fn default() -> Self {
        BpnetConfig {
            filters: default_filters(),
            first_width: default_first_width(),
            layers: default_layers(),
            profile_width: default_profile_width(),
        }
    }
}

/// What a BPNet reads and predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileShape {
    /// Input window (bases).
    pub input_length: usize,
    /// Output window (bases), centred in the input.
    pub output_length: usize,
    /// Tasks (experiments), each with its own count.
    pub tasks: usize,
    /// Strands per task (1 or 2).
    pub strands: usize,
    /// Control tracks per task (0: no control; 1: unstranded; 2: plus and minus).
    pub control_strands: usize,
}

impl ProfileShape {
    /// Bases cropped from each side of the input to reach the output window.
    pub fn trimming(&self) -> usize {
        (self.input_length - self.output_length) / 2
    }

    /// Profile tracks: tasks × strands.
    pub fn tracks(&self) -> usize {
        self.tasks * self.strands
    }

    /// Control tracks in all: tasks × control strands (task-major, as the profile tracks).
    pub fn control_tracks(&self) -> usize {
        self.tasks * self.control_strands
    }

    /// The same windows and tasks without control tracks (ChromBPNet's bias model reads sequence
    /// only).
    pub fn without_control(self) -> ProfileShape {
        ProfileShape { control_strands: 0, ..self }
    }
}

impl BpnetConfig {
    /// Rules a config must follow for `shape`: odd widths (so "same" padding is symmetric), and an
    /// input wide enough that the count head's window (the output plus half the profile width on each
    /// side) lies inside it.
    pub fn check(&self, shape: ProfileShape) -> Result<(), ModelError> {
        let bad = |message: String| Err(ModelError::Invalid(message));
        if self.filters == 0 || self.layers > 16 {
            return bad(format!(
                "[model] filters must be at least 1 and layers at most 16 (got filters {}, layers {})",
                self.filters, self.layers
            ));
        }
        for (name, width) in [("first_width", self.first_width), ("profile_width", self.profile_width)] {
            if width.is_multiple_of(2) {
                return bad(format!("[model] {name} must be odd (got {width}), so that the convolution stays centred"));
            }
        }
        if shape.output_length == 0 || shape.output_length > shape.input_length {
            return bad(format!(
                "the output window ({} bases) must be between 1 and the input window ({} bases)",
                shape.output_length, shape.input_length
            ));
        }
        if !(shape.input_length - shape.output_length).is_multiple_of(2) {
            return bad(format!(
                "the input window ({}) and output window ({}) must differ by an even number of bases, so the \
                 output is centred",
                shape.input_length, shape.output_length
            ));
        }
        if shape.trimming() < self.profile_width / 2 {
            return bad(format!(
                "the input window ({}) must be at least the output window ({}) plus the profile width ({}) - 1, \
                 so the count head sees whole profile-head windows",
                shape.input_length, shape.output_length, self.profile_width
            ));
        }
        if shape.strands == 0 || shape.strands > 2 || shape.tasks == 0 || shape.control_strands > 2 {
            return bad(format!(
                "a profile model needs 1 or 2 strands, at least one task and at most 2 control strands (got {shape:?})"
            ));
        }
        Ok(())
    }

    /// The model for `shape`, freshly initialised on `device`.
    pub fn init(&self, shape: ProfileShape, device: &Device) -> Result<Bpnet, ModelError> {
        self.check(shape)?;
        let same = |width: usize, dilation: usize| {
            let pad = (width - 1) / 2 * dilation;
            PaddingConfig1d::Explicit(pad, pad)
        };
        let first =
            Conv1dConfig::new(4, self.filters, self.first_width).with_padding(same(self.first_width, 1)).init(device);
        let residual = (1..=self.layers)
            .map(|i| {
                let dilation = 1usize << i;
                Conv1dConfig::new(self.filters, self.filters, 3)
                    .with_dilation(dilation)
                    .with_padding(same(3, dilation))
                    .init(device)
            })
            .collect();
        let profile = Conv1dConfig::new(self.filters, shape.tracks(), self.profile_width)
            .with_padding(same(self.profile_width, 1))
            .init(device);
        let count = LinearConfig::new(self.filters, shape.tasks).init(device);
        let (control_profile, control_count) = if shape.control_strands > 0 {
            let profile = Conv1dConfig::new(shape.control_tracks(), shape.tracks(), self.profile_width)
                .with_padding(same(self.profile_width, 1))
                .with_bias(false)
                .with_initializer(Initializer::Zeros)
                .init(device);
            let count = LinearConfig::new(shape.tasks, shape.tasks)
                .with_bias(false)
                .with_initializer(Initializer::Zeros)
                .init(device);
            (Some(profile), Some(count))
        } else {
            (None, None)
        };
        Ok(Bpnet {
            first,
            residual,
            profile,
            count,
            control_profile,
            control_count,
            control_strands: shape.control_strands,
            trimming: shape.trimming(),
            output_length: shape.output_length,
            count_flank: self.profile_width / 2,
        })
    }
}

/// BPNet: see the module documentation.
#[derive(Module, Debug)]
pub struct Bpnet {
    first: Conv1d,
    residual: Vec<Conv1d>,
    profile: Conv1d,
    count: Linear,
    /// The profile head's weights on the control tracks (no bias), when the model reads controls.
    control_profile: Option<Conv1d>,
    /// The count head's weights on each task's `ln(1 + control total)` (no bias).
    control_count: Option<Linear>,
    #[module(skip)]
    control_strands: usize,
    #[module(skip)]
    trimming: usize,
    #[module(skip)]
    output_length: usize,
    #[module(skip)]
    count_flank: usize,
}

impl Bpnet {
    /// Profile logits and log counts for a one-hot batch, without control tracks (a model that
    /// reads controls sees zeros: no control signal).
    ///
    /// # Shapes
    /// - input: `[batch, 4, input_length]`
    /// - output: profile logits `[batch, tasks × strands, output_length]` (task-major: task 0's
    ///   strands first) and log counts `[batch, tasks]`
    pub fn forward(&self, input: Tensor<3>) -> (Tensor<3>, Tensor<2>) {
        let mut x = relu(self.first.forward(input)); // [B, F, L]
        for conv in &self.residual {
            let y = relu(conv.forward(x.clone())); // [B, F, L]
            x = x + y;
        }
        self.heads(x, None)
    }

    /// [`Bpnet::forward`] with the control tracks `[batch, tasks × control_strands, input_length]`
    /// (task-major) added to both heads; `None`, or a model without controls, as `forward`.
    pub fn forward_with_control(&self, input: Tensor<3>, control: Option<Tensor<3>>) -> (Tensor<3>, Tensor<2>) {
        let mut x = relu(self.first.forward(input)); // [B, F, L]
        for conv in &self.residual {
            let y = relu(conv.forward(x.clone())); // [B, F, L]
            x = x + y;
        }
        self.heads(x, control)
    }

    /// Control tracks per task this model reads (0: none).
    pub fn control_strands(&self) -> usize {
        self.control_strands
    }

    /// The first convolution, as the filter-motif code reads it (`None` when its weights cannot be
    /// read back).
    pub fn first_layer(&self) -> Option<crate::FirstLayer> {
        crate::FirstLayer::from_conv(&self.first, None)
    }

    /// The output window's length.
    pub fn output_length(&self) -> usize {
        self.output_length
    }

    /// The weights as safetensors with bpnet-lite's names and PyTorch's layouts (`iconv`, `rconvs.N`,
    /// `fconv`, `linear`), so `BPNet(n_control_tracks=0).load_state_dict(...)` reads them (with
    /// controls: `fconv` and `linear` hold the control weights after the sequence's, as
    /// `BPNet(n_control_tracks=…)` lays them out for one task).
    pub fn to_safetensors(&self) -> Result<Vec<u8>, ModelError> {
        let read = |tensor: Tensor<1>, name: &str| -> Result<Vec<f32>, ModelError> {
            tensor
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| ModelError::ReadBack { tensor: name.to_owned(), reason: format!("{e:?}") })
        };
        let mut tensors = Vec::new();
        let mut conv = |name: String, conv: &Conv1d| -> Result<(), ModelError> {
            let weight = conv.weight.val();
            let shape = weight.dims().to_vec();
            let flat = weight.reshape([shape.iter().product::<usize>()]);
            tensors.push((format!("{name}.weight"), shape, read(flat, &name)?));
            if let Some(bias) = &conv.bias {
                let bias = bias.val();
                let shape = bias.dims().to_vec();
                tensors.push((format!("{name}.bias"), shape, read(bias, &name)?));
            }
            Ok(())
        };
        conv("iconv".into(), &self.first)?;
        for (i, layer) in self.residual.iter().enumerate() {
            conv(format!("rconvs.{i}"), layer)?;
        }
        // bpnet-lite's fconv reads the representation's channels, then the control tracks'.
        match &self.control_profile {
            Some(control) => {
                let weight = Tensor::cat(vec![self.profile.weight.val(), control.weight.val()], 1);
                let shape = weight.dims().to_vec();
                let flat = weight.reshape([shape.iter().product::<usize>()]);
                tensors.push(("fconv.weight".into(), shape, read(flat, "fconv")?));
                if let Some(bias) = &self.profile.bias {
                    let bias = bias.val();
                    let shape = bias.dims().to_vec();
                    tensors.push(("fconv.bias".into(), shape, read(bias, "fconv")?));
                }
            }
            None => conv("fconv".into(), &self.profile)?,
        }
        // burn stores a Linear as [inputs, outputs]; PyTorch as [outputs, inputs]. The control
        // features follow the pooled representation, as in bpnet-lite.
        let weight = match &self.control_count {
            Some(control) => Tensor::cat(vec![self.count.weight.val(), control.weight.val()], 0),
            None => self.count.weight.val(),
        };
        let [inputs, outputs] = weight.dims();
        let transposed = weight.transpose().reshape([inputs * outputs]);
        tensors.push(("linear.weight".into(), vec![outputs, inputs], read(transposed, "linear")?));
        if let Some(bias) = &self.count.bias {
            tensors.push(("linear.bias".into(), vec![outputs], read(bias.val(), "linear")?));
        }
        let metadata = std::collections::HashMap::from([
            ("omix_architecture".to_string(), "bpnet".to_string()),
            ("trimming".to_string(), self.trimming.to_string()),
        ]);
        crate::export::serialize_f32(tensors, metadata)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_windows() -> Result<(), ModelError> {
        let (device, _lock) = crate::test_device();
        let config = BpnetConfig { filters: 8, layers: 3, ..BpnetConfig::default() };
        let shape = ProfileShape { input_length: 300, output_length: 200, tasks: 2, strands: 2, control_strands: 0 };
        let model = config.init(shape, &device)?;
        let (profile, counts) = model.forward(Tensor::zeros([3, 4, 300], &device));
        assert_eq!(profile.dims(), [3, 4, 200]);
        assert_eq!(counts.dims(), [3, 2]);
        Ok(())
    }

    #[test]
    fn windows_that_cannot_fit_are_refused() {
        let config = BpnetConfig::default();
        let narrow = ProfileShape { input_length: 1050, output_length: 1000, tasks: 1, strands: 2, control_strands: 0 };
        let error = config.check(narrow).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("profile width"), "{error}");
        let odd = ProfileShape { input_length: 2115, output_length: 1000, tasks: 1, strands: 2, control_strands: 0 };
        assert!(config.check(odd).is_err());
        assert!(
            config
                .check(ProfileShape {
                    input_length: 2114,
                    output_length: 1000,
                    tasks: 1,
                    strands: 2,
                    control_strands: 0
                })
                .is_ok()
        );
    }
}

#[cfg(test)]
mod gradient_tests {
    use super::*;

    /// The count head's gradient with respect to the input, by autodiff and by central differences.
    #[test]
    fn count_gradient_matches_finite_differences() -> Result<(), ModelError> {
        let (device, _lock) = crate::test_device();
        let device = device.autodiff();
        device.seed(7);
        let config = BpnetConfig { filters: 4, layers: 2, first_width: 5, profile_width: 9 };
        let shape = ProfileShape { input_length: 40, output_length: 20, tasks: 1, strands: 2, control_strands: 0 };
        let model = config.init(shape, &device)?;
        let values: Vec<f32> = (0..4 * 40).map(|i| ((i * 7919 % 13) as f32) / 13.0).collect();
        let input = Tensor::<3>::from_data(TensorData::new(values.clone(), [1, 4, 40]), &device).require_grad();
        let (_, counts) = model.forward(input.clone());
        let gradients = counts.sum().backward();
        let analytic: Vec<f32> =
            input.grad(&gradients).map(|g| g.into_data().try_to_vec().unwrap_or_default()).unwrap_or_default();
        let count_at = |values: &[f32]| -> f64 {
            let x = Tensor::<3>::from_data(TensorData::new(values.to_vec(), [1, 4, 40]), &device);
            let (_, counts) = model.forward(x);
            f64::from(counts.into_scalar::<f32>())
        };
        let mut worst = 0f64;
        for index in [3usize, 17, 45, 60, 99, 121, 150] {
            let mut up = values.clone();
            let mut down = values.clone();
            up[index] += 1e-2;
            down[index] -= 1e-2;
            let numeric = (count_at(&up) - count_at(&down)) / 2e-2;
            worst = worst.max((numeric - f64::from(analytic[index])).abs());
        }
        assert!(worst < 1e-3, "count gradient differs from finite differences by {worst}");
        Ok(())
    }
}

#[cfg(test)]
mod init_tests {
    use super::*;

    #[test]
    fn layers_start_from_different_weights() -> Result<(), ModelError> {
        let (device, _lock) = crate::test_device();
        let device = device.autodiff();
        device.seed(3);
        let model = BpnetConfig { filters: 8, layers: 3, ..BpnetConfig::default() }.init(
            ProfileShape { input_length: 300, output_length: 200, tasks: 1, strands: 2, control_strands: 0 },
            &device,
        )?;
        let weights = |conv: &Conv1d| -> Vec<f32> { conv.weight.val().into_data().try_to_vec().unwrap_or_default() };
        let (a, b) = (weights(&model.residual[0]), weights(&model.residual[1]));
        assert_ne!(a, b);
        // PyTorch's default bound, 1/sqrt(fan in) = 1/sqrt(8 x 3).
        let bound = 1.0 / (24f32).sqrt();
        assert!(a.iter().all(|w| w.abs() <= bound) && a.iter().any(|w| w.abs() > 0.8 * bound));
        Ok(())
    }
}

#[cfg(test)]
mod pooling_tests {
    use super::*;

    #[test]
    fn narrowed_mean_is_the_window_mean() {
        let (plain, _lock) = crate::test_device();
        for device in [plain.clone(), plain.autodiff()] {
            let (b, f, l) = (3, 5, 40);
            let values: Vec<f32> = (0..b * f * l).map(|i| ((i * 7919 % 101) as f32) / 7.0).collect();
            let x = Tensor::<3>::from_data(TensorData::new(values.clone(), [b, f, l]), &device);
            let x = burn::tensor::activation::relu(x.clone()) + x; // not a fresh leaf, as in the model
            let pooled: Vec<f32> = x.narrow(2, 6, 20).mean_dim(2).into_data().try_to_vec().unwrap_or_default();
            for bi in 0..b {
                for fi in 0..f {
                    let window = &values[(bi * f + fi) * l + 6..(bi * f + fi) * l + 26];
                    let want: f32 = window.iter().map(|v| 2.0 * v.max(0.0) + v.min(0.0)).sum::<f32>() / 20.0;
                    assert!(
                        (pooled[bi * f + fi] - want).abs() < 1e-4,
                        "[{bi},{fi}]: {} vs {want}",
                        pooled[bi * f + fi]
                    );
                }
            }
        }
    }
}

/// Below this change of a ReLU's input between the input and its reference, DeepLIFT's rescale
/// ratio falls back to the gradient at the input (tangermeme's and Captum's threshold, as in
/// [`crate::DeepLiftPlan`]).
const PAIR_RESCALE_EPSILON: f32 = 1e-6;

/// `relu(z)` whose gradient with respect to `z` is DeepLIFT's rescale multiplier against the
/// reference pre-activation `reference` (a detached tensor of the same shape):
/// `m = (relu(z) − relu(z_ref)) / (z − z_ref)`, or `relu'(z)` where `|z − z_ref| < 1e-6`. The value
/// is `relu(z)`; the output is `z · m + (relu(z) − z · m)` with `m` and the bracket detached.
fn rescale_relu<const D: usize>(z: Tensor<D>, reference: Tensor<D>) -> Tensor<D> {
    let value = z.clone().detach();
    let out = relu(value.clone());
    let delta_in = value.clone() - reference.clone();
    let delta_out = out.clone() - relu(reference);
    // In the input's float type (a bool converts to the default one).
    let gradient = value.clone().greater_elem(0.0).float().cast(value.dtype());
    let small = delta_in.clone().abs().lower_elem(PAIR_RESCALE_EPSILON);
    let multiplier = (delta_out / delta_in).mask_where(small, gradient);
    z * multiplier.clone() + (out - value * multiplier)
}

impl Bpnet {
    /// Both heads on the last representation `[batch, filters, input_length]`, as [`Bpnet::forward`]
    /// ends, with the control tracks' terms added when given (see the module documentation).
    fn heads(&self, x: Tensor<3>, control: Option<Tensor<3>>) -> (Tensor<3>, Tensor<2>) {
        let profile = self.profile.forward(x.clone()); // [B, T·S, L]
        let from = self.trimming - self.count_flank;
        let width = self.output_length + 2 * self.count_flank;
        let pooled = x.narrow(2, from, width).mean_dim(2); // [B, F, 1]
        let [batch, filters, _] = pooled.dims();
        let counts = self.count.forward(pooled.reshape([batch, filters])); // [B, T]
        let (profile, counts) = match (control, &self.control_profile, &self.control_count) {
            (Some(control), Some(control_profile), Some(control_count)) => {
                let profile = profile + control_profile.forward(control.clone()); // [B, T·S, L]
                let [batch, channels, _] = control.dims();
                let tasks = channels / self.control_strands.max(1);
                let totals = control.narrow(2, from, width).reshape([batch, tasks, self.control_strands * width]);
                let features = (totals.sum_dim(2).reshape([batch, tasks]) + 1.0).log(); // [B, T]
                (profile, counts + control_count.forward(features))
            }
            _ => (profile, counts),
        };
        let profile = profile.narrow(2, self.trimming, self.output_length); // [B, T·S, L_out]
        (profile, counts)
    }

    /// The forward pass over input–reference pairs that DeepLIFT (rescale rule, Shrikumar et al.
    /// 2017) needs: the reference side runs as [`Bpnet::forward`] (detached), and on the input side
    /// every ReLU `relu(z)` becomes `z · m + (relu(z) − z · m)` with `m = (relu(z) − relu(z_ref)) /
    /// (z − z_ref)` detached (the gradient at `z` where `|z − z_ref| < 1e-6`). The values are those
    /// of [`Bpnet::forward`]; the gradient of an input-side output with respect to the input is its
    /// DeepLIFT multiplier, so `Σ multiplier · (input − reference)` equals the output's change
    /// (summation to delta). Convolutions, residual additions, cropping, the window mean and the
    /// dense layer are linear and pass multipliers as gradients do, exactly as tangermeme's
    /// `deep_lift_shap` treats them. On an autodiff device, with the model frozen.
    ///
    /// # Shapes
    /// - `input`, `reference`: `[pairs, 4, input_length]`, row `i` of one paired with row `i` of the
    ///   other
    /// - `control`: the pairs' control tracks `[pairs, tasks × control_strands, input_length]` (one
    ///   per pair, the same for its input and reference), for a model that reads controls
    /// - output: (profile logits, log counts) of the inputs, then of the references, each as
    ///   [`Bpnet::forward`] gives them
    #[allow(clippy::type_complexity)]
    pub fn deeplift_forward(
        &self,
        input: Tensor<3>,
        reference: Tensor<3>,
        control: Option<Tensor<3>>,
    ) -> ((Tensor<3>, Tensor<2>), (Tensor<3>, Tensor<2>)) {
        let z_ref = self.first.forward(reference).detach(); // [P, F, L]
        let z = self.first.forward(input); // [P, F, L]
        let mut r = relu(z_ref.clone());
        let mut x = rescale_relu(z, z_ref);
        for conv in &self.residual {
            let z_ref = conv.forward(r.clone()).detach(); // [P, F, L]
            let z = conv.forward(x.clone()); // [P, F, L]
            x = x + rescale_relu(z, z_ref.clone());
            r = r + relu(z_ref);
        }
        // A pair's control is the same on both sides: its terms cancel in every difference.
        let outputs = self.heads(x, control.clone()); // [P, T·S, L_out], [P, T]
        let (reference_logits, reference_counts) = self.heads(r, control);
        (outputs, (reference_logits.detach(), reference_counts.detach()))
    }

    /// This model with the weights of safetensors `bytes` in bpnet-lite's names and PyTorch's
    /// layouts (what [`Bpnet::to_safetensors`] writes, and what `BPNet(n_control_tracks=0)`'s
    /// `state_dict` holds in float32): every tensor must be there with this model's shape.
    pub fn with_safetensors(mut self, bytes: &[u8]) -> Result<Bpnet, ModelError> {
        use burn::module::Param;
        let file = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|error| ModelError::Invalid(format!("not a safetensors file: {error}")))?;
        let read = |name: &str, shape: &[usize]| -> Result<Vec<f32>, ModelError> {
            let view = file
                .tensor(name)
                .map_err(|_| ModelError::Invalid(format!("the safetensors file has no tensor {name}")))?;
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(ModelError::Invalid(format!("{name} is {:?}; float32 is needed", view.dtype())));
            }
            if view.shape() != shape {
                return Err(ModelError::Invalid(format!(
                    "{name} has shape {:?}; this model's is {shape:?}",
                    view.shape()
                )));
            }
            Ok(view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        };
        let tensor = |values: Vec<f32>, device: &Device| -> Tensor<1> {
            let length = values.len();
            Tensor::<1>::from_data(TensorData::new(values, [length]), device)
        };
        let load_conv = |conv: &mut Conv1d, name: &str| -> Result<(), ModelError> {
            let device = conv.weight.device();
            let shape = conv.weight.dims();
            let values = read(&format!("{name}.weight"), &shape)?;
            conv.weight = Param::from_tensor(tensor(values, &device).reshape(shape));
            if let Some(bias) = &conv.bias {
                let shape = bias.dims();
                let values = read(&format!("{name}.bias"), &shape)?;
                conv.bias = Some(Param::from_tensor(tensor(values, &device)));
            }
            Ok(())
        };
        load_conv(&mut self.first, "iconv")?;
        for (i, layer) in self.residual.iter_mut().enumerate() {
            load_conv(layer, &format!("rconvs.{i}"))?;
        }
        match &mut self.control_profile {
            Some(control) => {
                // One fconv over the representation's channels, then the control tracks'.
                let device = self.profile.weight.device();
                let [tracks, filters, width] = self.profile.weight.dims();
                let channels = control.weight.dims()[1];
                let values = read("fconv.weight", &[tracks, filters + channels, width])?;
                let joint = tensor(values, &device).reshape([tracks, filters + channels, width]);
                self.profile.weight = Param::from_tensor(joint.clone().narrow(1, 0, filters));
                control.weight = Param::from_tensor(joint.narrow(1, filters, channels));
                if self.profile.bias.is_some() {
                    let values = read("fconv.bias", &[tracks])?;
                    self.profile.bias = Some(Param::from_tensor(tensor(values, &device)));
                }
            }
            None => load_conv(&mut self.profile, "fconv")?,
        }
        let device = self.count.weight.device();
        let [inputs, outputs] = self.count.weight.dims();
        let extra = self.control_count.as_ref().map_or(0, |control| control.weight.dims()[0]);
        let values = read("linear.weight", &[outputs, inputs + extra])?;
        // PyTorch stores [outputs, inputs]; burn [inputs, outputs].
        let weight = tensor(values, &device).reshape([outputs, inputs + extra]).transpose();
        self.count.weight = Param::from_tensor(weight.clone().narrow(0, 0, inputs));
        if let Some(control) = &mut self.control_count {
            control.weight = Param::from_tensor(weight.narrow(0, inputs, extra));
        }
        if self.count.bias.is_some() {
            let values = read("linear.bias", &[outputs])?;
            self.count.bias = Some(Param::from_tensor(tensor(values, &device)));
        }
        Ok(self)
    }
}

#[cfg(test)]
impl Bpnet {
    /// This model with its control weights (zero at initialisation) drawn from `seed` in ±0.3, so
    /// tests see the control terms in the outputs.
    pub(crate) fn with_random_control(mut self, seed: u64) -> Bpnet {
        use burn::module::Param;
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut draw = |count: usize| -> Vec<f32> {
            (0..count)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.6
                })
                .collect()
        };
        if let Some(conv) = &mut self.control_profile {
            let device = conv.weight.device();
            let dims = conv.weight.dims();
            let values = draw(dims.iter().product());
            conv.weight = Param::from_tensor(Tensor::<3>::from_data(TensorData::new(values, dims), &device));
        }
        if let Some(dense) = &mut self.control_count {
            let device = dense.weight.device();
            let dims = dense.weight.dims();
            let values = draw(dims.iter().product());
            dense.weight = Param::from_tensor(Tensor::<2>::from_data(TensorData::new(values, dims), &device));
        }
        self
    }
}

/// BPNet's layers and windows, borrowed for the hand-written kernels ([`crate::BpnetKernels`]).
pub(crate) struct BpnetParts<'a> {
    /// The first convolution (4 → filters).
    pub(crate) first: &'a Conv1d,
    /// The residual dilated convolutions (filters → filters), in order.
    pub(crate) residual: &'a [Conv1d],
    /// The profile head's convolution (filters → tracks).
    pub(crate) profile: &'a Conv1d,
    /// The count head's dense layer (filters → tasks).
    pub(crate) count: &'a Linear,
    /// The profile head's control weights (control tracks → tracks, no bias), when there are controls.
    pub(crate) control_profile: Option<&'a Conv1d>,
    /// The count head's control weights (tasks' `ln(1 + total)` → tasks, no bias).
    pub(crate) control_count: Option<&'a Linear>,
    /// Control tracks per task.
    pub(crate) control_strands: usize,
    /// Bases cropped from each side of the input to reach the output window.
    pub(crate) trimming: usize,
    /// The output window's length.
    pub(crate) output_length: usize,
    /// Bases the count head's window adds on each side of the output window.
    pub(crate) count_flank: usize,
}

impl Bpnet {
    /// The layers and windows, for the hand-written kernels.
    pub(crate) fn parts(&self) -> BpnetParts<'_> {
        BpnetParts {
            first: &self.first,
            residual: &self.residual,
            profile: &self.profile,
            count: &self.count,
            control_profile: self.control_profile.as_ref(),
            control_count: self.control_count.as_ref(),
            control_strands: self.control_strands,
            trimming: self.trimming,
            output_length: self.output_length,
            count_flank: self.count_flank,
        }
    }
}
