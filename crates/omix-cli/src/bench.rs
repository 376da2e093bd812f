//! `omix bench`: throughput of one-hot encoding, and training and inference of the model families
//! (`--model primer|deepbind|basset|danq|bpnet|all`), beside NumPy's and PyTorch's (bench/pytorch_primer.py;
//! BPNet's twin is bpnet-lite's)
//! measured in the same run with the same thread count, architecture, input length, batch size and
//! number of batches, with the peak resident memory of each side.
//!
//! Every timed loop checks its own result: checksums of sampled encoded sequences against a
//! plain reference encoder, a finite and decreasing training loss, finite logits. Nothing here
//! asserts on timings.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::prelude::*;
use omix_encode::{Alphabet, Ambiguity, Encoder};
use omix_models::{
    BpnetConfig, BpnetKernels, ConvLayerConfig, FastPlan, GlobalPool, InputShape, Model, ModelConfig, Padding,
    ProfileBatchRef, ProfileShape, RnnPlan,
};
use omix_train::{Batch, BatchInput, Engine, Objective, TrainingEngine, step_seed};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::cli::{BenchArgs, BenchModel};

/// bench/pytorch_primer.py, built in so that `--pytorch` works from any directory.
const PYTORCH_SCRIPT: &str = include_str!("../../../bench/pytorch_primer.py");
const CHANNELS: usize = 4;
const INFER_BATCH: usize = 256;
/// Sequences per encoded batch (the encoder writes into one reused batch buffer).
const ENCODE_BATCH: usize = 256;
/// Distinct training batches, cycled, so that a falling loss shows the model is learning.
const POOL_BATCHES: usize = 16;
/// Every k-th encoded sequence is checksummed inside the timed loop.
const SAMPLE_EVERY: usize = 97;

/// A model family `omix bench --model` times: the architecture of a shipped config, its input
/// length and its learning rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// The primer CNN on 50-bp inputs (Zou et al. 2019), Adam lr 1e-3.
    Primer,
    /// examples/deepbind_gabpa.toml: 128 filters x 12, "same" padding, global max, dense 32 with
    /// dropout 0.5, on 101-bp peaks, Adam lr 1e-3.
    Deepbind,
    /// examples/gabpa_basset.toml: Basset with "same" padding (three batch-normed blocks, two
    /// dense layers of 1,000 with dropout 0.3) on 101-bp peaks, Adam lr 3e-4.
    Basset,
    /// examples/splice_danq.toml's DanQ (Conv 320x26, pool 13, BiLSTM 320, dense 925) on its
    /// paper's 1000-bp inputs (75 recurrent steps), Adam lr 1e-3.
    Danq,
    /// BPNet as bpnet-lite builds it and `[model] kind = "bpnet"` defaults to (64 filters, first
    /// convolution 21, 8 dilated residual convolutions, profile convolution 75), one task on two
    /// strands, no control track, on 2,114-bp inputs with 1,000-bp outputs; multinomial NLL of the
    /// profile plus MSE of the log count (weight 1, bpnet-lite's default), Adam lr 1e-3. On the CPU
    /// only: omix's BPNet kernels, as `omix train` runs a profile model.
    Bpnet,
}

/// BPNet's windows in the bench (bpnet-lite's and chrombpnet's defaults).
const BPNET_SHAPE: ProfileShape =
    ProfileShape { input_length: 2114, output_length: 1000, tasks: 1, strands: 2, control_strands: 0 };
/// The count loss's weight beside the profile NLL (bpnet-lite's default `alpha`).
const BPNET_COUNT_WEIGHT: f64 = 1.0;
/// With `--model all`, DanQ and BPNet (seconds per batch where the CNNs take milliseconds) time
/// this fraction of the requested batches (at least 2; warm-up at least 1), on both sides.
const HEAVY_SHARE: usize = 20;

impl Family {
    fn of(choice: BenchModel) -> Vec<Family> {
        match choice {
            BenchModel::Primer => vec![Family::Primer],
            BenchModel::Deepbind => vec![Family::Deepbind],
            BenchModel::Basset => vec![Family::Basset],
            BenchModel::Danq => vec![Family::Danq],
            BenchModel::Bpnet => vec![Family::Bpnet],
            BenchModel::All => vec![Family::Primer, Family::Deepbind, Family::Basset, Family::Danq, Family::Bpnet],
        }
    }

    /// Whether a batch of this family takes seconds rather than milliseconds.
    fn heavy(self) -> bool {
        matches!(self, Family::Danq | Family::Bpnet)
    }

    /// Training, warm-up and inference batches this family times: as requested, or for a heavy
    /// family in a run of several families (`--model all`) a [`HEAVY_SHARE`]th of them.
    fn batches(self, args: &BenchArgs) -> Batches {
        if self.heavy() && args.model == BenchModel::All {
            Batches {
                train: (args.train_batches / HEAVY_SHARE).max(2),
                warmup: (args.warmup_batches / HEAVY_SHARE).max(1),
                infer: (args.infer_batches / HEAVY_SHARE).max(2),
            }
        } else {
            Batches { train: args.train_batches, warmup: args.warmup_batches, infer: args.infer_batches }
        }
    }

    fn name(self) -> &'static str {
        match self {
            Family::Primer => "primer",
            Family::Deepbind => "deepbind",
            Family::Basset => "basset",
            Family::Danq => "danq",
            Family::Bpnet => "bpnet",
        }
    }

    /// The sequence model's config (`None` for BPNet, a profile model of its own kind).
    fn config(self) -> Option<ModelConfig> {
        Some(match self {
            Family::Primer => ModelConfig::Primer,
            Family::Deepbind => ModelConfig::Cnn {
                conv: vec![ConvLayerConfig {
                    filters: 128,
                    width: 12,
                    dilation: 1,
                    pool: 1,
                    batch_norm: false,
                    dropout: 0.0,
                    padding: Padding::Same,
                }],
                global_pool: GlobalPool::Max,
                dense: vec![32],
                dense_dropout: 0.5,
            },
            Family::Basset => ModelConfig::Basset { padding: Padding::Same },
            Family::Danq => ModelConfig::Danq,
            Family::Bpnet => return None,
        })
    }

    /// Input length in bases.
    fn length(self) -> usize {
        match self {
            Family::Primer => 50,
            Family::Deepbind | Family::Basset => 101,
            Family::Danq => 1000,
            Family::Bpnet => BPNET_SHAPE.input_length,
        }
    }

    fn learning_rate(self) -> f64 {
        match self {
            Family::Basset => 3e-4,
            Family::Primer | Family::Deepbind | Family::Danq | Family::Bpnet => 1e-3,
        }
    }
}

