//! The recurrent family: an optional convolution front end, stacked (bidirectional) LSTM or GRU
//! layers, a readout over positions, dense layers.
//!
//! - LSTM: Hochreiter & Schmidhuber 1997, "Long short-term memory", Neural Comput 9:1735.
//! - GRU: Cho et al. 2014, "Learning phrase representations using RNN encoder–decoder for
//!   statistical machine translation", EMNLP 2014 (arXiv:1406.1078).
//! - DanQ ([`RnnConfig::danq`]): Quang & Xie 2016, "DanQ: a hybrid convolutional and recurrent
//!   deep neural network for quantifying the function of DNA sequences", Nucleic Acids Res 44:e107.

use burn::nn::{
    BiGru, BiGruConfig, BiLstm, BiLstmConfig, Dropout, DropoutConfig, Gru, GruConfig, Linear, LinearConfig, Lstm,
    LstmConfig,
};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::cnn::ConvBlock;
use crate::config::{ConvLayerConfig, InputShape, ModelError, Padding, conv_lengths};

/// The recurrent cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cell {
    /// Long short-term memory (Hochreiter & Schmidhuber 1997): input, forget, output and cell
    /// gates; 4 × (inputs·hidden + hidden² + 2·hidden) parameters per direction (burn keeps an
    /// input and a hidden bias per gate, as PyTorch does).
    #[default]
    Lstm,
    /// Gated recurrent unit (Cho et al. 2014): update, reset and new gates, reset applied after
    /// the hidden product (PyTorch's variant); 3 × (inputs·hidden + hidden² + 2·hidden) parameters
    /// per direction.
    Gru,
}

/// How the recurrent output `[batch, steps, directions × hidden]` becomes one vector per sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Readout {
    /// The final hidden state(s): the forward direction's last step, concatenated (when
    /// bidirectional) with the backward direction's first step, which is where it ends.
    Last,
    /// Maximum over steps per feature. The default: position-invariant like a CNN's global max
    /// pool, and gradients reach every step instead of only through the recurrence.
    #[default]
    Max,
    /// Mean over steps per feature.
    Mean,
    /// All steps × features, position-aware (DanQ's flatten); needs the configured length.
    Flatten,
}

/// The body of a `[model] kind = "rnn"` table.
///
/// ```toml
/// [model]
/// kind = "rnn"
/// cell = "gru"          # "lstm" (default) or "gru"
/// hidden = 32
/// readout = "last"      # "max" (default), "mean", "last" or "flatten"
/// [[model.conv]]        # optional convolution front end, as in the CNN family
/// filters = 64
/// width = 12
/// pool = 4
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RnnConfig {
    /// Convolution blocks before the recurrent layers, first to last (none by default): Conv1d →
    /// (batch-norm) → ReLU → (max-pool) → dropout, the CNN family's blocks.
    #[serde(default)]
    pub conv: Vec<ConvLayerConfig>,
    /// The recurrent cell.
    #[serde(default)]
    pub cell: Cell,
    /// Hidden units per direction.
    #[serde(default = "default_hidden")]
    pub hidden: usize,
    /// Number of stacked recurrent layers.
    #[serde(default = "default_layers")]
    pub layers: usize,
    /// Run a second recurrent layer over the reversed sequence and concatenate the two.
    #[serde(default = "default_bidirectional")]
    pub bidirectional: bool,
    /// Dropout probability after each recurrent layer (between layers and before the readout).
    #[serde(default)]
    pub dropout: f64,
    /// Reduction of the recurrent output over positions.
    #[serde(default)]
    pub readout: Readout,
    /// Hidden dense layer sizes (ReLU), before the output layer.
    #[serde(default)]
    pub dense: Vec<usize>,
    /// Dropout probability after each hidden dense layer.
    #[serde(default)]
    pub dense_dropout: f64,
}

fn default_hidden() -> usize {
    64
}

fn default_layers() -> usize {
    1
}

fn default_bidirectional() -> bool {
    true
}

impl Default for RnnConfig {
    /// The settings an empty `kind = "rnn"` table resolves to: one bidirectional LSTM layer of 64
    /// units per direction over the one-hot input, max readout.
    fn default() -> Self {
        Self {
            conv: Vec::new(),
            cell: Cell::default(),
            hidden: default_hidden(),
            layers: default_layers(),
            bidirectional: default_bidirectional(),
            dropout: 0.0,
            readout: Readout::default(),
            dense: Vec::new(),
            dense_dropout: 0.0,
        }
    }
}

