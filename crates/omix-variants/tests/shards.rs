//! End to end: shard outputs of a gzip VCF, concatenated in shard order, equal the unsharded output.

use std::io::Write;
use std::path::Path;

use omix_variants::{
    InMemorySource, ScoreRecord, Shard, TsvScoreWriter, VcfReader, VcfScoreWriter, count_records, variant_windows,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Score `shard` of the VCF at `path` with a GC-content "model"; the header only when `with_header`.
fn score(
    path: &Path,
    source: &InMemorySource,
    shard: Shard,
    with_header: bool,
) -> Result<(Vec<u8>, Vec<u8>), Box<dyn std::error::Error>> {
    let tasks = vec!["gc".to_owned(), "at".to_owned()];
    let total = count_records(path)?;
    let range = shard.range(total);
    let mut reader = VcfReader::open(path)?;
    let header = reader.header().clone();
    let (mut tsv, mut vcf) = if with_header {
        (TsvScoreWriter::new(Vec::new())?, VcfScoreWriter::new(Vec::new(), &header, &tasks)?)
    } else {
        (TsvScoreWriter::resume(Vec::new(), 0), VcfScoreWriter::resume(Vec::new(), &tasks, "OMIX", 0)?)
    };
    assert_eq!(reader.skip_records(range.start)?, range.start);
    for variant in reader.by_ref() {
        let variant = variant?;
        if variant.record >= range.end {
            break;
        }
        assert!(shard.contains(variant.record, total));
        let Ok(windows) = variant_windows(source, &variant, 9) else {
            continue;
        };
        let gc = |s: &[u8]| s.iter().filter(|b| matches!(b, b'G' | b'C')).count() as f64 / s.len() as f64;
        let reference = [gc(&windows.reference), 1.0 - gc(&windows.reference)];
        let alternative = [gc(&windows.alternative), 1.0 - gc(&windows.alternative)];
        let record = ScoreRecord { variant: &variant, tasks: &tasks, reference: &reference, alternative: &alternative };
        tsv.write(&record)?;
        vcf.write(&record)?;
    }
    Ok((tsv.finish()?, vcf.finish()?))
}

#[test]
fn concatenated_shards_equal_the_whole() -> TestResult {
    let contig: Vec<u8> = (0..200).map(|i| b"ACGTTGCA"[(i * 7 + i / 3) % 8]).collect();
    let mut text = String::from("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n");
    for i in 0..37usize {
        let pos = 3 + i * 5;
        let base = contig[pos - 1] as char;
        let alt = match i % 4 {
            0 => "A,C".to_owned(),
            1 => "<DEL>".to_owned(),
            2 => format!("{base}TT"),
            _ => "G".to_owned(),
        };
        text.push_str(&format!("chr1\t{pos}\tv{i}\t{base}\t{alt}\t.\tPASS\t.\n"));
    }
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("calls.vcf.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes())?;
    std::fs::write(&path, encoder.finish()?)?;
    assert_eq!(count_records(&path)?, 37);
    let source = InMemorySource::new(vec![("chr1".to_owned(), contig)]);

    let (whole_tsv, whole_vcf) = score(&path, &source, Shard::ALL, true)?;
    assert!(whole_tsv.len() > 1000 && whole_vcf.len() > 1000);
    for count in 1..=6 {
        let (mut tsv, mut vcf) = (Vec::new(), Vec::new());
        for index in 1..=count {
            let (part_tsv, part_vcf) = score(&path, &source, Shard::new(index, count)?, index == 1)?;
            tsv.extend(part_tsv);
            vcf.extend(part_vcf);
        }
        assert_eq!(tsv, whole_tsv, "{count} shards");
        assert_eq!(vcf, whole_vcf, "{count} shards");
    }
    Ok(())
}
