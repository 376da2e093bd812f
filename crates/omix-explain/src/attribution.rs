//! What a trained sequence model learned: per-base attributions and first-layer filters.
//!
//! Attributions explain one output (a class's or task's logit — scores are in logit units, so
//! saturated probabilities do not hide effects):
//! - **saliency**: the gradient of the output with respect to the one-hot input, every base;
//! - **gradient × input**: the same gradient at the observed bases (zero elsewhere);
//! - **integrated gradients** (Sundararajan et al. 2017): the gradient averaged along the straight
//!   path from a baseline (all zeros, uniform 0.25, or a seeded dinucleotide shuffle of the
//!   sequence) to the input, times (input − baseline); `steps` midpoint-rule steps, so the scores
//!   of a sequence sum to about `f(input) − f(baseline)` (completeness);
//! - **in-silico mutagenesis**: every single-base substitution scored as the change in the output
//!   (mutant − reference); all mutants of a sequence go through the model as one batch, on
//!   omix's hand-written CNN forward pass where the model allows it;
//! - **DeepLIFT/SHAP** (Shrikumar et al. 2017; Lundberg & Lee 2017): DeepLIFT's rescale-rule
//!   multipliers ([`DeepLiftPlan`]) against `n` seeded dinucleotide shuffles of the sequence
//!   (20 by default, as tangermeme), averaged over the references. The hypothetical
//!   contributions (what each base would contribute were it at the position, the projection
//!   TF-MoDISco reads) are `mean over references of m[b, i] − Σ_c r[c, i] · m[c, i]`; the actual
//!   contributions are those at the observed bases. Every pair is checked for summation to
//!   delta: `Σ (x − r) · m = f(x) − f(r)`; the largest deviation is kept per sequence.
//!
//! An ensemble run (`omix ensemble`) is explained through the same [`Explainer`]: every member is
//! loaded and each method's scores are the mean of the members' scores (see [`Explainer`] for
//! what that mean is an attribution of, by how the ensemble combines).
//!
//! Gradients come from burn's autodiff on a frozen copy of the model (weights need no gradient,
//! dropout and batch-norm run in inference mode), so attributions are deterministic.
//!
//! Filters to motifs follows DeepBind and Basset: each first-layer filter's activation (ReLU of
//! its convolution, batch-norm folded in) at every full window of the given sequences; windows
//! above `threshold × the filter's maximum over the data` are its sites, and their base counts
//! make its position frequency matrix.

use burn::prelude::*;
use burn::tensor::TensorData;
use omix_data::Dataset;
use omix_encode::dinucleotide_shuffle;
use omix_models::{DeepLiftPlan, FastPlan, FirstLayer, IsmPlan, Model, Shap};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use omix_run::{Combine, RunDir};
use omix_train::ensemble::{RunModels, combine_scores};
use omix_train::{BatchInput, InputPipeline, Objective, TrainedRun};

use crate::ExplainError;

/// An attribution method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Gradient of the output w.r.t. the one-hot input.
    Saliency,
    /// Gradient × input (the gradient at the observed bases).
    GradientXInput,
    /// Integrated gradients from a baseline.
    IntegratedGradients,
    /// In-silico mutagenesis: every single-base substitution.
    Ism,
    /// DeepLIFT/SHAP: rescale-rule multipliers averaged over shuffled references.
    DeepLiftShap,
}

impl Method {
    /// Every method, in output-column order.
    pub const ALL: [Method; 5] =
        [Method::Saliency, Method::GradientXInput, Method::IntegratedGradients, Method::Ism, Method::DeepLiftShap];

    /// The column name used in output files.
    pub fn name(self) -> &'static str {
        match self {
            Method::Saliency => "saliency",
            Method::GradientXInput => "gradient_x_input",
            Method::IntegratedGradients => "integrated_gradients",
            Method::Ism => "ism",
            Method::DeepLiftShap => "deeplift_shap",
        }
    }
}

/// The reference input integrated gradients starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IgBaseline {
    /// All-zero input (no base at all).
    #[default]
    Zeros,
    /// A dinucleotide shuffle of the sequence (seeded): same composition, motifs destroyed.
    Shuffled,
    /// 1 / channels at every position.
    Uniform,
}

/// What to explain and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainOptions {
    /// Methods to compute.
    pub methods: Vec<Method>,
    /// Which model output (class or task index) to explain.
    pub output: usize,
    /// Integrated-gradients steps.
    pub ig_steps: usize,
    /// Integrated-gradients baseline.
    pub ig_baseline: IgBaseline,
    /// Sequences per gradient batch.
    pub batch_size: usize,
    /// Seed for shuffled baselines.
    pub seed: u64,
    /// DeepLIFT/SHAP references per sequence (shuffled references; one for zeros or uniform).
    pub shap_references: usize,
    /// DeepLIFT/SHAP reference.
    pub shap_baseline: IgBaseline,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        Self {
            methods: Method::ALL.to_vec(),
            output: 0,
            ig_steps: 32,
            ig_baseline: IgBaseline::Zeros,
            batch_size: 64,
            seed: 42,
            shap_references: 20,
            shap_baseline: IgBaseline::Shuffled,
        }
    }
}

