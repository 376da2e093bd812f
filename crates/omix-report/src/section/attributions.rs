//! Attribution logos (gradient × input) of the highest-scoring test sequences.

use std::fmt::Write as _;

use omix_motif::{LogoOptions, attribution_logo_svg};

use crate::ReportError;
use crate::html::{escape, fixed, inline_svg, note, table};
use omix_run::view::RunView as Run;

use super::motifs::{not_sequence, run_explain};

/// At most this many tracks are drawn.
const MAX_TRACKS: usize = 10;
/// The width a track may take before it scrolls, in px.
const TRACK_WIDTH: f64 = 1080.0;

/// A method name in words (as `explain.json` and `profile_explain.json` name them).
pub(super) fn method_name(method: &str) -> String {
    match method {
        "gradient_x_input" => "gradient × input".into(),
        "integrated_gradients" => "integrated gradients".into(),
        "deeplift_shap" => "DeepLIFT/SHAP".into(),
        "ism" => "in-silico mutagenesis".into(),
        other => other.replace('_', " "),
    }
}

/// The attributions body.
pub(super) fn body(run: &Run) -> Result<String, ReportError> {
    if let Some(line) = not_sequence(run, "Attributions") {
        return Ok(line);
    }
    let Some(explain) = &run.explain else {
        return Ok(run_explain(
            "gradient × input attribution logos of the highest-scoring test sequences (which bases drive the \
             prediction)",
        ));
    };
    let mut out = String::new();
    let methods: Vec<String> = explain.methods.iter().map(|m| escape(&method_name(m))).collect();
    out.push_str("<dl class=\"facts\">\n");
    let _ = writeln!(out, "<dt>explained output</dt><dd><code>{}</code></dd>", escape(&explain.output));
    let _ = writeln!(
        out,
        "<dt>methods run</dt><dd>{}</dd>",
        if methods.is_empty() { "–".into() } else { methods.join(", ") }
    );
    out.push_str("</dl>\n");
    let preferred: Vec<_> = explain.tracks.iter().filter(|track| track.method == "gradient_x_input").collect();
    let tracks = if preferred.is_empty() { explain.tracks.iter().collect() } else { preferred };
    if tracks.is_empty() {
        out.push_str(&note("<code>explain.json</code> has no attribution tracks."));
    } else {
        out.push_str(
            "<p class=\"hint\">Each logo is one test sequence. Letter height is the attribution score of that base \
             for the explained output: above the line, the base raises the model's score; below, it lowers it. \
             Clusters of tall letters usually mark the binding sites the model relies on.</p>\n",
        );
        for track in tracks.iter().take(MAX_TRACKS) {
            let length = track.scores.len().max(1) as f64;
            let column_width = ((TRACK_WIDTH - 52.0) / length).clamp(4.0, 18.0);
            let options = LogoOptions { column_width, height: 110.0, title: None, axes: true };
            let svg = attribution_logo_svg(&track.scores, &explain.alphabet, &options);
            let _ = writeln!(
                out,
                "<figure class=\"logo track\"><figcaption><strong>{}</strong> · label <code>{}</code> · {} {} · {} · {} nt</figcaption>\
                 <div class=\"scroll\">{}</div><details><summary class=\"hint\">sequence</summary><code>{}</code></details></figure>",
                escape(&track.sequence_id),
                escape(&track.label),
                escape(explain.score_name.as_deref().unwrap_or("model score")),
                fixed(track.score, 4),
                escape(&method_name(&track.method)),
                track.scores.len(),
                inline_svg(&svg),
                escape(&track.sequence)
            );
        }
        if tracks.len() > MAX_TRACKS {
            out.push_str(&note(&format!("The first {MAX_TRACKS} of {} tracks are shown.", tracks.len())));
        }
    }
    if !explain.agreement.is_empty() {
        out.push_str("<h3>Agreement between methods</h3>\n<p class=\"hint\">Spearman correlation of per-position importance between two methods, over the explained sequences (1 = same ranking of positions).</p>\n");
        let rows: Vec<Vec<String>> = explain
            .agreement
            .iter()
            .map(|a| {
                vec![
                    escape(&method_name(&a.first)),
                    escape(&method_name(&a.second)),
                    fixed(a.spearman_mean, 3),
                    fixed(a.spearman_median, 3),
                    format!("{}", a.sequences),
                ]
            })
            .collect();
        out.push_str(&table(
            "compact",
            &[
                "method".into(),
                "compared with".into(),
                "mean Spearman".into(),
                "median Spearman".into(),
                "sequences".into(),
            ],
            &rows,
            &[false, false, true, true, true],
        ));
    }
    Ok(out)
}
