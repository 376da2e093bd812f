//! What each subcommand does.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use omix_config::Experiment;
use omix_data::simulate::{PRIMER_MOTIF, plant_motif};
use omix_data::{ClassFile, DataConfig, Dataset, Format, Schema, SourceConfig};
use omix_encode::Alphabet;
use omix_explain::{
    ExplainOptions, IgBaseline, InterpretSettings, Method, explain_after_training, interpret, motif_database,
};
use omix_io::write_atomically;
use omix_models::{Cell, ConvLayerConfig, DenseConfig, GlobalPool, ModelConfig, Padding, Readout, RnnConfig};
use omix_run::{Preparation, RunDir, files, write_predictions};
use omix_train::graph::{GraphExperimentConfig, run_graph_experiment};
use omix_train::{ExperimentConfig, TrainOptions, TrainedRun, evaluate_run, run_experiment};

use crate::progress::Terminal;

use crate::cli::{
    BaselineChoice, Cli, Command, DistanceChoice, EmbedArgs, EvaluateArgs, ExplainArgs, ExportArgs, FormatChoice,
    InputArgs, LengthPolicyChoice, MethodChoice, ModelChoice, PredictArgs, QuickstartArgs, ReportArgs, ScoringChoice,
    TrainArgs,
};

/// Dispatch a parsed command line; `device` is where models train and predict.
pub fn run(cli: Cli, device: &Device) -> Result<()> {
    match cli.command {
        Command::Train(args) => train(*args, device),
        Command::Tune(args) => crate::tune_cmd::tune(args, device),
        Command::Ensemble(args) => crate::tune_cmd::ensemble(args, device),
        Command::Check(args) => train(TrainArgs { dry_run: true, ..*args }, device),
        Command::Init(args) => crate::init::init(args),
        Command::Completions(args) => {
            use clap::CommandFactory;
            let mut command = Cli::command();
            clap_complete::generate(args.shell, &mut command, "omix", &mut std::io::stdout());
            Ok(())
        }
        Command::Evaluate(args) => evaluate(args, device),
        Command::Predict(args) => predict(args, device),
        Command::ScoreVariants(args) => crate::genome_cmds::score_variants(args, device),
        Command::Embed(args) => embed(args, device),
        Command::Explain(args) => explain(*args, device),
        Command::Motifs(args) => crate::motifs_cmd::motifs(*args),
        Command::Export(args) => export(args, device),
        Command::Tracks(args) => crate::genome_cmds::tracks(args),
        Command::SimulateTracks(args) => crate::genome_cmds::simulate_tracks(args),
        Command::Report(args) => report(args),
        Command::Quickstart(args) => quickstart(args, device),
        Command::Bench(args) => crate::bench::run(args, device),
    }
}

/// The flag form of a source.
fn source_from_args(args: &InputArgs) -> Result<SourceConfig> {
    let mut classes = Vec::with_capacity(args.classes.len());
    for class in &args.classes {
        let Some((label, path)) = class.split_once('=') else {
            bail!("--class {class:?}: expected NAME=FILE, e.g. --class bound=positives.fa");
        };
        if label.is_empty() || path.is_empty() {
            bail!("--class {class:?}: both NAME and FILE are needed, e.g. --class bound=positives.fa");
        }
        classes.push(ClassFile { label: label.to_string(), path: PathBuf::from(path) });
    }
    let source = SourceConfig {
        input: args.input.clone(),
        labels: args.labels.clone(),
        classes,
        seq_column: args.seq_column.clone(),
        label_column: args.label_column.clone(),
        id_column: args.id_column.clone(),
        format: match args.format {
            None => Format::Auto,
            Some(FormatChoice::Lines) => Format::Lines,
            Some(FormatChoice::Fasta) => Format::Fasta,
            Some(FormatChoice::Table) => Format::Table,
            Some(FormatChoice::Matrix) => Format::Matrix,
        },
        ..SourceConfig::default()
    };
    if source.is_empty() {
        bail!(
            "no input: give --input FILE (with --labels for one sequence per line, or a label column) or --class NAME=FILE"
        );
    }
    Ok(source)
}

/// The flag form of a source for a trained run: a run trained on a matrix reads a matrix.
fn source_for_run(args: &InputArgs, schema: &Schema) -> Result<SourceConfig> {
    Ok(source_from_args(args)?.for_model(schema))
}

/// The examples of `--input` for a trained run, fitted to the model's input length under
/// `--length-policy` (default: the run's own policy).
fn load_for_run(args: &InputArgs, schema: &Schema, require_labels: bool) -> Result<Dataset> {
    let source = source_for_run(args, schema)?;
    let mut schema = schema.clone();
    if let Some(policy) = args.length_policy {
        schema.length_policy = policy.policy();
    }
    Ok(Dataset::load_for_model(&source, &schema, require_labels)?)
}

/// The default `cnn` of the flag interface: one convolution block (64 filters of width 15),
/// global max pooling, a dense layer of 32.
fn default_cnn() -> ModelConfig {
    ModelConfig::Cnn {
        conv: vec![ConvLayerConfig {
            filters: 64,
            width: 15,
            dilation: 1,
            pool: 1,
            batch_norm: false,
            dropout: 0.0,
            padding: Padding::Same,
        }],
        global_pool: GlobalPool::Max,
        dense: vec![32],
        dense_dropout: 0.2,
    }
}

