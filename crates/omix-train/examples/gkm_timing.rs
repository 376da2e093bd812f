//! Seconds of the gapped k-mer baseline's parts on synthetic sequences: features of N
//! sequences, then one logistic-regression fit per C of the default grid (what
//! `omix train` does for the baseline's training split), with the iterations each took.
//!
//! `cargo run --release -p omix-train --example gkm_timing -- [N] [LENGTH]` (default 20000 × 101).

use std::time::Instant;

use omix_baseline::{DEFAULT_C_GRID, Design, Examples, LogisticConfig, Targets};
use omix_encode::Alphabet;
use omix_features::{GkmConfig, GkmFeaturizer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (n, length) = (args.first().copied().unwrap_or(20_000), args.get(1).copied().unwrap_or(101));
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    // Half the sequences carry GGAA.GT.C (a gapped motif) at a random place, with one random
    // substitution in a quarter of them.
    let motif = b"GGAAAGTACC";
    let mut labels = Vec::with_capacity(n);
    let sequences: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let mut s: Vec<u8> = (0..length).map(|_| b"ACGT"[rng.random_range(0..4)]).collect();
            let positive = i % 2 == 0;
            if positive {
                let at = rng.random_range(0..length - motif.len());
                for (t, &b) in motif.iter().enumerate() {
                    if t != 4 && t != 7 {
                        s[at + t] = b;
                    }
                }
                if rng.random_range(0..4) == 0 {
                    s[at + rng.random_range(0..motif.len())] = b"ACGT"[rng.random_range(0..4)];
                }
            }
            labels.push(positive);
            s
        })
        .collect();
    let views: Vec<&[u8]> = sequences.iter().map(Vec::as_slice).collect();
    let featurizer = GkmFeaturizer::new(GkmConfig::default(), Alphabet::Dna, true)?;
    let started = Instant::now();
    let matrix = featurizer.matrix(&views)?;
    println!(
        "features: {n} sequences x {length} bp -> {} columns, {} occurrences in {:.2}s ({} threads)",
        featurizer.dimension(),
        matrix.occurrences(),
        started.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
    let design = Design::CountColumns {
        column_offsets: &matrix.column_offsets,
        rows: &matrix.rows,
        row_scale: &matrix.row_scale,
        column_scale: &matrix.column_scale,
    };
    let examples = Examples::new(design, Targets::Binary(&labels));
    let mut total = started.elapsed().as_secs_f64();
    for c in DEFAULT_C_GRID {
        let started = Instant::now();
        let config = LogisticConfig { c, tolerance: 1e-4, max_iter: 500, ..LogisticConfig::default() };
        let model = config.fit(&examples)?;
        let seconds = started.elapsed().as_secs_f64();
        total += seconds;
        let p = model.predict_proba(&design)?;
        let correct = p.iter().zip(&labels).filter(|&(&p, &l)| (p > 0.5) == l).count();
        println!(
            "C = {c}: {} iterations, converged {}, {:.2}s, training accuracy {:.3}",
            model.solver[0].iterations,
            model.converged(),
            seconds,
            correct as f64 / n as f64
        );
    }
    println!("total {total:.2}s");
    Ok(())
}
