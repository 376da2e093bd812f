//! Motifs discovered from attributions: `ohe.npz` + `shap.npz` (omix's, a profile run's, or any
//! tool's in TF-MoDISco's format) → seqlets and patterns ([`omix_motif::discover`]) → database
//! matches ([`omix_motif::Comparer`]) → the files of an explain folder:
//!
//! - `patterns.json` (omix-run's [`DiscoveredMotifs`], what the report reads), `patterns.meme`
//!   (trimmed PFMs), `patterns.tsv` (one line per pattern with its best match),
//!   `pattern_matches.tsv` (every match kept), `seqlets.tsv` (every seqlet with its pattern),
//!   `seqlet_fdr.tsv` (the false discovery estimate at each threshold tried);
//! - `logos/pattern_<id>.cwm.svg` and `logos/pattern_<id>.pfm.svg`.
//!
//! No burn here: it lives in omix-explain beside the other writers of the explain folder
//! (`interpret`, `motif_database`), and both `omix explain --discover-motifs` and `omix motifs`
//! call it.

use std::path::Path;
use std::time::Instant;

use omix_encode::{Alphabet, reverse_complement};
use omix_io::write_atomically;
use omix_motif::discover::{
    AttributionSet, Control, DiscoverySettings, Pattern, Seqlet, consensus, discover_with_control, pattern_motif,
};
use omix_motif::{CompareOptions, Comparer, LogoOptions, Motif, MotifMatch, MotifSet, write_meme};
use omix_run::Observer;
use omix_run::files;
use omix_run::motifs::{DiscoveredMotifs, DiscoveredPattern, PatternSite, SeqletSummary};

use crate::ExplainError;
use crate::interpret::{comparison_label, filter_match};

/// How motifs are discovered and matched.
#[derive(Debug, Clone)]
pub struct MotifSettings {
    /// Seqlet calling and clustering.
    pub discovery: DiscoverySettings,
    /// The database patterns are compared with.
    pub database: MotifSet,
    /// How the database is named in outputs.
    pub database_label: String,
    /// How patterns are compared with it.
    pub compare: CompareOptions,
    /// The largest E-value presented as a match.
    pub max_e_value: f64,
    /// Matches kept per pattern.
    pub matches_per_pattern: usize,
    /// Example sites kept per pattern in `patterns.json`.
    pub examples_per_pattern: usize,
}

impl MotifSettings {
    /// Default discovery settings against `database`.
    pub fn new(database: MotifSet, database_label: String) -> Self {
        MotifSettings {
            discovery: DiscoverySettings::default(),
            database,
            database_label,
            compare: CompareOptions::default(),
            max_e_value: omix_run::explain::DEFAULT_MAX_E_VALUE,
            matches_per_pattern: 10,
            examples_per_pattern: 5,
        }
    }
}

/// Reads one-hot sequences and their contributions (`sequences × 4 × length` each, TF-MoDISco's
/// layout; the first array of each archive, or an `.npy` file), cropped to the central `window`
/// positions when given (as `modisco motifs -w`).
pub fn read_attributions(
    one_hot: &Path,
    attributions: &Path,
    window: Option<usize>,
) -> Result<AttributionSet, ExplainError> {
    let read = |path: &Path| -> Result<(usize, usize, Vec<f32>), ExplainError> {
        let array = omix_io::read_npy(path, None)?;
        match array.shape[..] {
            [n, 4, l] if n > 0 && l > 0 => Ok((n, l, array.values)),
            _ => Err(ExplainError::Invalid(format!(
                "{}: array `{}` has shape {:?}; expected sequences × 4 × length (as `modisco motifs` reads)",
                path.display(),
                array.name,
                array.shape
            ))),
        }
    };
    let (n, l, mut x) = read(one_hot)?;
    let (m, k, mut y) = read(attributions)?;
    if (n, l) != (m, k) {
        return Err(ExplainError::Invalid(format!(
            "{} holds {n} sequences × 4 × {l} positions but {} holds {m} × 4 × {k}; they must match",
            one_hot.display(),
            attributions.display()
        )));
    }
    let mut length = l;
    if let Some(window) = window.filter(|&w| w < l) {
        if window == 0 {
            return Err(ExplainError::Invalid("the window must be at least 1 position".into()));
        }
        let start = l / 2 - window / 2;
        let crop = |values: &[f32]| -> Vec<f32> {
            values.chunks(l).flat_map(|row| row[start..start + window].iter().copied()).collect()
        };
        x = crop(&x);
        y = crop(&y);
        length = window;
    }
    AttributionSet::new(x, y, n, length).map_err(|error| {
        ExplainError::Invalid(format!("{} and {}: {error}", one_hot.display(), attributions.display()))
    })
}

