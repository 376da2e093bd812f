//! Dense (fully connected) networks on feature vectors: k-mer counts, PWM scan scores,
//! expression profiles, or a flattened one-hot sequence.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::config::{InputShape, ModelError};
use crate::sparse::SparseMatrix;

/// The `[model] kind = "dense"` table: hidden layer sizes and dropout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenseConfig {
    /// Hidden layer sizes (ReLU), first to last.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Dropout probability after each hidden layer.
    #[serde(default = "default_dropout")]
    pub dropout: f64,
    /// Dropout probability on the input features (0 = none).
    #[serde(default)]
    pub input_dropout: f64,
}

fn default_hidden() -> Vec<usize> {
    vec![128]
}
fn default_dropout() -> f64 {
    0.5
}

impl Default for DenseConfig {
    fn default() -> Self {
        Self { hidden: default_hidden(), dropout: default_dropout(), input_dropout: 0.0 }
    }
}

impl DenseConfig {
    /// Validate the settings, one error per rule.
    pub fn check(&self, input: InputShape) -> Result<(), ModelError> {
        let invalid = |field: String, value: String, reason| Err(ModelError::InvalidSetting { field, value, reason });
        if input.channels * input.length == 0 || input.outputs == 0 {
            return invalid("input".into(), input.to_string(), "features and outputs must be positive");
        }
        crate::config::check_probability("dropout", self.dropout)?;
        crate::config::check_probability("input_dropout", self.input_dropout)?;
        crate::config::check_units("hidden", &self.hidden)
    }

    /// Trainable parameters: one weight matrix and bias per layer.
    pub fn parameter_count(&self, input: InputShape) -> Result<usize, ModelError> {
        self.check(input)?;
        let mut features = input.channels * input.length;
        let mut count = 0;
        for &units in self.hidden.iter().chain(std::iter::once(&input.outputs)) {
            count += features * units + units;
            features = units;
        }
        Ok(count)
    }
}

/// A batch of sparse feature vectors (k-mer counts at k = 6..8 have ~100 non-zeros out of tens
/// of thousands of columns): a `[batch, width]` [`SparseMatrix`].
#[derive(Debug, Clone)]
pub struct SparseInput {
    matrix: SparseMatrix,
}

impl SparseInput {
    /// Build from CSR arrays (row offsets `[batch + 1]`, column indices and values `[nnz]`).
    ///
    /// Errors when the offsets do not cover the indices or a column is out of range.
    pub fn from_csr(
        offsets: &[usize],
        indices: &[u32],
        values: &[f32],
        width: usize,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let batch = offsets.len().saturating_sub(1);
        let mut rows = Vec::with_capacity(indices.len());
        for (row, window) in offsets.windows(2).enumerate() {
            rows.extend(std::iter::repeat_n(row, window[1].saturating_sub(window[0])));
        }
        let columns: Vec<usize> = indices.iter().map(|&c| c as usize).collect();
        let matrix = SparseMatrix::from_coo(&rows, &columns, values, [batch, width], device)?;
        Ok(Self { matrix })
    }

    /// Number of examples.
    pub fn batch(&self) -> usize {
        self.matrix.shape()[0]
    }

    /// The device of the batch.
    pub fn device(&self) -> Device {
        self.matrix.device()
    }

    /// The same batch as a dense `[batch, width, 1]` tensor.
    pub fn to_dense(&self) -> Tensor<3> {
        self.matrix.to_dense().unsqueeze_dim(2)
    }

    /// `X · W` for a dense weight `W` of shape `[width, units]`, without densifying `X`.
    ///
    /// # Shapes
    /// - weight: `[width, units]`
    /// - output: `[batch, units]`
    pub fn matmul(&self, weight: Tensor<2>) -> Tensor<2> {
        self.matrix.matmul(weight)
    }
}

/// A multilayer perceptron: (input dropout) → [Linear → ReLU → dropout]* → Linear.
#[derive(Module, Debug)]
pub struct DenseNet {
    input_dropout: Dropout,
    hidden: Vec<Linear>,
    dropout: Dropout,
    output: Linear,
}

