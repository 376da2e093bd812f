//! Reference access: fetch against a naive reading of the FASTA, index creation, bgzip, threads, contig checks.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use noodles_bgzf as bgzf;
use omix_genome::{GenomeError, Reference, check_contigs};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Random bases, mixed case, with a run of N.
fn random_sequence(rng: &mut ChaCha8Rng, length: usize) -> Vec<u8> {
    let mut sequence: Vec<u8> = (0..length).map(|_| b"ACGTacgt"[rng.random_range(0..8)]).collect();
    if length > 40 {
        let start = rng.random_range(0..length - 20);
        sequence[start..start + 20].fill(b'N');
    }
    sequence
}

/// FASTA text of the records, wrapped at `width` with `line_end`.
fn fasta_text(records: &[(String, Vec<u8>)], width: usize, line_end: &str) -> Vec<u8> {
    let mut text = Vec::new();
    for (name, sequence) in records {
        text.extend_from_slice(format!(">{name} some description{line_end}").as_bytes());
        for line in sequence.chunks(width) {
            text.extend_from_slice(line);
            text.extend_from_slice(line_end.as_bytes());
        }
    }
    text
}

/// The records of a FASTA text read the simple way: names and upper-cased bases.
fn naive_read(text: &[u8]) -> HashMap<String, Vec<u8>> {
    let mut records = HashMap::new();
    let mut current: Option<(String, Vec<u8>)> = None;
    for line in text.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(header) = line.strip_prefix(b">") {
            records.extend(current.take());
            let name = String::from_utf8_lossy(header).split_whitespace().next().unwrap_or("").to_owned();
            current = Some((name, Vec::new()));
        } else if let Some((_, sequence)) = current.as_mut() {
            sequence.extend(line.iter().map(u8::to_ascii_uppercase));
        }
    }
    records.extend(current);
    records
}

/// The bases of [start, end) from a naive record, N outside it.
fn naive_fetch(sequence: &[u8], start: i64, end: i64) -> Vec<u8> {
    (start..end).map(|i| usize::try_from(i).ok().and_then(|i| sequence.get(i).copied()).unwrap_or(b'N')).collect()
}

/// Three contigs of awkward lengths (one shorter than a line, one a multiple of the width).
fn sample_records(rng: &mut ChaCha8Rng) -> Vec<(String, Vec<u8>)> {
    vec![
        ("chr1".to_owned(), random_sequence(rng, 1003)),
        ("chr2".to_owned(), random_sequence(rng, 7)),
        ("chrX".to_owned(), random_sequence(rng, 600)),
    ]
}

/// Compare many random fetches (inside, across line breaks, off both ends) with the naive reading.
fn check_random_fetches(reference: &Reference, text: &[u8], rng: &mut ChaCha8Rng) -> TestResult {
    let naive = naive_read(text);
    assert_eq!(reference.contigs().len(), naive.len());
    for contig in reference.contigs() {
        let sequence = &naive[&contig.name];
        assert_eq!(contig.length, sequence.len() as u64, "{}", contig.name);
        let length = sequence.len() as i64;
        assert!(reference.fetch(&contig.name, 0, length)? == *sequence, "{} differs", contig.name);
        for _ in 0..300 {
            let start = rng.random_range(-30..length + 30);
            let end = start + rng.random_range(0..200);
            let fetched = reference.fetch(&contig.name, start, end)?;
            assert!(fetched == naive_fetch(sequence, start, end), "{}:[{start}, {end}) differs", contig.name);
        }
        // Wholly before and after the contig.
        assert_eq!(reference.fetch(&contig.name, -10, -2)?, b"NNNNNNNN");
        assert_eq!(reference.fetch(&contig.name, length + 5, length + 8)?, b"NNN");
        assert_eq!(reference.fetch(&contig.name, 3, 3)?, b"");
    }
    Ok(())
}

/// The file called `name` somewhere under the cache folder.
fn cached(cache: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(cache).ok()?.flatten() {
        let path = entry.path().join(name);
        if path.is_file() {
            return Some(path);
        }
    }
    None
}

/// Open with a log that collects its lines.
fn open_logged(path: &Path, cache: &Path) -> Result<(Reference, Vec<String>), GenomeError> {
    let mut log = Vec::new();
    let reference = Reference::open_with_index_cache(path, cache, &mut |line: &str| log.push(line.to_owned()))?;
    Ok((reference, log))
}

