//! One host-side description of a sequence CNN, copied out of burn once.
//!
//! Three parts of omix run a CNN's arithmetic on plain `f32` slices rather than burn tensors:
//! the hand-written training and inference kernel ([`crate::FastPlan`]), in-silico mutagenesis
//! by local updates ([`crate::IsmPlan`]) and first-layer motif scanning ([`crate::FirstLayer`]).
//! They all build from the types here, so a weight is read back from its device in one place
//! ([`HostConv::from_conv`], [`HostDense::from_linear`], [`HostCnn::from_cnn`]), a failed read
//! is an error rather than an empty vector, and each consumer only decides which of the
//! described layers it implements. Checking that a network fits an input ([`HostCnn::check`])
//! reads shapes only: burn draws a fresh model's parameters lazily, when they are first read,
//! so reading values decides when they are drawn (see [`crate::FastPlan::new`]).
//!
//! Layouts (row-major, as burn stores them):
//! - convolution weights `[filters][channels][width]`, bias `[filters]`;
//! - dense weights `[inputs][outputs]`, bias `[outputs]`.
//!
//! Batch-norm is folded from its running statistics (inference) into a per-filter affine map
//! applied after the convolution and its bias, [`FoldedBatchNorm`]; the weights themselves are
//! left as trained. [`crate::FirstLayer`] and [`crate::IsmPlan`] use the folded map; the fast
//! kernel uses it at inference and the batch-norm's own numbers ([`HostBatchNorm`]) in training.

use std::fmt;

use burn::module::ParamId;
use burn::nn::conv::Conv1d;
use burn::nn::{BatchNorm, Linear, PaddingConfig1d};
use burn::prelude::*;

use crate::cnn::{ConvBlock, SequenceCnn};
use crate::config::{GlobalPool, ModelError};

/// A layer of a network, to name it in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layer {
    /// The convolution of block `n` (1-based).
    Convolution(usize),
    /// Hidden dense layer `n` (1-based).
    Dense(usize),
    /// Recurrent layer `n` (1-based).
    Recurrent(usize),
    /// The output layer.
    Output,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::Convolution(n) => write!(f, "convolution {n}"),
            Layer::Dense(n) => write!(f, "dense layer {n}"),
            Layer::Recurrent(n) => write!(f, "recurrent layer {n}"),
            Layer::Output => write!(f, "output layer"),
        }
    }
}

/// Copy a tensor to host memory as `f32`, naming `what` of `layer` on failure.
fn read<const D: usize>(tensor: Tensor<D>, layer: Layer, what: &str) -> Result<Vec<f32>, ModelError> {
    tensor
        .try_into_vec_as::<f32>()
        .map_err(|error| ModelError::ReadBack { tensor: format!("{what} of the {layer}"), reason: error.to_string() })
}

fn layout(layer: Layer, reason: String) -> ModelError {
    ModelError::HostLayout { layer: layer.to_string(), reason }
}

/// A batch-norm folded from its running statistics: `scale[f] · z + shift[f]` for the
/// pre-activation `z` of filter `f` (convolution plus bias), as burn computes it at inference.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FoldedBatchNorm {
    /// `gamma / sqrt(running_var + epsilon)` per filter.
    pub scale: Vec<f32>,
    /// `beta − running_mean · scale` per filter.
    pub shift: Vec<f32>,
}

impl FoldedBatchNorm {
    fn from_host(norm: &HostBatchNorm) -> Self {
        let epsilon = norm.epsilon as f32;
        let scale: Vec<f32> = norm.gamma.iter().zip(&norm.running_var).map(|(g, v)| g / (v + epsilon).sqrt()).collect();
        let shift = norm.beta.iter().zip(&norm.running_mean).zip(&scale).map(|((b, m), s)| b - m * s).collect();
        Self { scale, shift }
    }
}

