//! Principal component analysis of a dense matrix by an exact symmetric eigen-decomposition.
//!
//! The columns are centred on the rows the PCA is fitted on. With `n` fitted rows and `p`
//! columns, the `p x p` scatter matrix `Xcᵀ Xc` is decomposed, or the `n x n` Gram matrix
//! `Xc Xcᵀ` when `n < p` (its eigenvectors `u` give the components `Xcᵀ u`, normalised). The
//! decomposition is Householder tridiagonalisation followed by implicit QL (see `eigen.rs`):
//! exact up to rounding, with no convergence tolerance to tune, `O(min(n, p)³)`.
//!
//! Signs follow a fixed convention: in every component the entry of largest magnitude (the
//! first, on ties) is positive. Explained variances use `n - 1` (scikit-learn's).

use rayon::prelude::*;

use crate::BaselineError;
use crate::eigen::top_eigenpairs;

/// A fitted PCA.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pca {
    /// Number of input columns.
    pub width: usize,
    /// Column means of the fitted rows.
    pub mean: Vec<f64>,
    /// Row-major `k x width` unit principal axes, by decreasing variance.
    pub components: Vec<f64>,
    /// Variance along each component (eigenvalue of the covariance, `n - 1` denominator).
    pub explained_variance: Vec<f64>,
    /// `explained_variance` divided by the total variance of the fitted rows.
    pub explained_variance_ratio: Vec<f64>,
    /// Number of rows the PCA was fitted on.
    pub fitted_rows: usize,
}

impl Pca {
    /// Fits the top `k` components of the rows `rows` of the row-major matrix `values`
    /// (`width` columns).
    ///
    /// Errors when the matrix is ragged or holds a non-finite value, a row index is out of
    /// range, fewer than 2 rows are given, or `k` is 0 or above `min(rows, width)`.
    pub fn fit(values: &[f32], width: usize, rows: &[usize], k: usize) -> Result<Pca, BaselineError> {
        if width == 0 {
            return Err(BaselineError::InvalidParameter {
                name: "width",
                value: "0".into(),
                rule: "a PCA needs at least one column",
            });
        }
        if !values.len().is_multiple_of(width) {
            return Err(BaselineError::RaggedMatrix { width, values: values.len() });
        }
        let total_rows = values.len() / width;
        if let Some((index, &row)) = rows.iter().enumerate().find(|&(_, &r)| r >= total_rows) {
            return Err(BaselineError::RowOutOfRange { index, row, rows: total_rows });
        }
        let n = rows.len();
        if n < 2 {
            return Err(BaselineError::InvalidParameter {
                name: "rows",
                value: n.to_string(),
                rule: "a PCA needs at least 2 rows",
            });
        }
        if k == 0 || k > n.min(width) {
            return Err(BaselineError::InvalidParameter {
                name: "k",
                value: k.to_string(),
                rule: "must be between 1 and min(rows, width)",
            });
        }
        for &r in rows {
            if let Some(j) = values[r * width..(r + 1) * width].iter().position(|v| !v.is_finite()) {
                return Err(BaselineError::NonFinite { what: "PCA input", index: r * width + j });
            }
        }

        let mut mean = vec![0.0; width];
        for &r in rows {
            mean.iter_mut().zip(&values[r * width..(r + 1) * width]).for_each(|(m, &v)| *m += f64::from(v));
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut centred = vec![0.0; n * width];
        centred.par_chunks_mut(width).zip(rows).for_each(|(out, &r)| {
            out.iter_mut()
                .zip(&values[r * width..(r + 1) * width])
                .zip(&mean)
                .for_each(|((o, &v), m)| *o = f64::from(v) - m);
        });
        let total_variance = centred.iter().map(|v| v * v).sum::<f64>() / (n - 1) as f64;

        let (eigenvalues, mut components) = if n < width {
            gram_components(&centred, n, width, k)?
        } else {
            scatter_components(&centred, n, width, k)?
        };
        for component in components.chunks_exact_mut(width) {
            let largest = component
                .iter()
                .enumerate()
                .fold((0, 0.0f64), |best, (j, &v)| if v.abs() > best.1.abs() { (j, v) } else { best });
            if largest.1 < 0.0 {
                component.iter_mut().for_each(|v| *v = -*v);
            }
        }
        // Rounding can leave eigenvalues of a rank-deficient matrix slightly negative.
        let explained_variance: Vec<f64> = eigenvalues.iter().map(|&l| l.max(0.0) / (n - 1) as f64).collect();
        let explained_variance_ratio =
            explained_variance.iter().map(|&v| if total_variance > 0.0 { v / total_variance } else { 0.0 }).collect();
        Ok(Pca { width, mean, components, explained_variance, explained_variance_ratio, fitted_rows: n })
    }

    /// Number of components kept.
    pub fn dimensions(&self) -> usize {
        self.explained_variance.len()
    }

    /// Coordinates of one row on the components: `(row - mean) · component`.
    pub fn transform(&self, row: &[f32]) -> Result<Vec<f32>, BaselineError> {
        if row.len() != self.width {
            return Err(BaselineError::WidthMismatch { expected: self.width, got: row.len() });
        }
        Ok(self.project(row))
    }

    /// Coordinates of every row of the row-major matrix `values`: `rows x k`, row-major.
    pub fn transform_rows(&self, values: &[f32]) -> Result<Vec<f32>, BaselineError> {
        if !values.len().is_multiple_of(self.width) {
            return Err(BaselineError::RaggedMatrix { width: self.width, values: values.len() });
        }
        Ok(values.par_chunks_exact(self.width).flat_map_iter(|row| self.project(row)).collect())
    }

    /// The row mapped onto the components and back: `mean + Σ ((row − mean) · c) c`.
    pub fn reconstruct(&self, row: &[f32]) -> Result<Vec<f32>, BaselineError> {
        let scores = self.transform(row)?;
        let mut out = self.mean.clone();
        for (component, score) in self.components.chunks_exact(self.width).zip(&scores) {
            for (value, c) in out.iter_mut().zip(component) {
                *value += f64::from(*score) * c;
            }
        }
        Ok(out.into_iter().map(|v| v as f32).collect())
    }

    fn project(&self, row: &[f32]) -> Vec<f32> {
        let centred: Vec<f64> = row.iter().zip(&self.mean).map(|(&v, m)| f64::from(v) - m).collect();
        self.components
            .chunks_exact(self.width)
            .map(|c| c.iter().zip(&centred).map(|(a, b)| a * b).sum::<f64>() as f32)
            .collect()
    }
}

/// Top-`k` eigenpairs of the `p x p` scatter matrix `Xcᵀ Xc`.
fn scatter_components(
    centred: &[f64],
    n: usize,
    width: usize,
    k: usize,
) -> Result<(Vec<f64>, Vec<f64>), BaselineError> {
    // Column-major copy so that every entry is a contiguous dot product.
    let mut columns = vec![0.0; n * width];
    for (i, row) in centred.chunks_exact(width).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            columns[j * n + i] = v;
        }
    }
    let mut scatter = vec![0.0; width * width];
    scatter.par_chunks_mut(width).enumerate().for_each(|(i, out)| {
        let ci = &columns[i * n..(i + 1) * n];
        for (j, o) in out.iter_mut().enumerate().skip(i) {
            *o = dot(ci, &columns[j * n..(j + 1) * n]);
        }
    });
    mirror_upper(&mut scatter, width);
    top_eigenpairs(scatter, width, k)
}

