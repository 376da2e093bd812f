//! Property tests of invariants the baselines must keep whatever the input.

use omix_baseline::{
    Design, Examples, LogisticConfig, Metric, Pca, Targets, knn_accuracy_with_folds, paired_bootstrap, stratified_folds,
};
use proptest::prelude::*;

/// A small dense matrix with many exact zeros (so its CSR form is genuinely sparse).
fn sparse_looking_matrix() -> impl Strategy<Value = (usize, usize, Vec<f32>)> {
    (2usize..30, 1usize..8).prop_flat_map(|(rows, width)| {
        let cell = prop_oneof![3 => Just(0.0f32), 2 => (-4i8..4i8).prop_map(f32::from)];
        (Just(rows), Just(width), prop::collection::vec(cell, rows * width))
    })
}

fn to_csr(values: &[f32], width: usize) -> (Vec<usize>, Vec<u32>, Vec<f32>) {
    let mut offsets = vec![0];
    let (mut indices, mut data) = (Vec::new(), Vec::new());
    for row in values.chunks_exact(width) {
        for (j, &v) in row.iter().enumerate() {
            if v != 0.0 {
                indices.push(j as u32);
                data.push(v);
            }
        }
        offsets.push(indices.len());
    }
    (offsets, indices, data)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn dense_and_sparse_logistic_agree(
        (rows, width, values) in sparse_looking_matrix(),
        seed in any::<u64>(),
        c in prop_oneof![Just(0.1), Just(1.0), Just(10.0)],
    ) {
        let labels: Vec<bool> = (0..rows).map(|i| (seed >> (i % 64)) & 1 == 1).collect();
        let (offsets, indices, data) = to_csr(&values, width);
        let dense = Design::Dense { values: &values, width };
        let sparse = Design::Sparse { row_offsets: &offsets, indices: &indices, values: &data, width };
        let config = LogisticConfig { c, tolerance: 1e-9, ..LogisticConfig::default() };
        let a = config.fit(&Examples::new(dense, Targets::Binary(&labels)));
        let b = config.fit(&Examples::new(sparse, Targets::Binary(&labels)));
        let (a, b) = (a.map_err(|e| TestCaseError::fail(e.to_string()))?, b.map_err(|e| TestCaseError::fail(e.to_string()))?);
        let pa = a.predict_proba(&dense).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let pb = b.predict_proba(&sparse).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (x, y) in pa.iter().zip(&pb) {
            prop_assert!((0.0..=1.0).contains(x));
            prop_assert!((x - y).abs() < 1e-5, "{} vs {}", x, y);
        }
    }

    #[test]
    fn multinomial_probabilities_are_distributions(
        (rows, width, values) in sparse_looking_matrix(),
        classes in 2usize..5,
        seed in any::<u64>(),
    ) {
        let labels: Vec<usize> = (0..rows).map(|i| ((seed >> (i % 60)) as usize) % classes).collect();
        let design = Design::Dense { values: &values, width };
        let model = LogisticConfig::default()
            .fit(&Examples::new(design, Targets::Multinomial { labels: &labels, classes }))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let p = model.predict_proba(&design).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for row in p.chunks_exact(classes) {
            prop_assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            prop_assert!(row.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }

    #[test]
    fn pca_components_are_orthonormal_and_ordered(
        (rows, width, values) in sparse_looking_matrix(),
        k in 1usize..8,
    ) {
        let k = k.min(rows).min(width);
        let all: Vec<usize> = (0..rows).collect();
        let pca = Pca::fit(&values, width, &all, k).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(pca.explained_variance.windows(2).all(|w| w[0] >= w[1] - 1e-12));
        prop_assert!(pca.explained_variance_ratio.iter().sum::<f64>() <= 1.0 + 1e-9);
        let scale = pca.explained_variance.first().copied().unwrap_or(0.0);
        for a in 0..k {
            // Components of (numerically) zero variance are arbitrary but still unit vectors.
            let ca = &pca.components[a * width..(a + 1) * width];
            prop_assert!((ca.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-9);
            for b in 0..a {
                if pca.explained_variance[a] > 1e-9 * scale && pca.explained_variance[b] > 1e-9 * scale {
                    let cb = &pca.components[b * width..(b + 1) * width];
                    prop_assert!(ca.iter().zip(cb).map(|(x, y)| x * y).sum::<f64>().abs() < 1e-8);
                }
            }
        }
    }

    #[test]
    fn stratified_folds_are_balanced(labels in prop::collection::vec(0usize..4, 10..200), folds in 2usize..10, seed in any::<u64>()) {
        let folds = folds.min(labels.len());
        let fold_of = stratified_folds(&labels, folds, seed).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut sizes = vec![0usize; folds];
        fold_of.iter().for_each(|&f| sizes[f] += 1);
        prop_assert!(sizes.iter().max().unwrap_or(&0) - sizes.iter().min().unwrap_or(&0) <= 1);
        for class in 0..4 {
            let mut per_fold = vec![0usize; folds];
            fold_of.iter().zip(&labels).filter(|&(_, &l)| l == class).for_each(|(&f, _)| per_fold[f] += 1);
            prop_assert!(per_fold.iter().max().unwrap_or(&0) - per_fold.iter().min().unwrap_or(&0) <= 1);
        }
    }

    #[test]
    fn knn_with_one_neighbour_and_duplicated_points_is_perfect(
        points in prop::collection::vec(-100i16..100, 6..60),
    ) {
        // Every point appears twice, in different folds, with its own label: 1-NN finds its twin.
        let dim = 2;
        let base: Vec<f32> = points[..points.len() / dim * dim].iter().map(|&v| f32::from(v)).collect();
        let count = base.len() / dim;
        let mut unique = base.chunks_exact(dim).map(|p| (p[0] as i32, p[1] as i32)).collect::<Vec<_>>();
        unique.sort_unstable();
        unique.dedup();
        prop_assume!(unique.len() == count);
        let twice: Vec<f32> = base.iter().chain(&base).copied().collect();
        let labels: Vec<usize> = (0..2 * count).map(|i| (i % count) % 3).collect();
        let fold_of: Vec<usize> = (0..2 * count).map(|i| usize::from(i >= count)).collect();
        let report = knn_accuracy_with_folds(&twice, dim, &labels, 1, &fold_of, Metric::Euclidean)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(report.accuracy, 1.0);
    }

    #[test]
    fn bootstrap_interval_is_ordered_and_p_value_valid(
        right in prop::collection::vec((any::<bool>(), any::<bool>()), 5..80),
        seed in any::<u64>(),
    ) {
        let n = right.len();
        let result = paired_bootstrap(n, 200, seed, 0.9, |rows: &[usize]| {
            let k = rows.len() as f64;
            Some((
                rows.iter().filter(|&&i| right[i].0).count() as f64 / k,
                rows.iter().filter(|&&i| right[i].1).count() as f64 / k,
            ))
        })
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(result.lower <= result.upper);
        prop_assert!(result.p_value > 0.0 && result.p_value <= 1.0);
        prop_assert_eq!(result.beats, result.lower > 0.0);
        prop_assert_eq!(result.resamples_used, 200);
    }
}
