//! `omix explain`: attributions, filters to motifs and their database matches, written to a
//! folder (TSV, MEME, SVG logos and `explain.json` for the report).
//!
//! Files (all written atomically):
//! - `attributions.tsv`: one line per sequence, position and base, a column per method (and
//!   DeepLIFT/SHAP's hypothetical contributions beside its actual ones);
//! - `ohe.npz` and `shap.npz` (with DeepLIFT/SHAP): the one-hot inputs and the hypothetical
//!   contributions, `float32 [sequences, channels, length]` under `arr_0`, the files TF-MoDISco
//!   reads (`modisco motifs -s ohe.npz -a shap.npz`); `shap_references.npz` on request, the
//!   references `[sequences, references, channels, length]`;
//! - `positions.tsv`: one line per sequence and position: the observed base, each method's
//!   position importance (see [`SequenceAttribution::position_importance`]), and the largest and
//!   mean ISM substitution effect;
//! - `aggregate.tsv`: one line per sequence: label, logit, and per method the peak position and
//!   its importance;
//! - `filters.meme`: every first-layer filter with sites, as a MEME motif (`nsites` = sites);
//! - `filters.tsv`: per filter: sites, information content, best database match and its E-value;
//! - `matches.tsv`: the best matches of every filter (p, E and q-values, strand, offset);
//! - `logos/`: SVG logos of the filters beside their best match, and attribution logos of the
//!   highest-scoring sequences;
//! - `explain.json`: all of the above that the HTML report shows.

use std::path::Path;
use std::time::Instant;

use burn::prelude::*;
use omix_data::Dataset;
use omix_io::write_atomically;
use omix_motif::{CompareOptions, Comparer, LogoOptions, MotifMatch, Scoring, Similarity};
use omix_motif::{Motif, MotifSet, write_meme};

use crate::ExplainError;
use crate::attribution::{ExplainOptions, Explainer, Method, SequenceAttribution, filter_sites};
use omix_run::explain::{AttributionTrack, ExplainSummary, FilterMatch, FilterMotif, MethodAgreement};
use omix_run::{Observer, RunDir, files, label_text};

/// Settings of one `explain` run.
#[derive(Debug, Clone)]
pub struct InterpretSettings {
    /// Attribution methods, output, integrated-gradients settings.
    pub options: ExplainOptions,
    /// A window is a filter's site when its activation exceeds this fraction of the filter's
    /// maximum over the data (0.5: DeepBind, Basset).
    pub threshold: f32,
    /// The motif database filters are compared with.
    pub database: MotifSet,
    /// How the database is named in outputs.
    pub database_label: String,
    /// Attribution tracks (logos) of this many highest-scoring sequences.
    pub top_tracks: usize,
    /// Matches kept per filter in `matches.tsv` and the report.
    pub matches_per_filter: usize,
    /// Filters with fewer sites are not compared (too few to estimate a motif).
    pub min_sites: usize,
    /// Time the naive ISM loop (one forward pass per mutant) on this many sequences.
    pub naive_ism: usize,
    /// How filters are compared with the database (Tomtom's complete scores, Pearson, both
    /// strands by default).
    pub compare: CompareOptions,
    /// The largest E-value presented as a match in messages and the report (`matches.tsv`
    /// keeps every match).
    pub max_e_value: f64,
    /// Whether the user chose the methods: a chosen method the model cannot take is an error;
    /// among the defaults it is skipped with a message.
    pub explicit_methods: bool,
    /// Also write DeepLIFT/SHAP's references to `shap_references.npz`.
    pub save_references: bool,
}

impl InterpretSettings {
    /// These options against a database, with the usual rest: sites above 0.5 × the maximum
    /// activation, 6 attribution tracks, 5 matches per filter, filters with at least 10 sites
    /// compared (Tomtom's complete scores, Pearson), matches shown up to E = 0.05, no naive-ISM
    /// timing.
    pub fn new(options: ExplainOptions, database: MotifSet, database_label: String) -> Self {
        Self {
            options,
            threshold: 0.5,
            database,
            database_label,
            top_tracks: 6,
            matches_per_filter: 5,
            min_sites: 10,
            naive_ism: 0,
            compare: CompareOptions::default(),
            max_e_value: omix_run::explain::DEFAULT_MAX_E_VALUE,
            explicit_methods: false,
            save_references: false,
        }
    }
}

