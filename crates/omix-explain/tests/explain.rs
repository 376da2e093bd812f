//! Attributions of a trained primer CNN: gradients against finite differences, integrated
//! gradients' completeness, batched ISM against one mutant at a time, and the planted motif.

use burn::prelude::*;
use omix_data::simulate::{PRIMER_MOTIF, plant_motif};
use omix_data::{DataConfig, Dataset, Split};
use omix_explain::{ExplainOptions, Explainer, IgBaseline, Method, filter_sites};
use omix_models::ModelConfig;
use omix_train::{ExperimentConfig, RunDir, TrainConfig, TrainOptions, TrainedRun, run_experiment};

type TestResult = Result<(), Box<dyn std::error::Error>>;
/// A trained run, its data set and where the motif was planted in each sequence.
type Trained = (RunDir, Dataset, Vec<Option<usize>>);

/// burn's flex backend seeds one process-wide generator: tests that train hold this lock.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Train the primer CNN on 600 simulated sequences (the motif planted in half); returns the run
/// folder, the data set and the motif starts.
fn trained_primer(dir: &std::path::Path) -> Result<Trained, Box<dyn std::error::Error>> {
    let simulated = plant_motif(600, 50, PRIMER_MOTIF, 11);
    let sequences: Vec<String> = simulated.sequences.iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect();
    let labels: Vec<String> = simulated.labels.iter().map(u8::to_string).collect();
    std::fs::write(dir.join("seqs.txt"), sequences.join("\n"))?;
    std::fs::write(dir.join("labels.txt"), labels.join("\n"))?;
    let config = ExperimentConfig {
        seed: 3,
        data: DataConfig {
            input: Some(dir.join("seqs.txt")),
            labels: Some(dir.join("labels.txt")),
            validation_fraction: 0.15,
            test_fraction: 0.15,
            ..DataConfig::default()
        },
        features: None,
        model: ModelConfig::Primer,
        train: TrainConfig { epochs: 25, patience: 0, batch_size: 32, baseline: false, ..TrainConfig::default() },
        baseline: Default::default(),
    };
    let run = RunDir::new(dir.join("run"));
    run_experiment(&config, &run, &burn::prelude::Device::flex(), TrainOptions::default(), &mut |_: &str| {})?;
    let dataset = Dataset::load(&config.data, config.seed)?;
    Ok((run, dataset, simulated.motif_starts))
}

