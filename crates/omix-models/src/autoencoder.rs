//! Autoencoders: unsupervised representations of expression profiles (dense) and of one-hot
//! sequences (convolutional), with optional denoising.

use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::pool::{MaxPool1d, MaxPool1dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig1d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::config::{InputShape, ModelError};

/// How an autoencoder's reconstruction is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconstruction {
    /// Mean squared error against the input (dense autoencoder on numeric features).
    SquaredError,
    /// Softmax cross-entropy over the channels of each position (one-hot sequences).
    OneHotCrossEntropy,
}

/// The `[model] kind = "autoencoder"` table: a dense autoencoder for matrices (Hinton &
/// Salakhutdinov, Science 2006), denoising by input masking (Vincent et al., ICML 2008).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoencoderConfig {
    /// Encoder hidden layer sizes (ReLU); the decoder mirrors them.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Size of the latent representation (linear).
    #[serde(default = "default_latent")]
    pub latent: usize,
    /// Denoising: fraction of input values set to zero during training (0 = plain autoencoder).
    #[serde(default)]
    pub noise: f64,
    /// Dropout after each hidden layer.
    #[serde(default)]
    pub dropout: f64,
}

fn default_hidden() -> Vec<usize> {
    vec![256, 64]
}
fn default_latent() -> usize {
    16
}

impl Default for AutoencoderConfig {
    fn default() -> Self {
        Self { hidden: default_hidden(), latent: default_latent(), noise: 0.0, dropout: 0.0 }
    }
}

fn check_common(latent: usize, hidden: &[usize], noise: f64, dropout: f64) -> Result<(), ModelError> {
    let invalid = |field: String, value: String, reason| Err(ModelError::InvalidSetting { field, value, reason });
    if latent == 0 {
        return invalid("latent".into(), "0".into(), "the latent space needs at least one dimension");
    }
    crate::config::check_units("hidden", hidden)?;
    crate::config::check_probability("noise", noise)?;
    crate::config::check_probability("dropout", dropout)
}

fn mlp_parameters(mut features: usize, layers: impl IntoIterator<Item = usize>) -> usize {
    let mut count = 0;
    for units in layers {
        count += features * units + units;
        features = units;
    }
    count
}

impl AutoencoderConfig {
    /// Validate the settings, one error per rule.
    pub fn check(&self, input: InputShape) -> Result<(), ModelError> {
        if input.channels * input.length == 0 {
            return Err(ModelError::InvalidSetting {
                field: "input".into(),
                value: input.to_string(),
                reason: "an autoencoder needs at least one input feature",
            });
        }
        check_common(self.latent, &self.hidden, self.noise, self.dropout)
    }

    /// Trainable parameters of encoder and decoder.
    pub fn parameter_count(&self, input: InputShape) -> Result<usize, ModelError> {
        self.check(input)?;
        let features = input.channels * input.length;
        let encoder = self.hidden.iter().copied().chain([self.latent]);
        let decoder = self.hidden.iter().rev().copied().chain([features]);
        Ok(mlp_parameters(features, encoder) + mlp_parameters(self.latent, decoder))
    }
}

/// A dense autoencoder: input → hidden* → latent → hidden* (mirrored) → reconstruction.
#[derive(Module, Debug)]
pub struct DenseAutoencoder {
    noise: Dropout,
    encoder: Vec<Linear>,
    latent: Linear,
    decoder: Vec<Linear>,
    output: Linear,
    dropout: Dropout,
}

impl DenseAutoencoder {
    /// Allocate for `channels × length` input features.
    pub fn new(config: &AutoencoderConfig, input: InputShape, device: &Device) -> Result<Self, ModelError> {
        config.check(input)?;
        let features = input.channels * input.length;
        let mut width = features;
        let mut encoder = Vec::new();
        for &units in &config.hidden {
            encoder.push(LinearConfig::new(width, units).init(device));
            width = units;
        }
        let latent = LinearConfig::new(width, config.latent).init(device);
        let mut width = config.latent;
        let mut decoder = Vec::new();
        for &units in config.hidden.iter().rev() {
            decoder.push(LinearConfig::new(width, units).init(device));
            width = units;
        }
        Ok(Self {
            noise: DropoutConfig::new(config.noise).init(),
            encoder,
            latent,
            decoder,
            output: LinearConfig::new(width, features).init(device),
            dropout: DropoutConfig::new(config.dropout).init(),
        })
    }

    /// The latent representation (no input corruption).
    ///
    /// # Shapes
    /// - input: `[batch, features, 1]`
    /// - output: `[batch, latent]`
    pub fn encode(&self, input: Tensor<3>) -> Tensor<2> {
        self.encode_flat(input.flatten(1, 2))
    }

