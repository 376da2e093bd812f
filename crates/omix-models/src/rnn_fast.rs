//! A hand-written CPU forward and backward pass for recurrent models ([`crate::SequenceRnn`]) with the
//! LSTM cell, the recurrent twin of [`crate::FastPlan`].
//!
//! burn's autodiff runs an LSTM as a few dozen small tensor ops per step, each with its own
//! allocation and graph node; at genomics sizes (tens of steps, a few hundred units) that
//! overhead is most of the time. This module computes the loss and every parameter gradient of
//! a [`crate::SequenceRnn`] directly and hands them back as burn [`GradientsParams`], so that burn's
//! optimisers, records and checkpoints are unchanged. It covers LSTM layers of any number, one
//! or two directions, dropout after each recurrent layer, every readout (last, max, mean,
//! flatten), hidden dense layers with dropout, and a convolution front end without batch-norm
//! (run by [`crate::FastPlan`]'s own block kernels: convolution, ReLU, max pooling, dropout).
//! GRU layers, a front end with batch-norm, or burn LSTM settings omix never builds (clipping,
//! coupled input-forget gate, other activations) make [`RnnPlan::new`] return `None`, and the
//! model trains through burn.
//!
//! **The recurrence.** burn's LSTM (as PyTorch's) keeps four gates, input `i`, forget `f`,
//! output `o` and cell `g`, each with an input map `x·W_x + b_x` and a hidden map `h·W_h + b_h`
//! (`W` stored `[inputs][hidden]`); `c_t = f·c_{t−1} + i·g`, `h_t = o·tanh(c_t)`, from zero
//! states. The kernel packs the four gates side by side, `[inputs][4·hidden]` in the order
//! `i, f, o, g`, and adds the two biases. Everything after the front end runs over the whole
//! batch at once, buffers step-major `[step][example]`. Per layer and direction, the input map of
//! every step is ONE product `[steps·batch, inputs] · [inputs, 4·hidden]`; then each step adds
//! its `[batch, hidden] · [hidden, 4·hidden]` hidden product and runs the gate kernel (sigmoid,
//! tanh, cell update, through an `exp` written to compile to SIMD, under `pulp`'s runtime
//! dispatch), keeping the gates and cells for the backward pass. Backward through time runs the
//! steps in reverse with the mirror product (`dz · W_hᵀ`); the weight gradients are then one
//! product each over all steps and examples (`inputᵀ · dz`, `h_prevᵀ · dz`), and the input
//! gradient one product `dz · W_xᵀ` per direction. The reverse direction runs the steps from last
//! to first and writes its state at each step's own position, as burn's `BiLstm` does. The two
//! directions of a layer are independent and run as two rayon tasks (`rayon::join`). The dense
//! layers, forward and backward (weights `xᵀ · delta` with the whole batch as the inner
//! dimension), are one product each, cut into fixed blocks of the output's rows or columns on
//! rayon's pool ([`crate::fast`]'s `product_by_row_blocks`, `product_by_column_blocks`).
//!
//! **Determinism.** No sum is ever split by the thread count: every weight gradient is one
//! product over the whole batch (each element one dot product, in a fixed order), the bias
//! gradients and the loss are summed in example order, the input gradients of the two directions
//! are added in direction order, and the front end runs on [`crate::FastPlan`]'s fixed
//! partitions. A product's output is cut into fixed blocks, whatever the thread count, so the
//! numbers are the same on any thread count (tested).
//!
//! **Dropout masks** come from the step's `dropout_seed`, as in [`crate::FastPlan`]: example
//! `n` of a batch draws from ChaCha8 seeded with `dropout_seed` on stream `n`, first every
//! dropped front-end block's cells (block order, position-major `[position][filter]`), then
//! every recurrent layer's output cells (layer order, `[step][direction·hidden]`, the forward
//! direction's units before the reverse direction's), then every hidden dense layer's units; a
//! cell is kept when its uniform draw in `[0, 1)` is below `1 − p`, and kept cells are scaled by
//! `1 / (1 − p)` as in burn.
//!
//! Results equal burn's autodiff (tested to 1e-4, dropout with the same masks).

use burn::module::ParamId;
use burn::nn::activation::Activation;
use burn::nn::{Linear, Lstm};
use burn::optim::GradientsParams;
use burn::prelude::*;
use rayon::prelude::*;

use crate::Model;
use crate::config::{GlobalPool, ModelError};
use crate::fast::{
    DENSE_BLOCK, Example, FastLoss, Gradients, Mode, Network, filters_last, matmul, on_pool, product_by_column_blocks,
    product_by_row_blocks, register_conv_gradients, relu_dropout_backward, transpose, transposed_product_by_rows,
};
use crate::gemm::Layout;
use crate::host::{HostCnn, HostDense, Layer, block_lengths, host_blocks};
use crate::rnn::{Readout, Recurrent};

/// Examples per inference pass of [`RnnPlan::logits`] (bounds the memory the traces take).
const INFERENCE_CHUNK: usize = 64;

/// A recurrent model the fast path can run, on inputs `[channels, length]`.
///
/// Like [`crate::FastPlan`], the plan holds no weights: every call copies the model's current
/// weights and checks again that the kernel implements that network.
#[derive(Debug, Clone)]
pub struct RnnPlan {
    channels: usize,
    length: usize,
}

/// burn's ids of one gate's parameters.
struct GateIds {
    input_weight: ParamId,
    input_bias: Option<ParamId>,
    hidden_weight: ParamId,
    hidden_bias: Option<ParamId>,
}

/// One direction of an LSTM layer as numbers, gates packed `i, f, o, g`.
struct HostLstm {
    /// Features per step entering the layer.
    inputs: usize,
    /// Input weights `[inputs][4·hidden]`.
    input_weights: Vec<f32>,
    /// Hidden weights `[hidden][4·hidden]`.
    hidden_weights: Vec<f32>,
    /// Input plus hidden bias `[4·hidden]` (zeros without biases).
    bias: Vec<f32>,
    /// Per gate, `i, f, o, g`.
    ids: Vec<GateIds>,
}

/// The network as the kernel runs it.
struct RnnNetwork {
    /// The convolution front end (no dense layers), as [`crate::FastPlan`] runs it.
    front: Network,
    /// Per recurrent layer, its directions (forward, then reverse).
    layers: Vec<Vec<HostLstm>>,
    hidden: usize,
    steps: usize,
    dropout: f64,
    readout: Readout,
    /// Hidden dense layers (ReLU), then the output layer.
    dense: Vec<HostDense>,
    dense_dropout: f64,
}

/// One direction's record of the batch's forward pass, every buffer step-major `[step][example]`.
struct DirectionTrace {
    /// Gate values after their activations `[steps][examples][4·hidden]`.
    gates: Vec<f32>,
    /// Cell states `[steps][examples][hidden]`.
    cells: Vec<f32>,
    /// Hidden states `[steps][examples][hidden]`.
    hidden: Vec<f32>,
}

/// One recurrent layer's record of the batch's forward pass.
struct LayerTrace {
    /// The layer's input `[steps][examples][inputs]`.
    input: Vec<f32>,
    directions: Vec<DirectionTrace>,
    /// Dropout multipliers of its output `[steps][examples][directions·hidden]` (empty without).
    mask: Vec<f32>,
}

/// What the batch keeps between the forward and the backward pass.
struct BatchTrace {
    layers: Vec<LayerTrace>,
    /// Max readout: the step of each feature's maximum `[examples][directions·hidden]`.
    argmax: Vec<usize>,
    /// Inputs of each dense layer `[examples][inputs]`.
    dense_inputs: Vec<Vec<f32>>,
    /// Dropout multipliers after each hidden dense layer `[examples][units]` (empty without).
    dense_masks: Vec<Vec<f32>>,
}

/// Gradients of one direction of an LSTM layer, in the kernel's packed layouts.
struct LstmGradients {
    /// `[inputs][4·hidden]`.
    input_weights: Vec<f32>,
    /// `[hidden][4·hidden]`.
    hidden_weights: Vec<f32>,
    /// `[4·hidden]`, the gradient of both biases.
    bias: Vec<f32>,
}

/// Gradients of the recurrent and dense layers: per layer and direction, per dense layer
/// `(weights, bias)`.
struct RnnGradients {
    layers: Vec<Vec<LstmGradients>>,
    dense: Vec<(Vec<f32>, Vec<f32>)>,
}

