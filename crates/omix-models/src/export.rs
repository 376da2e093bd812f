//! A sequence CNN's weights as a safetensors file, for PyTorch and the field's Python tools.
//!
//! Names and layouts are PyTorch's, so a twin built from `torch.nn.Conv1d`, `torch.nn.Linear`
//! and the file's metadata loads the tensors as they are (bench/omix_twin.py builds one):
//! - `conv{i}.weight` `[filters, channels, width]` and `conv{i}.bias` `[filters]` for block
//!   `i` (0-based);
//! - `conv{i}.bn_scale` and `conv{i}.bn_shift` `[filters]`: the block's inference batch-norm
//!   folded into `scale · z + shift` after the convolution's bias (absent without batch-norm);
//! - `dense{i}.weight` `[outputs, inputs]` and `dense{i}.bias` `[outputs]`: the hidden dense
//!   layers, then the output layer (the last `i`).
//!
//! The metadata entry `omix_architecture` holds, as JSON, what the tensors do not say: the
//! input's channels and length; per block the dilation, the zero padding before and after the
//! input (`left`, `right`), the max-pool size (stride equal to it, a partial last window
//! dropped) and whether batch-norm is present; the global reduction (`none` flattens
//! filters × positions channel-major, `max`, `mean`, `max_mean` concatenates the maxima then the
//! means); and per dense layer its inputs, outputs and whether a ReLU follows. Every block applies convolution →
//! batch-norm → ReLU → max-pool; dropout is an identity at inference.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, TensorView};
use serde::Serialize;

use crate::Model;
use crate::config::{GlobalPool, ModelError};
use crate::host::HostCnn;

#[derive(Serialize)]
struct BlockArchitecture {
    filters: usize,
    width: usize,
    dilation: usize,
    left: usize,
    right: usize,
    pool: usize,
    batch_norm: bool,
}

#[derive(Serialize)]
struct DenseArchitecture {
    inputs: usize,
    outputs: usize,
    relu: bool,
}

#[derive(Serialize)]
struct Architecture {
    format: &'static str,
    channels: usize,
    length: usize,
    blocks: Vec<BlockArchitecture>,
    global_pool: GlobalPool,
    dense: Vec<DenseArchitecture>,
    outputs: usize,
}

/// The safetensors bytes of `model` (a sequence CNN) on one-hot inputs `[channels, length]`;
/// other models are refused with the reason.
pub fn cnn_safetensors(model: &Model, channels: usize, length: usize) -> Result<Vec<u8>, ModelError> {
    let Model::Cnn(cnn) = model else {
        return Err(ModelError::Unsupported(
            "the safetensors export covers convolutional networks over one-hot sequences (the cnn family); this model is not one".into(),
        ));
    };
    let host = HostCnn::from_cnn(cnn, channels, length)?;
    let mut tensors: Vec<(String, Vec<usize>, Vec<f32>)> = Vec::new();
    let mut blocks = Vec::new();
    for (i, block) in host.blocks.iter().enumerate() {
        let conv = &block.conv;
        tensors.push((format!("conv{i}.weight"), vec![conv.filters, conv.channels, conv.width], conv.weights.clone()));
        tensors.push((
            format!("conv{i}.bias"),
            vec![conv.filters],
            conv.bias.clone().unwrap_or_else(|| vec![0.0; conv.filters]),
        ));
        if let Some(norm) = &conv.batch_norm {
            tensors.push((format!("conv{i}.bn_scale"), vec![conv.filters], norm.scale.clone()));
            tensors.push((format!("conv{i}.bn_shift"), vec![conv.filters], norm.shift.clone()));
        }
        // Positions before the last window the convolution reads: what pads the end.
        let span = (conv.width - 1) * conv.dilation + 1;
        let right = (block.positions + span - 1).saturating_sub(block.input_length + conv.left);
        blocks.push(BlockArchitecture {
            filters: conv.filters,
            width: conv.width,
            dilation: conv.dilation,
            left: conv.left,
            right,
            pool: block.pool,
            batch_norm: conv.batch_norm.is_some(),
        });
    }
    for (i, layer) in host.dense.iter().enumerate() {
        // omix stores [inputs][outputs]; PyTorch's Linear is [outputs][inputs].
        let mut weight = vec![0.0f32; layer.inputs * layer.outputs];
        for input in 0..layer.inputs {
            for output in 0..layer.outputs {
                weight[output * layer.inputs + input] = layer.weights[input * layer.outputs + output];
            }
        }
        tensors.push((format!("dense{i}.weight"), vec![layer.outputs, layer.inputs], weight));
        tensors.push((format!("dense{i}.bias"), vec![layer.outputs], layer.bias_or_zeros()));
    }
    let architecture = Architecture {
        format: "omix-cnn-1",
        channels,
        length,
        blocks,
        global_pool: host.global_pool,
        dense: host
            .dense
            .iter()
            .map(|layer| DenseArchitecture { inputs: layer.inputs, outputs: layer.outputs, relu: layer.relu })
            .collect(),
        outputs: host.outputs(),
    };
    let metadata = HashMap::from([(
        "omix_architecture".to_string(),
        serde_json::to_string(&architecture)
            .map_err(|error| ModelError::Unsupported(format!("cannot describe the architecture: {error}")))?,
    )]);
    serialize_f32(tensors, metadata)
}

