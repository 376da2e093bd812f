//! Variant effects of a profile run: a tiny BPNet trained on simulated footprints scores SNVs that
//! break planted motif instances and random SNVs in the same peaks; the motif-breaking ones must
//! change the predicted counts and profiles more.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use burn::prelude::*;
use omix_config::ProfileExperimentConfig;
use omix_genome::Reference;
use omix_run::{RunDir, Silent};
use omix_tracks::{ProfileSimulation, simulate_profiles};
use omix_train::TrainOptions;
use omix_train::profile::run_profile_experiment;
use omix_train::profile_scorer::ProfileScorer;
use omix_variants::{OnMismatch, ScoringJob, Shard, WindowScorer};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A tiny BPNet on simulated data in `dir`, chr2 held out.
fn tiny_config(dir: &Path) -> Result<ProfileExperimentConfig> {
    let text = format!(
        "seed = 5\n[tracks]\nreference = {:?}\npeaks = {:?}\ninput_length = 300\noutput_length = 200\njitter = 16\n\
         validation_chromosomes = [\"chr2\"]\ntest_chromosomes = []\n[[tracks.task]]\nname = \"sim\"\nplus = {:?}\nminus = {:?}\n\
         [model]\nfilters = 16\nlayers = 2\n[train]\nepochs = 10\nbatch_size = 32\nlearning_rate = 0.004\n",
        dir.join("genome.fa"),
        dir.join("peaks.narrowPeak"),
        dir.join("counts.plus.bw"),
        dir.join("counts.minus.bw"),
    );
    Ok(ProfileExperimentConfig::from_toml(&text)?)
}

/// A base other than `base` (a transversion), upper case.
fn other_base(base: u8) -> u8 {
    match base.to_ascii_uppercase() {
        b'A' => b'C',
        b'C' => b'A',
        b'G' => b'T',
        _ => b'G',
    }
}

/// A small deterministic generator (no seed-dependent library behaviour in a test's expectations).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

/// The VCF of motif-breaking SNVs (IDs `motif_*`: the middle base of each planted instance on
/// `chrom`) and as many random SNVs (`random_*`) in the same peaks, away from every instance.
fn variants(data: &Path, reference: &Reference, chrom: &str, limit: usize) -> Result<String> {
    let truth = std::fs::read_to_string(data.join("truth.tsv"))?;
    let mut instances: Vec<(u64, u64)> = Vec::new();
    for line in truth.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.first() == Some(&chrom) {
            instances.push((fields[1].parse()?, fields[2].parse()?));
        }
    }
    let peaks = std::fs::read_to_string(data.join("peaks.narrowPeak"))?;
    let mut regions: Vec<(u64, u64)> = Vec::new();
    for line in peaks.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.first() == Some(&chrom) {
            regions.push((fields[1].parse()?, fields[2].parse()?));
        }
    }
    // Peaks holding an instance, so both sets come from the same peaks.
    regions.retain(|&(start, end)| instances.iter().any(|&(s, e)| s >= start && e <= end));
    assert!(instances.len() >= 20 && !regions.is_empty(), "{} instances, {} peaks", instances.len(), regions.len());
    let mut vcf = String::from("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n");
    let mut line = |id: String, position: u64| -> Result {
        let base = reference.fetch(chrom, position as i64, position as i64 + 1)?[0].to_ascii_uppercase();
        let _ =
            writeln!(vcf, "{chrom}\t{}\t{id}\t{}\t{}\t.\t.\t.", position + 1, base as char, other_base(base) as char);
        Ok(())
    };
    for (k, &(start, end)) in instances.iter().take(limit).enumerate() {
        line(format!("motif_{k}"), start + (end - start) / 2)?;
    }
    let mut random = Lcg(7);
    let mut written = 0;
    while written < limit.min(instances.len()) {
        let (start, end) = regions[random.below(regions.len() as u64) as usize];
        let position = start + random.below(end - start);
        if instances.iter().any(|&(s, e)| position + 3 >= s && position < e + 3) {
            continue;
        }
        line(format!("random_{written}"), position)?;
        written += 1;
    }
    Ok(vcf)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

