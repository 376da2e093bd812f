//! What `omix explain` computed on a profile run (`explain/profile_explain.json`): per head, the
//! methods and their time, DeepLIFT/SHAP's summation-to-delta check, the files TF-MoDISco reads,
//! and the attribution logos of the windows with the highest predicted counts.

use std::fmt::Write as _;

use crate::html::{escape, fixed, inline_svg, note, table};
use crate::section::attributions::method_name;
use omix_run::view::RunView as Run;

/// At most this many logos per head.
const MAX_LOGOS: usize = 6;

/// The attributions body.
pub(in crate::section) fn body(run: &Run) -> String {
    let Some(profile) = &run.profile else { return String::new() };
    let Some(explain) = &profile.explain else {
        return note(
            "Not computed yet: <code>omix explain RUN</code> attributes the count head and the profile head \
             (gradient × input and DeepLIFT/SHAP by default) on the held-out peaks and adds them here.",
        );
    };
    let mut out = String::from("<dl class=\"facts\">\n");
    let fact = |out: &mut String, label: &str, value: &str| {
        let _ = writeln!(out, "<dt>{label}</dt><dd>{}</dd>", escape(value));
    };
    fact(&mut out, "model", &explain.model);
    fact(&mut out, "task", &explain.task);
    fact(
        &mut out,
        "windows",
        &format!("{} of {} bases: {}", explain.regions, explain.input_length, explain.regions_from),
    );
    if let Some(references) = &explain.references {
        fact(&mut out, "DeepLIFT/SHAP references", &format!("{references} per window (seed {})", explain.seed));
    }
    fact(&mut out, "profile head", &explain.profile_head);
    out.push_str("</dl>\n");

    let mut rows = Vec::new();
    for head in &explain.heads {
        for timing in &head.timings {
            let convergence = match (timing.method.as_str(), head.convergence) {
                ("deeplift_shap", Some(worst)) => format!("{worst:.1e} ({} windows above 1e-3)", head.above_tolerance),
                _ => "–".into(),
            };
            rows.push(vec![
                escape(&head.head),
                escape(&method_name(&timing.method)),
                fixed(timing.seconds, 1),
                fixed(timing.seconds_per_100_windows, 2),
                convergence,
            ]);
        }
    }
    if !rows.is_empty() {
        let header: Vec<String> =
            ["head", "method", "seconds", "seconds per 100 windows", "summation to delta (worst)"]
                .iter()
                .map(|h| h.to_string())
                .collect();
        out.push_str(&table("metrics", &header, &rows, &[false, false, true, true, false]));
        out.push_str(
            "<p class=\"hint\">Summation to delta: for every window and reference, the DeepLIFT attributions must add \
             up to the change of the head between them; the worst miss over all pairs is shown (float rounding only \
             when small).</p>\n",
        );
    }
    let shap_files: Vec<String> = explain
        .heads
        .iter()
        .filter_map(|h| h.shap_file.as_ref().map(|f| format!("<code>{}</code> ({} head)", escape(f), escape(&h.head))))
        .collect();
    if !shap_files.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"hint\">Hypothetical contributions for TF-MoDISco (<code>modisco motifs -s ohe.npz -a …</code>) or \
             <code>omix motifs</code>, beside <code>ohe.npz</code> in <code>explain/</code>: {}.</p>",
            shap_files.join(", ")
        );
    }
    for head in &explain.heads {
        let logos: Vec<&(String, String)> =
            profile.explain_logos.iter().filter(|(name, _)| head.logos.contains(name)).take(MAX_LOGOS).collect();
        if logos.is_empty() {
            continue;
        }
        let _ = writeln!(out, "<h3>{} head: the windows with the highest predicted counts</h3>", escape(&head.head));
        for (name, svg) in logos {
            let _ = writeln!(
                out,
                "<figure class=\"logo track\"><figcaption><code>{}</code></figcaption><div class=\"scroll\">{}</div></figure>",
                escape(name),
                inline_svg(svg)
            );
        }
    }
    out
}
