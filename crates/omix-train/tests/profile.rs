//! Profile models: the tensor loss against the host NLL, and BPNet trained on simulated footprints.

use burn::prelude::*;
use omix_config::ProfileExperimentConfig;
use omix_metrics::multinomial_nll;
use omix_run::RunDir;
use omix_tracks::{ProfileSimulation, simulate_profiles};
use omix_train::profile::run_profile_experiment;
use omix_train::{TrainOptions, profile_loss, profile_loss_constant};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// burn's device random generator is shared by the process: tests that seed it and train take turns.
static DEVICE_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    DEVICE_RNG.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn tensor_loss_plus_constant_is_the_host_nll_plus_weighted_count_error() -> Result {
    let device = Device::flex();
    let (batch, tasks, strands, length) = (3, 2, 2, 7);
    let tracks = tasks * strands;
    let n = batch * tracks * length;
    let logits: Vec<f32> = (0..n).map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.3).collect();
    let counts: Vec<f32> = (0..n).map(|i| (i * 13 % 5) as f32).collect();
    let log_counts: Vec<f32> = (0..batch * tasks).map(|i| 1.0 + i as f32 * 0.5).collect();
    let weight = 2.5;
    // Example 1 is a background region: its profile does not count, its count does.
    let peaks = [true, false, true];
    let loss = profile_loss(
        Tensor::<3>::from_data(TensorData::new(logits.clone(), [batch, tracks, length]), &device),
        Tensor::<2>::from_data(TensorData::new(log_counts.clone(), [batch, tasks]), &device),
        Tensor::<3>::from_data(TensorData::new(counts.clone(), [batch, tracks, length]), &device),
        Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 0.0, 1.0], [batch]), &device),
        tasks,
        weight,
    );
    let value = f64::from(loss.into_scalar::<f32>()) + profile_loss_constant(&counts, &peaks, tasks);
    let (mut nll, mut count) = (0.0, 0.0);
    for b in 0..batch {
        for t in 0..tasks {
            let from = (b * tracks + t * strands) * length;
            let to = from + strands * length;
            let total: f64 = counts[from..to].iter().map(|&c| f64::from(c)).sum();
            let error = f64::from(log_counts[b * tasks + t]) - (1.0 + total).ln();
            if peaks[b] {
                nll += multinomial_nll(&counts[from..to], &logits[from..to])?;
            }
            count += error * error;
        }
    }
    let host = nll / (2 * tasks) as f64 + weight * count / (batch * tasks) as f64;
    assert!((value - host).abs() < 1e-4 * host.abs().max(1.0), "tensor {value} vs host {host}");
    Ok(())
}

fn tiny_config(dir: &std::path::Path) -> Result<ProfileExperimentConfig> {
    let text = format!(
        "seed = 3\n[tracks]\nreference = {:?}\npeaks = {:?}\ninput_length = 300\noutput_length = 200\njitter = 16\n\
         validation_chromosomes = [\"chr2\"]\ntest_chromosomes = []\n[[tracks.task]]\nname = \"sim\"\nplus = {:?}\nminus = {:?}\n\
         [model]\nfilters = 8\nlayers = 2\n[train]\nepochs = 3\nbatch_size = 32\nlearning_rate = 0.01\n",
        dir.join("genome.fa"),
        dir.join("peaks.narrowPeak"),
        dir.join("counts.plus.bw"),
        dir.join("counts.minus.bw"),
    );
    Ok(ProfileExperimentConfig::from_toml(&text)?)
}

#[test]
fn bpnet_learns_simulated_footprints_and_repeats_itself() -> Result {
    let _guard = serial();
    let data = tempfile::tempdir()?;
    simulate_profiles(&ProfileSimulation::small(), data.path())?;
    let config = tiny_config(data.path())?;
    let device = Device::flex();
    let runs = tempfile::tempdir()?;
    let mut metrics = Vec::new();
    for name in ["a", "b"] {
        let run = RunDir::new(runs.path().join(name));
        let summary = run_profile_experiment(&config, &run, &device, TrainOptions::default(), &mut |_: &str| {})?;
        assert!(summary.finished);
        metrics.push(std::fs::read_to_string(runs.path().join(name).join("metrics.json"))?);
        let log = std::fs::read_to_string(runs.path().join(name).join("training_log.tsv"))?;
        // The validation loss falls from the first epoch to the best.
        let losses: Vec<f64> =
            log.lines().skip(1).filter_map(|l| l.split('\t').nth(3).and_then(|v| v.parse().ok())).collect();
        assert!(losses.len() == 3 && losses.iter().skip(1).any(|&l| l < losses[0]), "{log}");
        assert!(runs.path().join(name).join("model.bpk").exists());
    }
    // Same config and seed: the same numbers.
    assert_eq!(metrics[0], metrics[1]);
    let parsed: serde_json::Value = serde_json::from_str(&metrics[0])?;
    let jsd = parsed["validation"]["peaks"]["sim"]["median_jsd"].as_f64().unwrap_or(f64::NAN);
    assert!(jsd.is_finite() && jsd > 0.0 && jsd < 0.83, "{jsd}");
    Ok(())
}