/// A batch-norm as numbers: what training mode needs (batch statistics normalised by `gamma`
/// and `beta`, running statistics moved by `momentum`) beside its folded inference form.
#[derive(Debug, Clone)]
pub(crate) struct HostBatchNorm {
    /// Scale per filter.
    pub gamma: Vec<f32>,
    /// Shift per filter.
    pub beta: Vec<f32>,
    /// Running mean per filter.
    pub running_mean: Vec<f32>,
    /// Running (biased) variance per filter.
    pub running_var: Vec<f32>,
    /// Added to the variance before its square root.
    pub epsilon: f64,
    /// Weight of a batch's statistics in the running ones: `running ← running · (1 − m) + batch · m`.
    pub momentum: f64,
    /// burn's id of `gamma`, to hand gradients back.
    pub gamma_id: ParamId,
    /// burn's id of `beta`.
    pub beta_id: ParamId,
}

impl HostBatchNorm {
    fn from_norm(norm: &BatchNorm, layer: Layer) -> Result<Self, ModelError> {
        Ok(Self {
            gamma: read(norm.gamma.val(), layer, "batch-norm gamma")?,
            beta: read(norm.beta.val(), layer, "batch-norm beta")?,
            // Synced: burn keeps the last update made on this thread apart until it is read so.
            running_mean: read(norm.running_mean.value_sync(), layer, "batch-norm running mean")?,
            running_var: read(norm.running_var.value_sync(), layer, "batch-norm running variance")?,
            epsilon: norm.epsilon,
            momentum: norm.momentum,
            gamma_id: norm.gamma.id,
            beta_id: norm.beta.id,
        })
    }
}

/// A convolution's shape and padding, from its settings and the shape of its weights alone.
///
/// Reading a shape does not give a lazily initialised weight its value (burn draws a fresh
/// parameter's value from the device's random stream on its first read), so checking that a
/// network fits its input leaves a fresh model as it is; see [`HostCnn::check`].
#[derive(Debug, Clone, Copy)]
struct ConvShape {
    filters: usize,
    channels: usize,
    width: usize,
    dilation: usize,
    left: usize,
    right: usize,
}

impl ConvShape {
    /// The shape of `conv`; stride 1 and one group, as every omix model builds them (others are
    /// refused rather than described).
    fn of(conv: &Conv1d, layer: Layer) -> Result<Self, ModelError> {
        if conv.stride != 1 || conv.groups != 1 {
            return Err(layout(
                layer,
                format!(
                    "has stride {} and {} groups; only stride 1 with one group is described",
                    conv.stride, conv.groups
                ),
            ));
        }
        let [filters, channels, width] = conv.weight.lazy_shape().dims::<3>();
        // burn's "same" padding for stride 1 pads `width − 1` positions, the odd one at the end.
        let (left, right) = match conv.padding {
            PaddingConfig1d::Valid => (0, 0),
            PaddingConfig1d::Same => ((width - 1) / 2, width - 1 - (width - 1) / 2),
            PaddingConfig1d::Explicit(left, right) => (left, right),
        };
        Ok(Self { filters, channels, width, dilation: conv.dilation, left, right })
    }

    /// Positions one filter spans: `(width − 1) · dilation + 1`.
    fn span(&self) -> usize {
        (self.width.max(1) - 1) * self.dilation + 1
    }

    /// Output positions from an input of `input_length` positions (`None` when a filter does
    /// not fit even once).
    fn positions(&self, input_length: usize) -> Option<usize> {
        (input_length + self.left + self.right).checked_sub(self.span()).map(|free| free + 1)
    }
}

