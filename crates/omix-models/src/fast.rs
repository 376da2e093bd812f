//! A hand-written, batch-parallel forward and backward pass for sequence CNNs.
//!
//! burn's flex backend runs each convolution as one small matrix product per sequence and pays
//! an allocation per op; at genomics sizes (a few filters over ~100 positions) that overhead
//! dominates. This module computes the loss and every parameter gradient of a [`SequenceCnn`]
//! directly and hands the gradients back as burn [`GradientsParams`], so that burn's optimisers,
//! records and checkpoints are unchanged. It covers every layer a sequence CNN config can ask
//! for: convolution blocks of any number, width, dilation and "same"/valid padding, batch-norm
//! (training mode on batch statistics, with burn's running-statistics update; inference mode on
//! the running statistics, folded), ReLU, max pooling, dropout after a block and after each hidden
//! dense layer, every global reduction (flatten, max, mean, max and mean), dense layers.
//!
//! The kernel runs layer by layer over the batch, each layer one example (or one fixed block of
//! examples, for the products) per rayon task: a batch-norm needs the whole batch's statistics before any example can go on. Every product is
//! the gemm crate's ([`crate::gemm::product`]: SIMD kernels, AVX2/FMA chosen at run time, on the
//! calling thread; ~1.4× matrixmultiply's throughput on these shapes). Convolution weights are
//! kept tap-major, `[width][channels][filters]`, so an im2col row holds each tap's channels as one
//! contiguous run (copied in, added back out as runs). A convolution is one product of the
//! stacked im2col matrices of a fixed block of [`DENSE_BLOCK`] examples with the weights
//! (`[examples·positions, width·channels] · [width·channels, filters]`, the im2col matrix in a
//! per-thread buffer kept between calls), its input gradient the same product transposed, a
//! dense layer likewise (`[examples, inputs] · [inputs, outputs]`). A weight gradient goes into
//! one gradient set for the whole batch: a dense layer's is one product over the batch
//! (`inputsᵀ · output gradients`), a convolution's one per block of [`DENSE_BLOCK`] examples,
//! added in block order, each cut into fixed blocks of [`WEIGHT_ROWS`] weight rows on rayon's
//! pool (a one-hot first layer's: partial sums over fixed chunks of [`GRADIENT_CHUNK`]
//! examples, added in order); the loss is summed over fixed chunks of examples and
//! the chunks' sums added in order, and batch statistics example by example in order, so the
//! numbers are the same whatever the thread count. Inference ([`FastPlan::logits`]) runs fixed
//! blocks of examples, each block one rayon task through every layer, keeping nothing for a
//! backward pass. A one-hot input's first convolution, in training and inference, adds weight
//! columns, not a product: one column per group of two or three taps from a table of their sums
//! ([`TapTable`], built once per inference call or per block of training examples, when it fits
//! 128 KB), else one per base and tap
//! ([`sparse_convolution`], also DeepLIFT's), a quarter of a dense product's work or less; its
//! weight gradient is the transpose (or, when the output gradient is mostly zeros, as after a
//! global max, a walk over its non-zero entries). These loops run as `pulp` kernels
//! (`WithSimd`), compiled for AVX2 where the CPU has it although the workspace builds for
//! baseline x86-64.
//!
//! **Dropout masks** come from the step's `dropout_seed`, not from burn's device stream: example
//! `n` of a batch draws from ChaCha8 seeded with `dropout_seed` on stream `n`, first every
//! dropped block's cells (block order, position-major `[position][filter]`), then every hidden
//! dense layer's units; a cell is kept when its uniform draw in `[0, 1)` is below `1 − p`, and
//! kept cells are scaled by `1 / (1 − p)` as in burn. The same seed gives the same masks on any
//! thread count; `omix_train`'s trainer derives the seed from the run's seed, the epoch and the
//! batch.
//!
//! Results equal burn's autodiff (tested to 1e-4, dropout with the same masks); unsupported
//! models (not a [`SequenceCnn`], stride or groups other than 1, layers that do not fit the
//! input) return `None` from [`FastPlan::new`] and train through burn. The kernel runs on the
//! shared host-side description of the network ([`HostCnn`]), copied from the model at every
//! call.

use burn::optim::GradientsParams;
use burn::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Examples per partial gradient sum in [`FastPlan::loss_and_gradients`].
pub(crate) const GRADIENT_CHUNK: usize = 4;
/// Examples per product in the forward pass of the convolutions and dense layers (a fixed
/// partition, so the numbers do not depend on the thread count).
pub(crate) const DENSE_BLOCK: usize = 32;
/// Weight rows per product (and rayon task) of a weight gradient: a fixed partition of the
/// gradient's rows, each row's sum over the examples made in one product, so the numbers do not
/// depend on the thread count.
pub(crate) const WEIGHT_ROWS: usize = 256;

use crate::Model;
use crate::cnn::SequenceCnn;
use crate::config::GlobalPool;
use crate::gemm::Layout;
use crate::host::{HostBlock, HostCnn};

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

/// The network as the kernel runs it: the host description of the model at the time of the
/// call, with every convolution's weights transposed to `[width][channels][filters]` (filters
/// contiguous, so every inner loop runs over filters, and the im2col product's right-hand matrix
/// `[width·channels, filters]`). Dense weights stay in the description's `[inputs][outputs]`.
pub(crate) struct Network {
    pub(crate) host: HostCnn,
    /// Per block, weights `[width][channels][filters]`.
    pub(crate) conv_weights: Vec<Vec<f32>>,
}

/// Gradients in the kernel's layouts: per block (weights `[width][channels][filters]`, bias
/// `[filters]`), per dense layer (weights `[inputs][outputs]`, bias `[outputs]`); a layer
/// without a bias has an empty bias gradient.
pub(crate) struct Gradients {
    pub(crate) conv: Vec<(Vec<f32>, Vec<f32>)>,
    dense: Vec<(Vec<f32>, Vec<f32>)>,
}

/// Whether a pass trains (batch statistics, dropout with masks from the seed) or infers.
/// Inference runs through [`Network::infer`]; the traced forward pass in inference mode is
/// kept for the tests, which compare the two.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    #[cfg(test)]
    Inference,
    Training {
        dropout_seed: u64,
    },
}

/// A batch-norm's batch statistics in one training pass: `mean` and `1 / sqrt(var + ε)` per
/// filter, and the (biased) variance the running statistics move towards.
struct BatchStatistics {
    mean: Vec<f32>,
    inverse_std: Vec<f32>,
    variance: Vec<f32>,
}

/// What one example keeps between layers, and for the backward pass.
pub(crate) struct Example {
    /// Block inputs position-major `[positions, channels]`: `activations[b]` enters block `b`,
    /// the last one enters the readout.
    pub(crate) activations: Vec<Vec<f32>>,
    /// Per block, the convolution's output plus bias `[positions, filters]`.
    pre_activations: Vec<Vec<f32>>,
    /// Per block with a batch-norm, its output `[positions, filters]` (empty without one).
    normalised: Vec<Vec<f32>>,
    /// Per block, the position of each pooled cell's maximum `[pooled, filters]` (empty without pooling).
    argmax: Vec<Vec<usize>>,
    /// Per block, the dropout multipliers `[pooled, filters]` (0 or `1/(1−p)`; empty without).
    pub(crate) block_masks: Vec<Vec<f32>>,
    /// The readout's argmax per filter (global max and max-mean).
    global_argmax: Vec<usize>,
    /// Inputs of each dense layer.
    dense_inputs: Vec<Vec<f32>>,
    /// Dropout multipliers after each hidden dense layer (empty without).
    dense_masks: Vec<Vec<f32>>,
    /// The logits.
    pub(crate) logits: Vec<f32>,
    /// The gradient flowing down: into the current block's output, then its input.
    pub(crate) delta: Vec<f32>,
    /// The example's dropout draws (training with dropout only).
    rng: Option<ChaCha8Rng>,
}

impl Example {
    pub(crate) fn new(mode: Mode, index: usize, dropout: bool) -> Self {
        let rng = match mode {
            Mode::Training { dropout_seed } if dropout => {
                let mut rng = ChaCha8Rng::seed_from_u64(dropout_seed);
                rng.set_stream(index as u64);
                Some(rng)
            }
            _ => None,
        };
        Self {
            activations: Vec::new(),
            pre_activations: Vec::new(),
            normalised: Vec::new(),
            argmax: Vec::new(),
            block_masks: Vec::new(),
            global_argmax: Vec::new(),
            dense_inputs: Vec::new(),
            dense_masks: Vec::new(),
            logits: Vec::new(),
            delta: Vec::new(),
            rng,
        }
    }

    /// Multipliers for `count` cells dropped with probability `p` (empty when `p` is 0 or the
    /// pass does not train).
    pub(crate) fn draw_mask(&mut self, count: usize, p: f64) -> Vec<f32> {
        let Some(rng) = self.rng.as_mut().filter(|_| p > 0.0) else {
            return Vec::new();
        };
        let keep = 1.0 - p;
        let scale = (1.0 / keep) as f32;
        (0..count).map(|_| if rng.random::<f64>() < keep { scale } else { 0.0 }).collect()
    }
}

