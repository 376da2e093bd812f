//! A hand-written, batch-parallel forward and backward pass for plain sequence CNNs.
//!
//! burn's flex backend runs each convolution as one small matrix product per sequence and pays
//! an allocation per op; at genomics sizes (a few filters over ~100 positions) that overhead
//! dominates. For CNNs without batch-norm, dropout or dilation, read out by flattening or a
//! global maximum, this module computes the loss and every parameter gradient directly, one
//! sequence per task on rayon's pool, and hands the gradients back as burn [`GradientsParams`]
//! so that burn's optimisers, records and checkpoints are unchanged. Results equal burn's
//! autodiff (tested to 1e-4); unsupported models return `None` from [`FastPlan::new`] and train
//! through burn. The kernel runs on the shared host-side description of the network
//! ([`HostCnn`]), copied from the model at every call.

use burn::optim::GradientsParams;
use burn::prelude::*;
use rayon::prelude::*;

/// Examples per partial gradient sum in [`FastPlan::loss_and_gradients`].
const GRADIENT_CHUNK: usize = 4;

use crate::Model;
use crate::config::GlobalPool;
use crate::host::HostCnn;

/// The loss a fast step computes (the same as `omix_train::batch_loss`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastLoss {
    /// Binary cross-entropy on logits, averaged over outputs (binary and multi-label).
    SigmoidCrossEntropy,
    /// Softmax cross-entropy (multi-class; targets one-hot).
    SoftmaxCrossEntropy,
}

/// A model the fast path can run, on inputs `[channels, length]`.
///
/// The plan holds no weights: every call copies the model's current weights into the shared
/// host-side description ([`HostCnn`]), since training changes them at every step, and checks
/// again that the kernel implements that network.
#[derive(Debug, Clone)]
pub struct FastPlan {
    channels: usize,
    length: usize,
}

/// How the kernel reduces the last block's output: the global pooling it implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Readout {
    /// Flatten `[filters, positions]` channel-major, as burn does.
    Flatten,
    /// One maximum per filter.
    Max,
}

/// The network as the kernel runs it: the host description of the model at the time of the
/// call, with every convolution's weights transposed to `[channels][width][filters]` (filters
/// contiguous, so every inner loop runs over filters). Dense weights stay in the description's
/// `[inputs][outputs]`.
struct Network {
    host: HostCnn,
    readout: Readout,
    /// Per block, weights `[channels][width][filters]`.
    conv_weights: Vec<Vec<f32>>,
}

/// Gradients in the kernel's layouts: per block (weights `[channels][width][filters]`, bias
/// `[filters]`), per dense layer (weights `[inputs][outputs]`, bias `[outputs]`); a layer
/// without a bias has an empty bias gradient.
struct Gradients {
    conv: Vec<(Vec<f32>, Vec<f32>)>,
    dense: Vec<(Vec<f32>, Vec<f32>)>,
}

/// `[filters][channels][width]` ↔ `[channels][width][filters]`.
fn transpose_conv(weights: &[f32], filters: usize, channels: usize, width: usize, to_filters_last: bool) -> Vec<f32> {
    let mut out = vec![0.0; weights.len()];
    for f in 0..filters {
        for c in 0..channels {
            for k in 0..width {
                let burn = (f * channels + c) * width + k;
                let last = (c * width + k) * filters + f;
                if to_filters_last {
                    out[last] = weights[burn];
                } else {
                    out[burn] = weights[last];
                }
            }
        }
    }
    out
}

impl FastPlan {
    /// A plan for `model` on inputs `[channels, length]`, or `None` when the model uses
    /// something the fast path does not implement (batch-norm, dropout, dilation, mean pooling)
    /// or its layers do not fit that input.
    ///
    /// The decision reads settings and shapes only ([`HostCnn::check`]). For a model the kernel
    /// implements, the plan then gives a fresh model's weights their values, and leaves its
    /// biases to the first call that copies the model ([`FastPlan::loss_and_gradients`],
    /// [`FastPlan::logits`]); see [`crate::cnn::SequenceCnn::initialize_weights`]. burn draws a
    /// lazily initialised parameter when it is first read and omix's training loop reseeds the
    /// device before the first epoch, so this split decides the initial numbers of a run
    /// trained on the fast path: it is the one the kernel has always made, and runs reproduce
    /// only if it stays. A model that trains through burn instead is left untouched, for its
    /// first forward pass to initialise. A weight that cannot be read back makes every call
    /// return `None`.
    pub fn new(model: &Model, channels: usize, length: usize) -> Option<Self> {
        let Model::Cnn(cnn) = model else {
            return None;
        };
        let plain_blocks = cnn
            .blocks()
            .iter()
            .all(|block| Self::plain_block(block.conv().dilation, block.norm().is_some(), block.dropout_probability()));
        Self::readout(plain_blocks, cnn.dense_dropout_probability(), cnn.global_pool())?;
        HostCnn::check(cnn, channels, length).ok()?;
        cnn.initialize_weights();
        Some(Self { channels, length })
    }