/// A convolution (with its batch-norm, if any) as numbers. Stride 1 and one group, as every
/// omix model builds them; others are refused rather than described.
#[derive(Debug, Clone)]
pub(crate) struct HostConv {
    /// Number of filters.
    pub filters: usize,
    /// Input channels.
    pub channels: usize,
    /// Filter width in taps.
    pub width: usize,
    /// Spacing between taps.
    pub dilation: usize,
    /// Zero padding before the first input position: output `q` reads input
    /// `q + k · dilation − left` through tap `k` (the padding after the last input position
    /// shows in the block's number of output positions, [`HostBlock::positions`]).
    pub left: usize,
    /// Weights `[filters][channels][width]`.
    pub weights: Vec<f32>,
    /// Bias `[filters]`, when the convolution has one.
    pub bias: Option<Vec<f32>>,
    /// The block's batch-norm, folded (see the module docs).
    pub batch_norm: Option<FoldedBatchNorm>,
    /// The block's batch-norm as trained (what [`crate::FastPlan`] runs in training mode).
    pub norm: Option<HostBatchNorm>,
    /// burn's id of the weights, to hand gradients back.
    pub weight_id: ParamId,
    /// burn's id of the bias.
    pub bias_id: Option<ParamId>,
}

impl HostConv {
    /// Copy `conv` (and the batch-norm after it) out of burn: its weights, then its bias.
    pub fn from_conv(conv: &Conv1d, norm: Option<&BatchNorm>, layer: Layer) -> Result<Self, ModelError> {
        let ConvShape { filters, channels, width, dilation, left, .. } = ConvShape::of(conv, layer)?;
        let weights = read(conv.weight.val(), layer, "weights")?;
        let bias = conv.bias.as_ref().map(|bias| read(bias.val(), layer, "bias")).transpose()?;
        let norm = norm.map(|norm| HostBatchNorm::from_norm(norm, layer)).transpose()?;
        Ok(Self {
            filters,
            channels,
            width,
            dilation,
            left,
            weights,
            bias,
            batch_norm: norm.as_ref().map(FoldedBatchNorm::from_host),
            norm,
            weight_id: conv.weight.id,
            bias_id: conv.bias.as_ref().map(|bias| bias.id),
        })
    }
}

/// One convolution block at its place in a network: convolution → (batch-norm) → ReLU →
/// (max-pool) → (dropout), with the lengths it sees.
#[derive(Debug, Clone)]
pub(crate) struct HostBlock {
    /// The convolution.
    pub conv: HostConv,
    /// Max-pool size and stride after the ReLU (1 = none).
    pub pool: usize,
    /// Dropout probability after pooling (training only).
    pub dropout: f64,
    /// Positions entering the block.
    pub input_length: usize,
    /// Output positions of the convolution.
    pub positions: usize,
    /// Cells after max-pooling, `positions / pool` (a partial last window is dropped, as in burn).
    pub pooled: usize,
}

impl HostBlock {
    /// The input position that output `position` reads through tap `k`, if inside the input
    /// (positions in the zero padding have none).
    pub fn input_position(&self, position: usize, k: usize) -> Option<usize> {
        (position + k * self.conv.dilation).checked_sub(self.conv.left).filter(|&i| i < self.input_length)
    }
}

/// The lengths one block sees: positions entering it, after its convolution and after its
/// max-pool of size `pool`.
pub(crate) struct BlockLengths {
    input_length: usize,
    positions: usize,
    pool: usize,
    pooled: usize,
}

/// The lengths every block of `blocks` sees on inputs `[channels, length]`, and the channels and
/// positions leaving the last one, after checking that the blocks fit together (reads shapes
/// only, see [`HostCnn::check`]).
pub(crate) fn block_lengths(
    blocks: &[ConvBlock],
    channels: usize,
    length: usize,
) -> Result<(Vec<BlockLengths>, usize, usize), ModelError> {
    let mut lengths = Vec::with_capacity(blocks.len());
    let (mut channels_in, mut length_in) = (channels, length);
    for (index, block) in blocks.iter().enumerate() {
        let layer = Layer::Convolution(index + 1);
        let conv = ConvShape::of(block.conv(), layer)?;
        if conv.channels != channels_in {
            return Err(layout(layer, format!("reads {} channels, its input has {channels_in}", conv.channels)));
        }
        let positions = conv.positions(length_in).ok_or_else(|| {
            layout(layer, format!("spans {} positions, more than its input of {length_in}", conv.span()))
        })?;
        let pool = block.pool_size().max(1);
        let pooled = positions / pool;
        if pooled == 0 {
            return Err(layout(layer, format!("leaves {positions} positions, fewer than its pool of {pool}")));
        }
        lengths.push(BlockLengths { input_length: length_in, positions, pool, pooled });
        channels_in = conv.filters;
        length_in = pooled;
    }
    Ok((lengths, channels_in, length_in))
}