/// Shapes between the stages, computed from a config without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shapes {
    /// Features per step entering the first recurrent layer.
    rnn_input: usize,
    /// Steps the recurrent layers run over.
    steps: usize,
    /// Features leaving the readout.
    readout: usize,
}

impl RnnConfig {
    /// DanQ (Quang & Xie 2016, Nucleic Acids Res 44:e107): Conv1d 320 × 26 → ReLU → MaxPool 13
    /// (stride 13) → Dropout 0.2 → BiLSTM 320 units per direction → Dropout 0.5 → Flatten →
    /// Dense 925 → ReLU → output. On its 1000-bp inputs the LSTM runs over (1000 − 26 + 1) / 13 =
    /// 75 steps.
    pub fn danq() -> Self {
        Self {
            conv: vec![ConvLayerConfig {
                filters: 320,
                width: 26,
                dilation: 1,
                pool: 13,
                batch_norm: false,
                dropout: 0.2,
                padding: Padding::Valid,
            }],
            cell: Cell::Lstm,
            hidden: 320,
            layers: 1,
            bidirectional: true,
            dropout: 0.5,
            readout: Readout::Flatten,
            dense: vec![925],
            dense_dropout: 0.0,
        }
    }

    fn directions(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }

    /// Validate the config against an input shape, one error per broken rule.
    pub fn check(&self, input: InputShape) -> Result<(), ModelError> {
        self.shapes(input).map(|_| ())
    }

    /// Number of steps the recurrent layers run over (the length left by the front end).
    pub fn recurrent_steps(&self, input: InputShape) -> Result<usize, ModelError> {
        self.shapes(input).map(|shapes| shapes.steps)
    }

    /// Width of the first-layer filters, in positions (nucleotides), when there is a front end.
    pub fn first_layer_width(&self) -> Option<usize> {
        self.conv.first().map(|layer| layer.dilation * layer.width.saturating_sub(1) + 1)
    }

    /// Number of weight layers (convolutions + recurrent layers + dense + output).
    pub fn depth(&self) -> usize {
        self.conv.len() + self.layers + self.dense.len() + 1
    }

    /// Number of trainable parameters for an input shape, computed without allocating.
    ///
    /// Equal to burn's `num_params` of the allocated [`SequenceRnn`], except that burn also counts
    /// each batch-norm layer's running mean and variance (2 per filter), which are not trained.
    pub fn parameter_count(&self, input: InputShape) -> Result<usize, ModelError> {
        let shapes = self.shapes(input)?;
        let mut count = 0;
        let mut channels = input.channels;
        for layer in &self.conv {
            count += layer.filters * channels * layer.width + layer.filters;
            if layer.batch_norm {
                count += 2 * layer.filters;
            }
            channels = layer.filters;
        }
        let gates = match self.cell {
            Cell::Lstm => 4,
            Cell::Gru => 3,
        };
        let hidden = self.hidden;
        let mut features = shapes.rnn_input;
        for _ in 0..self.layers {
            // Per gate: an input and a hidden linear map, each with a bias.
            count += self.directions() * gates * (features * hidden + hidden * hidden + 2 * hidden);
            features = self.directions() * hidden;
        }
        let mut features = shapes.readout;
        for &units in &self.dense {
            count += features * units + units;
            features = units;
        }
        count += features * input.outputs + input.outputs;
        Ok(count)
    }

    fn shapes(&self, input: InputShape) -> Result<Shapes, ModelError> {
        if input.channels == 0 || input.length == 0 || input.outputs == 0 {
            return Err(ModelError::InvalidSetting {
                field: "input".into(),
                value: input.to_string(),
                reason: "channels, length and outputs must be positive",
            });
        }
        if self.hidden == 0 {
            return Err(ModelError::InvalidSetting {
                field: "hidden".into(),
                value: "0".into(),
                reason: "a recurrent layer needs at least one hidden unit",
            });
        }
        if self.layers == 0 {
            return Err(ModelError::InvalidSetting {
                field: "layers".into(),
                value: "0".into(),
                reason: "at least one recurrent layer is required",
            });
        }
        crate::config::check_probability("dropout", self.dropout)?;
        crate::config::check_probability("dense_dropout", self.dense_dropout)?;
        crate::config::check_units("dense", &self.dense)?;
        let length = conv_lengths(&self.conv, input.length)?.last().copied().unwrap_or(input.length);
        let channels = self.conv.last().map_or(input.channels, |layer| layer.filters);
        let features = self.directions() * self.hidden;
        let readout = match self.readout {
            Readout::Last | Readout::Max | Readout::Mean => features,
            Readout::Flatten => features * length,
        };
        Ok(Shapes { rnn_input: channels, steps: length, readout })
    }
}