/// `(name, shape, values)` f32 tensors and metadata as safetensors bytes.
pub(crate) fn serialize_f32(
    tensors: Vec<(String, Vec<usize>, Vec<f32>)>,
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>, ModelError> {
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .into_iter()
        .map(|(name, shape, values)| (name, values.iter().flat_map(|v| v.to_le_bytes()).collect(), shape))
        .collect();
    let views = bytes
        .iter()
        .map(|(name, data, shape)| {
            TensorView::new(Dtype::F32, shape.clone(), data).map(|view| (name.clone(), view)).map_err(|error| {
                ModelError::Unsupported(format!("tensor {name} cannot be written as safetensors: {error}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::tensor::serialize(views, Some(metadata))
        .map_err(|error| ModelError::Unsupported(format!("cannot write safetensors: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConvLayerConfig, InputShape, ModelConfig, Padding};
    use safetensors::SafeTensors;

    /// Every tensor is there with PyTorch's shape, the dense weights transposed, and the
    /// architecture names the padding burn applies.
    #[test]
    fn tensors_have_pytorch_names_and_layouts() -> Result<(), Box<dyn std::error::Error>> {
        let (device, _lock) = crate::test_device();
        let config = ModelConfig::Cnn {
            conv: vec![
                ConvLayerConfig {
                    filters: 6,
                    width: 4,
                    dilation: 1,
                    pool: 2,
                    batch_norm: true,
                    dropout: 0.1,
                    padding: Padding::Same,
                },
                ConvLayerConfig {
                    filters: 3,
                    width: 3,
                    dilation: 2,
                    pool: 1,
                    batch_norm: false,
                    dropout: 0.0,
                    padding: Padding::Valid,
                },
            ],
            global_pool: GlobalPool::MaxMean,
            dense: vec![5],
            dense_dropout: 0.0,
        };
        let model = config.init(InputShape { channels: 4, length: 30, outputs: 2 }, &device)?;
        let bytes = cnn_safetensors(&model, 4, 30)?;
        let (_, metadata) = SafeTensors::read_metadata(&bytes)?;
        let file = SafeTensors::deserialize(&bytes)?;
        assert_eq!(file.tensor("conv0.weight")?.shape(), [6, 4, 4]);
        assert_eq!(file.tensor("conv0.bn_scale")?.shape(), [6]);
        assert!(file.tensor("conv1.bn_scale").is_err());
        assert_eq!(file.tensor("dense0.weight")?.shape(), [5, 6]);
        assert_eq!(file.tensor("dense1.weight")?.shape(), [2, 5]);
        let host = HostCnn::from_cnn(
            match &model {
                Model::Cnn(cnn) => cnn,
                _ => return Err("a CNN".into()),
            },
            4,
            30,
        )?;
        let data = file.tensor("dense0.weight")?.data().to_vec();
        let at = |k: usize| f32::from_le_bytes([data[4 * k], data[4 * k + 1], data[4 * k + 2], data[4 * k + 3]]);
        // PyTorch's [output 2][input 3] is omix's [input 3][output 2].
        assert_eq!(at(2 * 6 + 3), host.dense[0].weights[3 * 5 + 2]);
        let architecture: serde_json::Value = serde_json::from_str(
            metadata.metadata().as_ref().and_then(|m| m.get("omix_architecture")).ok_or("metadata")?,
        )?;
        // "same" for width 4 pads 1 before and 2 after; valid pads nothing.
        assert_eq!(architecture["blocks"][0]["left"], 1);
        assert_eq!(architecture["blocks"][0]["right"], 2);
        assert_eq!(architecture["blocks"][1]["right"], 0);
        assert_eq!(architecture["global_pool"], "max_mean");
        assert_eq!(architecture["dense"][0], serde_json::json!({"inputs": 6, "outputs": 5, "relu": true}));
        assert_eq!(architecture["dense"][1]["relu"], false);
        Ok(())
    }
}
