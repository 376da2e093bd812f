//! Marginal footprints (`footprints.json`): each motif inserted into background sequences and the
//! average change of the predicted profile and count it causes, for the model and, in a ChromBPNet
//! run, for the model with its bias and the bias model alone.

use std::fmt::Write as _;

use super::{binned, log_change, strand_line, zero_line};
use crate::html::{escape, fixed, note, table};
use crate::plot::{Chart, colour, figure};
use omix_run::profile::{Footprint, Footprints};
use omix_run::view::{RunView as Run, TrackStrand, TrackTask, track_tasks};

/// A bias model whose footprint peaks above this share of the bias-corrected model's is said to
/// respond to the motif.
const BIAS_RESPONSE: f64 = 0.25;

/// The footprints body.
pub(in crate::section) fn body(run: &Run) -> String {
    let Some(footprints) = run.profile.as_ref().and_then(|profile| profile.footprints.as_ref()) else {
        return super::super::missing(omix_run::files::FOOTPRINTS, "the marginal footprints of motifs");
    };
    if footprints.motifs.is_empty() {
        return note("<code>footprints.json</code> lists no motifs.");
    }
    let chrombpnet = footprints.motifs.iter().any(|motif| motif.bias.is_some() || motif.with_bias.is_some());
    let tasks = track_tasks(&footprints.tracks);
    let mut out = format!(
        "<p class=\"hint\">Each motif is inserted at the centre of {} background sequences; the plots show the \
         average change of the predicted reads per base it causes (with the motif minus without), the minus strand \
         below the axis, and the captions the average change of the predicted total count (natural log; ×: the \
         fold change).",
        footprints.sequences
    );
    if chrombpnet {
        let _ = write!(
            out,
            " The bias-corrected model (blue) should show the TF's footprint; the bias model alone (green) should not \
             respond to TF motifs (if it does, it has learned TF signal and the correction removes some of it), only \
             to the enzyme's own preference. Here a bias response is one whose largest change exceeds {}% of the \
             corrected model's.",
            fixed(BIAS_RESPONSE * 100.0, 0)
        );
    }
    out.push_str("</p>\n");
    if chrombpnet {
        out.push_str(&bias_check(footprints, &tasks));
    }
    out.push_str("<div class=\"plots\">\n");
    for (m, motif) in footprints.motifs.iter().enumerate() {
        for (t, task) in tasks.iter().enumerate() {
            out.push_str(&plot(footprints, motif, task, m, t, tasks.len() > 1));
        }
    }
    out.push_str("</div>\n");
    out
}

/// The largest absolute change over a task's tracks.
fn peak_change(rows: &[Vec<f32>], task: &TrackTask) -> f64 {
    task.tracks
        .iter()
        .filter_map(|(track, _)| rows.get(*track))
        .flatten()
        .map(|&v| f64::from(v).abs())
        .fold(0.0, f64::max)
}

/// Whether a motif's name says it is the enzyme's own sequence preference (Tn5, DNase I), which the
/// bias model should answer, rather than a TF motif, which it should not.
fn is_enzyme_motif(name: &str) -> bool {
    let name = name.to_lowercase();
    ["bias", "tn5", "dnase", "enzyme"].iter().any(|word| name.contains(word))
}