/// How many batches one family times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Batches {
    train: usize,
    warmup: usize,
    infer: usize,
}

/// The median of some round times.
fn median(rounds: &[f64]) -> f64 {
    let mut sorted = rounds.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Forget this process's peak resident memory so far (Linux; elsewhere nothing happens and
/// [`peak_rss_mb`] reports the whole run's peak).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory of this process since [`reset_peak_rss`], in MB (`VmHWM`, Linux).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
const SETUP_HINT: &str =
    "bash bench/setup_pytorch.sh && target/release/omix --threads 2 bench --pytorch bench/.venv/bin/python";

pub fn run(args: BenchArgs, device: &Device) -> Result<()> {
    if let Some(config) = &args.loader {
        return bench_loader(config, &args, device);
    }
    for (name, value) in [
        ("--encode-sequences", args.encode_sequences),
        ("--encode-length", args.encode_length),
        ("--encode-reps", args.encode_reps),
        ("--train-batches", args.train_batches),
        ("--rounds", args.rounds),
        ("--batch-size", args.batch_size),
        ("--infer-batches", args.infer_batches),
    ] {
        ensure!(value > 0, "{name} must be at least 1");
    }
    let threads = rayon::current_num_threads();
    let temp = TempFiles::default();
    let load = load_average();
    // On a GPU, PyTorch runs on CUDA: the same kind of device, same shapes and batches.
    let gpu = !omix_models::host_kernels_serve(device);
    let torch_device = if gpu { "cuda" } else { "cpu" };

    eprintln!(
        "omix bench: {threads} threads, device {}; encoding {} sequences of {} bp",
        if gpu { "gpu" } else { "cpu" },
        args.encode_sequences,
        args.encode_length
    );
    let sequences = random_sequences(args.encode_sequences, args.encode_length, args.seed);
    let encoding = bench_encoding(&sequences, args.encode_length, args.encode_reps)?;
    let families = Family::of(args.model);
    // PyTorch's side, when asked for: its script and the sequences to encode.
    let pytorch_setup = match &args.pytorch {
        Some(python) => {
            let sequence_file = temp.path("sequences.txt");
            let mut text = Vec::with_capacity(sequences.len() + args.encode_sequences);
            for sequence in sequences.chunks_exact(args.encode_length) {
                text.extend_from_slice(sequence);
                text.push(b'\n');
            }
            std::fs::write(&sequence_file, text)
                .with_context(|| format!("cannot write {}", sequence_file.display()))?;
            let script = match &args.pytorch_script {
                Some(script) => script.clone(),
                None => {
                    let script = temp.path("pytorch_primer.py");
                    std::fs::write(&script, PYTORCH_SCRIPT)
                        .with_context(|| format!("cannot write {}", script.display()))?;
                    script
                }
            };
            Some((python, script, sequence_file))
        }
        None => None,
    };
    // Family by family, omix then PyTorch right after it, so that a change of machine load
    // falls on both sides of a family alike.
    let mut trainings = Vec::with_capacity(families.len());
    let mut reports = Vec::with_capacity(families.len());
    for (index, &family) in families.iter().enumerate() {
        let batches = family.batches(&args);
        eprintln!(
            "omix bench: training {} ({} bp), {} + {} batches of {}",
            family.name(),
            family.length(),
            batches.warmup,
            batches.train,
            args.batch_size
        );
        trainings.push(match family {
            Family::Bpnet => bench_profile_training(&args, device)?,
            _ => bench_training(&args, family, device)?,
        });
        if let Some((python, script, sequence_file)) = &pytorch_setup {
            eprintln!("omix bench: running {} --model {} with {}", script.display(), family.name(), python.display());
            // NumPy's encoding is measured once, beside the first model.
            let encode = index == 0;
            let report = run_pytorch(python, script, &args, (threads, torch_device), sequence_file, family, encode)?;
            check_pytorch(&report, encode.then_some(&encoding), args.encode_sequences, args.encode_length)?;
            reports.push(report);
        }
    }
    let pytorch = pytorch_setup.map(|_| reports);

    let rows = table_rows(&args, &encoding, &trainings, pytorch.as_deref());
    print_table(&args, (threads, gpu), load.as_deref(), &rows, &encoding, &trainings, pytorch.as_deref());

    if let Some(path) = &args.json {
        let document = json!({
            "device": if gpu { "gpu" } else { "cpu" },
            "threads": threads,
            "cpus": available_cpus(),
            "load_average": load,
            "rounds": args.rounds,
            "statistic": "median of the rounds",
            "batch_size": args.batch_size,
            "train_batches": args.train_batches,
            "warmup_batches": args.warmup_batches,
            "infer_batch_size": INFER_BATCH,
            "infer_batches": args.infer_batches,
            "encode_sequences": args.encode_sequences,
            "encode_length": args.encode_length,
            "rows": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
            "omix": {
                "encoding": {
                    "seconds": encoding.seconds,
                    "mb_per_s": encoding.mb_per_s,
                    "sequences_per_s": encoding.sequences_per_s,
                    "checksum": encoding.checksum,
                    "sampled": encoding.sampled,
                },
                "models": trainings.iter().map(TrainResult::to_json).collect::<Vec<_>>(),
            },
            "pytorch": pytorch,
        });
        let text = serde_json::to_string_pretty(&document)?;
        std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("omix bench: table written to {}", path.display());
    }
    Ok(())
}

/// Files in the temporary directory, removed when the bench ends (or fails).
#[derive(Default)]
struct TempFiles {
    paths: std::cell::RefCell<Vec<PathBuf>>,
}

impl TempFiles {
    fn path(&self, name: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("omix-bench-{}-{name}", std::process::id()));
        self.paths.borrow_mut().push(path.clone());
        path
    }
}

