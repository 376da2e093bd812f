//! DeepLIFT multipliers with the rescale rule (Shrikumar et al., ICML 2017), for sequence CNNs,
//! computed by omix's own forward and backward pass over the host-side description of the
//! network ([`crate::host::HostCnn`]); burn has no backward hooks to bend its gradients with.
//!
//! DeepLIFT explains the difference of an output between an input `x` and a reference `r`: every
//! unit's change `Δ = unit(x) − unit(r)` is carried back by *multipliers* `m` such that
//! `Σ_i m_i · Δx_i = f(x) − f(r)` exactly (summation to delta). The rules, the ones Captum and
//! tangermeme apply, so that attributions can be compared with theirs number for number:
//! - **linear layers** (convolutions, the folded inference batch-norm, dense layers, global mean,
//!   flattening; dropout is off) pass multipliers back by their weights, as gradients do;
//! - **ReLU** (rescale rule): `m_in = m_out · Δout / Δin`; where `|Δin| < 1e-6` the ratio is
//!   undefined and the gradient at `x` is used instead (1 above zero, 0 otherwise);
//! - **max-pooling** (each window of a block's max-pool, and the global max over positions): a
//!   window's output change `Δo = o(x) − o(r)` goes to the position that won the max in the input
//!   whose output is larger (`x`'s winner when `o(x) ≥ o(r)`, the reference's winner otherwise),
//!   and is divided there by that position's own change; where a position's change is below
//!   `1e-7` the gradient at `x` is used instead (the window's multiplier at `x`'s winner, 0
//!   elsewhere). Positions that no window covers (a partial window at the end) get 0.
//!
//! The plan holds copies of the weights only, so one plan serves every thread. Multipliers are
//! those of the `x` half of the pair; Captum's and tangermeme's batched implementations carry
//! the reference half's multipliers alongside, which equal `x`'s everywhere but where a fallback
//! to the gradient applied, and enter only through the max-pool rule's reference winner — the
//! tests against tangermeme bound what that leaves.

use rayon::prelude::*;

use crate::config::{GlobalPool, ModelError};
use crate::fast::{SPARSE_CHANNELS, filters_last, matmul, sparse_convolution, stacked_im2col, transpose};
use crate::host::{HostBlock, HostCnn, HostDense};
use crate::{Model, SequenceCnn};

/// Below this change of a ReLU's input the rescale ratio falls back to the gradient.
const RESCALE_EPSILON: f32 = 1e-6;
/// Below this change of a max-pool's input the pooled multiplier falls back to the gradient.
const POOL_EPSILON: f32 = 1e-7;

/// A sequence CNN ready for DeepLIFT: its weights on the host.
#[derive(Debug, Clone)]
pub struct DeepLiftPlan {
    host: HostCnn,
    /// Per block, the convolution's weights filters-last `[width][channels][filters]`.
    filters_last: Vec<Vec<f32>>,
}

/// DeepLIFT multipliers of one output for one input against one reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Multipliers {
    /// `∂`-like multipliers `[channels, length]`: `Σ multipliers · (input − reference)` equals
    /// `output − reference_output` up to rounding.
    pub values: Vec<f32>,
    /// The explained output (logit) at the input.
    pub output: f32,
    /// The same output at the reference.
    pub reference_output: f32,
}

/// DeepLIFT/SHAP of one output for one input: DeepLIFT against each reference, averaged.
#[derive(Debug, Clone, PartialEq)]
pub struct Shap {
    /// Actual contributions `[channels, length]`: the hypothetical ones at the observed bases
    /// (zero elsewhere); they sum to `output − mean reference output`.
    pub actual: Vec<f32>,
    /// Hypothetical contributions `[channels, length]`: what each base would contribute were it
    /// the one at the position, `mean over references of m[b, i] − Σ_c r[c, i] · m[c, i]` (the
    /// projection TF-MoDISco reads, as tangermeme's `hypothetical_attributions`).
    pub hypothetical: Vec<f32>,
    /// The largest `|Σ (x − r) · m − (f(x) − f(r))|` over the references (summation to delta;
    /// rounding only, for a correct implementation; infinite if any was NaN).
    pub max_deviation: f32,
    /// The explained output at the input.
    pub output: f32,
    /// Its mean over the references.
    pub mean_reference_output: f32,
}

