//! Comparing motifs with the built-in JASPAR 2024 database.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use omix_motif::{
    CompareOptions, Comparer, Motif, MotifError, MotifMatch, Scoring, Similarity, Strand, frequency_matrix, jaspar2024,
    read_meme, reverse_complement_motif,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// ETS-family names in JASPAR 2024 (GGAA core).
const ETS: [&str; 16] = [
    "GABPA", "ELK", "ETV", "ELF", "ETS", "FLI1", "ERG", "FEV", "EHF", "SPI", "ERF", "ETV", "Elf", "Erg", "Spi", "EWSR1",
];

fn is_ets(m: &MotifMatch) -> bool {
    m.target_name.as_deref().is_some_and(|name| ETS.iter().any(|prefix| name.starts_with(prefix)))
}

/// A small deterministic generator (SplitMix64) for test data.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A random motif: each column a random point of the simplex (flat Dirichlet).
fn random_motif(id: &str, width: usize, rng: &mut SplitMix) -> Motif {
    let rows = (0..width).map(|_| (0..4).map(|_| -(1.0 - rng.uniform()).ln()).collect()).collect::<Vec<Vec<f64>>>();
    Motif::new(id, frequency_matrix(&rows, 0.0))
}

fn gabpa() -> Result<Motif, Box<dyn std::error::Error>> {
    let database = jaspar2024();
    Ok(database.motifs.iter().find(|m| m.id.starts_with("MA0062")).ok_or("GABPA (MA0062) is in JASPAR 2024")?.clone())
}

fn check_statistics(matches: &[MotifMatch], database_size: usize) {
    assert_eq!(matches.len(), database_size);
    for pair in matches.windows(2) {
        assert!(pair[0].p_value <= pair[1].p_value, "sorted by p-value");
        assert!(pair[0].q_value <= pair[1].q_value + 1e-15, "q-values follow p-values");
    }
    for m in matches {
        assert!((0.0..=1.0).contains(&m.p_value), "{m:?}");
        assert!((0.0..=1.0).contains(&m.q_value), "{m:?}");
        assert!(m.q_value >= m.p_value * (1.0 - 1e-12), "{m:?}");
        assert!((m.e_value - m.p_value * database_size as f64).abs() <= 1e-12 * m.e_value.max(1.0), "{m:?}");
        assert!(m.overlap >= 1);
    }
    let mut indices: Vec<usize> = matches.iter().map(|m| m.target_index).collect();
    indices.sort_unstable();
    assert!(indices.iter().enumerate().all(|(i, &t)| i == t), "one match per database motif");
}

#[test]
fn a_database_motif_finds_itself_on_both_strands() -> TestResult {
    let database = jaspar2024();
    let comparer = Comparer::new(&database, CompareOptions::default())?;
    assert_eq!(comparer.database_len(), 879);
    let query = gabpa()?;
    let matches = comparer.compare(&query)?;
    check_statistics(&matches, 879);
    let best = &matches[0];
    assert_eq!(best.target_id, query.id);
    assert_eq!((best.strand, best.offset, best.overlap), (Strand::Forward, 0, query.width()));
    assert!(best.p_value < 1e-6 && best.e_value < 1e-3, "{best:?}");
    assert!(matches[..5].iter().filter(|m| is_ets(m)).count() >= 4, "{:?}", &matches[..5]);

    let reversed = reverse_complement_motif(&query);
    let matches = comparer.compare(&reversed)?;
    let best = &matches[0];
    assert_eq!(best.target_id, query.id);
    assert_eq!((best.strand, best.offset), (Strand::Reverse, 0));
    assert!(best.e_value < 1e-3, "{best:?}");
    Ok(())
}

#[test]
fn every_tenth_database_motif_finds_itself() -> TestResult {
    let database = jaspar2024();
    let comparer = Comparer::new(&database, CompareOptions::default())?;
    let queries: Vec<Motif> = database.motifs.iter().step_by(10).cloned().collect();
    let results = comparer.compare_all(&queries)?;
    for (query, matches) in queries.iter().zip(&results) {
        let own = matches.iter().position(|m| m.target_id == query.id).ok_or("own match")?;
        assert_eq!(own, 0, "{}: {:?}", query.id, matches[own]);
        // Short motifs (an E-box is 6 columns) cannot reach tiny p-values with Pearson scores.
        if query.width() >= 8 {
            assert!(matches[own].e_value < 0.05, "{}: {:?}", query.id, matches[own]);
        }
    }
    Ok(())
}

