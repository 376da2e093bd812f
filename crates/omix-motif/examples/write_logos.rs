//! Write example logos (SVG) to a folder: a JASPAR motif, the best match of a noisy ETS site
//! consensus aligned with its query, and an attribution logo.
//!
//! `cargo run --release -p omix-motif --example write_logos -- OUT_DIR`

use std::path::PathBuf;

use omix_motif::{
    CompareOptions, Comparer, LogoOptions, Motif, aligned_logos_svg, attribution_logo_svg, frequency_matrix,
    jaspar2024, logo_svg, reverse_complement_motif,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).ok_or("usage: write_logos OUT_DIR")?);
    std::fs::create_dir_all(&out)?;
    let database = jaspar2024();
    let gabpa = database.motifs.iter().find(|m| m.id.starts_with("MA0062")).ok_or("GABPA")?;
    let options = LogoOptions {
        title: Some(format!("{} {}", gabpa.id, gabpa.name.as_deref().unwrap_or(""))),
        ..LogoOptions::default()
    };
    std::fs::write(out.join("gabpa.svg"), logo_svg(gabpa, "ACGT", &database.background, &options))?;

    // A query: the reverse complement of CCGGAAGT sites, slightly blurred, with flanks.
    let counts: Vec<Vec<f64>> =
        b"NACTTCCGGTN".iter().map(|b| b"ACGT".iter().map(|l| if l == b { 40.0 } else { 4.0 }).collect()).collect();
    let query = Motif::new("query", frequency_matrix(&counts, 1.0));
    let comparer = Comparer::new(&database, CompareOptions::default())?;
    let matches = comparer.compare(&query)?;
    for (rank, matched) in matches.iter().take(3).enumerate() {
        let target = &database.motifs[matched.target_index];
        let svg = aligned_logos_svg(
            &query,
            target,
            matched,
            "ACGT",
            &database.background,
            "query",
            &target.label(),
            &LogoOptions::default(),
        );
        std::fs::write(out.join(format!("aligned{rank}.svg")), svg)?;
        println!(
            "{rank}: {} {} {} offset {} p {:.2e}",
            matched.target_id,
            matched.target_name.as_deref().unwrap_or(""),
            matched.strand,
            matched.offset,
            matched.p_value
        );
    }
    let reversed = reverse_complement_motif(gabpa);
    std::fs::write(
        out.join("gabpa_rc.svg"),
        logo_svg(&reversed, "ACGT", &database.background, &LogoOptions::default()),
    )?;

    let rna = Motif::new(
        "rna",
        frequency_matrix(&[vec![1.0, 0.0, 0.0, 9.0], vec![0.0, 0.0, 0.0, 1.0], vec![3.0, 3.0, 3.0, 1.0]], 0.0),
    );
    std::fs::write(out.join("rna.svg"), logo_svg(&rna, "ACGU", &[0.25; 4], &LogoOptions::default()))?;

    // Attribution: a 60-base sequence whose observed base carries a smooth signed score.
    let sequence = b"TTGACCGGAAGTGCTAGCATCGGATCGATCGTACGTAGCTAGCCGGAAGTAGCTAGCTAG";
    let scores: Vec<Vec<f32>> = sequence
        .iter()
        .enumerate()
        .map(|(i, base)| {
            let value = ((i as f32) / 4.0).sin() * if i % 7 == 0 { -0.5 } else { 1.0 };
            b"ACGT".iter().map(|l| if l == base { value } else { 0.0 }).collect()
        })
        .collect();
    let options =
        LogoOptions { column_width: 14.0, title: Some("gradient × input".to_owned()), ..LogoOptions::default() };
    std::fs::write(out.join("attribution.svg"), attribution_logo_svg(&scores, "ACGT", &options))?;
    let long: Vec<Vec<f32>> = (0..1000)
        .map(|i| {
            let mut row = vec![0.0; 4];
            row[i % 4] = ((i as f32) / 30.0).cos();
            row
        })
        .collect();
    let options = LogoOptions { column_width: 2.0, ..LogoOptions::default() };
    std::fs::write(out.join("attribution_long.svg"), attribution_logo_svg(&long, "ACGT", &options))?;
    Ok(())
}
