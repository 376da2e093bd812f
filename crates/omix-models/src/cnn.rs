//! The sequence CNN: convolution blocks, global pooling or flattening, dense layers.

use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::pool::{MaxPool1d, MaxPool1dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig1d};
use burn::prelude::*;
use burn::tensor::activation::relu;

use crate::config::{CnnSpec, ConvLayerConfig, GlobalPool, InputShape, ModelError, Padding};

/// Conv1d → (batch-norm) → ReLU → (max-pool) → dropout.
#[derive(Module, Debug)]
pub struct ConvBlock {
    conv: Conv1d,
    norm: Option<BatchNorm>,
    pool: Option<MaxPool1d>,
    dropout: Dropout,
}

impl ConvBlock {
    pub(crate) fn new(channels_in: usize, layer: &ConvLayerConfig, device: &Device) -> Self {
        let padding = match layer.padding {
            Padding::Valid => PaddingConfig1d::Valid,
            Padding::Same => PaddingConfig1d::Same,
        };
        Self {
            conv: Conv1dConfig::new(channels_in, layer.filters, layer.width)
                .with_dilation(layer.dilation)
                .with_padding(padding)
                .init(device),
            norm: layer.batch_norm.then(|| BatchNormConfig::new(layer.filters).init(device)),
            pool: (layer.pool > 1).then(|| MaxPool1dConfig::new(layer.pool).init()),
            dropout: DropoutConfig::new(layer.dropout).init(),
        }
    }

    /// The convolution.
    pub fn conv(&self) -> &Conv1d {
        &self.conv
    }

    /// The block's batch-norm, if any.
    pub(crate) fn norm(&self) -> Option<&BatchNorm> {
        self.norm.as_ref()
    }

    /// The block's convolution (and batch-norm) as plain numbers.
    pub fn first_layer(&self) -> Option<crate::FirstLayer> {
        crate::FirstLayer::from_conv(&self.conv, self.norm())
    }

    pub(crate) fn dropout_probability(&self) -> f64 {
        self.dropout.prob
    }

    pub(crate) fn pool_size(&self) -> usize {
        self.pool.as_ref().map_or(1, |pool| pool.kernel_size)
    }

    /// # Shapes
    /// - input: `[batch, channels_in, length]`
    /// - output: `[batch, filters, length']`
    pub(crate) fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = self.conv.forward(x); // [B, F, L - span + 1] (valid) or [B, F, L] (same)
        let x = match &self.norm {
            Some(norm) => norm.forward(x),
            None => x,
        };
        let x = relu(x);
        let x = match &self.pool {
            Some(pool) => pool.forward(x), // [B, F, L / pool]
            None => x,
        };
        self.dropout.forward(x)
    }
}

/// A CNN over one-hot sequences; the primer CNN and every `cnn` config build one.
#[derive(Module, Debug)]
pub struct SequenceCnn {
    blocks: Vec<ConvBlock>,
    dense: Vec<Linear>,
    dense_dropout: Dropout,
    output: Linear,
    /// How the last block's output is reduced before the dense layers (a setting, not a weight).
    #[module(skip)]
    global_pool: GlobalPool,
}

impl SequenceCnn {
    pub(crate) fn new(spec: &CnnSpec, input: InputShape, device: &Device) -> Result<Self, ModelError> {
        let mut features = spec.output_features(input)?;
        let mut channels = input.channels;
        let mut blocks = Vec::with_capacity(spec.conv.len());
        for layer in &spec.conv {
            blocks.push(ConvBlock::new(channels, layer, device));
            channels = layer.filters;
        }
        let mut dense = Vec::with_capacity(spec.dense.len());
        for &units in &spec.dense {
            dense.push(LinearConfig::new(features, units).init(device));
            features = units;
        }
        Ok(Self {
            blocks,
            dense,
            dense_dropout: DropoutConfig::new(spec.dense_dropout).init(),
            output: LinearConfig::new(features, input.outputs).init(device),
            global_pool: spec.global_pool,
        })
    }