#[test]
fn fetch_matches_naive_reading_and_fai_is_created() -> TestResult {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let dir = tempfile::tempdir()?;
    let cache = dir.path().join("cache");
    for (width, line_end) in [(60, "\n"), (13, "\r\n"), (1, "\n"), (5000, "\n")] {
        let text = fasta_text(&sample_records(&mut rng), width, line_end);
        let path = dir.path().join(format!("genome_{width}.fa"));
        std::fs::write(&path, &text)?;
        let (reference, log) = open_logged(&path, &cache)?;
        assert_eq!(log.len(), 1, "{log:?}");
        assert!(
            log[0].contains("FASTA index") && log[0].contains("in memory") && log[0].contains("samtools faidx"),
            "{log:?}"
        );
        // Nothing is written next to the FASTA; the index is in omix's cache.
        let fai = PathBuf::from(format!("{}.fai", path.display()));
        assert!(!fai.exists());
        assert!(cached(&cache, &format!("genome_{width}.fa.fai")).is_some());
        check_random_fetches(&reference, &text, &mut rng)?;
        assert_eq!(reference.path(), path);
        assert_eq!(reference.contig_length("chr2"), Some(7));
        assert_eq!(reference.contig_length("chr3"), None);

        // Opened again: the index is reused, nothing is logged.
        let (again, log) = open_logged(&path, &cache)?;
        assert!(log.is_empty(), "{log:?}");
        assert_eq!(again.contigs(), reference.contigs());
    }
    Ok(())
}

#[test]
fn fetch_agrees_with_noodles_indexed_reader() -> TestResult {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("genome.fa");
    std::fs::write(&path, fasta_text(&sample_records(&mut rng), 50, "\n"))?;
    let reference = Reference::open_with_index_cache(&path, &dir.path().join("cache"), &mut |_: &str| {})?;
    // Our .fai is the one noodles' own indexer writes.
    let ours = noodles_fasta::fai::fs::read(cached(&dir.path().join("cache"), "genome.fa.fai").ok_or("not cached")?)?;
    assert_eq!(ours, noodles_fasta::fs::index(&path)?);
    // noodles' reader reads the index next to the FASTA, as `samtools faidx` would write it.
    noodles_fasta::fai::fs::write(dir.path().join("genome.fa.fai"), &ours)?;
    let mut reader = noodles_fasta::io::indexed_reader::Builder::default().build_from_path(&path)?;
    for contig in reference.contigs() {
        for _ in 0..50 {
            let start = rng.random_range(0..contig.length);
            let end = rng.random_range(start + 1..=contig.length);
            let region = noodles_core::Region::new(
                contig.name.as_str(),
                noodles_core::Position::try_from(start as usize + 1)?..=noodles_core::Position::try_from(end as usize)?,
            );
            let record = reader.query(&region)?;
            let expected = record.sequence().as_ref().to_ascii_uppercase();
            assert_eq!(reference.fetch(&contig.name, start as i64, end as i64)?, expected);
        }
    }
    Ok(())
}