/// The flags of `omix train` as typed overrides of the experiment (what they mean is the
/// library's [`omix_config::Overrides`]).
fn overrides(args: &TrainArgs) -> Result<omix_config::Overrides> {
    let given_source = args.input.input.is_some() || !args.input.classes.is_empty();
    let recurrent = |cell| ModelConfig::Rnn(RnnConfig { cell, readout: Readout::Max, ..RnnConfig::default() });
    Ok(omix_config::Overrides {
        source: if given_source { Some(source_from_args(&args.input)?) } else { None },
        seq_column: args.input.seq_column.clone(),
        label_column: args.input.label_column.clone(),
        id_column: args.input.id_column.clone(),
        split_column: args.split_column.clone(),
        test: args.test_input.clone().map(|input| (input, args.test_labels.clone())),
        alphabet: args.alphabet.as_deref().map(|alphabet| match alphabet {
            "rna" => Alphabet::Rna,
            "protein" => Alphabet::Protein,
            _ => Alphabet::Dna,
        }),
        length: args.length,
        length_policy: args.input.length_policy.map(LengthPolicyChoice::policy),
        shuffled_negatives: args.shuffled_negatives,
        drop_duplicates: args.drop_duplicates,
        balanced: args.balanced,
        model: args.model.map(|choice| match choice {
            ModelChoice::Primer => ModelConfig::Primer,
            ModelChoice::Cnn => default_cnn(),
            ModelChoice::Deepbind => ModelConfig::Deepbind { padding: Padding::Same },
            ModelChoice::Deepsea => ModelConfig::Deepsea { padding: Padding::Valid },
            ModelChoice::Basset => ModelConfig::Basset { padding: Padding::Valid },
            ModelChoice::DeepcpgDna => ModelConfig::DeepcpgDna { padding: Padding::Valid },
            ModelChoice::Danq => ModelConfig::Danq,
            ModelChoice::Lstm => recurrent(Cell::Lstm),
            ModelChoice::Gru => recurrent(Cell::Gru),
            ModelChoice::Dense => ModelConfig::Dense(DenseConfig::default()),
        }),
        no_baseline: args.no_baseline,
        seed: args.seed,
        fold: args.fold,
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.learning_rate,
        settings: args
            .settings
            .iter()
            .map(|setting| setting.parse::<omix_config::Setting>().map_err(anyhow::Error::from))
            .collect::<Result<_>>()?,
    })
}

/// Prepare the run folder: refuse to mix runs unless resuming or forced, and never touch a folder
/// omix did not make.
fn prepare_run_dir(out: &Path, resume: bool, force: bool) -> Result<()> {
    let how = match (resume, force) {
        (true, _) => Preparation::Resume,
        (false, true) => Preparation::Replace,
        (false, false) => Preparation::New,
    };
    let prepared = RunDir::new(out).prepare(how)?;
    if !prepared.kept.is_empty() {
        eprintln!(
            "--force removed the {} entries omix had written in {} and kept {} it did not write: {}",
            prepared.removed,
            out.display(),
            prepared.kept.len(),
            prepared.kept.join(", ")
        );
    }
    Ok(())
}

/// `omix train CONFIG` for a `[graph]` experiment: a GCN on a graph's nodes.
fn train_graph(
    mut config: GraphExperimentConfig,
    overrides: &omix_config::Overrides,
    out: &Path,
    args: &TrainArgs,
    device: &Device,
) -> Result<()> {
    overrides.apply_graph(&mut config)?;
    prepare_run_dir(out, args.resume, args.force)?;
    let options = train_options(args);
    let started = Instant::now();
    let summary = run_graph_experiment(&config, &RunDir::new(out), device, options, &mut Terminal::new(args.quiet))?;
    if !summary.finished {
        eprintln!("stopped after {} epochs as asked; continue with --resume", summary.epochs);
        return Ok(());
    }
    print_summary(&summary, 20);
    if !args.no_report {
        report_or_warn(out);
    }
    print_run_folder(out, summary.best_epoch, summary.epochs, started);
    Ok(())
}

/// The last line of a finished training: where the run is, the epoch kept, the time.
fn print_run_folder(out: &Path, best_epoch: usize, epochs: usize, started: Instant) {
    eprintln!(
        "run folder: {} (best epoch {best_epoch} of {epochs}; {:.1}s)",
        out.display(),
        started.elapsed().as_secs_f64()
    );
}

/// `omix train CONFIG` for a `[tracks]` experiment: BPNet on coverage tracks.
fn train_profile(
    mut config: omix_config::ProfileExperimentConfig,
    overrides: &omix_config::Overrides,
    out: &Path,
    args: &TrainArgs,
    device: &Device,
) -> Result<()> {
    overrides.apply_profile(&mut config)?;
    if args.dry_run {
        let result =
            omix_train::profile::dry_run_profile_experiment(&config, device, DRY_RUN_STEPS, &mut Terminal::new(true))?;
        return dry_run(&result);
    }
    prepare_run_dir(out, args.resume, args.force)?;
    let started = Instant::now();
    let summary = omix_train::profile::run_profile_experiment(
        &config,
        &RunDir::new(out),
        device,
        train_options(args),
        &mut Terminal::new(args.quiet),
    )?;
    if !summary.finished {
        eprintln!("stopped after {} epochs as asked; continue with --resume", summary.epochs);
        return Ok(());
    }
    for line in summary.summary_lines() {
        println!("{line}");
    }
    if config.bias.is_some() {
        check_bias_filters(out, device, args.quiet)?;
    }
    if !args.no_report {
        report_or_warn(out);
    }
    print_run_folder(out, summary.best_epoch, summary.epochs, started);
    Ok(())
}

