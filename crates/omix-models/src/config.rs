//! Serde configs for the architectures, and the shape arithmetic they share.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Model;
use crate::autoencoder::{AutoencoderConfig, ConvAutoencoder, ConvAutoencoderConfig, DenseAutoencoder};
use crate::cnn::SequenceCnn;
use crate::dense::{DenseConfig, DenseNet};
use crate::rnn::{RnnConfig, SequenceRnn};

/// Errors in a model config (found before any weight is allocated), or in copying a model's
/// weights to host memory.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// A layer shrinks the sequence to nothing.
    #[error(
        "model: convolution layer {layer} (width {width}, dilation {dilation}) and its pooling leave no positions from an input of length {length}; shorten the filters, reduce pooling or use padding = \"same\""
    )]
    SequenceTooShort { layer: usize, width: usize, dilation: usize, length: usize },
    /// A numeric setting is out of its range.
    #[error("model: {field} = {value} is invalid: {reason}")]
    InvalidSetting { field: String, value: String, reason: &'static str },
    /// A weight could not be copied from its device to host memory.
    #[error("model: could not read the {tensor} back from the device: {reason}")]
    ReadBack { tensor: String, reason: String },
    /// A model's layers do not fit the input, or use something the host-side description has
    /// no field for.
    #[error("model: {layer} {reason}")]
    HostLayout { layer: String, reason: String },
    /// Settings that cannot work together (a profile model's windows and widths), with the rule.
    #[error("model: {0}")]
    Invalid(String),
    /// A method that does not apply to this kind of model, with the reason.
    #[error("model: {0}")]
    Unsupported(String),
}

/// What the model sees and must produce, taken from the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputShape {
    /// One-hot channels (4 for DNA/RNA, 20 for protein).
    pub channels: usize,
    /// Sequence length after cropping/padding.
    pub length: usize,
    /// Number of logits (1 for binary, classes for multi-class, tasks for multi-label).
    pub outputs: usize,
}

impl std::fmt::Display for InputShape {
    /// `[4 channels × 101 positions] → 1 outputs`, as messages show a shape.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{} channels × {} positions] → {} outputs", self.channels, self.length, self.outputs)
    }
}

/// Convolution padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    /// No padding: the output is `length - dilation*(width-1)` long.
    #[default]
    Valid,
    /// Zero padding that keeps the length.
    Same,
}

/// How the last convolution's output is reduced before the dense layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GlobalPool {
    /// Flatten channels × positions (position-aware, as the primer CNN).
    #[default]
    None,
    /// Maximum over positions per filter (DeepBind-style).
    Max,
    /// Mean over positions per filter.
    Mean,
    /// Both maximum and mean per filter, concatenated (DeepBind's pooling).
    #[serde(rename = "max_mean")]
    MaxMean,
}

impl GlobalPool {
    /// Number of features the reduction leaves from `filters × positions`.
    pub fn features(self, filters: usize, positions: usize) -> usize {
        match self {
            GlobalPool::None => filters * positions,
            GlobalPool::Max | GlobalPool::Mean => filters,
            GlobalPool::MaxMean => 2 * filters,
        }
    }
}

/// One convolution block: Conv1d → (batch-norm) → ReLU → (max-pool) → (dropout).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvLayerConfig {
    /// Number of filters.
    pub filters: usize,
    /// Filter width in positions (nucleotides for the first layer).
    pub width: usize,
    /// Spacing between filter taps.
    #[serde(default = "one")]
    pub dilation: usize,
    /// Max-pool size and stride after the activation (1 = none).
    #[serde(default = "one")]
    pub pool: usize,
    /// Batch normalisation before the activation.
    #[serde(default)]
    pub batch_norm: bool,
    /// Dropout probability after pooling.
    #[serde(default)]
    pub dropout: f64,
    /// Padding of the convolution.
    #[serde(default)]
    pub padding: Padding,
}

fn one() -> usize {
    1
}