/// Attributions of one sequence; every score array is `[channels, length]`, channel-major.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceAttribution {
    /// Index of the example in the data set.
    pub index: usize,
    /// The explained output (logit) for the sequence.
    pub logit: f32,
    /// The one-hot input.
    pub input: Vec<f32>,
    /// Saliency.
    pub saliency: Option<Vec<f32>>,
    /// Gradient × input.
    pub gradient_x_input: Option<Vec<f32>>,
    /// Integrated gradients.
    pub integrated_gradients: Option<Vec<f32>>,
    /// ISM: change in the output when the base becomes this channel's (0 at the observed base).
    pub ism: Option<Vec<f32>>,
    /// DeepLIFT/SHAP: the actual contributions (non-zero at observed bases only).
    pub deeplift_shap: Option<Vec<f32>>,
    /// DeepLIFT/SHAP's hypothetical contributions, every base at every position.
    pub hypothetical: Option<Vec<f32>>,
    /// DeepLIFT/SHAP: the largest `|Σ (x − r) · m − (f(x) − f(r))|` over the references.
    pub convergence: Option<f32>,
}

impl SequenceAttribution {
    /// The scores of one method.
    pub fn scores(&self, method: Method) -> Option<&[f32]> {
        match method {
            Method::Saliency => self.saliency.as_deref(),
            Method::GradientXInput => self.gradient_x_input.as_deref(),
            Method::IntegratedGradients => self.integrated_gradients.as_deref(),
            Method::Ism => self.ism.as_deref(),
            Method::DeepLiftShap => self.deeplift_shap.as_deref(),
        }
    }

    /// Importance of each position for one method: the summed score at the observed base for
    /// gradient-based methods (saliency: the observed base's gradient), and for ISM the mean
    /// loss of output when the position is mutated (−mean of the substitution effects), so that
    /// for every method a high value means "this base supports the output".
    pub fn position_importance(&self, method: Method, channels: usize) -> Option<Vec<f32>> {
        let scores = self.scores(method)?;
        let length = scores.len() / channels.max(1);
        let mut out = vec![0.0f32; length];
        for (position, slot) in out.iter_mut().enumerate() {
            let column = |c: usize| scores[c * length + position];
            let observed = |c: usize| self.input[c * length + position];
            *slot = match method {
                Method::Ism => {
                    let mutants: Vec<f32> = (0..channels).filter(|&c| observed(c) < 0.5).map(column).collect();
                    if mutants.is_empty() { 0.0 } else { -mutants.iter().sum::<f32>() / mutants.len() as f32 }
                }
                Method::Saliency => (0..channels).map(|c| column(c) * observed(c)).sum(),
                _ => (0..channels).map(column).sum(),
            };
        }
        Some(out)
    }

    /// Per position, the largest and the mean substitution effect (ISM).
    pub fn ism_position_effects(&self, channels: usize) -> Option<Vec<(f32, f32)>> {
        let scores = self.ism.as_deref()?;
        let length = scores.len() / channels.max(1);
        Some(
            (0..length)
                .map(|position| {
                    let mutants: Vec<f32> = (0..channels)
                        .filter(|&c| self.input[c * length + position] < 0.5)
                        .map(|c| scores[c * length + position])
                        .collect();
                    let max = mutants.iter().copied().fold(0.0f32, |a, b| if b.abs() > a.abs() { b } else { a });
                    let mean =
                        if mutants.is_empty() { 0.0 } else { mutants.iter().sum::<f32>() / mutants.len() as f32 };
                    (max, mean)
                })
                .collect(),
        )
    }
}

