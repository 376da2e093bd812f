//! In-silico mutagenesis by local updates (the idea of fastISM, Nair et al., Genome Biology
//! 23:62, 2022), for CNNs with one convolution block.
//!
//! A single-base substitution at position `p` changes the first convolution only at the `width`
//! windows that cover `p`, and there by a known amount: `w[f, new, tap] − w[f, old, tap]` (one-hot
//! input). So instead of a full forward pass per mutant, [`IsmPlan`] computes the reference
//! pre-activations once, patches the affected windows, re-pools only the affected cells (global
//! max from prefix/suffix maxima, global mean from the sum, max-pool cells one by one) and updates
//! the first dense layer by the changed features' rows. Per mutant that is
//! `O(filters × width + changed features × hidden)` instead of
//! `O(filters × width × channels × length + features × hidden)`.
//!
//! Models: `SequenceCnn` with exactly one conv block (stride 1, dilation 1; batch-norm folded),
//! then flatten (after any max-pool) or global max / global mean / max+mean (without a max-pool),
//! then dense layers — which covers DeepBind, the primer CNN and single-layer `cnn` configs.
//! Other models, and a max-pool followed by global pooling (which the local update would skip),
//! return `None` and are mutated by batched full forward passes. The plan is built from the
//! shared host-side description ([`crate::host::HostCnn`]).

use crate::config::GlobalPool;
use crate::first_layer::FirstLayer;
use crate::host::{HostBlock, HostCnn, HostDense};
use crate::{Model, SequenceCnn};

/// Everything needed to score all substitutions of a sequence by local updates.
#[derive(Debug, Clone)]
pub struct IsmPlan {
    /// The convolution block with its lengths.
    block: HostBlock,
    /// The block's convolution as first-layer scanning scores it (zero bias and identity
    /// batch-norm filled in), so that pre-activations and activations match [`FirstLayer`].
    layer: FirstLayer,
    /// How the block's output is reduced.
    global_pool: GlobalPool,
    /// Hidden dense layers, then the output layer.
    dense: Vec<HostDense>,
}

impl IsmPlan {
    /// A plan for `model` on inputs `[channels, length]`, or `None` when the model is not a
    /// single-block CNN, pools its block (pool > 1) before a global pooling, or lives on a device
    /// the host kernels do not serve (a GPU scores mutants by forward passes there).
    pub fn new(model: &Model, length: usize) -> Option<Self> {
        let Model::Cnn(cnn) = model else { return None };
        if !crate::on_host(model) {
            return None;
        }
        Self::for_cnn(cnn, length)
    }

    fn for_cnn(cnn: &SequenceCnn, length: usize) -> Option<Self> {
        if cnn.blocks().len() != 1 {
            return None; // before copying any weight: deeper CNNs are large
        }
        let host = HostCnn::from_cnn(cnn, cnn.input_channels()?, length).ok()?;
        let HostCnn { blocks, global_pool, dense, .. } = host;
        let [block] = <[HostBlock; 1]>::try_from(blocks).ok()?;
        // The global reductions below read the block's activations directly, so they only hold
        // when no max-pool comes first.
        if block.conv.dilation != 1 || (block.pool > 1 && global_pool != GlobalPool::None) {
            return None;
        }
        let layer = FirstLayer::from_host(block.conv.clone());
        Some(Self { block, layer, global_pool, dense })
    }

    /// The channel of the base at `position`, `None` for N / padding (an all-zero column).
    fn base(&self, input: &[f32], position: usize) -> Option<usize> {
        (0..self.layer.channels).find(|&c| input[c * self.block.input_length + position] > 0.5)
    }

    fn weight(&self, filter: usize, channel: usize, tap: usize) -> f32 {
        self.layer.weights[(filter * self.layer.channels + channel) * self.layer.width + tap]
    }

    /// Pre-activations `[filters][positions]` (bias included, before batch-norm and ReLU).
    fn pre_activations(&self, input: &[f32]) -> Vec<f32> {
        let (filters, positions) = (self.layer.filters, self.block.positions);
        let mut out = vec![0.0f32; filters * positions];
        for f in 0..filters {
            for q in 0..positions {
                let mut sum = self.layer.bias[f];
                for k in 0..self.layer.width {
                    if let Some(i) = self.block.input_position(q, k) {
                        for c in 0..self.layer.channels {
                            sum += self.weight(f, c, k) * input[c * self.block.input_length + i];
                        }
                    }
                }
                out[f * positions + q] = sum;
            }
        }
        out
    }

