//! L2-regularised logistic regression (binary, multinomial and one-vs-rest multi-label),
//! fitted by L-BFGS on scikit-learn's `lbfgs` objective.
//!
//! The objective of one problem is scikit-learn's, divided by `C * S` (S the sum of the
//! example weights, `n` without weights) so that the gradient tolerance does not depend on the
//! number of examples (scikit-learn ≥ 1.1 scales it the same way; the minimiser is unchanged):
//!
//! `f(W, b) = (1/S) * Σ_i w_i * logloss_i(W, b) + ||W||² / (2 * C * S)`
//!
//! The intercepts `b` are not penalised. Work is spread over rows (logits) and over columns
//! (gradient: a sparse design is transposed once to CSC so both passes are gathers), and every
//! sum is taken in a fixed order, so results do not depend on the number of threads.

use rayon::prelude::*;

use crate::BaselineError;
use crate::error::check_finite;
use crate::gram::GramFactor;
use crate::lbfgs;

/// Rows handled by one parallel task.
const ROW_BLOCK: usize = 512;
/// Columns handled by one parallel task when accumulating the gradient.
const COLUMN_BLOCK: usize = 256;

/// The C values `fit_with_validation` tries when given no grid of its own.
pub const DEFAULT_C_GRID: [f64; 4] = [0.01, 0.1, 1.0, 10.0];

/// A borrowed design (feature) matrix: dense row-major or sparse CSR.
#[derive(Debug, Clone, Copy)]
pub enum Design<'a> {
    /// Row-major `rows x width` values.
    Dense {
        /// The values, `rows * width` of them.
        values: &'a [f32],
        /// Number of columns.
        width: usize,
    },
    /// Compressed sparse rows: row `r` holds `indices[row_offsets[r]..row_offsets[r + 1]]`
    /// (column numbers; repeated columns add up) with the matching `values`.
    Sparse {
        /// `rows + 1` non-decreasing offsets, the first 0 and the last `indices.len()`.
        row_offsets: &'a [usize],
        /// Column of each stored entry.
        indices: &'a [u32],
        /// Value of each stored entry.
        values: &'a [f32],
        /// Number of columns.
        width: usize,
    },
    /// Column-major counts with implicit values (gapped k-mer matrices): column `j` holds
    /// `rows[column_offsets[j]..column_offsets[j + 1]]`, a row once per occurrence, and entry
    /// `(i, j)` is `row_scale[i] * column_scale[j] * occurrences`. Products scatter into the
    /// rows' logits and gather the rows' residuals, both small, so nothing is transposed.
    CountColumns {
        /// `width + 1` non-decreasing offsets, the first 0 and the last `rows.len()`.
        column_offsets: &'a [usize],
        /// Row of each occurrence, below `row_scale.len()`.
        rows: &'a [u32],
        /// One scale per row; their number is the number of rows.
        row_scale: &'a [f32],
        /// One scale per column; their number is the width.
        column_scale: &'a [f32],
    },
}

impl Design<'_> {
    /// Number of rows (examples); 0 for a malformed matrix.
    pub fn rows(&self) -> usize {
        match *self {
            Design::Dense { values, width } => values.len().checked_div(width).unwrap_or(0),
            Design::Sparse { row_offsets, .. } => row_offsets.len().saturating_sub(1),
            Design::CountColumns { row_scale, .. } => row_scale.len(),
        }
    }

    /// Number of columns (features).
    pub fn width(&self) -> usize {
        match *self {
            Design::Dense { width, .. } | Design::Sparse { width, .. } => width,
            Design::CountColumns { column_scale, .. } => column_scale.len(),
        }
    }

    /// Checks the shape, the CSR structure, column indices and that every value is finite.
    pub fn check(&self) -> Result<(), BaselineError> {
        let width = self.width();
        if width == 0 {
            return Err(BaselineError::InvalidParameter {
                name: "width",
                value: "0".into(),
                rule: "a design matrix needs at least one column",
            });
        }
        match *self {
            Design::Dense { values, width } => {
                if !values.len().is_multiple_of(width) {
                    return Err(BaselineError::RaggedMatrix { width, values: values.len() });
                }
                check_finite("design value", values)
            }
            Design::Sparse { row_offsets, indices, values, width } => {
                let invalid = |rule| Err(BaselineError::InvalidRowOffsets { rule });
                if row_offsets.first() != Some(&0) {
                    return invalid("there must be rows + 1 offsets, starting at 0");
                }
                if row_offsets.windows(2).any(|w| w[0] > w[1]) {
                    return invalid("offsets must not decrease");
                }
                if row_offsets.last() != Some(&indices.len()) {
                    return invalid("the last offset must equal the number of stored entries");
                }
                if values.len() != indices.len() {
                    return Err(BaselineError::LengthMismatch {
                        what: "sparse values",
                        expected: indices.len(),
                        got: values.len(),
                    });
                }
                for (row, bounds) in row_offsets.windows(2).enumerate() {
                    if let Some(&column) = indices[bounds[0]..bounds[1]].iter().find(|&&c| c as usize >= width) {
                        return Err(BaselineError::ColumnOutOfRange { row, column, width });
                    }
                }
                check_finite("sparse value", values)
            }
            Design::CountColumns { column_offsets, rows, row_scale, column_scale } => {
                let invalid = |rule| Err(BaselineError::InvalidRowOffsets { rule });
                if column_offsets.len() != width + 1 || column_offsets.first() != Some(&0) {
                    return invalid("there must be columns + 1 column offsets, starting at 0");
                }
                if column_offsets.windows(2).any(|w| w[0] > w[1]) {
                    return invalid("column offsets must not decrease");
                }
                if column_offsets.last() != Some(&rows.len()) {
                    return invalid("the last column offset must equal the number of stored rows");
                }
                if let Some((index, &row)) = rows.iter().enumerate().find(|&(_, &r)| r as usize >= row_scale.len()) {
                    return Err(BaselineError::RowOutOfRange { index, row: row as usize, rows: row_scale.len() });
                }
                check_finite("row scale", row_scale)?;
                check_finite("column scale", column_scale)
            }
        }
    }
}

/// Targets of one fit, one entry (or row of entries) per example.
#[derive(Debug, Clone, Copy)]
pub enum Targets<'a> {
    /// One binary label per example; the model predicts P(true).
    Binary(&'a [bool]),
    /// One class index per example, below `classes`; the model is a softmax over the classes.
    Multinomial {
        /// Class of each example.
        labels: &'a [usize],
        /// Number of classes (at least 2; a class may be absent from the labels).
        classes: usize,
    },
    /// Row-major `examples x tasks` labels; one independent binary problem per task.
    Multilabel {
        /// The labels.
        labels: &'a [bool],
        /// Number of tasks.
        tasks: usize,
    },
}