/// The `[model]` table: which architecture, and its hyper-parameters.
///
/// The named CNNs and `danq` use their papers' hyper-parameters; the input length and the number
/// of outputs come from the data. `padding = "same"` adapts the named CNNs to inputs shorter
/// than the ones they were published for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields, from = "ModelTable")]
#[derive(Default)]
pub enum ModelConfig {
    /// The CNN of Zou et al. 2019 ("A primer on deep learning in genomics", Nat Genet 51:12):
    /// Conv1d 32×12 → ReLU → MaxPool 4 → Dense 16 → ReLU → output.
    #[default]
    Primer,
    /// A configurable CNN: convolution blocks, optional global pooling, dense layers.
    Cnn {
        /// Convolution blocks, first to last.
        conv: Vec<ConvLayerConfig>,
        /// Reduction of the last block's output before the dense layers.
        #[serde(default)]
        global_pool: GlobalPool,
        /// Hidden dense layer sizes (ReLU), before the output layer.
        #[serde(default)]
        dense: Vec<usize>,
        /// Dropout probability after each hidden dense layer.
        #[serde(default)]
        dense_dropout: f64,
    },
    /// DeepBind (Alipanahi et al. 2015, Nat Biotechnol 33:831): 16 motif detectors × 24 nt,
    /// ReLU, global max pooling, 32 hidden units with dropout 0.5 (the ChIP-seq setting).
    Deepbind {
        /// Convolution padding (DeepBind pads so that motifs may overhang the ends: "same").
        #[serde(default = "same_padding")]
        padding: Padding,
    },
    /// DeepSEA (Zhou & Troyanskaya 2015, Nat Methods 12:931): Conv 320×8 → pool 4 → Conv 480×8
    /// → pool 4 → Conv 960×8, dropout 0.2/0.2/0.5, Dense 925, one sigmoid per task; 1,000-bp input.
    Deepsea {
        /// Convolution padding (published: valid).
        #[serde(default)]
        padding: Padding,
    },
    /// Basset (Kelley et al. 2016, Genome Res 26:990): Conv 300×19 → pool 3 → Conv 200×11 →
    /// pool 4 → Conv 200×7 → pool 4, batch-norm, two dense layers of 1,000 with dropout 0.3;
    /// 600-bp input.
    Basset {
        /// Convolution padding (published: valid; "same" fits inputs shorter than ~150 bp).
        #[serde(default)]
        padding: Padding,
    },
    /// The DNA module of DeepCpG (Angermueller et al. 2017, Genome Biol 18:67): Conv 128×11 →
    /// pool 4 → Conv 256×3 → pool 2 → Dense 128; 1,001-bp input.
    #[serde(rename = "deepcpg_dna")]
    DeepcpgDna {
        /// Convolution padding (published: valid).
        #[serde(default)]
        padding: Padding,
    },
    /// A recurrent network (LSTM or GRU, optionally bidirectional, stacked, over one-hot
    /// sequences or over a convolutional front end).
    Rnn(RnnConfig),
    /// DanQ (Quang & Xie 2016, Nucleic Acids Res 44:e107): Conv 320×26 → pool 13 → BiLSTM 320
    /// → Dense 925.
    Danq,
    /// A dense network on feature vectors (k-mer or PWM features, matrix rows).
    Dense(DenseConfig),
    /// A dense autoencoder (unsupervised) on feature vectors.
    Autoencoder(AutoencoderConfig),
    /// A convolutional autoencoder (unsupervised) on one-hot sequences.
    #[serde(rename = "conv_autoencoder")]
    ConvAutoencoder(ConvAutoencoderConfig),
}

fn same_padding() -> Padding {
    Padding::Same
}

