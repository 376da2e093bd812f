//! A hand-written, batch-parallel forward and backward pass for BPNet ([`Bpnet`]) and its profile
//! loss.
//!
//! burn's flex backend runs BPNet's backward pass through transposed convolutions written as
//! direct loops, and most of a training step goes there. These kernels compute the loss of a
//! batch and the gradient of every parameter with matrix products instead ([`crate::gemm::product`],
//! the gemm crate that burn uses behind a checked interface; SIMD kernels chosen at run time), one
//! example at a time on rayon's pool, and hand the gradients back as burn [`GradientsParams`] so
//! that burn's optimisers, gradient clipping, records and checkpoints are unchanged.
//!
//! Per example (`F` filters, input length `L`, output length `L_out`, profile width `W`):
//! - the first convolution (4 channels × width 21) is one product with the im2col matrix of the
//!   one-hot input, `[F, 4·21] · [4·21, L]`;
//! - each residual convolution (width 3, dilation `d`) is three products, one per tap, each reading
//!   the input shifted by `k·d − d` (`[F, F] · [F, L − shift]`), so no im2col copy is made; the
//!   input gradient and the weight gradient are the same three products transposed;
//! - the profile head first multiplies every tap of every track with the representation over the
//!   window the cropped output reads (`[tracks·W, F] · [F, L_out + W − 1]`), then sums each track's
//!   taps along the diagonals; its backward pass multiplies the shifted copies of the logits'
//!   gradient (`[tracks·W, L_out + W − 1]`) with the representation (weight gradient) and with the
//!   weights (input gradient);
//! - the count head is a window mean and a dense layer, written out.
//!
//! What the backward pass needs is kept per example (one buffer per layer output and per ReLU);
//! gradients are summed over fixed chunks of examples and the chunks' sums added in order, so the
//! numbers are the same whatever the thread count. Results equal burn's autodiff on
//! [`Bpnet::forward`] and the profile loss (tested to 1e-4 relative).

use crate::gemm::Layout;
use burn::module::ParamId;
use burn::nn::PaddingConfig1d;
use burn::nn::conv::Conv1d;
use burn::optim::GradientsParams;
use burn::prelude::*;
use rayon::prelude::*;

use crate::{Bpnet, ModelError};

/// Examples per partial gradient sum in [`BpnetKernels::loss_and_gradients`] (and per task in
/// [`BpnetKernels::forward`]).
const GRADIENT_CHUNK: usize = 4;

/// One-hot channels of the input.
const BASES: usize = 4;

/// The shapes of a BPNet as the kernels run it, read from the model's settings alone (no weight is
/// read, so a lazily initialised model stays undrawn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpnetLayout {
    /// Filters of every convolution.
    pub filters: usize,
    /// Width of the first convolution.
    pub first_width: usize,
    /// Dilation of each residual convolution (width 3), in order.
    pub dilations: Vec<usize>,
    /// Width of the profile head's convolution.
    pub profile_width: usize,
    /// Tasks (one log count each).
    pub tasks: usize,
    /// Strands per task.
    pub strands: usize,
    /// Input window (bases).
    pub input_length: usize,
    /// Output window (bases).
    pub output_length: usize,
    /// Bases cropped from each side of the input to reach the output window.
    pub trimming: usize,
    /// Bases the count head's window adds on each side of the output window.
    pub count_flank: usize,
    /// Control tracks per task (0: the model reads no controls).
    pub control_strands: usize,
}

impl BpnetLayout {
    /// The layout of `model`, or why the kernels cannot run it: every convolution must have stride
    /// 1, one group and symmetric "same" padding, the residual convolutions width 3, and the
    /// windows must lie inside the input.
    pub fn of(model: &Bpnet) -> Result<Self, ModelError> {
        let parts = model.parts();
        let unsupported = |what: String| Err(ModelError::Unsupported(format!("BPNet kernels: {what}")));
        let conv_shape = |conv: &Conv1d| -> Result<[usize; 3], ModelError> {
            let [outputs, inputs, width] = conv.weight.lazy_shape().dims::<3>();
            let same = (width.saturating_sub(1)) / 2 * conv.dilation;
            let padded =
                matches!(conv.padding, PaddingConfig1d::Explicit(left, right) if left == same && right == same);
            if conv.stride != 1 || conv.groups != 1 || !padded || width != conv.kernel_size || width.is_multiple_of(2) {
                return Err(ModelError::Unsupported(format!(
                    "BPNet kernels: a convolution of width {width} with stride {}, {} groups and padding {:?} \
                     (stride 1, one group and symmetric same padding of an odd width are implemented)",
                    conv.stride, conv.groups, conv.padding
                )));
            }
            Ok([outputs, inputs, width])
        };
        let [filters, channels, first_width] = conv_shape(parts.first)?;
        if channels != BASES || parts.first.dilation != 1 {
            return unsupported(format!(
                "the first convolution reads {channels} channels with dilation {}",
                parts.first.dilation
            ));
        }
        let mut dilations = Vec::with_capacity(parts.residual.len());
        for conv in parts.residual {
            let [outputs, inputs, width] = conv_shape(conv)?;
            if outputs != filters || inputs != filters || width != 3 {
                return unsupported(format!("a residual convolution {inputs} → {outputs} of width {width}"));
            }
            dilations.push(conv.dilation);
        }
        let [tracks, inputs, profile_width] = conv_shape(parts.profile)?;
        let [count_inputs, tasks] = parts.count.weight.lazy_shape().dims::<2>();
        if inputs != filters || parts.profile.dilation != 1 || count_inputs != filters || tasks == 0 {
            return unsupported(format!(
                "heads that read {inputs} and {count_inputs} filters of {filters}, with {tasks} tasks"
            ));
        }
        if tracks == 0 || !tracks.is_multiple_of(tasks) {
            return unsupported(format!("{tracks} profile tracks for {tasks} tasks"));
        }
        let (trimming, output_length, count_flank) = (parts.trimming, parts.output_length, parts.count_flank);
        if output_length == 0 || trimming < profile_width / 2 || trimming < count_flank {
            return unsupported(format!(
                "an output window of {output_length} bases trimmed by {trimming}, which the profile width \
                 {profile_width} and count flank {count_flank} do not fit"
            ));
        }
        let control_strands = match (parts.control_profile, parts.control_count) {
            (Some(control), Some(dense)) => {
                let [outputs, channels, width] = conv_shape(control)?;
                let [inputs, count_outputs] = dense.weight.lazy_shape().dims::<2>();
                if outputs != tracks
                    || width != profile_width
                    || channels != tasks * parts.control_strands
                    || inputs != tasks
                    || count_outputs != tasks
                    || control.bias.is_some()
                    || dense.bias.is_some()
                {
                    return unsupported(format!(
                        "control weights of shapes [{outputs}, {channels}, {width}] and [{inputs}, {count_outputs}] \
                         for {tasks} tasks with {} control strands",
                        parts.control_strands
                    ));
                }
                parts.control_strands
            }
            (None, None) => 0,
            _ => return unsupported("control weights in one head only".into()),
        };
        Ok(BpnetLayout {
            filters,
            first_width,
            dilations,
            profile_width,
            tasks,
            strands: tracks / tasks,
            input_length: output_length + 2 * trimming,
            output_length,
            trimming,
            count_flank,
            control_strands,
        })
    }

    /// Profile tracks: tasks × strands.
    pub fn tracks(&self) -> usize {
        self.tasks * self.strands
    }

    /// Control tracks: tasks × control strands.
    pub fn control_tracks(&self) -> usize {
        self.tasks * self.control_strands
    }

    /// The bases of the representation the profile head reads: `L_out + W − 1` from
    /// `trimming − (W − 1)/2`.
    fn profile_window(&self) -> (usize, usize) {
        (self.trimming - self.profile_width / 2, self.output_length + self.profile_width - 1)
    }

    /// The bases the count head averages: `L_out + 2·count_flank` from `trimming − count_flank`.
    fn count_window(&self) -> (usize, usize) {
        (self.trimming - self.count_flank, self.output_length + 2 * self.count_flank)
    }
}