impl Targets<'_> {
    /// The kind of model these targets call for.
    pub fn kind(&self) -> ModelKind {
        match *self {
            Targets::Binary(_) => ModelKind::Binary,
            Targets::Multinomial { classes, .. } => ModelKind::Multinomial { classes },
            Targets::Multilabel { tasks, .. } => ModelKind::Multilabel { tasks },
        }
    }

    /// Checks the targets against `rows` examples.
    fn check(&self, rows: usize) -> Result<(), BaselineError> {
        let (what, got, expected) = match *self {
            Targets::Binary(labels) => ("binary targets", labels.len(), rows),
            Targets::Multinomial { labels, classes } => {
                if classes < 2 {
                    return Err(BaselineError::InvalidParameter {
                        name: "classes",
                        value: classes.to_string(),
                        rule: "a multinomial model needs at least 2 classes",
                    });
                }
                if let Some((index, &label)) = labels.iter().enumerate().find(|&(_, &l)| l >= classes) {
                    return Err(BaselineError::LabelOutOfRange { index, label, classes });
                }
                ("class labels", labels.len(), rows)
            }
            Targets::Multilabel { labels, tasks } => {
                if tasks == 0 {
                    return Err(BaselineError::InvalidParameter {
                        name: "tasks",
                        value: "0".into(),
                        rule: "multi-label targets need at least one task",
                    });
                }
                ("multi-label targets", labels.len(), rows.saturating_mul(tasks))
            }
        };
        if got == expected { Ok(()) } else { Err(BaselineError::LengthMismatch { what, expected, got }) }
    }
}

/// What a fitted model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelKind {
    /// One output: P(class 1).
    Binary,
    /// One softmax output per class.
    Multinomial {
        /// Number of classes.
        classes: usize,
    },
    /// One independent sigmoid output per task.
    Multilabel {
        /// Number of tasks.
        tasks: usize,
    },
}

impl std::fmt::Display for ModelKind {
    /// In words, for messages: "binary", "multinomial (3 classes)", "multi-label (5 tasks)".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ModelKind::Binary => write!(f, "binary"),
            ModelKind::Multinomial { classes } => write!(f, "multinomial ({classes} classes)"),
            ModelKind::Multilabel { tasks } => write!(f, "multi-label ({tasks} tasks)"),
        }
    }
}

impl ModelKind {
    /// Number of outputs (columns of `predict_proba`).
    pub fn outputs(&self) -> usize {
        match *self {
            ModelKind::Binary => 1,
            ModelKind::Multinomial { classes } => classes,
            ModelKind::Multilabel { tasks } => tasks,
        }
    }
}

/// A design with its targets and optional per-example weights.
#[derive(Debug, Clone, Copy)]
pub struct Examples<'a> {
    /// Features, one row per example.
    pub design: Design<'a>,
    /// Labels, one (row) per example.
    pub targets: Targets<'a>,
    /// Per-example weights (e.g. from `balanced_weights`); `None` weighs every example 1.
    pub weights: Option<&'a [f64]>,
}

impl<'a> Examples<'a> {
    /// Unweighted examples.
    pub fn new(design: Design<'a>, targets: Targets<'a>) -> Self {
        Examples { design, targets, weights: None }
    }

    /// The same examples with per-example weights.
    pub fn with_weights(self, weights: &'a [f64]) -> Self {
        Examples { weights: Some(weights), ..self }
    }

    /// Checks design, targets and weights; returns the number of rows.
    fn check(&self) -> Result<usize, BaselineError> {
        self.design.check()?;
        let rows = self.design.rows();
        if rows == 0 {
            return Err(BaselineError::Empty { what: "logistic regression" });
        }
        self.targets.check(rows)?;
        if let Some(weights) = self.weights {
            if weights.len() != rows {
                return Err(BaselineError::LengthMismatch {
                    what: "example weights",
                    expected: rows,
                    got: weights.len(),
                });
            }
            if let Some((index, &value)) = weights.iter().enumerate().find(|&(_, &w)| !(w.is_finite() && w >= 0.0)) {
                return Err(BaselineError::InvalidWeight { index, value });
            }
            if weights.iter().all(|&w| w == 0.0) {
                return Err(BaselineError::InvalidWeight { index: 0, value: 0.0 });
            }
        }
        Ok(rows)
    }
}

/// Per-example weights that balance the classes as scikit-learn's `class_weight="balanced"`:
/// `n / (classes_present * count(class))`. Errors for multi-label targets (no single class).
pub fn balanced_weights(targets: &Targets) -> Result<Vec<f64>, BaselineError> {
    let (labels, classes): (Vec<usize>, usize) = match *targets {
        Targets::Binary(labels) => (labels.iter().map(|&l| usize::from(l)).collect(), 2),
        Targets::Multinomial { labels, classes } => {
            targets.check(labels.len())?;
            (labels.to_vec(), classes)
        }
        Targets::Multilabel { .. } => {
            return Err(BaselineError::InvalidParameter {
                name: "targets",
                value: "multi-label".into(),
                rule: "balanced weights need one class per example",
            });
        }
    };
    if labels.is_empty() {
        return Err(BaselineError::Empty { what: "balanced weights" });
    }
    let mut counts = vec![0usize; classes];
    for &l in &labels {
        counts[l] += 1;
    }
    let present = counts.iter().filter(|&&c| c > 0).count() as f64;
    let n = labels.len() as f64;
    Ok(labels.iter().map(|&l| n / (present * counts[l] as f64)).collect())
}

/// Settings of a logistic regression fit (missing fields take their defaults when read).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LogisticConfig {
    /// Inverse regularisation strength (scikit-learn's `C`): larger fits the data more closely.
    pub c: f64,
    /// L-BFGS iterations allowed per problem.
    pub max_iter: usize,
    /// Converged when every gradient component of the scaled objective is at most this
    /// (scikit-learn's `tol`, whose default 1e-4 is looser).
    pub tolerance: f64,
    /// Fit an unpenalised intercept per output.
    pub fit_intercept: bool,
    /// Correction pairs L-BFGS keeps (scipy's default is 10).
    pub memory: usize,
}

impl Default for LogisticConfig {
    fn default() -> Self {
        LogisticConfig { c: 1.0, max_iter: 1000, tolerance: 1e-5, fit_intercept: true, memory: 10 }
    }
}

/// How the solver ended on one problem.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SolverReport {
    /// The gradient test passed, or the objective stopped decreasing at machine precision.
    pub converged: bool,
    /// L-BFGS iterations taken.
    pub iterations: usize,
    /// Final value of the scaled objective.
    pub objective: f64,
    /// Largest absolute gradient component at the end.
    pub gradient_max: f64,
}

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogisticRegression {
    /// What the model predicts.
    pub kind: ModelKind,
    /// Number of features.
    pub width: usize,
    /// The C it was fitted with.
    pub c: f64,
    /// Row-major `outputs x width` coefficients (scikit-learn's `coef_`).
    pub coefficients: Vec<f64>,
    /// One intercept per output (multinomial intercepts are centred to sum to 0).
    pub intercepts: Vec<f64>,
    /// One report per problem: a single one, or one per task for multi-label targets.
    pub solver: Vec<SolverReport>,
}

impl LogisticConfig {
    /// Checks every setting.
    pub fn check(&self) -> Result<(), BaselineError> {
        let invalid = |name, value: String, rule| Err(BaselineError::InvalidParameter { name, value, rule });
        if !(self.c.is_finite() && self.c > 0.0) {
            return invalid("c", self.c.to_string(), "must be finite and positive");
        }
        if self.max_iter == 0 {
            return invalid("max_iter", "0".into(), "must be at least 1");
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return invalid("tolerance", self.tolerance.to_string(), "must be finite and non-negative");
        }
        if self.memory == 0 {
            return invalid("memory", "0".into(), "must be at least 1");
        }
        Ok(())
    }