/// Every file [`discover_motifs`] writes at the top of its folder.
pub const OUTPUTS: &[&str] = &[
    files::PATTERNS_JSON,
    files::PATTERNS_MEME,
    files::PATTERNS_TSV,
    files::PATTERN_MATCHES,
    files::SEQLETS,
    files::SEQLET_FDR,
];

/// [`read_attributions`] then [`discover_motifs`] into `out`, which must be new, empty or an
/// earlier explain (or motifs) output, and none of whose outputs may be an input.
pub fn discover_motifs_from_files(
    one_hot: &Path,
    attributions: &Path,
    control: Option<(&Path, &Path)>,
    window: Option<usize>,
    settings: &MotifSettings,
    out: &Path,
    observer: &mut dyn Observer,
) -> Result<DiscoveredMotifs, ExplainError> {
    crate::interpret::check_output_folder(out)?;
    let mut inputs = vec![(one_hot, "the one-hot sequences"), (attributions, "the attributions")];
    if let Some((control_one_hot, control_attributions)) = control {
        inputs.push((control_one_hot, "the control's one-hot sequences"));
        inputs.push((control_attributions, "the control attributions"));
    }
    for name in OUTPUTS {
        omix_io::refuse_output_over_inputs(&out.join(name), &inputs)?;
    }
    let set = read_attributions(one_hot, attributions, window)?;
    observer.message(&format!(
        "searching {} sequences × {} positions of {} for motifs",
        set.sequences,
        set.length,
        attributions.display()
    ));
    std::fs::create_dir_all(out)
        .map_err(|error| ExplainError::Write { path: out.to_path_buf(), message: error.to_string() })?;
    let name =
        |path: &Path| path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let source = format!("{} + {}", name(one_hot), name(attributions));
    let control = match control {
        Some((control_one_hot, control_attributions)) => {
            let words = format!("the attributions of {} + {}", name(control_one_hot), name(control_attributions));
            Some((read_attributions(control_one_hot, control_attributions, window)?, words))
        }
        None => None,
    };
    discover_motifs(&set, &source, control.as_ref().map(|(set, words)| (set, words.as_str())), settings, out, observer)
}

