//! Ridge regression (L2-penalised least squares), the regression baseline.
//!
//! Columns and targets are centred on the training rows, so the intercept is not penalised.
//! The solution `w = (XᵀX + λI)⁻¹ Xᵀy` is computed through the `p × p` normal equations, or
//! through the `n × n` dual `w = Xᵀ(XXᵀ + λI)⁻¹ y` when there are fewer rows than columns; both
//! by Cholesky factorisation. λ is chosen from a grid scaled by the mean diagonal of `XᵀX`.

use crate::BaselineError;

/// Multipliers of the mean diagonal of `XᵀX` tried as λ.
pub const RIDGE_GRID: [f64; 7] = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0];

/// The largest system (rows or columns, whichever is smaller) solved exactly.
const MAX_SYSTEM: usize = 6000;

/// A fitted ridge regression with one or more outputs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Ridge {
    /// Number of input columns.
    pub width: usize,
    /// Number of outputs.
    pub outputs: usize,
    /// The penalty.
    pub lambda: f64,
    /// Row-major `outputs × width` coefficients.
    pub coefficients: Vec<f64>,
    /// One intercept per output.
    pub intercepts: Vec<f64>,
}

fn check(values: &[f32], targets: &[f64], width: usize, outputs: usize) -> Result<usize, BaselineError> {
    if width == 0 || outputs == 0 {
        return Err(BaselineError::InvalidParameter {
            name: "width",
            value: format!("{width} columns, {outputs} outputs"),
            rule: "at least one column and one output are needed",
        });
    }
    if !values.len().is_multiple_of(width) {
        return Err(BaselineError::RaggedMatrix { width, values: values.len() });
    }
    let rows = values.len() / width;
    if targets.len() != rows * outputs {
        return Err(BaselineError::LengthMismatch { what: "targets", expected: rows * outputs, got: targets.len() });
    }
    if rows < 2 {
        return Err(BaselineError::Empty { what: "ridge regression (two rows at least)" });
    }
    crate::error::check_finite("values", values)?;
    crate::error::check_finite("targets", targets)?;
    Ok(rows)
}