/// `[filters][channels][width]` (burn's) ↔ `[width][channels][filters]` (the kernels': tap-major,
/// so an im2col row holds each tap's channels contiguously, copied and scattered as runs).
pub(crate) fn transpose_conv(
    weights: &[f32],
    filters: usize,
    channels: usize,
    width: usize,
    to_filters_last: bool,
) -> Vec<f32> {
    let mut out = vec![0.0; weights.len()];
    for f in 0..filters {
        for c in 0..channels {
            for k in 0..width {
                let burn = (f * channels + c) * width + k;
                let last = (k * channels + c) * filters + f;
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

/// Every block's convolution weights filters-last, `[width][channels][filters]`.
pub(crate) fn filters_last(host: &HostCnn) -> Vec<Vec<f32>> {
    host.blocks
        .iter()
        .map(|block| {
            let conv = &block.conv;
            transpose_conv(&conv.weights, conv.filters, conv.channels, conv.width, true)
        })
        .collect()
}

/// `c ← c + aᵀ · b` for row-major `a [k, m]`, `b [k, n]` and `c [m, n]`: one product per fixed
/// block of [`WEIGHT_ROWS`] rows of `c`, the blocks on rayon's pool (a weight gradient: `a` the
/// layer's inputs, `b` its output gradients, `k` the examples or positions summed over).
pub(crate) fn transposed_product_by_rows(a: &[f32], b: &[f32], c: &mut [f32], (m, k, n): (usize, usize, usize)) {
    let la = Layout::row_major(k, m).transposed();
    product_by_row_blocks((a, la), (b, Layout::row_major(k, n)), c, true);
}

/// `c ← a · b` (`c ← c + a · b` when `accumulate`) for a row-major `c [m, n]` (`m` and `n` from
/// the views): one product per fixed block of [`WEIGHT_ROWS`] rows of `c` (the matching rows of
/// `a`), the blocks on rayon's pool. The blocks do not depend on the thread count, and each
/// element is one product's sum over the whole inner dimension, so neither do the numbers.
pub(crate) fn product_by_row_blocks(a: (&[f32], Layout), b: (&[f32], Layout), c: &mut [f32], accumulate: bool) {
    let ((a, la), (b, lb)) = (a, b);
    let (m, n) = (la.rows, lb.columns);
    if m == 0 || n == 0 {
        return;
    }
    c[..m * n].par_chunks_mut(WEIGHT_ROWS * n).enumerate().for_each(|(block, c)| {
        let rows = c.len() / n;
        let la = Layout { offset: la.offset + block * WEIGHT_ROWS * la.row_stride, rows, ..la };
        crate::gemm::product((a, la), (b, lb), (c, Layout::row_major(rows, n)), accumulate)
            .expect("buffers sized by the host description");
    });
}

/// [`product_by_row_blocks`] cut along the columns instead: one product per fixed block of
/// [`WEIGHT_ROWS`] columns of `c` (the matching columns of `b`), each into a buffer of its own,
/// copied into `c` (a product with few rows and many columns: a dense layer over a batch).
pub(crate) fn product_by_column_blocks(a: (&[f32], Layout), b: (&[f32], Layout), c: &mut [f32], accumulate: bool) {
    let ((a, la), (b, lb)) = (a, b);
    let (m, n) = (la.rows, lb.columns);
    if m == 0 || n == 0 {
        return;
    }
    let blocks: Vec<Vec<f32>> = (0..n.div_ceil(WEIGHT_ROWS))
        .into_par_iter()
        .map(|block| {
            let first = block * WEIGHT_ROWS;
            let columns = WEIGHT_ROWS.min(n - first);
            let mut out = vec![0.0f32; m * columns];
            if accumulate {
                for (out, row) in out.chunks_exact_mut(columns).zip(c.chunks_exact(n)) {
                    out.copy_from_slice(&row[first..first + columns]);
                }
            }
            let lb = Layout { offset: lb.offset + first * lb.column_stride, columns, ..lb };
            crate::gemm::product((a, la), (b, lb), (&mut out, Layout::row_major(m, columns)), accumulate)
                .expect("buffers sized by the host description");
            out
        })
        .collect();
    for (block, out) in blocks.iter().enumerate() {
        let (first, columns) = (block * WEIGHT_ROWS, out.len() / m);
        for (row, out) in c.chunks_exact_mut(n).zip(out.chunks_exact(columns)) {
            row[first..first + columns].copy_from_slice(out);
        }
    }
}

/// `c ← a · b + beta · c` (`beta` 0 or 1) for row-major `a [m, k]`, `b [k, n]`, `c [m, n]`; `transpose_a` reads
/// `a` stored `[k, m]`, `transpose_b` reads `b` stored `[n, k]`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul(
    a: &[f32],
    transpose_a: bool,
    b: &[f32],
    transpose_b: bool,
    c: &mut [f32],
    (m, k, n): (usize, usize, usize),
    beta: f32,
) {
    if m == 0 || n == 0 {
        return;
    }
    // The shapes come from the host description, which checked that the layers fit; a buffer
    // of another size is a bug of this module.
    let layout = |rows, columns, transpose| {
        if transpose { Layout::row_major(columns, rows).transposed() } else { Layout::row_major(rows, columns) }
    };
    let (la, lb) = (layout(m, k, transpose_a), layout(k, n, transpose_b));
    crate::gemm::product((a, la), (b, lb), (c, Layout::row_major(m, n)), beta != 0.0)
        .expect("buffers sized by the host description");
}

impl FastPlan {
    /// A plan for `model` on inputs `[channels, length]`, or `None` when the model is not a
    /// sequence CNN, its layers do not fit that input, or it lives on a device the host kernels
    /// do not serve (a GPU: [`crate::host_kernels_serve`]).
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
        if !crate::on_host(model) {
            return None; // before `initialize_weights`: a GPU model is drawn as burn draws it
        }
        HostCnn::check(cnn, channels, length).ok()?;
        cnn.initialize_weights();
        Some(Self { channels, length })
    }

    /// `model`'s current weights as the kernel runs them, `None` when `model` is not a CNN the
    /// kernel implements on this plan's inputs or a weight cannot be read back.
    fn network<'m>(&self, model: &'m Model) -> Option<(Network, &'m SequenceCnn)> {
        let Model::Cnn(cnn) = model else {
            return None;
        };
        let host = HostCnn::from_cnn(cnn, self.channels, self.length).ok()?;
        let conv_weights = filters_last(&host);
        Some((Network { host, conv_weights }, cnn))
    }

    /// Logits `[batch, outputs]` of a batch `[batch, channels, length]` (inference: batch-norm
    /// on its running statistics, no dropout).
    ///
    /// `None` when `model` is not the CNN the plan was made for.
    pub fn logits(&self, model: &Model, inputs: &[f32]) -> Option<Vec<f32>> {
        let (network, _) = self.network(model)?;
        Some(on_pool(|| network.infer(inputs)))
    }

    /// Weighted mean loss of a batch and the gradients of every parameter (training mode:
    /// batch-norm on the batch's statistics, which also move the model's running statistics as
    /// burn's training forward pass does; dropout with masks drawn from `dropout_seed`, see the
    /// module docs).
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
        let (network, cnn) = self.network(model)?;
        let batch = weights.len();
        let mode = Mode::Training { dropout_seed };
        let dropout = network.host.dense_dropout > 0.0 || network.host.blocks.iter().any(|block| block.dropout > 0.0);
        let mut examples: Vec<Example> = (0..batch).map(|n| Example::new(mode, n, dropout)).collect();
        let (statistics, (total, gradients, norm_gradients)) = on_pool(|| {
            let statistics = network.forward(inputs, mode, &mut examples);
            let backward = network.backward(&mut examples, &statistics, targets, weights, loss);
            (statistics, backward)
        });

        // The running statistics move as in burn's training forward pass.
        for ((block, host), statistics) in cnn.blocks().iter().zip(&network.host.blocks).zip(&statistics) {
            let (Some(norm), Some(host_norm), Some(statistics)) = (block.norm(), &host.conv.norm, statistics) else {
                continue;
            };
            let momentum = host_norm.momentum;
            let update = |running: &[f32], batch: &[f32]| -> Vec<f32> {
                running.iter().zip(batch).map(|(r, b)| r * (1.0 - momentum) as f32 + b * momentum as f32).collect()
            };
            let filters = host.conv.filters;
            let target = norm.running_mean.value().device();
            let mean = update(&host_norm.running_mean, &statistics.mean);
            let variance = update(&host_norm.running_var, &statistics.variance);
            norm.running_mean.update(Tensor::<1>::from_data(TensorData::new(mean, [filters]), &target));
            norm.running_var.update(Tensor::<1>::from_data(TensorData::new(variance, [filters]), &target));
        }

        let mut params = GradientsParams::new();
        register_conv_gradients(&mut params, &network.host.blocks, gradients.conv, device);
        for (block, norm_gradient) in network.host.blocks.iter().zip(norm_gradients) {
            let conv = &block.conv;
            if let (Some(norm), Some((gamma, beta))) = (&conv.norm, norm_gradient) {
                params.register(norm.gamma_id, Tensor::<1>::from_data(TensorData::new(gamma, [conv.filters]), device));
                params.register(norm.beta_id, Tensor::<1>::from_data(TensorData::new(beta, [conv.filters]), device));
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

/// Hand each block's convolution gradients (weights in the kernels' layout, bias) to burn under
/// the parameters' ids, the weights back in burn's `[filters][channels][width]`.
pub(crate) fn register_conv_gradients(
    params: &mut GradientsParams,
    blocks: &[HostBlock],
    gradients: Vec<(Vec<f32>, Vec<f32>)>,
    device: &Device,
) {
    for (block, (w, b)) in blocks.iter().zip(gradients) {
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
}

/// `work` run on one of rayon's worker threads, so that the many parallel loops inside it start
/// from a worker (a loop started from another thread hands its work to the pool and sleeps until
/// it is done: a context switch per loop, a fifth of a small model's step).
pub(crate) fn on_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| work())
}

/// Sum per-example partial sums `[filters]` in example order, in f64.
fn ordered_sum(partials: Vec<Vec<f64>>, filters: usize) -> Vec<f64> {
    let mut total = vec![0.0f64; filters];
    for partial in partials {
        total.iter_mut().zip(partial).for_each(|(t, p)| *t += p);
    }
    total
}

impl Network {
    pub(crate) fn zero_gradients(&self) -> Gradients {
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

    /// The forward pass of a batch, layer by layer; leaves each example's logits (and what the
    /// backward pass needs) in `examples`, and returns each block's batch statistics (training
    /// with batch-norm only).
    fn forward(&self, inputs: &[f32], mode: Mode, examples: &mut [Example]) -> Vec<Option<BatchStatistics>> {
        let (channels, length) = (self.host.channels, self.host.length);
        let block_size = channels * length;
        examples.par_iter_mut().enumerate().for_each(|(n, example)| {
            // The input arrives channel-major [C, L]; store it position-major [L, C].
            example.activations.push(transpose(&inputs[n * block_size..(n + 1) * block_size], channels, length));
        });
        let mut all_statistics = Vec::with_capacity(self.host.blocks.len());
        for (index, block) in self.host.blocks.iter().enumerate() {
            examples.par_chunks_mut(DENSE_BLOCK).for_each(|examples| self.convolve(index, examples));
            let filters = block.conv.filters;
            // The batch-norm as a per-filter affine map of the convolution's output.
            let (affine, statistics) = match (&block.conv.norm, &block.conv.batch_norm, mode) {
                (Some(norm), _, Mode::Training { .. }) => {
                    let statistics = Self::batch_statistics(examples, index, filters, norm.epsilon);
                    let scale: Vec<f32> = norm.gamma.iter().zip(&statistics.inverse_std).map(|(g, s)| g * s).collect();
                    let shift =
                        norm.beta.iter().zip(&statistics.mean).zip(&scale).map(|((b, m), s)| b - m * s).collect();
                    (Some((scale, shift)), Some(statistics))
                }
                (_, Some(folded), _) => (Some((folded.scale.clone(), folded.shift.clone())), None),
                _ => (None, None),
            };
            all_statistics.push(statistics);
            examples.par_iter_mut().for_each(|example| self.activate(block, affine.as_ref(), example));
        }
        examples.par_iter_mut().for_each(|example| self.readout(example));
        examples.par_chunks_mut(DENSE_BLOCK).for_each(|examples| self.dense_forward(examples));
        all_statistics
    }

    /// Logits `[batch, outputs]` in inference mode (folded batch-norm, no dropout), each fixed
    /// block of [`DENSE_BLOCK`] examples one rayon task that runs every layer over the whole
    /// block as one matrix (a one-hot first layer by [`TapTable`] or [`sparse_convolution`]), without the
    /// per-example records that only the backward pass reads.
    fn infer(&self, inputs: &[f32]) -> Vec<f32> {
        let size = (self.host.channels * self.host.length).max(1);
        let outputs = self.host.outputs();
        let count = inputs.len() / size;
        let mut logits = vec![0.0f32; count * outputs];
        if outputs == 0 {
            return logits;
        }
        let table = match self.host.blocks.first() {
            Some(block) if block.conv.channels <= SPARSE_CHANNELS => TapTable::new(block, &self.conv_weights[0]),
            _ => None,
        };
        logits
            .par_chunks_mut(DENSE_BLOCK * outputs)
            .zip(inputs[..count * size].par_chunks(DENSE_BLOCK * size))
            .for_each(|(logits, inputs)| self.infer_block(inputs, logits, table.as_ref()));
        logits
    }

    /// [`Network::infer`] of one block of examples `[examples, channels, length]` (a one-hot first
    /// layer through `table` where it has one and the input is one-hot).
    fn infer_block(&self, inputs: &[f32], logits: &mut [f32], table: Option<&TapTable>) {
        let (channels, length) = (self.host.channels, self.host.length);
        let examples = inputs.len() / (channels * length).max(1);
        // Each layer's input, position-major per example `[examples][positions][channels]`.
        let mut current: Vec<f32> = Vec::new();
        for (index, block) in self.host.blocks.iter().enumerate() {
            let conv = &block.conv;
            let filters = conv.filters;
            let depth = conv.channels * conv.width;
            let rows = examples * block.positions;
            let mut z = vec![0.0f32; rows * filters];
            if let Some(b) = &conv.bias {
                z.chunks_exact_mut(filters).for_each(|row| row.copy_from_slice(b));
            }
            if index == 0 && conv.channels <= SPARSE_CHANNELS {
                let size = conv.channels * block.input_length;
                for (input, z) in inputs.chunks_exact(size).zip(z.chunks_exact_mut(block.positions * filters)) {
                    if !table.is_some_and(|table| table.convolve(block, input, z)) {
                        sparse_convolution(block, &self.conv_weights[index], input, z);
                    }
                }
            } else {
                if index == 0 {
                    current = position_major(inputs, channels, length);
                }
                let mut buffer = scratch(rows * depth);
                let columns = &mut buffer[..rows * depth];
                stacked_im2col_into(block, current.chunks_exact(block.input_length * conv.channels), columns);
                matmul(columns, false, &self.conv_weights[index], false, &mut z, (rows, depth, filters), 1.0);
                give_back(buffer);
            }
            if let Some(norm) = &conv.batch_norm {
                for row in z.chunks_exact_mut(filters) {
                    for ((v, s), t) in row.iter_mut().zip(&norm.scale).zip(&norm.shift) {
                        *v = *v * s + t;
                    }
                }
            }
            // ReLU, then non-overlapping max pooling (a partial last window dropped).
            let mut next = vec![0.0f32; examples * block.pooled * filters];
            for (z, next) in
                z.chunks_exact(block.positions * filters).zip(next.chunks_exact_mut(block.pooled * filters))
            {
                for (q, cell) in next.chunks_exact_mut(filters).enumerate() {
                    let first = q * block.pool;
                    cell.iter_mut().zip(&z[first * filters..(first + 1) * filters]).for_each(|(c, v)| *c = v.max(0.0));
                    for position in first + 1..first + block.pool {
                        let row = &z[position * filters..(position + 1) * filters];
                        // Values only (no argmax): a max the compiler vectorises.
                        cell.iter_mut().zip(row).for_each(|(c, v)| *c = c.max(v.max(0.0)));
                    }
                }
            }
            current = next;
        }
        if self.host.blocks.is_empty() {
            current = position_major(inputs, channels, length);
        }
        // The global reduction, in burn's order (as `readout`).
        let (filters, cells) = self.host.last_shape();
        let width = match self.host.global_pool {
            GlobalPool::Max | GlobalPool::Mean => filters,
            GlobalPool::MaxMean => 2 * filters,
            GlobalPool::None => filters * cells,
        };
        let mut features = vec![0.0f32; examples * width];
        for (last, features) in current.chunks_exact((filters * cells).max(1)).zip(features.chunks_exact_mut(width)) {
            let max = |out: &mut [f32]| {
                out.copy_from_slice(&last[..filters]);
                for row in last.chunks_exact(filters).skip(1) {
                    out.iter_mut().zip(row).for_each(|(best, v)| *best = best.max(*v));
                }
            };
            let mean = |out: &mut [f32]| {
                out.fill(0.0);
                for row in last.chunks_exact(filters) {
                    out.iter_mut().zip(row).for_each(|(sum, v)| *sum += v);
                }
                out.iter_mut().for_each(|sum| *sum /= cells as f32);
            };
            match self.host.global_pool {
                GlobalPool::Max => max(features),
                GlobalPool::Mean => mean(features),
                GlobalPool::MaxMean => {
                    let (maxima, means) = features.split_at_mut(filters);
                    max(maxima);
                    mean(means);
                }
                GlobalPool::None => {
                    for q in 0..cells {
                        for f in 0..filters {
                            features[f * cells + q] = last[q * filters + f];
                        }
                    }
                }
            }
        }
        // The dense layers (as `dense_forward`).
        for spec in &self.host.dense {
            let bias = spec.bias_or_zeros();
            let mut y: Vec<f32> = bias.iter().copied().cycle().take(examples * spec.outputs).collect();
            matmul(&features, false, &spec.weights, false, &mut y, (examples, spec.inputs, spec.outputs), 1.0);
            if spec.relu {
                y.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            features = y;
        }
        logits.copy_from_slice(&features);
    }

    /// The convolution of block `index` on a block of examples (inputs `[input_length,
    /// channels]` each): one product of their stacked im2col matrices `[examples·positions,
    /// channels·width]` with the weights; each example's output `[positions, filters]`, bias
    /// included, is pushed to its `pre_activations`.
    pub(crate) fn convolve(&self, index: usize, examples: &mut [Example]) {
        let block = &self.host.blocks[index];
        let conv = &block.conv;
        let filters = conv.filters;
        let rows = examples.len() * block.positions;
        let mut z = vec![0.0f32; rows * filters];
        if let Some(b) = &conv.bias {
            z.chunks_exact_mut(filters).for_each(|row| row.copy_from_slice(b));
        }
        if index == 0 && conv.channels <= SPARSE_CHANNELS {
            // A one-hot input: one column per group of taps (`TapTable`, built once for the
            // block of examples) or one weight column per base and tap, a quarter of the product.
            let table = TapTable::new(block, &self.conv_weights[index]);
            for (example, z) in examples.iter_mut().zip(z.chunks_exact_mut(block.positions * filters)) {
                let input = &example.activations[index];
                if !table.as_ref().is_some_and(|table| table.convolve_position_major(block, input, z)) {
                    sparse_convolution_position_major(block, &self.conv_weights[index], input, z);
                }
                example.pre_activations.push(z.to_vec());
            }
            return;
        }
        let depth = conv.channels * conv.width;
        let mut buffer = scratch(rows * depth);
        let columns = &mut buffer[..rows * depth];
        stacked_im2col_into(block, examples.iter().map(|example| &example.activations[index][..]), columns);
        matmul(columns, false, &self.conv_weights[index], false, &mut z, (rows, depth, filters), 1.0);
        give_back(buffer);
        for (example, z) in examples.iter_mut().zip(z.chunks_exact(block.positions * filters)) {
            example.pre_activations.push(z.to_vec());
        }
    }

    /// Mean and variance per filter of block `index`'s convolution output over the batch and
    /// positions (summed example by example, in order, in f64), as burn's `batch_norm_train`.
    fn batch_statistics(examples: &[Example], index: usize, filters: usize, epsilon: f64) -> BatchStatistics {
        let count = examples.iter().map(|example| example.pre_activations[index].len() / filters.max(1)).sum::<usize>();
        let count = count.max(1) as f64;
        let sums = examples
            .par_iter()
            .map(|example| {
                let mut sum = vec![0.0f64; filters];
                for row in example.pre_activations[index].chunks_exact(filters) {
                    sum.iter_mut().zip(row).for_each(|(s, z)| *s += f64::from(*z));
                }
                sum
            })
            .collect();
        let mean: Vec<f64> = ordered_sum(sums, filters).into_iter().map(|s| s / count).collect();
        let squares = examples
            .par_iter()
            .map(|example| {
                let mut sum = vec![0.0f64; filters];
                for row in example.pre_activations[index].chunks_exact(filters) {
                    for ((s, z), m) in sum.iter_mut().zip(row).zip(&mean) {
                        let centred = f64::from(*z) - m;
                        *s += centred * centred;
                    }
                }
                sum
            })
            .collect();
        let variance: Vec<f64> = ordered_sum(squares, filters).into_iter().map(|s| s / count).collect();
        BatchStatistics {
            mean: mean.iter().map(|m| *m as f32).collect(),
            inverse_std: variance.iter().map(|v| (1.0 / (v + epsilon).sqrt()) as f32).collect(),
            variance: variance.iter().map(|v| *v as f32).collect(),
        }
    }

    /// Batch-norm (as `scale · z + shift`), ReLU, non-overlapping max pooling (the first maximum
    /// wins, as in burn) and dropout of one block for one example.
    pub(crate) fn activate(&self, block: &HostBlock, affine: Option<&(Vec<f32>, Vec<f32>)>, example: &mut Example) {
        let filters = block.conv.filters;
        let index = example.argmax.len();
        let z = &example.pre_activations[index];
        let normalised = match affine {
            Some((scale, shift)) => {
                let mut y = z.clone();
                for row in y.chunks_exact_mut(filters) {
                    for ((v, s), t) in row.iter_mut().zip(scale).zip(shift) {
                        *v = *v * s + t;
                    }
                }
                y
            }
            None => Vec::new(),
        };
        let y = if normalised.is_empty() { z } else { &normalised };
        let (mut pooled, argmax) = if block.pool == 1 {
            // No pooling: the ReLU alone (the backward pass reads the positive cells off `y`).
            (y.iter().map(|v| v.max(0.0)).collect::<Vec<f32>>(), Vec::new())
        } else {
            let mut pooled = vec![0.0f32; block.pooled * filters];
            let mut argmax = vec![0usize; block.pooled * filters];
            for q in 0..block.pooled {
                let (best_values, best) =
                    (&mut pooled[q * filters..(q + 1) * filters], &mut argmax[q * filters..(q + 1) * filters]);
                let first = q * block.pool;
                let window = &y[first * filters..(first + block.pool) * filters];
                // The maxima first (a vectorised max), then the first position holding each,
                // walking back with selects (the comparisons are data-dependent: no branches).
                best_values.iter_mut().zip(window).for_each(|(value, v)| *value = v.max(0.0));
                for row in window.chunks_exact(filters).skip(1) {
                    best_values.iter_mut().zip(row).for_each(|(value, v)| *value = value.max(v.max(0.0)));
                }
                for (offset, row) in window.chunks_exact(filters).enumerate().rev() {
                    for ((index, value), v) in best.iter_mut().zip(&*best_values).zip(row) {
                        *index = if v.max(0.0) == *value { first + offset } else { *index };
                    }
                }
            }
            (pooled, argmax)
        };
        let mask = example.draw_mask(pooled.len(), block.dropout);
        if !mask.is_empty() {
            pooled.iter_mut().zip(&mask).for_each(|(v, m)| *v *= m);
        }
        example.normalised.push(normalised);
        example.argmax.push(argmax);
        example.block_masks.push(mask);
        example.activations.push(pooled);
    }

    /// The global reduction of one example: the features entering the dense layers.
    fn readout(&self, example: &mut Example) {
        // Features entering the dense layers, in burn's order: flatten [F, P'] channel-major,
        // one maximum and/or one mean per filter.
        let (filters, length) = self.host.last_shape();
        let last = &example.activations[self.host.blocks.len()];
        example.global_argmax.clear();
        let max = |argmax: &mut Vec<usize>| {
            // Position by position over contiguous rows; the first maximum wins.
            let mut best = last[..filters].to_vec();
            argmax.resize(filters, 0);
            // The maxima first (a vectorised max), then the first position holding each, found
            // walking back with selects (the comparisons are data-dependent: no branches).
            for row in last.chunks_exact(filters).skip(1) {
                best.iter_mut().zip(row).for_each(|(value, v)| *value = value.max(*v));
            }
            for (q, row) in last.chunks_exact(filters).enumerate().rev() {
                for ((index, value), v) in argmax.iter_mut().zip(&best).zip(row) {
                    *index = if v == value { q } else { *index };
                }
            }
            best
        };
        let mean = || {
            let mut sums = vec![0.0f32; filters];
            for row in last.chunks_exact(filters) {
                sums.iter_mut().zip(row).for_each(|(sum, v)| *sum += v);
            }
            sums.iter().map(|sum| sum / length as f32).collect::<Vec<f32>>()
        };
        let features = match self.host.global_pool {
            GlobalPool::Max => max(&mut example.global_argmax),
            GlobalPool::Mean => mean(),
            GlobalPool::MaxMean => {
                let mut features = max(&mut example.global_argmax);
                features.extend(mean());
                features
            }
            GlobalPool::None => {
                let mut features = vec![0.0f32; filters * length];
                for q in 0..length {
                    for f in 0..filters {
                        features[f * length + q] = last[q * filters + f];
                    }
                }
                features
            }
        };
        example.logits = features;
    }

    /// The dense layers of a block of examples, from the features their readout left in
    /// `logits`: one product per layer, `[examples, inputs] · [inputs, outputs]`.
    fn dense_forward(&self, examples: &mut [Example]) {
        let rows = examples.len();
        for spec in &self.host.dense {
            let mut x = Vec::with_capacity(rows * spec.inputs);
            for example in examples.iter_mut() {
                let features = std::mem::take(&mut example.logits);
                x.extend_from_slice(&features);
                example.dense_inputs.push(features);
            }
            let bias = spec.bias_or_zeros();
            let mut y: Vec<f32> = bias.iter().copied().cycle().take(rows * spec.outputs).collect();
            matmul(&x, false, &spec.weights, false, &mut y, (rows, spec.inputs, spec.outputs), 1.0);
            for (example, row) in examples.iter_mut().zip(y.chunks_exact(spec.outputs)) {
                let mut out = row.to_vec();
                if spec.relu {
                    out.iter_mut().for_each(|v| *v = v.max(0.0));
                    let mask = example.draw_mask(out.len(), self.host.dense_dropout);
                    if !mask.is_empty() {
                        out.iter_mut().zip(&mask).for_each(|(v, m)| *v *= m);
                    }
                    example.dense_masks.push(mask);
                }
                example.logits = out;
            }
        }
    }

    /// The backward pass of a batch after [`Network::forward`]: the weighted mean loss, the
    /// gradients of the convolutions and dense layers, and per block the batch-norm's
    /// `(gamma, beta)` gradients.
    #[allow(clippy::type_complexity)]
    fn backward(
        &self,
        examples: &mut [Example],
        statistics: &[Option<BatchStatistics>],
        targets: &[f32],
        weights: &[f32],
        loss: FastLoss,
    ) -> (f64, Gradients, Vec<Option<(Vec<f32>, Vec<f32>)>>) {
        let batch = weights.len();
        let outputs = self.host.outputs();
        // The loss summed over fixed chunks of examples, the chunks' sums added in order; the
        // weight gradients over the whole batch, each split into fixed blocks of rows (see
        // `convolution_weight_gradients`): the numbers are the same whatever the thread count.
        let mut totals = vec![0.0f64; batch.div_ceil(GRADIENT_CHUNK)];
        examples.par_chunks_mut(GRADIENT_CHUNK).zip(totals.par_iter_mut()).enumerate().for_each(
            |(chunk, (examples, total))| {
                for (offset, example) in examples.iter_mut().enumerate() {
                    let n = chunk * GRADIENT_CHUNK + offset;
                    let target = &targets[n * outputs..(n + 1) * outputs];
                    *total += Self::loss_gradient(example, target, f64::from(weights[n]) / batch as f64, loss);
                }
            },
        );
        let total = totals.iter().sum::<f64>();
        let mut gradients = self.zero_gradients();
        for index in (0..self.host.dense.len()).rev() {
            self.dense_weight_gradients(index, examples, &mut gradients);
            examples.par_chunks_mut(DENSE_BLOCK).for_each(|examples| self.dense_input_gradients(index, examples));
        }
        examples.par_iter_mut().for_each(|example| self.backward_readout(example));
        let mut norm_gradients = vec![None; self.host.blocks.len()];
        for index in (0..self.host.blocks.len()).rev() {
            let block = &self.host.blocks[index];
            examples.par_iter_mut().for_each(|example| Self::backward_activation(block, index, example));
            if let (Some(norm), Some(statistics)) = (&block.conv.norm, &statistics[index]) {
                norm_gradients[index] = Some(Self::backward_batch_norm(examples, index, block, norm, statistics));
            }
            self.convolution_weight_gradients(index, examples, &mut gradients);
            if index > 0 {
                examples
                    .par_chunks_mut(DENSE_BLOCK)
                    .for_each(|examples| self.convolution_input_gradients(index, examples));
            }
        }
        (total, gradients, norm_gradients)
    }

    /// Loss of one example (times `scale`) and its gradient with respect to the logits, left in
    /// `example.delta`.
    pub(crate) fn loss_gradient(example: &mut Example, target: &[f32], scale: f64, loss: FastLoss) -> f64 {
        let logits = &example.logits;
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
        example.delta = delta;
        value * scale
    }

    /// The gradients of dense layer `index` from some examples (`inputsᵀ · deltas`), added to
    /// `g`: one product over the examples per fixed block of [`WEIGHT_ROWS`] weight rows, the
    /// blocks on rayon's pool; the bias gradient summed example by example.
    fn dense_weight_gradients(&self, index: usize, examples: &[Example], g: &mut Gradients) {
        let spec = &self.host.dense[index];
        let rows = examples.len();
        let (gw, gb) = &mut g.dense[index];
        let mut x = Vec::with_capacity(rows * spec.inputs);
        let mut delta = Vec::with_capacity(rows * spec.outputs);
        for example in examples {
            x.extend_from_slice(&example.dense_inputs[index]);
            delta.extend_from_slice(&example.delta);
            if !gb.is_empty() {
                gb.iter_mut().zip(&example.delta).for_each(|(a, d)| *a += d);
            }
        }
        transposed_product_by_rows(&x, &delta, gw, (spec.inputs, rows, spec.outputs));
    }

    /// Through dense layer `index` (`deltas · weightsᵀ`) and the ReLU and dropout before it:
    /// every example's `delta` goes from the layer's output to its input.
    fn dense_input_gradients(&self, index: usize, examples: &mut [Example]) {
        let spec = &self.host.dense[index];
        let rows = examples.len();
        let mut delta = Vec::with_capacity(rows * spec.outputs);
        examples.iter().for_each(|example| delta.extend_from_slice(&example.delta));
        let mut back = vec![0.0f32; rows * spec.inputs];
        matmul(&delta, false, &spec.weights, true, &mut back, (rows, spec.outputs, spec.inputs), 0.0);
        for (example, back) in examples.iter_mut().zip(back.chunks_exact(spec.inputs)) {
            let mut back = back.to_vec();
            if index > 0 && self.host.dense[index - 1].relu {
                // ReLU (and dropout) of the previous dense layer: its output is this layer's
                // input, positive exactly where both let the gradient through.
                relu_dropout_backward(&mut back, &example.dense_inputs[index], &example.dense_masks[index - 1]);
            }
            example.delta = back;
        }
    }

    /// Backward through the readout: `example.delta` goes from the features to the last block's
    /// output (position-major).
    fn backward_readout(&self, example: &mut Example) {
        let (filters, length) = self.host.last_shape();
        let delta = std::mem::take(&mut example.delta);
        // Back into the last block's output, position-major [P', F].
        let mut pooled_delta = vec![0.0f32; length * filters];
        let mean_share = |f: usize| delta[f] / length as f32;
        match self.host.global_pool {
            GlobalPool::Max => {
                for (f, &q) in example.global_argmax.iter().enumerate() {
                    pooled_delta[q * filters + f] += delta[f];
                }
            }
            GlobalPool::Mean => {
                for q in 0..length {
                    for f in 0..filters {
                        pooled_delta[q * filters + f] = mean_share(f);
                    }
                }
            }
            GlobalPool::MaxMean => {
                for q in 0..length {
                    for f in 0..filters {
                        pooled_delta[q * filters + f] = delta[filters + f] / length as f32;
                    }
                }
                for (f, &q) in example.global_argmax.iter().enumerate() {
                    pooled_delta[q * filters + f] += delta[f];
                }
            }
            GlobalPool::None => {
                for q in 0..length {
                    for f in 0..filters {
                        pooled_delta[q * filters + f] = delta[f * length + q];
                    }
                }
            }
        }
        example.delta = pooled_delta;
    }

    /// Through a block's dropout, pooling and ReLU: `example.delta` becomes the gradient of the
    /// block's (normalised) pre-activation `[positions, filters]`.
    pub(crate) fn backward_activation(block: &HostBlock, index: usize, example: &mut Example) {
        let filters = block.conv.filters;
        let mask = &example.block_masks[index];
        if !mask.is_empty() {
            example.delta.iter_mut().zip(mask).for_each(|(d, m)| *d *= m);
        }
        let y = if example.normalised[index].is_empty() {
            &example.pre_activations[index]
        } else {
            &example.normalised[index]
        };
        if example.argmax[index].is_empty() {
            // No pooling: through the ReLU alone (a select, not a branch: the signs are random).
            example.delta.iter_mut().zip(y).for_each(|(d, v)| *d = if *v <= 0.0 { 0.0 } else { *d });
            return;
        }
        // The gradient goes to the argmax, if it was positive.
        let mut dz = vec![0.0f32; block.positions * filters];
        for (positions, delta) in example.argmax[index].chunks_exact(filters).zip(example.delta.chunks_exact(filters)) {
            for (f, (&position, &d)) in positions.iter().zip(delta).enumerate() {
                let at = position * filters + f;
                if y[at] > 0.0 {
                    dz[at] += d;
                }
            }
        }
        example.delta = dz;
    }

    /// Through a training batch-norm: every example's `delta` (gradient of the normalised
    /// output) becomes the gradient of the convolution's output; returns the `(gamma, beta)`
    /// gradients. As burn's `batch_norm_train_backward`, with the batch sums in f64 and in
    /// example order.
    fn backward_batch_norm(
        examples: &mut [Example],
        index: usize,
        block: &HostBlock,
        norm: &crate::host::HostBatchNorm,
        statistics: &BatchStatistics,
    ) -> (Vec<f32>, Vec<f32>) {
        let filters = block.conv.filters;
        let normalised = |z: f32, f: usize| (z - statistics.mean[f]) * statistics.inverse_std[f];
        let partials: Vec<(Vec<f64>, Vec<f64>)> = examples
            .par_iter()
            .map(|example| {
                let (mut dy, mut dy_xhat) = (vec![0.0f64; filters], vec![0.0f64; filters]);
                for (d, z) in
                    example.delta.chunks_exact(filters).zip(example.pre_activations[index].chunks_exact(filters))
                {
                    for f in 0..filters {
                        dy[f] += f64::from(d[f]);
                        dy_xhat[f] += f64::from(d[f] * normalised(z[f], f));
                    }
                }
                (dy, dy_xhat)
            })
            .collect();
        let (dy, dy_xhat): (Vec<Vec<f64>>, Vec<Vec<f64>>) = partials.into_iter().unzip();
        let (beta, gamma) = (ordered_sum(dy, filters), ordered_sum(dy_xhat, filters));
        let count = examples.iter().map(|example| example.delta.len() / filters.max(1)).sum::<usize>().max(1) as f64;
        let mean_dy: Vec<f32> = beta.iter().map(|s| (s / count) as f32).collect();
        let mean_dy_xhat: Vec<f32> = gamma.iter().map(|s| (s / count) as f32).collect();
        let scale: Vec<f32> = norm.gamma.iter().zip(&statistics.inverse_std).map(|(g, s)| g * s).collect();
        examples.par_iter_mut().for_each(|example| {
            for (d, z) in
                example.delta.chunks_exact_mut(filters).zip(example.pre_activations[index].chunks_exact(filters))
            {
                for f in 0..filters {
                    d[f] = scale[f] * (d[f] - mean_dy[f] - normalised(z[f], f) * mean_dy_xhat[f]);
                }
            }
        });
        (gamma.iter().map(|g| *g as f32).collect(), beta.iter().map(|b| *b as f32).collect())
    }

    /// The gradients of block `index`'s convolution from some examples' `delta` (the gradient of
    /// its output `[positions, filters]`), added to `g`. A one-hot first layer: each fixed chunk
    /// of [`GRADIENT_CHUNK`] examples walks its inputs into a partial sum ([`sparse_weight_gradient`]),
    /// the partials added in order. Any other: per fixed block of [`DENSE_BLOCK`] examples, in
    /// order, `columnsᵀ · deltas` over their stacked im2col matrices, one product per fixed block
    /// of [`WEIGHT_ROWS`] weight rows on rayon's pool. The bias gradient is summed example by
    /// example.
    pub(crate) fn convolution_weight_gradients(&self, index: usize, examples: &[Example], g: &mut Gradients) {
        let block = &self.host.blocks[index];
        let conv = &block.conv;
        let filters = conv.filters;
        let (gwt, gb) = &mut g.conv[index];
        if !gb.is_empty() {
            for example in examples {
                for row in example.delta.chunks_exact(filters) {
                    gb.iter_mut().zip(row).for_each(|(a, d)| *a += d);
                }
            }
        }
        if index == 0 && conv.channels <= SPARSE_CHANNELS {
            let walk = |examples: &[Example], gradient: &mut [f32]| {
                for example in examples {
                    sparse_weight_gradient(block, &example.activations[index], &example.delta, gradient);
                }
            };
            if examples.len() <= GRADIENT_CHUNK {
                walk(examples, gwt);
                return;
            }
            let partials: Vec<Vec<f32>> = examples
                .par_chunks(GRADIENT_CHUNK)
                .map(|examples| {
                    let mut partial = vec![0.0f32; gwt.len()];
                    walk(examples, &mut partial);
                    partial
                })
                .collect();
            for partial in partials {
                gwt.iter_mut().zip(partial).for_each(|(g, p)| *g += p);
            }
            return;
        }
        let depth = conv.channels * conv.width;
        for examples in examples.chunks(DENSE_BLOCK) {
            let rows = examples.len() * block.positions;
            let mut buffer = scratch(rows * depth);
            let columns = &mut buffer[..rows * depth];
            stacked_im2col_into(block, examples.iter().map(|example| &example.activations[index][..]), columns);
            let mut dz = Vec::with_capacity(rows * filters);
            examples.iter().for_each(|example| dz.extend_from_slice(&example.delta));
            transposed_product_by_rows(columns, &dz, gwt, (depth, rows, filters));
            give_back(buffer);
        }
    }

    /// Through block `index`'s convolution: every example's `delta` goes from the gradient of its
    /// output to that of its input (`deltas · weightsᵀ`, scattered back through the im2col map).
    pub(crate) fn convolution_input_gradients(&self, index: usize, examples: &mut [Example]) {
        let block = &self.host.blocks[index];
        let conv = &block.conv;
        let filters = conv.filters;
        let rows = examples.len() * block.positions;
        let depth = conv.channels * conv.width;
        let mut dz = Vec::with_capacity(rows * filters);
        examples.iter().for_each(|example| dz.extend_from_slice(&example.delta));
        let mut buffer = scratch(rows * depth);
        let dcolumns = &mut buffer[..rows * depth];
        matmul(&dz, false, &self.conv_weights[index], true, dcolumns, (rows, filters, depth), 0.0);
        for (example, dcolumns) in examples.iter_mut().zip(dcolumns.chunks_exact(block.positions * depth)) {
            let mut da = vec![0.0f32; block.input_length * conv.channels];
            for position in 0..block.positions {
                let row = &dcolumns[position * depth..(position + 1) * depth];
                for (k, taps) in row.chunks_exact(conv.channels).enumerate() {
                    let Some(i) = block.input_position(position, k) else { continue };
                    da[i * conv.channels..(i + 1) * conv.channels].iter_mut().zip(taps).for_each(|(d, t)| *d += t);
                }
            }
            example.delta = da;
        }
        give_back(buffer);
    }
}

thread_local! {
    /// A buffer this thread's products overwrite whole, kept between calls ([`scratch`]).
    static SCRATCH: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A buffer of at least `len` values for a product to overwrite (its contents are left over from
/// earlier calls): this thread's kept buffer, grown if need be, so that a large product output is not
/// allocated and zeroed anew at every step. Hand it back with [`give_back`]; a nested call on
/// the same thread (rayon may run another task here meanwhile) gets a fresh one.
fn scratch(len: usize) -> Vec<f32> {
    let mut buffer = SCRATCH.take();
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    buffer
}

/// Keep `buffer` for this thread's next [`scratch`].
fn give_back(buffer: Vec<f32>) {
    SCRATCH.set(buffer);
}

/// Channel-major inputs `[examples][channels][length]` as `[examples][length][channels]`.
fn position_major(inputs: &[f32], channels: usize, length: usize) -> Vec<f32> {
    inputs.chunks_exact((channels * length).max(1)).flat_map(|input| transpose(input, channels, length)).collect()
}

/// A row-major `[rows][columns]` matrix as `[columns][rows]`.
pub(crate) fn transpose(values: &[f32], rows: usize, columns: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; values.len()];
    for (r, row) in values.chunks_exact(columns.max(1)).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            out[c * rows + r] = v;
        }
    }
    out
}

/// Back through a ReLU and the dropout after it: `delta` (the gradient of their output, which is
/// `output`) is zeroed where the ReLU was not positive and scaled by the dropout `mask` (empty
/// without dropout) elsewhere.
pub(crate) fn relu_dropout_backward(delta: &mut [f32], output: &[f32], mask: &[f32]) {
    for (i, (d, v)) in delta.iter_mut().zip(output).enumerate() {
        if *v <= 0.0 {
            *d = 0.0;
        } else if !mask.is_empty() {
            *d *= mask[i];
        }
    }
}

/// Inputs with at most this many channels (one-hot sequences) are convolved by
/// [`sparse_convolution`]; wider ones (a deeper block's activations) by one matrix product over
/// their im2col matrix.
pub(crate) const SPARSE_CHANNELS: usize = 8;

/// A convolution of one channel-major input `[channels][input_length]` added to `rows`
/// `[positions][filters]` (bias already there): each output row gathers, tap by tap, the weight
/// column `[filters]` (`filters_last`, `[width][channels][filters]`) of every non-zero input value
/// it reads, scaled. A one-hot sequence has one non-zero value per position, so this does a
/// quarter of a dense convolution's work, in contiguous runs over filters, with no im2col matrix.
pub(crate) fn sparse_convolution(block: &HostBlock, filters_last: &[f32], input: &[f32], rows: &mut [f32]) {
    let (channels, length) = (block.conv.channels, block.input_length);
    let nonzeros = Nonzeros::new(length, |i| (0..channels).map(move |c| (c, input[c * length + i])));
    // `dispatch` runs the loop compiled for the widest SIMD this CPU has (AVX2 and FMA where
    // present; the workspace itself builds for baseline x86-64); the additions are element by
    // element, in tap order, so the numbers are the same on every CPU.
    pulp::Arch::new().dispatch(Gather { block, filters_last, nonzeros: &nonzeros, rows });
}

/// [`sparse_convolution`] of one position-major input `[input_length][channels]` (the layout
/// the training pass keeps its activations in).
fn sparse_convolution_position_major(block: &HostBlock, filters_last: &[f32], input: &[f32], rows: &mut [f32]) {
    let channels = block.conv.channels;
    let nonzeros =
        Nonzeros::new(block.input_length, |i| input[i * channels..(i + 1) * channels].iter().copied().enumerate());
    pulp::Arch::new().dispatch(Gather { block, filters_last, nonzeros: &nonzeros, rows });
}

/// Each input position's non-zero `(channel, value)` pairs, in channel order: position `i`'s are
/// `entries[starts[i]..starts[i + 1]]`.
struct Nonzeros {
    starts: Vec<usize>,
    entries: Vec<(usize, f32)>,
}

impl Nonzeros {
    fn new<I: Iterator<Item = (usize, f32)>>(length: usize, at: impl Fn(usize) -> I) -> Self {
        let mut starts = Vec::with_capacity(length + 1);
        let mut entries = Vec::with_capacity(length);
        for i in 0..length {
            starts.push(entries.len());
            entries.extend(at(i).filter(|(_, value)| *value != 0.0));
        }
        starts.push(entries.len());
        Nonzeros { starts, entries }
    }

    fn of(&self, i: usize) -> &[(usize, f32)] {
        &self.entries[self.starts[i]..self.starts[i + 1]]
    }
}

/// Output `q` reads input `i` through tap `k` when `q = i + left − k · dilation` is an output
/// position: the taps and outputs that input position `i` reaches.
fn reached(block: &HostBlock, i: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let conv = &block.conv;
    (0..conv.width).filter_map(move |k| {
        (i + conv.left).checked_sub(k * conv.dilation).filter(|&q| q < block.positions).map(|q| (k, q))
    })
}

/// [`gather_columns`] as a `pulp` kernel: `dispatch` compiles it into the function that enables
/// the CPU's widest SIMD (a closure may not be inlined there, and would then run on SSE2).
struct Gather<'a> {
    block: &'a HostBlock,
    filters_last: &'a [f32],
    nonzeros: &'a Nonzeros,
    rows: &'a mut [f32],
}

impl pulp::WithSimd for Gather<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        gather_columns(self.block, self.filters_last, self.nonzeros, self.rows);
    }
}

/// For every output row, add the weight column `[filters]` of each tap and non-zero input value
/// it reads, scaled by the value, in tap order (the row stays in the L1 cache meanwhile).
#[inline(always)]
fn gather_columns(block: &HostBlock, filters_last: &[f32], nonzeros: &Nonzeros, rows: &mut [f32]) {
    let conv = &block.conv;
    let (filters, width, channels) = (conv.filters, conv.width, conv.channels);
    for (q, row) in rows.chunks_exact_mut(filters).enumerate().take(block.positions) {
        for k in 0..width {
            let Some(i) = block.input_position(q, k) else { continue };
            for &(c, value) in nonzeros.of(i) {
                let start = (k * channels + c) * filters;
                let column = &filters_last[start..start + filters];
                row.iter_mut().zip(column).for_each(|(out, w)| *out += value * w);
            }
        }
    }
}

/// The most floats a [`TapTable`] may take (128 KB: it is read at random, so it should stay in
/// the L2 cache).
const TAP_TABLE_FLOATS: usize = 32 * 1024;

/// A one-hot first layer's weight columns summed over groups of `group` consecutive taps: for
/// each group and each combination of what its taps read (a base, or nothing: padding or an
/// all-zero position), the sum of those taps' columns `[filters]`. An output row of a one-hot
/// input is then its bias plus one column per group, not one per tap (a third of the additions
/// for three taps a group). Built once per inference call (per block of examples in training);
/// the sums run in tap order, so the
/// numbers are the same on every run, though not bit for bit those of [`sparse_convolution`].
pub(crate) struct TapTable {
    group: usize,
    groups: usize,
    /// Channels + 1: symbol `channels` is "reads nothing".
    symbols: usize,
    /// `[groups][symbols^group][filters]`.
    sums: Vec<f32>,
}

impl TapTable {
    /// The table of `block`'s convolution (weights `filters_last`), or `None` when even two taps
    /// a group would not fit [`TAP_TABLE_FLOATS`] (the per-tap gather is then as good).
    pub(crate) fn new(block: &HostBlock, filters_last: &[f32]) -> Option<Self> {
        let conv = &block.conv;
        let (filters, width, symbols) = (conv.filters, conv.width, conv.channels + 1);
        let size = |group: u32| symbols.pow(group) * filters * width.div_ceil(group as usize);
        let group = [3u32, 2].into_iter().find(|&group| size(group) <= TAP_TABLE_FLOATS && width >= group as usize)?;
        let codes = symbols.pow(group);
        let (group, groups) = (group as usize, width.div_ceil(group as usize));
        let mut sums = vec![0.0f32; groups * codes * filters];
        for (slot, sum) in sums.chunks_exact_mut(filters).enumerate() {
            let (g, mut code) = (slot / codes, slot % codes);
            for j in 0..group {
                let (symbol, k) = (code % symbols, g * group + j);
                code /= symbols;
                if symbol < conv.channels && k < width {
                    let start = (k * conv.channels + symbol) * filters;
                    let column = &filters_last[start..start + filters];
                    sum.iter_mut().zip(column).for_each(|(s, w)| *s += w);
                }
            }
        }
        Some(TapTable { group, groups, symbols, sums })
    }

    /// Add the convolution of one channel-major input `[channels][input_length]` to `rows`
    /// `[positions][filters]` (bias already there) and return `true`; `false`, with `rows`
    /// untouched, when a position is neither one-hot (one channel exactly 1, the rest 0) nor all
    /// zeros.
    pub(crate) fn convolve(&self, block: &HostBlock, input: &[f32], rows: &mut [f32]) -> bool {
        let length = block.input_length;
        self.convolve_reading(block, |c, i| input[c * length + i], rows)
    }

    /// [`TapTable::convolve`] of one position-major input `[input_length][channels]`.
    fn convolve_position_major(&self, block: &HostBlock, input: &[f32], rows: &mut [f32]) -> bool {
        let channels = block.conv.channels;
        self.convolve_reading(block, |c, i| input[i * channels + c], rows)
    }

    fn convolve_reading(&self, block: &HostBlock, value: impl Fn(usize, usize) -> f32, rows: &mut [f32]) -> bool {
        let (channels, length) = (block.conv.channels, block.input_length);
        let mut read = vec![channels; length];
        for (i, symbol) in read.iter_mut().enumerate() {
            for c in 0..channels {
                match value(c, i) {
                    0.0 => {}
                    1.0 if *symbol == channels => *symbol = c,
                    _ => return false,
                }
            }
        }
        pulp::Arch::new().dispatch(TableRows { table: self, block, read: &read, rows });
        true
    }
}

/// [`TapTable::convolve`]'s rows as a `pulp` kernel (see [`Gather`]).
struct TableRows<'a> {
    table: &'a TapTable,
    block: &'a HostBlock,
    read: &'a [usize],
    rows: &'a mut [f32],
}

