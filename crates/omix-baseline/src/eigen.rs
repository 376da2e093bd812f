//! Symmetric eigen-decomposition: Householder tridiagonalisation, then the implicit QL
//! algorithm with Wilkinson-type shifts (EISPACK `tql2`, as in JAMA), then the reflectors are
//! applied to the eigenvectors that were asked for.
//!
//! The matrix is stored in full (not one triangle) so that every inner loop runs along
//! contiguous rows; the trailing-block updates of the reduction run in parallel over rows, and
//! each QL sweep's rotations are applied to column panels of the eigenvector matrix in parallel.
//! Every result is independent of the number of threads (no reductions across threads).

use rayon::prelude::*;

use crate::BaselineError;

/// Below this many rows the trailing-block updates stay on one thread.
const PARALLEL_ROWS: usize = 96;
/// QL sweeps allowed per eigenvalue (typically 1 to 3 are needed).
const MAX_SWEEPS: usize = 100;

/// The `top` largest eigenvalues (descending) of the symmetric row-major `n x n` matrix `a`,
/// with unit eigenvectors as the rows of a `top x n` row-major matrix.
pub(crate) fn top_eigenpairs(mut a: Vec<f64>, n: usize, top: usize) -> Result<(Vec<f64>, Vec<f64>), BaselineError> {
    let top = top.min(n);
    let (mut diagonal, mut off_diagonal, reflectors) = tridiagonalise(&mut a, n);
    drop(a);
    let vectors = implicit_ql(&mut diagonal, &mut off_diagonal, n)?;

    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| diagonal[j].total_cmp(&diagonal[i]));
    let values: Vec<f64> = order[..top].iter().map(|&i| diagonal[i]).collect();
    let mut out = vec![0.0; top * n];
    out.par_chunks_mut(n).zip(&order[..top]).for_each(|(y, &i)| {
        vectors.copy_row(i, y);
        // A = Q T Qᵀ with Q = H_0 H_1 ... H_{n-3}: apply the last reflector first.
        for (k, (v, beta)) in reflectors.iter().enumerate().rev() {
            let tail = &mut y[k + 1..];
            let scale = beta * dot(v, tail);
            tail.iter_mut().zip(v).for_each(|(t, vi)| *t -= scale * vi);
        }
    });
    Ok((values, out))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A Householder reflector `I - beta v vᵀ`: `(v, beta)`.
type Reflector = (Vec<f64>, f64);

/// Reduces `a` to tridiagonal form `T = Qᵀ A Q` (Golub & Van Loan, algorithm 8.3.1).
/// Returns the diagonal, the sub-diagonal (length `n`, last entry 0) and the reflectors
/// `(v_k, beta_k)`, `H_k = I - beta_k v_k v_kᵀ` acting on coordinates `k+1..n`.
fn tridiagonalise(a: &mut [f64], n: usize) -> (Vec<f64>, Vec<f64>, Vec<Reflector>) {
    let mut diagonal = vec![0.0; n];
    let mut off_diagonal = vec![0.0; n];
    let mut reflectors = Vec::with_capacity(n.saturating_sub(2));
    for k in 0..n.saturating_sub(2) {
        diagonal[k] = a[k * n + k];
        // Row k right of the diagonal equals column k below it.
        let mut v = a[k * n + k + 1..(k + 1) * n].to_vec();
        let tail_norm = dot(&v[1..], &v[1..]);
        if tail_norm == 0.0 {
            // Already tridiagonal in this column: no reflection.
            off_diagonal[k] = v[0];
            reflectors.push((v, 0.0));
            continue;
        }
        let norm = (v[0] * v[0] + tail_norm).sqrt();
        let alpha = if v[0] > 0.0 { -norm } else { norm };
        v[0] -= alpha;
        let beta = 2.0 / (v[0] * v[0] + tail_norm);
        off_diagonal[k] = alpha;

        // Trailing block B = A[k+1.., k+1..]: B <- H B H = B - v wᵀ - w vᵀ.
        let trailing = &mut a[(k + 1) * n..];
        let row_block = |row: &[f64]| beta * dot(&row[k + 1..], &v);
        let p: Vec<f64> = if v.len() >= PARALLEL_ROWS {
            trailing.par_chunks(n).map(row_block).collect()
        } else {
            trailing.chunks(n).map(row_block).collect()
        };
        let half = 0.5 * beta * dot(&p, &v);
        let w: Vec<f64> = p.iter().zip(&v).map(|(pi, vi)| pi - half * vi).collect();
        let update = |(i, row): (usize, &mut [f64])| {
            let (vi, wi) = (v[i], w[i]);
            row[k + 1..].iter_mut().zip(v.iter().zip(&w)).for_each(|(b, (vj, wj))| *b -= vi * wj + wi * vj);
        };
        if v.len() >= PARALLEL_ROWS {
            trailing.par_chunks_mut(n).enumerate().for_each(update);
        } else {
            trailing.chunks_mut(n).enumerate().for_each(update);
        }
        reflectors.push((v, beta));
    }
    if n >= 2 {
        diagonal[n - 2] = a[(n - 2) * n + n - 2];
        off_diagonal[n - 2] = a[(n - 1) * n + n - 2];
    }
    if n >= 1 {
        diagonal[n - 1] = a[n * n - 1];
    }
    (diagonal, off_diagonal, reflectors)
}