/// One recurrent layer, batch-first.
#[derive(Module, Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one value per recurrent layer, built once; burn implements Module for no Box to shrink it"
)]
pub(crate) enum Recurrent {
    Lstm(Lstm),
    BiLstm(BiLstm),
    Gru(Gru),
    BiGru(BiGru),
}

impl Recurrent {
    fn new(cell: Cell, bidirectional: bool, inputs: usize, hidden: usize, device: &Device) -> Self {
        match (cell, bidirectional) {
            (Cell::Lstm, false) => Self::Lstm(LstmConfig::new(inputs, hidden, true).init(device)),
            (Cell::Lstm, true) => Self::BiLstm(BiLstmConfig::new(inputs, hidden, true).init(device)),
            (Cell::Gru, false) => Self::Gru(GruConfig::new(inputs, hidden, true).init(device)),
            (Cell::Gru, true) => Self::BiGru(BiGruConfig::new(inputs, hidden, true).init(device)),
        }
    }

    /// Hidden states at every step, from zero initial states. The backward direction's state at
    /// step `t` has seen steps `t..` and sits at `t`, after the forward direction's.
    ///
    /// # Shapes
    /// - input: `[batch, steps, inputs]`
    /// - output: `[batch, steps, directions × hidden]`
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        match self {
            Self::Lstm(layer) => layer.forward(x, None).0,
            Self::BiLstm(layer) => layer.forward(x, None).0,
            Self::Gru(layer) => layer.forward(x, None),
            Self::BiGru(layer) => layer.forward(x, None).0,
        }
    }
}

/// A recurrent network over one-hot sequences; every `rnn` config (DanQ included) builds one.
#[derive(Module, Debug)]
pub struct SequenceRnn {
    pub(crate) front: Vec<ConvBlock>,
    pub(crate) recurrent: Vec<Recurrent>,
    pub(crate) dropout: Dropout,
    pub(crate) dense: Vec<Linear>,
    pub(crate) dense_dropout: Dropout,
    pub(crate) output: Linear,
    pub(crate) bidirectional: bool,
    #[module(skip)]
    pub(crate) readout: Readout,
}

impl SequenceRnn {
    /// Allocate the model for an input shape (seed the device first for reproducible weights).
    pub fn new(config: &RnnConfig, input: InputShape, device: &Device) -> Result<Self, ModelError> {
        let shapes = config.shapes(input)?;
        let mut channels = input.channels;
        let mut front = Vec::with_capacity(config.conv.len());
        for layer in &config.conv {
            front.push(ConvBlock::new(channels, layer, device));
            channels = layer.filters;
        }
        let mut recurrent = Vec::with_capacity(config.layers);
        for _ in 0..config.layers {
            recurrent.push(Recurrent::new(config.cell, config.bidirectional, channels, config.hidden, device));
            channels = config.directions() * config.hidden;
        }
        let mut features = shapes.readout;
        let mut dense = Vec::with_capacity(config.dense.len());
        for &units in &config.dense {
            dense.push(LinearConfig::new(features, units).init(device));
            features = units;
        }
        Ok(Self {
            front,
            recurrent,
            dropout: DropoutConfig::new(config.dropout).init(),
            dense,
            dense_dropout: DropoutConfig::new(config.dense_dropout).init(),
            output: LinearConfig::new(features, input.outputs).init(device),
            bidirectional: config.bidirectional,
            readout: config.readout,
        })
    }

    /// Logits for a one-hot batch.
    ///
    /// # Shapes
    /// - input: `[batch, channels, length]`
    /// - output: `[batch, outputs]`
    pub fn forward(&self, input: Tensor<3>) -> Tensor<2> {
        let mut x = self.features(input); // [B, readout features]
        for layer in &self.dense {
            x = self.dense_dropout.forward(relu(layer.forward(x))); // [B, units]
        }
        self.output.forward(x) // [B, outputs]
    }