/// Discovers motifs in `set`, matches them with the database and writes the files listed in the
/// module docs into `out` (which must exist). `source` names the inputs in `patterns.json`.
/// `control` (attributions without real signal, e.g. of dinucleotide-shuffled sequences, and how
/// to name them) sets the seqlets' false discovery estimate; without it, seeded permutations of
/// `set`'s own attributions do.
pub fn discover_motifs(
    set: &AttributionSet,
    source: &str,
    control: Option<(&AttributionSet, &str)>,
    settings: &MotifSettings,
    out: &Path,
    observer: &mut dyn Observer,
) -> Result<DiscoveredMotifs, ExplainError> {
    let started = Instant::now();
    let letters = "ACGT";
    let projected_control = control.map(|(control, _)| (control.projected(), control.length));
    let mut found = discover_with_control(
        set,
        &settings.discovery,
        projected_control.as_ref().map(|(values, length)| Control { values, length: *length }),
    );
    if let Some((_, words)) = control {
        found.calls.control = words.to_string();
    }
    let calls = &found.calls;
    let positive = calls.seqlets.iter().filter(|s| !s.negative).count();
    let negative = calls.seqlets.len() - positive;
    let seqlet_settings = &settings.discovery.seqlets;
    let threshold_words = |t: Option<f64>| t.map_or("no threshold reached it".to_string(), |t| format!("p < {t:.1e}"));
    observer.message(&format!(
        "seqlets: {positive} positive ({}), {negative} negative ({}) in {} sequences at an estimated FDR <= {} (control: {})",
        threshold_words(calls.positive.threshold),
        threshold_words(calls.negative.as_ref().and_then(|n| n.threshold)),
        set.sequences,
        seqlet_settings.target_fdr,
        calls.control
    ));

    let comparer = Comparer::new(&settings.database, settings.compare.clone())
        .map_err(|error| ExplainError::Invalid(format!("motif database: {error}")))?;
    let ids = pattern_ids(&found.patterns);
    let motifs: Vec<Motif> = found.patterns.iter().zip(&ids).map(|(p, id)| pattern_motif(p, id, 1.0)).collect();
    let mut all_matches: Vec<Vec<MotifMatch>> = Vec::new();
    for motif in &motifs {
        let mut matches = comparer
            .compare(motif)
            .map_err(|error| ExplainError::Invalid(format!("comparing pattern {}: {error}", motif.id)))?;
        matches.truncate(settings.matches_per_pattern);
        all_matches.push(matches);
    }

    std::fs::create_dir_all(out.join(files::LOGOS))
        .map_err(|error| ExplainError::Write { path: out.join(files::LOGOS), message: error.to_string() })?;
    let background = vec![0.25; 4];
    let mut patterns = Vec::new();
    for ((pattern, id), (motif, matches)) in found.patterns.iter().zip(&ids).zip(motifs.iter().zip(&all_matches)) {
        let described = describe(set, pattern, id, motif, matches, &calls.seqlets, settings);
        let cwm: Vec<Vec<f32>> =
            described.contribution.iter().map(|row| row.iter().map(|&v| v as f32).collect()).collect();
        let title = format!("{id}: CWM, {} seqlets", pattern.sites.len());
        let svg = omix_motif::attribution_logo_svg(
            &cwm,
            letters,
            &LogoOptions { title: Some(title), ..LogoOptions::default() },
        );
        write_text(&out.join(files::LOGOS).join(format!("pattern_{id}.cwm.svg")), &svg)?;
        let title = format!("{id}: PFM, {} seqlets", pattern.sites.len());
        let svg = omix_motif::logo_svg(
            motif,
            letters,
            &background,
            &LogoOptions { title: Some(title), ..LogoOptions::default() },
        );
        write_text(&out.join(files::LOGOS).join(format!("pattern_{id}.pfm.svg")), &svg)?;
        patterns.push(described);
    }

    let mut meme = Vec::new();
    write_meme(&motifs, &background, &mut meme)
        .map_err(|error| ExplainError::Invalid(format!("cannot write {}: {error}", files::PATTERNS_MEME)))?;
    write_atomically(&out.join(files::PATTERNS_MEME), |w| w.write_all(&meme))?;
    write_pattern_tables(out, &patterns, settings.max_e_value)?;
    write_seqlets(out, &calls.seqlets, &found.patterns, &ids)?;
    write_atomically(&out.join(files::SEQLET_FDR), |w| {
        writeln!(w, "sign\tthreshold\tseqlets\tcontrol_seqlets\tfdr\tchosen")?;
        let signs = [("positive", Some(&calls.positive)), ("negative", calls.negative.as_ref())];
        for (sign, sign_calls) in signs {
            let Some(sign_calls) = sign_calls else { continue };
            for step in &sign_calls.fdr {
                let fdr = step.fdr.map_or("NA".to_string(), |f| format!("{f:.4}"));
                let chosen = sign_calls.threshold == Some(step.threshold);
                writeln!(
                    w,
                    "{sign}\t{:.3e}\t{}\t{}\t{fdr}\t{}",
                    step.threshold, step.seqlets, step.control_seqlets, chosen
                )?;
            }
        }
        Ok(())
    })?;

    for pattern in patterns.iter().take(5) {
        let best = match pattern.matches.first() {
            Some(m) if m.e_value <= settings.max_e_value => {
                format!("{} {} (E = {:.2e})", m.target_id, m.target_name.as_deref().unwrap_or(""), m.e_value)
            }
            Some(m) => {
                format!("no match with E <= {} (closest {}, E = {:.2e})", settings.max_e_value, m.target_id, m.e_value)
            }
            None => "no match".into(),
        };
        observer.message(&format!("  {} {} seqlets {}: {best}", pattern.id, pattern.seqlets, pattern.consensus));
    }
    let clustering = {
        let p = &settings.discovery.patterns;
        format!(
            "greedy seeded alignment: windows of {} positions, shifts up to {} on both strands, continuous Jaccard \
             similarity >= {} to join, templates merged at >= {}, at least {} seqlets, trimmed at {} of the largest CWM column \
             and extended through neighbouring columns of >= {} bits",
            p.window, p.max_shift, p.min_similarity, p.merge_similarity, p.min_seqlets, p.trim_threshold, p.extend_bits
        )
    };
    let summary = DiscoveredMotifs {
        alphabet: letters.into(),
        source: source.into(),
        sequences: set.sequences,
        length: set.length,
        database: settings.database_label.clone(),
        comparison: comparison_label(&settings.compare),
        max_e_value: Some(settings.max_e_value),
        seqlets: SeqletSummary {
            positive,
            negative,
            target_fdr: seqlet_settings.target_fdr,
            positive_threshold: calls.positive.threshold,
            negative_threshold: calls.negative.as_ref().and_then(|n| n.threshold),
            control: calls.control.clone(),
            min_length: seqlet_settings.min_length,
            max_length: seqlet_settings.max_length,
        },
        clustering,
        patterns,
        seconds: Some(started.elapsed().as_secs_f64()),
    };
    let json = serde_json::to_string_pretty(&summary)
        .map_err(|error| ExplainError::Invalid(format!("cannot write {}: {error}", files::PATTERNS_JSON)))?;
    write_text(&out.join(files::PATTERNS_JSON), &json)?;
    observer.message(&format!(
        "motifs: {} patterns from {} seqlets in {:.1}s, written to {}",
        summary.patterns.len(),
        calls.seqlets.len(),
        started.elapsed().as_secs_f64(),
        out.display()
    ));
    Ok(summary)
}