#[test]
fn motif_breaking_snvs_change_counts_and_profiles_more_than_random_ones() -> Result {
    let data = tempfile::tempdir()?;
    // Three contigs (chr2 held out) and only the CTCF-like motif, the strongest footprint: a
    // 16-filter BPNet learns it in a few epochs (about 12 s on 2 cores), while with all three
    // motifs it needs several times longer to learn any.
    let simulation = ProfileSimulation {
        contigs: 3,
        contig_length: 400_000,
        peaks: 1200,
        motifs: ProfileSimulation::default_motifs().into_iter().filter(|m| m.name == "CTCF").collect(),
        ..ProfileSimulation::small()
    };
    simulate_profiles(&simulation, data.path())?;
    let device = Device::flex();
    let runs = tempfile::tempdir()?;
    let run = RunDir::new(runs.path().join("bpnet"));
    let summary =
        run_profile_experiment(&tiny_config(data.path())?, &run, &device, TrainOptions::default(), &mut |_: &str| {})?;
    assert!(summary.finished);

    let reference = Reference::open_with_index_cache(
        &data.path().join("genome.fa"),
        &data.path().join("cache"),
        &mut |_: &str| {},
    )?;
    let vcf_path = data.path().join("snvs.vcf");
    std::fs::write(&vcf_path, variants(data.path(), &reference, "chr2", 60)?)?;
    let scorer = ProfileScorer::new(&run, &device)?;
    assert_eq!(scorer.window_length(), 300);
    assert!(scorer.averages_strands());
    let job = ScoringJob {
        vcf: vcf_path.clone(),
        reference: data.path().join("genome.fa"),
        out: data.path().join("scores"),
        shard: Shard::ALL,
        batch_records: 50,
        on_mismatch: OnMismatch::Error,
        stop_after: None,
        model_files: run.model_files(),
    };
    let outcome = job.run(&reference, &scorer, &mut Silent)?;
    assert!(outcome.finished && outcome.skipped.is_empty(), "{outcome:?}");

    let tsv = std::fs::read_to_string(data.path().join("scores.tsv"))?;
    let mut lines = tsv.lines();
    assert_eq!(
        lines.next(),
        Some("chrom\tpos\tid\tref\talt\ttask\tref_log_count\talt_log_count\tlogfc\tabs_logfc\tjsd\tabs_logfc_x_jsd")
    );
    let mut by_set: HashMap<&str, (Vec<f64>, Vec<f64>)> = HashMap::new();
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 12, "{line}");
        let number = |i: usize| fields[i].parse::<f64>();
        let (ref_count, alt_count, logfc, abs_logfc, jsd) =
            (number(6)?, number(7)?, number(8)?, number(9)?, number(10)?);
        // logFC is log2 of the count ratio; the JSD a base-2 distance.
        assert!((logfc - (alt_count - ref_count) / std::f64::consts::LN_2).abs() < 1e-4, "{line}");
        assert!((abs_logfc - logfc.abs()).abs() < 1e-6 && (0.0..=1.0).contains(&jsd), "{line}");
        assert!((number(11)? - abs_logfc * jsd).abs() < 1e-5, "{line}");
        let set = fields[2].split('_').next().unwrap_or_default();
        let entry = by_set.entry(if set == "motif" { "motif" } else { "random" }).or_default();
        entry.0.push(abs_logfc);
        entry.1.push(jsd);
    }
    let (motif, random) = (&by_set["motif"], &by_set["random"]);
    assert_eq!(motif.0.len(), random.0.len());
    let (motif_logfc, random_logfc) = (median(motif.0.clone()), median(random.0.clone()));
    let (motif_jsd, random_jsd) = (median(motif.1.clone()), median(random.1.clone()));
    eprintln!(
        "n = {} each: median |logFC| motif {motif_logfc:.4} random {random_logfc:.4}; median JSD motif {motif_jsd:.4} random {random_jsd:.4}",
        motif.0.len()
    );
    assert!(motif_logfc > 2.0 * random_logfc, "median |logFC|: motif {motif_logfc} vs random {random_logfc}");
    assert!(motif_jsd > 2.0 * random_jsd, "median JSD: motif {motif_jsd} vs random {random_jsd}");

    // The VCF carries the same values under INFO keys.
    let vcf = std::fs::read_to_string(data.path().join("scores.vcf"))?;
    assert!(vcf.contains("##INFO=<ID=OMIX_sim_LOGFC,Number=1,Type=Float,"), "{vcf}");
    assert!(vcf.lines().filter(|l| !l.starts_with('#')).all(|l| l.contains(";OMIX_sim_JSD=")));
    Ok(())
}

#[test]
fn strand_average_is_the_mean_of_a_window_and_its_reverse_complement() -> Result {
    let data = tempfile::tempdir()?;
    simulate_profiles(
        &ProfileSimulation { peaks: 60, contig_length: 60_000, ..ProfileSimulation::small() },
        data.path(),
    )?;
    let mut config = tiny_config(data.path())?;
    config.train.epochs = 1;
    let device = Device::flex();
    let runs = tempfile::tempdir()?;
    let run = RunDir::new(runs.path().join("bpnet"));
    run_profile_experiment(&config, &run, &device, TrainOptions::default(), &mut |_: &str| {})?;

    let reference = Reference::open_with_index_cache(
        &data.path().join("genome.fa"),
        &data.path().join("cache"),
        &mut |_: &str| {},
    )?;
    let window = reference.fetch("chr1", 20_000, 20_300)?;
    let reverse = omix_encode::reverse_complement(&window, omix_encode::Alphabet::Dna);
    let mut scorer = ProfileScorer::new(&run, &device)?;
    let averaged = scorer.predict(std::slice::from_ref(&window), None)?;
    scorer.set_average_strands(false);
    let single = scorer.predict(&[window.clone(), reverse], None)?;
    let expected = single[0].strand_average(&single[1], scorer.layout())?;
    let close = |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4);
    assert!(close(&averaged[0].logits, &expected.logits) && close(&averaged[0].log_counts, &expected.log_counts));
    assert!(!close(&single[0].logits, &expected.logits), "the reverse complement must change the prediction");
    // One window's log count per task is its score; a window of another length names itself.
    assert_eq!(scorer.score(std::slice::from_ref(&window))?, single[0].log_counts);
    let message = scorer.score(&[window.clone(), window[..10].to_vec()]).err().unwrap_or_default();
    assert!(message.contains("sequence 1: it has 10 bases; the model reads 300"), "{message}");

    // A ChromBPNet's bias weights are part of what a resume fingerprints.
    let bias = run.root().join("bias");
    std::fs::create_dir_all(&bias)?;
    std::fs::copy(run.root().join("model.bpk"), bias.join("model.bpk"))?;
    assert!(run.model_files().contains(&bias.join("model.bpk")));
    Ok(())
}
