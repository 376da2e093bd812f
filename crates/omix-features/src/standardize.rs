//! Per-column standardisation (z-scores) fitted on chosen rows, e.g. the training split.

use serde::{Deserialize, Serialize};

use crate::FeatureError;

/// Per-column mean and scale: `transform` maps `x` to `(x - mean) / scale`.
///
/// The scale is the population standard deviation (divisor `n`, as scikit-learn's
/// `StandardScaler`) of the rows it was fitted on. A constant column (all fitted values equal)
/// gets scale 1, so it becomes all zeros instead of dividing by zero. It serialises as
/// `{"mean": [...], "scale": [...], "fitted_rows": n}` for the run folder, and is checked
/// when read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StoredStandardizer")]
pub struct Standardizer {
    mean: Vec<f32>,
    scale: Vec<f32>,
    fitted_rows: usize,
}

/// The serialised form, checked before it becomes a [`Standardizer`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredStandardizer {
    mean: Vec<f32>,
    scale: Vec<f32>,
    fitted_rows: usize,
}

impl TryFrom<StoredStandardizer> for Standardizer {
    type Error = FeatureError;

    fn try_from(stored: StoredStandardizer) -> Result<Self, FeatureError> {
        let invalid = |reason: String| FeatureError::InvalidStandardizer { reason };
        if stored.mean.len() != stored.scale.len() {
            return Err(invalid(format!("{} means but {} scales", stored.mean.len(), stored.scale.len())));
        }
        if let Some(column) = stored.mean.iter().position(|m| !m.is_finite()) {
            return Err(invalid(format!("the mean of column {column} is not finite")));
        }
        if let Some(column) = stored.scale.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(invalid(format!("the scale of column {column} is not a positive finite number")));
        }
        Ok(Standardizer { mean: stored.mean, scale: stored.scale, fitted_rows: stored.fitted_rows })
    }
}

impl Standardizer {
    /// Fit on the rows `rows` (0-based) of the row-major matrix `values` with `width` columns;
    /// no other row is looked at. Sums run in `f64`.
    ///
    /// Errors: `values` not a whole number of rows, no rows, a row index out of range, or a
    /// non-finite value in a fitted row.
    pub fn fit(values: &[f32], width: usize, rows: impl IntoIterator<Item = usize>) -> Result<Self, FeatureError> {
        if width == 0 || !values.len().is_multiple_of(width) {
            return Err(FeatureError::Shape { len: values.len(), width });
        }
        let total_rows = values.len() / width;
        let rows: Vec<usize> = rows.into_iter().collect();
        if rows.is_empty() {
            return Err(FeatureError::NoRowsToFit);
        }
        let mut sum = vec![0.0f64; width];
        let mut min = vec![f32::INFINITY; width];
        let mut max = vec![f32::NEG_INFINITY; width];
        for &row in &rows {
            if row >= total_rows {
                return Err(FeatureError::RowOutOfRange { row, rows: total_rows });
            }
            let slice = &values[row * width..(row + 1) * width];
            for (column, &value) in slice.iter().enumerate() {
                if !value.is_finite() {
                    return Err(FeatureError::NonFinite { row, column, value });
                }
                sum[column] += f64::from(value);
                min[column] = min[column].min(value);
                max[column] = max[column].max(value);
            }
        }
        let n = rows.len() as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        // Second pass for the variance: stable where a one-pass sum of squares is not.
        let mut squares = vec![0.0f64; width];
        for &row in &rows {
            for (column, &value) in values[row * width..(row + 1) * width].iter().enumerate() {
                let deviation = f64::from(value) - mean[column];
                squares[column] += deviation * deviation;
            }
        }
        let scale = (0..width)
            .map(|column| {
                let std = (squares[column] / n).sqrt() as f32;
                if min[column] == max[column] || !(std > 0.0 && std.is_finite()) { 1.0 } else { std }
            })
            .collect();
        Ok(Standardizer { mean: mean.iter().map(|&m| m as f32).collect(), scale, fitted_rows: rows.len() })
    }

    /// The number of columns.
    pub fn width(&self) -> usize {
        self.mean.len()
    }

    /// The per-column means.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// The per-column scales (standard deviations; 1 for constant columns).
    pub fn scale(&self) -> &[f32] {
        &self.scale
    }

    /// How many rows it was fitted on.
    pub fn fitted_rows(&self) -> usize {
        self.fitted_rows
    }