    /// Logits for a one-hot batch.
    ///
    /// # Shapes
    /// - input: `[batch, channels, length]`
    /// - output: `[batch, outputs]`
    pub fn forward(&self, input: Tensor<3>) -> Tensor<2> {
        let mut x = input;
        for block in &self.blocks {
            x = block.forward(x); // [B, F_i, L_i]
        }
        let mut x: Tensor<2> = match self.global_pool {
            GlobalPool::None => x.flatten(1, 2),              // [B, F * L]
            GlobalPool::Max => x.max_dim(2).squeeze_dim(2),   // [B, F]
            GlobalPool::Mean => x.mean_dim(2).squeeze_dim(2), // [B, F]
            GlobalPool::MaxMean => Tensor::cat(vec![x.clone().max_dim(2), x.mean_dim(2)], 1).squeeze_dim(2), // [B, 2F]
        };
        for layer in &self.dense {
            x = self.dense_dropout.forward(relu(layer.forward(x))); // [B, units]
        }
        self.output.forward(x) // [B, outputs]
    }

    pub(crate) fn blocks(&self) -> &[ConvBlock] {
        &self.blocks
    }

    pub(crate) fn dense_layers(&self) -> &[Linear] {
        &self.dense
    }

    pub(crate) fn output_layer(&self) -> &Linear {
        &self.output
    }

    /// How the last block's output is reduced before the dense layers.
    pub(crate) fn global_pool(&self) -> GlobalPool {
        self.global_pool
    }

    /// Channels the first convolution reads (`None` without convolution blocks). Reads the
    /// shape only, so a lazily initialised weight keeps no value (see
    /// [`SequenceCnn::initialize_weights`]).
    pub(crate) fn input_channels(&self) -> Option<usize> {
        self.blocks.first().map(|block| block.conv.weight.lazy_shape().dims::<3>()[1])
    }

    /// Give every layer's weights their values now, in layer order (convolutions first to last,
    /// hidden dense layers, output layer), leaving the biases as they are.
    ///
    /// burn initialises a parameter lazily: its value is drawn from the device's random stream
    /// when it is first read, so when the reads happen decides a fresh model's initial numbers.
    /// [`crate::FastPlan::new`] calls this: the hand-written kernel has always drawn a fresh
    /// model's weights when its plan is made and the biases when the first step copies the
    /// model, after the training loop has reseeded the device for the first epoch. Parameters
    /// that already have a value (a trained or loaded model) are left as they are.
    pub(crate) fn initialize_weights(&self) {
        for block in &self.blocks {
            let _ = block.conv.weight.val();
        }
        for layer in self.dense.iter().chain(std::iter::once(&self.output)) {
            let _ = layer.weight.val();
        }
    }

    pub(crate) fn dense_dropout_probability(&self) -> f64 {
        self.dense_dropout.prob
    }

    /// The first convolution's weights `[filters, channels, width]`.
    pub fn first_layer_filters(&self) -> Option<Tensor<3>> {
        self.blocks.first().map(|block| block.conv.weight.val())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelConfig;

    #[test]
    fn primer_forward_shape() -> Result<(), ModelError> {
        let (device, _lock) = crate::test_device();
        let input = InputShape { channels: 4, length: 50, outputs: 3 };
        let model = ModelConfig::primer().init(input, &device)?;
        let y = model.forward(Tensor::zeros([5, 4, 50], &device));
        assert_eq!(y.dims(), [5, 3]);
        let params = ModelConfig::primer().parameter_count(input)?;
        assert_eq!(crate::Model::num_params(&model), params);
        Ok(())
    }

    #[test]
    fn deep_cnn_forward_shape() -> Result<(), ModelError> {
        let (device, _lock) = crate::test_device();
        let layer = |filters, pool| ConvLayerConfig {
            filters,
            width: 5,
            dilation: 2,
            pool,
            batch_norm: true,
            dropout: 0.1,
            padding: Padding::Same,
        };
        let config = ModelConfig::Cnn {
            conv: vec![layer(8, 2), layer(16, 2)],
            global_pool: GlobalPool::MaxMean,
            dense: vec![12],
            dense_dropout: 0.2,
        };
        let input = InputShape { channels: 20, length: 64, outputs: 2 };
        let model = config.init(input, &device)?;
        assert_eq!(model.forward(Tensor::zeros([3, 20, 64], &device)).dims(), [3, 2]);
        // burn also counts the batch-norm running mean and variance (2 per filter).
        let running_statistics = 2 * (8 + 16);
        assert_eq!(crate::Model::num_params(&model), config.parameter_count(input)? + running_statistics);
        Ok(())
    }
}