/// The `[model]` table as read. Serde's internally tagged enums ignore every other key of a
/// unit variant (`deny_unknown_fields` does not reach them), so `kind = "primer"` with
/// `filters = 64` would train the primer and silently drop the setting; here the variants
/// without settings are empty structs, which refuse any key.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum ModelTable {
    Primer {},
    Cnn {
        conv: Vec<ConvLayerConfig>,
        #[serde(default)]
        global_pool: GlobalPool,
        #[serde(default)]
        dense: Vec<usize>,
        #[serde(default)]
        dense_dropout: f64,
    },
    Deepbind {
        #[serde(default = "same_padding")]
        padding: Padding,
    },
    Deepsea {
        #[serde(default)]
        padding: Padding,
    },
    Basset {
        #[serde(default)]
        padding: Padding,
    },
    #[serde(rename = "deepcpg_dna")]
    DeepcpgDna {
        #[serde(default)]
        padding: Padding,
    },
    Rnn(RnnConfig),
    Danq {},
    Dense(DenseConfig),
    Autoencoder(AutoencoderConfig),
    #[serde(rename = "conv_autoencoder")]
    ConvAutoencoder(ConvAutoencoderConfig),
}

impl From<ModelTable> for ModelConfig {
    fn from(table: ModelTable) -> Self {
        match table {
            ModelTable::Primer {} => ModelConfig::Primer,
            ModelTable::Cnn { conv, global_pool, dense, dense_dropout } => {
                ModelConfig::Cnn { conv, global_pool, dense, dense_dropout }
            }
            ModelTable::Deepbind { padding } => ModelConfig::Deepbind { padding },
            ModelTable::Deepsea { padding } => ModelConfig::Deepsea { padding },
            ModelTable::Basset { padding } => ModelConfig::Basset { padding },
            ModelTable::DeepcpgDna { padding } => ModelConfig::DeepcpgDna { padding },
            ModelTable::Rnn(config) => ModelConfig::Rnn(config),
            ModelTable::Danq {} => ModelConfig::Danq,
            ModelTable::Dense(config) => ModelConfig::Dense(config),
            ModelTable::Autoencoder(config) => ModelConfig::Autoencoder(config),
            ModelTable::ConvAutoencoder(config) => ModelConfig::ConvAutoencoder(config),
        }
    }
}

/// What a model config resolves to: one of the model families.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Family {
    Cnn(CnnSpec),
    Rnn(RnnConfig),
    Dense(DenseConfig),
    Autoencoder(AutoencoderConfig),
    ConvAutoencoder(ConvAutoencoderConfig),
}

/// The fully specified CNN that both `primer` and `cnn` configs resolve to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CnnSpec {
    pub conv: Vec<ConvLayerConfig>,
    pub global_pool: GlobalPool,
    pub dense: Vec<usize>,
    pub dense_dropout: f64,
}

impl ModelConfig {
    /// The primer CNN preset.
    pub fn primer() -> Self {
        Self::Primer
    }