/// The bias model's response to each motif, as a share of the corrected model's: a table and a
/// verdict on the TF motifs.
fn bias_check(footprints: &Footprints, tasks: &[TrackTask]) -> String {
    let mut rows = Vec::new();
    let mut responding = Vec::new();
    let mut checked = 0;
    for motif in &footprints.motifs {
        let enzyme = is_enzyme_motif(&motif.name);
        for (t, task) in tasks.iter().enumerate() {
            let Some(bias) = &motif.bias else { continue };
            let model = peak_change(&motif.model, task);
            let ratio = (model > 0.0).then(|| peak_change(bias, task) / model);
            let responds = ratio.is_none_or(|ratio| ratio > BIAS_RESPONSE);
            let name = if tasks.len() > 1 { format!("{} ({})", motif.name, task.name) } else { motif.name.clone() };
            let reading = match (enzyme, responds) {
                (true, true) => "answers it, as it should (the enzyme's motif)",
                (true, false) => "<strong>does not answer it</strong> (the enzyme's motif)",
                (false, true) => "<strong>responds</strong> (a TF motif)",
                (false, false) => "flat (a TF motif)",
            };
            if !enzyme {
                checked += 1;
                if responds {
                    responding.push(escape(&name));
                }
            }
            rows.push(vec![
                escape(&name),
                format!("<code>{}</code>", escape(&motif.sequence)),
                log_change(motif.model_log_count_change.get(t).copied()),
                log_change(motif.with_bias_log_count_change.as_ref().and_then(|v| v.get(t).copied())),
                log_change(motif.bias_log_count_change.as_ref().and_then(|v| v.get(t).copied())),
                ratio.map_or("–".into(), |ratio| format!("{}%", fixed(ratio * 100.0, 0))),
                reading.into(),
            ]);
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    let limit = fixed(BIAS_RESPONSE * 100.0, 0);
    let mut out = if checked == 0 {
        String::new()
    } else if responding.is_empty() {
        format!(
            "<div class=\"verdict good\"><strong>Bias check.</strong> The bias model does not respond to any of the \
             {checked} TF motifs: its footprints stay below {limit}% of the bias-corrected model's.</div>\n"
        )
    } else {
        format!(
            "<div class=\"verdict bad\"><strong>Bias check.</strong> The bias model responds to {} of the {checked} \
             TF motifs ({}): it has learned some TF signal, which the bias correction then removes from the TF model. \
             A bias model trained on fewer or lower-count background regions (a smaller \
             <code>[bias] threshold_factor</code>) learns less of it.</div>\n",
            responding.len(),
            responding.join(", ")
        )
    };
    let _ = writeln!(
        out,
        "<p class=\"hint\">Motifs whose name says bias, Tn5, DNase or enzyme are taken as the enzyme's own sequence \
         preference, which the bias model should answer and the corrected model should not; every other motif as a \
         TF motif.</p>"
    );
    let header: Vec<String> = [
        "motif",
        "inserted",
        "Δ log count, corrected",
        "with bias",
        "bias alone",
        "bias peak / corrected peak",
        "bias model",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    out.push_str(&table("compact", &header, &rows, &[false, false, true, true, true, true, false]));
    out
}

/// One motif's footprint for one task.
fn plot(footprints: &Footprints, motif: &Footprint, task: &TrackTask, number: usize, t: usize, named: bool) -> String {
    let first = footprints.first_offset as f64;
    let length = motif.model.first().map_or(0, Vec::len);
    let stranded = task.tracks.iter().any(|(_, strand)| *strand != TrackStrand::Unstranded);
    let title = if named { format!("{} ({})", motif.name, task.name) } else { motif.name.clone() };
    let mut chart = Chart::new(
        &format!("footprint-{}-{}", number + 1, t + 1),
        &title,
        "position relative to the motif centre (bp)",
        if stranded { "Δ reads per base (minus below 0)" } else { "Δ reads per base" },
    );
    chart.width = 480.0;
    chart.height = 300.0;
    chart.x_range = Some((first, first + length.saturating_sub(1) as f64));
    let chrombpnet = motif.bias.is_some() || motif.with_bias.is_some();
    let mut profiles: Vec<(&str, &Vec<Vec<f32>>, &str)> =
        vec![(if chrombpnet { "bias-corrected model" } else { "model" }, &motif.model, colour(0))];
    if let Some(with_bias) = &motif.with_bias {
        profiles.push(("with bias", with_bias, colour(1)));
    }
    if let Some(bias) = &motif.bias {
        profiles.push(("bias model alone", bias, colour(2)));
    }
    for (name, rows, line_colour) in profiles {
        for (position, (track, strand)) in task.tracks.iter().enumerate() {
            let Some(values) = rows.get(*track) else { continue };
            chart.series.push(strand_line(name, binned(values, 1, first, *strand), line_colour, 1.8, position == 0));
        }
    }
    chart.series.push(zero_line(first, first + length.saturating_sub(1) as f64));
    let mut changes = vec![format!(
        "{} {}",
        if chrombpnet { "corrected" } else { "model" },
        log_change(motif.model_log_count_change.get(t).copied())
    )];
    if let Some(values) = &motif.with_bias_log_count_change {
        changes.push(format!("with bias {}", log_change(values.get(t).copied())));
    }
    if let Some(values) = &motif.bias_log_count_change {
        changes.push(format!("bias alone {}", log_change(values.get(t).copied())));
    }
    let caption =
        format!("inserted <code>{}</code> · Δ log count: {}", escape(&motif.sequence), escape(&changes.join(", ")));
    figure(&chart.svg(), &caption)
}