impl pulp::WithSimd for TableRows<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let TableRows { table, block, read, rows } = self;
        let (filters, width, nothing) = (block.conv.filters, block.conv.width, block.conv.channels);
        let codes = table.symbols.pow(table.group as u32);
        for (q, row) in rows.chunks_exact_mut(filters).enumerate().take(block.positions) {
            for g in 0..table.groups {
                let mut code = 0;
                for j in (0..table.group).rev() {
                    let k = g * table.group + j;
                    let symbol =
                        if k < width { block.input_position(q, k).map_or(nothing, |i| read[i]) } else { nothing };
                    code = code * table.symbols + symbol;
                }
                let start = (g * codes + code) * filters;
                row.iter_mut().zip(&table.sums[start..start + filters]).for_each(|(out, s)| *out += s);
            }
        }
    }
}

/// The places of `values`' non-zero entries, in order, when there are at most `limit` of them.
fn sparse_entries(values: &[f32], limit: usize) -> Option<Vec<usize>> {
    const CHUNK: usize = 16;
    let mut places = Vec::new();
    let chunks = values.chunks_exact(CHUNK);
    let rest = chunks.remainder();
    let mut look = |first: usize, chunk: &[f32]| -> bool {
        for (offset, &value) in chunk.iter().enumerate() {
            if value != 0.0 {
                places.push(first + offset);
            }
        }
        places.len() <= limit
    };
    for (index, chunk) in chunks.enumerate() {
        // A branch-free test of the whole chunk first: most chunks are all zeros.
        if chunk.iter().fold(false, |any, &value| any | (value != 0.0)) && !look(index * CHUNK, chunk) {
            return None;
        }
    }
    look(values.len() - rest.len(), rest).then_some(places)
}