    /// Fits a model to `examples`; deterministic for the same input.
    ///
    /// A binary task with a single class is not an error: its intercept runs towards ±∞
    /// until the gradient test stops it, so it predicts that class with probability
    /// about `1 - tolerance`.
    ///
    /// A column-major count design with many more columns than rows (gapped k-mer counts) is
    /// fitted through the rows' Gram matrix when that is cheaper (`gram.rs`): the same model.
    pub fn fit(&self, examples: &Examples) -> Result<LogisticRegression, BaselineError> {
        self.check()?;
        examples.check()?;
        let gram = GramFactor::preferred(&examples.design, examples.targets.kind().outputs(), self.memory)
            .then(|| GramFactor::new(&examples.design))
            .flatten();
        self.fit_prepared(examples, gram.as_ref())
    }

    /// [`LogisticConfig::fit`] with the Gram factor of the examples' design, when there is one.
    fn fit_prepared(
        &self,
        examples: &Examples,
        gram: Option<&GramFactor>,
    ) -> Result<LogisticRegression, BaselineError> {
        let Some(gram) = gram else {
            return self.fit_columns(examples);
        };
        let n = gram.rows();
        let factor = Design::Dense { values: &gram.design_values, width: n };
        let on_factor = self.fit_columns(&Examples { design: factor, ..*examples })?;
        // β (outputs × n) → α = L⁻ᵀβ → w = Xᵀα (feature-major), in scikit-learn's layout.
        let outputs = on_factor.outputs();
        let mut beta = vec![0.0; n * outputs];
        for (k, row) in on_factor.coefficients.chunks_exact(n).enumerate() {
            row.iter().enumerate().for_each(|(i, &b)| beta[i * outputs + k] = b);
        }
        let alpha = gram.dual_coefficients(&beta, outputs);
        let width = examples.design.width();
        let mut feature_major = vec![0.0; width * outputs];
        Matrix::new(examples.design).transpose_times(&alpha, outputs, &mut feature_major);
        let mut coefficients = vec![0.0; width * outputs];
        for (j, row) in feature_major.chunks_exact(outputs).enumerate() {
            row.iter().enumerate().for_each(|(k, &w)| coefficients[k * width + j] = w);
        }
        Ok(LogisticRegression { width, coefficients, ..on_factor })
    }

    /// [`LogisticConfig::fit`] on the design's own columns.
    fn fit_columns(&self, examples: &Examples) -> Result<LogisticRegression, BaselineError> {
        let rows = examples.check()?;
        if u32::try_from(rows).is_err() {
            return Err(BaselineError::InvalidParameter {
                name: "rows",
                value: rows.to_string(),
                rule: "at most 2^32 - 1 rows are supported",
            });
        }
        let matrix = Matrix::new(examples.design);
        let weights = examples.weights;
        let width = examples.design.width();
        let kind = examples.targets.kind();
        let fits: Vec<Fit> = match examples.targets {
            Targets::Binary(labels) => vec![self.fit_one(&matrix, Problem::Binary(labels), weights)],
            Targets::Multinomial { labels, classes } => {
                let mut fit = self.fit_one(&matrix, Problem::Multinomial { labels, classes }, weights);
                // Softmax is unchanged by a common shift of the intercepts; report the centred ones.
                let shift = fit.intercepts.iter().sum::<f64>() / classes as f64;
                fit.intercepts.iter_mut().for_each(|b| *b -= shift);
                vec![fit]
            }
            Targets::Multilabel { labels, tasks } => (0..tasks)
                .into_par_iter()
                .map(|t| {
                    let column: Vec<bool> = labels.iter().skip(t).step_by(tasks).copied().collect();
                    self.fit_one(&matrix, Problem::Binary(&column), weights)
                })
                .collect(),
        };
        let mut model = LogisticRegression {
            kind,
            width,
            c: self.c,
            coefficients: Vec::with_capacity(kind.outputs() * width),
            intercepts: Vec::with_capacity(kind.outputs()),
            solver: Vec::with_capacity(fits.len()),
        };
        for fit in fits {
            model.coefficients.extend(fit.coefficients);
            model.intercepts.extend(fit.intercepts);
            model.solver.push(fit.report);
        }
        Ok(model)
    }

    /// Fits one problem with `outputs` columns of logits.
    fn fit_one(&self, matrix: &Matrix, problem: Problem, weights: Option<&[f64]>) -> Fit {
        let outputs = problem.outputs();
        let width = matrix.width();
        let total_weight = weights.map_or(matrix.rows() as f64, |w| w.iter().sum());
        let penalty = 1.0 / (self.c * total_weight);
        let parameters = width * outputs + if self.fit_intercept { outputs } else { 0 };
        let mut logits = vec![0.0; matrix.rows() * outputs];
        let settings = lbfgs::Settings { max_iter: self.max_iter, tolerance: self.tolerance, memory: self.memory };
        let outcome = lbfgs::minimise(vec![0.0; parameters], &settings, |theta, gradient| {
            let (coefficients, intercepts) = theta.split_at(width * outputs);
            matrix.logits(coefficients, intercepts, outputs, &mut logits);
            // Turn logits into d(loss)/d(logit), scaled by weight / S, in place.
            let loss = problem.loss_and_residuals(&mut logits, weights, total_weight);
            let (gradient_w, gradient_b) = gradient.split_at_mut(width * outputs);
            matrix.transpose_times(&logits, outputs, gradient_w);
            let mut squared_norm = 0.0;
            for (g, w) in gradient_w.iter_mut().zip(coefficients) {
                *g += penalty * w;
                squared_norm += w * w;
            }
            if !gradient_b.is_empty() {
                gradient_b.fill(0.0);
                for row in logits.chunks_exact(outputs) {
                    gradient_b.iter_mut().zip(row).for_each(|(g, r)| *g += r);
                }
            }
            loss + 0.5 * penalty * squared_norm
        });
        // Parameters are feature-major (width x outputs); report scikit-learn's outputs x width.
        let mut coefficients = vec![0.0; width * outputs];
        for (j, row) in outcome.x[..width * outputs].chunks_exact(outputs).enumerate() {
            for (k, &w) in row.iter().enumerate() {
                coefficients[k * width + j] = w;
            }
        }
        let intercepts = if self.fit_intercept { outcome.x[width * outputs..].to_vec() } else { vec![0.0; outputs] };
        Fit {
            coefficients,
            intercepts,
            report: SolverReport {
                converged: outcome.converged,
                iterations: outcome.iterations,
                objective: outcome.value,
                gradient_max: outcome.gradient_max,
            },
        }
    }
}

/// Result of one problem, in scikit-learn's layout.
struct Fit {
    coefficients: Vec<f64>,
    intercepts: Vec<f64>,
    report: SolverReport,
}

/// One problem the solver sees.
#[derive(Clone, Copy)]
enum Problem<'a> {
    Binary(&'a [bool]),
    Multinomial { labels: &'a [usize], classes: usize },
}

impl Problem<'_> {
    fn outputs(&self) -> usize {
        match *self {
            Problem::Binary(_) => 1,
            Problem::Multinomial { classes, .. } => classes,
        }
    }

    /// Weighted mean log-loss; replaces each logit by its loss derivative times `w_i / S`.
    fn loss_and_residuals(&self, logits: &mut [f64], weights: Option<&[f64]>, total_weight: f64) -> f64 {
        let outputs = self.outputs();
        let block_losses: Vec<f64> = logits
            .par_chunks_mut(ROW_BLOCK * outputs)
            .enumerate()
            .map(|(block, chunk)| {
                let first = block * ROW_BLOCK;
                let mut sum = 0.0;
                for (offset, z) in chunk.chunks_exact_mut(outputs).enumerate() {
                    let i = first + offset;
                    let scale = weights.map_or(1.0, |w| w[i]) / total_weight;
                    let loss = match *self {
                        Problem::Binary(labels) => binary_residual(z, labels[i]),
                        Problem::Multinomial { labels, .. } => softmax_residual(z, labels[i]),
                    };
                    z.iter_mut().for_each(|r| *r *= scale);
                    sum += scale * loss;
                }
                sum
            })
            .collect();
        block_losses.iter().sum()
    }
}

