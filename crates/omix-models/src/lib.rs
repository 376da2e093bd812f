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
mod bpnet;
mod bpnet_fast;
mod cnn;
mod config;
mod deeplift;
mod dense;
mod export;
mod fast;
mod first_layer;
mod gcn;
mod gemm;
mod host;
mod ism;
mod rnn;
mod rnn_fast;
mod sparse;

pub use autoencoder::{AutoencoderConfig, ConvAutoencoder, ConvAutoencoderConfig, DenseAutoencoder, Reconstruction};
pub use bpnet::{Bpnet, BpnetConfig, ProfileShape};
pub use bpnet_fast::{BpnetKernels, BpnetLayout, FrozenOutputs, ProfileBatchRef};
pub use cnn::{ConvBlock, SequenceCnn};
pub use config::{ConvLayerConfig, GlobalPool, InputShape, ModelConfig, ModelError, Padding};
pub use deeplift::{DeepLiftPlan, Multipliers, Shap};
pub use dense::{DenseConfig, DenseNet, SparseInput};
pub use export::cnn_safetensors;
pub use fast::{FastLoss, FastPlan};
pub use first_layer::FirstLayer;
pub use gcn::{Gcn, GcnConfig, GraphConvolution, GraphShape};
pub use ism::IsmPlan;
pub use rnn::{Cell, Readout, RnnConfig, SequenceRnn};
pub use rnn_fast::RnnPlan;
pub use sparse::SparseMatrix;

use burn::prelude::*;

/// Whether omix's hand-written kernels ([`FastPlan`], [`IsmPlan`], [`BpnetKernels`]) serve
/// models on `device`: they compute on host memory with the host's threads, so only burn's CPU
/// (flex) device, with autodiff or without; on a GPU burn's own operations keep the work there.
/// [`DeepLiftPlan`] is the exception: it is omix's only DeepLIFT, so it copies a model's weights
/// from any device.
pub fn host_kernels_serve(device: &Device) -> bool {
    device.clone().without_autodiff() == Device::flex()
}

/// Whether every parameter of `model` lives where [`host_kernels_serve`] (lazily initialised
/// parameters answer for the device they will be drawn on, without being drawn).
pub(crate) fn on_host(model: &Model) -> bool {
    model.devices().iter().all(host_kernels_serve)
}

/// A trained or trainable omix model: one of the architectures, behind one type.
#[derive(Module, Debug)]
pub enum Model {
    /// A convolutional network over one-hot sequences (the primer CNN, `cnn` and the named CNNs).
    Cnn(SequenceCnn),
    /// A recurrent network (LSTM/GRU, DanQ) over one-hot sequences.
    Rnn(SequenceRnn),
    /// A dense network on feature vectors.
    Dense(DenseNet),
    /// A dense autoencoder.
    Autoencoder(DenseAutoencoder),
    /// A convolutional autoencoder over one-hot sequences.
    ConvAutoencoder(ConvAutoencoder),
}

/// A model's input batch: dense (one-hot sequences or feature vectors `[batch, features, 1]`)
/// or sparse feature vectors.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant, reason = "both variants hold burn tensors (~256 bytes each); one input per batch")]
pub enum ModelInput {
    /// `[batch, channels, length]`.
    Dense(Tensor<3>),
    /// Sparse `[batch, width]` feature vectors (for dense networks on k-mer counts).
    Sparse(SparseInput),
}

impl Model {
    /// Outputs for a dense batch: logits for supervised models, the reconstruction (logits for
    /// one-hot sequences) for autoencoders.
    ///
    /// # Shapes
    /// - input: `[batch, channels, length]` (feature vectors: `[batch, features, 1]`)
    /// - output: `[batch, outputs]`
    pub fn forward(&self, input: Tensor<3>) -> Tensor<2> {
        match self {
            Model::Cnn(model) => model.forward(input),
            Model::Rnn(model) => model.forward(input),
            Model::Dense(model) => model.forward(input),
            Model::Autoencoder(model) => model.forward(input),
            Model::ConvAutoencoder(model) => model.forward(input),
        }
    }

    /// Outputs for a dense or sparse batch; only dense networks read sparse input directly,
    /// others get it densified.
    pub fn forward_input(&self, input: ModelInput) -> Tensor<2> {
        match (self, input) {
            (_, ModelInput::Dense(x)) => self.forward(x),
            (Model::Dense(model), ModelInput::Sparse(x)) => model.forward_sparse(&x),
            (_, ModelInput::Sparse(x)) => self.forward(x.to_dense()),
        }
    }

    /// The latent representation of an autoencoder (None for supervised models).
    ///
    /// # Shapes
    /// - input: `[batch, channels, length]`
    /// - output: `[batch, latent]`
    pub fn encode(&self, input: Tensor<3>) -> Option<Tensor<2>> {
        match self {
            Model::Autoencoder(model) => Some(model.encode(input)),
            Model::ConvAutoencoder(model) => Some(model.encode(input)),
            _ => None,
        }
    }

    /// How the reconstruction is scored, for autoencoders.
    pub fn reconstruction(&self) -> Option<Reconstruction> {
        match self {
            Model::Autoencoder(_) => Some(Reconstruction::SquaredError),
            Model::ConvAutoencoder(_) => Some(Reconstruction::OneHotCrossEntropy),
            _ => None,
        }
    }

    /// The first convolution (with its batch-norm folded in) as plain numbers, when the model
    /// scans the one-hot input with one: CNNs, RNNs with a convolutional front end (DanQ) and
    /// convolutional autoencoders.
    pub fn first_layer(&self) -> Option<FirstLayer> {
        match self {
            Model::Cnn(model) => model.blocks().first().and_then(ConvBlock::first_layer),
            Model::Rnn(model) => model.front_blocks().first().and_then(ConvBlock::first_layer),
            Model::ConvAutoencoder(model) => {
                model.first_convolution().and_then(|conv| FirstLayer::from_conv(conv, None))
            }
            Model::Dense(_) | Model::Autoencoder(_) => None,
        }
    }

    /// The first convolution's weights `[filters, channels, width]`, when the model has one.
    pub fn first_layer_filters(&self) -> Option<Tensor<3>> {
        match self {
            Model::Cnn(model) => model.first_layer_filters(),
            Model::Rnn(model) => model.first_layer_filters(),
            Model::ConvAutoencoder(model) => model.first_layer_filters(),
            Model::Dense(_) | Model::Autoencoder(_) => None,
        }
    }
}

/// burn's flex backend draws weights and dropout masks from one process-wide generator, so a
/// test that seeds it must not have another test drawing at the same time: every test that
/// builds or runs a model takes its device from here and holds the lock until it ends.
#[cfg(test)]
pub(crate) fn test_device() -> (Device, std::sync::MutexGuard<'static, ()>) {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    (Device::flex(), guard)
}
