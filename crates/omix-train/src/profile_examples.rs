//! The example regions a profile run's report plots (`profile_examples.json`): a few regions of a
//! held-out split, each with its observed reads, the model's expected counts and, for ChromBPNet,
//! the bias-corrected prediction.

use std::collections::HashMap;

use omix_data::profile::ProfileData;
use omix_run::profile::{ProfileExample, ProfileExamples};

use crate::profile::{RegionPredictions, expected_counts};

/// A predicted log count above this is taken as broken (its exponential overflows `f32`).
const MAX_LOG_COUNT: f32 = 80.0;

/// The profiles of `count` example regions of `predictions` (regions of the split named `split`,
/// their observed reads and the model's outputs; for ChromBPNet, TF and bias models together) for
/// the report: about half the peaks with the most reads, a quarter peaks around the median count
/// and a quarter background regions around the median count, in that order (fewer when the split
/// has fewer). Only regions with reads on every task and finite predictions are candidates, so that
/// every JSD is defined; ties are broken by region index, so the choice is deterministic.
///
/// `corrected` holds the bias-corrected predictions (the TF model alone) of the same regions, for a
/// ChromBPNet run; `track_names` names the `tasks × strands` tracks (`task.plus`, `task.minus` or
/// `task`). The expected counts are [`expected_counts`] of each region's outputs; the JSD of each
/// task is the mean over its strands with reads of the Jensen–Shannon distance between the
/// observed reads and the predicted profile (as `omix_metrics::ProfileMetrics` measures it).
pub fn example_profiles(
    data: &ProfileData,
    split: &str,
    predictions: &RegionPredictions,
    corrected: Option<&RegionPredictions>,
    track_names: Vec<String>,
    count: usize,
) -> ProfileExamples {
    let shape = Shape { tasks: data.tasks.len(), strands: data.strands, length: data.output_length };
    let corrected_at: HashMap<usize, usize> = corrected
        .map(|corrected| corrected.indices.iter().enumerate().map(|(position, &index)| (index, position)).collect())
        .unwrap_or_default();
    // (position in `predictions`, total reads), per kind.
    let mut peaks: Vec<(usize, f64)> = Vec::new();
    let mut background: Vec<(usize, f64)> = Vec::new();
    for (position, &index) in predictions.indices.iter().enumerate() {
        let Some(region) = data.regions.get(index) else { continue };
        let Some(total) = shape.candidate(predictions, position) else { continue };
        if let Some(corrected) = corrected
            && corrected_at.get(&index).and_then(|&at| shape.candidate(corrected, at)).is_none()
        {
            continue;
        }
        if region.peak { peaks.push((position, total)) } else { background.push((position, total)) }
    }
    // Most reads first; ties by position (region order).
    let order = |a: &(usize, f64), b: &(usize, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    peaks.sort_by(order);
    background.sort_by(order);

    let background_count = (count / 4).min(background.len());
    let peak_count = (count - background_count).min(peaks.len());
    let median_count = (count / 4).min(peak_count / 2);
    let top_count = peak_count - median_count;
    let mut chosen: Vec<usize> = peaks[..top_count].iter().map(|&(position, _)| position).collect();
    chosen.extend(around_median(&peaks, top_count, median_count).iter().map(|&(position, _)| position));
    chosen.extend(around_median(&background, 0, background_count).iter().map(|&(position, _)| position));

    let examples = chosen
        .into_iter()
        .filter_map(|position| {
            let index = *predictions.indices.get(position)?;
            let corrected = match corrected {
                Some(corrected) => Some((corrected, *corrected_at.get(&index)?)),
                None => None,
            };
            shape.example(data, predictions, position, corrected)
        })
        .collect();
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    ProfileExamples {
        split: split.to_string(),
        tracks: track_names,
        output_length: shape.length,
        chosen: format!(
            "{} with the most reads, {} around the median count and {} around the median count (among the \
             regions with reads on every task)",
            plural(top_count, &format!("{split} peak"), &format!("{split} peaks")),
            plural(median_count, "peak", "peaks"),
            plural(background_count, "background region", "background regions"),
        ),
        examples,
    }
}

/// `count` entries of `sorted` around its median, none before `from`.
fn around_median(sorted: &[(usize, f64)], from: usize, count: usize) -> &[(usize, f64)] {
    let count = count.min(sorted.len().saturating_sub(from));
    let start = (sorted.len() / 2).saturating_sub(count / 2).max(from).min(sorted.len() - count);
    &sorted[start..start + count]
}

/// The layout of a profile model's outputs.
#[derive(Debug, Clone, Copy)]
struct Shape {
    tasks: usize,
    strands: usize,
    length: usize,
}

impl Shape {
    /// Values per task (`strands × length`).
    fn per_task(&self) -> usize {
        self.strands * self.length
    }

    /// Values per region (`tasks × strands × length`).
    fn per_region(&self) -> usize {
        self.tasks * self.per_task()
    }

    /// Region `position`'s observed reads, logits and log counts, when all are there.
    fn slices<'a>(
        &self,
        predictions: &'a RegionPredictions,
        position: usize,
    ) -> Option<(&'a [f32], &'a [f32], &'a [f32])> {
        let values = position * self.per_region()..(position + 1) * self.per_region();
        let counts = position * self.tasks..(position + 1) * self.tasks;
        Some((
            predictions.observed.get(values.clone())?,
            predictions.logits.get(values)?,
            predictions.log_counts.get(counts)?,
        ))
    }

    /// The total observed reads of region `position` when it can be an example: reads on every
    /// task, finite logits and log counts.
    fn candidate(&self, predictions: &RegionPredictions, position: usize) -> Option<f64> {
        let (observed, logits, log_counts) = self.slices(predictions, position)?;
        let has_reads = observed.chunks(self.per_task().max(1)).all(|task| task.iter().any(|&v| v > 0.0));
        let finite = logits.iter().all(|v| v.is_finite())
            && log_counts.iter().all(|v| v.is_finite() && *v < MAX_LOG_COUNT)
            && observed.iter().all(|v| v.is_finite() && *v >= 0.0);
        (has_reads && finite && self.per_task() > 0).then(|| observed.iter().map(|&v| f64::from(v)).sum())
    }

    /// Region `position` as an example, or `None` when a value is not finite.
    fn example(
        &self,
        data: &ProfileData,
        predictions: &RegionPredictions,
        position: usize,
        corrected: Option<(&RegionPredictions, usize)>,
    ) -> Option<ProfileExample> {
        let region = data.regions.get(*predictions.indices.get(position)?)?;
        let (observed, logits, log_counts) = self.slices(predictions, position)?;
        let predicted = expected_counts(logits, log_counts, self.per_task());
        let corrected = match corrected {
            Some((corrected, at)) => {
                let (_, logits, log_counts) = self.slices(corrected, at)?;
                Some(self.tracks(&expected_counts(logits, log_counts, self.per_task()))?)
            }
            None => None,
        };
        let jsd = observed
            .chunks(self.per_task())
            .zip(predicted.chunks(self.per_task()))
            .map(|(observed, predicted)| {
                let distances: Vec<f64> = observed
                    .chunks(self.length)
                    .zip(predicted.chunks(self.length))
                    .filter_map(|(o, p)| omix_metrics::jensen_shannon_distance(o, p))
                    .collect();
                let mean = distances.iter().sum::<f64>() / distances.len() as f64;
                mean.is_finite().then_some(mean)
            })
            .collect::<Option<Vec<f64>>>()?;
        Some(ProfileExample {
            chrom: region.chrom.clone(),
            start: region.centre.saturating_sub((self.length / 2) as u64),
            peak: region.peak,
            observed: self.tracks(observed)?,
            predicted: self.tracks(&predicted)?,
            corrected,
            jsd,
        })
    }

    /// A region's values as one row per track, or `None` when one is not finite.
    fn tracks(&self, values: &[f32]) -> Option<Vec<Vec<f32>>> {
        values.iter().all(|v| v.is_finite()).then(|| values.chunks(self.length).map(<[f32]>::to_vec).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omix_data::profile::ProfileDataConfig;
    use omix_genome::SplitName;
    use omix_tracks::{ProfileSimulation, simulate_profiles};

    type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

    /// Simulated peaks and background on two contigs; chr2 is validation.
    fn data(dir: &std::path::Path) -> Result<ProfileData> {
        simulate_profiles(&ProfileSimulation::small(), dir)?;
        let text = format!(
            "reference = {:?}\npeaks = {:?}\ninput_length = 300\noutput_length = 200\nbackground = 1\n\
             validation_chromosomes = [\"chr2\"]\ntest_chromosomes = []\n[[task]]\nname = \"sim\"\nplus = {:?}\n\
             minus = {:?}\n",
            dir.join("genome.fa"),
            dir.join("peaks.narrowPeak"),
            dir.join("counts.plus.bw"),
            dir.join("counts.minus.bw"),
        );
        let config: ProfileDataConfig = toml::from_str(&text)?;
        Ok(ProfileData::load(&config, 1, &mut |_| {})?)
    }

    /// Predictions that are the observed reads, smoothed a little (logits ln(1 + reads)).
    fn predictions(data: &ProfileData, indices: &[usize], shift: f32) -> Result<RegionPredictions> {
        let batch = data.batch(indices, &[], &[])?;
        let per_region = data.tracks() * data.output_length;
        let logits = batch.counts.iter().map(|&c| (1.0 + c).ln() + shift).collect();
        let log_counts = batch
            .counts
            .chunks(per_region)
            .flat_map(|region| region.chunks(data.strands * data.output_length))
            .map(|task| (1.0 + task.iter().sum::<f32>()).ln())
            .collect();
        Ok(RegionPredictions { indices: indices.to_vec(), logits, log_counts, observed: batch.counts })
    }

    #[test]
    fn chooses_top_median_and_background_regions_deterministically() -> Result {
        let dir = tempfile::tempdir()?;
        let data = data(dir.path())?;
        let indices = data.indices(SplitName::Validation);
        let predicted = predictions(&data, &indices, 0.0)?;
        let names = vec!["sim.plus".to_string(), "sim.minus".to_string()];
        let examples = example_profiles(&data, "validation", &predicted, None, names.clone(), 8);
        assert_eq!(examples.examples.len(), 8, "{}", examples.chosen);
        assert_eq!(examples.output_length, 200);
        assert_eq!(examples.tracks, names);
        let kinds: Vec<bool> = examples.examples.iter().map(|e| e.peak).collect();
        assert_eq!(kinds, [true, true, true, true, true, true, false, false]);
        let total = |e: &ProfileExample| e.observed.iter().flatten().map(|&v| f64::from(v)).sum::<f64>();
        // The first four are the validation peaks with the most reads, most first.
        let mut peak_totals: Vec<f64> = (0..indices.len())
            .filter(|&r| data.regions[indices[r]].peak)
            .map(|r| data.total_count(indices[r]))
            .collect::<std::result::Result<_, _>>()?;
        peak_totals.sort_by(|a, b| b.total_cmp(a));
        for (k, (example, expected)) in examples.examples.iter().zip(&peak_totals).take(4).enumerate() {
            assert!((total(example) - expected).abs() < 1e-3, "example {k}");
        }
        // Then two peaks with fewer reads than any of those.
        assert!(total(&examples.examples[4]) <= peak_totals[3] && total(&examples.examples[5]) <= peak_totals[3]);
        for example in &examples.examples {
            assert_eq!(example.observed.len(), 2);
            assert!(example.observed.iter().chain(&example.predicted).all(|row| row.len() == 200));
            assert!(example.corrected.is_none());
            // Windows are centred on the region: start = centre - output_length / 2.
            let region = data
                .regions
                .iter()
                .find(|r| r.chrom == example.chrom && r.centre == example.start + 100)
                .ok_or("no region at the example's window")?;
            assert_eq!(region.peak, example.peak);
            // The predicted counts add up to the predicted total, exp(log count) = 1 + reads.
            let predicted: f64 = example.predicted.iter().flatten().map(|&v| f64::from(v)).sum();
            assert!((predicted - (1.0 + total(example))).abs() < 1e-2 * predicted.max(1.0));
            assert!(example.jsd.len() == 1 && (0.0..0.84).contains(&example.jsd[0]), "{:?}", example.jsd);
        }
        // The same input, the same choice; bias-corrected profiles come along when given.
        let corrected = predictions(&data, &indices, 1.0)?;
        let again = example_profiles(&data, "validation", &predicted, Some(&corrected), names.clone(), 8);
        assert_eq!(
            again.examples.iter().map(|e| (&e.chrom, e.start)).collect::<Vec<_>>(),
            examples.examples.iter().map(|e| (&e.chrom, e.start)).collect::<Vec<_>>()
        );
        assert!(again.examples.iter().all(|e| e.corrected.as_ref().is_some_and(|c| c.len() == 2)));
        // Fewer regions than asked for: what there is.
        let few: Vec<usize> = indices.iter().copied().filter(|&i| data.regions[i].peak).take(3).collect();
        let small = example_profiles(&data, "validation", &predictions(&data, &few, 0.0)?, None, names, 8);
        assert_eq!(small.examples.len(), 3);
        Ok(())
    }
}