impl Drop for TempFiles {
    fn drop(&mut self) {
        for path in self.paths.borrow().iter() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// `count` random DNA sequences of `length` bases, back to back: A, C, G, T and ~1% N.
fn random_sequences(count: usize, length: usize, seed: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count * length)
        .map(|_| {
            let r: u8 = rng.random();
            if r < 3 { b'N' } else { b"ACGT"[usize::from(r & 3)] }
        })
        .collect()
}

/// Order-sensitive checksum of a flattened one-hot block: sum of `value * (index % 251 + 1)`.
/// bench/pytorch_primer.py computes the same on NumPy's encoding.
fn checksum(one_hot: &[f32], weights: &[f64]) -> f64 {
    one_hot.iter().zip(weights).map(|(&v, &w)| f64::from(v) * w).sum()
}

/// The plain reference: one position at a time, a `match` per base, N (anything else) zero.
fn reference_one_hot(sequence: &[u8]) -> Vec<f32> {
    let length = sequence.len();
    let mut out = vec![0.0; CHANNELS * length];
    for (i, &base) in sequence.iter().enumerate() {
        let channel = match base {
            b'A' | b'a' => Some(0),
            b'C' | b'c' => Some(1),
            b'G' | b'g' => Some(2),
            b'T' | b't' | b'U' | b'u' => Some(3),
            _ => None,
        };
        if let Some(channel) = channel {
            out[channel * length + i] = 1.0;
        }
    }
    out
}

fn checksum_weights(block: usize) -> Vec<f64> {
    (0..block).map(|i| (i % 251 + 1) as f64).collect()
}

struct EncodeResult {
    /// Seconds of the fastest pass over all sequences.
    seconds: f64,
    mb_per_s: f64,
    sequences_per_s: f64,
    /// Sum of the sampled sequences' checksums (equal to the reference's).
    checksum: f64,
    sampled: usize,
}

/// One-hot encode every sequence into a reused batch buffer, `reps` passes; the fastest pass
/// is reported. Every `SAMPLE_EVERY`-th sequence is checksummed inside the timed loop and each
/// pass's total is compared with the reference encoder's.
fn bench_encoding(sequences: &[u8], length: usize, reps: usize) -> Result<EncodeResult> {
    let count = sequences.len() / length;
    let block = CHANNELS * length;
    let weights = checksum_weights(block);
    let reference: f64 = sequences
        .chunks_exact(length)
        .step_by(SAMPLE_EVERY)
        .map(|sequence| checksum(&reference_one_hot(sequence), &weights))
        .sum();
    let sampled = count.div_ceil(SAMPLE_EVERY);

    let encoder = Encoder::new(Alphabet::Dna, Ambiguity::Zero);
    let mut buffer = vec![0.0f32; ENCODE_BATCH * block];
    let mut seconds = f64::INFINITY;
    for pass in 0..reps {
        let started = Instant::now();
        let mut total = 0.0;
        for (batch_index, batch) in sequences.chunks(ENCODE_BATCH * length).enumerate() {
            let rows = batch.len() / length;
            let out = &mut buffer[..rows * block];
            for (j, (sequence, one_hot)) in batch.chunks_exact(length).zip(out.chunks_exact_mut(block)).enumerate() {
                encoder.encode_into(sequence, one_hot)?;
                if (batch_index * ENCODE_BATCH + j).is_multiple_of(SAMPLE_EVERY) {
                    total += checksum(one_hot, &weights);
                }
            }
            std::hint::black_box(&mut buffer);
        }
        seconds = seconds.min(started.elapsed().as_secs_f64());
        ensure!(
            total == reference,
            "one-hot encoding is wrong: pass {} checksum {total} != reference {reference}",
            pass + 1
        );
    }
    Ok(EncodeResult {
        seconds,
        mb_per_s: sequences.len() as f64 / 1e6 / seconds,
        sequences_per_s: count as f64 / seconds,
        checksum: reference,
        sampled,
    })
}

struct TrainResult {
    family: Family,
    /// The batches it timed.
    batches: Batches,
    parameters: usize,
    /// Peak resident memory while this model trained and inferred, in MB.
    peak_rss_mb: Option<f64>,
    /// Median seconds of the rounds of `train_batches` batches.
    train_seconds: f64,
    /// Seconds of every training round.
    train_rounds: Vec<f64>,
    train_sequences_per_s: f64,
    /// Loss of every batch, warm-up included.
    losses: Vec<f64>,
    /// Median seconds of the rounds of `infer_batches` batches.
    infer_seconds: f64,
    /// Seconds of every inference round.
    infer_rounds: Vec<f64>,
    infer_sequences_per_s: f64,
}

impl TrainResult {
    fn to_json(&self) -> Value {
        json!({
            "model": self.family.name(),
            "length": self.family.length(),
            "train_batches": self.batches.train,
            "warmup_batches": self.batches.warmup,
            "infer_batches": self.batches.infer,
            "parameters": self.parameters,
            "peak_rss_mb": self.peak_rss_mb,
            "train_seconds": self.train_seconds,
            "train_round_seconds": self.train_rounds,
            "train_sequences_per_s": self.train_sequences_per_s,
            "losses": self.losses,
            "infer_seconds": self.infer_seconds,
            "infer_round_seconds": self.infer_rounds,
            "infer_sequences_per_s": self.infer_sequences_per_s,
        })
    }
}

/// A random one-hot batch `[batch, 4, length]` (A, C, G, T only), flattened.
fn random_one_hot_batch(rng: &mut ChaCha8Rng, batch: usize, length: usize, encoder: &Encoder) -> Result<Vec<f32>> {
    let block = CHANNELS * length;
    let mut out = vec![0.0; batch * block];
    let mut sequence = vec![0u8; length];
    for one_hot in out.chunks_exact_mut(block) {
        for base in &mut sequence {
            *base = b"ACGT"[rng.random_range(0..4)];
        }
        encoder.encode_into(&sequence, one_hot)?;
    }
    Ok(out)
}

/// One optimiser step exactly as the trainer takes it; returns the batch loss.
fn train_step(
    model: Model,
    optim: &mut ModuleOptimizer,
    engine: &TrainingEngine,
    (x, y): &(Vec<f32>, Vec<f32>),
    (family, batch, step): (Family, usize, usize),
) -> Result<(Model, f64)> {
    let data = Batch {
        input: BatchInput::Dense { values: x.clone(), shape: [batch, CHANNELS, family.length()] },
        targets: y.clone(),
        weights: vec![1.0f32; batch],
        outputs: 1,
    };
    let objective = Objective::SigmoidCrossEntropy;
    let (model, loss_value) = engine.step(model, optim, data, objective, family.learning_rate(), step_seed(0, 0, step));
    ensure!(loss_value.is_finite(), "training diverged: loss {loss_value}");
    Ok((model, loss_value))
}

/// Mean loss of the first and of the last pass over the batch pool, when there are two passes.
fn loss_trend(losses: &[f64], pool: usize) -> Option<(f64, f64)> {
    if losses.len() < 2 * pool || pool == 0 {
        return None;
    }
    let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
    Some((mean(&losses[..pool]), mean(&losses[losses.len() - pool..])))
}

fn check_losses(losses: &[f64], pool: usize, who: &str) -> Result<()> {
    if let Some(bad) = losses.iter().find(|loss| !loss.is_finite()) {
        bail!("{who}: training loss {bad} is not finite");
    }
    if let Some((first, last)) = loss_trend(losses, pool) {
        ensure!(
            last < first,
            "{who}: training loss did not decrease (first pass over the {pool} batches {first:.4}, last {last:.4})"
        );
    }
    Ok(())
}

/// Primer CNN (4×50 input, 1 output), Adam lr 1e-3, binary cross-entropy, as
/// crates/omix-train/src/trainer.rs trains it; then forward-only inference in batches of 256.
fn bench_training(args: &BenchArgs, family: Family, device: &Device) -> Result<TrainResult> {
    reset_peak_rss();
    let batch = args.batch_size;
    let length = family.length();
    let batches = family.batches(args);
    let device = device.clone().without_autodiff();
    let train_device = device.clone().autodiff();
    train_device.seed(args.seed);
    let input = InputShape { channels: CHANNELS, length, outputs: 1 };
    let config = family.config().with_context(|| format!("{} is not a sequence model", family.name()))?;
    let parameters = config.parameter_count(input)?;
    let model = config.init(input, &train_device)?;
    let mut optim: ModuleOptimizer = AdamConfig::new().with_epsilon(1e-8).init();
    // The trainer's default engine: the hand-written fast path, unless --burn-autodiff.
    let engine = TrainingEngine::choose(
        if args.burn_autodiff { Engine::Burn } else { Engine::Auto },
        &model,
        true,
        Objective::SigmoidCrossEntropy,
        CHANNELS,
        length,
        &train_device,
    );
    eprintln!("omix bench: training engine {}", engine.describe());

    let encoder = Encoder::new(Alphabet::Dna, Ambiguity::Zero);
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed.wrapping_add(1));
    let mut pool = Vec::with_capacity(POOL_BATCHES);
    for _ in 0..POOL_BATCHES {
        let x = random_one_hot_batch(&mut rng, batch, length, &encoder)?;
        let y: Vec<f32> = (0..batch).map(|_| f32::from(u8::from(rng.random_bool(0.5)))).collect();
        pool.push((x, y));
    }