#[test]
fn bgzip_fasta_gets_fai_and_gzi() -> TestResult {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let dir = tempfile::tempdir()?;
    // Long enough to span several BGZF blocks (64 KiB each).
    let records = vec![
        ("chr1".to_owned(), random_sequence(&mut rng, 300_000)),
        ("chr2".to_owned(), random_sequence(&mut rng, 999)),
        ("chr3".to_owned(), random_sequence(&mut rng, 80_000)),
    ];
    let text = fasta_text(&records, 70, "\n");
    let path = dir.path().join("genome.fa.gz");
    let mut writer = bgzf::io::Writer::new(std::fs::File::create(&path)?);
    writer.write_all(&text)?;
    writer.finish()?;

    let (reference, log) = open_logged(&path, &dir.path().join("cache"))?;
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log.iter().any(|l| l.contains("FASTA index") && l.contains("genome.fa.gz.fai")), "{log:?}");
    assert!(log.iter().any(|l| l.contains("bgzip index") && l.contains("genome.fa.gz.gzi")), "{log:?}");
    assert!(!dir.path().join("genome.fa.gz.gzi").exists() && !dir.path().join("genome.fa.gz.fai").exists());
    check_random_fetches(&reference, &text, &mut rng)?;

    // Our .gzi agrees with noodles' reader of it: reading through noodles' indexed FASTA reader gives the same bases.
    for name in ["genome.fa.gz.fai", "genome.fa.gz.gzi"] {
        std::fs::copy(cached(&dir.path().join("cache"), name).ok_or("not cached")?, dir.path().join(name))?;
    }
    let mut reader = noodles_fasta::io::indexed_reader::Builder::default().build_from_path(&path)?;
    let region: noodles_core::Region = "chr3:70000-70100".parse()?;
    let record = reader.query(&region)?;
    assert_eq!(reference.fetch("chr3", 69_999, 70_100)?, record.sequence().as_ref().to_ascii_uppercase());

    let (_, log) = open_logged(&path, &dir.path().join("cache"))?;
    assert!(log.is_empty(), "{log:?}");

    // Sequential windows (read from the held block, then the next one) match too.
    let naive = naive_read(&text);
    for window in omix_genome::tiles(&reference, None, 1000, 700) {
        let expected = naive_fetch(&naive[&window.chrom], window.start, window.end);
        assert!(reference.fetch(&window.chrom, window.start, window.end)? == expected, "{window} differs");
    }

    // A coarse .gzi (every other block) of the user's, next to the file, still finds every base.
    let gzi_path = dir.path().join("genome.fa.gz.gzi");
    let full = noodles_bgzf::gzi::fs::read(cached(&dir.path().join("cache"), "genome.fa.gz.gzi").ok_or("no gzi")?)?;
    assert!(full.as_ref().len() > 4, "{} blocks", full.as_ref().len());
    let coarse: Vec<(u64, u64)> = full.as_ref().iter().step_by(2).copied().collect();
    noodles_bgzf::gzi::fs::write(&gzi_path, &noodles_bgzf::gzi::Index::from(coarse))?;
    let (coarse_reference, log) = open_logged(&path, &dir.path().join("cache"))?;
    assert!(log.is_empty(), "{log:?}");
    check_random_fetches(&coarse_reference, &text, &mut rng)?;
    Ok(())
}

#[test]
fn read_only_folder_puts_the_index_in_the_cache() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    std::fs::create_dir(&data)?;
    let path = data.join("genome.fa");
    let text = fasta_text(&sample_records(&mut rng), 60, "\n");
    std::fs::write(&path, &text)?;
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555))?;
    let cache = dir.path().join("cache");
    let result = open_logged(&path, &cache);
    let entries = std::fs::read_dir(&data)?.count();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755))?;
    let (reference, log) = result?;
    assert_eq!(entries, 1, "nothing may be written into a read-only folder");
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].contains(&cache.display().to_string()), "{log:?}");
    check_random_fetches(&reference, &text, &mut rng)?;
    // The cached index is found again.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555))?;
    let again = open_logged(&path, &cache);
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755))?;
    assert!(again?.1.is_empty());
    Ok(())
}

#[test]
fn stale_index_is_rebuilt() -> TestResult {
    let dir = tempfile::tempdir()?;
    let cache = dir.path().join("cache");
    let path = dir.path().join("genome.fa");
    std::fs::write(&path, ">a\nACGT\n")?;
    let fai = dir.path().join("genome.fa.fai");
    std::fs::write(&fai, "a\t4\t3\t4\t5\n")?;
    open_logged(&path, &cache)?;
    std::fs::write(&path, ">a\nACGTTT\n>b\nGG\n")?;
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&fai)?.set_modified(old)?;
    let (reference, log) = open_logged(&path, &cache)?;
    assert!(log.len() == 1 && log[0].contains("older than the FASTA"), "{log:?}");
    assert_eq!(reference.fetch("a", 0, 6)?, b"ACGTTT");
    assert_eq!(reference.fetch("b", 0, 2)?, b"GG");
    // The user's stale index is left as it was.
    assert_eq!(std::fs::read_to_string(&fai)?, "a\t4\t3\t4\t5\n");
    Ok(())
}

#[test]
fn index_of_another_file_is_an_error() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("genome.fa");
    std::fs::write(&path, ">a\nACGT\n")?;
    // A fresh-looking index that claims more bases than the file holds.
    std::fs::write(dir.path().join("genome.fa.fai"), "a\t400\t3\t4\t5\n")?;
    let Err(e) = Reference::open_with_index_cache(&path, &dir.path().join("cache"), &mut |_: &str| {}) else {
        return Err("an index of another file must be refused".into());
    };
    assert!(matches!(e, GenomeError::BadIndex { .. }), "{e}");
    assert!(e.to_string().contains("genome.fa.fai") && e.to_string().contains("samtools faidx"), "{e}");
    for garbage in ["a\t18446744073709551615\t3\t1\t18446744073709551615\n", "", "a\tx\t3\t4\t5\n"] {
        std::fs::write(dir.path().join("genome.fa.fai"), garbage)?;
        let Err(e) = Reference::open_with_index_cache(&path, &dir.path().join("cache"), &mut |_: &str| {}) else {
            return Err(format!("the index {garbage:?} must be refused").into());
        };
        assert!(matches!(e, GenomeError::BadIndex { .. }), "{e}");
    }
    Ok(())
}

