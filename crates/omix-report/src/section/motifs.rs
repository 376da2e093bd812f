//! Learned first-layer filters as sequence logos beside their best database match.

use std::fmt::Write as _;

use omix_motif::Motif;
use omix_motif::{LogoOptions, MotifMatch, Strand, aligned_logos_svg, logo_svg};

use crate::ReportError;
use crate::html::{count, escape, fixed, inline_svg, metric, note, probability, table};
use omix_run::explain::{ExplainSummary, FilterMatch, FilterMotif};
use omix_run::view::RunView as Run;

/// At most this many filters are drawn as logos (all are in the table).
const MAX_LOGOS: usize = 8;

/// The sentence shown when the input is not a sequence, or `None` for sequence runs.
pub(super) fn not_sequence(run: &Run, what: &str) -> Option<String> {
    let kind = run.input_kind()?;
    (kind != "sequence").then(|| {
        super::not_applicable(&format!(
            "{what} are read from sequences (DNA/RNA); this run's input is a {}.",
            escape(&kind)
        ))
    })
}

/// The hint shown when `explain/explain.json` is absent.
pub(super) fn run_explain(what: &str) -> String {
    note(&format!(
        "No <code>explain/explain.json</code> yet: run <code>omix explain RUN_DIR</code> (RUN_DIR = this run \
         folder) to add {what}, then make this report again."
    ))
}

/// Uniform background letter frequencies.
pub(super) fn uniform(letters: usize) -> Vec<f64> {
    vec![1.0 / letters.max(1) as f64; letters]
}

/// The motifs body.
pub(super) fn body(run: &Run) -> Result<String, ReportError> {
    if let Some(line) = not_sequence(run, "Motifs") {
        return Ok(line);
    }
    let Some(explain) = &run.explain else {
        return Ok(run_explain(
            "the learned first-layer filters as sequence logos, each beside its most similar known motif \
             (JASPAR 2024), with p- and E-values",
        ));
    };
    let path = run.file("explain/explain.json");
    let mut out = String::new();
    out.push_str("<dl class=\"facts\">\n");
    let _ = writeln!(out, "<dt>motif database</dt><dd>{}</dd>", escape(explain.database.as_deref().unwrap_or("none")));
    let _ = writeln!(out, "<dt>filters</dt><dd>{}</dd>", explain.filters.len());
    out.push_str("</dl>\n");
    if explain.filters.is_empty() {
        out.push_str(&note("<code>explain.json</code> lists no first-layer filters."));
        return Ok(out);
    }
    out.push_str(
        "<p class=\"hint\">Each first-layer filter of the network is turned into a motif from the sequence windows \
         that activate it most. Letter height is information content in bits (2 bits = one base certain). The \
         top logo is the learned filter; below it, the most similar database motif, aligned (shaded columns \
         overlap). A small E-value (expected number of equally good matches by chance) means the filter \
         resembles a known transcription-factor motif.</p>\n",
    );
    let letters = explain.alphabet.chars().count();
    let background = uniform(letters);
    out.push_str("<div class=\"motif-grid\">\n");
    for filter in explain.filters.iter().take(MAX_LOGOS) {
        if filter.probabilities.is_empty() {
            continue;
        }
        let query = Motif::new(format!("filter {}", filter.index), filter.probabilities.clone());
        let query_label =
            format!("filter {} ({} sites, {} bits)", filter.index, filter.sites, fixed(filter.information_content, 1));
        let options = LogoOptions { column_width: 26.0, height: 96.0, title: None, axes: true };
        let threshold = explain.match_threshold();
        let (svg, caption) = match filter.matches.first().filter(|best| best.e_value <= threshold) {
            Some(best) => {
                let (target, matched) = to_match(&path, best)?;
                let target_label = match &best.target_name {
                    Some(name) => format!("{name} ({})", best.target_id),
                    None => best.target_id.clone(),
                };
                let svg = aligned_logos_svg(
                    &query,
                    &target,
                    &matched,
                    &explain.alphabet,
                    &background,
                    &query_label,
                    &target_label,
                    &options,
                );
                let caption = format!(
                    "<strong>Filter {}</strong> — best match <strong>{}</strong>, strand {}, offset {}, \
                     p = {}, E = {}",
                    filter.index,
                    escape(&target_label),
                    escape(&best.strand),
                    best.offset,
                    probability(best.p_value),
                    probability(best.e_value)
                );
                (svg, caption)
            }
            None => (
                logo_svg(&query, &explain.alphabet, &background, &LogoOptions { title: Some(query_label), ..options }),
                match filter.matches.first() {
                    Some(closest) => format!(
                        "<strong>Filter {}</strong> — no database match with E ≤ {} (closest: {}, E = {})",
                        filter.index,
                        threshold,
                        escape(closest.target_name.as_deref().unwrap_or(&closest.target_id)),
                        probability(closest.e_value)
                    ),
                    None => format!("<strong>Filter {}</strong> — not compared (too few sites)", filter.index),
                },
            ),
        };
        let _ = writeln!(
            out,
            "<figure class=\"logo\"><div class=\"scroll\">{}</div><figcaption>{caption}</figcaption></figure>",
            inline_svg(&svg)
        );
    }
    out.push_str("</div>\n");
    if explain.filters.len() > MAX_LOGOS {
        out.push_str(&note(&format!(
            "Logos for the first {MAX_LOGOS} of {} filters; all are in the table below.",
            explain.filters.len()
        )));
    }
    out.push_str("<h3>All filters</h3>\n");
    out.push_str(&filter_table(explain));
    Ok(out)
}