    fn encode_flat(&self, mut x: Tensor<2>) -> Tensor<2> {
        for layer in &self.encoder {
            x = self.dropout.forward(relu(layer.forward(x))); // [B, units]
        }
        self.latent.forward(x) // [B, latent]
    }

    /// The reconstruction; in training mode the input is first corrupted by masking noise.
    ///
    /// # Shapes
    /// - input: `[batch, features, 1]`
    /// - output: `[batch, features]`
    pub fn forward(&self, input: Tensor<3>) -> Tensor<2> {
        let x = self.noise.forward(input.flatten(1, 2)); // [B, F]
        let mut x = self.encode_flat(x); // [B, latent]
        for layer in &self.decoder {
            x = self.dropout.forward(relu(layer.forward(x))); // [B, units]
        }
        self.output.forward(x) // [B, F]
    }
}

/// The `[model] kind = "conv_autoencoder"` table: a convolutional encoder over one-hot
/// sequences, a dense latent layer, and a dense decoder to per-position base logits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvAutoencoderConfig {
    /// Filters of each convolution ("same" padding, ReLU), first to last.
    #[serde(default = "default_filters")]
    pub filters: Vec<usize>,
    /// Filter width of every convolution.
    #[serde(default = "default_width")]
    pub width: usize,
    /// Max-pool size after each convolution (1 = none).
    #[serde(default = "default_pool")]
    pub pool: usize,
    /// Hidden dense layer sizes between the convolutions and the latent layer; the decoder mirrors them.
    #[serde(default)]
    pub hidden: Vec<usize>,
    /// Size of the latent representation.
    #[serde(default = "default_latent")]
    pub latent: usize,
    /// Denoising: fraction of positions (one-hot values) zeroed during training.
    #[serde(default)]
    pub noise: f64,
    /// Dropout after each hidden layer.
    #[serde(default)]
    pub dropout: f64,
}

fn default_filters() -> Vec<usize> {
    vec![32, 64]
}
fn default_width() -> usize {
    9
}
fn default_pool() -> usize {
    2
}

impl Default for ConvAutoencoderConfig {
    fn default() -> Self {
        Self {
            filters: default_filters(),
            width: default_width(),
            pool: default_pool(),
            hidden: Vec::new(),
            latent: default_latent(),
            noise: 0.0,
            dropout: 0.0,
        }
    }
}

impl ConvAutoencoderConfig {
    fn encoded_length(&self, length: usize) -> usize {
        self.filters.iter().fold(length, |length, _| length / self.pool.max(1))
    }

    /// Validate the settings, one error per rule.
    pub fn check(&self, input: InputShape) -> Result<(), ModelError> {
        let invalid = |field: String, value: String, reason| Err(ModelError::InvalidSetting { field, value, reason });
        if self.filters.is_empty() {
            return invalid("filters".into(), "[]".into(), "at least one convolution is required");
        }
        if let Some(position) = self.filters.iter().position(|&f| f == 0) {
            return invalid(format!("filters[{position}]"), "0".into(), "at least one filter is required");
        }
        if self.width == 0 {
            return invalid("width".into(), "0".into(), "a filter must be at least 1 wide");
        }
        if self.pool == 0 {
            return invalid("pool".into(), "0".into(), "use 1 for no pooling");
        }
        if self.encoded_length(input.length) == 0 {
            return Err(ModelError::SequenceTooShort {
                layer: self.filters.len(),
                width: self.width,
                dilation: 1,
                length: input.length,
            });
        }
        check_common(self.latent, &self.hidden, self.noise, self.dropout)
    }

    /// Trainable parameters.
    pub fn parameter_count(&self, input: InputShape) -> Result<usize, ModelError> {
        self.check(input)?;
        let mut count = 0;
        let mut channels = input.channels;
        for &filters in &self.filters {
            count += filters * channels * self.width + filters;
            channels = filters;
        }
        let flat = channels * self.encoded_length(input.length);
        let encoder = self.hidden.iter().copied().chain([self.latent]);
        let decoder = self.hidden.iter().rev().copied().chain([input.channels * input.length]);
        Ok(count + mlp_parameters(flat, encoder) + mlp_parameters(self.latent, decoder))
    }
}

/// A convolutional autoencoder for one-hot sequences.
#[derive(Module, Debug)]
pub struct ConvAutoencoder {
    noise: Dropout,
    convolutions: Vec<Conv1d>,
    pool: Option<MaxPool1d>,
    encoder: Vec<Linear>,
    latent: Linear,
    decoder: Vec<Linear>,
    output: Linear,
    dropout: Dropout,
}