/// `e^x` for `x` in `[−87, 87]` (clamped there), within 2 ulp: Cephes' `expf`, `2^n · e^r` with
/// `|r| ≤ ln 2 / 2` and a degree-6 polynomial for `e^r`. Plain arithmetic and bit moves, so that a
/// loop of it compiles to SIMD (libm's `expf` is a call per value).
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // 1.5 · 2^23: adding it rounds to the nearest integer, held in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 87.0);
    let shifted = x * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let mut p = 1.987_569_2e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let p = p * (r * r) + r + 1.0;
    // 2^n through the exponent bits (n in [−126, 126] after the clamp).
    let scale = f32::from_bits(((shifted.to_bits() as i32 - ROUND.to_bits() as i32 + 127) << 23) as u32);
    p * scale
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh(x) = 2·sigmoid(2x) − 1`, through `exp` (within 1e-7 absolute; the tests hold it to
/// burn's `tanh`).
#[inline(always)]
fn tanh(x: f32) -> f32 {
    2.0 / (1.0 + exp(-2.0 * x)) - 1.0
}

/// The LSTMs of a layer, forward direction first; `None` for a GRU.
fn lstms(layer: &Recurrent) -> Option<Vec<&Lstm>> {
    match layer {
        Recurrent::Lstm(lstm) => Some(vec![lstm]),
        Recurrent::BiLstm(bi) => Some(vec![&bi.forward, &bi.reverse]),
        Recurrent::Gru(_) | Recurrent::BiGru(_) => None,
    }
}

/// `lstm`'s gates in the kernel's order `i, f, o, g` (`None` with a coupled input-forget gate).
fn gates(lstm: &Lstm) -> Option<[&burn::nn::GateController; 4]> {
    Some([&lstm.input_gate, lstm.forget_gate.as_ref()?, &lstm.output_gate, &lstm.cell_gate])
}

/// Whether the kernel implements `lstm` (burn's defaults, as omix builds it) on `inputs`
/// features per step; reads shapes only.
fn supported_lstm(lstm: &Lstm, inputs: usize, hidden: usize) -> bool {
    let settings = lstm.batch_first
        && !lstm.reverse
        && lstm.clip.is_none()
        && !lstm.input_forget
        && lstm.d_hidden == hidden
        && matches!(lstm.gate_activation, Activation::Sigmoid(_))
        && matches!(lstm.cell_activation, Activation::Tanh(_))
        && matches!(lstm.hidden_activation, Activation::Tanh(_));
    let Some(gates) = gates(lstm) else { return false };
    let bias = gates[0].input_transform.bias.is_some();
    settings
        && gates.iter().all(|gate| {
            gate.input_transform.weight.lazy_shape().dims::<2>() == [inputs, hidden]
                && gate.hidden_transform.weight.lazy_shape().dims::<2>() == [hidden, hidden]
                && gate.input_transform.bias.is_some() == bias
                && gate.hidden_transform.bias.is_some() == bias
        })
}

/// Copy one direction out of burn: gate by gate, input map (weights, bias) before hidden map.
fn host_lstm(lstm: &Lstm, inputs: usize, hidden: usize, layer: Layer) -> Result<HostLstm, ModelError> {
    let gates = gates(lstm)
        .ok_or(ModelError::HostLayout { layer: layer.to_string(), reason: "has a coupled input-forget gate".into() })?;
    let width = 4 * hidden;
    let mut input_weights = vec![0.0f32; inputs * width];
    let mut hidden_weights = vec![0.0f32; hidden * width];
    let mut bias = vec![0.0f32; width];
    let mut ids = Vec::with_capacity(4);
    let place = |packed: &mut [f32], weights: &[f32], rows: usize, k: usize| {
        for r in 0..rows {
            packed[r * width + k * hidden..r * width + (k + 1) * hidden]
                .copy_from_slice(&weights[r * hidden..(r + 1) * hidden]);
        }
    };
    for (k, gate) in gates.iter().enumerate() {
        let read = |linear: &Linear| HostDense::from_linear(linear, false, layer);
        let input = read(&gate.input_transform)?;
        let recurrent = read(&gate.hidden_transform)?;
        place(&mut input_weights, &input.weights, inputs, k);
        place(&mut hidden_weights, &recurrent.weights, hidden, k);
        for b in [&input.bias, &recurrent.bias].into_iter().flatten() {
            bias[k * hidden..(k + 1) * hidden].iter_mut().zip(b).for_each(|(a, b)| *a += b);
        }
        ids.push(GateIds {
            input_weight: input.weight_id,
            input_bias: input.bias_id,
            hidden_weight: recurrent.weight_id,
            hidden_bias: recurrent.bias_id,
        });
    }
    Ok(HostLstm { inputs, input_weights, hidden_weights, bias, ids })
}

/// The steps of one direction in the order it runs them, each with the step it continues from.
fn step_order(direction: usize, steps: usize) -> impl Iterator<Item = (usize, Option<usize>)> {
    (0..steps).map(
        move |s| {
            if direction == 0 { (s, s.checked_sub(1)) } else { (steps - 1 - s, (s > 0).then_some(steps - s)) }
        },
    )
}

impl RnnPlan {
    /// A plan for `model` on inputs `[channels, length]`, or `None` when the model is not a
    /// [`crate::SequenceRnn`] the kernel implements (LSTM layers, a front end without batch-norm), its
    /// layers do not fit that input, or it lives on a device the host kernels do not serve.
    /// Reads shapes only: a fresh model's lazily initialised parameters are drawn by the first
    /// call that copies the model, in the kernel's reading order (front end, recurrent layers
    /// gate by gate, dense layers).
    pub fn new(model: &Model, channels: usize, length: usize) -> Option<Self> {
        let Model::Rnn(rnn) = model else {
            return None;
        };
        if !crate::on_host(model) || rnn.front.iter().any(|block| block.norm().is_some()) {
            return None;
        }
        let (_, mut features, steps) = block_lengths(&rnn.front, channels, length).ok()?;
        let hidden = rnn.recurrent.first().and_then(lstms)?.first()?.d_hidden;
        for layer in &rnn.recurrent {
            let directions = lstms(layer)?;
            if directions.len() != if rnn.bidirectional { 2 } else { 1 } {
                return None;
            }
            if !directions.iter().all(|lstm| supported_lstm(lstm, features, hidden)) {
                return None;
            }
            features = directions.len() * hidden;
        }
        if rnn.readout == Readout::Flatten {
            features *= steps;
        }
        for linear in rnn.dense.iter().chain([&rnn.output]) {
            let [inputs, outputs] = linear.weight.lazy_shape().dims::<2>();
            if inputs != features {
                return None;
            }
            features = outputs;
        }
        Some(Self { channels, length })
    }

    /// `model`'s current weights as the kernel runs them.
    fn network(&self, model: &Model) -> Option<RnnNetwork> {
        let Model::Rnn(rnn) = model else {
            return None;
        };
        Self::new(model, self.channels, self.length)?;
        let blocks = host_blocks(&rnn.front, self.channels, self.length).ok()?;
        let (_, mut features, steps) = block_lengths(&rnn.front, self.channels, self.length).ok()?;
        let host = HostCnn {
            blocks,
            global_pool: GlobalPool::None,
            dense: Vec::new(),
            dense_dropout: 0.0,
            channels: self.channels,
            length: self.length,
        };
        let conv_weights = filters_last(&host);
        let hidden = rnn.recurrent.first().and_then(lstms)?.first()?.d_hidden;
        let mut layers = Vec::with_capacity(rnn.recurrent.len());
        for (index, layer) in rnn.recurrent.iter().enumerate() {
            let directions: Result<Vec<HostLstm>, ModelError> = lstms(layer)?
                .into_iter()
                .map(|lstm| host_lstm(lstm, features, hidden, Layer::Recurrent(index + 1)))
                .collect();
            let directions = directions.ok()?;
            features = directions.len() * hidden;
            layers.push(directions);
        }
        let mut dense = Vec::with_capacity(rnn.dense.len() + 1);
        for (index, linear) in rnn.dense.iter().enumerate() {
            dense.push(HostDense::from_linear(linear, true, Layer::Dense(index + 1)).ok()?);
        }
        dense.push(HostDense::from_linear(&rnn.output, false, Layer::Output).ok()?);
        Some(RnnNetwork {
            front: Network { host, conv_weights },
            layers,
            hidden,
            steps,
            dropout: rnn.dropout.prob,
            readout: rnn.readout,
            dense,
            dense_dropout: rnn.dense_dropout.prob,
        })
    }

    /// Logits `[batch, outputs]` of a batch `[batch, channels, length]` (inference: no dropout).
    ///
    /// `None` when `model` is not the recurrent model the plan was made for.
    pub fn logits(&self, model: &Model, inputs: &[f32]) -> Option<Vec<f32>> {
        let network = self.network(model)?;
        let size = (self.channels * self.length).max(1);
        let count = inputs.len() / size;
        let mut logits = Vec::with_capacity(count * network.outputs());
        on_pool(|| {
            for chunk in inputs[..count * size].chunks(INFERENCE_CHUNK * size) {
                let mode = Mode::Training { dropout_seed: 0 };
                let mut examples: Vec<Example> =
                    (0..chunk.len() / size).map(|n| Example::new(mode, n, false)).collect();
                network.forward(chunk, &mut examples);
                examples.iter().for_each(|example| logits.extend_from_slice(&example.logits));
            }
        });
        Some(logits)
    }

    /// Weighted mean loss of a batch and the gradients of every parameter (training mode:
    /// dropout with masks drawn from `dropout_seed`, see the module docs).
    ///
    /// `inputs` is `[batch, channels, length]`, `targets` `[batch, outputs]`, `weights` `[batch]`,
    /// all row-major; the loss is `sum(weight × loss) / batch` as in `omix_train::batch_loss`.
    #[allow(clippy::too_many_arguments)]
    pub fn loss_and_gradients(
        &self,
        model: &Model,
        inputs: &[f32],
        targets: &[f32],
        weights: &[f32],
        loss: FastLoss,
        dropout_seed: u64,
        device: &Device,
    ) -> Option<(f64, GradientsParams)> {
        let network = self.network(model)?;
        let (total, front, gradients) = on_pool(|| {
            let (mut examples, traces) = network.training_forward(inputs, weights.len(), dropout_seed);
            network.backward(&mut examples, &traces, targets, weights, loss)
        });

        let mut params = GradientsParams::new();
        register_conv_gradients(&mut params, &network.front.host.blocks, front.conv, device);
        let hidden = network.hidden;
        let width = 4 * hidden;
        // Columns `[k·hidden, (k+1)·hidden)` of a packed `[rows][4·hidden]` matrix.
        let gate = |packed: &[f32], rows: usize, k: usize| -> Vec<f32> {
            let mut out = Vec::with_capacity(rows * hidden);
            for row in packed.chunks_exact(width).take(rows) {
                out.extend_from_slice(&row[k * hidden..(k + 1) * hidden]);
            }
            out
        };
        for (directions, grads) in network.layers.iter().zip(gradients.layers) {
            for (lstm, LstmGradients { input_weights: wx, hidden_weights: wh, bias: b }) in directions.iter().zip(grads)
            {
                for (k, ids) in lstm.ids.iter().enumerate() {
                    let input = gate(&wx, lstm.inputs, k);
                    params.register(
                        ids.input_weight,
                        Tensor::<2>::from_data(TensorData::new(input, [lstm.inputs, hidden]), device),
                    );
                    let recurrent = gate(&wh, hidden, k);
                    params.register(
                        ids.hidden_weight,
                        Tensor::<2>::from_data(TensorData::new(recurrent, [hidden, hidden]), device),
                    );
                    // Both biases are added to the same pre-activation: the same gradient.
                    for id in [ids.input_bias, ids.hidden_bias].into_iter().flatten() {
                        let bias = b[k * hidden..(k + 1) * hidden].to_vec();
                        params.register(id, Tensor::<1>::from_data(TensorData::new(bias, [hidden]), device));
                    }
                }
            }
        }
        for (layer, (w, b)) in network.dense.iter().zip(gradients.dense) {
            params.register(
                layer.weight_id,
                Tensor::<2>::from_data(TensorData::new(w, [layer.inputs, layer.outputs]), device),
            );
            if let Some(id) = layer.bias_id {
                params.register(id, Tensor::<1>::from_data(TensorData::new(b, [layer.outputs]), device));
            }
        }
        Some((total, params))
    }
}

impl RnnNetwork {
    fn outputs(&self) -> usize {
        self.dense.last().map_or(0, |layer| layer.outputs)
    }

    fn directions(&self) -> usize {
        self.layers.first().map_or(1, Vec::len)
    }

    /// Features leaving the readout.
    fn readout_features(&self) -> usize {
        let features = self.directions() * self.hidden;
        if self.readout == Readout::Flatten { features * self.steps } else { features }
    }

    /// Whether a training pass draws any dropout mask.
    fn drops(&self) -> bool {
        self.dropout > 0.0
            || (self.dense_dropout > 0.0 && self.dense.len() > 1)
            || self.front.host.blocks.iter().any(|block| block.dropout > 0.0)
    }

    /// The training forward pass of a batch: its examples (front-end records, logits) and the
    /// batch's trace.
    fn training_forward(&self, inputs: &[f32], batch: usize, dropout_seed: u64) -> (Vec<Example>, BatchTrace) {
        let mode = Mode::Training { dropout_seed };
        let dropout = self.drops();
        let mut examples: Vec<Example> = (0..batch).map(|n| Example::new(mode, n, dropout)).collect();
        let trace = self.forward(inputs, &mut examples);
        (examples, trace)
    }

    /// The forward pass: the front end example by example (as [`crate::FastPlan`] runs it), then
    /// the recurrent, readout and dense layers over the whole batch; leaves each example's logits
    /// in `example.logits`.
    fn forward(&self, inputs: &[f32], examples: &mut [Example]) -> BatchTrace {
        let host = &self.front.host;
        let size = host.channels * host.length;
        examples.par_iter_mut().enumerate().for_each(|(n, example)| {
            // Channel-major [C, L] in, position-major [L, C] kept.
            example.activations.push(transpose(&inputs[n * size..(n + 1) * size], host.channels, host.length));
        });
        for (index, block) in host.blocks.iter().enumerate() {
            examples.par_chunks_mut(DENSE_BLOCK).for_each(|examples| self.front.convolve(index, examples));
            examples.par_iter_mut().for_each(|example| self.front.activate(block, None, example));
        }
        self.forward_batch(examples)
    }

    /// The recurrent, readout and dense layers of the batch.
    fn forward_batch(&self, examples: &mut [Example]) -> BatchTrace {
        let (bs, steps, hidden) = (examples.len(), self.steps, self.hidden);
        let last = self.front.host.blocks.len();
        let first_inputs = self.layers.first().and_then(|d| d.first()).map_or(0, |lstm| lstm.inputs);
        // The first layer's input, step-major [steps][examples][features].
        let mut x = vec![0.0f32; steps * bs * first_inputs];
        for (n, example) in examples.iter().enumerate() {
            for (t, row) in example.activations[last].chunks_exact(first_inputs.max(1)).enumerate() {
                x[(t * bs + n) * first_inputs..(t * bs + n + 1) * first_inputs].copy_from_slice(row);
            }
        }
        let mut layers = Vec::with_capacity(self.layers.len());
        for directions in &self.layers {
            let features = directions.len() * hidden;
            // The directions are independent: one rayon task each.
            let run = |d: usize| Self::run_direction(&directions[d], d, &x, bs, steps, hidden);
            let traces: Vec<DirectionTrace> = if directions.len() == 2 {
                let (forward, reverse) = rayon::join(|| run(0), || run(1));
                vec![forward, reverse]
            } else {
                (0..directions.len()).map(run).collect()
            };
            // Concatenate the directions: [steps][examples][directions·hidden].
            let mut y = vec![0.0f32; steps * bs * features];
            for (d, trace) in traces.iter().enumerate() {
                for (row, h) in y.chunks_exact_mut(features).zip(trace.hidden.chunks_exact(hidden)) {
                    row[d * hidden..(d + 1) * hidden].copy_from_slice(h);
                }
            }
            let drawn: Vec<Vec<f32>> =
                examples.par_iter_mut().map(|example| example.draw_mask(steps * features, self.dropout)).collect();
            let mut mask = Vec::new();
            if drawn.iter().all(|drawn| drawn.len() == steps * features) && self.dropout > 0.0 {
                // Step-major, as the output: [steps][examples][directions·hidden].
                mask = vec![0.0f32; y.len()];
                for (n, drawn) in drawn.iter().enumerate() {
                    for t in 0..steps {
                        mask[(t * bs + n) * features..(t * bs + n + 1) * features]
                            .copy_from_slice(&drawn[t * features..(t + 1) * features]);
                    }
                }
                y.iter_mut().zip(&mask).for_each(|(v, m)| *v *= m);
            }
            layers.push(LayerTrace { input: std::mem::replace(&mut x, y), directions: traces, mask });
        }
        let (features, argmax) = self.readout(&x, bs);
        let mut trace = BatchTrace { layers, argmax, dense_inputs: Vec::new(), dense_masks: Vec::new() };
        let mut current = features;
        for spec in &self.dense {
            let mut y: Vec<f32> = spec.bias_or_zeros().iter().copied().cycle().take(bs * spec.outputs).collect();
            product_by_column_blocks(
                (&current, Layout::row_major(bs, spec.inputs)),
                (&spec.weights, Layout::row_major(spec.inputs, spec.outputs)),
                &mut y,
                true,
            );
            if spec.relu {
                y.iter_mut().for_each(|v| *v = v.max(0.0));
                let mut mask = Vec::new();
                if self.dense_dropout > 0.0 {
                    let drawn: Vec<Vec<f32>> = examples
                        .par_iter_mut()
                        .map(|example| example.draw_mask(spec.outputs, self.dense_dropout))
                        .collect();
                    if drawn.iter().all(|drawn| drawn.len() == spec.outputs) {
                        mask = drawn.concat();
                        y.iter_mut().zip(&mask).for_each(|(v, m)| *v *= m);
                    }
                }
                trace.dense_masks.push(mask);
            }
            trace.dense_inputs.push(std::mem::replace(&mut current, y));
        }
        let outputs = self.outputs();
        for (example, logits) in examples.iter_mut().zip(current.chunks_exact(outputs.max(1))) {
            example.logits = logits.to_vec();
        }
        trace
    }

    /// One direction of an LSTM layer over the batch: `x` is `[steps][examples][inputs]`.
    fn run_direction(
        lstm: &HostLstm,
        direction: usize,
        x: &[f32],
        bs: usize,
        steps: usize,
        hidden: usize,
    ) -> DirectionTrace {
        let width = 4 * hidden;
        let rows = steps * bs;
        // Every step's input map at once: [steps·examples, inputs] · [inputs, 4·hidden] + bias.
        let mut gates: Vec<f32> = lstm.bias.iter().copied().cycle().take(rows * width).collect();
        matmul(x, false, &lstm.input_weights, false, &mut gates, (rows, lstm.inputs, width), 1.0);
        let mut cells = vec![0.0f32; rows * hidden];
        let mut states = vec![0.0f32; rows * hidden];
        let block = bs * hidden;
        for (t, previous) in step_order(direction, steps) {
            let z = &mut gates[t * bs * width..(t + 1) * bs * width];
            if let Some(p) = previous {
                matmul(
                    &states[p * block..(p + 1) * block],
                    false,
                    &lstm.hidden_weights,
                    false,
                    z,
                    (bs, hidden, width),
                    1.0,
                );
            }
            let (c_before, c_now) = split_steps(&mut cells, block, t, previous);
            let h_now = &mut states[t * block..(t + 1) * block];
            pulp::Arch::new().dispatch(GateStep { z, c_before, c: c_now, h: h_now, hidden });
        }
        DirectionTrace { gates, cells, hidden: states }
    }

    /// The readout of the batch's last recurrent output `[steps][examples][features]`: features
    /// `[examples][readout features]` and, for max, each feature's step.
    fn readout(&self, y: &[f32], bs: usize) -> (Vec<f32>, Vec<usize>) {
        let (steps, hidden) = (self.steps, self.hidden);
        let features = self.directions() * hidden;
        let width = self.readout_features();
        let mut out = vec![0.0f32; bs * width];
        let mut argmax = Vec::new();
        let at = |t: usize, n: usize| &y[(t * bs + n) * features..(t * bs + n + 1) * features];
        match self.readout {
            Readout::Last => {
                for n in 0..bs {
                    let row = &mut out[n * width..(n + 1) * width];
                    row[..hidden].copy_from_slice(&at(steps - 1, n)[..hidden]);
                    if features > hidden {
                        // The reverse direction ends at the first step.
                        row[hidden..].copy_from_slice(&at(0, n)[hidden..]);
                    }
                }
            }
            Readout::Max => {
                argmax = vec![0usize; bs * features];
                for n in 0..bs {
                    let row = &mut out[n * width..(n + 1) * width];
                    let best = &mut argmax[n * features..(n + 1) * features];
                    row.copy_from_slice(at(0, n));
                    for t in 1..steps {
                        for ((value, index), v) in row.iter_mut().zip(best.iter_mut()).zip(at(t, n)) {
                            if *v > *value {
                                (*value, *index) = (*v, t);
                            }
                        }
                    }
                }
            }
            Readout::Mean => {
                for n in 0..bs {
                    let row = &mut out[n * width..(n + 1) * width];
                    for t in 0..steps {
                        row.iter_mut().zip(at(t, n)).for_each(|(s, v)| *s += v);
                    }
                    row.iter_mut().for_each(|s| *s /= steps as f32);
                }
            }
            Readout::Flatten => {
                for n in 0..bs {
                    for t in 0..steps {
                        out[n * width + t * features..n * width + (t + 1) * features].copy_from_slice(at(t, n));
                    }
                }
            }
        }
        (out, argmax)
    }

    /// The backward pass after [`RnnNetwork::training_forward`]: the weighted mean loss, the
    /// front end's gradients and the recurrent and dense layers'.
    fn backward(
        &self,
        examples: &mut [Example],
        trace: &BatchTrace,
        targets: &[f32],
        weights: &[f32],
        loss: FastLoss,
    ) -> (f64, Gradients, RnnGradients) {
        let batch = weights.len();
        let outputs = self.outputs();
        let losses: Vec<f64> = examples
            .par_iter_mut()
            .enumerate()
            .map(|(n, example)| {
                let target = &targets[n * outputs..(n + 1) * outputs];
                Network::loss_gradient(example, target, f64::from(weights[n]) / batch as f64, loss)
            })
            .collect();
        // Summed in example order: the same additions whatever the thread count.
        let total = losses.iter().sum();
        let gradients = self.backward_batch(examples, trace);
        // The front end, as [`crate::FastPlan`] runs it.
        let mut front = self.front.zero_gradients();
        for index in (0..self.front.host.blocks.len()).rev() {
            let block = &self.front.host.blocks[index];
            examples.par_iter_mut().for_each(|example| Network::backward_activation(block, index, example));
            self.front.convolution_weight_gradients(index, examples, &mut front);
            if index > 0 {
                examples
                    .par_chunks_mut(DENSE_BLOCK)
                    .for_each(|examples| self.front.convolution_input_gradients(index, examples));
            }
        }
        (total, front, gradients)
    }

    /// Backward through the dense, readout and recurrent layers of the batch, from each
    /// example's logit gradient in `example.delta`; leaves in `example.delta` the gradient of
    /// the front end's output `[steps, features]` and returns the weight gradients.
    fn backward_batch(&self, examples: &mut [Example], trace: &BatchTrace) -> RnnGradients {
        let (bs, steps, hidden) = (examples.len(), self.steps, self.hidden);
        let mut delta: Vec<f32> = examples.iter().flat_map(|example| example.delta.iter().copied()).collect();
        let mut dense = Vec::with_capacity(self.dense.len());
        for index in (0..self.dense.len()).rev() {
            let spec = &self.dense[index];
            let x = &trace.dense_inputs[index];
            // Weights: xᵀ · delta, every example in one product.
            let mut gw = vec![0.0f32; spec.inputs * spec.outputs];
            transposed_product_by_rows(x, &delta, &mut gw, (spec.inputs, bs, spec.outputs));
            let mut gb = Vec::new();
            if spec.bias.is_some() {
                gb = vec![0.0f32; spec.outputs];
                for row in delta.chunks_exact(spec.outputs) {
                    gb.iter_mut().zip(row).for_each(|(a, d)| *a += d);
                }
            }
            dense.push((gw, gb));
            let mut back = vec![0.0f32; bs * spec.inputs];
            product_by_column_blocks(
                (&delta, Layout::row_major(bs, spec.outputs)),
                (&spec.weights, Layout::row_major(spec.inputs, spec.outputs).transposed()),
                &mut back,
                false,
            );
            if index > 0 {
                // The previous layer's ReLU and dropout: its output is this layer's input.
                relu_dropout_backward(&mut back, x, &trace.dense_masks[index - 1]);
            }
            delta = back;
        }
        dense.reverse();
        // Through the readout into the last layer's output [steps][examples][features].
        let features = self.directions() * hidden;
        let width = self.readout_features();
        let mut dy = vec![0.0f32; steps * bs * features];
        let row = |t: usize, n: usize| (t * bs + n) * features;
        for n in 0..bs {
            let d = &delta[n * width..(n + 1) * width];
            match self.readout {
                Readout::Last => {
                    let last = row(steps - 1, n);
                    dy[last..last + hidden].iter_mut().zip(&d[..hidden]).for_each(|(a, b)| *a += b);
                    if features > hidden {
                        let first = row(0, n);
                        dy[first + hidden..first + features].iter_mut().zip(&d[hidden..]).for_each(|(a, b)| *a += b);
                    }
                }
                Readout::Max => {
                    for (j, &t) in trace.argmax[n * features..(n + 1) * features].iter().enumerate() {
                        dy[row(t, n) + j] += d[j];
                    }
                }
                Readout::Mean => {
                    for t in 0..steps {
                        let r = row(t, n);
                        dy[r..r + features].iter_mut().zip(d).for_each(|(a, b)| *a = b / steps as f32);
                    }
                }
                Readout::Flatten => {
                    for t in 0..steps {
                        let r = row(t, n);
                        dy[r..r + features].copy_from_slice(&d[t * features..(t + 1) * features]);
                    }
                }
            }
        }
        // Backward through the recurrent layers, last to first.
        let mut layers = Vec::with_capacity(self.layers.len());
        for (directions, layer_trace) in self.layers.iter().zip(&trace.layers).rev() {
            if !layer_trace.mask.is_empty() {
                dy.iter_mut().zip(&layer_trace.mask).for_each(|(d, m)| *d *= m);
            }
            // The directions are independent: one rayon task each.
            let run = |d: usize| {
                Self::backward_direction(
                    &directions[d],
                    d,
                    &layer_trace.directions[d],
                    &layer_trace.input,
                    &dy,
                    features,
                    bs,
                    steps,
                    hidden,
                )
            };
            let results: Vec<(LstmGradients, Vec<f32>)> = if directions.len() == 2 {
                let (forward, reverse) = rayon::join(|| run(0), || run(1));
                vec![forward, reverse]
            } else {
                (0..directions.len()).map(run).collect()
            };
            // The input gradient, Σ over directions of dz · W_xᵀ, added in direction order.
            let inputs = directions[0].inputs;
            let rows = steps * bs;
            let mut dx = vec![0.0f32; rows * inputs];
            let mut gradients = Vec::with_capacity(results.len());
            for (d, (g, dz)) in results.into_iter().enumerate() {
                product_by_row_blocks(
                    (&dz, Layout::row_major(rows, 4 * hidden)),
                    (&directions[d].input_weights, Layout::row_major(inputs, 4 * hidden).transposed()),
                    &mut dx,
                    d > 0,
                );
                gradients.push(g);
            }
            layers.push(gradients);
            dy = dx;
        }
        layers.reverse();
        // The front end's output gradient, position-major per example.
        let inputs = self.layers.first().and_then(|d| d.first()).map_or(0, |lstm| lstm.inputs);
        examples.par_iter_mut().enumerate().for_each(|(n, example)| {
            let mut d = vec![0.0f32; steps * inputs];
            for t in 0..steps {
                d[t * inputs..(t + 1) * inputs].copy_from_slice(&dy[(t * bs + n) * inputs..(t * bs + n + 1) * inputs]);
            }
            example.delta = d;
        });
        RnnGradients { layers, dense }
    }

    /// Backward through time of one direction: `dy` is the gradient of the layer's output
    /// `[steps][examples][features]` (this direction's columns at `direction·hidden`). Returns
    /// the direction's weight gradients and the gradient of its pre-activations `dz`
    /// `[steps][examples][4·hidden]`, from which the caller takes the input gradient.
    #[allow(clippy::too_many_arguments)]
    fn backward_direction(
        lstm: &HostLstm,
        direction: usize,
        trace: &DirectionTrace,
        input: &[f32],
        dy: &[f32],
        features: usize,
        bs: usize,
        steps: usize,
        hidden: usize,
    ) -> (LstmGradients, Vec<f32>) {
        let width = 4 * hidden;
        let rows = steps * bs;
        let mut dz = vec![0.0f32; rows * width];
        let mut dh_next = vec![0.0f32; bs * hidden];
        let mut dc_next = vec![0.0f32; bs * hidden];
        let block = bs * hidden;
        let order: Vec<(usize, Option<usize>)> = step_order(direction, steps).collect();
        for &(t, previous) in order.iter().rev() {
            let gates = &trace.gates[t * bs * width..(t + 1) * bs * width];
            let out = &mut dz[t * bs * width..(t + 1) * bs * width];
            let cells = &trace.cells[t * block..(t + 1) * block];
            let c_before = previous.map(|p| &trace.cells[p * block..(p + 1) * block]);
            let upstream = &dy[t * bs * features..(t + 1) * bs * features];
            pulp::Arch::new().dispatch(GateStepBackward {
                gates,
                cells,
                c_before,
                upstream,
                offset: direction * hidden,
                features,
                dh_next: &dh_next,
                dc_next: &mut dc_next,
                dz: out,
                hidden,
            });
            if previous.is_some() {
                matmul(out, false, &lstm.hidden_weights, true, &mut dh_next, (bs, width, hidden), 0.0);
            }
        }
        let mut input_weights = vec![0.0f32; lstm.inputs * width];
        matmul(input, true, &dz, false, &mut input_weights, (lstm.inputs, rows, width), 0.0);
        // Each step's hidden map reads the state of the step it continues from: the forward
        // direction pairs states 0..steps−1 with steps 1..steps, the reverse 1..steps with 0..steps−1.
        let mut hidden_weights = vec![0.0f32; hidden * width];
        if steps > 1 {
            let pairs = (steps - 1) * bs;
            let (states, later) = if direction == 0 {
                (&trace.hidden[..pairs * hidden], &dz[bs * width..])
            } else {
                (&trace.hidden[bs * hidden..], &dz[..pairs * width])
            };
            matmul(states, true, later, false, &mut hidden_weights, (hidden, pairs, width), 0.0);
        }
        let mut bias = vec![0.0f32; width];
        for r in dz.chunks_exact(width) {
            bias.iter_mut().zip(r).for_each(|(a, d)| *a += d);
        }
        (LstmGradients { input_weights, hidden_weights, bias }, dz)
    }
}

/// The cell buffers of step `t` (written) and of the step it continues from (read), `block`
/// values per step.
fn split_steps(cells: &mut [f32], block: usize, t: usize, previous: Option<usize>) -> (Option<&[f32]>, &mut [f32]) {
    match previous {
        None => (None, &mut cells[t * block..(t + 1) * block]),
        Some(p) if p < t => {
            let (before, after) = cells.split_at_mut(t * block);
            (Some(&before[p * block..(p + 1) * block]), &mut after[..block])
        }
        Some(p) => {
            let (before, after) = cells.split_at_mut(p * block);
            (Some(&after[..block]), &mut before[t * block..(t + 1) * block])
        }
    }
}

/// The gate kernel of one step over every example: `z` `[examples][4·hidden]` holds the
/// pre-activations and is overwritten with the gates `i, f, o, g`; writes the cells `c` and the
/// hidden states `h` `[examples][hidden]` from the previous cells `c_before` (zeros at the start).
/// Run through `pulp`'s runtime dispatch, so that its loops compile to AVX2 where the CPU has it.
struct GateStep<'a> {
    z: &'a mut [f32],
    c_before: Option<&'a [f32]>,
    c: &'a mut [f32],
    h: &'a mut [f32],
    hidden: usize,
}

impl pulp::WithSimd for GateStep<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Self { z, c_before, c, h, hidden } = self;
        let width = 4 * hidden;
        for (n, (z, (c, h))) in
            z.chunks_exact_mut(width).zip(c.chunks_exact_mut(hidden).zip(h.chunks_exact_mut(hidden))).enumerate()
        {
            // The activations first, then the cell update: plain loops over a few slices each,
            // which compile to SIMD.
            let (sigmoids, zg) = z.split_at_mut(3 * hidden);
            sigmoids.iter_mut().for_each(|v| *v = sigmoid(*v));
            zg.iter_mut().for_each(|v| *v = tanh(*v));
            let (zi, rest) = sigmoids.split_at(hidden);
            let (zf, zo) = rest.split_at(hidden);
            let zeros;
            let before = match c_before {
                Some(before) => &before[n * hidden..(n + 1) * hidden],
                None => {
                    zeros = vec![0.0f32; hidden];
                    &zeros[..]
                }
            };
            for ((((c, before), i), f), g) in c.iter_mut().zip(before).zip(zi).zip(zf).zip(&*zg) {
                *c = f * before + i * g;
            }
            for ((h, c), o) in h.iter_mut().zip(&*c).zip(zo) {
                *h = o * tanh(*c);
            }
        }
    }
}

/// The backward gate kernel of one step over every example: from the step's gates
/// `[examples][4·hidden]`, cells and previous cells `[examples][hidden]`, the output gradient
/// (`upstream` `[examples][features]`, this direction's columns from `offset`) and the state
/// gradients from the next step, writes `dz` `[examples][4·hidden]` and updates `dc_next`.
struct GateStepBackward<'a> {
    gates: &'a [f32],
    cells: &'a [f32],
    c_before: Option<&'a [f32]>,
    upstream: &'a [f32],
    offset: usize,
    features: usize,
    dh_next: &'a [f32],
    dc_next: &'a mut [f32],
    dz: &'a mut [f32],
    hidden: usize,
}

impl pulp::WithSimd for GateStepBackward<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Self { gates, cells, c_before, upstream, offset, features, dh_next, dc_next, dz, hidden } = self;
        let width = 4 * hidden;
        let mut tanh_c = vec![0.0f32; hidden];
        for (n, (gate, out)) in gates.chunks_exact(width).zip(dz.chunks_exact_mut(width)).enumerate() {
            let (gi, rest) = gate.split_at(hidden);
            let (gf, rest) = rest.split_at(hidden);
            let (go, gg) = rest.split_at(hidden);
            let (di, rest) = out.split_at_mut(hidden);
            let (df, rest) = rest.split_at_mut(hidden);
            let (d_o, dg) = rest.split_at_mut(hidden);
            let range = n * hidden..(n + 1) * hidden;
            let (cells, dh_next, dc_next) =
                (&cells[range.clone()], &dh_next[range.clone()], &mut dc_next[range.clone()]);
            let zeros;
            let before = match c_before {
                Some(before) => &before[range],
                None => {
                    zeros = vec![0.0f32; hidden];
                    &zeros[..]
                }
            };
            let up = &upstream[n * features + offset..n * features + offset + hidden];
            // A few slices per loop, so that each compiles to SIMD; `dc_next` holds this step's
            // cell gradient `dc` until the last loop turns it into the previous step's.
            tanh_c.iter_mut().zip(cells).for_each(|(t, c)| *t = tanh(*c));
            let inputs = up.iter().zip(dh_next).zip(&tanh_c).zip(go);
            for (((((&up, &dh_next), &t), &o), dc), d_o) in inputs.zip(dc_next.iter_mut()).zip(d_o.iter_mut()) {
                let dh = up + dh_next;
                *dc += dh * o * (1.0 - t * t);
                *d_o = dh * t * o * (1.0 - o);
            }
            for ((((&dc, &i), &g), di), dg) in dc_next.iter().zip(gi).zip(gg).zip(di.iter_mut()).zip(dg.iter_mut()) {
                *di = dc * g * i * (1.0 - i);
                *dg = dc * i * (1.0 - g * g);
            }
            for (((dc, &c_previous), &f), df) in dc_next.iter_mut().zip(before).zip(gf).zip(df.iter_mut()) {
                *df = *dc * c_previous * f * (1.0 - f);
                *dc *= f;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConvLayerConfig, InputShape, Padding};
    use crate::rnn::{Cell, RnnConfig, SequenceRnn};
    use burn::module::Module;
    use burn::tensor::activation::{log_softmax, relu, softplus};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
        tensor.try_into_vec_as::<f32>().expect("read back")
    }

    /// Every float parameter's id and rank.
    struct Ranks(Vec<(ParamId, usize)>);

    impl burn::module::ModuleVisitor for Ranks {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            self.0.push((param.id, D));
        }
    }

    fn front(filters: usize, width: usize, pool: usize, dropout: f64) -> ConvLayerConfig {
        ConvLayerConfig { filters, width, dilation: 1, pool, batch_norm: false, dropout, padding: Padding::Valid }
    }

    /// A linear congruential stream for the test data.
    struct Stream(u64);

    impl Stream {
        fn next(&mut self) -> usize {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 40) as usize
        }
    }

    /// Random one-hot inputs `[batch, 4, length]`, targets `[batch, outputs]` for `loss`, weights.
    fn batch_for(
        stream: &mut Stream,
        batch: usize,
        input: InputShape,
        loss: FastLoss,
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let mut x = vec![0.0f32; batch * input.channels * input.length];
        for n in 0..batch {
            for p in 0..input.length {
                x[(n * input.channels + stream.next() % input.channels) * input.length + p] = 1.0;
            }
        }
        let mut y = vec![0.0f32; batch * input.outputs];
        for n in 0..batch {
            match loss {
                FastLoss::SoftmaxCrossEntropy => y[n * input.outputs + stream.next() % input.outputs] = 1.0,
                FastLoss::SigmoidCrossEntropy => {
                    (0..input.outputs).for_each(|o| y[n * input.outputs + o] = (stream.next() % 2) as f32)
                }
            }
        }
        let w = (0..batch).map(|n| 0.5 + n as f32 * 0.25).collect();
        (x, y, w)
    }

    fn burn_loss(logits: Tensor<2>, targets: Tensor<2>, weights: Tensor<1>, loss: FastLoss) -> Tensor<1> {
        let per_example: Tensor<1> = match loss {
            FastLoss::SoftmaxCrossEntropy => (log_softmax(logits, 1) * targets).sum_dim(1).squeeze_dim(1).neg(),
            FastLoss::SigmoidCrossEntropy => {
                let stable = softplus(logits.clone().abs().neg(), 1.0);
                (relu(logits.clone()) - logits * targets + stable).mean_dim(1).squeeze_dim(1)
            }
        };
        (per_example * weights).mean()
    }

    /// burn's training forward pass of `rnn`, built from its own layers, with the dropout
    /// multipliers the kernel drew (`examples`, `trace`).
    fn burn_forward_with_masks(rnn: &SequenceRnn, x: Tensor<3>, examples: &[Example], trace: &BatchTrace) -> Tensor<2> {
        let device = x.device();
        let batch = examples.len();
        let mut x = x;
        for (index, block) in rnn.front.iter().enumerate() {
            x = relu(block.conv().forward(x));
            if block.pool_size() > 1 {
                x = burn::nn::pool::MaxPool1dConfig::new(block.pool_size()).init().forward(x);
            }
            if !examples[0].block_masks[index].is_empty() {
                x = x.clone() * crate::fast::tests::block_mask_tensor(examples, index, x.dims(), &device);
            }
        }
        let mut x = x.swap_dims(1, 2); // [B, S, F]
        for (index, layer) in rnn.recurrent.iter().enumerate() {
            x = match layer {
                Recurrent::Lstm(lstm) => lstm.forward(x, None).0,
                Recurrent::BiLstm(lstm) => lstm.forward(x, None).0,
                _ => panic!("an LSTM"),
            };
            let [_, steps, features] = x.dims();
            if !trace.layers[index].mask.is_empty() {
                let mut mask = vec![0.0f32; batch * steps * features];
                for n in 0..batch {
                    for t in 0..steps {
                        let from = (t * batch + n) * features;
                        let to = (n * steps + t) * features;
                        mask[to..to + features].copy_from_slice(&trace.layers[index].mask[from..from + features]);
                    }
                }
                x = x * Tensor::<3>::from_data(TensorData::new(mask, [batch, steps, features]), &device);
            }
        }
        let [_, steps, features] = x.dims();
        let mut x: Tensor<2> = match rnn.readout {
            Readout::Last if rnn.bidirectional => {
                let hidden = features / 2;
                let forward = x.clone().narrow(1, steps - 1, 1).narrow(2, 0, hidden);
                let backward = x.narrow(1, 0, 1).narrow(2, hidden, hidden);
                Tensor::cat(vec![forward, backward], 2).squeeze_dim(1)
            }
            Readout::Last => x.narrow(1, steps - 1, 1).squeeze_dim(1),
            Readout::Max => x.max_dim(1).squeeze_dim(1),
            Readout::Mean => x.mean_dim(1).squeeze_dim(1),
            Readout::Flatten => x.flatten(1, 2),
        };
        for (index, layer) in rnn.dense.iter().enumerate() {
            x = relu(layer.forward(x));
            if !trace.dense_masks[index].is_empty() {
                let units = layer.weight.lazy_shape().dims::<2>()[1];
                let mask = trace.dense_masks[index].clone();
                x = x * Tensor::<2>::from_data(TensorData::new(mask, [batch, units]), &device);
            }
        }
        rnn.output.forward(x)
    }

    /// The kernel's loss, logits and every gradient equal burn's autodiff on the same batch (with
    /// the kernel's dropout masks applied in burn).
    fn check(config: &RnnConfig, input: InputShape, loss: FastLoss, batch: usize, seed: u64) -> TestResult {
        let (plain, _lock) = crate::test_device();
        let device = plain.clone().autodiff();
        device.seed(seed);
        let model = Model::Rnn(SequenceRnn::new(config, input, &device)?);
        let plan = RnnPlan::new(&model, input.channels, input.length).ok_or("a supported model")?;
        let (x, y, w) = batch_for(&mut Stream(seed), batch, input, loss);
        let dropout_seed = seed + 1;
        let network = plan.network(&model).ok_or("fits")?;
        let (examples, trace) = network.training_forward(&x, batch, dropout_seed);
        let (fast_loss, mut fast) =
            plan.loss_and_gradients(&model, &x, &y, &w, loss, dropout_seed, &plain).ok_or("fits")?;
        let Model::Rnn(rnn) = &model else { return Err("an RNN".into()) };
        let xt = Tensor::<3>::from_data(TensorData::new(x, [batch, input.channels, input.length]), &device);
        let yt = Tensor::<2>::from_data(TensorData::new(y, [batch, input.outputs]), &device);
        let wt = Tensor::<1>::from_data(TensorData::new(w, [batch]), &device);
        let logits = burn_forward_with_masks(rnn, xt, &examples, &trace);
        let theirs = values(logits.clone());
        let ours: Vec<f32> = examples.iter().flat_map(|example| example.logits.clone()).collect();
        for (a, b) in ours.iter().zip(&theirs) {
            assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()), "logit {a} vs {b} ({config:?})");
        }
        let reference = burn_loss(logits, yt, wt, loss);
        let reference_loss = f64::from(reference.clone().into_scalar::<f32>());
        assert!(
            (fast_loss - reference_loss).abs() < 1e-5 * (1.0 + reference_loss.abs()),
            "loss {fast_loss} vs {reference_loss}"
        );
        let mut grads = GradientsParams::from_grads(reference.backward(), &model);
        let mut ranks = Ranks(Vec::new());
        model.visit(&mut ranks);
        assert_eq!(fast.len(), ranks.0.len(), "one gradient per parameter");
        for (id, rank) in ranks.0 {
            let (ours, theirs): (Vec<f32>, Vec<f32>) = match rank {
                3 => (values(fast.remove::<3>(id).ok_or("fast grad")?), values(grads.remove::<3>(id).ok_or("grad")?)),
                2 => (values(fast.remove::<2>(id).ok_or("fast grad")?), values(grads.remove::<2>(id).ok_or("grad")?)),
                _ => (values(fast.remove::<1>(id).ok_or("fast grad")?), values(grads.remove::<1>(id).ok_or("grad")?)),
            };
            assert_eq!(ours.len(), theirs.len());
            let scale = theirs.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            for (a, b) in ours.iter().zip(&theirs) {
                assert!(
                    (a - b).abs() < 1e-4 * (1.0 + b.abs()) + 1e-4 * scale,
                    "gradient {a} vs {b} (largest {scale}) of a rank-{rank} parameter, {config:?}"
                );
            }
        }
        assert!(fast.is_empty(), "no gradient under an id the model does not have");
        Ok(())
    }

    fn lstm(hidden: usize, bidirectional: bool, layers: usize, readout: Readout) -> RnnConfig {
        RnnConfig { hidden, bidirectional, layers, readout, ..RnnConfig::default() }
    }

    /// Every direction × depth × readout, with and without a pooled front end and dense layers,
    /// without dropout: logits, loss and every gradient equal burn's autodiff.
    #[test]
    fn random_lstms_equal_burn_autodiff() -> TestResult {
        let mut stream = Stream(5);
        let mut round = 0u64;
        for readout in [Readout::Last, Readout::Max, Readout::Mean, Readout::Flatten] {
            for bidirectional in [false, true] {
                for layers in [1, 2] {
                    round += 1;
                    let hidden = 3 + stream.next() % 6;
                    let length = 8 + stream.next() % 12;
                    let conv =
                        if round.is_multiple_of(2) { vec![front(3 + stream.next() % 5, 3, 2, 0.0)] } else { vec![] };
                    let dense = if round.is_multiple_of(3) { vec![] } else { vec![2 + stream.next() % 6] };
                    let config = RnnConfig { conv, dense, ..lstm(hidden, bidirectional, layers, readout) };
                    let outputs = 1 + stream.next() % 3;
                    let loss = if round.is_multiple_of(2) {
                        FastLoss::SoftmaxCrossEntropy
                    } else {
                        FastLoss::SigmoidCrossEntropy
                    };
                    let batch = if round.is_multiple_of(4) { 19 } else { 5 };
                    check(&config, InputShape { channels: 4, length, outputs }, loss, batch, round)?;
                }
            }
        }
        Ok(())
    }

    /// Dropout after the front end, each recurrent layer and each hidden dense layer, with the
    /// kernel's masks applied in burn.
    #[test]
    fn lstms_with_dropout_equal_burn_autodiff_with_the_same_masks() -> TestResult {
        for (round, readout) in [Readout::Flatten, Readout::Max, Readout::Last, Readout::Mean].into_iter().enumerate() {
            let config = RnnConfig {
                conv: vec![front(6, 4, 3, 0.2)],
                dropout: 0.3,
                dense: vec![7, 5],
                dense_dropout: 0.4,
                ..lstm(5, round.is_multiple_of(2), 1 + round % 2, readout)
            };
            let input = InputShape { channels: 4, length: 30, outputs: 3 };
            check(&config, input, FastLoss::SoftmaxCrossEntropy, 18, 40 + round as u64)?;
        }
        // A small DanQ: conv → ReLU → pool → dropout → BiLSTM → dropout → flatten → dense.
        let danq = RnnConfig { conv: vec![front(8, 6, 4, 0.2)], hidden: 6, dense: vec![9], ..RnnConfig::danq() };
        check(&danq, InputShape { channels: 4, length: 40, outputs: 2 }, FastLoss::SigmoidCrossEntropy, 7, 9)
    }

    /// Inference logits equal burn's inference forward pass (dropout off) of the same model.
    #[test]
    fn inference_logits_equal_burn_valid_forward() -> TestResult {
        let (device, _lock) = crate::test_device();
        let autodiff = device.clone().autodiff();
        for (round, readout) in [Readout::Flatten, Readout::Max, Readout::Last, Readout::Mean].into_iter().enumerate() {
            autodiff.seed(round as u64);
            let conv = if round.is_multiple_of(2) { vec![front(6, 5, 2, 0.3)] } else { vec![] };
            let config = RnnConfig {
                conv,
                dropout: 0.5,
                dense: vec![6],
                dense_dropout: 0.5,
                ..lstm(7, round < 2, 1 + round % 2, readout)
            };
            let input = InputShape { channels: 4, length: 24, outputs: 2 };
            let model = Model::Rnn(SequenceRnn::new(&config, input, &autodiff)?).valid();
            let plan = RnnPlan::new(&model, 4, 24).ok_or("supported")?;
            let batch = INFERENCE_CHUNK + 5;
            let (x, _, _) = batch_for(&mut Stream(round as u64), batch, input, FastLoss::SigmoidCrossEntropy);
            let ours = plan.logits(&model, &x).ok_or("fits")?;
            let theirs = values(model.forward(Tensor::<3>::from_data(TensorData::new(x, [batch, 4, 24]), &device)));
            assert_eq!(ours.len(), theirs.len());
            for (a, b) in ours.iter().zip(&theirs) {
                assert!((a - b).abs() < 1e-5 * (1.0 + b.abs()), "logit {a} vs {b}");
            }
        }
        Ok(())
    }

    /// Same seed, same numbers on 1 or 2 threads; another dropout seed, other masks.
    #[test]
    fn same_dropout_seed_gives_identical_steps_on_any_thread_count() -> TestResult {
        let (plain, _lock) = crate::test_device();
        let device = plain.clone().autodiff();
        let config = RnnConfig {
            conv: vec![front(8, 5, 2, 0.2)],
            dropout: 0.3,
            dense: vec![10],
            dense_dropout: 0.5,
            ..lstm(6, true, 2, Readout::Flatten)
        };
        let input = InputShape { channels: 4, length: 24, outputs: 1 };
        let batch = 35;
        let (x, y, w) = batch_for(&mut Stream(3), batch, input, FastLoss::SigmoidCrossEntropy);
        type Step = (f64, Vec<Vec<f32>>);
        let run = |threads: usize, seed: u64| -> Result<Step, Box<dyn std::error::Error>> {
            device.seed(1);
            let model = Model::Rnn(SequenceRnn::new(&config, input, &device)?);
            let plan = RnnPlan::new(&model, 4, 24).ok_or("supported")?;
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
            let (loss, grads) = pool
                .install(|| plan.loss_and_gradients(&model, &x, &y, &w, FastLoss::SigmoidCrossEntropy, seed, &plain))
                .ok_or("fits")?;
            let mut ranks = Ranks(Vec::new());
            model.visit(&mut ranks);
            let mut all = Vec::new();
            for (id, rank) in ranks.0 {
                all.push(match rank {
                    3 => values(grads.get::<3>(id).ok_or("gradient")?),
                    2 => values(grads.get::<2>(id).ok_or("gradient")?),
                    _ => values(grads.get::<1>(id).ok_or("gradient")?),
                });
            }
            Ok((loss, all))
        };
        let one = run(1, 7)?;
        let two = run(2, 7)?;
        assert_eq!(one.0.to_bits(), two.0.to_bits());
        assert_eq!(one.1, two.1);
        let other = run(2, 8)?;
        assert_ne!(one.0.to_bits(), other.0.to_bits(), "another seed draws other masks");
        Ok(())
    }

    /// Loss and gradients of one DanQ batch of 64 on 1,000 bp, and logits of 256, on 1 and 2
    /// threads (the shape `omix bench --model danq` times).
    #[test]
    #[ignore = "timing; run with --ignored --nocapture"]
    fn time_danq_batches() -> TestResult {
        let (plain, _lock) = crate::test_device();
        let device = plain.clone().autodiff();
        let input = InputShape { channels: 4, length: 1000, outputs: 1 };
        device.seed(1);
        let model = Model::Rnn(SequenceRnn::new(&RnnConfig::danq(), input, &device)?);
        let plan = RnnPlan::new(&model, 4, 1000).ok_or("supported")?;
        let loss = FastLoss::SigmoidCrossEntropy;
        let (x, y, w) = batch_for(&mut Stream(1), 64, input, loss);
        let (x256, _, _) = batch_for(&mut Stream(2), 256, input, loss);
        let valid = model.valid();
        for threads in [2, 1] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
            let time = |run: &mut (dyn FnMut() + Send)| {
                let mut times: Vec<f64> = (0..4)
                    .map(|_| {
                        let started = std::time::Instant::now();
                        pool.install(&mut *run);
                        started.elapsed().as_secs_f64()
                    })
                    .skip(1)
                    .collect();
                times.sort_by(f64::total_cmp);
                times[1]
            };
            let train = time(&mut || {
                plan.loss_and_gradients(&model, &x, &y, &w, loss, 3, &plain).expect("fits");
            });
            let infer = time(&mut || {
                plan.logits(&valid, &x256).expect("fits");
            });
            eprintln!(
                "DanQ, {threads} threads: training {:.1} seq/s ({:.2} s per batch of 64), inference {:.1} seq/s",
                64.0 / train,
                train,
                256.0 / infer
            );
        }
        Ok(())
    }

    /// GRUs and batch-norm front ends train through burn.
    #[test]
    fn unsupported_models_fall_back() -> TestResult {
        let (device, _lock) = crate::test_device();
        let input = InputShape { channels: 4, length: 20, outputs: 1 };
        let gru = RnnConfig { cell: Cell::Gru, ..lstm(4, true, 1, Readout::Max) };
        assert!(RnnPlan::new(&Model::Rnn(SequenceRnn::new(&gru, input, &device)?), 4, 20).is_none());
        let mut layer = front(4, 3, 2, 0.0);
        layer.batch_norm = true;
        let norm = RnnConfig { conv: vec![layer], ..lstm(4, true, 1, Readout::Max) };
        assert!(RnnPlan::new(&Model::Rnn(SequenceRnn::new(&norm, input, &device)?), 4, 20).is_none());
        let plain = lstm(4, true, 1, Readout::Flatten);
        let model = Model::Rnn(SequenceRnn::new(&plain, input, &device)?);
        assert!(RnnPlan::new(&model, 4, 20).is_some());
        assert!(RnnPlan::new(&model, 4, 21).is_none(), "flatten reads the configured length");
        Ok(())
    }

    /// Median milliseconds of `run` over 10 timed rounds after 2 warm-up rounds.
    fn median_ms(mut run: impl FnMut()) -> f64 {
        let mut times: Vec<f64> = (0..12)
            .map(|_| {
                let started = std::time::Instant::now();
                run();
                started.elapsed().as_secs_f64() * 1e3
            })
            .skip(2)
            .collect();
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    }

    /// Loss and gradients of one batch of 32 one-hot 60-nt sequences, 3 classes (the splice
    /// set's shape): the kernel against burn's autodiff.
    #[test]
    #[ignore = "timing; run with --ignored --nocapture"]
    fn time_splice_batches() -> TestResult {
        let (plain, _lock) = crate::test_device();
        let device = plain.clone().autodiff();
        let input = InputShape { channels: 4, length: 60, outputs: 3 };
        let splice_lstm =
            RnnConfig { dropout: 0.3, dense: vec![64], dense_dropout: 0.5, ..lstm(32, true, 1, Readout::Flatten) };
        for (name, config) in [("DanQ", RnnConfig::danq()), ("splice bi-LSTM 32", splice_lstm)] {
            device.seed(1);
            let model = Model::Rnn(SequenceRnn::new(&config, input, &device)?);
            let plan = RnnPlan::new(&model, 4, 60).ok_or("supported")?;
            let (x, y, w) = batch_for(&mut Stream(1), 32, input, FastLoss::SoftmaxCrossEntropy);
            let loss = FastLoss::SoftmaxCrossEntropy;
            let fast = median_ms(|| {
                plan.loss_and_gradients(&model, &x, &y, &w, loss, 3, &plain).expect("fits");
            });
            let burn = median_ms(|| {
                let xt = Tensor::<3>::from_data(TensorData::new(x.clone(), [32, 4, 60]), &device);
                let yt = Tensor::<2>::from_data(TensorData::new(y.clone(), [32, 3]), &device);
                let wt = Tensor::<1>::from_data(TensorData::new(w.clone(), [32]), &device);
                let value = burn_loss(model.forward(xt), yt, wt, loss);
                let _ = GradientsParams::from_grads(value.backward(), &model);
            });
            eprintln!("{name}: kernel {fast:.1} ms, burn autodiff {burn:.1} ms per batch of 32");
        }
        Ok(())
    }
}