    /// Whether the kernel implements a convolution block with these settings: no dilation,
    /// batch-norm or dropout.
    fn plain_block(dilation: usize, batch_norm: bool, dropout: f64) -> bool {
        dilation == 1 && !batch_norm && dropout == 0.0
    }

    /// The readout the kernel uses for a network whose blocks are all plain (or not), with
    /// this dense dropout and global reduction; `None` when the kernel does not implement it.
    fn readout(plain_blocks: bool, dense_dropout: f64, global_pool: GlobalPool) -> Option<Readout> {
        if !plain_blocks || dense_dropout > 0.0 {
            return None;
        }
        match global_pool {
            GlobalPool::None => Some(Readout::Flatten),
            GlobalPool::Max => Some(Readout::Max),
            GlobalPool::Mean | GlobalPool::MaxMean => None,
        }
    }

    /// `model`'s current weights as the kernel runs them, `None` when `model` is not a CNN the
    /// kernel implements on this plan's inputs or a weight cannot be read back.
    fn network(&self, model: &Model) -> Option<Network> {
        let Model::Cnn(cnn) = model else {
            return None;
        };
        let host = HostCnn::from_cnn(cnn, self.channels, self.length).ok()?;
        let plain_blocks = host
            .blocks
            .iter()
            .all(|block| Self::plain_block(block.conv.dilation, block.conv.batch_norm.is_some(), block.dropout));
        let readout = Self::readout(plain_blocks, host.dense_dropout, host.global_pool)?;
        let conv_weights = host
            .blocks
            .iter()
            .map(|block| {
                let conv = &block.conv;
                transpose_conv(&conv.weights, conv.filters, conv.channels, conv.width, true)
            })
            .collect();
        Some(Network { host, readout, conv_weights })
    }

    /// Logits `[batch, outputs]` of a batch `[batch, channels, length]` (inference).
    ///
    /// `None` when `model` is not the CNN the plan was made for.
    pub fn logits(&self, model: &Model, inputs: &[f32]) -> Option<Vec<f32>> {
        let network = self.network(model)?;
        let block = self.channels * self.length;
        Some(
            inputs
                .par_chunks(block.max(1))
                .map_init(Scratch::default, |scratch, input| network.forward_example(input, scratch))
                .flatten_iter()
                .collect(),
        )
    }