/// Columns per panel of the eigenvector matrix (a 64-column panel of a 765 x 765 matrix is
/// 392 KB: it stays in cache while one sweep's rotations pass over it).
const PANEL: usize = 64;

/// The eigenvectors of the tridiagonal matrix as rows, stored in column panels so that the
/// rotations of one QL sweep can be applied to all panels in parallel.
struct Panels {
    n: usize,
    /// Panel `b` holds columns `b * PANEL..` of every row, row-major.
    panels: Vec<Vec<f64>>,
}

impl Panels {
    fn identity(n: usize) -> Self {
        let panels = (0..n.div_ceil(PANEL))
            .map(|b| {
                let columns = PANEL.min(n - b * PANEL);
                let mut panel = vec![0.0; n * columns];
                for c in 0..columns {
                    panel[(b * PANEL + c) * columns + c] = 1.0;
                }
                panel
            })
            .collect();
        Panels { n, panels }
    }

    /// Applies the rotations `(i, c, s)` in order: rows i and i+1 become `c r_i - s r_{i+1}`
    /// and `s r_i + c r_{i+1}`.
    fn rotate(&mut self, rotations: &[(usize, f64, f64)]) {
        let n = self.n;
        let apply = |panel: &mut Vec<f64>| {
            let columns = panel.len() / n;
            for &(i, c, s) in rotations {
                let (upper, lower) = panel.split_at_mut((i + 1) * columns);
                let (zi, zj) = (&mut upper[i * columns..], &mut lower[..columns]);
                for (a, b) in zi.iter_mut().zip(zj.iter_mut()) {
                    let t = *b;
                    *b = s * *a + c * t;
                    *a = c * *a - s * t;
                }
            }
        };
        if n >= PARALLEL_ROWS {
            self.panels.par_iter_mut().for_each(apply);
        } else {
            self.panels.iter_mut().for_each(apply);
        }
    }

    /// Copies row `i` into `out` (length `n`).
    fn copy_row(&self, i: usize, out: &mut [f64]) {
        for (panel, chunk) in self.panels.iter().zip(out.chunks_mut(PANEL)) {
            let columns = chunk.len();
            chunk.copy_from_slice(&panel[i * columns..(i + 1) * columns]);
        }
    }
}