    /// The readout vector entering the dense layers.
    ///
    /// # Shapes
    /// - input: `[batch, channels, length]`
    /// - output: `[batch, directions × hidden]` (`[batch, steps × directions × hidden]` for flatten)
    fn features(&self, input: Tensor<3>) -> Tensor<2> {
        let mut x = input; // [B, C, L]
        for block in &self.front {
            x = block.forward(x); // [B, F_i, L_i]
        }
        // burn's recurrent layers are batch-first over steps: [batch, steps, features].
        let mut x = x.swap_dims(1, 2); // [B, S, F]
        for layer in &self.recurrent {
            x = self.dropout.forward(layer.forward(x)); // [B, S, D * H]
        }
        let [_, steps, features] = x.dims();
        match self.readout {
            Readout::Last if self.bidirectional => {
                let hidden = features / 2;
                let forward = x.clone().narrow(1, steps - 1, 1).narrow(2, 0, hidden); // [B, 1, H]
                let backward = x.narrow(1, 0, 1).narrow(2, hidden, hidden); // [B, 1, H]
                Tensor::cat(vec![forward, backward], 2).squeeze_dim(1) // [B, 2H]
            }
            Readout::Last => x.narrow(1, steps - 1, 1).squeeze_dim(1), // [B, H]
            Readout::Max => x.max_dim(1).squeeze_dim(1),               // [B, D * H]
            Readout::Mean => x.mean_dim(1).squeeze_dim(1),             // [B, D * H]
            Readout::Flatten => x.flatten(1, 2),                       // [B, S * D * H]
        }
    }

    /// The first convolution's weights `[filters, channels, width]`, when there is a front end.
    pub fn first_layer_filters(&self) -> Option<Tensor<3>> {
        self.front.first().map(|block| block.conv().weight.val())
    }