/// The gradient of the whole profile loss (NLL + weighted count error) through BPNet with respect to
/// its input, by autodiff and by central differences: the loss's tensor form is what training
/// differentiates.
#[test]
fn profile_loss_gradient_matches_finite_differences() -> Result {
    use omix_models::{BpnetConfig, ProfileShape};
    let device = Device::flex().autodiff();
    device.seed(11);
    let config = BpnetConfig { filters: 4, layers: 2, first_width: 5, profile_width: 9 };
    let shape = ProfileShape { input_length: 40, output_length: 20, tasks: 1, strands: 2, control_strands: 0 };
    let model = config.init(shape, &device)?;
    let (batch, tracks, length) = (2, 2, 20);
    let values: Vec<f32> = (0..batch * 4 * 40).map(|i| ((i * 7919 % 13) as f32) / 13.0).collect();
    // Few reads, so the loss is small and f32 resolves the differences.
    let counts: Vec<f32> = (0..batch * tracks * length).map(|i| f32::from(u8::from(i * 31 % 7 == 0))).collect();
    let loss_of = |x: Tensor<3>| {
        let (logits, log_counts) = model.forward(x);
        let y = Tensor::<3>::from_data(TensorData::new(counts.clone(), [batch, tracks, length]), &device);
        let peaks = Tensor::<1>::from_data(TensorData::new(vec![1.0f32; batch], [batch]), &device);
        profile_loss(logits, log_counts, y, peaks, 1, 3.0)
    };
    let input = Tensor::<3>::from_data(TensorData::new(values.clone(), [batch, 4, 40]), &device).require_grad();
    let gradients = loss_of(input.clone()).backward();
    let analytic: Vec<f32> =
        input.grad(&gradients).map(|g| g.into_data().try_to_vec().unwrap_or_default()).unwrap_or_default();
    let value_at = |values: &[f32]| -> f64 {
        f64::from(
            loss_of(Tensor::<3>::from_data(TensorData::new(values.to_vec(), [batch, 4, 40]), &device))
                .into_scalar::<f32>(),
        )
    };
    for index in [3usize, 17, 45, 60, 99, 121, 150, 200, 255, 310] {
        let mut up = values.clone();
        let mut down = values.clone();
        up[index] += 5e-2;
        down[index] -= 5e-2;
        let numeric = (value_at(&up) - value_at(&down)) / 1e-1;
        let error = (numeric - f64::from(analytic[index])).abs();
        assert!(
            error < 5e-3 + 2e-2 * numeric.abs(),
            "input {index}: autodiff {} vs numeric {numeric}",
            analytic[index]
        );
    }
    Ok(())
}

