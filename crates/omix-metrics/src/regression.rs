//! Metrics for (multi-task) regression: errors, correlations and R².

use crate::MetricsError;
use crate::binary::{check_finite, mean};
use crate::multilabel::{mean_opt, median};

/// Regression metrics of one task (one column of targets and predictions).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RegressionTaskMetrics {
    /// Mean squared error (scikit-learn `mean_squared_error`).
    pub mse: f64,
    /// Mean absolute error (scikit-learn `mean_absolute_error`).
    pub mae: f64,
    /// Pearson correlation of predictions with targets; `None` when either is constant.
    pub pearson: Option<f64>,
    /// Spearman rank correlation (average ranks for ties); `None` when either is constant.
    pub spearman: Option<f64>,
    /// Coefficient of determination as scikit-learn's `r2_score` computes it: for a constant
    /// target it is 1 when every prediction is exact and 0 otherwise (`force_finite=True`).
    pub r2: f64,
    /// Number of examples.
    pub n: usize,
}

/// Per-task and summary metrics of a (multi-task) regression model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RegressionMetrics {
    /// Metrics of each task, paired with the task name, in column order.
    pub per_task: Vec<(String, RegressionTaskMetrics)>,
    /// Mean MSE over tasks.
    pub mean_mse: f64,
    /// Median MSE over tasks (numpy median).
    pub median_mse: f64,
    /// Mean MAE over tasks.
    pub mean_mae: f64,
    /// Median MAE over tasks.
    pub median_mae: f64,
    /// Mean Pearson r over the tasks where it is defined; `None` if it is defined for none.
    pub mean_pearson: Option<f64>,
    /// Median Pearson r over the tasks where it is defined.
    pub median_pearson: Option<f64>,
    /// Mean Spearman rho over the tasks where it is defined.
    pub mean_spearman: Option<f64>,
    /// Median Spearman rho over the tasks where it is defined.
    pub median_spearman: Option<f64>,
    /// Mean R² over all tasks (scikit-learn `multioutput="uniform_average"`).
    pub mean_r2: f64,
    /// Median R² over all tasks.
    pub median_r2: f64,
    /// Names of tasks whose targets or predictions are constant (no correlation defined).
    pub tasks_without_correlation: Vec<String>,
}

/// Regression metrics of row-major `n x task_names.len()` `targets` and `predictions`.
///
/// A task whose targets or predictions are all equal gets `pearson: None` and
/// `spearman: None` and is listed in `tasks_without_correlation`; it is not an error.
/// Errors when there are no tasks or examples, the lengths or shapes disagree, or a value
/// is not finite (`NonFinite` indexes the flat slice; targets are checked before predictions).
pub fn regression_metrics(
    targets: &[f64],
    predictions: &[f64],
    task_names: &[String],
) -> Result<RegressionMetrics, MetricsError> {
    let t = task_names.len();
    if t == 0 {
        return Err(MetricsError::NoColumns);
    }
    if targets.len() != predictions.len() {
        return Err(MetricsError::LengthMismatch { labels: targets.len(), scores: predictions.len() });
    }
    if !targets.len().is_multiple_of(t) {
        return Err(MetricsError::ShapeMismatch { rows: targets.len() / t, columns: t, values: targets.len() });
    }
    if targets.is_empty() {
        return Err(MetricsError::Empty);
    }
    check_finite(targets)?;
    check_finite(predictions)?;

    let mut per_task = Vec::with_capacity(t);
    let mut tasks_without_correlation = Vec::new();
    for (j, name) in task_names.iter().enumerate() {
        let y: Vec<f64> = targets.iter().skip(j).step_by(t).copied().collect();
        let p: Vec<f64> = predictions.iter().skip(j).step_by(t).copied().collect();
        let m = task_metrics(&y, &p);
        if m.pearson.is_none() {
            tasks_without_correlation.push(name.clone());
        }
        per_task.push((name.clone(), m));
    }

    let column = |f: fn(&RegressionTaskMetrics) -> f64| -> Vec<f64> { per_task.iter().map(|(_, m)| f(m)).collect() };
    let defined = |f: fn(&RegressionTaskMetrics) -> Option<f64>| -> Vec<f64> {
        per_task.iter().filter_map(|(_, m)| f(m)).collect()
    };
    let (mse, mae, r2) = (column(|m| m.mse), column(|m| m.mae), column(|m| m.r2));
    let (pearson, spearman) = (defined(|m| m.pearson), defined(|m| m.spearman));
    // At least one task, so the medians of the always-defined columns exist.
    let median_all = |v: &[f64]| median(v).unwrap_or(f64::NAN);
    Ok(RegressionMetrics {
        mean_mse: mean(&mse),
        median_mse: median_all(&mse),
        mean_mae: mean(&mae),
        median_mae: median_all(&mae),
        mean_pearson: mean_opt(&pearson),
        median_pearson: median(&pearson),
        mean_spearman: mean_opt(&spearman),
        median_spearman: median(&spearman),
        mean_r2: mean(&r2),
        median_r2: median_all(&r2),
        tasks_without_correlation,
        per_task,
    })
}