    /// Short name of the architecture, as written in configs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Primer => "primer",
            Self::Cnn { .. } => "cnn",
            Self::Deepbind { .. } => "deepbind",
            Self::Deepsea { .. } => "deepsea",
            Self::Basset { .. } => "basset",
            Self::DeepcpgDna { .. } => "deepcpg_dna",
            Self::Rnn(_) => "rnn",
            Self::Danq => "danq",
            Self::Dense(_) => "dense",
            Self::Autoencoder(_) => "autoencoder",
            Self::ConvAutoencoder(_) => "conv_autoencoder",
        }
    }

    /// Whether the model reads one-hot sequences (`[channels, length]`) rather than feature vectors.
    pub fn reads_sequences(&self) -> bool {
        !matches!(self, Self::Dense(_) | Self::Autoencoder(_))
    }

    /// Whether the model is unsupervised (reconstructs its input).
    pub fn is_autoencoder(&self) -> bool {
        matches!(self, Self::Autoencoder(_) | Self::ConvAutoencoder(_))
    }

    pub(crate) fn family(&self) -> Family {
        let conv = |filters, width, pool, dropout, batch_norm, padding| ConvLayerConfig {
            filters,
            width,
            dilation: 1,
            pool,
            batch_norm,
            dropout,
            padding,
        };
        let cnn =
            |conv, global_pool, dense, dense_dropout| Family::Cnn(CnnSpec { conv, global_pool, dense, dense_dropout });
        match self {
            Self::Primer | Self::Cnn { .. } => Family::Cnn(self.cnn_spec()),
            Self::Deepbind { padding } => {
                cnn(vec![conv(16, 24, 1, 0.0, false, *padding)], GlobalPool::Max, vec![32], 0.5)
            }
            Self::Deepsea { padding } => cnn(
                vec![
                    conv(320, 8, 4, 0.2, false, *padding),
                    conv(480, 8, 4, 0.2, false, *padding),
                    conv(960, 8, 1, 0.5, false, *padding),
                ],
                GlobalPool::None,
                vec![925],
                0.0,
            ),
            Self::Basset { padding } => cnn(
                vec![
                    conv(300, 19, 3, 0.0, true, *padding),
                    conv(200, 11, 4, 0.0, true, *padding),
                    conv(200, 7, 4, 0.0, true, *padding),
                ],
                GlobalPool::None,
                vec![1000, 1000],
                0.3,
            ),
            Self::DeepcpgDna { padding } => cnn(
                vec![conv(128, 11, 4, 0.0, false, *padding), conv(256, 3, 2, 0.0, false, *padding)],
                GlobalPool::None,
                vec![128],
                0.0,
            ),
            Self::Rnn(config) => Family::Rnn(config.clone()),
            Self::Danq => Family::Rnn(RnnConfig::danq()),
            Self::Dense(config) => Family::Dense(config.clone()),
            Self::Autoencoder(config) => Family::Autoencoder(config.clone()),
            Self::ConvAutoencoder(config) => Family::ConvAutoencoder(config.clone()),
        }
    }

    pub(crate) fn cnn_spec(&self) -> CnnSpec {
        match self {
            Self::Primer => CnnSpec {
                conv: vec![ConvLayerConfig {
                    filters: 32,
                    width: 12,
                    dilation: 1,
                    pool: 4,
                    batch_norm: false,
                    dropout: 0.0,
                    padding: Padding::Valid,
                }],
                global_pool: GlobalPool::None,
                dense: vec![16],
                dense_dropout: 0.0,
            },
            Self::Cnn { conv, global_pool, dense, dense_dropout } => CnnSpec {
                conv: conv.clone(),
                global_pool: *global_pool,
                dense: dense.clone(),
                dense_dropout: *dense_dropout,
            },
            _ => match self.family() {
                Family::Cnn(spec) => spec,
                _ => CnnSpec { conv: Vec::new(), global_pool: GlobalPool::None, dense: Vec::new(), dense_dropout: 0.0 },
            },
        }
    }

    /// Validate the config against an input shape, one error per broken rule.
    pub fn check(&self, input: InputShape) -> Result<(), ModelError> {
        match self.family() {
            Family::Cnn(spec) => spec.output_features(input).map(|_| ()),
            Family::Rnn(config) => config.check(input),
            Family::Dense(config) => config.check(input),
            Family::Autoencoder(config) => config.check(input),
            Family::ConvAutoencoder(config) => config.check(input),
        }
    }

    /// Width of the first-layer filters, in positions (nucleotides).
    pub fn first_layer_width(&self) -> Option<usize> {
        match self.family() {
            Family::Cnn(spec) => spec.conv.first().map(|layer| layer.dilation * (layer.width - 1) + 1),
            Family::Rnn(config) => config.first_layer_width(),
            Family::ConvAutoencoder(config) => Some(config.width),
            Family::Dense(_) | Family::Autoencoder(_) => None,
        }
    }

    /// Number of weight layers (convolutions + recurrent + dense + output).
    pub fn depth(&self) -> usize {
        match self.family() {
            Family::Cnn(spec) => spec.conv.len() + spec.dense.len() + 1,
            Family::Rnn(config) => config.depth(),
            Family::Dense(config) => config.hidden.len() + 1,
            Family::Autoencoder(config) => 2 * config.hidden.len() + 2,
            Family::ConvAutoencoder(config) => config.filters.len() + 2 * config.hidden.len() + 2,
        }
    }

    /// Number of trainable parameters for an input shape, computed without allocating.
    pub fn parameter_count(&self, input: InputShape) -> Result<usize, ModelError> {
        let spec = match self.family() {
            Family::Cnn(spec) => spec,
            Family::Rnn(config) => return config.parameter_count(input),
            Family::Dense(config) => return config.parameter_count(input),
            Family::Autoencoder(config) => return config.parameter_count(input),
            Family::ConvAutoencoder(config) => return config.parameter_count(input),
        };
        let mut count = 0;
        let mut channels = input.channels;
        for layer in &spec.conv {
            count += layer.filters * channels * layer.width + layer.filters;
            if layer.batch_norm {
                count += 2 * layer.filters;
            }
            channels = layer.filters;
        }
        let mut features = spec.output_features(input)?;
        for &units in &spec.dense {
            count += features * units + units;
            features = units;
        }
        count += features * input.outputs + input.outputs;
        Ok(count)
    }

    /// Allocate the model on a device (seed the device first for reproducible weights).
    pub fn init(&self, input: InputShape, device: &Device) -> Result<Model, ModelError> {
        Ok(match self.family() {
            Family::Cnn(spec) => Model::Cnn(SequenceCnn::new(&spec, input, device)?),
            Family::Rnn(config) => Model::Rnn(SequenceRnn::new(&config, input, device)?),
            Family::Dense(config) => Model::Dense(DenseNet::new(&config, input, device)?),
            Family::Autoencoder(config) => Model::Autoencoder(DenseAutoencoder::new(&config, input, device)?),
            Family::ConvAutoencoder(config) => Model::ConvAutoencoder(ConvAutoencoder::new(&config, input, device)?),
        })
    }
}

