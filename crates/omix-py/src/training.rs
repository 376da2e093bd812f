//! `omix.train` and `omix.evaluate`: the binary's `train` and `evaluate`, with progress shown by
//! a Python object.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use omix_config::Experiment;
use omix_data::{Dataset, SourceConfig};
use omix_run::{Observer, Preparation, RunDir};
use omix_train::graph::run_graph_experiment;
use omix_train::{TrainOptions, TrainedRun, evaluate_run, run_experiment};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::{message, to_py};
use crate::on_pool;
use crate::progress::PythonObserver;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    Ok(())
}

/// Train the experiment of a config file (`config_path`) or of TOML text made from a dict
/// (`config_json`, relative paths from the working directory) into the run folder `out`, then
/// explain the test split and write the report as `omix train` does. The summary lines.
#[pyfunction]
#[pyo3(signature = (out, progress, config_path=None, config_json=None, force=false, explain=true))]
fn train(
    py: Python<'_>,
    out: PathBuf,
    progress: Py<PyAny>,
    config_path: Option<PathBuf>,
    config_json: Option<String>,
    force: bool,
    explain: bool,
) -> PyResult<Vec<String>> {
    let experiment = match (&config_path, &config_json) {
        (Some(path), None) => Experiment::load(path),
        (None, Some(json)) => {
            let text = toml_of_json(json)?;
            let base = std::env::current_dir().unwrap_or_default();
            Experiment::from_text(Path::new("<config dict>"), &text, &base)
        }
        _ => return Err(PyValueError::new_err("give a config file's path or a dict")),
    }
    .map_err(to_py)?;
    let run = RunDir::new(&out);
    run.prepare(if force { Preparation::Replace } else { Preparation::New }).map_err(to_py)?;
    let mut observer = PythonObserver::new(progress);
    let device = Device::flex();
    py.detach(|| {
        on_pool(|| -> Result<Vec<String>, omix_train::TrainError> {
            let lines = match &experiment {
                Experiment::Sequence(config) => {
                    run_experiment(config, &run, &device, TrainOptions::default(), &mut observer)?.summary_lines(10)
                }
                Experiment::Graph(config) => {
                    run_graph_experiment(config, &run, &device, TrainOptions::default(), &mut observer)?
                        .summary_lines(20)
                }
                Experiment::Profile(config) => omix_train::profile::run_profile_experiment(
                    config,
                    &run,
                    &device,
                    TrainOptions::default(),
                    &mut observer,
                )?
                .summary_lines(),
            };
            for line in &lines {
                observer.message(line);
            }
            // As after `omix train`: failures here do not undo the training.
            if explain
                && matches!(experiment, Experiment::Sequence(_))
                && let Err(error) = omix_explain::explain_after_training(&run, &device, &mut observer)
            {
                observer.message(&format!("explain skipped: {}", message(&error)));
            }
            // ChromBPNet: the bias model's filters against JASPAR, as `omix train` does.
            if let Experiment::Profile(config) = &experiment
                && config.bias.is_some()
            {
                match omix_explain::bias_filters(&run, &device, &mut observer) {
                    Ok(filters) => observer.message(&format!(
                        "bias model: {} filters matched against JASPAR ({})",
                        filters.len(),
                        run.path(omix_run::files::BIAS).join("filters.tsv").display()
                    )),
                    Err(error) => observer.message(&format!("bias filter check skipped: {}", message(&error))),
                }
            }
            match omix_report::write_report(run.root()) {
                Ok(path) => observer.message(&format!("report: {}", path.display())),
                Err(error) => observer.message(&format!("report not written: {error}")),
            }
            Ok(lines)
        })
    })
    .map_err(to_py)
}

/// Metrics (JSON, as `omix evaluate --output` writes them) of a run on a labelled source (the
/// `[data]` keys of one source, as JSON), and the number of examples.
#[pyfunction]
fn evaluate(py: Python<'_>, run: PathBuf, source_json: &str) -> PyResult<(String, usize)> {
    let source: SourceConfig =
        serde_json::from_str(source_json).map_err(|error| PyValueError::new_err(format!("evaluate: {error}")))?;
    let run = RunDir::new(&run);
    let device = Device::flex();
    py.detach(|| {
        on_pool(|| -> Result<(String, usize), Box<dyn std::error::Error + Send + Sync>> {
            let (_, schema) = run.load_model(&device)?;
            let dataset = Dataset::load_for_model(&source.for_model(&schema), &schema, true)?;
            let metrics = evaluate_run(&run, &dataset, &device)?;
            Ok((serde_json::to_string(&metrics)?, dataset.examples.len()))
        })
    })
    .map_err(|error| crate::errors::omix_error(error.as_ref()))
}

/// A config dict (as JSON) as the TOML text of a config file, so that it is read and checked
/// exactly as a file is.
fn toml_of_json(json: &str) -> PyResult<String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|error| PyValueError::new_err(format!("config dict: {error}")))?;
    let table = match to_toml(&value, "")? {
        toml::Value::Table(table) => table,
        _ => return Err(PyValueError::new_err("the config must be a dict of tables ({\"data\": {...}, ...})")),
    };
    toml::to_string(&table).map_err(|error| PyValueError::new_err(format!("config dict: {error}")))
}

fn to_toml(value: &serde_json::Value, key: &str) -> PyResult<toml::Value> {
    use serde_json::Value;
    Ok(match value {
        Value::Null => {
            return Err(PyValueError::new_err(format!(
                "config dict: {key} is None, which a config file cannot say; leave the key out for its default"
            )));
        }
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(number) => match number.as_i64() {
            Some(integer) => toml::Value::Integer(integer),
            None => toml::Value::Float(number.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(text) => toml::Value::String(text.clone()),
        Value::Array(items) => toml::Value::Array(
            items.iter().enumerate().map(|(i, item)| to_toml(item, &format!("{key}[{i}]"))).collect::<PyResult<_>>()?,
        ),
        Value::Object(map) => {
            let mut table = toml::Table::new();
            for (name, item) in map {
                let path = if key.is_empty() { name.clone() } else { format!("{key}.{name}") };
                table.insert(name.clone(), to_toml(item, &path)?);
            }
            toml::Value::Table(table)
        }
    })
}
