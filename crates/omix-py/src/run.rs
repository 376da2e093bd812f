//! `omix.load(path)`: a trained run folder as a model handle (predict, explain, ISM, variant
//! scores), over the same library objects the binary uses.

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use burn::prelude::*;
use numpy::{PyArray2, PyArray3, PyReadonlyArray3};
use omix_data::Schema;
use omix_explain::{ExplainOptions, Explainer, IgBaseline, Method};
use omix_run::RunDir;
use omix_train::TrainedRun;
use omix_train::predictor::SequencePredictor;
use omix_variants::{OnMismatch, ScoringJob, Shard, refuse_outputs_over_inputs, scoring_outputs};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::to_py;
use crate::progress::PythonObserver;
use crate::sequences::{checked_shape, to_array3, values};
use crate::{OmixError, on_pool};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeRun>()?;
    Ok(())
}

/// The attribution methods omix has, by the names `explain` takes.
const METHODS: [&str; 5] = ["saliency", "gradient_x_input", "integrated_gradients", "ism", "deeplift_shap"];

/// A trained run folder: its schema read when opened, the predictor (omix's CNN kernels where
/// the model allows) and the explainer (a frozen copy on the autodiff device) loaded on first
/// use, so that runs whose model does not read sequences still show their metrics and config.
#[pyclass(module = "omix._omix", name = "NativeRun", frozen)]
pub struct NativeRun {
    run: RunDir,
    schema: Schema,
    device: Device,
    predictor: OnceLock<SequencePredictor>,
    explainer: OnceLock<Mutex<Explainer>>,
}

impl NativeRun {
    fn explainer(&self) -> PyResult<&Mutex<Explainer>> {
        if let Some(explainer) = self.explainer.get() {
            return Ok(explainer);
        }
        let explainer = Explainer::new(&self.run, &self.device).map_err(to_py)?;
        Ok(self.explainer.get_or_init(|| Mutex::new(explainer)))
    }

    fn predictor(&self) -> PyResult<&SequencePredictor> {
        if let Some(predictor) = self.predictor.get() {
            return Ok(predictor);
        }
        let predictor = on_pool(|| SequencePredictor::new(&self.run, &self.device)).map_err(to_py)?;
        Ok(self.predictor.get_or_init(|| predictor))
    }
}

#[pymethods]
impl NativeRun {
    /// Open the run folder at `path`: a folder without a readable schema and config (not a
    /// run, or an incomplete one) is refused here. An ensemble folder (`omix ensemble`) has no
    /// config of its own: its members are read when it predicts or explains.
    #[new]
    fn new(path: PathBuf) -> PyResult<Self> {
        let run = RunDir::new(&path);
        let schema = run.schema().map_err(to_py)?;
        if run.ensemble().map_err(to_py)?.is_none() && !run.is_graph().map_err(to_py)? {
            run.config().map_err(to_py)?;
        }
        Ok(Self { run, schema, device: Device::flex(), predictor: OnceLock::new(), explainer: OnceLock::new() })
    }

    /// The run folder.
    #[getter]
    fn path(&self) -> PathBuf {
        self.run.root().to_path_buf()
    }

    /// The model's input length.
    #[getter]
    fn length(&self) -> usize {
        self.schema.length
    }

    /// The model's input channels.
    #[getter]
    fn channels(&self) -> usize {
        self.schema.channels()
    }

    /// The alphabet name (`dna`, `rna`, `protein`).
    #[getter]
    fn alphabet(&self) -> String {
        self.schema.alphabet.to_string().to_lowercase()
    }

    /// The name of each output column.
    #[getter]
    fn output_names(&self) -> Vec<String> {
        self.schema.output_names()
    }

    /// The text of a file of the run folder (`config.toml`, `metrics.json`, ...).
    fn read_text(&self, name: &str) -> PyResult<String> {
        self.run.read_text(name).map_err(to_py)
    }

