//! Cross-validated k-nearest-neighbour classification accuracy (how well an embedding
//! separates the classes).
//!
//! Each example is classified by the `k` training examples nearest to it (all examples outside
//! its fold), by majority vote. Neighbours are ordered by distance, then by index, so equal
//! distances are resolved the same way every time. A tied vote goes to the tied class of the
//! nearest neighbour (scikit-learn would take the smallest class index instead).

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::BaselineError;
use crate::error::check_finite;

/// How the distance between two points is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Straight-line distance.
    Euclidean,
    /// `1 - cos(angle)`; a zero vector is at distance 1 from everything (scikit-learn).
    Cosine,
}

/// Accuracy of a cross-validated k-NN classifier.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KnnReport {
    /// Fraction of all examples classified correctly (pooled over folds).
    pub accuracy: f64,
    /// Accuracy within each fold, in fold order.
    pub per_fold: Vec<f64>,
    /// Neighbours that vote.
    pub k: usize,
    /// Number of folds.
    pub folds: usize,
    /// Distance used.
    pub metric: Metric,
    /// Out-of-fold predicted class of every example.
    pub predictions: Vec<usize>,
}

/// k-NN accuracy over `folds` stratified folds drawn with `seed` (see [`stratified_folds`]).
///
/// `points` is row-major `labels.len() x dim`.
pub fn knn_cv_accuracy(
    points: &[f32],
    dim: usize,
    labels: &[usize],
    k: usize,
    folds: usize,
    seed: u64,
    metric: Metric,
) -> Result<KnnReport, BaselineError> {
    let fold_of = stratified_folds(labels, folds, seed)?;
    knn_accuracy_with_folds(points, dim, labels, k, &fold_of, metric)
}

/// Seeded stratified fold of every example: each class is shuffled (ChaCha8, classes in
/// increasing order, one generator) and dealt round-robin, the dealing continuing from class
/// to class, so fold sizes differ by at most one and every class is spread evenly.
pub fn stratified_folds(labels: &[usize], folds: usize, seed: u64) -> Result<Vec<usize>, BaselineError> {
    if folds < 2 || folds > labels.len() {
        return Err(BaselineError::InvalidParameter {
            name: "folds",
            value: folds.to_string(),
            rule: "must be at least 2 and at most the number of examples",
        });
    }
    let classes = labels.iter().max().map_or(0, |&m| m + 1);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &l) in labels.iter().enumerate() {
        members[l].push(i);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold_of = vec![0; labels.len()];
    let mut dealt = 0;
    for group in &mut members {
        group.shuffle(&mut rng);
        for &i in group.iter() {
            fold_of[i] = dealt % folds;
            dealt += 1;
        }
    }
    Ok(fold_of)
}

/// k-NN accuracy with a given fold for every example (`fold_of[i]` in `0..folds`, each fold
/// used at least once, at least 2 folds).
pub fn knn_accuracy_with_folds(
    points: &[f32],
    dim: usize,
    labels: &[usize],
    k: usize,
    fold_of: &[usize],
    metric: Metric,
) -> Result<KnnReport, BaselineError> {
    let n = labels.len();
    if n == 0 {
        return Err(BaselineError::Empty { what: "k-nearest-neighbour accuracy" });
    }
    if dim == 0 {
        return Err(BaselineError::InvalidParameter { name: "dim", value: "0".into(), rule: "must be at least 1" });
    }
    if points.len() != n.saturating_mul(dim) {
        return Err(BaselineError::LengthMismatch {
            what: "points",
            expected: n.saturating_mul(dim),
            got: points.len(),
        });
    }
    if fold_of.len() != n {
        return Err(BaselineError::LengthMismatch { what: "fold assignment", expected: n, got: fold_of.len() });
    }
    check_finite("point coordinate", points)?;
    let folds = fold_of.iter().max().map_or(0, |&m| m + 1);
    let mut fold_sizes = vec![0usize; folds];
    for &f in fold_of {
        fold_sizes[f] += 1;
    }
    if let Some(fold) = fold_sizes.iter().position(|&s| s == 0) {
        return Err(BaselineError::EmptyFold { fold, folds });
    }
    if folds < 2 {
        return Err(BaselineError::InvalidParameter {
            name: "folds",
            value: folds.to_string(),
            rule: "cross-validation needs at least 2 folds",
        });
    }
    let smallest_training_set = n - fold_sizes.iter().max().copied().unwrap_or(0);
    if k == 0 || k > smallest_training_set {
        return Err(BaselineError::InvalidParameter {
            name: "k",
            value: k.to_string(),
            rule: "must be at least 1 and at most the size of the smallest training set",
        });
    }

    let norms: Vec<f64> =
        points.chunks_exact(dim).map(|p| p.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt()).collect();
    let classes = labels.iter().max().map_or(0, |&m| m + 1);
    let predictions: Vec<usize> = (0..n)
        .into_par_iter()
        .map(|i| {
            let query = &points[i * dim..(i + 1) * dim];
            let mut neighbours: Vec<(f64, usize)> = (0..n)
                .filter(|&j| fold_of[j] != fold_of[i])
                .map(|j| {
                    let other = &points[j * dim..(j + 1) * dim];
                    let distance = match metric {
                        Metric::Euclidean => {
                            query.iter().zip(other).map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2)).sum::<f64>()
                        }
                        Metric::Cosine => {
                            let denominator = norms[i] * norms[j];
                            let product: f64 =
                                query.iter().zip(other).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum();
                            if denominator > 0.0 { 1.0 - product / denominator } else { 1.0 }
                        }
                    };
                    (distance, j)
                })
                .collect();
            let by_distance = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
            neighbours.select_nth_unstable_by(k - 1, by_distance);
            neighbours.truncate(k);
            neighbours.sort_by(by_distance);
            vote(&neighbours, labels, classes)
        })
        .collect();

    let mut correct = vec![0usize; folds];
    for ((&prediction, &label), &fold) in predictions.iter().zip(labels).zip(fold_of) {
        correct[fold] += usize::from(prediction == label);
    }
    Ok(KnnReport {
        accuracy: correct.iter().sum::<usize>() as f64 / n as f64,
        per_fold: correct.iter().zip(&fold_sizes).map(|(&c, &s)| c as f64 / s as f64).collect(),
        k,
        folds,
        metric,
        predictions,
    })
}