/// Top-`k` eigenpairs of `Xcᵀ Xc` through the `n x n` Gram matrix `Xc Xcᵀ` (for `n < p`).
fn gram_components(centred: &[f64], n: usize, width: usize, k: usize) -> Result<(Vec<f64>, Vec<f64>), BaselineError> {
    let mut gram = vec![0.0; n * n];
    gram.par_chunks_mut(n).enumerate().for_each(|(a, out)| {
        let ra = &centred[a * width..(a + 1) * width];
        for (b, o) in out.iter_mut().enumerate().skip(a) {
            *o = dot(ra, &centred[b * width..(b + 1) * width]);
        }
    });
    mirror_upper(&mut gram, n);
    let (values, left) = top_eigenpairs(gram, n, k)?;
    // Below this the Gram eigenvector carries no direction in feature space.
    let floor = values.first().map_or(0.0, |v| v.abs()) * 1e-10 * n as f64;
    if values.iter().any(|&v| v <= floor) {
        return scatter_components(centred, n, width, k);
    }
    let mut components = vec![0.0; k * width];
    components.par_chunks_mut(width).zip(left.par_chunks_exact(n)).for_each(|(component, u)| {
        for (row, &ui) in centred.chunks_exact(width).zip(u) {
            component.iter_mut().zip(row).for_each(|(c, x)| *c += ui * x);
        }
        let norm = dot(component, component).sqrt();
        component.iter_mut().for_each(|c| *c /= norm);
    });
    Ok((values, components))
}