#[test]
fn attributions_of_a_trained_cnn() -> TestResult {
    let _serial = serial();
    let dir = tempfile::tempdir()?;
    let (run, dataset, starts) = trained_primer(dir.path())?;
    let device = Device::flex();
    let explainer = Explainer::new(&run, &device)?;
    let pipeline = run.input_pipeline(&dataset)?;
    let (channels, length) = explainer.shape();
    let block = channels * length;
    let test = dataset.indices(Split::Test);
    let positives: Vec<usize> = test.iter().copied().filter(|&i| starts[i].is_some()).collect();
    let options = ExplainOptions {
        methods: Method::ALL.to_vec(),
        ig_steps: 64,
        ig_baseline: IgBaseline::Zeros,
        batch_size: 16,
        ..ExplainOptions::default()
    };
    let attributions = explainer.explain(&pipeline, &dataset, &positives, &options)?;
    assert_eq!(attributions.len(), positives.len());

    // 1. The gradient equals central finite differences of the logit (the model is piecewise
    // linear, so a small step stays on one piece almost everywhere).
    let first = &attributions[0];
    let saliency = first.saliency.as_ref().ok_or("saliency")?;
    let mut checked = 0;
    for k in (0..block).step_by(7) {
        let step = 1e-2f32;
        let mut plus = first.input.clone();
        plus[k] += step;
        let mut minus = first.input.clone();
        minus[k] -= step;
        let both = [plus, minus].concat();
        let logits = explainer.logits(&both, 0)?;
        let numeric = (logits[0] - logits[1]) / (2.0 * step);
        assert!(
            (numeric - saliency[k]).abs() < 2e-2 * (1.0 + saliency[k].abs()),
            "input {k}: finite difference {numeric} vs gradient {}",
            saliency[k]
        );
        checked += 1;
    }
    assert!(checked > 20);

    // 2. Integrated gradients are complete: they sum to f(x) − f(baseline).
    for attribution in attributions.iter().take(5) {
        let integrated = attribution.integrated_gradients.as_ref().ok_or("integrated gradients")?;
        let total: f32 = integrated.iter().sum();
        let zero = explainer.logits(&vec![0.0; block], 0)?[0];
        let expected = attribution.logit - zero;
        assert!(
            (total - expected).abs() < 0.05 * expected.abs().max(1.0),
            "IG sum {total} vs f(x) - f(0) = {expected}"
        );
    }

    // 3. Batched ISM equals one forward pass per mutant.
    let ism = first.ism.as_ref().ok_or("ism")?;
    let naive = explainer.ism_naive(&first.input, 0)?;
    for (a, b) in ism.iter().zip(&naive) {
        assert!((a - b).abs() < 1e-3, "batched {a} vs naive {b}");
    }
    // Observed bases have no substitution effect.
    for (k, x) in first.input.iter().enumerate() {
        if *x > 0.5 {
            assert_eq!(ism[k], 0.0);
        }
    }

    // 4. Gradient × input peaks inside the planted motif for most positives.
    let mut inside = 0;
    for attribution in &attributions {
        let importance = attribution.position_importance(Method::GradientXInput, channels).ok_or("gxi")?;
        let peak = importance.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i);
        let start = starts[attribution.index].ok_or("a positive")?;
        if (start..start + PRIMER_MOTIF.len()).contains(&peak) {
            inside += 1;
        }
    }
    let fraction = inside as f64 / attributions.len() as f64;
    assert!(fraction >= 0.8, "gradient x input peak inside the motif for {inside} of {}", attributions.len());

    // 5. ISM and gradient × input agree on which positions matter.
    let mut agreement = Vec::new();
    for attribution in &attributions {
        let gxi = attribution.position_importance(Method::GradientXInput, channels).ok_or("gxi")?;
        let ism = attribution.position_importance(Method::Ism, channels).ok_or("ism")?;
        let gxi: Vec<f64> = gxi.iter().map(|v| f64::from(*v)).collect();
        let ism: Vec<f64> = ism.iter().map(|v| f64::from(*v)).collect();
        if let Some(rho) = omix_metrics::spearman(&gxi, &ism) {
            agreement.push(rho);
        }
    }
    let mean = agreement.iter().sum::<f64>() / agreement.len() as f64;
    assert!(mean > 0.3, "mean Spearman between ISM and gradient x input {mean}");

    // 6. Some first-layer filter's sites spell part of the planted motif.
    let layer = explainer.first_layer().ok_or("first layer")?;
    let batch = pipeline.batch(&dataset, &positives, None);
    let (inputs, _) = batch.to_dense_rows();
    let sites = filter_sites(&layer, &inputs, length, 0.5);
    assert_eq!(sites.len(), layer.filters);
    let consensus = |counts: &Vec<Vec<f64>>| -> String {
        counts
            .iter()
            .map(|column| {
                let best = column.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i);
                b"ACGT"[best] as char
            })
            .collect()
    };
    let motif = String::from_utf8_lossy(PRIMER_MOTIF).into_owned();
    let found = sites.iter().filter(|s| s.sites > 0).any(|s| {
        let word = consensus(&s.counts);
        // The filter is 12 wide like the motif; its consensus shares a 6-mer with it.
        (0..=word.len().saturating_sub(6)).any(|i| motif.contains(&word[i..i + 6]))
    });
    assert!(found, "no filter consensus shares a 6-mer with {motif}");
    Ok(())
}

#[test]
fn strand_averaged_sequence_predictions_equal_on_both_strands() -> TestResult {
    let _serial = serial();
    let dir = tempfile::tempdir()?;
    let (run, dataset, _) = trained_primer(dir.path())?;
    let device = Device::flex();
    let mut predictor = omix_train::predictor::SequencePredictor::new(&run, &device)?;
    let sequences: Vec<Vec<u8>> = dataset.examples.iter().take(20).map(|e| e.sequence.clone()).collect();
    let reverse: Vec<Vec<u8>> =
        sequences.iter().map(|s| omix_encode::reverse_complement(s, omix_encode::Alphabet::Dna)).collect();
    // Without averaging the strands generally differ; with it they agree.
    predictor.set_average_strands(false);
    let (forward, backward) = (predictor.predict(&sequences)?, predictor.predict(&reverse)?);
    assert!(
        forward.iter().zip(&backward).any(|(a, b)| (a - b).abs() > 1e-4),
        "the strands already agree without averaging"
    );
    predictor.set_average_strands(true);
    let (forward, backward) = (predictor.predict(&sequences)?, predictor.predict(&reverse)?);
    for (a, b) in forward.iter().zip(&backward) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    // And they equal `predict_scores` on the same examples with averaging.
    let pipeline = run.input_pipeline(&dataset)?;
    let (model, _) = run.load_model(&device)?;
    let indices: Vec<usize> = (0..20).collect();
    let objective = run.objective()?;
    let scores = omix_train::predict_scores(&model, &pipeline, &dataset, &indices, 8, &device, true, objective)?;
    for (a, b) in forward.iter().zip(&scores) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    Ok(())
}