/// The transpose of [`sparse_convolution_position_major`]: the weight gradient
/// `[width][channels][filters]` of a convolution over a sparse position-major input, given the
/// gradient of its output `delta` `[positions][filters]`: each non-zero input value adds the
/// output gradients of the rows it reaches, scaled, to its taps' columns (added to `gradient`).
fn sparse_weight_gradient(block: &HostBlock, input: &[f32], delta: &[f32], gradient: &mut [f32]) {
    let conv = &block.conv;
    let (channels, filters) = (conv.channels, conv.filters);
    if let Some(nonzeros) = sparse_entries(delta, delta.len() / (channels * 8)) {
        // Mostly zeros (the gradient of a global max reaches one position per filter): walk the
        // non-zero output gradients instead, each through the taps to the inputs it read.
        for at in nonzeros {
            let d = delta[at];
            let (q, f) = (at / filters, at % filters);
            for k in 0..conv.width {
                let Some(i) = block.input_position(q, k) else { continue };
                for (c, &value) in input[i * channels..(i + 1) * channels].iter().enumerate() {
                    if value != 0.0 {
                        gradient[(k * channels + c) * filters + f] += value * d;
                    }
                }
            }
        }
        return;
    }
    pulp::Arch::new().dispatch(ScatterGradient { block, input, delta, gradient });
}

