//! Property tests of the ranking metrics against brute-force definitions.

use omix_metrics::{average_precision, roc_auc};
use proptest::prelude::*;

/// Labelled scores on a coarse grid (so ties are frequent) with both classes present.
fn labelled_scores() -> impl Strategy<Value = (Vec<bool>, Vec<f64>)> {
    prop::collection::vec((any::<bool>(), -40i32..40), 2..120)
        .prop_map(|pairs| {
            pairs.into_iter().map(|(l, s)| (l, f64::from(s) / 7.0)).unzip::<bool, f64, Vec<bool>, Vec<f64>>()
        })
        .prop_filter("both classes present", |(labels, _)| labels.iter().any(|&l| l) && labels.iter().any(|&l| !l))
}

/// Mann-Whitney: fraction of (positive, negative) pairs ranked correctly, ties counting half.
fn brute_force_auc(labels: &[bool], scores: &[f64]) -> f64 {
    let (mut wins, mut pairs) = (0.0, 0.0);
    for (i, &li) in labels.iter().enumerate() {
        for (j, &lj) in labels.iter().enumerate() {
            if li && !lj {
                pairs += 1.0;
                if scores[i] > scores[j] {
                    wins += 1.0;
                } else if scores[i] == scores[j] {
                    wins += 0.5;
                }
            }
        }
    }
    wins / pairs
}

/// Average precision straight from its definition over distinct thresholds.
fn brute_force_ap(labels: &[bool], scores: &[f64]) -> f64 {
    let mut thresholds = scores.to_vec();
    thresholds.sort_by(|a, b| b.total_cmp(a));
    thresholds.dedup();
    let positives = labels.iter().filter(|&&l| l).count() as f64;
    let (mut ap, mut prev_recall) = (0.0, 0.0);
    for t in thresholds {
        let predicted = scores.iter().filter(|&&s| s >= t).count() as f64;
        let tp = labels.iter().zip(scores).filter(|&(&l, &s)| l && s >= t).count() as f64;
        let recall = tp / positives;
        ap += (recall - prev_recall) * tp / predicted;
        prev_recall = recall;
    }
    ap
}

proptest! {
    #[test]
    fn auroc_equals_mann_whitney((labels, scores) in labelled_scores()) {
        let auc = roc_auc(&labels, &scores);
        prop_assert!(auc.is_some());
        let auc = auc.unwrap_or(f64::NAN);
        prop_assert!((auc - brute_force_auc(&labels, &scores)).abs() < 1e-12);
    }

    #[test]
    fn auroc_of_negated_scores_is_complement((labels, scores) in labelled_scores()) {
        let negated: Vec<f64> = scores.iter().map(|s| -s).collect();
        let a = roc_auc(&labels, &scores).unwrap_or(f64::NAN);
        let b = roc_auc(&labels, &negated).unwrap_or(f64::NAN);
        prop_assert!((a + b - 1.0).abs() < 1e-12, "{} + {} != 1", a, b);
    }

    #[test]
    fn ranking_metrics_invariant_to_monotone_transform((labels, scores) in labelled_scores()) {
        // x -> exp(x) is strictly increasing and, on this grid, keeps distinct values distinct.
        let transformed: Vec<f64> = scores.iter().map(|s| s.exp()).collect();
        prop_assert_eq!(roc_auc(&labels, &scores), roc_auc(&labels, &transformed));
        prop_assert_eq!(
            average_precision(&labels, &scores),
            average_precision(&labels, &transformed)
        );
    }

    #[test]
    fn average_precision_matches_definition((labels, scores) in labelled_scores()) {
        let ap = average_precision(&labels, &scores).unwrap_or(f64::NAN);
        prop_assert!((ap - brute_force_ap(&labels, &scores)).abs() < 1e-12);
    }
}
