//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Deep learning for omics data: train, evaluate, predict and explain sequence models.
#[derive(Debug, Parser)]
#[command(name = "omix", version, propagate_version = true, arg_required_else_help = true)]
#[command(
    after_help = "Start with `omix quickstart`, then `omix init` for a config of your own and `omix train --help`."
)]
pub struct Cli {
    /// Worker threads for the CPU backend (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Where models train and predict: the CPU, a GPU (builds with the `gpu` feature: Vulkan,
    /// Metal or DX12 through wgpu), or a GPU when one is usable and the CPU otherwise.
    #[arg(long, global = true, value_enum, default_value_t = DeviceChoice::Cpu)]
    pub device: DeviceChoice,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Compute devices omix can be asked for (see `crate::device` for what each means in a build).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceChoice {
    /// The CPU (burn's flex backend with omix's hand-written kernels).
    Cpu,
    /// A GPU through burn's wgpu backend (Vulkan, Metal, DX12); an error when none is usable.
    Gpu,
    /// A GPU when one is usable, else the CPU (says which on stderr).
    Auto,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a model from a TOML experiment config or from flags.
    #[command(after_help = TRAIN_EXAMPLES)]
    Train(Box<TrainArgs>),
    /// Hyper-parameter trials over a search space: each trial a run folder, the best chosen on the
    /// validation split only (the test split is reported, never used to choose).
    #[command(after_help = TUNE_EXAMPLES)]
    Tune(TuneArgs),
    /// An ensemble of trained runs (folds of one split, or seeds; sequence runs, or profile runs
    /// of BPNet/ChromBPNet): checked to belong together, copied into one self-contained run folder
    /// that predict, evaluate (sequence runs), score-variants and explain take like any run, with
    /// cross-validated metrics (each member's test metrics, mean ± sd, pooled out-of-fold or the
    /// ensemble's own test metrics).
    #[command(after_help = ENSEMBLE_EXAMPLES)]
    Ensemble(EnsembleArgs),
    /// Check a config and its data without training: `omix train CONFIG --dry-run`.
    #[command(after_help = "Example:\n  omix check examples/splice.toml --set train.batch_size=64")]
    Check(Box<TrainArgs>),
    /// Write a commented experiment config to start from (every key with its default).
    #[command(after_help = INIT_EXAMPLES)]
    Init(InitArgs),
    /// Shell completions for omix: `omix completions bash > ~/.local/share/bash-completion/completions/omix`.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Metrics of a trained run on any labelled data.
    #[command(after_help = EVALUATE_EXAMPLES)]
    Evaluate(EvaluateArgs),
    /// Predictions of a trained run, streamed as TSV, or as bedGraph along a reference genome.
    #[command(after_help = PREDICT_EXAMPLES)]
    Predict(PredictArgs),
    /// Score genetic variants (VCF) with a trained sequence model: reference vs alternative
    /// windows, per task; streamed, resumable, shardable.
    #[command(after_help = SCORE_VARIANTS_EXAMPLES)]
    ScoreVariants(ScoreVariantsArgs),
    /// Latent vectors of a trained autoencoder, optionally scored by k-NN label accuracy beside PCA.
    #[command(after_help = EMBED_EXAMPLES)]
    Embed(EmbedArgs),
    /// What a sequence model learned: attributions (saliency, gradient x input, integrated
    /// gradients, in-silico mutagenesis), first-layer filters as motifs matched against JASPAR.
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain(Box<ExplainArgs>),
    /// Motifs discovered from attributions (TF-MoDISco-style): seqlets at a stated false
    /// discovery rate, clustered on both strands into CWMs and PFMs, matched against JASPAR.
    #[command(after_help = MOTIFS_EXAMPLES)]
    Motifs(Box<MotifsArgs>),
    /// A run's model in another format: its weights as safetensors with PyTorch's names and
    /// layouts, for PyTorch and the field's Python tools.
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(ExportArgs),
    /// Coverage tracks from reads: 5' ends of a coordinate-sorted BAM or a fragment file counted per
    /// base (per strand with --stranded), with the assay's shift, written as bigWig.
    #[command(after_help = TRACKS_EXAMPLES)]
    Tracks(TracksArgs),
    /// Simulated profile data with known ground truth: a genome with planted motifs, peaks,
    /// reads (BAM) drawn from known footprints (ChIP) or with a Tn5-like sequence bias (ATAC),
    /// and their count bigWigs; what the BPNet example trains on.
    #[command(after_help = SIMULATE_TRACKS_EXAMPLES)]
    SimulateTracks(SimulateTracksArgs),
    /// Write the self-contained HTML report of a run folder (RUN_DIR/report.html); for an
    /// ensemble, a page of its members' metrics, their mean ± sd and the ensemble's own.
    #[command(after_help = "Example:\n  omix report runs/gabpa        # then open runs/gabpa/report.html")]
    Report(ReportArgs),
    /// Simulate the primer's motif data set, train the primer CNN, report test metrics, explain
    /// what it learned and write the HTML report.
    #[command(after_help = "Example:\n  omix quickstart --out runs/quickstart")]
    Quickstart(QuickstartArgs),
    /// Throughput of one-hot encoding and primer-CNN training (sequences/s); with --loader, the
    /// training data loader against a config's training steps.
    #[command(
        after_help = "Example:\n  omix bench --threads 2\n  (bench/pytorch_primer.py measures PyTorch on the same model)"
    )]
    Bench(BenchArgs),
}