/// Diagonalises the symmetric tridiagonal matrix (`diagonal`, `off[i]` = T[i+1][i]) in place
/// (EISPACK `tql2`); returns its eigenvectors as rows, `row i` for `diagonal[i]`.
fn implicit_ql(diagonal: &mut [f64], off: &mut [f64], n: usize) -> Result<Panels, BaselineError> {
    let d = diagonal;
    let e = off;
    let mut vectors = Panels::identity(n);
    let mut rotations = Vec::with_capacity(n);
    let mut shift_total = 0.0;
    let mut largest = 0.0f64;
    for l in 0..n {
        largest = largest.max(d[l].abs() + e[l].abs());
        // e[n - 1] is 0, so a negligible entry is always found.
        let m = (l..n).find(|&m| e[m].abs() <= f64::EPSILON * largest).unwrap_or(n - 1);
        let mut sweeps = 0;
        while m > l && e[l].abs() > f64::EPSILON * largest {
            sweeps += 1;
            if sweeps > MAX_SWEEPS {
                return Err(BaselineError::EigenNotConverged { index: l });
            }
            // Shift from the leading 2 x 2 block.
            let g = d[l];
            let mut p = (d[l + 1] - g) / (2.0 * e[l]);
            let mut r = p.hypot(1.0);
            if p < 0.0 {
                r = -r;
            }
            d[l] = e[l] / (p + r);
            d[l + 1] = e[l] * (p + r);
            let dl1 = d[l + 1];
            let h = g - d[l];
            d[l + 2..n].iter_mut().for_each(|v| *v -= h);
            shift_total += h;

            // Implicit QL sweep from m - 1 up to l.
            p = d[m];
            let (mut c, mut c2, mut c3) = (1.0, 1.0, 1.0);
            let el1 = e[l + 1];
            let (mut s, mut s2) = (0.0, 0.0);
            rotations.clear();
            for i in (l..m).rev() {
                c3 = c2;
                c2 = c;
                s2 = s;
                let g = c * e[i];
                let h = c * p;
                r = p.hypot(e[i]);
                e[i + 1] = s * r;
                s = e[i] / r;
                c = p / r;
                p = c * d[i] - s * g;
                d[i + 1] = h + s * (c * g + s * d[i]);
                rotations.push((i, c, s));
            }
            vectors.rotate(&rotations);
            p = -s * s2 * c3 * el1 * e[l] / dl1;
            e[l] = s * p;
            d[l] = c * p;
        }
        d[l] += shift_total;
        e[l] = 0.0;
    }
    Ok(vectors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random_symmetric(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let v: f64 = rng.random_range(-1.0..1.0);
                a[i * n + j] = v;
                a[j * n + i] = v;
            }
        }
        a
    }

    #[test]
    fn eigenpairs_satisfy_the_definition() -> Result<(), BaselineError> {
        for (n, seed) in [(1, 1), (2, 2), (3, 3), (17, 4), (150, 5)] {
            let a = random_symmetric(n, seed);
            let (values, vectors) = top_eigenpairs(a.clone(), n, n)?;
            assert!(values.windows(2).all(|w| w[0] >= w[1]));
            for (lambda, v) in values.iter().zip(vectors.chunks_exact(n)) {
                assert!((dot(v, v) - 1.0).abs() < 1e-12);
                for (i, row) in a.chunks_exact(n).enumerate() {
                    assert!((dot(row, v) - lambda * v[i]).abs() < 1e-11, "n = {n}");
                }
            }
            // Orthogonality of distinct eigenvectors.
            for i in 0..n {
                for j in 0..i {
                    assert!(dot(&vectors[i * n..(i + 1) * n], &vectors[j * n..(j + 1) * n]).abs() < 1e-11);
                }
            }
            let trace: f64 = (0..n).map(|i| a[i * n + i]).sum();
            assert!((values.iter().sum::<f64>() - trace).abs() < 1e-10);
        }
        Ok(())
    }

    #[test]
    fn repeated_and_zero_eigenvalues() -> Result<(), BaselineError> {
        // diag(2, 2, 0, 5) rotated is still handled; the identity-like block needs no reflection.
        let n = 4;
        let mut a = vec![0.0; n * n];
        for (i, v) in [2.0, 2.0, 0.0, 5.0].into_iter().enumerate() {
            a[i * n + i] = v;
        }
        let (values, _) = top_eigenpairs(a, n, 3)?;
        assert_eq!(values, vec![5.0, 2.0, 2.0]);
        Ok(())
    }
}