/// Every value one forward pass leaves, kept for the backward pass.
struct Trace {
    /// Per block: pre-activations after the folded batch-norm, `[filters][positions]`.
    pre: Vec<Vec<f32>>,
    /// Per block: ReLU outputs `[filters][positions]`.
    active: Vec<Vec<f32>>,
    /// Per block: max-pooled outputs `[filters][pooled]` (empty when the block does not pool).
    pooled: Vec<Vec<f32>>,
    /// Per dense layer: pre-activations `[outputs]`.
    dense_pre: Vec<Vec<f32>>,
    /// Per dense layer: outputs after the ReLU (the pre-activations for the output layer).
    dense_out: Vec<Vec<f32>>,
}

impl DeepLiftPlan {
    /// A plan for `model` on one-hot inputs `[channels, length]`. Only convolutional networks
    /// are supported: recurrent networks have no agreed DeepLIFT rule (refused with the reason),
    /// and the other families do not read a one-hot sequence.
    pub fn new(model: &Model, channels: usize, length: usize) -> Result<Self, ModelError> {
        match model {
            Model::Cnn(cnn) => Self::for_cnn(cnn, channels, length),
            Model::Rnn(_) => Err(ModelError::Unsupported(
                "DeepLIFT/SHAP is not defined for recurrent layers (LSTM/GRU gates multiply units, which the rescale rule does not cover); use --method integrated-gradients or ism".into(),
            )),
            Model::Dense(_) => Err(ModelError::Unsupported(
                "DeepLIFT/SHAP explains one-hot sequence inputs; a dense network reads engineered features".into(),
            )),
            Model::Autoencoder(_) | Model::ConvAutoencoder(_) => Err(ModelError::Unsupported(
                "DeepLIFT/SHAP explains a supervised model's outputs; this is an autoencoder".into(),
            )),
        }
    }

    fn for_cnn(cnn: &SequenceCnn, channels: usize, length: usize) -> Result<Self, ModelError> {
        Ok(Self::from_host(HostCnn::from_cnn(cnn, channels, length)?))
    }

    fn from_host(host: HostCnn) -> Self {
        Self { filters_last: filters_last(&host), host }
    }

    /// `(channels, length)` of one input.
    pub fn shape(&self) -> (usize, usize) {
        (self.host.channels, self.host.length)
    }

    /// Number of outputs (logits).
    pub fn outputs(&self) -> usize {
        self.host.outputs()
    }

    /// Every output (logit) for one input `[channels, length]`.
    pub fn logits(&self, input: &[f32]) -> Vec<f32> {
        self.forward(input).dense_out.pop().unwrap_or_default()
    }

    /// DeepLIFT multipliers of `output` for `input` against `reference`, both `[channels,
    /// length]`.
    pub fn multipliers(&self, input: &[f32], reference: &[f32], output: usize) -> Multipliers {
        self.multipliers_from(input, &self.forward(input), reference, output)
    }

