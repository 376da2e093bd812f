//! Threshold-free ranking metrics: ROC and precision-recall curves, AUROC and
//! average precision, following scikit-learn's `_binary_clf_curve`.

/// Cumulative counts at each distinct score, scores taken in descending order
/// (scikit-learn's `_binary_clf_curve`): entry `i` counts the examples whose
/// score is `>= thresholds[i]`.
#[derive(Debug)]
pub(crate) struct ClfCurve {
    /// False positives at each threshold.
    pub(crate) fps: Vec<u64>,
    /// True positives at each threshold.
    pub(crate) tps: Vec<u64>,
    /// Distinct scores, strictly decreasing.
    pub(crate) thresholds: Vec<f64>,
}

impl ClfCurve {
    /// Total number of positives.
    fn positives(&self) -> u64 {
        self.tps.last().copied().unwrap_or(0)
    }

    /// Total number of negatives.
    fn negatives(&self) -> u64 {
        self.fps.last().copied().unwrap_or(0)
    }
}

/// Builds the cumulative curve, or `None` when the inputs differ in length,
/// are empty, or hold a non-finite score.
pub(crate) fn clf_curve(labels: &[bool], scores: &[f64]) -> Option<ClfCurve> {
    if labels.len() != scores.len() || labels.is_empty() || scores.iter().any(|s| !s.is_finite()) {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Descending; the order inside a group of ties does not matter because
    // counts are only read at the end of each group.
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut curve = ClfCurve { fps: Vec::new(), tps: Vec::new(), thresholds: Vec::new() };
    let (mut tp, mut fp) = (0u64, 0u64);
    for (pos, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        // `!=` (not total_cmp) so that -0.0 and 0.0 form one group, as in numpy.
        let group_ends = order.get(pos + 1).is_none_or(|&next| scores[next] != scores[i]);
        if group_ends {
            curve.tps.push(tp);
            curve.fps.push(fp);
            curve.thresholds.push(scores[i]);
        }
    }
    Some(curve)
}

/// Area under the ROC curve from a cumulative curve, exact in integers until the final division.
pub(crate) fn auc_from_curve(curve: &ClfCurve) -> Option<f64> {
    let (p, n) = (curve.positives(), curve.negatives());
    if p == 0 || n == 0 {
        return None;
    }
    // Twice the trapezoid area in units of (1 negative) x (1 positive).
    let mut twice_area: u128 = 0;
    let (mut prev_fp, mut prev_tp) = (0u64, 0u64);
    for (&fp, &tp) in curve.fps.iter().zip(&curve.tps) {
        twice_area += u128::from(fp - prev_fp) * u128::from(tp + prev_tp);
        prev_fp = fp;
        prev_tp = tp;
    }
    let denominator = 2 * u128::from(p) * u128::from(n);
    Some(ratio_u128(twice_area, denominator))
}

/// Average precision from a cumulative curve; `None` without positives.
pub(crate) fn ap_from_curve(curve: &ClfCurve) -> Option<f64> {
    let p = curve.positives();
    if p == 0 {
        return None;
    }
    let mut sum = NeumaierSum::default();
    let mut prev_tp = 0u64;
    for (&fp, &tp) in curve.fps.iter().zip(&curve.tps) {
        if tp > prev_tp {
            let precision = tp as f64 / (tp + fp) as f64;
            sum.add((tp - prev_tp) as f64 * precision);
        }
        prev_tp = tp;
    }
    Some((sum.value() / p as f64).max(0.0))
}

/// `a / b` for large integers, exact when both fit in f64's 53-bit mantissa.
fn ratio_u128(a: u128, b: u128) -> f64 {
    a as f64 / b as f64
}

/// Compensated (Neumaier) summation, so long sums stay accurate to ~1 ulp.
#[derive(Debug, Default)]
struct NeumaierSum {
    sum: f64,
    compensation: f64,
}

impl NeumaierSum {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// Area under the ROC curve (scikit-learn `roc_auc_score`, ties handled exactly).
///
/// Returns `None` when only one class is present, the slices differ in length,
/// are empty, or a score is not finite.
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> Option<f64> {
    clf_curve(labels, scores).and_then(|c| auc_from_curve(&c))
}

/// Average precision (scikit-learn `average_precision_score`, ties handled exactly).
///
/// `AP = sum_n (R_n - R_{n-1}) P_n` over distinct score thresholds. Returns `None`
/// when there are no positives, the slices differ in length, are empty, or a score
/// is not finite. With only positives the result is `1.0`.
pub fn average_precision(labels: &[bool], scores: &[f64]) -> Option<f64> {
    clf_curve(labels, scores).and_then(|c| ap_from_curve(&c))
}

/// ROC curve as `(fpr, tpr, threshold)` points (scikit-learn `roc_curve(drop_intermediate=False)`).
///
/// The first point is `(0, 0, +inf)`; the others follow the distinct scores in
/// decreasing order. As in scikit-learn, `tpr` is NaN when there are no positives
/// and `fpr` is NaN when there are no negatives. Returns an empty vector when the
/// slices differ in length, are empty, or a score is not finite.
pub fn roc_curve(labels: &[bool], scores: &[f64]) -> Vec<(f64, f64, f64)> {
    let Some(curve) = clf_curve(labels, scores) else {
        return Vec::new();
    };
    let (p, n) = (curve.positives() as f64, curve.negatives() as f64);
    let mut points = Vec::with_capacity(curve.thresholds.len() + 1);
    points.push((0.0 / n, 0.0 / p, f64::INFINITY));
    for ((&fp, &tp), &t) in curve.fps.iter().zip(&curve.tps).zip(&curve.thresholds) {
        points.push((fp as f64 / n, tp as f64 / p, t));
    }
    points
}

/// Precision-recall curve as `(precision, recall, threshold)` points (scikit-learn
/// `precision_recall_curve`).
///
/// Points follow the distinct scores in increasing order (recall decreasing),
/// as in scikit-learn; the final point is `(1, 0, +inf)`, the threshold-less end
/// point scikit-learn appends. Without positives, recall is `1.0` everywhere
/// (scikit-learn's convention). Returns an empty vector when the slices differ
/// in length, are empty, or a score is not finite.
pub fn precision_recall_curve(labels: &[bool], scores: &[f64]) -> Vec<(f64, f64, f64)> {
    let Some(curve) = clf_curve(labels, scores) else {
        return Vec::new();
    };
    let p = curve.positives();
    let mut points = Vec::with_capacity(curve.thresholds.len() + 1);
    for ((&fp, &tp), &t) in curve.fps.iter().zip(&curve.tps).zip(&curve.thresholds).rev() {
        let precision = tp as f64 / (tp + fp) as f64;
        let recall = if p == 0 { 1.0 } else { tp as f64 / p as f64 };
        points.push((precision, recall, t));
    }
    points.push((1.0, 0.0, f64::INFINITY));
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), String>;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12
    }

    #[test]
    fn auc_with_ties_matches_hand_computation() -> TestResult {
        // Pairs (pos, neg): 0.8>0.1 1, 0.8>0.4 1, 0.4=0.4 0.5, 0.4>0.1 1 -> 3.5 / 4
        let labels = [true, false, true, false];
        let scores = [0.8, 0.4, 0.4, 0.1];
        let auc = roc_auc(&labels, &scores).ok_or("auc undefined")?;
        if !close(auc, 0.875) {
            return Err(format!("auc {auc} != 0.875"));
        }
        Ok(())
    }

    #[test]
    fn single_class_is_undefined() -> TestResult {
        if roc_auc(&[true, true], &[0.1, 0.2]).is_some() {
            return Err("auc defined with one class".into());
        }
        if average_precision(&[false, false], &[0.1, 0.2]).is_some() {
            return Err("ap defined without positives".into());
        }
        let ap = average_precision(&[true, true], &[0.1, 0.2]).ok_or("ap undefined")?;
        if !close(ap, 1.0) {
            return Err(format!("ap {ap} != 1"));
        }
        Ok(())
    }

    #[test]
    fn invalid_inputs_give_none_or_empty() -> TestResult {
        if roc_auc(&[true, false], &[0.1]).is_some()
            || roc_auc(&[], &[]).is_some()
            || average_precision(&[true, false], &[f64::NAN, 0.1]).is_some()
            || !roc_curve(&[true], &[f64::INFINITY]).is_empty()
            || !precision_recall_curve(&[true, false], &[0.3]).is_empty()
        {
            return Err("invalid input accepted".into());
        }
        Ok(())
    }

    #[test]
    fn negative_and_positive_zero_tie() -> TestResult {
        let curve = clf_curve(&[true, false], &[-0.0, 0.0]).ok_or("no curve")?;
        if curve.thresholds.len() != 1 {
            return Err(format!("-0.0 and 0.0 not tied: {curve:?}"));
        }
        Ok(())
    }

    #[test]
    fn roc_curve_without_positives_has_nan_tpr() -> TestResult {
        let curve = roc_curve(&[false, false], &[0.2, 0.1]);
        if curve.len() != 3 || !curve.iter().all(|&(_, tpr, _)| tpr.is_nan()) {
            return Err(format!("unexpected curve {curve:?}"));
        }
        Ok(())
    }

    #[test]
    fn precision_recall_curve_shape() -> TestResult {
        let curve = precision_recall_curve(&[true, false, true], &[0.9, 0.5, 0.5]);
        let expected = [(2.0 / 3.0, 1.0, 0.5), (1.0, 0.5, 0.9), (1.0, 0.0, f64::INFINITY)];
        if curve.len() != expected.len()
            || curve.iter().zip(&expected).any(|(a, b)| !close(a.0, b.0) || !close(a.1, b.1) || a.2 != b.2)
        {
            return Err(format!("unexpected curve {curve:?}"));
        }
        Ok(())
    }
}