#[test]
fn uninformative_and_random_motifs_match_nothing() -> TestResult {
    let database = jaspar2024();
    let comparer = Comparer::new(&database, CompareOptions::default())?;
    let uniform = Motif::new("uniform", vec![vec![0.25; 4]; 12]);
    let matches = comparer.compare(&uniform)?;
    check_statistics(&matches, 879);
    assert!(matches.iter().all(|m| m.p_value == 1.0 && m.e_value == 879.0), "{:?}", &matches[0]);

    let mut rng = SplitMix(7);
    let queries: Vec<Motif> = (0..40).map(|i| random_motif(&format!("random{i}"), 10, &mut rng)).collect();
    let results = comparer.compare_all(&queries)?;
    let significant = results.iter().filter(|matches| matches[0].e_value < 0.05).count();
    let best_e: Vec<f64> = results.iter().map(|m| m[0].e_value).collect();
    // About 5% of null queries may reach E < 0.05 by chance.
    assert!(significant <= 4, "{significant} of 40 random motifs with E < 0.05: {best_e:?}");
    for matches in &results {
        check_statistics(matches, 879);
    }
    Ok(())
}

/// Counts of 100 noisy `CCGGAAGT` sites (each base replaced by a random one with probability 0.2).
fn noisy_ets_counts(rng: &mut SplitMix) -> Vec<Vec<f64>> {
    let consensus = b"CCGGAAGT";
    let mut counts = vec![vec![0.0; 4]; consensus.len()];
    for _ in 0..100 {
        for (position, base) in consensus.iter().enumerate() {
            let letter = if rng.uniform() < 0.2 {
                (rng.next() % 4) as usize
            } else {
                b"ACGT".iter().position(|b| b == base).unwrap_or(0)
            };
            counts[position][letter] += 1.0;
        }
    }
    counts
}

#[test]
fn an_ets_site_consensus_matches_the_ets_family() -> TestResult {
    let database = jaspar2024();
    let comparer = Comparer::new(&database, CompareOptions::default())?;
    let mut rng = SplitMix(42);
    let query = Motif::new("ets_sites", frequency_matrix(&noisy_ets_counts(&mut rng), 1.0));
    let matches = comparer.compare(&query)?;
    check_statistics(&matches, 879);
    assert!(matches[0].e_value < 0.05, "{:?}", matches[0]);
    assert!(matches[..3].iter().any(is_ets), "{:?}", &matches[..3]);
    let ets_in_top10 = matches[..10].iter().filter(|m| is_ets(m)).count();
    assert!(ets_in_top10 >= 5, "{:?}", &matches[..10]);

    // The reverse strand of the sites (ACTTCCGG) matches the same family on the other strand.
    let reversed = comparer.compare(&reverse_complement_motif(&query))?;
    assert_eq!(reversed[0].target_id, matches[0].target_id);
    assert_ne!(reversed[0].strand, matches[0].strand);
    Ok(())
}

#[test]
fn truncated_and_padded_motifs_still_match() -> TestResult {
    let database = jaspar2024();
    let comparer = Comparer::new(&database, CompareOptions::default())?;
    let query = gabpa()?;
    let width = query.width();
    let mut truncated = query.clone();
    truncated.id = "truncated".to_owned();
    truncated.probabilities = query.probabilities[1..width - 1].to_vec();
    let matches = comparer.compare(&truncated)?;
    let own = matches.iter().position(|m| m.target_id == query.id).ok_or("own match")?;
    // The 8-column core is shared by the ETS family: GABPA is among the first, not always first.
    assert!(own < 5 && matches[own].e_value < 0.05, "rank {own}: {:?}", matches[own]);
    assert!(is_ets(&matches[0]), "{:?}", matches[0]);
    assert_eq!(matches[own].offset, -1, "target column 1 faces query column 0");
    assert_eq!(matches[own].overlap, width - 2);

    let mut padded = query.clone();
    padded.id = "padded".to_owned();
    padded.probabilities = [vec![vec![0.25; 4]; 3], query.probabilities.clone(), vec![vec![0.25; 4]; 3]].concat();
    let matches = comparer.compare(&padded)?;
    let own = matches.iter().position(|m| m.target_id == query.id).ok_or("own match")?;
    assert!(own < 3 && matches[own].e_value < 0.05, "rank {own}: {:?}", matches[own]);
    assert_eq!((matches[own].offset, matches[own].strand), (3, Strand::Forward));
    Ok(())
}