const TRAIN_EXAMPLES: &str = "Examples:
  omix train examples/primer.toml
  omix train --input sequences.txt --labels labels.txt --out runs/primer
  omix train --input GABPA_AC.seq.gz --shuffled-negatives 1 --test-input GABPA_B.seq.gz \\
             --seq-column seq --label-column Bound --model cnn --out runs/gabpa
  omix train --class bound=pos.fa --class unbound=neg.fa --alphabet rna --out runs/rbp
  omix train examples/primer.toml --resume          # continue a killed run
  omix train examples/splice.toml --dry-run         # check config and data, estimate time; write nothing
  omix train examples/splice.toml --set train.epochs=5 --set model.conv.0.filters=32";

const TRACKS_EXAMPLES: &str = "Examples:
  omix tracks chip.bam -o chip.bw --stranded --reference hg38.fa      # chip.plus.bw, chip.minus.bw
  omix tracks atac.bam -o atac.bw --assay atac --min-mapq 30          # chrombpnet's +4/-4 shift
  omix tracks fragments.tsv.gz -o atac.bw --assay atac --chrom-sizes hg38.chrom.sizes

Cuts (0-based) for a read spanning start..end: plus strand start + shift, minus strand end - 1 + shift.
Shifts (plus/minus): chip 0/0; dnase 0/+1; atac +4/-4 for BAM reads, 0/+1 for fragment files (already
shifted by +4/-5, as 10x writes them). Each fragment gives one cut at each end; its count column is
not used (chrombpnet counts each fragment once).";

const SIMULATE_TRACKS_EXAMPLES: &str = "Examples:
  omix simulate-tracks --out examples/data/bpnet_sim          # then: omix train examples/bpnet_sim.toml
  omix simulate-tracks --out sim_atac --assay atac --small

Writes genome.fa (+ .fai), genome.chrom.sizes, peaks.narrowPeak, truth.tsv (every planted motif
instance), reads.bam, and counts.plus.bw/counts.minus.bw (chip) or counts.bw (atac). Reads' 5' ends
are the cuts themselves: count them again with `omix tracks reads.bam --assay chip`.";

const INIT_EXAMPLES: &str = "Examples:
  omix init                                    # list the templates
  omix init classify-tsv -o my_experiment.toml
  omix train my_experiment.toml --dry-run      # check it, then train it
  omix init graph -o -                         # print to standard output";

const COMPLETIONS_EXAMPLES: &str = "Examples:
  omix completions bash > ~/.local/share/bash-completion/completions/omix
  omix completions zsh > ~/.zfunc/_omix        # with fpath+=~/.zfunc before compinit
  omix completions fish > ~/.config/fish/completions/omix.fish";

/// `omix init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The template (without one: the list).
    #[arg(value_name = "TEMPLATE")]
    pub template: Option<String>,
    /// The file to write (`-` for standard output).
    #[arg(long, short = 'o', value_name = "FILE", default_value = "omix.toml")]
    pub out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

/// `omix completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

const EVALUATE_EXAMPLES: &str = "Examples:
  omix evaluate runs/primer --input more_sequences.txt --labels more_labels.txt
  omix evaluate runs/gabpa --input GABPA_B.seq.gz -o gabpa_b_metrics.json";

const PREDICT_EXAMPLES: &str = "Examples:
  omix predict runs/primer --input new_sequences.txt -o predictions.tsv
  omix predict runs/rbp --input sites.fa | head
  omix predict runs/ctcf --reference hg38.fa --bed peaks.bed -o peaks.bedgraph
  omix predict runs/ctcf --reference hg38.fa --tile 50 --bed chr8.bed -o chr8.bedgraph --shard 1/4";

const SCORE_VARIANTS_EXAMPLES: &str = "Examples:
  omix score-variants runs/ctcf --vcf variants.vcf.gz --reference hg38.fa -o scores/ctcf
  omix score-variants runs/ctcf --vcf variants.vcf.gz --reference hg38.fa -o scores/part3 --shard 3/10
  (kill it and run the same command again: it resumes from the last checkpoint)";

const EMBED_EXAMPLES: &str = "Examples:
  omix embed runs/pbmc --input X_lognorm.csv.gz -o latent.tsv
  omix embed runs/pbmc --input X_lognorm.csv.gz -o latent.tsv \\
             --labels obs_labels.csv --label-column bulk_labels --knn 10";

const EXPLAIN_EXAMPLES: &str = "Examples:
  omix explain runs/gabpa                       # the run's test sequences, all methods
  omix explain runs/gabpa --input GABPA_B.seq.gz --method gradient-x-input --method ism -o gabpa_explain
  omix explain runs/splice --output EI --ig-baseline shuffled --ig-steps 50
  omix explain runs/gabpa --method deeplift-shap --shap-references 50
  omix explain runs/rbp --motif-db my_rbp_motifs.meme
  omix explain runs/tf --motif-db jaspar --motif-db extra.meme
  omix explain runs/bpnet                       # a profile run: its test peaks, counts and profile heads
  omix explain runs/bpnet --input peaks.bed --head counts --max-sequences 500