    /// Scores `(N, outputs)` of one-hot inputs `(N, channels, length)`.
    fn predict_one_hot<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray3<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let predictor = self.predictor()?;
        let [n, _, _] = checked_input(&x, predictor.channels(), predictor.length())?;
        let values = values(&x);
        let scores = py.detach(|| on_pool(|| predictor.predict_one_hot(&values))).map_err(to_py)?;
        to_array2(py, scores, n, predictor.outputs())
    }

    /// Scores `(N, outputs)` of sequences, fitted to the model's length by the run's policy.
    fn predict_sequences<'py>(&self, py: Python<'py>, sequences: Vec<String>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let predictor = self.predictor()?;
        let scores = py
            .detach(|| {
                on_pool(|| {
                    let values = predictor.encode(sequences.iter().map(|s| s.as_bytes()), true)?;
                    predictor.predict_one_hot(&values)
                })
            })
            .map_err(to_py)?;
        to_array2(py, scores, sequences.len(), predictor.outputs())
    }

    /// One-hot inputs `(N, channels, length)` of sequences with the run's encoder, fitted to
    /// the model's length by the run's policy.
    fn encode<'py>(&self, py: Python<'py>, sequences: Vec<String>) -> PyResult<Bound<'py, PyArray3<f32>>> {
        let predictor = self.predictor()?;
        let values = py.detach(|| predictor.encode(sequences.iter().map(|s| s.as_bytes()), true)).map_err(to_py)?;
        to_array3(py, values, [sequences.len(), predictor.channels(), predictor.length()])
    }

    /// The output index a class/task name or an index (as text) refers to.
    fn output_index(&self, target: &str) -> PyResult<usize> {
        self.schema.output_index(target).map_err(|error| PyValueError::new_err(format!("target={error}")))
    }

    /// Attributions `(N, channels, length)` of one method for one output.
    #[pyo3(signature = (x, method, output=0, ig_steps=32, ig_baseline="zeros", batch_size=64, seed=42, shap_references=20, hypothetical=false))]
    #[allow(clippy::too_many_arguments)]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray3<'py, f32>,
        method: &str,
        output: usize,
        ig_steps: usize,
        ig_baseline: &str,
        batch_size: usize,
        seed: u64,
        shap_references: usize,
        hypothetical: bool,
    ) -> PyResult<Bound<'py, PyArray3<f32>>> {
        let method = match method {
            "saliency" => Method::Saliency,
            "gradient_x_input" => Method::GradientXInput,
            "integrated_gradients" => Method::IntegratedGradients,
            "ism" => Method::Ism,
            "deeplift_shap" => Method::DeepLiftShap,
            other => {
                return Err(PyValueError::new_err(format!(
                    "method={other:?}: not an attribution method; omix has {}",
                    METHODS.join(", ")
                )));
            }
        };
        let ig_baseline = match ig_baseline {
            "zeros" => IgBaseline::Zeros,
            "shuffled" => IgBaseline::Shuffled,
            "uniform" => IgBaseline::Uniform,
            other => {
                return Err(PyValueError::new_err(format!(
                    "ig_baseline={other:?}: expected \"zeros\", \"shuffled\" or \"uniform\""
                )));
            }
        };
        let explainer = self.explainer()?;
        let explainer = explainer.lock().map_err(|_| OmixError::new_err("the explainer failed in another thread"))?;
        let (channels, length) = explainer.shape();
        let shape = checked_input(&x, channels, length)?;
        let values = values(&x);
        let options = ExplainOptions {
            methods: vec![method],
            output,
            ig_steps: ig_steps.max(1),
            ig_baseline,
            batch_size: batch_size.max(1),
            seed,
            shap_references: shap_references.max(1),
            ..ExplainOptions::default()
        };
        if hypothetical && method != Method::DeepLiftShap {
            return Err(PyValueError::new_err(
                "hypothetical=True: only method=\"deeplift_shap\" has hypothetical contributions",
            ));
        }
        let scores = py
            .detach(|| {
                on_pool(|| {
                    let attributions = explainer.explain_one_hot(&values, &options)?;
                    let mut scores = Vec::with_capacity(values.len());
                    for attribution in &attributions {
                        let values =
                            if hypothetical { attribution.hypothetical.as_deref() } else { attribution.scores(method) };
                        scores.extend_from_slice(values.unwrap_or_default());
                    }
                    Ok::<_, omix_explain::ExplainError>(scores)
                })
            })
            .map_err(to_py)?;
        to_array3(py, scores, shape)
    }

    /// Score a VCF's variants against a reference; the TSV's path. `progress` receives the
    /// library's events.
    #[pyo3(signature = (vcf, reference, out, progress, average_strands=None, skip_mismatches=false, batch_size=1024))]
    #[allow(clippy::too_many_arguments)]
    fn score_variants(
        &self,
        py: Python<'_>,
        vcf: PathBuf,
        reference: PathBuf,
        out: PathBuf,
        progress: Py<PyAny>,
        average_strands: Option<bool>,
        skip_mismatches: bool,
        batch_size: u64,
    ) -> PyResult<PathBuf> {
        let named = [(vcf.as_path(), "the VCF"), (reference.as_path(), "the reference")];
        refuse_outputs_over_inputs(&scoring_outputs(&out), &named, &reference, self.run.root()).map_err(to_py)?;
        // A profile run (BPNet, ChromBPNet) scores chrombpnet's effects; any other model its outputs.
        let predictor: Box<dyn omix_variants::WindowScorer + Send + Sync> =
            if omix_train::profile::ProfileRun::is_profile(&self.run) {
                let mut scorer =
                    omix_train::profile_scorer::ProfileScorer::new(&self.run, &self.device).map_err(to_py)?;
                if let Some(average) = average_strands {
                    scorer.set_average_strands(average);
                }
                Box::new(scorer)
            } else {
                let mut predictor = SequencePredictor::new(&self.run, &self.device).map_err(to_py)?;
                if let Some(average) = average_strands {
                    predictor.set_average_strands(average);
                }
                Box::new(predictor)
            };
        let job = ScoringJob {
            vcf,
            reference: reference.clone(),
            out,
            shard: Shard::ALL,
            batch_records: batch_size.max(1),
            on_mismatch: if skip_mismatches { OnMismatch::Skip } else { OnMismatch::Error },
            stop_after: None,
            model_files: self.run.model_files(),
        };
        let mut observer = PythonObserver::new(progress);
        let outcome = py
            .detach(|| {
                on_pool(|| -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
                    let reference = omix_genome::Reference::open(&reference, &mut |line| {
                        omix_run::Observer::message(&mut observer, line)
                    })?;
                    Ok(job.run(&reference, predictor.as_ref(), &mut observer)?)
                })
            })
            .map_err(|error| crate::errors::omix_error(error.as_ref()))?;
        Ok(outcome.tsv)
    }
}

/// The shape of `x`, which must be `(N, channels, length)`.
fn checked_input(x: &PyReadonlyArray3<'_, f32>, channels: usize, length: usize) -> PyResult<[usize; 3]> {
    let shape = checked_shape(x, channels)?;
    if shape[2] != length {
        return Err(PyValueError::new_err(format!(
            "X has shape {:?}; this model reads (N, {channels}, {length}): sequences of {length} bases (pass strings to have them cropped or padded by the run's length policy)",
            (shape[0], shape[1], shape[2])
        )));
    }
    Ok(shape)
}

fn to_array2(py: Python<'_>, scores: Vec<f64>, n: usize, outputs: usize) -> PyResult<Bound<'_, PyArray2<f64>>> {
    let array = numpy::ndarray::Array2::from_shape_vec([n, outputs], scores)
        .map_err(|error| PyValueError::new_err(format!("internal shape error: {error}")))?;
    Ok(PyArray2::from_owned_array(py, array))
}
