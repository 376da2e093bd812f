//! Profile-model attributions against an independent implementation, and DeepLIFT's summation to
//! delta.
//!
//! The fixture (tests/data/bpnet_deeplift_tangermeme.json, made by
//! tests/data/make_bpnet_deeplift_fixture.py) holds bpnet-lite's and tangermeme's DeepLIFT/SHAP
//! hypothetical attributions of a small BPNet (weights in tests/data/bpnet_tiny.safetensors) for
//! the count head and bpnet-lite's profile wrapper, on fixed sequences against fixed references.

use std::path::Path;

use burn::prelude::*;
use omix_explain::profile::shap_references;
use omix_explain::{IgBaseline, ProfileExplainer, ProfileHead};
use omix_models::{Bpnet, BpnetConfig, ProfileShape};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn one_hot(sequence: &str) -> Vec<f32> {
    let length = sequence.len();
    let mut values = vec![0.0f32; 4 * length];
    for (i, base) in sequence.bytes().enumerate() {
        if let Some(channel) = b"ACGT".iter().position(|&b| b == base) {
            values[channel * length + i] = 1.0;
        }
    }
    values
}

fn floats(value: &serde_json::Value) -> Vec<f32> {
    value.as_array().map(|a| a.iter().filter_map(|v| v.as_f64()).map(|v| v as f32).collect()).unwrap_or_default()
}

fn relative_l2(ours: &[f32], theirs: &[f32]) -> f64 {
    let difference: f64 = ours.iter().zip(theirs).map(|(a, b)| f64::from(a - b).powi(2)).sum();
    let norm: f64 = theirs.iter().map(|b| f64::from(*b).powi(2)).sum();
    (difference / norm.max(1e-30)).sqrt()
}

/// The fixture's BPNet with bpnet-lite's weights.
fn fixture_model(
    fixture: &serde_json::Value,
    device: &Device,
) -> Result<(Bpnet, ProfileShape), Box<dyn std::error::Error>> {
    let size = |key: &str| fixture[key].as_u64().map(|v| v as usize).ok_or(format!("fixture has no {key}"));
    let config = BpnetConfig { filters: size("filters")?, layers: size("layers")?, first_width: 21, profile_width: 75 };
    let shape = ProfileShape {
        input_length: size("input_length")?,
        output_length: size("output_length")?,
        tasks: 1,
        strands: 2,
        control_strands: 0,
    };
    let bytes = std::fs::read(data("bpnet_tiny.safetensors"))?;
    Ok((config.init(shape, device)?.with_safetensors(&bytes)?, shape))
}