/// Writes what `bench/bpnet_twin.py` compares with bpnet-lite: BPNet's initial weights (bpnet-lite's
/// names) and the losses of 30 Adam steps on one fixed batch of the example data
/// (`omix simulate-tracks --out examples/data/bpnet_sim` first). Run by hand:
/// `OMIX_TWIN_DIR=/tmp/twin cargo test --release -p omix-train --test profile twin -- --ignored`.
#[test]
#[ignore = "writes files for bench/bpnet_twin.py"]
fn bpnet_twin_dump() -> Result {
    use omix_data::profile::{ProfileData, ProfileDataConfig, TaskTracks};
    use omix_genome::SplitName;
    use omix_models::{BpnetConfig, ProfileShape};
    let out = std::path::PathBuf::from(std::env::var("OMIX_TWIN_DIR")?);
    std::fs::create_dir_all(&out)?;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/bpnet_sim");
    let config = ProfileDataConfig {
        reference: dir.join("genome.fa"),
        peaks: dir.join("peaks.narrowPeak"),
        input_length: 1000,
        output_length: 500,
        jitter: 0,
        reverse_complement: false,
        background: 0,
        outlier_quantile: 1.0,
        validation_chromosomes: Some(vec!["chr5".into()]),
        test_chromosomes: Some(vec!["chr6".into()]),
        folds: Vec::new(),
        fold: None,
        max_n_fraction: 0.1,
        tasks: vec![TaskTracks {
            name: "sim".into(),
            plus: Some(dir.join("counts.plus.bw")),
            minus: Some(dir.join("counts.minus.bw")),
            unstranded: None,
            control: Vec::new(),
        }],
    };
    let data = ProfileData::load(&config, 1, &mut |_| {})?;
    let indices: Vec<usize> = data.indices(SplitName::Validation).into_iter().take(32).collect();
    let batch = data.batch(&indices, &[], &[])?;
    let device = Device::flex().autodiff();
    device.seed(1);
    let shape = ProfileShape { input_length: 1000, output_length: 500, tasks: 1, strands: 2, control_strands: 0 };
    let mut model = BpnetConfig { filters: 32, layers: 6, ..BpnetConfig::default() }.init(shape, &device)?;
    std::fs::write(out.join("init.safetensors"), model.to_safetensors()?)?;
    let train = omix_config::TrainConfig { learning_rate: 0.002, ..omix_config::TrainConfig::default() };
    let mut optim = omix_train::optimizer(&train);
    let (mut nlls, mut count_mses) = (Vec::new(), Vec::new());
    for _ in 0..30 {
        let x = Tensor::<3>::from_data(TensorData::new(batch.one_hot.clone(), [32, 4, 1000]), &device);
        let y = Tensor::<3>::from_data(TensorData::new(batch.counts.clone(), [32, 2, 500]), &device);
        let peaks = Tensor::<1>::from_data(TensorData::new(vec![1.0f32; 32], [32]), &device);
        let (logits, log_counts) = model.forward(x);
        let host_logits: Vec<f32> = logits.clone().into_data().try_to_vec().unwrap_or_default();
        let host_counts: Vec<f32> = log_counts.clone().into_data().try_to_vec().unwrap_or_default();
        let (mut nll, mut mse) = (0.0, 0.0);
        for k in 0..32 {
            let observed = &batch.counts[k * 1000..(k + 1) * 1000];
            nll += multinomial_nll(observed, &host_logits[k * 1000..(k + 1) * 1000])? / 32.0;
            let total: f64 = observed.iter().map(|&v| f64::from(v)).sum();
            mse += (f64::from(host_counts[k]) - (1.0 + total).ln()).powi(2) / 32.0;
        }
        nlls.push(nll);
        count_mses.push(mse);
        let loss = profile_loss(logits, log_counts, y, peaks, 1, 22.1);
        let grads = burn::optim::GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(0.002, model, grads);
    }
    let regions: Vec<String> =
        indices.iter().map(|&i| format!("{}:{}", data.regions[i].chrom, data.regions[i].centre)).collect();
    let text = serde_json::json!({ "regions": regions, "nll": nlls, "count_mse": count_mses });
    std::fs::write(out.join("steps.json"), text.to_string())?;
    Ok(())
}

#[test]
fn add_bias_adds_logits_and_counts() -> Result {
    let device = Device::flex();
    let logits = Tensor::<3>::from_data(TensorData::new(vec![0.5f32, -1.0, 2.0, 0.0], [1, 1, 4]), &device);
    let bias_logits = Tensor::<3>::from_data(TensorData::new(vec![1.0f32, 1.0, -0.5, 3.0], [1, 1, 4]), &device);
    let counts = Tensor::<2>::from_data(TensorData::new(vec![2.0f32, -30.0], [1, 2]), &device);
    let bias_counts = Tensor::<2>::from_data(TensorData::new(vec![3.0f32, 40.0], [1, 2]), &device);
    let (sum, combined) = omix_train::profile::add_bias(logits, counts, bias_logits, bias_counts);
    let sum: Vec<f32> = sum.into_data().try_to_vec().map_err(|e| format!("{e:?}"))?;
    assert_eq!(sum, vec![1.5, 0.0, 1.5, 3.0]);
    let combined: Vec<f32> = combined.into_data().try_to_vec().map_err(|e| format!("{e:?}"))?;
    // Counts add: log(e^2 + e^3), and far apart values do not overflow.
    assert!((f64::from(combined[0]) - (2f64.exp() + 3f64.exp()).ln()).abs() < 1e-5, "{combined:?}");
    assert!((combined[1] - 40.0).abs() < 1e-5, "{combined:?}");
    Ok(())
}

