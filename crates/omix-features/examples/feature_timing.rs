//! Times k-mer featurisation (k = 8, canonical and not, 1000 × 101 bp) and, when the JASPAR
//! file is present, a PWM scan; each timed run checks its output.
//!
//! `cargo run --release -p omix-features --example feature_timing [jaspar.meme]`

use std::path::PathBuf;
use std::time::Instant;

use omix_encode::Alphabet;
use omix_features::{KmerConfig, KmerFeaturizer, KmerNormalize, PwmScanner};
use omix_motif::read_meme;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let owned: Vec<Vec<u8>> = (0..1000)
        .map(|_| {
            (0..101)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    b"ACGT"[(state % 4) as usize]
                })
                .collect()
        })
        .collect();
    let sequences: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();

    for (canonical, gap) in [(true, 0), (false, 0), (true, 2)] {
        let config = KmerConfig { k: 8, canonical, gap, normalize: KmerNormalize::Frequency };
        let featurizer = KmerFeaturizer::new(config, Alphabet::Dna)?;
        let mut best = f64::INFINITY;
        for _ in 0..20 {
            let start = Instant::now();
            let batch = featurizer.featurize_batch(&sequences);
            let elapsed = start.elapsed().as_secs_f64();
            // Every row of frequencies sums to 1.
            for row in 0..batch.rows() {
                let sum: f32 = batch.row(row).1.iter().sum();
                if (sum - 1.0).abs() > 1e-4 {
                    return Err(format!("row {row} sums to {sum}").into());
                }
            }
            best = best.min(elapsed);
        }
        println!(
            "k=8 canonical={canonical} gap={gap}: {} features, 1000 x 101 bp in {:.2} ms (best of 20)",
            featurizer.dimension(),
            best * 1e3
        );
    }

    let jaspar = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/jaspar/JASPAR2024_CORE_vertebrates_nonredundant.meme")
    });
    if !jaspar.exists() {
        println!("skipping the PWM scan: {} is absent", jaspar.display());
        return Ok(());
    }
    let set = read_meme(&jaspar)?;
    let scanner = PwmScanner::new(&set.motifs, &set.background, 0.01)?;
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let start = Instant::now();
        let features = scanner.scan_batch(&sequences);
        let elapsed = start.elapsed().as_secs_f64();
        // `sum` is never below `max`.
        if features.chunks_exact(2).any(|pair| pair[1] + 1e-4 < pair[0]) {
            return Err("a sum feature is below its max".into());
        }
        best = best.min(elapsed);
    }
    println!("PWM scan: {} motifs, 1000 x 101 bp in {:.1} ms (best of 3)", scanner.motif_count(), best * 1e3);
    Ok(())
}