/// One row per filter with its best match.
fn filter_table(explain: &ExplainSummary) -> String {
    let header: Vec<String> = [
        "filter",
        "sites",
        "IC (bits)",
        "max act.",
        "best match",
        "strand",
        "offset",
        "overlap",
        "p-value",
        "E-value",
        "q-value",
        "next matches",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let threshold = explain.match_threshold();
    let rows: Vec<Vec<String>> = explain
        .filters
        .iter()
        .map(|filter: &FilterMotif| {
            let mut row = vec![
                format!("{}", filter.index),
                count(Some(filter.sites as f64)),
                fixed(filter.information_content, 2),
                metric(Some(filter.max_activation)),
            ];
            match filter.matches.first() {
                Some(best) => {
                    let label = match &best.target_name {
                        Some(name) => {
                            format!("{} <span class=\"hint\">{}</span>", escape(name), escape(&best.target_id))
                        }
                        None => escape(&best.target_id),
                    };
                    row.push(if best.e_value <= threshold {
                        label
                    } else {
                        format!("<span class=\"hint\">none with E ≤ {threshold}; closest</span> {label}")
                    });
                    row.push(escape(&best.strand));
                    row.push(format!("{}", best.offset));
                    row.push(format!("{}", best.overlap));
                    row.push(probability(best.p_value));
                    row.push(probability(best.e_value));
                    row.push(probability(best.q_value));
                    let next: Vec<String> = filter
                        .matches
                        .iter()
                        .skip(1)
                        .take(3)
                        .map(|m| escape(m.target_name.as_deref().unwrap_or(&m.target_id)))
                        .collect();
                    row.push(next.join(", "));
                }
                None => {
                    row.push("<span class=\"hint\">no match</span>".into());
                    row.extend(std::iter::repeat_n("–".to_string(), 7));
                }
            }
            row
        })
        .collect();
    let numeric = [true, true, true, true, false, false, true, true, true, true, true, false];
    let comparison = explain.comparison.as_deref().map(|c| format!(" Compared by {}.", escape(c))).unwrap_or_default();
    let mut out = format!(
        "<p class=\"hint\">Best first. IC: information content of the filter's motif; max act.: its largest \
         activation; offset: the filter column facing the match's first column; p, E, q: significance of the best \
         match (q = false discovery rate). A match is named only with E ≤ {threshold}; the closest motif is shown \
         otherwise, and every match is in <code>explain/matches.tsv</code>.{comparison}</p>\n",
    );
    out.push_str(&table("compact", &header, &rows, &numeric));
    out
}

/// The database motif and the `omix_motif` match of a stored match.
pub(super) fn to_match(path: &std::path::Path, stored: &FilterMatch) -> Result<(Motif, MotifMatch), ReportError> {
    let strand = match stored.strand.as_str() {
        "+" => Strand::Forward,
        "-" => Strand::Reverse,
        other => {
            return Err(ReportError::malformed(
                path,
                None,
                format!("match {}: strand `{other}` is neither `+` nor `-`", stored.target_id),
            ));
        }
    };
    let offset = isize::try_from(stored.offset).map_err(|_| {
        ReportError::malformed(
            path,
            None,
            format!("match {}: offset {} is out of range", stored.target_id, stored.offset),
        )
    })?;
    let mut target = Motif::new(stored.target_id.clone(), stored.target_probabilities.clone());
    target.name = stored.target_name.clone();
    let matched = MotifMatch {
        target_index: 0,
        target_id: stored.target_id.clone(),
        target_name: stored.target_name.clone(),
        strand,
        offset,
        overlap: stored.overlap,
        score: f64::NAN,
        p_value: stored.p_value,
        e_value: stored.e_value,
        q_value: stored.q_value,
    };
    Ok((target, matched))
}