The default motif database is JASPAR 2024 CORE vertebrates non-redundant (879 profiles), built
into omix: Rauluseviciute et al., JASPAR 2024, Nucleic Acids Research 52:D174 (2024), CC BY 4.0
(https://jaspar.elixir.no). Motif comparison follows Tomtom (Gupta et al., Genome Biology 2007).";

/// Attribution methods on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodChoice {
    /// Gradient of the output w.r.t. the one-hot input.
    Saliency,
    /// Gradient times input (the gradient at the observed bases); `gradient_x_input`, as output
    /// files name it, is accepted too.
    #[value(alias = "gradient_x_input")]
    GradientXInput,
    /// Integrated gradients from a baseline (`integrated_gradients` accepted too).
    #[value(alias = "integrated_gradients")]
    IntegratedGradients,
    /// In-silico mutagenesis: every single-base substitution.
    Ism,
    /// DeepLIFT/SHAP: rescale-rule multipliers against shuffled references (`deeplift_shap`
    /// accepted too); convolutional networks only.
    #[value(alias = "deeplift_shap")]
    DeepliftShap,
}

/// Tomtom scoring modes on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScoringChoice {
    /// Every query column counts (Tomtom's default).
    Complete,
    /// Only the overlapping columns (Tomtom's -incomplete-scores).
    Incomplete,
}

/// Motif column similarities on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DistanceChoice {
    /// Pearson correlation of the two columns.
    Pearson,
    /// Minus the Euclidean distance between the two columns.
    Euclidean,
}

/// Integrated-gradients baselines on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BaselineChoice {
    /// All zeros.
    Zeros,
    /// A dinucleotide shuffle of each sequence.
    Shuffled,
    /// 0.25 for every base.
    Uniform,
}

/// `omix explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A run folder of a sequence model written by `omix train`.
    #[arg(value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// Sequences to explain (default: the run's test split, re-created from its config and seed).
    #[command(flatten)]
    pub input: InputArgs,
    /// Output folder (default: RUN_DIR/explain, which the report reads).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Attribution methods (repeat the flag; default: all five, DeepLIFT/SHAP where the model
    /// allows it).
    #[arg(long = "method", value_enum, value_name = "METHOD")]
    pub methods: Vec<MethodChoice>,
    /// The output to explain: a class or task name, or a 0-based index (default: the positive
    /// class of a binary model, the first output otherwise).
    #[arg(long, value_name = "NAME|INDEX")]
    pub output: Option<String>,
    /// Integrated-gradients steps.
    #[arg(long, default_value_t = 32)]
    pub ig_steps: usize,
    /// Integrated-gradients baseline.
    #[arg(long, value_enum, default_value = "zeros")]
    pub ig_baseline: BaselineChoice,
    /// DeepLIFT/SHAP references per sequence (dinucleotide shuffles; 20 as tangermeme).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub shap_references: usize,
    /// DeepLIFT/SHAP reference: dinucleotide shuffles of each sequence, all zeros, or 0.25 for
    /// every base.
    #[arg(long, value_enum, default_value = "shuffled")]
    pub shap_baseline: BaselineChoice,
    /// MEME motif files to compare filters with instead of the built-in JASPAR 2024 (repeat the
    /// flag to combine several; `jaspar` names the built-in one, e.g. `--motif-db jaspar
    /// --motif-db mine.meme`).
    #[arg(long = "motif-db", value_name = "FILE.meme")]
    pub motif_db: Vec<PathBuf>,
    /// How an alignment of a filter with a database motif is scored: `complete` (Tomtom's
    /// default: every filter column counts, uncovered ones at their null median) or
    /// `incomplete` (only overlapping columns, at least 5).
    #[arg(long = "motif-scoring", value_enum, default_value_t = ScoringChoice::Complete)]
    pub motif_scoring: ScoringChoice,
    /// The column similarity of motif comparison: Pearson correlation (Tomtom's default) or
    /// Euclidean distance (memelite's).
    #[arg(long = "motif-distance", value_enum, default_value_t = DistanceChoice::Pearson)]
    pub motif_distance: DistanceChoice,
    /// Name a database motif as a filter's match only up to this E-value (expected chance
    /// matches); every match stays in explain/matches.tsv.
    #[arg(long = "max-evalue", value_name = "E", default_value_t = 0.05)]
    pub max_evalue: f64,
    /// A filter's sites: windows activating it above this fraction of its maximum.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f32,
    /// Explain at most this many sequences (the first ones).
    #[arg(long, value_name = "N")]
    pub max_sequences: Option<usize>,
    /// Attribution logos for this many highest-scoring sequences.
    #[arg(long, default_value_t = 6)]
    pub top: usize,
    /// Also time ISM the naive way (one forward pass per mutant) on this many sequences.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub naive_ism: usize,
    /// Sequences per gradient batch.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Seed of shuffled baselines.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Also write the DeepLIFT/SHAP references of every sequence to shap_references.npz
    /// (`float32 [sequences, references, channels, length]`), to repeat the attributions with
    /// another implementation.
    #[arg(long)]
    pub save_references: bool,
    /// Do not rewrite RUN_DIR/report.html afterwards.
    #[arg(long)]
    pub no_report: bool,
    /// Profile runs (BPNet, ChromBPNet): the head to explain, `counts` (the log count) or `profile`
    /// (bpnet-lite's profile wrapper); repeat the flag for both (the default).
    #[arg(long = "head", value_enum, value_name = "HEAD")]
    pub heads: Vec<HeadChoice>,
    /// Then discover motifs from the DeepLIFT/SHAP attributions (`omix motifs` with its
    /// defaults, into the same folder).
    #[arg(long)]
    pub discover_motifs: bool,
}