/// One convolution's weights `[outputs, inputs, width]` (burn's layout) and bias, with the ids the
/// gradients are registered under.
#[derive(Debug, Clone)]
struct Convolution {
    outputs: usize,
    inputs: usize,
    width: usize,
    dilation: usize,
    weight: Vec<f32>,
    /// Zeros where the layer has no bias.
    bias: Vec<f32>,
    weight_id: ParamId,
    bias_id: Option<ParamId>,
}

impl Convolution {
    /// Reads `conv`'s weight, then its bias (the order burn's forward pass reads them in, which
    /// decides when a lazily initialised parameter is drawn).
    fn read(conv: &Conv1d, name: &str) -> Result<Self, ModelError> {
        let [outputs, inputs, width] = conv.weight.lazy_shape().dims::<3>();
        let weight = read(conv.weight.val(), name)?;
        let bias = match &conv.bias {
            Some(bias) => read(bias.val(), name)?,
            None => vec![0.0; outputs],
        };
        Ok(Convolution {
            outputs,
            inputs,
            width,
            dilation: conv.dilation,
            weight,
            bias,
            weight_id: conv.weight.id,
            bias_id: conv.bias.as_ref().map(|bias| bias.id),
        })
    }

    /// Padding on each side ("same").
    fn padding(&self) -> usize {
        (self.width - 1) / 2 * self.dilation
    }

    /// Tap `k`'s weights `[outputs, inputs]`, a strided view into `[outputs, inputs, width]`.
    fn tap(&self, k: usize) -> Layout {
        Layout {
            offset: k,
            rows: self.outputs,
            columns: self.inputs,
            row_stride: self.inputs * self.width,
            column_stride: self.width,
        }
    }
}

/// The count head's dense layer: weights `[inputs, outputs]` (burn's layout) and bias.
#[derive(Debug, Clone)]
struct Dense {
    inputs: usize,
    outputs: usize,
    weight: Vec<f32>,
    bias: Vec<f32>,
    weight_id: ParamId,
    bias_id: Option<ParamId>,
}

fn read<const D: usize>(tensor: Tensor<D>, name: &str) -> Result<Vec<f32>, ModelError> {
    tensor
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|error| ModelError::ReadBack { tensor: format!("{name} weights"), reason: format!("{error:?}") })
}

/// A BPNet's current weights, as the kernels run them.
///
/// Training changes the weights at every step, so a fresh `BpnetKernels` is made from the model
/// before each call.
#[derive(Debug, Clone)]
pub struct BpnetKernels {
    layout: BpnetLayout,
    first: Convolution,
    residual: Vec<Convolution>,
    profile: Convolution,
    /// The profile weights as `[tracks · width, filters]` (row `(track, tap)`), the left factor of
    /// the profile head's products.
    profile_taps: Vec<f32>,
    count: Dense,
    /// The control tracks' weights in the profile head and the count head, when the model reads
    /// controls.
    control: Option<(Convolution, Dense)>,
}

/// A frozen model's outputs on a batch, added to the trained model's (ChromBPNet's bias model):
/// logits add, and log counts combine as `ln(exp(a) + exp(b))`.
#[derive(Debug, Clone, Copy)]
pub struct FrozenOutputs<'a> {
    /// Profile logits `[batch, tracks, output_length]`.
    pub logits: &'a [f32],
    /// Log counts `[batch, tasks]`.
    pub log_counts: &'a [f32],
}

/// A training batch as the kernels read it; every slice row-major.
#[derive(Debug, Clone, Copy)]
pub struct ProfileBatchRef<'a> {
    /// One-hot windows `[batch, 4, input_length]`.
    pub one_hot: &'a [f32],
    /// Observed counts `[batch, tracks, output_length]` (task-major, as the logits).
    pub counts: &'a [f32],
    /// Per example, whether its profile enters the multinomial loss (its count always does).
    pub profile_in_loss: &'a [bool],
    /// A frozen model's outputs to add, when training under one.
    pub frozen: Option<FrozenOutputs<'a>>,
    /// Control tracks `[batch, tasks × control_strands, input_length]`, for a model that reads them
    /// (`None`: zeros).
    pub control: Option<&'a [f32]>,
}