/// ChromBPNet's check of its bias model: its filters' best JASPAR matches (written into `RUN/bias/`),
/// the significant ones printed; a bias model that learned TF motifs confounds the TF model.
fn check_bias_filters(out: &Path, device: &Device, quiet: bool) -> Result<()> {
    let filters = omix_explain::bias_filters(&RunDir::new(out), device, &mut Terminal::new(quiet))?;
    let threshold = omix_run::explain::DEFAULT_MAX_E_VALUE;
    let matched: Vec<String> = filters
        .iter()
        .filter_map(|f| {
            let best = f.matches.first().filter(|m| m.e_value <= threshold)?;
            Some(format!(
                "filter {} ~ {} {} (E = {:.2e})",
                f.index,
                best.target_id,
                best.target_name.as_deref().unwrap_or(""),
                best.e_value
            ))
        })
        .collect();
    let table = out.join(files::BIAS).join("filters.tsv");
    if matched.is_empty() {
        println!(
            "bias model: none of its {} filters matches a JASPAR motif at E <= {threshold} ({})",
            filters.len(),
            table.display()
        );
    } else {
        println!(
            "bias model: {} of its {} filters match JASPAR motifs at E <= {threshold}: check that these are the \
             enzyme's preference and not the peaks' TF motifs ({}):",
            matched.len(),
            filters.len(),
            table.display()
        );
        for line in matched.iter().take(10) {
            println!("  {line}");
        }
    }
    Ok(())
}

/// Resume, progress and stop settings from the flags.
fn train_options(args: &TrainArgs) -> TrainOptions {
    TrainOptions { resume: args.resume, stop_after: args.stop_after }
}

/// Metrics per split (and per task), then the baseline and its verdict, on stdout.
fn print_summary(summary: &omix_train::ExperimentSummary, width: usize) {
    for line in summary.summary_lines(width) {
        println!("{line}");
    }
}

fn train(args: TrainArgs, device: &Device) -> Result<()> {
    let overrides = overrides(&args)?;
    let out = match (&args.out, &args.config) {
        (Some(out), _) => out.clone(),
        (None, Some(path)) => PathBuf::from("runs").join(format!(
            "{}{}",
            path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "omix".into()),
            args.fold.map(|fold| format!("_fold{fold}")).unwrap_or_default()
        )),
        (None, None) => PathBuf::from("runs/omix"),
    };
    overrides.refuse_conflicts()?;
    let saved = RunDir::new(&out).is_marked() && out.join(files::CONFIG).exists();
    let experiment = match &args.config {
        Some(path) => Experiment::load_with(path, &overrides.settings)?,
        // `omix train --resume --out RUN`: the run's own config.
        None if args.resume && saved && overrides.source.is_none() => Experiment::load(&out.join(files::CONFIG))?,
        None if overrides.source.is_none() => {
            bail!(
                "no input: give a config file, or --input FILE (with --labels for one sequence per line, or a label column) or --class NAME=FILE"
            )
        }
        None => Experiment::Sequence(omix_config::flags_only_experiment()),
    };
    let resuming = args.resume && saved;
    let mut ignored = overrides.given();
    // The fold a saved run trained: `[data] fold`, or `[tracks] fold` for a profile run.
    let saved_fold = || {
        let table = RunDir::new(&out).read_text(files::CONFIG).ok()?.parse::<toml::Table>().ok()?;
        let fold = ["data", "tracks"].iter().find_map(|key| table.get(*key)?.get("fold")?.as_integer())?;
        usize::try_from(fold).ok()
    };
    if resuming && args.fold.is_some() && saved_fold() == args.fold {
        // The saved run is that fold: a workflow's job started again with the same command resumes it.
        ignored.retain(|flag| flag != "--fold");
    }
    if resuming && !ignored.is_empty() {
        bail!(
            "--resume continues {} with the config saved in it, so {} would be ignored; drop them to resume, or train a new run (another --out, or --force to replace this one)",
            out.display(),
            ignored.join(", ")
        );
    }
    let mut config = match experiment {
        Experiment::Graph(mut config) if args.dry_run => {
            overrides.apply_graph(&mut config)?;
            let result =
                omix_train::graph::dry_run_graph_experiment(&config, device, DRY_RUN_STEPS, &mut Terminal::new(true))?;
            return dry_run(&result);
        }
        Experiment::Graph(config) => return train_graph(config, &overrides, &out, &args, device),
        Experiment::Profile(config) => return train_profile(config, &overrides, &out, &args, device),
        Experiment::Sequence(config) if args.config.is_none() => {
            // Flags only: the flags, then the settings, over the defaults.
            let mut config = config;
            overrides.apply(&mut config);
            overrides.apply_settings(&config)?
        }
        Experiment::Sequence(config) => config,
    };
    overrides.apply(&mut config);
    // Flag paths are relative to the working directory; store them absolute.
    config.data.resolve_paths(Path::new(""));
    if args.dry_run {
        let result = omix_train::dry_run_experiment(&config, device, DRY_RUN_STEPS, &mut Terminal::new(true))?;
        return dry_run(&result);
    }
    if resuming {
        config = RunDir::new(&out).config()?;
        eprintln!("resuming {} with its saved config", out.display());
    }
    prepare_run_dir(&out, args.resume, args.force)?;
    let options = train_options(&args);
    let started = Instant::now();
    let summary = run_experiment(&config, &RunDir::new(&out), device, options, &mut Terminal::new(args.quiet))?;
    if !summary.finished {
        eprintln!("stopped after {} epochs as asked; continue with --resume", summary.epochs);
        return Ok(());
    }
    print_summary(&summary, 10);
    if !args.no_report {
        explain_and_report(&RunDir::new(&out), device, &mut Terminal::new(args.quiet));
    }
    print_run_folder(&out, summary.best_epoch, summary.epochs, started);
    Ok(())
}

