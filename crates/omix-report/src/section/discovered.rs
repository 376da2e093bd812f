//! "Discovered motifs": patterns found in the attributions (`explain/patterns.json`, written by
//! `omix motifs` or `omix explain --discover-motifs`): CWM and PFM logos, best database matches
//! with E-values, seqlet counts and example sites.

use std::fmt::Write as _;

use omix_motif::{LogoOptions, Motif, aligned_logos_svg, attribution_logo_svg, logo_svg};
use omix_run::files;
use omix_run::motifs::{DiscoveredMotifs, DiscoveredPattern};
use omix_run::view::RunView as Run;

use super::motifs::{to_match, uniform};
use crate::ReportError;
use crate::html::{escape, inline_svg, note, probability, table};

/// At most this many patterns are drawn as logos (all are in the table).
const MAX_LOGOS: usize = 8;

/// The discovered-motifs body.
pub(super) fn body(run: &Run) -> Result<String, ReportError> {
    let Some(found) = &run.motifs else {
        return Ok(note(
            "No <code>explain/patterns.json</code> yet: run <code>omix explain RUN_DIR --method deeplift-shap \
             --discover-motifs</code> (or <code>omix motifs RUN_DIR</code> after a DeepLIFT/SHAP explain) to find \
             motifs in the attributions, then make this report again.",
        ));
    };
    let path = run.file(&format!("{}/{}", files::EXPLAIN_DIR, files::PATTERNS_JSON));
    let mut out = String::new();
    facts(&mut out, found);
    if found.patterns.is_empty() {
        out.push_str(&note(
            "No pattern: too few seqlets passed the false discovery control, or none clustered with enough others.",
        ));
        return Ok(out);
    }
    let threshold = found.match_threshold();
    out.push_str(&format!(
        "<p class=\"hint\">Seqlets (spans of high attribution) aligned and clustered on both strands. Left: the \
         contribution weight matrix (CWM, mean attribution of the observed bases; letters below the line lower the \
         output). Right: the frequency matrix (PFM) of the same sites in bits, above its best database match when \
         E ≤ {threshold}.</p>\n"
    ));
    out.push_str("<div class=\"motif-grid\">\n");
    for pattern in found.patterns.iter().take(MAX_LOGOS) {
        figure(&mut out, found, pattern, &path)?;
    }
    out.push_str("</div>\n");
    if found.patterns.len() > MAX_LOGOS {
        out.push_str(&note(&format!(
            "Logos for the first {MAX_LOGOS} of {} patterns; all are in the table below.",
            found.patterns.len()
        )));
    }
    out.push_str("<h3>All patterns</h3>\n");
    out.push_str(&pattern_table(found));
    Ok(out)
}

/// The settings and counts behind the patterns.
fn facts(out: &mut String, found: &DiscoveredMotifs) {
    let seqlets = &found.seqlets;
    let threshold = |t: Option<f64>| t.map_or("none reached the target".to_string(), |t| format!("p &lt; {t:.1e}"));
    out.push_str("<dl class=\"facts\">\n");
    let _ = writeln!(
        out,
        "<dt>attributions</dt><dd>{} ({} sequences × {} positions)</dd>",
        escape(&found.source),
        found.sequences,
        found.length
    );
    let _ = writeln!(
        out,
        "<dt>seqlets</dt><dd>{} positive ({}), {} negative ({}), {}–{} positions, estimated FDR ≤ {} against {}</dd>",
        seqlets.positive,
        threshold(seqlets.positive_threshold),
        seqlets.negative,
        threshold(seqlets.negative_threshold),
        seqlets.min_length,
        seqlets.max_length,
        seqlets.target_fdr,
        escape(&seqlets.control)
    );
    let _ = writeln!(out, "<dt>clustering</dt><dd>{}</dd>", escape(&found.clustering));
    let _ =
        writeln!(out, "<dt>motif database</dt><dd>{} ({})</dd>", escape(&found.database), escape(&found.comparison));
    out.push_str("</dl>\n");
}

