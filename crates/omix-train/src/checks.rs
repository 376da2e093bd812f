//! Biology-aware checks run before training, and checks of the trained model after it: each
//! one says what it saw and why it matters.

use omix_data::{Dataset, Split, Task};
use omix_models::{InputShape, ModelConfig};
use omix_run::{Check, EpochRecord, Observer, RunDir, files};

use crate::TrainError;

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

/// Prints the checks found after training as the ones before it are printed, adds them to
/// `checks` and rewrites `checks.json`, so that the report shows every warning of the run.
pub(crate) fn record_checks(
    run: &RunDir,
    checks: &mut Vec<Check>,
    found: Vec<Check>,
    observer: &mut dyn Observer,
) -> Result<(), TrainError> {
    if found.is_empty() {
        return Ok(());
    }
    for check in &found {
        observer.message(&format!("{}: {}\n  why: {}", check.severity, check.message, check.reason));
    }
    checks.extend(found);
    run.write_json(files::CHECKS, checks)?;
    Ok(())
}

/// After training: the best epoch is the last one run (of more than one), so the model may still
/// have been improving when training ended. `monitor` names the monitored quantity.
pub fn best_epoch_is_last(history: &[EpochRecord], monitor: &str) -> Option<Check> {
    let last = history.last()?;
    if history.len() < 2 || !last.best {
        return None;
    }
    Some(Check::warning(
        "best_epoch_is_last",
        format!(
            "the best epoch by validation {monitor} is the last one run (epoch {} of {})",
            last.epoch,
            history.len()
        ),
        "the model was still improving when training ended, so it may have been cut short: more epochs (`epochs` in [train], or --epochs) might help",
    ))
}

/// After training: the classes (or tasks) that no example of `split` is predicted as.
/// `probabilities` are row-major, one row of `class_names.len()` values per example (binary
/// tasks: one value, the probability of `class_names[1]`); binary and multi-label decisions are
/// `probability >= threshold`, multi-class ones the most probable class. Regression and
/// unsupervised tasks have no classes and give `None`.
pub fn never_predicted(
    task: Task,
    class_names: &[String],
    probabilities: &[f64],
    threshold: f64,
    split: &str,
    unit: &str,
) -> Option<Check> {
    let width = if task == Task::Binary { 1 } else { class_names.len() };
    if width == 0 || probabilities.is_empty() {
        return None;
    }
    let rows = probabilities.chunks(width);
    let examples = rows.len();
    let mut predicted = vec![0usize; class_names.len()];
    for row in rows {
        match task {
            Task::Binary => predicted[usize::from(row[0] >= threshold)] += 1,
            Task::Multiclass => {
                let best = (0..row.len()).fold(0, |best, c| if row[c] > row[best] { c } else { best });
                predicted[best] += 1;
            }
            Task::Multilabel => {
                for (count, value) in predicted.iter_mut().zip(row) {
                    *count += usize::from(*value >= threshold);
                }
            }
            Task::Regression | Task::Unsupervised => return None,
        }
    }
    let never: Vec<&str> =
        class_names.iter().zip(&predicted).filter(|(_, count)| **count == 0).map(|(name, _)| name.as_str()).collect();
    if never.is_empty() {
        return None;
    }
    let (one, many, rule) = match task {
        Task::Multilabel => ("task", "tasks", format!("no probability reaches the threshold {threshold}")),
        Task::Binary => ("class", "classes", format!("decided at probability >= {threshold}")),
        _ => ("class", "classes", "decided by the most probable class".to_string()),
    };
    let subject = if never.len() == 1 { format!("one {one} is") } else { format!("these {many} are") };
    Some(Check::warning(
        "never_predicted",
        format!("{subject} never predicted for any of the {examples} {split} {unit} ({rule}): {}", never.join(", ")),
        "a class the model never predicts has recall 0 and no useful F1, even when the ranking metrics (AUROC) look fine; the model may have collapsed to the majority class: check the class balance (class_weight, oversample), the learning rate and the number of epochs, or choose another threshold",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn epoch(epoch: usize, best: bool) -> EpochRecord {
        EpochRecord {
            epoch,
            learning_rate: 1e-3,
            train_loss: 0.5,
            validation_loss: 0.5,
            validation: Default::default(),
            monitored: 0.5,
            best,
            seconds: 1.0,
        }
    }

    #[test]
    fn best_epoch_last_is_a_warning_unless_one_epoch_ran() -> TestResult {
        let check = best_epoch_is_last(&[epoch(1, true), epoch(2, false), epoch(3, true)], "auroc")
            .ok_or("the best epoch is the last")?;
        assert_eq!(check.id, "best_epoch_is_last");
        assert!(check.message.contains("validation auroc") && check.message.contains("epoch 3 of 3"), "{check:?}");
        assert!(best_epoch_is_last(&[epoch(1, true), epoch(2, true), epoch(3, false)], "loss").is_none());
        assert!(best_epoch_is_last(&[epoch(1, true)], "loss").is_none(), "one epoch has nothing to compare");
        assert!(best_epoch_is_last(&[], "loss").is_none());
        Ok(())
    }

    #[test]
    fn classes_never_predicted_are_named() -> TestResult {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // Binary: nothing reaches the threshold, so the positive class is never predicted.
        let check = never_predicted(Task::Binary, &names(&["0", "1"]), &[0.1, 0.4, 0.49], 0.5, "test", "examples")
            .ok_or("class 1 is never predicted")?;
        assert!(check.message.ends_with(": 1") && check.message.contains("3 test examples"), "{}", check.message);
        let check = never_predicted(Task::Binary, &names(&["0", "1"]), &[0.6, 0.9], 0.5, "validation", "examples")
            .ok_or("class 0 is never predicted")?;
        assert!(check.message.ends_with(": 0"), "{}", check.message);
        assert!(never_predicted(Task::Binary, &names(&["0", "1"]), &[0.6, 0.1], 0.5, "test", "examples").is_none());
        // Multi-class: by the most probable class.
        let rows = [0.7, 0.2, 0.1, 0.6, 0.3, 0.1];
        let check = never_predicted(Task::Multiclass, &names(&["a", "b", "c"]), &rows, 0.5, "test", "examples")
            .ok_or("b and c are never predicted")?;
        assert!(
            check.message.ends_with(
                "classes are never predicted for any of the 2 test examples (decided by the most probable class): b, c"
            ),
            "{}",
            check.message
        );
        // Multi-label: per task.
        let rows = [0.7, 0.2, 0.9, 0.3];
        let check = never_predicted(Task::Multilabel, &names(&["ets", "ctcf"]), &rows, 0.5, "test", "nodes")
            .ok_or("ctcf is never predicted")?;
        assert!(
            check.message.contains("one task is never predicted") && check.message.ends_with(": ctcf"),
            "{}",
            check.message
        );
        assert!(never_predicted(Task::Regression, &names(&["y"]), &[0.1], 0.5, "test", "examples").is_none());
        Ok(())
    }
}