impl CnnSpec {
    /// Length after each convolution block, or the error for the first that empties it.
    pub fn lengths(&self, input: InputShape) -> Result<Vec<usize>, ModelError> {
        conv_lengths(&self.conv, input.length)
    }

    /// Number of features entering the first dense layer.
    pub fn output_features(&self, input: InputShape) -> Result<usize, ModelError> {
        if input.channels == 0 || input.length == 0 || input.outputs == 0 {
            return Err(ModelError::InvalidSetting {
                field: "input".into(),
                value: input.to_string(),
                reason: "channels, length and outputs must be positive",
            });
        }
        check_probability("dense_dropout", self.dense_dropout)?;
        check_units("dense", &self.dense)?;
        let lengths = self.lengths(input)?;
        let (channels, length) = match (self.conv.last(), lengths.last()) {
            (Some(layer), Some(&length)) => (layer.filters, length),
            _ => (input.channels, input.length),
        };
        Ok(self.global_pool.features(channels, length))
    }
}

/// Length after each convolution block of `conv` from an input of `length` positions (each
/// block checked), or the error for the first block that empties the sequence.
pub(crate) fn conv_lengths(conv: &[ConvLayerConfig], length: usize) -> Result<Vec<usize>, ModelError> {
    let input_length = length;
    let mut length = length;
    let mut lengths = Vec::with_capacity(conv.len());
    for (index, layer) in conv.iter().enumerate() {
        check_layer(index + 1, layer)?;
        let span = layer.dilation * (layer.width - 1) + 1;
        let too_short = ModelError::SequenceTooShort {
            layer: index + 1,
            width: layer.width,
            dilation: layer.dilation,
            length: input_length,
        };
        if layer.padding == Padding::Valid {
            if length < span {
                return Err(too_short);
            }
            length = length - span + 1;
        }
        length /= layer.pool;
        if length == 0 {
            return Err(too_short);
        }
        lengths.push(length);
    }
    Ok(lengths)
}