/// One pattern's logos and caption.
fn figure(
    out: &mut String,
    found: &DiscoveredMotifs,
    pattern: &DiscoveredPattern,
    path: &std::path::Path,
) -> Result<(), ReportError> {
    let options = LogoOptions { column_width: 22.0, height: 90.0, title: None, axes: true };
    let cwm: Vec<Vec<f32>> = pattern.contribution.iter().map(|row| row.iter().map(|&v| v as f32).collect()).collect();
    let cwm_svg = attribution_logo_svg(
        &cwm,
        &found.alphabet,
        &LogoOptions { title: Some(format!("{} CWM", pattern.id)), ..options.clone() },
    );
    let query = Motif::new(pattern.id.clone(), pattern.probabilities.clone());
    let background = uniform(found.alphabet.chars().count());
    let threshold = found.match_threshold();
    let query_label = format!("{} PFM", pattern.id);
    let (pfm_svg, match_text) = match pattern.matches.first() {
        Some(best) if best.e_value <= threshold => {
            let (target, matched) = to_match(path, best)?;
            let target_label = match &best.target_name {
                Some(name) => format!("{name} ({})", best.target_id),
                None => best.target_id.clone(),
            };
            let svg = aligned_logos_svg(
                &query,
                &target,
                &matched,
                &found.alphabet,
                &background,
                &query_label,
                &target_label,
                &options,
            );
            (svg, format!("best match <strong>{}</strong>, E = {}", escape(&target_label), probability(best.e_value)))
        }
        closest => (
            logo_svg(
                &query,
                &found.alphabet,
                &background,
                &LogoOptions { title: Some(query_label), ..options.clone() },
            ),
            match closest {
                Some(m) => format!(
                    "no database match with E ≤ {threshold} (closest {}, E = {})",
                    escape(m.target_name.as_deref().unwrap_or(&m.target_id)),
                    probability(m.e_value)
                ),
                None => "no database match".into(),
            },
        ),
    };
    let sites: Vec<String> = pattern
        .examples
        .iter()
        .take(3)
        .map(|s| {
            format!(
                "<code>{}</code> (sequence {}, {}–{}, {})",
                escape(&s.sequence),
                s.sequence_index,
                s.start,
                s.end,
                escape(&s.strand)
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "<figure class=\"logo\"><div class=\"scroll\">{}{}</div><figcaption><strong>{}</strong> ({}) — {} seqlets \
         ({} forward, {} reverse strand), {match_text}. Sites: {}</figcaption></figure>",
        inline_svg(&cwm_svg),
        inline_svg(&pfm_svg),
        escape(&pattern.id),
        escape(&pattern.sign),
        pattern.seqlets,
        pattern.forward,
        pattern.reverse,
        sites.join("; ")
    );
    Ok(())
}

/// One row per pattern.
fn pattern_table(found: &DiscoveredMotifs) -> String {
    let header: Vec<String> =
        ["pattern", "sign", "seqlets", "consensus", "best match", "p-value", "E-value", "q-value"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let threshold = found.match_threshold();
    let rows: Vec<Vec<String>> = found
        .patterns
        .iter()
        .map(|p| {
            let mut row = vec![
                escape(&p.id),
                escape(&p.sign),
                format!("{}", p.seqlets),
                format!("<code>{}</code>", escape(&p.consensus)),
            ];
            match p.matches.first() {
                Some(m) => {
                    let name = escape(m.target_name.as_deref().unwrap_or(&m.target_id));
                    row.push(if m.e_value <= threshold {
                        format!("{name} <span class=\"hint\">{}</span>", escape(&m.target_id))
                    } else {
                        format!("<span class=\"hint\">none with E ≤ {threshold}; closest</span> {name}")
                    });
                    row.push(probability(m.p_value));
                    row.push(probability(m.e_value));
                    row.push(probability(m.q_value));
                }
                None => row.extend(["–".to_string(), "–".into(), "–".into(), "–".into()]),
            }
            row
        })
        .collect();
    let mut out = table("compact", &header, &rows, &[false, false, true, false, false, true, true, true]);
    out.push_str(&format!(
        "<p class=\"hint\">Every seqlet with its pattern is in <code>explain/{}</code>, every match in \
         <code>explain/{}</code>, the PFMs in <code>explain/{}</code>.</p>\n",
        files::SEQLETS,
        files::PATTERN_MATCHES,
        files::PATTERNS_MEME
    ));
    out
}
