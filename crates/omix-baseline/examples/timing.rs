//! Times the baselines at the sizes omix uses them, checking each result inside the timing:
//! logistic regression on 20,000 x 32,896 sparse k-mer rows (~95 non-zeros each) and PCA of a
//! 700 x 765 matrix (top 16 components).
//!
//! `cargo run --release -p omix-baseline --example timing`

use std::time::Instant;

use omix_baseline::{BaselineError, Design, Examples, LogisticConfig, Pca, Targets};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() -> Result<(), BaselineError> {
    let (rows, width, per_row) = (20_000, 32_896, 95);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut row_offsets = vec![0usize];
    let mut indices = Vec::with_capacity(rows * per_row);
    let mut values = Vec::with_capacity(rows * per_row);
    for _ in 0..rows {
        let mut row: Vec<u32> = (0..per_row).map(|_| rng.random_range(0..width as u32)).collect();
        row.sort_unstable();
        row.dedup();
        for &c in &row {
            indices.push(c);
            values.push(if rng.random_bool(0.1) { 2.0f32 } else { 1.0 });
        }
        row_offsets.push(indices.len());
    }
    let design = Design::Sparse { row_offsets: &row_offsets, indices: &indices, values: &values, width };
    // Planted signal: a sparse true weight vector plus logistic noise; and purely random labels.
    let truth: Vec<f64> =
        (0..width).map(|_| if rng.random_bool(0.05) { rng.random_range(-2.0..2.0) } else { 0.0 }).collect();
    let planted: Vec<bool> = (0..rows)
        .map(|i| {
            let z: f64 =
                (row_offsets[i]..row_offsets[i + 1]).map(|e| f64::from(values[e]) * truth[indices[e] as usize]).sum();
            let u: f64 = rng.random_range(1e-12..1.0);
            z + (u / (1.0 - u)).ln() > 0.0
        })
        .collect();
    let random: Vec<bool> = (0..rows).map(|_| rng.random_bool(0.5)).collect();
    println!(
        "sparse design: {rows} x {width}, {} stored entries ({:.1} per row)",
        indices.len(),
        indices.len() as f64 / rows as f64
    );

    for (name, labels) in [("planted signal", &planted), ("random labels", &random)] {
        for c in [0.1, 1.0] {
            let config = LogisticConfig { c, ..LogisticConfig::default() };
            let start = Instant::now();
            let model = config.fit(&Examples::new(design, Targets::Binary(labels)))?;
            let p = model.predict_proba(&design)?;
            let elapsed = start.elapsed();
            let accuracy = p.iter().zip(labels).filter(|&(&p, &l)| (p > 0.5) == l).count() as f64 / rows as f64;
            assert!(p.iter().all(|v| (0.0..=1.0).contains(v)));
            let report = &model.solver[0];
            println!(
                "logistic ({name}, C = {c}, tol = {:e}): {:.2} s, {} iterations, converged {}, |grad| {:.1e}, train accuracy {accuracy:.3}",
                config.tolerance,
                elapsed.as_secs_f64(),
                report.iterations,
                report.converged,
                report.gradient_max
            );
        }
    }

    let (p, k) = (765, 16);
    // 700 rows use the 700 x 700 Gram matrix; 800 rows the 765 x 765 scatter matrix.
    for n in [700, 800] {
        let matrix: Vec<f32> = (0..n * p).map(|_| rng.random_range(-1.0..1.0f32)).collect();
        let all: Vec<usize> = (0..n).collect();
        let start = Instant::now();
        let pca = Pca::fit(&matrix, p, &all, k)?;
        let elapsed = start.elapsed();
        // Orthonormal components, decreasing variances.
        for a in 0..k {
            for b in 0..=a {
                let dot: f64 = pca.components[a * p..(a + 1) * p]
                    .iter()
                    .zip(&pca.components[b * p..(b + 1) * p])
                    .map(|(x, y)| x * y)
                    .sum();
                assert!((dot - f64::from(u8::from(a == b))).abs() < 1e-9);
            }
        }
        assert!(pca.explained_variance.windows(2).all(|w| w[0] >= w[1]));
        let path = if n < p { "Gram" } else { "scatter" };
        println!("PCA {n} x {p} ({path} matrix), top {k}: {:.3} s", elapsed.as_secs_f64());
    }
    Ok(())
}