/// Training steps `--dry-run` times (after one untimed warm-up step).
const DRY_RUN_STEPS: usize = 3;

/// `--dry-run`: what training would print before its first epoch, then the model, the engine and
/// the estimates on stdout; nothing is written.
fn dry_run(result: &omix_train::DryRun) -> Result<()> {
    let estimate = &result.estimate;
    println!("model layers:\n{}", result.layers.trim_end());
    println!("trainable parameters: {}", result.parameters);
    println!("training engine: {}", estimate.engine);
    println!(
        "time (estimate): about {} per epoch, at most {} for {} epochs (early stopping may end sooner); from {} timed training steps of {:.3}s each on this machine x {} steps per epoch, plus {:.2}s for one validation pass",
        show_seconds(estimate.seconds_per_epoch()),
        show_seconds(estimate.total_seconds()),
        estimate.epochs,
        estimate.steps_timed,
        estimate.seconds_per_step,
        estimate.steps_per_epoch,
        estimate.validation_seconds
    );
    println!("memory (estimate): {}", result.memory.describe());
    let warnings = result.checks.iter().filter(|check| check.severity == "warning").count();
    println!(
        "dry run: config and data are valid{}; nothing was written. Train with the same command without --dry-run.",
        if warnings > 0 { format!(" ({warnings} warning(s) above)") } else { String::new() }
    );
    Ok(())
}

/// A duration for people: `42s`, `3.5 min`, `2.1 h`.
fn show_seconds(seconds: f64) -> String {
    match seconds {
        s if s < 90.0 => format!("{s:.1}s"),
        s if s < 5400.0 => format!("{:.1} min", s / 60.0),
        s => format!("{:.1} h", s / 3600.0),
    }
}

fn evaluate(args: EvaluateArgs, device: &Device) -> Result<()> {
    let run = RunDir::new(&args.run);
    if omix_train::profile::ProfileRun::is_profile(&run) {
        bail!(
            "{} is a profile (BPNet) {}: `omix evaluate` scores sequence models on labelled examples; its metrics on the held-out regions are in {}, and `omix predict RUN --reference FA --bed REGIONS.bed -o OUT.bw` writes its predicted tracks",
            args.run.display(),
            if run.ensemble()?.is_some() { "ensemble" } else { "run" },
            if run.ensemble()?.is_some() { files::ENSEMBLE_METRICS } else { files::METRICS }
        );
    }
    // The model is loaded (and the run folder checked) before the examples are read.
    let schema = omix_train::ensemble::RunModels::load(&run, device)?.schema().clone();
    let dataset = load_for_run(&args.input, &schema, true)?;
    let metrics = evaluate_run(&run, &dataset, device)?;
    println!("{} examples: {}", dataset.examples.len(), metrics.summary());
    for line in metrics.per_task_lines() {
        println!("  {line}");
    }
    if let Some(output) = &args.output {
        refuse_overwriting(output, &source_for_run(&args.input, &schema)?, &run)?;
        let text = serde_json::to_string_pretty(&metrics)?;
        write_atomically(output, |out| out.write_all(text.as_bytes()))?;
        eprintln!("metrics written to {}", output.display());
    }
    Ok(())
}

fn embed(args: EmbedArgs, device: &Device) -> Result<()> {
    let run = RunDir::new(&args.run);
    let (model, schema) = run.load_model(device)?;
    let config = run.config()?;
    if !config.model.is_autoencoder() {
        bail!(
            "{} holds a {} model; `omix embed` needs an autoencoder (kind = \"autoencoder\" or \"conv_autoencoder\")",
            args.run.display(),
            config.model.name()
        );
    }
    refuse_overwriting(&args.output, &source_for_run(&args.input, &schema)?, &run)?;
    // Labels are optional here: they are only used to score the embedding.
    let dataset = load_for_run(&args.input, &schema, false)?;
    let pipeline = run.input_pipeline(&dataset)?;
    let indices: Vec<usize> = (0..dataset.examples.len()).collect();
    let (latent, width) = omix_train::embed(&model, &pipeline, &dataset, &indices, 256, device)?;
    write_atomically(&args.output, |out| {
        write!(out, "id")?;
        for dimension in 1..=width {
            write!(out, "\tlatent{dimension}")?;
        }
        writeln!(out)?;
        for (example, row) in dataset.examples.iter().zip(latent.chunks(width.max(1))) {
            write!(out, "{}", example.id)?;
            for value in row {
                write!(out, "\t{value:.6}")?;
            }
            writeln!(out)?;
        }
        Ok(())
    })?;
    eprintln!("{} latent vectors of {} dimensions written to {}", indices.len(), width, args.output.display());

    // Score the embedding against labels, beside PCA with as many components.
    let labels = match label_indices(&dataset, args.input.labels.is_some() || !args.input.classes.is_empty()) {
        Some(labels) => labels,
        None => return Ok(()),
    };
    let score = omix_train::score_embedding(
        &pipeline, &dataset, &indices, &latent, width, &labels, args.knn, args.folds, args.seed,
    )?;
    std::io::stdout().flush()?;
    for line in score.lines() {
        println!("{line}");
    }
    if let Some(path) = &args.report {
        let text = serde_json::to_string_pretty(&score)?;
        write_atomically(path, |out| out.write_all(text.as_bytes()))?;
    }
    Ok(())
}

