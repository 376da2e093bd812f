//! The gapped k-mer baseline inside "simple first": it learns a planted gapped motif, and
//! `kind = "auto"` keeps the baseline with the better validation metric.

use omix_config::{BaselineConfig, BaselineKind};
use omix_data::{DataConfig, Dataset, Split, TaskSetting};
use omix_train::baseline::fit_baseline;
use omix_train::{InputPipeline, Objective};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Half the sequences carry `GGA.T..CA` (a motif whose wildcards hold random bases, so no
/// contiguous 5-mer of it is fixed beyond `GGA`) on a random strand; the rest are random.
fn write_gapped_motif_data(dir: &std::path::Path, count: usize, regression: bool) -> DataConfig {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let motif = b"GGA.T..CA";
    let (mut sequences, mut labels) = (Vec::new(), Vec::new());
    for index in 0..count {
        let mut sequence: Vec<u8> = (0..60).map(|_| b"ACGT"[rng.random_range(0..4)]).collect();
        let positive = index % 2 == 0;
        if positive {
            let start = rng.random_range(0..60 - motif.len());
            for (offset, &letter) in motif.iter().enumerate() {
                if letter != b'.' {
                    sequence[start + offset] = letter;
                }
            }
            if rng.random_bool(0.5) {
                sequence = omix_encode::reverse_complement(&sequence, omix_encode::Alphabet::Dna);
            }
        }
        sequences.push(String::from_utf8_lossy(&sequence).into_owned());
        labels.push(if regression { format!("{}.5", u8::from(positive)) } else { u8::from(positive).to_string() });
    }
    std::fs::write(dir.join("seqs.txt"), sequences.join("\n")).expect("write");
    std::fs::write(dir.join("labels.txt"), labels.join("\n")).expect("write");
    DataConfig {
        input: Some(dir.join("seqs.txt")),
        labels: Some(dir.join("labels.txt")),
        validation_fraction: 0.2,
        test_fraction: 0.2,
        task: if regression { TaskSetting::Regression } else { TaskSetting::Auto },
        ..DataConfig::default()
    }
}

fn baseline(
    dataset: &Dataset,
    kind: BaselineKind,
    objective: Objective,
) -> Result<omix_train::baseline::BaselineReport, Box<omix_train::TrainError>> {
    let pipeline = InputPipeline::fit(None, dataset).map_err(Box::new)?;
    let test = dataset.indices(Split::Test).len();
    let outputs = dataset.schema.outputs();
    let choice = BaselineConfig { kind, ..BaselineConfig::default() };
    // Stand-in model scores: any varied numbers (the comparison needs a defined statistic).
    let scores: Vec<f64> = (0..test * outputs).map(|i| ((i * 37) % 101) as f64 / 101.0).collect();
    fit_baseline(dataset, &pipeline, None, objective, true, None, &scores, 0.5, 7, &choice).map_err(Box::new)
}

#[test]
fn gkm_learns_a_planted_gapped_motif_and_auto_chooses_by_validation() -> TestResult {
    let dir = tempfile::tempdir()?;
    let dataset = Dataset::load(&write_gapped_motif_data(dir.path(), 1500, false), 3)?;
    let objective = Objective::SigmoidCrossEntropy;

    let gkm = baseline(&dataset, BaselineKind::Gkm, objective)?;
    assert!(gkm.model.contains("gapped k-mer counts (l = 11, k = 7"), "{}", gkm.model);
    assert!(gkm.candidates.is_empty());
    let gkm_auroc = gkm.test.get("auroc").ok_or("auroc")?;
    assert!(gkm_auroc > 0.95, "gkm test AUROC {gkm_auroc}");

    let kmer = baseline(&dataset, BaselineKind::Kmer, objective)?;
    assert!(kmer.model.contains("5-mer counts"), "{}", kmer.model);
    let kmer_auroc = kmer.test.get("auroc").ok_or("auroc")?;
    assert!(gkm_auroc > kmer_auroc, "gkm {gkm_auroc} vs 5-mers {kmer_auroc}");

    let auto = baseline(&dataset, BaselineKind::Auto, objective)?;
    assert_eq!(auto.candidates.len(), 2);
    assert!(auto.candidates[0].model.contains("5-mer") && auto.candidates[1].model.contains("gapped"));
    let chosen: Vec<_> = auto.candidates.iter().filter(|c| c.chosen).collect();
    assert_eq!(chosen.len(), 1);
    let best = auto.candidates.iter().filter_map(|c| c.validation).fold(f64::MIN, f64::max);
    assert_eq!(chosen[0].validation, Some(best));
    assert!(auto.candidates.iter().all(|c| c.validation_metric == "AUROC"));
    assert_eq!(auto.model, chosen[0].model);
    // The chosen model's test metrics are the ones reported, and they are its own; each
    // candidate's test statistic is recorded too.
    let expected = if chosen[0].model.contains("gapped") { &gkm } else { &kmer };
    assert_eq!(auto.test, expected.test);
    assert_eq!(auto.candidates[0].test, kmer.test.get("auroc"));
    assert_eq!(auto.candidates[1].test, gkm.test.get("auroc"));
    // metrics.json lists both, with their validation scores, but not the seconds.
    let json = serde_json::to_value(&auto)?;
    assert_eq!(json["candidates"].as_array().map(Vec::len), Some(2));
    assert!(json["candidates"][0].get("seconds").is_none());
    assert!(json["candidates"][1]["validation"].is_f64());
    Ok(())
}

#[test]
fn gkm_is_refused_where_it_does_not_apply() -> TestResult {
    let dir = tempfile::tempdir()?;
    let dataset = Dataset::load(&write_gapped_motif_data(dir.path(), 200, true), 3)?;
    let error = baseline(&dataset, BaselineKind::Gkm, Objective::SquaredError).err().ok_or("gkm on regression")?;
    let message = error.to_string();
    assert!(message.starts_with("[baseline] kind: ") && message.contains("is a classifier"), "{message}");
    // auto falls back to ridge on k-mers without listing candidates.
    let auto = baseline(&dataset, BaselineKind::Auto, Objective::SquaredError)?;
    assert!(auto.model.starts_with("ridge regression") && auto.candidates.is_empty(), "{}", auto.model);
    Ok(())
}