/// What one explain run found, beside the files it wrote.
#[derive(Debug, Clone)]
pub struct InterpretOutcome {
    /// The report's view of the results.
    pub summary: ExplainSummary,
    /// The attributions (forward strand), in input order.
    pub attributions: Vec<SequenceAttribution>,
    /// Seconds spent per method (ISM separately).
    pub seconds: Vec<(String, f64)>,
    /// Sequences per second of batched ISM, and of the naive loop when timed.
    pub ism_rate: Option<(f64, Option<f64>)>,
}

/// Sequences per progress step of the gradient methods.
const PROGRESS_CHUNK: usize = 256;

/// Sequences per progress step of parallel ISM.
const ISM_PROGRESS_BLOCK: usize = 64;

/// A DeepLIFT/SHAP pair whose attributions miss `f(x) − f(r)` by more than this is reported as
/// a warning (tangermeme's default threshold).
pub const CONVERGENCE_TOLERANCE: f32 = 1e-3;

/// Bits below which a filter column counts as flank when the motif is compared.
const TRIM_BITS: f64 = 0.3;

/// Explain a run's model on the given examples and write the results to `out`.
pub fn interpret(
    run: &RunDir,
    dataset: &Dataset,
    indices: &[usize],
    settings: &InterpretSettings,
    out: &Path,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<InterpretOutcome, ExplainError> {
    check_output_folder(out)?;
    let explainer = Explainer::new(run, device)?;
    let pipeline = explainer.input_pipeline(dataset)?;
    let schema = &dataset.schema;
    let (channels, length) = explainer.shape();
    let letters = String::from_utf8_lossy(schema.alphabet.symbols()).into_owned();
    let output_name = schema.output_names().get(settings.options.output).cloned().unwrap_or_default();
    let objective = explainer.objective()?;
    let mut ensemble = None;
    if let Some(combine) = explainer.combine() {
        let rule = format!(
            "each attribution is the mean of the members' attributions of their logits ({})",
            match combine {
                omix_run::Combine::MeanLogit => "the attribution of the ensemble's logit, the members' mean logit",
                omix_run::Combine::MeanProbability =>
                    "not an attribution of the ensemble's mean probability, which is no function of the mean logit",
            }
        );
        observer.message(&format!(
            "an ensemble of {} members combined by {}: {rule}",
            explainer.members(),
            combine.name()
        ));
        let members = run.ensemble()?.map(|file| file.members).unwrap_or_default();
        ensemble = Some(omix_run::explain::EnsembleAttribution { members, combine, rule });
    }
    std::fs::create_dir_all(out.join("logos"))
        .map_err(|error| ExplainError::Write { path: out.to_path_buf(), message: format!("cannot create: {error}") })?;

    // Methods the model can take.
    let mut methods = settings.options.methods.clone();
    if methods.contains(&Method::DeepLiftShap)
        && let Some(reason) = explainer.deeplift_unsupported()
    {
        if settings.explicit_methods {
            return Err(ExplainError::Invalid(format!("--method deeplift-shap: {reason}")));
        }
        observer.message(&format!("DeepLIFT/SHAP skipped: {reason}"));
        methods.retain(|m| *m != Method::DeepLiftShap);
    }

    // Attributions, one method at a time so each is timed.
    let mut seconds = Vec::new();
    let mut attributions: Vec<SequenceAttribution> = Vec::new();
    let gradient_methods: Vec<Method> =
        methods.iter().copied().filter(|m| !matches!(m, Method::Ism | Method::DeepLiftShap)).collect();
    let started = Instant::now();
    let base = ExplainOptions { methods: gradient_methods.clone(), ..settings.options.clone() };
    observer.start("gradients (sequences)", indices.len() as u64);
    for chunk in indices.chunks(PROGRESS_CHUNK) {
        let explained = explainer.explain(&pipeline, dataset, chunk, &base);
        let explained = match explained {
            Ok(explained) => explained,
            Err(error) => {
                observer.finish();
                return Err(error);
            }
        };
        attributions.extend(explained);
        observer.advance(attributions.len() as u64, "");
    }
    observer.finish();
    if !gradient_methods.is_empty() {
        seconds.push((
            gradient_methods.iter().map(|m| m.name()).collect::<Vec<_>>().join("+"),
            started.elapsed().as_secs_f64(),
        ));
    }
    let mut ism_rate = None;
    if methods.contains(&Method::Ism) {
        let started = Instant::now();
        let output = settings.options.output;
        observer.start("mutagenesis (sequences)", attributions.len() as u64);
        let mut done = 0u64;
        // Parallel within a block of sequences; progress is reported between blocks.
        for block in attributions.chunks_mut(ISM_PROGRESS_BLOCK) {
            let inputs: Vec<f32> = block.iter().flat_map(|a| a.input.iter().copied()).collect();
            let effects = match explainer.ism_many(&inputs, output, settings.options.batch_size.max(1) * 4) {
                Ok(effects) => effects,
                Err(error) => {
                    observer.finish();
                    return Err(error);
                }
            };
            for (a, effects) in block.iter_mut().zip(effects.chunks(channels * length)) {
                a.ism = Some(effects.to_vec());
            }
            done += block.len() as u64;
            observer.advance(done, "");
        }
        observer.finish();
        let elapsed = started.elapsed().as_secs_f64();
        seconds.push(("ism".into(), elapsed));
        let batched = attributions.len() as f64 / elapsed.max(1e-9);
        observer.message(&format!(
            "in-silico mutagenesis ({}): {} sequences x {} substitutions in {:.2}s ({:.0} sequences/s, {:.0} mutants/s)",
            if explainer.ism_by_local_updates() {
                "local updates of the first convolution"
            } else {
                "batched forward passes"
            },
            attributions.len(),
            length * (channels - 1),
            elapsed,
            batched,
            batched * (length * (channels - 1)) as f64
        ));
        let naive = if settings.naive_ism > 0 && !attributions.is_empty() {
            let count = settings.naive_ism.min(attributions.len());
            let started = Instant::now();
            let mut largest = 0.0f32;
            for attribution in &attributions[..count] {
                let slow = explainer.ism_naive(&attribution.input, settings.options.output)?;
                if let Some(fast) = &attribution.ism {
                    for (a, b) in fast.iter().zip(&slow) {
                        largest = largest.max((a - b).abs());
                    }
                }
            }
            let rate = count as f64 / started.elapsed().as_secs_f64().max(1e-9);
            observer.message(&format!(
                "  naive loop (one burn forward pass per mutant) on {count} sequences: {rate:.1} sequences/s; omix's ISM is {:.0}x faster; largest difference {largest:.2e}",
                batched / rate
            ));
            Some(rate)
        } else {
            None
        };
        ism_rate = Some((batched, naive));
    }

    let mut convergence = None;
    if methods.contains(&Method::DeepLiftShap) {
        let started = Instant::now();
        observer.start("DeepLIFT/SHAP (sequences)", attributions.len() as u64);
        let mut done = 0u64;
        let mut saved_references = Vec::new();
        for attribution in &mut attributions {
            let references = explainer.shap_references(&attribution.input, attribution.index, &settings.options);
            if settings.save_references {
                saved_references.extend_from_slice(&references);
            }
            match explainer.deeplift_shap(&attribution.input, &references, settings.options.output) {
                Ok(shap) => {
                    attribution.deeplift_shap = Some(shap.actual);
                    attribution.hypothetical = Some(shap.hypothetical);
                    attribution.convergence = Some(shap.max_deviation);
                }
                Err(error) => {
                    observer.finish();
                    return Err(error);
                }
            }
            done += 1;
            observer.advance(done, "");
        }
        observer.finish();
        let elapsed = started.elapsed().as_secs_f64();
        seconds.push(("deeplift_shap".into(), elapsed));
        let deviations: Vec<f32> = attributions.iter().filter_map(|a| a.convergence).collect();
        let worst = deviations.iter().copied().fold(0.0f32, f32::max);
        let above = deviations.iter().filter(|d| **d > CONVERGENCE_TOLERANCE).count();
        let references = match settings.options.shap_baseline {
            crate::IgBaseline::Shuffled => {
                format!("{} dinucleotide-shuffled references", settings.options.shap_references.max(1))
            }
            crate::IgBaseline::Zeros => "an all-zero reference".into(),
            crate::IgBaseline::Uniform => "a uniform reference".into(),
        };
        observer.message(&format!(
            "DeepLIFT/SHAP: {} sequences x {references} in {elapsed:.2}s; summation to delta holds to {worst:.1e} at worst (|sum of attributions - (f(x) - f(reference))|, every pair)",
            attributions.len()
        ));
        if above > 0 {
            observer.message(&format!(
                "warning: DeepLIFT/SHAP's attributions of {above} sequences miss f(x) - f(reference) by more than {CONVERGENCE_TOLERANCE:.0e}; they may be wrong for this model"
            ));
        }
        convergence = Some(f64::from(worst));
        if settings.save_references {
            let per_sequence = saved_references.len() / (attributions.len() * channels * length).max(1);
            omix_io::write_npz(
                &out.join("shap_references.npz"),
                &[omix_io::NpyArray {
                    name: "arr_0",
                    shape: &[attributions.len(), per_sequence, channels, length],
                    values: &saved_references,
                }],
            )?;
        }
    }

    write_attributions(out, dataset, &attributions, &methods, &letters, channels)?;
    if methods.contains(&Method::DeepLiftShap) {
        let shape = [attributions.len(), channels, length];
        let inputs: Vec<f32> = attributions.iter().flat_map(|a| a.input.iter().copied()).collect();
        let hypothetical: Vec<f32> =
            attributions.iter().flat_map(|a| a.hypothetical.iter().flatten().copied()).collect();
        omix_io::write_npz(
            &out.join("ohe.npz"),
            &[omix_io::NpyArray { name: "arr_0", shape: &shape, values: &inputs }],
        )?;
        omix_io::write_npz(
            &out.join("shap.npz"),
            &[omix_io::NpyArray { name: "arr_0", shape: &shape, values: &hypothetical }],
        )?;
    }

    // Agreement of methods on per-position importance.
    let mut agreement = Vec::new();
    let pairs = [
        (Method::DeepLiftShap, Method::Ism),
        (Method::DeepLiftShap, Method::GradientXInput),
        (Method::Ism, Method::GradientXInput),
        (Method::Ism, Method::IntegratedGradients),
        (Method::IntegratedGradients, Method::GradientXInput),
    ];
    for (first, second) in pairs {
        if !methods.contains(&first) || !methods.contains(&second) {
            continue;
        }
        let mut values: Vec<f64> = attributions
            .iter()
            .filter_map(|a| {
                let x = a.position_importance(first, channels)?;
                let y = a.position_importance(second, channels)?;
                let x: Vec<f64> = x.iter().map(|v| f64::from(*v)).collect();
                let y: Vec<f64> = y.iter().map(|v| f64::from(*v)).collect();
                omix_metrics::spearman(&x, &y)
            })
            .collect();
        if values.is_empty() {
            continue;
        }
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        values.sort_by(f64::total_cmp);
        let median = if values.len() % 2 == 1 {
            values[values.len() / 2]
        } else {
            0.5 * (values[values.len() / 2 - 1] + values[values.len() / 2])
        };
        observer.message(&format!(
            "per-position importance, {} vs {}: Spearman mean {mean:.3}, median {median:.3} over {} sequences",
            first.name(),
            second.name(),
            values.len()
        ));
        agreement.push(MethodAgreement {
            first: first.name().into(),
            second: second.name().into(),
            spearman_mean: mean,
            spearman_median: median,
            sequences: values.len(),
        });
    }

    // Filters to motifs, compared with the database.
    let filters = match explainer.first_layer() {
        Some(layer) => {
            if explainer.members() > 1 {
                observer.message(&format!(
                    "filters: member 01's first-layer filters only (each of the {} members learned its own, so they are not averaged)",
                    explainer.members()
                ));
            }
            let started = Instant::now();
            let inputs: Vec<f32> = attributions.iter().flat_map(|a| a.input.iter().copied()).collect();
            let sites = filter_sites(&layer, &inputs, length, settings.threshold);
            let filters = filter_motifs(&sites, settings, &letters, out)?;
            observer.message(&format!(
                "filters: {} first-layer filters of width {}, {} with at least {} sites, compared with {} in {:.1}s",
                layer.filters,
                layer.width,
                filters.iter().filter(|f| f.sites >= settings.min_sites).count(),
                settings.min_sites,
                settings.database_label,
                started.elapsed().as_secs_f64()
            ));
            let significant =
                filters.iter().filter(|f| f.matches.first().is_some_and(|m| m.e_value <= settings.max_e_value)).count();
            observer.message(&format!(
                "  {significant} filters match a database motif with E <= {} ({})",
                settings.max_e_value,
                comparison_label(&settings.compare)
            ));
            for filter in filters.iter().take(5) {
                if let Some(best) = filter.matches.first() {
                    let name = best.target_name.as_deref().map(|n| format!(" {n}")).unwrap_or_default();
                    let found = if best.e_value <= settings.max_e_value {
                        format!("{}{name} E = {:.2e}", best.target_id, best.e_value)
                    } else {
                        format!(
                            "no match with E <= {} (closest {}{name}, E = {:.2e})",
                            settings.max_e_value, best.target_id, best.e_value
                        )
                    };
                    observer.message(&format!(
                        "  filter {:>3} ({} sites, {:.1} bits): {found}",
                        filter.index, filter.sites, filter.information_content
                    ));
                }
            }
            filters
        }
        None => {
            observer.message("filters: the model has no first convolution over the sequence, so no filter motifs");
            Vec::new()
        }
    };

    // Attribution tracks of the highest-scoring sequences (gradient × input where computed).
    let track_method =
        [Method::DeepLiftShap, Method::GradientXInput, Method::IntegratedGradients, Method::Saliency, Method::Ism]
            .into_iter()
            .find(|m| methods.contains(m));
    let mut tracks = Vec::new();
    if let Some(method) = track_method {
        let mut order: Vec<usize> = (0..attributions.len()).collect();
        order.sort_by(|&a, &b| attributions[b].logit.total_cmp(&attributions[a].logit).then(a.cmp(&b)));
        for &k in order.iter().take(settings.top_tracks) {
            let attribution = &attributions[k];
            let Some(scores) = attribution.scores(method) else { continue };
            let example = &dataset.examples[attribution.index];
            let rows: Vec<Vec<f32>> =
                (0..length).map(|p| (0..channels).map(|c| scores[c * length + p]).collect()).collect();
            let svg = omix_motif::attribution_logo_svg(
                &rows,
                &letters,
                &LogoOptions {
                    column_width: 9.0,
                    title: Some(format!("{} of {} ({})", method.name(), example.id, output_name)),
                    ..LogoOptions::default()
                },
            );
            write_text(&out.join("logos").join(format!("attribution_{}.svg", file_safe(&example.id))), &svg)?;
            tracks.push(AttributionTrack {
                sequence_id: example.id.clone(),
                label: label_text(dataset, &example.target),
                // The number test_predictions.tsv gives for this output: a probability (sigmoid,
                // or softmax over the classes), or the predicted value of a regression.
                // An ensemble's members combined as it combines them.
                score: explainer
                    .predictions(&attribution.input)?
                    .get(settings.options.output)
                    .copied()
                    .unwrap_or(f64::NAN),
                sequence: String::from_utf8_lossy(&example.sequence).into_owned(),
                method: method.name().into(),
                scores: rows,
            });
        }
    }

    let summary = ExplainSummary {
        alphabet: letters,
        output: output_name,
        methods: methods.iter().map(|m| m.name().to_string()).collect(),
        convergence,
        database: Some(settings.database_label.clone()),
        comparison: Some(comparison_label(&settings.compare)),
        max_e_value: Some(settings.max_e_value),
        filters,
        tracks,
        score_name: Some(objective.prediction_name().to_string()),
        agreement,
        ensemble,
    };
    let json = serde_json::to_string_pretty(&summary)
        .map_err(|error| ExplainError::Invalid(format!("cannot serialise explain.json: {error}")))?;
    write_text(&out.join(files::EXPLAIN_SUMMARY), &json)?;
    Ok(InterpretOutcome { summary, attributions, seconds, ism_rate })
}

/// How `options` compare motifs, in words: "Tomtom complete scores, Pearson correlation, both
/// strands".
pub fn comparison_label(options: &CompareOptions) -> String {
    let scoring = match options.scoring {
        Scoring::Complete => "Tomtom complete scores".to_owned(),
        Scoring::Incomplete => format!("Tomtom incomplete scores (overlap >= {})", options.min_overlap),
    };
    let distance = match options.similarity {
        Similarity::Pearson => "Pearson correlation",
        Similarity::Euclidean => "Euclidean distance",
    };
    let strands = if options.both_strands { "both strands" } else { "forward strand" };
    format!("{scoring}, {distance}, {strands}")
}

/// Each filter's motif, its matches in the database, its logos; ranked best match first.
pub(crate) fn filter_motifs(
    sites: &[crate::attribution::FilterSites],
    settings: &InterpretSettings,
    letters: &str,
    out: &Path,
) -> Result<Vec<FilterMotif>, ExplainError> {
    let background = vec![1.0 / letters.len().max(1) as f64; letters.len()];
    let comparer = Comparer::new(&settings.database, settings.compare.clone())
        .map_err(|error| ExplainError::Invalid(format!("motif database: {error}")))?;
    let mut motifs = Vec::new();
    let mut filters = Vec::new();
    for filter in sites {
        if filter.sites == 0 {
            continue;
        }
        let probabilities = omix_motif::frequency_matrix(&filter.counts, 0.01 * filter.sites as f64);
        let mut motif = Motif::new(format!("filter{}", filter.index), probabilities.clone());
        motif.name = Some(format!("{}_sites", filter.sites));
        motif.sites = Some(filter.sites as f64);
        let information = omix_motif::total_information(&probabilities, &background);
        let matches: Vec<MotifMatch> = if filter.sites >= settings.min_sites {
            let trimmed = omix_motif::trim_motif(&motif, &background, TRIM_BITS);
            let leading = leading_trim(&probabilities, &background);
            let mut found = comparer
                .compare(&trimmed)
                .map_err(|error| ExplainError::Invalid(format!("comparing filter {}: {error}", filter.index)))?;
            found.truncate(settings.matches_per_filter);
            // Offsets relative to the untrimmed filter.
            for m in &mut found {
                m.offset += leading as isize;
            }
            found
        } else {
            Vec::new()
        };
        if let Some(best) = matches.first() {
            let target = &settings.database.motifs[best.target_index];
            let svg = omix_motif::aligned_logos_svg(
                &motif,
                target,
                best,
                letters,
                &background,
                &format!("filter {} ({} sites)", filter.index, filter.sites),
                &target.label(),
                &LogoOptions::default(),
            );
            write_text(&out.join("logos").join(format!("filter{}.svg", filter.index)), &svg)?;
        } else {
            let svg = omix_motif::logo_svg(
                &motif,
                letters,
                &background,
                &LogoOptions {
                    title: Some(format!("filter {} ({} sites)", filter.index, filter.sites)),
                    ..LogoOptions::default()
                },
            );
            write_text(&out.join("logos").join(format!("filter{}.svg", filter.index)), &svg)?;
        }
        filters.push(FilterMotif {
            index: filter.index,
            sites: filter.sites,
            information_content: information,
            max_activation: f64::from(filter.max_activation),
            probabilities,
            matches: matches.iter().map(|m| filter_match(m, &settings.database)).collect(),
        });
        motifs.push(motif);
    }
    let mut meme = Vec::new();
    write_meme(&motifs, &background, &mut meme)
        .map_err(|error| ExplainError::Invalid(format!("cannot write filters.meme: {error}")))?;
    write_atomically(&out.join("filters.meme"), |w| w.write_all(&meme))?;

    // Best first: filters with a significant match by E-value, then the rest by information.
    filters.sort_by(|a, b| {
        let e = |f: &FilterMotif| f.matches.first().map_or(f64::INFINITY, |m| m.e_value);
        e(a).total_cmp(&e(b)).then(b.information_content.total_cmp(&a.information_content)).then(a.index.cmp(&b.index))
    });
    write_atomically(&out.join("filters.tsv"), |w| {
        writeln!(
            w,
            "filter\tsites\tmax_activation\tinformation_bits\tconsensus\tbest_match\tbest_match_name\tstrand\toffset\tp_value\te_value\tq_value"
        )?;
        for f in &filters {
            let consensus = consensus(&f.probabilities, letters);
            match f.matches.first() {
                Some(m) => writeln!(
                    w,
                    "{}\t{}\t{:.4}\t{:.3}\t{}\t{}\t{}\t{}\t{}\t{:.3e}\t{:.3e}\t{:.3e}",
                    f.index,
                    f.sites,
                    f.max_activation,
                    f.information_content,
                    consensus,
                    m.target_id,
                    m.target_name.as_deref().unwrap_or(""),
                    m.strand,
                    m.offset,
                    m.p_value,
                    m.e_value,
                    m.q_value
                )?,
                None => writeln!(
                    w,
                    "{}\t{}\t{:.4}\t{:.3}\t{}\t\t\t\t\t\t\t",
                    f.index, f.sites, f.max_activation, f.information_content, consensus
                )?,
            }
        }
        Ok(())
    })?;
    write_atomically(&out.join("matches.tsv"), |w| {
        writeln!(w, "filter\trank\ttarget_id\ttarget_name\tstrand\toffset\toverlap\tp_value\te_value\tq_value")?;
        for f in &filters {
            for (rank, m) in f.matches.iter().enumerate() {
                writeln!(
                    w,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.3e}\t{:.3e}\t{:.3e}",
                    f.index,
                    rank + 1,
                    m.target_id,
                    m.target_name.as_deref().unwrap_or(""),
                    m.strand,
                    m.offset,
                    m.overlap,
                    m.p_value,
                    m.e_value,
                    m.q_value
                )?;
            }
        }
        Ok(())
    })?;
    Ok(filters)
}

