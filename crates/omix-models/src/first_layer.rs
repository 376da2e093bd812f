//! The first convolution of a sequence model as plain numbers, for turning filters into motifs.
//!
//! A first-layer filter scans the one-hot input directly, so the windows that activate it most
//! are its learned motif (DeepBind, Basset). [`FirstLayer`] is the first convolution of the
//! shared host-side description ([`crate::host::HostConv`]: weights, bias and the folded
//! batch-norm), with absent parts filled in (zero bias, identity batch-norm), and scores windows
//! on the CPU without a tensor round-trip.

use burn::nn::BatchNorm;
use burn::nn::conv::Conv1d;

use crate::host::{HostConv, Layer};

/// The first convolution: `activation[f, p] = relu(scale[f] · (bias[f] + Σ_c Σ_j w[f, c, j] ·
/// x[c, p + j·dilation]) + shift[f])`, for every window `p` that lies wholly inside the sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct FirstLayer {
    /// Number of filters.
    pub filters: usize,
    /// Input channels (4 for DNA/RNA).
    pub channels: usize,
    /// Filter width in positions.
    pub width: usize,
    /// Dilation (1 for every named architecture).
    pub dilation: usize,
    /// Weights `[filters, channels, width]`, row-major.
    pub weights: Vec<f32>,
    /// Bias per filter.
    pub bias: Vec<f32>,
    /// Batch-norm scale per filter, folded from the running statistics (1 without batch-norm).
    pub scale: Vec<f32>,
    /// Batch-norm shift per filter (0 without batch-norm).
    pub shift: Vec<f32>,
}

impl FirstLayer {
    /// The first convolution `conv` (with the batch-norm after it), or `None` when its weights
    /// cannot be read back or it is not a stride-1, single-group convolution.
    pub(crate) fn from_conv(conv: &Conv1d, norm: Option<&BatchNorm>) -> Option<Self> {
        HostConv::from_conv(conv, norm, Layer::Convolution(1)).ok().map(Self::from_host)
    }

    /// A described convolution, absent bias as zeros and absent batch-norm as the identity.
    pub(crate) fn from_host(conv: HostConv) -> Self {
        let filters = conv.filters;
        let (scale, shift) = match conv.batch_norm {
            Some(norm) => (norm.scale, norm.shift),
            None => (vec![1.0; filters], vec![0.0; filters]),
        };
        Self {
            filters,
            channels: conv.channels,
            width: conv.width,
            dilation: conv.dilation,
            weights: conv.weights,
            bias: conv.bias.unwrap_or_else(|| vec![0.0; filters]),
            scale,
            shift,
        }
    }

    /// Positions one filter spans: `(width − 1) · dilation + 1`.
    pub fn span(&self) -> usize {
        (self.width.max(1) - 1) * self.dilation + 1
    }

    /// Activations of every filter at every full window of one encoded sequence.
    ///
    /// # Shapes
    /// - `input`: `[channels, length]`, channel-major (as the encoder writes it)
    /// - output: `[filters, length − span + 1]` (empty when the sequence is shorter than a filter)
    pub fn activations(&self, input: &[f32], length: usize) -> Vec<f32> {
        let span = self.span();
        if length < span || input.len() < self.channels * length {
            return Vec::new();
        }
        let windows = length - span + 1;
        let mut out = vec![0.0f32; self.filters * windows];
        for filter in 0..self.filters {
            let weights = &self.weights[filter * self.channels * self.width..(filter + 1) * self.channels * self.width];
            let row = &mut out[filter * windows..(filter + 1) * windows];
            for (position, slot) in row.iter_mut().enumerate() {
                let mut sum = self.bias[filter];
                for channel in 0..self.channels {
                    let x = &input[channel * length..(channel + 1) * length];
                    let w = &weights[channel * self.width..(channel + 1) * self.width];
                    for (tap, weight) in w.iter().enumerate() {
                        sum += weight * x[position + tap * self.dilation];
                    }
                }
                *slot = (self.scale[filter] * sum + self.shift[filter]).max(0.0);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::{InputShape, ModelConfig};
    use burn::prelude::*;
    use burn::tensor::TensorData;

    /// The hand-computed activations equal burn's conv → ReLU on the model's first block.
    #[test]
    fn activations_equal_burn_first_convolution() -> Result<(), Box<dyn std::error::Error>> {
        let (device, _lock) = crate::test_device();
        device.seed(5);
        let input = InputShape { channels: 4, length: 40, outputs: 1 };
        let model = ModelConfig::primer().init(input, &device)?;
        let layer = model.first_layer().ok_or("primer has a first convolution")?;
        let mut values = vec![0.0f32; 4 * 40];
        for position in 0..40 {
            values[((position * 7 + 3) % 4) * 40 + position] = 1.0;
        }
        let ours = layer.activations(&values, 40);
        let crate::Model::Cnn(cnn) = &model else { return Err("a CNN".into()) };
        let conv = cnn.blocks()[0].conv();
        let tensor = Tensor::<3>::from_data(TensorData::new(values, [1, 4, 40]), &device);
        let theirs: Vec<f32> = burn::tensor::activation::relu(conv.forward(tensor)).into_data().try_into_vec()?;
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(&theirs) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        Ok(())
    }

    #[test]
    fn short_sequences_have_no_windows() -> Result<(), Box<dyn std::error::Error>> {
        let (device, _lock) = crate::test_device();
        let model = ModelConfig::primer().init(InputShape { channels: 4, length: 40, outputs: 1 }, &device)?;
        let layer = model.first_layer().ok_or("first layer")?;
        assert!(layer.activations(&[0.0; 8], 2).is_empty());
        Ok(())
    }
}
