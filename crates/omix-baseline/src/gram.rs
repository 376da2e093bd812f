//! Logistic regression through the training rows' Gram matrix, for designs with many more
//! columns than rows (gapped k-mer counts: about 1.8 million columns for a few thousand
//! sequences).
//!
//! With an L2 penalty the fitted weights lie in the span of the training rows, `w = Xᵀα`. With
//! `K = X Xᵀ = L Lᵀ` (Cholesky) and `β = Lᵀα`, the logits are `Xw = Kα = Lβ` and the penalty is
//! `‖w‖² = αᵀKα = ‖β‖²`: the problem is the same L2 logistic regression on the `n × n` design
//! `L`, and the map from `β` to `w` is an isometry from the design's row space, so the minimiser
//! is the same model and L-BFGS takes the same steps as on the original columns (up to rounding).
//! The solver then works on `n` numbers per output instead of `width`: each iteration costs
//! `n²` instead of touching every stored entry and every one of the `width` weights (and the
//! L-BFGS history of each), which for gapped k-mers is most of the work. `w` is recovered at the
//! end as `Xᵀα`, `α = L⁻ᵀβ`, so the fitted model is an ordinary linear model on the original
//! columns.
//!
//! The Cholesky factorisation is the semi-definite one: a row that is a combination of earlier
//! rows (a duplicated sequence, say) has a zero pivot, and its column of `L` is zero, so its
//! `β` stays 0 and `L Lᵀ` is still `K`.

use rayon::prelude::*;

use crate::logistic::Design;

/// Blocks of rows (with equal shares of the lower triangle) the Gram matrix is accumulated in.
const GRAM_PARTS: usize = 16;
/// The most training rows for which the Gram matrix is formed (its f64 values, the f32 copy
/// of the factor: 12 bytes per entry, 1.2 GB at this size).
const MAX_GRAM_ROWS: usize = 10_000;
/// L-BFGS iterations assumed when comparing the two routes' costs (the gapped k-mer fits take
/// a few hundred).
const ASSUMED_ITERATIONS: f64 = 100.0;
/// A pivot below this fraction of its row's squared norm makes the row a combination of earlier
/// ones (rounding leaves about 1e-13 of it for an exact duplicate).
const DEPENDENT_PIVOT: f64 = 1e-9;

/// The most memory, in bytes, the Gram route may add to a fit on `rows` examples of `width`
/// features (0 when [`GramFactor::preferred`] can never choose it): the `n × n` factor in f64
/// and its f32 copy, formed while the column design is still held.
pub fn gram_route_bytes(rows: usize, width: usize) -> u128 {
    if (2..=MAX_GRAM_ROWS).contains(&rows) && width > rows { 12 * (rows as u128).pow(2) } else { 0 }
}

/// The Cholesky factor of a design's Gram matrix, ready to serve as the design of the
/// equivalent `n`-column problem.
pub(crate) struct GramFactor {
    /// Rows (examples) of the original design; the factor is `n × n`.
    n: usize,
    /// Row-major lower-triangular factor `L` (zeros above the diagonal, a zero column at each
    /// dependent row), in f64 for the final solve.
    lower: Vec<f64>,
    /// The same factor in f32, the values of the `n`-column dense design.
    pub(crate) design_values: Vec<f32>,
}

impl GramFactor {
    /// Whether fitting through the Gram matrix is cheaper than fitting on the columns, for a
    /// design with `outputs` logits per row and an L-BFGS history of `memory` pairs. Only
    /// column-major count designs (the gapped k-mer matrices) are considered.
    pub(crate) fn preferred(design: &Design, outputs: usize, memory: usize) -> bool {
        let Design::CountColumns { column_offsets, rows, .. } = *design else {
            return false;
        };
        let n = design.rows();
        let width = design.width();
        if !(2..=MAX_GRAM_ROWS).contains(&n) || width <= n {
            return false;
        }
        let outputs = outputs.max(1) as f64;
        // Forming K: every pair of occurrences in a column; factoring it: n³ / 3.
        let pairs: f64 = column_offsets.windows(2).map(|w| ((w[1] - w[0]) as f64).powi(2)).sum();
        let (n, stored, width) = (n as f64, rows.len() as f64, width as f64);
        let through_gram = pairs + n * n * n / 3.0 + ASSUMED_ITERATIONS * 2.0 * n * n * outputs;
        // Each iteration on the columns: X w and Xᵀ r over the stored entries, and the two-loop
        // recursion over the history of `width × outputs` vectors.
        let on_columns = ASSUMED_ITERATIONS * (2.0 * stored * outputs + 4.0 * memory as f64 * width * outputs);
        through_gram < on_columns
    }