fn check_layer(index: usize, layer: &ConvLayerConfig) -> Result<(), ModelError> {
    let invalid = |field: &str, value: String, reason| ModelError::InvalidSetting {
        field: format!("conv[{index}].{field}"),
        value,
        reason,
    };
    if layer.filters == 0 {
        return Err(invalid("filters", "0".into(), "at least one filter is required"));
    }
    if layer.width == 0 {
        return Err(invalid("width", "0".into(), "a filter must be at least 1 wide"));
    }
    if layer.dilation == 0 {
        return Err(invalid("dilation", "0".into(), "dilation starts at 1"));
    }
    if layer.pool == 0 {
        return Err(invalid("pool", "0".into(), "use 1 for no pooling"));
    }
    if !(0.0..1.0).contains(&layer.dropout) {
        return Err(invalid("dropout", layer.dropout.to_string(), "a probability in [0, 1) is required"));
    }
    Ok(())
}

/// A dropout or noise setting must be a probability in [0, 1).
pub(crate) fn check_probability(field: &str, value: f64) -> Result<(), ModelError> {
    if (0.0..1.0).contains(&value) {
        return Ok(());
    }
    Err(ModelError::InvalidSetting {
        field: field.into(),
        value: value.to_string(),
        reason: "a probability in [0, 1) is required",
    })
}

