//! Fetch rate: 100k random 1 kb windows from a 50 Mb synthetic FASTA (plain and bgzip), in one thread and in
//! several sharing one `Reference`.
//!
//! `cargo run --release -p omix-genome --example fetch_rate`

use std::io::Write;
use std::time::Instant;

use omix_genome::Reference;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CONTIGS: usize = 5;
const CONTIG_LENGTH: usize = 10_000_000;
const WINDOW: i64 = 1000;
const FETCHES: usize = 100_000;

/// Fetch `count` random windows; returns the number of G/C bases seen (checked so the work is not optimised away).
fn fetch_many(reference: &Reference, count: usize, seed: u64) -> Result<usize, Box<dyn std::error::Error>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut gc = 0;
    for _ in 0..count {
        let contig = &reference.contigs()[rng.random_range(0..reference.contigs().len())];
        let start = rng.random_range(-100..contig.length as i64 - WINDOW + 100);
        let bases = reference.fetch(&contig.name, start, start + WINDOW)?;
        if bases.len() != WINDOW as usize {
            return Err(format!("{}:{start} gave {} bases", contig.name, bases.len()).into());
        }
        gc += bases.iter().filter(|&&b| b == b'G' || b == b'C').count();
    }
    Ok(gc)
}

/// Time `count` fetches in each of `threads` threads, printing the rate.
fn measure(label: &str, reference: &Reference, count: usize, threads: usize) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let results: Vec<Result<usize, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let reference = reference.clone();
                scope.spawn(move || fetch_many(&reference, count, t as u64).map_err(|e| e.to_string()))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".to_owned()))).collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut gc = 0;
    for result in results {
        gc += result?;
    }
    let total = count * threads;
    println!(
        "{label:<28} {threads} thread(s): {total:>7} x {WINDOW} bp in {elapsed:6.3} s = {:>9.0} fetches/s ({:.0} Mb/s; GC bases {gc})",
        total as f64 / elapsed,
        total as f64 * WINDOW as f64 / elapsed / 1e6
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let plain = dir.path().join("synthetic.fa");
    let zipped = dir.path().join("synthetic.fa.gz");
    let started = Instant::now();
    {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&plain)?);
        let mut bgzip = noodles_bgzf::io::Writer::new(std::fs::File::create(&zipped)?);
        for c in 0..CONTIGS {
            let header = format!(">chr{}\n", c + 1);
            out.write_all(header.as_bytes())?;
            bgzip.write_all(header.as_bytes())?;
            let sequence: Vec<u8> = (0..CONTIG_LENGTH).map(|_| b"ACGT"[rng.random_range(0..4)]).collect();
            for line in sequence.chunks(60) {
                out.write_all(line)?;
                out.write_all(b"\n")?;
                bgzip.write_all(line)?;
                bgzip.write_all(b"\n")?;
            }
        }
        out.flush()?;
        bgzip.finish()?;
    }
    println!(
        "wrote {} Mb (plain and bgzip) in {:.1} s",
        CONTIGS * CONTIG_LENGTH / 1_000_000,
        started.elapsed().as_secs_f64()
    );

    for (label, path) in [("plain", &plain), ("bgzip", &zipped)] {
        let started = Instant::now();
        let reference = Reference::open(path, &mut |line: &str| println!("  {line}"))?;
        println!("{label}: opened (indexes built) in {:.2} s", started.elapsed().as_secs_f64());
        let started = Instant::now();
        drop(Reference::open(path, &mut |line: &str| println!("  {line}"))?);
        println!("{label}: reopened (indexes read) in {:.4} s", started.elapsed().as_secs_f64());
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(4);
        measure(label, &reference, FETCHES, 1)?;
        if threads > 1 {
            measure(label, &reference, FETCHES / threads, threads)?;
        }
        // Tiling one contig in order: neighbouring windows share blocks and pages.
        let started = Instant::now();
        let mut count = 0usize;
        for window in omix_genome::tiles(&reference, None, WINDOW as u64, 500).take(FETCHES) {
            let bases = reference.fetch(&window.chrom, window.start, window.end)?;
            if bases.len() != WINDOW as usize || bases.contains(&b'N') {
                return Err(format!("{window} gave {} bases", bases.len()).into());
            }
            count += 1;
        }
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "{:<28} 1 thread(s): {count:>7} x {WINDOW} bp in {elapsed:6.3} s = {:>9.0} fetches/s",
            format!("{label} (tiling, stride 500)"),
            count as f64 / elapsed
        );
    }
    Ok(())
}
