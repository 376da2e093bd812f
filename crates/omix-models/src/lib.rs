//! Neural network architectures for omix.
//!
//! Every architecture is a serde config (the `[model]` table of an experiment file) with
//! `init(&self, input, device)` returning a burn module whose `forward` maps a one-hot batch
//! `[batch, channels, length]` to logits `[batch, outputs]`.
//!
//! ```
//! use burn::prelude::*;
//! use omix_models::{InputShape, ModelConfig};
//!
//! let device = Device::flex();
//! let config = ModelConfig::primer();
//! let input = InputShape { channels: 4, length: 50, outputs: 1 };
//! let model = config.init(input, &device).expect("valid primer config");
//! let logits = model.forward(Tensor::zeros([2, 4, 50], &device));
//! assert_eq!(logits.dims(), [2, 1]);
//! ```

mod autoencoder;
mod cnn;
mod config;
mod fast;
mod gcn;
mod rnn;
mod sparse;

pub use cnn::{ConvBlock, SequenceCnn};
pub use config::{ConvLayerConfig, GlobalPool, InputShape, ModelConfig, ModelError, Padding};
pub use fast::{FastLoss, FastPlan};

use burn::prelude::*;

/// A trained or trainable omix model: one of the architectures, behind one type.
#[derive(Module, Debug)]
pub enum Model {
    /// A convolutional network over one-hot sequences (the primer CNN is a preset of it).
    Cnn(SequenceCnn),
}

impl Model {
    /// Logits for a one-hot batch.
    ///
    /// # Shapes
    /// - input: `[batch, channels, length]`
    /// - output: `[batch, outputs]`
    pub fn forward(&self, input: Tensor<3>) -> Tensor<2> {
        match self {
            Model::Cnn(model) => model.forward(input),
        }
    }

    /// The first convolution's weights `[filters, channels, width]`, when the model has one.
    pub fn first_layer_filters(&self) -> Option<Tensor<3>> {
        match self {
            Model::Cnn(model) => model.first_layer_filters(),
        }
    }
}