/// Open `text` as `lie.fa` with `fai` next to it; the error's text.
fn lying_index(dir: &Path, text: &[u8], fai: &str) -> Result<String, Box<dyn std::error::Error>> {
    let path = dir.join("lie.fa");
    std::fs::write(&path, text)?;
    std::fs::write(dir.join("lie.fa.fai"), fai)?;
    match Reference::open_with_index_cache(&path, &dir.join("cache"), &mut |_: &str| {}) {
        Ok(_) => Err(format!("the index {fai:?} of {:?} must be refused", String::from_utf8_lossy(text)).into()),
        Err(e) => {
            assert!(matches!(e, GenomeError::BadIndex { .. }), "{e}");
            Ok(e.to_string())
        }
    }
}

#[test]
fn an_index_that_lies_about_its_fasta_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let fasta = b">a\nACGT\nACGT\nAC\n>b desc\nTTTT\nT\n>c\nGG\n";
    // The true index: a at 3, b at 24, c at 34.
    let truth = "a\t10\t3\t4\t5\nb\t5\t24\t4\t5\nc\t2\t34\t2\t3\n";
    let path = dir.path().join("lie.fa");
    std::fs::write(&path, fasta)?;
    std::fs::write(dir.path().join("lie.fa.fai"), truth)?;
    let reference = Reference::open_with_index_cache(&path, &dir.path().join("cache"), &mut |_: &str| {})?;
    assert_eq!(reference.fetch("b", 0, 5)?, b"TTTTT");
    let cases = [
        // a's length too long: its last bases would be b's header.
        ("a\t12\t3\t4\t5\nb\t5\t24\t4\t5\nc\t2\t34\t2\t3\n", "contig 'a'"),
        // a's length too short: its last line goes on.
        ("a\t9\t3\t4\t5\nb\t5\t24\t4\t5\nc\t2\t34\t2\t3\n", "too short"),
        // A stale index without c.
        ("a\t10\t3\t4\t5\nb\t5\t24\t4\t5\n", "more after contig 'b' than the index lists: '>c"),
        // Without b, in the middle.
        ("a\t10\t3\t4\t5\nc\t2\t34\t2\t3\n", "contig 'c' ('>b desc"),
        // b's offset one byte off.
        ("a\t10\t3\t4\t5\nb\t5\t25\t4\t5\nc\t2\t34\t2\t3\n", "contig 'b'"),
        // Names swapped.
        ("a\t10\t3\t4\t5\nc\t5\t24\t4\t5\nb\t2\t34\t2\t3\n", "names 'b'"),
        // A line width with no room for line ends, or too much.
        ("a\t10\t3\t4\t4\nb\t5\t24\t4\t5\nc\t2\t34\t2\t3\n", "no room for line ends"),
        ("a\t10\t3\t4\t9\nb\t5\t24\t4\t5\nc\t2\t34\t2\t3\n", "a line end is 1 or 2 bytes"),
        // An offset past the end of the file.
        ("a\t10\t3\t4\t5\nb\t5\t24\t4\t5\nc\t2\t3500\t2\t3\n", "contig 'c'"),
        // Overlapping contigs.
        ("a\t10\t3\t4\t5\nb\t5\t8\t4\t5\nc\t2\t34\t2\t3\n", "inside contig 'a'"),
    ];
    for (fai, expected) in cases {
        let message = lying_index(dir.path(), fasta, fai)?;
        assert!(message.contains("lie.fa.fai") && message.contains(expected), "{fai:?}: {message}");
    }
    Ok(())
}

