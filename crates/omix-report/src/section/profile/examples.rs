//! Observed and predicted profiles of a few example regions (`profile_examples.json`): one plot
//! per region and task, strands as separate lines, the minus strand below the axis.

use std::fmt::Write as _;

use super::{binned, reads, strand_line, zero_line};
use crate::html::{escape, metric, note};
use crate::plot::{Chart, PALETTE, colour, figure};
use omix_run::profile::{ProfileExample, ProfileExamples};
use omix_run::view::{RunView as Run, TrackStrand, TrackTask, track_tasks};

/// At most this many points per line: longer profiles are averaged over bins.
const MAX_POINTS: usize = 250;

/// The examples body.
pub(in crate::section) fn body(run: &Run) -> String {
    let Some(examples) = run.profile.as_ref().and_then(|profile| profile.examples.as_ref()) else {
        return super::super::missing(
            omix_run::files::PROFILE_EXAMPLES,
            "the observed and predicted profiles of example regions",
        );
    };
    if examples.examples.is_empty() {
        return note("<code>profile_examples.json</code> lists no regions.");
    }
    let chrombpnet = examples.examples.iter().any(|example| example.corrected.is_some());
    let tasks = track_tasks(&examples.tracks);
    let bin = examples.output_length.div_ceil(MAX_POINTS).max(1);
    let mut out = String::from("<dl class=\"facts\">\n");
    let _ = writeln!(
        out,
        "<dt>regions</dt><dd>{} from the {} split</dd>",
        examples.examples.len(),
        escape(&examples.split)
    );
    if !examples.chosen.is_empty() {
        let _ = writeln!(out, "<dt>chosen</dt><dd>{}</dd>", escape(&examples.chosen));
    }
    let _ = writeln!(out, "<dt>window</dt><dd>{} bp (the model's output window)</dd>", examples.output_length);
    let _ = writeln!(
        out,
        "<dt>tracks</dt><dd>{}</dd>",
        examples.tracks.iter().map(|t| format!("<code>{}</code>", escape(t))).collect::<Vec<_>>().join(", ")
    );
    out.push_str("</dl>\n");
    let mut hint = String::from(
        "Grey: the observed reads per base. Blue: the model's expected reads per base (its profile times its \
         predicted total count)",
    );
    if chrombpnet {
        hint.push_str(
            ", with the bias model (what the data look like); green: the bias-corrected prediction, the TF model \
             alone, which should keep the TF's footprint and lose the enzyme's sequence preference",
        );
    }
    hint.push_str(
        ". Stranded tasks draw the minus strand below the axis. The JSD in each caption compares the observed \
         and predicted profile shapes of that region (0 = identical).",
    );
    if bin > 1 {
        let _ = write!(hint, " Values are averaged over bins of {bin} bases.");
    }
    let _ = writeln!(out, "<p class=\"hint\">{}</p>", escape(&hint));
    for (t, task) in tasks.iter().enumerate() {
        if tasks.len() > 1 {
            let _ = writeln!(out, "<h3>Task <code>{}</code></h3>", escape(&task.name));
        }
        out.push_str("<div class=\"plots\">\n");
        for (k, example) in examples.examples.iter().enumerate() {
            out.push_str(&plot(examples, example, task, t, k, bin, chrombpnet));
        }
        out.push_str("</div>\n");
    }
    out
}

/// The plot of one region and task, with its caption.
fn plot(
    examples: &ProfileExamples,
    example: &ProfileExample,
    task: &TrackTask,
    task_index: usize,
    number: usize,
    bin: usize,
    chrombpnet: bool,
) -> String {
    let length = examples.output_length;
    let first = -((length / 2) as f64);
    let region = format!("{}:{}-{}", example.chrom, example.start + 1, example.start + length as u64);
    let kind = if example.peak { "peak" } else { "background" };
    let stranded = task.tracks.iter().any(|(_, strand)| *strand != TrackStrand::Unstranded);
    let mut chart = Chart::new(
        &format!("profile-{}-{}", number + 1, task_index + 1),
        &format!("{region} ({kind})"),
        "position relative to the window centre (bp)",
        if stranded { "reads per base (minus below 0)" } else { "reads per base" },
    );
    chart.width = 480.0;
    chart.height = 300.0;
    chart.x_range = Some((first, first + length.saturating_sub(1) as f64));
    let predicted_name = if chrombpnet { "predicted (TF + bias)" } else { "predicted" };
    let mut profiles: Vec<(&str, &Vec<Vec<f32>>, &str, f64)> = vec![
        ("observed reads", &example.observed, PALETTE[7], 1.2),
        (predicted_name, &example.predicted, colour(0), 1.8),
    ];
    if let Some(corrected) = &example.corrected {
        profiles.push(("bias-corrected (TF alone)", corrected, colour(2), 1.8));
    }
    let mut totals = Vec::new();
    for (name, rows, line_colour, width) in profiles {
        let mut total = 0.0;
        for (position, (track, strand)) in task.tracks.iter().enumerate() {
            let Some(values) = rows.get(*track) else { continue };
            total += values.iter().map(|&v| f64::from(v)).sum::<f64>();
            chart.series.push(strand_line(
                name,
                binned(values, bin, first, *strand),
                line_colour,
                width,
                position == 0,
            ));
        }
        totals.push((name, total));
    }
    if stranded {
        chart.series.push(zero_line(first, first + length as f64 - 1.0));
    }
    let mut caption = format!("{} · {kind}", escape(&region));
    if let Some(jsd) = example.jsd.get(task_index) {
        let _ = write!(caption, " · JSD {}", metric(Some(*jsd)));
    }
    let totals: Vec<String> =
        totals.iter().map(|(name, total)| format!("{} {}", escape(name), reads(*total))).collect();
    let _ = write!(caption, " · reads in the window: {}", totals.join(", "));
    figure(&chart.svg(), &caption)
}