const MOTIFS_EXAMPLES: &str = "Examples:
  omix explain runs/gabpa --method deeplift-shap && omix motifs runs/gabpa
  omix explain runs/gabpa --method deeplift-shap --discover-motifs     # the same in one step
  omix motifs --ohe ohe.npz --shap shap.npz --out motifs/               # any tool's npz (modisco's input)
  omix motifs runs/bpnet --shap profile_shap.npz                        # a profile run's profile head";

/// `omix motifs`.
#[derive(Debug, Args)]
pub struct MotifsArgs {
    /// A run folder whose explain/ holds ohe.npz and shap.npz (from `omix explain --method
    /// deeplift-shap`; profile runs: counts_shap.npz unless --shap names another); results go
    /// into RUN_DIR/explain and its report.
    #[arg(value_name = "RUN_DIR", required_unless_present = "shap")]
    pub run: Option<PathBuf>,
    /// One-hot sequences, sequences x 4 x length (.npz or .npy; default RUN_DIR/explain/ohe.npz).
    #[arg(long, short = 's', value_name = "FILE")]
    pub ohe: Option<PathBuf>,
    /// Hypothetical (or actual) contributions of the same shape (default RUN_DIR/explain/shap.npz);
    /// with RUN_DIR, a bare file name is looked up in RUN_DIR/explain.
    #[arg(long, short = 'a', value_name = "FILE")]
    pub shap: Option<PathBuf>,
    /// Output folder (default RUN_DIR/explain; required without RUN_DIR). It must be new, empty or
    /// an earlier explain or motifs output.
    #[arg(long, short = 'o', value_name = "DIR", required_unless_present = "run")]
    pub out: Option<PathBuf>,
    /// Search only the central N positions of each sequence (as `modisco motifs -w`).
    #[arg(long, short = 'w', value_name = "N")]
    pub window: Option<usize>,
    /// Call seqlets at this estimated false discovery rate (against --control-shap, or seeded
    /// permutations of each sequence's attributions along its positions).
    #[arg(long, value_name = "FDR", default_value_t = 0.05)]
    pub target_fdr: f64,
    /// One-hot sequences of a control without real signal (e.g. dinucleotide shuffles of the
    /// inputs), for the false discovery estimate; with --control-shap.
    #[arg(long, value_name = "FILE", requires = "control_shap")]
    pub control_ohe: Option<PathBuf>,
    /// The control's attributions, from the same model, output and settings (`omix explain RUN
    /// --input SHUFFLED.fa --method deeplift-shap -o DIR` writes both).
    #[arg(long, value_name = "FILE", requires = "control_ohe")]
    pub control_shap: Option<PathBuf>,
    /// Seqlets a pattern needs.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub min_seqlets: usize,
    /// Patterns per sign at most.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_patterns: usize,
    /// Continuous Jaccard similarity a seqlet needs to join a pattern.
    #[arg(long, value_name = "S", default_value_t = 0.35)]
    pub min_similarity: f64,
    /// Positions around each seqlet that are aligned and clustered.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub seqlet_window: usize,
    /// Trim patterns to the positions whose |CWM| column sum reaches this fraction of the largest.
    #[arg(long, value_name = "F", default_value_t = 0.3)]
    pub trim_threshold: f64,
    /// Positive seqlets only.
    #[arg(long)]
    pub no_negative: bool,
    /// Seed of the permuted control.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// MEME motif files to compare patterns with besides the built-in JASPAR 2024 (repeat the flag).
    #[arg(long = "motif-db", value_name = "FILE.meme")]
    pub motif_db: Vec<PathBuf>,
    /// Tomtom scoring: `complete` (default) or `incomplete`.
    #[arg(long = "motif-scoring", value_enum, default_value_t = ScoringChoice::Complete)]
    pub motif_scoring: ScoringChoice,
    /// Column similarity: Pearson correlation (default) or Euclidean distance.
    #[arg(long = "motif-distance", value_enum, default_value_t = DistanceChoice::Pearson)]
    pub motif_distance: DistanceChoice,
    /// Name a database motif as a pattern's match only up to this E-value (every match stays in
    /// pattern_matches.tsv).
    #[arg(long = "max-evalue", value_name = "E", default_value_t = 0.05)]
    pub max_evalue: f64,
    /// Do not rewrite RUN_DIR/report.html afterwards.
    #[arg(long)]
    pub no_report: bool,
}

/// The heads of a profile model that `omix explain` explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HeadChoice {
    /// The predicted log count of the task.
    Counts,
    /// The profile wrapper: sum of softmax(logits) x logits over the task's mean-centred logits.
    Profile,
}

/// `omix report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run folder written by `omix train`.
    #[arg(value_name = "RUN_DIR")]
    pub run: PathBuf,
}