#[test]
fn a_byte_order_mark_is_accepted() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bom.fa");
    std::fs::write(&path, b"\xef\xbb\xbf>a\nACGT\nAC\n>b\nGG\n")?;
    let (reference, _) = open_logged(&path, &dir.path().join("cache"))?;
    assert_eq!(reference.fetch("a", 0, 6)?, b"ACGTAC");
    assert_eq!(reference.fetch("b", 0, 2)?, b"GG");
    // A samtools-style index of it (offsets counting the mark) is accepted too.
    std::fs::write(dir.path().join("bom.fa.fai"), "a\t6\t6\t4\t5\nb\t2\t17\t2\t3\n")?;
    let (reference, log) = open_logged(&path, &dir.path().join("cache"))?;
    assert!(log.is_empty(), "{log:?}");
    assert_eq!(reference.fetch("a", 2, 6)?, b"GTAC");
    Ok(())
}

#[test]
fn a_cache_entry_that_disagrees_is_rebuilt() -> TestResult {
    let dir = tempfile::tempdir()?;
    let cache = dir.path().join("cache");
    let path = dir.path().join("genome.fa");
    std::fs::write(&path, ">a\nACGT\n>b\nGG\n")?;
    open_logged(&path, &cache)?;
    let entry = cached(&cache, "genome.fa.fai").ok_or("not cached")?;
    std::fs::write(&entry, "a\t4\t3\t4\t5\n")?;
    let (reference, log) = open_logged(&path, &cache)?;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(reference.fetch("b", 0, 2)?, b"GG");
    Ok(())
}

#[test]
fn unknown_contig_and_bad_interval() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("genome.fa");
    std::fs::write(&path, ">chr1\nACGT\n>chr2\nGG\n")?;
    let reference = Reference::open_with_index_cache(&path, &dir.path().join("cache"), &mut |_: &str| {})?;
    let Err(e) = reference.fetch("chr3", 0, 2) else {
        return Err("unknown contig must be an error".into());
    };
    let text = e.to_string();
    assert!(text.contains("'chr3'") && text.contains("genome.fa") && text.contains("'chr1', 'chr2'"), "{text}");
    assert!(matches!(reference.fetch("chr1", 3, 2), Err(GenomeError::InvalidInterval { .. })));
    assert!(matches!(reference.fetch("chr1", i64::MIN, i64::MAX), Err(GenomeError::TooLong { .. })));
    let limit = 4 + omix_genome::MAX_PADDING as i64;
    assert_eq!(reference.fetch("chr1", 0, limit)?.len() as i64, limit);
    assert!(matches!(reference.fetch("chr1", -1, limit), Err(GenomeError::TooLong { .. })));
    let Err(e) = Reference::open(&dir.path().join("missing.fa"), &mut |_: &str| {}) else {
        return Err("a missing file must be an error".into());
    };
    assert!(e.to_string().contains("missing.fa"), "{e}");
    Ok(())
}