/// `pos_1`, `pos_2`, … `neg_1`, … in the order of `patterns`.
fn pattern_ids(patterns: &[Pattern]) -> Vec<String> {
    let (mut positive, mut negative) = (0, 0);
    patterns
        .iter()
        .map(|p| {
            if p.negative {
                negative += 1;
                format!("neg_{negative}")
            } else {
                positive += 1;
                format!("pos_{positive}")
            }
        })
        .collect()
}

/// A pattern as `patterns.json` holds it.
fn describe(
    set: &AttributionSet,
    pattern: &Pattern,
    id: &str,
    motif: &Motif,
    matches: &[MotifMatch],
    seqlets: &[Seqlet],
    settings: &MotifSettings,
) -> DiscoveredPattern {
    let examples = pattern
        .sites
        .iter()
        .take(settings.examples_per_pattern)
        .map(|site| {
            let (core_start, core_end) = pattern.site_core(site);
            let start = core_start.clamp(0, set.length as isize) as usize;
            let end = core_end.clamp(0, set.length as isize) as usize;
            let bases: String = (start..end)
                .map(|j| {
                    let letter = (0..4).find(|&c| set.one_hot[(site.example * 4 + c) * set.length + j] > 0.5);
                    letter.map_or('N', |c| b"ACGT"[c] as char)
                })
                .collect();
            let sequence = if site.reverse {
                String::from_utf8_lossy(&reverse_complement(bases.as_bytes(), Alphabet::Dna)).into_owned()
            } else {
                bases
            };
            PatternSite {
                sequence_index: site.example,
                start,
                end,
                strand: if site.reverse { "-" } else { "+" }.into(),
                sequence,
                attribution: seqlets[site.seqlet].attribution,
            }
        })
        .collect();
    DiscoveredPattern {
        id: id.into(),
        sign: if pattern.negative { "negative" } else { "positive" }.into(),
        seqlets: pattern.sites.len(),
        forward: pattern.sites.iter().filter(|s| !s.reverse).count(),
        reverse: pattern.sites.iter().filter(|s| s.reverse).count(),
        consensus: consensus(pattern.trimmed_counts(), "ACGT"),
        contribution: pattern.trimmed_contribution().to_vec(),
        hypothetical: pattern.trimmed_hypothetical().to_vec(),
        probabilities: motif.probabilities.clone(),
        matches: matches.iter().map(|m| filter_match(m, &settings.database)).collect(),
        examples,
    }
}