    let (model, losses, train_rounds) = time_training(model, args.rounds, batches, |model, k| {
        train_step(model, &mut optim, &engine, &pool[k % POOL_BATCHES], (family, batch, k))
    })?;
    check_losses(&losses, POOL_BATCHES, "omix")?;

    let valid = model.valid();
    // What `omix predict` runs: the CNN or the LSTM kernel's forward pass when the model allows it.
    let cnn = if args.burn_autodiff { None } else { FastPlan::new(&valid, CHANNELS, length) };
    let rnn = if args.burn_autodiff || cnn.is_some() { None } else { RnnPlan::new(&valid, CHANNELS, length) };
    let inputs: Vec<Vec<f32>> =
        (0..4).map(|_| random_one_hot_batch(&mut rng, INFER_BATCH, length, &encoder)).collect::<Result<_>>()?;
    let infer = |x: &Vec<f32>| -> Result<()> {
        let logits: Vec<f32> = match (&cnn, &rnn) {
            (Some(plan), _) => plan.logits(&valid, x).context("the CNN kernel does not fit the model")?,
            (None, Some(plan)) => plan.logits(&valid, x).context("the LSTM kernel does not fit the model")?,
            (None, None) => {
                let x = Tensor::<3>::from_data(TensorData::new(x.clone(), [INFER_BATCH, CHANNELS, length]), &device);
                valid
                    .forward(x)
                    .into_data()
                    .try_into_vec()
                    .map_err(|e| anyhow::anyhow!("cannot read the logits: {e}"))?
            }
        };
        ensure!(
            logits.len() == INFER_BATCH && logits.iter().all(|v| v.is_finite()),
            "inference produced {} logits, not {INFER_BATCH} finite ones",
            logits.len()
        );
        Ok(())
    };
    for x in inputs.iter().take(3) {
        infer(x)?;
    }
    let infer_rounds = time_inference(args.rounds, batches.infer, &inputs, infer)?;
    Ok(TrainResult::new(family, batches, (parameters, batch), (train_rounds, infer_rounds), losses))
}