/// Class indices of labelled examples, when every example has a class label.
fn label_indices(dataset: &Dataset, labelled: bool) -> Option<Vec<usize>> {
    if !labelled {
        return None;
    }
    dataset.examples.iter().map(|example| example.target.class()).collect()
}

fn predict(args: PredictArgs, device: &Device) -> Result<()> {
    if let Some(reference) = &args.reference {
        let windows = match (args.tile, &args.bed) {
            (Some(stride), regions) => crate::genome_cmds::TrackWindows::Tiles { regions: regions.clone(), stride },
            (None, Some(bed)) => crate::genome_cmds::TrackWindows::Bed(bed.clone()),
            (None, None) => {
                bail!("--reference needs --bed REGIONS.bed (windows centred on intervals) or --tile STRIDE")
            }
        };
        let output =
            args.output.as_deref().context("--reference needs -o OUT.bedgraph (OUT.bw for a profile model)")?;
        let track = crate::genome_cmds::Track {
            run: &args.run,
            reference,
            windows,
            out: output,
            shard: args.shard,
            batch_size: args.batch_size,
        };
        if omix_train::profile::ProfileRun::is_profile(&RunDir::new(&args.run)) {
            return crate::genome_cmds::predict_profile_track(&track, &mut Terminal::new(args.quiet), device);
        }
        return crate::genome_cmds::predict_track(&track, &mut Terminal::new(args.quiet), device);
    }
    let run = RunDir::new(&args.run);
    // One run's model, or an ensemble's members combined.
    let models = omix_train::ensemble::RunModels::load(&run, device)?;
    let schema = models.schema().clone();
    let source = source_for_run(&args.input, &schema)?;
    if let Some(output) = &args.output {
        refuse_overwriting(output, &source, &run)?;
    }
    let mut schema = schema.clone();
    if let Some(policy) = args.input.length_policy {
        schema.length_policy = policy.policy();
    }
    let empty = Dataset { schema: schema.clone(), examples: Vec::new(), files: Vec::new(), report: Default::default() };
    let objective = models.objective();
    let threshold = models.threshold();
    let batch = args.batch_size.max(1);
    // A shard is a contiguous block of the records; only shard 1 writes the header, so the
    // shards' outputs concatenated in order equal the unsharded output.
    let shard = args.shard.unwrap_or(omix_variants::Shard::ALL);
    let predict_batch = |out: &mut dyn Write, dataset: &Dataset, indices: &[usize], header: bool| -> Result<()> {
        let scores = models.scores(dataset, indices, batch, device)?;
        write_predictions(out, dataset, indices, &scores, threshold, header, objective.reconstructs())?;
        Ok(())
    };
    let write_all = |out: &mut dyn Write| -> Result<usize> {
        if !Dataset::streams(&source)? {
            // Tables and matrices are read whole.
            let dataset = Dataset::load_for_model(&source, &schema, false)?;
            let range = shard.range(dataset.examples.len() as u64);
            let indices: Vec<usize> = (range.start as usize..range.end as usize).collect();
            for (number, chunk) in indices.chunks(batch).enumerate() {
                predict_batch(out, &dataset, chunk, number == 0 && shard.index == 1)?;
            }
            out.flush()?;
            return Ok(indices.len());
        }
        // One sequence file: streamed a batch at a time (a first counting pass places a shard).
        let range = match args.shard {
            None => 0..u64::MAX,
            Some(_) => {
                shard.range(Dataset::stream_for_model(&source, &schema, 1024, |_| Ok::<_, anyhow::Error>(()))? as u64)
            }
        };
        let (mut position, mut written) = (0u64, 0usize);
        Dataset::stream_for_model(&source, &schema, batch, |dataset| -> Result<()> {
            let first = position;
            position += dataset.examples.len() as u64;
            let indices: Vec<usize> =
                (0..dataset.examples.len()).filter(|index| range.contains(&(first + *index as u64))).collect();
            if !indices.is_empty() {
                predict_batch(out, &dataset, &indices, written == 0 && shard.index == 1)?;
                written += indices.len();
            }
            Ok(())
        })?;
        if written == 0 && shard.index == 1 {
            predict_batch(out, &empty, &[], true)?;
        }
        out.flush()?;
        Ok(written)
    };
    match &args.output {
        Some(path) => {
            let mut written = 0;
            write_atomically(path, |out| {
                written = write_all(out).map_err(std::io::Error::other)?;
                Ok(())
            })?;
            eprintln!("{written} predictions written to {}", path.display());
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            write_all(&mut out)?;
        }
    }
    Ok(())
}