/// The dense walk of [`sparse_weight_gradient`] as a `pulp` kernel (see [`Gather`]): each
/// non-zero input value adds the output gradients of the rows it reaches, scaled, to its taps'
/// columns.
struct ScatterGradient<'a> {
    block: &'a HostBlock,
    input: &'a [f32],
    delta: &'a [f32],
    gradient: &'a mut [f32],
}

impl pulp::WithSimd for ScatterGradient<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let ScatterGradient { block, input, delta, gradient } = self;
        let conv = &block.conv;
        let (channels, filters) = (conv.channels, conv.filters);
        for (at, &value) in input.iter().enumerate() {
            if value == 0.0 {
                continue;
            }
            let (c, i) = (at % channels, at / channels);
            for (k, q) in reached(block, i) {
                let start = (k * channels + c) * filters;
                let column = &mut gradient[start..start + filters];
                let row = &delta[q * filters..(q + 1) * filters];
                if value == 1.0 {
                    column.iter_mut().zip(row).for_each(|(g, d)| *g += d);
                } else {
                    column.iter_mut().zip(row).for_each(|(g, d)| *g += value * d);
                }
            }
        }
    }
}

/// The im2col matrices of some examples' block inputs `[input_length, channels]`, stacked: row
/// `p` of an example's holds, at `k · channels + c`, the input that output `p` reads through tap `k`
/// of channel `c` (zero in the padding).
pub(crate) fn stacked_im2col<'a>(block: &HostBlock, inputs: impl ExactSizeIterator<Item = &'a [f32]>) -> Vec<f32> {
    let depth = block.conv.channels * block.conv.width;
    let mut columns = vec![0.0f32; inputs.len() * block.positions * depth];
    stacked_im2col_into(block, inputs, &mut columns);
    columns
}