    /// Form `K = X Xᵀ` of a column-major count design and factor it; `None` for any other design.
    pub(crate) fn new(design: &Design) -> Option<Self> {
        let Design::CountColumns { column_offsets, rows, row_scale, column_scale } = *design else {
            return None;
        };
        let n = row_scale.len();
        let mut gram = vec![0.0f64; n * n];
        // Blocks of K's rows with equal shares of the lower triangle.
        let mut bounds: Vec<usize> =
            (0..=GRAM_PARTS).map(|t| ((n as f64) * (t as f64 / GRAM_PARTS as f64).sqrt()).round() as usize).collect();
        bounds.dedup();
        let mut blocks = Vec::with_capacity(bounds.len());
        let mut rest = gram.as_mut_slice();
        for range in bounds.windows(2) {
            let (block, tail) = rest.split_at_mut((range[1] - range[0]) * n);
            blocks.push((range[0], block));
            rest = tail;
        }
        // Each task owns a block of K's rows and, in every column, pairs each of its occurrences
        // with the occurrences of lower rows: the lower triangle, each entry summed in column
        // order by one task, so the numbers do not depend on the thread count.
        blocks.into_par_iter().for_each(|(first, chunk)| {
            let last = first + chunk.len() / n;
            let mut runs: Vec<(usize, f64)> = Vec::new();
            for (j, bounds) in column_offsets.windows(2).enumerate() {
                let column = &rows[bounds[0]..bounds[1]];
                // Rows of a column are stored in increasing order, once per occurrence.
                let end = column.partition_point(|&row| (row as usize) < last);
                if end == 0 || (column[end - 1] as usize) < first {
                    continue;
                }
                runs.clear();
                for &row in &column[..end] {
                    match runs.last_mut() {
                        Some((last_row, count)) if *last_row == row as usize => *count += 1.0,
                        _ => runs.push((row as usize, 1.0)),
                    }
                }
                let weight = f64::from(column_scale[j]).powi(2);
                let start = runs.partition_point(|&(row, _)| row < first);
                for p in start..runs.len() {
                    let (a, count_a) = runs[p];
                    let row = &mut chunk[(a - first) * n..(a - first + 1) * n];
                    let scaled = weight * count_a;
                    for &(b, count_b) in &runs[..=p] {
                        row[b] += scaled * count_b;
                    }
                }
            }
            for (offset, row) in chunk.chunks_exact_mut(n).enumerate() {
                let scale_a = f64::from(row_scale[first + offset]);
                for (b, value) in row[..=first + offset].iter_mut().enumerate() {
                    *value *= scale_a * f64::from(row_scale[b]);
                }
            }
        });
        Some(Self::factor(gram, n))
    }

    /// The semi-definite Cholesky factor of a symmetric `n × n` matrix given by its lower
    /// triangle (row-major; the upper triangle is ignored and zeroed), column by column, the
    /// rows below each pivot in parallel.
    fn factor(mut lower: Vec<f64>, n: usize) -> Self {
        let diagonal: Vec<f64> = (0..n).map(|i| lower[i * n + i]).collect();
        for j in 0..n {
            lower[j * n + j + 1..(j + 1) * n].fill(0.0);
            let (head, tail) = lower.split_at_mut((j + 1) * n);
            let row_j = &mut head[j * n..];
            let pivot = diagonal[j] - dot(&row_j[..j], &row_j[..j]);
            if pivot <= DEPENDENT_PIVOT * diagonal[j] || pivot <= 0.0 {
                // A combination of earlier rows (or an empty row): its column of L is zero.
                row_j[j] = 0.0;
                tail.par_chunks_mut(n).for_each(|row_i| row_i[j] = 0.0);
                continue;
            }
            let root = pivot.sqrt();
            row_j[j] = root;
            let row_j = &row_j[..j];
            tail.par_chunks_mut(n).for_each(|row_i| {
                row_i[j] = (row_i[j] - dot(&row_i[..j], row_j)) / root;
            });
        }
        let design_values = lower.iter().map(|&v| v as f32).collect();
        GramFactor { n, lower, design_values }
    }