/// A trained run's model ready for attributions: a frozen copy on an autodiff device for
/// gradients and a plain copy for forward passes. An ensemble folder loads every member (listed by
/// [`RunModels::folders`]) and every attribution is the mean of the members' attributions.
///
/// What that mean explains: each member's attribution is of its own logit (the chosen output
/// before the output transform), and every method is linear in the model (saliency,
/// gradient × input and integrated gradients in the gradient, ISM in the output, DeepLIFT/SHAP
/// in the multipliers, with the same references for every member), so the mean is the
/// attribution of the members' mean logit. For an ensemble combined by `mean-logit` that is the
/// ensemble's own logit: its DeepLIFT/SHAP attributions sum to `mean f(x) − mean f(reference)`
/// and its integrated gradients to about the same difference along the path. For one combined
/// by `mean-probability` the ensemble's output is the mean of the members' probabilities, which
/// is not a function of the mean logit: the attributions are then the mean of the members'
/// logit attributions, not an attribution of the ensemble's probability.
pub struct Explainer {
    members: Vec<MemberModel>,
    /// The run, or an ensemble's first member: its input pipeline and objective (the members
    /// share the schema and the loss, so they are every member's).
    primary: RunDir,
    /// How an ensemble combines its members' predictions; `None` for one run.
    combine: Option<Combine>,
    device: Device,
    gradient_device: Device,
    encoder: omix_encode::Encoder,
    channels: usize,
    length: usize,
    outputs: usize,
}

/// One model's copies and kernel plans.
struct MemberModel {
    gradient_model: Model,
    model: Model,
    fast: Option<FastPlan>,
    ism_plan: Option<IsmPlan>,
    deeplift: Result<DeepLiftPlan, String>,
}

impl Explainer {
    /// Load a run folder's model for one-hot input `[channels, length]`, or every member of an
    /// ensemble folder.
    pub fn new(run: &RunDir, device: &Device) -> Result<Self, ExplainError> {
        let (folders, combine) = RunModels::folders(run)?;
        let combine = run.ensemble()?.map(|_| combine);
        let gradient_device = device.clone().autodiff();
        let mut members = Vec::with_capacity(folders.len());
        let mut first: Option<omix_data::Schema> = None;
        for folder in &folders {
            let (model, schema) = folder.load_model(device)?;
            let gradient_model = folder.load_frozen_model(&gradient_device)?;
            if !schema.is_sequence() {
                return Err(ExplainError::Invalid(
                    "attributions and filter motifs need a model over one-hot sequences; this run's model reads matrix rows"
                        .into(),
                ));
            }
            if model.reconstruction().is_some() {
                return Err(ExplainError::Invalid(
                    "attributions explain a supervised model's outputs; this run is an autoencoder".into(),
                ));
            }
            if matches!(model, Model::Dense(_)) {
                return Err(ExplainError::Invalid(
                    "attributions need a model that reads the one-hot sequence; this run's dense network reads engineered features (k-mer or PWM scores)".into(),
                ));
            }
            match &first {
                None => first = Some(schema.clone()),
                Some(shared) if *shared != schema => {
                    return Err(ExplainError::Invalid(format!(
                        "{}: this member of {} reads other inputs than the first member; the ensemble folder was edited or assembled by hand: rebuild it with `omix ensemble`",
                        folder.root().display(),
                        run.root().display()
                    )));
                }
                Some(_) => {}
            }
            let (channels, length) = (schema.channels(), schema.length);
            members.push(MemberModel {
                fast: FastPlan::new(&model, channels, length),
                ism_plan: IsmPlan::new(&model, length),
                deeplift: DeepLiftPlan::new(&model, channels, length).map_err(|error| error.to_string()),
                gradient_model,
                model,
            });
        }
        let (Some(schema), Some(primary)) = (first, folders.first()) else {
            return Err(ExplainError::Invalid(format!("{}: the ensemble lists no members", run.root().display())));
        };
        Ok(Self {
            members,
            primary: primary.clone(),
            combine,
            device: device.clone(),
            gradient_device,
            encoder: schema.encoder(),
            channels: schema.channels(),
            length: schema.length,
            outputs: schema.outputs(),
        })
    }

    /// How many models are explained (1 for a single run).
    pub fn members(&self) -> usize {
        self.members.len()
    }

    /// How an ensemble combines its members' predictions; `None` for one run.
    pub fn combine(&self) -> Option<Combine> {
        self.combine
    }

    /// The input pipeline for new data (the members of an ensemble share it).
    pub fn input_pipeline(&self, dataset: &Dataset) -> Result<InputPipeline, ExplainError> {
        Ok(self.primary.input_pipeline(dataset)?)
    }

    /// What the outputs mean (the members of an ensemble share it).
    pub fn objective(&self) -> Result<Objective, ExplainError> {
        Ok(self.primary.objective()?)
    }

    /// `(channels, length)` of one input.
    pub fn shape(&self) -> (usize, usize) {
        (self.channels, self.length)
    }

    /// The model's first convolution, when it has one; an ensemble's first member's (each
    /// member learned filters of its own, so they are not averaged).
    pub fn first_layer(&self) -> Option<FirstLayer> {
        self.members[0].model.first_layer()
    }