/// Copies the upper triangle of a row-major square matrix onto the lower one.
fn mirror_upper(a: &mut [f64], n: usize) {
    for i in 0..n {
        for j in 0..i {
            a[i * n + j] = a[j * n + i];
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random_matrix(rows: usize, width: usize, seed: u64) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..rows * width).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    #[test]
    fn gram_and_scatter_paths_agree() -> Result<(), BaselineError> {
        let (n, width, k) = (12, 30, 5);
        let values = random_matrix(n, width, 1);
        let rows: Vec<usize> = (0..n).collect();
        let pca = Pca::fit(&values, width, &rows, k)?;
        let mean: Vec<f64> = pca.mean.clone();
        let centred: Vec<f64> =
            values.chunks_exact(width).flat_map(|r| r.iter().zip(&mean).map(|(&v, m)| f64::from(v) - m)).collect();
        let (scatter_values, mut scatter_vectors) = scatter_components(&centred, n, width, k)?;
        for (a, b) in scatter_values.iter().zip(&pca.explained_variance) {
            assert!((a / (n - 1) as f64 - b).abs() < 1e-10 * b);
        }
        for (c, s) in pca.components.chunks_exact(width).zip(scatter_vectors.chunks_exact_mut(width)) {
            let sign = dot(c, s).signum();
            assert!(c.iter().zip(s.iter()).all(|(x, y)| (x - sign * y).abs() < 1e-9));
        }
        Ok(())
    }

    #[test]
    fn fitted_rows_only_and_transform() -> Result<(), BaselineError> {
        // Rows 0..4 vary along the first axis only; row 4 is an outlier that is not fitted.
        let values = [1.0, 0.0, -1.0, 0.0, 2.0, 0.0, -2.0, 0.0, 0.0, 100.0];
        let pca = Pca::fit(&values, 2, &[0, 1, 2, 3], 1)?;
        assert_eq!(pca.mean, vec![0.0, 0.0]);
        assert!((pca.components[0] - 1.0).abs() < 1e-12 && pca.components[1].abs() < 1e-12);
        assert!((pca.explained_variance[0] - 10.0 / 3.0).abs() < 1e-12);
        assert!((pca.explained_variance_ratio[0] - 1.0).abs() < 1e-12);
        assert_eq!(pca.transform(&[3.0, 5.0])?, vec![3.0]);
        assert_eq!(pca.transform_rows(&values[..4])?, vec![1.0, -1.0]);
        assert!(matches!(pca.transform(&[1.0]), Err(BaselineError::WidthMismatch { expected: 2, got: 1 })));
        Ok(())
    }

    #[test]
    fn sign_convention_and_determinism() -> Result<(), BaselineError> {
        let values = random_matrix(40, 8, 2);
        let rows: Vec<usize> = (0..40).collect();
        let a = Pca::fit(&values, 8, &rows, 4)?;
        assert_eq!(a, Pca::fit(&values, 8, &rows, 4)?);
        for c in a.components.chunks_exact(8) {
            let largest = c.iter().copied().fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
            assert!(largest > 0.0);
        }
        assert!(a.explained_variance.windows(2).all(|w| w[0] >= w[1]));
        Ok(())
    }

    #[test]
    fn results_do_not_depend_on_the_number_of_threads() -> Result<(), BaselineError> {
        // Large enough for the parallel paths of both the Gram and the scatter route.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .map_err(|_| BaselineError::Empty { what: "thread pool" })?;
        for (n, width) in [(120, 200), (200, 120)] {
            let values = random_matrix(n, width, 3);
            let rows: Vec<usize> = (0..n).collect();
            let a = Pca::fit(&values, width, &rows, 8)?;
            let b = pool.install(|| Pca::fit(&values, width, &rows, 8))?;
            assert_eq!(a, b);
        }
        Ok(())
    }

    #[test]
    fn invalid_inputs_are_reported() {
        let values = [1.0f32, 2.0, 3.0, 4.0];
        assert!(matches!(Pca::fit(&values, 3, &[0], 1), Err(BaselineError::RaggedMatrix { .. })));
        assert!(matches!(
            Pca::fit(&values, 2, &[0, 2], 1),
            Err(BaselineError::RowOutOfRange { index: 1, row: 2, rows: 2 })
        ));
        assert!(matches!(Pca::fit(&values, 2, &[0], 1), Err(BaselineError::InvalidParameter { name: "rows", .. })));
        assert!(matches!(Pca::fit(&values, 2, &[0, 1], 3), Err(BaselineError::InvalidParameter { name: "k", .. })));
        let nan = [1.0f32, f32::NAN, 3.0, 4.0];
        assert!(matches!(Pca::fit(&nan, 2, &[0, 1], 1), Err(BaselineError::NonFinite { index: 1, .. })));
    }
}