/// Columns `trim_motif` drops from the left (below [`TRIM_BITS`]), but never all of them.
fn leading_trim(probabilities: &[Vec<f64>], background: &[f64]) -> usize {
    let bits = omix_motif::information_content(probabilities, background);
    let first = bits.iter().position(|b| *b >= TRIM_BITS);
    match first {
        Some(first) => first,
        None => bits.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i),
    }
}

/// The most probable letter per column, lower case when it is below 0.5.
fn consensus(probabilities: &[Vec<f64>], letters: &str) -> String {
    let letters: Vec<char> = letters.chars().collect();
    probabilities
        .iter()
        .map(|column| {
            let (best, p) =
                column.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or((0, 0.0), |(i, p)| (i, *p));
            let letter = letters.get(best).copied().unwrap_or('N');
            if p >= 0.5 { letter } else { letter.to_ascii_lowercase() }
        })
        .collect()
}

fn write_attributions(
    out: &Path,
    dataset: &Dataset,
    attributions: &[SequenceAttribution],
    methods: &[Method],
    letters: &str,
    channels: usize,
) -> Result<(), ExplainError> {
    let letters: Vec<char> = letters.chars().collect();
    let methods: Vec<Method> = Method::ALL.into_iter().filter(|m| methods.contains(m)).collect();
    write_atomically(&out.join("attributions.tsv"), |w| {
        write!(w, "sequence_id\tposition\tbase\tobserved")?;
        for m in &methods {
            write!(w, "\t{}", m.name())?;
        }
        let hypothetical = methods.contains(&Method::DeepLiftShap);
        if hypothetical {
            write!(w, "\tdeeplift_shap_hypothetical")?;
        }
        writeln!(w)?;
        for a in attributions {
            let id = &dataset.examples[a.index].id;
            let length = a.input.len() / channels.max(1);
            for position in 0..length {
                for (channel, letter) in letters.iter().enumerate().take(channels) {
                    let k = channel * length + position;
                    write!(w, "{id}\t{}\t{letter}\t{}", position + 1, u8::from(a.input[k] > 0.5))?;
                    for m in &methods {
                        write!(w, "\t{:.6}", a.scores(*m).map_or(0.0, |s| s[k]))?;
                    }
                    if hypothetical {
                        write!(w, "\t{:.6}", a.hypothetical.as_deref().map_or(0.0, |s| s[k]))?;
                    }
                    writeln!(w)?;
                }
            }
        }
        Ok(())
    })?;
    write_atomically(&out.join("positions.tsv"), |w| {
        write!(w, "sequence_id\tposition\tbase")?;
        for m in &methods {
            write!(w, "\t{}", m.name())?;
        }
        if methods.contains(&Method::Ism) {
            write!(w, "\tism_max_effect\tism_mean_effect")?;
        }
        writeln!(w)?;
        for a in attributions {
            let example = &dataset.examples[a.index];
            let importance: Vec<Vec<f32>> =
                methods.iter().map(|m| a.position_importance(*m, channels).unwrap_or_default()).collect();
            let effects = a.ism_position_effects(channels);
            let length = a.input.len() / channels.max(1);
            for position in 0..length {
                let base = example.sequence.get(position).map_or('N', |b| *b as char);
                write!(w, "{}\t{}\t{base}", example.id, position + 1)?;
                for values in &importance {
                    write!(w, "\t{:.6}", values.get(position).copied().unwrap_or(0.0))?;
                }
                if let Some(effects) = &effects {
                    let (max, mean) = effects.get(position).copied().unwrap_or((0.0, 0.0));
                    write!(w, "\t{max:.6}\t{mean:.6}")?;
                }
                writeln!(w)?;
            }
        }
        Ok(())
    })?;
    write_atomically(&out.join("aggregate.tsv"), |w| {
        write!(w, "sequence_id\tlabel\tlogit")?;
        for m in &methods {
            write!(w, "\t{0}_peak_position\t{0}_peak", m.name())?;
        }
        writeln!(w)?;
        for a in attributions {
            let example = &dataset.examples[a.index];
            write!(w, "{}\t{}\t{:.6}", example.id, label_text(dataset, &example.target), a.logit)?;
            for m in &methods {
                let importance = a.position_importance(*m, channels).unwrap_or_default();
                let (peak, value) =
                    importance.iter().enumerate().max_by(|x, y| x.1.total_cmp(y.1)).map_or((0, 0.0), |(i, v)| (i, *v));
                write!(w, "\t{}\t{value:.6}", peak + 1)?;
            }
            writeln!(w)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// `out` must be new, empty, or an earlier explain output (it holds an explain summary, of a
/// classifier or of a profile model, or discovered motifs): explain replaces its own files and
/// nobody else's.
pub(crate) fn check_output_folder(out: &Path) -> Result<(), ExplainError> {
    let refuse = |message: String| Err(ExplainError::Write { path: out.to_path_buf(), message });
    let summaries = [files::EXPLAIN_SUMMARY, crate::profile::PROFILE_EXPLAIN_SUMMARY, files::PATTERNS_JSON];
    match std::fs::symlink_metadata(out) {
        Err(_) => Ok(()),
        Ok(meta) if !meta.is_dir() => refuse("it exists and is not a folder; choose another output folder".into()),
        Ok(_) => {
            let empty = std::fs::read_dir(out).map(|mut entries| entries.next().is_none()).unwrap_or(false);
            if empty || summaries.iter().any(|name| out.join(name).is_file()) {
                Ok(())
            } else {
                refuse(format!(
                    "the folder is not empty and holds no {}, {} or {} of an earlier explain, so it is not omix's to write into; choose a new or empty output folder",
                    summaries[0], summaries[1], summaries[2]
                ))
            }
        }
    }
}

fn write_text(path: &Path, text: &str) -> Result<(), ExplainError> {
    write_atomically(path, |w| w.write_all(text.as_bytes()))?;
    Ok(())
}

/// An id usable as a file name (letters, digits, `-`, `_`, `.`; anything else becomes `_`).
pub fn file_safe(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' }).collect()
}

/// A Tomtom match as `explain.json` and `patterns.json` record it, with the target's matrix.
pub(crate) fn filter_match(m: &MotifMatch, database: &MotifSet) -> FilterMatch {
    FilterMatch {
        target_id: m.target_id.clone(),
        target_name: m.target_name.clone(),
        strand: m.strand.to_string(),
        offset: m.offset as i64,
        overlap: m.overlap,
        p_value: m.p_value,
        e_value: m.e_value,
        q_value: m.q_value,
        target_probabilities: database.motifs[m.target_index].probabilities.clone(),
    }
}