    /// The chosen output (logit) for a batch of inputs `[n, channels, length]`.
    pub fn logits(&self, inputs: &[f32], output: usize) -> Result<Vec<f32>, ExplainError> {
        let all = self.all_logits(inputs)?;
        let n = inputs.len() / (self.channels * self.length).max(1);
        if n == 0 {
            return Ok(Vec::new());
        }
        let width = all.len() / n;
        Ok((0..n).map(|i| all.get(i * width + output).copied().unwrap_or(f32::NAN)).collect())
    }

    /// Every output (logit) for a batch of inputs `[n, channels, length]`: `[n, outputs]`,
    /// row-major; an ensemble's members' mean.
    pub fn all_logits(&self, inputs: &[f32]) -> Result<Vec<f32>, ExplainError> {
        Ok(mean_of(self.member_logits(inputs)?))
    }

    /// Every output (logit) of each member (one for a single run), `[n, outputs]` each.
    pub fn member_logits(&self, inputs: &[f32]) -> Result<Vec<Vec<f32>>, ExplainError> {
        self.members.iter().map(|member| self.model_logits(member, inputs)).collect()
    }

    /// The number the run predicts for each output of a batch of inputs (what
    /// `test_predictions.tsv` gives: probabilities or values), an ensemble's members combined as
    /// it combines them.
    pub fn predictions(&self, inputs: &[f32]) -> Result<Vec<f64>, ExplainError> {
        let objective = self.objective()?;
        let per_member: Vec<Vec<f64>> = self
            .member_logits(inputs)?
            .iter()
            .map(|logits| {
                let mut predictions = Vec::with_capacity(logits.len());
                for row in logits.chunks(self.outputs.max(1)) {
                    objective.predictions(row, &mut predictions);
                }
                predictions
            })
            .collect();
        Ok(combine_scores(&per_member, self.outputs.max(1), objective, self.combine.unwrap_or_default()))
    }

    /// One model's outputs (logits) for a batch of inputs: `[n, outputs]`.
    fn model_logits(&self, member: &MemberModel, inputs: &[f32]) -> Result<Vec<f32>, ExplainError> {
        let block = self.channels * self.length;
        let n = inputs.len() / block.max(1);
        if n == 0 {
            return Ok(Vec::new());
        }
        Ok(match member.fast.as_ref().and_then(|plan| plan.logits(&member.model, inputs)) {
            Some(all) => all,
            None => {
                let x = Tensor::<3>::from_data(
                    TensorData::new(inputs.to_vec(), [n, self.channels, self.length]),
                    &self.device,
                );
                member.model.forward(x).into_data().try_into_vec().map_err(data_error)?
            }
        })
    }

    /// Logits of the chosen output and their gradients w.r.t. a batch of inputs.
    ///
    /// # Shapes
    /// - `inputs`: `[n, channels, length]`
    /// - output: (`[n]`, `[n, channels, length]`)
    ///
    /// An ensemble's: the members' mean logits and mean gradients.
    pub fn gradients(&self, inputs: &[f32], output: usize) -> Result<(Vec<f32>, Vec<f32>), ExplainError> {
        let (mut values, mut gradients) = (Vec::with_capacity(self.members.len()), Vec::new());
        for member in &self.members {
            let (logits, gradient) = self.model_gradients(member, inputs, output)?;
            values.push(logits);
            gradients.push(gradient);
        }
        Ok((mean_of(values), mean_of(gradients)))
    }

    /// One model's logits of the chosen output and their input gradients.
    fn model_gradients(
        &self,
        member: &MemberModel,
        inputs: &[f32],
        output: usize,
    ) -> Result<(Vec<f32>, Vec<f32>), ExplainError> {
        let block = self.channels * self.length;
        let n = inputs.len() / block.max(1);
        if n == 0 {
            return Ok((Vec::new(), Vec::new()));
        }
        let x = Tensor::<3>::from_data(
            TensorData::new(inputs.to_vec(), [n, self.channels, self.length]),
            &self.gradient_device,
        )
        .require_grad();
        let logits = member.gradient_model.forward(x.clone()).narrow(1, output, 1); // [n, 1]
        let values: Vec<f32> = logits.clone().into_data().try_into_vec().map_err(data_error)?;
        let grads = logits.sum().backward();
        let gradient = x.grad(&grads).ok_or_else(|| ExplainError::Invalid("no gradient reached the input".into()))?;
        let gradient: Vec<f32> = gradient.into_data().try_into_vec().map_err(data_error)?;
        Ok((values, gradient))
    }

    /// Why DeepLIFT/SHAP cannot explain this model (or a member of an ensemble), or `None` when
    /// it can.
    pub fn deeplift_unsupported(&self) -> Option<String> {
        self.members.iter().enumerate().find_map(|(k, member)| {
            let reason = member.deeplift.as_ref().err()?;
            Some(if self.members.len() > 1 { format!("member {:02}: {reason}", k + 1) } else { reason.clone() })
        })
    }