    /// Standardise one row in place.
    pub fn transform_in_place(&self, row: &mut [f32]) -> Result<(), FeatureError> {
        if row.len() != self.width() {
            return Err(FeatureError::WidthMismatch { expected: self.width(), found: row.len() });
        }
        for ((value, mean), scale) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
            *value = (*value - mean) / scale;
        }
        Ok(())
    }

    /// Standardise every row of a row-major matrix in place.
    pub fn transform_rows(&self, values: &mut [f32]) -> Result<(), FeatureError> {
        let width = self.width();
        if width == 0 || !values.len().is_multiple_of(width) {
            return Err(FeatureError::Shape { len: values.len(), width });
        }
        for row in values.chunks_exact_mut(width) {
            self.transform_in_place(row)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn fits_only_the_given_rows() -> TestResult {
        // Rows 0 and 2 are "training"; row 1 is an outlier that must not leak into the fit.
        let values = [1.0, 5.0, 1000.0, -7.0, 3.0, 5.0];
        let s = Standardizer::fit(&values, 2, [0, 2])?;
        assert_eq!(s.mean(), [2.0, 5.0]);
        assert_eq!(s.scale(), [1.0, 1.0]); // std of {1, 3} is 1; column 2 is constant
        assert_eq!(s.fitted_rows(), 2);
        let all = Standardizer::fit(&values, 2, 0..3)?;
        assert!(all.mean()[0] > 300.0);
        let mut row = [3.0, 8.0];
        s.transform_in_place(&mut row)?;
        assert_eq!(row, [1.0, 3.0]);
        Ok(())
    }

    #[test]
    fn standardised_columns_have_zero_mean_unit_variance() -> TestResult {
        let values: Vec<f32> = (0..300).map(|i| ((i * 37 % 101) as f32).sin() * 10.0 + i as f32 * 0.1).collect();
        let s = Standardizer::fit(&values, 3, 0..100)?;
        let mut transformed = values.clone();
        s.transform_rows(&mut transformed)?;
        for column in 0..3 {
            let x: Vec<f64> = transformed.iter().skip(column).step_by(3).map(|&v| f64::from(v)).collect();
            let mean = x.iter().sum::<f64>() / 100.0;
            let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 100.0;
            assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4, "column {column}: {mean} {var}");
        }
        Ok(())
    }

    #[test]
    fn errors() {
        let values = [1.0, 2.0, 3.0, 4.0];
        assert!(matches!(Standardizer::fit(&values, 3, [0]), Err(FeatureError::Shape { .. })));
        assert!(matches!(Standardizer::fit(&values, 0, [0]), Err(FeatureError::Shape { .. })));
        assert!(matches!(Standardizer::fit(&values, 2, []), Err(FeatureError::NoRowsToFit)));
        assert!(matches!(Standardizer::fit(&values, 2, [2]), Err(FeatureError::RowOutOfRange { row: 2, rows: 2 })));
        let nan = [1.0, f32::NAN];
        assert!(matches!(Standardizer::fit(&nan, 2, [0]), Err(FeatureError::NonFinite { row: 0, column: 1, .. })));
        // A NaN in a row that is not fitted is not looked at.
        assert!(Standardizer::fit(&[1.0, f32::NAN], 1, [0]).is_ok());
        if let Ok(s) = Standardizer::fit(&values, 2, [0, 1]) {
            assert!(matches!(s.transform_in_place(&mut [1.0]), Err(FeatureError::WidthMismatch { .. })));
            assert!(matches!(s.transform_rows(&mut [1.0; 3]), Err(FeatureError::Shape { .. })));
        }
    }

    #[test]
    fn serde_round_trip_and_checks() -> TestResult {
        let s = Standardizer::fit(&[1.0, 2.0, 3.0, 2.0], 2, [0, 1])?;
        let json = serde_json::to_string(&s)?;
        assert_eq!(json, r#"{"mean":[2.0,2.0],"scale":[1.0,1.0],"fitted_rows":2}"#);
        let back: Standardizer = serde_json::from_str(&json)?;
        assert_eq!(back, s);
        for bad in [
            r#"{"mean":[1.0],"scale":[1.0,1.0],"fitted_rows":2}"#,
            r#"{"mean":[1.0],"scale":[0.0],"fitted_rows":2}"#,
            r#"{"mean":[1.0],"scale":[1.0],"fitted_rows":2,"extra":1}"#,
        ] {
            assert!(serde_json::from_str::<Standardizer>(bad).is_err(), "{bad}");
        }
        Ok(())
    }
}