#[test]
fn chrombpnet_trains_a_bias_model_first_and_predicts_with_and_without_it() -> Result {
    let _guard = serial();
    let data = tempfile::tempdir()?;
    let simulation = ProfileSimulation { assay: omix_tracks::SimulatedAssay::Atac, ..ProfileSimulation::small() };
    simulate_profiles(&simulation, data.path())?;
    let text = format!(
        "seed = 5\n[tracks]\nreference = {:?}\npeaks = {:?}\ninput_length = 300\noutput_length = 200\njitter = 16\n\
         background = 1\nvalidation_chromosomes = [\"chr2\"]\ntest_chromosomes = []\n[[tracks.task]]\nname = \"atac\"\n\
         unstranded = {:?}\n[model]\nfilters = 8\nlayers = 2\n[bias]\nfilters = 4\nlayers = 1\nepochs = 1\n\
         [train]\nepochs = 2\nbatch_size = 32\nlearning_rate = 0.01\n\
         [[footprint]]\nname = \"GATA\"\nsequence = \"AGATAAGA\"\n",
        data.path().join("genome.fa"),
        data.path().join("peaks.narrowPeak"),
        data.path().join("counts.bw"),
    );
    let config = ProfileExperimentConfig::from_toml(&text)?;
    let device = Device::flex();
    let runs = tempfile::tempdir()?;
    let run = RunDir::new(runs.path().join("run"));
    let summary = run_profile_experiment(&config, &run, &device, TrainOptions::default(), &mut |_: &str| {})?;
    assert!(summary.finished);
    for file in ["model.bpk", "metrics.json", "training_log.tsv", "data_report.json", "config.toml"] {
        assert!(runs.path().join("run/bias").join(file).exists(), "bias/{file} missing");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runs.path().join("run/bias/data_report.json"))?)?;
    let threshold = report["count_threshold"].as_f64().unwrap_or(-1.0);
    assert!(threshold > 0.0, "{report}");
    let footprints: omix_run::profile::Footprints =
        serde_json::from_str(&std::fs::read_to_string(runs.path().join("run/footprints.json"))?)?;
    assert_eq!(footprints.motifs.len(), 1);
    let gata = &footprints.motifs[0];
    assert!(gata.with_bias.is_some() && gata.bias.is_some());
    assert_eq!(gata.model[0].len(), 200);

    // The run loads with its bias model; with and without it the predictions differ, and the
    // combined log count is the log of the summed counts.
    let loaded = omix_train::profile::ProfileRun::load(&run, &device)?;
    let bias = loaded.bias.as_ref().ok_or("no bias model loaded")?;
    let one_hot: Vec<f32> = (0..2 * 4 * 300).map(|i| f32::from(u8::from(i % 4 == (i / 1200) % 4))).collect();
    let (_, corrected) = loaded.forward_one_hot(one_hot.clone(), None, 2, false, &device)?;
    let (_, combined) = loaded.forward_one_hot(one_hot.clone(), None, 2, true, &device)?;
    let x = Tensor::<3>::from_data(TensorData::new(one_hot, [2, 4, 300]), &device);
    let (_, bias_counts) = bias.forward(x);
    let bias_counts: Vec<f32> = bias_counts.into_data().try_to_vec().map_err(|e| format!("{e:?}"))?;
    for k in 0..2 {
        let want = (f64::from(corrected[k]).exp() + f64::from(bias_counts[k]).exp()).ln();
        assert!((f64::from(combined[k]) - want).abs() < 1e-4, "{combined:?} vs {want}");
    }
    Ok(())
}

