//! Graph convolutional network for node classification (Kipf & Welling, ICLR 2017).
//!
//! Each layer computes `Â · (H · W) + b`, with `Â = D^-1/2 (A + I) D^-1/2` given as a
//! [`SparseMatrix`]; ReLU and dropout sit between layers and the last layer returns logits.
//! `H · W` is computed first because it has fewer columns than `H` in every layer that matters.
//!
//! One-hot node-id ("identity") features are never materialised: with `X = I`, `X · W` is `W`
//! itself, so the first layer holds an `[nodes, hidden]` weight (a learned embedding per node)
//! that is propagated directly. Dense node features (degree, random-walk or a file) have their
//! own `[features, hidden]` weight; with both, the first layer's input is `[I | X]` and its
//! product is the sum of the two.

use burn::module::Param;
use burn::nn::{Dropout, DropoutConfig, Initializer};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::ModelError;
use crate::sparse::SparseMatrix;

/// The `[model]` table of a GCN (`kind = "gcn"` selects it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcnConfig {
    /// Units of each hidden graph convolution; the output convolution follows them.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Dropout probability on every layer's input (for identity features: on the node embedding
    /// table, i.e. on `X · W` with `X = I`).
    #[serde(default = "default_dropout")]
    pub dropout: f64,
}

fn default_hidden() -> Vec<usize> {
    vec![256]
}
fn default_dropout() -> f64 {
    0.5
}

impl Default for GcnConfig {
    fn default() -> Self {
        Self { hidden: default_hidden(), dropout: default_dropout() }
    }
}

/// What a GCN sees and must produce, taken from the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphShape {
    /// Number of nodes (rows of the adjacency and of every layer's output).
    pub nodes: usize,
    /// Whether the input includes one-hot node ids (handled implicitly).
    pub identity: bool,
    /// Number of dense feature columns (0 for none).
    pub features: usize,
    /// Number of logits per node (classes or labels).
    pub outputs: usize,
}

impl GcnConfig {
    /// Check the settings against the graph, one error per rule.
    pub fn check(&self, shape: GraphShape) -> Result<(), ModelError> {
        let invalid =
            |field: &str, value: String, reason| Err(ModelError::InvalidSetting { field: field.into(), value, reason });
        if self.hidden.is_empty() {
            return invalid("hidden", "[]".into(), "a GCN needs at least one hidden layer (two graph convolutions)");
        }
        if let Some(i) = self.hidden.iter().position(|&units| units == 0) {
            return invalid(&format!("hidden[{i}]"), "0".into(), "every layer needs at least one unit");
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return invalid("dropout", self.dropout.to_string(), "must be in [0, 1)");
        }
        if !shape.identity && shape.features == 0 {
            return invalid("features", "none".into(), "the graph has no node features (use identity features)");
        }
        if shape.nodes == 0 || shape.outputs == 0 {
            return invalid("graph", format!("{} nodes, {} outputs", shape.nodes, shape.outputs), "empty graph");
        }
        Ok(())
    }

    /// Trainable parameters, computed without allocating.
    pub fn parameter_count(&self, shape: GraphShape) -> usize {
        let mut widths = self.hidden.clone();
        widths.push(shape.outputs);
        let first = widths[0];
        let mut count = (usize::from(shape.identity) * shape.nodes + shape.features) * first + first;
        for pair in widths.windows(2) {
            count += pair[0] * pair[1] + pair[1];
        }
        count
    }

    /// Number of graph convolutions (hidden layers + the output layer).
    pub fn depth(&self) -> usize {
        self.hidden.len() + 1
    }

    /// Build the network (Glorot-uniform weights, zero biases, as Kipf & Welling).
    pub fn init(&self, shape: GraphShape, device: &Device) -> Result<Gcn, ModelError> {
        self.check(shape)?;
        let mut widths = self.hidden.clone();
        widths.push(shape.outputs);
        let mut layers = Vec::with_capacity(widths.len());
        let first = widths[0];
        // Glorot's fan-in of the first layer is the width of the whole input [I | X].
        let fan_in = usize::from(shape.identity) * shape.nodes + shape.features;
        layers.push(GraphConvolution {
            identity: shape.identity.then(|| glorot([shape.nodes, first], fan_in, first, device)),
            weight: (shape.features > 0).then(|| glorot([shape.features, first], fan_in, first, device)),
            bias: Initializer::Zeros.init([first], device),
        });
        for pair in widths.windows(2) {
            layers.push(GraphConvolution {
                identity: None,
                weight: Some(glorot([pair[0], pair[1]], pair[0], pair[1], device)),
                bias: Initializer::Zeros.init([pair[1]], device),
            });
        }
        Ok(Gcn { layers, dropout: DropoutConfig::new(self.dropout).init(), nodes: shape.nodes })
    }
}

fn glorot(shape: [usize; 2], fan_in: usize, fan_out: usize, device: &Device) -> Param<Tensor<2>> {
    Initializer::XavierUniform { gain: 1.0 }.init_with(shape, Some(fan_in), Some(fan_out), device)
}

/// One graph convolution `Â · ([I | H] · W) + b`.
#[derive(Module, Debug)]
pub struct GraphConvolution {
    /// Weight rows of the implicit identity input `[nodes, units]` (first layer only).
    identity: Option<Param<Tensor<2>>>,
    /// Weight of the dense input `[inputs, units]`.
    weight: Option<Param<Tensor<2>>>,
    /// `[units]`.
    bias: Param<Tensor<1>>,
}

/// A graph convolutional network: node features and a normalised adjacency in, logits per node out.
#[derive(Module, Debug)]
pub struct Gcn {
    layers: Vec<GraphConvolution>,
    dropout: Dropout,
    nodes: usize,
}