    /// DeepLIFT/SHAP references of one input `[channels, length]`: `[n, channels, length]`.
    /// Shuffled references are dinucleotide shuffles of the input's own bases (positions without
    /// a base, N or padding, shuffle as a letter of their own and stay all-zero), seeded by
    /// `options.seed` and `index`, so a sequence gets the same references in every run.
    pub fn shap_references(&self, input: &[f32], index: usize, options: &ExplainOptions) -> Vec<f32> {
        crate::profile::shap_references(
            &input[..self.channels * self.length],
            self.channels,
            options.shap_baseline,
            options.shap_references,
            options.seed,
            index,
        )
    }

    /// DeepLIFT/SHAP of `output` for one input `[channels, length]` against the given references
    /// `[n, channels, length]` (in parallel over the references), see [`Shap`].
    ///
    /// An ensemble's members all see the same references, and the contributions, outputs and
    /// reference outputs are their means, so the mean contributions sum to
    /// `mean f(x) − mean f(reference)`. The deviation kept is the largest of the members' (which
    /// bounds every pair of the mean, a mean of the members' deviations) and of the mean's own
    /// summation over all references.
    pub fn deeplift_shap(&self, input: &[f32], references: &[f32], output: usize) -> Result<Shap, ExplainError> {
        let mut shaps = Vec::with_capacity(self.members.len());
        for member in &self.members {
            shaps.push(self.model_deeplift_shap(member, input, references, output)?);
        }
        if shaps.len() == 1 {
            return Ok(shaps.remove(0));
        }
        let count = shaps.len() as f32;
        let output = shaps.iter().map(|shap| shap.output).sum::<f32>() / count;
        let mean_reference_output = shaps.iter().map(|shap| shap.mean_reference_output).sum::<f32>() / count;
        let members_deviation = shaps.iter().map(|shap| shap.max_deviation).fold(0.0f32, f32::max);
        let hypothetical = mean_of(shaps.iter().map(|shap| shap.hypothetical.clone()).collect());
        let actual = mean_of(shaps.into_iter().map(|shap| shap.actual).collect());
        let summed = actual.iter().map(|a| f64::from(*a)).sum::<f64>();
        let own = (summed - (f64::from(output) - f64::from(mean_reference_output))).abs() as f32;
        let max_deviation = if own.is_nan() { f32::INFINITY } else { members_deviation.max(own) };
        Ok(Shap { actual, hypothetical, max_deviation, output, mean_reference_output })
    }

    /// One model's DeepLIFT/SHAP.
    fn model_deeplift_shap(
        &self,
        member: &MemberModel,
        input: &[f32],
        references: &[f32],
        output: usize,
    ) -> Result<Shap, ExplainError> {
        let plan = member.deeplift.as_ref().map_err(|reason| ExplainError::Invalid(reason.clone()))?;
        let block = self.channels * self.length;
        if input.len() != block || references.is_empty() || !references.len().is_multiple_of(block) {
            return Err(ExplainError::Invalid(format!(
                "DeepLIFT/SHAP needs one input of {block} values and references of {block} values each; got {} and {}",
                input.len(),
                references.len()
            )));
        }
        Ok(plan.shap(input, references, output))
    }

    /// Whether ISM runs by local updates ([`IsmPlan`], single-block CNNs; every member of an
    /// ensemble) rather than batched full forward passes.
    pub fn ism_by_local_updates(&self) -> bool {
        self.members.iter().all(|member| member.ism_plan.is_some())
    }

    /// The members' local-update ISM of one input, averaged; `None` unless every member has a
    /// plan.
    fn ism_local(&self, input: &[f32], output: usize) -> Option<Vec<f32>> {
        let effects: Option<Vec<Vec<f32>>> =
            self.members.iter().map(|member| Some(member.ism_plan.as_ref()?.ism(input, output).1)).collect();
        effects.map(mean_of)
    }

    /// All single-base substitutions of one input `[channels, length]`: the change in the chosen
    /// output for each (position, base), 0 at observed bases and at positions without a base.
    /// Single-block CNNs use local updates ([`IsmPlan`]); other models score the mutants in
    /// batches of full forward passes.
    pub fn ism(&self, input: &[f32], output: usize, batch_size: usize) -> Result<Vec<f32>, ExplainError> {
        if let Some(effects) = self.ism_local(input, output) {
            return Ok(effects);
        }
        self.ism_batched(input, output, batch_size)
    }