/// [`stacked_im2col`] written over `columns` (every cell written: a padding cell gets zero), one
/// example per rayon task.
fn stacked_im2col_into<'a>(block: &HostBlock, inputs: impl ExactSizeIterator<Item = &'a [f32]>, columns: &mut [f32]) {
    let conv = &block.conv;
    let depth = conv.channels * conv.width;
    let inputs: Vec<&[f32]> = inputs.collect();
    columns.par_chunks_exact_mut((block.positions * depth).max(1)).zip(inputs).for_each(|(columns, a)| {
        for (position, row) in columns.chunks_exact_mut(depth).enumerate() {
            for (k, taps) in row.chunks_exact_mut(conv.channels).enumerate() {
                match block.input_position(position, k) {
                    Some(i) => taps.copy_from_slice(&a[i * conv.channels..(i + 1) * conv.channels]),
                    None => taps.fill(0.0),
                }
            }
        }
    });
}

#[cfg(test)]
pub(crate) mod tests {
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
        running: Vec<ParamId>,
        count: usize,
    }

    /// The ids of the batch-norms' running statistics (visited as float tensors, not trained).
    fn running_ids(model: &Model) -> Vec<ParamId> {
        let Model::Cnn(cnn) = model else { return Vec::new() };
        struct Ids(Vec<ParamId>);
        impl burn::module::ModuleVisitor for Ids {
            fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
                self.0.push(param.id);
            }
        }
        let mut ids = Ids(Vec::new());
        for norm in cnn.blocks().iter().filter_map(|block| block.norm()) {
            burn::module::Module::visit(&norm.running_mean, &mut ids);
            burn::module::Module::visit(&norm.running_var, &mut ids);
        }
        ids.0
    }

    impl burn::module::ModuleVisitor for GradientsCover<'_> {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            if self.running.contains(&param.id) {
                return;
            }
            let gradient = self
                .grads
                .get::<D>(param.id)
                .unwrap_or_else(|| panic!("no gradient for {} {:?}", param.id, param.lazy_shape()));
            assert_eq!(gradient.shape(), param.lazy_shape(), "gradient of {}", param.id);
            self.count += 1;
        }
    }

    fn assert_one_gradient_per_parameter(model: &Model, grads: &GradientsParams) {
        let mut cover = GradientsCover { grads, running: running_ids(model), count: 0 };
        model.visit(&mut cover);
        assert_eq!(grads.len(), cover.count, "gradients under ids the model does not have");
    }

    /// The ids of the trained parameters (running statistics left out).
    fn parameter_ids(model: &Model) -> Vec<ParamId> {
        let running = running_ids(model);
        parameters(model, false).into_iter().map(|(id, _, _)| id).filter(|id| !running.contains(id)).collect()
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

    /// burn's training forward pass of `cnn` with the dropout multipliers the kernel drew
    /// (`examples`), built from the model's own layers.
    /// Block `index`'s dropout masks of `examples` as burn's `[batch, filters, length]` tensor (the
    /// kernel keeps them position-major, `[position][filter]` per example).
    pub(crate) fn block_mask_tensor(
        examples: &[Example],
        index: usize,
        [batch, filters, length]: [usize; 3],
        device: &Device,
    ) -> Tensor<3> {
        let mut mask = vec![0.0f32; batch * filters * length];
        for (n, example) in examples.iter().enumerate() {
            for q in 0..length {
                for f in 0..filters {
                    mask[(n * filters + f) * length + q] = example.block_masks[index][q * filters + f];
                }
            }
        }
        Tensor::<3>::from_data(TensorData::new(mask, [batch, filters, length]), device)
    }

    fn burn_forward_with_masks(cnn: &SequenceCnn, x: Tensor<3>, examples: &[Example]) -> Tensor<2> {
        let device = x.device();
        let batch = examples.len();
        let mut x = x;
        for (index, block) in cnn.blocks().iter().enumerate() {
            x = block.conv().forward(x);
            if let Some(norm) = block.norm() {
                x = norm.forward(x);
            }
            x = relu(x);
            if block.pool_size() > 1 {
                x = burn::nn::pool::MaxPool1dConfig::new(block.pool_size()).init().forward(x);
            }
            if !examples[0].block_masks[index].is_empty() {
                x = x.clone() * block_mask_tensor(examples, index, x.dims(), &device);
            }
        }
        let mut x: Tensor<2> = match cnn.global_pool() {
            GlobalPool::None => x.flatten(1, 2),
            GlobalPool::Max => x.max_dim(2).squeeze_dim(2),
            GlobalPool::Mean => x.mean_dim(2).squeeze_dim(2),
            GlobalPool::MaxMean => Tensor::cat(vec![x.clone().max_dim(2), x.mean_dim(2)], 1).squeeze_dim(2),
        };
        for (index, layer) in cnn.dense_layers().iter().enumerate() {
            x = relu(layer.forward(x));
            if !examples[0].dense_masks[index].is_empty() {
                let units = layer.weight.lazy_shape().dims::<2>()[1];
                let mask: Vec<f32> = examples.iter().flat_map(|example| example.dense_masks[index].clone()).collect();
                x = x * Tensor::<2>::from_data(TensorData::new(mask, [batch, units]), &device);
            }
        }
        cnn.output_layer().forward(x)
    }

    /// Running mean and variance of every batch-norm, in block order.
    fn running_statistics(cnn: &SequenceCnn) -> Vec<(Vec<f32>, Vec<f32>)> {
        cnn.blocks()
            .iter()
            .filter_map(|block| block.norm())
            .map(|norm| (values(norm.running_mean.value_sync()), values(norm.running_var.value_sync())))
            .collect()
    }

    fn set_running_statistics(cnn: &SequenceCnn, statistics: &[(Vec<f32>, Vec<f32>)]) {
        for (norm, (mean, var)) in cnn.blocks().iter().filter_map(|block| block.norm()).zip(statistics) {
            let device = norm.running_mean.value().device();
            norm.running_mean.update(Tensor::<1>::from_data(TensorData::new(mean.clone(), [mean.len()]), &device));
            norm.running_var.update(Tensor::<1>::from_data(TensorData::new(var.clone(), [var.len()]), &device));
        }
    }

    /// The kernel's loss, every gradient and the running statistics it leaves equal burn's
    /// autodiff on the same batch (with the kernel's dropout masks applied in burn).
    fn check(config: ModelConfig, input: InputShape, loss: FastLoss) {
        check_batch(config, input, loss, 5);
    }

    fn check_batch(config: ModelConfig, input: InputShape, loss: FastLoss, batch: usize) {
        let (device, _lock) = crate::test_device();
        let device = device.autodiff();
        device.seed(11);
        let model = config.init(input, &device).expect("model");
        let plan = FastPlan::new(&model, input.channels, input.length).expect("supported model");
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
        let seed = 99;
        let Model::Cnn(cnn) = &model else { panic!("a CNN") };
        let (network, _) = plan.network(&model).expect("plan fits");
        let mut examples: Vec<Example> =
            (0..batch).map(|n| Example::new(Mode::Training { dropout_seed: seed }, n, true)).collect();
        network.forward(&x, Mode::Training { dropout_seed: seed }, &mut examples);
        let before = running_statistics(cnn);
        let (fast_loss, mut fast) = plan.loss_and_gradients(&model, &x, &y, &w, loss, seed, &plain).expect("plan fits");
        assert_one_gradient_per_parameter(&model, &fast);
        let fast_running = running_statistics(cnn);
        set_running_statistics(cnn, &before);

        let xt = Tensor::<3>::from_data(TensorData::new(x, [batch, input.channels, input.length]), &device);
        let yt = Tensor::<2>::from_data(TensorData::new(y, [batch, input.outputs]), &device);
        let wt = Tensor::<1>::from_data(TensorData::new(w, [batch]), &device);
        let reference = burn_loss(burn_forward_with_masks(cnn, xt, &examples), yt, wt, loss);
        let reference_loss = f64::from(reference.clone().into_scalar::<f32>());
        assert!((fast_loss - reference_loss).abs() < 1e-5, "loss {fast_loss} vs {reference_loss}");
        let burn_running = running_statistics(cnn);
        assert_eq!(fast_running.len(), burn_running.len());
        for ((fm, fv), (bm, bv)) in fast_running.iter().zip(&burn_running) {
            for (a, b) in fm.iter().chain(fv).zip(bm.iter().chain(bv)) {
                assert!((a - b).abs() < 1e-5 * (1.0 + b.abs()), "running statistic {a} vs {b}");
            }
        }
        let mut grads = GradientsParams::from_grads(reference.backward(), &model);
        let mut ids: Vec<(ParamId, usize)> = Vec::new();
        for block in cnn.blocks() {
            ids.push((block.conv().weight.id, 3));
            if let Some(b) = &block.conv().bias {
                ids.push((b.id, 1));
            }
            if let Some(norm) = block.norm() {
                ids.push((norm.gamma.id, 1));
                ids.push((norm.beta.id, 1));
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
            let scale = theirs.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            for (a, b) in ours.iter().zip(&theirs) {
                assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()) + 1e-4 * scale, "gradient {a} vs {b} (largest {scale})");
            }
        }
        assert!(fast.is_empty(), "no gradient under an id the model does not have");
    }

    fn conv_layer(
        filters: usize,
        width: usize,
        dilation: usize,
        pool: usize,
        batch_norm: bool,
        dropout: f64,
        padding: Padding,
    ) -> ConvLayerConfig {
        ConvLayerConfig { filters, width, dilation, pool, batch_norm, dropout, padding }
    }

    /// DeepBind's layers (same padding, global max, dense dropout) and Basset's (three
    /// batch-normed blocks with pooling, two dense layers with dropout), scaled down.
    #[test]
    fn deepbind_and_basset_layers_equal_burn_autodiff() {
        check(
            ModelConfig::Deepbind { padding: Padding::Same },
            InputShape { channels: 4, length: 40, outputs: 1 },
            FastLoss::SigmoidCrossEntropy,
        );
        let basset = ModelConfig::Cnn {
            conv: vec![
                conv_layer(12, 7, 1, 3, true, 0.0, Padding::Same),
                conv_layer(8, 5, 1, 2, true, 0.0, Padding::Same),
                conv_layer(8, 3, 1, 2, true, 0.0, Padding::Same),
            ],
            global_pool: GlobalPool::None,
            dense: vec![20, 16],
            dense_dropout: 0.3,
        };
        check_batch(
            basset.clone(),
            InputShape { channels: 4, length: 41, outputs: 3 },
            FastLoss::SigmoidCrossEntropy,
            9,
        );
        check(basset, InputShape { channels: 4, length: 41, outputs: 3 }, FastLoss::SoftmaxCrossEntropy);
    }

    /// A random CNN config: 1-3 blocks of random filters, width, dilation, pooling, batch-norm,
    /// dropout and padding, the global reduction chosen by `round`, 0-2 hidden dense layers.
    fn random_cnn(next: &mut impl FnMut(usize) -> usize, round: usize) -> ModelConfig {
        let blocks = 1 + next(3);
        let conv: Vec<ConvLayerConfig> = (0..blocks)
            .map(|_| {
                conv_layer(
                    2 + next(7),
                    1 + next(6),
                    1 + next(2),
                    1 + next(3),
                    next(2) == 0,
                    [0.0, 0.25][next(2)],
                    [Padding::Same, Padding::Valid][next(2)],
                )
            })
            .collect();
        let global_pool = [GlobalPool::None, GlobalPool::Max, GlobalPool::Mean, GlobalPool::MaxMean][round % 4];
        let dense: Vec<usize> = (0..next(3)).map(|_| 2 + next(9)).collect();
        ModelConfig::Cnn { conv, global_pool, dense, dense_dropout: [0.0, 0.4][next(2)] }
    }

    /// Random CNNs: every combination the config allows (padding, dilation, pooling, batch-norm,
    /// dropout in blocks and dense layers, each global reduction) on random shapes.
    #[test]
    fn random_cnns_equal_burn_autodiff() {
        let mut state = 2024u64;
        let mut next = |n: usize| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        };
        let mut tested = 0;
        for round in 0..16 {
            let config = random_cnn(&mut next, round);
            let outputs = 1 + next(3);
            let input = InputShape { channels: 4, length: 60 + next(20), outputs };
            if config.check(input).is_err() {
                continue;
            }
            {
                // The config allows a block to leave fewer positions than its pool; burn then
                // pools nothing, and so does the host description's check.
                let (device, _lock) = crate::test_device();
                let model = config.init(input, &device).expect("model");
                let Model::Cnn(cnn) = &model else { panic!("a CNN") };
                if HostCnn::check(cnn, 4, input.length).is_err() {
                    continue;
                }
            }
            tested += 1;
            let loss =
                if outputs > 1 && next(2) == 0 { FastLoss::SoftmaxCrossEntropy } else { FastLoss::SigmoidCrossEntropy };
            check_batch(config, input, loss, 3 + next(6));
        }
        assert!(tested >= 8, "{tested} random networks fitted their inputs");
    }

    /// The inference pass ([`Network::infer`]) gives the logits of the traced forward pass
    /// that training runs (to rounding: the first layer adds weight columns in another order),
    /// and burn's, on random networks of every layer kind, on batches that end in a partial
    /// block of examples.
    #[test]
    fn inference_equals_the_traced_forward_on_random_cnns() {
        let mut state = 77u64;
        let mut next = |n: usize| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        };
        let mut tested = 0;
        for round in 0..12 {
            let config = random_cnn(&mut next, round);
            let input = InputShape { channels: 4, length: 40 + next(30), outputs: 1 + next(3) };
            if config.check(input).is_err() {
                continue;
            }
            let (device, _lock) = crate::test_device();
            device.seed(round as u64);
            let model = config.init(input, &device).expect("model");
            let Some(plan) = FastPlan::new(&model, 4, input.length) else { continue };
            let Some((network, _)) = plan.network(&model) else { continue };
            tested += 1;
            let batch = DENSE_BLOCK + 1 + next(10);
            let mut data_state = round as u64 + 1;
            let (x, _) = one_hot_batch(batch, input.length, &mut data_state);
            let ours = plan.logits(&model, &x).expect("fits");
            let mut examples: Vec<Example> = (0..batch).map(|n| Example::new(Mode::Inference, n, false)).collect();
            network.forward(&x, Mode::Inference, &mut examples);
            let traced: Vec<f32> = examples.into_iter().flat_map(|example| example.logits).collect();
            for (a, b) in ours.iter().zip(&traced) {
                assert!((a - b).abs() < 1e-5 * (1.0 + b.abs()), "{config:?}: {a} vs traced {b}");
            }
            let theirs =
                values(model.forward(Tensor::<3>::from_data(TensorData::new(x, [batch, 4, input.length]), &device)));
            for (a, b) in ours.iter().zip(&theirs) {
                assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()), "{config:?}: {a} vs burn {b}");
            }
        }
        assert!(tested >= 6, "{tested} random networks fitted their inputs");
    }

    /// Inference through the kernel (batch-norm on running statistics, no dropout) equals
    /// burn's forward pass of the valid model, after training steps moved the statistics.
    #[test]
    fn inference_with_batch_norm_and_dropout_equals_burn() -> Result<(), Box<dyn std::error::Error>> {
        let (plain, _lock) = crate::test_device();
        let device = plain.clone().autodiff();
        device.seed(5);
        let config = ModelConfig::Cnn {
            conv: vec![
                conv_layer(6, 5, 1, 2, true, 0.2, Padding::Same),
                conv_layer(5, 3, 2, 2, true, 0.0, Padding::Valid),
            ],
            global_pool: GlobalPool::MaxMean,
            dense: vec![7],
            dense_dropout: 0.5,
        };
        let input = InputShape { channels: 4, length: 30, outputs: 2 };
        let mut model = config.init(input, &device)?;
        let plan = FastPlan::new(&model, 4, 30).ok_or("supported")?;
        let mut optim = burn::optim::AdamConfig::new().init();
        let mut state = 3;
        for step in 0..3 {
            let (x, _) = one_hot_batch(8, 30, &mut state);
            let y: Vec<f32> = (0..16).map(|i| (i % 3 == 0) as u8 as f32).collect();
            let (_, grads) = plan
                .loss_and_gradients(&model, &x, &y, &[1.0; 8], FastLoss::SigmoidCrossEntropy, step, &plain)
                .ok_or("fits")?;
            model = optim.step(1e-2, model, grads);
        }
        let valid = model.valid();
        let (x, _) = one_hot_batch(6, 30, &mut state);
        let ours = plan.logits(&valid, &x).ok_or("fits")?;
        let theirs = values(valid.forward(Tensor::<3>::from_data(TensorData::new(x, [6, 4, 30]), &plain)));
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(&theirs) {
            assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()), "{a} vs {b}");
        }
        Ok(())
    }

    /// Same seed, same numbers (on 1 or 3 threads); another dropout seed, other masks.
    #[test]
    fn same_dropout_seed_gives_identical_steps_on_any_thread_count() -> Result<(), Box<dyn std::error::Error>> {
        let (plain, _lock) = crate::test_device();
        let device = plain.clone().autodiff();
        let config = ModelConfig::Cnn {
            conv: vec![
                conv_layer(8, 5, 1, 2, true, 0.2, Padding::Same),
                conv_layer(6, 3, 1, 2, true, 0.1, Padding::Same),
            ],
            global_pool: GlobalPool::None,
            dense: vec![10],
            dense_dropout: 0.5,
        };
        let input = InputShape { channels: 4, length: 24, outputs: 1 };
        let (x, y) = one_hot_batch(11, 24, &mut 9);
        type Step = (f64, Vec<Vec<f32>>, Vec<(Vec<f32>, Vec<f32>)>);
        let run = |threads: usize, seed: u64| -> Result<Step, Box<dyn std::error::Error>> {
            device.seed(1);
            let model = config.init(input, &device)?;
            let plan = FastPlan::new(&model, 4, 24).ok_or("supported")?;
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
            let (loss, grads) = pool
                .install(|| {
                    plan.loss_and_gradients(&model, &x, &y, &[1.0; 11], FastLoss::SigmoidCrossEntropy, seed, &plain)
                })
                .ok_or("fits")?;
            let mut all = Vec::new();
            let Model::Cnn(cnn) = &model else { return Err("a CNN".into()) };
            for block in cnn.blocks() {
                all.push(values(grads.get::<3>(block.conv().weight.id).ok_or("conv gradient")?));
                let norm = block.norm().ok_or("a batch-norm")?;
                for id in [block.conv().bias.as_ref().ok_or("a bias")?.id, norm.gamma.id, norm.beta.id] {
                    all.push(values(grads.get::<1>(id).ok_or("gradient")?));
                }
            }
            for layer in cnn.dense_layers().iter().chain([cnn.output_layer()]) {
                all.push(values(grads.get::<2>(layer.weight.id).ok_or("dense gradient")?));
            }
            Ok((loss, all, running_statistics(cnn)))
        };
        let one = run(1, 7)?;
        let three = run(3, 7)?;
        assert_eq!(one.0.to_bits(), three.0.to_bits());
        assert_eq!(one.1, three.1);
        assert_eq!(one.2, three.2);
        let other = run(3, 8)?;
        assert_ne!(one.0.to_bits(), other.0.to_bits(), "another seed draws other masks");
        Ok(())
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
        let (network, _) = plan.network(&model).ok_or("plan fits")?;
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

    /// Products cut into fixed blocks of rows or of columns give the same bits on any thread
    /// count (here also those of one uncut product; gemm may block a small piece differently
    /// when the inner dimension passes 512, so that is not promised in general).
    #[test]
    fn blocked_products_equal_one_product_on_any_thread_count() -> Result<(), Box<dyn std::error::Error>> {
        let mut state = 11u64;
        let mut random = |count: usize| -> Vec<f32> {
            (0..count)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((state >> 33) % 2001) as f32 / 1000.0 - 1.0
                })
                .collect()
        };
        let (m, k, n) = (300, 70, 531);
        let (a, b, start) = (random(m * k), random(k * n), random(m * n));
        let (la, lb, lc) = (Layout::row_major(m, k), Layout::row_major(k, n), Layout::row_major(m, n));
        for accumulate in [false, true] {
            let mut reference = start.clone();
            crate::gemm::product((&a, la), (&b, lb), (&mut reference, lc), accumulate)?;
            for threads in [1, 2, 3, 8] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
                let mut by_rows = start.clone();
                pool.install(|| product_by_row_blocks((&a, la), (&b, lb), &mut by_rows, accumulate));
                assert_eq!(by_rows, reference, "rows, {threads} threads, accumulate {accumulate}");
                let mut by_columns = start.clone();
                pool.install(|| product_by_column_blocks((&a, la), (&b, lb), &mut by_columns, accumulate));
                assert_eq!(by_columns, reference, "columns, {threads} threads, accumulate {accumulate}");
            }
        }
        Ok(())
    }

    /// The tap-group table gives the per-tap gather's rows (to rounding: the sums run in another
    /// order) on random one-hot first layers, reads all-zero positions as nothing, and refuses
    /// inputs that are not one-hot.
    #[test]
    fn tap_tables_equal_the_gather_on_one_hot_inputs() -> Result<(), Box<dyn std::error::Error>> {
        let (device, _lock) = crate::test_device();
        let mut state = 17u64;
        let mut next = |bound: usize| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) as usize) % bound
        };
        let mut tables = 0;
        for round in 0..40 {
            let (filters, width, dilation) = (1 + next(40), 1 + next(14), 1 + next(3));
            let padding = if round % 2 == 0 { Padding::Same } else { Padding::Valid };
            let length = width * dilation + 5 + next(30);
            let config = ModelConfig::Cnn {
                conv: vec![conv_layer(filters, width, dilation, 1, false, 0.0, padding)],
                global_pool: GlobalPool::Max,
                dense: vec![],
                dense_dropout: 0.0,
            };
            let model = config.init(InputShape { channels: 4, length, outputs: 1 }, &device)?;
            let (network, _) = FastPlan::new(&model, 4, length).and_then(|plan| plan.network(&model)).ok_or("fits")?;
            let (block, weights) = (&network.host.blocks[0], &network.conv_weights[0]);
            let Some(table) = TapTable::new(block, weights) else { continue };
            tables += 1;
            let mut input = vec![0.0f32; 4 * length];
            for i in 0..length {
                if next(10) > 0 {
                    input[next(4) * length + i] = 1.0; // else an all-zero position (an N)
                }
            }
            let bias: Vec<f32> = (0..block.positions * filters).map(|v| (v % 7) as f32 * 0.1).collect();
            let (mut gathered, mut looked_up) = (bias.clone(), bias.clone());
            sparse_convolution(block, weights, &input, &mut gathered);
            assert!(table.convolve(block, &input, &mut looked_up));
            for (a, b) in gathered.iter().zip(&looked_up) {
                assert!((a - b).abs() <= 1e-5 * (1.0 + a.abs()), "{a} vs {b} (width {width}, dilation {dilation})");
            }
            let blurred: Vec<f32> = input.iter().map(|v| if *v == 0.0 { 0.0 } else { 0.25 }).collect();
            let mut untouched = bias.clone();
            assert!(!table.convolve(block, &blurred, &mut untouched));
            assert_eq!(untouched, bias);
        }
        assert!(tables > 20, "only {tables} layers had a table");
        Ok(())
    }

    #[test]
    fn unsupported_models_fall_back() {
        let (device, _lock) = crate::test_device();
        let input = InputShape { channels: 4, length: 20, outputs: 1 };
        let model = ModelConfig::Primer.init(input, &device).expect("model");
        // Layers that do not fit the input asked for.
        assert!(FastPlan::new(&model, 4, 11).is_none());
        let rnn = ModelConfig::Danq.init(InputShape { channels: 4, length: 60, outputs: 1 }, &device).expect("model");
        assert!(FastPlan::new(&rnn, 4, 60).is_none());
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
        plan.loss_and_gradients(&model, &x, &y, &[1.0; 4], FastLoss::SigmoidCrossEntropy, 0, &plain).ok_or("fits")?;
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
        // Width 3 does not fit an input of 2 positions.
        assert!(FastPlan::new(&model, 4, 2).is_none());
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
    /// summed over fixed chunks of examples, to be the same on any thread count; all three in
    /// their ninth digit when every convolution and dense layer became a matrix product through
    /// matrixmultiply, c216075's successor): a change to when or how weights are drawn, copied
    /// or handed back as gradients shows here.
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
                .loss_and_gradients(&model, &x, &y, &[1.0; 16], FastLoss::SigmoidCrossEntropy, 0, &plain)
                .ok_or("fits")?;
            assert_one_gradient_per_parameter(&model, &grads);
            losses.push(loss);
            model = optim.step(1e-3, model, grads);
        }
        // Re-pinned when the one-hot first layer moved from the im2col product to weight columns
        // (sums in another order: the losses moved by at most 7e-9), and when the products moved
        // from matrixmultiply to the gemm crate (at most 9e-9), and when the one-hot first layer's
        // taps began to be summed three at a time (`TapTable`; at most 5e-9).
        let pinned = [0.719556178591, 0.696169654633, 0.692616340205];
        for (loss, pinned) in losses.iter().zip(pinned) {
            assert!((loss - pinned).abs() < 1e-9, "losses {losses:.12?}, pinned {pinned:.12}");
        }
        Ok(())
    }
}
