//! Compare every motif of a MEME file with a motif database and print all matches as TSV:
//! the command-line twin of `bench/tomtom_parity.py`, which runs memelite's Tomtom on the same
//! files.
//!
//! `cargo run --release -p omix-motif --example tomtom_tsv -- QUERIES.meme [DATABASE.meme|jaspar]
//!  [--scoring complete|incomplete] [--distance pearson|euclidean] [--min-overlap N]`

use std::path::Path;

use omix_motif::{CompareOptions, Comparer, Scoring, Similarity, jaspar2024, read_meme};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut positional = Vec::new();
    let mut options = CompareOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--scoring" => {
                options.scoring = match value()?.as_str() {
                    "complete" => Scoring::Complete,
                    "incomplete" => Scoring::Incomplete,
                    other => return Err(format!("--scoring {other}: complete or incomplete").into()),
                }
            }
            "--distance" => {
                options.similarity = match value()?.as_str() {
                    "pearson" => Similarity::Pearson,
                    "euclidean" => Similarity::Euclidean,
                    other => return Err(format!("--distance {other}: pearson or euclidean").into()),
                }
            }
            "--min-overlap" => options.min_overlap = value()?.parse()?,
            _ => positional.push(arg),
        }
    }
    let Some(queries) = positional.first() else {
        return Err("usage: tomtom_tsv QUERIES.meme [DATABASE.meme|jaspar] [options]".into());
    };
    let queries = read_meme(Path::new(queries))?;
    let database = match positional.get(1).map(String::as_str) {
        None | Some("jaspar") => jaspar2024(),
        Some(path) => read_meme(Path::new(path))?,
    };
    let comparer = Comparer::new(&database, options)?;
    let started = std::time::Instant::now();
    let all = comparer.compare_all(&queries.motifs)?;
    eprintln!(
        "{} queries x {} targets in {:.2} s",
        queries.motifs.len(),
        comparer.database_len(),
        started.elapsed().as_secs_f64()
    );
    println!("query\ttarget\tp_value\te_value\tq_value\toffset\toverlap\tstrand\tscore");
    for (query, matches) in queries.motifs.iter().zip(all) {
        for m in matches {
            println!(
                "{}\t{}\t{:e}\t{:e}\t{:e}\t{}\t{}\t{}\t{}",
                query.id, m.target_id, m.p_value, m.e_value, m.q_value, m.offset, m.overlap, m.strand, m.score
            );
        }
    }
    Ok(())
}