/// Every layer in `units` (the `field` list) needs at least one unit.
pub(crate) fn check_units(field: &str, units: &[usize]) -> Result<(), ModelError> {
    match units.iter().position(|&n| n == 0) {
        None => Ok(()),
        Some(position) => Err(ModelError::InvalidSetting {
            field: format!("{field}[{position}]"),
            value: "0".into(),
            reason: "a layer needs at least one unit",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIMER_INPUT: InputShape = InputShape { channels: 4, length: 50, outputs: 1 };

    #[test]
    fn primer_parameter_count_matches_the_paper_layout() -> Result<(), ModelError> {
        // conv 32*4*12+32 = 1568; after valid conv 39, pool 4 -> 9; dense 288*16+16 = 4624; out 17.
        assert_eq!(ModelConfig::primer().parameter_count(PRIMER_INPUT)?, 1568 + 4624 + 17);
        Ok(())
    }

    #[test]
    fn too_short_input_is_an_error() {
        let input = InputShape { channels: 4, length: 10, outputs: 1 };
        assert!(matches!(ModelConfig::primer().check(input), Err(ModelError::SequenceTooShort { layer: 1, .. })));
    }

    #[test]
    fn zero_filters_is_an_error() {
        let config = ModelConfig::Cnn {
            conv: vec![ConvLayerConfig {
                filters: 0,
                width: 8,
                dilation: 1,
                pool: 1,
                batch_norm: false,
                dropout: 0.0,
                padding: Padding::Same,
            }],
            global_pool: GlobalPool::Max,
            dense: vec![],
            dense_dropout: 0.0,
        };
        assert!(matches!(config.check(PRIMER_INPUT), Err(ModelError::InvalidSetting { .. })));
    }

    #[test]
    fn settings_under_models_without_settings_are_refused() -> Result<(), Box<dyn std::error::Error>> {
        for kind in ["primer", "danq"] {
            let plain: ModelConfig = toml::from_str(&format!("kind = \"{kind}\""))?;
            assert_eq!(plain.name(), kind);
            let Err(error) = toml::from_str::<ModelConfig>(&format!("kind = \"{kind}\"\nfilters = 64")) else {
                return Err(format!("{kind} with filters = 64 was accepted").into());
            };
            assert!(error.to_string().contains("unknown field `filters`"), "{error}");
        }
        let Err(error) = toml::from_str::<ModelConfig>("kind = \"deepbind\"\npading = \"same\"") else {
            return Err("a misspelt deepbind setting was accepted".into());
        };
        assert!(error.to_string().contains("unknown field `pading`"), "{error}");
        Ok(())
    }

    #[test]
    fn config_round_trips_through_toml() -> Result<(), Box<dyn std::error::Error>> {
        let text = r#"
            kind = "cnn"
            global_pool = "max"
            dense = [32]
            [[conv]]
            filters = 16
            width = 8
            batch_norm = true
        "#;
        let config: ModelConfig = toml::from_str(text)?;
        assert_eq!(config.first_layer_width(), Some(8));
        assert_eq!(config.depth(), 3);
        let back: ModelConfig = toml::from_str(&toml::to_string(&config)?)?;
        assert_eq!(back, config);
        Ok(())
    }

    /// burn counts batch-norm running statistics as parameters: 2 per filter.
    fn running_statistics(config: &ModelConfig) -> usize {
        match config.family() {
            Family::Cnn(spec) => spec.conv.iter().filter(|layer| layer.batch_norm).map(|layer| 2 * layer.filters).sum(),
            _ => 0,
        }
    }

    #[test]
    fn an_empty_input_is_described_not_debug_printed() -> Result<(), String> {
        let empty = InputShape { channels: 4, length: 0, outputs: 1 };
        let error = ModelConfig::default().check(empty).err().ok_or("an empty input must be refused")?;
        let text = error.to_string();
        assert!(text.contains("[4 channels × 0 positions] → 1 outputs") && !text.contains("InputShape"), "{text}");
        Ok(())
    }

    #[test]
    fn named_cnns_take_their_published_inputs() -> Result<(), ModelError> {
        use burn::module::Module;
        let (device, _lock) = crate::test_device();
        // (model, published input length, outputs, trainable parameters worked out by hand)
        let cases = [
            // DeepSEA, 919 chromatin profiles on 1,000 bp: conv 10,560 + 1,229,280 + 3,687,360,
            // 960 × 53 positions into dense 925 (47,064,925), output 850,994.
            (ModelConfig::Deepsea { padding: Padding::Valid }, 1000, 919, 52_843_119),
            // Basset, 164 cell types on 600 bp: conv 23,100 + 660,200 + 280,200, batch-norm 1,400,
            // 200 × 10 positions into dense 1,000 (2,001,000) and 1,000 (1,001,000), output 164,164.
            (ModelConfig::Basset { padding: Padding::Valid }, 600, 164, 4_131_064),
            // DeepCpG's DNA module on 1,001 bp: conv 5,760 + 98,560, 256 × 122 positions into
            // dense 128 (3,997,824), output 129.
            (ModelConfig::DeepcpgDna { padding: Padding::Valid }, 1001, 1, 4_102_273),
            // DeepBind on 101-bp peaks: conv 1,552, dense 544, output 33.
            (ModelConfig::Deepbind { padding: Padding::Same }, 101, 1, 2_129),
        ];
        for (config, length, outputs, parameters) in cases {
            let input = InputShape { channels: 4, length, outputs };
            let model = config.init(input, &device)?;
            assert_eq!(model.forward(Tensor::zeros([2, 4, length], &device)).dims(), [2, outputs], "{}", config.name());
            let counted = config.parameter_count(input)?;
            assert_eq!(model.num_params(), counted + running_statistics(&config), "{}", config.name());
            assert_eq!(counted, parameters, "{}", config.name());
        }
        Ok(())
    }

    #[test]
    fn named_cnns_refuse_inputs_too_short_unless_padded() -> Result<(), ModelError> {
        let short = InputShape { channels: 4, length: 101, outputs: 1 };
        assert!(matches!(
            ModelConfig::Basset { padding: Padding::Valid }.check(short),
            Err(ModelError::SequenceTooShort { .. })
        ));
        ModelConfig::Basset { padding: Padding::Same }.check(short)?;
        let toml = "kind = \"basset\"\npadding = \"same\"";
        let parsed: ModelConfig = toml::from_str(toml).map_err(|e| ModelError::InvalidSetting {
            field: "toml".into(),
            value: e.to_string(),
            reason: "parse",
        })?;
        assert_eq!(parsed, ModelConfig::Basset { padding: Padding::Same });
        Ok(())
    }
}