const EXPORT_EXAMPLES: &str = "Examples:
  omix export runs/gabpa -o gabpa.safetensors
  python -c 'import sys; sys.path.insert(0, \"bench\"); import omix_twin; print(omix_twin.load(\"gabpa.safetensors\"))'

Tensors: conv{i}.weight [filters, channels, width], conv{i}.bias, conv{i}.bn_scale and
conv{i}.bn_shift (inference batch-norm folded), dense{i}.weight [outputs, inputs], dense{i}.bias;
the metadata entry omix_architecture (JSON) gives padding, dilation, pooling and activations.
bench/omix_twin.py builds the PyTorch twin. Convolutional networks (the cnn family) only.";

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// safetensors (Hugging Face), PyTorch's names and layouts.
    Safetensors,
}

const TUNE_EXAMPLES: &str = "Examples:
  omix tune examples/splice.toml --space examples/tune/splice_space.toml -o runs/splice_tune
  omix tune examples/splice.toml --space examples/tune/splice_space.toml -o runs/splice_tune --trial 3
      (one trial, e.g. one job of a workflow engine; a last call without --trial summarises)";

/// `omix tune`.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// The experiment config (a sequence experiment, `[data]`).
    #[arg(value_name = "CONFIG")]
    pub config: PathBuf,
    /// The search space: `method` (grid or random), `trials`, `seed`, `metric` and
    /// `[parameters]` (config keys as --set takes them, each with its list of values).
    #[arg(long, value_name = "SPACE.toml")]
    pub space: PathBuf,
    /// The folder of the trials (`trial_001`, …) and their table (`trials.tsv`).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,
    /// Run only this trial (1-based); finished trials are reused by later calls.
    #[arg(long, value_name = "I")]
    pub trial: Option<usize>,
}

const ENSEMBLE_EXAMPLES: &str = "Examples:
  for i in 1 2 3; do omix train examples/genome_folds.toml --fold $i -o runs/genome_fold$i; done
  omix ensemble runs/genome_fold1 runs/genome_fold2 runs/genome_fold3 -o runs/genome_cv
  omix predict runs/genome_cv --input seqs.txt           (the members' mean probability)
  omix train examples/splice.toml --seed 2 -o runs/splice_2    (seeds: one run per seed, then)
  omix ensemble runs/splice runs/splice_2 -o runs/splice_seeds --combine mean-logit
  for i in 1 2 3; do omix train examples/bpnet_folds.toml --fold $i -o runs/bpnet_fold$i; done
  omix ensemble runs/bpnet_fold1 runs/bpnet_fold2 runs/bpnet_fold3 -o runs/bpnet_cv
      (profile runs: the mean of the members' profile probabilities and of their log counts)";

/// How an ensemble combines its members' predictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CombineChoice {
    /// The mean of the members' probabilities (values for regression).
    MeanProbability,
    /// The mean of the members' logits (log-softmax, log rates), transformed back.
    MeanLogit,
}

/// `omix ensemble`.
#[derive(Debug, Args)]
pub struct EnsembleArgs {
    /// The member run folders (`omix train --fold I` for each fold, or one run per seed).
    #[arg(value_name = "RUN_DIR", required = true, num_args = 2..)]
    pub runs: Vec<PathBuf>,
    /// The ensemble folder to write.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,
    /// How predictions are combined.
    #[arg(long, value_enum, default_value = "mean-probability")]
    pub combine: CombineChoice,
    /// Replace an existing ensemble folder (only what omix wrote in it).
    #[arg(long)]
    pub force: bool,
}

/// `omix export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A run folder written by `omix train`.
    #[arg(value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// The file to write.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
    /// The format.
    #[arg(long, value_enum, default_value = "safetensors")]
    pub format: ExportFormat,
}

/// `omix simulate-tracks`.
#[derive(Debug, Args)]
pub struct SimulateTracksArgs {
    /// The folder to write (created; files in it are replaced).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,
    /// Stranded ChIP-nexus-like footprints, or ATAC-like cuts with a Tn5-like sequence bias.
    #[arg(long, value_enum, default_value = "chip")]
    pub assay: SimulatedAssayChoice,
    /// The seed: the same seed writes the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Two 200 kb contigs and 300 peaks instead of six 1 Mb contigs and 3000 peaks.
    #[arg(long)]
    pub small: bool,
    /// Also a control experiment (a ChIP input: control.plus.bw and control.minus.bw, or control.bw):
    /// regional factors, invisible in the sequence, scale both it and the experiment.
    #[arg(long)]
    pub control: bool,
}

/// `--assay` of `omix simulate-tracks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimulatedAssayChoice {
    /// Stranded footprints around planted motifs (BPNet's data).
    Chip,
    /// Unstranded cuts with a planted Tn5-like bias (ChromBPNet's data).
    Atac,
}