/// `batches.warmup` untimed training steps, then `rounds` timed rounds of `batches.train` steps
/// (training goes on across rounds; each round is timed on its own); `step` takes the model and
/// the step's number. Returns the model, every step's loss and each round's seconds.
fn time_training<M>(
    mut model: M,
    rounds: usize,
    batches: Batches,
    mut step: impl FnMut(M, usize) -> Result<(M, f64)>,
) -> Result<(M, Vec<f64>, Vec<f64>)> {
    let mut losses = Vec::with_capacity(batches.warmup + rounds * batches.train);
    for k in 0..batches.warmup {
        let (next, loss) = step(model, k)?;
        model = next;
        losses.push(loss);
    }
    let mut seconds = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        for _ in 0..batches.train {
            let (next, loss) = step(model, losses.len())?;
            model = next;
            losses.push(loss);
        }
        seconds.push(started.elapsed().as_secs_f64());
    }
    Ok((model, losses, seconds))
}

/// Seconds of each of `rounds` rounds of `batches` inference calls, cycling over `inputs`.
fn time_inference(
    rounds: usize,
    batches: usize,
    inputs: &[Vec<f32>],
    infer: impl Fn(&Vec<f32>) -> Result<()>,
) -> Result<Vec<f64>> {
    let mut seconds = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        for k in 0..batches {
            infer(&inputs[k % inputs.len()])?;
        }
        seconds.push(started.elapsed().as_secs_f64());
    }
    Ok(seconds)
}

impl TrainResult {
    /// The result of `rounds` (training, inference) of a family's `batches`, `batch` sequences a
    /// training batch.
    fn new(
        family: Family,
        batches: Batches,
        (parameters, batch): (usize, usize),
        (train_rounds, infer_rounds): (Vec<f64>, Vec<f64>),
        losses: Vec<f64>,
    ) -> Self {
        let train_seconds = median(&train_rounds);
        let infer_seconds = median(&infer_rounds);
        TrainResult {
            family,
            batches,
            parameters,
            peak_rss_mb: peak_rss_mb(),
            train_rounds,
            infer_rounds,
            train_seconds,
            train_sequences_per_s: (batches.train * batch) as f64 / train_seconds,
            losses,
            infer_seconds,
            infer_sequences_per_s: (batches.infer * INFER_BATCH) as f64 / infer_seconds,
        }
    }
}

/// Random observed counts `[batch, tracks, output_length]` for BPNet: per example a depth from 20
/// to 400 reads per strand, spread over the output window by a random profile.
fn random_counts(rng: &mut ChaCha8Rng, batch: usize, shape: ProfileShape) -> Vec<f32> {
    let mut counts = vec![0.0f32; batch * shape.tracks() * shape.output_length];
    for track in counts.chunks_exact_mut(shape.output_length) {
        let reads = rng.random_range(20..400);
        for _ in 0..reads {
            track[rng.random_range(0..shape.output_length)] += 1.0;
        }
    }
    counts
}

/// BPNet ([`Family::Bpnet`]): training steps as `omix train` takes them for a profile model on
/// the CPU (omix's BPNet kernels for the loss and every gradient, burn's Adam), then inference
/// through the kernels' forward pass in batches of 256, as `omix predict` runs a profile run.
fn bench_profile_training(args: &BenchArgs, device: &Device) -> Result<TrainResult> {
    let family = Family::Bpnet;
    ensure!(
        omix_models::host_kernels_serve(device) && !args.burn_autodiff,
        "--model bpnet times omix's BPNet kernels, which run on the CPU (no --device gpu, no --burn-autodiff)"
    );
    reset_peak_rss();
    let (batch, shape, batches) = (args.batch_size, BPNET_SHAPE, family.batches(args));
    let device = device.clone().without_autodiff();
    let train_device = device.clone().autodiff();
    train_device.seed(args.seed);
    let model = BpnetConfig::default().init(shape, &train_device)?;
    let mut optim: ModuleOptimizer = AdamConfig::new().with_epsilon(1e-8).init();
    eprintln!("omix bench: training engine omix BPNet kernels (hand-written forward/backward)");
    let encoder = Encoder::new(Alphabet::Dna, Ambiguity::Zero);
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed.wrapping_add(1));
    let mut pool = Vec::with_capacity(POOL_BATCHES);
    for _ in 0..POOL_BATCHES {
        let x = random_one_hot_batch(&mut rng, batch, shape.input_length, &encoder)?;
        pool.push((x, random_counts(&mut rng, batch, shape)));
    }
    let in_loss = vec![true; batch];
    let mut step =
        |model: omix_models::Bpnet, (x, counts): &(Vec<f32>, Vec<f32>)| -> Result<(omix_models::Bpnet, f64)> {
            let view = ProfileBatchRef { one_hot: x, counts, profile_in_loss: &in_loss, frozen: None, control: None };
            let (loss, grads) = BpnetKernels::new(&model)?.loss_and_gradients(&view, BPNET_COUNT_WEIGHT, &device)?;
            ensure!(loss.is_finite(), "BPNet training diverged: loss {loss}");
            Ok((optim.step(family.learning_rate(), model, grads), loss))
        };
    let (model, losses, train_rounds) =
        time_training(model, args.rounds, batches, |model, k| step(model, &pool[k % POOL_BATCHES]))?;
    check_losses(&losses, POOL_BATCHES, "omix")?;
    let parameters = model.num_params();

    let valid = model.valid();
    let inputs: Vec<Vec<f32>> = (0..2)
        .map(|_| random_one_hot_batch(&mut rng, INFER_BATCH, shape.input_length, &encoder))
        .collect::<Result<_>>()?;
    let expected = (INFER_BATCH * shape.tracks() * shape.output_length, INFER_BATCH * shape.tasks);
    let infer = |x: &Vec<f32>| -> Result<()> {
        // A fresh kernel view per call, as `omix predict` makes one per run.
        let (logits, log_counts) = BpnetKernels::new(&valid)?.forward(x)?;
        ensure!(
            (logits.len(), log_counts.len()) == expected && logits.iter().chain(&log_counts).all(|v| v.is_finite()),
            "BPNet inference produced {} logits and {} log counts, not {} and {} finite ones",
            logits.len(),
            log_counts.len(),
            expected.0,
            expected.1
        );
        Ok(())
    };
    infer(&inputs[0])?;
    let infer_rounds = time_inference(args.rounds, batches.infer, &inputs, infer)?;
    Ok(TrainResult::new(family, batches, (parameters, batch), (train_rounds, infer_rounds), losses))
}

