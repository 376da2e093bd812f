//! The training loop on small simulated data: loss values, overfitting, strand averaging.

use burn::prelude::*;
use omix_data::simulate::{PRIMER_MOTIF, plant_motif};
use omix_data::{DataConfig, Dataset, Split};
use omix_features::KmerConfig;
use omix_models::{AutoencoderConfig, ConvAutoencoderConfig, DenseConfig, InputShape, ModelConfig, RnnConfig};
use omix_train::{
    ExperimentConfig, FeatureConfig, InputPipeline, Objective, RunDir, TrainConfig, TrainOptions, batch_loss,
    predict_scores, train,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// burn's flex backend draws initial weights and dropout masks from one process-wide generator,
/// so trainings running side by side in this test binary would mix their draws and stop being
/// reproducible: tests that seed and train hold this lock.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_primer_data(dir: &std::path::Path, count: usize) -> DataConfig {
    let simulated = plant_motif(count, 50, PRIMER_MOTIF, 5);
    let sequences: Vec<String> = simulated.sequences.iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect();
    let labels: Vec<String> = simulated.labels.iter().map(u8::to_string).collect();
    std::fs::write(dir.join("seqs.txt"), sequences.join("\n")).expect("write");
    std::fs::write(dir.join("labels.txt"), labels.join("\n")).expect("write");
    DataConfig { input: Some(dir.join("seqs.txt")), labels: Some(dir.join("labels.txt")), ..DataConfig::default() }
}

#[test]
fn binary_loss_matches_the_closed_form() {
    let device = Device::flex();
    let logits = Tensor::<2>::from_data(TensorData::new(vec![2.0f32, -1.0, 0.0], [3, 1]), &device);
    let targets = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 1.0, 0.0], [3, 1]), &device);
    let weights = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 2.0, 1.0], [3]), &device);
    let loss: f32 = batch_loss(logits, targets, weights, Objective::SigmoidCrossEntropy).into_scalar();
    // -log σ(2), -log σ(-1) (weight 2), -log(1 - σ(0)); weighted sum over the batch size.
    let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
    let expected = (-(sigmoid(2.0).ln()) - 2.0 * sigmoid(-1.0).ln() - (1.0 - sigmoid(0.0)).ln()) / 3.0;
    assert!((f64::from(loss) - expected).abs() < 1e-6, "{loss} vs {expected}");
}

#[test]
fn multiclass_loss_matches_the_closed_form() {
    let device = Device::flex();
    let logits = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0], [1, 3]), &device);
    let targets = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 0.0, 1.0], [1, 3]), &device);
    let weights = Tensor::<1>::from_data(TensorData::new(vec![1.0f32], [1]), &device);
    let loss: f32 = batch_loss(logits, targets, weights, Objective::SoftmaxCrossEntropy).into_scalar();
    let expected = -(3.0f64.exp() / (1.0f64.exp() + 2.0f64.exp() + 3.0f64.exp())).ln();
    assert!((f64::from(loss) - expected).abs() < 1e-6);
}

#[test]
fn primer_cnn_overfits_32_examples() -> TestResult {
    let _serial = serial();
    let dir = tempfile::tempdir()?;
    let mut data = write_primer_data(dir.path(), 40);
    data.validation_fraction = 0.1;
    data.test_fraction = 0.1;
    let config = ExperimentConfig {
        seed: 1,
        data,
        features: None,
        model: ModelConfig::Primer,
        train: TrainConfig { epochs: 150, patience: 0, batch_size: 8, learning_rate: 0.01, ..TrainConfig::default() },
        baseline: Default::default(),
    };
    let dataset = Dataset::load(&config.data, config.seed)?;
    assert_eq!(dataset.summary(Split::Train).examples, 32);
    let run = RunDir::new(dir.path().join("run"));
    run.create()?;
    let pipeline = InputPipeline::fit(None, &dataset)?;
    let result =
        train(&config, &dataset, &pipeline, &run, &Device::flex(), TrainOptions::default(), &mut |_: &str| {})?;
    let last = result.history.last().ok_or("no epochs")?;
    assert!(last.train_loss < 0.05, "training loss {} after {} epochs", last.train_loss, result.history.len());
    Ok(())
}

#[test]
fn strand_averaged_predictions_are_strand_symmetric() -> TestResult {
    let _serial = serial();
    let dir = tempfile::tempdir()?;
    let data = write_primer_data(dir.path(), 20);
    let dataset = Dataset::load(&data, 1)?;
    let device = Device::flex();
    device.seed(3);
    let input = InputShape { channels: 4, length: 50, outputs: 1 };
    let model = ModelConfig::Primer.init(input, &device)?;
    // A copy of the data set whose sequences are the reverse complements.
    let mut reversed = dataset.clone();
    for example in &mut reversed.examples {
        example.sequence = omix_encode::reverse_complement(&example.sequence, omix_encode::Alphabet::Dna);
    }
    let indices: Vec<usize> = (0..dataset.examples.len()).collect();
    let pipeline = InputPipeline::fit(None, &dataset)?;
    let sigmoid = Objective::SigmoidCrossEntropy;
    let forward = predict_scores(&model, &pipeline, &dataset, &indices, 7, &device, true, sigmoid)?;
    let backward = predict_scores(&model, &pipeline, &reversed, &indices, 7, &device, true, sigmoid)?;
    for (f, b) in forward.iter().zip(&backward) {
        assert!((f - b).abs() < 1e-6, "{f} vs {b}");
    }
    let single = predict_scores(&model, &pipeline, &dataset, &indices, 7, &device, false, sigmoid)?;
    assert!(forward.iter().zip(&single).any(|(a, b)| (a - b).abs() > 1e-6), "averaging changes something");
    Ok(())
}