/// `omix tracks`.
#[derive(Debug, Args)]
pub struct TracksArgs {
    /// A coordinate-sorted BAM file, or a fragment file (`chrom start end barcode count`; plain,
    /// gzip or bgzip), told apart by content.
    #[arg(value_name = "READS")]
    pub input: PathBuf,
    /// The bigWig to write; with --stranded, NAME.plus.bw and NAME.minus.bw beside it.
    #[arg(long, short = 'o', value_name = "FILE.bw")]
    pub out: PathBuf,
    /// The assay, which decides the shift from a read's 5' end to the counted base.
    #[arg(long, value_enum, default_value = "chip")]
    pub assay: AssayChoice,
    /// Write one track per strand (BPNet) instead of their sum (chrombpnet).
    #[arg(long)]
    pub stranded: bool,
    /// The reference FASTA the reads were aligned to: the tracks are laid out on its contigs, and
    /// the reads' contigs must be among them with the same lengths.
    #[arg(long, value_name = "FASTA", conflicts_with = "chrom_sizes")]
    pub reference: Option<PathBuf>,
    /// A chrom sizes file (`name<TAB>length`) instead of --reference. Without either, a BAM's
    /// own header is used; a fragment file needs one of them.
    #[arg(long, value_name = "FILE")]
    pub chrom_sizes: Option<PathBuf>,
    /// Drop reads with a lower mapping quality (BAM).
    #[arg(long, default_value_t = 0, value_name = "Q")]
    pub min_mapq: u8,
    /// Count reads flagged as duplicates (BAM).
    #[arg(long)]
    pub keep_duplicates: bool,
    /// Count secondary alignments (BAM).
    #[arg(long)]
    pub keep_secondary: bool,
    /// Count supplementary alignments (BAM).
    #[arg(long)]
    pub keep_supplementary: bool,
    /// Count reads failing QC (BAM).
    #[arg(long)]
    pub keep_qc_fail: bool,
    /// Another plus-strand shift than the assay's (bases; positive moves right).
    #[arg(long, value_name = "BASES", allow_negative_numbers = true)]
    pub shift_plus: Option<i64>,
    /// Another minus-strand shift than the assay's (bases; positive moves right).
    #[arg(long, value_name = "BASES", allow_negative_numbers = true)]
    pub shift_minus: Option<i64>,
    /// Drop (and count) reads on contigs the reference lacks, instead of refusing the file.
    #[arg(long)]
    pub allow_missing_contigs: bool,
}

/// `--assay` of `omix tracks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AssayChoice {
    /// ChIP-seq / ChIP-nexus / ChIP-exo: the 5' end, unshifted.
    Chip,
    /// DNase-seq: chrombpnet's 0/+1.
    Dnase,
    /// ATAC-seq: chrombpnet's Tn5 shift.
    Atac,
}

/// `omix embed`.
#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// A run folder of an autoencoder written by `omix train`.
    #[arg(value_name = "RUN_DIR")]
    pub run: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
    /// Output TSV: id, then one column per latent dimension.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// With labels: report the cross-validated k-nearest-neighbour accuracy of the latent
    /// vectors, beside that of a PCA of the same inputs with as many components.
    #[arg(long, value_name = "K", default_value_t = 10)]
    pub knn: usize,
    /// Folds of the k-NN cross-validation.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Seed of the fold assignment.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Write the k-NN report as JSON too.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// Where sequences (and labels) come from, in flag form.
#[derive(Debug, Clone, Default, Args)]
pub struct InputArgs {
    /// Sequence file: one per line, FASTA, or TSV/CSV with a header (plain or gzip).
    #[arg(long, short = 'i', value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Labels: one per line (for a sequence-per-line input) or a table keyed by record id (for FASTA).
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// One FASTA file per class, as NAME=FILE (repeat the flag).
    #[arg(long = "class", value_name = "NAME=FILE")]
    pub classes: Vec<String>,
    /// Table column with the sequences (default: seq / sequence).
    #[arg(long, value_name = "NAME")]
    pub seq_column: Option<String>,
    /// Table column with the labels (default: label / class / bound / y / target).
    #[arg(long, value_name = "NAME")]
    pub label_column: Option<String>,
    /// Table column with record ids.
    #[arg(long, value_name = "NAME")]
    pub id_column: Option<String>,
    /// Layout of --input (default: detected; a run trained on a matrix reads a matrix).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<FormatChoice>,
    /// Sequences of another length than the model's (or --length): refuse them, or centre-crop/pad.
    #[arg(long, value_enum, value_name = "POLICY")]
    pub length_policy: Option<LengthPolicyChoice>,
}

/// What to do with sequences of another length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LengthPolicyChoice {
    /// Stop with an error naming the record.
    Refuse,
    /// Crop the centre, or pad both ends with N.
    Center,
}

impl LengthPolicyChoice {
    /// The data layer's policy.
    pub fn policy(self) -> omix_encode::LengthPolicy {
        match self {
            LengthPolicyChoice::Refuse => omix_encode::LengthPolicy::Refuse,
            LengthPolicyChoice::Center => omix_encode::LengthPolicy::CenterCropPad,
        }
    }
}

/// Input layouts from flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatChoice {
    /// One sequence per line.
    Lines,
    /// FASTA.
    Fasta,
    /// A TSV/CSV table with a header.
    Table,
    /// A numeric matrix (samples × features) with a header of feature names.
    Matrix,
}