/// Binary log-loss of logit `z[0]`; leaves `sigmoid(z) - y` in `z[0]`.
fn binary_residual(z: &mut [f64], label: bool) -> f64 {
    let logit = z[0];
    let y = f64::from(u8::from(label));
    z[0] = sigmoid(logit) - y;
    softplus(logit) - y * logit
}

/// Softmax cross-entropy of logits `z`; leaves `softmax(z) - onehot(label)` in `z`.
fn softmax_residual(z: &mut [f64], label: usize) -> f64 {
    let lse = log_sum_exp(z);
    let loss = lse - z[label];
    z.iter_mut().for_each(|v| *v = (*v - lse).exp());
    z[label] -= 1.0;
    loss
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

fn log_sum_exp(z: &[f64]) -> f64 {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// A checked design prepared for repeated products.
struct Matrix<'a> {
    design: Design<'a>,
    /// What `Xᵀ R` walks: the dense values, or a CSC copy of a sparse design.
    transposed: Transposed<'a>,
}

enum Transposed<'a> {
    /// Row-major dense values.
    Dense { values: &'a [f32], width: usize },
    /// Column offsets, row numbers and values of the transposed sparse matrix.
    Sparse { offsets: Vec<usize>, rows: Vec<u32>, values: Vec<f32> },
    /// The design is already column-major ([`Design::CountColumns`]).
    Columns,
}

impl<'a> Matrix<'a> {
    fn new(design: Design<'a>) -> Self {
        let transposed = match design {
            Design::Dense { values, width } => Transposed::Dense { values, width },
            Design::Sparse { row_offsets, indices, values, width } => {
                let mut offsets = vec![0usize; width + 1];
                for &c in indices {
                    offsets[c as usize + 1] += 1;
                }
                for j in 0..width {
                    offsets[j + 1] += offsets[j];
                }
                let mut next = offsets.clone();
                let mut rows = vec![0u32; indices.len()];
                let mut column_values = vec![0.0f32; indices.len()];
                for (row, bounds) in row_offsets.windows(2).enumerate() {
                    for entry in bounds[0]..bounds[1] {
                        let slot = &mut next[indices[entry] as usize];
                        // Checked by `LogisticConfig::fit`: fewer than 2^32 rows.
                        rows[*slot] = row as u32;
                        column_values[*slot] = values[entry];
                        *slot += 1;
                    }
                }
                Transposed::Sparse { offsets, rows, values: column_values }
            }
            Design::CountColumns { .. } => Transposed::Columns,
        };
        Matrix { design, transposed }
    }

    fn rows(&self) -> usize {
        self.design.rows()
    }

    fn width(&self) -> usize {
        self.design.width()
    }

    /// `out = X W + b` for feature-major `weights` (`width x outputs`); `out` is `rows x outputs`.
    fn logits(&self, weights: &[f64], intercepts: &[f64], outputs: usize, out: &mut [f64]) {
        logits(&self.design, weights, intercepts, outputs, out);
    }

    /// `out = Xᵀ R` for row-major `residuals` (`rows x outputs`); `out` is `width x outputs`.
    fn transpose_times(&self, residuals: &[f64], outputs: usize, out: &mut [f64]) {
        match &self.transposed {
            Transposed::Sparse { offsets, rows, values } => {
                out.par_chunks_mut(COLUMN_BLOCK * outputs).enumerate().for_each(|(block, chunk)| {
                    let first = block * COLUMN_BLOCK;
                    for (offset, g) in chunk.chunks_exact_mut(outputs).enumerate() {
                        let j = first + offset;
                        g.fill(0.0);
                        for entry in offsets[j]..offsets[j + 1] {
                            let (i, x) = (rows[entry] as usize, f64::from(values[entry]));
                            let r = &residuals[i * outputs..(i + 1) * outputs];
                            g.iter_mut().zip(r).for_each(|(gk, rk)| *gk += x * rk);
                        }
                    }
                });
            }
            Transposed::Columns => {
                if let Design::CountColumns { column_offsets, rows, row_scale, column_scale } = self.design {
                    // Scale the residuals by row once; each column then gathers its rows.
                    let mut scaled = residuals.to_vec();
                    for (r, &scale) in scaled.chunks_exact_mut(outputs).zip(row_scale) {
                        r.iter_mut().for_each(|v| *v *= f64::from(scale));
                    }
                    out.par_chunks_mut(COLUMN_BLOCK * outputs).enumerate().for_each(|(block, chunk)| {
                        let first = block * COLUMN_BLOCK;
                        for (offset, g) in chunk.chunks_exact_mut(outputs).enumerate() {
                            let j = first + offset;
                            g.fill(0.0);
                            let column = &rows[column_offsets[j]..column_offsets[j + 1]];
                            if outputs == 1 {
                                // The common case (binary, one task at a time), without slices.
                                g[0] = column.iter().map(|&i| scaled[i as usize]).sum();
                            } else {
                                for &i in column {
                                    let r = &scaled[i as usize * outputs..(i as usize + 1) * outputs];
                                    g.iter_mut().zip(r).for_each(|(gk, rk)| *gk += rk);
                                }
                            }
                            let scale = f64::from(column_scale[j]);
                            g.iter_mut().for_each(|gk| *gk *= scale);
                        }
                    });
                }
            }
            &Transposed::Dense { values, width } => {
                // Each task owns a block of columns and walks every row: no partial sums to merge.
                out.par_chunks_mut(COLUMN_BLOCK * outputs).enumerate().for_each(|(block, chunk)| {
                    let first = block * COLUMN_BLOCK;
                    let count = chunk.len() / outputs;
                    chunk.fill(0.0);
                    for (row, r) in values.chunks_exact(width).zip(residuals.chunks_exact(outputs)) {
                        for (g, &x) in chunk.chunks_exact_mut(outputs).zip(&row[first..first + count]) {
                            let x = f64::from(x);
                            g.iter_mut().zip(r).for_each(|(gk, rk)| *gk += x * rk);
                        }
                    }
                });
            }
        }
    }
}

/// Parts a column-major design's columns are cut into for `X W`: each part scatters into its own
/// logits, and the parts are added in order, so the sum does not depend on the number of threads.
const COLUMN_PARTS: usize = 16;

/// `out = X W + b` for feature-major `weights` (`width x outputs`), parallel over row blocks
/// (over column parts for a column-major design).
fn logits(design: &Design, weights: &[f64], intercepts: &[f64], outputs: usize, out: &mut [f64]) {
    if let Design::CountColumns { column_offsets, rows, row_scale, column_scale } = *design {
        // Cut the columns into parts of about equal numbers of stored rows.
        let total = rows.len();
        let mut bounds = vec![0usize];
        for part in 1..COLUMN_PARTS {
            let target = total * part / COLUMN_PARTS;
            let column = column_offsets.partition_point(|&offset| offset < target).min(column_scale.len());
            bounds.push(column.max(*bounds.last().unwrap_or(&0)));
        }
        bounds.push(column_scale.len());
        let parts: Vec<Vec<f64>> = bounds
            .par_windows(2)
            .map(|range| {
                let mut z = vec![0.0; row_scale.len() * outputs];
                for j in range[0]..range[1] {
                    let scale = f64::from(column_scale[j]);
                    let w = &weights[j * outputs..(j + 1) * outputs];
                    if w.iter().all(|&wk| wk == 0.0) {
                        continue;
                    }
                    let column = &rows[column_offsets[j]..column_offsets[j + 1]];
                    if outputs == 1 {
                        let value = scale * w[0];
                        column.iter().for_each(|&i| z[i as usize] += value);
                    } else {
                        for &i in column {
                            let zi = &mut z[i as usize * outputs..(i as usize + 1) * outputs];
                            zi.iter_mut().zip(w).for_each(|(zk, wk)| *zk += scale * wk);
                        }
                    }
                }
                z
            })
            .collect();
        for (i, z) in out.chunks_exact_mut(outputs).enumerate() {
            let scale = f64::from(row_scale[i]);
            for (k, zk) in z.iter_mut().enumerate() {
                let sum: f64 = parts.iter().map(|part| part[i * outputs + k]).sum();
                *zk = intercepts.get(k).copied().unwrap_or(0.0) + scale * sum;
            }
        }
        return;
    }
    out.par_chunks_mut(ROW_BLOCK * outputs).enumerate().for_each(|(block, chunk)| {
        let first = block * ROW_BLOCK;
        for (offset, z) in chunk.chunks_exact_mut(outputs).enumerate() {
            let i = first + offset;
            if intercepts.is_empty() {
                z.fill(0.0);
            } else {
                z.copy_from_slice(intercepts);
            }
            let mut add = |j: usize, x: f32| {
                let x = f64::from(x);
                let w = &weights[j * outputs..(j + 1) * outputs];
                z.iter_mut().zip(w).for_each(|(zk, wk)| *zk += x * wk);
            };
            match *design {
                Design::Dense { values, width } => {
                    values[i * width..(i + 1) * width].iter().enumerate().for_each(|(j, &x)| add(j, x));
                }
                Design::Sparse { row_offsets, indices, values, .. } => {
                    let range = row_offsets[i]..row_offsets[i + 1];
                    indices[range.clone()].iter().zip(&values[range]).for_each(|(&j, &x)| add(j as usize, x));
                }
                // Handled above, column by column.
                Design::CountColumns { .. } => {}
            }
        }
    });
}

impl LogisticRegression {
    /// Number of outputs (columns of `predict_proba`).
    pub fn outputs(&self) -> usize {
        self.kind.outputs()
    }

    /// True when the solver converged on every problem.
    pub fn converged(&self) -> bool {
        self.solver.iter().all(|r| r.converged)
    }

    /// Row-major `rows x outputs` logits `X Wᵀ + b`.
    pub fn decision_function(&self, design: &Design) -> Result<Vec<f64>, BaselineError> {
        design.check()?;
        if design.width() != self.width {
            return Err(BaselineError::WidthMismatch { expected: self.width, got: design.width() });
        }
        let outputs = self.outputs();
        if self.coefficients.len() != outputs * self.width || self.intercepts.len() != outputs {
            return Err(BaselineError::LengthMismatch {
                what: "model coefficients",
                expected: outputs * self.width,
                got: self.coefficients.len(),
            });
        }
        let mut feature_major = vec![0.0; self.width * outputs];
        for (k, row) in self.coefficients.chunks_exact(self.width).enumerate() {
            for (j, &w) in row.iter().enumerate() {
                feature_major[j * outputs + k] = w;
            }
        }
        let mut out = vec![0.0; design.rows() * outputs];
        logits(design, &feature_major, &self.intercepts, outputs, &mut out);
        Ok(out)
    }

    /// Row-major `rows x outputs` probabilities: P(class 1) for binary models, softmax rows for
    /// multinomial ones, one independent P(positive) per task for multi-label ones.
    pub fn predict_proba(&self, design: &Design) -> Result<Vec<f64>, BaselineError> {
        let mut out = self.decision_function(design)?;
        match self.kind {
            ModelKind::Binary | ModelKind::Multilabel { .. } => out.iter_mut().for_each(|z| *z = sigmoid(*z)),
            ModelKind::Multinomial { classes } => {
                for row in out.chunks_exact_mut(classes) {
                    let lse = log_sum_exp(row);
                    row.iter_mut().for_each(|z| *z = (*z - lse).exp());
                }
            }
        }
        Ok(out)
    }

    /// Weighted mean log-loss on `examples` (natural log); for multi-label models the mean over
    /// tasks of the binary log-loss. Computed from the logits, so it is finite even for
    /// confident mistakes.
    pub fn log_loss(&self, examples: &Examples) -> Result<f64, BaselineError> {
        let rows = examples.check()?;
        if examples.targets.kind() != self.kind {
            return Err(BaselineError::TargetKindMismatch {
                expected: self.kind.to_string(),
                got: examples.targets.kind().to_string(),
            });
        }
        let logits = self.decision_function(&examples.design)?;
        let outputs = self.outputs();
        let mut total = 0.0;
        for (i, z) in logits.chunks_exact(outputs).enumerate() {
            let loss = match examples.targets {
                Targets::Binary(labels) => softplus(z[0]) - f64::from(u8::from(labels[i])) * z[0],
                Targets::Multinomial { labels, .. } => log_sum_exp(z) - z[labels[i]],
                Targets::Multilabel { labels, tasks } => {
                    let y = &labels[i * tasks..(i + 1) * tasks];
                    z.iter().zip(y).map(|(&zt, &yt)| softplus(zt) - f64::from(u8::from(yt)) * zt).sum::<f64>()
                        / tasks as f64
                }
            };
            total += examples.weights.map_or(1.0, |w| w[i]) * loss;
        }
        Ok(total / examples.weights.map_or(rows as f64, |w| w.iter().sum()))
    }
}

/// The model chosen by validation and how every candidate did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ValidatedLogistic {
    /// The model for the chosen C, fitted on the training rows only.
    pub model: LogisticRegression,
    /// The chosen C.
    pub c: f64,
    /// `(C, validation log-loss)` for every grid value, in increasing C.
    pub validation_log_loss: Vec<(f64, f64)>,
}