/// omix's DeepLIFT/SHAP of both heads equals bpnet-lite + tangermeme's on the same weights,
/// sequences and references (relative L2 below 1e-5 for the counts, 1e-3 for the profile wrapper in
/// float32), and the heads' values equal theirs.
#[test]
fn deeplift_shap_equals_tangermeme_for_both_heads() -> TestResult {
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("bpnet_deeplift_tangermeme.json"))?)?;
    let device = Device::flex().autodiff();
    let (model, shape) = fixture_model(&fixture, &device)?;
    let explainer = ProfileExplainer::new(model, shape, &device);
    let sequences: Vec<&str> =
        fixture["sequences"].as_array().ok_or("sequences")?.iter().filter_map(|s| s.as_str()).collect();
    let references: Vec<Vec<&str>> = fixture["references"]
        .as_array()
        .ok_or("references")?
        .iter()
        .map(|r| r.as_array().map(|a| a.iter().filter_map(|s| s.as_str()).collect()).unwrap_or_default())
        .collect();
    let per_window = references[0].len();
    let inputs: Vec<f32> = sequences.iter().flat_map(|s| one_hot(s)).collect();
    let reference_inputs: Vec<f32> = references.iter().flatten().flat_map(|s| one_hot(s)).collect();
    for head in ProfileHead::ALL {
        let target = &fixture["targets"][head.name()];
        let (outputs, theirs) = (floats(&target["output"]), floats(&target["hypothetical"]));
        let reference_outputs: Vec<f32> =
            target["reference_output"].as_array().ok_or("reference_output")?.iter().flat_map(floats).collect();
        let ours_outputs = explainer.outputs(&inputs, None, head, 0)?;
        for (a, b) in ours_outputs.iter().zip(&outputs) {
            assert!((a - b).abs() < 1e-4, "{}: output {a} vs bpnet-lite's {b}", head.name());
        }
        // Pairs in batches that do not line up with the windows, as the CLI may batch them.
        let shap = explainer.deeplift_shap(&inputs, &reference_inputs, None, per_window, head, 0, 5)?;
        let mut ours = Vec::new();
        for (k, s) in shap.iter().enumerate() {
            assert!((s.output - outputs[k]).abs() < 1e-4);
            let mean_reference: f32 =
                reference_outputs[k * per_window..(k + 1) * per_window].iter().sum::<f32>() / per_window as f32;
            assert!((s.mean_reference_output - mean_reference).abs() < 1e-4, "{}", head.name());
            assert!(s.max_deviation < 1e-4, "{}: summation to delta off by {}", head.name(), s.max_deviation);
            let total: f32 = s.actual.iter().sum();
            assert!((total - (s.output - s.mean_reference_output)).abs() < 1e-4);
            ours.extend_from_slice(&s.hypothetical);
        }
        let error = relative_l2(&ours, &theirs);
        // In float64, as bpnet-lite explains the profile head, the two agree to rounding.
        let precise = explainer.float64().deeplift_shap(&inputs, &reference_inputs, None, per_window, head, 0, 5)?;
        let precise: Vec<f32> = precise.iter().flat_map(|s| s.hypothetical.iter().copied()).collect();
        let error64 = relative_l2(&precise, &theirs);
        eprintln!("{} head in float64: relative L2 {error64:.1e}", head.name());
        assert!(error64 < 1e-6, "{}: float64 relative L2 error {error64:.2e} against tangermeme", head.name());
        let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        let scale = theirs.iter().map(|v| v.abs()).fold(0.0f32, f32::max);
        eprintln!(
            "{} head: hypothetical attributions vs tangermeme: relative L2 {error:.1e}, largest difference {worst:.1e} (largest value {scale:.2})",
            head.name()
        );
        // The fixture is float64. The profile scaling's rescale ratio (y(x) − y(r)) / (c(x) − c(r))
        // cancels where a logit barely moves, so float32 leaves ~1e-4 there: tangermeme itself run
        // in float32 on these inputs is 4.8e-4 from its float64 values (bpnet-lite explains the
        // profile head in float64 for this reason).
        let tolerance = match head {
            ProfileHead::Counts => 1e-5,
            ProfileHead::Profile => 1e-3,
        };
        assert!(error < tolerance, "{}: relative L2 error {error:.2e} against tangermeme", head.name());
    }
    Ok(())
}

/// The weights read from bpnet-lite's file and written again give the same model; a file for
/// another model is refused with the tensor named.
#[test]
fn safetensors_weights_round_trip() -> TestResult {
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("bpnet_deeplift_tangermeme.json"))?)?;
    let device = Device::flex();
    let (model, shape) = fixture_model(&fixture, &device)?;
    let config = BpnetConfig { filters: 6, layers: 2, first_width: 21, profile_width: 75 };
    let again = config.init(shape, &device)?.with_safetensors(&model.to_safetensors()?)?;
    let x = Tensor::<3>::from_data(TensorData::new(one_hot(&"ACGTTGCA".repeat(15)), [1, 4, 120]), &device);
    let (a, b) = (model.forward(x.clone()), again.forward(x));
    assert_eq!(a.0.into_data(), b.0.into_data());
    assert_eq!(a.1.into_data(), b.1.into_data());
    let bytes = std::fs::read(data("bpnet_tiny.safetensors"))?;
    let other = BpnetConfig { filters: 7, ..config }.init(shape, &device)?;
    let error = other.with_safetensors(&bytes).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("iconv.weight has shape"), "{error}");
    Ok(())
}