/// Copy convolution blocks (a CNN's, or a recurrent model's front end) out of burn for inputs
/// `[channels, length]`, block by block, each convolution's weights before its bias.
pub(crate) fn host_blocks(blocks: &[ConvBlock], channels: usize, length: usize) -> Result<Vec<HostBlock>, ModelError> {
    let (lengths, _, _) = block_lengths(blocks, channels, length)?;
    let mut host = Vec::with_capacity(lengths.len());
    for (index, (block, lengths)) in blocks.iter().zip(lengths).enumerate() {
        host.push(HostBlock {
            conv: HostConv::from_conv(block.conv(), block.norm(), Layer::Convolution(index + 1))?,
            pool: lengths.pool,
            dropout: block.dropout_probability(),
            input_length: lengths.input_length,
            positions: lengths.positions,
            pooled: lengths.pooled,
        });
    }
    Ok(host)
}

/// A dense (linear) layer as numbers.
#[derive(Debug, Clone)]
pub(crate) struct HostDense {
    /// Input features.
    pub inputs: usize,
    /// Output features.
    pub outputs: usize,
    /// Whether a ReLU follows (hidden layers; not the output layer).
    pub relu: bool,
    /// Weights `[inputs][outputs]`.
    pub weights: Vec<f32>,
    /// Bias `[outputs]`, when the layer has one.
    pub bias: Option<Vec<f32>>,
    /// burn's id of the weights, to hand gradients back.
    pub weight_id: ParamId,
    /// burn's id of the bias.
    pub bias_id: Option<ParamId>,
}

impl HostDense {
    /// Copy `linear` out of burn.
    pub fn from_linear(linear: &Linear, relu: bool, layer: Layer) -> Result<Self, ModelError> {
        let [inputs, outputs] = linear.weight.lazy_shape().dims::<2>();
        let bias = linear.bias.as_ref();
        Ok(Self {
            inputs,
            outputs,
            relu,
            weights: read(linear.weight.val(), layer, "weights")?,
            bias: bias.map(|bias| read(bias.val(), layer, "bias")).transpose()?,
            weight_id: linear.weight.id,
            bias_id: bias.map(|bias| bias.id),
        })
    }

    /// The bias, zeros when the layer has none.
    pub fn bias_or_zeros(&self) -> Vec<f32> {
        self.bias.clone().unwrap_or_else(|| vec![0.0; self.outputs])
    }
}

/// A [`SequenceCnn`] on inputs `[channels, length]`, as numbers: its blocks with their lengths,
/// the global reduction and the dense layers.
#[derive(Debug, Clone)]
pub(crate) struct HostCnn {
    /// Convolution blocks, first to last.
    pub blocks: Vec<HostBlock>,
    /// How the last block's output is reduced before the dense layers.
    pub global_pool: GlobalPool,
    /// Hidden dense layers (ReLU), then the output layer.
    pub dense: Vec<HostDense>,
    /// Dropout probability after each hidden dense layer (training only).
    pub dense_dropout: f64,
    /// Input channels.
    pub channels: usize,
    /// Input length.
    pub length: usize,
}