/// `patterns.tsv` and `pattern_matches.tsv`.
fn write_pattern_tables(out: &Path, patterns: &[DiscoveredPattern], max_e_value: f64) -> Result<(), ExplainError> {
    write_atomically(&out.join(files::PATTERNS_TSV), |w| {
        writeln!(
            w,
            "pattern\tsign\tseqlets\tforward\treverse\twidth\tconsensus\tbest_match\tbest_match_name\tstrand\toffset\tp_value\te_value\tq_value\tis_match"
        )?;
        for p in patterns {
            write!(
                w,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                p.id,
                p.sign,
                p.seqlets,
                p.forward,
                p.reverse,
                p.consensus.len(),
                p.consensus
            )?;
            match p.matches.first() {
                Some(m) => writeln!(
                    w,
                    "\t{}\t{}\t{}\t{}\t{:.3e}\t{:.3e}\t{:.3e}\t{}",
                    m.target_id,
                    m.target_name.as_deref().unwrap_or(""),
                    m.strand,
                    m.offset,
                    m.p_value,
                    m.e_value,
                    m.q_value,
                    m.e_value <= max_e_value
                )?,
                None => writeln!(w, "\t\t\t\t\t\t\t\tfalse")?,
            }
        }
        Ok(())
    })?;
    write_atomically(&out.join(files::PATTERN_MATCHES), |w| {
        writeln!(w, "pattern\trank\ttarget_id\ttarget_name\tstrand\toffset\toverlap\tp_value\te_value\tq_value")?;
        for p in patterns {
            for (rank, m) in p.matches.iter().enumerate() {
                writeln!(
                    w,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.3e}\t{:.3e}\t{:.3e}",
                    p.id,
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
    Ok(())
}

/// `seqlets.tsv`: every seqlet, with the pattern (and strand) it joined.
fn write_seqlets(out: &Path, seqlets: &[Seqlet], patterns: &[Pattern], ids: &[String]) -> Result<(), ExplainError> {
    let mut member: Vec<Option<(usize, bool)>> = vec![None; seqlets.len()];
    for (p, pattern) in patterns.iter().enumerate() {
        for site in &pattern.sites {
            member[site.seqlet] = Some((p, site.reverse));
        }
    }
    write_atomically(&out.join(files::SEQLETS), |w| {
        writeln!(w, "sequence_index\tstart\tend\tsign\tattribution\tp_value\tpattern\tstrand")?;
        for (seqlet, member) in seqlets.iter().zip(&member) {
            let (pattern, strand) = match member {
                Some((p, reverse)) => (ids[*p].as_str(), if *reverse { "-" } else { "+" }),
                None => ("", ""),
            };
            writeln!(
                w,
                "{}\t{}\t{}\t{}\t{:.6}\t{:.3e}\t{pattern}\t{strand}",
                seqlet.example,
                seqlet.start,
                seqlet.end,
                if seqlet.negative { "negative" } else { "positive" },
                seqlet.attribution,
                seqlet.p_value
            )?;
        }
        Ok(())
    })?;
    Ok(())
}

fn write_text(path: &Path, text: &str) -> Result<(), ExplainError> {
    write_atomically(path, |w| w.write_all(text.as_bytes()))?;
    Ok(())
}