    fn activate(&self, filter: usize, pre: f32) -> f32 {
        (self.layer.scale[filter] * pre + self.layer.shift[filter]).max(0.0)
    }

    /// The dense layers from the first hidden layer's pre-activation to the chosen output.
    fn head(&self, first: &[f32], output: usize) -> f32 {
        let mut x: Vec<f32> = first.to_vec();
        if self.dense[0].relu {
            x.iter_mut().for_each(|v| *v = v.max(0.0));
        }
        for layer in &self.dense[1..] {
            let mut y = layer.bias_or_zeros();
            for (i, &xi) in x.iter().enumerate() {
                if xi != 0.0 {
                    let row = &layer.weights[i * layer.outputs..(i + 1) * layer.outputs];
                    for (yo, w) in y.iter_mut().zip(row) {
                        *yo += xi * w;
                    }
                }
            }
            if layer.relu {
                y.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            x = y;
        }
        x.get(output).copied().unwrap_or(f32::NAN)
    }

    /// Pooled features `[filters × pooled]` (flatten) or `[filters]` / `[2 × filters]`.
    fn features(&self, activations: &[f32]) -> Vec<f32> {
        let (filters, positions) = (self.layer.filters, self.block.positions);
        let row = |f: usize| &activations[f * positions..(f + 1) * positions];
        match self.global_pool {
            GlobalPool::None => (0..filters)
                .flat_map(|f| {
                    (0..self.block.pooled).map(move |cell| {
                        row(f)[cell * self.block.pool..(cell + 1) * self.block.pool]
                            .iter()
                            .copied()
                            .fold(f32::NEG_INFINITY, f32::max)
                    })
                })
                .collect(),
            GlobalPool::Max => (0..filters).map(|f| row(f).iter().copied().fold(f32::NEG_INFINITY, f32::max)).collect(),
            GlobalPool::Mean => (0..filters).map(|f| row(f).iter().sum::<f32>() / positions as f32).collect(),
            GlobalPool::MaxMean => (0..filters)
                .map(|f| row(f).iter().copied().fold(f32::NEG_INFINITY, f32::max))
                .chain((0..filters).map(|f| row(f).iter().sum::<f32>() / positions as f32))
                .collect(),
        }
    }

    /// The reference output and the change of `output` for every substitution of one sequence.
    ///
    /// # Shapes
    /// - `input`: `[channels, length]`, one-hot
    /// - output: (reference logit, effects `[channels, length]`; 0 at observed bases and at
    ///   positions without a base)
    pub fn ism(&self, input: &[f32], output: usize) -> (f32, Vec<f32>) {
        let (filters, positions, channels, width) =
            (self.layer.filters, self.block.positions, self.layer.channels, self.layer.width);
        let (length, left, pool, pooled) =
            (self.block.input_length, self.block.conv.left, self.block.pool, self.block.pooled);
        let pre = self.pre_activations(input);
        let activations: Vec<f32> = (0..filters * positions).map(|i| self.activate(i / positions, pre[i])).collect();
        let features = self.features(&activations);
        let first = &self.dense[0];
        let mut hidden = first.bias_or_zeros();
        for (i, &x) in features.iter().enumerate() {
            let row = &first.weights[i * first.outputs..(i + 1) * first.outputs];
            for (h, w) in hidden.iter_mut().zip(row) {
                *h += x * w;
            }
        }
        let reference = self.head(&hidden, output);

        // Prefix and suffix maxima of every filter's row (for global max pooling).
        let mut prefix = vec![f32::NEG_INFINITY; filters * (positions + 1)];
        let mut suffix = vec![f32::NEG_INFINITY; filters * (positions + 1)];
        for f in 0..filters {
            let row = &activations[f * positions..(f + 1) * positions];
            for q in 0..positions {
                prefix[f * (positions + 1) + q + 1] = prefix[f * (positions + 1) + q].max(row[q]);
                suffix[f * (positions + 1) + positions - 1 - q] =
                    suffix[f * (positions + 1) + positions - q].max(row[positions - 1 - q]);
            }
        }

        let mut effects = vec![0.0f32; channels * length];
        let mut patched = vec![0.0f32; width];
        let mut changes: Vec<(usize, f32)> = Vec::with_capacity(2 * filters * width);
        let mut updated = hidden.clone();
        for p in 0..length {
            let old = self.base(input, p);
            if old.is_none() && (0..channels).all(|c| input[c * length + p] == 0.0) {
                continue;
            }
            // Output positions whose window covers p: q + k − left = p for some tap k.
            let q_first = (p + left).saturating_sub(width - 1);
            let q_last = (p + left).min(positions - 1);
            if q_first > q_last {
                continue;
            }
            for new in 0..channels {
                if Some(new) == old {
                    continue;
                }
                changes.clear();
                for f in 0..filters {
                    let span = q_last - q_first + 1;
                    for (slot, q) in patched[..span].iter_mut().zip(q_first..=q_last) {
                        let k = p + left - q;
                        let mut delta = self.weight(f, new, k);
                        if let Some(old) = old {
                            delta -= self.weight(f, old, k);
                        }
                        *slot = self.activate(f, pre[f * positions + q] + delta);
                    }
                    let patched = &patched[..span];
                    let row = &activations[f * positions..(f + 1) * positions];
                    match self.global_pool {
                        GlobalPool::None => {
                            let first_cell = q_first / pool;
                            let last_cell = (q_last / pool).min(pooled.saturating_sub(1));
                            for cell in first_cell..=last_cell {
                                if cell >= pooled {
                                    break;
                                }
                                let mut max = f32::NEG_INFINITY;
                                for q in cell * pool..(cell + 1) * pool {
                                    let a = if (q_first..=q_last).contains(&q) { patched[q - q_first] } else { row[q] };
                                    max = max.max(a);
                                }
                                let index = f * pooled + cell;
                                if max != features[index] {
                                    changes.push((index, max - features[index]));
                                }
                            }
                        }
                        GlobalPool::Max | GlobalPool::Mean | GlobalPool::MaxMean => {
                            if matches!(self.global_pool, GlobalPool::Max | GlobalPool::MaxMean) {
                                let outside =
                                    prefix[f * (positions + 1) + q_first].max(suffix[f * (positions + 1) + q_last + 1]);
                                let max = patched.iter().copied().fold(outside, f32::max);
                                if max != features[f] {
                                    changes.push((f, max - features[f]));
                                }
                            }
                            if matches!(self.global_pool, GlobalPool::Mean | GlobalPool::MaxMean) {
                                let delta: f32 =
                                    patched.iter().zip(&row[q_first..=q_last]).map(|(a, b)| a - b).sum::<f32>();
                                // Mean features follow the maxima in max-and-mean pooling.
                                let index = if self.global_pool == GlobalPool::MaxMean { filters + f } else { f };
                                if delta != 0.0 {
                                    changes.push((index, delta / positions as f32));
                                }
                            }
                        }
                    }
                }
                updated.copy_from_slice(&hidden);
                for &(index, delta) in &changes {
                    let row = &first.weights[index * first.outputs..(index + 1) * first.outputs];
                    for (h, w) in updated.iter_mut().zip(row) {
                        *h += delta * w;
                    }
                }
                effects[new * length + p] = self.head(&updated, output) - reference;
            }
        }
        (reference, effects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConvLayerConfig, InputShape, ModelConfig, Padding};
    use burn::prelude::*;
    use burn::tensor::TensorData;

    fn one_hot(length: usize, seed: usize) -> Vec<f32> {
        let mut x = vec![0.0f32; 4 * length];
        for p in 0..length {
            if (p * 13 + seed).is_multiple_of(17) {
                continue; // an N
            }
            x[((p * 7 + seed * 3 + p / 3) % 4) * length + p] = 1.0;
        }
        x
    }

    /// Local-update ISM equals a full forward pass per mutant.
    fn check(config: ModelConfig, length: usize, outputs: usize) -> Result<(), Box<dyn std::error::Error>> {
        let (device, _lock) = crate::test_device();
        device.seed(9);
        let model = config.init(InputShape { channels: 4, length, outputs }, &device)?.valid();
        let plan = IsmPlan::new(&model, length).ok_or("plan")?;
        let input = one_hot(length, 1);
        let output = outputs - 1;
        let (reference, effects) = plan.ism(&input, output);
        let forward = |x: Vec<f32>| -> Result<f32, Box<dyn std::error::Error>> {
            let t = Tensor::<3>::from_data(TensorData::new(x, [1, 4, length]), &device);
            let all: Vec<f32> = model.forward(t).into_data().try_into_vec()?;
            Ok(all[output])
        };
        let truth = forward(input.clone())?;
        assert!((reference - truth).abs() < 1e-4, "reference {reference} vs {truth}");
        for p in 0..length {
            if (0..4).all(|c| input[c * length + p] == 0.0) {
                continue;
            }
            for new in 0..4 {
                if input[new * length + p] > 0.5 {
                    continue;
                }
                let mut mutant = input.clone();
                for c in 0..4 {
                    mutant[c * length + p] = 0.0;
                }
                mutant[new * length + p] = 1.0;
                let expected = forward(mutant)? - truth;
                let got = effects[new * length + p];
                assert!((got - expected).abs() < 1e-4, "position {p} base {new}: {got} vs {expected}");
            }
        }
        Ok(())
    }

    #[test]
    fn primer_flatten_with_max_pool() -> Result<(), Box<dyn std::error::Error>> {
        check(ModelConfig::Primer, 50, 1)
    }

    #[test]
    fn deepbind_same_padding_global_max() -> Result<(), Box<dyn std::error::Error>> {
        check(ModelConfig::Deepbind { padding: Padding::Same }, 60, 1)
    }

    #[test]
    fn batch_norm_and_mean_pooling_multiclass() -> Result<(), Box<dyn std::error::Error>> {
        for global_pool in [GlobalPool::Mean, GlobalPool::MaxMean] {
            let config = ModelConfig::Cnn {
                conv: vec![ConvLayerConfig {
                    filters: 8,
                    width: 7,
                    dilation: 1,
                    pool: 1,
                    batch_norm: true,
                    dropout: 0.0,
                    padding: Padding::Valid,
                }],
                global_pool,
                dense: vec![10],
                dense_dropout: 0.0,
            };
            check(config, 40, 3)?;
        }
        Ok(())
    }

    fn single_layer(pool: usize, global_pool: GlobalPool) -> ModelConfig {
        ModelConfig::Cnn {
            conv: vec![ConvLayerConfig {
                filters: 6,
                width: 5,
                dilation: 1,
                pool,
                batch_norm: false,
                dropout: 0.0,
                padding: Padding::Valid,
            }],
            global_pool,
            dense: vec![4],
            dense_dropout: 0.0,
        }
    }

    /// A max-pool before a global pooling is refused (the local update would pool the unpooled
    /// activations); the same pool before flatten, and global pooling without a pool, are taken
    /// and equal per-mutant forward passes (31 bases: 27 positions, a partial last pool cell).
    #[test]
    fn max_pool_before_global_pooling_has_no_plan() -> Result<(), Box<dyn std::error::Error>> {
        {
            let (device, _lock) = crate::test_device();
            let input = InputShape { channels: 4, length: 31, outputs: 2 };
            for global_pool in [GlobalPool::Max, GlobalPool::Mean, GlobalPool::MaxMean] {
                let model = single_layer(4, global_pool).init(input, &device)?.valid();
                assert!(IsmPlan::new(&model, 31).is_none(), "{global_pool:?}");
            }
        }
        check(single_layer(4, GlobalPool::None), 31, 2)?;
        for global_pool in [GlobalPool::Max, GlobalPool::Mean, GlobalPool::MaxMean] {
            check(single_layer(1, global_pool), 31, 2)?;
        }
        Ok(())
    }

    #[test]
    fn deeper_cnns_have_no_plan() -> Result<(), Box<dyn std::error::Error>> {
        let (device, _lock) = crate::test_device();
        let model = ModelConfig::Basset { padding: Padding::Same }
            .init(InputShape { channels: 4, length: 100, outputs: 2 }, &device)
            .map(|m| m.valid());
        if let Ok(model) = model {
            assert!(IsmPlan::new(&model, 100).is_none());
        }
        Ok(())
    }
}