impl HostCnn {
    /// Copy `cnn` out of burn for inputs `[channels, length]`, checking that its layers fit
    /// together on that input ([`HostCnn::check`]). Values are read layer by layer, first to
    /// last, each layer's weights before its bias.
    pub fn from_cnn(cnn: &SequenceCnn, channels: usize, length: usize) -> Result<Self, ModelError> {
        Self::lengths(cnn, channels, length)?;
        let blocks = host_blocks(cnn.blocks(), channels, length)?;
        let hidden = cnn.dense_layers();
        let mut dense = Vec::with_capacity(hidden.len() + 1);
        for (index, linear) in hidden.iter().enumerate() {
            dense.push(HostDense::from_linear(linear, true, Layer::Dense(index + 1))?);
        }
        dense.push(HostDense::from_linear(cnn.output_layer(), false, Layer::Output)?);
        Ok(Self {
            blocks,
            global_pool: cnn.global_pool(),
            dense,
            dense_dropout: cnn.dense_dropout_probability(),
            channels,
            length,
        })
    }

    /// Check that `cnn`'s layers fit together on inputs `[channels, length]` (the errors of
    /// [`HostCnn::from_cnn`] but a failed read), from its settings and the shapes of its
    /// weights: no parameter is read, so a fresh model's lazily initialised parameters stay
    /// without a value.
    pub fn check(cnn: &SequenceCnn, channels: usize, length: usize) -> Result<(), ModelError> {
        Self::lengths(cnn, channels, length).map(drop)
    }

    /// The lengths every block sees on inputs `[channels, length]`, after checking that the
    /// layers fit together (reads shapes only, see [`HostCnn::check`]).
    fn lengths(cnn: &SequenceCnn, channels: usize, length: usize) -> Result<Vec<BlockLengths>, ModelError> {
        let (lengths, channels_in, length_in) = block_lengths(cnn.blocks(), channels, length)?;
        let hidden = cnn.dense_layers();
        let mut features = cnn.global_pool().features(channels_in, length_in);
        for (index, linear) in hidden.iter().chain(std::iter::once(cnn.output_layer())).enumerate() {
            let [inputs, outputs] = linear.weight.lazy_shape().dims::<2>();
            if inputs != features {
                let name = if index < hidden.len() { Layer::Dense(index + 1) } else { Layer::Output };
                return Err(layout(name, format!("reads {inputs} features, its input has {features}")));
            }
            features = outputs;
        }
        Ok(lengths)
    }

    /// Channels and positions leaving the last block (the input's without blocks).
    pub fn last_shape(&self) -> (usize, usize) {
        self.blocks.last().map_or((self.channels, self.length), |block| (block.conv.filters, block.pooled))
    }