impl BpnetKernels {
    /// `model`'s layout and current weights, or why the kernels cannot run it (see
    /// [`BpnetLayout::of`]) or a weight could not be read back. Weights are read in the order of
    /// [`Bpnet::forward`], so a lazily initialised model is drawn as burn's first forward pass
    /// would draw it.
    pub fn new(model: &Bpnet) -> Result<Self, ModelError> {
        let layout = BpnetLayout::of(model)?;
        let parts = model.parts();
        let first = Convolution::read(parts.first, "first convolution")?;
        let residual = parts
            .residual
            .iter()
            .enumerate()
            .map(|(i, conv)| Convolution::read(conv, &format!("residual convolution {}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        let profile = Convolution::read(parts.profile, "profile convolution")?;
        let count_weight = read(parts.count.weight.val(), "count layer")?;
        let count_bias = match &parts.count.bias {
            Some(bias) => read(bias.val(), "count layer")?,
            None => vec![0.0; layout.tasks],
        };
        let count = Dense {
            inputs: layout.filters,
            outputs: layout.tasks,
            weight: count_weight,
            bias: count_bias,
            weight_id: parts.count.weight.id,
            bias_id: parts.count.bias.as_ref().map(|bias| bias.id),
        };
        let (tracks, width, filters) = (profile.outputs, profile.width, profile.inputs);
        let mut profile_taps = vec![0.0; tracks * width * filters];
        for r in 0..tracks {
            for c in 0..filters {
                for k in 0..width {
                    profile_taps[(r * width + k) * filters + c] = profile.weight[(r * filters + c) * width + k];
                }
            }
        }
        let control = match (parts.control_profile, parts.control_count) {
            (Some(conv), Some(dense)) => {
                let conv = Convolution::read(conv, "control profile weights")?;
                let dense = Dense {
                    inputs: layout.tasks,
                    outputs: layout.tasks,
                    weight: read(dense.weight.val(), "control count weights")?,
                    bias: vec![0.0; layout.tasks],
                    weight_id: dense.weight.id,
                    bias_id: None,
                };
                Some((conv, dense))
            }
            _ => None,
        };
        Ok(BpnetKernels { layout, first, residual, profile, profile_taps, count, control })
    }

    /// The shapes the kernels run.
    pub fn layout(&self) -> &BpnetLayout {
        &self.layout
    }

    /// Profile logits `[batch, tracks, output_length]` and log counts `[batch, tasks]` of one-hot
    /// windows `[batch, 4, input_length]`, as [`Bpnet::forward`] gives them.
    pub fn forward(&self, one_hot: &[f32]) -> Result<(Vec<f32>, Vec<f32>), ModelError> {
        self.forward_with_control(one_hot, None)
    }

    /// [`BpnetKernels::forward`] with control tracks `[batch, tasks × control_strands,
    /// input_length]`, as [`Bpnet::forward_with_control`] gives them.
    pub fn forward_with_control(
        &self,
        one_hot: &[f32],
        control: Option<&[f32]>,
    ) -> Result<(Vec<f32>, Vec<f32>), ModelError> {
        let per_example = BASES * self.layout.input_length;
        if !one_hot.len().is_multiple_of(per_example) {
            return Err(self.wrong_length("one-hot input", one_hot.len(), per_example));
        }
        let size = one_hot.len() / per_example;
        let per_control = self.check_control(control, size)?;
        let parts = one_hot
            .par_chunks(per_example * GRADIENT_CHUNK)
            .enumerate()
            .map(|(chunk, inputs)| -> Result<(Vec<f32>, Vec<f32>), ModelError> {
                let mut scratch = Scratch::new(&self.layout);
                let (mut logits, mut log_counts) = (Vec::new(), Vec::new());
                for (i, input) in inputs.chunks(per_example).enumerate() {
                    let n = chunk * GRADIENT_CHUNK + i;
                    let control = control.map(|c| &c[n * per_control..(n + 1) * per_control]);
                    self.forward_example(input, control, &mut scratch)?;
                    logits.extend_from_slice(&scratch.logits);
                    log_counts.extend_from_slice(&scratch.log_counts);
                }
                Ok((logits, log_counts))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (mut logits, mut log_counts) = (Vec::new(), Vec::new());
        for (l, c) in parts {
            logits.extend(l);
            log_counts.extend(c);
        }
        Ok((logits, log_counts))
    }

    /// The profile loss of a batch, without the multinomial NLL's constant terms, and the gradient
    /// of every parameter (registered under the parameters' ids, on `device`).
    ///
    /// The loss is `omix_train::objective::profile_loss` on [`Bpnet::forward`]'s outputs (with the
    /// frozen outputs added as `omix_train::profile::add_bias` adds them): per task and example in
    /// the profile loss, the multinomial NLL of the counts under the softmax over the task's
    /// strands × positions, averaged over those examples and the tasks; plus `count_weight` × the
    /// mean over examples and tasks of `(log count − ln(1 + total))²`.
    pub fn loss_and_gradients(
        &self,
        batch: &ProfileBatchRef<'_>,
        count_weight: f64,
        device: &Device,
    ) -> Result<(f64, GradientsParams), ModelError> {
        let layout = &self.layout;
        let size = batch.profile_in_loss.len();
        let (input_size, output_size) = (BASES * layout.input_length, layout.tracks() * layout.output_length);
        if batch.one_hot.len() != size * input_size {
            return Err(self.wrong_length("one-hot input", batch.one_hot.len(), size * input_size));
        }
        if batch.counts.len() != size * output_size {
            return Err(self.wrong_length("counts", batch.counts.len(), size * output_size));
        }
        if let Some(frozen) = batch.frozen {
            if frozen.logits.len() != size * output_size {
                return Err(self.wrong_length("frozen logits", frozen.logits.len(), size * output_size));
            }
            if frozen.log_counts.len() != size * layout.tasks {
                return Err(self.wrong_length("frozen log counts", frozen.log_counts.len(), size * layout.tasks));
            }
        }
        let per_control = self.check_control(batch.control, size)?;
        let in_profile = batch.profile_in_loss.iter().filter(|&&p| p).count();
        let scales = LossScales {
            profile: 1.0 / (in_profile.max(1) * layout.tasks) as f64,
            count: count_weight / (size.max(1) * layout.tasks) as f64,
        };
        let chunks: Vec<(f64, Gradients)> = (0..size)
            .into_par_iter()
            .chunks(GRADIENT_CHUNK)
            .map(|examples| -> Result<(f64, Gradients), ModelError> {
                let mut gradients = self.zero_gradients();
                let mut scratch = Scratch::new(layout);
                let mut loss = 0.0;
                for n in examples {
                    let control = batch.control.map(|c| &c[n * per_control..(n + 1) * per_control]);
                    self.forward_example(&batch.one_hot[n * input_size..(n + 1) * input_size], control, &mut scratch)?;
                    let frozen = batch.frozen.map(|frozen| FrozenOutputs {
                        logits: &frozen.logits[n * output_size..(n + 1) * output_size],
                        log_counts: &frozen.log_counts[n * layout.tasks..(n + 1) * layout.tasks],
                    });
                    let counts = &batch.counts[n * output_size..(n + 1) * output_size];
                    let profile = batch.profile_in_loss[n];
                    loss += self.output_gradients(counts, profile, frozen, scales, &mut scratch);
                    self.backward_example(profile, control, &mut scratch, &mut gradients)?;
                }
                Ok((loss, gradients))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Summed in chunk order: the same additions on every run, whatever rayon's work stealing did.
        let mut loss = 0.0;
        let mut total = self.zero_gradients();
        for (part, gradients) in chunks {
            loss += part;
            total.add(&gradients);
        }
        Ok((loss, self.register(total, device)))
    }

    /// Values per example of the control tracks `control` holds for `size` examples, or why they
    /// do not fit the model (a model without controls takes none).
    fn check_control(&self, control: Option<&[f32]>, size: usize) -> Result<usize, ModelError> {
        let per_control = self.layout.control_tracks() * self.layout.input_length;
        match control {
            Some(_) if per_control == 0 => {
                Err(ModelError::Invalid("BPNet kernels: control tracks given to a model that reads none".into()))
            }
            Some(values) if values.len() != size * per_control => {
                Err(self.wrong_length("control tracks", values.len(), size * per_control))
            }
            _ => Ok(per_control),
        }
    }

    fn wrong_length(&self, what: &str, got: usize, want: usize) -> ModelError {
        ModelError::Invalid(format!(
            "BPNet kernels: {what} holds {got} values where {want} were expected (input {}, output {}, {} tracks)",
            self.layout.input_length,
            self.layout.output_length,
            self.layout.tracks()
        ))
    }

    fn zero_gradients(&self) -> Gradients {
        let conv = |c: &Convolution| Pair { weight: vec![0.0; c.weight.len()], bias: vec![0.0; c.outputs] };
        Gradients {
            first: conv(&self.first),
            residual: self.residual.iter().map(conv).collect(),
            profile: conv(&self.profile),
            count: Pair { weight: vec![0.0; self.count.weight.len()], bias: vec![0.0; self.count.outputs] },
            control: self.control.as_ref().map(|(conv, dense)| {
                (
                    Pair { weight: vec![0.0; conv.weight.len()], bias: Vec::new() },
                    Pair { weight: vec![0.0; dense.weight.len()], bias: Vec::new() },
                )
            }),
        }
    }

    /// The gradients as burn's, one per parameter, in burn's layouts.
    fn register(&self, gradients: Gradients, device: &Device) -> GradientsParams {
        let mut params = GradientsParams::new();
        let convs = std::iter::once(&self.first).chain(&self.residual).chain(std::iter::once(&self.profile));
        let pairs =
            std::iter::once(gradients.first).chain(gradients.residual).chain(std::iter::once(gradients.profile));
        for (conv, pair) in convs.zip(pairs) {
            let shape = [conv.outputs, conv.inputs, conv.width];
            params.register(conv.weight_id, Tensor::<3>::from_data(TensorData::new(pair.weight, shape), device));
            if let Some(id) = conv.bias_id {
                params.register(id, Tensor::<1>::from_data(TensorData::new(pair.bias, [conv.outputs]), device));
            }
        }
        let (dense, pair) = (&self.count, gradients.count);
        let shape = [dense.inputs, dense.outputs];
        params.register(dense.weight_id, Tensor::<2>::from_data(TensorData::new(pair.weight, shape), device));
        if let Some(id) = dense.bias_id {
            params.register(id, Tensor::<1>::from_data(TensorData::new(pair.bias, [dense.outputs]), device));
        }
        if let (Some((conv, dense)), Some((conv_pair, dense_pair))) = (&self.control, gradients.control) {
            let shape = [conv.outputs, conv.inputs, conv.width];
            params.register(conv.weight_id, Tensor::<3>::from_data(TensorData::new(conv_pair.weight, shape), device));
            let shape = [dense.inputs, dense.outputs];
            params.register(dense.weight_id, Tensor::<2>::from_data(TensorData::new(dense_pair.weight, shape), device));
        }
        params
    }
}

/// What multiplies each example's NLL and squared count error in the batch loss.
#[derive(Debug, Clone, Copy)]
struct LossScales {
    /// `1 / (examples in the profile loss · tasks)`.
    profile: f64,
    /// `count_weight / (examples · tasks)`.
    count: f64,
}

/// A weight and bias gradient.
#[derive(Debug, Clone)]
struct Pair {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

/// Gradients in burn's layouts, summed over examples.
#[derive(Debug, Clone)]
struct Gradients {
    first: Pair,
    residual: Vec<Pair>,
    profile: Pair,
    count: Pair,
    /// The control weights' (profile head, count head; no biases).
    control: Option<(Pair, Pair)>,
}

impl Gradients {
    fn add(&mut self, other: &Gradients) {
        if let (Some((a_conv, a_dense)), Some((b_conv, b_dense))) = (&mut self.control, &other.control) {
            a_conv.weight.iter_mut().zip(&b_conv.weight).for_each(|(a, b)| *a += b);
            a_dense.weight.iter_mut().zip(&b_dense.weight).for_each(|(a, b)| *a += b);
        }
        let mine = std::iter::once(&mut self.first)
            .chain(self.residual.iter_mut())
            .chain([&mut self.profile, &mut self.count]);
        let theirs = std::iter::once(&other.first).chain(&other.residual).chain([&other.profile, &other.count]);
        for (a, b) in mine.zip(theirs) {
            a.weight.iter_mut().zip(&b.weight).for_each(|(a, b)| *a += b);
            a.bias.iter_mut().zip(&b.bias).for_each(|(a, b)| *a += b);
        }
    }
}

/// One example's activations and gradients, reused from example to example.
struct Scratch {
    /// The first convolution's im2col matrix `[4 · first_width, L]`.
    columns: Vec<f32>,
    /// The representation after the first convolution and after each residual layer: `[F, L]` each.
    x: Vec<Vec<f32>>,
    /// Each residual layer's ReLU output `[F, L]` (its mask is where it is positive).
    y: Vec<Vec<f32>>,
    /// The profile head's per-tap products `[tracks · W, window]` (forward), then the shifted
    /// copies of the logits' gradient (backward).
    taps: Vec<f32>,
    /// Profile logits `[tracks, L_out]` (the model's own, before any frozen outputs).
    logits: Vec<f32>,
    /// The count head's window means `[F]`.
    pooled: Vec<f32>,
    /// Log counts `[tasks]` (the model's own).
    log_counts: Vec<f32>,
    /// Each task's `ln(1 + control total)` over the count window (with controls).
    control_features: Vec<f32>,
    /// Gradient of the loss with respect to the logits `[tracks, L_out]`.
    logits_gradient: Vec<f32>,
    /// Gradient with respect to the log counts `[tasks]`.
    counts_gradient: Vec<f32>,
    /// Gradient with respect to the current representation `[F, L]`.
    x_gradient: Vec<f32>,
    /// Gradient with respect to a convolution's output before its ReLU `[F, L]`.
    z_gradient: Vec<f32>,
}

impl Scratch {
    fn new(layout: &BpnetLayout) -> Self {
        let (f, l) = (layout.filters, layout.input_length);
        let (_, window) = layout.profile_window();
        let tracks = layout.tracks();
        Scratch {
            columns: vec![0.0; BASES * layout.first_width * l],
            x: vec![vec![0.0; f * l]; layout.dilations.len() + 1],
            y: vec![vec![0.0; f * l]; layout.dilations.len()],
            taps: vec![0.0; tracks * layout.profile_width * window],
            logits: vec![0.0; tracks * layout.output_length],
            pooled: vec![0.0; f],
            log_counts: vec![0.0; layout.tasks],
            control_features: vec![0.0; layout.tasks],
            logits_gradient: vec![0.0; tracks * layout.output_length],
            counts_gradient: vec![0.0; layout.tasks],
            x_gradient: vec![0.0; f * l],
            z_gradient: vec![0.0; f * l],
        }
    }
}

impl Layout {
    /// Columns `from..from + columns` of `rows` rows of length `row_length` (row-major).
    fn columns_of(rows: usize, row_length: usize, from: usize, columns: usize) -> Self {
        Layout { offset: from, rows, columns, row_stride: row_length, column_stride: 1 }
    }
}

/// `c ← a · b + beta · c` (`beta` 0 or 1), every matrix a strided view into its slice.
fn matmul(a: (&[f32], Layout), b: (&[f32], Layout), beta: f32, c: (&mut [f32], Layout)) -> Result<(), ModelError> {
    crate::gemm::product(a, b, c, beta != 0.0).map_err(|error| ModelError::Invalid(format!("BPNet kernels: {error}")))
}

/// For a tap that reads input position `p + offset − padding` at output position `p` of a length-
/// `length` signal (zeros outside): the first output position that reads inside, how many do, and
/// the input position the first reads.
fn tap_range(length: usize, offset: usize, padding: usize) -> Option<(usize, usize, usize)> {
    let from = padding.saturating_sub(offset);
    let to = (length + padding).saturating_sub(offset).min(length);
    (from < to).then(|| (from, to - from, from + offset - padding))
}

/// `rows` of `row_length`, each filled with its value of `values`.
fn fill_rows(out: &mut [f32], values: &[f32], row_length: usize) {
    for (row, &value) in out.chunks_mut(row_length).zip(values) {
        row.fill(value);
    }
}

/// Adds each row's sum (in f64, then rounded) to `sums`.
fn add_row_sums(sums: &mut [f32], rows: &[f32], row_length: usize) {
    for (sum, row) in sums.iter_mut().zip(rows.chunks(row_length)) {
        *sum += row.iter().map(|&v| f64::from(v)).sum::<f64>() as f32;
    }
}

impl BpnetKernels {
    /// One example's forward pass; keeps in `s` what the backward pass needs, and its logits and
    /// log counts.
    fn forward_example(&self, input: &[f32], control: Option<&[f32]>, s: &mut Scratch) -> Result<(), ModelError> {
        let layout = &self.layout;
        let (f, l) = (layout.filters, layout.input_length);

        // First convolution: im2col, columns[(c, k), p] = input[c, p + k − padding].
        let first = &self.first;
        let padding = first.padding();
        for c in 0..BASES {
            for k in 0..first.width {
                let row = &mut s.columns[(c * first.width + k) * l..(c * first.width + k + 1) * l];
                row.fill(0.0);
                if let Some((from, count, source)) = tap_range(l, k, padding) {
                    row[from..from + count].copy_from_slice(&input[c * l + source..c * l + source + count]);
                }
            }
        }
        let x0 = &mut s.x[0];
        fill_rows(x0, &first.bias, l);
        let weights = Layout {
            offset: 0,
            rows: f,
            columns: BASES * first.width,
            row_stride: BASES * first.width,
            column_stride: 1,
        };
        matmul(
            (&first.weight, weights),
            (&s.columns, Layout::columns_of(BASES * first.width, l, 0, l)),
            1.0,
            (x0, Layout::columns_of(f, l, 0, l)),
        )?; // [F, L]
        x0.iter_mut().for_each(|v| *v = v.max(0.0));

        // Residual layers: x ← x + relu(conv(x)), each tap one product on shifted columns.
        for (i, conv) in self.residual.iter().enumerate() {
            let (before, after) = s.x.split_at_mut(i + 1);
            let (previous, next) = (&before[i], &mut after[0]);
            let y = &mut s.y[i];
            fill_rows(y, &conv.bias, l);
            for k in 0..conv.width {
                let Some((from, count, source)) = tap_range(l, k * conv.dilation, conv.padding()) else { continue };
                matmul(
                    (&conv.weight, conv.tap(k)),
                    (previous, Layout::columns_of(f, l, source, count)),
                    1.0,
                    (y, Layout::columns_of(f, l, from, count)),
                )?; // [F, L]
            }
            for ((out, &x), y) in next.iter_mut().zip(previous.iter()).zip(y.iter_mut()) {
                *y = y.max(0.0);
                *out = x + *y;
            }
        }
        let x = &s.x[layout.dilations.len()];

        // Profile head: per-tap products over the window the output reads, then diagonal sums.
        let profile = &self.profile;
        let (tracks, width, length) = (profile.outputs, profile.width, layout.output_length);
        let (start, window) = layout.profile_window();
        let taps = Layout { offset: 0, rows: tracks * width, columns: f, row_stride: f, column_stride: 1 };
        matmul(
            (&self.profile_taps, taps),
            (x, Layout::columns_of(f, l, start, window)),
            0.0,
            (&mut s.taps, Layout::columns_of(tracks * width, window, 0, window)),
        )?; // [T·S·W, window]
        for r in 0..tracks {
            let logits = &mut s.logits[r * length..(r + 1) * length];
            logits.fill(profile.bias[r]);
            for k in 0..width {
                let row = &s.taps[(r * width + k) * window + k..(r * width + k) * window + k + length];
                logits.iter_mut().zip(row).for_each(|(a, b)| *a += b);
            }
        }

        // Count head: the window mean, then the dense layer.
        let (start, span) = layout.count_window();
        for (pooled, row) in s.pooled.iter_mut().zip(x.chunks(l)) {
            *pooled = (row[start..start + span].iter().map(|&v| f64::from(v)).sum::<f64>() / span as f64) as f32;
        }
        let count = &self.count;
        s.log_counts.copy_from_slice(&count.bias);
        for (i, &pooled) in s.pooled.iter().enumerate() {
            for (out, &w) in s.log_counts.iter_mut().zip(&count.weight[i * count.outputs..(i + 1) * count.outputs]) {
                *out += pooled * w;
            }
        }
        if let (Some((conv, dense)), Some(control)) = (&self.control, control) {
            self.control_forward(conv, dense, control, s);
        }
        Ok(())
    }

    /// Adds the control tracks' terms to the example's logits and log counts: the profile head's
    /// convolution over the control channels (cropped as the logits are) and each task's
    /// `ln(1 + control total)` through the count head's control weights.
    fn control_forward(&self, conv: &Convolution, dense: &Dense, control: &[f32], s: &mut Scratch) {
        let layout = &self.layout;
        let (l, length, width) = (layout.input_length, layout.output_length, conv.width);
        let (start, _) = layout.profile_window();
        for r in 0..conv.outputs {
            let logits = &mut s.logits[r * length..(r + 1) * length];
            for c in 0..conv.inputs {
                let row = &control[c * l..(c + 1) * l];
                for k in 0..width {
                    let w = conv.weight[(r * conv.inputs + c) * width + k];
                    let shifted = &row[start + k..start + k + length];
                    logits.iter_mut().zip(shifted).for_each(|(a, &b)| *a += w * b);
                }
            }
        }
        let (from, span) = layout.count_window();
        let strands = layout.control_strands;
        for t in 0..layout.tasks {
            let total: f64 = (t * strands..(t + 1) * strands)
                .map(|c| control[c * l + from..c * l + from + span].iter().map(|&v| f64::from(v)).sum::<f64>())
                .sum();
            s.control_features[t] = total.ln_1p() as f32;
        }
        for (t, &feature) in s.control_features.iter().enumerate() {
            for (out, &w) in s.log_counts.iter_mut().zip(&dense.weight[t * dense.outputs..(t + 1) * dense.outputs]) {
                *out += feature * w;
            }
        }
    }

    /// The example's share of the batch loss (scaled as the batch mean scales it), leaving the
    /// gradients with respect to its logits and log counts in `s`.
    fn output_gradients(
        &self,
        counts: &[f32],
        profile_in_loss: bool,
        frozen: Option<FrozenOutputs<'_>>,
        scales: LossScales,
        s: &mut Scratch,
    ) -> f64 {
        let layout = &self.layout;
        let per_task = layout.strands * layout.output_length;
        let mut loss = 0.0;
        for t in 0..layout.tasks {
            let range = t * per_task..(t + 1) * per_task;
            let observed = &counts[range.clone()];
            let total: f64 = observed.iter().map(|&v| f64::from(v)).sum();
            if profile_in_loss {
                // NLL = N · logsumexp(z) − Σ k·z; its gradient N · softmax(z) − k.
                let logit = |j: usize| -> f64 {
                    let own = f64::from(s.logits[range.start + j]);
                    own + frozen.map_or(0.0, |frozen| f64::from(frozen.logits[range.start + j]))
                };
                let max = (0..per_task).map(logit).fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = (0..per_task).map(|j| (logit(j) - max).exp()).sum();
                let log_sum = max + sum.ln();
                let dot: f64 = (0..per_task).map(|j| f64::from(observed[j]) * logit(j)).sum();
                loss += scales.profile * (total * log_sum - dot);
                for (j, (gradient, &k)) in s.logits_gradient[range.clone()].iter_mut().zip(observed).enumerate() {
                    let softmax = (logit(j) - log_sum).exp();
                    *gradient = (scales.profile * (total * softmax - f64::from(k))) as f32;
                }
            }
            // Squared error of the (combined) log count against ln(1 + N).
            let own = f64::from(s.log_counts[t]);
            let (combined, share) = match frozen {
                Some(frozen) => {
                    let other = f64::from(frozen.log_counts[t]);
                    let max = own.max(other);
                    let (a, b) = ((own - max).exp(), (other - max).exp());
                    (max + (a + b).ln(), a / (a + b))
                }
                None => (own, 1.0),
            };
            let error = combined - total.ln_1p();
            loss += scales.count * error * error;
            s.counts_gradient[t] = (scales.count * 2.0 * error * share) as f32;
        }
        loss
    }

    /// One example's backward pass from the output gradients in `s`, adding the parameters'
    /// gradients to `g`. The profile head is skipped for an example outside the profile loss.
    fn backward_example(
        &self,
        profile_in_loss: bool,
        control: Option<&[f32]>,
        s: &mut Scratch,
        g: &mut Gradients,
    ) -> Result<(), ModelError> {
        let layout = &self.layout;
        let (f, l) = (layout.filters, layout.input_length);
        let layers = layout.dilations.len();
        s.x_gradient.fill(0.0);

        // Control weights (the control tracks are data: they need no gradient).
        if let (Some((conv, dense)), Some(control), Some((conv_gradient, dense_gradient))) =
            (&self.control, control, g.control.as_mut())
        {
            for (t, &feature) in s.control_features.iter().enumerate() {
                let row = &mut dense_gradient.weight[t * dense.outputs..(t + 1) * dense.outputs];
                row.iter_mut().zip(&s.counts_gradient).for_each(|(a, &b)| *a += feature * b);
            }
            if profile_in_loss {
                let (length, width) = (layout.output_length, conv.width);
                let (start, _) = layout.profile_window();
                for r in 0..conv.outputs {
                    let upstream = &s.logits_gradient[r * length..(r + 1) * length];
                    for c in 0..conv.inputs {
                        let row = &control[c * l..(c + 1) * l];
                        for k in 0..width {
                            let shifted = &row[start + k..start + k + length];
                            let sum: f64 = upstream.iter().zip(shifted).map(|(&a, &b)| f64::from(a * b)).sum();
                            conv_gradient.weight[(r * conv.inputs + c) * width + k] += sum as f32;
                        }
                    }
                }
            }
        }

        // Count head.
        let count = &self.count;
        let (start, span) = layout.count_window();
        for (i, &pooled) in s.pooled.iter().enumerate() {
            let weights = &count.weight[i * count.outputs..(i + 1) * count.outputs];
            let mut pooled_gradient = 0.0f32;
            for ((grad, &w), &upstream) in g.count.weight[i * count.outputs..(i + 1) * count.outputs]
                .iter_mut()
                .zip(weights)
                .zip(&s.counts_gradient)
            {
                *grad += pooled * upstream;
                pooled_gradient += w * upstream;
            }
            let share = pooled_gradient / span as f32;
            s.x_gradient[i * l + start..i * l + start + span].iter_mut().for_each(|v| *v += share);
        }
        g.count.bias.iter_mut().zip(&s.counts_gradient).for_each(|(a, b)| *a += b);

        // Profile head: taps[(r, k), q] = logits_gradient[r, q − k] (zero outside).
        if profile_in_loss {
            let profile = &self.profile;
            let (tracks, width, length) = (profile.outputs, profile.width, layout.output_length);
            let (from, window) = layout.profile_window();
            add_row_sums(&mut g.profile.bias, &s.logits_gradient, length);
            for r in 0..tracks {
                for k in 0..width {
                    let row = &mut s.taps[(r * width + k) * window..(r * width + k + 1) * window];
                    row[..k].fill(0.0);
                    row[k..k + length].copy_from_slice(&s.logits_gradient[r * length..(r + 1) * length]);
                    row[k + length..].fill(0.0);
                }
            }
            let x = &s.x[layers];
            // Weight gradient: for each track r, [W, window] · [window, F] into [F, W] of weight[r].
            for r in 0..tracks {
                matmul(
                    (&s.taps, Layout::columns_of(width, window, r * width * window, window)),
                    (x, Layout::columns_of(f, l, from, window).transposed()),
                    1.0,
                    (
                        &mut g.profile.weight,
                        Layout { offset: r * f * width, rows: width, columns: f, row_stride: 1, column_stride: width },
                    ),
                )?;
            }
            // Input gradient: [F, T·S·W] · [T·S·W, window].
            let taps = Layout { offset: 0, rows: tracks * width, columns: f, row_stride: f, column_stride: 1 };
            matmul(
                (&self.profile_taps, taps.transposed()),
                (&s.taps, Layout::columns_of(tracks * width, window, 0, window)),
                1.0,
                (&mut s.x_gradient, Layout::columns_of(f, l, from, window)),
            )?;
        }

        // Residual layers, last first: x_i = x_{i−1} + relu(z_i).
        for (i, conv) in self.residual.iter().enumerate().rev() {
            for ((gz, &gx), &y) in s.z_gradient.iter_mut().zip(&s.x_gradient).zip(&s.y[i]) {
                *gz = if y > 0.0 { gx } else { 0.0 };
            }
            let pair = &mut g.residual[i];
            add_row_sums(&mut pair.bias, &s.z_gradient, l);
            let previous = &s.x[i];
            for k in 0..conv.width {
                let Some((from, count, source)) = tap_range(l, k * conv.dilation, conv.padding()) else { continue };
                matmul(
                    (&s.z_gradient, Layout::columns_of(f, l, from, count)),
                    (previous, Layout::columns_of(f, l, source, count).transposed()),
                    1.0,
                    (&mut pair.weight, conv.tap(k)),
                )?;
                matmul(
                    (&conv.weight, conv.tap(k).transposed()),
                    (&s.z_gradient, Layout::columns_of(f, l, from, count)),
                    1.0,
                    (&mut s.x_gradient, Layout::columns_of(f, l, source, count)),
                )?;
            }
        }

        // First convolution (the input needs no gradient).
        let first = &self.first;
        for ((gz, &gx), &x) in s.z_gradient.iter_mut().zip(&s.x_gradient).zip(&s.x[0]) {
            *gz = if x > 0.0 { gx } else { 0.0 };
        }
        add_row_sums(&mut g.first.bias, &s.z_gradient, l);
        let columns = BASES * first.width;
        matmul(
            (&s.z_gradient, Layout::columns_of(f, l, 0, l)),
            (&s.columns, Layout::columns_of(columns, l, 0, l).transposed()),
            1.0,
            (&mut g.first.weight, Layout::columns_of(f, columns, 0, columns)),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BpnetConfig, ProfileShape};
    use burn::tensor::activation::log_softmax;

    type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

    fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
        tensor.into_data().try_to_vec().unwrap_or_default()
    }

    /// A small linear congruential generator: the tests' inputs, independent of burn's.
    struct Draw(u64);

    impl Draw {
        fn unit(&mut self) -> f32 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((self.0 >> 40) as f32) / (1u64 << 24) as f32
        }

        fn below(&mut self, n: usize) -> usize {
            ((self.unit() * n as f32) as usize).min(n - 1)
        }
    }

    /// `omix_train::objective::profile_loss` on the outputs combined as `omix_train::profile::add_bias`
    /// combines them (omix-models cannot depend on omix-train; the two are copied here as they stand).
    fn reference_loss(
        logits: Tensor<3>,
        log_counts: Tensor<2>,
        counts: Tensor<3>,
        peaks: Tensor<1>,
        frozen: Option<(Tensor<3>, Tensor<2>)>,
        tasks: usize,
        count_weight: f64,
    ) -> Tensor<1> {
        let (logits, log_counts) = match frozen {
            Some((bias_logits, bias_log_counts)) => {
                let logits = logits + bias_logits;
                let max = log_counts.clone().detach().max_pair(bias_log_counts.clone());
                let counts = max.clone() + ((log_counts - max.clone()).exp() + (bias_log_counts - max).exp()).log();
                (logits, counts)
            }
            None => (logits, log_counts),
        };
        let [batch, tracks, length] = logits.dims();
        let per_task = tracks / tasks * length;
        let logits = logits.reshape([batch, tasks, per_task]);
        let counts = counts.reshape([batch, tasks, per_task]);
        let totals = counts.clone().sum_dim(2).reshape([batch, tasks]);
        let nll = (log_softmax(logits, 2) * counts).sum_dim(2).reshape([batch, tasks]).neg();
        let peak_count = peaks.clone().sum().clamp_min(1.0);
        let profile = (nll * peaks.reshape([batch, 1])).sum().div(peak_count).div_scalar(tasks as f64);
        let count_error = (log_counts - totals.add_scalar(1.0).log()).powi_scalar(2);
        profile + count_error.mean().mul_scalar(count_weight)
    }

    /// A model, batch and loss settings to compare on.
    struct Case {
        config: BpnetConfig,
        shape: ProfileShape,
        batch: usize,
        /// Every `peak_every`-th example is in the profile loss (0: none).
        peak_every: usize,
        frozen: bool,
        count_weight: f64,
        seed: u64,
    }

    /// A batch for `shape`: one-hot windows, counts (small integers), the profile-loss mask and,
    /// when asked, frozen outputs.
    struct Batch {
        one_hot: Vec<f32>,
        counts: Vec<f32>,
        peaks: Vec<bool>,
        frozen: Option<(Vec<f32>, Vec<f32>)>,
        /// Control tracks `[batch, control tracks, input_length]` when the shape has controls.
        control: Option<Vec<f32>>,
    }

    fn batch(case: &Case) -> Batch {
        let shape = case.shape;
        let mut draw = Draw(case.seed);
        let mut one_hot = vec![0.0f32; case.batch * 4 * shape.input_length];
        for n in 0..case.batch {
            for p in 0..shape.input_length {
                one_hot[(n * 4 + draw.below(4)) * shape.input_length + p] = 1.0;
            }
        }
        let outputs = case.batch * shape.tracks() * shape.output_length;
        let counts = (0..outputs).map(|_| draw.below(5).saturating_sub(2) as f32).collect();
        let peaks = (0..case.batch).map(|n| case.peak_every > 0 && n % case.peak_every == 0).collect();
        let frozen = case.frozen.then(|| {
            let logits = (0..outputs).map(|_| 2.0 * draw.unit() - 1.0).collect();
            let log_counts = (0..case.batch * shape.tasks).map(|_| 3.0 * draw.unit()).collect();
            (logits, log_counts)
        });
        let control = (shape.control_strands > 0).then(|| {
            (0..case.batch * shape.control_tracks() * shape.input_length).map(|_| draw.below(4) as f32).collect()
        });
        Batch { one_hot, counts, peaks, frozen, control }
    }

    /// Every parameter of `model` with its rank, in the order of [`Bpnet::forward`].
    fn parameters(model: &Bpnet) -> Vec<(ParamId, usize)> {
        let parts = model.parts();
        let mut ids = Vec::new();
        for conv in std::iter::once(parts.first).chain(parts.residual).chain(std::iter::once(parts.profile)) {
            ids.push((conv.weight.id, 3));
            ids.extend(conv.bias.as_ref().map(|bias| (bias.id, 1)));
        }
        ids.push((parts.count.weight.id, 2));
        ids.extend(parts.count.bias.as_ref().map(|bias| (bias.id, 1)));
        ids.extend(parts.control_profile.map(|conv| (conv.weight.id, 3)));
        ids.extend(parts.control_count.map(|dense| (dense.weight.id, 2)));
        ids
    }

    fn take(grads: &mut GradientsParams, id: ParamId, rank: usize) -> Option<Vec<f32>> {
        match rank {
            3 => grads.remove::<3>(id).map(values),
            2 => grads.remove::<2>(id).map(values),
            _ => grads.remove::<1>(id).map(values),
        }
    }

    /// Within 1e-4 of the largest magnitude of `theirs` (elementwise relative error is meaningless
    /// for entries that cancel to near zero), and that at least 0.05: a gradient that vanishes in
    /// theory (the profile bias of a one-strand task, as the softmax ignores a shift) is the
    /// rounding noise of terms of order one on both sides.
    fn assert_close(ours: &[f32], theirs: &[f32], what: &str) {
        assert_eq!(ours.len(), theirs.len(), "{what}: lengths");
        let scale = theirs.iter().fold(0f32, |m, v| m.max(v.abs())).max(0.05);
        for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
            assert!((a - b).abs() <= 1e-4 * scale, "{what}[{i}]: {a} vs {b} (largest {scale})");
        }
    }

    /// The kernels' loss and every gradient against burn's autodiff on the same model and batch.
    fn check(case: &Case) -> TestResult {
        let (plain, _lock) = crate::test_device();
        let device = plain.clone().autodiff();
        device.seed(case.seed);
        // Control weights start at zero; drawn here so that their terms reach the outputs.
        let model = case.config.init(case.shape, &device)?.with_random_control(case.seed);
        let kernels = BpnetKernels::new(&model)?;
        let data = batch(case);
        let frozen = data.frozen.as_ref().map(|(logits, log_counts)| FrozenOutputs { logits, log_counts });
        let view = ProfileBatchRef {
            one_hot: &data.one_hot,
            counts: &data.counts,
            profile_in_loss: &data.peaks,
            frozen,
            control: data.control.as_deref(),
        };
        let (loss, mut grads) = kernels.loss_and_gradients(&view, case.count_weight, &plain)?;

        let shape = case.shape;
        let (b, tracks, output) = (case.batch, shape.tracks(), shape.output_length);
        let x = Tensor::<3>::from_data(TensorData::new(data.one_hot.clone(), [b, 4, shape.input_length]), &device);
        let y = Tensor::<3>::from_data(TensorData::new(data.counts.clone(), [b, tracks, output]), &device);
        let peaks: Vec<f32> = data.peaks.iter().map(|&p| f32::from(u8::from(p))).collect();
        let peaks = Tensor::<1>::from_data(TensorData::new(peaks, [b]), &device);
        let frozen = data.frozen.clone().map(|(logits, log_counts)| {
            (
                Tensor::<3>::from_data(TensorData::new(logits, [b, tracks, output]), &device),
                Tensor::<2>::from_data(TensorData::new(log_counts, [b, shape.tasks]), &device),
            )
        });
        let control = data.control.clone().map(|values| {
            Tensor::<3>::from_data(TensorData::new(values, [b, shape.control_tracks(), shape.input_length]), &device)
        });
        let (logits, log_counts) = model.forward_with_control(x, control);
        let reference = reference_loss(logits, log_counts, y, peaks, frozen, shape.tasks, case.count_weight);
        let reference_value = f64::from(reference.clone().into_scalar::<f32>());
        assert!(
            (loss - reference_value).abs() <= 1e-4 * reference_value.abs().max(1e-3),
            "loss {loss} vs burn's {reference_value}"
        );
        let mut theirs = GradientsParams::from_grads(reference.backward(), &model);
        let ids = parameters(&model);
        assert_eq!(grads.len(), ids.len(), "one gradient per parameter");
        for (index, &(id, rank)) in ids.iter().enumerate() {
            let ours = take(&mut grads, id, rank).ok_or(format!("no kernel gradient for parameter {index}"))?;
            let reference = take(&mut theirs, id, rank).ok_or(format!("no burn gradient for parameter {index}"))?;
            assert!(reference.iter().any(|&v| v != 0.0), "parameter {index}: burn's gradient is all zeros");
            assert_close(&ours, &reference, &format!("parameter {index} (rank {rank})"));
        }
        assert!(grads.is_empty(), "no gradient under an id the model does not have");
        Ok(())
    }

    #[test]
    fn one_stranded_task_without_bias_equals_burn_autodiff() -> TestResult {
        check(&Case {
            config: BpnetConfig { filters: 4, first_width: 5, layers: 2, profile_width: 7 },
            shape: ProfileShape { input_length: 40, output_length: 20, tasks: 1, strands: 1, control_strands: 0 },
            batch: 6,
            peak_every: 2,
            frozen: false,
            count_weight: 3.7,
            seed: 1,
        })
    }

    #[test]
    fn one_task_two_strands_equals_burn_autodiff() -> TestResult {
        check(&Case {
            config: BpnetConfig { filters: 6, first_width: 7, layers: 3, profile_width: 9 },
            shape: ProfileShape { input_length: 50, output_length: 24, tasks: 1, strands: 2, control_strands: 0 },
            batch: 9,
            peak_every: 1,
            frozen: false,
            count_weight: 0.5,
            seed: 2,
        })
    }

    #[test]
    fn two_tasks_under_frozen_outputs_equal_burn_autodiff() -> TestResult {
        check(&Case {
            config: BpnetConfig { filters: 5, first_width: 3, layers: 3, profile_width: 5 },
            shape: ProfileShape { input_length: 36, output_length: 16, tasks: 2, strands: 2, control_strands: 0 },
            batch: 7,
            peak_every: 3,
            frozen: true,
            count_weight: 12.0,
            seed: 3,
        })
    }

    /// Dilations 2 … 64 on a 30-base window: the widest taps read nothing but padding.
    #[test]
    fn dilations_wider_than_the_window_equal_burn_autodiff() -> TestResult {
        check(&Case {
            config: BpnetConfig { filters: 3, first_width: 7, layers: 6, profile_width: 5 },
            shape: ProfileShape { input_length: 30, output_length: 10, tasks: 2, strands: 1, control_strands: 0 },
            batch: 5,
            peak_every: 2,
            frozen: true,
            count_weight: 1.0,
            seed: 4,
        })
    }

    /// No example in the profile loss (a batch of background): the count loss alone.
    #[test]
    fn background_only_batch_equals_burn_autodiff() -> TestResult {
        let case = Case {
            config: BpnetConfig { filters: 4, first_width: 5, layers: 1, profile_width: 3 },
            shape: ProfileShape { input_length: 24, output_length: 12, tasks: 1, strands: 2, control_strands: 0 },
            batch: 4,
            peak_every: 0,
            frozen: false,
            count_weight: 2.0,
            seed: 5,
        };
        // burn's profile-head gradients are all zeros here, which `check` refuses as a sign of a
        // test that checks nothing; compare those by hand.
        let (plain, _lock) = crate::test_device();
        let device = plain.clone().autodiff();
        device.seed(case.seed);
        let model = case.config.init(case.shape, &device)?;
        let kernels = BpnetKernels::new(&model)?;
        let data = batch(&case);
        let view = ProfileBatchRef {
            one_hot: &data.one_hot,
            counts: &data.counts,
            profile_in_loss: &data.peaks,
            frozen: None,
            control: None,
        };
        let (loss, mut grads) = kernels.loss_and_gradients(&view, case.count_weight, &plain)?;
        let parts = model.parts();
        let profile = take(&mut grads, parts.profile.weight.id, 3).ok_or("profile gradient")?;
        assert!(profile.iter().all(|&v| v == 0.0));
        let shape = case.shape;
        let x = Tensor::<3>::from_data(TensorData::new(data.one_hot.clone(), [4, 4, shape.input_length]), &device);
        let y = Tensor::<3>::from_data(TensorData::new(data.counts.clone(), [4, 2, 12]), &device);
        let (logits, log_counts) = model.forward(x);
        let reference = reference_loss(logits, log_counts, y, Tensor::zeros([4], &device), None, 1, 2.0);
        let reference_value = f64::from(reference.clone().into_scalar::<f32>());
        assert!((loss - reference_value).abs() <= 1e-4 * reference_value.abs(), "{loss} vs {reference_value}");
        let mut theirs = GradientsParams::from_grads(reference.backward(), &model);
        let first = take(&mut grads, parts.first.weight.id, 3).ok_or("first")?;
        assert_close(&first, &take(&mut theirs, parts.first.weight.id, 3).ok_or("burn first")?, "first weights");
        let count = take(&mut grads, parts.count.weight.id, 2).ok_or("count")?;
        assert_close(&count, &take(&mut theirs, parts.count.weight.id, 2).ok_or("burn count")?, "count weights");
        Ok(())
    }

    /// Control tracks into both heads (two tasks, stranded controls), under a frozen model too.
    #[test]
    fn control_tracks_equal_burn_autodiff() -> TestResult {
        check(&Case {
            config: BpnetConfig { filters: 4, first_width: 5, layers: 2, profile_width: 7 },
            shape: ProfileShape { input_length: 40, output_length: 18, tasks: 2, strands: 2, control_strands: 2 },
            batch: 6,
            peak_every: 2,
            frozen: true,
            count_weight: 2.5,
            seed: 11,
        })?;
        check(&Case {
            config: BpnetConfig { filters: 3, first_width: 3, layers: 1, profile_width: 5 },
            shape: ProfileShape { input_length: 30, output_length: 14, tasks: 1, strands: 1, control_strands: 1 },
            batch: 5,
            peak_every: 1,
            frozen: false,
            count_weight: 1.0,
            seed: 12,
        })
    }

    #[test]
    fn forward_with_control_equals_burn_forward() -> TestResult {
        let (device, _lock) = crate::test_device();
        device.seed(13);
        let config = BpnetConfig { filters: 5, first_width: 5, layers: 2, profile_width: 7 };
        let shape = ProfileShape { input_length: 44, output_length: 20, tasks: 2, strands: 2, control_strands: 2 };
        let model = config.init(shape, &device)?.with_random_control(13);
        let case = Case { config, shape, batch: 6, peak_every: 1, frozen: false, count_weight: 1.0, seed: 14 };
        let data = batch(&case);
        let control = data.control.clone().ok_or("control")?;
        let (logits, log_counts) = BpnetKernels::new(&model)?.forward_with_control(&data.one_hot, Some(&control))?;
        let x = Tensor::<3>::from_data(TensorData::new(data.one_hot.clone(), [6, 4, 44]), &device);
        let c = Tensor::<3>::from_data(TensorData::new(control, [6, 4, 44]), &device);
        let (burn_logits, burn_counts) = model.forward_with_control(x.clone(), Some(c));
        assert_close(&logits, &values(burn_logits.clone()), "logits");
        assert_close(&log_counts, &values(burn_counts.clone()), "log counts");
        // The controls change both outputs (a test of nothing otherwise).
        let (plain_logits, plain_counts) = model.forward(x);
        assert!(values(plain_logits).iter().zip(values(burn_logits)).any(|(a, b)| (a - b).abs() > 1e-3));
        assert!(values(plain_counts).iter().zip(values(burn_counts)).any(|(a, b)| (a - b).abs() > 1e-3));
        // Wrong lengths are refused, naming what.
        let error = BpnetKernels::new(&model)?.forward_with_control(&data.one_hot, Some(&[0.0; 3])).err();
        assert!(error.is_some_and(|e| e.to_string().contains("control tracks")));
        Ok(())
    }

    #[test]
    fn forward_equals_burn_forward() -> TestResult {
        let (device, _lock) = crate::test_device();
        device.seed(8);
        let config = BpnetConfig { filters: 5, first_width: 5, layers: 3, profile_width: 7 };
        let shape = ProfileShape { input_length: 44, output_length: 20, tasks: 2, strands: 2, control_strands: 0 };
        let model = config.init(shape, &device)?;
        let case = Case { config, shape, batch: 6, peak_every: 1, frozen: false, count_weight: 1.0, seed: 9 };
        let data = batch(&case);
        let (logits, log_counts) = BpnetKernels::new(&model)?.forward(&data.one_hot)?;
        let x = Tensor::<3>::from_data(TensorData::new(data.one_hot, [6, 4, 44]), &device);
        let (burn_logits, burn_counts) = model.forward(x);
        assert_close(&logits, &values(burn_logits), "logits");
        assert_close(&log_counts, &values(burn_counts), "log counts");
        Ok(())
    }

    /// The same numbers, bit for bit, on one thread and on three.
    #[test]
    fn results_do_not_depend_on_the_thread_count() -> TestResult {
        let (plain, _lock) = crate::test_device();
        let device = plain.clone().autodiff();
        device.seed(10);
        let case = Case {
            config: BpnetConfig { filters: 4, first_width: 5, layers: 2, profile_width: 5 },
            shape: ProfileShape { input_length: 32, output_length: 16, tasks: 1, strands: 2, control_strands: 0 },
            batch: 11,
            peak_every: 2,
            frozen: false,
            count_weight: 5.0,
            seed: 11,
        };
        let model = case.config.init(case.shape, &device)?;
        let kernels = BpnetKernels::new(&model)?;
        let data = batch(&case);
        let view = ProfileBatchRef {
            one_hot: &data.one_hot,
            counts: &data.counts,
            profile_in_loss: &data.peaks,
            frozen: None,
            control: None,
        };
        let run = |threads: usize| -> TestResult<(f64, Vec<Vec<f32>>)> {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
            let (loss, mut grads) = pool.install(|| kernels.loss_and_gradients(&view, case.count_weight, &plain))?;
            let grads = parameters(&model).into_iter().filter_map(|(id, rank)| take(&mut grads, id, rank)).collect();
            Ok((loss, grads))
        };
        let (one, three) = (run(1)?, run(3)?);
        assert_eq!(one.0.to_bits(), three.0.to_bits());
        assert_eq!(one.1, three.1);
        Ok(())
    }

    /// Reading a fresh model's weights draws them as burn's first forward pass would.
    #[test]
    fn a_fresh_model_is_drawn_as_burn_draws_it() -> TestResult {
        let (plain, _lock) = crate::test_device();
        let device = plain.autodiff();
        let config = BpnetConfig { filters: 4, first_width: 5, layers: 2, profile_width: 5 };
        let shape = ProfileShape { input_length: 32, output_length: 16, tasks: 1, strands: 2, control_strands: 0 };
        let model = config.init(shape, &device)?;
        let layout = BpnetLayout::of(&model)?;
        assert!(!model.parts().first.weight.is_initialized(), "the layout reads no weight");
        assert_eq!(layout.dilations, vec![2, 4]);
        device.seed(12);
        let ours = BpnetKernels::new(&model)?;
        let theirs = config.init(shape, &device)?;
        device.seed(12);
        let _ = theirs.forward(Tensor::zeros([1, 4, 32], &device));
        let theirs = BpnetKernels::new(&theirs)?;
        assert_eq!(ours.first.weight, theirs.first.weight);
        assert_eq!(ours.residual[1].bias, theirs.residual[1].bias);
        assert_eq!(ours.count.weight, theirs.count.weight);
        assert_eq!(ours.count.bias, theirs.count.bias);
        Ok(())
    }

    #[test]
    fn batches_of_the_wrong_size_are_errors() -> TestResult {
        let (device, _lock) = crate::test_device();
        let config = BpnetConfig { filters: 3, first_width: 3, layers: 1, profile_width: 3 };
        let model = config.init(
            ProfileShape { input_length: 20, output_length: 10, tasks: 1, strands: 2, control_strands: 0 },
            &device,
        )?;
        let kernels = BpnetKernels::new(&model)?;
        let one_hot = vec![0.0; 2 * 4 * 20];
        let counts = [0.0; 2 * 2 * 10];
        let short = ProfileBatchRef {
            one_hot: &one_hot,
            counts: &counts[1..],
            profile_in_loss: &[true, false],
            frozen: None,
            control: None,
        };
        let error = kernels.loss_and_gradients(&short, 1.0, &device).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("counts holds 39 values where 40"), "{error}");
        assert!(kernels.forward(&one_hot[1..]).is_err());
        Ok(())
    }
}
