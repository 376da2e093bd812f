//! Time the comparison of random query motifs with the built-in JASPAR 2024 database.
//!
//! `cargo run --release -p omix-motif --example compare_timing [queries] [width]`
//! (defaults: 320 queries of 19 columns). Checks inside the timed region that every query got
//! one match per database motif, sorted by p-value.

use std::time::Instant;

use omix_motif::{CompareOptions, Comparer, Motif, frequency_matrix, jaspar2024};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let queries: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(320);
    let width: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(19);
    let start = Instant::now();
    let database = jaspar2024();
    let comparer = Comparer::new(&database, CompareOptions::default())?;
    println!("database: {} motifs, prepared in {:.3} s", comparer.database_len(), start.elapsed().as_secs_f64());

    // Random motifs: columns drawn from a flat Dirichlet with a SplitMix64 generator.
    let mut state = 1u64;
    let mut uniform = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let motifs: Vec<Motif> = (0..queries)
        .map(|i| {
            let rows: Vec<Vec<f64>> = (0..width).map(|_| (0..4).map(|_| -(1.0 - uniform()).ln()).collect()).collect();
            Motif::new(format!("random{i}"), frequency_matrix(&rows, 0.0))
        })
        .collect();

    let start = Instant::now();
    let results = comparer.compare_all(&motifs)?;
    let seconds = start.elapsed().as_secs_f64();
    let mut significant = 0;
    for matches in &results {
        if matches.len() != comparer.database_len() || matches.windows(2).any(|w| w[0].p_value > w[1].p_value) {
            return Err("a query did not get one sorted match per database motif".into());
        }
        significant += usize::from(matches[0].e_value < 0.05);
    }
    println!(
        "{queries} queries of {width} columns: {seconds:.2} s ({:.1} ms per query, {} threads); \
         {significant} with a best E-value < 0.05",
        1000.0 * seconds / queries as f64,
        rayon::current_num_threads(),
    );
    Ok(())
}