/// Fits one model per C in `grid` on `train` (with `config`'s other settings) and keeps the one
/// with the lowest validation log-loss; ties go to the smaller C (more regularisation).
pub fn fit_with_validation(
    config: &LogisticConfig,
    train: &Examples,
    validation: &Examples,
    grid: &[f64],
) -> Result<ValidatedLogistic, BaselineError> {
    if grid.is_empty() {
        return Err(BaselineError::InvalidParameter {
            name: "grid",
            value: "[]".into(),
            rule: "at least one C value is needed",
        });
    }
    let mut grid = grid.to_vec();
    for &c in &grid {
        LogisticConfig { c, ..*config }.check()?;
    }
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    validation.check()?;
    if validation.targets.kind() != train.targets.kind() {
        return Err(BaselineError::TargetKindMismatch {
            expected: train.targets.kind().to_string(),
            got: validation.targets.kind().to_string(),
        });
    }
    train.check()?;
    // The Gram factor, when it is the cheaper route, is formed once for every C.
    let gram = GramFactor::preferred(&train.design, train.targets.kind().outputs(), config.memory)
        .then(|| GramFactor::new(&train.design))
        .flatten();
    let fits: Vec<(LogisticRegression, f64)> = grid
        .par_iter()
        .map(|&c| {
            let model = LogisticConfig { c, ..*config }.fit_prepared(train, gram.as_ref())?;
            let loss = model.log_loss(validation)?;
            Ok((model, loss))
        })
        .collect::<Result<_, BaselineError>>()?;
    let validation_log_loss: Vec<(f64, f64)> = fits.iter().map(|(m, loss)| (m.c, *loss)).collect();
    // Strictly lower loss replaces the choice, so an exact tie keeps the smaller C.
    let mut best = 0;
    for (index, (_, loss)) in fits.iter().enumerate() {
        if *loss < fits[best].1 {
            best = index;
        }
    }
    let (model, _) = fits.into_iter().nth(best).ok_or(BaselineError::Empty { what: "validation grid" })?;
    Ok(ValidatedLogistic { c: model.c, model, validation_log_loss })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    type TestResult = Result<(), BaselineError>;

    #[test]
    fn kind_mismatches_are_described_in_words() {
        let error = BaselineError::TargetKindMismatch {
            expected: ModelKind::Multinomial { classes: 3 }.to_string(),
            got: ModelKind::Binary.to_string(),
        };
        assert_eq!(error.to_string(), "targets are binary, but the model predicts multinomial (3 classes)");
        assert_eq!(ModelKind::Multilabel { tasks: 5 }.to_string(), "multi-label (5 tasks)");
    }

    /// A separable-ish dense problem: label = [x0 + 0.5 x1 + noise > 0].
    fn dense_problem(rows: usize, seed: u64) -> (Vec<f32>, Vec<bool>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut values = Vec::with_capacity(rows * 3);
        let mut labels = Vec::with_capacity(rows);
        for _ in 0..rows {
            let x: [f32; 3] = [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
            let noise: f32 = rng.random_range(-0.5..0.5);
            labels.push(x[0] + 0.5 * x[1] + noise > 0.0);
            values.extend_from_slice(&x);
        }
        (values, labels)
    }

    /// The same matrix in CSR form.
    fn to_csr(values: &[f32], width: usize) -> (Vec<usize>, Vec<u32>, Vec<f32>) {
        let mut offsets = vec![0];
        let (mut indices, mut data) = (Vec::new(), Vec::new());
        for row in values.chunks_exact(width) {
            for (j, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    indices.push(j as u32);
                    data.push(v);
                }
            }
            offsets.push(indices.len());
        }
        (offsets, indices, data)
    }

    #[test]
    fn dense_and_sparse_designs_give_the_same_model() -> TestResult {
        let (values, labels) = dense_problem(300, 1);
        let (offsets, indices, data) = to_csr(&values, 3);
        let dense = Design::Dense { values: &values, width: 3 };
        let sparse = Design::Sparse { row_offsets: &offsets, indices: &indices, values: &data, width: 3 };
        let config = LogisticConfig { tolerance: 1e-10, ..LogisticConfig::default() };
        let a = config.fit(&Examples::new(dense, Targets::Binary(&labels)))?;
        let b = config.fit(&Examples::new(sparse, Targets::Binary(&labels)))?;
        assert!(a.converged() && b.converged());
        for (x, y) in a.coefficients.iter().zip(&b.coefficients).chain(a.intercepts.iter().zip(&b.intercepts)) {
            assert!((x - y).abs() < 1e-8, "{x} vs {y}");
        }
        // The signal is in x0 and x1 only.
        assert!(a.coefficients[0] > a.coefficients[1] && a.coefficients[1] > a.coefficients[2].abs());
        let p = a.predict_proba(&sparse)?;
        assert_eq!(p.len(), 300);
        assert!(p.iter().all(|&v| (0.0..=1.0).contains(&v)));
        Ok(())
    }

    /// A random column-major count design and the same matrix as CSR with explicit values.
    #[allow(clippy::type_complexity)]
    fn count_columns(
        rows: usize,
        width: usize,
        seed: u64,
    ) -> (Vec<usize>, Vec<u32>, Vec<f32>, Vec<f32>, Vec<usize>, Vec<u32>, Vec<f32>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let row_scale: Vec<f32> = (0..rows).map(|_| rng.random_range(0.2..1.5f32)).collect();
        let column_scale: Vec<f32> = (0..width).map(|_| rng.random_range(0.5..2.0f32)).collect();
        let mut counts = vec![vec![0u32; width]; rows];
        for row in counts.iter_mut() {
            for _ in 0..8 {
                row[rng.random_range(0..width)] += 1;
            }
        }
        let (mut column_offsets, mut column_rows) = (vec![0], Vec::new());
        for j in 0..width {
            for (i, row) in counts.iter().enumerate() {
                column_rows.extend(std::iter::repeat_n(i as u32, row[j] as usize));
            }
            column_offsets.push(column_rows.len());
        }
        let (mut offsets, mut indices, mut values) = (vec![0], Vec::new(), Vec::new());
        for (i, row) in counts.iter().enumerate() {
            for (j, &count) in row.iter().enumerate().filter(|&(_, &c)| c > 0) {
                indices.push(j as u32);
                values.push(row_scale[i] * column_scale[j] * count as f32);
            }
            offsets.push(indices.len());
        }
        (column_offsets, column_rows, row_scale, column_scale, offsets, indices, values)
    }

    #[test]
    fn count_columns_give_the_model_of_the_same_csr_matrix() -> TestResult {
        let (rows, width) = (900, 300);
        let (column_offsets, column_rows, row_scale, column_scale, offsets, indices, values) =
            count_columns(rows, width, 5);
        let columns = Design::CountColumns {
            column_offsets: &column_offsets,
            rows: &column_rows,
            row_scale: &row_scale,
            column_scale: &column_scale,
        };
        let sparse = Design::Sparse { row_offsets: &offsets, indices: &indices, values: &values, width };
        columns.check()?;
        assert_eq!((columns.rows(), columns.width()), (rows, width));
        // Labels from a planted linear rule on the first 20 columns.
        let dense = sparse_to_dense(&offsets, &indices, &values, width);
        let labels: Vec<usize> = dense
            .chunks(width)
            .map(|row| {
                let score: f32 = row[..10].iter().sum::<f32>() - row[10..20].iter().sum::<f32>();
                if score > 0.3 {
                    2
                } else if score < -0.3 {
                    0
                } else {
                    1
                }
            })
            .collect();
        let binary: Vec<bool> = labels.iter().map(|&l| l == 2).collect();
        let config = LogisticConfig { tolerance: 1e-9, ..LogisticConfig::default() };
        for targets in [Targets::Binary(&binary), Targets::Multinomial { labels: &labels, classes: 3 }] {
            let a = config.fit(&Examples::new(columns, targets))?;
            let b = config.fit(&Examples::new(sparse, targets))?;
            for (x, y) in a.coefficients.iter().zip(&b.coefficients).chain(a.intercepts.iter().zip(&b.intercepts)) {
                assert!((x - y).abs() < 1e-6, "{x} vs {y}");
            }
            // The CSR values are f32 products; the columns multiply the scales in f64.
            let (p, q) = (a.predict_proba(&columns)?, b.predict_proba(&sparse)?);
            assert!(p.iter().zip(&q).all(|(x, y)| (x - y).abs() < 1e-6));
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .map_err(|_| BaselineError::Empty { what: "thread pool" })?;
            let c = pool.install(|| config.fit(&Examples::new(columns, targets)))?;
            assert_eq!(a, c);
        }
        // A broken structure is refused.
        let bad = Design::CountColumns {
            column_offsets: &column_offsets[..width],
            rows: &column_rows,
            row_scale: &row_scale,
            column_scale: &column_scale,
        };
        assert!(matches!(bad.check(), Err(BaselineError::InvalidRowOffsets { .. })));
        let bad = Design::CountColumns {
            column_offsets: &column_offsets,
            rows: &column_rows,
            row_scale: &row_scale[..rows - 1],
            column_scale: &column_scale,
        };
        assert!(matches!(bad.check(), Err(BaselineError::RowOutOfRange { .. })));
        Ok(())
    }

    #[test]
    fn wide_count_designs_fit_through_the_gram_matrix_to_the_same_model() -> TestResult {
        // 150 rows, 5,000 columns, every tenth row a copy of the row before (a singular Gram
        // matrix), labels from a planted rule: the Gram route must give the columns' model.
        let (rows, width) = (150, 5000);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut counts: Vec<Vec<(usize, u32)>> = Vec::new();
        for i in 0..rows {
            if i % 10 == 9 {
                counts.push(counts[i - 1].clone());
                continue;
            }
            let mut row: Vec<(usize, u32)> = (0..40).map(|_| (rng.random_range(0..width), 1)).collect();
            row.sort_unstable();
            row.dedup_by(|b, a| {
                let same = a.0 == b.0;
                if same {
                    a.1 += 1;
                }
                same
            });
            counts.push(row);
        }
        let row_scale: Vec<f32> = (0..rows).map(|_| rng.random_range(0.2..1.5f32)).collect();
        let column_scale: Vec<f32> = (0..width).map(|_| rng.random_range(0.5..2.0f32)).collect();
        let (mut column_offsets, mut column_rows) = (vec![0usize], Vec::new());
        for j in 0..width {
            for (i, row) in counts.iter().enumerate() {
                if let Some(&(_, count)) = row.iter().find(|&&(c, _)| c == j) {
                    column_rows.extend(std::iter::repeat_n(i as u32, count as usize));
                }
            }
            column_offsets.push(column_rows.len());
        }
        let design = Design::CountColumns {
            column_offsets: &column_offsets,
            rows: &column_rows,
            row_scale: &row_scale,
            column_scale: &column_scale,
        };
        let score = |row: &[(usize, u32)]| -> f64 {
            row.iter()
                .map(|&(c, n)| {
                    if c < 1500 {
                        f64::from(n)
                    } else if c < 3000 {
                        -f64::from(n)
                    } else {
                        0.0
                    }
                })
                .sum()
        };
        let labels: Vec<usize> = counts
            .iter()
            .map(|row| score(row))
            .map(|s| {
                if s > 2.0 {
                    2
                } else if s < -2.0 {
                    0
                } else {
                    1
                }
            })
            .collect();
        let binary: Vec<bool> = labels.iter().map(|&l| l == 2).collect();
        let multilabel: Vec<bool> = labels.iter().flat_map(|&l| [l == 2, l == 0]).collect();
        let weights: Vec<f64> = (0..rows).map(|i| 0.5 + (i % 3) as f64).collect();
        let config = LogisticConfig { tolerance: 1e-10, max_iter: 5000, c: 10.0, ..LogisticConfig::default() };
        for (targets, weighted) in [
            (Targets::Binary(&binary), false),
            (Targets::Binary(&binary), true),
            (Targets::Multinomial { labels: &labels, classes: 3 }, false),
            (Targets::Multilabel { labels: &multilabel, tasks: 2 }, true),
        ] {
            let mut examples = Examples::new(design, targets);
            if weighted {
                examples = examples.with_weights(&weights);
            }
            assert!(GramFactor::preferred(&design, targets.kind().outputs(), config.memory));
            let through_gram = config.fit(&examples)?;
            let on_columns = config.fit_columns(&examples)?;
            assert!(through_gram.converged() && on_columns.converged());
            assert_eq!(through_gram.width, width);
            let largest = on_columns.coefficients.iter().fold(0.0f64, |m, w| m.max(w.abs()));
            for (x, y) in through_gram.coefficients.iter().zip(&on_columns.coefficients) {
                assert!((x - y).abs() < 1e-4 * largest, "{x} vs {y} (largest {largest})");
            }
            for (x, y) in through_gram.intercepts.iter().zip(&on_columns.intercepts) {
                assert!((x - y).abs() < 1e-4, "{x} vs {y}");
            }
            let (p, q) = (through_gram.predict_proba(&design)?, on_columns.predict_proba(&design)?);
            assert!(p.iter().zip(&q).all(|(x, y)| (x - y).abs() < 1e-5));
            // The same numbers on one thread.
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .map_err(|_| BaselineError::Empty { what: "thread pool" })?;
            assert_eq!(through_gram, pool.install(|| config.fit(&examples))?);
        }
        // Tall designs stay on their columns.
        let (column_offsets, column_rows, row_scale, column_scale, ..) = count_columns(900, 300, 5);
        let tall = Design::CountColumns {
            column_offsets: &column_offsets,
            rows: &column_rows,
            row_scale: &row_scale,
            column_scale: &column_scale,
        };
        assert!(!GramFactor::preferred(&tall, 1, 10));
        Ok(())
    }

    fn sparse_to_dense(offsets: &[usize], indices: &[u32], values: &[f32], width: usize) -> Vec<f32> {
        let mut dense = vec![0.0; (offsets.len() - 1) * width];
        for (i, bounds) in offsets.windows(2).enumerate() {
            for entry in bounds[0]..bounds[1] {
                dense[i * width + indices[entry] as usize] += values[entry];
            }
        }
        dense
    }

    #[test]
    fn fits_do_not_depend_on_the_number_of_threads() -> TestResult {
        // Sparse, several row and column blocks, multinomial: every parallel path is used.
        let (rows, width) = (1500, 700);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut offsets = vec![0];
        let (mut indices, mut values, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rows {
            let mut row: Vec<u32> = (0..12).map(|_| rng.random_range(0..width as u32)).collect();
            row.sort_unstable();
            labels.push(row[0] as usize % 3);
            for c in row {
                indices.push(c);
                values.push(rng.random_range(0.5..2.0f32));
            }
            offsets.push(indices.len());
        }
        let design = Design::Sparse { row_offsets: &offsets, indices: &indices, values: &values, width };
        let examples = Examples::new(design, Targets::Multinomial { labels: &labels, classes: 3 });
        let a = LogisticConfig::default().fit(&examples)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .map_err(|_| BaselineError::Empty { what: "thread pool" })?;
        let b = pool.install(|| LogisticConfig::default().fit(&examples))?;
        assert_eq!(a, b);
        // Dense as well.
        let (dense_values, binary) = dense_problem(2000, 2);
        let dense = Examples::new(Design::Dense { values: &dense_values, width: 3 }, Targets::Binary(&binary));
        assert_eq!(LogisticConfig::default().fit(&dense)?, pool.install(|| LogisticConfig::default().fit(&dense))?);
        Ok(())
    }

    #[test]
    fn multilabel_is_one_vs_rest() -> TestResult {
        let (values, labels) = dense_problem(200, 3);
        let flipped: Vec<bool> = labels.iter().map(|l| !l).collect();
        let joint: Vec<bool> = labels.iter().zip(&flipped).flat_map(|(&a, &b)| [a, b]).collect();
        let design = Design::Dense { values: &values, width: 3 };
        let config = LogisticConfig { tolerance: 1e-10, ..LogisticConfig::default() };
        let both = config.fit(&Examples::new(design, Targets::Multilabel { labels: &joint, tasks: 2 }))?;
        let single = config.fit(&Examples::new(design, Targets::Binary(&labels)))?;
        assert_eq!(both.solver.len(), 2);
        assert_eq!(&both.coefficients[..3], single.coefficients.as_slice());
        // The flipped task has the negated solution.
        for (x, y) in both.coefficients[3..].iter().zip(&single.coefficients) {
            assert!((x + y).abs() < 1e-8);
        }
        let p = both.predict_proba(&design)?;
        assert!(p.chunks_exact(2).all(|r| (r[0] + r[1] - 1.0).abs() < 1e-7));
        Ok(())
    }

    #[test]
    fn multinomial_rows_sum_to_one_and_intercepts_are_centred() -> TestResult {
        let (values, labels) = dense_problem(300, 4);
        let classes: Vec<usize> =
            values.chunks_exact(3).zip(&labels).map(|(x, &l)| usize::from(l) + usize::from(x[2] > 0.5)).collect();
        let design = Design::Dense { values: &values, width: 3 };
        let model = LogisticConfig::default()
            .fit(&Examples::new(design, Targets::Multinomial { labels: &classes, classes: 3 }))?;
        assert!(model.converged());
        assert!(model.intercepts.iter().sum::<f64>().abs() < 1e-12);
        let p = model.predict_proba(&design)?;
        assert!(p.chunks_exact(3).all(|r| (r.iter().sum::<f64>() - 1.0).abs() < 1e-12));
        Ok(())
    }

    #[test]
    fn weights_act_as_repetition() -> TestResult {
        let (values, labels) = dense_problem(100, 5);
        let weights: Vec<f64> = (0..100).map(|i| if i % 3 == 0 { 2.0 } else { 1.0 }).collect();
        let mut repeated_values = values.clone();
        let mut repeated_labels = labels.clone();
        for i in (0..100).step_by(3) {
            repeated_values.extend_from_slice(&values[i * 3..i * 3 + 3]);
            repeated_labels.push(labels[i]);
        }
        let config = LogisticConfig { tolerance: 1e-10, ..LogisticConfig::default() };
        let weighted = config.fit(
            &Examples::new(Design::Dense { values: &values, width: 3 }, Targets::Binary(&labels))
                .with_weights(&weights),
        )?;
        let repeated = config.fit(&Examples::new(
            Design::Dense { values: &repeated_values, width: 3 },
            Targets::Binary(&repeated_labels),
        ))?;
        for (x, y) in weighted.coefficients.iter().zip(&repeated.coefficients) {
            assert!((x - y).abs() < 1e-7, "{x} vs {y}");
        }
        Ok(())
    }

    #[test]
    fn a_single_class_task_does_not_fail() -> TestResult {
        let (values, _) = dense_problem(50, 6);
        let labels = vec![false; 50];
        let design = Design::Dense { values: &values, width: 3 };
        let model = LogisticConfig::default().fit(&Examples::new(design, Targets::Binary(&labels)))?;
        assert!(model.converged());
        assert!(model.predict_proba(&design)?.iter().all(|&p| p < 1e-3));
        Ok(())
    }

    #[test]
    fn balanced_weights_match_sklearn() -> TestResult {
        let labels = [true, false, false, false];
        let w = balanced_weights(&Targets::Binary(&labels))?;
        assert_eq!(w, vec![2.0, 2.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0]);
        let classes = [0, 2, 2];
        let w = balanced_weights(&Targets::Multinomial { labels: &classes, classes: 3 })?;
        assert_eq!(w, vec![1.5, 0.75, 0.75]);
        Ok(())
    }

    #[test]
    fn validation_picks_a_c_and_prefers_the_smaller_on_ties() -> TestResult {
        let (values, labels) = dense_problem(400, 7);
        let train = Examples::new(Design::Dense { values: &values[..600], width: 3 }, Targets::Binary(&labels[..200]));
        let validation =
            Examples::new(Design::Dense { values: &values[600..], width: 3 }, Targets::Binary(&labels[200..]));
        let chosen = fit_with_validation(&LogisticConfig::default(), &train, &validation, &[10.0, 0.01, 1.0, 0.1])?;
        assert_eq!(chosen.validation_log_loss.iter().map(|p| p.0).collect::<Vec<_>>(), vec![0.01, 0.1, 1.0, 10.0]);
        let best = chosen.validation_log_loss.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        assert!(chosen.validation_log_loss.iter().any(|&(c, l)| c == chosen.c && l == best));
        assert_eq!(chosen.model, LogisticConfig { c: chosen.c, ..LogisticConfig::default() }.fit(&train)?);
        // All-zero features: every C gives the same model and loss, so the smallest C wins.
        let zeros = vec![0.0f32; 600];
        let flat = Examples::new(Design::Dense { values: &zeros, width: 3 }, Targets::Binary(&labels[..200]));
        let chosen = fit_with_validation(&LogisticConfig::default(), &flat, &flat, &DEFAULT_C_GRID)?;
        assert_eq!(chosen.c, 0.01);
        Ok(())
    }

    #[test]
    fn invalid_inputs_are_reported() {
        let labels = [true, false];
        let values = [0.0f32, 1.0, 2.0, 3.0];
        let fit = |design: Design, targets: Targets| LogisticConfig::default().fit(&Examples::new(design, targets));
        assert!(matches!(
            fit(Design::Dense { values: &values, width: 3 }, Targets::Binary(&labels)),
            Err(BaselineError::RaggedMatrix { width: 3, values: 4 })
        ));
        assert!(matches!(
            fit(Design::Dense { values: &values, width: 2 }, Targets::Binary(&[true])),
            Err(BaselineError::LengthMismatch { expected: 2, got: 1, .. })
        ));
        let nan = [0.0f32, f32::NAN];
        assert!(matches!(
            fit(Design::Dense { values: &nan, width: 1 }, Targets::Binary(&labels)),
            Err(BaselineError::NonFinite { index: 1, .. })
        ));
        let sparse = Design::Sparse { row_offsets: &[0, 1, 2], indices: &[0, 5], values: &[1.0, 1.0], width: 3 };
        assert!(matches!(
            fit(sparse, Targets::Binary(&labels)),
            Err(BaselineError::ColumnOutOfRange { row: 1, column: 5, width: 3 })
        ));
        let sparse = Design::Sparse { row_offsets: &[0, 2, 1], indices: &[0, 1], values: &[1.0, 1.0], width: 3 };
        assert!(matches!(fit(sparse, Targets::Binary(&labels)), Err(BaselineError::InvalidRowOffsets { .. })));
        assert!(matches!(
            fit(Design::Dense { values: &values, width: 2 }, Targets::Multinomial { labels: &[0, 3], classes: 3 }),
            Err(BaselineError::LabelOutOfRange { index: 1, label: 3, classes: 3 })
        ));
        let design = Design::Dense { values: &values, width: 2 };
        assert!(matches!(
            LogisticConfig::default().fit(&Examples::new(design, Targets::Binary(&labels)).with_weights(&[1.0, -1.0])),
            Err(BaselineError::InvalidWeight { index: 1, .. })
        ));
        assert!(matches!(
            LogisticConfig { c: 0.0, ..LogisticConfig::default() }
                .fit(&Examples::new(design, Targets::Binary(&labels))),
            Err(BaselineError::InvalidParameter { name: "c", .. })
        ));
    }
}