    /// ISM by batched full forward passes (every model).
    pub fn ism_batched(&self, input: &[f32], output: usize, batch_size: usize) -> Result<Vec<f32>, ExplainError> {
        let (channels, length) = (self.channels, self.length);
        let block = channels * length;
        let reference = self.logits(input, output)?.first().copied().unwrap_or(f32::NAN);
        // (position, channel) of every substitution.
        let mut mutants = Vec::with_capacity(length * (channels - 1));
        for position in 0..length {
            if (0..channels).all(|c| input[c * length + position] == 0.0) {
                continue; // padding or N: nothing to substitute
            }
            for channel in 0..channels {
                if input[channel * length + position] < 0.5 {
                    mutants.push((position, channel));
                }
            }
        }
        let mut effects = vec![0.0f32; block];
        let mut buffer = Vec::with_capacity(batch_size.max(1) * block);
        for chunk in mutants.chunks(batch_size.max(1)) {
            buffer.clear();
            for &(position, channel) in chunk {
                let start = buffer.len();
                buffer.extend_from_slice(input);
                for c in 0..channels {
                    buffer[start + c * length + position] = 0.0;
                }
                buffer[start + channel * length + position] = 1.0;
            }
            let logits = self.logits(&buffer, output)?;
            for (&(position, channel), logit) in chunk.iter().zip(logits) {
                effects[channel * length + position] = logit - reference;
            }
        }
        Ok(effects)
    }

    /// ISM the slow way, for comparison: one forward pass of one mutant at a time through burn.
    pub fn ism_naive(&self, input: &[f32], output: usize) -> Result<Vec<f32>, ExplainError> {
        let (channels, length) = (self.channels, self.length);
        let forward = |values: Vec<f32>| -> Result<f32, ExplainError> {
            let x = Tensor::<3>::from_data(TensorData::new(values, [1, channels, length]), &self.device);
            let mut outputs = Vec::with_capacity(self.members.len());
            for member in &self.members {
                let all: Vec<f32> = member.model.forward(x.clone()).into_data().try_into_vec().map_err(data_error)?;
                outputs.push(vec![all.get(output).copied().unwrap_or(f32::NAN)]);
            }
            Ok(mean_of(outputs)[0])
        };
        let reference = forward(input.to_vec())?;
        let mut effects = vec![0.0f32; channels * length];
        for position in 0..length {
            if (0..channels).all(|c| input[c * length + position] == 0.0) {
                continue;
            }
            for channel in 0..channels {
                if input[channel * length + position] >= 0.5 {
                    continue;
                }
                let mut mutant = input.to_vec();
                for c in 0..channels {
                    mutant[c * length + position] = 0.0;
                }
                mutant[channel * length + position] = 1.0;
                effects[channel * length + position] = forward(mutant)? - reference;
            }
        }
        Ok(effects)
    }

    /// ISM ([`Explainer::ism`]) of a batch of inputs `[n, channels, length]`, the sequences in
    /// parallel where the local-update plan applies: `[n, channels, length]`.
    pub fn ism_many(&self, inputs: &[f32], output: usize, batch_size: usize) -> Result<Vec<f32>, ExplainError> {
        let block = self.channels * self.length;
        if self.ism_by_local_updates() {
            let effects: Vec<Vec<f32>> = inputs
                .par_chunks(block.max(1))
                .map(|input| self.ism_local(input, output).unwrap_or_default())
                .collect();
            return Ok(effects.concat());
        }
        let mut effects = Vec::with_capacity(inputs.len());
        for input in inputs.chunks(block.max(1)) {
            effects.extend(self.ism_batched(input, output, batch_size)?);
        }
        Ok(effects)
    }

    /// Attributions of the given examples.
    pub fn explain(
        &self,
        pipeline: &InputPipeline,
        dataset: &Dataset,
        indices: &[usize],
        options: &ExplainOptions,
    ) -> Result<Vec<SequenceAttribution>, ExplainError> {
        let mut results = Vec::with_capacity(indices.len());
        for chunk in indices.chunks(options.batch_size.max(1)) {
            let BatchInput::Dense { values, .. } = pipeline.batch(dataset, chunk, None) else {
                return Err(ExplainError::Invalid("the model's inputs are not one-hot sequences".into()));
            };
            let sequences: Vec<&[u8]> =
                chunk.iter().map(|&index| dataset.examples[index].sequence.as_slice()).collect();
            results.extend(self.explain_batch(values, chunk, &sequences, options)?);
        }
        Ok(results)
    }