/// Cholesky factorisation in place (lower triangle) and solve for several right-hand sides.
fn cholesky_solve(mut a: Vec<f64>, n: usize, rhs: &mut [f64], columns: usize) -> Result<(), BaselineError> {
    for j in 0..n {
        let mut diagonal = a[j * n + j];
        for k in 0..j {
            diagonal -= a[j * n + k] * a[j * n + k];
        }
        if diagonal <= 0.0 || !diagonal.is_finite() {
            return Err(BaselineError::InvalidParameter {
                name: "lambda",
                value: "too small".into(),
                rule: "the penalised system must be positive definite",
            });
        }
        let diagonal = diagonal.sqrt();
        a[j * n + j] = diagonal;
        for i in j + 1..n {
            let mut value = a[i * n + j];
            for k in 0..j {
                value -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = value / diagonal;
        }
    }
    for c in 0..columns {
        // Forward: L z = b; backward: Lᵀ x = z. `rhs` is row-major n × columns.
        for i in 0..n {
            let mut value = rhs[i * columns + c];
            for k in 0..i {
                value -= a[i * n + k] * rhs[k * columns + c];
            }
            rhs[i * columns + c] = value / a[i * n + i];
        }
        for i in (0..n).rev() {
            let mut value = rhs[i * columns + c];
            for k in i + 1..n {
                value -= a[k * n + i] * rhs[k * columns + c];
            }
            rhs[i * columns + c] = value / a[i * n + i];
        }
    }
    Ok(())
}

struct Centred {
    x: Vec<f64>,
    y: Vec<f64>,
    x_mean: Vec<f64>,
    y_mean: Vec<f64>,
    rows: usize,
}

fn centre(values: &[f32], targets: &[f64], width: usize, outputs: usize, rows: usize) -> Centred {
    let mut x_mean = vec![0.0; width];
    for row in values.chunks_exact(width) {
        for (m, v) in x_mean.iter_mut().zip(row) {
            *m += f64::from(*v);
        }
    }
    x_mean.iter_mut().for_each(|m| *m /= rows as f64);
    let mut y_mean = vec![0.0; outputs];
    for row in targets.chunks_exact(outputs) {
        for (m, v) in y_mean.iter_mut().zip(row) {
            *m += v;
        }
    }
    y_mean.iter_mut().for_each(|m| *m /= rows as f64);
    let x =
        values.chunks_exact(width).flat_map(|row| row.iter().zip(&x_mean).map(|(v, m)| f64::from(*v) - m)).collect();
    let y = targets.chunks_exact(outputs).flat_map(|row| row.iter().zip(&y_mean).map(|(v, m)| v - m)).collect();
    Centred { x, y, x_mean, y_mean, rows }
}

impl Ridge {
    /// Fit with penalty `lambda` (absolute).
    pub fn fit(
        values: &[f32],
        targets: &[f64],
        width: usize,
        outputs: usize,
        lambda: f64,
    ) -> Result<Ridge, BaselineError> {
        let rows = check(values, targets, width, outputs)?;
        Self::fit_centred(&centre(values, targets, width, outputs, rows), width, outputs, lambda)
    }

    fn fit_centred(data: &Centred, width: usize, outputs: usize, lambda: f64) -> Result<Ridge, BaselineError> {
        let (x, y, n) = (&data.x, &data.y, data.rows);
        if n.min(width) > MAX_SYSTEM {
            return Err(BaselineError::InvalidParameter {
                name: "width",
                value: format!("{n} rows × {width} columns"),
                rule: "ridge regression solves systems of at most 6000 rows or columns",
            });
        }
        if !(lambda.is_finite() && lambda > 0.0) {
            return Err(BaselineError::InvalidParameter {
                name: "lambda",
                value: lambda.to_string(),
                rule: "must be a positive number",
            });
        }
        let mut coefficients = vec![0.0; outputs * width];
        if width <= n {
            // (XᵀX + λI) w = Xᵀy
            let mut gram = vec![0.0; width * width];
            for row in x.chunks_exact(width) {
                for i in 0..width {
                    if row[i] == 0.0 {
                        continue;
                    }
                    for j in 0..=i {
                        gram[i * width + j] += row[i] * row[j];
                    }
                }
            }
            for i in 0..width {
                for j in 0..i {
                    gram[j * width + i] = gram[i * width + j];
                }
                gram[i * width + i] += lambda;
            }
            let mut rhs = vec![0.0; width * outputs];
            for (row, target) in x.chunks_exact(width).zip(y.chunks_exact(outputs)) {
                for i in 0..width {
                    for o in 0..outputs {
                        rhs[i * outputs + o] += row[i] * target[o];
                    }
                }
            }
            cholesky_solve(gram, width, &mut rhs, outputs)?;
            for i in 0..width {
                for o in 0..outputs {
                    coefficients[o * width + i] = rhs[i * outputs + o];
                }
            }
        } else {
            // (XXᵀ + λI) a = y, w = Xᵀ a
            let mut gram = vec![0.0; n * n];
            let rows: Vec<&[f64]> = x.chunks_exact(width).collect();
            for i in 0..n {
                for j in 0..=i {
                    let dot: f64 = rows[i].iter().zip(rows[j]).map(|(a, b)| a * b).sum();
                    gram[i * n + j] = dot;
                    gram[j * n + i] = dot;
                }
                gram[i * n + i] += lambda;
            }
            let mut rhs = y.clone();
            cholesky_solve(gram, n, &mut rhs, outputs)?;
            for (row, alpha) in rows.iter().zip(rhs.chunks_exact(outputs)) {
                for i in 0..width {
                    for o in 0..outputs {
                        coefficients[o * width + i] += row[i] * alpha[o];
                    }
                }
            }
        }
        let intercepts = (0..outputs)
            .map(|o| {
                data.y_mean[o]
                    - coefficients[o * width..(o + 1) * width].iter().zip(&data.x_mean).map(|(c, m)| c * m).sum::<f64>()
            })
            .collect();
        Ok(Ridge { width, outputs, lambda, coefficients, intercepts })
    }

    /// Fit on the training rows for each λ of [`RIDGE_GRID`] (scaled by the mean diagonal of
    /// `XᵀX`) and keep the one with the lowest validation mean squared error (ties: larger λ).
    pub fn fit_with_validation(
        train: &[f32],
        train_targets: &[f64],
        validation: &[f32],
        validation_targets: &[f64],
        width: usize,
        outputs: usize,
    ) -> Result<Ridge, BaselineError> {
        let rows = check(train, train_targets, width, outputs)?;
        check(validation, validation_targets, width, outputs)?;
        let data = centre(train, train_targets, width, outputs, rows);
        let scale = (data.x.iter().map(|v| v * v).sum::<f64>() / width as f64).max(f64::MIN_POSITIVE);
        let mut best: Option<(f64, Ridge)> = None;
        for multiplier in RIDGE_GRID.iter().rev() {
            let model = Self::fit_centred(&data, width, outputs, multiplier * scale)?;
            let predictions = model.predict(validation)?;
            let error = predictions.iter().zip(validation_targets).map(|(p, t)| (p - t).powi(2)).sum::<f64>()
                / predictions.len().max(1) as f64;
            if best.as_ref().is_none_or(|(lowest, _)| error < *lowest) {
                best = Some((error, model));
            }
        }
        best.map(|(_, model)| model).ok_or(BaselineError::Empty { what: "ridge grid" })
    }

    /// Predictions `rows × outputs`, row-major.
    pub fn predict(&self, values: &[f32]) -> Result<Vec<f64>, BaselineError> {
        if !values.len().is_multiple_of(self.width) {
            return Err(BaselineError::RaggedMatrix { width: self.width, values: values.len() });
        }
        let mut out = Vec::with_capacity(values.len() / self.width * self.outputs);
        for row in values.chunks_exact(self.width) {
            for o in 0..self.outputs {
                let coefficients = &self.coefficients[o * self.width..(o + 1) * self.width];
                out.push(
                    self.intercepts[o] + coefficients.iter().zip(row).map(|(c, v)| c * f64::from(*v)).sum::<f64>(),
                );
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_linear_function_in_both_forms() -> Result<(), BaselineError> {
        // y = 2 x0 - x1 + 3, exactly, on 6 rows (primal) and on 2 rows of 6 columns (dual).
        let values: Vec<f32> = vec![0.0, 1.0, 1.0, 0.0, 2.0, 1.0, 1.0, 3.0, 3.0, 2.0, 0.5, 0.25];
        let targets: Vec<f64> = values.chunks(2).map(|r| 2.0 * f64::from(r[0]) - f64::from(r[1]) + 3.0).collect();
        let model = Ridge::fit(&values, &targets, 2, 1, 1e-9)?;
        assert!((model.coefficients[0] - 2.0).abs() < 1e-6 && (model.coefficients[1] + 1.0).abs() < 1e-6);
        assert!((model.intercepts[0] - 3.0).abs() < 1e-6);
        // Dual: the primal and dual solutions agree for the same λ.
        let wide: Vec<f32> =
            vec![1.0, 0.0, 2.0, 0.5, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 3.0, 2.0, 2.0, 2.0, 0.0, 1.0, 1.0, 0.0];
        let y = vec![1.0, 2.0, 0.5];
        let dual = Ridge::fit(&wide, &y, 6, 1, 0.5)?;
        // The dual solution zeroes the gradient of the primal objective: Xcᵀ(Xc w − yc) + λw = 0.
        let data = centre(&wide, &y, 6, 1, 3);
        let residuals: Vec<f64> = data
            .x
            .chunks(6)
            .zip(&data.y)
            .map(|(row, t)| row.iter().zip(&dual.coefficients).map(|(a, b)| a * b).sum::<f64>() - t)
            .collect();
        for j in 0..6 {
            let gradient: f64 =
                data.x.chunks(6).zip(&residuals).map(|(row, r)| row[j] * r).sum::<f64>() + 0.5 * dual.coefficients[j];
            assert!(gradient.abs() < 1e-9, "gradient {gradient} at {j}");
        }
        Ok(())
    }

    #[test]
    fn validation_picks_a_penalty() -> Result<(), BaselineError> {
        let values: Vec<f32> = (0..200).map(|i| ((i * 37) % 17) as f32 / 17.0).collect();
        let targets: Vec<f64> = values.chunks(4).map(|r| f64::from(r[0]) * 3.0 + f64::from(r[3])).collect();
        let model = Ridge::fit_with_validation(&values[..160], &targets[..40], &values[160..], &targets[40..], 4, 1)?;
        let predictions = model.predict(&values[160..])?;
        let error: f64 = predictions.iter().zip(&targets[40..]).map(|(p, t)| (p - t).powi(2)).sum::<f64>() / 10.0;
        assert!(error < 1e-3, "validation error {error}");
        Ok(())
    }
}
