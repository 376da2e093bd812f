//! The report's sections, in page order.

mod attributions;
mod confusion;
mod curves;
mod data;
mod discovered;
pub(crate) mod ensemble;
mod motifs;
mod per_class;
mod profile;
mod summary;
mod training;

use crate::ReportError;
use crate::html::{Section, escape};
use omix_run::view::RunView as Run;

/// Every section, in the order they appear.
pub(crate) fn all(run: &Run) -> Result<Vec<Section>, ReportError> {
    Ok(vec![
        Section { id: "summary", title: "Summary", body: summary::body(run) },
        Section { id: "config", title: "Configuration", body: config(run) },
        Section { id: "data", title: "Data", body: data::body(run) },
        Section { id: "training", title: "Training", body: training::body(run)? },
        Section { id: "roc", title: "ROC and precision–recall", body: curves::body(run)? },
        Section { id: "confusion", title: "Confusion matrix", body: confusion::body(run)? },
        Section { id: "per-class", title: "Per-class metrics", body: per_class::body(run)? },
        Section { id: "motifs", title: "Learned motifs", body: motifs::body(run)? },
        Section { id: "attributions", title: "Attributions", body: attributions::body(run)? },
        Section { id: "discovered-motifs", title: "Discovered motifs", body: discovered::body(run)? },
    ])
}

/// Every section of a profile run's report (BPNet, ChromBPNet), in the order they appear.
pub(crate) fn profile_sections(run: &Run) -> Result<Vec<Section>, ReportError> {
    Ok(vec![
        Section { id: "summary", title: "Summary", body: profile::summary::body(run) },
        Section { id: "config", title: "Configuration", body: config(run) },
        Section { id: "data", title: "Data", body: profile::data::body(run) },
        Section { id: "training", title: "Training", body: training::body(run)? },
        Section { id: "profile-metrics", title: "Metrics on peaks and background", body: profile::metrics::body(run) },
        Section { id: "profiles", title: "Observed vs predicted profiles", body: profile::examples::body(run) },
        Section { id: "footprints", title: "Marginal footprints", body: profile::footprints::body(run) },
        Section { id: "bias", title: "Bias model", body: profile::bias::body(run)? },
        Section { id: "profile-attributions", title: "Attributions", body: profile::attributions::body(run) },
        Section { id: "discovered-motifs", title: "Discovered motifs", body: discovered::body(run)? },
    ])
}

/// The resolved `config.toml`, verbatim.
fn config(run: &Run) -> String {
    match &run.config_text {
        Some(text) => format!(
            "<p class=\"hint\">The resolved configuration as written into the run folder before training \
             (<code>config.toml</code>); the folder alone is enough to predict, evaluate or explain later.</p>\n\
             <pre class=\"config\">{}</pre>\n",
            escape(text.trim_end())
        ),
        None => missing("config.toml", "the resolved configuration"),
    }
}

/// The line a section shows when the file it draws on is absent.
pub(crate) fn missing(file: &str, what: &str) -> String {
    crate::html::note(&format!("No <code>{}</code> in this run folder, so {} cannot be shown.", escape(file), what))
}

/// The line a section shows when it does not apply to this run.
pub(crate) fn not_applicable(why_html: &str) -> String {
    crate::html::note(&format!("Not applicable: {why_html}"))
}