    /// Weighted mean loss of a batch and the gradients of every parameter.
    ///
    /// `inputs` is `[batch, channels, length]`, `targets` `[batch, outputs]`, `weights` `[batch]`,
    /// all row-major; the loss is `sum(weight × loss) / batch` as in `omix_train::batch_loss`.
    pub fn loss_and_gradients(
        &self,
        model: &Model,
        inputs: &[f32],
        targets: &[f32],
        weights: &[f32],
        loss: FastLoss,
        device: &Device,
    ) -> Option<(f64, GradientsParams)> {
        let network = self.network(model)?;
        let batch = weights.len();
        let outputs = network.host.outputs();
        let block = self.channels * self.length;
        // Fixed-size chunks (not one per thread): the partial sums, and so the numbers, are the
        // same whatever the thread count.
        let (total, gradients) = (0..batch)
            .into_par_iter()
            .chunks(GRADIENT_CHUNK)
            .map(|examples| {
                let mut gradients = network.zero_gradients();
                let mut total = 0.0;
                let mut scratch = Scratch::default();
                for n in examples {
                    let logits = network.forward_example(&inputs[n * block..(n + 1) * block], &mut scratch);
                    total += network.backward_example(
                        logits,
                        &targets[n * outputs..(n + 1) * outputs],
                        f64::from(weights[n]) / batch as f64,
                        loss,
                        &mut gradients,
                        &mut scratch,
                    );
                }
                (total, gradients)
            })
            // Collect in order and sum sequentially: the same additions in the same order on
            // every run, whatever rayon's work stealing did (same seed, same numbers).
            .collect::<Vec<_>>()
            .into_iter()
            .reduce(|(ta, mut ga), (tb, gb)| {
                for ((wa, ba), (wb, bb)) in
                    ga.conv.iter_mut().chain(ga.dense.iter_mut()).zip(gb.conv.iter().chain(gb.dense.iter()))
                {
                    wa.iter_mut().zip(wb).for_each(|(a, b)| *a += b);
                    ba.iter_mut().zip(bb).for_each(|(a, b)| *a += b);
                }
                (ta + tb, ga)
            })
            .unwrap_or_else(|| (0.0, network.zero_gradients()));
        let mut params = GradientsParams::new();
        for (block, (w, b)) in network.host.blocks.iter().zip(gradients.conv) {
            let conv = &block.conv;
            let w = transpose_conv(&w, conv.filters, conv.channels, conv.width, false);
            params.register(
                conv.weight_id,
                Tensor::<3>::from_data(TensorData::new(w, [conv.filters, conv.channels, conv.width]), device),
            );
            if let Some(id) = conv.bias_id {
                params.register(id, Tensor::<1>::from_data(TensorData::new(b, [conv.filters]), device));
            }
        }
        for (layer, (w, b)) in network.host.dense.iter().zip(gradients.dense) {
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

impl Network {
    fn zero_gradients(&self) -> Gradients {
        Gradients {
            conv: self
                .host
                .blocks
                .iter()
                .map(|block| {
                    let c = &block.conv;
                    (
                        vec![0.0; c.filters * c.channels * c.width],
                        vec![0.0; if c.bias.is_some() { c.filters } else { 0 }],
                    )
                })
                .collect(),
            dense: self
                .host
                .dense
                .iter()
                .map(|d| (vec![0.0; d.inputs * d.outputs], vec![0.0; if d.bias.is_some() { d.outputs } else { 0 }]))
                .collect(),
        }
    }

    /// Logits of one example; keeps what the backward pass needs in `s`.
    fn forward_example(&self, input: &[f32], s: &mut Scratch) -> Vec<f32> {
        let (channels, length) = (self.host.channels, self.host.length);
        // The input arrives channel-major [C, L]; store it position-major [L, C].
        let mut first = vec![0.0f32; channels * length];
        for c in 0..channels {
            for i in 0..length {
                first[i * channels + c] = input[c * length + i];
            }
        }
        s.activations.clear();
        s.activations.push(first);
        s.argmax.clear();
        s.pre_activations.clear();
        for (index, block) in self.host.blocks.iter().enumerate() {
            let conv = &block.conv;
            let wt = &self.conv_weights[index];
            let a = &s.activations[index];
            let filters = conv.filters;
            let mut z = vec![0.0f32; block.positions * filters];
            for position in 0..block.positions {
                let row = &mut z[position * filters..(position + 1) * filters];
                if let Some(b) = &conv.bias {
                    row.copy_from_slice(b);
                }
                for k in 0..conv.width {
                    // Output position p reads input position p + k - left (zero outside).
                    let Some(i) = block.input_position(position, k) else { continue };
                    for c in 0..conv.channels {
                        let value = a[i * conv.channels + c];
                        if value == 0.0 {
                            continue;
                        }
                        let start = (c * conv.width + k) * filters;
                        for (out, w) in row.iter_mut().zip(&wt[start..start + filters]) {
                            *out += value * w;
                        }
                    }
                }
            }
            // ReLU then non-overlapping max pooling (the first maximum wins, as in burn).
            let mut pooled = vec![0.0f32; block.pooled * filters];
            let mut argmax = vec![0usize; block.pooled * filters];
            for q in 0..block.pooled {
                for f in 0..filters {
                    let mut best = q * block.pool;
                    let mut best_value = z[best * filters + f].max(0.0);
                    for position in q * block.pool + 1..(q + 1) * block.pool {
                        let value = z[position * filters + f].max(0.0);
                        if value > best_value {
                            best = position;
                            best_value = value;
                        }
                    }
                    pooled[q * filters + f] = best_value;
                    argmax[q * filters + f] = best;
                }
            }
            s.pre_activations.push(z);
            s.argmax.push(argmax);
            s.activations.push(pooled);
        }
        // Features entering the dense layers, in burn's order: flatten [F, P'] channel-major,
        // or one maximum per filter.
        let (filters, length) = self.host.last_shape();
        let last = &s.activations[self.host.blocks.len()];
        s.global_argmax.clear();
        let mut features = match self.readout {
            Readout::Max => {
                let mut features = vec![0.0f32; filters];
                for f in 0..filters {
                    let mut best = 0;
                    for q in 1..length {
                        if last[q * filters + f] > last[best * filters + f] {
                            best = q;
                        }
                    }
                    features[f] = last[best * filters + f];
                    s.global_argmax.push(best);
                }
                features
            }
            Readout::Flatten => {
                let mut features = vec![0.0f32; filters * length];
                for q in 0..length {
                    for f in 0..filters {
                        features[f * length + q] = last[q * filters + f];
                    }
                }
                features
            }
        };
        s.dense_inputs.clear();
        for spec in &self.host.dense {
            let mut out = match &spec.bias {
                Some(b) => b.clone(),
                None => vec![0.0f32; spec.outputs],
            };
            for (i, x) in features.iter().enumerate() {
                if *x == 0.0 {
                    continue;
                }
                let row = &spec.weights[i * spec.outputs..(i + 1) * spec.outputs];
                for (o, wv) in out.iter_mut().zip(row) {
                    *o += x * wv;
                }
            }
            s.dense_inputs.push(features);
            if spec.relu {
                out.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            features = out;
        }
        features
    }

    /// Loss of one example and its gradients, after [`Network::forward_example`].
    fn backward_example(
        &self,
        logits: Vec<f32>,
        target: &[f32],
        scale: f64,
        loss: FastLoss,
        g: &mut Gradients,
        s: &mut Scratch,
    ) -> f64 {
        let (filters, length) = self.host.last_shape();
        let outputs = logits.len();
        let mut delta = vec![0.0f32; outputs];
        let mut value = 0.0f64;
        match loss {
            FastLoss::SigmoidCrossEntropy => {
                for o in 0..outputs {
                    let z = f64::from(logits[o]);
                    let y = f64::from(target[o]);
                    value += z.max(0.0) - z * y + (-z.abs()).exp().ln_1p();
                    let sigmoid = 1.0 / (1.0 + (-z).exp());
                    delta[o] = ((sigmoid - y) / outputs as f64 * scale) as f32;
                }
                value /= outputs as f64;
            }
            FastLoss::SoftmaxCrossEntropy => {
                let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let sum: f64 = logits.iter().map(|z| f64::from(z - max).exp()).sum();
                for o in 0..outputs {
                    let probability = f64::from(logits[o] - max).exp() / sum;
                    let y = f64::from(target[o]);
                    value -= y * probability.ln();
                    delta[o] = ((probability - y) * scale) as f32;
                }
            }
        }
        // Backward through the dense layers.
        for index in (0..self.host.dense.len()).rev() {
            let spec = &self.host.dense[index];
            let w = &spec.weights;
            let x = &s.dense_inputs[index];
            let (gw, gb) = &mut g.dense[index];
            if !gb.is_empty() {
                gb.iter_mut().zip(&delta).for_each(|(a, d)| *a += d);
            }
            let mut back = vec![0.0f32; spec.inputs];
            for (i, xi) in x.iter().enumerate() {
                let row = &mut gw[i * spec.outputs..(i + 1) * spec.outputs];
                let wrow = &w[i * spec.outputs..(i + 1) * spec.outputs];
                let mut sum = 0.0;
                for o in 0..spec.outputs {
                    row[o] += xi * delta[o];
                    sum += wrow[o] * delta[o];
                }
                back[i] = sum;
            }
            if index > 0 && self.host.dense[index - 1].relu {
                // ReLU of the previous dense layer: its output is this layer's input.
                back.iter_mut().zip(x).for_each(|(d, v)| {
                    if *v <= 0.0 {
                        *d = 0.0
                    }
                });
            }
            delta = back;
        }
        // Back into the last block's pooled output, position-major [P', F].
        let mut pooled_delta = vec![0.0f32; length * filters];
        match self.readout {
            Readout::Max => {
                for (f, &q) in s.global_argmax.iter().enumerate() {
                    pooled_delta[q * filters + f] += delta[f];
                }
            }
            Readout::Flatten => {
                for q in 0..length {
                    for f in 0..filters {
                        pooled_delta[q * filters + f] = delta[f * length + q];
                    }
                }
            }
        }
        for index in (0..self.host.blocks.len()).rev() {
            let block = &self.host.blocks[index];
            let conv = &block.conv;
            let filters = conv.filters;
            let z = &s.pre_activations[index];
            // Through pooling and ReLU: the gradient goes to the argmax, if it was positive.
            let mut dz = vec![0.0f32; block.positions * filters];
            for (slot, &position) in s.argmax[index].iter().enumerate() {
                let f = slot % filters;
                if z[position * filters + f] > 0.0 {
                    dz[position * filters + f] += pooled_delta[slot];
                }
            }
            let wt = &self.conv_weights[index];
            let (gwt, gb) = &mut g.conv[index];
            let a = &s.activations[index];
            let need_input_gradient = index > 0;
            let mut da =
                if need_input_gradient { vec![0.0f32; block.input_length * conv.channels] } else { Vec::new() };
            for position in 0..block.positions {
                let row = &dz[position * filters..(position + 1) * filters];
                if row.iter().all(|d| *d == 0.0) {
                    continue;
                }
                if !gb.is_empty() {
                    gb.iter_mut().zip(row).for_each(|(a, d)| *a += d);
                }
                for k in 0..conv.width {
                    let Some(i) = block.input_position(position, k) else { continue };
                    for c in 0..conv.channels {
                        let start = (c * conv.width + k) * filters;
                        let value = a[i * conv.channels + c];
                        if value != 0.0 {
                            for (gw, d) in gwt[start..start + filters].iter_mut().zip(row) {
                                *gw += value * d;
                            }
                        }
                        if need_input_gradient {
                            let tap = &wt[start..start + filters];
                            da[i * conv.channels + c] += tap.iter().zip(row).map(|(w, d)| w * d).sum::<f32>();
                        }
                    }
                }
            }
            pooled_delta = da;
        }
        value * scale
    }
}

#[derive(Default)]
struct Scratch {
    activations: Vec<Vec<f32>>,
    pre_activations: Vec<Vec<f32>>,
    argmax: Vec<Vec<usize>>,
    global_argmax: Vec<usize>,
    dense_inputs: Vec<Vec<f32>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConvLayerConfig, InputShape, ModelConfig, Padding};
    use burn::module::ParamId;
    use burn::tensor::activation::{log_softmax, relu, softplus};

    fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
        tensor.try_into_vec_as::<f32>().expect("read back")
    }

    /// Every float parameter of a model: its id, whether it has a value yet, and the value (only
    /// when `read`, since reading gives a lazily initialised parameter its value).
    struct Parameters {
        read: bool,
        seen: Vec<(ParamId, bool, Vec<f32>)>,
    }

    impl burn::module::ModuleVisitor for Parameters {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            let initialized = param.is_initialized();
            let value = if self.read { values(param.val()) } else { Vec::new() };
            self.seen.push((param.id, initialized, value));
        }
    }

    fn parameters(model: &Model, read: bool) -> Vec<(ParamId, bool, Vec<f32>)> {
        let mut visitor = Parameters { read, seen: Vec::new() };
        model.visit(&mut visitor);
        visitor.seen
    }

    /// Checks that `grads` holds one gradient, of its parameter's shape, under the id of every
    /// float parameter of the model, and nothing else.
    struct GradientsCover<'a> {
        grads: &'a GradientsParams,
        count: usize,
    }