#[test]
fn fetch_from_many_threads() -> TestResult {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let dir = tempfile::tempdir()?;
    let records = sample_records(&mut rng);
    let text = fasta_text(&records, 60, "\n");
    let plain = dir.path().join("genome.fa");
    std::fs::write(&plain, &text)?;
    let zipped = dir.path().join("genome.fa.bgz");
    let mut writer = bgzf::io::Writer::new(std::fs::File::create(&zipped)?);
    writer.write_all(&text)?;
    writer.finish()?;
    let naive = naive_read(&text);
    for path in [plain, zipped] {
        let reference = Reference::open_with_index_cache(&path, &dir.path().join("cache"), &mut |_: &str| {})?;
        std::thread::scope(|scope| -> TestResult {
            let handles: Vec<_> = (0..4u64)
                .map(|seed| {
                    let reference = reference.clone();
                    let naive = &naive;
                    scope.spawn(move || -> Result<(), String> {
                        let mut rng = ChaCha8Rng::seed_from_u64(100 + seed);
                        for _ in 0..2000 {
                            let contig = &reference.contigs()[rng.random_range(0..3)];
                            let start = rng.random_range(-20..contig.length as i64);
                            let end = start + rng.random_range(0..100);
                            let fetched = reference.fetch(&contig.name, start, end).map_err(|e| e.to_string())?;
                            if fetched != naive_fetch(&naive[&contig.name], start, end) {
                                return Err(format!("{}:[{start}, {end}) differs", contig.name));
                            }
                        }
                        Ok(())
                    })
                })
                .collect();
            for handle in handles {
                handle.join().map_err(|_| "a fetching thread panicked")??;
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// A reference with these contigs of length 10.
fn reference_named(dir: &Path, names: &[&str]) -> Result<Reference, GenomeError> {
    let path = dir.join("names.fa");
    let text: String = names.iter().map(|n| format!(">{n}\nACGTACGTAC\n")).collect();
    std::fs::write(&path, text).map_err(|source| GenomeError::Read { path: path.clone(), source })?;
    Reference::open_with_index_cache(&path, &dir.join("cache"), &mut |_: &str| {})
}

#[test]
fn check_contigs_names_both_sides_and_hints() -> TestResult {
    let dir = tempfile::tempdir()?;
    let reference = reference_named(dir.path(), &["chr1", "chr2", "chrX", "chrM"])?;
    let bed = Path::new("peaks.bed");
    check_contigs(bed, ["chr1", "chr2", "chr1"], &reference)?;

    let Err(e) = check_contigs(bed, ["1", "2", "1", "MT", "scaffold_7"], &reference) else {
        return Err("'1' against 'chr1' must be an error".into());
    };
    let text = e.to_string();
    for part in ["peaks.bed", "names.fa", "'1', '2', 'MT', 'scaffold_7'", "'chr1', 'chr2', 'chrX', 'chrM'"] {
        assert!(text.contains(part), "{text}\n  missing: {part}");
    }
    assert!(text.contains("3 of the 4 missing names match after adding a 'chr' prefix"), "{text}");
    assert!(text.contains("'1' -> 'chr1'") && text.contains("'MT' -> 'chrM'"), "{text}");
    let GenomeError::ContigMismatch(mismatch) = e else {
        return Err("expected a contig mismatch".into());
    };
    assert_eq!(mismatch.missing_total, 4);

    let dir = tempfile::tempdir()?;
    let reference = reference_named(dir.path(), &["1", "2", "MT"])?;
    let Err(e) = check_contigs(bed, ["chr1", "chrM"], &reference) else {
        return Err("'chr1' against '1' must be an error".into());
    };
    let text = e.to_string();
    assert!(text.contains("stripping the 'chr' prefix"), "{text}");
    assert!(text.contains("'chrM' -> 'MT'"), "{text}");

    // Same prefix style, different name for the mitochondrion.
    let Err(e) = check_contigs(bed, ["M"], &reference) else {
        return Err("'M' against 'MT' must be an error".into());
    };
    assert!(e.to_string().contains("renaming the mitochondrion ('M' -> 'MT')"), "{e}");

    // No renaming helps: no hint; many names: the first 10 and a count.
    let many: Vec<String> = (0..15).map(|i| format!("contig{i}")).collect();
    let Err(e) = check_contigs(bed, many.iter().map(String::as_str), &reference) else {
        return Err("unknown names must be an error".into());
    };
    let text = e.to_string();
    assert!(!text.contains("hint") && text.contains("and 5 more") && !text.contains("contig10'"), "{text}");
    Ok(())
}

/// Copy a shared data file into `dir` (the shared folder is read-only), or `None` when it is absent.
fn shared_copy(dir: &Path, name: &str) -> std::io::Result<Option<PathBuf>> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/genome").join(name);
    if !source.is_file() {
        eprintln!("skipping: {} is absent", source.display());
        return Ok(None);
    }
    let target = dir.join(name);
    std::fs::copy(&source, &target)?;
    Ok(Some(target))
}

#[test]
fn shared_sample_genomes_when_present() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    for name in ["sample_genome.fa", "lambda_virus.fa"] {
        let Some(path) = shared_copy(dir.path(), name)? else { continue };
        let text = std::fs::read(&path)?;
        let reference = Reference::open_with_index_cache(&path, &dir.path().join("cache"), &mut |_: &str| {})?;
        check_random_fetches(&reference, &text, &mut rng)?;
    }
    if let (Some(fasta), Some(bed)) =
        (shared_copy(dir.path(), "sample_genome.fa")?, shared_copy(dir.path(), "sample.bed")?)
    {
        let reference = Reference::open_with_index_cache(&fasta, &dir.path().join("cache"), &mut |_: &str| {})?;
        let regions = omix_genome::read_bed(&bed)?;
        check_contigs(&bed, regions.iter().map(|r| r.chrom.as_str()), &reference)?;
        assert_eq!(regions[0].strand, Some('+'));
        for region in &regions {
            let bases = reference.fetch(&region.chrom, region.start as i64, region.end as i64)?;
            assert_eq!(bases.len() as u64, region.len());
        }
    }
    Ok(())
}