/// Majority class among `neighbours` (sorted nearest first); a tie goes to the tied class of
/// the nearest neighbour.
fn vote(neighbours: &[(f64, usize)], labels: &[usize], classes: usize) -> usize {
    let mut counts = vec![0usize; classes];
    for &(_, j) in neighbours {
        counts[labels[j]] += 1;
    }
    let most = counts.iter().copied().max().unwrap_or(0);
    neighbours.iter().map(|&(_, j)| labels[j]).find(|&c| counts[c] == most).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_the_nearest_neighbour() {
        let labels = [0, 1, 1, 0];
        // Nearest first: class 1, then 0, then 1, then 0 -> with k = 4, 2 votes each.
        let neighbours = [(0.1, 1), (0.2, 0), (0.3, 2), (0.4, 3)];
        assert_eq!(vote(&neighbours, &labels, 2), 1);
        assert_eq!(vote(&neighbours[1..], &labels, 2), 0);
    }

    #[test]
    fn separated_clusters_are_classified_perfectly() -> Result<(), BaselineError> {
        let mut points = Vec::new();
        let mut labels = Vec::new();
        for i in 0..30 {
            let class = i % 3;
            let offset = 10.0 * class as f32;
            points.extend_from_slice(&[offset + (i as f32) * 0.01, offset - (i as f32) * 0.02]);
            labels.push(class);
        }
        let report = knn_cv_accuracy(&points, 2, &labels, 3, 5, 7, Metric::Euclidean)?;
        assert_eq!(report.accuracy, 1.0);
        assert_eq!(report.per_fold, vec![1.0; 5]);
        assert_eq!(report.predictions, labels);
        Ok(())
    }

    #[test]
    fn folds_are_stratified_balanced_and_seeded() -> Result<(), BaselineError> {
        let labels: Vec<usize> = (0..103).map(|i| usize::from(i % 4 == 0) + usize::from(i % 10 == 0)).collect();
        let folds = stratified_folds(&labels, 5, 42)?;
        assert_eq!(folds, stratified_folds(&labels, 5, 42)?);
        assert_ne!(folds, stratified_folds(&labels, 5, 43)?);
        let mut sizes = [0usize; 5];
        folds.iter().for_each(|&f| sizes[f] += 1);
        assert!(sizes.iter().max().unwrap_or(&0) - sizes.iter().min().unwrap_or(&0) <= 1);
        for class in 0..3 {
            let mut per_fold = [0usize; 5];
            folds.iter().zip(&labels).filter(|&(_, &l)| l == class).for_each(|(&f, _)| per_fold[f] += 1);
            assert!(per_fold.iter().max().unwrap_or(&0) - per_fold.iter().min().unwrap_or(&0) <= 1);
        }
        Ok(())
    }

    #[test]
    fn cosine_ignores_scale_and_handles_zero_vectors() -> Result<(), BaselineError> {
        // Class 0 points along x, class 1 along y, at very different scales; one zero vector.
        let points = [1.0, 0.0, 100.0, 1.0, 0.5, 0.0, 0.0, 1.0, 1.0, 80.0, 0.0, 0.3, 0.0, 0.0];
        let labels = [0, 0, 0, 1, 1, 1, 1];
        let folds = [0, 1, 0, 1, 0, 1, 0];
        let report = knn_accuracy_with_folds(&points, 2, &labels, 1, &folds, Metric::Cosine)?;
        assert_eq!(&report.predictions[..6], &[0, 0, 0, 1, 1, 1]);
        Ok(())
    }

    #[test]
    fn invalid_inputs_are_reported() {
        let points = [0.0f32, 1.0, 2.0, 3.0];
        let labels = [0, 1, 0, 1];
        assert!(matches!(
            knn_accuracy_with_folds(&points, 1, &labels, 1, &[0, 2, 0, 2], Metric::Euclidean),
            Err(BaselineError::EmptyFold { fold: 1, folds: 3 })
        ));
        assert!(matches!(
            knn_accuracy_with_folds(&points, 1, &labels, 3, &[0, 1, 0, 1], Metric::Euclidean),
            Err(BaselineError::InvalidParameter { name: "k", .. })
        ));
        assert!(matches!(
            knn_accuracy_with_folds(&points, 2, &labels, 1, &[0, 1, 0, 1], Metric::Euclidean),
            Err(BaselineError::LengthMismatch { .. })
        ));
        assert!(matches!(
            knn_cv_accuracy(&points, 1, &labels, 1, 5, 0, Metric::Euclidean),
            Err(BaselineError::InvalidParameter { name: "folds", .. })
        ));
    }
}