/// Refuse an output path that is one of the command's inputs: a sequence, label or class file,
/// or a file of the run folder.
fn refuse_overwriting(output: &Path, source: &SourceConfig, run: &RunDir) -> Result<()> {
    let mut inputs: Vec<(PathBuf, &str)> = Vec::new();
    inputs.extend(source.input.iter().map(|path| (path.clone(), "the input")));
    inputs.extend(source.labels.iter().map(|path| (path.clone(), "the labels")));
    inputs.extend(source.classes.iter().map(|class| (class.path.clone(), "a class file")));
    for name in [files::WEIGHTS, files::CONFIG, files::SCHEMA, files::FEATURES, files::MOTIF_COPY, files::MARKER] {
        inputs.push((run.path(name), "a file of the run folder"));
    }
    let inputs: Vec<(&Path, &str)> = inputs.iter().map(|(path, what)| (path.as_path(), *what)).collect();
    Ok(omix_io::refuse_output_over_inputs(output, &inputs)?)
}

/// The quickstart experiment: the primer's simulated motif data and CNN.
pub fn quickstart_config(data_dir: &Path, seed: u64) -> ExperimentConfig {
    ExperimentConfig {
        seed,
        data: DataConfig {
            input: Some(data_dir.join("sequences.txt")),
            labels: Some(data_dir.join("labels.txt")),
            validation_fraction: 0.15,
            test_fraction: 0.15,
            ..DataConfig::default()
        },
        features: None,
        model: ModelConfig::Primer,
        train: omix_train::TrainConfig { epochs: 40, patience: 6, batch_size: 32, ..Default::default() },
        // The 5-mer baseline alone: it already separates the planted motif (test AUROC 1.0), and
        // the gapped k-mer fit would add seconds to a demo that takes about one.
        baseline: omix_config::BaselineConfig { kind: omix_config::BaselineKind::Kmer, ..Default::default() },
    }
}