impl ConvAutoencoder {
    /// Allocate for one-hot input `[channels, length]`.
    pub fn new(config: &ConvAutoencoderConfig, input: InputShape, device: &Device) -> Result<Self, ModelError> {
        config.check(input)?;
        let mut channels = input.channels;
        let mut convolutions = Vec::new();
        for &filters in &config.filters {
            convolutions.push(
                Conv1dConfig::new(channels, filters, config.width).with_padding(PaddingConfig1d::Same).init(device),
            );
            channels = filters;
        }
        let mut width = channels * config.encoded_length(input.length);
        let mut encoder = Vec::new();
        for &units in &config.hidden {
            encoder.push(LinearConfig::new(width, units).init(device));
            width = units;
        }
        let latent = LinearConfig::new(width, config.latent).init(device);
        let mut width = config.latent;
        let mut decoder = Vec::new();
        for &units in config.hidden.iter().rev() {
            decoder.push(LinearConfig::new(width, units).init(device));
            width = units;
        }
        Ok(Self {
            noise: DropoutConfig::new(config.noise).init(),
            convolutions,
            pool: (config.pool > 1).then(|| MaxPool1dConfig::new(config.pool).init()),
            encoder,
            latent,
            decoder,
            output: LinearConfig::new(width, input.channels * input.length).init(device),
            dropout: DropoutConfig::new(config.dropout).init(),
        })
    }

    fn encode_inner(&self, mut x: Tensor<3>) -> Tensor<2> {
        for conv in &self.convolutions {
            x = relu(conv.forward(x)); // [B, F, L]
            if let Some(pool) = &self.pool {
                x = pool.forward(x); // [B, F, L / pool]
            }
        }
        let mut x = x.flatten(1, 2); // [B, F * L']
        for layer in &self.encoder {
            x = self.dropout.forward(relu(layer.forward(x))); // [B, units]
        }
        self.latent.forward(x) // [B, latent]
    }

    /// The latent representation.
    ///
    /// # Shapes
    /// - input: `[batch, channels, length]`
    /// - output: `[batch, latent]`
    pub fn encode(&self, input: Tensor<3>) -> Tensor<2> {
        self.encode_inner(input)
    }

    /// Per-position base logits, flattened channel-major like the input.
    ///
    /// # Shapes
    /// - input: `[batch, channels, length]`
    /// - output: `[batch, channels * length]`
    pub fn forward(&self, input: Tensor<3>) -> Tensor<2> {
        let mut x = self.encode_inner(self.noise.forward(input)); // [B, latent]
        for layer in &self.decoder {
            x = self.dropout.forward(relu(layer.forward(x))); // [B, units]
        }
        self.output.forward(x) // [B, C * L]
    }

    /// The first convolution's weights `[filters, channels, width]`.
    pub fn first_layer_filters(&self) -> Option<Tensor<3>> {
        self.convolutions.first().map(|conv| conv.weight.val())
    }

    /// The first convolution.
    pub(crate) fn first_convolution(&self) -> Option<&Conv1d> {
        self.convolutions.first()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Module;

    #[test]
    fn dense_autoencoder_shapes_and_parameters() -> Result<(), ModelError> {
        let (device, _lock) = crate::test_device();
        let input = InputShape { channels: 30, length: 1, outputs: 30 };
        let config = AutoencoderConfig { hidden: vec![12], latent: 4, noise: 0.1, dropout: 0.0 };
        let model = DenseAutoencoder::new(&config, input, &device)?;
        let x = Tensor::<3>::zeros([5, 30, 1], &device);
        assert_eq!(model.encode(x.clone()).dims(), [5, 4]);
        assert_eq!(model.forward(x).dims(), [5, 30]);
        assert_eq!(model.num_params(), config.parameter_count(input)?);
        Ok(())
    }

    #[test]
    fn conv_autoencoder_shapes_and_parameters() -> Result<(), ModelError> {
        let (device, _lock) = crate::test_device();
        let input = InputShape { channels: 4, length: 40, outputs: 160 };
        let config = ConvAutoencoderConfig { hidden: vec![16], ..ConvAutoencoderConfig::default() };
        let model = ConvAutoencoder::new(&config, input, &device)?;
        let x = Tensor::<3>::zeros([3, 4, 40], &device);
        assert_eq!(model.encode(x.clone()).dims(), [3, 16]);
        assert_eq!(model.forward(x).dims(), [3, 160]);
        assert_eq!(model.num_params(), config.parameter_count(input)?);
        let too_short = InputShape { channels: 4, length: 3, outputs: 12 };
        assert!(matches!(config.check(too_short), Err(ModelError::SequenceTooShort { .. })));
        Ok(())
    }
}