    /// [`DeepLiftPlan::multipliers`] with the input's forward pass already done (`x`), so
    /// DeepSHAP runs it once per sequence rather than once per reference.
    fn multipliers_from(&self, input: &[f32], x: &Trace, reference: &[f32], output: usize) -> Multipliers {
        let r = self.forward(reference);
        let logit = |trace: &Trace| trace.dense_out.last().and_then(|out| out.get(output)).copied().unwrap_or(f32::NAN);
        let (output_value, reference_output) = (logit(x), logit(&r));

        // Dense layers, last to first: `m` is the multiplier of each layer's output.
        let mut m = vec![0.0f32; self.host.outputs()];
        if let Some(slot) = m.get_mut(output) {
            *slot = 1.0;
        }
        for (index, layer) in self.host.dense.iter().enumerate().rev() {
            if layer.relu {
                rescale(&mut m, &x.dense_pre[index], &r.dense_pre[index], &x.dense_out[index], &r.dense_out[index]);
            }
            m = dense_backward(layer, &m);
        }

        // The global reduction: back to the last block's (pooled) output `[filters][cells]`.
        let (filters, cells) = self.host.last_shape();
        let last_x = self.last_output(input, x);
        let last_r = self.last_output(reference, &r);
        let mut grad = vec![0.0f32; filters * cells];
        match self.host.global_pool {
            GlobalPool::None => grad.copy_from_slice(&m),
            GlobalPool::Max => max_pool_backward(&mut grad, &m, &last_x, &last_r, filters, cells, cells),
            GlobalPool::Mean => mean_backward(&mut grad, &m, cells),
            GlobalPool::MaxMean => {
                max_pool_backward(&mut grad, &m[..filters], &last_x, &last_r, filters, cells, cells);
                mean_backward(&mut grad, &m[filters..], cells);
            }
        }

        // Convolution blocks, last to first: `grad` is the multiplier of the block's output.
        for (index, block) in self.host.blocks.iter().enumerate().rev() {
            let filters = block.conv.filters;
            let mut at_relu = if block.pool > 1 {
                let mut unpooled = vec![0.0f32; filters * block.positions];
                max_pool_backward(
                    &mut unpooled,
                    &grad,
                    &x.active[index],
                    &r.active[index],
                    filters,
                    block.positions,
                    block.pool,
                );
                unpooled
            } else {
                grad
            };
            rescale(&mut at_relu, &x.pre[index], &r.pre[index], &x.active[index], &r.active[index]);
            if let Some(norm) = &block.conv.batch_norm {
                for (f, row) in at_relu.chunks_mut(block.positions).enumerate() {
                    row.iter_mut().for_each(|v| *v *= norm.scale[f]);
                }
            }
            grad = conv_backward(block, &at_relu);
        }
        Multipliers { values: grad, output: output_value, reference_output }
    }

    /// DeepLIFT/SHAP of `output` for one input `[channels, length]` against references
    /// `[n, channels, length]` (`n ≥ 1`), the references in parallel.
    pub fn shap(&self, input: &[f32], references: &[f32], output: usize) -> Shap {
        let (channels, length) = self.shape();
        let block = channels * length;
        let x = self.forward(input);
        let per_reference: Vec<(Multipliers, f32, Vec<f32>)> = references
            .par_chunks(block)
            .map(|reference| {
                let m = self.multipliers_from(input, &x, reference, output);
                let sum: f32 = m.values.iter().zip(input.iter().zip(reference)).map(|(m, (x, r))| m * (x - r)).sum();
                let deviation = (sum - (m.output - m.reference_output)).abs();
                let mut hypothetical = m.values.clone();
                for i in 0..length {
                    let at_reference: f32 =
                        (0..channels).map(|c| reference[c * length + i] * m.values[c * length + i]).sum();
                    for c in 0..channels {
                        hypothetical[c * length + i] -= at_reference;
                    }
                }
                (m, deviation, hypothetical)
            })
            .collect();
        let n = per_reference.len().max(1) as f32;
        let mut shap = Shap {
            actual: Vec::new(),
            hypothetical: vec![0.0; block],
            max_deviation: 0.0,
            output: f32::NAN,
            mean_reference_output: 0.0,
        };
        for (m, deviation, hypothetical) in &per_reference {
            for (sum, value) in shap.hypothetical.iter_mut().zip(hypothetical) {
                *sum += value / n;
            }
            shap.max_deviation = shap.max_deviation.max(if deviation.is_nan() { f32::INFINITY } else { *deviation });
            shap.output = m.output;
            shap.mean_reference_output += m.reference_output / n;
        }
        shap.actual = shap.hypothetical.iter().zip(input).map(|(h, x)| h * x).collect();
        shap
    }

    /// The last block's output (the input itself when there are no blocks).
    fn last_output(&self, input: &[f32], trace: &Trace) -> Vec<f32> {
        match self.host.blocks.last() {
            None => input.to_vec(),
            Some(block) if block.pool > 1 => trace.pooled.last().cloned().unwrap_or_default(),
            Some(_) => trace.active.last().cloned().unwrap_or_default(),
        }
    }