fn quickstart(args: QuickstartArgs, device: &Device) -> Result<()> {
    let started = Instant::now();
    let out = args.out.unwrap_or_else(|| PathBuf::from("runs/quickstart"));
    prepare_run_dir(&out, false, true)?;
    let run = RunDir::new(&out);
    run.create()?;
    run.claim(files::QUICKSTART_DATA)?;
    let data_dir = run.path(files::QUICKSTART_DATA);
    std::fs::create_dir_all(&data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let simulated = plant_motif(2000, 50, PRIMER_MOTIF, args.seed);
    eprintln!(
        "simulated 2,000 random 50-bp sequences, the motif {} planted in half (seed {})",
        String::from_utf8_lossy(PRIMER_MOTIF),
        args.seed
    );
    write_atomically(&data_dir.join("sequences.txt"), |w| {
        for sequence in &simulated.sequences {
            w.write_all(sequence)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })?;
    write_atomically(&data_dir.join("labels.txt"), |w| {
        for label in &simulated.labels {
            writeln!(w, "{label}")?;
        }
        Ok(())
    })?;
    let mut config = quickstart_config(&data_dir, args.seed);
    config.data.resolve_paths(Path::new(""));
    let options = TrainOptions::default();
    let summary = run_experiment(&config, &RunDir::new(&out), device, options, &mut Terminal::new(args.quiet))?;
    print_summary(&summary, 10);
    explain_quickstart(&RunDir::new(&out), &config, &simulated.motif_starts, device, &mut Terminal::new(args.quiet))?;
    report_or_warn(&out);
    eprintln!(
        "run folder: {} (best epoch {} of {}; {:.1}s in all)",
        out.display(),
        summary.best_epoch,
        summary.epochs,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The examples to explain: `--input`, or the run's test split.
fn explain_inputs(run: &RunDir, input: &InputArgs, schema: &Schema) -> Result<(Dataset, Vec<usize>)> {
    if input.input.is_some() || !input.classes.is_empty() {
        let dataset = load_for_run(input, schema, false)?;
        let indices = (0..dataset.examples.len()).collect();
        return Ok((dataset, indices));
    }
    // An ensemble's members were trained on the same data: its first member's test split (for
    // folds, one fold's; the other members trained on it).
    let (members, _) = omix_train::ensemble::RunModels::folders(run)?;
    let source = if run.ensemble()?.is_some() { &members[0] } else { run };
    if run.ensemble()?.is_some() {
        eprintln!(
            "explaining the test split of the ensemble's first member, {} (give --input to explain other sequences)",
            source.root().display()
        );
    }
    let config = source.config()?;
    let dataset = Dataset::load(&config.data, config.seed).with_context(|| {
        format!("re-creating the test split of {} (give --input to explain other sequences)", source.root().display())
    })?;
    let indices = dataset.indices(omix_data::Split::Test);
    Ok((dataset, indices))
}

fn explain(args: ExplainArgs, device: &Device) -> Result<()> {
    let run = RunDir::new(&args.run);
    if omix_train::profile::ProfileRun::is_profile(&run) {
        crate::profile_explain::explain_profile(&args, &run, device)?;
        return discover_after_explain(&args, &run);
    }
    // Refuses graph runs with their own message; an ensemble's members are checked as they load.
    let ensemble = run.ensemble()?;
    if ensemble.is_none() {
        TrainedRun::config(&run)?;
    }
    if !args.heads.is_empty() {
        bail!("--head applies to profile runs (BPNet, ChromBPNet); {} is a classifier run", args.run.display());
    }
    if args.discover_motifs && !args.methods.is_empty() && !args.methods.contains(&MethodChoice::DeepliftShap) {
        bail!("--discover-motifs reads DeepLIFT/SHAP attributions: add --method deeplift-shap");
    }
    let schema = run.schema()?;
    let (dataset, mut indices) = explain_inputs(&run, &args.input, &schema)?;
    if let Some(max) = args.max_sequences {
        indices.truncate(max);
    }
    if indices.is_empty() {
        bail!("no sequences to explain");
    }
    let methods: Vec<Method> = if args.methods.is_empty() {
        Method::ALL.to_vec()
    } else {
        args.methods
            .iter()
            .map(|m| match m {
                MethodChoice::Saliency => Method::Saliency,
                MethodChoice::GradientXInput => Method::GradientXInput,
                MethodChoice::IntegratedGradients => Method::IntegratedGradients,
                MethodChoice::Ism => Method::Ism,
                MethodChoice::DeepliftShap => Method::DeepLiftShap,
            })
            .collect()
    };
    if args.shap_references == 0 {
        bail!("--shap-references 0: DeepLIFT/SHAP needs at least one reference per sequence");
    }
    let baseline = |choice: BaselineChoice| match choice {
        BaselineChoice::Zeros => IgBaseline::Zeros,
        BaselineChoice::Shuffled => IgBaseline::Shuffled,
        BaselineChoice::Uniform => IgBaseline::Uniform,
    };
    let (database, database_label) = motif_database(&args.motif_db)?;
    let options = ExplainOptions {
        methods,
        output: match args.output.as_deref() {
            Some(choice) => schema.output_index(choice).map_err(|error| anyhow::anyhow!("--output {error}"))?,
            None => 0,
        },
        ig_steps: args.ig_steps.max(1),
        ig_baseline: baseline(args.ig_baseline),
        batch_size: args.batch_size.max(1),
        seed: args.seed,
        shap_references: args.shap_references,
        shap_baseline: baseline(args.shap_baseline),
    };
    if !(args.max_evalue.is_finite() && args.max_evalue >= 0.0) {
        bail!("--max-evalue {}: must be a number of at least 0", args.max_evalue);
    }
    let settings = InterpretSettings {
        threshold: args.threshold,
        top_tracks: args.top,
        naive_ism: args.naive_ism,
        compare: omix_motif::CompareOptions {
            scoring: match args.motif_scoring {
                ScoringChoice::Complete => omix_motif::Scoring::Complete,
                ScoringChoice::Incomplete => omix_motif::Scoring::Incomplete,
            },
            similarity: match args.motif_distance {
                DistanceChoice::Pearson => omix_motif::Similarity::Pearson,
                DistanceChoice::Euclidean => omix_motif::Similarity::Euclidean,
            },
            ..omix_motif::CompareOptions::default()
        },
        max_e_value: args.max_evalue,
        explicit_methods: !args.methods.is_empty(),
        save_references: args.save_references,
        ..InterpretSettings::new(options, database, database_label)
    };
    let out = args.out.clone().unwrap_or_else(|| run.path("explain"));
    eprintln!(
        "explaining {} sequences with {}",
        indices.len(),
        settings.options.methods.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")
    );
    let started = Instant::now();
    interpret(&run, &dataset, &indices, &settings, &out, device, &mut Terminal::new(false))?;
    eprintln!("explanations written to {} ({:.1}s)", out.display(), started.elapsed().as_secs_f64());
    if args.discover_motifs {
        crate::motifs_cmd::after_explain(&out, &args.motif_db, settings.compare.clone(), args.max_evalue)?;
    }
    if !args.no_report && args.out.is_none() {
        // An ensemble's report is its metrics page; the attributions stay in the explain folder.
        let path = omix_report::write_report(run.root())?;
        eprintln!("report: {}", path.display());
    }
    Ok(())
}

/// `--discover-motifs` after a profile run's explain (which wrote its report already).
fn discover_after_explain(args: &ExplainArgs, run: &RunDir) -> Result<()> {
    if !args.discover_motifs {
        return Ok(());
    }
    let out = args.out.clone().unwrap_or_else(|| run.path(files::EXPLAIN_DIR));
    let compare = crate::motifs_cmd::compare_options(args.motif_scoring, args.motif_distance);
    crate::motifs_cmd::after_explain(&out, &args.motif_db, compare, args.max_evalue)?;
    if !args.no_report && args.out.is_none() {
        let path = omix_report::write_report(run.root())?;
        eprintln!("report: {}", path.display());
    }
    Ok(())
}

fn export(args: ExportArgs, device: &Device) -> Result<()> {
    let run = RunDir::new(&args.run);
    let (model, schema) = run.load_model(device)?;
    if !schema.is_sequence() {
        bail!(
            "{}: the export covers models over one-hot sequences; this run's model reads matrix rows",
            args.run.display()
        );
    }
    let bytes = match args.format {
        crate::cli::ExportFormat::Safetensors => omix_models::cnn_safetensors(&model, schema.channels(), schema.length)
            .with_context(|| format!("exporting {}", args.run.display()))?,
    };
    omix_io::refuse_output_over_inputs(&args.out, &[(&run.path(files::WEIGHTS), "the run's weights")])?;
    omix_io::write_atomically(&args.out, |w| w.write_all(&bytes))?;
    eprintln!("wrote {} ({} bytes; safetensors, PyTorch names and layouts)", args.out.display(), bytes.len());
    Ok(())
}

fn report(args: ReportArgs) -> Result<()> {
    let path = omix_report::write_report(&args.run)?;
    eprintln!("report: {}", path.display());
    Ok(())
}

/// After training: explain the test sequences (gradient × input, filter motifs against JASPAR)
/// when the model reads one-hot sequences, then write the HTML report. Failures here do not undo
/// the training; they are reported and the report is written without that part.
fn explain_and_report(run: &RunDir, device: &Device, observer: &mut Terminal) {
    if let Err(error) = explain_after_training(run, device, observer) {
        eprintln!("explain skipped: {:#}", anyhow::Error::from(error));
    }
    report_or_warn(run.root());
}

/// Write `report.html`; a failure is reported but does not undo the run before it.
fn report_or_warn(run: &Path) {
    match omix_report::write_report(run) {
        Ok(path) => eprintln!("report: {}", path.display()),
        Err(error) => eprintln!("report not written: {error}"),
    }
}

/// The planted motif as a MEME motif (a little smoothing, as a database entry would have).
fn planted_motif() -> omix_motif::Motif {
    let rows = PRIMER_MOTIF
        .iter()
        .map(|&base| b"ACGT".iter().map(|&letter| if letter == base { 0.97 } else { 0.01 }).collect())
        .collect();
    let mut motif = omix_motif::Motif::new("planted", rows);
    motif.name = Some(String::from_utf8_lossy(PRIMER_MOTIF).into_owned());
    motif
}

/// Explain the quickstart model on its test split (every method), and check it against the truth:
/// where gradient × input peaks in the positives, and how well the best filter matches the
/// planted motif (Tomtom-style E-value against JASPAR 2024 plus the planted motif).
fn explain_quickstart(
    run: &RunDir,
    config: &ExperimentConfig,
    starts: &[Option<usize>],
    device: &Device,
    observer: &mut Terminal,
) -> Result<()> {
    let dataset = Dataset::load(&config.data, config.seed)?;
    let test = dataset.indices(omix_data::Split::Test);
    let (mut database, _) = motif_database(&[])?;
    database.motifs.push(planted_motif());
    let label =
        format!("JASPAR 2024 CORE vertebrates non-redundant + the planted motif ({} motifs)", database.motifs.len());
    let options = ExplainOptions { methods: Method::ALL.to_vec(), ..Default::default() };
    let settings = InterpretSettings::new(options, database.clone(), label);
    eprintln!("explaining the {} test sequences (all methods)", test.len());
    let outcome = interpret(run, &dataset, &test, &settings, &run.path(files::EXPLAIN_DIR), device, observer)?;
    // Lines of sequences.txt are the simulated sequences in order.
    let start_of = |index: usize| starts.get(dataset.examples[index].line as usize - 1).copied().flatten();
    for (method, name) in [(Method::GradientXInput, "gradient x input"), (Method::DeepLiftShap, "DeepLIFT/SHAP")] {
        let (mut positives, mut inside) = (0, 0);
        for attribution in &outcome.attributions {
            let Some(start) = start_of(attribution.index) else { continue };
            let Some(importance) = attribution.position_importance(method, 4) else { continue };
            positives += 1;
            let peak = importance.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i);
            if (start..start + PRIMER_MOTIF.len()).contains(&peak) {
                inside += 1;
            }
        }
        if positives > 0 {
            println!(
                "{name} peaks inside the planted motif in {inside} of {positives} positive test sequences ({:.1}%)",
                100.0 * inside as f64 / positives as f64
            );
        }
    }
    let comparer = omix_motif::Comparer::new(&database, omix_motif::CompareOptions::default())?;
    let background = [0.25; 4];
    let mut best: Option<(usize, omix_motif::MotifMatch)> = None;
    for filter in outcome.summary.filters.iter().filter(|f| f.sites >= settings.min_sites) {
        let motif = omix_motif::Motif::new(format!("filter{}", filter.index), filter.probabilities.clone());
        let trimmed = omix_motif::trim_motif(&motif, &background, 0.3);
        let planted = comparer.compare(&trimmed)?.into_iter().find(|m| m.target_id == "planted");
        if let Some(m) = planted
            && best.as_ref().is_none_or(|(_, b)| m.e_value < b.e_value)
        {
            best = Some((filter.index, m));
        }
    }
    match best {
        Some((filter, m)) => println!(
            "best-matching filter vs the planted motif {}: filter {filter}, strand {}, {} columns, p = {:.2e}, E = {:.2e} (against {} motifs)",
            String::from_utf8_lossy(PRIMER_MOTIF),
            m.strand,
            m.overlap,
            m.p_value,
            m.e_value,
            database.motifs.len()
        ),
        None => println!("no filter had enough sites to compare with the planted motif"),
    }
    Ok(())
}
