//! What training explains on its own: the test split with gradient × input and the first-layer
//! filters against JASPAR, written to `RUN/explain/` for the report.

use burn::prelude::*;
use omix_data::{Dataset, Split};
use omix_run::{Observer, RunDir, files};
use omix_train::TrainedRun;

use crate::ExplainError;
use crate::attribution::{ExplainOptions, Method};
use crate::database::motif_database;
use crate::interpret::{InterpretOutcome, InterpretSettings, interpret};

/// Test sequences explained automatically after training.
pub const AUTO_EXPLAIN_SEQUENCES: usize = 2000;

/// Explain a freshly trained run's test split (at most [`AUTO_EXPLAIN_SEQUENCES`] sequences,
/// gradient × input, filter motifs against JASPAR 2024) when its model reads one-hot sequences;
/// `None` for runs whose model does not (matrix rows, engineered features, autoencoders).
pub fn explain_after_training(
    run: &RunDir,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<Option<InterpretOutcome>, ExplainError> {
    let schema = run.schema()?;
    if !schema.is_sequence() {
        return Ok(None);
    }
    let config = run.config()?;
    if config.features.is_some() || !config.model.reads_sequences() || config.model.is_autoencoder() {
        return Ok(None);
    }
    let dataset = Dataset::load(&config.data, config.seed)?;
    let mut indices = dataset.indices(Split::Test);
    indices.truncate(AUTO_EXPLAIN_SEQUENCES);
    let (database, database_label) = motif_database(&[])?;
    let options = ExplainOptions { methods: vec![Method::GradientXInput], ..Default::default() };
    let settings = InterpretSettings::new(options, database, database_label);
    observer.message(&format!(
        "explaining {} test sequences (gradient x input, filter motifs against JASPAR)",
        indices.len()
    ));
    interpret(run, &dataset, &indices, &settings, &run.path(files::EXPLAIN_DIR), device, observer).map(Some)
}