/// Model choices from flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelChoice {
    /// The primer CNN (Conv1d 32×12, MaxPool 4, Dense 16).
    Primer,
    /// A configurable CNN (flag defaults: one conv block of 64 filters of width 15, global max
    /// pool, dense 32; a config file can stack more blocks).
    Cnn,
    /// DeepBind (16 filters × 24, global max pool, dense 32).
    Deepbind,
    /// DeepSEA (3 conv layers 320/480/960 × 8, dense 925).
    Deepsea,
    /// Basset (3 conv layers 300×19/200×11/200×7 with batch-norm, 2 dense 1000).
    Basset,
    /// The DNA module of DeepCpG (128×11, 256×3, dense 128).
    #[value(name = "deepcpg_dna")]
    DeepcpgDna,
    /// DanQ (conv 320×26, pool 13, BiLSTM 320, dense 925).
    Danq,
    /// A bidirectional LSTM (64 units per direction, max-pooled over positions).
    Lstm,
    /// A bidirectional GRU (64 units per direction, max-pooled over positions).
    Gru,
    /// A dense network (one hidden layer of 128) on k-mer features (k = 6, canonical) or matrix rows.
    Dense,
}

/// `omix train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Experiment config (TOML with [data], [model], [train]); paths in it are relative to it.
    #[arg(value_name = "CONFIG.toml")]
    pub config: Option<PathBuf>,
    /// Run folder to write (default: runs/<config name> or runs/omix).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Continue a killed run from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Replace an existing run folder.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub input: InputArgs,
    /// A separate test file (same layout as --input); otherwise a random test fraction is held out.
    #[arg(long, value_name = "FILE")]
    pub test_input: Option<PathBuf>,
    /// Labels of --test-input.
    #[arg(long, value_name = "FILE")]
    pub test_labels: Option<PathBuf>,
    /// Table column assigning rows to train/validation/test.
    #[arg(long, value_name = "NAME")]
    pub split_column: Option<String>,
    /// Model architecture.
    #[arg(long, value_enum)]
    pub model: Option<ModelChoice>,
    /// Alphabet of the sequences.
    #[arg(long, value_parser = ["dna", "rna", "protein"])]
    pub alphabet: Option<String>,
    /// Model input length (sequences of other lengths: see --length-policy).
    #[arg(long, value_name = "N")]
    pub length: Option<usize>,
    /// Dinucleotide-shuffled negatives per positive (for positive-only data).
    #[arg(long, value_name = "N")]
    pub shuffled_negatives: Option<usize>,
    /// Drop validation/test sequences that also occur (or their reverse complement) in training.
    #[arg(long)]
    pub drop_duplicates: bool,
    /// Class weights: balanced.
    #[arg(long)]
    pub balanced: bool,
    /// Seed for splits, shuffles, initialisation and batch order.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Train fold I (1-based) of folded data (`folds = k` in [data], or chromosome folds:
    /// [data.genome] folds, [tracks] folds);
    /// the run folder records the fold (default folder: runs/<config name>_fold<I>).
    #[arg(long, value_name = "I")]
    pub fold: Option<usize>,
    /// Maximum epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Batch size.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Learning rate.
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Skip the simple baseline (k-mer logistic regression, or PCA for autoencoders) fitted beside the model.
    #[arg(long)]
    pub no_baseline: bool,
    /// Skip what runs after training: explaining the test sequences (gradient x input, filter
    /// motifs matched against JASPAR) and writing report.html.
    #[arg(long)]
    pub no_report: bool,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Set any config key, as KEY=VALUE with a dotted key (repeat the flag): `--set
    /// train.epochs=1 --set model.conv.0.filters=16`. VALUE is a TOML value (number, boolean,
    /// [array], {inline table}, "string"; anything else is a string). Applied to the file before
    /// it is read; relative paths are taken from the working directory. A flag that sets the same
    /// key (--epochs and --set train.epochs) is refused; with --resume, refused.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub settings: Vec<String>,
    /// Check the config and the data, show the model, the engine and an estimate of time and
    /// memory (from a few real training steps), and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Stop after this many epochs (the checkpoint stays resumable; for testing resume).
    #[arg(long, hide = true)]
    pub stop_after: Option<usize>,
}

/// `omix evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// A run folder written by `omix train`.
    #[arg(value_name = "RUN_DIR")]
    pub run: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
    /// Also write the metrics as JSON here.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `omix predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// A run folder written by `omix train`.
    #[arg(value_name = "RUN_DIR")]
    pub run: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
    /// Output TSV (default: standard output); with --reference, the bedGraph (one file per
    /// output: OUT.<name>.bedgraph when the model has several).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Examples per batch.
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Predict along a reference genome (FASTA, plain or bgzip; indexed in memory when it has no .fai).
    #[arg(long, value_name = "GENOME.fa", requires = "output")]
    pub reference: Option<PathBuf>,
    /// With --reference: one window of the model's length centred on each interval; with
    /// --tile: the regions to tile (default: every contig).
    #[arg(long, value_name = "REGIONS.bed", requires = "reference")]
    pub bed: Option<PathBuf>,
    /// With --reference: tile the genome (or the --bed regions) with windows of the model's
    /// length every STRIDE bp.
    #[arg(long, value_name = "STRIDE", requires = "reference")]
    pub tile: Option<u64>,
    /// Only part I of N of the windows (a contiguous block; the N outputs concatenated in order
    /// equal the unsharded output), e.g. --shard 3/10 for a Slurm array.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<omix_variants::Shard>,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// What to do when a variant's REF allele disagrees with the reference genome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MismatchChoice {
    /// Stop with an error naming the record (a wrong genome build is the usual cause).
    Error,
    /// Skip the variant and count it in the summary.
    Skip,
}