    /// Number of logits.
    pub fn outputs(&self) -> usize {
        self.dense.last().map_or(0, |layer| layer.outputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConvLayerConfig, FastPlan, FirstLayer, InputShape, IsmPlan, Model, ModelConfig, Padding};
    use burn::tensor::TensorData;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn layer(filters: usize, width: usize, pool: usize, batch_norm: bool, padding: Padding) -> ConvLayerConfig {
        ConvLayerConfig { filters, width, dilation: 1, pool, batch_norm, dropout: 0.0, padding }
    }

    fn cnn(model: &Model) -> Result<&SequenceCnn, Box<dyn std::error::Error>> {
        match model {
            Model::Cnn(cnn) => Ok(cnn),
            _ => Err("a CNN".into()),
        }
    }

    /// Every global reduction is carried over as its variant, and the first dense layer reads
    /// the features it leaves; the fast kernel takes every one, local ISM (with the block's pool
    /// of 2) only flatten.
    #[test]
    fn each_global_pool_is_read_as_its_variant() -> TestResult {
        let (device, _lock) = crate::test_device();
        let input = InputShape { channels: 4, length: 30, outputs: 2 };
        for global_pool in [GlobalPool::None, GlobalPool::Max, GlobalPool::Mean, GlobalPool::MaxMean] {
            let config = ModelConfig::Cnn {
                conv: vec![layer(5, 7, 2, false, Padding::Valid)],
                global_pool,
                dense: vec![3],
                dense_dropout: 0.0,
            };
            let model = config.init(input, &device)?;
            let host = HostCnn::from_cnn(cnn(&model)?, 4, 30)?;
            assert_eq!(host.global_pool, global_pool);
            let [block] = &host.blocks[..] else { return Err("one block".into()) };
            assert_eq!((block.input_length, block.positions, block.pool, block.pooled), (30, 24, 2, 12));
            assert_eq!(host.last_shape(), (5, 12));
            assert_eq!(host.dense[0].inputs, global_pool.features(5, 12));
            assert_eq!(host.dense[0].inputs, config.cnn_spec().output_features(input)?);
            assert!(host.dense[0].relu && !host.dense[1].relu);
            assert_eq!(host.outputs(), 2);
            assert!(FastPlan::new(&model, 4, 30).is_some(), "{global_pool:?}");
            assert_eq!(IsmPlan::new(&model, 30).is_some(), global_pool == GlobalPool::None, "{global_pool:?}");
        }
        Ok(())
    }

    /// The folded batch-norm is burn's inference batch-norm: first-layer activations equal
    /// conv → batch-norm → ReLU after the running statistics have moved away from (0, 1).
    #[test]
    fn folded_batch_norm_equals_burn_inference() -> TestResult {
        let (plain, _lock) = crate::test_device();
        let device = plain.clone().autodiff();
        device.seed(3);
        let config = ModelConfig::Cnn {
            conv: vec![layer(6, 5, 1, true, Padding::Valid)],
            global_pool: GlobalPool::Max,
            dense: vec![],
            dense_dropout: 0.0,
        };
        let model = config.init(InputShape { channels: 4, length: 20, outputs: 1 }, &device)?;
        let values: Vec<f32> = (0..3 * 4 * 20).map(|i| ((i * 7919) % 11) as f32 / 11.0).collect();
        // A training forward pass updates the running mean and variance.
        let _ = model.forward(Tensor::<3>::from_data(TensorData::new(values.clone(), [3, 4, 20]), &device));
        let model = model.valid();
        let host = HostCnn::from_cnn(cnn(&model)?, 4, 20)?;
        let folded = host.blocks[0].conv.batch_norm.clone().ok_or("a batch-norm")?;
        assert!(folded.shift.iter().any(|s| *s != 0.0), "running statistics moved");
        let first = model.first_layer().ok_or("a first layer")?;
        assert_eq!(first, FirstLayer::from_host(host.blocks[0].conv.clone()));
        assert_eq!((first.scale.clone(), first.shift.clone()), (folded.scale, folded.shift));
        assert!(FastPlan::new(&model, 4, 20).is_some(), "the fast kernel runs batch-norm");

        let block = &cnn(&model)?.blocks()[0];
        let x = Tensor::<3>::from_data(TensorData::new(values[..80].to_vec(), [1, 4, 20]), &plain);
        let norm = block.norm().ok_or("a batch-norm")?;
        let theirs: Vec<f32> =
            burn::tensor::activation::relu(norm.forward(block.conv().forward(x))).try_into_vec_as::<f32>()?;
        let ours = first.activations(&values[..80], 20);
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(&theirs) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        Ok(())
    }

    #[test]
    fn layers_that_do_not_fit_the_input_are_errors() -> TestResult {
        let (device, _lock) = crate::test_device();
        let model = ModelConfig::Primer.init(InputShape { channels: 4, length: 50, outputs: 1 }, &device)?;
        let cnn = cnn(&model)?;
        let wrong_channels = HostCnn::from_cnn(cnn, 20, 50);
        assert!(matches!(wrong_channels, Err(ModelError::HostLayout { ref layer, .. }) if layer == "convolution 1"));
        let too_short = HostCnn::from_cnn(cnn, 4, 11);
        assert!(matches!(too_short, Err(ModelError::HostLayout { .. })));
        // A different length changes the flattened features the first dense layer reads.
        let other_length = HostCnn::from_cnn(cnn, 4, 60);
        assert!(matches!(other_length, Err(ModelError::HostLayout { ref layer, .. }) if layer == "dense layer 1"));
        assert!(FastPlan::new(&model, 4, 60).is_none() && IsmPlan::new(&model, 60).is_none());
        Ok(())
    }
}