impl DenseNet {
    /// Allocate the network for `channels × length` input features.
    pub fn new(config: &DenseConfig, input: InputShape, device: &Device) -> Result<Self, ModelError> {
        config.check(input)?;
        let mut features = input.channels * input.length;
        let mut hidden = Vec::with_capacity(config.hidden.len());
        for &units in &config.hidden {
            hidden.push(LinearConfig::new(features, units).init(device));
            features = units;
        }
        Ok(Self {
            input_dropout: DropoutConfig::new(config.input_dropout).init(),
            hidden,
            dropout: DropoutConfig::new(config.dropout).init(),
            output: LinearConfig::new(features, input.outputs).init(device),
        })
    }

    /// Logits for a batch of feature vectors (or one-hot sequences, flattened).
    ///
    /// # Shapes
    /// - input: `[batch, features, 1]` (or `[batch, channels, length]`)
    /// - output: `[batch, outputs]`
    pub fn forward(&self, input: Tensor<3>) -> Tensor<2> {
        let x = self.input_dropout.forward(input.flatten(1, 2)); // [B, F]
        self.forward_hidden(x)
    }

    /// Logits for a sparse batch; the first layer multiplies the sparse input directly.
    ///
    /// # Shapes
    /// - input: `batch × width` sparse
    /// - output: `[batch, outputs]`
    pub fn forward_sparse(&self, input: &SparseInput) -> Tensor<2> {
        let Some((first, rest)) = self.hidden.split_first() else {
            return linear_sparse(&self.output, input); // [B, outputs]
        };
        let x = self.dropout.forward(relu(linear_sparse(first, input))); // [B, units]
        let mut x = x;
        for layer in rest {
            x = self.dropout.forward(relu(layer.forward(x))); // [B, units]
        }
        self.output.forward(x)
    }

    fn forward_hidden(&self, mut x: Tensor<2>) -> Tensor<2> {
        for layer in &self.hidden {
            x = self.dropout.forward(relu(layer.forward(x))); // [B, units]
        }
        self.output.forward(x) // [B, outputs]
    }
}

/// A linear layer applied to a sparse batch (burn stores the weight as `[inputs, outputs]`).
fn linear_sparse(layer: &Linear, input: &SparseInput) -> Tensor<2> {
    let x = input.matmul(layer.weight.val()); // [B, units]
    match &layer.bias {
        Some(bias) => x + bias.val().unsqueeze_dim(0),
        None => x,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_forward_equals_dense_forward() -> Result<(), ModelError> {
        let (device, _lock) = crate::test_device();
        device.seed(3);
        let input = InputShape { channels: 10, length: 1, outputs: 2 };
        let config = DenseConfig { hidden: vec![6], dropout: 0.0, input_dropout: 0.0 };
        let model = DenseNet::new(&config, input, &device)?;
        assert_eq!(config.parameter_count(input)?, burn::module::Module::num_params(&model));
        // Two rows: {1: 2.0, 7: 0.5} and {0: 1.0}.
        let sparse = SparseInput::from_csr(&[0, 2, 3], &[1, 7, 0], &[2.0, 0.5, 1.0], 10, &device)?;
        let dense = sparse.to_dense();
        let a: Vec<f32> = model.forward(dense).into_data().try_to_vec::<f32>().unwrap_or_default();
        let b: Vec<f32> = model.forward_sparse(&sparse).into_data().try_to_vec::<f32>().unwrap_or_default();
        assert_eq!(a.len(), 4);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
        }
        Ok(())
    }

    #[test]
    fn sparse_gradients_equal_dense_gradients() -> Result<(), ModelError> {
        let (device, _lock) = crate::test_device();
        let device = device.autodiff();
        device.seed(5);
        let input = InputShape { channels: 8, length: 1, outputs: 1 };
        let config = DenseConfig { hidden: vec![4], dropout: 0.0, input_dropout: 0.0 };
        let model = DenseNet::new(&config, input, &device)?;
        let sparse = SparseInput::from_csr(&[0, 3, 5], &[0, 2, 7, 2, 5], &[1.0, 0.5, 2.0, 1.5, 1.0], 8, &device)?;
        let gradient = |loss: Tensor<1>| -> Vec<f32> {
            let grads = loss.backward();
            let first = &model.hidden[0];
            first.weight.grad(&grads).map(|g| g.into_data().try_to_vec::<f32>().unwrap_or_default()).unwrap_or_default()
        };
        let dense = gradient(model.forward(sparse.to_dense()).sum());
        let direct = gradient(model.forward_sparse(&sparse).sum());
        assert_eq!(dense.len(), 32);
        for (x, y) in dense.iter().zip(&direct) {
            assert!((x - y).abs() < 1e-5);
        }
        Ok(())
    }
}