/// Run bench/pytorch_primer.py with `python` and parse the JSON object it prints last.
fn run_pytorch(
    python: &Path,
    script: &Path,
    args: &BenchArgs,
    (threads, torch_device): (usize, &str),
    sequences: &Path,
    family: Family,
    encode: bool,
) -> Result<Value> {
    let mut command = Command::new(python);
    if !encode {
        command.arg(script).arg("--no-encoding");
    } else {
        command.arg(script);
    }
    let output = command
        .args(["--model", family.name()])
        .args(["--learning-rate", &family.learning_rate().to_string()])
        .args(["--threads", &threads.to_string()])
        .args(["--device", torch_device])
        .args(["--batch-size", &args.batch_size.to_string()])
        .args(["--train-batches", &family.batches(args).train.to_string()])
        .args(["--warmup-batches", &family.batches(args).warmup.to_string()])
        .args(["--rounds", &args.rounds.to_string()])
        .args(["--pool-batches", &POOL_BATCHES.to_string()])
        .args(["--infer-batches", &family.batches(args).infer.to_string()])
        .args(["--infer-batch-size", &INFER_BATCH.to_string()])
        .args(["--length", &family.length().to_string()])
        .args(["--encode-reps", &args.encode_reps.to_string()])
        .args(["--encode-batch", &ENCODE_BATCH.to_string()])
        .args(["--sample-every", &SAMPLE_EVERY.to_string()])
        .args(["--seed", &args.seed.to_string()])
        .arg("--sequences")
        .arg(sequences)
        .env("OMP_NUM_THREADS", threads.to_string())
        .env("MKL_NUM_THREADS", threads.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {} (set it up with: {SETUP_HINT})", python.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success(),
        "{} {} failed ({}){}; a Python with torch and numpy comes from: {SETUP_HINT}",
        python.display(),
        script.display(),
        output.status,
        if stdout.trim().is_empty() { String::new() } else { format!(":\n{}", stdout.trim()) }
    );
    let line =
        stdout.lines().rev().find(|line| !line.trim().is_empty()).context("the PyTorch script printed nothing")?;
    serde_json::from_str(line).with_context(|| format!("the PyTorch script's output is not JSON: {line}"))
}

fn number(report: &Value, path: &[&str]) -> Option<f64> {
    path.iter().try_fold(report, |value, key| value.get(key)).and_then(Value::as_f64)
}

/// NumPy's encodings must checksum like omix's reference; PyTorch's loss must be finite and falling.
fn check_pytorch(report: &Value, encoding: Option<&EncodeResult>, sequences: usize, length: usize) -> Result<()> {
    let Some(encoding) = encoding else {
        return check_pytorch_losses(report);
    };
    ensure!(
        number(report, &["encoding", "sequences"]) == Some(sequences as f64)
            && number(report, &["encoding", "length"]) == Some(length as f64),
        "the PyTorch script encoded other sequences than omix"
    );
    for variant in ["numpy_per_sequence", "numpy_batched"] {
        let found = number(report, &["encoding", variant, "checksum"]);
        ensure!(
            found == Some(encoding.checksum),
            "NumPy's {variant} encoding checksum {} != reference {}",
            found.map_or_else(|| "(missing)".to_string(), |value| value.to_string()),
            encoding.checksum
        );
    }
    check_pytorch_losses(report)
}

/// PyTorch's training loss must be finite and falling.
fn check_pytorch_losses(report: &Value) -> Result<()> {
    let losses: Vec<f64> = report
        .pointer("/training/losses")
        .and_then(Value::as_array)
        .context("the PyTorch script reported no training losses")?
        .iter()
        .map(|v| v.as_f64().unwrap_or(f64::NAN))
        .collect();
    check_losses(&losses, POOL_BATCHES, "PyTorch")
}

struct Row {
    metric: String,
    unit: &'static str,
    omix: f64,
    pytorch: Option<f64>,
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        self.pytorch.filter(|&p| p > 0.0).map(|p| self.omix / p)
    }

    fn to_json(&self) -> Value {
        json!({
            "metric": self.metric,
            "unit": self.unit,
            "omix": self.omix,
            "pytorch": self.pytorch,
            "ratio": self.ratio(),
        })
    }
}

fn table_rows(
    args: &BenchArgs,
    encoding: &EncodeResult,
    trainings: &[TrainResult],
    pytorch: Option<&[Value]>,
) -> Vec<Row> {
    let theirs = |index: usize, path: &[&str]| {
        pytorch.and_then(|reports| reports.get(index)).and_then(|report| number(report, path))
    };
    let mut rows = vec![
        Row {
            metric: "one-hot encode, 1 thread (vs NumPy LUT per batch)".into(),
            unit: "MB/s",
            omix: encoding.mb_per_s,
            pytorch: theirs(0, &["encoding", "numpy_batched", "mb_per_s"]),
        },
        Row {
            metric: "one-hot encode, 1 thread (vs NumPy LUT per batch)".into(),
            unit: "seq/s",
            omix: encoding.sequences_per_s,
            pytorch: theirs(0, &["encoding", "numpy_batched", "sequences_per_s"]),
        },
        Row {
            metric: "one-hot encode, 1 thread (vs NumPy LUT per sequence)".into(),
            unit: "MB/s",
            omix: encoding.mb_per_s,
            pytorch: theirs(0, &["encoding", "numpy_per_sequence", "mb_per_s"]),
        },
    ];
    for (index, training) in trainings.iter().enumerate() {
        let name = training.family.name();
        rows.push(Row {
            metric: format!("{name} training, batch {}", args.batch_size),
            unit: "seq/s",
            omix: training.train_sequences_per_s,
            pytorch: theirs(index, &["training", "train_sequences_per_s"]),
        });
        rows.push(Row {
            metric: format!("{name} inference, batch {INFER_BATCH}"),
            unit: "seq/s",
            omix: training.infer_sequences_per_s,
            pytorch: theirs(index, &["training", "infer_sequences_per_s"]),
        });
        if let Some(peak) = training.peak_rss_mb {
            rows.push(Row {
                metric: format!("{name} peak resident memory (lower is better)"),
                unit: "MB",
                omix: peak,
                pytorch: theirs(index, &["peak_rss_mb"]),
            });
        }
    }
    rows
}