/// Metrics of one non-empty, finite task column.
fn task_metrics(y: &[f64], p: &[f64]) -> RegressionTaskMetrics {
    let n = y.len() as f64;
    let residual_ss: f64 = y.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).sum();
    let mae = y.iter().zip(p).map(|(a, b)| (a - b).abs()).sum::<f64>() / n;
    let r2 = if is_constant(y) {
        // scikit-learn (force_finite=True): perfect predictions of a constant score 1, others 0.
        if residual_ss == 0.0 { 1.0 } else { 0.0 }
    } else {
        let y_mean = y.iter().sum::<f64>() / n;
        let total_ss: f64 = y.iter().map(|a| (a - y_mean) * (a - y_mean)).sum();
        1.0 - residual_ss / total_ss
    };
    RegressionTaskMetrics {
        mse: residual_ss / n,
        mae,
        pearson: pearson(y, p),
        spearman: spearman(y, p),
        r2,
        n: y.len(),
    }
}

/// True when every value equals the first (an empty slice counts as constant).
fn is_constant(values: &[f64]) -> bool {
    values.first().is_none_or(|&first| values.iter().all(|&v| v == first))
}

/// Spearman rank correlation as scipy computes it (Pearson of average ranks); `None` when either
/// input is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    pearson(&average_ranks(x), &average_ranks(y))
}

/// Pearson correlation as scipy computes it (centred, normalised, clipped to [-1, 1]);
/// `None` when either input is constant.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    if is_constant(x) || is_constant(y) {
        return None;
    }
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (&a, &b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    let r = sxy / (sxx.sqrt() * syy.sqrt());
    // Differences so small that their squares underflow leave no usable variance.
    r.is_finite().then(|| r.clamp(-1.0, 1.0))
}

/// 1-based ranks with ties given their average rank (scipy `rankdata(method="average")`).
fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end; their mean is (start + 1 + end) / 2.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(k: usize) -> Vec<String> {
        (0..k).map(|i| format!("task{i}")).collect()
    }

    fn close(got: Option<f64>, want: f64) -> bool {
        got.is_some_and(|g| (g - want).abs() < 1e-12)
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(average_ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        assert_eq!(average_ranks(&[5.0, 5.0, 5.0]), vec![2.0, 2.0, 2.0]);
        assert_eq!(average_ranks(&[]), Vec::<f64>::new());
    }

    #[test]
    fn perfect_and_monotone_predictions() -> Result<(), MetricsError> {
        let y = [1.0, 2.0, 3.0, 4.0];
        let m = regression_metrics(&y, &y, &names(1))?;
        let task = &m.per_task[0].1;
        assert_eq!((task.mse, task.mae, task.r2, task.n), (0.0, 0.0, 1.0, 4));
        assert!(close(task.pearson, 1.0));
        assert!(close(task.spearman, 1.0));
        // A monotone but non-linear prediction: Spearman 1, Pearson below 1.
        let p = [1.0, 8.0, 27.0, 64.0];
        let m = regression_metrics(&y, &p, &names(1))?;
        assert!(close(m.per_task[0].1.spearman, 1.0));
        assert!(m.per_task[0].1.pearson.is_some_and(|r| r < 1.0 && r > 0.9));
        Ok(())
    }

    #[test]
    fn constant_columns_have_no_correlation() -> Result<(), MetricsError> {
        #[rustfmt::skip]
        let targets = [
            2.0, 1.0, 0.5,
            2.0, 2.0, 1.5,
            2.0, 3.0, 2.5,
        ];
        #[rustfmt::skip]
        let predictions = [
            2.0, 7.0, 0.0,
            2.0, 7.0, 1.0,
            2.0, 7.0, 2.0,
        ];
        let m = regression_metrics(&targets, &predictions, &names(3))?;
        let (t0, t1, t2) = (&m.per_task[0].1, &m.per_task[1].1, &m.per_task[2].1);
        // Constant target predicted exactly: R² 1 (sklearn), no correlation.
        assert_eq!((t0.pearson, t0.spearman, t0.r2), (None, None, 1.0));
        // Constant prediction of a varying target: no correlation, R² from the definition.
        assert_eq!((t1.pearson, t1.spearman), (None, None));
        assert!(t1.r2 < 0.0);
        assert!(close(t2.pearson, 1.0));
        assert_eq!(m.tasks_without_correlation, vec!["task0".to_string(), "task1".to_string()]);
        assert!(close(m.mean_pearson, 1.0));
        assert!(close(m.median_spearman, 1.0));
        assert!(m.mean_r2.is_finite() && m.median_r2.is_finite());
        // Constant target predicted inexactly: R² 0 (sklearn's force_finite).
        let m = regression_metrics(&[1.0, 1.0], &[1.0, 2.0], &names(1))?;
        assert_eq!(m.per_task[0].1.r2, 0.0);
        assert_eq!(m.mean_pearson, None);
        Ok(())
    }

    #[test]
    fn input_errors() {
        let two = names(2);
        assert_eq!(regression_metrics(&[1.0], &[1.0], &[]), Err(MetricsError::NoColumns));
        assert_eq!(
            regression_metrics(&[1.0, 2.0], &[1.0], &two),
            Err(MetricsError::LengthMismatch { labels: 2, scores: 1 })
        );
        assert_eq!(
            regression_metrics(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], &two),
            Err(MetricsError::ShapeMismatch { rows: 1, columns: 2, values: 3 })
        );
        assert_eq!(regression_metrics(&[], &[], &two), Err(MetricsError::Empty));
        assert_eq!(
            regression_metrics(&[1.0, f64::INFINITY], &[1.0, 2.0], &two),
            Err(MetricsError::NonFinite { index: 1 })
        );
        assert_eq!(regression_metrics(&[1.0, 2.0], &[f64::NAN, 2.0], &two), Err(MetricsError::NonFinite { index: 0 }));
    }
}