impl Gcn {
    /// Logits of every node.
    ///
    /// `features` are the dense node features (`None` when the model was built for identity
    /// features only); dropout acts only on an autodiff device in training mode.
    ///
    /// # Shapes
    /// - features: `[nodes, features]`
    /// - adjacency: `[nodes, nodes]` (sparse)
    /// - output: `[nodes, outputs]`
    ///
    /// # Panics
    /// When the shapes disagree with the graph the model was built for (a programming error).
    pub fn forward(&self, features: Option<Tensor<2>>, adjacency: &SparseMatrix) -> Tensor<2> {
        assert_eq!(adjacency.shape(), [self.nodes, self.nodes], "adjacency does not fit the model");
        let mut hidden = features;
        let last = self.layers.len() - 1;
        for (index, layer) in self.layers.iter().enumerate() {
            // X·W: the identity part is the weight itself, the dense part a matrix product.
            let identity = layer.identity.as_ref().map(|w| self.dropout.forward(w.val())); // [N, U]
            let dense = match (hidden.take(), &layer.weight) {
                (Some(h), Some(w)) => Some(self.dropout.forward(h).matmul(w.val())), // [N, U]
                _ => None,
            };
            let product = match (identity, dense) {
                (Some(a), Some(b)) => a + b,
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => panic!("graph convolution {index} has no input; the model needs features"),
            };
            let output = adjacency.matmul(product) + layer.bias.val().unsqueeze_dim(0); // [N, U]
            hidden = Some(if index < last { relu(output) } else { output });
        }
        hidden.unwrap_or_else(|| panic!("a GCN has at least one layer"))
    }

    /// Number of graph convolutions.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// Number of nodes the model was built for.
    pub fn nodes(&self) -> usize {
        self.nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(nodes: usize, device: &Device) -> Result<SparseMatrix, ModelError> {
        let mut rows = Vec::new();
        let mut cols = Vec::new();
        for i in 0..nodes {
            for j in [i, (i + 1) % nodes, (i + nodes - 1) % nodes] {
                rows.push(i);
                cols.push(j);
            }
        }
        let values = vec![1.0 / 3.0; rows.len()];
        SparseMatrix::from_coo(&rows, &cols, &values, [nodes, nodes], device)
    }

    #[test]
    fn forward_shapes_and_parameter_count() -> Result<(), ModelError> {
        let (device, _lock) = crate::test_device();
        let adjacency = ring(10, &device)?;
        let config = GcnConfig { hidden: vec![8, 6], dropout: 0.5 };
        for (identity, features) in [(true, 0), (false, 3), (true, 3)] {
            let shape = GraphShape { nodes: 10, identity, features, outputs: 4 };
            let model = config.init(shape, &device)?;
            let x = (features > 0).then(|| Tensor::<2>::ones([10, features], &device));
            assert_eq!(model.forward(x, &adjacency).dims(), [10, 4]);
            assert_eq!(model.num_params(), config.parameter_count(shape));
            assert_eq!((model.depth(), config.depth()), (3, 3));
        }
        let shape = GraphShape { nodes: 10, identity: true, features: 0, outputs: 4 };
        assert_eq!(config.parameter_count(shape), 10 * 8 + 8 + 8 * 6 + 6 + 6 * 4 + 4);
        Ok(())
    }

    #[test]
    fn identity_features_equal_an_explicit_identity_matrix() -> Result<(), ModelError> {
        let (device, _lock) = crate::test_device();
        let adjacency = ring(5, &device)?;
        let config = GcnConfig { hidden: vec![4], dropout: 0.0 };
        let implicit = config.init(GraphShape { nodes: 5, identity: true, features: 0, outputs: 2 }, &device)?;
        let explicit = config.init(GraphShape { nodes: 5, identity: false, features: 5, outputs: 2 }, &device)?;
        // Copy the identity weight into the dense weight and every later layer.
        let mut layers = explicit.layers;
        for (target, source) in layers.iter_mut().zip(&implicit.layers) {
            target.weight = source.identity.clone().or_else(|| source.weight.clone());
            target.bias = source.bias.clone();
        }
        let explicit = Gcn { layers, ..explicit };
        let eye = Tensor::<2>::eye(5, &device);
        let a = implicit.forward(None, &adjacency).into_data().try_to_vec::<f32>().unwrap_or_default();
        let b = explicit.forward(Some(eye), &adjacency).into_data().try_to_vec::<f32>().unwrap_or_default();
        assert_eq!(a.len(), 10);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-6);
        }
        Ok(())
    }

    #[test]
    fn invalid_settings_are_rejected() {
        let shape = GraphShape { nodes: 4, identity: true, features: 0, outputs: 2 };
        assert!(GcnConfig { hidden: vec![], dropout: 0.5 }.check(shape).is_err());
        assert!(GcnConfig { hidden: vec![4, 0], dropout: 0.5 }.check(shape).is_err());
        assert!(GcnConfig { hidden: vec![4], dropout: 1.0 }.check(shape).is_err());
        let featureless = GraphShape { identity: false, ..shape };
        assert!(GcnConfig::default().check(featureless).is_err());
        assert!(GcnConfig::default().check(shape).is_ok());
    }

    #[test]
    fn config_parses_with_defaults() -> Result<(), toml::de::Error> {
        let config: GcnConfig = toml::from_str("hidden = [64]")?;
        assert_eq!(config, GcnConfig { hidden: vec![64], dropout: 0.5 });
        assert!(toml::from_str::<GcnConfig>("hiden = [64]").is_err());
        Ok(())
    }
}