/// On a freshly initialised BPNet of the published layout (smaller), with shuffled references:
/// every pair's attributions sum to the change of the head, for both heads and two tasks.
#[test]
fn deeplift_sums_to_delta_on_random_models() -> TestResult {
    let device = Device::flex().autodiff();
    device.seed(5);
    let shape = ProfileShape { input_length: 300, output_length: 200, tasks: 2, strands: 2, control_strands: 0 };
    let model = BpnetConfig { filters: 16, layers: 4, ..BpnetConfig::default() }.init(shape, &device)?;
    let explainer = ProfileExplainer::new(model, shape, &device);
    let bases = b"ACGT";
    let sequences: Vec<String> = (0..2u64)
        .map(|s| (0..300u64).map(|i| bases[((i * 7 + s * 13 + i * i * 3) % 4) as usize] as char).collect())
        .collect();
    let inputs: Vec<f32> = sequences.iter().flat_map(|s| one_hot(s)).collect();
    let references: Vec<f32> = inputs
        .chunks(4 * 300)
        .enumerate()
        .flat_map(|(index, input)| shap_references(input, 4, IgBaseline::Shuffled, 6, 42, index))
        .collect();
    for head in ProfileHead::ALL {
        for task in 0..2 {
            let shap = explainer.deeplift_shap(&inputs, &references, None, 6, head, task, 4)?;
            for s in &shap {
                assert!(s.max_deviation < 1e-3, "{} task {task}: off by {}", head.name(), s.max_deviation);
                let total: f32 = s.actual.iter().sum();
                let delta = s.output - s.mean_reference_output;
                assert!((total - delta).abs() < 1e-3, "{}: {total} vs {delta}", head.name());
            }
            // The actual contributions are the hypothetical ones at the observed bases.
            for (s, input) in shap.iter().zip(inputs.chunks(4 * 300)) {
                for ((a, h), x) in s.actual.iter().zip(&s.hypothetical).zip(input) {
                    assert_eq!(*a, h * x);
                }
            }
        }
    }
    // Gradient × input of the count head sums over the observed bases only.
    let (values, attributions) = explainer.gradient_x_input(&inputs, None, ProfileHead::Counts, 1)?;
    assert_eq!(values.len(), 2);
    assert!(attributions.iter().zip(&inputs).all(|(a, x)| *x != 0.0 || *a == 0.0));
    Ok(())
}

/// ISM's effects are the head's change for each substitution, zero at the observed bases.
#[test]
fn ism_scores_each_substitution() -> TestResult {
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("bpnet_deeplift_tangermeme.json"))?)?;
    let device = Device::flex().autodiff();
    let (model, shape) = fixture_model(&fixture, &device)?;
    let explainer = ProfileExplainer::new(model, shape, &device);
    let sequence = fixture["sequences"][0].as_str().ok_or("sequences")?;
    let input = one_hot(sequence);
    for head in ProfileHead::ALL {
        let effects = explainer.ism(&input, None, head, 0, 64)?;
        let reference = explainer.outputs(&input, None, head, 0)?[0];
        for (position, channel) in [(0usize, 0usize), (17, 2), (60, 1), (119, 3)] {
            let mut mutant = input.clone();
            for c in 0..4 {
                mutant[c * 120 + position] = 0.0;
            }
            mutant[channel * 120 + position] = 1.0;
            let want = explainer.outputs(&mutant, None, head, 0)?[0] - reference;
            let got = effects[channel * 120 + position];
            assert!((got - want).abs() < 1e-5, "{} at {position}/{channel}: {got} vs {want}", head.name());
        }
        assert!((0..120).all(|p| (0..4).any(|c| input[c * 120 + p] > 0.5 && effects[c * 120 + p] == 0.0)));
    }
    Ok(())
}

/// Not a test: writes a profile run's model in bpnet-lite's names for
/// bench/profile_explain_tangermeme.py.
///
/// `OMIX_RUN=/tmp/xrun OMIX_WEIGHTS=/tmp/xrun.safetensors cargo test --release -p omix-explain
/// --test profile_fixture export_run_weights -- --ignored`
#[test]
#[ignore]
fn export_run_weights() -> TestResult {
    let (Ok(run), Ok(out)) = (std::env::var("OMIX_RUN"), std::env::var("OMIX_WEIGHTS")) else {
        return Err("set OMIX_RUN (a profile run folder) and OMIX_WEIGHTS (the safetensors file to write)".into());
    };
    let profile = omix_train::profile::ProfileRun::load(&omix_run::RunDir::new(&run), &Device::flex())?;
    std::fs::write(&out, profile.model.to_safetensors()?)?;
    eprintln!("{out}: {:?}", profile.shape);
    Ok(())
}