    fn forward(&self, input: &[f32]) -> Trace {
        let mut trace = Trace {
            pre: Vec::with_capacity(self.host.blocks.len()),
            active: Vec::with_capacity(self.host.blocks.len()),
            pooled: Vec::with_capacity(self.host.blocks.len()),
            dense_pre: Vec::with_capacity(self.host.dense.len()),
            dense_out: Vec::with_capacity(self.host.dense.len()),
        };
        let mut current = input.to_vec();
        for (block, filters_last) in self.host.blocks.iter().zip(&self.filters_last) {
            let pre = conv_forward(block, filters_last, &current);
            let active: Vec<f32> = pre.iter().map(|v| v.max(0.0)).collect();
            let pooled = if block.pool > 1 {
                let mut pooled = Vec::with_capacity(block.conv.filters * block.pooled);
                for row in active.chunks(block.positions) {
                    for cell in 0..block.pooled {
                        pooled.push(window_max(&row[cell * block.pool..(cell + 1) * block.pool]).1);
                    }
                }
                pooled
            } else {
                Vec::new()
            };
            current = if block.pool > 1 { pooled.clone() } else { active.clone() };
            trace.pre.push(pre);
            trace.active.push(active);
            trace.pooled.push(pooled);
        }
        let (filters, cells) = self.host.last_shape();
        let row = |f: usize| &current[f * cells..(f + 1) * cells];
        let max = |f: usize| window_max(row(f)).1;
        let mean = |f: usize| row(f).iter().sum::<f32>() / cells as f32;
        let mut features: Vec<f32> = match self.host.global_pool {
            GlobalPool::None => current.clone(),
            GlobalPool::Max => (0..filters).map(max).collect(),
            GlobalPool::Mean => (0..filters).map(mean).collect(),
            GlobalPool::MaxMean => (0..filters).map(max).chain((0..filters).map(mean)).collect(),
        };
        for layer in &self.host.dense {
            let mut pre = layer.bias_or_zeros();
            for (i, &value) in features.iter().enumerate() {
                if value != 0.0 {
                    let weights = &layer.weights[i * layer.outputs..(i + 1) * layer.outputs];
                    for (out, w) in pre.iter_mut().zip(weights) {
                        *out += value * w;
                    }
                }
            }
            features = if layer.relu { pre.iter().map(|v| v.max(0.0)).collect() } else { pre.clone() };
            trace.dense_pre.push(pre);
            trace.dense_out.push(features.clone());
        }
        trace
    }
}

/// Index and value of the first maximum of a window (PyTorch's and burn's choice on ties).
fn window_max(window: &[f32]) -> (usize, f32) {
    let mut best = (0, window.first().copied().unwrap_or(f32::NEG_INFINITY));
    for (i, &v) in window.iter().enumerate().skip(1) {
        if v > best.1 {
            best = (i, v);
        }
    }
    best
}

/// Output multipliers with more than this fraction non-zero go back through a matrix product;
/// sparser ones (a global max keeps one position per filter) through their non-zero entries.
const DENSE_GRADIENT_FRACTION: usize = 8;

/// A block's convolution with its bias and folded batch-norm: `[filters][positions]`, from its
/// input `[channels][input_length]` and weights `filters_last` `[width][channels][filters]`.
fn conv_forward(block: &HostBlock, filters_last: &[f32], input: &[f32]) -> Vec<f32> {
    let conv = &block.conv;
    let (filters, positions) = (conv.filters, block.positions);
    // Accumulated position-major `[positions][filters]`, so each update is a contiguous row.
    let mut rows = vec![0.0f32; positions * filters];
    if let Some(bias) = &conv.bias {
        rows.chunks_exact_mut(filters).for_each(|row| row.copy_from_slice(bias));
    }
    if conv.channels <= SPARSE_CHANNELS {
        sparse_convolution(block, filters_last, input, &mut rows);
    } else {
        let position_major = transpose(input, conv.channels, block.input_length);
        let columns = stacked_im2col(block, std::iter::once(&position_major[..]));
        matmul(&columns, false, filters_last, false, &mut rows, (positions, conv.channels * conv.width, filters), 1.0);
    }
    let mut out = transpose(&rows, positions, filters);
    if let Some(norm) = &conv.batch_norm {
        for (f, row) in out.chunks_mut(positions).enumerate() {
            row.iter_mut().for_each(|v| *v = norm.scale[f] * *v + norm.shift[f]);
        }
    }
    out
}