/// BPNet with control tracks (a simulated ChIP input whose regional factors also scale the
/// experiment): both heads read them in training, prediction and variant scoring, and a model that
/// reads them refuses to run without them.
#[test]
fn control_tracks_reach_both_heads_in_training_prediction_and_scoring() -> Result {
    use omix_variants::{WindowLocus, WindowScorer};
    let _guard = serial();
    let data = tempfile::tempdir()?;
    let simulation = ProfileSimulation { control_depth: 0.05, ..ProfileSimulation::small() };
    let simulated = simulate_profiles(&simulation, data.path())?;
    let mut config = tiny_config(data.path())?;
    config.tracks.tasks[0].control = simulated.files.control.clone();
    let device = Device::flex();
    let runs = tempfile::tempdir()?;
    let run = RunDir::new(runs.path().join("run"));
    let summary = run_profile_experiment(&config, &run, &device, TrainOptions::default(), &mut |_: &str| {})?;
    assert!(summary.finished);

    let loaded = omix_train::profile::ProfileRun::load(&run, &device)?;
    assert_eq!(loaded.shape.control_strands, 2);
    let reference = omix_genome::Reference::open(&data.path().join("genome.fa"), &mut |_| {})?;
    let starts = [20_000i64, 60_000];
    let one_hot = loaded.encode_windows(&reference, "chr1", &starts)?;
    let control = loaded.control_windows("chr1", &starts)?.ok_or("no control windows")?;
    assert_eq!(control.len(), 2 * 2 * 300);
    // Training moved the control weights from zero: the control changes both heads' outputs.
    let (logits, counts) = loaded.forward_one_hot(one_hot.clone(), Some(&control), 2, false, &device)?;
    let doubled: Vec<f32> = control.iter().map(|v| 2.0 * v + 1.0).collect();
    let (other_logits, other_counts) = loaded.forward_one_hot(one_hot.clone(), Some(&doubled), 2, false, &device)?;
    assert!(counts.iter().zip(&other_counts).any(|(a, b)| (a - b).abs() > 1e-4), "{counts:?} {other_counts:?}");
    assert!(logits.iter().zip(&other_logits).any(|(a, b)| (a - b).abs() > 1e-5));
    // Without its controls the model refuses to predict, saying why.
    let error = loaded.forward_one_hot(one_hot, None, 2, false, &device).err().map(|e| e.to_string());
    assert!(error.as_deref().is_some_and(|e| e.contains("control track")), "{error:?}");

    // Variant scoring reads the controls where the windows lie; without loci it refuses.
    let scorer = omix_train::profile_scorer::ProfileScorer::new(&run, &device)?;
    let window = reference.fetch("chr1", 20_000, 20_300)?;
    let mut alternative = window.clone();
    alternative[150] = if window[150] == b'A' { b'C' } else { b'A' };
    let windows = vec![window, alternative];
    let loci = [WindowLocus { chrom: "chr1", start: 20_000 }; 2];
    let effects = scorer.effects_at(&windows, &loci)?;
    assert!(effects.iter().all(|v| v.is_finite()) && !effects.is_empty());
    let error = scorer.effects(&windows).err().unwrap_or_default();
    assert!(error.contains("control tracks"), "{error}");
    Ok(())
}

/// A track file replaced between a stop and `--resume` is refused, naming the change, rather than
/// trained on; the unchanged file resumes.
#[test]
fn resume_refuses_a_replaced_track() -> Result {
    let _guard = serial();
    let data = tempfile::tempdir()?;
    simulate_profiles(&ProfileSimulation::small(), data.path())?;
    let config = tiny_config(data.path())?;
    let device = Device::flex();
    let runs = tempfile::tempdir()?;
    let run = RunDir::new(runs.path().join("run"));
    let first = TrainOptions { stop_after: Some(1), ..TrainOptions::default() };
    let summary = run_profile_experiment(&config, &run, &device, first, &mut |_: &str| {})?;
    assert!(!summary.finished);
    // The same bigWig again (another seed's counts at the same path).
    let other = tempfile::tempdir()?;
    simulate_profiles(&ProfileSimulation { seed: 9, ..ProfileSimulation::small() }, other.path())?;
    let original = std::fs::read(data.path().join("counts.minus.bw"))?;
    std::fs::copy(other.path().join("counts.minus.bw"), data.path().join("counts.minus.bw"))?;
    let resume = TrainOptions { resume: true, ..TrainOptions::default() };
    let error = run_profile_experiment(&config, &run, &device, resume, &mut |_: &str| {})
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("data") && error.contains("changed"), "{error}");
    std::fs::write(data.path().join("counts.minus.bw"), original)?;
    let summary = run_profile_experiment(&config, &run, &device, resume, &mut |_: &str| {})?;
    assert!(summary.finished);
    Ok(())
}