fn show(value: f64) -> String {
    if value >= 100.0 { format!("{value:.0}") } else { format!("{value:.1}") }
}

fn print_table(
    args: &BenchArgs,
    (threads, gpu): (usize, bool),
    load: Option<&str>,
    rows: &[Row],
    encoding: &EncodeResult,
    trainings: &[TrainResult],
    pytorch: Option<&[Value]>,
) {
    println!(
        "omix bench: {}; training and inference: the median of {} rounds",
        if gpu { "on the GPU (PyTorch on CUDA)".to_string() } else { format!("{threads} threads") },
        args.rounds
    );
    for training in trainings {
        let family = training.family;
        let b = training.batches;
        println!(
            "  {}: 4x{} one-hot, {} parameters, Adam lr {}; {} warm-up + {} training batches of {} per round, {} inference batches of {INFER_BATCH}",
            family.name(),
            family.length(),
            training.parameters,
            family.learning_rate(),
            b.warmup,
            b.train,
            args.batch_size,
            b.infer
        );
    }
    if let Some(load) = load {
        println!(
            "load average (1 min) when the bench started: {load} on {} CPUs (other work skews both columns, PyTorch's most)",
            available_cpus()
        );
    }
    println!(
        "encoding: {} sequences x {} bp ({:.1} MB), fastest of {} passes",
        args.encode_sequences,
        args.encode_length,
        (args.encode_sequences * args.encode_length) as f64 / 1e6,
        args.encode_reps
    );
    println!();
    let width = rows.iter().map(|row| row.metric.len() + row.unit.len() + 3).max().unwrap_or(0);
    println!("{:<width$} | {:>10} | {:>10} | {:>20}", "metric", "omix", "PyTorch", "ratio (omix/PyTorch)");
    println!("{}-|-{}-|-{}-|-{}", "-".repeat(width), "-".repeat(10), "-".repeat(10), "-".repeat(20));
    for row in rows {
        let metric = format!("{} ({})", row.metric, row.unit);
        let theirs = row.pytorch.map_or_else(|| "-".to_string(), show);
        let ratio = row.ratio().map_or_else(|| "-".to_string(), |r| format!("{r:.2}x"));
        println!("{metric:<width$} | {:>10} | {theirs:>10} | {ratio:>20}", show(row.omix));
    }
    println!();
    println!(
        "checks: encoding checksum of {} sampled sequences = reference ({}){}",
        encoding.sampled,
        encoding.checksum,
        if pytorch.is_some() { ", NumPy's too" } else { "" }
    );
    let trend = |losses: &[f64]| match loss_trend(losses, POOL_BATCHES) {
        Some((first, last)) => format!("loss {first:.4} -> {last:.4} (first vs last pass over {POOL_BATCHES} batches)"),
        None => "loss finite (too few batches to check that it falls)".to_string(),
    };
    for (index, training) in trainings.iter().enumerate() {
        println!("        omix {} training {}", training.family.name(), trend(&training.losses));
        if let Some(report) = pytorch.and_then(|reports| reports.get(index)) {
            let losses: Vec<f64> = report
                .pointer("/training/losses")
                .and_then(Value::as_array)
                .map(|values| values.iter().filter_map(Value::as_f64).collect())
                .unwrap_or_default();
            println!("        PyTorch {} training {}", training.family.name(), trend(&losses));
        }
    }
    match pytorch.and_then(|reports| reports.first()) {
        Some(report) => {
            let text = |key: &str| report.get(key).and_then(Value::as_str).unwrap_or("?").to_string();
            println!(
                "PyTorch {} (torch.set_num_threads({})), NumPy {}, Python {}",
                text("torch_version"),
                report.get("threads").and_then(Value::as_u64).unwrap_or(0),
                text("numpy_version"),
                text("python_version")
            );
            if let Some(name) = report.get("cuda_device").and_then(Value::as_str) {
                println!("PyTorch device: {name} (CUDA)");
            }
        }
        None => println!("PyTorch column: {SETUP_HINT}"),
    }
}

/// The 1-minute load average (Linux), as written in /proc/loadavg.
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next().map(str::to_string)
}

fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `omix bench --loader CONFIG`: the loader's batches/s beside the model's training steps/s.
fn bench_loader(path: &Path, args: &BenchArgs, device: &Device) -> Result<()> {
    let omix_config::Experiment::Sequence(config) = omix_config::Experiment::load(path)? else {
        bail!("{}: --loader measures sequence experiments ([data]), not graphs", path.display());
    };
    let started = Instant::now();
    let dataset = omix_data::Dataset::load(&config.data, config.seed)?;
    eprintln!(
        "omix bench --loader: data set of {} examples built in {:.2}s (windows fetched, background drawn); {} training examples, model {}, batch {}, {} loader thread(s)",
        dataset.examples.len(),
        started.elapsed().as_secs_f64(),
        dataset.indices(omix_data::Split::Train).len(),
        config.model.name(),
        config.train.batch_size,
        config.train.loader_workers
    );
    let m = omix_train::loader::measure(&config, &dataset, args.loader_batches, args.loader_steps, device)?;
    println!("| what | batches | batches/s | sequences/s |");
    println!("|---|---|---|---|");
    println!(
        "| loader alone ({} thread(s), depth {}) | {} | {:.1} | {:.0} |",
        m.workers,
        config.train.loader_depth,
        m.loader_batches,
        m.loader_batches_per_second,
        m.loader_batches_per_second * m.batch_size as f64
    );
    println!(
        "| training steps, {} | {} | {:.2} | {:.0} |",
        m.model,
        m.train_steps,
        m.train_steps_per_second,
        m.train_steps_per_second * m.batch_size as f64
    );
    println!("loader / training: {:.1}x", m.ratio());
    println!("waiting for data: {:.1}% of the timed steps' time", 100.0 * m.data_wait_share);
    if let Some(json) = &args.json {
        let text = serde_json::to_string_pretty(&m)?;
        omix_io::write_atomically(json, |out| out.write_all(text.as_bytes()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_args() -> BenchArgs {
        BenchArgs {
            burn_autodiff: false,
            encode_sequences: 300,
            encode_length: 31,
            encode_reps: 1,
            train_batches: 20,
            rounds: 2,
            warmup_batches: 2,
            batch_size: 8,
            infer_batches: 2,
            seed: 3,
            pytorch: None,
            pytorch_script: None,
            json: None,
            loader: None,
            loader_batches: 10,
            loader_steps: 2,
            model: BenchModel::Primer,
        }
    }

    #[test]
    fn reference_matches_the_encoder() -> Result<()> {
        let sequences = random_sequences(200, 23, 5);
        assert!(sequences.contains(&b'N'));
        let encoder = Encoder::new(Alphabet::Dna, Ambiguity::Zero);
        for sequence in sequences.chunks_exact(23) {
            assert_eq!(encoder.encode(sequence)?, reference_one_hot(sequence));
        }
        Ok(())
    }

    #[test]
    fn encoding_bench_checks_its_checksum() -> Result<()> {
        let args = small_args();
        let sequences = random_sequences(args.encode_sequences, args.encode_length, args.seed);
        let result = bench_encoding(&sequences, args.encode_length, 2)?;
        assert_eq!(result.sampled, args.encode_sequences.div_ceil(SAMPLE_EVERY));
        assert!(result.checksum > 0.0 && result.mb_per_s > 0.0);
        Ok(())
    }

    #[test]
    fn loss_trend_needs_two_passes() {
        assert_eq!(loss_trend(&[0.7; 31], 16), None);
        let falling: Vec<f64> = (0..32).map(|k| 1.0 - f64::from(k) / 100.0).collect();
        assert!(check_losses(&falling, 16, "test").is_ok());
        let rising: Vec<f64> = falling.iter().rev().copied().collect();
        assert!(check_losses(&rising, 16, "test").is_err());
        assert!(check_losses(&[0.7, f64::NAN], 16, "test").is_err());
    }

    #[test]
    fn training_bench_runs_and_learns() -> Result<()> {
        let args = small_args();
        let result = bench_training(&args, Family::Primer, &Device::flex())?;
        assert_eq!(result.losses.len(), args.warmup_batches + args.rounds * args.train_batches);
        assert_eq!((result.train_rounds.len(), result.infer_rounds.len()), (2, 2));
        assert_eq!(result.parameters, 6209);
        Ok(())
    }

    /// The other families train on the hand-written kernels too (dropout, batch-norm), and learn.
    #[test]
    fn deepbind_and_basset_benches_run_and_learn() -> Result<()> {
        let mut args = small_args();
        (args.rounds, args.train_batches, args.batch_size) = (1, 32, 4);
        for family in [Family::Deepbind, Family::Basset] {
            let result = bench_training(&args, family, &Device::flex())?;
            assert_eq!(result.losses.len(), args.warmup_batches + args.train_batches, "{family:?}");
        }
        Ok(())
    }

    /// BPNet trains on its kernels and learns; `--model all` times a share of the batches for the
    /// heavy families only.
    #[test]
    fn bpnet_bench_runs_and_learns() -> Result<()> {
        let mut args = small_args();
        (args.rounds, args.train_batches, args.batch_size, args.infer_batches, args.warmup_batches) = (1, 32, 2, 1, 1);
        let result = bench_profile_training(&args, &Device::flex())?;
        assert_eq!(result.losses.len(), 1 + 32);
        assert!(result.parameters > 100_000, "{}", result.parameters);
        args.model = BenchModel::All;
        assert_eq!(Family::Bpnet.batches(&args), Batches { train: 2, warmup: 1, infer: 2 });
        assert_eq!(Family::Basset.batches(&args), Batches { train: 32, warmup: 1, infer: 1 });
        Ok(())
    }

    #[test]
    fn median_of_rounds() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn rows_have_ratios_only_with_pytorch() {
        let args = small_args();
        let encoding = EncodeResult { seconds: 1.0, mb_per_s: 10.0, sequences_per_s: 5.0, checksum: 1.0, sampled: 1 };
        let training = vec![TrainResult {
            family: Family::Primer,
            batches: Batches { train: 1, warmup: 1, infer: 1 },
            parameters: 1,
            peak_rss_mb: None,
            train_seconds: 1.0,
            train_rounds: vec![1.0],
            train_sequences_per_s: 40.0,
            losses: Vec::new(),
            infer_seconds: 1.0,
            infer_rounds: vec![1.0],
            infer_sequences_per_s: 80.0,
        }];
        assert!(table_rows(&args, &encoding, &training, None).iter().all(|row| row.ratio().is_none()));
        let report = [json!({
            "encoding": {"numpy_batched": {"mb_per_s": 5.0, "sequences_per_s": 2.5}, "numpy_per_sequence": {"mb_per_s": 1.0}},
            "training": {"train_sequences_per_s": 80.0, "infer_sequences_per_s": 80.0},
        })];
        let ratios: Vec<Option<f64>> =
            table_rows(&args, &encoding, &training, Some(&report)).iter().map(Row::ratio).collect();
        assert_eq!(ratios, [Some(2.0), Some(2.0), Some(10.0), Some(0.5), Some(1.0)]);
    }
}