    /// Attributions of one-hot inputs `[n, channels, length]` (numbered from 0, which seeds
    /// shuffled baselines as the examples of a file are); the sequence a shuffled baseline
    /// shuffles is read back from the input (a column without a base reads as the padding
    /// symbol).
    pub fn explain_one_hot(
        &self,
        inputs: &[f32],
        options: &ExplainOptions,
    ) -> Result<Vec<SequenceAttribution>, ExplainError> {
        let block = self.channels * self.length;
        if block == 0 || !inputs.len().is_multiple_of(block) {
            return Err(ExplainError::Invalid(format!(
                "{} input values are not a whole number of [{}, {}] inputs",
                inputs.len(),
                self.channels,
                self.length
            )));
        }
        let mut results = Vec::with_capacity(inputs.len() / block);
        let indices: Vec<usize> = (0..inputs.len() / block).collect();
        for (chunk, values) in
            indices.chunks(options.batch_size.max(1)).zip(inputs.chunks(options.batch_size.max(1) * block))
        {
            let sequences: Vec<Vec<u8>> =
                values.chunks(block).map(|input| self.encoder.decode(input, self.length)).collect();
            let sequences: Vec<&[u8]> = sequences.iter().map(Vec::as_slice).collect();
            results.extend(self.explain_batch(values.to_vec(), chunk, &sequences, options)?);
        }
        Ok(results)
    }

    /// Attributions of one batch: `values` `[n, channels, length]`, the examples' indices and
    /// sequences (for shuffled baselines).
    fn explain_batch(
        &self,
        values: Vec<f32>,
        indices: &[usize],
        sequences: &[&[u8]],
        options: &ExplainOptions,
    ) -> Result<Vec<SequenceAttribution>, ExplainError> {
        if options.output >= self.outputs.max(1) {
            return Err(ExplainError::Invalid(format!(
                "output {} does not exist; the model has {} output(s)",
                options.output, self.outputs
            )));
        }
        let block = self.channels * self.length;
        let wants = |m: Method| options.methods.contains(&m);
        let (logits, gradient) = if wants(Method::Saliency) || wants(Method::GradientXInput) {
            let (l, g) = self.gradients(&values, options.output)?;
            (l, Some(g))
        } else {
            (self.logits(&values, options.output)?, None)
        };
        let ism = if wants(Method::Ism) {
            Some(self.ism_many(&values, options.output, options.batch_size.max(1) * 4)?)
        } else {
            None
        };
        let mut results = Vec::with_capacity(indices.len());
        for (k, (&index, sequence)) in indices.iter().zip(sequences).enumerate() {
            let input = values[k * block..(k + 1) * block].to_vec();
            let grad = gradient.as_ref().map(|g| g[k * block..(k + 1) * block].to_vec());
            let gxi = grad
                .as_ref()
                .filter(|_| wants(Method::GradientXInput))
                .map(|g| g.iter().zip(&input).map(|(a, b)| a * b).collect());
            let integrated = if wants(Method::IntegratedGradients) {
                Some(self.integrated_gradients(&input, sequence, options, index)?)
            } else {
                None
            };
            let shap = if wants(Method::DeepLiftShap) {
                let references = self.shap_references(&input, index, options);
                Some(self.deeplift_shap(&input, &references, options.output)?)
            } else {
                None
            };
            let (deeplift_shap, hypothetical, convergence) = match shap {
                Some(shap) => (Some(shap.actual), Some(shap.hypothetical), Some(shap.max_deviation)),
                None => (None, None, None),
            };
            results.push(SequenceAttribution {
                index,
                logit: logits[k],
                saliency: grad.filter(|_| wants(Method::Saliency)),
                gradient_x_input: gxi,
                integrated_gradients: integrated,
                ism: ism.as_ref().map(|effects| effects[k * block..(k + 1) * block].to_vec()),
                deeplift_shap,
                hypothetical,
                convergence,
                input,
            });
        }
        Ok(results)
    }

