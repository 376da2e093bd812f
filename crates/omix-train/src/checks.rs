//! Biology-aware checks run before training: each one says what it saw and why it matters.

use omix_data::{Dataset, Split, Task};
use omix_models::{InputShape, ModelConfig};
use omix_run::Check;

/// Thresholds of the checks (the field's rules of thumb).
pub const MAX_MOTIF_WIDTH: usize = 20;
/// Inputs longer than this are enhancer-scale or beyond.
pub const MAX_INPUT_LENGTH: usize = 2_000;
/// More weight layers than this is deep for most genomics tasks.
pub const MAX_DEPTH: usize = 5;
/// Parameters per training example above which overfitting is likely.
pub const MAX_PARAMETERS_PER_EXAMPLE: usize = 10;
/// A class below this fraction of the training split is rare.
pub const MIN_CLASS_FRACTION: f64 = 0.10;

/// Run every check for a model on a data set.
pub fn biology_checks(dataset: &Dataset, model: &ModelConfig, input: InputShape) -> Vec<Check> {
    let mut checks = Vec::new();
    if let Some(width) = model.first_layer_width()
        && width > MAX_MOTIF_WIDTH
    {
        checks.push(Check::warning(
                "wide_first_layer",
                format!("first-layer filters span {width} positions (more than ~{MAX_MOTIF_WIDTH})"),
                "transcription-factor motifs are typically 6-20 nt; wider first-layer filters tend to learn several motifs or background at once and are harder to read as motifs",
            ));
    }
    if input.length > MAX_INPUT_LENGTH {
        checks.push(Check::warning(
            "long_input",
            format!("inputs are {} positions long (more than ~{MAX_INPUT_LENGTH})", input.length),
            "for TF-binding or enhancer-scale tasks most signal lies within ~1-2 kb of the peak centre; longer windows add noise and cost unless the task needs long-range context",
        ));
    }
    let depth = model.depth();
    if depth > MAX_DEPTH {
        checks.push(Check::warning(
            "deep_model",
            format!("the model has {depth} weight layers (more than ~{MAX_DEPTH})"),
            "deep networks need far more labelled examples than most genomics data sets have; compare with a shallower model",
        ));
    }
    let train = dataset.summary(Split::Train);
    if let Ok(parameters) = model.parameter_count(input)
        && parameters > MAX_PARAMETERS_PER_EXAMPLE * train.examples.max(1)
    {
        checks.push(Check::warning(
                "many_parameters",
                format!(
                    "{parameters} parameters for {} training examples ({:.0} per example)",
                    train.examples,
                    parameters as f64 / train.examples.max(1) as f64
                ),
                "with far more parameters than examples the model can memorise the training set; watch the gap between training and validation loss, and prefer smaller models, dropout or more data",
            ));
    }
    if matches!(dataset.schema.task, Task::Binary | Task::Multiclass) && !model.is_autoencoder() && train.examples > 0 {
        for (name, &count) in dataset.schema.class_names.iter().zip(&train.per_class) {
            let fraction = count as f64 / train.examples as f64;
            if fraction < MIN_CLASS_FRACTION {
                checks.push(Check::warning(
                    "rare_class",
                    format!("class {name:?} is {:.1}% of the training split ({count} of {})", 100.0 * fraction, train.examples),
                    "accuracy is misleading on imbalanced data: read recall, precision, MCC and AUPRC beside its prevalence baseline, and consider class_weight = \"balanced\" or oversample = true",
                ));
            }
        }
    }
    let duplicates = &dataset.report.duplicates;
    let leaked = duplicates.exact_across_splits + duplicates.reverse_complement_across_splits;
    if leaked > 0 {
        checks.push(Check::warning(
            "cross_split_duplicates",
            format!(
                "{} validation/test sequences also occur in an earlier split ({} exactly, {} as reverse complement){}",
                leaked,
                duplicates.exact_across_splits,
                duplicates.reverse_complement_across_splits,
                if duplicates.dropped { "; they were dropped" } else { "" }
            ),
            "a sequence seen in training inflates validation and test metrics; set duplicates = \"drop\" in [data] to remove them",
        ));
    }
    checks
}