    /// Number of rows of the original design (and columns of the factor).
    pub(crate) fn rows(&self) -> usize {
        self.n
    }

    /// `α = L⁻ᵀβ` for feature-major `beta` (`n × outputs`, the coefficients fitted on the factor),
    /// row-major `n × outputs`; a dependent row's `α` is 0 (its `β` is 0 too).
    pub(crate) fn dual_coefficients(&self, beta: &[f64], outputs: usize) -> Vec<f64> {
        let n = self.n;
        let mut alpha = vec![0.0f64; n * outputs];
        for k in 0..outputs {
            for j in (0..n).rev() {
                let pivot = self.lower[j * n + j];
                if pivot == 0.0 {
                    continue;
                }
                let mut value = beta[j * outputs + k];
                for i in j + 1..n {
                    value -= self.lower[i * n + j] * alpha[i * outputs + k];
                }
                alpha[j * outputs + k] = value / pivot;
            }
        }
        alpha
    }
}

/// A dot product with four running sums (so that it vectorises), the same on every call.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut sums = [0.0f64; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let (a_rest, b_rest) = (a4.remainder(), b4.remainder());
    for (x, y) in a4.zip(b4) {
        for t in 0..4 {
            sums[t] += x[t] * y[t];
        }
    }
    let rest: f64 = a_rest.iter().zip(b_rest).map(|(x, y)| x * y).sum();
    (sums[0] + sums[1]) + (sums[2] + sums[3]) + rest
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memory the Gram route may add: the factor twice over (f64 and f32) where the route
    /// can be chosen, nothing where it cannot.
    #[test]
    fn the_gram_route_counts_its_factor_where_it_may_be_chosen() {
        assert_eq!(gram_route_bytes(10_000, 16_384), 1_200_000_000);
        assert_eq!(gram_route_bytes(10_001, 16_384), 0, "more rows than the route takes");
        assert_eq!(gram_route_bytes(5_000, 5_000), 0, "a design no wider than tall stays on its columns");
        assert_eq!(gram_route_bytes(1, 100), 0);
    }

    #[test]
    fn the_factor_reproduces_a_singular_gram_matrix() {
        // Rows 0 and 2 are equal and row 3 is their sum with row 1: K has rank 2.
        let x = [[1.0, 2.0, 0.0, 1.0], [0.0, 1.0, 3.0, 0.0], [1.0, 2.0, 0.0, 1.0], [1.0, 3.0, 3.0, 1.0]];
        let n = x.len();
        let mut k = vec![0.0; n * n];
        for a in 0..n {
            for b in 0..=a {
                k[a * n + b] = x[a].iter().zip(&x[b]).map(|(p, q)| p * q).sum();
            }
        }
        let factor = GramFactor::factor(k.clone(), n);
        for a in 0..n {
            for b in 0..=a {
                let product: f64 = (0..n).map(|t| factor.lower[a * n + t] * factor.lower[b * n + t]).sum();
                assert!((product - k[a * n + b]).abs() < 1e-9, "({a}, {b}): {product} vs {}", k[a * n + b]);
            }
        }
        assert_eq!(factor.lower[2 * n + 2], 0.0);
        assert_eq!(factor.lower[3 * n + 3], 0.0);
        assert!(factor.lower.chunks(n).enumerate().all(|(i, row)| row[i + 1..].iter().all(|&v| v == 0.0)));
    }
}