    /// Integrated gradients of one input `[channels, length]`.
    fn integrated_gradients(
        &self,
        input: &[f32],
        sequence: &[u8],
        options: &ExplainOptions,
        index: usize,
    ) -> Result<Vec<f32>, ExplainError> {
        let (channels, length) = (self.channels, self.length);
        let block = channels * length;
        let baseline: Vec<f32> = match options.ig_baseline {
            IgBaseline::Zeros => vec![0.0; block],
            IgBaseline::Uniform => vec![1.0 / channels as f32; block],
            IgBaseline::Shuffled => {
                let mut rng =
                    ChaCha8Rng::seed_from_u64(options.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let shuffled = dinucleotide_shuffle(sequence, &mut rng);
                let mut encoded = vec![0.0f32; block];
                // The shuffle keeps the letters, so the schema's encoder always succeeds; were it
                // not, the zero baseline is the safe fallback.
                if self.encoder.encode_into(&shuffled, &mut encoded).is_err() {
                    encoded.fill(0.0);
                }
                encoded
            }
        };
        let steps = options.ig_steps.max(1);
        let mut path = Vec::with_capacity(steps * block);
        for step in 0..steps {
            let alpha = (step as f32 + 0.5) / steps as f32;
            path.extend(baseline.iter().zip(input).map(|(b, x)| b + alpha * (x - b)));
        }
        let mut total = vec![0.0f32; block];
        for chunk in path.chunks(options.batch_size.max(1) * block) {
            let (_, gradient) = self.gradients(chunk, options.output)?;
            for row in gradient.chunks(block) {
                for (t, g) in total.iter_mut().zip(row) {
                    *t += g;
                }
            }
        }
        Ok(total.iter().zip(input.iter().zip(&baseline)).map(|(g, (x, b))| g / steps as f32 * (x - b)).collect())
    }
}

/// The element-wise mean of equally long vectors, summed in order; one vector is returned as it
/// is (a single run's values stay bit for bit what they were).
fn mean_of(mut vectors: Vec<Vec<f32>>) -> Vec<f32> {
    if vectors.len() <= 1 {
        return vectors.pop().unwrap_or_default();
    }
    let count = vectors.len() as f32;
    let mut total = vectors[0].clone();
    for vector in &vectors[1..] {
        for (t, v) in total.iter_mut().zip(vector) {
            *t += v;
        }
    }
    for t in &mut total {
        *t /= count;
    }
    total
}

fn data_error(error: impl std::fmt::Display) -> ExplainError {
    ExplainError::Invalid(format!("reading a tensor back failed: {error}"))
}

/// The sites of one first-layer filter.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterSites {
    /// Filter index.
    pub index: usize,
    /// Base counts over the filter's sites `[width][channels]` (N contributes nothing).
    pub counts: Vec<Vec<f64>>,
    /// Number of sites (windows above the threshold).
    pub sites: usize,
    /// The filter's largest activation over the data.
    pub max_activation: f32,
}

/// Sites of every first-layer filter over the given encoded sequences: windows whose activation
/// exceeds `threshold × the filter's maximum activation` (0.5 in DeepBind and Basset).
///
/// # Shapes
/// - `inputs`: `[n, channels, length]`
pub fn filter_sites(layer: &FirstLayer, inputs: &[f32], length: usize, threshold: f32) -> Vec<FilterSites> {
    let block = layer.channels * length;
    let span = layer.span();
    if block == 0 || length < span {
        return Vec::new();
    }
    let windows = length - span + 1;
    let activations: Vec<Vec<f32>> = inputs.par_chunks(block).map(|input| layer.activations(input, length)).collect();
    let mut max = vec![0.0f32; layer.filters];
    for activation in &activations {
        for filter in 0..layer.filters {
            for &a in &activation[filter * windows..(filter + 1) * windows] {
                max[filter] = max[filter].max(a);
            }
        }
    }
    (0..layer.filters)
        .into_par_iter()
        .map(|filter| {
            let mut counts = vec![vec![0.0f64; layer.channels]; layer.width];
            let mut sites = 0;
            let cut = threshold * max[filter];
            if max[filter] > 0.0 {
                for (input, activation) in inputs.chunks(block).zip(&activations) {
                    for (position, &a) in activation[filter * windows..(filter + 1) * windows].iter().enumerate() {
                        if a <= cut {
                            continue;
                        }
                        sites += 1;
                        for (tap, column) in counts.iter_mut().enumerate() {
                            let at = position + tap * layer.dilation;
                            for (channel, count) in column.iter_mut().enumerate() {
                                *count += f64::from(input[channel * length + at]);
                            }
                        }
                    }
                }
            }
            FilterSites { index: filter, counts, sites, max_activation: max[filter] }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_sites_count_the_windows_above_half_the_maximum() {
        // One filter of width 2 that fires on "AC": +1 for A at tap 0, +1 for C at tap 1.
        let layer = FirstLayer {
            filters: 1,
            channels: 4,
            width: 2,
            dilation: 1,
            weights: vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
            bias: vec![0.0],
            scale: vec![1.0],
            shift: vec![0.0],
        };
        let encoder = omix_encode::Encoder::new(omix_encode::Alphabet::Dna, omix_encode::Ambiguity::Zero);
        let mut inputs = Vec::new();
        for sequence in [b"ACGTAC", b"GGGGAC", b"TTTTTT"] {
            inputs.extend(encoder.encode(sequence).unwrap_or_default());
        }
        let sites = filter_sites(&layer, &inputs, 6, 0.5);
        assert_eq!(sites.len(), 1);
        // AC scores 2 (three times); single hits (A or C alone) score 1, not above 0.5 × 2.
        assert_eq!(sites[0].sites, 3);
        assert_eq!(sites[0].max_activation, 2.0);
        assert_eq!(sites[0].counts[0], vec![3.0, 0.0, 0.0, 0.0]);
        assert_eq!(sites[0].counts[1], vec![0.0, 3.0, 0.0, 0.0]);
    }
}