/// Multipliers of a block's input `[channels][input_length]` from those of its convolution's
/// output `[filters][positions]` (the transposed convolution).
fn conv_backward(block: &HostBlock, grad: &[f32]) -> Vec<f32> {
    let conv = &block.conv;
    let mut out = vec![0.0f32; conv.channels * block.input_length];
    let nonzero = grad.iter().filter(|g| **g != 0.0).count();
    if nonzero * DENSE_GRADIENT_FRACTION > grad.len() {
        // `[positions][channels · width]` = gradᵀ · weights, scattered back through im2col.
        let depth = conv.channels * conv.width;
        let mut columns = vec![0.0f32; block.positions * depth];
        matmul(grad, true, &conv.weights, false, &mut columns, (block.positions, conv.filters, depth), 0.0);
        for (q, row) in columns.chunks_exact(depth).enumerate() {
            for k in 0..conv.width {
                let Some(i) = block.input_position(q, k) else { continue };
                for c in 0..conv.channels {
                    out[c * block.input_length + i] += row[c * conv.width + k];
                }
            }
        }
        return out;
    }
    for f in 0..conv.filters {
        for q in 0..block.positions {
            let g = grad[f * block.positions + q];
            if g == 0.0 {
                continue;
            }
            for k in 0..conv.width {
                let Some(i) = block.input_position(q, k) else { continue };
                for c in 0..conv.channels {
                    out[c * block.input_length + i] += g * conv.weights[(f * conv.channels + c) * conv.width + k];
                }
            }
        }
    }
    out
}

/// Multipliers of a dense layer's input from those of its pre-activation.
fn dense_backward(layer: &HostDense, grad: &[f32]) -> Vec<f32> {
    (0..layer.inputs)
        .map(|i| layer.weights[i * layer.outputs..(i + 1) * layer.outputs].iter().zip(grad).map(|(w, g)| w * g).sum())
        .collect()
}

/// The rescale rule through a ReLU, in place: `m · Δout / Δin`, or the gradient at `x` where
/// the input barely changed.
fn rescale(m: &mut [f32], pre_x: &[f32], pre_r: &[f32], out_x: &[f32], out_r: &[f32]) {
    for (i, slot) in m.iter_mut().enumerate() {
        let delta_in = pre_x[i] - pre_r[i];
        *slot *= if delta_in.abs() < RESCALE_EPSILON {
            if pre_x[i] > 0.0 { 1.0 } else { 0.0 }
        } else {
            (out_x[i] - out_r[i]) / delta_in
        };
    }
}

/// Multipliers of a global mean's input: each feature's spread evenly over its row.
fn mean_backward(grad: &mut [f32], m: &[f32], cells: usize) {
    for (row, &g) in grad.chunks_mut(cells).zip(m) {
        row.iter_mut().for_each(|v| *v += g / cells as f32);
    }
}

