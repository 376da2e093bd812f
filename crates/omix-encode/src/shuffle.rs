//! Dinucleotide-preserving shuffle (Altschul & Erickson 1985).

use rand::Rng;
use rand::seq::SliceRandom;

/// Marker for a byte that is not (yet) a vertex.
const NO_VERTEX: u16 = u16::MAX;

/// Dinucleotide-preserving shuffle, uniform over all sequences with the same dinucleotides.
///
/// Altschul–Erickson Eulerian-path method (as in `fasta-shuffle-letters -kmer 2` and
/// uShuffle): the symbols are the vertices and the dinucleotides the edges of a
/// multigraph; a uniformly random arborescence of "last exit" edges towards the final
/// symbol is drawn with Wilson's loop-erased random walks, the remaining out-edges of
/// every vertex are shuffled, and the Eulerian path from the first symbol is read off.
///
/// The output is upper case and has exactly the dinucleotide counts of the upper-cased
/// input, its length, and its first and last symbol. Any bytes may occur (N included).
/// Only `rng` is used, so a seeded generator gives a reproducible shuffle. Sequences
/// shorter than 3 are returned unchanged.
pub fn dinucleotide_shuffle<R: Rng + ?Sized>(sequence: &[u8], rng: &mut R) -> Vec<u8> {
    let n = sequence.len();
    if n < 3 {
        return sequence.to_vec();
    }

    // Vertices: distinct upper-cased bytes in order of first appearance (at most 256).
    let mut vertex_of = [NO_VERTEX; 256];
    let mut symbol_of: Vec<u8> = Vec::new();
    let mut path: Vec<u8> = Vec::with_capacity(n);
    for &b in sequence {
        let upper = b.to_ascii_uppercase();
        let slot = &mut vertex_of[usize::from(upper)];
        if *slot == NO_VERTEX {
            *slot = symbol_of.len() as u16;
            symbol_of.push(upper);
        }
        // At most 256 distinct bytes, so vertex ids fit in a u8.
        path.push(*slot as u8);
    }
    let k = symbol_of.len();

    // Out-edges in compressed rows: the targets of vertex v are targets[start[v]..start[v + 1]].
    let mut start = vec![0usize; k + 1];
    for pair in path.windows(2) {
        start[usize::from(pair[0]) + 1] += 1;
    }
    for v in 0..k {
        start[v + 1] += start[v];
    }
    let mut fill = start[..k].to_vec();
    let mut targets = vec![0u8; n - 1];
    for pair in path.windows(2) {
        let from = usize::from(pair[0]);
        targets[fill[from]] = pair[1];
        fill[from] += 1;
    }

    // Wilson's algorithm: uniform random arborescence towards the last symbol, with one
    // chosen out-edge (`last_edge`) per vertex. Every vertex other than the root occurs
    // before the final position, so it has at least one out-edge, and every vertex
    // reaches the root along the original path, so the walks terminate.
    let root = usize::from(path[n - 1]);
    let mut in_tree = vec![false; k];
    in_tree[root] = true;
    let mut last_edge = vec![0usize; k];
    for v in 0..k {
        let mut u = v;
        while !in_tree[u] {
            let edge = rng.random_range(start[u]..start[u + 1]);
            last_edge[u] = edge;
            u = usize::from(targets[edge]);
        }
        let mut u = v;
        while !in_tree[u] {
            in_tree[u] = true;
            u = usize::from(targets[last_edge[u]]);
        }
    }

    // Fix each tree edge as the last exit of its vertex and shuffle the other exits.
    for v in 0..k {
        let edges = &mut targets[start[v]..start[v + 1]];
        if v == root {
            edges.shuffle(rng);
        } else if let Some(last) = edges.len().checked_sub(1) {
            edges.swap(last_edge[v] - start[v], last);
            edges[..last].shuffle(rng);
        }
    }

    // Walk the Eulerian path from the first symbol.
    let mut next = start;
    let mut out = Vec::with_capacity(n);
    let mut u = usize::from(path[0]);
    out.push(symbol_of[u]);
    for _ in 1..n {
        let edge = next[u];
        // `fill[u]` now marks the end of u's out-edges.
        debug_assert!(edge < fill[u], "not an Eulerian path");
        next[u] += 1;
        u = usize::from(targets[edge]);
        out.push(symbol_of[u]);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn dinucleotides(sequence: &[u8]) -> HashMap<[u8; 2], usize> {
        let mut counts = HashMap::new();
        for pair in sequence.windows(2) {
            let key = [pair[0].to_ascii_uppercase(), pair[1].to_ascii_uppercase()];
            *counts.entry(key).or_insert(0) += 1;
        }
        counts
    }

    #[test]
    fn short_sequences_are_unchanged() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(dinucleotide_shuffle(b"", &mut rng), b"");
        assert_eq!(dinucleotide_shuffle(b"a", &mut rng), b"a");
        assert_eq!(dinucleotide_shuffle(b"aC", &mut rng), b"aC");
    }

    #[test]
    fn preserves_counts_and_ends_with_mixed_case_and_n() {
        let input = b"acgtNNacgTTGCAnacgtacgggcatCATNNgt";
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        for _ in 0..100 {
            let out = dinucleotide_shuffle(input, &mut rng);
            assert_eq!(out.len(), input.len());
            assert_eq!(dinucleotides(&out), dinucleotides(input));
            assert_eq!(out[0], b'A');
            assert_eq!(out[out.len() - 1], b'T');
            assert!(out.iter().all(|b| !b.is_ascii_lowercase()));
        }
    }

    #[test]
    fn many_distinct_bytes() {
        let input: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).chain(0..=255u8).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let upper: Vec<u8> = input.iter().map(u8::to_ascii_uppercase).collect();
        let out = dinucleotide_shuffle(&input, &mut rng);
        assert_eq!(dinucleotides(&out), dinucleotides(&upper));
        assert_eq!((out[0], out[out.len() - 1]), (upper[0], upper[upper.len() - 1]));
    }

    /// All sequences of the input's length, first symbol and dinucleotide counts.
    fn enumerate_equivalents(input: &[u8]) -> Vec<Vec<u8>> {
        let target = dinucleotides(input);
        let letters = b"ACGT";
        let mut found = Vec::new();
        let mut current = vec![input[0]];
        fn extend(
            current: &mut Vec<u8>,
            n: usize,
            letters: &[u8],
            target: &HashMap<[u8; 2], usize>,
            found: &mut Vec<Vec<u8>>,
        ) {
            if current.len() == n {
                if dinucleotides(current) == *target {
                    found.push(current.clone());
                }
                return;
            }
            for &l in letters {
                let last = current[current.len() - 1];
                let used = current.windows(2).filter(|w| w[0] == last && w[1] == l).count();
                if used < target.get(&[last, l]).copied().unwrap_or(0) {
                    current.push(l);
                    extend(current, n, letters, target, found);
                    current.pop();
                }
            }
        }
        extend(&mut current, input.len(), letters, &target, &mut found);
        found
    }

    #[test]
    fn shuffle_is_uniform_over_eulerian_paths() {
        let input = b"AACGTTGCAAGTACCA";
        let equivalents = enumerate_equivalents(input);
        let classes = equivalents.len();
        assert!(classes > 50, "test input has too few equivalents: {classes}");
        let index: HashMap<Vec<u8>, usize> = equivalents.into_iter().enumerate().map(|(i, s)| (s, i)).collect();
        let mut counts = vec![0usize; classes];
        let mut rng = ChaCha8Rng::seed_from_u64(2024);
        let draws = 200 * classes;
        for _ in 0..draws {
            let out = dinucleotide_shuffle(input, &mut rng);
            match index.get(&out) {
                Some(&i) => counts[i] += 1,
                None => panic!("shuffle produced a non-equivalent sequence"),
            }
        }
        // Chi-square goodness of fit against the uniform distribution.
        let expected = draws as f64 / classes as f64;
        let chi2: f64 = counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
        let dof = (classes - 1) as f64;
        // Roughly a 5-sigma bound (the chi-square variance is 2 dof).
        assert!(chi2 < dof + 5.0 * (2.0 * dof).sqrt(), "chi2 {chi2} for {dof} dof");
        assert!(counts.iter().all(|&c| c > 0));
    }
}