#[test]
fn euclidean_and_single_strand_options() -> TestResult {
    let database = jaspar2024();
    let query = gabpa()?;
    let options =
        CompareOptions { similarity: Similarity::Euclidean, scoring: Scoring::Incomplete, ..CompareOptions::default() };
    let matches = Comparer::new(&database, options)?.compare(&query)?;
    check_statistics(&matches, 879);
    assert_eq!(matches[0].target_id, query.id);
    assert!(matches[0].score.abs() < 1e-9, "identical columns are at distance 0");
    // Complete scores are centred on each column's null median: a perfect match scores above 0.
    let options = CompareOptions { similarity: Similarity::Euclidean, ..CompareOptions::default() };
    let matches = Comparer::new(&database, options)?.compare(&query)?;
    assert_eq!((matches[0].target_id.as_str(), matches[0].overlap), (query.id.as_str(), query.probabilities.len()));
    assert!(matches[0].score > 0.0);

    let forward_only = CompareOptions { both_strands: false, ..CompareOptions::default() };
    let comparer = Comparer::new(&database, forward_only)?;
    let matches = comparer.compare(&reverse_complement_motif(&query))?;
    assert!(matches.iter().all(|m| m.strand == Strand::Forward));
    Ok(())
}

#[test]
fn bad_input_is_an_error() -> TestResult {
    let database = jaspar2024();
    let comparer = Comparer::new(&database, CompareOptions::default())?;
    let empty = Motif::new("empty", Vec::new());
    assert!(matches!(comparer.compare(&empty), Err(MotifError::EmptyMotif { .. })));
    let protein = Motif::new("protein", vec![vec![0.05; 20]]);
    assert!(matches!(comparer.compare(&protein), Err(MotifError::AlphabetMismatch { expected: 4, found: 20, .. })));
    let nan = Motif::new("nan", vec![vec![0.25; 4], vec![f64::NAN, 0.0, 0.0, 1.0]]);
    let Err(error) = comparer.compare(&nan) else {
        return Err("a NaN probability must be rejected".into());
    };
    assert!(matches!(error, MotifError::InvalidProbability { position: 2, .. }), "{error}");
    assert!(error.to_string().contains("nan"), "{error}");
    let zero = Motif::new("zero", vec![vec![0.0; 4]]);
    assert!(matches!(comparer.compare(&zero), Err(MotifError::InvalidProbability { .. })));
    let mut no_motifs = database.clone();
    no_motifs.motifs.clear();
    assert!(matches!(Comparer::new(&no_motifs, CompareOptions::default()), Err(MotifError::EmptyDatabase)));
    let options = CompareOptions { min_overlap: 0, ..CompareOptions::default() };
    assert!(matches!(Comparer::new(&database, options), Err(MotifError::InvalidOption { .. })));
    Ok(())
}

/// Complete scores with the Euclidean distance equal memelite's Tomtom (a faithful Tomtom
/// reimplementation) on 10 first-layer filters of a GABPA DeepBind-style run against JASPAR:
/// the fixture holds memelite 1.0's p-values for all 8,790 pairs
/// (`bench/tomtom_parity.py tests/data/gabpa_filters.meme --write-fixture ...`).
#[test]
fn complete_euclidean_scores_match_memelite() -> TestResult {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut expected: HashMap<(String, String), f64> = HashMap::new();
    for line in omix_io::open(&data.join("gabpa_filters_memelite.tsv.gz"))?.lines() {
        let line = line?;
        let fields: Vec<&str> = line.split('\t').collect();
        if line.starts_with('#') || fields[0] == "query" {
            continue;
        }
        expected.insert((fields[0].to_owned(), fields[1].to_owned()), fields[2].parse()?);
    }
    let queries = read_meme(&data.join("gabpa_filters.meme"))?;
    let database = jaspar2024();
    assert_eq!(expected.len(), queries.motifs.len() * database.motifs.len());
    let options =
        CompareOptions { scoring: Scoring::Complete, similarity: Similarity::Euclidean, ..CompareOptions::default() };
    let comparer = Comparer::new(&database, options)?;
    let mut differences = Vec::new();
    for (query, matches) in queries.motifs.iter().zip(comparer.compare_all(&queries.motifs)?) {
        check_statistics(&matches, database.motifs.len());
        let theirs = |target: &str| expected.get(&(query.id.clone(), target.to_owned())).copied().unwrap_or(f64::NAN);
        let best_theirs = database
            .motifs
            .iter()
            .map(|m| (theirs(&m.id), m.id.clone()))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .ok_or("an empty database")?;
        assert_eq!(matches[0].target_id, best_theirs.1, "{}: best match", query.id);
        for m in &matches {
            let p = theirs(&m.target_id);
            assert!(p.is_finite(), "{} vs {} missing from the fixture", query.id, m.target_id);
            if m.p_value < 1e-15 && p < 1e-15 {
                continue; // below memelite's 1 - CDF precision
            }
            differences.push((m.p_value.max(1e-300).log10() - p.max(1e-300).log10()).abs());
        }
    }
    differences.sort_by(f64::total_cmp);
    let median = differences[differences.len() / 2];
    let largest = differences[differences.len() - 1];
    assert!(median < 0.01, "median |log10 p difference| {median}");
    assert!(largest < 0.3, "largest |log10 p difference| {largest}");
    Ok(())
}