/// `omix score-variants`.
#[derive(Debug, Args)]
pub struct ScoreVariantsArgs {
    /// A run folder of a sequence model written by `omix train`. For a profile model (BPNet,
    /// ChromBPNet bias-corrected) each task gets chrombpnet's scores: REF and ALT log counts, log2 fold
    /// change of the counts, and the Jensen–Shannon distance between the REF and ALT profiles.
    #[arg(value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// Variants (VCF, plain or bgzip/gzip).
    #[arg(long, value_name = "FILE.vcf[.gz]")]
    pub vcf: PathBuf,
    /// The reference genome the VCF refers to (FASTA, plain or bgzip; indexed in memory when it has no .fai).
    #[arg(long, value_name = "GENOME.fa")]
    pub reference: PathBuf,
    /// Output prefix: writes PREFIX.tsv, PREFIX.vcf and PREFIX.summary.json (PREFIX.progress.json
    /// and *.partial while running; running the same command again resumes a killed run).
    #[arg(long, short = 'o', value_name = "PREFIX")]
    pub out: PathBuf,
    /// REF alleles that disagree with the genome: stop with an error, or skip and count them.
    #[arg(long, value_enum, default_value = "error")]
    pub on_mismatch: MismatchChoice,
    /// Only part I of N of the VCF records (contiguous blocks; outputs concatenate to the
    /// unsharded output).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<omix_variants::Shard>,
    /// VCF records per batch (and per checkpoint).
    #[arg(long, default_value_t = 1024)]
    pub batch_size: usize,
    /// Score the forward strand only, even when the run averages both strands.
    #[arg(long)]
    pub no_strand_average: bool,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Stop after this many records (for testing resume).
    #[arg(long, hide = true)]
    pub stop_after: Option<u64>,
}

/// `omix quickstart`.
#[derive(Debug, Args)]
pub struct QuickstartArgs {
    /// Run folder (default: runs/quickstart).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seed of the simulation and the training.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `omix bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Train through burn's autodiff instead of omix's fast path (for comparison).
    #[arg(long)]
    pub burn_autodiff: bool,
    /// Sequences to one-hot encode.
    #[arg(long, default_value_t = 200_000)]
    pub encode_sequences: usize,
    /// Length of the sequences to encode.
    #[arg(long, default_value_t = 101)]
    pub encode_length: usize,
    /// Passes over the sequences to encode (the fastest pass is reported).
    #[arg(long, default_value_t = 5)]
    pub encode_reps: usize,
    /// Training batches to time (per round).
    #[arg(long, default_value_t = 200)]
    pub train_batches: usize,
    /// Timed rounds of training and of inference; the fastest round is reported.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Untimed training batches before the timed ones.
    #[arg(long, default_value_t = 10)]
    pub warmup_batches: usize,
    /// Batch size for training.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Inference batches (of 256 sequences) to time (per round).
    #[arg(long, default_value_t = 200)]
    pub infer_batches: usize,
    /// Seed of the random sequences, targets and weights.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Python interpreter with torch and numpy (see bench/setup_pytorch.sh): measure PyTorch in the same run.
    #[arg(long, value_name = "PYTHON")]
    pub pytorch: Option<PathBuf>,
    /// PyTorch script to run instead of the copy of bench/pytorch_primer.py built into omix.
    #[arg(long, value_name = "FILE", requires = "pytorch")]
    pub pytorch_script: Option<PathBuf>,
    /// Write the table as JSON too.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Instead: time the training data loader alone against training steps of this experiment
    /// config's model (e.g. a genome config with `basset`).
    #[arg(long, value_name = "CONFIG.toml")]
    pub loader: Option<PathBuf>,
    /// With --loader: batches the loader builds.
    #[arg(long, default_value_t = 200)]
    pub loader_batches: usize,
    /// With --loader: training steps timed (after one untimed step).
    #[arg(long, default_value_t = 5)]
    pub loader_steps: usize,
    /// Model families to train and infer: the primer CNN, the DeepBind-style GABPA config,
    /// Basset ("same" padding, 101 bp), all three, or DanQ (1000 bp).
    #[arg(long, value_enum, default_value_t = BenchModel::Primer)]
    pub model: BenchModel,
}

/// The model families `omix bench --model` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchModel {
    /// The primer CNN on 50-bp inputs.
    Primer,
    /// examples/deepbind_gabpa.toml's CNN on 101-bp inputs.
    Deepbind,
    /// examples/gabpa_basset.toml's Basset on 101-bp inputs.
    Basset,
    /// examples/splice_danq.toml's DanQ on its paper's 1000-bp inputs (for GPUs: bench/gpu).
    Danq,
    /// BPNet (bpnet-lite's and `kind = "bpnet"`'s defaults) on 2,114-bp inputs, 1,000-bp outputs;
    /// its PyTorch twin is bpnet-lite's BPNet (pip install bpnet-lite).
    Bpnet,
    /// All five, one after the other (DanQ and BPNet time a twentieth of the batches).
    All,
}