/// The max-pool rule (module docs) for rows of `length` values pooled in windows of `pool`
/// (stride `pool`, a partial last window dropped); `m` holds one multiplier per window, and the
/// input's multipliers are added to `grad`.
fn max_pool_backward(grad: &mut [f32], m: &[f32], x: &[f32], r: &[f32], rows: usize, length: usize, pool: usize) {
    let windows = length / pool;
    let mut routed = vec![0.0f32; length];
    for row in 0..rows {
        routed.fill(0.0);
        let (xs, rs) = (&x[row * length..(row + 1) * length], &r[row * length..(row + 1) * length]);
        let mut winners = Vec::with_capacity(windows);
        for w in 0..windows {
            let span = w * pool..(w + 1) * pool;
            let (ix, ox) = window_max(&xs[span.clone()]);
            let (ir, or) = window_max(&rs[span]);
            let (ix, ir) = (w * pool + ix, w * pool + ir);
            let g = m[row * windows + w];
            let top = ox.max(or);
            routed[ix] += g * (top - or);
            routed[ir] += g * (ox - top);
            winners.push(ix);
        }
        for (w, &ix) in winners.iter().enumerate() {
            for i in w * pool..(w + 1) * pool {
                let delta_in = xs[i] - rs[i];
                grad[row * length + i] += if delta_in.abs() < POOL_EPSILON {
                    if i == ix { m[row * windows + w] } else { 0.0 }
                } else {
                    routed[i] / delta_in
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConvLayerConfig, InputShape, ModelConfig, Padding};
    use burn::prelude::*;
    use burn::tensor::TensorData;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn one_hot(length: usize, seed: usize) -> Vec<f32> {
        let mut x = vec![0.0f32; 4 * length];
        let mut state = seed as u64 * 6_364_136_223_846_793_005 + 1_442_695_040_888_963_407;
        for i in 0..length {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            x[((state >> 33) % 4) as usize * length + i] = 1.0;
        }
        x
    }

    fn layer(filters: usize, width: usize, dilation: usize, pool: usize, batch_norm: bool) -> ConvLayerConfig {
        ConvLayerConfig { filters, width, dilation, pool, batch_norm, dropout: 0.1, padding: Padding::Same }
    }

    fn configs() -> Vec<ModelConfig> {
        vec![
            ModelConfig::Cnn {
                conv: vec![layer(6, 5, 1, 1, false)],
                global_pool: GlobalPool::Max,
                dense: vec![],
                dense_dropout: 0.0,
            },
            ModelConfig::Cnn {
                conv: vec![layer(6, 5, 1, 3, true), layer(5, 3, 2, 2, true)],
                global_pool: GlobalPool::MaxMean,
                dense: vec![7],
                dense_dropout: 0.2,
            },
            ModelConfig::Cnn {
                conv: vec![layer(4, 7, 1, 4, false)],
                global_pool: GlobalPool::None,
                dense: vec![5, 3],
                dense_dropout: 0.0,
            },
            ModelConfig::Cnn {
                conv: vec![layer(5, 4, 1, 2, false), layer(3, 3, 1, 1, false)],
                global_pool: GlobalPool::Mean,
                dense: vec![4],
                dense_dropout: 0.0,
            },
            // A second block wider than SPARSE_CHANNELS: its forward pass is a matrix product.
            ModelConfig::Cnn {
                conv: vec![layer(12, 5, 1, 2, true), layer(4, 3, 2, 1, false)],
                global_pool: GlobalPool::Max,
                dense: vec![],
                dense_dropout: 0.0,
            },
            ModelConfig::primer(),
        ]
    }

    /// burn's forward pass, the independent reference for the plan's outputs.
    fn burn_logits(
        model: &Model,
        input: &[f32],
        length: usize,
        device: &Device,
    ) -> Result<Vec<f32>, Box<dyn std::error::Error>> {
        let x = Tensor::<3>::from_data(TensorData::new(input.to_vec(), [1, 4, length]), device);
        Ok(model.forward(x).into_data().try_into_vec::<f32>().map_err(|e| format!("{e:?}"))?)
    }

    /// On networks of every supported shape, the outputs equal burn's forward pass and the
    /// multipliers sum to the change of the output (DeepLIFT's summation to delta).
    #[test]
    fn multipliers_sum_to_the_change_of_the_output() -> TestResult {
        let (device, _lock) = crate::test_device();
        let length = 37;
        for config in configs() {
            let model = config.init(InputShape { channels: 4, length, outputs: 2 }, &device)?;
            let plan = DeepLiftPlan::new(&model, 4, length)?;
            for seed in 0..6 {
                let (x, r) = (one_hot(length, seed), one_hot(length, seed + 100));
                for output in 0..plan.outputs() {
                    let m = plan.multipliers(&x, &r, output);
                    let burn_x = burn_logits(&model, &x, length, &device)?[output];
                    let burn_r = burn_logits(&model, &r, length, &device)?[output];
                    assert!((m.output - burn_x).abs() < 1e-4, "{config:?}: {} vs burn {burn_x}", m.output);
                    assert!((m.reference_output - burn_r).abs() < 1e-4, "{config:?}");
                    let sum: f32 = m.values.iter().zip(x.iter().zip(&r)).map(|(m, (x, r))| m * (x - r)).sum();
                    let delta = m.output - m.reference_output;
                    assert!((sum - delta).abs() < 1e-4 * (1.0 + delta.abs()), "{config:?}: Σ {sum} vs Δ {delta}");
                }
            }
        }
        Ok(())
    }

    /// The max-pool rule on numbers small enough to follow by hand.
    #[test]
    fn max_pool_routes_the_change_to_the_larger_winner() {
        // One row of 4 values, windows of 2. Window 0: x wins at 0 (3 > 1), r wins at 1 (2);
        // o(x) = 3 > o(r) = 2, so Δo = 1 goes to x's winner (position 0), whose own change is
        // 3 − 0 = 3: multiplier 1/3 · g. Window 1: o(x) = 1 < o(r) = 5; Δo = −4 goes to r's
        // winner (position 3), change 0 − 5 = −5: multiplier 4/5 · g. Position 2 changed
        // (1 − 4) but won nothing: 0.
        let x = [3.0, 1.0, 1.0, 0.0];
        let r = [0.0, 2.0, 4.0, 5.0];
        let mut grad = [0.0f32; 4];
        max_pool_backward(&mut grad, &[2.0, 10.0], &x, &r, 1, 4, 2);
        assert_eq!(grad, [2.0 / 3.0, 0.0, 0.0, 8.0]);
        // Summation to delta: Σ grad · Δx = g · Δo per window = 2·1 + 10·(−4).
        let sum: f32 = grad.iter().zip(x.iter().zip(&r)).map(|(g, (x, r))| g * (x - r)).sum();
        assert!((sum - (2.0 - 40.0)).abs() < 1e-5);
        // Unchanged inputs fall back to the gradient: the window's multiplier at x's winner.
        let mut grad = [0.0f32; 2];
        max_pool_backward(&mut grad, &[3.0], &[1.0, 1.0], &[1.0, 1.0], 1, 2, 2);
        assert_eq!(grad, [3.0, 0.0]);
    }

    /// A ReLU whose input crosses zero passes `Δout / Δin` of the multiplier; one whose input
    /// did not change passes the gradient at x.
    #[test]
    fn rescale_uses_the_ratio_or_the_gradient() {
        let mut m = [1.0f32, 1.0, 1.0, 1.0];
        let pre_x = [2.0, -1.0, 0.5, -0.3];
        let pre_r = [-2.0, 1.0, 0.5, -0.3];
        let out: Vec<f32> = pre_x.iter().map(|v: &f32| v.max(0.0)).collect();
        let out_r: Vec<f32> = pre_r.iter().map(|v: &f32| v.max(0.0)).collect();
        rescale(&mut m, &pre_x, &pre_r, &out, &out_r);
        assert_eq!(m, [0.5, 0.5, 1.0, 0.0]);
    }

    #[test]
    fn recurrent_networks_are_refused_with_the_reason() -> TestResult {
        let (device, _lock) = crate::test_device();
        let model = ModelConfig::Danq.init(InputShape { channels: 4, length: 40, outputs: 1 }, &device)?;
        let error = DeepLiftPlan::new(&model, 4, 40).err().ok_or("a refusal")?;
        assert!(error.to_string().contains("not defined for recurrent layers"), "{error}");
        Ok(())
    }

    /// A JSON array of numbers as `f32` (empty when it is not one).
    fn floats(value: &serde_json::Value) -> Vec<f32> {
        value
            .as_array()
            .map(|a| a.iter().filter_map(serde_json::Value::as_f64).map(|v| v as f32).collect())
            .unwrap_or_default()
    }

    /// A JSON field holding a count.
    fn size(value: &serde_json::Value, key: &str) -> Result<usize, String> {
        value[key].as_u64().map(|v| v as usize).ok_or(key.to_string())
    }

    /// A host network from the fixture's description (omix's host layout).
    fn fixture_plan(
        model: &serde_json::Value,
        channels: usize,
        length: usize,
    ) -> Result<DeepLiftPlan, Box<dyn std::error::Error>> {
        use crate::host::{FoldedBatchNorm, HostConv};
        use burn::module::ParamId;
        let mut blocks = Vec::new();
        let (mut channels_in, mut length_in) = (channels, length);
        for block in model["blocks"].as_array().ok_or("blocks")? {
            let (filters, width, dilation) = (size(block, "filters")?, size(block, "width")?, size(block, "dilation")?);
            let (left, right, pool) = (size(block, "left")?, size(block, "right")?, size(block, "pool")?);
            let positions = length_in + left + right - ((width - 1) * dilation + 1) + 1;
            let batch_norm = (!block["scale"].is_null())
                .then(|| FoldedBatchNorm { scale: floats(&block["scale"]), shift: floats(&block["shift"]) });
            blocks.push(HostBlock {
                conv: HostConv {
                    filters,
                    channels: channels_in,
                    width,
                    dilation,
                    left,
                    weights: floats(&block["weights"]),
                    bias: Some(floats(&block["bias"])),
                    batch_norm,
                    norm: None,
                    weight_id: ParamId::new(),
                    bias_id: None,
                },
                pool,
                dropout: 0.0,
                input_length: length_in,
                positions,
                pooled: positions / pool,
            });
            channels_in = filters;
            length_in = positions / pool;
        }
        let dense = model["dense"]
            .as_array()
            .ok_or("dense")?
            .iter()
            .map(|layer| -> Result<HostDense, Box<dyn std::error::Error>> {
                Ok(HostDense {
                    inputs: size(layer, "inputs")?,
                    outputs: size(layer, "outputs")?,
                    relu: layer["relu"].as_bool().ok_or("relu")?,
                    weights: floats(&layer["weights"]),
                    bias: Some(floats(&layer["bias"])),
                    weight_id: ParamId::new(),
                    bias_id: None,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let global_pool = match model["global_pool"].as_str() {
            Some("none") => GlobalPool::None,
            Some("max") => GlobalPool::Max,
            Some("mean") => GlobalPool::Mean,
            Some("max_mean") => GlobalPool::MaxMean,
            other => return Err(format!("global pool {other:?}").into()),
        };
        Ok(DeepLiftPlan::from_host(HostCnn { blocks, global_pool, dense, dense_dropout: 0.0, channels, length }))
    }

    fn relative_l2(ours: &[f32], theirs: &[f32]) -> f64 {
        let difference: f64 = ours.iter().zip(theirs).map(|(a, b)| f64::from(a - b).powi(2)).sum();
        let norm: f64 = theirs.iter().map(|b| f64::from(*b).powi(2)).sum();
        (difference / norm.max(1e-30)).sqrt()
    }

    /// Multipliers and hypothetical attributions equal tangermeme's `deep_lift_shap` on the
    /// same networks, sequences and references (fixture made by
    /// tests/data/deeplift_tangermeme.py): relative L2 error below 1e-5 per model.
    #[test]
    fn equals_tangermeme_on_the_same_networks_and_references() -> TestResult {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/deeplift_tangermeme.json");
        let fixture: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        let (channels, length, sequences, references) = (
            size(&fixture, "channels")?,
            size(&fixture, "length")?,
            size(&fixture, "sequences")?,
            size(&fixture, "references")?,
        );
        let block = channels * length;
        let models = fixture["models"].as_array().ok_or("models")?;
        assert_eq!(models.len(), 4);
        for model in models {
            let name = model["name"].as_str().unwrap_or_default();
            let plan = fixture_plan(model, channels, length)?;
            let floats = |key: &str| floats(&model[key]);
            let (inputs, reference_inputs) = (floats("inputs"), floats("reference_inputs"));
            let (multipliers, hypothetical) = (floats("multipliers"), floats("hypothetical"));
            let (outputs, reference_outputs) = (floats("output"), floats("reference_output"));
            let target = model["target"].as_u64().ok_or("target")? as usize;
            let (mut ours_m, mut ours_h) = (Vec::new(), Vec::new());
            for n in 0..sequences {
                let input = &inputs[n * block..(n + 1) * block];
                let refs = &reference_inputs[n * references * block..(n + 1) * references * block];
                for r in 0..references {
                    let m = plan.multipliers(input, &refs[r * block..(r + 1) * block], target);
                    assert!((m.output - outputs[n]).abs() < 1e-4, "{name}: output {} vs {}", m.output, outputs[n]);
                    assert!((m.reference_output - reference_outputs[n * references + r]).abs() < 1e-4, "{name}");
                    ours_m.extend(m.values);
                }
                let shap = plan.shap(input, refs, target);
                assert!(shap.max_deviation < 1e-4, "{name}: summation to delta off by {}", shap.max_deviation);
                ours_h.extend(shap.hypothetical);
            }
            let (error_m, error_h) = (relative_l2(&ours_m, &multipliers), relative_l2(&ours_h, &hypothetical));
            eprintln!("{name}: relative L2 vs tangermeme: multipliers {error_m:.1e}, hypothetical {error_h:.1e}");
            assert!(error_m < 1e-5, "{name}: multipliers differ from tangermeme's by {error_m:.2e} (relative L2)");
            assert!(error_h < 1e-5, "{name}: hypothetical attributions differ by {error_h:.2e} (relative L2)");
        }
        Ok(())
    }
}
