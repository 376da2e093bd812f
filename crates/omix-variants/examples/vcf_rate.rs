//! Throughput sanity check: stream synthetic SNVs from a gzip VCF through `VcfReader` and
//! `variant_windows` on a 50 Mb in-memory contig, printing records per second.
//!
//! `cargo run --release -p omix-variants --example vcf_rate [RECORDS] [WINDOW]`
//! (defaults: 1,000,000 records, 1,000 bp windows).

use std::error::Error;
use std::io::{BufWriter, Write};
use std::time::Instant;

use flate2::Compression;
use flate2::write::GzEncoder;
use omix_variants::{InMemorySource, VcfReader, count_records, variant_windows};

/// The contig's length.
const CONTIG_LENGTH: usize = 50_000_000;

/// A small deterministic generator (xorshift64*), so the example needs no random-number crate.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let records: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1_000_000);
    let window: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1_000);

    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let contig: Vec<u8> = (0..CONTIG_LENGTH).map(|_| b"ACGT"[(rng.next() >> 62) as usize]).collect();

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("synthetic.vcf.gz");
    let started = Instant::now();
    {
        let mut out = BufWriter::new(GzEncoder::new(std::fs::File::create(&path)?, Compression::fast()));
        writeln!(out, "##fileformat=VCFv4.2\n##contig=<ID=chr1,length={CONTIG_LENGTH}>")?;
        writeln!(out, "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")?;
        let step = (CONTIG_LENGTH as u64 - 2) / records.max(1);
        for i in 0..records {
            let pos = 1 + i * step + rng.next() % step.max(1);
            let reference = contig[(pos - 1) as usize];
            let alternative = if reference == b'A' { 'C' } else { 'A' };
            writeln!(out, "chr1\t{pos}\tv{i}\t{}\t{alternative}\t.\tPASS\tDP={}", reference as char, i % 97)?;
        }
        out.into_inner().map_err(|e| e.into_error())?.finish()?;
    }
    let size = std::fs::metadata(&path)?.len();
    println!("wrote {records} records ({:.1} MB gzip) in {:.2?}", size as f64 / 1e6, started.elapsed());

    let source = InMemorySource::new(vec![("chr1".to_owned(), contig)]);

    let started = Instant::now();
    let counted = count_records(&path)?;
    report("count_records", counted, started);
    assert_eq!(counted, records);

    let started = Instant::now();
    let mut read = 0u64;
    for variant in VcfReader::open(&path)? {
        variant?;
        read += 1;
    }
    report("VcfReader", read, started);

    let started = Instant::now();
    let (mut scored, mut checksum) = (0u64, 0u64);
    for variant in VcfReader::open(&path)? {
        let variant = variant?;
        let windows = variant_windows(&source, &variant, window).map_err(|r| format!("{variant:?}: {r}"))?;
        // A check inside the timed loop keeps the work honest.
        let centre = window / 2;
        assert_eq!(windows.reference[centre], variant.reference.as_bytes()[0]);
        assert_eq!(windows.alternative[centre], variant.alternative.as_bytes()[0]);
        checksum = checksum.wrapping_add(u64::from(windows.reference[0]) + u64::from(windows.alternative[window - 1]));
        scored += 1;
    }
    report(&format!("VcfReader + variant_windows({window})"), scored, started);
    println!("checksum {checksum}");
    Ok(())
}

/// Print a throughput line.
fn report(what: &str, records: u64, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    println!("{what:<40} {records:>9} records in {seconds:6.2} s = {:>10.0} records/s", records as f64 / seconds);
}