    /// The convolutional front end (empty for a plain RNN).
    pub(crate) fn front_blocks(&self) -> &[ConvBlock] {
        &self.front
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
    use burn::tensor::TensorData;

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const CHANNELS: usize = 4;

    /// xorshift64*: a deterministic stream for the test data.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Random one-hot DNA `[batch, 4, length]`, row-major.
    fn one_hot(state: &mut u64, batch: usize, length: usize) -> Vec<f32> {
        let mut values = vec![0.0; batch * CHANNELS * length];
        for example in 0..batch {
            for position in 0..length {
                let base = (next(state) % CHANNELS as u64) as usize;
                values[(example * CHANNELS + base) * length + position] = 1.0;
            }
        }
        values
    }

    fn tensor3(values: Vec<f32>, shape: [usize; 3], device: &Device) -> Tensor<3> {
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    fn values(tensor: Tensor<2>) -> Vec<f32> {
        tensor.into_data().try_into_vec::<f32>().expect("an f32 tensor")
    }

    fn max_abs_difference(a: Tensor<2>, b: Tensor<2>) -> f32 {
        values(a).iter().zip(values(b)).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    fn front(filters: usize, width: usize, pool: usize) -> ConvLayerConfig {
        ConvLayerConfig { filters, width, dilation: 1, pool, batch_norm: false, dropout: 0.0, padding: Padding::Valid }
    }

    fn small(cell: Cell, bidirectional: bool, readout: Readout, conv: Vec<ConvLayerConfig>) -> RnnConfig {
        RnnConfig { conv, cell, hidden: 6, bidirectional, readout, dense: vec![5], ..RnnConfig::default() }
    }

    /// Every cell × direction × readout × front end, each with 1 and 2 stacked layers.
    fn variants() -> Vec<RnnConfig> {
        let mut configs = Vec::new();
        for cell in [Cell::Lstm, Cell::Gru] {
            for bidirectional in [false, true] {
                for readout in [Readout::Last, Readout::Max, Readout::Mean, Readout::Flatten] {
                    for conv in [vec![], vec![front(5, 4, 2)]] {
                        for layers in [1, 2] {
                            configs.push(RnnConfig { layers, ..small(cell, bidirectional, readout, conv.clone()) });
                        }
                    }
                }
            }
        }
        configs
    }

    #[test]
    fn every_variant_maps_one_hot_to_logits_and_counts_its_parameters() -> TestResult {
        let (device, _lock) = crate::test_device();
        device.seed(42);
        let input = InputShape { channels: CHANNELS, length: 17, outputs: 3 };
        let mut state = 7;
        let x = tensor3(one_hot(&mut state, 2, 17), [2, CHANNELS, 17], &device);
        for config in variants() {
            let model = SequenceRnn::new(&config, input, &device)?;
            let logits = model.forward(x.clone());
            assert_eq!(logits.dims(), [2, 3], "{config:?}");
            assert!(values(logits).iter().all(|v| v.is_finite()), "{config:?}");
            assert_eq!(model.num_params(), config.parameter_count(input)?, "{config:?}");
            assert_eq!(model.first_layer_filters().map(|w| w.dims()), config.conv.first().map(|_| [5, CHANNELS, 4]));
            assert_eq!(config.first_layer_width(), config.conv.first().map(|_| 4));
            assert_eq!(config.depth(), config.conv.len() + config.layers + 2);
            // 17 - 4 + 1 = 14 positions after the 4-wide filters, pooled by 2.
            let steps = if config.conv.is_empty() { 17 } else { 14 / 2 };
            assert_eq!(config.recurrent_steps(input)?, steps);
        }
        Ok(())
    }

    #[test]
    fn lstm_and_gru_parameter_counts_follow_the_gate_formula() -> TestResult {
        // One direction, 4 inputs, 3 hidden: per gate 4*3 + 3*3 + 2*3 = 27 (two biases, as PyTorch).
        let input = InputShape { channels: 4, length: 10, outputs: 1 };
        let lstm = RnnConfig { hidden: 3, bidirectional: false, ..RnnConfig::default() };
        assert_eq!(lstm.parameter_count(input)?, 4 * 27 + 3 + 1);
        let gru = RnnConfig { cell: Cell::Gru, ..lstm };
        assert_eq!(gru.parameter_count(input)?, 3 * 27 + 3 + 1);
        Ok(())
    }

    #[test]
    fn batch_norm_front_end_counts_like_the_cnn() -> TestResult {
        let (device, _lock) = crate::test_device();
        let mut layer = front(8, 5, 2);
        layer.batch_norm = true;
        layer.padding = Padding::Same;
        layer.dilation = 2;
        let config = RnnConfig { conv: vec![layer], ..small(Cell::Gru, true, Readout::Max, vec![]) };
        let input = InputShape { channels: 20, length: 30, outputs: 2 };
        let model = SequenceRnn::new(&config, input, &device)?;
        assert_eq!(model.forward(Tensor::zeros([3, 20, 30], &device)).dims(), [3, 2]);
        assert_eq!(config.first_layer_width(), Some(9));
        // burn also counts the batch-norm running mean and variance (2 per filter).
        assert_eq!(model.num_params(), config.parameter_count(input)? + 2 * 8);
        Ok(())
    }

    #[test]
    fn danq_on_60_bp_splice_sites() -> TestResult {
        let (device, _lock) = crate::test_device();
        device.seed(42);
        let config = RnnConfig::danq();
        let input = InputShape { channels: CHANNELS, length: 60, outputs: 3 };
        // (60 - 26 + 1) / 13 = 2 steps.
        assert_eq!(config.recurrent_steps(input)?, 2);
        let model = SequenceRnn::new(&config, input, &device)?;
        let mut state = 3;
        let logits = model.forward(tensor3(one_hot(&mut state, 4, 60), [4, CHANNELS, 60], &device));
        assert_eq!(logits.dims(), [4, 3]);
        assert_eq!(model.num_params(), config.parameter_count(input)?);
        assert_eq!(model.first_layer_filters().map(|w| w.dims()), Some([320, 4, 26]));
        assert_eq!((config.first_layer_width(), config.depth()), (Some(26), 4));
        Ok(())
    }

    #[test]
    fn danq_on_1000_bp_runs_over_the_published_75_steps() -> TestResult {
        let (device, _lock) = crate::test_device();
        device.seed(42);
        let config = RnnConfig::danq();
        let input = InputShape { channels: CHANNELS, length: 1000, outputs: 919 };
        assert_eq!(config.recurrent_steps(input)?, (1000 - 26 + 1) / 13);
        assert_eq!(config.recurrent_steps(input)?, 75);
        let conv = 320 * 4 * 26 + 320;
        let bilstm = 2 * 4 * (320 * 320 + 320 * 320 + 2 * 320);
        let dense = 75 * 640 * 925 + 925;
        let output = 925 * 919 + 919;
        assert_eq!(config.parameter_count(input)?, conv + bilstm + dense + output);
        let model = SequenceRnn::new(&config, input, &device)?;
        assert_eq!(model.num_params(), config.parameter_count(input)?);
        let logits = model.forward(Tensor::zeros([1, CHANNELS, 1000], &device));
        assert_eq!(logits.dims(), [1, 919]);
        Ok(())
    }

    /// Full-batch Adam on 32 random 30-bp sequences with random 0/1 labels; returns the step at
    /// which every training example is classified correctly.
    fn steps_to_memorise(config: &RnnConfig, learning_rate: f64, max_steps: usize) -> Result<usize, ModelError> {
        const EXAMPLES: usize = 32;
        const LENGTH: usize = 30;
        let (device, _lock) = crate::test_device();
        let device = device.autodiff();
        device.seed(42);
        let input = InputShape { channels: CHANNELS, length: LENGTH, outputs: 1 };
        let mut model = SequenceRnn::new(config, input, &device)?;
        let mut optim: ModuleOptimizer = AdamConfig::new().init();
        let mut state = 0x9E37_79B9_7F4A_7C15;
        let x = tensor3(one_hot(&mut state, EXAMPLES, LENGTH), [EXAMPLES, CHANNELS, LENGTH], &device);
        let labels: Vec<f32> = (0..EXAMPLES).map(|_| ((next(&mut state) >> 40) & 1) as f32).collect();
        assert!(labels.contains(&0.0) && labels.contains(&1.0), "both labels occur");
        let y = Tensor::<2>::from_data(TensorData::new(labels.clone(), [EXAMPLES, 1]), &device);
        for step in 1..=max_steps {
            let logits = model.forward(x.clone()); // [32, 1]
            // max(z, 0) - z*y + log(1 + exp(-|z|)): binary cross-entropy on logits.
            let stable = burn::tensor::activation::softplus(logits.clone().abs().neg(), 1.0);
            let loss = (relu(logits.clone()) - logits.clone() * y.clone() + stable).mean();
            let correct = values(logits).iter().zip(&labels).filter(|&(z, y)| (*z > 0.0) == (*y > 0.5)).count();
            if correct == EXAMPLES {
                return Ok(step);
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(learning_rate, model, grads);
        }
        Ok(usize::MAX)
    }

    #[test]
    fn a_small_bidirectional_lstm_memorises_32_random_sequences() -> TestResult {
        let config = RnnConfig { hidden: 16, readout: Readout::Max, dense: vec![16], ..RnnConfig::default() };
        let started = Instant::now();
        let steps = steps_to_memorise(&config, 1e-2, 300)?;
        eprintln!("bi-LSTM: {steps} steps, {:.1} s", started.elapsed().as_secs_f64());
        assert!(steps <= 300, "not memorised in 300 steps");
        Ok(())
    }

    #[test]
    fn a_small_gru_memorises_32_random_sequences() -> TestResult {
        let config = RnnConfig {
            cell: Cell::Gru,
            hidden: 16,
            bidirectional: false,
            readout: Readout::Last,
            dense: vec![16],
            ..RnnConfig::default()
        };
        let started = Instant::now();
        let steps = steps_to_memorise(&config, 1e-2, 300)?;
        eprintln!("GRU: {steps} steps, {:.1} s", started.elapsed().as_secs_f64());
        assert!(steps <= 300, "not memorised in 300 steps");
        Ok(())
    }

    #[test]
    fn a_small_danq_memorises_32_random_sequences() -> TestResult {
        let config = RnnConfig {
            conv: vec![front(16, 8, 4)],
            hidden: 16,
            readout: Readout::Flatten,
            dense: vec![16],
            ..RnnConfig::danq()
        };
        let config = RnnConfig { dropout: 0.0, ..config };
        let started = Instant::now();
        let steps = steps_to_memorise(&config, 1e-2, 300)?;
        eprintln!("small DanQ: {steps} steps, {:.1} s", started.elapsed().as_secs_f64());
        assert!(steps <= 300, "not memorised in 300 steps");
        Ok(())
    }

    #[test]
    fn a_bidirectional_model_reads_direction() -> TestResult {
        let (device, _lock) = crate::test_device();
        device.seed(42);
        let input = InputShape { channels: CHANNELS, length: 20, outputs: 1 };
        let mut state = 11;
        let x = tensor3(one_hot(&mut state, 3, 20), [3, CHANNELS, 20], &device);
        for cell in [Cell::Lstm, Cell::Gru] {
            let config = small(cell, true, Readout::Max, vec![]);
            let model = SequenceRnn::new(&config, input, &device)?;
            let reversed = model.forward(x.clone().flip([2]));
            let forward = model.forward(x.clone());
            let difference = max_abs_difference(forward.clone(), reversed);
            assert!(difference > 1e-4, "{cell:?}: difference {difference}, outputs {:?}", forward.into_data());
        }
        Ok(())
    }

    #[test]
    fn a_unidirectional_last_readout_depends_on_the_last_position() -> TestResult {
        let (device, _lock) = crate::test_device();
        device.seed(42);
        let input = InputShape { channels: CHANNELS, length: 20, outputs: 1 };
        let mut state = 13;
        let values_a = one_hot(&mut state, 1, 20);
        // Move the last base to the next channel: only position 19 changes.
        let base = (0..CHANNELS).find(|&c| values_a[c * 20 + 19] == 1.0).expect("a one-hot column");
        let mut values_b = values_a.clone();
        values_b[base * 20 + 19] = 0.0;
        values_b[((base + 1) % CHANNELS) * 20 + 19] = 1.0;
        for cell in [Cell::Lstm, Cell::Gru] {
            let model = SequenceRnn::new(&small(cell, false, Readout::Last, vec![]), input, &device)?;
            let a = model.forward(tensor3(values_a.clone(), [1, CHANNELS, 20], &device));
            let b = model.forward(tensor3(values_b.clone(), [1, CHANNELS, 20], &device));
            assert!(max_abs_difference(a, b) > 1e-5, "{cell:?}");
        }
        Ok(())
    }

    #[test]
    fn bidirectional_last_readout_is_both_final_states() -> TestResult {
        let (device, _lock) = crate::test_device();
        device.seed(42);
        let input = InputShape { channels: CHANNELS, length: 12, outputs: 1 };
        let mut state = 17;
        let x = tensor3(one_hot(&mut state, 2, 12), [2, CHANNELS, 12], &device);
        let model = SequenceRnn::new(&small(Cell::Lstm, true, Readout::Last, vec![]), input, &device)?;
        let Some(Recurrent::BiLstm(layer)) = model.recurrent.first() else {
            return Err("one bidirectional LSTM layer expected".into());
        };
        let (_, final_state) = layer.forward(x.clone().swap_dims(1, 2), None);
        let hidden: Tensor<3> = final_state.hidden; // [2 directions, B, H]
        let expected = Tensor::cat(vec![hidden.clone().narrow(0, 0, 1), hidden.narrow(0, 1, 1)], 2).squeeze_dim(0);
        assert!(max_abs_difference(model.features(x), expected) < 1e-6);
        Ok(())
    }

    fn invalid_field(config: &RnnConfig, input: InputShape) -> Option<String> {
        match config.check(input) {
            Err(ModelError::InvalidSetting { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn each_rule_has_its_error() {
        let input = InputShape { channels: CHANNELS, length: 30, outputs: 1 };
        let base = RnnConfig::default();
        assert_eq!(base.check(input), Ok(()));
        let no_outputs = InputShape { outputs: 0, ..input };
        assert_eq!(invalid_field(&base, no_outputs).as_deref(), Some("input"));
        assert_eq!(invalid_field(&RnnConfig { hidden: 0, ..base.clone() }, input).as_deref(), Some("hidden"));
        assert_eq!(invalid_field(&RnnConfig { layers: 0, ..base.clone() }, input).as_deref(), Some("layers"));
        assert_eq!(invalid_field(&RnnConfig { dropout: 1.0, ..base.clone() }, input).as_deref(), Some("dropout"));
        let dense_dropout = RnnConfig { dense_dropout: -0.1, ..base.clone() };
        assert_eq!(invalid_field(&dense_dropout, input).as_deref(), Some("dense_dropout"));
        let dense = RnnConfig { dense: vec![8, 0], ..base.clone() };
        assert_eq!(invalid_field(&dense, input).as_deref(), Some("dense[1]"));
        let filters = RnnConfig { conv: vec![front(8, 4, 1), front(0, 4, 1)], ..base.clone() };
        assert_eq!(invalid_field(&filters, input).as_deref(), Some("conv[2].filters"));
        let pool = RnnConfig { conv: vec![front(8, 4, 0)], ..base.clone() };
        assert_eq!(invalid_field(&pool, input).as_deref(), Some("conv[1].pool"));
    }

    #[test]
    fn a_front_end_that_empties_the_sequence_is_an_error() {
        let danq = RnnConfig::danq();
        let short = InputShape { channels: CHANNELS, length: 25, outputs: 1 };
        assert!(matches!(danq.check(short), Err(ModelError::SequenceTooShort { layer: 1, width: 26, .. })));
        // 26-bp filters leave 13 positions from 38 bp: one step; 37 bp leave 12, pooled to none.
        assert_eq!(danq.recurrent_steps(InputShape { length: 38, ..short }), Ok(1));
        assert!(matches!(danq.check(InputShape { length: 37, ..short }), Err(ModelError::SequenceTooShort { .. })));
        assert!(matches!(danq.parameter_count(short), Err(ModelError::SequenceTooShort { .. })));
    }

    #[test]
    fn an_empty_table_takes_the_defaults_and_toml_round_trips() -> TestResult {
        let empty: RnnConfig = toml::from_str("")?;
        assert_eq!(empty, RnnConfig::default());
        assert_eq!((empty.cell, empty.hidden, empty.layers, empty.bidirectional), (Cell::Lstm, 64, 1, true));
        assert_eq!((empty.readout, empty.dropout, empty.first_layer_width()), (Readout::Max, 0.0, None));
        let text = r#"
            cell = "gru"
            hidden = 32
            layers = 2
            bidirectional = false
            dropout = 0.25
            readout = "flatten"
            dense = [16]
            [[conv]]
            filters = 8
            width = 5
            dilation = 2
        "#;
        let config: RnnConfig = toml::from_str(text)?;
        assert_eq!((config.cell, config.readout, config.first_layer_width()), (Cell::Gru, Readout::Flatten, Some(9)));
        assert_eq!(toml::from_str::<RnnConfig>(&toml::to_string(&config)?)?, config);
        let danq = RnnConfig::danq();
        assert_eq!(toml::from_str::<RnnConfig>(&toml::to_string(&danq)?)?, danq);
        assert!(toml::from_str::<RnnConfig>("hiden = 3").is_err());
        assert!(toml::from_str::<RnnConfig>("cell = \"rnn\"").is_err());
        Ok(())
    }

    #[test]
    fn the_config_works_inside_an_internally_tagged_model_table() -> TestResult {
        // How the `[model]` enum holds it: `Rnn(RnnConfig)` under `#[serde(tag = "kind")]`.
        #[derive(Debug, PartialEq, Deserialize, Serialize)]
        #[serde(tag = "kind", rename_all = "lowercase")]
        enum Model {
            Rnn(RnnConfig),
        }
        let Model::Rnn(config) = toml::from_str("kind = \"rnn\"\nreadout = \"last\"")?;
        assert_eq!(config, RnnConfig { readout: Readout::Last, ..RnnConfig::default() });
        assert!(toml::from_str::<Model>("kind = \"rnn\"\nunits = 3").is_err());
        let danq = Model::Rnn(RnnConfig::danq());
        assert_eq!(toml::from_str::<Model>(&toml::to_string(&danq)?)?, danq);
        Ok(())
    }

    /// One forward + backward pass over a batch of 64 one-hot 60-bp sequences, 3 classes (the
    /// StatLog splice data's shape); prints the median of 10 timed batches.
    fn time_training_batches(name: &str, config: &RnnConfig) -> TestResult {
        const BATCH: usize = 64;
        const LENGTH: usize = 60;
        let (device, _lock) = crate::test_device();
        let device = device.autodiff();
        device.seed(42);
        let input = InputShape { channels: CHANNELS, length: LENGTH, outputs: 3 };
        let mut model = SequenceRnn::new(config, input, &device)?;
        let mut optim: ModuleOptimizer = AdamConfig::new().init();
        let mut state = 5;
        let x = tensor3(one_hot(&mut state, BATCH, LENGTH), [BATCH, CHANNELS, LENGTH], &device);
        let targets: Vec<f32> = (0..BATCH).flat_map(|i| (0..3).map(move |c| f32::from(u8::from(i % 3 == c)))).collect();
        let y = Tensor::<2>::from_data(TensorData::new(targets, [BATCH, 3]), &device);
        let (mut backward_times, mut step_times) = (Vec::new(), Vec::new());
        for round in 0..12 {
            let started = Instant::now();
            let logits = model.forward(x.clone());
            let loss = (burn::tensor::activation::log_softmax(logits, 1) * y.clone()).sum().neg() / BATCH as f64;
            let gradients = loss.backward();
            let backward = started.elapsed().as_secs_f64();
            let gradients = GradientsParams::from_grads(gradients, &model);
            model = optim.step(1e-3, model, gradients);
            if round >= 2 {
                backward_times.push(backward);
                step_times.push(started.elapsed().as_secs_f64());
            }
        }
        let median = |times: &mut Vec<f64>| {
            times.sort_by(f64::total_cmp);
            times[times.len() / 2] * 1e3
        };
        eprintln!(
            "{name}: {} parameters, forward+backward {:.1} ms, with the Adam step {:.1} ms per batch of {BATCH}",
            config.parameter_count(input)?,
            median(&mut backward_times),
            median(&mut step_times)
        );
        Ok(())
    }

    #[test]
    #[ignore = "timing; run with --ignored --nocapture"]
    fn time_danq_and_a_bidirectional_lstm_on_60_bp() -> TestResult {
        time_training_batches("DanQ", &RnnConfig::danq())?;
        let lstm = RnnConfig { hidden: 64, bidirectional: true, readout: Readout::Max, ..RnnConfig::default() };
        time_training_batches("bi-LSTM 64, max readout", &lstm)
    }
}