    impl burn::module::ModuleVisitor for GradientsCover<'_> {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            let gradient = self.grads.get::<D>(param.id).unwrap_or_else(|| panic!("no gradient for {}", param.id));
            assert_eq!(gradient.shape(), param.lazy_shape(), "gradient of {}", param.id);
            self.count += 1;
        }
    }

    fn assert_one_gradient_per_parameter(model: &Model, grads: &GradientsParams) {
        let mut cover = GradientsCover { grads, count: 0 };
        model.visit(&mut cover);
        assert_eq!(grads.len(), cover.count, "gradients under ids the model does not have");
    }

    fn parameter_ids(model: &Model) -> Vec<ParamId> {
        parameters(model, false).into_iter().map(|(id, _, _)| id).collect()
    }

    /// `count` random one-hot sequences `[count, 4, length]` and 0/1 targets `[count, 1]`.
    fn one_hot_batch(count: usize, length: usize, state: &mut u64) -> (Vec<f32>, Vec<f32>) {
        let mut next = || {
            *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (*state >> 40) as usize
        };
        let mut x = vec![0.0f32; count * 4 * length];
        for n in 0..count {
            for p in 0..length {
                x[(n * 4 + next() % 4) * length + p] = 1.0;
            }
        }
        let y = (0..count).map(|_| (next() % 2) as f32).collect();
        (x, y)
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

    fn check(config: ModelConfig, input: InputShape, loss: FastLoss) {
        let (device, _lock) = crate::test_device();
        let device = device.autodiff();
        device.seed(11);
        let model = config.init(input, &device).expect("model");
        let plan = FastPlan::new(&model, input.channels, input.length).expect("supported model");
        let batch = 5;
        let mut state = 7u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 40) as usize
        };
        let mut x = vec![0.0f32; batch * input.channels * input.length];
        for n in 0..batch {
            for p in 0..input.length {
                x[(n * input.channels + next() % input.channels) * input.length + p] = 1.0;
            }
        }
        let mut y = vec![0.0f32; batch * input.outputs];
        for n in 0..batch {
            match loss {
                FastLoss::SoftmaxCrossEntropy => y[n * input.outputs + next() % input.outputs] = 1.0,
                FastLoss::SigmoidCrossEntropy => {
                    (0..input.outputs).for_each(|o| y[n * input.outputs + o] = (next() % 2) as f32)
                }
            }
        }
        let w: Vec<f32> = (0..batch).map(|n| 0.5 + n as f32 * 0.25).collect();
        let plain = Device::flex();
        let (fast_loss, mut fast) = plan.loss_and_gradients(&model, &x, &y, &w, loss, &plain).expect("plan fits");
        assert_one_gradient_per_parameter(&model, &fast);

        let xt = Tensor::<3>::from_data(TensorData::new(x, [batch, input.channels, input.length]), &device);
        let yt = Tensor::<2>::from_data(TensorData::new(y, [batch, input.outputs]), &device);
        let wt = Tensor::<1>::from_data(TensorData::new(w, [batch]), &device);
        let reference = burn_loss(model.forward(xt), yt, wt, loss);
        let reference_loss = f64::from(reference.clone().into_scalar::<f32>());
        assert!((fast_loss - reference_loss).abs() < 1e-5, "loss {fast_loss} vs {reference_loss}");
        let mut grads = GradientsParams::from_grads(reference.backward(), &model);
        let Model::Cnn(cnn) = &model else { panic!("a CNN") };
        let mut ids: Vec<(ParamId, usize)> = Vec::new();
        for block in cnn.blocks() {
            ids.push((block.conv().weight.id, 3));
            if let Some(b) = &block.conv().bias {
                ids.push((b.id, 1));
            }
        }
        for layer in cnn.dense_layers().iter().chain(std::iter::once(cnn.output_layer())) {
            ids.push((layer.weight.id, 2));
            if let Some(b) = &layer.bias {
                ids.push((b.id, 1));
            }
        }
        let mut expected: Vec<ParamId> = ids.iter().map(|(id, _)| *id).collect();
        let mut parameters = parameter_ids(&model);
        expected.sort_by_key(|id| id.val());
        parameters.sort_by_key(|id| id.val());
        assert_eq!(expected, parameters, "the kernel's layers are all of the model's parameters");
        assert_eq!(fast.len(), parameters.len(), "one gradient per parameter");
        for (id, rank) in ids {
            let (ours, theirs): (Vec<f32>, Vec<f32>) = match rank {
                3 => (values(fast.remove::<3>(id).expect("fast grad")), values(grads.remove::<3>(id).expect("grad"))),
                2 => (values(fast.remove::<2>(id).expect("fast grad")), values(grads.remove::<2>(id).expect("grad"))),
                _ => (values(fast.remove::<1>(id).expect("fast grad")), values(grads.remove::<1>(id).expect("grad"))),
            };
            assert_eq!(ours.len(), theirs.len());
            for (a, b) in ours.iter().zip(&theirs) {
                assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()), "gradient {a} vs {b}");
            }
        }
        assert!(fast.is_empty(), "no gradient under an id the model does not have");
    }

    #[test]
    fn logits_equal_burn_forward() {
        let (device, _lock) = crate::test_device();
        device.seed(4);
        let input = InputShape { channels: 4, length: 50, outputs: 2 };
        let model = ModelConfig::Primer.init(input, &device).expect("model");
        let plan = FastPlan::new(&model, 4, 50).expect("supported");
        let x: Vec<f32> = (0..3 * 4 * 50).map(|i| ((i * 7919) % 13) as f32 / 13.0).collect();
        let ours = plan.logits(&model, &x).expect("plan fits");
        let theirs = values(model.forward(Tensor::<3>::from_data(TensorData::new(x, [3, 4, 50]), &device)));
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(&theirs) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }

    #[test]
    fn primer_gradients_equal_burn_autodiff() {
        check(ModelConfig::Primer, InputShape { channels: 4, length: 50, outputs: 1 }, FastLoss::SigmoidCrossEntropy);
    }

    #[test]
    fn two_block_max_pooled_cnn_gradients_equal_burn_autodiff() {
        let layer = |filters, width, pool, padding| ConvLayerConfig {
            filters,
            width,
            dilation: 1,
            pool,
            batch_norm: false,
            dropout: 0.0,
            padding,
        };
        let config = ModelConfig::Cnn {
            conv: vec![layer(6, 7, 2, Padding::Same), layer(5, 3, 1, Padding::Valid)],
            global_pool: GlobalPool::Max,
            dense: vec![8],
            dense_dropout: 0.0,
        };
        check(config.clone(), InputShape { channels: 4, length: 30, outputs: 3 }, FastLoss::SoftmaxCrossEntropy);
        check(config, InputShape { channels: 4, length: 30, outputs: 2 }, FastLoss::SigmoidCrossEntropy);
    }

    /// The kernel's first convolution and [`crate::FirstLayer`] are the same numbers of one
    /// host description: weights (transposed back from filters-last) and bias.
    #[test]
    fn first_convolution_equals_first_layer() -> Result<(), Box<dyn std::error::Error>> {
        let (device, _lock) = crate::test_device();
        device.seed(6);
        let model = ModelConfig::Primer.init(InputShape { channels: 4, length: 50, outputs: 1 }, &device)?;
        let plan = FastPlan::new(&model, 4, 50).ok_or("supported")?;
        let network = plan.network(&model).ok_or("plan fits")?;
        let first = model.first_layer().ok_or("a first layer")?;
        let conv = &network.host.blocks[0].conv;
        assert_eq!(
            transpose_conv(&network.conv_weights[0], conv.filters, conv.channels, conv.width, false),
            first.weights
        );
        assert_eq!(first, crate::FirstLayer::from_host(conv.clone()));
        assert_eq!(conv.bias.as_deref(), Some(&first.bias[..]));
        assert_eq!((first.scale, first.shift), (vec![1.0; 32], vec![0.0; 32]));
        Ok(())
    }

    #[test]
    fn unsupported_models_fall_back() {
        let (device, _lock) = crate::test_device();
        let config = ModelConfig::Cnn {
            conv: vec![ConvLayerConfig {
                filters: 4,
                width: 3,
                dilation: 2,
                pool: 1,
                batch_norm: false,
                dropout: 0.0,
                padding: Padding::Valid,
            }],
            global_pool: GlobalPool::Max,
            dense: vec![],
            dense_dropout: 0.0,
        };
        let input = InputShape { channels: 4, length: 20, outputs: 1 };
        let model = config.init(input, &device).expect("model");
        assert!(FastPlan::new(&model, 4, 20).is_none());
    }

    /// burn draws a lazily initialised parameter when it is first read, and the training loop
    /// reseeds the device between making the plan and the first step. The plan draws a fresh
    /// model's weights (layer order) and the first step its biases (layer order), as the kernel
    /// always has; quickstart's numbers depend on it. Reading biases in `new` (as the first
    /// shared host description did) changed every fast-path training run.
    #[test]
    fn new_draws_the_weights_and_the_first_step_the_biases() -> Result<(), Box<dyn std::error::Error>> {
        let (plain, _lock) = crate::test_device();
        let device = plain.clone().autodiff();
        let input = InputShape { channels: 4, length: 50, outputs: 1 };
        device.seed(21);
        let model = ModelConfig::Primer.init(input, &device)?;
        assert!(parameters(&model, false).iter().all(|(_, initialized, _)| !initialized), "burn initialises lazily");
        let plan = FastPlan::new(&model, 4, 50).ok_or("supported")?;
        let Model::Cnn(cnn) = &model else { return Err("a CNN".into()) };
        let linears: Vec<&burn::nn::Linear> = cnn.dense_layers().iter().chain([cnn.output_layer()]).collect();
        let weights: Vec<ParamId> = cnn
            .blocks()
            .iter()
            .map(|block| block.conv().weight.id)
            .chain(linears.iter().map(|layer| layer.weight.id))
            .collect();
        for (id, initialized, _) in parameters(&model, false) {
            assert_eq!(initialized, weights.contains(&id), "{id}: only the weights are drawn by new");
        }
        device.seed(22);
        let (x, y) = one_hot_batch(4, 50, &mut 3);
        plan.loss_and_gradients(&model, &x, &y, &[1.0; 4], FastLoss::SigmoidCrossEntropy, &plain).ok_or("fits")?;
        let ours = parameters(&model, true);
        assert!(ours.iter().all(|(_, initialized, _)| *initialized));

        // The same draws by hand: the weights from the first seed, the biases from the second.
        device.seed(21);
        let reference = ModelConfig::Primer.init(input, &device)?;
        let Model::Cnn(cnn) = &reference else { return Err("a CNN".into()) };
        let linears: Vec<&burn::nn::Linear> = cnn.dense_layers().iter().chain([cnn.output_layer()]).collect();
        for block in cnn.blocks() {
            let _ = block.conv().weight.val();
        }
        for layer in &linears {
            let _ = layer.weight.val();
        }
        device.seed(22);
        for block in cnn.blocks() {
            let _ = block.conv().bias.as_ref().map(|bias| bias.val());
        }
        for layer in &linears {
            let _ = layer.bias.as_ref().map(|bias| bias.val());
        }
        let theirs = parameters(&reference, true);
        assert_eq!(ours.len(), theirs.len());
        for ((_, _, a), (_, _, b)) in ours.iter().zip(&theirs) {
            assert_eq!(a, b);
        }

        // A model the kernel does not take is left for burn's first forward pass to draw.
        let config = ModelConfig::Cnn {
            conv: vec![ConvLayerConfig {
                filters: 4,
                width: 3,
                dilation: 1,
                pool: 1,
                batch_norm: true,
                dropout: 0.0,
                padding: Padding::Valid,
            }],
            global_pool: GlobalPool::Max,
            dense: vec![],
            dense_dropout: 0.0,
        };
        let model = config.init(InputShape { channels: 4, length: 20, outputs: 1 }, &device)?;
        assert!(FastPlan::new(&model, 4, 20).is_none());
        let Model::Cnn(cnn) = &model else { return Err("a CNN".into()) };
        let conv = cnn.blocks()[0].conv();
        let output = cnn.output_layer();
        let drawn = [conv.weight.is_initialized(), output.weight.is_initialized()];
        let bias = |bias: &Option<burn::module::Param<Tensor<1>>>| bias.as_ref().is_some_and(|b| b.is_initialized());
        assert_eq!((drawn, bias(&conv.bias), bias(&output.bias)), ([false, false], false, false));
        Ok(())
    }

    /// Three Adam steps of the primer CNN on the fast path, seeded as the training loop seeds
    /// (model, then the first epoch), give the losses omix has always given (fdafe1c, before the
    /// shared host description; the third moved in its ninth digit when gradients began to be
    /// summed over fixed chunks of examples, to be the same on any thread count): a change to
    /// when or how weights are drawn, copied or handed back as gradients shows here.
    #[test]
    fn primer_adam_steps_give_the_pinned_losses() -> Result<(), Box<dyn std::error::Error>> {
        let (plain, _lock) = crate::test_device();
        let device = plain.clone().autodiff();
        device.seed(21);
        let mut model = ModelConfig::Primer.init(InputShape { channels: 4, length: 50, outputs: 1 }, &device)?;
        let plan = FastPlan::new(&model, 4, 50).ok_or("supported")?;
        device.seed(22);
        let mut optim = burn::optim::AdamConfig::new().with_epsilon(1e-8).init();
        let mut state = 5;
        let mut losses = Vec::new();
        for _ in 0..3 {
            let (x, y) = one_hot_batch(16, 50, &mut state);
            let (loss, grads) = plan
                .loss_and_gradients(&model, &x, &y, &[1.0; 16], FastLoss::SigmoidCrossEntropy, &plain)
                .ok_or("fits")?;
            assert_one_gradient_per_parameter(&model, &grads);
            losses.push(loss);
            model = optim.step(1e-3, model, grads);
        }
        let pinned = [0.719556182229, 0.696169654885, 0.692616335606];
        for (loss, pinned) in losses.iter().zip(pinned) {
            assert!((loss - pinned).abs() < 1e-9, "loss {loss:.12}, pinned {pinned:.12}");
        }
        Ok(())
    }
}