/// Train `model` (with `features`) on 32 training examples and return the last training loss.
fn overfit(
    data: DataConfig,
    features: Option<FeatureConfig>,
    model: ModelConfig,
    epochs: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let _serial = serial();
    let dir = tempfile::tempdir()?;
    let config = ExperimentConfig {
        seed: 3,
        data,
        features,
        model,
        train: TrainConfig {
            epochs,
            patience: 0,
            batch_size: 8,
            learning_rate: 0.01,
            baseline: false,
            ..TrainConfig::default()
        },
        baseline: Default::default(),
    };
    let dataset = Dataset::load(&config.data, config.seed)?;
    assert_eq!(dataset.summary(Split::Train).examples, 32);
    let pipeline = InputPipeline::fit(config.features.as_ref(), &dataset)?;
    let run = RunDir::new(dir.path().join("run"));
    run.create()?;
    let result =
        train(&config, &dataset, &pipeline, &run, &Device::flex(), TrainOptions::default(), &mut |_: &str| {})?;
    Ok(result.history.last().ok_or("no epochs")?.train_loss)
}

fn small_split(mut data: DataConfig) -> DataConfig {
    data.validation_fraction = 0.1;
    data.test_fraction = 0.1;
    data
}

#[test]
fn kmer_dense_network_overfits_32_examples() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = small_split(write_primer_data(dir.path(), 40));
    let features = FeatureConfig::Kmer(KmerConfig { k: 4, canonical: false, ..KmerConfig::default() });
    let model = ModelConfig::Dense(DenseConfig { hidden: vec![32], dropout: 0.0, input_dropout: 0.0 });
    let loss = overfit(data, Some(features), model, 150)?;
    assert!(loss < 0.05, "training loss {loss}");
    Ok(())
}

#[test]
fn recurrent_network_overfits_32_examples() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = small_split(write_primer_data(dir.path(), 40));
    let model = ModelConfig::Rnn(RnnConfig { hidden: 16, ..RnnConfig::default() });
    let loss = overfit(data, None, model, 60)?;
    assert!(loss < 0.05, "training loss {loss}");
    Ok(())
}

/// 40 rows of a 12-column matrix with two labelled groups.
fn write_matrix(dir: &std::path::Path) -> DataConfig {
    let mut matrix = (0..12).map(|j| format!("g{j}")).collect::<Vec<_>>().join(",");
    matrix.push('\n');
    let mut labels = String::from("cell,type\n");
    for i in 0..40u32 {
        let group = i % 2;
        let row: Vec<String> = (0..12u32)
            .map(|j| format!("{:.3}", f64::from((i * 7 + j * 13) % 11) / 5.0 + f64::from(group * (j % 3))))
            .collect();
        matrix.push_str(&row.join(","));
        matrix.push('\n');
        labels.push_str(&format!("c{i},{}\n", if group == 0 { "B" } else { "T" }));
    }
    std::fs::write(dir.join("x.csv"), matrix).expect("write");
    std::fs::write(dir.join("obs.csv"), labels).expect("write");
    DataConfig {
        format: omix_data::Format::Matrix,
        input: Some(dir.join("x.csv")),
        labels: Some(dir.join("obs.csv")),
        label_column: Some("type".into()),
        ..DataConfig::default()
    }
}

#[test]
fn dense_autoencoder_reconstructs_32_rows() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = small_split(write_matrix(dir.path()));
    let model = ModelConfig::Autoencoder(AutoencoderConfig { hidden: vec![32], latent: 8, noise: 0.0, dropout: 0.0 });
    let loss = overfit(data, None, model, 300)?;
    // Standardised inputs have variance 1 per column; the reconstruction error falls far below it.
    assert!(loss < 0.05, "reconstruction error {loss}");
    Ok(())
}

#[test]
fn conv_autoencoder_reconstructs_32_sequences() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = small_split(write_primer_data(dir.path(), 40));
    let model = ModelConfig::ConvAutoencoder(ConvAutoencoderConfig {
        filters: vec![16],
        width: 5,
        pool: 2,
        latent: 64,
        ..ConvAutoencoderConfig::default()
    });
    let loss = overfit(data, None, model, 300)?;
    // ln 4 = 1.386 is the cross-entropy of guessing; memorising drives it towards 0.
    assert!(loss < 0.2, "reconstruction cross-entropy {loss}");
    Ok(())
}

#[test]
fn regression_cnn_fits_32_targets() -> TestResult {
    let dir = tempfile::tempdir()?;
    let simulated = plant_motif(40, 50, PRIMER_MOTIF, 5);
    let mut text = String::from("id\tseq\tsignal\n");
    for (i, (sequence, label)) in simulated.sequences.iter().zip(&simulated.labels).enumerate() {
        let signal = f64::from(*label) * 3.0 + (i % 5) as f64 * 0.1;
        text.push_str(&format!("s{i}\t{}\t{signal}\n", String::from_utf8_lossy(sequence)));
    }
    std::fs::write(dir.path().join("r.tsv"), text)?;
    let data = small_split(DataConfig {
        input: Some(dir.path().join("r.tsv")),
        label_columns: vec!["signal".into()],
        task: omix_data::TaskSetting::Regression,
        ..DataConfig::default()
    });
    let loss = overfit(data, None, ModelConfig::Primer, 150)?;
    assert!(loss < 0.05, "mean squared error {loss}");
    Ok(())
}