/// A BPNet with control tracks. A window's control is the same for it and its references, so every
/// pair's attributions still sum to the change of the head; the count head's attributions do not
/// depend on the control (it adds a constant), the profile head's do (it moves the softmax weights).
#[test]
fn deeplift_with_control_tracks_sums_to_delta() -> TestResult {
    let device = Device::flex().autodiff();
    device.seed(6);
    let (input, filters) = (300, 8);
    let shape = ProfileShape { input_length: input, output_length: 200, tasks: 1, strands: 2, control_strands: 2 };
    let model = BpnetConfig { filters, layers: 3, ..BpnetConfig::default() }.init(shape, &device)?;
    // Control weights start at zero: give them values through bpnet-lite's layout (the control
    // channels after the representation's in fconv, the control feature last in linear).
    let bytes = model.to_safetensors()?;
    let file = safetensors::SafeTensors::deserialize(&bytes)?;
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, view) in file.tensors() {
        let shape = view.shape().to_vec();
        let mut values: Vec<f32> =
            view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if name == "fconv.weight" {
            assert_eq!(shape, vec![2, filters + 2, 75]);
            for (i, value) in values.iter_mut().enumerate() {
                if (i / 75) % (filters + 2) >= filters {
                    *value = ((i * 7919 % 97) as f32 / 97.0 - 0.5) * 0.2;
                }
            }
        }
        if name == "linear.weight" {
            assert_eq!(shape, vec![1, filters + 1]);
            values[filters] = 0.7;
        }
        tensors.push((name, shape, values.iter().flat_map(|v| v.to_le_bytes()).collect()));
    }
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(name, shape, data)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                .map(|v| (name.clone(), v))
        })
        .collect::<Result<_, _>>()?;
    let edited = safetensors::tensor::serialize(views, None)?;
    let model = model.with_safetensors(&edited)?;
    // The edited weights come back unchanged through the export.
    let again = model.to_safetensors()?;
    let again = safetensors::SafeTensors::deserialize(&again)?;
    for (name, _, data) in &tensors {
        assert_eq!(again.tensor(name)?.data(), &data[..], "{name}");
    }
    let explainer = ProfileExplainer::new(model, shape, &device);

    let bases = b"ACGT";
    let sequence: String = (0..input as u64).map(|i| bases[((i * 5 + i * i * 7) % 4) as usize] as char).collect();
    let inputs = one_hot(&sequence);
    let references = shap_references(&inputs, 4, IgBaseline::Shuffled, 5, 42, 0);
    let control: Vec<f32> = (0..2 * input).map(|i| ((i * 31 % 7) as f32).max(0.0)).collect();
    let other: Vec<f32> = (0..2 * input).map(|i| ((i * 13 % 5) as f32) * 3.0).collect();
    for head in ProfileHead::ALL {
        let with = explainer.deeplift_shap(&inputs, &references, Some(&control), 5, head, 0, 3)?;
        let without = explainer.deeplift_shap(&inputs, &references, Some(&other), 5, head, 0, 3)?;
        for shap in with.iter().chain(&without) {
            assert!(shap.max_deviation < 1e-3, "{}: off by {}", head.name(), shap.max_deviation);
        }
        let largest = with[0].hypothetical.iter().fold(0f32, |m, v| m.max(v.abs()));
        let differs =
            with[0].hypothetical.iter().zip(&without[0].hypothetical).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        match head {
            ProfileHead::Counts => assert!(differs <= 1e-5 * largest.max(1.0), "count head moved by {differs}"),
            ProfileHead::Profile => assert!(differs > 1e-4 * largest, "profile head unmoved ({differs} of {largest})"),
        }
    }
    // A model that reads controls refuses to run without them.
    let error = explainer.outputs(&inputs, None, ProfileHead::Counts, 0).err().map(|e| e.to_string());
    assert!(error.as_deref().is_some_and(|e| e.contains("control track")), "{error:?}");
    Ok(())
}
